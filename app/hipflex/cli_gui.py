"""CLI verb that opens the desktop explorer (``hipflex gui``); like the media verbs, its
``--screenshot`` never overwrites a file without ``--force``."""

from __future__ import annotations

import argparse
from pathlib import Path

from hipflex.cli_args import pixel_size
from hipflex.fileio import check_target


def _cmd_gui(args: argparse.Namespace) -> int:
    screenshot = Path(args.screenshot) if args.screenshot else None
    if screenshot is not None:
        check_target(screenshot, args.force)  # before Qt starts or any window opens
    from hipflex.gui.app import run

    return run(session=Path(args.session) if args.session else None, screenshot=screenshot,
               size=args.size)  # fmt: skip


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the window verb on the main parser."""
    g = sub.add_parser("gui", help="open the desktop explorer (3D view, pose, muscles, plots, why)")
    g.add_argument("--session", help="session file (.json) to open")
    g.add_argument("--screenshot", help="open, load, save a PNG of the whole window and exit")
    g.add_argument("--size", type=pixel_size, help="window size WxH, e.g. 1366x768")
    g.add_argument("--force", action="store_true", help="overwrite an existing --screenshot file")
    g.set_defaults(func=_cmd_gui)
