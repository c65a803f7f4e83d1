"""A tiny synthetic stand-in for the anatomy-source mirror, for pipeline tests.

``make_mirror(root)`` writes, below ``root``, a mirror laid out ``<owner>/<repo>/<path>`` like
``../shared/anatomy-sources`` and a matching recipe TOML (same ids, paths, sizes and sha256 as
the real one would have for these bytes), and returns ``(mirror_dir, recipe_path)``.

The geometry is a crude but anatomically arranged skeleton made of a few hundred triangles per
part, so that every step of ``hipflex.assets.build`` has something meaningful to work on:

* HuBMAP GLBs (metres; +X subject's left, +Y superior, +Z anterior), real glTF binaries with
  named nodes: each hip bone as ilium/ischium/pubis parts with a hemispherical acetabular cup,
  sacrum and coccyx; a femur whose spherical head sits in the cup, patella, tibia, fibula and
  two epicondylar patches; the left femur as the mirror image of the right.
* Muscle STLs (millimetres; +x left, +y anterior, +z inferior): capsules whose ends touch the
  bones, then shifted by ``MUSCLE_OFFSET_MM`` (the registration has to find it again); the
  rectus femoris and sartorius exist only on the LEFT, like upstream.
* ArtiSynth OBJs (metres; +x anterior, +y left, +z superior, own origin ``SPINE_OFFSET_M``):
  L1-L5 as body + spinous-process boxes stacked above the sacrum, and S1 shaped like the sacrum
  (same surface, different tessellation).

Everything is deterministic, so the sha256 values are stable between runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from hipflex.assets.build import FEMUR_ARTICULAR_PATCHES

# Offsets the pipeline has to recover (source frame units).
MUSCLE_OFFSET_MM = np.array([7.0, -12.0, 880.0])
SPINE_OFFSET_M = np.array([0.031, -0.004, -0.915])

# Right hip joint centre and femoral head radius in H (metres).
HJC_R = np.array([-0.085, 0.0, 0.0])
HEAD_RADIUS = 0.024

HUBMAP = ("hubmapconsortium", "ccf-3d-reference-object-library",
          "f1a3a63f110e27ff0736047d52d04dba5d3087f9")  # fmt: skip
MUSCLE = ("ingvilddevold", "muscle-growth", "e299f62095269cdca60155eae9cf05440469c528")
SPINE = ("RemusR9", "artisynth_lumbosacralSpineModel", "0" * 40)
SPINE_DIR = "hybrid_LSS_model/src/artisynth/models/passiveComponents_PlosOne/geometry/RB"

# Upstream muscle file stem (as in meshes/sources.toml) for each recipe id.
MUSCLE_FILES = {
    "muscle_illiacus": "Right/VHM_Right_Muscle_Illiacus",
    "muscle_psoasmajor": "Right/VHM_Right_Muscle_PsoasMajor",
    "muscle_tensorfasciaelatae": "Right/VHM_Right_Muscle_TensorFasciaeLatae",
    "muscle_pectineus": "Right/VHM_Right_Muscle_Pectineus",
    "muscle_adductorlongus": "Right/VHM_Right_Muscle_AdductorLongus",
    "muscle_adductorbrevis": "Right/VHM_Right_Muscle_AdductorBrevis",
    "muscle_adductormagnus": "Right/VHM_Right_Muscle_AdductorMagnus",
    "muscle_gracilis": "Right/VHM_Right_Muscle_Gracilis",
    "muscle_gluteusmaximus": "Right/VHM_Right_Muscle_GluteusMaximus",
    "muscle_gluteusmedius": "Right/VHM_Right_Muscle_GluteusMedius",
    "muscle_gluteusminimus": "Right/VHM_Right_Muscle_GluteusMinimus",
    "muscle_bicepsfemorislong": "Right/VHM_Right_Muscle_BicepsFemorisLong",
    "muscle_semimembranosus": "Right/VHM_Right_Muscle_Semimembranosus",
    "muscle_semitendinosus": "Right/VHM_Right_Muscle_Semitendinosus",
    "muscle_piriformis": "Right/VHM_Right_Muscle_Piriformis",
    "muscle_rectusfemoris_left": "Left/VHM_Left_Muscle_RectusFemoris",
    "muscle_sartorius_left": "Left/VHM_Left_Muscle_Sartorius",
}


@dataclass(frozen=True)
class Entry:
    """One recipe [[file]] entry plus the bytes the mirror holds for it."""

    id: str
    owner: str
    repo: str
    commit: str
    path: str
    license: str
    data: bytes

    @property
    def relpath(self) -> str:
        return f"{self.owner}/{self.repo}/{self.path}"


# ---------------------------------------------------------------------------------------------
# Small mesh helpers (all in H unless said otherwise)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def capsule_between(p0, p1, radius: float, count=(10, 6)) -> trimesh.Trimesh:
    """A capsule whose axis runs from ``p0`` to ``p1``."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = p1 - p0
    mesh = trimesh.creation.capsule(height=float(np.linalg.norm(axis)), radius=radius,
                                    count=list(count))  # fmt: skip
    m = trimesh.geometry.align_vectors([0.0, 0.0, 1.0], _unit(axis))
    m[:3, 3] = (p0 + p1) / 2
    mesh.apply_transform(m)
    return mesh


def sphere(centre, radius: float, subdivisions: int = 1, scale=(1.0, 1.0, 1.0)) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    mesh.apply_scale(scale)
    mesh.apply_translation(centre)
    return mesh


def box(centre, extents) -> trimesh.Trimesh:
    return trimesh.creation.box(
        extents=extents, transform=trimesh.transformations.translation_matrix(centre)
    )


def hull(points, thickness: float = 0.0) -> trimesh.Trimesh:
    """Convex hull of points (each optionally doubled +-thickness/2 along X)."""
    pts = np.asarray(points, float)
    if thickness:
        d = np.array([thickness / 2, 0.0, 0.0])
        pts = np.vstack([pts - d, pts + d])
    return trimesh.convex.convex_hull(pts)


def cup(centre, axis, inner: float, outer: float, sections: int = 16) -> trimesh.Trimesh:
    """A closed hemispherical shell (acetabulum) whose pole lies along ``axis`` from ``centre``."""
    th = np.linspace(0.0, np.pi / 2, 7)
    outer_arc = np.c_[outer * np.cos(th), outer * np.sin(th)]
    inner_arc = np.c_[inner * np.cos(th[::-1]), inner * np.sin(th[::-1])]
    mesh = trimesh.creation.revolve(np.vstack([outer_arc, inner_arc, outer_arc[:1]]),
                                    sections=sections)  # fmt: skip
    m = trimesh.geometry.align_vectors([0.0, 0.0, 1.0], _unit(axis))
    m[:3, 3] = centre
    mesh.apply_transform(m)
    return mesh


def concat(*meshes: trimesh.Trimesh) -> trimesh.Trimesh:
    out = trimesh.util.concatenate(list(meshes))
    assert isinstance(out, trimesh.Trimesh)
    return out


MIRROR_X = np.diag([-1.0, 1.0, 1.0, 1.0])


def mirrored(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Left-right mirror image (trimesh flips the winding back, so normals stay outward)."""
    out = mesh.copy()
    out.apply_transform(MIRROR_X)
    return out


def uniform(mesh: trimesh.Trimesh, max_edge: float = 0.009) -> trimesh.Trimesh:
    """Re-tessellate to edges of at most ``max_edge`` (like a scan: vertex mean ~ area centroid)."""
    v, f = trimesh.remesh.subdivide_to_size(mesh.vertices, mesh.faces, max_edge=max_edge)
    return trimesh.Trimesh(v, f, process=True)


def _closest_on(
    bones: list[trimesh.Trimesh], near
) -> tuple[trimesh.Trimesh, np.ndarray, np.ndarray]:
    """The bone, surface point and face normal closest to ``near`` (brute force: no rtree)."""
    near = np.asarray(near, float)
    best = None
    for bone in bones:
        pts = trimesh.triangles.closest_point(
            bone.triangles, np.repeat(near[None], len(bone.faces), 0)
        )
        k = int(np.argmin(np.linalg.norm(pts - near, axis=1)))
        dist = float(np.linalg.norm(pts[k] - near))
        if best is None or dist < best[0]:
            best = (dist, bone, pts[k], bone.face_normals[k])
    assert best is not None
    return best[1], best[2], best[3]


def attachment(bones: list[trimesh.Trimesh], near, thickness: float, seed: int,
               radius: float = 0.010, count: int = 24) -> np.ndarray:  # fmt: skip
    """Points of a muscle attachment: a patch 0.8 mm off the bone surface nearest ``near``
    (these touch the bone) and the same patch lifted by ``thickness`` (the muscle belly)."""
    bone, centre, normal = _closest_on(bones, near)
    pts, face = trimesh.sample.sample_surface(bone, 4000, seed=seed)
    nrm = bone.face_normals[face]
    keep = (np.linalg.norm(pts - centre, axis=1) < radius) & (nrm @ normal > 0.5)
    pts, nrm = pts[keep], nrm[keep]
    pick = np.random.default_rng(seed).choice(len(pts), min(count, len(pts)), replace=False)
    pts, nrm = pts[pick], nrm[pick]
    return np.vstack([pts + 0.0008 * nrm, pts + thickness * nrm])


# ---------------------------------------------------------------------------------------------
# The synthetic skeleton in H


def right_hip_parts() -> dict[str, trimesh.Trimesh]:
    """Ilium (wing + acetabular cup), ischium, pubis of the right hip bone."""
    x0 = HJC_R[0]
    ilium_wing = hull([
        (-0.115, 0.055, 0.055),   # ASIS
        (-0.105, 0.030, 0.045),   # AIIS
        (-0.135, 0.100, 0.005),   # iliac crest, highest point
        (-0.120, 0.095, 0.035),   # crest, anterior part
        (-0.060, 0.070, -0.062),  # PSIS
        (-0.050, 0.035, -0.055),  # auricular surface (SI joint)
        (-0.100, 0.030, 0.000),   # acetabular roof
        (-0.075, 0.015, -0.040),  # greater sciatic notch
    ], thickness=0.010)  # fmt: skip
    acetabulum = cup(
        HJC_R, axis=(1.0, 0.6, -0.2), inner=HEAD_RADIUS + 0.0025, outer=HEAD_RADIUS + 0.008
    )
    ischium = concat(
        capsule_between((x0 + 0.012, -0.020, -0.022), (-0.068, -0.085, -0.035), 0.011),
        capsule_between((-0.068, -0.085, -0.035), (-0.030, -0.070, 0.030), 0.007),
    )
    pubis = capsule_between((x0 + 0.020, -0.015, 0.025), (-0.006, -0.040, 0.045), 0.009)
    return {"ilium": concat(ilium_wing, acetabulum), "ischium": ischium, "pubis": pubis}


def sacrum_hull_points() -> np.ndarray:
    return np.array([
        (0.000, 0.062, -0.015),   # promontory
        (0.048, 0.066, -0.035), (-0.048, 0.066, -0.035),  # alae
        (0.030, 0.072, -0.070), (-0.030, 0.072, -0.070),  # superior articular processes
        (0.045, 0.030, -0.060), (-0.045, 0.030, -0.060),  # auricular surfaces
        (0.000, 0.040, -0.085),   # median crest
        (0.012, -0.040, -0.088), (-0.012, -0.040, -0.088),  # apex
        (0.000, -0.030, -0.070),  # anterior apex
        (0.000, 0.020, -0.035),   # anterior concavity
    ])  # fmt: skip


def sacrum_and_coccyx() -> tuple[trimesh.Trimesh, trimesh.Trimesh]:
    sacrum = trimesh.convex.convex_hull(sacrum_hull_points())
    coccyx = capsule_between((0.0, -0.047, -0.088), (0.0, -0.072, -0.074), 0.006)
    return sacrum, coccyx


def right_knee_parts() -> dict[str, trimesh.Trimesh]:
    """Femur (head in the cup), patella, tibia, fibula and the epicondylar patches, right side."""
    neck_end = np.array([-0.125, -0.035, 0.0])
    # the condyles' articular surface is cut away, as in the HuBMAP femur, and given as the
    # patches the pipeline closes it with (the last, by the real file's node names)
    condyles = [sphere((-0.082, -0.412, -0.006), 0.021), sphere((-0.120, -0.412, -0.006), 0.021)]
    cut_away = [c.triangles_center[:, 1] < -0.404 for c in condyles]
    femur = concat(
        sphere(HJC_R, HEAD_RADIUS, subdivisions=2),
        capsule_between(HJC_R + np.array([-0.012, -0.006, 0.0]), neck_end, 0.014),
        sphere((-0.135, -0.020, -0.006), 0.016),  # greater trochanter
        capsule_between(neck_end, (-0.100, -0.390, 0.000), 0.014),  # shaft
        *(_faces(c, ~cut) for c, cut in zip(condyles, cut_away, strict=True)),
    )
    articular = concat(*(_faces(c, cut) for c, cut in zip(condyles, cut_away, strict=True)))
    names = [n for n in FEMUR_ARTICULAR_PATCHES if "epicondylar" not in n]
    groups = np.array_split(np.argsort(articular.triangles_center[:, 0]), len(names))
    patches = {name: _faces(articular, g) for name, g in zip(names, groups, strict=True)}
    patella = sphere((-0.101, -0.395, 0.033), 0.019, subdivisions=4, scale=(1.0, 1.2, 0.5))
    tibia = concat(
        capsule_between((-0.118, -0.445, 0.000), (-0.082, -0.445, 0.000), 0.017),  # plateau
        capsule_between((-0.100, -0.450, 0.000), (-0.093, -0.790, -0.012), 0.013),  # shaft
        sphere((-0.085, -0.800, -0.012), 0.012),  # medial malleolus
    )
    fibula = capsule_between((-0.136, -0.455, -0.012), (-0.128, -0.805, -0.022), 0.007)
    return {
        "femur": femur, "patella": patella, "tibia": tibia, "fibula": fibula,
        "medial_epicondylar_enthesis": sphere((-0.062, -0.405, -0.006), 0.004, subdivisions=1),
        "lateral_epicondylar_enthesis": sphere((-0.141, -0.405, -0.006), 0.004, subdivisions=1),
        **patches,
    }  # fmt: skip


def _faces(mesh: trimesh.Trimesh, which: np.ndarray) -> trimesh.Trimesh:
    """The faces ``which`` (a mask or indices) of ``mesh``, as their own mesh."""
    out = trimesh.Trimesh(mesh.vertices, mesh.faces[which], process=False)
    out.remove_unreferenced_vertices()
    return out


def vertebrae_h() -> dict[str, trimesh.Trimesh]:
    """L1-L5 (body + spinous process) stacked above the sacrum, and S1 shaped like the sacrum."""
    out: dict[str, trimesh.Trimesh] = {}
    for k, name in enumerate(("l5", "l4", "l3", "l2", "l1")):
        y = 0.094 + 0.036 * k
        body = box((0.0, y, -0.035), (0.050 - 0.002 * k, 0.027, 0.036))
        spinous = box((0.0, y - 0.004, -0.072), (0.008, 0.018, 0.030))
        out[name] = concat(body, spinous)
    # Same surface as the synthetic sacrum, different tessellation.
    out["s1"] = uniform(trimesh.convex.convex_hull(sacrum_hull_points()), max_edge=0.012)
    return out


def muscles_h(hip_r: list[trimesh.Trimesh], femur: trimesh.Trimesh, sacrum: trimesh.Trimesh,
              knee: dict[str, trimesh.Trimesh], spine: dict[str, trimesh.Trimesh],
              ) -> dict[str, trimesh.Trimesh]:  # fmt: skip
    """Muscles in H whose origin and insertion touch bone. Right side except the *_left ones."""
    hip = hip_r
    fem = [femur]
    tib = [knee["tibia"], knee["fibula"]]
    spec = {
        # id: (bones at origin, origin near, bones at insertion, insertion near, half thickness)
        "muscle_illiacus": (hip, (-0.085, 0.075, 0.030), fem, (-0.080, -0.060, 0.010), 0.010),
        "muscle_psoasmajor": (
            [spine["l3"]],
            (-0.030, 0.166, -0.030),
            fem,
            (-0.078, -0.070, 0.000),
            0.011,
        ),
        "muscle_tensorfasciaelatae": (
            hip,
            (-0.120, 0.058, 0.050),
            fem,
            (-0.130, -0.140, 0.010),
            0.007,
        ),
        "muscle_pectineus": (hip, (-0.050, -0.020, 0.045), fem, (-0.095, -0.090, 0.005), 0.007),
        "muscle_adductorlongus": (
            hip,
            (-0.025, -0.040, 0.050),
            fem,
            (-0.105, -0.200, 0.005),
            0.008,
        ),
        "muscle_adductorbrevis": (
            hip,
            (-0.030, -0.060, 0.035),
            fem,
            (-0.110, -0.140, -0.005),
            0.008,
        ),
        "muscle_adductormagnus": (
            hip,
            (-0.060, -0.090, -0.030),
            fem,
            (-0.095, -0.330, -0.010),
            0.012,
        ),
        "muscle_gracilis": (hip, (-0.020, -0.065, 0.040), tib, (-0.080, -0.480, 0.000), 0.005),
        "muscle_gluteusmaximus": (
            [sacrum],
            (-0.035, 0.000, -0.085),
            fem,
            (-0.130, -0.080, -0.020),
            0.015,
        ),
        "muscle_gluteusmedius": (hip, (-0.135, 0.075, 0.000), fem, (-0.145, -0.020, -0.005), 0.012),
        "muscle_gluteusminimus": (hip, (-0.120, 0.045, 0.020), fem, (-0.140, -0.015, 0.008), 0.008),
        "muscle_piriformis": (
            [sacrum],
            (-0.020, 0.030, -0.040),
            fem,
            (-0.135, -0.005, -0.015),
            0.008,
        ),
        "muscle_bicepsfemorislong": (
            hip,
            (-0.070, -0.095, -0.040),
            tib,
            (-0.140, -0.455, -0.015),
            0.009,
        ),
        "muscle_semitendinosus": (
            hip,
            (-0.065, -0.095, -0.035),
            tib,
            (-0.085, -0.470, -0.010),
            0.007,
        ),
        "muscle_semimembranosus": (
            hip,
            (-0.060, -0.090, -0.038),
            tib,
            (-0.090, -0.450, -0.020),
            0.009,
        ),
        # Upstream has these two only for the LEFT side: built on the right, then mirrored.
        "muscle_rectusfemoris_left": (
            hip,
            (-0.105, 0.028, 0.050),
            [knee["patella"]],
            (-0.101, -0.372, 0.040),
            0.010,
        ),
        "muscle_sartorius_left": (hip, (-0.117, 0.058, 0.058), tib, (-0.078, -0.470, 0.000), 0.006),
    }
    out = {}
    for k, (sid, (b0, n0, b1, n1, r)) in enumerate(spec.items()):
        # Convex hull of the two attachments: its bone-side vertices touch the bone.
        pts = np.vstack(
            [attachment(b0, n0, 2 * r, seed=2 * k), attachment(b1, n1, 2 * r, seed=2 * k + 1)]
        )
        mesh = trimesh.convex.convex_hull(pts)
        out[sid] = mirrored(mesh) if sid.endswith("_left") else mesh
    return out


# ---------------------------------------------------------------------------------------------
# Source-frame conversion and file formats


def h_to_muscle_frame(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """H (m) -> muscle set (mm; +x left, +y anterior, +z inferior), plus the set's offset."""
    m = np.eye(4)
    m[:3, :3] = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]) * 1000.0
    m[:3, 3] = MUSCLE_OFFSET_MM
    out = mesh.copy()
    out.apply_transform(m)
    return out


def h_to_spine_frame(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """H -> ArtiSynth (m; +x anterior, +y left, +z superior), plus the model's own origin."""
    m = np.eye(4)
    m[:3, :3] = np.array([[0.0, 0, 1], [1, 0, 0], [0, 1, 0]])
    m[:3, 3] = SPINE_OFFSET_M
    out = mesh.copy()
    out.apply_transform(m)
    return out


def glb_bytes(parts: dict[str, trimesh.Trimesh]) -> bytes:
    """A glTF binary with one named node (= geometry name) per part."""
    scene = trimesh.Scene()
    for name, mesh in parts.items():
        scene.add_geometry(mesh, node_name=name, geom_name=name)
    data = scene.export(file_type="glb")
    assert isinstance(data, bytes)
    return data


def stl_bytes(mesh: trimesh.Trimesh) -> bytes:
    data = mesh.export(file_type="stl")
    assert isinstance(data, bytes)
    return data


def obj_bytes(mesh: trimesh.Trimesh) -> bytes:
    data = mesh.export(file_type="obj", include_normals=False, include_texture=False)
    return data.encode() if isinstance(data, str) else bytes(data)


# ---------------------------------------------------------------------------------------------
# The mirror and its recipe


def design() -> dict[str, dict[str, trimesh.Trimesh]]:
    """All synthetic meshes in H, by file: useful to tests that check the registration."""
    hip_r = {k: uniform(m) for k, m in right_hip_parts().items()}
    sacrum, coccyx = (uniform(m) for m in sacrum_and_coccyx())
    knee_r = {k: uniform(m) for k, m in right_knee_parts().items()}
    pelvis = {f"VH_M_{p}_compact_bone_R": m for p, m in hip_r.items()}
    pelvis |= {f"VH_M_{p}_compact_bone_L": mirrored(m) for p, m in hip_r.items()}
    pelvis |= {"VH_M_sacrum": sacrum, "VH_M_coccyx": coccyx}
    knee_r_nodes = {p if p.startswith("VH_M_") else f"VH_M_{p}_R": m for p, m in knee_r.items()}
    knee_l_nodes = {
        f"VH_M_{p}_L": mirrored(m) for p, m in knee_r.items() if p in ("femur", "patella")
    }
    spine = vertebrae_h()
    muscles = muscles_h(list(hip_r.values()), knee_r["femur"], sacrum, knee_r, spine)
    return {
        "pelvis": pelvis, "knee_r": knee_r_nodes, "knee_l": knee_l_nodes,
        "muscles": muscles, "vertebrae": spine,
    }  # fmt: skip


def entries() -> list[Entry]:
    d = design()
    out = [
        Entry(
            "pelvis_glb",
            *HUBMAP,
            "VH_Male/v1.2/VH_M_Pelvis.glb",
            "CC-BY-4.0",
            glb_bytes(d["pelvis"]),
        ),
        Entry(
            "knee_r_glb",
            *HUBMAP,
            "VH_Male/v1.2/VH_M_Knee_R.glb",
            "CC-BY-4.0",
            glb_bytes(d["knee_r"]),
        ),
        Entry(
            "knee_l_glb",
            *HUBMAP,
            "VH_Male/v1.2/VH_M_Knee_L.glb",
            "CC-BY-4.0",
            glb_bytes(d["knee_l"]),
        ),
        Entry(
            "ccf_license",
            *HUBMAP,
            "LICENSE",
            "CC-BY-4.0",
            b"Synthetic stand-in for CC BY 4.0 text.\n",
        ),
    ]
    for sid, stem in MUSCLE_FILES.items():
        data = stl_bytes(h_to_muscle_frame(d["muscles"][sid]))
        out.append(Entry(sid, *MUSCLE, f"data/VHM_surfaces/{stem}_smooth.stl", "CC-BY-4.0", data))
    out.append(Entry("vhm_surfaces_readme", *MUSCLE, "data/VHM_surfaces/README.txt", "CC-BY-4.0",
                     b"Synthetic muscle surfaces for tests.\n"))  # fmt: skip
    for v in ("l1", "l2", "l3", "l4", "l5", "s1"):
        data = obj_bytes(h_to_spine_frame(d["vertebrae"][v]))
        path = f"{SPINE_DIR}/{v.upper()}_Schrumpfverpacken.obj"
        out.append(Entry(f"vertebra_{v}", *SPINE, path, "BSD-3-Clause", data))
    out.append(Entry("artisynth_license", *SPINE, "LICENSE", "BSD-3-Clause",
                     b"Synthetic stand-in for the BSD-3-Clause text.\n"))  # fmt: skip
    return out


def recipe_text(items: list[Entry], overrides: dict[str, bytes] | None = None) -> str:
    """Recipe TOML for ``items``; ``overrides`` replaces the bytes whose size/sha are listed."""
    overrides = overrides or {}
    lines = ["# Synthetic test recipe (tests/synthetic_sources.py)", ""]
    for e in items:
        data = overrides.get(e.id, e.data)
        lines += [
            "[[file]]",
            f'id = "{e.id}"',
            f'owner = "{e.owner}"',
            f'repo = "{e.repo}"',
            f'commit = "{e.commit}"',
            f'path = "{e.path}"',
            f"size = {len(data)}",
            f'sha256 = "{hashlib.sha256(data).hexdigest()}"',
            f'license = "{e.license}"',
            "",
        ]
    return "\n".join(lines)


_CACHE: list[Entry] = []


def make_mirror(root: Path) -> tuple[Path, Path]:
    """Write the synthetic mirror and its recipe below ``root``; return (mirror_dir, recipe)."""
    items = all_entries()
    mirror = root / "mirror"
    for e in items:
        path = mirror / e.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(e.data)
    recipe = root / "sources.toml"
    recipe.write_text(recipe_text(items), encoding="utf-8")
    return mirror, recipe


def all_entries() -> list[Entry]:
    """Every synthetic source (built once per process; deterministic)."""
    if not _CACHE:
        _CACHE.extend(entries())
    return list(_CACHE)


def entry(source_id: str) -> Entry:
    """The synthetic entry with this recipe id."""
    return next(e for e in all_entries() if e.id == source_id)


def write_recipe(path: Path, overrides: dict[str, bytes]) -> Path:
    """A recipe whose size/sha256 for the given ids match ``overrides`` instead."""
    path.write_text(recipe_text(all_entries(), overrides), encoding="utf-8")
    return path
