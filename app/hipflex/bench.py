"""``hipflex bench``: engine timings as medians over repeated runs."""

from __future__ import annotations

import statistics
import time

import numpy as np


def sweep_repeats(repeats: int) -> int:
    """Runs of the 151-angle sweep timing: a fifth of ``repeats``, at least 5."""
    return max(5, repeats // 5)


def _median_ms(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def run_bench(repeats: int = 30) -> dict[str, float]:
    """Print and return medians: one pose (all muscles, everything) and a 151-angle sweep.

    ``repeats`` runs of the pose timing, ``sweep_repeats(repeats)`` of the sweep timing.
    """
    from hipflex.errors import HipFlexError
    from hipflex.model.hipmodel import load_model

    if repeats < 1:
        raise HipFlexError(f"repeats must be at least 1, got {repeats}")

    model = load_model()
    angles = np.arange(-20.0, 131.0, 1.0)
    model.at(60, 0)  # warm caches
    out = {
        "pose_ms": _median_ms(lambda: model.at(60.0, 0.0), repeats),
        "sweep_151_ms": _median_ms(
            lambda: model.sweep(angles, knee_flexion=0.0), sweep_repeats(repeats)
        ),
    }
    n_lines = len(model.ctx.lines)
    print(f"muscles: {len(model.muscles)} ({n_lines} lines of action); "
          f"repeats: {repeats} (one pose), {sweep_repeats(repeats)} (sweep)")  # fmt: skip
    print(f"one pose, all muscles (paths, wraps, moment arms, capacity, activity): "
          f"median {out['pose_ms']:.2f} ms")  # fmt: skip
    print(f"151-angle sweep, all muscles: median {out['sweep_151_ms']:.1f} ms")
    return out
