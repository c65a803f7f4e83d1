"""The tibia turns about the knee's flexion axis through the posterior condyles' centres
(anatomy_data/tibiofemoral.toml, derived by tools/derive_knee_axis.py), so it stays on the femur
as the knee bends."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hipflex.model.kinematics import body_transforms
from tool_modules import load_tool

MM = 1e-3
KNEE = np.arange(0.0, 140.5, 1.0)  # every degree: between the tool's 5-degree samples as well
derive_knee_axis = load_tool("derive_knee_axis")


def _plateau_gaps(ctx, pack, skeleton) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The top of the tibia's nearest approach to the femur (m) at every KNEE angle, posed by
    the engine."""
    tr = body_transforms(skeleton, knee_flexion=KNEE)
    tibia = np.linalg.solve(tr["femur_r"], tr["tibia_r"])  # in the femur frame
    femur = ctx.bone_distance["femur_r"]
    top = derive_knee_axis.plateau_points(pack)
    return np.array([femur(top @ m[:3, :3].T + m[:3, 3]).min() for m in tibia])


def test_the_tibia_stays_on_the_femur_through_the_knee_range(model_context, real_pack) -> None:  # type: ignore[no-untyped-def]
    """The plateau's nearest approach to the femur stays within 1.5 mm of its knee-0 value at
    every degree from 0 to 140 deg. On a hinge through the epicondyles' midpoint, as before,
    the gap opened by more than 5 mm by 90 deg and 10 mm by 140."""
    ctx = model_context
    gaps = _plateau_gaps(ctx, real_pack, ctx.skeleton)
    assert np.abs(gaps - gaps[0]).max() < 1.5 * MM
    hinge = _plateau_gaps(ctx, real_pack, _with_axis(ctx.skeleton, ctx.skeleton.knee_centre_in_femur))
    assert hinge[90] - hinge[0] > 5 * MM and hinge[140] - hinge[0] > 10 * MM


def test_the_knee_axis_lies_in_the_condyles_below_the_epicondyles(model_context, real_pack) -> None:  # type: ignore[no-untyped-def]
    """The fitted axis passes behind and below the epicondyles' midpoint, inside the femur, and
    the medial condyle's back and underside lie at one distance from it (a circle, as the
    posterior condyles are about the flexion axis): its bone within 3 mm of 24 mm from 30 deg
    above straight back to straight down."""
    skel = model_context.skeleton
    offset = skel.knee_axis_in_femur - skel.knee_centre_in_femur
    assert offset[0] < 0 and offset[1] < -5 * MM and offset[2] == 0
    femur = model_context.bone_distance["femur_r"]
    # 8 mm or more inside both condyles, 20 mm either side of the intercondylar notch it crosses
    through = skel.knee_axis_in_femur + np.array([[0.0, 0.0, -20 * MM], [0.0, 0.0, 20 * MM]])
    assert (femur(through) < -8 * MM).all(), femur(through)
    v = real_pack.mesh("femur_r", "full").vertices.astype(float)
    medial = v[(v[:, 2] < skel.knee_centre_in_femur[2] - 10 * MM)]
    rel = medial[:, :2] - skel.knee_axis_in_femur[:2]
    angle = np.degrees(np.arctan2(rel[:, 1], rel[:, 0]))  # 180: straight back, -90: down
    radii = []
    for lo in range(-180, -75, 15):  # 30 deg above straight back (150, as -210) .. straight down
        sel = ((angle >= lo) & (angle < lo + 15)) | ((angle - 360 >= lo) & (angle - 360 < lo + 15))
        radii.append(np.hypot(*rel[sel].T).max())
    back = rel[(angle > 150)]
    radii.append(np.hypot(*back.T).max())
    assert np.abs(np.array(radii) - 24 * MM).max() < 3 * MM, np.round(np.array(radii) / MM, 1)


def _with_axis(skeleton, axis):  # type: ignore[no-untyped-def]
    return replace(skeleton, knee_axis_in_femur=np.asarray(axis, float))
