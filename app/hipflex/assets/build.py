"""Build the HipFlex asset pack from the pinned public sources.

Frames. The HuBMAP bone set ("H": metres, +X left, +Y superior, +Z anterior) is the reference;
the muscle set (mm, +x left, +y anterior, +z inferior) and the ArtiSynth vertebra set (m, +x
anterior, +y left, +z superior) are turned into H by fixed axis permutations and then rigidly
registered to the bones. Everything is finally expressed in body frames of the OpenSim/ISB kind
(x anterior, y superior, z right, metres): pelvis (the model frame), femur, tibia.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trimesh

from hipflex.assets import geometry as g
from hipflex.assets.geometry import Array, homogeneous
from hipflex.assets.sources import SourceFile, fetch, read_recipe
from hipflex.errors import AssetError

PIPELINE_VERSION = "1.7"  # 1.7: the patella is a body of its own, with its own distance grid
# (1.6: the femur's articular surface closed from its patches; 1.5: grid sign from ray winding
# numbers; 1.4: attribution text)

# The HuBMAP knee file's patches that lie on the femur's articular surface and its margins
# (the femur mesh itself is open there)
FEMUR_ARTICULAR_PATCHES = (
    "VH_M_articular_cartilage_of_knee_R", "VH_M_intercondylar_fossa_R",
    "VH_M_anterior_cruciate_enthesis_R", "VH_M_posterior_cruciate_enthesis_R",
    "VH_M_lateral_condyle_of_femur_frontal_R", "VH_M_lateral_condyle_of_femur_inf_R",
    "VH_M_lateral_condyle_of_femur_sup_R", "VH_M_lateral_epicondylar_enthesis_R",
    "VH_M_lateral_perichondular_surface_R", "VH_M_distal_most_point_of_medial_condyle_of_femur_R",
    "VH_M_medial_condyle_of_right_femur_inf", "VH_M_medial_condyle_of_right_femur_sup",
    "VH_M_medial_epicondylar_enthesis_R", "VH_M_medial_perichondular_surface_R",
    "VH_M_patellar_surface_R",
)  # fmt: skip

Progress = Callable[[str], None]

# Axis permutations into the HuBMAP frame (rows: H axes in terms of source axes).
MUSCLE_TO_H = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]) / 1000.0
SPINE_TO_H = np.array([[0.0, 1, 0], [0, 0, 1], [1, 0, 0]])

# Muscle source id -> HipFlex mesh id (right side; *_left are mirrored).
MUSCLE_SOURCES = {
    "muscle_illiacus": "iliacus",
    "muscle_psoasmajor": "psoas",
    "muscle_rectusfemoris_left": "rectus_femoris",
    "muscle_sartorius_left": "sartorius",
    "muscle_tensorfasciaelatae": "tensor_fasciae_latae",
    "muscle_pectineus": "pectineus",
    "muscle_adductorlongus": "adductor_longus",
    "muscle_adductorbrevis": "adductor_brevis",
    "muscle_adductormagnus": "adductor_magnus",
    "muscle_gracilis": "gracilis",
    "muscle_gluteusmaximus": "gluteus_maximus",
    "muscle_gluteusmedius": "gluteus_medius",
    "muscle_gluteusminimus": "gluteus_minimus",
    "muscle_piriformis": "piriformis",
    "muscle_bicepsfemorislong": "biceps_femoris_long_head",
    "muscle_semitendinosus": "semitendinosus",
    "muscle_semimembranosus": "semimembranosus",
}
VERTEBRAE = ("l1", "l2", "l3", "l4", "l5")

# Which body frame each bone mesh is stored in.
BONE_BODY = {
    "hip_r": "pelvis", "hip_l": "pelvis", "sacrum": "pelvis",
    **{v: "pelvis" for v in VERTEBRAE},
    "femur_r": "femur_r", "patella_r": "patella_r", "tibia_r": "tibia_r", "fibula_r": "tibia_r",
}  # fmt: skip

# Interactive-level triangle budgets: the default scene (all bones + all muscles) stays
# under 150k triangles so software rendering keeps up with a slider.
INTERACTIVE_FACES = {
    "hip_r": 9000, "hip_l": 9000, "sacrum": 8000, "femur_r": 10000, "patella_r": 1500,
    "tibia_r": 3500, "fibula_r": 3000, **{v: 3500 for v in VERTEBRAE},
}  # fmt: skip
INTERACTIVE_MUSCLE_FACES = 4500

ATTRIBUTION_CHANGES = (
    "Changes made by HipFlex: units converted to metres; all sets expressed in one ISB-style "
    "frame (x anterior, y superior, z right); the muscle and vertebra sets rigidly registered to "
    "the HuBMAP bones; hip-bone parts merged per side; left rectus femoris and sartorius mirrored "
    "to the right side; meshes decimated for interactive display."
)


def _source_key(sources: list[SourceFile]) -> str:
    h = hashlib.sha256(PIPELINE_VERSION.encode())
    for s in sorted(sources, key=lambda s: s.id):
        h.update(f"{s.id}:{s.sha256}".encode())
    return h.hexdigest()


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unit(v: Array) -> Array:
    return np.asarray(v / np.linalg.norm(v), float)


def _frame(origin: Array, x: Array, y: Array, z: Array) -> Array:
    """4x4 taking H coordinates into the body frame with these axes (given in H)."""
    rot = np.vstack([x, y, z])
    return homogeneous(rot, -rot @ origin)


def _save_mesh(path: Path, mesh: trimesh.Trimesh) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(
            fh,
            vertices=np.asarray(mesh.vertices, np.float32),
            faces=np.asarray(mesh.faces, np.int32),
        )


class _Fetcher:
    def __init__(self, location: str, sources: list[SourceFile], progress: Progress) -> None:
        self.location = location
        self.by_id = {s.id: s for s in sources}
        self.progress = progress
        self.cache: dict[str, bytes] = {}

    def __call__(self, source_id: str) -> bytes:
        if source_id not in self.by_id:
            raise AssetError(f"recipe: no source with id {source_id!r}")
        if source_id not in self.cache:
            self.cache[source_id] = fetch(self.location, self.by_id[source_id])
        return self.cache[source_id]

    def fetch_all(self) -> None:
        n = len(self.by_id)
        for k, sid in enumerate(self.by_id, 1):
            self.progress(f"  fetch {k}/{n}: {self.by_id[sid].path}")
            self(sid)


def is_current(pack: Path, sources: list[SourceFile]) -> bool:
    """True when ``pack`` was built by this pipeline from exactly these sources and verifies."""
    from hipflex.assets.pack import verify_pack

    manifest = pack / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return data.get("source_key") == _source_key(sources) and not verify_pack(pack)


def build_pack(
    location: str,
    pack: Path,
    recipe: Path,
    force: bool = False,
    progress: Progress = print,
) -> bool:
    """Build the pack into ``pack`` atomically; return False if it was already current."""
    sources = read_recipe(recipe)
    if not force and is_current(pack, sources):
        progress(f"asset pack is current: {pack}")
        return False
    started = time.perf_counter()
    fetcher = _Fetcher(location, sources, progress)
    progress(f"[1/7] fetching {len(sources)} source files from {location}")
    fetcher.fetch_all()
    pack.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pack-build-", dir=pack.parent))
    old = pack.with_name(pack.name + ".old")
    try:
        report = _build_into(tmp, fetcher, progress)
        report["build_seconds"] = round(time.perf_counter() - started, 1)
        _write_manifest(tmp, sources, report)
        if old.exists():
            shutil.rmtree(old)
        if pack.exists():
            os.replace(pack, old)
        os.replace(tmp, pack)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if old.exists() and not pack.exists():  # stopped mid-swap: put the previous pack back
            os.replace(old, pack)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress(f"asset pack written: {pack} ({report['build_seconds']} s)")
    return True


def _build_into(out: Path, fetch_: _Fetcher, progress: Progress) -> dict[str, object]:
    report: dict[str, object] = {}
    progress("[2/7] reading bones (HuBMAP VH Male pelvis and knees)")
    pelvis = g.load_scene_parts(fetch_("pelvis_glb"), "VH_M_Pelvis.glb")
    knee_r = g.load_scene_parts(fetch_("knee_r_glb"), "VH_M_Knee_R.glb")
    knee_l = g.load_scene_parts(fetch_("knee_l_glb"), "VH_M_Knee_L.glb")

    def part(parts: dict[str, trimesh.Trimesh], name: str, file: str) -> trimesh.Trimesh:
        if name not in parts:
            raise AssetError(f"{file}: expected a mesh node named {name}")
        return parts[name]

    bones: dict[str, trimesh.Trimesh] = {}
    for side, s in (("r", "R"), ("l", "L")):
        bones[f"hip_{side}"] = g.merge(
            [part(pelvis, f"VH_M_{p}_compact_bone_{s}", "VH_M_Pelvis.glb")
             for p in ("ilium", "ischium", "pubis")]
        )  # fmt: skip
    bones["sacrum"] = g.merge(
        [
            part(pelvis, "VH_M_sacrum", "VH_M_Pelvis.glb"),
            part(pelvis, "VH_M_coccyx", "VH_M_Pelvis.glb"),
        ]
    )
    for bone, node in (("patella_r", "patella"), ("tibia_r", "tibia"), ("fibula_r", "fibula")):
        bones[bone] = g.cap_holes(part(knee_r, f"VH_M_{node}_R", "VH_M_Knee_R.glb"))
    # the femur is open over its articular surface; the same file's cartilage and condyle
    # patches close it (+Y is superior in the HuBMAP files)
    articular = [part(knee_r, name, "VH_M_Knee_R.glb") for name in FEMUR_ARTICULAR_PATCHES]
    bones["femur_r"] = g.close_articular_surface(
        part(knee_r, "VH_M_femur_R", "VH_M_Knee_R.glb"), articular, up=np.array([0.0, 1.0, 0.0])
    )
    report["femur_articular_patches_to_surface_mm"] = {
        k: round(1000 * v, 2)
        for k, v in zip(("median", "p99"), g.surface_gap(articular, bones["femur_r"]), strict=True)
    }
    femur_l = part(knee_l, "VH_M_femur_L", "VH_M_Knee_L.glb")
    med_epi = part(knee_r, "VH_M_medial_epicondylar_enthesis_R", "VH_M_Knee_R.glb")
    lat_epi = part(knee_r, "VH_M_lateral_epicondylar_enthesis_R", "VH_M_Knee_R.glb")

    progress("[3/7] registering L1-L5 to the sacrum (ICP on S1/sacrum)")
    spine = {v: g.load_single_mesh(fetch_(f"vertebra_{v}"), f"{v.upper()}_Schrumpfverpacken.obj", "obj")
             for v in (*VERTEBRAE, "s1")}  # fmt: skip
    rot = g.homogeneous(SPINE_TO_H)
    start = (
        g.homogeneous(
            np.eye(3), bones["sacrum"].centroid - g.transformed(spine["s1"], rot).centroid
        )
        @ rot
    )
    sacrum_target = g.SurfaceSampler([bones["sacrum"]])
    spine_m = g.trimmed_icp(spine["s1"].vertices, sacrum_target, start,
                            thresholds=(0.02, 0.01, 0.005, 0.003), iterations=10)  # fmt: skip
    dist, _ = sacrum_target.closest(g.apply(spine_m, spine["s1"].vertices))
    report["spine_registration_median_mm"] = round(float(np.median(dist)) * 1000, 2)
    for v in VERTEBRAE:
        bones[v] = g.transformed(spine[v], spine_m)

    progress("[4/7] registering the muscle set to the bones (contact search + trimmed ICP)")
    muscles_raw = {
        mid: g.load_single_mesh(fetch_(sid), fetch_.by_id[sid].path.rsplit("/", 1)[-1], "stl")
        for sid, mid in MUSCLE_SOURCES.items()
    }
    to_h = g.homogeneous(MUSCLE_TO_H)
    contact_bones = [bones[b] for b in ("hip_r", "sacrum", "femur_r")]
    sdf = g.SignedDistanceGrid.from_meshes(contact_bones, pitch=0.0015)
    right = [m for mid, m in muscles_raw.items() if mid not in ("rectus_femoris", "sartorius")]
    right_pts = g.apply(to_h, np.vstack([m.vertices for m in right]))
    # Start: the iliacus lines the iliac fossa, so its upper, medial, anterior extremes sit
    # just inside those of the right ilium.
    il = g.apply(to_h, muscles_raw["iliacus"].vertices)
    ilium = bones["hip_r"].vertices[
        bones["hip_r"].vertices[:, 1] > np.median(bones["hip_r"].vertices[:, 1])
    ]
    start_t = np.array([
        ilium[:, 0].max() - il[:, 0].max(),
        ilium[:, 1].max() - il[:, 1].max(),
        ilium[:, 2].max() - il[:, 2].max(),
    ])  # fmt: skip
    t = g.translation_search(right_pts, sdf, start_t)
    bone_target = g.SurfaceSampler(contact_bones)
    muscle_m = g.trimmed_icp(right_pts, bone_target, g.homogeneous(np.eye(3), t)) @ to_h
    moved = g.apply(muscle_m, np.vstack([m.vertices for m in right]))
    d = sdf(moved)
    contact = np.abs(d) < 0.003
    report["muscle_registration_median_mm"] = round(float(np.median(np.abs(d[contact]))) * 1000, 2)
    report["muscle_contact_fraction"] = round(float(contact.mean()), 3)
    report["muscle_inside_bone_over_2mm_fraction"] = round(float(np.mean(d < -0.002)), 4)

    progress("[5/7] mirroring left rectus femoris and sartorius to the right side")
    reflect = g.homogeneous(np.diag([-1.0, 1.0, 1.0]))
    hip_l_mirrored = g.apply(reflect, bones["hip_l"].vertices)
    hip_r_target = g.SurfaceSampler([bones["hip_r"]])
    start = g.homogeneous(
        np.eye(3), bones["hip_r"].centroid - g.transformed(bones["hip_l"], reflect).centroid
    )
    fit = g.trimmed_icp(hip_l_mirrored, hip_r_target, start,
                        thresholds=(0.02, 0.01, 0.005, 0.003), iterations=10)  # fmt: skip
    mirror_m = fit @ reflect
    dist, _ = hip_r_target.closest(g.apply(mirror_m, bones["hip_l"].vertices))
    report["mirror_hip_median_mm"] = round(float(np.median(dist)) * 1000, 2)
    muscles: dict[str, trimesh.Trimesh] = {}
    for mid, mesh in muscles_raw.items():
        m = muscle_m if mid not in ("rectus_femoris", "sartorius") else mirror_m @ muscle_m
        muscles[mid] = g.transformed(mesh, m)  # trimesh fixes the winding of reflections

    progress("[6/7] landmarks and body frames")
    landmarks_h, frames, scan = _landmarks_and_frames(bones, femur_l, med_epi, lat_epi)
    report["scan_pose_deg"] = scan

    progress("[7/7] writing meshes (full and interactive levels) and bone distance grids")
    counts: dict[str, dict[str, int]] = {"full": {}, "interactive": {}}
    body_of: dict[str, str] = {}
    for mid, mesh in {**bones, **muscles}.items():
        body = BONE_BODY.get(mid, "pelvis")
        body_of[mid] = body
        local = g.transformed(mesh, frames[body])
        budget = INTERACTIVE_FACES.get(mid, INTERACTIVE_MUSCLE_FACES)
        for level, lod in (("full", local), ("interactive", g.decimate(local, budget))):
            _save_mesh(out / "meshes" / level / f"{mid}.npz", lod)
            counts[level][mid] = len(lod.faces)
    bodies_bones = {
        "pelvis": ["hip_r", "hip_l", "sacrum", *VERTEBRAE],
        "femur_r": ["femur_r"],
        "tibia_r": ["tibia_r", "fibula_r"],
        "patella_r": ["patella_r"],
    }
    for body, names in bodies_bones.items():
        grid = g.SignedDistanceGrid.from_meshes(
            [g.transformed(bones[n], frames[body]) for n in names], pitch=0.0015, margin=0.02
        )
        with open(out / f"sdf_{body}.npz", "wb") as fh:
            np.savez_compressed(
                fh, origin=grid.origin, pitch=grid.pitch,
                values_mm10=np.clip(np.round(grid.values * 1e4), -32000, 32000).astype(np.int16),
            )  # fmt: skip

    pelvis_from_h = frames["pelvis"]
    landmarks = {
        k: g.apply(pelvis_from_h, v[None])[0].round(5).tolist() for k, v in landmarks_h.items()
    }
    bodies = {
        name: {"pelvis_from_body_at_scan": (pelvis_from_h @ np.linalg.inv(m)).round(7).tolist()}
        for name, m in frames.items()
    }
    (out / "landmarks.json").write_text(json.dumps(landmarks, indent=1))
    (out / "bodies.json").write_text(json.dumps({"bodies": bodies, "mesh_body": body_of}, indent=1))
    report["triangles"] = counts
    report["default_scene_interactive_triangles"] = sum(counts["interactive"].values())
    _write_attribution(out, fetch_)
    return report


def _landmarks_and_frames(
    bones: dict[str, trimesh.Trimesh],
    femur_l: trimesh.Trimesh,
    med_epi: trimesh.Trimesh,
    lat_epi: trimesh.Trimesh,
) -> tuple[dict[str, Array], dict[str, Array], dict[str, float]]:
    """Hip centres (head sphere fits), knee axis, ankle, ASIS/PSIS/symphysis; body frames."""

    def head_centre(femur: trimesh.Trimesh, hip: trimesh.Trimesh) -> tuple[Array, float]:
        sampler = g.SurfaceSampler([hip], spacing=0.0015)
        v = femur.vertices
        d, _ = sampler.closest(v)
        centre, radius = g.fit_sphere(v[d < 0.006])
        for _ in range(3):
            shell = np.abs(np.linalg.norm(v - centre, axis=1) - radius) < 0.003
            near = np.linalg.norm(v - centre, axis=1) < radius * 1.3
            centre, radius = g.fit_sphere(v[shell & near])
        return centre, radius

    hjc_r, rad_r = head_centre(bones["femur_r"], bones["hip_r"])
    hjc_l, _ = head_centre(femur_l, bones["hip_l"])
    epi_m = med_epi.vertices.mean(axis=0)
    epi_l = lat_epi.vertices.mean(axis=0)
    knee = (epi_m + epi_l) / 2
    tib, fib = bones["tibia_r"].vertices, bones["fibula_r"].vertices
    ankle = (tib[np.argmin(tib[:, 1])] + fib[np.argmin(fib[:, 1])]) / 2

    def ilium_points(hip: trimesh.Trimesh, hjc: Array) -> tuple[Array, Array]:
        v = hip.vertices
        upper = v[v[:, 1] > hjc[1] + 0.03]
        return upper[np.argmax(upper[:, 2])], upper[np.argmin(upper[:, 2])]

    asis_r, psis_r = ilium_points(bones["hip_r"], hjc_r)
    asis_l, psis_l = ilium_points(bones["hip_l"], hjc_l)
    vr, vl = bones["hip_r"].vertices, bones["hip_l"].vertices
    low_r, low_l = vr[vr[:, 1] < hjc_r[1]], vl[vl[:, 1] < hjc_l[1]]
    symphysis = (low_r[np.argmax(low_r[:, 0])] + low_l[np.argmin(low_l[:, 0])]) / 2

    # Pelvis (ISB): origin mid-ASIS, z toward the right ASIS, x anterior in the ASIS/PSIS plane.
    mid_asis, mid_psis = (asis_r + asis_l) / 2, (psis_r + psis_l) / 2
    z = _unit(asis_r - asis_l)
    x = _unit((mid_asis - mid_psis) - ((mid_asis - mid_psis) @ z) * z)
    pelvis = _frame(mid_asis, x, np.cross(z, x), z)
    # Femur: origin hip centre, y from knee centre to hip centre, z lateral (to the right).
    yf = _unit(hjc_r - knee)
    zf = _unit((epi_l - epi_m) - ((epi_l - epi_m) @ yf) * yf)
    femur = _frame(hjc_r, np.cross(yf, zf), yf, zf)
    # Tibia: origin knee centre, y from ankle centre to knee centre, z along the knee axis.
    yt = _unit(knee - ankle)
    zt = _unit(zf - (zf @ yt) * yt)
    tibia = _frame(knee, np.cross(yt, zt), yt, zt)

    def angles(child: Array, parent: Array) -> Array:
        rel = parent[:3, :3] @ child[:3, :3].T  # parent-from-child rotation
        # body-fixed Z (flexion), X (adduction), Y (rotation): R = Rz Rx Ry
        ad = np.arcsin(np.clip(rel[2, 1], -1, 1))
        fl = np.arctan2(-rel[0, 1], rel[1, 1])
        ro = np.arctan2(-rel[2, 0], rel[2, 2])
        return np.degrees([fl, ad, ro])

    hip = angles(femur, pelvis)
    knee_rel = angles(tibia, femur)
    scan = {
        "hip_flexion": round(float(hip[0]), 2),
        "hip_adduction": round(float(hip[1]), 2),
        "hip_rotation": round(float(hip[2]), 2),
        "knee_flexion": round(float(-knee_rel[0]), 2),
        "femoral_head_radius_mm": round(rad_r * 1000, 2),
    }
    landmarks = {
        "hip_centre_r": hjc_r, "hip_centre_l": hjc_l, "knee_centre_r": knee,
        "medial_epicondyle_r": epi_m, "lateral_epicondyle_r": epi_l, "ankle_centre_r": ankle,
        "asis_r": asis_r, "asis_l": asis_l, "psis_r": psis_r, "psis_l": psis_l,
        "pubic_symphysis": symphysis,
    }  # fmt: skip
    # the patella's frame is the tibia's as scanned: its mesh keeps the tibia-frame coordinates
    # it had when it moved with the tibia, and the model's patellofemoral coupling places it
    return landmarks, {"pelvis": pelvis, "femur_r": femur, "tibia_r": tibia, "patella_r": tibia}, scan


def _write_attribution(out: Path, fetch_: _Fetcher) -> None:
    from hipflex.attribution import ATTRIBUTION

    (out / "ATTRIBUTION.md").write_text(ATTRIBUTION + "\n\n" + ATTRIBUTION_CHANGES + "\n")
    lic = out / "licenses"
    lic.mkdir()
    for sid in ("ccf_license", "artisynth_license", "opensim_license", "vhm_surfaces_readme"):
        if sid in fetch_.by_id:
            s = fetch_.by_id[sid]
            (lic / f"{s.owner}__{s.repo}__{s.path.replace('/', '_')}").write_bytes(fetch_(sid))


def _write_manifest(out: Path, sources: list[SourceFile], report: dict[str, object]) -> None:
    files = {
        str(p.relative_to(out)): _sha256_file(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }
    manifest = {
        "pipeline_version": PIPELINE_VERSION,
        "source_key": _source_key(sources),
        "sources": {s.id: s.sha256 for s in sources},
        "files": files,
        "report": report,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
