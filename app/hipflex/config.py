"""Where HipFlex finds its curated data, its asset recipe and its cache."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent


def data_dir() -> Path:
    """The curated anatomy data (TOML); ``HIPFLEX_DATA`` overrides the repo copy."""
    env = os.environ.get("HIPFLEX_DATA")
    return Path(env) if env else REPO_ROOT / "anatomy_data"


def recipe_path() -> Path:
    """The asset-pack recipe (source list with checksums)."""
    env = os.environ.get("HIPFLEX_RECIPE")
    return Path(env) if env else REPO_ROOT / "meshes" / "sources.toml"


def cache_dir() -> Path:
    """Root of the cache that holds built asset packs (``HIPFLEX_CACHE`` overrides)."""
    env = os.environ.get("HIPFLEX_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("hipflex"))


def pack_dir() -> Path:
    """The directory of the current asset pack inside the cache."""
    return cache_dir() / "pack"


def default_source() -> str:
    """Source location: ``HIPFLEX_SOURCES``, else the public raw URLs at pinned commits."""
    return os.environ.get("HIPFLEX_SOURCES", "https://raw.githubusercontent.com")


def log_dir() -> Path:
    """Where the window writes its log (``HIPFLEX_LOG_DIR`` overrides)."""
    env = os.environ.get("HIPFLEX_LOG_DIR")
    return Path(env) if env else Path(platformdirs.user_log_dir("hipflex"))


def settings_dir() -> Path | None:
    """Override for the window's settings folder (``HIPFLEX_SETTINGS_DIR``; tests use it)."""
    env = os.environ.get("HIPFLEX_SETTINGS_DIR")
    return Path(env) if env else None
