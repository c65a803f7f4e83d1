"""File > Export image / handout / video: dialogs over the same functions the CLI calls.

The window's current state (pose, visible muscles, style, colours, camera) is what gets
exported. Long exports show a progress dialog whose Cancel button stops them cleanly (no file is
left behind); an existing file is replaced only after the file dialog's overwrite confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

from hipflex.errors import HipFlexError
from hipflex.media.jobs import ExportCancelledError

if TYPE_CHECKING:
    from hipflex.gui.window import MainWindow


def _progress_dialog(
    parent: QWidget, title: str
) -> tuple[QProgressDialog, Callable[[float, str], None], Callable[[], bool]]:
    dlg = QProgressDialog(title, "Cancel", 0, 1000, parent)
    dlg.setWindowTitle("HipFlex")
    dlg.setWindowModality(Qt.WindowModality.WindowModal)
    dlg.setMinimumDuration(300)
    dlg.setValue(0)

    def progress(fraction: float, message: str) -> None:
        dlg.setLabelText(f"{title}\n{message}")
        dlg.setValue(int(1000 * fraction))
        QApplication.processEvents()

    return dlg, progress, dlg.wasCanceled


def _run(
    window: MainWindow,
    title: str,
    job: Callable[[Callable[[float, str], None], Callable[[], bool]], Path],
) -> Path | None:
    """Run an export with a progress dialog; errors and cancelling are reported, not raised."""
    dlg, progress, cancel = _progress_dialog(window, title)
    try:
        path = job(progress, cancel)
    except ExportCancelledError as exc:
        window.statusBar().showMessage(str(exc), 8000)
        return None
    except HipFlexError as exc:
        window.show_error(str(exc))
        return None
    finally:
        dlg.reset()
        dlg.deleteLater()
    window.statusBar().showMessage(f"Wrote {path}", 8000)
    return path


# -- still image ---------------------------------------------------------------------------------
def export_image(window: MainWindow, path: Path, size: tuple[int, int], transparent: bool = False,
                 labels: bool | None = None, title: str | None = None, caption: str | None = None,
                 dpi: float | None = None, force: bool = False) -> Path | None:  # fmt: skip
    """The 3D view as it is now (camera included), without the UI, at ``size`` pixels."""
    from hipflex.media.still import describe, render_still, write_png

    snap = window.state.snapshot
    cam = window.view.scene.camera_state(view=snap.camera.view)
    display = snap.display if labels is None else snap.display.model_copy(update={"labels": labels})
    snap = snap.model_copy(update={"camera": cam, "display": display})

    def job(progress: Callable[[float, str], None], cancel: Callable[[], bool]) -> Path:
        progress(0.05, f"rendering {size[0]}x{size[1]} px")
        rgba = render_still(snap, size=size, transparent=transparent, title=title or None,
                            caption=caption or None, model=window.model, dpi=dpi)  # fmt: skip
        if cancel():
            raise ExportCancelledError(f"{path}: cancelled; nothing was written")
        progress(0.9, "writing PNG")
        return write_png(path, rgba, describe(snap), force=force, dpi=dpi)

    return _run(window, "Exporting image", job)


class ImageOptions(QDialog):
    """Size in pixels or print size and DPI, transparency, labels, title and caption."""

    def __init__(self, parent: QWidget, view_size: tuple[int, int]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export image")
        form = QFormLayout(self)
        self.unit = QComboBox()
        self.unit.addItems(["pixels", "print size (mm at DPI)"])
        self.width_box = QDoubleSpinBox()
        self.height_box = QDoubleSpinBox()
        for box, v in ((self.width_box, view_size[0] * 2), (self.height_box, view_size[1] * 2)):
            box.setRange(16, 8000)
            box.setDecimals(0)
            box.setValue(v)
        self.dpi = QSpinBox()
        self.dpi.setRange(72, 1200)
        self.dpi.setValue(300)
        self.transparent = QCheckBox("Transparent background")
        self.labels = QCheckBox("Labels with leader lines")
        self.title = QLineEdit()
        self.caption = QLineEdit()
        form.addRow("Size in", self.unit)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("DPI (print)", self.dpi)
        form.addRow(self.transparent)
        form.addRow(self.labels)
        form.addRow("Title", self.title)
        form.addRow("Caption", self.caption)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def pixels(self) -> tuple[tuple[int, int], float | None]:
        if self.unit.currentIndex() == 0:
            return (int(self.width_box.value()), int(self.height_box.value())), None
        from hipflex.media.still import print_size_to_pixels

        dpi = float(self.dpi.value())
        return print_size_to_pixels(self.width_box.value(), self.height_box.value(), dpi), dpi


def export_image_dialog(window: MainWindow) -> None:
    size = window.view.plotter.window_size
    opts = ImageOptions(window, (int(size[0]), int(size[1])))
    opts.labels.setChecked(window.state.display.labels)
    if opts.exec() != QDialog.DialogCode.Accepted:
        return
    path, _ = QFileDialog.getSaveFileName(
        window, "Export image", "hipflex.png", "PNG images (*.png)"
    )
    if not path:
        return
    try:
        pixels, dpi = opts.pixels()
    except HipFlexError as exc:
        window.show_error(str(exc))
        return
    export_image(window, Path(path), pixels, opts.transparent.isChecked(), opts.labels.isChecked(),
                 opts.title.text(), opts.caption.text(), dpi, force=True)  # fmt: skip


# -- handout -------------------------------------------------------------------------------------
def export_handout(window: MainWindow, path: Path, poses: tuple[float, ...] = (0, 60, 110), paper: str = "a4",
                   title: str | None = None, force: bool = False) -> Path | None:  # fmt: skip
    """A handout of the visible muscles in the current colour mode, with the knee, the hip's
    adduction and its rotation as posed now (each pose differs only in hip flexion)."""
    from hipflex.media.handout import make_handout

    snap = window.state.snapshot
    kw: dict[str, Any] = {"title": title} if title else {}

    def job(progress: Callable[[float, str], None], cancel: Callable[[], bool]) -> Path:
        return make_handout(path, poses=poses, knee_flexion=snap.pose.knee_flexion,
                            muscles=list(snap.visible) or None, colour_by=snap.display.colour_by,
                            paper=paper, force=force, progress=progress, cancel=cancel,
                            model=window.model, task=snap.task,
                            hip_adduction=snap.pose.hip_adduction,
                            hip_rotation=snap.pose.hip_rotation, **kw)  # fmt: skip

    return _run(window, "Exporting handout", job)


def export_handout_dialog(window: MainWindow) -> None:
    path, chosen = QFileDialog.getSaveFileName(window, "Export handout", "hipflex-handout.pdf",
                                               "A4 PDF (*.pdf);;US Letter PDF (*.pdf)")  # fmt: skip
    if path:
        export_handout(
            window, Path(path), paper="letter" if "Letter" in chosen else "a4", force=True
        )


def export_lesson_handout(window: MainWindow, path: Path, lesson_id: str, paper: str = "a4",
                          force: bool = False) -> Path | None:  # fmt: skip
    """The lesson as a PDF: each step's picture, question and the engine's statements."""
    from hipflex.media.lesson_handout import make_lesson_handout

    def job(progress: Callable[[float, str], None], cancel: Callable[[], bool]) -> Path:
        return make_lesson_handout(path, lesson_id, paper=paper, force=force, progress=progress,
                                   cancel=cancel, model=window.model)  # fmt: skip

    return _run(window, "Exporting lesson handout", job)


def export_lesson_handout_dialog(window: MainWindow) -> None:
    lesson = window.lesson_panel.lesson
    if lesson is None:
        window.show_error("No lesson to export: the Lesson tab has none loaded.")
        return
    path, chosen = QFileDialog.getSaveFileName(window, "Export lesson handout",
                                               f"hipflex-{lesson.id}.pdf",
                                               "A4 PDF (*.pdf);;US Letter PDF (*.pdf)")  # fmt: skip
    if path:
        export_lesson_handout(window, Path(path), lesson.id,
                              paper="letter" if "Letter" in chosen else "a4", force=True)  # fmt: skip


# -- video ---------------------------------------------------------------------------------------
def export_video(window: MainWindow, path: Path, motion: str | None = None, seconds: float = 4.0,
                 fps: float = 30.0, size: tuple[int, int] = (1280, 720), force: bool = False) -> Path | None:  # fmt: skip
    """The flexion sweep or knee drive chosen in the toolbar, drawn like the current view."""
    from hipflex.media.video import make_video

    snap = window.state.snapshot
    motion = motion or str(window.motion_box.currentData())

    def job(progress: Callable[[float, str], None], cancel: Callable[[], bool]) -> Path:
        return make_video(path, motion=motion, seconds=seconds, fps=fps, size=size,
                          view=snap.camera.view or "lateral", knee_flexion=snap.pose.knee_flexion,
                          snapshot=snap, force=force, progress=progress, cancel=cancel,
                          model=window.model)  # fmt: skip

    return _run(window, "Exporting video", job)


def export_video_dialog(window: MainWindow) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Export video", "hipflex-sweep.mp4",
                                          "MP4 video (*.mp4);;Animated GIF (*.gif)")  # fmt: skip
    if path:
        export_video(window, Path(path), force=True)
