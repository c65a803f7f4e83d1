"""The explorer's side panels (pytest-qt, under Xvfb): they follow the one state and write
through it, and what they draw matches the engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QLineEdit, QPushButton, QStyle, QStyleOptionViewItem, QWidget

import hipflex
from hipflex.attribution import ATTRIBUTION
from hipflex.gui.panels import AboutDialog, ExplanationPanel, InfoCard, MusclePanel, PlotsPanel
from hipflex.gui.panels.info import HINT, bone_attachments
from hipflex.gui.qtstate import Analysis, QtState
from hipflex.model.hipmodel import HipModel
from hipflex.plots import PLOT_KINDS
from hipflex.state import AppState

pytestmark = pytest.mark.usefixtures("qapp")


def _shown(qtbot, widget, width: int, height: int):  # type: ignore[no-untyped-def]
    """``widget`` owned by qtbot, sized, shown and exposed (real clicks need it on screen)."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def env(model: HipModel) -> Iterator[tuple[AppState, QtState, Analysis]]:
    state = AppState(muscles=model.muscles)
    qstate = QtState(state)
    analysis = Analysis(qstate, model)
    yield state, qstate, analysis
    qstate.close()


# -- muscles ----------------------------------------------------------------------------------
def test_filter_hides_rows(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    _state, qstate, analysis = env
    panel = MusclePanel(qstate, analysis)
    qtbot.addWidget(panel)
    box = panel.findChild(QLineEdit, "muscleFilter")
    assert len(panel.visible_rows()) == len(analysis.muscles)
    qtbot.keyClicks(box, "ADDUCTOR")  # case-insensitive, display names
    assert sorted(panel.visible_rows()) == ["adductor_brevis", "adductor_longus", "adductor_magnus"]
    assert panel.groups["iliopsoas"].isHidden()
    assert not panel.groups["adductors"].isHidden()
    box.setText("fasciae_l")  # ids match too
    assert panel.visible_rows() == ["tensor_fasciae_latae"]
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter selects the first match
    assert qstate.snapshot.selection == "muscle:tensor_fasciae_latae"
    box.clear()
    assert len(panel.visible_rows()) == len(analysis.muscles)


def test_checkbox_toggles_visibility_and_undo(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = MusclePanel(qstate, analysis)
    qtbot.addWidget(panel)
    item = panel.items["psoas"]
    assert "psoas" in state.snapshot.visible
    item.setCheckState(0, Qt.CheckState.Unchecked)  # what a click on the box does
    assert "psoas" not in state.snapshot.visible
    assert len(state.snapshot.visible) == len(analysis.muscles) - 1
    assert panel.groups["iliopsoas"].checkState(0) == Qt.CheckState.PartiallyChecked
    assert state.undo()
    assert "psoas" in state.snapshot.visible
    assert item.checkState(0) == Qt.CheckState.Checked  # the tree follows the undo
    assert panel.groups["iliopsoas"].checkState(0) == Qt.CheckState.Checked
    assert not state.can_undo()  # one click, one undo step


def test_group_checkbox_is_one_undo_step(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = MusclePanel(qstate, analysis)
    qtbot.addWidget(panel)
    panel.groups["adductors"].setCheckState(0, Qt.CheckState.Unchecked)
    hidden = set(analysis.muscles) - set(state.snapshot.visible)
    assert hidden == set(panel.members["adductors"])
    assert all(panel.items[m].checkState(0) == Qt.CheckState.Unchecked for m in hidden)
    state.undo()
    assert set(state.snapshot.visible) == set(analysis.muscles)
    assert not state.can_undo()


def test_buttons_show_hide_only(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = MusclePanel(qstate, analysis)
    qtbot.addWidget(panel)
    only = panel.findChild(QPushButton, "showOnly")
    assert not only.isEnabled()  # nothing selected
    state.update(selection="muscle:iliacus")
    assert only.isEnabled()
    qtbot.mouseClick(only, Qt.MouseButton.LeftButton)
    assert state.snapshot.visible == ("iliacus",)
    assert panel.items["psoas"].checkState(0) == Qt.CheckState.Unchecked
    qtbot.mouseClick(panel.findChild(QPushButton, "hideAll"), Qt.MouseButton.LeftButton)
    assert state.snapshot.visible == ()
    assert panel.groups["extensors"].checkState(0) == Qt.CheckState.Unchecked
    qtbot.mouseClick(panel.findChild(QPushButton, "showAll"), Qt.MouseButton.LeftButton)
    assert set(state.snapshot.visible) == set(analysis.muscles)


def test_row_selection_follows_state_both_ways(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = _shown(qtbot, MusclePanel(qstate, analysis), 300, 600)
    tree = panel.tree
    tree.scrollToItem(panel.items["gracilis"])
    rect = tree.visualItemRect(panel.items["gracilis"])
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert state.snapshot.selection == "muscle:gracilis"
    state.update(selection="muscle:sartorius")  # e.g. picked in the 3D view
    assert [str(i.data(0, Qt.ItemDataRole.UserRole)) for i in tree.selectedItems()] == ["sartorius"]
    state.update(selection="bone:femur_r")
    assert tree.selectedItems() == []
    assert state.snapshot.selection == "bone:femur_r"  # clearing the rows did not write back


def test_swatches_follow_colour_mode(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = MusclePanel(qstate, analysis)
    qtbot.addWidget(panel)
    item = panel.items["rectus_femoris"]
    assert item.text(1) == ""
    state.set_display(colour_by="activation")
    j = analysis.muscles.index("rectus_femoris")
    assert item.text(1) == f"{100 * analysis.values()['activation'][j]:.0f}%"
    identity = item.icon(0).pixmap(14, 14).toImage().pixelColor(7, 7).name()
    state.set_display(colour_by="fibre_length")
    state.set_pose(hip_flexion=120)
    # rectus femoris is slack high up with the knee straight
    qtbot.waitUntil(lambda: item.text(1) == "slack", timeout=2000)
    slack = item.icon(0).pixmap(14, 14).toImage().pixelColor(7, 7).name()
    assert slack != identity


# -- info card --------------------------------------------------------------------------------
def test_info_card_muscle(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    card = InfoCard(qstate, analysis)
    qtbot.addWidget(card)
    assert HINT in card.toPlainText()
    state.set_pose(hip_flexion=45, knee_flexion=30)
    state.update(selection="muscle:psoas")
    text = card.toPlainText()
    psoas = analysis.model.ctx.anatomy.muscles["psoas"]
    assert psoas.display_name in text
    assert psoas.origin in text
    assert psoas.innervation in text
    v = analysis.muscle_values("psoas")
    assert f"{1000 * v['length']:.0f} mm" in text
    assert f"{1000 * v['moment_arm_hip_flexion']:+.0f} mm (flexor)" in text
    assert f"{v['max_moment_hip_flexion']:.1f} N m" in text
    assert "does not cross the knee" in text
    assert "doi.org/10.1109/TBME.2016.2586891" in card.toHtml()
    # three lines of action, three re-derived tendon slack lengths
    assert card.numbers["Tendon slack length"].count(" mm") == 3


def test_info_card_follows_pose(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    card = InfoCard(qstate, analysis)
    qtbot.addWidget(card)
    state.update(selection="muscle:rectus_femoris")
    before = card.numbers["Normalised fibre length"]
    state.set_pose(hip_flexion=120)
    v = analysis.muscle_values("rectus_femoris")
    assert v["norm_fiber_length"] <= 0
    qtbot.waitUntil(lambda: card.numbers["Normalised fibre length"] != before, timeout=2000)
    assert card.numbers["Normalised fibre length"] == f"{v['norm_fiber_length']:.2f} (slack)"
    assert "knee extensor" in card.numbers["Moment arm, knee flexion"]


def test_bone_card(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    card = InfoCard(qstate, analysis)
    qtbot.addWidget(card)
    state.update(selection="bone:femur_r")
    text = card.toPlainText()
    assert "Right femur" in text
    assert "Iliacus (insertion)" in text
    assert "Psoas major (insertion)" in text
    assert "Rectus femoris" not in text  # crosses the femur, attaches to neither end of it
    anatomy = analysis.model.ctx.anatomy
    tibia = dict(bone_attachments(anatomy, "tibia_r"))
    assert tibia.get("tensor_fasciae_latae") == "insertion"
    assert "gluteus_maximus" not in tibia  # "iliotibial tract" is not the tibia
    assert 'href="hipflex:muscle:iliacus"' in card.toHtml()
    card.anchorClicked.emit(QUrl("hipflex:muscle:iliacus"))  # a click on the muscle's name
    assert state.snapshot.selection == "muscle:iliacus"
    assert analysis.model.ctx.anatomy.muscles["iliacus"].origin in card.toPlainText()
    state.update(selection="bone:sacrum")
    assert "Pelvis and lumbar spine" in card.toPlainText()
    assert "Gluteus maximus (origin)" in card.toPlainText()
    state.update(selection=None)
    assert HINT in card.toPlainText()


# -- explanation ------------------------------------------------------------------------------
def test_explanation_updates_after_pose_change(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = ExplanationPanel(qstate, analysis)
    qtbot.addWidget(panel)
    assert "At 0 deg hip flexion" in panel.toPlainText()
    assert "Caveats" in panel.toPlainText()
    calls = []
    real = analysis.model.explain
    panel.analysis.model.explain = lambda *a, **k: calls.append(a) or real(*a, **k)  # type: ignore[method-assign]
    try:
        for hip in (10, 20, 30, 40, 110):  # a drag: one engine call after it rests
            state.set_pose(hip_flexion=hip, merge="drag")
        qtbot.waitUntil(lambda: "At 110 deg hip flexion" in panel.toPlainText(), timeout=2000)
    finally:
        del panel.analysis.model.explain  # type: ignore[method-assign]
    assert calls == [(110.0, 0.0)]
    caveat = next(s for s in panel.statements if s["quantity"] == "caveat")
    body, _, caveats = panel.toPlainText().partition("Caveats")
    assert str(caveat["text"]) in caveats and str(caveat["text"]) not in body
    assert "adducted" not in body
    # each statement links the muscles it is about; a click selects one
    assert 'href="hipflex:muscle:psoas"' in panel.toHtml()
    panel.anchorClicked.emit(QUrl("hipflex:muscle:psoas"))
    assert state.snapshot.selection == "muscle:psoas"
    # off the sagittal plane the statements are the whole pose's, and the heading names it
    state.set_pose(hip_adduction=10)
    qtbot.waitUntil(lambda: "the hip adducted 10 deg," in panel.toPlainText(), timeout=2000)
    assert "Hip flexion 110° (adducted 10°)" in panel.toPlainText()
    at = panel.analysis.model.at(hip_flexion=110, hip_adduction=10)
    capacity = np.clip(at["max_moment_hip_flexion"][0], 0, None)
    share = capacity[[at.muscles.index("iliacus"), at.muscles.index("psoas")]].sum() / capacity.sum()
    assert f"iliopsoas supplies {100 * share:.0f}% of the summed" in panel.toPlainText()


# -- plots ------------------------------------------------------------------------------------
def _labels(panel: PlotsPanel, kind: str) -> list[str]:
    ax = panel.canvases[kind].figure.axes[0]
    return [
        str(line.get_label()) for line in ax.get_lines() if not line.get_label().startswith("_")
    ]


def test_plot_cursor_follows_pose(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = PlotsPanel(qstate, analysis)
    qtbot.addWidget(panel)
    vline = panel.cursors["moment_arm"].artists[0]  # type: ignore[union-attr]
    assert vline.get_xdata()[0] == pytest.approx(0.0)
    state.set_pose(hip_flexion=77)
    qtbot.waitUntil(lambda: vline.get_xdata()[0] == pytest.approx(77.0), timeout=2000)
    for kind in PLOT_KINDS:
        assert panel.cursors[kind].hip_flexion == pytest.approx(77.0)  # type: ignore[union-attr]


def test_plot_knee_change_redraws_sweep(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = PlotsPanel(qstate, analysis)
    qtbot.addWidget(panel)
    panel.show()  # hidden charts wait until shown
    assert "Knee straight" in panel.legend.text()
    state.set_pose(knee_flexion=90)
    qtbot.waitUntil(lambda: "Knee 90°" in panel.legend.text(), timeout=3000)
    assert not panel.canvases["moment_arm"].dirty
    lines = panel.canvases["moment_arm"].figure.axes[0].get_lines()
    rf = next(ln for ln in lines if ln.get_label() == "Rectus femoris")
    j = analysis.muscles.index("rectus_femoris")
    assert np.allclose(rf.get_ydata(), 1000 * analysis.sweep["moment_arm_hip_flexion"][:, j])


def test_plots_of_a_turned_hip_say_so(qtbot, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Adducted and turned, the charts are the engine's sweep at that pose (they always were) and
    now also say so: the panel's legend line and an exported chart's title name the pose."""
    state, qstate, analysis = env
    panel = PlotsPanel(qstate, analysis)
    qtbot.addWidget(panel)
    panel.show()
    state.set_pose(hip_flexion=100, knee_flexion=90, hip_adduction=15, hip_rotation=20)
    qtbot.waitUntil(lambda: "adducted 15°" in panel.legend.text(), timeout=3000)
    assert "Knee 90°, hip adducted 15° and turned in 20°" in panel.legend.text()
    engine = analysis.model.sweep(panel.data.angles, knee_flexion=90, hip_adduction=15,
                                  hip_rotation=20)  # fmt: skip
    j = analysis.muscles.index("gluteus_medius")
    assert panel.data.column("max_moment_hip_flexion", "gluteus_medius") == pytest.approx(
        engine["max_moment_hip_flexion"][:, j], abs=1e-9)  # fmt: skip
    svg = panel.export("max_moment", tmp_path / "mm.svg").read_text()
    assert "hip adducted 15° and turned in 20°" in svg
    state.set_pose(hip_adduction=0, hip_rotation=0)
    qtbot.waitUntil(lambda: "adducted" not in panel.legend.text(), timeout=3000)
    assert "turned" not in panel.export("max_moment", tmp_path / "flat.svg").read_text()


def test_choosing_plotted_muscles(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = PlotsPanel(qstate, analysis)
    qtbot.addWidget(panel)
    panel.show()
    assert _labels(panel, "moment_arm") == [
        "Iliacus", "Psoas major", "Rectus femoris", "Tensor fasciae latae",
    ]  # fmt: skip
    panel.muscle_actions["psoas"].trigger()  # untick
    panel.muscle_actions["gracilis"].trigger()  # tick
    assert state.snapshot.plotted == ("gracilis", "iliacus", "rectus_femoris", "tensor_fasciae_latae")  # fmt: skip
    qtbot.waitUntil(lambda: "Gracilis" in _labels(panel, "moment_arm"), timeout=3000)
    assert "Psoas major" not in _labels(panel, "moment_arm")
    assert len(_labels(panel, "activation")) == 4
    assert panel.muscle_button.text().startswith("4 muscles")
    state.undo()  # one undo step per tick, and the menu follows the state
    assert state.snapshot.plotted == ("iliacus", "rectus_femoris", "tensor_fasciae_latae")
    assert not panel.muscle_actions["gracilis"].isChecked()
    assert not panel.muscle_actions["psoas"].isChecked()
    assert panel.muscle_actions["iliacus"].isChecked()


def test_plots_draw_pixels_in_every_chart(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    _state, qstate, analysis = env
    panel = _shown(qtbot, PlotsPanel(qstate, analysis), 900, 640)
    image = panel.grab().toImage()
    for kind, canvas in panel.canvases.items():
        r = canvas.geometry()
        assert r.width() > 100 and r.height() > 80, kind
        colours = set()
        for x in range(r.left() + 5, r.right() - 5, 7):
            for y in range(r.top() + 5, r.bottom() - 5, 7):
                c = image.pixelColor(x, y)
                colours.add((c.red() // 16, c.green() // 16, c.blue() // 16))
        # a drawn chart has the white face, black text, grey grid and the muscle colours
        assert len(colours) > 8, (kind, len(colours))
        assert any(abs(r_ - g) > 3 or abs(g - b) > 3 for r_, g, b in colours), kind  # colour


def test_plot_layout_single_and_export(qtbot, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _state, qstate, analysis = env
    panel = PlotsPanel(qstate, analysis)
    qtbot.addWidget(panel)
    panel.show()
    panel.set_layout("activation")
    assert panel.canvases["activation"].isVisible()
    assert not panel.canvases["moment_arm"].isVisible()
    panel.set_layout("grid")
    assert all(c.isVisible() for c in panel.canvases.values())
    out = panel.export("max_moment", tmp_path / "max.svg")
    svg = out.read_text()
    assert "Needed to hold the leg" in svg and "Iliacus" in svg


# -- about ------------------------------------------------------------------------------------
def test_about_dialog_has_attribution(qtbot, model: HipModel) -> None:  # type: ignore[no-untyped-def]
    dlg = AboutDialog(None, model.ctx.pack.attribution)
    qtbot.addWidget(dlg)
    assert dlg.objectName() == "aboutDialog"
    text = " ".join(dlg.text().split())
    for line in ATTRIBUTION.splitlines():
        words = line.strip().lstrip("#").strip()
        if len(words) > 12:
            assert " ".join(words.split()[1:6]) in text, words
    assert "Changes made by HipFlex" in text  # the pack's own part
    # the courtesy note is its own paragraph, not folded into the last numbered source
    doc = dlg.attribution.document()
    block = doc.find("The Visible Human Project images").block()
    assert block.isValid() and block.textList() is None
    assert doc.find("Rajagopal A").block().textList() is not None
    assert dlg.text().startswith(f"HipFlex {hipflex.__version__}")


def test_muscle_menu_stays_open_for_several_picks(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = PlotsPanel(qstate, analysis)
    qtbot.addWidget(panel)
    panel.show()
    menu = panel.muscle_menu
    menu.popup(panel.mapToGlobal(panel.rect().topLeft()))
    qtbot.waitExposed(menu)
    for m in ("gracilis", "sartorius"):
        centre = menu.actionGeometry(panel.muscle_actions[m]).center()
        qtbot.mouseMove(menu, centre)
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=centre)
        assert menu.isVisible(), m
    assert {"gracilis", "sartorius"} <= set(state.snapshot.plotted)
    menu.close()


def _dark_pixels_in_column(canvas, x_data: float) -> int:  # type: ignore[no-untyped-def]
    """Near-black pixels in the canvas column at hip angle ``x_data`` (the dashed cursor)."""
    ax = canvas.figure.axes[0]
    # matplotlib and the grabbed image both count physical pixels (high-DPI safe)
    x = round(ax.transData.transform((x_data, 0.0))[0])
    image = canvas.grab().toImage()
    y0, y1 = ax.bbox.y0, ax.bbox.y1
    h = image.height()
    count = 0
    for y in range(h - int(y1) + 2, h - int(y0) - 2):
        c = image.pixelColor(x, y)
        count += max(c.red(), c.green(), c.blue()) < 0x70
    return count


def test_plot_cursor_is_painted_where_the_pose_is(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = _shown(qtbot, PlotsPanel(qstate, analysis), 900, 640)
    canvas = panel.canvases["activation"]
    qtbot.waitUntil(lambda: canvas._background is not None, timeout=3000)
    before = _dark_pixels_in_column(canvas, 64.0)
    state.set_pose(hip_flexion=64)
    qtbot.waitUntil(lambda: panel.cursors["activation"].hip_flexion == 64.0, timeout=2000)  # type: ignore[union-attr]
    after = _dark_pixels_in_column(canvas, 64.0)
    assert after > before + 30, (before, after)  # the dashed line, blitted over the background
    assert _dark_pixels_in_column(canvas, 0.0) < after  # and gone from the old place


def test_real_click_on_check_box(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    """A mouse click on a row's box hides that muscle (one undo step) and selects nothing."""
    state, qstate, analysis = env
    panel = _shown(qtbot, MusclePanel(qstate, analysis), 300, 600)
    tree = panel.tree
    item = panel.items["psoas"]
    opt = QStyleOptionViewItem()
    tree.initViewItemOption(opt)
    opt.rect = tree.visualItemRect(item)
    opt.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, opt, tree)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=box.center())
    assert "psoas" not in state.snapshot.visible
    assert state.snapshot.selection is None
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=box.center())
    assert "psoas" in state.snapshot.visible
    state.undo()
    assert "psoas" not in state.snapshot.visible  # each click was its own undo step


def test_explanation_stays_live_during_playback(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    """Pose changes every 30 ms (playback) never let the debounce fire; the cap still does."""
    state, qstate, analysis = env
    panel = ExplanationPanel(qstate, analysis)
    qtbot.addWidget(panel)
    seen = set()
    for n in range(25):  # 0.75 s of playback
        state.set_pose(hip_flexion=float(n), merge="play")
        qtbot.wait(30)
        seen.add(panel.toPlainText().partition(" deg hip flexion")[0])
    assert len(seen) >= 2, seen  # the text moved on while the pose kept changing
    qtbot.waitUntil(lambda: "At 24 deg hip flexion" in panel.toPlainText(), timeout=2000)


def test_info_card_keeps_place_on_pose_change_not_on_new_selection(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    card = InfoCard(qstate, analysis)
    qtbot.addWidget(card)
    card.resize(260, 200)
    card.show()
    state.update(selection="muscle:rectus_femoris")
    bar = card.verticalScrollBar()
    assert bar.maximum() > 100
    bar.setValue(bar.maximum() // 2)  # scrolled down to the numbers
    state.set_pose(hip_flexion=50)
    qtbot.waitUntil(lambda: "hip 50°" in card.toPlainText(), timeout=2000)
    assert bar.value() == bar.maximum() // 2 or abs(bar.value() - bar.maximum() // 2) < 20
    state.update(selection="muscle:psoas")
    assert bar.value() == 0


def test_plots_panel_fits_its_dock(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    _state, qstate, analysis = env
    dock = QWidget()  # stands in for a dock: sets the panel's geometry directly
    qtbot.addWidget(dock)
    dock.resize(1400, 1100)
    panel = PlotsPanel(qstate, analysis, dock)
    dock.show()
    qtbot.waitExposed(dock)
    panel.setGeometry(0, 0, 1366, 190)  # a bottom dock: four in a row, legend in the top row
    qtbot.waitUntil(lambda: len({c.geometry().top() for c in panel.canvases.values()}) == 1)
    assert panel.legend.geometry().top() < panel.muscle_button.geometry().bottom()
    # too short for the axis label: the legend row says it
    qtbot.waitUntil(lambda: panel.canvases["moment_arm"].figure.axes[0].get_xlabel() == "")
    assert "hip flexion" in panel.legend.text()
    assert panel.canvases["fibre_length"].figure.axes[0].get_xlabel() != ""  # not hip flexion
    panel.setGeometry(0, 0, 360, 1000)  # a tall, narrow dock: one column
    qtbot.waitUntil(lambda: len({c.geometry().left() for c in panel.canvases.values()}) == 1)
    assert panel.legend.geometry().top() > panel.muscle_button.geometry().bottom()
    qtbot.waitUntil(lambda: panel.canvases["moment_arm"].figure.axes[0].get_xlabel() != "")


def test_plots_with_no_muscles_chosen(qtbot, env) -> None:  # type: ignore[no-untyped-def]
    state, qstate, analysis = env
    panel = PlotsPanel(qstate, analysis)
    qtbot.addWidget(panel)
    panel.show()
    none = next(a for a in panel.muscle_menu.actions() if a.text() == "None")
    none.trigger()
    assert state.snapshot.plotted == ()
    qtbot.waitUntil(lambda: _labels(panel, "moment_arm") == [], timeout=3000)
    assert panel.muscle_button.text().startswith("none")
    state.set_pose(hip_flexion=30)  # cursors still move
    qtbot.waitUntil(lambda: panel.cursors["max_moment"].hip_flexion == 30.0, timeout=2000)  # type: ignore[union-attr]
