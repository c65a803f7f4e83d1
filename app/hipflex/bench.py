"""``hipflex bench``: engine timings as medians over repeated runs."""

from __future__ import annotations

import statistics
import time

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


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


def range_rounds(repeats: int) -> int:
    """Rounds of the range timing (every sagittal pose once a round): a fiftieth of ``repeats``,
    at least 1."""
    return max(1, repeats // 50)


def _range_times_ms(model: object, rounds: int) -> tuple[Array, Array]:
    """Each of the 302 sagittal poses (hip flexion -20..130 deg by 1 deg, knee 0 and 90) timed
    as one ``at`` call, ``rounds`` times: per pose the median (ms), and the poses."""
    at = model.at  # type: ignore[attr-defined]
    poses = [(float(h), k) for k in (0.0, 90.0) for h in range(-20, 131)]
    times = np.empty((rounds, len(poses)))
    for r in range(rounds):
        for j, (hip, knee) in enumerate(poses):
            t = time.perf_counter()
            at(hip, knee)
            times[r, j] = time.perf_counter() - t
    return 1000 * np.median(times, axis=0), np.array(poses)


def run_bench(repeats: int = 30) -> dict[str, float]:
    """Print and return medians: one pose (all muscles, everything), the same over every
    sagittal pose, and a 151-angle sweep.

    ``repeats`` runs of the pose timing, ``range_rounds(repeats)`` rounds of the 302 sagittal
    poses, ``sweep_repeats(repeats)`` runs of the sweep timing. The single pose (60 deg, knee
    straight) is one of the cheaper ones: poses where more lines wrap two or three surfaces
    take longer, which the range figures show.
    """
    from hipflex.errors import HipFlexError
    from hipflex.model.contact import bone_contact
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
    # bone contact: one pose (arrays, so the remembered last pose is not what is timed), and the
    # flexion reachable before contact at one adduction and rotation (its cache emptied first)
    contact = bone_contact(model.ctx)
    fadir = (np.array([110.0]), np.array([20.0]), np.array([30.0]))
    out["contact_ms"] = _median_ms(lambda: contact.at(*fadir), repeats)

    def free() -> None:
        contact.forget()
        contact.free_flexion(20.0, 30.0)

    out["free_flexion_ms"] = _median_ms(free, sweep_repeats(repeats))
    # the free-lift capacity (explain only): one pose and its three linear programmes
    out["lift_ms"] = _median_ms(lambda: model.lift_capacity(110.0, 0.0), sweep_repeats(repeats))
    per_pose, poses = _range_times_ms(model, range_rounds(repeats))
    worst = int(np.argmax(per_pose))
    out["range_median_ms"] = float(np.median(per_pose))
    out["range_p95_ms"] = float(np.percentile(per_pose, 95))
    out["range_max_ms"] = float(per_pose[worst])
    n_lines = len(model.ctx.lines)
    print(f"muscles: {len(model.muscles)} ({n_lines} lines of action); "
          f"repeats: {repeats} (one pose), {sweep_repeats(repeats)} (sweep), "
          f"{range_rounds(repeats)} (rounds of the sagittal poses)")  # fmt: skip
    print(f"one pose, all muscles (paths, wraps, moment arms, capacity, activity): "
          f"median {out['pose_ms']:.2f} ms (hip 60 deg, knee 0)")  # fmt: skip
    print(f"one pose, each of the 302 sagittal poses (hip -20..130 deg, knee 0 and 90; "
          f"median of {range_rounds(repeats)} rounds): median {out['range_median_ms']:.2f} ms, "
          f"95th percentile {out['range_p95_ms']:.2f} ms, slowest {out['range_max_ms']:.2f} ms "
          f"(hip {poses[worst][0]:.0f}, knee {poses[worst][1]:.0f})")  # fmt: skip
    print(f"151-angle sweep, all muscles: median {out['sweep_151_ms']:.1f} ms")
    print(f"bone contact, one pose (window and explain only): median {out['contact_ms']:.2f} ms; "
          f"flexion reachable before contact at one adduction and rotation: median "
          f"{out['free_flexion_ms']:.1f} ms")  # fmt: skip
    print(f"free-lift capacity, one pose (explain only; the pose and three linear programmes): "
          f"median {out['lift_ms']:.1f} ms (hip 110 deg, knee 0)")  # fmt: skip
    return out
