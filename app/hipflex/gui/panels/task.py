"""The hold task: the subject's mass and height, a knee drive, and each muscle's strength.

Every edit writes through ``AppState.set_task`` (so undo/redo and session files cover it) and the
panel is redrawn from the snapshot (session load, undo). Holding a spin box's arrow, or turning
the wheel over a focused one, is one undo step (a merge key per box, closed when the button or key
is released or the box loses focus); the engine runs at most once per event-loop pass
(``Analysis`` coalesces), so a held arrow does not queue up sweeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFocusEvent, QFont, QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hipflex.anatomy import AnatomyData
from hipflex.gui.panels.muscles import GROUP_TITLES
from hipflex.gui.qtstate import Analysis, QtState
from hipflex.model.contact import turned_words
from hipflex.model.hipmodel import PoseResult
from hipflex.model.limits import BODY_MASS_RANGE, HEIGHT_RANGE, MAX_HIP_ACCELERATION, STRENGTH_RANGE
from hipflex.state import Snapshot, Task

DRIVE_HELP = "0 = hold the leg still; above 0 the knee is also driven up (sprint)."
MIN_ROWS = 5  # strength rows always in view; the table scrolls for the rest
SUBJECT_HELP = "Mass and height scale the leg's weight and inertia, not strength or bones."


class TaskSpin(QDoubleSpinBox):
    """A spin box that ends its undo group when a press, a key or the focus is released, and
    leaves the wheel to the scrolling table unless it has the focus (no change by accident)."""

    def __init__(self, done: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._done = done
        self.setKeyboardTracking(False)  # typing 120 is one change, on Enter, not 1, 12, 120
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccelerated(True)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # the table or the dock scrolls instead

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self._done()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        super().keyReleaseEvent(event)
        if not event.isAutoRepeat():
            self._done()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)  # commits typed text first (valueChanged)
        self._done()


class TaskPanel(QWidget):
    """Subject, knee drive and strengths of the hold task; follows and writes the state."""

    def __init__(self, qstate: QtState, analysis: Analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskPanel")
        self.qstate = qstate
        self.analysis = analysis
        anatomy = self.anatomy = analysis.model.ctx.anatomy
        self.names = {m: anatomy.muscles[m].display_name for m in analysis.model.muscles}
        # rows as in the muscle panel: by group (iliopsoas first), then by name
        order = list(GROUP_TITLES)
        self.muscles = sorted(
            analysis.model.muscles,
            key=lambda m: (order.index(g) if (g := anatomy.muscles[m].group) in order
                           else len(order), self.names[m]),
        )  # fmt: skip
        peak: dict[str, float] = {}
        for ln in analysis.model.ctx.lines:
            f0 = anatomy.muscles[ln.muscle].hill.max_isometric_force
            peak[ln.muscle] = peak.get(ln.muscle, 0.0) + ln.weight * f0
        self.peak = peak
        end = qstate.state.end_merge

        # -- subject and knee drive -------------------------------------------------------------
        task_box = QGroupBox("Hold task")
        form = QFormLayout(task_box)
        form.setVerticalSpacing(4)
        self.mass_box = self._spin(end, "taskMass", BODY_MASS_RANGE, 1, 1.0, " kg")
        self.height_box = self._spin(end, "taskHeight", HEIGHT_RANGE, 2, 0.01, " m")
        lim = MAX_HIP_ACCELERATION
        # one decimal: a measured drive (179.8 rad/s²) shows as it is, not rounded
        self.drive_box = self._spin(end, "taskDrive", (-lim, lim), 1, 10.0, " rad/s²")
        (mlo, mhi), (hlo, hhi) = BODY_MASS_RANGE, HEIGHT_RANGE
        self.mass_box.setToolTip(f"Body mass, {mlo:g} to {mhi:g} kg. {SUBJECT_HELP}")
        self.height_box.setToolTip(f"Standing height, {hlo:g} to {hhi:g} m. {SUBJECT_HELP}")
        self.drive_box.setToolTip(
            "Hip-flexion acceleration of a fast knee drive: its moment (leg inertia times "
            f"acceleration) is added to the leg's weight. {DRIVE_HELP} At most {lim:g} rad/s² "
            "either way."
        )
        self.mass_box.valueChanged.connect(lambda v: self._set("body_mass", float(v)))
        self.height_box.valueChanged.connect(lambda v: self._set("height", float(v)))
        self.drive_box.valueChanged.connect(lambda v: self._set("hip_acceleration", float(v)))
        form.addRow("Body mass", self.mass_box)
        form.addRow("Height", self.height_box)
        form.addRow("Knee drive", self.drive_box)
        self.drive_preset = self._drive_presets(anatomy)
        form.addRow("Measured", self.drive_preset)
        self.drive_note = self._note(DRIVE_HELP)
        form.addRow(self.drive_note)

        # -- strengths -----------------------------------------------------------------------
        strength = QGroupBox("Strength (% of peak force)")
        sl = QVBoxLayout(strength)
        sl.setContentsMargins(6, 6, 6, 6)
        self.table = QTableWidget(len(self.muscles), 2)
        self.table.setObjectName("strengthTable")
        self.table.setHorizontalHeaderLabels(["Muscle", "Strength"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        row_h = self.fontMetrics().height() + 10
        self.table.verticalHeader().setDefaultSectionSize(row_h)
        self.table.setMinimumHeight(
            MIN_ROWS * row_h + self.table.horizontalHeader().sizeHint().height()
        )
        self.rows: dict[str, QTableWidgetItem] = {}
        self.spins: dict[str, QDoubleSpinBox] = {}
        lo, hi = (100 * v for v in STRENGTH_RANGE)
        for row, m in enumerate(self.muscles):
            tip = f"{self.names[m]} ({m}): peak isometric force {self.peak[m]:.0f} N at 100%"
            item = QTableWidgetItem(self.names[m])
            item.setToolTip(tip)
            self.table.setItem(row, 0, item)
            spin = self._spin(end, f"strength_{m}", (lo, hi), 0, 5.0, " %")
            spin.setToolTip(tip)
            spin.valueChanged.connect(lambda v, mm=m: self._set_strength(mm, float(v)))
            self.table.setCellWidget(row, 1, spin)
            self.rows[m] = item
            self.spins[m] = spin
        self.reset = QPushButton("Reset strengths")
        self.reset.setObjectName("resetStrengths")
        self.reset.setToolTip("Every muscle back to 100% (one undo step)")
        self.reset.clicked.connect(lambda: self.qstate.state.set_task(strength={}))
        self.changed_label = QLabel()
        self.changed_label.setObjectName("strengthSummary")
        bottom = QHBoxLayout()
        bottom.addWidget(self.changed_label, 1)
        bottom.addWidget(self.reset)
        sl.addWidget(self.table, 1)
        sl.addLayout(bottom)

        # -- what the task allows ------------------------------------------------------------
        self.limit = QLabel()
        self.limit.setObjectName("holdLimit")
        self.limit.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(task_box)
        layout.addWidget(strength, 1)
        layout.addWidget(self.limit)
        self._bold = QFont(self.font())
        self._bold.setBold(True)
        qstate.changed.connect(self._on_change)
        analysis.sweep_changed.connect(self._on_sweep)
        self._show(qstate.snapshot.task)
        self._on_sweep(analysis.sweep)

    # -- building -----------------------------------------------------------------------------
    def _spin(self, done: Callable[[], None], name: str, bounds: tuple[float, float],
              decimals: int, step: float, suffix: str) -> TaskSpin:  # fmt: skip
        spin = TaskSpin(done)
        spin.setObjectName(name)
        spin.setDecimals(decimals)
        spin.setRange(*bounds)
        spin.setSingleStep(step)
        spin.setSuffix(suffix)
        return spin

    def _drive_presets(self, anatomy: AnatomyData) -> QComboBox:
        """Measured knee drives (anatomy_data/knee_drives.toml) to pick instead of typing rad/s²:
        "Hold still", each drive with its source, and "Custom" for any other value."""
        box = QComboBox()
        box.setObjectName("drivePreset")
        box.addItem("Hold still (0)", 0.0)
        box.setItemData(0, "No knee drive: hold the leg still at the pose.", Qt.ItemDataRole.ToolTipRole)
        for drive in anatomy.knee_drives.values():
            box.addItem(anatomy.knee_drive_label(drive), drive.hip_acceleration)
            cites = " ".join(anatomy.references[r].citation for r in drive.references)
            tip = f"{drive.reported} {drive.note} Source: {cites}".replace("  ", " ")
            box.setItemData(box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        box.addItem("Custom", None)
        box.setToolTip("A knee drive measured in athletes, with its source (hover an entry); "
                       "typing another value above shows Custom.")  # fmt: skip
        box.activated.connect(self._pick_drive)
        return box

    def _pick_drive(self, index: int) -> None:
        value = self.drive_preset.itemData(index)
        if value is None:  # Custom: keep the value; the box above is where it is typed
            self._show(self.qstate.snapshot.task)
            return
        if self.qstate.snapshot.task.hip_acceleration != value:
            self.qstate.state.set_task(hip_acceleration=float(value))  # one undo step

    def _note(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: #707070; font-size: small;")
        return label

    # -- writing ------------------------------------------------------------------------------
    def _set(self, key: str, value: float) -> None:
        if getattr(self.qstate.snapshot.task, key) == value:
            return
        self.qstate.state.set_task(merge=f"task:{key}", **{key: value})

    def _set_strength(self, muscle: str, percent: float) -> None:
        task = self.qstate.snapshot.task
        # the box shows whole percent: leave a finer value from a session alone until edited
        if round(100 * task.fraction(muscle)) == round(percent):
            return
        self.qstate.state.set_strength(muscle, percent / 100, merge=f"strength:{muscle}")

    # -- following the state ------------------------------------------------------------------
    def _on_change(self, _old: Snapshot, new: Snapshot, fields: Any) -> None:
        if "task" in fields:
            self._show(new.task)

    def _show(self, task: Task) -> None:
        for box, value in ((self.mass_box, task.body_mass), (self.height_box, task.height),
                           (self.drive_box, task.hip_acceleration)):  # fmt: skip
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        measured = self.anatomy.knee_drive_at(task.hip_acceleration)
        entry = (0.0 if task.hip_acceleration == 0 else
                 None if measured is None else measured.hip_acceleration)  # fmt: skip
        self.drive_preset.setCurrentIndex(self.drive_preset.findData(entry))  # None: Custom
        for m, spin in self.spins.items():
            f = task.fraction(m)
            spin.blockSignals(True)
            spin.setValue(100 * f)
            spin.blockSignals(False)
            self.rows[m].setFont(self._bold if f != 1.0 else self.font())
        n = len(task.strength)
        self.changed_label.setText("All at 100%" if n == 0 else f"{n} changed (bold)")
        self.reset.setEnabled(n > 0)

    def _on_sweep(self, res: PoseResult) -> None:
        """The highest hip angle the muscles can take this task at the current knee angle,
        read from the window's sweep (no extra engine call)."""
        angles = np.asarray(res.pose["hip_flexion"], float)
        up = angles >= 0
        held = np.asarray(res.feasible, bool)[up]
        task = self.qstate.snapshot.task
        doing = "hold the leg" if task.hip_acceleration == 0 else "take this knee drive"
        knee = float(res.pose["knee_flexion"][0])
        where = "knee straight" if knee == 0 else f"knee {knee:g}°"
        add, rot = (float(res.pose[k][0]) for k in ("hip_adduction", "hip_rotation"))
        where += turned_words(add, rot, unit="°")  # the sweep holds them too
        if held.all():
            text = f"The muscles can {doing} at every hip angle shown ({where})."
        elif not held.any():
            text = f"The muscles cannot {doing} at any hip angle from 0° up ({where})."
        else:
            top = float(angles[up][np.flatnonzero(held)[-1]])
            text = f"The highest hip angle where the muscles can {doing}: {top:g}° ({where})."
        self.limit.setText(text)
