"""Pose and body transforms: the femur turns about the hip centre, the tibia about the knee
axis, and the patella over the femur as the knee's flexion sets it (PatellaCoupling).

Pure numpy and vectorised over poses: every function accepts scalars or arrays of angles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hipflex.anatomy import AnatomyData
from hipflex.errors import PoseError
from hipflex.model.floats import floats_array

Array = NDArray[np.float64]
COORDINATES = ("hip_flexion", "hip_adduction", "hip_rotation", "knee_flexion")


@dataclass(frozen=True)
class PatellaCoupling:
    """The patella's pose over the femur as a smooth function of knee flexion: a cubic spline
    through anatomy_data/patellofemoral.toml's table (patella flexion about the femur's -z, and
    the patella frame's origin less the knee centre in the femur's x-y plane). Its derivative
    gives the patella's share of a knee moment arm (virtual work), so it must be smooth."""

    start: float  # rad, the table's first knee angle
    step: float  # rad between rows
    coefficients: Array  # (rows - 1, 4, 3): per interval, cubic to constant, for the 3 columns
    rows: tuple[tuple[tuple[float, ...], ...], ...]  # the same as floats (one pose: no arrays)

    @classmethod
    def from_table(cls, knee_deg: ArrayLike, flexion_deg: ArrayLike, translation: ArrayLike
                   ) -> PatellaCoupling:  # fmt: skip
        from scipy.interpolate import CubicSpline

        x = np.radians(np.asarray(knee_deg, float))
        y = np.column_stack([np.radians(np.asarray(flexion_deg, float)),
                             np.asarray(translation, float)])  # fmt: skip
        c = np.ascontiguousarray(CubicSpline(x, y).c.transpose(1, 0, 2))
        rows = tuple(tuple(tuple(float(v) for v in k) for k in r) for r in c)
        return cls(float(x[0]), float(x[1] - x[0]), c, rows)

    def at_one(self, knee_rad: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """``at`` for one knee angle, on floats."""
        u = (knee_rad - self.start) / self.step
        i, last = int(u), len(self.rows) - 1
        i = 0 if i < 0 else last if i > last else i  # (clipped without min and max: faster)
        t = (u - i) * self.step
        (a0, a1, a2), (b0, b1, b2), (c0, c1, c2), (d0, d1, d2) = self.rows[i]
        value = (((a0 * t + b0) * t + c0) * t + d0, ((a1 * t + b1) * t + c1) * t + d1,
                 ((a2 * t + b2) * t + c2) * t + d2)  # fmt: skip
        rate = ((3.0 * a0 * t + 2.0 * b0) * t + c0, (3.0 * a1 * t + 2.0 * b1) * t + c1,
                (3.0 * a2 * t + 2.0 * b2) * t + c2)  # fmt: skip
        return value, rate

    def at(self, knee_rad: Array) -> tuple[Array, Array]:
        """Values (n, 3) and their knee-angle derivatives (n, 3): patella flexion (rad), x, y (m)."""
        u = (np.asarray(knee_rad, float) - self.start) / self.step
        i = np.clip(u.astype(np.intp), 0, len(self.coefficients) - 1)
        t = (u - i)[:, None] * self.step
        c = self.coefficients[i]  # (n, 4, 3)
        value = ((c[:, 0] * t + c[:, 1]) * t + c[:, 2]) * t + c[:, 3]
        rate = (3.0 * c[:, 0] * t + 2.0 * c[:, 1]) * t + c[:, 2]
        return value, rate


@dataclass(frozen=True)
class Skeleton:
    """What the kinematics needs from the asset pack: joint centres in their parent frames, and
    how the patella follows the knee."""

    hip_centre: Array  # in the pelvis frame
    knee_centre_in_femur: Array  # in the femur frame: the tibia frame's origin at knee 0
    knee_axis_in_femur: Array  # in the femur frame: a point of the knee's flexion axis (its z)
    ranges: dict[str, tuple[float, float]]
    patella: PatellaCoupling

    @classmethod
    def from_pack(cls, pack: object, anatomy: AnatomyData) -> Skeleton:
        """Read joint centres from an AssetPack, joint ranges and the patellofemoral coupling
        from anatomy_data."""
        femur = pack.body_at_scan("femur_r")  # type: ignore[attr-defined]
        tibia = pack.body_at_scan("tibia_r")  # type: ignore[attr-defined]
        knee = (np.linalg.inv(femur) @ tibia)[:3, 3]
        axis = knee + np.array([*anatomy.tibiofemoral.axis_offset, 0.0])
        ranges = {c.id: (c.range[0], c.range[1]) for j in anatomy.joints for c in j.coordinate}
        pf = anatomy.patellofemoral
        patella = PatellaCoupling.from_table(pf.knee_flexion, pf.patella_flexion, pf.translation)
        return cls(hip_centre=femur[:3, 3].copy(), knee_centre_in_femur=knee,
                   knee_axis_in_femur=axis, ranges=ranges,
                   patella=patella)  # fmt: skip

    @cached_property
    def one_pose(self) -> tuple[float, ...]:
        """What ``body_transforms`` reads for one pose, as floats: the hip centre, the knee
        centre, the knee axis's x and y, and the knee centre less the axis in x and y (kept:
        they never change)."""
        hx, hy, hz = self.hip_centre.tolist()
        kx, ky, kz = self.knee_centre_in_femur.tolist()
        ax, ay, _ = self.knee_axis_in_femur.tolist()
        return hx, hy, hz, kx, ky, kz, ax, ay, kx - ax, ky - ay


def _rot(axis: int, angle: Array) -> Array:
    """Rotation matrices (n, 3, 3) about a principal axis by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    n = angle.shape[0]
    m = np.zeros((n, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[:, axis, axis] = 1.0
    m[:, i, i] = c
    m[:, j, j] = c
    m[:, i, j] = -s
    m[:, j, i] = s
    return m


def angle_text(value: float) -> str:
    """An angle as typed, for messages: short where that is exact (140, -20.5), in full where
    rounding would hide how it differs from a limit (140.0001, not 140)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def check_angles(
    skeleton: Skeleton, angles: Mapping[str, ArrayLike], clamp: bool = False
) -> dict[str, Array]:
    """Validate angles (degrees): NaN, unknown names or out-of-range values raise PoseError.

    With ``clamp=True`` out-of-range values are clamped to the joint range instead (documented
    for sliders that overshoot); NaN always raises.
    """
    out = {}
    for name, value in angles.items():
        if name not in skeleton.ranges:
            raise PoseError(
                f"unknown joint coordinate {name!r}; expected one of {', '.join(COORDINATES)}"
            )
        arr = np.atleast_1d(np.asarray(value, float))
        if not np.all(np.isfinite(arr)):
            raise PoseError(f"{name}: angle is not a finite number")
        lo, hi = skeleton.ranges[name]
        if clamp:
            arr = np.clip(arr, lo, hi)
        elif np.any((arr < lo - 1e-9) | (arr > hi + 1e-9)):
            bad = arr[(arr < lo) | (arr > hi)][0]
            raise PoseError(
                f"{name} = {angle_text(bad)} deg is outside the joint range {lo:g}..{hi:g} deg"
            )
        out[name] = arr
    return out


def body_transforms(
    skeleton: Skeleton,
    hip_flexion: ArrayLike = 0.0,
    hip_adduction: ArrayLike = 0.0,
    hip_rotation: ArrayLike = 0.0,
    knee_flexion: ArrayLike = 0.0,
) -> dict[str, Array]:
    """Pelvis-from-body 4x4 transforms, shape (n, 4, 4), for every pose in the broadcast inputs."""
    one = [_single(v) for v in (hip_flexion, hip_adduction, hip_rotation, knee_flexion)]
    if None not in one:
        # one pose (a slider step): the matrices from plain floats, no per-element stores
        angles = cast("list[float]", one)
        cf, ca, cr, ck, sf, sa, sr, sk = _cos_sin(angles)
        # the centres as Python floats (numpy scalars would cost the lists below their reading)
        hx, hy, hz, kx, ky, kz, ax, ay, kax, kay = skeleton.one_pose
        femur = floats_array([cf * cr - sf * sa * sr, -sf * ca, cf * sr + sf * sa * cr, hx,
                              sf * cr + cf * sa * sr, cf * ca, sf * sr - cf * sa * cr, hy,
                              -ca * sr, sa, ca * cr, hz, 0.0, 0.0, 0.0, 1.0]).reshape(1, 4, 4)  # fmt: skip
        # the tibia's origin, turned about the knee axis from its knee-0 place
        tx, ty = ax + ck * kax + sk * kay, ay - sk * kax + ck * kay
        fp, dx, dy = skeleton.patella.at_one(math.radians(angles[3]))[0]
        cp, sp = math.cos(fp), math.sin(fp)
        # the tibia's and the patella's transforms in the femur frame, posed in one product
        distal = femur @ floats_array([
            ck, sk, 0.0, tx, -sk, ck, 0.0, ty, 0.0, 0.0, 1.0, kz, 0.0, 0.0, 0.0, 1.0,
            cp, sp, 0.0, kx + dx, -sp, cp, 0.0, ky + dy, 0.0, 0.0, 1.0, kz, 0.0, 0.0, 0.0, 1.0,
        ]).reshape(2, 4, 4)  # fmt: skip
        return {"pelvis": _EYE4[None].copy(), "femur_r": femur, "tibia_r": distal[:1],
                "patella_r": distal[1:]}
    a = [np.atleast_1d(np.asarray(v, float)) for v in
         (hip_flexion, hip_adduction, hip_rotation, knee_flexion)]  # fmt: skip
    if any(x.shape != a[0].shape for x in a):
        a = list(np.broadcast_arrays(*a))
    rad = np.radians(np.stack([x.ravel() for x in a]))  # (4, n): flexion, add., rot., knee
    c, s = np.cos(rad), np.sin(rad)
    n = rad.shape[1]
    femur = np.empty((n, 4, 4))
    femur[:] = _EYE4
    # R = Rz(flexion) Rx(adduction) Ry(rotation), written out (fewer calls than three products)
    (cf, ca, cr, ck), (sf, sa, sr, sk) = c, s
    femur[:, 0, 0] = cf * cr - sf * sa * sr
    femur[:, 0, 1] = -sf * ca
    femur[:, 0, 2] = cf * sr + sf * sa * cr
    femur[:, 1, 0] = sf * cr + cf * sa * sr
    femur[:, 1, 1] = cf * ca
    femur[:, 1, 2] = sf * sr - cf * sa * cr
    femur[:, 2, 0] = -ca * sr
    femur[:, 2, 1] = sa
    femur[:, 2, 2] = ca * cr
    femur[:, :3, 3] = skeleton.hip_centre
    knee = np.empty((n, 4, 4))
    knee[:] = _EYE4
    knee[:, 0, 0] = knee[:, 1, 1] = ck  # Rz(-knee flexion)
    knee[:, 0, 1] = sk
    knee[:, 1, 0] = -sk
    # the tibia's origin turned about the knee axis from its knee-0 place: a + R (k - a)
    axis = skeleton.knee_axis_in_femur
    arm = skeleton.knee_centre_in_femur - axis
    knee[:, 0, 3] = axis[0] + ck * arm[0] + sk * arm[1]
    knee[:, 1, 3] = axis[1] - sk * arm[0] + ck * arm[1]
    knee[:, 2, 3] = skeleton.knee_centre_in_femur[2]
    fp, dx, dy = skeleton.patella.at(rad[3])[0].T
    patella = np.empty((n, 4, 4))
    patella[:] = _EYE4
    patella[:, 0, 0] = patella[:, 1, 1] = np.cos(fp)  # Rz(-patella flexion)
    patella[:, 0, 1] = np.sin(fp)
    patella[:, 1, 0] = -patella[:, 0, 1]
    patella[:, :3, 3] = skeleton.knee_centre_in_femur
    patella[:, 0, 3] += dx
    patella[:, 1, 3] += dy
    pelvis = np.empty((n, 4, 4))
    pelvis[:] = _EYE4
    return {"pelvis": pelvis, "femur_r": femur, "tibia_r": femur @ knee,
            "patella_r": femur @ patella}


_EYE4 = np.eye(4)


def _single(value: ArrayLike) -> float | None:
    """``value`` as a float if it is one angle (a number or a one-element array), else None."""
    if type(value) in (float, int):
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.item())
    return None


def _cos_sin(degrees: list[float]) -> list[float]:
    """Cosines, then sines, of angles in degrees."""
    rad = [math.radians(x) for x in degrees]
    return [math.cos(x) for x in rad] + [math.sin(x) for x in rad]


def transform_points(matrices: Array, points: Array) -> Array:
    """Apply (n, 4, 4) transforms to (m, 3) points: result (n, m, 3)."""
    return np.einsum("nij,mj->nmi", matrices[:, :3, :3], points) + matrices[:, None, :3, 3]
