"""The exact distance to a boundary, pruned by straight lines through the Earth.

:meth:`Boundary.distance_m` measures a piece at its point nearest on the unit sphere
and answers the least of those geodesics. It measures only the pieces whose straight
line (Earth-centred) to that point is below the least geodesic so far, and asks the
KD-tree for a ball only when its nearest piece ends cannot exclude the others. Each
answer here is compared, bit for bit, with the least geodesic over *every* piece of
the boundary (one pyproj call over all of them: the brute force the pruning must
reproduce), on real borders, polar and antimeridian zones and shapes made to defeat
the pruning (the centre of a circle, where every piece is nearly as near).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from skyfence.airspace.antimeridian import normalize_polygonal
from skyfence.airspace.boundary import Boundary, _unit_vectors
from skyfence.airspace.zones import national_zone

_GEOD = Geod(ellps="WGS84")


def brute_m(b: Boundary, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The least geodesic from each position over every piece of ``b``, each piece
    measured at its point nearest on the unit sphere."""
    pc = b._pieces
    every = np.arange(len(pc.x0))
    out = np.empty(len(lon))
    for i in range(len(lon)):
        p = np.repeat(_unit_vectors(lon[i:i + 1], lat[i:i + 1]), len(every), axis=0)
        q = pc.nearest(p, every)
        _, _, d = _GEOD.inv(np.full(len(every), lon[i]), np.full(len(every), lat[i]),
                            q[:, 0], q[:, 1])
        out[i] = np.min(d)
    return out


def ecef_m(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Earth-centred points of the WGS84 surface, from the textbook formulas."""
    a, f = 6_378_137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi, lam = np.radians(lat), np.radians(lon)
    n = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
    return np.stack([n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam),
                     n * (1 - e2) * np.sin(phi)], axis=-1)


@pytest.mark.parametrize("code", ["CHE", "EST", "NOR", "FJI", "RUS"])
def test_every_position_gets_the_least_geodesic_over_every_piece(code: str) -> None:
    """Inside, outside and on the far side of real borders (Fiji and Russia lie across
    the antimeridian, Norway reaches 80 degrees north): the same float as the brute
    force, not merely a close one."""
    b = Boundary(national_zone(code).geometry)
    x0, y0, x1, y1 = national_zone(code).geometry.bounds
    rng = np.random.default_rng(7)
    lon = rng.uniform(x0 - 2, x1 + 2, 25)
    lat = np.clip(rng.uniform(y0 - 2, y1 + 2, 25), -89.9, 89.9)
    lon = (lon + 180.0) % 360.0 - 180.0
    assert b.distance_m(lon, lat).tolist() == brute_m(b, lon, lat).tolist()


def test_at_the_centre_of_a_circle_every_piece_is_nearly_as_near() -> None:
    """A circle of 30 km radius: from its centre every piece is within metres of the
    nearest, so the nearest piece ends exclude nothing and the ball must be asked;
    a little off the centre, the same."""
    lon0, lat0 = 10.0, 50.0
    az = np.linspace(0.0, 360.0, 721)[:-1]
    lons, lats, _ = _GEOD.fwd(np.full(az.shape, lon0), np.full(az.shape, lat0), az,
                              np.full(az.shape, 30_000.0))
    b = Boundary(shapely.Polygon(np.column_stack([lons, lats])))
    lon = np.array([lon0, lon0 + 0.001, lon0 - 0.0003, lon0 + 0.2])
    lat = np.array([lat0, lat0, lat0 + 0.0004, lat0 - 0.1])
    got = b.distance_m(lon, lat)
    assert got.tolist() == brute_m(b, lon, lat).tolist()
    assert got[0] == pytest.approx(30_000.0, abs=1.0)


@settings(max_examples=40, deadline=None)
@given(lon=st.floats(-180.0, 180.0), lat=st.floats(-89.0, 89.0),
       size=st.floats(0.01, 5.0), x=st.floats(-1.5, 1.5), y=st.floats(-1.5, 1.5))
def test_a_box_anywhere_on_the_globe(lon: float, lat: float, size: float, x: float,
                                     y: float) -> None:
    """A box of any size anywhere (across the antimeridian too: the zone is then cut
    there and its seam is no border), a position inside or outside it."""
    top = min(lat + size, 89.9)
    b = Boundary(normalize_polygonal(shapely.box(lon, lat, lon + size, top)))
    px = np.array([(lon + size * (0.5 + x) + 180.0) % 360.0 - 180.0])
    py = np.array([min(max(lat + (top - lat) * (0.5 + y), -89.99), 89.99)])
    assert b.distance_m(px, py).tolist() == brute_m(b, px, py).tolist()


@pytest.mark.parametrize("code", ["CHE", "NOR", "ATA", "FJI", "USA"])
def test_no_piece_strays_farther_from_its_straight_line_than_the_bound(code: str) -> None:
    """The ball's reach rests on how far a piece's lon/lat-linear path can stray from
    the straight line between its ends: sampled at 64 points along every piece (more
    than 70,000 pieces for the United States), none strays farther than the bound."""
    b = Boundary(national_zone(code).geometry)
    pc = b._pieces
    t = np.linspace(0.0, 1.0, 64)[:, None]
    for part in np.array_split(np.arange(len(pc.x0)), max(1, len(pc.x0) // 5000)):
        x0, y0, x1, y1 = pc.x0[part], pc.y0[part], pc.x1[part], pc.y1[part]
        a, ab = ecef_m(x0, y0), ecef_m(x1, y1) - ecef_m(x0, y0)
        on_path = ecef_m(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
        s = np.clip(np.einsum("tij,ij->ti", on_path - a, ab)
                    / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-30), 0.0, 1.0)
        off = np.linalg.norm(on_path - (a + s[..., None] * ab), axis=-1)
        assert off.max() <= pc.stray_m
        assert np.linalg.norm(ab, axis=1).max() / 2 <= pc.half_chord_m


def test_a_position_far_from_a_small_zone() -> None:
    """Thousands of kilometres away every piece is nearly as near again (and the
    straight line is tens of kilometres shorter than the geodesic): still the least."""
    b = Boundary(national_zone("LIE").geometry)
    lon = np.array([-70.0, 120.0, 9.5])
    lat = np.array([-30.0, 10.0, -60.0])
    assert b.distance_m(lon, lat).tolist() == brute_m(b, lon, lat).tolist()


def _measured(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the geodesics :meth:`Boundary.distance_m` asks pyproj for."""
    from skyfence.airspace import boundary

    counts: list[int] = []
    exact = boundary.geodesic_distance_m

    def spy(*args: np.ndarray) -> np.ndarray:
        counts.append(len(np.atleast_1d(args[0])))
        return exact(*args)

    monkeypatch.setattr(boundary, "geodesic_distance_m", spy)
    return counts


def test_a_piece_found_through_its_end_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 990 m edge ends at a vertex where a stair of 63 m steps begins. From a
    position 30 m off the edge, 150 m short of that vertex, the eight nearest piece
    ends are the vertex and the stair; the edge's own start (840 m away) is not among
    them and yet the edge is nearest: it is known as the piece *ending* at the vertex.
    The ends already exclude every other piece, so no ball is asked for."""
    stair = [(0.0089 + i * 0.0004, i * 0.0004) for i in range(1, 11)]
    b = Boundary(shapely.Polygon([(0.0, 0.0), (0.0089, 0.0), *stair, (0.0129, 0.01),
                                  (0.0, 0.01)]))
    lon, lat = np.array([0.0089 - 0.00135]), np.array([-0.00027])
    pc = b._pieces
    ends = np.concatenate([ecef_m(pc.x0, pc.y0), ecef_m(pc.x1, pc.y1)])
    to_ends = np.unique(np.linalg.norm(ends - ecef_m(lon, lat)[0], axis=1).round(3))
    start = float(np.linalg.norm(ecef_m(np.array([0.0]), np.array([0.0]))[0]
                                 - ecef_m(lon, lat)[0]))
    assert start > to_ends[7] and to_ends[7] > 560.0  # the start is not among them
    counts = _measured(monkeypatch)
    got = b.distance_m(lon, lat)
    assert got.tolist() == brute_m(b, lon, lat).tolist()
    assert got[0] == pytest.approx(29.9, abs=0.5)
    assert sum(counts) <= 3


def test_pieces_whose_ends_are_farther_than_the_nearest_ends_are_asked_for() -> None:
    """A strip 160 m wide: a 990 m southern edge, a northern edge with a vertex every
    40 m. From 10 m north of the middle of the southern edge, the eight nearest piece
    ends all lie on the northern edge (about 150-220 m away) and both ends of the
    southern edge are 495 m away, yet that edge is 10 m away: the bound of the pieces
    the tree did not return must allow for half a piece."""
    north = [(x, 0.00145) for x in np.arange(0.0089, -1e-9, -0.00036)]
    b = Boundary(shapely.Polygon([(0.0, 0.0), (0.0089, 0.0), *north, (0.0, 0.00145)]))
    lon, lat = np.array([0.00445]), np.array([0.00009])
    got = b.distance_m(lon, lat)
    assert got.tolist() == brute_m(b, lon, lat).tolist()
    assert got[0] == pytest.approx(9.95, abs=0.1)


def test_about_two_geodesics_per_position_near_a_border(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pruning is the point: positions in and around Switzerland need the geodesic
    to the piece of least bound and, now and then, to a neighbour sharing its nearest
    vertex (1.94 per position when written), not one per piece near the nearest."""
    b = Boundary(national_zone("CHE").geometry)
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(6.5, 9.5, 500), rng.uniform(46.2, 47.5, 500)
    counts = _measured(monkeypatch)
    b.distance_m(lon, lat)
    assert sum(counts) <= 2.5 * len(lon)


def test_thousands_of_kilometres_away_the_sphere_bounds_better(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From Africa, 5,000-6,500 km from Norway's coast, a straight line through the
    Earth is hundreds of kilometres shorter than the geodesic; the unit sphere's angle
    times the least radius of curvature is within 0.5 %: 135 geodesics per position
    instead of 855 (when written), and still the least over every piece."""
    b = Boundary(national_zone("NOR").geometry)
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(10, 30, 200), rng.uniform(-10, 10, 200)
    counts = _measured(monkeypatch)
    got = b.distance_m(lon, lat)
    assert sum(counts) <= 300 * len(lon)
    assert got[:5].tolist() == brute_m(b, lon[:5], lat[:5]).tolist()


def test_the_ball_finds_a_piece_through_its_end_alone() -> None:
    """A strip 100 m wide whose northern edge has a vertex every 30 m: from 10 m off
    the 990 m southern edge, 300 m short of its eastern end, the eight nearest piece
    ends lie on the northern edge, so the ball is asked for; it reaches the eastern
    end (300 m) but not the edge's start (690 m): the edge is known only as the piece
    ending there."""
    north = [(x, 0.0009) for x in np.arange(0.0089, -1e-9, -0.00027)]
    b = Boundary(shapely.Polygon([(0.0, 0.0), (0.0089, 0.0), *north, (0.0, 0.0009)]))
    lon, lat = np.array([0.0089 - 0.0027]), np.array([0.00009])
    got = b.distance_m(lon, lat)
    assert got.tolist() == brute_m(b, lon, lat).tolist()
    assert got[0] == pytest.approx(9.95, abs=0.1)


def test_far_from_a_polar_cap_whose_pieces_bulge_off_their_chords() -> None:
    """A cap around the North Pole bounded by the parallel at 89.99 degrees (1.1 km
    from the pole) with a vertex every 45 degrees: its 877 m pieces follow the
    parallel, up to 85 m off the great circle between their ends. From 1,100-1,700 km
    away the unit sphere bounds the pieces (the straight line falls a kilometre short
    there): the bound is the angle to the very point measured. (With 8 pieces every
    one is returned by the tree; a bound taken to the chord instead was not caught
    here.)"""
    lon_ring = np.linspace(-180.0, 180.0, 9)
    b = Boundary(normalize_polygonal(shapely.Polygon(
        [(x, 89.99) for x in lon_ring] + [(180.0, 90.0), (-180.0, 90.0)])))
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(-180.0, 180.0, 300), rng.uniform(74.7, 80.0, 300)
    assert b.distance_m(lon, lat).tolist() == brute_m(b, lon, lat).tolist()
