"""The patella rides on the femur as the knee bends (anatomy_data/patellofemoral.toml, derived by
tools/derive_patella.py), and rectus femoris, which inserts on it, gets its knee lever from that
motion."""

from __future__ import annotations

import numpy as np

from hipflex.model.kinematics import body_transforms
from tool_modules import load_tool

MM = 1e-3
KNEE = np.arange(0.0, 140.5, 1.0)  # every degree: between the table's rows as well as on them
derive_patella = load_tool("derive_patella")


def _in_femur(transforms, body):  # type: ignore[no-untyped-def]
    return np.linalg.solve(transforms["femur_r"], transforms[body])


def test_the_patella_keeps_its_gap_to_the_femur_through_the_knee_range(model_context, real_pack) -> None:  # type: ignore[no-untyped-def]
    """Its nearest approach to the femur stays within 1 mm of the knee-0 gap (about 9 mm, room
    for both cartilages) at every degree from 0 to 140; moving rigidly with the tibia, as it did
    before, it drifted 14 mm further off by 90 deg."""
    tr = body_transforms(model_context.skeleton, knee_flexion=KNEE)
    femur = model_context.bone_distance["femur_r"]
    patella = real_pack.mesh("patella_r", "full").vertices.astype(float)

    def gaps(body: str) -> np.ndarray:
        return np.array([femur(patella @ m[:3, :3].T + m[:3, 3]).min()
                         for m in _in_femur(tr, body)])  # fmt: skip

    coupled = gaps("patella_r")
    assert 7 * MM < coupled[0] < 11 * MM
    assert np.abs(coupled - coupled[0]).max() < 1.0 * MM, (
        f"{1000 * coupled.min():.1f}..{1000 * coupled.max():.1f} mm")
    rigid = gaps("tibia_r")  # the patella's mesh in the tibia's frame: where it used to be
    assert rigid[90] > coupled[0] + 10 * MM


def test_the_patellar_ligament_keeps_its_length(model_context, real_pack) -> None:  # type: ignore[no-untyped-def]
    """Apex of the patella to the tibial tuberosity: the same length within 0.3 mm at every
    degree, the coupling's rule, kept between the table's 5-degree rows by its spline."""
    apex, tuberosity = derive_patella.ligament_ends(real_pack)
    tr = body_transforms(model_context.skeleton, knee_flexion=KNEE)
    a = tr["patella_r"][:, :3, :3] @ apex + tr["patella_r"][:, :3, 3]
    t = tr["tibia_r"][:, :3, :3] @ tuberosity + tr["tibia_r"][:, :3, 3]
    length = np.linalg.norm(a - t, axis=1)
    assert np.abs(length - length[0]).max() < 0.3 * MM
    assert 40 * MM < length[0] < 80 * MM


def test_the_patella_flexes_with_the_knee_as_in_rajagopal(model_context) -> None:  # type: ignore[no-untyped-def]
    """The patella's sagittal rotation relative to the femur: 72.5 deg at knee 90 (Rajagopal et
    al. 2016's patellofemoral spline: -1.26379 rad there, from 0.00114 at knee 0), and always less
    than the knee's."""
    tr = body_transforms(model_context.skeleton, knee_flexion=KNEE)
    rel = _in_femur(tr, "patella_r")
    flexion = np.degrees(np.arctan2(rel[:, 0, 1], rel[:, 0, 0]))  # Rz(-flexion)
    assert abs(flexion[90] - np.degrees(1.26379 + 0.00113686)) < 0.05
    assert np.all(flexion[1:] < KNEE[1:])
    assert np.all(np.diff(flexion[20:]) > 0)


def test_rectus_femoris_knee_lever_is_the_patellas_motion(model) -> None:  # type: ignore[no-untyped-def]
    """Its knee moment arm (virtual work on the patella: u . d(insertion)/d(knee)) equals
    -dL/d(knee) within 0.1 mm between every pair of the table's rows, and it stays an extensor."""
    h = 0.05
    knee = np.arange(2.5, 140.0, 5.0)
    for hip in (0.0, 100.0):
        hips = np.full(len(knee), hip)
        base = model.sweep(hips, knee_flexion=knee).muscle("rectus_femoris")
        plus = model.sweep(hips, knee_flexion=knee + h).muscle("rectus_femoris")
        minus = model.sweep(hips, knee_flexion=knee - h).muscle("rectus_femoris")
        derivative = -(plus["length"] - minus["length"]) / np.radians(2 * h)
        arm = base["moment_arm_knee_flexion"]
        assert np.abs(derivative - arm).max() < 0.1 * MM, hip
        assert np.all(arm < -20 * MM), hip
