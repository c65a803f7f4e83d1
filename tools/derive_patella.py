"""Derive the patellofemoral coupling (anatomy_data/patellofemoral.toml) from a built asset pack.

The patella is a body of its own whose pose over the femur follows knee flexion. Rule (so that
a reviewer can reproduce it):
- Its frame is the tibia's as scanned, so at knee flexion 0 it sits where it sat when it moved
  with the tibia (the model's knee-0 pose: the tibia frame aligned with the femur's).
- Its sagittal rotation relative to the femur follows Rajagopal et al. (2016)'s patellofemoral
  joint (RAJAGOPAL_PATELLA_ROTATION: a cubic spline through their knots, taken from its value
  at knee 0; past their last knot, 120 deg, it goes on at the last slope). The patella flexes
  72 deg when the knee flexes 90.
- Its position in the femur's sagittal plane is then the one that keeps two lengths as they are
  at knee 0: the patellar ligament's (from the patella's apex, the centroid of its lowest 3 mm,
  to the tibial tuberosity, the centroid of the most anterior 3 mm of tibia 25-60 mm below the
  tibia's top), and the patella's gap to the femur (a soft minimum over half a millimetre,
  derive_knee_axis.soft_gap, of the femur's distance grid over the patella's vertices: 8.4 mm
  here, room for the two articular cartilages the meshes leave out). Solved every STEP deg over the knee range, starting each angle from the
  last solution.

Before this the patella turned rigidly with the tibia about the knee axis, and its gap to the
femur grew from 9 mm at knee 0 to 23.5 mm at 90 deg: the kneecap floated in front of the
condyles, and rectus femoris's insertion with it.
"""

from __future__ import annotations

import math
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.optimize import least_squares

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))

sys.path.insert(0, str(ROOT / "tools"))

from derive_knee_axis import knee_axis, soft_gap, tibia_in_femur  # noqa: E402

from hipflex.assets.pack import AssetPack  # noqa: E402
from hipflex.config import data_dir  # noqa: E402
from hipflex.model.skeleton import BoneDistance  # noqa: E402

# Rajagopal et al. 2016 (Rajagopal2016.osim, patellofemoral_r, rotation1 about z): knee angle
# (rad) and the patella's rotation relative to the femur (rad; negative = flexing with the knee)
RAJAGOPAL_KNEE = np.radians([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120.0])
RAJAGOPAL_PATELLA_ROTATION = np.array([
    0.00113686, -0.00629212, -0.105582, -0.253683, -0.414245, -0.579047, -0.747244, -0.91799,
    -1.09044, -1.26379, -1.43763, -1.61186, -1.78634])  # fmt: skip
_RAJAGOPAL_SPLINE = CubicSpline(RAJAGOPAL_KNEE, RAJAGOPAL_PATELLA_ROTATION, bc_type="natural")
STEP = 5.0  # deg between table rows


def patella_flexion(knee_rad: float) -> float:
    """The patella's flexion relative to the femur (rad, positive with the knee's), from
    Rajagopal's spline taken from its knee-0 value, extended linearly past its last knot."""
    spline = _RAJAGOPAL_SPLINE
    last = RAJAGOPAL_KNEE[-1]
    if knee_rad <= last:
        value = float(spline(knee_rad))
    else:
        value = float(spline(last) + spline(last, 1) * (knee_rad - last))
    return -(value - RAJAGOPAL_PATELLA_ROTATION[0])


def _rz(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def ligament_ends(pack: AssetPack) -> tuple[np.ndarray, np.ndarray]:
    """The patellar ligament's ends: the patella's apex (patella frame) and the tibial
    tuberosity (tibia frame), by the rule in the module docstring."""
    patella = pack.mesh("patella_r", "full").vertices.astype(float)
    tibia = pack.mesh("tibia_r", "full").vertices.astype(float)
    top = tibia[:, 1].max()
    band = tibia[(tibia[:, 1] < top - 0.025) & (tibia[:, 1] > top - 0.060)]
    tuberosity = band[band[:, 0] > band[:, 0].max() - 0.003].mean(axis=0)
    apex = patella[patella[:, 1] < patella[:, 1].min() + 0.003].mean(axis=0)
    return apex, tuberosity


def derive(pack: AssetPack, knee_range: tuple[float, float]) -> dict[str, Any]:
    """The coupling table over ``knee_range`` (deg): knee angles, patella flexion (deg) and the
    patella frame's origin less the knee centre (m, femur frame x and y)."""
    knee = (np.linalg.inv(pack.body_at_scan("femur_r")) @ pack.body_at_scan("tibia_r"))[:3, 3]
    axis = knee_axis(knee)  # the tibia turns about it
    patella = pack.mesh("patella_r", "full").vertices.astype(float)  # in the patella's frame
    apex, tuberosity = ligament_ends(pack)
    origin, pitch, values = pack.sdf("femur_r")
    femur = BoneDistance(np.asarray(origin, float), pitch, values)

    ligament0 = float(np.linalg.norm(apex - tuberosity))
    gap0 = soft_gap(femur, patella + knee)

    def residual(d: np.ndarray, knee_rad: float, tuberosity_at: np.ndarray) -> list[float]:
        rot = _rz(-patella_flexion(knee_rad))
        shift = knee + np.array([d[0], d[1], 0.0])
        ligament = rot @ apex + shift - tuberosity_at
        return [(float(np.linalg.norm(ligament)) - ligament0) * 1e3,
                (soft_gap(femur, patella @ rot.T + shift) - gap0) * 1e3]  # fmt: skip

    angles = np.arange(knee_range[0], knee_range[1] + STEP / 2, STEP)
    d = np.zeros(2)
    flexion, translation = [], []
    for deg in angles:
        tibia = tibia_in_femur(knee, axis, math.radians(deg))  # the tuberosity, posed once
        tuberosity_at = tibia[:3, :3] @ tuberosity + tibia[:3, 3]
        fit = least_squares(residual, d, args=(math.radians(deg), tuberosity_at), x_scale=0.01,
                            xtol=1e-12, ftol=1e-12)  # fmt: skip
        if np.max(np.abs(fit.fun)) > 1e-3:  # a micrometre
            raise RuntimeError(f"no patella position keeps both lengths at knee {deg:g} deg")
        d = fit.x
        flexion.append(round(math.degrees(patella_flexion(math.radians(deg))), 4))
        translation.append([round(float(x), 6) for x in d])
    return {"knee_flexion": [round(float(a), 4) for a in angles], "patella_flexion": flexion,
            "translation": translation, "ligament_mm": round(ligament0 * 1e3, 1),
            "gap_mm": round(gap0 * 1e3, 1)}  # fmt: skip


def write(table: dict[str, Any], out: Path) -> None:
    """The table as anatomy_data/patellofemoral.toml (``out``)."""
    rule = __doc__.split("\n\n")[1].splitlines()
    head = rule[next(i for i, x in enumerate(rule) if x.startswith("- ")):]
    lines = ["# Patellofemoral coupling: the patella's pose over the femur as knee flexion changes.",
             "# Generated by tools/derive_paths.py (tools/derive_patella.py); do not edit by hand.",
             *[f"# {x.strip()}" if x.startswith("  ") else f"#{x[1:]}" for x in head],
             f"# Here the patellar ligament is {table['ligament_mm']} mm long and the gap "
             f"{table['gap_mm']} mm.", "",
             'id = "patellofemoral_r"', 'parent = "femur_r"', 'child = "patella_r"',
             'driver = "knee_flexion"', 'references = ["rajagopal2016"]',
             'rule = "rotation from Rajagopal et al. 2016; position keeps the patellar ligament\'s '
             'length and the gap to the femur as at knee 0 (tools/derive_patella.py)"',
             "# deg", f"knee_flexion = {_list(table['knee_flexion'])}",
             "# deg, about the femur's -z (flexing with the knee)",
             f"patella_flexion = {_list(table['patella_flexion'])}",
             "# m, femur frame x (anterior) and y (superior): the patella frame's origin less the "
             "knee centre", "translation = ["]  # fmt: skip
    lines += [f"  [{x:.6f}, {y:.6f}]," for x, y in table["translation"]] + ["]", ""]
    tmp = out.with_suffix(".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(out)


def _list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v + 0.0:g}" for v in values) + "]"


def main() -> None:
    joints = tomllib.loads((data_dir() / "joints.toml").read_text(encoding="utf-8"))
    knee = next(c for j in joints["joint"] for c in j["coordinate"] if c["id"] == "knee_flexion")
    table = derive(AssetPack(), (float(knee["range"][0]), float(knee["range"][1])))
    out = data_dir() / "patellofemoral.toml"
    write(table, out)
    print(f"wrote {out} ({len(table['knee_flexion'])} rows; ligament {table['ligament_mm']} mm, "
          f"gap {table['gap_mm']} mm)")


if __name__ == "__main__":
    main()
