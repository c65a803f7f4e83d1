"""Input handling: bad API arguments and bad command-line numbers give one clear error.

API misuse raises PoseError (never a silent 0 deg, a parsed string or a flattened array); the
command line prints one line and exits 2, never a traceback.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import hipflex
from hipflex.errors import AssetError, PoseError
from hipflex.model.hipmodel import MAX_HIP_ACCELERATION, HipModel

# --- the API: angles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.at(None), r"hip_flexion: expected an angle in degrees .*got None"),
        (lambda m: m.at(110, None), r"knee_flexion: expected an angle .*got None"),
        (lambda m: m.at(hip_rotation=None), r"hip_rotation: expected an angle .*got None"),
        (lambda m: m.sweep(None), r"hip_flexion: expected an angle .*got None"),
        (lambda m: m.at("110"), r"hip_flexion: expected an angle .*got '110'"),
        (lambda m: m.at(True), r"hip_flexion: expected an angle .*got True"),
        (lambda m: m.at(np.bool_(True)), r"hip_flexion: expected an angle"),
        (lambda m: m.at(1 + 2j), r"hip_flexion: expected angles in degrees"),
        (lambda m: m.sweep(["10", "20"]), r"hip_flexion: expected angles in degrees"),
        (lambda m: m.sweep([True, False]), r"hip_flexion: expected angles in degrees"),
        (lambda m: m.sweep([10.0, None]), r"hip_flexion: expected angles in degrees"),
        (lambda m: m.sweep([]), r"hip_flexion: no angles given"),
        (lambda m: m.sweep(10.0, knee_flexion=np.array([])), r"knee_flexion: no angles given"),
        (lambda m: m.sweep(np.zeros((3, 4))), r"hip_flexion: .*1-D .*shape \(3, 4\)"),
        (lambda m: m.sweep([0, 10, 20], knee_flexion=[0, 90]),
         r"different lengths .*hip_flexion 3, knee_flexion 2"),
        (lambda m: m.explain(None), r"hip_flexion: expected an angle .*got None"),
        (lambda m: m.explain(np.array([10.0, 20.0])), r"hip_flexion: explain\(\) takes one angle"),
        (lambda m: m.explain(60, "90"), r"knee_flexion: expected an angle .*got '90'"),
    ],
)  # fmt: skip
def test_wrong_angles_raise_pose_error(model, call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseError, match=message):
        call(model)


def test_numeric_angles_of_any_kind_give_the_same_numbers(model) -> None:  # type: ignore[no-untyped-def]
    """Validation must not change what valid input computes: ints, numpy scalars, 0-d arrays,
    Fractions and lists give the float result exactly."""
    ref = model.at(55.0, 30.0)
    for hip, knee in [(55, 30), (np.float64(55), np.int64(30)), (np.array(55.0), 30.0),
                      (Fraction(55), 30.0)]:  # fmt: skip
        got = model.at(hip, knee)
        for q in ref.values:
            np.testing.assert_array_equal(got[q], ref[q])
    swept = model.sweep([55, 55.0], knee_flexion=30)
    floats = model.sweep([55.0, 55.0], knee_flexion=30.0)
    np.testing.assert_array_equal(swept["max_moment_hip_flexion"], floats["max_moment_hip_flexion"])
    # one pose is computed on Python floats, several on arrays: the same to rounding
    np.testing.assert_allclose(
        swept["max_moment_hip_flexion"][1], ref["max_moment_hip_flexion"][0], rtol=1e-12, atol=0
    )


# --- the API: acceleration, subject and strength ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "hip_acceleration is not a finite number"),
        (float("inf"), "hip_acceleration is not a finite number"),
        (-1e6, r"hip_acceleration = -1e\+06 rad/s\^2 is outside -500\.\.500 rad/s\^2"),
        (MAX_HIP_ACCELERATION + 1, r"is outside -500\.\.500"),
        ("5", r"hip_acceleration must be one number in rad/s\^2, got '5'"),
        (np.array([1.0, 2.0]), "hip_acceleration must be one number"),
        (None, "hip_acceleration must be one number"),
        (True, "hip_acceleration must be one number"),
    ],
)  # fmt: skip
def test_hip_acceleration_is_checked(model, value, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseError, match=message):
        model.at(60, hip_acceleration=value)
    with pytest.raises(PoseError, match=message):
        model.sweep([30.0, 60.0], hip_acceleration=value)
    with pytest.raises(PoseError, match=message):
        model.explain(60, hip_acceleration=value)


def test_hip_acceleration_within_the_bound_adds_to_the_moment(model) -> None:  # type: ignore[no-untyped-def]
    still = float(model.at(60).required_moment[0])
    for a in (10, np.float64(10.0), 10.0):
        assert float(model.at(60, hip_acceleration=a).required_moment[0]) > still
    edge = model.at(60, hip_acceleration=-MAX_HIP_ACCELERATION)  # the bound itself is allowed
    assert np.isfinite(edge.required_moment).all()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"body_mass": 10}, r"body mass 10 kg is outside 20\.\.250 kg"),
        ({"body_mass": float("nan")}, r"body mass nan kg is outside"),
        ({"height": 0}, r"height 0 m is outside 1\.\.2\.4 m"),
        ({"height": "1.8"}, r"height must be a number in m, got '1\.8'"),
        ({"body_mass": True}, r"body mass must be a number in kg, got True"),
    ],
)  # fmt: skip
def test_bad_subject_fails_when_the_model_is_built(model_context, kw, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseError, match=message):
        HipModel(model_context, **kw)


def test_load_model_takes_the_pack_positionally_and_checks_the_subject(real_pack) -> None:  # type: ignore[no-untyped-def]
    model = hipflex.load_model(real_pack, body_mass=80.0)
    assert model.body_mass == 80.0 and model.ctx.pack.root == real_pack.root
    with pytest.raises(PoseError, match="body mass 10 kg"):
        hipflex.load_model(real_pack, body_mass=10)

    assert hipflex.load_model(str(real_pack.root)).ctx.pack.root == real_pack.root  # a folder
    with pytest.raises(AssetError, match="expected an AssetPack or a pack folder, got int"):
        hipflex.load_model(3)


@pytest.mark.parametrize("argv", [["sweep", "-o", "-"], ["explain", "--hip", "10"],
                                  ["export", "-o", "scene.glb"]])  # fmt: skip
def test_a_missing_pack_is_one_line_not_a_traceback(capsys, tmp_path, monkeypatch, argv) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HIPFLEX_CACHE", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, *argv)
    _one_line_error(code, err, "no asset pack here; build it with")
    assert not (tmp_path / "scene.glb").exists()
    with pytest.raises(AssetError, match="no asset pack here"):
        hipflex.load_model()


def test_strength_is_checked_however_it_is_set(model_context) -> None:  # type: ignore[no-untyped-def]
    model = HipModel(model_context)
    with pytest.raises(PoseError, match=r"strength of psoas must be 0\.\.2 .*got '0\.5'"):
        model.set_strength("psoas", "0.5")  # type: ignore[arg-type]
    with pytest.raises(PoseError, match=r"strength of psoas must be 0\.\.2 .*got True"):
        model.set_strength("psoas", True)
    assert "psoas" not in model.strength
    ref = model.at(110)["max_moment_hip_flexion"]
    # the dict is public: a direct edit is checked when the peak forces are rebuilt
    for bad in (-1.0, float("nan"), 2.5, "1"):
        model.strength["psoas"] = bad  # type: ignore[assignment]
        with pytest.raises(PoseError, match=r"strength of psoas must be 0\.\.2"):
            model.at(110)
    model.strength["not_a_muscle"] = 1.0
    model.strength.pop("psoas")
    with pytest.raises(PoseError, match="unknown muscle id 'not_a_muscle'"):
        model.at(110)
    model.strength.clear()
    np.testing.assert_array_equal(model.at(110)["max_moment_hip_flexion"], ref)
    model.strength["psoas"] = 0.5  # a valid direct edit still works
    j = model.muscles.index("psoas")
    assert model.at(110)["max_moment_hip_flexion"][0, j] == pytest.approx(0.5 * ref[0, j])


# --- the command line -------------------------------------------------------------------------


def _run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    from hipflex.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("hipflex: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for n in needles:
        assert n in err, err


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--from", "nan"], ["--from must be a finite number"]),
        (["--to", "nan"], ["--to must be a finite number"]),
        (["--to", "inf"], ["--to must be a finite number"]),
        (["--step", "nan"], ["--step must be a finite number"]),
        (["--step", "inf"], ["--step must be a finite number"]),
        (["--step", "0"], ["--step must be positive"]),
        (["--from", "10", "--to", "0"], ["--to (0) is below --from (10)"]),
        (["--step", "1e-6"], ["more than 100001 angles", "larger --step"]),
        (["--from=-1e308", "--to", "1e308"], ["more than 100001 angles"]),
        (["--mass", "10"], ["body mass 10 kg is outside 20..250 kg"]),
        (["--mass", "nan"], ["body mass nan kg"]),
        (["--height", "0"], ["height 0 m is outside"]),
        (["--knee", "nan"], ["knee_flexion: angle is not a finite number"]),
        (["--adduction", "95"], ["hip_adduction = 95 deg is outside the joint range -45..30 deg"]),
        (["--adduction", "nan"], ["hip_adduction: angle is not a finite number"]),
        (["--rotation", "-50"], ["hip_rotation = -50 deg is outside the joint range -45..45 deg"]),
        (["--rotation", "inf"], ["hip_rotation: angle is not a finite number"]),
    ],
)  # fmt: skip
def test_sweep_bad_numbers_print_one_line_and_exit_2(capsys, tmp_path, args, needles) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "t.csv"
    code, _, err = _run(capsys, "sweep", *args, "-o", str(out))
    _one_line_error(code, err, *needles)
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["explain", "--hip", "60", "--mass", "10"], ["body mass 10 kg"]),
        (["explain", "--hip", "60", "--height", "nan"], ["height nan m"]),
        (["bench", "--repeats", "0"], ["--repeats must be at least 1, got 0"]),
        (["bench", "--repeats", "-3"], ["--repeats must be at least 1, got -3"]),
        (["sweep", "-o", ""], ["needs a file name (or - for standard output)"]),
    ],
)  # fmt: skip
def test_other_bad_input_prints_one_line_and_exits_2(capsys, argv, needles) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, *argv)
    _one_line_error(code, err, *needles)


def test_run_bench_refuses_zero_repeats() -> None:
    from hipflex.bench import run_bench
    from hipflex.errors import HipFlexError

    with pytest.raises(HipFlexError, match="repeats must be at least 1"):
        run_bench(repeats=0)


def test_bench_prints_the_repeats_it_used(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _run(capsys, "bench", "--repeats", "1")
    assert code == 0 and "repeats: 1 (one pose), 5 (sweep), 1 (rounds of the sagittal poses)" in out
    assert "each of the 302 sagittal poses" in out and "slowest" in out


def test_sweep_into_a_folder_is_refused(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, "sweep", "-o", str(tmp_path))
    _one_line_error(code, err, "is a folder")


@pytest.mark.parametrize(
    ("start", "stop", "step", "expected"),
    [
        (-20, 130, 8, [-20 + 8 * i for i in range(19)]),  # 124 last: 132 is beyond --to
        (0, 139, 12, [12 * i for i in range(12)]),  # 132 last, never 144
        (0, 0.3, 0.1, [0, 0.1, 0.2, 0.3]),  # --to on the grid within float error: included
        (100, 100.0005, 0.0001, [100, 100.0001, 100.0002, 100.0003, 100.0004, 100.0005]),
        (5, 5, 1, [5]),
        (-20, 130, 1, list(range(-20, 131))),
    ],
)  # fmt: skip
def test_sweep_angles_stay_within_from_and_to(start, stop, step, expected) -> None:  # type: ignore[no-untyped-def]
    from hipflex.cli_model import sweep_angles

    got = sweep_angles(float(start), float(stop), float(step))
    assert got.min() >= start and got.max() <= stop
    assert got.tolist() == [float(x) for x in expected]


def _csv(path) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [line.split(",") for line in path.read_text().splitlines()]


def test_sweep_csv_keeps_close_angles_distinct_and_normal_ones_short(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fine = tmp_path / "fine.csv"
    code, out, _ = _run(capsys, "sweep", "--from", "100", "--to", "100.0005", "--step", "0.0001",
                        "--knee", "90.00001", "-o", str(fine))  # fmt: skip
    assert code == 0 and "20 muscles x 6 angles" in out
    rows = _csv(fine)
    hips = [r[1] for r in rows[1:] if r[0] == "psoas"]
    assert hips == ["100", "100.0001", "100.0002", "100.0003", "100.0004", "100.0005"]
    assert {r[2] for r in rows[1:]} == {"90.00001"}
    plain = tmp_path / "plain.csv"
    assert _run(capsys, "sweep", "--step", "10", "--knee", "90", "-o", str(plain))[0] == 0
    rows = _csv(plain)
    assert [r[1] for r in rows[1:] if r[0] == "psoas"] == [str(a) for a in range(-20, 131, 10)]
    assert {r[2] for r in rows[1:]} == {"90"}


def test_sweep_to_standard_output_with_a_dash(capsys, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hipflex.cli_model import SWEEP_COLUMNS

    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "sweep", "--from", "0", "--to", "0", "-o", "-")
    assert code == 0 and not (tmp_path / "-").exists()
    lines = out.splitlines()
    assert lines[0] == SWEEP_COLUMNS and len(lines) == 1 + 20  # only the table on stdout
    assert (
        "wrote standard output: 20 rows (20 muscles x 1 angle)" in err
    )  # "1 angle", not "1 angles"


def test_sweep_warns_where_the_leg_cannot_be_held(capsys, tmp_path, model_context) -> None:  # type: ignore[no-untyped-def]
    """A heavy subject: the rows where the flexors fall short are named on stderr with the
    highest angle that can be held; the columns stay exactly the spec's."""
    from hipflex.cli_model import SWEEP_COLUMNS

    heavy = HipModel(model_context, body_mass=150.0, height=1.9)
    angles = np.arange(-20.0, 131.0)
    res = heavy.sweep(angles)
    short = angles[~res.feasible.astype(bool) & (res.required_moment > 0)]
    assert short.size  # this subject cannot hold the leg at the top of the range
    out = tmp_path / "heavy.csv"
    code, _, err = _run(capsys, "sweep", "--mass", "150", "--height", "1.9", "-o", str(out))
    assert code == 0 and out.read_text().splitlines()[0] == SWEEP_COLUMNS
    assert err.startswith("hipflex: warning:") and f"{short.size} hip angles of 151" in err
    assert f"{short[0]:g}" in err and f"{short[-1]:g} deg" in err
    assert f"highest hip angle that can be held is {heavy.highest_hold_angle(0.0):g} deg" in err
    # the default subject: with the hip's three moments balanced it falls short only at the
    # top of the range (the flexion-only task held every angle); the warning says which rows
    default = HipModel(model_context)
    top = angles[~default.sweep(angles).feasible]
    assert 0 < top.size < 10 and top[-1] == 130
    code, _, err = _run(capsys, "sweep", "-o", str(tmp_path / "ok.csv"))
    assert code == 0 and f"{top.size} hip angles of 151 ({top[0]:g}..130 deg)" in err
    flexion_only = HipModel(model_context, hold_balance="flexion")
    assert flexion_only.sweep(angles).feasible.all()


def test_sweep_off_the_sagittal_plane_appends_the_pose_columns(capsys, tmp_path, model) -> None:  # type: ignore[no-untyped-def]
    """--adduction/--rotation give the engine's numbers at that pose, and two last columns that
    name it; the first ten columns keep their places, and at 0 deg the header is the spec's."""
    import csv

    from hipflex.cli_model import SWEEP_COLUMNS

    angles = np.array([90.0, 100.0, 110.0, 120.0])
    want = model.sweep(angles, knee_flexion=30.0, hip_adduction=15.0, hip_rotation=20.0)
    flat = model.sweep(angles, knee_flexion=30.0)
    out = tmp_path / "turned.csv"
    code, _, err = _run(capsys, "sweep", "--from", "90", "--to", "120", "--step", "10", "--knee",
                        "30", "--adduction", "15", "--rotation", "20", "-o", str(out))  # fmt: skip
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert lines[0] == SWEEP_COLUMNS + ",hip_adduction_deg,hip_rotation_deg"
    assert all(line.split(",")[10:] == ["15", "20"] for line in lines[1:])
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == len(model.muscles) * angles.size
    assert list(rows[0])[:10] == SWEEP_COLUMNS.split(",")
    moved = 0.0
    for m in ("gluteus_medius", "psoas", "adductor_longus", "tensor_fasciae_latae"):
        got = [r for r in rows if r["muscle"] == m]
        assert [float(r["hip_flexion_deg"]) for r in got] == angles.tolist()
        for q, column in (("moment_arm_hip_flexion", "moment_arm_m"),
                          ("max_moment_hip_flexion", "max_moment_Nm"), ("length", "length_m")):  # fmt: skip
            values = np.array([float(r[column]) for r in got])
            np.testing.assert_allclose(values, want.muscle(m)[q], rtol=1e-5, atol=1e-9)
            moved = max(moved, float(np.abs(values - flat.muscle(m)[q]).max()))
    assert moved > 1e-3  # not the sagittal sweep's numbers
    # 0 deg, however typed, is the sagittal sweep: the spec's ten columns only
    for extra in ([], ["--adduction", "0", "--rotation", "-0"]):
        code, text, err = _run(capsys, "sweep", "--from", "90", "--to", "90", *extra, "-o", "-")
        assert code == 0, err
        assert text.splitlines()[0] == SWEEP_COLUMNS
        assert {len(line.split(",")) for line in text.splitlines()} == {10}


def test_sweep_warning_is_for_the_pose_off_the_plane(capsys, tmp_path, model_context) -> None:  # type: ignore[no-untyped-def]
    """Without psoas and iliacus the turned hip cannot be held high: the warning names the
    pose, and its highest angle is the engine's for that adduction and rotation."""
    weak = HipModel(model_context)
    weak.set_strength("psoas", 0.0)
    weak.set_strength("iliacus", 0.0)
    off = {"hip_adduction": 15.0, "hip_rotation": 20.0}
    highest = weak.highest_hold_angle(0.0, **off)
    # the turned hip's limit differs from the sagittal one, so the warning must use the pose's
    assert highest is not None and highest < 130 and highest != weak.highest_hold_angle(0.0)
    code, _, err = _run(capsys, "sweep", "--from", "90", "--to", "130", "--step", "5",
                        "--strength", "psoas=0", "--strength", "iliacus=0", "--adduction", "15",
                        "--rotation", "20", "-o", str(tmp_path / "weak.csv"))  # fmt: skip
    assert code == 0 and err.startswith("hipflex: warning: with the knee at 0 deg, the hip "
                                        "adducted 15 deg and turned in 20 deg, the muscles "
                                        "cannot hold the leg")  # fmt: skip
    short = np.arange(90.0, 131.0, 5.0)[~weak.sweep(np.arange(90.0, 131.0, 5.0), **off).feasible]
    assert f"{short.size} hip angles of 9" in err
    assert f"highest hip angle that can be held is {highest:g} deg" in err


def _glb_nodes(path) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Each node of a .glb as its vertices in the file's frame (node transform applied)."""
    import trimesh

    scene = trimesh.load(path)
    out = {}
    for node in scene.graph.nodes_geometry:
        transform, geometry = scene.graph.get(node)
        v = np.asarray(scene.geometry[geometry].vertices, float)
        out[node] = v @ transform[:3, :3].T + transform[:3, 3]
    return out


def _polyline(points: np.ndarray) -> np.ndarray:
    """``points`` without repeats of the point before (glTF lines store each segment's ends)."""
    keep = np.r_[True, np.abs(np.diff(points, axis=0)).max(axis=1) > 1e-9]
    return points[keep]


def test_export_poses_bones_and_lines_off_the_sagittal_plane(capsys, tmp_path, model_context) -> None:  # type: ignore[no-untyped-def]
    """--adduction 20: the femur is the engine's femur at that pose (turned 20 deg about the
    front-to-back axis, knee toward the midline), and every line of action is exported, on
    the engine's path at that pose."""
    from hipflex.model.kinematics import body_transforms
    from hipflex.model.wrapping import wrapped_path

    files = {}
    for name, extra in (("flat", []), ("turned", ["--adduction", "20"])):
        files[name] = tmp_path / f"{name}.glb"
        code, _, err = _run(capsys, "export", "--hip", "0", "--knee", "20", *extra, "-o",
                            str(files[name]))  # fmt: skip
        assert code == 0, err
    flat, turned = _glb_nodes(files["flat"]), _glb_nodes(files["turned"])
    pack = model_context.pack
    tr = body_transforms(model_context.skeleton, hip_flexion=0.0, hip_adduction=20.0,
                         knee_flexion=20.0)  # fmt: skip
    femur = np.asarray(pack.mesh("femur_r", "interactive").vertices, float)
    t = tr[pack.mesh_body("femur_r")][0]
    np.testing.assert_allclose(turned["bone:femur_r"], femur @ t[:3, :3].T + t[:3, 3], atol=1e-6)
    # independently of the transforms: the femur turned 20 deg about the pelvis's x axis
    # (front to back at hip flexion 0), its lower end toward the midline (-z, z is lateral)
    a, b = flat["bone:femur_r"], turned["bone:femur_r"]
    u, _, vt = np.linalg.svd((a - a.mean(0)).T @ (b - b.mean(0)))
    r = vt.T @ u.T  # b - mean ~ r (a - mean)
    assert np.degrees(np.arccos((np.trace(r) - 1) / 2)) == pytest.approx(20.0, abs=0.01)
    assert abs(r[2, 1] - r[1, 2]) / (2 * np.sin(np.radians(20))) == pytest.approx(1.0, abs=1e-3)
    lowest = np.argmin(a[:, 1])
    assert b[lowest, 2] < a[lowest, 2] - 0.1
    # a path node for every line of action, each on the engine's path at the turned pose
    lines = model_context.lines
    names = [f"path:{ln.muscle}:{sum(o.muscle == ln.muscle for o in lines[:i])}"
             for i, ln in enumerate(lines)]  # fmt: skip
    assert sorted(n for n in turned if n.startswith("path:")) == sorted(names)
    moved = 0.0
    for name, line in zip(names, lines, strict=True):
        want = _polyline(np.asarray(wrapped_path(model_context, line, tr)[0], float))
        got = _polyline(turned[name])
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=name)
        moved = max(moved, float(np.abs(got[-1] - _polyline(flat[name])[-1]).max()))
    assert moved > 0.01


@pytest.mark.parametrize(
    ("args", "needles"),
    [(["--adduction", "31"], ["hip_adduction = 31 deg is outside the joint range -45..30 deg"]),
     (["--rotation", "nan"], ["hip_rotation: angle is not a finite number"])],
)  # fmt: skip
def test_export_refuses_an_off_plane_angle_outside_the_joint(capsys, tmp_path, args, needles) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.glb"
    code, _, err = _run(capsys, "export", *args, "-o", str(out))
    _one_line_error(code, err, *needles)
    assert not out.exists()


@pytest.mark.parametrize("name", ["x.gltf", "x.obj", "x"])
def test_export_needs_the_glb_suffix(capsys, tmp_path, name) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, "export", "--hip", "10", "-o", str(tmp_path / name))
    _one_line_error(code, err, "binary glTF", "ending in .glb")
    assert not (tmp_path / name).exists()


def test_help_gives_units_and_defaults(capsys) -> None:  # type: ignore[no-untyped-def]
    from hipflex.cli import build_parser

    texts = {}
    for verb in ("sweep", "explain", "bench"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([verb, "--help"])
        texts[verb] = " ".join(capsys.readouterr().out.split())
    for needle in ("--from DEG first hip-flexion angle, degrees (default -20",
                   "--to DEG last hip-flexion angle, degrees (default 130)",
                   "--step DEG step between angles, degrees (default 1",
                   "--knee DEG knee flexion, degrees (default 0", "- for standard output"):  # fmt: skip
        assert needle in texts["sweep"]
    assert "--hip DEG hip flexion, degrees" in texts["explain"]
    assert "--repeats N runs per timing (default 30" in texts["bench"]


# --- the "why": wording -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hip", "knee"), [(0.0, 90.0), (-20.0, 90.0), (130.0, 140.0), (120.0, 0.0)]
)
def test_weak_flexor_says_which_side_of_optimal_its_fibres_are(model, hip, knee) -> None:  # type: ignore[no-untyped-def]
    """The low-force statement follows the computed fibre length: above optimal (1.0) the
    muscle is "stretched too far", below it "too short" (rectus femoris at hip 0, knee 90 is
    at about twice its optimal length: it is not too short)."""
    pose = model.at(hip, knee)
    names = {m: model.ctx.anatomy.muscles[m].display_name for m in model.muscles}
    weak = [s for s in model.explain(hip, knee) if "to pull hard" in str(s["text"])]
    expected = {
        m for j, m in enumerate(model.muscles)
        if pose["moment_arm_hip_flexion"][0, j] > 0.005 and pose["norm_fiber_length"][0, j] > 0
        and pose["force_length_factor"][0, j] < 0.3
    }  # fmt: skip
    assert {s["muscles"][0] for s in weak} == expected  # type: ignore[index]
    for s in weak:
        m = s["muscles"][0]  # type: ignore[index]
        norm = pose["norm_fiber_length"][0, model.muscles.index(m)]
        side = "is stretched too far" if norm > 1 else "is too short"
        assert str(s["text"]).startswith(f"{names[m]} {side} to pull hard: fibres at {norm:.2f}")


def test_rectus_femoris_bent_knee_at_neutral_is_stretched_not_short(model) -> None:  # type: ignore[no-untyped-def]
    texts = [str(s["text"]) for s in model.explain(0, 90) if s["muscles"] == ["rectus_femoris"]]
    assert any(t.startswith("Rectus femoris is stretched too far to pull hard") for t in texts)
    assert not any("too short" in t for t in texts)


@pytest.mark.parametrize(
    ("hip", "start"),
    [(-20, "At 20 deg hip extension with the knee straight,"),
     (-0.0, "At 0 deg hip flexion with the knee straight,"),
     (45, "At 45 deg hip flexion with the knee straight,")],
)  # fmt: skip
def test_negative_hip_angle_reads_as_extension(model, hip, start) -> None:  # type: ignore[no-untyped-def]
    assert str(model.explain(hip, 0)[0]["text"]).startswith(start)


@pytest.mark.parametrize(
    ("hip", "knee"), [(110.0, 0.0), (110.0, 90.0), (130.0, 140.0), (30.0, 0.0)]
)
def test_names_inside_a_sentence_are_lower_case(model, hip, knee) -> None:  # type: ignore[no-untyped-def]
    """Sentence-initial names keep their capital; the knee contrast ("instead, rectus femoris
    would"), the hold statement ("; psoas major the largest share") and the second and later
    names of a side-action statement are written in lower case."""
    names = {m: model.ctx.anatomy.muscles[m].display_name for m in model.muscles}
    statements = model.explain(hip, knee)
    for s in statements:
        text, muscles = str(s["text"]), list(s["muscles"])  # type: ignore[call-overload]
        if "instead, " in text:
            assert f"instead, {names[muscles[0]].lower()} would" in text
        if "the largest share" in text:
            assert f"; {names[muscles[0]].lower()} the largest share" in text
        if str(s["quantity"]) in ("moment_arm_hip_rotation", "moment_arm_hip_adduction"):
            assert text.startswith(names[muscles[0]])
            for m in muscles[1:]:
                assert f"{names[m].lower()}" in text and names[m] not in text
    assert any("the largest share" in str(s["text"]) for s in statements)


def test_sweep_and_explain_take_strengths_and_a_knee_drive(capsys, tmp_path, model_context) -> None:  # type: ignore[no-untyped-def]
    """--strength and --hip-acceleration give the numbers and words of the Python API with the
    same settings (weak psoas, a fast knee drive), not those of the defaults."""
    import csv

    api = HipModel(model_context)
    api.set_strength("psoas", 0.5)
    api.set_strength("iliacus", 1.5)
    angles = np.arange(-20.0, 131.0, 10.0)
    want = api.sweep(angles, knee_flexion=90.0, hip_acceleration=20.0)
    out = tmp_path / "weak.csv"
    code, _, err = _run(capsys, "sweep", "--step", "10", "--knee", "90", "--strength", "psoas=50",
                        "--strength", "iliacus=150", "--hip-acceleration", "20", "-o", str(out))  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    for m in ("psoas", "iliacus", "rectus_femoris"):
        got = [r for r in rows if r["muscle"] == m]
        for q, column in (("max_moment_hip_flexion", "max_moment_Nm"), ("activation", "activation"),
                          ("share", "share")):  # fmt: skip
            assert [float(r[column]) for r in got] == pytest.approx(
                want.muscle(m)[q], rel=1e-5, abs=1e-9)
    default = HipModel(model_context).sweep(angles, knee_flexion=90.0)
    assert float(rows[[r["muscle"] for r in rows].index("psoas") + 13]["max_moment_Nm"]) == \
        pytest.approx(0.5 * default.muscle("psoas")["max_moment_hip_flexion"][13], rel=1e-5)
    code, text, err = _run(capsys, "explain", "--hip", "60", "--knee", "30", "--strength",
                           "psoas=50", "--strength", "iliacus=150", "--hip-acceleration", "40")  # fmt: skip
    assert code == 0, err
    for s in api.explain(60, 30, hip_acceleration=40):
        assert str(s["text"]) in text
    assert "Driving the knee up from here at 40 rad/s^2" in text


def test_a_knee_drive_by_name_is_its_measured_figure(capsys, model) -> None:  # type: ignore[no-untyped-def]
    """``--hip-acceleration sprint_top_speed`` is the drive in anatomy_data/knee_drives.toml:
    the same words as the figure itself, and the caveat that a held pose leaves out speed."""
    from hipflex.anatomy import load_anatomy

    value = load_anatomy().knee_drives["sprint_top_speed"].hip_acceleration
    code, by_name, err = _run(capsys, "explain", "--hip", "20", "--knee", "110",
                              "--hip-acceleration", "sprint_top_speed")  # fmt: skip
    assert code == 0, err
    for s in model.explain(20, 110, hip_acceleration=value):
        assert str(s["text"]) in by_name
    assert f"Driving the knee up from here at {value:.1f} rad/s^2" in by_name
    assert "force-velocity" in by_name
    _, held, _ = _run(capsys, "explain", "--hip", "20", "--knee", "110")
    assert "force-velocity" not in held and "Holding the leg here" in held


@pytest.mark.parametrize(
    ("args", "needles"),
    [(["--strength", "psoas"], ["expected MUSCLE=PERCENT such as psoas=50, got 'psoas'"]),
     (["--strength", "psoas=x"], ["expected MUSCLE=PERCENT"]),
     (["--strength", "psoas=nan"], ["expected MUSCLE=PERCENT"]),
     (["--strength", "psoas=250"], ["psoas=250: a strength is 0..200 percent"]),
     (["--strength", "psoas=-1"], ["psoas=-1: a strength is 0..200 percent"]),
     (["--hip-acceleration", "600"], ["hip_acceleration = 600 rad/s^2 is outside -500..500"]),
     (["--hip-acceleration", "sprint"], ["expected rad/s^2 or a knee drive's id (sprint_top_speed), got 'sprint'"])],
)  # fmt: skip
def test_bad_strength_or_acceleration_is_one_clear_error(capsys, args, needles) -> None:  # type: ignore[no-untyped-def]
    try:
        code, _, err = _run(capsys, "explain", "--hip", "60", *args)
    except SystemExit as exc:  # argparse's own error exit (usage line, then the error)
        code, err = int(exc.code or 0), capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert all(n in last for n in needles), err


def test_unknown_strength_muscle_lists_the_muscles(capsys, model) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, "explain", "--hip", "60", "--strength", "psoaz=50")
    _one_line_error(code, err, "--strength psoaz: unknown muscle id", ", ".join(model.muscles))


def test_long_sweeps_are_evaluated_in_blocks_with_the_same_numbers(model, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Blocks keep memory flat for a 100001-angle sweep; they must not change a number."""
    from hipflex.model import hipmodel

    angles = np.linspace(-20.0, 130.0, 23)
    whole = model.sweep(angles, knee_flexion=45.0, hip_acceleration=10.0)
    monkeypatch.setattr(hipmodel, "EVAL_BLOCK", 5)
    parts = model.sweep(angles, knee_flexion=45.0, hip_acceleration=10.0)
    for q, v in whole.values.items():
        np.testing.assert_array_equal(parts[q], v, err_msg=q)
    np.testing.assert_array_equal(parts.required_moment, whole.required_moment)
    np.testing.assert_array_equal(parts.feasible, whole.feasible)
    assert parts.pose["hip_flexion"].shape == (23,)


def test_readme_command_table_lists_every_engine_option() -> None:
    """The README's rows for the engine and media verbs name each of their options."""
    import argparse
    import re
    from pathlib import Path

    from hipflex.cli import build_parser

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for verb in ("sweep", "explain", "export", "bench", "render", "plot", "handout", "video"):
        row = " ".join(line for line in readme.splitlines()
                       if line.startswith(f"| `hipflex {verb} "))  # fmt: skip
        assert row, f"no README row for {verb}"
        for action in sub.choices[verb]._actions:
            if action.option_strings and action.dest != "help":
                option = action.option_strings[0]  # -o for -o/--output
                assert re.search(re.escape(option) + r"(?![\w-])", row), f"{verb} lacks {option}"


def test_negative_numbers_in_any_notation_are_values_not_options(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """argparse would take -1e-9, -2e1 or -20. for options ("expected one argument")."""
    for start, first in (("-1e-9", "-1e-09"), ("-20.", "-20"), ("-2e1", "-20")):
        out = tmp_path / f"s{first}.csv"
        code, _, err = _run(capsys, "sweep", "--from", start, "--to", "0", "--step", "50",
                            "-o", str(out))  # fmt: skip
        assert code == 0, err
        assert out.read_text().splitlines()[1].split(",")[1] == first


def test_a_value_just_past_a_limit_is_shown_as_typed(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, "explain", "--hip", "140.0001")
    _one_line_error(code, err, "hip_flexion = 140.0001 deg is outside the joint range -30..140")


@pytest.mark.parametrize(("argv", "where"), [
    (["explain", "--hip", "135"], "hip flexion 135 deg lies beyond the explorer's range -20..130"),
    (["sweep", "--from", "-30", "--to", "140", "--step", "5", "-o", "t.csv"],
     "hip flexion -30..-25 and 135..140 deg lies beyond the explorer's range"),
    (["sweep", "--to", "0", "--step", "10", "--adduction", "-40", "-o", "t.csv"],
     "hip adduction -40 deg lies beyond the explorer's range -30..30"),
    (["export", "--rotation", "42", "-o", "s.glb"],
     "hip rotation 42 deg lies beyond the explorer's range -40..40"),
    (["explain", "--hip", "90", "--adduction", "-35"],
     "hip adduction -35 deg lies beyond the explorer's range -30..30"),
])  # fmt: skip
def test_the_engine_notes_angles_beyond_the_explorer_s_range(capsys, tmp_path, monkeypatch, argv,
                                                              where) -> None:  # type: ignore[no-untyped-def]
    """The engine takes the whole joint range, and says where paths are not sound."""
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, *argv)
    assert code == 0 and where in err and "cut into bone" in err


def test_the_engine_says_nothing_extra_inside_the_explorer_s_range(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(capsys, "explain", "--hip", "130", "--knee", "0")
    assert code == 0 and "note" not in err


def test_readme_python_example_runs_as_written(capsys) -> None:  # type: ignore[no-untyped-def]
    """Copy-pasted from the README, the example prints two plain numbers, then statements."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("import numpy as np\nimport hipflex")
    exec(compile(readme[start:readme.index("```", start)], "README.md", "exec"), {})
    first = capsys.readouterr().out.splitlines()[0].split()
    assert len(first) == 2 and float(first[0]) < 0 < float(first[1])  # slack, still a flexor
