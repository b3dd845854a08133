"""Truth trajectories, relocation of real traffic, ground truth, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skyfence.identify.icao_blocks import registration_state
from skyfence.scenarios import parse_scenario
from skyfence.scenarios.background import background_truth, read_sample, relocate
from skyfence.scenarios.generate import aircraft_truth, generate
from skyfence.scenarios.spec import BackgroundSpec

GEOD = Geod(ellps="WGS84")
START = 1_735_689_600.0


def tiny(**extra: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "name": "tiny", "start": "2025-01-01T00:00:00Z", "seed": 3,
        "zones": {"circles": [{"name": "C", "lat": 57.0, "lon": 10.0, "radius_km": 5}]},
        "sensors": {"radars": [{"sac": 1, "sic": 2, "lat": 57.05, "lon": 9.9, "range_km": 60,
                                "sigma_range_m": 20, "sigma_azimuth_deg": 0.1,
                                "clutter_per_scan": 1}]},
        "aircraft": [
            {"id": "D1", "category": "drone", "speed_ms": 20,
             "waypoints": [{"lat": 56.9, "lon": 10.0, "alt_m": 300, "time": 0},
                           {"lat": 57.1, "lon": 10.0}]},
            {"id": "C1", "category": "propeller", "speed_ms": 70,
             "transponder": {"icao24": "458abc", "callsign": "DAN1"},
             "waypoints": [{"lat": 57.0, "lon": 9.6, "alt_m": 900, "time": 60},
                           {"lat": 57.0, "lon": 10.4}]},
        ],
    }
    doc.update(extra)
    return doc


def test_truth_follows_the_geodesic_at_the_given_speed() -> None:
    sc = parse_scenario(tiny())
    tr = aircraft_truth(sc.aircraft[0], START)
    _, _, dist = GEOD.inv(10.0, 56.9, 10.0, 57.1)
    assert tr["time"].iloc[-1] - START == pytest.approx(dist / 20.0, abs=1e-6)
    step = GEOD.inv(tr["lon"].to_numpy()[:-2], tr["lat"].to_numpy()[:-2],
                    tr["lon"].to_numpy()[1:-1], tr["lat"].to_numpy()[1:-1])[2]
    assert np.allclose(step, 20.0, atol=1e-3)
    assert (tr["altitude"] == 300).all()


def test_ground_truth_entry_is_exact_on_a_straight_line() -> None:
    gen = generate(parse_scenario(tiny()))
    (e,) = [e for e in gen.truth_entries if e.track == "D1"]
    # the circle's chord along the meridian: the entry is where the geodesic distance to
    # the centre falls to 5 km, i.e. 5 km south of the centre (the zone polygon is within
    # 0.1 m of the geodesic circle: 0.005 s at 20 m/s)
    _, _, d_south = GEOD.inv(10.0, 56.9, 10.0, 57.0)
    expected = START + (d_south - 5000.0) / 20.0
    assert e.entered_at == pytest.approx(expected, abs=0.01)
    assert e.exited_at == pytest.approx(expected + 10_000.0 / 20.0, abs=0.01)
    # truth samples every second (20 m): the nearest is at most 10 m from the centre
    assert 4989.9 <= e.max_depth_m <= 5000.1


def test_generation_is_deterministic_and_seeded() -> None:
    a = generate(parse_scenario(tiny()))
    b = generate(parse_scenario(tiny()))
    c = generate(parse_scenario(tiny(seed=4)))
    pd.testing.assert_frame_equal(a.plots, b.plots)
    pd.testing.assert_frame_equal(a.adsb, b.adsb)
    assert not a.plots[["lat", "lon"]].equals(c.plots[["lat", "lon"]])


def test_adsb_only_for_transponder_aircraft_and_plots_for_all() -> None:
    gen = generate(parse_scenario(tiny()))
    assert set(gen.adsb["icao24"]) == {"458abc"}
    assert set(gen.adsb["callsign"]) == {"DAN1"}
    assert {"D1", "C1"} <= set(gen.plots["target"].dropna())
    assert gen.plots["target"].isna().any()  # clutter


def test_relocation_keeps_distances_and_speeds() -> None:
    raw = read_sample("switzerland-2018-08-01")
    flight = raw[raw["icao24"] == raw["icao24"].iloc[0]].sort_values("time")
    moved = relocate(flight, 59.5, 25.0, 40.0, anchor=(46.8, 8.2))
    d0 = GEOD.inv(flight["lon"].to_numpy()[:-1], flight["lat"].to_numpy()[:-1],
                  flight["lon"].to_numpy()[1:], flight["lat"].to_numpy()[1:])[2]
    d1 = GEOD.inv(moved["lon"].to_numpy()[:-1], moved["lat"].to_numpy()[:-1],
                  moved["lon"].to_numpy()[1:], moved["lat"].to_numpy()[1:])[2]
    assert np.allclose(d1, d0, rtol=2e-3, atol=1.0)
    assert abs(moved["lat"].mean() - 59.5) < 3 and abs(moved["lon"].mean() - 25.0) < 5


def test_background_is_cut_at_gaps_and_shifted_in_time() -> None:
    spec = BackgroundSpec("switzerland-2018-08-01", offset_s=0, lat=57.0, lon=10.0)
    bg, dropped = background_truth(spec, START, 1800.0, ())
    assert bg["time"].min() >= START and bg["time"].max() <= START + 1800.0
    steps = bg.groupby("target")["time"].diff().dropna()
    assert steps.max() <= 60.0
    assert dropped == 0 and bg["icao24"].notna().all()


def test_background_leaves_out_watched_state_aircraft() -> None:
    spec = BackgroundSpec("switzerland-2018-08-01")
    everyone, _ = background_truth(spec, START, 3600.0, ())
    bg, dropped = background_truth(spec, START, 3600.0, ("DEU",))
    assert dropped > 0
    assert "DEU" not in set(registration_state(bg["icao24"].to_numpy(object)))
    assert everyone["icao24"].nunique() - bg["icao24"].nunique() == dropped


def test_corners_are_flown_as_turns_and_straight_legs_kept() -> None:
    from skyfence.scenarios.generate import TURN_ACCEL_MS2, round_corners

    # a right-angle corner at 140 m/s on a flat grid (degrees stand in for metres: the
    # averaging is linear): straight parts far from the corner stay exact, the corner
    # is cut, and the heading turns over W = pi v / (2 a) = 28 s, not in one step
    t = np.arange(0.0, 200.0)
    x = np.where(t < 100, t, 100.0)
    y = np.where(t < 100, 0.0, t - 100.0)
    lat, lon, _ = round_corners(t, y, x, np.zeros_like(t), 140.0)
    assert np.allclose(lon[:80], x[:80]) and np.allclose(lat[:80], 0.0)
    assert np.allclose(lat[120:], y[120:]) and np.allclose(lon[120:], 100.0)
    assert lat[100] > 0.0 and lon[100] < 100.0  # the corner is cut
    heading = np.degrees(np.arctan2(np.diff(lat), np.diff(lon)))
    turning = np.flatnonzero((heading > 1.0) & (heading < 89.0))
    width = np.pi * 140.0 / (2 * TURN_ACCEL_MS2)
    assert abs(len(turning) - width) <= 2
