"""The engine facade: ``load_model()``, ``model.at(...)``, ``model.sweep(...)``, ``model.explain(...)``.

Degrees in, SI units out. Every quantity is an array of shape (n_poses, n_muscles).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hipflex.errors import PoseError
from hipflex.model.activity import share_moment
from hipflex.model.balance import balance_moments, balance_one
from hipflex.model.contact import ContactResult, FlexionRange, bone_contact
from hipflex.model.fastpath import FastPaths
from hipflex.model.floats import floats_array
from hipflex.model.kinematics import COORDINATES, body_transforms, check_angles
from hipflex.model.lift import LiftCapacity, lift_capacity, pose_moments
from hipflex.model.limits import MAX_HIP_ACCELERATION, STRENGTH_RANGE
from hipflex.model.muscle import (
    active_force_length,
    fibres_one,
    pennated_fiber,
    rederive_tendon_slack_length,
)
from hipflex.model.segments import LegInertia
from hipflex.model.skeleton import ModelContext
from hipflex.model.wrapping import path_set

Array = NDArray[np.float64]
# what the hold task balances: the hip's three moments (flexion, adduction, rotation:
# hipflex.model.balance), or hip flexion alone (hipflex.model.activity), the simpler task
# that leaves the muscles' turning and side-swinging moments unopposed
HOLD_BALANCES = ("hip", "flexion")
EVAL_BLOCK = 1024  # poses evaluated together; longer sweeps go in blocks of this many
QUANTITIES = (
    "length", "moment_arm_hip_flexion", "moment_arm_hip_adduction", "moment_arm_hip_rotation",
    "moment_arm_knee_flexion", "norm_fiber_length", "slack", "force_length_factor",
    "max_moment_hip_flexion", "max_moment_hip_adduction", "max_moment_hip_rotation",
    "max_moment_knee_flexion", "activation", "share",
)  # fmt: skip


# the per-coordinate quantities' names, in COORDINATES order
_PER_COORDINATE = tuple((f"moment_arm_{c}", f"max_moment_{c}") for c in COORDINATES)


def _is_number(value: object) -> bool:
    """A real number that is not a bool (True is not an angle)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _angle_array(name: str, value: object) -> Array:
    """``value`` as a 1-D float array of angles, or a PoseError saying what is wrong with it.

    Accepts a number or a 1-D sequence of numbers; rejects None, strings, bools, empty and
    multi-dimensional arrays (which would otherwise be read as 0 deg, parsed or flattened).
    """
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise PoseError(f"{name}: expected an angle in degrees (a number), got {value!r}")
    arr = np.asarray(value)
    if arr.dtype.kind == "O" and all(_is_number(v) for v in arr.ravel()):
        arr = arr.astype(float)  # e.g. Fraction, Decimal
    if arr.dtype.kind not in "iuf":
        raise PoseError(f"{name}: expected angles in degrees (numbers), got {value!r}")
    if arr.ndim > 1:
        raise PoseError(
            f"{name}: expected one angle or a 1-D array of angles, got shape {arr.shape}"
        )
    if arr.size == 0:
        raise PoseError(f"{name}: no angles given (empty array)")
    return np.atleast_1d(arr.astype(float))


def _plain_pose(
    angles: Mapping[str, ArrayLike], ranges: Mapping[str, tuple[float, float]]
) -> dict[str, Array] | None:
    """One pose given as plain numbers (float or int), each within its coordinate's range, as
    one-element arrays of every coordinate (0 where not given); None for anything else, which
    the full check then decides. One loop, no generator: this runs at slider rate."""
    values = dict.fromkeys(COORDINATES, 0.0)
    for name, value in angles.items():
        if type(value) not in (float, int):
            return None
        angle = float(value)  # type: ignore[arg-type]
        span = ranges.get(name)
        if span is None or not (math.isfinite(angle) and span[0] - 1e-9 <= angle <= span[1] + 1e-9):
            return None
        values[name] = angle
    return {c: np.array([values[c]]) for c in COORDINATES}


def _one_angle(name: str, value: object) -> float:
    """A single angle (degrees) for ``explain()`` as a float; arrays and non-numbers raise."""
    if type(value) in (float, int):
        return float(cast(float, value))
    if np.ndim(cast(ArrayLike, value)) != 0:
        raise PoseError(f"{name}: explain() takes one angle; use sweep() for arrays")
    return float(_angle_array(name, value)[0])


def _acceleration(value: object) -> float:
    """``hip_acceleration`` (rad/s^2) as a float, checked: a finite number within the bound."""
    if _is_number(value) or (isinstance(value, np.ndarray) and value.shape == ()
                             and value.dtype.kind in "iuf"):  # fmt: skip
        number = float(cast(float, value))
    else:
        raise PoseError(f"hip_acceleration must be one number in rad/s^2, got {value!r}")
    if not math.isfinite(number):
        raise PoseError("hip_acceleration is not a finite number")
    if abs(number) > MAX_HIP_ACCELERATION:
        raise PoseError(f"hip_acceleration = {number:g} rad/s^2 is outside "
                        f"-{MAX_HIP_ACCELERATION:g}..{MAX_HIP_ACCELERATION:g} rad/s^2")  # fmt: skip
    return number


@dataclass
class PoseResult:
    """Per-muscle quantities over a set of poses (arrays of shape (n_poses, n_muscles))."""

    muscles: list[str]
    pose: dict[str, Array]
    values: dict[str, Array]
    required_moment: Array  # hold task, N m, (n_poses,)
    feasible: Array  # (n_poses,) bool
    # hold task's adduction and rotation moments, N m (n_poses, 2); balanced only when the
    # model's ``hold_balance`` is "hip"
    required_side_moments: Array
    # what the muscles leave unmet of the hold task's flexion, adduction and rotation moments
    # where they cannot meet it, N m (n_poses, 3); zero where they can
    unmet_moments: Array

    def __getitem__(self, quantity: str) -> Array:
        return self.values[quantity]

    def muscle(self, muscle_id: str) -> dict[str, Array]:
        """All quantities of one muscle, each of shape (n_poses,)."""
        if muscle_id not in self.muscles:
            raise PoseError(f"unknown muscle id {muscle_id!r}")
        j = self.muscles.index(muscle_id)
        return {k: v[:, j] for k, v in self.values.items()}


@dataclass
class HipModel:
    """Muscle paths, moment arms, capacity and activity for the right hip and knee."""

    ctx: ModelContext
    body_mass: float = 75.0
    height: float = 1.75
    strength: dict[str, float] = field(default_factory=dict)
    hold_balance: str = "hip"  # one of HOLD_BALANCES
    tendon_slack: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self._checked_balance()
        # checked now, so a bad subject fails at load_model() rather than at the first pose
        inertia = ((self.body_mass, self.height), LegInertia(self.body_mass, self.height))
        self.muscles = list(self.ctx.anatomy.muscles)
        for m, s in list(self.strength.items()):
            self.set_strength(m, s)
        self.paths = path_set(self.ctx)
        self._fast = FastPaths(self.paths)  # same numbers as self.paths.evaluate, much faster
        lines = self.ctx.lines
        hill = [self.ctx.anatomy.muscles[ln.muscle].hill for ln in lines]
        self._cos = np.cos(np.radians([h.pennation_angle for h in hill]))
        self._sin2 = 1.0 - self._cos * self._cos  # pennated_fiber's, kept
        self._lopt = np.array([h.optimal_fiber_length for h in hill])
        self._f0 = np.array(
            [ln.weight * h.max_isometric_force for ln, h in zip(lines, hill, strict=True)]
        )
        self._line_muscle = np.array([self.muscles.index(ln.muscle) for ln in lines])
        self._line_muscle_ids = [ln.muscle for ln in lines]
        self._inv_lopt = 1.0 / self._lopt
        self._inertia: tuple[tuple[float, float], LegInertia] | None = inertia
        # strength seen, f0 scaled (and as floats)
        self._strong: tuple[dict[str, float], Array, list[float]] | None = None
        # (lines x muscles): weights for averaged quantities, ones for summed moments
        self._avg = np.zeros((len(lines), len(self.muscles)))
        self._avg[np.arange(len(lines)), self._line_muscle] = [ln.weight for ln in lines]
        self._sum = (self._avg > 0).astype(float)
        self.tendon_slack = self._rederive_tendon_slack()

    def set_strength(self, muscle: str, fraction: float) -> None:
        """Scale a muscle's peak force (0..2: 0.5 = weakened by half, 1.5 = trained)."""
        self.strength[muscle] = self._checked_strength(muscle, fraction)

    def _checked_balance(self) -> str:
        if self.hold_balance not in HOLD_BALANCES:
            raise PoseError(f"hold_balance must be one of {', '.join(HOLD_BALANCES)}, got "
                            f"{self.hold_balance!r}")  # fmt: skip
        return self.hold_balance

    def _checked_strength(self, muscle: str, fraction: object) -> float:
        if muscle not in self.ctx.anatomy.muscles:
            raise PoseError(f"unknown muscle id {muscle!r}; the muscles are "
                            + ", ".join(self.ctx.anatomy.muscles))  # fmt: skip
        lo, hi = STRENGTH_RANGE
        limits = f"{lo:g}..{hi:g} ({100 * lo:g}..{100 * hi:g}%)"
        if not _is_number(fraction):
            raise PoseError(f"strength of {muscle} must be {limits}, got {fraction!r}")
        value = float(cast(float, fraction))
        if not (math.isfinite(value) and lo <= value <= hi):
            raise PoseError(f"strength of {muscle} must be {limits}, got {fraction}")
        return value

    def _rederive_tendon_slack(self) -> dict[str, float]:
        """Tendon slack length per line, re-derived so that the neutral pose reproduces the
        reference model's normalised fibre length (biomechanics.md section 3)."""
        lengths, _, _ = self.paths.evaluate(body_transforms(self.ctx.skeleton))
        out = {}
        for i, line in enumerate(self.ctx.lines):
            h = self.ctx.anatomy.muscles[line.muscle].hill
            out[line.name] = rederive_tendon_slack_length(
                float(lengths[0, i]), h.optimal_fiber_length, h.pennation_angle,
                h.neutral_norm_fiber_length,
            )  # fmt: skip
        self._lts = np.array([out[ln.name] for ln in self.ctx.lines])
        # per line on floats, for one pose (``fibres_one``): tendon slack, 1 / l_opt, cos and
        # 1 - cos^2 of the pennation
        self._line_floats = (self._lts.tolist(), self._inv_lopt.tolist(), self._cos.tolist(),
                             self._sin2.tolist())  # fmt: skip
        return out

    # -- evaluation -------------------------------------------------------------------------
    def _peak_forces(self) -> tuple[Array, list[float]]:
        """Peak isometric force per line with the strength fractions applied (an array, and the
        same as floats), rebuilt only when ``strength`` changed (it is a plain dict that callers
        may edit)."""
        if self._strong is None or self._strong[0] != self.strength:
            # checked here too: the dict may have been edited without set_strength
            checked = {m: self._checked_strength(m, s) for m, s in self.strength.items()}
            fraction = np.array([checked.get(m, 1.0) for m in self._line_muscle_ids])
            peak = self._f0 * fraction
            self._strong = (dict(self.strength), peak, peak.tolist())
        return self._strong[1], self._strong[2]

    def _poses(self, **angles: ArrayLike) -> dict[str, Array]:
        plain = _plain_pose(angles, self.ctx.skeleton.ranges)
        if plain is not None:  # one pose of plain numbers, the common slider case
            return plain
        given = {k: _angle_array(k, v) for k, v in angles.items()}
        checked = check_angles(self.ctx.skeleton, given)
        try:
            arrays = np.broadcast_arrays(*(checked.get(c, np.zeros(1)) for c in COORDINATES))
        except ValueError:
            sizes = ", ".join(f"{k} {v.size}" for k, v in given.items() if v.size > 1)
            raise PoseError(
                f"angle arrays of different lengths cannot be paired: {sizes}"
            ) from None
        return {c: np.asarray(a, float).ravel() for c, a in zip(COORDINATES, arrays, strict=True)}

    def evaluate(
        self,
        hip_flexion: ArrayLike = 0.0,
        hip_adduction: ArrayLike = 0.0,
        hip_rotation: ArrayLike = 0.0,
        knee_flexion: ArrayLike = 0.0,
        hip_acceleration: float = 0.0,
    ) -> PoseResult:
        """All quantities for every pose in the broadcast inputs (degrees).

        ``hip_acceleration`` (rad/s^2, at most ``MAX_HIP_ACCELERATION`` either way) adds the
        moment of a fast knee drive to the hold task.
        """
        if type(hip_acceleration) not in (float, int) or not (
            -MAX_HIP_ACCELERATION <= hip_acceleration <= MAX_HIP_ACCELERATION
        ):
            hip_acceleration = _acceleration(hip_acceleration)
        poses = self._poses(hip_flexion=hip_flexion, hip_adduction=hip_adduction,
                            hip_rotation=hip_rotation, knee_flexion=knee_flexion)  # fmt: skip
        n = poses["hip_flexion"].size
        if n <= EVAL_BLOCK:
            return self._evaluate(poses, hip_acceleration)
        # poses are independent: blocks keep the working arrays in cache and the memory flat.
        # They are of nearly equal size, so none is left with a pose or two: those take the
        # fast path's Python floats, which equal numpy's batch to 1e-12 but not to the bit
        blocks = -(-n // EVAL_BLOCK)
        edges = [n * i // blocks for i in range(blocks + 1)]
        parts = [self._evaluate({c: a[lo:hi] for c, a in poses.items()}, hip_acceleration)
                 for lo, hi in itertools.pairwise(edges)]  # fmt: skip
        return PoseResult(
            self.muscles, poses,
            {q: np.concatenate([p.values[q] for p in parts]) for q in parts[0].values},
            np.concatenate([p.required_moment for p in parts]),
            np.concatenate([p.feasible for p in parts]),
            np.concatenate([p.required_side_moments for p in parts]),
            np.concatenate([p.unmet_moments for p in parts]),
        )  # fmt: skip

    def _evaluate(self, poses: dict[str, Array], hip_acceleration: float) -> PoseResult:
        """``evaluate`` for checked pose arrays of one length."""
        transforms = body_transforms(self.ctx.skeleton, **poses)
        lengths, arms = self._fast.evaluate(transforms, np.radians(poses["hip_flexion"]))
        # rigid tendon, fixed-width pennation; slack lines read <= 0 and carry no force (the
        # force-length factor is zero at and below 0.25, so zero when slack)
        peak, peak_floats = self._peak_forces()
        if len(lengths) == 1:  # one pose (a slider step): the lines on floats, the same bits
            row = lengths[0].tolist()
            lts, inv_lopt, cos, sin2 = self._line_floats
            norm, cos_pennation, fl = fibres_one(
                [(x - t) * k for x, t, k in zip(row, lts, inv_lopt, strict=True)], cos, sin2)
            row += norm + fl + [f * a * b for f, a, b in zip(peak_floats, fl, cos_pennation,
                                                             strict=True)]  # fmt: skip
            lines = floats_array(row).reshape(4, 1, -1)  # and the forces
        else:
            norm_a, cos_a = pennated_fiber((lengths - self._lts) * self._inv_lopt, self._cos,
                                           self._sin2)  # fmt: skip
            fl_a = active_force_length(norm_a)
            lines = np.concatenate([lengths, norm_a, fl_a, peak * fl_a * cos_a]).reshape(4, *norm_a.shape)
        avg, force = lines[:3] @ self._avg, lines[3]
        arms_t = arms.transpose(2, 0, 1)  # (4 coordinates, n, lines)
        arm_avg = arms_t @ self._avg
        moments = (arms_t * force) @ self._sum  # moments add over a muscle's lines
        vals = {"length": avg[0], "norm_fiber_length": avg[1], "force_length_factor": avg[2]}
        for k, (arm_key, moment_key) in enumerate(_PER_COORDINATE):
            vals[arm_key] = arm_avg[k]
            vals[moment_key] = moments[k]
        vals["slack"] = (avg[1] <= 0).astype(float)
        if self._inertia is None or self._inertia[0] != (self.body_mass, self.height):
            self._inertia = ((self.body_mass, self.height), LegInertia(self.body_mass, self.height))
        inertia = self._inertia[1]
        # the thigh and the shank hang along the femur's and the tibia's -y, as posed; the
        # adduction axis is Rz(flexion) x, the rotation axis the femur's long axis
        femur, tibia = transforms["femur_r"], transforms["tibia_r"]
        if len(femur) == 1:  # one pose: on floats
            long_axis = femur[0, :3, 1].tolist()
            thigh, shank = [-x for x in long_axis], [-x for x in tibia[0, :3, 1].tolist()]
            required = inertia.hip_flexion_moment_one(thigh, shank, hip_acceleration)
            flexion = math.radians(float(poses["hip_flexion"][0]))
            side = np.array([inertia.side_one(thigh, shank, [math.cos(flexion), math.sin(flexion), 0.0],
                                              long_axis)])  # fmt: skip
        else:
            required = inertia.hip_flexion_moment_required(-femur[:, :2, 1], -tibia[:, :2, 1],
                                                           hip_acceleration)  # fmt: skip
            flexion_a = np.radians(poses["hip_flexion"])
            adduction_axis = np.zeros((len(femur), 3))
            adduction_axis[:, 0], adduction_axis[:, 1] = np.cos(flexion_a), np.sin(flexion_a)
            side = inertia.side_moments_required(
                -femur[:, :3, 1], -tibia[:, :3, 1], adduction_axis, femur[:, :3, 1]
            )
        if self._checked_balance() == "hip":
            act, feasible, unmet = self._balanced(moments[:3], required, side)
        else:  # share_moment takes one pose on floats itself
            act, feasible = share_moment(moments[0], required)
            unmet = np.zeros((len(required), 3))
            if not feasible.all():
                unmet[:, 0] = np.where(feasible, 0.0, required - (act * moments[0]).sum(axis=1))
        vals["activation"] = act
        # each muscle's share of the hip-flexion moment supplied: an antagonist's is negative
        # (active to balance a turning or side-swinging moment, it opposes flexion)
        if len(lengths) == 1:  # one pose: on floats (numpy's per-call cost is most of it)
            given = [a * f for a, f in zip(act[0].tolist(), moments[0, 0].tolist(), strict=True)]
            whole = float(np.add.reduce(np.array(given)))  # numpy's sum, as the batch's
            vals["share"] = np.array([[g / whole for g in given] if whole > 0 else [0.0] * len(given)])
        else:
            supplied = act * moments[0]
            total = np.add.reduce(supplied, axis=1, keepdims=True)
            vals["share"] = np.divide(supplied, total, out=np.zeros(supplied.shape),
                                      where=total > 0)  # fmt: skip
        return PoseResult(self.muscles, poses, vals, required, feasible, side, unmet)

    def _balanced(self, moments: Array, required: Array,
                  side: Array) -> tuple[Array, Array, Array]:  # fmt: skip
        """The hold task with the hip's three moments balanced (hipflex.model.balance), where
        it needs the flexors; elsewhere the muscles rest, as in the flexion-only task (the
        extensors' part is not modelled). Activations, feasibility and unmet moments."""
        n = len(required)
        if n == 1 and required[0] > 0:  # one pose (a slider step): on floats
            rows = moments[:, 0].tolist()
            act_one, ok, unmet_one = balance_one(
                (rows[0], rows[1], rows[2]),
                (float(required[0]), float(side[0, 0]), float(side[0, 1])),
            )
            return np.array([act_one]), np.array([ok]), np.array([unmet_one])
        act = np.zeros((n, moments.shape[2]))
        feasible = np.ones(n, bool)
        unmet = np.zeros((n, 3))
        lifting = np.flatnonzero(required > 0)
        if lifting.size:
            act[lifting], feasible[lifting], unmet[lifting] = balance_moments(
                moments.transpose(1, 0, 2)[lifting],
                np.column_stack([required[lifting], side[lifting]]),
            )
        return act, feasible, unmet

    def at(self, hip_flexion: float = 0.0, knee_flexion: float = 0.0, hip_adduction: float = 0.0,
           hip_rotation: float = 0.0, hip_acceleration: float = 0.0) -> PoseResult:  # fmt: skip
        """One pose."""
        for name, v in (("hip_flexion", hip_flexion), ("knee_flexion", knee_flexion),
                        ("hip_adduction", hip_adduction), ("hip_rotation", hip_rotation)):  # fmt: skip
            if type(v) not in (float, int) and np.ndim(v) != 0:  # np.ndim is slow on floats
                raise PoseError(f"{name}: at() takes one angle; use sweep() for arrays")
        return self.evaluate(
            hip_flexion, hip_adduction, hip_rotation, knee_flexion, hip_acceleration
        )

    def sweep(self, hip_flexion: ArrayLike, knee_flexion: ArrayLike = 0.0, hip_adduction: ArrayLike = 0.0,
              hip_rotation: ArrayLike = 0.0, hip_acceleration: float = 0.0) -> PoseResult:  # fmt: skip
        """Many poses at once (inputs broadcast against each other)."""
        return self.evaluate(
            hip_flexion, hip_adduction, hip_rotation, knee_flexion, hip_acceleration
        )

    def bone_contact(self, hip_flexion: ArrayLike = 0.0, hip_adduction: ArrayLike = 0.0,
                     hip_rotation: ArrayLike = 0.0) -> ContactResult:  # fmt: skip
        """Where and how deeply the pelvis and the femur overlap at each pose (degrees in, m
        out); ``touching`` marks poses where a real hip would already have stopped."""
        poses = self._poses(hip_flexion=hip_flexion, hip_adduction=hip_adduction,
                            hip_rotation=hip_rotation)  # fmt: skip
        angles = [poses[c] for c in ("hip_flexion", "hip_adduction", "hip_rotation")]
        if angles[0].size == 1:  # one pose: the contact model remembers the last one asked
            return bone_contact(self.ctx).at(*(float(a[0]) for a in angles))
        return bone_contact(self.ctx).at(*angles)

    def free_flexion(self, hip_adduction: float = 0.0, hip_rotation: float = 0.0) -> FlexionRange:
        """Hip flexion and extension reachable from 0 deg at this adduction and rotation before
        bone meets bone (deg; the joint range's ends where the bones never meet)."""
        poses = self._poses(hip_adduction=_one_angle("hip_adduction", hip_adduction),
                            hip_rotation=_one_angle("hip_rotation", hip_rotation))  # fmt: skip
        return bone_contact(self.ctx).free_flexion(
            float(poses["hip_adduction"][0]), float(poses["hip_rotation"][0])
        )

    def highest_hold_angle(
        self, knee_flexion: float = 0.0, hip_acceleration: float = 0.0,
        hip_adduction: float = 0.0, hip_rotation: float = 0.0,
    ) -> float | None:
        """Highest hip flexion (deg, 1-degree grid, 0..max) the muscles can hold at this knee
        angle, adduction and rotation."""
        hi = self.ctx.skeleton.ranges["hip_flexion"][1]
        angles = np.arange(0.0, hi + 1e-9, 1.0)
        res = self.sweep(angles, knee_flexion=knee_flexion, hip_adduction=hip_adduction,
                         hip_rotation=hip_rotation, hip_acceleration=hip_acceleration)  # fmt: skip
        ok = np.flatnonzero(res.feasible)
        return float(angles[ok[-1]]) if ok.size else None

    def lift_capacity(
        self, hip_flexion: float, knee_flexion: float = 0.0, hip_adduction: float = 0.0,
        hip_rotation: float = 0.0, group: tuple[str, ...] = ("iliacus", "psoas"),
    ) -> LiftCapacity:
        """The largest pure hip-flexion moment at one pose (adduction and rotation moments
        cancelled, as in a free knee lift) and ``group``'s share of it (hipflex.model.lift)."""
        unknown = [g for g in group if g not in self.muscles]
        if unknown:
            raise PoseError(f"unknown muscle ids: {', '.join(unknown)}")
        res = self.at(hip_flexion, knee_flexion, hip_adduction, hip_rotation)
        return lift_capacity(pose_moments(res), [self.muscles.index(g) for g in group])

    def explain(
        self, hip_flexion: float, knee_flexion: float = 0.0, **kw: float
    ) -> list[dict[str, object]]:
        """Plain-language statements with figures, computed at this pose (one angle each)."""
        from hipflex.model.explain import explain

        hip = _one_angle("hip_flexion", hip_flexion)
        knee = _one_angle("knee_flexion", knee_flexion)
        off = {k: _one_angle(k, kw.pop(k)) for k in ("hip_adduction", "hip_rotation") if k in kw}
        poses = self._poses(hip_flexion=hip, knee_flexion=knee, **off)  # joint ranges, finite
        off = {k: float(poses[k][0]) for k in off}
        return explain(self, hip, knee, **off, **kw)


def load_model(pack: object | None = None, **kw: object) -> HipModel:
    """Load the asset pack (an ``AssetPack``, a pack folder, or None for the configured cache)
    and the anatomy data, and return a ready ``HipModel``."""
    ctx = ModelContext.load(pack)  # type: ignore[arg-type]
    return HipModel(ctx, **kw)  # type: ignore[arg-type]
