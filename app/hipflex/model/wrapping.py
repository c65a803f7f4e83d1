"""Muscle paths over analytic wrap surfaces.

Until the wrapping engine lands this returns the straight via-point polyline.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hipflex.model.paths import line_points
from hipflex.model.skeleton import LineGeometry, ModelContext

Array = NDArray[np.float64]


def wrapped_path(ctx: ModelContext, line: LineGeometry, transforms: dict[str, Array]) -> Array:
    """Path points (n_poses, k, 3) in the model frame."""
    return line_points(line, transforms)
