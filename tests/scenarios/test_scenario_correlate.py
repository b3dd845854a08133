"""Radar to transponder correlation: same aircraft dropped, others and dark parts kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Geod

from skyfence.model import make_observations
from skyfence.scenarios.correlate import CorrelationConfig, correlate

GEOD = Geod(ellps="WGS84")


def line(track: str, t: np.ndarray, lat0: float, lon0: float, speed: float,
         north_offset_m: float = 0.0, noise_m: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Eastbound positions at ``speed`` m/s, shifted north by ``north_offset_m``."""
    rng = np.random.default_rng(seed)
    lon, lat, _ = GEOD.fwd(np.full(t.size, lon0), np.full(t.size, lat0), np.full(t.size, 90.0),
                           speed * (t - t[0]))
    lon, lat, _ = GEOD.fwd(lon, lat, np.zeros(t.size), north_offset_m + rng.normal(0, noise_m,
                                                                                   t.size))
    return make_observations(time=t, icao24=[track] * t.size, lat=lat, lon=lon)


def test_radar_track_on_an_adsb_aircraft_is_cooperative() -> None:
    t_adsb = np.arange(0.0, 600.0, 5.0)
    t_radar = np.arange(1.3, 600.0, 4.0)
    adsb = line("4b1812", t_adsb, 59.0, 25.0, 220.0)
    radar = line("R0001", t_radar, 59.0, 25.0, 220.0, noise_m=150.0, seed=1)
    c = correlate(radar, adsb)
    assert c.cooperative.all()
    assert set(c.matched_icao) == {"4b1812"}
    assert c.pairs == {("R0001", "4b1812"): len(radar)}


def test_a_target_three_km_away_stays_non_cooperative() -> None:
    t = np.arange(0.0, 600.0, 4.0)
    adsb = line("4b1812", t, 59.0, 25.0, 220.0)
    radar = line("R0002", t + 1.0, 59.0, 25.0, 220.0, north_offset_m=3000.0, noise_m=100.0)
    c = correlate(radar, adsb)
    assert not c.cooperative.any() and c.pairs == {}


def test_fixes_after_the_transponder_goes_dark_stay() -> None:
    t = np.arange(0.0, 1200.0, 4.0)
    radar = line("R0003", t + 1.0, 59.0, 25.0, 200.0, noise_m=100.0)
    adsb = line("4b1812", np.arange(0.0, 600.0, 5.0), 59.0, 25.0, 200.0)
    c = correlate(radar, adsb, CorrelationConfig(margin_s=10.0, window_s=60.0))
    rt = radar["time"].to_numpy()
    assert c.cooperative[rt < 560].all()
    assert not c.cooperative[rt > 650].any()


def test_a_short_crossing_is_not_a_match() -> None:
    # a target crossing an airliner's path at right angles is near it for a few seconds
    t = np.arange(0.0, 400.0, 4.0)
    adsb = line("4b1812", t, 59.0, 25.0, 230.0)
    lon_x, lat_x, _ = GEOD.fwd(25.0, 59.0, 90.0, 230.0 * 200.0)
    lon, lat, _ = GEOD.fwd(np.full(t.size, lon_x), np.full(t.size, lat_x),
                           np.zeros(t.size), 40.0 * (t - 200.0))
    radar = make_observations(time=t + 0.5, icao24=["R0004"] * t.size, lat=lat, lon=lon)
    c = correlate(radar, adsb)
    assert not c.cooperative.any()
