"""CLI verbs for handouts and media (render, plot, handout, video): the functions File > Export
calls in the window, with one line per failure and never an overwrite without --force."""

from __future__ import annotations

import argparse
import functools
import re
from pathlib import Path

from hipflex.cli_args import add_off_plane, pixel_size
from hipflex.errors import HipFlexError

MUSCLE_STYLES = ("surface", "tube", "line")
COLOUR_MODES = ("identity", "activation", "fibre_length", "moment_arm")


# -- argument types -------------------------------------------------------------------------------
_size = functools.partial(pixel_size, example="1600x1200")  # still.check_size: 16..8000 px


def _print_size(text: str) -> tuple[float, float]:
    m = re.fullmatch(r"\s*([\d.]+)\s*x\s*([\d.]+)\s*mm\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"expected WxHmm such as 180x120mm, got {text!r}")
    return float(m.group(1)), float(m.group(2))


def _angles(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected degrees such as 0,60,110, got {text!r}"
        ) from exc
    if not values:
        raise argparse.ArgumentTypeError("expected at least one angle")
    return values


def _muscle_list(text: str | None) -> list[str] | None:
    return None if text is None else [m.strip() for m in text.split(",") if m.strip()]


def _check_muscles(muscles: list[str], known: list[str]) -> list[str]:
    unknown = [m for m in muscles if m not in known]
    if unknown:
        raise HipFlexError(f"unknown muscle id(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return muscles


def _progress(args: argparse.Namespace, prefix: str):  # type: ignore[no-untyped-def]
    from hipflex.media.jobs import print_progress

    return None if args.quiet else print_progress(prefix)


# -- render ---------------------------------------------------------------------------------------
def _snapshot(args: argparse.Namespace, known: list[str]):  # type: ignore[no-untyped-def]
    """The session's snapshot (or the default one) with the command-line options applied."""
    from hipflex.state import Camera, Snapshot, load_session

    snap = (
        load_session(Path(args.session), known) if args.session else Snapshot(visible=tuple(known))
    )
    display = snap.display.model_dump()
    for key, value in (("colour_by", args.colour_by), ("muscle_style", args.style)):
        if value is not None:
            display[key] = value
    if getattr(args, "labels", False):
        display["labels"] = True
    update: dict[str, object] = {"display": type(snap.display).model_validate(display)}
    turned = {k: v for k in ("hip_adduction", "hip_rotation")
              if (v := getattr(args, k, None)) is not None}  # fmt: skip
    if turned:
        from hipflex.media.still import at_pose

        update["pose"] = at_pose(snap, **turned).pose
    muscles = _muscle_list(args.muscles)
    if muscles is not None:
        update["visible"] = tuple(_check_muscles(muscles, known))
    if args.view is not None or not args.session:
        update["camera"] = Camera(view=args.view or "lateral")
    return snap.model_copy(update=update)


def series_paths(output: Path, hips: list[float]) -> list[Path]:
    """One file per pose: out.png -> out_hip000.png, out_hip060.png, out_hip-20.png."""
    if len(hips) == 1:
        return [output]
    return [output.with_name(f"{output.stem}_hip{round(h):03d}{output.suffix}") for h in hips]


def _cmd_render(args: argparse.Namespace) -> int:
    from hipflex.anatomy import load_anatomy
    from hipflex.fileio import check_target
    from hipflex.media.still import (
        OffscreenView,
        antialias_for,
        at_pose,
        check_size,
        describe,
        print_size_to_pixels,
        render_still,
        write_png,
    )

    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise HipFlexError(f"{out}: stills are PNG; use a .png name")
    known = list(load_anatomy().muscles)
    base = _snapshot(args, known)
    hips = args.hip if args.hip is not None else [base.pose.hip_flexion]
    knee = args.knee if args.knee is not None else base.pose.knee_flexion
    snaps = [at_pose(base, hip_flexion=h, knee_flexion=knee) for h in hips]
    dpi = args.dpi if args.print_size is not None else None
    if args.print_size is not None:
        width_mm, height_mm = args.print_size
        size = print_size_to_pixels(width_mm, height_mm, args.dpi)
    else:
        size = check_size(args.size)
    level = "interactive" if args.draft else "full"
    if args.sheet:
        from hipflex.media.sheet import contact_sheet
        from hipflex.model.contact import turned_words

        check_target(out, args.force)
        rgba = contact_sheet(base.model_copy(update={"pose": snaps[0].pose}), hips, size,
                             transparent=args.transparent, title=args.title, dpi=dpi, level=level,
                             progress=_progress(args, "sheet"))  # fmt: skip
        off = turned_words(snaps[0].pose.hip_adduction, snaps[0].pose.hip_rotation)
        text = (f"contact sheet: hip flexion {', '.join(f'{h:g}' for h in hips)} deg, "
                f"knee {knee:g} deg{off}")  # fmt: skip
        write_png(out, rgba, text, force=args.force, dpi=dpi)
        print(f"wrote {out} ({size[0]}x{size[1]} px, {len(hips)} poses)")
        return 0
    paths = series_paths(out, hips)
    for p in paths:
        check_target(p, args.force)
    view = None
    try:
        for k, (snap, path) in enumerate(zip(snaps, paths, strict=True)):
            if view is None:  # one plotter for the whole series; render_still sizes it
                view = OffscreenView(size, level=level, transparent=args.transparent,
                                     antialias=antialias_for(size))  # fmt: skip
            rgba = render_still(snap, size, transparent=args.transparent, title=args.title,
                                caption=args.caption, dpi=dpi, view=view)  # fmt: skip
            write_png(path, rgba, describe(snap), force=args.force, dpi=dpi)
            print(f"wrote {path} ({size[0]}x{size[1]} px)" +
                  (f" [{k + 1}/{len(paths)}]" if len(paths) > 1 else ""), flush=True)  # fmt: skip
    finally:
        if view is not None:
            view.close()
    return 0


# -- plot -----------------------------------------------------------------------------------------
def _cmd_plot(args: argparse.Namespace) -> int:
    from hipflex.model.hipmodel import load_model
    from hipflex.plots import PlotData, figure, save_figure
    from hipflex.state import Snapshot

    model = load_model()
    muscles = _muscle_list(args.muscles) or list(Snapshot().plotted)
    _check_muscles(muscles, model.muscles)
    from hipflex.media.still import at_pose

    at_pose(
        Snapshot(),
        knee_flexion=args.knee,
        hip_adduction=args.hip_adduction,
        hip_rotation=args.hip_rotation,
        **({"hip_flexion": args.hip} if args.hip is not None else {}),
    )
    data = PlotData.from_model(model, args.knee, hip_adduction=args.hip_adduction,
                               hip_rotation=args.hip_rotation)  # fmt: skip
    w, h = args.size_in
    fig = figure(args.kind, data, muscles, hip_flexion=args.hip, size_in=(w, h))
    path = save_figure(
        fig, Path(args.output), force=args.force, attribution=model.ctx.pack.attribution
    )
    print(f"wrote {path}")
    return 0


def _inches(text: str) -> tuple[float, float]:
    try:
        w, h = (float(v) for v in text.lower().removesuffix("in").split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected WxH inches such as 6.4x4, got {text!r}"
        ) from exc
    if not (1 <= w <= 40 and 1 <= h <= 40):
        raise argparse.ArgumentTypeError("figure sides must be 1..40 inches")
    return w, h


# -- handout and video ------------------------------------------------------------------------------
def _cmd_handout(args: argparse.Namespace) -> int:
    from hipflex.media.handout import DEFAULT_TITLE, make_handout

    if args.lesson is not None:
        from hipflex.media.lesson_handout import make_lesson_handout

        given = [f for f, v in (("--poses", args.poses), ("--knee", args.knee),
                                ("--muscles", args.muscles), ("--colour-by", args.colour_by),
                                ("--view", args.view), ("--title", args.title),
                                ("--adduction", args.hip_adduction),
                                ("--rotation", args.hip_rotation)) if v is not None]  # fmt: skip
        if given:
            raise HipFlexError(f"--lesson sets each step's pose, view and colours; leave out "
                               f"{', '.join(given)}")  # fmt: skip
        path = make_lesson_handout(Path(args.output), args.lesson, paper=args.paper,
                                   force=args.force, progress=_progress(args, "handout"))  # fmt: skip
        print(f"wrote {path}")
        return 0
    path = make_handout(Path(args.output), poses=args.poses or [0.0, 60.0, 110.0],
                        knee_flexion=args.knee or 0.0,
                        muscles=_muscle_list(args.muscles), colour_by=args.colour_by or "identity",
                        title=args.title or DEFAULT_TITLE, paper=args.paper, force=args.force,
                        progress=_progress(args, "handout"), view=args.view or "lateral",
                        hip_adduction=args.hip_adduction or 0.0,
                        hip_rotation=args.hip_rotation or 0.0)  # fmt: skip
    print(f"wrote {path}")
    return 0


def _cmd_video(args: argparse.Namespace) -> int:
    from hipflex.anatomy import load_anatomy
    from hipflex.media.motion import HIP_FROM, HIP_TO
    from hipflex.media.video import make_video

    start = HIP_FROM if args.start is None else args.start
    stop = HIP_TO if args.to is None else args.to
    known = list(load_anatomy().muscles)
    snap = _snapshot(args, known)
    path = make_video(Path(args.output), motion=args.motion, seconds=args.seconds, fps=args.fps,
                      size=args.size, view=args.view or "lateral", start=start, stop=stop,
                      knee_flexion=args.knee, snapshot=snap, force=args.force,
                      progress=_progress(args, "video"),
                      level="full" if args.full else "interactive")  # fmt: skip
    print(f"wrote {path}")
    return 0


# -- registration ----------------------------------------------------------------------------------
def _scene_options(p: argparse.ArgumentParser) -> None:
    from hipflex.scene.views import VIEWS

    p.add_argument("--view", choices=list(VIEWS), help="camera preset (default: lateral)")
    p.add_argument("--muscles", help="comma-separated muscle ids (default: all, or the session's)")
    p.add_argument("--style", choices=MUSCLE_STYLES, help="muscles as surfaces, tubes or lines")
    p.add_argument("--colour-by", choices=COLOUR_MODES, help="muscle colours (default: identity)")
    p.add_argument("--session", help="start from a saved session (.json); options override it")


def _common(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.add_argument("-o", "--output", required=True, help=what)


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the media verbs on the main parser."""
    from hipflex.plots import PLOT_KINDS

    r = sub.add_parser(
        "render", help="the 3D view alone as PNG: one pose, a series or a contact sheet"
    )
    r.add_argument("--hip", type=_angles, help="hip flexion, degrees; several (0,60,110) give a "
                   "series out_hip000.png... or, with --sheet, one contact sheet")  # fmt: skip
    r.add_argument("--knee", type=float, help="knee flexion, degrees (default 0)")
    add_off_plane(r, "the views", unset="the session's, else 0")
    _scene_options(r)
    size = r.add_mutually_exclusive_group()
    size.add_argument("--size", type=_size, default=(1600, 1200), help="WxH pixels (up to 8000)")
    size.add_argument("--print-size", type=_print_size, help="printed size, e.g. 180x120mm")
    r.add_argument("--dpi", type=float, default=300.0, help="dots per inch for --print-size")
    r.add_argument("--transparent", action="store_true", help="transparent background")
    r.add_argument("--labels", action="store_true", help="label muscles and landmarks")
    r.add_argument("--title", help="title drawn above the view")
    r.add_argument("--caption", help="caption drawn below the view")
    r.add_argument("--sheet", action="store_true", help="one contact sheet of all --hip poses")
    quality = r.add_mutually_exclusive_group()
    quality.add_argument("--full", action="store_true", help="full-detail meshes (the default)")
    quality.add_argument("--draft", action="store_true", help="interactive meshes (faster)")
    _common(r, "PNG file to write")
    r.set_defaults(func=_cmd_render)

    pl = sub.add_parser("plot", help="one engine chart across hip flexion, as SVG, PDF or PNG")
    pl.add_argument("--kind", choices=PLOT_KINDS, required=True)
    pl.add_argument("--knee", type=float, default=0.0, help="knee flexion, degrees")
    pl.add_argument("--hip", type=float, help="cursor at this hip flexion, degrees")
    add_off_plane(pl, "the curves")
    pl.add_argument("--muscles", help="comma-separated muscle ids (default: iliopsoas, RF, TFL)")
    pl.add_argument("--size-in", type=_inches, default=(6.4, 4.0), help="WxH inches")
    _common(pl, ".svg, .pdf or .png file to write")
    pl.set_defaults(func=_cmd_plot)

    ho = sub.add_parser("handout", help="A4 or Letter PDF: posed views, capacity chart, the why")
    ho.add_argument("--poses", type=_angles, help="hip angles (1-4; default 0,60,110)")
    ho.add_argument("--knee", type=float, help="knee flexion, degrees (default 0)")
    add_off_plane(ho, "every pose, its chart and its statements", unset="0")
    ho.add_argument("--muscles", help="comma-separated muscle ids (default: the flexors)")
    ho.add_argument("--colour-by", choices=COLOUR_MODES, help="muscle colours (default: identity)")
    ho.add_argument("--view", choices=["anterior", "lateral", "medial", "oblique"],
                    help="camera preset (default: lateral)")  # fmt: skip
    ho.add_argument("--title", help="the handout's title")
    ho.add_argument("--lesson", metavar="ID", help="a lesson instead: each step's picture, "
                    "question and the engine's statements ('hipflex lesson' lists them)")  # fmt: skip
    ho.add_argument("--paper", choices=["a4", "letter"], default="a4")
    _common(ho, "PDF file to write")
    ho.set_defaults(func=_cmd_handout)

    v = sub.add_parser("video", help="flexion sweep or sprint knee drive, as MP4 (H.264) or GIF")
    v.add_argument("--motion", choices=["sweep", "knee-drive"], default="sweep")
    v.add_argument(
        "--from", dest="start", type=float, help="sweep start, deg (default: the explorer's lowest)"
    )
    v.add_argument("--to", type=float, help="sweep end, deg (default: the explorer's highest)")
    v.add_argument("--knee", type=float, default=0.0, help="knee flexion during a sweep, deg")
    add_off_plane(v, "the frames", unset="the session's, else 0")
    v.add_argument("--seconds", type=float, default=4.0)
    v.add_argument("--fps", type=float, default=30.0)
    v.add_argument("--size", type=_size, default=(1280, 720), help="WxH pixels")
    v.add_argument("--full", action="store_true", help="full-detail meshes (slower)")
    _scene_options(v)
    _common(v, ".mp4 or .gif file to write")
    v.set_defaults(func=_cmd_video)
