"""Several radars as one picture: centralised fusion, registration against ADS-B, JPDA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyfence.radar import LocalPlane, RadarSite, geodetic_to_polar
from skyfence.tracking import Tracker
from skyfence.tracking.association import JointProbabilistic
from skyfence.tracking.metrics import score_tracks
from skyfence.tracking.registration import Registration
from skyfence.tracking.simulate import simulate_plots, straight_truth
from skyfence.tracking.tracker import scans_of

T0 = 1_758_268_800.0
NEAR = RadarSite(1, 1, 55.62, 12.64, 30.0, name="near")
FAR = RadarSite(1, 2, 55.33, 12.43, 60.0, name="far")


def _two_radar_plots(truth: pd.DataFrame, *, bias_range_m: float = 0.0,
                     bias_azimuth_deg: float = 0.0, clutter: float = 0.0) -> pd.DataFrame:
    a = simulate_plots(truth, [NEAR], period_s=4.0, sigma_range_m=15.0,
                       sigma_azimuth_deg=0.15, p_detect=0.9, sigma_height_m=40.0,
                       clutter_per_scan=clutter, max_range_m=60_000.0, seed=1)
    b = simulate_plots(truth, [FAR], period_s=5.0, sigma_range_m=30.0, sigma_azimuth_deg=0.1,
                       p_detect=0.9, sigma_height_m=120.0, clutter_per_scan=clutter,
                       max_range_m=80_000.0, seed=2, bias_range_m=bias_range_m,
                       bias_azimuth_deg=bias_azimuth_deg)
    plots = pd.concat([a, b], ignore_index=True).sort_values("time", kind="stable")
    plots = plots.reset_index(drop=True)
    plots["record"] = np.arange(1, len(plots) + 1)
    return plots


def _track(plots: pd.DataFrame, tracker: Tracker) -> pd.DataFrame:
    out = [tracker.update(plots.iloc[idx]) for idx in scans_of(plots, 4.0)]
    return pd.concat(out, ignore_index=True)


def test_two_radars_make_one_track_updated_by_both() -> None:
    # a slow drone seen by a 4 s and a 5 s radar at once
    truth = straight_truth("D", 55.55, 12.55, 60.0, 15.0, 200.0, T0, 900)
    plots = _two_radar_plots(truth)
    tracker = Tracker(LocalPlane.around([NEAR.lat, FAR.lat], [NEAR.lon, FAR.lon]), [NEAR, FAR])
    states = _track(plots, tracker)
    assert states["track"].nunique() == 1
    # every plot of both radars updated the track (one state each), not one per window
    both = plots["target"].eq("D").sum()
    per_radar = plots.groupby("sic")["target"].count()
    assert per_radar.min() > 100
    assert len(states) >= 0.97 * both > 1.5 * per_radar.max()
    assert set(states["sic"].dropna().astype(int)) == {1, 2}


def test_registration_finds_a_radar_bias_against_adsb() -> None:
    # four aircraft broadcasting ADS-B; the far radar's range is 150 m long and its
    # azimuth 0.3 deg clockwise: the estimates are the medians of plot-minus-truth
    # residuals, so they must come within the noise of the median (sigma / sqrt(n))
    parts = [straight_truth(f"A{k}", 55.4 + 0.08 * k, 12.2 + 0.1 * k, 45.0 + 30 * k, 120.0,
                            3000.0 + 500 * k, T0, 600, step_s=1.0) for k in range(4)]
    truth = pd.concat(parts, ignore_index=True)
    plots = _two_radar_plots(truth, bias_range_m=150.0, bias_azimuth_deg=0.3)
    reg = Registration([NEAR, FAR])
    adsb = truth[(truth["time"] - T0) % 5.0 == 0].assign(icao24=lambda d: d["target"])
    for t in np.arange(T0, T0 + 620.0, 4.0):  # stream: ADS-B and plots as time goes
        reg.add_reference(adsb[(adsb["time"] >= t) & (adsb["time"] < t + 4.0)])
        reg.observe(plots[(plots["time"] >= t) & (plots["time"] < t + 4.0)])
        reg.advance(t + 4.0)
    reg.advance(T0 + 700.0)
    est = {e["radar"]: e for e in reg.estimates()}
    assert est["far"]["pairs"] > 300 and est["near"]["pairs"] > 300
    assert est["far"]["range_bias_m"] == pytest.approx(150.0, abs=6.0)
    assert est["far"]["azimuth_bias_deg"] == pytest.approx(0.3, abs=0.02)
    assert est["near"]["range_bias_m"] == pytest.approx(0.0, abs=4.0)
    assert est["near"]["azimuth_bias_deg"] == pytest.approx(0.0, abs=0.03)
    # corrected plots of the far radar measure the true range again
    far = plots[(plots["sic"] == 2) & plots["target"].notna()]
    fixed = reg.correct(far)
    g = truth.set_index(["target", "time"])
    tt = np.round(far["time"].to_numpy())  # truth every second: nearest sample
    keys = list(zip(far["target"], np.clip(tt, T0, T0 + 600), strict=True))
    ref = g.loc[keys]
    true_r, _, _ = geodetic_to_polar(FAR, ref["lat"], ref["lon"], ref["altitude"])
    assert abs(np.median(far["range_m"].to_numpy() - true_r) - 150.0) < 10.0
    assert abs(np.median(fixed["range_m"].to_numpy() - true_r)) < 10.0


def test_biased_radar_is_fused_once_registered() -> None:
    # without registration the far radar's biased plots fall outside the near radar's
    # gates and start a second track; with its bias taken out they update the first
    truth = straight_truth("D", 55.55, 12.55, 60.0, 15.0, 200.0, T0, 900)
    plots = _two_radar_plots(truth, bias_range_m=150.0, bias_azimuth_deg=0.3)
    plane = LocalPlane.around([NEAR.lat, FAR.lat], [NEAR.lon, FAR.lon])
    raw = _track(plots, Tracker(plane, [NEAR, FAR]))
    reg = Registration([NEAR, FAR], min_pairs=1)
    reg._dr[FAR.key], reg._da[FAR.key] = np.array([150.0]), np.array([0.3])  # known bias
    fixed = _track(reg.correct(plots), Tracker(plane, [NEAR, FAR]))
    assert raw["track"].nunique() >= 2
    assert fixed["track"].nunique() == 1


@pytest.mark.parametrize("associator", [None, JointProbabilistic()])
def test_jpda_and_gnn_hold_a_target_in_clutter(associator: JointProbabilistic | None) -> None:
    truth = straight_truth("D", 55.55, 12.55, 60.0, 15.0, 200.0, T0, 900)
    plots = _two_radar_plots(truth, clutter=20.0)
    plane = LocalPlane.around([NEAR.lat, FAR.lat], [NEAR.lon, FAR.lon])
    parts = {"associator": associator} if associator is not None else {}
    states = _track(plots, Tracker(plane, [NEAR, FAR], **parts))  # type: ignore[arg-type]
    obs = states.drop(columns="icao24").rename(columns={"track": "icao24"})
    score = score_tracks(obs, truth)
    assert list(score.matched.values()) == ["D"]
    assert score.rmse_m < 40.0  # plots: 15 m range, 0.15 deg at ~8 km = 21 m across


def test_height_gate_tells_a_drone_from_a_jet_over_it() -> None:
    # a drone track at 300 m (its plots' heights); plots at 500 m fit it, a jet's plot
    # at 11 km over it does not (3,000 m + 4 sigma of the predicted altitude), and a 2D
    # plot without a height always fits
    truth = straight_truth("D", 55.55, 12.60, 0.0, 0.2, 300.0, T0, 120)
    plots = simulate_plots(truth, [NEAR], period_s=4.0, sigma_range_m=15.0,
                           sigma_azimuth_deg=0.15, p_detect=1.0, sigma_height_m=30.0,
                           seed=1)
    tracker = Tracker(LocalPlane(NEAR.lat, NEAR.lon), [NEAR])
    _track(plots, tracker)
    assert tracker.confirmed_count == 1
    k = np.array([0])
    gate = tracker._height_gate(k.repeat(3), np.array([500.0, 11_000.0, np.nan]),
                                np.full(3, 4.0))
    assert gate.tolist() == [True, False, True]


def test_registration_measures_azimuth_across_north() -> None:
    # two aircraft fly due north past the far radar (55.33 N, 12.43 E), 30-60 km away,
    # 0.00145 deg of longitude (92 m) west and east of its meridian: true azimuths of
    # about 359.85 and 0.15 deg. With the radar's azimuth 0.3 deg clockwise the west
    # one's plots read about 0.15, past north: its residual is 0.15 - 359.85 = +0.3,
    # not -359.7. Both aircraft give +0.3 (sigma 0.05 deg), so the median is 0.3; read
    # as -359.7, the west aircraft's residuals would all sort below the east one's and
    # drag the median off it (or, with more of them, to -359.7)
    parts = [straight_truth(name, lat0, FAR.lon + dlon, 0.0, 120.0, 3000.0, T0, 300)
             for name, lat0, dlon in (("W", 55.60, -0.00145), ("E", 55.70, 0.00145))]
    truth = pd.concat(parts, ignore_index=True)
    plots = simulate_plots(truth, [FAR], period_s=5.0, sigma_range_m=30.0,
                           sigma_azimuth_deg=0.05, p_detect=1.0, sigma_height_m=120.0,
                           max_range_m=80_000.0, seed=3, bias_azimuth_deg=0.3)
    _, true_az, _ = geodetic_to_polar(FAR, truth["lat"], truth["lon"], truth["altitude"])
    west = truth["target"].eq("W").to_numpy()
    assert (true_az[west] > 359.8).all() and (true_az[~west] < 0.2).all()
    reg = Registration([FAR])
    adsb = truth.assign(icao24=lambda d: d["target"].map({"W": "4b1805", "E": "4b1806"}))
    for t in np.arange(T0, T0 + 320.0, 5.0):
        reg.add_reference(adsb[(adsb["time"] >= t) & (adsb["time"] < t + 5.0)])
        reg.observe(plots[(plots["time"] >= t) & (plots["time"] < t + 5.0)])
        reg.advance(t + 5.0)
    reg.advance(T0 + 400.0)
    (est,) = reg.estimates()
    assert est["pairs"] > 80
    assert est["azimuth_bias_deg"] == pytest.approx(0.3, abs=0.02)
