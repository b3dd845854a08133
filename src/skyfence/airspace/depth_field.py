"""A distance field of one zone's boundary on the index grid: depth bounds by lookup.

An entry's ``max_depth_m`` is the largest *exact* distance from its inside fixes to the
boundary (:meth:`~skyfence.airspace.boundary.Boundary.distance_m`, a WGS84 geodesic
that costs tens of microseconds). Only the deepest fix of a run needs it; the others
only need to be shown not deeper. The field holds the exact distance ``D(c)`` of the
centre of each fine index cell (1/64 degree) that inside fixes have visited; distance to
a boundary is 1-Lipschitz, so a fix ``p`` in cell ``c`` lies within
``D(c) ± u(p, c)``, where ``u`` is an upper bound of the geodesic from ``p`` to the
centre (a great circle on a sphere of the ellipsoid's largest radius of curvature, plus
0.5 %, plus :data:`SLACK_M`). A run's maximum is then found by measuring, round after
round, its fixes whose upper bound still beats the best value known, highest first: the
answer is the exact distance of the deepest fix, as if every fix had been measured.

Cells are filled on first use (the field depends on the zone only, never on the data)
and kept for the detector's life, up to :data:`MAX_CELLS` per zone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = ["FINE_PER_DEG", "MAX_CELLS", "SLACK_M", "DepthField"]

FloatArray = npt.NDArray[np.float64]
#: cells per degree (the index's fine cells)
FINE_PER_DEG = 64
#: most cells kept per zone (16 bytes each); beyond, the field starts again empty
MAX_CELLS = 4_000_000
#: absolute slack on the Lipschitz bound: the measured distance follows the boundary
#: cut into 1 km pieces, within centimetres of the true distance
SLACK_M = 1.0
#: fixes measured per run and round
PER_ROUND = 2
_NX = 360 * FINE_PER_DEG + 1


def _arc_upper_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
                 ) -> FloatArray:
    """An upper bound of the WGS84 geodesic distance (sphere of radius 6,399.6 km, the
    largest radius of curvature, plus 0.5 %)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6_399_600.0 * 1.005 * np.arcsin(np.sqrt(np.clip(h, 0, 1))))


class DepthField:
    """Exact distances at the centres of visited fine cells, and run maxima from them.

    ``measure(lon, lat)`` is the exact distance (the zone's
    :meth:`~skyfence.airspace.boundary.Boundary.distance_m`).
    """

    def __init__(self, measure: Callable[[np.ndarray, np.ndarray], FloatArray]) -> None:
        self.measure = measure
        self.keys = np.empty(0, np.int64)
        self.values = np.empty(0, np.float64)
        #: exact distances computed, for cells and for fixes
        self.measured_cells = 0
        self.measured_fixes = 0

    def __len__(self) -> int:
        return len(self.keys)

    def cell_distance(self, key: np.ndarray) -> FloatArray:
        """``D`` of the cells ``key`` (``fy * columns + fx``), measuring new ones."""
        pos = np.searchsorted(self.keys, key)
        found = pos < len(self.keys)
        found[found] = self.keys[pos[found]] == key[found]
        if not found.all():
            new = np.unique(key[~found])
            fy, fx = np.divmod(new, _NX)
            d = self.measure((fx + 0.5) / FINE_PER_DEG - 180.0, (fy + 0.5) / FINE_PER_DEG - 90.0)
            self.measured_cells += len(new)
            if len(self.keys) + len(new) > MAX_CELLS:
                self.keys, self.values = new, d
            else:
                keys = np.concatenate([self.keys, new])
                order = np.argsort(keys, kind="stable")
                self.keys = keys[order]
                self.values = np.concatenate([self.values, d])[order]
            pos = np.searchsorted(self.keys, key)
        return np.asarray(self.values[pos], dtype=np.float64)

    def max_distance_m(self, lon: np.ndarray, lat: np.ndarray, starts: np.ndarray
                       ) -> FloatArray:
        """Largest exact distance within each group of consecutive positions (``starts``:
        first index of each group, ascending, ``starts[0] == 0``); equal to measuring
        every position and taking each group's maximum."""
        n = len(lon)
        if n == 0:
            return np.zeros(0)
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
        fx = np.clip(np.floor((lon + 180.0) * FINE_PER_DEG), 0, _NX - 2).astype(np.int64)
        fy = np.clip(np.floor((lat + 90.0) * FINE_PER_DEG), 0, 180 * FINE_PER_DEG - 1
                     ).astype(np.int64)
        d_c = self.cell_distance(fy * _NX + fx)
        u = _arc_upper_m(lon, lat, (fx + 0.5) / FINE_PER_DEG - 180.0,
                         (fy + 0.5) / FINE_PER_DEG - 90.0) + SLACK_M
        upper = d_c + u
        best = np.full(len(starts), -np.inf)
        np.maximum.at(best, group, d_c - u)
        rest = np.arange(n)
        while len(rest):
            rest = rest[upper[rest] > best[group[rest]]]
            if not len(rest):
                break
            order = np.lexsort((-upper[rest], group[rest]))
            g = group[rest][order]
            rank = np.arange(len(g)) - np.searchsorted(g, g, side="left")
            pick = rest[order[rank < PER_ROUND]]
            d = self.measure(lon[pick], lat[pick])
            self.measured_fixes += len(pick)
            np.maximum.at(best, group[pick], d)
            rest = np.setdiff1d(rest, pick, assume_unique=True)
        return best
