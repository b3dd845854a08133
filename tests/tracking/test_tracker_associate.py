"""Which plots a track takes and which start new tracks (``Tracker._associate``,
``Tracker._start``), one rule at a time.

Written for the thirteenth mutation run of the ``tracking`` group (docs/mutation.md):
the rules of ``_associate``'s docstring (a plot inside the gate of a confirmed or
tentative track may not start a new one; with a soft associator a confirmed track is
updated by every plot in its gate) and what a new track starts from. Plots are
noiseless, on a radar at the plane's centre; every expected value is worked out next
to its test, from the rule or from a symmetry, not from the tracker's own arithmetic.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking import Tracker
from skyfence.tracking.association import GlobalNearestNeighbour, JointProbabilistic
from skyfence.tracking.tracker import scans_of

PLANE = LocalPlane(55.0, 12.0)
SITE = RadarSite(1, 1, 55.0, 12.0, 0.0)  # at the plane's centre
T0 = 1_758_268_800.0


def _plots(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Plots without noise at plane positions ``x``, ``y`` of the radar ``SITE``."""
    lat, lon = PLANE.to_latlon(x, y)
    return pd.DataFrame({"time": t, "lat": lat, "lon": lon, "sac": 1.0, "sic": 1.0,
                         "range_m": np.hypot(x, y)})


def _east(tracker: Tracker, n: int) -> tuple[float, float]:
    """Feed ``n`` scans (4 s) of one target flying east at 100 m/s along y = 20 km;
    return the time and x of the target one scan later."""
    t = T0 + 4.0 * np.arange(n)
    plots = _plots(t, -10_000.0 + 100.0 * (t - T0), np.full(n, 20_000.0))
    for idx in scans_of(plots, 4.0):
        tracker.update(plots.iloc[idx])
    return float(t[-1] + 4.0), float(-10_000.0 + 100.0 * (t[-1] + 4.0 - T0))


@pytest.mark.parametrize(("scans", "status"), [(2, 1), (6, 2)])
def test_a_plot_in_a_firm_track_s_gate_starts_no_track(scans: int, status: int) -> None:
    # the rule of _associate's docstring: a plot inside the gate of a tentative (status
    # 1, after two plots of 2-of-3) or confirmed (2) track may not start a new one. Two
    # plots in the next scan: one on the target (the track takes it) and one 300 m
    # across its path, inside the young track's wide gate and the confirmed one's (a
    # 4 s prediction of a track whose velocity is known to tens of m/s): no new track.
    # 1000 m across is outside both gates and starts a candidate (status 0): the gate,
    # not the plot count, decides
    for across, after in ((300.0, [2]), (1000.0, [2, 0])):
        tracker = Tracker(PLANE, [SITE])
        tn, xn = _east(tracker, scans)
        assert tracker._a["status"].tolist() == [status]
        tracker.update(_plots(np.full(2, tn), np.full(2, xn),
                              np.array([20_000.0, 20_000.0 + across])))
        assert tracker._a["status"].tolist() == after, across


def test_a_jpda_track_is_updated_by_every_plot_in_its_gate() -> None:
    # with a soft associator a confirmed track's position is updated by all the plots
    # in its gate, weighted by their association probabilities (_associate's
    # docstring). Two plots at the predicted time, the same distance d either side of
    # the track's path (y = 20 km): by symmetry their weights are equal and the update
    # moves the track along its path only, its y stays 20 km (within the prediction's
    # own error, under a metre). A one-to-one (GNN) update moves it a gain times d
    # towards one plot: tens of metres (so a track updated by one plot fails here)
    base = Tracker(PLANE, [SITE], associator=JointProbabilistic())
    tn, xn = _east(base, 10)
    assert base.confirmed_count == 1
    for d in (60.0, 100.0):
        tracker = copy.deepcopy(base)
        out = tracker.update(_plots(np.full(2, tn), np.full(2, xn),
                                    np.array([20_000.0 + d, 20_000.0 - d])))
        assert len(out) == 1 and len(tracker) == 1  # neither plot starts a track
        assert out["y"].iloc[0] == pytest.approx(20_000.0, abs=2.0), d
    # the same plots one-to-one: the track moves towards one of them
    hard = Tracker(PLANE, [SITE], associator=GlobalNearestNeighbour())
    _east(hard, 10)
    out = hard.update(_plots(np.full(2, tn), np.full(2, xn),
                             np.array([20_000.0 + 60.0, 20_000.0 - 60.0])))
    assert abs(out["y"].iloc[0] - 20_000.0) > 10.0
