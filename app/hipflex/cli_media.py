"""CLI verbs for handouts and media (render, plot, handout, video)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the media verbs on the main parser."""
