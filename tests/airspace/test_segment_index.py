"""The segment index finds exactly the pairs whose boxes meet.

Two references: every pair compared by brute force (numpy broadcast), and an STRtree
over one line per segment queried with one box per query (what the index replaced).
Segments come dense along rings, as boundaries do, and loose; boxes touch at shared
coordinates; queries reach beyond ±180 (unwrapped antimeridian legs) or hold NaN.
"""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.segment_index import RUN, SegmentIndex
from skyfence.airspace.zones import national_zone


def brute(index: SegmentIndex, xmin, ymin, xmax, ymax) -> set[tuple[int, int]]:
    meet = ((xmin[:, None] <= index.xmax[None]) & (index.xmin[None] <= xmax[:, None])
            & (ymin[:, None] <= index.ymax[None]) & (index.ymin[None] <= ymax[:, None]))
    q, s = np.nonzero(meet)
    return set(zip(q.tolist(), s.tolist(), strict=True))


def by_lines(x0, y0, x1, y1, xmin, ymin, xmax, ymax) -> set[tuple[int, int]]:
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]),
                                          np.column_stack([x1, y1])], 1))
    q, s = shapely.STRtree(lines).query(shapely.box(xmin, ymin, xmax, ymax))
    return set(zip(q.tolist(), s.tolist(), strict=True))


def found(index: SegmentIndex, *box: np.ndarray) -> set[tuple[int, int]]:
    q, s = index.query(*box)
    pairs = list(zip(q.tolist(), s.tolist(), strict=True))
    assert len(pairs) == len(set(pairs)), "a pair reported twice"
    assert list(q) == sorted(q)
    return set(pairs)


# coordinates on a coarse lattice so that boxes often share an edge or a corner
COORD = st.integers(-40, 40).map(lambda v: v / 4)


@st.composite
def segments_and_boxes(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(0, 3 * RUN + 3))
    ring = draw(st.booleans())
    if ring:  # a chain: each segment starts where the last ended
        pts = draw(arrays(np.float64, (n + 1, 2), elements=COORD))
        x0, y0, x1, y1 = pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1]
    else:
        x0, y0, x1, y1 = (draw(arrays(np.float64, n, elements=COORD)) for _ in range(4))
    m = draw(st.integers(0, 12))
    a, b, c, d = (draw(arrays(np.float64, m, elements=st.one_of(
        COORD, st.sampled_from([np.nan, -200.0, 200.0, 540.0])))) for _ in range(4))
    xmin, xmax = np.minimum(a, c), np.maximum(a, c)
    ymin, ymax = np.minimum(b, d), np.maximum(b, d)
    return (x0, y0, x1, y1), (xmin, ymin, xmax, ymax)


@settings(max_examples=400)
@given(segments_and_boxes())
def test_the_pairs_are_those_of_brute_force_and_of_a_tree_of_lines(case) -> None:  # type: ignore[no-untyped-def]
    segs, box = case
    index = SegmentIndex(*segs)
    got = found(index, *box)
    assert got == brute(index, *box)
    if len(segs[0]):
        assert got == by_lines(*segs, *box)


def test_a_real_boundary_and_real_sized_track_legs() -> None:
    """Switzerland's 11,919 segments against 20,000 legs of 0-30 km around it."""
    b = Boundary(national_zone("CHE").geometry)
    rng = np.random.default_rng(7)
    x = rng.uniform(5.5, 10.8, 20_000)
    y = rng.uniform(45.6, 48.0, 20_000)
    x1 = x + rng.normal(0, 0.1, len(x))
    y1 = y + rng.normal(0, 0.1, len(y))
    box = (np.minimum(x, x1), np.minimum(y, y1), np.maximum(x, x1), np.maximum(y, y1))
    got = found(b.index, *box)
    assert len(got) > 10_000
    assert got == by_lines(b.x0, b.y0, b.x1, b.y1, *box)
