"""A distance field of one zone's boundary on the index grid: depth bounds by lookup.

An entry's ``max_depth_m`` is the largest *exact* distance from its inside fixes to the
boundary (:meth:`~skyfence.airspace.boundary.Boundary.distance_m`, a WGS84 geodesic
that costs tens of microseconds). Only the deepest fix of a run needs it; the others
only need to be shown not deeper. The field holds the exact distance ``D(c)`` of the
centre of cells of nested grids (1/4, 1/16, 1/64 and 1/256 degree) where fixes that can
be the deepest of their run lie; distance to a boundary is 1-Lipschitz, so a fix ``p``
in cell ``c`` lies within
``D(c) ± u(p, c)``, where ``u`` is an upper bound of the geodesic from ``p`` to the
centre (a great circle on a sphere of the ellipsoid's largest radius of curvature, plus
0.5 %, plus :data:`SLACK_M`). A run's maximum is then found by measuring, round after
round, its fixes whose upper bound still beats the best value known, highest first: the
answer is the exact distance of the deepest fix, as if every fix had been measured.

Cells are filled on first use (the field depends on the zone only, never on the data)
and kept for the detector's life, up to :data:`MAX_CELLS` per grid and zone. Measured on
1 M Baltic rows (4 states, 2,265 runs): about 32,000 cells at first, then 1.3 exact
distances per run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from skyfence.airspace.geodesy import geodesic_upper_m

__all__ = ["LEVELS", "MAX_CELLS", "SLACK_M", "DepthField"]

FloatArray = npt.NDArray[np.float64]
#: cells per degree of each grid, coarse to fine (the finest: the index's fine cells)
LEVELS = (4, 16, 64, 256)
#: most cells kept per zone (16 bytes each); beyond, the field starts again empty
MAX_CELLS = 4_000_000
#: absolute slack on the Lipschitz bound: the measured distance follows the boundary
#: cut into 1 km pieces, within centimetres of the true distance
SLACK_M = 1.0
#: fixes measured per run and round
PER_ROUND = 2


class _Level:
    """Exact distances at the centres of the visited cells of one grid.

    Safe to share between threads: readers take the (keys, values) pair as one
    reference; a writer measures outside the lock and merges under it.
    """

    def __init__(self, per_deg: int) -> None:
        self.per_deg = per_deg
        self.nx = 360 * per_deg + 1
        self._kv = (np.empty(0, np.int64), np.empty(0, np.float64))
        self._lock = threading.Lock()

    @property
    def keys(self) -> np.ndarray:
        """Keys of the cells measured so far, ascending."""
        return self._kv[0]

    @property
    def values(self) -> FloatArray:
        """``D`` of the cells :attr:`keys`, in the same order."""
        return self._kv[1]

    @property
    def n_keys(self) -> int:
        """How many cell keys the grid has (keys are ``0 <= key < n_keys``)."""
        return 180 * self.per_deg * self.nx

    def absorb(self, keys: np.ndarray, values: FloatArray) -> int:
        """Add cells measured elsewhere (a disk cache: :mod:`~skyfence.airspace.
        depth_cache`); a cell already held keeps its value. How many were new."""
        with self._lock:
            held, held_values = self._kv
            new = ~np.isin(keys, held, assume_unique=True)
            if not new.any() or len(held) + int(new.sum()) > MAX_CELLS:
                return 0
            merged = np.concatenate([held, keys[new]])
            order = np.argsort(merged, kind="stable")
            self._kv = (merged[order], np.concatenate([held_values, values[new]])[order])
            return int(new.sum())

    def cells(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, FloatArray,
                                                               FloatArray]:
        """Cell key of each position and the lon/lat of its centre."""
        k = self.per_deg
        fx = np.clip(np.floor((lon + 180.0) * k), 0, self.nx - 2).astype(np.int64)
        fy = np.clip(np.floor((lat + 90.0) * k), 0, 180 * k - 1).astype(np.int64)
        return fy * self.nx + fx, (fx + 0.5) / k - 180.0, (fy + 0.5) / k - 90.0

    def lookup(self, key: np.ndarray, measure: Callable[[np.ndarray, np.ndarray], FloatArray]
               ) -> tuple[FloatArray, int]:
        """``D`` of the cells ``key``, measuring new ones; and how many were new."""
        keys, values = self._kv
        pos = np.minimum(np.searchsorted(keys, key), max(len(keys) - 1, 0))
        found = keys[pos] == key if len(keys) else np.zeros(len(key), bool)
        out = np.empty(len(key), np.float64)
        out[found] = values[pos[found]]
        if found.all():
            return out, 0
        new, where = np.unique(key[~found], return_inverse=True)
        fy, fx = np.divmod(new, self.nx)
        d = measure((fx + 0.5) / self.per_deg - 180.0, (fy + 0.5) / self.per_deg - 90.0)
        out[~found] = d[where]
        with self._lock:
            keys, values = self._kv
            if len(keys) + len(new) > MAX_CELLS:
                keys, values = np.empty(0, np.int64), np.empty(0, np.float64)
            merged = np.concatenate([keys, new])
            order = np.argsort(merged, kind="stable")
            merged, vals = merged[order], np.concatenate([values, d])[order]
            first = np.concatenate([[True], merged[1:] != merged[:-1]])
            self._kv = (merged[first], vals[first])
        return out, len(new)


class DepthField:
    """Exact distances at the centres of visited cells, and run maxima from them.

    ``measure(lon, lat)`` is the exact distance (the zone's
    :meth:`~skyfence.airspace.boundary.Boundary.distance_m`). The cells are a
    hierarchy (:data:`LEVELS`, from a quarter of a degree down): a run
    is bounded on the coarse grid first, and only its fixes that can still be the
    deepest go down to the finer grids, so the cells measured follow the runs' deepest
    parts, not the area the traffic covers.
    """

    def __init__(self, measure: Callable[[np.ndarray, np.ndarray], FloatArray],
                 levels: tuple[int, ...] | None = None) -> None:
        self.measure = measure
        self.levels = [_Level(k) for k in (levels or LEVELS)]
        #: exact distances computed, for cells and for fixes
        self.measured_cells = 0
        self.measured_fixes = 0
        #: :attr:`measured_cells` when the field was last loaded from or saved to a disk
        #: cache (:mod:`~skyfence.airspace.depth_cache`): more means new cells to save
        self.saved_cells = 0

    def __len__(self) -> int:
        return sum(len(lv.keys) for lv in self.levels)

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
        best = np.full(len(starts), -np.inf)
        upper = np.full(n, np.inf)
        rest = np.arange(n)
        for level in self.levels:
            if not len(rest):
                break
            key, cx, cy = level.cells(lon[rest], lat[rest])
            d_c, new = level.lookup(key, self.measure)
            self.measured_cells += new
            u = geodesic_upper_m(lon[rest], lat[rest], cx, cy) + SLACK_M
            upper[rest] = np.minimum(upper[rest], d_c + u)
            np.maximum.at(best, group[rest], d_c - u)
            rest = rest[upper[rest] > best[group[rest]]]
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
