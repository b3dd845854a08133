"""The grid's segment candidates (``ZoneIndex.segment_zones``) one segment at a time.

The batch test in ``tests/detect/test_fast_path_reference.py`` asks for 20,000 random
segments in one call; the grid then walks every segment's rectangle of cells up to the
largest rectangle of the call, so a walk that stops one cell short (a planted bug that
test missed) loses only the cells of the largest rectangles. Here each segment that
crosses a boundary is asked alone, so its own rectangle is the largest: every cell of
it must be walked. Reference: shapely's intersection of the segment with the zone
boundary (GEOS), independent of the grid.
"""

from __future__ import annotations

import numpy as np
import shapely

from skyfence.airspace.index import ZoneIndex
from skyfence.airspace.zones import resolve_zones


def _crossing_segments(n: int, seed: int) -> tuple[list[tuple[float, float, float, float]],
                                                   list[set[int]]]:
    """Segments around the Baltic states of 0.001-0.5 degree (one to a few coarse cells
    of 0.25 degree), kept when they cross a boundary, with the zones they cross."""
    zones = resolve_zones(["EST", "LVA", "RUS", "FIN"])
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(21.0, 29.0, n), rng.uniform(56.0, 60.5, n)
    length = 10 ** rng.uniform(-3.0, np.log10(0.5), n)
    ang = rng.uniform(0, 2 * np.pi, n)
    x1, y1 = x0 + length * np.cos(ang), y0 + length * np.sin(ang)
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]),
                                          np.column_stack([x1, y1])], axis=1))
    crossed: dict[int, set[int]] = {}
    for zi, z in enumerate(zones):
        for s in np.flatnonzero(shapely.intersects(lines, z.geometry.boundary)).tolist():
            crossed.setdefault(s, set()).add(zi)
    keep = sorted(crossed)
    return ([(x0[s], y0[s], x1[s], y1[s]) for s in keep], [crossed[s] for s in keep])


def test_a_segment_asked_alone_is_a_candidate_of_every_zone_it_crosses() -> None:
    index = ZoneIndex(resolve_zones(["EST", "LVA", "RUS", "FIN"]))
    segments, truth = _crossing_segments(6_000, seed=21)
    assert len(segments) > 150
    sizes = set()
    for (x0, y0, x1, y1), zones in zip(segments, truth, strict=True):
        seg, zone, unknown = index.segment_zones(np.array([x0]), np.array([y0]),
                                                 np.array([x1]), np.array([y1]))
        sizes.add((int(abs(np.floor(x1 * 4) - np.floor(x0 * 4))) + 1)
                  * (int(abs(np.floor(y1 * 4) - np.floor(y0 * 4))) + 1))
        if len(unknown):
            continue  # left to the reference path (too many cells)
        assert set(zone.tolist()) >= zones, (x0, y0, x1, y1)
        assert seg.tolist() == [0] * len(zone)
    # the walk was tried on rectangles of one coarse cell and of several
    assert 1 in sizes and max(sizes) >= 4


def test_each_segment_and_zone_is_answered_once() -> None:
    """The pairs are unique (a segment whose rectangle meets a zone's boundary in many
    cells is one candidate, not one per cell), sorted by segment then zone."""
    index = ZoneIndex(resolve_zones(["EST", "LVA", "RUS", "FIN"]))
    rng = np.random.default_rng(5)
    n = 5_000
    x0, y0 = rng.uniform(21.0, 29.0, n), rng.uniform(56.0, 60.5, n)
    x1, y1 = x0 + rng.uniform(-0.6, 0.6, n), y0 + rng.uniform(-0.6, 0.6, n)
    seg, zone, _ = index.segment_zones(x0, y0, x1, y1)
    pairs = list(zip(seg.tolist(), zone.tolist(), strict=True))
    assert len(pairs) > 100
    assert len(set(pairs)) == len(pairs)
    assert pairs == sorted(pairs)
