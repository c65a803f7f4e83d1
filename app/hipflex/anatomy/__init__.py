"""Curated anatomy data (anatomy_data/*.toml): schema, loading and validation.

Every file is validated at load; an error names the file, the key and the problem.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hipflex.config import data_dir
from hipflex.errors import DataError

BodyId = Literal["pelvis", "femur_r", "tibia_r", "patella_r"]
Vec3 = Annotated[list[float], Field(min_length=3, max_length=3)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coordinate(_Strict):
    id: str
    axis: Literal["x", "y", "z", "-x", "-y", "-z"]
    range: Annotated[list[float], Field(min_length=2, max_length=2)]
    default: float
    positive: str

    @model_validator(mode="after")
    def _range_ordered(self) -> Coordinate:
        lo, hi = self.range
        if not lo < hi or not lo <= self.default <= hi:
            raise ValueError(f"range {self.range} must be increasing and contain default")
        return self


class ContactRegion(_Strict):
    """A named part of a bone where the other bone of a joint can meet it (bony impingement).

    A contact point is named by the region whose ``direction`` (from the joint centre, in the
    body's frame) it lies closest to, among the regions whose ``distance`` band holds it.
    """

    id: str
    body: BodyId
    name: str  # in a sentence: "the anterior inferior iliac spine and the front of the rim"
    short: str  # in the status bar: "front of the socket"
    direction: Vec3
    distance: Annotated[list[float], Field(min_length=2, max_length=2)] = [0.0, 0.2]  # m
    note: str = ""  # what clinicians call a contact here, cited in ``references``
    references: list[str] = []

    @model_validator(mode="after")
    def _sound(self) -> ContactRegion:
        if sum(x * x for x in self.direction) < 1e-12:
            raise ValueError("direction must not be the zero vector")
        lo, hi = self.distance
        if not 0 <= lo < hi:
            raise ValueError(f"distance {self.distance} must be increasing and not negative (m)")
        return self


class Joint(_Strict):
    id: str
    parent: BodyId
    child: BodyId
    centre: str
    coordinate: list[Coordinate]
    contact_region: list[ContactRegion] = []

    @model_validator(mode="after")
    def _regions_on_its_bodies(self) -> Joint:
        for n, r in enumerate(self.contact_region):
            if r.body not in (self.parent, self.child):
                raise ValueError(f"contact_region[{n}] ({r.id}): body {r.body!r} is neither "
                                 f"{self.parent!r} nor {self.child!r}")  # fmt: skip
        return self


class Coupling(_Strict):
    """A joint with no coordinate of its own: the child's pose in the parent's frame is a table
    over the driving coordinate (the patella over knee flexion). Rotation about the parent's
    -z (positive with the driver), translation of the child frame's origin from the driver
    joint's centre in the parent's x-y plane (m)."""

    id: str
    parent: BodyId
    child: BodyId
    driver: str
    rule: str
    references: list[str]
    knee_flexion: Annotated[list[float], Field(min_length=4)]  # deg, strictly increasing
    patella_flexion: list[float]  # deg
    translation: list[Annotated[list[float], Field(min_length=2, max_length=2)]]

    @model_validator(mode="after")
    def _table(self) -> Coupling:
        n = len(self.knee_flexion)
        if len(self.patella_flexion) != n or len(self.translation) != n:
            raise ValueError(f"patella_flexion and translation need one row per knee_flexion "
                             f"angle ({n})")  # fmt: skip
        if any(b <= a for a, b in zip(self.knee_flexion, self.knee_flexion[1:], strict=False)):
            raise ValueError("knee_flexion must be strictly increasing")
        steps = {round(b - a, 9) for a, b in zip(self.knee_flexion, self.knee_flexion[1:],
                                                   strict=False)}  # fmt: skip
        if len(steps) != 1:
            raise ValueError("knee_flexion must be evenly spaced")
        return self


KNEE_AXIS_REACH = 0.03  # m: an axis further from the epicondyles' midpoint leaves the condyles


class KneeAxis(_Strict):
    """Where the knee's flexion axis (along the femur's z) passes through the femur's sagittal
    plane (tibiofemoral.toml, tools/derive_knee_axis.py): its offset from the knee joint's
    centre, in the femur frame's x and y (m). The tibia turns about it."""

    id: str
    joint: str
    rule: str
    references: list[str]
    axis_offset: Annotated[list[float], Field(min_length=2, max_length=2)]  # m

    @field_validator("axis_offset")
    @classmethod
    def _within_the_condyles(cls, v: list[float]) -> list[float]:
        if not all(math.isfinite(x) and abs(x) <= KNEE_AXIS_REACH for x in v):
            raise ValueError(f"each offset must be a finite number of metres within "
                             f"{KNEE_AXIS_REACH:g} of the knee centre (inside the condyles), "
                             f"got {v}")  # fmt: skip
        return v


class Body(_Strict):
    id: BodyId
    display_name: str
    meshes: list[str]
    colour: str


class Hill(_Strict):
    max_isometric_force: Annotated[float, Field(gt=0, lt=10000)]
    optimal_fiber_length: Annotated[float, Field(gt=0.01, lt=0.6)]
    tendon_slack_length: Annotated[float, Field(gt=0, lt=0.6)]
    pennation_angle: Annotated[float, Field(ge=0, lt=45)]
    # Reference model's rigid-tendon normalised fibre length at all coordinates 0: used to
    # re-derive the tendon slack length for these bones.
    neutral_norm_fiber_length: Annotated[float, Field(gt=0.3, lt=1.8)]
    source: str
    note: str = ""


class PathPoint(_Strict):
    body: BodyId
    position: Vec3
    kind: Literal["origin", "via", "insertion"]


class Line(_Strict):
    """One line of action: ordered points fixed in bodies, and the wrap surfaces it may touch."""

    name: str
    weight: Annotated[float, Field(gt=0, le=1)]
    points: list[PathPoint]
    wraps: list[str] = []

    @model_validator(mode="after")
    def _ends(self) -> Line:
        kinds = [p.kind for p in self.points]
        if len(kinds) < 2 or kinds[0] != "origin" or kinds[-1] != "insertion":
            raise ValueError("points must start with an origin and end with an insertion")
        if any(k != "via" for k in kinds[1:-1]):
            raise ValueError("points between origin and insertion must be 'via'")
        return self


class Muscle(_Strict):
    id: str
    display_name: str
    group: Literal["iliopsoas", "other_flexors", "adductors", "abductors", "extensors", "rotators"]
    # the surface model's id in the asset pack; None for a muscle the mesh sources leave out
    # (the deep external rotators), which the scene draws as a tube along its line of action
    mesh: str | None = None
    colour: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
    origin: str
    insertion: str
    action: str
    innervation: str
    references: list[str]
    hill: Hill
    line: list[Line] = []

    @field_validator("line")
    @classmethod
    def _weights(cls, lines: list[Line]) -> list[Line]:
        if lines and abs(sum(ln.weight for ln in lines) - 1.0) > 1e-4:
            raise ValueError("line weights must add up to 1")
        return lines


class Wrap(_Strict):
    """An analytic wrap surface fixed in a body (fitted to this skeleton by a documented rule)."""

    id: str
    body: BodyId
    type: Literal["cylinder", "sphere", "ellipsoid"]
    centre: Vec3
    radius: Annotated[float, Field(gt=0, lt=0.2)]
    # a cylinder's axis: cylinders have no ends (a path that slid off an end would jump in
    # length); where a wrap counts is decided by its side and by the segment reaching it
    axis: Vec3 | None = None
    side: Vec3 | None = None  # the path stays on this side of the surface (body frame)
    note: str = ""


class Reference(_Strict):
    id: str
    citation: str
    doi: str | None = None
    url: str | None = None

    @property
    def short(self) -> str:
        """"Alt et al. 2024" from "Alt T, Komnik I, ... (2024). ...": what a label has room for."""
        authors, _, rest = self.citation.partition(" (")
        year = rest[:4] if rest[:4].isdigit() else ""
        names = [a.strip().split(" ")[0] for a in authors.split(",") if a.strip()]
        if not names or not year:
            return self.id
        lead = names[0] if len(names) == 1 else (
            f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al.")
        return f"{lead} {year}"


class KneeDrive(_Strict):
    """A measured knee drive the hold task offers as a preset (anatomy_data/knee_drives.toml):
    the thigh's angular acceleration as its source reported it, so a coach picks a sprint, not a
    number in rad/s^2."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1)
    thigh_acceleration: Annotated[float, Field(gt=0, allow_inf_nan=False)]  # deg/s^2
    reported: str = Field(min_length=1)
    references: list[str] = Field(min_length=1)
    note: str = ""

    @property
    def hip_acceleration(self) -> float:
        """The hold task's knee drive, rad/s^2."""
        return math.radians(self.thigh_acceleration)


class AnatomyData(_Strict):
    joints: list[Joint]
    bodies: list[Body]
    muscles: dict[str, Muscle]
    wraps: dict[str, Wrap]
    references: dict[str, Reference]
    bone_names: dict[str, str]
    patellofemoral: Coupling
    tibiofemoral: KneeAxis
    knee_drives: dict[str, KneeDrive] = {}

    def knee_drive_at(self, hip_acceleration: float) -> KneeDrive | None:
        """The measured knee drive with this acceleration (rad/s^2), if one has it."""
        return next((d for d in self.knee_drives.values()
                     if abs(d.hip_acceleration - hip_acceleration) < 1e-9), None)  # fmt: skip

    def knee_drive_label(self, drive: KneeDrive) -> str:
        """"Sprint at top speed, 179.8 rad/s² (Alt et al. 2024)": the drive, its figure to a
        tenth and its sources, as the Task tab lists it and a handout names it."""
        cites = "; ".join(self.references[r].short for r in drive.references)
        return f"{drive.name}, {drive.hip_acceleration:.1f} rad/s² ({cites})"


def read_toml(path: Path) -> dict[str, Any]:
    """A data file's TOML; a missing or malformed file is a DataError naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(f"{path}: file missing") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML: {exc}") from exc


def validated(model: type[BaseModel], raw: object, path: Path, prefix: str = "") -> BaseModel:
    """``raw`` validated as ``model``; the first problem is a DataError naming the file and
    the key (``prefix`` and the dotted path inside it)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        raise DataError(f"{path}: key '{key or '(top level)'}': {err['msg']}") from exc


def load_anatomy(root: Path | None = None) -> AnatomyData:
    """Load and cross-check every file under anatomy_data/ (cached per directory)."""
    return _load_cached(Path(root) if root else data_dir())


@lru_cache(maxsize=4)
def _load_cached(root: Path) -> AnatomyData:
    jp, bp, wp, rp = (
        root / n for n in ("joints.toml", "bodies.toml", "wraps.toml", "references.toml")
    )
    joints_raw, bodies_raw, wraps_raw, refs_raw = (read_toml(p) for p in (jp, bp, wp, rp))
    joints = [
        validated(Joint, j, jp, f"joint[{n}]") for n, j in enumerate(joints_raw.get("joint", []))
    ]
    bodies = [
        validated(Body, b, bp, f"body[{n}]") for n, b in enumerate(bodies_raw.get("body", []))
    ]
    wraps = [validated(Wrap, w, wp, f"wrap[{n}]") for n, w in enumerate(wraps_raw.get("wrap", []))]
    refs = [
        validated(Reference, r, rp, f"reference[{n}]")
        for n, r in enumerate(refs_raw.get("reference", []))
    ]
    ref_ids = {r.id for r in refs}  # type: ignore[attr-defined]
    for n, j in enumerate(joints):
        for k, region in enumerate(j.contact_region):  # type: ignore[attr-defined]
            _known_references(region.references, ref_ids, jp,
                              f"joint[{n}].contact_region[{k}].references", rp)  # fmt: skip
    pp = root / "patellofemoral.toml"
    patella = validated(Coupling, read_toml(pp), pp)
    assert isinstance(patella, Coupling)
    _known_references(patella.references, ref_ids, pp, "references", rp)
    knee = next((c for j in joints for c in j.coordinate if c.id == patella.driver), None)  # type: ignore[attr-defined]
    if knee is None:
        raise DataError(f"{pp}: key 'driver': unknown joint coordinate {patella.driver!r} ({jp})")
    if patella.knee_flexion[0] > knee.range[0] or patella.knee_flexion[-1] < knee.range[1]:
        raise DataError(f"{pp}: key 'knee_flexion': the table ({patella.knee_flexion[0]:g}.."
                        f"{patella.knee_flexion[-1]:g} deg) must cover the joint range "
                        f"{knee.range[0]:g}..{knee.range[1]:g} deg ({jp})")  # fmt: skip
    tibia = _knee_axis(root / "tibiofemoral.toml", joints, ref_ids, jp, rp)
    drives = _knee_drives(root / "knee_drives.toml", ref_ids, rp)
    muscles = {}
    mdir = root / "muscles"
    files = sorted(mdir.glob("*.toml"))
    if not files:
        raise DataError(f"{mdir}: no muscle files")
    wrap_ids = {w.id for w in wraps}  # type: ignore[attr-defined]
    for f in files:
        m = validated(Muscle, read_toml(f), f)
        assert isinstance(m, Muscle)
        if m.id != f.stem:
            raise DataError(f"{f}: key 'id': {m.id!r} differs from the file name {f.stem!r}")
        _known_references((*m.references, m.hill.source), ref_ids, f, "references", rp)
        for n, ln in enumerate(m.line):
            for w in ln.wraps:
                if w not in wrap_ids:
                    raise DataError(f"{f}: key 'line.{n}.wraps': unknown wrap surface {w!r} ({wp})")
        muscles[m.id] = m
    try:
        return AnatomyData(
            joints=joints, bodies=bodies, muscles=muscles,  # type: ignore[arg-type]
            wraps={w.id: w for w in wraps}, references={r.id: r for r in refs},  # type: ignore[attr-defined,misc]
            bone_names=bodies_raw.get("bone_names", {}), patellofemoral=patella,
            tibiofemoral=tibia,
            knee_drives=drives,
        )  # fmt: skip
    except ValidationError as exc:
        raise DataError(f"{root}: {exc.errors()[0]['msg']}") from exc


def _known_references(
    refs: Iterable[str], ref_ids: set[str], path: Path, key: str, refs_path: Path
) -> None:
    """Every reference id a file cites must be in references.toml: a DataError names the file,
    the key and the unknown id."""
    for r in refs:
        if r not in ref_ids:
            raise DataError(f"{path}: key '{key}': unknown reference id {r!r} ({refs_path})")


def _knee_axis(path: Path, joints: list[Any], ref_ids: set[str], jp: Path, rp: Path) -> KneeAxis:
    """The knee's flexion axis, checked against the references and the joints: it must name a
    joint whose child is the tibia."""
    axis = validated(KneeAxis, read_toml(path), path)
    assert isinstance(axis, KneeAxis)
    _known_references(axis.references, ref_ids, path, "references", rp)
    if not any(j.id == axis.joint and j.child == "tibia_r" for j in joints):
        raise DataError(f"{path}: key 'joint': {axis.joint!r} is not a joint whose child is the "
                        f"tibia ({jp})")  # fmt: skip
    return axis


def _knee_drives(path: Path, ref_ids: set[str], refs_path: Path) -> dict[str, KneeDrive]:
    """The knee-drive presets by id (the file must exist; it may list none)."""
    out: dict[str, KneeDrive] = {}
    for n, raw in enumerate(read_toml(path).get("knee_drive", [])):
        drive = validated(KneeDrive, raw, path, f"knee_drive[{n}]")
        assert isinstance(drive, KneeDrive)
        if drive.id in out:
            raise DataError(f"{path}: key 'knee_drive[{n}].id': {drive.id!r} is given twice")
        _known_references(drive.references, ref_ids, path, f"knee_drive[{n}].references",
                          refs_path)  # fmt: skip
        out[drive.id] = drive
    return out
