"""Starting the window: display and asset checks, logging, the global error hook, screenshots."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from types import TracebackType

from hipflex import config
from hipflex.errors import HipFlexError

log = logging.getLogger("hipflex.gui")
NO_DISPLAY = ("hipflex gui: no display found (DISPLAY/WAYLAND_DISPLAY unset). Render offscreen with "
              "'hipflex render --hip 110 -o hip.png', or run the window under 'xvfb-run hipflex gui'.")  # fmt: skip


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def setup_logging() -> Path:
    """Log to a file in the user's log folder (and keep going if that is impossible)."""
    folder = config.log_dir()
    path = folder / "hipflex.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("hipflex")
    if not any(type(h) is type(handler) for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Anything no handler caught: log it, tell the user, keep the app running."""
    log.error("uncaught exception", exc_info=(kind, exc, tb))
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance()
    if app is None or os.environ.get("HIPFLEX_QUIET"):
        sys.__excepthook__(kind, exc, tb)
    else:
        QMessageBox.critical(
            None, "HipFlex", f"Unexpected error: {exc}\nDetails: {config.log_dir() / 'hipflex.log'}"
        )


def pack_problems() -> list[str]:
    from hipflex.assets.pack import verify_pack

    return verify_pack(config.pack_dir())


def missing_pack_message(problems: list[str]) -> str:
    return ("The anatomy asset pack is missing or out of date:\n  " + "\n  ".join(problems[:3]) +
            "\n\nBuild it once (about 30 s) with:\n  hipflex assets build\n"
            "or, from a checkout, 'bash scripts/setup.sh'. Offline mirror: "
            "hipflex assets build --source ../shared/anatomy-sources")  # fmt: skip


def run(
    session: Path | None = None, screenshot: Path | None = None, size: tuple[int, int] | None = None
) -> int:
    """Open the explorer; with ``screenshot`` save the whole window to PNG and exit."""
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QMessageBox

    t0 = time.perf_counter()
    setup_logging()
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("HipFlex")
    app.setOrganizationName("HipFlex")
    problems = pack_problems()
    if problems:
        msg = missing_pack_message(problems)
        print(f"hipflex gui: {msg}", file=sys.stderr)
        if screenshot is None:
            QMessageBox.critical(None, "HipFlex: asset pack needed", msg)
        return 2
    if screenshot is not None:
        os.environ["HIPFLEX_QUIET"] = "1"  # never block on a dialog when nobody is looking
    sys.excepthook = _excepthook
    from hipflex.gui.window import MainWindow
    from hipflex.model.hipmodel import load_model

    model = load_model()
    window = MainWindow(model, session=session, quiet=screenshot is not None)
    if size is not None:
        window.resize(*size)
    window.show()
    app.processEvents()
    window.view.render_now()
    log.info("first frame after %.2f s", time.perf_counter() - t0)
    if screenshot is not None:
        from hipflex.fileio import atomic_write_bytes

        if window.errors:
            print(f"hipflex gui: {window.errors[-1]}", file=sys.stderr)
            window.close()
            return 2
        app.processEvents()
        if window.state.snapshot.camera.position is None:
            window.view._camera_stale = True  # frame the preset for the final window size
        image = window.grab_window()
        from PySide6.QtCore import QBuffer, QIODevice

        buf = QBuffer()
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buf, "PNG")  # type: ignore[call-overload]
        atomic_write_bytes(Path(screenshot), bytes(buf.data().data()))
        window.close()
        print(f"wrote {screenshot}")
        return 0
    return int(app.exec())


__all__ = ["HipFlexError", "run"]
