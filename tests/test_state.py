"""The state's pose ranges against the joint data, the hold task, and what a refused session
file says."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import pytest

from hipflex.anatomy import load_anatomy
from hipflex.errors import HipFlexError, PoseError
from hipflex.model.hipmodel import MAX_HIP_ACCELERATION, HipModel
from hipflex.model.segments import BODY_MASS_RANGE, HEIGHT_RANGE
from hipflex.state import (
    NARROWER_BECAUSE,
    POSE_RANGES,
    STRENGTH_RANGE,
    AppState,
    Task,
    load_session,
)


def _joint_ranges() -> dict[str, tuple[float, float]]:
    return {c.id: (c.range[0], c.range[1]) for j in load_anatomy().joints for c in j.coordinate}


def test_pose_ranges_lie_inside_the_joint_ranges_and_say_why_where_narrower() -> None:
    joints = _joint_ranges()
    assert set(POSE_RANGES) == set(joints)
    narrower = set()
    for name, (lo, hi) in POSE_RANGES.items():
        jlo, jhi = joints[name]
        assert jlo <= lo < hi <= jhi, name
        if (lo, hi) != (jlo, jhi):
            narrower.add(name)
    assert set(NARROWER_BECAUSE) == narrower


def _session(path: Path, pose: dict[str, float]) -> Path:
    path.write_text(
        json.dumps({"format": "hipflex-session", "version": 1, "state": {"pose": pose}})
    )
    return path


@pytest.mark.parametrize("coord", sorted(NARROWER_BECAUSE))
def test_a_session_beyond_the_explorer_range_says_the_range_and_why(tmp_path, coord) -> None:  # type: ignore[no-untyped-def]
    lo, hi = POSE_RANGES[coord]
    jlo, jhi = _joint_ranges()[coord]
    angle = (jlo + lo) / 2 if jlo < lo else (hi + jhi) / 2  # the engine takes it, the GUI not
    path = _session(tmp_path / "s.json", {coord: angle})
    with pytest.raises(HipFlexError) as err:
        load_session(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: key 'pose.{coord}': {angle:g} deg is outside the explorer's "
                          f"range {lo:g}..{hi:g} deg; beyond it, toward the joint limits, ")  # fmt: skip
    assert msg.endswith(NARROWER_BECAUSE[coord])
    assert "Value error" not in msg


def test_a_pose_beyond_a_full_joint_range_names_the_joint_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _session(tmp_path / "s.json", {"knee_flexion": -5})
    with pytest.raises(HipFlexError, match=r"'pose\.knee_flexion': -5 deg is outside the joint "
                       r"range 0\.\.140 deg$"):  # fmt: skip
        load_session(path)
    state = AppState()
    with pytest.raises(HipFlexError, match=r"outside the explorer's range -20\.\.130 deg"):
        state.set_pose(hip_flexion=-25)
    assert state.pose.hip_flexion == 0.0


# -- the hold task ------------------------------------------------------------------------------
MUSCLES = ("iliacus", "psoas", "rectus_femoris", "tensor_fasciae_latae", "sartorius")


def _task_session(path: Path, task: object, **state: object) -> Path:
    path.write_text(json.dumps({"format": "hipflex-session", "version": 1,
                                "state": {"task": task, **state}}))  # fmt: skip
    return path


def test_a_task_round_trips_through_a_session_file_and_undo(tmp_path: Path) -> None:
    state = AppState(muscles=MUSCLES)
    state.set_task(body_mass=82.5, height=1.81, hip_acceleration=40)
    state.set_strength("psoas", 0.5)
    state.set_strength("sartorius", 1.25)
    task = state.task
    assert task == Task(body_mass=82.5, height=1.81, hip_acceleration=40.0,
                        strength={"psoas": 0.5, "sartorius": 1.25})  # fmt: skip
    path = tmp_path / "s.json"
    state.save(path)
    saved = json.loads(path.read_text())["state"]["task"]
    assert saved == {"body_mass": 82.5, "height": 1.81, "hip_acceleration": 40.0,
                     "strength": {"psoas": 0.5, "sartorius": 1.25}}  # fmt: skip
    other = AppState(muscles=MUSCLES)
    other.load(path)
    assert other.task == task and other.snapshot == state.snapshot
    # each change was an undo step; undo walks back to the default task, redo forward again
    assert state.undo() and state.task.strength == {"psoas": 0.5}
    assert state.undo() and state.task.strength == {}
    assert state.task.hip_acceleration == 40.0
    assert state.undo() and state.task == Task()
    assert state.redo() and state.task.body_mass == 82.5
    # full strength is the default, so it is not stored
    state.set_strength("psoas", 1.0)
    assert "psoas" not in state.task.strength
    assert "strength" in json.loads(state.to_json())["state"]["task"]


def test_a_session_without_a_task_loads_with_the_default_task(tmp_path: Path) -> None:
    path = _session(tmp_path / "old.json", {"hip_flexion": 60.0})
    snap = load_session(path, MUSCLES)
    assert snap.task == Task()
    assert snap.pose.hip_flexion == 60.0
    assert (snap.task.body_mass, snap.task.height, snap.task.hip_acceleration) == (75.0, 1.75, 0.0)


def test_the_task_defaults_and_limits_are_the_engines(model_context) -> None:  # type: ignore[no-untyped-def]
    defaults = {f.name: f.default for f in dataclasses.fields(HipModel)}
    assert (Task().body_mass, Task().height) == (defaults["body_mass"], defaults["height"])
    for key, (lo, hi) in (("body_mass", BODY_MASS_RANGE), ("height", HEIGHT_RANGE),
                          ("hip_acceleration", (-MAX_HIP_ACCELERATION, MAX_HIP_ACCELERATION))):  # fmt: skip
        assert getattr(Task(**{key: lo}), key) == lo and getattr(Task(**{key: hi}), key) == hi
        for bad in (lo - 1e-6, hi + 1e-6):
            with pytest.raises(ValueError, match=key):
                Task(**{key: bad})
    # the engine has no named strength bounds: check STRENGTH_RANGE against what it accepts
    model = HipModel(model_context)
    lo, hi = STRENGTH_RANGE
    for ok in (lo, hi):
        model.set_strength("psoas", ok)
        assert Task(strength={"psoas": ok}).fraction("psoas") == ok
    for bad in (lo - 1e-6, hi + 1e-6):
        with pytest.raises(PoseError):
            model.set_strength("psoas", bad)
        with pytest.raises(ValueError, match="psoas"):
            Task(strength={"psoas": bad})


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ({"body_mass": 300}, "key 'task.body_mass': 300 kg is outside 20..250 kg"),
        ({"height": 0.5}, "key 'task.height': 0.5 m is outside 1..2.4 m"),
        ({"hip_acceleration": -600}, "key 'task.hip_acceleration': -600 rad/s^2 is outside "
                                     "-500..500 rad/s^2"),
        ({"strength": {"psoas": 2.5}}, "key 'task.strength.psoas': 2.5 is outside 0..2 "
                                       "(0..200% of the muscle's peak force)"),
        ({"strength": {"psoas": "weak"}}, "key 'task.strength.psoas': Input should be a valid number"),
        ({"strength": [0.5]}, "key 'task.strength': Input should be a valid dictionary"),
        ({"body_mass": float("nan")}, "key 'task.body_mass': Input should be a finite number"),
        ({"mass": 80}, "key 'task.mass': Extra inputs are not permitted"),
    ],
)
def test_a_bad_task_in_a_session_is_one_clear_error_and_loses_nothing(
    tmp_path: Path, task: dict[str, object], message: str
) -> None:
    state = AppState(muscles=MUSCLES)
    state.set_pose(hip_flexion=45)
    state.set_strength("iliacus", 0.75)
    before, undo = state.snapshot, list(state._undo)
    path = _task_session(tmp_path / "bad.json", task)
    with pytest.raises(HipFlexError) as err:
        state.load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: {message}"), msg
    assert "\n" not in msg and "Value error" not in msg and "validation error" not in msg
    assert state.snapshot is before and state._undo == undo  # nothing lost, nothing pushed


def test_unknown_strength_ids_are_refused_by_name(tmp_path: Path) -> None:
    path = _task_session(tmp_path / "s.json", {"strength": {"psoas": 0.5, "psoaz": 0.5}})
    with pytest.raises(HipFlexError, match=r"s\.json: key 'task\.strength': unknown muscle id\(s\) "
                       r"psoaz \(known: "):  # fmt: skip
        load_session(path, MUSCLES)
    state = AppState(muscles=MUSCLES)
    with pytest.raises(HipFlexError, match=r"unknown muscle id\(s\) psoaz"):
        state.load(path)
    with pytest.raises(HipFlexError, match=r"unknown muscle id\(s\) nope"):
        state.set_strength("nope", 0.5)
    assert state.task == Task() and not state.can_undo()
    # a bad value through the state: the key and the problem, and no change
    with pytest.raises(HipFlexError, match=r"^state: key 'task\.body_mass': 10 kg is outside"):
        state.set_task(body_mass=10)
    assert state.task == Task() and not state.can_undo()


def test_a_snapshots_strengths_cannot_change_in_place() -> None:
    state = AppState(muscles=MUSCLES)
    state.set_strength("psoas", 0.5)
    snap = state.snapshot
    with pytest.raises(TypeError):
        snap.task.strength["psoas"] = 0.1  # type: ignore[index]
    with pytest.raises(TypeError):
        snap.task.strength.update(psoas=0.1)
    assert state.task.fraction("psoas") == 0.5 and state.task.fraction("iliacus") == 1.0
    assert hash(snap) == hash(snap.model_copy())  # snapshots stay hashable
    assert copy.deepcopy(snap) == snap and pickle.loads(pickle.dumps(snap)) == snap
    assert Task(strength={"psoas": 1.0, "iliacus": 0.5}).strength == {"iliacus": 0.5}
    assert Task().words() == ""
    assert Task(hip_acceleration=40, strength={"psoas": 0.5}).words({"psoas": "Psoas major"}) == (
        "Psoas major 50%; knee drive 40 rad/s²"
    )
