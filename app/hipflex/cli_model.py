"""CLI verbs that need the engine (sweep, export, explain, bench); render lives in cli_media."""

from __future__ import annotations

import argparse
import math
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from hipflex.cli_args import add_off_plane
from hipflex.errors import HipFlexError, PoseError
from hipflex.model.limits import BODY_MASS_RANGE, HEIGHT_RANGE, MAX_HIP_ACCELERATION, STRENGTH_RANGE

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    from numpy.typing import NDArray

    from hipflex.model.hipmodel import HipModel

SWEEP_COLUMNS = (
    "muscle,hip_flexion_deg,knee_flexion_deg,length_m,moment_arm_m,norm_fiber_length,"
    "force_length_factor,max_moment_Nm,activation,share"
)
# appended after SWEEP_COLUMNS when the sweep is off the sagittal plane (either angle not 0), so
# the file says which pose it is for and the first ten columns keep their places
OFF_PLANE_COLUMNS = "hip_adduction_deg,hip_rotation_deg"
MAX_SWEEP_ANGLES = 100_001  # e.g. -20..130 deg in steps of 0.0015 deg; more is refused
GRID_TOLERANCE = 1e-9  # in steps: --to within this of a grid angle counts as on the grid


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _decimals(x: float) -> int:
    """Decimal places of ``x`` as typed (shortest repr): 0.25 -> 2, 1e-06 -> 6, 130.0 -> 1."""
    return max(0, -int(Decimal(repr(x)).as_tuple().exponent))


def sweep_angles(start: float, stop: float, step: float) -> NDArray[np.float64]:
    """Hip angles ``start, start + step, ...`` up to ``stop`` (degrees), never beyond it.

    ``stop`` itself is included only when it falls on the grid (within ``GRID_TOLERANCE`` of a
    step). Angles are rounded to the decimals of ``start`` and ``step`` (when those are at most
    12), so 0.1 steps give -19.9, not -19.900000000000002.

    Raises:
        HipFlexError: a value is not finite, ``step`` is not positive, ``stop`` is below
            ``start``, or the grid would hold more than ``MAX_SWEEP_ANGLES`` angles.
    """
    import numpy as np

    for flag, v in (("--from", start), ("--to", stop), ("--step", step)):
        if not math.isfinite(v):
            raise HipFlexError(f"{flag} must be a finite number of degrees, got {v}")
    if step <= 0:
        raise HipFlexError(f"--step must be positive, got {step:g}")
    if stop < start:
        raise HipFlexError(f"--to ({stop:g}) is below --from ({start:g})")
    steps = (stop - start) / step
    if not steps < MAX_SWEEP_ANGLES - 1 + GRID_TOLERANCE:  # also catches an overflow to inf
        raise HipFlexError(
            f"--from {start:g} --to {stop:g} --step {step:g} gives more than "
            f"{MAX_SWEEP_ANGLES} angles, the most a sweep writes; use a larger --step"
        )
    n = math.floor(steps + GRID_TOLERANCE) + 1
    angles = start + step * np.arange(n)
    decimals = max(_decimals(start), _decimals(step))
    if decimals <= 12:
        angles = np.round(angles, decimals)
    return np.minimum(angles, stop)


def format_angle(a: float) -> str:
    """An angle for the CSV: the shortest text that reads back as the same float ("110",
    "-19.9", "100.0001"), so close angles stay distinct."""
    text = repr(float(a) + 0.0)  # + 0.0: no "-0"
    return text[:-2] if text.endswith(".0") else text


def _runs(values: list[float], grid: list[float]) -> str:
    """Angles as runs of neighbours on ``grid``: "121..130, 140"."""
    index = {v: i for i, v in enumerate(grid)}
    runs: list[list[float]] = []
    for v in values:
        if runs and index[v] == index[runs[-1][-1]] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    text = [format_angle(r[0]) if len(r) == 1 else f"{format_angle(r[0])}..{format_angle(r[-1])}"
            for r in runs[:6]]  # fmt: skip
    return ", ".join(text) + (", ..." if len(runs) > 6 else "")


def _cmd_sweep(args: argparse.Namespace) -> int:
    import numpy as np

    from hipflex.fileio import atomic_write_chunks

    out = args.output
    if not out:
        raise HipFlexError("-o/--output needs a file name (or - for standard output)")
    if out != "-" and Path(out).is_dir():
        raise HipFlexError(f"{out} is a folder; give a file name for the CSV table")
    angles = sweep_angles(args.start, args.to, args.step)
    model = _model(args)
    off = {"hip_adduction": args.hip_adduction, "hip_rotation": args.hip_rotation}
    res = model.sweep(angles, knee_flexion=args.knee, hip_acceleration=args.hip_acceleration,
                      **off)  # fmt: skip
    knee = format_angle(args.knee)
    header, tail = SWEEP_COLUMNS, ""
    if args.hip_adduction or args.hip_rotation:  # finite: the engine refused anything else
        header += "," + OFF_PLANE_COLUMNS
        tail = f",{format_angle(args.hip_adduction)},{format_angle(args.hip_rotation)}"
    deg = [format_angle(a) for a in angles]
    columns = [res[q] for q in ("length", "moment_arm_hip_flexion", "norm_fiber_length",
               "force_length_factor", "max_moment_hip_flexion", "activation", "share")]  # fmt: skip

    def table() -> Iterator[bytes]:
        """The CSV a muscle at a time, so a long sweep is never held whole as text."""
        yield (header + "\n").encode()
        for j, m in enumerate(res.muscles):
            yield "".join(
                f"{m},{deg[i]},{knee}," + ",".join(f"{c[i, j]:.6g}" for c in columns) + tail + "\n"
                for i in range(len(angles))
            ).encode()

    if out == "-":
        for chunk in table():
            sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
    else:
        atomic_write_chunks(Path(out), table())
    where = "standard output" if out == "-" else out
    rows = len(res.muscles) * len(angles)
    print(f"wrote {where}: {_plural(rows, 'row')} ({_plural(len(res.muscles), 'muscle')}"
          f" x {_plural(len(angles), 'angle')})", file=sys.stderr if out == "-" else sys.stdout)  # fmt: skip
    _note_beyond_explorer([float(a) for a in angles], **off)
    short = np.logical_not(res.feasible)  # a shortfall (no flexor needed counts as held)
    if short.any():
        _warn_infeasible(model, args.knee, args.hip_acceleration, [float(a) for a in angles],
                         short.tolist(), **off)  # fmt: skip
    return 0


def _warn_infeasible(model: HipModel, knee: float, acceleration: float, angles: list[float],
                     short: list[bool], hip_adduction: float = 0.0,
                     hip_rotation: float = 0.0) -> None:  # fmt: skip
    """The CSV columns are fixed, so the angles where the leg cannot be held go to stderr; the
    highest angle that can is for the same knee, adduction and rotation."""
    from hipflex.model.contact import turned_words

    bad = [a for a, s in zip(angles, short, strict=True) if s]
    limit = model.highest_hold_angle(knee, acceleration, hip_adduction=hip_adduction,
                                     hip_rotation=hip_rotation)  # fmt: skip
    task = ("hold the leg" if acceleration == 0 else
            f"give the leg a hip-flexion acceleration of {acceleration:g} rad/s^2")  # fmt: skip
    can = "be held" if acceleration == 0 else "take that acceleration"
    turned = turned_words(hip_adduction, hip_rotation, ", the hip ", suffix=",")
    print(
        f"hipflex: warning: with the knee at {format_angle(knee)} deg{turned} the muscles cannot "
        f"{task} at {_plural(len(bad), 'hip angle')} of {len(angles)} ({_runs(bad, angles)} deg); "
        + ("in those rows every flexor is fully active and still falls short. "
           if model.hold_balance == "flexion" else
           "in those rows no activations of the muscles give that flexion with the hip's "
           "adduction and rotation moments balanced too. ")
        + (f"No hip angle from 0 deg up can {can}." if limit is None
           else f"The highest hip angle that can {can} is {limit:g} deg."),
        file=sys.stderr,
    )  # fmt: skip


def _note_beyond_explorer(hips: list[float], hip_adduction: float = 0.0,
                          hip_rotation: float = 0.0) -> None:  # fmt: skip
    """The engine takes the whole joint range; say so on stderr where some paths are not sound
    (the explorer's narrower range and its reason, hipflex.state): a line for the hip-flexion
    angles beyond it, and one for the adduction and one for the rotation when beyond it."""
    from hipflex.state import NARROWER_BECAUSE, POSE_RANGES

    for name, values in (("hip_flexion", hips), ("hip_adduction", [hip_adduction]),
                         ("hip_rotation", [hip_rotation])):  # fmt: skip
        lo, hi = POSE_RANGES[name]
        runs = [
            f"{min(side):g}..{max(side):g}" if len(side) > 1 else f"{side[0]:g}"
            for side in ([v for v in values if v < lo], [v for v in values if v > hi])
            if side
        ]
        if runs:
            where = " and ".join(runs)
            print(f"hipflex: note: {name.replace('_', ' ')} {where} deg lies beyond the explorer's "
                  f"range {lo:g}..{hi:g} deg; there {NARROWER_BECAUSE[name]}, so read those numbers "
                  "with care", file=sys.stderr)  # fmt: skip


def _cmd_explain(args: argparse.Namespace) -> int:
    model = _model(args)
    statements = model.explain(args.hip, args.knee, hip_acceleration=args.hip_acceleration,
                               hip_adduction=args.hip_adduction, hip_rotation=args.hip_rotation)  # fmt: skip
    _note_beyond_explorer([float(args.hip)], hip_adduction=args.hip_adduction,
                          hip_rotation=args.hip_rotation)  # fmt: skip
    print("Why, at this pose:")
    for s in statements:
        if s["quantity"] != "caveat":
            print(f"- {s['text']}  [{s['quantity']}]")
    print("Caveats:")
    for s in statements:
        if s["quantity"] == "caveat":
            print(f"- {s['text']}")
    return 0


def _cmd_lesson(args: argparse.Namespace) -> int:
    """List the lessons, or print one: each step's pose and question, and the engine's
    statements at that pose (the figures the window's Why panel shows there)."""
    from hipflex.lessons import lesson_snapshots, load_lessons
    from hipflex.model.explain import without_caveats
    from hipflex.state import Snapshot, save_session

    lessons = load_lessons()
    if args.lesson is None:
        for lid, lesson in lessons.items():
            print(f"{lid}: {lesson.title} ({len(lesson.steps)} steps; {lesson.audience})")
        return 0
    if args.lesson not in lessons:
        raise HipFlexError(f"no lesson {args.lesson!r} (known: {', '.join(lessons)})")
    lesson = lessons[args.lesson]
    steps = list(enumerate(lesson.steps, start=1))
    if args.step is not None:
        if not 1 <= args.step <= len(steps):
            raise HipFlexError(f"{lesson.id} has steps 1..{len(steps)}, not {args.step}")
        steps = [steps[args.step - 1]]
    if args.sessions is not None:  # checked before any engine work
        out = Path(args.sessions)
        if out.exists() and not out.is_dir():
            raise HipFlexError(f"{out}: not a folder")
    model = _model(args)
    print(f"{lesson.title}\n{lesson.summary}\n")
    caveats: list[str] = []
    for n, step in steps:
        p = step.pose
        print(f"Step {n}: {step.title}  (hip {p.hip_flexion:g} deg, knee {p.knee_flexion:g} deg)")
        print(f"  {step.text}")
        statements = model.explain(
            p.hip_flexion, p.knee_flexion, hip_acceleration=step.hip_acceleration or 0.0,
            hip_adduction=p.hip_adduction, hip_rotation=p.hip_rotation,
        )  # fmt: skip
        for s in without_caveats(statements, caveats):
            print(f"  - {s['text']}  [{s['quantity']}]")
        print()
    print("Caveats:")
    for c in caveats:
        print(f"- {c}")
    if args.sessions is not None:
        out = Path(args.sessions)
        out.mkdir(parents=True, exist_ok=True)
        snaps = lesson_snapshots(lesson, Snapshot(visible=tuple(model.muscles)))
        for n, _ in steps:
            path = out / f"{lesson.id}_step{n:02d}.json"
            save_session(path, snaps[n - 1])
            print(f"wrote {path}", file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from hipflex.scene.export import export_glb

    if Path(args.output).suffix.lower() != ".glb":
        raise HipFlexError(
            f"{args.output or '-o'}: export writes binary glTF; give a file name ending in .glb"
        )
    off = {"hip_adduction": args.hip_adduction, "hip_rotation": args.hip_rotation}
    export_glb(Path(args.output), args.hip, args.knee, **off)  # checks the joint ranges
    _note_beyond_explorer([float(args.hip)], **off)
    print(f"wrote {args.output}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.repeats < 1:
        raise HipFlexError(f"--repeats must be at least 1, got {args.repeats}")
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


def knee_drive_setting(text: str) -> float:
    """``--hip-acceleration``: a number in rad/s^2, or the id of a measured knee drive in
    anatomy_data/knee_drives.toml (e.g. ``sprint_top_speed``), in rad/s^2. The bound is checked
    by the engine, whose message gives it."""
    try:
        return float(text)
    except ValueError:
        pass
    from hipflex.anatomy import load_anatomy

    drives = load_anatomy().knee_drives
    if text in drives:
        return drives[text].hip_acceleration
    known = ", ".join(sorted(drives)) or "none listed"
    raise argparse.ArgumentTypeError(f"expected rad/s^2 or a knee drive's id ({known}), "
                                     f"got {text!r}")  # fmt: skip


def strength_setting(text: str) -> tuple[str, float]:
    """``MUSCLE=PERCENT`` (e.g. ``psoas=50``) as ``(muscle id, fraction)`` for ``--strength``;
    the muscle id is checked when the model is loaded, where the known ids are listed."""
    muscle, sep, value = text.partition("=")
    try:
        percent = float(value)
    except ValueError:
        percent = math.nan
    if not sep or not muscle.strip() or not math.isfinite(percent):
        raise argparse.ArgumentTypeError(f"expected MUSCLE=PERCENT such as psoas=50, got {text!r}")
    lo, hi = (100 * x for x in STRENGTH_RANGE)
    if not lo <= percent <= hi:
        raise argparse.ArgumentTypeError(f"{text}: a strength is {lo:g}..{hi:g} percent of normal")
    return muscle.strip(), percent / 100


def _model(args: argparse.Namespace) -> HipModel:
    """The engine with the subject and strengths given on the command line."""
    from hipflex.model.hipmodel import load_model

    model = load_model(body_mass=args.mass, height=args.height)
    for muscle, fraction in args.strength:
        try:
            model.set_strength(muscle, fraction)
        except PoseError as exc:  # an unknown id: the engine's message lists the muscles
            raise HipFlexError(f"--strength {muscle}: {exc}") from None
    return model


def _task(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strength",
        type=strength_setting,
        action="append",
        default=[],
        metavar="MUSCLE=PCT",
        help="scale one muscle's peak force, percent of normal ({:g}..{:g}; e.g. psoas=50 for "
        "weakness); repeat for more muscles".format(*(100 * x for x in STRENGTH_RANGE)),
    )
    p.add_argument(
        "--hip-acceleration",
        type=knee_drive_setting,
        default=0.0,
        metavar="RAD_S2|DRIVE",
        help="hip-flexion angular acceleration added to the hold task, rad/s^2 (default 0; "
        f"a fast knee drive, at most {MAX_HIP_ACCELERATION:g} either way), or a measured "
        "knee drive's id from anatomy_data/knee_drives.toml, e.g. sprint_top_speed",
    )


def _subject(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mass",
        type=float,
        default=75.0,
        metavar="KG",
        help="body mass, kg: the leg's weight in the hold task, not muscle strength "
        "(default 75, {:g}..{:g})".format(*BODY_MASS_RANGE),
    )
    p.add_argument(
        "--height",
        type=float,
        default=1.75,
        metavar="M",
        help="body height, m: the leg's segment lengths in the hold task, not the bones "
        "(default 1.75, {:g}..{:g})".format(*HEIGHT_RANGE),
    )


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the engine and rendering verbs on the main parser."""
    sw = sub.add_parser("sweep", help="per-muscle quantities over a hip-flexion sweep, to CSV")
    sw.add_argument(
        "--from",
        dest="start",
        type=float,
        default=-20.0,
        metavar="DEG",
        help="first hip-flexion angle, degrees (default -20; negative = extension)",
    )
    sw.add_argument(
        "--to",
        type=float,
        default=130.0,
        metavar="DEG",
        help="last hip-flexion angle, degrees (default 130); included only when it "
        "falls on the --step grid, never exceeded",
    )
    sw.add_argument(
        "--step",
        type=float,
        default=1.0,
        metavar="DEG",
        help=f"step between angles, degrees (default 1; at most {MAX_SWEEP_ANGLES} angles)",
    )
    sw.add_argument(
        "--knee",
        type=float,
        default=0.0,
        metavar="DEG",
        help="knee flexion, degrees (default 0, knee straight)",
    )
    add_off_plane(sw, "the table's numbers", more="when --adduction or --rotation is not 0 the CSV "
                  f"gains two last columns, {OFF_PLANE_COLUMNS.replace(',', ' and ')}, after "
                  "share")  # fmt: skip
    _subject(sw)
    _task(sw)
    sw.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE.csv",
        help="CSV file to write (replaced if it exists); - for standard output",
    )
    sw.set_defaults(func=_cmd_sweep)
    ex = sub.add_parser("explain", help="why each muscle does what it does at a pose")
    ex.add_argument(
        "--hip",
        type=float,
        required=True,
        metavar="DEG",
        help="hip flexion, degrees (negative = extension)",
    )
    ex.add_argument(
        "--knee",
        type=float,
        default=0.0,
        metavar="DEG",
        help="knee flexion, degrees (default 0, knee straight)",
    )
    add_off_plane(ex, "the statements and the bone contact")
    _subject(ex)
    _task(ex)
    ex.set_defaults(func=_cmd_explain)
    le = sub.add_parser("lesson", help="list the lessons, or print one with the engine's "
                        "figures at each step")  # fmt: skip
    le.add_argument("lesson", nargs="?", metavar="ID", help="lesson id (omit to list them)")
    le.add_argument("--step", type=int, metavar="N", help="only step N (1-based)")
    le.add_argument("--sessions", metavar="DIR", help="also write each step as a session file "
                    "(ID_stepNN.json, replaced if present) for 'hipflex render --session' or the "
                    "window's File > Open")  # fmt: skip
    _subject(le)
    le.set_defaults(func=_cmd_lesson, strength=[])
    gl = sub.add_parser("export", help="posed scene as glTF binary (bones and lines of action)")
    gl.add_argument(
        "--hip", type=float, default=0.0, metavar="DEG", help="hip flexion, degrees (default 0)"
    )
    gl.add_argument(
        "--knee", type=float, default=0.0, metavar="DEG", help="knee flexion, degrees (default 0)"
    )
    add_off_plane(gl, "the bones and the lines of action")
    gl.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE.glb",
        help=".glb file to write (binary glTF; replaced if it exists)",
    )
    gl.set_defaults(func=_cmd_export)
    be = sub.add_parser("bench", help="engine timings (medians over repeats)")
    be.add_argument(
        "--repeats",
        type=int,
        default=30,
        metavar="N",
        help="runs per timing (default 30, at least 1; the sweep timing uses "
        "max(5, N/5), the rounds of all sagittal poses max(1, N/50), --media max(3, N/10))",
    )
    which = be.add_mutually_exclusive_group()
    which.add_argument(
        "--gui", action="store_true", help="window timings under Xvfb (slider to frame, start-up)"
    )
    which.add_argument(
        "--media", action="store_true", help="export timings (PNG, handout PDF, video)"
    )
    be.set_defaults(func=_cmd_bench)
