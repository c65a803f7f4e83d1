"""Engine plots (matplotlib, no Qt): the same figures for the window, exports and handouts."""

from hipflex.plots.charts import PLOT_KINDS, PLOT_TITLES, PlotCursor, PlotData, draw, figure
from hipflex.plots.export import FIGURE_FORMATS, figure_bytes, save_figure

__all__ = [
    "FIGURE_FORMATS",
    "PLOT_KINDS",
    "PLOT_TITLES",
    "PlotCursor",
    "PlotData",
    "draw",
    "figure",
    "figure_bytes",
    "save_figure",
]
