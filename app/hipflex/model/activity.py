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


def share_moment(max_moment: Array, required: Array) -> tuple[Array, Array]:
    """Activations (n_poses, n_muscles) and a feasibility flag (n_poses,).

    ``max_moment`` (n_poses, n_muscles) in N m, positive for flexors; ``required`` (n_poses,).
    Where the muscles cannot supply ``required`` every helpful muscle is fully active and the
    flag is False. A non-positive requirement needs no flexor: all activations are zero.

    Closed form ("water filling"): with the k strongest muscles saturated at 1, the rest get
    lambda * M_i with lambda = (required - sum of the k largest) / (sum of squares of the rest);
    the right k is the smallest one that leaves the next muscle unsaturated.
    """
    m = np.clip(np.asarray(max_moment, float), 0.0, None)
    req = np.asarray(required, float)
    order = np.argsort(-m, axis=1)
    ms = np.take_along_axis(m, order, axis=1)
    n, k_max = ms.shape
    saturated = np.concatenate([np.zeros((n, 1)), np.cumsum(ms, axis=1)], axis=1)
    rest_sq = np.concatenate(
        [np.cumsum((ms**2)[:, ::-1], axis=1)[:, ::-1], np.zeros((n, 1))], axis=1
    )
    lam = np.divide(req[:, None] - saturated, rest_sq, out=np.full((n, k_max + 1), np.inf),
                    where=rest_sq > 0)  # fmt: skip
    nxt = np.concatenate([ms, np.zeros((n, 1))], axis=1)
    with np.errstate(invalid="ignore"):  # inf * 0 where nobody is left: not a solution
        ok = (lam * nxt <= 1.0 + 1e-12) & (lam >= 0)
    k = np.argmax(ok, axis=1)
    feasible = ok.any(axis=1) & (saturated[:, -1] >= req - 1e-9)
    lam_k = lam[np.arange(n), k]
    act = np.clip(lam_k[:, None] * m, 0.0, 1.0)
    act = np.where(feasible[:, None], act, (m > 0).astype(float))
    act = np.where((req <= 0)[:, None], 0.0, act)
    return act, feasible
