"""With radar, a transponder that falls silent is judged by the radar, not guessed.

An aircraft flies west inside a zone at 10 km, its ADS-B every 5 s for 200 s, in the
middle of airspace the coverage model has seen 30 tracks cross (every cell around,
none beginning or ending there): without radar its silence is a ``went_dark``
warning. A primary radar track 100 m beside it (fixes every 4 s) that goes on for
another 600 s is, by fusion's rule, that aircraft gone dark: the watch then reports
the radar track as a non-cooperative entry carrying the address and ``went_dark_at``
(critical under the default policy), and the guess is not made on top of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.zones import Zone
from skyfence.detect.coverage import CoverageModel
from skyfence.fusion.radar_stage import RadarStage
from skyfence.model import make_observations
from skyfence.radar import RadarSite
from skyfence.service.watch import Watcher

ZONE = Zone("BOX", "custom", shapely.box(25.0, 59.0, 27.0, 59.5))
M_LAT = 111_320.0


def westbound(track: str, t: np.ndarray, lat: float) -> pd.DataFrame:
    lon = 26.5 - 220.0 * t / (M_LAT * np.cos(np.radians(lat)))
    return make_observations(time=t, icao24=[track] * t.size, lat=np.full(t.size, lat),
                             lon=lon, altitude=np.full(t.size, 10_000.0),
                             velocity=np.full(t.size, 220.0), heading=np.full(t.size, 270.0),
                             vertrate=np.zeros(t.size))


def warm_coverage() -> CoverageModel:
    """30 passages in every cell of 58.75-59.75 N, 24.75-27.25 E at 10 km."""
    m = CoverageModel()
    lat, lon = np.meshgrid(np.arange(58.875, 59.75, 0.25), np.arange(24.875, 27.25, 0.25))
    keys = m.keys(lat.ravel(), lon.ravel(), np.full(lat.size, 10_000.0))
    m.add(passages=np.repeat(keys, 30))
    return m


#: the aircraft, and another one the receivers keep hearing (the feed is alive)
ADSB = pd.concat([westbound("4b1812", np.arange(0.0, 200.0, 5.0), 59.25),
                  westbound("4b1813", np.arange(0.0, 900.0, 5.0), 58.9)], ignore_index=True)
RADAR = westbound("R0001", np.arange(1.0, 800.0, 4.0), 59.25 + 100.0 / M_LAT)


def watch(radar_tracks: pd.DataFrame | None, slice_s: float = 5.0
          ) -> list[tuple[float, dict[str, Any]]]:
    """(feed time, event) of a watch fed ``slice_s`` of data at a time."""
    site = RadarSite(sac=1, sic=1, lat=59.4, lon=26.0)
    w = Watcher([ZONE], radar=RadarStage([site]), coverage=warm_coverage())
    events = []
    for lo in np.arange(0.0, 900.0, slice_s):
        events += [(lo + slice_s, e) for e in w.process(
            part(ADSB, lo, slice_s), now=lo + slice_s,
            tracks=None if radar_tracks is None else part(radar_tracks, lo, slice_s))]
    return events + [(np.inf, e) for e in w.close()]


def part(f: pd.DataFrame, lo: float, slice_s: float) -> pd.DataFrame:
    return f[(f["time"] >= lo) & (f["time"] < lo + slice_s)]


@pytest.mark.parametrize("slice_s", [5.0, 30.0])
def test_without_radar_the_silence_is_a_warning(slice_s: float) -> None:
    dark = [(t, e) for t, e in watch(None, slice_s) if e["event"] == "went_dark"]
    assert [(e["track"], e["severity"]) for _, e in dark] == [("4b1812", "warning")]
    assert dark[0][1]["entered_at"] == "1970-01-01T00:03:15.000Z"  # the last fix, 195 s
    # a message every 5 s: silent after 60 s, however many messages each look covers
    assert 60.0 <= dark[0][0] - 195.0 < 60.0 + slice_s


def test_with_radar_the_confirmed_went_dark_outranks_the_guess() -> None:
    events = [e for _, e in watch(RADAR)]
    assert [e for e in events if e["event"] == "went_dark"] == []
    entries = [e for e in events if e["event"] == "entry"]
    assert [(e["track"], e["icao24"], e["went_dark_at"], e["severity"]) for e in entries] == [
        ("R0001", "4b1812", "1970-01-01T00:03:15.000Z", "critical")]
