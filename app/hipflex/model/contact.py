"""Bone against bone at the hip: whether, where and how deeply the pelvis and the femur overlap.

The femur turns about a fixed hip centre and nothing in the kinematics stops it, so toward the
edges of the joint range the model's bones pass into each other where a real hip would stop
(bony impingement: the femoral neck against the front of the socket in flexion with adduction
and internal rotation, the lesser trochanter against the ischium in extension with adduction
and external rotation). This module measures that overlap so the explorer and the "why" can say
so, and finds the flexion at which the bones meet for a given adduction and rotation.

Surface points of the hip bone near the joint are sampled from the pack's distance grid and
looked up in the femur's distance grid at each pose: pure numpy/scipy, vectorised over poses.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hipflex.errors import DataError
from hipflex.model.kinematics import Skeleton, body_transforms

if TYPE_CHECKING:
    from hipflex.anatomy import ContactRegion
    from hipflex.model.skeleton import BoneDistance, ModelContext

Array = NDArray[np.float64]
# Overlap (m) read as bone meeting bone. Below it lie the meshes' own fit (the femoral head sits
# 0.9 mm into the socket's surface at 0 deg) and the sampling: surface points every 3 mm
# underestimate the deepest overlap by at most 1.7 mm against every 1.5 mm grid point (400
# poses at the joint limits, session 15). The same 2 mm as for muscle paths inside bone.
CONTACT_TOLERANCE = 0.002
SAMPLE_STRIDE = 2  # distance-grid steps between sampled pelvis surface points (1.5 mm each)
REACH = 0.1  # m: hip-bone surface this close to the hip centre can meet the proximal femur
SEARCH_STEP = 5.0  # deg: grid on which the free flexion range is first bracketed ...
BISECTIONS = 9  # ... then refined to SEARCH_STEP / 2**9 = 0.01 deg
FREE_CACHE = 64  # (adduction, rotation) pairs whose free flexion range is remembered


@dataclass(frozen=True)
class ContactResult:
    """Per pose: the signed clearance between the bones and where it is least.

    ``clearance`` is the least distance (m) from the sampled hip-bone surface to the femur,
    negative where the bones overlap; ``point`` (model frame, m) is that surface point.
    """

    clearance: Array  # (n,)
    point: Array  # (n, 3)
    pelvis_region: tuple[ContactRegion, ...]
    femur_region: tuple[ContactRegion, ...]

    @property
    def overlap(self) -> Array:
        """How far (m) the bones run into each other; 0 where they are apart."""
        return np.clip(-self.clearance, 0.0, None)

    @property
    def touching(self) -> NDArray[np.bool_]:
        """Poses where bone meets bone: overlap beyond ``CONTACT_TOLERANCE``."""
        return self.overlap > CONTACT_TOLERANCE

    @property
    def depth(self) -> Array:
        """The overlap (m) where bone meets bone, 0 elsewhere: what the views show and the
        pose panel's stop compares."""
        overlap = self.overlap
        return np.where(overlap > CONTACT_TOLERANCE, overlap, 0.0)


@dataclass(frozen=True)
class FlexionRange:
    """The hip flexion (deg) reachable from 0 deg at one adduction and rotation before bone
    meets bone. ``lowest``/``highest`` is the joint range's end where no contact comes first;
    ``None`` for both when the bones already meet at 0 deg flexion."""

    lowest: float | None
    highest: float | None
    lowest_is_contact: bool
    highest_is_contact: bool


class BoneContact:
    """The pelvis-femur overlap at any pose of the hip (the knee does not matter)."""

    def __init__(self, skeleton: Skeleton, pelvis_points: Array, femur: BoneDistance,
                 regions: list[ContactRegion]) -> None:  # fmt: skip
        self.skeleton = skeleton
        self.points = np.ascontiguousarray(pelvis_points, float)  # (m, 3), pelvis frame
        self.femur = femur
        self.regions = {body: [r for r in regions if r.body == body] for body in ("pelvis", "femur_r")}
        self._lookup: dict[str, tuple[Array, Array]] = {}  # body -> (unit directions, bands)
        for body, found in self.regions.items():
            if not found:
                raise DataError(f"anatomy_data/joints.toml: key 'joint.contact_region': none on "
                                f"{body!r}, so a contact there could not be named")  # fmt: skip
            dirs = np.array([r.direction for r in found], float)
            self._lookup[body] = (dirs / np.linalg.norm(dirs, axis=1, keepdims=True),
                                  np.array([r.distance for r in found], float))  # fmt: skip
        self._free: OrderedDict[tuple[float, float], FlexionRange] = OrderedDict()
        self._last: tuple[tuple[float, float, float], ContactResult] | None = None

    @classmethod
    def from_context(cls, ctx: ModelContext) -> BoneContact:
        """Sample the hip bone's surface near the joint from the pelvis distance grid."""
        pelvis = ctx.bone_distance["pelvis"]
        grid = pelvis.values[::SAMPLE_STRIDE, ::SAMPLE_STRIDE, ::SAMPLE_STRIDE]
        half = 0.5 * pelvis.pitch
        idx = np.argwhere((grid >= -half) & (grid < half)) * SAMPLE_STRIDE
        points = pelvis.origin + idx * pelvis.pitch
        near = np.linalg.norm(points - ctx.skeleton.hip_centre, axis=1) < REACH
        hip = next(j for j in ctx.anatomy.joints if j.child == "femur_r")
        return cls(ctx.skeleton, points[near], ctx.bone_distance["femur_r"], hip.contact_region)

    def at(self, hip_flexion: ArrayLike = 0.0, hip_adduction: ArrayLike = 0.0,
           hip_rotation: ArrayLike = 0.0) -> ContactResult:  # fmt: skip
        """Clearance and contact place at each pose (angles in degrees, broadcast together);
        the angles are not checked here (the model facade does that)."""
        single = all(np.ndim(a) == 0 for a in (hip_flexion, hip_adduction, hip_rotation))
        key = (float(hip_flexion), float(hip_adduction), float(hip_rotation)) if single else None  # type: ignore[arg-type]
        if key is not None and self._last is not None and self._last[0] == key:
            return self._last[1]  # the scene, the status bar and the "why" ask for one pose
        femur = body_transforms(self.skeleton, hip_flexion, hip_adduction, hip_rotation)["femur_r"]
        rot, origin = femur[:, :3, :3], femur[:, :3, 3]
        # pelvis points in the femur frame: R^T (p - o)
        local = np.einsum("nji,nmj->nmi", rot, self.points[None] - origin[:, None])
        dist = self.femur(local)  # (n, m)
        deepest = np.argmin(dist, axis=1)
        rows = np.arange(dist.shape[0])
        point = self.points[deepest]
        result = ContactResult(
            clearance=dist[rows, deepest].astype(float),
            point=point,
            pelvis_region=self._name("pelvis", point - self.skeleton.hip_centre),
            femur_region=self._name("femur_r", local[rows, deepest]),
        )
        if key is not None:
            self._last = (key, result)
        return result

    def _name(self, body: str, offsets: Array) -> tuple[ContactRegion, ...]:
        """The region of ``body`` each offset (from the hip centre, that body's frame) lies in."""
        regions = self.regions[body]
        dirs, bands = self._lookup[body]
        r = np.linalg.norm(offsets, axis=1)
        cos = offsets @ dirs.T / np.maximum(r, 1e-12)[:, None]
        inside = (r[:, None] >= bands[:, 0]) & (r[:, None] < bands[:, 1])
        cos = np.where(inside, cos, -2.0 + cos)  # outside every band: still the nearest direction
        return tuple(regions[int(k)] for k in np.argmax(cos, axis=1))

    def forget(self) -> None:
        """Drop the remembered poses and free ranges (so a benchmark times the work)."""
        self._free.clear()
        self._last = None

    def free_flexion(self, hip_adduction: float = 0.0, hip_rotation: float = 0.0) -> FlexionRange:
        """How far the hip can flex and extend from 0 deg at this adduction and rotation before
        bone meets bone (impingement-free range), within the joint's flexion range."""
        key = (float(hip_adduction), float(hip_rotation))
        if key in self._free:
            self._free.move_to_end(key)
            return self._free[key]
        lo, hi = self.skeleton.ranges["hip_flexion"]
        grid = np.unique(np.concatenate([np.arange(0.0, hi, SEARCH_STEP), [hi],
                                         -np.arange(0.0, -lo, SEARCH_STEP), [lo]]))  # fmt: skip
        touching = self.at(grid, hip_adduction, hip_rotation).touching
        zero = int(np.flatnonzero(grid == 0.0)[0])
        if touching[zero]:
            found = FlexionRange(None, None, True, True)
        else:
            up = self._limit(grid[zero:], touching[zero:], key)
            down = self._limit(grid[zero::-1], touching[zero::-1], key)
            found = FlexionRange(down[0], up[0], down[1], up[1])
        self._free[key] = found
        if len(self._free) > FREE_CACHE:
            self._free.popitem(last=False)
        return found

    def _limit(self, angles: Array, touching: NDArray[np.bool_],
               key: tuple[float, float]) -> tuple[float, bool]:  # fmt: skip
        """Walking out from 0 deg along ``angles``: the last angle clear of contact (bisected
        between the grid angles either side of the first contact), and whether contact ends it."""
        hit = np.flatnonzero(touching)
        if hit.size == 0:
            return float(angles[-1]), False
        clear, blocked = float(angles[hit[0] - 1]), float(angles[hit[0]])
        for _ in range(BISECTIONS):
            mid = 0.5 * (clear + blocked)
            if self.at(np.array([mid]), key[0], key[1]).touching[0]:
                blocked = mid
            else:
                clear = mid
        return clear, True


def bone_contact(ctx: ModelContext) -> BoneContact:
    """The (cached) BoneContact of a model context."""
    if ctx.bone_contact is None:
        ctx.bone_contact = BoneContact.from_context(ctx)
    return ctx.bone_contact  # type: ignore[return-value]


def angle_words(hip_adduction: float, hip_rotation: float, unit: str = " deg") -> str:
    """"adducted 20 deg and turned in 30 deg": the off-plane part of a pose, in words (``unit``
    "°" for labels and titles)."""
    parts = []
    if hip_adduction:
        side = "adducted" if hip_adduction > 0 else "abducted"
        parts.append(f"{side} {abs(hip_adduction):g}{unit}")
    if hip_rotation:
        side = "turned in" if hip_rotation > 0 else "turned out"
        parts.append(f"{side} {abs(hip_rotation):g}{unit}")
    return " and ".join(parts) if parts else "neither adducted nor turned"


def turned_words(hip_adduction: float, hip_rotation: float, prefix: str = ", hip ",
                 unit: str = " deg", suffix: str = "") -> str:  # fmt: skip
    """``prefix`` + ``angle_words`` + ``suffix`` for a hip turned out of the sagittal plane, and
    "" in it: the clause a pose's description adds only when it is needed."""
    if not (hip_adduction or hip_rotation):
        return ""
    return f"{prefix}{angle_words(hip_adduction, hip_rotation, unit)}{suffix}"


def rounded_down(angle: float, step: float = 0.5) -> float:
    """A contact angle as said: toward 0 deg on a ``step`` grid, so the pose named is clear."""
    return math.copysign(math.floor(abs(angle) / step + 1e-9) * step, angle) + 0.0
