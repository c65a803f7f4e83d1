"""tools/validation_report.py's knee comparison, on synthetic OpenSim files and curves.

Why: the report's figures are computed, never typed, so the code that reads OpenSim's knee CSVs
and turns curves into table cells and sentences is what keeps docs/validation.md honest. These
tests need neither OpenSim nor the asset pack.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tool_modules import load_tool

TOOL = Path(__file__).resolve().parents[1] / "tools" / "validation_report.py"


@pytest.fixture(scope="module")
def vr() -> ModuleType:
    """The tool as a module (tools/ is not a package)."""
    return load_tool("validation_report")


def _arch(vr: ModuleType, peak_mm: float, at_deg: float) -> np.ndarray:
    """A flexor's knee moment arm (m): rises to ``peak_mm`` at ``at_deg`` and falls again."""
    k = vr.KNEE_DEG
    return peak_mm / 1000 * np.cos(np.radians(k - at_deg) * 0.6)


def _curves(vr: ModuleType, scale: float, gracilis_hip90_mm: float = 0.0) -> object:
    arms = {}
    for i, m in enumerate(vr.KNEE_IDS):
        base = _arch(vr, scale * (30 + 5 * i), 60)
        if m == "rectus_femoris":
            base = -_arch(vr, scale * 50, 20)
        if m == "tensor_fasciae_latae":
            base = np.zeros_like(vr.KNEE_DEG)
        arms[(m, 0)] = base
        arms[(m, 90)] = base + (gracilis_hip90_mm / 1000 if m == "gracilis" else 0.0)
    return arms


def _write_opensim(vr: ModuleType, folder: Path, range_end: int = 120) -> dict:
    arms = _curves(vr, 1.3, gracilis_hip90_mm=5.0)
    with (folder / vr.KNEE_CSV).open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["muscle", "hip_flexion_deg", "knee_flexion_deg", "extrapolated", "length_m",
                    "knee_moment_arm_m"])  # fmt: skip
        for p in vr.KNEE_PAIRS:
            for hip in vr.KNEE_HIPS:
                for i, k in enumerate(vr.KNEE_DEG):
                    w.writerow([p.opensim[0], hip, round(k), int(k > range_end), "0.4",
                                f"{arms[(p.hipflex, hip)][i]:.6f}"])  # fmt: skip
    with (folder / vr.KNEE_JOINT_CSV).open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["knee_flexion_deg", "extrapolated", "tibia_dx_m", "tibia_dy_m", "tibia_dz_m",
                    "tibia_internal_rotation_deg", "patella_x_m", "patella_y_m",
                    "patella_z_m"])  # fmt: skip
        for k in vr.KNEE_DEG:
            w.writerow([round(k), int(k > range_end), k * 5e-5, 0, 0, k / 10, 0.04 - k * 5e-4,
                        -0.42, 0])  # fmt: skip
    return arms


def _geometry(vr: ModuleType) -> object:
    return vr.KneeGeometry(
        hinge_shift_m=0.0,
        insertion_to_axis_m={m: 0.04 for m in vr.KNEE_IDS},
        femur_via={"sartorius": np.array([-0.004, 0.034, -0.067])},
        pulley={},
    )


def test_missing_knee_csv_is_said_not_raised(vr: ModuleType, tmp_path: Path) -> None:
    os_, joint = vr.load_knee_opensim(tmp_path)
    assert os_ is None and joint is None
    hf = vr.KneeCurves(_curves(vr, 1.0))
    text = "\n".join(vr.knee_section(hf, _geometry(vr), None, None, tmp_path))
    assert "Not compared" in text and vr.KNEE_CSV in text


def test_knee_csvs_are_read_with_the_extrapolated_range(vr: ModuleType, tmp_path: Path) -> None:
    arms = _write_opensim(vr, tmp_path)
    os_, joint = vr.load_knee_opensim(tmp_path)
    assert os_ is not None and joint is not None
    assert os_.extrapolated_from == 121.0
    for key, curve in arms.items():
        np.testing.assert_allclose(os_.moment_arm[key], curve, atol=1e-6)
    assert joint.tibia_internal_rotation[-1] == pytest.approx(14.0)


def test_knee_section_figures_come_from_the_curves(vr: ModuleType, tmp_path: Path) -> None:
    _write_opensim(vr, tmp_path)
    os_, joint = vr.load_knee_opensim(tmp_path)
    hf = vr.KneeCurves(_curves(vr, 1.0))
    text = "\n".join(vr.knee_section(hf, _geometry(vr), os_, joint, tmp_path))
    # the extrapolated column is marked, and each cell is HipFlex / OpenSim at that angle
    assert "| 140°† |" in text
    row = next(r for r in text.splitlines() if r.startswith("| Semimembranosus |"))
    at30 = (vr.knee_at(hf.moment_arm[("semimembranosus", 0)], 30) * 1000,
            vr.knee_at(os_.moment_arm[("semimembranosus", 0)], 30) * 1000)  # fmt: skip
    assert f"| {at30[0]:.0f} / {at30[1]:.0f} |" in row
    assert "30 mm (60°) / 39 mm (60°)" in row
    # a TFL lever of zero reads "0", never "-0"
    assert "-0 " not in text and "| 0 / 0 |" in text
    # only OpenSim's gracilis changes with the hip, by the 5 mm put in
    assert "except gracilis" in text and "OpenSim +5.0 mm" in text
    # the joint's coupled motion, read at the end of Rajagopal's range
    assert "+12.0° about its long axis" in text
    assert "4 mm behind it" in text


def test_plot_knee_writes_a_png(vr: ModuleType, tmp_path: Path) -> None:
    _write_opensim(vr, tmp_path)
    os_, _ = vr.load_knee_opensim(tmp_path)
    out = tmp_path / "knee.png"
    vr.plot_knee(vr.KneeCurves(_curves(vr, 1.0)), os_, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_small_helpers(vr: ModuleType) -> None:
    assert vr._and(["a"]) == "a" and vr._and(["a", "b", "c"]) == "a, b and c"
    mask = np.zeros(vr.KNEE_DEG.shape, bool)
    assert vr._run_from_start(mask) is None
    mask[:15] = True
    mask[100:] = True  # a later run is not the one from the start
    assert vr._run_from_start(mask) == 14
    assert vr._mm0(-0.4) == "0" and vr._mm0(-16.4) == "-16"


def test_curve_shape_helpers(vr: ModuleType) -> None:
    """The cadaver table's angles: where a flat curve starts to rise, where one peaks, where
    one overtakes another (None when it never does by 90 deg, or starts above)."""
    a = vr.HIP_DEG
    flat_then_up = np.where(a < 50, 0.030, 0.030 + (a - 50) * 0.0005)
    assert vr.rises_at(flat_then_up) == 54  # 1.5 mm (5% of 30) is passed 4 deg after the bend
    arch = 0.05 - ((a - 40) / 1000) ** 2
    assert vr.peak_at(arch) == 40
    assert vr.overtakes_at(flat_then_up, arch) is not None
    assert vr.overtakes_at(arch, flat_then_up) is None  # starts above
    assert vr.overtakes_at(np.zeros_like(a), arch) is None  # never


def test_committed_docs_hold_no_unformatted_placeholders() -> None:
    """A sentence written as a plain string where an f-string was meant leaves ``{mm(...):.0f}``
    in docs/validation.md; the reader then sees code where a figure should be."""
    root = TOOL.parents[1]
    placeholder = re.compile(r"\{[^{}\n]*(?::\.\d+f|\(ma,|\(oma,)[^{}\n]*\}")
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        hits = placeholder.findall(doc.read_text(encoding="utf-8"))
        assert not hits, f"{doc.name}: {hits[:3]}"
