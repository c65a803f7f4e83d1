"""Print-quality stills of the 3D view alone: any size up to 8000 px, labels, title, caption.

The 3D drawing goes through the same scene object as the window (``_scene_for``), so an export
shows exactly what the window shows. Text (labels with leader lines, title, caption) is drawn
afterwards with a TrueType font sized for the image, so it stays sharp at 300 dpi print sizes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from hipflex.errors import HipFlexError, PoseError
from hipflex.fileio import atomic_write_bytes, check_target
from hipflex.scene.colours import MOMENT_ARM_COLOUR
from hipflex.scene.layout import Box, Segment, callout_offsets, place_callout
from hipflex.scene.render import _prefer_egl
from hipflex.state import Pose, Snapshot, Task, range_problem

if TYPE_CHECKING:
    import pyvista as pv

    from hipflex.model.hipmodel import HipModel
    from hipflex.scene.builder import SceneBuilder

RGBA = NDArray[np.uint8]
MAX_SIDE = 8000
MIN_SIDE = 16
MM_PER_INCH = 25.4
TEXT_COLOUR = (25, 25, 25, 255)
LEADER_COLOUR = (40, 40, 40, 255)


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    w, h = (int(v) for v in size)
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise HipFlexError(f"size {w}x{h}: each side must be {MIN_SIDE}..{MAX_SIDE} px")
    return w, h


def print_size_to_pixels(width_mm: float, height_mm: float, dpi: float) -> tuple[int, int]:
    """Pixels for a printed size: 180 x 120 mm at 300 dpi is 2126 x 1417 px."""
    if not (width_mm > 0 and height_mm > 0 and dpi > 0):
        raise HipFlexError("print size and dpi must be positive")
    size = (round(width_mm / MM_PER_INCH * dpi), round(height_mm / MM_PER_INCH * dpi))
    if max(size) > MAX_SIDE:
        raise HipFlexError(
            f"{width_mm:g}x{height_mm:g} mm at {dpi:g} dpi is {size[0]}x{size[1]} px; "
            f"each side must be at most {MAX_SIDE} px"
        )
    return check_size(size)


# -- the shared 3D scene ------------------------------------------------------------------------
class _Scene(Protocol):
    def apply(self, snap: Snapshot, values: Mapping[str, Any] | None = None) -> None: ...
    def set_camera(self, camera: Any) -> None: ...
    def fit(self, points: NDArray[np.float64], view: str) -> None: ...
    def framed_points(self) -> NDArray[np.float64]: ...
    def label_anchors(self, snap: Snapshot) -> dict[str, NDArray[np.float64]]: ...
    def take_arm_callout(self) -> tuple[str, NDArray[np.float64]] | None: ...


def _scene_for(plotter: pv.Plotter, builder: SceneBuilder, scale: float) -> _Scene:
    """The window's scene class drawing offscreen; the one place to change if it moves."""
    from hipflex.scene.live import LiveScene

    return LiveScene(plotter, builder, scale=scale)  # type: ignore[return-value,unused-ignore]


@dataclass
class ViewImage:
    """A rendered view and where things landed in it."""

    rgba: RGBA
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (x, y) px
    # the selected muscle's moment-arm caption and where its leader points, (x, y) px, when
    # the caller draws the text (labels on): then it is left out of the rendered pixels
    callout: tuple[str, tuple[float, float]] | None = None


class OffscreenView:
    """One offscreen plotter and scene, reused for many stills or video frames.

    Rebuilding a plotter costs far more than moving its actors, so series, contact sheets,
    handouts and videos render every pose through one of these.
    """

    def __init__(
        self,
        size: tuple[int, int],
        model: HipModel | None = None,
        builder: SceneBuilder | None = None,
        level: str = "full",
        transparent: bool = False,
        antialias: str = "msaa",
        scale: float | None = None,
    ) -> None:
        """``scale`` sizes text, points and line widths (default: the height over 720 px, as
        on a screen); a picture printed small wants more."""
        _prefer_egl()
        import pyvista as pv

        from hipflex.model.hipmodel import HipModel
        from hipflex.model.skeleton import ModelContext
        from hipflex.scene.builder import SceneBuilder

        self.size = check_size(size)
        if model is None:
            ctx = builder.ctx if builder is not None else ModelContext.load()
            model = HipModel(ctx)
        self.model = model
        self.builder = builder or SceneBuilder(model.ctx, level=level)
        self.transparent = transparent
        w, h = self.size
        self.plotter = pv.Plotter(off_screen=True, window_size=[w, h], lighting="three lights")
        if antialias == "none":
            # 4x MSAA more than doubles the render time on the software renderer; videos go
            # without (FXAA falls back to costly SSAA under EGL)
            self.plotter.ren_win.SetMultiSamples(0)  # type: ignore[union-attr,unused-ignore]
        self.plotter.set_background("white")  # type: ignore[arg-type,unused-ignore]
        self.scene = _scene_for(self.plotter, self.builder, scale=scale or max(1.0, h / 720))

    def __enter__(self) -> OffscreenView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.plotter.close()

    def resize(self, size: tuple[int, int]) -> None:
        self.size = check_size(size)
        self.plotter.window_size = list(self.size)

    def frame_poses(self, snaps: Iterable[Snapshot], view: str, zoom: float = 1.0) -> None:
        """Point the camera from preset ``view`` at what it frames (the lumbar spine, pelvis,
        femur and the muscles shown) in every one of ``snaps``: the whole motion stays in the
        picture."""
        points = []
        for snap in snaps:
            self.scene.apply(snap, None)
            points.append(self.scene.framed_points())
        self.scene.fit(np.concatenate(points), view)
        self.plotter.camera.zoom(zoom)
        self.plotter.reset_camera_clipping_range()

    def values(self, snap: Snapshot) -> dict[str, NDArray[np.float64]]:
        """The engine's per-muscle quantities at the snapshot's pose and for its hold task (for
        colours by activation, arms)."""
        with task_applied(self.model, snap.task):
            res = self.model.at(**snap.pose.as_dict(),
                                hip_acceleration=snap.task.hip_acceleration)  # fmt: skip
        return {k: v[0] for k, v in res.values.items()}

    def render(self, snap: Snapshot, anchors: bool = False, camera: bool = True) -> ViewImage:
        """Draw ``snap`` (its pose, style, colours, camera) and grab the pixels.

        Labels are not drawn by the scene here: ``anchors`` returns where they point, and the
        caller draws them as crisp text (PIL for stills, vector text in handouts); with it the
        selected muscle's moment-arm caption is also left out of the pixels and returned, so
        the caller can place it clear of its labels.
        """
        values = self.values(snap)
        plain = snap.model_copy(
            update={"display": snap.display.model_copy(update={"labels": False})}
        )
        self.scene.apply(plain, values)
        if camera:
            self.scene.set_camera(snap.camera)
        arm = self.scene.take_arm_callout() if anchors else None
        self.plotter.render()  # screenshot() alone may hand back the previous frame
        img = self.plotter.screenshot(transparent_background=self.transparent, return_img=True)
        if img is None:
            raise HipFlexError("the renderer returned no image")
        rgba = np.asarray(img, np.uint8)
        if rgba.shape[2] == 3:
            rgba = np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])
        found = self._project(self.scene.label_anchors(snap)) if anchors else {}
        callout = None
        if arm is not None and (at := self._project({"": arm[1]}).get("")) is not None:
            callout = (arm[0], at)
        return ViewImage(np.ascontiguousarray(rgba), found, callout)

    def _project(self, points: Mapping[str, NDArray[np.float64]]) -> dict[str, tuple[float, float]]:
        ren = self.plotter.renderer
        w, h = self.size
        out = {}
        for name, p in points.items():
            ren.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
            ren.WorldToDisplay()
            x, y, _ = ren.GetDisplayPoint()
            if 0 <= x < w and 0 <= y < h:
                out[name] = (float(x), float(h - y))
        return out


def antialias_for(size: tuple[int, int]) -> str:
    """Multisampling for screen-sized images; none from 4 megapixels up (print sizes), where a
    pixel step is 0.085 mm at 300 dpi and 4x MSAA would double the render time."""
    return "none" if size[0] * size[1] >= 4_000_000 else "msaa"


# -- text drawn onto the image --------------------------------------------------------------------
@lru_cache(maxsize=4)
def _font_file(bold: bool) -> str:
    from matplotlib import font_manager

    prop = font_manager.FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal")
    return str(font_manager.findfont(prop))


def ui_font(px: float, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_file(bold), max(6, round(px)))


def text_px(size: tuple[int, int], points: float, dpi: float | None) -> float:
    """Font size in pixels: ``points`` at a known print dpi, else scaled to the image height
    (as if the image were printed 12 cm tall). Small prints get smaller text: never more than
    ``points`` / 200 of the image height (14 pt: 7%), so a thumbnail keeps room for the view."""
    px = points * dpi / 72.0 if dpi else points * size[1] / (120 / MM_PER_INCH * 72.0)
    return min(px, points / 200 * size[1])


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float
) -> list[str]:
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        words = para.split()
        line = ""
        for word in words:
            trial = f"{line} {word}".strip()
            if line and draw.textlength(trial, font=font) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def _text_block(
    size: tuple[int, int], text: str | None, points: float, dpi: float | None, bold: bool
) -> tuple[ImageFont.FreeTypeFont, list[str], int]:
    """Font, wrapped lines and the band height (px) for a title or caption."""
    if not text:
        return ui_font(10), [], 0
    font = ui_font(text_px(size, points, dpi), bold)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    lines = _wrap(probe, text, font, 0.94 * size[0])
    line_h = font.size * 1.3
    return font, lines, round(line_h * len(lines) + font.size * 0.8)


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    font: ImageFont.FreeTypeFont,
    top: float,
    width: int,
) -> None:
    y = top + font.size * 0.4
    for line in lines:
        draw.text((width / 2, y), line, font=font, fill=TEXT_COLOUR, anchor="ma")
        y += font.size * 1.3


def draw_labels(
    img: Image.Image,
    anchors: Mapping[str, tuple[float, float]],
    font_px: float,
    offset: tuple[float, float] = (0.0, 0.0),
    band: tuple[float, float] | None = None,
) -> tuple[list[Segment], list[Box]]:
    """Labels in two columns at the image sides, spread so they never overlap, each with a
    leader line to its anchor (the middle of the muscle's line of action, or a landmark).
    Returns the leader lines and label boxes (image pixels), for text placed after them."""
    segments: list[Segment] = []
    boxes: list[Box] = []
    if not anchors:
        return segments, boxes
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))  # drawn apart, then blended over the view
    draw = ImageDraw.Draw(layer)
    font = ui_font(font_px)
    w, h = img.size
    pad = font_px * 0.3
    ox, oy = offset
    pts = {n: (x + ox, y + oy) for n, (x, y) in anchors.items()}
    centre = float(np.median([p[0] for p in pts.values()]))
    step = font_px * 1.45
    for side in ("left", "right"):
        names = [n for n, p in pts.items() if (p[0] < centre) == (side == "left")]
        names.sort(key=lambda n: pts[n][1])
        y0, y1 = band if band is not None else (0.0, float(h))
        ys = _spread([pts[n][1] for n in names], step, y0 + font_px, y1 - font_px)
        for name, y in zip(names, ys, strict=True):
            ax, ay = pts[name]
            tw = draw.textlength(name, font=font)
            x0 = 0.02 * w if side == "left" else w - 0.02 * w - tw
            x_end = x0 + tw + pad if side == "left" else x0 - pad
            box = (
                x0 - pad,
                y - font_px * 0.62 - pad / 2,
                x0 + tw + pad,
                y + font_px * 0.62 + pad / 2,
            )
            draw.rounded_rectangle(box, radius=pad, fill=(255, 255, 255, 215))
            draw.line((x_end, y, ax, ay), fill=LEADER_COLOUR, width=max(1, round(font_px / 12)))
            boxes.append(box)
            segments.append(((x_end, y), (ax, ay)))
            r = max(2.0, font_px / 6)
            draw.ellipse((ax - r, ay - r, ax + r, ay + r), fill=LEADER_COLOUR)
            draw.text((x0, y), name, font=font, fill=TEXT_COLOUR, anchor="lm")
    img.alpha_composite(layer)
    return segments, boxes


def draw_callout(
    img: Image.Image,
    text: str,
    anchor: tuple[float, float],
    font_px: float,
    segments: list[Segment],
    boxes: list[Box],
    band: tuple[float, float],
) -> Box:
    """The selected muscle's moment-arm caption on a pale box framed in the lever's colour,
    with a leader to the lever, placed clear of the labels' leaders and boxes (as the window
    places it). Returns its box."""
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))  # drawn apart, then blended over
    draw = ImageDraw.Draw(layer)
    font = ui_font(font_px)
    pad = font_px * 0.35
    w = draw.textlength(text, font=font) + 2 * pad
    h = font_px * 1.25 + pad
    # place_callout works y-up: flip the image's rows
    flip_seg = [((a[0], -a[1]), (b[0], -b[1])) for a, b in segments]
    flip_box = [(b[0], -b[3], b[2], -b[1]) for b in boxes]
    bounds = (0.0, -band[1], float(img.size[0]), -band[0])
    x, y_up = place_callout((anchor[0], -anchor[1]), (w, h),
                            callout_offsets(w, h, 1.5 * font_px, 4.5 * font_px),
                            flip_seg, flip_box, bounds)  # fmt: skip
    box = (x, -(y_up + h), x + w, -y_up)
    colour = (*(round(255 * c) for c in MOMENT_ARM_COLOUR), 255)
    cx = min(max(anchor[0], box[0]), box[2])  # the leader leaves the box's nearest edge
    cy = box[1] if anchor[1] < box[1] else box[3]
    line = max(1, round(font_px / 12))
    draw.line((anchor[0], anchor[1], cx, cy), fill=colour, width=line)
    draw.rectangle(box, fill=(255, 255, 255, 230), outline=colour, width=line)
    draw.text((box[0] + pad, (box[1] + box[3]) / 2), text, font=font, fill=colour, anchor="lm")
    img.alpha_composite(layer)
    return box


def _spread(ys: list[float], step: float, lo: float, hi: float) -> list[float]:
    """Label heights near ``ys`` (sorted) but at least ``step`` apart, inside lo..hi."""
    out: list[float] = []
    for y in ys:
        out.append(max(y, lo, out[-1] + step if out else lo))
    overflow = (out[-1] - hi) if out else 0.0
    if overflow > 0:  # push the column up, keeping the spacing
        out = [y - overflow for y in out]
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - step)
    return out


def compose(
    view: ViewImage,
    size: tuple[int, int],
    top: int,
    transparent: bool,
    title: str | None,
    caption: str | None,
    labels: Iterable[str] | None,
    dpi: float | None,
    legend_shown: bool = False,
) -> RGBA:
    """Place the rendered view under the title band and add the text; labels keep clear of the
    title, the caption and (when ``legend_shown``) the scene's colour legend at the bottom."""
    w, h = size
    canvas = Image.new("RGBA", (w, h), (255, 255, 255, 0 if transparent else 255))
    canvas.alpha_composite(Image.fromarray(view.rgba, "RGBA"), (0, top))
    draw = ImageDraw.Draw(canvas)
    tfont, tlines, _ = _text_block(size, title, 14, dpi, True)
    _draw_lines(draw, tlines, tfont, 0, w)
    cfont, clines, cband = _text_block(size, caption, 9, dpi, False)
    _draw_lines(draw, clines, cfont, h - cband, w)
    if labels is not None:
        chosen = {n: p for n, p in view.anchors.items() if n in set(labels)}
        vh = view.rgba.shape[0]
        band = (float(top), float(top + (0.85 if legend_shown else 1.0) * vh))
        font_px = text_px(size, 8, dpi)
        segments, boxes = draw_labels(canvas, chosen, font_px, (0.0, float(top)), band)
        if view.callout is not None:
            text, (ax, ay) = view.callout
            draw_callout(canvas, text, (ax, ay + top), font_px, segments, boxes, band)
    return np.asarray(canvas, np.uint8)


def render_still(
    snapshot: Snapshot,
    size: tuple[int, int] = (1600, 1200),
    transparent: bool = False,
    title: str | None = None,
    caption: str | None = None,
    level: str = "full",
    builder: SceneBuilder | None = None,
    model: HipModel | None = None,
    dpi: float | None = None,
    view: OffscreenView | None = None,
) -> RGBA:
    """The 3D view alone as an RGBA image (h, w, 4), offscreen, up to 8000 px per side.

    Labels follow ``snapshot.display.labels``; ``dpi`` (when the image is for print) sizes the
    text in points. Pass ``view`` to reuse one offscreen plotter across many stills.
    """
    w, h = check_size(size)
    _, _, top = _text_block((w, h), title, 14, dpi, True)
    _, _, bottom = _text_block((w, h), caption, 9, dpi, False)
    inner = (w, h - top - bottom)
    if inner[1] < MIN_SIDE:
        raise HipFlexError(f"size {w}x{h}: too small for the title and caption")
    own = view is None
    if view is None:
        view = OffscreenView(inner, model=model, builder=builder, level=level,
                             transparent=transparent, antialias=antialias_for(inner))  # fmt: skip
    elif view.size != inner:
        view.resize(inner)
    try:
        vi = view.render(snapshot, anchors=snapshot.display.labels)
    finally:
        if own:
            view.close()
    labels = list(vi.anchors) if snapshot.display.labels else None
    legend_shown = snapshot.display.colour_by != "identity"
    return compose(vi, (w, h), top, transparent, title, caption, labels, dpi, legend_shown)


# -- files ------------------------------------------------------------------------------------------
def pack_attribution() -> str:
    """The attribution of the built asset pack (the static text if no pack is found)."""
    from hipflex.assets.pack import AssetPack

    try:
        return AssetPack().attribution
    except (OSError, HipFlexError):
        from hipflex.attribution import ATTRIBUTION

        return ATTRIBUTION


def png_bytes(
    rgba: RGBA, description: str, attribution: str | None = None, dpi: float | None = None
) -> bytes:
    """PNG with Software, Description and Copyright text chunks, and pHYs when ``dpi`` is set."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "HipFlex")
    info.add_text("Description", description)
    info.add_text("Copyright", attribution or pack_attribution())
    img = Image.fromarray(np.ascontiguousarray(rgba))
    opaque = img.mode == "RGBA" and int(np.asarray(rgba)[..., 3].min()) == 255
    if opaque:
        img = img.convert("RGB")  # smaller files; transparent images keep their alpha
    buf = io.BytesIO()
    kw: dict[str, Any] = {"pnginfo": info, "compress_level": 4}
    if dpi:
        kw["dpi"] = (dpi, dpi)
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def write_png(
    path: Path | str,
    rgba: RGBA,
    description: str,
    force: bool = False,
    attribution: str | None = None,
    dpi: float | None = None,
) -> Path:
    """Write a PNG atomically; refuses to overwrite without ``force``."""
    path = check_target(Path(path), force)
    atomic_write_bytes(path, png_bytes(rgba, description, attribution, dpi))
    return path


@contextmanager
def task_applied(model: HipModel, task: Task) -> Iterator[HipModel]:
    """``model`` with ``task``'s subject and strengths while the block runs, then as it was (the
    model may be the window's, which follows its own state)."""
    saved = (model.body_mass, model.height, model.strength)
    task.apply_to(model)
    try:
        yield model
    finally:
        model.body_mass, model.height, model.strength = saved


def at_pose(snapshot: Snapshot, **angles: float) -> Snapshot:
    """``snapshot`` with some joint angles changed (degrees), checked against their ranges."""
    for name, v in angles.items():
        problem = range_problem(name, v)
        if problem is not None:
            raise PoseError(f"{name.replace('_', ' ')} {problem}")
    pose = Pose.model_validate({**snapshot.pose.model_dump(), **angles})
    return snapshot.model_copy(update={"pose": pose})


def attribution_line(text: str) -> str:
    """The attribution on one line, without its Markdown heading (for metadata fields)."""
    return " ".join(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))


def describe(snapshot: Snapshot) -> str:
    """The pose and view in words, for PNG descriptions and captions (with the hold task when
    it is not the default one, since activation colours depend on it)."""
    from hipflex.model.contact import turned_words

    p = snapshot.pose
    view = snapshot.camera.view or "custom"
    task = snapshot.task.words()
    off = turned_words(p.hip_adduction, p.hip_rotation)
    return (f"hip flexion {p.hip_flexion:g} deg, knee flexion {p.knee_flexion:g} deg{off}, "
            f"{view} view" + (f"; hold task: {task}" if task else ""))  # fmt: skip
