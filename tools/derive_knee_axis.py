"""Derive the knee's flexion axis (anatomy_data/tibiofemoral.toml) from a built asset pack.

The tibia turns about a hinge fixed in the femur, along the femur's z (the epicondylar
direction). Its point in the femur's sagittal plane is fitted to this skeleton's condyles, since
the knee flexes about the centres of the posterior femoral condyles (Churchill et al. 1998: the
optimal flexion axis passes through them, close to the transepicondylar axis). Rule (so that a
reviewer can reproduce it):
- The tibia keeps its knee-0 place (the model's knee-0 pose: the tibia frame aligned with the
  femur's); at knee angle q it is that place turned by q about the axis.
- The axis point is the one that keeps the plateau's gap to the femur closest to its knee-0
  value over the knee range (the largest difference over every STEP deg, minimised: a grid of
  GRID_STEP over GRID_REACH either way, then Nelder-Mead). The gap is a soft minimum,
  GAP_SOFTNESS, of the femur's distance grid over the top of the tibia: the full mesh's
  vertices within TOP_DEPTH of its highest point whose normal faces within 45 deg of the
  tibia's y (PLATEAU_FACING), both plateaus and the intercondylar eminence between them.

Until session 30 the axis passed through the knee centre, the midpoint of the epicondyles'
landmarks. About that point the condyles' outline is no circle (the medial condyle's distance
from it grows from 28 mm behind to 39 mm below), so on that hinge the plateau's gap opened from
-2.5 mm at knee 0 to 5.8 mm at 90 deg and 13.9 mm at 140 deg: the tibia dropped off the femur.
"""

from __future__ import annotations

import math
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))

from hipflex.assets.pack import AssetPack  # noqa: E402
from hipflex.config import data_dir  # noqa: E402
from hipflex.model.skeleton import BoneDistance  # noqa: E402

STEP = 5.0  # deg between the knee angles the gap is held at
GAP_SOFTNESS = 0.0005  # m: the soft minimum's temperature (half a millimetre), as the patella's
TOP_DEPTH = 0.020  # m: the top of the tibia, below its highest point (the eminence's tip)
PLATEAU_FACING = math.cos(math.radians(45.0))  # vertex normal within 45 deg of the tibia's y
GRID_STEP = 0.003  # m
GRID_REACH = 0.030  # m either way of the knee centre, in x and y


def plateau_points(pack: AssetPack) -> np.ndarray:
    """The top of the tibia (tibia frame, m): the vertices the rule in the module docstring
    names, both plateaus and the eminence."""
    mesh = pack.mesh("tibia_r", "full")
    tibia = trimesh.Trimesh(mesh.vertices.astype(float), mesh.faces, process=False)
    v, n = np.asarray(tibia.vertices), np.asarray(tibia.vertex_normals)
    return v[(v[:, 1] > v[:, 1].max() - TOP_DEPTH) & (n[:, 1] > PLATEAU_FACING)]


def knee_axis(knee_centre: np.ndarray) -> np.ndarray:
    """The committed knee axis's point (femur frame, m) from the knee centre: read afresh from
    tibiofemoral.toml, which a run of this tool may just have rewritten (the engine's loader
    caches)."""
    data = tomllib.loads((data_dir() / "tibiofemoral.toml").read_text(encoding="utf-8"))
    return np.asarray(knee_centre, float) + np.array([*data["axis_offset"], 0.0])


def tibia_in_femur(knee_centre: np.ndarray, axis: np.ndarray, knee_rad: float) -> np.ndarray:
    """The tibia's 4x4 transform in the femur frame at a knee angle (rad) about the axis through
    ``axis`` (femur frame), as the engine poses it (hipflex.model.kinematics.body_transforms)."""
    c, s = math.cos(knee_rad), math.sin(knee_rad)
    out = np.eye(4)
    out[:3, :3] = [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]  # Rz(-knee)
    out[:3, 3] = axis + out[:3, :3] @ (knee_centre - axis)
    return out


def soft_gap(femur: BoneDistance, points_in_femur: np.ndarray) -> float:
    """The soft minimum (GAP_SOFTNESS) of the femur's distance over points in its frame."""
    d = femur(points_in_femur)
    low = float(d.min())
    return low - GAP_SOFTNESS * math.log(float(np.exp(-(d - low) / GAP_SOFTNESS).sum()))


def derive(pack: AssetPack, knee_range: tuple[float, float]) -> dict[str, Any]:
    """The axis point's offset from the knee centre (m, femur x and y) and, for the report, the
    plateau's gap (mm) every STEP deg on the fitted axis and on the epicondyles' midpoint."""
    knee = (np.linalg.inv(pack.body_at_scan("femur_r")) @ pack.body_at_scan("tibia_r"))[:3, 3]
    top = plateau_points(pack)
    origin, pitch, values = pack.sdf("femur_r")
    femur = BoneDistance(np.asarray(origin, float), pitch, values)
    angles = np.arange(knee_range[0], knee_range[1] + STEP / 2, STEP)

    def gaps(offset: np.ndarray) -> np.ndarray:
        axis = knee + np.array([offset[0], offset[1], 0.0])
        out = []
        for deg in angles:
            m = tibia_in_femur(knee, axis, math.radians(deg))
            out.append(soft_gap(femur, top @ m[:3, :3].T + m[:3, 3]))
        return np.array(out)

    def spread(offset: np.ndarray) -> float:
        g = gaps(offset)
        return float(np.abs(g - g[0]).max())

    grid = np.arange(-GRID_REACH, GRID_REACH + GRID_STEP / 2, GRID_STEP)
    start = min(((x, y) for x in grid for y in grid), key=lambda o: spread(np.array(o)))
    fit = minimize(spread, np.array(start), method="Nelder-Mead",
                   options={"xatol": 1e-5, "fatol": 1e-6})  # fmt: skip
    offset = [round(float(v), 6) + 0.0 for v in fit.x]
    return {"offset": offset, "points": len(top), "knee_flexion": [float(a) for a in angles],
            "gap_mm": [round(float(g) * 1e3, 2) for g in gaps(np.array(offset))],
            "hinge_gap_mm": [round(float(g) * 1e3, 2) for g in gaps(np.zeros(2))]}  # fmt: skip


def write(table: dict[str, Any], out: Path) -> None:
    """The axis as anatomy_data/tibiofemoral.toml (``out``), atomically."""
    paragraphs = __doc__.split("\n\n")
    lines = ["# The knee's flexion axis: where the tibia turns over the femur.",
             "# Generated by tools/derive_paths.py (tools/derive_knee_axis.py); do not edit by "
             "hand.", *[f"# {x}" for x in paragraphs[1].splitlines()]]  # fmt: skip
    g, h, a = table["gap_mm"], table["hinge_gap_mm"], table["knee_flexion"]
    at = {deg: i for i, deg in enumerate(a)}
    x, y = (v * 1e3 for v in table["offset"])
    dev = max(abs(v - g[0]) for v in g)
    lines += [f"# Here the axis lies {abs(x):.1f} mm {'behind' if x < 0 else 'in front of'} and "
              f"{abs(y):.1f} mm {'below' if y < 0 else 'above'} the epicondyles' midpoint. Over "
              f"{a[0]:g}-{a[-1]:g} deg the plateau's gap", f"# (over {table['points']} tibia "
              f"vertices) stays within {dev:.1f} mm of its knee-0 value, {g[0]:.1f} mm (the "
              f"meshes overlap slightly as", f"# scanned); about the midpoint it opened to "
              f"{h[at[90.0]]:.1f} mm at 90 deg and {h[at[140.0]]:.1f} mm at 140.", "",
              'id = "tibiofemoral_r"', 'joint = "knee_r"', 'references = ["churchill1998"]',
              'rule = "the axis point that keeps the tibial plateau\'s gap to the femur as at '
              'knee 0 over the knee range (tools/derive_knee_axis.py)"',
              "# m, femur frame x (anterior) and y (superior): the axis point less the knee "
              "centre (the epicondyles' midpoint)",
              f"axis_offset = [{table['offset'][0]:.6f}, {table['offset'][1]:.6f}]", ""]  # fmt: skip
    tmp = out.with_suffix(".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(out)


def main() -> None:
    joints = tomllib.loads((data_dir() / "joints.toml").read_text(encoding="utf-8"))
    knee = next(c for j in joints["joint"] for c in j["coordinate"] if c["id"] == "knee_flexion")
    table = derive(AssetPack(), (float(knee["range"][0]), float(knee["range"][1])))
    out = data_dir() / "tibiofemoral.toml"
    write(table, out)
    g = table["gap_mm"]
    print(f"wrote {out} (axis offset {table['offset'][0] * 1e3:.2f}, "
          f"{table['offset'][1] * 1e3:.2f} mm; gap {min(g):.2f}..{max(g):.2f} mm)")


if __name__ == "__main__":
    main()
