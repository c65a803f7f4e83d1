"""Media exports read back: PNG size, alpha, text chunks and DPI; handout pages, paper size, text
and figure regions; video frame count, rate and size; --force, unwritable folders, a full disk
and cancelling never leave a file behind."""

from __future__ import annotations

import errno
import os
import re
import subprocess
from pathlib import Path

import imageio
import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from hipflex.cli import main
from hipflex.errors import HipFlexError
from hipflex.media.jobs import ExportCancelledError
from hipflex.media.motion import flexion_sweep, knee_drive, motion_frames
from hipflex.media.still import print_size_to_pixels


def _ink(img: np.ndarray) -> np.ndarray:
    return np.any(np.asarray(img)[..., :3] < 235, axis=-1)


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def model(real_pack: object):  # type: ignore[no-untyped-def]
    from hipflex.model.hipmodel import load_model

    return load_model()


# -- motions ----------------------------------------------------------------------------------------
def test_sweep_starts_and_stops_with_the_motion() -> None:
    hip, knee = flexion_sweep(61, -20, 130, knee_flexion=30)
    assert hip[0] == pytest.approx(-20) and hip[-1] == pytest.approx(130)
    assert np.all(np.diff(hip) >= 0) and np.all(knee == 30)
    step = np.diff(hip)
    assert step[0] < 0.1 * step.max() and step[-1] < 0.1 * step.max(), "no ease in/out"


def test_knee_drive_cycle_is_a_sprint_stride() -> None:
    hip, knee = knee_drive(120)
    assert hip.min() == pytest.approx(-10, abs=3)  # toe-off in hip extension
    assert 65 <= hip.max() <= 85  # peak thigh flexion
    assert 115 <= knee.max() <= 135  # heel to buttock in swing
    assert knee[np.argmax(hip)] > 60  # the knee is still folded at peak thigh flexion
    # periodic: the step from the last frame back to the first is an ordinary step
    assert abs(hip[0] - hip[-1]) < 2 * np.abs(np.diff(hip)).max()
    with pytest.raises(HipFlexError):
        motion_frames("moonwalk", 10)


# -- stills -----------------------------------------------------------------------------------------
def test_print_size_to_pixels() -> None:
    assert print_size_to_pixels(180, 120, 300) == (2126, 1417)
    with pytest.raises(HipFlexError, match="8000"):
        print_size_to_pixels(1000, 100, 300)


def test_render_print_size_with_title_labels_and_metadata(
    real_pack: object, tmp_path: Path
) -> None:
    out = tmp_path / "hip.png"
    assert main(["render", "--hip", "110", "--print-size", "40x30mm", "--dpi", "300", "--labels",
                 "--title", "Hip at 110", "--caption", "lateral view", "--draft",
                 "--muscles", "iliacus,psoas,rectus_femoris", "-o", str(out)]) == 0  # fmt: skip
    img = Image.open(out)
    assert img.size == (472, 354)
    assert img.info["dpi"][0] == pytest.approx(300, abs=0.5)
    assert img.text["Software"] == "HipFlex"  # type: ignore[attr-defined]
    assert "Visible Human" in img.text["Copyright"]  # type: ignore[attr-defined]
    assert "hip flexion 110" in img.text["Description"]  # type: ignore[attr-defined]
    ink = _ink(np.asarray(img.convert("RGB")))
    assert ink[: int(0.1 * 354)].mean() > 0.01, "no title at the top"
    assert ink[int(0.2 * 354) : int(0.8 * 354)].mean() > 0.05, "the view is blank"


def _lever_red(a: np.ndarray) -> np.ndarray:
    """Where an image is the moment-arm lever's red."""
    a = np.asarray(a)[..., :3].astype(int)
    return (a[..., 0] > 170) & (a[..., 1] < 70) & (a[..., 2] < 70)


def test_still_draws_the_lever_caption_clear_of_the_labels(model: object) -> None:
    """With every muscle labelled, the selected muscle's moment-arm caption is drawn by the
    still (not baked into the 3D pixels, where the labels' leaders ran through it), in a place
    no leader line crosses and no label covers, framed in the lever's red."""
    from hipflex.media.still import OffscreenView, draw_callout, draw_labels
    from hipflex.scene.layout import boxes_overlap, segment_crosses_box
    from hipflex.state import Camera, Display, Pose, Snapshot

    ids = tuple(model.muscles)  # type: ignore[attr-defined]
    snap = Snapshot(pose=Pose(hip_flexion=110), visible=ids, selection="muscle:psoas",
                    display=Display(muscle_style="tube", labels=True),
                    camera=Camera(view="lateral"))  # fmt: skip
    with OffscreenView((800, 500), model=model, level="interactive") as view:  # type: ignore[arg-type]
        plain = view.render(snap, anchors=False)
        vi = view.render(snap, anchors=True)
    assert plain.callout is None and vi.callout is not None
    text, at = vi.callout
    res = model.at(hip_flexion=110)  # type: ignore[attr-defined]
    arm = float(res.muscle("psoas")["moment_arm_hip_flexion"][0])
    assert text == f"Psoas major: moment arm {1000 * arm:+.0f} mm (flexor)"

    # the lever stays in the 3D pixels, its caption (text and frame) leaves them
    assert 0 < _lever_red(vi.rgba).sum() < _lever_red(plain.rgba).sum() - 200
    img = Image.fromarray(vi.rgba, "RGBA")
    segments, boxes = draw_labels(img, vi.anchors, 14.0)
    assert len(segments) >= 17
    box = draw_callout(img, text, at, 14.0, segments, boxes, (0.0, 500.0))
    assert not any(segment_crosses_box(s, box) for s in segments)
    assert not any(boxes_overlap(b, box) for b in boxes)
    assert box[0] >= 0 and box[2] <= 800 and box[1] >= 0 and box[3] <= 500
    rows = np.asarray(img)[int(box[1]) - 1 : int(box[1]) + 2, round(box[0]) + 2 : round(box[2]) - 2]
    assert _lever_red(rows).any(axis=0).mean() > 0.9, "the frame is not in the lever's colour"


def test_still_draws_no_lever_for_a_hidden_selection(model: object) -> None:
    """A selected muscle that is hidden gets no lever and no caption: they would point at a line
    the picture does not show (a session selecting rectus femoris, showing sartorius alone)."""
    from hipflex.media.still import OffscreenView
    from hipflex.state import Camera, Display, Pose, Snapshot

    def snap(visible: tuple[str, ...]) -> Snapshot:
        return Snapshot(pose=Pose(hip_flexion=60), visible=visible,
                        selection="muscle:rectus_femoris", display=Display(muscle_style="line"),
                        camera=Camera(view="lateral"))  # fmt: skip

    with OffscreenView((600, 400), model=model, level="interactive") as view:  # type: ignore[arg-type]
        shown = view.render(snap(("rectus_femoris", "sartorius")), anchors=True)
        hidden = view.render(snap(("sartorius",)), anchors=True)
    assert shown.callout is not None and _lever_red(shown.rgba).sum() > 20
    assert hidden.callout is None and _lever_red(hidden.rgba).sum() == 0


def test_render_transparent_keeps_alpha(real_pack: object, tmp_path: Path) -> None:
    out = tmp_path / "t.png"
    assert main(["render", "--hip", "60", "--size", "200x150", "--transparent", "--draft",
                 "--title", "T", "-o", str(out)]) == 0  # fmt: skip
    img = Image.open(out)
    alpha = np.asarray(img)[..., 3]
    assert img.mode == "RGBA" and alpha.min() == 0 and alpha.max() == 255
    assert (alpha[:, :10] == 0).mean() > 0.9, "the background is not transparent"


def test_render_series_and_contact_sheet(real_pack: object, tmp_path: Path) -> None:
    out = tmp_path / "pose.png"
    assert main(["render", "--hip", "0,60", "--size", "160x120", "--draft", "-o", str(out)]) == 0
    assert _only(tmp_path) == ["pose_hip000.png", "pose_hip060.png"]
    a, b = (np.asarray(Image.open(tmp_path / n).convert("RGB")) for n in _only(tmp_path))
    assert a.shape == (120, 160, 3) and np.any(a != b), "the poses look the same"
    sheet = tmp_path / "sheet.png"
    assert main(["render", "--hip", "0,60,110", "--sheet", "--size", "480x200", "--draft",
                 "--title", "Sweep", "-o", str(sheet)]) == 0  # fmt: skip
    img = np.asarray(Image.open(sheet).convert("RGB"))
    assert img.shape == (200, 480, 3)
    for k in range(3):  # a view in each third
        assert _ink(img[40:170, k * 160 : (k + 1) * 160]).mean() > 0.03


def test_render_from_a_session(real_pack: object, tmp_path: Path) -> None:
    from hipflex.state import Camera, Display, Pose, Snapshot, save_session

    snap = Snapshot(pose=Pose(hip_flexion=90, knee_flexion=90), visible=("psoas",),
                    display=Display(muscle_style="tube"), camera=Camera(view="anterior"))  # fmt: skip
    save_session(tmp_path / "s.json", snap)
    out = tmp_path / "s.png"
    assert main(["render", "--session", str(tmp_path / "s.json"), "--size", "120x90", "--draft",
                 "-o", str(out)]) == 0  # fmt: skip
    img = Image.open(out)
    assert img.size == (120, 90)
    assert "hip flexion 90 deg, knee flexion 90 deg, anterior view" in img.text["Description"]  # type: ignore[attr-defined]


def test_render_keeps_or_overrides_a_sessions_adduction_and_rotation(
    real_pack: object, tmp_path: Path
) -> None:
    """A session's turned hip is kept unless --adduction/--rotation say otherwise, and the PNG's
    description names it (it used to give only hip and knee flexion)."""
    from hipflex.state import Pose, Snapshot, save_session

    save_session(tmp_path / "s.json", Snapshot(pose=Pose(hip_flexion=60, hip_adduction=15,
                                                         hip_rotation=20)))  # fmt: skip
    base = ["render", "--session", str(tmp_path / "s.json"), "--size", "120x90", "--draft"]
    kept, moved, flat = (tmp_path / f"{n}.png" for n in ("kept", "moved", "flat"))
    assert main([*base, "-o", str(kept)]) == 0
    assert main([*base, "--rotation", "-30", "-o", str(moved)]) == 0
    assert main(["render", "--hip", "60", "--size", "120x90", "--draft", "-o", str(flat)]) == 0
    said = {p.stem: Image.open(p).text["Description"] for p in (kept, moved, flat)}  # type: ignore[attr-defined]
    assert "hip adducted 15 deg and turned in 20 deg" in said["kept"]
    assert "hip adducted 15 deg and turned out 30 deg" in said["moved"]
    assert "adducted" not in said["flat"] and "turned" not in said["flat"]
    pixels = [np.asarray(Image.open(p).convert("RGB")) for p in (kept, moved, flat)]
    assert np.any(pixels[0] != pixels[1]) and np.any(pixels[0] != pixels[2])
    sheet = tmp_path / "sheet.png"
    assert main([*base, "--hip", "0,60", "--sheet", "-o", str(sheet)]) == 0
    assert "hip adducted 15 deg and turned in 20 deg" in Image.open(sheet).text["Description"]  # type: ignore[attr-defined]


def test_render_never_overwrites_without_force(
    real_pack: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.png"
    out.write_bytes(b"keep me")
    args = ["render", "--size", "64x48", "--draft", "-o", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--force" in err[0]
    assert out.read_bytes() == b"keep me"
    assert main([*args, "--force"]) == 0
    assert Image.open(out).size == (64, 48)


@pytest.mark.parametrize(("code", "needle"), [(errno.ENOSPC, "No space left"),
                                              (errno.EACCES, "Permission denied")])  # fmt: skip
def test_full_disk_or_unwritable_folder_leaves_nothing(
    real_pack: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    needle: str,
) -> None:
    def fail(*a: object, **k: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "replace", fail)
    out = tmp_path / "x.png"
    assert main(["render", "--size", "64x48", "--draft", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert _only(tmp_path) == [], "a temporary or partial file was left behind"


def test_unwritable_folder_from_mkstemp(
    real_pack: object, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import tempfile

    def refuse(*a: object, **k: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    out = tmp_path / "v.gif"
    assert main(["video", "--seconds", "0.2", "--fps", "10", "--size", "64x48", "-q",
                 "-o", str(out)]) == 2  # fmt: skip
    assert "cannot write here" in capsys.readouterr().err
    assert _only(tmp_path) == []


# -- handout ----------------------------------------------------------------------------------------
def _pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {
        k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in out.splitlines() if ":" in ln)
    }


def test_handout_pdf(model: object, tmp_path: Path) -> None:
    from hipflex.media.handout import make_handout

    steps: list[float] = []
    path = make_handout(tmp_path / "h.pdf", title="Hip flexion for coaches", model=model,  # type: ignore[arg-type]
                        progress=lambda f, m: steps.append(f))  # fmt: skip
    assert steps[0] == 0 and steps[-1] == 1 and steps == sorted(steps)
    info = _pdfinfo(path)
    assert info["Pages"] in ("1", "2")
    w, h = (float(v) for v in re.findall(r"[\d.]+", info["Page size"])[:2])
    assert (round(w), round(h)) == (595, 842)  # A4 in points
    assert info["Title"] == "Hip flexion for coaches" and info["Author"] == "HipFlex"
    assert "Visible Human" in info["Keywords"] and info["Subject"]
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    flat = " ".join(text.split())
    assert "Hip flexion for coaches" in flat
    assert "iliopsoas supplies" in flat  # the engine's explanation, as text
    assert "Rigid tendons" in flat  # the caveats
    assert "Visible Human" in flat and "Rajagopal" in flat  # attribution and sources
    assert "110° hip flexion" in flat
    # page 1 rendered: the views across the top third, the chart below them
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(path),
                    str(tmp_path / "p")], check=True)  # fmt: skip
    page = np.asarray(Image.open(next(tmp_path.glob("p*.png"))).convert("RGB"))
    ph, pw = page.shape[:2]
    views = page[int(0.11 * ph) : int(0.30 * ph)]
    for k in range(3):
        third = views[:, int(pw * (0.08 + 0.29 * k)) : int(pw * (0.08 + 0.29 * (k + 1)))]
        assert _ink(third).mean() > 0.04, f"view {k + 1} is missing"
    chart = page[int(0.40 * ph) : int(0.62 * ph), int(0.1 * pw) : int(0.7 * pw)]
    coloured = (chart.max(axis=-1).astype(int) - chart.min(axis=-1)) > 60
    assert coloured.mean() > 0.15, "the stacked chart is missing"


def test_handout_letter_one_pose_activation_colours(model: object, tmp_path: Path) -> None:
    from hipflex.media.handout import make_handout

    path = make_handout(tmp_path / "l.pdf", poses=(90,), knee_flexion=90, paper="letter",
                        colour_by="activation", muscles=["iliacus", "psoas", "rectus_femoris"],
                        model=model)  # type: ignore[arg-type]  # fmt: skip
    info = _pdfinfo(path)
    w, h = (float(v) for v in re.findall(r"[\d.]+", info["Page size"])[:2])
    assert (round(w), round(h)) == (612, 792)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "Activation (hold task)" in text and "knee flexed 90°" in " ".join(text.split())


def test_handout_of_an_adducted_turned_hip(model: object, tmp_path: Path) -> None:
    """Every pose of a handout can be turned out of the sagittal plane alike: the page says so,
    and its statements are the engine's at that pose (not the sagittal plane's)."""
    from hipflex.model.explain import without_caveats

    out = tmp_path / "t.pdf"
    assert main(["handout", "--poses", "110", "--adduction", "15", "--rotation", "20", "-q",
                 "--muscles", "iliacus,psoas", "-o", str(out)]) == 0  # fmt: skip
    flat = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())  # fmt: skip
    assert "knee straight, hip adducted 15° and turned in 20°" in flat
    turned = without_caveats(model.explain(110, 0, hip_adduction=15, hip_rotation=20), [])  # type: ignore[attr-defined]
    sagittal = without_caveats(model.explain(110, 0), [])  # type: ignore[attr-defined]
    first = " ".join(str(turned[0]["text"]).split())
    assert first != " ".join(str(sagittal[0]["text"]).split())
    assert first in flat
    assert "knee straight, hip adducted 15 deg and turned in 20 deg" in _pdfinfo(out)["Subject"]
    code = main(["handout", "--lesson", "knee_lift", "--adduction", "10", "-o",
                 str(tmp_path / "l.pdf")])  # fmt: skip
    assert code == 2 and not (tmp_path / "l.pdf").exists()


def test_handout_cancel_and_force(model: object, tmp_path: Path) -> None:
    from hipflex.media.handout import make_handout

    calls = iter(range(100))
    with pytest.raises(ExportCancelledError):
        make_handout(tmp_path / "c.pdf", model=model, cancel=lambda: next(calls) >= 2)  # type: ignore[arg-type]
    assert _only(tmp_path) == []
    (tmp_path / "c.pdf").write_bytes(b"mine")
    with pytest.raises(HipFlexError, match="--force"):
        make_handout(tmp_path / "c.pdf", model=model)  # type: ignore[arg-type]
    assert (tmp_path / "c.pdf").read_bytes() == b"mine"


# -- video ------------------------------------------------------------------------------------------
def _ffmpeg_info(path: Path) -> str:
    run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True)  # fmt: skip
    return run.stderr


def test_mp4_frames_rate_size_and_attribution(model: object, tmp_path: Path) -> None:
    from hipflex.media.video import make_video

    path = make_video(tmp_path / "s.mp4", seconds=0.6, fps=10, size=(161, 120), start=0, stop=90,
                      model=model)  # type: ignore[arg-type]  # fmt: skip
    reader = imageio.get_reader(path, "ffmpeg")
    meta = reader.get_meta_data()
    assert meta["fps"] == pytest.approx(10)
    assert tuple(meta["size"]) == (160, 120)  # even width for yuv420p
    assert reader.count_frames() == 6  # type: ignore[attr-defined]
    first, last = reader.get_data(0), reader.get_data(5)
    reader.close()
    assert _ink(first).mean() > 0.03 and np.abs(first.astype(int) - last).mean() > 2
    info = _ffmpeg_info(path)
    assert "h264" in info and "yuv420p" in info and "Visible Human" in info
    assert [p.name for p in tmp_path.iterdir()] == ["s.mp4"]


def test_gif_knee_drive_via_cli(real_pack: object, tmp_path: Path) -> None:
    out = tmp_path / "k.gif"
    assert main(["video", "--motion", "knee-drive", "--seconds", "0.5", "--fps", "10",
                 "--size", "96x72", "-q", "-o", str(out)]) == 0  # fmt: skip
    gif = Image.open(out)
    assert gif.n_frames == 5 and gif.size == (96, 72)  # type: ignore[attr-defined]
    assert gif.info["duration"] == 100
    assert b"Visible Human" in gif.info["comment"]


def test_video_cancel_leaves_nothing(model: object, tmp_path: Path) -> None:
    from hipflex.media.video import make_video

    calls = iter(range(100))
    with pytest.raises(ExportCancelledError):
        make_video(tmp_path / "c.mp4", seconds=1, fps=10, size=(96, 72), model=model,  # type: ignore[arg-type]
                   cancel=lambda: next(calls) >= 4)  # fmt: skip
    assert _only(tmp_path) == []
