"""A muscle without a surface model (no ``mesh`` in its anatomy_data file, as for the deep external
rotators the surface sources leave out) is shown everywhere a muscle is: as a tube along its line
of action where the others show surfaces, coloured, hidden, selected and picked like them, listed
under its group and named on its info card.

The fixture muscle is a copy of piriformis with another id and colour, no mesh and the group
"rotators", in a copy of anatomy_data (``HIPFLEX_DATA``): its line is piriformis's, so in every
quantity colour mode its tube must take exactly the colour of piriformis's surface.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from hipflex.anatomy import load_anatomy
from hipflex.assets.pack import AssetPack
from hipflex.config import REPO_ROOT
from hipflex.media.still import at_pose, render_still
from hipflex.scene.colours import moment_arm_rgb
from hipflex.scene.live import (
    DIMMED_OPACITY,
    SPECIFIC_TENSION,
    STAND_IN_SCALE,
    SURFACE_OPACITY,
    stand_in_radius,
)
from hipflex.state import Camera, Display, Snapshot

ROTATOR = "test_rotator"
ROTATOR_NAME = "Test rotator"
ROTATOR_COLOUR = "#ff00ff"  # magenta: no other muscle and no bone is drawn in it


@pytest.fixture(scope="session")
def meshless_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of anatomy_data with one more muscle: piriformis's file under another id, name,
    colour and line name, in the group "rotators", with no ``mesh`` key."""
    root = tmp_path_factory.mktemp("meshless") / "anatomy_data"
    shutil.copytree(REPO_ROOT / "anatomy_data", root)
    text = (root / "muscles" / "piriformis.toml").read_text(encoding="utf-8")
    for key, value in (("id", ROTATOR), ("display_name", ROTATOR_NAME), ("group", "rotators"),
                       ("colour", ROTATOR_COLOUR), ("name", ROTATOR)):  # fmt: skip
        text, n = re.subn(rf"^{key} = .*$", f'{key} = "{value}"', text, flags=re.M)
        assert n == 1, f"piriformis.toml: expected one {key!r} line, found {n}"
    text, n = re.subn(r"^mesh = .*\n", "", text, flags=re.M)
    assert n == 1
    (root / "muscles" / f"{ROTATOR}.toml").write_text(text, encoding="utf-8")
    m = load_anatomy(root).muscles[ROTATOR]
    assert m.mesh is None and m.group == "rotators" and len(m.line) == 1
    return root


@pytest.fixture(scope="module")
def meshless_model(real_pack: AssetPack, meshless_data: Path):  # type: ignore[no-untyped-def]
    from hipflex.model.hipmodel import HipModel
    from hipflex.model.skeleton import ModelContext

    return HipModel(ModelContext.load(real_pack, anatomy=load_anatomy(meshless_data)))


@pytest.fixture
def mwindow(qtbot, meshless_model, meshless_data, isolated_settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The main window on the fixture data, 1366x768, shown and drawn once."""
    from hipflex.gui.window import MainWindow

    monkeypatch.setenv("HIPFLEX_DATA", str(meshless_data))
    w = MainWindow(meshless_model, quiet=True)
    w.resize(1366, 768)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.view.render_now()
    yield w
    w.close()


def _settle(qtbot, w) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not w.view._stale and not w.view._timer.isActive(), timeout=5000)
    w.view.render_now()


def _frame(w) -> np.ndarray:  # type: ignore[no-untyped-def]
    img: QImage = w.view.image().convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes())
    arr = arr.reshape(img.height(), img.bytesPerLine())
    return arr[:, : 3 * img.width()].reshape(img.height(), img.width(), 3).copy()


def _tube_points(tube: Any) -> np.ndarray:
    from vtkmodules.util.numpy_support import vtk_to_numpy

    tube.Update()
    return np.asarray(vtk_to_numpy(tube.GetOutput().GetPoints().GetData()), float)


# -- the window ---------------------------------------------------------------------------------


def test_the_tube_stands_for_the_muscle_and_follows_the_pose(qtbot, mwindow) -> None:  # type: ignore[no-untyped-def]
    w = mwindow
    scene = w.view.scene
    assert ROTATOR not in scene.muscle_actors and "piriformis" in scene.muscle_actors
    (tube,) = scene.stand_ins[ROTATOR]
    assert scene.names[id(tube.actor)] == f"muscle:{ROTATOR}"
    assert scene.plotter.renderer.GetActors().IsItemPresent(tube.actor)
    assert tube.actor.GetVisibility()
    # its radius: 0.9 x that of the circle with the muscle's PCSA (F0 / 61 N/cm^2)
    f0 = w.model.ctx.anatomy.muscles[ROTATOR].hill.max_isometric_force
    r = STAND_IN_SCALE * np.sqrt(f0 / SPECIFIC_TENSION / np.pi)
    assert tube.radius == pytest.approx(r) == stand_in_radius(f0)
    assert 0.015 < r < 0.03  # piriformis's 1030 N: 21 mm

    def check_around_line() -> None:
        """Every point of the drawn tube lies one radius from the line of action (caps: at most)."""
        line = scene.line_points(tube.line)
        pts = _tube_points(tube.tube)
        a, b = line[:-1], line[1:]
        keep = np.linalg.norm(b - a, axis=1) > 1e-9  # an unwrapped line repeats its wrap points
        a, b = a[keep], b[keep]
        d = b - a
        t = np.clip(np.einsum("pkj,kj->pk", pts[:, None] - a, d) / (d * d).sum(1), 0, 1)
        dist = np.linalg.norm(pts[:, None] - (a + t[..., None] * d), axis=2).min(axis=1)
        assert dist.max() == pytest.approx(r, rel=0.02)
        assert np.median(dist) == pytest.approx(r, rel=0.02)

    check_around_line()
    before = scene.line_points(tube.line).copy()
    # while the pose moves (the drag level of detail) the tube is the bare polyline, shaded by
    # the line shader and as wide as the tube, updated to the new pose
    w.state.set_pose(None, hip_flexion=90.0)
    assert scene.detail == "drag"
    w.view.flush()
    moved = scene.line_points(tube.line)
    assert np.abs(moved - before).max() > 0.02
    mapper_input = tube.actor.GetMapper().GetInputDataObject(0, 0)
    assert mapper_input is tube.poly
    np.testing.assert_allclose(np.asarray(tube.poly.points), moved, atol=1e-9)
    prop = tube.actor.GetProperty()
    assert prop.GetRenderLinesAsTubes()
    assert prop.GetLineWidth() == pytest.approx(2 * r * scene._pixels_per_metre(), rel=1e-6)
    # at rest the real tube again, around the new line
    w.view.render_now()
    assert scene.detail == "full" and not prop.GetRenderLinesAsTubes()
    check_around_line()
    # in the tube and line styles every muscle is drawn by its line: the stand-in steps aside
    w.state.set_display(muscle_style="line")
    w.view.flush()
    assert not tube.actor.GetVisibility()
    assert next(ln for ln in scene.lines.values() if ln.muscle == ROTATOR).actor.GetVisibility()
    w.state.set_display(muscle_style="surface")
    w.view.flush()
    assert tube.actor.GetVisibility()


def test_the_tube_is_coloured_like_the_surfaces(qtbot, mwindow) -> None:  # type: ignore[no-untyped-def]
    w = mwindow
    scene = w.view.scene
    tube = scene.stand_ins[ROTATOR][0].actor
    surface = scene.muscle_actors["piriformis"]

    def rgb(actor: Any) -> np.ndarray:
        return np.asarray(actor.GetProperty().GetColor())

    np.testing.assert_allclose(rgb(tube), to_rgb(ROTATOR_COLOUR))
    assert np.abs(rgb(tube) - rgb(surface)).max() > 0.3  # identity: its own colour
    w.state.set_pose(None, hip_flexion=70.0)  # piriformis turns the hip inward up here
    for mode in ("moment_arm", "fibre_length", "activation"):
        w.state.set_display(colour_by=mode)
        _settle(qtbot, w)
        # the same line as piriformis: the same value, so exactly its surface's colour
        np.testing.assert_allclose(rgb(tube), rgb(surface), atol=1e-12, err_msg=mode)
        np.testing.assert_allclose(rgb(tube), scene.colours[ROTATOR], atol=1e-12)
        assert np.abs(rgb(tube) - np.asarray(to_rgb(ROTATOR_COLOUR))).max() > 0.1, mode
    arm = w.analysis.muscle_values(ROTATOR)["moment_arm_hip_flexion"]
    w.state.set_display(colour_by="moment_arm")
    _settle(qtbot, w)
    np.testing.assert_allclose(rgb(tube), moment_arm_rgb(arm), atol=1e-12)
    # the muscle list's swatch and number come from the same colours
    item = w.muscle_panel.items[ROTATOR]
    assert item.text(1) == f"{1000 * arm:+.0f} mm"
    swatch = item.icon(0).pixmap(14, 14).toImage().pixelColor(7, 7)
    want = moment_arm_rgb(arm)
    assert abs(swatch.redF() - want[0]) < 0.02 and abs(swatch.blueF() - want[2]) < 0.02


def test_hiding_selecting_and_picking_the_tube(qtbot, mwindow) -> None:  # type: ignore[no-untyped-def]
    w = mwindow
    scene = w.view.scene
    stand_in = scene.stand_ins[ROTATOR][0]
    prop = stand_in.actor.GetProperty()
    w.state.set_display(show_lines=False)
    w.state.set_visible([ROTATOR])
    w.view.set_view("posterior")
    _settle(qtbot, w)
    assert stand_in.actor.GetVisibility()
    shown = _frame(w)
    magenta = (shown[..., 0] > 150) & (shown[..., 2] > 150) & (shown[..., 1] < 110)
    assert magenta.mean() > 0.002, "no magenta tube in the view"
    # hidden through the muscle list's check box: not drawn, its pixels gone
    w.muscle_panel.items[ROTATOR].setCheckState(0, Qt.CheckState.Unchecked)
    assert ROTATOR not in w.state.snapshot.visible
    _settle(qtbot, w)
    assert not stand_in.actor.GetVisibility()
    hidden = _frame(w)
    gone = (hidden[..., 0] > 150) & (hidden[..., 2] > 150) & (hidden[..., 1] < 110)
    assert gone.mean() < 0.1 * magenta.mean()
    w.state.set_visible([ROTATOR, "piriformis"])
    _settle(qtbot, w)
    # selecting another muscle dims it as it dims the surfaces; selecting it lights it
    w.state.update(selection="muscle:piriformis")
    _settle(qtbot, w)
    assert prop.GetOpacity() == pytest.approx(DIMMED_OPACITY)
    assert scene.muscle_actors["piriformis"].GetProperty().GetOpacity() == 1.0
    w.state.update(selection=None)
    _settle(qtbot, w)
    assert prop.GetOpacity() == pytest.approx(SURFACE_OPACITY) and prop.GetAmbient() == 0.0
    # picking: where the tube shows (the middle one of its magenta pixels)
    w.state.set_visible([ROTATOR])
    _settle(qtbot, w)
    frame = _frame(w)
    rows, cols = np.nonzero((frame[..., 0] > 150) & (frame[..., 2] > 150) & (frame[..., 1] < 110))
    k = np.argsort(cols)[len(cols) // 2]
    x, y = float(cols[k]), float(frame.shape[0] - 1 - rows[k])  # VTK's y runs upwards
    assert scene.pick(int(x), int(y)) == f"muscle:{ROTATOR}"
    w.state.set_visible([])  # hidden, the same pixel picks what lies behind it
    _settle(qtbot, w)
    assert scene.pick(int(x), int(y)) != f"muscle:{ROTATOR}"
    w.state.set_visible([ROTATOR])
    _settle(qtbot, w)
    widget = w.view.plotter.interactor
    ratio = widget.devicePixelRatioF()
    pos = QPoint(int(x / ratio), int(widget.height() - y / ratio))
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    qtbot.waitUntil(lambda: w.state.snapshot.selection == f"muscle:{ROTATOR}", timeout=3000)
    _settle(qtbot, w)
    assert prop.GetOpacity() == 1.0 and prop.GetAmbient() == pytest.approx(0.45)
    card = w.info_card.toPlainText()
    assert ROTATOR_NAME in card and "Deep external rotators" in card
    assert "no surface model for this muscle" in card and "along its line of action" in card
    across = 2000 * stand_in_radius(w.model.ctx.anatomy.muscles[ROTATOR].hill.max_isometric_force)
    assert f"{across:.0f} mm across" in card and "61 N/cm²" in card
    assert "Moment arm, hip flexion" in card  # its numbers, as for any muscle
    assert w.muscle_panel.tree.currentItem() is w.muscle_panel.items[ROTATOR]
    # a muscle with a surface says nothing of the kind
    w.state.update(selection="muscle:piriformis")
    qtbot.waitUntil(lambda: "Piriformis" in w.info_card.toPlainText(), timeout=3000)
    assert "no surface model" not in w.info_card.toPlainText()


def test_the_muscle_list_shows_it_under_deep_external_rotators(qtbot, mwindow) -> None:  # type: ignore[no-untyped-def]
    panel = mwindow.muscle_panel
    group = panel.groups["rotators"]
    assert group.text(0) == "Deep external rotators"
    members = panel.members["rotators"]  # the real deep rotators and the fixture's
    assert ROTATOR in members and all(
        mwindow.analysis.model.ctx.anatomy.muscles[m].mesh is None for m in members)
    item = panel.items[ROTATOR]
    assert item.parent() is group and item.text(0) == ROTATOR_NAME
    assert "no surface model" in item.toolTip(0)
    assert "no surface model" not in panel.items["piriformis"].toolTip(0)
    assert panel.items["piriformis"].parent() is panel.groups["abductors"]
    # the group's check box hides and shows it
    assert group.text(1) == f"{len(members)}/{len(members)}"
    group.setCheckState(0, Qt.CheckState.Unchecked)
    assert ROTATOR not in mwindow.state.snapshot.visible
    group.setCheckState(0, Qt.CheckState.Checked)
    assert ROTATOR in mwindow.state.snapshot.visible
    # the filter finds it by name
    panel.filter.setText("rotator")
    assert panel.visible_rows() == [ROTATOR]


def test_plots_and_task_list_it_with_its_group(qtbot, mwindow) -> None:  # type: ignore[no-untyped-def]
    w = mwindow
    texts = [a.text() for a in w.plots_panel.muscle_menu.actions()]
    at = texts.index("Deep external rotators")  # a section of the plots' muscle menu
    rotators = [m for m, x in w.analysis.model.ctx.anatomy.muscles.items() if x.group == "rotators"]
    assert ROTATOR_NAME in texts[at + 1:at + 1 + len(rotators)]
    assert texts.index("Extensors") < at
    w.plots_panel.muscle_actions[ROTATOR].setChecked(True)
    assert ROTATOR in w.state.snapshot.plotted

    def plotted_on_moment_arm() -> bool:
        ax = w.plots_panel.canvases["moment_arm"].figure.axes[0]
        return any(ln.get_label() == ROTATOR_NAME for ln in ax.get_lines())

    qtbot.waitUntil(plotted_on_moment_arm, timeout=5000)
    # the task panel's rows follow the groups: the rotators come last
    assert ROTATOR in w.task_panel.muscles[-len(rotators):]


# -- offscreen stills and handouts --------------------------------------------------------------


def _still(model, visible: tuple[str, ...], colour_by: str = "identity") -> np.ndarray:  # type: ignore[no-untyped-def]
    snap = at_pose(Snapshot(visible=visible, camera=Camera(view="posterior"),  # type: ignore[arg-type]
                            display=Display(colour_by=colour_by, show_lines=False)),  # type: ignore[arg-type]
                   hip_flexion=20.0)  # fmt: skip
    return render_still(snap, (480, 400), level="interactive", model=model)[..., :3]


def test_a_still_draws_the_tube(meshless_model, real_pack: AssetPack) -> None:  # type: ignore[no-untyped-def]
    assert ROTATOR not in real_pack.mesh_ids  # the pack has no surface for it, and needs none
    without = _still(meshless_model, ())
    with_tube = _still(meshless_model, (ROTATOR,))
    changed = np.any(np.abs(with_tube.astype(int) - without.astype(int)) > 30, axis=2)
    assert changed.mean() > 0.005, f"the tube changed only {changed.mean():.3%} of the pixels"
    r, g, b = (with_tube[..., k].astype(int) for k in range(3))
    magenta = (r > 150) & (b > 150) & (g < 110)
    assert magenta.sum() > 0.5 * changed.sum(), "the changed pixels are not the tube's magenta"
    # coloured by a quantity: the tube's pixels are no longer its own colour
    coloured = _still(meshless_model, (ROTATOR,), colour_by="fibre_length")
    r, g, b = (coloured[..., k].astype(int) for k in range(3))
    assert ((r > 150) & (b > 150) & (g < 110)).sum() < 0.1 * magenta.sum()


def test_a_handout_says_which_muscles_are_tubes(meshless_model) -> None:  # type: ignore[no-untyped-def]
    from hipflex.media.handout import _tube_words

    words = _tube_words(meshless_model, ["psoas", ROTATOR])
    assert words == (f" {ROTATOR_NAME} has no surface model in the source set: drawn as a tube "
                     "along the line of action.")  # fmt: skip
    assert _tube_words(meshless_model, ["psoas", "piriformis"]) == ""
