"""Where 2D text goes over the view: a call-out box placed clear of label leader lines.

Pure geometry in any 2D pixel frame (the window's y-up display pixels or an image's y-down
pixels): the window and the stills share it, so a caption sits clear of the labels in both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 with x0 <= x1, y0 <= y1
Point = tuple[float, float]
Segment = tuple[Point, Point]


def segment_crosses_box(seg: Segment, box: Box) -> bool:
    """Whether the segment passes through (or ends inside) the box (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = seg
    bx0, by0, bx1, by1 = box
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - bx0), (dx, bx1 - x0), (-dy, y0 - by0), (dy, by1 - y0)):
        if p == 0.0:
            if q < 0.0:  # parallel to this edge and outside it
                return False
            continue
        t = q / p
        if p < 0.0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def boxes_overlap(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def place_callout(
    anchor: Point,
    size: tuple[float, float],
    offsets: Sequence[Point],
    segments: Sequence[Segment],
    boxes: Sequence[Box],
    bounds: Box,
) -> Point:
    """Lower-left corner (smallest x and y) of a ``size`` box near ``anchor``: the first of
    ``offsets`` (from the anchor to that corner, in order of preference) whose box stays inside
    ``bounds`` and clear of the label ``boxes`` and leader ``segments``; failing that, the one
    with the fewest conflicts (a box out of bounds counts as the worst)."""
    w, h = size
    best: tuple[float, int, Point] | None = None
    for k, (ox, oy) in enumerate(offsets):
        x, y = anchor[0] + ox, anchor[1] + oy
        box = (x, y, x + w, y + h)
        inside = (box[0] >= bounds[0] and box[1] >= bounds[1] and box[2] <= bounds[2]
                  and box[3] <= bounds[3])  # fmt: skip
        hits = sum(segment_crosses_box(s, box) for s in segments)
        hits += sum(boxes_overlap(b, box) for b in boxes)
        cost = hits + (0 if inside else 1000)
        if cost == 0:
            return (x, y)
        if best is None or (cost, k) < best[:2]:
            best = (cost, k, (x, y))
    assert best is not None, "no offsets given"
    return best[2]


def callout_offsets(w: float, h: float, near: float, far: float) -> list[Point]:
    """Candidate corners for a ``w`` x ``h`` box round its anchor, in a y-up frame, nearest
    first: rows ``near`` to ``far`` below and above the anchor (five distances), each with the
    box to the right of the anchor, centred on it, to its left or in between."""
    out: list[tuple[float, Point]] = []
    for d in np.linspace(near, far, 5):
        for dy in (-d - h, d):
            for f in (0.0, 0.25, 0.5, 0.75, 1.0):
                dx = -f * w
                # distance from the anchor to the box's middle, shifts sideways count double
                cost = float(np.hypot(2 * (dx + w / 2), dy + h / 2))
                out.append((cost, (dx, float(dy))))
    return [o for _, o in sorted(out, key=lambda t: t[0])]
