"""Bone against bone at the hip (hipflex.model.contact): measured on the real pack, named from
anatomy_data, said by the "why", shown by the explorer and the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hipflex.anatomy import load_anatomy
from hipflex.config import data_dir
from hipflex.errors import DataError, PoseError
from hipflex.model.contact import CONTACT_TOLERANCE, BoneContact

FADIR = (110.0, 20.0, 30.0)  # flexion, adduction, internal rotation: the FADIR test's direction
ISCHIOFEMORAL = (-20.0, 30.0, -30.0)  # extension, adduction, external rotation


def test_neutral_and_everyday_poses_keep_the_bones_apart(model) -> None:  # type: ignore[no-untyped-def]
    hips = np.arange(-20.0, 131.0, 5.0)
    res = model.bone_contact(hips, 0.0, 0.0)
    assert not res.touching.any(), hips[res.touching]
    assert res.overlap.max() < CONTACT_TOLERANCE


def test_flexion_adduction_internal_rotation_drives_the_neck_into_the_front_of_the_socket(model) -> None:  # type: ignore[no-untyped-def]
    res = model.bone_contact(*FADIR)
    assert res.touching[0] and res.overlap[0] > 0.004
    assert res.pelvis_region[0].id == "anterior_rim"
    assert res.femur_region[0].id == "head_neck"
    # the deepest point lies in front of and above the hip centre, where the spine and rim are
    offset = res.point[0] - model.ctx.skeleton.hip_centre
    assert offset[0] > 0 and offset[1] > 0


def test_extension_adduction_external_rotation_meets_the_ischium(model) -> None:  # type: ignore[no-untyped-def]
    res = model.bone_contact(*ISCHIOFEMORAL)
    assert res.touching[0]
    assert res.pelvis_region[0].id == "ischium"
    assert res.femur_region[0].id == "lesser_trochanter"


def test_overlap_grows_without_jumps_as_the_hip_flexes_into_contact(model) -> None:  # type: ignore[no-untyped-def]
    hips = np.arange(80.0, 130.5, 0.5)
    overlap = model.bone_contact(hips, 20.0, 30.0).overlap
    assert overlap[0] == 0 or overlap[0] < CONTACT_TOLERANCE
    assert overlap[-1] > 0.005
    assert np.abs(np.diff(overlap)).max() < 0.0015  # m per half degree: a surface, not a switch


def test_one_pose_equals_the_batch(model) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    poses = np.column_stack([rng.uniform(-20, 130, 40), rng.uniform(-30, 30, 40),
                             rng.uniform(-40, 40, 40)])  # fmt: skip
    batch = model.bone_contact(poses[:, 0], poses[:, 1], poses[:, 2])
    for k, pose in enumerate(poses):
        one = model.bone_contact(*map(float, pose))
        assert one.clearance[0] == pytest.approx(batch.clearance[k], abs=1e-12)
        assert one.pelvis_region[0].id == batch.pelvis_region[k].id


def test_free_flexion_brackets_the_first_contact(model) -> None:  # type: ignore[no-untyped-def]
    free = model.free_flexion(20.0, 30.0)
    assert free.highest_is_contact and free.highest is not None
    assert 80.0 < free.highest < 110.0
    near = model.bone_contact(np.array([free.highest - 0.05, free.highest + 0.05]), 20.0, 30.0)
    assert list(near.touching) == [False, True]
    # turning the hip in brings the contact earlier; in the sagittal plane it comes last
    sagittal = model.free_flexion(0.0, 0.0)
    assert sagittal.highest is not None and sagittal.highest > free.highest
    assert not sagittal.lowest_is_contact  # extension ends at the joint range, not at bone
    behind = model.free_flexion(30.0, -30.0)
    assert behind.lowest_is_contact and behind.lowest is not None and behind.lowest < 0


def test_contact_angles_are_checked(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseError, match="hip_adduction"):
        model.bone_contact(60.0, 50.0, 0.0)
    with pytest.raises(PoseError, match="hip_rotation"):
        model.free_flexion(0.0, float("nan"))
    with pytest.raises(PoseError, match="hip_adduction"):
        model.explain(60.0, hip_adduction=99.0)


def test_regions_come_from_the_data_and_bad_ones_are_named(tmp_path: Path) -> None:
    dst = tmp_path / "anatomy_data"
    shutil.copytree(data_dir(), dst)
    joints = dst / "joints.toml"
    text = joints.read_text()
    joints.write_text(text.replace('references = ["torriani2009"]', 'references = ["nobody2099"]'))
    with pytest.raises(DataError, match=r"joints\.toml: key 'joint\[0\]\.contact_region\[3\].*nobody2099"):
        load_anatomy(dst)
    joints.write_text(text.replace("direction = [-0.67, -0.69, -0.26]", "direction = [0, 0, 0]"))
    with pytest.raises(DataError, match=r"joints\.toml: key 'joint\[0\]\.contact_region\.3.*zero"):
        load_anatomy(dst)
    joints.write_text(text.replace('body = "pelvis"', 'body = "tibia_r"', 1))
    with pytest.raises(DataError, match=r"joints\.toml.*neither 'pelvis' nor 'femur_r'"):
        load_anatomy(dst)


def test_a_region_is_named_by_direction_within_its_band(model_context) -> None:  # type: ignore[no-untyped-def]
    bc = BoneContact.from_context(model_context)
    names = bc._name("femur_r", np.array([[0.0, -0.02, 0.02], [0.01, -0.06, 0.025],
                                          [-0.02, -0.06, 0.016], [-0.02, -0.01, 0.06]]))  # fmt: skip
    assert [r.id for r in names] == ["head_neck", "neck_base", "lesser_trochanter",
                                     "greater_trochanter"]  # fmt: skip


def test_explain_says_where_bone_meets_bone_with_the_computed_figures(model) -> None:  # type: ignore[no-untyped-def]
    hip, add, rot = FADIR
    statements = model.explain(hip, 0.0, hip_adduction=add, hip_rotation=rot)
    first = statements[0]
    assert first["quantity"] == "bone_overlap"
    res = model.bone_contact(hip, add, rot)
    free = model.free_flexion(add, rot)
    text = str(first["text"])
    assert f"runs {1000 * res.overlap[0]:.0f} mm into" in text
    assert "anterior inferior iliac spine" in text and "FADIR" in text
    assert free.highest is not None
    assert f"clear of bone contact up to {np.floor(free.highest * 2) / 2:g} deg" in text
    assert first["value"] == pytest.approx(res.overlap[0])
    # in the sagittal plane the bones are apart here, and nothing is said of contact; the
    # muscle statements that follow are the contact pose's own (it is named in the first)
    apart = model.explain(hip, 0.0)
    assert all(s["quantity"] != "bone_overlap" for s in apart)
    assert str(statements[1]["text"]).startswith(f"At {hip:g} deg hip flexion, the hip adducted")


def test_explain_command_takes_adduction_and_rotation(real_pack) -> None:  # type: ignore[no-untyped-def]
    run = subprocess.run([sys.executable, "-m", "hipflex", "explain", "--hip", "-20",
                          "--adduction", "30", "--rotation", "-30"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "the hip adducted 30 deg and turned out 30 deg," in run.stdout
    assert "lesser trochanter runs" in run.stdout and "ischium" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "hipflex", "explain", "--hip", "10",
                          "--rotation", "60"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "hip_rotation" in bad.stderr


def test_window_marks_and_names_the_contact(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    hip, add, rot = FADIR
    w.state.set_pose(hip_flexion=hip, hip_adduction=add, hip_rotation=rot)
    qtbot.waitUntil(lambda: "bone contact" in w.status.text(), timeout=5000)
    assert "front of the socket" in w.status.text()
    qtbot.waitUntil(lambda: "Bone meets bone" in w.explanation_panel.toPlainText(), timeout=5000)
    qtbot.waitUntil(lambda: not w.view._stale and not w.view._timer.isActive(), timeout=5000)
    w.view.render_now()
    scene = w.view.scene
    overlap = float(w.analysis.model.bone_contact(hip, add, rot).overlap[0])
    assert scene.contact_depth == pytest.approx(overlap) and overlap > CONTACT_TOLERANCE
    dot, cap = scene._contact_props
    assert dot.GetVisibility() and cap.GetVisibility()
    assert f"{1000 * overlap:.0f} mm" in cap.GetCaption()
    w.state.set_pose(hip_flexion=30.0, hip_adduction=0.0, hip_rotation=0.0)
    qtbot.waitUntil(lambda: "bone contact" not in w.status.text(), timeout=5000)
    qtbot.waitUntil(lambda: not w.view._stale and not w.view._timer.isActive(), timeout=5000)
    w.view.render_now()
    assert scene.contact_depth == 0.0 and not dot.GetVisibility()


def test_pose_panel_can_stop_where_bone_meets_bone(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    w = window
    panel = w.pose_panel
    w.state.set_pose(hip_flexion=60.0, hip_adduction=20.0, hip_rotation=30.0)
    free = w.analysis.model.free_flexion(20.0, 30.0)
    assert free.highest is not None and free.highest < 120.0
    panel.stop_box.setChecked(True)
    assert w.state.display.stop_at_bone_contact
    messages: list[str] = []
    panel.stopped.connect(messages.append)
    for half_degrees in range(121, 241):  # a drag from 60.5 to 120 deg
        panel.sliders["hip_flexion"].setValue(half_degrees)
    stop = w.state.pose.hip_flexion
    assert free.highest - 0.5 <= stop <= free.highest  # the last half degree clear of contact
    assert not w.analysis.model.bone_contact(stop, 20.0, 30.0).touching[0]
    assert panel.sliders["hip_flexion"].value() == round(2 * stop)
    assert messages and f"Stopped at {stop:g}°" in messages[-1] and "socket" in messages[-1]
    # a number typed past the contact stops there too; moving back is free
    panel.boxes["hip_flexion"].setValue(125.0)
    assert w.state.pose.hip_flexion == stop
    panel.boxes["hip_flexion"].setValue(70.0)
    assert w.state.pose.hip_flexion == 70.0
    # off: the move goes on into contact, which is marked instead
    panel.stop_box.setChecked(False)
    panel.boxes["hip_flexion"].setValue(120.0)
    assert w.state.pose.hip_flexion == 120.0
    assert w.analysis.model.bone_contact(120.0, 20.0, 30.0).touching[0]
    # started in contact, with the option on: deeper is refused, shallower is allowed
    panel.stop_box.setChecked(True)
    panel.boxes["hip_flexion"].setValue(125.0)
    assert w.state.pose.hip_flexion == 120.0
    panel.boxes["hip_flexion"].setValue(115.0)
    assert w.state.pose.hip_flexion == 115.0
