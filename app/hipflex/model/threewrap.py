"""A segment that wraps over three surfaces in a row (iliopsoas: the pelvic brim and the femoral
head, both fixed to the pelvis about its medio-lateral axis, then the femoral neck, fixed to the
femur), solved by its states.

The first two surfaces are resolved together first (``twowrap.resolve``). Where the rest of
that path, from its last tangent point (or p) to s, does not touch the neck (nor starts inside
it), that is the path. Elsewhere the neck is wrapped: the state that adds the neck to what that
path wraps is tried first, then the others (``ORDER``); the first consistent one is taken. A
state is consistent when it
exists (each surface it wraps engaged, its span from 0 to under half a turn, the neck's tangent
points on the neck) and the straight piece of path where each surface it leaves out sits in the
chain does not touch that surface. Rows where no state with the neck is consistent keep the
first two surfaces' path.

The neck stands for the femoral neck only on its side of the head centre: its wrap counts
only where its tangent points, and the point of the path nearest its axis, lie beyond its
centre along its axis (the surface's centre is the point of its axis nearest the head centre,
and the axis points away from the head). On the other side the infinite cylinder would reach
through the head into the pelvis, where the psoas passes.

A path over a cylinder and then a cylinder whose axis is not parallel to the first's has no
closed form. It is found by a one-dimensional search (``cylinder_pair``): for each span on the
first cylinder, the bridge leaves it along the helix's tangent with some slope; tangency to the
second cylinder fixes that slope (a quadratic), and the second cylinder's development (the
bridge, the arc and the last tangent are one straight line when the cylinder is unrolled) must
reach s at its height. The search brackets every sign change of that height error on a grid of
spans and refines each by the Illinois method; the shortest root is the path (a taut path is the
shortest). The three-surface path with the brim and head parallel reduces to the same search:
in the plane across their axes the path from p over the brim to the head's entry point is fixed
(tangent, arc, common tangent) whatever happens after the head, and along the axes it climbs
evenly with planar length, so it is the straight approach to the head from a virtual start on
the head's entry tangent, as far back as that planar path is long.

The hamstrings' segment has its third surface in the middle (``resolve_middle``): their line
passes behind the femoral head (a sphere) and the back of the condyles (a cylinder about the
knee axis), and between the two, with the hip deeply flexed, abducted and turned outward, over
the back of the proximal femur (the quadratus femoris bed, a sphere clear of the head's). The
outer two are resolved first (``twowrap.resolve``); where that path's bridge does not touch the
middle surface, that is the path (in the sagittal plane, always). Elsewhere the obstacle-set
iteration over all three decides (``middle_iteration``: each surface wrapped in turn between its
engaged neighbours until no tangent point moves; rows settle within 10 rounds in the explorer's
ranges, 15 over the whole joint range): there is no closed form over a sphere. A pose or two
take the iteration on floats (``fastpath``).

A sphere is wrapped the shorter way round, and where the ischial tuberosity comes to stand
above the femoral head and in front of its centre in the femur's frame (hip flexed past about
120 deg, abducted past 20 and turned outward past 25) two paths over the head and the bed are
taut: one behind the bed and one round its front, which runs on through the femoral shaft
(biceps femoris 10.6 mm inside it at hip 130, abduction 30, external rotation 32 deg). Deep in
that corner the one in front is the shorter, and which of the two the iteration settles on
depends on where it starts: the path changed sides where the outer two's bridge crossed the
bed's centre, and the hip moment arms stepped there by up to 34 mm a degree (the lengths, near
equal there, did not). No rule on the sphere alone can keep the path behind it and continuous:
a sphere has no sides, and whatever picks one of the two ways round flips somewhere. So a path
whose middle surface is wrapped on the far side of its centre from the surface's ``side`` (the
bed's is straight back) is found again by continuation from behind (``_continue_behind``): the
segment's start moved BEHIND_REACH back along that side, where the path is behind, then brought
to where it is in BEHIND_STEPS steps, each iterated from the last one's path; where that ends
behind the centre it is the path (the tendon cannot have crossed the bone to the front), else
the path in front stands. Over the explorer's ranges it always ends behind (one-degree grid of
hip flexion 110-130, abduction 15-30, external rotation 15-40 and knee 0-140 deg; 20000 random
poses). Beyond them, toward the far corner of the joint ranges (abduction beyond 39 deg for
biceps femoris; flexion beyond 136 deg or abduction beyond 36 for semitendinosus), the path behind
can stop being taut and fold into the one in front, and the lengths step there by up to 12.5 mm
(at 1489 and 1586 of the 432450 steps of a one-degree grid of flexion 110-140, abduction 15-45,
external rotation 15-45 and knee 0-140 deg, none within 7 deg of the explorer's ranges); the
shorter way's choice kept the lengths continuous there, but the hip moment arms jumped, at
about twice as many steps.

The reference walk (``PathSet.evaluate``) and the fast evaluation (``fastpath``) call the same
functions here; ``twowrap.chain_surfaces`` (Newton's method on the entry points, any number of
surfaces) stands where the brim and head are not parallel, and tests check the search's paths
against it and against the tangency of every bridge.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from hipflex.model.twowrap import (
    Surface,
    TwoSurfaces,
    acos_ratio,
    beyond,
    chain_surfaces,
    local_ends,
    resolve,
    rows_of,
    touches,
    touches_beyond,
    touches_beyond_in_plane,
    touches_in_plane,
)
from hipflex.model.wrapping import SPAN_LIMIT, TWO_PI, cross, surface_basis, wrap_rows

Array = NDArray[np.float64]
Bools = NDArray[np.bool_]
Index = NDArray[np.intp]

SECANT_START = 1e-3  # radians: the second point of the secant method, past the guess
SECANT_STEPS = 20  # secant steps at most (from the guess it converges in 4-8)
SECANT_REACH = 0.5  # radians: the largest secant step
PAIR_GRID = 24  # intervals of the first cylinder's span (0 to SPAN_LIMIT) searched for roots
EDGE_STEPS = 6  # bisections locating each end of a stretch of spans where a bridge exists
ROOT_TOLERANCE = 1e-13  # radians of span: a step or bracket this small is a root
ROOT_ERROR = 1e-13  # metres of height error at s: a span this close is a root
ROOT_ITERATIONS = 60  # Illinois steps at most (a bracket converges in 6-12)


@dataclass
class Chain:
    """A segment resolved over three surfaces in a row: each surface engaged, the length, the
    tangent points (entry and exit of each surface, in order), the state (a bit per engaged
    surface, ``1 << k``; -1 where ``twowrap.resolve`` fell back to its iteration and the neck was
    left out), and per surface where its line starts (the previous engaged surface's exit, or p)
    and ends (the next one's entry, or s); the fast path's single pose leaves these last two
    empty unless it draws the lines."""

    on: list[Bools]
    length: Array
    tangents: list[Array]
    state: NDArray[np.intp]
    starts: list[Array]
    ends: list[Array]


@dataclass
class Pair:
    """Paths over a cylinder then a second, non-parallel one (``cylinder_pair``): where they
    exist, their lengths, tangent points (entry and exit of each), spans (rows, 2) and the
    slope along the first cylinder's axis per unit of planar length."""

    ok: Bools
    length: Array
    tangents: list[Array]
    spans: Array
    slope: Array


class _PairRows:
    """Per-row constants of ``cylinder_pair``, in the second cylinder's kernel basis (the path
    turns counter-clockwise about its third axis, as about the first cylinder's in its own)."""

    def __init__(self, x: Array, s: Array, first: Surface, second: Surface) -> None:
        c0, e10, e30, sg0, r0, _ = first
        c1, e11, e31, sg1, r1, _ = second
        flat = np.zeros(len(x), bool)
        self.b0 = surface_basis(x, s, c0, e10, e30, sg0, flat)  # a cylinder's: line-independent
        self.b1 = surface_basis(x, s, c1, e11, e31, sg1, flat)
        self.c0, self.c1, self.r0, self.r1 = c0, c1, r0, r1
        xl = np.einsum("nij,nj->ni", self.b0, x - c0)
        dist_x = np.hypot(xl[:, 0], xl[:, 1])
        self.phi_in = np.arctan2(xl[:, 1], xl[:, 0]) + np.arccos(
            np.minimum(r0 / np.maximum(dist_x, 1e-300), 1.0))  # fmt: skip
        self.leg_x = np.sqrt(np.maximum(dist_x**2 - r0**2, 0.0))
        self.x_height = xl[:, 2]
        self.m = self.b1 @ self.b0.transpose(0, 2, 1)  # column j: the first's axis j, second's basis
        self.c01 = np.einsum("nij,nj->ni", self.b1, c0 - c1)
        # the first's point at x's height on its axis, second's basis (exit points add r0 cos,
        # r0 sin along the first's e1, e2)
        self.base = self.c01 + self.x_height[:, None] * self.m[:, :, 2]
        sl = np.einsum("nij,nj->ni", self.b1, s - c1)
        dist_s = np.hypot(sl[:, 0], sl[:, 1])
        self.theta_out = np.arctan2(sl[:, 1], sl[:, 0]) - np.arccos(
            np.minimum(r1 / np.maximum(dist_s, 1e-300), 1.0))  # fmt: skip
        self.leg_s = np.sqrt(np.maximum(dist_s**2 - r1**2, 0.0))
        self.s_height = sl[:, 2]
        w = self.m[:, :2, 2]
        s0 = np.einsum("nij,nj->ni", self.b0, s - c0)  # the first cylinder alone, x to s
        dist_s0 = np.hypot(s0[:, 0], s0[:, 1])
        alone = np.mod(np.arctan2(s0[:, 1], s0[:, 0]) - np.arccos(
            np.minimum(r0 / np.maximum(dist_s0, 1e-300), 1.0)) - self.phi_in, TWO_PI)  # fmt: skip
        self.guess = np.where(alone < SPAN_LIMIT, alone, 0.0)
        self.usable = (dist_x > r0) & (dist_s > r1) & (np.add.reduce(w * w, axis=1) > 1e-18)
        # what ``evaluate`` reads of a row, as a column of one table, so that it takes a call's
        # rows in one step, each quantity contiguous (its numpy calls on a few rows cost far
        # more than their arithmetic, and it is called two dozen times a sweep): r0, r1,
        # phi_in, leg_x, r1^2 |w|^2, theta_out, leg_s, s_height, then three rows each: base,
        # and the columns m0, m1 and w of m
        m = self.m.transpose(2, 1, 0)  # (the first's axis j, component, row)
        rr_g2 = (r1 * r1) * (self.m[:, 0, 2] ** 2 + self.m[:, 1, 2] ** 2)
        self._table = np.concatenate([
            np.stack([r0, r1, self.phi_in, self.leg_x, rr_g2, self.theta_out, self.leg_s,
                      self.s_height]), self.base.T, m[0], m[1], m[2]])  # fmt: skip

    def evaluate(self, span: Array, i: Index | None) -> tuple[Array, Bools, dict[str, Array]]:
        """The height error at s (metres; 0 at a path) for spans ``span`` on the first cylinder
        of rows ``i`` (None: every row), whether the bridge exists there, and its geometry.

        Two slopes make the bridge tangent to the second cylinder (a quadratic); the one with
        the bridge running forward to the second cylinder, on its wrapping side, is taken (the
        lower where both do; at the paths found over the joint ranges the other never does)."""
        tab = self._table if i is None else self._table.take(i, axis=1)
        r0, r1, phi_in, leg_x, rr_g2, theta_out, leg_s, s_height = tab[:8]
        base, m0, m1, w = tab[8:11], tab[11:14], tab[14:17], tab[17:20]  # (3, rows) each
        phi = phi_in + span
        planar0 = leg_x + r0 * span
        cos, sin = np.cos(phi), np.sin(phi)
        # the exit point at zero slope and the bridge's planar direction, second's basis
        # (component-major, (3, rows))
        t0 = base + (r0 * cos) * m0 + (r0 * sin) * m1
        d0 = cos * m1 - sin * m0
        # slope k: the exit point climbs k * planar0 and the bridge turns to d0 + k * axis; the
        # second cylinder's axis is at signed distance (alpha + beta k) / |d| from it, which
        # must equal its radius (quadratic in k)
        alpha = t0[0] * d0[1] - t0[1] * d0[0]
        beta = t0[0] * w[1] - t0[1] * w[0] + planar0 * (w[0] * d0[1] - w[1] * d0[0])
        g0 = d0[0] ** 2 + d0[1] ** 2
        g1 = d0[0] * w[0] + d0[1] * w[1]
        rr = r1 * r1
        a2 = beta * beta - rr_g2
        a1 = 2.0 * (alpha * beta - rr * g1)
        a0 = alpha * alpha - rr * g0
        disc = a1 * a1 - 4.0 * a2 * a0
        root = np.sqrt(np.maximum(disc, 0.0))
        q = -0.5 * (a1 + np.where(a1 >= 0.0, root, -root))
        k1 = q / np.where(a2 != 0.0, a2, 1e-300)
        k2 = a0 / np.where(q != 0.0, q, 1e-300)
        fits = disc >= 0.0

        def bridge(k: Array) -> tuple[Array, Array, Array, Array, Bools]:
            """The exit point, direction (both (3, rows)), |planar direction|^2 and foot of the
            bridge with slope k, and whether it runs forward to the second cylinder on its
            wrapping side."""
            exit0 = t0 + (k * planar0) * w
            d = d0 + k * w
            dd = d[0] ** 2 + d[1] ** 2
            t = -(exit0[0] * d[0] + exit0[1] * d[1]) / np.maximum(dd, 1e-300)
            return exit0, d, dd, t, fits & (alpha + beta * k > 0.0) & (t > 0.0)

        k = np.minimum(k1, k2)
        exit0, d, dd, t, ok = bridge(k)
        # the higher slope only where the lower one does not run forward
        other = np.flatnonzero(~ok)
        if other.size:
            hi = np.maximum(k1, k2)
            o_exit0, o_d, o_dd, o_t, o_ok = bridge(hi)
            take = other[o_ok[other]]
            if take.size:
                k[take], dd[take], t[take] = hi[take], o_dd[take], o_t[take]
                exit0[:, take], d[:, take] = o_exit0[:, take], o_d[:, take]
                ok[take] = True
        entry1 = exit0 + t * d
        climb = d[2] / np.sqrt(np.maximum(dd, 1e-300))  # along the second's axis, per planar
        span1 = np.mod(theta_out - np.arctan2(entry1[1], entry1[0]) + np.pi, TWO_PI) - np.pi
        error = entry1[2] + climb * (r1 * span1 + leg_s) - s_height
        valid = ok & (span1 > -0.5 * np.pi) & np.isfinite(error)
        geometry = {"k": k, "exit0": exit0.T, "t": t, "entry1": entry1.T, "climb": climb,
                    "span1": span1, "planar0": planar0}  # fmt: skip
        return error, valid, geometry


def _secant(rows: _PairRows) -> tuple[Bools, Array]:
    """Phase one of ``cylinder_pair``: the secant method from each row's guess (the first
    cylinder's span with the path going straight on to s), which converges in a few steps
    where the second cylinder changes the path a little. Returns where it converged to a path
    (spans within range) and the span."""
    n = len(rows.guess)
    a = np.minimum(rows.guess, SPAN_LIMIT - 2.0 * SECANT_START)
    b = a + SECANT_START
    f_a, ok, _ = rows.evaluate(a, None)
    f_b, ok_b, _ = rows.evaluate(b, None)
    alive = ok & ok_b & rows.usable
    done = np.zeros(n, bool)
    for _ in range(SECANT_STEPS):
        k = np.flatnonzero(alive & ~done)
        if not k.size:
            break
        slope = f_b[k] - f_a[k]
        step = -f_b[k] * (b[k] - a[k]) / np.where(slope != 0.0, slope, 1e-300)
        step = np.clip(step, -SECANT_REACH, SECANT_REACH)
        c = np.clip(b[k] + step, 0.0, SPAN_LIMIT * (1.0 - 1e-12))
        f_c, ok_c, _ = rows.evaluate(c, k)
        alive[k] = ok_c & (c != b[k])  # stuck at a bound: no root inside
        a[k], f_a[k] = b[k], f_b[k]
        b[k], f_b[k] = c, f_c
        done[k] = ok_c & ((np.abs(b[k] - a[k]) < ROOT_TOLERANCE) | (np.abs(f_c) < ROOT_ERROR))
    return done & (alive | (np.abs(f_b) < ROOT_ERROR)), b


def _brackets(rows: _PairRows, todo: Index) -> tuple[Bools, Array]:
    """Phase two of ``cylinder_pair``, for rows ``todo``: every sign change of the height error
    on a grid of spans (with the ends of each valid stretch found by bisection, so that a root
    next to where the bridge stops existing is bracketed too), each refined by the Illinois
    method; per row the root of the shortest path. Returns where one was found and the span."""
    n = len(todo)
    found = np.zeros(n, bool)
    best = np.zeros(n)
    grid = SPAN_LIMIT * np.arange(PAIR_GRID + 1) / PAIR_GRID
    grid[-1] = SPAN_LIMIT * (1.0 - 1e-12)
    m = PAIR_GRID + 1
    local = np.repeat(np.arange(n), m)
    error, ok, _ = rows.evaluate(np.tile(grid, n), todo[local])
    error, ok = error.reshape(n, m), ok.reshape(n, m)
    ok &= rows.usable[todo, None]
    # the valid end of each valid stretch, next to an invalid grid point, by bisection
    rise = ok[:, 1:] & ~ok[:, :-1]  # valid from j + 1
    fall = ok[:, :-1] & ~ok[:, 1:]  # valid up to j
    r_row, r_j = np.nonzero(rise)
    f_row, f_j = np.nonzero(fall)
    e_row = np.concatenate([r_row, f_row])
    good_span = np.concatenate([grid[r_j + 1], grid[f_j]])
    bad_span = np.concatenate([grid[r_j], grid[f_j + 1]])
    edge_f = np.concatenate([error[r_row, r_j + 1], error[f_row, f_j]])
    for _ in range(EDGE_STEPS):
        if not e_row.size:
            break
        mid = 0.5 * (good_span + bad_span)
        f_mid, ok_mid, _ = rows.evaluate(mid, todo[e_row])
        good_span = np.where(ok_mid, mid, good_span)
        bad_span = np.where(ok_mid, bad_span, mid)
        edge_f = np.where(ok_mid, f_mid, edge_f)
    # candidate brackets: neighbouring valid grid points, and each stretch end with its grid
    # neighbour, whose errors differ in sign
    change = ok[:, :-1] & ok[:, 1:] & ((error[:, :-1] >= 0.0) != (error[:, 1:] >= 0.0))
    c_row, c_j = np.nonzero(change)
    rows_b = np.concatenate([c_row, r_row, f_row])
    lo = np.concatenate([grid[c_j], good_span[: len(r_row)], grid[f_j]])
    hi = np.concatenate([grid[c_j + 1], grid[r_j + 1], good_span[len(r_row):]])
    f_lo = np.concatenate([error[c_row, c_j], edge_f[: len(r_row)], error[f_row, f_j]])
    f_hi = np.concatenate([error[c_row, c_j + 1], error[r_row, r_j + 1], edge_f[len(r_row):]])
    keep = (f_lo >= 0.0) != (f_hi >= 0.0)
    rows_b, lo, hi, f_lo, f_hi = rows_b[keep], lo[keep], hi[keep], f_lo[keep], f_hi[keep]
    if not rows_b.size:
        return found, best
    alive = np.ones(len(rows_b), bool)
    last = np.zeros(len(rows_b), np.int8)  # which end moved last: -1 lo, +1 hi (Illinois)
    active = np.ones(len(rows_b), bool)
    for _ in range(ROOT_ITERATIONS):
        a = np.flatnonzero(active)
        if not a.size:
            break
        denominator = f_hi[a] - f_lo[a]
        mid = lo[a] - f_lo[a] * (hi[a] - lo[a]) / np.where(denominator != 0.0, denominator, 1.0)
        mid = np.where((mid > lo[a]) & (mid < hi[a]), mid, 0.5 * (lo[a] + hi[a]))
        f_mid, ok_mid, _ = rows.evaluate(mid, todo[rows_b[a]])
        alive[a] &= ok_mid
        same = (f_mid >= 0.0) == (f_lo[a] >= 0.0)
        # the end on f_mid's side moves to mid; if it moved last time too, halve the other
        # end's error (Illinois), so the bracket closes from both sides
        lo[a] = np.where(same, mid, lo[a])
        hi[a] = np.where(same, hi[a], mid)
        f_hi[a] = np.where(same & (last[a] < 0), 0.5 * f_hi[a], f_hi[a])
        f_lo[a] = np.where(~same & (last[a] > 0), 0.5 * f_lo[a], f_lo[a])
        f_lo[a] = np.where(same, f_mid, f_lo[a])
        f_hi[a] = np.where(same, f_hi[a], f_mid)
        last[a] = np.where(same, -1, 1)
        active[a] = ok_mid & (hi[a] - lo[a] > ROOT_TOLERANCE) & (f_mid != 0.0)
    span0 = np.where(np.abs(f_lo) <= np.abs(f_hi), lo, hi)
    error, ok, g = rows.evaluate(span0, todo[rows_b])
    good = alive & ok & (np.abs(error) < 1e-9)
    length = _pair_length(rows, span0, todo[rows_b], g)
    score = np.where(good & _spans_fine(span0, g), length, np.inf)
    order = np.lexsort((score, rows_b))
    first = np.r_[True, rows_b[order][1:] != rows_b[order][:-1]]
    chosen = order[first & np.isfinite(score[order])]
    found[rows_b[chosen]] = True
    best[rows_b[chosen]] = span0[chosen]
    return found, best


def _spans_fine(span0: Array, g: dict[str, Array]) -> Bools:
    """Both spans of a pair path from 0 to under half a turn."""
    return np.asarray((span0 >= 0.0) & (span0 < SPAN_LIMIT) & (g["span1"] >= 0.0)
                      & (g["span1"] < SPAN_LIMIT))  # fmt: skip


def _pair_length(rows: _PairRows, span0: Array, i: Index, g: dict[str, Array]) -> Array:
    """Length of the pair path: over the first cylinder and along the bridge with slope k, then
    over the second cylinder and on to s (each straight when its cylinder is unrolled)."""
    secant = np.sqrt(1.0 + g["k"] ** 2)
    planar1 = rows.r1[i] * g["span1"] + rows.leg_s[i]
    return np.asarray((g["planar0"] + g["t"]) * secant
                      + np.hypot(planar1, rows.s_height[i] - g["entry1"][:, 2]))  # fmt: skip


def cylinder_pair(x: Array, s: Array, first: Surface, second: Surface) -> Pair:
    """The path x -> s over cylinder ``first`` then cylinder ``second`` (axes not parallel),
    both wrapped in their senses, where it exists (module docstring): the secant method from the
    span the first cylinder has without the second (``_secant``); where that does not converge
    to a path, a search of the whole range of spans (``_brackets``)."""
    n = len(x)
    out = Pair(np.zeros(n, bool), np.zeros(n), [np.zeros((n, 3)) for _ in range(4)],
               np.zeros((n, 2)), np.zeros(n))  # fmt: skip
    if not n:
        return out
    rows = _PairRows(x, s, first, second)
    found, span0 = _secant(rows)
    every = np.arange(n)
    error, ok, g = rows.evaluate(span0, None)
    found &= ok & (np.abs(error) < 1e-9) & _spans_fine(span0, g)
    rest = np.flatnonzero(~found & rows.usable)
    if rest.size:
        got, spans = _brackets(rows, rest)
        found[rest[got]] = True
        span0[rest[got]] = spans[got]
        error, ok, g = rows.evaluate(span0, None)
    r = np.flatnonzero(found)
    if not r.size:
        return out
    out.ok[r] = True
    out.length[r] = _pair_length(rows, span0, every, g)[r]
    span1 = g["span1"]
    out.spans[r, 0], out.spans[r, 1] = span0[r], span1[r]
    k = g["k"][r]
    out.slope[r] = k
    r0, r1 = rows.r0[r], rows.r1[r]
    phi_in = rows.phi_in[r]
    local0 = np.stack([r0 * np.cos(phi_in), r0 * np.sin(phi_in),
                       rows.x_height[r] + k * rows.leg_x[r]], axis=1)  # fmt: skip
    theta = rows.theta_out[r]
    entry1 = g["entry1"][r]
    local3 = np.stack([r1 * np.cos(theta), r1 * np.sin(theta),
                       entry1[:, 2] + g["climb"][r] * r1 * span1[r]], axis=1)  # fmt: skip
    b0, b1 = rows.b0[r], rows.b1[r]
    out.tangents[0][r] = np.einsum("nji,nj->ni", b0, local0) + rows.c0[r]
    for slot, local in ((1, g["exit0"][r]), (2, entry1), (3, local3)):
        out.tangents[slot][r] = np.einsum("nji,nj->ni", b1, local) + rows.c1[r]
    return out


def parallel_prefix(p: Array, first: Surface, second: Surface) -> tuple[Bools, Array, list[Array], Array, Array]:
    """The part of a path from p over cylinder ``first`` to the entry onto cylinder ``second``
    when their axes are parallel, which does not depend on what follows (module docstring).

    Returns where it applies and exists (axes parallel, p outside the first, a common tangent,
    span under half a turn), the virtual start (on the second's entry tangent, p's height), the
    first surface's entry and exit points at zero height along the axis (second's basis, to be
    raised with the slope), the planar lengths from p to them, and the first's span.
    """
    n = len(p)
    c0, _, e30, sg0, r0, _ = first
    c1, e11, e31, sg1, r1, _ = second
    b1 = surface_basis(p, p, c1, e11, e31, sg1, np.zeros(n, bool))
    pl = np.einsum("nij,nj->ni", b1, p - c1)
    bl = np.einsum("nij,nj->ni", b1, c0 - c1)
    along = np.add.reduce(e30 * e31, axis=1)
    tilt = cross(e30, e31)
    parallel = np.add.reduce(tilt * tilt, axis=1) < 1e-18
    eps = sg0 * np.sign(along) * sg1  # +1: the first turns counter-clockwise here too
    dp = pl[:, :2] - bl[:, :2]
    dist_p = np.hypot(dp[:, 0], dp[:, 1])
    a_in = np.arctan2(dp[:, 1], dp[:, 0]) + eps * np.arccos(
        np.minimum(r0 / np.maximum(dist_p, 1e-300), 1.0))  # fmt: skip
    dist_b = np.hypot(bl[:, 0], bl[:, 1])
    rho = eps * r0 - r1
    psi = np.arctan2(bl[:, 1], bl[:, 0]) - np.arccos(
        np.clip(rho / np.maximum(dist_b, 1e-300), -1.0, 1.0))  # fmt: skip
    normal = np.stack([np.cos(psi), np.sin(psi)], axis=1)  # left of the common tangent
    along_t = np.stack([normal[:, 1], -normal[:, 0]], axis=1)  # its direction
    exit0 = bl[:, :2] - (eps * r0)[:, None] * normal
    entry1 = -r1[:, None] * normal
    a_out = np.arctan2(exit0[:, 1] - bl[:, 1], exit0[:, 0] - bl[:, 0])
    span = np.mod(eps * (a_out - a_in), TWO_PI)
    span = np.where(span > TWO_PI - 1e-9, 0.0, span)
    leg = np.sqrt(np.maximum(dist_p**2 - r0**2, 0.0))
    gap = np.sqrt(np.maximum(dist_b**2 - rho**2, 0.0))
    planar = np.stack([leg, leg + r0 * span, leg + r0 * span + gap], axis=1)
    ok = parallel & (dist_p > r0) & (np.abs(rho) < dist_b) & (span < SPAN_LIMIT)
    start = np.empty((n, 3))
    start[:, :2] = entry1 - planar[:, 2:] * along_t
    start[:, 2] = pl[:, 2]
    world = np.einsum("nji,nj->ni", b1, start) + c1
    entry0 = bl[:, :2] + r0[:, None] * np.stack([np.cos(a_in), np.sin(a_in)], axis=1)
    points = []
    for xy in (entry0, exit0):
        local = np.zeros((n, 3))
        local[:, :2] = xy
        local[:, 2] = pl[:, 2]
        points.append(local)
    return ok, world, points, planar, span


def _three_over_prefix(
    p: Array, head: Surface, points: list[Array], planar: Array, pair: Pair
) -> list[Array]:
    """The six tangent points of the path over all three surfaces, from the brim and head's
    prefix (``parallel_prefix``: the brim's points at p's height and their planar lengths, in
    the head's basis) and the head-neck pair from the virtual start, at the pair's rows."""
    k = pair.slope
    c1, e11, e31, sg1, _, _ = head
    b1 = surface_basis(p, p, c1, e11, e31, sg1, np.zeros(len(p), bool))
    tangents = []
    for slot in (0, 1):
        local = points[slot].copy()
        local[:, 2] += k * planar[:, slot]
        tangents.append(np.einsum("nji,nj->ni", b1, local) + c1)
    # the pair's first leg is the straight approach from the virtual start; the path's own leg
    # from p over the brim has the same planar length and the same slope
    return tangents + pair.tangents


# The states with the neck, each as its bit set (brim 1, head 2, neck 4), in the order they are
# tried, by the surfaces the first two surfaces' path wraps (the same bits): first the state
# that adds the neck to them, then the one the neck most often leads to instead (over 3000
# poses in the explorer's ranges: from brim and head, brim and neck; from the brim alone, the
# neck alone), then the rest.
ORDER = {3: (7, 5, 6, 4), 1: (5, 4, 7, 6), 2: (6, 7, 5, 4), 0: (4, 5, 7, 6)}
_ORDER_TABLE = np.array([ORDER[h] for h in range(4)])


PrefixRows = tuple[Bools, Array, list[Array], Array, Array]  # parallel_prefix's results


def resolve_chain(
    p: Array, s: Array, surfaces: list[Surface], two: TwoSurfaces | None = None,
    few: bool | None = None, prefix: PrefixRows | None = None,
) -> Chain:
    """Resolve segments p->s (N, 3) over three surfaces in a row (module docstring). ``two``:
    the first two surfaces' resolution (``twowrap.resolve``), if already known. ``few``: on
    Python floats (``chain_table``; by default up to FEW_ROWS rows of cylinders) or with numpy,
    whose results do not depend on the other rows of the batch. ``prefix``: ``parallel_prefix``
    of every row (p and the first two surfaces), if already known (numpy)."""
    n = len(p)
    s0, s1, s2 = surfaces
    if two is None:
        two = resolve(p, s, s0, s1)
    if few is None:
        few = n <= FEW_ROWS
    if few and not (s0[5].any() or s1[5].any() or s2[5].any()):
        return _resolve_chain_few(p, s, surfaces, two)
    on = [two.on0.copy(), two.on1.copy(), np.zeros(n, bool)]
    length = two.length.copy()
    tangents = [t.copy() for t in two.tangents] + [s.copy(), s.copy()]
    state = np.where(two.state < 0, -1, two.on0 * 1 + two.on1 * 2).astype(np.intp)
    last = np.where(two.on1[:, None], two.tangents[3], np.where(two.on0[:, None],
                                                                two.tangents[1], p))  # fmt: skip
    need = np.flatnonzero(_needs(last, s, s2))
    if need.size:
        decided = np.zeros(need.size, bool)
        hint = (two.on0 * 1 + two.on1 * 2)[need]
        for rank in range(_ORDER_TABLE.shape[1]):
            rows = np.flatnonzero(~decided)
            if not rows.size:
                break
            _attempt_rank(_ORDER_TABLE[hint[rows], rank], need, rows, p, s, surfaces, decided, on,
                          length, tangents, state, prefix)  # fmt: skip
    return _chain_of(p, s, on, length, tangents, state)


def _attempt_rank(
    codes: Index,
    need: Index,
    rows: Index,
    p: Array,
    s: Array,
    surfaces: list[Surface],
    decided: Bools,
    on: list[Bools],
    length: Array,
    tangents: list[Array],
    state: NDArray[np.intp],
    prefix: PrefixRows | None = None,
) -> None:
    """Try on rows ``need[rows]`` the states ``codes`` (one per row, bits as in ORDER: one rank
    of ORDER) and take each where it is consistent. The pairs of cylinders of every state go
    through one ``cylinder_pair`` call: numpy's per-call cost, not the rows, is the time.
    ``prefix``: ``parallel_prefix`` of every row of ``p``, if known."""
    at = need[rows]
    pr, sr = p[at], s[at]
    brim, head, neck = (rows_of(x, at) for x in surfaces)

    def take(sub: Index, mask: Bools, which: tuple[int, ...], lg: Array, tg: list[Array]) -> None:
        full = np.zeros(need.size, bool)
        full[rows[sub[mask]]] = True
        _take(full, need, decided, which, _spread(lg, rows[sub], need.size),
              [_spread(t, rows[sub], need.size) for t in tg], on, length, tangents, state)  # fmt: skip

    r4, r5, r6, r7 = (np.flatnonzero(codes == code) for code in (4, 5, 6, 7))
    if r4.size:  # the neck alone: closed form
        n4 = rows_of(neck, r4)
        _, alone, lg, t_in, t_out = wrap_rows(pr[r4], sr[r4], *n4, False)
        alone &= ~touches(pr[r4], t_in, rows_of(brim, r4)) & ~touches(pr[r4], t_in, rows_of(head, r4))
        alone &= beyond(t_in, n4) & beyond(t_out, n4)
        take(r4, alone, (2,), lg, [t_in, t_out])
    # all three: the brim and head's prefix, then the head and neck from the virtual start
    # (Newton's method on the entry points where the brim and head are not parallel). A kind
    # of state no row tries here is skipped whole: numpy's per-call cost makes even an empty
    # try cost as much as a full one
    f7 = other = r7[:0]
    if r7.size:
        cyl7 = ~(brim[5] | head[5] | neck[5])[r7]
        if prefix is None:
            applies, start, points, planar, _ = parallel_prefix(pr[r7], rows_of(brim, r7),
                                                                rows_of(head, r7))  # fmt: skip
        else:
            w = at[r7]
            applies, start, planar = prefix[0][w], prefix[1][w], prefix[3][w]
            points = [q[w] for q in prefix[2]]
        f7, other = np.flatnonzero(applies & cyl7), r7[~applies & cyl7]
    pairs = np.concatenate([r5, r6, r7[f7]])
    if pairs.size:
        firsts = [rows_of(brim, r5), rows_of(head, r6), rows_of(head, r7[f7])]
        first = cast(Surface, tuple(np.concatenate(parts) for parts in zip(*firsts, strict=True)))
        x = np.concatenate([pr[r5], pr[r6]] + ([start[f7]] if f7.size else []))
        pair = cylinder_pair(x, sr[pairs], first, rows_of(neck, pairs))
        part5, part6, part7 = np.split(np.arange(pairs.size), np.cumsum([r5.size, r6.size]))
        if r5.size:
            bn = _pair_rows(pair, part5)
            take(r5, bn.ok & ~touches(bn.tangents[1], bn.tangents[2], rows_of(head, r5))
                 & _on_neck(bn.tangents, rows_of(neck, r5)), (0, 2), bn.length, bn.tangents)  # fmt: skip
        if r6.size:
            hn = _pair_rows(pair, part6)
            take(r6, hn.ok & ~touches(pr[r6], hn.tangents[0], rows_of(brim, r6))
                 & _on_neck(hn.tangents, rows_of(neck, r6)), (1, 2), hn.length, hn.tangents)  # fmt: skip
        if f7.size:
            tn = _pair_rows(pair, part7)
            sub = r7[f7]
            t3 = _three_over_prefix(pr[sub], rows_of(head, sub), [q[f7] for q in points],
                                    planar[f7], tn)  # fmt: skip
            n7 = rows_of(neck, sub)
            take(sub, tn.ok & beyond(t3[4], n7) & beyond(t3[5], n7), (0, 1, 2), tn.length, t3)
    if other.size:
        found, lg, tg, _ = chain_surfaces(pr[other], sr[other],
                                          [rows_of(x, other) for x in (brim, head, neck)])  # fmt: skip
        n7 = rows_of(neck, other)
        take(other, found & beyond(tg[4], n7) & beyond(tg[5], n7), (0, 1, 2), lg, tg)


def _pair_rows(pair: Pair, index: Index) -> Pair:
    """A Pair's rows at ``index``."""
    return Pair(pair.ok[index], pair.length[index], [t[index] for t in pair.tangents],
                pair.spans[index], pair.slope[index])  # fmt: skip


def _needs(x: Array, y: Array, neck: Surface) -> Bools:
    """Whether the rest of the first two surfaces' path, x->y, needs the neck: x lies inside
    it, or the segment touches it, on its side of the head centre (beyond the centre along the
    axis: x, or the point of the segment nearest the axis seen along it)."""
    c, e1, e3, sense, r, sphere = neck
    basis = surface_basis(x, y, c, e1, e3, sense, sphere)
    loc = local_ends(x, y, c, basis)
    x0 = loc[:, 0]  # x in local x y z
    inside = (x0[:, 0] ** 2 + x0[:, 1] ** 2 < r * r) & (x0[:, 2] >= 0.0)
    return np.asarray(inside | touches_beyond(x, y, neck, basis, loc))


def _on_neck(tangents: list[Array], neck: Surface) -> Bools:
    """Whether a pair's second surface (the neck) has both tangent points on the neck."""
    return beyond(tangents[2], neck) & beyond(tangents[3], neck)


def _spread(values: Array, rest: Index, size: int) -> Array:
    """``values`` of rows ``rest`` laid out over ``size`` rows (zeros elsewhere)."""
    out = np.zeros((size, *values.shape[1:]))
    out[rest] = values
    return out


def _take(
    mask: Bools,
    need: Index,
    decided: Bools,
    which: tuple[int, ...],
    length_in: Array,
    tangents_in: list[Array],
    on: list[Bools],
    length: Array,
    tangents: list[Array],
    state: NDArray[np.intp],
) -> None:
    """Set rows ``need[mask]`` not yet decided to the state wrapping surfaces ``which``."""
    mask = mask & ~decided
    decided |= mask
    rows = need[mask]
    if not rows.size:
        return
    length[rows] = length_in[mask]
    for k in range(3):
        on[k][rows] = k in which
    state[rows] = sum(1 << k for k in which)
    for j, k in enumerate(which):
        tangents[2 * k][rows] = tangents_in[2 * j][mask]
        tangents[2 * k + 1][rows] = tangents_in[2 * j + 1][mask]


# --- a surface between the two of a pair ------------------------------------------------------
# The hamstrings pass behind the femoral head (a sphere) and the back of the condyles (a
# cylinder about the knee axis) on one segment; with the hip abducted and turned outward their
# line between the two crosses the back of the proximal femur, where a third surface, between
# them in path order, holds it (``resolve_middle``).

MIDDLE_ITERATIONS = 40  # rounds of the three-surface iteration at most (rows settle in 10-15)
MIDDLE_TOLERANCE = 1e-9  # metres: a row stops when no tangent point moves more in a round
HELD_ROUNDS = 10  # a row that has not settled holds off the surfaces it took up or dropped in these
# the continuation from behind (module docstring): the start moved this far back along the middle
# surface's side (over the explorer's ranges the hamstrings' origin stands up to 8.4 mm in front
# of the head centre in the femur's frame, 19 mm 5 deg beyond them), and brought back in this
# many steps of 5 mm (four steps of 7.5 mm found the path behind wherever six did over the
# explorer's ranges and 5 deg beyond; six leave a margin)
BEHIND_REACH = 0.03
BEHIND_STEPS = 6


def resolve_middle(
    p: Array, s: Array, surfaces: list[Surface], two: TwoSurfaces | None = None,
    need: Bools | None = None, iterate: Callable[..., Chain] | None = None, behind: bool = True,
) -> Chain:
    """Resolve segments p->s (N, 3) over three surfaces in a row, the middle one added to the
    path over the outer two: ``two`` is the outer two's resolution (``twowrap.resolve`` of the
    first and the last), if already known. Where that path's bridge (from the first surface's
    exit, or p, to the last one's entry, or s) does not touch the middle surface, that is the
    path (the middle one's tangent points are s). Elsewhere ``middle_iteration`` wraps all three
    from that path (its first round wraps the middle surface on the bridge the first surface
    leaves it). The Chain is in path order (first, middle, last); its state has a bit per
    engaged surface, or -1 where the outer two's own iteration decided a row that does not need
    the middle one. Rows whose middle surface ends up wrapped on the far side of its centre from
    its ``side`` are continued from behind (module docstring; ``behind``: False leaves them, as
    the continuation's own start does). ``need``: which rows' bridge touches the middle surface,
    if already known; ``iterate``: ``middle_iteration`` or a twin with its arguments and results
    (the fast path's pose on floats), which the continuation uses too."""
    first, middle, last = surfaces
    if two is None:
        two = resolve(p, s, first, last)
    on = [two.on0.copy(), np.zeros(len(p), bool), two.on1.copy()]
    length = two.length.copy()
    tangents = [two.tangents[0].copy(), two.tangents[1].copy(), s.copy(), s.copy(),
                two.tangents[2].copy(), two.tangents[3].copy()]  # fmt: skip
    state = np.where(two.state < 0, -1, two.on0 * 1 + two.on1 * 4).astype(np.intp)
    start = np.where(two.on0[:, None], two.tangents[1], p)
    end = np.where(two.on1[:, None], two.tangents[2], s)
    rows = np.flatnonzero(touches(start, end, middle) if need is None else need)
    if rows.size:
        got = (iterate or middle_iteration)(p[rows], s[rows], [rows_of(x, rows) for x in surfaces],
                                            [x[rows] for x in on], [t[rows] for t in tangents])  # fmt: skip
        _write_rows(rows, got, on, length, tangents, state)
        if behind:
            front = rows[_in_front(got.on[1], got.tangents[2], got.tangents[3],
                                   rows_of(middle, rows))]  # fmt: skip
            if front.size:
                _continue_behind(p, s, surfaces, front, iterate, on, length, tangents, state)
    return _chain_of(p, s, on, length, tangents, state)


def _in_front(on: Bools, t_in: Array, t_out: Array, surface: Surface) -> Bools:
    """Rows whose surface is wrapped (``on``) with its arc, from ``t_in`` to ``t_out``, on the far
    side of its centre from its side direction (the midpoint of its tangent points, seen from the
    centre, against the side)."""
    c, side = surface[0], surface[1]
    return on & (np.add.reduce((t_in + t_out - 2.0 * c) * side, axis=1) < 0.0)


def _continue_behind(
    p: Array, s: Array, surfaces: list[Surface], rows: Index,
    iterate: Callable[..., Chain] | None, on: list[Bools], length: Array, tangents: list[Array],
    state: NDArray[np.intp],
) -> None:
    """The path of rows ``rows`` continued from behind the middle surface (module docstring):
    resolved (``resolve_middle``) with the start BEHIND_REACH back along the middle surface's
    side, then iterated (``iterate`` or ``middle_iteration``) from each step's path as the start
    comes back in BEHIND_STEPS equal steps, the last one the start itself. Where it ends with the
    middle surface behind its centre (or not wrapped) it replaces the row's path in ``on``,
    ``length``, ``tangents`` and ``state``."""
    sub = [rows_of(x, rows) for x in surfaces]
    side = sub[1][1]
    pr, sr = p[rows], s[rows]
    got = resolve_middle(pr + BEHIND_REACH * side, sr, sub, iterate=iterate, behind=False)
    for j in range(BEHIND_STEPS - 1, -1, -1):
        got = (iterate or middle_iteration)(pr + (BEHIND_REACH * j / BEHIND_STEPS) * side, sr, sub,
                                            got.on, got.tangents)  # fmt: skip
    ok = ~_in_front(got.on[1], got.tangents[2], got.tangents[3], sub[1])
    _write_rows(rows[ok], got, on, length, tangents, state, ok)


def _write_rows(
    rows: Index, got: Chain, on: list[Bools], length: Array, tangents: list[Array],
    state: NDArray[np.intp], pick: Bools | slice = slice(None),
) -> None:
    """Write the chain ``got`` (its rows ``pick``) into rows ``rows`` of a segment's
    engagement, length, tangent points and state."""
    for k in range(3):
        on[k][rows] = got.on[k][pick]
    length[rows] = got.length[pick]
    for t, tg in zip(tangents, got.tangents, strict=True):
        t[rows] = tg[pick]
    state[rows] = got.state[pick]


def middle_iteration(
    p: Array, s: Array, surfaces: list[Surface], on: list[Bools], tangents: list[Array]
) -> Chain:
    """The obstacle-set iteration over three surfaces in a row, from a path over them (each
    surface engaged, its entry and exit points): each round wraps each surface in turn, with
    the kernel's rule, from the previous engaged surface's exit (or p) to the next engaged one's
    entry (or s), the earlier surfaces' new points already in place, until no tangent point of a
    row moves more than MIDDLE_TOLERANCE (or for MIDDLE_ITERATIONS rounds). Each row stops on
    its own, so its result does not depend on the rows it is solved with. The length is the
    surfaces' wraps (each from where its line starts to where it ends) less the straight
    bridges between engaged neighbours, which two wraps both hold.

    A row that has not settled by then cycles: a surface is taken up in one round and dropped
    in the next (surfaces that overlap can do this), and its last round's wraps do not meet, so
    neither its length nor its tangent points would be the path drawn from them. Such a row is
    iterated again from where it stopped with every surface whose engagement changed in its last
    HELD_ROUNDS rounds held off (``_rounds``); where that settles, it is the path (one the held
    surfaces do not hold), and where it cycles again, the segment is straight. A row that has not
    settled with no surface coming or going (its points still creep, the surfaces wrapped stay
    the same) takes the further rounds with none held and keeps its last round's state, and its
    length is that of the path drawn from it (``drawn_length``): its last round's wraps do not
    quite meet. Rows creep where two surfaces that intersect both hold the path (the femoral
    head sphere between tensor fasciae latae's trochanter sphere and shaft cylinder: the bridge
    between them shrinks to 5 um, the head's exit point inside the cylinder, and the points
    still move 0.13-0.4 um a round after 3000 rounds), so more rounds would not settle them;
    elsewhere a row can converge slowly (a semitendinosus row in the corner of the joint
    ranges moves 30 nm in its 80th round)."""
    n = len(p)
    on = [x.copy() for x in on]
    tangents = [t.copy() for t in tangents]
    lengths = np.zeros((3, n))
    starts = [p.copy() for _ in range(3)]
    ends = [s.copy() for _ in range(3)]
    active = np.ones(n, bool)
    flips = _rounds(p, s, surfaces, on, tangents, lengths, starts, ends, active, None)
    straight = np.zeros(n, bool)
    creep = np.zeros(0, np.intp)  # rows that run out of rounds with the same surfaces wrapped
    if active.any():  # rows that cycle
        held = flips & active
        for k in range(3):
            on[k] &= ~held[k]
        again = _rounds(p, s, surfaces, on, tangents, lengths, starts, ends, active, held)
        straight = active & again.any(axis=0)
        for k in range(3):
            on[k] &= ~straight
            tangents[2 * k][straight], tangents[2 * k + 1][straight] = s[straight], p[straight]
        creep = np.flatnonzero(active & ~straight)
    total = np.zeros(n)
    engaged = np.zeros(n, bool)
    for k in range(3):
        total += np.where(on[k], lengths[k], 0.0)
        # the bridge from the nearest engaged surface before this one (its line ran to this
        # one's entry, as it stood then; this one's starts at that surface's exit)
        before, prior = np.zeros(n, bool), np.zeros((n, 3))
        for j in range(k):
            before |= on[j]
            prior = np.where(on[j][:, None], ends[j], prior)
        total -= np.where(on[k] & before, _gaps(prior, starts[k]), 0.0)
        engaged |= on[k]
    total = np.where(engaged, total, np.linalg.norm(s - p, axis=1))
    if creep.size:
        total[creep] = drawn_length(p[creep], s[creep], [rows_of(x, creep) for x in surfaces],
                                    [x[creep] for x in on], [t[creep] for t in tangents])  # fmt: skip
    state = (on[0] * 1 + on[1] * 2 + on[2] * 4).astype(np.intp)
    return Chain(on, total, tangents, state, [], [])


def drawn_length(
    p: Array, s: Array, surfaces: list[Surface], on: list[Bools], tangents: list[Array]
) -> Array:
    """The length of the path drawn from a state over three surfaces in a row (each surface
    engaged, its entry and exit points), as ``PathSet`` and ``fastpath`` draw it: each engaged
    surface wrapped by the kernel from where its line starts (the previous engaged surface's
    exit, or p) to where it ends (the next one's entry, or s), and its arc joined by a straight
    line to the last arc drawn before it (or p); the last one to s. A surface the kernel does
    not wrap there is not drawn. Where the state has settled this is its length."""
    chain = _chain_of(p, s, on, np.zeros(len(p)), tangents, np.zeros(len(p), np.intp))
    total = np.zeros(len(p))
    last = p
    for k in range(3):
        start, end = chain.starts[k], chain.ends[k]
        _, wrapped, lg, t_in, t_out = wrap_rows(start, end, *surfaces[k], False)
        drawn = wrapped & on[k]
        # the arc: the wrap less its straight legs (a helix climbs evenly, so they part as
        # its planar lengths do)
        arc = lg - _gaps(t_in, start) - _gaps(end, t_out)
        total += np.where(drawn, _gaps(t_in, last) + arc, 0.0)
        last = np.where(drawn[:, None], t_out, last)
    return total + _gaps(s, last)


def _gaps(a: Array, b: Array) -> Array:
    """Row-wise distances from ``a`` to ``b`` (n, 3)."""
    return np.sqrt(np.add.reduce((a - b) ** 2, axis=1))


def _rounds(
    p: Array, s: Array, surfaces: list[Surface], on: list[Bools], tangents: list[Array],
    lengths: Array, starts: list[Array], ends: list[Array], active: Bools, held: Bools | None,
) -> Bools:
    """``middle_iteration``'s rounds on its ``active`` rows, in place (a row leaves ``active``
    when it settles); ``held`` (3, N): surfaces kept off, never wrapped. Returns (3, N) which
    surfaces' engagement changed in a row's last HELD_ROUNDS rounds."""
    flips = np.zeros((3, len(p)), bool)
    for r in range(MIDDLE_ITERATIONS):
        i = np.flatnonzero(active)
        if not i.size:
            break
        moved = np.zeros(i.size)
        for k in range(3):
            start = p[i]
            for j in range(k):
                start = np.where(on[j][i, None], tangents[2 * j + 1][i], start)
            end = s[i]
            for j in range(2, k, -1):
                end = np.where(on[j][i, None], tangents[2 * j][i], end)
            _, wrapped, lg, t_in, t_out = wrap_rows(start, end, *rows_of(surfaces[k], i), False)
            if held is not None:
                wrapped &= ~held[k, i]
            if r >= MIDDLE_ITERATIONS - HELD_ROUNDS:
                flips[k, i] |= wrapped != on[k][i]
            t_in = np.where(wrapped[:, None], t_in, end)
            t_out = np.where(wrapped[:, None], t_out, start)
            moved = np.maximum(moved, np.maximum(np.abs(t_in - tangents[2 * k][i]).max(axis=1),
                                                 np.abs(t_out - tangents[2 * k + 1][i]).max(axis=1)))  # fmt: skip
            on[k][i], lengths[k, i] = wrapped, lg
            tangents[2 * k][i], tangents[2 * k + 1][i] = t_in, t_out
            starts[k][i], ends[k][i] = start, end
        active[i[moved < MIDDLE_TOLERANCE]] = False
    return flips


# --- a few rows on Python floats ---------------------------------------------------------------
# One pose has four iliopsoas rows, where numpy's per-call cost, not the arithmetic, is the time.
# ``chain_row`` (the fast path's pose or two) and ``resolve_chain`` on a few rows take them
# through the functions below, step for step as the numpy ones (a test pins single poses to the
# batch, to 1e-12: math's and numpy's atan2, acos and hypot differ in the last bit); a pair
# whose secant method fails is searched as ``_brackets`` does.

FEW_ROWS = 16  # resolve_chain's default: up to this many rows of cylinders on floats
_PI = math.pi
_TWO_PI = 2.0 * math.pi
_LIMIT = float(SPAN_LIMIT)
V3 = tuple[float, float, float]


class FewSurface:
    """One surface of one row on floats: centre, kernel basis (rows e1, e2, e3; counter-
    clockwise about e3), radius, and the raw axis."""

    __slots__ = ("axis", "b", "c", "r", "sense")

    def __init__(self, c: V3, e1: V3, e3: V3, sense: float, r: float) -> None:
        self.c, self.r, self.axis, self.sense = c, r, e3, sense
        e2 = (sense * (e3[1] * e1[2] - e3[2] * e1[1]), sense * (e3[2] * e1[0] - e3[0] * e1[2]),
              sense * (e3[0] * e1[1] - e3[1] * e1[0]))  # fmt: skip
        self.b = (e1, e2, e3)

    @classmethod
    def of_basis(cls, c: V3, basis: list[float], sense: float, r: float) -> FewSurface:
        """From the kernel basis (``surface_basis``, its rows flat): no cross product."""
        row = cls.__new__(cls)
        b0, b1, b2, b3, b4, b5, b6, b7, b8 = basis
        e3 = (b6, b7, b8)
        row.c, row.r, row.axis, row.sense, row.b = c, r, e3, sense, ((b0, b1, b2), (b3, b4, b5), e3)
        return row

    def local(self, x: V3) -> V3:
        d0, d1, d2 = x[0] - self.c[0], x[1] - self.c[1], x[2] - self.c[2]
        (a, b, c) = self.b
        return (d0 * a[0] + d1 * a[1] + d2 * a[2], d0 * b[0] + d1 * b[1] + d2 * b[2],
                d0 * c[0] + d1 * c[1] + d2 * c[2])  # fmt: skip

    def world(self, u: float, v: float, w: float) -> V3:
        (a, b, c), o = self.b, self.c
        return (u * a[0] + v * b[0] + w * c[0] + o[0], u * a[1] + v * b[1] + w * c[1] + o[1],
                u * a[2] + v * b[2] + w * c[2] + o[2])  # fmt: skip

    def along(self, x: V3) -> float:
        a = self.axis
        return (x[0] - self.c[0]) * a[0] + (x[1] - self.c[1]) * a[1] + (x[2] - self.c[2]) * a[2]


def _f_touches(x: V3, y: V3, surf: FewSurface) -> bool:
    """``twowrap.touches`` on one row."""
    (a0, a1, a2), (b0, b1, b2), _ = surf.b
    c0, c1, c2 = surf.c
    u0, u1, u2 = x[0] - c0, x[1] - c1, x[2] - c2
    v0, v1, v2 = y[0] - c0, y[1] - c1, y[2] - c2
    x0, y0 = u0 * a0 + u1 * a1 + u2 * a2, u0 * b0 + u1 * b1 + u2 * b2
    x1, y1 = v0 * a0 + v1 * a1 + v2 * a2, v0 * b0 + v1 * b1 + v2 * b2
    return touches_in_plane(x0, y0, x1, y1, surf.r)


def f_needs(x: V3, y: V3, neck: FewSurface) -> bool:
    """``_needs`` on one row."""
    (a0, a1, a2), (b0, b1, b2), (e0, e1, e2) = neck.b
    c0, c1, c2 = neck.c
    u0, u1, u2 = x[0] - c0, x[1] - c1, x[2] - c2
    v0, v1, v2 = y[0] - c0, y[1] - c1, y[2] - c2
    x0, y0, z0 = u0 * a0 + u1 * a1 + u2 * a2, u0 * b0 + u1 * b1 + u2 * b2, u0 * e0 + u1 * e1 + u2 * e2
    x1, y1, z1 = v0 * a0 + v1 * a1 + v2 * a2, v0 * b0 + v1 * b1 + v2 * b2, v0 * e0 + v1 * e1 + v2 * e2
    if x0 * x0 + y0 * y0 < neck.r * neck.r and z0 >= 0.0:
        return True
    return touches_beyond_in_plane(x0, y0, z0, x1, y1, z1, neck.r)


def f_wrap(p: V3, s: V3, surf: FewSurface) -> tuple[bool, float, V3, V3]:
    """``wrapping.wrap_in_basis`` on one row of a cylinder, without points."""
    x0, y0, z0 = surf.local(p)
    x1, y1, z1 = surf.local(s)
    d0, d1 = math.hypot(x0, y0), math.hypot(x1, y1)
    # min and max as comparisons (``acos_ratio``): the same values
    near = d1 if d1 < d0 else d0
    r = near * (1.0 - 1e-9)
    r = r if r < surf.r else surf.r
    dx, dy = x1 - x0, y1 - y0
    size = math.hypot(dx, dy)
    h = (dy * x0 - dx * y0) / (1e-12 if size < 1e-12 else size)
    b0, b1 = math.acos(r / (r if r > d0 else d0)), math.acos(r / (r if r > d1 else d1))
    start = math.atan2(y0, x0) + b0
    span = (math.atan2(y1, x1) - b1 - start) % _TWO_PI
    if span > _TWO_PI - 1e-9:
        span = 0.0
    wrapped = h < r and near > r and span < _LIMIT
    l_in, l_out = d0 * d0 - r * r, d1 * d1 - r * r
    l_in = math.sqrt(0.0 if l_in < 0.0 else l_in)
    arc = r * span
    planar = l_in + arc + math.sqrt(0.0 if l_out < 0.0 else l_out)
    dz = z1 - z0
    if wrapped:
        length = math.sqrt(planar * planar + dz * dz)
    else:
        length = math.sqrt((s[0] - p[0]) ** 2 + (s[1] - p[1]) ** 2 + (s[2] - p[2]) ** 2)
    slope = dz / (1e-12 if planar < 1e-12 else planar)
    t_in = surf.world(r * math.cos(start), r * math.sin(start), z0 + slope * l_in)
    t_out = surf.world(r * math.cos(start + span), r * math.sin(start + span),
                       z0 + slope * (l_in + arc))  # fmt: skip
    return wrapped, length, t_in, t_out


_MIXED: dict[tuple[float, ...], tuple[Any, ...]] = {}  # per surface pair and end s, one pose


class _FewPair:
    """``_PairRows`` for one row, on floats. What depends only on the two surfaces, or on them
    and s, is kept for the pose (``_MIXED``): iliopsoas's four lines share their surfaces and
    their insertion."""

    def __init__(self, x: V3, s: V3, first: FewSurface, second: FewSurface) -> None:
        self.first, self.second = first, second
        r0, r1 = first.r, second.r
        self.r0, self.r1 = r0, r1
        xl = first.local(x)
        dist_x = math.hypot(xl[0], xl[1])
        # (acos_ratio's clip at -1 never acts: radii and distances are positive)
        self.phi_in = math.atan2(xl[1], xl[0]) + acos_ratio(r0, dist_x)
        leg = dist_x * dist_x - r0 * r0
        self.leg_x = math.sqrt(0.0 if leg < 0.0 else leg)
        self.x_height = xl[2]
        key = (id(first), id(second), *s)
        known = _MIXED.get(key)
        if known is None or known[0] is not first or known[1] is not second:
            (a0, a1, a2), (b0, b1, b2), (e0, e1, e2) = first.b
            m = [  # m[i][j]: the first's basis vector j along the second's basis vector i
                [u0 * a0 + u1 * a1 + u2 * a2, u0 * b0 + u1 * b1 + u2 * b2, u0 * e0 + u1 * e1 + u2 * e2]
                for u0, u1, u2 in second.b
            ]
            sl = second.local(s)
            dist_s = math.hypot(sl[0], sl[1])
            theta_out = math.atan2(sl[1], sl[0]) - acos_ratio(r1, dist_s)
            s0 = first.local(s)
            dist_s0 = math.hypot(s0[0], s0[1])
            s_angle = math.atan2(s0[1], s0[0]) - acos_ratio(r0, dist_s0)
            leg = dist_s * dist_s - r1 * r1
            known = _MIXED[key] = (first, second, m, second.local(first.c), theta_out,
                                   math.sqrt(0.0 if leg < 0.0 else leg), sl[2], s_angle,
                                   dist_s)  # fmt: skip
        _, _, m, self.c01, self.theta_out, self.leg_s, self.s_height, s_angle, dist_s = known
        self.m = m
        self.mf = (*m[0], *m[1], *m[2])
        xh = self.x_height
        cx, cy, cz = self.c01
        self.base = (cx + xh * m[0][2], cy + xh * m[1][2], cz + xh * m[2][2])
        alone = (s_angle - self.phi_in) % _TWO_PI  # the first cylinder's span, straight on to s
        self.guess = alone if alone < _LIMIT else 0.0
        wx, wy = m[0][2], m[1][2]
        self.usable = dist_x > r0 and dist_s > r1 and wx * wx + wy * wy > 1e-18

    def evaluate(self, span: float) -> tuple[float, bool, tuple[Any, ...]]:
        """The height error, whether the bridge exists, and (k, exit0, t, entry1, climb,
        span1, planar0), as ``_PairRows.evaluate``."""
        r0, r1 = self.r0, self.r1
        m00, m01, m02, m10, m11, m12, m20, m21, m22 = self.mf
        phi = self.phi_in + span
        planar0 = self.leg_x + r0 * span
        cos, sin = math.cos(phi), math.sin(phi)
        rc, rs = r0 * cos, r0 * sin
        bx, by, bz = self.base
        t0x = bx + rc * m00 + rs * m01
        t0y = by + rc * m10 + rs * m11
        t0z = bz + rc * m20 + rs * m21
        d0x = cos * m01 - sin * m00
        d0y = cos * m11 - sin * m10
        d0z = cos * m21 - sin * m20
        alpha = t0x * d0y - t0y * d0x
        beta = t0x * m12 - t0y * m02 + planar0 * (m02 * d0y - m12 * d0x)
        rr = r1 * r1
        a2 = beta * beta - rr * (m02 * m02 + m12 * m12)
        a1 = 2.0 * (alpha * beta - rr * (d0x * m02 + d0y * m12))
        a0 = alpha * alpha - rr * (d0x * d0x + d0y * d0y)
        disc = a1 * a1 - 4.0 * a2 * a0
        root = math.sqrt(disc) if disc > 0.0 else 0.0
        q = -0.5 * (a1 + (root if a1 >= 0.0 else -root))
        k1 = q / (a2 if a2 != 0.0 else 1e-300)
        k2 = a0 / (q if q != 0.0 else 1e-300)
        k, other = (k1, k2) if k1 < k2 else (k2, k1)
        fits = disc >= 0.0
        # the lower slope, else the higher where only it runs forward to the second cylinder
        kp = k * planar0
        ex, ey = t0x + kp * m02, t0y + kp * m12
        dx, dy = d0x + k * m02, d0y + k * m12
        dd = dx * dx + dy * dy
        t = -(ex * dx + ey * dy) / (dd if dd > 1e-300 else 1e-300)
        fine = fits and alpha + beta * k > 0.0 and t > 0.0
        if not fine and fits and alpha + beta * other > 0.0:
            kp = other * planar0
            qx, qy = t0x + kp * m02, t0y + kp * m12
            px, py = d0x + other * m02, d0y + other * m12
            pdd = px * px + py * py
            pt = -(qx * px + qy * py) / (pdd if pdd > 1e-300 else 1e-300)
            if pt > 0.0:
                k, ex, ey, dx, dy, dd, t, fine = other, qx, qy, px, py, pdd, pt, True
        ez, dz = t0z + k * planar0 * m22, d0z + k * m22
        entry = (ex + t * dx, ey + t * dy, ez + t * dz)
        climb = dz / math.sqrt(dd if dd > 1e-300 else 1e-300)
        span1 = (self.theta_out - math.atan2(entry[1], entry[0]) + _PI) % _TWO_PI - _PI
        error = entry[2] + climb * (r1 * span1 + self.leg_s) - self.s_height
        valid = fine and span1 > -0.5 * _PI and math.isfinite(error)
        return error, valid, (k, (ex, ey, ez), t, entry, climb, span1, planar0)

    def secant(self) -> tuple[bool, float]:
        """``_secant`` on this row."""
        guess, top = self.guess, _LIMIT - 2.0 * SECANT_START
        a = guess if guess < top else top
        b = a + SECANT_START
        f_a, ok_a, _ = self.evaluate(a)
        f_b, ok_b, _ = self.evaluate(b)
        alive = ok_a and ok_b and self.usable
        done = False
        geometry = None
        high = _LIMIT * (1.0 - 1e-12)
        for _ in range(SECANT_STEPS):
            if not alive or done:
                break
            slope = f_b - f_a
            step = -f_b * (b - a) / (slope if slope != 0.0 else 1e-300)
            step = SECANT_REACH if step > SECANT_REACH else -SECANT_REACH if step < -SECANT_REACH else step
            c = b + step
            c = 0.0 if c < 0.0 else high if c > high else c
            f_c, ok_c, geometry = self.evaluate(c)
            alive = ok_c and c != b
            a, f_a, b, f_b = b, f_b, c, f_c
            done = ok_c and (abs(b - a) < ROOT_TOLERANCE or abs(f_c) < ROOT_ERROR)
        found = done and (alive or abs(f_b) < ROOT_ERROR)
        self.last = (f_b, found, geometry)
        return found, b

    def solve(self) -> tuple[bool, float, list[V3], tuple[float, float], float] | None:
        """The pair path (``cylinder_pair``) for this row, or None: length, tangent points,
        spans, slope."""
        found, span0 = self.secant()
        g = self.last[2]
        if found:
            found = (g is not None and abs(self.last[0]) < 1e-9 and 0.0 <= span0 < _LIMIT
                     and 0.0 <= g[5] < _LIMIT)  # fmt: skip
        if not found:
            if not self.usable:
                return None
            got = self._brackets()
            if got is None:
                return None
            span0 = got
            g = self.evaluate(span0)[2]
        assert g is not None
        k, ex, t, entry, climb, span1, planar0 = g
        secant = math.sqrt(1.0 + k * k)
        planar1 = self.r1 * span1 + self.leg_s
        length = (planar0 + t) * secant + math.hypot(planar1, self.s_height - entry[2])
        r0, r1, first, second = self.r0, self.r1, self.first, self.second
        tangents = [
            first.world(r0 * math.cos(self.phi_in), r0 * math.sin(self.phi_in),
                        self.x_height + k * self.leg_x),
            second.world(*ex), second.world(*entry),
            second.world(r1 * math.cos(self.theta_out), r1 * math.sin(self.theta_out),
                         entry[2] + climb * r1 * span1),
        ]  # fmt: skip
        return True, length, tangents, (span0, span1), k

    def _brackets(self) -> float | None:
        """``_brackets`` for this row: the root of the shortest path among every sign change
        on the grid and at the ends of the stretches where the bridge exists, or None."""
        grid = [_LIMIT * j / PAIR_GRID for j in range(PAIR_GRID + 1)]
        grid[-1] = _LIMIT * (1.0 - 1e-12)
        values = [self.evaluate(x)[:2] for x in grid]
        error = [v[0] for v in values]
        ok = [v[1] for v in values]
        brackets = []
        for j in range(PAIR_GRID):
            if ok[j] and ok[j + 1] and ((error[j] >= 0.0) != (error[j + 1] >= 0.0)):
                brackets.append((grid[j], grid[j + 1], error[j], error[j + 1]))
        edges = []  # (valid grid point, its error, invalid neighbour, the end is the lower one)
        for j in range(PAIR_GRID):
            if ok[j + 1] and not ok[j]:
                edges.append((grid[j + 1], error[j + 1], grid[j], True))
            if ok[j] and not ok[j + 1]:
                edges.append((grid[j], error[j], grid[j + 1], False))
        # numpy lists the rising ends (valid from j + 1) before the falling ones
        edges.sort(key=lambda e: not e[3])
        for good, f_good, bad, rising in edges:
            anchor, f_anchor = good, f_good
            for _ in range(EDGE_STEPS):
                mid = 0.5 * (good + bad)
                f_mid, ok_mid, _ = self.evaluate(mid)
                if ok_mid:
                    good, f_good = mid, f_mid
                else:
                    bad = mid
            if (f_good >= 0.0) != (f_anchor >= 0.0):
                brackets.append((good, anchor, f_good, f_anchor) if rising
                                else (anchor, good, f_anchor, f_good))  # fmt: skip
        best: tuple[float, float] | None = None
        for lo, hi, f_lo, f_hi in brackets:
            alive, last = True, 0
            for _ in range(ROOT_ITERATIONS):
                denominator = f_hi - f_lo
                mid = lo - f_lo * (hi - lo) / (denominator if denominator != 0.0 else 1.0)
                if not lo < mid < hi:
                    mid = 0.5 * (lo + hi)
                f_mid, ok_mid, _ = self.evaluate(mid)
                alive = alive and ok_mid
                same = (f_mid >= 0.0) == (f_lo >= 0.0)
                if same:
                    if last < 0:
                        f_hi = 0.5 * f_hi
                    lo, f_lo, last = mid, f_mid, -1
                else:
                    if last > 0:
                        f_lo = 0.5 * f_lo
                    hi, f_hi, last = mid, f_mid, 1
                if not (ok_mid and hi - lo > ROOT_TOLERANCE and f_mid != 0.0):
                    break
            span0 = lo if abs(f_lo) <= abs(f_hi) else hi
            error0, ok0, g = self.evaluate(span0)
            if not (alive and ok0 and abs(error0) < 1e-9 and _f_spans_fine(span0, g[5])):
                continue
            k, _, t, entry, _, span1, planar0 = g
            length = (planar0 + t) * math.sqrt(1.0 + k * k) + math.hypot(
                self.r1 * span1 + self.leg_s, self.s_height - entry[2])  # fmt: skip
            if best is None or length < best[0]:
                best = (length, span0)
        return None if best is None else best[1]


def f_pair(x: V3, s: V3, first: FewSurface, second: FewSurface) -> tuple[float, list[V3]] | None:
    """``cylinder_pair`` on one row (twowrap's both-surfaces path over two cylinders whose axes
    are not parallel, on floats): its length and four tangent points, or None."""
    got = _FewPair(x, s, first, second).solve()
    _MIXED.pop((id(first), id(second), *s), None)  # kept per pose only for chain_row's pairs
    return None if got is None else (got[1], got[2])


def _f_spans_fine(span0: float, span1: float) -> bool:
    return 0.0 <= span0 < _LIMIT and 0.0 <= span1 < _LIMIT


Prefix = tuple[bool, V3, list[V3], tuple[float, ...]]


def f_prefix(p: V3, brim: FewSurface, head: FewSurface) -> Prefix:
    """``parallel_prefix`` on one row: exists, virtual start (world), the brim's entry and exit
    at p's height (head basis), planar lengths to them. It depends on p and the two surfaces
    only: the fast path keeps it where all three are fixed to the pelvis."""
    a3, b3 = brim.axis, head.axis
    along = a3[0] * b3[0] + a3[1] * b3[1] + a3[2] * b3[2]
    tilt = (a3[1] * b3[2] - a3[2] * b3[1], a3[2] * b3[0] - a3[0] * b3[2],
            a3[0] * b3[1] - a3[1] * b3[0])  # fmt: skip
    parallel = tilt[0] ** 2 + tilt[1] ** 2 + tilt[2] ** 2 < 1e-18
    eps = brim.sense * ((along > 0) - (along < 0)) * head.sense
    r0, r1 = brim.r, head.r
    pl = head.local(p)
    bl = head.local(brim.c)
    dpx, dpy = pl[0] - bl[0], pl[1] - bl[1]
    dist_p = math.hypot(dpx, dpy)
    a_in = math.atan2(dpy, dpx) + eps * math.acos(min(r0 / max(dist_p, 1e-300), 1.0))
    dist_b = math.hypot(bl[0], bl[1])
    rho = eps * r0 - r1
    psi = math.atan2(bl[1], bl[0]) - math.acos(min(max(rho / max(dist_b, 1e-300), -1.0), 1.0))
    nx, ny = math.cos(psi), math.sin(psi)
    ux, uy = ny, -nx
    ex0, ey0 = bl[0] - eps * r0 * nx, bl[1] - eps * r0 * ny
    ex1, ey1 = -r1 * nx, -r1 * ny
    a_out = math.atan2(ey0 - bl[1], ex0 - bl[0])
    span = (eps * (a_out - a_in)) % _TWO_PI
    if span > _TWO_PI - 1e-9:
        span = 0.0
    leg = math.sqrt(max(dist_p * dist_p - r0 * r0, 0.0))
    gap = math.sqrt(max(dist_b * dist_b - rho * rho, 0.0))
    planar = (leg, leg + r0 * span, leg + r0 * span + gap)
    ok = parallel and dist_p > r0 and abs(rho) < dist_b and span < _LIMIT
    start = head.world(ex1 - planar[2] * ux, ey1 - planar[2] * uy, pl[2])
    points = [(bl[0] + r0 * math.cos(a_in), bl[1] + r0 * math.sin(a_in), pl[2]),
              (ex0, ey0, pl[2])]  # fmt: skip
    return ok, start, points, planar


def _resolve_chain_few(p: Array, s: Array, surfaces: list[Surface], two: TwoSurfaces) -> Chain:
    """``resolve_chain`` for a few rows of cylinders, on floats."""
    (c0, e10, e30, g0, r0, _), (c1, e11, e31, g1, r1, _), (c2, e12, e32, g2, r2, _) = surfaces
    table = np.concatenate((p, s, c0, e10, e30, c1, e11, e31, c2, e12, e32, *two.tangents,
                            np.stack((g0, r0, g1, r1, g2, r2, two.on0, two.on1, two.length,
                                      two.state), axis=1)), axis=1).tolist()  # fmt: skip
    rows: dict[tuple[float, ...], FewSurface] = {}

    def surface(values: tuple[float, ...]) -> FewSurface:
        known = rows.get(values)
        if known is None:
            c, e1, e3 = (cast(V3, values[k : k + 3]) for k in (0, 3, 6))
            known = rows[values] = FewSurface(c, e1, e3, values[9], values[10])
        return known

    return chain_table([
        (tuple(row[0:3]), tuple(row[3:6]), surface((*row[6:15], row[45], row[46])),
         surface((*row[15:24], row[47], row[48])), surface((*row[24:33], row[49], row[50])),
         row[51] > 0.0, row[52] > 0.0, row[53], [tuple(row[k : k + 3]) for k in (33, 36, 39, 42)],
         int(row[54])) for row in table])  # fmt: skip


FewRow = tuple[V3, V3, "FewSurface", "FewSurface", "FewSurface", bool, bool, float, list[V3], int]


def chain_table(rows: list[FewRow]) -> Chain:
    """``resolve_chain`` on floats, for a few rows given as (p, s, brim, head, neck, the first
    two surfaces' resolution: on0, on1, length, four tangent points, state)."""
    _MIXED.clear()
    out = []
    for pi, si, brim, head, neck, on0, on1, length, two_tangents, two_state in rows:
        ons, lg, state, tg = chain_row(pi, si, brim, head, neck, on0, on1, length, two_tangents,
                                       two_state)  # fmt: skip
        out.append(chain_record(pi, si, ons, lg, state, tg))
    return chain_of_records(out)


def chain_record(p: V3, s: V3, ons: list[bool], length: float, state: int, tg: list[V3]) -> list[float]:
    """One row of a Chain as floats (``chain_of_records``): engaged, length, state, tangent
    points, and where each surface's line starts (the previous engaged surface's exit, or p) and
    ends (the next one's entry, or s)."""
    begin, finish = chain_ends(p, s, ons, tg)
    return [*ons, length, state, *(x for t in tg for x in t), *(x for t in begin for x in t),
            *(x for t in finish for x in t)]  # fmt: skip


def chain_of_records(out: list[list[float]]) -> Chain:
    """The Chain of rows made by ``chain_record``."""
    res = np.array(out)
    tangents = [res[:, 5 + 3 * k : 8 + 3 * k] for k in range(6)]
    starts = [res[:, 23 + 3 * k : 26 + 3 * k] for k in range(3)]
    ends = [res[:, 32 + 3 * k : 35 + 3 * k] for k in range(3)]
    on = [res[:, k] > 0.0 for k in range(3)]
    return Chain(on, res[:, 3], tangents, res[:, 4].astype(np.intp), starts, ends)


def chain_row(
    p: V3, s: V3, brim: FewSurface, head: FewSurface, neck: FewSurface, on0: bool, on1: bool, length: float,
    two_tangents: list[V3], two_state: int, needed: bool = False, prefix: Prefix | None = None,
) -> tuple[list[bool], float, int, list[V3]]:
    """``resolve_chain`` on one row, on floats (one pose's iliopsoas rows, where numpy's
    per-call cost, not the arithmetic, would be the time), step for step as the numpy version,
    with the first two surfaces' resolution (engaged, length, four tangent points, state)
    known. Returns each surface engaged, the length, the state and the six tangent points.
    ``needed``: the caller has found that the path needs the neck (``f_needs``); ``prefix``:
    ``f_prefix(p, brim, head)``, if known. Call ``reset_pose`` first for each pose: pair
    constants are kept for the pose."""
    tg = [*two_tangents, s, s]
    last = tg[3] if on1 else tg[1] if on0 else p
    state = -1 if two_state < 0 else on0 * 1 + on1 * 2
    if not needed and not f_needs(last, s, neck):
        return [on0, on1, False], length, state, tg
    for code in ORDER[on0 * 1 + on1 * 2]:
        got = _f_attempt(code, p, s, brim, head, neck, prefix)
        if got is None:
            continue
        which, length, found = got  # the surfaces of state ``code`` (its bits)
        for j, k in enumerate(which):
            tg[2 * k], tg[2 * k + 1] = found[2 * j], found[2 * j + 1]
        return [(code & 1) > 0, (code & 2) > 0, (code & 4) > 0], length, code, tg
    return [on0, on1, False], length, state, tg


def reset_pose() -> None:
    """Forget the pair constants kept for the last pose (``chain_row``)."""
    _MIXED.clear()


def chain_ends(p: V3, s: V3, ons: list[bool], tg: list[V3]) -> tuple[list[V3], list[V3]]:
    """Where each surface's line starts (the previous engaged surface's exit, or p) and ends
    (the next one's entry, or s), on floats (``_chain_of``)."""
    ends = [chain_end(k, p, s, ons, tg) for k in range(3)]
    return [e[0] for e in ends], [e[1] for e in ends]


def chain_end(k: int, p: V3, s: V3, ons: list[bool], tg: list[V3]) -> tuple[V3, V3]:
    """Where surface ``k``'s line starts and ends, on floats (one of ``chain_ends``)."""
    before = p
    for j in range(k):
        before = tg[2 * j + 1] if ons[j] else before
    after = s
    for j in range(2, k, -1):
        after = tg[2 * j] if ons[j] else after
    return before, after


def _f_attempt(
    code: int, p: V3, s: V3, brim: FewSurface, head: FewSurface, neck: FewSurface,
    prefix: Prefix | None = None,
) -> tuple[tuple[int, ...], float, list[V3]] | None:
    """``_attempt`` on one row: the state's surfaces, length and tangent points, if consistent
    (``prefix``: ``f_prefix(p, brim, head)``, if known)."""
    if code == 7:
        ok, start, points, planar = prefix or f_prefix(p, brim, head)
        if not ok:
            return None
        pair = _FewPair(start, s, head, neck).solve()
        if pair is None or neck.along(pair[2][2]) < 0.0 or neck.along(pair[2][3]) < 0.0:
            return None
        k = pair[4]
        ends = [head.world(points[j][0], points[j][1], points[j][2] + k * planar[j])
                for j in (0, 1)]  # fmt: skip
        return (0, 1, 2), pair[1], ends + pair[2]
    if code == 4:
        wrapped, lg, t_in, t_out = f_wrap(p, s, neck)
        if (wrapped and not _f_touches(p, t_in, brim) and not _f_touches(p, t_in, head)
                and neck.along(t_in) >= 0.0 and neck.along(t_out) >= 0.0):  # fmt: skip
            return (2,), lg, [t_in, t_out]
        return None
    if code == 6:
        hn = _FewPair(p, s, head, neck).solve()
        if hn is None or (_f_touches(p, hn[2][0], brim) or neck.along(hn[2][2]) < 0.0
                          or neck.along(hn[2][3]) < 0.0):  # fmt: skip
            return None
        return (1, 2), hn[1], hn[2]
    bn = _FewPair(p, s, brim, neck).solve()
    if bn is None or neck.along(bn[2][2]) < 0.0 or neck.along(bn[2][3]) < 0.0:
        return None
    if _f_touches(bn[2][1], bn[2][2], head):
        return None
    return (0, 2), bn[1], bn[2]


def _chain_of(
    p: Array, s: Array, on: list[Bools], length: Array, tangents: list[Array],
    state: NDArray[np.intp],
) -> Chain:
    """The Chain, with where each surface's line starts and ends."""
    starts, ends = [], []
    for k in range(3):
        before = p.copy()
        for j in range(k):
            before = np.where(on[j][:, None], tangents[2 * j + 1], before)
        after = s.copy()
        for j in range(2, k, -1):
            after = np.where(on[j][:, None], tangents[2 * j], after)
        starts.append(before)
        ends.append(after)
    return Chain(on, length, tangents, state, starts, ends)
