"""Muscle capacity: rigid-tendon fibre length and the active force-length relation.

Rigid tendon, fixed-width pennation (Millard et al. 2013, J Biomech Eng 135:021005; the model
Rajagopal 2016 uses): the fibre's projection along the tendon is L_mt - l_ts and its height
l_opt * sin(alpha_opt) stays constant, so a short fibre turns more oblique instead of
shortening in line with the tendon. biomechanics.md section 4 gives the simpler
l_fibre = (L_mt - l_ts) / cos(alpha_opt), which holds the angle fixed; the two agree near optimal
length and differ on the ascending limb (iliacus at 110 deg hip flexion: 0.50 against 0.44).
A muscle-tendon unit at or below its tendon slack length is slack: no active force.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import PchipInterpolator

Array = NDArray[np.float64]

# Active force-length curve of Rajagopal et al. 2016: the Millard et al. 2013 curve with min
# width 0.25, transition 0.77, max width 1.90, shallow-ascending slope 0.75, minimum 0. Values
# every 0.05 [model: OpenSim 4.6 ActiveForceLengthCurve with those parameters, evaluated by
# tools/opensim_reference.py --force-length]; biomechanics.md section 4 lists a subset and these
# agree with it to 0.005. Zero at and below 0.25 and at and above 1.90; shape-preserving cubic
# between the points (within 0.007 of OpenSim's curve everywhere).
_FL_L = np.round(np.arange(0.25, 1.90 + 1e-9, 0.05), 2)
_FL_F = np.array([
    0.0, 0.0138, 0.1018, 0.2041, 0.3078, 0.4117, 0.5156, 0.6190, 0.7194, 0.8007, 0.8483, 0.8873,
    0.9250, 0.9624, 0.9961, 1.0, 0.9965, 0.9613, 0.9038, 0.8428, 0.7809, 0.7186, 0.6562, 0.5937,
    0.5312, 0.4688, 0.4063, 0.3438, 0.2813, 0.2189, 0.1566, 0.0946, 0.0340, 0.0,
])  # fmt: skip
_FL = PchipInterpolator(_FL_L, _FL_F, extrapolate=False)
_FL_C = np.asarray(_FL.c)  # (4, pieces): cubic coefficients on each interval
_FL_PER_STEP = 20.0  # 1 / 0.05, the grid's spacing
_FL_LO, _FL_HI, _FL_LAST = float(_FL_L[0]), float(_FL_L[-1]), len(_FL_L) - 2  # ends, last piece


def active_force_length(norm_fiber_length: ArrayLike) -> Array:
    """Active force-length factor (0..1) at normalised fibre length (NaN for slack reads 0)."""
    # fmax/fmin drop NaN, so NaN and +-inf land on the curve's zero ends; np.clip is slower
    x = np.fmin(np.fmax(np.asarray(norm_fiber_length, float), _FL_LO), _FL_HI)
    # the interpolant's cubic pieces on the even grid, evaluated directly (faster than
    # PchipInterpolator's call or a search); ``take``, not fancy indexing (a third of the time
    # on a pose's few lines)
    i = np.minimum(((x - _FL_LO) * _FL_PER_STEP).astype(np.intp), _FL_LAST)
    dx = x - _FL_L.take(i)
    c = _FL_C.take(i, axis=1)
    out = ((c[0] * dx + c[1]) * dx + c[2]) * dx + c[3]
    return np.asarray(np.minimum(np.maximum(out, 0.0), 1.0))


# the force-length curve's pieces on floats (``fibres_one``): each one's start and its cubic's
# coefficients, highest power first
_FL_PIECES = list(zip(_FL_L[:-1].tolist(), *_FL_C.tolist(), strict=True))


def pennated_fiber(
    along_tendon: ArrayLike, cos_pennation_opt: ArrayLike, sin2_pennation_opt: ArrayLike | None = None
) -> tuple[Array, Array]:
    """Normalised fibre length and cos(pennation) from the fibres' length along the tendon.

    ``along_tendon`` is (L_mt - l_ts) / l_opt and ``cos_pennation_opt`` is cos(alpha_opt);
    ``sin2_pennation_opt``, 1 - cos^2(alpha_opt) as computed here, if known (a model's lines
    keep it: two numpy calls fewer a pose). Fixed width: fibre = sqrt(x^2 + sin^2(alpha_opt)),
    cos(alpha) = x / fibre. Where x <= 0 the muscle is slack: the fibre length is reported as
    x / cos(alpha_opt) (<= 0, the shortfall the rigid-angle rule gives) and cos(alpha) as 0, so
    slack reads as slack and carries no force.
    """
    x = np.asarray(along_tendon, float)
    c = np.asarray(cos_pennation_opt, float)
    sin2 = 1.0 - c * c if sin2_pennation_opt is None else sin2_pennation_opt
    fibre = np.sqrt(x * x + sin2)
    taut = x > 0
    norm = np.where(taut, fibre, x / c)
    return norm, np.where(taut, x, 0.0) / np.maximum(fibre, 1e-300)  # 0, not 0/0, unpennated


def fibres_one(
    along_tendon: list[float], cos_pennation_opt: list[float], sin2_pennation_opt: list[float]
) -> tuple[list[float], list[float], list[float]]:
    """``pennated_fiber`` then ``active_force_length`` for one pose's lines on Python floats,
    step for step (the same bits: on a pose's few lines numpy's per-call cost, not the
    arithmetic, is the time): normalised fibre length, cos(pennation) and force-length factor
    per line. ``sin2_pennation_opt`` is 1 - cos^2(alpha_opt) as ``pennated_fiber`` takes it."""
    norms, cosines, factors = [], [], []
    for x, c, sin2 in zip(along_tendon, cos_pennation_opt, sin2_pennation_opt, strict=True):
        fibre = math.sqrt(x * x + sin2)
        floor = 1e-300 if fibre < 1e-300 else fibre  # np.maximum(fibre, 1e-300), NaN kept
        if x > 0:
            norm, cosine = fibre, x / floor
        else:  # slack
            norm, cosine = x / c, 0.0 / floor
        # on the curve: clamped to its ends (NaN to the lower, as np.fmax), its piece's cubic,
        # clipped to 0..1 (NaN kept, as np.maximum and np.minimum)
        at = norm if norm > _FL_LO else _FL_LO
        at = at if at < _FL_HI else _FL_HI
        piece = int((at - _FL_LO) * _FL_PER_STEP)
        start, c0, c1, c2, c3 = _FL_PIECES[piece if piece < _FL_LAST else _FL_LAST]
        dx = at - start
        factor = ((c0 * dx + c1) * dx + c2) * dx + c3
        factor = 0.0 if factor < 0.0 else factor
        norms.append(norm)
        cosines.append(cosine)
        factors.append(1.0 if factor > 1.0 else factor)
    return norms, cosines, factors


def rederive_tendon_slack_length(
    mt_length_reference: float,
    optimal_fiber_length: float,
    pennation_deg: float,
    norm_fiber_length_reference: float,
) -> float:
    """Tendon slack length that reproduces a reference rigid-tendon fibre length at one pose.

    Published tendon slack lengths belong to their own skeleton; on these bones we keep the
    reference model's fibres at the same length along the tendon in the neutral pose
    (biomechanics.md section 3). ``norm_fiber_length_reference`` is that length expressed by the
    rigid-angle rule, (L_mt - l_ts) / cos(alpha_opt) / l_opt, as tools/opensim_reference.py
    reads it; with the same projection the fixed-width fibre length matches too.
    """
    lf = norm_fiber_length_reference * optimal_fiber_length
    return float(mt_length_reference - lf * np.cos(np.radians(pennation_deg)))
