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


@dataclass(frozen=True)
class TrackScore:
    """Sequential likelihood-ratio confirmation (Blackman's track score), on top of M-of-N.

    M-of-N counts hits, whatever they look like; in heavy clutter a young track with a
    wide gate collects clutter often enough to pass 3 of 5. The track score weighs each
    hit by how well it fits against how likely clutter is to fall there: a plot with
    innovation covariance ``S`` and squared Mahalanobis distance ``d2`` adds

        ln(p_detect) - ln(2 pi) - (d2 + ln|S|) / 2 - ln(clutter density per m^2)

    and a scan without a plot adds ``ln(1 - p_detect)``. The clutter density is measured
    per radar as the tracker goes (plots not taken by confirmed tracks, over the disc
    the radar's plots cover). A track is confirmed only when M-of-N says so **and** its
    score reached ``confirm``: sparse clutter lets it through at the third plot as
    before, dense clutter asks for plots that line up better or more of them.

    The score goes on after confirmation: a confirmed track whose score falls
    ``drop`` below its best ends (a track that lost its target and is kept alive by
    clutter in a gate grown wide while coasting scores below zero at every such hit).

    A plot at d2 = 2 with a 100 m x 100 m innovation (ln|S| = 2 ln 1e4 = 18.42), in
    clutter of 1e-9 per m^2: -0.223 - 1.838 - 10.210 + 20.723 = 8.45.

    >>> s = TrackScore(p_detect=0.8, confirm=7.0)
    >>> round(float(s.hit(np.array([2.0 + 2 * np.log(100.0**2)]), 1e-9)[0]), 2)
    8.45
    """

    p_detect: float = 0.85
    confirm: float = 7.0
    drop: float = 20.0
    #: false tracks per hour the picture may confirm (None: ``confirm`` alone); see
    #: :meth:`threshold`
    false_tracks_per_h: float | None = None

    def threshold(self, starts_per_h: float) -> float:
        """The score a track must reach to be confirmed when ``starts_per_h`` candidate
        tracks start an hour.

        Wald's sequential test: confirming at a score of ``T`` confirms a track that
        is clutter with a probability of at most ``exp(-T)`` (the score is the log
        likelihood ratio), so with ``S`` candidates an hour, nearly all of them clutter,
        about ``S exp(-T)`` false tracks an hour are confirmed. ``T`` is raised from
        ``confirm`` to ``ln(S / false_tracks_per_h)`` where the candidates are so many
        that ``confirm`` would let more through: dense clutter asks for more evidence,
        sparse clutter confirms as fast as before.

        With 36,000 candidates an hour (20 clutter plots a scan on two radars) and one
        false track an hour allowed: ln(36,000) = 10.49.

        >>> s = TrackScore(false_tracks_per_h=1.0)
        >>> round(s.threshold(36_000.0), 2), s.threshold(500.0)
        (10.49, 7.0)
        """
        if self.false_tracks_per_h is None or starts_per_h <= 0:
            return self.confirm
        return max(self.confirm, float(np.log(starts_per_h / self.false_tracks_per_h)))

    def hit(self, cost: npt.NDArray[np.float64], density_m2: float) -> npt.NDArray[np.float64]:
        """Score increments of hits with gating cost ``cost`` (= d2 + ln|S|)."""
        return np.asarray(np.log(self.p_detect) - np.log(2 * np.pi) - 0.5 * cost
                          - np.log(max(density_m2, 1e-18)))

    @property
    def miss(self) -> float:
        """Score increment of a scan without a plot."""
        return float(np.log1p(-self.p_detect))
