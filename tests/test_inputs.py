"""Input handling: bad API arguments and bad command-line numbers give one clear error.

API misuse raises PoseError (never a silent 0 deg, a parsed string or a flattened array); the
command line prints one line and exits 2, never a traceback.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import hipflex
from hipflex.errors import PoseError
from hipflex.model.hipmodel import MAX_HIP_ACCELERATION, HipModel


@pytest.fixture(scope="module")
def model(model_context):  # type: ignore[no-untyped-def]
    return HipModel(model_context)


# --- the API: angles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.at(None), r"hip_flexion: expected an angle in degrees .*got None"),
        (lambda m: m.at(110, None), r"knee_flexion: expected an angle .*got None"),
        (lambda m: m.at(hip_rotation=None), r"hip_rotation: expected an angle .*got None"),
        (lambda m: m.sweep(None), r"hip_flexion: expected an angle .*got None"),
        (lambda m: m.at("110"), r"hip_flexion: expected an angle .*got '110'"),
        (lambda m: m.at(True), r"hip_flexion: expected an angle .*got True"),
        (lambda m: m.at(np.bool_(True)), r"hip_flexion: expected an angle"),
        (lambda m: m.at(1 + 2j), r"hip_flexion: expected angles in degrees"),
        (lambda m: m.sweep(["10", "20"]), r"hip_flexion: expected angles in degrees"),
        (lambda m: m.sweep([True, False]), r"hip_flexion: expected angles in degrees"),
        (lambda m: m.sweep([10.0, None]), r"hip_flexion: expected angles in degrees"),
        (lambda m: m.sweep([]), r"hip_flexion: no angles given"),
        (lambda m: m.sweep(10.0, knee_flexion=np.array([])), r"knee_flexion: no angles given"),
        (lambda m: m.sweep(np.zeros((3, 4))), r"hip_flexion: .*1-D .*shape \(3, 4\)"),
        (lambda m: m.sweep([0, 10, 20], knee_flexion=[0, 90]),
         r"different lengths .*hip_flexion 3, knee_flexion 2"),
        (lambda m: m.explain(None), r"hip_flexion: expected an angle .*got None"),
        (lambda m: m.explain(np.array([10.0, 20.0])), r"hip_flexion: explain\(\) takes one angle"),
        (lambda m: m.explain(60, "90"), r"knee_flexion: expected an angle .*got '90'"),
    ],
)  # fmt: skip
def test_wrong_angles_raise_pose_error(model, call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseError, match=message):
        call(model)


def test_numeric_angles_of_any_kind_give_the_same_numbers(model) -> None:  # type: ignore[no-untyped-def]
    """Validation must not change what valid input computes: ints, numpy scalars, 0-d arrays,
    Fractions and lists give the float result exactly."""
    ref = model.at(55.0, 30.0)
    for hip, knee in [(55, 30), (np.float64(55), np.int64(30)), (np.array(55.0), 30.0),
                      (Fraction(55), 30.0)]:  # fmt: skip
        got = model.at(hip, knee)
        for q in ref.values:
            np.testing.assert_array_equal(got[q], ref[q])
    swept = model.sweep([55, 55.0], knee_flexion=30)
    np.testing.assert_array_equal(
        swept["max_moment_hip_flexion"][1], ref["max_moment_hip_flexion"][0]
    )


# --- the API: acceleration, subject and strength ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "hip_acceleration is not a finite number"),
        (float("inf"), "hip_acceleration is not a finite number"),
        (-1e6, r"hip_acceleration = -1e\+06 rad/s\^2 is outside -500\.\.500 rad/s\^2"),
        (MAX_HIP_ACCELERATION + 1, r"is outside -500\.\.500"),
        ("5", r"hip_acceleration must be one number in rad/s\^2, got '5'"),
        (np.array([1.0, 2.0]), "hip_acceleration must be one number"),
        (None, "hip_acceleration must be one number"),
        (True, "hip_acceleration must be one number"),
    ],
)  # fmt: skip
def test_hip_acceleration_is_checked(model, value, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseError, match=message):
        model.at(60, hip_acceleration=value)
    with pytest.raises(PoseError, match=message):
        model.sweep([30.0, 60.0], hip_acceleration=value)
    with pytest.raises(PoseError, match=message):
        model.explain(60, hip_acceleration=value)


def test_hip_acceleration_within_the_bound_adds_to_the_moment(model) -> None:  # type: ignore[no-untyped-def]
    still = float(model.at(60).required_moment[0])
    for a in (10, np.float64(10.0), 10.0):
        assert float(model.at(60, hip_acceleration=a).required_moment[0]) > still
    edge = model.at(60, hip_acceleration=-MAX_HIP_ACCELERATION)  # the bound itself is allowed
    assert np.isfinite(edge.required_moment).all()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"body_mass": 10}, r"body mass 10 kg is outside 20\.\.250 kg"),
        ({"body_mass": float("nan")}, r"body mass nan kg is outside"),
        ({"height": 0}, r"height 0 m is outside 1\.\.2\.4 m"),
        ({"height": "1.8"}, r"height must be a number in m, got '1\.8'"),
        ({"body_mass": True}, r"body mass must be a number in kg, got True"),
    ],
)  # fmt: skip
def test_bad_subject_fails_when_the_model_is_built(model_context, kw, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseError, match=message):
        HipModel(model_context, **kw)


def test_load_model_takes_the_pack_positionally_and_checks_the_subject(real_pack) -> None:  # type: ignore[no-untyped-def]
    model = hipflex.load_model(real_pack, body_mass=80.0)
    assert model.body_mass == 80.0 and model.ctx.pack.root == real_pack.root
    with pytest.raises(PoseError, match="body mass 10 kg"):
        hipflex.load_model(real_pack, body_mass=10)


def test_strength_is_checked_however_it_is_set(model_context) -> None:  # type: ignore[no-untyped-def]
    model = HipModel(model_context)
    with pytest.raises(PoseError, match=r"strength of psoas must be 0\.\.2 .*got '0\.5'"):
        model.set_strength("psoas", "0.5")  # type: ignore[arg-type]
    with pytest.raises(PoseError, match=r"strength of psoas must be 0\.\.2 .*got True"):
        model.set_strength("psoas", True)
    assert "psoas" not in model.strength
    ref = model.at(110)["max_moment_hip_flexion"]
    # the dict is public: a direct edit is checked when the peak forces are rebuilt
    for bad in (-1.0, float("nan"), 2.5, "1"):
        model.strength["psoas"] = bad  # type: ignore[assignment]
        with pytest.raises(PoseError, match=r"strength of psoas must be 0\.\.2"):
            model.at(110)
    model.strength["not_a_muscle"] = 1.0
    model.strength.pop("psoas")
    with pytest.raises(PoseError, match="unknown muscle id 'not_a_muscle'"):
        model.at(110)
    model.strength.clear()
    np.testing.assert_array_equal(model.at(110)["max_moment_hip_flexion"], ref)
    model.strength["psoas"] = 0.5  # a valid direct edit still works
    j = model.muscles.index("psoas")
    assert model.at(110)["max_moment_hip_flexion"][0, j] == pytest.approx(0.5 * ref[0, j])
