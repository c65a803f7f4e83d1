"""Muscle paths over analytic wrap cylinders, vectorised over poses.

A wrap cylinder is fixed in a body and has a *side*: the half-space the muscle must stay in.
The segment that crosses the wrap's joint is replaced by tangent line, helical arc, tangent line
whenever the straight segment would cut the cylinder **or pass behind it** (through the bone the
cylinder stands for). Engaging only by touching the cylinder on its free side keeps length and
moment arm continuous. The "behind" rule is what stops iliopsoas from sliding off the pelvic brim
at deep flexion, the failure of published OpenSim models (biomechanics.md section 2), where the
path only wraps while it intersects the surface and a conditional via point switches off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hipflex.anatomy import Wrap
from hipflex.model.paths import line_points
from hipflex.model.skeleton import LineGeometry, ModelContext

Array = NDArray[np.float64]
ARC_SAMPLES = 8
TWO_PI = 2 * np.pi


@dataclass(frozen=True)
class Cylinder:
    """A wrap cylinder in its body frame: centre, unit axis, unit side (perpendicular), radius."""

    body: str
    centre: Array
    axis: Array
    side: Array
    radius: float

    @classmethod
    def from_wrap(cls, wrap: Wrap) -> Cylinder:
        if wrap.type != "cylinder" or wrap.axis is None or wrap.side is None:
            raise ValueError(
                f"wrap {wrap.id}: only cylinders with an axis and a side are supported"
            )
        axis = np.asarray(wrap.axis, float) / np.linalg.norm(wrap.axis)
        side = np.asarray(wrap.side, float)
        side = side - (side @ axis) * axis
        return cls(wrap.body, np.asarray(wrap.centre, float), axis, side / np.linalg.norm(side),
                   float(wrap.radius))  # fmt: skip


def _wrap_segment(
    p: Array, s: Array, cyl_t: Array, cyl: Cylinder, sense: float = 1.0
) -> tuple[Array, Array]:
    """Wrap segments p->s (n, 3) over a cylinder posed by ``cyl_t`` (n, 4, 4).

    Returns the inserted points (n, ARC_SAMPLES + 2, 3) (tangent, arc, tangent; all equal to
    ``p`` where there is no wrap, which adds zero length) and a boolean mask of wrapped poses.
    """
    rot = cyl_t[:, :3, :3]
    c = np.einsum("nij,j->ni", rot, cyl.centre) + cyl_t[:, :3, 3]
    e3 = np.einsum("nij,j->ni", rot, cyl.axis)
    e1 = np.einsum("nij,j->ni", rot, cyl.side)
    e2 = sense * np.cross(e3, e1)  # sense -1 mirrors the plane so the wrap is always CCW
    basis = np.stack([e1, e2, e3], axis=1)  # rows: local axes
    pl = np.einsum("nij,nj->ni", basis, p - c)
    sl = np.einsum("nij,nj->ni", basis, s - c)
    r = cyl.radius
    p2, s2 = pl[:, :2], sl[:, :2]
    dp, ds = np.linalg.norm(p2, axis=1), np.linalg.norm(s2, axis=1)
    d = s2 - p2
    # Signed distance of the axis from the line p->s, positive on the line's left. Wrapping
    # counter-clockwise, the cylinder must stay on the left: wrap whenever it is not clear of it.
    h = (d[:, 1] * p2[:, 0] - d[:, 0] * p2[:, 1]) / np.maximum(np.linalg.norm(d, axis=1), 1e-12)
    wrapped = (h < r) & (dp > r) & (ds > r)
    th_p, th_s = np.arctan2(p2[:, 1], p2[:, 0]), np.arctan2(s2[:, 1], s2[:, 0])
    bp = np.arccos(np.clip(r / np.maximum(dp, r), -1, 1))
    bs = np.arccos(np.clip(r / np.maximum(ds, r), -1, 1))
    start = th_p + bp
    span = np.mod(th_s - bs - start, TWO_PI)
    span = np.where(span > TWO_PI - 1e-9, 0.0, span)

    l_in = np.sqrt(np.maximum(dp**2 - r**2, 0))
    l_out = np.sqrt(np.maximum(ds**2 - r**2, 0))
    planar = l_in + r * span + l_out
    frac = np.linspace(0.0, 1.0, ARC_SAMPLES + 2)
    ang = start[:, None] + span[:, None] * frac[None]
    along = (l_in[:, None] + r * span[:, None] * frac[None]) / np.maximum(planar, 1e-12)[:, None]
    z = pl[:, 2:3] + (sl[:, 2:3] - pl[:, 2:3]) * along
    local = np.stack([r * np.cos(ang), r * np.sin(ang), z], axis=-1)
    world = np.einsum("nki,nij->nkj", local, basis) + c[:, None]
    world = np.where(wrapped[:, None, None], world, p[:, None])
    return world, wrapped


def _segment_for(line: LineGeometry, wrap: Wrap) -> int:
    """Index of the segment that crosses the wrap's joint."""
    bodies = line.bodies
    if wrap.id.startswith("distal_femur"):
        return next(i for i, b in enumerate(bodies) if b == "tibia_r") - 1
    return next(i for i, b in enumerate(bodies) if b != "pelvis") - 1


@dataclass(frozen=True)
class _Plan:
    """Per line: the wraps of each segment, in path order, with their wrapping sense."""

    segments: dict[int, list[tuple[Cylinder, float]]]


_PLANS: dict[tuple[int, str], _Plan] = {}
SEQUENCE_ITERATIONS = 3


def _plan(ctx: ModelContext, line: LineGeometry) -> _Plan:
    key = (id(ctx), line.name)
    if key in _PLANS:
        return _PLANS[key]
    from hipflex.model.kinematics import body_transforms

    neutral = body_transforms(ctx.skeleton)
    pts = line_points(line, neutral)
    segments: dict[int, list[tuple[Cylinder, float]]] = {}
    for wid in line.wraps:
        wrap = ctx.anatomy.wraps[wid]
        cyl = Cylinder.from_wrap(wrap)
        seg = _segment_for(line, wrap)
        # The sense is fixed once, from the neutral pose: the muscle passes the side direction
        # on its way from the proximal to the distal point.
        t = neutral[cyl.body][0]
        e1, e3 = t[:3, :3] @ cyl.side, t[:3, :3] @ cyl.axis
        e2 = np.cross(e3, e1)
        sense = 1.0 if (pts[0, seg + 1] - pts[0, seg]) @ e2 >= 0 else -1.0
        segments.setdefault(seg, []).append((cyl, sense))
    plan = _Plan(segments)
    _PLANS[key] = plan
    return plan


def _wrap_sequence(
    p: Array, s: Array, wraps: list[tuple[Cylinder, float]], transforms: dict[str, Array]
) -> Array:
    """Wrap one segment over one or more cylinders in order (obstacle-set iteration)."""
    if len(wraps) == 1:
        cyl, sense = wraps[0]
        return _wrap_segment(p, s, transforms[cyl.body], cyl, sense)[0]
    results = [_wrap_segment(p, s, transforms[c.body], c, sg) for c, sg in wraps]
    for _ in range(SEQUENCE_ITERATIONS):
        for k, (cyl, sense) in enumerate(wraps):
            start = (
                p if k == 0 else np.where(results[k - 1][1][:, None], results[k - 1][0][:, -1], p)
            )
            if k + 1 < len(wraps):
                nxt_pts, nxt_on = results[k + 1]
                end = np.where(nxt_on[:, None], nxt_pts[:, 0], s)
            else:
                end = s
            pts, on = _wrap_segment(start, end, transforms[cyl.body], cyl, sense)
            results[k] = (np.where(on[:, None, None], pts, start[:, None]), on)
    return np.concatenate([r[0] for r in results], axis=1)


def wrapped_path(ctx: ModelContext, line: LineGeometry, transforms: dict[str, Array]) -> Array:
    """Path points (n_poses, k, 3) in the model frame, wraps applied."""
    pts = line_points(line, transforms)
    if not line.wraps:
        return pts
    plan = _plan(ctx, line)
    pieces = [pts[:, :1]]
    for i in range(1, pts.shape[1]):
        if i - 1 in plan.segments:
            pieces.append(
                _wrap_sequence(pts[:, i - 1], pts[:, i], plan.segments[i - 1], transforms)
            )
        pieces.append(pts[:, i : i + 1])
    return np.concatenate(pieces, axis=1)
