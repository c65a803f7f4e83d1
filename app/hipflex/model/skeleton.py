"""The model's view of the anatomy: joint centres, path points per body, bone distance grids.

Built once from the asset pack and anatomy_data, then used by every pose computation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from hipflex.anatomy import AnatomyData, Muscle, load_anatomy
from hipflex.assets.pack import AssetPack
from hipflex.errors import AssetError
from hipflex.model.kinematics import Skeleton

Array = NDArray[np.float64]
BODIES = ("pelvis", "femur_r", "tibia_r", "patella_r")


@dataclass(frozen=True)
class BoneDistance:
    """Signed distance to one body's bones (negative inside), from the pack's grid."""

    origin: Array
    pitch: float
    values: NDArray[np.float32]

    def __call__(self, points_in_body: Array) -> Array:
        pts = np.asarray(points_in_body, float)
        idx = (pts.reshape(-1, 3) - self.origin) / self.pitch
        out = ndimage.map_coordinates(self.values, idx.T, order=1, mode="constant", cval=1.0)
        return np.asarray(out, float).reshape(pts.shape[:-1])


@dataclass(frozen=True)
class LineGeometry:
    """One line of action: its points (in their bodies' frames) and the body of each."""

    muscle: str
    name: str
    weight: float
    bodies: tuple[str, ...]
    points: Array  # (k, 3), each in its own body's frame
    wraps: tuple[str, ...]


@dataclass
class ModelContext:
    """Everything shared by model computations: anatomy, skeleton, lines, bone distances."""

    anatomy: AnatomyData
    pack: AssetPack
    skeleton: Skeleton
    lines: list[LineGeometry] = field(default_factory=list)
    bone_distance: dict[str, BoneDistance] = field(default_factory=dict)
    path_set: object | None = None  # hipflex.model.wrapping.PathSet, built on first use
    bone_contact: object | None = None  # hipflex.model.contact.BoneContact, built on first use

    @classmethod
    def load(
        cls, pack: AssetPack | str | os.PathLike[str] | None = None, anatomy: AnatomyData | None = None
    ) -> ModelContext:
        if pack is None:
            pack = AssetPack()
        elif isinstance(pack, (str, os.PathLike)):  # a pack folder
            pack = AssetPack(Path(pack))
        elif not isinstance(pack, AssetPack):
            raise AssetError(f"expected an AssetPack or a pack folder, got {type(pack).__name__}")
        pack.manifest  # missing or corrupt: a clear AssetError before anything else  # noqa: B018
        anatomy = anatomy or load_anatomy()
        ctx = cls(anatomy=anatomy, pack=pack, skeleton=Skeleton.from_pack(pack, anatomy))
        for m in anatomy.muscles.values():
            ctx.lines.extend(_lines(m))
        for body in BODIES:
            origin, pitch, values = pack.sdf(body)
            ctx.bone_distance[body] = BoneDistance(np.asarray(origin, float), pitch, values)
        return ctx

    @property
    def muscle_ids(self) -> list[str]:
        return list(self.anatomy.muscles)


def _lines(m: Muscle) -> list[LineGeometry]:
    return [
        LineGeometry(
            muscle=m.id,
            name=ln.name,
            weight=ln.weight,
            bodies=tuple(p.body for p in ln.points),
            points=np.array([p.position for p in ln.points], float),
            wraps=tuple(ln.wraps),
        )
        for ln in m.line
    ]
