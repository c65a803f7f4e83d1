"""The hold task with the hip's three moments balanced (hipflex.model.balance)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from hipflex.errors import PoseError
from hipflex.model.balance import balance_moments, balance_one
from hipflex.model.hipmodel import HipModel
from hipflex.model.kinematics import body_transforms
from hipflex.model.lift import pose_moments
from hipflex.model.segments import FOOT, GRAVITY, SHANK, THIGH, LegInertia


def _slsqp(m: np.ndarray, r: np.ndarray) -> np.ndarray:
    """An independent optimum: least sum of squares with the three moments met (a row of
    zeros, a moment no muscle gives, is left to the check)."""
    rows = np.abs(m).sum(axis=1) > 0
    m, r = m[rows], r[rows]
    sol = minimize(lambda a: a @ a, np.full(m.shape[1], 0.1), jac=lambda a: 2 * a,
                   method="SLSQP", bounds=[(0.0, 1.0)] * m.shape[1],
                   constraints=[{"type": "eq", "fun": lambda a: m @ a - r, "jac": lambda a: m}],
                   options={"ftol": 1e-13, "maxiter": 1000})  # fmt: skip
    assert np.abs(m @ sol.x - r).max() < 1e-8, sol.message
    return np.asarray(sol.x)


def _reachable_fraction(m: np.ndarray, r: np.ndarray) -> float:
    """The largest s <= 1 with s * r within the muscles' reach (a linear programme)."""
    k = m.shape[1]
    res = linprog(np.r_[np.zeros(k), -1.0], A_eq=np.hstack([m, -r[:, None]]), b_eq=np.zeros(3),
                  bounds=[(0.0, 1.0)] * (k + 1), method="highs")  # fmt: skip
    assert res.status == 0
    return float(res.x[-1])


def _problems(model: HipModel, poses: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, object]:
    res = model.sweep(**poses)
    moments = np.stack([pose_moments(res, i) for i in range(len(res.required_moment))])
    required = np.column_stack([res.required_moment, res.required_side_moments])
    return moments, required, res


def test_a_turning_flexor_is_used_only_as_far_as_its_turning_is_cancelled() -> None:
    # muscle 0 flexes and turns inward 3 N m per N m; muscle 1 only turns outward; muscle 2
    # only flexes, weakly. Flexion alone would load 0 and 2 by their moments (0 most); with
    # the rotation balanced, muscle 0's turning must be paid for by muscle 1
    m = np.array([[[30.0, 0.0, 5.0], [0.0, 0.0, 0.0], [90.0, -20.0, 0.0]]])
    act, ok, unmet = balance_moments(m, np.array([[10.0, 0.0, 0.0]]))
    assert not unmet.any()
    assert ok[0]
    assert m[0] @ act[0] == pytest.approx([10.0, 0.0, 0.0], abs=1e-7)
    assert act[0] == pytest.approx(_slsqp(m[0], np.array([10.0, 0.0, 0.0])), abs=1e-7)
    # muscle 1 at full effort cancels muscle 0 at 2/9: at most 6.67 + 5 N m of flexion, though
    # the summed flexion is 35 N m
    assert balance_moments(m, np.array([[11.6, 0.0, 0.0]]))[1][0]
    act, ok, unmet = balance_moments(m, np.array([[11.7, 0.0, 0.0]]))
    assert not ok[0]
    # out of reach: the closest activations, and what they leave unmet is what the reserves
    # supply (the muscles' moments and the unmet ones add up to the requirement)
    assert m[0] @ act[0] + unmet[0] == pytest.approx([11.7, 0.0, 0.0], abs=1e-9)
    assert 0 < np.abs(unmet[0]).max() < 1.0


def test_it_matches_slsqp_on_the_models_poses(model) -> None:  # type: ignore[no-untyped-def]
    """Sagittal and turned poses, knee straight and bent: the same optimum as SLSQP's, and
    the three moments met."""
    rng = np.random.default_rng(11)
    n = 40
    poses = {"hip_flexion": rng.uniform(10.0, 125.0, n), "knee_flexion": rng.uniform(0, 120, n),
             "hip_adduction": rng.uniform(-20, 20, n), "hip_rotation": rng.uniform(-25, 25, n)}  # fmt: skip
    moments, required, res = _problems(model, poses)
    act, ok, _ = balance_moments(moments, required)
    checked = 0
    for i in np.flatnonzero(ok & (required[:, 0] > 0)):
        assert moments[i] @ act[i] == pytest.approx(required[i], abs=1e-6)
        assert act[i] == pytest.approx(_slsqp(moments[i], required[i]), abs=1e-6)
        checked += 1
    assert checked >= 25
    # the model's own activations are these
    lifting = required[:, 0] > 0
    assert res["activation"][lifting] == pytest.approx(act[lifting], abs=1e-12)


def test_the_feasible_flag_agrees_with_a_linear_programme(model_context) -> None:  # type: ignore[no-untyped-def]
    """Over the whole joint range, and with muscles weakened or strengthened at random: the
    flag says whether the required moments are within the muscles' reach."""
    rng = np.random.default_rng(5)
    model = HipModel(model_context, strength={m: float(rng.uniform(0.0, 2.0))
                                              for m in model_context.anatomy.muscles})  # fmt: skip
    n = 300
    poses = {"hip_flexion": rng.uniform(-20.0, 130.0, n), "knee_flexion": rng.uniform(0, 140, n),
             "hip_adduction": rng.uniform(-40, 25, n), "hip_rotation": rng.uniform(-40, 40, n)}  # fmt: skip
    moments, required, res = _problems(model, poses)
    lifting = np.flatnonzero(required[:, 0] > 0)
    assert 0 < (~res.feasible[lifting]).sum() < lifting.size  # both kinds occur
    for i in lifting[:80]:
        reach = _reachable_fraction(moments[i], required[i])
        if abs(reach - 1.0) > 1e-6:  # not on the edge of reach
            assert res.feasible[i] == (reach > 1.0 - 1e-6), (i, reach)


def test_one_pose_on_floats_gives_the_batchs_activations(model) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    n = 150
    poses = {"hip_flexion": rng.uniform(-20.0, 130.0, n), "knee_flexion": rng.uniform(0, 140, n),
             "hip_adduction": rng.uniform(-40, 25, n), "hip_rotation": rng.uniform(-40, 40, n)}  # fmt: skip
    moments, required, _ = _problems(model, poses)
    act, ok, unmet = balance_moments(moments, required)
    assert 5 <= (~ok).sum() < n - 5  # both kinds are compared
    for i in range(n):
        one, one_ok, one_unmet = balance_one(tuple(moments[i, k].tolist() for k in range(3)),  # type: ignore[arg-type]
                                             tuple(required[i].tolist()))  # type: ignore[arg-type]
        assert one_ok == ok[i]
        assert np.array(one) == pytest.approx(act[i], abs=1e-10)
        assert np.array(one_unmet) == pytest.approx(unmet[i], abs=1e-9)


def test_bad_input_is_refused(model_context) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="expected"):
        balance_moments(np.zeros((2, 2, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        balance_moments(np.full((1, 3, 2), np.nan), np.zeros((1, 3)))
    with pytest.raises(PoseError, match="hold_balance"):
        HipModel(model_context, hold_balance="knee")


def test_the_side_moments_are_the_weights_potential_energy_gradient(model) -> None:  # type: ignore[no-untyped-def]
    """Independent of the axes used: the moment the muscles must supply about a coordinate is
    the derivative of the leg's potential energy along it (per radian)."""
    inertia = LegInertia(model.body_mass, model.height)
    lt, ls = THIGH["length"] * model.height, SHANK["length"] * model.height
    mt, ms, mf = (s["mass"] * model.body_mass for s in (THIGH, SHANK, FOOT))

    def energy(pose: dict[str, float]) -> float:
        tr = body_transforms(model.ctx.skeleton, **{k: np.array([v]) for k, v in pose.items()})
        thigh, shank = -tr["femur_r"][0, :3, 1], -tr["tibia_r"][0, :3, 1]
        heights = [THIGH["com"] * lt * thigh[1], lt * thigh[1] + SHANK["com"] * ls * shank[1],
                   lt * thigh[1] + ls * shank[1]]  # fmt: skip
        return float(GRAVITY * (mt * heights[0] + ms * heights[1] + mf * heights[2]))

    h = 1e-4  # deg
    for pose in ({"hip_flexion": 60.0, "hip_adduction": 15.0, "hip_rotation": 20.0, "knee_flexion": 90.0},
                 {"hip_flexion": 100.0, "hip_adduction": -20.0, "hip_rotation": -30.0, "knee_flexion": 40.0},
                 {"hip_flexion": 20.0, "hip_adduction": 10.0, "hip_rotation": 0.0, "knee_flexion": 0.0}):  # fmt: skip
        res = model.at(**pose)
        got = [float(res.required_moment[0]), *res.required_side_moments[0].tolist()]
        # one pose takes a float path; a sweep of two gives the same moments
        both = model.sweep(**{k: [v, v] for k, v in pose.items()})
        assert both.required_side_moments == pytest.approx(np.tile(got[1:], (2, 1)), abs=1e-12)
        for k, coordinate in enumerate(("hip_flexion", "hip_adduction", "hip_rotation")):
            up, down = dict(pose), dict(pose)
            up[coordinate] += h
            down[coordinate] -= h
            gradient = (energy(up) - energy(down)) / np.radians(2 * h)
            assert got[k] == pytest.approx(gradient, abs=2e-4), (pose, coordinate)
    assert inertia.side_moments_required(np.array([[0.0, -1.0, 0.0]]), np.array([[0.0, -1.0, 0.0]]),
                                         np.array([[1.0, 0.0, 0.0]]),
                                         np.array([[0.0, 1.0, 0.0]])) == pytest.approx(0.0)  # fmt: skip


def test_the_flexion_only_task_leaves_the_turning_unbalanced_and_this_one_does_not(model_context) -> None:  # type: ignore[no-untyped-def]
    """At 110 deg with the knee straight the flexion-only task loads gluteus medius and
    minimus for their flexion and leaves their inward turning unopposed; the balanced task
    cancels it, and relies more on iliopsoas."""
    poses = {"hip_flexion": 110.0, "knee_flexion": 0.0}
    both = HipModel(model_context).at(**poses)
    alone = HipModel(model_context, hold_balance="flexion").at(**poses)
    moments = pose_moments(both)
    left = moments @ alone["activation"][0]
    assert abs(left[2]) > 0.5 * both.required_moment[0]  # more than half the flexion moment
    assert moments @ both["activation"][0] == pytest.approx(
        [both.required_moment[0], *both.required_side_moments[0]], abs=1e-6)
    ilio = [both.muscles.index(m) for m in ("iliacus", "psoas")]
    assert both["share"][0][ilio].sum() > alone["share"][0][ilio].sum()
    assert both["share"][0].sum() == pytest.approx(1.0)


def test_explain_names_who_works_against_flexion_and_why_a_pose_cannot_be_held(model_context) -> None:  # type: ignore[no-untyped-def]
    model = HipModel(model_context)
    names = {m: model.ctx.anatomy.muscles[m].display_name for m in model.muscles}
    res = model.at(110.0, 0.0)
    against = [m for m, s in zip(res.muscles, res["share"][0], strict=True) if s <= -0.02]
    assert against  # computed: a muscle opposes flexion to cancel the others' turning
    hold = next(s for s in model.explain(110.0, 0.0) if s["quantity"] == "activation")
    assert "against flexion" in str(hold["text"])
    for m in against:
        assert names[m] in str(hold["text"]) or names[m].lower() in str(hold["text"])
    # the top of the range: enough summed flexion, but not with the hip balanced
    top = model.highest_hold_angle(0.0)
    assert top is not None and top < 130
    high = model.at(top + 1.0, 0.0)
    assert not high.feasible[0]
    assert high.required_moment[0] < high["max_moment_hip_flexion"][0].clip(0).sum()
    text = str(next(s for s in model.explain(top + 1.0, 0.0) if s["quantity"] == "activation")["text"])
    assert "turning and sideways moments balanced" in text and f"is {top:g} deg" in text
    # and the unmet moments are the requirement less what the muscles give
    given = pose_moments(high) @ high["activation"][0]
    need = np.r_[high.required_moment[0], high.required_side_moments[0]]
    assert given + high.unmet_moments[0] == pytest.approx(need, abs=1e-6)
    assert np.abs(high.unmet_moments[0]).max() > 0.1
    # each task says what it balances
    caveats = [s["text"] for s in model.explain(60.0, 0.0) if s["quantity"] == "caveat"]
    assert any("no ligaments" in str(c) for c in caveats)
    flexion = HipModel(model_context, hold_balance="flexion")
    caveats = [s["text"] for s in flexion.explain(60.0, 0.0) if s["quantity"] == "caveat"]
    assert any("only the hip-flexion moment balanced" in str(c) for c in caveats)
