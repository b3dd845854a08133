"""The radar tracker on simulated targets with noise, missed detections and clutter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skyfence.model import OBSERVATION_COLUMNS
from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking import Tracker, track_plots
from skyfence.tracking.association import GlobalNearestNeighbour
from skyfence.tracking.filters import ConstantVelocity
from skyfence.tracking.initiation import MofNInitiator
from skyfence.tracking.metrics import score_tracks, truth_xy
from skyfence.tracking.simulate import simulate_plots, straight_truth, turning_truth
from skyfence.tracking.tracker import scans_of

SITE = RadarSite(1, 1, 59.4, 25.0, 50.0)
T0 = 1_758_268_800.0
SIGMA_R, SIGMA_AZ = 50.0, 0.08
GEOD = Geod(ellps="WGS84")


def _plots(truth: pd.DataFrame, clutter: float = 10.0, seed: int = 1) -> pd.DataFrame:
    return simulate_plots(truth, [SITE], period_s=4.0, sigma_range_m=SIGMA_R,
                          sigma_azimuth_deg=SIGMA_AZ, p_detect=0.9, clutter_per_scan=clutter,
                          sigma_height_m=100.0, seed=seed)


def _noise_bound(plots: pd.DataFrame) -> float:
    """RMS horizontal error a single plot has, from the radar noise at its range."""
    p = plots[plots["target"].notna()]
    cross = p["range_m"] * np.radians(SIGMA_AZ)
    return float(np.sqrt(np.mean(SIGMA_R**2 + cross**2)))


def rmse_against_truth(states: pd.DataFrame, truth: pd.DataFrame, target: str,
                       t0: float, t1: float) -> float:
    """Horizontal RMSE of positions (track states or plots) between ``t0`` and ``t1``
    against the truth interpolated at their times, in a local plane."""
    plane = LocalPlane.around(truth["lat"], truth["lon"])
    g = states[(states["time"] >= t0) & (states["time"] <= t1)]
    t = g["time"].to_numpy(float)
    x, y = plane.to_xy(g["lat"].to_numpy(float), g["lon"].to_numpy(float))
    tx, ty, _ = truth_xy(truth, plane, target, t)
    return float(np.sqrt(np.mean((x - tx) ** 2 + (y - ty) ** 2)))


def truth_heading(truth: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """The truth's track angle at ``t``: pyproj's forward azimuth from each truth sample
    to the next (a geodesic's azimuth turns as it crosses meridians)."""
    lon, lat = truth["lon"].to_numpy(float), truth["lat"].to_numpy(float)
    az, _, _ = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.interp(t, truth["time"].to_numpy(float)[:-1], np.mod(az, 360.0))


def angle_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs((a - b + 180.0) % 360.0 - 180.0)


def test_straight_target_in_clutter() -> None:
    truth = straight_truth("A", 59.6, 25.6, 250.0, 220.0, 9000.0, T0, 600)
    plots = _plots(truth)
    obs = track_plots(plots, [SITE])
    assert list(obs.columns) == list(OBSERVATION_COLUMNS)
    score = score_tracks(obs, truth)
    assert obs["icao24"].unique().tolist() == ["R0001"]  # one track, no false ones
    assert score.matched == {"R0001": "A"}
    assert score.rmse_m < _noise_bound(plots)  # filtering beats a single plot
    # once settled, the filter removes at least a quarter of the plots' error (this seed:
    # 54 m against the plots' 92 m; a tracker passing plots through scores 1.0)
    target_plots = plots[plots["target"] == "A"]
    assert rmse_against_truth(obs, truth, "A", T0 + 100, T0 + 600) < 0.75 * rmse_against_truth(
        target_plots, truth, "A", T0 + 100, T0 + 600)
    # the track starts at the target's first plot (history kept until confirmation)
    first_plot = target_plots["time"].min()
    assert obs["time"].min() == pytest.approx(first_plot)
    settled = obs.iloc[20:]
    assert settled["velocity"].median() == pytest.approx(220.0, abs=1.0)
    # heading against the geodesic's own azimuth at each time (250 at the start, 248 at
    # the end: the geodesic turns by the longitude it covers times sin(latitude))
    err = angle_error(settled["heading"].to_numpy(float),
                      truth_heading(truth, settled["time"].to_numpy(float)))
    assert np.median(err) < 1.0 and np.percentile(err, 90) < 3.0
    # 100 m height noise per plot, ~130 plots after settling
    assert settled["altitude"].median() == pytest.approx(9000.0, abs=30.0)


@pytest.mark.parametrize("rate", [3.0, -2.0])
def test_turning_target_is_held_through_the_turn(rate: float) -> None:
    truth = turning_truth("B", 59.1, 24.5, 60.0, 200.0, 4000.0, T0,
                          [(200.0, 0.0), (90.0, rate), (200.0, 0.0)])
    plots = _plots(truth, seed=2)
    obs = track_plots(plots, [SITE])
    score = score_tracks(obs, truth)
    assert len(score.matched) == 1 and score.unmatched_tracks == 0
    assert score.rmse_m < _noise_bound(plots)
    # against the plots of the target in the same windows (a tracker passing plots
    # through scores 1.0): better than the plots through the turn (200-290 s), and a
    # third better on the straight leg after it (350-490 s) once the filter has settled
    target_plots = plots[plots["target"] == "B"]

    def ratio(lo: float, hi: float) -> float:
        return (rmse_against_truth(obs, truth, "B", T0 + lo, T0 + hi)
                / rmse_against_truth(target_plots, truth, "B", T0 + lo, T0 + hi))

    assert ratio(200, 290) < 1.0
    assert ratio(350, 490) < 0.75
    span = obs["time"].max() - obs["time"].min()
    assert span > 0.95 * (truth["time"].max() - truth["time"].min())


def test_clutter_alone_makes_no_track() -> None:
    # a truth target far outside coverage: every plot is clutter
    truth = straight_truth("far", 10.0, 10.0, 0.0, 100.0, 1000.0, T0, 900)
    plots = _plots(truth, clutter=30.0, seed=3)
    assert plots["target"].isna().all() and len(plots) > 5000
    assert len(track_plots(plots, [SITE])) == 0


def test_crossing_targets_keep_their_ids() -> None:
    # two aircraft crossing at right angles over the same point, same altitude
    cross_lat, cross_lon = 59.55, 25.3
    geod = GEOD
    parts = []
    for name, heading in (("A", 45.0), ("B", 135.0)):
        lon0, lat0, _ = geod.fwd(cross_lon, cross_lat, heading + 180.0, 250.0 * 300)
        parts.append(straight_truth(name, lat0, lon0, heading, 250.0, 6000.0, T0, 600))
    truth = pd.concat(parts, ignore_index=True)
    plots = _plots(truth, seed=4)
    obs = track_plots(plots, [SITE])
    score = score_tracks(obs, truth)
    assert sorted(score.matched.values()) == ["A", "B"]
    assert score.unmatched_tracks == 0
    plane = LocalPlane(cross_lat, cross_lon)
    for track, target in score.matched.items():
        g = obs[obs["icao24"] == track]
        t = g["time"].to_numpy()
        x, y = plane.to_xy(g["lat"], g["lon"])
        dist = {name: np.hypot(x - tx, y - ty)
                for name in "AB" for tx, ty, _ in [truth_xy(truth, plane, name, t)]}
        other = "B" if target == "A" else "A"
        after = t > T0 + 360  # a minute after the crossing
        assert after.sum() > 40
        assert np.all(dist[target][after] < dist[other][after])
        assert np.all(dist[target][after] < 500.0)


def test_streaming_update_matches_batch() -> None:
    truth = straight_truth("A", 59.6, 25.6, 250.0, 220.0, 9000.0, T0, 200)
    plots = _plots(truth, clutter=5.0).sort_values("time").reset_index(drop=True)
    plane = LocalPlane(SITE.lat, SITE.lon)
    tracker = Tracker(plane, [SITE])
    streamed = pd.concat([tracker.update(plots.iloc[idx]) for idx in scans_of(plots, 4.0)])
    batch = track_plots(plots, [SITE], plane=plane)
    assert len(streamed) == len(batch) > 0
    assert np.sort(streamed["time"].to_numpy()) == pytest.approx(np.sort(batch["time"]))
    assert tracker.confirmed_count == 1
    # scans without plots are misses: the track ends after three of them
    end = plots["time"].max()
    for k in range(1, 4):
        assert len(tracker.update(plots.iloc[:0], now=end + 4.0 * k)) == 0
    assert tracker.confirmed_count == 0


def test_constant_velocity_filter_also_tracks() -> None:
    truth = straight_truth("A", 59.6, 25.6, 250.0, 220.0, 9000.0, T0, 400)
    plots = _plots(truth)
    obs = track_plots(plots, [SITE], motion=ConstantVelocity(q=5.0))
    score = score_tracks(obs, truth)
    assert score.matched == {"R0001": "A"}
    assert score.rmse_m < _noise_bound(plots)


def test_m_of_n_stages() -> None:
    init = MofNInitiator(((2, 3), (3, 5)))
    # hits bit 0 = this scan; ages count this scan
    status, drop = init.step(np.array([0, 0, 0, 1]), np.array([0b11, 0b101, 0b001, 0b0111]),
                             np.array([2, 3, 3, 3]))
    assert status.tolist() == [1, 1, 0, 2]
    assert drop.tolist() == [False, False, True, False]


def test_gnn_takes_the_cheapest_whole_assignment() -> None:
    gnn = GlobalNearestNeighbour()
    cost = np.array([[1.0, 2.0], [1.5, np.inf]])
    rows, cols = gnn.associate(cost)
    # greedy would give track 0 plot 0 and leave track 1 unassigned
    assert dict(zip(rows.tolist(), cols.tolist(), strict=True)) == {0: 1, 1: 0}
    rows, _ = gnn.associate(np.full((2, 3), np.inf))
    assert rows.size == 0
