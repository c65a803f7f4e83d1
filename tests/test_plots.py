"""Engine charts: each kind draws, the cursor moves in place, exports keep text and attribution."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from hipflex.cli import main
from hipflex.errors import HipFlexError
from hipflex.plots import PLOT_KINDS, PlotData, draw, figure, save_figure

FLEXORS = ["iliacus", "psoas", "rectus_femoris", "tensor_fasciae_latae"]


@pytest.fixture(scope="module")
def data(real_pack: object) -> PlotData:
    from hipflex.model.hipmodel import load_model

    return PlotData.from_model(load_model(), knee_flexion=0.0)


def test_plot_data_is_one_sweep(data: PlotData) -> None:
    assert data.angles[0] == -20 and data.angles[-1] == 130 and len(data.angles) == 151
    assert data.result["max_moment_hip_flexion"].shape == (151, len(data.names))
    assert data.required_moment.shape == (151,)
    assert data.names["psoas"] == "Psoas major" and data.colours["psoas"].startswith("#")
    assert "Visible Human" in data.attribution


@pytest.mark.parametrize("kind", PLOT_KINDS)
def test_each_kind_draws_and_its_cursor_moves_in_place(data: PlotData, kind: str) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    cursor = draw(ax, kind, data, FLEXORS, hip_flexion=30.0)
    assert ax.get_xlabel() and ax.get_ylabel()
    assert "(" in ax.get_xlabel() or "/" in ax.get_xlabel(), "axis label without units"
    before = [id(a) for a in cursor.artists]
    artists = cursor.move(100.0)
    assert [id(a) for a in artists] == before, "move() must update, not replace, its artists"
    assert all(a.get_visible() for a in artists)
    lines = [a for a in artists if isinstance(a, Line2D) and a.get_linestyle() == "--"]
    for line in lines:  # the vertical cursor line
        assert np.allclose(np.asarray(line.get_xdata(), float), 100.0)
    fig.canvas.draw()  # draws without error after the move


def test_moment_arm_markers_sit_on_the_curves(data: PlotData) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    cursor = draw(ax, "moment_arm", data, ["psoas"], hip_flexion=60.0)
    dots = next(a for a in cursor.artists if hasattr(a, "get_offsets"))
    y = float(np.asarray(dots.get_offsets())[0, 1])
    assert y == pytest.approx(1000 * data.at("moment_arm_hip_flexion", "psoas", 60.0))


def test_fibre_length_shows_slack_distinctly(data: PlotData) -> None:
    """At 110 deg with the knee straight rectus femoris is slack: a cross at x <= 0."""
    fig = Figure()
    ax = fig.add_subplot()
    cursor = draw(ax, "fibre_length", data, ["rectus_femoris", "psoas"], hip_flexion=110.0)
    rf, psoas = cursor.artists[0], cursor.artists[1]
    assert isinstance(rf, Line2D) and isinstance(psoas, Line2D)
    assert rf.get_marker() == "X" and float(np.asarray(rf.get_xdata())[0]) <= 0
    assert psoas.get_marker() == "o" and float(np.asarray(psoas.get_xdata())[0]) > 0
    # the force-length curve itself is drawn
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "Active force-length curve" in labels


def test_max_moment_stacks_flexor_capacity_and_draws_the_hold_line(data: PlotData) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    draw(ax, "max_moment", data, FLEXORS, hip_flexion=60.0)
    stacks = [c for c in ax.collections if c.get_gid() == "stack"]
    assert len(stacks) == len(FLEXORS) + 1  # plus "Other muscles"
    top = max(float(np.asarray(p.vertices)[:, 1].max()) for c in stacks for p in c.get_paths())
    total = np.clip(data.result["max_moment_hip_flexion"], 0, None).sum(axis=1).max()
    assert top == pytest.approx(total, rel=1e-6)
    assert any(ln.get_label() == "Needed to hold the leg" for ln in ax.get_lines())


def test_a_knee_drive_is_named_in_the_charts(real_pack: object) -> None:
    """With a knee drive the needed-moment line and the activation title say so, and the line
    is the engine's required moment for that drive, not the hold's."""
    from hipflex.model.hipmodel import load_model
    from hipflex.plots.charts import chart_title

    model = load_model()
    drive = PlotData.from_model(model, knee_flexion=90.0, hip_acceleration=40.0)
    hold = PlotData.from_model(model, knee_flexion=90.0)
    assert np.all(drive.required_moment > hold.required_moment)
    fig = Figure()
    ax = fig.add_subplot()
    draw(ax, "max_moment", drive, FLEXORS, hip_flexion=60.0)
    needed = [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("Needed to")]
    assert [str(ln.get_label()) for ln in needed] == ["Needed to drive the knee up at 40 rad/s\u00b2"]
    assert np.asarray(needed[0].get_ydata()) == pytest.approx(np.clip(drive.required_moment, 0, None))
    assert "drive the knee up at 40" in chart_title("activation", drive)
    assert chart_title("activation", hold).startswith("Activation to hold the leg still")
    # where the muscles fall short, the band says which task they cannot do (a sprinter's drive
    # with the knee at 110 deg: more than these flexors give at any angle; a 250 kg subject's
    # straight leg held above 60 deg)
    heavy = load_model(body_mass=250.0, height=2.4)
    for task, words in ((PlotData.from_model(model, knee_flexion=110.0, hip_acceleration=179.8),
                         "cannot drive (out of reach)"),
                        (PlotData.from_model(heavy, knee_flexion=0.0), "cannot hold (out of reach)")):  # fmt: skip
        ax = Figure().add_subplot()
        draw(ax, "activation", task, FLEXORS, hip_flexion=20.0)
        assert words in [str(a.get_label()) for a in ax.collections], words


def test_unknown_kind_or_muscle_is_a_clear_error(data: PlotData) -> None:
    ax = Figure().add_subplot()
    with pytest.raises(HipFlexError, match="unknown plot kind"):
        draw(ax, "nosuch", data, FLEXORS)
    with pytest.raises(HipFlexError, match="unknown muscle"):
        draw(ax, "moment_arm", data, ["nosuch"])


def test_svg_pdf_png_keep_text_and_attribution(data: PlotData, tmp_path: Path) -> None:
    fig = figure("max_moment", data, FLEXORS, hip_flexion=60.0)
    svg = save_figure(fig, tmp_path / "c.svg").read_text()
    assert "<text" in svg and "Hip flexion" in svg, "SVG text must stay text"
    assert "Visible Human" in svg  # <dc:rights>
    pdf = save_figure(fig, tmp_path / "c.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert "Hip flexion" in text.stdout and "Psoas major" in text.stdout
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "HipFlex" in info.stdout and "Visible Human" in info.stdout
    png = Image.open(save_figure(fig, tmp_path / "c.png", dpi=100))
    assert png.size == (640, 400)
    assert "Visible Human" in png.text["Copyright"]  # type: ignore[attr-defined]


def test_save_refuses_to_overwrite_without_force(data: PlotData, tmp_path: Path) -> None:
    fig = figure("activation", data, FLEXORS)
    path = save_figure(fig, tmp_path / "a.png", dpi=50)
    before = path.read_bytes()
    with pytest.raises(HipFlexError, match="--force"):
        save_figure(fig, path)
    assert path.read_bytes() == before
    save_figure(fig, path, force=True, dpi=60)
    assert path.read_bytes() != before
    with pytest.raises(HipFlexError, match="unknown figure format"):
        save_figure(fig, tmp_path / "a.jpg")


def test_cli_plot(real_pack: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fl.svg"
    assert main(["plot", "--kind", "fibre_length", "--knee", "90", "--hip", "110",
                 "--muscles", "rectus_femoris,psoas", "-o", str(out)]) == 0  # fmt: skip
    assert "Rectus femoris" in out.read_text()
    assert main(["plot", "--kind", "fibre_length", "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err


def test_an_adducted_turned_sweep_is_drawn_and_named_as_such(
    real_pack: object, tmp_path: Path
) -> None:
    """Charts off the sagittal plane sweep the engine at the pose's adduction and rotation, and
    their titles say so (a chart saved alone must not pass for the sagittal one); the plot
    command takes the same angles."""
    from hipflex.model.hipmodel import load_model
    from hipflex.plots.charts import chart_title

    model = load_model()
    turned = PlotData.from_model(model, knee_flexion=90.0, hip_adduction=15.0, hip_rotation=20.0)
    flat = PlotData.from_model(model, knee_flexion=90.0)
    engine = model.sweep(turned.angles, knee_flexion=90.0, hip_adduction=15.0, hip_rotation=20.0)
    got = turned.result["max_moment_hip_flexion"]
    assert got == pytest.approx(engine["max_moment_hip_flexion"], abs=1e-9)
    assert not np.allclose(got, flat.result["max_moment_hip_flexion"], atol=1.0)
    assert turned.required_moment == pytest.approx(engine.required_moment, abs=1e-9)
    title = chart_title("max_moment", turned)
    assert title.endswith("(knee flexed 90°; hip adducted 15° and turned in 20°)")
    assert chart_title("max_moment", flat).endswith(" (knee flexed 90°)")  # one line, as before
    out = tmp_path / "mm.svg"
    assert main(["plot", "--kind", "max_moment", "--knee", "90", "--adduction", "-10",
                 "--rotation", "-25", "-o", str(out)]) == 0  # fmt: skip
    svg = out.read_text()
    assert "abducted 10° and turned out 25°" in svg
    assert main(["plot", "--kind", "max_moment", "--adduction", "45", "-o", str(out),
                 "--force"]) == 2  # fmt: skip
