"""Reading and verifying a built asset pack (numpy only, so the engine can use it too)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hipflex.config import pack_dir
from hipflex.errors import AssetError


@dataclass(frozen=True)
class MeshData:
    """Vertices (m, in the mesh's body frame) and triangle indices."""

    vertices: NDArray[np.float32]
    faces: NDArray[np.int32]


@dataclass
class AssetPack:
    """A built pack in the cache: meshes, landmarks, body frames, bone distance grids."""

    root: Path = field(default_factory=pack_dir)

    @cached_property
    def manifest(self) -> dict[str, Any]:
        path = self.root / "manifest.json"
        if not path.is_file():
            raise AssetError(
                f"{self.root}: no asset pack here; build it with "
                "`hipflex assets build --source ../shared/anatomy-sources`"
            )
        try:
            return dict(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise AssetError(f"{path}: corrupt manifest ({exc})") from exc

    def _json(self, name: str) -> dict[str, Any]:
        """A JSON file of the pack; missing or corrupt gives an AssetError naming it."""
        self.manifest  # no pack at all: say how to build one  # noqa: B018
        path = self.root / name
        try:
            return dict(json.loads(path.read_text()))
        except FileNotFoundError as exc:
            raise AssetError(f"{path}: missing from the asset pack; rebuild it with "
                             "`hipflex assets build --source ../shared/anatomy-sources`") from exc
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as exc:
            raise AssetError(f"{path}: corrupt ({exc})") from exc

    @cached_property
    def landmarks(self) -> dict[str, NDArray[np.float64]]:
        """Named landmarks in the model (pelvis) frame, metres."""
        return {k: np.asarray(v, float) for k, v in self._json("landmarks.json").items()}

    @cached_property
    def _bodies(self) -> dict[str, Any]:
        return self._json("bodies.json")

    def body_at_scan(self, body: str) -> NDArray[np.float64]:
        """4x4 pelvis-from-body transform in the scanned (as-imaged) pose."""
        return np.asarray(self._bodies["bodies"][body]["pelvis_from_body_at_scan"], float)

    def mesh_body(self, mesh_id: str) -> str:
        """The body frame a mesh is stored in."""
        return str(self._bodies["mesh_body"][mesh_id])

    @property
    def mesh_ids(self) -> list[str]:
        return sorted(self._bodies["mesh_body"])

    @property
    def scan_pose(self) -> dict[str, float]:
        return dict(self.manifest["report"]["scan_pose_deg"])

    def mesh(self, mesh_id: str, level: str = "interactive") -> MeshData:
        """Load one mesh; ``level`` is "interactive" (decimated) or "full" (print)."""
        path = self.root / "meshes" / level / f"{mesh_id}.npz"
        if not path.is_file():
            raise AssetError(f"{path}: mesh {mesh_id!r} ({level}) missing from the asset pack")
        with np.load(path) as data:
            return MeshData(data["vertices"], data["faces"])

    def sdf(self, body: str) -> tuple[NDArray[np.float64], float, NDArray[np.float32]]:
        """Signed distance grid of a body's bones: (origin, pitch, values in metres)."""
        path = self.root / f"sdf_{body}.npz"
        if not path.is_file():
            self.manifest  # no pack at all: say how to build one  # noqa: B018
            raise AssetError(f"{path}: distance grid of {body!r} missing from the asset pack")
        with np.load(path) as data:
            return (
                data["origin"],
                float(data["pitch"]),
                data["values_mm10"].astype(np.float32) * 1e-4,
            )

    @property
    def attribution(self) -> str:
        return (self.root / "ATTRIBUTION.md").read_text()


def verify_pack(root: Path) -> list[str]:
    """Every problem found in the pack at ``root``; an empty list means complete and consistent."""
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        return [f"{root}: no manifest.json (pack missing or never finished)"]
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        return [f"{manifest_path}: corrupt ({exc})"]
    problems = []
    for key in ("pipeline_version", "source_key", "sources", "files", "report"):
        if key not in manifest:
            problems.append(f"{manifest_path}: key {key!r} missing")
    for rel, digest in manifest.get("files", {}).items():
        path = root / rel
        if not path.is_file():
            problems.append(f"{rel}: listed in the manifest but missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{rel}: sha256 differs from the manifest (file changed or corrupt)")
    return problems
