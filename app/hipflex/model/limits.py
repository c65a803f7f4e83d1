"""Input limits of the hold task, one place for the engine and the explorer's state.

A light module (no numpy), so the state and the command line can check input without loading
the engine.
"""

from __future__ import annotations

BODY_MASS_RANGE = (20.0, 250.0)  # kg: the subjects the hold task accepts
HEIGHT_RANGE = (1.0, 2.4)  # m
MAX_HIP_ACCELERATION = 500.0  # rad/s^2: |hip_acceleration| accepted for the hold task
STRENGTH_RANGE = (0.0, 2.0)  # fraction of a muscle's peak force: 0 = paralysed, 2 = doubled


def drive_text(hip_acceleration: float, unit: str = "rad/s^2") -> str:
    """A knee drive as written everywhere (to a tenth): a measured drive's 179.769 reads 179.8,
    a typed 40 reads 40."""
    return f"{round(hip_acceleration, 1) + 0.0:g} {unit}"
