"""The four engine charts, following the pose with a cursor at the current hip angle.

The drawing is ``hipflex.plots`` (shared with exports and handouts); this panel only embeds it.
Slider drags move the pose many times a second, so a pose change only moves the cursors and
blits them over a cached background; the charts are redrawn in full only when the sweep (the
knee angle) or the plotted muscles change, and then only those on screen.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.backend_bases import DrawEvent
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hipflex.gui.panels._common import coalescer, esc
from hipflex.gui.panels.muscles import GROUP_TITLES
from hipflex.gui.qtstate import SWEEP_ANGLES, Analysis, QtState
from hipflex.model.contact import turned_words
from hipflex.plots import PLOT_KINDS, PLOT_TITLES, PlotCursor, PlotData, draw, figure, save_figure
from hipflex.plots.charts import legend_entries
from hipflex.state import Snapshot

SHORT_TITLES = {
    "moment_arm": "Moment arm",
    "fibre_length": "Fibre length",
    "max_moment": "Max moment",
    "activation": "Activation",
}
# Axes titles short enough for a quarter of a side panel; a chart shown alone and exports keep
# the full titles.
PANEL_TITLES = {
    "moment_arm": "Hip-flexion moment arm",
    "fibre_length": "Fibre length on the F-L curve",
    "max_moment": "Max hip-flexion moment",
    "activation": "Activation to hold the leg",
}
SHORT_XLABELS = {"fibre_length": "Fibre length / optimal"}
SHORT_YLABELS = {
    "moment_arm": "mm (+ flexor)",
    "fibre_length": "Active force",
    "max_moment": "N m",
    "activation": "% of max",
}
# Charts whose only non-muscle entry is named by the axis label already (the F-L curve): a
# legend there would cover the operating-range strip.
NO_COMPACT_LEGEND = frozenset({"fibre_length"})
COMPACT_FONT = 8.0  # text size (pt) of the quarter-size charts
GRID = "grid"
TINY_HEIGHT = 170  # px; compact charts shorter than this drop the hip-flexion axis label
CURSOR_MS = 100
REDRAW_MS = 80  # full redraws wait for the knee slider to rest this long


class _StickyMenu(QMenu):
    """A menu whose check boxes do not close it, so several muscles can be picked in one go."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = self.activeAction()
        if action is not None and action.isEnabled() and action.isCheckable():
            action.trigger()
            return
        super().mouseReleaseEvent(event)


class ChartCanvas(FigureCanvasQTAgg):
    """One chart. Cursor artists are animated: a full draw caches the background without
    them, and a cursor move restores that background and blits only the cursor."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(Figure(figsize=(4.0, 2.8), layout="constrained"))
        self.setParent(parent)
        self.kind = kind
        self.setObjectName(f"plot_{kind}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 110)
        self.cursor: PlotCursor | None = None
        self.dirty = True
        self._background: Any = None
        self._args: tuple[PlotData, list[str], float, bool] | None = None
        self._tiny = False
        self.mpl_connect("draw_event", self._on_draw)

    def _is_tiny(self, compact: bool) -> bool:
        return compact and self.height() < TINY_HEIGHT

    def redraw(
        self, data: PlotData, muscles: list[str], hip_flexion: float, compact: bool = False
    ) -> None:
        """Clear and draw the chart from scratch (cheap enough only when the sweep changed).

        ``compact`` (a quarter of the panel): short titles, and the legend keeps only the
        entries that are not muscles, which the panel's own legend strip names once for all.
        """
        self._args = (data, muscles, hip_flexion, compact)
        self._tiny = self._is_tiny(compact)
        fig = self.figure
        fig.clear()
        ax = fig.add_subplot()
        with matplotlib.rc_context({"font.size": COMPACT_FONT}) if compact else nullcontext():
            self.cursor = draw(ax, self.kind, data, muscles, hip_flexion, title=not compact,
                               legend=not compact)  # fmt: skip
        if compact:
            title = PANEL_TITLES.get(self.kind, self.kind)
            if self.kind == "activation" and data.hip_acceleration != 0:
                title = "Activation for the knee drive"
            ax.set_title(title, fontsize=9, loc="left")
            if self.kind in SHORT_XLABELS:
                ax.set_xlabel(SHORT_XLABELS[self.kind])
            elif self._tiny:
                ax.set_xlabel("")  # hip flexion: the panel's legend row says so
            if self.kind in SHORT_YLABELS:
                ax.set_ylabel(SHORT_YLABELS[self.kind])
            names = {data.names[m] for m in muscles}
            entries = [(h, lab) for h, lab in zip(*legend_entries(ax), strict=True)
                       if lab not in names]  # fmt: skip
            if entries and self.kind not in NO_COMPACT_LEGEND:
                ax.legend([h for h, _ in entries], [lab for _, lab in entries], loc="best",
                          fontsize="x-small", framealpha=0.85)  # fmt: skip
        for a in self.cursor.artists:
            a.set_animated(True)
        self._background = None
        self.dirty = False
        self.draw_idle()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        # crossing into or out of a very short chart changes the labels: draw it again
        if self._args is not None and self._is_tiny(self._args[3]) != self._tiny:
            self.redraw(*self._args)

    def _on_draw(self, _event: DrawEvent | None) -> None:
        # a full draw has just happened (resize, redraw): cache it, then paint the cursor over it
        # (no blit here: the paint that follows this draw shows the buffer)
        self._background = self.copy_from_bbox(self.figure.bbox)
        self._draw_cursor()

    def move_cursor(self, hip_flexion: float) -> None:
        if self.cursor is None:
            return
        self.cursor.move(hip_flexion)
        if self._background is None:
            self.draw_idle()
            return
        self.restore_region(self._background)
        self._draw_cursor()
        self.blit(self.figure.bbox)

    def _draw_cursor(self) -> None:
        if self.cursor is None or not self.figure.axes:
            return
        ax = self.figure.axes[0]
        for a in self.cursor.artists:
            if a.get_visible():
                ax.draw_artist(a)


class PlotsPanel(QWidget):
    """Moment arm, fibre length on the force-length curve, stacked maximum moment with the
    hold-task requirement, and hold-task activation; for the plotted muscles, at the current
    knee angle, with a cursor at the current hip flexion."""

    def __init__(self, qstate: QtState, analysis: Analysis, parent: QWidget | None = None,
                 held: bool = False) -> None:  # fmt: skip
        super().__init__(parent)
        self._held = held
        self.setObjectName("plotsPanel")
        self.qstate = qstate
        self.analysis = analysis
        self.anatomy = analysis.model.ctx.anatomy
        self.muscles = list(analysis.model.muscles)
        self.data = self._plot_data()
        # throttled, not debounced: during a drag the cursors move ten times a second and the
        # 3D view gets the rest of the time (each cursor blit repaints a canvas synchronously)
        self._cursor_timer = coalescer(self, CURSOR_MS, self._move_cursors)
        self._redraw_timer = coalescer(self, REDRAW_MS, self._redraw_visible)

        self.muscle_button = QToolButton(self)
        self.muscle_button.setObjectName("plotMuscles")
        self.muscle_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.muscle_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.muscle_menu = _StickyMenu(self.muscle_button)
        self.muscle_actions: dict[str, QAction] = {}
        self._build_menu()
        self.muscle_button.setMenu(self.muscle_menu)

        self.layout_box = QComboBox(self)
        self.layout_box.setObjectName("plotLayout")
        self.layout_box.addItem("All four", GRID)
        for kind in PLOT_KINDS:
            self.layout_box.addItem(SHORT_TITLES.get(kind, kind), kind)
        self.layout_box.setToolTip("Show the four charts together, or one of them large")
        self.layout_box.currentIndexChanged.connect(lambda _i: self._arrange())

        self.legend = QLabel(self)
        self.legend.setObjectName("plotLegend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)

        self._top = top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Muscles:", self))
        top.addWidget(self.muscle_button)
        top.addStretch(1)
        top.addWidget(QLabel("Show:", self))
        top.addWidget(self.layout_box)

        self.canvases: dict[str, ChartCanvas] = {k: ChartCanvas(k, self) for k in PLOT_KINDS}
        for k, c in self.canvases.items():
            c.setToolTip(PLOT_TITLES[k])
        self._cols = 2
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self._rows = layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.legend)  # one legend for the four charts
        layout.addLayout(self.grid, 1)
        self._arrange()

        qstate.changed.connect(self._on_state)
        analysis.pose_changed.connect(self._on_pose)
        analysis.sweep_changed.connect(self._on_sweep)
        self._sync_menu(qstate.snapshot)
        self._redraw_visible()

    # -- public -------------------------------------------------------------------------------
    @property
    def cursors(self) -> dict[str, PlotCursor | None]:
        return {k: c.cursor for k, c in self.canvases.items()}

    def plotted(self) -> list[str]:
        return list(self.qstate.snapshot.plotted)

    def export(self, kind: str, path: Path | str, force: bool = False) -> Path:
        """Save chart ``kind`` as drawn now (SVG, PDF or PNG by suffix), with the attribution."""
        hip = self.qstate.snapshot.pose.hip_flexion
        fig = figure(kind, self.data, self.plotted(), hip_flexion=hip)
        return save_figure(fig, path, force=force, attribution=self.data.attribution or None)

    def set_layout(self, which: str) -> None:
        """``"grid"`` for all four, or one plot kind to show it alone."""
        i = self.layout_box.findData(which)
        if i >= 0:
            self.layout_box.setCurrentIndex(i)

    # -- building -----------------------------------------------------------------------------
    def _plot_data(self) -> PlotData:
        """The charts' data straight from the Analysis sweep (no second sweep of the model)."""
        res = self.analysis.sweep
        m = self.anatomy.muscles
        pose = self.qstate.snapshot.pose
        return PlotData(
            angles=SWEEP_ANGLES.copy(),
            knee_flexion=float(pose.knee_flexion),
            result=res,
            names={k: m[k].display_name for k in res.muscles},
            colours={k: m[k].colour for k in res.muscles},
            required_moment=res.required_moment,
            attribution=self.analysis.model.ctx.pack.attribution,
            muscles=list(res.muscles),
            hip_acceleration=self.qstate.snapshot.task.hip_acceleration,
            # as the Analysis swept them (its cache key rounds to 0.1 deg)
            hip_adduction=round(pose.hip_adduction, 1),
            hip_rotation=round(pose.hip_rotation, 1),
        )

    def _build_menu(self) -> None:
        menu = self.muscle_menu
        for gid, title in GROUP_TITLES.items():
            members = [m for m in self.muscles if self.anatomy.muscles[m].group == gid]
            if not members:
                continue
            menu.addSection(title)
            for m in sorted(members, key=lambda m: self.anatomy.muscles[m].display_name):
                # no colour icon: with one, styles draw "checked" as a faint frame round it
                a = QAction(self.anatomy.muscles[m].display_name, menu)
                a.setCheckable(True)
                a.setData(m)
                a.toggled.connect(self._on_menu_toggled)
                menu.addAction(a)
                self.muscle_actions[m] = a
        menu.addSeparator()
        flexors = [m for m in self.muscles
                   if self.anatomy.muscles[m].group in ("iliopsoas", "other_flexors")]  # fmt: skip
        for text, chosen in (("Flexors", flexors), ("None", [])):
            a = QAction(text, menu)
            a.triggered.connect(lambda _c=False, ms=chosen: self._set_plotted(ms))
            menu.addAction(a)

    def _arrange(self) -> None:
        which = self.layout_box.currentData()
        for c in self.canvases.values():
            c.dirty = True  # compact and full charts differ in titles and legends
            self.grid.removeWidget(c)
        if which == GRID:
            self._place_grid()
        else:
            for k, c in self.canvases.items():
                c.setVisible(k == which)
            self.grid.addWidget(self.canvases[which], 0, 0)
        self._redraw_visible()

    def _grid_columns(self) -> int:
        """Four in a row in a wide, short dock (the bottom), one column in a tall narrow
        one, else two by two: each chart keeps a readable shape."""
        ratio = self.width() / max(1, self.height() - 50)
        return 4 if ratio >= 3.0 else 1 if ratio < 0.55 else 2

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.layout_box.currentData() == GRID and self._grid_columns() != self._cols:
            self._place_grid()

    def _place_grid(self) -> None:
        self._cols = cols = self._grid_columns()
        for c in self.canvases.values():
            self.grid.removeWidget(c)
        for n, c in enumerate(self.canvases.values()):
            self.grid.addWidget(c, n // cols, n % cols)
            c.show()
        # four in a row (a wide, short dock): the legend joins the top row to save height
        in_top = self._top.indexOf(self.legend) >= 0
        if (cols == 4) != in_top:
            (self._top if in_top else self._rows).removeWidget(self.legend)
            if cols == 4:
                self._top.insertWidget(2, self.legend, 1)
            else:
                self._rows.insertWidget(1, self.legend)
            # the spacer after it gives way to the legend while the legend is in the row
            self._top.setStretch(3 if cols == 4 else 2, 0 if cols == 4 else 1)

    # -- following the state ------------------------------------------------------------------
    def _on_state(self, _old: Snapshot, new: Snapshot, fields: Any) -> None:
        if "plotted" in fields:
            self._sync_menu(new)
            for c in self.canvases.values():
                c.dirty = True
            self._redraw_timer.start(0)

    def _on_pose(self, _result: object) -> None:
        if not self._cursor_timer.isActive():
            self._cursor_timer.start()

    def _on_sweep(self, _result: object) -> None:
        self.data = self._plot_data()
        for c in self.canvases.values():
            c.dirty = True
        self._redraw_timer.start()

    def _sync_menu(self, snap: Snapshot) -> None:
        chosen = set(snap.plotted)
        for m, a in self.muscle_actions.items():
            a.blockSignals(True)
            a.setChecked(m in chosen)
            a.blockSignals(False)
        names = [self.anatomy.muscles[m].display_name for m in snap.plotted]
        label = "none" if not names else names[0] if len(names) == 1 else f"{len(names)} muscles"
        self.muscle_button.setText(label + " ")
        self.muscle_button.setToolTip("Plotted: " + (", ".join(names) or "none"))

    def _on_menu_toggled(self, _checked: bool) -> None:
        chosen = [m for m, a in self.muscle_actions.items() if a.isChecked()]
        self._set_plotted(chosen)

    def _set_plotted(self, chosen: list[str]) -> None:
        keep = set(chosen)
        self.qstate.state.update(plotted=tuple(m for m in self.muscles if m in keep))

    def _move_cursors(self) -> None:
        hip = self.qstate.snapshot.pose.hip_flexion
        for c in self.canvases.values():
            if c.isVisible() and not c.dirty:
                c.move_cursor(hip)
            elif c.cursor is not None:
                c.cursor.move(hip)  # keep the artists current; drawn when next shown

    def release(self) -> None:
        """Start drawing (a panel made with ``held=True`` draws nothing before this, so the
        window's first 3D frame does not wait for four matplotlib charts)."""
        if self._held:
            self._held = False
            self._redraw_visible()

    def _redraw_visible(self) -> None:
        if self._held:
            return
        hip = self.qstate.snapshot.pose.hip_flexion
        plotted = self.plotted()
        compact = self.layout_box.currentData() == GRID
        for c in self.canvases.values():
            if c.dirty and (c.isVisible() or c.cursor is None):
                c.redraw(self.data, plotted, hip, compact)
        self._sync_legend()

    def sizeHint(self) -> QSize:
        # what a dock starts with: room for four charts in a row, each still readable
        return QSize(960, 300)

    def _sync_legend(self) -> None:
        """One legend for all four charts: what the curves hold still (the knee, and the hip's
        adduction and rotation when turned) and the muscles."""
        d = self.data
        held = "Knee straight" if abs(d.knee_flexion) < 0.5 else f"Knee {d.knee_flexion:g}°"
        held += turned_words(d.hip_adduction, d.hip_rotation, unit="°")
        parts = [f"<b>{held}</b>, curves over hip flexion (°):"]
        for m in self.plotted():
            name = self.data.names.get(m, m)
            colour = self.data.colours.get(m, "#000000")
            name = esc(name).replace(" ", "&nbsp;")  # wrap between entries, not inside
            parts.append(f'<span style="color:{colour}">&#9632;</span>&nbsp;{name}')
        # a chart shown alone has its own full legend and title
        self.legend.setText(" &nbsp; ".join(parts))
        self.legend.setVisible(self.layout_box.currentData() == GRID)
        self.legend.setToolTip("Curves over hip flexion, the rest of the pose held as now")

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._redraw_timer.start(0)
