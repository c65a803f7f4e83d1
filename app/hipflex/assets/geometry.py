"""Geometry helpers for the pipeline: mesh loading, signed distance grids, registration, fits."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import cast

import numpy as np
import trimesh
from numpy.typing import NDArray
from scipy import ndimage
from scipy.spatial import cKDTree

from hipflex.errors import AssetError

Array = NDArray[np.float64]


def load_scene_parts(data: bytes, name: str) -> dict[str, trimesh.Trimesh]:
    """Every mesh node of a glTF binary, with its scene-graph transform applied."""
    try:
        scene = cast(trimesh.Scene, trimesh.load(io.BytesIO(data), file_type="glb", force="scene"))
        parts: dict[str, trimesh.Trimesh] = {}
        for node in scene.graph.nodes_geometry:
            transform, geom = scene.graph[node]
            mesh = scene.geometry[geom].copy()
            mesh.apply_transform(transform)
            mesh.merge_vertices(merge_tex=True, merge_norm=True)
            parts[node] = mesh
    except AssetError:
        raise
    except Exception as exc:
        raise AssetError(
            f"{name}: corrupt or truncated glTF ({type(exc).__name__}: {exc})"
        ) from exc
    if not parts:
        raise AssetError(f"{name}: glTF holds no meshes")
    for node, mesh in parts.items():
        check_mesh(mesh, f"{name}#{node}")
    return parts


def load_single_mesh(data: bytes, name: str, file_type: str) -> trimesh.Trimesh:
    """One STL or OBJ mesh from bytes; corrupt input raises a one-line AssetError."""
    try:
        mesh = cast(
            trimesh.Trimesh,
            trimesh.load(io.BytesIO(data), file_type=file_type, force="mesh", process=True),
        )
    except Exception as exc:
        raise AssetError(f"{name}: corrupt or truncated {file_type.upper()} ({exc})") from exc
    check_mesh(mesh, name)
    # Exporters split vertices by normal and texture coordinate; weld them so decimation and
    # smooth shading see one connected surface.
    mesh.merge_vertices(merge_tex=True, merge_norm=True)
    return mesh


def check_mesh(mesh: trimesh.Trimesh, name: str, min_faces: int = 4) -> None:
    """Reject meshes that are empty, degenerate or hold non-finite vertices."""
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) < min_faces:
        n = len(getattr(mesh, "faces", []))
        raise AssetError(f"{name}: corrupt or truncated mesh (expected a surface, got {n} faces)")
    if not np.all(np.isfinite(mesh.vertices)):
        raise AssetError(f"{name}: corrupt mesh (non-finite vertex coordinates)")
    if mesh.area <= 0:
        raise AssetError(f"{name}: corrupt mesh (zero surface area)")


def merge(meshes: list[trimesh.Trimesh]) -> trimesh.Trimesh:
    """Concatenate several closed shells into one mesh (one drawable per bone).

    Vertices are not welded across shells: parts that touch would share edges between four
    faces and the result would stop being a closed surface.
    """
    out = trimesh.util.concatenate(meshes)
    assert isinstance(out, trimesh.Trimesh)
    return out


def transformed(mesh: trimesh.Trimesh, matrix: Array) -> trimesh.Trimesh:
    """A copy of ``mesh`` under a 4x4 matrix; reflections get their faces flipped back."""
    out = mesh.copy()
    out.apply_transform(matrix)
    return out


def homogeneous(rotation: Array, translation: Array | None = None) -> Array:
    """4x4 matrix from a 3x3 linear part and a translation."""
    m = np.eye(4)
    m[:3, :3] = rotation
    if translation is not None:
        m[:3, 3] = translation
    return m


@dataclass
class SignedDistanceGrid:
    """Signed distance to a set of closed surfaces on a regular grid (negative inside).

    A grid lookup is what makes a translation search over thousands of candidates cheap,
    and the same grid lets the engine test path points against bone with numpy alone.
    """

    origin: Array
    pitch: float
    values: NDArray[np.float32]

    @classmethod
    def from_meshes(
        cls,
        meshes: list[trimesh.Trimesh],
        pitch: float = 0.0015,
        margin: float = 0.03,
    ) -> SignedDistanceGrid:
        """Grid from closed surfaces; where shells overlap, the solid is their union.

        Distance comes from a voxelised surface; the sign from winding numbers counted along the
        grid lines (:func:`ray_inside_votes`): exact for closed surfaces. Where a surface has a
        hole the rays through it are outvoted by the others (a tie takes the sign of the nearest
        decided cell), so a pin-hole in a scanned mesh cannot flood the inside.
        """
        lo = np.min([m.bounds[0] for m in meshes], axis=0) - margin
        hi = np.max([m.bounds[1] for m in meshes], axis=0) + margin
        shape = tuple(int(v) for v in np.ceil((hi - lo) / pitch).astype(int) + 1)
        sampler = SurfaceSampler(meshes, spacing=pitch / 2.5)
        idx = np.clip(np.round((sampler.points - lo) / pitch).astype(int), 0, np.array(shape) - 1)
        surface = np.zeros(shape, bool)
        surface[tuple(idx.T)] = True
        dist = ndimage.distance_transform_edt(~surface) * pitch
        votes = ray_inside_votes(meshes, lo, pitch, shape)
        sign = np.where(votes > 3, -1, np.where(votes < 3, 1, 0)).astype(np.int8)
        undecided = sign == 0  # three rays against three: only where the surface is open
        if undecided.any():
            _, (ii, jj, kk) = ndimage.distance_transform_edt(undecided, return_indices=True)
            sign = sign[ii, jj, kk]
        values = (np.where(surface, 0.0, dist) * sign).astype(np.float32)
        return cls(origin=lo, pitch=pitch, values=values)

    def __call__(self, points: Array) -> Array:
        """Trilinear signed distance at ``points`` (m); far outside the grid reads +inf-ish."""
        idx = (np.asarray(points, float) - self.origin) / self.pitch
        out = ndimage.map_coordinates(self.values, idx.T, order=1, mode="constant", cval=1.0)
        return np.asarray(out, float)


def ray_inside_votes(
    meshes: list[trimesh.Trimesh], origin: Array, pitch: float, shape: tuple[int, ...]
) -> NDArray[np.int8]:
    """For each cell centre of a grid, how many of six rays (+-x, +-y, +-z) find it inside.

    Along each grid line the signed crossings of the surfaces (+1 where a face's normal points
    against the ray) summed from one end of the line give the winding number of every cell on
    it. For closed, outward-facing surfaces all six counts are the same exact winding number
    (0 outside, 1 inside, 2 where two shells overlap), so a cell is inside on 6 votes, outside
    on 0. A ray through a hole in an open surface miscounts; the other rays outvote it.

    Why not the normals of nearby surface samples: across a sharp crease, in a thin sliver and
    where two bones overlap, the nearest samples can belong to a face that does not bound the
    cell's side, and whole patches of cells then took the wrong sign.
    """
    verts = [np.asarray(m.vertices, float) for m in meshes]
    offsets = np.cumsum([0, *(len(v) for v in verts)])
    faces = np.vstack([np.asarray(m.faces) + o for m, o in zip(meshes, offsets, strict=False)])
    # Shift the lines by a tiny odd fraction of a cell so none passes exactly through a vertex
    # or an edge (a double or missed crossing there would spoil a whole line).
    shift = pitch * np.array([3.1415927e-7, 2.7182818e-7, 1.4142136e-7])
    tri = (np.vstack(verts)[faces] - (np.asarray(origin, float) + shift)) / pitch  # cell units
    votes = np.zeros(shape, np.int8)
    for axis in range(3):
        votes += _axis_inside_votes(tri, shape, axis)
    return votes


def _axis_inside_votes(tri: Array, shape: tuple[int, ...], axis: int) -> NDArray[np.int8]:
    """0-2 votes a cell: its winding number counted from the low and from the high end of the
    grid lines along ``axis`` (``tri``: the faces' corners in cell units from the first cell)."""
    b, c = (axis + 1) % 3, (axis + 2) % 3  # cyclic, so projected areas have the normals' sign
    pb, pc, pa = tri[:, :, b], tri[:, :, c], tri[:, :, axis]
    j0, j1 = np.ceil(pb.min(axis=1)).astype(int), np.floor(pb.max(axis=1)).astype(int)
    k0, k1 = np.ceil(pc.min(axis=1)).astype(int), np.floor(pc.max(axis=1)).astype(int)
    nj, nk = np.maximum(j1 - j0 + 1, 0), np.maximum(k1 - k0 + 1, 0)
    # Every (face, grid line) pair whose line meets the face's bounding box.
    count = nj * nk
    face = np.repeat(np.arange(len(tri)), count)
    local = np.arange(len(face)) - np.repeat(np.cumsum(count) - count, count)
    j = j0[face] + local // nk[face]
    k = k0[face] + local % nk[face]
    # Twice the signed areas of (corner u, corner v, the line's point) in projection: the
    # line meets the face where all three have one sign; they weight the corners there.
    fb, fc = pb[face], pc[face]
    w = [(fb[:, v] - fb[:, u]) * (k - fc[:, u]) - (fc[:, v] - fc[:, u]) * (j - fb[:, u])
         for u, v in ((1, 2), (2, 0), (0, 1))]  # fmt: skip
    hit = ((w[0] > 0) & (w[1] > 0) & (w[2] > 0)) | ((w[0] < 0) & (w[1] < 0) & (w[2] < 0))
    hit &= (j >= 0) & (j < shape[b]) & (k >= 0) & (k < shape[c])
    w0, w1, w2, face, j, k = w[0][hit], w[1][hit], w[2][hit], face[hit], j[hit], k[hit]
    area = w0 + w1 + w2
    along = (w0 * pa[face, 0] + w1 * pa[face, 1] + w2 * pa[face, 2]) / area
    # First cell past the crossing; a crossing into the solid adds one from there on.
    first = np.clip(np.floor(along).astype(int) + 1, 0, shape[axis])
    steps_shape = (shape[b], shape[c], shape[axis] + 1)
    flat = np.ravel_multi_index((j, k, first), steps_shape)
    steps = np.bincount(flat, weights=-np.sign(area), minlength=int(np.prod(steps_shape)))
    from_low = np.cumsum(steps.reshape(steps_shape), axis=2)
    # A line's net crossing is 0 on a closed surface; otherwise the two ends' counts differ.
    from_high = from_low[:, :, :-1] - from_low[:, :, -1:]
    inside = (from_low[:, :, :-1] > 0.5).astype(np.int8) + (from_high > 0.5).astype(np.int8)
    return np.moveaxis(inside, (0, 1, 2), (b, c, axis))


def kabsch(src: Array, dst: Array) -> Array:
    """Best rigid 4x4 (no reflection) taking points ``src`` onto ``dst``."""
    cs, cd = src.mean(axis=0), dst.mean(axis=0)
    u, _, vt = np.linalg.svd((src - cs).T @ (dst - cd))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return homogeneous(rot, cd - rot @ cs)


def apply(matrix: Array, points: Array) -> Array:
    """Apply a 4x4 matrix to an (n, 3) array."""
    return np.asarray(points) @ matrix[:3, :3].T + matrix[:3, 3]


class SurfaceSampler:
    """Dense surface samples with normals, for closest-point queries during ICP."""

    def __init__(self, meshes: list[trimesh.Trimesh], spacing: float = 0.0008) -> None:
        pts, nrm = [], []
        rng = np.random.default_rng(1)
        for mesh in meshes:
            count = int(mesh.area / spacing**2) + 100
            p, face = trimesh.sample.sample_surface(mesh, count, seed=rng)
            pts.append(p)
            nrm.append(mesh.face_normals[face])
        self.points = np.vstack(pts)
        self.normals = np.vstack(nrm)
        self.tree = cKDTree(self.points)

    def closest(self, query: Array, upper: float = np.inf) -> tuple[Array, Array]:
        """Distance and closest sample for every query point (inf beyond ``upper``)."""
        dist, idx = self.tree.query(query, distance_upper_bound=upper)
        found = np.isfinite(dist)
        closest = np.zeros_like(np.asarray(query, float))
        closest[found] = self.points[idx[found]]
        return dist, closest


def trimmed_icp(
    moving: Array,
    target: SurfaceSampler,
    initial: Array,
    thresholds: tuple[float, ...] = (0.006, 0.004, 0.003, 0.0025, 0.002),
    iterations: int = 8,
    samples: int = 40000,
) -> Array:
    """Rigid ICP that only pairs points already near the target (contact regions).

    Muscles touch bone over part of their surface only, so a plain ICP would drag the
    whole muscle into the bone; pairing only near points registers on what is shared.
    """
    matrix = initial.copy()
    rng = np.random.default_rng(3)
    if len(moving) > samples:
        moving = moving[rng.choice(len(moving), samples, replace=False)]
    for thr in thresholds:
        for _ in range(iterations):
            moved = apply(matrix, moving)
            dist, closest = target.closest(moved, upper=thr)
            near = dist < thr
            if near.sum() < 20:
                break
            step = kabsch(moved[near], closest[near])
            matrix = step @ matrix
    return matrix


def translation_search(
    moving: Array,
    sdf: SignedDistanceGrid,
    start: Array,
    schedule: tuple[tuple[float, float], ...] = ((0.008, 0.048), (0.002, 0.010), (0.0005, 0.002)),
    contact: float = 0.0025,
    samples: int = 6000,
) -> Array:
    """Grid search of the translation that maximises contact with bone minus penetration."""
    rng = np.random.default_rng(2)
    pts = moving[rng.choice(len(moving), min(samples, len(moving)), replace=False)]
    best = np.asarray(start, float)
    for step, span in schedule:
        g = np.arange(-span, span + 1e-12, step)
        offsets = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
        scores = np.empty(len(offsets))
        for k, off in enumerate(offsets):
            d = sdf(pts + best + off)
            scores[k] = np.count_nonzero(np.abs(d) < contact) - 3 * np.count_nonzero(d < -contact)
        best = best + offsets[int(np.argmax(scores))]
    return best


def fit_sphere(points: Array) -> tuple[Array, float]:
    """Least-squares sphere (centre, radius): the standard hip-centre estimate on meshes."""
    a = np.hstack([2 * points, np.ones((len(points), 1))])
    b = np.sum(points**2, axis=1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    centre = sol[:3]
    radius = float(np.sqrt(sol[3] + centre @ centre))
    return centre, radius


def decimate(mesh: trimesh.Trimesh, faces: int) -> trimesh.Trimesh:
    """Quadric decimation to about ``faces`` triangles (no-op if already smaller)."""
    if len(mesh.faces) <= faces:
        return mesh.copy()
    out = mesh.simplify_quadric_decimation(face_count=faces)
    assert isinstance(out, trimesh.Trimesh)
    return out


def cap_holes(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Close every boundary loop with a fan around its centroid.

    The HuBMAP femur is open where its articular cartilage was cut away; an open surface has no
    inside, so bone-penetration checks would be meaningless there.
    """
    faces = np.asarray(mesh.faces)
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(directed, axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    boundary = directed[counts[inverse.ravel()] == 1]
    if len(boundary) == 0:
        return mesh
    nxt = {int(a): int(b) for a, b in boundary}
    verts = [np.asarray(mesh.vertices)]
    new_faces = [faces]
    count = len(mesh.vertices)
    seen: set[int] = set()
    for start in list(nxt):
        if start in seen:
            continue
        loop = [start]
        seen.add(start)
        cur = nxt.get(start)
        while cur is not None and cur != start and cur not in seen:
            loop.append(cur)
            seen.add(cur)
            cur = nxt.get(cur)
        if cur != start or len(loop) < 3:
            continue
        centre = mesh.vertices[loop].mean(axis=0)
        verts.append(centre[None])
        ring = np.array(loop)
        fan = np.stack([np.roll(ring, -1), ring, np.full(len(ring), count)], axis=1)
        new_faces.append(fan)
        count += 1
    out = trimesh.Trimesh(np.vstack(verts), np.vstack(new_faces), process=True)
    return out
