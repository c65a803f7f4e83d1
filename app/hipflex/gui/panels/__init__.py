"""The explorer's side panels: each a QWidget that follows the one state and writes through it.

None keeps its own copy of the pose, the visible muscles or the selection, so the 3D view, the
panels and undo/redo can never disagree. They sit below the window (they never import it).
"""

from hipflex.gui.panels.about import AboutDialog
from hipflex.gui.panels.explain import ExplanationPanel
from hipflex.gui.panels.info import InfoCard
from hipflex.gui.panels.muscles import GROUP_TITLES, MusclePanel
from hipflex.gui.panels.plots import PlotsPanel
from hipflex.gui.panels.task import TaskPanel

__all__ = [
    "GROUP_TITLES",
    "AboutDialog",
    "ExplanationPanel",
    "InfoCard",
    "MusclePanel",
    "PlotsPanel",
    "TaskPanel",
]
