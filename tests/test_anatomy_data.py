"""anatomy_data/ loads, cross-references resolve, and bad files name the file and the key."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from hipflex.anatomy import load_anatomy
from hipflex.config import data_dir
from hipflex.errors import DataError

REQUIRED = {
    "iliacus", "psoas", "rectus_femoris", "sartorius", "tensor_fasciae_latae", "pectineus",
    "adductor_longus", "adductor_brevis", "adductor_magnus", "gracilis", "gluteus_maximus",
    "gluteus_medius", "biceps_femoris_long_head", "semitendinosus", "semimembranosus",
}  # fmt: skip


def test_all_required_muscles_with_lines() -> None:
    data = load_anatomy()
    assert set(data.muscles) >= REQUIRED
    for m in data.muscles.values():
        assert m.line, f"{m.id} has no line of action"
        assert m.hill.source in data.references
    assert len(data.muscles["psoas"].line) >= 3
    assert len(data.muscles["gluteus_maximus"].line) >= 2
    assert "pelvic_brim_r" in data.muscles["iliacus"].line[0].wraps


def test_joint_ranges_match_the_conventions() -> None:
    coords = {c.id: c for j in load_anatomy().joints for c in j.coordinate}
    assert coords["hip_flexion"].range == [-30.0, 140.0]
    assert coords["knee_flexion"].range == [0.0, 140.0]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "anatomy_data"
    shutil.copytree(data_dir(), dst)
    return dst


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_bad_value_names_file_and_key(data_copy: Path) -> None:
    f = data_copy / "muscles" / "iliacus.toml"
    _replace(f, "max_isometric_force = 1021.1", "max_isometric_force = -5")
    with pytest.raises(DataError) as err:
        load_anatomy(data_copy)
    msg = str(err.value)
    assert "iliacus.toml" in msg and "hill.max_isometric_force" in msg and "greater than 0" in msg


def test_unknown_reference_is_named(data_copy: Path) -> None:
    f = data_copy / "muscles" / "psoas.toml"
    _replace(f, 'source = "rajagopal2016"', 'source = "nobody2099"')
    with pytest.raises(DataError, match=r"psoas\.toml.*nobody2099"):
        load_anatomy(data_copy)


def test_broken_toml_is_reported(data_copy: Path) -> None:
    (data_copy / "joints.toml").write_text("[[joint]\nid = ")
    with pytest.raises(DataError, match=r"joints\.toml: not valid TOML"):
        load_anatomy(data_copy)


def test_bad_range_is_reported(data_copy: Path) -> None:
    _replace(data_copy / "joints.toml", "range = [-30.0, 140.0]", "range = [140.0, -30.0]")
    with pytest.raises(DataError, match=r"joints\.toml: key 'joint\[0\]\.coordinate\.0"):
        load_anatomy(data_copy)


def test_missing_key_is_reported(data_copy: Path) -> None:
    f = data_copy / "muscles" / "gracilis.toml"
    text = "\n".join(ln for ln in f.read_text().splitlines() if not ln.startswith("innervation"))
    f.write_text(text)
    with pytest.raises(DataError, match=r"gracilis\.toml: key 'innervation': Field required"):
        load_anatomy(data_copy)


def test_a_patella_table_that_misses_the_knee_range_is_named(data_copy: Path) -> None:
    f = data_copy / "patellofemoral.toml"
    shifted = ", ".join(str(5 * k) for k in range(1, 30))  # 5..145 deg: misses knee 0
    f.write_text(re.sub(r"(?m)^knee_flexion = \[.*\]$", f"knee_flexion = [{shifted}]", f.read_text()))
    with pytest.raises(DataError, match=r"patellofemoral\.toml: key 'knee_flexion': the table "
                                        r"\(5\.\.145 deg\) must cover the joint range 0\.\.140"):
        load_anatomy(data_copy)


def test_a_patella_table_with_a_missing_row_is_named(data_copy: Path) -> None:
    _replace(data_copy / "patellofemoral.toml", "patella_flexion = [0, ", "patella_flexion = [")
    with pytest.raises(DataError, match=r"patellofemoral\.toml: key '\(top level\)': .*one row "
                                        r"per knee_flexion angle \(29\)"):
        load_anatomy(data_copy)


def test_an_uneven_patella_table_is_named(data_copy: Path) -> None:
    f = data_copy / "patellofemoral.toml"
    _replace(f, "knee_flexion = [0, 5, 10,", "knee_flexion = [0, 5, 11,")
    with pytest.raises(DataError, match=r"patellofemoral\.toml: .*evenly spaced"):
        load_anatomy(data_copy)


def test_a_missing_patella_table_is_named(data_copy: Path) -> None:
    (data_copy / "patellofemoral.toml").unlink()
    with pytest.raises(DataError, match=r"patellofemoral\.toml: file missing"):
        load_anatomy(data_copy)


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("axis_offset = [-0.", "axis_offset = [-1.", r"key 'axis_offset': .*within 0\.03 of the knee centre"),
    ("axis_offset = [", "axis_offset = [0.0, ", r"key 'axis_offset': .*at most 2 items"),
    ('joint = "knee_r"', 'joint = "hip_r"', r"key 'joint': 'hip_r' is not a joint whose child is the tibia"),
])  # fmt: skip
def test_a_bad_knee_axis_names_file_and_key(data_copy: Path, old: str, new: str, needle: str) -> None:
    _replace(data_copy / "tibiofemoral.toml", old, new)
    with pytest.raises(DataError, match=r"tibiofemoral\.toml: " + needle):
        load_anatomy(data_copy)


def test_a_knee_drive_is_the_measured_figure_in_rad_s2() -> None:
    """The preset is the source's figure (deg/s^2) converted, not a second number to drift; its
    references exist and its short citation is what the Task tab shows."""
    a = load_anatomy()
    drive = a.knee_drives["sprint_top_speed"]
    assert drive.thigh_acceleration == 10300.0  # Alt et al. 2024: 10.3 kdeg/s^2, faster group
    assert abs(drive.hip_acceleration - 179.77) < 0.01
    assert [a.references[r].short for r in drive.references] == ["Alt et al. 2024"]


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("thigh_acceleration = 10300.0", "thigh_acceleration = -5", r"'knee_drive\[0\]\.thigh_acceleration': Input should be greater than 0"),
    ("thigh_acceleration = 10300.0", "thigh_acceleration = nan", r"'knee_drive\[0\]\.thigh_acceleration': Input should be a finite number"),
    ('references = ["alt2024"]', 'references = ["nobody2099"]', r"'knee_drive\[0\]\.references': unknown reference id 'nobody2099'"),
    ('id = "sprint_top_speed"', 'id = "Sprint top"', r"'knee_drive\[0\]\.id': String should match"),
])  # fmt: skip
def test_a_bad_knee_drive_names_file_and_key(data_copy: Path, old: str, new: str, needle: str) -> None:
    _replace(data_copy / "knee_drives.toml", old, new)
    with pytest.raises(DataError, match=r"knee_drives\.toml: key " + needle):
        load_anatomy(data_copy)


def test_a_knee_drive_given_twice_or_a_missing_file_is_named(data_copy: Path) -> None:
    f = data_copy / "knee_drives.toml"
    text = f.read_text()
    f.write_text(text + "\n" + text[text.index("[[knee_drive]]"):])
    with pytest.raises(DataError, match=r"knee_drives\.toml: key 'knee_drive\[1\]\.id': "
                                        r"'sprint_top_speed' is given twice"):  # fmt: skip
        load_anatomy(data_copy)
    f.unlink()
    with pytest.raises(DataError, match=r"knee_drives\.toml: file missing"):
        load_anatomy(data_copy)
