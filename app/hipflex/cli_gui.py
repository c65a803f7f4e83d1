"""CLI verb that opens the desktop explorer (``hipflex gui``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hipflex.cli_args import pixel_size


def _cmd_gui(args: argparse.Namespace) -> int:
    from hipflex.gui.app import run

    return run(session=Path(args.session) if args.session else None,
               screenshot=Path(args.screenshot) if args.screenshot else None, size=args.size)  # fmt: skip


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the window verb on the main parser."""
    g = sub.add_parser("gui", help="open the desktop explorer (3D view, pose, muscles, plots, why)")
    g.add_argument("--session", help="session file (.json) to open")
    g.add_argument("--screenshot", help="open, load, save a PNG of the whole window and exit")
    g.add_argument("--size", type=pixel_size, help="window size WxH, e.g. 1366x768")
    g.set_defaults(func=_cmd_gui)
