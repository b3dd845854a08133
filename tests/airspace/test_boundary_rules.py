"""Rules of the exact boundary that the mutation run of ``airspace/boundary.py`` found
untested: zones with one border edge or none, empty calls, the pruned group maximum
near the boundary and near a pole.

Every expected value comes from outside the module: pyproj's WGS84 geodesics (``GEOD``),
GEOS through shapely, or arithmetic written down in the docstring.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from skyfence.airspace.boundary import Boundary

GEOD = Geod(ellps="WGS84")


def _geod_m(lon1: object, lat1: object, lon2: object, lat2: object) -> np.ndarray:
    """pyproj's WGS84 geodesic distance (m) between point pairs."""
    a = [np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (lon1, lat1, lon2, lat2)]
    a = [np.ascontiguousarray(v) for v in np.broadcast_arrays(*a)]
    return np.asarray(GEOD.inv(*a)[2])


#: everything north of 89 degrees, drawn as a GeoJSON box from -180 to 180: its only
#: border is the parallel of 89 degrees, one edge from (-180, 89) to (180, 89); the
#: edges along +-180 and along the pole are seams
POLAR_CAP = shapely.box(-180.0, 89.0, 180.0, 90.0)


def test_a_polar_cap_has_one_border_edge_and_its_depth_is_along_the_meridian() -> None:
    """The depth of a fix in (or near) the cap north of 89 degrees is its distance to the
    parallel of 89 degrees; by symmetry the nearest point of a parallel lies on the
    fix's own meridian, and a meridian is a geodesic: pyproj's distance from
    ``(lon, lat)`` to ``(lon, 89)``, 55.8 km for half a degree. The border edge joins
    (-180, 89) to (180, 89), one point of the globe: cut into pieces by the geodesic
    between its ends (0 m) it was one piece of no length at lon 180, and the depth at
    lon 10 came out as 167 km. Exact to the millimetre (the nearest piece point is
    taken on the parallel itself)."""
    b = Boundary(POLAR_CAP)
    assert len(b) == 1
    lon = np.array([10.0, 10.0, -170.0, 179.9, -100.0])
    lat = np.array([89.5, 88.5, 89.9, 89.001, 89.0])
    want = _geod_m(lon, lat, lon, np.full(5, 89.0))
    assert want[0] == pytest.approx(55_847.0, abs=1.0)
    assert b.distance_m(lon, lat) == pytest.approx(want, abs=1e-3)


def test_a_polar_cap_is_crossed_where_a_leg_meets_the_parallel() -> None:
    """A leg along the meridian 10 E from 88.5 to 89.5 degrees meets the cap's one border
    edge, the parallel of 89 degrees, halfway (hand arithmetic: (89 - 88.5) / 1). Legs
    that stay north of 89 degrees, or cross the pole's seam, cross nothing."""
    b = Boundary(POLAR_CAP)
    seg, t = b.crossings(np.array([10.0, 10.0, -170.0]), np.array([88.5, 89.2, 89.5]),
                         np.array([10.0, 10.0, -170.0]), np.array([89.5, 89.8, 88.0]))
    assert seg.tolist() == [0, 2]
    assert t.tolist() == pytest.approx([0.5, 1.0 / 3.0], abs=1e-12)


#: a drone zone of 0.004 x 0.002 degrees (about 305 x 222 m) at 47 N 8 E: four edges of
#: less than a kilometre, so four boundary pieces, fewer than the 16 neighbours the
#: distance's KD-tree query asks for; edge 0 (the first piece) is the southern one
DRONE_ZONE = shapely.Polygon([(8.0, 47.0), (8.004, 47.0), (8.004, 47.002), (8.0, 47.002)])


def test_distance_to_a_zone_of_fewer_pieces_than_neighbours_asked() -> None:
    """Depths in a zone of four pieces: a fix 0.0003 degree north of the southern edge
    (the first piece), one 0.0005 degree east of the western edge, one 0.0001 degree west
    of the eastern edge, and the south-west corner itself (depth 0). Each nearest
    boundary point is the foot on the fix's own parallel or meridian (the feet of the
    others fall farther: 33 m south, 38 m west, 7.6 m east by pyproj, every other edge
    more than 100 m away); pyproj's geodesic to it is exact to well under a millimetre
    for these short distances (a geodesic foot on a meridian moves poleward by
    ``d^2 tan(lat) / 2R``, 0.1 mm for 38 m)."""
    b = Boundary(DRONE_ZONE)
    assert len(b._pieces.x0) == 4
    lon = np.array([8.002, 8.0005, 8.0039, 8.0])
    lat = np.array([47.0003, 47.001, 47.001, 47.0])
    foot_lon = np.array([8.002, 8.0, 8.004, 8.0])
    foot_lat = np.array([47.0, 47.001, 47.001, 47.0])
    want = _geod_m(lon, lat, foot_lon, foot_lat)
    assert want[:3] == pytest.approx([33.35, 38.03, 7.61], abs=0.01)
    assert b.distance_m(lon, lat) == pytest.approx(want, abs=1e-3)
    # the corner alone (the least chord is 0) and the first fix alone
    assert b.distance_m(np.array([8.0]), np.array([47.0])).tolist() == [0.0]
    assert b.distance_m(lon[:1], lat[:1]) == pytest.approx(want[:1], abs=1e-3)


def test_float32_positions_are_measured_as_the_values_they_hold() -> None:
    """Positions in float32 (a column read as such) are the float64 values they hold,
    measured with float64 arithmetic: 200 random fixes in the drone zone, each depth
    the least of pyproj's geodesics to the four feet on its parallel and meridian
    (exact to well under a millimetre within 150 m, see above). Unit vectors rounded to
    float32 (1e-7, 0.6 m on the globe) would move the nearest points by up to 0.3 m."""
    b = Boundary(DRONE_ZONE)
    rng = np.random.default_rng(3)
    lon = rng.uniform(8.0, 8.004, 200).astype(np.float32)
    lat = rng.uniform(47.0, 47.002, 200).astype(np.float32)
    x, y = lon.astype(np.float64), lat.astype(np.float64)
    feet = [(x, np.full(200, 47.0)), (x, np.full(200, 47.002)),
            (np.full(200, 8.0), y), (np.full(200, 8.004), y)]
    want = np.min([_geod_m(x, y, fx, fy) for fx, fy in feet], axis=0)
    assert b.distance_m(lon, lat) == pytest.approx(want, abs=1e-3)


def test_no_positions_and_no_border() -> None:
    """No positions: an empty float array (depths are floats). A zone with no border
    (an empty geometry): every position is infinitely far from it, as the docstring
    of ``distance_m`` promises for no boundary."""
    b = Boundary(DRONE_ZONE)
    got = b.distance_m(np.empty(0), np.empty(0))
    assert (got.shape, got.dtype) == ((0,), np.float64)
    empty = Boundary(shapely.MultiPolygon())
    assert len(empty) == 0
    got = empty.distance_m(np.array([8.0, 9.0]), np.array([47.0, 48.0]))
    assert (got.tolist(), got.dtype) == ([np.inf, np.inf], np.float64)
    # its bounds say the same (before: a half circumference, 20,125 km, as the upper)
    lo, hi = empty.distance_bounds_m(np.array([8.0, 9.0]), np.array([47.0, 48.0]))
    assert (lo.tolist(), hi.tolist()) == ([np.inf, np.inf], [np.inf, np.inf])
    seg, t = empty.crossings(np.array([8.0]), np.array([47.0]), np.array([9.0]),
                             np.array([48.0]))
    assert (seg.tolist(), t.tolist(), seg.dtype.kind) == ([], [], "i")


#: a zone whose southern edge is the equator from 5 W to 5 E (its other edges are 5
#: degrees or more from the fixes below)
EQUATOR_BOX = shapely.box(-5.0, 0.0, 5.0, 5.0)


def _counted(b: Boundary) -> list[int]:
    """Record how many positions each call of ``b.distance_m`` measures."""
    calls: list[int] = []
    exact = b.distance_m

    def spy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        calls.append(len(lon))
        return exact(lon, lat)

    b.distance_m = spy  # type: ignore[method-assign]
    return calls


def test_a_run_along_the_border_keeps_its_depth_under_a_metre() -> None:
    """Twenty fixes 3e-6 degree (0.33 m) north of the equator, the zone's southern
    edge: the run's maximum depth is pyproj's meridian arc from (lon, 3e-6) to (lon, 0),
    the same for every fix (0.3317 m), to a millimetre. The cheap lower bound of a fix
    that close is 0, never more than its true depth."""
    b = Boundary(EQUATOR_BOX)
    lon = 0.5 + 1e-5 * np.arange(20)
    lat = np.full(20, 3e-6)
    want = _geod_m(0.5, 3e-6, 0.5, 0.0)[0]
    assert want == pytest.approx(0.3317, abs=1e-4)
    got = b.max_distance_m(lon, lat, np.array([0]))
    assert got == pytest.approx([want], abs=1e-3)
    lower, upper = b.distance_bounds_m(lon, lat)
    assert (lower == 0.0).all() and (upper >= want).all()


def test_the_pruned_maximum_measures_only_the_samples_of_a_run_in_and_out() -> None:
    """A run of 161 fixes up the meridian 0 E from 0.001 to 0.081 degree and back, 0.001
    degree (110.6 m) a step: its deepest fix is the 81st, at 0.081 degree, 8,957 m from
    the equator (pyproj). With the default stride of 16 the fixes 0, 16, ..., 160 are
    measured (11, the deepest among them). Every other fix ``p`` lies between samples
    ``q`` (nearer the edge) and ``q'``: its bound ``d(q) + 1.015 |pq|`` (the great-circle
    bound is 1.5 % over a meridian arc at the equator: 6,399.6 km x 1.005 / 6,335.4 km)
    is at most ``d(q) + 1.015 x 15 steps``, under ``d(q) + 16 steps``, the deepest
    sample's depth: no other fix is measured. A second group (the same run at half the
    scale, 1 degree east) gets its own maximum and its own 11 samples."""
    b = Boundary(EQUATOR_BOX)
    k = np.arange(161)
    lat = 0.001 + 0.001 * np.minimum(k, 160 - k)
    lon = np.zeros(161)
    want = _geod_m(0.0, 0.081, 0.0, 0.0)[0]
    assert want == pytest.approx(8957.0, abs=1.0)
    calls = _counted(b)
    got = b.max_distance_m(lon, lat, np.array([0]))
    assert got == pytest.approx([want], abs=1e-3)
    assert sum(calls) == 11
    calls.clear()
    got = b.max_distance_m(np.concatenate([lon, lon + 1.0]), np.concatenate([lat, lat * 0.5]),
                           np.array([0, 161]))
    half = _geod_m(1.0, 0.0405, 1.0, 0.0)[0]
    assert got == pytest.approx([want, half], abs=1e-3)
    assert sum(calls) == 22  # each group's own 11 samples, counted from its own start


def test_a_run_of_one_fix_and_no_run_at_all() -> None:
    """A run of one fix is as deep as that fix: 0.081 degree north of the equator,
    8,957 m (pyproj's meridian arc), measured alone. No fixes: no maxima, an empty float
    array."""
    b = Boundary(EQUATOR_BOX)
    want = _geod_m(0.0, 0.081, 0.0, 0.0)
    got = b.max_distance_m(np.array([0.0]), np.array([0.081]), np.array([0]))
    assert got == pytest.approx(want, abs=1e-3)
    got = b.max_distance_m(np.empty(0), np.empty(0), np.empty(0, np.intp))
    assert (got.shape, got.dtype) == ((0,), np.float64)


def test_the_depth_field_gives_the_same_run_maxima() -> None:
    """``deepest_m`` (through the zone's distance field) answers what ``max_distance_m``
    answers: the two runs in and out of the equator box above, deepest at 0.081 and
    0.0405 degree, pyproj's meridian arcs to the equator (to a millimetre)."""
    b = Boundary(EQUATOR_BOX)
    k = np.arange(161)
    lat = 0.001 + 0.001 * np.minimum(k, 160 - k)
    lon = np.concatenate([np.zeros(161), np.ones(161)])
    lat = np.concatenate([lat, lat * 0.5])
    want = _geod_m([0.0, 1.0], [0.081, 0.0405], [0.0, 1.0], [0.0, 0.0])
    assert b.deepest_m(lon, lat, np.array([0, 161])) == pytest.approx(want, abs=1e-3)
    # a run of its second half only, and one fix alone
    assert b.deepest_m(lon[161:], lat[161:], np.array([0])) == pytest.approx(want[1:], abs=1e-3)
    one = b.deepest_m(lon[80:81], lat[80:81], np.array([0]))
    assert one == pytest.approx(want[:1], abs=1e-3)


#: the radius (m) of the sphere of the great-circle upper bound, with its 0.5 % margin
_R_BOUND = 6_399_600.0 * 1.005


@pytest.mark.parametrize(("lon1", "lat1", "lon2", "lat2", "angle_deg"), [
    (-0.5, 0.0, 0.5, 0.0, 1.0),           # along the equator, over lon 0
    (179.5, 0.0, -179.5, 0.0, 1.0),       # along the equator, over +-180
    (10.0, 10.0, 10.0, 11.0, 1.0),        # along a meridian
    (0.0, 60.0, 1.0, 60.0,                # along the parallel of 60 degrees: the
     # spherical law of cosines, cos c = sin^2 phi + cos^2 phi cos(dlambda)
     float(np.degrees(np.arccos(np.sin(np.radians(60)) ** 2
                                + np.cos(np.radians(60)) ** 2 * np.cos(np.radians(1.0)))))),
    (0.0, 0.0, 90.0, 0.0, 90.0),          # a quarter of the equator
    (3.0, 4.0, 3.0, 4.0, 0.0),            # one point
])
def test_the_great_circle_bound_is_the_angle_on_the_largest_sphere(
        lon1: float, lat1: float, lon2: float, lat2: float, angle_deg: float) -> None:
    """The Lipschitz bound of the pruned maximum is, as documented, the great-circle
    angle between the two points on a sphere of 6,399.6 km (the ellipsoid's largest
    radius of curvature) plus 0.5 %: angles by hand (1 degree along the equator, a
    meridian; the law of cosines on a parallel; 90 for a quarter of the equator)."""
    from skyfence.airspace.geodesy import geodesic_upper_m

    got = geodesic_upper_m(np.array([lon1]), np.array([lat1]), np.array([lon2]), np.array([lat2]))
    assert got == pytest.approx([_R_BOUND * np.radians(angle_deg)], rel=1e-9, abs=1e-6)


def test_the_great_circle_bound_holds_every_geodesic() -> None:
    """The bound is at least pyproj's WGS84 geodesic for 20,000 random pairs over the
    globe (near ones and far ones, at the poles and over +-180), and at most 2.3 %
    above it (6,399.6 x 1.005 / 6,335.4 km, the least radius, is 1.0152; the ellipsoid
    is not a sphere of either radius, hence the margin): an upper bound, and a useful
    one."""
    from skyfence.airspace.geodesy import geodesic_upper_m

    rng = np.random.default_rng(4)
    n = 20_000
    lon1, lat1 = rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    near = rng.random(n) < 0.5
    step = np.where(near, 0.05, 60.0)
    lon2 = (lon1 + rng.uniform(-1, 1, n) * step + 180) % 360 - 180
    lat2 = np.clip(lat1 + rng.uniform(-1, 1, n) * step, -90, 90)
    geod = _geod_m(lon1, lat1, lon2, lat2)
    bound = geodesic_upper_m(lon1, lat1, lon2, lat2)
    assert (bound >= geod).all()
    assert (bound <= geod * 1.023 + 1e-6).all()


@pytest.mark.parametrize(("x0", "y0", "x1", "y1", "tight"), [
    (-180.0, 89.0, 180.0, 89.0, True),    # the polar cap's parallel: 702 km, ends 0 m apart
    (0.0, 60.0, 10.0, 60.0, True),        # along a parallel
    (5.0, 10.0, 5.0, 40.0, True),         # along a meridian
    (0.0, -0.001, 10.0, 0.001, True),     # nearly along the equator, over it
    (0.0, -30.0, 60.0, 30.0, False),      # a long diagonal over the equator
    (-20.0, -50.0, 30.0, -10.0, False),   # a long diagonal in the south
])
def test_an_edge_is_cut_by_an_upper_bound_of_its_path_length(
        x0: float, y0: float, x1: float, y1: float, tight: bool) -> None:
    """Boundary pieces must be at most a kilometre along the edge's path, linear in
    lon/lat: the bound of that path's length is at least pyproj's length of the path
    drawn as 100,000 straight steps (which converges from below; the rounding of the sum
    is 1e-9 relative), and within 1 % of it along a parallel, a meridian and the
    equator (``N`` at the path's farthest latitude over ``M`` or ``N`` where it is:
    0.7 % at most). Long diagonals may be overestimated (more pieces, still exact)."""
    from skyfence.airspace.boundary import _path_upper_m

    t = np.linspace(0.0, 1.0, 100_001)
    length = GEOD.line_length(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
    got = float(_path_upper_m(*(np.array([v]) for v in (x0, y0, x1, y1)))[0])
    assert got >= length * (1 - 1e-9)
    if tight:
        assert got <= length * 1.01


def test_depth_next_to_the_antimeridian_cut_reaches_the_piece_ending_there() -> None:
    """A zone from 179 E to 179 W over the equator's first degree north, cut at +-180
    into two boxes (the cut is a seam, left out): each box's ring is open there, and the
    piece of its southern edge that ends on +-180 is followed by no other piece. A fix
    0.0001 degree from +-180 and 0.0001 degree north of the equator is 11.06 m deep:
    its nearest boundary point is the foot on the equator on its own meridian (the
    equator is a geodesic met at a right angle; the other edges are a degree away),
    pyproj's geodesic to it. That foot is in the piece ending on +-180, whose end is
    a KD-tree point only as the end of an unfollowed piece."""
    zone = shapely.MultiPolygon([shapely.box(179.0, 0.0, 180.0, 1.0),
                                 shapely.box(-180.0, 0.0, -179.0, 1.0)])
    b = Boundary(zone)
    lon = np.array([179.9999, -179.9999])
    lat = np.array([0.0001, 0.0001])
    want = _geod_m(lon, lat, lon, np.zeros(2))
    assert want == pytest.approx([11.06, 11.06], abs=0.01)
    assert b.distance_m(lon, lat) == pytest.approx(want, abs=1e-3)
