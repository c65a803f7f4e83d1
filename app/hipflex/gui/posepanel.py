"""Pose panel: one slider with a number box per joint angle, reset and one-click presets."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from hipflex.gui.qtstate import QtState
from hipflex.state import POSE_PRESETS, POSE_RANGES, Snapshot

LABELS = {
    "hip_flexion": "Hip flexion",
    "knee_flexion": "Knee flexion",
    "hip_adduction": "Hip adduction",
    "hip_rotation": "Hip rotation (internal +)",
}
STEPS_PER_DEG = 2  # sliders move in half degrees


class PosePanel(QWidget):
    """Writes joint angles to the state; a slider drag is one undo step."""

    def __init__(self, qstate: QtState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("posePanel")
        self.qstate = qstate
        self.sliders: dict[str, QSlider] = {}
        self.boxes: dict[str, QDoubleSpinBox] = {}
        box = QGroupBox("Pose (degrees)")
        grid = QGridLayout(box)
        for row, (coord, label) in enumerate(LABELS.items()):
            lo, hi = POSE_RANGES[coord]
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"slider_{coord}")
            slider.setRange(int(lo * STEPS_PER_DEG), int(hi * STEPS_PER_DEG))
            slider.setPageStep(10 * STEPS_PER_DEG)
            slider.setToolTip(f"{label}: {lo:g} to {hi:g} deg")
            spin = QDoubleSpinBox()
            spin.setObjectName(f"spin_{coord}")
            spin.setRange(lo, hi)
            spin.setDecimals(1)
            spin.setSingleStep(1.0)
            spin.setSuffix(" °")
            spin.setKeyboardTracking(False)
            slider.valueChanged.connect(lambda v, c=coord: self._from_slider(c, v))
            slider.sliderReleased.connect(self.qstate.state.end_merge)
            spin.valueChanged.connect(lambda v, c=coord: self._set(c, float(v), None))
            grid.addWidget(QLabel(label), 2 * row, 0, 1, 2)
            grid.addWidget(slider, 2 * row + 1, 0)
            grid.addWidget(spin, 2 * row + 1, 1)
            self.sliders[coord] = slider
            self.boxes[coord] = spin
        presets = QGroupBox("Poses")
        plo = QGridLayout(presets)
        for k, name in enumerate(POSE_PRESETS):
            b = QPushButton(name.capitalize())
            b.setObjectName(f"preset_{name.replace(' ', '_').replace('/', '_')}")
            b.setToolTip(
                ", ".join(
                    f"{LABELS[c].split(' (')[0].lower()} {v:g}°"
                    for c, v in POSE_PRESETS[name].items()
                    if v
                )
            )
            b.clicked.connect(lambda _=False, n=name: self.apply_preset(n))
            plo.addWidget(b, k // 2, k % 2)
        reset = QPushButton("Reset pose")
        reset.setObjectName("resetPose")
        reset.clicked.connect(lambda: self.apply_preset("standing"))
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(presets)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(reset)
        layout.addLayout(bottom)
        layout.addStretch(1)
        qstate.changed.connect(self._on_change)
        self._show(qstate.snapshot)

    def _from_slider(self, coord: str, value: int) -> None:
        self._set(coord, value / STEPS_PER_DEG, f"slider:{coord}")

    def _set(self, coord: str, value: float, merge: str | None) -> None:
        if getattr(self.qstate.snapshot.pose, coord) == value:
            return
        self.qstate.state.set_pose(merge, **{coord: value})

    def apply_preset(self, name: str) -> None:
        self.qstate.state.set_pose(None, **POSE_PRESETS[name])

    def _on_change(self, _old: Snapshot, new: Snapshot, fields: Any) -> None:
        if "pose" in fields:
            self._show(new)

    def _show(self, snap: Snapshot) -> None:
        for coord, slider in self.sliders.items():
            v = getattr(snap.pose, coord)
            slider.blockSignals(True)
            slider.setValue(round(v * STEPS_PER_DEG))
            slider.blockSignals(False)
            box = self.boxes[coord]
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)
