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

    An open surface has no inside, so bone-penetration checks would be meaningless there. The
    HuBMAP tibia, fibula and patella are closed as shipped, so this only guards them; the
    femur's articular opening is closed by :func:`close_articular_surface`.
    """
    loops = boundary_loops(mesh)
    if not loops:
        return mesh
    verts = [np.asarray(mesh.vertices)]
    new_faces = [np.asarray(mesh.faces)]
    count = len(mesh.vertices)
    for loop in loops:
        verts.append(mesh.vertices[loop].mean(axis=0)[None])
        ring = np.array(loop)
        new_faces.append(np.stack([np.roll(ring, -1), ring, np.full(len(ring), count)], axis=1))
        count += 1
    return trimesh.Trimesh(np.vstack(verts), np.vstack(new_faces), process=True)


def boundary_loops(mesh: trimesh.Trimesh) -> list[list[int]]:
    """The mesh's open boundary loops, each as vertex indices in the order its faces run them."""
    faces = np.asarray(mesh.faces)
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(directed, axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    nxt = {int(a): int(b) for a, b in directed[counts[inverse.ravel()] == 1]}
    loops: list[list[int]] = []
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
        if cur == start and len(loop) >= 3:
            loops.append(loop)
    return loops


def close_articular_surface(
    bone: trimesh.Trimesh,
    patches: list[trimesh.Trimesh],
    up: Array,
    pitch: float = 0.5e-3,
    above: float = 0.015,
) -> trimesh.Trimesh:
    """Close an open bone end with its articular surface patches, as one closed surface.

    The HuBMAP femur is open where its articular cartilage was cut away (both condyles, the
    notch and the trochlea, 34 cm of rim); the same file's cartilage sheet and condyle, fossa
    and patellar-surface patches cover that region to within 2 mm. A fan of triangles from the
    rim's centroid lay 7 mm (median) and up to 18 mm inside them. Here the end below a cut
    ``above`` metres over the highest rim (along ``up``) is rebuilt as the surface at a fixed
    distance from the region outside bone and patches (a morphological closing on a ``pitch``
    grid, so gaps under 3 mm are bridged), at the level that puts it on the bone where the bone
    is whole; the bone above the cut is kept as it is and the two are joined along the cut.
    """
    import pyvista as pv  # the pipeline's one use of VTK: marching cubes

    up = np.asarray(up, float) / np.linalg.norm(up)
    loops = boundary_loops(bone)
    if not loops:
        return bone.copy()
    rim = np.concatenate([np.asarray(bone.vertices)[lp] for lp in loops])
    cut = float((rim @ up).max()) + above
    height = np.asarray(bone.vertices) @ up
    low = [bone.vertices[height < cut + 2 * above]] + [np.asarray(p.vertices) for p in patches]
    # a grid in a frame whose third axis is ``up``
    e3 = up
    e1 = np.cross(e3, [1.0, 0.0, 0.0] if abs(e3[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    rot = np.stack([e1, np.cross(e3, e1), e3])  # rows: grid axes in the bone's frame
    local = np.vstack(low) @ rot.T
    lo, hi = local.min(axis=0) - 4e-3, local.max(axis=0) + 4e-3
    hi[2] = cut + above  # the grid's top stays inside the kept bone
    shape = np.ceil((hi - lo) / pitch).astype(int) + 1

    def samples(mesh: trimesh.Trimesh) -> Array:
        count = int(mesh.area / (pitch / 3) ** 2) + 100
        pts, _ = trimesh.sample.sample_surface(mesh, count, seed=0)
        return np.vstack([pts, mesh.vertices]) @ rot.T

    bone_pts = samples(bone)
    shell_pts = np.vstack([bone_pts] + [samples(p) for p in patches])
    idx = np.round((shell_pts - lo) / pitch).astype(int)
    idx = idx[np.all((idx >= 0) & (idx < shape), axis=1)]
    shell = np.zeros(shape, bool)
    shell[tuple(idx.T)] = True
    reach = 1.5e-3  # gaps up to twice this are bridged
    free = ndimage.distance_transform_edt(~shell) * pitch > reach
    seeds = np.zeros(shape, bool)  # the grid's faces, but not its top (inside the bone there)
    seeds[0], seeds[-1], seeds[:, 0], seeds[:, -1], seeds[:, :, 0] = True, True, True, True, True
    labels, _ = ndimage.label(free)
    outer = np.unique(labels[seeds & free])
    outside = np.isin(labels, outer[outer > 0])
    depth = ndimage.gaussian_filter(ndimage.distance_transform_edt(~outside) * pitch, 1.0)
    # the level that puts the surface on the bone where the bone is whole (between the rim
    # and the grid's top, and in the interior of the grid)
    kept = bone_pts[(bone_pts[:, 2] > cut - above) & (bone_pts[:, 2] < cut + 0.5 * above)]
    level = float(np.median(ndimage.map_coordinates(depth, ((kept - lo) / pitch).T, order=1)))
    grid = pv.ImageData(dimensions=tuple(int(s) for s in shape), spacing=(pitch,) * 3,
                        origin=tuple(float(v) for v in lo))  # fmt: skip
    grid.point_data["depth"] = depth.ravel(order="F")
    surf = grid.contour([level], scalars="depth", method="flying_edges").triangulate().clean()
    end = trimesh.Trimesh(np.asarray(surf.points) @ rot, surf.faces.reshape(-1, 4)[:, 1:],
                          process=True)  # fmt: skip
    # as fine as the bone it replaces
    kept_faces = np.asarray(bone.faces)[np.all(height[bone.faces] < cut + above, axis=1)]
    mean_area = float(np.mean(trimesh.triangles.area(np.asarray(bone.vertices)[kept_faces])))
    end = decimate(end, int(end.area / mean_area))
    return _zip(_keep_side(bone, up, cut), _keep_side(end, -up, -cut))


def _keep_side(mesh: trimesh.Trimesh, normal: Array, offset: float) -> trimesh.Trimesh:
    """The part of ``mesh`` on the side of the plane ``x . normal = offset`` that ``normal``
    points to, its triangles split along the plane."""
    verts, faces = trimesh.intersections.slice_faces_plane(
        np.asarray(mesh.vertices), np.asarray(mesh.faces), normal, normal * offset
    )[:2]
    out = trimesh.Trimesh(verts, faces, process=False)
    out.merge_vertices()
    return out


def _zip(upper: trimesh.Trimesh, lower: trimesh.Trimesh) -> trimesh.Trimesh:
    """Join two open surfaces that each end in one loop along the same cut, with a strip of
    triangles between the loops (each step takes the shorter diagonal)."""
    a_loops, b_loops = boundary_loops(upper), boundary_loops(lower)
    if len(a_loops) != 1 or len(b_loops) != 1:
        raise AssetError(
            f"closing the articular surface: expected one loop on each side of the cut, "
            f"got {len(a_loops)} and {len(b_loops)}"
        )
    n_up = len(upper.vertices)
    va = np.asarray(upper.vertices)
    vb = np.asarray(lower.vertices)
    a = a_loops[0]
    b = b_loops[0][::-1]  # the lower surface runs its loop the other way round
    start = int(np.argmin(np.linalg.norm(vb[b] - va[a[0]], axis=1)))
    b = b[start:] + b[:start]
    strip: list[tuple[int, int, int]] = []
    i = j = 0
    na, nb = len(a), len(b)
    while i < na or j < nb:
        ai, bj = a[i % na], b[j % nb]
        a_next, b_next = a[(i + 1) % na], b[(j + 1) % nb]
        take_a = j >= nb or (
            i < na and np.linalg.norm(va[a_next] - vb[bj]) <= np.linalg.norm(va[ai] - vb[b_next])
        )
        if take_a:
            strip.append((ai, n_up + bj, a_next))
            i += 1
        else:
            strip.append((ai, n_up + bj, n_up + b_next))
            j += 1
    faces = np.vstack([upper.faces, np.asarray(lower.faces) + n_up, np.array(strip)])
    verts = np.vstack([va, vb])
    # the two loops lie within a fraction of a millimetre of each other, so the strip's
    # triangles are slivers that fold and shade as a dark seam: relax the loops and the ring
    # of vertices round them toward their neighbours' mean until the strip has width
    band = np.zeros(len(verts), bool)
    band[np.array(strip).ravel()] = True
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    band[edges[band[edges[:, 0]], 1]] = True
    for _ in range(10):
        total = np.zeros_like(verts)
        np.add.at(total, edges[:, 0], verts[edges[:, 1]])
        count = np.bincount(edges[:, 0], minlength=len(verts))[:, None]
        verts[band] = 0.5 * verts[band] + 0.5 * total[band] / count[band]
    return trimesh.Trimesh(verts, faces, process=False)


def surface_gap(patches: list[trimesh.Trimesh], surface: trimesh.Trimesh) -> tuple[float, float]:
    """Median and 99th percentile distance (m) from points on ``patches`` to ``surface``
    (to dense samples of it near the patches, so to about 0.1 mm)."""
    pts = np.vstack([trimesh.sample.sample_surface(p, 2000, seed=1)[0] for p in patches])
    lo, hi = pts.min(axis=0) - 0.005, pts.max(axis=0) + 0.005
    centres = surface.triangles_center
    near = surface.submesh([np.flatnonzero(np.all((centres > lo) & (centres < hi), axis=1))],
                           append=True)  # fmt: skip
    assert isinstance(near, trimesh.Trimesh)
    samples, _ = trimesh.sample.sample_surface(near, int(near.area / 1e-8) + 1000, seed=0)
    gap = cKDTree(samples).query(pts)[0]
    return float(np.median(gap)), float(np.percentile(gap, 99))
