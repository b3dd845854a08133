"""Point-in-zone tests that are safe from several threads: one lock around GEOS.

Every zone geometry is prepared once (``shapely.prepare``) and shared by all detectors,
threads and web requests. GEOS's prepared polygons keep state behind their queries, and
two threads testing points against the same prepared polygon at once corrupt the heap:
``skyfence scan`` of 600,000 Baltic rows (``--memory 520M``, two screening threads)
aborted with ``malloc(): unaligned tcache chunk detected`` or a segmentation fault in
between 1 run in 15 and 4 runs in 5 (gdb: inside ``IndexedPointInAreaLocator``'s
STRtree), and in none of 20 with this lock. Building the locators first
(:func:`~skyfence.scanning.local_pool.warm_prepared`) did not prevent it.

Web requests (the map's borders, evidence pictures) test the same shared zones while
``watch`` screens, so their GEOS predicates on zones take the lock too. The lock is held
for one vectorized call (thousands of points), so it costs a few hundred nanoseconds per
call, not per point; the rest of screening (numpy, the grid lookups, the KD-tree) still
runs in parallel.
"""

from __future__ import annotations

import threading

import numpy as np
import shapely

__all__ = ["contains_xy", "intersects"]

_GEOS = threading.Lock()


def contains_xy(geometry: shapely.Geometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``shapely.contains_xy(geometry, x, y)`` as a bool array, one thread at a time.

    >>> square = shapely.box(0, 0, 1, 1)
    >>> contains_xy(square, np.array([0.5, 2.0]), np.array([0.5, 0.5])).tolist()
    [True, False]
    """
    with _GEOS:
        return np.asarray(shapely.contains_xy(geometry, x, y), dtype=bool)


def intersects(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    """``shapely.intersects(a, b)`` one thread at a time (``a`` may be a shared zone).

    >>> intersects(shapely.box(0, 0, 1, 1), shapely.box(0.5, 0.5, 2, 2))
    True
    """
    with _GEOS:
        return bool(shapely.intersects(a, b))
