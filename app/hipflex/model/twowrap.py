"""A segment that wraps over two surfaces in a row (iliopsoas: the pelvic brim, then the
femoral head), solved by its states rather than by iterating.

The path is in one of four states: straight (neither surface wrapped), over the first surface
only, over the second only, or over both. A state is *consistent* when each surface it wraps
engages by the kernel's rule and the path does not touch a surface it leaves out: neither
engages it nor passes within its radius of the axis. (A line that cuts a surface with the axis
on the wrong side of its sense engages nothing, because that wrap would go more than half a
turn round, yet it runs through the bone the surface stands for.) A one-surface path has two
straight legs, to the surface and from it, and neither may touch the surface left out (until
session 16 only the leg between the two surfaces was checked: the first surface's path after
it, the second's before it; an infinite cylinder standing for a long bone, as the femoral
shaft's, also reaches the other leg, and tensor fasciae latae's path over the shaft cylinder
alone then ran on through the greater trochanter sphere before it). The path taken is the
first consistent state of: straight, the shorter one-surface path, both surfaces.

Both surfaces: each surface's path ends at the other's tangent point, so the bridge between
them is tangent to both (the fixed point of the obstacle-set iteration). It is solved by
Newton's method on the entry point onto the second surface, in that cylinder's coordinates
(angle, height), a few steps from the one-surface tangent point. Parallel cylinders also have
a closed form (fastpath), which decides iliopsoas in every pose since session 10, when its
femoral-head cylinder moved to the pelvis. Rows where no state is consistent (the path runs
over the crease where the two surfaces meet, so no bridge is tangent to both; a sphere, which
has no cylinder coordinates) take the obstacle-set iteration as it stood before: start from each surface
alone, move the end points, stop when they settle or after ``SEQUENCE_ITERATIONS`` rounds. A
second surface that the segment's start lies inside (tensor fasciae latae's pelvis-fixed
origin inside the proximal reach of the femoral shaft cylinder, with the hip extended and
turned inward) starts unengaged: its own path would begin at that start, so the first surface
could never come before it, and the iteration would stay on the second alone.

Until session 9 the iteration decided every row that no unique state fitted, and at strong hip
adduction or rotation it alternated between states, so iliopsoas's length stepped by up to
10 mm a degree in the everyday range (docs/status.md).

Two cylinders whose axes are not parallel (a pelvis-fixed surface, then one fixed to the femur,
off the sagittal plane) take the both-surfaces path from ``threewrap.cylinder_pair``, a
one-dimensional search, not Newton's method. A second surface fixed to a body distal of the
first's (``distal`` rows: lower gluteus maximus over the posterior hip cylinder, then the
greater trochanter's posterior roller) stands for a feature of that bone, as the femoral neck
does for iliopsoas (threewrap): it counts only beyond its centre along its axis (its tangent
points, and the point of a segment nearest its axis, seen along it), the path over the first
surface is kept wherever that path does not touch it (before a shorter path over the second
alone: the muscle does not leave the first surface for a path it cannot reach without passing
through the bone), and where no state is consistent the first surface's path stands (no
iteration).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hipflex.model.wrapping import (
    SPAN_LIMIT,
    TWO_PI,
    cross,
    cuts_disc,
    shrunk_radius,
    stack1,
    surface_basis,
    wrap_rows,
)

Array = NDArray[np.float64]
Bools = NDArray[np.bool_]
# rows of one surface: centre, side, axis (N, 3), sense, radius (N,), sphere (N,) bool
Surface = tuple[Array, Array, Array, Array, Array, Bools]

SEQUENCE_ITERATIONS = 12  # the fallback iteration's rounds at most
NEWTON_STEPS = 12  # per start; a regular row converges in 3-9 (25 would rescue 13 in 5000 extreme rows)
NEWTON_TOLERANCE = 1e-9  # metres, on the entry point's fixed-point residual
# starting angles about the second surface's axis, from its tangent point for p->s alone, then
# a quarter turn back: the fixed point is not unique where the bridge can meet the second
# surface on either side, and the shorter path is taken (a taut path is the shortest). Over
# 5000 extreme rows these two starts found the shortest of four starts' (every quarter turn)
# in all but 5, at half the cost.
STARTS = (0.0, -0.5 * np.pi)


@dataclass
class TwoSurfaces:
    """The resolved segments: each surface engaged, the length, the tangent points (entry
    and exit of the first surface, entry and exit of the second) and the state (0 straight,
    1 first only, 2 second only, 3 both, -1 decided by the fallback iteration)."""

    on0: Bools
    on1: Bools
    length: Array
    tangents: list[Array]
    state: NDArray[np.intp]
    end0: Array  # where the first surface's line ends (the second's entry point, or s)
    start1: Array  # where the second surface's line starts (the first's exit point, or p)


def rows_of(surface: Surface, index: NDArray[np.intp] | NDArray[np.bool_]) -> Surface:
    """A surface's rows at ``index``."""
    c, e1, e3, sense, r, sphere = surface
    return c[index], e1[index], e3[index], sense[index], r[index], sphere[index]


def touches_in_basis(x: Array, y: Array, c: Array, basis: Array, r: Array) -> Bools:
    """Whether the segment x->y touches the surface (local axes ``basis``): it engages by the
    kernel's rule, or it passes within the radius of the axis (both ends outside). A segment
    that passes the axis at least the radius away on the side the wrap keeps it (h >= r, the
    radius only shrinks below) does neither: the rest is computed on the other rows only."""
    # (N, 2 ends, x y); the basis rows as contiguous columns: the product with the transposed
    # view takes 1.7 times as long on a sweep's rows, for the same bits
    loc = (stack1(x, y) - c[:, None]) @ np.ascontiguousarray(basis[:, :2].transpose(0, 2, 1))
    x0, d = loc[:, 0], loc[:, 1] - loc[:, 0]
    size2 = np.maximum(np.add.reduce(d * d, axis=1), 1e-24)
    h = (d[:, 1] * x0[:, 0] - d[:, 0] * x0[:, 1]) / np.sqrt(size2)
    out = np.zeros(len(x), bool)
    near = np.flatnonzero(h < r)
    if not near.size:
        return out
    loc, x0, d, size2, h, r = loc[near], x0[near], d[near], size2[near], h[near], r[near]
    dist = np.hypot(loc[:, :, 0], loc[:, :, 1])
    r = shrunk_radius(r, dist[:, 0], dist[:, 1])
    th = np.arctan2(loc[:, :, 1], loc[:, :, 0])
    beta = np.arccos(r[:, None] / np.maximum(dist, r[:, None]))
    span = np.mod(th[:, 1] - beta[:, 1] - th[:, 0] - beta[:, 0], TWO_PI)
    span[span > TWO_PI - 1e-9] = 0.0
    outside = (dist[:, 0] > r) & (dist[:, 1] > r)
    engaged = (h < r) & (span < SPAN_LIMIT)
    crossed = cuts_disc(x0[:, 0], x0[:, 1], d[:, 0], d[:, 1], size2, h, r)
    out[near] = outside & (engaged | crossed)
    return out


_TWO_PI = 2.0 * math.pi
_SPAN_LIMIT = float(SPAN_LIMIT)


def acos_ratio(num: float, den: float) -> float:
    """``math.acos(min(max(num / max(den, 1e-300), -1.0), 1.0))``, the fast paths' tangent
    angles on floats, with comparisons in place of the builtins ``min`` and ``max`` (each call
    costs several comparisons' time on a pose's dozens): the same value, NaN kept."""
    x = num / (1e-300 if den < 1e-300 else den)
    return math.acos(1.0 if x > 1.0 else -1.0 if x < -1.0 else x)


def touches_in_plane(x0: float, y0: float, x1: float, y1: float, r: float) -> bool:
    """``touches_in_basis`` on one row of Python floats, given the segment's ends in the
    surface's cross-section (the fast paths' one-pose checks share it). Most segments pass
    clear of the axis on the side the wrap keeps it (h at least the radius, which only shrinks
    below): neither engaged nor crossed, decided before the rest is computed."""
    dx, dy = x1 - x0, y1 - y0
    size2 = dx * dx + dy * dy
    size2 = 1e-24 if size2 < 1e-24 else size2  # max(size2, 1e-24), without the call
    h = (dy * x0 - dx * y0) / math.sqrt(size2)
    if h >= r:
        return False
    d0, d1 = math.hypot(x0, y0), math.hypot(x1, y1)
    # shrunk_radius, on floats: min(r, min(d0, d1) * (1 - 1e-9)), comparisons in place of the
    # builtins (``acos_ratio``)
    shrunk = (d1 if d1 < d0 else d0) * (1.0 - 1e-9)
    r = shrunk if shrunk < r else r
    if not (d0 > r and d1 > r):
        return False
    foot = -(x0 * dx + y0 * dy) / size2
    if abs(h) < r and 0.0 < foot < 1.0:
        return True
    if not h < r:
        return False
    span = (math.atan2(y1, x1) - math.acos(r / d1) - math.atan2(y0, x0) - math.acos(r / d0)) % _TWO_PI
    return span > _TWO_PI - 1e-9 or span < _SPAN_LIMIT


def sphere_clear(x: Array, y: Array, c: Array, r: Array) -> Bools:
    """Whether the line through x and y passes clear of a sphere (centre c, radius r), so that
    the segment x->y does not touch it (``touches_in_basis`` in the sphere's basis): the line's
    distance from the centre is the h that test compares with the radius, and a row is clear
    only with a margin (1e-9 of the radius squared) far above the rounding of either, so it
    never clears a row the full test would take (``fastpath._sphere_clear`` on rows)."""
    d = y - x
    u = cross(c - x, d)
    size2 = np.add.reduce(d * d, axis=1)
    return np.asarray((size2 > 1e-20) & (np.add.reduce(u * u, axis=1) >= r * r * (1.0 + 1e-9) * size2))


def _to_test(x: Array, y: Array, c: Array, r: Array, sphere: Bools) -> NDArray[np.intp] | None:
    """The rows whose touching of a surface takes the full test: all (None) but the sphere rows
    whose line passes clear of the sphere (``sphere_clear``; most of them), which spare their
    basis too."""
    if not sphere.any():
        return None
    return np.flatnonzero(~(sphere & sphere_clear(x, y, c, r)))


def touches(x: Array, y: Array, surface: Surface) -> Bools:
    """``touches_in_basis`` for surface rows (sphere rows clear of the line decided first)."""
    c, e1, e3, sense, r, sphere = surface
    t = _to_test(x, y, c, r, sphere)
    if t is None:
        return touches_in_basis(x, y, c, surface_basis(x, y, c, e1, e3, sense, sphere), r)
    hit = np.zeros(len(x), bool)
    if t.size:
        x, y, c, r = x[t], y[t], c[t], r[t]
        hit[t] = touches_in_basis(x, y, c, surface_basis(x, y, c, e1[t], e3[t], sense[t], sphere[t]), r)
    return hit


def beyond(x: Array, surface: Surface) -> Bools:
    """Whether points x lie beyond the surface's centre along its axis (where a surface that
    stands for part of a bone, as the femoral neck, counts)."""
    return np.asarray(np.add.reduce((x - surface[0]) * surface[2], axis=1) >= 0.0)


def touches_beyond(
    x: Array, y: Array, surface: Surface, basis: Array | None = None, loc: Array | None = None
) -> Bools:
    """``touches`` for a surface that counts only beyond its centre along its axis: the point of
    x->y nearest the axis (seen along it) must lie beyond the centre. ``basis``: the kernel
    basis, if known; ``loc``: x and y in it (``local_ends``), if known."""
    c, e1, e3, sense, r, sphere = surface
    if basis is None:
        basis = surface_basis(x, y, c, e1, e3, sense, sphere)
    if loc is None:
        loc = local_ends(x, y, c, basis)
    x0, d = loc[:, 0], loc[:, 1] - loc[:, 0]
    size2 = np.maximum(d[:, 0] ** 2 + d[:, 1] ** 2, 1e-24)
    nearest = np.clip(-(x0[:, 0] * d[:, 0] + x0[:, 1] * d[:, 1]) / size2, 0.0, 1.0)
    ahead = x0[:, 2] + nearest * d[:, 2] >= 0.0
    return np.asarray(ahead & touches_in_basis(x, y, c, basis, r))


def local_ends(x: Array, y: Array, c: Array, basis: Array) -> Array:
    """The segments' ends x and y in a surface's local axes (centre c, kernel basis): (N, 2
    ends, local x y z)."""
    return np.asarray((stack1(x, y) - c[:, None]) @ basis.transpose(0, 2, 1))


def touches_beyond_in_plane(
    x0: float, y0: float, z0: float, x1: float, y1: float, z1: float, r: float
) -> bool:
    """``touches_beyond`` on one row of Python floats, given the segment's ends in the
    surface's local axes."""
    dx, dy = x1 - x0, y1 - y0
    size2 = dx * dx + dy * dy
    size2 = 1e-24 if size2 < 1e-24 else size2  # max(size2, 1e-24), without the call
    foot = -(x0 * dx + y0 * dy) / size2
    nearest = 0.0 if foot < 0.0 else 1.0 if foot > 1.0 else foot
    if z0 + nearest * (z1 - z0) < 0.0:
        return False
    return touches_in_plane(x0, y0, x1, y1, r)


def _forced(p: Array, s: Array, c: Array, basis: Array, r: Array) -> tuple[Array, ...]:
    """Tangent, arc, tangent from p to s counter-clockwise in ``basis`` whether or not the
    kernel would engage: signed span (negative = the path would have to unwind), length,
    entry and exit tangent points."""
    loc = (stack1(p, s) - c[:, None]) @ basis.transpose(0, 2, 1)  # (N, 2, 3)
    x, y, z = loc[:, :, 0], loc[:, :, 1], loc[:, :, 2]
    dist = np.hypot(x, y)
    r = shrunk_radius(r, dist[:, 0], dist[:, 1])
    th = np.arctan2(y, x)
    beta = np.arccos(np.minimum(r[:, None] / np.maximum(dist, 1e-300), 1.0))
    start = th[:, 0] + beta[:, 0]
    span = np.mod(th[:, 1] - beta[:, 1] - start + np.pi, TWO_PI) - np.pi
    legs = np.sqrt(np.maximum(dist**2 - r[:, None] ** 2, 0.0))
    planar = legs[:, 0] + r * span + legs[:, 1]
    dz = z[:, 1] - z[:, 0]
    slope = dz / np.where(np.abs(planar) > 1e-12, planar, 1e-12)
    ang = np.stack([start, start + span], axis=1)
    height = z[:, :1] + slope[:, None] * np.stack([legs[:, 0], legs[:, 0] + r * span], axis=1)
    local = np.stack([r[:, None] * np.cos(ang), r[:, None] * np.sin(ang), height], axis=-1)
    t = local @ basis + c[:, None]
    return span, np.sqrt(planar**2 + dz**2), t[:, 0], t[:, 1]


def both_surfaces(
    p: Array, s: Array, first: Surface, second: Surface
) -> tuple[Bools, Array, list[Array]]:
    """The path over both surfaces (cylinders), by Newton's method: where it exists (converged,
    each span from 0 to under half a turn), its length and tangent points."""
    ok, length, tangents, _ = chain_surfaces(p, s, [first, second])
    return ok, length, tangents


def chain_surfaces(
    p: Array,
    s: Array,
    surfaces: list[Surface],
    q_start: Array | None = None,
    starts: Array | None = None,
) -> tuple[Bools, Array, list[Array], Array]:
    """The path over every surface of ``surfaces`` (cylinders) in order, each wrapped, by
    Newton's method on the entry points onto the second and later surfaces, each in its
    cylinder's coordinates (angle, height): 2 (N - 1) unknowns. One round of the obstacle-set
    iteration wraps each surface from the previous one's exit point to the next one's entry
    point (or s); the residual is how far the entry points move in that round, so a root is
    a path whose bridges are tangent to both surfaces they join.

    ``q_start`` (rows, 2 (N - 1)) is the first guess (default: each surface alone from the
    previous one's exit towards s, as far as the first); ``starts`` (k, 2 (N - 1)) offsets
    added to it, one trial each (default: ``STARTS`` on the angle of the last surface); the
    shortest good trial is taken (a taut path is the shortest). Returns where the path exists
    (converged, each span from 0 to under half a turn), its length, the tangent points (entry
    and exit of each surface) and the spans (rows, N).
    """
    n, m = len(p), len(surfaces)
    u = 2 * (m - 1)  # unknowns per row
    ok = np.zeros(n, bool)
    length = np.zeros(n)
    tangents = [np.zeros((n, 3)) for _ in range(2 * m)]
    spans = np.zeros((n, m))
    sphere = np.zeros(n, bool)
    for surface in surfaces:
        sphere |= surface[5]
    rows = np.flatnonzero(~sphere)
    if not rows.size:
        return ok, length, tangents, spans
    p, s = p[rows], s[rows]
    sub = [rows_of(surface, rows) for surface in surfaces]
    flat = np.zeros(len(rows), bool)
    # a cylinder's basis does not depend on the line
    bases = [surface_basis(p, s, c, e1, e3, sg, flat) for c, e1, e3, sg, _, _ in sub]
    cs = [surface[0] for surface in sub]
    e1s = [surface[1] for surface in sub]
    e3s = [surface[2] for surface in sub]
    e2s = [cross(e3, e1) for e1, e3 in zip(e1s, e3s, strict=True)]
    radii = [surface[4] for surface in sub]

    def point(k: int, q: Array, i: NDArray[np.intp]) -> Array:
        """Surface k's point at angle q[:, 0] and height q[:, 1]."""
        radial = np.cos(q[:, :1]) * e1s[k][i] + np.sin(q[:, :1]) * e2s[k][i]
        return cs[k][i] + radii[k][i, None] * radial + q[:, 1:2] * e3s[k][i]

    def coordinates(k: int, y: Array, i: NDArray[np.intp]) -> Array:
        d = y - cs[k][i]
        return np.stack([np.arctan2(np.add.reduce(d * e2s[k][i], axis=1),
                                    np.add.reduce(d * e1s[k][i], axis=1)),
                         np.add.reduce(d * e3s[k][i], axis=1)], axis=1)  # fmt: skip

    def residual(q: Array, i: NDArray[np.intp]) -> tuple[Array, list[tuple[Array, ...]]]:
        """How far the entry points move in one round of the iteration, and each wrap."""
        start = p[i]
        parts, wraps = [], []
        for k in range(m):
            end = point(k + 1, q[:, 2 * k : 2 * k + 2], i) if k < m - 1 else s[i]
            a = _forced(start, end, cs[k][i], bases[k][i], radii[k][i])
            if k:
                d = coordinates(k, a[2], i) - q[:, 2 * k - 2 : 2 * k]
                d[:, 0] = np.mod(d[:, 0] + np.pi, TWO_PI) - np.pi
                parts.append(d)
            wraps.append(a)
            start = a[3]
        return (parts[0] if m == 2 else np.concatenate(parts, axis=1)), wraps

    def size(f: Array, i: NDArray[np.intp]) -> Array:
        """A residual in metres (each angle along its surface's radius)."""
        out = np.abs(f[:, 0]) * radii[1][i] + np.abs(f[:, 1])
        for k in range(2, m):
            out += np.abs(f[:, 2 * k - 2]) * radii[k][i] + np.abs(f[:, 2 * k - 1])
        return out

    every = np.arange(len(rows))
    if q_start is None:
        q_start = np.empty((len(rows), u))
        x = p
        for j in range(1, m):  # each surface alone from the previous one's exit towards s
            a = _forced(x, s, cs[j], bases[j], radii[j])
            q_start[:, 2 * j - 2 : 2 * j] = coordinates(j, a[2], every)
            x = a[3]
    else:
        q_start = q_start[rows]
    if starts is None:
        starts = np.zeros((len(STARTS), u))
        starts[:, u - 2] = STARTS
    k_starts = len(starts)
    # every start of every row in one batch: trial k of row i is i + k * len(rows)
    trial = np.tile(every, k_starts)
    q = np.repeat(starts, len(rows), axis=0) + q_start[trial]
    err = np.full(len(trial), np.inf)
    conv = np.zeros(len(trial), bool)
    active = np.ones(len(trial), bool)
    slow = np.zeros(len(trial), np.intp)  # steps in a row that did not halve the error
    angles = np.arange(0, u, 2)
    for _ in range(NEWTON_STEPS):
        k = np.flatnonzero(active)
        if not k.size:
            break
        rk = trial[k]
        f, _ = residual(q[k], rk)
        e = size(f, rk)
        slow[k] = np.where(e > 0.5 * err[k], slow[k] + 1, 0)
        err[k] = e
        conv[k] = e < NEWTON_TOLERANCE
        active[k] = ~conv[k] & (slow[k] < 3)  # converged, or stalled: stop
        go = active[k]
        k, rk, f, qk = k[go], rk[go], f[go], q[k[go]]
        if not k.size:
            break
        jac = np.empty((len(k), u, u))
        for c in range(u):
            dq = np.zeros_like(qk)
            dq[:, c] = 1e-7
            jac[:, :, c] = (residual(qk + dq, rk)[0] - f) / 1e-7
        if u == 2:
            det = jac[:, 0, 0] * jac[:, 1, 1] - jac[:, 0, 1] * jac[:, 1, 0]
            det = np.where(np.abs(det) > 1e-300, det, 1e-300)
            step = np.stack([jac[:, 1, 1] * f[:, 0] - jac[:, 0, 1] * f[:, 1],
                             jac[:, 0, 0] * f[:, 1] - jac[:, 1, 0] * f[:, 0]], axis=1)  # fmt: skip
            step /= -det[:, None]
        else:
            step = -_solve_rows(jac, f)
        big = np.abs(step[:, angles]).max(axis=1)
        step *= np.minimum(1.0, 0.5 / np.maximum(big, 1e-300))[:, None]
        # backtracking: halve the step until the residual falls (at most 4 times), so a trial
        # goes downhill and does not wander between basins
        scale = np.ones(len(k))
        todo = np.arange(len(k))
        for _ in range(4):
            trial_f = residual(qk[todo] + scale[todo, None] * step[todo], rk[todo])[0]
            e_new = size(trial_f, rk[todo])
            todo = todo[e_new >= err[k[todo]]]
            if not todo.size:
                break
            scale[todo] *= 0.5
        q[k] = qk + scale[:, None] * step
    _, wraps = residual(q, trial)
    total = wraps[0][1].copy()
    good = conv.copy()
    for j in range(m):
        if j:
            gap = point(j, q[:, 2 * j - 2 : 2 * j], trial) - wraps[j - 1][3]
            total += wraps[j][1] - np.sqrt(np.add.reduce(gap * gap, axis=1))
        good &= (wraps[j][0] >= 0.0) & (wraps[j][0] < SPAN_LIMIT)
    # per row, the shortest good trial (a taut path is the shortest)
    score = np.where(good, total, np.inf).reshape(k_starts, len(rows))
    pick = np.argmin(score, axis=0)
    chosen = pick * len(rows) + every
    ok[rows] = np.isfinite(score[pick, every])
    length[rows] = total[chosen]
    for j, a in enumerate(wraps):
        tangents[2 * j][rows] = a[2][chosen]
        tangents[2 * j + 1][rows] = a[3][chosen]
        spans[rows, j] = a[0][chosen]
    return ok, length, tangents, spans


def _solve_rows(jac: Array, f: Array) -> Array:
    """Solve jac x = f row by row; singular rows get the least-squares step."""
    try:
        return np.asarray(np.linalg.solve(jac, f[..., None])[..., 0])
    except np.linalg.LinAlgError:
        return np.asarray(np.einsum("nij,nj->ni", np.linalg.pinv(jac), f))


Alone = tuple[Bools, Array, Array, Array, Bools, Array, Array, Array]
Closed = tuple[Bools, Bools, Array, list[Array]]
ClosedForm = Callable[[NDArray[np.intp]], Closed]  # a closed form on the rows asked for


def inside(x: Array, surface: Surface) -> Bools:
    """Whether points x lie inside the surface: nearer its axis (a sphere: its centre) than its
    radius. Squared distances, summed as ``fastpath._row_iteration`` sums them on floats."""
    c, _, e3, _, r, sphere = surface
    d = x - c
    size2 = np.add.reduce(d * d, axis=1)
    along = np.add.reduce(d * e3, axis=1)
    return np.asarray(np.where(sphere, size2, size2 - along * along) < r * r)


def obstacle_iteration(
    p: Array, s: Array, first: Surface, second: Surface, alone: Alone
) -> TwoSurfaces:
    """The obstacle-set iteration: start from each surface alone on p->s (``alone``, as
    ``resolve`` takes it), move each surface's end to the other's tangent point, until the
    row's entry points settle (0.1 um) or for ``SEQUENCE_ITERATIONS`` rounds. Each row stops on
    its own, so a row's result does not depend on the rows it is solved with. Where p lies
    inside the second surface (``inside``), that surface starts unengaged (module docstring)."""
    on0, on1 = alone[0].copy(), alone[4].copy() & ~inside(p, second)
    len0, in0, out0 = alone[1].copy(), alone[2].copy(), alone[3].copy()
    len1, in1, out1 = alone[5].copy(), alone[6].copy(), alone[7].copy()
    end0, start1 = s.copy(), p.copy()
    active = np.ones(len(p), bool)
    for _ in range(SEQUENCE_ITERATIONS):
        i = np.flatnonzero(active)
        if not i.size:
            break
        e0 = np.where(on1[i, None], in1[i], s[i])
        a = wrap_rows(p[i], e0, *rows_of(first, i), False)
        s1 = np.where(a[1][:, None], a[4], p[i])
        b = wrap_rows(s1, s[i], *rows_of(second, i), False)
        moved = np.maximum(np.abs(a[3] - in0[i]).max(axis=1), np.abs(b[3] - in1[i]).max(axis=1))
        end0[i], start1[i] = e0, s1
        on0[i], len0[i], in0[i], out0[i] = a[1], a[2], a[3], a[4]
        on1[i], len1[i], in1[i], out1[i] = b[1], b[2], b[3], b[4]
        active[i[moved < 1e-7]] = False
    length = len0 + len1 - np.linalg.norm(end0 - start1, axis=1)
    return TwoSurfaces(on0, on1, length, [in0, out0, in1, out1],
                       np.full(len(p), -1, dtype=np.intp), end0, start1)  # fmt: skip


def _both(p: Array, s: Array, first: Surface, second: Surface) -> tuple[Bools, Array, list[Array]]:
    """The both-surfaces path where it exists: two cylinders whose axes are not parallel by
    ``threewrap.cylinder_pair``, the rest by Newton's method (``both_surfaces``)."""
    tilt = cross(first[2], second[2])
    skew = (np.add.reduce(tilt * tilt, axis=1) >= 1e-18) & ~first[5] & ~second[5]
    if not skew.any():
        return both_surfaces(p, s, first, second)
    from hipflex.model.threewrap import cylinder_pair  # it builds on this module

    ok, length = np.zeros(len(p), bool), np.zeros(len(p))
    tangents = [np.zeros((len(p), 3)) for _ in range(4)]
    for rows in (np.flatnonzero(skew), np.flatnonzero(~skew)):
        if not rows.size:
            continue
        sub0, sub1 = rows_of(first, rows), rows_of(second, rows)
        if skew[rows[0]]:
            pair = cylinder_pair(p[rows], s[rows], sub0, sub1)
            got, lg, tg = pair.ok, pair.length, pair.tangents
        else:
            got, lg, tg = both_surfaces(p[rows], s[rows], sub0, sub1)
        ok[rows], length[rows] = got, lg
        for t, g in zip(tangents, tg, strict=True):
            t[rows] = g
    return ok, length, tangents


def resolve(
    p: Array,
    s: Array,
    first: Surface,
    second: Surface,
    alone: Alone | None = None,
    closed: Closed | ClosedForm | None = None,
    distal: Bools | None = None,
    bases: tuple[Array, Array] | None = None,
) -> TwoSurfaces:
    """Resolve segments p->s (N, 3) over ``first`` then ``second``.

    ``alone`` = each surface's wrap of p->s by itself (on, length, t_in, t_out, twice), if
    already known; ``closed`` = a closed form of the both-surfaces state (applies, exists,
    length, tangent points) for all rows, or a function giving it for the rows asked for (those
    no other state fits, the only rows that read it), used where it applies instead of Newton's
    method;
    ``distal`` (N,) = rows whose second surface is fixed to a body distal of the first's
    (module docstring); ``bases`` = each surface's kernel basis (``surface_basis``) for p->s,
    if already known: the checks of p->s take them, and those of the paths' legs take a
    cylinder's (it does not depend on the segment; a sphere's plane goes through the leg).
    """
    if alone is None:
        w0, w1 = wrap_rows(p, s, *first, False), wrap_rows(p, s, *second, False)
        alone = (w0[1], w0[2], w0[3], w0[4], w1[1], w1[2], w1[3], w1[4])
    on0, len0, t_in0, t_out0, on1, len1, t_in1, t_out1 = alone
    n = len(p)
    bound = np.zeros(n, bool) if distal is None else distal
    if bound.any():  # the second surface's own wrap counts only beyond its centre
        on1 = on1 & (~bound | (beyond(t_in1, second) & beyond(t_out1, second)))

    surfaces = (first, second)

    def touching(x: Array, y: Array, k: int, i: NDArray[np.intp], leg: bool = True) -> Bools:
        """Whether x->y touches surface k (0 first, 1 second: ``touches``, or for the second
        on ``bound`` rows ``touches_beyond``) at rows i; ``leg``: x->y is not p->s."""
        c, e1, e3, sense, r, sphere = surfaces[k]
        if bases is None:
            basis = surface_basis(x, y, c[i], e1[i], e3[i], sense[i], sphere[i])
        else:
            basis = bases[k].take(i, axis=0)
            j = np.flatnonzero(sphere[i]) if leg else None
            if j is not None and j.size:  # a sphere's plane goes through the leg's ends
                w = i[j]
                basis[j] = surface_basis(x[j], y[j], c[w], e1[w], e3[w], sense[w], sphere[w])
        hit = touches_in_basis(x, y, c[i], basis, r[i])
        if k and bound[i].any():
            j = np.flatnonzero(bound[i])
            hit[j] = touches_beyond(x[j], y[j], rows_of(second, i[j]), basis[j])
        return hit

    straight = np.zeros(n, bool)
    free = ~on0 & ~on1
    if free.any():
        i = np.flatnonzero(free)
        straight[i] = ~touching(p[i], s[i], 0, i, False) & ~touching(p[i], s[i], 1, i, False)
    first_ok = on0.copy()
    if on0.any():
        i = np.flatnonzero(on0)
        first_ok[i] = ~touching(t_out0[i], s[i], 1, i) & ~touching(p[i], t_in0[i], 1, i)
    second_ok = on1.copy()
    if on1.any():
        i = np.flatnonzero(on1)
        second_ok[i] = ~touching(p[i], t_in1[i], 0, i) & ~touching(t_out1[i], s[i], 0, i)
    state = np.full(n, -1, dtype=np.intp)
    state[second_ok] = 2
    state[first_ok & (~second_ok | (len0 <= len1) | bound)] = 1
    state[straight] = 0
    length = np.where(state == 1, len0, np.where(state == 2, len1, np.linalg.norm(s - p, axis=1)))
    tangents = [t_in0.copy(), t_out0.copy(), t_in1.copy(), t_out1.copy()]
    need = np.flatnonzero(state < 0)
    if need.size and closed is not None:
        # the closed form on the rows ``need`` (``at``: where each found row is among them)
        if callable(closed):
            applies, exists, l_closed, t_closed = closed(need)
        else:
            applies, exists, l_closed = closed[0][need], closed[1][need], closed[2][need]
            t_closed = [t[need] for t in closed[3]]
        at = np.flatnonzero(applies & exists)
        found = need[at]
        b = bound[found]
        if b.any():  # the second surface's tangent points beyond its centre
            sub = rows_of(second, found)
            at = at[~b | (beyond(t_closed[2][at], sub) & beyond(t_closed[3][at], sub))]
            found = need[at]
        state[found] = 3
        length[found] = l_closed[at]
        for t, tc in zip(tangents, t_closed, strict=True):
            t[found] = tc[at]
        need = need[~applies]
    if need.size:
        ok, l_both, t_both = _both(p[need], s[need], rows_of(first, need), rows_of(second, need))
        b = bound[need]
        if b.any():
            sub = rows_of(second, need)
            ok &= ~b | (beyond(t_both[2], sub) & beyond(t_both[3], sub))
        found = need[ok]
        state[found] = 3
        length[found] = l_both[ok]
        for t, tb in zip(tangents, t_both, strict=True):
            t[found] = tb[ok]
    kept = np.flatnonzero((state < 0) & bound)
    if kept.size:  # no consistent state: the first surface's own path stands
        state[kept] = np.where(on0[kept], 1, 0)
        length[kept] = np.where(on0[kept], len0[kept], np.linalg.norm(s[kept] - p[kept], axis=1))
    on_first = (state == 1) | (state == 3)
    on_second = (state == 2) | (state == 3)
    end0 = np.where(on_second[:, None], tangents[2], s)
    start1 = np.where(on_first[:, None], tangents[1], p)
    rest = np.flatnonzero(state < 0)
    if rest.size:
        it = obstacle_iteration(p[rest], s[rest], rows_of(first, rest), rows_of(second, rest),
                                (on0[rest], len0[rest], t_in0[rest], t_out0[rest], on1[rest],
                                 len1[rest], t_in1[rest], t_out1[rest]))  # fmt: skip
        length[rest] = it.length
        on_first[rest], on_second[rest] = it.on0, it.on1
        end0[rest], start1[rest] = it.end0, it.start1
        for t, tb in zip(tangents, it.tangents, strict=True):
            t[rest] = tb
    return TwoSurfaces(on_first, on_second, length, tangents, state, end0, start1)

