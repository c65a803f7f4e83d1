"""Shared fixtures. Tests that need the real asset pack FAIL (never skip) when it is missing."""

from __future__ import annotations

import pytest

from hipflex.assets.pack import AssetPack, verify_pack
from hipflex.config import pack_dir


@pytest.fixture(scope="session")
def real_pack() -> AssetPack:
    """The pack built by scripts/setup.sh from the real sources."""
    problems = verify_pack(pack_dir())
    if problems:
        pytest.fail(
            "the real asset pack is missing or broken; run `bash scripts/setup.sh` first:\n"
            + "\n".join(problems[:5])
        )
    return AssetPack(pack_dir())


@pytest.fixture(scope="session")
def model_context(real_pack: AssetPack):  # type: ignore[no-untyped-def]
    from hipflex.model.skeleton import ModelContext

    return ModelContext.load(real_pack)


@pytest.fixture
def window(qtbot, model):  # type: ignore[no-untyped-def]
    """The main window, quiet (no modal boxes), 1366x768, shown, active and drawn once; each GUI
    test module provides its own ``model``."""
    from hipflex.gui.window import MainWindow

    w = MainWindow(model, quiet=True)
    w.resize(1366, 768)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)  # shortcuts need the active window
    w.view.render_now()
    yield w
    w.close()
