"""The main window under Xvfb (pytest-qt): pose, views, drawing, picking, sessions, undo, errors,
window lifetimes, the ``hipflex gui`` command. Pixels are checked in real screenshots."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from hipflex.state import POSE_PRESETS

pytestmark = pytest.mark.usefixtures("isolated_settings")


def _frame(w) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The 3D view's current frame as an (h, w, 3) array."""
    img: QImage = w.view.image().convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return arr[:, : 3 * img.width()].reshape(img.height(), img.width(), 3).copy()


def _settle(qtbot, w) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not w.view._stale and not w.view._timer.isActive(), timeout=5000)
    w.view.render_now()


def _rotation_deg(matrix) -> float:  # type: ignore[no-untyped-def]
    m = np.array([[matrix.GetElement(i, j) for j in range(3)] for i in range(3)])
    return float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))


def test_slider_moves_femur_and_plot_cursors(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    femur = w.view.scene.bone_actors["femur_r"]
    before = _rotation_deg(femur.GetUserMatrix())
    w.pose_panel.sliders["hip_flexion"].setValue(90 * 2)  # half-degree steps
    assert w.state.pose.hip_flexion == 90.0
    assert w.pose_panel.boxes["hip_flexion"].value() == 90.0
    _settle(qtbot, w)
    after = _rotation_deg(femur.GetUserMatrix())
    assert after - before == pytest.approx(90.0, abs=0.5)  # flexion about the pelvis z axis
    qtbot.waitUntil(
        lambda: all(
            c is not None and c.hip_flexion == 90.0 for c in w.plots_panel.cursors.values()
        ),
        timeout=5000,
    )
    # the cursor artists really sit at 90 deg on the hip-flexion charts
    cur = w.plots_panel.cursors["moment_arm"]
    assert cur is not None
    xs = np.ravel(cur.artists[0].get_xdata())
    assert np.allclose(xs, 90.0)


def _line_pixels(w) -> int:  # type: ignore[no-untyped-def]
    """Pixels the visible lines of action cover in the frame just drawn (dark pixels with the
    lines shown, less those with them hidden)."""
    rw = w.view.plotter.ren_win

    def dark() -> int:
        rw.Render()
        img = np.asarray(w.view.plotter.screenshot(return_img=True))[..., :3]
        return int((img.max(axis=2) < 70).sum())

    shown = [ln.actor for ln in w.view.scene.lines.values() if ln.actor.GetVisibility()]
    with_lines = dark()
    for actor in shown:
        actor.SetVisibility(False)
    without = dark()
    for actor in shown:
        actor.SetVisibility(True)
    return with_lines - without


def test_drag_draws_lines_of_action_without_tube_filters(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """While the pose moves, each line of action is its bare polyline, drawn as a shaded tube by
    the line shader (no tube filter runs each frame), at the engine's points and about as wide
    on screen as its tube; at rest it is the real tube again."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    from hipflex.scene.deform import line_polylines

    w = window
    scene = w.view.scene
    w.pose_panel.sliders["hip_flexion"].setValue(60 * 2)
    _settle(qtbot, w)
    rest_pixels = _line_pixels(w)
    w.pose_panel.sliders["hip_flexion"].setValue(62 * 2)
    assert scene.detail == "drag"
    w.view.flush()
    engine = line_polylines(scene.ctx, scene._transforms)
    shown = [ln for ln in scene.lines.values() if ln.actor.GetVisibility()]
    assert len(shown) >= 10
    for ln in shown:
        drawn = ln.actor.GetMapper().GetInput()
        assert ln.actor.GetProperty().GetRenderLinesAsTubes()
        assert drawn.GetNumberOfPolys() == drawn.GetNumberOfStrips() == 0  # not a tube
        np.testing.assert_allclose(vtk_to_numpy(drawn.GetPoints().GetData()), engine[ln.name])
        assert ln.actor.GetProperty().GetLineWidth() > 1.0
    drag_pixels = _line_pixels(w)
    assert 0.5 < drag_pixels / rest_pixels < 2.0, (drag_pixels, rest_pixels)
    _settle(qtbot, w)
    assert scene.detail == "full"
    for ln in shown:
        assert not ln.actor.GetProperty().GetRenderLinesAsTubes()
        assert ln.actor.GetMapper().GetInputAlgorithm() is ln.tube


def test_presets_and_views(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    from PySide6.QtWidgets import QPushButton

    btn = w.pose_panel.findChild(QPushButton, "preset_high_knee")
    qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)
    assert w.state.pose.as_dict() == POSE_PRESETS["high knee"]
    for key, direction in (("2", (0, 0, 1)), ("1", (1, 0, 0)), ("5", (0, 1, 0))):
        QTest.keyClick(w, key)
        _settle(qtbot, w)
        cam = w.view.plotter.camera
        d = np.array(cam.position) - np.array(cam.focal_point)
        d /= np.linalg.norm(d)
        assert np.dot(d, direction) > 0.99, (key, d)
    assert w.state.snapshot.camera.view == "superior"


def test_a_preset_frames_the_pose_it_is_shown_with(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """A pose and a preset changed together (a session loaded) are framed
    together: the camera fits the new pose, not the one on screen before (the preset used to be
    set before the new pose was applied)."""
    w = window
    w.state.set_pose(None, hip_flexion=110.0, knee_flexion=100.0)
    w.view.set_view("lateral")
    w.view.render_now()
    cam = w.view.plotter.camera
    shown = np.array([cam.position, cam.focal_point])
    w.view.scene.frame("lateral")  # framed afresh on what is applied now
    np.testing.assert_allclose(shown, np.array([cam.position, cam.focal_point]), atol=1e-9)


def test_a_preset_frames_above_the_colour_legend(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """Switching a colour mode on re-frames a preset so the anatomy it frames stands above the
    legend (bar, ticks and title), instead of under it; a camera the user moved is kept."""
    w = window
    w.state.set_pose(None, hip_flexion=110.0, knee_flexion=100.0)
    w.state.set_visible(w.model.muscles)
    w.view.set_view("lateral")
    w.view.render_now()
    scene, ren = w.view.scene, w.view.plotter.renderer

    def lowest_framed() -> float:
        ys = []
        for p in scene.framed_points()[::7]:
            ren.SetWorldPoint(*map(float, p), 1.0)
            ren.WorldToDisplay()
            ys.append(ren.GetDisplayPoint()[1])
        return float(min(ys))

    before = lowest_framed()
    w.state.set_display(colour_by="activation")
    w.view.render_now()
    assert scene._legend, "no legend shown"
    tops = []
    for prop in scene._legend:
        if not prop.IsA("vtkTextActor"):  # the title, ticks and swatches stand highest
            continue
        box = [0.0] * 4
        prop.GetBoundingBox(ren, box)
        y = prop.GetPositionCoordinate().GetComputedDisplayValue(ren)[1]
        tops.append(box[3] + y)
    assert before < max(tops)  # without the legend the anatomy reaches down into its strip
    assert lowest_framed() > max(tops)
    w.state.set_display(colour_by="identity")  # back: framed as large as before
    w.view.render_now()
    assert abs(lowest_framed() - before) < 1.0
    cam = w.view.plotter.camera
    moved = (tuple(cam.position), tuple(cam.focal_point), tuple(cam.up))
    w.state.set_camera(view=None, position=moved[0], focal_point=moved[1], up=moved[2])
    w.view.render_now()
    w.state.set_display(colour_by="fibre_length")  # a user's camera is not re-framed
    w.view.render_now()
    np.testing.assert_allclose(np.array([cam.position, cam.focal_point]), moved[:2], atol=1e-9)


def test_hiding_muscles_and_colour_modes_change_pixels(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    w.state.set_pose(hip_flexion=60)
    _settle(qtbot, w)
    shown = _frame(w)
    w.state.set_visible([])
    _settle(qtbot, w)
    hidden = _frame(w)
    changed = np.any(np.abs(shown.astype(int) - hidden.astype(int)) > 30, axis=2).mean()
    assert changed > 0.02, f"hiding every muscle changed only {changed:.3%} of the pixels"
    # colour by activation: at 60 deg the flexors work, so warm activation colours appear
    w.state.set_visible(w.model.muscles)
    w.state.set_display(muscle_style="tube", colour_by="identity")
    _settle(qtbot, w)
    identity = _frame(w)
    w.state.set_display(colour_by="activation")
    _settle(qtbot, w)
    activation = _frame(w)
    diff = np.any(np.abs(identity.astype(int) - activation.astype(int)) > 30, axis=2).mean()
    assert diff > 0.005
    assert w.colour_box.currentData() == "activation"


def test_picking_a_muscle_opens_its_card(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    w.state.set_visible(["iliacus"])
    w.state.set_display(muscle_style="tube")
    _settle(qtbot, w)
    line = next(n for n, ln in w.view.scene.lines.items() if ln.muscle == "iliacus")
    pts = w.view.scene.line_points(line)
    anchor = pts[len(pts) // 2]
    ren = w.view.plotter.renderer
    ren.SetWorldPoint(*anchor, 1.0)
    ren.WorldToDisplay()
    x, y, _ = ren.GetDisplayPoint()
    assert w.view.scene.pick(int(x), int(y)) == "muscle:iliacus"
    # a real click on the widget (Qt y runs downwards; VTK's upwards)
    widget = w.view.plotter.interactor
    ratio = widget.devicePixelRatioF()
    pos = QPoint(int(x / ratio), int(widget.height() - y / ratio))
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    qtbot.waitUntil(lambda: w.state.snapshot.selection == "muscle:iliacus", timeout=3000)
    qtbot.waitUntil(lambda: "Iliacus" in w.info_card.toPlainText(), timeout=3000)
    assert "Origin" in w.info_card.toPlainText() or "origin" in w.info_card.toPlainText()
    # clicking empty space clears the selection
    QTest.mouseClick(
        widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(3, 3)
    )
    qtbot.waitUntil(lambda: w.state.snapshot.selection is None, timeout=3000)


def _mouse(widget, kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton,  # type: ignore[no-untyped-def]
           buttons: Qt.MouseButton) -> None:  # fmt: skip
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QMouseEvent

    local = QPointF(pos)
    event = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(widget, event)


def test_mouse_drag_turns_the_camera_and_the_state_keeps_it(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """A left-button drag in the 3D view rotates the camera (trackball), and the state (hence a
    saved session) holds the new camera; a click does not move it."""
    w = window
    widget = w.view.plotter.interactor
    before = np.array(w.view.plotter.camera.position)
    centre = QPoint(widget.width() // 2, widget.height() // 2)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _mouse(widget, QEvent.Type.MouseButtonPress, centre, left, left)
    for k in range(1, 11):
        _mouse(widget, QEvent.Type.MouseMove, centre + QPoint(12 * k, 4 * k), none, left)
    _mouse(widget, QEvent.Type.MouseButtonRelease, centre + QPoint(120, 40), left, none)
    after = np.array(w.view.plotter.camera.position)
    assert np.linalg.norm(after - before) > 1e-3, "the drag did not turn the camera"
    cam = w.state.snapshot.camera
    assert cam.position is not None
    assert np.allclose(cam.position, after, atol=1e-6)
    assert w.state.snapshot.selection is None  # a drag is not a click


def test_session_round_trip_and_recent_files(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = window
    w.state.set_pose(hip_flexion=75, knee_flexion=40)
    w.state.set_visible(["iliacus", "psoas"])
    w.state.set_display(colour_by="fibre_length", labels=True)
    w.state.update(selection="muscle:psoas")
    saved = w.state.snapshot
    path = tmp_path / "s.json"
    w.save_session(path)
    assert json.loads(path.read_text())["format"] == "hipflex-session"
    w.state.set_pose(hip_flexion=0, knee_flexion=0)
    w.state.set_visible(w.model.muscles)
    w.open_session(path)
    snap = w.state.snapshot
    assert (snap.pose, snap.visible, snap.display, snap.selection) == (
        saved.pose,
        saved.visible,
        saved.display,
        saved.selection,
    )
    assert w.act_labels.isChecked() and w.colour_box.currentData() == "fibre_length"
    assert w.recent_files()[0] == str(path.resolve())


def test_broken_session_changes_nothing(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = window
    w.state.set_pose(hip_flexion=33)
    before = w.state.snapshot
    bad = tmp_path / "bad.json"
    for text in (
        "{not json",
        json.dumps(
            {"format": "hipflex-session", "version": 1, "state": {"pose": {"hip_flexion": 999}}}
        ),
    ):
        bad.write_text(text)
        w.open_session(bad)
        assert w.state.snapshot == before
        assert "bad.json" in w.errors[-1]
    assert "hip_flexion" in w.errors[-1]
    assert "999 deg is outside the explorer's range -20..130 deg; beyond it" in w.errors[-1]


def test_undo_redo_pose_and_display(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    slider = w.pose_panel.sliders["hip_flexion"]
    for v in range(0, 121, 10):  # one drag = one undo step
        slider.setValue(v)
    slider.sliderReleased.emit()
    w.state.set_display(muscle_style="line")
    assert w.state.pose.hip_flexion == 60.0
    w.act_undo.trigger()
    assert w.state.display.muscle_style == "surface" and w.style_box.currentData() == "surface"
    w.act_undo.trigger()
    assert w.state.pose.hip_flexion == 0.0
    assert w.pose_panel.sliders["hip_flexion"].value() == 0
    w.act_redo.trigger()
    assert w.state.pose.hip_flexion == 60.0
    assert w.act_redo.isEnabled()


def test_handler_exception_is_shown_logged_and_survived(
    qtbot, window, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    w = window

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated failure")

    from hipflex.gui.app import setup_logging

    log = setup_logging()
    monkeypatch.setattr(w.state, "set_display", boom)
    w.set_display(labels=True)
    assert "simulated failure" in w.errors[-1]
    for h in __import__("logging").getLogger("hipflex").handlers:
        h.flush()
    assert "simulated failure" in log.read_text()
    monkeypatch.undo()
    w.state.set_pose(hip_flexion=20)  # still alive
    assert w.state.pose.hip_flexion == 20


def test_playback_and_arrow_keys(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    QTest.keyClick(w, Qt.Key.Key_Right)
    assert w.state.pose.hip_flexion == 1.0
    QTest.keyClick(w, Qt.Key.Key_Space)
    assert w.playing and w.state.snapshot.playing
    seen = set()
    qtbot.waitUntil(lambda: seen.add(w.state.pose.hip_flexion) or len(seen) > 3, timeout=5000)
    QTest.keyClick(w, Qt.Key.Key_Space)
    assert not w.playing and not w.state.snapshot.playing
    w.motion_box.setCurrentIndex(w.motion_box.findData("knee_drive"))
    w.toggle_play()
    knees = set()
    qtbot.waitUntil(
        lambda: knees.add(round(w.state.pose.knee_flexion)) or len(knees) > 3, timeout=5000
    )
    w.toggle_play()


def test_twenty_windows_open_and_close_cleanly(qtbot, model) -> None:  # type: ignore[no-untyped-def]
    from hipflex.gui.window import MainWindow

    app = QApplication.instance()
    assert app is not None
    baseline = len(app.topLevelWidgets())
    refs = []
    rss = []
    for _ in range(20):
        w = MainWindow(model, quiet=True)
        w.show()
        qtbot.waitExposed(w)
        w.view.render_now()
        timers = w.findChildren(QTimer)
        w.close()
        w.deleteLater()
        refs.append(weakref.ref(w))
        del w
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QApplication.processEvents()
        assert not any(t.isActive() for t in timers if _alive(t)), (
            "a timer kept running after close"
        )
        gc.collect()
        rss.append(_rss_mb())
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert sum(r() is not None for r in refs) == 0, "closed windows were not freed"
    assert len(app.topLevelWidgets()) <= baseline + 1
    growth = rss[-1] - rss[4]
    assert growth < 120, f"memory grew {growth:.0f} MB over 15 windows"


def _alive(obj: object) -> bool:
    try:
        obj.objectName()  # type: ignore[attr-defined]
    except RuntimeError:
        return False
    return True


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def _hipflex(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hipflex", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})  # fmt: skip


def test_size_argument_is_shared_and_names_bad_text(capsys: pytest.CaptureFixture[str]) -> None:
    from hipflex.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["gui", "--size", "1366X768"]).size == (1366, 768)
    assert parser.parse_args(["render", "-o", "x.png", "--size", "64x48"]).size == (64, 48)
    for argv, example in (
        (["gui", "--size", "1366by768"], "1366x768"),
        (["render", "-o", "x.png", "--size", "1366by768"], "1600x1200"),
    ):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert f"expected WxH such as {example}, got '1366by768'" in err


def test_gui_screenshot_command(tmp_path: Path) -> None:
    out = tmp_path / "window.png"
    session = tmp_path / "s.json"
    from hipflex.state import Pose as StatePose
    from hipflex.state import Snapshot, save_session

    save_session(session, Snapshot(pose=StatePose(hip_flexion=110, knee_flexion=0)))
    r = _hipflex("gui", "--session", str(session), "--screenshot", str(out), "--size", "1366x768")
    assert r.returncode == 0, r.stderr
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1366, 768)
    arr = np.array(
        [
            [img.pixelColor(x, y).lightness() for x in range(300, 1000, 20)]
            for y in range(100, 600, 20)
        ]
    )
    assert (arr < 200).mean() > 0.05, "the 3D area of the screenshot is blank"


def test_gui_screenshot_with_a_bad_session_fails_at_once(tmp_path: Path) -> None:
    """Headless, a missing or broken --session file is an error on stderr and exit code 2.
    Until session 12 the window opened the session before it knew it was headless and waited
    on a message box nobody could see."""
    out = tmp_path / "window.png"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for session in (tmp_path / "missing.json", broken):
        r = subprocess.run([sys.executable, "-m", "hipflex", "gui", "--session", str(session),
                            "--screenshot", str(out)], capture_output=True, text=True,
                           timeout=120)  # fmt: skip
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("hipflex gui: ") and session.name in r.stderr, r.stderr
        assert not out.exists()


def test_gui_screenshot_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused in the CLI before Qt starts: no window is opened, so this runs in milliseconds."""
    from hipflex.cli import main
    from hipflex.gui import app

    opened: list[dict[str, object]] = []

    def no_window(**kwargs: object) -> int:
        opened.append(kwargs)
        return 0

    monkeypatch.setattr(app, "run", no_window)
    out = tmp_path / "window.png"
    out.write_bytes(b"keep me")
    assert main(["gui", "--screenshot", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"hipflex: error: {out}: exists; pass --force to overwrite"]
    assert out.read_bytes() == b"keep me"
    assert opened == [], "a window was opened for a refused screenshot"
    # a missing folder is refused up front as well, not after the window has been built
    assert main(["gui", "--screenshot", str(tmp_path / "no" / "x.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert opened == []
    # --force gets past the check and on to the window
    assert main(["gui", "--screenshot", str(out), "--force"]) == 0
    assert opened == [{"session": None, "screenshot": out, "size": None}]
    assert out.read_bytes() == b"keep me"  # the stand-in window wrote nothing


def test_gui_without_display_says_so(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    r = subprocess.run(
        [sys.executable, "-m", "hipflex", "gui"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2
    assert "xvfb-run" in r.stderr and "hipflex render" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_gui_with_missing_pack_explains_how_to_build(tmp_path: Path) -> None:
    r = _hipflex(
        "gui",
        "--screenshot",
        str(tmp_path / "x.png"),
        env={"HIPFLEX_CACHE": str(tmp_path / "empty")},
    )
    assert r.returncode == 2
    assert "hipflex assets build" in r.stderr
    assert not (tmp_path / "x.png").exists()


def test_export_image_from_the_window(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    w = window
    w.state.set_pose(hip_flexion=110)
    w.view.set_view("lateral")
    _settle(qtbot, w)
    out = tmp_path / "view.png"
    assert w.export_image_to(out, (900, 600), transparent=True) == out
    img = Image.open(out)
    assert img.size == (900, 600) and img.mode == "RGBA"
    alpha = np.asarray(img)[..., 3]
    assert (alpha == 0).mean() > 0.2 and (
        alpha == 255
    ).mean() > 0.05  # background clear, hip opaque
    assert "Visible Human" in img.text["Copyright"]
    # no overwrite without confirmation (force)
    assert w.export_image_to(out, (900, 600)) is None
    assert "exists" in w.errors[-1]


def test_export_video_can_be_cancelled_and_leaves_nothing(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hipflex.gui import exports

    out = tmp_path / "sweep.gif"
    calls = {"n": 0}

    def cancel_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    orig = exports._progress_dialog

    def fake(parent, title):  # type: ignore[no-untyped-def]
        dlg, progress, _ = orig(parent, title)
        return dlg, progress, cancel_after_two

    exports._progress_dialog = fake  # type: ignore[assignment]
    try:
        assert exports.export_video(window, out, seconds=1, fps=10, size=(320, 240)) is None
    finally:
        exports._progress_dialog = orig  # type: ignore[assignment]
    assert not out.exists()
    assert not list(tmp_path.iterdir()), "a temporary file was left behind"


def test_export_plot_from_the_window(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = window
    for suffix in ("svg", "pdf", "png"):
        out = tmp_path / f"moment_arm.{suffix}"
        assert w.export_plot("moment_arm", out) == out
        assert out.stat().st_size > 1000
    assert (
        "<text" in (tmp_path / "moment_arm.svg").read_text()
        or "Hip flexion" in (tmp_path / "moment_arm.svg").read_text()
    )
    assert (tmp_path / "moment_arm.pdf").read_bytes().startswith(b"%PDF")
    assert w.export_plot("moment_arm", tmp_path / "moment_arm.svg") is None  # no silent overwrite
    assert "exists" in w.errors[-1]


_LABEL_PROBE = """
import json, sys
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from hipflex.gui.window import MainWindow
from hipflex.model.hipmodel import load_model
import vtkmodules.vtkRenderingCore as rc
w = MainWindow(load_model(), quiet=True)
w.resize(1366, 768)
w.show()
app.processEvents()
w.state.set_pose(None, hip_flexion=110.0, knee_flexion=100.0)
w.state.set_display(labels=True)
args = sys.argv[1:]
if "all" in args:  # every muscle labelled
    w.state.set_visible(w.model.muscles)
if "legend" in args:  # over the activation legend
    w.state.set_display(colour_by="activation")
if "select" in args:  # the lever and its caption
    w.state.update(selection="muscle:psoas")
for view in ("oblique", "lateral"):  # framed as loaded: the knee and its labels near the bottom
    if view in args:
        w.view.set_view(view)
w.view.render_now()
ren = w.view.plotter.renderer

def boxes(props):
    out = []
    for prop in props:
        if isinstance(prop, rc.vtkTextActor):
            b = [0.0] * 4
            prop.GetBoundingBox(ren, b)  # relative to the actor's display position
            x, y = prop.GetPositionCoordinate().GetComputedDisplayValue(ren)
            out.append([b[0] + x, b[1] + x, b[2] + y, b[3] + y])
    return out

def text_heights(props):  # the glyphs alone, without the backdrop's fixed padding
    out = []
    for prop in props:
        if isinstance(prop, rc.vtkTextActor):
            tp = prop.GetTextProperty()
            opacity = tp.GetBackgroundOpacity()
            tp.SetBackgroundOpacity(0.0)
            b = [0.0] * 4
            prop.GetBoundingBox(ren, b)
            tp.SetBackgroundOpacity(opacity)
            out.append(b[3] - b[2])
    return out

def leaders(props):
    for prop in props:
        if type(prop) is rc.vtkActor2D:
            pts = prop.GetMapper().GetInput().GetPoints()
            xy = [pts.GetPoint(i)[:2] for i in range(pts.GetNumberOfPoints())]
            return [[xy[k], xy[k + 1]] for k in range(0, len(xy), 2)]
    return []

caption = None
arm = w.view.scene._arm
if arm is not None and arm[2].GetVisibility():
    cap = arm[2]
    x0, y0 = cap.GetPositionCoordinate().GetComputedDisplayValue(ren)
    x1, y1 = cap.GetPosition2Coordinate().GetComputedDisplayValue(ren)
    props = [ren.GetViewProps().GetItemAsObject(i)
             for i in range(ren.GetViewProps().GetNumberOfItems())]
    order = [i for i, p in enumerate(props) if p is cap or type(p) is rc.vtkActor2D]
    caption = {"box": [x0, y0, x1, y1], "text": cap.GetCaption(),
               "last": props.index(cap) == max(order)}

print(json.dumps({"scale": w.view.scene.scale, "dpi": w.view.plotter.ren_win.GetDPI(),
                  "leaders": leaders(w.view.scene._overlay), "caption": caption,
                  "size": list(w.view.plotter.ren_win.GetSize()),
                  "boxes": boxes(w.view.scene._overlay), "legend": boxes(w.view.scene._legend),
                  "text_heights": text_heights(w.view.scene._overlay)}))
w.close()
"""


def _label_boxes(scale_factor: str, *args: str) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "QT_SCALE_FACTOR": scale_factor, "HIPFLEX_QUIET": "1"}
    out = subprocess.run([sys.executable, "-c", _LABEL_PROBE, *args], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_3d_labels_follow_the_device_pixel_ratio() -> None:
    """At twice the pixel ratio the 3D labels are twice as tall in device pixels and still do
    not overlap (text, offsets and spacing scale together; VTK's own DPI scaling is off)."""
    one, two = _label_boxes("1"), _label_boxes("2")
    assert one["scale"] == 1.0 and two["scale"] == 2.0
    assert one["dpi"] == two["dpi"] == 72
    assert two["size"][0] >= 1.9 * one["size"][0]
    assert len(one["boxes"]) == len(two["boxes"]) >= 8

    def heights(d: dict) -> float:  # type: ignore[type-arg]
        return float(np.median(d["text_heights"]))

    assert 1.8 < heights(two) / heights(one) < 2.2
    for d in (one, two):
        for i, a in enumerate(d["boxes"]):
            for b in d["boxes"][i + 1 :]:
                overlap_x = min(a[1], b[1]) - max(a[0], b[0])
                overlap_y = min(a[3], b[3]) - max(a[2], b[2])
                assert overlap_x <= 0 or overlap_y <= 0, f"labels overlap: {a} {b}"


def test_3d_labels_keep_above_the_colour_legend() -> None:
    """With every muscle labelled and coloured by activation, the label columns stop above the
    legend (its bar, ticks, swatches and title) instead of running over it."""
    d = _label_boxes("1", "all", "legend", "oblique")
    assert len(d["boxes"]) >= 17 and len(d["legend"]) >= 3
    legend_top = max(b[3] for b in d["legend"])
    assert min(b[2] for b in d["boxes"]) > legend_top, (d["boxes"], legend_top)


def test_the_lever_caption_keeps_clear_of_the_label_leaders() -> None:
    """With every muscle labelled and psoas selected, seen from the side, the label leaders fan
    across the middle of the view, where the moment-arm caption used to sit with leaders
    running through its text. It now sits where no leader crosses it and no label covers it,
    inside the view and above the legend, and it is drawn after the leaders."""
    d = _label_boxes("1", "all", "lateral", "select", "legend")
    cap = d["caption"]
    assert cap is not None and cap["text"].startswith("Psoas major: moment arm +")
    x0, y0, x1, y1 = cap["box"]
    assert len(d["leaders"]) >= 17
    from hipflex.scene.layout import boxes_overlap, segment_crosses_box

    box = (x0, y0, x1, y1)
    crossing = [s for s in d["leaders"] if segment_crosses_box((tuple(s[0]), tuple(s[1])), box)]
    assert not crossing, (box, crossing)
    assert not any(boxes_overlap((b[0], b[2], b[1], b[3]), box) for b in d["boxes"])
    assert x0 >= 0 and x1 <= d["size"][0] and y1 <= d["size"][1]
    assert y0 > max(b[3] for b in d["legend"])
    assert cap["last"], "the caption is drawn under the leader lines"


def test_3d_label_columns_fit_inside_the_view() -> None:
    """Seen from the side with every muscle labelled, the anatomy spans the view and the
    columns sit near its edges: the longest names ("Pubic symphysis (behind)", "Biceps femoris
    (long head)") must still be whole, not cut off by the view's edge."""
    d = _label_boxes("1", "all", "lateral")
    width = d["size"][0]
    assert len(d["boxes"]) >= 17
    assert min(b[0] for b in d["boxes"]) >= 0, d["boxes"]
    assert max(b[1] for b in d["boxes"]) <= width, (d["boxes"], width)
