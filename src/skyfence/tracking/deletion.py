"""Track deletion: when a confirmed track has gone unseen for too long.

A deleter looks at every confirmed track after a scan and says which to end. Between
plots a track **coasts**: it is predicted, its covariance (and so its gate) grows, and
it reports nothing. How long it may coast is a time, not a number of scans, so the
same rule holds for radars of any rotation period and for several radars at once:
:class:`CoastDeleter` ends a young track soon (clutter that happened to line up) and an
established one only after ``mature_coast_s`` (a drone that hovers low in the clutter,
or flies behind a hill, for a few missed scans in a row).
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
               updates: IntArray | None = None) -> BoolArray:
        """``misses``: consecutive scans without a plot; ``last_update``: unix s of the
        last plot; ``updates``: plots the track has taken since it was born."""
        ...


@dataclass(frozen=True)
class MissDeleter:
    """End a track after ``max_misses`` consecutive scans without a plot."""

    max_misses: int = 3

    def delete(self, misses: IntArray, last_update: Array, now: float,
               updates: IntArray | None = None) -> BoolArray:
        return np.asarray(misses >= self.max_misses)


@dataclass(frozen=True)
class CoastDeleter:
    """End a track when its last plot is more than ``max_coast_s`` seconds old.

    With ``mature_coast_s``, a track that has taken at least ``mature_updates`` plots
    may coast that long instead; in between the limit grows linearly with the plots.

    >>> d = CoastDeleter(20.0, mature_coast_s=60.0, mature_updates=30)
    >>> d.delete(np.array([0, 0, 0]), np.array([0.0, 0.0, 0.0]), 40.0,
    ...          np.array([5, 30, 17])).tolist()
    [True, False, True]
    """

    max_coast_s: float = 20.0
    mature_coast_s: float | None = None
    mature_updates: int = 30

    def limit_s(self, updates: IntArray | None, n: int) -> Array:
        """The coasting limit of each of ``n`` tracks."""
        if self.mature_coast_s is None or updates is None:
            return np.full(n, self.max_coast_s)
        f = np.clip(np.asarray(updates, np.float64) / self.mature_updates, 0.0, 1.0)
        return np.asarray(self.max_coast_s + f * (self.mature_coast_s - self.max_coast_s))

    def delete(self, misses: IntArray, last_update: Array, now: float,
               updates: IntArray | None = None) -> BoolArray:
        return np.asarray(now - last_update > self.limit_s(updates, len(last_update)))


@dataclass(frozen=True)
class AnyOf:
    """End a track when any of several deleters says so."""

    deleters: tuple[Deleter, ...]

    def delete(self, misses: IntArray, last_update: Array, now: float,
               updates: IntArray | None = None) -> BoolArray:
        out = np.zeros(misses.shape, bool)
        for d in self.deleters:
            out |= d.delete(misses, last_update, now, updates)
        return out
