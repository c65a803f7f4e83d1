"""Pose panel: one slider with a number box per joint angle, reset and one-click presets."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
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
from hipflex.model.contact import ContactResult
from hipflex.state import POSE_PRESETS, POSE_RANGES, Snapshot

Contact = Callable[[Any, Any, Any], ContactResult]  # model.bone_contact(flexion, add., rotation)
HIP = ("hip_flexion", "hip_adduction", "hip_rotation")

LABELS = {
    "hip_flexion": "Hip flexion",
    "knee_flexion": "Knee flexion",
    "hip_adduction": "Hip adduction",
    "hip_rotation": "Hip rotation (internal +)",
}
STEPS_PER_DEG = 2  # sliders move in half degrees


class PosePanel(QWidget):
    """Writes joint angles to the state; a slider drag is one undo step. With "stop where bone
    meets bone" on (and ``contact`` given), a hip move stops at the last half degree before the
    femur would run into the pelvis, and ``stopped`` says where and why."""

    stopped = Signal(str)

    def __init__(self, qstate: QtState, parent: QWidget | None = None,
                 contact: Contact | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.contact = contact
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
        self.stop_box = QCheckBox("Stop where bone meets bone")
        self.stop_box.setObjectName("stopAtBoneContact")
        self.stop_box.setToolTip("Hip moves stop before the femur runs into the pelvis (bony "
                                 "impingement); off, the contact is marked and named instead")  # fmt: skip
        self.stop_box.setEnabled(contact is not None)
        self.stop_box.toggled.connect(
            lambda on: self.qstate.state.set_display(stop_at_bone_contact=bool(on))
        )
        grid.addWidget(self.stop_box, 2 * len(LABELS), 0, 1, 2)
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
        snap = self.qstate.snapshot
        if getattr(snap.pose, coord) == value:
            return
        if snap.display.stop_at_bone_contact and coord in HIP and self.contact is not None:
            value = self._stop(snap, coord, value)
            if getattr(snap.pose, coord) == value:
                self._show(snap)  # the slider or box goes back to the pose that stays
                return
        self.qstate.state.set_pose(merge, **{coord: value})

    def _stop(self, snap: Snapshot, coord: str, value: float) -> float:
        """``value``, or the last half-degree step toward it before bone meets bone (deeper
        than where the move started, when it started in contact)."""
        assert self.contact is not None
        start = getattr(snap.pose, coord)
        n = math.ceil(abs(value - start) * STEPS_PER_DEG - 1e-9)
        path = np.append(start + np.sign(value - start) * np.arange(n) / STEPS_PER_DEG, value)
        angles = [path if c == coord else np.full(path.size, getattr(snap.pose, c)) for c in HIP]
        found = self.contact(*angles)
        depth = found.depth
        worse = np.flatnonzero(depth > depth[0] + 1e-6)
        if worse.size == 0:
            return value
        k = int(worse[0])
        self.stopped.emit(
            f"Stopped at {path[k - 1]:g}°: beyond it {found.femur_region[k].name} would run "
            f"into {found.pelvis_region[k].name} (untick \"Stop where bone meets bone\" to go on)"
        )
        return float(path[k - 1])

    def apply_preset(self, name: str) -> None:
        self.qstate.state.set_pose(None, **POSE_PRESETS[name])

    def _on_change(self, _old: Snapshot, new: Snapshot, fields: Any) -> None:
        if "pose" in fields or "display" in fields:
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
        self.stop_box.blockSignals(True)
        self.stop_box.setChecked(snap.display.stop_at_bone_contact)
        self.stop_box.blockSignals(False)
