"""Early warnings on hand-built tracks whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.geodesy import geodesic_distance_m, metres_per_degree
from skyfence.airspace.zones import Zone, circle_zone
from skyfence.detect.coverage import CoverageModel
from skyfence.detect.early_warning import (
    EarlyWarning,
    EarlyWarningConfig,
    loitering,
    predict_approaches,
    rhumb_destination,
    went_dark,
)
from skyfence.model import Classification, make_observations
from skyfence.policy import Policy

CIRCLE = circle_zone("Z", 59.0, 26.0, 5.0)
#: a 1 x 1 degree box whose southern edge runs along the 59th parallel
BOX = Zone("BOX", "custom", shapely.box(26.0, 59.0, 27.0, 60.0))
M_LON, M_LAT = (float(v[0]) for v in metres_per_degree([59.0]))


def fix(track: str, lat: float, lon: float, *, t: float = 0.0, v: float = 100.0,
        hdg: float = 90.0, alt: float = 1000.0, vz: float = 0.0) -> dict[str, object]:
    return {"time": t, "icao24": track, "lat": lat, "lon": lon, "velocity": v,
            "heading": hdg, "altitude": alt, "vertrate": vz}


def batch(rows: list[dict[str, object]]) -> pd.DataFrame:
    cols = {k: [r[k] for r in rows] for k in rows[0]} if rows else {
        "time": [], "icao24": [], "lat": [], "lon": []}
    return make_observations(**cols)


def test_approach_time_and_point_of_a_head_on_track() -> None:
    lon0 = 26.0 - 15_000 / M_LON  # 15 km west of the centre, 10 km from the boundary
    (w,) = predict_approaches(batch([fix("abc123", 59.0, lon0, t=100.0)]), [CIRCLE])
    assert (w.kind, w.track, w.zone) == ("approach", "abc123", "Z")
    assert w.time_to_entry_s == pytest.approx(100.0, abs=0.5)
    assert w.entry_time == pytest.approx(200.0, abs=0.5)
    assert w.distance_m == pytest.approx(10_000, abs=30)
    lat_e, lon_e = w.entry_point or (0.0, 0.0)
    assert Boundary(CIRCLE.geometry).distance_m(np.array([lon_e]), np.array([lat_e]))[0] < 5
    assert geodesic_distance_m(26.0, 59.0, lon_e, lat_e)[0] == pytest.approx(5000, abs=5)


@pytest.mark.parametrize(("v", "hdg", "why"), [
    (100.0, 270.0, "flying away"),
    (20.0, 90.0, "entry after the horizon (500 s)"),
    (100.0, 0.0, "passing north of the zone"),
    (float("nan"), 90.0, "no velocity"),
    (0.5, 90.0, "hovering"),
])
def test_no_approach(v: float, hdg: float, why: str) -> None:
    lon0 = 26.0 - 15_000 / M_LON
    assert predict_approaches(batch([fix("abc123", 59.0, lon0, v=v, hdg=hdg)]), [CIRCLE]) == []


def test_no_approach_for_a_track_already_inside() -> None:
    assert predict_approaches(batch([fix("abc123", 59.0, 26.0)]), [CIRCLE]) == []


def test_approach_respects_the_zone_ceiling_and_vertical_entries() -> None:
    low = circle_zone("LOW", 59.0, 26.0, 5.0, ceiling_m=1000.0)
    lon0 = 26.0 - 15_000 / M_LON
    level = fix("abc123", 59.0, lon0, alt=3000.0)
    assert predict_approaches(batch([level]), [low]) == []
    slow_descent = fix("abc123", 59.0, lon0, alt=3000.0, vz=-10.0)  # 2000 m at entry
    assert predict_approaches(batch([slow_descent]), [low]) == []
    # 3000 - 25 * 100 = 500 m at the boundary: inside the band
    (w,) = predict_approaches(batch([fix("abc123", 59.0, lon0, alt=3000.0, vz=-25.0)]), [low])
    assert w.time_to_entry_s == pytest.approx(100.0, abs=0.5)
    # over the zone at 2000 m, sinking 10 m/s: down through the ceiling after 100 s
    (w,) = predict_approaches(batch([fix("abc123", 59.0, 26.0, v=5.0, alt=2000.0, vz=-10.0)]),
                              [low])
    assert w.time_to_entry_s == pytest.approx(100.0, abs=1e-6)


def test_vectorized_predictions_match_a_step_by_step_simulation() -> None:
    rng = np.random.default_rng(7)
    n = 400
    ang = rng.uniform(0, 360, n)
    rng_m = rng.uniform(6_000, 40_000, n)
    lon0 = 26.0 + rng_m * np.sin(np.radians(ang)) / M_LON
    lat0 = 59.0 + rng_m * np.cos(np.radians(ang)) / M_LAT
    hdg = (ang + 180 + rng.normal(0, 25, n)) % 360
    v = rng.uniform(30, 250, n)
    obs = make_observations(time=np.zeros(n), icao24=[f"{i:06x}" for i in range(n)],
                            lat=lat0, lon=lon0, velocity=v, heading=hdg)
    got = {w.track: w.time_to_entry_s for w in predict_approaches(obs, [CIRCLE])}
    # brute force: walk each straight path in 0.25 s steps
    steps = np.arange(0, 300.25, 0.25)
    expected = {}
    for i in range(n):
        lons, lats = rhumb_destination(np.full(len(steps), lon0[i]),
                                       np.full(len(steps), lat0[i]),
                                       np.full(len(steps), hdg[i]), v[i] * steps)
        inside = CIRCLE.contains(lons, lats, np.full(len(steps), np.nan))
        if inside.any():
            expected[f"{i:06x}"] = steps[np.argmax(inside)]
    assert 50 < len(expected) < n  # the sample has both hits and misses
    assert set(got) == set(expected)
    for k, t in expected.items():
        # the true entry lies in the last 0.25 s step before the first inside sample
        assert t - 0.25 - 0.02 <= got[k] <= t + 0.02


def along_edge(track: str, km_out: float, t0: float, minutes: float, step_s: float = 10.0
               ) -> list[dict[str, object]]:
    """Fixes flying east along the BOX's southern edge, ``km_out`` km south of it."""
    lat = 59.0 - km_out * 1000 / M_LAT
    n = int(minutes * 60 / step_s) + 1
    return [fix(track, lat, 26.1 + i * step_s * 100 / M_LON, t=t0 + i * step_s)
            for i in range(n)]


def test_loitering_along_the_boundary_warns_once_when_the_limit_is_reached() -> None:
    rows = along_edge("abc123", 5.0, 1000.0, 12) + along_edge("def456", 15.0, 1000.0, 12)
    (w,) = loitering(batch(rows), [BOX], distance_m=10_000, min_s=300)
    assert (w.kind, w.track, w.zone) == ("loitering", "abc123", "BOX")
    assert (w.since, w.at) == (1000.0, 1300.0)
    assert w.distance_m == pytest.approx(5000, abs=20)


def test_loitering_is_broken_by_leaving_and_carried_across_batches() -> None:
    # 4 min near, 1 min far, 4 min near: never 5 min in one run
    rows = (along_edge("abc123", 5.0, 0.0, 4) + along_edge("abc123", 20.0, 250.0, 1)
            + along_edge("abc123", 5.0, 320.0, 4))
    assert loitering(batch(rows), [BOX], distance_m=10_000, min_s=300) == []
    # the same 12 minutes near the edge, fed in 30 s batches: the same single warning
    rows = along_edge("abc123", 5.0, 1000.0, 12)
    ew = EarlyWarning([BOX], EarlyWarningConfig(loiter_distance_m=10_000, loiter_min_s=300))
    got = []
    for k in range(0, len(rows), 3):
        got += [w for w in ew.update(batch(rows[k:k + 3])) if w.kind == "loitering"]
    assert [(w.track, w.since, w.at) for w in got] == [("abc123", 1000.0, 1300.0)]


def test_went_dark_near_a_boundary_only_for_transponder_tracks() -> None:
    silent = batch([fix("4b1805", 58.97, 26.5, t=50.0),   # 3.3 km outside
                    fix("T0042", 58.97, 26.5, t=50.0),    # radar track: no transponder
                    fix("4b1806", 58.5, 26.5, t=50.0),    # 55 km out
                    fix("4b1807", 59.5, 26.5, t=50.0)])   # deep inside
    got = went_dark(silent, [BOX], distance_m=20_000)
    assert [(w.track, w.zone) for w in got] == [("4b1805", "BOX"), ("4b1807", "BOX")]
    assert got[0].distance_m == pytest.approx(0.03 * M_LAT, abs=5)


def covered_around(lat: float, lon: float, alt: float) -> CoverageModel:
    """A model that has seen 30 tracks pass through the cell of (lat, lon, alt) and
    through each of its 8 neighbours, none beginning or ending there."""
    m = CoverageModel()
    keys = [m.keys([lat], [lon], [alt], d_row=r, d_col=c)[0] for r in (-1, 0, 1)
            for c in (-1, 0, 1)]
    m.add(passages=np.repeat(keys, 30))
    return m


def test_streaming_finds_silent_tracks_and_bounds_its_state() -> None:
    cfg = EarlyWarningConfig(dark_after_s=60, gap_s=300)
    ew = EarlyWarning([BOX], cfg, covered_around(58.97, 26.5, 1000.0))
    events = []
    for t in range(0, 200, 10):
        rows = [fix("aaaaaa", 58.5, 26.5, t=float(t), v=0.0)]      # keeps talking, far out
        if t <= 40:
            rows.append(fix("4b1805", 58.97, 26.5, t=float(t), v=0.0))  # silent after 40 s
        events += ew.update(batch(rows))
    dark = [w for w in events if w.kind == "went_dark"]
    assert [(w.track, w.at) for w in dark] == [("4b1805", 40.0)]
    assert ew.tracks == 2
    ew.update(batch([fix("aaaaaa", 58.5, 26.5, t=400.0, v=0.0)]))
    assert ew.tracks == 1  # the silent track was dropped after gap_s


def test_streaming_approach_is_reported_once_and_rearmed() -> None:
    ew = EarlyWarning([CIRCLE])
    lon0 = 26.0 - 25_000 / M_LON
    kinds = []
    for t, hdg in [(0, 90), (1, 90), (2, 90), (3, 270), (4, 90)]:
        ws = ew.update(batch([fix("abc123", 59.0, lon0 + t * 100 / M_LON, t=float(t),
                                  hdg=float(hdg))]))
        kinds.append([w.kind for w in ws])
    assert kinds == [["approach"], [], [], [], ["approach"]]


def test_a_warning_becomes_a_policy_verdict() -> None:
    lon0 = 26.0 - 15_000 / M_LON
    (w,) = predict_approaches(batch([fix("T0042", 59.0, lon0)]), [CIRCLE])
    e = w.to_entry()
    assert e.entered_at == w.entry_time and e.observations == 0 and e.exited_at is None
    v = Policy.default().judge(e, Classification(False, "propeller"), w.behaviours)
    assert (v.violation, v.severity) == (False, "warning")
    assert v.reasons[0] == "track 'T0042' is predicted to enter Z zone"
