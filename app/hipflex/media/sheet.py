"""Contact sheet: several poses side by side in one PNG, each captioned with its angles."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from hipflex.errors import HipFlexError
from hipflex.media.still import (
    RGBA,
    TEXT_COLOUR,
    OffscreenView,
    at_pose,
    check_size,
    compose,
    text_px,
    ui_font,
)
from hipflex.state import Pose, Snapshot

if TYPE_CHECKING:
    from hipflex.model.hipmodel import HipModel

Progress = Callable[[float, str], None]


def pose_caption(pose: Pose) -> str:
    from hipflex.model.contact import turned_words

    knee = "knee straight" if abs(pose.knee_flexion) < 0.5 else f"knee {pose.knee_flexion:g}°"
    off = turned_words(pose.hip_adduction, pose.hip_rotation, ", ", "°")
    return f"hip flexion {pose.hip_flexion:g}°, {knee}{off}"


def contact_sheet(
    snapshot: Snapshot,
    hips: Sequence[float],
    size: tuple[int, int] = (2400, 1600),
    columns: int | None = None,
    transparent: bool = False,
    title: str | None = None,
    dpi: float | None = None,
    model: HipModel | None = None,
    level: str = "full",
    progress: Progress | None = None,
) -> RGBA:
    """A grid of the snapshot at each hip angle (same knee, view and style), in one image."""
    if not hips:
        raise HipFlexError("a contact sheet needs at least one pose")
    w, h = check_size(size)
    n = len(hips)
    cols = columns or min(n, math.ceil(math.sqrt(n * w / h / 1.3)))
    rows = math.ceil(n / cols)
    title_px = text_px((w, h), 14, dpi) if title else 0.0
    top = round(title_px * 1.8) if title else 0
    cap_px = text_px((w, h), 9, dpi) * min(1.0, 2.2 / max(cols, rows) ** 0.5)
    cell_w = w // cols
    cell_h = (h - top) // rows
    band = round(cap_px * 1.8)
    view_size = (cell_w, cell_h - band)
    check_size(view_size)
    canvas = Image.new("RGBA", (w, h), (255, 255, 255, 0 if transparent else 255))
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((w / 2, title_px * 0.4), title, font=ui_font(title_px, True), fill=TEXT_COLOUR,
                  anchor="ma")  # fmt: skip
    font = ui_font(cap_px)
    with OffscreenView(view_size, model=model, level=level, transparent=transparent) as view:
        for k, hip in enumerate(hips):
            snap = at_pose(snapshot, hip_flexion=float(hip))
            vi = view.render(snap, anchors=snap.display.labels)
            labels = list(vi.anchors) if snap.display.labels else None
            cell = compose(vi, view_size, 0, transparent, None, None, labels, dpi,
                           snap.display.colour_by != "identity")  # fmt: skip
            r, c = divmod(k, cols)
            x, y = c * cell_w, top + r * cell_h
            canvas.alpha_composite(Image.fromarray(cell, "RGBA"), (x, y))
            draw.text((x + cell_w / 2, y + cell_h - band / 2), pose_caption(snap.pose), font=font,
                      fill=TEXT_COLOUR, anchor="mm")  # fmt: skip
            if progress:
                progress((k + 1) / n, f"pose {k + 1}/{n}: hip {hip:g} deg")
    return np.asarray(canvas, np.uint8)
