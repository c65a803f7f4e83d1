"""Sweep and knee-drive animations to MP4 (H.264) or GIF, rendered offscreen through one plotter.

Frames come from ``motion`` (angles per frame) and one ``OffscreenView``, whose actors are moved,
never rebuilt, between frames. The encoder is imageio-ffmpeg's bundled ffmpeg. The file is
written beside its target under a temporary name and renamed at the end, so a cancelled or failed
export leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from hipflex.errors import HipFlexError
from hipflex.fileio import check_target
from hipflex.media.jobs import Cancel, Job, Progress
from hipflex.media.motion import HIP_FROM, HIP_TO, motion_frames
from hipflex.media.still import (
    RGBA,
    TEXT_COLOUR,
    OffscreenView,
    at_pose,
    attribution_line,
    check_size,
    pack_attribution,
    ui_font,
)
from hipflex.scene.views import VIEWS
from hipflex.state import Camera, Snapshot

if TYPE_CHECKING:
    from hipflex.model.hipmodel import HipModel

VIDEO_FORMATS = (".mp4", ".gif")
MAX_FRAMES = 3000


@contextlib.contextmanager
def temp_beside(path: Path) -> Iterator[Path]:
    """A temporary file next to ``path``, renamed onto it when the block ends without error and
    removed otherwise (errors, cancelling, Ctrl+C)."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise HipFlexError(f"{path}: cannot write here ({exc.strerror})") from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        raise HipFlexError(
            f"{path}: write failed ({exc.strerror or exc}); nothing was written"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _caption(frame: RGBA, text: str) -> RGBA:
    img = Image.fromarray(frame)
    h = img.size[1]
    font = ui_font(max(12, h / 30))
    ImageDraw.Draw(img).text((h / 40, h - h / 40), text, font=font, fill=TEXT_COLOUR[:3],
                             anchor="ld")  # fmt: skip
    return np.asarray(img)


def _frame_camera(view: OffscreenView, snap: Snapshot, hips: np.ndarray, knees: np.ndarray) -> None:
    """Frame the camera once on the whole motion (a few sampled poses); it then stays still
    while the leg moves."""
    picks = np.unique(np.linspace(0, len(hips) - 1, 7).round().astype(int))
    poses = [at_pose(snap, hip_flexion=float(hips[i]), knee_flexion=float(knees[i])) for i in picks]
    # a little smaller than the tight fit: the caption band at the bottom stays clear
    view.frame_poses(poses, snap.camera.view or "lateral", zoom=0.9)


def render_frames(
    view: OffscreenView,
    snap: Snapshot,
    hips: np.ndarray,
    knees: np.ndarray,
    job: Job,
    captions: bool = True,
) -> Iterator[RGBA]:
    """RGB frames (h, w, 3) of ``snap`` at each (hip, knee), the camera held still."""
    _frame_camera(view, snap, hips, knees)
    n = len(hips)
    for k, (hip, knee) in enumerate(zip(hips, knees, strict=True)):
        job.step(0.05 + 0.9 * k / n, f"frame {k + 1}/{n}")
        vi = view.render(at_pose(snap, hip_flexion=float(hip), knee_flexion=float(knee)),
                         camera=False)  # fmt: skip
        frame = np.ascontiguousarray(vi.rgba[..., :3])
        if captions:
            frame = _caption(frame, f"hip flexion {hip:5.1f}°   knee flexion {knee:5.1f}°")
        yield frame


def _write_mp4(tmp: Path, frames: Iterator[RGBA], size: tuple[int, int], fps: float,
               attribution: str) -> None:  # fmt: skip
    import imageio_ffmpeg

    meta = attribution_line(attribution)
    writer = imageio_ffmpeg.write_frames(
        str(tmp), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
        quality=None, bitrate=None, macro_block_size=2, ffmpeg_log_level="error",
        output_params=["-f", "mp4", "-preset", "veryfast", "-crf", "20", "-r", f"{fps:g}",
                       "-movflags", "+faststart", "-metadata", "title=HipFlex animation",
                       "-metadata", f"comment={meta}", "-metadata", f"copyright={meta}",
                       "-metadata", "encoder=HipFlex"],
    )  # fmt: skip
    writer.send(None)
    try:
        for frame in frames:
            writer.send(frame.tobytes())
    finally:
        try:
            writer.close()
        except (OSError, RuntimeError) as exc:
            raise HipFlexError(f"the video encoder failed ({exc})") from exc


def _write_gif(tmp: Path, frames: Iterator[RGBA], fps: float, attribution: str) -> None:
    images = [Image.fromarray(f).quantize(colors=255, method=Image.Quantize.MEDIANCUT,
                                          dither=Image.Dither.NONE) for f in frames]  # fmt: skip
    if not images:
        raise HipFlexError("no frames to write")
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=round(1000 / fps), comment=attribution_line(attribution).encode(),
                   optimize=False, disposal=1)  # fmt: skip
    with open(tmp, "wb") as fh:
        fh.write(buf.getvalue())
        fh.flush()
        os.fsync(fh.fileno())


def make_video(
    path: Path | str,
    motion: str = "sweep",
    seconds: float = 4,
    fps: float = 30,
    size: tuple[int, int] = (1280, 720),
    view: str = "lateral",
    start: float = HIP_FROM,
    stop: float = HIP_TO,
    knee_flexion: float = 0,
    snapshot: Snapshot | None = None,
    force: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    model: HipModel | None = None,
    level: str = "interactive",
    captions: bool = True,
) -> Path:
    """Animate ``motion`` ("sweep" or "knee_drive") to MP4 or GIF (chosen by the suffix).

    ``snapshot`` supplies the muscles, style and colours (its pose and camera view are replaced);
    MP4 sizes are rounded down to even numbers, which H.264 in yuv420p requires. Frames use the
    interactive meshes without multisampling by default: about four times faster than print
    quality on the software renderer, and the difference hardly shows in a moving picture.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_FORMATS:
        raise HipFlexError(f"{path}: use a .mp4 or .gif name")
    if view not in VIEWS:
        raise HipFlexError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")
    if not (0 < fps <= 120 and seconds > 0):
        raise HipFlexError("--fps must be 1..120 and --seconds positive")
    n = round(seconds * fps)
    if not 2 <= n <= MAX_FRAMES:
        raise HipFlexError(f"{n} frames: a video has 2..{MAX_FRAMES} frames (seconds x fps)")
    w, h = check_size(size)
    if suffix == ".mp4":
        w, h = w - w % 2, h - h % 2
    hips, knees = motion_frames(motion, n, start, stop, knee_flexion)
    base = snapshot or Snapshot()
    if snapshot is None:
        from hipflex.anatomy import load_anatomy

        base = base.model_copy(update={"visible": tuple(load_anatomy().muscles)})
    base = base.model_copy(update={"camera": Camera(view=view)})  # type: ignore[arg-type]
    for hip, knee in ((hips.min(), knees.min()), (hips.max(), knees.max())):
        at_pose(base, hip_flexion=float(hip), knee_flexion=float(knee))  # fail before rendering
    check_target(path, force)
    job = Job(str(path), progress, cancel)
    job.step(0.0, "preparing the scene")
    with OffscreenView((w, h), model=model, level=level, antialias="none") as off:
        attribution = off.model.ctx.pack.attribution or pack_attribution()
        frames = render_frames(off, base, hips, knees, job, captions)
        with temp_beside(path) as tmp:
            if suffix == ".mp4":
                _write_mp4(tmp, frames, (w, h), fps, attribution)
            else:
                _write_gif(tmp, frames, fps, attribution)
            job.step(0.97, "saving")
    job.done(f"wrote {path} ({n} frames, {w}x{h}, {fps:g} fps)")
    return path
