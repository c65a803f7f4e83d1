"""Gluteus medius as three parts: the lines differ in action the way the fan does.

Its front fibres flex the hip in deep flexion while its back fibres extend it; one line for the
whole fan had gluteus medius flexing from 27 deg (Rajagopal 2016's parts: 89 deg). These tests
compute each line's moment arm from the real pack's paths, so a change of attachments or wraps
that loses the distinction fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from hipflex.model.kinematics import body_transforms

HIP = np.arange(-20.0, 131.0, 1.0)
PARTS = ("gluteus_medius_anterior", "gluteus_medius_middle", "gluteus_medius_posterior")


@pytest.fixture(scope="module")
def part_arms(model):  # type: ignore[no-untyped-def]
    """Hip-flexion moment arm (m) of each gluteus medius line over HIP, knee straight."""
    tr = body_transforms(model.ctx.skeleton, hip_flexion=HIP, knee_flexion=0.0)
    _, _, arms = model.paths.evaluate(tr, hip_flexion_deg=HIP)
    names = [ln.name for ln in model.ctx.lines]
    return {p: arms[:, names.index(p), 0] for p in PARTS}


def test_gluteus_medius_has_three_weighted_lines(model) -> None:  # type: ignore[no-untyped-def]
    lines = [ln for ln in model.ctx.lines if ln.muscle == "gluteus_medius"]
    assert [ln.name for ln in lines] == list(PARTS)
    assert sum(ln.weight for ln in lines) == pytest.approx(1.0, abs=1e-5)


def test_gluteus_medius_parts_extend_near_neutral(part_arms) -> None:  # type: ignore[no-untyped-def]
    for part, arm in part_arms.items():
        assert arm[HIP == 0][0] < -0.005, part


def test_front_part_flexes_and_back_part_extends_at_110(part_arms) -> None:  # type: ignore[no-untyped-def]
    at110 = {p: a[HIP == 110][0] for p, a in part_arms.items()}
    assert at110["gluteus_medius_anterior"] > 0.01
    assert at110["gluteus_medius_posterior"] < 0.0
    assert at110["gluteus_medius_anterior"] > at110["gluteus_medius_middle"]


def test_gluteus_medius_turns_flexor_only_in_deep_flexion(model) -> None:  # type: ignore[no-untyped-def]
    """The muscle (lines summed, full activation) extends the hip from standing to past 45 deg and
    flexes it at 110 deg: one sign change, not the early flip of a single line."""
    res = model.sweep(HIP, knee_flexion=0.0).muscle("gluteus_medius")["max_moment_hip_flexion"]
    sign_change = HIP[1:][np.diff(np.sign(res)) != 0]
    assert sign_change.size == 1 and 45 < sign_change[0] < 100, sign_change
    assert res[HIP == 110][0] > 0
