"""Longitude arithmetic, zones cut at ±180, polar caps and large circles.

Truths come from outside the code under test: pyproj's geodesic forward problem (a
point at a known distance and azimuth from a circle's centre), shapely areas of the
same polygon drawn unwrapped, and hand arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from skyfence.airspace.antimeridian import (
    contains_on_globe,
    lon_delta,
    normalize_polygonal,
    wrap_lon,
)
from skyfence.airspace.boundary import Boundary
from skyfence.airspace.zones import MAX_CIRCLE_RADIUS_KM, Zone, circle_zone
from skyfence.errors import ZoneError

GEOD = Geod(ellps="WGS84")
LON = st.floats(-180.0, 180.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(LON, LON)
def test_lon_delta_is_the_shorter_way(a: float, b: float) -> None:
    d = float(lon_delta(a, b))
    assert -180.0 <= d < 180.0
    # a + d is b, up to a whole turn
    turns = (a + d - b) / 360.0
    assert abs(turns - round(turns)) < 1e-9
    # no other representative of b is closer to a
    assert abs(d) <= min(abs(b - a), abs(b - a + 360), abs(b - a - 360)) + 1e-9


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e4, 1e4, allow_nan=False))
def test_wrap_lon_stays_on_the_same_meridian(x: float) -> None:
    w = float(wrap_lon(x))
    assert -180.0 <= w <= 180.0
    turns = (x - w) / 360.0
    assert abs(turns - round(turns)) < 1e-9


def _square(lon0: float, lon1: float, lat0: float, lat1: float) -> list[tuple[float, float]]:
    return [(lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1), (lon0, lat0)]


def test_ring_with_a_jump_is_read_as_crossing_the_antimeridian() -> None:
    # 179.5 -> -179.5 is a 1 degree wide box over ±180, not a 359 degree band
    ring = shapely.Polygon(_square(179.5, -179.5, 10.0, 11.0))
    geom = normalize_polygonal(ring)
    assert geom.bounds[0] >= -180 and geom.bounds[2] <= 180
    # the same box drawn unwrapped has area 1 x 1 square degree
    assert geom.area == pytest.approx(1.0)
    lon = np.array([179.9, -179.9, 180.0, -180.0, 0.0, 179.0])
    lat = np.full(6, 10.5)
    assert contains_on_globe(geom, lon, lat).tolist() == [True, True, True, True, False, False]


def test_cut_at_180_is_a_seam_not_a_border() -> None:
    # the same box as two RFC 7946 parts meeting at ±180
    geom = shapely.MultiPolygon([shapely.Polygon(_square(179.5, 180.0, 10.0, 11.0)),
                                 shapely.Polygon(_square(-180.0, -179.5, 10.0, 11.0))])
    b = Boundary(geom)
    # no border edge lies on the antimeridian
    on_am = (b.x0 == b.x1) & (np.abs(b.x0) == 180.0)
    assert not on_am.any()
    # depth at the box centre (on the antimeridian): the nearest border is one of the
    # four true edges, 0.5 degree of latitude or of longitude away (at lat 10.5 half a
    # degree of longitude is the shorter); never the cut through the centre (0 m)
    _, _, d = GEOD.inv([180.0] * 4, [10.5] * 4, [180.0, 180.0, 179.5, -179.5],
                       [11.0, 10.0, 10.5, 10.5])
    depth = b.distance_m(np.array([180.0]), np.array([10.5]))[0]
    assert depth == pytest.approx(min(d), abs=1.0)
    assert depth > 50_000


def test_edge_on_180_with_nothing_across_is_a_border() -> None:
    # a zone drawn up to the antimeridian and no further: that edge is its border
    b = Boundary(shapely.Polygon(_square(179.0, 180.0, 10.0, 11.0)))
    assert ((b.x0 == 180.0) & (b.x1 == 180.0)).any()
    _, _, d_east = GEOD.inv(179.9, 10.5, 180.0, 10.5)
    assert b.distance_m(np.array([179.9]), np.array([10.5]))[0] == pytest.approx(d_east, abs=1)


@pytest.mark.parametrize(("lat", "lon", "radius_km"), [
    (-16.69, -179.88, 20.0),   # Matei airstrip, Taveuni (Fiji), straddling ±180
    (47.0, 180.0, 5.0),        # centred on the antimeridian
    (90.0, 0.0, 5.0),          # on the north pole
    (89.99, 30.0, 5.0),        # 1.1 km from the pole: encloses it
    (-89.0, 0.0, 300.0),       # encloses the south pole
    (47.0, 8.0, 5000.0),       # reaches over the north pole
    (47.0, 8.0, 9000.0),       # the largest allowed
    (0.0, 0.0, 2000.0),        # equator, nothing special
])
def test_circle_zone_holds_what_the_geodesic_circle_holds(
    lat: float, lon: float, radius_km: float
) -> None:
    zone = circle_zone("C", lat, lon, radius_km)
    r = radius_km * 1000.0
    az = np.linspace(0.0, 360.0, 37)[:-1] + 3.0
    # points 1% (at least 20 m) inside and outside the circle, found by pyproj
    margin = max(20.0, 0.01 * r)
    x_in, y_in, _ = GEOD.fwd(np.full(36, lon), np.full(36, lat), az, np.full(36, r - margin))
    x_out, y_out, _ = GEOD.fwd(np.full(36, lon), np.full(36, lat), az, np.full(36, r + margin))
    assert zone.contains(np.asarray(x_in), np.asarray(y_in), np.full(36, np.nan)).all()
    assert not zone.contains(np.asarray(x_out), np.asarray(y_out), np.full(36, np.nan)).any()
    # depth at the centre is the radius (the ring is within 1 m of the true circle)
    depth = Boundary(zone.geometry).distance_m(np.array([lon]), np.array([lat]))[0]
    assert depth == pytest.approx(r, abs=2.0)


def test_circle_larger_than_the_limit_is_refused_with_the_limit() -> None:
    with pytest.raises(ZoneError, match="9,000 km"):
        circle_zone("BIG", 47.0, 8.0, MAX_CIRCLE_RADIUS_KM + 1)


def test_whole_globe_zone_is_refused() -> None:
    with pytest.raises(ZoneError, match="whole globe"):
        Zone("ALL", "custom", shapely.box(-180.0, -90.0, 180.0, 90.0))


def test_national_boundaries_are_left_as_published() -> None:
    from skyfence.airspace.national import find_national

    rus = find_national("RUS").geometry
    assert normalize_polygonal(rus) is rus


def test_lon_delta_a_hair_beyond_a_half_turn_is_minus_180() -> None:
    """Found by Hypothesis: 1.7e-14 -> -180 is -180 - 1.7e-14 degrees, which ``mod``
    rounds to a whole turn (360.0), so it came out as +180, outside [-180, 180)."""
    assert float(lon_delta(1.7031293874354948e-14, -180.0)) == -180.0
    # the other way round, a hair beyond +180: in range as well
    assert -180.0 <= float(lon_delta(-1.7e-14, 180.0)) < 180.0


def test_a_position_on_180_is_inside_a_zone_that_lies_only_east_of_it() -> None:
    # a box from the antimeridian eastwards (-180 .. -179 E, i.e. 180 .. 181 unwrapped):
    # the meridian is one line, written 180 or -180; a position on it at lat 0.5 is on
    # the box's western edge, held by the zone on its east side only. It is inside
    # whichever way it is written (shapely alone says outside for 180, the other end of
    # the plane). A zone lying only west of it (179 .. 180) holds it too, and a
    # position on 180 beyond the boxes' latitudes is in neither.
    east = shapely.box(-180.0, 0.0, -179.0, 1.0)
    west = shapely.box(179.0, 0.0, 180.0, 1.0)
    lon, lat = np.array([180.0, -180.0, 180.0]), np.array([0.5, 0.5, 2.0])
    assert contains_on_globe(east, lon, lat).tolist() == [True, True, False]
    assert contains_on_globe(west, lon, lat).tolist() == [True, True, False]


def test_a_hole_east_of_180_stays_in_a_zone_drawn_across_it() -> None:
    # a 20-degree box across the antimeridian drawn with a jump (170 E .. 170 W), with a
    # hole from 175 W to 172 W: unwrapped, the shell runs 170 .. 190 and the hole must
    # move by a whole turn to 185 .. 188 (the nearest turn to the shell, not the turn
    # below it). Inside the hole is outside the zone; beside it, on either side of 180,
    # is inside.
    shell = [(170.0, -10.0), (-170.0, -10.0), (-170.0, 10.0), (170.0, 10.0)]
    hole = [(-175.0, -2.0), (-172.0, -2.0), (-172.0, 2.0), (-175.0, 2.0)]
    geom = normalize_polygonal(shapely.Polygon(shell, [hole]))
    lon = np.array([-173.5, -178.0, 175.0, -171.0])
    lat = np.array([0.0, 0.0, 5.0, -5.0])
    assert contains_on_globe(geom, lon, lat).tolist() == [False, True, True, True]
    # the area: 20 x 20 degrees less the 3 x 4 hole, in the plane's square degrees
    assert geom.area == pytest.approx(400.0 - 12.0)
