"""Track deletion: when a confirmed track has gone unseen for too long.

A deleter looks at every confirmed track after a scan and says which to end.
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

    def delete(self, misses: IntArray, last_update: Array, now: float) -> BoolArray:
        """``misses``: consecutive scans without a plot; ``last_update``: unix s."""
        ...


@dataclass(frozen=True)
class MissDeleter:
    """End a track after ``max_misses`` consecutive scans without a plot."""

    max_misses: int = 3

    def delete(self, misses: IntArray, last_update: Array, now: float) -> BoolArray:
        return np.asarray(misses >= self.max_misses)


@dataclass(frozen=True)
class CoastDeleter:
    """End a track when its last plot is more than ``max_coast_s`` seconds old."""

    max_coast_s: float = 20.0

    def delete(self, misses: IntArray, last_update: Array, now: float) -> BoolArray:
        return np.asarray(now - last_update > self.max_coast_s)


@dataclass(frozen=True)
class AnyOf:
    """End a track when any of several deleters says so."""

    deleters: tuple[Deleter, ...]

    def delete(self, misses: IntArray, last_update: Array, now: float) -> BoolArray:
        out = np.zeros(misses.shape, bool)
        for d in self.deleters:
            out |= d.delete(misses, last_update, now)
        return out
