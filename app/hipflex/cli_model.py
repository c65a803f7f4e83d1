"""CLI verbs that need the engine (sweep, export, explain, bench); render lives in cli_media."""

from __future__ import annotations

import argparse
from pathlib import Path

from hipflex.errors import HipFlexError

SWEEP_COLUMNS = (
    "muscle,hip_flexion_deg,knee_flexion_deg,length_m,moment_arm_m,norm_fiber_length,"
    "force_length_factor,max_moment_Nm,activation,share"
)


def _cmd_sweep(args: argparse.Namespace) -> int:
    import numpy as np

    from hipflex.model.hipmodel import load_model
    from hipflex.scene.render import atomic_write_bytes

    if args.step <= 0 or args.to < args.start:
        raise HipFlexError("--step must be positive and --to not below --from")
    angles = np.arange(args.start, args.to + args.step / 2, args.step)
    model = load_model(body_mass=args.mass, height=args.height)
    res = model.sweep(angles, knee_flexion=args.knee)
    rows = [SWEEP_COLUMNS]
    for j, m in enumerate(res.muscles):
        for i, a in enumerate(angles):
            v = [res[q][i, j] for q in ("length", "moment_arm_hip_flexion", "norm_fiber_length",
                 "force_length_factor", "max_moment_hip_flexion", "activation", "share")]  # fmt: skip
            rows.append(f"{m},{a:g},{args.knee:g}," + ",".join(f"{x:.6g}" for x in v))
    atomic_write_bytes(Path(args.output), ("\n".join(rows) + "\n").encode())
    print(
        f"wrote {args.output}: {len(rows) - 1} rows ({len(res.muscles)} muscles x {len(angles)} angles)"
    )
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from hipflex.model.hipmodel import load_model

    model = load_model(body_mass=args.mass, height=args.height)
    statements = model.explain(args.hip, args.knee)
    print("Why, at this pose:")
    for s in statements:
        if s["quantity"] != "caveat":
            print(f"- {s['text']}  [{s['quantity']}]")
    print("Caveats:")
    for s in statements:
        if s["quantity"] == "caveat":
            print(f"- {s['text']}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from hipflex.scene.export import export_glb

    export_glb(Path(args.output), args.hip, args.knee)
    print(f"wrote {args.output}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.gui:
        from hipflex.gui.bench import run_gui_bench

        run_gui_bench(repeats=args.repeats)
    elif args.media:
        from hipflex.media.bench import run_media_bench

        run_media_bench(repeats=max(3, args.repeats // 10))
    else:
        from hipflex.bench import run_bench

        run_bench(repeats=args.repeats)
    return 0


def _subject(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mass", type=float, default=75.0, help="body mass, kg (hold task)")
    p.add_argument("--height", type=float, default=1.75, help="body height, m (hold task)")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the engine and rendering verbs on the main parser."""
    sw = sub.add_parser("sweep", help="per-muscle quantities over a hip-flexion sweep, to CSV")
    sw.add_argument("--from", dest="start", type=float, default=-20.0)
    sw.add_argument("--to", type=float, default=130.0)
    sw.add_argument("--step", type=float, default=1.0)
    sw.add_argument("--knee", type=float, default=0.0, help="knee flexion, degrees")
    _subject(sw)
    sw.add_argument("-o", "--output", required=True, help="CSV file to write")
    sw.set_defaults(func=_cmd_sweep)
    ex = sub.add_parser("explain", help="why each muscle does what it does at a pose")
    ex.add_argument("--hip", type=float, required=True)
    ex.add_argument("--knee", type=float, default=0.0)
    _subject(ex)
    ex.set_defaults(func=_cmd_explain)
    gl = sub.add_parser("export", help="posed scene as glTF binary (bones and lines of action)")
    gl.add_argument("--hip", type=float, default=0.0)
    gl.add_argument("--knee", type=float, default=0.0)
    gl.add_argument("-o", "--output", required=True, help=".glb file to write")
    gl.set_defaults(func=_cmd_export)
    be = sub.add_parser("bench", help="engine timings (medians over repeats)")
    be.add_argument("--repeats", type=int, default=30)
    which = be.add_mutually_exclusive_group()
    which.add_argument(
        "--gui", action="store_true", help="window timings under Xvfb (slider to frame, start-up)"
    )
    which.add_argument(
        "--media", action="store_true", help="export timings (PNG, handout PDF, video)"
    )
    be.set_defaults(func=_cmd_bench)
