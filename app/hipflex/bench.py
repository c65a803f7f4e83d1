"""``hipflex bench``: engine timings as medians over repeated runs."""

from __future__ import annotations

import statistics
import time

import numpy as np


def _median_ms(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def run_bench(repeats: int = 30) -> dict[str, float]:
    """Print and return medians: one pose (all muscles, everything) and a 151-angle sweep."""
    from hipflex.model.hipmodel import load_model

    model = load_model()
    angles = np.arange(-20.0, 131.0, 1.0)
    model.at(60, 0)  # warm caches
    out = {
        "pose_ms": _median_ms(lambda: model.at(60.0, 0.0), repeats),
        "sweep_151_ms": _median_ms(
            lambda: model.sweep(angles, knee_flexion=0.0), max(5, repeats // 5)
        ),
    }
    n_lines = len(model.ctx.lines)
    print(f"muscles: {len(model.muscles)} ({n_lines} lines of action); repeats: {repeats}")
    print(f"one pose, all muscles (paths, wraps, moment arms, capacity, activity): "
          f"median {out['pose_ms']:.2f} ms")  # fmt: skip
    print(f"151-angle sweep, all muscles: median {out['sweep_151_ms']:.1f} ms")
    return out
