"""Reading the recipe and fetching each pinned upstream file, checked by sha256."""

from __future__ import annotations

import hashlib
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from hipflex.errors import AssetError


@dataclass(frozen=True)
class SourceFile:
    """One upstream file, pinned by commit and checksum."""

    id: str
    owner: str
    repo: str
    commit: str
    path: str
    size: int
    sha256: str
    license: str

    @property
    def relpath(self) -> str:
        """Path below a mirror root: ``<owner>/<repo>/<path>``."""
        return f"{self.owner}/{self.repo}/{self.path}"


_KEYS = ("id", "owner", "repo", "commit", "path", "size", "sha256", "license")


def read_recipe(path: Path) -> list[SourceFile]:
    """Parse ``meshes/sources.toml``; a bad entry names the file, the entry and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AssetError(f"{path}: recipe not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AssetError(f"{path}: not valid TOML ({exc})") from exc
    out = []
    for n, entry in enumerate(raw.get("file", [])):
        missing = [k for k in _KEYS if k not in entry]
        if missing:
            raise AssetError(f"{path}: file[{n}] lacks key(s) {', '.join(missing)}")
        out.append(SourceFile(**{k: entry[k] for k in _KEYS}))
    if not out:
        raise AssetError(f"{path}: no [[file]] entries")
    return out


def fetch(location: str, source: SourceFile, timeout: float = 60.0) -> bytes:
    """Return the bytes of ``source`` from a mirror directory or an https base URL.

    The checksum is verified here so that nothing downstream sees unverified bytes.
    """
    if location.startswith(("https://", "http://")):
        url = f"{location.rstrip('/')}/{source.owner}/{source.repo}/{source.commit}/{source.path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                data: bytes = resp.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise AssetError(f"{source.path}: cannot download {url} ({reason})") from exc
        where = url
    else:
        file = Path(location) / source.relpath
        if not file.is_file():
            raise AssetError(f"{source.relpath}: missing from source location {location}")
        data = file.read_bytes()
        where = str(file)
    digest = hashlib.sha256(data).hexdigest()
    if digest != source.sha256:
        raise AssetError(
            f"{where}: sha256 mismatch (expected {source.sha256}, got {digest}, "
            f"{len(data)} bytes, expected {source.size})"
        )
    return data
