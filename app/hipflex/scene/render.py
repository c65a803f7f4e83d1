"""Offscreen rendering to PNG (EGL when no display is attached)."""

from __future__ import annotations

import os
from pathlib import Path

from hipflex.errors import HipFlexError
from hipflex.fileio import atomic_write_bytes

__all__ = ["atomic_write_bytes", "render_png"]


def _prefer_egl() -> None:
    """Without a display VTK should go straight to EGL instead of trying X first."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def render_png(
    path: Path,
    hip: float,
    knee: float,
    view: str = "lateral",
    size: tuple[int, int] = (1600, 1200),
    transparent: bool = False,
    muscles: list[str] | None = None,
    level: str = "interactive",
    force: bool = True,
) -> Path:
    """Render the posed hip to ``path`` (PNG with the attribution in a text chunk)."""
    import io

    _prefer_egl()
    import pyvista as pv
    from PIL import Image, PngImagePlugin

    from hipflex.model.skeleton import ModelContext
    from hipflex.scene.builder import Pose, SceneBuilder

    w, h = size
    if not (16 <= w <= 8000 and 16 <= h <= 8000):
        raise HipFlexError(f"--size {w}x{h}: each side must be 16..8000 px")
    path = Path(path)
    if path.exists() and not force:
        raise HipFlexError(f"{path}: exists; pass --force to overwrite")
    ctx = ModelContext.load()
    builder = SceneBuilder(ctx, level=level)
    chosen = builder.check_muscles(list(ctx.muscle_ids) if muscles is None else muscles)
    pose = Pose(hip_flexion=hip, knee_flexion=knee)
    builder.transforms(pose)  # validate the pose before opening a render window
    plotter = pv.Plotter(off_screen=True, window_size=[w, h], lighting="three lights")
    try:
        plotter.set_background("white")  # type: ignore[arg-type,unused-ignore]
        builder.populate(plotter, pose, chosen)
        builder.set_view(plotter, view)
        img = plotter.screenshot(transparent_background=transparent, return_img=True)
        if img is None:
            raise HipFlexError("the renderer returned no image")
    finally:
        plotter.close()
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "HipFlex")
    info.add_text("Description", f"hip flexion {hip:g} deg, knee flexion {knee:g} deg, {view} view")
    info.add_text("Copyright", ctx.pack.attribution)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", pnginfo=info)
    atomic_write_bytes(path, buf.getvalue())
    return path
