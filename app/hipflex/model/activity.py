"""Which muscles are active: static optimisation of the hip-flexion moment balance.

minimise sum(a_i^2) subject to sum(a_i * M_i) = M_required, 0 <= a_i <= 1, where M_i is muscle
i's maximum active hip-flexion moment at the pose. The optimum is a_i = clip(lambda * M_i, 0, 1):
the multiplier lambda is found by bisection, vectorised over poses (a closed form that a test
checks against scipy's SLSQP).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def needs_flexors(required: float) -> bool:
    """Whether a required hip-flexion moment (N m) needs any flexor: the solver's own rule, so
    words and activations agree (at zero or below the leg is held without them)."""
    return required > 0


def share_moment(max_moment: Array, required: Array) -> tuple[Array, Array]:
    """Activations (n_poses, n_muscles) and a feasibility flag (n_poses,).

    ``max_moment`` (n_poses, n_muscles) in N m, positive for flexors; ``required`` (n_poses,).
    Where the muscles cannot supply ``required`` every helpful muscle is fully active and the
    flag is False. A non-positive requirement needs no flexor: all activations are zero and the
    flag is True (the leg is held without them; its weight acts behind or under the hip).

    Closed form ("water filling"): with the k strongest muscles saturated at 1, the rest get
    lambda * M_i with lambda = (required - sum of the k largest) / (sum of squares of the rest);
    the right k is the smallest one that leaves the next muscle unsaturated.
    """
    m = np.maximum(np.asarray(max_moment, float), 0.0)
    req = np.asarray(required, float)
    if m.shape[0] == 1:  # one pose (a slider step): the same steps on floats
        act_one, ok_one = _share_one(m[0].tolist(), float(req[0]))
        return np.array([act_one]), np.array([ok_one])
    lam, feasible = _multipliers(m, req)
    act = np.minimum(np.maximum(lam[:, None] * m, 0.0), 1.0)
    act = np.where(feasible[:, None], act, m > 0)  # infeasible: every helpful muscle at 1
    act[req <= 0] = 0.0
    return act, np.logical_or(feasible, req <= 0)


def flexion_multipliers(max_moment: Array, required: Array) -> Array:
    """The multiplier lambda of each pose's optimum (activations clip(lambda * M_i, 0, 1)),
    zero where no flexor is needed or the flexors fall short."""
    m = np.maximum(np.asarray(max_moment, float), 0.0)
    req = np.asarray(required, float)
    lam, feasible = _multipliers(m, req)
    return np.where(np.logical_and(feasible, req > 0), lam, 0.0)


def _multipliers(m: Array, req: Array) -> tuple[Array, Array]:
    """The water filling's multiplier and feasibility per pose (``m`` already >= 0)."""
    n, cols = m.shape
    ms = -m
    ms.sort(axis=1)
    ms = -ms  # strongest first
    # with the k strongest saturated (k = 0 .. columns - 1): their moment, and the sum of
    # squares of the others (k = columns, everybody saturated, is covered by "feasible")
    saturated = np.empty((n, cols))
    saturated[:, 0] = 0.0
    np.add.accumulate(ms[:, :-1], axis=1, out=saturated[:, 1:])
    total = saturated[:, -1] + ms[:, -1]
    rest_sq = np.add.accumulate((ms * ms)[:, ::-1], axis=1)[:, ::-1]
    some = rest_sq > 0  # nobody left to share: no solution with this k
    lam = (req[:, None] - saturated) / np.where(some, rest_sq, 1.0)
    ok = some & (lam * ms <= 1.0 + 1e-12) & (lam >= 0)
    k = ok.argmax(axis=1)
    feasible = np.logical_and(np.logical_or.reduce(ok, axis=1), total >= req - 1e-9)
    return np.asarray(lam[np.arange(n), k], float), np.asarray(feasible, bool)


def shares_one(max_moment: list[float], required: float) -> tuple[list[float], bool, list[float]]:
    """One pose on Python floats (``max_moment`` already >= 0, a slider step): ``share_moment``'s
    activations and flag, and each muscle's share of the moment supplied (activation times its
    moment, over their sum; zero where none is supplied), to the batch's bits (the sum is
    numpy's own)."""
    act, feasible = _share_one(max_moment, required)
    supplied = [a * m for a, m in zip(act, max_moment, strict=True)]
    total = float(np.add.reduce(np.array(supplied)))
    share = [x / total for x in supplied] if total > 0 else [0.0] * len(supplied)
    return act, feasible, share


def _share_one(m: list[float], req: float) -> tuple[list[float], bool]:
    """``share_moment`` for one pose on Python floats, step for step (``m`` already >= 0)."""
    if req <= 0:
        return [0.0] * len(m), True
    lam = multiplier_one(m, req)
    if lam is None:
        return [1.0 if v > 0 else 0.0 for v in m], False
    # clip(lam * v, 0, 1) as np.minimum(np.maximum(...)) gives it (the moments are finite)
    return [0.0 if x < 0.0 else 1.0 if x > 1.0 else x for x in [lam * v for v in m]], True


def multiplier_one(m: list[float], req: float) -> float | None:
    """The multiplier lambda of the flexion-only optimum (activations clip(lambda * m_i, 0,
    1)) for one pose, ``m`` already >= 0 and ``req`` > 0; None where the flexors fall short."""
    ms = sorted(m, reverse=True)
    rest_sq = [0.0] * len(ms)  # sum of squares from k to the end, accumulated from the end
    acc = 0.0
    for k in range(len(ms) - 1, -1, -1):
        acc += ms[k] * ms[k]
        rest_sq[k] = acc
    saturated = 0.0
    for k in range(len(ms)):
        if rest_sq[k] > 0:
            trial = (req - saturated) / rest_sq[k]
            if trial * ms[k] <= 1.0 + 1e-12 and trial >= 0:
                return None if _sum_left(ms) < req - 1e-9 else trial
        if k < len(ms) - 1:
            saturated += ms[k]
    return None


def _sum_left(values: list[float]) -> float:
    """Left-to-right sum (numpy's ``add.accumulate`` order, not its pairwise ``sum``)."""
    total = 0.0
    for v in values:
        total += v
    return total
