"""Call-out placement over the view (hipflex.scene.layout): pure 2D geometry."""

from __future__ import annotations

import numpy as np

from hipflex.scene.layout import (
    boxes_overlap,
    callout_offsets,
    place_callout,
    segment_crosses_box,
)

BOX = (10.0, 10.0, 20.0, 20.0)


def test_segment_crosses_box() -> None:
    assert segment_crosses_box(((0, 15), (30, 15)), BOX)  # straight through
    assert segment_crosses_box(((15, 15), (50, 50)), BOX)  # starts inside
    assert segment_crosses_box(((0, 0), (30, 30)), BOX)  # diagonal through the corners' span
    assert not segment_crosses_box(((0, 25), (30, 25)), BOX)  # passes above
    assert not segment_crosses_box(((0, 0), (9, 30)), BOX)  # stops short, to the left
    assert not segment_crosses_box(((0, 9), (9, 0)), BOX)  # near the corner, outside
    assert not segment_crosses_box(((5, 5), (5, 40)), BOX)  # vertical, beside it


def _clear(box: tuple[float, float, float, float], leaders: list, labels: list) -> bool:  # type: ignore[type-arg]
    return not any(segment_crosses_box(s, box) for s in leaders) and not any(
        boxes_overlap(a, box) for a in labels
    )


def test_place_callout_takes_the_nearest_clear_place() -> None:
    bounds = (0.0, 0.0, 200.0, 200.0)
    offsets = callout_offsets(40, 10, 5, 30)
    anchor = (100.0, 100.0)
    # nothing in the way: just below the anchor, centred on it
    assert place_callout(anchor, (40, 10), offsets, [], [], bounds) == (80.0, 85.0)
    # a leader running just below the anchor: just above it instead
    leader = ((0.0, 90.0), (200.0, 90.0))
    assert place_callout(anchor, (40, 10), offsets, [leader], [], bounds) == (80.0, 105.0)
    # a label box above as well: below again, past the leader
    label = (60.0, 100.0, 160.0, 120.0)
    x, y = place_callout(anchor, (40, 10), offsets, [leader], [label], bounds)
    assert y + 10 < 90 and _clear((x, y, x + 40, y + 10), [leader], [label])


def test_place_callout_keeps_inside_and_falls_back_to_fewest_conflicts() -> None:
    offsets = callout_offsets(40, 10, 5, 30)
    # at the right edge the boxes centred on the anchor would leave the view
    x, _ = place_callout((190.0, 100.0), (40, 10), offsets, [], [], (0.0, 0.0, 200.0, 200.0))
    assert x + 40 <= 200
    # leaders every 4 px: no place is clear; one crossed by the fewest (2) wins, inside
    leaders = [((0.0, y), (200.0, y)) for y in np.arange(50.0, 151.0, 4.0)]
    x, y = place_callout((100.0, 100.0), (40, 10), offsets, leaders, [], (0, 0, 200, 200))
    hits = sum(segment_crosses_box(s, (x, y, x + 40, y + 10)) for s in leaders)
    assert hits == 2 and y >= 0 and y + 10 <= 200
