"""Atomic file writes: a temporary file in the same folder, then rename; never a half file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from hipflex.errors import HipFlexError


def check_target(path: Path, force: bool) -> Path:
    """Refuse to overwrite without ``force``, and say so before any work is done."""
    path = Path(path)
    if path.exists() and not force:
        raise HipFlexError(f"{path}: exists; pass --force to overwrite")
    if not path.parent.is_dir():
        raise HipFlexError(f"{path}: folder {path.parent} does not exist")
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with ordinary file permissions (umask applied)."""
    atomic_write_chunks(path, [data])


def atomic_write_chunks(path: Path, chunks: Iterable[bytes]) -> None:
    """``atomic_write_bytes`` for data made piece by piece (a long table need not be held whole
    in memory); ``path`` appears only once every chunk is written."""
    path = Path(path)
    if not path.parent.is_dir():
        raise HipFlexError(f"{path}: folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise HipFlexError(f"{path}: cannot write here ({exc.strerror})") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            for data in chunks:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; exports are ordinary files
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise HipFlexError(f"{path}: write failed ({exc.strerror}); nothing was written") from exc
    except BaseException:  # e.g. Ctrl-C while the chunks are made: no temporary file left
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
