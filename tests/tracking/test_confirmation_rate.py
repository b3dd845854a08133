"""Confirmation in dense clutter: the threshold follows the rate of candidate tracks.

A track is confirmed when its score (a log likelihood ratio) reaches ``T``; a candidate
made of clutter gets there with a probability of at most ``exp(-T)``, so ``S``
candidates an hour confirm about ``S exp(-T)`` false tracks. The tracker counts its
candidates and raises ``T`` to ``ln(S / false_tracks_per_h)`` where that exceeds the
fixed ``confirm`` (skyfence.tracking.initiation.TrackScore.threshold).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking import Tracker, track_plots
from skyfence.tracking.initiation import TrackScore
from skyfence.tracking.simulate import simulate_plots, straight_truth

SITE = RadarSite(1, 1, 59.4, 25.0, 50.0)
T0 = 1_758_268_800.0


def scattered(n: int, k: int, t: float) -> pd.DataFrame:
    """``n`` plots at time ``t``, 100 km apart and 1,000 km from window ``k``'s (so no
    plot falls in the gate of a track started before: every plot starts a candidate)."""
    lat = 59.4 + 0.9 * np.arange(n)
    lon = np.full(n, -170.0 + 10.0 * (k % 30))
    return pd.DataFrame({"time": np.full(n, t), "lat": lat, "lon": lon, "sac": 1.0,
                         "sic": 1.0, "range_m": 1e5, "sigma_range_m": 50.0,
                         "sigma_azimuth_deg": 0.08})


def test_the_start_rate_is_a_running_mean_then_smoothed() -> None:
    tracker = Tracker(LocalPlane(59.4, 25.0), [SITE], score=TrackScore(false_tracks_per_h=1.0))
    counts = [2, 1, 3, 0, 2]
    for k, n in enumerate(counts):
        tracker.update(scattered(n, k, T0 + 4.0 * k), now=T0 + 4.0 * k)
    # windows 4 s apart; the first has no window before it. From the second on, the
    # running mean of the starts per window: (1 + 3 + 0 + 2) / 4 = 1.5 a window of 4 s,
    # 1,350 an hour
    assert tracker._starts_per_h == pytest.approx(1.5 * 3600.0 / 4.0)
    # empty windows on: the running mean lasts until ten minutes after the first
    # window (window 150): 6 starts in 150 windows, 0.04 a window, 36 an hour; then
    # exponential smoothing, each window of 4 s moving the rate 4 / 600 of the way to
    # its own: nine empty windows (151-159) leave 36 (1 - 4/600)^9
    for k in range(5, 160):
        tracker.update(scattered(0, k, T0 + 4.0 * k), now=T0 + 4.0 * k)
    before = tracker._starts_per_h
    assert before == pytest.approx(36.0 * (1 - 4 / 600) ** 9)
    # a window with 9 starts (8,100 an hour) moves it 4 / 600 of the way there
    tracker.update(scattered(9, 160, T0 + 640.0), now=T0 + 640.0)
    assert tracker._starts_per_h == pytest.approx(before + 4 / 600 * (8100.0 - before))


def test_threshold_rises_with_the_candidates_only_beyond_confirm() -> None:
    s = TrackScore(confirm=7.0, false_tracks_per_h=2.0)
    # ln(S / 2) > 7 only for S > 2 e^7 = 2,193 candidates an hour
    assert s.threshold(2000.0) == 7.0
    assert s.threshold(2 * np.exp(9.0)) == pytest.approx(9.0)
    assert TrackScore(confirm=7.0).threshold(1e9) == 7.0  # no rate given: fixed


@pytest.fixture(scope="module")
def clutter_hour() -> pd.DataFrame:
    """An hour of one 4 s radar's plots: 20 clutter plots a scan over its 40 km disc
    (the night swarm's airport radar) and one drone at 15 m/s, 10 km out."""
    truth = straight_truth("D", 59.49, 25.0, 90.0, 15.0, 200.0, T0, 3600, step_s=4.0)
    return simulate_plots(truth, [SITE], period_s=4.0, sigma_range_m=15.0,
                          sigma_azimuth_deg=0.15, p_detect=0.8, clutter_per_scan=20.0,
                          max_range_m=40_000.0, sigma_height_m=40.0, seed=4)


def false_and_drone_tracks(plots: pd.DataFrame, score: TrackScore) -> tuple[int, float]:
    """False tracks confirmed (most updates from clutter), and when the drone's first
    track was confirmed after its first plot (s)."""
    obs = track_plots(plots, [SITE], score=score, details=True)
    target = plots.set_index("record")["target"]
    by = obs.assign(target=target.reindex(obs["record"]).to_numpy(object))
    follows = by.dropna(subset=["record"]).groupby("icao24")["target"].agg(
        lambda s: s.value_counts().idxmax() if s.notna().any() else None)
    false = int(follows.isna().sum())
    drone = by[by["icao24"].isin(follows[follows == "D"].index)]
    return false, float(drone["time"].min() - plots.loc[plots["target"].eq("D"), "time"].min())


@pytest.mark.slow
def test_dense_clutter_confirms_about_the_false_tracks_allowed(
        clutter_hour: pd.DataFrame) -> None:
    fixed, drone_fixed_s = false_and_drone_tracks(clutter_hour, TrackScore())
    rated, drone_rated_s = false_and_drone_tracks(clutter_hour,
                                                  TrackScore(false_tracks_per_h=1.0))
    # about 20 x 900 = 18,000 candidates an hour: ln(18,000) = 9.8 against 7, a bound of
    # one false track an hour where exp(-7) x 18,000 = 16 were allowed
    assert fixed >= 4, fixed
    assert rated <= 2, (rated, fixed)
    # the drone is still tracked from where it was first held (a confirmed track
    # reports its states from its first plot on), at most one scan later than with the
    # fixed threshold
    assert drone_rated_s <= drone_fixed_s + 4.0, (drone_rated_s, drone_fixed_s)
    assert drone_rated_s < 20.0
