"""Compare HipFlex's muscle paths with the published Rajagopal 2016 OpenSim model.

Why this exists: HipFlex builds its own muscle paths on Visible Human bones, with its own wrap
surfaces, and re-derives tendon slack lengths for those bones. Nobody should have to take on
trust that the resulting moment arms and fibre lengths are plausible, and nobody should copy
reference numbers by hand. This script puts HipFlex's engine side by side with OpenSim's own
numbers for Rajagopal 2016 (made by ``tools/opensim_reference.py``) and writes:

- ``docs/validation.md``: method, tables of hip-flexion moment arm and normalised fibre length at
  0/30/60/90/110/130 deg (knee straight), the angles where iliopsoas's moment arm first turns
  non-positive and where rectus femoris goes slack, and a "Why they differ" section whose
  figures are computed here, not typed in;
- ``docs/images/validation_moment_arms.png`` and ``docs/images/validation_fiber_length.png``:
  one panel per muscle, both models, knee 0 solid and knee 90 dashed;
- a knee section in ``docs/validation.md``: the knee-flexion moment arms of the muscles that
  cross the knee at knee 0/30/60/90/120/140 deg (hip 0; OpenSim's values beyond Rajagopal's
  120 deg knee range marked as extrapolated), how much hip 90 changes them, and why the two
  models differ (hinge vs Rajagopal's coupled knee, insertion distances, wrap radii and via
  points read from HipFlex's data), and ``docs/images/validation_knee_moment_arms.png`` (one
  panel per muscle, hip 0 solid and hip 90 dashed). Without ``rajagopal_knee_sweep.csv`` the
  section says the comparison was not made.

The script re-runs against whatever ``app/`` and ``anatomy_data/`` currently hold, so re-run it
after changing paths, wraps or architecture. Usage (HipFlex's own environment)::

    HIPFLEX_CACHE=/tmp/hfcache .venv/bin/python tools/validation_report.py \
        [--opensim-dir /tmp/hipflex-opensim]

The OpenSim CSVs (``rajagopal_sweep.csv``, ``rajagopal_neutral.csv``,
``rajagopal_knee_sweep.csv``, ``rajagopal_knee_joint.csv``) come from::

    /tmp/osimenv/bin/python tools/opensim_reference.py --out /tmp/hipflex-opensim
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import functools
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = REPO_ROOT / "docs" / "validation.md"
IMG_DIR = REPO_ROOT / "docs" / "images"
MA_PNG = IMG_DIR / "validation_moment_arms.png"
NFL_PNG = IMG_DIR / "validation_fiber_length.png"
DEFAULT_OPENSIM_DIR = Path("/tmp/hipflex-opensim")
DEFAULT_MODEL = (
    REPO_ROOT
    / "../shared/anatomy-sources/opensim-org/opensim-models/Models/Rajagopal/Rajagopal2016.osim"
).resolve()
CAPACITY_DEG = 110  # the engine issue's "iliopsoas at 110 deg, knee straight" pose
NOT_IN_HIPFLEX: dict[str, str] = {}  # Rajagopal parts HipFlex has no muscle for, by label
# HipFlex lines that stand for one Rajagopal part each: compared line by line, not as means.
PART_LINES: tuple[tuple[str, str], ...] = (
    ("gluteus_medius_anterior", "glmed1_r"),
    ("gluteus_medius_middle", "glmed2_r"),
    ("gluteus_medius_posterior", "glmed3_r"),
)

KNEE_PNG = IMG_DIR / "validation_knee_moment_arms.png"
KNEE_CSV = "rajagopal_knee_sweep.csv"
KNEE_JOINT_CSV = "rajagopal_knee_joint.csv"
KNEE_DEG: Array = np.arange(0.0, 141.0, 1.0)  # HipFlex's whole knee range
KNEE_HIPS: tuple[int, int] = (0, 90)
KNEE_TABLE_ANGLES: tuple[int, ...] = (0, 30, 60, 90, 120, 140)
# The muscles that cross the knee, flexors first; each is one line in HipFlex and one Rajagopal part.
KNEE_IDS: tuple[str, ...] = ("semimembranosus", "semitendinosus", "biceps_femoris_long_head",
                             "gracilis", "sartorius", "rectus_femoris", "tensor_fasciae_latae")  # fmt: skip
HAMSTRINGS: tuple[str, ...] = KNEE_IDS[:3]
PULLEY_TOL_M = 0.0005  # a moment arm this close to a knee-centred cylinder's radius: on the pulley
NEAR_WRAP_M = 0.002  # ... this close: following the cylinder (a line oblique to its axis)
HIP_EFFECT_MM = 2.0  # a knee moment arm that changes more than this from hip 0 to 90 is named

HIP_DEG: Array = np.arange(-20.0, 131.0, 1.0)
KNEES: tuple[int, int] = (0, 90)
TABLE_ANGLES: tuple[int, ...] = (0, 30, 60, 90, 110, 130)
HF_COLOUR = "#b03a2e"
OS_COLOUR = "#1f5fa8"
# Path sanity limits: beyond these a HipFlex value is a path defect, not anatomy.
MAX_ARM_M = 0.15  # |hip moment arm|
MAX_STEP_M = 0.02  # |length change| between 1-degree samples
MAX_NORM_FIBER = 5.0


@dataclass(frozen=True)
class Pair:
    """One HipFlex muscle and the Rajagopal 2016 muscle(s) it is compared with."""

    hipflex: str
    label: str
    opensim: tuple[str, ...]  # empty: not in Rajagopal 2016


PAIRS: tuple[Pair, ...] = (
    Pair("iliacus", "Iliacus", ("iliacus_r",)),
    Pair("psoas", "Psoas", ("psoas_r",)),
    Pair("rectus_femoris", "Rectus femoris", ("recfem_r",)),
    Pair("sartorius", "Sartorius", ("sart_r",)),
    Pair("tensor_fasciae_latae", "TFL", ("tfl_r",)),
    Pair("pectineus", "Pectineus", ()),
    Pair("adductor_longus", "Adductor longus", ("addlong_r",)),
    Pair("adductor_brevis", "Adductor brevis", ("addbrev_r",)),
    Pair("adductor_magnus", "Adductor magnus",
         ("addmagDist_r", "addmagIsch_r", "addmagMid_r", "addmagProx_r")),
    Pair("gracilis", "Gracilis", ("grac_r",)),
    Pair("gluteus_maximus", "Gluteus maximus", ("glmax1_r", "glmax2_r", "glmax3_r")),
    Pair("gluteus_medius", "Gluteus medius", ("glmed1_r", "glmed2_r", "glmed3_r")),
    Pair("gluteus_minimus", "Gluteus minimus", ("glmin1_r", "glmin2_r", "glmin3_r")),
    Pair("piriformis", "Piriformis", ("piri_r",)),
    Pair("quadratus_femoris", "Quadratus femoris", ()),
    Pair("obturator_internus", "Obturator internus and gemelli", ()),
    Pair("obturator_externus", "Obturator externus", ()),
    Pair("biceps_femoris_long_head", "Biceps femoris LH", ("bflh_r",)),
    Pair("semitendinosus", "Semitendinosus", ("semiten_r",)),
    Pair("semimembranosus", "Semimembranosus", ("semimem_r",)),
)  # fmt: skip


KNEE_PAIRS: tuple[Pair, ...] = tuple(next(p for p in PAIRS if p.hipflex == m) for m in KNEE_IDS)


@dataclass
class Curves:
    """Per (muscle, knee) curves over HIP_DEG: moment arm (m) and normalised fibre length."""

    moment_arm: dict[tuple[str, int], Array]
    norm_fiber: dict[tuple[str, int], Array]
    length: dict[tuple[str, int], Array]


@functools.cache
def _model() -> Any:
    """HipFlex's model, loaded once for every section of the report."""
    import hipflex

    return hipflex.load_model()


@functools.cache
def _sweep_rows(path: Path) -> list[dict[str, str]]:
    """The rows of OpenSim's sweep CSV, read once for every section of the report."""
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


# -- loading -----------------------------------------------------------------------------------
def load_opensim(opensim_dir: Path) -> tuple[Curves, dict[str, dict[str, float]]]:
    """Read rajagopal_sweep.csv / rajagopal_neutral.csv; multi-part muscles are plain means."""
    sweep_csv = opensim_dir / "rajagopal_sweep.csv"
    neutral_csv = opensim_dir / "rajagopal_neutral.csv"
    missing = [p for p in (sweep_csv, neutral_csv) if not p.is_file()]
    if missing:
        print(
            "validation_report: missing OpenSim reference file(s): "
            + ", ".join(str(p) for p in missing)
            + "\nMake them with:\n  /tmp/osimenv/bin/python tools/opensim_reference.py --out "
            + str(opensim_dir),
            file=sys.stderr,
        )
        raise SystemExit(1)
    raw: dict[tuple[str, int], dict[int, tuple[float, float, float]]] = defaultdict(dict)
    for row in _sweep_rows(sweep_csv):
        raw[(row["muscle"], round(float(row["knee_flexion_deg"])))][
            round(float(row["hip_flexion_deg"]))
        ] = (float(row["moment_arm_m"]), float(row["norm_fiber_length"]),
             float(row["length_m"]))  # fmt: skip
    neutral: dict[str, dict[str, float]] = {}
    with neutral_csv.open(newline="") as f:
        for row in csv.DictReader(f):
            neutral[row["muscle"]] = {k: float(v) for k, v in row.items() if k != "muscle"}
    curves = Curves({}, {}, {})
    for pair in PAIRS:
        if not pair.opensim:
            continue
        for knee in KNEES:
            parts = []
            for name in pair.opensim:
                table = raw.get((name, knee))
                if table is None or any(round(a) not in table for a in HIP_DEG):
                    print(f"validation_report: {sweep_csv} lacks {name} at knee {knee} over "
                          f"hip {HIP_DEG[0]:.0f}..{HIP_DEG[-1]:.0f} deg; re-run "
                          "tools/opensim_reference.py", file=sys.stderr)  # fmt: skip
                    raise SystemExit(1)
                parts.append(np.array([table[round(a)] for a in HIP_DEG]))
            mean = np.mean(parts, axis=0)
            curves.moment_arm[(pair.hipflex, knee)] = mean[:, 0]
            curves.norm_fiber[(pair.hipflex, knee)] = mean[:, 1]
            curves.length[(pair.hipflex, knee)] = mean[:, 2]
    return curves, neutral


def load_hipflex() -> tuple[Curves, dict[str, str]]:
    """Sweep HipFlex's engine; also return each muscle's insertion body(ies) for the text."""

    model = _model()
    curves = Curves({}, {}, {})
    for knee in KNEES:
        res = model.sweep(hip_flexion=HIP_DEG, knee_flexion=float(knee))
        for pair in PAIRS:
            d = res.muscle(pair.hipflex)
            curves.moment_arm[(pair.hipflex, knee)] = np.asarray(d["moment_arm_hip_flexion"], float)
            curves.norm_fiber[(pair.hipflex, knee)] = np.asarray(d["norm_fiber_length"], float)
            curves.length[(pair.hipflex, knee)] = np.asarray(d["length"], float)
    insertion: dict[str, str] = {}
    with contextlib.suppress(AttributeError, KeyError):
        insertion["__femoral_head_radius_m"] = str(model.ctx.anatomy.wraps["femoral_head_r"].radius)
    for pair in PAIRS:
        try:
            lines = model.ctx.anatomy.muscles[pair.hipflex].line
            insertion[pair.hipflex] = "/".join(sorted({ln.points[-1].body for ln in lines}))
        except (AttributeError, KeyError, IndexError):
            insertion[pair.hipflex] = "?"
    return curves, insertion


def load_parts(opensim_dir: Path) -> dict[str, tuple[Array, Array, Array, Array]]:
    """Per PART_LINES line, knee straight: HipFlex moment arm and normalised fibre length, then
    OpenSim's, over HIP_DEG."""
    from hipflex.model.kinematics import body_transforms
    from hipflex.model.muscle import pennated_fiber

    model = _model()
    tr = body_transforms(model.ctx.skeleton, hip_flexion=HIP_DEG, knee_flexion=0.0)
    lengths, _, arms = model.paths.evaluate(tr, hip_flexion_deg=HIP_DEG)
    assert arms is not None
    names = [ln.name for ln in model.ctx.lines]
    ref: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
    for row in _sweep_rows(opensim_dir / "rajagopal_sweep.csv"):
        if row["knee_flexion_deg"] == "0":
            ref[row["muscle"]][round(float(row["hip_flexion_deg"]))] = (
                float(row["moment_arm_m"]), float(row["norm_fiber_length"]))  # fmt: skip
    out = {}
    for line, part in PART_LINES:
        i = names.index(line)
        hill = model.ctx.anatomy.muscles[model.ctx.lines[i].muscle].hill
        norm, _ = pennated_fiber(
            (lengths[:, i] - model.tendon_slack[line]) / hill.optimal_fiber_length,
            np.cos(np.radians(hill.pennation_angle)),
        )
        o = np.array([ref[part][round(a)] for a in HIP_DEG])
        out[line] = (arms[:, i, 0], np.asarray(norm, float), o[:, 0], o[:, 1])
    return out


def parts_section(parts: dict[str, tuple[Array, Array, Array, Array]]) -> list[str]:
    """Table of the lines that stand for one Rajagopal part each, with RMS over 0-90 deg."""
    if not parts:
        return []
    rows = [
        "## Gluteus medius part by part (knee straight)",
        "",
        "HipFlex gives gluteus medius three lines like Rajagopal's three parts: its pelvic "
        "contact in thirds from front to back; the anterior and middle lines insert on the "
        "lateral facet of the greater trochanter, the posterior line on the superoposterior "
        "facet at its apex (`tools/derive_paths.py`). Each line is compared with its part: "
        "hip-flexion moment arm (mm) and normalised fibre length, HipFlex / OpenSim.",
        "",
        "| line (part) | " + " | ".join(f"{a}°" for a in TABLE_ANGLES) + " | RMS 0°-90° |",
        "|---|" + "---|" * (len(TABLE_ANGLES) + 1),
    ]
    sel = (HIP_DEG >= 0) & (HIP_DEG <= 90)
    for (line, part), (ha, hn, oa, on) in zip(PART_LINES, parts.values(), strict=True):
        arm = " | ".join(f"{at(ha, a) * 1000:.0f} / {at(oa, a) * 1000:.0f}" for a in TABLE_ANGLES)
        rms = float(np.sqrt(np.mean((ha[sel] - oa[sel]) ** 2))) * 1000
        fib = " | ".join(f"{at(hn, a):.2f} / {at(on, a):.2f}" for a in TABLE_ANGLES)
        rows.append(f"| `{line}` ({part}), moment arm | {arm} | {rms:.0f} mm |")
        rows.append(f"| `{line}` ({part}), fibre length | {fib} | |")
    rows.append("")
    return rows


# -- analysis helpers --------------------------------------------------------------------------
def at(curve: Array, angle: float) -> float:
    return float(np.interp(angle, HIP_DEG, curve))


def first_nonpositive(curve: Array, start: float = 0.0) -> int | None:
    """First angle on the 1-deg grid at or after ``start`` where the value is <= 0."""
    for a, v in zip(HIP_DEG, curve, strict=True):
        if a >= start and v <= 0:
            return round(a)
    return None


def sign_changes(curve: Array, start: float = 0.0) -> list[tuple[float, str]]:
    """Interpolated zero crossings at or after ``start``: (angle, 'flexor->extensor' or back)."""
    out = []
    sel = start <= HIP_DEG
    a, v = HIP_DEG[sel], curve[sel]
    for i in range(len(v) - 1):
        if (v[i] > 0 >= v[i + 1]) or (v[i] <= 0 < v[i + 1]):
            x = a[i] + (a[i + 1] - a[i]) * v[i] / (v[i] - v[i + 1]) if v[i] != v[i + 1] else a[i]
            out.append((float(x), "flexor->extensor" if v[i] > 0 else "extensor->flexor"))
    return out


def rises_at(curve: Array, fraction: float = 0.05, stop: float = 90.0) -> int | None:
    """First 1-deg angle in 0..``stop`` where a moment arm is more than ``fraction`` above its
    0-deg value: where a curve that starts flat begins to rise."""
    base = at(curve, 0.0)
    for a, v in zip(HIP_DEG, curve, strict=True):
        if 0 <= a <= stop and v > base * (1 + fraction):
            return round(a)
    return None


def peak_at(curve: Array, stop: float = 90.0) -> int:
    """The 1-deg angle in 0..``stop`` where a curve is largest."""
    sel = (HIP_DEG >= 0) & (stop >= HIP_DEG)
    return round(float(HIP_DEG[sel][int(np.argmax(curve[sel]))]))


def overtakes_at(curve: Array, other: Array, stop: float = 90.0) -> int | None:
    """First 1-deg angle in 0..``stop`` where ``curve`` exceeds ``other`` after starting below."""
    sel = (HIP_DEG >= 0) & (stop >= HIP_DEG)
    above = curve[sel] > other[sel]
    if above[0]:
        return None
    hits = np.flatnonzero(above)
    return round(float(HIP_DEG[sel][hits[0]])) if hits.size else None


def cadaver_section(hf: Curves, os_: Curves) -> list[str]:
    """The moment-arm curves' shape next to what Kumazaki et al. (2022) measured on cadavers
    (0-90 deg, sagittal plane). Their figures are read from the paper's text, which gives
    angles, not millimetres."""
    ma, oma = hf.moment_arm, os_.moment_arm

    def both(fn: Callable[..., int | None], *muscles: str) -> tuple[str, str]:
        def say(angle: int | None) -> str:
            return "not by 90°" if angle is None else f"{angle}°"

        return (say(fn(*(ma[(m, 0)] for m in muscles))),
                say(fn(*(oma[(m, 0)] for m in muscles))))  # fmt: skip

    rows = [
        ("Iliacus moment arm first 5% above its 0° value",
         "flat to 10°-30° (parts I, II) and 50°-60° (parts III, IV), then steeply up to 90°",
         both(rises_at, "iliacus")),
        ("Psoas moment arm first 5% above its 0° value",
         "flat to 50°, then steeply up", both(rises_at, "psoas")),
        ("Rectus femoris moment arm largest at (0°-90°)",
         "40°, falling gradually to 90°", both(peak_at, "rectus_femoris")),
        ("Iliacus moment arm exceeds rectus femoris's from",
         "40°-60° (parts I, II) and 70°-80° (parts III, IV)",
         both(overtakes_at, "iliacus", "rectus_femoris")),
    ]  # fmt: skip
    il = [at(ma[("iliacus", 0)], a) * 1000 for a in (0, 50, 90)]
    ps = [at(ma[("psoas", 0)], a) * 1000 for a in (0, 50, 90)]
    return [
        "## Shape against cadaver measurements (knee straight)",
        "",
        "Kumazaki et al. (2022, Juntendo Med J 68:352-362) measured the hip-flexion moment arms "
        "of iliacus (four parts), psoas (two) and rectus femoris on cadaver limbs from 0° to "
        "90°. Their text gives where each curve is flat, peaks and crosses another, not "
        "millimetres, so this table compares those angles; HipFlex and OpenSim angles are "
        "computed from the curves above.",
        "",
        "| feature | Kumazaki et al. 2022 | HipFlex | OpenSim |",
        "|---|---|---|---|",
        *(f"| {label} | {lit} | {h} | {o} |" for label, lit, (h, o) in rows),
        "",
        f"HipFlex's iliopsoas has the cadavers' shape: iliacus {il[0]:.0f}, {il[1]:.0f} and "
        f"{il[2]:.0f} mm and psoas {ps[0]:.0f}, {ps[1]:.0f} and {ps[2]:.0f} mm at 0°, 50° and "
        "90°. The flat stretch is the femoral-head wrap cylinder acting as a pulley (below); "
        "the rise begins where the tendon lifts off it. The cadavers were "
        "measured only to 90°, so the rise above 90° stays unchecked.",
        "",
    ]


def defects(hf: Curves) -> dict[tuple[str, int], list[int]]:
    """HipFlex samples (hip angles) where the path is not physical: huge moment arm, a jump in
    length between neighbouring 1-degree samples, or an absurd fibre length."""
    out: dict[tuple[str, int], list[int]] = {}
    for key, arm in hf.moment_arm.items():
        bad = np.abs(arm) > MAX_ARM_M
        bad |= np.abs(hf.norm_fiber[key]) > MAX_NORM_FIBER
        jump = np.abs(np.diff(hf.length[key])) > MAX_STEP_M
        bad[1:] |= jump
        bad[:-1] |= jump
        if bad.any():
            out[key] = [round(a) for a in HIP_DEG[bad]]
    return out


def masked(curve: Array, key: tuple[str, int], bad: dict[tuple[str, int], list[int]]) -> Array:
    """Copy of a HipFlex curve with defective samples set to NaN (for plotting)."""
    out = curve.copy()
    for a in bad.get(key, []):
        out[a == HIP_DEG] = np.nan
    if key in bad:  # a length jump shifts everything after it: hide implausible values too
        out[np.abs(out) > MAX_NORM_FIBER] = np.nan
    return out


def ranges(bad_angles: list[int]) -> str:
    if not bad_angles:
        return ""
    spans, start, prev = [], bad_angles[0], bad_angles[0]
    for a in [*bad_angles[1:], None]:
        if a is not None and a == prev + 1:
            prev = a
            continue
        spans.append(f"{start}°" if start == prev else f"{start}°-{prev}°")
        if a is not None:
            start = prev = a
    return ", ".join(spans)


def fmt_angle(a: int | None) -> str:
    return "never (to 130°)" if a is None else f"{a}°"


def fmt_changes(ch: list[tuple[float, str]]) -> str:
    if not ch:
        return "none"
    return "; ".join(f"{x:.0f}° ({k.replace('->', ' → ')})" for x, k in ch)


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return ""


# -- plots -------------------------------------------------------------------------------------
def plot(hf: Curves, os_: Curves, which: str, path: Path) -> None:
    """Small multiples: one panel per muscle, HipFlex vs OpenSim, knee 0 solid, knee 90 dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    is_ma = which == "moment_arm"
    scale = 1000.0 if is_ma else 1.0
    ylabel = "flexion moment arm (mm)" if is_ma else "norm. fibre length"
    bad = defects(hf)
    ncols = 4
    nrows = -(-(len(PAIRS) + 1) // ncols)  # every muscle plus the legend panel
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 3.25 * nrows), sharex=True)
    flat = axes.ravel()
    for ax, pair in zip(flat, PAIRS, strict=False):
        for knee, style in ((0, "-"), (90, "--")):
            key = (pair.hipflex, knee)
            ax.plot(HIP_DEG, masked(getattr(hf, which)[key], key, bad) * scale, style,
                    color=HF_COLOUR, lw=1.8)  # fmt: skip
            if pair.opensim:
                ax.plot(HIP_DEG, getattr(os_, which)[(pair.hipflex, knee)] * scale,
                        style, color=OS_COLOUR, lw=1.8)  # fmt: skip
        ax.axhline(0.0, color="0.3", lw=0.8)
        if not is_ma:
            ax.axhline(1.0, color="0.6", lw=0.8, ls=":")
            lo, _ = ax.get_ylim()
            if lo < 0:
                ax.axhspan(lo, 0, color="0.85", zorder=0)
                ax.set_ylim(bottom=lo)
        ax.axvline(90.0, color="0.75", lw=0.6, ls=":")
        title = pair.label + ("" if pair.opensim else " (not in Rajagopal)")
        if len(pair.opensim) > 1:
            title += f" (OS: mean of {len(pair.opensim)})"
        flagged = ranges(sorted({a for k in KNEES for a in bad.get((pair.hipflex, k), [])}))
        if flagged:
            ax.text(0.02, 0.03, f"HipFlex path defect hidden:\n{flagged}", transform=ax.transAxes,
                    fontsize=8, color="crimson", va="bottom")  # fmt: skip
        ax.set_title(title, fontsize=11)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=9, labelbottom=True)
        ax.set_xlabel("hip flexion (deg)", fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_xticks([-20, 0, 30, 60, 90, 120])
    legend_ax = flat[len(PAIRS)]
    for ax in flat[len(PAIRS) + 1 :]:
        ax.axis("off")
    legend_ax.axis("off")
    handles = [
        Line2D([], [], color=HF_COLOUR, lw=2, label="HipFlex, knee 0°"),
        Line2D([], [], color=HF_COLOUR, lw=2, ls="--", label="HipFlex, knee 90°"),
        Line2D([], [], color=OS_COLOUR, lw=2, label="OpenSim Rajagopal 2016, knee 0°"),
        Line2D([], [], color=OS_COLOUR, lw=2, ls="--", label="OpenSim Rajagopal 2016, knee 90°"),
    ]
    note = ("positive = hip flexor" if is_ma
            else "dotted: optimal length (1.0)\ngrey band: slack (≤ 0, rigid tendon)")  # fmt: skip
    legend_ax.legend(handles=handles, loc="upper left", fontsize=10, frameon=False)
    legend_ax.text(0.02, 0.25, note, transform=legend_ax.transAxes, fontsize=10, va="top")
    what = ("Hip-flexion moment arm" if is_ma
            else "Normalised fibre length (rigid tendon, fibre / optimal)")  # fmt: skip
    fig.suptitle(f"{what}: HipFlex vs OpenSim Rajagopal 2016 (other coordinates 0)", fontsize=14)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- hip-flexion capacity at one pose --------------------------------------------------------------
@dataclass(frozen=True)
class Capacity:
    """Maximum active hip-flexion moment per muscle (N m, flexors only) at CAPACITY_DEG, knee 0."""

    hipflex: dict[str, float]
    opensim: dict[str, float]  # by HipFlex id, parts summed; muscles HipFlex lacks by label
    # HipFlex's internal-rotation moment arm over its flexion moment arm, per muscle
    rotation_per_flexion: dict[str, float]


def load_capacity(opensim_dir: Path, model_path: Path) -> Capacity | None:
    """Both models' flexion capacity at CAPACITY_DEG with the knee straight. OpenSim's comes
    from its own rigid-tendon fibre length, pennation and moment arm (the sweep CSV), its peak
    force (the .osim file), and the same active force-length curve HipFlex uses."""
    from hipflex.model.muscle import active_force_length

    if not model_path.is_file():
        print(f"validation_report: {model_path} not found; capacity section left out",
              file=sys.stderr)  # fmt: skip
        return None
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from validation_lift import peak_forces

    peak_force = peak_forces(model_path)
    opensim: dict[str, float] = defaultdict(float)
    part_of = {name: p.hipflex for p in PAIRS for name in p.opensim}
    for row in _sweep_rows(opensim_dir / "rajagopal_sweep.csv"):
        if row["knee_flexion_deg"] != "0" or round(float(row["hip_flexion_deg"])) != CAPACITY_DEG:
            continue
        name = row["muscle"]
        norm = float(row["norm_fiber_length"])
        fl = float(active_force_length(np.array([norm]))[0]) if norm > 0 else 0.0
        moment = peak_force[name] * float(row["cos_pennation"]) * fl * float(row["moment_arm_m"])
        opensim[part_of.get(name, NOT_IN_HIPFLEX.get(name, name))] += moment
    pose = _model().at(float(CAPACITY_DEG), 0.0)
    mm = pose["max_moment_hip_flexion"][0]
    hf = {m: float(v) for m, v in zip(pose.muscles, mm, strict=True)}
    flex, rot = pose["moment_arm_hip_flexion"][0], pose["moment_arm_hip_rotation"][0]
    ratio = {m: float(r / f) for m, f, r in zip(pose.muscles, flex, rot, strict=True) if f > 0}
    return Capacity({k: max(v, 0.0) for k, v in hf.items()},
                    {k: max(v, 0.0) for k, v in opensim.items()}, ratio)  # fmt: skip


def capacity_section(cap: Capacity | None, iliacus_fibre: tuple[float, float]) -> list[str]:
    """The capacity table and its reading; ``iliacus_fibre`` = (HipFlex, OpenSim) normalised
    fibre length of iliacus at CAPACITY_DEG, knee straight."""
    if cap is None:
        return []
    label_of = {p.hipflex: p.label for p in PAIRS}
    names = sorted({k for k, v in {**cap.hipflex, **cap.opensim}.items() if v > 0.05},
                   key=lambda k: -max(cap.hipflex.get(k, 0.0), cap.opensim.get(k, 0.0)))  # fmt: skip

    def share(d: dict[str, float]) -> float:
        return (d.get("iliacus", 0.0) + d.get("psoas", 0.0)) / max(sum(d.values()), 1e-9)

    rows = [
        f"## Hip-flexion capacity at {CAPACITY_DEG}°, knee straight",
        "",
        "Maximum active hip-flexion moment of each flexor (N·m; full activation, rigid tendon, "
        "the Rajagopal/Millard active force-length curve as HipFlex implements it). OpenSim's "
        "column uses OpenSim's own fibre lengths and moment arms with Rajagopal's peak forces and "
        "pennation angles; multi-part muscles are summed. The engine issue asks that iliacus and "
        "psoas supply at least 60% of the total in HipFlex.",
        "",
        "| muscle | HipFlex | OpenSim |",
        "|---|---|---|",
    ]
    for k in names:
        h = f"{cap.hipflex[k]:.1f}" if k in cap.hipflex else "not modelled"
        o = f"{cap.opensim[k]:.1f}" if k in cap.opensim or k in label_of else "–"
        rows.append(f"| {label_of.get(k, k)} | {h} | {o} |")
    rows += [
        f"| **total** | **{sum(cap.hipflex.values()):.1f}** | **{sum(cap.opensim.values()):.1f}** |",
        f"| **iliacus + psoas share** | **{100 * share(cap.hipflex):.0f}%** | "
        f"**{100 * share(cap.opensim):.0f}%** |",
        "",
    ]
    gm_h, gm_o = cap.hipflex.get("gluteus_medius", 0.0), cap.opensim.get("gluteus_medius", 0.0)
    gn_h, gn_o = cap.hipflex.get("gluteus_minimus", 0.0), cap.opensim.get("gluteus_minimus", 0.0)
    rot_gm, rot_gn = (cap.rotation_per_flexion.get(m, float("nan"))
                      for m in ("gluteus_medius", "gluteus_minimus"))  # fmt: skip
    missing = sum(v for k, v in cap.opensim.items() if k not in cap.hipflex)
    with_missing = (cap.hipflex.get("iliacus", 0.0) + cap.hipflex.get("psoas", 0.0)) / (
        sum(cap.hipflex.values()) + missing)  # fmt: skip
    rows += [
        f"After iliacus and psoas, the gluteal fan is HipFlex's largest flexor here: gluteus "
        f"medius {gm_h:.1f} and gluteus minimus {gn_h:.1f} N·m (OpenSim {gm_o:.1f} and "
        f"{gn_o:.1f}). At this depth both muscles act in front of the hip centre, but their "
        "internal-rotation moment arms are "
        f"{rot_gm:.1f} and {rot_gn:.1f} times their flexion moment arms: they turn the thigh "
        "inward "
        + ("far more than they lift it" if min(rot_gm, rot_gn) >= 2 else "as they lift it")
        + ". Gluteus medius has three lines like Rajagopal's parts (below); its moment here is "
        "their sum. Gluteus minimus has one line for the whole fan, inserting where the "
        "segmented muscle surface ends on the front of the greater trochanter (the tendon is not "
        "segmented), so its fibres shorten more than the parts' do (docs/status.md). "
        + (
            f"Muscles that HipFlex does not model add {missing:.1f} N·m of flexion capacity in "
            f"OpenSim; with them HipFlex's share would be {100 * with_missing:.0f}%. "
            if missing >= 0.05
            else ""
        )
        + (
            f"HipFlex's iliacus is less short than OpenSim's here (normalised fibre length "
            f"{iliacus_fibre[0]:.2f} vs {iliacus_fibre[1]:.2f}), so its own force is not "
            "underestimated relative to the reference."
            if iliacus_fibre[0] >= iliacus_fibre[1]
            else f"HipFlex's iliacus is shorter than OpenSim's here (normalised fibre length "
            f"{iliacus_fibre[0]:.2f} vs {iliacus_fibre[1]:.2f})."
        ),
        "",
    ]
    return rows


# -- knee-flexion moment arms ------------------------------------------------------------------
@dataclass(frozen=True)
class KneeCurves:
    """Per (muscle, hip angle) knee-flexion moment arm (m, positive = flexor) over KNEE_DEG.
    ``extrapolated_from``: the first knee angle beyond the model's own range (OpenSim only)."""

    moment_arm: dict[tuple[str, int], Array]
    extrapolated_from: float | None = None


@dataclass(frozen=True)
class KneeJoint:
    """How Rajagopal's knee moves besides flexing, over KNEE_DEG, in its femur frame (m, deg)."""

    tibia_shift: Array  # (n, 3): the tibia's knee-joint centre relative to knee 0
    tibia_internal_rotation: Array  # (n,)
    patella: Array  # (n, 3): the patella body's origin


@dataclass(frozen=True)
class KneeGeometry:
    """What in HipFlex's own data sets its knee levers (femur and tibia frames, m)."""

    hinge_shift_m: float  # largest move of the knee axis's point, posed with the tibia, over KNEE_DEG
    # distance from the hinge axis of the first point on the tibia, where the line crosses the
    # knee to: the insertion, or a tibial via point (tibial_via)
    insertion_to_axis_m: dict[str, float]
    femur_via: dict[str, Array]  # femur via point minus the knee axis's point (x anterior, y up)
    pulley: dict[str, tuple[str, float]]  # muscle: (wrap id, radius) of a cylinder on the knee axis
    tibial_via: tuple[str, ...] = ()  # muscles whose first tibial point is a via point
    # the patellar ligament's tibial end from the hinge axis (tibia frame axes)
    tuberosity_m: Array = field(default_factory=lambda: np.zeros(3))
    # the knee axis's point less the tibia's origin (tibia frame; the femur's at knee 0)
    axis_offset_m: Array = field(default_factory=lambda: np.zeros(3))
    # the patellar ligament's moment arm about the hinge (m), over KNEE_DEG (sagittal plane,
    # from the posed patella apex to the posed tuberosity)
    ligament_arm_m: Array = field(default_factory=lambda: np.zeros(0))


def load_knee_opensim(opensim_dir: Path) -> tuple[KneeCurves | None, KneeJoint | None]:
    """Read rajagopal_knee_sweep.csv and rajagopal_knee_joint.csv; None for a missing or
    incomplete file (the report then says so instead of comparing)."""
    curves: KneeCurves | None = None
    joint: KneeJoint | None = None
    path = opensim_dir / KNEE_CSV
    if path.is_file():
        raw: dict[tuple[str, int], dict[int, float]] = defaultdict(dict)
        extrapolated: set[int] = set()
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                knee = round(float(row["knee_flexion_deg"]))
                raw[(row["muscle"], round(float(row["hip_flexion_deg"])))][knee] = float(
                    row["knee_moment_arm_m"]
                )
                if row["extrapolated"] == "1":
                    extrapolated.add(knee)
        wanted = [(p.opensim[0], p.hipflex, h) for p in KNEE_PAIRS for h in KNEE_HIPS]
        if all(all(round(k) in raw[(o, h)] for k in KNEE_DEG) for o, _, h in wanted):
            curves = KneeCurves(
                {(m, h): np.array([raw[(o, h)][round(k)] for k in KNEE_DEG]) for o, m, h in wanted},
                float(min(extrapolated)) if extrapolated else None,
            )
        else:
            print(f"validation_report: {path} lacks some knee muscles or angles; re-run "
                  "tools/opensim_reference.py", file=sys.stderr)  # fmt: skip
    else:
        print(f"validation_report: {path} not found; knee comparison left out (make it with "
              "tools/opensim_reference.py)", file=sys.stderr)  # fmt: skip
    jpath = opensim_dir / KNEE_JOINT_CSV
    if jpath.is_file():
        with jpath.open(newline="") as f:
            rows = {round(float(r["knee_flexion_deg"])): r for r in csv.DictReader(f)}
        try:
            r = [rows[round(k)] for k in KNEE_DEG]
            joint = KneeJoint(
                np.array([[float(x[f"tibia_d{c}_m"]) for c in "xyz"] for x in r]),
                np.array([float(x["tibia_internal_rotation_deg"]) for x in r]),
                np.array([[float(x[f"patella_{c}_m"]) for c in "xyz"] for x in r]),
            )
        except (KeyError, ValueError):
            print(f"validation_report: {jpath} lacks angles or columns; re-run "
                  "tools/opensim_reference.py", file=sys.stderr)  # fmt: skip
    return curves, joint


def load_knee_hipflex() -> tuple[KneeCurves, KneeGeometry]:
    """HipFlex's knee-flexion moment arms at the same poses, and the geometry behind them."""
    from hipflex.model.kinematics import body_transforms

    model = _model()
    arms: dict[tuple[str, int], Array] = {}
    for hip in KNEE_HIPS:
        res = model.sweep(hip_flexion=float(hip), knee_flexion=KNEE_DEG)
        for m in KNEE_IDS:
            arms[(m, hip)] = np.asarray(res.muscle(m)["moment_arm_knee_flexion"], float).ravel()
    skel = model.ctx.skeleton
    tr = body_transforms(skel, hip_flexion=0.0, knee_flexion=KNEE_DEG)
    tibia_in_femur = np.linalg.inv(tr["femur_r"]) @ tr["tibia_r"]
    axis = np.asarray(skel.knee_axis_in_femur, float)  # femur frame
    axis_in_tibia = axis - np.asarray(skel.knee_centre_in_femur, float)  # tibia frame, constant
    posed_axis = tibia_in_femur[:, :3, :3] @ axis_in_tibia + tibia_in_femur[:, :3, 3]
    shift = float(np.max(np.linalg.norm(posed_axis - axis, axis=1)))  # 0 on a fixed hinge
    wraps = model.ctx.anatomy.wraps
    insertion: dict[str, float] = {}
    via: dict[str, Array] = {}
    pulley: dict[str, tuple[str, float]] = {}
    tibial_via: list[str] = []
    for m in KNEE_IDS:
        (line,) = model.ctx.anatomy.muscles[m].line  # every knee muscle is one line
        for pt in line.points:
            pos = np.asarray(pt.position, float)
            if pt.body == "tibia_r" and m not in insertion:  # tibia frame
                insertion[m] = float(np.hypot(*(pos - axis_in_tibia)[:2]))
                if pt.kind == "via":
                    tibial_via.append(m)
            elif pt.kind == "via" and pt.body == "femur_r":
                via[m] = pos - axis
        for wid in line.wraps:
            w = wraps[wid]
            if w.body != "femur_r" or w.type != "cylinder" or w.axis is None:
                continue
            on_axis = np.hypot(*(np.asarray(w.centre, float) - axis)[:2]) < 1e-3
            if on_axis and abs(abs(w.axis[2]) - 1) < 1e-6:  # about the knee (femur z) axis
                pulley[m] = (wid, float(w.radius))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import derive_patella

    apex, tuberosity = derive_patella.ligament_ends(model.ctx.pack)
    patella_in_femur = np.linalg.inv(tr["femur_r"]) @ tr["patella_r"]
    top = patella_in_femur[:, :3, :3] @ apex + patella_in_femur[:, :3, 3]
    low = tibia_in_femur[:, :3, :3] @ tuberosity + tibia_in_femur[:, :3, 3]
    along = (top - low)[:, :2] / np.linalg.norm((top - low)[:, :2], axis=1)[:, None]
    r = axis[:2] - low[:, :2]
    ligament_arm = np.abs(r[:, 0] * along[:, 1] - r[:, 1] * along[:, 0])
    return KneeCurves(arms), KneeGeometry(shift, insertion, via, pulley, tuple(tibial_via),
                                          np.asarray(tuberosity, float) - axis_in_tibia,
                                          axis_in_tibia, ligament_arm)  # fmt: skip


def knee_at(curve: Array, angle: float) -> float:
    return float(np.interp(angle, KNEE_DEG, curve))


def knee_peak(curve: Array) -> tuple[float, int]:
    """The largest lever over KNEE_DEG, signed (a flexor's maximum, an extensor's minimum)."""
    i = int(np.argmax(np.abs(curve)))
    return float(curve[i]), round(KNEE_DEG[i])


def plot_knee(hf: KneeCurves, os_: KneeCurves, path: Path) -> None:
    """Small multiples like the hip plots: one panel per muscle, HipFlex vs OpenSim, hip 0
    solid and hip 90 dashed; Rajagopal's extrapolated knee range shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    ncols = 4
    nrows = -(-(len(KNEE_PAIRS) + 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 3.25 * nrows), sharex=True)
    flat = axes.ravel()
    for ax, pair in zip(flat, KNEE_PAIRS, strict=False):
        if os_.extrapolated_from is not None:
            ax.axvspan(os_.extrapolated_from - 1, KNEE_DEG[-1], color="0.9", zorder=0)
        for hip, style in ((0, "-"), (90, "--")):
            ax.plot(KNEE_DEG, hf.moment_arm[(pair.hipflex, hip)] * 1000, style, color=HF_COLOUR,
                    lw=1.8)  # fmt: skip
            ax.plot(KNEE_DEG, os_.moment_arm[(pair.hipflex, hip)] * 1000, style, color=OS_COLOUR,
                    lw=1.8)  # fmt: skip
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_title(pair.label, fontsize=11)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=9, labelbottom=True)
        ax.set_xlabel("knee flexion (deg)", fontsize=9)
        ax.set_ylabel("knee flexion moment arm (mm)", fontsize=9)
        ax.set_xticks(list(KNEE_TABLE_ANGLES))
        ax.set_xlim(KNEE_DEG[0], KNEE_DEG[-1])
    legend_ax = flat[len(KNEE_PAIRS)]
    for ax in flat[len(KNEE_PAIRS) + 1 :]:
        ax.axis("off")
    legend_ax.axis("off")
    handles = [
        Line2D([], [], color=HF_COLOUR, lw=2, label="HipFlex, hip 0°"),
        Line2D([], [], color=HF_COLOUR, lw=2, ls="--", label="HipFlex, hip 90°"),
        Line2D([], [], color=OS_COLOUR, lw=2, label="OpenSim Rajagopal 2016, hip 0°"),
        Line2D([], [], color=OS_COLOUR, lw=2, ls="--", label="OpenSim Rajagopal 2016, hip 90°"),
    ]
    note = "positive = knee flexor"
    if os_.extrapolated_from is not None:
        note += (f"\ngrey: beyond Rajagopal's knee range\n(from {os_.extrapolated_from - 1:.0f}°; "
                 "its splines extrapolated)")  # fmt: skip
    legend_ax.legend(handles=handles, loc="upper left", fontsize=10, frameon=False)
    legend_ax.text(0.02, 0.25, note, transform=legend_ax.transAxes, fontsize=10, va="top")
    fig.suptitle("Knee-flexion moment arm: HipFlex vs OpenSim Rajagopal 2016 "
                 "(other coordinates 0)", fontsize=14)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _and(items: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    xs = list(items)
    return ", ".join(xs[:-1]) + (" and " if len(xs) > 1 else "") + (xs[-1] if xs else "")


def _run_from_start(mask: NDArray[np.bool_]) -> int | None:
    """The last knee angle of the run of True that starts at KNEE_DEG[0], or None."""
    if not mask[0]:
        return None
    off = np.flatnonzero(~mask)
    return round(KNEE_DEG[off[0] - 1] if len(off) else KNEE_DEG[-1])


def _mm0(v: float) -> str:
    """Whole millimetres without a '-0'."""
    return "0" if round(v) == 0 else f"{v:.0f}"


def _axis_words(offset: Array) -> str:
    """Where the knee axis lies from the epicondyles' midpoint, in words ("5.2 mm behind and
    14.2 mm below")."""
    x, y = (float(v) * 1000 for v in offset[:2])
    return (f"{abs(x):.1f} mm {'behind' if x < 0 else 'in front of'} and {abs(y):.1f} mm "
            f"{'below' if y < 0 else 'above'}")  # fmt: skip


def _in_tibia_frame(shift_mm: Array, knee_deg: float) -> str:
    """A sagittal shift of the tibia in the femur frame (mm), said in the tibia's own frame at
    ``knee_deg`` (its anterior axis (cos, -sin), its long axis (sin, cos)): a forward slide is
    the femur rolling back on it, a move along the shaft is the tibia closing on the femur."""
    c, s = np.cos(np.radians(knee_deg)), np.sin(np.radians(knee_deg))
    forward = float(shift_mm[0] * c - shift_mm[1] * s)
    along = float(shift_mm[0] * s + shift_mm[1] * c)
    return (f"in the tibia's own frame {abs(forward):.1f} mm "
            f"{'forward' if forward >= 0 else 'backward'} and {abs(along):.1f} mm "
            f"{'toward' if along >= 0 else 'away from'} the femur along its shaft")  # fmt: skip


def knee_section(
    hf: KneeCurves,
    geo: KneeGeometry,
    os_: KneeCurves | None,
    joint: KneeJoint | None,
    opensim_dir: Path,
) -> list[str]:
    """The knee moment-arm table, the plot, the hip-90 line and why the two models differ;
    every figure from the curves and data passed in."""
    rows = ["## Knee-flexion moment arm, hip 0 (mm, HipFlex / OpenSim)", ""]
    if os_ is None:
        return [
            *rows,
            f"Not compared: `{opensim_dir / KNEE_CSV}` is missing or incomplete. Make it with "
            "`/tmp/osimenv/bin/python tools/opensim_reference.py`, then re-run this script.",
            "",
        ]
    ext = os_.extrapolated_from
    range_end = KNEE_DEG[-1] if ext is None else ext - 1

    def dag(a: float) -> str:
        """An OpenSim knee angle, marked † where Rajagopal's knee is extrapolated."""
        return f"{a:.0f}°" + ("†" if ext is not None and a >= ext else "")

    def mm(c: KneeCurves, m: str, a: float, hip: int = 0) -> float:
        return knee_at(c.moment_arm[(m, hip)], a) * 1000

    def peak(c: KneeCurves, m: str, cell: bool = False) -> str:
        """'36 mm at 68°' (hip 0), or '36 mm (68°)' in a table cell."""
        v, a = knee_peak(c.moment_arm[(m, 0)])
        if round(v * 1000) == 0:
            return "0"
        where = dag(a) if c is os_ else f"{a}°"
        return f"{v * 1000:.0f} mm ({where})" if cell else f"{v * 1000:.0f} mm at {where}"

    name = {m: m.replace("_", " ") for m in KNEE_IDS}
    rows += [
        "Moment arm about the knee-flexion axis, positive = knee flexor, sweeping the knee at "
        "hip 0 with every other coordinate 0. OpenSim: `computeMomentArm` about `knee_angle_r` "
        f"(positive for flexion in Rajagopal 2016), from `{KNEE_CSV}`; HipFlex: "
        "`sweep(hip_flexion=0, knee_flexion=0..140)`, `moment_arm_knee_flexion`. The last "
        "column is each model's largest lever over 0°-140° and where it occurs."
        + (
            f" † Rajagopal's knee range ends at {range_end:.0f}°; beyond it OpenSim extrapolates "
            "its coupled-motion splines, so its numbers there are not the published model's."
            if ext is not None
            else ""
        ),
        "",
        "| muscle | " + " | ".join(dag(a) for a in KNEE_TABLE_ANGLES) + " | largest lever |",
        "|---|" + "---|" * (len(KNEE_TABLE_ANGLES) + 1),
    ]
    for p in KNEE_PAIRS:
        cells = " | ".join(f"{_mm0(mm(hf, p.hipflex, a))} / {_mm0(mm(os_, p.hipflex, a))}"
                           for a in KNEE_TABLE_ANGLES)  # fmt: skip
        rows.append(
            f"| {p.label} | {cells} | {peak(hf, p.hipflex, True)} / {peak(os_, p.hipflex, True)} |"
        )

    # hip 90: which knee levers depend on the hip, in either model
    def hip_effect(c: KneeCurves, m: str) -> tuple[float, int]:
        d = (c.moment_arm[(m, 90)] - c.moment_arm[(m, 0)]) * 1000
        i = int(np.argmax(np.abs(d)))
        return float(d[i]), round(KNEE_DEG[i])

    effects = {m: (hip_effect(hf, m), hip_effect(os_, m)) for m in KNEE_IDS}
    big = {m: e for m, e in effects.items() if max(abs(e[0][0]), abs(e[1][0])) >= HIP_EFFECT_MM}
    rest = max((max(abs(h[0]), abs(o[0])) for m, (h, o) in effects.items() if m not in big),
               default=0.0)  # fmt: skip
    pinned = [m for m in KNEE_IDS if m in geo.femur_via]
    pinned_change = max(abs(effects[m][0][0]) for m in pinned) if pinned else 0.0
    rows += [
        "",
        f"**Hip 90** (dashed in the plot): the knee moment arms change by at most {rest:.1f} mm "
        + (
            "in both models, except "
            + "; ".join(
                f"{name[m]} (largest change HipFlex "
                + (f"{h[0]:+.1f} mm at {h[1]}°" if abs(h[0]) >= 0.05 else "0.0 mm")
                + f", OpenSim {o[0]:+.1f} mm at {dag(o[1])}, "
                f"{knee_at(os_.moment_arm[(m, 90)] - os_.moment_arm[(m, 0)], 0) * 1000:+.1f} mm "
                "at 0°)"
                for m, (h, o) in big.items()
            )
            if big
            else "in both models"
        )
        + (
            f". In HipFlex, {_and(name[m] for m in pinned)} run to the tibia from a via "
            f"point on the femur, so their knee levers cannot depend on the hip (largest change "
            f"{pinned_change:.1f} mm); the hamstrings' lines are not pinned to the femur and "
            "change a little."
            if pinned
            else "."
        ),
        "",
        "![Knee moment arms](images/validation_knee_moment_arms.png)",
        "",
    ]

    # -- why they differ ----------------------------------------------------------------------
    rows += ["### Why the knee moment arms differ", ""]
    knee_text = (
        "**The knee joint.** HipFlex's knee is a fixed hinge: the tibia turns about an axis "
        "parallel to the femur's epicondylar (z) axis through the posterior condyles' centres "
        f"({_axis_words(geo.axis_offset_m)} the epicondyles' midpoint; the point that keeps the "
        "tibial plateau's gap to the femur as at knee 0, `anatomy_data/tibiofemoral.toml`, "
        "tools/derive_knee_axis.py; Churchill et al. 1998 found the knee's optimal flexion axis "
        "through those centres). Posed with the tibia, that point moves "
        f"{geo.hinge_shift_m * 1000:.1f} mm in the femur frame over 0°-140°. Its patella is a "
        "body of its own that rides over the femur as `anatomy_data/patellofemoral.toml` couples "
        "it to the knee angle (its sagittal rotation from Rajagopal's spline; its position the "
        "one that keeps the patellar ligament's length and the patella's gap to the femur as at "
        "knee 0; tools/derive_patella.py). Rajagopal's `walker_knee_r` couples more motion to "
        "flexion"
    )
    if joint is not None:
        sel = range_end >= KNEE_DEG
        sh = joint.tibia_shift[sel] * 1000
        j = int(np.argmax(np.linalg.norm(sh, axis=1)))
        i_end = int(np.flatnonzero(sel)[-1])
        pat = float(np.linalg.norm(joint.patella[i_end] - joint.patella[0])) * 1000
        knee_text += (
            f": by {range_end:.0f}° the tibia's joint centre has moved "
            f"{np.linalg.norm(sh[j]):.1f} mm in the femur frame ({sh[j, 0]:+.1f} mm anterior, "
            f"{sh[j, 1]:+.1f} mm superior; {_in_tibia_frame(sh[j, :2], KNEE_DEG[sel][j])}"
            f"), the tibia has turned {joint.tibia_internal_rotation[i_end]:+.1f}° about its "
            "long axis (positive = internal), and the patella, a body of its own coupled to the "
            f"knee angle, has moved {pat:.0f} mm (straight line) round the front of the femur."
        )
    else:
        knee_text += f" (`{KNEE_JOINT_CSV}` not found, so not quantified here)."
    rows += [
        knee_text + " Each model's moment arms are about its own flexion axis, so part of "
        "every difference below is the joint model, not the muscle path.",
        "",
    ]

    ins = geo.insertion_to_axis_m
    hf_peak = {m: knee_peak(hf.moment_arm[(m, 0)])[0] for m in HAMSTRINGS}
    os_peak = {m: knee_peak(os_.moment_arm[(m, 0)])[0] for m in HAMSTRINGS}
    longer = [name[m] for m in HAMSTRINGS if os_peak[m] > hf_peak[m]]
    shorter = [name[m] for m in HAMSTRINGS if os_peak[m] <= hf_peak[m]]
    ham_via = [name[m] for m in HAMSTRINGS if m in geo.tibial_via]
    ham_text = (
        "**Hamstrings: the lever is capped by the first point on the tibia.** A straight "
        "segment ending at a point r from a hinge axis has a moment arm of at most r. HipFlex's "
        "hamstrings cross the knee to points on the tibia (their insertions, where the segmented "
        "muscle surfaces end on it"
        + (
            f"; for {_and(ham_via)} a via point on the back of the medial tibial condyle, on "
            "the way round it to the pes anserinus"
            if ham_via
            else ""
        )
        + ") "
        + _and(f"{ins[m] * 1000:.0f} mm ({name[m]})" for m in HAMSTRINGS)
        + " from the knee axis, and their levers peak at "
        + _and(peak(hf, m) for m in HAMSTRINGS)
        + " (hip 0). Rajagopal's levers peak at "
        + _and(peak(os_, m) for m in HAMSTRINGS)
        + (f": longer for {_and(longer)}" if longer else "")
        + (f", shorter for {_and(shorter)}" if shorter else "")
        + ". This script does not compare the two models' attachments. "
    )
    hp = geo.pulley.get(HAMSTRINGS[0])
    if hp is not None and all(geo.pulley.get(m) == hp for m in HAMSTRINGS):
        on = [_run_from_start(np.abs(hf.moment_arm[(m, 0)] - hp[1]) < PULLEY_TOL_M)
              for m in HAMSTRINGS]  # fmt: skip
        if all(a is not None for a in on):
            ham_text += (
                f"Near extension HipFlex's hamstrings lie on `{hp[0]}`, a cylinder of radius "
                f"{hp[1] * 1000:.1f} mm on the knee axis, so their lever is that radius ("
                + _and(f"{name[m]} to {a}°" for m, a in zip(HAMSTRINGS, on, strict=True))
                + f"; Rajagopal {_and(_mm0(mm(os_, m, 0)) for m in HAMSTRINGS)} mm at 0°). "
            )
    zero = [
        (m, h, round(KNEE_DEG[np.argmax(hf.moment_arm[(m, h)] <= 0)]))
        for m in HAMSTRINGS
        for h in KNEE_HIPS
        if (hf.moment_arm[(m, h)] <= 0).any()
    ]
    low = min((float(hf.moment_arm[(m, h)].min()), m, h) for m in HAMSTRINGS for h in KNEE_HIPS)
    via = [name[m] for m in HAMSTRINGS if m in geo.femur_via]
    if zero:
        ham_text += (
            "HipFlex's hamstring knee moment arm turns ≤ 0 from "
            + ", ".join(f"{a}° ({name[m]}, hip {h}°)" for m, h, a in zero)
            + ": the line crosses in front of the knee axis there"
            + (f" (femur via point: {', '.join(via)})" if via else "")
            + ". "
        )
    else:
        ham_text += (
            f"HipFlex's hamstrings stay flexors to {KNEE_DEG[-1]:.0f}° (smallest lever "
            f"{low[0] * 1000:.1f} mm, {name[low[1]]} at hip {low[2]}°)"
            + (
                ": with no femur via point they run from the ischium over the femoral-head "
                "sphere and the posterior condyle cylinder to the tibia (docs/status.md records "
                "the femur via point they had before, which turned the lever negative in deep "
                "flexion). "
                if not via
                else f" (femur via point: {', '.join(via)}). "
            )
        )
    ham_text += (
        f"Rajagopal's fall too: at {dag(KNEE_DEG[-1])} "
        + ", ".join(f"{_mm0(mm(os_, m, KNEE_DEG[-1]))} mm ({name[m]})" for m in HAMSTRINGS)
        + f", at {dag(range_end)} "
        + ", ".join(f"{_mm0(mm(os_, m, range_end))} mm" for m in HAMSTRINGS)
        + "."
    )
    rows += [ham_text, ""]

    sv = geo.femur_via.get("sartorius")
    if sv is not None:
        tilt = float(np.degrees(np.arctan2(abs(sv[0]), sv[1])))
        femur_via = (
            f"its femur via point (`tools/derive_paths.py`, KNEE_VIA: the muscle's centreline 3 cm "
            f"above the knee centre) sits {sv[1] * 1000:.0f} mm above the knee axis and only "
            f"{abs(sv[0]) * 1000:.0f} mm "
            + ("behind" if sv[0] < 0 else "in front of")
            + f" it ({tilt:.0f}° off vertical)"
        )
        if "sartorius" in geo.tibial_via:
            text = (
                f"{femur_via}, and it crosses the knee to a via point on the back of the medial "
                f"tibial condyle, {ins['sartorius'] * 1000:.0f} mm from the axis (gracilis's: "
                "its tendon runs over gracilis's round the condyle to the pes anserinus, "
                "PES_CORNER), so with the knee straight the line passes close to the hinge axis "
                "and the lever is short. As the knee bends the condyle's via point swings behind "
                f"the axis and the lever grows to {peak(hf, 'sartorius')} (OpenSim "
                f"{peak(os_, 'sartorius')}); Rajagopal 2016's sartorius reaches the tibia further "
                "back, at a via point behind the medial condyle (sart_r-P3)."
            )
        else:
            text = (
                f"{femur_via}, so with the knee straight the segment to the tibia runs almost "
                "through the hinge axis. As the knee bends the insertion swings behind the axis "
                f"and the lever grows to {peak(hf, 'sartorius')} (OpenSim "
                f"{peak(os_, 'sartorius')})."
            )
        rows += [
            f"**Sartorius near extension.** HipFlex's sartorius has "
            f"{_mm0(mm(hf, 'sartorius', 0))} mm of knee lever at 0° (OpenSim "
            f"{_mm0(mm(os_, 'sartorius', 0))} mm): {text}",
            "",
        ]
    gp = geo.pulley.get("gracilis")
    if gp is not None:
        g = hf.moment_arm[("gracilis", 0)]
        near = np.abs(np.abs(g) - gp[1]) < NEAR_WRAP_M
        gv = "gracilis" in geo.tibial_via
        rows += [
            f"**Gracilis.** HipFlex's gracilis wraps `{gp[0]}`, a cylinder of radius "
            f"{gp[1] * 1000:.1f} mm on the knee axis, and its lever stays within "
            f"{NEAR_WRAP_M * 1000:.0f} mm of that radius over "
            f"{ranges([round(a) for a in KNEE_DEG[near]]) or 'no angle'}"
            + (
                f"; it crosses the knee to a via point on the back of the medial tibial condyle "
                f"(on the way round it to the pes anserinus), {ins['gracilis'] * 1000:.0f} mm "
                f"from the axis, and its lever peaks at {peak(hf, 'gracilis')}"
                if gv
                else ""
            )
            + f"; Rajagopal's rises from {_mm0(mm(os_, 'gracilis', 0))} mm at 0° to "
            f"{peak(os_, 'gracilis')}.",
            "",
        ]
    rf_h, rf_o = hf.moment_arm[("rectus_femoris", 0)], os_.moment_arm[("rectus_femoris", 0)]
    both = bool((rf_h < 0).all() and (rf_o < 0).all())
    in_range = range_end >= KNEE_DEG
    k_low = int(np.argmin(np.abs(np.where(in_range, rf_o, np.inf))))
    h_low = int(np.argmin(np.abs(np.where(in_range, rf_h, np.inf))))
    rf_text = (
        "**Rectus femoris** extends the knee in both models "
        + (
            "over the whole range"
            if both
            else f"(HipFlex over {np.mean(rf_h < 0) * 100:.0f}% of the sweep, OpenSim over "
            f"{np.mean(rf_o < 0) * 100:.0f}%)"
        )
        + f", but HipFlex's lever is the longer (largest {peak(hf, 'rectus_femoris')} vs "
        f"{peak(os_, 'rectus_femoris')} in OpenSim). In both the tendon pulls on a patella "
        "coupled to the knee angle, so the lever is the patella's motion along the tendon. "
        f"HipFlex's is {-mm(hf, 'rectus_femoris', 0):.0f} mm with the knee straight, where its "
        "patella slides distally fastest: its ligament runs to a tuberosity "
        f"{geo.tuberosity_m[0] * 1000 + 0.0:.0f} mm in front of the hinge axis and "
        f"{-geo.tuberosity_m[1] * 1000 + 0.0:.0f} mm below it, which sweeps back fast as the knee "
        f"bends; the lever is shortest, {-rf_h[h_low] * 1000:.0f} mm, at {dag(KNEE_DEG[h_low])}"
    )
    rf_text += (
        ". Rajagopal's quadriceps pull on the moving patella, and its lever shortens from "
        f"{-mm(os_, 'rectus_femoris', 0):.0f} mm at 0° to {-rf_o[k_low] * 1000:.0f} mm at "
        f"{dag(KNEE_DEG[k_low])}."
    )
    # living knees: the effective quadriceps moment arm (tibial moment per quadriceps force),
    # 10 men flexing and extending in the scanner (dynamic MRI): 31.5 mm at 50 deg rising to 47.1
    # mm at 10 deg ("The effective quadriceps and patellar tendon moment arms relative to the
    # tibiofemoral finite helical axis", PMC4662057, abstract)
    rf_text += (
        " Measured in living knees (10 men, dynamic MRI; 'The effective quadriceps and patellar "
        "tendon moment arms relative to the tibiofemoral finite helical axis', PMC4662057) the "
        "quadriceps' effective lever rose from 31.5 mm at 50° to 47.1 mm at 10° of knee flexion; "
        f"HipFlex gives {-mm(hf, 'rectus_femoris', 50):.0f} and "
        f"{-mm(hf, 'rectus_femoris', 10):.0f} mm there, OpenSim "
        f"{-mm(os_, 'rectus_femoris', 50):.0f} and {-mm(os_, 'rectus_femoris', 10):.0f}. So "
        "HipFlex's lever is too long near extension."
    )
    if geo.ligament_arm_m.size == KNEE_DEG.size:
        # HipFlex's lever = the ligament's lever about the hinge x the patella's force ratio
        lig = {k: knee_at(geo.ligament_arm_m, k) * 1000 for k in (0, 10, 20, 50)}
        ratio = {k: -mm(hf, "rectus_femoris", k) / lig[k] for k in lig}
        above = KNEE_DEG[np.flatnonzero(-rf_h * 1000 / (geo.ligament_arm_m * 1000) < 1.0)]
        rf_text += (
            " It is the product of two factors: the patellar ligament's moment arm about the "
            f"hinge ({lig[0]:.0f} mm at 0°, {lig[10]:.0f} at 10°, {lig[50]:.0f} at 50°) and the "
            "patella's force ratio, rectus femoris's lever over the ligament's ("
            f"{ratio[0]:.2f}, {ratio[10]:.2f} and {ratio[50]:.2f}). The ratio behaves as in "
            "living knees, above 1 only near extension (HipFlex up to "
            + (f"{dag(above[0] - 1)}" if above.size else "the end of its range")
            # the same 40 subjects: the patellar tendon to quadriceps force ratio > 1.0 for
            # knee angles <= 20 deg (PMC4662057, abstract)
            + "; the living knees above 1.0 up to 20°, PMC4662057). The ligament's lever is "
            "what is too long: measured ones are 42.5 mm at full extension (MRI, to the knee's "
            "axis of rotation; 'Changes of the patellar tendon moment arm length in different "
            "knee angles', PMC7547162) and 46 mm on average over the range in 24 cadaver knees "
            "about the instantaneous helical axis (Dandridge et al. 2022, J Orthop Res "
            "40:799-807), men 5-10 mm more. HipFlex's tuberosity lies "
            f"{geo.tuberosity_m[0] * 1000 + 0.0:.0f} mm in front of its fixed hinge; in a real "
            "knee the axis is not fixed (the femur rolls and glides on the tibia), which this "
            "hinge leaves out. Rectus femoris with the knee bent is therefore somewhat longer "
            "in HipFlex than in life; the hip's numbers with the knee straight do not depend "
            "on it."
        )
    rows += [rf_text, ""]
    tv = geo.femur_via.get("tensor_fasciae_latae")
    tfl_h = hf.moment_arm[("tensor_fasciae_latae", 0)]
    flips = np.flatnonzero(np.diff(np.sign(tfl_h)) != 0)
    where = ""
    if tv is not None:
        where = (f"through a femur via point {np.hypot(tv[0], tv[1]) * 1000:.1f} mm from the "
                 f"knee axis ({abs(tv[0]) * 1000:.1f} mm "
                 f"{'in front of' if tv[0] > 0 else 'behind'} and {abs(tv[1]) * 1000:.1f} mm "
                 f"{'above' if tv[1] > 0 else 'below'} it), ")  # fmt: skip
    turn = (f"it extends the knee near extension ({_mm0(mm(hf, 'tensor_fasciae_latae', 0))} mm "
            f"at 0°) and flexes it from {KNEE_DEG[flips[0] + 1]:.0f}°"
            if len(flips) and tfl_h[0] < 0 else
            f"its knee lever is never more than {np.max(np.abs(tfl_h)) * 1000:.1f} mm")  # fmt: skip
    rows += [
        f"**TFL.** HipFlex's TFL reaches the tibia {where}so {turn}; Rajagopal's iliotibial "
        f"tract extends the knee near extension ({_mm0(mm(os_, 'tensor_fasciae_latae', 0))} mm "
        f"at 0°, {_mm0(mm(os_, 'tensor_fasciae_latae', 90))} mm at 90°). HipFlex's via point "
        "follows Fairclough et al. 2006 (J Anat 208:309-316), who found the tract anchored to the "
        "distal femur by fibrous strands rather than rolling over the lateral epicondyle.",
        "",
        "Tendon slack lengths are fitted at hip 0 / knee 0 only (above), so these knee-lever "
        "differences accumulate into the muscles' lengths, and fibre lengths, as the knee bends.",
        "",
    ]
    return rows


# -- report ------------------------------------------------------------------------------------
def table(hf: Curves, os_: Curves, which: str, scale: float, fmt: str) -> list[str]:
    bad = defects(hf)
    head = "| muscle | " + " | ".join(f"{a}°" for a in TABLE_ANGLES) + " |"
    rows = [head, "|---|" + "---|" * len(TABLE_ANGLES)]
    for pair in PAIRS:
        cells = []
        for a in TABLE_ANGLES:
            h = at(getattr(hf, which)[(pair.hipflex, 0)], a) * scale
            flag = " ⚠" if a in bad.get((pair.hipflex, 0), []) or (
                which == "norm_fiber" and abs(h) > MAX_NORM_FIBER) else ""  # fmt: skip
            if pair.opensim:
                o = at(getattr(os_, which)[(pair.hipflex, 0)], a) * scale
                cells.append(f"{h:{fmt}}{flag} / {o:{fmt}}")
            else:
                cells.append(f"{h:{fmt}}{flag} / –")
        rows.append(f"| {pair.label} | " + " | ".join(cells) + " |")
    return rows


def defect_section(hf: Curves) -> list[str]:
    bad = defects(hf)
    if not bad:
        return ["No HipFlex path defects detected (moment arm within ±150 mm, no length jump "
                "over 20 mm between 1° samples).", ""]  # fmt: skip
    out = [
        "## ⚠ HipFlex path defects detected",
        "",
        "At these samples HipFlex's path is not physical (|moment arm| > 150 mm, a muscle-tendon "
        "length jump > 20 mm between neighbouring 1° samples, or |normalised fibre length| > 5). "
        "Typically a wrap surface is entered or left discontinuously. They are hidden in the plots "
        "and marked ⚠ in the tables; numbers derived from these muscles (sign changes, slack angles) "
        "are unreliable until the path is fixed.",
        "",
    ]
    for (m, k), angles in sorted(bad.items()):
        jumps = np.flatnonzero(np.abs(np.diff(hf.length[(m, k)])) > MAX_STEP_M)
        detail = "; ".join(
            f"length {hf.length[(m, k)][j] * 1000:.0f} → {hf.length[(m, k)][j + 1] * 1000:.0f} mm "
            f"between {HIP_DEG[j]:.0f}° and {HIP_DEG[j + 1]:.0f}°" for j in jumps)  # fmt: skip
        out.append(f"- `{m}`, knee {k}°: hip {ranges(angles)}" + (f" ({detail})" if detail else ""))
    out.append("")
    return out


def build_report(
    hf: Curves,
    os_: Curves,
    insertion: dict[str, str],
    opensim_dir: Path,
    cap: Capacity | None,
    parts: dict[str, tuple[Array, Array, Array, Array]],
    knee: Sequence[str] = (),
    model_path: Path = DEFAULT_MODEL,
) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from validation_lift import lift_section, load_side, side_section

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "app", "anatomy_data", "tools")
    today = dt.date.today().isoformat()
    ma, nf = hf.moment_arm, hf.norm_fiber
    oma, onf = os_.moment_arm, os_.norm_fiber

    def mm(c: dict[tuple[str, int], Array], m: str, a: float, k: int = 0) -> float:
        return at(c[(m, k)], a) * 1000.0

    def nl(c: dict[tuple[str, int], Array], m: str, a: float, k: int = 0) -> float:
        return at(c[(m, k)], a)

    L: list[str] = []
    L += [
        "# Validation: HipFlex vs OpenSim (Rajagopal 2016)",
        "",
        f"Generated by `tools/validation_report.py` on {today} at commit `{commit}`"
        + (" (with uncommitted changes in app/, anatomy_data/ or tools/)" if dirty else "")
        + ". Every number and plot on this page comes from that script; do not edit them by hand, "
        "re-run it:",
        "",
        "```",
        "/tmp/osimenv/bin/python tools/opensim_reference.py --out /tmp/hipflex-opensim",
        "HIPFLEX_CACHE=/tmp/hfcache .venv/bin/python tools/validation_report.py",
        "```",
        "",
        *defect_section(hf),
        "## How the comparison was made",
        "",
        "- **Reference**: OpenSim 4.6 (the `opensim` package from PyPI) on `Rajagopal2016.osim` "
        "from the opensim-org/opensim-models mirror, evaluated by `tools/opensim_reference.py` "
        f"(CSV files read from `{opensim_dir}`). `hip_flexion_r` swept from -20° to 130° in 1° "
        "steps with coordinate clamping off, at `knee_angle_r` 0° and 90°; every other coordinate "
        "0. Moment arms are OpenSim's `computeMomentArm` about `hip_flexion_r`. For the knee "
        "section, `knee_angle_r` swept from 0° to 140° at hip 0° and 90° (clamping off; "
        "Rajagopal's knee range ends at 120°).",
        "- **HipFlex**: `hipflex.load_model().sweep(hip_flexion=-20..130, knee_flexion=0 or 90)`, "
        "hip adduction and rotation 0. Moment arms come from the wrapped path's geometry "
        "(virtual work); `tests/test_model.py` checks them against the length derivative to "
        "0.1 mm.",
        "- **Both**: positive moment arm = hip flexor. Rigid tendon and fixed-width pennation "
        "(Millard et al. 2013, as in Rajagopal's muscles): the fibres' length along the tendon is "
        "muscle-tendon length − tendon slack length, and their height, optimal fibre length × "
        "sin(pennation at optimum), stays constant. Normalised fibre length = fibre length / "
        "optimal fibre length; when the muscle-tendon unit is at or below the tendon slack length "
        "it is slack (no active force) and the table shows (muscle-tendon length − tendon slack "
        "length) / cos(pennation at optimum) / optimal fibre length, ≤ 0. "
        "`tools/opensim_reference.py` checks its OpenSim numbers against OpenSim's own "
        "`getNormalizedFiberLength` with every tendon made rigid.",
        "- **Multi-part muscles**: Rajagopal's adductor magnus (4 parts), gluteus maximus (3) and "
        "gluteus medius (3) are shown as the plain mean of the parts' moment arms and fibre lengths. "
        "HipFlex's gluteus maximus (2 lines), gluteus medius (3 lines, one per Rajagopal part, "
        "compared part by part in their own table) and psoas (3 lines) are the force-weighted "
        "means of their lines. Pectineus and the deep external rotators (quadratus femoris, "
        "obturator internus and gemelli, obturator externus) are not in Rajagopal 2016, so they "
        "have HipFlex numbers only; docs/status.md compares quadratus femoris and obturator "
        "internus with Gait2392's quad_fem and gem (obturator externus is in neither model).",
        "",
        "## Hip-flexion moment arm, knee 0 (mm, HipFlex / OpenSim)",
        "",
        *table(hf, os_, "moment_arm", 1000.0, ".0f"),
        "",
        "![Moment arms](images/validation_moment_arms.png)",
        "",
        "## Normalised fibre length, knee 0 (HipFlex / OpenSim)",
        "",
        "1.0 = optimal fibre length; ≤ 0 = slack. At 0° the two agree by construction (see below).",
        "",
        *table(hf, os_, "norm_fiber", 1.0, ".2f"),
        "",
        "![Fibre lengths](images/validation_fiber_length.png)",
        "",
        "## Key angles",
        "",
        "| quantity | HipFlex | OpenSim |",
        "|---|---|---|",
    ]
    for m, label in (("iliacus", "Iliacus"), ("psoas", "Psoas")):
        L.append(f"| {label}: moment arm first ≤ 0 (knee 0, from 0°) | "
                 f"{fmt_angle(first_nonpositive(ma[(m, 0)]))} | "
                 f"{fmt_angle(first_nonpositive(oma[(m, 0)]))} |")  # fmt: skip
    for m, label in (("rectus_femoris", "Rectus femoris"), ("tensor_fasciae_latae", "TFL")):
        for k in KNEES:
            L.append(f"| {label} slack (norm. fibre length ≤ 0), knee {k}° | "
                     f"{fmt_angle(first_nonpositive(nf[(m, k)]))} | "
                     f"{fmt_angle(first_nonpositive(onf[(m, k)]))} |")  # fmt: skip
    L += [
        "",
        "Angles are the first 1° grid point at or above 0° hip flexion that meets the condition.",
        "",
        "Where the hip-flexion moment arm changes sign (knee 0, 0° to 130°, interpolated):",
        "",
        "| muscle | HipFlex | OpenSim |",
        "|---|---|---|",
    ]
    for pair in PAIRS:
        o = fmt_changes(sign_changes(oma[(pair.hipflex, 0)])) if pair.opensim else "–"
        L.append(f"| {pair.label} | {fmt_changes(sign_changes(ma[(pair.hipflex, 0)]))} | {o} |")

    # -- Why they differ: each paragraph quotes numbers computed above ------------------------
    def maxdiff(m: str, k: int = 0, lo: float = 0, hi: float = 130) -> tuple[float, float]:
        sel = (lo <= HIP_DEG) & (hi >= HIP_DEG)
        d = (ma[(m, k)] - oma[(m, k)])[sel] * 1000
        i = int(np.argmax(np.abs(d)))
        return float(d[i]), float(HIP_DEG[sel][i])

    rms = {
        p.hipflex: float(np.sqrt(np.mean(((ma[(p.hipflex, 0)] - oma[(p.hipflex, 0)]) * 1000)[
            (HIP_DEG >= 0) & (HIP_DEG <= 90)] ** 2)))
        for p in PAIRS if p.opensim
    }  # fmt: skip
    close = sorted(m for m, v in rms.items() if v < 5.0)
    label_of = {p.hipflex: p.label for p in PAIRS}
    il0, os_il0 = mm(ma, "iliacus", 0), mm(oma, "iliacus", 0)
    ps0, os_ps0 = mm(ma, "psoas", 0), mm(oma, "psoas", 0)
    il_hf_zero = first_nonpositive(ma[("iliacus", 0)])
    il_os_zero = first_nonpositive(oma[("iliacus", 0)])
    ps_os_zero = first_nonpositive(oma[("psoas", 0)])
    rf_hf, rf_os = (
        first_nonpositive(nf[("rectus_femoris", 0)]),
        first_nonpositive(onf[("rectus_femoris", 0)]),
    )
    tfl_knee_dl = float(np.max(np.abs(hf.length[("tensor_fasciae_latae", 90)]
                                      - hf.length[("tensor_fasciae_latae", 0)]))) * 1000  # fmt: skip
    tfl_knee_dl_os = float(np.max(np.abs(os_.length[("tensor_fasciae_latae", 90)]
                                         - os_.length[("tensor_fasciae_latae", 0)]))) * 1000  # fmt: skip
    rf_knee_hf = (hf.length[("rectus_femoris", 90)] - hf.length[("rectus_femoris", 0)])[20] * 1000
    rf_knee_os = (os_.length[("rectus_femoris", 90)] - os_.length[("rectus_femoris", 0)])[20] * 1000
    smd, sma = maxdiff("semimembranosus")
    pulley = ""
    radius = float(insertion.get("__femoral_head_radius_m", "nan")) * 1000
    il = ma[("iliacus", 0)] * 1000
    on_head = (np.abs(il - radius) < 0.3) & (HIP_DEG >= -20)
    if np.isfinite(radius) and on_head.sum() >= 5:
        pulley = (
            f"Between {HIP_DEG[on_head][0]:.0f}° and {HIP_DEG[on_head][-1]:.0f}° HipFlex's iliacus "
            f"moment arm is constant at {radius:.1f} mm, the radius of the femoral-head wrap "
            "cylinder, which is centred on the hip axis: while the tendon lies on it the cylinder "
            "is a pure pulley, so the moment arm is its radius, not a property of the attachments. "
            f"That is why HipFlex is below OpenSim from 0° to about 60° ({mm(ma, 'iliacus', 30):.0f} "
            f"vs {mm(oma, 'iliacus', 30):.0f} mm at 30°). "
        )

    i0 = int(np.flatnonzero(HIP_DEG == 0)[0])
    nl_neutral_err = max(abs(nf[(p.hipflex, 0)][i0] - onf[(p.hipflex, 0)][i0])
                         for p in PAIRS if p.opensim)  # fmt: skip

    il_fibre = (nl(nf, "iliacus", CAPACITY_DEG), nl(onf, "iliacus", CAPACITY_DEG))
    side = load_side(opensim_dir, PAIRS, HIP_DEG, _model())
    L += ["", *cadaver_section(hf, os_), *capacity_section(cap, il_fibre),
          *side_section(side, PAIRS, HIP_DEG, TABLE_ANGLES),
          *lift_section(_model(), opensim_dir, model_path, CAPACITY_DEG), *parts_section(parts)]
    L += [
        "## Why they differ",
        "",
        f"Over 0°-90° with the knee straight the moment-arm curves agree to within 5 mm RMS for "
        f"{', '.join(label_of[m] for m in close) or 'no muscle'}; "
        + "; ".join(
            f"{label_of[m]} {v:.0f} mm"
            for m, v in sorted(rms.items(), key=lambda t: -t[1])
            if v >= 5.0
        )
        + " RMS for the rest. The paragraphs below explain the notable differences.",
        "",
        "**Different bones.** HipFlex's paths run on the Visible Human Male's pelvis and femur "
        "(segmented meshes, see the asset pack's ATTRIBUTION.md); Rajagopal 2016 uses its generic "
        "scaled skeleton. Pelvic width and tilt, femoral neck length and anteversion and the hip "
        "centre all differ, so millimetre differences of the order of 5-10 mm near neutral are "
        f"expected even for the same anatomical attachments (for example iliacus {il0:.0f} vs "
        f"{os_il0:.0f} mm and psoas {ps0:.0f} vs {os_ps0:.0f} mm at 0°).",
        "",
        "**Attachments come from muscle surfaces, not copied coordinates.** HipFlex places each "
        "origin and insertion from the segmented muscle surfaces on its own bones "
        "(`tools/derive_paths.py`), and uses one or a few lines per muscle where Rajagopal uses "
        "several parts; comparing a single line with the mean of parts is only approximate. "
        f"Gluteus minimus is a clear case: HipFlex {mm(ma, 'gluteus_minimus', 0):.0f} mm vs "
        f"OpenSim's three-part mean {mm(oma, 'gluteus_minimus', 0):.0f} mm at 0°, because "
        "Rajagopal's posterior part extends the hip near neutral while HipFlex has one line for "
        "the whole fan. Adductor magnus "
        f"({mm(ma, 'adductor_magnus', 60):.0f} vs {mm(oma, 'adductor_magnus', 60):.0f} mm at 60°) "
        f"and gluteus maximus ({mm(ma, 'gluteus_maximus', 0):.0f} vs "
        f"{mm(oma, 'gluteus_maximus', 0):.0f} mm at 0°) differ for the same reason. "
        f"Semimembranosus has the largest hamstring difference ({smd:+.0f} mm at {sma:.0f}°): "
        "in HipFlex its hip moment arm is close to semitendinosus's "
        f"({mm(ma, 'semimembranosus', 60):.0f} vs {mm(ma, 'semitendinosus', 60):.0f} mm at 60°), "
        "in Rajagopal it is clearly smaller "
        f"({mm(oma, 'semimembranosus', 60):.0f} vs {mm(oma, 'semitendinosus', 60):.0f} mm). The "
        "likely cause is where each model puts the origin on the ischial tuberosity relative to "
        "the hip centre; this script does not check that.",
        "",
        "**Iliopsoas at deep flexion: fixed-sense wrap cylinders.** HipFlex's iliacus and psoas "
        "turn over a cylinder at the pelvic brim (iliopectineal eminence) and one round the femoral "
        "head, each with a fixed wrapping side, so the path cannot slide off the front of the "
        "pelvis; a third, femur-fixed cylinder along the underside of the femoral neck keeps the "
        "tendon out of the neck when the hip turns inward. Their moment arms keep rising: "
        f"iliacus {mm(ma, 'iliacus', 90):.0f} → "
        f"{mm(ma, 'iliacus', 130):.0f} mm and psoas {mm(ma, 'psoas', 90):.0f} → "
        f"{mm(ma, 'psoas', 130):.0f} mm from 90° to 130° (first ≤ 0: "
        f"{fmt_angle(il_hf_zero)}). {pulley}In OpenSim the path slides off its wrap surface and the line "
        f"cuts behind the hip centre: iliacus falls from {mm(oma, 'iliacus', 90):.0f} mm at 90° "
        f"to {mm(oma, 'iliacus', 110):.0f} mm at 110° and is ≤ 0 from {fmt_angle(il_os_zero)} "
        f"(psoas from {fmt_angle(ps_os_zero)}), ending at {mm(oma, 'iliacus', 130):.0f} mm at "
        "130°. The measured hip-flexion torque peak near 105° (Ito et al. 2024) is not "
        "compatible with an iliopsoas that loses its lever there, so this is the difference we "
        "intend. Cadaver measurements show the same rise up to 90° (Kumazaki et al. 2022, "
        "section above), but none go further: HipFlex's rise above 90° is larger than any "
        "published model shows and should be checked against imaging when a source turns up.",
        "",
        "**Hamstrings at deep flexion, sartorius in extension: femoral head spheres.** A "
        "straight line from the ischial tuberosity to the back of the distal femur passes "
        "closer and closer to the hip axis as the hip flexes, until at deep flexion it would cut "
        "through the femoral head; sartorius's line from the anterior superior iliac spine "
        "grazes the front of the head in extension. HipFlex wraps them over a sphere of the "
        "head's radius plus 4 mm (capsule), behind and in front respectively, so biceps "
        f"femoris keeps {mm(ma, 'biceps_femoris_long_head', 130):.0f} mm at 130° "
        f"(OpenSim {mm(oma, 'biceps_femoris_long_head', 130):.0f} mm: a line that close to the "
        "flexion axis passes through the head unless it runs well medial or lateral of it) and "
        f"sartorius {mm(ma, 'sartorius', -20):.0f} mm at -20° "
        f"(OpenSim {mm(oma, 'sartorius', -20):.0f} mm).",
        "",
        "**Fibre lengths away from neutral follow the moment arms.** HipFlex re-derives every "
        "tendon slack length so that the normalised fibre length at all coordinates 0 matches "
        f"Rajagopal's (largest mismatch at neutral here: {nl_neutral_err:.3f}). Away from neutral, "
        "the change in muscle-tendon length is the integral of the moment arm over angle, so fibre "
        "length differences are accumulated moment-arm differences. Semimembranosus, with a "
        "moment arm about 20 mm larger over 30°-110°, reaches "
        f"{nl(nf, 'semimembranosus', 130):.2f} vs {nl(onf, 'semimembranosus', 130):.2f} at 130°. "
        "Iliacus is the other way round: HipFlex's positive moment arm keeps shortening it to "
        f"{nl(nf, 'iliacus', 130):.2f} at 130°, while OpenSim's turns negative and the muscle "
        f"lengthens again ({nl(onf, 'iliacus', 130):.2f}). Rectus femoris goes slack with the "
        f"knee straight at {fmt_angle(rf_hf)} in HipFlex and {fmt_angle(rf_os)} in OpenSim: close, "
        "because its moment arms agree within a few mm.",
        "",
        "**Knee flexion: tendon slack lengths are fitted at knee 0 only.** With the knee at 90° "
        f"rectus femoris is {rf_knee_hf:.0f} mm longer than with it straight in HipFlex "
        f"(hip 0) and {rf_knee_os:.0f} mm longer in OpenSim, so its normalised fibre length at "
        f"hip 0 / knee 90 is {nl(nf, 'rectus_femoris', 0, 90):.2f} vs "
        f"{nl(onf, 'rectus_femoris', 0, 90):.2f}. Knee moment arms are not matched by the "
        "re-derivation, so any knee-arm difference shows up fully at knee 90 (the last section "
        "compares the knee moment arms). Neither model lets "
        "rectus femoris go slack with the knee bent (table above).",
        "",
        f"**TFL.** HipFlex's TFL line ends on `{insertion.get('tensor_fasciae_latae', '?')}`; "
        + (
            "it passes the knee on the knee axis (knee section below), so its length does not "
            "depend on the knee "
            if tfl_knee_dl < 1.0
            else "its length depends on the knee "
        )
        + f"(largest change knee 0 → 90: {tfl_knee_dl:.1f} mm, vs {tfl_knee_dl_os:.0f} "
        "mm in OpenSim, whose TFL reaches the tibia through the iliotibial tract). This also "
        "explains the different fibre lengths at knee 90 in the plot. Its hip-flexion moment arm "
        "differs too "
        f"at high flexion ({mm(ma, 'tensor_fasciae_latae', 90):.0f} vs "
        f"{mm(oma, 'tensor_fasciae_latae', 90):.0f} mm at 90°, "
        f"{mm(ma, 'tensor_fasciae_latae', 130):.0f} vs {mm(oma, 'tensor_fasciae_latae', 130):.0f} "
        "mm at 130°); a smaller moment arm means it shortens less with flexion, which moves "
        "its slack angle "
        f"({fmt_angle(first_nonpositive(nf[('tensor_fasciae_latae', 0)]))} vs "
        f"{fmt_angle(first_nonpositive(onf[('tensor_fasciae_latae', 0)]))} with the knee "
        "straight).",
        "",
        *knee,
    ]
    return "\n".join(L)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--opensim-dir", type=Path, default=DEFAULT_OPENSIM_DIR,
                    help="directory with rajagopal_sweep.csv, rajagopal_neutral.csv and the "
                         "knee CSVs (from tools/opensim_reference.py)")  # fmt: skip
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL,
                    help="Rajagopal2016.osim, for peak forces and pennation angles")  # fmt: skip
    args = ap.parse_args(argv)
    os_curves, _neutral = load_opensim(args.opensim_dir)
    hf_curves, insertion = load_hipflex()
    cap = load_capacity(args.opensim_dir, args.model)
    plot(hf_curves, os_curves, "moment_arm", MA_PNG)
    plot(hf_curves, os_curves, "norm_fiber", NFL_PNG)
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    parts = load_parts(args.opensim_dir)
    knee_os, knee_joint = load_knee_opensim(args.opensim_dir)
    knee_hf, knee_geo = load_knee_hipflex()
    written = [DOC_PATH, MA_PNG, NFL_PNG]
    if knee_os is not None:
        plot_knee(knee_hf, knee_os, KNEE_PNG)
        written.append(KNEE_PNG)
    knee = knee_section(knee_hf, knee_geo, knee_os, knee_joint, args.opensim_dir)
    report = build_report(hf_curves, os_curves, insertion, args.opensim_dir, cap, parts, knee,
                          args.model)
    DOC_PATH.write_text(report)
    for p in written:
        print(f"wrote {p.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
