"""Path-following skinning: muscle surfaces that ride on their wrapped lines of action.

Linear blend skinning between pelvis, femur and tibia cannot follow a path that bends around the
hip: at deep flexion the blended vertices cut the corner (through bone) or swing away from it.
Here every vertex is bound to the nearest point of each of its muscle's lines of action, in a
frame that travels along the line (tangent plus a rotation-minimising normal), so the surface
bends where the path bends and stretches with it. Pure numpy: no VTK, so it is cheap to test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hipflex.model.skeleton import ModelContext

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
    pelvis-from-body ``transforms`` (what LiveScene keeps in ``_line_points``)."""
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
    scan = {b: ctx.pack.body_at_scan(b) for b in ("pelvis", "femur_r", "tibia_r")}
    scan_lines = line_polylines(ctx, scan)
    tr = body_transforms(ctx.skeleton, hip_flexion=np.array([110.0]), knee_flexion=np.array([90.0]))
    pose = {b: t[0] for b, t in tr.items()}
    lines = line_polylines(ctx, pose)
    times = []
    for mid in ctx.muscle_ids:
        mesh = ctx.pack.mesh(ctx.anatomy.muscles[mid].mesh, level)
        skin = muscle_skin(ctx, mid, mesh.vertices, vertex_normals(mesh.vertices, mesh.faces),
                           scan_lines, scan)  # fmt: skip
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            pose_muscle(ctx, mid, skin, lines, pose)
            runs.append(time.perf_counter() - t0)
        times.append(float(np.median(runs)))
    return 1000.0 * float(np.median(times))
