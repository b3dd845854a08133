"""Entries across the antimeridian, at the poles and at exact boundary touches.

The answers are hand arithmetic on straight lon/lat segments (the contract's
interpolation, taken the shorter way round in longitude) or independent geometry:
pyproj geodesics and shapely in an azimuthal equidistant projection.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from skyfence.airspace.national import find_national
from skyfence.airspace.zones import Zone, all_national_zones, circle_zone, national_zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.incidents.formats import path_geometry
from skyfence.model import Entry, make_observations

SQUARE = Zone("SQ", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))


def track(t: list[float], lon: list[float], lat: list[float], ident: str = "R0001"
          ) -> pd.DataFrame:
    return make_observations(time=t, icao24=[ident] * len(t), lat=lat, lon=lon)


def finals(zones: list[Zone], obs: pd.DataFrame, **cfg: object) -> list[Entry]:
    det = EntryDetector(zones, DetectorConfig(**cfg))  # type: ignore[arg-type]
    ev = det.process(obs) + det.close()
    out = [e.entry for e in ev if e.kind in ("exit", "open")]
    return sorted(out, key=lambda e: (e.track, e.zone, e.entered_at))


# ------------------------------------------------------------------ the antimeridian
def test_segment_over_180_goes_the_short_way_and_enters_no_state_on_its_latitude() -> None:
    # issue 8's reproduction: 179.99 -> -179.99 at 47 N is 0.02 degree of ocean
    found = finals(all_national_zones(), track([0, 10], [179.99, -179.99], [47.0, 47.0]))
    assert found == []


def test_track_over_chukotka_is_one_russian_entry() -> None:
    t = [0.0, 100.0, 200.0]
    lon, lat = [179.0, -179.0, -178.5], [66.0, 66.0, 66.0]
    found = finals(all_national_zones(), track(t, lon, lat))
    assert [e.zone for e in found] == ["RUS"]
    (e,) = found
    assert not e.entry_interpolated and e.exited_at is None and e.observations == 3
    # depth, independently: Russia's parts near the fix projected to an azimuthal
    # equidistant plane centred on each fix and merged (the ±180 cut disappears in
    # the union); distance from the centre to the merged boundary
    rus = find_national("RUS").geometry
    near = shapely.MultiPolygon([
        p for box in (shapely.box(170, 60, 180, 72), shapely.box(-180, 60, -170, 72))
        for p in shapely.get_parts(shapely.intersection(rus, box)) if p.geom_type == "Polygon"])
    best = 0.0
    for x, y in zip(lon, lat, strict=True):
        to_plane = Transformer.from_crs(
            "EPSG:4326", f"+proj=aeqd +lat_0={y} +lon_0={x} +datum=WGS84", always_xy=True)
        def fwd(c: np.ndarray, tp: Transformer = to_plane) -> np.ndarray:
            return np.column_stack(tp.transform(c[:, 0], c[:, 1]))
        merged = shapely.unary_union(shapely.transform(near, fwd)).buffer(0.01)
        inner = shapely.intersection(merged, shapely.Point(0, 0).buffer(350_000))
        best = max(best, inner.boundary.distance(shapely.Point(0, 0)))
    # the clip circle (350 km) is farther than the coast, so it is not what was measured
    assert best < 300_000
    # AEQD distances from its centre are exact geodesics; the boundary between vertices
    # is drawn differently (lon/lat-straight vs projected-straight): 0.5 % covers it
    assert e.max_depth_m == pytest.approx(best, rel=5e-3)


def test_fixes_on_the_meridian_itself_are_inside_russia() -> None:
    # a track flying along 180 E inside Chukotka, then off it eastwards
    t = [0.0, 60.0, 120.0, 180.0]
    found = finals([national_zone("RUS")],
                   track(t, [180.0, -180.0, 180.0, -179.5], [66.0, 66.2, 66.4, 66.5]))
    (e,) = found
    assert e.zone == "RUS" and not e.entry_interpolated
    assert e.observations == 4 and e.exited_at is None


def test_circle_over_180_entry_and_exit_times_and_points() -> None:
    # a 20 km circle at Matei (Fiji); an eastbound track along the centre's latitude
    lat0, lon0 = -16.69, -179.88
    zone = circle_zone("MATEI", lat0, lon0, 20.0)
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    t = [0.0, 250.0]
    lon = [179.5, -179.5]  # 1 degree the short way; crossing ±180 at t = 125
    (e,) = finals([zone], track(t, lon, [lat0, lat0]))
    assert e.entry_interpolated and e.exited_at is not None
    assert e.entry_point is not None and e.exit_point is not None
    # crossing points lie on the circle: 20 km from the centre (ring within 1 m)
    for p in (e.entry_point, e.exit_point):
        _, _, d = geod.inv(lon0, lat0, p[1], p[0])
        assert d == pytest.approx(20_000.0, abs=2.0)
        assert p[0] == pytest.approx(lat0)
    # both on the line, entry west of the centre (lon > 0), exit east of it
    assert e.entry_point[1] > 179.0 and e.exit_point[1] < -179.0
    # times: lon moves 0.004 deg/s along the short way
    for at, p in ((e.entered_at, e.entry_point), (e.exited_at, e.exit_point)):
        travelled = (p[1] - 179.5) % 360.0
        assert at == pytest.approx(travelled / 0.004, abs=1e-6)


def test_polygon_given_with_a_jump_gives_entries_on_both_sides() -> None:
    ring = [(179.5, 10.0), (-179.5, 10.0), (-179.5, 11.0), (179.5, 11.0), (179.5, 10.0)]
    zone = Zone("BOX", "custom", shapely.Polygon(ring))
    # northbound at lon 179.8 and at -179.8: both inside the box's columns
    for x in (179.8, -179.8):
        (e,) = finals([zone], track([0.0, 200.0], [x, x], [9.0, 12.0]))
        assert e.entered_at == pytest.approx(200.0 / 3)
        assert e.exited_at == pytest.approx(400.0 / 3)
        # depth is capped by the nearest edge of the box at its middle row (0.5 deg
        # of latitude or 0.3 deg of longitude away); the fixes themselves are outside
        assert e.observations == 0 and e.max_depth_m == 0.0
    # a fix at 10.5 N, 0.3 deg east of the west edge across the antimeridian
    (e,) = finals([zone], track([0.0, 10.0], [179.8, 179.81], [10.5, 10.5]))
    from pyproj import Geod

    _, _, to_west = Geod(ellps="WGS84").inv(179.81, 10.5, 179.5, 10.5)
    assert e.max_depth_m == pytest.approx(to_west, abs=1.0)


def test_chunked_batches_over_the_antimeridian_equal_one_batch() -> None:
    t = list(np.arange(0.0, 400.0, 20.0))
    lon = [float(x) for x in (179.0 + 0.1 * np.arange(len(t)) + 180.0) % 360.0 - 180.0]
    obs = track(t, lon, [66.0] * len(t))
    zones = [national_zone("RUS"), national_zone("USA")]
    whole = [(e.zone, e.entered_at, e.exited_at) for e in finals(zones, obs)]
    det = EntryDetector(zones)
    ev = []
    for k in range(0, len(obs), 3):
        ev += det.process(obs.iloc[k:k + 3].reset_index(drop=True))
    ev += det.close()
    parts = sorted((e.entry.zone, e.entry.entered_at, e.entry.exited_at)
                   for e in ev if e.kind in ("exit", "open"))
    assert parts == sorted(whole)
    assert [z for z, _, _ in whole] == ["RUS"]


# ------------------------------------------------------------------ the poles
def test_track_over_the_north_pole_stays_in_a_polar_circle() -> None:
    zone = circle_zone("POLE", 90.0, 0.0, 50.0)
    # fixes at 89.8 N (22 km from the pole) going round the pole in longitude
    t = [0.0, 60.0, 120.0, 180.0, 240.0]
    lon = [0.0, 90.0, 180.0, -90.0, -1.0]
    (e,) = finals([zone], track(t, lon, [89.8] * 5))
    assert not e.entry_interpolated and e.exited_at is None and e.observations == 5
    from pyproj import Geod

    _, _, to_pole = Geod(ellps="WGS84").inv(0.0, 89.8, 0.0, 90.0)
    assert e.max_depth_m == pytest.approx(50_000.0 - to_pole, abs=5.0)


# ------------------------------------------------------------------ exact touches
@pytest.mark.parametrize(("lon", "want"), [
    # in, touch the boundary exactly at a fix, in again: one entry, it never left
    ([0.5, 1.0, 0.5], [(0.0, None, None, None, 2)]),
    # in, on, out: leaves at the fix on the boundary
    ([0.5, 1.0, 1.5], [(0.0, 10.0, None, (0.5, 1.0), 1)]),
    # out, on, in: enters at the fix on the boundary
    ([1.5, 1.0, 0.5], [(10.0, None, (0.5, 1.0), None, 1)]),
    # out, on, out: touched from outside, no entry
    ([1.5, 1.0, 1.5], []),
    # out, in, on, in, out: one entry, crossing in at 5 s and out at 35 s
    ([1.5, 0.5, 1.0, 0.5, 1.5], [(5.0, 35.0, (0.5, 1.0), (0.5, 1.0), 2)]),
])
def test_touching_the_boundary_at_a_fix(lon: list[float], want: list[tuple[object, ...]]
                                        ) -> None:
    t = [10.0 * i for i in range(len(lon))]
    got = [(e.entered_at, e.exited_at, e.entry_point, e.exit_point, e.observations)
           for e in finals([SQUARE], track(t, lon, [0.5] * len(lon)))]
    assert got == want


# ------------------------------------------------------------------ GeoJSON paths
def test_path_over_180_is_cut_into_a_multilinestring() -> None:
    # (179, 10) -> (-179, 12): the short way crosses 180 half way, at lat 11
    geom = path_geometry([(179.0, 10.0), (-179.0, 12.0)])
    assert geom == {"type": "MultiLineString", "coordinates": [
        [[179.0, 10.0], [180.0, 11.0]], [[-180.0, 11.0], [-179.0, 12.0]]]}
    json.dumps(geom, allow_nan=False)
    assert path_geometry([(1.0, 2.0), (3.0, 4.0)]) == {
        "type": "LineString", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}


# ------------------------------------------------------------------ the seams of the grid
# Legs over ±180 that cross a zone between fixes, and fixes exactly on ±180 or on a
# pole. Hand arithmetic on the contract's straight lon/lat segments, the shorter way
# round: a leg from 179.5 E to 179.0 W runs 179.5 -> 181.0 in unwrapped longitude, so it
# reaches unwrapped longitude L at t0 + (L - 179.5) / 1.5 * dt. Zones are small boxes.

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


@pytest.mark.parametrize(("zone", "lon"), [
    (Zone("EAST", "custom", shapely.box(-180.0, 10.0, -179.0, 11.0)), [179.0, 180.0, -179.5]),
    (Zone("WEST", "custom", shapely.box(179.0, 10.0, 180.0, 11.0)), [-179.0, -180.0, 179.5]),
])
def test_a_fix_on_the_antimeridian_just_outside_a_zone_there_is_outside(
        zone: Zone, lon: list[float]) -> None:
    """The same tracks 0.001 degree (111 m) north of the zones' top edge at 11 N: the fix
    on ±180 lies next to the zone, in the same grid cell as its edge, but outside it, and
    so is every leg (all at 11.001 N): no entry. Taking the seam fix for inside because
    its cell holds the zone would be an alarm from a misread."""
    assert finals([zone], track([0.0, 60.0, 120.0], lon, [11.001, 11.001, 11.001])) == []


@pytest.mark.parametrize(("zone", "meridian"), [
    (Zone("EAST", "custom", shapely.box(-180.0, 10.0, -179.0, 11.0)), 180.0),
    (Zone("WEST", "custom", shapely.box(179.0, 10.0, 180.0, 11.0)), -180.0),
])
def test_a_track_along_the_antimeridian_leaves_a_zone_between_two_fixes_on_it(
        zone: Zone, meridian: float) -> None:
    """Fixes on the meridian itself at 10.5, 10.95 and 11.05 N (0, 60, 120 s): the zone's
    top edge at 11 N is crossed between the last two, both on the seam and 0.1 degree
    apart, at 60 + 0.05 / 0.1 x 60 = 90 s."""
    (e,) = finals([zone], track([0.0, 60.0, 120.0], [meridian] * 3, [10.5, 10.95, 11.05]))
    assert e.zone == zone.name and e.entered_at == 0.0 and e.observations == 2
    assert e.exited_at == pytest.approx(90.0, abs=1e-6)


def test_a_track_along_the_antimeridian_below_a_zone_s_floor_never_enters() -> None:
    """The zone east of 180 from 1,000 m up; a track along the meridian at 500 m from
    10.5 N over the box's top edge at 11 N to 11.05 N, below the floor throughout: no fix
    and no point of a leg is inside, so no entry (the leg over the edge is measured
    just off the seam, at its altitude)."""
    east = Zone("EAST", "custom", shapely.box(-180.0, 10.0, -179.0, 11.0), 1000.0, None)
    obs = make_observations(time=[0.0, 60.0, 120.0], icao24=["R0001"] * 3,
                            lat=[10.5, 10.95, 11.05], lon=[180.0] * 3,
                            altitude=[500.0] * 3)
    assert finals([east], obs) == []


def test_a_seam_exit_beside_other_crossings_in_one_batch() -> None:
    """Two zones and two tracks in one batch: R0001 leaves EAST (a box east of 180)
    through a fix written 180.0 at 60 s; R0002 crosses the square SQ (lon 0..1) on legs
    found by the boxes, -0.5 -> 0.5 -> 1.5 at 0.5 N over 0, 100, 200 s: entry at 50 s,
    exit at 150 s. The legs added for the seam fix leave the other pairs as they were."""
    east = Zone("EAST", "custom", shapely.box(-180.0, 10.0, -179.0, 11.0))
    obs = pd.concat([track([0.0, 100.0, 200.0], [-0.5, 0.5, 1.5], [0.5, 0.5, 0.5], "R0002"),
                     track([0.0, 60.0, 120.0], [-179.5, 180.0, 179.5], [10.5] * 3)])
    got = [(e.track, e.zone, e.entered_at, e.exited_at)
           for e in finals([SQUARE, east], obs.sort_values("time", kind="stable"))]
    assert got == [("R0001", "EAST", 0.0, 60.0), ("R0002", "SQ", 50.0, 150.0)]


def test_a_leg_from_far_outside_to_far_outside_crosses_a_small_zone() -> None:
    """Both fixes 5 degrees from the square, neither near it: only the leg between them
    crosses it. On the straight lon/lat segment -5 -> 5 at 0.5 N over 1,000 s the square's
    west edge (lon 0) is reached at 5 / 10 x 1,000 = 500 s and its east edge at 600 s."""
    (e,) = finals([SQUARE], track([0.0, 1000.0], [-5.0, 5.0], [0.5, 0.5]), gap_s=2000.0)
    assert e.zone == "SQ" and e.entry_interpolated and e.observations == 0
    assert e.entered_at == pytest.approx(500.0, abs=1e-6)
    assert e.exited_at == pytest.approx(600.0, abs=1e-6)


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


# ------------------------------------------------------------------ silent tracks


def test_a_track_silent_longer_than_the_limit_ends_its_entry_open() -> None:
    """Inside fixes at t = 0 and 10 s; with a 50 s limit the track is forgotten only when
    the clock is past 10 + 50 = 60 s. The entry ends still open (it never left), the event
    at the last fix; a fix afterwards starts a new entry, as for a new track."""
    det = EntryDetector([SQUARE], DetectorConfig())
    det.process(track([0.0, 10.0], [0.5, 0.6], [0.5, 0.5]))
    assert det.expire(now=60.0, silence_s=50.0) == [] and det.tracked == 1
    (ev,) = det.expire(now=60.001, silence_s=50.0)
    assert (ev.kind, ev.at, ev.entry.zone, ev.entry.track) == ("exit", 10.0, "SQ", "R0001")
    assert ev.entry.is_open and ev.entry.entered_at == 0.0 and ev.entry.observations == 2
    assert det.tracked == 0 and det.expire(now=1e9, silence_s=50.0) == []
    again = det.process(track([100.0], [0.5], [0.5]))
    assert [(e.kind, e.entry.entered_at) for e in again] == [("entry", 100.0)]


def test_close_reports_an_entry_still_inside_at_its_last_inside_fix() -> None:
    """Inside at t = 0 and 10 s, data ends: ``close`` gives the entry as open, at 10 s."""
    det = EntryDetector([SQUARE], DetectorConfig())
    det.process(track([0.0, 10.0], [0.5, 0.6], [0.5, 0.5]))
    (ev,) = det.close()
    assert (ev.kind, ev.at, ev.entry.entered_at, ev.entry.last_inside_at) == (
        "open", 10.0, 0.0, 10.0)
    assert ev.entry.is_open
