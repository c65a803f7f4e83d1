"""Which muscles are active when the hip's three moments must balance, not only flexion.

Holding the thigh still means meeting the weight's moment about every hip axis: a muscle that
flexes the hip while turning it inward (gluteus medius and minimus at deep flexion) can only
be used as far as something else cancels the turning. Static optimisation over all three:

    minimise sum(a_i^2)  subject to  sum(a_i * m_i) = r,  0 <= a_i <= 1,

with m_i muscle i's maximal active moments about hip flexion, adduction and rotation and r the
moments required. The optimum is a_i = clip(lambda . m_i, 0, 1) for a multiplier lambda in
three dimensions (the one-moment case is ``activity.share_moment``). Lambda maximises the dual,
a concave piecewise-quadratic function; a semismooth Newton ascent with backtracking finds it
in a few steps, vectorised over poses (Qi & Sun 1993, Math Program 58:353-367, for the method;
a test checks the optimum against scipy's SLSQP).

Where r cannot be reached (it lies outside every sum of the muscles' moments at activations
0..1) the dual rises without bound along a direction d that separates r from what the muscles
can give: d . r > sum of max(d . m_i, 0), which no reachable r can satisfy. The ascent stops
when its multiplier is such a certificate: every muscle that pushes along d is then fully
active and the rest rest, the one-moment rule (every helpful flexor at 1) with "helpful" read
along d.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

MAX_STEPS = 200  # Newton steps; a handful are usual
MAX_HALVINGS = 60  # backtracking halvings per step
RESIDUAL_TOL = 1e-10  # imbalance (N m) per unit of the moments' scale at convergence
ARMIJO = 1e-4  # sufficient-rise fraction for the backtracking
# near the optimum the dual's rise falls below its rounding: a step is accepted within this
# relative margin of the dual's size, or the backtracking would stall one ulp from the end
ROUNDING = 1e-13


def balance_moments(moments: ArrayLike, required: ArrayLike) -> tuple[Array, Array]:
    """Activations (n, m) meeting ``required`` with the least sum of squares, and a
    feasibility flag (n,).

    ``moments`` (n, 3, m): each muscle's maximal active moment about hip flexion, adduction
    and rotation at each pose (N m; positive = flexor, adductor, internal rotator).
    ``required`` (n, 3): the moments the muscles must supply. Where they cannot, the flag is
    False and the activations follow the separating direction (module docstring).
    """
    m = np.asarray(moments, float)
    r = np.asarray(required, float)
    if m.ndim != 3 or m.shape[1] != 3 or r.shape != (m.shape[0], 3):
        raise ValueError(f"moments (n, 3, m) and required (n, 3) expected, got {m.shape} and "
                         f"{r.shape}")  # fmt: skip
    if not (np.isfinite(m).all() and np.isfinite(r).all()):
        raise ValueError("moments and required moments must be finite")
    n = m.shape[0]
    tol = RESIDUAL_TOL * (np.abs(m).sum(axis=(1, 2)) + np.abs(r).sum(axis=1) + 1.0)
    lam = np.zeros((n, 3))
    act = np.zeros((n, m.shape[2]))
    feasible = np.ones(n, bool)
    active = np.arange(n)  # poses still being solved
    for _ in range(MAX_STEPS):
        ma, ra, la = m[active], r[active], lam[active]
        t = (la[:, None, :] @ ma)[:, 0]  # (k, m): lambda . m_i
        a = np.clip(t, 0.0, 1.0)
        grad = ra - (ma @ a[:, :, None])[:, :, 0]
        ta = tol[active]
        done = np.abs(grad).max(axis=1) <= ta
        # the certificate that r is out of reach (module docstring)
        beyond = (la * ra).sum(axis=1) - np.maximum(t, 0.0).sum(axis=1)
        out = ~done & (beyond > ta * np.sqrt((la * la).sum(axis=1)))
        act[active] = np.where(out[:, None], (t > 0).astype(float), a)
        feasible[active[out]] = False
        keep = ~(done | out)
        if not keep.any():
            return act, feasible
        active, ma, ra, la, t, grad = (x[keep] for x in (active, ma, ra, la, t, grad))
        lam[active] = la + _newton_step(ma, ra, la, t, grad)
    raise RuntimeError(f"hold task: the moment balance did not settle at {active.size} poses "
                       f"in {MAX_STEPS} steps")  # fmt: skip


def _newton_step(m: Array, r: Array, lam: Array, t: Array, grad: Array) -> Array:
    """One damped Newton step (k, 3) of the dual ascent. The generalised Hessian counts the
    muscles strictly between rest and full activation and those exactly at rest (from lambda =
    0 that is all of them: the first step is the unconstrained least-squares multiplier)."""
    free = ((t >= 0.0) & (t < 1.0)).astype(float)
    hess = (m * free[:, None, :]) @ m.transpose(0, 2, 1)
    ridge = 1e-12 * (np.trace(hess, axis1=1, axis2=2) + 1.0)  # no muscle free: invertible
    hess += ridge[:, None, None] * np.eye(3)
    step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
    rise = (grad * step).sum(axis=1)
    base = _dual(r, lam, t)
    base -= ROUNDING * (np.abs(base) + 1.0)
    size = np.ones(len(lam))
    pending = np.ones(len(lam), bool)
    for _ in range(MAX_HALVINGS):
        trial = lam + size[:, None] * step
        ok = _dual(r, trial, (trial[:, None, :] @ m)[:, 0]) >= base + ARMIJO * size * rise
        pending &= ~ok
        if not pending.any():
            break
        size = np.where(pending, 0.5 * size, size)
    return size[:, None] * step


def _dual(r: Array, lam: Array, t: Array) -> Array:
    """The dual function lambda . r - sum h(t_i), h the integral of clip(t, 0, 1)."""
    h = np.where(t <= 0.0, 0.0, np.where(t >= 1.0, t - 0.5, 0.5 * t * t))
    return np.asarray((lam * r).sum(axis=1) - h.sum(axis=1))


def balance_one(
    moments: tuple[list[float], list[float], list[float]], required: tuple[float, float, float]
) -> tuple[list[float], bool]:
    """``balance_moments`` for one pose on Python floats (a slider step): the same ascent,
    without numpy's per-call cost on arrays of nineteen. ``moments`` are the three rows."""
    mf, md, mr = moments
    rf, rd, rr = required
    cols = [(f, d, q) for f, d, q in zip(mf, md, mr, strict=True) if f or d or q]
    tol = RESIDUAL_TOL * (sum(abs(f) + abs(d) + abs(q) for f, d, q in zip(mf, md, mr, strict=True))
                          + abs(rf) + abs(rd) + abs(rr) + 1.0)  # fmt: skip
    lf = ld = lr = 0.0
    for _ in range(MAX_STEPS):
        ts = [lf * f + ld * d + lr * q for f, d, q in cols]
        gf, gd, gr = rf, rd, rr
        reach = 0.0
        for (f, d, q), t in zip(cols, ts, strict=True):
            if t > 0.0:
                reach += t
                a = t if t < 1.0 else 1.0
                gf -= a * f
                gd -= a * d
                gr -= a * q
        if max(abs(gf), abs(gd), abs(gr)) <= tol:
            return _expand(mf, md, mr, (lf, ld, lr), False), True
        if lf * rf + ld * rd + lr * rr - reach > tol * (lf * lf + ld * ld + lr * lr) ** 0.5:
            return _expand(mf, md, mr, (lf, ld, lr), True), False
        # generalised Hessian over the free muscles (and those exactly at rest)
        h00 = h01 = h02 = h11 = h12 = h22 = 0.0
        for (f, d, q), t in zip(cols, ts, strict=True):
            if 0.0 <= t < 1.0:
                h00 += f * f
                h01 += f * d
                h02 += f * q
                h11 += d * d
                h12 += d * q
                h22 += q * q
        ridge = 1e-12 * (h00 + h11 + h22 + 1.0)
        h00 += ridge
        h11 += ridge
        h22 += ridge
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
        rise = gf * sf + gd * sd + gr * sr
        base = _dual_one(cols, (rf, rd, rr), lf, ld, lr)
        base -= ROUNDING * (abs(base) + 1.0)
        size = 1.0
        for _ in range(MAX_HALVINGS):
            if (_dual_one(cols, (rf, rd, rr), lf + size * sf, ld + size * sd, lr + size * sr)
                    >= base + ARMIJO * size * rise):  # fmt: skip
                break
            size *= 0.5
        lf, ld, lr = lf + size * sf, ld + size * sd, lr + size * sr
    raise RuntimeError(f"hold task: the moment balance did not settle in {MAX_STEPS} steps")


def _dual_one(cols: list[tuple[float, float, float]], r: tuple[float, float, float],
              lf: float, ld: float, lr: float) -> float:  # fmt: skip
    """``_dual`` for one pose on floats."""
    total = lf * r[0] + ld * r[1] + lr * r[2]
    for f, d, q in cols:
        t = lf * f + ld * d + lr * q
        if t > 0.0:
            total -= t - 0.5 if t >= 1.0 else 0.5 * t * t
    return total


def _expand(mf: list[float], md: list[float], mr: list[float], lam: tuple[float, float, float],
            certificate: bool) -> list[float]:  # fmt: skip
    """Every muscle's activation from the multiplier: clip(lambda . m_i, 0, 1), or on a
    certificate 1 where lambda . m_i > 0."""
    lf, ld, lr = lam
    out = []
    for f, d, q in zip(mf, md, mr, strict=True):
        t = lf * f + ld * d + lr * q
        out.append((1.0 if t > 0.0 else 0.0) if certificate else 0.0 if t < 0.0 else 1.0 if t > 1.0 else t)
    return out
