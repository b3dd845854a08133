"""The reference checked on small cases whose answers are worked out by hand next to them.

Unit square SQ = [0, 1] x [0, 1] in lon/lat unless said otherwise. Times in seconds.
"""

from __future__ import annotations

import doctest
import itertools
import math

import numpy as np
import pandas as pd
import pytest
import shapely

from reference import contract_ref
from reference.contract_ref import GEOD, RefZone, reference_scan, split_tracks

SQ = RefZone.from_geometry("SQ", shapely.box(0.0, 0.0, 1.0, 1.0))


def track(t: list[float], lon: list[float], lat: list[float], ident: str = "abc123",
          alt: list[float] | None = None) -> pd.DataFrame:
    cols: dict[str, object] = {"time": t, "icao24": ident, "lat": lat, "lon": lon}
    if alt is not None:
        cols["geoaltitude"] = alt
    return pd.DataFrame(cols)


def test_doctests_of_the_reference_pass() -> None:
    result = doctest.testmod(contract_ref)
    assert result.attempted >= 4 and result.failed == 0


@pytest.mark.parametrize(("gap", "pieces"), [(299.0, 1), (300.0, 1), (301.0, 2)])
def test_a_track_splits_only_where_fixes_are_more_than_gap_s_apart(gap: float,
                                                                   pieces: int) -> None:
    # contract: "split where two consecutive fixes are more than 300 s apart"
    df = track([0.0, 10.0, 10.0 + gap], [0.0, 0.1, 0.2], [0.0, 0.0, 0.0])
    assert len(split_tracks(df, 300.0)) == pieces


def test_rows_in_any_order_make_one_time_ordered_track() -> None:
    df = track([20.0, 0.0, 10.0], [0.75, -0.25, 0.25], [0.5] * 3)
    (piece,) = split_tracks(df)
    assert piece.time_s.tolist() == [0.0, 10.0, 20.0]
    assert piece.lon.tolist() == [-0.25, 0.25, 0.75]


def test_straight_crossing_of_the_square() -> None:
    # lon -0.25, 0.25, 0.75, 1.25 at t 0, 10, 20, 30: lon = -0.25 + t / 20, so lon 0 at t 5
    # and lon 1 at t 25; inside fixes t 10 and 20.
    (e,) = reference_scan(track([0, 10, 20, 30], [-0.25, 0.25, 0.75, 1.25], [0.5] * 4),
                          [SQ]).entries
    assert e["entered_at"] == pytest.approx(5.0) and e["exited_at"] == pytest.approx(25.0)
    assert e["entry_interpolated"]
    assert e["entry_point"] == pytest.approx({"lat": 0.5, "lon": 0.0})
    assert e["exit_point"] == pytest.approx({"lat": 0.5, "lon": 1.0})
    assert e["observations"] == 2 and e["last_inside_at"] == 20.0
    assert e["duration_s"] == pytest.approx(20.0)
    # depth: both fixes are 0.25 deg of longitude from a side meridian, 0.5 deg of latitude
    # from the south or north edge. On a sphere the distance from (lon 0.25, lat 0.5) to the
    # meridian lon 0 is R asin(sin 0.25deg cos 0.5deg) = 27.80 km for R = 6371.0 km; the
    # ellipsoid differs by < 0.5 %, and the parallels are 55 km away.
    sphere = 6371008.8 * math.asin(math.sin(math.radians(0.25)) * math.cos(math.radians(0.5)))
    assert e["max_depth_m"] == pytest.approx(sphere, rel=5e-3)


@pytest.mark.parametrize(("lon", "lat"), [(11.0, 40.9), (11.2, 40.5), (11.9, 41.0), (10.4, 41.0)])
def test_depth_matches_a_dense_brute_force_minimum(lon: float, lat: float) -> None:
    # Independent of the sampling + golden-section search: 20,001 points on each edge. Edges
    # are 100-250 km, so a point every h <= 12.5 m; near a minimum at distance d the distance
    # grows like x^2 / 2d, so the brute force is within h^2 / 8d < 0.01 m for d > 2 km.
    # (11.0, 40.9) is nearest to a vertex, the others to the inside of an edge.
    poly = shapely.Polygon([(10, 40), (12.5, 40.3), (11.8, 41.9), (11.0, 41.2), (10.2, 42.0)])
    zone = RefZone.from_geometry("P", poly)
    ring = np.asarray(poly.exterior.coords)
    s = np.linspace(0.0, 1.0, 20_001)
    best = math.inf
    for (ax, ay), (bx, by) in itertools.pairwise(ring):
        n = len(s)
        _, _, d = GEOD.inv(np.full(n, lon), np.full(n, lat), ax + s * (bx - ax), ay + s * (by - ay))
        best = min(best, float(np.min(d)))
    assert zone.depth_m(lon, lat) == pytest.approx(best, abs=0.1)


def test_segment_cutting_a_corner_between_two_outside_fixes_is_an_entry_without_fixes() -> None:
    # lon -1 -> 2 over t 0 -> 30: lon 0 at t 10, lon 1 at t 20.
    (e,) = reference_scan(track([0, 30], [-1.0, 2.0], [0.5, 0.5]), [SQ]).entries
    assert (e["entered_at"], e["exited_at"]) == pytest.approx((10.0, 20.0))
    assert e["observations"] == 0 and e["max_depth_m"] == 0.0
    assert e["last_inside_at"] == pytest.approx(20.0)  # no inside fix: the exit time
    assert e["duration_s"] == pytest.approx(10.0)
    assert e["min_altitude_m"] is None


def test_track_starting_inside_is_not_interpolated_and_stays_open() -> None:
    (e,) = reference_scan(track([0, 10, 20], [0.5, 0.6, 0.7], [0.5] * 3), [SQ]).entries
    assert not e["entry_interpolated"] and e["entry_point"] is None
    assert e["entered_at"] == 0.0 and e["exited_at"] is None and e["exit_point"] is None
    assert e["observations"] == 3 and e["last_inside_at"] == 20.0 and e["duration_s"] == 20.0


def test_single_fix_inside_is_an_open_entry_of_no_duration() -> None:
    (e,) = reference_scan(track([7.0], [0.5], [0.5]), [SQ]).entries
    assert (e["entered_at"], e["exited_at"], e["observations"], e["duration_s"]) == (7.0, None,
                                                                                       1, 0.0)


def test_leaving_through_a_bay_between_two_inside_fixes_gives_two_entries() -> None:
    # U shape: [0,3] x [0,3] without the bay [1,2] x [1,3]. Track at lat 2 from lon 0.5 (t 0)
    # to lon 2.5 (t 20): lon = 0.5 + t / 10, leaves at lon 1 (t 5), comes back at lon 2 (t 15).
    u = shapely.Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    a, b = reference_scan(track([0, 20], [0.5, 2.5], [2.0, 2.0]),
                          [RefZone.from_geometry("U", u)]).entries
    assert (a["entered_at"], a["exited_at"], a["entry_interpolated"]) == (0.0, 5.0, False)
    assert a["exit_point"] == pytest.approx({"lat": 2.0, "lon": 1.0})
    assert a["observations"] == 1 and a["duration_s"] == 5.0
    assert (b["entered_at"], b["exited_at"], b["entry_interpolated"]) == (15.0, None, True)
    assert b["entry_point"] == pytest.approx({"lat": 2.0, "lon": 2.0})
    assert b["observations"] == 1 and b["last_inside_at"] == 20.0 and b["duration_s"] == 5.0


def test_a_hole_is_outside() -> None:
    # [0,4]^2 with hole [1,3]^2, track at lat 2 from lon -1 (t 0) to 5 (t 60): lon = -1 + t/10.
    poly = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    a, b = reference_scan(track([0, 60], [-1.0, 5.0], [2.0, 2.0]),
                          [RefZone.from_geometry("H", poly)]).entries
    assert (a["entered_at"], a["exited_at"]) == pytest.approx((10.0, 20.0))
    assert (b["entered_at"], b["exited_at"]) == pytest.approx((40.0, 50.0))


CUT = shapely.MultiPolygon([shapely.box(179.0, -1.0, 180.0, 1.0),
                            shapely.box(-180.0, -1.0, -179.0, 1.0)])
JUMPS = shapely.Polygon([(179.0, -1.0), (-179.0, -1.0), (-179.0, 1.0), (179.0, 1.0)])


@pytest.mark.parametrize("geometry", [CUT, JUMPS], ids=["cut-at-180", "ring-with-jumps"])
def test_crossing_the_antimeridian_the_short_way_is_one_entry(
        geometry: shapely.Geometry) -> None:
    # lon 178.5 (t 0) -> -178.5 (t 30) the short way is 3 deg: 0.1 deg/s, so lon 179 at t 5,
    # lon 181 = -179 at t 25; fixes at 179.5 (t 10), 180.5 (t 20) are inside.
    zone = RefZone.from_geometry("AM", geometry)
    (e,) = reference_scan(track([0, 10, 20, 30], [178.5, 179.5, -179.5, -178.5], [0.0] * 4),
                          [zone]).entries
    assert (e["entered_at"], e["exited_at"]) == pytest.approx((5.0, 25.0))
    assert e["entry_point"] == pytest.approx({"lat": 0.0, "lon": 179.0})
    assert e["exit_point"] == pytest.approx({"lat": 0.0, "lon": -179.0})
    assert e["observations"] == 2
    # depth excludes the cut: (179.9, 0) is 0.1 deg from the cut (11 km) but 0.9 deg of
    # equator from the west side: a = 6378137 m, 6378137 * 0.9 * pi / 180 = 100187.54 m
    # (the nearest point of a meridian from a point on the equator is on the equator), and
    # 1 deg of latitude (110.57 km) from the north and south sides.
    assert zone.depth_m(179.9, 0.0) == pytest.approx(6378137.0 * math.radians(0.9), abs=0.1)


def test_a_cut_with_no_partner_on_the_other_side_is_a_boundary() -> None:
    # the west part covers only lat [0, 1]: the cut along lat [-1, 0] has outside to its east.
    zone = RefZone.from_geometry("HALF", shapely.MultiPolygon([
        shapely.box(179.0, -1.0, 180.0, 1.0), shapely.box(-180.0, 0.0, -179.0, 1.0)]))
    cut_pieces = {(x0 % 360, y0, y1) for x0, y0, x1, y1 in zone.boundary_edges()
                  if x0 % 360 == 180 and x1 % 360 == 180}
    assert cut_pieces == {(180.0, -1.0, 0.0)} or cut_pieces == {(180.0, 0.0, -1.0)}
    # a track along lat -0.5 leaves there: lon 179.5 (t 0) -> -179.5 (t 10), lon 180 at t 5
    (e,) = reference_scan(track([0, 10], [179.5, -179.5], [-0.5, -0.5]), [zone]).entries
    assert e["exited_at"] == pytest.approx(5.0)
    assert abs(e["exit_point"]["lon"]) == pytest.approx(180.0)  # type: ignore[index]


def test_near_the_pole_with_a_ring_that_jumps() -> None:
    # lat [85, 86] x lon [170, 190] given with jumps; track along lat 85.5 from lon 169 (t 0)
    # to lon -169 = 191 (t 220): 0.1 deg/s, lon 170 at t 10, lon 190 at t 210.
    zone = RefZone.from_geometry("POLAR", shapely.Polygon(
        [(170.0, 85.0), (-170.0, 85.0), (-170.0, 86.0), (170.0, 86.0)]))
    (e,) = reference_scan(track([0, 110, 220], [169.0, 180.0 - 1e-7, -169.0], [85.5] * 3),
                          [zone]).entries
    assert (e["entered_at"], e["exited_at"]) == pytest.approx((10.0, 210.0))
    assert e["observations"] == 1


def test_a_ring_around_a_pole_is_refused() -> None:
    with pytest.raises(ValueError, match="pole"):
        RefZone.from_geometry("CAP", shapely.Polygon(
            [(0.0, 80.0), (120.0, 80.0), (-120.0, 80.0)]))


def test_altitude_band_gives_interpolated_entry_and_exit() -> None:
    # floor 1000, ceiling 2000; climbing 100 m/s from 0 at t 0: floor at t 10, ceiling at t 20.
    zone = RefZone.from_geometry("BAND", shapely.box(0.0, 0.0, 1.0, 1.0), 1000.0, 2000.0)
    df = track([0, 15, 30], [0.2, 0.5, 0.8], [0.5] * 3, alt=[0.0, 1500.0, 3000.0])
    (e,) = reference_scan(df, [zone]).entries
    assert (e["entered_at"], e["exited_at"]) == pytest.approx((10.0, 20.0))
    # position is linear in time too: lon 0.2 + 0.02 t, so lon 0.4 at t 10 and 0.6 at t 20
    assert e["entry_point"] == pytest.approx({"lat": 0.5, "lon": 0.4})
    assert e["exit_point"] == pytest.approx({"lat": 0.5, "lon": 0.6})
    assert e["observations"] == 1 and e["min_altitude_m"] == e["max_altitude_m"] == 1500.0


def test_unknown_altitude_counts_as_inside_the_band() -> None:
    zone = RefZone.from_geometry("BAND", shapely.box(0.0, 0.0, 1.0, 1.0), 1000.0, 2000.0)
    df = track([0, 10], [0.4, 0.6], [0.5] * 2, alt=[math.nan, math.nan])
    (e,) = reference_scan(df, [zone]).entries
    assert e["observations"] == 2 and e["min_altitude_m"] is None


def test_circle_vertices_lie_on_the_circle_and_its_centre_is_one_radius_deep() -> None:
    zone = RefZone.circle("C", 50.0, 10.0, 10.0)
    ring = zone.parts[0][0]
    assert len(ring) == 721
    _, _, d = GEOD.inv(np.full(720, 10.0), np.full(720, 50.0), ring[:-1, 0], ring[:-1, 1])
    assert np.allclose(d, 10_000.0, atol=1e-6)
    # chords cut inside the circle by at most r (1 - cos(pi / 720)) = 0.095 m for r = 10 km
    assert 10_000.0 - 0.2 < zone.depth_m(10.0, 50.0) <= 10_000.0 + 1e-6


# -- measure-zero ties ----------------------------------------------------------------------------


def test_touching_the_boundary_at_a_fix_then_going_in_enters_at_that_fix() -> None:
    # fixes: (-0.5, 0.5) t 0 outside; (0.0, 0.5) t 10 exactly on the west side; (0.5, 0.5) t 20.
    (e,) = reference_scan(track([0, 10, 20], [-0.5, 0.0, 0.5], [0.5] * 3), [SQ]).entries
    assert e["entered_at"] == 10.0 and e["entry_interpolated"]
    assert e["entry_point"] == {"lat": 0.5, "lon": 0.0}
    assert e["observations"] == 1  # the fix on the boundary is not an inside fix


def test_touching_the_boundary_from_inside_is_no_exit() -> None:
    (e,) = reference_scan(track([0, 10, 20], [0.5, 0.0, 0.5], [0.5, 0.5, 0.6]), [SQ]).entries
    assert e["entered_at"] == 0.0 and e["exited_at"] is None and e["observations"] == 2


def test_touching_the_boundary_from_outside_is_no_entry() -> None:
    assert reference_scan(track([0, 10, 20], [-0.5, 0.0, -0.5], [0.5, 0.5, 0.6]),
                          [SQ]).entries == []
    # and a segment through a corner only: (-1, 0) -> (0, 1) touches (0, 1)? no: it passes
    # through the corner (0, 1) only at its end; (-1, 1) -> (1, 3) touches the corner (0, 2)?
    # keep it plain: a straight line through the corner (0, 0) from (-1, 1) to (1, -1).
    assert reference_scan(track([0, 10], [-1.0, 1.0], [1.0, -1.0]), [SQ]).entries == []


def test_starting_or_ending_on_the_boundary_is_a_crossing_at_that_fix() -> None:
    # (0, 0.5) is on the west side: not an inside fix, so the track is not "already inside"
    (e,) = reference_scan(track([0, 10], [0.0, 0.5], [0.5, 0.5]), [SQ]).entries
    assert e["entered_at"] == 0.0 and e["entry_interpolated"]
    assert e["entry_point"] == {"lat": 0.5, "lon": 0.0}
    (e,) = reference_scan(track([0, 10], [0.5, 1.0], [0.5, 0.5]), [SQ]).entries
    assert e["exited_at"] == 10.0 and e["exit_point"] == {"lat": 0.5, "lon": 1.0}
    assert e["observations"] == 1 and e["last_inside_at"] == 0.0 and e["duration_s"] == 10.0


def test_margins_report_how_close_a_case_comes_to_a_tie() -> None:
    scan = reference_scan(track([0, 10], [-0.5, 0.0], [0.5, 0.5]), [SQ])
    assert scan.margin_deg == 0.0
    far = reference_scan(track([0, 10], [0.25, 0.75], [0.5, 0.5]), [SQ])
    assert far.margin_deg == pytest.approx(0.25)
