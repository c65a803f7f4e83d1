"""One scene builder for the window and for offscreen export: posed bones, muscles, lines."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyvista as pv
from numpy.typing import NDArray

from hipflex.errors import PoseError
from hipflex.model.kinematics import body_transforms, check_angles
from hipflex.model.paths import line_points
from hipflex.model.skeleton import ModelContext
from hipflex.scene.views import VIEWS

Array = NDArray[np.float64]
BONE_COLOUR = "#e6dcc8"
LINE_COLOUR = "#1f1f1f"
FRAME_BONES = ("hip_r", "hip_l", "sacrum", "l5", "l4", "femur_r", "patella_r")
SCENE_BONES = ("hip_r", "hip_l", "sacrum", "l1", "l2", "l3", "l4", "l5",
               "femur_r", "patella_r", "tibia_r", "fibula_r")  # fmt: skip


@dataclass
class Pose:
    """Joint angles in degrees (conventions in anatomy_data/joints.toml)."""

    hip_flexion: float = 0.0
    hip_adduction: float = 0.0
    hip_rotation: float = 0.0
    knee_flexion: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return dict(vars(self))


def _polydata(vertices: NDArray[np.floating], faces: NDArray[np.integer]) -> pv.PolyData:
    cells = np.hstack([np.full((len(faces), 1), 3, np.int64), faces.astype(np.int64)]).ravel()
    return pv.PolyData(np.asarray(vertices, np.float64), cells)


@dataclass
class _Skin:
    """Per-vertex body weights so a muscle surface follows the bones it spans."""

    vertices: Array
    faces: NDArray[np.int32]
    weights: dict[str, Array] = field(default_factory=dict)


class SceneBuilder:
    """Builds posed pyvista meshes from the asset pack; shared by the GUI and the CLI."""

    def __init__(self, ctx: ModelContext, level: str = "interactive") -> None:
        self.ctx = ctx
        self.level = level
        pack = ctx.pack
        self.scan = {b: pack.body_at_scan(b) for b in ("pelvis", "femur_r", "tibia_r")}
        self.bones = {b: pack.mesh(b, level) for b in SCENE_BONES}
        self._skins: dict[str, _Skin] = {}

    def _skin(self, muscle: str) -> _Skin:
        if muscle in self._skins:
            return self._skins[muscle]
        mesh = self.ctx.pack.mesh(self.ctx.anatomy.muscles[muscle].mesh, self.level)
        v = mesh.vertices.astype(float)
        skin = _Skin(v, mesh.faces, self.skin_weights(muscle, v))
        self._skins[muscle] = skin
        return skin

    def skin_weights(self, muscle: str, v: Array) -> dict[str, Array]:
        """Per-vertex body weights for vertices ``v`` (scan pose) of ``muscle``'s surface."""
        lines = [ln for ln in self.ctx.lines if ln.muscle == muscle]
        scan_t = {b: t[None] for b, t in self.scan.items()}
        pts = line_points(lines[0], scan_t)[0]
        bodies = lines[0].bodies
        # nearest polyline segment and the fraction along it, for every vertex
        a, b = pts[:-1], pts[1:]
        ab = b - a
        t = np.clip(np.einsum("vsk,sk->vs", v[:, None] - a[None], ab) / np.sum(ab * ab, 1), 0, 1)
        closest = a[None] + t[..., None] * ab[None]
        seg = np.argmin(np.linalg.norm(v[:, None] - closest, axis=2), axis=1)
        frac = t[np.arange(len(v)), seg]
        weights = {body: np.zeros(len(v)) for body in self.scan}
        for s in range(len(ab)):
            sel = seg == s
            b0, b1 = bodies[s], bodies[s + 1]
            w1 = frac[sel] ** 2 * (3 - 2 * frac[sel]) if b0 != b1 else np.zeros(sel.sum())
            weights[b0][sel] += 1 - w1
            weights[b1][sel] += w1
        return weights

    def transforms(self, pose: Pose) -> dict[str, Array]:
        """Pelvis-from-body transforms at ``pose`` (validated against the joint ranges)."""
        angles = check_angles(self.ctx.skeleton, pose.as_dict())
        return {k: v[0] for k, v in body_transforms(self.ctx.skeleton, **angles).items()}

    def bone_meshes(self, pose: Pose) -> dict[str, pv.PolyData]:
        """Every scene bone, posed."""
        tr = self.transforms(pose)
        out = {}
        for bone, mesh in self.bones.items():
            t = tr[self.ctx.pack.mesh_body(bone)]
            out[bone] = _polydata(mesh.vertices @ t[:3, :3].T + t[:3, 3], mesh.faces)
        return out

    def muscle_surface(self, muscle: str, pose: Pose) -> pv.PolyData:
        """A muscle's surface, skinned from its scanned pose to ``pose``."""
        tr = self.transforms(pose)
        skin = self._skin(muscle)
        out = np.zeros_like(skin.vertices)
        for body, w in skin.weights.items():
            if not w.any():
                continue
            rel = tr[body] @ np.linalg.inv(self.scan[body])
            out += w[:, None] * (skin.vertices @ rel[:3, :3].T + rel[:3, 3])
        return _polydata(out, skin.faces)

    def muscle_lines(self, muscle: str, pose: Pose) -> list[Array]:
        """Each line of action of ``muscle`` as an (k, 3) polyline at ``pose``."""
        from hipflex.model.wrapping import wrapped_path

        tr = {k: v[None] for k, v in self.transforms(pose).items()}
        return [wrapped_path(self.ctx, ln, tr)[0] for ln in self.ctx.lines if ln.muscle == muscle]

    def check_muscles(self, muscles: list[str]) -> list[str]:
        unknown = [m for m in muscles if m not in self.ctx.anatomy.muscles]
        if unknown:
            raise PoseError(
                f"unknown muscle id(s): {', '.join(unknown)}; known: {', '.join(self.ctx.muscle_ids)}"
            )
        return muscles

    def populate(
        self,
        plotter: pv.Plotter,
        pose: Pose,
        muscles: list[str],
        surfaces: bool = True,
        lines: bool = True,
        bone_opacity: float = 1.0,
    ) -> None:
        """Add the posed scene to ``plotter`` (bones, muscle surfaces, lines of action)."""
        for bone, mesh in self.bone_meshes(pose).items():
            plotter.add_mesh(mesh, color=BONE_COLOUR, opacity=bone_opacity, smooth_shading=True,
                             specular=0.2, name=f"bone:{bone}")  # fmt: skip
        for mid in self.check_muscles(muscles):
            colour = self.ctx.anatomy.muscles[mid].colour
            if surfaces:
                plotter.add_mesh(self.muscle_surface(mid, pose), color=colour, opacity=0.8,
                                 smooth_shading=True, name=f"muscle:{mid}")  # fmt: skip
            if lines:
                for k, pts in enumerate(self.muscle_lines(mid, pose)):
                    tube = pv.lines_from_points(pts).tube(radius=0.0018, n_sides=10)
                    plotter.add_mesh(tube, color=colour if not surfaces else LINE_COLOUR,
                                     name=f"path:{mid}:{k}")  # fmt: skip
                    plotter.add_mesh(pv.PolyData(pts[[0, -1]]), color=colour, point_size=9,
                                     render_points_as_spheres=True, name=f"ends:{mid}:{k}")  # fmt: skip

    def set_view(self, plotter: pv.Plotter, view: str, frame: str = "hip") -> None:
        """Camera preset; ``frame`` "hip" fits pelvis, spine and femur, "all" the whole scene."""
        if view not in VIEWS:
            raise PoseError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")
        direction, up = VIEWS[view]
        names = FRAME_BONES if frame == "hip" else SCENE_BONES
        boxes = [
            np.array(plotter.actors[f"bone:{b}"].GetBounds()).reshape(3, 2)
            for b in names
            if f"bone:{b}" in plotter.actors
        ]
        lo = np.min([b[:, 0] for b in boxes], axis=0)
        hi = np.max([b[:, 1] for b in boxes], axis=0)
        focus = (lo + hi) / 2
        d = np.asarray(direction, float)
        d /= np.linalg.norm(d)
        plotter.camera.focal_point = focus
        plotter.camera.position = focus + d
        plotter.camera.up = up
        plotter.reset_camera(bounds=(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]))  # type: ignore[call-arg,unused-ignore]
        plotter.camera.zoom(1.15)
        plotter.reset_camera_clipping_range()
