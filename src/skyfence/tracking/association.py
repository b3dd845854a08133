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


@dataclass(frozen=True)
class JointProbabilistic(GlobalNearestNeighbour):
    """Joint probabilistic data association (JPDA) for confirmed tracks.

    Instead of giving each track its single best plot, every plot in a track's gate
    updates it, weighted by the probability that it is the track's target, and the
    probability that none is (a miss, the rest clutter) keeps part of the prediction.
    The probabilities are joint over the tracks that compete for the plots, computed
    with Fitzgerald's "cheap JPDA" (no enumeration of joint events, so the cost stays
    linear in the gated pairs): with ``L`` the likelihood ratio of each pair (detection
    probability times the innovation density, over the clutter density),

        beta_ij = L_ij / (sum_k L_ik + sum_t L_tj - L_ij + (1 - p_detect p_gate))

    A clutter plot near a track moves it a little, not all the way; two tracks near
    one plot share it. Candidates and tentative tracks still take plots one to one
    (``associate``, global nearest neighbour): a track is started on hard evidence.

    One track, two plots of ratios 9 and 1; the miss term is 1 - 0.85 x 0.999 = 0.1509:
    9 / (10 + 9 - 9 + 0.1509) = 0.887, 1 / (10 + 1 - 1 + 0.1509) = 0.099, miss the rest.

    >>> b, b0 = JointProbabilistic().weights(np.array([[9.0, 1.0]]))
    >>> [round(float(x), 3) for x in (*b[0], b0[0])]
    [0.887, 0.099, 0.015]
    """

    p_detect: float = 0.85

    @property
    def soft(self) -> bool:
        """Confirmed tracks are updated by every gated plot (see :meth:`weights`)."""
        return True

    def weights(self, ratio: npt.NDArray[np.float64]
                ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Association probabilities (tracks x plots) and the miss probability of each
        track, from likelihood ratios ``ratio`` (0 outside the gate)."""
        miss = 1.0 - self.p_detect * self.gate_probability
        by_track = ratio.sum(axis=1, keepdims=True)
        by_plot = ratio.sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            beta = np.where(ratio > 0, ratio / (by_track + by_plot - ratio + miss), 0.0)
        beta = np.nan_to_num(beta)
        total = beta.sum(axis=1)
        scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-300), 1.0)
        beta = beta * scale[:, None]
        return beta, np.clip(1.0 - beta.sum(axis=1), 0.0, 1.0)
