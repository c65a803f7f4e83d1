"""The lesson stepper: pick a lesson, then Next / Back (or Page Down / Page Up, which a
presentation clicker sends) through its steps.

Each step goes through ``AppState.replace`` like any other change, so the 3D view, plots and
panels follow it and one undo step takes it back. The step's text asks; the Why panel and the
info card answer with the engine's figures at that pose (hipflex.lessons).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hipflex.gui.panels._common import esc
from hipflex.gui.qtstate import QtState
from hipflex.lessons import Lesson, step_snapshot

STYLE = """
div.title { font-size: large; font-weight: bold; margin-bottom: 6px; }
p.text { margin: 0 0 8px 0; }
p.who { color: #6a6a6a; font-size: small; }
p.hint { color: #5b6f86; font-size: small; }
"""


class LessonPanel(QWidget):
    """Steps through one lesson at a time."""

    def __init__(
        self,
        qstate: QtState,
        lessons: dict[str, Lesson],
        parent: QWidget | None = None,
        frame: Callable[[str], None] | None = None,
        problem: str | None = None,
    ) -> None:
        """``frame(view)`` re-frames the camera preset for the step's pose (the view does it;
        the same preset twice would otherwise keep the last step's framing). ``problem`` is
        shown instead of the lessons when they could not be loaded."""
        super().__init__(parent)
        self.qstate = qstate
        self.lessons = lessons
        self._frame = frame
        self.index: int | None = None  # None: the lesson's summary, before its first step
        layout = QVBoxLayout(self)
        self.choice = QComboBox()
        self.choice.setObjectName("lessonChoice")
        for lid, lesson in lessons.items():
            self.choice.addItem(lesson.title, lid)
        self.choice.currentIndexChanged.connect(lambda _i: self._restart())
        layout.addWidget(self.choice)
        self.counter = QLabel()
        self.counter.setObjectName("lessonCounter")
        layout.addWidget(self.counter)
        self.text = QTextBrowser()
        self.text.setObjectName("lessonText")
        self.text.setOpenLinks(False)
        font = QFont(self.text.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)  # read from across a room
        self.text.setFont(font)
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        self.back = QPushButton("◀ Back")
        self.back.setObjectName("lessonBack")
        self.back.setToolTip("Previous step (Page Up)")
        self.back.clicked.connect(self.previous)
        self.next = QPushButton("Start ▶")
        self.next.setObjectName("lessonNext")
        self.next.setToolTip("Next step (Page Down)")
        self.next.clicked.connect(self.advance)
        self.again = QPushButton("Show again")
        self.again.setObjectName("lessonAgain")
        self.again.setToolTip("Go back to this step's pose and view after exploring")
        self.again.clicked.connect(self.show_again)
        for b in (self.back, self.again, self.next):
            row.addWidget(b)
        layout.addLayout(row)
        if problem is not None or not lessons:
            self.choice.setEnabled(False)
            for b in (self.back, self.next, self.again):
                b.setEnabled(False)
            self.text.setHtml(f"<style>{STYLE}</style><p class='text'>"
                              f"{esc(problem or 'No lessons found.')}</p>")  # fmt: skip
        else:
            self._restart()

    @property
    def lesson(self) -> Lesson | None:
        lid = self.choice.currentData()
        return self.lessons.get(lid) if lid is not None else None

    def choose(self, lesson_id: str) -> None:
        """Select a lesson by id (its summary shows; nothing moves until Start)."""
        k = self.choice.findData(lesson_id)
        if k < 0:
            raise KeyError(f"no lesson {lesson_id!r} (known: {', '.join(self.lessons)})")
        if k == self.choice.currentIndex():
            self._restart()  # the same lesson again: back to its summary
        else:
            self.choice.setCurrentIndex(k)  # restarts through currentIndexChanged

    def go(self, index: int) -> None:
        """Show step ``index`` (0-based): the state takes its pose, view and display."""
        lesson = self.lesson
        if lesson is None:
            return
        index = max(0, min(index, len(lesson.steps) - 1))
        step = lesson.steps[index]
        self.index = index
        self.qstate.state.replace(step_snapshot(step, self.qstate.snapshot))
        if step.view is not None and self._frame is not None:
            self._frame(step.view)
        self._show()

    def advance(self) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        nxt = 0 if self.index is None else self.index + 1
        if nxt < len(lesson.steps):
            self.go(nxt)

    def previous(self) -> None:
        if self.index is not None and self.index > 0:
            self.go(self.index - 1)

    def show_again(self) -> None:
        if self.index is not None:
            self.go(self.index)

    def _restart(self) -> None:
        self.index = None
        self._show()

    def _show(self) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        n = len(lesson.steps)
        parts = [f"<style>{STYLE}</style>"]
        if self.index is None:
            self.counter.setText(f"{n} steps")
            parts += [f"<div class='title'>{esc(lesson.title)}</div>",
                      f"<p class='text'>{esc(lesson.summary)}</p>"]  # fmt: skip
            if lesson.audience:
                parts.append(f"<p class='who'>For: {esc(lesson.audience)}</p>")
            parts.append("<p class='hint'>Start sets the first pose. Page Down and Page Up step "
                         "through the lesson from anywhere in the window. File &gt; Export "
                         "lesson handout prints it as a PDF.</p>")  # fmt: skip
        else:
            step = lesson.steps[self.index]
            self.counter.setText(f"Step {self.index + 1} of {n}")
            parts += [f"<div class='title'>{esc(step.title)}</div>",
                      f"<p class='text'>{esc(step.text)}</p>",
                      "<p class='hint'>The figures are in the Why panel and the info card.</p>"]  # fmt: skip
        self.text.setHtml("".join(parts))
        self.back.setEnabled(self.index is not None and self.index > 0)
        self.again.setEnabled(self.index is not None)
        self.next.setText("Start ▶" if self.index is None else "Next ▶")
        self.next.setEnabled(self.index is None or self.index < n - 1)
