"""Track deletion: when a confirmed track has gone unseen for too long.

A deleter looks at every confirmed track after a scan and says which to end. Between
plots a track **coasts**: it is predicted, its covariance (and so its gate) grows, and
it reports nothing. How long it may coast is a time, not a number of scans, so the
same rule holds for radars of any rotation period and for several radars at once:
:class:`CoastDeleter` ends a young track soon (clutter that happened to line up) and an
established one only after ``mature_coast_s`` (a drone that hovers low in the clutter,
or flies behind a hill, for a few missed scans in a row). A fast track coasts for a
distance, ``max_coast_m``, not a time: a jet unseen for 20 s is 5 km from where it was
predicted and its gate is wide enough to take another aircraft, a drone has moved 200 m.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Deleter(Protocol):
    """Says which confirmed tracks end now."""

    def delete(self, misses: IntArray, last_update: Array, now: float,
               updates: IntArray | None = None, speed_m_s: Array | None = None) -> BoolArray:
        """``misses``: consecutive scans without a plot; ``last_update``: unix s of the
        last plot; ``updates``: plots the track has taken since it was born;
        ``speed_m_s``: its estimated ground speed."""
        ...


@dataclass(frozen=True)
class MissDeleter:
    """End a track after ``max_misses`` consecutive scans without a plot."""

    max_misses: int = 3

    def delete(self, misses: IntArray, last_update: Array, now: float,
               updates: IntArray | None = None, speed_m_s: Array | None = None) -> BoolArray:
        return np.asarray(misses >= self.max_misses)


@dataclass(frozen=True)
class CoastDeleter:
    """End a track when its last plot is more than ``max_coast_s`` seconds old.

    With ``mature_coast_s``, a track that has taken at least ``mature_updates`` plots
    may coast that long instead; in between the limit grows linearly with the plots.
    With ``max_coast_m``, no track coasts longer than it takes to fly that far (but
    always ``min_coast_s``, a few scans).

    >>> d = CoastDeleter(20.0, mature_coast_s=60.0, mature_updates=30)
    >>> d.delete(np.array([0, 0, 0]), np.array([0.0, 0.0, 0.0]), 40.0,
    ...          np.array([5, 30, 17])).tolist()   # limits 26.7, 60, 42.7 s
    [True, False, False]
    >>> d = CoastDeleter(20.0, mature_coast_s=60.0, max_coast_m=3000.0, min_coast_s=12.0)
    >>> d.delete(np.zeros(3, np.int64), np.zeros(3), 15.0, np.array([40, 40, 40]),
    ...          np.array([10.0, 150.0, 300.0])).tolist()   # limits 60, 20, 12 s
    [False, False, True]
    """

    max_coast_s: float = 20.0
    mature_coast_s: float | None = None
    mature_updates: int = 30
    max_coast_m: float | None = None
    min_coast_s: float = 12.0

    def limit_s(self, updates: IntArray | None, n: int,
                speed_m_s: Array | None = None) -> Array:
        """The coasting limit of each of ``n`` tracks."""
        if self.mature_coast_s is None or updates is None:
            limit = np.full(n, self.max_coast_s)
        else:
            f = np.clip(np.asarray(updates, np.float64) / self.mature_updates, 0.0, 1.0)
            limit = self.max_coast_s + f * (self.mature_coast_s - self.max_coast_s)
        if self.max_coast_m is not None and speed_m_s is not None:
            far = self.max_coast_m / np.maximum(np.nan_to_num(speed_m_s), 1e-3)
            limit = np.minimum(limit, np.maximum(far, self.min_coast_s))
        return np.asarray(limit)

    def delete(self, misses: IntArray, last_update: Array, now: float,
               updates: IntArray | None = None, speed_m_s: Array | None = None) -> BoolArray:
        return np.asarray(now - last_update > self.limit_s(updates, len(last_update),
                                                             speed_m_s))


@dataclass(frozen=True)
class AnyOf:
    """End a track when any of several deleters says so."""

    deleters: tuple[Deleter, ...]

    def delete(self, misses: IntArray, last_update: Array, now: float,
               updates: IntArray | None = None, speed_m_s: Array | None = None) -> BoolArray:
        out = np.zeros(misses.shape, bool)
        for d in self.deleters:
            out |= d.delete(misses, last_update, now, updates, speed_m_s)
        return out
