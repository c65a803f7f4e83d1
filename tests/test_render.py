"""Offscreen render: right size, not blank, bone where bone should be, attribution embedded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hipflex.cli import main
from hipflex.media.still import at_pose, render_still, write_png
from hipflex.state import Camera, Snapshot


def render_png(path: Path, hip: float, knee: float, view: str = "lateral",
               size: tuple[int, int] = (320, 240), transparent: bool = False,
               muscles: list[str] | None = None) -> Path:  # fmt: skip
    """One still through the media layer (interactive meshes: these tests check geometry)."""
    snap = at_pose(Snapshot(visible=tuple(muscles or ()), camera=Camera(view=view)),  # type: ignore[arg-type]
                   hip_flexion=hip, knee_flexion=knee)  # fmt: skip
    rgba = render_still(snap, size, transparent=transparent, level="interactive")
    return write_png(path, rgba, "test", force=True)


def _ink(img: np.ndarray) -> np.ndarray:
    """Pixels that differ from the white background."""
    return np.any(img[..., :3] < 235, axis=-1)


def test_lateral_render_shows_bone(real_pack: object, tmp_path: Path) -> None:
    out = render_png(tmp_path / "hip.png", hip=0.0, knee=0.0, view="anterior", size=(400, 300),
                     muscles=[])  # fmt: skip
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (300, 400, 3)
    ink = _ink(img)
    assert ink.mean() > 0.03, "render is blank"
    # Bones only, anterior view, standing: the leg hangs below the pelvis, so the lower half of
    # the picture holds a narrow vertical band of bone near the right hip (image left of centre).
    cols = np.flatnonzero(ink[200:].any(axis=0))
    assert cols.size and cols.mean() < 200, "femur/tibia not on the subject's right (image left)"
    ivory = (img[..., 0] > 150) & (img[..., 0] > img[..., 2] + 5) & ink
    assert ivory.mean() > 0.02, "no bone-coloured pixels"


def test_flexion_moves_the_leg_forward(real_pack: object, tmp_path: Path) -> None:
    a = np.asarray(
        Image.open(render_png(tmp_path / "a.png", 0, 0, "lateral", (320, 240), muscles=[]))
    )
    b = np.asarray(
        Image.open(render_png(tmp_path / "b.png", 110, 0, "lateral", (320, 240), muscles=[]))
    )
    # lateral view of the right side: anterior is image right; a flexed femur fills the right half
    assert _ink(b)[:, 200:].mean() > _ink(a)[:, 200:].mean() + 0.02


def test_muscles_change_pixels_and_png_has_attribution(real_pack: object, tmp_path: Path) -> None:
    bones = np.asarray(
        Image.open(render_png(tmp_path / "b.png", 0, 0, "lateral", (320, 240), muscles=[]))
    )
    path = render_png(
        tmp_path / "m.png", 0, 0, "lateral", (320, 240), muscles=["iliacus", "gluteus_maximus"]
    )
    with_m = Image.open(path)
    assert "Visible Human" in with_m.text["Copyright"]
    diff = np.any(np.asarray(with_m)[..., :3] != bones[..., :3], axis=-1)
    assert diff.mean() > 0.01


def test_transparent_background(real_pack: object, tmp_path: Path) -> None:
    img = Image.open(render_png(tmp_path / "t.png", 60, 30, "oblique", (200, 160), transparent=True,
                                muscles=["psoas"]))  # fmt: skip
    alpha = np.asarray(img)[..., 3]
    assert img.mode == "RGBA" and alpha.min() == 0 and alpha.max() == 255


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--hip", "200"], "outside the explorer's range -20..130 deg; beyond it"),
        (["--hip", "-25"], "hip flexion -25 deg is outside the explorer's range"),
        (["--hip", "nan"], "not a finite number"),
        (["--muscles", "nosuch"], "unknown muscle id"),
        (["--size", "9000x10"], "16..8000"),
    ],
)
def test_render_bad_input_is_one_clear_line(
    real_pack: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    needle: str,
) -> None:
    out = tmp_path / "x.png"
    assert main(["render", *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not out.exists()


def test_render_to_missing_folder(
    real_pack: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "-o", str(tmp_path / "no" / "x.png"), "--size", "64x64"]) == 2
    assert "does not exist" in capsys.readouterr().err


def _display_xy(renderer: object, points: np.ndarray) -> np.ndarray:
    out = []
    for p in points:
        renderer.SetWorldPoint(*p, 1.0)  # type: ignore[attr-defined]
        renderer.WorldToDisplay()  # type: ignore[attr-defined]
        out.append(renderer.GetDisplayPoint()[:2])  # type: ignore[attr-defined]
    return np.array(out)


@pytest.mark.parametrize(("view", "hip", "knee", "muscles"),
                         [("oblique", 0, 0, False), ("lateral", 120, 90, False),
                          ("anterior", -20, 0, False), ("oblique", 110, 100, True)])  # fmt: skip
def test_preset_camera_frames_lumbar_spine_to_knee(
    real_pack: object, view: str, hip: float, knee: float, muscles: bool
) -> None:
    """A preset shows every framed bone (L1 down to the top of the shank, where the hamstrings,
    gracilis, sartorius and the iliotibial tract attach) and every muscle shown, with a margin,
    and no smaller than it must: the subject fills nearly all of the picture's limiting side.
    The rest of the shank is left out, or a straight leg would halve the hip."""
    from hipflex.media.still import OffscreenView
    from hipflex.scene.builder import FRAME_BONES
    from hipflex.scene.builder import Pose as ScenePose
    from hipflex.scene.views import FRAME_FILL

    assert {"l1", "l5", "femur_r", "patella_r"} <= set(FRAME_BONES)
    size = np.array([400, 300])
    with OffscreenView((400, 300), level="interactive") as v:
        ctx = v.model.ctx
        shown = ctx.muscle_ids if muscles else ()
        snap = at_pose(Snapshot(visible=tuple(shown), camera=Camera(view=view)),  # type: ignore[arg-type]
                       hip_flexion=hip, knee_flexion=knee)  # fmt: skip
        v.render(snap)
        tr = v.builder.transforms(ScenePose(hip_flexion=hip, knee_flexion=knee))
        bones = v.builder.frame_points(tr)
        framed = v.scene.framed_points()  # type: ignore[attr-defined]
        assert len(framed) > len(bones) if muscles else len(framed) == len(bones)
        on_shank = np.array([p for ln in ctx.lines for p, b in zip(ln.points, ln.bodies, strict=True)
                             if b == "tibia_r"])  # fmt: skip
        tibia = tr["tibia_r"]
        attachments = on_shank @ tibia[:3, :3].T + tibia[:3, 3]
        xy = _display_xy(v.plotter.renderer, np.concatenate([framed[::3], attachments]))
        shank = np.asarray(v.builder.bones["tibia_r"].vertices, float)
        shank_y = np.linalg.solve(tibia, np.c_[bones, np.ones(len(bones))].T)[1]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    margin = (1 - FRAME_FILL) / 2 * size
    assert (lo >= margin - 1).all() and (hi <= size - margin + 1).all(), (lo, hi)
    assert ((hi - lo) / size).max() > FRAME_FILL - 0.04, (lo, hi)
    if knee == 0:  # the framed bones stop a few centimetres below the lowest attachment
        assert on_shank[:, 1].min() - 0.03 < shank_y.min() < on_shank[:, 1].min()
        assert shank_y.min() > shank[:, 1].min() + 0.3  # well above the ankle


def test_fit_camera_puts_points_inside_the_picture() -> None:
    from hipflex.scene.views import fit_camera

    rng = np.random.default_rng(3)
    points = rng.normal(size=(200, 3)) * [0.1, 0.4, 0.15] + [0.0, 0.2, 0.1]
    for view, aspect in (("lateral", 1.6), ("oblique", 0.7), ("superior", 1.0)):
        focus, position, up = fit_camera(points, view, aspect=aspect, view_angle=30.0, fill=0.9)
        d = np.subtract(position, focus)
        dist = np.linalg.norm(d)
        d /= dist
        right = np.cross(up, d)
        rel = points - focus
        depth = dist - rel @ d  # distance in front of the camera
        t = np.tan(np.radians(15.0))
        sx = np.abs(rel @ right) / depth / (t * aspect)
        sy = np.abs(rel @ np.asarray(up)) / depth / t
        # every point inside; the limiting side nearly filled (centring is orthographic)
        assert (sx <= 0.9 + 1e-9).all() and (sy <= 0.9 + 1e-9).all()
        assert max(sx.max(), sy.max()) > 0.89
    with pytest.raises(ValueError, match="finite"):
        fit_camera([[np.nan, 0, 0]], "lateral", aspect=1.0)


def test_fit_camera_keeps_a_strip_free_at_the_bottom() -> None:
    """With ``bottom`` (a colour legend's strip) every point projects above it, the free window
    is filled from its top to its bottom, and without it the fit is the centred one."""
    from hipflex.scene.views import fit_camera

    rng = np.random.default_rng(4)
    points = rng.normal(size=(300, 3)) * [0.1, 0.4, 0.15] + [0.0, 0.2, 0.1]
    t = np.tan(np.radians(15.0))
    for view, aspect in (("lateral", 1.8), ("oblique", 1.2), ("anterior", 0.8)):
        plain = fit_camera(points, view, aspect=aspect, fill=0.9)
        assert plain == fit_camera(points, view, aspect=aspect, fill=0.9, bottom=0.0)
        focus, position, up = fit_camera(points, view, aspect=aspect, fill=0.9, bottom=0.15)
        d = np.subtract(position, focus)
        dist = np.linalg.norm(d)
        d /= dist
        rel = points - focus
        v = (rel @ np.asarray(up)) / (dist - rel @ d) / t  # -1 bottom .. 1 top of the picture
        free_low, free_high = -1 + 2 * 0.15, 1.0
        mid, half = (free_low + free_high) / 2, (free_high - free_low) / 2 * 0.9
        assert v.min() >= mid - half - 1e-9 and v.max() <= mid + half + 1e-9
        if view != "anterior":  # height-limited: both ends of the free window reached
            assert v.min() < mid - half + 0.01 and v.max() > mid + half - 0.01
    with pytest.raises(ValueError, match="bottom"):
        fit_camera(points, "lateral", aspect=1.0, bottom=0.5)


@pytest.mark.parametrize(("view", "behind"), [("anterior", set()),
                                               ("lateral", {"Pubic symphysis"}),
                                               ("posterior", {"ASIS"})])  # fmt: skip
def test_labels_say_when_bone_hides_a_landmark(real_pack: object, view: str, behind: set[str]) -> None:
    """From the side the pubic symphysis lies behind the right pubic bone, and from behind the
    ASIS behind the iliac wing: their labels say "(behind)" rather than point at the bone in
    front. Seen from the front both are in sight. Joint centres lie inside the joint and are
    never marked."""
    from hipflex.media.still import OffscreenView
    from hipflex.scene.live import HIDDEN_SUFFIX

    with OffscreenView((400, 300), level="interactive") as v:
        snap = Snapshot(visible=(), camera=Camera(view=view))  # type: ignore[arg-type]
        v.render(snap)
        anchors = v.scene.label_anchors(snap)  # type: ignore[attr-defined]
        skeleton = v.scene.ctx.skeleton  # type: ignore[attr-defined]
    names = set(anchors)
    marked = {n.removesuffix(HIDDEN_SUFFIX) for n in names if n.endswith(HIDDEN_SUFFIX)}
    assert marked == behind, names
    assert {"Hip joint centre", "Knee flexion axis"} <= names
    # the knee's label points where the tibia turns (standing: the femur frame is the pelvis's,
    # moved to the hip centre), not at the epicondyles' midpoint 15 mm above
    axis = skeleton.hip_centre + skeleton.knee_axis_in_femur
    assert np.allclose(anchors["Knee flexion axis"], axis, atol=1e-9)


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_legend_swatches_stand_apart_from_their_labels(real_pack: object, scale: float) -> None:
    """The fibre-length legend's category swatches (slack, short) each have their label a gap to
    the right and stand one above the other with white between them, at screen scale and at the
    print scale of a handout. Placed in fractions of the picture's width, the labels touched
    their swatches in the lesson handout's pictures (session 23)."""
    from hipflex.media.still import OffscreenView
    from hipflex.scene.colours import SHORT, SLACK
    from hipflex.state import Display

    size = (round(440 * scale), round(340 * scale))  # a handout picture's proportions
    snap = at_pose(Snapshot(visible=("rectus_femoris",), display=Display(colour_by="fibre_length"),
                            camera=Camera(view="lateral")), hip_flexion=110, knee_flexion=0)  # fmt: skip
    with OffscreenView(size, level="interactive", scale=scale) as v:
        img = np.asarray(v.render(snap).rgba)[..., :3].astype(int)
    corner = img[int(0.8 * size[1]) :, int(0.7 * size[0]) :]  # the swatches sit bottom right
    slack = np.all(np.abs(corner - np.array(SLACK) * 255) <= 3, axis=-1)
    rows, cols = np.nonzero(slack)
    assert rows.size > 20 * scale**2, "no slack swatch in the legend corner"
    right = cols.max()
    band = corner[rows.min() : rows.max() + 1, right + 1 :]
    dark = np.nonzero(np.all(band < 120, axis=-1).any(axis=0))[0]
    assert dark.size, "no label beside the slack swatch"
    assert dark[0] >= 6 * scale, f"label starts {dark[0]} px after its swatch"
    short = np.all(np.abs(corner - np.array(SHORT) * 255) <= 3, axis=-1)
    below = np.nonzero(short.any(axis=1))[0]
    assert below.size and below.min() > rows.max() + 1, "the short swatch touches the slack one"
