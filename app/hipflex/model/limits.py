"""Input limits of the hold task, one place for the engine and the explorer's state.

A light module (no numpy), so the state and the command line can check input without loading
the engine.
"""

from __future__ import annotations

BODY_MASS_RANGE = (20.0, 250.0)  # kg: the subjects the hold task accepts
HEIGHT_RANGE = (1.0, 2.4)  # m
MAX_HIP_ACCELERATION = 500.0  # rad/s^2: |hip_acceleration| accepted for the hold task
STRENGTH_RANGE = (0.0, 2.0)  # fraction of a muscle's peak force: 0 = paralysed, 2 = doubled
