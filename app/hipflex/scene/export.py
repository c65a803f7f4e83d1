"""Posed scene export to glTF binary: one node per bone and per line of action."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import trimesh

from hipflex.scene.render import atomic_write_bytes


def export_glb(path: Path, hip: float, knee: float, hip_adduction: float = 0.0,
               hip_rotation: float = 0.0) -> Path:  # fmt: skip
    """Write ``bone:<id>`` meshes and ``path:<muscle>:<n>`` polylines (model frame, metres) at
    the pose (degrees; adduction and internal rotation 0 for a sagittal pose).

    Raises:
        PoseError: an angle is not finite or lies outside its joint range; nothing is written.
    """
    from hipflex.model.skeleton import ModelContext
    from hipflex.scene.builder import Pose, SceneBuilder

    ctx = ModelContext.load()
    builder = SceneBuilder(ctx, level="interactive")
    pose = Pose(hip_flexion=hip, knee_flexion=knee, hip_adduction=hip_adduction,
                hip_rotation=hip_rotation)  # fmt: skip
    tr = builder.transforms(pose)
    scene = trimesh.Scene()
    for bone, mesh in builder.bones.items():
        t = tr[ctx.pack.mesh_body(bone)]
        v = mesh.vertices.astype(float) @ t[:3, :3].T + t[:3, 3]
        scene.add_geometry(trimesh.Trimesh(v, mesh.faces, process=False),
                           node_name=f"bone:{bone}", geom_name=f"bone:{bone}")  # fmt: skip
    for mid in ctx.muscle_ids:
        for k, pts in enumerate(builder.muscle_lines(mid, pose)):
            entity = trimesh.path.entities.Line(np.arange(len(pts)))
            line = trimesh.path.Path3D(entities=[entity], vertices=np.asarray(pts, float))
            scene.add_geometry(line, node_name=f"path:{mid}:{k}", geom_name=f"path:{mid}:{k}")
    buf = io.BytesIO()
    buf.write(scene.export(file_type="glb"))
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)
