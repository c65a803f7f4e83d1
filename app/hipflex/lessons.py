"""Lessons: a titled sequence of steps, each a pose and a way of showing it, to step through.

A step says where to look and what to ask; it never states a result. The figures a coach or a
student reads at each step come from the engine at that pose (the "why" panel in the window,
``hipflex lesson ID`` on the command line), so a lesson cannot drift from the model. Lessons
live in ``anatomy_data/lessons/*.toml`` and are validated at load: an error names the file, the
key and the problem. Pure Python (pydantic), like the state they produce.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hipflex.config import data_dir
from hipflex.errors import DataError
from hipflex.state import (
    Camera,
    ColourMode,
    MuscleStyle,
    Pose,
    Selection,
    Snapshot,
    Task,
    ViewName,
)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LessonStep(_Strict):
    """One step: the pose, and optionally the view, colouring, muscles and selection."""

    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    pose: Pose  # angles left out are 0 (standing), so a step means the same from any start
    view: ViewName | None = None
    colour_by: ColourMode | None = None
    muscle_style: MuscleStyle | None = None
    labels: bool | None = None
    show: tuple[str, ...] | None = None  # muscle ids; None keeps what is shown
    select: Selection = None
    plot: tuple[str, ...] | None = None  # muscle ids for the curves
    hip_acceleration: float | None = Field(default=None, ge=0.0)  # knee drive, rad/s^2
    # or a measured knee drive by id (anatomy_data/knee_drives.toml); loading turns it into
    # hip_acceleration, so a lesson and the Task tab use the same figure
    knee_drive: str | None = None

    @model_validator(mode="after")
    def _one_drive(self) -> LessonStep:
        if self.knee_drive is not None and self.hip_acceleration is not None:
            raise ValueError("give hip_acceleration or knee_drive, not both")
        return self


class Lesson(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=1)
    audience: str = ""
    summary: str = ""
    step: tuple[LessonStep, ...] = Field(min_length=1)

    @property
    def steps(self) -> tuple[LessonStep, ...]:
        return self.step


def step_snapshot(step: LessonStep, base: Snapshot) -> Snapshot:
    """The snapshot ``base`` becomes at ``step``: the step's pose always; its view, display
    options, muscles, selection and knee drive where it gives them; everything else kept."""
    display = base.display.model_copy(update={
        k: v for k, v in (("colour_by", step.colour_by), ("muscle_style", step.muscle_style),
                          ("labels", step.labels)) if v is not None
    })  # fmt: skip
    fields: dict[str, Any] = {"pose": step.pose, "display": display}
    if step.view is not None:
        fields["camera"] = Camera(view=step.view)
    if step.show is not None:
        fields["visible"] = step.show
    if step.select is not None:
        fields["selection"] = step.select
    if step.plot is not None:
        fields["plotted"] = step.plot
    if step.hip_acceleration is not None:
        fields["task"] = Task.model_validate(
            {**base.task.model_dump(), "hip_acceleration": step.hip_acceleration}
        )
    return base.model_copy(update=fields)


def lesson_snapshots(lesson: Lesson, base: Snapshot) -> list[Snapshot]:
    """Each step's snapshot when the lesson is stepped through from ``base``: a step keeps what
    earlier steps set and it does not (the window's Next does the same)."""
    out, snap = [], base
    for step in lesson.steps:
        snap = step_snapshot(step, snap)
        out.append(snap)
    return out


def _check_ids(lesson: Lesson, path: Path, muscles: set[str], bones: set[str]) -> None:
    for n, s in enumerate(lesson.step):
        for key, ids in (("show", s.show or ()), ("plot", s.plot or ())):
            unknown = sorted(set(ids) - muscles)
            if unknown:
                raise DataError(f"{path}: key 'step.{n}.{key}': unknown muscle id(s) "
                                f"{', '.join(unknown)}")  # fmt: skip
        if s.select is not None:
            kind, _, ident = s.select.partition(":")
            if ident not in (muscles if kind == "muscle" else bones):
                raise DataError(f"{path}: key 'step.{n}.select': unknown {kind} id {ident!r}")


def load_lesson(path: Path, muscles: set[str], bones: set[str],
                drives: dict[str, float] | None = None) -> Lesson:  # fmt: skip
    """One lesson file, validated; the muscle, bone and knee-drive ids it names must exist.
    ``drives`` maps knee-drive ids to rad/s^2 (anatomy_data/knee_drives.toml)."""
    from hipflex.anatomy import read_toml, validated

    lesson = validated(Lesson, read_toml(Path(path)), Path(path))
    assert isinstance(lesson, Lesson)
    if lesson.id != Path(path).stem:
        raise DataError(f"{path}: key 'id': {lesson.id!r} differs from the file name")
    _check_ids(lesson, Path(path), muscles, bones)
    return _with_drives(lesson, Path(path), drives or {})


def _with_drives(lesson: Lesson, path: Path, drives: dict[str, float]) -> Lesson:
    """Each step's ``knee_drive`` id resolved to its ``hip_acceleration``."""
    steps = []
    for n, s in enumerate(lesson.step):
        if s.knee_drive is not None:
            if s.knee_drive not in drives:
                known = ", ".join(sorted(drives)) or "none"
                raise DataError(f"{path}: key 'step.{n}.knee_drive': unknown knee drive "
                                f"{s.knee_drive!r} (known: {known})")  # fmt: skip
            s = s.model_copy(update={"hip_acceleration": drives[s.knee_drive]})
        steps.append(s)
    return lesson.model_copy(update={"step": tuple(steps)})


def load_lessons(root: Path | None = None) -> dict[str, Lesson]:
    """Every lesson under ``anatomy_data/lessons`` (cached per folder), in file-name order."""
    return dict(_load_cached(Path(root) if root else data_dir()))


@lru_cache(maxsize=4)
def _load_cached(root: Path) -> tuple[tuple[str, Lesson], ...]:
    from hipflex.anatomy import load_anatomy

    anatomy = load_anatomy(root)
    bones = set(anatomy.bone_names)  # "bone:<id>" names a bone mesh, as picking does
    drives = {k: d.hip_acceleration for k, d in anatomy.knee_drives.items()}
    out = []
    for f in sorted((root / "lessons").glob("*.toml")):
        lesson = load_lesson(f, set(anatomy.muscles), bones, drives)
        out.append((lesson.id, lesson))
    return tuple(out)
