"""One state object for the explorer: pose, task, visible muscles, display, camera, selection.

The 3D view, the plots and every panel follow it; saved as JSON it is a session file (or a
lesson step). Pure Python (pydantic), so the CLI can read sessions without Qt. The idea is 3D
Slicer's parameter node and napari's evented models: listeners get the old and the new snapshot
and the names of the fields that changed. Snapshots are immutable, which makes undo/redo a list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from hipflex.errors import HipFlexError
from hipflex.fileio import atomic_write_text
from hipflex.model.kinematics import angle_text
from hipflex.model.limits import (
    BODY_MASS_RANGE,
    HEIGHT_RANGE,
    MAX_HIP_ACCELERATION,
    STRENGTH_RANGE,
    drive_text,
)

if TYPE_CHECKING:
    from hipflex.model.hipmodel import HipModel

SESSION_FORMAT = "hipflex-session"
SESSION_VERSION = 1
UNDO_LIMIT = 200

MuscleStyle = Literal["surface", "tube", "line"]
ColourMode = Literal["identity", "activation", "fibre_length", "moment_arm"]
ViewName = Literal["anterior", "lateral", "medial", "posterior", "superior", "oblique"]
Finite = Annotated[float, Field(allow_inf_nan=False)]

# Slider ranges of the explorer (degrees), and the poses a session file may hold: inside the joint
# ranges of anatomy_data/joints.toml, narrower where the muscle paths are less sound toward the
# joint limits. Hip flexion below -20 or above 130 deg puts tensor fasciae latae up to 12 mm,
# sartorius 8.5 mm and rectus femoris 4.5 mm inside bone (sampled at 0.5 deg). Abduction past
# 30 deg puts gluteus maximus and the hamstrings more than 2 mm inside bone at 7-20% of random
# poses, up to 17 mm, against 3-10% and up to 15 mm at 15-30 deg (session 10, 3000 poses a band).
# Internal rotation past about 32 deg with flexion past 115 deg makes gluteus maximus's path jump
# by up to 5 cm a degree, mostly beyond the ranges here (1 step in 40000 inside them). Inside
# them some paths still cut bone off the sagittal plane (docs/status.md), and far off the plane
# the femur can run into the pelvis (6% of random poses; hipflex.model.contact), which the
# explorer marks and names, and stops at only when the pose panel's option asks it to. The
# engine takes the whole joint range.
POSE_RANGES: dict[str, tuple[float, float]] = {
    "hip_flexion": (-20.0, 130.0),
    "knee_flexion": (0.0, 140.0),
    "hip_adduction": (-30.0, 30.0),
    "hip_rotation": (-40.0, 40.0),
}
# Why a range above is narrower than the joint's; said when a session or a pose is refused.
NARROWER_BECAUSE: dict[str, str] = {
    "hip_flexion": "some muscle paths cut into bone (tensor fasciae latae in extension, "
    "rectus femoris and sartorius in deep flexion)",
    "hip_adduction": "gluteus maximus and the hamstrings cut into bone more often and more deeply",
    "hip_rotation": "gluteus maximus's path jumps in deep flexion, and more paths cut into bone",
}


def range_problem(name: str, value: float) -> str | None:
    """Why ``value`` (deg) is refused for the pose coordinate ``name``, or None when it is fine.

    One wording for session files, the explorer and ``hipflex render``: the range named is the
    explorer's, with the reason it is narrower than the joint's where it is.
    """
    lo, hi = POSE_RANGES[name]
    if not math.isfinite(value):
        return f"{angle_text(value)} is not a finite number of degrees"
    if lo <= value <= hi:
        return None
    why = NARROWER_BECAUSE.get(name)
    if why is None:
        return f"{angle_text(value)} deg is outside the joint range {lo:g}..{hi:g} deg"
    return (
        f"{angle_text(value)} deg is outside the explorer's range {lo:g}..{hi:g} deg; beyond it, "
        f"toward the joint limits, {why}"
    )


# One-click poses for coaches (degrees).
POSE_PRESETS: dict[str, dict[str, float]] = {
    "standing": {"hip_flexion": 0.0, "knee_flexion": 0.0, "hip_adduction": 0.0, "hip_rotation": 0.0},
    "seated 90/90": {"hip_flexion": 90.0, "knee_flexion": 90.0, "hip_adduction": 0.0, "hip_rotation": 0.0},
    "high knee": {"hip_flexion": 110.0, "knee_flexion": 100.0, "hip_adduction": 0.0, "hip_rotation": 0.0},
    "deep flexion": {"hip_flexion": 125.0, "knee_flexion": 130.0, "hip_adduction": 0.0, "hip_rotation": 0.0},
}  # fmt: skip


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Pose(_Frozen):
    """Joint angles in degrees (conventions in anatomy_data/joints.toml)."""

    hip_flexion: Finite = 0.0
    knee_flexion: Finite = 0.0
    hip_adduction: Finite = 0.0
    hip_rotation: Finite = 0.0

    @field_validator("hip_flexion", "knee_flexion", "hip_adduction", "hip_rotation")
    @classmethod
    def _in_range(cls, v: float, info: Any) -> float:
        problem = range_problem(info.field_name, v)
        if problem is not None:
            raise ValueError(problem)
        return float(v)

    def as_dict(self) -> dict[str, float]:
        return self.model_dump()


class Display(_Frozen):
    """How the scene is drawn."""

    muscle_style: MuscleStyle = "surface"
    colour_by: ColourMode = "identity"
    bone_opacity: Annotated[float, Field(ge=0.05, le=1.0)] = 1.0
    labels: bool = False
    show_moment_arm: bool = True
    show_lines: bool = True
    # the pose panel stops a hip move where the femur would run into the pelvis (bone contact,
    # hipflex.model.contact); off, the move goes on and the contact is marked and named
    stop_at_bone_contact: bool = False


class Camera(_Frozen):
    """A camera; ``view`` names the preset it came from (None once the user moved it)."""

    view: ViewName | None = "oblique"
    position: tuple[Finite, Finite, Finite] | None = None
    focal_point: tuple[Finite, Finite, Finite] | None = None
    up: tuple[Finite, Finite, Finite] | None = None
    zoom: Annotated[float, Field(gt=0.01, lt=100)] = 1.0


NAMED_STRENGTHS = 3  # a task's summary names up to this many changed strengths


def _strength_in_range(v: float) -> float:
    lo, hi = STRENGTH_RANGE
    if not lo <= v <= hi:
        raise ValueError(f"{v:g} is outside {lo:g}..{hi:g} ({100 * lo:g}..{100 * hi:g}% of the "
                         "muscle's peak force)")  # fmt: skip
    return float(v)


def _readonly(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise TypeError("a snapshot's strengths cannot change in place; use AppState.set_task")


class Strengths(dict[str, float]):
    """Muscle id -> strength fraction, read-only (snapshots are immutable, undo relies on it).

    Only entries that differ from full strength (1.0) are kept, in id order, so two snapshots
    with the same strengths compare and save the same way.
    """

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _readonly

    def __init__(self, items: Mapping[str, float] | None = None) -> None:
        super().__init__(sorted((m, float(f)) for m, f in (items or {}).items() if f != 1.0))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))

    def __reduce__(self) -> tuple[type[Strengths], tuple[dict[str, float]]]:
        return Strengths, (dict(self),)


def _range_check(what: str, unit: str, bounds: tuple[float, float]) -> Callable[[float], float]:
    lo, hi = bounds

    def check(v: float) -> float:
        if not lo <= v <= hi:
            raise ValueError(f"{v:g} {unit} is outside {lo:g}..{hi:g} {unit} ({what})")
        return float(v)

    return check


BodyMass = Annotated[
    Finite,
    AfterValidator(_range_check("the body masses the hold task accepts", "kg", BODY_MASS_RANGE)),
]
Height = Annotated[
    Finite, AfterValidator(_range_check("the heights the hold task accepts", "m", HEIGHT_RANGE))
]
HipAcceleration = Annotated[Finite, AfterValidator(_range_check(
    "the knee drives the hold task accepts", "rad/s^2", (-MAX_HIP_ACCELERATION, MAX_HIP_ACCELERATION)
))]  # fmt: skip


class Task(_Frozen):
    """The "hold the leg here" task the engine solves: the subject, muscle strengths and an
    optional knee drive. Limits are the engine's (hipflex.model.segments, hipmodel).

    ``body_mass`` (kg) and ``height`` (m) scale the leg's weight and inertia; ``strength`` maps a
    muscle id to a fraction of its peak force (0..2; muscles not named are at 1.0);
    ``hip_acceleration`` (rad/s^2, 0 = hold still) adds the moment of a fast knee drive.
    """

    body_mass: BodyMass = 75.0
    height: Height = 1.75
    hip_acceleration: HipAcceleration = 0.0
    strength: Annotated[
        dict[str, Annotated[Finite, AfterValidator(_strength_in_range)]], AfterValidator(Strengths)
    ] = Strengths()

    def fraction(self, muscle: str) -> float:
        """Strength of ``muscle`` as a fraction of its peak force (1.0 unless set)."""
        return self.strength.get(muscle, 1.0)

    @property
    def is_default(self) -> bool:
        return self == Task()

    def apply_to(self, model: HipModel) -> None:
        """Give ``model`` this subject and these strengths (``hip_acceleration`` is an argument
        of ``at()``, ``sweep()`` and ``explain()``, so it is passed, not stored)."""
        model.body_mass = self.body_mass
        model.height = self.height
        if model.strength != self.strength:
            model.strength = dict(self.strength)

    def words(self, names: Mapping[str, str] | None = None, drive: bool = True) -> str:
        """What differs from the default task, in a few words ("" when nothing does), e.g.
        ``82 kg, 1.80 m; Psoas major 50%; knee drive 40 rad/s²``. More than ``NAMED_STRENGTHS``
        changed strengths are counted, not named; ``drive=False`` leaves the knee drive out."""
        default = Task()
        parts = []
        if (self.body_mass, self.height) != (default.body_mass, default.height):
            parts.append(f"{self.body_mass:g} kg, {self.height:.2f} m")
        if len(self.strength) > NAMED_STRENGTHS:
            parts.append(f"{len(self.strength)} muscle strengths changed")
        elif self.strength:
            parts.append(", ".join(f"{(names or {}).get(m, m)} {100 * f:.0f}%"
                                   for m, f in self.strength.items()))  # fmt: skip
        if drive and self.hip_acceleration:
            parts.append(f"knee drive {drive_text(self.hip_acceleration, 'rad/s²')}")
        return "; ".join(parts)


def _selection(v: str | None) -> str | None:
    if v is not None and not (v.startswith("muscle:") or v.startswith("bone:")):
        raise ValueError(f"expected 'muscle:<id>' or 'bone:<id>', got {v!r}")
    return v


Selection = Annotated[str | None, AfterValidator(_selection)]  # "muscle:<id>" or "bone:<id>"


class Snapshot(_Frozen):
    """Everything the explorer shows, at one instant."""

    pose: Pose = Pose()
    task: Task = Task()
    visible: tuple[str, ...] = ()
    display: Display = Display()
    camera: Camera = Camera()
    selection: Selection = None
    plotted: tuple[str, ...] = ("iliacus", "psoas", "rectus_femoris", "tensor_fasciae_latae")
    playing: bool = False


# Fields whose changes are undoable; the camera, the selection and playback are not.
UNDOABLE = frozenset({"pose", "task", "visible", "display", "plotted"})
Listener = Callable[[Snapshot, Snapshot, frozenset[str]], None]


class AppState:
    """The current snapshot, its listeners and the undo/redo history.

    ``merge`` lets a slider drag become one undo step: consecutive updates with the same merge
    key replace the top of the undo stack instead of pushing a new entry.
    """

    def __init__(
        self, snapshot: Snapshot | None = None, muscles: Iterable[str] | None = None
    ) -> None:
        self.known_muscles: tuple[str, ...] = tuple(muscles) if muscles is not None else ()
        snap = snapshot or Snapshot(visible=self.known_muscles)
        self._check_muscles(snap)
        self._snap = snap
        self._undo: list[Snapshot] = []
        self._redo: list[Snapshot] = []
        self._merge_key: str | None = None
        self._listeners: list[Listener] = []

    # -- reading ------------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snap

    @property
    def pose(self) -> Pose:
        return self._snap.pose

    @property
    def display(self) -> Display:
        return self._snap.display

    @property
    def task(self) -> Task:
        return self._snap.task

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    # -- listening ----------------------------------------------------------------------------
    def connect(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- changing -----------------------------------------------------------------------------
    def _check_muscles(self, snap: Snapshot) -> None:
        if not self.known_muscles:
            return
        known = set(self.known_muscles)
        unknown = [m for m in (*snap.visible, *snap.plotted) if m not in known]
        sel = snap.selection
        if sel and sel.startswith("muscle:") and sel[7:] not in known:
            unknown.append(sel[7:])
        if unknown:
            raise HipFlexError(f"unknown muscle id(s): {', '.join(sorted(set(unknown)))}")
        problem = _unknown_strengths(snap, known)
        if problem:
            raise HipFlexError(problem)

    def replace(self, snap: Snapshot, merge: str | None = None, undoable: bool = True) -> None:
        """Make ``snap`` current and tell the listeners what changed."""
        self._check_muscles(snap)
        old = self._snap
        changed = frozenset(k for k in Snapshot.model_fields if getattr(old, k) != getattr(snap, k))
        if not changed:
            return
        if undoable and changed & UNDOABLE:
            if merge is None or merge != self._merge_key or not self._undo:
                self._undo.append(old)
                del self._undo[:-UNDO_LIMIT]
            self._redo.clear()
            self._merge_key = merge
        self._snap = snap
        self._emit(old, snap, changed)

    def update(self, merge: str | None = None, **fields: Any) -> None:
        """Change top-level fields, e.g. ``update(selection="muscle:iliacus")``."""
        try:
            snap = Snapshot.model_validate({**self._snap.model_dump(), **_dump(fields)})
        except ValidationError as exc:
            raise HipFlexError(_first_error(exc, "state")) from exc
        self.replace(snap, merge=merge)

    def set_pose(self, merge: str | None = None, **angles: Any) -> None:
        """Change joint angles (degrees); out-of-range or NaN values raise HipFlexError."""
        self.update(merge=merge, pose={**self._snap.pose.model_dump(), **angles})

    def set_display(self, merge: str | None = None, **options: Any) -> None:
        self.update(merge=merge, display={**self._snap.display.model_dump(), **options})

    def set_task(self, merge: str | None = None, **fields: Any) -> None:
        """Change the hold task: ``body_mass`` (kg), ``height`` (m), ``hip_acceleration``
        (rad/s^2) or ``strength`` (the whole map, muscle id -> fraction 0..2). Bad values raise
        HipFlexError naming the key, and change nothing."""
        self.update(merge=merge, task={**self._snap.task.model_dump(), **fields})

    def set_strength(self, muscle: str, fraction: float, merge: str | None = None) -> None:
        """One muscle's strength (fraction of its peak force, 0..2); the others stay."""
        self.set_task(merge=merge, strength={**self._snap.task.strength, muscle: fraction})

    def set_camera(self, **camera: Any) -> None:
        """Camera moves are not undo steps (the user can always pick a preset again)."""
        try:
            cam = Camera.model_validate({**self._snap.camera.model_dump(), **camera})
        except ValidationError as exc:
            raise HipFlexError(_first_error(exc, "camera")) from exc
        self.replace(self._snap.model_copy(update={"camera": cam}), undoable=False)

    def set_visible(self, muscles: Iterable[str], merge: str | None = None) -> None:
        order = self.known_muscles or tuple(muscles)
        chosen = set(muscles)
        self.update(merge=merge, visible=tuple(m for m in order if m in chosen))

    def end_merge(self) -> None:
        """Close the current merge group (e.g. when a slider is released)."""
        self._merge_key = None

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self._snap)
        self._restore(self._undo.pop())
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self._snap)
        self._restore(self._redo.pop())
        return True

    def _restore(self, target: Snapshot) -> None:
        # keep the current camera and playback: undo is about pose and display
        snap = target.model_copy(
            update={"camera": self._snap.camera, "playing": self._snap.playing}
        )
        old, self._snap = self._snap, snap
        self._merge_key = None
        changed = frozenset(k for k in Snapshot.model_fields if getattr(old, k) != getattr(snap, k))
        if changed:
            self._emit(old, snap, changed)

    def _emit(self, old: Snapshot, new: Snapshot, changed: frozenset[str]) -> None:
        for listener in list(self._listeners):
            listener(old, new, changed)

    # -- files --------------------------------------------------------------------------------
    def to_json(self) -> str:
        return snapshot_to_json(self._snap)

    def save(self, path: Path) -> None:
        save_session(path, self._snap)

    def load(self, path: Path) -> None:
        """Open a session file; a bad file raises HipFlexError and changes nothing."""
        snap = load_session(path, self.known_muscles)
        self.replace(snap)


def _dump(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in fields.items()}


def _unknown_strengths(snap: Snapshot, known: set[str]) -> str | None:
    unknown = sorted(m for m in snap.task.strength if m not in known)
    if not unknown:
        return None
    return (f"key 'task.strength': unknown muscle id(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})")  # fmt: skip


def _first_error(exc: ValidationError, where: str) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    # a validator's own message, without pydantic's "Value error, " in front
    msg = str(err["ctx"]["error"]) if err["type"] == "value_error" else err["msg"]
    return f"{where}: key {key!r}: {msg}"


def snapshot_to_json(snap: Snapshot) -> str:
    payload = {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "state": snap.model_dump(mode="json"),
    }
    return json.dumps(payload, indent=2) + "\n"


def snapshot_from_json(text: str, source: str = "session", muscles: Iterable[str] = ()) -> Snapshot:
    """Parse and validate a session; errors name the file, the key and the problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HipFlexError(f"{source}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise HipFlexError(
            f'{source}: not a HipFlex session (missing "format": "{SESSION_FORMAT}")'
        )
    if data.get("version") != SESSION_VERSION:
        raise HipFlexError(
            f"{source}: session version {data.get('version')!r} is not supported (expected {SESSION_VERSION})"
        )
    try:
        snap = Snapshot.model_validate(data.get("state", {}))
    except ValidationError as exc:
        raise HipFlexError(_first_error(exc, source)) from exc
    known = set(muscles)
    if known:
        unknown = sorted({m for m in (*snap.visible, *snap.plotted) if m not in known})
        if unknown:
            raise HipFlexError(
                f"{source}: key 'visible'/'plotted': unknown muscle id(s) {', '.join(unknown)}"
            )
        problem = _unknown_strengths(snap, known)
        if problem:
            raise HipFlexError(f"{source}: {problem}")
    return snap


def load_session(path: Path, muscles: Iterable[str] = ()) -> Snapshot:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HipFlexError(f"{path}: cannot read session ({exc})") from exc
    return snapshot_from_json(text, str(path), muscles)


def save_session(path: Path, snap: Snapshot) -> None:
    """Atomic write: a temporary file in the same folder, then rename."""
    atomic_write_text(Path(path), snapshot_to_json(snap))
