"""The four engine charts over a hip-flexion sweep, each with a cursor at the current pose.

Drawn onto any matplotlib ``Axes`` so the window (FigureCanvasQTAgg), figure exports and the
handout share one drawing. The cursor's artists are updated in place, so the window can blit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike, NDArray

from hipflex.errors import HipFlexError
from hipflex.model.contact import turned_words
from hipflex.model.hipmodel import HipModel, PoseResult
from hipflex.model.limits import drive_text
from hipflex.model.muscle import active_force_length
from hipflex.state import POSE_RANGES

Array = NDArray[np.float64]
PLOT_KINDS = ("moment_arm", "fibre_length", "max_moment", "activation")
PLOT_TITLES = {
    "moment_arm": "Hip-flexion moment arm",
    "fibre_length": "Fibre length on the force-length curve",
    "max_moment": "Maximum hip-flexion moment, by muscle",
    "activation": "Activation to hold the leg still",
}
DEFAULT_ANGLES = np.arange(POSE_RANGES["hip_flexion"][0], POSE_RANGES["hip_flexion"][1] + 0.5, 1.0)
CURSOR_COLOUR = "#333333"
REQUIRED_COLOUR = "#111111"
OTHERS_COLOUR = "#c8c8c8"
SLACK_SHADE = "#dbe9f7"
FL_AXIS = (-0.6, 2.0)  # normalised fibre length shown; slack values below are pinned at the edge


@dataclass
class PlotData:
    """One hip-flexion sweep at a fixed knee angle: everything the charts draw."""

    angles: Array  # hip flexion, deg (n_poses,)
    knee_flexion: float
    result: PoseResult
    names: dict[str, str]  # muscle id -> display name
    colours: dict[str, str]  # muscle id -> "#rrggbb"
    required_moment: Array  # hold task, N m (n_poses,)
    attribution: str = ""
    muscles: list[str] = field(default_factory=list)
    hip_acceleration: float = 0.0  # rad/s^2: a knee drive on top of holding the leg
    hip_adduction: float = 0.0  # deg, held over the sweep (the pose's, off the sagittal plane)
    hip_rotation: float = 0.0  # deg, internal rotation, held likewise

    @property
    def task_words(self) -> str:
        """What the muscles are asked to do, for legends and titles."""
        return ("hold the leg" if self.hip_acceleration == 0
                else "drive the knee up at " + drive_text(self.hip_acceleration, "rad/s\u00b2"))  # fmt: skip

    @classmethod
    def from_model(
        cls,
        model: HipModel,
        knee_flexion: float,
        angles: ArrayLike | None = None,
        hip_acceleration: float = 0.0,
        hip_adduction: float = 0.0,
        hip_rotation: float = 0.0,
    ) -> PlotData:
        """Sweep the model once, over hip flexion with the knee, adduction and rotation held;
        the charts then only index arrays."""
        a = DEFAULT_ANGLES if angles is None else np.asarray(angles, float).ravel()
        res = model.sweep(a, knee_flexion=knee_flexion, hip_acceleration=hip_acceleration,
                          hip_adduction=hip_adduction, hip_rotation=hip_rotation)  # fmt: skip
        muscles = model.ctx.anatomy.muscles
        return cls(
            angles=a.copy(),
            knee_flexion=float(knee_flexion),
            result=res,
            names={m: muscles[m].display_name for m in res.muscles},
            colours={m: muscles[m].colour for m in res.muscles},
            required_moment=np.asarray(res.required_moment, float),
            attribution=model.ctx.pack.attribution,
            muscles=list(res.muscles),
            hip_acceleration=float(hip_acceleration),
            hip_adduction=float(hip_adduction),
            hip_rotation=float(hip_rotation),
        )

    def column(self, quantity: str, muscle: str) -> Array:
        """One muscle's quantity over the sweep."""
        return np.asarray(self.result[quantity][:, self.result.muscles.index(muscle)], float)

    def at(self, quantity: str, muscle: str, hip_flexion: float) -> float:
        """Linear interpolation of a quantity at ``hip_flexion`` (clamped to the sweep)."""
        return float(np.interp(hip_flexion, self.angles, self.column(quantity, muscle)))


@dataclass
class PlotCursor:
    """The artists marking the current pose on one chart; ``move`` updates them in place."""

    artists: list[Artist]
    _update: Callable[[float], None]
    hip_flexion: float | None = None

    def move(self, hip_flexion: float) -> list[Artist]:
        """Put the cursor at ``hip_flexion`` (deg) and return the artists to redraw."""
        self.hip_flexion = float(hip_flexion)
        self._update(self.hip_flexion)
        for a in self.artists:
            a.set_visible(True)
        return self.artists


def _check(kind: str, data: PlotData, muscles: Sequence[str]) -> list[str]:
    if kind not in PLOT_KINDS:
        raise HipFlexError(f"unknown plot kind {kind!r}; expected one of {', '.join(PLOT_KINDS)}")
    unknown = [m for m in muscles if m not in data.names]
    if unknown:
        raise HipFlexError(
            f"unknown muscle id(s): {', '.join(unknown)}; known: {', '.join(data.names)}"
        )
    return list(muscles)


def _knee_text(knee: float) -> str:
    return "knee straight" if abs(knee) < 0.5 else f"knee flexed {knee:g}°"


def held_words(knee: float, hip_adduction: float, hip_rotation: float, sep: str = "; ") -> str:
    """What a sweep over hip flexion holds still: "knee straight", or "knee flexed 90°; hip
    adducted 15° and turned in 20°" off the sagittal plane (``sep`` before "hip")."""
    return _knee_text(knee) + turned_words(hip_adduction, hip_rotation, f"{sep}hip ", "°")


def held_text(data: PlotData) -> str:
    """``held_words`` for a chart's sweep, so a chart saved alone says which pose it is for."""
    return held_words(data.knee_flexion, data.hip_adduction, data.hip_rotation)


def legend_entries(ax: Axes) -> tuple[list[Artist], list[str]]:
    """Legend handles and labels of ``ax``; hidden cursor markers get visible stand-ins."""
    handles, labels = ax.get_legend_handles_labels()
    # stacked areas read top to bottom, so their legend entries go in reverse
    stack = [i for i, h in enumerate(handles) if h.get_gid() == "stack"]
    order = [*stack[::-1], *[i for i in range(len(handles)) if i not in stack]]
    handles = [handles[i] for i in order]
    labels = [labels[i] for i in order]
    out: list[Artist] = []
    for h in handles:
        if isinstance(h, Line2D) and not h.get_visible():
            proxy = Line2D([], [])
            proxy.update_from(h)
            proxy.set_visible(True)
            out.append(proxy)
        else:
            out.append(h)
    return out, labels


def _legend(ax: Axes) -> None:
    handles, labels = legend_entries(ax)
    if handles:
        ax.legend(handles, labels, loc="best", fontsize="small", framealpha=0.9)


def _vline(ax: Axes) -> Line2D:
    line = ax.axvline(0.0, color=CURSOR_COLOUR, lw=1.0, ls="--", zorder=5)
    line.set_visible(False)
    return line


def _hip_axis(ax: Axes, data: PlotData) -> None:
    ax.set_xlabel("Hip flexion (°)")
    ax.set_xlim(float(data.angles[0]), float(data.angles[-1]))
    ax.grid(True, color="#e4e4e4", lw=0.6)
    ax.set_axisbelow(True)


def _draw_moment_arm(ax: Axes, data: PlotData, muscles: list[str]) -> PlotCursor:
    ax.axhline(0.0, color="#888888", lw=0.8)
    for m in muscles:
        ax.plot(data.angles, 1000 * data.column("moment_arm_hip_flexion", m),
                color=data.colours[m], lw=1.8, label=data.names[m])  # fmt: skip
    _hip_axis(ax, data)
    ax.set_ylabel("Moment arm (mm)\n+ flexor / − extensor")
    return _curve_cursor(ax, data, muscles, "moment_arm_hip_flexion", 1000.0)


def _draw_activation(ax: Axes, data: PlotData, muscles: list[str]) -> PlotCursor:
    feasible = np.asarray(data.result.feasible, bool)
    needs_extensors = data.required_moment < 0
    cannot = ~feasible & ~needs_extensors
    xform = ax.get_xaxis_transform()
    if needs_extensors.any():
        ax.fill_between(data.angles, 0, 1, where=needs_extensors, color="#e3e3e3", lw=0,
                        transform=xform, label="extensors hold (not shown)")  # fmt: skip
    if cannot.any():
        ax.fill_between(data.angles, 0, 1, where=cannot, color="#f6d5d5", lw=0, transform=xform,
                        label=("cannot hold" if data.hip_acceleration == 0 else "cannot drive")
                        + " (out of reach)")  # fmt: skip
    for m in muscles:
        ax.plot(data.angles, 100 * data.column("activation", m), color=data.colours[m], lw=1.8,
                label=data.names[m])  # fmt: skip
    _hip_axis(ax, data)
    ax.set_ylim(0, 105)
    ax.set_ylabel("Activation (% of maximum)")
    return _curve_cursor(ax, data, muscles, "activation", 100.0)


def _curve_cursor(
    ax: Axes, data: PlotData, muscles: list[str], quantity: str, scale: float
) -> PlotCursor:
    vline = _vline(ax)
    dots = ax.scatter(np.zeros(len(muscles)), np.zeros(len(muscles)), s=28, zorder=6,
                      c=[data.colours[m] for m in muscles], edgecolors="black",
                      linewidths=0.6)  # fmt: skip
    dots.set_visible(False)

    def update(h: float) -> None:
        vline.set_xdata([h, h])
        ys = [scale * data.at(quantity, m, h) for m in muscles]
        dots.set_offsets(np.column_stack([np.full(len(muscles), h), ys]) if muscles else
                         np.zeros((0, 2)))  # fmt: skip

    return PlotCursor([vline, dots], update)


def _draw_fibre_length(ax: Axes, data: PlotData, muscles: list[str]) -> PlotCursor:
    """The curve, each muscle's operating range over the sweep as a faint bar in a strip under
    the curve, and its current point on the curve; slack (<= 0) is a cross in the shaded band."""
    lo, hi = FL_AXIS
    n = len(muscles)
    strip = -0.08 * np.arange(1, n + 1)
    bottom = float(strip[-1] - 0.08) if n else -0.08
    ax.axvspan(lo, 0.0, color=SLACK_SHADE, lw=0, zorder=0)
    ax.text(lo / 2, 1.08, "slack", ha="center", va="top", fontsize="small", color="#3a6ea5")
    x = np.linspace(0.0, hi, 400)
    ax.plot(x, active_force_length(x), color="black", lw=2.0, label="Active force-length curve")
    ax.axvline(1.0, color="#999999", lw=0.7, ls=":")
    ax.axhline(0.0, color="#888888", lw=0.8)
    markers: list[Line2D] = []
    ticks: list[Line2D] = []
    for m, y in zip(muscles, strip, strict=True):
        norm = np.clip(data.column("norm_fiber_length", m), lo + 0.02, hi)
        ax.plot([norm.min(), norm.max()], [y, y], color=data.colours[m], lw=5, alpha=0.35,
                solid_capstyle="butt", zorder=2)  # fmt: skip
        (tick,) = ax.plot([], [], ls="none", marker="|", ms=9, mew=2, color=data.colours[m],
                          zorder=6)  # fmt: skip
        (mk,) = ax.plot([], [], ls="none", marker="o", ms=7, mfc=data.colours[m], mec="black",
                        mew=0.7, zorder=6, label=data.names[m])  # fmt: skip
        markers.append(mk)
        ticks.append(tick)
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom, 1.12)
    levels = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    # the strip is named on the axis, where no curve or bar can run into the words
    ax.set_yticks(levels + ([float(strip.mean())] if n else []),
                  [f"{v:.1f}" for v in levels] + (["sweep\nrange"] if n else []))  # fmt: skip
    ax.set_xlabel("Normalised fibre length (fibre / optimal)")
    ax.set_ylabel("Active force (fraction of peak)")
    ax.grid(True, color="#e4e4e4", lw=0.6)
    if n:
        ax.get_yticklabels()[-1].set_fontsize("x-small")
        ax.get_yticklabels()[-1].set_color("#555555")
        for line in (*ax.get_yticklines()[-2:], ax.yaxis.get_gridlines()[-1]):
            line.set_visible(False)  # a name, not a level: no tick mark, no grid line
    ax.set_axisbelow(True)

    def update(h: float) -> None:
        for m, mk, tick, y in zip(muscles, markers, ticks, strip, strict=True):
            nf = data.at("norm_fiber_length", m, h)
            slack = nf <= 0
            xs = max(nf, lo + 0.03)
            mk.set_data([xs], [0.0 if slack else float(active_force_length(nf))])
            mk.set_marker("X" if slack else "o")
            mk.set_markersize(8 if slack else 7)
            tick.set_data([xs], [y])

    update(float(data.angles[0]))
    for a in (*markers, *ticks):
        a.set_visible(False)
    return PlotCursor([*markers, *ticks], update)


def _draw_max_moment(ax: Axes, data: PlotData, muscles: list[str]) -> PlotCursor:
    cap = np.clip(np.asarray(data.result["max_moment_hip_flexion"], float), 0.0, None)
    idx = [data.result.muscles.index(m) for m in muscles]
    layers = [cap[:, j] for j in idx]
    colours = [data.colours[m] for m in muscles]
    labels = [data.names[m] for m in muscles]
    others = cap.sum(axis=1) - (cap[:, idx].sum(axis=1) if idx else 0.0)
    if np.any(others > 0.5):
        layers.append(others)
        colours.append(OTHERS_COLOUR)
        labels.append("Other muscles")
    if layers:
        polys = ax.stackplot(data.angles, np.vstack(layers), colors=colours, labels=labels,
                             lw=0.3, edgecolor="white", alpha=0.92)  # fmt: skip
        for poly in polys:
            poly.set_gid("stack")
    ax.plot(data.angles, np.clip(data.required_moment, 0, None), color=REQUIRED_COLOUR, lw=2.0,
            ls="-", label=f"Needed to {data.task_words}")  # fmt: skip
    _hip_axis(ax, data)
    ax.set_ylim(0, None)
    ax.set_ylabel("Hip-flexion moment (N m)")
    vline = _vline(ax)
    total = cap.sum(axis=1)
    label = ax.text(0, 0.98, "", transform=ax.get_xaxis_transform(), ha="center", va="top",
                    fontsize="small", color=CURSOR_COLOUR, zorder=7,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})  # fmt: skip
    label.set_visible(False)

    def update(h: float) -> None:
        vline.set_xdata([h, h])
        label.set_x(h)
        label.set_text(f"{np.interp(h, data.angles, total):.0f} N m")

    return PlotCursor([vline, label], update)


_DRAW = {
    "moment_arm": _draw_moment_arm,
    "fibre_length": _draw_fibre_length,
    "max_moment": _draw_max_moment,
    "activation": _draw_activation,
}


def draw(
    ax: Axes,
    kind: str,
    data: PlotData,
    muscles: Sequence[str],
    hip_flexion: float | None = None,
    title: bool = True,
    legend: bool = True,
) -> PlotCursor:
    """Draw chart ``kind`` for ``muscles`` onto ``ax``; the cursor shows at ``hip_flexion``.

    ``legend`` puts a legend inside the axes; ``figure`` instead puts it beside them.
    """
    chosen = _check(kind, data, muscles)
    cursor = _DRAW[kind](ax, data, chosen)
    if title:
        ax.set_title(chart_title(kind, data), fontsize="medium", loc="left")
    if legend:
        _legend(ax)
    if hip_flexion is not None:
        cursor.move(hip_flexion)
    return cursor


def chart_title(kind: str, data: PlotData) -> str:
    title = PLOT_TITLES[kind]
    if kind == "activation" and data.hip_acceleration != 0:
        title = f"Activation to {data.task_words}"
    # off the sagittal plane the held pose is long: on its own line, so the title stays clear
    # of a legend beside the axes
    sep = "\n" if data.hip_adduction or data.hip_rotation else " "
    return f"{title}{sep}({held_text(data)})"


def figure(
    kind: str,
    data: PlotData,
    muscles: Sequence[str],
    hip_flexion: float | None = None,
    size_in: tuple[float, float] = (6.4, 4.0),
    **kw: Any,
) -> Figure:
    """A standalone figure (no pyplot state), laid out so the legend is never cut off."""
    fig = Figure(figsize=size_in, layout="constrained")
    ax = fig.add_subplot()
    draw(ax, kind, data, muscles, hip_flexion, title=False, legend=False, **kw)
    fig.suptitle(chart_title(kind, data), x=0.01, ha="left", fontsize="medium")
    handles, labels = legend_entries(ax)
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize="small", frameon=False)
    return fig
