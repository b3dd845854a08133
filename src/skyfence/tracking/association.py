"""Data association: which plot updates which track.

An associator receives a cost matrix (tracks x plots) where pairs outside the gate
are ``inf`` and returns the chosen pairs. Global nearest neighbour solves the
assignment problem over the whole scan at once (scipy's ``linear_sum_assignment``), so
two tracks never take the same plot and crossing targets keep their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

IntArray = npt.NDArray[np.intp]


class Associator(Protocol):
    """Chooses track-plot pairs from a gated cost matrix."""

    def associate(self, cost: npt.NDArray[np.float64]) -> tuple[IntArray, IntArray]:
        """Row (track) and column (plot) indices of the chosen pairs."""
        ...


@dataclass(frozen=True)
class GlobalNearestNeighbour:
    """Minimum total cost assignment, one plot per track at most, gated.

    ``gate_probability`` sets the chi-square gate on the squared Mahalanobis distance
    of the 2D innovation (0.999: a true plot falls outside one time in a thousand).
    """

    gate_probability: float = 0.999

    @property
    def gate(self) -> float:
        """The gate on the squared Mahalanobis distance."""
        return float(chi2.ppf(self.gate_probability, df=2))

    def associate(self, cost: npt.NDArray[np.float64]) -> tuple[IntArray, IntArray]:
        if cost.size == 0:
            empty = np.empty(0, np.intp)
            return empty, empty
        finite = np.isfinite(cost)
        if not finite.any():
            empty = np.empty(0, np.intp)
            return empty, empty
        big = np.abs(cost[finite]).max() * 10 + 1e6
        rows, cols = linear_sum_assignment(np.where(finite, cost, big))
        ok = finite[rows, cols]
        return rows[ok].astype(np.intp), cols[ok].astype(np.intp)
