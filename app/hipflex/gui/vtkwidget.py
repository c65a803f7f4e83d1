"""A pyvista plotter drawing into a native Qt child window (VTK's own Qt widget).

pyvistaqt's ``QtInteractor`` renders into a ``QOpenGLWidget``: every frame is drawn into an
offscreen framebuffer and then composed with the whole window by Qt through OpenGL. On the
software renderer that composition costs about 6 ms per 3D frame, and every other widget repaint
(a slider moving) pays about 3 ms for it too (docs/performance.md). VTK's
``QVTKRenderWindowInteractor`` with its default ``QWidget`` base instead hands VTK a native
child window, so VTK swaps straight into it and the rest of the window stays raster-painted.

``NativePlotter`` is a pyvista ``BasePlotter`` (renderers, camera, screenshots, interactor
styles) that owns such a widget, as ``interactor``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QWidget
from pyvista.plotting.plotter import BasePlotter
from pyvista.plotting.render_window_interactor import RenderWindowInteractor
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor


class _VTKWidget(QVTKRenderWindowInteractor):
    """VTK's widget, able to let go of its render window before the X server goes away.

    A widget wrapper may outlive its window until interpreter exit; if it still held the
    render window then, VTK would close its X connection after Xvfb had stopped and Xlib would
    end the process with status 1. ``release`` finalises the window now and drops it; the
    widget ignores every event after that but its deletion.
    """

    _released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._RenderWindow.Finalize()
        self._RenderWindow = None
        self._Iren = None
        self.hide()
        self.deleteLater()

    def Finalize(self) -> None:
        if not self._released:
            self._RenderWindow.Finalize()

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        # VTK's widget sets the window's DPI from the screen's pixel ratio, which scales text
        # only; LiveScene scales text, offsets and line widths together by its own ``scale``
        # (as for offscreen stills), so text stays at 72 DPI here.
        if not self._released:
            self._RenderWindow.SetDPI(72)

    def event(self, ev: QEvent) -> bool:
        if self._released and ev.type() != QEvent.Type.DeferredDelete:
            return False
        return bool(super().event(ev))


class NativePlotter(BasePlotter):
    """A plotter whose render window lives in ``self.interactor``, a native Qt widget.

    Call ``update()`` to ask Qt for a repaint (coalesced); ``render()`` draws at once.
    """

    def __init__(self, parent: QWidget | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interactor = _VTKWidget(parent)
        self.ren_win = self.interactor.GetRenderWindow()
        self.ren_win.SetMultiSamples(0)  # software rendering: no multisampling
        for renderer in self.renderers:
            self.ren_win.AddRenderer(renderer)
        self.iren = RenderWindowInteractor(self, interactor=self.ren_win.GetInteractor())
        # pyvista's mouse-move observer only tracks the pointer; it would run on every move
        self.iren.interactor.RemoveObservers("MouseMoveEvent")
        self.iren.initialize()
        self._first_time = False  # BasePlotter renders only once "shown"; the widget is the show

    def update(self) -> None:  # type: ignore[override]
        """Schedule a repaint through Qt (never renders synchronously)."""
        self.interactor.update()

    def close(self) -> None:
        """Release VTK's window before the Qt widget goes away."""
        if self._closed:
            return
        super().close()
        self.interactor.release()
        self.ren_win = None
