"""Offscreen rendering set-up (EGL when no display is attached).

Stills, contact sheets, handouts and videos are drawn by ``hipflex.media`` through the window's
scene (``LiveScene``); this module only keeps what the scene layer itself needs.
"""

from __future__ import annotations

import os

from hipflex.fileio import atomic_write_bytes

__all__ = ["atomic_write_bytes"]


def _prefer_egl() -> None:
    """Without a display VTK should go straight to EGL instead of trying X first."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
