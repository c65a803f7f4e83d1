"""The info card for the selection: a muscle's anatomy, its numbers at this pose and its
sources, or a bone's name, the body it moves with and the muscles attached to it.

It follows the state's selection (set by the 3D view or the muscle list) and the pose; pose
changes are coalesced so a slider drag does not rebuild the card on every step.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QTextBrowser, QWidget

from hipflex.anatomy import AnatomyData, Muscle
from hipflex.gui.panels._common import LINK_SCHEME, Debouncer, esc
from hipflex.gui.panels.muscles import GROUP_TITLES
from hipflex.gui.qtstate import Analysis, QtState
from hipflex.model.wrapping import KNEE_DISTAL
from hipflex.scene.live import SPECIFIC_TENSION, stand_in_radius
from hipflex.state import Snapshot

INFO_MS = 60
MAX_WAIT_MS = 300  # during playback or a long drag, still refresh this often
HINT = "Click a muscle or bone in the 3D view or the list."
NEUTRAL_MM = 0.5  # moment arms smaller than this are "about zero"
# Words in the origin/insertion text that name each bone mesh (word starts only, so
# "iliotibial" is not the tibia and "sacroiliac" is not the ilium).
BONE_WORDS: dict[str, tuple[str, ...]] = {
    "hip_r": ("ilium", "iliac", "pubis", "pubic", "ischium", "ischial", "acetabul"),
    "sacrum": ("sacrum", "sacral", "coccyx"),
    "l1": ("vertebra", "lumbar"),
    "l2": ("vertebra", "lumbar"),
    "l3": ("vertebra", "lumbar"),
    "l4": ("vertebra", "lumbar"),
    "l5": ("vertebra", "lumbar"),
    "femur_r": ("femur", "trochanter", "linea aspera", "gluteal tuberosity", "adductor tubercle"),
    "patella_r": ("patella", "kneecap"),
    "tibia_r": ("tibia", "gerdy"),
    "fibula_r": ("fibula",),
}
STYLE = """
h3 { margin: 0 0 2px 0; }
div.sub { color: #707070; margin-bottom: 6px; }
td.k { color: #555555; padding-right: 8px; vertical-align: top; white-space: nowrap; }
td.v { vertical-align: top; }
div.sec { font-weight: bold; margin-top: 8px; margin-bottom: 2px; }
p.ref { margin: 0 0 3px 0; font-size: small; }
p.muted { color: #808080; }
p.att { margin-top: 2px; margin-bottom: 6px; }
p.note { color: #505050; margin: 0 0 6px 0; }
"""
SURFACE_SOURCE = "the Visible Human Male's, Andreassen et al. 2023"


def no_surface_note(m: Muscle) -> str | None:
    """What the card says of a muscle without a surface model (None for one with a surface):
    that the source set has none, and how the 3D view draws it instead."""
    if m.mesh is not None:
        return None
    tension = SPECIFIC_TENSION / 1e4  # N/cm^2
    pcsa = m.hill.max_isometric_force / SPECIFIC_TENSION * 1e4  # cm^2
    across = 2000 * stand_in_radius(m.hill.max_isometric_force)  # mm, of all its lines together
    drawn = ("along its line of action, as a tube" if len(m.line) <= 1 else
             f"along its {len(m.line)} lines of action, as tubes whose cross-sections add up to one")  # fmt: skip
    return (f"The source set of muscle surfaces ({SURFACE_SOURCE}) has no surface model for "
            f"this muscle, so it is drawn {drawn} {across:.0f} mm across, sized from its "
            f"physiological cross-section ({pcsa:.1f} cm²: its peak force over {tension:g} "
            "N/cm²).")


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(re.search(r"\b" + re.escape(w), low) for w in words)


def bone_attachments(anatomy: AnatomyData, bone: str) -> list[tuple[str, str]]:
    """(muscle id, "origin"/"insertion") for the muscles attached to mesh ``bone``, read from
    the origin and insertion text; a bone without known words falls back to the path points."""
    body = bone_body(anatomy, bone)
    words = BONE_WORDS.get(bone)
    out: list[tuple[str, str]] = []
    for m in anatomy.muscles.values():
        for role, text in (("origin", m.origin), ("insertion", m.insertion)):
            if words is not None:
                hit = _mentions(text, words)
            else:
                hit = bone != "hip_l" and any(
                    p.body == body and p.kind == role for ln in m.line for p in ln.points
                )
            if hit:
                out.append((m.id, role))
    return out


def bone_body(anatomy: AnatomyData, bone: str) -> str | None:
    for b in anatomy.bodies:
        if bone in b.meshes:
            return b.id
    return None


def _arm(mm: float, pos: str, neg: str) -> str:
    if abs(mm) < NEUTRAL_MM:
        return f"{mm:.0f} mm (about zero)"
    return f"{mm:+.0f} mm ({pos if mm > 0 else neg})"


def _row(key: str, value: str, raw: bool = False) -> str:
    return (
        f'<tr><td class="k">{esc(key)}</td><td class="v">{value if raw else esc(value)}</td></tr>'
    )


class InfoCard(QTextBrowser):
    """Names, origin, insertion, action, innervation, numbers at this pose and sources for a
    selected muscle; name, body and attached muscles for a selected bone; a hint otherwise."""

    def __init__(self, qstate: QtState, analysis: Analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("infoCard")
        self.qstate = qstate
        self.analysis = analysis
        self.anatomy = analysis.model.ctx.anatomy
        # sources open in the browser; muscle names in a bone card select that muscle
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_link)
        self.numbers: dict[str, str] = {}  # what the card shows, label -> text (also for tests)
        self._shown: str | None = None  # the selection the card shows
        self._timer = Debouncer(self, INFO_MS, MAX_WAIT_MS, self.refresh)
        qstate.changed.connect(self._on_state)
        analysis.pose_changed.connect(self._on_pose)
        self.refresh()

    def _on_state(self, _old: Snapshot, _new: Snapshot, fields: Any) -> None:
        if "selection" in fields:
            self.refresh()  # a click should answer at once

    def _on_pose(self, _result: object) -> None:
        if self.qstate.snapshot.selection:
            self._timer.poke()

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == LINK_SCHEME:
            target = url.path()
            if target.startswith("muscle:") and target[7:] in self.anatomy.muscles:
                self.qstate.state.update(selection=target)
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)

    def refresh(self) -> None:
        """Rebuild the card from the state's selection and the engine's current values."""
        self._timer.cancel()
        sel = self.qstate.snapshot.selection
        self.numbers = {}
        if sel and sel.startswith("muscle:") and sel[7:] in self.anatomy.muscles:
            body = self._muscle_html(self.anatomy.muscles[sel[7:]])
        elif sel and sel.startswith("bone:"):
            body = self._bone_html(sel[5:])
        else:
            body = f'<p class="muted">{esc(HINT)}</p>'
        # a pose update keeps the reader's place (e.g. scrolled to the numbers); a new
        # selection starts at the top
        bar = self.verticalScrollBar()
        keep = bar.value() if sel == self._shown else 0
        self._shown = sel
        self.setHtml(f"<style>{STYLE}</style>{body}")
        bar.setValue(keep)

    # -- muscles ------------------------------------------------------------------------------
    def muscle_numbers(self, muscle: str) -> dict[str, str]:
        """The card's numbers for ``muscle`` at the current pose, as shown."""
        v = self.analysis.muscle_values(muscle)
        model = self.analysis.model
        crosses_knee = any(set(ln.bodies) & set(KNEE_DISTAL)
                           for ln in model.ctx.lines if ln.muscle == muscle)  # fmt: skip
        norm = v["norm_fiber_length"]
        out = {
            "Length": f"{1000 * v['length']:.0f} mm",
            "Moment arm, hip flexion": _arm(
                1000 * v["moment_arm_hip_flexion"], "flexor", "extensor"
            ),
            "Moment arm, hip adduction": _arm(
                1000 * v["moment_arm_hip_adduction"], "adductor", "abductor"
            ),
            "Moment arm, hip rotation": _arm(
                1000 * v["moment_arm_hip_rotation"], "internal rotator", "external rotator"
            ),
            "Moment arm, knee flexion": (
                _arm(1000 * v["moment_arm_knee_flexion"], "knee flexor", "knee extensor")
                if crosses_knee
                else "does not cross the knee"
            ),
            "Normalised fibre length": f"{norm:.2f}" + (" (slack)" if norm <= 0 else ""),
            "Force-length factor": f"{v['force_length_factor']:.2f}",
            "Max hip-flexion moment": f"{v['max_moment_hip_flexion']:.1f} N m",
            "Activation (hold task)": f"{100 * v['activation']:.0f}%",
            "Share of the hold": f"{100 * v['share']:.0f}%" + (
                " (works against flexion, to balance the hip's turning)"
                if v["share"] <= -0.005 else ""),
        }
        slack = {ln.name: model.tendon_slack[ln.name]
                 for ln in model.ctx.lines if ln.muscle == muscle}  # fmt: skip
        if len(slack) == 1:
            out["Tendon slack length"] = f"{1000 * next(iter(slack.values())):.1f} mm"
        else:
            out["Tendon slack length"] = ", ".join(f"{k}: {1000 * s:.1f} mm" for k, s in slack.items())  # fmt: skip
        return out

    def _muscle_html(self, m: Muscle) -> str:
        pose = self.qstate.snapshot.pose
        self.numbers = self.muscle_numbers(m.id)
        group = GROUP_TITLES.get(m.group, m.group)
        parts = [f"<h3>{esc(m.display_name)}</h3>",
                 f'<div class="sub">{esc(group)} · <code>{esc(m.id)}</code></div>',
                 *([f'<p class="note">{esc(note)}</p>'] if (note := no_surface_note(m)) else []),
                 "<table>", _row("Origin", m.origin), _row("Insertion", m.insertion),
                 _row("Action", m.action), _row("Innervation", m.innervation), "</table>"]  # fmt: skip
        knee = "knee straight" if abs(pose.knee_flexion) < 0.5 else f"knee {pose.knee_flexion:g}°"
        where = f"hip {pose.hip_flexion:g}°, {knee}"
        if pose.hip_adduction or pose.hip_rotation:
            where += f", adduction {pose.hip_adduction:g}°, rotation {pose.hip_rotation:g}°"
        parts.append(f'<div class="sec">At this pose ({where})</div>')
        parts.append("<table>")
        parts.extend(_row(k, s) for k, s in self.numbers.items())
        parts.append("</table>")
        parts.append('<p class="muted" style="font-size: small">Moment arms: + is flexor, adductor, '
                     "internal rotator, knee flexor. Tendon slack length re-derived for these "
                     "bones (rigid tendon).</p>")  # fmt: skip
        refs = list(dict.fromkeys([*m.references, m.hill.source]))
        parts.append('<div class="sec">Sources</div>')
        for rid in refs:
            ref = self.anatomy.references.get(rid)
            if ref is None:
                continue
            link = ""
            if ref.doi:
                link = f' <a href="https://doi.org/{esc(ref.doi)}">doi:{esc(ref.doi)}</a>'
            elif ref.url:
                link = f' <a href="{esc(ref.url)}">{esc(ref.url)}</a>'
            note = " (muscle parameters)" if rid == m.hill.source else ""
            parts.append(f'<p class="ref">{esc(ref.citation)}{link}{esc(note)}</p>')
        return "".join(parts)

    # -- bones --------------------------------------------------------------------------------
    def _bone_html(self, bone: str) -> str:
        a = self.anatomy
        name = a.bone_names.get(bone)
        if name is None:
            return f'<p class="muted">Unknown bone {esc(bone)}. {esc(HINT)}</p>'
        body = bone_body(a, bone)
        body_obj = next((b for b in a.bodies if b.id == body), None)
        moves = body_obj.display_name if body_obj else "—"
        if body == "pelvis":
            moves += " (held still: the model's reference frame)"
        attached = bone_attachments(a, bone)
        self.numbers = {"Moves with": moves}
        parts = [f"<h3>{esc(name)}</h3>", f'<div class="sub"><code>{esc(bone)}</code></div>',
                 "<table>", _row("Moves with", moves), "</table>",
                 '<div class="sec">Muscles attached</div>']  # fmt: skip
        if attached:
            # one paragraph each, the attachment under the name: a name column beside it left
            # the description a word wide in the narrow panel
            for mid, role in attached:
                m = a.muscles[mid]
                text = m.origin if role == "origin" else m.insertion
                link = f'<a href="{LINK_SCHEME}:muscle:{esc(mid)}">{esc(m.display_name)}</a>'
                parts.append(f'<p class="att">{link} ({role})<br>{esc(text)}</p>')
        elif bone == "hip_l":
            parts.append('<p class="muted">None modelled: HipFlex models the right leg\'s muscles.</p>')  # fmt: skip
        else:
            parts.append('<p class="muted">None of the modelled hip muscles.</p>')
        return "".join(parts)
