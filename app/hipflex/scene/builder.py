"""What every scene needs from the asset pack: bone meshes, body transforms at a pose, lines of
action. The live scene (window and offscreen stills) and the glTF export build on it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvista as pv
from numpy.typing import NDArray
from vtkmodules.util.numpy_support import vtk_to_numpy

from hipflex.model.kinematics import body_transforms, check_angles
from hipflex.model.skeleton import BODIES, ModelContext
from hipflex.scene import _vtk as vtk

Array = NDArray[np.float64]
BONE_COLOUR = "#e6dcc8"
LINE_COLOUR = "#1f1f1f"
# what the camera presets keep in the picture: the whole psoas origin (L1-L5) down to the knee
FRAME_BONES = ("hip_r", "hip_l", "sacrum", "l1", "l2", "l3", "l4", "l5", "femur_r", "patella_r")
# ... and of the shank only the top, down to its lowest muscle attachment and this far below it
# (the fibular head and the pes anserinus), so a bent knee stays whole in the picture but the
# shank does not halve the hip when the leg is straight
FRAME_SHANK = ("tibia_r", "fibula_r")
FRAME_SHANK_MARGIN = 0.02  # m
# a landmark on a bone's surface counts as hidden when its sight line passes through bone (goes
# in and out again) farther than this from it: the landmark's own bone, which it may sit a few
# millimetres inside, does not hide it
SIGHT_CLEARANCE = 0.005  # m
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


class SceneBuilder:
    """Builds posed pyvista meshes from the asset pack; shared by the GUI and the CLI."""

    def __init__(self, ctx: ModelContext, level: str = "interactive") -> None:
        self.ctx = ctx
        self.level = level
        pack = ctx.pack
        self.scan = {b: pack.body_at_scan(b) for b in BODIES}
        self.bones = {b: pack.mesh(b, level) for b in SCENE_BONES}
        self._framed = {b: self._framed_vertices(b) for b in FRAME_BONES + FRAME_SHANK}
        self._trees: dict[str, vtk.vtkOBBTree] = {}

    def _framed_vertices(self, bone: str) -> Array:
        """Every fourth vertex of ``bone`` (body frame); of the shank, its top only."""
        v = np.asarray(self.bones[bone].vertices, float)
        if bone in FRAME_SHANK:
            body = self.ctx.pack.mesh_body(bone)
            lowest = min(
                (float(p[1]) for ln in self.ctx.lines
                 for p, b in zip(ln.points, ln.bodies, strict=True) if b == body),
                default=0.0,
            )  # fmt: skip
            v = v[v[:, 1] >= lowest - FRAME_SHANK_MARGIN]
        return v[::4]

    def transforms(self, pose: Pose) -> dict[str, Array]:
        """Pelvis-from-body transforms at ``pose`` (validated against the joint ranges)."""
        angles = check_angles(self.ctx.skeleton, pose.as_dict())
        return {k: v[0] for k, v in body_transforms(self.ctx.skeleton, **angles).items()}

    def frame_points(self, transforms: dict[str, Array]) -> Array:
        """The vertices of the framed bones (every fourth), posed by ``transforms``."""
        pack = self.ctx.pack
        out = []
        for bone, v in self._framed.items():
            m = transforms[pack.mesh_body(bone)]
            out.append(v @ m[:3, :3].T + m[:3, 3])
        return np.concatenate(out)

    def behind_bone(self, point: Array, eye: Array, transforms: dict[str, Array]) -> bool:
        """Whether a bone as drawn lies between ``eye`` and ``point`` (pelvis frame), so that a
        label pointing at ``point`` would point at that bone instead."""
        ends = np.array([point, eye], float)
        local = {}  # the sight line in each body's frame
        for body in {self.ctx.pack.mesh_body(bone) for bone in SCENE_BONES}:
            m = np.linalg.inv(transforms[body])
            local[body] = ends @ m[:3, :3].T + m[:3, 3]
        for bone in SCENE_BONES:
            a, b = local[self.ctx.pack.mesh_body(bone)]
            hits = vtk.vtkPoints()
            self._tree(bone).IntersectWithLine(a, b, hits, None)
            far = np.linalg.norm(vtk_to_numpy(hits.GetData()) - a, axis=1) > SIGHT_CLEARANCE
            if far.sum() >= 2:
                return True
        return False

    def _tree(self, bone: str) -> vtk.vtkOBBTree:
        """Ray-casting tree of a bone's drawn mesh in its body frame (built on first use)."""
        if bone not in self._trees:
            tree = vtk.vtkOBBTree()
            tree.SetDataSet(_polydata(self.bones[bone].vertices, self.bones[bone].faces))
            tree.BuildLocator()
            self._trees[bone] = tree
        return self._trees[bone]

    def muscle_lines(self, muscle: str, pose: Pose) -> list[Array]:
        """Each line of action of ``muscle`` as an (k, 3) polyline at ``pose``."""
        from hipflex.model.wrapping import wrapped_path

        tr = {k: v[None] for k, v in self.transforms(pose).items()}
        return [wrapped_path(self.ctx, ln, tr)[0] for ln in self.ctx.lines if ln.muscle == muscle]
