"""Path-following skinning (hipflex.scene.deform): exactness, rigidity, and the real muscles.

The real-pack test prints both skins' numbers (mean distance to the line of action); run with
``-s`` to see them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray

from hipflex.model.kinematics import body_transforms
from hipflex.model.skeleton import BODIES, ModelContext
from hipflex.scene.deform import (
    SAMPLES,
    PathSkin,
    SkinSet,
    bone_distance_fns,
    decimated,
    line_polylines,
    lines_frames,
    muscle_skin,
    nearest_on_polyline,
    path_frames,
    pose_muscle,
    push_out_of_bone,
    resample,
    resample_lines,
    smoothing_matrix,
    vertex_normals,
)

Array = NDArray[np.float64]
POSES = [(h, k) for k in (0.0, 90.0) for h in (0.0, 60.0, 110.0, 130.0)]


def _rotation(axis: ArrayLike, angle: float) -> Array:
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def _arc(n: int = 15, radius: float = 0.2, sweep: float = 1.2) -> Array:
    """A bent line of action in the x-y plane."""
    a = np.linspace(0.0, sweep, n)
    return np.stack([radius * np.sin(a), -radius * np.cos(a), np.zeros(n)], axis=1)


def _tube(
    path: Array, radius: float = 0.02, rings: int = 30, sides: int = 16
) -> tuple[Array, NDArray[np.int64]]:
    """A closed tube around ``path`` reaching 2 cm beyond both ends, with its faces."""
    d = np.diff(path, axis=0)
    s = np.concatenate([[0], np.cumsum(np.linalg.norm(d, axis=1))])
    t = np.linspace(-0.02, s[-1] + 0.02, rings)
    centre = np.stack([np.interp(t, s, path[:, i], left=np.nan) for i in range(3)], axis=1)
    for end, idx, tan in ((t < 0, 0, d[0]), (t > s[-1], -1, d[-1])):
        u = tan / np.linalg.norm(tan)
        centre[end] = path[idx] + (t[end] - (0 if idx == 0 else s[-1]))[:, None] * u
    ang = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = np.stack([np.cos(ang), np.zeros(sides), np.sin(ang)], axis=1) * radius
    v = (centre[:, None] + ring[None] * np.array([1.0, 0.0, 1.0])).reshape(-1, 3)
    faces = []
    for r in range(rings - 1):
        for j in range(sides):
            a, b = r * sides + j, r * sides + (j + 1) % sides
            faces += [[a, b, a + sides], [b, b + sides, a + sides]]
    return v, np.array(faces, np.int64)


def _synthetic() -> tuple[PathSkin, Array, Array, list[Array], list[Array], list[Array]]:
    line_a = _arc()
    line_b = _arc() + np.array([0.0, 0.0, 0.015])
    v, f = _tube(line_a)
    n = vertex_normals(v, f)
    r_o = [_rotation([1, 2, 3], 0.3)] * 2
    r_i = [_rotation([0, 0, 1], 0.7)] * 2
    skin = PathSkin(v, n, [line_a, line_b], r_o, r_i)
    return skin, v, n, [line_a, line_b], r_o, r_i


def test_scan_pose_reproduces_input() -> None:
    skin, v, n, lines, r_o, r_i = _synthetic()
    out, nrm = skin.deform(lines, r_o, r_i)
    assert np.abs(out - v).max() < 1e-6
    assert np.abs(nrm - n).max() < 1e-6


def test_rigid_motion_moves_mesh_rigidly() -> None:
    skin, v, n, lines, r_o, r_i = _synthetic()
    rot, shift = _rotation([0.3, -1.0, 0.5], 2.1), np.array([0.1, -0.3, 0.25])
    out, nrm = skin.deform([p @ rot.T + shift for p in lines], [rot @ r for r in r_o],
                           [rot @ r for r in r_i])  # fmt: skip
    assert np.abs(out - (v @ rot.T + shift)).max() < 1e-6
    assert np.abs(nrm - n @ rot.T).max() < 1e-6


def test_insertion_twist_turns_distal_end_only() -> None:
    """Turning the insertion body about the line twists the distal end, not the origin."""
    line = np.stack([np.zeros(15), np.linspace(0.0, -0.3, 15), np.zeros(15)], axis=1)
    v, f = _tube(line)
    eye = np.eye(3)
    skin = PathSkin(v, vertex_normals(v, f), [line], [eye], [eye])
    out, _ = skin.deform([line], [eye], [_rotation([0, 1, 0], 0.5)])
    near_origin = v[:, 1] > -0.01
    near_insertion = v[:, 1] < -0.29
    assert np.abs(out[near_origin] - v[near_origin]).max() < 2e-3
    expected = v[near_insertion] @ _rotation([0, 1, 0], 0.5).T
    assert np.abs(out[near_insertion] - expected).max() < 2e-3


def test_bent_path_keeps_offsets() -> None:
    """Bending a straight line by 90 degrees keeps every vertex at its distance from it."""
    straight = np.stack([np.zeros(20), np.linspace(0.0, -0.3, 20), np.zeros(20)], axis=1)
    v, f = _tube(straight, radius=0.015)
    eye = np.eye(3)
    skin = PathSkin(v, vertex_normals(v, f), [straight], [eye], [eye], smooth_sigma=0.0)
    bent = _arc(n=40, radius=0.3 / (np.pi / 2), sweep=np.pi / 2)
    bent -= bent[0]
    end = _rotation([0, 0, 1], np.pi / 2)
    out, _ = skin.deform([bent], [eye], [end])
    inner = nearest_on_polyline(out, bent)
    inside = (inner[0] > 0) & (inner[0] < len(bent) - 2)
    assert np.allclose(inner[2][inside], 0.015, atol=1.5e-3)


def test_push_out_of_bone_moves_only_inside_points() -> None:
    centre, radius = np.array([0.1, 0.0, 0.0]), 0.05
    sphere = lambda p: np.linalg.norm(np.asarray(p) - centre, axis=-1) - radius  # noqa: E731
    rng = np.random.default_rng(3)
    pts = centre + rng.uniform(-0.08, 0.08, (2000, 3))
    before = sphere(pts)
    out = push_out_of_bone(pts, [sphere])
    outside = before >= 0.0
    assert np.array_equal(out[outside], pts[outside])
    deep = before < -5e-4
    assert deep.any()
    assert sphere(out).min() > -1e-3


def _surfaced(ctx: ModelContext) -> list[str]:
    """The muscles with a surface model (the others are drawn as tubes, not skinned)."""
    return [m for m in ctx.muscle_ids if ctx.anatomy.muscles[m].mesh is not None]


# -- the real pack ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_skins(model_context: ModelContext) -> dict[str, Any]:
    ctx = model_context
    scan = {b: ctx.pack.body_at_scan(b) for b in BODIES}
    scan_lines = line_polylines(ctx, scan)
    meshes, skins = {}, {}
    for m in _surfaced(ctx):
        mesh = ctx.pack.mesh(str(ctx.anatomy.muscles[m].mesh), "interactive")
        meshes[m] = mesh
        skins[m] = muscle_skin(ctx, m, mesh.vertices, vertex_normals(mesh.vertices, mesh.faces),
                               scan_lines, scan)  # fmt: skip
    return {"scan": scan, "scan_lines": scan_lines, "meshes": meshes, "skins": skins}


def _mean_distance(ctx: ModelContext, muscle: str, v: Array, lines: dict[str, Array]) -> float:
    polys = [lines[ln.name] for ln in ctx.lines if ln.muscle == muscle]
    return float(np.min([nearest_on_polyline(v, p)[2] for p in polys], axis=0).mean())


def _edges(faces: NDArray[np.integer]) -> NDArray[np.int64]:
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).astype(np.int64)
    return np.unique(np.sort(e, axis=1), axis=0)


def test_real_scan_pose_reproduces_meshes(
    model_context: ModelContext, real_skins: dict[str, Any]
) -> None:
    ctx = model_context
    for m in _surfaced(ctx):
        v, n = pose_muscle(ctx, m, real_skins["skins"][m], real_skins["scan_lines"],
                           real_skins["scan"])  # fmt: skip
        assert np.abs(v - real_skins["meshes"][m].vertices).max() < 1e-6, m
        assert np.allclose(np.linalg.norm(n, axis=1), 1.0)


def test_real_muscles_follow_lines_clear_bone_and_do_not_tear(
    model_context: ModelContext,
    real_skins: dict[str, Any],
) -> None:
    """At hip flexion 0..130 deg (knee 0 and 90): every muscle stays as close to its line of
    action as at the scan pose (+50%), no vertex ends more than 2 mm inside bone after the push,
    the push leaves vertices outside bone alone, and 98% of edges keep within 0.5..2.5 of their
    scan length (the lower bound scaled by the path's own shortening: a shortening muscle is
    compressed along its line)."""
    ctx = model_context
    scan_lines = real_skins["scan_lines"]
    rows = []
    for h, k in POSES:
        tr = {b: t[0] for b, t in body_transforms(ctx.skeleton, hip_flexion=np.array([h]),
                                                   knee_flexion=np.array([k])).items()}  # fmt: skip
        lines = line_polylines(ctx, tr)
        fns = bone_distance_fns(ctx, tr)
        for m in _surfaced(ctx):
            mesh = real_skins["meshes"][m]
            v0 = np.asarray(mesh.vertices, float)
            ref = _mean_distance(ctx, m, v0, scan_lines)
            new, _ = pose_muscle(ctx, m, real_skins["skins"][m], lines, tr)
            d_new = _mean_distance(ctx, m, new, lines)
            pushed = push_out_of_bone(new, fns)
            depth_before = np.min([fn(new) for fn in fns], axis=0)
            depth_after = np.min([fn(pushed) for fn in fns], axis=0)
            rows.append((h, k, m, ref, d_new, -depth_before.min(), -depth_after.min()))
            assert d_new <= 1.5 * ref, (h, k, m, d_new, ref)
            assert depth_after.min() > -2e-3, (h, k, m, depth_after.min())
            outside = depth_before >= 0.0
            assert np.array_equal(pushed[outside], new[outside]), (h, k, m)
            e = _edges(mesh.faces)
            ratio = np.linalg.norm(pushed[e[:, 0]] - pushed[e[:, 1]], axis=1) / np.linalg.norm(
                v0[e[:, 0]] - v0[e[:, 1]], axis=1
            )
            names = [ln.name for ln in ctx.lines if ln.muscle == m]
            shorten = min(
                1.0,
                min(
                    np.linalg.norm(np.diff(lines[n], axis=0), axis=1).sum()
                    / np.linalg.norm(np.diff(scan_lines[n], axis=0), axis=1).sum()
                    for n in names
                ),
            )
            lo, hi = np.percentile(ratio, [1, 99])
            assert lo >= 0.5 * shorten and hi <= 2.5, (h, k, m, lo, hi, shorten)
    print("\nhip knee muscle                      scan(mm) posed(mm)  inside before/after(mm)")
    for h, k, m, ref, d_new, pen0, pen1 in rows:
        print(f"{h:4.0f} {k:3.0f}  {m:26s} {1e3 * ref:7.1f} {1e3 * d_new:9.1f}"
              f"  {1e3 * pen0:6.1f} / {1e3 * pen1:4.1f}")  # fmt: skip


# -- SkinSet: all muscles posed at once equal pose_muscle one by one ----------------------------

TOL = 1e-9  # m for points, and for unit normals
SKIN_POSES = [(h, k, 0.0, 0.0) for h in (-20.0, 45.0, 110.0, 130.0) for k in (0.0, 90.0)] + [
    (-20.0, 30.0, 10.0, -15.0),
    (110.0, 90.0, -15.0, 20.0),
]


def _assert_skins_equal(
    out: dict[str, tuple[Array, Array]], ref: dict[str, tuple[Array, Array]]
) -> None:
    assert out.keys() == ref.keys()
    for m, (x, n) in ref.items():
        np.testing.assert_allclose(out[m][0], x, rtol=0, atol=TOL, err_msg=m)
        np.testing.assert_allclose(out[m][1], n, rtol=0, atol=TOL, err_msg=m)


def test_resample_lines_and_lines_frames_equal_the_one_line_versions() -> None:
    """Lines of different lengths (a repeated point included, as unwrapped arcs give), and
    frames with and without smoothing and end blending."""
    rng = np.random.default_rng(7)
    polys = [_arc(n=15), _arc(n=4, sweep=0.3) + 0.1, np.repeat(_arc(n=9), 2, axis=0),
             rng.normal(size=(23, 3))]  # fmt: skip
    stacked = resample_lines(polys, SAMPLES)
    for p, got in zip(polys, stacked, strict=True):
        np.testing.assert_allclose(got, resample(p, SAMPLES), rtol=0, atol=1e-15)
    starts = np.stack([_rotation(rng.normal(size=3), 0.5 * i) for i in range(len(polys))])
    ends = np.stack([_rotation(rng.normal(size=3), 1.0 + i) for i in range(len(polys))])
    for blend, smooth in ((0.0, None), (0.0, smoothing_matrix(SAMPLES, 6.0)),
                          (0.3, smoothing_matrix(SAMPLES, 6.0)), (0.6, None)):  # fmt: skip
        frames = lines_frames(stacked, starts, ends, blend, smooth)
        for i, p in enumerate(stacked):
            ref, _ = path_frames(p, starts[i], ends[i], blend, smooth)
            np.testing.assert_allclose(frames[i], ref, rtol=0, atol=1e-12)


def test_skin_set_equals_path_skins_synthetic() -> None:
    """Two muscles (one with two lines, blended by weight; one with one), end blending on,
    posed together and separately; a subset gives only what it asks for."""
    line_a, line_b = _arc(), _arc() + np.array([0.0, 0.0, 0.015])
    v, f = _tube(line_a)
    eye = np.eye(3)
    r_o, r_i = [_rotation([1, 2, 3], 0.3)] * 2, [_rotation([0, 0, 1], 0.7)] * 2
    two = PathSkin(v, vertex_normals(v, f), [line_a, line_b], r_o, r_i, end_blend=0.25)
    straight = np.stack([np.zeros(20), np.linspace(0.0, -0.3, 20), np.zeros(20)], axis=1)
    v1, f1 = _tube(straight)
    one = PathSkin(v1, vertex_normals(v1, f1), [straight], [eye], [eye], end_blend=0.25)
    skins = SkinSet({"two": two, "one": one},
                    {"two": [("a", "pelvis", "femur_r"), ("b", "pelvis", "tibia_r")],
                     "one": [("s", "femur_r", "tibia_r")]})  # fmt: skip
    rot, shift = _rotation([0.3, -1.0, 0.5], 0.8), np.array([0.1, -0.3, 0.25])
    bent = _arc(n=40, radius=0.3 / (np.pi / 2), sweep=np.pi / 2)
    lines = {"a": line_a @ rot.T + shift, "b": (line_b * [1.0, 1.2, 1.0]) @ rot.T, "s": bent}
    tr = {"pelvis": np.eye(4), "femur_r": np.eye(4), "tibia_r": np.eye(4)}
    tr["pelvis"][:3, :3] = rot
    tr["tibia_r"][:3, :3] = _rotation([0, 0, 1], np.pi / 2) @ rot
    ref = {"two": two.deform([lines["a"], lines["b"]], [rot, rot], [eye, tr["tibia_r"][:3, :3]]),
           "one": one.deform([bent], [eye], [tr["tibia_r"][:3, :3]])}  # fmt: skip
    _assert_skins_equal(skins.deform(lines, tr), ref)
    _assert_skins_equal(skins.deform(lines, tr, ["one"]), {"one": ref["one"]})
    with pytest.raises(ValueError):
        SkinSet({"one": one, "other": PathSkin(v1, vertex_normals(v1, f1), [straight], [eye],
                                                [eye])}, {"one": [("s", "a", "b")],
                                                          "other": [("s", "a", "b")]})  # fmt: skip


@pytest.fixture(scope="module")
def drag_skins(model_context: ModelContext) -> dict[str, PathSkin]:
    """Every muscle at LiveScene's drag level of detail (12% of the triangles)."""
    ctx = model_context
    scan = {b: ctx.pack.body_at_scan(b) for b in BODIES}
    scan_lines = line_polylines(ctx, scan)
    out = {}
    for m in _surfaced(ctx):
        mesh = ctx.pack.mesh(str(ctx.anatomy.muscles[m].mesh), "interactive")
        v, f = decimated(mesh.vertices, mesh.faces, 0.12)
        out[m] = muscle_skin(ctx, m, v, vertex_normals(v, f), scan_lines, scan)
    return out


@pytest.mark.parametrize("pose", SKIN_POSES)
def test_skin_set_equals_pose_muscle_on_the_real_pack(
    model_context: ModelContext, drag_skins: dict[str, PathSkin], pose: tuple[float, ...]
) -> None:
    """All 15 muscles at the drag level (psoas has three lines, gluteus maximus two), and a
    subset, at hip flexion -20..130, knee 0 and 90, with and without adduction and rotation."""
    ctx = model_context
    h, k, a, r = pose
    tr = {b: t[0] for b, t in body_transforms(
        ctx.skeleton, hip_flexion=np.array([h]), knee_flexion=np.array([k]),
        hip_adduction=np.array([a]), hip_rotation=np.array([r])).items()}  # fmt: skip
    lines = line_polylines(ctx, tr)
    ref = {m: pose_muscle(ctx, m, drag_skins[m], lines, tr) for m in _surfaced(ctx)}
    skins = SkinSet.for_model(ctx, drag_skins)
    _assert_skins_equal(skins.deform(lines, tr), ref)
    subset = ["psoas", "rectus_femoris", "gluteus_maximus"]
    _assert_skins_equal(skins.deform(lines, tr, subset), {m: ref[m] for m in subset})


def test_skin_set_at_the_full_level(
    model_context: ModelContext, real_skins: dict[str, Any]
) -> None:
    """The full (interactive) meshes too, at one deep pose."""
    ctx = model_context
    tr = {b: t[0] for b, t in body_transforms(ctx.skeleton, hip_flexion=np.array([125.0]),
                                               knee_flexion=np.array([100.0])).items()}  # fmt: skip
    lines = line_polylines(ctx, tr)
    skins = SkinSet.for_model(ctx, real_skins["skins"])
    ref = {m: pose_muscle(ctx, m, real_skins["skins"][m], lines, tr) for m in _surfaced(ctx)}
    _assert_skins_equal(skins.deform(lines, tr), ref)
