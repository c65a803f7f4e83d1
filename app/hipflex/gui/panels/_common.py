"""Small helpers the panels share: coalescing timers, colour swatches, HTML escaping."""

from __future__ import annotations

import html
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

RGB = tuple[float, float, float]
LINK_SCHEME = "hipflex"  # in-panel links "hipflex:muscle:<id>" select that muscle


def coalescer(parent: QObject, msec: int, slot: Callable[[], None]) -> QTimer:
    """A single-shot timer owned by ``parent``: ``start()`` it on every event, ``slot`` runs once
    after the last one (a slider drag fires many events per second; the panel redraws once)."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(msec)
    timer.timeout.connect(slot)
    return timer


class Debouncer(QObject):
    """Runs ``slot`` ``msec`` after the last ``poke()``, but at least every ``max_wait`` ms
    while pokes keep coming: text panels stay live during playback without costing an
    engine call per frame."""

    def __init__(self, parent: QObject, msec: int, max_wait: int, slot: Callable[[], None]) -> None:
        super().__init__(parent)
        self._timer = coalescer(self, msec, self._fire)
        self._slot = slot
        self._max_wait = max_wait / 1000.0
        self._since: float | None = None

    def poke(self) -> None:
        now = time.monotonic()
        if self._since is None:
            self._since = now
        if now - self._since < self._max_wait or not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        self._since = None

    def isActive(self) -> bool:
        return self._timer.isActive()

    def _fire(self) -> None:
        self._since = None
        self._slot()


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
