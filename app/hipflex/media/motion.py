"""Joint-angle trajectories for animations: a flexion sweep and a sprint knee-drive cycle.

Pure numpy: each function returns (hip_flexion, knee_flexion) in degrees, one value per frame,
so the video writer, the window's Play button and tests all animate the same motion.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import CubicSpline

from hipflex.errors import HipFlexError
from hipflex.state import POSE_RANGES

# the explorer's hip-flexion range, the default sweep
HIP_FROM, HIP_TO = POSE_RANGES["hip_flexion"]

Array = NDArray[np.float64]
MOTIONS = ("sweep", "knee_drive")

# Sprint knee drive at maximal speed, one stride of the right leg starting at toe-off, as
# (fraction of the stride, hip flexion deg, knee flexion deg). Round figures in the ranges
# reported for trained sprinters: hip about 10 deg extended at toe-off, thigh peaking near
# 70-80 deg of flexion in late swing, knee flexing to about 120-130 deg in early-to-mid swing
# (heel to buttock), touchdown with the hip about 30-40 deg flexed and the knee nearly straight,
# stance about a quarter of the stride. Sources: Novacheck TF (1998) The biomechanics of running,
# Gait Posture 7:77-95 (sprinting kinematics figures); Dorn TW, Schache AG, Pandy MG (2012)
# J Exp Biol 215:1944-1956 (joint angles up to 9 m/s); Miyashiro K et al. (2019) Front Sports
# Act Living 1:37 (swing-leg kinematics of 79 male sprinters). The figures below were chosen
# from those ranges, not read from one table; they animate the motion, they are not data.
KNEE_DRIVE_KEYS = (
    (0.00, -10.0, 35.0),  # toe-off: hip extended, knee starting to fold
    (0.15, 15.0, 105.0),  # early swing: heel rises fast
    (0.30, 45.0, 125.0),  # heel near the buttock: peak knee flexion
    (0.45, 72.0, 95.0),  # knee drive: peak thigh flexion, shank unfolding
    (0.58, 62.0, 45.0),  # late swing: leg reaches forward, thigh starts back
    (0.72, 38.0, 18.0),  # touchdown under the body, knee nearly straight
    (0.86, 12.0, 38.0),  # mid-stance: knee yields, hip extends
)


def ease_in_out(n_frames: int) -> Array:
    """0..1 over ``n_frames`` with zero speed at both ends (half a cosine)."""
    if n_frames < 2:
        raise HipFlexError("an animation needs at least 2 frames")
    t = np.linspace(0.0, 1.0, n_frames)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * t))


def flexion_sweep(
    n_frames: int, start: float = HIP_FROM, stop: float = HIP_TO, knee_flexion: float = 0.0
) -> tuple[Array, Array]:
    """Hip flexion from ``start`` to ``stop`` (deg), easing in and out; the knee held still."""
    s = ease_in_out(n_frames)
    hip = start + (stop - start) * s
    return hip, np.full(n_frames, float(knee_flexion))


def knee_drive(n_frames: int, cycles: float = 1.0) -> tuple[Array, Array]:
    """A sprint knee-drive cycle (see KNEE_DRIVE_KEYS); periodic, so a GIF loops seamlessly.

    The last frame stops one frame short of the first pose, so looping does not repeat it.
    """
    if n_frames < 2:
        raise HipFlexError("an animation needs at least 2 frames")
    keys = np.array(KNEE_DRIVE_KEYS)
    phase = np.append(keys[:, 0], 1.0)
    hip = CubicSpline(phase, np.append(keys[:, 1], keys[0, 1]), bc_type="periodic")
    knee = CubicSpline(phase, np.append(keys[:, 2], keys[0, 2]), bc_type="periodic")
    t = (np.arange(n_frames) / n_frames * cycles) % 1.0
    # the periodic spline overshoots a little between keys; keep inside the explorer's ranges
    return np.clip(hip(t), *POSE_RANGES["hip_flexion"]), np.clip(
        knee(t), *POSE_RANGES["knee_flexion"]
    )


def motion_frames(
    motion: str,
    n_frames: int,
    start: float = HIP_FROM,
    stop: float = HIP_TO,
    knee_flexion: float = 0.0,
) -> tuple[Array, Array]:
    """(hip, knee) per frame for ``motion`` ("sweep" or "knee_drive")."""
    name = motion.replace("-", "_")
    if name == "sweep":
        return flexion_sweep(n_frames, start, stop, knee_flexion)
    if name == "knee_drive":
        return knee_drive(n_frames)
    raise HipFlexError(f"unknown motion {motion!r}; expected sweep or knee-drive")
