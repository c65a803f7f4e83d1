"""Muscle lines of action in the model frame, for many poses at once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hipflex.model.kinematics import transform_points
from hipflex.model.skeleton import LineGeometry

Array = NDArray[np.float64]


def line_points(line: LineGeometry, transforms: dict[str, Array]) -> Array:
    """Posed via-point polyline, shape (n_poses, k, 3), in the pelvis (model) frame."""
    n = next(iter(transforms.values())).shape[0]
    out = np.empty((n, len(line.bodies), 3))
    for body in set(line.bodies):
        sel = [i for i, b in enumerate(line.bodies) if b == body]
        out[:, sel] = transform_points(transforms[body], line.points[sel])
    return out
