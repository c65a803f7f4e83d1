"""Camera presets (no VTK import, so the CLI can list them cheaply)."""

VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # direction from the focus to the camera, view-up; model frame x anterior, y up, z right
    "anterior": ((1, 0, 0), (0, 1, 0)),
    "lateral": ((0, 0, 1), (0, 1, 0)),
    "medial": ((0, 0, -1), (0, 1, 0)),
    "posterior": ((-1, 0, 0), (0, 1, 0)),
    "superior": ((0, 1, 0), (1, 0, 0)),
    "oblique": ((0.8, 0.35, 0.9), (0, 1, 0)),
}
