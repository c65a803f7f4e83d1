"""Muscle paths over analytic wrap cylinders, vectorised over poses.

A wrap cylinder is fixed in a body and has a *side*: the half-space the muscle must stay in.
The segment that crosses the wrap's joint is replaced by tangent line, helical arc, tangent line
whenever the straight segment would cut the cylinder **or pass behind it** (through the bone the
cylinder stands for), unless the arc would exceed half a turn (SPAN_LIMIT: the segment then
stops short of the cylinder; on a segment with one surface, a segment that cuts the cylinder
still wraps it). Engaging only by touching the cylinder on its free side keeps length and moment
arm continuous. The "behind" rule is what stops iliopsoas from sliding off the pelvic brim at
deep flexion, the failure of published OpenSim models (biomechanics.md section 2), where the path
only wraps while it intersects the surface and a conditional via point switches off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hipflex.anatomy import Wrap
from hipflex.model.kinematics import PatellaCoupling
from hipflex.model.paths import line_points
from hipflex.model.skeleton import LineGeometry, ModelContext

Array = NDArray[np.float64]
Bools = NDArray[np.bool_]
ARC_SAMPLES = 8
TWO_PI = 2 * np.pi
# A wrap engages while its arc, measured in the wrapping sense from the tangent point seen from
# p to the one seen from s, is shorter than this; on a segment with one surface, also whatever
# its arc where the straight segment itself cuts the surface (passes within the radius of the
# axis between p and s). A straight segment that stops short of the surface, although its line
# would pass within the radius, has an "arc" of more than half a turn (the two tangent points in
# the wrong order; 246-310 deg for the hamstrings and gracilis past 100-127 deg of knee
# flexion): that segment is clear of the surface, and wrapping it would add most of a
# circumference in one step. Real wraps grow from a zero arc, and one that grows past half a
# turn is still real while the straight segment would cut the surface: gluteus maximus's upper
# line round the back of the hip passes half a turn at about 125 deg of flexion with 35 deg of
# internal rotation, and until session 18 it dropped its wrap there, shortening by up to 5 cm
# in one degree and running 12-15 mm into the femur. Segments with two or three surfaces keep the plain limit: their states (twowrap) count a
# segment that cuts a surface as touching it and resolve it there, and a long arc over one of
# them alone would make a state consistent that is not (tensor fasciae latae round the femoral
# shaft cylinder in extension with internal rotation: 2 mm shorter for a fraction of a degree).
SPAN_LIMIT = 1.0 * np.pi
# each component's next and the one after (y z x, z x y): a x b = a_next b_after - a_after b_next
_NEXT, _AFTER = np.array([1, 2, 0]), np.array([2, 0, 1])


def stack1(*arrays: Array) -> Array:
    """``np.stack(arrays, axis=1)``, faster on the small arrays of a single pose."""
    first = arrays[0]
    out = np.empty((first.shape[0], len(arrays), *first.shape[1:]))
    for i, a in enumerate(arrays):
        out[:, i] = a
    return out


CROSS_TAKE = 512  # up to this many vectors the permuted products are the cheaper cross product


def cross(a: Array, b: Array) -> Array:
    """Row-wise cross product of (..., 3) arrays: on the small arrays of a single pose from the
    components permuted by ``take`` (two products and a difference: half the time of an einsum
    with the Levi-Civita symbol, much less than np.cross), component by component on large
    ones (where the permuted copies cost more); both give the same bits."""
    if max(a.size, b.size) <= 3 * CROSS_TAKE:
        a1, a2 = a.take(_NEXT, axis=-1), a.take(_AFTER, axis=-1)
        b1, b2 = b.take(_NEXT, axis=-1), b.take(_AFTER, axis=-1)
        return a1 * b2 - a2 * b1
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    out[..., 0] = a1 * b2 - a2 * b1
    out[..., 1] = a2 * b0 - a0 * b2
    out[..., 2] = a0 * b1 - a1 * b0
    return out


@dataclass(frozen=True)
class Cylinder:
    """A wrap surface in its body frame: centre, unit axis, unit side, radius, and its kind.

    ``kind`` "cylinder": an infinite cylinder about ``axis``; the path wraps on a helix.
    ``kind`` "sphere": the path wraps on the great circle in the plane through its two end points
    and the centre, the shorter way round (the shortest path over a sphere), whatever ``axis``
    and the sense say; ``side`` only names where the path is expected to pass (a test checks the
    hamstrings pass behind the femoral head). In the plane through its centre across ``axis`` it
    wraps like a cylinder of the same radius wherever the cylinder takes the shorter way. An
    earlier rule oriented the plane along ``axis`` with a fixed sense: it flipped the way round,
    by up to a quarter metre, whenever hip adduction or rotation turned the plane through the
    axis.
    """

    body: str
    centre: Array
    axis: Array
    side: Array
    radius: float
    kind: str = "cylinder"

    @classmethod
    def from_wrap(cls, wrap: Wrap) -> Cylinder:
        if wrap.type not in ("cylinder", "sphere") or wrap.axis is None or wrap.side is None:
            raise ValueError(
                f"wrap {wrap.id}: only cylinders and spheres with an axis and a side are supported"
            )
        axis = np.asarray(wrap.axis, float) / np.linalg.norm(wrap.axis)
        side = np.asarray(wrap.side, float)
        side = side - (side @ axis) * axis
        return cls(wrap.body, np.asarray(wrap.centre, float), axis, side / np.linalg.norm(side),
                   float(wrap.radius), wrap.type)  # fmt: skip


WrapResult = tuple[Array | None, NDArray[np.bool_], Array, Array, Array]


def _wrap_segment(
    p: Array,
    s: Array,
    cyl_t: Array,
    cyl: Cylinder,
    sense: Array,
    points: bool = True,
    past_half: Bools | None = None,
) -> WrapResult:
    """Wrap segments p->s (N, 3) over a surface posed by ``cyl_t`` (N, 4, 4).

    ``sense`` (N,) is +1 or -1 (counter-clockwise or clockwise about the axis). Returns the
    inserted points (N, ARC_SAMPLES + 2, 3) (tangent, arc, tangent; all equal to ``p`` where
    there is no wrap) or None, the mask of wrapped rows, the exact p->s path length (tangent
    lines plus helix or great-circle arc, or the straight line), and the entry and exit tangent
    points.
    """
    rot = cyl_t[:, :3, :3]
    c = rot @ cyl.centre + cyl_t[:, :3, 3]
    e3 = rot @ cyl.axis
    e1 = rot @ cyl.side
    sphere = np.full(p.shape[0], cyl.kind == "sphere")
    return wrap_rows(p, s, c, e1, e3, sense, np.full(p.shape[0], cyl.radius), sphere, points,
                     past_half)  # fmt: skip


def surface_basis(
    p: Array, s: Array, c: Array, e1: Array, e3: Array, sense: Array, sphere: NDArray[np.bool_]
) -> Array:
    """Per-row local axes (N, 3, 3), rows e1, e2, e3, in which the path p->s wraps counter-
    clockwise about e3 (``sense`` -1 mirrors e2)."""
    if sphere.any():
        # Sphere: the great circle through p and s in the plane through p, s and the centre,
        # the shorter way round (a geodesic): the normal is (p - c) x (s - c) as it comes, so
        # going counter-clockwise from p to s turns through less than half a turn, whatever
        # the sense. Where p, s and the centre are in line, both ways are equally long; the
        # plane of the line and the side is taken. Computed on the sphere rows only (each
        # row's numbers are its own: the batch's mixed rows cost what their spheres do).
        k = slice(None) if sphere.all() else np.flatnonzero(sphere)
        pk, sk, ck, side = p[k], s[k], c[k], e1[k]
        n = cross(pk - ck, sk - ck)
        size = np.sqrt(np.add.reduce(n * n, axis=1))
        n /= np.maximum(size, 1e-300)[:, None]
        in_line = size <= 1e-15
        if in_line.any():
            j = np.flatnonzero(in_line)
            ref = cross(side[j], sk[j] - pk[j])
            ref_size = np.sqrt(np.add.reduce(ref * ref, axis=1))
            n[j] = np.where((ref_size > 1e-15)[:, None],
                            ref / np.maximum(ref_size, 1e-300)[:, None], e3[k][j])  # fmt: skip
        side = side - np.add.reduce(side * n, axis=1)[:, None] * n
        side /= np.maximum(np.sqrt(np.add.reduce(side * side, axis=1)), 1e-300)[:, None]
        e1, e3, sense = e1.copy(), e3.copy(), sense.copy()
        e1[k], e3[k], sense[k] = side, n, 1.0
    e2 = sense[:, None] * cross(e3, e1)  # sense -1 mirrors the plane: always CCW below
    return np.concatenate((e1, e2, e3), axis=1).reshape(-1, 3, 3)  # rows: local axes


def cuts_disc(x0: Array, y0: Array, dx: Array, dy: Array, size2: Array, h: Array, r: Array) -> Bools:
    """Whether a segment cuts the surface in its cross-section: it passes within the radius ``r``
    of the axis (``h``, the axis's signed distance from its line) and the axis's foot on it lies
    between its ends. The segment starts at (x0, y0) with step (dx, dy); ``size2`` is the step's
    squared length (floored above zero). The kernel keeps a one-surface wrap past half a turn
    there, and twowrap counts such a segment as touching the surface."""
    foot = -(x0 * dx + y0 * dy) / size2
    return np.asarray((np.abs(h) < r) & (foot > 0.0) & (foot < 1.0))


def shrunk_radius(r: Array, dist_p: Array, dist_s: Array | None = None) -> Array:
    """The radius a wrap uses: an end inside the surface (an attachment on the bone the surface
    stands for) shrinks it to just under that end's distance from the axis, so the path runs
    over the bone to it instead of dropping the wrap. Every engagement test uses this.
    Without ``dist_s``, ``dist_p`` is the nearer end's distance already."""
    return np.minimum(r, (dist_p if dist_s is None else np.minimum(dist_p, dist_s)) * (1.0 - 1e-9))


def wrap_rows(
    p: Array,
    s: Array,
    c: Array,
    e1: Array,
    e3: Array,
    sense: Array,
    r: Array,
    sphere: NDArray[np.bool_],
    points: bool = True,
    past_half: Bools | None = None,
) -> WrapResult:
    """The wrap kernel, one surface per row: centre ``c``, side ``e1`` and axis ``e3`` (N, 3) in
    the model frame, ``sense`` and radius ``r`` (N,), ``sphere`` (N,) bool. See _wrap_segment
    and, for ``past_half``, wrap_in_basis."""
    basis = surface_basis(p, s, c, e1, e3, sense, sphere)
    return wrap_in_basis(p, s, c, basis, r, points, past_half)


def wrap_in_basis(
    p: Array, s: Array, c: Array, basis: Array, r: Array, points: bool,
    past_half: Bools | None = None,
) -> WrapResult:
    """``wrap_rows`` with the local axes (``surface_basis``) already known. ``past_half`` (N,)
    marks the rows of segments with one surface, which keep a wrap past half a turn while the
    straight segment cuts the surface (SPAN_LIMIT); None, no row.

    Works on contiguous per-coordinate rows (x, y, z of p and s, each (2, N)): on the few rows
    of one pose numpy's per-call cost dominates, and strided or broadcast operands cost it two
    to four times as much as contiguous ones.
    """
    n = len(p)
    d = np.empty((n, 3, 2))
    d[:, :, 0] = p - c
    d[:, :, 1] = s - c
    x, y, z = (basis @ d).transpose(1, 2, 0).copy()  # local coordinates, rows p and s
    dist = np.hypot(x, y)  # p and s from the axis
    closest = np.minimum(dist[0], dist[1])  # the nearer end's distance from the axis
    r = shrunk_radius(r, closest)
    r2 = np.empty((2, n))
    r2[0] = r2[1] = r
    dx, dy = x[1] - x[0], y[1] - y[0]
    # Signed distance of the axis from the line p->s, positive on the line's left. Wrapping
    # counter-clockwise, the cylinder must stay on the left: wrap whenever it is not clear of it.
    h = (dy * x[0] - dx * y[0]) / np.maximum(np.hypot(dx, dy), 1e-12)
    th = np.arctan2(y, x)
    beta = np.arccos(r2 / np.maximum(dist, r2))  # tangent angles seen from p and s
    start = th[0] + beta[0]
    span = np.mod(th[1] - beta[1] - start, TWO_PI)
    span[span > TWO_PI - 1e-9] = 0.0
    near = (h < r) & (closest > r)
    wrapped = near & (span < SPAN_LIMIT)
    long = None if past_half is None else (near > wrapped) & past_half
    # (count_nonzero: half the cost of .any() on a pose's rows)
    if long is not None and np.count_nonzero(long):  # where the segment itself cuts the surface
        # (passes within the radius, the axis's foot on it between p and s), the wrap is real
        # whatever its arc
        k = np.flatnonzero(long)
        size2 = np.maximum(dx[k] ** 2 + dy[k] ** 2, 1e-300)
        wrapped[k] = cuts_disc(x[0, k], y[0, k], dx[k], dy[k], size2, h[k], r[k])
    legs = np.sqrt(np.maximum(dist**2 - r2**2, 0.0))  # tangent line lengths in the plane
    l_in, arc = legs[0], r * span
    planar = l_in + arc + legs[1]
    z0 = z[0]
    dz = z[1] - z0
    v = s - p
    length = np.where(wrapped, np.sqrt(planar**2 + dz**2), np.sqrt(np.einsum("ij,ij->i", v, v)))
    slope = dz / np.maximum(planar, 1e-12)
    ends = np.empty((2, n))
    ends[0] = start
    ends[1] = start + span
    local = np.empty((3, 2, n))  # tangent points, local: x, y, z of entry and exit
    local[0] = r2 * np.cos(ends)
    local[1] = r2 * np.sin(ends)
    local[2, 0] = z0 + slope * l_in
    local[2, 1] = z0 + slope * (l_in + arc)
    tangents = np.ascontiguousarray(local.transpose(2, 1, 0)) @ basis + c[:, None]
    t_in, t_out = tangents[:, 0], tangents[:, 1]
    if not points:
        return None, wrapped, length, t_in, t_out
    rr = r[:, None]
    frac = np.linspace(0.0, 1.0, ARC_SAMPLES + 2)
    ang = start[:, None] + span[:, None] * frac[None]
    along = l_in[:, None] + arc[:, None] * frac[None]
    z = z0[:, None] + slope[:, None] * along
    arc_pts = np.stack([rr * np.cos(ang), rr * np.sin(ang), z], axis=-1)
    world = np.einsum("nki,nij->nkj", arc_pts, basis) + c[:, None]
    world = np.where(wrapped[:, None, None], world, p[:, None])
    return world, wrapped, length, t_in, t_out


def _segment_for(line: LineGeometry, wrap: Wrap) -> int:
    """Index of the segment that crosses the wrap's joint."""
    bodies = line.bodies
    if wrap.id.startswith("distal_femur"):
        return next(i for i, b in enumerate(bodies) if b in KNEE_DISTAL) - 1
    return next(i for i, b in enumerate(bodies) if b != "pelvis") - 1


def added_surface(wraps: list[tuple[Cylinder, Array]]) -> int:
    """Which of a segment's three surfaces is resolved as an addition to the path over the other
    two (threewrap): the middle one where the first and last are fixed to one body (the
    hamstrings: the femoral-head sphere and the condyle cylinder, with the back of the proximal
    femur between them), else the last (iliopsoas: the brim and the head on the pelvis, then the
    femoral neck on the femur)."""
    return 1 if wraps[0][0].body == wraps[2][0].body else 2


def _third_senses(
    lines: list[LineGeometry],
    seg: int,
    first_two: list[tuple[Cylinder, Array]],
    cyl: Cylinder,
    neutral: dict[str, Array],
    middle: bool = False,
) -> list[float]:
    """Sense of a third surface in a row, per line, at the neutral pose: the muscle passes the
    side direction on its way from where the other two surfaces' path leaves them (their last
    tangent point, or the proximal point) to the distal point, or, for a surface between them
    (``middle``), along their path's bridge: from the first's exit (or the proximal point) to the
    last's entry (or the distal point). The whole segment's direction (the rule for the other
    two) can point the other way about a surface that lies along the path's last stretch, as the
    femoral neck's does."""
    from hipflex.model.twowrap import resolve  # it builds on this module's kernel

    p = np.stack([line_points(ln, neutral)[0][seg] for ln in lines])
    s = np.stack([line_points(ln, neutral)[0][seg + 1] for ln in lines])
    n = len(lines)
    surfaces = []
    for c, sg in first_two:
        t = neutral[c.body][0]
        surfaces.append((np.tile(t[:3, :3] @ c.centre + t[:3, 3], (n, 1)),
                         np.tile(t[:3, :3] @ c.side, (n, 1)), np.tile(t[:3, :3] @ c.axis, (n, 1)),
                         np.asarray(sg, float), np.full(n, c.radius),
                         np.full(n, c.kind == "sphere")))  # fmt: skip
    two = resolve(p, s, surfaces[0], surfaces[1])
    last = np.where(two.on1[:, None], two.tangents[3], np.where(two.on0[:, None],
                                                                two.tangents[1], p))  # fmt: skip
    if middle:
        last = np.where(two.on0[:, None], two.tangents[1], p)
        s = np.where(two.on1[:, None], two.tangents[2], s)
    t = neutral[cyl.body][0]
    e2 = np.cross(t[:3, :3] @ cyl.axis, t[:3, :3] @ cyl.side)
    return [1.0 if d @ e2 >= 0 else -1.0 for d in s - last]


@dataclass
class _Group:
    """Lines that share bodies and wraps, evaluated together as one (poses x lines) batch."""

    index: NDArray[np.int64]  # positions in ModelContext.lines
    bodies: tuple[str, ...]
    points: Array  # (L, k, 3), each point in its body's frame
    segments: dict[int, list[tuple[Cylinder, Array]]]  # wraps per segment, sense per line


class PathSet:
    """Every line of action of a model, grouped for vectorised evaluation over poses."""

    def __init__(self, ctx: ModelContext) -> None:
        from hipflex.model.kinematics import body_transforms

        self.n_lines = len(ctx.lines)
        self.patella: PatellaCoupling = ctx.skeleton.patella
        self.knee_axis: Array = ctx.skeleton.knee_axis_in_femur
        self.line_group: dict[str, tuple[int, int]] = {}
        keyed: dict[
            tuple[tuple[str, ...], tuple[tuple[int, str], ...], tuple[str, ...]], list[int]
        ] = {}
        for i, line in enumerate(ctx.lines):
            segs = tuple(sorted((_segment_for(line, ctx.anatomy.wraps[w]), w) for w in line.wraps))
            keyed.setdefault((line.bodies, segs, tuple(line.wraps)), []).append(i)
        neutral = body_transforms(ctx.skeleton)
        self.groups: list[_Group] = []
        for (bodies, _, wraps), members in keyed.items():
            lines = [ctx.lines[i] for i in members]
            pts = np.stack([ln.points for ln in lines])
            segments: dict[int, list[tuple[Cylinder, Array]]] = {}
            for wid in wraps:  # path order, as listed in the data
                wrap = ctx.anatomy.wraps[wid]
                cyl = Cylinder.from_wrap(wrap)
                seg = _segment_for(lines[0], wrap)
                # Sense fixed once, at the neutral pose: the muscle passes the side direction on
                # its way from the proximal to the distal point.
                t = neutral[cyl.body][0]
                e2 = np.cross(t[:3, :3] @ cyl.axis, t[:3, :3] @ cyl.side)
                senses = []
                for ln in lines:
                    p = line_points(ln, neutral)[0]
                    senses.append(1.0 if (p[seg + 1] - p[seg]) @ e2 >= 0 else -1.0)
                segments.setdefault(seg, []).append((cyl, np.array(senses)))
                if len(segments[seg]) > 3:
                    raise NotImplementedError(
                        f"{lines[0].muscle}: more than three wrap surfaces on one segment"
                    )
            for seg, row in segments.items():
                if len(row) == 3:  # the added surface's sense from the other two's path
                    k = added_surface(row)
                    others = [x for j, x in enumerate(row) if j != k]
                    row[k] = (row[k][0], np.array(_third_senses(lines, seg, others, row[k][0],
                                                                neutral, middle=k == 1)))  # fmt: skip
            for k, i in enumerate(members):
                self.line_group[ctx.lines[i].name] = (len(self.groups), k)
            self.groups.append(_Group(np.array(members), bodies, pts, segments))

    def evaluate(
        self,
        transforms: dict[str, Array],
        with_points: bool = False,
        hip_flexion_deg: Array | None = None,
        only_group: int | None = None,
    ) -> tuple[Array, list[Array | None], Array | None]:
        """Lengths (n_poses, n_lines), each group's points (n, L, m, 3) if asked, and, given the
        hip flexion angles, moment arms (n_poses, n_lines, 4) about hip flexion, adduction,
        rotation and knee flexion.

        Moment arms come from geometry (virtual work): the force acts on the distal bodies where
        the path leaves the proximal ones, so r_q = ((b - joint centre) x u) . axis_q, with the
        axis of coordinate q from the joint's rotation sequence. A test checks them against the
        length derivative. ``only_group`` evaluates one group (the others' columns stay unset).
        """
        n = next(iter(transforms.values())).shape[0]
        lengths = np.empty((n, self.n_lines))
        group_points: list[Array | None] = []
        arms = None if hip_flexion_deg is None else np.zeros((n, self.n_lines, 4))
        if arms is not None:
            assert hip_flexion_deg is not None
            femur = transforms["femur_r"]
            fl = np.radians(hip_flexion_deg)
            axes = {
                "hip": np.stack([np.broadcast_to([0.0, 0.0, 1.0], (n, 3)),  # flexion: pelvis z
                                 np.stack([np.cos(fl), np.sin(fl), np.zeros(n)], axis=1),
                                 femur[:, :3, 1]], axis=1),  # adduction, rotation
                "knee": -femur[:, None, :3, 2],  # knee flexion: about the femur's -z
            }  # fmt: skip
            centres = {"hip": femur[:, :3, 3], "knee": knee_axis_point(femur, self.knee_axis)}
        groups = self.groups if only_group is None else [self.groups[only_group]]
        for g in groups:
            n_l = len(g.index)
            pts = np.empty((n, n_l, len(g.bodies), 3))
            for body in set(g.bodies):
                sel = [i for i, b in enumerate(g.bodies) if b == body]
                t = transforms[body]
                pts[:, :, sel] = (
                    np.einsum("nij,lkj->nlki", t[:, :3, :3], g.points[:, sel])
                    + t[:, None, None, :3, 3]
                )
            flat = pts.reshape(n * n_l, len(g.bodies), 3)
            total = np.zeros(n * n_l)
            pieces: list[Array] = [flat[:, :1]]
            every = np.ones(n * n_l, bool)
            candidates: list[_Candidate] = [(flat[:, 0], g.bodies[0], every)]
            for i in range(len(g.bodies) - 1):
                p, s = flat[:, i], flat[:, i + 1]
                if i in g.segments:
                    seg_pts, seg_len, cands = self._sequence(
                        p, s, g.segments[i], transforms, n_l, with_points
                    )
                    total += seg_len
                    candidates += cands
                    if with_points and seg_pts is not None:
                        pieces.append(seg_pts)
                else:
                    total += np.linalg.norm(s - p, axis=1)
                pieces.append(flat[:, i + 1 : i + 2])
                candidates.append((flat[:, i + 1], g.bodies[i + 1], every))
            lengths[:, g.index] = total.reshape(n, n_l)
            if arms is not None:
                for joint, cols in (("hip", [0, 1, 2]), ("knee", [3])):
                    pair = _force_pair(candidates, PROXIMAL[joint])
                    if pair is None:
                        continue
                    a, b = (q.reshape(n, n_l, 3) for q in pair)
                    u = a - b
                    u /= np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-12)
                    if joint == "knee" and acts_on_patella(body for _, body, _ in candidates):
                        arms[:, g.index, 3] = patella_knee_arm(b, u, transforms, self.patella)
                        continue
                    moment = np.cross(b - centres[joint][:, None], u)  # (n, L, 3)
                    arms[:, g.index[:, None], cols] = np.einsum("nlk,nck->nlc", moment, axes[joint])
            if with_points:
                allp = np.concatenate(pieces, axis=1)
                group_points.append(allp.reshape(n, n_l, -1, 3))
            else:
                group_points.append(None)
        return lengths, group_points, arms

    @staticmethod
    def _sequence(
        p: Array,
        s: Array,
        wraps: list[tuple[Cylinder, Array]],
        transforms: dict[str, Array],
        n_lines: int,
        with_points: bool,
    ) -> tuple[Array | None, Array, list[_Candidate]]:
        """Wrap p->s over one surface, or two in order (their states, ``twowrap.resolve``), or
        three (``threewrap``: the one ``added_surface`` names added to the path over the other
        two, last by ``resolve_chain``, in the middle by ``resolve_middle``).

        Returns the points (or None), the length, and the tangent points as candidates for the
        points where the muscle's force acts on each body.
        """
        n_rows = p.shape[0]
        cyl_t = [np.repeat(transforms[c.body], n_lines, axis=0) for c, _ in wraps]
        senses = [np.tile(sg, n_rows // n_lines) for _, sg in wraps]
        if len(wraps) == 1:
            cyl = wraps[0][0]
            single, on, length, t_in, t_out = _wrap_segment(
                p, s, cyl_t[0], cyl, senses[0], with_points, np.ones(n_rows, bool)
            )
            return single, length, [(t_in, cyl.body, on), (t_out, cyl.body, on)]
        from hipflex.model.threewrap import (  # they build on this module's kernel
            resolve_chain,
            resolve_middle,
        )
        from hipflex.model.twowrap import resolve

        surfaces = []
        for k, (cyl, _) in enumerate(wraps):
            rot = cyl_t[k][:, :3, :3]
            surfaces.append((rot @ cyl.centre + cyl_t[k][:, :3, 3], rot @ cyl.side,
                             rot @ cyl.axis, senses[k], np.full(n_rows, cyl.radius),
                             np.full(n_rows, cyl.kind == "sphere")))  # fmt: skip
        if len(wraps) == 3:
            if added_surface(wraps) == 1:
                chain = resolve_middle(p, s, surfaces)
            else:
                chain = resolve_chain(p, s, surfaces)
            candidates = [(t, wraps[k // 2][0].body, chain.on[k // 2])
                          for k, t in enumerate(chain.tangents)]  # fmt: skip
            if not with_points:
                return None, chain.length, candidates
            # a surface not drawn repeats the last point drawn before it (or p), so its
            # points add nothing to the drawn path's length (``threewrap.drawn_length``)
            shown, last = [], p
            for k, surface in enumerate(surfaces):
                world, on, _, _, _ = wrap_rows(chain.starts[k], chain.ends[k], *surface, True)
                assert world is not None
                shown.append(np.where((on & chain.on[k])[:, None, None], world, last[:, None]))
                last = shown[-1][:, -1]
            return np.concatenate(shown, axis=1), chain.length, candidates
        (c0, _), (c1, _) = wraps
        two = resolve(p, s, surfaces[0], surfaces[1], distal=np.full(n_rows, c0.body != c1.body))
        candidates = [
            (two.tangents[0], c0.body, two.on0), (two.tangents[1], c0.body, two.on0),
            (two.tangents[2], c1.body, two.on1), (two.tangents[3], c1.body, two.on1),
        ]  # fmt: skip
        if not with_points:
            return None, two.length, candidates
        shown = []
        for surface, start, end, used in ((surfaces[0], p, two.end0, two.on0),
                                          (surfaces[1], two.start1, s, two.on1)):  # fmt: skip
            world, on, _, _, _ = wrap_rows(start, end, *surface, True)
            assert world is not None
            shown.append(np.where((on & used)[:, None, None], world, start[:, None]))
        return np.concatenate(shown, axis=1), two.length, candidates


_Candidate = tuple[Array, str, NDArray[np.bool_]]  # point (N, 3), body, engaged (N,)
PROXIMAL = {"hip": ("pelvis",), "knee": ("pelvis", "femur_r")}
KNEE_DISTAL = ("tibia_r", "patella_r")


def acts_on_patella(bodies: Iterable[str]) -> bool:
    """Whether a line whose path touches ``bodies`` (its points' and wrap surfaces') acts past
    the knee on the patella alone (rectus femoris's insertion); a line whose distal bodies mix
    the patella and the tibia is not modelled."""
    distal = {body for body in bodies if body not in PROXIMAL["knee"]}
    if "patella_r" in distal and distal != {"patella_r"}:
        raise NotImplementedError("a line with points on both the patella and the tibia")
    return distal == {"patella_r"}


def _patella_arm_one(
    b: list[float], u: list[float], femur: list[list[float]], tibia: list[list[float]],
    patella_t: list[list[float]], patella: PatellaCoupling,
) -> float:
    """``patella_knee_arm`` for one pose and one line, on floats (the same sums)."""
    (f00, f01, f02, _), (f10, f11, f12, _), (f20, f21, f22, _) = femur[:3]
    cos = f00 * tibia[0][0] + f10 * tibia[1][0] + f20 * tibia[2][0]
    sin = f00 * tibia[0][1] + f10 * tibia[1][1] + f20 * tibia[2][1]
    _, (turn_rate, dx, dy) = patella.at_one(math.atan2(sin, cos))
    r0, r1, r2 = b[0] - patella_t[0][3], b[1] - patella_t[1][3], b[2] - patella_t[2][3]
    u0, u1, u2 = u
    # about the femur's -z: -(z . (r x u))
    turn = -(f02 * (r1 * u2 - r2 * u1) + f12 * (r2 * u0 - r0 * u2) + f22 * (r0 * u1 - r1 * u0))
    slide = (u0 * (f00 * dx + f01 * dy) + u1 * (f10 * dx + f11 * dy)
             + u2 * (f20 * dx + f21 * dy))  # fmt: skip
    return turn_rate * turn + slide


def knee_angle(transforms: Mapping[str, Array]) -> Array:
    """Knee flexion (rad, n) recovered from the femur and tibia transforms (tibia = femur
    Rz(-knee))."""
    f, t = transforms["femur_r"][:, :3, 0], transforms["tibia_r"][:, :3]
    return np.arctan2(np.einsum("ni,ni->n", f, t[:, :, 1]), np.einsum("ni,ni->n", f, t[:, :, 0]))


def knee_axis_point(femur: Array, axis_in_femur: Array) -> Array:
    """The knee axis's point (n, 3) in the model frame: the femur-fixed point the tibia turns
    about (not the tibia's origin, which moves about it)."""
    return femur[:, :3, :3] @ axis_in_femur + femur[:, :3, 3]


def patella_knee_arm(
    b: Array, u: Array, transforms: Mapping[str, Array], patella: PatellaCoupling
) -> Array:
    """Knee-flexion moment arm (n, L) of lines whose force ``u`` (unit, toward the proximal
    point) acts at ``b`` on the patella (virtual work: r = u . db/dknee). The patella does not
    turn about the knee axis: it turns at the coupling's rate p' about the femur's -z through its
    own origin while that origin slides by d', so db/dknee = p' (-z) x (b - o) + R_femur d'."""
    femur = transforms["femur_r"]
    if femur.shape[0] == 1 and b.shape[1] == 1:  # one pose, one line (a slider step): floats
        return np.array([[_patella_arm_one(b[0, 0].tolist(), u[0, 0].tolist(), femur[0].tolist(),
                                           transforms["tibia_r"][0].tolist(),
                                           transforms["patella_r"][0].tolist(), patella)]])  # fmt: skip
    _, rate = patella.at(knee_angle(transforms))
    axis = -femur[:, :3, 2]
    o = transforms["patella_r"][:, None, :3, 3]
    slide = femur[:, :3, 0] * rate[:, 1:2] + femur[:, :3, 1] * rate[:, 2:3]  # (n, 3)
    turn = np.einsum("ni,nli->nl", axis, cross(b - o, u))  # (np.cross: the same, slower)
    return rate[:, :1] * turn + np.einsum("nli,ni->nl", u, slide)


def _force_pair(
    candidates: list[_Candidate], proximal: tuple[str, ...]
) -> tuple[Array, Array] | None:
    """Where the path crosses from ``proximal`` bodies to distal ones: (last proximal, first
    distal) point per row, or None if the path never crosses."""
    first, last = candidates[0], candidates[-1]
    if first[1] not in proximal or last[1] in proximal:
        return None
    a = first[0]
    for point, body, on in candidates[1:-1]:
        if body in proximal:
            a = np.where(on[:, None], point, a)
    b = last[0]
    for point, body, on in reversed(candidates[1:-1]):
        if body not in proximal:
            b = np.where(on[:, None], point, b)
    return a, b


def path_set(ctx: ModelContext) -> PathSet:
    """The (cached) PathSet of a model context."""
    if ctx.path_set is None:
        ctx.path_set = PathSet(ctx)
    return ctx.path_set  # type: ignore[return-value]


def wrapped_path(ctx: ModelContext, line: LineGeometry, transforms: dict[str, Array]) -> Array:
    """Path points (n_poses, k, 3) of one line in the model frame, wraps applied."""
    ps = path_set(ctx)
    g, k = ps.line_group[line.name]
    _, points, _ = ps.evaluate(transforms, with_points=True, only_group=g)
    assert points[0] is not None
    return points[0][:, k]


def path_point_bodies(ctx: ModelContext, line: LineGeometry) -> list[str]:
    """The body of each point ``wrapped_path`` returns (wrap points belong to their cylinder's)."""
    ps = path_set(ctx)
    group = ps.groups[ps.line_group[line.name][0]]
    out = [line.bodies[0]]
    for i in range(1, len(line.bodies)):
        for cyl, _ in group.segments.get(i - 1, []):
            out += [cyl.body] * (ARC_SAMPLES + 2)
        out.append(line.bodies[i])
    return out
