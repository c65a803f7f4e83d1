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
        self, hip_flexion_deg: Array, knee_flexion_deg: Array, hip_acceleration: float = 0.0
    ) -> Array:
        """Hip-flexion moment (N m) that holds the leg against gravity, plus I*alpha if asked.

        The pelvis is upright (its y axis vertical), standing on the other leg; thigh and shank
        move in the sagittal plane. ``hip_acceleration`` (rad/s^2) adds a fast knee drive.
        """
        hip, knee = np.asarray(hip_flexion_deg, float), np.asarray(knee_flexion_deg, float)
        lt, ls = THIGH["length"] * self.height, SHANK["length"] * self.height
        if hip.shape == knee.shape == (1,):  # one pose (a slider step): the sums on floats
            # (math.radians multiplies by the same pi / 180 as np.radians)
            hip_rad, knee_rad = math.radians(hip.item()), math.radians(knee.item())
            sin_thigh, sin_shank = np.sin(np.array([hip_rad, hip_rad - knee_rad])).tolist()
            gravity = np.array([self._gravity(sin_thigh, sin_shank)])
            if hip_acceleration == 0.0:
                return gravity
            q, k = np.array([hip_rad]), np.array([knee_rad])
        else:
            q, k = np.radians(hip), np.radians(knee)
            gravity = self._gravity(np.sin(q), np.sin(q - k))
        if hip_acceleration == 0.0:
            return np.asarray(gravity)
        # moment of inertia about the hip (parallel-axis theorem), knee angle held
        d_shank = np.sqrt(lt**2 + (SHANK["com"] * ls) ** 2 + 2 * lt * SHANK["com"] * ls * np.cos(k))
        d_ankle = np.sqrt(lt**2 + ls**2 + 2 * lt * ls * np.cos(k))
        mt, ms, mf = (s["mass"] * self.body_mass for s in (THIGH, SHANK, FOOT))
        inertia = (mt * ((THIGH["gyration"] * lt) ** 2 + (THIGH["com"] * lt) ** 2)
                   + ms * ((SHANK["gyration"] * ls) ** 2 + d_shank**2) + mf * d_ankle**2)  # fmt: skip
        return np.asarray(gravity + inertia * hip_acceleration)

    def _gravity(self, sin_thigh: FloatOrArray, sin_shank: FloatOrArray) -> FloatOrArray:
        """The weight's moment about the hip (N m) from the sines of the thigh's and the shank's
        angles from vertical, floats or arrays alike (the same operations in the same order)."""
        lt, ls = THIGH["length"] * self.height, SHANK["length"] * self.height
        mt, ms, mf = (s["mass"] * self.body_mass for s in (THIGH, SHANK, FOOT))
        # horizontal (anterior) distance of each centre of mass from the hip centre
        x_thigh = THIGH["com"] * lt * sin_thigh
        x_knee = lt * sin_thigh
        x_shank = x_knee + SHANK["com"] * ls * sin_shank
        x_ankle = x_knee + ls * sin_shank
        return GRAVITY * (mt * x_thigh + ms * x_shank + mf * x_ankle)
