"""Tests of the hip model engine (hipflex.model): activity sharing, paths, moment arms, capacity,
explanations, input checking and the hold task.

Every expectation is either an independent computation (scipy, geometry, finite differences) or a
band / qualitative behaviour from biomechanics.md; no number is copied from the model's output.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from hipflex.errors import PoseError
from hipflex.model.activity import share_moment, shares_one
from hipflex.model.hipmodel import HipModel
from hipflex.model.kinematics import body_transforms
from hipflex.model.muscle import active_force_length, fibres_one, pennated_fiber
from hipflex.model.segments import LegInertia
from hipflex.model.wrapping import path_point_bodies, wrapped_path

HIP_SWEEP = np.arange(-20.0, 130.0 + 1e-9, 1.0)
MM = 1e-3


@pytest.fixture(scope="module")
def sweeps(model):  # type: ignore[no-untyped-def]
    """Hip flexion -20..130 deg (1 deg) at knee 0 and knee 90."""
    return {knee: model.sweep(HIP_SWEEP, knee_flexion=knee) for knee in (0.0, 90.0)}


# --- 1. share_moment against SLSQP ---------------------------------------------------------------


def _slsqp(m: np.ndarray, req: float) -> np.ndarray:
    n = len(m)
    scale = np.abs(m).max()
    m, req = m / scale, req / scale  # same optimum, better conditioned
    res = minimize(
        lambda a: float(a @ a),
        x0=np.full(n, 0.5),
        jac=lambda a: 2 * a,
        bounds=[(0.0, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda a: float(a @ m - req), "jac": lambda a: m}],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert res.success, res.message
    assert abs(res.x @ m - req) < 1e-8
    return np.asarray(res.x)


def test_share_moment_matches_slsqp_on_feasible_cases() -> None:
    rng = np.random.default_rng(20240611)
    n_poses, n_muscles = 8, 9
    m = rng.uniform(-40.0, 80.0, size=(n_poses, n_muscles))
    m[:, 0] = np.abs(m[:, 0]) + 5.0  # at least one flexor per pose
    m[:, 1] = -np.abs(m[:, 1]) - 5.0  # at least one extensor per pose
    capacity = np.clip(m, 0, None).sum(axis=1)
    # from light loads (interior optimum) to near-capacity loads (many activations saturated)
    required = capacity * np.linspace(0.05, 0.97, n_poses)
    act, feasible = share_moment(m, required)
    assert act.shape == m.shape and feasible.shape == (n_poses,)
    assert feasible.all()
    for i in range(n_poses):
        ref = _slsqp(m[i], required[i])
        np.testing.assert_allclose(act[i], ref, atol=1e-3, err_msg=f"pose {i}")
        assert act[i] @ m[i] == pytest.approx(required[i], rel=1e-6, abs=1e-6)
        assert np.all((act[i] >= 0) & (act[i] <= 1))
        assert np.all(act[i][m[i] < 0] == 0)  # extensors never help a flexion requirement
    assert np.any(act >= 1 - 1e-9), "the near-capacity poses should saturate some flexor"


def test_share_moment_needs_no_flexor_for_a_non_positive_requirement() -> None:
    """The leg's weight behind or under the hip: no flexor works and the task is met (the GUI's
    status line once said the muscles 'cannot hold it' at -20 deg)."""
    act, feasible = share_moment(np.array([[30.0, 10.0], [30.0, 10.0]]), np.array([-23.0, 0.0]))
    assert feasible.all() and not act.any()


def test_share_moment_infeasible_sets_every_flexor_to_one() -> None:
    rng = np.random.default_rng(7)
    m = rng.uniform(-30.0, 50.0, size=(4, 7))
    m[:, 0] = 20.0
    capacity = np.clip(m, 0, None).sum(axis=1)
    act, feasible = share_moment(m, capacity * 1.2 + 1.0)
    assert not feasible.any()
    np.testing.assert_array_equal(act[m > 0], 1.0)
    np.testing.assert_array_equal(act[m <= 0], 0.0)


def test_share_moment_one_pose_equals_the_batch() -> None:
    """One pose takes a float path (a slider step); it must give the batch's activations to the
    bit, feasible or not, including a requirement at capacity and none at all."""
    rng = np.random.default_rng(11)
    m = rng.normal(5.0, 10.0, size=(400, 12)) * (rng.random((400, 12)) > 0.2)
    capacity = np.clip(m, 0, None).sum(axis=1)
    required = np.concatenate([rng.normal(20.0, 40.0, 300), capacity[300:] * rng.uniform(0.98, 1.02, 100)])
    required[:3] = (0.0, -5.0, capacity[2])
    act, feasible = share_moment(m, required)
    for i in range(len(m)):
        one, ok = share_moment(m[i : i + 1], required[i : i + 1])
        np.testing.assert_array_equal(one[0], act[i], err_msg=f"pose {i}")
        assert ok[0] == feasible[i], i
    assert feasible.any() and not feasible.all()


def test_shares_of_one_pose_on_floats_equal_the_batch() -> None:
    """One pose also takes each muscle's share of the supplied moment on floats (``shares_one``):
    the batch's activations, flag and shares to the bit, none supplied included."""
    rng = np.random.default_rng(12)
    m = np.maximum(rng.normal(5.0, 10.0, size=(300, 17)) * (rng.random((300, 17)) > 0.2), 0.0)
    required = rng.normal(20.0, 40.0, 300)
    required[:2] = (0.0, -5.0)
    act, feasible = share_moment(m, required)
    supplied = act * m
    total = np.add.reduce(supplied, axis=1, keepdims=True)
    share = np.divide(supplied, total, out=np.zeros(supplied.shape), where=total > 0)
    for i in range(len(m)):
        act_one, ok, share_one = shares_one(m[i].tolist(), float(required[i]))
        np.testing.assert_array_equal(act_one, act[i], err_msg=f"pose {i}")
        np.testing.assert_array_equal(share_one, share[i], err_msg=f"pose {i}")
        assert ok == feasible[i], i
    assert (total == 0).any() and feasible.any() and not feasible.all()


# --- 2. smoothness of paths and flexor levers -----------------------------------------------------


@pytest.mark.parametrize("knee", [0.0, 90.0])
def test_iliopsoas_flexes_over_the_whole_range(sweeps, knee) -> None:  # type: ignore[no-untyped-def]
    res = sweeps[knee]
    for muscle in ("iliacus", "psoas"):
        ma = res.muscle(muscle)["moment_arm_hip_flexion"]
        bad = HIP_SWEEP[ma <= 0]
        assert bad.size == 0, f"{muscle} (knee {knee:g}) loses its flexor lever at {bad} deg"


@pytest.mark.parametrize("knee", [0.0, 90.0])
@pytest.mark.parametrize("quantity", ["length", "moment_arm_hip_flexion"])
def test_one_degree_steps_change_paths_by_at_most_2mm(sweeps, knee, quantity) -> None:  # type: ignore[no-untyped-def]
    res = sweeps[knee]
    jumps = np.abs(np.diff(res[quantity], axis=0))
    worst = jumps.max(axis=0)
    bad = {m: f"{1000 * w:.2f} mm at {HIP_SWEEP[np.argmax(jumps[:, j])]:g} deg"
           for j, (m, w) in enumerate(zip(res.muscles, worst, strict=True)) if w > 2 * MM}  # fmt: skip
    assert not bad, f"{quantity} jumps by more than 2 mm per degree (knee {knee:g}): {bad}"


@pytest.mark.parametrize("hip", [-20.0, 0.0, 30.0, 60.0, 90.0, 110.0, 130.0])
def test_bending_the_knee_changes_paths_by_at_most_2mm_a_degree(model, hip) -> None:  # type: ignore[no-untyped-def]
    """Beyond the issue's grid: the whole knee range at fixed hip angles. A wrap over the back
    of the knee once engaged on segments that stop short of it, and hamstrings and gracilis
    grew by 15-19 cm in one step past 100-127 deg of knee flexion."""
    knee = np.arange(0.0, 140.0 + 1e-9, 0.1)
    res = model.sweep(np.full(knee.size, hip), knee_flexion=knee)
    # lengths: at most 2 mm a degree; moment arms: continuous at 0.1 deg steps (0.11 mm at most
    # on this pack, gracilis near full flexion)
    for quantity, every, limit in (("length", 10, 2 * MM), ("moment_arm_hip_flexion", 1, 0.5 * MM),
                                   ("moment_arm_knee_flexion", 1, 0.5 * MM)):  # fmt: skip
        values = res[quantity][::every]
        jumps = np.abs(np.diff(values, axis=0)).max(axis=0)
        bad = {m: f"{1000 * w:.2f} mm" for m, w in zip(res.muscles, jumps, strict=True)
               if w > limit}  # fmt: skip
        assert not bad, f"{quantity} jumps at hip {hip:g} deg as the knee bends: {bad}"


@pytest.mark.parametrize("hip", [-20.0, 0.0, 60.0, 110.0, 130.0])
def test_knee_flexors_keep_their_lever_as_the_knee_bends(model, hip) -> None:  # type: ignore[no-untyped-def]
    """The hamstrings, gracilis and sartorius flex the knee over its whole range, and rectus
    femoris extends it. Until session 12 a femur via point 3 cm above the knee centre was passed
    by the hamstrings' tibial insertion past about 120 deg, and their knee moment arm turned
    negative (biceps femoris -33 mm at 140 deg); Rajagopal 2016's stays positive to its limit."""
    knee = np.arange(0.0, 140.0 + 1e-9, 1.0)
    res = model.sweep(np.full(knee.size, hip), knee_flexion=knee)
    ma = res["moment_arm_knee_flexion"]
    for muscle in ("semimembranosus", "semitendinosus", "biceps_femoris_long_head", "gracilis",
                   "sartorius"):  # fmt: skip
        lever = ma[:, res.muscles.index(muscle)]
        assert lever.min() > 1 * MM, (
            f"{muscle} at hip {hip:g} deg: knee moment arm {1000 * lever.min():.1f} mm "
            f"at {knee[np.argmin(lever)]:g} deg knee flexion"
        )
    # the hamstrings' lever rises from full extension to a peak mid-range, then falls (Rajagopal
    # 2016's shape: semimembranosus 32 mm at 0, 46 at 50, 18 at 120 deg, hip 0, OpenSim 4.6)
    for muscle in ("semimembranosus", "semitendinosus", "biceps_femoris_long_head"):
        lever = ma[:, res.muscles.index(muscle)]
        peak = knee[np.argmax(lever)]
        assert 30.0 <= peak <= 100.0, f"{muscle}: knee lever peaks at {peak:g} deg"
        assert lever.max() > lever[0] + 5 * MM and lever.max() > lever[-1] + 5 * MM
    assert ma[:, res.muscles.index("rectus_femoris")].max() < -10 * MM


@pytest.mark.parametrize("hip", [-20.0, 0.0, 60.0, 110.0, 130.0])
def test_gracilis_crosses_the_knee_along_the_limb(model_context, hip) -> None:  # type: ignore[no-untyped-def]
    """The stretch of gracilis's path that crosses the knee (from its last point on the thigh's
    side to its first on the tibia, where its knee lever is taken) runs more in the femur's
    sagittal plane, the plane the knee bends in, than across it: within 45 deg of it over the
    whole knee range. Until session 28 it ran from a femur via point 51 mm above the knee axis to
    the tibial via point on the back of the medial condyle, which the bending knee brought up
    beside it: at 140 deg 8.6 mm apart in the sagittal plane and 18.5 mm mediolaterally (65 deg
    out of the plane), so the tendon pulled mostly sideways and its knee lever fell from 37.5 mm
    at 120 deg to 10.5 mm (tools/derive_paths.py, KNEE_VIA)."""
    line = next(ln for ln in model_context.lines if ln.muscle == "gracilis")
    knee = np.arange(0.0, 140.0 + 1e-9, 1.0)
    tr = body_transforms(model_context.skeleton, hip_flexion=np.full(knee.size, hip),
                         knee_flexion=knee)  # fmt: skip
    pts = wrapped_path(model_context, line, tr)
    first = path_point_bodies(model_context, line).index("tibia_r")
    across = np.einsum("nji,nj->ni", tr["femur_r"][:, :3, :3], pts[:, first - 1] - pts[:, first])
    out_of_plane = np.degrees(np.arcsin(np.abs(across[:, 2]) / np.linalg.norm(across, axis=1)))
    worst = int(np.argmax(out_of_plane))
    assert out_of_plane[worst] < 45.0, (
        f"hip {hip:g} deg, knee {knee[worst]:g} deg: gracilis crosses the knee "
        f"{out_of_plane[worst]:.0f} deg out of the sagittal plane, over "
        f"{1000 * np.linalg.norm(across[worst]):.1f} mm"
    )


@pytest.mark.parametrize(("adduction", "rotation", "left_out", "only"), [
    ((-45.0, 30.0), (-45.0, 45.0), ("iliacus", "psoas"), ()),  # whole range
    ((-40.0, 30.0), (-45.0, 45.0), (), ("iliacus", "psoas")),  # whole, 40 deg abduction
    ((-30.0, 30.0), (-40.0, 40.0), (), ()),  # the explorer's range
])  # fmt: skip
def test_off_plane_steps_keep_lengths_continuous(model, adduction, rotation, left_out, only) -> None:  # type: ignore[no-untyped-def]
    """1-degree steps of each coordinate from random poses: lengths change by at most 2 mm.
    Sphere-wrapped muscles (hamstrings, sartorius, piriformis) once flipped their way round the
    femoral head with the plane of the path (up to 28 cm), and gluteus maximus dropped its wrap
    when its insertion swung inside the surface behind the hip (up to 9 cm), and again, until
    session 18, where its arc round that surface passed half a turn (up to 5 cm at 120-140 deg
    of flexion with internal rotation beyond about 30 deg). Iliopsoas stepped
    by up to 5 cm (112 steps in 40000 in the explorer's range) until session 10, when its
    femoral-head cylinder moved from the femur to the pelvis: on the femur its axis swung with
    adduction and rotation and reached the psoas at the brim, 6 cm medial of the head. Since
    the femoral-neck cylinder (hipflex.model.threewrap), iliopsoas steps by up to 3 cm where
    abduction beyond 42 deg meets internal rotation beyond 39 deg (about 10 steps in 40000 over
    the whole range): there the pelvis-fixed head cylinder's path runs inside the neck cylinder,
    and where its exit point leaves that cylinder the path drops the neck. It is checked up to
    40 deg of abduction (only iliopsoas: that sample finds tensor fasciae latae stepping by
    8 mm at -27 deg flexion, 43 deg rotation, beyond the explorer's range, as on main)."""
    rng = np.random.default_rng(7)
    n = 1500
    ranges = {"hip_flexion": (-30.0, 140.0), "hip_adduction": adduction,
              "hip_rotation": rotation, "knee_flexion": (0.0, 140.0)}  # fmt: skip
    pose = {k: rng.uniform(lo, hi - 1.0, n) for k, (lo, hi) in ranges.items()}
    base = model.sweep(**pose)["length"]
    checked = [j for j, m in enumerate(model.muscles) if m not in left_out and (m in only or not only)]
    for coordinate in ranges:
        step = dict(pose)
        step[coordinate] = pose[coordinate] + 1.0
        jumps = np.abs(model.sweep(**step)["length"] - base)[:, checked]
        worst = jumps.max(axis=0)
        bad = {model.muscles[j]: f"{1000 * w:.1f} mm" for j, w in zip(checked, worst, strict=True)
               if w > 2 * MM}  # fmt: skip
        assert not bad, f"1-degree steps of {coordinate} make lengths jump: {bad}"


# poses where the obstacle-set iteration alternated between states and iliopsoas stepped by
# 1.9-2.4 mm per 0.1 deg (found by the session 8 audit's scan; hip, adduction, rotation, knee)
ALTERNATING_POSES = [(-21.97, 15.03, 22.77, 34.8), (-16.87, 17.48, 20.96, 47.4),
                     (-18.43, 16.46, 21.84, 83.66), (-22.03, 14.26, 22.47, 9.54),
                     (-14.96, 17.49, 20.15, 122.88)]  # fmt: skip


@pytest.mark.parametrize("pose", ALTERNATING_POSES)
def test_iliopsoas_is_smooth_where_the_iteration_alternated(model, pose) -> None:  # type: ignore[no-untyped-def]
    """Two surfaces in a row are resolved by their states (hipflex.model.twowrap): 0.1-degree
    steps of every coordinate change iliacus and psoas by at most 0.2 mm (they change by about
    0.06 mm; the alternating iteration gave 1.9-2.4 mm)."""
    cols = [model.muscles.index("iliacus"), model.muscles.index("psoas")]
    steps = np.arange(0.0, 1.0 + 1e-9, 0.1)
    for c, name in enumerate(("hip_flexion", "hip_adduction", "hip_rotation", "knee_flexion")):
        angles = np.tile(np.array(pose), (steps.size, 1))
        angles[:, c] += steps
        lengths = model.sweep(hip_flexion=angles[:, 0], hip_adduction=angles[:, 1],
                              hip_rotation=angles[:, 2], knee_flexion=angles[:, 3])["length"]  # fmt: skip
        worst = float(np.abs(np.diff(lengths[:, cols], axis=0)).max())
        assert worst < 0.2 * MM, f"iliopsoas steps {1000 * worst:.2f} mm along {name} at {pose}"


def test_both_surfaces_state_has_a_bridge_tangent_to_both(model_context) -> None:  # type: ignore[no-untyped-def]
    """The both-surfaces path of two cylinders whose axes are not parallel (Newton's method
    until session 14, ``threewrap.cylinder_pair`` since): the straight bridge between them is
    tangent to each, and the path is no shorter than either surface's wrap alone. The data's two iliopsoas cylinders are both on the pelvis, so parallel; here the
    femoral-head cylinder is put on the femur, as it stood until session 10, so that hip
    adduction and rotation tilt its axis."""
    from hipflex.model.twowrap import resolve
    from hipflex.model.wrapping import line_points, path_set

    ctx = model_context
    ps = path_set(ctx)
    rng = np.random.default_rng(11)
    pose = {"hip_flexion": rng.uniform(-20, 40, 200), "hip_adduction": rng.uniform(-20, 20, 200),
            "hip_rotation": rng.uniform(-25, 25, 200), "knee_flexion": rng.uniform(0, 120, 200)}  # fmt: skip
    tr = body_transforms(ctx.skeleton, **pose)
    checked = 0
    for line in (ln for ln in ctx.lines if ln.muscle in ("iliacus", "psoas")):
        g, k = ps.line_group[line.name]
        ((seg, wraps),) = ps.groups[g].segments.items()
        pts = line_points(line, tr)
        p, s = pts[:, seg], pts[:, seg + 1]
        surfaces = []
        for i, (cyl, senses) in enumerate(wraps[:2]):  # the brim and the head (not the neck)
            t = tr[cyl.body]
            centre = t[:, :3, :3] @ cyl.centre + t[:, :3, 3]
            if i == 1:  # the femoral head, centred on the hip centre (the femur's origin)
                t = tr["femur_r"]
                np.testing.assert_allclose(centre, t[:, :3, 3], atol=1e-5)
            rot = t[:, :3, :3]
            surfaces.append((centre, rot @ cyl.side, rot @ cyl.axis,
                             np.full(len(p), senses[k]), np.full(len(p), cyl.radius),
                             np.zeros(len(p), bool)))  # fmt: skip
        two = resolve(p, s, surfaces[0], surfaces[1])
        both = two.state == 3
        bridge = two.tangents[2] - two.tangents[1]
        bridge /= np.linalg.norm(bridge, axis=1, keepdims=True)
        for (c, _, axis, _, r, _), point in ((surfaces[0], two.tangents[1]),
                                             (surfaces[1], two.tangents[2])):  # fmt: skip
            radial = point - c
            radial -= np.einsum("ij,ij->i", radial, axis)[:, None] * axis
            np.testing.assert_allclose(np.linalg.norm(radial, axis=1)[both], r[both], atol=1e-9)
            cosine = np.einsum("ij,ij->i", radial / r[:, None], bridge)
            assert np.abs(cosine[both]).max() < 1e-6
        for surface in surfaces:
            from hipflex.model.wrapping import wrap_rows

            alone = wrap_rows(p, s, *surface, False)
            assert np.all(two.length[both] >= alone[2][both] - 1e-9)
        checked += int(both.sum())
    assert checked > 100  # most of these poses wrap both surfaces


def _segment_surfaces(ctx, tr, line):  # type: ignore[no-untyped-def]
    """p, s and the posed surface rows of a line's one wrapped segment (iliopsoas: brim, head and
    neck; the hamstrings: head sphere, quadratus femoris bed and condyle cylinder)."""
    from hipflex.model.wrapping import line_points, path_set

    ps = path_set(ctx)
    g, k = ps.line_group[line.name]
    ((seg, wraps),) = ps.groups[g].segments.items()
    pts = line_points(line, tr)
    n = len(pts)
    surfaces = []
    for cyl, senses in wraps:
        rot = tr[cyl.body][:, :3, :3]
        surfaces.append((rot @ cyl.centre + tr[cyl.body][:, :3, 3], rot @ cyl.side, rot @ cyl.axis,
                         np.full(n, senses[k]), np.full(n, cyl.radius),
                         np.full(n, cyl.kind == "sphere")))  # fmt: skip
    return pts[:, seg], pts[:, seg + 1], surfaces


def _radial(point, surface):  # type: ignore[no-untyped-def]
    """Distance of points from a cylinder's axis, and the unit radial direction."""
    c, _, axis, _, _, _ = surface
    d = point - c
    d -= np.einsum("ij,ij->i", d, axis)[:, None] * axis
    size = np.linalg.norm(d, axis=1)
    return size, d / size[:, None]


def test_one_surface_states_keep_both_legs_clear_of_the_other_surface() -> None:
    """A path over one of two surfaces has two straight legs, to that surface and from it, and
    ``twowrap.resolve`` takes it only where neither leg touches the surface it leaves out. A
    sphere (the femoral head) then a long cylinder beside it (a femoral shaft cylinder, whose
    axis runs up past the head toward the segment's start): until session 16 only the leg
    between the two surfaces was checked, and here 854 of 4000 rows took the sphere's path with
    its first leg through the cylinder and 306 the cylinder's with its last leg through the
    sphere (as tensor fasciae latae's line, from an origin inside the femoral shaft cylinder's
    proximal reach, ran through the greater trochanter sphere)."""
    from hipflex.model.twowrap import resolve, touches

    rng = np.random.default_rng(16)
    n = 4000
    p = np.column_stack([rng.uniform(-1, 1, n), rng.uniform(2.0, 4.0, n), rng.uniform(-1, 1, n)])
    s = np.column_stack([rng.uniform(-3, 3, n), rng.uniform(-6, -3, n), rng.uniform(-3, 3, n)])
    axis = np.array([0.1, 1.0, 0.05]) / np.linalg.norm([0.1, 1.0, 0.05])
    side = np.array([1.0, 0.0, 0.0]) - axis[0] * axis

    def rows(c, e1, e3, r, sphere):  # type: ignore[no-untyped-def]
        return (np.tile(c, (n, 1)), np.tile(e1, (n, 1)), np.tile(e3, (n, 1)), np.ones(n),
                np.full(n, r), np.full(n, sphere))  # fmt: skip

    first = rows([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], 1.0, True)
    second = rows([0.3, 0.0, 0.0], side / np.linalg.norm(side), axis, 0.9, False)
    two = resolve(p, s, first, second)
    t = two.tangents
    on_first, on_second = two.state == 1, two.state == 2
    assert on_first.sum() > 100 and on_second.sum() > 100
    assert not (on_first & (touches(p, t[0], second) | touches(t[1], s, second))).any()
    assert not (on_second & (touches(p, t[2], first) | touches(t[3], s, first))).any()


def test_three_surface_paths_have_bridges_tangent_to_both(model_context) -> None:  # type: ignore[no-untyped-def]
    """Iliopsoas over the brim, the head and the femoral neck (hipflex.model.threewrap): every
    tangent point lies on its cylinder, every bridge between two wrapped surfaces is tangent to
    both, the neck's tangent points lie beyond its centre along its axis (away from the head),
    and where Newton's method on the entry points (``twowrap.chain_surfaces``, an independent
    solver) converges to a path over the three cylinders it finds the same paths. Internal
    rotation, where the neck is wrapped. (Newton's method shrinks a surface's radius to an end
    point inside it: with the iliacus origin and pelvic brim of the regeneration after session
    21 it converged at one of these poses, 18 deg of extension, 25 deg of abduction and 35 deg
    of internal rotation, to a path whose neck entry lay 2 mm inside the femoral head cylinder
    and which touched that cylinder only on a radius shrunk to it, 27.2 mm instead of 29.3: a
    path through the surface, 1.7 mm shorter than the model's, which stays on it; such rows are
    not compared.)"""
    from hipflex.model.threewrap import resolve_chain
    from hipflex.model.twowrap import chain_surfaces

    ctx = model_context
    rng = np.random.default_rng(12)
    n = 400
    pose = {"hip_flexion": rng.uniform(-20, 130, n), "hip_adduction": rng.uniform(-30, 30, n),
            "hip_rotation": rng.uniform(0, 40, n), "knee_flexion": rng.uniform(0, 140, n)}  # fmt: skip
    tr = body_transforms(ctx.skeleton, **pose)
    states = set()
    compared = 0
    for line in (ln for ln in ctx.lines if ln.muscle in ("iliacus", "psoas")):
        p, s, surfaces = _segment_surfaces(ctx, tr, line)
        chain = resolve_chain(p, s, surfaces)
        states |= set(chain.state.tolist())
        for k, surface in enumerate(surfaces):
            on = chain.on[k]
            for point in chain.tangents[2 * k : 2 * k + 2]:
                np.testing.assert_allclose(_radial(point, surface)[0][on], surface[4][on],
                                           atol=1e-9)  # fmt: skip
        neck = surfaces[2]
        for point in chain.tangents[4:]:
            along = np.einsum("ij,ij->i", point - neck[0], neck[2])
            assert np.all(along[chain.on[2]] >= 0.0)
        wrapped = [np.flatnonzero(chain.on[k]) for k in range(3)]
        for a, b in ((0, 1), (1, 2), (0, 2)):  # consecutive wrapped surfaces
            rows = np.intersect1d(wrapped[a], wrapped[b])
            if b - a == 2:
                rows = rows[~chain.on[1][rows]]
            if not rows.size:
                continue
            bridge = chain.tangents[2 * b][rows] - chain.tangents[2 * a + 1][rows]
            bridge /= np.linalg.norm(bridge, axis=1, keepdims=True)
            for k, point in ((a, chain.tangents[2 * a + 1]), (b, chain.tangents[2 * b])):
                _, radial = _radial(point[rows], tuple(x[rows] for x in surfaces[k]))
                assert np.abs(np.einsum("ij,ij->i", radial, bridge)).max() < 1e-6
        three = np.flatnonzero(chain.state == 7)
        sub = [tuple(x[three] for x in sf) for sf in surfaces]
        ok, length, tangents, _ = chain_surfaces(p[three], s[three], sub)
        for k, surface in enumerate(sub):  # on the cylinders, not on a radius shrunk inside one
            for point in tangents[2 * k : 2 * k + 2]:
                ok &= np.abs(_radial(point, surface)[0] - surface[4]) < 1e-9
        np.testing.assert_allclose(length[ok], chain.length[three][ok], atol=1e-9)
        compared += int(ok.sum())
    assert {5, 7} <= states
    assert compared > 100


def test_iliopsoas_stays_out_of_bone_when_the_hip_turns(model_context) -> None:  # type: ignore[no-untyped-def]
    """Over random poses in the explorer's ranges iliacus and psoas pass more than 2 mm inside
    bone in under 1% of poses and nowhere more than 5 mm (25 samples a segment), as gluteus
    medius's test. Until the femoral-neck surface, internal rotation past 5-25 deg took the
    tendon from the head to the lesser trochanter through the front of the femoral neck, up to
    15.6 mm deep (1193 of 3000 poses for iliacus). The surface is fitted to the neck's
    underside, not enclosing it, so a few poses (up to 4 of 3000 a line) still graze the bone by
    2-3.6 mm, beyond the lesser trochanter's level, with flexion past 110 deg, adduction and
    internal rotation."""
    ctx = model_context
    rng = np.random.default_rng(21)
    n = 800
    pose = {"hip_flexion": rng.uniform(-20, 130, n), "hip_adduction": rng.uniform(-30, 30, n),
            "hip_rotation": rng.uniform(-40, 40, n), "knee_flexion": rng.uniform(0, 140, n)}  # fmt: skip
    tr = body_transforms(ctx.skeleton, **pose)
    problems = []
    for line in (ln for ln in ctx.lines if ln.muscle in ("iliacus", "psoas")):
        per_pose = _deepest_in_bone(ctx, tr, line)
        if (per_pose < -2 * MM).mean() >= 0.01 or per_pose.min() <= -5 * MM:
            i = int(np.argmin(per_pose))
            problems.append(f"{line.name}: {(per_pose < -2 * MM).sum()} poses, "
                            f"{1000 * per_pose[i]:.1f} mm deep at "
                            f"{ {q: round(float(v[i]), 1) for q, v in pose.items()} }")  # fmt: skip
    assert not problems, "\n".join(problems)


# --- 3. moment arm from length derivative vs geometry ---------------------------------------------


def _geometric_moment_arm(ctx, line, hip: float, knee: float, add: float, rot: float) -> float:  # type: ignore[no-untyped-def]
    tr = body_transforms(ctx.skeleton, hip_flexion=hip, hip_adduction=add, hip_rotation=rot,
                         knee_flexion=knee)  # fmt: skip
    pts = wrapped_path(ctx, line, tr)[0]
    bodies = path_point_bodies(ctx, line)
    assert len(bodies) == len(pts)
    last_pelvis = max(i for i, b in enumerate(bodies) if b == "pelvis")
    assert all(b != "pelvis" for b in bodies[last_pelvis + 1 :])
    a = pts[last_pelvis]
    # the first distinct point beyond the pelvis side (unengaged wraps repeat their start point)
    nxt = next(p for p in pts[last_pelvis + 1 :] if np.linalg.norm(p - a) > 1e-9)
    u = (a - nxt) / np.linalg.norm(a - nxt)
    z = np.array([0.0, 0.0, 1.0])  # pelvis z; the pelvis frame is the model frame
    return float(np.cross(nxt - ctx.skeleton.hip_centre, u) @ z)


GEOMETRY_POSES = [(0, 0, 0, 0), (30, 0, 0, 0), (60, 90, 0, 0), (90, 0, 0, 0), (110, 0, 0, 0),
                  (125, 90, 0, 0), (45, 0, 10, -15), (-15, 0, 0, 0)]  # fmt: skip


@pytest.mark.parametrize("muscle", ["adductor_longus", "iliacus"])
def test_moment_arm_matches_geometry(model, model_context, muscle) -> None:  # type: ignore[no-untyped-def]
    (line,) = [ln for ln in model_context.lines if ln.muscle == muscle]
    assert bool(line.wraps) == (muscle == "iliacus")
    errors = []
    for hip, knee, add, rot in GEOMETRY_POSES:
        geo = _geometric_moment_arm(model_context, line, hip, knee, add, rot)
        num = float(model.at(hip, knee, hip_adduction=add, hip_rotation=rot).muscle(muscle)[
            "moment_arm_hip_flexion"][0])  # fmt: skip
        if abs(geo - num) > 0.1 * MM:
            errors.append(f"pose {(hip, knee, add, rot)}: geometry {1000 * geo:.3f} mm, "
                          f"length derivative {1000 * num:.3f} mm")  # fmt: skip
    assert not errors, "\n".join(errors)


# --- 3b. fibre model: rigid tendon, fixed-width pennation, Millard force-length ----------------


def test_fixed_width_fibre_matches_opensim() -> None:
    """Rajagopal's iliacus at 110 deg hip flexion, knee 0: the rigid-angle rule gives 0.354 of
    optimal; OpenSim 4.6's own getNormalizedFiberLength with a rigid tendon gives 0.438
    (tools/opensim_reference.py; pennation at optimum 16.04 deg)."""
    c = np.cos(np.radians(16.04))
    norm, cos_pennation = pennated_fiber(0.354 * c, c)
    assert float(norm) == pytest.approx(0.438, abs=0.001)
    assert np.degrees(np.arccos(cos_pennation)) == pytest.approx(39.1, abs=0.2)  # OpenSim: 39.1


def test_fixed_width_keeps_fibre_height_and_reads_slack() -> None:
    c = np.cos(np.radians(20.0))
    along = np.linspace(-0.5, 1.5, 81)
    norm, cos_pennation = pennated_fiber(along, c)
    taut = along > 0
    height = norm[taut] * np.sqrt(1 - cos_pennation[taut] ** 2)
    np.testing.assert_allclose(height, np.sin(np.radians(20.0)), rtol=1e-12)
    np.testing.assert_allclose(norm[taut] * cos_pennation[taut], along[taut], rtol=1e-12)
    assert np.all(norm[~taut] <= 0) and np.all(cos_pennation[~taut] == 0)
    # an unpennated muscle exactly at its tendon slack length: slack, no NaN
    assert pennated_fiber(0.0, 1.0) == (0.0, 0.0)
    # no pennation: the fibre lies along the tendon
    norm0, cos0 = pennated_fiber(along[taut], 1.0)
    np.testing.assert_allclose(norm0, along[taut])
    np.testing.assert_allclose(cos0, 1.0)


def test_force_length_follows_millard_curve() -> None:
    """The subset in biomechanics.md section 4, and a point between the table's samples
    (0.44: 0.287, OpenSim 4.6 ActiveForceLengthCurve(0.25, 0.77, 1.9, 0.75, 0))."""
    ref = {0.5: 0.41, 0.6: 0.62, 0.7: 0.80, 0.8: 0.89, 1.0: 1.00, 1.2: 0.84, 1.4: 0.59,
           1.6: 0.34, 0.44: 0.287}  # fmt: skip
    got = active_force_length(np.array(list(ref)))
    np.testing.assert_allclose(got, list(ref.values()), atol=0.006)
    assert np.all(active_force_length(np.array([0.2, 0.25, 1.9, 2.0, -0.3, np.nan])) == 0)


def test_fibres_of_one_pose_on_floats_equal_numpys() -> None:
    """One pose takes the fibre model on Python floats (``fibres_one``, a slider step): to the
    bit what ``pennated_fiber`` and ``active_force_length`` give, slack, taut, off either end of
    the force-length curve, on its knots, unpennated and not a number alike."""
    rng = np.random.default_rng(3)
    along = np.concatenate([rng.uniform(-0.6, 2.2, 4000), np.arange(-0.3, 2.01, 0.05), [0.0, np.nan]])
    cos = np.cos(np.radians(rng.choice([0.0, 3.0, 11.5, 16.04, 28.0], along.size)))
    sin2 = 1.0 - cos * cos
    norm, cos_pennation = pennated_fiber(along, cos, sin2)
    fl = active_force_length(norm)
    got = fibres_one(along.tolist(), cos.tolist(), sin2.tolist())
    for mine, numpys in zip(got, (norm, cos_pennation, fl), strict=True):
        np.testing.assert_array_equal(np.array(mine), numpys)
        assert np.array_equal(np.signbit(mine), np.signbit(numpys))  # zeros of the same sign


# --- 4. behaviours: slack, knee dependence, sign changes ------------------------------------------


def test_rectus_femoris_slack_straight_knee_but_useful_bent(model) -> None:  # type: ignore[no-untyped-def]
    straight = model.at(100, 0).muscle("rectus_femoris")
    bent = model.at(100, 90).muscle("rectus_femoris")
    assert straight["norm_fiber_length"][0] <= 0
    assert straight["slack"][0] == 1.0 and straight["max_moment_hip_flexion"][0] == 0.0
    assert straight["moment_arm_hip_flexion"][0] > 0  # a lever but no force: active insufficiency
    assert bent["force_length_factor"][0] > 0.5
    assert bent["max_moment_hip_flexion"][0] > 0


def test_rectus_femoris_goes_slack_between_70_and_90_with_knee_straight(sweeps) -> None:  # type: ignore[no-untyped-def]
    norm = sweeps[0.0].muscle("rectus_femoris")["norm_fiber_length"]
    slack = HIP_SWEEP[norm <= 0]
    assert slack.size, "rectus femoris never goes slack with the knee straight"
    onset = slack.min()
    assert 70 <= onset <= 90, f"rectus femoris goes slack at {onset:g} deg"
    assert np.all(norm[onset <= HIP_SWEEP] <= 0), "slack should persist once reached"


@pytest.mark.parametrize("muscle", ["adductor_longus", "pectineus"])
def test_adductors_turn_from_flexor_to_extensor(sweeps, muscle) -> None:  # type: ignore[no-untyped-def]
    ma = sweeps[0.0].muscle(muscle)["moment_arm_hip_flexion"]
    window = (HIP_SWEEP >= 60) & (HIP_SWEEP <= 95)
    w = ma[window]
    assert w[0] > 0 and w[-1] < 0, (
        f"{muscle}: {1000 * w[0]:.1f} mm at 60, {1000 * w[-1]:.1f} mm at 95"
    )
    assert np.count_nonzero(np.diff(np.sign(w)) != 0) == 1, f"{muscle} changes sign more than once"


@pytest.mark.parametrize("knee", [0.0, 90.0])
def test_piriformis_turns_from_external_to_internal_rotator(sweeps, knee) -> None:  # type: ignore[no-untyped-def]
    """The classic change of role with hip flexion, computed from the path: an external rotator
    standing, an internal rotator in deep flexion, one crossing in between."""
    rot = sweeps[knee].muscle("piriformis")["moment_arm_hip_rotation"]
    assert rot[HIP_SWEEP == 0][0] < -0.01 and rot[HIP_SWEEP == 110][0] > 0.005
    assert np.count_nonzero(np.diff(np.sign(rot)) != 0) == 1


@pytest.mark.parametrize("knee", [0.0, 90.0])
def test_obturator_externus_acts_as_the_literature_says(model, sweeps, knee) -> None:  # type: ignore[no-untyped-def]
    """Obturator externus, computed from its path over the neck sling (positive: flexor,
    adductor, internal rotator). Near the neutral pose it flexes, adducts and turns the thigh
    outward: it is longest in extension, abduction and internal rotation, and its moments are
    largest near neutral (Vaarbakken et al. 2015, Clin Biomech 30:231-237: wires along the
    dissected muscles of three mobilized cadaver hips). With the hip neutral and with it
    flexed 90 deg its primary action is external rotation, and in flexion it adducts (Gudena
    et al. 2015, Hip Int 25:424-427: a string model on a plastic pelvis and femur, after 18
    dissected hips). The knee does not change it (it does not cross the knee)."""
    res = sweeps[knee].muscle("obturator_externus")
    flex, add, rot = (res[f"moment_arm_hip_{q}"] for q in ("flexion", "adduction", "rotation"))
    neutral, flexed = HIP_SWEEP == 0, HIP_SWEEP == 90
    assert flex[neutral][0] > 0 and add[neutral][0] > 0 and rot[neutral][0] < 0
    assert rot[flexed][0] < 0 and add[flexed][0] > 0
    # longest in extension, abduction and internal rotation: each lengthens it from neutral
    j = model.muscles.index("obturator_externus")
    at = model.sweep(0.0, knee_flexion=knee)["length"][0, j]
    for pose in ({"hip_flexion": -10.0}, {"hip_adduction": -10.0}, {"hip_rotation": 10.0}):
        assert model.sweep(**{"hip_flexion": 0.0, **pose}, knee_flexion=knee)["length"][0, j] > at, pose


def test_obturator_externus_starts_and_ends_outside_the_neck_sling(model_context) -> None:  # type: ignore[no-untyped-def]
    """The neck sling holds the femoral head and its capsule whole (a cylinder through the head
    centre with the head sphere's radius, tools/derive_paths.py, _neck_sling). An end inside a
    wrap shrinks it to that end's distance from the axis, and about the neck's own axis, which
    has the trochanteric fossa inside, or where the origin came inside with the hip flexed and
    abducted, the line cut the back of the head (up to 13 mm). Over a 5-degree grid of the
    explorer's ranges both ends stay outside it."""
    from hipflex.state import POSE_RANGES

    ctx = model_context
    sling = ctx.anatomy.wraps["femoral_neck_sling_r"]
    head = ctx.anatomy.wraps["femoral_head_posterior_r"]
    axis = np.asarray(sling.axis) / np.linalg.norm(sling.axis)
    assert np.allclose(sling.centre, head.centre) and sling.radius == head.radius

    def from_axis(q: np.ndarray) -> np.ndarray:
        q = q - np.asarray(sling.centre)
        return np.linalg.norm(q - np.outer(q @ axis, axis), axis=-1)

    line = next(ln for ln in ctx.lines if ln.muscle == "obturator_externus")
    assert line.wraps == ("femoral_neck_sling_r",) and line.bodies == ("pelvis", "femur_r")
    assert from_axis(line.points[-1][None])[0] > sling.radius
    grid = np.meshgrid(*(np.arange(lo, hi + 1e-9, 5.0) for lo, hi in
                         (POSE_RANGES[c] for c in ("hip_flexion", "hip_adduction", "hip_rotation"))),
                       indexing="ij")  # fmt: skip
    tr = body_transforms(ctx.skeleton, *(g.ravel() for g in grid))
    inv = np.linalg.inv(tr["femur_r"])
    origin = np.einsum("nij,j->ni", inv[:, :3, :3], line.points[0]) + inv[:, :3, 3]
    least = from_axis(origin)
    assert least.min() > sling.radius, f"origin {1000 * least.min():.1f} mm from the sling's axis"


def test_tfl_keeps_a_flexor_lever_at_100(model) -> None:  # type: ignore[no-untyped-def]
    assert model.at(100, 0).muscle("tensor_fasciae_latae")["moment_arm_hip_flexion"][0] > 0


# --- 5. plausibility bands (biomechanics.md section 2) --------------------------------------------

BANDS_MM = {"iliacus": (20, 60), "psoas": (15, 60), "rectus_femoris": (20, 65),
            "sartorius": (20, 90), "adductor_longus": (-40, 60)}  # fmt: skip


@pytest.mark.parametrize("muscle", list(BANDS_MM))
def test_moment_arm_plausibility_bands(sweeps, muscle) -> None:  # type: ignore[no-untyped-def]
    lo, hi = BANDS_MM[muscle]
    sel = (HIP_SWEEP >= 0) & (HIP_SWEEP <= 90)
    ma = sweeps[0.0].muscle(muscle)["moment_arm_hip_flexion"][sel] / MM
    out = HIP_SWEEP[sel][(ma < lo) | (ma > hi)]
    assert out.size == 0, (
        f"{muscle} outside {lo}..{hi} mm at {out} deg (range {ma.min():.1f}..{ma.max():.1f})"
    )


def test_flexor_moment_arms_have_the_cadavers_shape(sweeps) -> None:  # type: ignore[no-untyped-def]
    """Kumazaki et al. 2022 (cadaver limbs, 0-90 deg): iliacus's and psoas's moment arms stay
    flat through mid flexion (iliacus's parts to 10-60 deg, psoas to 50) and then rise steeply
    to 90; rectus femoris's peaks at 40 deg and falls; iliacus overtakes it at 40-80 deg (by
    part). The bounds are the paper's ranges; where it gives one angle, 10 deg either side."""
    sel = (HIP_SWEEP >= 0) & (HIP_SWEEP <= 90)
    angle = HIP_SWEEP[sel]
    ma = {m: sweeps[0.0].muscle(m)["moment_arm_hip_flexion"][sel]
          for m in ("iliacus", "psoas", "rectus_femoris")}  # fmt: skip
    for muscle, (lo, hi) in {"iliacus": (10, 60), "psoas": (40, 60)}.items():
        rises = angle[ma[muscle] > 1.05 * ma[muscle][0]][0]
        assert lo <= rises <= hi, f"{muscle} starts to rise at {rises:g} deg"
        early = ma[muscle][angle == 50][0] - ma[muscle][0]
        late = ma[muscle][-1] - ma[muscle][angle == 60][0]
        assert late > 2 * early, f"{muscle}: +{early / MM:.1f} mm over 0-50, +{late / MM:.1f} over 60-90"
    rf = ma["rectus_femoris"]
    assert 30 <= angle[np.argmax(rf)] <= 50 and rf[-1] < rf.max()
    overtakes = angle[ma["iliacus"] > rf][0]
    assert 40 <= overtakes <= 80 and (ma["iliacus"][angle >= overtakes] > rf[angle >= overtakes]).all()


# --- 6. bad input ---------------------------------------------------------------------------------


def test_bad_input_raises_pose_error(model_context) -> None:  # type: ignore[no-untyped-def]
    model = HipModel(model_context)
    with pytest.raises(PoseError, match=r"hip_flexion.*not a finite number"):
        model.at(float("nan"))
    with pytest.raises(PoseError, match=r"knee_flexion.*not a finite number"):
        model.sweep([0.0, 10.0], knee_flexion=[0.0, float("nan")])
    with pytest.raises(PoseError, match=r"hip_flexion = 200 deg is outside the joint range"):
        model.at(200)
    with pytest.raises(PoseError, match="unknown muscle id 'iliopsoas_major'"):
        model.at(30).muscle("iliopsoas_major")
    with pytest.raises(PoseError, match="unknown muscle id 'iliopsoas_major'"):
        model.set_strength("iliopsoas_major", 0.5)
    with pytest.raises(PoseError, match=r"strength of psoas must be 0\.\.2"):
        model.set_strength("psoas", 3.0)
    with pytest.raises(PoseError, match=r"strength of psoas must be 0\.\.2"):
        model.set_strength("psoas", float("nan"))
    assert "psoas" not in model.strength  # rejected values are not stored


# --- 7. explanations ------------------------------------------------------------------------------


def test_explain_straight_knee_at_110(model) -> None:  # type: ignore[no-untyped-def]
    statements = model.explain(110, 0)
    slack = [
        s
        for s in statements
        if s["quantity"] == "norm_fiber_length" and s["muscles"] == ["rectus_femoris"]
    ]
    assert len(slack) == 1 and "slack" in str(slack[0]["text"])
    assert model.ctx.anatomy.muscles["rectus_femoris"].display_name in str(slack[0]["text"])
    assert float(slack[0]["value"]) <= 0  # type: ignore[arg-type]

    mm = model.at(110, 0).values["max_moment_hip_flexion"][0]
    pos = np.clip(mm, 0, None)
    ilio = sum(pos[model.muscles.index(m)] for m in ("iliacus", "psoas"))
    expected = ilio / pos.sum()
    share = [s for s in statements if s["quantity"] == "max_moment_hip_flexion"
             and sorted(s["muscles"]) == ["iliacus", "psoas"]]  # type: ignore[arg-type]  # fmt: skip
    assert len(share) == 1 and "iliopsoas" in str(share[0]["text"])
    assert share[0]["value"] == pytest.approx(expected, rel=1e-9)
    assert f"{100 * expected:.0f}%" in str(share[0]["text"])

    caveats = [s for s in statements if s["quantity"] == "caveat"]
    assert caveats and all(str(c["text"]).strip() for c in caveats)
    assert statements[-len(caveats) :] == caveats  # caveats come last


@pytest.mark.parametrize("hip", [30.0, 90.0, 110.0])
def test_explain_names_the_other_flexors_and_their_side_actions(model, hip) -> None:  # type: ignore[no-untyped-def]
    """The share statement names every other flexor with at least 5% of the capacity; a flexor
    with at least 10% whose rotation or adduction lever is at least twice its flexion lever gets
    a statement saying its share is an upper bound (thresholds from the statement's rule, the
    quantities recomputed here from model.at)."""
    pose = model.at(hip, 0)
    pos = np.clip(pose["max_moment_hip_flexion"][0], 0, None)
    part = pos / pos.sum()
    names = {m: model.ctx.anatomy.muscles[m].display_name for m in model.muscles}
    statements = model.explain(hip, 0)
    head = next(s for s in statements if sorted(s["muscles"]) == ["iliacus", "psoas"])  # type: ignore[arg-type]
    expected_side = set()
    for j, m in enumerate(model.muscles):
        if m in ("iliacus", "psoas") or part[j] < 0.05:
            continue
        name = names[m] if names[m][1:2].isupper() else names[m][:1].lower() + names[m][1:]
        assert f"{name} {100 * part[j]:.0f}%" in str(head["text"])
        flex = pose["moment_arm_hip_flexion"][0, j]
        side = max(abs(pose["moment_arm_hip_rotation"][0, j]),
                   abs(pose["moment_arm_hip_adduction"][0, j]))  # fmt: skip
        if part[j] >= 0.10 and flex > 0 and side >= 2 * flex:
            expected_side.add(m)
    sided = [s for s in statements
             if str(s["quantity"]) in ("moment_arm_hip_rotation", "moment_arm_hip_adduction")]  # fmt: skip
    got = [m for s in sided for m in s["muscles"]]  # type: ignore[attr-defined]
    assert sorted(got) == sorted(expected_side)  # each muscle in one statement only
    for s in sided:  # one statement per side action: every muscle in it acts the same way
        signs = {np.sign(pose[str(s["quantity"])][0, model.muscles.index(m)])
                 for m in s["muscles"]}  # type: ignore[attr-defined]  # fmt: skip
        assert len(signs) == 1
        assert ("upper bounds" in str(s["text"])) == (len(s["muscles"]) > 1)  # type: ignore[arg-type]
    if hip == 110.0:  # this body: gluteus medius turns the thigh inward far more than it flexes
        assert "gluteus_medius" in got


@pytest.mark.parametrize(("hip", "knee", "acc"),
                         [(-20.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 90.0, 0.0), (60.0, 0.0, 0.0),
                          (110.0, 0.0, 0.0), (10.0, 45.0, 0.0), (60.0, 30.0, 40.0),
                          (-10.0, 0.0, -30.0), (20.0, 0.0, 200.0)])  # fmt: skip
def test_explain_hold_statement_follows_the_solver(model, hip, knee, acc) -> None:  # type: ignore[no-untyped-def]
    """The hold statement says "no effort" exactly where the solver activates no muscle (a
    required moment at or below zero), however small the moment is; elsewhere it names the
    moment, iliopsoas's part of it and the muscle with the largest share; a knee drive is called
    one; a shortfall names the highest angle that can be held."""
    res = model.at(hip, knee, hip_acceleration=acc)
    req = float(res.required_moment[0])
    hold = next(s for s in model.explain(hip, knee, hip_acceleration=acc)
                if s["quantity"] == "activation")  # fmt: skip
    text = str(hold["text"])
    assert hold["value"] == pytest.approx(req)
    assert text.startswith("Holding the leg here" if acc == 0 else
                           "Driving the knee up" if acc > 0 else "Accelerating the leg toward")  # fmt: skip
    resting = not res["activation"][0].any()
    assert ("no hip-flexion effort" in text) == resting
    if resting:
        assert hold["muscles"] == []
        assert ("extensors carry it" in text) == (round(req, 1) < 0)
    elif res.feasible[0]:
        assert f"needs {req:.1f} N m" in text if req < 9.95 else f"needs {req:.0f} N m" in text
        held = float(res.muscle("iliacus")["share"][0] + res.muscle("psoas")["share"][0])
        assert f"Iliopsoas carries {100 * held:.0f}% of that moment" in text
        assert hold["muscles"] == [res.muscles[int(np.argmax(res["share"][0]))]]
    else:
        limit = model.highest_hold_angle(knee, acc)
        assert ("cannot at any hip angle" in text) if limit is None else f"is {limit:g} deg" in text


@pytest.mark.parametrize(("hip", "knee"), [(110.0, 0.0), (110.0, 90.0), (60.0, 0.0), (0.0, 90.0),
                                           (0.0, 0.0), (40.0, 120.0)])  # fmt: skip
def test_knee_contrast_is_the_knee_posture_that_changes_the_force_most(model, hip, knee) -> None:  # type: ignore[no-untyped-def]
    """For each two-joint flexor the contrast knee angle is found, not fixed: over the knee's
    range the first angle where the force-length factor differs most from this pose's; the
    statement appears exactly when that difference exceeds 0.2."""
    from hipflex.model.explain import contrast_knees

    knees = contrast_knees(model)
    assert knees[0] == model.ctx.skeleton.ranges["knee_flexion"][0]
    assert knees[-1] == model.ctx.skeleton.ranges["knee_flexion"][1]
    here = model.at(hip, knee)
    grid = model.sweep(np.full(len(knees), hip), knee_flexion=np.array(knees))
    got = {s["muscles"][0]: str(s["text"]) for s in model.explain(hip, knee)  # type: ignore[index]
           if s["quantity"] == "force_length_factor" and "instead" in str(s["text"])}  # fmt: skip
    expected = {}
    for j, m in enumerate(model.muscles):
        if here["moment_arm_hip_flexion"][0, j] > 0.005 and abs(here["moment_arm_knee_flexion"][0, j]) > 0.005:
            change = grid["force_length_factor"][:, j] - here["force_length_factor"][0, j]
            k = int(np.argmax(np.abs(change)))
            if abs(change[k]) > 0.2:
                expected[m] = knees[k]
    assert set(got) == set(expected)
    for m, k in expected.items():
        words = "straight" if k == 0 else f"at {k:g} deg"
        assert got[m].startswith(f"With the knee {words} instead,")
    if (hip, knee) == (110.0, 0.0):  # this body: rectus femoris is slack, a bent knee rescues it
        assert "keeps it useful" in got["rectus_femoris"]


def test_explain_bent_knee_at_110_has_no_rf_slack(model) -> None:  # type: ignore[no-untyped-def]
    statements = model.explain(110, 90)
    rf = [s for s in statements if "rectus_femoris" in s["muscles"]]  # type: ignore[operator]
    assert not [
        s for s in rf if s["quantity"] == "norm_fiber_length" or "is slack" in str(s["text"])
    ]
    # the contrast with a straight knee says what the bent knee buys
    contrast = [s for s in rf if s["quantity"] == "force_length_factor"]
    assert len(contrast) == 1 and "knee straight instead" in str(contrast[0]["text"])
    assert "would be slack" in str(contrast[0]["text"])
    assert any(s["quantity"] == "caveat" for s in statements)


@pytest.mark.parametrize("hip", [40.0, 110.0])
def test_explain_groups_the_flexors_that_now_extend(model, hip) -> None:  # type: ignore[no-untyped-def]
    """Muscles that flex the hip standing (moment arm > 5 mm) and extend it here (< -5 mm) are
    named together in one statement, with both moment arms; the set is recomputed here."""
    here, standing = model.sweep([hip, 0.0])["moment_arm_hip_flexion"]
    expected = [m for j, m in enumerate(model.muscles) if standing[j] > 0.005 and here[j] < -0.005]
    assert expected  # this body: gracilis by 40 deg, the adductors and pectineus by 110
    got = [s for s in model.explain(hip, 0) if s["quantity"] == "moment_arm_hip_flexion"
           and "now extend" in str(s["text"])]  # fmt: skip
    assert len(got) == 1 and got[0]["muscles"] == expected
    text = str(got[0]["text"])
    for m in expected:
        j = model.muscles.index(m)
        assert model.ctx.anatomy.muscles[m].display_name.lower() in text.lower()
        assert f"{1000 * here[j]:.0f}" in text and f"{1000 * standing[j]:+.0f}" in text
    assert got[0]["value"] == pytest.approx(min(here[model.muscles.index(m)] for m in expected))


@pytest.mark.parametrize(("hip", "knee"), [(110.0, 0.0), (90.0, 90.0), (0.0, 0.0), (30.0, 0.0)])
def test_explain_says_why_iliopsoas_still_lifts_with_its_computed_lever(model, hip, knee) -> None:  # type: ignore[no-untyped-def]
    """Where iliopsoas's flexion lever differs from standing's by 10% or more, the why says so
    with both levers and its fibres' force; where it does not (standing, 30 deg on the
    femoral-head pulley), nothing is said."""
    res = model.sweep([hip, 0.0], knee_flexion=knee)
    ilio = [model.muscles.index(m) for m in ("iliacus", "psoas")]
    here, standing = res["moment_arm_hip_flexion"][:, ilio]
    ratio = here.sum() / standing.sum()
    said = [s for s in model.explain(hip, knee) if s["muscles"] == ["iliacus", "psoas"]
            and s["quantity"] == "moment_arm_hip_flexion"]  # fmt: skip
    if abs(ratio - 1) < 0.10:
        assert not said
        return
    assert len(said) == 1 and said[0]["value"] == pytest.approx(ratio)
    text = str(said[0]["text"])
    assert ("has grown" in text) == (ratio > 1) and ratio > 1.3  # this body: 50/29, 54/28 at 110
    for a in (*here, *standing):
        assert f"{1000 * a:.0f}" in text
    force = res["force_length_factor"][0, ilio]
    assert all(f"{100 * f:.0f}%" in text for f in force)


# --- 8. strength scaling and the hold task --------------------------------------------------------


def test_strength_scales_max_moment(model_context) -> None:  # type: ignore[no-untyped-def]
    full = HipModel(model_context).at(60).muscle("psoas")["max_moment_hip_flexion"][0]
    weak_model = HipModel(model_context)
    weak_model.set_strength("psoas", 0.5)
    weak = weak_model.at(60)
    assert full > 0
    assert weak.muscle("psoas")["max_moment_hip_flexion"][0] == pytest.approx(0.5 * full, rel=1e-12)
    # other muscles untouched
    ref = HipModel(model_context).at(60)
    others = [j for j, m in enumerate(ref.muscles) if m != "psoas"]
    np.testing.assert_allclose(weak["max_moment_hip_flexion"][0, others],
                               ref["max_moment_hip_flexion"][0, others], rtol=1e-12)  # fmt: skip


def test_hold_task_is_the_weights_moment_about_the_flexion_axis_in_any_pose(model) -> None:  # type: ignore[no-untyped-def]
    """Off the sagittal plane too, the hold task asks the flexors for the leg's weight moment
    about the pelvis's medio-lateral axis (flexion's, the first rotation) and, for a knee drive,
    the leg's moment of inertia about it (each segment's own inertia too, turned with it: until
    session 32 its sagittal radius of gyration stood for any tilt). Checked by virtual work against the leg's potential
    energy, its segments hanging along the femur's and tibia's -y as ``body_transforms`` poses
    them (de Leva 1996 fractions, as in hipflex.model.segments); and, knee straight, adducting
    by 30 deg shortens every lever by cos 30 deg. Until session 31 the task took adduction and
    rotation as 0 while the muscles' capacities took the whole pose."""
    rng = np.random.default_rng(31)
    n = 300
    pose = {"hip_flexion": rng.uniform(-20, 130, n), "hip_adduction": rng.uniform(-30, 30, n),
            "hip_rotation": rng.uniform(-40, 40, n), "knee_flexion": rng.uniform(0, 140, n)}  # fmt: skip
    h, m = model.height, model.body_mass
    lt, ls = 422.2 / 1741 * h, 434.0 / 1741 * h
    masses = np.array([0.1416, 0.0433, 0.0137]) * m

    def centres(p: dict[str, np.ndarray]) -> np.ndarray:  # (3 masses, n, 3), from the hip centre
        tr = body_transforms(model.ctx.skeleton, **p)
        thigh, shank = tr["femur_r"][:, :3, 1] * -1, tr["tibia_r"][:, :3, 1] * -1
        return np.array([0.4095 * lt * thigh, lt * thigh + 0.4459 * ls * shank,
                         lt * thigh + ls * shank])  # fmt: skip

    step = 1e-4  # deg
    up, down = dict(pose), dict(pose)
    up["hip_flexion"], down["hip_flexion"] = pose["hip_flexion"] + step, pose["hip_flexion"] - step
    energy = [9.81 * np.einsum("k,kn->n", masses, centres(p)[:, :, 1]) for p in (up, down)]
    held = model.sweep(**pose).required_moment
    np.testing.assert_allclose(held, (energy[0] - energy[1]) / np.radians(2 * step), atol=1e-6)
    plane = centres(pose)[:, :, :2]
    # each segment's own inertia tensor (de Leva 1996: radii 0.329 / 0.149 thigh, 0.255 / 0.103
    # shank, across / along its long axis, the body's y), turned into the pelvis frame by its
    # posed rotation; the flexion axis (z) sees its zz element
    tr = body_transforms(model.ctx.skeleton, **pose)
    own = np.zeros(n)
    for mass, length, (across, along), body in ((masses[0], lt, (0.329, 0.149), "femur_r"),
                                                (masses[1], ls, (0.255, 0.103), "tibia_r")):  # fmt: skip
        tensor = mass * length**2 * np.diag([across**2, along**2, across**2])
        rot = tr[body][:, :3, :3]
        own += np.einsum("ni,ij,nj->n", rot[:, 2, :], tensor, rot[:, 2, :])
    inertia = own + np.einsum("k,kn->n", masses, (plane**2).sum(axis=2))
    driven = model.sweep(**pose, hip_acceleration=10.0).required_moment
    np.testing.assert_allclose(driven - held, 10.0 * inertia, rtol=1e-9)
    hips = np.arange(0.0, 130.0 + 1e-9, 10.0)
    np.testing.assert_allclose(model.sweep(hips, hip_adduction=30.0, hip_rotation=25.0).required_moment,
                               np.cos(np.radians(30.0)) * model.sweep(hips).required_moment,
                               rtol=1e-12, atol=1e-12)  # fmt: skip


def test_explain_speaks_of_the_whole_pose(model) -> None:  # type: ignore[no-untyped-def]
    """Off the sagittal plane the statements are the pose's own: its name, the capacity share
    and the hold task from the model at the whole pose (until session 31 they were the
    sagittal plane's, with a note saying so)."""
    said = model.explain(110.0, 0.0, hip_adduction=-15.0, hip_rotation=20.0)
    first = str(said[0]["text"])
    assert first.startswith("At 110 deg hip flexion, the hip abducted 15 deg and turned in 20 deg,")
    at = model.at(hip_flexion=110.0, hip_adduction=-15.0, hip_rotation=20.0)
    capacity = np.clip(at["max_moment_hip_flexion"][0], 0, None)
    ilio = [at.muscles.index("iliacus"), at.muscles.index("psoas")]
    assert said[0]["value"] == pytest.approx(capacity[ilio].sum() / capacity.sum(), rel=1e-12)
    sagittal = model.explain(110.0, 0.0)[0]["value"]
    assert abs(float(said[0]["value"]) - float(sagittal)) > 0.005  # the pose changes the answer
    task = next(s for s in said if s["quantity"] == "activation")
    assert task["value"] == pytest.approx(float(at.required_moment[0]), rel=1e-12)


def test_hold_task_required_moment(model) -> None:  # type: ignore[no-untyped-def]
    inertia = LegInertia(model.body_mass, model.height)
    assert float(
        inertia.hip_flexion_moment_required(np.array([[0.0, -1.0]]), np.array([[0.0, -1.0]]))[0]
    ) == pytest.approx(0, abs=1e-9)
    hips = np.arange(0.0, 90.0 + 1e-9, 1.0)
    req = model.sweep(hips, knee_flexion=0).required_moment
    assert req[0] == pytest.approx(0.0, abs=1e-9)
    assert np.all(np.diff(req) > 0), "required moment should grow with flexion up to 90 deg"
    # an independent estimate at 90 deg: whole leg horizontal, masses at their centres
    h, m = model.height, model.body_mass
    lt, ls = 422.2 / 1741 * h, 434.0 / 1741 * h
    lever = 0.1416 * m * 0.4095 * lt + 0.0433 * m * (lt + 0.4459 * ls) + 0.0137 * m * (lt + ls)
    assert req[-1] == pytest.approx(9.81 * lever, rel=1e-9)


def test_weak_flexors_hold_lower(model_context) -> None:  # type: ignore[no-untyped-def]
    full = HipModel(model_context)
    full_angle = full.highest_hold_angle(knee_flexion=0)
    _lo, hi = model_context.skeleton.ranges["hip_flexion"]
    grid = full.sweep(np.arange(0.0, hi + 1e-9, 5.0))
    flexors = [
        m for j, m in enumerate(grid.muscles) if np.any(grid["max_moment_hip_flexion"][:, j] > 0)
    ]
    assert {"iliacus", "psoas", "rectus_femoris"} <= set(flexors)
    weak = HipModel(model_context)
    for m in flexors:
        weak.set_strength(m, 0.05)
    weak_angle = weak.highest_hold_angle(knee_flexion=0)
    assert full_angle is not None and full_angle > 0
    assert weak_angle is None or weak_angle < full_angle


# --- the issue's share target ----------------------------------------------------------------------


def test_iliopsoas_dominates_at_110_knee_straight(model_context) -> None:  # type: ignore[no-untyped-def]
    """With the knee straight at 110 deg, iliacus + psoas supply at least 60% of the available
    hip-flexion moment, 'available' meaning what the muscles can give in a free knee lift: their
    adduction and rotation moments cancelled (hipflex.model.lift). The plain sum of capacities
    (55% here, said first by explain) credits gluteus medius and minimus with flexion that comes
    with several times as much internal rotation. The figure must not hang on the deep external
    rotators, whose peak forces rest on one scaling rule, nor on external rotation the model may
    lack: it holds with them at 0% and 200% and with a 40 N m pure external rotator added."""
    from hipflex.model.lift import lift_capacity, pose_moments

    model = HipModel(model_context)  # strengths change below
    assert model.lift_capacity(110.0, 0.0).share_low >= 0.6
    rotators = [m for m in model.muscles if model.ctx.anatomy.muscles[m].group == "rotators"]
    assert rotators, "the deep external rotators are part of the claim"
    for fraction in (0.0, 2.0):
        for m in rotators:
            model.set_strength(m, fraction)
        assert model.lift_capacity(110.0, 0.0).share_low >= 0.6, fraction
    for m in rotators:
        model.set_strength(m, 1.0)
    res = model.at(110.0, 0.0)
    moments = pose_moments(res)
    ilio = [model.muscles.index(m) for m in ("iliacus", "psoas")]
    extra = lift_capacity(np.hstack([moments, [[0.0], [0.0], [-40.0]]]), ilio)
    assert extra.share_low >= 0.6


def test_paths_stay_out_of_bone(model_context) -> None:  # type: ignore[no-untyped-def]
    """No sampled path point more than 2 mm inside any bone, hip -20..130 deg, knee 0 and 90."""
    ctx = model_context
    problems = []
    for knee in (0.0, 90.0):
        tr = body_transforms(ctx.skeleton, hip_flexion=HIP_SWEEP, knee_flexion=knee)
        for line in ctx.lines:
            per_pose = _deepest_in_bone(ctx, tr, line)
            bad = per_pose < -2 * MM
            if bad.any():
                problems.append(f"{line.name} knee {knee:g}: {1000 * per_pose.min():.1f} mm deep at "
                                f"{HIP_SWEEP[np.argmin(per_pose)]:g} deg ({bad.sum()} poses)")  # fmt: skip
    assert not problems, "\n".join(problems)


def _deepest_in_bone(ctx, tr, line):  # type: ignore[no-untyped-def]
    """Per pose, the signed distance of a line's deepest sample (25 a segment) from the nearest
    bone surface, over every bone (negative inside)."""
    frac = np.linspace(0.0, 1.0, 25)[None, None, :, None]
    pts = wrapped_path(ctx, line, tr)
    a, b = pts[:, :-1], pts[:, 1:]
    samples = a[:, :, None] + (b - a)[:, :, None] * frac
    worst = np.full(len(pts), np.inf)
    for body, dist in ctx.bone_distance.items():
        inv = np.linalg.inv(tr[body])
        local = np.einsum("nij,nksj->nksi", inv[:, :3, :3], samples) + inv[:, None, None, :3, 3]
        worst = np.minimum(worst, dist(local).reshape(len(pts), -1).min(axis=1))
    return worst


# Off the sagittal plane, where lines still cut the femur (docs/status.md), pinned at today's
# extent so that it cannot grow: (fraction of poses more than 2 mm inside, deepest). Tensor
# fasciae latae: with the hip extended and turned inward its arc round the femoral shaft
# cylinder starts at the trochanter's level, whose front is wider than the shaft (6.2 mm here).
# Sartorius (1.75%, 13.9 mm until session 29: with the hip extended, abducted and turned inward
# the femur sees the anterior superior iliac spine above and behind the greater trochanter, and
# the line ran through the trochanter and the base of the neck) passes in front of the
# trochanter sphere since then (0.07%, 2.0 mm). Rectus femoris, pinned at 1% and 7 mm until
# session 29, is within the default here (0.14%, 2.8 mm: its origin 2.5-2.8 mm inside the
# front of the femoral neck past 127 deg of flexion, which no wrap can move).
OFF_PLANE_KNOWN = {"tensor_fasciae_latae": (0.01, 7 * MM)}
# (hip flexion, knee flexion, hip adduction, hip rotation), deg: where session 23's probe found
# gluteus medius's posterior part deepest in the femur (7.4 mm)
OFF_PLANE_DEEPEST = [(128.0, 13.0, 12.0, -40.0)]


def test_no_line_runs_through_bone_off_the_sagittal_plane(model, model_context) -> None:  # type: ignore[no-untyped-def]
    """Over 1500 random poses in the explorer's ranges (adduction, rotation and the knee too)
    and OFF_PLANE_DEEPEST, leaving out those where bone meets bone (the femur in the pelvis: no
    path can be right there), every line passes more than 2 mm inside a bone in under 1% of
    poses and nowhere more than 5 mm, except those in OFF_PLANE_KNOWN. Before session 24
    gluteus medius's posterior part cut the top of the greater trochanter in deep flexion with
    adduction and outward rotation (up to 7.4 mm)."""
    from hipflex.state import POSE_RANGES

    ctx = model_context
    rng = np.random.default_rng(24)
    n = 1500
    pose = {c: rng.uniform(lo, hi, n) for c, (lo, hi) in POSE_RANGES.items()}
    for c, extra in zip(("hip_flexion", "knee_flexion", "hip_adduction", "hip_rotation"),
                        zip(*OFF_PLANE_DEEPEST, strict=True), strict=True):  # fmt: skip
        pose[c] = np.r_[pose[c], extra]
    apart = ~model.bone_contact(pose["hip_flexion"], pose["hip_adduction"],
                                pose["hip_rotation"]).touching  # fmt: skip
    assert apart.sum() > 0.9 * n and apart[n:].all()
    tr = body_transforms(ctx.skeleton, **{c: v[apart] for c, v in pose.items()})
    problems = []
    for line in ctx.lines:
        deepest = _deepest_in_bone(ctx, tr, line)
        share, depth = (deepest < -2 * MM).mean(), -deepest.min()
        limit = OFF_PLANE_KNOWN.get(line.muscle, (0.01, 5 * MM))
        if share >= limit[0] or depth > limit[1]:
            problems.append(f"{line.name}: {100 * share:.1f}% of poses, {1000 * depth:.1f} mm")
    assert not problems, "\n".join(problems)


def _femur_samples(ctx, muscle: str, seed: int, n: int = 600):  # type: ignore[no-untyped-def]
    """Each of a muscle's lines sampled 25 times a segment over ``n`` random explorer-range
    poses: (line, sample points in the femur frame (n, k, 25, 3), their depth in the femur
    (negative inside), the femur frame's knee-centre height)."""
    from hipflex.state import POSE_RANGES

    rng = np.random.default_rng(seed)
    pose = {c: rng.uniform(lo, hi, n) for c, (lo, hi) in POSE_RANGES.items()}
    tr = body_transforms(ctx.skeleton, **pose)
    knee_y = float(np.linalg.solve(tr["femur_r"][0], tr["tibia_r"][0, :, 3])[1])
    for line in ctx.lines:
        if line.muscle == muscle:
            local = _in_femur_frame(ctx, tr, line)
            yield line, local, ctx.bone_distance["femur_r"](local), knee_y


def _in_femur_frame(ctx, tr, line):  # type: ignore[no-untyped-def]
    """A line's wrapped path at poses ``tr``, sampled 25 times a segment, in the femur frame
    (n, k, 25, 3)."""
    inv = np.linalg.inv(tr["femur_r"])
    frac = np.linspace(0.0, 1.0, 25)[None, None, :, None]
    pts = wrapped_path(ctx, line, tr)
    a, b = pts[:, :-1], pts[:, 1:]
    samples = a[:, :, None] + (b - a)[:, :, None] * frac
    return np.einsum("nij,nksj->nksi", inv[:, :3, :3], samples) + inv[:, None, None, :3, 3]


def _deepest_in_femur(ctx, tr, line):  # type: ignore[no-untyped-def]
    """Per pose, the signed femur distance of a line's deepest sample (negative inside)."""
    local = _in_femur_frame(ctx, tr, line)
    return ctx.bone_distance["femur_r"](local).reshape(len(local), -1).min(axis=1)


def _model_without_wrap(ctx, real_pack, wrap: str, muscles) -> HipModel:  # type: ignore[no-untyped-def]
    """The model with one wrap surface taken out of these muscles' lines, all else the same:
    what a surface changes is the difference from ``model``."""
    from hipflex.model.skeleton import ModelContext

    anatomy = ctx.anatomy.model_copy(deep=True)
    for muscle in muscles:
        m = anatomy.muscles[muscle]
        anatomy.muscles[muscle] = m.model_copy(update={"line": [
            ln.model_copy(update={"wraps": [w for w in ln.wraps if w != wrap]})
            for ln in m.line]})  # fmt: skip
    return HipModel(ModelContext.load(real_pack, anatomy))


def test_gluteus_medius_stays_out_of_the_trochanter_off_the_sagittal_plane(model_context) -> None:  # type: ignore[no-untyped-def]
    """Over random poses in the explorer's ranges (adduction and rotation too), gluteus medius's
    lines pass over the top of the greater trochanter and the femoral head instead of through
    them. Before those wraps (session 11) 22% of these poses put the middle line more than
    2 mm inside the femur, up to 10 mm, and the posterior line up to 19 mm."""
    for line, _, depth, _ in _femur_samples(model_context, "gluteus_medius", seed=11):
        per_pose = depth.reshape(len(depth), -1).min(axis=1)
        assert (per_pose < -2 * MM).mean() < 0.01, line.name
        assert per_pose.min() > -5 * MM, line.name


def test_gluteus_minimus_passes_over_the_greater_trochanter(model_context) -> None:  # type: ignore[no-untyped-def]
    """Over random explorer poses gluteus minimus's line reaches the anterior facet over the
    top of the greater trochanter. Its straight line cut the trochanter's tip (session 13: 140
    of 3000 such poses more than 2 mm inside the femur, up to 3.9 mm, mostly adducted or
    extended)."""
    ((_, _, depth, _),) = _femur_samples(model_context, "gluteus_minimus", seed=13)
    per_pose = depth.reshape(len(depth), -1).min(axis=1)
    assert per_pose.min() > -2 * MM, f"{(per_pose < -2 * MM).sum()} poses, {1000 * per_pose.min():.1f} mm"


def test_gluteus_maximus_passes_behind_the_greater_trochanter(model_context) -> None:  # type: ignore[no-untyped-def]
    """Over random explorer poses gluteus maximus's lower line reaches the gluteal tuberosity
    behind the greater trochanter, over its posterior roller after the posterior hip cylinder.
    With the hip abducted and turned outward its straight last stretch cut the back of the
    trochanter and the intertrochanteric crest (session 14: 81 of 3000 such poses more than
    2 mm inside the femur, up to 8.9 mm)."""
    lower = [depth for line, _, depth, _ in _femur_samples(model_context, "gluteus_maximus", seed=14)
             if line.name == "gluteus_maximus_lower"]  # fmt: skip
    per_pose = lower[0].reshape(len(lower[0]), -1).min(axis=1)
    assert per_pose.min() > -2 * MM, f"{(per_pose < -2 * MM).sum()} poses, {1000 * per_pose.min():.1f} mm"


def test_trochanter_roller_counts_lateral_of_the_head_and_leaves_the_sagittal_plane(
    model, model_context, real_pack
) -> None:  # type: ignore[no-untyped-def]
    """The greater trochanter's posterior roller is fixed to the femur, after the pelvis-fixed
    posterior hip cylinder (``twowrap.resolve``'s ``distal`` rows): where the lower line wraps
    it, its tangent points lie lateral of the head centre (beyond the roller's centre along its
    axis), and the bridge from the hip cylinder is tangent to both; in the sagittal plane, where
    the roller stands just clear of the line, lengths and moment arms are those without it."""
    from hipflex.model.twowrap import resolve
    from hipflex.model.wrapping import line_points

    ctx = model_context
    ps = model.paths
    g, k = ps.line_group["gluteus_maximus_lower"]
    ((seg, wraps),) = ps.groups[g].segments.items()
    assert [c.body for c, _ in wraps] == ["pelvis", "femur_r"]
    rng = np.random.default_rng(14)
    n = 3000
    pose = {"hip_flexion": rng.uniform(-20, 130, n), "hip_adduction": rng.uniform(-30, 30, n),
            "hip_rotation": rng.uniform(-40, 40, n), "knee_flexion": rng.uniform(0, 140, n)}  # fmt: skip
    tr = body_transforms(ctx.skeleton, **pose)
    line = next(ln for ln in ctx.lines if ln.name == "gluteus_maximus_lower")
    pts = line_points(line, tr)
    p, s = pts[:, seg], pts[:, seg + 1]
    surfaces = []
    for cyl, senses in wraps:
        rot = tr[cyl.body][:, :3, :3]
        surfaces.append((rot @ cyl.centre + tr[cyl.body][:, :3, 3], rot @ cyl.side, rot @ cyl.axis,
                         np.full(n, senses[k]), np.full(n, cyl.radius), np.zeros(n, bool)))  # fmt: skip
    two = resolve(p, s, surfaces[0], surfaces[1], distal=np.ones(n, bool))
    roller = surfaces[1]
    for t in two.tangents[2:]:
        along = np.einsum("ij,ij->i", t - roller[0], roller[2])
        assert along[two.on1].min() >= 0.0
    both = two.state == 3
    assert both.sum() > 50  # the roller holds the line off the trochanter in these poses
    bridge = two.tangents[2] - two.tangents[1]
    bridge /= np.linalg.norm(bridge, axis=1, keepdims=True)
    for surface, point in ((surfaces[0], two.tangents[1]), (roller, two.tangents[2])):
        size, radial = _radial(point, surface)
        np.testing.assert_allclose(size[both], surface[4][both], atol=1e-9)
        assert np.abs(np.einsum("ij,ij->i", radial, bridge)[both]).max() < 1e-6
    # without the roller, in the sagittal plane: the same numbers
    bare = _model_without_wrap(ctx, real_pack, "greater_trochanter_posterior_r", ["gluteus_maximus"])
    for knee in (0.0, 90.0):
        with_roller = model.sweep(HIP_SWEEP, knee_flexion=knee)
        without = bare.sweep(HIP_SWEEP, knee_flexion=knee)
        for quantity in ("length", "moment_arm_hip_flexion", "moment_arm_hip_adduction",
                         "moment_arm_hip_rotation"):  # fmt: skip
            np.testing.assert_allclose(with_roller[quantity], without[quantity], rtol=0, atol=1e-12)


def test_iliotibial_tract_stays_outside_the_femoral_shaft(model_context) -> None:  # type: ignore[no-untyped-def]
    """Over random explorer poses, tensor fasciae latae's line (through the iliotibial tract)
    passes lateral of the femoral shaft, over the shaft cylinder, instead of through it. Before
    that wrap (session 12) 11% of 3000 such poses put it more than 2 mm inside the femur, up to
    16 mm, mostly through the shaft."""
    ((_, local, depth, knee_y),) = _femur_samples(model_context, "tensor_fasciae_latae", seed=12)
    shaft = (local[..., 1] < 0.25 * knee_y) & (local[..., 1] > 0.80 * knee_y)
    inside = np.where(shaft, depth, np.inf).reshape(len(depth), -1).min(axis=1)
    assert inside.min() > -2 * MM, f"{(inside < -2 * MM).sum()} poses, {1000 * inside.min():.1f} mm"


def test_iliotibial_tract_stays_out_of_the_femoral_head_in_extension(model_context) -> None:  # type: ignore[no-untyped-def]
    """Over random explorer poses with the hip extended (flexion -20..0 deg), tensor fasciae
    latae's line passes in front of the femoral head, over the head sphere between the
    trochanter sphere and the shaft cylinder. Without it, in hyperextension with adduction, its
    bridge from the trochanter to the shaft cut the front of the head: 34 and 47 of 3000 such
    poses (seeds 0, 5) more than 2 mm inside the femur within 35 mm of the head centre, up to
    7.1 mm; 9 of these 600."""
    from hipflex.state import POSE_RANGES

    ctx = model_context
    rng = np.random.default_rng(20)
    n = 600
    ranges = {**POSE_RANGES, "hip_flexion": (-20.0, 0.0)}
    pose = {c: rng.uniform(lo, hi, n) for c, (lo, hi) in ranges.items()}
    tr = body_transforms(ctx.skeleton, **pose)
    line = next(ln for ln in ctx.lines if ln.muscle == "tensor_fasciae_latae")
    local = _in_femur_frame(ctx, tr, line)
    depth = ctx.bone_distance["femur_r"](local)
    head = np.linalg.norm(local, axis=-1) < 0.035  # the femur frame's origin: the head centre
    inside = np.where(head, depth, np.inf).reshape(n, -1).min(axis=1)
    assert inside.min() > -2 * MM, f"{(inside < -2 * MM).sum()} poses, {1000 * inside.min():.1f} mm"


HAMSTRINGS = ("biceps_femoris_long_head", "semitendinosus", "semimembranosus")


def test_hamstrings_pass_behind_the_back_of_the_proximal_femur(model_context) -> None:  # type: ignore[no-untyped-def]
    """Over random explorer poses the hamstrings pass behind the back of the proximal femur
    (over the quadratus femoris bed, between the femoral head and the condyles) instead of
    through it. With the hip deeply flexed, abducted and turned outward their line from the
    femoral head to the condyles cut the intertrochanteric crest and the quadrate tubercle
    (session 16: biceps femoris 48 and semitendinosus 9 of 3000 such poses more than 2 mm inside
    the femur, up to 12.0 and 7.6 mm; these 600 poses: 12 and 5, up to 14.9 and 10.6 mm). Poses
    where the ischial tuberosity itself lies inside the femur (the explorer lets the bones
    overlap in extension with adduction; 1 here) are left out: no wrap moves an origin."""
    for muscle in HAMSTRINGS:
        ((line, _, depth, _),) = _femur_samples(model_context, muscle, seed=160)
        origin_inside = depth[:, 0, 0] < -2 * MM
        per_pose = depth.reshape(len(depth), -1).min(axis=1)[~origin_inside]
        assert per_pose.min() > -2 * MM, (f"{line.name}: {(per_pose < -2 * MM).sum()} poses, "
                                          f"{1000 * per_pose.min():.1f} mm")  # fmt: skip


def test_quadratus_femoris_bed_lies_between_the_head_and_the_condyles_and_leaves_the_sagittal_plane(
    model, model_context, real_pack
) -> None:  # type: ignore[no-untyped-def]
    """The hamstrings' one segment has three surfaces, the femur's quadratus femoris bed (a
    sphere) added between the femoral-head sphere and the condyle cylinder
    (``threewrap.resolve_middle``): clear of the head sphere, so that no path runs over a crease
    between them (where they overlapped, the path jumped between two ways over the back of the
    neck, by 4 mm); where a line wraps it, every tangent point lies on its surface and every
    bridge between two wrapped surfaces is tangent to both, and one more round of the iteration
    moves nothing; in the sagittal plane, where the bed stands clear of the lines, lengths and
    moment arms are those without it."""
    from hipflex.model.threewrap import middle_iteration, resolve_middle
    from hipflex.model.wrapping import added_surface

    ctx = model_context
    ps = model.paths
    bed = ctx.anatomy.wraps["quadratus_femoris_bed_r"]
    head = ctx.anatomy.wraps["femoral_head_posterior_r"]
    assert np.linalg.norm(np.subtract(bed.centre, head.centre)) > bed.radius + head.radius
    rng = np.random.default_rng(160)
    n = 3000
    pose = {"hip_flexion": rng.uniform(-20, 130, n), "hip_adduction": rng.uniform(-30, 30, n),
            "hip_rotation": rng.uniform(-40, 40, n), "knee_flexion": rng.uniform(0, 140, n)}  # fmt: skip
    tr = body_transforms(ctx.skeleton, **pose)
    wrapped = 0
    for line in (ln for ln in ctx.lines if ln.muscle in HAMSTRINGS):
        g, _ = ps.line_group[line.name]
        ((_, wraps),) = ps.groups[g].segments.items()
        assert [c.kind for c, _ in wraps] == ["sphere", "sphere", "cylinder"]
        assert added_surface(wraps) == 1
        p, s, surfaces = _segment_surfaces(ctx, tr, line)
        chain = resolve_middle(p, s, surfaces)
        wrapped += int(chain.on[1].sum())
        for k, surface in enumerate(surfaces):
            on = chain.on[k]
            for point in chain.tangents[2 * k : 2 * k + 2]:
                if surface[5][0]:
                    size = np.linalg.norm(point - surface[0], axis=1)
                else:
                    size = _radial(point, surface)[0]
                np.testing.assert_allclose(size[on], surface[4][on], atol=1e-9)
        rows = np.flatnonzero(chain.on[1])
        for a, b in ((0, 1), (1, 2)):  # the bed and each neighbour it is wrapped with
            both = rows[chain.on[a][rows] & chain.on[b][rows]]
            if not both.size:
                continue
            bridge = chain.tangents[2 * b][both] - chain.tangents[2 * a + 1][both]
            bridge /= np.linalg.norm(bridge, axis=1, keepdims=True)
            for k, point in ((a, chain.tangents[2 * a + 1][both]), (b, chain.tangents[2 * b][both])):
                surface = tuple(x[both] for x in surfaces[k])
                if surface[5].all():
                    radial = point - surface[0]
                    radial /= np.linalg.norm(radial, axis=1, keepdims=True)
                else:
                    radial = _radial(point, surface)[1]
                assert np.abs(np.einsum("ij,ij->i", radial, bridge)).max() < 1e-6
        again = middle_iteration(p[rows], s[rows], [tuple(x[rows] for x in sf) for sf in surfaces],
                                 [o[rows] for o in chain.on], [t[rows] for t in chain.tangents])  # fmt: skip
        np.testing.assert_allclose(again.length, chain.length[rows], rtol=0, atol=1e-8)
    assert wrapped > 100  # the bed holds the lines off the bone in these poses
    # without the bed, in the sagittal plane: the same numbers, knee 0 to 140 deg
    bare = _model_without_wrap(ctx, real_pack, "quadratus_femoris_bed_r", HAMSTRINGS)
    for knee in (0.0, 45.0, 90.0, 140.0):
        with_bed = model.sweep(HIP_SWEEP, knee_flexion=knee)
        without = bare.sweep(HIP_SWEEP, knee_flexion=knee)
        for quantity in ("length", "moment_arm_hip_flexion", "moment_arm_hip_adduction",
                         "moment_arm_hip_rotation", "moment_arm_knee_flexion"):  # fmt: skip
            np.testing.assert_allclose(with_bed[quantity], without[quantity], rtol=0, atol=1e-12)


def test_one_pose_iterates_the_quadratus_femoris_bed_on_python_floats(
    model, model_context, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Where the hamstrings wrap the quadratus femoris bed (deep flexion with abduction and
    external rotation), one pose iterates the three surfaces on floats, not with numpy
    (``threewrap.middle_iteration`` took about 7 ms a pose), to the batch's lengths and moment
    arms (1e-12), the reference path walk's (1e-6 m) and its drawn points."""
    import hipflex.model.threewrap as threewrap
    from hipflex.model.fastpath import wrapped_polylines

    rng = np.random.default_rng(16)
    n = 400
    pose = {"hip_flexion": rng.uniform(110, 130, n), "hip_adduction": rng.uniform(-30, -15, n),
            "hip_rotation": rng.uniform(-40, 0, n), "knee_flexion": rng.uniform(0, 140, n)}  # fmt: skip
    tr = body_transforms(model_context.skeleton, **pose)
    flex = np.radians(pose["hip_flexion"])
    batch_len, batch_arm = model._fast.evaluate(tr, flex)
    ref_len, _, ref_arm = model.paths.evaluate(tr, hip_flexion_deg=pose["hip_flexion"])
    np.testing.assert_allclose(batch_len, ref_len, rtol=0, atol=1e-6)
    np.testing.assert_allclose(batch_arm, ref_arm, rtol=0, atol=1e-6)
    between = model._fast._solve(tr, False).between
    engaged = np.flatnonzero(between.on.reshape(-1, n).any(axis=0))
    assert engaged.size > 20

    def no_numpy(*args: object, **kw: object) -> None:
        raise AssertionError("one pose called numpy's middle_iteration")

    monkeypatch.setattr(threewrap, "middle_iteration", no_numpy)
    lines = [ln for ln in model_context.lines if ln.muscle in HAMSTRINGS]
    for i in engaged[:40]:
        one = {k: v[i : i + 1].copy() for k, v in tr.items()}
        length, arm = model._fast.evaluate(one, flex[i : i + 1])
        np.testing.assert_allclose(length[0], batch_len[i], rtol=0, atol=1e-12)
        np.testing.assert_allclose(arm[0], batch_arm[i], rtol=0, atol=1e-12)
        drawn = wrapped_polylines(model_context, {k: v[0] for k, v in one.items()})
        monkeypatch.undo()
        for line in lines:
            np.testing.assert_allclose(drawn[line.name], wrapped_path(model_context, line, one)[0],
                                       rtol=0, atol=1e-9)  # fmt: skip
        monkeypatch.setattr(threewrap, "middle_iteration", no_numpy)


# The corner of the explorer's ranges where the hamstrings' line from the femoral head crosses
# the back of the femur in front of the quadratus femoris bed's centre: hip flexion 124-130 deg,
# abduction 24-30 (adduction -24..-30), external rotation 27-38 (rotation -27..-38), in one-degree
# steps, with the knee straight and fully bent.
CORNER_SHAPE = (7, 7, 12, 2)
HAMSTRING_CORNER = {
    name: values.ravel()
    for name, values in zip(
        ("hip_flexion", "hip_adduction", "hip_rotation", "knee_flexion"),
        np.meshgrid(np.arange(124.0, 131.0), -np.arange(24.0, 31.0), -np.arange(27.0, 39.0),
                    np.array([0.0, 140.0]), indexing="ij"),
        strict=True,
    )
}  # fmt: skip


def test_hamstrings_stay_behind_the_quadratus_femoris_bed_in_the_explorers_corner(
    model, model_context
) -> None:  # type: ignore[no-untyped-def]
    """In the explorer's corner (HAMSTRING_CORNER) the hamstrings pass behind the quadratus
    femoris bed wherever they wrap it (the midpoint of its arc behind its centre), stay out of
    the femur, and their lengths and moment arms change by less than 2.5 mm a degree. The bed is
    a sphere, wrapped the shorter way round, and there that way is often in front
    (``resolve_middle`` without its continuation from behind): until the continuation, biceps
    femoris went round the front and on through the femoral shaft at 936 of these 1176 poses (up
    to 10.2 mm inside the femur), semitendinosus at 191 (2.5 mm), and their hip moment arms
    stepped by up to 30 mm a degree where the path changed sides."""
    from hipflex.model.threewrap import _in_front, resolve_middle

    ctx = model_context
    tr = body_transforms(ctx.skeleton, **HAMSTRING_CORNER)
    lines = [ln for ln in ctx.lines if ln.muscle in HAMSTRINGS]
    shorter_in_front = 0
    for line in lines:
        p, s, surfaces = _segment_surfaces(ctx, tr, line)
        chain = resolve_middle(p, s, surfaces)
        front = _in_front(chain.on[1], chain.tangents[2], chain.tangents[3], surfaces[1])
        assert not front.any(), f"{line.name} round the bed's front at {front.sum()} poses"
        shorter = resolve_middle(p, s, surfaces, behind=False)
        shorter_in_front += int(_in_front(shorter.on[1], shorter.tangents[2], shorter.tangents[3],
                                          surfaces[1]).sum())  # fmt: skip
    assert shorter_in_front > 50  # the continuation is what keeps them behind here
    for line in lines:
        depth = _deepest_in_femur(ctx, tr, line)
        assert depth.min() > -2 * MM, f"{line.name}: {(depth < -2 * MM).sum()} poses, {1000 * depth.min():.1f} mm"
    res = model.sweep(**HAMSTRING_CORNER)
    for muscle in HAMSTRINGS:
        j = res.muscles.index(muscle)
        for quantity in ("length", "moment_arm_hip_flexion", "moment_arm_hip_adduction",
                         "moment_arm_hip_rotation", "moment_arm_knee_flexion"):  # fmt: skip
            values = res[quantity][:, j].reshape(CORNER_SHAPE)
            worst = max(float(np.abs(np.diff(values, axis=axis)).max()) for axis in range(3))
            assert worst < 2.5 * MM, f"{muscle} {quantity} steps by {1000 * worst:.1f} mm a degree"


def test_one_pose_continues_the_hamstrings_behind_the_bed_on_python_floats(
    model, model_context, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Where biceps femoris's shorter way round the quadratus femoris bed is in front (in the
    explorer's corner, HAMSTRING_CORNER), one pose finds the path behind it by the same
    continuation as the batch, every step iterated on floats (the fast path's twin of
    ``threewrap.middle_iteration``): its drawn arc over the bed lies behind the bed's centre, and
    its lengths and moment arms are the batch's (1e-12) and the reference path walk's (1e-6),
    its drawn points the walk's."""
    import hipflex.model.threewrap as threewrap
    from hipflex.model.fastpath import wrapped_polylines
    from hipflex.model.threewrap import _in_front, resolve_middle

    ctx = model_context
    tr = body_transforms(ctx.skeleton, **HAMSTRING_CORNER)
    bflh = next(ln for ln in ctx.lines if ln.name == "biceps_femoris_long_head")
    p, s, surfaces = _segment_surfaces(ctx, tr, bflh)
    shorter = resolve_middle(p, s, surfaces, behind=False)
    continued = np.flatnonzero(_in_front(shorter.on[1], shorter.tangents[2], shorter.tangents[3],
                                         surfaces[1]))  # fmt: skip
    assert continued.size > 20
    flex_deg = HAMSTRING_CORNER["hip_flexion"]
    batch_len, batch_arm = model._fast.evaluate(tr, np.radians(flex_deg))
    ref_len, _, ref_arm = model.paths.evaluate(tr, hip_flexion_deg=flex_deg)
    np.testing.assert_allclose(batch_len, ref_len, rtol=0, atol=1e-6)
    np.testing.assert_allclose(batch_arm, ref_arm, rtol=0, atol=1e-6)

    def no_numpy(*args: object, **kw: object) -> None:
        raise AssertionError("one pose called numpy's middle_iteration")

    monkeypatch.setattr(threewrap, "middle_iteration", no_numpy)
    lines = [ln for ln in ctx.lines if ln.muscle in HAMSTRINGS]
    bed = ctx.anatomy.wraps["quadratus_femoris_bed_r"]
    for i in continued[:: max(1, continued.size // 20)]:
        one = {k: v[i : i + 1].copy() for k, v in tr.items()}
        length, arm = model._fast.evaluate(one, np.radians(flex_deg[i : i + 1]))
        np.testing.assert_allclose(length[0], batch_len[i], rtol=0, atol=1e-12)
        np.testing.assert_allclose(arm[0], batch_arm[i], rtol=0, atol=1e-12)
        drawn = wrapped_polylines(ctx, {k: v[0] for k, v in one.items()})
        femur = one["femur_r"][0]
        rel = drawn[bflh.name] - (femur[:3, :3] @ bed.centre + femur[:3, 3])
        on_bed = np.abs(np.linalg.norm(rel, axis=1) - bed.radius) < 1e-7
        assert on_bed.any()
        assert (rel[on_bed] @ (femur[:3, :3] @ np.asarray(bed.side))).min() > 0.0
        monkeypatch.undo()
        for line in lines:
            np.testing.assert_allclose(drawn[line.name], wrapped_path(ctx, line, one)[0],
                                       rtol=0, atol=1e-9)  # fmt: skip
        monkeypatch.setattr(threewrap, "middle_iteration", no_numpy)


def test_iliotibial_tract_passes_over_the_greater_trochanter(model, model_context) -> None:  # type: ignore[no-untyped-def]
    """Over random explorer poses, tensor fasciae latae's line passes over the greater
    trochanter sphere before the shaft cylinder instead of through the trochanter (samples more
    than 3 cm lateral of the head centre, above the shaft): fewer than 1% of poses more than
    2 mm inside the femur, none more than 6 mm. Before (session 16) 7 of these 600 poses were,
    up to 11.2 mm, with the hip extended and turned inward; with the sphere but the two-surface
    rule of until then (twowrap: only the leg between the surfaces checked), still 4, up to
    11.2 mm, because the origin then lies inside the shaft cylinder's proximal reach. The
    sagittal plane is unchanged: the sphere does not touch the line there. The femoral head
    sphere stands between the two (the front of the head, in hyperextension with adduction)."""
    ((_, local, depth, knee_y),) = _femur_samples(model_context, "tensor_fasciae_latae", seed=13)
    trochanter = (local[..., 2] > 0.03) & (local[..., 1] > 0.25 * knee_y)
    inside = np.where(trochanter, depth, np.inf).reshape(len(depth), -1).min(axis=1)
    assert (inside < -2 * MM).mean() < 0.01, f"{(inside < -2 * MM).sum()} poses"
    assert inside.min() > -6 * MM, f"{1000 * inside.min():.1f} mm"
    g, _ = model.paths.line_group["tensor_fasciae_latae"]
    ((_, wraps),) = model.paths.groups[g].segments.items()
    assert [c.kind for c, _ in wraps] == ["sphere", "sphere", "cylinder"]


def test_sartorius_passes_over_the_vasti_at_mid_thigh(model, model_context, real_pack) -> None:  # type: ignore[no-untyped-def]
    """Over random explorer poses, sartorius's line passes over the mid-thigh vasti sphere (after
    the femoral-head sphere) instead of through the front of the shaft when the flexed hip
    turns inward: no sample from 35% to 80% of the way to the knee more than 2 mm inside the
    femur. Before that surface (session 16) 40 of these 600 poses were, up to 13.2 mm. Higher
    up it still cuts the femur with the hip extended and turned inward, and where deep flexion
    with inward rotation puts the pelvis into the femur. In the sagittal plane the
    sphere first touches the line at 115.3 deg (116.2 before pack pipeline 1.6, whose closed
    femur moved the muscle registration by up to 0.4 mm and the sphere with it; 117.4 before
    the regeneration after session 21 moved sartorius's origin and knee via point and refitted
    the sphere to them): below 115 deg lengths and moment arms are those without it, above it
    the hip flexion moment arm changes by less than 1 mm."""

    ((_, local, depth, knee_y),) = _femur_samples(model_context, "sartorius", seed=16)
    shaft = (local[..., 1] < 0.35 * knee_y) & (local[..., 1] > 0.80 * knee_y)
    inside = np.where(shaft, depth, np.inf).reshape(len(depth), -1).min(axis=1)
    assert inside.min() > -2 * MM, f"{(inside < -2 * MM).sum()} poses, {1000 * inside.min():.1f} mm"
    bare = _model_without_wrap(model_context, real_pack, "vasti_mid_thigh_r", ["sartorius"])
    j = model.muscles.index("sartorius")
    below = HIP_SWEEP < 115.0
    for knee in (0.0, 90.0):
        with_sphere = model.sweep(HIP_SWEEP, knee_flexion=knee)
        without = bare.sweep(HIP_SWEEP, knee_flexion=knee)
        for quantity in ("length", "moment_arm_hip_flexion"):
            np.testing.assert_allclose(with_sphere[quantity][below], without[quantity][below],
                                       rtol=0, atol=1e-12)  # fmt: skip
        change = np.abs(with_sphere["moment_arm_hip_flexion"] - without["moment_arm_hip_flexion"])
        assert 0 < change[:, j].max() < 1 * MM


def test_sartorius_passes_in_front_of_the_greater_trochanter(model, model_context, real_pack, sweeps) -> None:  # type: ignore[no-untyped-def]
    """With the hip extended, abducted and turned inward, sartorius's line passes in front of the
    greater trochanter's sphere (the middle of its three surfaces) instead of through the
    trochanter and the base of the neck: over 600 random explorer poses with the hip at -20..15
    deg (bone contact left out) at most 12 more than 2 mm inside the femur (7 now, up to 6.2
    mm; without the sphere, until session 29, 57, up to 17.0 mm). The sphere stays clear of the
    head sphere, and in the sagittal plane lengths and moment arms are those without it."""

    wraps = model_context.anatomy.wraps
    head, front = wraps["femoral_head_anterior_r"], wraps["greater_trochanter_anterior_r"]
    gap = np.linalg.norm(np.subtract(front.centre, head.centre)) - front.radius - head.radius
    assert gap > 0.5 * MM
    rng = np.random.default_rng(29)
    n = 600
    pose = {"hip_flexion": rng.uniform(-20, 15, n), "hip_adduction": rng.uniform(-30, 30, n),
            "hip_rotation": rng.uniform(-40, 40, n), "knee_flexion": rng.uniform(0, 140, n)}  # fmt: skip
    apart = ~model.bone_contact(pose["hip_flexion"], pose["hip_adduction"],
                                pose["hip_rotation"]).touching  # fmt: skip
    tr = body_transforms(model_context.skeleton, **{c: v[apart] for c, v in pose.items()})
    line = next(ln for ln in model_context.lines if ln.muscle == "sartorius")
    deepest = _deepest_in_femur(model_context, tr, line)
    cut = deepest < -2 * MM
    assert cut.sum() <= 12 and deepest.min() > -7 * MM, f"{cut.sum()} poses, {1000 * deepest.min():.1f} mm"
    bare = _model_without_wrap(model_context, real_pack, "greater_trochanter_anterior_r", ["sartorius"])
    for knee, with_sphere in sweeps.items():
        without = bare.sweep(HIP_SWEEP, knee_flexion=knee)
        for quantity in ("length", "moment_arm_hip_flexion", "moment_arm_hip_adduction",
                         "moment_arm_hip_rotation", "moment_arm_knee_flexion"):  # fmt: skip
            np.testing.assert_allclose(with_sphere[quantity], without[quantity], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "coordinate", ["hip_flexion", "hip_adduction", "hip_rotation", "knee_flexion"]
)
def test_geometric_moment_arms_equal_length_derivative(model, coordinate) -> None:  # type: ignore[no-untyped-def]
    """The engine's moment arms (geometry, virtual work) equal -dL/dq within 0.1 mm."""
    h = 0.05  # degrees
    poses = {"hip_flexion": np.array([-15.0, 0, 30, 60, 90, 110, 125]),
             "knee_flexion": np.array([5.0, 30, 90, 5, 90, 5, 60]),
             "hip_adduction": np.array([0.0, 5, -10, 0, 0, 10, 0]),
             "hip_rotation": np.array([0.0, -10, 0, 15, 0, 0, 5])}  # fmt: skip
    base = model.sweep(**poses)
    plus = model.sweep(**{**poses, coordinate: poses[coordinate] + h})
    minus = model.sweep(**{**poses, coordinate: poses[coordinate] - h})
    derivative = -(plus["length"] - minus["length"]) / np.radians(2 * h)
    # multi-line muscles report the weighted mean moment arm and length: compare like with like
    err = np.abs(derivative - base[f"moment_arm_{coordinate}"])
    worst = np.unravel_index(np.argmax(err), err.shape)
    assert err.max() < 0.1 * MM, (
        f"{base.muscles[worst[1]]} at pose {worst[0]}: derivative {1000 * derivative[worst]:.3f} mm, "
        f"geometry {1000 * base[f'moment_arm_{coordinate}'][worst]:.3f} mm"
    )


# --- 9. sphere wrapping on analytic cases ---------------------------------------------------------


def _sphere_rows(p, s, c, axis, side, r, sense=1.0):  # type: ignore[no-untyped-def]
    from hipflex.model.wrapping import wrap_rows

    p, s, c = (np.atleast_2d(np.asarray(x, float)) for x in (p, s, c))
    n = p.shape[0]
    e3 = np.broadcast_to(np.asarray(axis, float), (n, 3))
    e1 = np.broadcast_to(np.asarray(side, float), (n, 3))
    return wrap_rows(p, s, c, e1, e3, np.full(n, sense), np.full(n, r), np.ones(n, bool))


def _random_frame(rng):  # type: ignore[no-untyped-def]
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q[:, 0], q[:, 1], q[:, 2]  # u, v in the plane, n its normal (any handedness)


def test_sphere_wrap_is_the_great_circle_arc_between_surface_points() -> None:
    """Points on the surface: the shorter great-circle arc, whatever the axis or the sense."""
    rng = np.random.default_rng(3)
    r = 0.03
    for _ in range(20):
        c = rng.normal(scale=0.1, size=3)
        u, v, _ = _random_frame(rng)
        theta = rng.uniform(0.2, 3.0)  # the line between them cuts the sphere
        rho = r * (1 + 1e-9)  # just outside the surface
        p = c + rho * u
        s = c + rho * (np.cos(theta) * u + np.sin(theta) * v)
        for axis, sense in ((np.cross(u, v), 1.0), (np.cross(v, u), 1.0), (np.cross(u, v), -1.0),
                            (rng.normal(size=3), 1.0)):  # fmt: skip
            _, on, length, t_in, t_out = _sphere_rows(p, s, c, axis, u, r, sense)
            assert on[0]
            assert length[0] == pytest.approx(r * theta, abs=1e-8)
            assert np.linalg.norm(t_in[0] - c) == pytest.approx(r, abs=1e-12)
            assert np.linalg.norm(t_out[0] - c) == pytest.approx(r, abs=1e-12)


def test_sphere_wrap_from_outside_points_matches_the_closed_form() -> None:
    """Tangent, great-circle arc, tangent: 2 sqrt(d^2 - r^2) + r (phi - 2 acos(r / d)), with
    phi the angle between p and s seen from the centre (at most half a turn)."""
    rng = np.random.default_rng(11)
    r = 0.025
    for _ in range(20):
        c = rng.normal(scale=0.1, size=3)
        u, v, _ = _random_frame(rng)
        d = rng.uniform(1.1, 4.0) * r
        phi = rng.uniform(2 * np.arccos(r / d) + 0.05, np.pi - 0.01)  # the line cuts
        p, s = c + d * u, c + d * (np.cos(phi) * u + np.sin(phi) * v)
        for axis in (np.cross(u, v), np.cross(v, u)):  # the axis does not pick the way
            _, on, length, t_in, t_out = _sphere_rows(p, s, c, axis, u, r)
            expected = 2 * np.sqrt(d**2 - r**2) + r * (phi - 2 * np.arccos(r / d))
            assert on[0] and length[0] == pytest.approx(expected, rel=1e-10)
            for t, q in ((t_in[0], p), (t_out[0], s)):  # tangent points: on it, tangent
                assert np.linalg.norm(t - c) == pytest.approx(r, rel=1e-10)
                assert abs((q - t) @ (t - c)) < 1e-12
    # clear of the sphere: the straight line
    c = np.zeros(3)
    p, s = np.array([0.05, 0.04, 0.0]), np.array([0.05, -0.04, 0.0])
    _, on, length, _, _ = _sphere_rows(p, s, c, [0, 0, -1.0], [1.0, 0, 0], 0.03)
    assert not on[0] and length[0] == pytest.approx(0.08, rel=1e-12)


def test_sphere_wrap_is_continuous_as_the_path_plane_turns() -> None:
    """Turning the plane of p, s and the centre through the axis (what hip adduction and
    rotation do to the hamstrings over the femoral head) must not flip the way round: the
    length changes smoothly. An axis-oriented rule jumped by up to a quarter metre here."""
    r, c = 0.03, np.zeros(3)
    axis, side = np.array([0.0, 0.0, 1.0]), np.array([-1.0, 0.0, 0.0])
    angles = np.radians(np.linspace(0.0, 180.0, 3601))
    for offset in (0.0, 0.01, -0.02):  # the line's distance from the centre, across the plane
        p = np.column_stack([np.full_like(angles, offset), np.full_like(angles, 0.09),
                             np.zeros_like(angles)])  # fmt: skip
        # s turns about the line's vertical direction, carrying the plane through the axis
        s = np.column_stack([offset + 0.03 * np.cos(angles), np.full_like(angles, -0.1),
                             0.03 * np.sin(angles)])  # fmt: skip
        n = len(angles)
        _, on, length, _, _ = _sphere_rows(p, s, np.tile(c, (n, 1)), axis, side, r)
        assert on.sum() > n // 4
        assert np.abs(np.diff(length)).max() < 1e-4  # 0.05 deg steps: well under 0.1 mm


def test_sphere_wrap_is_the_shortest_path_outside_the_sphere() -> None:
    """An independent check: a polyline kept outside the sphere, shortened by SLSQP."""
    r, c = 0.03, np.array([0.01, -0.02, 0.005])
    p, s = c + np.array([-0.02, 0.06, 0.02]), c + np.array([-0.01, -0.07, -0.03])
    axis, side = np.array([0.0, 0.0, 1.0]), np.array([-1.0, 0.0, 0.0])
    sense = 1.0 if np.cross(axis, side) @ (s - p) >= 0 else -1.0
    _, on, length, _, _ = _sphere_rows(p, s, c, axis, side, r, sense)
    assert on[0]
    k = 40
    x0 = np.linspace(p, s, k + 2)[1:-1] + side * 0.06  # start behind the sphere

    def total(x: np.ndarray) -> float:
        pts = np.vstack([p, x.reshape(k, 3), s])
        return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())

    def clearance(x: np.ndarray) -> np.ndarray:  # every chord stays outside the sphere
        pts = np.vstack([p, x.reshape(k, 3), s])
        a, d = pts[:-1], np.diff(pts, axis=0)
        t = np.clip(np.einsum("ij,ij->i", c - a, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
        return np.asarray(np.linalg.norm(a + t[:, None] * d - c, axis=1) - r)

    res = minimize(total, x0.ravel(), method="SLSQP", options={"maxiter": 500, "ftol": 1e-12},
                   constraints=[{"type": "ineq", "fun": clearance}])  # fmt: skip
    assert res.success, res.message
    assert abs(length[0] - res.fun) < 2e-5


def test_an_end_moving_inside_a_cylinder_keeps_the_wrap_continuous() -> None:
    """An attachment that swings inside the surface (gluteus maximus's insertion inside the
    cylinder behind the hip at deep flexion with rotation) shrinks the surface to it: the path
    still runs round to it and the length changes smoothly, where dropping the wrap jumped."""
    from hipflex.model.wrapping import wrap_rows

    r, k = 0.03, 401
    ang = np.radians(200.0)
    rad = np.linspace(0.034, 0.026, k)  # s moves radially from outside to inside
    p = np.tile([0.1, 0.0, 0.0], (k, 1))
    s = np.column_stack([rad * np.cos(ang), rad * np.sin(ang), np.zeros(k)])
    args = (np.zeros((k, 3)), np.tile([1.0, 0, 0], (k, 1)), np.tile([0, 0, 1.0], (k, 1)),
            np.ones(k), np.full(k, r), np.zeros(k, bool))  # fmt: skip
    _, on, length, _, _ = wrap_rows(p, s, *args)
    assert on.all()
    assert np.abs(np.diff(length)).max() < 1e-4
    inside = rad < r  # there the arc ends on s itself
    assert length[inside] == pytest.approx(
        np.sqrt(0.1**2 - rad[inside] ** 2) + rad[inside] * (ang - np.arccos(rad[inside] / 0.1)),
        rel=1e-9)  # fmt: skip


def test_a_wrap_whose_segment_cuts_the_cylinder_stays_on_past_half_a_turn() -> None:
    """On a segment with one surface, a straight segment that cuts the cylinder wraps it whatever
    its arc: s swings round so the arc grows from 150 past 180 deg (p at 60 mm, s at 45 mm from
    the axis of a 40 mm cylinder) and the length changes smoothly, where the half-turn limit
    dropped the wrap (as it still does for the surfaces of two- and three-surface segments,
    whose states resolve such a cut). A segment that stops short of the cylinder, its line
    within the radius but the axis's foot beyond its end, has a false "arc" of 234 deg and stays
    straight."""
    from hipflex.model.wrapping import wrap_rows

    r, k = 0.04, 601
    ang = np.radians(np.linspace(-35.0, 12.0, k))
    p = np.tile([0.0, 0.06, 0.0], (k, 1))
    s = np.column_stack([0.045 * np.cos(ang), 0.045 * np.sin(ang), np.zeros(k)])
    args = (np.zeros((k, 3)), np.tile([1.0, 0, 0], (k, 1)), np.tile([0, 0, 1.0], (k, 1)),
            np.ones(k), np.full(k, r), np.zeros(k, bool))  # fmt: skip
    _, on, length, t_in, t_out = wrap_rows(p, s, *args, False, np.ones(k, bool))
    assert on.all()
    plain = wrap_rows(p, s, *args, False)[1]
    assert plain.any() and not plain.all()
    arc = np.mod(np.arctan2(t_out[:, 1], t_out[:, 0]) - np.arctan2(t_in[:, 1], t_in[:, 0]), 2 * np.pi)
    assert arc.min() < np.radians(160.0) and arc.max() > np.radians(200.0)
    expected = np.sqrt(0.06**2 - r**2) + np.sqrt(0.045**2 - r**2) + r * arc
    assert length == pytest.approx(expected, rel=1e-12)
    assert np.abs(np.diff(length)).max() < 1e-4
    # stops short: p and s on the +x axis, the cylinder 50 mm beyond s
    short = wrap_rows(np.array([[0.1, 0.0, 0.0]]), np.array([[0.05, 0.0, 0.0]]),
                      *(a[:1] for a in args), False, np.ones(1, bool))  # fmt: skip
    assert not short[1][0]
    assert short[2][0] == pytest.approx(0.05)


def test_gluteus_maximus_keeps_its_wrap_behind_the_hip_in_deep_flexion_with_rotation(
    model, model_context
) -> None:  # type: ignore[no-untyped-def]
    """Hip flexion 118-135 deg with 28-40 deg of internal rotation (one-degree grid, adduction
    -5..10 deg, knee 50): gluteus maximus's upper line runs round the cylinder behind the hip
    by more than half a turn. Until session 18 it dropped the wrap there and ran straight
    through the femur (12-15 mm deep), its length falling by up to 5 cm in one degree."""
    grid = np.meshgrid(np.arange(118.0, 136.0), np.arange(-5.0, 11.0, 5.0),
                       np.arange(28.0, 41.0), np.array([50.0]), indexing="ij")  # fmt: skip
    pose = dict(zip(("hip_flexion", "hip_adduction", "hip_rotation", "knee_flexion"),
                    (g.ravel() for g in grid), strict=True))  # fmt: skip
    res = model.sweep(**pose)
    j = res.muscles.index("gluteus_maximus")
    for quantity in ("length", "moment_arm_hip_flexion", "moment_arm_hip_rotation"):
        values = res[quantity][:, j].reshape(grid[0].shape)
        for axis in (0, 2):  # one-degree steps of flexion and rotation
            worst = float(np.abs(np.diff(values, axis=axis)).max())
            assert worst < 2 * MM, f"gluteus maximus {quantity} steps by {1000 * worst:.1f} mm a degree"
    ctx = model_context
    tr = body_transforms(ctx.skeleton, **pose)
    line = next(ln for ln in ctx.lines if ln.name == "gluteus_maximus_upper")
    depth = _deepest_in_femur(ctx, tr, line)
    assert depth.min() > -2 * MM, f"{(depth < -2 * MM).sum()} poses, {1000 * depth.min():.1f} mm"


def test_sphere_wrapped_paths_pass_on_their_documented_side(model_context) -> None:  # type: ignore[no-untyped-def]
    """A sphere takes the shorter way; on this skeleton that is the side its data names: the
    hamstrings pass behind the femoral head and sartorius in front, wherever they touch it over
    the issue's range (hip -20..130 deg, knee 0 and 90 deg). (Piriformis and gluteus medius's
    posterior line, running from the sacrum and the back of the ilium to the top of the greater
    trochanter, cross over the head from back to side: their arcs are not on one side of the
    femur's frontal plane, so they are not checked here; nor obturator internus, which runs
    from the lesser sciatic notch to the greater trochanter's medial face beside piriformis's
    insertion, its arc up to 0.17 of the radius in front of that plane.)"""
    ctx = model_context
    hip = np.repeat(np.arange(-20.0, 131.0, 2.0), 2)
    knee = np.tile([0.0, 90.0], hip.size // 2)
    tr = body_transforms(ctx.skeleton, hip_flexion=hip, knee_flexion=knee)
    touched = set()
    for line in ctx.lines:
        for wid in line.wraps:
            wrap = ctx.anatomy.wraps[wid]
            if wrap.type != "sphere" or line.name in ("piriformis", "gluteus_medius_posterior",
                                                      "obturator_internus"):
                continue
            t = tr[wrap.body]
            centre = np.einsum("nij,j->ni", t[:, :3, :3], wrap.centre) + t[:, :3, 3]
            side = np.einsum("nij,j->ni", t[:, :3, :3], np.asarray(wrap.side, float))
            pts = wrapped_path(ctx, line, tr)
            rel = pts - centre[:, None]
            on = np.abs(np.linalg.norm(rel, axis=2) - wrap.radius) < 1e-7  # arc points
            ahead = np.einsum("nkj,nj->nk", rel, side) / wrap.radius
            if on.any():
                touched.add(line.muscle)
                assert ahead[on].min() > -0.05, f"{line.name} crosses to the far side of {wid}"
    assert {"semitendinosus", "biceps_femoris_long_head", "sartorius"} <= touched


def test_sphere_equals_cylinder_in_the_plane_through_its_centre() -> None:
    """In the plane through its centre across the axis, a sphere wraps like a cylinder of the
    same radius wherever the cylinder takes the shorter way (its line passes on the side the
    sense expects); a sphere never goes the long way round."""
    from hipflex.model.wrapping import wrap_rows

    rng = np.random.default_rng(5)
    n = 200
    p = np.column_stack([rng.uniform(-0.1, 0.1, (n, 2)), np.zeros(n)])
    s = np.column_stack([rng.uniform(-0.1, 0.1, (n, 2)), np.zeros(n)])
    ok = (np.linalg.norm(p, axis=1) > 0.031) & (np.linalg.norm(s, axis=1) > 0.031)
    p, s = p[ok], s[ok]
    m = len(p)
    args = (np.zeros((m, 3)), np.tile([1.0, 0, 0], (m, 1)), np.tile([0, 0, 1.0], (m, 1)),
            np.ones(m), np.full(m, 0.03))  # fmt: skip
    cyl = wrap_rows(p, s, *args, np.zeros(m, bool))
    sph = wrap_rows(p, s, *args, np.ones(m, bool))
    short = np.cross(p, s)[:, 2] > 0  # counter-clockwise about +z is the shorter way
    assert cyl[1][short].any() and not cyl[1][short].all()
    np.testing.assert_array_equal(cyl[1][short], sph[1][short])
    np.testing.assert_allclose(sph[2][short], cyl[2][short], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sph[0][short], cyl[0][short], atol=1e-9)
    # the other rows: the cylinder wraps them the long way, the sphere the short way or not
    assert (sph[2][~short] <= cyl[2][~short] + 1e-12).all()
    assert (sph[2][~short & cyl[1]] < cyl[2][~short & cyl[1]]).any()


# --- 10. the fast evaluation equals the reference path walk -----------------------------------


def test_fast_paths_equal_the_general_path_walk(model, model_context) -> None:  # type: ignore[no-untyped-def]
    """``FastPaths`` (what ``at``/``sweep`` use) against ``PathSet.evaluate`` (Newton's method
    where fastpath has the closed form): lengths and moment arms within 1e-6 m, single poses and
    a batch."""
    rng = np.random.default_rng(2024)
    n, w = 120, 2000  # everyday poses, then the whole joint range (ends inside surfaces, etc.)
    zeros = np.zeros(HIP_SWEEP.size)
    batch = {"hip_flexion": np.concatenate([HIP_SWEEP, rng.uniform(-20, 130, n),
                                            rng.uniform(-30, 140, w)]),
             "knee_flexion": np.concatenate([zeros, rng.uniform(0, 120, n), rng.uniform(0, 140, w)]),
             "hip_adduction": np.concatenate([zeros, rng.uniform(-20, 20, n),
                                              rng.uniform(-45, 30, w)]),
             "hip_rotation": np.concatenate([zeros, rng.uniform(-25, 25, n),
                                             rng.uniform(-45, 45, w)])}  # fmt: skip
    singles = [(60.0, 0.0, 0.0, 0.0), (-20.0, 0.0, 0.0, 0.0), (110.0, 90.0, 0.0, 0.0),
               (45.0, 30.0, 10.0, -15.0), (125.0, 5.0, -10.0, 20.0)]  # fmt: skip
    cases = [batch] + [dict(zip(("hip_flexion", "knee_flexion", "hip_adduction", "hip_rotation"),
                                (np.array([v]) for v in pose), strict=True)) for pose in singles]  # fmt: skip
    for pose in cases:
        tr = body_transforms(model_context.skeleton, **pose)
        ref_len, _, ref_arm = model.paths.evaluate(tr, hip_flexion_deg=pose["hip_flexion"])
        fast_len, fast_arm = model._fast.evaluate(tr, np.radians(pose["hip_flexion"]))
        np.testing.assert_allclose(fast_len, ref_len, rtol=0, atol=1e-6)
        np.testing.assert_allclose(fast_arm, ref_arm, rtol=0, atol=1e-6)


def test_one_pose_on_python_floats_equals_the_batch(model, model_context) -> None:  # type: ignore[no-untyped-def]
    """One pose resolves its two-surface segments on Python floats (``_two_surfaces_few``), a
    batch with numpy: the same lengths and moment arms, including poses with adduction and
    rotation where the closed form does not apply and Newton's method decides."""
    rng = np.random.default_rng(7)
    n = 60
    pose = {"hip_flexion": np.concatenate([np.arange(-20.0, 131.0, 5.0), rng.uniform(-20, 130, n)]),
            "knee_flexion": np.concatenate([np.zeros(31), rng.uniform(0, 120, n)]),
            "hip_adduction": np.concatenate([np.zeros(31), rng.uniform(-20, 20, n)]),
            "hip_rotation": np.concatenate([np.zeros(31), rng.uniform(-25, 25, n)])}  # fmt: skip
    tr = body_transforms(model_context.skeleton, **pose)
    batch_len, batch_arm = model._fast.evaluate(tr, np.radians(pose["hip_flexion"]))
    for i in range(len(pose["hip_flexion"])):
        one = {k: v[i : i + 1].copy() for k, v in tr.items()}
        length, arm = model._fast.evaluate(one, np.radians(pose["hip_flexion"][i : i + 1]))
        np.testing.assert_allclose(length[0], batch_len[i], rtol=0, atol=1e-12)
        np.testing.assert_allclose(arm[0], batch_arm[i], rtol=0, atol=1e-12)


def test_one_pose_iterates_sphere_rows_on_python_floats(model, model_context, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the knee straight at deep flexion the hamstrings wrap the femoral head sphere and the
    back of the condyles together, a state with no closed form: one pose iterates it on floats
    (``_row_iteration``) instead of numpy's ``resolve`` (about 1 ms a pose), to the batch's
    numbers (the comparison above covers 115-130 deg)."""
    import hipflex.model.fastpath as fastpath

    pose = {"hip_flexion": np.array([130.0]), "knee_flexion": np.array([0.0]),
            "hip_adduction": np.array([0.0]), "hip_rotation": np.array([0.0])}  # fmt: skip
    tr = body_transforms(model_context.skeleton, **pose)
    solved = model._fast._solve(tr, False)
    assert solved.double is not None and (solved.double.state < 0).any()  # the iteration's rows

    def no_resolve(*args: object, **kw: object) -> None:
        raise AssertionError("one pose called numpy's resolve")

    monkeypatch.setattr(fastpath, "resolve", no_resolve)
    length, _ = model._fast.evaluate(tr, np.radians(pose["hip_flexion"]))
    assert np.isfinite(length).all()


def test_fast_paths_with_a_sphere_in_a_two_surface_segment(model_context, real_pack) -> None:  # type: ignore[no-untyped-def]
    """The same comparison with iliopsoas's femoral-head cylinder swapped for a sphere: two-surface
    segments with a sphere take the fast path's general branch (no closed form)."""
    from hipflex.model.skeleton import ModelContext

    anatomy = model_context.anatomy.model_copy(deep=True)
    anatomy.wraps["femoral_head_r"] = anatomy.wraps["femoral_head_r"].model_copy(
        update={"type": "sphere"}
    )
    model = HipModel(ModelContext.load(real_pack, anatomy))
    rng = np.random.default_rng(5)
    hip = np.concatenate([HIP_SWEEP, rng.uniform(-20, 130, 60)])
    pose = {"hip_flexion": hip,
            "hip_adduction": np.concatenate([np.zeros(HIP_SWEEP.size), rng.uniform(-20, 20, 60)]),
            "knee_flexion": np.concatenate([np.zeros(HIP_SWEEP.size), rng.uniform(0, 120, 60)])}  # fmt: skip
    tr = body_transforms(model.ctx.skeleton, **pose)
    ref_len, _, ref_arm = model.paths.evaluate(tr, hip_flexion_deg=hip)
    fast_len, fast_arm = model._fast.evaluate(tr, np.radians(hip))
    np.testing.assert_allclose(fast_len, ref_len, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fast_arm, ref_arm, rtol=0, atol=1e-6)


def test_explain_cli_leaves_quietly_when_the_reader_closes_the_pipe() -> None:
    """`hipflex explain ... | head -1`: the reader leaving is no error and prints no traceback."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "hipflex", "explain", "--hip", "110"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["explain", "--hip", "110"], ["sweep", "--to", "0", "-o", "-"]])
def test_a_full_disk_on_standard_output_is_one_line(argv) -> None:  # type: ignore[no-untyped-def]
    """`hipflex explain ... > /dev/full`: one line and exit 2, not a traceback."""
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "hipflex", *argv], stdout=full,
                              stderr=subprocess.PIPE, timeout=120)  # fmt: skip
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 2 and err == ["hipflex: error: No space left on device"], err


# one segment of sartorius over three spheres (the femoral head, an experimental second vasti
# sphere that overlaps it, the mid-thigh vasti sphere) at hip flexion -7.1, abduction 20.5,
# internal rotation 36.5, knee 51.3 deg, as resolve_middle first iterates it (session 18's
# experiment; these surfaces are not in the data): its rounds cycle, the mid-thigh sphere taken
# up in one round and dropped in the next
_CYCLE_P = [-0.00415, -0.01532, 0.12327]
_CYCLE_S = [-0.14071514309442582, -0.45224718638088846, 0.18449238698294768]
_CYCLE_SURFACES = [  # centre, side, axis, sense, radius, sphere
    ([-0.0511619, -0.0789433, 0.0968902],
     [0.7719332293851614, -0.3061683742071254, -0.5571175962095984],
     [0.6250737594241702, 0.20596734708003067, 0.7529012200920839],
     -1.0, 0.02928, True),
    ([-0.03686383921701609, -0.11821311762897362, 0.1372951784213932],
     [-0.09190921608250822, -0.2332993221065809, -0.9680517146845558],
     [0.113311400017306, 0.9634014223670476, -0.24293667077505574],
     1.0, 0.0346, True),
    ([-0.05153759520416746, -0.24309203154917586, 0.1687908883410038],
     [-0.09190921608250822, -0.2332993221065809, -0.9680517146845558],
     [0.113311400017306, 0.9634014223670476, -0.24293667077505574],
     1.0, 0.02729, True),
]
_CYCLE_ON = [False, False, True]
_CYCLE_TANGENTS = [
    [-0.03601497478420065, -0.08655871932466909, 0.12076266206440463],
    [-0.03360002491313701, -0.07996011016257103, 0.12029671705245172],
    [-0.14071514309442582, -0.45224718638088846, 0.18449238698294768],
    [-0.14071514309442582, -0.45224718638088846, 0.18449238698294768],
    [-0.07409221209715514, -0.23802876711806092, 0.15428583025386877],
    [-0.07411852020420907, -0.23811294559003565, 0.15429762683249618],
]


def test_a_middle_iteration_that_cycles_returns_the_length_of_the_path_it_draws() -> None:
    """Where ``threewrap.middle_iteration``'s rounds do not settle (they cycled here, a surface
    taken up and dropped in turn, and the length was summed from a last round whose wraps did
    not meet: 265 mm shorter than the path drawn from its state), the row is iterated again with
    the surfaces that came and went held off: its length is that of the path drawn from its
    tangent points (each wrapped surface as the kernel draws it between its engaged neighbours,
    as ``fastpath`` draws it), one more round moves nothing, and the pose-on-floats twin
    (``fastpath._middle_iteration_few``) gives the same path."""
    from hipflex.model.fastpath import _middle_iteration_few
    from hipflex.model.threewrap import _chain_of, middle_iteration
    from hipflex.model.wrapping import wrap_rows

    p, s = np.array([_CYCLE_P]), np.array([_CYCLE_S])
    surfaces = [(np.array([c]), np.array([e1]), np.array([e3]), np.array([sense]), np.array([r]),
                 np.array([sphere])) for c, e1, e3, sense, r, sphere in _CYCLE_SURFACES]  # fmt: skip
    on = [np.array([x]) for x in _CYCLE_ON]
    tangents = [np.array([t]) for t in _CYCLE_TANGENTS]
    chain = middle_iteration(p, s, surfaces, on, tangents)
    full = _chain_of(p, s, chain.on, chain.length, chain.tangents, chain.state)
    points = [p]
    for k in range(3):
        if chain.on[k][0]:
            world, wrapped, _, _, _ = wrap_rows(full.starts[k], full.ends[k], *surfaces[k], True)
            assert wrapped[0] and world is not None
            points.append(world[0])
    points.append(s)
    drawn = np.linalg.norm(np.diff(np.concatenate(points), axis=0), axis=1).sum()
    assert drawn <= chain.length[0] + 1e-9
    assert chain.length[0] - drawn < 1e-3, f"{1000 * (chain.length[0] - drawn):.1f} mm"
    again = middle_iteration(p, s, surfaces, chain.on, chain.tangents)
    assert again.length[0] == pytest.approx(chain.length[0], abs=1e-9)
    few = _middle_iteration_few(p, s, surfaces, on, tangents)
    assert [x[0] for x in few.on] == [x[0] for x in chain.on]
    assert few.length[0] == pytest.approx(chain.length[0], abs=1e-12)


# poses (hip flexion, adduction, rotation, knee; deg) where tensor fasciae latae with the femoral
# head sphere between its two surfaces (session 19's trial) drew a longer path than its length:
# by 12.9 and 11.4 um where an iteration crept (the head sphere and the shaft cylinder intersect
# and the path runs over both where they meet), and by 2.6 um with the head sphere not wrapped
# (its points were drawn at the trochanter's exit as the chain had it, 2 um from the exit drawn)
TFL_HEAD_DRAWN_POSES = [(-0.13, 7.46, 38.02, 137.68), (-28.81, -3.16, 3.32, 11.5),
                        (-17.22, 1.21, 35.67, 117.36)]  # fmt: skip


def test_a_three_surface_path_is_drawn_as_long_as_its_length(model_context, real_pack) -> None:  # type: ignore[no-untyped-def]
    """A three-surface segment's drawn path is as long as its length (short only by the arcs'
    chord error) where its iteration creeps (the rounds run out with the same surfaces wrapped,
    the points still moving: its length is that of the path drawn from its last round,
    ``threewrap.drawn_length``) and where a surface is not wrapped (its points repeat the last
    point drawn before it). Single poses (on floats) give the batch's lengths."""
    from hipflex.model.fastpath import FastPaths
    from hipflex.model.skeleton import ModelContext
    from hipflex.model.wrapping import path_set

    anatomy = model_context.anatomy.model_copy(deep=True)
    tfl = anatomy.muscles["tensor_fasciae_latae"]
    wraps = ["greater_trochanter_top_r", "femoral_head_anterior_r", "femoral_shaft_lateral_r"]
    anatomy.muscles["tensor_fasciae_latae"] = tfl.model_copy(update={"line": [
        ln.model_copy(update={"wraps": wraps}) for ln in tfl.line]})  # fmt: skip
    ctx = ModelContext.load(real_pack, anatomy)
    fp = FastPaths(path_set(ctx))
    j = fp.line_names.index("tensor_fasciae_latae")
    poses = np.array(TFL_HEAD_DRAWN_POSES)
    tr = body_transforms(ctx.skeleton, hip_flexion=poses[:, 0], hip_adduction=poses[:, 1],
                         hip_rotation=poses[:, 2], knee_flexion=poses[:, 3])  # fmt: skip
    moving = {b: tr[b] for b in ("femur_r", "tibia_r", "patella_r")}
    pts = fp.polylines(moving)["tensor_fasciae_latae"]
    drawn = np.linalg.norm(np.diff(pts, axis=1), axis=2).sum(axis=1)
    lengths = fp.evaluate(moving, np.radians(poses[:, 0]))[0][:, j]
    short = lengths - drawn
    assert short.min() > -1e-9, f"drawn {-1e6 * short.min():.2f} um longer than the length"
    assert short.max() < 2e-4
    for i in range(len(poses)):
        one = {b: t[i : i + 1] for b, t in moving.items()}
        single = fp.evaluate(one, np.radians(poses[i : i + 1, 0]))[0][0, j]
        assert single == pytest.approx(lengths[i], abs=1e-12)
        np.testing.assert_allclose(
            fp.polylines(one)["tensor_fasciae_latae"][0], pts[i], rtol=0, atol=1e-9
        )
