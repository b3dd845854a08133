"""Boundary segments: crossings, distances and the pruned per-group maximum."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.geodesy import geodesic_distance_m
from skyfence.airspace.zones import circle_zone, national_zone


def test_distance_to_a_circle_is_radius_minus_offset() -> None:
    z = circle_zone("C", 60.0, 25.0, 20.0)
    b = Boundary(z.geometry)
    lon = np.full(5, 25.0)
    lat = 60.0 + np.array([0.0, 0.02, 0.05, 0.1, 0.15])
    off = geodesic_distance_m(25.0, 60.0, lon, lat)
    assert b.distance_m(lon, lat) == pytest.approx(20000.0 - off, abs=1.0)


def test_pruned_group_maximum_equals_measuring_everything() -> None:
    b = Boundary(national_zone("EST").geometry)
    rng = np.random.default_rng(0)
    # wandering tracks inside Estonia, grouped in runs of varying length
    n = 3000
    lon = 25.5 + np.cumsum(rng.normal(0, 0.01, n))
    lat = 58.8 + np.cumsum(rng.normal(0, 0.005, n))
    starts = np.unique(np.concatenate([[0], rng.integers(1, n, 40)]))
    full = b.distance_m(lon, lat)
    want = np.maximum.reduceat(full, starts)
    got = b.max_distance_m(lon, lat, starts)
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("code", ["EST", "FRA", "NOR"])
def test_distance_is_the_least_over_every_boundary_piece(code: str) -> None:
    z = national_zone(code)
    b = Boundary(z.geometry)
    x0, y0, x1, y1 = z.geometry.bounds
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(x0, x1, 40), rng.uniform(y0, y1, 40)
    got = b.distance_m(lon, lat)
    pc = b._pieces
    from skyfence.airspace.boundary import _unit_vectors

    for i in range(len(lon)):
        everything = np.arange(len(pc.x0))
        p = np.repeat(_unit_vectors(lon[i:i + 1], lat[i:i + 1]), len(everything), axis=0)
        q = pc.nearest(p, everything)
        brute = geodesic_distance_m(lon[i], lat[i], q[:, 0], q[:, 1]).min()
        assert got[i] == pytest.approx(brute, rel=1e-9)


@pytest.mark.parametrize("code", ["EST", "FRA", "NOR"])
def test_cheap_bounds_hold_the_exact_distance(code: str) -> None:
    z = national_zone(code)
    b = Boundary(z.geometry)
    x0, y0, x1, y1 = z.geometry.bounds
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)
    exact = b.distance_m(lon, lat)
    lower, upper = b.distance_bounds_m(lon, lat)
    assert (lower <= exact + 1e-6).all() and (exact <= upper + 1e-6).all()
    assert np.median(upper - lower) < 0.08 * np.median(exact) + 1200


def test_crossing_fractions_are_exact_for_a_square() -> None:
    b = Boundary(shapely.box(0, 0, 1, 1))
    seg, t = b.crossings(np.array([-1.0, 0.2]), np.array([0.5, 0.2]),
                         np.array([3.0, 0.8]), np.array([0.5, 0.8]))
    assert sorted(zip(seg.tolist(), t.tolist(), strict=True)) == [(0, 0.25), (0, 0.5)]


def test_a_single_segment_and_no_segment() -> None:
    """One leg from x = -1 to x = 0.5 at y = 0.5 meets the square's edge x = 0 after 1 of
    its 1.5 degrees: fraction 2/3. No legs: no crossings, as integer indices."""
    b = Boundary(shapely.box(0, 0, 1, 1))
    seg, t = b.crossings(np.array([-1.0]), np.array([0.5]), np.array([0.5]), np.array([0.5]))
    assert seg.tolist() == [0] and t.tolist() == pytest.approx([2.0 / 3.0], abs=1e-12)
    empty = np.empty(0)
    seg, t = b.crossings(empty, empty, empty, empty)
    assert (seg.shape, t.shape, seg.dtype.kind) == ((0,), (0,), "i")
    # a leg with no longitude is on no side of ±180: it crosses nothing
    nan = np.array([np.nan])
    seg, t = b.crossings(nan, np.array([0.5]), nan, np.array([0.5]))
    assert (seg.shape, t.shape, seg.dtype.kind) == ((0,), (0,), "i")


def _geos_fractions(poly: shapely.Geometry, x0: float, y0: float, x1: float, y1: float
                    ) -> list[float]:
    """Where the leg meets the polygon's boundary, by GEOS: the intersection points'
    distances along the leg over its length (the reference for ``crossings``)."""
    leg = shapely.LineString([(x0, y0), (x1, y1)])
    pts = shapely.get_coordinates(shapely.intersection(leg, poly.boundary))
    return sorted({round(float(np.hypot(px - x0, py - y0) / leg.length), 9) for px, py in pts})


def test_oblique_crossings_match_geos() -> None:
    """An irregular pentagon, legs in every direction: through it, ending on its edge,
    starting on it, stopping short of it, and crossing an edge's line beyond its ends."""
    poly = shapely.Polygon([(0.0, 0.0), (4.0, 0.5), (3.6, 2.5), (1.2, 3.1), (-0.5, 1.7)])
    rng = np.random.default_rng(9)
    legs = rng.uniform(-1.5, 4.5, size=(300, 4))
    # the edge (0,0)-(4,0.5) is y = x/8: it holds (2, 0.25), exactly in binary
    legs[0] = (-1.0, -0.25, 2.0, 0.25)  # ends on it: fraction 1 exactly
    legs[1] = (2.0, 0.25, 1.7, 2.0)     # starts on it: fraction 0 exactly
    legs[2] = (-1.0, 1.0, -0.6, 1.2)    # stops short of the edge (-0.5,1.7)-(0,0)
    legs[3] = (4.2, -0.5, 5.0, 0.6)     # crosses the line y = x/8 beyond (4, 0.5)
    b = Boundary(poly)
    seg, t = b.crossings(*legs.T.copy())
    got: dict[int, set[float]] = {}
    for s, f in zip(seg.tolist(), t.tolist(), strict=True):
        got.setdefault(s, set()).add(round(f, 9))
    want = {i: set(fr) for i, leg in enumerate(legs) if (fr := _geos_fractions(poly, *leg))}
    assert got == want
    assert want[0] == {1.0} and want[1] == {0.0} and 2 not in want and 3 not in want
    assert sum(len(v) == 2 for v in want.values()) > 50  # many legs pass right through


@pytest.mark.parametrize(("x0", "x1", "t"), [
    (179.5, 181.5, 0.75),      # eastwards: leaves at 181 (written -179) after 1.5 of 2
    (-179.5, -181.5, 0.75),    # westwards: leaves at -181 (written 179)
    (180.5, 181.5, 0.5),       # wholly beyond +180: leaves at 181 halfway
    (-180.5, -181.5, 0.5),     # wholly beyond -180
])
def test_crossings_of_a_zone_across_the_antimeridian(x0: float, x1: float, t: float) -> None:
    """A zone from 179 E to 179 W (two boxes; the ±180 cut is a seam, not a border); the
    legs come unwrapped, as the detector gives them."""
    zone = shapely.MultiPolygon([shapely.box(179.0, 0.0, 180.0, 1.0),
                                 shapely.box(-180.0, 0.0, -179.0, 1.0)])
    seg, f = Boundary(zone).crossings(np.array([x0]), np.array([0.5]), np.array([x1]),
                                      np.array([0.5]))
    assert seg.tolist() == [0] and f.tolist() == pytest.approx([t], abs=1e-12)


@pytest.mark.parametrize(("west", "east", "x0", "x1", "t"), [
    # 179 E to 179.5 W: a leg eastwards leaves at 180.5 (written -179.5), 1.0 of 1.3 along
    (179.0, -179.5, 179.5, 180.8, 1.0 / 1.3),
    # 179.5 E to 179 W: a leg westwards leaves at -180.5 (written 179.5), 1.3 of 1.6 along
    (179.5, -179.0, -179.2, -180.8, 1.3 / 1.6),
])
def test_legs_ending_less_than_a_degree_beyond_the_antimeridian(
        west: float, east: float, x0: float, x1: float, t: float) -> None:
    """A zone across ±180 whose far edge is less than a degree beyond it: legs that end
    between that edge and 181 (or -181) still cross it."""
    zone = shapely.MultiPolygon([shapely.box(west, 0.0, 180.0, 1.0),
                                 shapely.box(-180.0, 0.0, east, 1.0)])
    seg, f = Boundary(zone).crossings(np.array([x0]), np.array([0.5]), np.array([x1]),
                                      np.array([0.5]))
    assert seg.tolist() == [0] and f.tolist() == pytest.approx([t], abs=1e-12)


def _brute_distance_m(b: Boundary, lon: float, lat: float) -> float:
    """The least geodesic over every boundary piece (to each piece's point nearest on
    the unit sphere, as :meth:`Boundary.distance_m` measures a piece)."""
    from skyfence.airspace.boundary import _unit_vectors

    pc = b._pieces
    everything = np.arange(len(pc.x0))
    p = np.repeat(_unit_vectors(np.array([lon]), np.array([lat])), len(everything), axis=0)
    q = pc.nearest(p, everything)
    return float(geodesic_distance_m(lon, lat, q[:, 0], q[:, 1]).min())


def test_the_nearer_border_on_the_ellipsoid_wins_at_the_equator() -> None:
    """At the equator a degree of latitude is 110,574 m and a degree of longitude
    111,319 m (the meridian's radius of curvature is 0.67 % less than the prime
    vertical's), so a northern edge 1.0062 degrees away (111,260 m, pyproj) is nearer
    than an eastern edge 1 degree away (111,319 m), though farther on the sphere.
    A sphere-to-ellipsoid margin under 0.67 % measures only the eastern edge."""
    b = Boundary(shapely.box(-5.0, -5.0, 1.0, 1.0062))
    north = float(geodesic_distance_m(0.0, 0.0, 0.0, 1.0062)[0])
    assert north == pytest.approx(111_260.0, abs=1.0)
    assert b.distance_m(np.array([0.0]), np.array([0.0]))[0] == pytest.approx(north, abs=0.01)


@settings(max_examples=60, deadline=None)
@given(lat=st.floats(-85.0, 85.0), width=st.floats(0.05, 2.0), ratio=st.floats(0.98, 1.02))
def test_distance_equals_brute_force_at_any_latitude(lat: float, width: float,
                                                     ratio: float) -> None:
    """A point in a box whose northern (or southern, nearer the pole) and eastern edges
    are at nearly the same angle: which one is nearer on the ellipsoid depends on the
    latitude, and the answer must equal the least over every piece."""
    north = min(lat + width * ratio, 89.9)
    b = Boundary(shapely.box(-8.0, max(lat - 8.0, -89.9), width, north))
    got = b.distance_m(np.array([0.0]), np.array([lat]))[0]
    assert got == pytest.approx(_brute_distance_m(b, 0.0, lat), rel=1e-9)


def test_near_an_inner_corner_the_corner_itself_is_nearest() -> None:
    """An L-shaped zone has an inner (reflex) corner at (1, 1). From a point inside, 0.001
    degree west and south of it, the feet of the perpendiculars on both edges meeting
    there fall beyond the edges' ends, so the nearest boundary point is the corner: the
    distance is pyproj's geodesic to it (157 m), not the 111 m to either edge's line."""
    from pyproj import Geod

    zone = shapely.Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])
    b = Boundary(zone)
    lon, lat = np.array([0.999, 0.9995]), np.array([0.999, 0.998])
    want = Geod(ellps="WGS84").inv(lon, lat, np.ones(2), np.ones(2))[2]
    assert want[0] == pytest.approx(156.6, abs=0.5)
    assert b.distance_m(lon, lat) == pytest.approx(want, abs=0.01)
