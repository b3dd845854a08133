"""CAT062 system tracks are taken as tracks: correlated with ADS-B, never re-tracked."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

from skyfence.airspace.zones import circle_zone
from skyfence.model import make_observations
from skyfence.pipeline import Pipeline

GEOD = Geod(ellps="WGS84")
T0 = 1_758_268_800.0


def _line(ident: str, lat: float, lon: float, heading: float, speed: float, t: np.ndarray,
          alt: float) -> dict[str, np.ndarray]:
    lon2, lat2, _ = GEOD.fwd(np.full(t.size, lon), np.full(t.size, lat),
                             np.full(t.size, heading), speed * (t - t[0]))
    return {"time": t, "icao24": np.full(t.size, ident, object), "lat": lat2, "lon": lon2,
            "altitude": np.full(t.size, alt), "velocity": np.full(t.size, speed),
            "heading": np.full(t.size, heading)}


def test_system_tracks_are_correlated_not_retracked() -> None:
    # a 10 km circle; an airliner with ADS-B and its outside tracker's system track both
    # cross it (same path, the system track 100 m off), and a drone's system track with
    # no transponder behind it crosses it too
    zone = circle_zone("Z", 55.6, 12.6, 10.0)
    t = T0 + np.arange(0.0, 400.0, 4.0)
    adsb = make_observations(**_line("4ca123", 55.6, 12.3, 90.0, 200.0, t, 3000.0))
    sys_air = _line("T062-1-2-7", 55.6009, 12.3, 90.0, 200.0, t, 3000.0)
    sys_drone = _line("T062-1-2-8", 55.52, 12.6, 0.0, 30.0, t, 300.0)
    tracks = make_observations(**{k: np.concatenate([sys_air[k], sys_drone[k]])
                                  for k in sys_air})
    pipe = Pipeline([zone])  # no radar stage: nothing here is a plot to track
    assert pipe.radar is None
    events = []
    for k in range(len(t)):  # the feed: one message of each per 4 s
        lo, hi = t[k], t[k] + 4.0
        sel = (tracks["time"] >= lo) & (tracks["time"] < hi)
        events += pipe.process(adsb[(adsb["time"] >= lo) & (adsb["time"] < hi)],
                               tracks=tracks[sel], now=hi)
    events += pipe.close()
    exits = [e.entry for e in events if e.kind in ("exit", "open")]
    # the airliner is screened once, under its ICAO address; its system track was
    # matched to it and dropped; the drone's system track is screened as it came, under
    # the outside tracker's own id (not turned into a new R.... track)
    assert sorted({e.track for e in exits}) == ["4ca123", "T062-1-2-8"]
    assert pipe.correlator.matches.get(("T062-1-2-7", "4ca123"), 0) > 50
    records = pipe.records(exits)
    drone = next(r for r in records if r["track"] == "T062-1-2-8")
    assert drone["classification"]["cooperative"] is False


def test_a_named_system_track_goes_straight_to_the_detector_and_an_unnamed_one_via_fusion(
) -> None:
    # two system tracks, one message each per 4 s, fed in 4 s slices: one carries the
    # aircraft's Mode S address (4ca124: it is that aircraft, screened as it comes), one
    # does not (T062-1-2-8, a drone: correlated first, let go by fusion when no
    # transponder track is near). Each fix reaches the detector once. A fix screened on
    # arrival reached it at its own time; a fix fusion let go reached it when the slice
    # that let it go ended: at its own slice's end (its time + 4 s) or later.
    from skyfence.pipeline import PipelineOptions

    zone = circle_zone("Z", 55.6, 12.6, 10.0)
    t = T0 + np.arange(0.0, 200.0, 4.0)
    named = _line("4ca124", 55.6, 12.3, 90.0, 200.0, t, 3000.0)
    drone = _line("T062-1-2-8", 55.52, 12.6, 0.0, 30.0, t, 300.0)
    tracks = make_observations(**{k: np.concatenate([named[k], drone[k]]) for k in named})
    pipe = Pipeline([zone], options=PipelineOptions(keep_screened=True))
    for k in range(len(t)):
        lo, hi = t[k], t[k] + 4.0
        pipe.process(tracks=tracks[(tracks["time"] >= lo) & (tracks["time"] < hi)], now=hi)
    pipe.close()
    seen = pipe.screened_observations()
    assert seen["icao24"].value_counts().to_dict() == {"4ca124": len(t), "T062-1-2-8": len(t)}
    lag = (seen["released_at"] - seen["time"]).to_numpy()
    assert (lag[seen["icao24"].to_numpy() == "4ca124"] == 0.0).all()
    assert lag[seen["icao24"].to_numpy() == "T062-1-2-8"].min() >= 4.0
