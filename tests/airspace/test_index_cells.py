"""The index's edge-neighbour rule: segments between clear neighbour cells cross nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from skyfence.airspace.index import ZoneIndex
from skyfence.airspace.zones import circle_zone, national_zone


def test_segments_between_clear_neighbour_cells_cross_no_boundary(tmp_path: Path) -> None:
    zones = [national_zone("EST"), national_zone("FIN"), national_zone("LVA"),
             circle_zone("TLL", 59.4133, 24.8328, 30.0)]
    index = ZoneIndex(zones, cache_dir=tmp_path)
    rng = np.random.default_rng(5)
    n = 100_000
    lon0, lat0 = rng.uniform(21.0, 31.0, n), rng.uniform(57.0, 61.0, n)
    step = rng.choice([0.005, 0.02, 0.1, 0.3], n)
    ang = rng.uniform(0, 2 * np.pi, n)
    lon1, lat1 = lon0 + step * np.cos(ang), lat0 + step * np.sin(ang)
    a, b = index.screen(lon0, lat0), index.screen(lon1, lat1)
    clear = index.clear_between(a.cell, b.cell) & ~a.boundary & ~b.boundary
    assert 1000 < clear.sum() < n  # the rule applies often, but not always
    assert (a.cell[clear] != b.cell[clear]).sum() > 1000  # neighbours, not only same cell
    lines = shapely.linestrings(np.stack([np.column_stack([lon0, lat0])[clear],
                                          np.column_stack([lon1, lat1])[clear]], axis=1))
    for z in zones:
        assert not shapely.intersects(lines, z.boundary).any(), z.name
    assert (a.zone[clear] == b.zone[clear]).all()
