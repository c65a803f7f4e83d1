"""Argument types shared by the CLI modules (``cli_gui``, ``cli_media``); standard library only."""

from __future__ import annotations

import argparse


def pixel_size(text: str, example: str = "1366x768") -> tuple[int, int]:
    """Parse a ``WxH`` pixel size such as ``"1366x768"`` into ``(width, height)``.

    For ``argparse``'s ``type=``; the ``x`` may be upper or lower case. Only the form is checked
    here: each command checks the range it supports later (``hipflex render`` and ``video`` allow
    16..8000 px a side). ``example`` is the size the error message suggests; bind it with
    ``functools.partial`` for a command whose typical size differs.

    Raises:
        argparse.ArgumentTypeError: ``text`` is not two whole numbers joined by ``x``; the
            message names ``text`` and gives ``example``.
    """
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected WxH such as {example}, got {text!r}") from exc
    return w, h


def add_off_plane(p: argparse.ArgumentParser, what: str = "the numbers", *,
                  unset: str | None = None, more: str = "") -> None:  # fmt: skip
    """``--adduction`` and ``--rotation`` (degrees) on ``p``, stored as ``hip_adduction`` and
    ``hip_rotation``: the part of a pose outside the sagittal plane, so every command can pose
    the hip as the window does. ``what`` says what they change; ``more``, when given, is a
    further clause of both flags' help (e.g. what the output gains). They default to 0; with
    ``unset`` (what applies then, e.g. "the session's, else 0") to None, so the command can
    tell "not given" from 0."""
    for flag, name, words in (
        ("--adduction", "hip_adduction", "hip adduction (negative = abduction)"),
        ("--rotation", "hip_rotation", "hip internal rotation (negative = external)"),
    ):
        p.add_argument(flag, dest=name, type=float, default=None if unset else 0.0,
                       metavar="DEG", help=f"{words}, degrees (default {unset or 0}); {what} "
                       "are for the pose so turned" + (f"; {more}" if more else ""))  # fmt: skip
