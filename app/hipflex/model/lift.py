"""The hip-flexion moment the muscles can give in a free knee lift, and who gives it.

Summing every flexor's capacity (``max_moment_hip_flexion``) credits a muscle with all of its
flexion even when that flexion comes with a larger turning or side-swinging moment: at 110 deg
gluteus medius turns the thigh inward with about five times the moment it flexes it. Against a
dynamometer strap that does not matter; in a free knee lift nothing holds the thigh, so the
muscles' adduction and rotation moments must cancel among themselves. The largest hip-flexion
moment with both at zero is a linear programme over activations (each 0..1, each muscle at its
maximal active moments at the pose, as capacity is counted: rigid tendon, no passive force).
Its optimum can often be reached in more than one way, so a group's share is reported as its
range over all of them, found by two more programmes with the total held at the optimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog

Array = NDArray[np.float64]

# relative slack on the optimum while a group's share range is sought: about the programmes'
# own tolerance, so that the range covers the optima and not near-optima (where the trade
# between muscles can be steep: 1e-6 moved a share at 0 deg by 1e-4)
OPTIMUM_SLACK = 1e-8


@dataclass(frozen=True)
class LiftCapacity:
    """The pure hip-flexion capacity at one pose and one way the muscles reach it."""

    moment: float  # N m: the largest hip-flexion moment with no net adduction or rotation
    activation: Array  # (n,) one optimum's activations, 0..1
    contribution: Array  # (n,) N m of hip flexion each muscle gives at that optimum
    share_low: float  # the group's least share of ``moment`` over every optimum
    share_high: float  # and its greatest


AXES = ("hip_flexion", "hip_adduction", "hip_rotation")


class _ByQuantity(Protocol):
    def __getitem__(self, quantity: str) -> Array: ...


def pose_moments(result: _ByQuantity, row: int = 0) -> Array:
    """(3, n) one row of a sweep's (or pose's) ``max_moment_*`` about AXES: what
    ``lift_capacity`` takes. ``result`` is indexed by quantity name (a ``PoseResult``)."""
    return np.stack([result[f"max_moment_{c}"][row] for c in AXES]).astype(np.float64)


def lift_capacity(moments: ArrayLike, group: Sequence[int]) -> LiftCapacity:
    """The largest hip-flexion moment with the adduction and rotation moments cancelled.

    ``moments``: shape (3, n), each muscle's maximal active moment about hip flexion, adduction
    and rotation at the pose (N m, positive = flexor, adductor, internal rotator). ``group``:
    the muscles (column indices) whose share is asked for.
    """
    m = np.asarray(moments, float)
    if m.ndim != 2 or m.shape[0] != 3:
        raise ValueError(f"moments must have shape (3, n), got {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError("moments must be finite")
    n = m.shape[1]
    bounds = [(0.0, 1.0)] * n
    flex, side = m[0], m[1:]
    best = _solve(-flex, side, bounds)
    moment = max(float(flex @ best), 0.0)
    if moment <= 0.0:
        zero = np.zeros(n)
        return LiftCapacity(0.0, zero, zero, 0.0, 0.0)
    in_group = np.zeros(n)
    in_group[list(group)] = 1.0
    # the total held at the optimum (less the solver's tolerance) while the group's flexion
    # is pushed down and then up
    floor = (-flex[None], [-moment * (1.0 - OPTIMUM_SLACK)])
    low = _solve(in_group * flex, side, bounds, floor)
    high = _solve(-in_group * flex, side, bounds, floor)
    return LiftCapacity(
        moment=moment, activation=best, contribution=best * flex,
        share_low=float(in_group * flex @ low) / moment,
        share_high=float(in_group * flex @ high) / moment,
    )  # fmt: skip


def _solve(cost: Array, side: Array, bounds: list[tuple[float, float]],
           upper: tuple[Array, list[float]] | None = None) -> Array:  # fmt: skip
    """Activations minimising ``cost`` with the side moments at zero (and ``upper`` held)."""
    res = linprog(cost, A_eq=side, b_eq=np.zeros(len(side)), bounds=bounds, method="highs",
                  A_ub=None if upper is None else upper[0],
                  b_ub=None if upper is None else upper[1])  # fmt: skip
    if res.status != 0:  # zero activation is always feasible, so this is a solver failure
        raise RuntimeError(f"lift capacity: the linear programme failed ({res.message})")
    return np.clip(np.asarray(res.x, float), 0.0, 1.0)
