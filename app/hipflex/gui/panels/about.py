"""The About box: version, what HipFlex is, and the full attribution of the anatomy sources.

The licences (CC BY 4.0, BSD-3-Clause) require the attribution to travel with the meshes, so
it is shown whole and selectable, not summarised.
"""

from __future__ import annotations

import importlib.metadata
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import hipflex
from hipflex.attribution import ATTRIBUTION
from hipflex.gui.panels._common import esc

DESCRIPTION = (
    "HipFlex shows the human hip in 3D and explains hip flexion. Its bones and muscles come from "
    "the NLM Visible Human Male; each muscle has a line of action that wraps over the pelvic brim "
    "and the femoral head, and the engine computes moment arms, fibre lengths, force capacity and "
    "the effort needed to hold the leg up. From these it explains why the iliopsoas can still lift "
    "the knee past 90 degrees when rectus femoris and tensor fasciae latae fade: they go slack. "
    "Figures are model estimates for one body, with the caveats the explanation panel lists."
)


def hipflex_version() -> str:
    """The package version (the module's, else the installed distribution's)."""
    v = getattr(hipflex, "__version__", None)
    if v:
        return str(v)
    try:
        return importlib.metadata.version("hipflex")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def attribution_text(pack_attribution: str) -> str:
    """The shipped attribution and the pack's, without printing the same text twice."""
    pack = pack_attribution.strip()
    if ATTRIBUTION.strip() in pack:
        return pack + "\n"
    return ATTRIBUTION.strip() + ("\n\n" + pack if pack else "") + "\n"


def attribution_markdown(text: str) -> str:
    """The attribution as Markdown that renders as written: a paragraph that follows a
    numbered list starts after a blank line (else Markdown folds it into the last item), and
    headings are made small (the dialog has its own)."""
    out: list[str] = []
    in_list = False
    for line in text.splitlines():
        if line.startswith("#"):
            line = "#### " + line.lstrip("#").strip()
        numbered = re.match(r"^\d+\.\s", line) is not None
        if numbered:
            in_list = True
        elif in_list and line.strip() and not line.startswith((" ", "\t")):
            out.append("")
            in_list = False
        elif not line.strip():
            in_list = False
        out.append(line)
    return "\n".join(out) + "\n"


class AboutDialog(QDialog):
    """Version, a one-paragraph description and the anatomy sources' attribution."""

    def __init__(self, parent: QWidget | None, pack_attribution: str) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About HipFlex")
        title = QLabel(f"<h2>HipFlex {esc(hipflex_version())}</h2>", self)
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        desc = QLabel(DESCRIPTION, self)
        desc.setWordWrap(True)
        desc.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head = QLabel("<b>Anatomy sources and licences</b>", self)
        # The attribution is Markdown with hard line breaks; rendered, its list items reflow.
        self.attribution = QTextBrowser(self)
        self.attribution.setObjectName("aboutAttribution")
        self.attribution.setOpenExternalLinks(True)
        self.attribution.setMarkdown(attribution_markdown(attribution_text(pack_attribution)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(desc)
        layout.addWidget(head)
        layout.addWidget(self.attribution, 1)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def text(self) -> str:
        """Everything the dialog says, as plain text (for tests and copying)."""
        return "\n".join(
            [f"HipFlex {hipflex_version()}", DESCRIPTION, self.attribution.toPlainText()]
        )
