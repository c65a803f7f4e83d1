"""Leg segment inertia (de Leva 1996) for the "hold the leg here" task."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from hipflex.errors import PoseError
from hipflex.model.limits import BODY_MASS_RANGE, HEIGHT_RANGE

Array = NDArray[np.float64]
FloatOrArray = TypeVar("FloatOrArray", float, Array)
GRAVITY = 9.81  # m/s^2

# de Leva P (1996) J Biomech 29(9):1223-1230, Table 4, adult males (adjusted Zatsiorsky-Seluyanov):
# mass fraction of body mass, centre of mass as a fraction of segment length from the proximal
# joint, radii of gyration about the centre of mass as fractions of segment length (sagittal,
# and longitudinal: about the segment's own long axis), segment length as a fraction of stature
# (mean stature 1741 mm). The transverse (frontal) radii are 0.329 (thigh) and 0.249 (shank):
# the sagittal ones stand for both, so a segment is symmetric about its long axis.
THIGH = {"mass": 0.1416, "com": 0.4095, "gyration": 0.329, "long_gyration": 0.149,
         "length": 422.2 / 1741}  # fmt: skip
SHANK = {"mass": 0.0433, "com": 0.4459, "gyration": 0.255, "long_gyration": 0.103,
         "length": 434.0 / 1741}  # fmt: skip
FOOT = {"mass": 0.0137}  # lumped at the ankle centre (its moment arm about the hip dominates)


@dataclass(frozen=True)
class LegInertia:
    """Masses (kg) and lengths (m) of thigh, shank and foot for one subject."""

    body_mass: float
    height: float

    def __post_init__(self) -> None:
        for what, value, unit, (lo, hi) in (("body mass", self.body_mass, "kg", BODY_MASS_RANGE),
                                            ("height", self.height, "m", HEIGHT_RANGE)):  # fmt: skip
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise PoseError(f"{what} must be a number in {unit}, got {value!r}")
            if not (math.isfinite(value) and lo <= value <= hi):
                raise PoseError(f"{what} {value:g} {unit} is outside {lo:g}..{hi:g} {unit}")

    @cached_property
    def _sizes(self) -> tuple[float, float, float, float, float]:
        """Thigh and shank lengths (m), thigh, shank and foot masses (kg): the subject's, kept
        (every pose read them)."""
        lt, ls = THIGH["length"] * self.height, SHANK["length"] * self.height
        mt, ms, mf = (s["mass"] * self.body_mass for s in (THIGH, SHANK, FOOT))
        return lt, ls, mt, ms, mf

    def hip_flexion_moment_required(
        self, thigh: Array, shank: Array, hip_acceleration: float = 0.0
    ) -> Array:
        """Hip-flexion moment (N m) that holds the leg against gravity, plus I*alpha if asked.

        ``thigh``, ``shank`` (n, 2): the directions the thigh and the shank hang in, as posed
        (the femur's and the tibia's -y, from ``kinematics.body_transforms``), in the pelvis's
        x-y plane (x forward, y up). The pelvis is upright (its y axis vertical), standing on
        the other leg. Flexion turns about the pelvis's fixed medio-lateral axis (z), so the
        moment it must supply is the weight's moment about that axis, each mass times its
        centre's distance in front of the hip: adducting the thigh lifts it out of the sagittal
        plane and shortens that distance, turning the hip swings a bent knee's shank sideways.
        ``hip_acceleration`` (rad/s^2) adds a fast knee drive: the leg's moment of inertia about
        the same axis, its masses at their distances from the axis and each segment's own
        inertia about it (a segment tilted toward the axis turns partly about its long axis,
        where its radius of gyration is less than half).
        """
        thigh, shank = np.asarray(thigh, float), np.asarray(shank, float)
        if len(thigh) == 1:  # one pose (a slider step): the sums on floats
            gravity = np.array([self._gravity(thigh[0, 0].item(), shank[0, 0].item())])
        else:
            gravity = self._gravity(thigh[:, 0], shank[:, 0])
        if hip_acceleration == 0.0:
            return np.asarray(gravity)
        # moment of inertia about the flexion axis: each centre's distance from it in the
        # pelvis's x-y plane (parallel-axis theorem), plus each segment's own inertia about an
        # axis parallel to it
        lt, ls, mt, ms, mf = self._sizes
        knee_at = lt * thigh
        shank_at = knee_at + SHANK["com"] * ls * shank
        ankle_at = knee_at + ls * shank
        thigh_at = THIGH["com"] * lt * thigh
        inertia = (mt * (_own(THIGH, thigh) * lt**2 + (thigh_at**2).sum(axis=1))
                   + ms * (_own(SHANK, shank) * ls**2 + (shank_at**2).sum(axis=1))
                   + mf * (ankle_at**2).sum(axis=1))  # fmt: skip
        return np.asarray(gravity + inertia * hip_acceleration)

    def hip_flexion_moment_one(
        self, thigh: list[float], shank: list[float], hip_acceleration: float = 0.0
    ) -> Array:
        """``hip_flexion_moment_required`` for one pose (a slider step) from the thigh's and
        the shank's directions as floats (x and y are all it reads), without the pose's
        arrays: the same sums. (1,)"""
        if hip_acceleration == 0.0:
            return np.array([self._gravity(thigh[0], shank[0])])
        return self.hip_flexion_moment_required(np.array([thigh[:2]]), np.array([shank[:2]]),
                                                hip_acceleration)  # fmt: skip

    def side_moments_required(
        self, thigh: Array, shank: Array, adduction_axis: Array, rotation_axis: Array
    ) -> Array:
        """Hip adduction and rotation moments (n, 2; N m, positive = adductor, internal
        rotator) that hold the leg against gravity.

        ``thigh``, ``shank`` (n, 3): the directions the thigh and the shank hang in, as posed,
        in the pelvis frame (x forward, y up, z lateral); ``adduction_axis``, ``rotation_axis``
        (n, 3): the axes the two coordinates turn about at the pose (Rz(flexion) x and the
        femur's long axis). The muscles must supply the opposite of the weight's moment about
        each axis: with c a centre of mass relative to the hip and the weight along -y, that is
        m g (c x y) . axis = m g (c_x axis_z - c_z axis_x). A knee drive's acceleration is about
        the flexion axis only; its inertial moments about these axes are left out (they vanish
        with the leg in the sagittal plane).
        """
        thigh, shank = np.asarray(thigh, float), np.asarray(shank, float)
        adduction_axis, rotation_axis = (np.asarray(adduction_axis, float),
                                         np.asarray(rotation_axis, float))  # fmt: skip
        lt, ls, mt, ms, mf = self._sizes
        knee = lt * thigh
        # the mass-weighted sum of the centres: the leg's first moment about the hip centre
        first = (mt * THIGH["com"] * lt * thigh + ms * (knee + SHANK["com"] * ls * shank)
                 + mf * (knee + ls * shank))  # fmt: skip
        out = np.empty((len(first), 2))
        for k, axis in enumerate((adduction_axis, rotation_axis)):
            out[:, k] = GRAVITY * (first[:, 0] * axis[:, 2] - first[:, 2] * axis[:, 0])
        return out

    def side_one(self, thigh: list[float], shank: list[float], adduction_axis: list[float],
                  rotation_axis: list[float]) -> list[float]:  # fmt: skip
        """``side_moments_required`` for one pose on floats (a slider step; x and z are all it
        needs)."""
        lt, ls, mt, ms, mf = self._sizes
        first = [mt * THIGH["com"] * lt * thigh[k] + ms * (lt * thigh[k] + SHANK["com"] * ls * shank[k])
                 + mf * (lt * thigh[k] + ls * shank[k]) for k in (0, 2)]  # fmt: skip
        return [GRAVITY * (first[0] * axis[2] - first[1] * axis[0])
                for axis in (adduction_axis, rotation_axis)]

    def _gravity(self, forward_thigh: FloatOrArray, forward_shank: FloatOrArray) -> FloatOrArray:
        """The weight's moment about the hip (N m) from the forward components of the thigh's
        and the shank's directions (in the sagittal plane, the sines of their angles from
        vertical), floats or arrays alike (the same operations in the same order)."""
        lt, ls, mt, ms, mf = self._sizes
        # horizontal (anterior) distance of each centre of mass from the hip centre
        x_thigh = THIGH["com"] * lt * forward_thigh
        x_knee = lt * forward_thigh
        x_shank = x_knee + SHANK["com"] * ls * forward_shank
        x_ankle = x_knee + ls * forward_shank
        return GRAVITY * (mt * x_thigh + ms * x_shank + mf * x_ankle)


def _own(segment: dict[str, float], direction: Array) -> Array:
    """A segment's own squared radius of gyration (fraction of its length, squared) about an
    axis through its centre parallel to the flexion axis: r_t^2 (1 - c^2) + r_l^2 c^2, c the
    cosine between its long axis and that axis. ``direction`` (n, 2) is the long axis's x-y
    part, so 1 - c^2 is its squared length."""
    across = (np.asarray(direction, float) ** 2).sum(axis=1)
    return np.asarray(segment["gyration"] ** 2 * across + segment["long_gyration"] ** 2 * (1 - across))
