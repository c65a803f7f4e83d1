"""Lengths and moment arms of every line of action in a constant, small number of numpy calls.

``PathSet.evaluate`` (wrapping.py) is the reference: it walks the lines group by group and, where
one segment wraps over two surfaces in a row (iliopsoas: pelvic brim then femoral head; rectus
femoris: quadriceps bed then distal femur), iterates the obstacle set until the tangent points
settle, up to 12 rounds of about 40 numpy calls each. That costs milliseconds for one pose. This
module computes the same numbers for slider-rate use:

- every line is flattened once into posed points, straight segments, one-surface segments and
  two-surface segments, so one pose costs the same few numpy calls whatever the number of lines;
  pelvis-fixed points and surfaces are taken as they are (the pelvis is the model frame);
- all one-surface wraps, and both surfaces of every two-surface segment taken alone, go through
  the wrap kernel in a single batched call;
- a two-surface segment is solved, not iterated: its fixed point is one of four states (neither
  surface engaged, only the first, only the second, both). The first three follow from the
  single-surface wraps; "both" on two parallel cylinders has a closed form (in the plane
  across the axes: tangent, arc, common tangent of the two circles, arc, tangent; along the axes
  the path climbs evenly, as on any developable surface). Each state is checked with the
  kernel's own engagement rule; where exactly one state is consistent it is the fixed point the
  iteration converges to. Rows with no or several consistent states (non-parallel axes, for
  example with hip adduction or rotation) fall back to the reference iteration.
- one pose is a handful of rows, where numpy's per-call cost, not the arithmetic, is the time:
  there the sphere bases (five rows) and the two-surface states and closed form (five rows)
  run on Python floats, step for step as their numpy versions (``_sphere_bases``,
  ``_two_surfaces_few``); a test pins single poses to the batch.

A test compares this module with ``PathSet.evaluate`` to 1e-6 m over many poses.

``FastPaths.polylines`` gives the drawn points for the scene (``wrapped_polylines`` for one pose):
the same posed points and arc samples as ``PathSet.evaluate(..., with_points=True)``. There the
closed form is not enough: the reference's two-surface iteration stops before it has converged
at low hip flexion (its arcs sit up to 0.03 mm off the fixed point), so its rounds are repeated
as they are, on Python floats for the handful of rows of one pose (tests/test_fastpoints.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from hipflex.model.skeleton import ModelContext
from hipflex.model.wrapping import (
    ARC_SAMPLES,
    PROXIMAL,
    SEQUENCE_ITERATIONS,
    SPAN_LIMIT,
    TWO_PI,
    Cylinder,
    PathSet,
    cross,
    path_set,
    shrunk_radius,
    stack1,
    surface_basis,
    wrap_in_basis,
    wrap_rows,
)

Array = NDArray[np.float64]
Index = NDArray[np.intp]
Bools = NDArray[np.bool_]
BODY_INDEX = {"pelvis": 0, "femur_r": 1, "tibia_r": 2}


@dataclass(frozen=True)
class _Wraps:
    """Surfaces (W of them) in their body frames, stacked."""

    body: Index  # (W,)
    centre: Array  # (W, 3)
    side: Array
    axis: Array
    radius: Array  # (W,)
    sphere: NDArray[np.bool_]


class FastPaths:
    """Every line of a PathSet, flattened for evaluation in a fixed number of numpy calls."""

    def __init__(self, ps: PathSet) -> None:
        self.n_lines = ps.n_lines
        local: list[Array] = []  # path points in their body frames
        body: list[int] = []
        cyls: list[Cylinder] = []
        plain: list[tuple[int, int, int]] = []  # (point a, point b, line)
        single: list[tuple[int, int, int, int, float]] = []  # + (wrap, sense)
        double: list[tuple[int, int, int, int, float, int, float]] = []  # + (wrap, sense) x 2
        cands: list[list[tuple[str, int, int]]] = [[] for _ in range(self.n_lines)]
        # candidate = (kind, index, body): kind "p" posed point, "s0"/"s1" single-wrap tangent
        # in/out, "d0".."d3" two-surface tangents (first in, first out, second in, second out)

        def wrap_index(cyl: Cylinder) -> int:
            for i, c in enumerate(cyls):
                if c is cyl:
                    return i
            cyls.append(cyl)
            return len(cyls) - 1

        double_key: list[tuple[int, int]] = []  # (group, segment): the reference stops per key
        for gi, g in enumerate(ps.groups):
            for k, line in enumerate(g.index):
                idx = []
                for j, body_id in enumerate(g.bodies):
                    idx.append(len(local))
                    local.append(g.points[k, j])
                    body.append(BODY_INDEX[body_id])
                cand = cands[line]
                cand.append(("p", idx[0], BODY_INDEX[g.bodies[0]]))
                for i in range(len(g.bodies) - 1):
                    wraps = g.segments.get(i, [])
                    ia, ib = idx[i], idx[i + 1]
                    if not wraps:
                        plain.append((ia, ib, int(line)))
                    elif len(wraps) == 1:
                        cyl, senses = wraps[0]
                        row = len(single)
                        single.append((ia, ib, int(line), wrap_index(cyl), float(senses[k])))
                        bi = BODY_INDEX[cyl.body]
                        cand += [("s0", row, bi), ("s1", row, bi)]
                    elif len(wraps) == 2:
                        (c0, s0), (c1, s1) = wraps
                        row = len(double)
                        double_key.append((gi, i))
                        double.append((ia, ib, int(line), wrap_index(c0), float(s0[k]),
                                       wrap_index(c1), float(s1[k])))  # fmt: skip
                        b0, b1 = BODY_INDEX[c0.body], BODY_INDEX[c1.body]
                        cand += [("d0", row, b0), ("d1", row, b0), ("d2", row, b1),
                                 ("d3", row, b1)]  # fmt: skip
                    else:
                        raise NotImplementedError("more than two wrap surfaces on one segment")
                    cand.append(("p", idx[i + 1], BODY_INDEX[g.bodies[i + 1]]))

        # polylines (what PathSet.evaluate(with_points=True) draws): per line, its posed points
        # with each wrapped segment's arc points in between, as indices into one point bank:
        # posed points, one-surface arcs, first-surface arcs, second-surface arcs
        self.line_names = [""] * self.n_lines
        for name, (gi, k) in ps.line_group.items():
            self.line_names[int(ps.groups[gi].index[k])] = name
        arc = ARC_SAMPLES + 2
        base = {"s0": len(local), "d0": len(local) + arc * len(single),
                "d2": len(local) + arc * (len(single) + len(double))}  # fmt: skip
        gather: list[int] = []
        self._poly_slices: list[tuple[str, int, int]] = []
        for line, cand in enumerate(cands):
            first = len(gather)
            for kind, pos, _ in cand:
                if kind == "p":
                    gather.append(pos)
                    continue
                for key in {"s0": ("s0",), "d0": ("d0", "d2")}.get(kind, ()):
                    gather.extend(range(base[key] + arc * pos, base[key] + arc * (pos + 1)))
            self._poly_slices.append((self.line_names[line], first, len(gather)))
        self._poly_gather = np.array(gather, dtype=np.intp)
        self.points = np.array(local)
        self.point_body = np.array(body)
        self._by_body = [np.flatnonzero(self.point_body == b) for b in range(3)]
        self.wraps = _Wraps(
            np.array([BODY_INDEX[c.body] for c in cyls], dtype=np.intp),
            np.array([c.centre for c in cyls]).reshape(-1, 3),
            np.array([c.side for c in cyls]).reshape(-1, 3),
            np.array([c.axis for c in cyls]).reshape(-1, 3),
            np.array([c.radius for c in cyls], float),
            np.array([c.kind == "sphere" for c in cyls], bool),
        )
        self._wrap_by_body = [np.flatnonzero(self.wraps.body == b) for b in range(3)]
        w = self.wraps
        fixed = self._wrap_by_body[0]
        frame = np.stack([w.centre, w.side, w.axis], axis=1)  # (W, 3, 3) per surface
        self._wrap_fixed = frame[fixed]
        self._moving = {  # per moving body, homogeneous: its path points, then its surfaces'
            # centres (w = 1), sides and axes (w = 0); one product poses them all
            b: np.concatenate([_homogeneous(self.points[self._by_body[b]], 1.0)]
                              + [_homogeneous(frame[self._wrap_by_body[b], k], float(k == 0))
                                 for k in range(3)])
            for b in (1, 2)
        }  # fmt: skip
        self._cache: dict[int, _Static] = {}
        # segment tables
        pl = np.array(plain, dtype=np.intp).reshape(-1, 3)
        self._plain_a, self._plain_b, plain_line = pl[:, 0], pl[:, 1], pl[:, 2]
        sg = np.array(single, float).reshape(-1, 5)
        self._single_a, self._single_b = sg[:, 0].astype(np.intp), sg[:, 1].astype(np.intp)
        single_line, self._single_w, self._single_sense = (
            sg[:, 2].astype(np.intp), sg[:, 3].astype(np.intp), sg[:, 4])  # fmt: skip
        db = np.array(double, float).reshape(-1, 7)
        self._double_a, self._double_b = db[:, 0].astype(np.intp), db[:, 1].astype(np.intp)
        double_line = db[:, 2].astype(np.intp)
        self._double_w = db[:, [3, 5]].astype(np.intp)  # (S2, 2)
        self._double_sense = db[:, [4, 6]]
        self.n_single, self.n_double = len(single), len(double)
        keys = sorted(set(double_key))
        self._double_key = np.array([keys.index(k) for k in double_key], dtype=np.intp)
        self.n_double_keys = len(keys)
        # line length = sum of its segments' lengths: one matrix product
        n_seg = len(plain) + len(single) + len(double)
        self._incidence = np.zeros((n_seg, self.n_lines))
        seg_line = np.concatenate([plain_line, single_line, double_line])
        self._incidence[np.arange(n_seg), seg_line] = 1.0
        # candidate table for the points where the force acts (see wrapping._force_pair)
        n_p, n_1, n_2 = len(local), len(single), len(double)
        offset = {"p": 0, "s0": n_p, "s1": n_p + n_1, "d0": n_p + 2 * n_1,
                  "d1": n_p + 2 * n_1 + n_2, "d2": n_p + 2 * n_1 + 2 * n_2,
                  "d3": n_p + 2 * n_1 + 3 * n_2}  # fmt: skip
        k_max = max(len(c) for c in cands)
        self._cand = np.zeros((self.n_lines, k_max), dtype=np.intp)
        cand_body = np.full((self.n_lines, k_max), -1)
        for line, cand in enumerate(cands):
            for slot, (kind, pos, bi) in enumerate(cand):
                self._cand[line, slot] = offset[kind] + pos
                cand_body[line, slot] = bi
        valid = cand_body >= 0
        self._prox: dict[str, NDArray[np.bool_]] = {}
        self._distal: dict[str, NDArray[np.bool_]] = {}
        self._crosses: dict[str, NDArray[np.bool_]] = {}
        for joint, bodies in PROXIMAL.items():
            prox = np.isin(cand_body, [BODY_INDEX[b] for b in bodies]) & valid
            self._prox[joint] = prox
            self._distal[joint] = ~prox & valid
            last = cand_body[np.arange(self.n_lines), valid.sum(axis=1) - 1]
            self._crosses[joint] = prox[:, 0] & ~np.isin(last, [BODY_INDEX[b] for b in bodies])
        self._prox_j = np.stack([self._prox["hip"], self._prox["knee"]])[:, None]  # (2,1,L,K)
        self._dist_j = np.stack([self._distal["hip"], self._distal["knee"]])[:, None]
        self._line_ix = np.arange(self.n_lines)
        self._last = k_max - 1
        self._crosses4 = np.concatenate([np.repeat(self._crosses["hip"][:, None], 3, axis=1),
                                         self._crosses["knee"][:, None]], axis=1)  # fmt: skip

    # -- evaluation ---------------------------------------------------------------------------
    def _static(self, n: int) -> _Static:
        """Row tables for ``n`` poses (rows are segment-major: row = segment * n + pose)."""
        st = self._cache.get(n)
        if st is None:
            if len(self._cache) >= 4:  # a few sizes: a slider pose and its sweeps alternate
                del self._cache[next(iter(self._cache))]
            st = self._cache[n] = _Static(n, self)
        return st

    def _solve(
        self, transforms: Mapping[str, Array], points: bool, solve_two: bool = True
    ) -> _Solved:
        """Posed points and every wrap (lengths, engagement, tangent points), shared by
        ``evaluate`` and ``polylines``; with ``points`` the one-surface rows' arc points too,
        without ``solve_two`` the two-surface segments only as their surfaces taken alone."""
        femur, tibia = transforms["femur_r"], transforms["tibia_r"]
        n = femur.shape[0]
        st = self._static(n)
        # posed path points and surfaces (centre, side, axis): one product per moving body
        pts, wb = st.pts, st.wb  # pose-independent parts already filled in
        for b, tr in ((1, femur), (2, tibia)):
            sel, wsel, m = self._by_body[b], self._wrap_by_body[b], len(self._by_body[b])
            moved = self._moving[b] @ tr[:, :3].transpose(0, 2, 1)
            pts[:, sel] = moved[:, :m]
            if wsel.size:
                wb[:, wsel] = moved[:, m:].reshape(n, 3, wsel.size, 3).transpose(0, 2, 1, 3)
        # straight segments
        v = pts[:, self._plain_b] - pts[:, self._plain_a]
        seg_len = [np.sqrt(np.add.reduce(v * v, axis=-1))]
        # one batched kernel call: one-surface segments, then each surface of the two-surface
        # segments taken alone
        p = pts[:, st.a_idx].transpose(1, 0, 2).reshape(-1, 3)
        s = pts[:, st.b_idx].transpose(1, 0, 2).reshape(-1, 3)
        rows = wb[:, st.w_idx].transpose(1, 0, 2, 3).reshape(-1, 3, 3)
        c, e1, e3 = rows[:, 0], rows[:, 1], rows[:, 2]
        basis = surface_basis(p, s, c, e1, e3, st.sense, st.no_sphere)  # as if all cylinders
        if st.sph.size:  # a sphere's plane goes through the line's ends
            basis[st.sph] = _sphere_bases(p, s, c, e1, e3, st)
        world, on, length, t_in, t_out = wrap_in_basis(p, s, c, basis, st.radius, points)
        ns1 = n * self.n_single
        seg_len.append(length[:ns1].reshape(-1, n).T)
        bank = [pts, _pose_major(t_in[:ns1], n), _pose_major(t_out[:ns1], n)]
        single_on = on[:ns1].reshape(-1, n).T
        engaged = [st.point_on, single_on, single_on]
        double: tuple[Bools, Bools, list[Array]] | None = None
        if self.n_double and solve_two:
            on0, on1, d_len, tangents = _two_surfaces(
                p, s, (c, e1, e3, basis), (on, length, t_in, t_out), st
            )
            double = (on0, on1, tangents)
            seg_len.append(d_len.reshape(-1, n).T)
            bank += [_pose_major(t, n) for t in tangents]
            on0, on1 = on0.reshape(-1, n).T, on1.reshape(-1, n).T
            engaged += [on0, on0, on1, on1]
        alone = (on[st.one], t_in[st.one], on[st.two], t_in[st.two])
        return _Solved(n, st, pts, seg_len, bank, engaged, (p, s, c, e1, e3, basis), world, alone,
                       double)  # fmt: skip

    def evaluate(self, transforms: dict[str, Array], hip_flexion_rad: Array) -> tuple[Array, Array]:
        """Lengths (n, n_lines) and moment arms (n, n_lines, 4) about hip flexion, adduction,
        rotation and knee flexion, as ``PathSet.evaluate`` gives them. The pelvis is the model
        frame (its transform is the identity)."""
        femur, tibia = transforms["femur_r"], transforms["tibia_r"]
        sv = self._solve(transforms, False)
        st, seg_len, bank, engaged = sv.st, sv.seg_len, sv.bank, sv.engaged
        lengths = np.concatenate(seg_len, axis=1) @ self._incidence

        # moment arms: where the force acts on the distal bodies (virtual work), both joints
        cand = np.concatenate(bank, axis=1)[:, self._cand]  # (n, L, K, 3)
        cand_on = np.concatenate(engaged, axis=1)[:, self._cand]
        prox = cand_on & self._prox_j  # (2 joints, n, L, K)
        dist = cand_on & self._dist_j
        ia = self._last - prox[..., ::-1].argmax(axis=3)  # last proximal
        ib = dist.argmax(axis=3)  # first distal
        a = cand[st.pose_ix, self._line_ix, ia]  # (2, n, L, 3)
        b = cand[st.pose_ix, self._line_ix, ib]
        u = a - b
        u /= np.maximum(np.sqrt(np.add.reduce(u * u, axis=-1)), 1e-12)[..., None]
        st.centres[0] = femur[:, None, :3, 3]
        st.centres[1] = tibia[:, None, :3, 3]
        moment = cross(b - st.centres, u)
        axes = st.axes
        axes[:, 1, 0] = np.cos(hip_flexion_rad)  # adduction axis: (cos, sin, 0) of flexion
        axes[:, 1, 1] = np.sin(hip_flexion_rad)
        axes[:, 2] = femur[:, :3, 1]  # rotation: the femur's long axis
        axes[:, 3] = -femur[:, :3, 2]  # knee flexion: about the femur's -z
        arms = np.einsum("jnlk,nck->jnlc", moment, axes)
        out = arms[0]  # hip columns from the hip pair, knee column from the knee pair
        out[:, :, 3] = arms[1, :, :, 3]
        out *= self._crosses4
        return lengths, out

    def polylines(
        self, transforms: Mapping[str, Array], converged: bool = False
    ) -> dict[str, Array]:
        """Every line's wrapped polyline (n, k, 3), the points ``PathSet.evaluate(...,
        with_points=True)`` gives (posed via points, and ARC_SAMPLES + 2 points per wrap surface:
        tangent, arc, tangent, or the segment's start repeated where it does not wrap), by line
        name; each pose as ``PathSet.evaluate`` draws it given that pose alone. The pelvis is
        the model frame (its transform is the identity).

        Where one segment wraps over two surfaces the reference iterates, and stops before it
        has converged at some poses (up to 0.03 mm off the fixed point at low hip flexion):
        this repeats its rounds exactly. With ``converged`` the arcs are drawn at the exact
        fixed point instead (the closed form that ``evaluate`` uses)."""
        sv = self._solve(transforms, points=True, solve_two=converged)
        n = sv.n
        assert sv.world is not None
        parts = [sv.pts, _arcs_pose_major(sv.world[: n * self.n_single], n)]
        if self.n_double:
            parts += _two_surface_arcs(sv, converged)
        bank = np.concatenate(parts, axis=1)[:, self._poly_gather]
        return {name: bank[:, a:b] for name, a, b in self._poly_slices}


@dataclass
class _Solved:
    """One ``FastPaths._solve``: what lengths, moment arms and polylines are made from."""

    n: int  # poses
    st: _Static
    pts: Array  # (n, P, 3) posed path points (a reused buffer: copy before keeping)
    seg_len: list[Array]  # per segment kind, (n, segments)
    bank: list[Array]  # tangent-point candidates, pose-major
    engaged: list[Bools]
    rows: tuple[Array, Array, Array, Array, Array, Array]  # kernel batch: p, s, c, e1, e3, basis
    world: Array | None  # kernel batch arc points (rows, ARC_SAMPLES + 2, 3) if asked
    alone: tuple[Bools, Array, Bools, Array]  # two-surface rows: on0, t_in0, on1, t_in1 alone
    double: tuple[Bools, Bools, list[Array]] | None  # two-surface on0, on1, tangent points


def _sphere_bases(p: Array, s: Array, c: Array, e1: Array, e3: Array, st: _Static) -> Array:
    """``surface_basis`` of the kernel batch's sphere rows (k, 3, 3); on Python floats for a
    few rows (one pose has five), where numpy's per-call cost dominates."""
    r = st.sph
    if len(r) > FEW_ROWS:
        return surface_basis(p[r], s[r], c[r], e1[r], e3[r], st.sense[r], st.sphere[r])
    out: list[float] = []
    table = np.concatenate((p, s, c, e1, e3), axis=1)[r].tolist()
    for px, py, pz, sx, sy, sz, cx, cy, cz, ax, ay, az, zx, zy, zz in table:
        # the normal of the plane through p, s and the centre, as it comes (the shorter way)
        ux, uy, uz, vx, vy, vz = px - cx, py - cy, pz - cz, sx - cx, sy - cy, sz - cz
        nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        size = math.sqrt(nx * nx + ny * ny + nz * nz)
        if size > 1e-15:
            nx, ny, nz = nx / size, ny / size, nz / size
        else:  # p, s and the centre in line: the plane of the line and the side
            dx, dy, dz = sx - px, sy - py, sz - pz
            rx, ry, rz = ay * dz - az * dy, az * dx - ax * dz, ax * dy - ay * dx
            size = math.sqrt(rx * rx + ry * ry + rz * rz)
            if size > 1e-15:
                nx, ny, nz = rx / size, ry / size, rz / size
            else:
                nx, ny, nz = zx, zy, zz
        d = ax * nx + ay * ny + az * nz  # the side, projected into that plane
        ax, ay, az = ax - d * nx, ay - d * ny, az - d * nz
        size = max(math.sqrt(ax * ax + ay * ay + az * az), 1e-300)
        ax, ay, az = ax / size, ay / size, az / size
        out += (ax, ay, az, ny * az - nz * ay, nz * ax - nx * az, nx * ay - ny * ax,
                nx, ny, nz)  # fmt: skip
    return np.array(out).reshape(-1, 3, 3)


def _homogeneous(v: Array, w: float) -> Array:
    """(k, 3) vectors with a fourth coordinate ``w`` (1 for points, 0 for directions)."""
    return np.concatenate([v.reshape(-1, 3), np.full((len(v), 1), w)], axis=1)


def _pose_major(rows: Array, n: int) -> Array:
    """(segments * n, 3) rows, segment-major, as (n, segments, 3)."""
    return rows.reshape(-1, n, 3).transpose(1, 0, 2)


def _arcs_pose_major(world: Array, n: int) -> Array:
    """Arc points (segments * n, arc, 3), segment-major, as (n, segments * arc, 3)."""
    arc = world.shape[1]
    return world.reshape(-1, n, arc, 3).transpose(1, 0, 2, 3).reshape(n, -1, 3)


class _Static:
    """Pose-count dependent, pose-independent tables and buffers of a FastPaths (per size)."""

    def __init__(self, n: int, fp: FastPaths) -> None:
        s1, s2 = fp.n_single, fp.n_double
        self.a_idx = np.concatenate([fp._single_a, fp._double_a, fp._double_a])
        self.b_idx = np.concatenate([fp._single_b, fp._double_b, fp._double_b])
        self.w_idx = np.concatenate([fp._single_w, fp._double_w[:, 0], fp._double_w[:, 1]])
        sense = np.concatenate([fp._single_sense, fp._double_sense[:, 0], fp._double_sense[:, 1]])
        w = fp.wraps
        self.sense = np.repeat(sense, n)
        self.radius = np.repeat(w.radius[self.w_idx], n)
        self.sphere = np.repeat(w.sphere[self.w_idx], n)
        self.point_on = np.ones((n, len(fp.points)), bool)
        self.pose_ix = np.arange(n)[:, None]
        self.axes = np.zeros((n, 4, 3))
        self.axes[:, 0, 2] = 1.0  # hip flexion: about the pelvis z
        self.centres = np.zeros((2, n, 1, 3))
        self.pts = np.empty((n, len(fp.points), 3))
        self.pts[:, fp._by_body[0]] = fp.points[fp._by_body[0]]
        self.wb = np.empty((n, len(w.body), 3, 3))
        self.wb[:, fp._wrap_by_body[0]] = fp._wrap_fixed
        self.no_sphere = np.zeros(len(self.sphere), bool)
        self.sph = np.flatnonzero(self.sphere)
        # two-surface rows: surface 0 rows, then surface 1 rows, in the kernel batch
        self.one = slice(n * s1, n * (s1 + s2))
        self.two = slice(n * (s1 + s2), n * (s1 + 2 * s2))
        self.r0, self.r1 = self.radius[self.one], self.radius[self.two]
        self.sg0, self.sg1 = self.sense[self.one], self.sense[self.two]
        self.sg0_r0 = self.sg0 * self.r0
        self.cylinders = ~(self.sphere[self.one] | self.sphere[self.two])
        self.any_sphere = not self.cylinders.all()
        self.pi_if_ccw0 = np.where(self.sg0 > 0, np.pi, 0.0)
        # the four engagement checks: surface 1 on t_out0 -> s, surface 0 on p -> t_in1, then
        # surface 0 on p -> T1 and surface 1 on T0 -> s for the closed form
        self.chk = np.concatenate([np.arange(n * s2) + k * n * s2 for k in (1, 0, 0, 1)])
        self.chk_r = np.concatenate([self.r1, self.r0, self.r0, self.r1])
        self.num = np.empty((n * s2, 3))  # closed form: radii, and room for rho
        self.num[:, 0], self.num[:, 1] = self.r0, self.r1
        self.r01_sq = self.num[:, :2] ** 2
        both = slice(self.one.start, self.two.stop)
        self.two_sense, self.two_radius, self.two_sphere = (
            self.sense[both], self.radius[both], self.sphere[both])  # fmt: skip
        self.key = (fp._double_key[:, None] * n + np.arange(n)[None]).ravel()
        self.n_keys = fp.n_double_keys * n
        self.unsense0 = np.ones((n * s2, 3, 1))  # undoes the sense in surface 0's basis
        self.unsense0[:, 1, 0] = self.sg0
        per_row = (self.r0.tolist(), self.r1.tolist(), self.sg0.tolist(), self.sg1.tolist())
        self.few = list(zip(*per_row, strict=True))  # radii and senses, per two-surface row


def _state_table() -> NDArray[np.intp]:
    """The state a two-surface segment settles in (0 neither surface engaged, 1 only the first,
    2 only the second, 3 both, -1 undecided: run the iteration), indexed by six facts as bits:
    the first / second surface engages on p->s alone (1, 2), the second engages on the rest of
    the path after the first (4), the first engages on the path up to the second (8), the
    closed form for "both" exists and both its surfaces engage (16), the closed form applies
    (32).

    A state is consistent when it is a fixed point of the iteration: "only the first" if the
    first engages on p->s and the second does not on the rest, and likewise the other way
    round. The iteration starts from the surfaces taken alone and only ever moves end points,
    so where neither engages it stops there, and where only one engages alone and that state is
    consistent it settles there. Otherwise the state must be the only consistent one.
    """
    table = np.full(64, -1, dtype=np.intp)
    for code in range(64):
        on_a, on_b, eng_rest, eng_upto, both_ok, known = (bool(code >> k & 1) for k in range(6))
        first_ok, second_ok = on_a and not eng_rest, on_b and not eng_upto
        if not on_a and not on_b:
            table[code] = 0
        elif first_ok and (not on_b or (known and not both_ok and not second_ok)):
            table[code] = 1
        elif second_ok and (not on_a or (known and not both_ok and not first_ok)):
            table[code] = 2
        elif both_ok and not first_ok and not second_ok:
            table[code] = 3
    return table


_STATES = _state_table()
_STATE_LIST: list[int] = _STATES.tolist()
_TWO_PI = float(TWO_PI)
_SPAN_LIMIT = float(SPAN_LIMIT)


def _two_surfaces(
    p: Array,
    s: Array,
    frames: tuple[Array, Array, Array, Array],
    alone: tuple[Bools, Array, Array, Array],
    st: _Static,
) -> tuple[Bools, Bools, Array, list[Array]]:
    """Resolve the segments that wrap over surface 0 then surface 1.

    ``p``, ``s``, ``frames`` (centre, side, axis, kernel basis) and ``alone`` (on, length,
    t_in, t_out of each surface taken alone on p->s) are the kernel batch's rows; ``st.one``
    and ``st.two`` select the two surfaces' rows. Returns on0, on1, the length, and the
    tangent points [t_in0, t_out0, t_in1, t_out1].

    The reference iteration starts from the surfaces taken alone. Where neither engages it
    stops at once; where only one engages and the other does not engage on the rest of the
    path it stops there too (both follow from the iteration's rule, which only ever changes
    end points). Elsewhere the state is the only consistent one of "both" (closed form),
    "only the first" and "only the second"; where that is not unique, or the closed form does
    not apply, the iteration itself decides.
    """
    if not st.any_sphere and len(st.r0) <= FEW_ROWS:
        return _two_surfaces_few(p, s, frames, alone, st)
    one, two = st.one, st.two
    c, e1, e3, basis = frames
    on, length, t_in, t_out = alone
    p, s = p[one], s[one]
    on_a, on_b = on[one], on[two]
    known, ok, l_both, tangents = _both_engaged(p, s, c[one], c[two], basis[one], e3[two], st)
    # the four engagement checks in one go (the kernel's rule on the given lines)
    x = np.concatenate([t_out[one], p, p, tangents[1]])
    y = np.concatenate([s, t_in[two], tangents[2], s])
    idx = st.chk
    both = slice(one.start, two.stop)  # the two surfaces' rows are adjacent in the batch
    both_c, both_b = c[both], basis[both]
    if st.any_sphere:  # a sphere's plane depends on the line: recompute those bases
        both_e1, both_e3 = e1[both], e3[both]
        both_sense = np.concatenate([st.sg0, st.sg1])
        both_sphere = np.concatenate([st.sphere[one], st.sphere[two]])
        chk_b = surface_basis(x, y, both_c[idx], both_e1[idx], both_e3[idx], both_sense[idx],
                              both_sphere[idx])  # fmt: skip
    else:
        chk_b = both_b[idx]
    eng = _engages(x, y, both_c[idx], chk_b, st.chk_r).reshape(4, -1)
    # the state, from a table of six facts (see _state_table)
    code = (on_a + 2 * on_b + 4 * eng[0] + 8 * eng[1] + 16 * (ok & eng[2] & eng[3])
            + 32 * known)  # fmt: skip
    state = _STATES[code]
    length = np.where(state == 1, length[one], np.where(state == 2, length[two], np.where(
        state == 3, l_both, np.sqrt(np.add.reduce((s - p) ** 2, axis=1)))))  # fmt: skip
    sel3 = (state == 3)[:, None]
    pick = [np.where(sel3, tangents[0], t_in[one]), np.where(sel3, tangents[1], t_out[one]),
            np.where(sel3, tangents[2], t_in[two]), np.where(sel3, tangents[3], t_out[two])]  # fmt: skip
    return _settle(p, s, frames, st, state, length, pick)


def _settle(
    p: Array,
    s: Array,
    frames: tuple[Array, Array, Array, Array],
    st: _Static,
    state: Index,
    length: Array,
    pick: list[Array],
) -> tuple[Bools, Bools, Array, list[Array]]:
    """Run the reference iteration on the two-surface rows whose state is undecided (-1) and
    return on0, on1, the length and the tangent points (``length`` and ``pick`` updated)."""
    bad = np.flatnonzero(state < 0)
    if bad.size:
        c, e1, e3, _ = frames
        rows = [np.arange(sl.start, sl.stop)[bad] for sl in (st.one, st.two)]
        it = _iterate(p[bad], s[bad], [(c[r], e1[r], e3[r], st.sense[r], st.radius[r],
                                        st.sphere[r]) for r in rows])  # fmt: skip
        length[bad] = it[2]
        state[bad] = it[0] * 1 + it[1] * 2
        for t, val in zip(pick, it[3], strict=True):
            t[bad] = val
    return (state == 1) | (state == 3), (state == 2) | (state == 3), length, pick


def _two_surfaces_few(
    p: Array,
    s: Array,
    frames: tuple[Array, Array, Array, Array],
    alone: tuple[Bools, Array, Array, Array],
    st: _Static,
) -> tuple[Bools, Bools, Array, list[Array]]:
    """``_two_surfaces`` for a few rows over cylinders, on Python floats (one pose has five):
    numpy's per-call cost dominates there. Each row takes the same facts to the same state
    table, but only those its state depends on: the closed form only where both surfaces
    engage alone or the surface that does is not consistent on its own."""
    one, two = st.one, st.two
    c, _, _, basis = frames
    on, length, t_in, t_out = alone
    m = len(st.r0)
    table = np.concatenate(
        (p[one], s[one], c[one], c[two], basis[one].reshape(m, 9), basis[two].reshape(m, 9),
         t_in[one], t_out[one], t_in[two], t_out[two], length[one, None], length[two, None],
         on[one, None], on[two, None]), axis=1).tolist()  # fmt: skip
    states: list[int] = []
    out: list[list[float]] = []
    for row, (r0, r1, sg0, sg1) in zip(table, st.few, strict=True):
        pr, sr, c0, c1, b0, b1 = row[0:3], row[3:6], row[6:9], row[9:12], row[12:21], row[21:30]
        ti0, to0, ti1, to1 = row[30:33], row[33:36], row[36:39], row[39:42]
        on_a, on_b = row[44] > 0, row[45] > 0
        eng_rest = on_a and _row_engages(to0, sr, c1, b1, r1)
        eng_upto = on_b and _row_engages(pr, ti1, c0, b0, r0)
        first_ok, second_ok = on_a and not eng_rest, on_b and not eng_upto
        known = both_ok = False
        l_both, ends = 0.0, list[float]()
        if (on_a or on_b) and not (first_ok and not on_b) and not (second_ok and not on_a):
            known, ok, l_both, ends = _row_both(pr, sr, c0, c1, b0, b1[6:9], r0, r1, sg0, sg1)
            both_ok = ok and _row_engages(pr, ends[6:9], c0, b0, r0) and _row_engages(
                ends[3:6], sr, c1, b1, r1)  # fmt: skip
        code = on_a + 2 * on_b + 4 * eng_rest + 8 * eng_upto + 16 * both_ok + 32 * known
        state = _STATE_LIST[code]
        states.append(state)
        if state == 3:
            out.append([l_both, *ends])
            continue
        if state == 1 or state == 2:
            lg = row[42] if state == 1 else row[43]
        else:
            dx, dy, dz = sr[0] - pr[0], sr[1] - pr[1], sr[2] - pr[2]
            lg = math.sqrt(dx * dx + dy * dy + dz * dz)
        out.append([lg, *ti0, *to0, *ti1, *to1])
    res = np.array(out)
    pick = [res[:, 1:4], res[:, 4:7], res[:, 7:10], res[:, 10:13]]
    if -1 in states:
        return _settle(p[one], s[one], frames, st, np.array(states), res[:, 0], pick)
    on0 = np.array([k == 1 or k == 3 for k in states])
    return on0, np.array([k >= 2 for k in states]), res[:, 0], pick


def _row_engages(x: list[float], y: list[float], c: list[float], b: list[float], r: float) -> bool:
    """``_engages`` on one row, Python floats: the line x->y and a surface with centre ``c``
    and kernel basis ``b`` (rows, flat)."""
    ax, ay, az = x[0] - c[0], x[1] - c[1], x[2] - c[2]
    bx, by, bz = y[0] - c[0], y[1] - c[1], y[2] - c[2]
    x0, y0 = ax * b[0] + ay * b[1] + az * b[2], ax * b[3] + ay * b[4] + az * b[5]
    x1, y1 = bx * b[0] + by * b[1] + bz * b[2], bx * b[3] + by * b[4] + bz * b[5]
    dx, dy = x1 - x0, y1 - y0
    h = (dy * x0 - dx * y0) / max(math.hypot(dx, dy), 1e-12)
    d0, d1 = math.hypot(x0, y0), math.hypot(x1, y1)
    r = min(r, min(d0, d1) * (1.0 - 1e-9))  # shrunk_radius, on floats
    if not (h < r and d0 > r and d1 > r):
        return False
    span = (math.atan2(y1, x1) - math.acos(r / d1) - math.atan2(y0, x0) - math.acos(r / d0)) % _TWO_PI
    return span > _TWO_PI - 1e-9 or span < _SPAN_LIMIT


def _row_both(
    p: list[float],
    s: list[float],
    c0: list[float],
    c1: list[float],
    b0: list[float],
    e31: list[float],
    r0: float,
    r1: float,
    sg0: float,
    sg1: float,
) -> tuple[bool, bool, float, list[float]]:
    """``_both_engaged`` on one row, Python floats, step for step: whether the closed form
    applies, whether the state exists, its length and the four tangent points (flat, 12)."""
    f00, f01, f02, f10, f11, f12, f20, f21, f22 = b0
    f10, f11, f12 = f10 * sg0, f11 * sg0, f12 * sg0  # frame rows: side u, v, axis (right-handed)
    x0, y0, z0 = c0
    dx, dy, dz = p[0] - x0, p[1] - y0, p[2] - z0
    px, py, zp = (
        dx * f00 + dy * f01 + dz * f02,
        dx * f10 + dy * f11 + dz * f12,
        dx * f20 + dy * f21 + dz * f22,
    )
    dx, dy, dz = c1[0] - x0, c1[1] - y0, c1[2] - z0
    ccx, ccy = dx * f00 + dy * f01 + dz * f02, dx * f10 + dy * f11 + dz * f12
    dx, dy, dz = s[0] - x0, s[1] - y0, s[2] - z0
    sx, sy, zs = (
        dx * f00 + dy * f01 + dz * f02,
        dx * f10 + dy * f11 + dz * f12,
        dx * f20 + dy * f21 + dz * f22,
    )
    sx, sy = sx - ccx, sy - ccy
    dist_p, dist_s, dist_c = math.hypot(px, py), math.hypot(sx, sy), math.hypot(ccx, ccy)
    a0, a1, a2 = e31
    dot = a0 * f20 + a1 * f21 + a2 * f22
    sg1 = sg1 * ((dot > 0) - (dot < 0))
    tx, ty, tz = f21 * a2 - f22 * a1, f22 * a0 - f20 * a2, f20 * a1 - f21 * a0
    parallel = tx * tx + ty * ty + tz * tz < 1e-18
    sg0_r0 = sg0 * r0
    rho = sg1 * r1 - sg0_r0
    ok = parallel and dist_p > r0 and dist_s > r1 and abs(rho) < dist_c
    turn0 = math.atan2(py, px) + sg0 * math.acos(min(max(r0 / max(dist_p, 1e-300), -1.0), 1.0))
    turn2 = math.atan2(sy, sx) - sg1 * math.acos(min(max(r1 / max(dist_s, 1e-300), -1.0), 1.0))
    phi = math.atan2(ccy, ccx) + math.acos(min(max(rho / max(dist_c, 1e-300), -1.0), 1.0))
    span0 = (sg0 * (phi + (math.pi if sg0 > 0 else 0.0) - turn0)) % _TWO_PI
    span1 = (sg1 * (turn2 - phi - (sg1 > 0) * math.pi)) % _TWO_PI
    span0 = 0.0 if span0 > _TWO_PI - 1e-9 else span0
    span1 = 0.0 if span1 > _TWO_PI - 1e-9 else span1
    ok = ok and span0 < _SPAN_LIMIT and span1 < _SPAN_LIMIT
    nx, ny = math.cos(phi), math.sin(phi)
    t0x, t0y = -sg0_r0 * nx, -sg0_r0 * ny
    t1x, t1y = ccx - sg1 * r1 * nx, ccy - sg1 * r1 * ny
    gx, gy = t1x - t0x, t1y - t0y
    q0 = math.sqrt(max(dist_p * dist_p - r0 * r0, 0.0))
    q1 = q0 + r0 * span0
    q2 = q1 + math.sqrt(gx * gx + gy * gy)
    q3 = q2 + r1 * span1
    planar = q3 + math.sqrt(max(dist_s * dist_s - r1 * r1, 0.0))
    dz = zs - zp
    slope = dz / max(planar, 1e-12)
    ends: list[float] = []
    for lx, ly, lz in ((r0 * math.cos(turn0), r0 * math.sin(turn0), zp + slope * q0),
                       (t0x, t0y, zp + slope * q1), (t1x, t1y, zp + slope * q2),
                       (ccx + r1 * math.cos(turn2), ccy + r1 * math.sin(turn2), zp + slope * q3)):  # fmt: skip
        ends += (lx * f00 + ly * f10 + lz * f20 + x0, lx * f01 + ly * f11 + lz * f21 + y0,
                 lx * f02 + ly * f12 + lz * f22 + z0)  # fmt: skip
    return parallel, ok, math.sqrt(planar * planar + dz * dz), ends


def _two_surface_arcs(sv: _Solved, converged: bool) -> list[Array]:
    """Arc points of both surfaces of every two-surface segment, pose-major (n, S2 * arc, 3)
    each. Surface 0 wraps p -> end0, surface 1 wraps start1 -> s, each as the kernel draws it
    (the segment's start repeated where it does not wrap). The ends are those of the reference
    iteration's last round, or with ``converged`` those of its fixed point (t_in1 where surface
    1 is engaged, else s; t_out0 where surface 0 is engaged, else p)."""
    st, n = sv.st, sv.n
    p, s, c0, e10, e30, b0 = (r[st.one] for r in sv.rows)
    c1, e11, e31, b1 = (r[st.two] for r in sv.rows[2:])
    if converged:
        assert sv.double is not None
        on0, on1, tangents = sv.double
        end0 = np.where(on1[:, None], tangents[2], s)
        start1 = np.where(on0[:, None], tangents[1], p)
    elif st.any_sphere or len(p) > FEW_ROWS:  # the general kernel (a sphere's plane turns)
        params = [(c0, e10, e30, st.sg0, st.r0, st.sphere[st.one]),
                  (c1, e11, e31, st.sg1, st.r1, st.sphere[st.two])]  # fmt: skip
        end0, start1 = _last_round(p, s, params, sv.alone, st.key, st.n_keys)
    else:
        end0, start1 = _last_round_few(p, s, (c0, b0, st.r0), (c1, b1, st.r1), sv.alone, st.key)
    world, _, _, _, _ = wrap_rows(
        np.concatenate([p, start1]), np.concatenate([end0, s]), np.concatenate([c0, c1]),
        np.concatenate([e10, e11]), np.concatenate([e30, e31]), st.two_sense, st.two_radius,
        st.two_sphere, True)  # fmt: skip
    assert world is not None
    half = len(p)
    return [_arcs_pose_major(world[:half], n), _arcs_pose_major(world[half:], n)]


_Row = tuple[tuple[float, ...], tuple[float, ...], float, float, float, float, float, float, float]
FEW_ROWS = 16  # up to this many two-surface rows the iteration runs on Python floats


def _fixed_end_rows(fixed: Array, c: Array, basis: Array, r: Array, start: bool) -> list[_Row]:
    """Per row, what the iteration's rounds do not change for one cylinder whose line has one
    end fixed (p for the first surface of a two-surface segment, s for the second): centre,
    kernel basis (rows, flat), radius, the fixed end's local x, y, z, its arc angle (the
    start of the arc, or th_s - beta_s) and tangent length."""
    loc = np.einsum("nij,nj->ni", basis, fixed - c)
    dist = np.hypot(loc[:, 0], loc[:, 1])
    th, beta = np.arctan2(loc[:, 1], loc[:, 0]), np.arccos(r / np.maximum(dist, r))
    angle = th + beta if start else th - beta
    legs = np.sqrt(np.maximum(dist**2 - r * r, 0.0))
    cols = (c.tolist(), basis.reshape(-1, 9).tolist(), r.tolist(), *loc.T.tolist(), angle.tolist(),
            legs.tolist(), (dist > r).tolist())  # fmt: skip
    return [(tuple(ci), tuple(bi), *rest) for ci, bi, *rest in zip(*cols, strict=True)]


def _row_wrap(
    row: _Row, e: list[float], start: bool
) -> tuple[bool, float, float, float, float, float]:
    """The wrap kernel (wrap_in_basis) on one row, Python floats: the line between the row's
    fixed end and ``e`` (its end if the fixed end is the start). Returns engaged, start angle,
    span, entry tangent length, start height and slope along the axis."""
    c, b, r, fx, fy, fz, angle, flegs, ok = row
    ex, ey, ez = e[0] - c[0], e[1] - c[1], e[2] - c[2]
    x = b[0] * ex + b[1] * ey + b[2] * ez
    y = b[3] * ex + b[4] * ey + b[5] * ez
    z = b[6] * ex + b[7] * ey + b[8] * ez
    dist = math.hypot(x, y)
    legs = math.sqrt(max(dist * dist - r * r, 0.0))
    tangent = math.acos(r / max(dist, r))
    if start:
        dx, dy = x - fx, y - fy
        h = (dy * fx - dx * fy) / max(math.hypot(dx, dy), 1e-12)
        a0 = angle
        span = (math.atan2(y, x) - tangent - a0) % TWO_PI
        l_in, l_out, z0, dz = flegs, legs, fz, z - fz
    else:
        dx, dy = fx - x, fy - y
        h = (dy * x - dx * y) / max(math.hypot(dx, dy), 1e-12)
        a0 = math.atan2(y, x) + tangent
        span = (angle - a0) % TWO_PI
        l_in, l_out, z0, dz = legs, flegs, z, fz - z
    if span > TWO_PI - 1e-9:
        span = 0.0
    on = bool(h < r and dist > r and ok and span < _SPAN_LIMIT)
    return on, a0, span, l_in, z0, dz / max(l_in + r * span + l_out, 1e-12)


def _row_point(row: _Row, angle: float, height: float) -> list[float]:
    """The row's surface point at ``angle`` and ``height`` (local), in the model frame."""
    c, b, r = row[0], row[1], row[2]
    lx, ly = r * math.cos(angle), r * math.sin(angle)
    return [lx * b[0] + ly * b[3] + height * b[6] + c[0],
            lx * b[1] + ly * b[4] + height * b[7] + c[1],
            lx * b[2] + ly * b[5] + height * b[8] + c[2]]  # fmt: skip


def _last_round_few(
    p: Array,
    s: Array,
    first: tuple[Array, Array, Array],
    second: tuple[Array, Array, Array],
    alone: tuple[Bools, Array, Bools, Array],
    key: Index,
) -> tuple[Array, Array]:
    """``_last_round`` for a few rows over two cylinders, each given as (centre, kernel basis,
    radius) rows, on Python floats: numpy's per-call cost dominates on a handful of rows, a
    cylinder's basis does not depend on the line and one end of each surface's line stays put.
    The iteration is the reference's, one key (segment of a group at a pose) at a time."""
    rows0 = _fixed_end_rows(p, *first, start=True)
    rows1 = _fixed_end_rows(s, *second, start=False)
    # surface 0's entry tangent point moves only along the axis (p is fixed): track its height
    e3 = first[1][:, 2]
    z_in0 = np.einsum("ij,ij->i", alone[1] - first[0], e3).tolist()
    m3 = np.abs(e3).max(axis=1).tolist()
    on1, t_in1 = alone[2].tolist(), alone[3].tolist()
    ps, ss = p.tolist(), s.tolist()
    end0, start1 = list(ss), list(ps)
    members: dict[int, list[int]] = {}
    for i, k in enumerate(key.tolist()):
        members.setdefault(k, []).append(i)
    for rows in members.values():
        for _ in range(SEQUENCE_ITERATIONS):
            moved = 0.0
            for i in rows:
                r0, r1 = rows0[i], rows1[i]
                e = t_in1[i] if on1[i] else ss[i]
                on, a0, span, l_in, z0, slope = _row_wrap(r0, e, True)
                z_in = z0 + slope * l_in
                b = _row_point(r0, a0 + span, z_in + slope * (r0[2] * span)) if on else ps[i]
                on1[i], a1, _, l_in1, z1, slope1 = _row_wrap(r1, b, False)
                t1 = _row_point(r1, a1, z1 + slope1 * l_in1)
                old = t_in1[i]
                moved = max(moved, abs(z_in - z_in0[i]) * m3[i], abs(t1[0] - old[0]),
                            abs(t1[1] - old[1]), abs(t1[2] - old[2]))  # fmt: skip
                z_in0[i], t_in1[i], end0[i], start1[i] = z_in, t1, e, b
            if moved < 1e-7:
                break
    return np.array(end0), np.array(start1)


def _last_round(
    p: Array,
    s: Array,
    params: list[tuple[Array, Array, Array, Array, Array, Bools]],
    alone: tuple[Bools, Array, Bools, Array],
    key: Index,
    n_keys: int,
) -> tuple[Array, Array]:
    """The end of surface 0's line and the start of surface 1's in the last round of the
    reference obstacle-set iteration (wrapping.PathSet._sequence), which stops where the entry
    tangent points of all rows with the same ``key`` (one segment of one group at one pose)
    moved less than 0.1 um, or after SEQUENCE_ITERATIONS rounds. ``alone`` = each surface's
    (on, t_in) on p->s, where the iteration starts; ``params`` as for ``_iterate``."""
    on0, t_in0, on1, t_in1 = alone
    out_end0, out_start1 = np.empty_like(p), np.empty_like(p)
    active = np.ones(n_keys, bool)
    moved = np.empty(n_keys)
    for it in range(SEQUENCE_ITERATIONS):
        end0 = np.where(on1[:, None], t_in1, s)
        _, on0, _, in0, t_out0 = wrap_rows(p, end0, *params[0], False)
        start1 = np.where(on0[:, None], t_out0, p)
        _, on1, _, in1, _ = wrap_rows(start1, s, *params[1], False)
        step = np.maximum(np.abs(in0 - t_in0).max(axis=1), np.abs(in1 - t_in1).max(axis=1))
        t_in0, t_in1 = in0, in1
        moved.fill(0.0)
        np.maximum.at(moved, key, step)
        stop = active & (moved < 1e-7) if it + 1 < SEQUENCE_ITERATIONS else active
        if stop.any():
            rows = stop[key]
            out_end0[rows], out_start1[rows] = end0[rows], start1[rows]
            active &= ~stop
            if not active.any():
                break
    return out_end0, out_start1


def _engages(x: Array, y: Array, c: Array, basis: Array, r: Array) -> NDArray[np.bool_]:
    """Whether the straight line x->y engages the surface (local axes ``basis``): the wrap
    kernel's rule."""
    loc = (stack1(x, y) - c[:, None]) @ basis[:, :2].transpose(0, 2, 1)
    xl, d = loc[:, 0], loc[:, 1] - loc[:, 0]
    h = (d[:, 1] * xl[:, 0] - d[:, 0] * xl[:, 1]) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-12)
    dist = np.hypot(loc[:, :, 0], loc[:, :, 1])
    r = shrunk_radius(r, dist[:, 0], dist[:, 1])
    th = np.arctan2(loc[:, :, 1], loc[:, :, 0])
    beta = np.arccos(r[:, None] / np.maximum(dist, r[:, None]))
    span = np.mod(th[:, 1] - beta[:, 1] - th[:, 0] - beta[:, 0], TWO_PI)
    span[span > TWO_PI - 1e-9] = 0.0
    return np.asarray((h < r) & (dist[:, 0] > r) & (dist[:, 1] > r) & (span < SPAN_LIMIT))


def _both_engaged(
    p: Array, s: Array, c0: Array, c1: Array, basis0: Array, e31: Array, st: _Static
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], Array, list[Array]]:
    """Closed form of the path over two parallel cylinders, both engaged.

    In the plane across the axes: tangent from p to circle 0, arc, common tangent to circle 1,
    arc, tangent to s; along the axes the path climbs evenly with planar arc length (the
    surfaces develop into a plane, where the shortest path is straight). Returns where the
    closed form applies (parallel cylinders), where this state exists (both ends outside, a
    common tangent), its length, and the tangent points [t_in0, t_out0, t_in1, t_out1] in the
    model frame.
    """
    frame = basis0 * st.unsense0  # rows: side u, axis x side v, axis (right-handed)
    e30 = frame[:, 2]
    loc = (stack1(p, s, c1) - c0[:, None]) @ frame.transpose(0, 2, 1)
    cc = loc[:, 2, :2]
    xy = loc[:, :, :2].copy()
    xy[:, 1] -= cc  # p from centre 0, s from centre 1, centre 1 from centre 0
    dist = np.hypot(xy[:, :, 0], xy[:, :, 1])
    ang = np.arctan2(xy[:, :, 1], xy[:, :, 0])
    # travel direction about the common axis: +1 counter-clockwise
    r0, r1, sg0 = st.r0, st.r1, st.sg0
    sg1 = st.sg1 * np.sign(np.add.reduce(e31 * e30, axis=1))
    tilt = cross(e30, e31)
    parallel = (np.add.reduce(tilt * tilt, axis=1) < 1e-18) & st.cylinders
    rho = sg1 * r1 - st.sg0_r0
    ok = parallel & (dist[:, 0] > r0) & (dist[:, 1] > r1) & (np.abs(rho) < dist[:, 2])
    num = st.num
    num[:, 2] = rho
    beta = np.arccos(np.minimum(np.maximum(num / np.maximum(dist, 1e-300), -1.0), 1.0))
    turn = np.empty_like(ang)
    turn[:, 0] = ang[:, 0] + sg0 * beta[:, 0]  # tangent from p, about centre 0
    turn[:, 2] = ang[:, 1] - sg1 * beta[:, 1]  # tangent to s, about centre 1
    # common tangent: left normal (cos phi, sin phi) of the travel direction with
    # (c1 - c0) . normal = rho; its tangent points are centre_k - sg_k r_k normal, at angle
    # phi, or phi + pi where counter-clockwise
    turn[:, 1] = phi = ang[:, 2] + beta[:, 2]
    span = np.empty_like(ang[:, :2])
    span[:, 0] = sg0 * (phi + st.pi_if_ccw0 - turn[:, 0])
    span[:, 1] = sg1 * (turn[:, 2] - phi - (sg1 > 0) * np.pi)
    span = np.mod(span, TWO_PI)
    span[span > TWO_PI - 1e-9] = 0.0
    ok &= (span[:, 0] < SPAN_LIMIT) & (span[:, 1] < SPAN_LIMIT)
    trig = np.empty((len(p), 3, 2))
    trig[:, :, 0], trig[:, :, 1] = np.cos(turn), np.sin(turn)
    cos, sin, normal = trig[:, :, 0], trig[:, :, 1], trig[:, 1]
    t0 = -st.sg0_r0[:, None] * normal
    t1 = cc - (sg1 * r1)[:, None] * normal
    legs = np.sqrt(np.maximum(dist[:, :2] ** 2 - st.r01_sq, 0.0))
    gap = t1 - t0
    q = np.empty((len(p), 4))
    q[:, 0] = legs[:, 0]
    q[:, 1] = r0 * span[:, 0]
    q[:, 2] = np.sqrt(np.add.reduce(gap * gap, axis=1))
    q[:, 3] = r1 * span[:, 1]
    q = np.add.accumulate(q, axis=1)
    planar = q[:, 3] + legs[:, 1]
    zp, dz = loc[:, 0, 2], loc[:, 1, 2] - loc[:, 0, 2]
    length = np.sqrt(planar**2 + dz**2)
    local = np.empty((len(p), 4, 3))
    local[:, 0, 0], local[:, 0, 1] = r0 * cos[:, 0], r0 * sin[:, 0]
    local[:, 1, :2], local[:, 2, :2] = t0, t1
    local[:, 3, 0], local[:, 3, 1] = cc[:, 0] + r1 * cos[:, 2], cc[:, 1] + r1 * sin[:, 2]
    local[:, :, 2] = zp[:, None] + (dz / np.maximum(planar, 1e-12))[:, None] * q
    world = local @ frame + c0[:, None]
    return parallel, ok, length, [world[:, 0], world[:, 1], world[:, 2], world[:, 3]]


def _iterate(
    p: Array, s: Array, params: list[tuple[Array, Array, Array, Array, Array, Bools]]
) -> tuple[Bools, Bools, Array, list[Array]]:
    """The reference obstacle-set iteration (wrapping.PathSet._sequence) for two surfaces;
    ``params`` = each surface's (centre, side, axis, sense, radius, sphere) rows."""
    res = [wrap_rows(p, s, *params[k], False) for k in (0, 1)]
    start1, end0 = p, s
    for _ in range(SEQUENCE_ITERATIONS):
        before = [r[3] for r in res]
        end0 = np.where(res[1][1][:, None], res[1][3], s)
        res[0] = wrap_rows(p, end0, *params[0], False)
        start1 = np.where(res[0][1][:, None], res[0][4], p)
        res[1] = wrap_rows(start1, s, *params[1], False)
        moved = max(float(np.abs(r[3] - b).max()) for r, b in zip(res, before, strict=True))
        if moved < 1e-7:
            break
    length = res[0][2] + res[1][2] - np.linalg.norm(end0 - start1, axis=1)
    return res[0][1], res[1][1], length, [res[0][3], res[0][4], res[1][3], res[1][4]]


_FAST: WeakKeyDictionary[PathSet, FastPaths] = WeakKeyDictionary()


def fast_paths(ctx: ModelContext) -> FastPaths:
    """The (cached) FastPaths of a model context's PathSet. It reuses its buffers from call to
    call: use it from one thread."""
    ps = path_set(ctx)
    fp = _FAST.get(ps)
    if fp is None:
        fp = _FAST[ps] = FastPaths(ps)
    return fp


def wrapped_polylines(ctx: ModelContext, transforms: Mapping[str, Array]) -> dict[str, Array]:
    """Every line's wrapped polyline (k, 3) in the model frame at one pose given as 4x4
    pelvis-from-body ``transforms``: the points of ``PathSet.evaluate(..., with_points=True)``
    (to rounding), in well under a millisecond. Any pelvis transform is allowed (the lines are
    posed relative to the pelvis, then carried by it)."""
    pelvis = np.asarray(transforms.get("pelvis", np.eye(4)), float)
    tr = {b: np.asarray(transforms[b], float)[None] for b in ("femur_r", "tibia_r")}
    moved = not np.array_equal(pelvis, np.eye(4))
    if moved:  # express the other bodies in the pelvis frame
        inv = np.eye(4)
        inv[:3, :3] = pelvis[:3, :3].T
        inv[:3, 3] = -pelvis[:3, :3].T @ pelvis[:3, 3]
        tr = {b: inv @ t for b, t in tr.items()}
    out = fast_paths(ctx).polylines(tr)
    if moved:
        return {k: v[0] @ pelvis[:3, :3].T + pelvis[:3, 3] for k, v in out.items()}
    return {k: v[0] for k, v in out.items()}
