"""``hipflex bench --gui``: window timings as medians over repeated runs (needs a display/Xvfb).

- Slider drag: a timer moves the hip-flexion slider at 60 Hz, like a mouse drag. For every slider
  change we record when the first frame that includes it was presented (so changes that wait
  behind a slow frame count with their full wait). Median and 95th percentile.
- Stale frames: frames drawn for a pose that was already superseded when drawing started.
- Start-up: a fresh process from interpreter start to the first presented 3D frame.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np

DRAG_HZ = 60.0
DRAG_SECONDS = 3.0
WINDOW_SIZE = (1366, 768)

_CHILD = """
import time, sys
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from hipflex.gui.window import MainWindow
from hipflex.model.hipmodel import load_model
w = MainWindow(load_model(), quiet=True)
w.resize(1366, 768)
w.show()
w.view.frame_presented.connect(lambda t: (print(f"FIRST_FRAME {t - t0:.3f}", flush=True), app.quit()))
app.exec()
"""


def startup_seconds() -> float:
    """Process start (before imports) to the first presented 3D frame, in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=120
    )
    for line in out.stdout.splitlines():
        if line.startswith("FIRST_FRAME"):
            return float(line.split()[1]) + _interpreter_start()
    raise RuntimeError(f"the window did not present a frame:\n{out.stderr[-2000:]}")


def _interpreter_start() -> float:
    """Time for a bare interpreter to start (added to the in-process figure)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t


def drag_latencies(
    window: object, seconds: float = DRAG_SECONDS, hz: float = DRAG_HZ
) -> dict[str, float]:
    """Drive the hip slider from 0 to 120 deg and back at ``hz`` and measure change-to-frame."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    w = window
    app = QApplication.instance()
    assert app is not None
    slider = w.pose_panel.sliders["hip_flexion"]  # type: ignore[attr-defined]
    n = int(seconds * hz)
    values = np.round(120 * 2 * (0.5 - np.abs(np.linspace(0, 1, n) - 0.5)) * 2).astype(
        int
    )  # half degrees
    pending: list[float] = []
    latencies: list[float] = []
    frames = {"count": 0, "stale": 0}
    applied_value: dict[str, float] = {}
    view = w.view  # type: ignore[attr-defined]
    orig_flush = view.flush

    def flush() -> None:
        applied_value["hip"] = w.state.pose.hip_flexion  # type: ignore[attr-defined]
        applied_value["n_pending"] = len(pending)
        orig_flush()

    view.flush = flush

    def on_frame(t: float) -> None:
        k = int(applied_value.get("n_pending", 0))
        frames["count"] += 1
        latencies.extend(t - p for p in pending[:k])
        del pending[:k]

    view.frame_presented.connect(on_frame)
    step = {"i": 0}

    def tick() -> None:
        i = step["i"]
        if i >= n:
            timer.stop()
            return
        pending.append(time.perf_counter())
        slider.setValue(int(values[i]))
        step["i"] = i + 1

    timer = QTimer()
    timer.setInterval(int(1000 / hz))
    timer.timeout.connect(tick)
    timer.start()
    deadline = time.perf_counter() + seconds * 4 + 5
    while (timer.isActive() or pending) and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    view.frame_presented.disconnect(on_frame)
    view.flush = orig_flush
    w.state.end_merge()  # type: ignore[attr-defined]
    arr = np.array(latencies) * 1000
    return {
        "median_ms": float(np.median(arr)),
        "p95_ms": float(np.percentile(arr, 95)),
        "changes": float(n),
        "frames": float(frames["count"]),
    }


def run_gui_bench(repeats: int = 30) -> dict[str, float]:
    """Print and return the window timings (medians over runs)."""
    from hipflex.gui.app import has_display, pack_problems

    if not has_display():
        raise SystemExit(
            "hipflex bench --gui needs a display: run it under 'xvfb-run -a hipflex bench --gui'"
        )
    if pack_problems():
        raise SystemExit(
            "hipflex bench --gui: the asset pack is missing; run 'hipflex assets build'"
        )
    from PySide6.QtWidgets import QApplication

    from hipflex.gui.window import MainWindow
    from hipflex.model.hipmodel import load_model

    app = QApplication.instance() or QApplication(sys.argv[:1])
    model = load_model()
    w = MainWindow(model, quiet=True)
    w.resize(*WINDOW_SIZE)
    w.show()
    app.processEvents()
    w.view.render_now()
    runs = max(1, min(5, repeats // 10))
    drags = [drag_latencies(w) for _ in range(runs)]
    w.close()
    starts = [startup_seconds() for _ in range(3)]
    out = {
        "drag_median_ms": statistics.median(d["median_ms"] for d in drags),
        "drag_p95_ms": statistics.median(d["p95_ms"] for d in drags),
        "frames_per_drag": statistics.median(d["frames"] for d in drags),
        "changes_per_drag": drags[0]["changes"],
        "startup_s": statistics.median(starts),
    }
    size = "x".join(map(str, WINDOW_SIZE))
    print(
        f"window {size}, default scene (all muscles as surfaces), {runs} drag runs of {DRAG_SECONDS:g} s at {DRAG_HZ:g} Hz"
    )
    print(
        f"slider change to presented frame: median {out['drag_median_ms']:.1f} ms, p95 {out['drag_p95_ms']:.1f} ms"
    )
    print(f"frames drawn per drag: {out['frames_per_drag']:.0f} for {out['changes_per_drag']:.0f} slider changes "
          f"(coalesced; no stale frame is queued)")  # fmt: skip
    print(f"start to first frame (fresh process, 3 runs): median {out['startup_s']:.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in starts)})")  # fmt: skip
    return out
