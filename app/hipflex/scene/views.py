"""Camera presets and framing (numpy only, no VTK import, so the CLI can list them cheaply)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # direction from the focus to the camera, view-up; model frame x anterior, y up, z right
    "anterior": ((1, 0, 0), (0, 1, 0)),
    "lateral": ((0, 0, 1), (0, 1, 0)),
    "medial": ((0, 0, -1), (0, 1, 0)),
    "posterior": ((-1, 0, 0), (0, 1, 0)),
    "superior": ((0, 1, 0), (1, 0, 0)),
    "oblique": ((0.8, 0.35, 0.9), (0, 1, 0)),
}

# the share of the picture's height (or width) what is framed may fill: a margin round it
FRAME_FILL = 0.92

Vec3 = tuple[float, float, float]


def fit_camera(
    points: ArrayLike,
    view: str,
    aspect: float,
    view_angle: float = 30.0,
    fill: float = FRAME_FILL,
    bottom: float = 0.0,
) -> tuple[Vec3, Vec3, Vec3]:
    """Focal point, position and view-up of a perspective camera looking from preset ``view``
    that puts every one of ``points`` inside a picture of width/height ``aspect``, filling
    ``fill`` of its limiting side. ``bottom``: the share of the picture's height kept free
    along its lower edge (for a colour legend), the points framed in the rest.

    Fitting the points themselves, rather than the sphere round their box (VTK's
    ResetCamera), frames a tall subject like the spine-to-knee column as large as the picture
    allows without cropping the lumbar origin of psoas or the knee.
    """
    p = np.asarray(points, float).reshape(-1, 3)
    if not len(p) or not np.isfinite(p).all():
        raise ValueError("fit_camera needs finite points")
    if not (aspect > 0 and 0 < fill <= 1 and 0 < view_angle < 180 and 0 <= bottom < 0.45):
        raise ValueError(
            f"bad framing: aspect {aspect}, fill {fill}, view angle {view_angle}, bottom {bottom}"
        )
    direction, up_hint = VIEWS[view if view in VIEWS else "oblique"]
    d = np.asarray(direction, float)
    d /= np.linalg.norm(d)
    right = np.cross(np.asarray(up_hint, float), d)
    right /= np.linalg.norm(right)
    up = np.cross(d, right)
    x, y, depth = p @ right, p @ up, p @ d
    z = depth - float(np.mean(depth))  # toward the camera, from the focal plane
    tan = np.tan(np.radians(view_angle) / 2)
    half_w = tan * fill * aspect
    # the vertical window the points may fill, in tangent units about the optical axis: the
    # picture spans -tan..tan, less ``bottom`` of it below, less the margin round the rest
    mid = tan * bottom  # the free window's middle
    half_h = tan * (1 - bottom) * fill
    top, low = mid + half_h, half_h - mid  # reach above and below the axis
    skew = mid / half_h

    def distance(cx: float, cy: float) -> float:
        # each point needs the camera at least this far from the focal plane to fit both sides
        dy = y - cy
        rise = np.where(dy > 0, dy / top, -dy / low)
        reach = np.maximum(rise, np.abs(x - cx) / half_w)
        return float(np.max(z + reach))

    cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    for _ in range(4):
        # perspective makes near points look larger: centre what the camera sees, not the
        # orthographic extent, so the margins come out even
        dist = distance(cx, cy)
        u, v = (x - cx) / (dist - z), (y - cy) / (dist - z)
        cx += (u.max() + u.min()) / 2 * dist
        cy += ((v.max() + v.min()) / 2 - skew * (v.max() - v.min()) / 2) * dist
    focus = cx * right + cy * up + d * float(np.mean(depth))
    return _vec(focus), _vec(focus + d * distance(cx, cy)), _vec(up)


def _vec(a: np.ndarray) -> Vec3:
    return float(a[0]), float(a[1]), float(a[2])
