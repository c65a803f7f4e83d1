"""The "why" in words: the engine's statements for the current pose and task, with the caveats.

``model.explain`` runs a small sweep, so it is not run for every slider step: a single-shot
timer fires shortly after the last pose change.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QTextBrowser, QWidget

from hipflex.gui.panels._common import LINK_SCHEME, Debouncer, esc
from hipflex.gui.qtstate import Analysis, QtState
from hipflex.model.contact import angle_words

EXPLAIN_MS = 100
MAX_WAIT_MS = 400  # during playback or a long drag, still refresh this often
QUANTITY_TAGS = {
    "max_moment_hip_flexion": "capacity",
    "lift_capacity": "free lift",
    "norm_fiber_length": "fibre length",
    "force_length_factor": "force-length",
    "moment_arm_hip_flexion": "moment arm",
    "moment_arm_hip_rotation": "rotation lever",
    "moment_arm_hip_adduction": "adduction lever",
    "activation": "hold task",
    "share": "hold task",
    "bone_overlap": "bone contact",
}
STYLE = """
p.stmt { margin: 0 0 6px 0; }
span.tag { color: #7a7a7a; font-size: small; }
span.tag a { color: #5b7fa8; text-decoration: none; }
div.head { color: #444444; font-weight: bold; margin-bottom: 6px; }
div.task { color: #5b6f86; font-size: small; margin: -4px 0 6px 0; }
div.caveats { color: #808080; font-size: small; margin-top: 10px; }
p.caveat { margin: 0 0 3px 0; }
p.contact { margin: 0 0 6px 0; color: #8a1a8a; }
"""


def _knee_words(knee: float) -> str:
    return "knee straight" if abs(knee) < 0.5 else f"knee {knee:g}°"


def explanation_html(
    statements: list[dict[str, object]],
    hip: float,
    knee: float,
    off_plane: tuple[float, float] = (0.0, 0.0),
    names: dict[str, str] | None = None,
    task: str | None = None,
) -> str:
    """Statements first, each with its quantity tag and links to the muscles it is about (a
    click selects the muscle in the 3D view and the info card); the caveats apart and muted.
    ``off_plane``: the pose's hip adduction and rotation (deg), named in the heading where
    either is not 0; ``task`` names a hold task other than the default (subject, strengths,
    knee drive)."""
    hip_words = f"Hip flexion {hip:g}°"
    if any(off_plane):
        hip_words += f" ({angle_words(*off_plane, unit='°')})"
    parts = [f"<style>{STYLE}</style>",
             f'<div class="head">{esc(hip_words)}, {esc(_knee_words(knee))}</div>']  # fmt: skip
    if task:
        parts.append(f'<div class="task">Task: {esc(task)}</div>')
    caveats = [s for s in statements if s.get("quantity") == "caveat"]
    for s in statements:
        if s.get("quantity") == "caveat":
            continue
        q = str(s.get("quantity", ""))
        tag = esc(QUANTITY_TAGS.get(q, q.replace("_", " ")))
        muscles = s.get("muscles")
        if names and isinstance(muscles, list | tuple):
            links = [f'<a href="{LINK_SCHEME}:muscle:{esc(m)}">{esc(names[m])}</a>'
                     for m in muscles if m in names]  # fmt: skip
            if links:
                tag += " · " + ", ".join(links)
        cls = "contact" if q == "bone_overlap" else "stmt"  # the 3D marker's colour
        parts.append(f'<p class="{cls}">{esc(s.get("text", ""))} <span class="tag">[{tag}]</span></p>')  # fmt: skip
    if caveats:
        parts.append('<div class="caveats"><b>Caveats</b>')
        parts.extend(f'<p class="caveat">{esc(c.get("text", ""))}</p>' for c in caveats)
        parts.append("</div>")
    return "".join(parts)


class ExplanationPanel(QTextBrowser):
    """Plain-language statements for the current pose, updated live (coalesced)."""

    def __init__(self, qstate: QtState, analysis: Analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explanationPanel")
        self.qstate = qstate
        self.analysis = analysis
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_link)
        anatomy = analysis.model.ctx.anatomy
        self.names = {m: anatomy.muscles[m].display_name for m in analysis.model.muscles}
        self.statements: list[dict[str, object]] = []
        self._timer = Debouncer(self, EXPLAIN_MS, MAX_WAIT_MS, self.refresh)
        analysis.pose_changed.connect(self._schedule)
        self.refresh()

    def _schedule(self, _result: object) -> None:
        self._timer.poke()

    def _on_link(self, url: QUrl) -> None:
        target = url.path()
        if (
            url.scheme() == LINK_SCHEME
            and target.startswith("muscle:")
            and target[7:] in self.names
        ):
            self.qstate.state.update(selection=target)

    def refresh(self) -> None:
        """Ask the engine again for the current pose and show its answer."""
        snap = self.qstate.snapshot
        pose, task = snap.pose, snap.task
        task.apply_to(self.analysis.model)  # already so, unless someone else changed the model
        self.statements = self.analysis.model.explain(
            pose.hip_flexion, pose.knee_flexion, hip_acceleration=task.hip_acceleration,
            hip_adduction=pose.hip_adduction, hip_rotation=pose.hip_rotation,
        )
        bar = self.verticalScrollBar()
        keep = bar.value()
        html = explanation_html(self.statements, pose.hip_flexion, pose.knee_flexion,
                                (pose.hip_adduction, pose.hip_rotation), self.names,
                                task.words(self.names))  # fmt: skip
        self.setHtml(html)
        bar.setValue(keep)
