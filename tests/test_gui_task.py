"""The hold-task panel (pytest-qt, under Xvfb): edits go through the state, the engine results
follow the task, undo and sessions restore it, and the "why" and the status bar say it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from hipflex.gui.panels import TaskPanel
from hipflex.gui.qtstate import SWEEP_ANGLES, Analysis, QtState
from hipflex.model.hipmodel import HipModel, PoseResult
from hipflex.state import AppState, Task

pytestmark = pytest.mark.usefixtures("qapp", "isolated_settings")
QUANTITIES = ("activation", "max_moment_hip_flexion", "share")


@pytest.fixture
def reference(model_context) -> HipModel:  # type: ignore[no-untyped-def]
    """A model of its own, never touched by the window: what the engine says by itself."""
    return HipModel(model_context)


@pytest.fixture
def env(qtbot, model: HipModel) -> Iterator[tuple[AppState, Analysis, TaskPanel]]:  # type: ignore[no-untyped-def]
    state = AppState(muscles=model.muscles)
    state.set_pose(hip_flexion=110, knee_flexion=0)
    qstate = QtState(state)
    analysis = Analysis(qstate, model)
    panel = TaskPanel(qstate, analysis)
    qtbot.addWidget(panel)
    panel.resize(300, 600)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=3000)  # key presses need the focus
    yield state, analysis, panel
    qstate.close()


def _same(result: PoseResult, expected: PoseResult) -> None:
    for q in QUANTITIES:
        np.testing.assert_allclose(result[q], expected[q], rtol=1e-12, atol=1e-12, err_msg=q)
    np.testing.assert_allclose(result.required_moment, expected.required_moment, rtol=1e-12)
    np.testing.assert_array_equal(result.feasible, expected.feasible)


def _published(qtbot, analysis: Analysis) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(analysis.sweep_changed, timeout=3000):
        pass


def test_psoas_at_half_strength_in_the_panel_is_the_engines_answer(  # type: ignore[no-untyped-def]
    qtbot, env, reference
) -> None:
    state, analysis, panel = env
    default = reference.at(110.0, 0.0)
    spin = panel.spins["psoas"]
    assert spin.value() == 100.0
    with qtbot.waitSignal(analysis.sweep_changed, timeout=3000):
        spin.setValue(50)  # what typing 50 and Enter does
    assert state.task.strength == {"psoas": 0.5}
    reference.set_strength("psoas", 0.5)
    weak = reference.at(110.0, 0.0)
    _same(analysis.current, weak)
    _same(analysis.sweep, reference.sweep(SWEEP_ANGLES, knee_flexion=0.0))
    j = reference.muscles.index("psoas")
    # the test could fail: half the strength halves psoas's capacity and raises its activation
    assert weak["max_moment_hip_flexion"][0, j] == pytest.approx(
        0.5 * default["max_moment_hip_flexion"][0, j]
    )
    # the weak psoas supplies less of the moment (at a higher activation: with the hip's
    # turning balanced too, few muscles can stand in for it) and iliacus works harder
    i = reference.muscles.index("iliacus")
    assert (analysis.current["share"][0, j] * analysis.current.required_moment[0]
            < default["share"][0, j] * default.required_moment[0] - 1.0)  # fmt: skip
    assert analysis.current["activation"][0, i] > default["activation"][0, i] + 0.01
    assert panel.rows["psoas"].font().bold() and not panel.rows["iliacus"].font().bold()
    assert panel.reset.isEnabled()

    # undo restores the default task: the state, the box and the engine results
    assert state.undo()
    assert state.task == Task()
    assert spin.value() == 100.0 and not panel.rows["psoas"].font().bold()
    _same(analysis.current, default)
    assert not panel.reset.isEnabled()
    assert state.redo() and spin.value() == 50.0
    _same(analysis.current, weak)


def test_subject_and_knee_drive_reach_the_engine_and_the_sweep_cache(qtbot, env, reference) -> None:  # type: ignore[no-untyped-def]
    state, analysis, panel = env
    before = analysis.sweep
    panel.mass_box.setValue(90)
    panel.height_box.setValue(1.9)
    panel.drive_box.setValue(40)
    assert state.task == Task(body_mass=90, height=1.9, hip_acceleration=40)
    _published(qtbot, analysis)
    heavy = HipModel(reference.ctx, body_mass=90.0, height=1.9)
    _same(analysis.current, heavy.at(110.0, 0.0, hip_acceleration=40.0))
    _same(analysis.sweep, heavy.sweep(SWEEP_ANGLES, knee_flexion=0.0, hip_acceleration=40.0))
    assert analysis.current.required_moment[0] > reference.at(110.0, 0.0).required_moment[0] + 5
    # the sweep is cached per task too: back to the default task gives the first sweep again
    state.set_task(body_mass=75, height=1.75, hip_acceleration=0)
    _published(qtbot, analysis)
    assert analysis.sweep is before
    _same(analysis.current, reference.at(110.0, 0.0))


def test_the_panel_follows_the_state(env) -> None:  # type: ignore[no-untyped-def]
    state, _analysis, panel = env
    state.set_task(body_mass=64.5, height=1.62, hip_acceleration=-30,
                   strength={"iliacus": 1.5, "rectus_femoris": 0.0})  # fmt: skip
    assert (panel.mass_box.value(), panel.height_box.value(), panel.drive_box.value()) == (
        64.5, 1.62, -30.0)  # fmt: skip
    assert panel.spins["iliacus"].value() == 150 and panel.spins["rectus_femoris"].value() == 0
    assert panel.changed_label.text().startswith("2 changed")
    assert state.can_undo()
    state.undo()
    assert panel.mass_box.value() == 75.0 and panel.spins["iliacus"].value() == 100


def test_a_measured_knee_drive_is_one_pick_with_its_source(qtbot, env, reference) -> None:  # type: ignore[no-untyped-def]
    """The "Measured" list sets the knee drive to a drive from anatomy_data/knee_drives.toml in
    one undo step, names its source, and shows Custom for a typed value."""
    from hipflex.anatomy import load_anatomy

    state, analysis, panel = env
    drive = load_anatomy().knee_drives["sprint_top_speed"]
    box = panel.drive_preset
    assert box.currentText().startswith("Hold still")
    row = next(i for i in range(box.count()) if box.itemData(i) == drive.hip_acceleration)
    assert "Sprint at top speed" in box.itemText(row) and "Alt et al. 2024" in box.itemText(row)
    tip = box.itemData(row, Qt.ItemDataRole.ToolTipRole)
    assert "10.3 thousand deg/s^2" in tip and "Human Movement Science" in tip
    with qtbot.waitSignal(analysis.sweep_changed, timeout=3000):
        box.activated.emit(row)  # what picking the entry does
    assert state.task.hip_acceleration == drive.hip_acceleration
    assert panel.drive_box.value() == pytest.approx(179.8) and box.currentIndex() == row
    _same(analysis.current, reference.at(110.0, 0.0, hip_acceleration=drive.hip_acceleration))
    panel.drive_box.setValue(60)  # typed: no longer the measured drive
    assert state.task.hip_acceleration == 60 and box.currentText() == "Custom"
    state.undo()
    assert box.currentIndex() == row
    state.undo()
    assert state.task.hip_acceleration == 0 and box.currentText().startswith("Hold still")


def test_reset_strengths_is_one_undo_step(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, _analysis, panel = env
    state.set_task(strength={"psoas": 0.5, "iliacus": 0.5}, body_mass=80)
    qtbot.mouseClick(panel.reset, Qt.MouseButton.LeftButton)
    assert state.task == Task(body_mass=80)  # strengths only: the subject stays
    assert all(s.value() == 100 for s in panel.spins.values())
    state.undo()
    assert state.task.strength == {"iliacus": 0.5, "psoas": 0.5}


def test_holding_an_arrow_is_one_undo_step_and_separate_clicks_are_several(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, _analysis, panel = env
    spin = panel.spins["psoas"]
    depth = len(state._undo)  # the fixture's pose
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    for _ in range(4):  # auto-repeat: presses without a release in between
        qtbot.keyPress(spin, Qt.Key.Key_Down)
    qtbot.keyRelease(spin, Qt.Key.Key_Down)
    assert state.task.fraction("psoas") == pytest.approx(0.8)
    qtbot.keyClick(spin, Qt.Key.Key_Down)
    qtbot.keyClick(spin, Qt.Key.Key_Down)
    assert state.task.fraction("psoas") == pytest.approx(0.7)
    state.undo()
    state.undo()
    assert state.task.fraction("psoas") == pytest.approx(0.8)
    state.undo()  # the held arrow, at once
    assert state.task == Task() and len(state._undo) == depth


def test_the_wheel_over_an_unfocused_box_scrolls_instead_of_changing_strength(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, _analysis, panel = env
    spin = panel.spins["gluteus_medius"]
    panel.table.setFocus()
    assert not spin.hasFocus()
    pos = QPointF(spin.rect().center())
    wheel = QWheelEvent(pos, QPointF(spin.mapToGlobal(pos.toPoint())), QPoint(0, 0),
                        QPoint(0, -120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
    QApplication.sendEvent(spin, wheel)
    assert spin.value() == 100 and state.task == Task()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    QApplication.sendEvent(spin, wheel)
    assert state.task.fraction("gluteus_medius") == pytest.approx(0.95)


def test_the_knee_drive_reaches_the_why_panel_and_the_status_bar(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    w.state.set_pose(hip_flexion=90, knee_flexion=90)
    w.task_panel.spins["psoas"].setValue(50)
    w.task_panel.drive_box.setValue(40)
    qtbot.waitUntil(lambda: "Driving the knee up from here at 40 rad/s^2"
                    in w.explanation_panel.toPlainText(), timeout=3000)  # fmt: skip
    text = w.explanation_panel.toPlainText()
    assert "Task: Psoas major 50%; knee drive 40 rad/s²" in text
    assert "Holding the leg here" not in text
    statements = w.model.explain(90.0, 90.0, hip_acceleration=40.0)
    assert [s["text"] for s in w.explanation_panel.statements] == [s["text"] for s in statements]
    status = w.status.text()
    assert "Psoas major 50%" in status and "knee drive 40 rad/s² needs" in status
    need = float(w.analysis.current.required_moment[0])
    assert f"needs {need:.0f} N m" in status
    # and back: undo twice, the plain hold task again everywhere
    w.state.undo()
    w.state.undo()
    qtbot.waitUntil(lambda: "Holding the leg here" in w.explanation_panel.toPlainText(),
                    timeout=3000)  # fmt: skip
    assert "Task:" not in w.explanation_panel.toPlainText()
    qtbot.waitUntil(lambda: "hold task needs" in w.status.text(), timeout=3000)
    assert "Psoas" not in w.status.text()


def test_a_turned_hip_is_named_in_the_status_bar_and_the_task_limit(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """The status bar's hold figure and the Task tab's highest angle are for the whole pose, so
    both name the hip's adduction and rotation when it is turned (they gave only hip and knee)."""
    w = window
    w.state.set_pose(hip_flexion=100, knee_flexion=0, hip_adduction=15, hip_rotation=20)
    qtbot.waitUntil(lambda: "adduction 15.0°" in w.status.text(), timeout=3000)
    assert "hip 100.0°  knee 0.0°  adduction 15.0°  rotation 20.0°  ·  hold task needs" in w.status.text()
    top = w.analysis.model.highest_hold_angle(0.0, 0.0, hip_adduction=15.0, hip_rotation=20.0)
    qtbot.waitUntil(lambda: "turned in 20°" in w.task_panel.limit.text(), timeout=3000)
    limit = w.task_panel.limit.text()
    assert "(knee straight, hip adducted 15° and turned in 20°)" in limit
    if top is not None and top < 130:  # the label reads the window's sweep at this pose
        assert f"{top:g}°" in limit
    w.state.set_pose(hip_adduction=0, hip_rotation=0)
    qtbot.waitUntil(lambda: "adduction" not in w.status.text(), timeout=3000)
    qtbot.waitUntil(lambda: "turned" not in w.task_panel.limit.text(), timeout=3000)


def test_the_task_tab_shares_the_pose_dock_and_a_session_sets_it(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = window
    docks = w._docks
    assert docks["Task"] in w.tabifiedDockWidgets(docks["Pose"])
    assert w.dockWidgetArea(docks["Task"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    w.state.set_task(body_mass=68, strength={"psoas": 0.25})
    path = tmp_path / "t.json"
    w.save_session(path)
    w.state.set_task(body_mass=75, strength={})
    assert w.task_panel.spins["psoas"].value() == 100
    w.open_session(path)
    assert not w.errors
    assert w.task_panel.spins["psoas"].value() == 25 and w.task_panel.mass_box.value() == 68
    assert w.model.strength == {"psoas": 0.25} and w.model.body_mass == 68
    bad = tmp_path / "bad.json"
    bad.write_text(path.read_text().replace('"psoas": 0.25', '"psoaz": 0.25'))
    w.open_session(bad)
    assert w.errors and "unknown muscle id(s) psoaz" in w.errors[-1]
    assert w.state.task.strength == {"psoas": 0.25}  # nothing lost


def test_exports_colour_and_explain_for_the_task(qtbot, window, reference, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Stills and videos colour by activation for the snapshot's task (a session's, through
    ``hipflex render --session``, or the window's), and a handout states the task it used."""
    from hipflex.media.still import OffscreenView

    w = window
    w.state.set_pose(hip_flexion=60, knee_flexion=0)
    w.state.set_task(strength={"psoas": 0.5}, hip_acceleration=40)
    snap = w.state.snapshot
    reference.set_strength("psoas", 0.5)
    expected = reference.at(60.0, 0.0, hip_acceleration=40.0)
    plain = HipModel(reference.ctx)  # a model of its own, as `hipflex render` has
    with OffscreenView((64, 48), model=plain, level="interactive") as view:
        values = view.values(snap)
    for q in QUANTITIES:
        np.testing.assert_allclose(values[q], expected[q][0], rtol=1e-12, err_msg=q)
    assert plain.strength == {} and plain.body_mass == 75.0  # lent to the task, then restored
    assert not np.allclose(values["activation"], reference.at(60.0, 0.0)["activation"][0])
    # the handout from the window says which task its numbers are for
    from hipflex.gui.exports import export_handout

    path = export_handout(w, tmp_path / "h.pdf", poses=(60.0,))
    assert path is not None and not w.errors
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    assert "Hold task: Psoas major 50%" in " ".join(text.split())
    # and the hip's adduction and rotation, as posed in the window, like its knee
    w.state.set_pose(hip_adduction=-10, hip_rotation=25)
    path = export_handout(w, tmp_path / "t.pdf", poses=(60.0,), force=True)
    assert path is not None and not w.errors
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    assert "knee straight, hip abducted 10° and turned in 25°" in " ".join(text.split())
