"""The 3D view: a native VTK widget (``NativePlotter``) drawing the LiveScene, following the state.

Updates are coalesced: state changes only mark the view stale, and one zero-delay timer applies
the newest snapshot and asks Qt to repaint (``update()``, never a synchronous render from a
handler), so a fast slider drag never queues up stale frames.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QVBoxLayout, QWidget

from hipflex.gui.qtstate import Analysis, QtState
from hipflex.gui.vtkwidget import NativePlotter
from hipflex.scene.builder import SceneBuilder
from hipflex.scene.live import LiveScene
from hipflex.state import Snapshot

CLICK_TOLERANCE_PX = 4
SETTLE_MS = 250  # full detail returns this long after the last pose change


class _SwallowKeys(QObject):
    """VTK's own key bindings (w, s, e, q, 3...) would fight the app's shortcuts: drop them."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        return event.type() in (
            QEvent.Type.KeyPress,
            QEvent.Type.KeyRelease,
            QEvent.Type.ShortcutOverride,
        )


class View3D(QWidget):
    """Signals: ``frame_presented(t)`` with the perf-counter time a frame finished rendering;
    ``picked(name)`` when the user clicks a structure ("muscle:<id>", "bone:<id>" or "")."""

    frame_presented = Signal(float)
    picked = Signal(str)
    _closed = False  # set by close_view

    def __init__(self, qstate: QtState, analysis: Analysis, builder: SceneBuilder,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("view3d")
        self.qstate = qstate
        self.analysis = analysis
        self.plotter = NativePlotter(self, lighting="three lights")
        self.plotter.set_background("white")  # type: ignore[arg-type,unused-ignore]
        self.plotter.enable_trackball_style()  # type: ignore[call-arg]
        self._filter = _SwallowKeys(self)
        self.plotter.interactor.installEventFilter(self._filter)
        self.plotter.interactor.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plotter.interactor)
        self.scene = LiveScene(self.plotter, builder)  # type: ignore[arg-type]  # a BasePlotter
        # labels, legends and line widths are drawn in device pixels: scale them to the screen
        self.scene.scale = self.devicePixelRatioF()
        self._stale = False
        self._camera_stale = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.flush)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._full_detail)
        self.requested_at: float | None = None
        self._press: tuple[int, int] | None = None
        iren = self.plotter.iren
        assert iren is not None
        self._observers = [
            iren.add_observer("LeftButtonPressEvent", self._on_press),
            iren.add_observer("LeftButtonReleaseEvent", self._on_release),
            iren.add_observer("EndInteractionEvent", self._on_camera_moved),
        ]
        ren_win = self.plotter.ren_win
        assert ren_win is not None
        self._render_observer = ren_win.AddObserver("EndEvent", self._on_rendered)
        qstate.changed.connect(self._on_change)
        self._apply_with_camera(qstate.snapshot)
        self._camera_stale = False

    # -- following the state ------------------------------------------------------------------
    def _on_change(self, old: Snapshot, new: Snapshot, fields: Any) -> None:
        if "camera" in fields and new.camera != self._camera_from_mouse:
            self._camera_stale = True
        if (
            "display" in fields
            and new.camera.position is None
            and (self.scene.legend_spec(old) is None) != (self.scene.legend_spec(new) is None)
        ):
            self._camera_stale = True  # a preset frames above the colour legend when one shows
        if "pose" in fields:
            # coarser meshes while the pose is moving; full detail once it rests
            self.scene.set_detail("drag")
            self._settle.start()
        self.request()

    def _full_detail(self) -> None:
        self.scene.set_detail("full")
        self.request()

    _camera_from_mouse: object = None

    def request(self) -> None:
        """Mark the view stale; the newest state is drawn once the event loop is free."""
        if self.requested_at is None:
            self.requested_at = time.perf_counter()
        self._stale = True
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Apply the newest snapshot and schedule a repaint."""
        if not self._stale and not self._camera_stale:
            return
        self._stale = False
        snap = self.qstate.snapshot
        if self._camera_stale:
            self._apply_with_camera(snap)
            self._camera_stale = False
        else:
            self.scene.apply(snap, self.analysis.values())
        self.plotter.update()

    def _apply_with_camera(self, snap: Snapshot) -> None:
        """Apply ``snap``, set its camera, then apply again: a preset frames the pose and muscles
        of ``snap`` (not the previous ones), and labels, leaders and line widths are laid out
        for the new camera. The second pass re-poses and re-skins nothing."""
        values = self.analysis.values()
        self.scene.apply(snap, values)
        self.scene.set_camera(snap.camera)
        self.scene.apply(snap, values)

    def _on_rendered(self, *_: object) -> None:
        now = time.perf_counter()
        self.frame_presented.emit(now)
        self.requested_at = None

    def prepare_drag(self) -> None:
        """Build the coarse meshes used while dragging (once, when idle)."""
        if not self._closed:
            self.scene.prepare_drag()

    def render_now(self) -> None:
        """Synchronous full-detail render (screenshots and benchmarks only, never from handlers)."""
        if self.scene.detail != "full":
            self._settle.stop()
            self.scene.set_detail("full")
            self._stale = True
        self.flush()
        self.plotter.render()

    def resizeEvent(self, event: Any) -> None:
        """A preset camera is re-framed for the new size; a user's camera is kept."""
        super().resizeEvent(event)
        dpr = self.devicePixelRatioF()
        if dpr != self.scene.scale:  # moved to a screen with another pixel ratio
            self.scene.scale = dpr
            self.request()
        cam = self.qstate.snapshot.camera
        if cam.position is None:
            self._camera_stale = True
            self.request()

    # -- mouse --------------------------------------------------------------------------------
    def _event_position(self) -> tuple[int, int]:
        iren = self.plotter.iren
        assert iren is not None
        x, y = iren.interactor.GetEventPosition()
        return int(x), int(y)

    def _on_press(self, *_: object) -> None:
        x, y = self._event_position()
        self._press = (int(x), int(y))

    def _on_release(self, *_: object) -> None:
        if self._press is None:
            return
        x, y = self._event_position()
        moved = np.hypot(x - self._press[0], y - self._press[1])
        self._press = None
        if moved <= CLICK_TOLERANCE_PX:
            name = self.scene.pick(int(x), int(y)) or ""
            self.picked.emit(name)

    def _on_camera_moved(self, *_: object) -> None:
        cam = self.scene.camera_state(view=None)
        self._camera_from_mouse = cam
        self.qstate.state.set_camera(**cam.model_dump())

    def set_view(self, view: str) -> None:
        """Camera preset through the state (so sessions remember it)."""
        self._camera_stale = True
        self.qstate.state.set_camera(view=view, position=None, focal_point=None, up=None, zoom=1.0)
        self.request()

    # -- pictures -----------------------------------------------------------------------------
    def image(self) -> QImage:
        """The current 3D frame as a QImage (rendered offscreen-safe from the render window)."""
        self.render_now()
        rw = self.plotter.ren_win
        assert rw is not None
        rw.Render()  # pyvista's screenshot() may return the previous frame otherwise
        img = self.plotter.screenshot(return_img=True)
        assert img is not None
        arr = np.ascontiguousarray(img[..., :3])
        h, w, _ = arr.shape
        return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()

    def close_view(self) -> None:
        self._closed = True
        self._timer.stop()
        self._settle.stop()
        self.qstate.changed.disconnect(self._on_change)
        # VTK holds our bound methods: drop them, or the window can never be freed
        iren = self.plotter.iren
        if iren is not None:
            for obs in self._observers:
                iren.remove_observer(obs)
        if self.plotter.ren_win is not None:
            self.plotter.ren_win.RemoveObserver(self._render_observer)
        self.plotter.close()
