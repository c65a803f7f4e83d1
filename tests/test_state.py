"""The state's pose ranges against the joint data, and what a refused session file says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hipflex.anatomy import load_anatomy
from hipflex.errors import HipFlexError
from hipflex.state import NARROWER_BECAUSE, POSE_RANGES, AppState, load_session


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
