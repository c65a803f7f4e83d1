"""The HipFlex main window: the 3D view in the centre, panels in docks, menus and shortcuts.

Every panel follows the one state object; the window only wires them together, owns the file
menu (sessions, recent files, exports), undo/redo, playback and remembered settings.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QImage,
    QKeySequence,
    QPainter,
    QShortcut,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSlider,
    QToolBar,
    QWidget,
)

from hipflex import __version__, config
from hipflex.errors import HipFlexError
from hipflex.gui.posepanel import PosePanel
from hipflex.gui.qtstate import Analysis, QtState
from hipflex.gui.view import View3D
from hipflex.media.motion import motion_frames
from hipflex.model.activity import needs_flexors
from hipflex.model.explain import moment_words
from hipflex.model.hipmodel import HipModel
from hipflex.model.limits import drive_text
from hipflex.scene.builder import SceneBuilder
from hipflex.scene.views import VIEWS
from hipflex.state import POSE_RANGES, AppState, Snapshot, load_session, save_session

log = logging.getLogger("hipflex.gui")
F = TypeVar("F", bound=Callable[..., Any])
MAX_RECENT = 8
# the dock layout's version for saveState/restoreState: raised when docks are added (1: Lesson)
LAYOUT_VERSION = 1
STYLES = {"surface": "Surfaces", "tube": "Tubes (sized by PCSA)", "line": "Lines of action"}
COLOUR_MODES = {"identity": "Colour: muscle", "activation": "Colour: activation",
                "fibre_length": "Colour: fibre length", "moment_arm": "Colour: moment arm"}  # fmt: skip
MOTIONS = {"sweep": "Flexion sweep", "knee_drive": "Knee drive (sprint)"}
PLAY_SECONDS = {"sweep": 6.0, "knee_drive": 1.2}  # one pass at speed 1x
PLAY_FPS = 25


def guarded(fn: F) -> F:
    """Handlers never take the app down: errors are logged and shown, the state is unchanged."""

    @functools.wraps(fn)
    def wrapper(self: MainWindow, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except HipFlexError as exc:
            log.warning("%s: %s", fn.__name__, exc)
            self.show_error(str(exc))
        except Exception as exc:
            log.exception("unexpected error in %s", fn.__name__)
            self.show_error(
                f"Unexpected error: {exc}\nDetails are in {config.log_dir() / 'hipflex.log'}."
            )
        return None

    return wrapper  # type: ignore[return-value]


def _views(s: QSettings) -> dict[str, str]:
    value = s.value("saved_views", {})
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def settings() -> QSettings:
    """The user's settings (an INI file in HIPFLEX_SETTINGS_DIR when set, e.g. by tests)."""
    folder = config.settings_dir()
    if folder is not None:
        return QSettings(str(folder / "hipflex.ini"), QSettings.Format.IniFormat)
    return QSettings("HipFlex", "HipFlex")


class MainWindow(QMainWindow):
    """The explorer. ``model`` is a loaded HipModel; ``session`` an optional file to open."""

    def __init__(
        self,
        model: HipModel,
        session: Path | None = None,
        parent: QWidget | None = None,
        quiet: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("HipFlex")
        self.model = model
        self.session_path: Path | None = None
        self.errors: list[str] = []  # shown messages, newest last (tests read them)
        # True: no modal boxes (screenshots, benchmarks, tests). Set before the session opens,
        # or a bad --session file would block a headless screenshot on a dialog nobody sees.
        self.quiet = quiet
        muscles = model.muscles
        self.state = AppState(Snapshot(visible=tuple(muscles)), muscles=muscles)
        self.qstate = QtState(self.state, self)
        self.analysis = Analysis(self.qstate, model, self)
        self.builder = SceneBuilder(model.ctx)
        self.view = View3D(self.qstate, self.analysis, self.builder, self)
        self.view.picked.connect(self._on_picked)
        self.view.frame_presented.connect(self._after_first_frame)
        # a child timer (not QTimer.singleShot with a method, which would hold the window)
        self._warm_timer = QTimer(self)
        self._warm_timer.setSingleShot(True)
        self._warm_timer.setInterval(0)
        self._warm_timer.timeout.connect(self._warm_up)
        self.setCentralWidget(self.view)
        self.pose_panel = PosePanel(self.qstate, self, contact=model.bone_contact)
        self.pose_panel.stopped.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._docks: dict[str, QDockWidget] = {}
        self._dock("Pose", self.pose_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._panels()
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(int(1000 / PLAY_FPS))
        self._play_timer.timeout.connect(self._play_step)
        self._play_frame = 0
        self._menus()
        self._toolbar()
        self._shortcuts()
        self.qstate.changed.connect(self._on_change)
        self.analysis.pose_changed.connect(lambda _r: self._show_status())
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status)
        self._restore_settings()
        self._update_actions()
        if session is not None:
            self.open_session(Path(session))
        self._show_status()

    def _after_first_frame(self, _t: float) -> None:
        """Work that start-up need not wait for, once the first 3D frame is on screen: the
        charts' first draw and the coarse meshes for dragging."""
        self.view.frame_presented.disconnect(self._after_first_frame)
        self._warm_timer.start()

    def _warm_up(self) -> None:
        self.plots_panel.release()
        self.view.prepare_drag()

    # -- building ------------------------------------------------------------------------------
    def _dock(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = True
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        # scroll rather than force the window taller than a 1366x768 screen
        if scroll:
            area_ = QScrollArea()
            area_.setWidgetResizable(True)
            area_.setFrameShape(QFrame.Shape.NoFrame)
            area_.setWidget(widget)
            area_.setMinimumSize(120, 90)
            dock.setWidget(area_)
        else:
            widget.setMinimumSize(120, 90)
            dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self._docks[title] = dock
        return dock

    def _panels(self) -> None:
        from hipflex.gui.panels.explain import ExplanationPanel
        from hipflex.gui.panels.info import InfoCard
        from hipflex.gui.panels.lesson import LessonPanel
        from hipflex.gui.panels.muscles import MusclePanel
        from hipflex.gui.panels.plots import PlotsPanel
        from hipflex.gui.panels.task import TaskPanel
        from hipflex.lessons import Lesson, load_lessons

        self.muscle_panel = MusclePanel(self.qstate, self.analysis, self)
        self.task_panel = TaskPanel(self.qstate, self.analysis, self)
        self.plots_panel = PlotsPanel(self.qstate, self.analysis, self, held=True)
        self.explanation_panel = ExplanationPanel(self.qstate, self.analysis, self)
        self.info_card = InfoCard(self.qstate, self.analysis, self)
        lessons: dict[str, Lesson] = {}
        problem = None
        try:
            lessons = load_lessons()
        except HipFlexError as exc:  # a broken lesson file must not keep the window shut
            problem = f"Lessons could not be loaded: {exc}"
        self.lesson_panel = LessonPanel(self.qstate, lessons, self, frame=self.set_view,
                                        problem=problem)  # fmt: skip
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        muscles = self._dock("Muscles", self.muscle_panel, left)
        self.tabifyDockWidget(self._docks["Pose"], muscles)
        # a third tab, not a fourth column: the 1366x768 window has no room to spare
        task = self._dock("Task", self.task_panel, left, scroll=False)
        self.tabifyDockWidget(muscles, task)
        lesson = self._dock("Lesson", self.lesson_panel, left, scroll=False)
        self.tabifyDockWidget(task, lesson)
        self._docks["Pose"].raise_()
        self._dock("Info", self.info_card, right)
        explain = self._dock("Why", self.explanation_panel, right)
        self.splitDockWidget(self._docks["Info"], explain, Qt.Orientation.Vertical)
        self._dock("Plots", self.plots_panel, Qt.DockWidgetArea.BottomDockWidgetArea, scroll=False)

    def _action(self, menu: Any, text: str, slot: Callable[..., Any], shortcut: Any = None,
                name: str | None = None, checkable: bool = False) -> QAction:  # fmt: skip
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if checkable:
            act.setCheckable(True)
            act.toggled.connect(lambda on: slot(on))
        else:
            act.triggered.connect(lambda _=False: slot())
        if name:
            act.setObjectName(name)
        menu.addAction(act)
        return act

    def _menus(self) -> None:
        bar = self.menuBar()
        f = bar.addMenu("&File")
        self._action(
            f, "&Open session…", self.open_session_dialog, QKeySequence.StandardKey.Open, "actOpen"
        )
        self._action(
            f, "&Save session", self.save_session_action, QKeySequence.StandardKey.Save, "actSave"
        )
        self._action(
            f,
            "Save session &as…",
            self.save_session_dialog,
            QKeySequence.StandardKey.SaveAs,
            "actSaveAs",
        )
        self.recent_menu = f.addMenu("Open &recent")
        f.addSeparator()
        self._action(f, "Export &image…", self.export_image_dialog, "Ctrl+E", "actExportImage")
        self._action(
            f, "Export &handout (PDF)…", self.export_handout_dialog, None, "actExportHandout"
        )
        self._action(f, "Export &lesson handout (PDF)…", self.export_lesson_handout_dialog, None,
                     "actExportLessonHandout")  # fmt: skip
        self._action(f, "Export &video…", self.export_video_dialog, None, "actExportVideo")
        self._action(
            f, "Export &plot (SVG, PDF, PNG)…", self.export_plot_dialog, None, "actExportPlot"
        )
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.StandardKey.Quit, "actQuit")
        e = bar.addMenu("&Edit")
        self.act_undo = self._action(
            e, "&Undo", self.undo, QKeySequence.StandardKey.Undo, "actUndo"
        )
        self.act_redo = self._action(
            e, "&Redo", self.redo, QKeySequence.StandardKey.Redo, "actRedo"
        )
        v = bar.addMenu("&View")
        for k, view in enumerate(VIEWS, start=1):
            self._action(
                v,
                f"{view.capitalize()}\t{k}",
                functools.partial(self.set_view, view),
                None,
                f"actView_{view}",
            )
        v.addSeparator()
        self._action(v, "Save current view…", self.save_view_dialog, None, "actSaveView")
        self.saved_views_menu = v.addMenu("Saved views")
        v.addSeparator()
        toggles = {}  # display flag -> its checkable action
        for flag, text, key, name in (
            ("labels", "Labels", "L", "actLabels"),
            ("show_moment_arm", "Moment arm of the selection", "M", "actMomentArm"),
            ("show_lines", "Lines of action inside surfaces", None, "actLines"),
        ):
            toggles[flag] = self._action(
                v, text, lambda on=False, f=flag: self.set_display(**{f: on}), key, name,
                checkable=True,
            )  # fmt: skip
        self.act_labels = toggles["labels"]
        self.act_arm = toggles["show_moment_arm"]
        self.act_lines = toggles["show_lines"]
        v.addSeparator()
        for title, dock in self._docks.items():
            v.addAction(dock.toggleViewAction())
            dock.toggleViewAction().setText(f"{title} panel")
        p = bar.addMenu("&Play")
        self.act_play = self._action(p, "Play / pause\tSpace", self.toggle_play, None, "actPlay")
        self._action(p, "Step back\t←", functools.partial(self.step, -1.0), None, "actStepBack")
        self._action(p, "Step forward\t→", functools.partial(self.step, 1.0), None, "actStepFwd")
        h = bar.addMenu("&Help")
        self._action(h, "&About HipFlex", self.about, None, "actAbout")

    def _toolbar(self) -> None:
        tb = QToolBar("Display", self)
        tb.setObjectName("toolbar")
        self.addToolBar(tb)
        for k, view in enumerate(VIEWS, start=1):
            act = QAction(view.capitalize(), self)
            act.setObjectName(f"btnView_{view}")
            act.setToolTip(f"{view.capitalize()} view (key {k})")
            act.triggered.connect(lambda _=False, v=view: self.set_view(v))
            tb.addAction(act)
        tb.addSeparator()
        self.style_box = QComboBox()
        self.style_box.setObjectName("styleBox")
        for key, text in STYLES.items():
            self.style_box.addItem(text, key)
        self.style_box.currentIndexChanged.connect(
            lambda _: self.set_display(muscle_style=self.style_box.currentData())
        )
        tb.addWidget(self.style_box)
        self.colour_box = QComboBox()
        self.colour_box.setObjectName("colourBox")
        for key, text in COLOUR_MODES.items():
            self.colour_box.addItem(text, key)
        self.colour_box.currentIndexChanged.connect(
            lambda _: self.set_display(colour_by=self.colour_box.currentData())
        )
        tb.addWidget(self.colour_box)
        tb.addWidget(QLabel(" Bone opacity "))
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setObjectName("boneOpacity")
        self.opacity.setRange(5, 100)
        self.opacity.setMaximumWidth(110)
        self.opacity.valueChanged.connect(
            lambda v: self.set_display(merge="opacity", bone_opacity=v / 100)
        )
        self.opacity.sliderReleased.connect(self.state.end_merge)
        tb.addWidget(self.opacity)
        tb.addSeparator()
        self.motion_box = QComboBox()
        self.motion_box.setObjectName("motionBox")
        for key, text in MOTIONS.items():
            self.motion_box.addItem(text, key)
        self.motion_box.currentIndexChanged.connect(lambda _: self._restart_motion())
        tb.addWidget(self.motion_box)
        self.play_button = QAction("▶ Play", self)
        self.play_button.setObjectName("btnPlay")
        self.play_button.triggered.connect(self.toggle_play)
        tb.addAction(self.play_button)
        self.speed = QDoubleSpinBox()
        self.speed.setObjectName("playSpeed")
        self.speed.setRange(0.1, 4.0)
        self.speed.setSingleStep(0.25)
        self.speed.setValue(1.0)
        self.speed.setSuffix("×")
        self.speed.setToolTip("Playback speed")
        tb.addWidget(self.speed)

    def _shortcuts(self) -> None:
        ctx = Qt.ShortcutContext.WindowShortcut
        for k, view in enumerate(VIEWS, start=1):
            s = QShortcut(QKeySequence(str(k)), self, context=ctx)
            s.activated.connect(functools.partial(self.set_view, view))
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, context=ctx).activated.connect(
            self.toggle_play
        )
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, context=ctx).activated.connect(
            functools.partial(self.step, -1.0)
        )
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, context=ctx).activated.connect(
            functools.partial(self.step, 1.0)
        )
        # a presentation clicker sends Page Down / Page Up
        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, context=ctx).activated.connect(
            self.lesson_panel.advance
        )
        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, context=ctx).activated.connect(
            self.lesson_panel.previous
        )
        QShortcut(QKeySequence(Qt.Key.Key_Up), self, context=ctx).activated.connect(
            functools.partial(self.step_knee, 5.0)
        )
        QShortcut(QKeySequence(Qt.Key.Key_Down), self, context=ctx).activated.connect(
            functools.partial(self.step_knee, -5.0)
        )

    # -- following the state -------------------------------------------------------------------
    def _on_change(self, _old: Snapshot, new: Snapshot, fields: Any) -> None:
        if "display" in fields:
            self._show_display(new)
        self._update_actions()

    def _show_display(self, snap: Snapshot) -> None:
        d = snap.display
        for widget, value in ((self.style_box, d.muscle_style), (self.colour_box, d.colour_by)):
            widget.blockSignals(True)
            widget.setCurrentIndex(widget.findData(value))
            widget.blockSignals(False)
        for act, on in (
            (self.act_labels, d.labels),
            (self.act_arm, d.show_moment_arm),
            (self.act_lines, d.show_lines),
        ):
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)
        self.opacity.blockSignals(True)
        self.opacity.setValue(round(100 * d.bone_opacity))
        self.opacity.blockSignals(False)

    def _update_actions(self) -> None:
        self.act_undo.setEnabled(self.state.can_undo())
        self.act_redo.setEnabled(self.state.can_redo())

    def _show_status(self) -> None:
        p = self.state.pose
        res = self.analysis.current
        need = float(res.required_moment[0])
        drive = self.state.task.hip_acceleration
        what = "hold task" if drive == 0 else f"knee drive {drive_text(drive, 'rad/s²')}"
        if not needs_flexors(need):  # the leg's weight acts under or behind the hip
            hold = f"{what} needs {moment_words(need)}: no flexor effort"
        else:
            can = "can" if bool(res.feasible[0]) else "cannot"
            hold = (f"{what} needs {moment_words(need)}: muscles {can} "
                    + ("hold it" if drive == 0 else "give it"))  # fmt: skip
        task = self.state.task.words(self.task_panel.names, drive=False)
        contact = self.analysis.model.bone_contact(p.hip_flexion, p.hip_adduction, p.hip_rotation)
        bones = ""
        if contact.touching[0]:  # the model's bones overlap where a real hip would stop
            bones = (f"  ·  bone contact: {contact.femur_region[0].short} in "
                     f"{contact.pelvis_region[0].short}, {1000 * contact.overlap[0]:.0f} mm")  # fmt: skip
        turned = (f"  adduction {p.hip_adduction:.1f}°  rotation {p.hip_rotation:.1f}°"
                  if p.hip_adduction or p.hip_rotation else "")  # fmt: skip
        self.status.setText(f"hip {p.hip_flexion:.1f}°  knee {p.knee_flexion:.1f}°{turned}  ·  "
                            + (f"{task}  ·  " if task else "") + hold + bones)  # fmt: skip
        name = self.session_path.name if self.session_path else "untitled"
        title = f"HipFlex {__version__} — {name}"
        if self.windowTitle() != title:
            self.setWindowTitle(title)

    # -- actions -------------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self.errors.append(message)
        self.statusBar().showMessage(message.splitlines()[0], 10000)
        if not self.quiet:
            QMessageBox.warning(self, "HipFlex", message)

    @guarded
    def set_display(self, merge: str | None = None, **options: Any) -> None:
        self.state.set_display(merge=merge, **options)

    @guarded
    def set_view(self, view: str) -> None:
        self.view.set_view(view)

    @guarded
    def undo(self) -> None:
        self.state.undo()

    @guarded
    def redo(self) -> None:
        self.state.redo()

    @guarded
    def _on_picked(self, name: str) -> None:
        self.state.update(selection=name or None)

    @guarded
    def step(self, degrees: float) -> None:
        p = self.state.pose
        lo, hi = POSE_RANGES["hip_flexion"]
        self.state.set_pose(
            merge="step", hip_flexion=min(hi, max(lo, round(p.hip_flexion + degrees)))
        )

    @guarded
    def step_knee(self, degrees: float) -> None:
        p = self.state.pose
        lo, hi = POSE_RANGES["knee_flexion"]
        self.state.set_pose(
            merge="step-knee", knee_flexion=min(hi, max(lo, p.knee_flexion + degrees))
        )

    # playback
    def _motion(self) -> tuple[Any, Any]:
        key = self.motion_box.currentData()
        n = int(PLAY_SECONDS[key] * PLAY_FPS)
        return motion_frames(
            key, n, knee_flexion=self.state.pose.knee_flexion if key == "sweep" else 0.0
        )

    def _restart_motion(self) -> None:
        self._play_frame = 0
        self._frames = self._motion()

    @guarded
    def toggle_play(self) -> None:
        if self._play_timer.isActive():
            self._play_timer.stop()
            self.state.end_merge()
            self.play_button.setText("▶ Play")
            self.state.update(playing=False)
        else:
            self._frames = self._motion()
            self._play_frame = 0
            self._play_timer.start()
            self.play_button.setText("❚❚ Pause")
            self.state.update(playing=True)

    @property
    def playing(self) -> bool:
        return self._play_timer.isActive()

    @guarded
    def _play_step(self) -> None:
        hip, knee = self._frames
        n = len(hip)
        # forwards then backwards for the sweep, a loop for the knee drive
        step = max(1, round(self.speed.value()))
        frac = self.speed.value() / step
        self._play_frame += step if frac >= 0.999 else 1
        k = (
            self._play_frame % (2 * n - 2)
            if self.motion_box.currentData() == "sweep"
            else self._play_frame % n
        )
        if self.motion_box.currentData() == "sweep" and k >= n:
            k = 2 * n - 2 - k
        self.state.set_pose(merge="play", hip_flexion=float(hip[k]), knee_flexion=float(knee[k]))

    # sessions
    def open_session(self, path: Path) -> None:
        """Open a session file; a bad file gives a clear error and changes nothing."""
        try:
            snap = load_session(path, self.model.muscles)
            self.state.replace(snap)
        except HipFlexError as exc:
            self.show_error(str(exc))
            return
        self.session_path = Path(path)
        self.view._camera_stale = True
        self.view.request()
        self._add_recent(path)
        self._show_status()

    @guarded
    def save_session(self, path: Path) -> None:
        save_session(path, self.state.snapshot)
        self.session_path = Path(path)
        self._add_recent(path)
        self._show_status()
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def save_session_action(self) -> None:
        if self.session_path is None:
            self.save_session_dialog()
        else:
            self.save_session(self.session_path)

    def save_session_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", str(self._last_dir() / "session.hipflex.json"),
                                              "HipFlex sessions (*.json)")  # fmt: skip
        if path:
            self.save_session(Path(path))

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open session", str(self._last_dir()), "HipFlex sessions (*.json);;All files (*)"
        )
        if path:
            self.open_session(Path(path))

    def _last_dir(self) -> Path:
        s = settings()
        return Path(str(s.value("last_dir", str(Path.home()))))

    def _add_recent(self, path: Path) -> None:
        s = settings()
        recent = [str(Path(path).resolve())] + [
            p for p in self.recent_files() if p != str(Path(path).resolve())
        ]
        s.setValue("recent_files", recent[:MAX_RECENT])
        s.setValue("last_dir", str(Path(path).resolve().parent))
        self._fill_recent()

    def recent_files(self) -> list[str]:
        value = settings().value("recent_files", [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.recent_files():
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _=False, q=p: self.open_session(Path(q)))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    # saved views
    @guarded
    def save_view(self, name: str) -> None:
        s = settings()
        views = _views(s)
        views[name] = self.view.scene.camera_state(view=None).model_dump_json()
        s.setValue("saved_views", views)
        self._fill_saved_views()

    def save_view_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "Save view", "Name of this view:")
        if ok and name.strip():
            self.save_view(name.strip())

    @guarded
    def restore_view(self, name: str) -> None:
        from hipflex.state import Camera

        views = _views(settings())
        if name not in views:
            raise HipFlexError(f"no saved view named {name!r}")
        cam = Camera.model_validate_json(views[name])
        self.view._camera_stale = True
        self.state.set_camera(**cam.model_dump())

    def _fill_saved_views(self) -> None:
        self.saved_views_menu.clear()
        views = _views(settings())
        for name in sorted(views):
            act = self.saved_views_menu.addAction(name)
            act.triggered.connect(lambda _=False, n=name: self.restore_view(n))
        self.saved_views_menu.setEnabled(bool(views))

    # exports (handouts and media)
    def export_image_dialog(self) -> None:
        from hipflex.gui.exports import export_image_dialog

        export_image_dialog(self)

    def export_image_to(self, path: Path, size: tuple[int, int], transparent: bool = False,
                        force: bool = False) -> Path | None:  # fmt: skip
        """Non-interactive image export of the current view (used by tests and scripts)."""
        from hipflex.gui.exports import export_image

        return export_image(self, Path(path), size, transparent=transparent, force=force)

    def export_handout_dialog(self) -> None:
        from hipflex.gui.exports import export_handout_dialog

        export_handout_dialog(self)

    def export_lesson_handout_dialog(self) -> None:
        from hipflex.gui.exports import export_lesson_handout_dialog

        export_lesson_handout_dialog(self)

    def export_video_dialog(self) -> None:
        from hipflex.gui.exports import export_video_dialog

        export_video_dialog(self)

    @guarded
    def export_plot(self, kind: str, path: Path, force: bool = False) -> Path:
        """One chart at full size, vector (SVG/PDF) or PNG by the file's suffix."""
        out = self.plots_panel.export(kind, path, force=force)
        self.statusBar().showMessage(f"Wrote {out}", 8000)
        return out

    def export_plot_dialog(self) -> None:
        from hipflex.plots import PLOT_KINDS

        kind, ok = QInputDialog.getItem(self, "Export plot", "Chart:", list(PLOT_KINDS), 0, False)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", f"hipflex-{kind}.svg",
                                              "SVG (*.svg);;PDF (*.pdf);;PNG (*.png)")  # fmt: skip
        if path:
            self.export_plot(kind, Path(path), force=True)

    def about(self) -> None:
        from hipflex.gui.panels.about import AboutDialog

        AboutDialog(self, self.model.ctx.pack.attribution).exec()

    # -- pictures, settings, closing -----------------------------------------------------------
    def grab_window(self) -> QImage:
        """The whole window as an image, with the 3D frame painted in (GL widgets grab black)."""
        self.plots_panel.release()
        image = self.grab().toImage()
        frame = self.view.image()
        top_left = self.view.mapTo(self, self.view.rect().topLeft())
        painter = QPainter(image)
        dpr = image.devicePixelRatio()
        target = self.view.rect().translated(top_left)
        painter.drawImage(
            target, frame.scaled(int(target.width() * dpr), int(target.height() * dpr))
        )
        painter.end()
        return image

    def _restore_settings(self) -> None:
        s = settings()
        geo = s.value("geometry")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        else:
            self.resize(1360, 760)
        st = s.value("window_state")
        # a layout saved before a dock was added is not restored (Qt refuses another version):
        # restored, it showed the new dock's tab in front of the pose panel
        if not (isinstance(st, QByteArray) and self.restoreState(st, LAYOUT_VERSION)):
            # the 3D view gets most of the room; plots a strip at the bottom
            h = self.height()
            self.resizeDocks(
                [self._docks["Plots"]], [max(200, int(0.3 * h))], Qt.Orientation.Vertical
            )
            self.resizeDocks(
                [self._docks["Pose"], self._docks["Info"]], [250, 270], Qt.Orientation.Horizontal
            )
        self.speed.setValue(float(s.value("play_speed", 1.0)))  # type: ignore[arg-type]
        idx = self.motion_box.findData(s.value("motion", "sweep"))
        self.motion_box.setCurrentIndex(max(idx, 0))
        self._fill_recent()
        self._fill_saved_views()
        self._show_display(self.state.snapshot)

    def _save_settings(self) -> None:
        s = settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("window_state", self.saveState(LAYOUT_VERSION))
        s.setValue("play_speed", self.speed.value())
        s.setValue("motion", self.motion_box.currentData())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._play_timer.stop()
        self._save_settings()
        self.view.close_view()
        self.qstate.close()
        super().closeEvent(event)
