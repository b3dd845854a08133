"""The scenarios' ground truth, computed from geometry alone, on cases solved by hand.

Each reference is derived next to its test from the geometry of the case (straight lines
in lon/lat crossing a 1-degree box, a climb through a floor, a geodesic along a
meridian through a circle) with hand arithmetic or a single pyproj call; none comes from
skyfence's detector.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from skyfence.airspace.zones import Zone, circle_zone
from skyfence.scenarios import truth
from skyfence.scenarios.truth import truth_entries

GEOD = Geod(ellps="WGS84")
BOX = Zone("BOX", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))


def path(target: str, t: list[float], lon: list[float], lat: list[float], alt: list[float],
         kind: str = "background") -> pd.DataFrame:
    return pd.DataFrame({"time": t, "target": target, "lon": lon, "lat": lat,
                         "altitude": alt, "kind": kind})


def test_straight_line_between_sparse_fixes_crosses_where_the_line_does() -> None:
    # fixes at lon -0.5 (t 0) and 1.5 (t 200) along lat 0.5: the line is at lon 0 at
    # t = 50 and at lon 1 at t = 150; no fix lies inside, the line does
    (e,) = truth_entries(path("A", [0.0, 200.0], [-0.5, 1.5], [0.5, 0.5], [100.0, 100.0]),
                         [BOX])
    assert (e.zone, e.zone_kind, e.track) == ("BOX", "custom", "A")
    assert e.entry_interpolated
    assert e.entered_at == pytest.approx(50.0, abs=1e-6)
    assert e.exited_at == pytest.approx(150.0, abs=1e-6)
    assert e.entry_point == pytest.approx((0.5, 0.0), abs=1e-8)
    assert e.exit_point == pytest.approx((0.5, 1.0), abs=1e-8)
    # samples every second strictly inside: t = 51 .. 149
    assert e.observations == 99 and e.last_inside_at == 149.0
    # every sample on lat 0.5 is nearest the south edge, the equator, straight south of
    # it (the west and east edges are 0.5 degree of longitude away, which is longer than
    # 0.5 degree of latitude at the equator): the depth is the meridian arc 0 -> 0.5 N
    _, _, arc = GEOD.inv(0.5, 0.0, 0.5, 0.5)
    assert e.max_depth_m == pytest.approx(arc, abs=0.01)
    assert e.min_altitude_m == e.max_altitude_m == 100.0


def test_start_inside_is_not_interpolated_and_end_inside_stays_open() -> None:
    (e,) = truth_entries(path("B", [0.0, 10.0, 20.0], [0.5, 0.6, 0.7], [0.5] * 3,
                              [0.0] * 3), [BOX])
    assert not e.entry_interpolated and e.entry_point is None
    assert e.entered_at == 0.0
    assert e.exited_at is None and e.exit_point is None
    assert e.last_inside_at == 20.0 and e.observations == 21


def test_reentry_gives_two_entries_in_time_order() -> None:
    # out at lon 1 (t 150), back in at lon 1 (t 250) on the return leg
    (a, b) = truth_entries(path("C", [0.0, 200.0, 400.0], [-0.5, 1.5, -0.5], [0.5] * 3,
                                [0.0] * 3), [BOX])
    assert (a.entered_at, a.exited_at) == pytest.approx((50.0, 150.0), abs=1e-6)
    assert (b.entered_at, b.exited_at) == pytest.approx((250.0, 350.0), abs=1e-6)


def test_climb_through_the_floor_enters_where_the_altitude_passes_it() -> None:
    band = Zone("BAND", "custom", shapely.box(0.0, 0.0, 1.0, 1.0), floor_m=500.0,
                ceiling_m=1500.0)
    # straight up over the centre from 0 to 2000 m in 100 s: 500 m at t = 25 and
    # 1500 m at t = 75 (20 m/s)
    (e,) = truth_entries(path("D", [0.0, 100.0], [0.5, 0.5], [0.5, 0.5], [0.0, 2000.0]),
                         [band])
    assert e.entered_at == pytest.approx(25.0, abs=1e-6)
    assert e.exited_at == pytest.approx(75.0, abs=1e-6)
    # the floor and ceiling belong to the zone: samples t = 25 .. 75 are inside
    assert e.min_altitude_m == 500.0 and e.max_altitude_m == 1500.0
    assert e.observations == 51


def test_depth_in_a_zone_of_few_long_edges_is_to_the_nearest_edge() -> None:
    # a 40 x 30 degree box drawn with its four corners only: each edge is a straight
    # line in lon/lat thousands of km long (the north edge is the parallel 60 N). A
    # hover at 10 E, 55 N is nearest to the north edge, straight north (the nearest
    # point of a parallel is on the same meridian): the meridian arc 55 -> 60 N,
    # 556.8 km. The east edge (10 degrees of longitude at 55 N) is about 640 km away,
    # the others farther. A probe that ranks edges by their projected chords (the
    # north edge's chord between its projected corners runs far south of the
    # parallel's image) measures the east edge instead.
    big = Zone("BIG", "custom", shapely.box(-20.0, 30.0, 20.0, 60.0))
    (e,) = truth_entries(path("N", [0.0, 1.0], [10.0, 10.0], [55.0, 55.0], [100.0] * 2,
                              kind="scripted"), [big])
    _, _, north_m = GEOD.inv(10.0, 55.0, 10.0, 60.0)
    _, _, east_m = GEOD.inv(10.0, 55.0, 20.0, 55.0)
    assert north_m < east_m - 50_000.0
    assert e.max_depth_m == pytest.approx(north_m, abs=1e-6)


def test_a_target_of_unknown_altitude_is_inside_a_zone_with_a_floor_and_a_ceiling() -> None:
    # no altitude at all (NaN): nothing shows the target below the floor (500 m) or
    # above the ceiling (1500 m), so the zone's band holds it (the README's rule for
    # an unknown altitude: it cannot clear a target). The same entry as the line
    # through BOX without a band, lon 0 at t = 50 and lon 1 at t = 150, with no
    # altitude figures
    band = Zone("BAND", "custom", shapely.box(0.0, 0.0, 1.0, 1.0), floor_m=500.0,
                ceiling_m=1500.0)
    (e,) = truth_entries(path("U", [0.0, 200.0], [-0.5, 1.5], [0.5, 0.5],
                              [np.nan, np.nan]), [band])
    assert (e.entered_at, e.exited_at) == pytest.approx((50.0, 150.0), abs=1e-6)
    assert e.observations == 99
    assert e.min_altitude_m is None and e.max_altitude_m is None


def test_scripted_geodesic_through_a_circle() -> None:
    # due north along the meridian 10 E through a 5 km circle at 57 N at 20 m/s: the
    # geodesic is the meridian, so the path enters 5 km south of the centre and leaves
    # 5 km north of it, 10 km (500 s) later; the circle is a polygon of 720 vertices
    # within 0.1 m of the geodesic circle (0.005 s at 20 m/s)
    circle = circle_zone("C", 57.0, 10.0, 5.0)
    _, _, south = GEOD.inv(10.0, 56.9, 10.0, 57.0)
    _, _, total = GEOD.inv(10.0, 56.9, 10.0, 57.1)
    t = np.append(np.arange(0.0, total / 20.0, 1.0), total / 20.0)
    lon, lat, _ = GEOD.fwd(np.full(len(t), 10.0), np.full(len(t), 56.9), np.zeros(len(t)),
                           20.0 * t)
    (e,) = truth_entries(path("E", list(t), list(lon), list(lat), [300.0] * len(t),
                              kind="scripted"), [circle])
    assert e.entered_at == pytest.approx((south - 5000.0) / 20.0, abs=0.01)
    assert e.exited_at == pytest.approx((south + 5000.0) / 20.0, abs=0.01)
    assert e.entry_point is not None and e.exit_point is not None
    assert e.entry_point[1] == pytest.approx(10.0, abs=1e-9)  # on the meridian
    assert e.entry_point[0] < 57.0 < e.exit_point[0]
    # the sample nearest the centre is at most 10 m (half a second) from it
    assert 4989.9 <= e.max_depth_m <= 5000.1


def test_paths_that_stay_out_make_no_entry() -> None:
    far = path("F", [0.0, 100.0], [2.0, 3.0], [2.0, 3.0], [0.0, 0.0])
    above = path("G", [0.0, 100.0], [0.2, 0.8], [0.5, 0.5], [3000.0, 3000.0])
    band = Zone("BAND", "custom", shapely.box(0.0, 0.0, 1.0, 1.0), ceiling_m=1500.0)
    assert truth_entries(pd.concat([far, above], ignore_index=True), [band]) == []


def _brute_depth_m(zone: Zone, lon: float, lat: float) -> float:
    """The reference: every edge of the zone cut every 20 m (``DENSIFY_M``) in lon/lat,
    edge by edge, each cut point measured with its own pyproj call on the edge."""
    best = np.inf
    coords = np.asarray(zone.geometry.exterior.coords)
    for (x0, y0), (x1, y1) in itertools.pairwise(coords):
        _, _, length = GEOD.inv(x0, y0, x1, y1)
        f = np.linspace(0.0, 1.0, max(2, int(np.ceil(length / 20.0)) + 1))
        _, _, d = GEOD.inv(np.full(len(f), lon), np.full(len(f), lat),
                           x0 + f * (x1 - x0), y0 + f * (y1 - y0))
        best = min(best, float(d.min()))
    return best


def test_a_hover_at_the_centre_of_a_circle_is_as_deep_as_its_radius() -> None:
    # 600 samples at the centre of a 5 km circle (a polygon of 720 vertices within 0.1 m
    # of it; each chord's middle is 5000 * (1 - cos(pi / 720)) = 0.05 m inside): every
    # edge is equally near, so each must be measured, and the depth is 4999.95 m
    circle = circle_zone("C", 57.0, 10.0, 5.0)
    t = np.arange(0.0, 600.0)
    (e,) = truth_entries(path("H", list(t), [10.0] * 600, [57.0] * 600, [100.0] * 600,
                              kind="scripted"), [circle])
    assert e.max_depth_m == pytest.approx(_brute_depth_m(circle, 10.0, 57.0), abs=1e-6)
    assert 4999.8 <= e.max_depth_m <= 5000.0



def test_depth_is_the_same_when_the_cuts_are_measured_in_many_calls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the circle's 720 edges (~2,900 cut points) measured 100 cut points a call
    circle = circle_zone("C", 57.0, 10.0, 5.0)
    monkeypatch.setattr(truth, "CUTS_PER_CALL", 100)
    lon, lat = [10.0, 10.01, 10.02], [57.0, 57.01, 57.02]
    (e,) = truth_entries(path("I", [0.0, 1.0, 2.0], lon, lat, [0.0] * 3), [circle])
    ref = max(_brute_depth_m(circle, x, y) for x, y in zip(lon, lat, strict=True))
    assert e.max_depth_m == pytest.approx(ref, abs=1e-6)


def test_a_zones_depth_probe_is_built_once_for_all_its_entries(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # three targets, four entries into BOX: the probe (the zone's edges projected and
    # indexed) is built once; building it per entry made a scenario's truth 3x slower
    built: list[str] = []
    real = truth._DepthProbe

    def counted(zone: Zone) -> truth._DepthProbe:
        built.append(zone.name)
        return real(zone)

    monkeypatch.setattr(truth, "_DepthProbe", counted)
    line = path("A", [0.0, 200.0, 400.0], [-0.5, 1.5, -0.5], [0.5] * 3, [0.0] * 3)
    other = path("B", [0.0, 200.0], [-0.5, 1.5], [0.25] * 2, [0.0] * 2)
    third = path("C", [0.0, 200.0], [-0.5, 1.5], [0.75] * 2, [0.0] * 2)
    entries = truth_entries(pd.concat([line, other, third], ignore_index=True), [BOX])
    assert len(entries) == 4 and built == ["BOX"]


def test_near_an_inner_corner_the_depth_is_the_distance_to_the_corner() -> None:
    # an L: the 0.2-degree square at the equator without its north-east quarter; the
    # inner (reflex) corner is (0.1, 0.1). A hover at (0.09, 0.09) is nearest to that
    # corner: the feet of its perpendiculars on the two edges meeting there, (0.1, 0.09)
    # and (0.09, 0.1), lie beyond the edges' ends, and every other edge is 9 km or more
    # away. Each edge is cut into points from its start to its end: a cut taken one
    # step before an edge's start lies, at this corner, inside the zone and nearer.
    ell = Zone("L", "custom", shapely.Polygon(
        [(0.0, 0.0), (0.2, 0.0), (0.2, 0.1), (0.1, 0.1), (0.1, 0.2), (0.0, 0.2)]))
    t = list(np.arange(0.0, 10.0))
    (e,) = truth_entries(path("H", t, [0.09] * 10, [0.09] * 10, [100.0] * 10,
                              kind="scripted"), [ell])
    _, _, corner_m = GEOD.inv(0.09, 0.09, 0.1, 0.1)  # about 1,570 m
    assert e.max_depth_m == pytest.approx(corner_m, abs=1e-6)


def test_the_deepest_point_is_found_where_the_projection_stretches_another() -> None:
    # a 20-degree box (edges every 0.05 degree) centred near 0 E, 50 N: its depth probe
    # ranks points in an azimuthal equidistant projection centred there, which
    # stretches distances far from the centre (at the south-west corner by about
    # 0.5 %). A, near that corner, is 62.8 km from the boundary but looks 63.1 km; B,
    # on the centre's meridian, is 62.9 km from the south edge (the meridian arc to
    # it: the nearest point of a parallel is straight south) and looks it. B is the
    # deeper: the probe must measure every point within 1 % (+ 50 m) of the best
    # looking one exactly, not only the best looking one.
    big = Zone("BIG", "custom", shapely.segmentize(shapely.box(-10.0, 40.0, 10.0, 60.0), 0.05))
    a, b = (-9.256, 40.756), (0.0, 40.5665)
    (e,) = truth_entries(path("D", [0.0, 1.0], [a[0], b[0]], [a[1], b[1]], [100.0] * 2,
                              kind="scripted"), [big])
    _, _, b_m = GEOD.inv(0.0, 40.5665, 0.0, 40.0)
    a_m = _brute_depth_m(big, *a)
    assert a_m < b_m - 30.0  # B is the deeper, by more than the densification error
    assert e.max_depth_m == pytest.approx(b_m, abs=1e-6)
