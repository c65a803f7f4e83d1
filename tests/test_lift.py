"""The free-lift capacity: the most hip flexion with the adduction and rotation moments cancelled."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hipflex.errors import PoseError
from hipflex.model.lift import lift_capacity, pose_moments


def test_a_pure_flexor_is_used_fully_and_a_turning_one_only_as_far_as_it_is_cancelled() -> None:
    # muscle 0 flexes only; muscle 1 flexes 10 and turns inward 50; muscle 2 turns outward 20
    # and extends 2: muscle 1 can run at 20/50 with muscle 2 at 1, giving 30 + 4 - 2 = 32
    m = np.array([[30.0, 10.0, -2.0], [0.0, 0.0, 0.0], [0.0, 50.0, -20.0]])
    lift = lift_capacity(m, [0])
    assert lift.moment == pytest.approx(32.0)
    assert lift.activation == pytest.approx([1.0, 0.4, 1.0])
    assert lift.contribution == pytest.approx([30.0, 4.0, -2.0])
    assert lift.share_low == pytest.approx(30.0 / 32.0) == lift.share_high


def test_without_side_moments_it_is_the_summed_capacity() -> None:
    m = np.array([[40.0, 25.0, -10.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    lift = lift_capacity(m, [1])
    assert lift.moment == pytest.approx(65.0)
    assert lift.share_low == pytest.approx(25.0 / 65.0)


def test_a_share_that_the_optimum_leaves_open_is_given_as_its_range() -> None:
    # two flexors that adduct, one that abducts: the abductor can cancel either, so how the
    # 20 N m of adduction budget is split between muscles 0 and 1 is free at the optimum
    m = np.array([[10.0, 10.0, 10.0], [10.0, 10.0, -10.0], [0.0, 0.0, 0.0]])
    lift = lift_capacity(m, [0])
    assert lift.moment == pytest.approx(20.0)
    assert lift.share_low == pytest.approx(0.0, abs=1e-6)
    assert lift.share_high == pytest.approx(0.5)


def test_no_flexor_gives_zero() -> None:
    lift = lift_capacity(np.array([[-5.0, 0.0], [1.0, 0.0], [0.0, 0.0]]), [0])
    assert lift.moment == 0.0 and lift.share_low == lift.share_high == 0.0


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.array([[1.0, np.nan], [0, 0], [0, 0]])])
def test_bad_moments_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        lift_capacity(bad, [0])


def test_on_the_model_the_lift_balances_and_never_beats_the_sum(model) -> None:  # type: ignore[no-untyped-def]
    """At poses over the range: the optimum's adduction and rotation moments are zero, it gives
    no more flexion than the summed capacities, and it is no worse than any activation set
    drawn at random that also balances (a check independent of the solver's optimality)."""
    rng = np.random.default_rng(3)
    ilio = [model.muscles.index("iliacus"), model.muscles.index("psoas")]
    for hip, knee, add, rot in itertools.product((-10, 45, 110), (0, 90), (0, 15), (-20, 0)):
        res = model.at(hip, knee, add, rot)
        m = pose_moments(res)
        lift = model.lift_capacity(hip, knee, add, rot)
        assert np.abs(m[1:] @ lift.activation).max() < 1e-4 * np.abs(m).max()
        assert lift.moment <= np.clip(m[0], 0, None).sum() + 1e-6
        assert lift.moment == pytest.approx(m[0] @ lift.activation, rel=1e-6)
        found = lift.contribution[ilio].sum() / lift.moment
        assert lift.share_low - 1e-6 <= found <= lift.share_high + 1e-6
        # other balanced activations: steps from the optimum within the side moments' null space
        null = np.linalg.svd(m[1:])[2][2:]
        for _ in range(200):
            a = lift.activation + 0.05 * rng.standard_normal(len(null)) @ null
            if (a >= 0).all() and (a <= 1).all():
                assert m[0] @ a <= lift.moment + 1e-6


def test_model_lift_capacity_refuses_unknown_muscles(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseError, match="nonsense"):
        model.lift_capacity(90.0, 0.0, group=("iliacus", "nonsense"))


def test_explain_says_the_free_lift_share_from_the_model(model) -> None:  # type: ignore[no-untyped-def]
    lift = model.lift_capacity(110.0, 0.0)
    said = [s for s in model.explain(110.0, 0.0) if s["quantity"] == "lift_capacity"]
    assert len(said) == 1
    assert said[0]["value"] == pytest.approx(lift.share_low)
    assert f"at most {lift.moment:.0f} N m" in str(said[0]["text"])
    assert f"{round(100 * lift.share_low)}%" in str(said[0]["text"])
