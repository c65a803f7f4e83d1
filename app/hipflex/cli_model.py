"""CLI verbs that need the engine or the renderer (render, sweep, export, explain, bench)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hipflex.errors import HipFlexError


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected WxH such as 1600x1200, got {text!r}") from exc
    return w, h


def _cmd_render(args: argparse.Namespace) -> int:
    from hipflex.scene.render import render_png

    muscles = None if args.muscles is None else [m for m in args.muscles.split(",") if m]
    out = render_png(Path(args.output), args.hip, args.knee, view=args.view, size=args.size,
                     transparent=args.transparent, muscles=muscles,
                     level="full" if args.full else "interactive", force=True)  # fmt: skip
    print(f"wrote {out}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the engine and rendering verbs on the main parser."""
    from hipflex.scene.views import VIEWS

    r = sub.add_parser("render", help="offscreen render of the posed hip to PNG")
    r.add_argument("--hip", type=float, default=0.0, help="hip flexion, degrees")
    r.add_argument("--knee", type=float, default=0.0, help="knee flexion, degrees")
    r.add_argument("--view", choices=list(VIEWS), default="lateral")
    r.add_argument("--size", type=_size, default=(1600, 1200), help="WxH pixels")
    r.add_argument("--transparent", action="store_true", help="transparent background")
    r.add_argument("--muscles", help="comma-separated muscle ids (default: all)")
    r.add_argument("--full", action="store_true", help="full-detail meshes (print quality)")
    r.add_argument("-o", "--output", required=True, help="PNG file to write")
    r.set_defaults(func=_cmd_render)


__all__ = ["HipFlexError", "add_commands"]
