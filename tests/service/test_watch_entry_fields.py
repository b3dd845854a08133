"""The first alert of an entry says everything already known (contract, "Live events out").

References are computed here without the detector: which fixes are inside the 30 km
circle and how deep they are comes from pyproj's geodesic distance to the centre (the
circle is a geodesic circle drawn with 720 vertices, so the distance of a fix on a
radius to the drawn boundary is R - d within 0.3 m: R (1 - cos(pi / 720)) = 0.29 m).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skyfence.airspace.zones import circle_zone
from skyfence.incidents.assess import Assessor
from skyfence.model import Entry, make_observations
from skyfence.service.track_memory import TrackMemory
from skyfence.service.watch import Watcher, replay_batches

pytestmark = pytest.mark.timeout(60)

RADIUS_M = 30_000.0
ZONE = circle_zone("A", 0.0, 0.0, RADIUS_M / 1000)
GEOD = Geod(ellps="WGS84")
T0 = 1.7e9
SPEED_MS = 250.0
ALT_M = 9000.0


def crossing_track() -> tuple[pd.DataFrame, np.ndarray]:
    """A cooperative aircraft flying east along the equator through the circle, one fix
    a second; its callsign, squawk 7700 and speed arrive on one fix 13 s before it
    enters and never again. Returns the fixes and their distance to the centre (m)."""
    t = np.arange(0.0, 400.0)
    lon = -0.4 + SPEED_MS * t / 111_320.0
    _, _, dist = GEOD.inv(np.zeros_like(lon), np.zeros_like(lon), lon, np.zeros_like(lon))
    dist = np.asarray(dist)
    first_in = int(np.flatnonzero(dist < RADIUS_M)[0])
    told = first_in - 13  # the identity message, 13 s before the first inside fix
    callsign = np.full(len(t), None, dtype=object)
    squawk = np.full(len(t), None, dtype=object)
    velocity = np.full(len(t), np.nan)
    callsign[told], squawk[told], velocity[told] = "SWR12X ", "7700", SPEED_MS
    obs = make_observations(time=T0 + t, icao24=["4b1a2b"] * len(t), lat=np.zeros(len(t)),
                            lon=lon, altitude=np.full(len(t), ALT_M), callsign=callsign,
                            squawk=squawk, velocity=velocity)
    return obs, dist


def run(obs: pd.DataFrame, slice_s: float) -> list[dict[str, Any]]:
    w = Watcher([ZONE], all_entries=True, approach_horizon_s=None)
    events: list[dict[str, Any]] = []
    for b in replay_batches(obs, speed=0, slice_s=slice_s):
        events += w.process(b)
    return events + w.close()


def category_of(speed_ms: float, altitude_m: float) -> str:
    """What the classifier makes of this speed and altitude (a hand-built entry)."""
    e = Entry(zone="A", zone_kind="custom", track="4b1a2b", entered_at=0.0,
              entry_interpolated=False, exited_at=None, last_inside_at=0.0, max_depth_m=1.0,
              entry_point=None, exit_point=None, min_altitude_m=altitude_m,
              max_altitude_m=altitude_m, observations=1, max_speed_ms=speed_ms)
    return str(Assessor().record(e)["classification"]["category"])


def test_live_entry_alert_carries_identity_seen_before_the_boundary() -> None:
    obs, dist = crossing_track()
    events = run(obs, slice_s=1.0)  # one fix per batch, as a live feed gives them
    entry = next(e for e in events if e["event"] == "entry")
    first_in = int(np.flatnonzero(dist < RADIUS_M)[0])
    # the callsign (stripped), from a fix 13 s outside the zone
    assert entry["callsign"] == "SWR12X"
    # what the batch that crossed held: exactly the first inside fix
    assert entry["observations"] == 1
    assert entry["max_depth_m"] == pytest.approx(RADIUS_M - dist[first_in], abs=2.0)
    assert entry["min_altitude_m"] == entry["max_altitude_m"] == ALT_M
    assert entry["last_inside_at"].startswith(
        pd.Timestamp(T0 + first_in, unit="s").strftime("%Y-%m-%dT%H:%M:%S"))
    assert entry["exited_at"] is None and entry["exit_point"] is None
    # speed from the outside fix + altitude inside: a category, not "unknown"
    expected = category_of(SPEED_MS, ALT_M)
    assert expected != "unknown"
    assert entry["classification"]["category"] == expected
    # the emergency squawk known before the entry raises the warning at once
    assert entry["severity"] == "warning"
    assert any("7700" in r for r in entry["reasons"])


def test_entry_alert_of_a_large_batch_counts_every_inside_fix_so_far() -> None:
    obs, dist = crossing_track()
    events = run(obs, slice_s=1e6)  # all fixes in one batch: entry and exit together
    kinds = [e["event"] for e in events]
    assert kinds.count("entry") == 1 and kinds.count("exit") == 1
    entry = events[kinds.index("entry")]
    inside = dist < RADIUS_M
    assert entry["observations"] == int(inside.sum())
    assert entry["max_depth_m"] == pytest.approx(RADIUS_M - dist[inside].min(), abs=2.0)
    # still an entry alert: the exit is the next event, not folded into this one
    assert entry["exited_at"] is None and entry["exit_point"] is None
    assert entry["callsign"] == "SWR12X"


def test_exit_record_stays_the_scan_record() -> None:
    # the callsign came only outside: the final record (as in scan) has none inside,
    # while the alerts carried the track's callsign
    obs, _ = crossing_track()
    events = run(obs, slice_s=1.0)
    final = next(e for e in events if e["event"] == "exit")
    assert final["callsign"] is None
    assert all(e["callsign"] == "SWR12X" for e in events if e["event"] in ("entry", "update"))


def test_track_memory_keeps_the_latest_valid_value_by_time() -> None:
    mem = TrackMemory(forget_after_s=300.0)
    # rows out of time order; blanks and non-strings are not callsigns
    mem.update(make_observations(
        time=[20.0, 10.0, 30.0, 5.0], icao24=["a", "a", "a", "b"], lat=[0.0] * 4,
        lon=[0.0] * 4, callsign=["NEW1", "OLD1", "   ", "B1"],
        squawk=["7000", "7700", None, None], velocity=[np.nan, 100.0, np.nan, 50.0]))
    assert mem.callsign("a") == "NEW1"  # t=20 beats t=10; t=30 is blank
    assert mem.squawk("a") == "7000"
    assert mem.speed_ms("a") == 100.0  # the only valid speed of "a"
    assert (mem.callsign("b"), mem.speed_ms("b")) == ("B1", 50.0)
    assert mem.callsign("zzz") is None


def test_track_memory_forgets_silent_tracks() -> None:
    mem = TrackMemory(forget_after_s=300.0)
    mem.update(make_observations(time=[0.0], icao24=["a"], lat=[0.0], lon=[0.0],
                                 callsign=["A1"]))
    mem.update(make_observations(time=[1000.0], icao24=["b"], lat=[0.0], lon=[0.0],
                                 callsign=["B1"]))
    assert len(mem) == 1 and mem.callsign("a") is None and mem.callsign("b") == "B1"
