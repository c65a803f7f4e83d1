"""Muscle capacity: rigid-tendon fibre length and the active force-length relation.

Rigid tendon: l_fibre = (L_mt - l_ts) / cos(alpha) (biomechanics.md section 4); a fibre length
at or below zero means the muscle-tendon unit is shorter than its tendon: slack, no active force.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import PchipInterpolator

Array = NDArray[np.float64]

# Active force-length curve of Rajagopal et al. 2016 (Millard et al. 2013 curve with min width
# 0.25, transition 0.77, max width 1.90, shallow-ascending slope 0.75, minimum 0). Values from
# biomechanics.md section 4; the curve is zero at and below 0.25 and at and above 1.90 (the
# curve's widths), interpolated shape-preservingly between the tabulated points.
_FL_L = np.array([0.25, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.4, 1.6, 1.9])
_FL_F = np.array([0.0, 0.41, 0.62, 0.80, 0.89, 1.00, 0.84, 0.59, 0.34, 0.0])
_FL = PchipInterpolator(_FL_L, _FL_F, extrapolate=False)
_FL_C = np.asarray(_FL.c)  # (4, pieces): cubic coefficients on each interval


def active_force_length(norm_fiber_length: ArrayLike) -> Array:
    """Active force-length factor (0..1) at normalised fibre length (NaN for slack reads 0)."""
    lf = np.asarray(norm_fiber_length, float)
    x = np.minimum(np.maximum(lf, _FL_L[0]), _FL_L[-1])  # np.clip is slow on tiny arrays
    # the interpolant's cubic pieces, evaluated directly (PchipInterpolator's call is slower)
    i = np.minimum(np.searchsorted(_FL_L, x, side="right") - 1, len(_FL_L) - 2)
    dx = x - _FL_L[i]
    c = _FL_C[:, i]
    out = ((c[0] * dx + c[1]) * dx + c[2]) * dx + c[3]
    out = np.where(np.isfinite(lf), out, 0.0)
    return np.asarray(np.minimum(np.maximum(out, 0.0), 1.0))


def fiber_length(mt_length: ArrayLike, tendon_slack_length: float, pennation_deg: float) -> Array:
    """Rigid-tendon fibre length (m); non-positive values mean the muscle is slack."""
    return np.asarray((np.asarray(mt_length, float) - tendon_slack_length)
                      / np.cos(np.radians(pennation_deg)))  # fmt: skip


def rederive_tendon_slack_length(
    mt_length_reference: float,
    optimal_fiber_length: float,
    pennation_deg: float,
    norm_fiber_length_reference: float,
) -> float:
    """Tendon slack length that reproduces a reference normalised fibre length at one pose.

    Published tendon slack lengths belong to their own skeleton; on these bones we keep the
    reference model's normalised fibre length in the neutral pose (biomechanics.md section 3).
    """
    lf = norm_fiber_length_reference * optimal_fiber_length
    return float(mt_length_reference - lf * np.cos(np.radians(pennation_deg)))
