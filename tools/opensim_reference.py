"""Reference numbers from the published Rajagopal 2016 OpenSim model.

HipFlex validates its own muscle paths against the published model family (see
``shared/reference/biomechanics.md`` section 2) and re-derives tendon slack lengths from the
model's muscle-tendon lengths. This script produces those reference numbers with OpenSim itself,
so that nobody has to copy values by hand:

- ``rajagopal_sweep.csv``: for each right-side hip muscle, hip_flexion_r from -20 to 130 deg
  (step 1; clamping disabled, so angles beyond the model's range are still evaluated) at knee
  flexion 0 and 90 deg, with every other coordinate at 0: muscle-tendon length, moment arm about
  hip_flexion_r (positive = flexor), rigid-tendon normalised fibre length with the fixed-width
  pennation of Rajagopal's Millard muscles (``norm_fiber_length``, and ``cos_pennation``), and
  the same with the pennation angle held at its optimum (``norm_fiber_length_rigid``,
  ``(L_mt - L_ts) / cos(alpha_opt) / L_opt``; HipFlex's data files keep the neutral values of
  this one). Slack (L_mt <= L_ts) reads as the rigid value, <= 0, in both columns. The script
  checks the fixed-width numbers against OpenSim's own ``getNormalizedFiberLength`` with every
  tendon made rigid, wherever the fibre is longer than OpenSim's lower clamp, and prints the
  largest difference.
- ``rajagopal_neutral.csv``: the same at hip 0 / knee 0 / all coordinates 0, plus the muscle
  architecture (tendon slack length, optimal fibre length, pennation at optimal length).
- ``timing.json``: median wall time (5 repeats) of the full sweep at knee 0, as a speed baseline.
- ``rajagopal_knee_sweep.csv``: for the muscles that cross the knee (``KNEE_MUSCLES``), knee
  flexion from 0 to 140 deg (step 1) at hip flexion 0 and 90 deg, every other coordinate 0:
  muscle-tendon length and moment arm about knee_angle_r, signed so that positive = knee flexor
  (the script checks that semimembranosus comes out positive). Rajagopal's knee range ends at
  120 deg; beyond it clamping is off and its coupled-motion splines are extrapolated, and the
  ``extrapolated`` column says so (1). The script checks the moment arms against the length
  change between neighbouring samples (-dL/dq, which also follows the coupled patella) and
  prints the largest difference.
- ``rajagopal_side_sweep.csv``: for each right-side hip muscle, hip_flexion_r from -20 to 130 deg
  (step 1) with the knee straight and every other coordinate 0: moment arms about
  hip_adduction_r (positive = adductor) and hip_rotation_r (positive = internal rotator), the
  two moments a free knee lift must cancel (HipFlex's lift capacity). The script checks the
  signs on adductor longus (an adductor) and piriformis (an external rotator standing).
- ``rajagopal_knee_joint.csv``: what Rajagopal's knee does besides flexing, per knee angle
  0..140 deg (same ``extrapolated`` column), all in the femur frame (x anterior, y superior,
  z lateral): the displacement of the tibia's knee-joint centre from its knee-0 position
  (``tibia_d{x,y,z}_m``; HipFlex's hinge keeps it fixed), the tibia's rotation about its long
  axis relative to knee 0 (``tibia_internal_rotation_deg``, the angle of the femur's z axis seen
  in the tibia's transverse plane) and the patella body's origin (``patella_{x,y,z}_m``; HipFlex
  moves the patella with the tibia).

``--force-length`` prints Rajagopal's active force-length curve (iliacus_r's, the same parameters
for every muscle) every 0.05 from 0.25 to 1.90, the table in ``hipflex.model.muscle``.

In Rajagopal 2016, knee_angle_r is positive for flexion (range 0 to 2.0944 rad); the script checks
this (rectus femoris, a knee extensor, must lengthen as knee_angle_r grows) and prints the
result; the sweep's ``knee_flexion_deg`` column is anatomical flexion whatever the sign.

Runs under the OpenSim 4.x Python environment, not HipFlex's own one::

    /tmp/osimenv/bin/python tools/opensim_reference.py [--model PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import opensim as osim

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = (
    REPO_ROOT
    / "../shared/anatomy-sources/opensim-org/opensim-models/Models/Rajagopal/Rajagopal2016.osim"
).resolve()
DEFAULT_OUT = Path("/tmp/hipflex-opensim")

HIP = "hip_flexion_r"
KNEE = "knee_angle_r"
HIP_ANGLES_DEG: list[int] = list(range(-20, 131))
KNEE_ANGLES_DEG: list[int] = [0, 90]
TIMING_REPEATS = 5
# The knee sweep: every knee angle HipFlex allows, at the two hip angles of the hip sweep's knees.
KNEE_SWEEP_DEG: list[int] = list(range(0, 141))
KNEE_SWEEP_HIPS_DEG: list[int] = [0, 90]
KNEE_MUSCLES: list[str] = [
    "semimem_r", "semiten_r", "bflh_r", "grac_r", "sart_r", "recfem_r", "tfl_r",
]  # fmt: skip

MUSCLES: list[str] = [
    "iliacus_r", "psoas_r", "recfem_r", "sart_r", "tfl_r",
    "addlong_r", "addbrev_r", "addmagDist_r", "addmagIsch_r", "addmagMid_r", "addmagProx_r",
    "grac_r",
    "glmax1_r", "glmax2_r", "glmax3_r", "glmed1_r", "glmed2_r", "glmed3_r",
    "glmin1_r", "glmin2_r", "glmin3_r", "piri_r",
    "bflh_r", "semiten_r", "semimem_r",
]  # fmt: skip


@dataclass(frozen=True)
class Architecture:
    tendon_slack_length_m: float
    optimal_fiber_length_m: float
    pennation_rad: float

    def norm_fiber_length_rigid(self, length_m: float) -> float:
        fibre_along_tendon = length_m - self.tendon_slack_length_m
        return fibre_along_tendon / math.cos(self.pennation_rad) / self.optimal_fiber_length_m

    def fixed_width(self, length_m: float) -> tuple[float, float]:
        """Normalised fibre length and cos(pennation): constant fibre height l_opt sin(alpha_opt)
        (Millard et al. 2013); slack reads as the rigid value and cos 0."""
        x = (length_m - self.tendon_slack_length_m) / self.optimal_fiber_length_m
        if x <= 0:
            return self.norm_fiber_length_rigid(length_m), 0.0
        fibre = math.hypot(x, math.sin(self.pennation_rad))
        return fibre, x / fibre


@dataclass(frozen=True)
class Sample:
    length_m: float
    moment_arm_m: float
    norm_fiber_length_rigid: float
    norm_fiber_length: float
    cos_pennation: float
    opensim_norm_fiber_length: float  # OpenSim's own, rigid tendons (clamped below)


class RajagopalProbe:
    """A Rajagopal model with all coordinates at 0, and hip/knee set freely (no clamping)."""

    def __init__(self, model_path: Path, muscle_names: list[str]) -> None:
        self.model = osim.Model(str(model_path))
        all_muscles = self.model.getMuscles()
        for i in range(all_muscles.getSize()):  # rigid tendons, as HipFlex
            all_muscles.get(i).set_ignore_tendon_compliance(True)
        coords = self.model.getCoordinateSet()
        for i in range(coords.getSize()):
            c = coords.get(i)
            c.setDefaultValue(0.0)
            c.setDefaultLocked(False)
            if c.getName() in (HIP, KNEE):
                c.setDefaultClamped(False)
        self.state = self.model.initSystem()
        self.hip = self.model.getCoordinateSet().get(HIP)
        self.knee = self.model.getCoordinateSet().get(KNEE)
        muscle_set = self.model.getMuscles()
        self.muscles: dict[str, osim.Muscle] = {n: muscle_set.get(n) for n in muscle_names}
        self.arch: dict[str, Architecture] = {
            n: Architecture(
                m.getTendonSlackLength(),
                m.getOptimalFiberLength(),
                m.getPennationAngleAtOptimalFiberLength(),
            )
            for n, m in self.muscles.items()
        }
        self.set_pose(0.0, 0.0)

    def set_knee(self, knee_deg: float) -> None:
        """Set knee flexion and re-assemble (the patellofemoral coordinate is coupled to it)."""
        self.knee.setValue(self.state, math.radians(knee_deg), True)

    def set_hip(self, hip_deg: float) -> None:
        """Set hip flexion; no constraint involves it, so no assembly is needed."""
        self.hip.setValue(self.state, math.radians(hip_deg), False)
        self.model.realizePosition(self.state)

    def set_pose(self, hip_deg: float, knee_deg: float) -> None:
        self.set_knee(knee_deg)
        self.set_hip(hip_deg)

    def sample(self, name: str, check: bool = False) -> Sample:
        m = self.muscles[name]
        length = m.getLength(self.state)
        norm, cos_pennation = self.arch[name].fixed_width(length)
        return Sample(
            length_m=length,
            moment_arm_m=m.computeMomentArm(self.state, self.hip),
            norm_fiber_length_rigid=self.arch[name].norm_fiber_length_rigid(length),
            norm_fiber_length=norm,
            cos_pennation=cos_pennation,
            opensim_norm_fiber_length=(
                m.getNormalizedFiberLength(self.state) if check else math.nan
            ),
        )

    def sweep(self, knee_deg: float, check: bool = False) -> dict[tuple[str, int], Sample]:
        self.set_knee(knee_deg)
        out: dict[tuple[str, int], Sample] = {}
        for hip_deg in HIP_ANGLES_DEG:
            self.set_hip(hip_deg)
            for name in self.muscles:
                out[(name, hip_deg)] = self.sample(name, check)
        return out


def check_knee_sign(probe: RajagopalProbe) -> str:
    """Knee flexion lengthens a knee extensor (rectus femoris); report which sign does that."""
    probe.set_pose(0.0, 0.0)
    l0 = probe.muscles["recfem_r"].getLength(probe.state)
    probe.set_pose(0.0, 30.0)
    l30 = probe.muscles["recfem_r"].getLength(probe.state)
    probe.set_pose(0.0, 0.0)
    rng = probe.knee.getRangeMin(), probe.knee.getRangeMax()
    sign = "positive" if l30 > l0 else "negative"
    return (
        f"{KNEE} is {sign} for flexion (recfem_r length {l0:.4f} m at 0 deg, "
        f"{l30:.4f} m at +30 deg; range {math.degrees(rng[0]):.1f}..{math.degrees(rng[1]):.1f} deg)"
    )


OPENSIM_MIN_CHECKED = 0.3  # OpenSim clamps short fibres (Rajagopal: at 0.25 of optimal)


def write_sweep(probe: RajagopalProbe, knee_sign: int, path: Path) -> float:
    """Write the sweep; return the largest |fixed-width - OpenSim| normalised fibre length."""
    worst = 0.0
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["muscle", "knee_flexion_deg", "hip_flexion_deg", "length_m", "moment_arm_m",
                    "norm_fiber_length", "cos_pennation", "norm_fiber_length_rigid"])  # fmt: skip
        for knee_flex in KNEE_ANGLES_DEG:
            results = probe.sweep(knee_sign * knee_flex, check=True)
            for name in probe.muscles:
                for hip_deg in HIP_ANGLES_DEG:
                    s = results[(name, hip_deg)]
                    if s.norm_fiber_length > OPENSIM_MIN_CHECKED:
                        worst = max(worst, abs(s.norm_fiber_length - s.opensim_norm_fiber_length))
                    w.writerow([name, knee_flex, hip_deg, f"{s.length_m:.6f}",
                                f"{s.moment_arm_m:.6f}", f"{s.norm_fiber_length:.5f}",
                                f"{s.cos_pennation:.5f}",
                                f"{s.norm_fiber_length_rigid:.5f}"])  # fmt: skip
    probe.set_pose(0.0, 0.0)
    return worst


SIDE_COORDINATES = ("hip_adduction_r", "hip_rotation_r")


def write_side_sweep(probe: RajagopalProbe, path: Path) -> dict[str, float]:
    """Write the adduction and rotation moment arms over the hip sweep, knee straight; return
    the sign checks' moment arms at hip 0 (m)."""
    coords = [probe.model.getCoordinateSet().get(c) for c in SIDE_COORDINATES]
    probe.set_knee(0.0)
    checks: dict[str, float] = {}
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["muscle", "knee_flexion_deg", "hip_flexion_deg", "moment_arm_adduction_m",
                    "moment_arm_rotation_m"])  # fmt: skip
        rows = []
        for hip_deg in HIP_ANGLES_DEG:
            probe.set_hip(hip_deg)
            for name, m in probe.muscles.items():
                add, rot = (m.computeMomentArm(probe.state, c) for c in coords)
                rows.append([name, 0, hip_deg, f"{add:.6f}", f"{rot:.6f}"])
                if hip_deg == 0:
                    checks[f"{name} adduction"], checks[f"{name} rotation"] = add, rot
        rows.sort(key=lambda r: (MUSCLES.index(str(r[0])), r[2]))
        w.writerows(rows)
    probe.set_pose(0.0, 0.0)
    if checks["addlong_r adduction"] <= 0 or checks["piri_r rotation"] >= 0:
        raise SystemExit("side sweep: adductor longus must adduct and piriformis rotate "
                         f"externally at hip 0; got {checks['addlong_r adduction']:+.4f} and "
                         f"{checks['piri_r rotation']:+.4f} m")  # fmt: skip
    return checks


def write_knee_sweep(probe: RajagopalProbe, knee_sign: int, path: Path) -> tuple[float, float]:
    """Write the knee sweep; return semimembranosus's knee moment arm at hip 0 / knee 30 (its
    sign checks the flexor sign) and the largest |moment arm - (-dL/dq)| (central differences
    over the 1-degree grid, interior samples), which checks that computeMomentArm follows the
    patella's coupled coordinate as the length does."""
    knee_max = math.degrees(probe.knee.getRangeMax())
    lengths: dict[tuple[str, int], list[float]] = {}
    arms: dict[tuple[str, int], list[float]] = {}
    for hip_deg in KNEE_SWEEP_HIPS_DEG:
        for name in KNEE_MUSCLES:
            lengths[(name, hip_deg)], arms[(name, hip_deg)] = [], []
        for knee_flex in KNEE_SWEEP_DEG:
            probe.set_pose(hip_deg, knee_sign * knee_flex)
            for name in KNEE_MUSCLES:
                m = probe.muscles[name]
                lengths[(name, hip_deg)].append(m.getLength(probe.state))
                # about knee_angle_r, positive = lengthens as knee_angle_r falls; flexion is
                # knee_sign * knee_angle_r, so the flexion moment arm is knee_sign times it
                arms[(name, hip_deg)].append(
                    knee_sign * m.computeMomentArm(probe.state, probe.knee)
                )
    probe.set_pose(0.0, 0.0)
    step = math.radians(KNEE_SWEEP_DEG[1] - KNEE_SWEEP_DEG[0])
    worst = 0.0
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["muscle", "hip_flexion_deg", "knee_flexion_deg", "extrapolated", "length_m",
                    "knee_moment_arm_m"])  # fmt: skip
        for hip_deg in KNEE_SWEEP_HIPS_DEG:
            for name in KNEE_MUSCLES:
                ln, ma = lengths[(name, hip_deg)], arms[(name, hip_deg)]
                for i, knee_flex in enumerate(KNEE_SWEEP_DEG):
                    if 0 < i < len(ln) - 1:
                        worst = max(worst, abs(ma[i] + (ln[i + 1] - ln[i - 1]) / (2 * step)))
                    w.writerow([name, hip_deg, knee_flex, int(knee_flex > knee_max + 1e-9),
                                f"{ln[i]:.6f}", f"{ma[i]:.6f}"])  # fmt: skip
    return arms[("semimem_r", 0)][KNEE_SWEEP_DEG.index(30)], worst


def write_knee_joint(probe: RajagopalProbe, knee_sign: int, path: Path) -> None:
    """Write how Rajagopal's knee moves besides flexing (femur frame), per knee angle: the
    tibia's joint centre, its rotation about its long axis, and the patella's origin."""
    femur = probe.model.getBodySet().get("femur_r")
    tibia = probe.model.getBodySet().get("tibia_r")
    patella = probe.model.getBodySet().get("patella_r")
    tibia_centre = probe.model.getJointSet().get("walker_knee_r").getChildFrame()
    knee_max = math.degrees(probe.knee.getRangeMax())
    origin = osim.Vec3(0.0, 0.0, 0.0)

    def in_femur(frame: osim.Frame) -> list[float]:
        p = frame.findStationLocationInAnotherFrame(probe.state, origin, femur)
        return [p.get(i) for i in range(3)]

    def axial_angle() -> float:
        """The femur's z axis seen in the tibia's transverse (x-z) plane, in degrees."""
        z = femur.expressVectorInAnotherFrame(probe.state, osim.Vec3(0.0, 0.0, 1.0), tibia)
        return math.degrees(math.atan2(-z.get(0), z.get(2)))

    probe.set_pose(0.0, 0.0)
    centre0, angle0 = in_femur(tibia_centre), axial_angle()
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["knee_flexion_deg", "extrapolated", "tibia_dx_m", "tibia_dy_m", "tibia_dz_m",
                    "tibia_internal_rotation_deg", "patella_x_m", "patella_y_m",
                    "patella_z_m"])  # fmt: skip
        for knee_flex in KNEE_SWEEP_DEG:
            probe.set_pose(0.0, knee_sign * knee_flex)
            centre, pat = in_femur(tibia_centre), in_femur(patella)
            w.writerow([knee_flex, int(knee_flex > knee_max + 1e-9),
                        *(f"{c - c0:.6f}" for c, c0 in zip(centre, centre0, strict=True)),
                        f"{axial_angle() - angle0:.3f}", *(f"{c:.6f}" for c in pat)])  # fmt: skip
    probe.set_pose(0.0, 0.0)


def print_force_length(probe: RajagopalProbe) -> None:
    """Rajagopal's active force-length curve every 0.05 (the table in hipflex.model.muscle)."""
    curve = osim.Millard2012EquilibriumMuscle.safeDownCast(
        probe.muscles["iliacus_r"]
    ).getActiveForceLengthCurve()
    print(f"active force-length: min width {curve.getMinActiveFiberLength()}, transition "
          f"{curve.getTransitionFiberLength()}, max width {curve.getMaxActiveFiberLength()}, "
          f"shallow slope {curve.getShallowAscendingSlope()}, minimum {curve.getMinValue()}")  # fmt: skip
    for i in range(34):
        x = round(0.25 + 0.05 * i, 2)
        print(f"  {x:.2f} {curve.calcValue(x):.4f}")


def write_neutral(probe: RajagopalProbe, path: Path) -> dict[str, Sample]:
    probe.set_pose(0.0, 0.0)
    samples = {name: probe.sample(name) for name in probe.muscles}
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["muscle", "length_m", "norm_fiber_length_rigid", "tendon_slack_length_m",
                    "optimal_fiber_length_m", "pennation_deg"])  # fmt: skip
        for name, s in samples.items():
            a = probe.arch[name]
            w.writerow([name, f"{s.length_m:.6f}", f"{s.norm_fiber_length_rigid:.5f}",
                        f"{a.tendon_slack_length_m:.6f}", f"{a.optimal_fiber_length_m:.6f}",
                        f"{math.degrees(a.pennation_rad):.3f}"])  # fmt: skip
    return samples


def time_sweep(probe: RajagopalProbe, path: Path) -> float:
    times: list[float] = []
    for _ in range(TIMING_REPEATS):
        t0 = time.perf_counter()
        probe.sweep(0.0)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    timing = {"muscles": len(probe.muscles), "angles": len(HIP_ANGLES_DEG), "median_s": median}
    path.write_text(json.dumps(timing) + "\n")
    return median


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force-length", action="store_true", help="print the curve and stop")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    probe = RajagopalProbe(args.model, MUSCLES)
    if args.force_length:
        print_force_length(probe)
        return
    knee_msg = check_knee_sign(probe)
    print(knee_msg)
    knee_sign = 1 if " positive " in knee_msg else -1

    worst = write_sweep(probe, knee_sign, args.out / "rajagopal_sweep.csv")
    print(f"fixed-width fibre length vs OpenSim's own (rigid tendons, fibres above "
          f"{OPENSIM_MIN_CHECKED}): largest difference {worst:.2e}")  # fmt: skip
    neutral = write_neutral(probe, args.out / "rajagopal_neutral.csv")
    median = time_sweep(probe, args.out / "timing.json")

    print(f"sweep: {len(probe.muscles)} muscles x {len(HIP_ANGLES_DEG)} angles, "
          f"median {median * 1e3:.1f} ms over {TIMING_REPEATS} repeats")  # fmt: skip
    print("neutral (hip 0, knee 0) rigid-tendon normalised fibre length:")
    for name, s in neutral.items():
        print(f"  {name:14s} {s.norm_fiber_length_rigid:6.3f}")
    semimem30, knee_worst = write_knee_sweep(
        probe, knee_sign, args.out / "rajagopal_knee_sweep.csv"
    )
    if semimem30 <= 0:
        raise SystemExit(f"semimem_r's knee moment arm at knee 30 is {semimem30:.4f} m: "
                         "the flexor sign is wrong")  # fmt: skip
    write_knee_joint(probe, knee_sign, args.out / "rajagopal_knee_joint.csv")
    side = write_side_sweep(probe, args.out / "rajagopal_side_sweep.csv")
    print(f"side sweep: at hip 0 adductor longus {side['addlong_r adduction'] * 1e3:+.1f} mm "
          f"about adduction, piriformis {side['piri_r rotation'] * 1e3:+.1f} mm about rotation "
          "(positive = adductor, internal rotator)")
    print(f"knee sweep: semimem_r knee moment arm at hip 0 / knee 30 {semimem30 * 1e3:+.1f} mm "
          f"(positive = flexor); largest |moment arm - (-dL/dq)| {knee_worst * 1e3:.2f} mm; "
          f"knee_angle_r beyond {math.degrees(probe.knee.getRangeMax()):.0f} deg extrapolated")  # fmt: skip
    print(f"wrote {args.out}/rajagopal_sweep.csv, rajagopal_neutral.csv, timing.json, "
          "rajagopal_knee_sweep.csv, rajagopal_knee_joint.csv, rajagopal_side_sweep.csv")  # fmt: skip


if __name__ == "__main__":
    main()
