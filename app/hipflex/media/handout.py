"""The PDF handout for coaches and teachers: posed views, the capacity chart and the why in words.

One or two A4/Letter pages built with matplotlib's PDF backend: text is real (TrueType, so it
can be searched and copied), the chart is vector, and the 3D views are rendered at 300 dpi for
the size they are printed at. Muscle labels are numbered call-outs with a key under the views:
at a third of a page wide, names beside each view would cover the anatomy.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from hipflex.errors import HipFlexError
from hipflex.fileio import atomic_write_bytes, check_target
from hipflex.media.jobs import Cancel, Job, Progress
from hipflex.media.still import OffscreenView, ViewImage, at_pose, attribution_line, task_applied
from hipflex.model.explain import without_caveats
from hipflex.model.hipmodel import HipModel, load_model
from hipflex.plots import PlotData, draw
from hipflex.plots.charts import held_words, legend_entries
from hipflex.plots.export import VECTOR_TEXT
from hipflex.scene.colours import COLOUR_MODES, legend
from hipflex.state import Camera, Display, Pose, Snapshot, Task

PAPERS = {"a4": (210 / 25.4, 297 / 25.4), "letter": (8.5, 11.0)}  # inches
PRINT_DPI = 300
MARGIN = 0.6  # in
KEY_MUSCLES = ("iliacus", "psoas", "rectus_femoris", "tensor_fasciae_latae", "sartorius")
FLEXOR_GROUPS = ("iliopsoas", "other_flexors")
DEFAULT_TITLE = "Hip flexion: which muscles lift the thigh, and why"
# Always cited: the bones and muscle meshes, the muscle model and the hold-task segment data.
CORE_REFERENCES = ("hubmap_ccf", "andreassen2022", "remus2021", "rajagopal2016", "millard2013",
                   "deleva1996")  # fmt: skip
FOOTER = ("Anatomy: NLM Visible Human Male via the HuBMAP CCF 3D Reference Object Library (CC BY 4.0), "
          "Andreassen et al. 2023 (CC BY 4.0) and Remus et al. 2021 (BSD-3-Clause). Muscle "
          "parameters: Rajagopal et al. 2016. Computed and drawn by HipFlex; a model estimate, "
          "not a measurement.")  # fmt: skip
TEXT = "#1a1a1a"
MUTED = "#555555"


@dataclass
class _Style:
    size: float
    bold: bool = False
    indent: float = 0.0  # in
    bullet: bool = False
    colour: str = TEXT
    space_before: float = 0.0  # in


class _Flow:
    """Top-to-bottom text on pages of a fixed size, measured with the real font metrics."""

    def __init__(self, pdf: PdfPages, paper: tuple[float, float], footer: str) -> None:
        self.pdf = pdf
        self.W, self.H = paper
        self.footer = footer
        self.pages: list[Figure] = []
        # measured at 720 dpi: at 72 dpi hinting makes small text up to 13% too wide
        self._renderer = RendererAgg(1, 1, 720)
        self.fig = self.new_page()
        self.y = MARGIN  # inches from the top

    def new_page(self) -> Figure:
        fig = Figure(figsize=(self.W, self.H))
        self.pages.append(fig)
        self.fig = fig
        self.y = MARGIN
        return fig

    @property
    def bottom(self) -> float:
        return self.H - MARGIN - 0.45  # room for the footer

    def width_in(self, text: str, size: float, bold: bool) -> float:
        prop = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
        w, _, _ = self._renderer.get_text_width_height_descent(text, prop, ismath=False)
        return float(w) / 720.0

    def wrap(self, text: str, size: float, bold: bool, width: float) -> list[str]:
        lines: list[str] = []
        line = ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if line and self.width_in(trial, size, bold) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        return [*lines, line] if line else lines

    def text_at(self, x: float, y: float, text: str, size: float, bold: bool = False,
                colour: str = TEXT, ha: str = "left") -> None:  # fmt: skip
        """Text with its top at (x, y) inches from the page's top left."""
        self.fig.text(x / self.W, 1 - y / self.H, text, fontsize=size, va="top", ha=ha,
                      fontweight="bold" if bold else "normal", color=colour,
                      family="DejaVu Sans")  # fmt: skip

    def paragraph(self, text: str, style: _Style, keep_with_next: float = 0.0) -> None:
        left = MARGIN + style.indent + (0.16 if style.bullet else 0.0)
        width = self.W - MARGIN - left
        lines = self.wrap(text, style.size, style.bold, width)
        lh = style.size * 1.32 / 72
        need = style.space_before + lh * min(len(lines), 2) + keep_with_next
        if self.y + need > self.bottom:
            self.new_page()
        else:
            self.y += style.space_before
        for k, line in enumerate(lines):
            if self.y + lh > self.bottom:
                self.new_page()
            if k == 0 and style.bullet:
                self.text_at(left - 0.14, self.y, "•", style.size, colour=style.colour)
            self.text_at(left, self.y, line, style.size, style.bold, style.colour)
            self.y += lh

    def finish(self) -> int:
        n = len(self.pages)
        for k, fig in enumerate(self.pages, 1):
            lines = self.wrap(self.footer, 6.5, False, self.W - 2 * MARGIN - 0.6)
            y = self.H - MARGIN - 0.05 - 6.5 * 1.3 / 72 * len(lines)
            fig.add_artist(Line2D(
                [MARGIN / self.W, 1 - MARGIN / self.W], [1 - (y - 0.06) / self.H] * 2,
                color="#bbbbbb", lw=0.5))  # fmt: skip
            self.fig = fig
            for line in lines:
                self.text_at(MARGIN, y, line, 6.5, colour=MUTED)
                y += 6.5 * 1.3 / 72
            self.text_at(self.W - MARGIN, self.H - MARGIN - 0.05 - 6.5 * 1.3 / 72 * len(lines),
                         f"{k}/{n}", 6.5, colour=MUTED, ha="right")  # fmt: skip
            self.pdf.savefig(fig)
        return n


def _held_words(held: Pose) -> str:
    """What every pose of the handout shares: the knee, and the hip's adduction and rotation
    when it is turned out of the sagittal plane."""
    return held_words(held.knee_flexion, held.hip_adduction, held.hip_rotation, sep=", ")


def _default_muscles(model: HipModel) -> list[str]:
    return [m for m, mu in model.ctx.anatomy.muscles.items() if mu.group in FLEXOR_GROUPS]


def _tube_words(model: HipModel, muscles: Sequence[str]) -> str:
    """" Quadratus femoris has no surface model ...": names the shown muscles the surface
    sources leave out, which the views draw as tubes along their lines of action ("" if none)."""
    anatomy = model.ctx.anatomy
    names = [anatomy.muscles[m].display_name for m in muscles if anatomy.muscles[m].mesh is None]
    if not names:
        return ""
    which = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "has" if len(names) == 1 else "have"
    return (f" {which} {verb} no surface model in the source set: drawn as a tube along the "
            "line of action.")


def _cell_size(paper: tuple[float, float], n: int) -> tuple[float, float]:
    """Printed width and height (in) of one view when ``n`` sit side by side."""
    gap = 0.15
    cell_w = (paper[0] - 2 * MARGIN - gap * (n - 1)) / n
    return cell_w, min(2.9, cell_w * (1.05 if n > 2 else 0.8))


def _render_views(
    model: HipModel,
    poses: Sequence[float],
    held: Pose,
    muscles: list[str],
    colour_by: str,
    view_name: str,
    paper: tuple[float, float],
    job: Job,
    task: Task,
) -> list[ViewImage]:
    """Each pose rendered at 300 dpi for the size it is printed at, through one plotter."""
    cell_w, cell_h = _cell_size(paper, len(poses))
    px = (round(cell_w * PRINT_DPI), round(cell_h * PRINT_DPI))
    snap = Snapshot(pose=held, visible=tuple(muscles),
                    display=Display(colour_by=colour_by, labels=True),  # type: ignore[arg-type]
                    camera=Camera(view=view_name), task=task)  # type: ignore[arg-type]  # fmt: skip
    snaps = [at_pose(snap, hip_flexion=float(hip)) for hip in poses]
    out = []
    with OffscreenView(px, model=model, level="full") as view:
        # one camera for every pose: the views share a scale, so the poses can be compared
        view.frame_poses(snaps, view_name)
        for k, (hip, posed) in enumerate(zip(poses, snaps, strict=True)):
            job.step(0.05 + 0.55 * k / len(poses), f"rendering the view at {hip:g} deg hip flexion")
            out.append(view.render(posed, anchors=True, camera=False))
    return out


def _view_row(
    flow: _Flow,
    model: HipModel,
    poses: Sequence[float],
    views: list[ViewImage],
    muscles: list[str],
    colour_by: str,
    hip_acceleration: float = 0.0,
) -> None:
    """The posed views side by side, captioned, with numbered call-outs and their key."""
    gap = 0.15
    cell_w, cell_h = _cell_size((flow.W, flow.H), len(poses))
    key = [m for m in KEY_MUSCLES if m in muscles] or muscles[:5]
    names = {m: model.ctx.anatomy.muscles[m].display_name for m in key}
    top = flow.y
    for k, (hip, vi) in enumerate(zip(poses, views, strict=True)):
        px = (vi.rgba.shape[1], vi.rgba.shape[0])
        left = MARGIN + k * (cell_w + gap)
        ax = flow.fig.add_axes((left / flow.W, 1 - (top + cell_h) / flow.H,
                                cell_w / flow.W, cell_h / flow.H))  # fmt: skip
        ax.imshow(vi.rgba[..., :3], interpolation="none", extent=(0, px[0], px[1], 0))
        ax.set_axis_off()
        _callouts(ax, vi.anchors, names, key, px)
        flow.text_at(left + cell_w / 2, top + cell_h + 0.04, f"{hip:g}° hip flexion", 9.5, True,
                     ha="center")  # fmt: skip
    flow.y = top + cell_h + 0.28
    # the key: number, swatch, name
    x = MARGIN
    for i, m in enumerate(key, 1):
        label = f"{i}  {names[m]}"
        w = flow.width_in(label, 8, False) + 0.45
        if x + w > flow.W - MARGIN:
            x = MARGIN
            flow.y += 0.2
        colour = model.ctx.anatomy.muscles[m].colour if colour_by == "identity" else "#ffffff"
        flow.fig.add_artist(Rectangle(
            (x / flow.W, 1 - (flow.y + 0.13) / flow.H), 0.12 / flow.W, 0.12 / flow.H,
            facecolor=colour, edgecolor="#444444", lw=0.5))  # fmt: skip
        flow.text_at(x + 0.17, flow.y + 0.005, label, 8)
        x += w
    flow.y += 0.3
    spec = legend(colour_by, hip_acceleration)
    if spec is not None:
        _legend_bar(flow, spec)


def _callouts(
    ax: Axes,
    anchors: dict[str, tuple[float, float]],
    names: dict[str, str],
    key: list[str],
    px: tuple[int, int],
) -> None:
    """Numbered discs near each key muscle's anchor, pushed apart so that none overlap."""
    placed: list[np.ndarray] = []
    r = 0.045 * px[0]
    centre = np.array(px, float) / 2
    for i, m in enumerate(key, 1):
        if names[m] not in anchors:
            continue
        a = np.array(anchors[names[m]])
        d = a - centre
        d = d / (np.linalg.norm(d) or 1.0)
        p = a + d * 2.2 * r
        for _ in range(40):
            if all(np.linalg.norm(p - q) > 2.1 * r for q in placed):
                break
            p = p + np.array([0.0, 0.9 * r])
        p = np.clip(p, 1.7 * r, np.array(px) - 1.7 * r)
        placed.append(p)
        ax.annotate(str(i), xy=tuple(a), xytext=tuple(p), fontsize=7, fontweight="bold",
                    ha="center", va="center", color=TEXT,
                    bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": "#222222", "lw": 0.6},
                    arrowprops={"arrowstyle": "-", "color": "#222222", "lw": 0.6,
                                "shrinkA": 0, "shrinkB": 0})  # fmt: skip
        ax.plot([a[0]], [a[1]], "o", ms=2.2, color="#222222")
    ax.set_xlim(0, px[0])
    ax.set_ylim(px[1], 0)


def _legend_bar(flow: _Flow, spec: object) -> None:
    from matplotlib.colors import ListedColormap

    from hipflex.scene.colours import LegendSpec

    assert isinstance(spec, LegendSpec)
    w = 2.6
    ax = flow.fig.add_axes((MARGIN / flow.W, 1 - (flow.y + 0.14) / flow.H, w / flow.W,
                            0.12 / flow.H))  # fmt: skip
    ax.imshow(np.linspace(0, 1, 256)[None], aspect="auto", cmap=ListedColormap(spec.stops),
              extent=(0, 1, 0, 1))  # fmt: skip
    ax.set_yticks([])
    ax.set_xticks([t for t, _ in spec.ticks], [s for _, s in spec.ticks], fontsize=6.5)
    ax.tick_params(length=2, pad=1)
    flow.text_at(MARGIN + w + 0.15, flow.y, spec.title, 7.5, True)
    x = MARGIN + w + 0.15
    for text, rgb in spec.categories:
        flow.fig.add_artist(Rectangle(
            (x / flow.W, 1 - (flow.y + 0.3) / flow.H), 0.1 / flow.W, 0.1 / flow.H,
            facecolor=rgb, edgecolor="#444444", lw=0.4))  # fmt: skip
        flow.text_at(x + 0.14, flow.y + 0.185, text, 6.5)
        x += flow.width_in(text, 6.5, False) + 0.35
    flow.y += 0.5


def _chart(flow: _Flow, data: PlotData, muscles: list[str], poses: Sequence[float]) -> None:
    """The maximum-moment chart across hip flexion, with the handout's poses marked."""
    h = 2.7
    legend_w = 1.75
    left = MARGIN + 0.55
    width = flow.W - MARGIN - left - legend_w
    flow.y += 0.08
    heading = flow.wrap("Maximum hip-flexion moment the muscles can make, across hip flexion "
                        f"({held_words(data.knee_flexion, data.hip_adduction, data.hip_rotation, ', ')})", 10, True, flow.W - 2 * MARGIN)  # fmt: skip
    for k, line in enumerate(heading):
        flow.text_at(MARGIN, flow.y + 0.19 * k, line, 10, True)
    top = flow.y + 0.3 + 0.19 * (len(heading) - 1)
    ax = flow.fig.add_axes((left / flow.W, 1 - (top + h) / flow.H, width / flow.W, h / flow.H))
    draw(ax, "max_moment", data, muscles, title=False, legend=False)
    for hip in poses:
        ax.axvline(hip, color="#222222", lw=0.9, ls="--", zorder=5)
        ax.text(hip, 1.0, f"{hip:g}°", transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=8, fontweight="bold")  # fmt: skip
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontsize(8)
    ax.xaxis.label.set_fontsize(9)
    ax.yaxis.label.set_fontsize(9)
    handles, labels = legend_entries(ax)
    flow.fig.legend(handles, labels, loc="upper left", fontsize=7.5, frameon=False,
                    bbox_to_anchor=((flow.W - MARGIN - legend_w + 0.15) / flow.W,
                                    1 - top / flow.H))  # fmt: skip
    flow.y = top + h + 0.45


def _sources(model: HipModel, muscles: list[str], extra: Sequence[str] = ()) -> list[str]:
    """Citations: the core references, each muscle's, then ``extra`` ids (e.g. a knee drive's)."""
    refs = model.ctx.anatomy.references
    ids = list(CORE_REFERENCES)
    for m in muscles:
        mu = model.ctx.anatomy.muscles[m]
        for r in (*mu.references, mu.hill.source):
            if r not in ids:
                ids.append(r)
    ids += [r for r in dict.fromkeys(extra) if r not in ids]
    out = []
    for r in ids:
        if r in refs:
            ref = refs[r]
            extra = f" doi:{ref.doi}" if ref.doi else (f" {ref.url}" if ref.url else "")
            out.append(ref.citation + extra)
    return out


def _layout(
    model: HipModel,
    poses: Sequence[float],
    held: Pose,
    muscles: list[str],
    colour_by: str,
    title: str,
    paper: str,
    views: list[ViewImage],
    view_name: str,
    text_scale: float,
    task: Task,
) -> tuple[bytes, int]:
    """Lay the handout out with body text at ``text_scale``; the PDF and its page count."""
    attribution = model.ctx.pack.attribution
    meta = {
        "Title": title,
        "Author": "HipFlex",
        "Creator": "HipFlex",
        "Subject": f"Hip flexion at {', '.join(f'{p:g}' for p in poses)} deg, "
                   f"{_held_words(held).replace('°', ' deg')}: muscle capacity and why",
        "Keywords": "hip flexion; iliopsoas; rectus femoris; moment arm; force-length; "
                    "Attribution: " + attribution_line(attribution),
    }  # fmt: skip
    z = text_scale
    buf = io.BytesIO()
    rc: Any = {**VECTOR_TEXT, "font.family": "DejaVu Sans"}
    with matplotlib.rc_context(rc), \
            PdfPages(buf, metadata=meta) as pdf:  # fmt: skip
        flow = _Flow(pdf, PAPERS[paper], FOOTER)
        flow.text_at(MARGIN, flow.y, title, 17, True)
        flow.y += 0.38
        shown = ", ".join(f"{p:g}°" for p in poses)
        sub = _Style(9, colour=MUTED)  # wrapped: an adducted, turned pose takes two lines
        flow.paragraph(f"{view_name.capitalize()} view of the right hip at {shown} hip flexion, "
                       f"{_held_words(held)}. Black lines: lines of action."
                       f"{_tube_words(model, muscles)}", sub)  # fmt: skip
        flow.y += 0.3 - sub.size * 1.32 / 72
        words = task.words({m: mu.display_name for m, mu in model.ctx.anatomy.muscles.items()})
        if words:  # the numbers below are for this task, not the default one: say so
            flow.paragraph(f"Hold task: {words}.", _Style(9, bold=True))
            flow.y += 0.1
        _view_row(flow, model, poses, views, muscles, colour_by, task.hip_acceleration)
        data = PlotData.from_model(model, held.knee_flexion, hip_acceleration=task.hip_acceleration,
                                   hip_adduction=held.hip_adduction,
                                   hip_rotation=held.hip_rotation)  # fmt: skip
        _chart(flow, data, muscles, poses)
        flow.paragraph("Why, in words", _Style(11, bold=True), keep_with_next=0.4)
        caveats: list[str] = []
        for hip in poses:
            flow.paragraph(f"At {hip:g}° hip flexion", _Style(9.5 * z, bold=True, space_before=0.05),
                           keep_with_next=0.2)  # fmt: skip
            said = model.explain(float(hip), held.knee_flexion, hip_acceleration=task.hip_acceleration,
                                 hip_adduction=held.hip_adduction,
                                 hip_rotation=held.hip_rotation)  # fmt: skip
            for s in without_caveats(said, caveats):
                flow.paragraph(str(s["text"]), _Style(8.5 * z, bullet=True, space_before=0.02))
        head = _Style(9.5 * z, bold=True, space_before=0.1)
        flow.paragraph("Caveats", head, keep_with_next=0.2)
        for c in caveats:
            flow.paragraph(c, _Style(8.5 * z, bullet=True, space_before=0.02, colour=MUTED))
        flow.paragraph("Sources", head, keep_with_next=0.2)
        for ref in _sources(model, muscles):
            flow.paragraph(ref, _Style(6.8 * z, bullet=True, colour=MUTED))
        flow.paragraph("Attribution of the anatomy", head, keep_with_next=0.2)
        for para in _attribution_paragraphs(attribution):
            flow.paragraph(para, _Style(6.8 * z, colour=MUTED, space_before=0.02))
        pages = flow.finish()
    return buf.getvalue(), pages


def build_handout_pdf(
    model: HipModel,
    poses: Sequence[float],
    knee_flexion: float,
    muscles: list[str],
    colour_by: str,
    title: str,
    paper: str,
    job: Job,
    view: str = "lateral",
    task: Task | None = None,
    hip_adduction: float = 0.0,
    hip_rotation: float = 0.0,
) -> tuple[bytes, int]:
    """The PDF as bytes and its page count: the views rendered once, the text shrunk a little
    if that keeps the handout to two pages. ``task`` is the hold task (default: the model's own
    subject and strengths, holding still). The knee, ``hip_adduction`` and ``hip_rotation``
    (deg) are held at every pose, as the window holds them while hip flexion changes."""
    if task is None:
        task = Task(body_mass=model.body_mass, height=model.height, strength=model.strength)
    held = at_pose(Snapshot(), knee_flexion=knee_flexion, hip_adduction=hip_adduction,
                   hip_rotation=hip_rotation).pose  # fmt: skip
    with task_applied(model, task):
        return _build(model, poses, held, muscles, colour_by, title, paper, job, view, task)


def _build(model: HipModel, poses: Sequence[float], held: Pose, muscles: list[str],
           colour_by: str, title: str, paper: str, job: Job, view: str,
           task: Task) -> tuple[bytes, int]:  # fmt: skip
    views = _render_views(model, poses, held, muscles, colour_by, view, PAPERS[paper], job, task)
    pdf, pages = b"", 0
    for k, scale in enumerate((1.0, 0.92, 0.85)):
        job.step(0.65 + 0.1 * k, "laying out the pages")
        pdf, pages = _layout(model, poses, held, muscles, colour_by, title, paper, views,
                             view, scale, task)  # fmt: skip
        if pages <= 2:
            break
    return pdf, pages


def _attribution_paragraphs(text: str) -> list[str]:
    """The pack's ATTRIBUTION.md as paragraphs (its numbered items, headings dropped)."""
    paras: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line[0].isdigit() or not paras:
            paras.append(line)
        else:
            paras[-1] += " " + line
    return paras


def make_handout(
    path: Path | str,
    poses: Sequence[float] = (0, 60, 110),
    knee_flexion: float = 0,
    muscles: Sequence[str] | None = None,
    colour_by: str = "identity",
    title: str = DEFAULT_TITLE,
    paper: str = "a4",
    force: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    model: HipModel | None = None,
    view: str = "lateral",
    task: Task | None = None,
    hip_adduction: float = 0.0,
    hip_rotation: float = 0.0,
) -> Path:
    """Write the handout PDF (one or two pages) atomically; cancelling leaves no file.

    ``task`` is the hold task the activations and the "why" are computed for (a session's or the
    window's); without it, the model's own subject and strengths, holding the leg still. A task
    other than the default is stated under the views. ``hip_adduction`` and ``hip_rotation``
    (deg) turn every pose out of the sagittal plane alike; the handout names them."""
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise HipFlexError(f"{path}: a handout is a PDF; use a .pdf name")
    if paper not in PAPERS:
        raise HipFlexError(f"unknown paper {paper!r}; expected a4 or letter")
    if colour_by not in COLOUR_MODES:
        raise HipFlexError(
            f"unknown colour mode {colour_by!r}; expected one of {', '.join(COLOUR_MODES)}"
        )
    if not 1 <= len(poses) <= 4:
        raise HipFlexError("a handout shows 1 to 4 poses")
    check_target(path, force)
    job = Job(f"{path}", progress, cancel)
    job.step(0.0, "loading the model")
    model = model or load_model()
    chosen = list(muscles) if muscles is not None else _default_muscles(model)
    unknown = [m for m in chosen if m not in model.ctx.anatomy.muscles]
    if unknown or not chosen:
        raise HipFlexError(f"unknown muscle id(s): {', '.join(unknown) or '(none given)'}; "
                           f"known: {', '.join(model.ctx.muscle_ids)}")  # fmt: skip
    for hip in poses:
        at_pose(Snapshot(), hip_flexion=float(hip), knee_flexion=float(knee_flexion),
                hip_adduction=float(hip_adduction), hip_rotation=float(hip_rotation))  # fmt: skip
    data, pages = build_handout_pdf(model, [float(p) for p in poses], float(knee_flexion), chosen,
                                    colour_by, title, paper, job, view, task,
                                    float(hip_adduction), float(hip_rotation))  # fmt: skip
    job.step(0.97, f"saving ({pages} pages)")
    atomic_write_bytes(path, data)
    job.done(f"wrote {path}")
    return path
