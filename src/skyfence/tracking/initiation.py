"""Track initiation by M-of-N logic.

A plot that no track claims starts a *candidate*. A track climbs one stage each time it
has ``m`` hits in its last ``n`` scans (by default 2 of 3: tentative, then 3 of 5:
confirmed) and is dropped when it has lived ``n`` scans without reaching the next
stage. Clutter rarely lines up twice in a gate, so it dies as a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def popcount(bits: IntArray, n: int) -> IntArray:
    """Number of ones among the lowest ``n`` bits (the last ``n`` scans)."""
    window = bits & ((1 << n) - 1)
    out = np.zeros_like(window)
    for k in range(n):
        out += (window >> k) & 1
    return out


@dataclass(frozen=True)
class MofNInitiator:
    """M-of-N stages; ``stages[-1]`` reached means confirmed."""

    stages: tuple[tuple[int, int], ...] = ((2, 3), (3, 5))

    @property
    def confirmed(self) -> int:
        """The status value of a confirmed track."""
        return len(self.stages)

    def step(self, status: IntArray, hits: IntArray, age: IntArray) -> tuple[IntArray, BoolArray]:
        """New status of each track and which to drop, after this scan's hit bit.

        ``hits`` holds one bit per scan (bit 0 is this scan), ``age`` the scans since
        birth, counting this one.
        """
        status = status.copy()
        for level, (m, n) in enumerate(self.stages):
            at = status == level
            status[at & (popcount(hits, n) >= m)] = level + 1
        drop = np.zeros(status.shape, bool)
        for level, (_, n) in enumerate(self.stages):
            drop |= (status == level) & (age >= n + level)
        return status, drop
