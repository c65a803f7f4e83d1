"""The asset pipeline end to end, on a tiny synthetic mirror (tests/synthetic_sources.py).

One full build runs per module (``built``); every test then works on its own copy of that pack,
its own copy of the mirror and its own cache, so tests can break things independently.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

import synthetic_sources as ss
from hipflex.assets import build as build_mod
from hipflex.assets.build import ATTRIBUTION_CHANGES, BONE_BODY, INTERACTIVE_FACES, MUSCLE_SOURCES
from hipflex.assets.geometry import SignedDistanceGrid, apply, kabsch, ray_inside_votes
from hipflex.assets.pack import AssetPack, verify_pack
from hipflex.assets.sources import read_recipe
from hipflex.attribution import ATTRIBUTION
from hipflex.cli import main

MESH_IDS = sorted([*BONE_BODY, *MUSCLE_SOURCES.values()])
MIRRORED = ("rectus_femoris", "sartorius")
BODIES = ("pelvis", "femur_r", "tibia_r")


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers


@dataclass
class Run:
    rc: int
    out: str
    err: str
    seconds: float


@dataclass
class Built:
    cache: Path
    recipe: Path
    run: Run


@dataclass
class Workspace:
    mirror: Path
    recipe: Path
    cache: Path

    @property
    def pack(self) -> Path:
        return self.cache / "pack"

    def build(self, *extra: str, source: str | None = None) -> Run:
        return cli("assets", "build", "--source", source or str(self.mirror), *extra)

    def replace_source(self, source_id: str, data: bytes, fix_recipe: bool) -> None:
        """Put ``data`` in the mirror for ``source_id``; optionally make the recipe match it."""
        (self.mirror / ss.entry(source_id).relpath).write_bytes(data)
        if fix_recipe:
            ss.write_recipe(self.recipe, {source_id: data})


def cli(*argv: str) -> Run:
    """Run ``hipflex`` in-process and capture what it prints."""
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return Run(rc, out.getvalue(), err.getvalue(), time.perf_counter() - started)


def cli_with_deadline(seconds: float, *argv: str) -> Run:
    """Like ``cli`` but fails the test (instead of hanging the suite) if it takes too long."""
    box: list[Run | BaseException] = []

    def target() -> None:
        try:
            box.append(cli(*argv))
        except BaseException as exc:
            box.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"hipflex {' '.join(argv)} still running after {seconds} s (hangs)")
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(pack: Path) -> dict[str, str]:
    """Every file of the pack with its sha256: equal snapshots mean an untouched pack."""
    return {
        p.relative_to(pack).as_posix(): sha256(p) for p in sorted(pack.rglob("*")) if p.is_file()
    }


def assert_one_line_error(run: Run, *needles: str) -> str:
    assert run.rc == 2, (run.rc, run.out, run.err)
    assert "Traceback" not in run.out + run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    line = lines[0]
    assert line.startswith("hipflex: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def assert_leftovers_clean(cache: Path) -> None:
    leftovers = sorted(p.name for p in cache.iterdir() if p.name != "pack")
    assert not leftovers, f"build left behind {leftovers}"


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ss.make_mirror(tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sources: tuple[Path, Path]) -> Built:
    """One real build of the synthetic mirror through the CLI."""
    mirror, recipe = sources
    cache = tmp_path_factory.mktemp("built-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HIPFLEX_CACHE", str(cache))
        mp.setenv("HIPFLEX_RECIPE", str(recipe))
        mp.delenv("HIPFLEX_SOURCES", raising=False)
        run = cli("assets", "build", "--source", str(mirror))
    return Built(cache, recipe, run)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: tuple[Path, Path],
       built: Built) -> Workspace:  # fmt: skip
    """A private mirror, recipe and cache holding a copy of the good pack (mtimes kept)."""
    assert built.run.rc == 0, built.run.err
    mirror, recipe = sources
    w = Workspace(tmp_path / "mirror", tmp_path / "sources.toml", tmp_path / "cache")
    shutil.copytree(mirror, w.mirror)
    shutil.copy2(recipe, w.recipe)
    shutil.copytree(built.cache / "pack", w.pack)
    monkeypatch.setenv("HIPFLEX_CACHE", str(w.cache))
    monkeypatch.setenv("HIPFLEX_RECIPE", str(w.recipe))
    monkeypatch.delenv("HIPFLEX_SOURCES", raising=False)
    return w


# ---------------------------------------------------------------------------------------------
# 1. Building


def test_build_from_synthetic_mirror(built: Built) -> None:
    run = built.run
    assert run.rc == 0, run.err
    assert "Traceback" not in run.out + run.err
    assert run.err == ""
    assert "asset pack written" in run.out
    pack = built.cache / "pack"
    assert verify_pack(pack) == []
    assert_leftovers_clean(built.cache)
    print(f"synthetic build took {run.seconds:.1f} s")


def test_verify_passes_on_fresh_pack(ws: Workspace) -> None:
    run = cli("assets", "verify")
    assert run.rc == 0, run.err
    assert "asset pack OK" in run.out


def test_manifest_lists_every_output_file(ws: Workspace) -> None:
    manifest = json.loads((ws.pack / "manifest.json").read_text())
    on_disk = snapshot(ws.pack)
    del on_disk["manifest.json"]
    assert manifest["files"] == on_disk
    recipe = {e.id: hashlib.sha256(e.data).hexdigest() for e in ss.all_entries()}
    assert manifest["sources"] == recipe
    assert manifest["pipeline_version"] == build_mod.PIPELINE_VERSION


def test_meshes_at_both_levels(ws: Workspace) -> None:
    pack = AssetPack(ws.pack)
    assert pack.mesh_ids == MESH_IDS
    tri = pack.manifest["report"]["triangles"]
    for mid in MESH_IDS:
        for level in ("full", "interactive"):
            assert (ws.pack / "meshes" / level / f"{mid}.npz").is_file()
            m = pack.mesh(mid, level)
            assert m.vertices.dtype == np.float32 and m.faces.dtype == np.int32
            assert np.isfinite(m.vertices).all()
            assert len(m.faces) == tri[level][mid] >= 4
            assert m.faces.min() >= 0 and m.faces.max() < len(m.vertices)
        assert tri["interactive"][mid] <= tri["full"][mid]
    # The synthetic patella and femur are over their budgets, so decimation really ran.
    for mid in ("patella_r", "femur_r"):
        assert tri["full"][mid] > INTERACTIVE_FACES[mid] >= tri["interactive"][mid] > 0
    for body in BODIES:
        _origin, pitch, values = pack.sdf(body)
        assert pitch == pytest.approx(0.0015) and values.ndim == 3 and (values < 0).any()
    assert (ws.pack / "licenses").is_dir() and len(list((ws.pack / "licenses").iterdir())) == 3


def test_second_build_is_a_no_op(ws: Workspace) -> None:
    manifest = ws.pack / "manifest.json"
    before_ns, before = manifest.stat().st_mtime_ns, snapshot(ws.pack)
    run = ws.build()
    assert run.rc == 0, run.err
    assert "asset pack is current" in run.out
    assert "fetch" not in run.out and "[1/7]" not in run.out
    assert manifest.stat().st_mtime_ns == before_ns
    assert snapshot(ws.pack) == before


def test_force_rebuilds_the_same_pack(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = ws.pack / "manifest.json"
    before_ns = manifest.stat().st_mtime_ns
    old = AssetPack(ws.pack)
    old_meshes = {mid: old.mesh(mid, "full") for mid in MESH_IDS}
    # Without --source the mirror comes from HIPFLEX_SOURCES.
    monkeypatch.setenv("HIPFLEX_SOURCES", str(ws.mirror))
    run = cli("assets", "build", "--force")
    assert run.rc == 0, run.err
    assert "[1/7]" in run.out and "asset pack written" in run.out
    assert manifest.stat().st_mtime_ns != before_ns
    assert cli("assets", "verify").rc == 0
    assert_leftovers_clean(ws.cache)
    new = AssetPack(ws.pack)
    for mid, m in old_meshes.items():  # the pipeline is deterministic
        n = new.mesh(mid, "full")
        np.testing.assert_array_equal(n.faces, m.faces)
        np.testing.assert_allclose(n.vertices, m.vertices, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# The build on synthetic data recovers what was put in (frames, units, registration)


def _h_to_pelvis(pack: AssetPack) -> np.ndarray:
    """Rigid H -> pelvis-frame map from four landmarks whose H positions the design knows."""
    d = ss.design()["knee_r"]
    src = np.array([
        ss.HJC_R, ss.HJC_R * [-1, 1, 1],
        d["VH_M_medial_epicondylar_enthesis_R"].vertices.mean(axis=0),
        d["VH_M_lateral_epicondylar_enthesis_R"].vertices.mean(axis=0),
    ])  # fmt: skip
    lm = pack.landmarks
    names = ("hip_centre_r", "hip_centre_l", "medial_epicondyle_r", "lateral_epicondyle_r")
    dst = np.array([lm[n] for n in names])
    m = kabsch(src, dst)
    assert np.abs(apply(m, src) - dst).max() < 0.001  # hip centres found within 1 mm
    return m


def test_landmarks_and_frames_follow_conventions(ws: Workspace) -> None:
    pack = AssetPack(ws.pack)
    lm = pack.landmarks
    # Pelvis frame: x anterior, y superior, z right, origin mid-ASIS.
    np.testing.assert_allclose((lm["asis_r"] + lm["asis_l"]) / 2, 0, atol=1e-6)
    assert lm["hip_centre_r"][2] > 0.05 and lm["hip_centre_l"][2] < -0.05
    assert lm["asis_r"][0] > lm["psis_r"][0] + 0.05
    assert lm["knee_centre_r"][1] < lm["hip_centre_r"][1] - 0.3
    assert lm["ankle_centre_r"][1] < lm["knee_centre_r"][1] - 0.3
    assert lm["lateral_epicondyle_r"][2] > lm["medial_epicondyle_r"][2]
    assert np.linalg.norm(lm["hip_centre_r"] - lm["hip_centre_l"]) == pytest.approx(0.17, abs=0.001)
    rep = pack.manifest["report"]
    assert rep["scan_pose_deg"]["femoral_head_radius_mm"] == pytest.approx(
        1000 * ss.HEAD_RADIUS, abs=0.5
    )
    assert abs(rep["scan_pose_deg"]["knee_flexion"]) < 5
    for body in BODIES:
        t = pack.body_at_scan(body)
        np.testing.assert_allclose(t[:3, :3] @ t[:3, :3].T, np.eye(3), atol=1e-5)


def test_registration_recovers_the_synthetic_offsets(ws: Workspace) -> None:
    pack = AssetPack(ws.pack)
    to_pelvis = _h_to_pelvis(pack)
    d = ss.design()
    rep = pack.manifest["report"]
    assert rep["spine_registration_median_mm"] < 1.0
    assert rep["mirror_hip_median_mm"] < 1.0
    assert rep["muscle_inside_bone_over_2mm_fraction"] < 0.01
    expected = {mid: d["muscles"][sid] for sid, mid in MUSCLE_SOURCES.items()}
    for mid in MIRRORED:  # the pipeline mirrors the left-only muscles onto the right
        expected[mid] = ss.mirrored(expected[mid])
    expected |= {v: d["vertebrae"][v] for v in build_mod.VERTEBRAE}
    for mid, mesh in expected.items():
        assert pack.mesh_body(mid) == "pelvis"
        got = pack.mesh(mid, "full").vertices
        dist, _ = cKDTree(apply(to_pelvis, mesh.vertices)).query(got)
        assert np.median(dist) < 0.003 and dist.max() < 0.005, (mid, np.median(dist), dist.max())


@pytest.mark.parametrize("mid", MESH_IDS)
def test_meshes_face_outward(ws: Workspace, mid: str) -> None:
    m = AssetPack(ws.pack).mesh(mid, "full")
    mesh = trimesh.Trimesh(m.vertices.astype(float), m.faces, process=False)
    assert mesh.volume > 0, f"{mid}: inside out (signed volume {mesh.volume:.3g} m^3)"


# ---------------------------------------------------------------------------------------------
# 2. Bad input: one line, exit 2, no traceback, the good pack untouched


def _assert_pack_intact(ws: Workspace, before: dict[str, str]) -> None:
    assert snapshot(ws.pack) == before
    assert cli("assets", "verify").rc == 0
    assert_leftovers_clean(ws.cache)


def test_missing_source_file(ws: Workspace) -> None:
    before = snapshot(ws.pack)
    (ws.mirror / ss.entry("vertebra_l2").relpath).unlink()
    run = ws.build("--force")
    assert_one_line_error(
        run, "L2_Schrumpfverpacken.obj", "missing from source location", str(ws.mirror)
    )
    _assert_pack_intact(ws, before)


def test_wrong_checksum(ws: Workspace) -> None:
    before = snapshot(ws.pack)
    e = ss.entry("muscle_psoasmajor")
    data = bytearray(e.data)
    data[200] ^= 0xFF
    ws.replace_source(e.id, bytes(data), fix_recipe=False)
    run = ws.build("--force")
    assert_one_line_error(run, "VHM_Right_Muscle_PsoasMajor_smooth.stl", "sha256 mismatch",
                          f"expected {hashlib.sha256(e.data).hexdigest()}")  # fmt: skip
    _assert_pack_intact(ws, before)


def test_truncated_glb(ws: Workspace) -> None:
    before = snapshot(ws.pack)
    e = ss.entry("pelvis_glb")
    ws.replace_source(e.id, e.data[: len(e.data) // 2], fix_recipe=True)  # only the parse fails
    run = ws.build("--force")
    assert_one_line_error(run, "VH_M_Pelvis.glb", "corrupt or truncated glTF")
    _assert_pack_intact(ws, before)


def test_corrupt_stl(ws: Workspace) -> None:
    before = snapshot(ws.pack)
    garbage = bytes(np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8))
    ws.replace_source("muscle_gluteusmaximus", garbage, fix_recipe=True)
    run = ws.build("--force")
    assert_one_line_error(run, "VHM_Right_Muscle_GluteusMaximus_smooth.stl", "corrupt or truncated")
    _assert_pack_intact(ws, before)


def test_glb_without_expected_node(ws: Workspace) -> None:
    before = snapshot(ws.pack)
    parts = dict(ss.design()["knee_r"])
    del parts["VH_M_lateral_epicondylar_enthesis_R"]
    ws.replace_source("knee_r_glb", ss.glb_bytes(parts), fix_recipe=True)
    run = ws.build("--force")
    assert_one_line_error(run, "VH_M_Knee_R.glb", "expected a mesh node named "
                          "VH_M_lateral_epicondylar_enthesis_R")  # fmt: skip
    _assert_pack_intact(ws, before)


def test_unreachable_url_fails_fast(ws: Workspace) -> None:
    before = snapshot(ws.pack)
    run = cli_with_deadline(20, "assets", "build", "--force", "--source", "https://127.0.0.1:9/")
    assert_one_line_error(run, "VH_M_Pelvis.glb", "cannot download", "https://127.0.0.1:9/")
    assert run.seconds < 10
    _assert_pack_intact(ws, before)


# ---------------------------------------------------------------------------------------------
# 3. verify and info


@pytest.mark.parametrize("damage", ["delete", "modify"])
def test_verify_detects_damage(ws: Workspace, damage: str) -> None:
    victim = ws.pack / "meshes" / "interactive" / "psoas.npz"
    if damage == "delete":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes() + b"\0")
    run = cli("assets", "verify")
    assert run.rc == 1
    assert "meshes/interactive/psoas.npz" in run.err
    assert ("missing" if damage == "delete" else "sha256 differs") in run.err
    # A damaged pack is no longer current, so a plain `assets build` would rebuild it.
    assert not build_mod.is_current(ws.pack, read_recipe(ws.recipe))


def test_info_prints_triangles_and_attribution(ws: Workspace) -> None:
    run = cli("assets", "info")
    assert run.rc == 0, run.err
    tri = json.loads((ws.pack / "manifest.json").read_text())["report"]["triangles"]
    rows = {line.split()[0]: line.split() for line in run.out.splitlines() if line.split()}
    for mid in MESH_IDS:
        assert rows[mid][2:4] == [str(tri["interactive"][mid]), str(tri["full"][mid])]
    total = sum(tri["interactive"].values())
    assert f"default scene, interactive level: {total} triangles" in run.out
    assert ATTRIBUTION.splitlines()[0] in run.out
    assert "Andreassen" in run.out and "HuBMAP" in run.out
    assert ATTRIBUTION_CHANGES in run.out


def test_info_without_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIPFLEX_CACHE", str(tmp_path))
    assert_one_line_error(cli("assets", "info"), "no asset pack here")
    run = cli("assets", "verify")
    assert run.rc == 1 and "no manifest.json" in run.err


# ---------------------------------------------------------------------------------------------
# 4. Interrupted build


def test_interrupted_build_leaves_previous_pack(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(ws.pack)
    real_save = build_mod._save_mesh
    calls: list[Path] = []

    def save_then_interrupt(path: Path, mesh: trimesh.Trimesh) -> None:
        if len(calls) == 5:  # some meshes of the new pack are already on disk
            raise KeyboardInterrupt
        calls.append(path)
        real_save(path, mesh)

    monkeypatch.setattr(build_mod, "_save_mesh", save_then_interrupt)
    run = ws.build("--force")
    assert len(calls) == 5 and all(".pack-build-" in str(p) for p in calls)
    assert run.rc == 130
    assert "Traceback" not in run.out + run.err
    assert run.err.splitlines() == ["hipflex: interrupted"]
    _assert_pack_intact(ws, before)
    assert not any(p.exists() for p in calls)


def test_interrupt_while_swapping_keeps_previous_pack(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(ws.pack)

    def tiny_build(out: Path, fetch_: object, progress: object) -> dict[str, object]:
        (out / "stub.txt").write_text("new pack\n")
        return {}

    renames: list[tuple[str, str]] = []

    def replace(src: Path, dst: Path) -> None:
        renames.append((Path(src).name, Path(dst).name))
        if len(renames) == 2:  # old pack moved aside; the new one not yet in place
            raise KeyboardInterrupt
        os.replace(src, dst)

    monkeypatch.setattr(build_mod, "_build_into", tiny_build)
    monkeypatch.setattr(build_mod, "os", SimpleNamespace(replace=replace))
    run = ws.build("--force")
    assert run.rc == 130 and renames[0] == ("pack", "pack.old")
    _assert_pack_intact(ws, before)


# ---------------------------------------------------------------------------------------------
# 5. Bone distance grids: negative exactly inside the meshes


def winding_number(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    """Generalised winding number of ``points`` (brute force over the faces' solid angles)."""
    tri = np.asarray(mesh.triangles)[None] - np.asarray(points, float)[:, None, None, :]
    a, b, c = tri[:, :, 0], tri[:, :, 1], tri[:, :, 2]
    la, lb, lc = (np.linalg.norm(v, axis=-1) for v in (a, b, c))
    det = np.einsum("pfi,pfi->pf", a, np.cross(b, c))
    dots = (np.einsum("pfi,pfi->pf", a, b) * lc + np.einsum("pfi,pfi->pf", b, c) * la
            + np.einsum("pfi,pfi->pf", c, a) * lb)  # fmt: skip
    return np.asarray(np.arctan2(det, la * lb * lc + dots).sum(axis=1) / (2 * np.pi))


def _cell_centres(grid: SignedDistanceGrid) -> np.ndarray:
    idx = np.indices(grid.values.shape).reshape(3, -1).T
    return np.asarray(grid.origin + idx * grid.pitch).reshape(*grid.values.shape, 3)


def test_grid_is_negative_inside_overlapping_shells() -> None:
    """Two boxes, one's end buried in the other, as neighbouring vertebrae or the sacrum and
    ilium overlap in the real pack. Cells inside the first box but near the second's buried
    face are inside bone; the old sign, a vote of the nearest samples' normals, read them as
    up to 6 mm outside (4862 such cells in the real pelvis grid)."""
    lo_a, hi_a = np.array([0.0, 0.0, 0.0]), np.array([0.0403, 0.0301, 0.0299])
    lo_b, hi_b = np.array([0.0284, 0.0032, 0.0031]), np.array([0.0682, 0.0269, 0.0268])
    boxes = [trimesh.creation.box(bounds=[lo, hi]) for lo, hi in ((lo_a, hi_a), (lo_b, hi_b))]
    grid = SignedDistanceGrid.from_meshes(boxes)
    p = _cell_centres(grid)
    inside = np.zeros(grid.values.shape, bool)
    on_face = np.zeros(grid.values.shape, bool)  # the grid starts a margin before the low faces
    for lo, hi in ((lo_a, hi_a), (lo_b, hi_b)):
        inside |= np.all((p > lo) & (p < hi), axis=-1)
        on_face |= np.any((np.abs(p - lo) < 1e-9) | (np.abs(p - hi) < 1e-9), axis=-1)
    buried = inside & (p[..., 0] > lo_b[0] - 0.006) & (p[..., 0] < lo_b[0])  # before B's face
    assert np.count_nonzero(buried & (grid.values != 0)) > 100
    decided = (grid.values != 0) & ~on_face  # cells holding a surface sample read 0
    wrong = decided & ((grid.values < 0) != inside)
    assert not wrong.any(), f"{wrong.sum()} cells of the wrong sign, e.g. at {p[wrong][:3]}"


def test_ray_votes_are_the_winding_number_of_closed_meshes() -> None:
    """On closed, outward-facing shells (overlapping, tilted off the grid's axes) all six rays
    of every cell agree, and they agree with the winding number summed over solid angles."""
    tilt = trimesh.transformations.rotation_matrix(0.5, [1.0, 2.0, 3.0])
    shells = [
        trimesh.creation.icosphere(subdivisions=2, radius=0.012),
        trimesh.creation.box(extents=[0.03, 0.008, 0.006], transform=tilt),
        trimesh.creation.capsule(height=0.02, radius=0.004, count=[10, 6]),
    ]
    shells[2].apply_translation([0.0, 0.0, 0.012])
    origin, pitch, shape = np.array([-0.025, -0.025, -0.025]), 0.0015, (34, 35, 36)
    votes = ray_inside_votes(shells, origin, pitch, shape)
    assert set(np.unique(votes)) == {0, 6}
    rng = np.random.default_rng(5)
    cells = rng.integers(0, shape, size=(1500, 3))
    wind = sum(winding_number(s, origin + cells * pitch) for s in shells)
    np.testing.assert_allclose(wind, np.round(wind), atol=1e-6)  # no cell on a surface
    assert np.count_nonzero(wind > 0.5) > 60
    np.testing.assert_array_equal(votes[tuple(cells.T)] == 6, wind > 0.5)


def test_a_hole_in_the_surface_does_not_flip_the_inside() -> None:
    """A sphere missing two faces: the rays through the hole miscount, the others outvote them."""
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.02)
    sphere.update_faces(np.arange(len(sphere.faces)) > 1)
    assert not sphere.is_watertight
    grid = SignedDistanceGrid.from_meshes([sphere])
    r = np.linalg.norm(_cell_centres(grid), axis=-1)
    away = np.abs(r - 0.02) > 0.002
    assert np.all((grid.values[away] < 0) == (r[away] < 0.02))


def test_an_open_bone_end_is_closed_on_its_articular_patches() -> None:
    """A rod whose rounded end is missing, with that end given as two patches 1.2 mm apart (as
    the HuBMAP femur and its cartilage and condyle patches are): the result is one closed,
    outward-facing surface through the patches, the rod above the cut is kept as it was, and
    a fan from the rim's centroid (the old closure) is not what comes out."""
    from hipflex.assets.geometry import cap_holes, close_articular_surface

    radius = 0.02
    capsule = trimesh.creation.capsule(height=0.08, radius=radius, count=[48, 48])  # along z
    rod = trimesh.Trimesh(*trimesh.remesh.subdivide_to_size(capsule.vertices, capsule.faces, 0.003))
    centres = rod.triangles_center
    end = centres[:, 2] < -0.04  # the lower hemisphere
    bone = trimesh.Trimesh(rod.vertices, rod.faces[~end])
    bone.remove_unreferenced_vertices()
    # the end in two patches with a gap between them, 1.2 mm wide along x
    left = centres[:, 0] < -0.0006
    right = centres[:, 0] > 0.0006
    patches = [trimesh.Trimesh(rod.vertices, rod.faces[end & side]) for side in (left, right)]
    closed = close_articular_surface(bone, patches, up=np.array([0.0, 0.0, 1.0]))
    assert closed.is_watertight and closed.is_winding_consistent and closed.volume > 0
    # on the patches: every patch sample within 0.4 mm of the surface
    samples, _ = trimesh.sample.sample_surface(closed, 300_000, seed=0)
    tree = cKDTree(samples)
    patch_pts = np.vstack([trimesh.sample.sample_surface(p, 2000, seed=1)[0] for p in patches])
    assert np.percentile(tree.query(patch_pts)[0], 99) < 0.4e-3
    assert abs(closed.volume - rod.volume) / rod.volume < 0.02
    # the rod above the cut keeps the input's own vertices
    high = np.asarray(bone.vertices)[np.asarray(bone.vertices)[:, 2] > 0.0]
    assert cKDTree(closed.vertices).query(high)[0].max() < 1e-9
    # the centroid fan (what the pipeline did before) cuts 12 mm inside the rounded end
    fan = cap_holes(bone)
    fan_samples, _ = trimesh.sample.sample_surface(fan, 300_000, seed=0)
    assert np.percentile(cKDTree(fan_samples).query(patch_pts)[0], 99) > 5e-3
