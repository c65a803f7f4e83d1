"""Qt face of the one state object, and the engine results every panel reads.

``QtState`` re-emits ``AppState`` changes as a Qt signal, so widgets connect the usual way.
``Analysis`` keeps the engine's answer for the current pose and task and a sweep over hip flexion
at the current knee angle (cached per knee angle and task), and tells the panels when either
changed. It gives the shared model the task's subject and strengths, so everything that asks the
model (the "why", exports) answers for the same task.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QTimer, Signal

from hipflex.model.hipmodel import HipModel, PoseResult
from hipflex.plots.charts import DEFAULT_ANGLES
from hipflex.state import AppState, Snapshot, Task

Array = NDArray[np.float64]
SWEEP_ANGLES = DEFAULT_ANGLES  # the plots panel's curves, as `hipflex plot` draws them
SWEEP_CACHE = 16


class QtState(QObject):
    """Signals: ``changed(old, new, fields)`` after every change of the snapshot."""

    changed = Signal(object, object, object)

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        state.connect(self._relay)

    def _relay(self, old: Snapshot, new: Snapshot, fields: frozenset[str]) -> None:
        self.changed.emit(old, new, fields)

    @property
    def snapshot(self) -> Snapshot:
        return self.state.snapshot

    def close(self) -> None:
        self.state.disconnect(self._relay)


class Analysis(QObject):
    """Engine results that follow the state.

    ``pose_changed(result)`` carries a PoseResult for the current pose (one row);
    ``sweep_changed(result)`` a PoseResult over ``SWEEP_ANGLES`` at the current knee angle.
    Both are for the snapshot's task: its body mass, height and strengths are applied to
    ``model`` before computing, its ``hip_acceleration`` passed to ``at()`` and ``sweep()``.
    """

    pose_changed = Signal(object)
    sweep_changed = Signal(object)

    def __init__(self, qstate: QtState, model: HipModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.qstate = qstate
        self.model = model
        qstate.snapshot.task.apply_to(model)  # the model may be shared, with another task
        self._sweeps: dict[tuple[float, float, float, Task], PoseResult] = {}
        self._current: PoseResult = self._at(qstate.snapshot)
        self._sweep_result: PoseResult = self._sweep(qstate.snapshot)
        self._stale_pose = False
        self._stale_sweep = False
        # Coalesce: many pose changes in one event-loop pass cost one engine call.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._publish)
        qstate.changed.connect(self._on_change)

    @property
    def muscles(self) -> list[str]:
        return self.model.muscles

    @property
    def current(self) -> PoseResult:
        """Engine results at the current pose (computed on demand, at most once per pose)."""
        if self._stale_pose:
            self._current = self._at(self.qstate.snapshot)
            self._stale_pose = False
        return self._current

    @property
    def sweep(self) -> PoseResult:
        """Engine results over hip flexion at the current knee angle, adduction and rotation."""
        if self._stale_sweep:
            self._sweep_result = self._sweep(self.qstate.snapshot)
            self._stale_sweep = False
        return self._sweep_result

    def values(self) -> dict[str, Array]:
        """Per-muscle quantities at the current pose, each of shape (n_muscles,)."""
        return {k: v[0] for k, v in self.current.values.items()}

    @property
    def task(self) -> Task:
        return self.qstate.snapshot.task

    def _at(self, snap: Snapshot) -> PoseResult:
        snap.task.apply_to(self.model)
        return self.model.at(**snap.pose.as_dict(), hip_acceleration=snap.task.hip_acceleration)

    def _sweep(self, snap: Snapshot) -> PoseResult:
        p, task = snap.pose, snap.task
        key = (round(p.knee_flexion, 1), round(p.hip_adduction, 1), round(p.hip_rotation, 1), task)
        if key not in self._sweeps:
            if len(self._sweeps) >= SWEEP_CACHE:
                self._sweeps.pop(next(iter(self._sweeps)))
            task.apply_to(self.model)
            self._sweeps[key] = self.model.sweep(SWEEP_ANGLES, knee_flexion=key[0],
                                                 hip_adduction=key[1], hip_rotation=key[2],
                                                 hip_acceleration=task.hip_acceleration)  # fmt: skip
        return self._sweeps[key]

    def refresh(self) -> None:
        """Recompute everything (after the model changed outside the state; its subject and
        strengths are set from the state's task again)."""
        self._sweeps.clear()
        self._stale_pose = self._stale_sweep = True
        self._publish(force=True)

    def _on_change(self, old: Snapshot, new: Snapshot, fields: Any) -> None:
        if "task" in fields:
            # at once, so whoever asks the shared model next gets this subject and strengths
            new.task.apply_to(self.model)
            self._stale_pose = self._stale_sweep = self._sweep_pending = True
        if "pose" in fields:
            self._stale_pose = True
            p0, p1 = old.pose, new.pose
            if (p0.knee_flexion, p0.hip_adduction, p0.hip_rotation) != (
                p1.knee_flexion,
                p1.hip_adduction,
                p1.hip_rotation,
            ):
                self._stale_sweep = True
                self._sweep_pending = True
        if fields & {"pose", "task"} and not self._timer.isActive():
            self._timer.start()

    _sweep_pending = False

    def _publish(self, force: bool = False) -> None:
        """Tell the panels once per batch of changes."""
        sweep = force or self._sweep_pending
        self._sweep_pending = False
        self.pose_changed.emit(self.current)
        if sweep:
            self.sweep_changed.emit(self.sweep)

    def muscle_values(self, muscle: str) -> dict[str, float]:
        j = self.model.muscles.index(muscle)
        return {k: float(v[0, j]) for k, v in self.current.values.items()}
