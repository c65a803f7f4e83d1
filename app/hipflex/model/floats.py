"""Python floats into numpy arrays, for the one-pose paths (a slider step) that compute on
floats: there numpy's element-by-element conversion costs more than the arithmetic."""

from __future__ import annotations

import struct
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray


def floats_array(values: list[float]) -> NDArray[np.float64]:
    """A flat list of Python floats (or bools) as a float64 array, the values' own doubles:
    packed by ``struct`` and read in place, in less than half the time ``np.fromiter`` takes
    (it converts them one by one; ``np.array`` is slower still). Writeable, as any new array."""
    return np.frombuffer(bytearray(_packer(len(values)).pack(*values)))


@lru_cache(maxsize=64)
def _packer(n: int) -> struct.Struct:
    """The ``struct`` packer of ``n`` native doubles (``floats_array``; a pose's lists come in
    a few lengths)."""
    return struct.Struct(f"{n}d")
