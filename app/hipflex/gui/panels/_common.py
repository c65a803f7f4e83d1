"""Small helpers the panels share: coalescing timers, colour swatches, HTML escaping."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

RGB = tuple[float, float, float]


def coalescer(parent: QObject, msec: int, slot: Callable[[], None]) -> QTimer:
    """A single-shot timer owned by ``parent``: ``start()`` it on every event, ``slot`` runs once
    after the last one (a slider drag fires many events per second; the panel redraws once)."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(msec)
    timer.timeout.connect(slot)
    return timer


def qcolor(rgb: RGB | str) -> QColor:
    if isinstance(rgb, str):
        return QColor(rgb)
    r, g, b = (max(0, min(255, round(255 * c))) for c in rgb)
    return QColor(r, g, b)


def swatch(rgb: RGB | str, size: int = 14) -> QIcon:
    """A filled rounded square with a thin dark border, so pale colours still show."""
    pm = QPixmap(size, size)
    pm.fill(QColor(0, 0, 0, 0))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor(60, 60, 60))
    p.setBrush(qcolor(rgb))
    p.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    p.end()
    return QIcon(pm)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)
