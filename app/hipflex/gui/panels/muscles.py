"""The muscle list: visibility, colour swatches, filter, and the muscle selection.

The tree is only a picture of the state: every click writes through ``AppState`` (one undo step
per click) and the tree is then redrawn from the new snapshot, so the 3D view, undo and session
files can change it too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hipflex.gui.panels._common import swatch
from hipflex.gui.qtstate import Analysis, QtState
from hipflex.scene.colours import muscle_colours
from hipflex.state import Snapshot

GROUP_TITLES = {
    "iliopsoas": "Iliopsoas",
    "other_flexors": "Other flexors",
    "adductors": "Adductors",
    "abductors": "Abductors",
    "extensors": "Extensors",
    "rotators": "Deep external rotators",
}
# a muscle the surface sources leave out is drawn as a tube along its line of action: say so
NO_SURFACE_TIP = ": no surface model in the source set, drawn as a tube along its line of action"
ID_ROLE = Qt.ItemDataRole.UserRole  # muscle id on muscle rows, "group:<id>" on group rows
CHECKED, UNCHECKED, PARTIAL = (
    Qt.CheckState.Checked,
    Qt.CheckState.Unchecked,
    Qt.CheckState.PartiallyChecked,
)


def _value_text(mode: str, values: dict[str, np.ndarray], j: int) -> str:
    """The number behind a quantity colour, so the swatch can be read without the legend."""
    if mode == "activation":
        return f"{100 * float(values['activation'][j]):.0f}%"
    if mode == "fibre_length":
        v = float(values["norm_fiber_length"][j])
        return "slack" if v <= 0 else f"{v:.2f}"
    if mode == "moment_arm":
        return f"{1000 * float(values['moment_arm_hip_flexion'][j]):+.0f} mm"
    return ""


class MusclePanel(QWidget):
    """Muscles by group with visibility check boxes (group rows tri-state), swatches in the
    current colour mode, Show all / Hide all / Show only this, and a filter box."""

    def __init__(self, qstate: QtState, analysis: Analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("musclePanel")
        self.qstate = qstate
        self.analysis = analysis
        self.anatomy = analysis.model.ctx.anatomy
        self.muscles = list(analysis.model.muscles)
        self._syncing = False

        self.filter = QLineEdit(self)
        self.filter.setObjectName("muscleFilter")
        self.filter.setPlaceholderText("Filter muscles…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.filter.returnPressed.connect(self._select_first_match)
        self.filter.setToolTip("Type part of a name; Enter selects the first match")

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("muscleTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setRootIsDecorated(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

        self.groups: dict[str, QTreeWidgetItem] = {}
        self.members: dict[str, list[str]] = {}  # group id -> muscle ids, in row order
        self.items: dict[str, QTreeWidgetItem] = {}
        bold = QFont(self.font())
        bold.setBold(True)
        for gid, title in GROUP_TITLES.items():
            members = [m for m in self.muscles if self.anatomy.muscles[m].group == gid]
            if not members:
                continue
            g = QTreeWidgetItem(self.tree, [title, ""])
            g.setData(0, ID_ROLE, f"group:{gid}")
            g.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            g.setFont(0, bold)
            self.groups[gid] = g
            members.sort(key=lambda m: self.anatomy.muscles[m].display_name)
            self.members[gid] = members
            for m in members:
                it = QTreeWidgetItem(g, [self.anatomy.muscles[m].display_name, ""])
                it.setData(0, ID_ROLE, m)
                tip = f"{self.anatomy.muscles[m].display_name} ({m})"
                if self.anatomy.muscles[m].mesh is None:
                    tip += NO_SURFACE_TIP
                it.setToolTip(0, tip)
                it.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsUserCheckable
                )
                it.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.items[m] = it
        self.tree.expandAll()
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.itemSelectionChanged.connect(self._on_tree_selection)

        self.show_all = QPushButton("Show all", self)
        self.show_all.setObjectName("showAll")
        self.show_all.setToolTip("Show every muscle")
        self.hide_all = QPushButton("Hide all", self)
        self.hide_all.setObjectName("hideAll")
        self.hide_all.setToolTip("Hide every muscle (bones stay)")
        self.show_only = QPushButton("Show only this", self)
        self.show_only.setObjectName("showOnly")
        self.show_only.setToolTip("Show only the selected muscle")
        self.show_all.clicked.connect(lambda: self.qstate.state.set_visible(self.muscles))
        self.hide_all.clicked.connect(lambda: self.qstate.state.set_visible(()))
        self.show_only.clicked.connect(self._show_only_selected)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for b in (self.show_all, self.hide_all, self.show_only):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)

        qstate.changed.connect(self._on_state)
        analysis.pose_changed.connect(self._on_pose)
        snap = qstate.snapshot
        self._sync_visible(snap)
        self._sync_colours(snap)
        self._sync_selection(snap)

    # -- reading the state --------------------------------------------------------------------
    def selected_muscle(self) -> str | None:
        sel = self.qstate.snapshot.selection
        return sel[7:] if sel and sel.startswith("muscle:") else None

    def _on_state(self, old: Snapshot, new: Snapshot, fields: Any) -> None:
        if "visible" in fields:
            self._sync_visible(new)
        if "display" in fields and old.display.colour_by != new.display.colour_by:
            self._sync_colours(new)
        if "selection" in fields:
            self._sync_selection(new)

    def _on_pose(self, _result: object) -> None:
        snap = self.qstate.snapshot
        if snap.display.colour_by != "identity":
            self._sync_colours(snap)

    def _sync_visible(self, snap: Snapshot) -> None:
        visible = set(snap.visible)
        self._syncing = True
        try:
            for m, it in self.items.items():
                it.setCheckState(0, CHECKED if m in visible else UNCHECKED)
            for gid, g in self.groups.items():
                on = sum(m in visible for m in self.members[gid])
                n = len(self.members[gid])
                g.setCheckState(0, CHECKED if on == n else UNCHECKED if on == 0 else PARTIAL)
                g.setText(1, f"{on}/{n}")
        finally:
            self._syncing = False

    def _sync_colours(self, snap: Snapshot) -> None:
        mode = snap.display.colour_by
        identity = {m: self.anatomy.muscles[m].colour for m in self.muscles}
        values = None if mode == "identity" else self.analysis.values()
        colours = muscle_colours(mode, self.muscles, identity, values)
        self._syncing = True
        try:
            for j, m in enumerate(self.muscles):
                it = self.items[m]
                it.setIcon(0, swatch(colours[m]))
                it.setText(1, "" if values is None else _value_text(mode, values, j))
        finally:
            self._syncing = False

    def _sync_selection(self, snap: Snapshot) -> None:
        sel = snap.selection
        muscle = sel[7:] if sel and sel.startswith("muscle:") else None
        self._syncing = True
        try:
            item = self.items.get(muscle) if muscle else None
            if item is None:
                self.tree.clearSelection()
            else:
                self.tree.setCurrentItem(item)
                self.tree.scrollToItem(item)
        finally:
            self._syncing = False
        self.show_only.setEnabled(item is not None)

    # -- writing the state --------------------------------------------------------------------
    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._syncing or column != 0:
            return
        key = str(item.data(0, ID_ROLE))
        visible = set(self.qstate.snapshot.visible)
        on = item.checkState(0) != UNCHECKED
        if key.startswith("group:"):
            members = set(self.members[key[6:]])
            visible = visible | members if on else visible - members
        else:
            visible = visible | {key} if on else visible - {key}
        self.qstate.state.set_visible(visible)
        # the state may have refused or not changed: redraw the checks from it either way
        self._sync_visible(self.qstate.snapshot)

    def _on_tree_selection(self) -> None:
        if self._syncing:
            return
        items = self.tree.selectedItems()
        if not items:
            return
        key = str(items[0].data(0, ID_ROLE))
        if key in self.items:
            self.qstate.state.update(selection=f"muscle:{key}")

    def _show_only_selected(self) -> None:
        muscle = self.selected_muscle()
        if muscle is not None:
            self.qstate.state.set_visible([muscle])

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for gid, g in self.groups.items():
            shown = 0
            for m in self.members[gid]:
                it = self.items[m]
                hit = not needle or needle in m.lower() or needle in it.text(0).lower()
                it.setHidden(not hit)
                shown += hit
            g.setHidden(shown == 0)

    def _select_first_match(self) -> None:
        rows = self.visible_rows()
        if rows and self.filter.text().strip():
            self.qstate.state.update(selection=f"muscle:{rows[0]}")

    def visible_rows(self) -> list[str]:
        """Muscle ids whose rows pass the filter, in row order."""
        return [m for ms in self.members.values() for m in ms if not self.items[m].isHidden()]
