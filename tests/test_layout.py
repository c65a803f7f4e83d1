"""Call-out placement over the view (hipflex.scene.layout): pure 2D geometry."""

from __future__ import annotations

from hipflex.scene.layout import callout_offsets, place_callout, segment_crosses_box

BOX = (10.0, 10.0, 20.0, 20.0)


def test_segment_crosses_box() -> None:
    assert segment_crosses_box(((0, 15), (30, 15)), BOX)  # straight through
    assert segment_crosses_box(((15, 15), (50, 50)), BOX)  # starts inside
    assert segment_crosses_box(((0, 0), (30, 30)), BOX)  # diagonal through the corners' span
    assert not segment_crosses_box(((0, 25), (30, 25)), BOX)  # passes above
    assert not segment_crosses_box(((0, 0), (9, 30)), BOX)  # stops short, to the left
    assert not segment_crosses_box(((0, 9), (9, 0)), BOX)  # near the corner, outside
    assert not segment_crosses_box(((5, 5), (5, 40)), BOX)  # vertical, beside it


def test_place_callout_takes_the_first_clear_place() -> None:
    bounds = (0.0, 0.0, 200.0, 200.0)
    offsets = callout_offsets(40, 10, 5, 30)
    anchor = (100.0, 100.0)
    # nothing in the way: below the anchor, to the right (the first offset)
    assert place_callout(anchor, (40, 10), offsets, [], [], bounds) == (100.0, 85.0)
    # a leader running just below the anchor blocks the three places below it
    leader = ((0.0, 90.0), (200.0, 90.0))
    x, y = place_callout(anchor, (40, 10), offsets, [leader], [], bounds)
    assert y > 100 and not segment_crosses_box(leader, (x, y, x + 40, y + 10))
    # a label box above as well: the far places
    label = (60.0, 100.0, 160.0, 120.0)
    x, y = place_callout(anchor, (40, 10), offsets, [leader], [label], bounds)
    assert (x, y) == (100.0, 60.0)


def test_place_callout_keeps_inside_and_falls_back_to_fewest_conflicts() -> None:
    offsets = callout_offsets(40, 10, 5, 30)
    # at the right edge the boxes to the right would leave the view
    x, _ = place_callout((190.0, 100.0), (40, 10), offsets, [], [], (0.0, 0.0, 200.0, 200.0))
    assert x + 40 <= 200
    # leaders everywhere: the place crossed by fewest wins, never one out of bounds
    leaders = [((0.0, y), (200.0, y)) for y in (58.0, 62.0, 80.0, 88.0, 108.0, 112.0, 138.0)]
    x, y = place_callout((100.0, 100.0), (40, 10), offsets, leaders, [], (0, 0, 200, 200))
    hits = sum(segment_crosses_box(s, (x, y, x + 40, y + 10)) for s in leaders)
    assert hits == 1 and y >= 0 and y + 10 <= 200
