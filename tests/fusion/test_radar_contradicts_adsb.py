"""Radar contradicting ADS-B (issue 16, part 2): an aircraft's ADS-B puts it inside a
zone while the radar, whose own Mode S replies carry the same address, sees it 55 km
away: the ADS-B entry's record calls that out in ``integrity``.

The truth: ``4b1805`` flies due east along 59.5 N at 250 m/s from lon 24.0, one fix
every 5 s for 10 min (at 59.5 N one degree of longitude is 56.5 km, so 0.004425
degree/s). Its ADS-B is spoofed 1 degree north (lat 60.5, inside ``NORTH``: lon
24.0..26.0, lat 60..61). The radar track ``R1`` follows the truth, its plots carrying
Mode S address 4b1805. Lat 59.5 to 60.5 is 111.2 km on the meridian, well beyond the
5 km contradiction gate; an honest ADS-B (on the radar track) is not called out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.zones import Zone
from skyfence.model import make_observations
from skyfence.pipeline import Pipeline, PipelineOptions

T0 = 1758263400.0
NORTH = Zone("NORTH", "custom", shapely.box(24.0, 60.0, 26.0, 61.0))
DEG_PER_S = 250.0 / (111_320.0 * np.cos(np.radians(59.5)))


def run(adsb_lat: float) -> list[dict[str, object]]:
    t = T0 + 5.0 * np.arange(120)
    lon = 24.0 + DEG_PER_S * (t - T0)
    adsb = make_observations(time=t, icao24=["4b1805"] * len(t), lat=np.full(len(t), adsb_lat),
                             lon=lon, altitude=np.full(len(t), 9000.0))
    radar = make_observations(time=t + 1.0, icao24=["R1"] * len(t), lat=np.full(len(t), 59.5),
                              lon=lon + DEG_PER_S, altitude=np.full(len(t), 9000.0))
    radar["mode_s"] = "4b1805"
    both = pd.concat([adsb, radar], ignore_index=True).sort_values("time", ignore_index=True)
    pipe = Pipeline([NORTH, Zone("SOUTH", "custom", shapely.box(24.5, 59.0, 25.0, 60.0))],
                    options=PipelineOptions(fuse=True))
    events = []
    for a in range(0, len(both), 40):  # a live-like stream of batches
        events += pipe.process(both.iloc[a:a + 40])
    events += pipe.close()
    entries = [e.entry for e in events if e.kind in ("exit", "open")]
    return pipe.records(entries)


def test_spoofed_adsb_inside_a_zone_is_called_out_by_the_radar() -> None:
    recs = [r for r in run(60.5) if r["track"] == "4b1805"]
    assert [r["zone"] for r in recs] == ["NORTH"]
    (doubt,) = [x for x in recs[0]["integrity"] if "contradicted by radar" in x]
    # the distance named is the 111 km between the two latitudes, give or take the
    # radar's 1 s lead (250 m)
    km = float(doubt.split("up to ")[1].split(" km")[0])
    assert km == pytest.approx(111.2, abs=0.5)


def test_honest_adsb_is_not_called_out() -> None:
    recs = [r for r in run(59.5) if r["track"] == "4b1805"]
    assert [r["zone"] for r in recs] == ["SOUTH"]
    assert recs[0]["integrity"] == []
