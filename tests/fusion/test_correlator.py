"""Radar to transponder correlation: same aircraft dropped, others and dark parts kept.

The tracks are drawn with pyproj geodesics (independent of the code under test); the
expected answers follow from the geometry: a radar track 150 m around an ADS-B track is
it, one 3 km away is not, fixes after the transponder's last message (+ margin) are not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Geod

from fusion.test_correlator_rules import stream
from skyfence.fusion.correlator import Correlator, FusionConfig
from skyfence.model import make_observations


class Result:
    """Which radar rows fusion kept (non-cooperative) and what it matched."""

    def __init__(self, radar: pd.DataFrame, kept: pd.DataFrame, c: Correlator) -> None:
        got = set(zip(kept["icao24"], kept["time"].round(6), strict=True))
        self.cooperative = np.array([(i, round(t, 6)) not in got for i, t in
                                     zip(radar["icao24"], radar["time"], strict=True)])
        self.pairs = c.matches
        self.identities = c.identities


def correlate(radar: pd.DataFrame, adsb: pd.DataFrame, config: FusionConfig | None = None,
              step_s: float = 4.0) -> Result:
    """Stream both in ``step_s`` batches through a correlator, as the pipeline does."""
    c = Correlator(config)
    return Result(radar, stream(c, radar, adsb, step_s), c)

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
    assert c.pairs == {("R0001", "4b1812"): len(radar)}
    assert c.identities["R0001"]["went_dark_at"] is None


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
    c = correlate(radar, adsb, FusionConfig(margin_s=10.0, window_s=60.0))
    rt = radar["time"].to_numpy()
    last_adsb = float(adsb["time"].max())  # 595 s
    assert c.cooperative[rt <= last_adsb].all()
    # after the last message plus the 10 s margin no fix can match
    assert not c.cooperative[rt > last_adsb + 10.0].any()
    ident = c.identities["R0003"]
    assert ident["icao24"] == "4b1812" and ident["went_dark_at"] == last_adsb


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


def test_batches_do_not_change_the_decisions() -> None:
    # the same data cut in 1 s, 4 s and 37 s batches: the same fixes kept
    t = np.arange(0.0, 900.0, 4.0)
    radar = pd.concat([line("R0003", t + 1.0, 59.0, 25.0, 200.0, noise_m=120.0, seed=3),
                       line("R0009", t + 2.0, 59.0, 25.0, 200.0, north_offset_m=2500.0,
                            noise_m=120.0, seed=4)], ignore_index=True)
    adsb = line("4b1812", np.arange(0.0, 500.0, 5.0), 59.0, 25.0, 200.0)
    ref = correlate(radar, adsb, step_s=4.0).cooperative
    for step in (1.0, 37.0, 1000.0):
        assert (correlate(radar, adsb, step_s=step).cooperative == ref).all(), step
    assert ref.any() and not ref.all()


def test_mode_s_address_of_the_radar_plots_names_a_cooperative_track() -> None:
    t = np.arange(0.0, 200.0, 4.0)
    radar = line("R0005", t, 59.0, 25.0, 150.0)
    radar["mode_s"] = "4B1812"
    c = correlate(radar, radar.iloc[0:0])
    assert not c.cooperative.any()  # nothing to drop it for: it is screened...
    ident = c.identities["R0005"]  # ...under the address its transponder replied with
    assert ident["icao24"] == "4b1812" and ident["mode_s"] and ident["went_dark_at"] is None


def test_two_radars_young_track_waits_for_a_transponder_that_starts_late() -> None:
    # Two radars 0.2 s apart give a track two fixes per 4 s rotation, so by 4.2 s it
    # has two fixes besides its first plot. The aircraft's ADS-B starts at 7 s (an
    # aircraft coming into the receivers' coverage, a recorded flight that begins
    # late): within the 8 s hold a new track's fixes wait, so no fix may be released as
    # non-cooperative before the messages had the chance to arrive. Every fix lies on
    # the ADS-B line (100 m noise, gate 1.5 km): all of them are the aircraft.
    t_radar = np.sort(np.concatenate([np.arange(0.0, 120.0, 4.0),
                                      np.arange(0.2, 120.0, 4.0)]))
    radar = line("R0007", t_radar, 52.9, 19.6, 240.0, noise_m=100.0, seed=7)
    adsb = line("3c097b", np.arange(7.0, 120.0, 5.0), 52.9, 19.6, 240.0)
    # the ADS-B line starts where the aircraft is at 7 s
    lon, lat, _ = GEOD.fwd(adsb["lon"].to_numpy(), adsb["lat"].to_numpy(),
                           np.full(len(adsb), 90.0), np.full(len(adsb), 240.0 * 7.0))
    adsb["lon"], adsb["lat"] = lon, lat
    c = correlate(radar, adsb)
    assert c.cooperative.all(), radar["time"][~c.cooperative].tolist()
