"""docs/validation.md's sections on the two moments a free knee lift must cancel.

Part of tools/validation_report.py: HipFlex's hip adduction and rotation moment arms against
Rajagopal 2016's (``rajagopal_side_sweep.csv`` from tools/opensim_reference.py), and the
hip-flexion capacity in a free knee lift (hipflex.model.lift) in both models, with how the
HipFlex figure moves if external rotators the model lacks were added.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hipflex.model.lift import LiftCapacity, lift_capacity, pose_moments
from hipflex.model.muscle import active_force_length

Array = NDArray[np.float64]
SIDE_CSV = "rajagopal_side_sweep.csv"
SIDES = (("adduction", "moment_arm_adduction_m", "positive = adductor"),
         ("rotation", "moment_arm_rotation_m", "positive = internal rotator"))  # fmt: skip
LIFT_ANGLES: tuple[int, ...] = (0, 30, 60, 90, 110, 120, 130)
# a pure external rotator's capacity (N m) added to HipFlex's muscles at the capacity pose: how
# far the free-lift share depends on external rotators the model may lack or underrate
EXTRA_ROTATOR_NM: tuple[float, ...] = (0.0, 10.0, 20.0, 40.0, 80.0)
# the deep external rotators' strength (their peak forces rest on one scaling rule, docs/status.md)
ROTATOR_STRENGTH: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
ILIOPSOAS_HF = ("iliacus", "psoas")
ILIOPSOAS_OS = ("iliacus_r", "psoas_r")
NAMED_RMS_MM = 10.0  # side moment arms this far apart (RMS over 0-90 deg) are named


@dataclass(frozen=True)
class SideCurves:
    """Per HipFlex muscle id and side ("adduction", "rotation"): moment arm (m) over HIP_DEG,
    knee straight; OpenSim's is the plain mean of the muscle's Rajagopal parts."""

    hipflex: dict[tuple[str, str], Array]
    opensim: dict[tuple[str, str], Array]
    group: dict[str, str]  # HipFlex muscle id: its anatomy group


def load_side(opensim_dir: Path, pairs: Any, hip_deg: Array, model: Any) -> SideCurves | None:
    """Both models' adduction and rotation moment arms, or None without the OpenSim CSV."""
    path = opensim_dir / SIDE_CSV
    if not path.is_file():
        return None
    rows: dict[tuple[str, int], dict[str, str]] = {}
    with path.open(newline="") as f:
        for r in csv.DictReader(f):
            rows[r["muscle"], int(r["hip_flexion_deg"])] = r
    res = model.sweep(hip_deg, knee_flexion=0.0)
    hf: dict[tuple[str, str], Array] = {}
    os_: dict[tuple[str, str], Array] = {}
    for p in pairs:
        j = model.muscles.index(p.hipflex)
        for side, col, _ in SIDES:
            hf[p.hipflex, side] = np.asarray(res[f"moment_arm_hip_{side}"][:, j], float)
            if p.opensim:
                os_[p.hipflex, side] = np.array([
                    np.mean([float(rows[n, int(a)][col]) for n in p.opensim]) for a in hip_deg])  # fmt: skip
    return SideCurves(hf, os_, {m: model.ctx.anatomy.muscles[m].group for m in model.muscles})


def side_section(side: SideCurves | None, pairs: Any, hip_deg: Array,
                 angles: tuple[int, ...]) -> list[str]:  # fmt: skip
    """Two tables (adduction, rotation) and the muscles whose curves differ most."""
    if side is None:
        return []
    out = ["## Hip adduction and rotation moment arms, knee straight (mm, HipFlex / OpenSim)", "",
           "The two moments a free knee lift must cancel (next section). OpenSim: "
           "`computeMomentArm` about `hip_adduction_r` and `hip_rotation_r` at each hip-flexion "
           "angle, every other coordinate 0 (`rajagopal_side_sweep.csv`); multi-part muscles "
           "as the plain mean of their parts. HipFlex: `sweep(...)`, `moment_arm_hip_adduction` "
           "and `moment_arm_hip_rotation` (force-weighted means of a muscle's lines).", ""]  # fmt: skip
    idx = [int(np.flatnonzero(hip_deg == a)[0]) for a in angles]
    in_range = (hip_deg >= 0) & (hip_deg <= 90)
    apart: list[str] = []
    for name, _, sign in SIDES:
        out += [f"**{name.capitalize()}** ({sign})", "",
                "| muscle | " + " | ".join(f"{a}°" for a in angles) + " |",
                "|---|" + "---|" * len(angles)]  # fmt: skip
        for p in pairs:
            h = side.hipflex[p.hipflex, name] * 1000
            o = side.opensim.get((p.hipflex, name))
            cells = [f"{h[i]:.0f} / " + ("–" if o is None else f"{1000 * o[i]:.0f}") for i in idx]
            out.append(f"| {p.label} | " + " | ".join(cells) + " |")
            if o is not None:
                rms = float(np.sqrt(np.mean((h - 1000 * o)[in_range] ** 2)))
                if rms >= NAMED_RMS_MM:
                    apart.append(f"{p.label} {name} {rms:.0f} mm")
        out.append("")
    deep = int(np.flatnonzero(hip_deg == angles[-2])[0])  # the capacity angle (110 deg)
    stand = int(np.flatnonzero(hip_deg == 0)[0])
    roles = []
    fan = [p for p in pairs if p.hipflex in ("gluteus_medius", "gluteus_minimus")]
    if all(c[p.hipflex, "rotation"][stand] < 0 < c[p.hipflex, "rotation"][deep]
           for p in fan for c in (side.hipflex, side.opensim)):  # fmt: skip
        roles.append("gluteus medius and minimus turn from external rotators standing to "
                     f"internal rotators at {angles[-2]}°")
    adductors = [p for p in pairs if side.group[p.hipflex] == "adductors"
                 and (p.hipflex, "adduction") in side.opensim]  # fmt: skip
    if adductors and all((c[p.hipflex, "adduction"] > 0).all()
                         for p in adductors for c in (side.hipflex, side.opensim)):  # fmt: skip
        names = [p.label.lower() for p in adductors]
        roles.append(f"{', '.join(names[:-1])} and {names[-1]} adduct at every angle"
                     if len(names) > 1 else f"{names[0]} adducts at every angle")
    il_h = 1000 * side.hipflex["iliacus", "adduction"][deep]
    il_o = 1000 * side.opensim["iliacus", "adduction"][deep]
    out += [
        "Over 0°-90° the curves differ by "
        + (f"{NAMED_RMS_MM:.0f} mm RMS or more for {', '.join(apart)}; the rest agree more "
           "closely." if apart else f"less than {NAMED_RMS_MM:.0f} mm RMS for every muscle.")
        + (f" Both models agree that {' and that '.join(roles)}." if roles else "")
        + " The differences come from where each model attaches its lines (HipFlex from this "
        "skeleton's muscle surfaces, with one or a few lines where Rajagopal has parts). "
        f"Beyond 90° OpenSim's iliacus adducts ({il_o:.0f} mm at {angles[-2]}° against HipFlex's "
        f"{il_h:.0f}) as its path slides medially off its wrap surface.", ""]  # fmt: skip
    return out


@dataclass(frozen=True)
class LiftRow:
    """One model's free-lift and summed capacity at one angle (N m, iliopsoas share 0..1)."""

    optimum: LiftCapacity
    summed: float
    summed_share: float

    @property
    def lift(self) -> float:
        return self.optimum.moment

    @property
    def lift_share(self) -> tuple[float, float]:
        return self.optimum.share_low, self.optimum.share_high


def _row(moments: Array, group: list[int]) -> LiftRow:
    pos = np.clip(moments[0], 0.0, None)
    return LiftRow(lift_capacity(moments, group), float(pos.sum()),
                   float(pos[group].sum() / max(pos.sum(), 1e-12)))  # fmt: skip


def hipflex_moments(model: Any, hip: float) -> Array:
    """(3, n) maximal active moments (flexion, adduction, rotation) per muscle, knee straight."""
    return pose_moments(model.at(float(hip), 0.0))


def peak_forces(model_path: Path) -> dict[str, float]:
    """Every muscle's max_isometric_force (N) in an .osim file, by name."""
    peak: dict[str, float] = {}
    for el in ET.parse(model_path).iter():
        name, f0 = el.get("name"), el.find("max_isometric_force")
        if name and f0 is not None and f0.text:
            peak[name] = float(f0.text)
    return peak


def opensim_moments(opensim_dir: Path, model_path: Path,
                    hips: tuple[int, ...]) -> tuple[list[str], dict[int, Array]]:  # fmt: skip
    """Rajagopal's parts (each its own activation, as OpenSim has them) and, per hip angle,
    their (3, n) moments as ``hipflex_moments``: its rigid-tendon fibre length, pennation and
    moment arms from the CSVs, its peak forces, and HipFlex's active force-length curve (as the
    flexion capacity section). Nothing without the CSVs or the model file."""
    side_path, main_path = opensim_dir / SIDE_CSV, opensim_dir / "rajagopal_sweep.csv"
    if not (side_path.is_file() and main_path.is_file() and model_path.is_file()):
        return [], {}
    peak = peak_forces(model_path)
    with main_path.open(newline="") as f:
        main = {(r["muscle"], int(r["hip_flexion_deg"])): r for r in csv.DictReader(f)
                if r["knee_flexion_deg"] == "0"}  # fmt: skip
    with side_path.open(newline="") as f:
        side = {(r["muscle"], int(r["hip_flexion_deg"])): r for r in csv.DictReader(f)}
    names = list(dict.fromkeys(n for n, _ in side))
    out = {}
    for hip in hips:
        cols = []
        for n in names:
            row, arms = main[n, hip], side[n, hip]
            norm = float(row["norm_fiber_length"])
            fl = float(active_force_length(np.array([norm]))[0]) if norm > 0 else 0.0
            force = peak[n] * float(row["cos_pennation"]) * fl
            cols.append([force * float(row["moment_arm_m"]),
                         force * float(arms["moment_arm_adduction_m"]),
                         force * float(arms["moment_arm_rotation_m"])])  # fmt: skip
        out[hip] = np.array(cols).T
    return names, out


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _range(share: tuple[float, float]) -> str:
    lo, hi = _pct(share[0]), _pct(share[1])
    return lo if lo == hi else f"{lo[:-1]}-{hi}"


def lift_section(model: Any, opensim_dir: Path, model_path: Path,
                 capacity_deg: int) -> list[str]:  # fmt: skip
    """The free-lift capacity over LIFT_ANGLES in both models, what each uses at
    ``capacity_deg``, and the HipFlex share with an added pure external rotator."""
    ilio_hf = [model.muscles.index(m) for m in ILIOPSOAS_HF]
    hf_m = {a: hipflex_moments(model, a) for a in LIFT_ANGLES}
    hf = {a: _row(m, ilio_hf) for a, m in hf_m.items()}
    os_names, os_m = opensim_moments(opensim_dir, model_path, LIFT_ANGLES)
    ilio_os = [os_names.index(m) for m in ILIOPSOAS_OS if m in os_names]
    os_ = {a: _row(m, ilio_os) for a, m in os_m.items()}
    out = ["## Hip-flexion capacity in a free knee lift, knee straight", "",
           "Summing every flexor's capacity (the section above) credits a muscle with all of its "
           "flexion even when it comes with a larger turning or sideways moment. In a free knee "
           "lift nothing holds the thigh, so the muscles' adduction and rotation moments must "
           "cancel among themselves. The free-lift capacity is the largest hip-flexion moment "
           "with both at zero: a linear programme over activations 0..1, each muscle (each "
           "Rajagopal part, in OpenSim's column) at its maximal active moments at the pose "
           "(`hipflex.model.lift`; `model.lift_capacity`). Where its optimum can be reached in "
           "more than one way, the iliopsoas share is its range over all of them.", "",
           "| hip flexion | HipFlex free lift: N·m, iliopsoas | HipFlex summed | "
           "OpenSim free lift | OpenSim summed |", "|---|---|---|---|---|"]  # fmt: skip
    for a in LIFT_ANGLES:
        o = os_.get(a)
        cells = [f"{hf[a].lift:.0f}, {_range(hf[a].lift_share)}",
                 f"{hf[a].summed:.0f}, {_pct(hf[a].summed_share)}",
                 "–" if o is None else f"{o.lift:.0f}, {_range(o.lift_share)}",
                 "–" if o is None else f"{o.summed:.0f}, {_pct(o.summed_share)}"]
        out.append(f"| {a}° | " + " | ".join(cells) + " |")
    if any(max(r.lift_share) > 1 for r in os_.values()):
        out += ["", "A share above 100% means the optimum also uses muscles that extend the hip, "
                   "to cancel a sideways or turning moment."]
    out.append("")
    labels = {m: model.ctx.anatomy.muscles[m].display_name for m in model.muscles}
    here = hf[capacity_deg]
    used_hf = _used(here.optimum, list(model.muscles), labels)
    text = (f"At {capacity_deg}° HipFlex's muscles can give {here.summed:.0f} N·m summed but "
            f"{here.lift:.0f} N·m in a free lift, and iliopsoas's share rises from "
            f"{_pct(here.summed_share)} to {_range(here.lift_share)}. The optimum uses {used_hf}.")
    if capacity_deg in os_:
        o = os_[capacity_deg]
        used_os = _used(o.optimum, os_names, {n: n for n in os_names})
        text += (f" OpenSim's give {o.summed:.0f} N·m summed and {o.lift:.0f} N·m in a free "
                 f"lift (iliopsoas {_pct(o.summed_share)} and {_range(o.lift_share)}), using "
                 f"{used_os}: its iliacus has slid off its wrap surface by this angle (the "
                 "flexion section), and its psoas adducts the flexed thigh more than HipFlex's "
                 "(previous section), so less of it can be used before something must cancel "
                 "that.")  # fmt: skip
    out += [text, ""]
    # how much the conclusion leans on external rotation the model may lack
    base = hf_m[capacity_deg]
    cells = []
    for extra in EXTRA_ROTATOR_NM:
        m = np.hstack([base, [[0.0], [0.0], [-extra]]])
        cells.append(f"{extra:.0f} N·m: {_range(_row(m, ilio_hf).lift_share)}")
    rotators = [m for m in model.muscles if model.ctx.anatomy.muscles[m].group == "rotators"]
    strength = []
    if rotators:
        saved = {m: model.strength.get(m, 1.0) for m in rotators}
        for f in ROTATOR_STRENGTH:
            for m in rotators:
                model.set_strength(m, f)
            strength.append(f"{100 * f:.0f}%: "
                            f"{_range(_row(hipflex_moments(model, capacity_deg), ilio_hf).lift_share)}")
        for m, f in saved.items():
            model.set_strength(m, f)
    names = [model.ctx.anatomy.muscles[m].display_name.lower() for m in rotators]
    out += [f"**How far it leans on external rotators.** How much of the gluteal fan's flexion a "
            f"free lift at {capacity_deg}° can use depends on what can cancel its internal "
            "rotation. With a pure external rotator (no flexion or adduction moment) of a given "
            "capacity added to HipFlex's muscles, the iliopsoas share becomes: "
            + "; ".join(cells) + "."
            + (f" With HipFlex's deep external rotators ({'; '.join(names)}) at a given "
               "strength, their peak forces resting on one scaling rule: " + "; ".join(strength)
               + "." if rotators else ""), ""]  # fmt: skip
    return out


def _used(lift: LiftCapacity, ids: list[str], labels: dict[str, str]) -> str:
    """The muscles the free-lift optimum activates, with activation and flexion given."""
    parts = [f"{labels[ids[j]]} {lift.activation[j]:.2f} ({lift.contribution[j]:+.1f} N·m)"
             for j in np.argsort(-lift.contribution) if lift.activation[j] > 1e-3]  # fmt: skip
    return ", ".join(parts) if parts else "no muscle"
