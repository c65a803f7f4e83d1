"""Progress and cancellation for long exports, shared by the handout and video writers.

The window passes a progress callback and a cancel check (its dialog's Cancel button); the CLI
passes a printer. Cancelling raises ``ExportCancelledError`` before anything is renamed into place,
so no file is left behind.
"""

from __future__ import annotations

from collections.abc import Callable

from hipflex.errors import HipFlexError

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


class ExportCancelledError(HipFlexError):
    """The user cancelled an export; nothing was written."""


class Job:
    """Reports progress (0..1 with a message) and stops at the next step once cancelled."""

    def __init__(self, what: str, progress: Progress | None, cancel: Cancel | None) -> None:
        self.what = what
        self._progress = progress
        self._cancel = cancel

    def step(self, fraction: float, message: str) -> None:
        if self._cancel is not None and self._cancel():
            raise ExportCancelledError(f"{self.what}: cancelled; nothing was written")
        if self._progress is not None:
            self._progress(min(max(fraction, 0.0), 1.0), message)

    def done(self, message: str) -> None:
        """The file is in place: report 100% without asking about cancelling any more."""
        if self._progress is not None:
            self._progress(1.0, message)


def print_progress(prefix: str, every: float = 0.1) -> Progress:
    """A progress callback for the terminal: a line whenever another ``every`` of the work is
    done (a 120-frame video prints about ten lines, not 120), and always the last one."""
    last = [-1.0]

    def report(fraction: float, message: str) -> None:
        if fraction >= 1.0 or fraction - last[0] >= every:
            last[0] = fraction
            print(f"{prefix}: {100 * fraction:3.0f}% {message}", flush=True)

    return report
