"""Polar radar measurements to WGS84 and back, checked against pyproj's geodesics."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from skyfence.errors import UsageError
from skyfence.radar import LocalPlane, RadarSite, ecef, geodetic_to_polar, polar_to_geodetic

GEOD = Geod(ellps="WGS84")
SITE = RadarSite(1, 2, 59.4, 24.8, 50.0)


def test_near_target_at_antenna_height_matches_geod_forward() -> None:
    # 5 km at the antenna's own height: slant range ~ geodesic distance
    az = np.array([0.0, 73.0, 190.0, 300.0])
    lat, lon, _, el = polar_to_geodetic(SITE, np.full(4, 5000.0), az, np.full(4, SITE.alt_m))
    lon2, lat2, _ = GEOD.fwd(np.full(4, SITE.lon), np.full(4, SITE.lat), az, np.full(4, 5000.0))
    _, _, miss = GEOD.inv(lon, lat, lon2, lat2)
    assert np.max(miss) < 0.5
    assert np.all(np.abs(el) < 0.05)  # the line of sight dips only by curvature


@pytest.mark.parametrize(("az", "dist", "height"),
                         [(45.0, 150e3, 10000.0), (200.0, 20e3, 500.0), (300.0, 250e3, 12000.0)])
def test_known_height_recovers_the_geodesic_position(az: float, dist: float,
                                                     height: float) -> None:
    # the truth: Geod forward from the radar, at a height; measure it as a radar would
    lon_t, lat_t, _ = GEOD.fwd(SITE.lon, SITE.lat, az, dist)
    d = ecef(lat_t, lon_t, height) - ecef(SITE.lat, SITE.lon, SITE.alt_m)
    slant = float(np.linalg.norm(d))
    assert slant > dist  # slant range is longer than the ground distance
    lat, lon, h, el = polar_to_geodetic(SITE, slant, az, height)
    miss = float(GEOD.inv(lon[0], lat[0], lon_t, lat_t)[2])
    # azimuth of the line of sight vs geodesic azimuth: a fraction of a metre apart
    assert miss < 1.0
    assert h[0] == pytest.approx(height, abs=0.01)
    assert 0 < el[0] < 90
    # and without the height the plot falls short by the slant-range effect
    lat2, lon2, _, _ = polar_to_geodetic(SITE, slant, az, None)
    short = float(GEOD.inv(lon2[0], lat2[0], lon_t, lat_t)[2])
    assert short > 10 * miss + 1.0


def test_polar_round_trip() -> None:
    rng = np.random.default_rng(3)
    n = 500
    az, dist = rng.uniform(0, 360, n), rng.uniform(1e3, 300e3, n)
    height = rng.uniform(0, 15000, n)
    lon, lat, _ = GEOD.fwd(np.full(n, SITE.lon), np.full(n, SITE.lat), az, dist)
    rho, theta, _ = geodetic_to_polar(SITE, lat, lon, height)
    lat2, lon2, h2, _ = polar_to_geodetic(SITE, rho, theta, height)
    _, _, miss = GEOD.inv(lon, lat, lon2, lat2)
    assert miss.max() < 0.01
    assert np.abs(h2 - height).max() < 0.01


def test_local_plane_round_trip_and_north() -> None:
    plane = LocalPlane(59.0, 25.0)
    lat, lon = np.array([59.0, 60.5, 58.2]), np.array([25.0, 27.0, 22.0])
    x, y = plane.to_xy(lat, lon)
    assert (x[0], y[0]) == pytest.approx((0.0, 0.0), abs=1e-6)
    back = plane.to_latlon(x, y)
    assert back[0] == pytest.approx(lat) and back[1] == pytest.approx(lon)
    # distance from the centre is the geodesic distance
    _, _, d = GEOD.inv(np.full(3, 25.0), np.full(3, 59.0), lon, lat)
    assert np.hypot(x, y) == pytest.approx(d, rel=1e-9, abs=1e-6)
    angle = plane.north_angle(lat, lon)
    assert angle[0] == pytest.approx(0.0, abs=1e-6)
    # meridians converge towards the pole: east of the centre north leans west
    assert angle[1] < 0 < angle[2]


def test_a_target_below_the_antenna_horizon_has_a_negative_elevation() -> None:
    """On the ground (ellipsoid height 0) 100 km from an antenna 50 m up, a target lies
    below the antenna's horizon by the Earth's curvature and the height difference:
    elevation ~ -(d / 2R + dh / d) = -(1e5 / (2 * 6.37e6) + 50 / 1e5) rad = -0.479 deg
    (R the local radius, to 0.3 %)."""
    lon, lat, _ = GEOD.fwd(SITE.lon, SITE.lat, 120.0, 100e3)
    rho, az, el = geodetic_to_polar(SITE, [lat], [lon], [0.0])
    assert el[0] == pytest.approx(-np.degrees(1e5 / (2 * 6.37e6) + 50 / 1e5), abs=0.005)
    back = polar_to_geodetic(SITE, rho, az, [0.0])
    assert float(GEOD.inv(back[1][0], back[0][0], lon, lat)[2]) < 0.01


def test_a_plane_around_positions_either_side_of_180_is_centred_on_180() -> None:
    """Positions at 179.5 E and 179.5 W are 2 x 28 km apart at 60 N: a plane around
    them is centred on the antimeridian (not on 0, the mean of their longitudes), so
    both lie about 28 km from its centre (Geod's distance from the midpoint)."""
    lat, lon = np.array([60.0, 60.0]), np.array([179.5, -179.5])
    plane = LocalPlane.around(lat, lon)
    x, y = plane.to_xy(lat, lon)
    _, _, d = GEOD.inv(np.full(2, 180.0), np.full(2, 60.0), lon, lat)
    assert np.hypot(x, y) == pytest.approx(d, rel=1e-6)
    assert d.max() < 30e3


def test_radar_site_parse() -> None:
    assert RadarSite.parse("25:201:45.5,16.0") == RadarSite(25, 201, 45.5, 16.0, 0.0)
    assert RadarSite.parse("1:2:59.4,24.8,50").alt_m == 50.0
    for bad in ("25:201", "300:1:1,1", "1:1:95,10", "1:1:a,b"):
        with pytest.raises(UsageError):
            RadarSite.parse(bad)


def test_radar_site_spec_carries_the_height_sigma() -> None:
    # `skyfence demo --export` writes each site as a --radar option: the height noise the
    # tracker widens steep plots by must survive the round trip, or a scan of the files
    # tracks differently from the evaluation
    site = RadarSite(40, 2, 45.02, 28.75, 150.0, 50.0, 0.08, "ROU", sigma_height_m=300.0)
    back = RadarSite.parse(site.spec())
    assert back.sigma_height_m == 300.0
    assert back == RadarSite(40, 2, 45.02, 28.75, 150.0, 50.0, 0.08, sigma_height_m=300.0)
    assert RadarSite.parse(RadarSite(1, 2, 59.4, 24.8).spec()).sigma_height_m is None
    with pytest.raises(UsageError):
        RadarSite.parse("1:2:59.4,24.8,50,60,0.1,-3")
