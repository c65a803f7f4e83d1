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


def share_moment(max_moment: Array, required: Array, iterations: int = 60) -> tuple[Array, Array]:
    """Activations (n_poses, n_muscles) and a feasibility flag (n_poses,).

    ``max_moment`` (n_poses, n_muscles) in N m, positive for flexors; ``required`` (n_poses,).
    Where the muscles cannot supply ``required`` every helpful muscle is fully active and the
    flag is False. A non-positive requirement needs no flexor: all activations are zero.
    """
    m = np.asarray(max_moment, float)
    req = np.asarray(required, float)
    helpful = np.clip(m, 0.0, None)
    capacity = helpful.sum(axis=1)
    feasible = capacity >= req - 1e-9
    lo = np.zeros(len(req))
    hi = np.full(len(req), 1.0 / max(float(np.min(helpful[helpful > 0], initial=1e-3)), 1e-6))
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        supplied = np.sum(np.clip(mid[:, None] * helpful, 0, 1) * helpful, axis=1)
        short = supplied < req
        lo = np.where(short, mid, lo)
        hi = np.where(short, hi, mid)
    act = np.clip(hi[:, None] * helpful, 0.0, 1.0)
    act = np.where(feasible[:, None], act, (helpful > 0).astype(float))
    act = np.where((req <= 0)[:, None], 0.0, act)
    return act, feasible
