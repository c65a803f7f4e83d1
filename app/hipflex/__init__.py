"""HipFlex: the human hip in 3D, and why the iliopsoas can lift the knee past 90 degrees."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def load_model(pack: Any = None, **kw: Any) -> Any:
    """Load the asset pack and anatomy data; see ``hipflex.model.hipmodel.HipModel``.

    ``pack`` is an ``AssetPack`` (default: the pack in the cache); keywords go to ``HipModel``
    (``body_mass`` in kg, ``height`` in m, ``strength``).
    """
    from hipflex.model.hipmodel import load_model as _load

    return _load(pack, **kw)
