"""The plot simulator: detection probability, noise and clutter as asked."""

from __future__ import annotations

import numpy as np
import pytest

from skyfence.radar import RadarSite, geodetic_to_polar
from skyfence.tracking.simulate import simulate_plots, straight_truth

SITE = RadarSite(1, 1, 59.4, 25.0, 50.0)
T0 = 1_758_268_800.0


def test_detection_noise_and_clutter_statistics() -> None:
    truth = straight_truth("A", 59.7, 25.5, 200.0, 100.0, 5000.0, T0, 1200)
    truth["transponder"] = True
    truth["icao24"] = "4ca7a8"
    plots = simulate_plots(truth, [SITE], period_s=4.0, sigma_range_m=60.0,
                           sigma_azimuth_deg=0.1, p_detect=0.8, clutter_per_scan=5.0, seed=9)
    target = plots[plots["target"] == "A"]
    scans = 1200 / 4.0
    assert len(target) / scans == pytest.approx(0.8, abs=0.06)
    assert (plots["target"].isna().sum() / scans) == pytest.approx(5.0, rel=0.15)
    # range noise: measured minus true slant range at the plot times
    g = truth.sort_values("time")
    t = target["time"].to_numpy()
    lat = np.interp(t, g["time"], g["lat"])
    lon = np.interp(t, g["time"], g["lon"])
    rho, az, _ = geodetic_to_polar(SITE, lat, lon, np.full(t.size, 5000.0))
    assert np.std(target["range_m"] - rho) == pytest.approx(60.0, rel=0.15)
    daz = (target["azimuth_deg"] - az + 180) % 360 - 180
    assert np.std(daz) == pytest.approx(0.1, rel=0.15)
    # transponder: Mode C altitude in 25 ft steps and the address
    assert np.allclose(target["altitude"] / (25 * 0.3048), np.round(target["altitude"]
                                                                       / (25 * 0.3048)))
    assert set(target["icao24"]) == {"4ca7a8"}
    assert plots["time"].is_monotonic_increasing
    # a plot is taken when the beam passes: consecutive detections are ~one period apart
    assert np.median(np.diff(t)) == pytest.approx(4.0, abs=0.1)


def test_out_of_range_target_is_not_seen() -> None:
    truth = straight_truth("far", 40.0, 0.0, 0.0, 100.0, 1000.0, T0, 120)
    plots = simulate_plots(truth, [SITE], p_detect=1.0, seed=1)
    assert len(plots) == 0
    assert "target" in plots.columns
