"""Path-following skinning: muscle surfaces that ride on their wrapped lines of action.

Linear blend skinning between pelvis, femur and tibia cannot follow a path that bends around the
hip: at deep flexion the blended vertices cut the corner (through bone) or swing away from it.
Here every vertex is bound to the nearest point of each of its muscle's lines of action, in a
frame that travels along the line (tangent plus a rotation-minimising normal), so the surface
bends where the path bends and stretches with it. Pure numpy: no VTK, so it is cheap to test.

``PathSkin.deform`` and ``pose_muscle`` pose one muscle and are the reference; ``SkinSet`` poses
many muscles at once with the same numbers (every line's frames in one set of array operations,
every vertex in one gather and product), which is what slider-rate posing needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hipflex.model.fastpath import wrapped_polylines
from hipflex.model.skeleton import BODIES, ModelContext

Array = NDArray[np.float64]
DistanceFn = Callable[[Array], Array]
SAMPLES = 48  # points per resampled line of action
END_BLEND = 0.0  # fraction of the path at each end that turns with the attachment's body
SMOOTH_SIGMA = 6.0  # samples; Gaussian width for the frames' tangents
BLEND_EPS = 1e-3  # m, softens the inverse-square line weights where a vertex sits on a line
# Unit directions tried as the reference for the projected frames (the best conditioned wins).
_REFS = np.array(
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, -1, 1], [1, 1, -1], [-1, 1, 1]], float
)
_REFS /= np.linalg.norm(_REFS, axis=1, keepdims=True)


def _unit(v: Array) -> Array:
    """Rows scaled to unit length (zero rows stay zero)."""
    n = np.sqrt(np.einsum("...i,...i->...", v, v))
    return np.asarray(v / np.maximum(n, 1e-300)[..., None])


def _cross(a: Array, b: Array) -> Array:
    """Row-wise cross product, written out (np.cross is slow on small arrays)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def _dot(a: Array, b: Array) -> Array:
    return np.asarray(np.einsum("...i,...i->...", a, b))


def _rotate_min(a: Array, b: Array, v: Array) -> Array:
    """``v`` turned by the smallest rotation that takes unit ``a`` onto unit ``b`` (rows).

    This is one step of parallel transport: it adds no twist about the direction of travel.
    """
    k = _cross(a, b)
    c = _dot(a, b)
    return np.asarray(
        v * c[..., None] + _cross(k, v) + k * (_dot(k, v) / np.maximum(1.0 + c, 1e-12))[..., None]
    )


def resample(polyline: Array, n: int = SAMPLES) -> Array:
    """``n`` points spaced evenly by arc length along ``polyline`` (k, 3), ends kept.

    Even spacing makes the point index an arc-length parameter, so a vertex bound at 30% of the
    scan-pose path sits at 30% of the posed path however the wraps redistribute the length.
    """
    p = np.asarray(polyline, float)
    seg = np.sqrt(np.einsum("ij,ij->i", np.diff(p, axis=0), np.diff(p, axis=0)))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0.0:
        return np.repeat(p[:1], n, axis=0)
    target = np.linspace(0.0, s[-1], n)
    j = np.clip(np.searchsorted(s, target, side="right") - 1, 0, len(p) - 2)
    f = (target - s[j]) / np.maximum(seg[j], 1e-300)
    f = np.clip(f, 0.0, 1.0)
    return np.asarray(p[j] + f[:, None] * (p[j + 1] - p[j]))


def _tangents(p: Array, smoothing: Array | None = None) -> Array:
    """Unit tangents at resampled points (central differences, one-sided at the ends),
    optionally averaged along the path by the ``smoothing`` matrix (see ``smoothing_matrix``)."""
    t = np.empty_like(p)
    t[1:-1] = p[2:] - p[:-2]
    t[0] = p[1] - p[0]
    t[-1] = p[-1] - p[-2]
    t = _unit(t)
    return t if smoothing is None else _unit(smoothing @ t)


def smoothing_matrix(n: int, sigma: float) -> Array:
    """(n, n) Gaussian averaging over ``sigma`` samples (rows sum to 1, window shrunk at ends).

    Frames that turn more gently than the path keep vertices on the inside of a sharp bend
    from folding over each other and spread the stretch on the outside over more of the belly.
    """
    if sigma <= 0.0:
        return np.eye(n)
    i = np.arange(n)
    w = np.exp(-0.5 * ((i[:, None] - i[None]) / sigma) ** 2)
    return np.asarray(w / w.sum(axis=1, keepdims=True))


def _projected_basis(t: Array) -> tuple[Array, Array]:
    """A twist-free-of-history normal/binormal per point: a fixed reference direction projected
    off each tangent. Any such basis works as a ruler for measuring angles about the tangent;
    the reference is chosen as far as possible from every tangent so the projection is sound."""
    ref = _REFS[int(np.argmin(np.abs(t @ _REFS.T).max(axis=0)))]
    n = _unit(ref - (t @ ref)[:, None] * t)
    return n, _cross(t, n)


def _angle_in(v: Array, n: Array, b: Array) -> Array:
    """Angle of ``v`` about the tangent, measured from ``n`` towards ``b``."""
    return np.asarray(np.arctan2(_dot(v, b), _dot(v, n)))


def path_frames(
    points: Array,
    start: Array,
    end: Array | None,
    end_blend: float = 0.0,
    smoothing: Array | None = None,
) -> tuple[Array, Array]:
    """Frames (n, 3, 3) along resampled ``points`` (n, 3); columns tangent, normal, binormal.

    ``start`` is the wanted start frame (columns, e.g. carried by the origin body); its normal,
    turned onto the actual start tangent, is parallel-transported along the path. ``end`` is the
    wanted end frame (carried by the insertion body) or None: the twist between it and the
    transported end frame is spread linearly along the path, so rotating the insertion body
    twists the distal part of the muscle and not the origin. With ``end_blend`` > 0 the frames
    over that fraction of the path at each end turn smoothly from the path's tangent to the
    body-carried frame, so the attachments move with their bones and the belly follows the
    path. Returns (frames, end twist).
    """
    t = _tangents(points, smoothing)
    pn, pb = _projected_basis(t)
    # twist increments of parallel transport between consecutive points, in the projected basis
    moved = _rotate_min(t[:-1], t[1:], pn[:-1])
    delta = _angle_in(moved, pn[1:], pb[1:])
    n0 = _rotate_min(start[:, 0], t[0], start[:, 1])
    phi = np.empty(len(t))
    phi[0] = _angle_in(n0, pn[0], pb[0])
    phi[1:] = phi[0] + np.cumsum(delta)
    twist = np.zeros(1)
    if end is not None:
        n1 = _rotate_min(end[:, 0], t[-1], end[:, 1])
        tau = _angle_in(n1, pn[-1], pb[-1]) - phi[-1]
        twist = np.atleast_1d((tau + np.pi) % (2 * np.pi) - np.pi)
        phi += twist[0] * np.linspace(0.0, 1.0, len(t))
    c, s = np.cos(phi)[:, None], np.sin(phi)[:, None]
    normal = c * pn + s * pb
    frames = np.empty((len(t), 3, 3))
    frames[:, :, 0] = t
    frames[:, :, 1] = normal
    frames[:, :, 2] = _cross(t, normal)
    if end_blend > 0.0:
        u = np.linspace(0.0, 1.0, len(t))
        _blend_ends(frames, t[0], start[:, 0], _smooth(1.0 - u / end_blend))
        if end is not None:
            _blend_ends(frames, t[-1], end[:, 0], _smooth((u - 1.0) / end_blend + 1.0))
    return frames, twist


def _smooth(x: Array) -> Array:
    """Smoothstep of ``x`` clipped to [0, 1] (zero slope at both ends: no crease)."""
    x = np.clip(x, 0.0, 1.0)
    return np.asarray(x * x * (3.0 - 2.0 * x))


def _blend_ends(frames: Array, tangent: Array, target: Array, w: Array) -> None:
    """Turn ``frames`` in place by the fraction ``w`` (per frame) of the smallest rotation that
    takes the path's end ``tangent`` onto the body-carried ``target`` tangent."""
    sel = np.flatnonzero(w > 0.0)
    axis = np.cross(tangent, target)
    size = float(np.linalg.norm(axis))
    if sel.size == 0 or size < 1e-12:
        return
    axis /= size
    angle = w[sel] * np.arctan2(size, float(tangent @ target))
    c, s = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    cols = frames[sel]  # (m, 3, 3), rotate each column about ``axis`` (Rodrigues)
    kxv = np.cross(axis, cols, axisa=0, axisb=1, axisc=1)
    kdv = np.einsum("i,mij->mj", axis, cols)[:, None, :]
    frames[sel] = cols * c + kxv * s + axis[None, :, None] * kdv * (1.0 - c)


def nearest_on_polyline(v: Array, p: Array) -> tuple[NDArray[np.int64], Array, Array]:
    """For each vertex: nearest segment of polyline ``p``, the fraction along it, the distance."""
    a = p[:-1]
    ab = p[1:] - a
    ab2 = np.maximum(np.einsum("sk,sk->s", ab, ab), 1e-300)
    f = np.clip(((v @ ab.T) - np.einsum("sk,sk->s", a, ab)[None]) / ab2, 0.0, 1.0)  # (V, S)
    closest = a[None] + f[..., None] * ab[None]
    d2 = np.einsum("vsk,vsk->vs", v[:, None] - closest, v[:, None] - closest)
    seg = np.argmin(d2, axis=1)
    rows = np.arange(len(v))
    return seg.astype(np.int64), f[rows, seg], np.sqrt(d2[rows, seg])


@dataclass
class _Binding:
    """One line's hold on every vertex: where along the path, and the offset in its frames."""

    seg: NDArray[np.int64]
    frac: Array
    start_local: Array  # start frame in the origin body's frame (columns)
    end_local: Array  # end frame in the insertion body's frame (columns)
    c0: Array  # (1 - f) * offset, in the frame of point seg
    c1: Array  # f * offset, in the frame of point seg + 1
    m0: Array  # the same for the normals
    m1: Array


class PathSkin:
    """A muscle surface bound to its lines of action at the scan pose; ``deform`` poses it.

    ``polylines`` are the wrapped lines at the scan pose (model frame), ``origin_rotations`` and
    ``insertion_rotations`` the 3x3 rotations of each line's origin and insertion bodies there.
    Each vertex is placed as a blend of two rigid placements (the frames of the path points on
    either side of it), so the surface is smooth along the path; lines are blended by inverse
    square distance, so several lines make no seams.
    """

    def __init__(
        self,
        vertices: NDArray[np.floating],
        normals: NDArray[np.floating],
        polylines: Sequence[Array],
        origin_rotations: Sequence[Array],
        insertion_rotations: Sequence[Array],
        samples: int = SAMPLES,
        end_blend: float = END_BLEND,
        smooth_sigma: float = SMOOTH_SIGMA,
    ) -> None:
        v = np.asarray(vertices, float)
        nrm = np.asarray(normals, float)
        self.samples = samples
        self.end_blend = end_blend
        self.smoothing = smoothing_matrix(samples, smooth_sigma)
        self.n_vertices = len(v)
        self.bindings: list[_Binding] = []
        dists = []
        for poly, r_o, r_i in zip(polylines, origin_rotations, insertion_rotations, strict=True):
            p = resample(poly, samples)
            t = _tangents(p, self.smoothing)
            pn, _ = _projected_basis(t[:1])
            start = np.stack([t[0], pn[0], np.cross(t[0], pn[0])], axis=1)
            frames, _ = path_frames(p, start, None, 0.0, self.smoothing)
            seg, f, d = nearest_on_polyline(v, p)
            dists.append(d)
            f0 = frames[seg]
            f1 = frames[seg + 1]
            blend = (1.0 - f)[:, None, None] * f0 + f[:, None, None] * f1
            anchor = p[seg] + f[:, None] * (p[seg + 1] - p[seg])
            off = np.linalg.solve(blend, (v - anchor)[..., None])[..., 0]
            noff = np.linalg.solve(blend, nrm[..., None])[..., 0]
            self.bindings.append(
                _Binding(
                    seg=seg,
                    frac=f,
                    start_local=np.asarray(r_o, float).T @ frames[0],
                    end_local=np.asarray(r_i, float).T @ frames[-1],
                    c0=(1.0 - f)[:, None] * off,
                    c1=f[:, None] * off,
                    m0=(1.0 - f)[:, None] * noff,
                    m1=f[:, None] * noff,
                )
            )
        w = 1.0 / (np.stack(dists) ** 2 + BLEND_EPS**2)
        self.weights = w / w.sum(axis=0, keepdims=True)  # (lines, V)
        self._single = len(self.bindings) == 1

    def deform(
        self,
        posed_polylines: Sequence[Array],
        origin_rotations: Sequence[Array],
        insertion_rotations: Sequence[Array],
    ) -> tuple[Array, Array]:
        """Vertices and unit normals (V, 3) at the pose where the lines are ``posed_polylines``
        and their origin and insertion bodies have the given 3x3 rotations."""
        pts = np.zeros((self.n_vertices, 3))
        nrm = np.zeros((self.n_vertices, 3))
        for k, (b, poly, r_o, r_i) in enumerate(
            zip(self.bindings, posed_polylines, origin_rotations, insertion_rotations, strict=True)
        ):
            p = resample(poly, self.samples)
            frames, _ = path_frames(
                p,
                np.asarray(r_o) @ b.start_local,
                np.asarray(r_i) @ b.end_local,
                self.end_blend,
                self.smoothing,
            )
            f0 = frames[b.seg]
            f1 = frames[b.seg + 1]
            anchor = p[b.seg] + b.frac[:, None] * (p[b.seg + 1] - p[b.seg])
            x = anchor + np.einsum("vij,vj->vi", f0, b.c0) + np.einsum("vij,vj->vi", f1, b.c1)
            n = np.einsum("vij,vj->vi", f0, b.m0) + np.einsum("vij,vj->vi", f1, b.m1)
            if self._single:
                return x, _unit(n)
            w = self.weights[k][:, None]
            pts += w * x
            nrm += w * n
        return pts, _unit(nrm)


def _cross_c(a: Array, b: Array) -> Array:
    """Cross product of component-first (3, ...) arrays (contiguous planes: fast ufuncs)."""
    return np.stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                     a[0] * b[1] - a[1] * b[0]])  # fmt: skip


def _dot_c(a: Array, b: Array) -> Array:
    return np.asarray(a[0] * b[0] + a[1] * b[1] + a[2] * b[2])


def _unit_c(v: Array) -> Array:
    return np.asarray(v / np.maximum(np.sqrt(_dot_c(v, v)), 1e-300))


def _rotate_min_c(a: Array, b: Array, v: Array) -> Array:
    """``_rotate_min`` on component-first arrays."""
    k = _cross_c(a, b)
    c = _dot_c(a, b)
    return np.asarray(v * c + _cross_c(k, v) + k * (_dot_c(k, v) / np.maximum(1.0 + c, 1e-12)))


def _angle_in_c(v: Array, n: Array, b: Array) -> Array:
    return np.asarray(np.arctan2(_dot_c(v, b), _dot_c(v, n)))


def _turn_c(cols: list[Array], tangent: Array, target: Array, w: Array) -> None:
    """``_blend_ends`` for many lines on component-first columns (3, L, n) in place:
    ``tangent`` and ``target`` (3, L), ``w`` (n,). A zero turn (w <= 0, or parallel tangents)
    leaves a frame exactly as it is, as the one-line version skips it."""
    axis = _cross_c(tangent, target)
    size = np.sqrt(_dot_c(axis, axis))
    k = (axis / np.maximum(size, 1e-300))[:, :, None]
    angle = np.maximum(w, 0.0)[None] * np.arctan2(size, _dot_c(tangent, target))[:, None]
    angle[size < 1e-12] = 0.0
    c, s = np.cos(angle), np.sin(angle)
    for v in cols:
        v[...] = v * c + _cross_c(k, v) * s + k * (_dot_c(k, v) * (1.0 - c))


def _frame_columns(
    points: Array, start: Array, end: Array, end_blend: float, smoothing: Array | None
) -> list[Array]:
    """``path_frames`` for L lines at once, component-first: ``points`` (3, L, n), ``start``
    and ``end`` frames (L, 3, 3) -> the frames' columns tangent, normal, binormal, (3, L, n)
    each. Every step runs once for all lines on contiguous (L, n) planes."""
    n_pts = points.shape[2]
    t = np.empty_like(points)
    t[..., 1:-1] = points[..., 2:] - points[..., :-2]
    t[..., 0] = points[..., 1] - points[..., 0]
    t[..., -1] = points[..., -1] - points[..., -2]
    t = _unit_c(t)
    if smoothing is not None:
        t = _unit_c(t @ smoothing.T)
    proj = np.abs(np.tensordot(_REFS, t, axes=(1, 0)))  # (refs, L, n)
    ref = _REFS[np.argmin(proj.max(axis=2), axis=0)].T[:, :, None]  # (3, L, 1)
    pn = _unit_c(ref - _dot_c(t, ref) * t)
    pb = _cross_c(t, pn)
    # twist increments of parallel transport between consecutive points (on contiguous copies
    # of the shifted planes: ufuncs on strided views cost half as much again)
    head, tail = (np.ascontiguousarray(t[..., :-1]), np.ascontiguousarray(t[..., 1:]))
    moved = _rotate_min_c(head, tail, np.ascontiguousarray(pn[..., :-1]))
    delta = _angle_in_c(moved, np.ascontiguousarray(pn[..., 1:]), np.ascontiguousarray(pb[..., 1:]))
    s0, e0 = start.transpose(1, 2, 0), end.transpose(1, 2, 0)  # (3 components, 3 columns, L)
    n0 = _rotate_min_c(s0[:, 0], t[..., 0], s0[:, 1])
    phi = np.empty(t.shape[1:])
    phi[:, 0] = _angle_in_c(n0, pn[..., 0], pb[..., 0])
    phi[:, 1:] = phi[:, :1] + np.cumsum(delta, axis=1)
    n1 = _rotate_min_c(e0[:, 0], t[..., -1], e0[:, 1])
    tau = _angle_in_c(n1, pn[..., -1], pb[..., -1]) - phi[:, -1]
    twist = (tau + np.pi) % (2 * np.pi) - np.pi
    phi += twist[:, None] * np.linspace(0.0, 1.0, n_pts)
    normal = np.cos(phi) * pn + np.sin(phi) * pb
    cols = [t, normal, _cross_c(t, normal)]
    if end_blend > 0.0:
        u = np.linspace(0.0, 1.0, n_pts)
        cols[0] = t.copy()
        _turn_c(cols, t[..., 0], s0[:, 0], _smooth(1.0 - u / end_blend))
        _turn_c(cols, t[..., -1], e0[:, 0], _smooth((u - 1.0) / end_blend + 1.0))
    return cols


def lines_frames(
    points: Array,
    start: Array,
    end: Array,
    end_blend: float = 0.0,
    smoothing: Array | None = None,
) -> Array:
    """``path_frames`` for L lines at once: ``points`` (L, n, 3), ``start`` and ``end``
    (L, 3, 3) -> frames (L, n, 3, 3), every step vectorised across the lines (one numpy call
    serves all of them: per-line Python overhead is what made posing slow)."""
    cols = _frame_columns(np.ascontiguousarray(points.transpose(2, 0, 1)), start, end, end_blend,
                          smoothing)  # fmt: skip
    return np.asarray(np.stack(cols, axis=-1).transpose(1, 2, 0, 3))


def resample_lines(polylines: Sequence[Array], n: int = SAMPLES) -> Array:
    """``resample`` for several polylines (any lengths) at once: (L, n, 3)."""
    gather, lens = _pad_index(tuple(len(p) for p in polylines))
    return _resample_padded(np.concatenate(polylines)[gather], lens, n)


def _pad_index(lens: tuple[int, ...]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Indices (L, k) into concatenated polylines of ``lens`` points that pad each to the
    longest by repeating its last point; and the lengths as an array."""
    n = np.array(lens, dtype=np.intp)
    off = np.concatenate([[0], np.cumsum(n)[:-1]])
    return off[:, None] + np.minimum(np.arange(max(lens))[None], n[:, None] - 1), n


def _resample_padded(p: Array, lens: NDArray[np.integer], n: int) -> Array:
    """``resample`` of (L, k, 3) polylines, each padded past its ``lens`` points by repeating
    its last point (zero-length segments change nothing)."""
    d = p[:, 1:] - p[:, :-1]
    seg = np.sqrt(_dot(d, d))  # (L, k - 1)
    s = np.zeros(p.shape[:2])
    np.cumsum(seg, axis=1, out=s[:, 1:])
    total = s[:, -1]
    target = np.arange(n) * (total / (n - 1))[:, None]  # np.linspace(0, total, n) per line
    target[:, -1] = total
    # searchsorted(s, target, "right") - 1 per line, as one search over the lines laid end to
    # end (a near-tie may pick the neighbouring segment: the same point, to rounding)
    lines, k = p.shape[0], p.shape[1]
    shift = np.arange(lines)[:, None] * (2.0 * float(total.max()) + 1.0)
    j = np.searchsorted((s + shift).ravel(), (target + shift).ravel(), side="right")
    j = np.clip(j.reshape(lines, n) - 1 - k * np.arange(lines)[:, None], 0, (lens - 2)[:, None])
    rows = np.arange(len(p))[:, None]
    f = (target - s[rows, j]) / np.maximum(seg[rows, j], 1e-300)
    f = np.clip(f, 0.0, 1.0)[..., None]
    a = p[rows, j]
    out = a + f * (p[rows, j + 1] - a)
    flat = total <= 0.0
    if flat.any():
        out[flat] = p[flat, :1]
    return np.asarray(out)


@dataclass
class _Batch:
    """What posing one set of muscles needs, flattened: their lines, and every (vertex, line)
    binding as one row. Rows of muscles with one line come first, one per vertex; then rows of
    muscles with several lines, slot-major (slot k = each vertex's k-th line, weight 0 where
    a muscle has fewer lines), so the blend is a sum over slots."""

    names: list[str]  # line names, local line index order
    origin: NDArray[np.intp]  # per line, index into bodies
    insertion: NDArray[np.intp]
    bodies: list[str]
    start_local: Array  # (L, 3, 3)
    end_local: Array
    sample: NDArray[np.intp]  # per row: local line * samples + seg
    coef: Array  # (R, 8, 2): weights of the columns and point of the segment's first sample,
    # then of its second, for the position (c0, 1 - f, c1, f) and the normal (m0, 0, m1, 0)
    n_single: int  # vertices (= rows) of one-line muscles
    weights: Array  # (slots, Vm, 1)
    slices: dict[str, tuple[int, int]]  # muscle -> rows of the output
    gathers: dict[tuple[int, ...], tuple[NDArray[np.intp], NDArray[np.intp]]]


class SkinSet:
    """Several muscles' PathSkins posed together, for slider-rate updates.

    ``deform`` gives exactly what ``pose_muscle`` gives for each muscle (to rounding), but
    resamples all lines and builds all their frames in one go (component planes of shape
    (lines, samples)) and places every vertex of every muscle with one gather and one product,
    so the cost no longer grows with the number of muscles and lines in Python calls. All skins
    must share ``samples``, ``end_blend`` and the smoothing.
    """

    CACHE = 4  # muscle subsets remembered (visibility changes rarely; 16 floats per vertex)

    def __init__(
        self, skins: Mapping[str, PathSkin], lines: Mapping[str, Sequence[tuple[str, str, str]]]
    ) -> None:
        """``skins`` by muscle; ``lines`` gives each muscle's lines of action in its skin's
        order as (line name, origin body, insertion body). See ``for_model``."""
        self.skins = dict(skins)
        first = next(iter(self.skins.values()))
        self.samples, self.end_blend, self.smoothing = (
            first.samples, first.end_blend, first.smoothing)  # fmt: skip
        for m, sk in self.skins.items():
            if (sk.samples, sk.end_blend) != (self.samples, self.end_blend) or not np.array_equal(
                sk.smoothing, self.smoothing
            ):
                raise ValueError(f"SkinSet: {m}: other samples, end blend or smoothing")
            if len(lines[m]) != len(sk.bindings):
                raise ValueError(f"SkinSet: {m}: {len(lines[m])} lines for a skin with another")
        self.lines = {m: list(lines[m]) for m in self.skins}
        self._batches: dict[tuple[str, ...], _Batch] = {}

    @classmethod
    def for_model(cls, ctx: ModelContext, skins: Mapping[str, PathSkin]) -> SkinSet:
        """The SkinSet of ``skins`` (muscle -> ``muscle_skin(...)``) with the model's lines."""
        return cls(skins, {m: [(ln.name, ln.bodies[0], ln.bodies[-1]) for ln in ctx.lines
                               if ln.muscle == m] for m in skins})  # fmt: skip

    def deform(
        self,
        lines: Mapping[str, Array],
        transforms: Mapping[str, Array],
        muscles: Iterable[str] | None = None,
    ) -> dict[str, tuple[Array, Array]]:
        """{muscle: (vertices, unit normals)} for ``muscles`` (default all) at the pose where
        the lines are ``lines`` (line name -> polyline) and the bodies have the 4x4
        ``transforms``."""
        key = tuple(self.skins) if muscles is None else tuple(dict.fromkeys(muscles))
        if not key:
            return {}
        b = self._batch(key)
        polys = [np.asarray(lines[name], float) for name in b.names]
        lens = tuple(len(p) for p in polys)
        gather = b.gathers.get(lens)
        if gather is None:  # the model's lines always have the same number of points
            if len(b.gathers) >= 4:
                b.gathers.clear()
            gather = b.gathers[lens] = _pad_index(lens)
        p = _resample_padded(np.concatenate(polys)[gather[0]], gather[1], self.samples)
        pc = np.ascontiguousarray(p.transpose(2, 0, 1))
        rot = np.stack([np.asarray(transforms[body], float)[:3, :3] for body in b.bodies])
        cols = _frame_columns(pc, rot[b.origin] @ b.start_local, rot[b.insertion] @ b.end_local,
                              self.end_blend, self.smoothing)  # fmt: skip
        # per sample of every line its frame's columns and its point, (samples, 3, 4); per
        # segment those of both ends side by side; each row mixes them with its own
        # coefficients: one gather and one product for all vertices of all muscles
        q = np.stack([*cols, pc], axis=-1).transpose(1, 2, 0, 3).reshape(-1, 3, 4)
        pairs = np.concatenate([q[:-1], q[1:]], axis=2).reshape(-1, 24)  # (segments, 3 x 8)
        both = np.take(pairs, b.sample, axis=0).reshape(-1, 3, 8) @ b.coef  # (R, 3, 2)
        pos_nrm = np.ascontiguousarray(both.transpose(2, 0, 1))
        x, nrm = pos_nrm[0], pos_nrm[1]  # (R, 3) each
        v1 = b.n_single
        slots = len(b.weights)
        if slots:
            w = b.weights
            x = np.concatenate([x[:v1], (x[v1:].reshape(slots, -1, 3) * w).sum(axis=0)])
            nrm = np.concatenate([nrm[:v1], (nrm[v1:].reshape(slots, -1, 3) * w).sum(axis=0)])
        nrm = nrm / np.maximum(np.sqrt((nrm * nrm).sum(axis=1)), 1e-300)[:, None]
        return {m: (x[lo:hi], nrm[lo:hi]) for m, (lo, hi) in b.slices.items()}

    def _batch(self, key: tuple[str, ...]) -> _Batch:
        b = self._batches.get(key)
        if b is None:
            if len(self._batches) >= self.CACHE:
                del self._batches[next(iter(self._batches))]
            b = self._batches[key] = self._build(key)
        return b

    def _build(self, muscles: tuple[str, ...]) -> _Batch:
        names: list[str] = []
        ends: list[tuple[str, str]] = []
        start_local, end_local = [], []
        line_of: dict[tuple[str, int], int] = {}
        for m in muscles:
            for k, (name, origin, insertion) in enumerate(self.lines[m]):
                line_of[m, k] = len(names)
                names.append(name)
                ends.append((origin, insertion))
                start_local.append(self.skins[m].bindings[k].start_local)
                end_local.append(self.skins[m].bindings[k].end_local)
        bodies = sorted({b for pair in ends for b in pair})
        n = self.samples
        single = [m for m in muscles if len(self.lines[m]) == 1]
        multi = [m for m in muscles if len(self.lines[m]) > 1]
        slots = max((len(self.lines[m]) for m in multi), default=0)
        rows: list[tuple[NDArray[np.intp], Array]] = []  # sample, coefficients

        def row(m: str, k: int) -> tuple[NDArray[np.intp], Array]:
            bd = self.skins[m].bindings[k]
            coef = np.zeros((len(bd.seg), 8, 2))
            coef[:, 0:3, 0], coef[:, 4:7, 0] = bd.c0, bd.c1
            coef[:, 3, 0], coef[:, 7, 0] = 1.0 - bd.frac, bd.frac
            coef[:, 0:3, 1], coef[:, 4:7, 1] = bd.m0, bd.m1
            return line_of[m, k] * n + bd.seg, coef

        slices: dict[str, tuple[int, int]] = {}
        at = 0
        for m in single:
            rows.append(row(m, 0))
            slices[m] = (at, at + self.skins[m].n_vertices)
            at = slices[m][1]
        weights = []
        for k in range(slots):
            w = []
            for m in multi:
                has = k < len(self.lines[m])
                rows.append(row(m, k if has else 0))
                w.append(self.skins[m].weights[k] if has else np.zeros(self.skins[m].n_vertices))
            weights.append(np.concatenate(w))
        for m in multi:
            slices[m] = (at, at + self.skins[m].n_vertices)
            at = slices[m][1]
        return _Batch(
            names=names,
            origin=np.array([bodies.index(o) for o, _ in ends], dtype=np.intp),
            insertion=np.array([bodies.index(i) for _, i in ends], dtype=np.intp),
            bodies=bodies,
            start_local=np.stack(start_local),
            end_local=np.stack(end_local),
            sample=np.concatenate([r[0] for r in rows]).astype(np.intp),
            coef=np.concatenate([r[1] for r in rows]),
            n_single=sum(self.skins[m].n_vertices for m in single),
            weights=np.stack(weights)[..., None] if weights else np.zeros((0, 0, 1)),
            slices={m: slices[m] for m in muscles},
            gathers={},
        )


def vertex_normals(vertices: NDArray[np.floating], faces: NDArray[np.integer]) -> Array:
    """Area-weighted vertex normals (for callers and tests without VTK at hand)."""
    v = np.asarray(vertices, float)
    f = np.asarray(faces, np.int64)
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    out = np.zeros_like(v)
    for j in range(3):
        np.add.at(out, f[:, j], fn)
    return _unit(out)


def push_out_of_bone(
    points: NDArray[np.floating],
    distance_fns: Sequence[DistanceFn],
    margin: float = 5e-4,
    clearance: float = 5e-4,
    iterations: int = 3,
    step: float = 1e-3,
) -> Array:
    """``points`` with those more than ``margin`` inside any bone moved out along the distance
    gradient to ``clearance`` outside it; points outside bone are returned unchanged.

    The skinned surface follows the path, not the bone, so where a path hugs a bone the surface
    on its inner side can dip into it; projecting those few vertices back out is cheaper and
    steadier than any collision solve. ``distance_fns`` give signed distances (m, negative
    inside) for model-frame points; the gradient is by central differences with ``step``.
    """
    out = np.array(points, float, copy=True)
    eye = np.eye(3) * step
    for _ in range(iterations):
        moved = False
        for fn in distance_fns:
            d = fn(out)
            inside = np.flatnonzero(d < -margin)
            if inside.size == 0:
                continue
            q = out[inside]
            probes = np.concatenate([q + e for e in eye] + [q - e for e in eye])
            vals = fn(probes).reshape(6, len(q))
            grad = (vals[:3] - vals[3:]).T / (2 * step)
            size = np.linalg.norm(grad, axis=1)
            ok = size > 1e-6
            push = (clearance - d[inside])[:, None] * grad / np.maximum(size, 1e-12)[:, None]
            out[inside[ok]] = q[ok] + push[ok]
            moved = True
        if not moved:
            break
    return out


def line_polylines(ctx: ModelContext, transforms: Mapping[str, Array]) -> dict[str, Array]:
    """Every line of action's wrapped polyline (model frame) at one pose given as 4x4
    pelvis-from-body ``transforms`` (what LiveScene keeps in ``_line_points``). Equal to
    ``reference_line_polylines`` (to rounding) at a small fraction of its cost."""
    return wrapped_polylines(ctx, transforms)


def reference_line_polylines(
    ctx: ModelContext, transforms: Mapping[str, Array]
) -> dict[str, Array]:
    """``line_polylines`` by the general path walk (``PathSet.evaluate``): the reference."""
    from hipflex.model.wrapping import path_set

    ps = path_set(ctx)
    _, groups, _ = ps.evaluate({b: np.asarray(t, float)[None] for b, t in transforms.items()},
                               with_points=True)  # fmt: skip
    out = {}
    for name, (g, k) in ps.line_group.items():
        pts = groups[g]
        assert pts is not None
        out[name] = pts[0, k]
    return out


def _line_rotations(
    ctx: ModelContext, muscle: str, transforms: Mapping[str, Array]
) -> tuple[list[str], list[Array], list[Array]]:
    lines = [ln for ln in ctx.lines if ln.muscle == muscle]
    return (
        [ln.name for ln in lines],
        [np.asarray(transforms[ln.bodies[0]], float)[:3, :3] for ln in lines],
        [np.asarray(transforms[ln.bodies[-1]], float)[:3, :3] for ln in lines],
    )


def muscle_skin(
    ctx: ModelContext,
    muscle: str,
    vertices: NDArray[np.floating],
    normals: NDArray[np.floating],
    scan_lines: Mapping[str, Array],
    scan: Mapping[str, Array],
) -> PathSkin:
    """The PathSkin of ``muscle``'s surface (scan-pose ``vertices`` and ``normals``), from the
    lines at the scan pose (``line_polylines(ctx, scan)``) and the scan body transforms."""
    names, r_o, r_i = _line_rotations(ctx, muscle, scan)
    return PathSkin(vertices, normals, [scan_lines[n] for n in names], r_o, r_i)


def pose_muscle(
    ctx: ModelContext,
    muscle: str,
    skin: PathSkin,
    lines: Mapping[str, Array],
    transforms: Mapping[str, Array],
) -> tuple[Array, Array]:
    """``skin`` deformed to the pose of ``lines`` (line name -> polyline) and ``transforms``
    (body -> 4x4): vertices and normals."""
    names, r_o, r_i = _line_rotations(ctx, muscle, transforms)
    return skin.deform([lines[n] for n in names], r_o, r_i)


def bone_distance_fns(ctx: ModelContext, transforms: Mapping[str, Array]) -> list[DistanceFn]:
    """Signed distance to each body's bones for model-frame points at a pose (for
    ``push_out_of_bone``)."""

    def wrap(body: str) -> DistanceFn:
        t = np.asarray(transforms[body], float)
        rot, origin, dist = t[:3, :3], t[:3, 3], ctx.bone_distance[body]
        return lambda p: dist((np.asarray(p, float) - origin) @ rot)

    return [wrap(b) for b in ctx.bone_distance]


def bench_deform(repeats: int = 20, level: str = "interactive") -> float:
    """Median milliseconds per muscle for ``PathSkin.deform`` on the real pack at hip flexion
    110 deg and knee 90 deg (for the lead to call; no test times anything)."""
    from hipflex.assets.pack import AssetPack
    from hipflex.config import pack_dir
    from hipflex.model.kinematics import body_transforms

    ctx = ModelContext.load(AssetPack(pack_dir()))
    scan = {b: ctx.pack.body_at_scan(b) for b in BODIES}
    scan_lines = line_polylines(ctx, scan)
    tr = body_transforms(ctx.skeleton, hip_flexion=np.array([110.0]), knee_flexion=np.array([90.0]))
    pose = {b: t[0] for b, t in tr.items()}
    lines = line_polylines(ctx, pose)
    times = []
    for mid in ctx.muscle_ids:
        if (name := ctx.anatomy.muscles[mid].mesh) is None:
            continue  # no surface model: nothing to skin
        mesh = ctx.pack.mesh(name, level)
        skin = muscle_skin(ctx, mid, mesh.vertices, vertex_normals(mesh.vertices, mesh.faces),
                           scan_lines, scan)  # fmt: skip
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            pose_muscle(ctx, mid, skin, lines, pose)
            runs.append(time.perf_counter() - t0)
        times.append(float(np.median(runs)))
    return 1000.0 * float(np.median(times))


def decimated(
    vertices: NDArray[np.floating], faces: NDArray[np.integer], keep: float
) -> tuple[Array, NDArray[np.int64]]:
    """A coarser copy keeping the fraction ``keep`` of the triangles (fast_simplification, as
    LiveScene's drag level of detail does), importable without VTK."""
    import fast_simplification

    v, f = fast_simplification.simplify(
        np.asarray(vertices, np.float32), np.asarray(faces, np.int32), 1.0 - keep
    )
    return np.asarray(v, float), np.asarray(f, np.int64)


BENCH_POSES = [(-20.0, 0.0), (45.0, 0.0), (45.0, 90.0), (110.0, 90.0), (130.0, 0.0)]


def bench_skin_set(
    repeats: int = 30, keep: float = 0.12, level: str = "interactive"
) -> dict[str, float]:
    """Median milliseconds per pose, over ``BENCH_POSES``, of every line's polyline
    (``line_polylines`` and ``reference_line_polylines``) and of every muscle surface posed at
    LiveScene's drag level of detail (meshes decimated to ``keep``; ``SkinSet.deform`` and
    ``pose_muscle`` per muscle). Prints and returns them (for the lead to call; no test times
    anything)."""
    from hipflex.assets.pack import AssetPack
    from hipflex.config import pack_dir
    from hipflex.model.kinematics import body_transforms

    ctx = ModelContext.load(AssetPack(pack_dir()))
    scan = {b: ctx.pack.body_at_scan(b) for b in BODIES}
    scan_lines = line_polylines(ctx, scan)
    skins = {}
    for mid in ctx.muscle_ids:
        if (name := ctx.anatomy.muscles[mid].mesh) is None:
            continue  # no surface model: nothing to skin
        mesh = ctx.pack.mesh(name, level)
        v, f = decimated(mesh.vertices, mesh.faces, keep)
        skins[mid] = muscle_skin(ctx, mid, v, vertex_normals(v, f), scan_lines, scan)
    skin_set = SkinSet.for_model(ctx, skins)

    def median_ms(n: int, fn: Callable[..., object], *args: object) -> float:
        runs = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn(*args)
            runs.append(time.perf_counter() - t0)
        return 1000.0 * float(np.median(runs))

    def every_muscle(lines: Mapping[str, Array], pose: Mapping[str, Array]) -> None:
        for m in skins:  # the muscles with a surface model
            pose_muscle(ctx, m, skins[m], lines, pose)

    few = max(3, repeats // 3)  # the reference paths are slow
    rows: dict[str, list[float]] = {"lines_ms": [], "lines_reference_ms": [],
                                    "skin_set_ms": [], "skin_reference_ms": []}  # fmt: skip
    for hip, knee in BENCH_POSES:
        tr = body_transforms(ctx.skeleton, hip_flexion=np.array([hip]),
                             knee_flexion=np.array([knee]))  # fmt: skip
        pose = {b: t[0] for b, t in tr.items()}
        lines = line_polylines(ctx, pose)
        skin_set.deform(lines, pose)  # warm the caches
        rows["lines_ms"].append(median_ms(repeats, line_polylines, ctx, pose))
        rows["lines_reference_ms"].append(median_ms(few, reference_line_polylines, ctx, pose))
        rows["skin_set_ms"].append(median_ms(repeats, skin_set.deform, lines, pose))
        rows["skin_reference_ms"].append(median_ms(few, every_muscle, lines, pose))
    out = {k: float(np.median(v)) for k, v in rows.items()}
    worst = {k: float(np.max(v)) for k, v in rows.items()}
    n_v = sum(s.n_vertices for s in skins.values())
    print(f"{len(skins)} muscles, {n_v} vertices (keep {keep}), {len(ctx.lines)} lines; "
          f"median over {len(BENCH_POSES)} poses (worst pose), ms per pose:")  # fmt: skip
    print(f"  line_polylines {out['lines_ms']:.2f} ({worst['lines_ms']:.2f}); "
          f"reference {out['lines_reference_ms']:.2f} ({worst['lines_reference_ms']:.2f})")  # fmt: skip
    print(f"  SkinSet.deform {out['skin_set_ms']:.2f} ({worst['skin_set_ms']:.2f}); "
          f"pose_muscle x {len(skins)} {out['skin_reference_ms']:.2f} "
          f"({worst['skin_reference_ms']:.2f})")  # fmt: skip
    return out
