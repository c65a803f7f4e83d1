"""A lesson as a printable PDF: each step's picture, its question, and the engine's answer.

For a coach's session plan or a student's worksheet: the same steps the window's Lesson tab
goes through (hipflex.lessons), each rendered at 300 dpi for the size it is printed at, with the
step's question beside it and the "why" statements the engine computes at that pose under the
question. Text is real (searchable); the page flow, sources and attribution are the handout's
(hipflex.media.handout).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages

from hipflex.errors import HipFlexError
from hipflex.fileio import atomic_write_bytes, check_target
from hipflex.lessons import Lesson, lesson_snapshots, load_lessons
from hipflex.media.handout import (
    FOOTER,
    MARGIN,
    MUTED,
    PAPERS,
    PRINT_DPI,
    _attribution_paragraphs,
    _Flow,
    _sources,
    _Style,
)
from hipflex.media.jobs import Cancel, Job, Progress
from hipflex.media.still import OffscreenView, ViewImage, attribution_line, task_applied
from hipflex.model.explain import without_caveats
from hipflex.model.hipmodel import HipModel, load_model
from hipflex.model.limits import drive_text
from hipflex.plots.export import VECTOR_TEXT
from hipflex.state import Snapshot

PICTURE = (2.9, 2.25)  # in, each step's picture (4:3, with the colour legend at its foot)
# the scene's legend text and lines at this scale read at about 6 pt on a 2.25 in picture
PICTURE_SCALE = 2.0
GAP = 0.2  # in, between the picture and the text beside it


def _render(model: HipModel, snaps: list[Snapshot], job: Job) -> list[ViewImage]:
    """Each step through one offscreen plotter, framed by its own camera preset."""
    px = (round(PICTURE[0] * PRINT_DPI), round(PICTURE[1] * PRINT_DPI))
    out = []
    with OffscreenView(px, model=model, level="full", scale=PICTURE_SCALE) as view:
        for k, snap in enumerate(snaps):
            job.step(0.05 + 0.6 * k / len(snaps), f"rendering step {k + 1} of {len(snaps)}")
            # with anchors the moment-arm caption comes back as text, set beside the picture
            out.append(view.render(snap, anchors=True))
    return out


def _layout(model: HipModel, lesson: Lesson, snaps: list[Snapshot], views: list[ViewImage],
            paper: str) -> tuple[bytes, int]:  # fmt: skip
    attribution = model.ctx.pack.attribution
    meta = {"Title": lesson.title, "Author": "HipFlex", "Creator": "HipFlex",
            "Subject": f"HipFlex lesson '{lesson.id}': {lesson.summary}",
            "Keywords": "hip flexion; lesson; Attribution: " + attribution_line(attribution)}  # fmt: skip
    buf = io.BytesIO()
    rc: Any = {**VECTOR_TEXT, "font.family": "DejaVu Sans"}
    caveats: list[str] = []
    with matplotlib.rc_context(rc), PdfPages(buf, metadata=meta) as pdf:
        flow = _Flow(pdf, PAPERS[paper], FOOTER)
        flow.paragraph(lesson.title, _Style(17, bold=True))
        flow.paragraph(lesson.summary, _Style(10, colour=MUTED, space_before=0.04))
        if lesson.audience:
            flow.paragraph(f"For: {lesson.audience}", _Style(8.5, colour=MUTED))
        flow.paragraph("Under each question: what HipFlex's Why panel says at that pose, "
                       "computed by the model (not written into the lesson). In the app, "
                       "'hipflex gui', the Lesson tab steps through the same poses.",
                       _Style(8.5, colour=MUTED, space_before=0.04))  # fmt: skip
        indent = PICTURE[0] + GAP
        for n, (step, snap, vi) in enumerate(zip(lesson.steps, snaps, views, strict=True), 1):
            p = step.pose
            knee = "knee straight" if p.knee_flexion == 0 else f"knee {p.knee_flexion:g}°"
            head = f"Step {n}: {step.title} (hip {p.hip_flexion:g}°, {knee})"
            flow.paragraph(head, _Style(11, bold=True, space_before=0.18),
                           keep_with_next=PICTURE[1])  # fmt: skip
            top = flow.y + 0.04
            ax = flow.fig.add_axes((MARGIN / flow.W, 1 - (top + PICTURE[1]) / flow.H,
                                    PICTURE[0] / flow.W, PICTURE[1] / flow.H))  # fmt: skip
            h, w = vi.rgba.shape[:2]
            ax.imshow(vi.rgba[..., :3], interpolation="none", extent=(0, w, h, 0))
            ax.set_axis_off()
            flow.y = top
            flow.paragraph(step.text, _Style(9.5, bold=True, indent=indent))
            if vi.callout is not None:  # the selected muscle's lever, drawn in red
                flow.paragraph(f"In red: {vi.callout[0]}", _Style(8, colour=MUTED, indent=indent))
            if snap.task.hip_acceleration != 0:  # the window's Task tab says it; paper must too
                flow.paragraph(_drive_words(model, snap.task.hip_acceleration),
                               _Style(8, colour=MUTED, indent=indent))  # fmt: skip
            said = model.explain(p.hip_flexion, p.knee_flexion,
                                 hip_acceleration=snap.task.hip_acceleration,
                                 hip_adduction=p.hip_adduction, hip_rotation=p.hip_rotation)  # fmt: skip
            for s in without_caveats(said, caveats):
                flow.paragraph(str(s["text"]), _Style(8, bullet=True, indent=indent,
                                                      space_before=0.02))  # fmt: skip
            if flow.fig is ax.figure:  # the text did not run onto a new page: clear the picture
                flow.y = max(flow.y, top + PICTURE[1])
        head_style = _Style(9.5, bold=True, space_before=0.15)
        flow.paragraph("Caveats", head_style, keep_with_next=0.2)
        for c in caveats:
            flow.paragraph(c, _Style(8.5, bullet=True, space_before=0.02, colour=MUTED))
        flow.paragraph("Sources", head_style, keep_with_next=0.2)
        anatomy = model.ctx.anatomy
        drives = [anatomy.knee_drive_at(snap.task.hip_acceleration) for snap in snaps]
        drive_refs = [r for d in drives if d is not None for r in d.references]
        for ref in _sources(model, sorted({m for snap in snaps for m in snap.visible}),
                            drive_refs):  # fmt: skip
            flow.paragraph(ref, _Style(6.8, bullet=True, colour=MUTED))
        flow.paragraph("Attribution of the anatomy", head_style, keep_with_next=0.2)
        for para in _attribution_paragraphs(attribution):
            flow.paragraph(para, _Style(6.8, colour=MUTED, space_before=0.02))
        pages = flow.finish()
    return buf.getvalue(), pages


def _drive_words(model: HipModel, hip_acceleration: float) -> str:
    """"Knee drive: Sprint at top speed, 179.8 rad/s² (Alt et al. 2024)", or the bare figure."""
    anatomy = model.ctx.anatomy
    drive = anatomy.knee_drive_at(hip_acceleration)
    return "Knee drive: " + (anatomy.knee_drive_label(drive) if drive is not None
                             else drive_text(hip_acceleration, "rad/s²"))  # fmt: skip


def make_lesson_handout(
    path: Path | str,
    lesson_id: str,
    paper: str = "a4",
    force: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    model: HipModel | None = None,
) -> Path:
    """Write the lesson's PDF atomically (cancelling leaves no file); the steps are stepped
    through from the explorer's start (every muscle shown), as the window's Next does."""
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise HipFlexError(f"{path}: a lesson handout is a PDF; use a .pdf name")
    if paper not in PAPERS:
        raise HipFlexError(f"unknown paper {paper!r}; expected a4 or letter")
    lessons = load_lessons()
    if lesson_id not in lessons:
        raise HipFlexError(f"no lesson {lesson_id!r} (known: {', '.join(lessons)})")
    check_target(path, force)
    job = Job(f"{path}", progress, cancel)
    job.step(0.0, "loading the model")
    model = model or load_model()
    lesson = lessons[lesson_id]
    snaps = lesson_snapshots(lesson, Snapshot(visible=tuple(model.ctx.anatomy.muscles)))
    with task_applied(model, snaps[0].task):
        views = _render(model, snaps, job)
        job.step(0.7, "laying out the pages")
        data, pages = _layout(model, lesson, snaps, views, paper)
    job.step(0.97, f"saving ({pages} pages)")
    atomic_write_bytes(path, data)
    job.done(f"wrote {path}")
    return path
