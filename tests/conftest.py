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


@pytest.fixture(scope="module")
def model(model_context):  # type: ignore[no-untyped-def]
    """A model at full strength, shared within a module; tests that change strength or the
    subject build their own."""
    from hipflex.model.hipmodel import HipModel

    return HipModel(model_context)


@pytest.fixture
def isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings and logs in fresh folders, so window tests never read or write the user's."""
    monkeypatch.setenv("HIPFLEX_SETTINGS_DIR", str(tmp_path_factory.mktemp("settings")))
    monkeypatch.setenv("HIPFLEX_LOG_DIR", str(tmp_path_factory.mktemp("logs")))


@pytest.fixture
def window(qtbot, model):  # type: ignore[no-untyped-def]
    """The main window, quiet (no modal boxes), 1366x768, shown, active and drawn once."""
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
