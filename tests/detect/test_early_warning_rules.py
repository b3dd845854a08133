"""Early-warning rules at their limits, every field of a warning, and the screens.

References are independent of skyfence: metres per degree from the WGS84 radii written
out below, points placed at exact geodesic distances with pyproj, a zone's entry and
exit along a parallel from GEOS (shapely) on the zone's own polygon, and the times by
hand arithmetic (distance / speed, altitude / vertical rate).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from skyfence.airspace.zones import Zone, circle_zone
from skyfence.detect.coverage import CoverageModel
from skyfence.detect.early_warning import (
    EarlyWarning,
    EarlyWarningConfig,
    loitering,
    predict_approaches,
    silence_explained,
    warnings_for,
    went_dark,
)
from skyfence.model import make_observations

GEOD = Geod(ellps="WGS84")
A_M, E2 = 6_378_137.0, 0.00669437999014  # WGS84 semi-major axis, first eccentricity²


def m_per_deg_lon(lat: float) -> float:
    """Metres per degree of longitude along a parallel: (pi/180) N cos(lat), with the
    prime vertical radius N = a / sqrt(1 - e² sin² lat)."""
    phi = math.radians(lat)
    return math.pi / 180 * A_M / math.sqrt(1 - E2 * math.sin(phi) ** 2) * math.cos(phi)


M59 = m_per_deg_lon(59.0)  # 57,478 m
#: a 1 x 1 degree box whose southern edge runs along the 59th parallel
BOX = Zone("BOX", "custom", shapely.box(26.0, 59.0, 27.0, 60.0))


def obs(rows: list[dict[str, object]]) -> pd.DataFrame:
    cols = {k: [r.get(k) for r in rows] for k in rows[0]}
    return make_observations(**cols)


def fix(track: str, lat: float, lon: float, t: float = 0.0, v: float = 100.0,
        hdg: float = 90.0, alt: float = 1000.0, vz: float = 0.0,
        callsign: str | None = None) -> dict[str, object]:
    return {"time": t, "icao24": track, "lat": lat, "lon": lon, "velocity": v, "heading": hdg,
            "altitude": alt, "vertrate": vz, "callsign": callsign}


def south_of(lat: float, lon: float, d_m: float) -> tuple[float, float]:
    """(lat, lon) ``d_m`` metres due south of a point: its distance to the parallel
    through the point is ``d_m`` (the meridian meets the parallel at right angles)."""
    lon1, lat1, _ = GEOD.fwd(lon, lat, 180.0, d_m)
    return float(lat1), float(lon1)


# ------------------------------------------------------------------ approach


def entry_and_exit_along_59n(zone: Zone, lon0: float) -> tuple[float, float]:
    """Metres from ``lon0`` (on 59 N) to where the parallel enters and leaves the zone's
    polygon, by GEOS."""
    cut = zone.geometry.intersection(shapely.LineString([(lon0, 59.0), (30.0, 59.0)]))
    xs = np.asarray(cut.coords)[:, 0]
    return float((xs.min() - lon0) * M59), float((xs.max() - lon0) * M59)


@pytest.mark.parametrize("band", ["ceiling", "floor"])
def test_vertical_entries_against_hand_arithmetic(band: str) -> None:
    # eastbound along 59 N through the centre of a 5 km circle with a ceiling at
    # 1000 m (tracks above it, sinking) or a floor at 2000 m (tracks below it,
    # climbing). Inside the circle from t_in to t_out (GEOS on the polygon, distance /
    # speed), inside the band from t_band = (limit - alt) / vz on; the entry is the first
    # time both hold, if it comes within the 300 s horizon, else no warning. Many
    # tracks cross the circle's edge above the ceiling (below the floor) and reach the
    # band over the zone: an approach too.
    zone = (circle_zone("LOW", 59.0, 26.0, 5.0, ceiling_m=1000.0) if band == "ceiling"
            else circle_zone("HIGH", 59.0, 26.0, 5.0, floor_m=2000.0))
    rng = np.random.default_rng(11)
    n = 300
    r0 = rng.uniform(6_000, 30_000, n)
    v = rng.uniform(50, 250, n)
    if band == "ceiling":
        alt = rng.uniform(1_000.5, 5_000, n)
        vz = rng.uniform(-40, 0, n)
    else:
        alt = rng.uniform(0, 1_999.5, n)
        vz = rng.uniform(0, 40, n)
    lon0 = 26.0 - r0 / M59
    ids = [f"{i:06x}" for i in range(n)]
    got = {w.track: w.time_to_entry_s for w in predict_approaches(
        make_observations(time=np.zeros(n), icao24=ids, lat=np.full(n, 59.0), lon=lon0,
                          velocity=v, heading=np.full(n, 90.0), altitude=alt, vertrate=vz),
        [zone])}
    expected, borderline = {}, set()
    limit = 1000.0 if band == "ceiling" else 2000.0
    for i in range(n):
        d_in, d_out = entry_and_exit_along_59n(zone, lon0[i])
        t_in, t_out = d_in / v[i], d_out / v[i]
        t_band = (limit - alt[i]) / vz[i] if vz[i] != 0 else math.inf
        t = max(t_in, t_band)
        if t <= min(t_out, 300.0):
            expected[ids[i]] = t
        if min(abs(t - t_out), abs(t - 300.0)) < 0.05:
            borderline.add(ids[i])
    assert 30 < len(expected) < n - 30
    assert sum(1 for i in range(n) if expected.get(ids[i], -1) > r0[i] / v[i] - 4000 / v[i]
               ) > 10  # many reach the band past the edge, well inside
    assert set(got) - borderline == set(expected) - borderline
    for k, t in expected.items():
        if k in got:
            assert got[k] == pytest.approx(t, abs=0.02)


def test_a_descent_into_the_band_after_crossing_the_edge_above_it_is_an_approach() -> None:
    # The bug this found: only tracks already over the zone were followed down. 10 km
    # west of the centre of a 5 km circle (ceiling 1000 m) at 3000 m, 100 m/s east,
    # sinking 15 m/s: over the edge at about 50 s at 2250 m (no entry there), down to
    # 1000 m at 2000 / 15 = 133.3 s, 13.3 km on: 3.3 km east of the centre, inside.
    low = circle_zone("LOW", 59.0, 26.0, 5.0, ceiling_m=1000.0)
    (w,) = predict_approaches(obs([fix("abc123", 59.0, 26.0 - 10_000 / M59, alt=3000.0,
                                       vz=-15.0)]), [low])
    assert w.time_to_entry_s == pytest.approx(2000.0 / 15.0, abs=1e-6)
    lat_e, lon_e = w.entry_point or (0.0, 0.0)
    assert lat_e == pytest.approx(59.0, abs=1e-9)  # due east: along the parallel
    assert (lon_e - 26.0) * M59 == pytest.approx(100.0 * 2000.0 / 15.0 - 10_000, abs=0.5)


def test_vertical_entry_limits() -> None:
    low = circle_zone("LOW", 59.0, 26.0, 5.0, ceiling_m=1000.0)
    high = circle_zone("HIGH", 59.0, 26.0, 5.0, floor_m=2000.0)
    # hovering (5 m/s) over the centre 300 m above the ceiling, sinking 1 m/s: in the
    # band after exactly 300 s, the horizon, which counts
    (w,) = predict_approaches(obs([fix("abc123", 59.0, 26.0, v=5.0, alt=1300.0, vz=-1.0)]),
                              [low])
    assert w.time_to_entry_s == 300.0
    # 400 m above: 400 s, beyond the horizon (1.33 horizons)
    assert predict_approaches(obs([fix("abc123", 59.0, 26.0, v=5.0, alt=1400.0, vz=-1.0)]),
                              [low]) == []
    # 100 m below a floor, climbing 0.5 m/s: in after 200 s
    (w,) = predict_approaches(obs([fix("abc123", 59.0, 26.0, v=5.0, alt=1900.0, vz=0.5)]),
                              [high])
    assert w.time_to_entry_s == pytest.approx(200.0)
    # 500 m below, climbing 1 m/s: 500 s, 1.67 horizons: nothing
    assert predict_approaches(obs([fix("abc123", 59.0, 26.0, v=5.0, alt=1500.0, vz=1.0)]),
                              [high]) == []
    # 4 km east of the centre, 100 m/s east: out of the circle after about 10 s, long
    # before it sinks through the ceiling (100 s): no entry
    assert predict_approaches(obs([fix("abc123", 59.0, 26.0 + 4_000 / M59, alt=2000.0,
                                       vz=-10.0)]), [low]) == []
    # two tracks, one sinking in over the centre and one level above it: one warning
    got = predict_approaches(obs([fix("aaa111", 59.0, 26.0, v=5.0, alt=2000.0, vz=-10.0),
                                  fix("bbb222", 59.0, 26.0, v=5.0, alt=2000.0)]), [low])
    assert [(w.track, w.time_to_entry_s) for w in got] == [("aaa111", pytest.approx(100.0))]
    # hovering below the least speed that is extrapolated (1 m/s): never warned, even
    # sinking through the ceiling right over the zone
    assert predict_approaches(obs([fix("abc123", 59.0, 26.0, v=0.5, alt=1100.0, vz=-5.0)]),
                              [low]) == []


def test_approach_speed_heading_and_horizon_limits() -> None:
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    d_in, _ = entry_and_exit_along_59n(circle, 26.0 - 6_000 / M59)  # about 1000 m
    west = 26.0 - 6_000 / M59
    # 1 m/s exactly (the least speed extrapolated), 200 m out: in after about 200 s
    lon_200 = 26.0 - (5_000 + 200) / M59
    d200, _ = entry_and_exit_along_59n(circle, lon_200)
    (w,) = predict_approaches(obs([fix("abc123", 59.0, lon_200, v=1.0)]), [circle])
    assert w.time_to_entry_s == pytest.approx(d200 / 1.0, abs=0.05)
    # 1.5 m/s with the default least speed (1 m/s)
    (w,) = predict_approaches(obs([fix("abc123", 59.0, lon_200, v=1.5)]), [circle])
    assert w.time_to_entry_s == pytest.approx(d200 / 1.5, abs=0.05)
    # 3 m/s, 1000 m out: 900 m reach in 300 s, short: nothing; 500 m out: 167 s
    lon_500 = 26.0 - (5_000 + 500) / M59
    d500, _ = entry_and_exit_along_59n(circle, lon_500)
    (w,) = predict_approaches(obs([fix("abc123", 59.0, lon_500, v=3.0)]), [circle])
    assert w.time_to_entry_s == pytest.approx(d500 / 3.0, abs=0.05)
    # no heading: not extrapolated, whatever the speed
    assert predict_approaches(obs([fix("abc123", 59.0, west, hdg=float("nan"))]),
                              [circle]) == []
    # the default horizon is 300 s: entry at 299.5 s warned, at 300.5 s not
    for t_entry, warned in ((299.5, True), (300.5, False)):
        got = predict_approaches(obs([fix("abc123", 59.0, west, v=d_in / t_entry)]), [circle])
        assert len(got) == warned


def test_approaches_are_sorted_by_time_to_entry_over_zones_without_candidates() -> None:
    # a zone far away first (no track near it), then the circle; track "zzz" enters
    # after about 10 s (1 km out), "aaa" after about 50 s (5 km out)
    far = circle_zone("FAR", 10.0, 10.0, 5.0)
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    got = predict_approaches(obs([fix("aaa111", 59.0, 26.0 - 10_000 / M59),
                                  fix("zzz999", 59.0, 26.0 - 6_000 / M59)]), [far, circle])
    assert [w.track for w in got] == ["zzz999", "aaa111"]
    assert [round(w.time_to_entry_s or 0.0) for w in got] == [10, 50]
    got = went_dark(obs([fix("4b1805", 59.0, 26.0 - 6_000 / M59)]), [far, circle])
    assert [w.zone for w in got] == ["Z"]


def test_a_zone_behind_a_track_does_not_hide_the_zone_ahead() -> None:
    # eastbound along 59 N, 5 km short of the circle (entry after 5000 / 100 = 50 s);
    # first in the list a box 0.076 degree (4.4 km) behind it: near enough to be a
    # candidate, never entered
    behind = Zone("BEHIND", "custom", shapely.box(25.70, 58.95, 25.75, 59.05))
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    got = predict_approaches(obs([fix("aaa111", 59.0, 26.0 - 10_000 / M59)]), [behind, circle])
    assert [(w.zone, round(w.time_to_entry_s or 0.0)) for w in got] == [("Z", 50)]


# ------------------------------------------------------------ fields of a warning


def test_every_field_of_an_approach_and_its_provisional_entry() -> None:
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    lon0 = 26.0 - 15_000 / M59
    (w,) = predict_approaches(obs([fix("abc123", 59.0, lon0, t=100.0, v=100.0, alt=1234.0,
                                       callsign="FIN7")]), [circle])
    assert (w.kind, w.track, w.zone, w.zone_kind) == ("approach", "abc123", "Z", "custom")
    assert (w.at, w.lat, w.lon) == (100.0, 59.0, lon0)
    assert (w.altitude, w.velocity, w.callsign) == (1234.0, 100.0, "FIN7")
    e = w.to_entry()
    assert (e.zone, e.zone_kind, e.track) == ("Z", "custom", "abc123")
    assert e.entered_at == e.last_inside_at == w.entry_time
    assert e.entry_point == w.entry_point and e.exit_point is None
    assert (e.entry_interpolated, e.exited_at, e.max_depth_m, e.observations) == (
        True, None, 0.0, 0)
    assert (e.min_altitude_m, e.max_altitude_m, e.max_speed_ms, e.callsign) == (
        1234.0, 1234.0, 100.0, "FIN7")
    # unknown altitude and speed are None, a blank callsign is no callsign
    b = obs([fix("abc123", 59.0, lon0, alt=float("nan"), callsign="")])
    (w,) = predict_approaches(b, [circle])
    assert (w.altitude, w.callsign) == (None, None)


def test_every_field_of_a_went_dark_warning_and_of_a_loitering_one() -> None:
    lat, lon = south_of(59.0, 26.5, 3_000.0)
    (w,) = went_dark(obs([fix("4b1805", lat, lon, t=50.0, v=120.0, alt=900.0,
                              callsign="EST12")]), [BOX])
    assert (w.kind, w.track, w.zone, w.zone_kind) == ("went_dark", "4b1805", "BOX", "custom")
    assert (w.at, w.lat, w.lon, w.altitude, w.velocity, w.callsign) == (
        50.0, lat, lon, 900.0, 120.0, "EST12")
    assert w.distance_m == pytest.approx(3_000.0, abs=0.01)
    e = w.to_entry()
    assert (e.entered_at, e.last_inside_at, e.entry_point) == (50.0, 50.0, (lat, lon))
    assert (e.min_altitude_m, e.max_altitude_m, e.max_speed_ms, e.callsign) == (
        900.0, 900.0, 120.0, "EST12")
    (w,) = went_dark(obs([fix("4b1805", lat, lon, v=float("nan"), alt=float("nan"))]), [BOX])
    assert (w.velocity, w.altitude, w.callsign) == (None, None, None)
    # loitering 3 km south of the edge, 31 fixes 10 s apart, eastward at 50 m/s
    rows = [fix("abc123", lat, 26.1 + k * 500 / M59, t=1000.0 + 10 * k, v=50.0, alt=700.0,
                callsign="RA-1") for k in range(31)]
    (w,) = loitering(obs(rows), [BOX], distance_m=10_000, min_s=300)
    assert (w.kind, w.zone_kind, w.at, w.since) == ("loitering", "custom", 1300.0, 1000.0)
    assert (w.lat, w.lon) == (lat, 26.1 + 30 * 500 / M59)
    assert (w.altitude, w.velocity, w.callsign) == (700.0, 50.0, "RA-1")
    assert w.distance_m == pytest.approx(3_000.0, abs=0.01)
    assert w.to_entry().entry_point == (w.lat, w.lon)


def test_nullable_columns_with_missing_values_are_read_as_unknown() -> None:
    # a batch whose numbers are pandas' nullable Float64 (pd.NA for missing ones)
    b = obs([fix("4b1805", *south_of(59.0, 26.5, 3_000.0))])
    b["altitude"] = pd.array([pd.NA], dtype="Float64")
    b["velocity"] = pd.array([pd.NA], dtype="Float64")
    (w,) = went_dark(b, [BOX])
    assert (w.altitude, w.velocity) == (None, None)


# ---------------------------------------------------------------- the screens


def test_went_dark_finds_every_silence_within_the_distance_at_any_latitude() -> None:
    # boxes on the equator, at 59 N and at 75 S; each silent fix placed with pyproj
    # 0.9995 d or 1.0005 d (d = 20 km: 10 m either side) perpendicular from an edge
    # (due east or west of a meridian edge, due south or north of a parallel one),
    # outside the box: warned exactly when it is within d.
    rows, expect = [], set()
    zones = []
    for k, (lat0, lon0) in enumerate(((-0.5, 10.0), (58.5, 26.0), (-75.5, 40.0))):
        zones.append(Zone(f"B{k}", "custom", shapely.box(lon0, lat0, lon0 + 1, lat0 + 1)))
        for j, (x, y, az) in enumerate(((lon0, lat0 + 0.5, 270.0),
                                        (lon0 + 1, lat0 + 0.5, 90.0),
                                        (lon0 + 0.5, lat0, 180.0),
                                        (lon0 + 0.5, lat0 + 1, 0.0))):
            for f in (0.9995, 1.0005):
                lon1, lat1, _ = GEOD.fwd(x, y, az, 20_000.0 * f)
                track = f"4b{k}{j}{int(f > 1)}0"
                rows.append(fix(track, float(lat1), float(lon1)))
                if f < 1:
                    expect.add((track, f"B{k}"))
    got = went_dark(obs(rows), zones, distance_m=20_000.0)
    assert {(w.track, w.zone) for w in got} == expect


@pytest.mark.parametrize(("zone_lon", "fix_lon"), [((179.0, 180.0), -179.9),
                                                  ((-180.0, -179.0), 179.9)])
def test_warnings_across_the_antimeridian(zone_lon: tuple[float, float],
                                          fix_lon: float) -> None:
    # a 1-degree box touching ±180 on the equator and a fix 0.1 degree across the seam
    # from it: 11.13 km away (0.1 x 111,319.5 m per degree on the equator)
    zone = Zone("SEAM", "custom", shapely.box(zone_lon[0], -0.5, zone_lon[1], 0.5))
    m_eq = m_per_deg_lon(0.0)
    (w,) = went_dark(obs([fix("4b1805", 0.0, fix_lon)]), [zone])
    assert w.distance_m == pytest.approx(0.1 * m_eq, abs=0.5)
    # flying towards it at 100 m/s: in after 111.3 s, at the seam (± 180)
    toward = 90.0 if fix_lon > 0 else 270.0
    (w,) = predict_approaches(obs([fix("abc123", 0.0, fix_lon, hdg=toward)]), [zone])
    assert w.time_to_entry_s == pytest.approx(0.1 * m_eq / 100.0, abs=0.01)
    lat_e, lon_e = w.entry_point or (0.0, 0.0)
    assert (lat_e, abs(lon_e)) == (pytest.approx(0.0, abs=1e-9), pytest.approx(180.0, abs=1e-6))
    # a fix 0.3 degree across (33 km) is too far for went dark (20 km)
    far = fix_lon - 0.2 if fix_lon > 0 else fix_lon + 0.2
    assert went_dark(obs([fix("4b1805", 0.0, far)]), [zone]) == []
    # and a fix on the zone's own side near the seam is still found
    same_side = 179.95 if zone_lon[0] > 0 else -179.95
    assert len(went_dark(obs([fix("4b1805", 0.6, same_side)]), [zone])) == 1


def test_an_approach_across_the_antimeridian_enters_at_a_longitude_within_180() -> None:
    """A box from 179.0 E to 179.9 E on the equator, short of the seam, and an aircraft
    at 179.8 W flying west at 200 m/s: it crosses the antimeridian and meets the box's
    east edge 0.3 degree on (33.4 km), after 0.3 x 111,319.5 / 200 = 167 s, at
    (0, 179.9): a longitude within +-180 like every other in a record, not -180.1."""
    zone = Zone("EAST", "custom", shapely.box(179.0, -0.5, 179.9, 0.5))
    (w,) = predict_approaches(obs([fix("abc123", 0.0, -179.8, v=200.0, hdg=270.0)]), [zone])
    assert w.time_to_entry_s == pytest.approx(0.3 * m_per_deg_lon(0.0) / 200.0, abs=0.01)
    lat_e, lon_e = w.entry_point or (0.0, 0.0)
    assert lat_e == pytest.approx(0.0, abs=1e-9) and lon_e == pytest.approx(179.9, abs=1e-6)


def test_went_dark_inside_or_near_the_zone_in_three_dimensions() -> None:
    # over a box with a 1000 m ceiling, 50 km from its edges: inside at 500 m (warned),
    # above it at 3000 m (neither inside nor within 20 km of the boundary)
    low = Zone("LOW", "custom", shapely.box(26.0, 59.0, 28.0, 60.0), ceiling_m=1000.0)
    got = went_dark(obs([fix("4b1805", 59.5, 27.0, alt=500.0),
                         fix("4b1806", 59.5, 27.0, alt=3000.0)]), [low])
    assert [w.track for w in got] == ["4b1805"]


# ------------------------------------------------------------------ loitering


def along(track: str, d_m: float, t0: float, n: int, step_s: float = 10.0,
          alt: float = 1000.0) -> list[dict[str, object]]:
    """``n`` fixes flying east ``d_m`` south of the BOX's southern edge (or north of it,
    inside, for a negative ``d_m``), ``step_s`` apart."""
    lat = south_of(59.0, 26.5, d_m)[0] if d_m > 0 else GEOD.fwd(26.5, 59.0, 0.0, -d_m)[1]
    return [fix(track, lat, 26.1 + k * step_s * 50 / M59, t=t0 + k * step_s, alt=alt)
            for k in range(n)]


def test_loitering_defaults_distance_and_duration() -> None:
    # defaults: 10 km, 300 s, gap 300 s. 9999.5 m out for 300 s: warned at the fix
    # 300 s after the first; 10000.5 m out: never
    got = loitering(obs(along("aaa111", 9_999.5, 0.0, 31) + along("bbb222", 10_000.5, 0.0, 31)),
                    [BOX])
    assert [(w.track, w.since, w.at) for w in got] == [("aaa111", 0.0, 300.0)]
    # 290 s near the edge: not yet
    assert loitering(obs(along("aaa111", 5_000.0, 0.0, 30)), [BOX]) == []


def test_loitering_runs_of_two_tracks_at_once_and_silences_in_them() -> None:
    rows = (along("aaa111", 5_000.0, 0.0, 73)            # 12 min near
            + along("bbb222", 5_000.0, 200.0, 41))       # 6 min 40 s near, from 200 s
    got = loitering(obs(rows), [BOX])
    assert sorted((w.track, w.since, w.at) for w in got) == [
        ("aaa111", 0.0, 300.0), ("bbb222", 200.0, 500.0)]
    # a silence of exactly gap_s (300 s) keeps the run; 301 s breaks it
    keep = [fix("aaa111", *south_of(59.0, 26.5, 5_000.0), t=t) for t in (0.0, 100.0, 400.0)]
    assert [(w.since, w.at) for w in loitering(obs(keep), [BOX])] == [(0.0, 400.0)]
    broken = [fix("aaa111", *south_of(59.0, 26.5, 5_000.0), t=t)
              for t in (0.0, 100.0, 401.0, 500.0)]
    assert loitering(obs(broken), [BOX]) == []
    # a track that loiters, goes silent for 400 s and is back: a new run from then
    rows = along("aaa111", 5_000.0, 0.0, 21) + along("aaa111", 5_000.0, 600.0, 31)
    assert [(w.since, w.at) for w in loitering(obs(rows), [BOX])] == [(600.0, 900.0)]


def test_fixes_inside_the_zone_or_above_its_ceiling() -> None:
    # 5 km inside the BOX's southern edge for 12 minutes: inside, never loitering
    assert loitering(obs(along("aaa111", -5_000.0, 0.0, 73)), [BOX]) == []
    # over a box with a 1000 m ceiling, 5 km in from its edge but at 3000 m: outside
    # the zone and 5 km from its boundary, loitering
    low = Zone("LOW", "custom", BOX.geometry, ceiling_m=1000.0)
    got = loitering(obs(along("aaa111", -5_000.0, 0.0, 31, alt=3000.0)), [low])
    assert [(w.track, w.since, w.at) for w in got] == [("aaa111", 0.0, 300.0)]
    assert got[0].distance_m == pytest.approx(5_000.0, abs=0.01)


def stream(batches: list[list[dict[str, object]]]) -> list[tuple[str, float | None, float]]:
    ew = EarlyWarning([BOX], EarlyWarningConfig())
    out = []
    for b in batches:
        out += [(w.track, w.since, w.at) for w in ew.loitering(obs(b))]
    return out


def test_loitering_runs_carried_across_batches() -> None:
    a = along("aaa111", 5_000.0, 0.0, 73)
    b = along("bbb222", 5_000.0, 0.0, 73)
    # 30 s batches holding both tracks: each warned once, 300 s into its run
    batches = [a[k:k + 3] + b[k:k + 3] for k in range(0, 73, 3)]
    assert sorted(stream(batches)) == [("aaa111", 0.0, 300.0), ("bbb222", 0.0, 300.0)]
    # batches holding only one of them in turn: a track's run survives a batch
    # without it
    turns = [(a if (k // 3) % 2 == 0 else b)[k:k + 3] for k in range(0, 73, 3)]
    got = stream(turns)
    assert sorted(got) == sorted(set(got)) and {s for _, s, _ in got} == {0.0, 30.0}
    # the next batch exactly gap_s (300 s) after a batch's last fix continues the run
    assert stream([a[:11], a[40:]]) == [("aaa111", 0.0, 400.0)]
    # a run starting in a batch after one in which the track was far from the edge
    far = along("aaa111", 20_000.0, 0.0, 10)
    near = along("aaa111", 5_000.0, 100.0, 31)
    assert stream([far, near]) == [("aaa111", 100.0, 400.0)]


# ------------------------------------------------------------------- streaming


def test_the_feed_clock_moves_with_now_and_an_approach_is_rearmed_after_a_silence() -> None:
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    ew = EarlyWarning([circle], EarlyWarningConfig(gap_s=300.0))
    lon0 = 26.0 - 25_000 / M59
    assert [w.kind for w in ew.update(obs([fix("abc123", 59.0, lon0, t=0.0)]))] == ["approach"]
    assert ew.update(obs([fix("abc123", 59.0, lon0, t=10.0)])) == []  # once
    ew.update(obs([fix("abc123", 59.0, lon0, t=20.0)]).iloc[0:0], now=130.0)
    assert ew.now == 130.0
    ew.update(obs([fix("abc123", 59.0, lon0, t=20.0)]).iloc[0:0], now=50.0)
    assert ew.now == 130.0  # the clock never runs back
    # silent for more than gap_s: forgotten, so warned again when heard of again
    ew.update(obs([fix("zzz999", 10.0, 10.0, t=400.0)]))
    assert ew.tracks == 1
    assert [w.kind for w in ew.update(obs([fix("abc123", 59.0, lon0, t=410.0)]))] == [
        "approach"]


def test_the_streaming_rules_take_their_limits_from_the_config() -> None:
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    d_in, _ = entry_and_exit_along_59n(circle, 26.0 - 20_000 / M59)  # about 15 km
    # 100 m/s: in after about 150 s; with a 100 s horizon that is too far ahead
    ew = EarlyWarning([circle], EarlyWarningConfig(horizon_s=100.0))
    assert ew.update(obs([fix("abc123", 59.0, 26.0 - 20_000 / M59)])) == []
    ew = EarlyWarning([circle], EarlyWarningConfig(horizon_s=200.0))
    (w,) = ew.update(obs([fix("abc123", 59.0, 26.0 - 20_000 / M59)]))
    assert w.time_to_entry_s == pytest.approx(d_in / 100.0, abs=0.01)
    # 3 m/s, 300 m out (in after 100 s): below a least speed of 5 m/s, not extrapolated
    lon_300 = 26.0 - 5_300 / M59
    ew = EarlyWarning([circle], EarlyWarningConfig(min_speed_ms=5.0))
    assert ew.update(obs([fix("abc123", 59.0, lon_300, v=3.0)])) == []


def test_an_approach_is_not_repeated_while_its_track_is_away_from_a_batch() -> None:
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    ew = EarlyWarning([circle])
    lon0 = 26.0 - 25_000 / M59
    assert len(ew.update(obs([fix("abc123", 59.0, lon0, t=0.0)]))) == 1
    assert ew.update(obs([fix("zzz999", 10.0, 10.0, t=5.0)])) == []  # another track only
    assert ew.update(obs([fix("abc123", 59.0, lon0 + 500 / M59, t=5.0)])) == []


def test_loitering_fed_one_fix_at_a_time_and_near_two_zones() -> None:
    twin = Zone("TWIN", "custom", BOX.geometry)
    ew = EarlyWarning([BOX, twin])
    got = []
    for row in along("aaa111", 5_000.0, 0.0, 31):
        got += [(w.zone, w.since, w.at) for w in ew.update(obs([row]))]
    assert got == [("BOX", 0.0, 300.0), ("TWIN", 0.0, 300.0)]


# ------------------------------------------------- a diagonal path, columns, the log


def rhumb_point(lat0: float, lon0: float, azimuth: float, s_m: float) -> tuple[float, float]:
    """The point ``s_m`` along the rhumb line of ``azimuth`` from (lat0, lon0) on WGS84,
    worked out here: latitude from the meridian arc length (Simpson's rule over the
    meridional radius M, then Newton's method), longitude from the isometric latitude
    psi: lon1 - lon0 = tan(azimuth) (psi1 - psi0)."""
    e = math.sqrt(E2)

    def m_rad(phi: float) -> float:
        return A_M * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5

    def arc(p0: float, p1: float) -> float:
        n = 64
        h = (p1 - p0) / n
        return h / 3 * sum((1 if k in (0, n) else 4 if k % 2 else 2) * m_rad(p0 + k * h)
                           for k in range(n + 1))

    def psi(phi: float) -> float:
        return math.atanh(math.sin(phi)) - e * math.atanh(e * math.sin(phi))

    a = math.radians(azimuth)
    p0 = math.radians(lat0)
    p1 = p0 + s_m * math.cos(a) / m_rad(p0)
    for _ in range(6):
        p1 -= (arc(p0, p1) - s_m * math.cos(a)) / m_rad(p1)
    lon1 = lon0 + math.degrees(math.tan(a) * (psi(p1) - psi(p0)))
    return math.degrees(p1), lon1


def test_a_diagonal_approach_follows_the_rhumb_line() -> None:
    # from 20 km south-west of the centre of a 5 km circle at 59 N, on a constant track
    # angle of 40 degrees at 100 m/s. The rhumb line is drawn here (1 km steps) and cut
    # with the zone's polygon by GEOS: the entry is where the drawn line first enters.
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    lon_s, lat_s, _ = GEOD.fwd(26.0, 59.0, 225.0, 20_000.0)
    steps = np.arange(0.0, 30_001.0, 250.0)
    line = shapely.LineString([rhumb_point(lat_s, lon_s, 40.0, s)[::-1] for s in steps])
    inside = line.intersection(circle.geometry)
    first = min(inside.geoms if hasattr(inside, "geoms") else [inside],
                key=lambda g: g.coords[0][1])
    lon_e, lat_e = first.coords[0]
    # distance along the rhumb to that point: invert the latitude (1 m Newton steps)
    lo, hi = 0.0, 30_000.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if rhumb_point(lat_s, lon_s, 40.0, mid)[0] < lat_e else (lo, mid)
    (w,) = predict_approaches(obs([fix("abc123", float(lat_s), float(lon_s), hdg=40.0)]),
                              [circle])
    # 250 m chords of a curve of radius 5 km: the drawn line cuts the circle's polygon
    # within ~2 m of the true path's entry
    assert w.time_to_entry_s == pytest.approx(lo / 100.0, abs=0.05)
    assert w.entry_point == (pytest.approx(lat_e, abs=3e-5), pytest.approx(lon_e, abs=5e-5))


def test_a_batch_with_only_the_required_columns() -> None:
    # no altitude, speed, heading or callsign column: no approach (nothing to
    # extrapolate), went dark and loitering with unknown altitude and speed
    lat, lon = south_of(59.0, 26.5, 3_000.0)
    bare = pd.DataFrame({"time": [10.0], "icao24": ["4b1805"], "lat": [lat], "lon": [lon]})
    assert predict_approaches(bare, [BOX]) == []
    (w,) = went_dark(bare, [BOX])
    assert (w.altitude, w.velocity, w.callsign) == (None, None, None)
    rows = pd.DataFrame({"time": np.arange(0.0, 310.0, 10.0), "icao24": "4b1805",
                         "lat": lat, "lon": lon})
    (w,) = loitering(rows, [BOX])
    assert (w.since, w.at, w.altitude, w.velocity, w.callsign) == (0.0, 300.0, None, None, None)


def test_the_latest_fix_of_a_batch_is_the_one_extrapolated() -> None:
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    lon0 = 26.0 - 15_000 / M59
    # out of time order in the batch: heading away at 20 s, towards the zone at 10 s
    # and (latest) at 30 s
    rows = [fix("abc123", 59.0, lon0, t=20.0, hdg=270.0), fix("abc123", 59.0, lon0, t=10.0),
            fix("abc123", 59.0, lon0, t=30.0)]
    (w,) = EarlyWarning([circle]).update(obs(rows))
    assert w.at == 30.0
    rows[2]["hdg"] = rows[2]["heading"] = 270.0
    rows[0]["heading"] = 90.0
    assert EarlyWarning([circle]).update(obs(rows)) == []


def test_radar_tracks_alone_are_warned_of_approaches() -> None:
    # ids that are no ICAO address (radar tracks): no transponder message at all
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    ew = EarlyWarning([circle])
    got = ew.update(obs([fix("T0042", 59.0, 26.0 - 15_000 / M59, t=5.0)]))
    assert [(w.kind, w.track) for w in got] == [("approach", "T0042")]
    assert ew.update(obs([fix("T0042", 59.0, 26.0 - 14_000 / M59, t=15.0)])) == []


def test_each_judgement_of_silences_is_logged_with_its_reasons(
        caplog: pytest.LogCaptureFixture) -> None:
    # a transponder track in good coverage silent after 40 s (suspicious), a radar
    # track silent too ("no transponder"), and one that keeps talking far out
    m = CoverageModel()
    keys = [m.keys([58.97], [26.5], [1000.0], d_row=r, d_col=c)[0] for r in (-1, 0, 1)
            for c in (-1, 0, 1)]
    m.add(passages=np.repeat(keys, 30))
    ew = EarlyWarning([BOX], EarlyWarningConfig(dark_after_s=60, gap_s=300), m)
    events = []
    with caplog.at_level("DEBUG", logger="skyfence.detect.early_warning"):
        for t in range(0, 120, 10):
            rows = [fix("aaaaaa", 58.5, 26.5, t=float(t), v=0.0)]
            if t <= 40:
                rows += [fix("4b1805", 58.97, 26.5, t=float(t), v=0.0),
                         fix("T0042", 58.97, 26.6, t=float(t), v=0.0)]
            events += ew.update(obs(rows))
    assert [(w.kind, w.track, w.at) for w in events] == [("went_dark", "4b1805", 40.0)]
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("went dark")]
    # reasons in the order of their text, the empty one (suspicious) first
    assert lines == ["went dark at 100: 1 suspicious, 1 no transponder"]


def test_each_reason_a_silence_is_not_suspicious() -> None:
    # good coverage in the 1-3 km band over the 3 x 3 cells (0.25 degree) of lat
    # 58.75-59.5, lon 25.75-26.5: a 5 x 5 block of cells seen by 30 passages each (a
    # covered cell needs its 8 neighbours seen too). Silences judged at now = t + 100 s.
    m = CoverageModel()
    keys = [m.keys([59.125], [26.125], [2000.0], d_row=r, d_col=c)[0]
            for r in range(-2, 3) for c in range(-2, 3)]
    m.add(passages=np.repeat(keys, 30))
    t = 1000.0
    rows = [  # (id, lat, lon, altitude, vertical rate, speed, heading, since - t)
        ("T0042", 59.125, 26.125, 2000.0, 0.0, 0.0, 0.0, 0.0),     # a radar track
        ("4b0001", 59.125, 26.125, 2000.0, -1.0, 0.0, 0.0, 0.0),   # sinking 1 m/s < 3 km
        ("4b0002", 59.125, 26.125, 3500.0, -5.0, 0.0, 0.0, 0.0),   # above 3 km: not landing
        ("4b0003", 60.5, 26.125, 2000.0, 0.0, 0.0, 0.0, 0.0),      # out of coverage
        # 300 m/s east for the 50 s the feed was down: 15 km, 0.26 degree, to 26.56 E
        ("4b0004", 59.125, 26.3, 2000.0, 0.0, 300.0, 90.0, 50.0),
        # climbing 5 m/s for the 20 s the feed was down: 3050 m, above the band
        ("4b0005", 59.125, 26.125, 2950.0, 5.0, 0.0, 0.0, 20.0),
        # climbing 10 m/s: at 3900 m by now, out of the band
        ("4b0006", 59.125, 26.125, 2900.0, 10.0, 0.0, 0.0, 0.0),
        ("4b0007", 59.125, 26.125, 2000.0, 0.0, 0.0, 0.0, 0.0),    # suspicious
    ]
    silent = pd.DataFrame({"time": t, "icao24": [r[0] for r in rows],
                           "lat": [r[1] for r in rows], "lon": [r[2] for r in rows],
                           "altitude": [r[3] for r in rows], "vertrate": [r[4] for r in rows],
                           "velocity": [r[5] for r in rows], "heading": [r[6] for r in rows]})
    since = t + np.array([r[7] for r in rows])
    assert silence_explained(silent, t + 100.0, m, since=since).tolist() == [
        "no transponder", "landing", "outside good coverage", "outside good coverage",
        "outside good coverage", "outside good coverage", "left the covered band", ""]
    # without ``since`` the silence counts from the last fix: nobody moved meanwhile
    assert silence_explained(silent, t + 100.0, m).tolist()[4:6] == [
        "", "left the covered band"]
    # one silent track alone, and none
    assert silence_explained(silent.iloc[:1], t + 100.0, m).tolist() == ["no transponder"]
    assert silence_explained(silent.iloc[:0], t + 100.0, m).tolist() == []


def test_a_replay_gives_the_streaming_warnings() -> None:
    circle = circle_zone("Z", 59.0, 26.0, 5.0)
    lon0 = 26.0 - 25_000 / M59
    batches = [obs([fix("abc123", 59.0, lon0 + k * 1000 / M59, t=10.0 * k)]) for k in range(3)]
    got = warnings_for(batches, [circle], EarlyWarningConfig(horizon_s=220.0))
    # 100 m/s: in after ~200 s from the first fix (warned), ~190 s and ~180 s (once)
    assert [(w.kind, w.at) for w in got] == [("approach", 0.0)]
    assert warnings_for(batches, [circle], EarlyWarningConfig(horizon_s=150.0)) == []


def test_loitering_takes_its_three_limits() -> None:
    # 6 km out for 200 s (21 fixes 10 s apart), then a 150 s silence, then 200 s more:
    # with a 7 km distance, 150 s least and a 120 s gap: two runs, each warned at 150 s
    rows = along("aaa111", 6_000.0, 0.0, 21) + along("aaa111", 6_000.0, 350.0, 21)
    got = loitering(obs(rows), [BOX], distance_m=7_000.0, min_s=150.0, gap_s=120.0)
    assert [(w.since, w.at) for w in got] == [(0.0, 150.0), (350.0, 500.0)]
    # 6 km out is too far for a 4 km distance
    assert loitering(obs(rows), [BOX], distance_m=4_000.0, min_s=150.0, gap_s=120.0) == []


#: a U: the box 0-3 E, 0-3 N without its notch 1-2 E, 1-3 N (open to the north)
U_ZONE = Zone("U", "custom", shapely.box(0.0, 0.0, 3.0, 3.0).difference(
    shapely.box(1.0, 1.0, 2.0, 3.0)))


def test_a_track_inside_a_concave_zone_is_not_warned_of_entering_it_again() -> None:
    """Along the 2nd parallel at 700 m/s east, 300 s ahead: 210 km, 1.888 degree of
    longitude (111,252 m a degree there, :func:`m_per_deg_lon`). From 0.5 E, inside the
    U's west arm, the path leaves it at 1 E and comes back in at 2 E: no approach, the
    track is inside already. From 1.5 E, in the notch (outside), the same path enters at
    2 E: warned, 0.5 degree = 55.6 km ahead, 79.5 s."""
    m_deg = m_per_deg_lon(2.0)
    assert 1.88 < 210_000 / m_deg < 1.89
    got = predict_approaches(obs([fix("in", 2.0, 0.5, v=700.0), fix("notch", 2.0, 1.5,
                                                                    v=700.0)]),
                             [U_ZONE], horizon_s=300.0)
    assert [w.track for w in got] == ["notch"]
    assert got[0].time_to_entry_s == pytest.approx(0.5 * m_deg / 700.0, abs=0.5)


def test_approaches_of_tracks_on_both_sides_of_the_antimeridian_at_once() -> None:
    """Two tracks in one batch near a box 179-180 E on the equator, each 0.2 degree
    (22.26 km at 111,319.5 m a degree) from it and flying towards it at its own speed:
    ``a`` across the seam at 179.8 W flying west at 100 m/s (in after 222.6 s), ``b`` on
    the box's side at 178.8 E flying east at 200 m/s (in after 111.3 s). The screen
    looks across ±180 for ``a`` alone, with ``a``'s own reach (each track's reach is
    its speed times the horizon: 30 km and 60 km)."""
    zone = Zone("SEAM", "custom", shapely.box(179.0, -0.5, 180.0, 0.5))
    m_eq = m_per_deg_lon(0.0)
    got = predict_approaches(obs([fix("a", 0.0, -179.8, v=100.0, hdg=270.0),
                                  fix("b", 0.0, 178.8, v=200.0, hdg=90.0)]), [zone])
    assert [(w.track, w.time_to_entry_s) for w in got] == [
        ("b", pytest.approx(0.2 * m_eq / 200.0, abs=0.01)),
        ("a", pytest.approx(0.2 * m_eq / 100.0, abs=0.01))]
