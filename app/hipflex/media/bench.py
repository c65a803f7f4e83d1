"""``hipflex bench --media``: export timings against the targets of the handouts issue.

Each figure is the median over ``repeats`` runs of the whole export (rendering, encoding and the
atomic write) with the model already loaded, as in the window; the first, cold run (meshes read,
plotter created) is reported separately.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGETS = {"png_3000x2000": 2.0, "handout_pdf": 10.0, "video_4s_30fps_720p": 30.0}


def _time(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_media_bench(repeats: int = 3) -> dict[str, float]:
    """Print and return the median seconds per export (keys as in ``TARGETS``)."""
    from hipflex.media.handout import make_handout
    from hipflex.media.still import describe, render_still, write_png
    from hipflex.media.video import make_video
    from hipflex.model.hipmodel import load_model
    from hipflex.state import Camera, Snapshot

    t0 = time.perf_counter()
    model = load_model()
    print(f"model loaded in {time.perf_counter() - t0:.2f} s", flush=True)
    snap = Snapshot(visible=tuple(model.muscles), camera=Camera(view="lateral"))
    snap = snap.model_copy(update={"pose": snap.pose.model_copy(update={"hip_flexion": 110.0})})
    with tempfile.TemporaryDirectory(prefix="hipflex-bench-") as tmp:
        out = Path(tmp)

        def png() -> None:
            rgba = render_still(snap, (3000, 2000), model=model)
            write_png(out / "still.png", rgba, describe(snap), force=True)

        def pdf() -> None:
            make_handout(out / "handout.pdf", force=True, model=model)

        def mp4() -> None:
            make_video(out / "sweep.mp4", seconds=4, fps=30, size=(1280, 720), force=True,
                       model=model)  # fmt: skip

        results: dict[str, float] = {}
        for name, fn in (("png_3000x2000", png), ("handout_pdf", pdf),
                         ("video_4s_30fps_720p", mp4)):  # fmt: skip
            cold = _time(fn)
            runs = [_time(fn) for _ in range(repeats)]
            results[name] = statistics.median(runs)
            verdict = "ok" if results[name] <= TARGETS[name] else "OVER TARGET"
            print(f"{name:22s} median {results[name]:6.2f} s  (first run {cold:5.2f} s; runs "
                  f"{', '.join(f'{r:.2f}' for r in runs)}; target <= {TARGETS[name]:g} s: "
                  f"{verdict})", flush=True)  # fmt: skip
    return results
