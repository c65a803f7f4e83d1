"""Lengths and moment arms of every line of action in a constant, small number of numpy calls.

``PathSet.evaluate`` (wrapping.py) is the reference: it walks the lines group by group, and
resolves a segment that wraps over two surfaces in a row (iliopsoas: pelvic brim then femoral
head) by its states (``twowrap.resolve``). This module computes the same numbers for
slider-rate use:

- every line is flattened once into posed points, straight segments, one-surface segments and
  two-surface segments, so one pose costs the same few numpy calls whatever the number of lines;
  pelvis-fixed points and surfaces are taken as they are (the pelvis is the model frame);
- all one-surface wraps, and both surfaces of every two-surface segment taken alone, go through
  the wrap kernel in a single batched call;
- two-surface segments go through ``twowrap.resolve`` with the kernel batch's one-surface
  results and, where the two cylinders are parallel (iliopsoas's are both on the pelvis about
  its medio-lateral axis, so in every pose), the closed form of
  the both-surfaces state (in the plane across the axes: tangent, arc, common tangent of the
  two circles, arc, tangent; along the axes the path climbs evenly, as on any developable
  surface) in place of Newton's method;
- one pose is a handful of rows, where numpy's per-call cost, not the arithmetic, is the time:
  there the kernel's bases (the pelvis-fixed cylinders' kept: they never move) and the
  two-surface checks and closed form (eleven rows: iliopsoas over two cylinders, the hamstrings
  over the femoral-head sphere and the condyle cylinder, lower gluteus maximus over the
  posterior hip cylinder and the greater trochanter's roller, sartorius over two spheres,
  tensor fasciae latae over a sphere and a cylinder) run on Python floats, step for step as
  their numpy versions (``_bases_few``, ``_two_surfaces_few``; two cylinders whose axes are not
  parallel, the roller off the sagittal plane, by ``threewrap.f_pair``, the float twin of the
  batch's ``cylinder_pair``, with ``twowrap.resolve``'s rules for a second surface on a distal
  body); a test pins single poses to the batch. Cheap exact tests come first where most rows
  fail them (a segment clear of the axis on the side the wrap keeps it; a leg clear of a
  sphere), and nothing pose-dependent is kept from one pose to the next;
- a two-surface segment may have a third surface (iliopsoas: the femoral neck, on the femur):
  ``threewrap.resolve_chain`` takes the two-surface result and wraps the third only on the rows
  whose path enters it; the rest cost one test. A pose or two resolve those rows on Python
  floats in the same pass (``_chains_few``, ``threewrap.chain_row``), a batch with numpy, where
  the search for the paths over two non-parallel cylinders of every state tried is one call;
- or a third surface between its two (the hamstrings: the quadratus femoris bed between the
  femoral-head sphere and the condyle cylinder, ``threewrap.resolve_middle``): the rows whose
  bridge touches it are iterated over all three, a pose or two on floats
  (``_middle_iteration_few``), the rest cost one test on floats (``_bridge_touches``); a row that
  ends up round the bed's front is continued from behind with the same iteration, its twin on
  floats for a pose or two.

A test compares this module with ``PathSet.evaluate`` to 1e-6 m over many poses.

``FastPaths.polylines`` gives the drawn points for the scene (``wrapped_polylines`` for one pose):
the same posed points and arc samples as ``PathSet.evaluate(..., with_points=True)``
(tests/test_fastpoints.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from hipflex.model.floats import floats_array
from hipflex.model.skeleton import ModelContext
from hipflex.model.threewrap import (
    HELD_ROUNDS,
    MIDDLE_ITERATIONS,
    MIDDLE_TOLERANCE,
    V3,
    Chain,
    FewSurface,
    Prefix,
    PrefixRows,
    chain_end,
    chain_ends,
    chain_row,
    f_needs,
    f_pair,
    f_prefix,
    f_wrap,
    parallel_prefix,
    reset_pose,
    resolve_chain,
    resolve_middle,
)
from hipflex.model.twowrap import (
    SEQUENCE_ITERATIONS,
    Alone,
    Closed,
    Surface,
    TwoSurfaces,
    acos_ratio,
    resolve,
    rows_of,
    touches,
    touches_beyond_in_plane,
    touches_in_plane,
)
from hipflex.model.wrapping import (
    ARC_SAMPLES,
    PROXIMAL,
    SPAN_LIMIT,
    TWO_PI,
    Cylinder,
    PathSet,
    acts_on_patella,
    added_surface,
    cross,
    knee_axis_point,
    patella_knee_arm,
    path_set,
    stack1,
    surface_basis,
    wrap_in_basis,
    wrap_rows,
)

Array = NDArray[np.float64]
Index = NDArray[np.intp]
Bools = NDArray[np.bool_]
BODY_INDEX = {"pelvis": 0, "femur_r": 1, "tibia_r": 2, "patella_r": 3}
MOVING = (1, 2, 3)  # the bodies that move: femur, tibia, patella


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
        third: list[tuple[int, int, float]] = []  # (two-surface row, wrap, sense): a third surface
        middle: list[tuple[int, int, float]] = []  # the same, for a third surface between the two
        cands: list[list[tuple[str, int, int]]] = [[] for _ in range(self.n_lines)]
        # candidate = (kind, index, body): kind "p" posed point, "s0"/"s1" single-wrap tangent
        # in/out, "d0".."d3" two-surface tangents (first in, first out, second in, second out),
        # "n0"/"n1" the third surface's (threewrap) of a two-surface row that has one, "m0"/"m1"
        # those of a surface between a two-surface row's two (threewrap.resolve_middle)

        def wrap_index(cyl: Cylinder) -> int:
            for i, c in enumerate(cyls):
                if c is cyl:
                    return i
            cyls.append(cyl)
            return len(cyls) - 1

        for g in ps.groups:
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
                    elif len(wraps) <= 3:
                        added = added_surface(wraps) if len(wraps) == 3 else 2
                        (c0, s0), (c1, s1) = (wraps[0], wraps[2]) if added == 1 else wraps[:2]
                        row = len(double)
                        double.append((ia, ib, int(line), wrap_index(c0), float(s0[k]),
                                       wrap_index(c1), float(s1[k])))  # fmt: skip
                        b0, b1 = BODY_INDEX[c0.body], BODY_INDEX[c1.body]
                        cand += [("d0", row, b0), ("d1", row, b0)]
                        if added == 1:  # between the two, in path order
                            cm, sm = wraps[1]
                            bm = BODY_INDEX[cm.body]
                            cand += [("m0", len(middle), bm), ("m1", len(middle), bm)]
                            middle.append((row, wrap_index(cm), float(sm[k])))
                        cand += [("d2", row, b1), ("d3", row, b1)]
                        if len(wraps) == 3 and added == 2:
                            c2, s2 = wraps[2]
                            b2 = BODY_INDEX[c2.body]
                            cand += [("n0", len(third), b2), ("n1", len(third), b2)]
                            third.append((row, wrap_index(c2), float(s2[k])))
                    else:
                        raise NotImplementedError("more than three wrap surfaces on one segment")
                    cand.append(("p", idx[i + 1], BODY_INDEX[g.bodies[i + 1]]))

        # polylines (what PathSet.evaluate(with_points=True) draws): per line, its posed points
        # with each wrapped segment's arc points in between, as indices into one point bank:
        # posed points, one-surface arcs, first-surface arcs, second-surface arcs, third-surface
        # arcs, middle-surface arcs
        self.line_names = [""] * self.n_lines
        for name, (gi, k) in ps.line_group.items():
            self.line_names[int(ps.groups[gi].index[k])] = name
        arc = ARC_SAMPLES + 2
        base = {"s0": len(local), "d0": len(local) + arc * len(single),
                "d2": len(local) + arc * (len(single) + len(double)),
                "n0": len(local) + arc * (len(single) + 2 * len(double)),
                "m0": len(local) + arc * (len(single) + 2 * len(double) + len(third))}  # fmt: skip
        gather: list[int] = []
        self._poly_slices: list[tuple[str, int, int]] = []
        for line, cand in enumerate(cands):
            first = len(gather)
            for kind, pos, _ in cand:
                if kind == "p":
                    gather.append(pos)
                    continue
                if kind in base:  # a surface's arcs, where its entry point stands in the path
                    gather.extend(range(base[kind] + arc * pos, base[kind] + arc * (pos + 1)))
            self._poly_slices.append((self.line_names[line], first, len(gather)))
        self._poly_gather = np.array(gather, dtype=np.intp)
        self.points = np.array(local)
        self.point_body = np.array(body)
        self._by_body = [np.flatnonzero(self.point_body == b) for b in range(len(BODY_INDEX))]
        self.wraps = _Wraps(
            np.array([BODY_INDEX[c.body] for c in cyls], dtype=np.intp),
            np.array([c.centre for c in cyls]).reshape(-1, 3),
            np.array([c.side for c in cyls]).reshape(-1, 3),
            np.array([c.axis for c in cyls]).reshape(-1, 3),
            np.array([c.radius for c in cyls], float),
            np.array([c.kind == "sphere" for c in cyls], bool),
        )
        self._wrap_by_body = [np.flatnonzero(self.wraps.body == b) for b in range(len(BODY_INDEX))]
        w = self.wraps
        fixed = self._wrap_by_body[0]
        frame = np.stack([w.centre, w.side, w.axis], axis=1)  # (W, 3, 3) per surface
        self._moving = {  # per moving body, homogeneous: its path points, then its surfaces'
            # centres (w = 1), sides and axes (w = 0); one product poses them all
            b: np.concatenate([_homogeneous(self.points[self._by_body[b]], 1.0)]
                              + [_homogeneous(frame[self._wrap_by_body[b], k], float(k == 0))
                                 for k in range(3)])
            for b in MOVING
        }  # fmt: skip
        # a pose's posed table: the pelvis's points and surface frames (centre, side, axis) as
        # they are, then each moving body's product rows; where each point and each surface's
        # frame rows sit in it
        self._posed_fixed = np.concatenate([self.points[self._by_body[0]], frame[fixed].reshape(-1, 3)])
        self._point_row = np.empty(len(self.points), np.intp)
        self._frame_row = np.empty((len(w.body), 3), np.intp)
        self._point_row[self._by_body[0]] = np.arange(len(self._by_body[0]))
        self._frame_row[fixed] = len(self._by_body[0]) + np.arange(3 * len(fixed)).reshape(-1, 3)
        start = len(self._posed_fixed)
        for b in MOVING:
            sel, wsel = self._by_body[b], self._wrap_by_body[b]
            self._point_row[sel] = start + np.arange(len(sel))
            self._frame_row[wsel] = (start + len(sel) + np.arange(3) * len(wsel)
                                     + np.arange(len(wsel))[:, None])  # fmt: skip
            start += len(self._moving[b])
        # bodies whose points are posed per pose (the patella only where a line uses it)
        self._patella_posed = len(self._moving[3]) > 0
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
        # rows whose second surface is fixed to a body distal of the first's (twowrap.resolve)
        self._double_distal = self.wraps.body[self._double_w[:, 0]] != self.wraps.body[
            self._double_w[:, 1]]  # fmt: skip
        self.n_single, self.n_double = len(single), len(double)
        tb = np.array(third, float).reshape(-1, 3)
        self._third_row, self._third_w = tb[:, 0].astype(np.intp), tb[:, 1].astype(np.intp)
        self._third_sense = tb[:, 2]
        self.n_third = len(third)
        mb = np.array(middle, float).reshape(-1, 3)
        self._middle_row, self._middle_w = mb[:, 0].astype(np.intp), mb[:, 1].astype(np.intp)
        self._middle_sense = mb[:, 2]
        self.n_middle = len(middle)
        # line length = sum of its segments' lengths: one matrix product
        n_seg = len(plain) + len(single) + len(double)
        self._incidence = np.zeros((n_seg, self.n_lines))
        seg_line = np.concatenate([plain_line, single_line, double_line])
        self._incidence[np.arange(n_seg), seg_line] = 1.0
        # candidate table for the points where the force acts (see wrapping._force_pair)
        n_p, n_1, n_2, n_3, n_m = len(local), len(single), len(double), len(third), len(middle)
        offset = {"p": 0, "s0": n_p, "s1": n_p + n_1, "d0": n_p + 2 * n_1,
                  "d1": n_p + 2 * n_1 + n_2, "d2": n_p + 2 * n_1 + 2 * n_2,
                  "d3": n_p + 2 * n_1 + 3 * n_2, "n0": n_p + 2 * n_1 + 4 * n_2,
                  "n1": n_p + 2 * n_1 + 4 * n_2 + n_3, "m0": n_p + 2 * n_1 + 4 * n_2 + 2 * n_3,
                  "m1": n_p + 2 * n_1 + 4 * n_2 + 2 * n_3 + n_m}  # fmt: skip
        k_max = max(len(c) for c in cands)
        # where each kind of candidate starts in a pose's bank, in that order (``_Static``
        # places them in the bank ``_solve`` builds: rows segment-major, as they come)
        self._bank_starts = np.array([offset[k] for k in offset])
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
        prox_j = np.stack([self._prox["hip"], self._prox["knee"]])[:, None]  # (2, 1, L, K)
        dist_j = np.stack([self._distal["hip"], self._distal["knee"]])[:, None]
        # both searches in one: the proximal candidates reversed (the last proximal one is the
        # first there), then the distal ones; (2 searches, 2 joints, 1, L, K)
        self._ends_mask = np.stack([prox_j[..., ::-1], dist_j])
        self._line_ix = np.arange(self.n_lines)
        # lines whose force acts past the knee on the patella (rectus femoris): their knee lever
        # comes from the patella's coupling (wrapping.patella_knee_arm), not the knee axis
        body_name = {i: body for body, i in BODY_INDEX.items()}
        self._patella_lines = np.array(
            [k for k in range(self.n_lines) if acts_on_patella(body_name[b] for b in cand_body[k][valid[k]])],
            dtype=np.intp)  # fmt: skip
        self._patella_take: slice | Index = self._patella_lines
        if self._patella_lines.size and np.all(np.diff(self._patella_lines) == 1):
            self._patella_take = slice(int(self._patella_lines[0]), int(self._patella_lines[-1]) + 1)
        self.patella = ps.patella
        self.knee_axis = ps.knee_axis
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

    def _solve(self, transforms: Mapping[str, Array], points: bool) -> _Solved:
        """Posed points and every wrap (lengths, engagement, tangent points), shared by
        ``evaluate`` and ``polylines``; with ``points`` the one-surface rows' arc points too."""
        n = transforms["femur_r"].shape[0]
        st = self._static(n)
        # posed path points and surfaces (centre, side, axis): one product per moving body
        femur, tibia = transforms["femur_r"], transforms["tibia_r"]
        parts = [st.posed_fixed, self._moving[1] @ femur[:, :3].transpose(0, 2, 1),
                 self._moving[2] @ tibia[:, :3].transpose(0, 2, 1)]  # fmt: skip
        if self._patella_posed:
            parts.append(self._moving[3] @ transforms["patella_r"][:, :3].transpose(0, 2, 1))
        posed = np.concatenate(parts, axis=1)
        # every row taken from the posed table in one step (``_Static.take``): the path points
        # (n, points, 3) and surface frames (n, surfaces, 3, 3), pose-major, then the kernel
        # batch's ends p and s and surface frames, segment-major
        taken = posed.reshape(-1, 3).take(st.take, axis=0)
        i_wb, i_p, i_s, i_rows, i_live = st.take_at
        pts = taken[:i_wb].reshape(n, -1, 3)
        wb = taken[i_wb:i_p].reshape(n, -1, 3, 3)
        # straight segments (``take``, a third of the time of fancy indexing on a pose)
        v = pts.take(self._plain_b, axis=1) - pts.take(self._plain_a, axis=1)
        seg_len = [np.sqrt(np.add.reduce(v * v, axis=-1))]
        # one batched kernel call: one-surface segments, then each surface of the two-surface
        # segments taken alone
        p, s = taken[i_p:i_s], taken[i_s:i_rows]
        rows = taken[i_rows:i_live].reshape(-1, 3, 3)
        c, e1, e3 = rows[:, 0], rows[:, 1], rows[:, 2]
        if n == 1:  # one pose: on floats, from the live rows' ends and frames taken with the rest
            basis = _bases_few(taken[i_live:].ravel().tolist(), st)
        else:
            basis = surface_basis(p, s, c, e1, e3, st.sense, st.no_sphere)  # as if all cylinders
            if st.sph.size:  # a sphere's plane goes through the line's ends
                basis[st.sph] = _sphere_bases(p, s, c, e1, e3, st)
        world, on, length, t_in, t_out = wrap_in_basis(p, s, c, basis, st.radius, points,
                                                       st.past_half)  # fmt: skip
        ns1 = n * self.n_single
        seg_len.append(_pose_rows(length[:ns1], n))
        # the tangent-point candidates and where each is engaged: the path points (pose-major),
        # then the kernel's and the resolutions' rows as they come (segment-major), joined
        # without reordering (``_Static.cand_ends`` finds each pose's candidates in them)
        bank = [pts.reshape(-1, 3), t_in[:ns1], t_out[:ns1]]
        single_on = on[:ns1]
        engaged = [st.point_on, single_on, single_on]
        double: TwoSurfaces | None = None
        chain: Chain | None = None
        third: ThirdPoints | None = None  # the third surfaces' entry and exit points, engaged
        neck: Surface | None = None
        between: _Between | None = None
        if self.n_double:
            frames, alone = (c, e1, e3, basis), (on, length, t_in, t_out)
            touched = None  # whether the bridges touch the surfaces between, if known
            if self.n_third and st.chain_cylinders and len(st.r0) <= FEW_ROWS:
                double, chain, third, touched = _two_surfaces_few(p, s, frames, alone, st, wb,
                                                                  points)  # fmt: skip
                if points:
                    rows = wb[:, self._third_w].transpose(1, 0, 2, 3).reshape(-1, 3, 3)
                    neck = (rows[:, 0], rows[:, 1], rows[:, 2], st.third_sense, st.third_radius,
                            st.third_sphere)  # fmt: skip
            else:
                double = _two_surfaces(p, s, frames, alone, st)
                if self.n_third:
                    chain, neck = _third_surface(p, s, frames, double, wb, self, st)
                    third = chain.tangents[4], chain.tangents[5], chain.on[2]
            if self.n_middle:
                between = _middle_surface(p, s, frames, double, wb, self, st, points, touched)
            seg_len.append(_pose_rows(double.length, n))
            bank += double.tangents
            engaged += [double.on0, double.on0, double.on1, double.on1]
            if third is not None:
                bank += [third[0], third[1]]
                engaged += [third[2], third[2]]
            if between is not None:
                bank += [between.t_in, between.t_out]
                engaged += [between.on, between.on]
        return _Solved(n, st, pts, seg_len, bank, engaged, (p, s, c, e1, e3, basis), world,
                       double, chain, neck, between)  # fmt: skip

    def evaluate(self, transforms: dict[str, Array], hip_flexion_rad: Array) -> tuple[Array, Array]:
        """Lengths (n, n_lines) and moment arms (n, n_lines, 4) about hip flexion, adduction,
        rotation and knee flexion, as ``PathSet.evaluate`` gives them. The pelvis is the model
        frame (its transform is the identity)."""
        femur = transforms["femur_r"]
        sv = self._solve(transforms, False)
        st, seg_len, bank, engaged = sv.st, sv.seg_len, sv.bank, sv.engaged
        lengths = np.concatenate(seg_len, axis=1) @ self._incidence

        # moment arms: where the force acts on the distal bodies (virtual work), both joints
        # (flat takes: every pose's bank, engagement and candidates end to end)
        # the last proximal and the first distal engaged candidate of each line, for both
        # joints, in one search: st.cand_ends has the candidates reversed, then as they are
        cand_on = np.concatenate(engaged).take(st.cand_ends)
        first = (cand_on & self._ends_mask).argmax(axis=4)  # (2 searches, 2 joints, n, L)
        # only those two candidates' points are taken from the bank
        points = np.concatenate(bank)
        ends = points.take(st.cand_ends.take(st.cand_ends_row + first), axis=0)
        a, b = ends[0], ends[1]  # (2 joints, n, L, 3)
        u = a - b
        # |u| by components: three times faster than np.add.reduce over the last axis, and
        # the same sums in the same order ((x^2 + y^2) + z^2); the squares in one product
        sq = u * u
        u /= np.maximum(np.sqrt(sq[..., 0] + sq[..., 1] + sq[..., 2]), 1e-12)[..., None]
        st.centres[0] = femur[:, None, :3, 3]
        st.centres[1] = knee_axis_point(femur, self.knee_axis)[:, None]
        moment = cross(b - st.centres, u)
        axes = st.axes  # (n, 3, 4): a column per axis
        axes[:, 0, 1] = np.cos(hip_flexion_rad)  # adduction axis: (cos, sin, 0) of flexion
        axes[:, 1, 1] = np.sin(hip_flexion_rad)
        axes[:, :, 2] = femur[:, :3, 1]  # rotation: the femur's long axis
        axes[:, :, 3] = -femur[:, :3, 2]  # knee flexion: about the femur's -z
        # about each axis: (2 joints, n, L, 3) @ (n, 3, 4); a product, not einsum, which is ten
        # times slower on a sweep (the same sums to rounding). The axes are kept as columns
        # of a contiguous array: the product with a transposed view of rows took six times as
        # long on a sweep (0.12 ms), for the same bits
        arms = moment @ axes
        out = arms[0]  # hip columns from the hip pair, knee column from the knee pair
        out[:, :, 3] = arms[1, :, :, 3]
        if self._patella_lines.size:
            k = self._patella_take  # a slice where the lines are consecutive (rectus femoris)
            out[:, k, 3] = patella_knee_arm(b[1, :, k], u[1, :, k], transforms, self.patella)
        out *= self._crosses4
        return lengths, out

    def polylines(self, transforms: Mapping[str, Array]) -> dict[str, Array]:
        """Every line's wrapped polyline (n, k, 3), the points ``PathSet.evaluate(...,
        with_points=True)`` gives (posed via points, and ARC_SAMPLES + 2 points per wrap surface:
        tangent, arc, tangent, or the segment's start repeated where it does not wrap), by line
        name. The pelvis is the model frame (its transform is the identity)."""
        sv = self._solve(transforms, points=True)
        n = sv.n
        assert sv.world is not None
        parts = [sv.pts, _arcs_pose_major(sv.world[: n * self.n_single], n)]
        if self.n_double:
            st = sv.st
            world, drawn = _two_surface_arcs(sv)
            half = len(world) // 2
            more = []
            # with three surfaces, one not drawn repeats the last point drawn before it (as
            # PathSet draws them)
            if self.n_third:
                second = st.third + half
                world[second] = _or_last(world[second], drawn[second], world[st.third, -1])
                third, on = _third_surface_arcs(sv, self)
                more.append(_or_last(third, on, world[second, -1]))
            if self.n_middle:
                between, on = _middle_surface_arcs(sv)
                between = _or_last(between, on, world[st.middle, -1])
                last = st.middle + half
                world[last] = _or_last(world[last], drawn[last], between[:, -1])
                more.append(between)
            parts += [_arcs_pose_major(w, n) for w in (world[:half], world[half:], *more)]
        bank = np.concatenate(parts, axis=1)[:, self._poly_gather]
        return {name: bank[:, a:b] for name, a, b in self._poly_slices}


@dataclass
class _Solved:
    """One ``FastPaths._solve``: what lengths, moment arms and polylines are made from."""

    n: int  # poses
    st: _Static
    pts: Array  # (n, P, 3) posed path points
    seg_len: list[Array]  # per segment kind, (n, segments)
    bank: list[Array]  # tangent-point candidates (rows, 3): path points pose-major, the rest
    # segment-major (``_Static.cand_ends``)
    engaged: list[Bools]  # where each is engaged (rows,)
    rows: tuple[Array, Array, Array, Array, Array, Array]  # kernel batch: p, s, c, e1, e3, basis
    world: Array | None  # kernel batch arc points (rows, ARC_SAMPLES + 2, 3) if asked
    double: TwoSurfaces | None  # the two-surface segments, resolved
    chain: Chain | None  # those of them with a third surface, resolved (threewrap; a pose or
    # two only with points: their moment arms take the third surface's points alone)
    neck: Surface | None  # the third surface's rows, posed
    between: _Between | None  # the surfaces between a two-surface row's two


@dataclass
class _Between:
    """The surfaces between the two of the two-surface rows that have one (``_middle_surface``):
    engaged, entry and exit points, and (with ``points``) where their lines start and end;
    posed (centre, side, axis, sense, radius, sphere; with ``points``, or where a row needed
    them)."""

    on: Bools
    t_in: Array
    t_out: Array
    start: Array | None
    end: Array | None
    surface: Surface | None


def _sphere_bases(p: Array, s: Array, c: Array, e1: Array, e3: Array, st: _Static) -> Array:
    """``surface_basis`` of the kernel batch's sphere rows (k, 3, 3), for a batch."""
    r = st.sph
    return surface_basis(p[r], s[r], c[r], e1[r], e3[r], st.sense[r], st.sphere[r])


def _bases_few(live: list[float], st: _Static) -> Array:
    """``surface_basis`` of every kernel row (rows, 3, 3) for one pose, on Python floats, where
    numpy's per-call cost dominates: the pelvis-fixed cylinders' bases are kept (they never
    move), the other cylinders' second axis is sense * (axis x side) (the products and
    differences ``cross`` takes), and a sphere's plane goes through the line's ends
    (``_sphere_basis``). ``live`` holds, flat, the other rows' side and axis, a sphere's after
    its row's p, s and centre (``st.live_rows``: where each row's basis goes and its values
    start, whether a sphere, sense); the bases are written into one flat list
    (``floats_array``)."""
    out = st.fixed_bases.copy()
    for k, j, sphere, sense in st.live_rows:
        if sphere:
            px, py, pz, sx, sy, sz, cx, cy, cz, ax, ay, az = live[j : j + 12]
            out[k : k + 9] = _sphere_basis(px, py, pz, sx, sy, sz, cx, cy, cz, ax, ay, az,
                                           live[j + 12 : j + 15])  # fmt: skip
        else:
            a0, a1, a2, b0, b1, b2 = live[j : j + 6]  # side, axis
            out[k : k + 9] = [a0, a1, a2, sense * (b1 * a2 - b2 * a1), sense * (b2 * a0 - b0 * a2),
                              sense * (b0 * a1 - b1 * a0), b0, b1, b2]  # fmt: skip
    return floats_array(out).reshape(-1, 3, 3)


def _sphere_basis_row(
    p: Sequence[float], s: Sequence[float], c: Sequence[float], side: Sequence[float],
    axis: Sequence[float],
) -> list[float]:
    """``surface_basis`` of one sphere row on Python floats (rows e1, e2, e3, flat): the plane
    through p, s and the centre, the side projected into it."""
    (px, py, pz), (sx, sy, sz), (cx, cy, cz), (ax, ay, az) = p, s, c, side
    return _sphere_basis(px, py, pz, sx, sy, sz, cx, cy, cz, ax, ay, az, axis)


def _sphere_basis(
    px: float, py: float, pz: float, sx: float, sy: float, sz: float, cx: float, cy: float,
    cz: float, ax: float, ay: float, az: float, axis: Sequence[float],
) -> list[float]:
    """``_sphere_basis_row`` from the coordinates of p, s, the centre and the side (the call
    ``_bases_few`` makes for a pose's dozen sphere rows, without their four small lists)."""
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
            nx, ny, nz = axis
    d = ax * nx + ay * ny + az * nz  # the side, projected into that plane
    ax, ay, az = ax - d * nx, ay - d * ny, az - d * nz
    size = math.sqrt(ax * ax + ay * ay + az * az)
    size = 1e-300 if size < 1e-300 else size  # max(size, 1e-300), without the call
    ax, ay, az = ax / size, ay / size, az / size
    return [ax, ay, az, ny * az - nz * ay, nz * ax - nx * az, nx * ay - ny * ax, nx, ny, nz]


def _rows_array(rows: list[list[float]], width: int) -> Array:
    """Rows of Python floats, each ``width`` long, as an array (rows, width): one flat list
    (``floats_array``)."""
    flat: list[float] = []
    for row in rows:
        flat += row
    return floats_array(flat).reshape(-1, width)


def _homogeneous(v: Array, w: float) -> Array:
    """(k, 3) vectors with a fourth coordinate ``w`` (1 for points, 0 for directions)."""
    return np.concatenate([v.reshape(-1, 3), np.full((len(v), 1), w)], axis=1)


def _pose_rows(values: Array, n: int) -> Array:
    """(segments * n,) values, segment-major, as (n, segments)."""
    if n == 1:  # one pose: the same in one call
        return values[None]
    return values.reshape(-1, n).T


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
        # one-surface rows keep a wrap past half a turn where the segment cuts the surface
        # (wrapping.SPAN_LIMIT); the two-surface rows' surfaces taken alone do not
        self.past_half = np.arange(len(self.sphere)) < n * s1
        self.point_on = np.ones(n * len(fp.points), bool)
        # moment-arm candidates of every pose as positions in ``_solve``'s bank (n, L, K): each
        # kind's rows (n per candidate of a pose) start where n poses' earlier kinds end; the
        # path points pose-major (pose * P + point), the rest segment-major (row * n + pose);
        # for ``evaluate``'s one search for both ends, reversed (the last proximal candidate is
        # the first there), then as they are (2, 1, n, L, K); and where each search's pose's
        # line's candidates start in that table (2, 1, n, L)
        starts = fp._bank_starts
        kind = np.searchsorted(starts, fp._cand, side="right") - 1  # (zero-size kinds skipped)
        pos, pose = fp._cand - starts[kind], np.arange(n)[:, None, None]
        cand = n * starts[kind] + np.where(kind == 0, pose * len(fp.points) + pos, pos * n + pose)
        self.cand_ends = np.stack([cand[..., ::-1], cand])[:, None]
        cand_row = (np.arange(n)[:, None] * fp.n_lines + fp._line_ix) * fp._cand.shape[1]
        self.cand_ends_row = np.arange(2)[:, None, None, None] * cand.size + cand_row
        self.axes = np.zeros((n, 3, 4))  # the moment arms' axes, as columns
        self.axes[:, 2, 0] = 1.0  # hip flexion: about the pelvis z
        self.centres = np.zeros((2, n, 1, 3))
        self.posed_fixed = np.repeat(fp._posed_fixed[None], n, axis=0)  # the pelvis's, per pose
        # the kernel rows' ends and surface frames in the posed table
        a_row, b_row = fp._point_row[self.a_idx], fp._point_row[self.b_idx]
        w_row = fp._frame_row[self.w_idx]
        # ``_bases_few``: the kernel bases of the pelvis-fixed cylinders (they never move), and
        # the other (live) rows
        fixed = (w.body[self.w_idx] == 0) & ~w.sphere[self.w_idx]
        live = np.flatnonzero(~np.repeat(fixed, n))
        live_sphere = self.sphere[live]
        # ``_solve``'s one take from the posed table (n poses of its rows, flat): every pose's
        # path points and surface frames (pose-major), then the kernel rows' p, s and frames
        # (segment-major: row = segment * n + pose), then for one pose the live rows' side and
        # axis, a sphere row's after its p, s and centre (``_bases_few``); and where each part
        # starts
        width = len(fp._posed_fixed) + sum(len(fp._moving[b]) for b in MOVING)
        pose = np.arange(n) * width
        parts = [(pose[:, None] + fp._point_row).ravel(),
                 (pose[:, None, None] + fp._frame_row).ravel(),
                 (a_row[:, None] + pose).ravel(), (b_row[:, None] + pose).ravel(),
                 (w_row[:, None] + pose[:, None]).ravel()]  # fmt: skip
        if n == 1:
            ends_frame = np.concatenate([a_row[:, None], b_row[:, None], w_row], axis=1)[live]
            parts.append(np.concatenate([row if sphere else row[3:] for row, sphere
                                         in zip(ends_frame, live_sphere, strict=True)]))  # fmt: skip
        self.take = np.concatenate(parts)
        self.take_at = tuple(np.cumsum([len(x) for x in parts[:5]]).tolist())
        self.no_sphere = np.zeros(len(self.sphere), bool)
        self.sph = np.flatnonzero(self.sphere)
        frames = np.repeat(np.stack([w.centre, w.side, w.axis], axis=1)[self.w_idx], n, axis=0)
        kept = np.flatnonzero(np.repeat(fixed, n))
        bases = surface_basis(frames[kept, 0], frames[kept, 0], frames[kept, 0], frames[kept, 1],
                              frames[kept, 2], self.sense[kept], self.no_sphere[kept])  # fmt: skip
        # every row's basis flat (9 a row), the live rows' zero until ``_bases_few`` writes them;
        # the live rows as (where their basis starts there, where their values start in the
        # take's last part: 15 floats for a sphere, 6 for a cylinder; whether a sphere, sense)
        flat = np.zeros((len(self.sense), 9))
        flat[kept] = bases.reshape(-1, 9)
        self.fixed_bases: list[float] = flat.ravel().tolist()
        starts = np.concatenate([[0], np.cumsum(np.where(live_sphere, 15, 6))[:-1]])
        self.live_rows = list(zip((9 * live).tolist(), starts.tolist(), live_sphere.tolist(),
                                  self.sense[live].tolist(), strict=True))  # fmt: skip
        # two-surface rows: surface 0 rows, then surface 1 rows, in the kernel batch
        self.one = slice(n * s1, n * (s1 + s2))
        self.two = slice(n * (s1 + s2), n * (s1 + 2 * s2))
        self.r0, self.r1 = self.radius[self.one], self.radius[self.two]
        self.sg0, self.sg1 = self.sense[self.one], self.sense[self.two]
        self.cylinders = ~(self.sphere[self.one] | self.sphere[self.two])
        self.any_sphere = not self.cylinders.all()
        # ``_both_engaged``'s constants per two-surface row, taken in one step for the rows it
        # is asked for: radii, senses, sense 0 x radius 0, pi where surface 0 turns
        # counter-clockwise, squared radii
        self.closed_rows = np.stack([self.r0, self.r1, self.sg0, self.sg1, self.sg0 * self.r0,
                                     np.where(self.sg0 > 0, np.pi, 0.0), self.r0**2, self.r1**2],
                                    axis=1)  # fmt: skip
        both = slice(self.one.start, self.two.stop)
        self.two_sense, self.two_radius, self.two_sphere = (
            self.sense[both], self.radius[both], self.sphere[both])  # fmt: skip
        self.distal = np.repeat(fp._double_distal, n)
        # ``_two_surfaces_few``'s rows, as flat indices into the kernel table (rows, 32)
        from_first = np.array([k == 0 for k, a, b in _TWO_SURFACE_ROW for _ in range(a, b)])
        column = np.concatenate([np.arange(a, b) for _, a, b in _TWO_SURFACE_ROW])
        row = self.one.start + np.arange(n * s2)[:, None] + np.where(from_first, 0, n * s2)
        self.two_table = row * _KERNEL_COLUMNS + column
        per_row = (self.r0.tolist(), self.r1.tolist(), self.sg0.tolist(), self.sg1.tolist(),
                   self.sphere[self.one].tolist(), self.sphere[self.two].tolist(),
                   self.distal.tolist())  # fmt: skip
        # radii, senses, spheres, whether the second is on a distal body, per two-surface row
        self.few = list(zip(*per_row, strict=True))
        # third-surface rows (segment-major too): their two-surface rows, surface and sense
        self.third = (fp._third_row[:, None] * n + np.arange(n)).ravel()
        self.third_all = bool(np.array_equal(fp._third_row, np.arange(s2)))
        self.third_sense = np.repeat(fp._third_sense, n)
        self.third_radius = np.repeat(w.radius[fp._third_w], n)
        self.third_sphere = np.repeat(w.sphere[fp._third_w], n)
        chain_wraps = np.concatenate([fp._double_w[fp._third_row].ravel(), fp._third_w])
        self.chain_cylinders = not w.sphere[chain_wraps].any()  # chain_row takes cylinders
        # a pose or two on floats (``_chains_few``): per third-surface row its two-surface row,
        # surface, sense, radius and pose; per two-surface row whether both its surfaces are on
        # the pelvis; the third-surface rows as a slice where they are contiguous
        self.third_few = list(zip(self.third.tolist(), np.repeat(fp._third_w, n).tolist(),
                                  self.third_sense.tolist(), self.third_radius.tolist(),
                                  (self.third % n).tolist(), strict=True))  # fmt: skip
        self.third_wraps = sorted(set(fp._third_w.tolist()))
        self.pelvis_pair = np.repeat((w.body[fp._double_w] == 0).all(axis=1), n).tolist()
        # per two-surface row: its surfaces and senses (rows over the same pelvis-fixed pair share
        # one FewSurface each, so their pair constants are shared within a pose), and whether
        # the segment starts on the pelvis too
        self.pair_key = list(zip(np.repeat(fp._double_w[:, 0], n).tolist(),
                                 np.repeat(fp._double_w[:, 1], n).tolist(), self.sg0.tolist(),
                                 self.sg1.tolist(), strict=True))  # fmt: skip
        self.pelvis_start = np.repeat(fp.point_body[fp._double_a] == 0, n).tolist()
        rows = self.third
        contiguous = rows.size > 0 and np.array_equal(rows, np.arange(rows[0], rows[0] + rows.size))
        self.third_pick: slice | Index = slice(int(rows[0]), int(rows[-1]) + 1) if contiguous else rows
        # pelvis-fixed pairs on floats, by pair_key; the path's part over them from a pelvis-fixed
        # start (threewrap.f_prefix), by two-surface row: neither changes from pose to pose
        self.fixed_rows: dict[tuple[int, int, float, float], tuple[FewSurface, FewSurface]] = {}
        self.fixed_prefix: dict[int, Prefix] = {}
        # the same for a batch (``parallel_prefix`` of every third-surface row, in order), where
        # every such row's start and first two surfaces are on the pelvis
        third_pairs = fp._third_row
        self.prefix_fixed = bool(third_pairs.size) and bool(
            (w.body[fp._double_w[third_pairs]] == 0).all()
            and (fp.point_body[fp._double_a[third_pairs]] == 0).all())  # fmt: skip
        self.chain_prefix: PrefixRows | None = None
        # surfaces between a two-surface row's two (segment-major): their rows, sense, radius
        self.middle = (fp._middle_row[:, None] * n + np.arange(n)).ravel()
        self.middle_sense = np.repeat(fp._middle_sense, n)
        self.middle_radius = np.repeat(w.radius[fp._middle_w], n)
        self.middle_sphere = np.repeat(w.sphere[fp._middle_w], n)
        mr = self.middle  # as a slice where they are contiguous (views, not copies)
        contiguous = mr.size > 0 and np.array_equal(mr, np.arange(mr[0], mr[0] + mr.size))
        self.middle_pick: slice | Index = slice(int(mr[0]), int(mr[-1]) + 1) if contiguous else mr
        self.middle_batch: slice | Index = (slice(self.one.start + int(mr[0]), self.one.start + int(mr[-1]) + 1)
                                            if contiguous else self.one.start + mr)  # fmt: skip
        self.middle_few = (self.middle_radius.tolist(), self.middle_sphere.tolist(),
                           self.middle_sense.tolist())  # fmt: skip
        self.middle_rows = self.middle.tolist()
        # ``_bridges_few``: per row its two-surface row, radius, sphere flag and sense, and
        # where its surface's frame (centre, side, axis) sits in the posed frames, flat
        self.middle_flags = list(zip(self.middle_rows, *self.middle_few, strict=True))
        frame = (self.middle % n) * len(w.body) + np.repeat(fp._middle_w, n)
        self.middle_frames = (9 * frame[:, None] + np.arange(9)).ravel()
        self.middle_off = np.zeros(len(self.middle), bool)  # none engaged (read only)
        self.middle_off.flags.writeable = False


_TWO_PI = float(TWO_PI)
_SPAN_LIMIT = float(SPAN_LIMIT)
# The kernel table of ``_two_surfaces_few``, a row per kernel row: p 0:3, s 3:6, centre 6:9,
# side 9:12, axis 12:15, basis 15:24 (rows e1, e2, e3), entry and exit tangent points 24:30,
# length 30, engaged 31. A two-surface row takes (surface 0 or 1, columns) in this order: p and
# s, both centres, both bases, both surfaces' tangent points, both lengths, both engagements,
# both sides and axes; so row[0:3] p, [3:6] s, [6:9] and [9:12] the centres, [12:21] and
# [21:30] the bases, [30:36] and [36:42] the tangent points, [42:44] the lengths, [44:46] the
# engagement, [46:52] and [52:58] the sides and axes.
_KERNEL_COLUMNS = 32
_TWO_SURFACE_ROW = ((0, 0, 6), (0, 6, 9), (1, 6, 9), (0, 15, 24), (1, 15, 24), (0, 24, 30),
                    (1, 24, 30), (0, 30, 31), (1, 30, 31), (0, 31, 32), (1, 31, 32), (0, 9, 15),
                    (1, 9, 15))  # fmt: skip


def _surfaces(frames: tuple[Array, Array, Array, Array], st: _Static) -> tuple[Surface, Surface]:
    """The two surfaces of the two-surface rows, as ``twowrap`` takes them."""
    c, e1, e3, _ = frames
    one, two = st.one, st.two
    return ((c[one], e1[one], e3[one], st.sg0, st.r0, st.sphere[one]),
            (c[two], e1[two], e3[two], st.sg1, st.r1, st.sphere[two]))  # fmt: skip


def _two_surfaces(
    p: Array,
    s: Array,
    frames: tuple[Array, Array, Array, Array],
    alone: tuple[Bools, Array, Array, Array],
    st: _Static,
) -> TwoSurfaces:
    """Resolve the segments that wrap over surface 0 then surface 1 (``twowrap.resolve``),
    with the closed form for "both" where the cylinders are parallel.

    ``p``, ``s``, ``frames`` (centre, side, axis, kernel basis) and ``alone`` (on, length,
    t_in, t_out of each surface taken alone on p->s) are the kernel batch's rows; ``st.one``
    and ``st.two`` select the two surfaces' rows.
    """
    if len(st.r0) <= FEW_ROWS:
        return _two_surfaces_few(p, s, frames, alone, st)[0]
    one, two = st.one, st.two
    c, _, e3, basis = frames
    on, length, t_in, t_out = alone
    p, s = p[one], s[one]

    def closed(rows: Index) -> Closed:
        """The closed form on the rows no other state fits (a fifth of a sweep's)."""
        i, j = one.start + rows, two.start + rows
        return _both_engaged(p.take(rows, axis=0), s.take(rows, axis=0), c.take(i, axis=0),
                             c.take(j, axis=0), basis.take(i, axis=0), e3.take(j, axis=0), st,
                             rows)  # fmt: skip

    first, second = _surfaces(frames, st)
    return resolve(p, s, first, second, alone=(
        on[one], length[one], t_in[one], t_out[one], on[two], length[two], t_in[two],
        t_out[two]), closed=closed, distal=st.distal, bases=(basis[one], basis[two]))  # fmt: skip


def _two_surfaces_few(
    p: Array,
    s: Array,
    frames: tuple[Array, Array, Array, Array],
    alone: tuple[Bools, Array, Array, Array],
    st: _Static,
    necks: Array | None = None,
    points: bool = False,
) -> tuple[TwoSurfaces, Chain | None, ThirdPoints | None, list[bool] | None]:
    """``_two_surfaces`` for a few rows, on Python floats (one pose has eleven): numpy's
    per-call cost dominates there. Each row takes the same checks in the same order as
    ``twowrap.resolve``; a sphere's plane is taken through the ends of the segment checked, as
    ``twowrap.touches`` takes it (none is needed where the segment passes clear of the sphere,
    ``_sphere_clear``). Two cylinders whose axes are not parallel take the pair
    search on floats (``threewrap.f_pair``); a second surface on a body distal of the first's
    follows ``resolve``'s rules for it (counted beyond its centre, the first surface's path
    kept where consistent and where no state is). Rows no check decides (both surfaces needed
    where there is no closed form: a sphere; or none consistent) go to ``resolve`` itself.

    With ``necks`` (the posed surfaces: centre, side and axis by pose and wrap) the rows with a third surface are resolved over it too
    (``threewrap.chain_row``), and the first two surfaces' numbers are the chain's; the Chain of
    those rows is returned with ``points`` (where their lines start and end too) or where
    ``resolve`` decided a row, and always their third surface's entry and exit points and
    engagement (all the moment arms take of it); and for the rows with a surface between their
    two, whether their bridge touches it (``_bridges_few``; None where ``resolve`` decided one
    of them)."""
    one, two = st.one, st.two
    c, e1, e3, basis = frames
    on, length, t_in, t_out = alone
    # per row (``_TWO_SURFACE_ROW``): p, s, centres, bases, tangent points, lengths and
    # engagement of both surfaces alone, their sides and axes; gathered from the kernel batch
    # in one step
    kernel = np.concatenate((p, s, c, e1, e3, basis.reshape(-1, 9), t_in, t_out, length[:, None],
                             on[:, None]), axis=1)  # fmt: skip
    table = kernel.ravel().take(st.two_table).tolist()
    states: list[int] = []
    out: list[list[float]] = []
    known_rows: list[bool] = []
    iterated: dict[int, tuple[bool, bool, list[float], list[float]]] = {}
    for row, (r0, r1, sg0, sg1, sph0, sph1, distal) in zip(table, st.few, strict=True):
        pr, sr, c0, c1, b0, b1 = row[0:3], row[3:6], row[6:9], row[9:12], row[12:21], row[21:30]
        len0, len1 = row[42], row[43]
        on_a, on_b = row[44] > 0, row[45] > 0
        touch1 = _row_touches
        if distal:  # the second surface counts only beyond its centre
            touch1 = _row_touches_beyond
            on_b = on_b and _ahead(row[36:39], c1, row[55:58]) and _ahead(row[39:42], c1, row[55:58])
        state = -1
        if not on_a and not on_b:
            if not _row_touches(pr, sr, c0, b0, r0) and not touch1(pr, sr, c1, b1, r1):
                state = 0
        else:
            ti0, to0, ti1, to1 = row[30:33], row[33:36], row[36:39], row[39:42]
            # neither leg of the first surface's path touches the second, nor either leg of
            # the second's the first
            first_ok = on_a and _legs_clear(to0, sr, pr, ti0, c1, row[52:55], row[55:58], b1, r1,
                                            sph1, touch1)  # fmt: skip
            second_ok = on_b and _legs_clear(pr, ti1, to1, sr, c0, row[46:49], row[49:52], b0, r0,
                                             sph0, _row_touches)  # fmt: skip
            if first_ok and (not second_ok or len0 <= len1 or distal):
                state = 1
            elif second_ok:
                state = 2
        known = False
        if state == -1 and not (sph0 or sph1):
            known, ok, l_both, ends = _row_both(pr, sr, c0, c1, b0, b1[6:9], r0, r1, sg0, sg1)
            if not known:  # axes not parallel: twowrap's cylinder_pair, on floats
                got = f_pair(_v3(pr), _v3(sr), FewSurface.of_basis(_v3(c0), b0, sg0, r0),
                             FewSurface.of_basis(_v3(c1), b1, sg1, r1))  # fmt: skip
                known = True
                if got is not None:
                    ok, l_both, ends = True, got[0], [x for t in got[1] for x in t]
                else:
                    ok = False
            if ok and distal:
                ok = _ahead(ends[6:9], c1, row[55:58]) and _ahead(ends[9:12], c1, row[55:58])
            if known and ok:
                state = 3
                out.append([l_both, *ends])
        if state == -1 and distal:  # no consistent state: the first surface's own path
            state = 1 if on_a else 0
        known_rows.append(known)
        states.append(state)
        if state == 3:
            continue
        if state == -1 and (sph0 or sph1):  # no closed form, no Newton: resolve would iterate
            it = _row_iteration(row, (r0, r1, sph0, sph1))
            iterated[len(states) - 1] = it[:4]
            out.append(it[4])
            continue
        if state == 1 or state == 2:
            lg = len0 if state == 1 else len1
        else:
            dx, dy, dz = sr[0] - pr[0], sr[1] - pr[1], sr[2] - pr[2]
            lg = math.sqrt(dx * dx + dy * dy + dz * dz)
        out.append([lg, *row[30:42]])  # and both surfaces' tangent points
    chains = None
    if necks is not None:
        chains = _chains_few(table, out, states, None, necks, st.third_few, st)
    first_on = [x == 1 or x == 3 for x in states]
    second_on = [x >= 2 for x in states]
    for i, (it_on0, it_on1, _, _) in iterated.items():
        first_on[i], second_on[i] = it_on0, it_on1
    open_rows = [i for i, x in enumerate(states) if x < 0 and i not in iterated]
    folded = chains is not None and not open_rows
    if folded:  # the rows whose path wraps their third surface take the chain's engagement
        for (d, *_), few_chain in zip(st.third_few, chains or [], strict=True):
            if few_chain is not None and few_chain[2]:
                first_on[d], second_on[d] = few_chain[0][0], few_chain[0][1]
    bridges = None
    if necks is not None and st.middle_rows and not set(open_rows).intersection(st.middle_rows):
        bridges = _bridges_few(table, out, first_on, second_on, necks, st)
    res = _rows_array(out, 13)
    on0, on1 = np.array(first_on, dtype=bool), np.array(second_on, dtype=bool)
    tangents = [res[:, 1:4], res[:, 4:7], res[:, 7:10], res[:, 10:13]]
    p1, s1 = p[one], s[one]
    # where the first surface's line ends and the second's starts: read to draw the lines, by
    # the rows resolved again (iterated, open, over a third surface by numpy) and by the rows
    # whose bridge touches the surface between their two; a pose's moment arms need none
    end0 = start1 = _NO_ENDS
    if (points or iterated or open_rows or necks is None
            or (st.middle_rows and (bridges is None or any(bridges)))):  # fmt: skip
        end0 = np.where(on1[:, None], tangents[2], s1)
        start1 = np.where(on0[:, None], tangents[1], p1)
    two_rows = TwoSurfaces(on0, on1, res[:, 0], tangents, np.array(states, dtype=np.intp), end0,
                           start1)  # fmt: skip
    for i, (_, _, it_end0, it_start1) in iterated.items():
        two_rows.end0[i], two_rows.start1[i] = it_end0, it_start1
    if open_rows:  # resolve decides these, the closed form standing where it applies
        rest = np.array(open_rows, dtype=np.intp)
        first, second = _surfaces(frames, st)
        sub: Alone = (on[one][rest], length[one][rest], t_in[one][rest], t_out[one][rest],
                      on[two][rest], length[two][rest], t_in[two][rest], t_out[two][rest])  # fmt: skip
        applies = np.array(known_rows)[rest]
        closed: Closed = (applies, np.zeros(rest.size, bool), np.zeros(rest.size),
                          [np.zeros((rest.size, 3)) for _ in range(4)])  # fmt: skip
        r = resolve(p1[rest], s1[rest], rows_of(first, rest), rows_of(second, rest), alone=sub,
                    closed=closed)  # fmt: skip
        for name in ("on0", "on1", "length", "state", "end0", "start1"):
            getattr(two_rows, name)[rest] = getattr(r, name)
        for t, tr in zip(two_rows.tangents, r.tangents, strict=True):
            t[rest] = tr
    if chains is None or necks is None:
        return two_rows, None, None, bridges
    if folded and not points:  # the moment arms need only the third surfaces' points
        return two_rows, None, _third_points_few(table, chains, st), bridges
    chain = _chain_of_few(two_rows, res, table, chains, necks, st, points, folded)
    return two_rows, chain, (chain.tangents[4], chain.tangents[5], chain.on[2]), bridges


def _bridges_few(
    table: list[list[float]], out: list[list[float]], first_on: list[bool],
    second_on: list[bool], posed: Array, st: _Static,
) -> list[bool]:
    """Whether each two-surface row with a surface between its two has its bridge (from the
    first surface's exit, or p, to the second's entry, or s) touching that surface
    (``_bridge_touches``), from ``_two_surfaces_few``'s rows on floats (``table``, its results
    ``out`` and each surface's engagement) and the posed surfaces (by pose and wrap, all
    their frames taken in one step): ``_middle_surface`` then needs no table of its own."""
    frames = posed.ravel().take(st.middle_frames).tolist()  # centre, side, axis: 9 a row
    touched = []
    for (d, r, sphere, sense), k in zip(st.middle_flags, range(0, len(frames), 9), strict=True):
        row, done = table[d], out[d]
        touched.append(_bridge_touches(done[4:7] if first_on[d] else row[0:3],
                                       done[7:10] if second_on[d] else row[3:6],
                                       frames[k : k + 9], r, sphere, sense))  # fmt: skip
    return touched


FewChain = tuple[list[bool], int, list[tuple[float, float, float]]]  # engaged, state, tangents
ThirdPoints = tuple[Array, Array, Bools]  # a third surface's entry and exit points, engaged


def _third_points_few(
    table: list[list[float]], chains: list[FewChain | None], st: _Static
) -> ThirdPoints:
    """The third surface's entry and exit points and engagement of ``_chains_few``'s rows (s
    for both where it is not wrapped), as ``_chain_of_few`` puts them in its Chain: what the
    moment arms take of it, read from one flat list (the rest of the Chain is for drawing)."""
    flat: list[float] = []
    for (d, *_), c in zip(st.third_few, chains, strict=True):
        assert c is not None
        (_, _, engaged), _, tg = c
        flat += [*tg[4], *tg[5], engaged] if tg else [*table[d][3:6], *table[d][3:6], False]
    rows = floats_array(flat).reshape(-1, 7)
    return rows[:, 0:3], rows[:, 3:6], rows[:, 6] > 0


def _chains_few(
    table: list[list[float]],
    out: list[list[float]],
    states: list[int],
    engaged: tuple[list[bool], list[bool]] | None,
    necks: Array,
    third: list[tuple[int, int, float, float, int]],
    st: _Static,
) -> list[FewChain | None]:
    """Rows of ``_two_surfaces_few`` with a third surface (``third``: two-surface row, wrap,
    sense, radius, pose), over it (``chain_row``), from their first two surfaces' resolution
    (``states`` per two-surface row, and ``out``: length and tangent points, where the chain's
    are written). Per row the chain, or, without ``engaged`` (each surface's engagement where
    ``resolve`` gave it), None where the first two surfaces' state is still open (-1). A row
    whose path does not need the third surface (``threewrap.f_needs``, the test ``chain_row``
    starts with) keeps its numbers, and its chain has no tangent points."""
    reset_pose()
    necks_rows: dict[tuple[int, int, float], FewSurface] = {}
    found: list[FewChain | None] = []
    for d, w2, sg2, r2, pose in third:
        state = states[d]
        if engaged is None:
            if state < 0:
                found.append(None)
                continue
            on0, on1 = state == 1 or state == 3, state >= 2
        else:
            on0, on1 = engaged[0][d], engaged[1][d]
        row, done = table[d], out[d]
        neck = necks_rows.get((w2, pose, sg2))
        if neck is None:
            c = necks[pose, w2].ravel().tolist()
            neck = necks_rows[(w2, pose, sg2)] = FewSurface((c[0], c[1], c[2]), (c[3], c[4], c[5]),
                                                      (c[6], c[7], c[8]), sg2, r2)  # fmt: skip
        s = (row[3], row[4], row[5])
        k = 10 if on1 else 4 if on0 else 0
        last = (done[k], done[k + 1], done[k + 2]) if k else (row[0], row[1], row[2])
        if not f_needs(last, s, neck):
            found.append(([on0, on1, False], -1 if state < 0 else on0 * 1 + on1 * 2, []))
            continue
        brim, head = _first_two_rows(row, d, st)
        p = (row[0], row[1], row[2])
        prefix = None
        if st.pelvis_pair[d] and st.pelvis_start[d]:  # p, brim and head never move
            prefix = st.fixed_prefix.get(d)
            if prefix is None:
                prefix = st.fixed_prefix[d] = f_prefix(p, brim, head)
        ons, length, code, tg = chain_row(
            p, s, brim, head, neck, on0, on1,
            done[0], [(done[1], done[2], done[3]), (done[4], done[5], done[6]),
                      (done[7], done[8], done[9]), (done[10], done[11], done[12])], state,
            needed=True, prefix=prefix)  # fmt: skip
        t0, t1, t2, t3 = tg[:4]
        out[d] = [length, *t0, *t1, *t2, *t3]
        found.append((ons, code, tg))
    return found


def _first_two_rows(row: list[float], d: int, st: _Static) -> tuple[FewSurface, FewSurface]:
    """The first two surfaces of two-surface row ``d`` on floats (``FewSurface``), from its kernel
    bases in ``_two_surfaces_few``'s ``row``; kept across poses where they are on the pelvis (the
    model frame: they never move), one pair for the rows over the same two."""
    fixed = st.pelvis_pair[d]
    if fixed:
        kept = st.fixed_rows.get(st.pair_key[d])
        if kept is not None:
            return kept
    r0, r1, sg0, sg1, _, _, _ = st.few[d]
    rows = (FewSurface.of_basis((row[6], row[7], row[8]), row[12:21], sg0, r0),
            FewSurface.of_basis((row[9], row[10], row[11]), row[21:30], sg1, r1))  # fmt: skip
    if fixed:
        st.fixed_rows[st.pair_key[d]] = rows
    return rows


def _chain_of_few(
    two_rows: TwoSurfaces, res: Array, table: list[list[float]], chains: list[FewChain | None],
    necks: Array, st: _Static, points: bool, folded: bool,
) -> Chain:
    """The Chain of ``_chains_few``'s rows (those left open resolved over their first two
    surfaces first, by ``resolve``, then over the third), with the first two surfaces'
    engagement (and, with ``points``, where their lines end and start) written into
    ``two_rows`` unless ``folded`` (``_two_surfaces_few`` put it there already). Their lengths
    and first four tangent points are in ``res``, under ``two_rows``; the rows that wrap the
    third surface take its engagement, state and tangent points, the rest keep their two
    surfaces' state and have s for the third surface's tangent points."""
    rows = st.third_pick  # the two-surface rows with a third surface (a slice if it can be)
    late = [j for j, c in enumerate(chains) if c is None]
    if late:  # resolve gave these rows' first two surfaces: now the third
        out = res.tolist()
        got = _chains_few(table, out, two_rows.state.tolist(),
                          (two_rows.on0.tolist(), two_rows.on1.tolist()), necks,
                          [st.third_few[j] for j in late], st)  # fmt: skip
        for j, c in zip(late, got, strict=True):
            chains[j] = c
            d = st.third_few[j][0]
            res[d] = out[d]
    on0, on1 = two_rows.on0[rows].copy(), two_rows.on1[rows].copy()
    two_state = two_rows.state[rows].tolist()
    on2: list[bool] = []
    state: list[int] = []
    ends: list[list[float]] = []  # the third surface's tangent points, flat
    for j, ((d, *_), c) in enumerate(zip(st.third_few, chains, strict=True)):
        assert c is not None
        (a, b, e), code, tg = c
        if tg:
            if not folded:
                on0[j], on1[j] = a, b
            on2.append(e)
            state.append(code)
            ends.append([*tg[4], *tg[5]])
        else:
            on2.append(False)
            state.append(two_state[j])
            ends.append(table[d][3:6] * 2)
    if not folded:
        two_rows.on0[rows], two_rows.on1[rows] = on0, on1
    third = _rows_array(ends, 6)
    tangents = [res[rows, 1:4], res[rows, 4:7], res[rows, 7:10], res[rows, 10:13], third[:, 0:3],
                third[:, 3:6]]  # fmt: skip
    starts: list[Array] = []
    finish: list[Array] = []
    if points:
        flat = list(zip(*(t.tolist() for t in tangents), strict=True))  # per row, six points
        where = [chain_ends((table[d][0], table[d][1], table[d][2]),
                            (table[d][3], table[d][4], table[d][5]), c[0], list(tg))
                 for (d, *_), c, tg in zip(st.third_few, chains, flat, strict=True)
                 if c is not None]  # fmt: skip
        starts = [np.array([w[0][k] for w in where]) for k in range(3)]
        finish = [np.array([w[1][k] for w in where]) for k in range(3)]
        two_rows.end0[rows], two_rows.start1[rows] = finish[0], starts[1]
    return Chain([on0, on1, np.array(on2, bool)], res[rows, 0], tangents,
                 np.array(state, dtype=np.intp), starts, finish)  # fmt: skip


def _row_iteration(
    row: list[float], few: tuple[float, float, bool, bool]
) -> tuple[bool, bool, list[float], list[float], list[float]]:
    """``twowrap.obstacle_iteration`` on one row of ``_two_surfaces_few``'s table (Python floats,
    round for round): each surface alone on p->s to start (a second surface p lies inside
    unengaged, ``_inside``), then each wrapped from p to the other's
    entry point and from its own exit point to s until the entry points settle (0.1 um). A
    sphere's plane is taken through the ends of each wrap, as ``wrap_rows`` takes it. Returns
    whether each surface is engaged, where the first surface's line ends and the second's starts,
    and the table row of ``out`` (length, then the four tangent points)."""
    r0, r1, sph0, sph1 = few
    p, s = _v3(row[0:3]), _v3(row[3:6])
    c0, c1 = _v3(row[6:9]), _v3(row[9:12])
    fixed0 = None if sph0 else FewSurface.of_basis(c0, row[12:21], 1.0, r0)
    fixed1 = None if sph1 else FewSurface.of_basis(c1, row[21:30], 1.0, r1)
    in0, out0, in1, out1 = _v3(row[30:33]), _v3(row[33:36]), _v3(row[36:39]), _v3(row[39:42])
    len0, len1, on0 = row[42], row[43], row[44] > 0
    on1 = row[45] > 0 and not _inside(p, c1, row[55:58], r1, sph1)  # twowrap.inside
    end0, start1 = s, p
    for _ in range(SEQUENCE_ITERATIONS):
        e0 = in1 if on1 else s
        first = fixed0 or FewSurface.of_basis(
            c0, _sphere_basis_row(p, e0, c0, row[46:49], row[49:52]), 1.0, r0)  # fmt: skip
        a_on, a_len, a_in, a_out = f_wrap(p, e0, first)
        s1 = a_out if a_on else p
        second = fixed1 or FewSurface.of_basis(
            c1, _sphere_basis_row(s1, s, c1, row[52:55], row[55:58]), 1.0, r1)  # fmt: skip
        b_on, b_len, b_in, b_out = f_wrap(s1, s, second)
        moved = max(abs(a_in[0] - in0[0]), abs(a_in[1] - in0[1]), abs(a_in[2] - in0[2]),
                    abs(b_in[0] - in1[0]), abs(b_in[1] - in1[1]), abs(b_in[2] - in1[2]))  # fmt: skip
        end0, start1 = e0, s1
        on0, len0, in0, out0 = a_on, a_len, a_in, a_out
        on1, len1, in1, out1 = b_on, b_len, b_in, b_out
        if moved < 1e-7:
            break
    gap = math.sqrt((end0[0] - start1[0]) ** 2 + (end0[1] - start1[1]) ** 2
                    + (end0[2] - start1[2]) ** 2)  # fmt: skip
    return (on0, on1, list(end0), list(start1),
            [len0 + len1 - gap, *in0, *out0, *in1, *out1])  # fmt: skip


def _middle_iteration_few(
    p: Array, s: Array, surfaces: list[Surface], on: list[Bools], tangents: list[Array]
) -> Chain:
    """``threewrap.middle_iteration`` on a few rows, Python floats, round for round (a pose's
    hamstring rows that need the surface between their two)."""
    cols: list[Array] = [p, s]
    for c, e1, e3, sense, r, sphere in surfaces:
        cols += [c, e1, e3, sense[:, None], r[:, None], sphere[:, None].astype(float)]
    cols += [x[:, None].astype(float) for x in on] + tangents
    out_on: list[list[bool]] = [[], [], []]
    total: list[float] = []
    points: list[list[V3]] = [[] for _ in range(6)]
    for row in np.concatenate(cols, axis=1).tolist():
        ons, length, tg = _row_middle(row)
        for k in range(3):
            out_on[k].append(ons[k])
        total.append(length)
        for k in range(6):
            points[k].append(tg[k])
    on_a = [np.array(x, bool) for x in out_on]
    state = (on_a[0] * 1 + on_a[1] * 2 + on_a[2] * 4).astype(np.intp)
    return Chain(on_a, np.array(total), [np.array(x).reshape(-1, 3) for x in points], state, [], [])


def _row_middle(row: list[float]) -> tuple[list[bool], float, list[V3]]:
    """``_middle_iteration_few`` on one row: p, s, each surface's centre, side, axis, sense,
    radius and sphere flag, then whether each is engaged, then the six tangent points."""
    p, s = _v3(row[0:3]), _v3(row[3:6])
    surf = [row[6 + 12 * k : 18 + 12 * k] for k in range(3)]
    on = [row[42 + k] > 0 for k in range(3)]
    tg = [_v3(row[45 + 3 * k : 48 + 3 * k]) for k in range(6)]
    fixed = [None if x[11] > 0 else FewSurface(_v3(x[0:3]), _v3(x[3:6]), _v3(x[6:9]), x[9], x[10])
             for x in surf]  # fmt: skip
    lengths = [0.0, 0.0, 0.0]
    starts, ends = [p, p, p], [s, s, s]
    held = [False, False, False]
    for attempt in range(2):  # as threewrap.middle_iteration: a row that cycles, again held
        flips = [False, False, False]
        settled = False
        for r in range(MIDDLE_ITERATIONS):
            moved = 0.0
            for k in range(3):
                start, end = chain_end(k, p, s, on, tg)  # from this round's earlier surfaces
                x = surf[k]
                surface = fixed[k] or FewSurface.of_basis(
                    _v3(x[0:3]), _sphere_basis_row(start, end, x[0:3], x[3:6], x[6:9]), 1.0, x[10])  # fmt: skip
                wrapped, lg, t_in, t_out = f_wrap(start, end, surface)
                wrapped = wrapped and not held[k]
                if r >= MIDDLE_ITERATIONS - HELD_ROUNDS and wrapped != on[k]:
                    flips[k] = True
                if not wrapped:
                    t_in, t_out = end, start
                old_in, old_out = tg[2 * k], tg[2 * k + 1]
                moved = max(moved, abs(t_in[0] - old_in[0]), abs(t_in[1] - old_in[1]),
                            abs(t_in[2] - old_in[2]), abs(t_out[0] - old_out[0]),
                            abs(t_out[1] - old_out[1]), abs(t_out[2] - old_out[2]))  # fmt: skip
                on[k], lengths[k], tg[2 * k], tg[2 * k + 1] = wrapped, lg, t_in, t_out
                starts[k], ends[k] = start, end
            if moved < MIDDLE_TOLERANCE:
                settled = True
                break
        if settled:
            break
        if attempt:  # cycles with them held too: the segment is straight
            if any(flips):
                on = [False, False, False]
                tg = [s, p, s, p, s, p]
            else:  # creeps: the length of the path drawn from its last round
                return on, _drawn_length_row(p, s, surf, fixed, on, tg), tg
            break
        held = flips
        on = [on[k] and not held[k] for k in range(3)]
    total = 0.0
    for k in range(3):
        if not on[k]:
            continue
        total += lengths[k]
        prior = None
        for j in range(k):
            prior = ends[j] if on[j] else prior
        if prior is not None:
            total -= _gap(prior, starts[k])
    if not (on[0] or on[1] or on[2]):
        total = _gap(s, p)
    return on, total, tg


def _gap(a: V3, b: V3) -> float:
    """The distance from ``a`` to ``b`` (summed as the batch's rows are)."""
    return math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)


def _drawn_length_row(
    p: V3, s: V3, surf: list[list[float]], fixed: list[FewSurface | None], on: list[bool],
    tg: list[V3],
) -> float:
    """``threewrap.drawn_length`` on one row of ``_row_middle``, Python floats."""
    total = 0.0
    last = p
    for k in range(3):
        start, end = chain_end(k, p, s, on, tg)
        x = surf[k]
        surface = fixed[k] or FewSurface.of_basis(
            _v3(x[0:3]), _sphere_basis_row(start, end, x[0:3], x[3:6], x[6:9]), 1.0, x[10])  # fmt: skip
        wrapped, lg, t_in, t_out = f_wrap(start, end, surface)
        if not (wrapped and on[k]):
            continue
        total += lg - _gap(t_in, start) - _gap(end, t_out) + _gap(t_in, last)
        last = t_out
    return total + _gap(s, last)


def _inside(
    x: Sequence[float], c: Sequence[float], axis: Sequence[float], r: float, sphere: bool
) -> bool:
    """``twowrap.inside`` on one point: nearer the axis (a sphere: the centre) than ``r``."""
    dx, dy, dz = x[0] - c[0], x[1] - c[1], x[2] - c[2]
    size2 = dx * dx + dy * dy + dz * dz
    if not sphere:
        along = dx * axis[0] + dy * axis[1] + dz * axis[2]
        size2 = size2 - along * along
    return size2 < r * r


def _v3(x: Sequence[float]) -> tuple[float, float, float]:
    return (x[0], x[1], x[2])


def _ahead(x: Sequence[float], c: Sequence[float], axis: Sequence[float]) -> bool:
    """``twowrap.beyond`` on one point: beyond the centre ``c`` along ``axis``."""
    return (x[0] - c[0]) * axis[0] + (x[1] - c[1]) * axis[1] + (x[2] - c[2]) * axis[2] >= 0.0


def _row_touches_beyond(
    x: list[float], y: list[float], c: list[float], b: list[float], r: float
) -> bool:
    """``twowrap.touches_beyond`` on one row, Python floats (``_row_touches``'s arguments)."""
    ax, ay, az = x[0] - c[0], x[1] - c[1], x[2] - c[2]
    bx, by, bz = y[0] - c[0], y[1] - c[1], y[2] - c[2]
    x0, y0 = ax * b[0] + ay * b[1] + az * b[2], ax * b[3] + ay * b[4] + az * b[5]
    x1, y1 = bx * b[0] + by * b[1] + bz * b[2], bx * b[3] + by * b[4] + bz * b[5]
    z0, z1 = ax * b[6] + ay * b[7] + az * b[8], bx * b[6] + by * b[7] + bz * b[8]
    return touches_beyond_in_plane(x0, y0, z0, x1, y1, z1, r)


def _row_touches(x: list[float], y: list[float], c: list[float], b: list[float], r: float) -> bool:
    """``twowrap.touches_in_basis`` on one row, Python floats: the segment x->y and a surface
    with centre ``c`` and kernel basis ``b`` (rows, flat)."""
    ax, ay, az = x[0] - c[0], x[1] - c[1], x[2] - c[2]
    bx, by, bz = y[0] - c[0], y[1] - c[1], y[2] - c[2]
    x0, y0 = ax * b[0] + ay * b[1] + az * b[2], ax * b[3] + ay * b[4] + az * b[5]
    x1, y1 = bx * b[0] + by * b[1] + bz * b[2], bx * b[3] + by * b[4] + bz * b[5]
    return touches_in_plane(x0, y0, x1, y1, r)


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
    turn0 = math.atan2(py, px) + sg0 * acos_ratio(r0, dist_p)
    turn2 = math.atan2(sy, sx) - sg1 * acos_ratio(r1, dist_s)
    phi = math.atan2(ccy, ccx) + acos_ratio(rho, dist_c)
    span0 = (sg0 * (phi + (math.pi if sg0 > 0 else 0.0) - turn0)) % _TWO_PI
    span1 = (sg1 * (turn2 - phi - (sg1 > 0) * math.pi)) % _TWO_PI
    span0 = 0.0 if span0 > _TWO_PI - 1e-9 else span0
    span1 = 0.0 if span1 > _TWO_PI - 1e-9 else span1
    ok = ok and span0 < _SPAN_LIMIT and span1 < _SPAN_LIMIT
    nx, ny = math.cos(phi), math.sin(phi)
    t0x, t0y = -sg0_r0 * nx, -sg0_r0 * ny
    t1x, t1y = ccx - sg1 * r1 * nx, ccy - sg1 * r1 * ny
    gx, gy = t1x - t0x, t1y - t0y
    # (max(x, floor) as a comparison, as acos_ratio)
    q0 = dist_p * dist_p - r0 * r0
    q0 = math.sqrt(0.0 if q0 < 0.0 else q0)
    q1 = q0 + r0 * span0
    q2 = q1 + math.sqrt(gx * gx + gy * gy)
    q3 = q2 + r1 * span1
    leg = dist_s * dist_s - r1 * r1
    planar = q3 + math.sqrt(0.0 if leg < 0.0 else leg)
    dz = zs - zp
    slope = dz / (1e-12 if planar < 1e-12 else planar)
    ends: list[float] = []
    for lx, ly, lz in ((r0 * math.cos(turn0), r0 * math.sin(turn0), zp + slope * q0),
                       (t0x, t0y, zp + slope * q1), (t1x, t1y, zp + slope * q2),
                       (ccx + r1 * math.cos(turn2), ccy + r1 * math.sin(turn2), zp + slope * q3)):  # fmt: skip
        ends += (lx * f00 + ly * f10 + lz * f20 + x0, lx * f01 + ly * f11 + lz * f21 + y0,
                 lx * f02 + ly * f12 + lz * f22 + z0)  # fmt: skip
    return parallel, ok, math.sqrt(planar * planar + dz * dz), ends


def _or_last(world: Array, drawn: Bools, last: Array) -> Array:
    """Arc points (rows, arc, 3) where ``drawn``, else the point ``last`` (rows, 3) repeated."""
    return np.where(drawn[:, None, None], world, last[:, None])


def _two_surface_arcs(sv: _Solved) -> tuple[Array, Bools]:
    """Arc points of both surfaces of every two-surface segment, segment-major (first surfaces,
    then second ones; rows, arc, 3), and where they are drawn. Surface 0 wraps p -> end0,
    surface 1 wraps start1 -> s, each as the kernel draws it (the segment's start repeated
    where it does not wrap)."""
    st = sv.st
    assert sv.double is not None
    p, s, c0, e10, e30, _ = (r[st.one] for r in sv.rows)
    c1, e11, e31 = (r[st.two] for r in sv.rows[2:5])
    end1 = s
    if sv.chain is not None:  # with a third surface, the second's line ends at its entry
        end1 = s.copy()
        end1[st.third] = sv.chain.ends[1]
    starts = np.concatenate([p, sv.double.start1])
    world, on, _, _, _ = wrap_rows(
        starts, np.concatenate([sv.double.end0, end1]),
        np.concatenate([c0, c1]), np.concatenate([e10, e11]), np.concatenate([e30, e31]),
        st.two_sense, st.two_radius, st.two_sphere, True)  # fmt: skip
    assert world is not None
    off = ~(on & np.concatenate([sv.double.on0, sv.double.on1]))  # as PathSet draws them
    world[off] = starts[off, None]
    half = len(p)
    if sv.chain is not None:  # as PathSet draws a chain: each surface only where it is wrapped
        for k, start in ((0, p), (1, sv.double.start1)):
            rows = st.third + k * half
            chain_off = ~sv.chain.on[k]
            world[rows[chain_off]] = start[st.third[chain_off], None]
            off[rows[chain_off]] = True
    return world, ~off


def _third_surface(
    p: Array,
    s: Array,
    frames: tuple[Array, Array, Array, Array],
    double: TwoSurfaces,
    wb: Array,
    fp: FastPaths,
    st: _Static,
) -> tuple[Chain, Surface]:
    """Resolve the two-surface rows that have a third surface (``threewrap.resolve_chain``, with
    the two-surface resolution already known), and write the result into ``double`` (lengths,
    engagement and tangent points of the first two surfaces, where their lines end)."""
    first, second = _surfaces(frames, st)
    neck = wb[:, fp._third_w].transpose(1, 0, 2, 3).reshape(-1, 3, 3)  # centre, side, axis
    chain_neck = (neck[:, 0], neck[:, 1], neck[:, 2], st.third_sense, st.third_radius,
                  st.third_sphere)  # fmt: skip
    if st.third_all:  # every two-surface row has a third surface (iliopsoas): no subsets
        rows: Index | slice = slice(None)
        p3, s3, two, surfaces = p[st.one], s[st.one], double, [first, second, chain_neck]
    else:
        rows = st.third
        two = TwoSurfaces(double.on0[rows], double.on1[rows], double.length[rows],
                          [t[rows] for t in double.tangents], double.state[rows],
                          double.end0[rows], double.start1[rows])  # fmt: skip
        p3, s3 = p[st.one][rows], s[st.one][rows]
        surfaces = [rows_of(first, rows), rows_of(second, rows), chain_neck]
    if st.prefix_fixed and st.chain_prefix is None:  # p, brim and head never move: kept
        st.chain_prefix = parallel_prefix(p3, surfaces[0], surfaces[1])
    chain = resolve_chain(p3, s3, surfaces, two, few=False, prefix=st.chain_prefix)
    _write_chain(double, rows, chain)
    return chain, chain_neck


def _write_chain(double: TwoSurfaces, rows: Index | slice, chain: Chain) -> None:
    """Write a chain's first two surfaces into the two-surface rows ``rows``: lengths,
    engagement, tangent points and where their lines end and start."""
    double.length[rows] = chain.length
    double.on0[rows], double.on1[rows] = chain.on[0], chain.on[1]
    for k in range(4):
        double.tangents[k][rows] = chain.tangents[k]
    double.end0[rows], double.start1[rows] = chain.ends[0], chain.starts[1]


def _middle_surface(
    p: Array,
    s: Array,
    frames: tuple[Array, Array, Array, Array],
    double: TwoSurfaces,
    wb: Array,
    fp: FastPaths,
    st: _Static,
    points: bool,
    touched: list[bool] | None = None,
) -> _Between:
    """Resolve the two-surface rows that have a surface between their two
    (``threewrap.resolve_middle``, with the two-surface resolution known), and write the result
    into ``double`` (lengths, engagement, the outer surfaces' tangent points, and where their
    lines end and start). A pose or two test on floats which rows' bridge touches the middle
    surface (``_bridge_touches``; ``touched``, if ``_two_surfaces_few`` found it) and iterate
    those on floats (``_middle_iteration_few``); where none does, the two-surface path stands
    and ``resolve_middle`` is not called. A batch tests the bridges with numpy and passes
    ``resolve_middle`` the rows that touch alone (``_middle_rows``)."""
    rows = st.middle_pick
    p1, s1 = p[st.middle_batch], s[st.middle_batch]
    if touched is None and len(st.middle) > FEW_ROWS:
        return _middle_rows(p1, s1, frames, double, wb, fp, st, points)
    need = None
    if touched is None and len(st.middle) <= FEW_ROWS:
        on0, on1 = double.on0[rows], double.on1[rows]
        mid = _middle_surfaces(wb, fp, st)
        table = np.concatenate((double.tangents[1][rows], double.tangents[2][rows], p1, s1,
                                *mid[:3]), axis=1).tolist()  # fmt: skip
        flags = zip(table, on0.tolist(), on1.tolist(), *st.middle_few, strict=True)
        touched = [_bridge_touches(row[0:3] if a else row[6:9], row[3:6] if b else row[9:12],
                                   row[12:], r, sphere, sense)
                   for row, a, b, r, sphere, sense in flags]  # fmt: skip
    if touched is not None:
        if not any(touched):  # the two-surface path stands: no numbers change
            start = end = surface = None
            if points:  # as threewrap's Chain has them (the middle surface is not wrapped)
                start = np.where(double.on0[rows, None], double.tangents[1][rows], p1)
                end = np.where(double.on1[rows, None], double.tangents[2][rows], s1)
                double.end0[rows], double.start1[rows] = end, start
                surface = _middle_surfaces(wb, fp, st)
            return _Between(st.middle_off, s1, s1, start, end, surface)
        need = np.array(touched, bool)
    surface = _middle_surfaces(wb, fp, st)
    first, last = _surfaces(frames, st)
    two = TwoSurfaces(double.on0[rows], double.on1[rows], double.length[rows],
                      [t[rows] for t in double.tangents], double.state[rows], double.end0[rows],
                      double.start1[rows])  # fmt: skip
    chain = resolve_middle(p1, s1, [rows_of(first, st.middle), surface, rows_of(last, st.middle)], two,
                           need=need, iterate=None if need is None else _middle_iteration_few)  # fmt: skip
    double.length[rows] = chain.length
    double.on0[rows], double.on1[rows] = chain.on[0], chain.on[2]
    for k, j in ((0, 0), (1, 1), (2, 4), (3, 5)):
        double.tangents[k][rows] = chain.tangents[j]
    double.end0[rows], double.start1[rows] = chain.ends[0], chain.starts[2]
    return _Between(chain.on[1], chain.tangents[2], chain.tangents[3], chain.starts[1],
                    chain.ends[1], surface)  # fmt: skip


def _middle_rows(
    p1: Array,
    s1: Array,
    frames: tuple[Array, Array, Array, Array],
    double: TwoSurfaces,
    wb: Array,
    fp: FastPaths,
    st: _Static,
    points: bool,
) -> _Between:
    """``_middle_surface`` for a batch: which rows' bridge (from the first surface's exit, or p,
    to the second's entry, or s) touches the surface between (a handful of a sweep's rows, often
    none); ``resolve_middle`` takes those rows alone (each row's numbers are its own), and the
    others keep the two-surface path, as it would leave them: numpy's per-call cost on the
    whole batch was most of the time."""
    rows = st.middle_pick
    start = np.where(double.on0[rows, None], double.tangents[1][rows], p1)
    end = np.where(double.on1[rows, None], double.tangents[2][rows], s1)
    if points:  # as threewrap's Chain has them where the middle surface is not wrapped
        double.end0[rows], double.start1[rows] = end, start
    surface = _middle_surfaces(wb, fp, st)
    k = np.flatnonzero(touches(start, end, surface))
    if not k.size:  # the two-surface path stands: no numbers change
        return _Between(st.middle_off, s1, s1, start, end, surface)
    d = st.middle[k]  # their two-surface rows
    first, last = _surfaces(frames, st)
    two = TwoSurfaces(double.on0[d], double.on1[d], double.length[d],
                      [t[d] for t in double.tangents], double.state[d], double.end0[d],
                      double.start1[d])  # fmt: skip
    chain = resolve_middle(p1[k], s1[k], [rows_of(first, d), rows_of(surface, k), rows_of(last, d)],
                           two, need=np.ones(k.size, bool))  # fmt: skip
    double.length[d] = chain.length
    double.on0[d], double.on1[d] = chain.on[0], chain.on[2]
    for i, j in ((0, 0), (1, 1), (2, 4), (3, 5)):
        double.tangents[i][d] = chain.tangents[j]
    double.end0[d], double.start1[d] = chain.ends[0], chain.starts[2]
    on = np.zeros(len(st.middle), bool)
    t_in, t_out = s1.copy(), s1.copy()
    on[k], t_in[k], t_out[k] = chain.on[1], chain.tangents[2], chain.tangents[3]
    start[k], end[k] = chain.starts[1], chain.ends[1]
    return _Between(on, t_in, t_out, start, end, surface)


def _middle_surfaces(wb: Array, fp: FastPaths, st: _Static) -> Surface:
    """The surfaces between a two-surface row's two, posed, a row each (segment-major)."""
    mid = wb[:, fp._middle_w].transpose(1, 0, 2, 3).reshape(-1, 3, 3)  # centre, side, axis
    return mid[:, 0], mid[:, 1], mid[:, 2], st.middle_sense, st.middle_radius, st.middle_sphere


def _bridge_touches(
    x: list[float], y: list[float], frame: list[float], r: float, sphere: bool, sense: float
) -> bool:
    """``twowrap.touches`` of the bridge x->y and one surface (its centre, side and axis, flat),
    Python floats. A sphere is not touched where the line passes clear of it
    (``_sphere_clear``), which most rows do: that is tested first."""
    c = frame[0:3]
    if sphere:
        if _sphere_clear(x, y, c, r):
            return False
        b = _sphere_basis_row(x, y, c, frame[3:6], frame[6:9])
    else:
        e1, e3 = frame[3:6], frame[6:9]
        b = [*e1, *(sense * q for q in (e3[1] * e1[2] - e3[2] * e1[1], e3[2] * e1[0] - e3[0] * e1[2],
                                        e3[0] * e1[1] - e3[1] * e1[0])), *e3]  # fmt: skip
    return _row_touches(x, y, c, b, r)


def _sphere_clear(x: Sequence[float], y: Sequence[float], c: Sequence[float], r: float) -> bool:
    """Whether the line through x and y passes clear of a sphere (centre c, radius r), so the
    segment x->y does not touch it: its distance from the centre is the h that
    ``twowrap.touches_in_plane`` compares with the radius in the sphere's plane through x, y
    and the centre (positive there: the plane's normal is (x - c) x (y - c)), and a row is
    clear only with a margin (1e-9 of the radius) far above either's rounding, so it never
    rejects a row the full test would take."""
    dx, dy, dz = y[0] - x[0], y[1] - x[1], y[2] - x[2]
    ux, uy, uz = c[0] - x[0], c[1] - x[1], c[2] - x[2]
    cx, cy, cz = uy * dz - uz * dy, uz * dx - ux * dz, ux * dy - uy * dx
    size2 = dx * dx + dy * dy + dz * dz
    return size2 > 1e-20 and cx * cx + cy * cy + cz * cz >= r * r * (1.0 + 1e-9) * size2


def _legs_clear(
    a0: list[float], a1: list[float], b0: list[float], b1: list[float], c: list[float],
    e1: list[float], e3: list[float], basis: list[float], r: float, sphere: bool,
    touch: Callable[[list[float], list[float], list[float], list[float], float], bool],
) -> bool:
    """Neither leg (a0->a1, then b0->b1) of one surface's path touches the other surface: the
    check a one-surface state must pass, for either surface (a sphere's plane is taken through
    each leg's ends, ``_sphere_leg_touches``)."""
    if sphere:
        return not (_sphere_leg_touches(a0, a1, c, e1, e3, r, touch)
                    or _sphere_leg_touches(b0, b1, c, e1, e3, r, touch))  # fmt: skip
    return not (touch(a0, a1, c, basis, r) or touch(b0, b1, c, basis, r))


def _sphere_leg_touches(
    x: list[float], y: list[float], c: list[float], side: list[float], axis: list[float],
    r: float, touch: Callable[[list[float], list[float], list[float], list[float], float], bool],
) -> bool:
    """``touch`` (``_row_touches`` or ``_row_touches_beyond``) of the leg x->y and a sphere, in
    the plane through the leg's ends and the centre, as ``twowrap.touches`` takes it; a leg
    clear of the sphere (``_sphere_clear``) spares that plane."""
    if _sphere_clear(x, y, c, r):
        return False
    return touch(x, y, c, _sphere_basis_row(x, y, c, side, axis), r)


def _middle_surface_arcs(sv: _Solved) -> tuple[Array, Bools]:
    """Arc points of every surface between a two-surface row's two, segment-major (rows, arc,
    3): from where its line starts to where it ends; and where it is drawn (wrapped, as PathSet
    draws it)."""
    between = sv.between
    assert between is not None and between.start is not None and between.end is not None
    assert between.surface is not None
    world, on, _, _, _ = wrap_rows(between.start, between.end, *between.surface, True)
    assert world is not None
    return world, on & between.on


def _third_surface_arcs(sv: _Solved, fp: FastPaths) -> tuple[Array, Bools]:
    """Arc points of the third surface of every two-surface row that has one, segment-major
    (rows, arc, 3): from the chain's start for it to s; and where it is drawn (wrapped)."""
    st = sv.st
    assert sv.chain is not None
    chain, neck = sv.chain, sv.neck
    assert neck is not None
    s = sv.rows[1][st.one][st.third]
    world, on, _, _, _ = wrap_rows(chain.starts[2], s, *neck, True)
    assert world is not None
    return world, on & chain.on[2]


# ``_two_surfaces_few``'s TwoSurfaces where nothing reads where the lines end and start: empty,
# and read-only (a write would be a row it should have filled)
_NO_ENDS = np.empty((0, 3))
_NO_ENDS.flags.writeable = False

# up to this many two-surface rows (two poses) the states are checked on Python floats, and
# the third surfaces wrapped on the rows that have one (their root finding agrees with numpy's
# to 1e-12, not to the bit: hipmodel's blocks are never a pose or two)
FEW_ROWS = 16


def _both_engaged(
    p: Array, s: Array, c0: Array, c1: Array, basis0: Array, e31: Array, st: _Static,
    rows: Index,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], Array, list[Array]]:
    """Closed form of the path over two parallel cylinders, both engaged, on the two-surface
    rows ``rows`` (p, s, the centres, surface 0's kernel basis and surface 1's axis are theirs).

    In the plane across the axes: tangent from p to circle 0, arc, common tangent to circle 1,
    arc, tangent to s; along the axes the path climbs evenly with planar arc length (the
    surfaces develop into a plane, where the shortest path is straight). Returns where the
    closed form applies (parallel cylinders), where this state exists (both ends outside, a
    common tangent), its length, and the tangent points [t_in0, t_out0, t_in1, t_out1] in the
    model frame.
    """
    const = st.closed_rows.take(rows, axis=0)
    r0, r1, sg0, sg0_r0, pi_if_ccw0 = const[:, 0], const[:, 1], const[:, 2], const[:, 4], const[:, 5]
    frame = basis0.copy()  # rows: side u, axis x side v, axis (right-handed)
    frame[:, 1] *= sg0[:, None]  # undoes the sense in surface 0's basis
    e30 = frame[:, 2]
    loc = (stack1(p, s, c1) - c0[:, None]) @ frame.transpose(0, 2, 1)
    cc = loc[:, 2, :2]
    xy = loc[:, :, :2].copy()
    xy[:, 1] -= cc  # p from centre 0, s from centre 1, centre 1 from centre 0
    dist = np.hypot(xy[:, :, 0], xy[:, :, 1])
    ang = np.arctan2(xy[:, :, 1], xy[:, :, 0])
    # travel direction about the common axis: +1 counter-clockwise
    sg1 = const[:, 3] * np.sign(np.add.reduce(e31 * e30, axis=1))
    tilt = cross(e30, e31)
    parallel = (np.add.reduce(tilt * tilt, axis=1) < 1e-18) & st.cylinders[rows]
    rho = sg1 * r1 - sg0_r0
    ok = parallel & (dist[:, 0] > r0) & (dist[:, 1] > r1) & (np.abs(rho) < dist[:, 2])
    num = np.empty((len(p), 3))  # radii and rho
    num[:, :2], num[:, 2] = const[:, :2], rho
    beta = np.arccos(np.minimum(np.maximum(num / np.maximum(dist, 1e-300), -1.0), 1.0))
    turn = np.empty_like(ang)
    turn[:, 0] = ang[:, 0] + sg0 * beta[:, 0]  # tangent from p, about centre 0
    turn[:, 2] = ang[:, 1] - sg1 * beta[:, 1]  # tangent to s, about centre 1
    # common tangent: left normal (cos phi, sin phi) of the travel direction with
    # (c1 - c0) . normal = rho; its tangent points are centre_k - sg_k r_k normal, at angle
    # phi, or phi + pi where counter-clockwise
    turn[:, 1] = phi = ang[:, 2] + beta[:, 2]
    span = np.empty_like(ang[:, :2])
    span[:, 0] = sg0 * (phi + pi_if_ccw0 - turn[:, 0])
    span[:, 1] = sg1 * (turn[:, 2] - phi - (sg1 > 0) * np.pi)
    span = np.mod(span, TWO_PI)
    span[span > TWO_PI - 1e-9] = 0.0
    ok &= (span[:, 0] < SPAN_LIMIT) & (span[:, 1] < SPAN_LIMIT)
    trig = np.empty((len(p), 3, 2))
    trig[:, :, 0], trig[:, :, 1] = np.cos(turn), np.sin(turn)
    cos, sin, normal = trig[:, :, 0], trig[:, :, 1], trig[:, 1]
    t0 = -sg0_r0[:, None] * normal
    t1 = cc - (sg1 * r1)[:, None] * normal
    legs = np.sqrt(np.maximum(dist[:, :2] ** 2 - const[:, 6:8], 0.0))
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
    tr = {b: np.asarray(transforms[b], float)[None] for b in ("femur_r", "tibia_r", "patella_r")}
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
