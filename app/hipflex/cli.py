"""The hipflex command line: the same functions the app calls, one verb each."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hipflex import config
from hipflex.errors import HipFlexError


def _cmd_assets_build(args: argparse.Namespace) -> int:
    from hipflex.assets.build import build_pack

    location = args.source or config.default_source()
    if not location.startswith(("http://", "https://")):
        location = str(Path(location).resolve())
    build_pack(location, config.pack_dir(), config.recipe_path(), force=args.force,
               progress=lambda m: print(m, flush=True))  # fmt: skip
    return 0


def _cmd_assets_verify(args: argparse.Namespace) -> int:
    from hipflex.assets.pack import verify_pack

    problems = verify_pack(config.pack_dir())
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"asset pack OK: {config.pack_dir()}")
    return 0


def _cmd_assets_info(args: argparse.Namespace) -> int:
    from hipflex.assets.pack import AssetPack

    pack = AssetPack()
    m = pack.manifest
    rep = m["report"]
    print(f"pack: {pack.root}")
    print(f"pipeline version: {m['pipeline_version']}   built in {rep.get('build_seconds')} s")
    size = sum(p.stat().st_size for p in pack.root.rglob("*") if p.is_file())
    print(f"size on disk: {size / 1e6:.1f} MB, {len(m['files'])} files")
    print("registration: "
          f"vertebrae to sacrum median {rep['spine_registration_median_mm']} mm; "
          f"muscles to bone contact median {rep['muscle_registration_median_mm']} mm; "
          f"left-to-right hip mirror median {rep['mirror_hip_median_mm']} mm")  # fmt: skip
    print(f"scan pose: {rep['scan_pose_deg']}")
    print(f"{'mesh':28s} {'body':8s} {'interactive':>11s} {'full':>8s}")
    for mid in pack.mesh_ids:
        print(f"{mid:28s} {pack.mesh_body(mid):8s} {rep['triangles']['interactive'][mid]:11d} "
              f"{rep['triangles']['full'][mid]:8d}")  # fmt: skip
    print(
        f"default scene, interactive level: {rep['default_scene_interactive_triangles']} triangles"
    )
    print()
    print(pack.attribution)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """All verbs; kept in one place so ``--help`` shows the whole tool."""
    p = argparse.ArgumentParser(prog="hipflex", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    assets = sub.add_parser("assets", help="build, verify or describe the anatomy asset pack")
    asub = assets.add_subparsers(dest="assets_command", required=True)
    b = asub.add_parser("build", help="fetch the pinned sources and build the pack into the cache")
    b.add_argument("--source", help="mirror directory or https base (default: $HIPFLEX_SOURCES, "
                   "then the public raw URLs)")  # fmt: skip
    b.add_argument("--force", action="store_true", help="rebuild even if the pack is current")
    b.set_defaults(func=_cmd_assets_build)
    asub.add_parser("verify", help="exit 0 only for a complete, consistent pack").set_defaults(
        func=_cmd_assets_verify
    )
    asub.add_parser("info", help="contents, sizes, triangle counts, attribution").set_defaults(
        func=_cmd_assets_info
    )
    from hipflex import cli_gui, cli_media, cli_model

    cli_gui.add_commands(sub)
    cli_model.add_commands(sub)
    cli_media.add_commands(sub)
    return p


def _attach_negative_values(argv: Sequence[str]) -> list[str]:
    """``--from -1e-9`` as ``--from=-1e-9``: argparse takes a token such as -1e-9, -2e1 or -20.
    for an option (only -20 and -.5 look like numbers to it) and says "expected one argument"."""
    out: list[str] = []
    for token in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and token.startswith("-"):
            try:
                float(token)
            except ValueError:
                pass
            else:
                out[-1] = f"{out[-1]}={token}"
                continue
        out.append(token)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: expected failures print one line and exit 2, never a traceback."""
    if sys.stdout is None:  # started with standard output closed (>&-)
        print("hipflex: error: standard output is closed", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(_attach_negative_values(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.func(args))
    except HipFlexError as exc:
        print(f"hipflex: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hipflex: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head, less, ...: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 0
    except OSError as exc:  # standard output on a full disk, a closed descriptor, ...
        if sys.stdout is not None:  # no second error when Python flushes it at exit
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"hipflex: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
