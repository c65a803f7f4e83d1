"""HipFlex: the human hip in 3D, and why the iliopsoas can lift the knee past 90 degrees."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def load_model(**kw: Any) -> Any:
    """Load the asset pack and anatomy data; see ``hipflex.model.hipmodel.HipModel``."""
    from hipflex.model.hipmodel import load_model as _load

    return _load(**kw)
