"""Saving a chart: SVG or PDF (vector, text stays text) or PNG, atomically, attribution embedded."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from hipflex.attribution import ATTRIBUTION
from hipflex.errors import HipFlexError
from hipflex.fileio import atomic_write_bytes, check_target

FIGURE_FORMATS = {".svg": "svg", ".pdf": "pdf", ".png": "png"}
# Editable text in vector files: SVG keeps <text>, PDF embeds TrueType (Type 42) fonts.
VECTOR_TEXT: dict[str, Any] = {"svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42}


def figure_metadata(fmt: str, title: str, attribution: str) -> dict[str, str]:
    """Metadata keys each matplotlib backend understands, carrying the attribution."""
    if fmt == "png":
        return {"Title": title, "Software": "HipFlex", "Copyright": attribution}
    if fmt == "pdf":
        return {"Title": title, "Author": "HipFlex", "Creator": "HipFlex",
                "Subject": "Hip flexion, computed by HipFlex", "Keywords": attribution}  # fmt: skip
    return {"Title": title, "Creator": "HipFlex", "Rights": attribution,
            "Description": "Hip flexion, computed by HipFlex"}  # fmt: skip


def figure_bytes(
    fig: Figure, fmt: str, title: str = "HipFlex chart", attribution: str = ATTRIBUTION,
    dpi: float = 200,
) -> bytes:  # fmt: skip
    """Render ``fig`` to bytes in ``fmt`` ("svg", "pdf" or "png")."""
    buf = io.BytesIO()
    with matplotlib.rc_context(VECTOR_TEXT):  # type: ignore[arg-type,unused-ignore]
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=figure_metadata(fmt, title, attribution),
                    facecolor="white")  # fmt: skip
    return buf.getvalue()


def save_figure(
    fig: Figure,
    path: Path | str,
    force: bool = False,
    title: str | None = None,
    attribution: str | None = None,
    dpi: float = 200,
) -> Path:
    """Write ``fig`` as SVG, PDF or PNG (by suffix); never a half-written file."""
    path = Path(path)
    fmt = FIGURE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise HipFlexError(f"{path}: unknown figure format; use .svg, .pdf or .png")
    check_target(path, force)
    if title is None:
        ax = fig.axes[0] if fig.axes else None
        title = (ax.get_title(loc="left") or ax.get_title()) if ax is not None else ""
    data = figure_bytes(fig, fmt, title or "HipFlex chart", attribution or ATTRIBUTION, dpi)
    atomic_write_bytes(path, data)
    return path
