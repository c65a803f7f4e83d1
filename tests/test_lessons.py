"""Lessons: the shipped files load, bad files fail with the file, the key and the problem, a step
changes only what it names, and the window and the command line step through them."""

from __future__ import annotations

import re
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from hipflex.config import data_dir
from hipflex.errors import DataError
from hipflex.lessons import lesson_snapshots, load_lesson, load_lessons, step_snapshot
from hipflex.state import Camera, Display, Pose, Snapshot, load_session

GOOD = """
id = "{id}"
title = "A lesson"
[[step]]
title = "One"
text = "Look at iliacus."
pose = {{ hip_flexion = 30, knee_flexion = 10 }}
select = "muscle:iliacus"
"""


def _ids() -> tuple[set[str], set[str]]:
    from hipflex.anatomy import load_anatomy

    a = load_anatomy()
    return set(a.muscles), set(a.bone_names)


def test_the_shipped_lessons_load_and_only_ask() -> None:
    """Every lesson in anatomy_data loads (poses inside the explorer's ranges, known ids). A
    step asks and points; the numbers come from the engine, so no step text carries a figure
    with a unit or a percentage that could drift from the model."""
    lessons = load_lessons()
    assert {"knee_lift", "two_joint_flexors"} <= set(lessons)
    figure = re.compile(r"\d\s*(%|mm|N m|N\b)")
    for lesson in lessons.values():
        assert len(lesson.steps) >= 3
        for step in lesson.steps:
            assert not figure.search(step.text), (lesson.id, step.title, step.text)


@pytest.mark.parametrize(("edit", "needles"), [
    (lambda t: t.replace("hip_flexion = 30", "hip_flexion = 170"), ["step.0.pose.hip_flexion", "170"]),
    (lambda t: t.replace('"muscle:iliacus"', '"muscle:iliacuss"'), ["step.0.select", "iliacuss"]),
    (lambda t: t.replace('select = "muscle:iliacus"', 'show = ["psoas", "nope"]'), ["step.0.show", "nope"]),
    (lambda t: t.replace('select = "muscle:iliacus"', 'colour = "red"'), ["step.0.colour", "Extra inputs"]),
    (lambda t: t.replace('select = "muscle:iliacus"', 'view = "behind"'), ["step.0.view"]),
    (lambda t: t.replace('id = "bad"', 'id = "other"'), ["'id'", "file name"]),
    (lambda t: t.replace("[[step]]", "[[step]"), ["not valid TOML"]),
    (lambda t: t.split("[[step]]")[0], ["'step'", "required"]),
])  # fmt: skip
def test_a_bad_lesson_names_the_file_the_key_and_the_problem(tmp_path, edit, needles) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "bad.toml"
    f.write_text(edit(GOOD.format(id="bad")))
    muscles, bones = _ids()
    with pytest.raises(DataError) as exc:
        load_lesson(f, muscles, bones)
    msg = str(exc.value)
    assert msg.startswith(str(f)), msg
    for n in needles:
        assert n in msg, (n, msg)


def test_a_step_can_name_a_measured_knee_drive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``knee_drive = "id"`` loads as that drive's acceleration (the Task tab's figure); an
    unknown id, or a number as well, is an error naming the file and the key."""
    from hipflex.anatomy import load_anatomy

    drives = {k: d.hip_acceleration for k, d in load_anatomy().knee_drives.items()}
    f = tmp_path / "drive.toml"
    f.write_text(GOOD.format(id="drive") + 'knee_drive = "sprint_top_speed"\n')
    muscles, bones = _ids()
    step = load_lesson(f, muscles, bones, drives).steps[0]
    assert step.hip_acceleration == drives["sprint_top_speed"] > 100
    assert step_snapshot(step, Snapshot()).task.hip_acceleration == step.hip_acceleration
    f.write_text(GOOD.format(id="drive") + 'knee_drive = "jog"\n')
    with pytest.raises(DataError, match=r"drive\.toml: key 'step\.0\.knee_drive': unknown knee "
                                        r"drive 'jog' \(known: sprint_top_speed\)"):  # fmt: skip
        load_lesson(f, muscles, bones, drives)
    f.write_text(GOOD.format(id="drive") + 'knee_drive = "sprint_top_speed"\nhip_acceleration = 50\n')
    with pytest.raises(DataError, match=r"drive\.toml: key 'step\.0': .*not both"):
        load_lesson(f, muscles, bones, drives)
    # the shipped knee-lift lesson drives the knee in one step and stops again after it
    lesson = load_lessons()["knee_lift"]
    snaps = lesson_snapshots(lesson, Snapshot())
    driven = [s.task.hip_acceleration for s in snaps]
    assert driven.count(drives["sprint_top_speed"]) == 1 and driven[-1] == 0.0


def test_a_step_changes_what_it_names_and_keeps_the_rest() -> None:
    lessons = load_lessons()
    base = Snapshot(pose=Pose(hip_flexion=45, hip_adduction=10), visible=("iliacus", "psoas"),
                    display=Display(labels=True, muscle_style="line"), camera=Camera(view=None, zoom=2.0),
                    plotted=("psoas",))  # fmt: skip
    step = lessons["knee_lift"].steps[2]  # pose, view, colour and selection; nothing else
    snap = step_snapshot(step, base)
    assert snap.pose == step.pose and snap.pose.hip_adduction == 0.0  # a whole pose, not a delta
    assert snap.camera == Camera(view=step.view)
    assert snap.display.colour_by == step.colour_by
    assert (snap.display.labels, snap.display.muscle_style) == (True, "line")
    assert snap.visible == base.visible and snap.plotted == base.plotted
    assert snap.selection == step.select
    # stepping through keeps what an earlier step set (step 1's tubes) where a later one is silent
    snaps = lesson_snapshots(lessons["knee_lift"], base)
    assert [s.pose for s in snaps] == [s.pose for s in lessons["knee_lift"].steps]
    assert all(s.display.muscle_style == "tube" for s in snaps)
    assert snaps[-1].plotted == lessons["knee_lift"].steps[-1].plot


@pytest.fixture
def lesson_window(qtbot, window):  # type: ignore[no-untyped-def]
    w = window
    w._docks["Lesson"].raise_()
    w.lesson_panel.choose("knee_lift")
    return w


def test_page_down_and_up_step_the_window_through_a_lesson(qtbot, lesson_window, model) -> None:  # type: ignore[no-untyped-def]
    """Page Down (a presentation clicker) starts and advances the lesson from anywhere in the
    window; the 3D view, the Why panel and the selection follow; Page Up and undo go back."""
    w = lesson_window
    steps = w.lesson_panel.lesson.steps
    start = w.state.pose
    QTest.keyClick(w, Qt.Key.Key_PageDown)
    assert w.state.pose == steps[0].pose and w.lesson_panel.counter.text() == f"Step 1 of {len(steps)}"
    for k in (1, 2):
        QTest.keyClick(w, Qt.Key.Key_PageDown)
        assert w.state.pose == steps[k].pose
    snap = w.state.snapshot
    assert snap.camera.view == steps[2].view and snap.display.colour_by == steps[2].colour_by
    assert snap.selection == steps[2].select
    why = w.explanation_panel.toPlainText
    qtbot.waitUntil(lambda: why().startswith("Hip flexion 110°, knee straight"), timeout=5000)
    said = [x["text"] for x in model.explain(110.0, 0.0) if x["quantity"] != "caveat"]
    assert all(t in why().replace("\n", " ") for t in said[:3]), (said[:3], why())
    assert steps[2].title in w.lesson_panel.text.toPlainText()
    QTest.keyClick(w, Qt.Key.Key_PageUp)
    assert w.state.pose == steps[1].pose and w.lesson_panel.counter.text() == f"Step 2 of {len(steps)}"
    w.state.undo()  # the Page Up
    w.state.undo()  # step 3
    w.state.undo()  # step 2
    w.state.undo()  # step 1
    assert w.state.pose == start
    # the last step stops there; Back stops at the first
    w.lesson_panel.go(len(steps) - 1)
    assert not w.lesson_panel.next.isEnabled()
    QTest.keyClick(w, Qt.Key.Key_PageDown)
    assert w.lesson_panel.index == len(steps) - 1


def test_a_broken_lesson_file_leaves_the_window_working(
    qtbot, model, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from hipflex.gui.window import MainWindow

    data = tmp_path / "anatomy_data"
    shutil.copytree(data_dir(), data)
    (data / "lessons" / "knee_lift.toml").write_text("id = 'knee_lift'\ntitle = \n")
    monkeypatch.setenv("HIPFLEX_DATA", str(data))
    w = MainWindow(model, quiet=True)
    qtbot.addWidget(w)
    text = w.lesson_panel.text.toPlainText()
    assert "Lessons could not be loaded" in text and "knee_lift.toml" in text
    assert not w.lesson_panel.next.isEnabled()
    w.state.set_pose(hip_flexion=40.0)  # the rest of the window is unaffected
    assert w.state.pose.hip_flexion == 40.0
    w.close()


def _run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    from hipflex.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_prints_a_lesson_with_the_engines_figures(capsys, model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _run(capsys, "lesson")
    assert code == 0 and "knee_lift:" in out and "two_joint_flexors:" in out
    lesson = load_lessons()["knee_lift"]
    step = lesson.steps[2]
    code, out, err = _run(
        capsys, "lesson", "knee_lift", "--step", "3", "--sessions", str(tmp_path / "s")
    )
    assert code == 0
    assert f"Step 3: {step.title}" in out and step.text in out
    # the statements are the engine's at that pose, not text stored in the lesson
    said = model.explain(step.pose.hip_flexion, step.pose.knee_flexion)
    for s in said:
        if s["quantity"] != "caveat":
            assert f"  - {s['text']}" in out
    snap = load_session(tmp_path / "s" / "knee_lift_step03.json")
    assert snap == lesson_snapshots(lesson, Snapshot(visible=tuple(model.muscles)))[2]
    code, _, err = _run(capsys, "lesson", "knee_lift", "--step", "9")
    assert code == 2 and f"steps 1..{len(lesson.steps)}" in err
    code, _, err = _run(capsys, "lesson", "no_such")
    assert code == 2 and "no lesson 'no_such'" in err and "knee_lift" in err


def test_a_lesson_handout_prints_each_step_with_its_picture_and_the_engines_words(
    model, tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """`hipflex handout --lesson` writes a PDF: per step its heading, a picture (ink in the
    left column beside each heading), the question and the engine's statements at that pose,
    as searchable text; then caveats, sources and attribution. Options that a lesson sets
    itself are refused, and an existing file is kept without --force."""
    import subprocess

    import numpy as np
    from PIL import Image

    from hipflex.media.lesson_handout import make_lesson_handout

    lesson = load_lessons()["two_joint_flexors"]
    steps: list[float] = []
    path = make_lesson_handout(tmp_path / "l.pdf", lesson.id, model=model,
                               progress=lambda f, _m: steps.append(f))  # fmt: skip
    assert steps[0] == 0 and steps[-1] == 1 and steps == sorted(steps)
    flat = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())  # fmt: skip
    assert lesson.title in flat and "Rigid tendons" in flat and "Visible Human" in flat
    for n, step in enumerate(lesson.steps, 1):
        assert f"Step {n}: {step.title}" in flat
        assert " ".join(step.text.split()) in flat
        said = model.explain(step.pose.hip_flexion, step.pose.knee_flexion)
        assert " ".join(said[0]["text"].split()) in flat  # the engine's words at that pose
    assert "In red: Rectus femoris: moment arm" in flat  # the caption, as text
    # the pictures: the left column below the title has the rendered anatomy on every page
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p*.png"))
    assert len(pages) >= 2
    page = np.asarray(Image.open(pages[0]).convert("RGB")).astype(int)
    h, w = page.shape[:2]
    left = page[int(0.2 * h) : int(0.8 * h), int(0.08 * w) : int(0.45 * w)]
    coloured = (left.max(axis=-1) - left.min(axis=-1)) > 40
    assert coloured.mean() > 0.03, "no pictures beside the steps"
    # the command line: a lesson sets its own poses; the file is not overwritten without --force
    code, _, err = _run(capsys, "handout", "--lesson", lesson.id, "--poses", "0,90", "-o",
                        str(tmp_path / "x.pdf"))  # fmt: skip
    assert code == 2 and "--poses" in err and not (tmp_path / "x.pdf").exists()
    before = path.read_bytes()
    code, _, err = _run(capsys, "handout", "--lesson", lesson.id, "-o", str(path))
    assert code == 2 and "--force" in err and path.read_bytes() == before


def test_a_lesson_handout_names_a_steps_knee_drive_and_cites_it(model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On paper there is no Task tab: the knee-lift lesson's sprint step says which drive it
    sets, with its source, the drive's words and caveat follow, and the study is among the
    sources; the picture's colour legend says the activation is for the drive."""
    import subprocess

    from hipflex.media.lesson_handout import make_lesson_handout
    from hipflex.scene.colours import legend

    path = make_lesson_handout(tmp_path / "k.pdf", "knee_lift", model=model)
    flat = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())  # fmt: skip
    assert "Knee drive: Sprint at top speed, 179.8 rad/s² (Alt et al. 2024)" in flat
    assert "Driving the knee up from here at 179.8 rad/s^2" in flat and "force-velocity" in flat
    assert "Alt T, Komnik I, Ryan LJ, Clark KP (2024)" in flat
    assert flat.count("Knee drive: ") == 2  # the sprint step's line and the caveat, nothing else
    held, driven = legend("activation"), legend("activation", 179.8)
    assert held is not None and driven is not None
    assert (held.title, driven.title) == ("Activation (hold task)", "Activation (knee drive)")


def test_the_window_exports_the_chosen_lesson_as_a_handout(qtbot, lesson_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    from hipflex.gui.exports import export_lesson_handout

    w = lesson_window
    w.lesson_panel.choose("two_joint_flexors")
    out = export_lesson_handout(w, tmp_path / "t.pdf", w.lesson_panel.lesson.id, paper="letter")
    assert out == tmp_path / "t.pdf" and not w.errors
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "Rectus femoris: one muscle, two joints" in info and "612 x 792" in info
    assert w.findChild(type(w.act_undo), "actExportLessonHandout") is not None


def _opened(qtbot, model):  # type: ignore[no-untyped-def]
    """A window as the user gets it: settings restored, shown and exposed."""
    from hipflex.gui.window import MainWindow

    w = MainWindow(model, quiet=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_a_layout_saved_before_the_lesson_tab_opens_on_the_pose_tab(qtbot, model) -> None:  # type: ignore[no-untyped-def]
    """A dock layout saved by a version without the Lesson tab is not restored (Qt's layout
    version): restored, it put the new tab in front of the pose panel at the next start."""
    from hipflex.gui.window import settings

    old = _opened(qtbot, model)
    old._docks["Lesson"].raise_()
    state = old.saveState(0)  # as saved before the Lesson tab
    old.close()  # (which saves its own layout)
    settings().setValue("window_state", state)
    settings().sync()
    w = _opened(qtbot, model)
    assert not w._docks["Pose"].visibleRegion().isEmpty()
    assert w._docks["Lesson"].visibleRegion().isEmpty()
    # the layout saved now (Lesson in front) comes back as it was
    w._docks["Lesson"].raise_()
    w.close()
    w = _opened(qtbot, model)
    assert not w._docks["Lesson"].visibleRegion().isEmpty()
    w.close()
