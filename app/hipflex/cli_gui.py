"""CLI verb that opens the desktop explorer (``hipflex gui``)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the window verb on the main parser."""
