"""What each run of inside fixes contributes to its entry, for all runs of a zone at once.

An entry folds in its runs of inside fixes one by one (:func:`~skyfence.detect.
zone_pass.absorb_run`), and a run's lowest and highest altitude, fastest speed, speed
moments and best position sigma are reductions over its rows (and its turns a few
searches in the batch's turn table). Taken one run at a
time they cost a dozen small array calls per run, which is most of the detector's
time on traffic with many short runs (world-like traffic against every state).
:class:`RunFacts` computes them for every run of a zone's batch in a few
``reduceat`` calls; a run's facts are then plain lookups.

The values are those of the per-run reductions (``nanmin``, ``nanmax``: NaN left out,
None when a run has none), except that sums are accumulated left to right, where
``numpy.sum`` adds pairwise: they may differ in the last bits.
"""

from __future__ import annotations

import math

import numpy as np

from skyfence.detect.track_state import BatchWork
from skyfence.identify.turns import Anchor

__all__ = ["Facts", "RunFacts"]

#: what a run of inside fixes adds to its entry: first (lat, lon), last time, last
#: (lat, lon), lowest and highest altitude, fastest speed, speed (count, sum, sum of
#: squares), best sigma, hardest turn and the turn anchor to go on from, last callsign,
#: and whether an emergency squawk is among its rows
Facts = tuple[tuple[float, float], float, tuple[float, float], float | None, float | None,
              float | None, tuple[int, float, float], float | None, float | None,
              Anchor | None, str | None, bool]


class RunFacts:
    """Per-run reductions of one zone's inside runs in one batch.

    ``stats`` are the zone's inside rows new in the batch (ascending) and ``starts``
    the index in ``stats`` where each run begins; a run holds consecutive rows, so run
    ``i`` is ``stats[starts[i]:starts[i + 1]]``.

    >>> import pandas as pd
    >>> from skyfence.detect.track_state import BatchWork, TrackTable
    >>> batch = pd.DataFrame({"icao24": ["a"] * 4, "time": [0.0, 1.0, 2.0, 3.0],
    ...                       "lon": [0.0] * 4, "lat": [0.0] * 4,
    ...                       "altitude": [100.0, float("nan"), 300.0, 50.0],
    ...                       "velocity": [10.0, 12.0, float("nan"), 20.0]})
    >>> w = BatchWork.build(batch, TrackTable(), gap_s=300.0)
    >>> facts = RunFacts(w, np.array([0, 1, 2, 3]), np.array([0, 2]))
    >>> facts.altitudes(0), facts.altitudes(2)
    ((100.0, 100.0), (50.0, 300.0))
    >>> facts.max_speed(0), facts.speed_moments(2)
    (12.0, (1, 20.0, 400.0))
    """

    def __init__(self, w: BatchWork, stats: np.ndarray, starts: np.ndarray) -> None:
        self._index = dict(zip(stats[starts].tolist(), range(len(starts)), strict=True))
        if not len(starts):
            return
        self._alt_min = np.fmin.reduceat(w.alt[stats], starts).tolist()
        self._alt_max = np.fmax.reduceat(w.alt[stats], starts).tolist()
        velocity, _ = w.cols.speeds_headings()
        v = velocity[stats]
        self._speed_max = np.fmax.reduceat(v, starts).tolist()
        known = np.isfinite(v)
        v0 = np.where(known, v, 0.0)
        self._speed_n = np.add.reduceat(known.astype(np.int64), starts).tolist()
        self._speed_sum = np.add.reduceat(v0, starts).tolist()
        self._speed_sq = np.add.reduceat(v0 * v0, starts).tolist()
        sigma = w.cols.sigmas()
        self._sigma = None if sigma is None else np.fmin.reduceat(sigma[stats], starts).tolist()
        self._turns = w.turns()
        ends = np.append(starts[1:] - 1, len(stats) - 1)
        first, last = stats[starts], stats[ends]
        self._spans = self._turns.spans(first, last)
        self._first_point = list(zip(w.lat[first].tolist(), w.lon[first].tolist(),
                                     strict=True))
        self._last_at = w.time[last].tolist()
        self._last_point = list(zip(w.lat[last].tolist(), w.lon[last].tolist(), strict=True))
        self._callsign = w.cols.last_callsigns(first, last)
        self._emergency = w.cols.has_emergency(first, last).tolist()

    def of(self, first_row: int, anchor: Anchor | None) -> Facts:
        """Every fact of the run that begins at ``first_row``, its turn continuing from
        ``anchor`` (what :func:`~skyfence.detect.zone_pass.row_facts` finds from its
        rows), with one lookup."""
        i = self._index[first_row]
        s = self._spans
        turn, anchor = self._turns.extend_span(anchor, s.first[i], s.next_start[i],
                                               s.last_start[i], s.inner[i])
        sigma = self._sigma
        return (self._first_point[i], self._last_at[i], self._last_point[i],
                _known(self._alt_min[i]), _known(self._alt_max[i]),
                _known(self._speed_max[i]),
                (self._speed_n[i], self._speed_sum[i], self._speed_sq[i]),
                None if sigma is None else _known(sigma[i]), turn, anchor,
                self._callsign[i], self._emergency[i])

    def altitudes(self, first_row: int) -> tuple[float | None, float | None]:
        """Lowest and highest known altitude of the run (m)."""
        i = self._index[first_row]
        return _known(self._alt_min[i]), _known(self._alt_max[i])

    def max_speed(self, first_row: int) -> float | None:
        """The run's fastest known ground speed (m/s)."""
        return _known(self._speed_max[self._index[first_row]])

    def speed_moments(self, first_row: int) -> tuple[int, float, float]:
        """Count, sum (m/s) and sum of squares of the run's known ground speeds."""
        i = self._index[first_row]
        return self._speed_n[i], self._speed_sum[i], self._speed_sq[i]

    def min_sigma(self, first_row: int) -> float | None:
        """The run's smallest known position sigma (m); None without a sigma column."""
        return None if self._sigma is None else _known(self._sigma[self._index[first_row]])


def _known(x: float) -> float | None:
    return None if math.isnan(x) else x
