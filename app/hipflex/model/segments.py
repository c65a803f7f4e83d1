"""Leg segment inertia (de Leva 1996) for the "hold the leg here" task."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
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
# joint, sagittal radius of gyration about the centre of mass as a fraction of segment length,
# segment length as a fraction of stature (mean stature 1741 mm).
THIGH = {"mass": 0.1416, "com": 0.4095, "gyration": 0.329, "length": 422.2 / 1741}
SHANK = {"mass": 0.0433, "com": 0.4459, "gyration": 0.255, "length": 434.0 / 1741}
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

    def hip_flexion_moment_required(
        self, hip_flexion_deg: Array, knee_flexion_deg: Array, hip_acceleration: float = 0.0,
        hip_adduction_deg: Array | float = 0.0, hip_rotation_deg: Array | float = 0.0,
    ) -> Array:
        """Hip-flexion moment (N m) that holds the leg against gravity, plus I*alpha if asked.

        The pelvis is upright (its y axis vertical), standing on the other leg. Thigh and shank
        hang along the femur's and the tibia's -y as posed (hip flexion, then adduction, then
        rotation, the knee about the femur's z): flexion turns about the pelvis's fixed
        medio-lateral axis, so the moment it must supply is the weight's moment about that axis,
        each mass times its centre's distance in front of the hip. Adducting the thigh lifts it
        out of the sagittal plane and shortens that distance; turning the hip swings a bent
        knee's shank sideways. ``hip_acceleration`` (rad/s^2) adds a fast knee drive: the leg's
        moment of inertia about the same axis, its masses at their distances from the axis.
        """
        hip, knee = np.asarray(hip_flexion_deg, float), np.asarray(knee_flexion_deg, float)
        add, rot = np.asarray(hip_adduction_deg, float), np.asarray(hip_rotation_deg, float)
        if hip.shape == knee.shape == (1,) and add.size == rot.size == 1:
            # one pose (a slider step): the sums on floats (math.radians multiplies by the same
            # pi / 180 as np.radians; the sines and cosines come from numpy, as the batch's do)
            rad = [math.radians(x.item()) for x in (hip, add, rot, knee)]
            thigh, shank = _directions(*np.cos(rad).tolist(), *np.sin(rad).tolist())
            gravity = np.array([self._gravity(thigh[0], shank[0])])
            if hip_acceleration == 0.0:
                return gravity
            dirs = np.array([thigh, shank])[:, :, None]
        else:
            rad = np.radians(np.stack(np.broadcast_arrays(hip, add, rot, knee)))  # (4, n)
            c, s = np.cos(rad), np.sin(rad)
            thigh, shank = _directions(*c, *s)
            gravity = self._gravity(thigh[0], shank[0])
            if hip_acceleration == 0.0:
                return np.asarray(gravity)
            dirs = np.array([thigh, shank])
        # moment of inertia about the flexion axis: each centre's distance from it in the
        # pelvis's x-y plane (parallel-axis theorem); the segments' own radii of gyration as in
        # the sagittal plane
        lt, ls = THIGH["length"] * self.height, SHANK["length"] * self.height
        mt, ms, mf = (s["mass"] * self.body_mass for s in (THIGH, SHANK, FOOT))
        knee_at = lt * dirs[0]
        shank_at = knee_at + SHANK["com"] * ls * dirs[1]
        ankle_at = knee_at + ls * dirs[1]
        thigh_at = THIGH["com"] * lt * dirs[0]
        inertia = (mt * ((THIGH["gyration"] * lt) ** 2 + (thigh_at**2).sum(axis=0))
                   + ms * ((SHANK["gyration"] * ls) ** 2 + (shank_at**2).sum(axis=0))
                   + mf * (ankle_at**2).sum(axis=0))  # fmt: skip
        return np.asarray(gravity + inertia * hip_acceleration)

    def _gravity(self, forward_thigh: FloatOrArray, forward_shank: FloatOrArray) -> FloatOrArray:
        """The weight's moment about the hip (N m) from the forward components of the thigh's
        and the shank's directions (in the sagittal plane, the sines of their angles from
        vertical), floats or arrays alike (the same operations in the same order)."""
        lt, ls = THIGH["length"] * self.height, SHANK["length"] * self.height
        mt, ms, mf = (s["mass"] * self.body_mass for s in (THIGH, SHANK, FOOT))
        # horizontal (anterior) distance of each centre of mass from the hip centre
        x_thigh = THIGH["com"] * lt * forward_thigh
        x_knee = lt * forward_thigh
        x_shank = x_knee + SHANK["com"] * ls * forward_shank
        x_ankle = x_knee + ls * forward_shank
        return GRAVITY * (mt * x_thigh + ms * x_shank + mf * x_ankle)


def _directions(cf: FloatOrArray, ca: FloatOrArray, cr: FloatOrArray, ck: FloatOrArray,
                sf: FloatOrArray, sa: FloatOrArray, sr: FloatOrArray, sk: FloatOrArray,
                ) -> tuple[list[FloatOrArray], list[FloatOrArray]]:  # fmt: skip
    """The thigh's and the shank's unit directions in the pelvis's x-y plane (x forward, y up:
    all the flexion axis, z, sees) from the cosines and sines of hip flexion, adduction,
    rotation and knee flexion: the femur's -y and the tibia's -y turned as
    ``kinematics.body_transforms`` turns them (R = Rz(flexion) Rx(adduction) Ry(rotation); the
    knee Rz(-knee flexion)). In the sagittal plane the forward components are sin(flexion) and
    sin(flexion - knee flexion)."""
    thigh = [sf * ca, -cf * ca]  # -R[:2, 1]
    r00, r10 = cf * cr - sf * sa * sr, sf * cr + cf * sa * sr  # R[:2, 0]
    shank = [ck * thigh[0] - sk * r00, ck * thigh[1] - sk * r10]
    return thigh, shank
