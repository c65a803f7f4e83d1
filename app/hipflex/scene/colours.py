"""Muscle colour modes and their legends, shared by the window, renders, handouts and videos.

Identity uses each muscle's colour from anatomy_data. The quantity modes map an engine quantity
at the current pose to a colour; the legends are built so that low values stay readable (a
square-root scale for activation, distinct categories for slack and very short fibres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgb

from hipflex.errors import HipFlexError

RGB = tuple[float, float, float]
COLOUR_MODES = ("identity", "activation", "fibre_length", "moment_arm")
MOMENT_ARM_COLOUR = (0.85, 0.1, 0.1)  # the selected muscle's lever and its caption
INACTIVE = (0.78, 0.78, 0.80)  # activation exactly zero: grey, not the bottom of the colour map
SLACK = (0.55, 0.75, 0.95)  # fibres would have to be shorter than zero length: pale blue
SHORT = (0.35, 0.0, 0.45)  # fibres below SHORT_LIMIT: deep purple, below the bar's range
SHORT_LIMIT = 0.5  # normalised fibre length below which active force is small (Millard 2013 curve)
MOMENT_ARM_LIMIT_MM = 60.0


@dataclass(frozen=True)
class LegendSpec:
    """What a legend needs: a title, tick positions (0..1 along the bar) and labels, and colours."""

    title: str
    ticks: tuple[tuple[float, str], ...]
    stops: tuple[RGB, ...]  # colours sampled evenly along the bar
    categories: tuple[tuple[str, RGB], ...] = ()  # swatches drawn beside the bar


def _cmap(name: str, x: np.ndarray) -> np.ndarray:
    return np.asarray(colormaps[name](np.clip(x, 0, 1)))[..., :3]


def activation_rgb(a: float) -> RGB:
    """Square-root scale: 5% activation is already a quarter of the way up the bar."""
    if not a > 0:
        return INACTIVE
    rgb = _cmap("plasma", np.array(0.12 + 0.88 * np.sqrt(min(a, 1.0))))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def fibre_length_rgb(norm: float) -> RGB:
    """Slack and short are categories; 0.5..1.5 optimal length spans a diverging map."""
    if not norm > 0:
        return SLACK
    rgb = _cmap("PiYG", np.array(np.clip(norm, 0.5, 1.5) - 0.5))
    if norm < SHORT_LIMIT:
        return SHORT
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def moment_arm_rgb(arm_m: float) -> RGB:
    """Flexor (positive) red, extensor (negative) blue, zero white."""
    x = 0.5 - 0.5 * np.clip(1000 * arm_m / MOMENT_ARM_LIMIT_MM, -1, 1)
    rgb = _cmap("RdBu", np.array(x))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def muscle_colours(
    mode: str,
    muscles: list[str],
    identity: dict[str, str],
    values: dict[str, np.ndarray] | None = None,
) -> dict[str, RGB]:
    """Colour per muscle for ``mode``; ``values`` maps engine quantities to per-muscle arrays
    (one pose, ordered like ``muscles``) and is required for the quantity modes."""
    if mode not in COLOUR_MODES:
        raise HipFlexError(
            f"unknown colour mode {mode!r}; expected one of {', '.join(COLOUR_MODES)}"
        )
    if mode == "identity":
        return {m: to_rgb(identity[m]) for m in muscles}
    if values is None:
        raise HipFlexError(f"colour mode {mode!r} needs the engine's values at the pose")
    key, fn = {
        "activation": ("activation", activation_rgb),
        "fibre_length": ("norm_fiber_length", fibre_length_rgb),
        "moment_arm": ("moment_arm_hip_flexion", moment_arm_rgb),
    }[mode]
    arr = np.asarray(values[key], float).ravel()
    return {m: fn(float(arr[j])) for j, m in enumerate(muscles)}


def legend(mode: str, hip_acceleration: float = 0.0) -> LegendSpec | None:
    """The legend for ``mode`` (None for identity, which is labelled by name instead); the
    activation legend names the task, held or driven (``hip_acceleration``, rad/s^2)."""
    n = 64
    x = np.linspace(0, 1, n)
    if mode == "identity":
        return None
    if mode == "activation":
        stops = [activation_rgb(float(v) ** 2) for v in x[1:]]
        ticks = tuple((float(np.sqrt(v)), f"{100 * v:g}%") for v in (0.05, 0.25, 0.5, 1.0))
        task = "hold task" if hip_acceleration == 0 else "knee drive"
        return LegendSpec(f"Activation ({task})", ((0.0, "0"), *ticks), tuple(stops),
                          (("inactive (0%)", INACTIVE),))  # fmt: skip
    if mode == "fibre_length":
        stops = [fibre_length_rgb(0.5 + float(v)) for v in x]
        ticks = ((0.0, "0.5"), (0.5, "1.0 optimal"), (1.0, "1.5"))
        return LegendSpec("Normalised fibre length", ticks, tuple(stops),
                          (("slack (≤ 0)", SLACK), ("short (< 0.5)", SHORT)))  # fmt: skip
    if mode == "moment_arm":
        lim = MOMENT_ARM_LIMIT_MM
        stops = [moment_arm_rgb(float(v) / 1000) for v in np.linspace(lim, -lim, n)]
        ticks = ((0.0, f"+{lim:g} mm flexor"), (0.5, "0"), (1.0, f"-{lim:g} mm extensor"))
        return LegendSpec("Hip-flexion moment arm", ticks, tuple(stops))
    raise HipFlexError(f"unknown colour mode {mode!r}; expected one of {', '.join(COLOUR_MODES)}")
