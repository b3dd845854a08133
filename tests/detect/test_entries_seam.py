"""Entries at the seams of the lon/lat grid: legs over ±180 that cross a zone between
fixes, and fixes exactly on ±180 or on a pole.

The answers are hand arithmetic on the contract's straight lon/lat segments, taken the
shorter way round in longitude: a leg from 179.5 E to 179.0 W runs 179.5 -> 181.0 in
unwrapped longitude, so it reaches unwrapped longitude L at t0 + (L - 179.5) / 1.5 * dt.
Zones are small boxes, so the answer does not depend on any boundary data.
"""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from skyfence.airspace.zones import Zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.model import Entry, make_observations


def track(t: list[float], lon: list[float], lat: list[float]) -> pd.DataFrame:
    return make_observations(time=t, icao24=["R0001"] * len(t), lat=lat, lon=lon)


def finals(zones: list[Zone], obs: pd.DataFrame) -> list[Entry]:
    det = EntryDetector(zones, DetectorConfig())
    ev = det.process(obs) + det.close()
    return sorted((e.entry for e in ev if e.kind in ("exit", "open")),
                  key=lambda e: (e.zone, e.entered_at))


#: a box just east of the antimeridian (unwrapped from the west: 180.2 .. 180.5)
EAST_OF_180 = Zone("E180", "custom", shapely.box(-179.8, -0.5, -179.5, 0.5))
#: a box just west of it (unwrapped from the east: -180.5 .. -180.2)
WEST_OF_180 = Zone("W180", "custom", shapely.box(179.5, -0.5, 179.8, 0.5))


@pytest.mark.parametrize(("zone", "lon"), [
    (EAST_OF_180, [179.5, -179.0]),    # eastbound: 179.5 -> 181.0 unwrapped
    (WEST_OF_180, [-179.5, 179.0]),    # westbound: -179.5 -> -181.0 unwrapped
])
def test_a_leg_over_180_crosses_a_zone_between_its_fixes(zone: Zone, lon: list[float]) -> None:
    """Neither fix is inside: only the leg's box, asked beyond ±180, finds the zone.

    Both ways the leg covers 1.5 degrees in 100 s and meets the box 0.7 and 1.0 degrees
    after its start: entry at 0.7 / 1.5 * 100 = 46.667 s, exit at 1.0 / 1.5 * 100 = 66.667 s.
    """
    (e,) = finals([zone], track([0.0, 100.0], lon, [0.0, 0.0]))
    assert e.zone == zone.name and e.entry_interpolated and e.observations == 0
    assert e.entered_at == pytest.approx(100.0 * 0.7 / 1.5, abs=1e-6)
    assert e.exited_at == pytest.approx(100.0 * 1.0 / 1.5, abs=1e-6)


@pytest.mark.parametrize(("zone", "lon"), [
    # a zone east of the meridian holds a fix written 180.0 (the same meridian as -180)
    (Zone("EAST", "custom", shapely.box(-180.0, 10.0, -179.0, 11.0)), [179.0, 180.0, -179.5]),
    # a zone west of it holds a fix written -180.0
    (Zone("WEST", "custom", shapely.box(179.0, 10.0, 180.0, 11.0)), [-179.0, -180.0, 179.5]),
])
def test_a_fix_on_the_antimeridian_is_inside_a_zone_on_either_side(
        zone: Zone, lon: list[float]) -> None:
    """Outside, then on the zone's edge at ±180 at t = 60 s, then 0.5 degree inside.

    The leg reaches the edge exactly at the middle fix: the entry is that fix (not
    interpolated), and both later fixes are inside.
    """
    (e,) = finals([zone], track([0.0, 60.0, 120.0], lon, [10.5, 10.5, 10.5]))
    assert e.zone == zone.name and e.is_open
    assert e.entered_at == 60.0 and not e.entry_interpolated
    assert e.observations == 2


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_a_fix_on_a_pole_is_inside_the_polar_cap(pole: float) -> None:
    """A cap from 89 degrees to the pole; fixes at 88.5, on the pole, then 89.5 (same side).

    The leg 88.5 -> 90 (1.5 degrees in 60 s) reaches 89 at 0.5 / 1.5 * 60 = 20 s; the fix
    on the pole and the next one are inside, so the entry stays open with 2 fixes.
    """
    s = 1.0 if pole > 0 else -1.0
    cap = Zone("CAP", "custom", shapely.box(-180.0, min(89.0 * s, pole),
                                            180.0, max(89.0 * s, pole)))
    (e,) = finals([cap], track([0.0, 60.0, 120.0], [10.0, 10.0, 10.0],
                               [88.5 * s, pole, 89.5 * s]))
    assert e.is_open and e.entry_interpolated and e.observations == 2
    assert e.entered_at == pytest.approx(20.0, abs=1e-6)
