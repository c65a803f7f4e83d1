"""tools/validation_lift.py: the side moment-arm tables and the free-lift section's figures."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

from tool_modules import load_tool

HIP = np.arange(-20.0, 131.0, 1.0)
ANGLES = (0, 30, 60, 90, 110, 130)


@pytest.fixture(scope="module")
def vl() -> ModuleType:
    return load_tool("validation_lift")


def _side(vl: ModuleType, medius_turns: bool) -> tuple[object, list[SimpleNamespace]]:
    pairs = [SimpleNamespace(hipflex=m, label=label, opensim=(m + "_r",)) for m, label in
             (("iliacus", "Iliacus"), ("gluteus_medius", "Gluteus medius"),
              ("gluteus_minimus", "Gluteus minimus"), ("adductor_longus", "Adductor longus"))]
    turn = (HIP - 50) / 1000 if medius_turns else np.full(HIP.shape, -0.02)
    hf = {}
    for p in pairs:
        hf[p.hipflex, "adduction"] = np.full(HIP.shape, 0.05 if p.hipflex == "adductor_longus" else 0.0)
        hf[p.hipflex, "rotation"] = turn if p.hipflex.startswith("gluteus") else np.zeros(HIP.shape)
    os_ = {k: v.copy() for k, v in hf.items()}
    os_["iliacus", "adduction"] = os_["iliacus", "adduction"] + 0.03  # 30 mm apart everywhere
    groups = {"iliacus": "iliopsoas", "gluteus_medius": "abductors",
              "gluteus_minimus": "abductors", "adductor_longus": "adductors"}
    return vl.SideCurves(hf, os_, groups), pairs


def test_side_tables_name_the_curves_that_differ_and_only_true_roles(vl: ModuleType) -> None:
    side, pairs = _side(vl, medius_turns=True)
    text = "\n".join(vl.side_section(side, pairs, HIP, ANGLES))
    assert "| Iliacus | 0 / 30 | 0 / 30 |" in text  # adduction row, mm
    assert "| Gluteus medius | -50 / -50 | -20 / -20 | 10 / 10 |" in text  # rotation row
    assert "Iliacus adduction 30 mm" in text and "Gluteus medius rotation" not in text
    assert "turn from external rotators standing to internal rotators at 110°" in text
    assert "adductor longus adducts at every angle" in text
    assert "OpenSim's iliacus adducts (30 mm at 110° against HipFlex's 0)" in text
    still, pairs = _side(vl, medius_turns=False)
    assert "internal rotators" not in "\n".join(vl.side_section(still, pairs, HIP, ANGLES))
    assert vl.side_section(None, pairs, HIP, ANGLES) == []


def test_an_added_external_rotator_never_raises_the_iliopsoas_share(vl: ModuleType, model) -> None:  # type: ignore[no-untyped-def]
    ilio = [model.muscles.index(m) for m in vl.ILIOPSOAS_HF]
    base = vl.hipflex_moments(model, 110)
    shares = [vl._row(np.hstack([base, [[0.0], [0.0], [-r]]]), ilio).lift_share[0]
              for r in vl.EXTRA_ROTATOR_NM]  # fmt: skip
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(shares))
    assert shares[0] == pytest.approx(model.lift_capacity(110.0, 0.0).share_low)


def test_lift_section_without_opensim_files_still_gives_hipflex(vl: ModuleType, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join(vl.lift_section(model, tmp_path, tmp_path / "none.osim", 110))
    lift = model.lift_capacity(110.0, 0.0)
    assert f"| 110° | {lift.moment:.0f}, {100 * lift.share_low:.0f}% |" in text
    assert "OpenSim's give" not in text
