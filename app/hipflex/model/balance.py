"""Which muscles are active when the hip's three moments must balance, not only flexion.

Holding the thigh still means meeting the weight's moment about every hip axis: a muscle that
flexes the hip while turning it inward (gluteus medius and minimus at deep flexion) can only
be used as far as something else cancels the turning. Static optimisation over all three:

    minimise sum(a_i^2)  subject to  sum(a_i * m_i) = r,  0 <= a_i <= 1,

with m_i muscle i's maximal active moments about hip flexion, adduction and rotation and r the
moments required. The optimum is a_i = clip(lambda . m_i, 0, 1) for a multiplier lambda in
three dimensions (the one-moment case is ``activity.share_moment``). Lambda maximises the dual,
a concave piecewise-quadratic function; a semismooth Newton ascent finds it in a few steps
(the full step where it raises the dual enough, else an exact line search along it), vectorised over poses (Qi & Sun 1993, Math Program 58:353-367, for the method;
a test checks the optimum against scipy's SLSQP).

Where r cannot be reached (it lies outside every sum of the muscles' moments at activations
0..1) the dual rises without bound, and the ascent stops as soon as its multiplier d proves
it: d . r > sum of max(d . m_i, 0), which no reachable r satisfies. Where no such proof comes
within ``MAX_STEPS`` a linear programme decides. The activations shown there are those that
come closest: the same problem with a reserve moment about each axis (OpenSim's "reserve
actuators", ``RESERVE`` N m each, penalised like a muscle's activation), whose optimum is
unique, so a pose gives the same answer however it was reached; the reserves' moments are what
the muscles leave unmet.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog

from hipflex.model.activity import flexion_multipliers, multiplier_one

Array = NDArray[np.float64]

MAX_STEPS = 60  # Newton steps; two to six are usual
RESIDUAL_TOL = 1e-13  # imbalance (N m) per unit of the moments' scale at convergence
ARMIJO = 1e-4  # the rise a full step must give (this fraction of the model's) to be taken
# near the optimum the dual's rise falls below its rounding: a full step is accepted within
# this relative margin of the dual's size rather than searched along for nothing
ROUNDING = 1e-13
# N m per unit of reserve where the task is out of reach: a tenth of the weakest modelled
# muscle's moment is still far above it, so the muscles do what they can before a reserve helps
RESERVE = 1.0

STALL = 1e-14  # a step this small relative to the multiplier ends the ascent
SETTLED, OUT_OF_REACH, UNSETTLED = 0, 1, 2
# Newton steps the batch takes before it hands a pose still open to the float path (per pose,
# so a pose's numbers do not depend on the others in its batch)
BATCH_STEPS = 6


def balance_moments(moments: ArrayLike, required: ArrayLike) -> tuple[Array, Array, Array]:
    """Activations (n, m), a feasibility flag (n,) and the moments left unmet (n, 3).

    ``moments`` (n, 3, m): each muscle's maximal active moment about hip flexion, adduction
    and rotation at each pose (N m; positive = flexor, adductor, internal rotator).
    ``required`` (n, 3): the moments the muscles must supply. Where they can, the unmet
    moments are zero; where they cannot, the activations come closest (module docstring).
    """
    m = np.asarray(moments, float)
    r = np.asarray(required, float)
    if m.ndim != 3 or m.shape[1] != 3 or r.shape != (m.shape[0], 3):
        raise ValueError(f"moments (n, 3, m) and required (n, 3) expected, got {m.shape} and "
                         f"{r.shape}")  # fmt: skip
    if not (np.isfinite(m).all() and np.isfinite(r).all()):
        raise ValueError("moments and required moments must be finite")
    act, status = _ascend(m, r)
    unmet = np.zeros_like(r)
    # the poses still open after the batch's steps, and those out of reach, on floats:
    # numpy's per-call cost would dominate on a handful of rows
    for i in np.flatnonzero(status != SETTLED):
        act[i], settled, unmet[i] = balance_one(
            (m[i, 0].tolist(), m[i, 1].tolist(), m[i, 2].tolist()),
            (float(r[i, 0]), float(r[i, 1]), float(r[i, 2])),
            out_of_reach=bool(status[i] == OUT_OF_REACH),
        )
        status[i] = SETTLED if settled else OUT_OF_REACH
    return act, status == SETTLED, unmet


def _ascend(m: Array, r: Array) -> tuple[Array, Array]:
    """The strict dual ascent over poses for ``BATCH_STEPS`` steps: activations and a status
    per pose (``UNSETTLED`` for those left to the float path)."""
    n = m.shape[0]
    tol = RESIDUAL_TOL * (np.abs(m).sum(axis=(1, 2)) + np.abs(r).sum(axis=1) + 1.0)
    lam = np.zeros((n, 3))
    # start from the flexion-only optimum's multiplier: its saturated flexors are usually the
    # balanced optimum's too, which saves a step or two
    lam[:, 0] = flexion_multipliers(m[:, 0], r[:, 0])
    act = np.zeros((n, m.shape[2]))
    status = np.full(n, UNSETTLED)
    active = np.arange(n)  # poses still being solved
    t = (lam[:, None, :] @ m)[:, 0]  # (k, m): lambda . m_i
    for step in range(BATCH_STEPS + 1):
        ma, ra, la = m[active], r[active], lam[active]
        a = np.clip(t, 0.0, 1.0)
        act[active] = a
        grad = ra - (ma @ a[:, :, None])[:, :, 0]
        ta = tol[active]
        done = np.abs(grad).max(axis=1) <= ta
        status[active[done]] = SETTLED
        # the proof that r is out of reach (module docstring)
        beyond = (la * ra).sum(axis=1) - np.maximum(t, 0.0).sum(axis=1)
        out = ~done & (beyond > ta * np.sqrt((la * la).sum(axis=1)))
        status[active[out]] = OUT_OF_REACH
        keep = ~(done | out)
        if not keep.any() or step == BATCH_STEPS:
            break
        active, ma, ra, la, t, grad = (x[keep] for x in (active, ma, ra, la, t, grad))
        lam[active], t = _newton_step(ma, ra, la, t, grad)
    return act, status


def _newton_step(m: Array, r: Array, lam: Array, t: Array, grad: Array) -> tuple[Array, Array]:
    """One damped Newton step of the dual ascent: the new multipliers (k, 3) and their t. The
    generalised Hessian counts the muscles strictly between rest and full activation and those
    exactly at rest."""
    free = ((t >= 0.0) & (t < 1.0)).astype(float)
    hess = (m * free[:, None, :]) @ m.transpose(0, 2, 1)
    tiny = 1e-12 * (np.trace(hess, axis1=1, axis2=2) + 1.0)  # no muscle free: invertible
    h00, h01, h02 = hess[:, 0, 0] + tiny, hess[:, 0, 1], hess[:, 0, 2]
    h11, h12, h22 = hess[:, 1, 1] + tiny, hess[:, 1, 2], hess[:, 2, 2] + tiny
    # the symmetric 3 x 3 solve by cofactors (as the float path), cheaper than a batched solve
    c00, c01, c02 = h11 * h22 - h12 * h12, h02 * h12 - h01 * h22, h01 * h12 - h02 * h11
    c11, c12, c22 = h00 * h22 - h02 * h02, h01 * h02 - h00 * h12, h00 * h11 - h01 * h01
    inv_det = 1.0 / (h00 * c00 + h01 * c01 + h02 * c02)
    g0, g1, g2 = grad[:, 0], grad[:, 1], grad[:, 2]
    step = np.column_stack([(c00 * g0 + c01 * g1 + c02 * g2) * inv_det,
                            (c01 * g0 + c11 * g1 + c12 * g2) * inv_det,
                            (c02 * g0 + c12 * g1 + c22 * g2) * inv_det])  # fmt: skip
    # the full step where it raises the dual enough (the usual case, one evaluation); an
    # exact line search on the rows where it does not
    new_lam = lam + step
    new_t = (new_lam[:, None, :] @ m)[:, 0]
    base = _dual(r, lam, t)
    rise = (grad * step).sum(axis=1)
    short = np.flatnonzero(_dual(r, new_lam, new_t)
                           < base - ROUNDING * (np.abs(base) + 1.0) + ARMIJO * rise)  # fmt: skip
    if short.size:
        size = _exact_steps(m[short], r[short], t[short], step[short])
        new_lam[short] = lam[short] + size[:, None] * step[short]
        new_t[short] = (new_lam[short][:, None, :] @ m[short])[:, 0]
    return new_lam, new_t


def _exact_steps(m: Array, r: Array, t: Array, step: Array) -> Array:
    """``_exact_step`` for many poses at once (k,): the kinks sorted along each row, the
    slope's fall between them summed, and the first interval where it reaches zero."""
    u = (step[:, None, :] @ m)[:, 0]  # (k, m): how fast each t moves along the step
    slope = (step * r).sum(axis=1) - (u * np.clip(t, 0.0, 1.0)).sum(axis=1)
    free = ((t > 0.0) & (t < 1.0)) | ((t == 0.0) & (u > 0.0)) | ((t == 1.0) & (u < 0.0))
    curvature = (u * u * free).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_edges = np.concatenate([-t / u, (1.0 - t) / u], axis=1)  # (k, 2m)
    ahead = (at_edges > 0.0) & (at_edges < 1.0)
    entering = np.concatenate([u > 0.0, u < 0.0], axis=1)
    change = np.where(ahead, np.where(entering, 1.0, -1.0) * np.tile(u * u, 2), 0.0)
    kink = np.where(ahead, at_edges, 1.0)
    order = np.argsort(kink, axis=1)
    kink = np.take_along_axis(kink, order, axis=1)
    change = np.take_along_axis(change, order, axis=1)
    # curvature on each interval: before the first kink, then after each
    curv = np.concatenate([curvature[:, None], curvature[:, None] + np.cumsum(change, axis=1)],
                          axis=1)  # fmt: skip
    starts = np.concatenate([np.zeros((len(t), 1)), kink], axis=1)  # (k, 2m + 1)
    widths = np.diff(np.concatenate([starts, np.ones((len(t), 1))], axis=1), axis=1)
    # the slope at each interval's start
    fall = np.concatenate([np.zeros((len(t), 1)), np.cumsum(curv[:, :-1] * widths[:, :-1], axis=1)],
                          axis=1)  # fmt: skip
    at_start = slope[:, None] - fall
    at_end = at_start - curv * widths
    crossing = at_end <= 0.0
    j = np.where(crossing.any(axis=1), crossing.argmax(axis=1), -1)
    rows = np.arange(len(t))
    c = curv[rows, j]
    root = starts[rows, j] + at_start[rows, j] / np.where(c > 0.0, c, 1.0)
    return np.where((j >= 0) & (c > 0.0), np.minimum(root, 1.0), 1.0)


def _dual(r: Array, lam: Array, t: Array) -> Array:
    """The dual function lambda . r - sum h(t_i), h the integral of clip(t, 0, 1)."""
    c = np.clip(t, 0.0, 1.0)  # h(t) = c (t - c / 2): 0, t^2 / 2 and t - 1/2 in its three parts
    return np.asarray((lam * r).sum(axis=1) - (c * (t - 0.5 * c)).sum(axis=1))


def _reachable(m: Array, r: Array) -> bool:
    """Whether ``r`` is within the muscles' reach (a linear programme: the largest s <= 1 with
    s * r reachable), for the rare pose where the ascent neither settles nor proves it is not."""
    k = m.shape[1]
    res = linprog(np.r_[np.zeros(k), -1.0], A_eq=np.hstack([m, -r[:, None]]), b_eq=np.zeros(3),
                  bounds=[(0.0, 1.0)] * (k + 1), method="highs")  # fmt: skip
    if res.status != 0:
        raise RuntimeError(f"hold task: the linear programme failed ({res.message})")
    return bool(res.x[-1] >= 1.0 - 1e-9)


def balance_one(
    moments: tuple[list[float], list[float], list[float]], required: tuple[float, float, float],
    out_of_reach: bool = False,
) -> tuple[list[float], bool, list[float]]:
    """``balance_moments`` for one pose on Python floats (a slider step): the same ascent,
    without numpy's per-call cost on arrays a muscle long (twenty). ``moments`` are the three rows;
    ``out_of_reach``: already proved so (by the batch), so only the closest activations are
    sought."""
    if not out_of_reach:
        lam, status = _ascend_one(moments, required, 0.0)
        if status == SETTLED:
            return _activations(moments, lam), True, [0.0, 0.0, 0.0]
        if status == UNSETTLED and _reachable(np.array(moments), np.array(required)):
            raise RuntimeError("hold task: the moment balance did not settle")
    lam, status = _ascend_one(moments, required, RESERVE)
    if status != SETTLED:
        raise RuntimeError("hold task: the closest activations did not settle")
    return _activations(moments, lam), False, [RESERVE**2 * x for x in lam]


def _ascend_one(moments: tuple[list[float], list[float], list[float]],
                required: tuple[float, float, float], reserve: float,
                ) -> tuple[tuple[float, float, float], int]:  # fmt: skip
    """``_ascend`` for one pose on floats: the multiplier and the status."""
    mf, md, mr = moments
    rf, rd, rr = required
    ridge = reserve * reserve
    # the muscles that give any moment, with the products the Hessian sums
    cols = [(f, d, q, f * f, f * d, f * q, d * d, d * q, q * q)
            for f, d, q in zip(mf, md, mr, strict=True) if f or d or q]  # fmt: skip
    tol = RESIDUAL_TOL * (sum(map(abs, mf)) + sum(map(abs, md)) + sum(map(abs, mr))
                          + abs(rf) + abs(rd) + abs(rr) + 1.0)  # fmt: skip
    # start from the flexion-only optimum's multiplier (as ``_ascend`` does)
    lf = (multiplier_one([x if x > 0.0 else 0.0 for x in mf], rf) or 0.0) if rf > 0 else 0.0
    ld = lr = 0.0
    ts = [lf * c[0] for c in cols]
    for _ in range(MAX_STEPS):
        gf, gd, gr = rf - ridge * lf, rd - ridge * ld, rr - ridge * lr
        reach = h00 = h01 = h02 = h11 = h12 = h22 = 0.0
        for c, t in zip(cols, ts, strict=True):
            if t < 0.0:  # at rest (most are): tested first, before its column is unpacked
                continue
            f, d, q, ff, fd, fq, dd, dq, qq = c
            if t >= 1.0:
                reach += t
                gf -= f
                gd -= d
                gr -= q
                continue
            if t > 0.0:
                reach += t
                gf -= t * f
                gd -= t * d
                gr -= t * q
            # free (or exactly at rest): in the generalised Hessian
            h00 += ff
            h01 += fd
            h02 += fq
            h11 += dd
            h12 += dq
            h22 += qq
        if max(abs(gf), abs(gd), abs(gr)) <= tol:
            return (lf, ld, lr), SETTLED
        if ridge == 0.0 and (lf * rf + ld * rd + lr * rr - reach
                             > tol * (lf * lf + ld * ld + lr * lr) ** 0.5):  # fmt: skip
            return (lf, ld, lr), OUT_OF_REACH
        extra = ridge + 1e-12 * (h00 + h11 + h22 + 1.0)
        h00 += extra
        h11 += extra
        h22 += extra
        # the 3 x 3 solve by cofactors (symmetric)
        c00 = h11 * h22 - h12 * h12
        c01 = h02 * h12 - h01 * h22
        c02 = h01 * h12 - h02 * h11
        det = h00 * c00 + h01 * c01 + h02 * c02
        c11 = h00 * h22 - h02 * h02
        c12 = h01 * h02 - h00 * h12
        c22 = h00 * h11 - h01 * h01
        sf = (c00 * gf + c01 * gd + c02 * gr) / det
        sd = (c01 * gf + c11 * gd + c12 * gr) / det
        sr = (c02 * gf + c12 * gd + c22 * gr) / det
        us = [sf * c[0] + sd * c[1] + sr * c[2] for c in cols]  # how fast each t moves
        size = _exact_step(ts, us, (rf, rd, rr), (lf, ld, lr), (sf, sd, sr), ridge)
        if size * max(abs(sf), abs(sd), abs(sr)) <= STALL * (max(abs(lf), abs(ld), abs(lr)) + 1.0):
            # no step left to take: the optimum to rounding (with large multipliers the
            # imbalance's own rounding, |lambda . m| |m| eps, can exceed the tolerance)
            return (lf, ld, lr), SETTLED
        lf, ld, lr = lf + size * sf, ld + size * sd, lr + size * sr
        ts = [t + size * u for t, u in zip(ts, us, strict=True)]
    return (lf, ld, lr), UNSETTLED


def _exact_step(ts: list[float], us: list[float], r: tuple[float, float, float],
                lam: tuple[float, float, float], step: tuple[float, float, float],
                ridge: float) -> float:  # fmt: skip
    """The step size in (0, 1] that maximises the dual along ``step`` (an exact line search).

    Along the step the dual's slope is d . r - ridge (lambda + s d) . d - sum u_i clip(t_i +
    s u_i, 0, 1), u_i = d . m_i: piecewise linear and falling, with a kink where a muscle
    reaches rest or full activation. Walking the kinks in order finds where it reaches zero;
    with no kink the Newton step (size 1) is exact."""
    sf, sd, sr = step
    slope = (sf * r[0] + sd * r[1] + sr * r[2]
             - ridge * (lam[0] * sf + lam[1] * sd + lam[2] * sr))  # fmt: skip
    curvature = ridge * (sf * sf + sd * sd + sr * sr)  # minus the slope's rate of change
    kinks: list[tuple[float, float]] = []  # (size, change in curvature there)
    for t, u in zip(ts, us, strict=True):
        if t >= 1.0:
            slope -= u
            if u < 0.0:  # leaving full activation: free from there, at rest beyond
                if t == 1.0:
                    curvature += u * u
                elif t + u < 1.0:
                    kinks.append(((1.0 - t) / u, u * u))
                if t + u < 0.0:
                    kinks.append((-t / u, -u * u))
        elif t <= 0.0:
            if u > 0.0:  # leaving rest: free from there, fully active beyond
                if t == 0.0:
                    curvature += u * u
                elif t + u > 0.0:
                    kinks.append((-t / u, u * u))
                if t + u > 1.0:
                    kinks.append(((1.0 - t) / u, -u * u))
        else:  # free now, until it reaches rest or full activation
            slope -= u * t
            curvature += u * u
            if t + u > 1.0:
                kinks.append(((1.0 - t) / u, -u * u))
            elif t + u < 0.0:
                kinks.append((-t / u, -u * u))
    at = 0.0
    kinks.sort()
    for s, change in kinks:
        ahead = slope - curvature * (s - at)
        if ahead <= 0.0:
            break
        slope, at = ahead, s
        curvature += change
    else:
        if slope - curvature * (1.0 - at) >= 0.0:
            return 1.0
    return at + slope / curvature if curvature > 0.0 else 1.0


def _activations(moments: tuple[list[float], list[float], list[float]],
                 lam: tuple[float, float, float]) -> list[float]:  # fmt: skip
    """Every muscle's activation from the multiplier: clip(lambda . m_i, 0, 1)."""
    lf, ld, lr = lam
    out = []
    for f, d, q in zip(*moments, strict=True):
        t = lf * f + ld * d + lr * q
        out.append(0.0 if t < 0.0 else 1.0 if t > 1.0 else t)
    return out
