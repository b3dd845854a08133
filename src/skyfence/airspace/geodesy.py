"""WGS84 geodesy helpers shared by zones, depth and radar geometry.

Distances are true geodesic distances on the WGS84 ellipsoid (pyproj's Karney
algorithms); the local tangent-plane helpers are used only to *search*, never to report.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pyproj import Geod

WGS84 = Geod(ellps="WGS84")
#: WGS84 semi-major axis (m)
WGS84_A = 6378137.0
_F = 1 / 298.257223563
#: WGS84 first eccentricity squared
WGS84_E2 = _F * (2 - _F)

FloatArray = npt.NDArray[np.float64]


def geodesic_distance_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Geodesic distance in metres between point pairs (vectorized)."""
    a = [np.ascontiguousarray(v) for v in np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (lon1, lat1, lon2, lat2)))]
    _, _, dist = WGS84.inv(a[0], a[1], a[2], a[3])
    return np.asarray(dist, dtype=np.float64)


def geodesic_upper_m(lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike,
                     lat2: npt.ArrayLike) -> FloatArray:
    """An upper bound of the WGS84 geodesic distance, cheap enough for every candidate of
    a search: a great circle on a sphere of the ellipsoid's largest radius of curvature
    (6,399.6 km, at the poles), plus 0.5 % margin.

    >>> round(float(geodesic_upper_m(0.0, 0.0, 1.0, 0.0)[()]))  # pyproj says 111,319 m
    112253
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.subtract(lon2, lon1))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6_399_600.0 * 1.005 * np.arcsin(np.sqrt(np.clip(h, 0, 1))))


def curvature_radii_m(lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The ellipsoid's radii of curvature at ``lat`` (degrees): the meridian's ``M``
    and the prime vertical's ``N`` (``M <= N``, equal at the poles).

    >>> m, n = curvature_radii_m([0.0, 90.0])
    >>> [round(float(v)) for v in m], [round(float(v)) for v in n]
    ([6335439, 6399594], [6378137, 6399594])
    """
    s2 = np.sin(np.radians(np.asarray(lat, dtype=np.float64))) ** 2
    w = np.sqrt(1 - WGS84_E2 * s2)
    return WGS84_A * (1 - WGS84_E2) / w**3, WGS84_A / w


def metres_per_degree(lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Metres per degree of longitude and of latitude at ``lat`` (ellipsoidal radii)."""
    m, n = curvature_radii_m(lat)
    return np.radians(1.0) * n * np.cos(np.radians(np.asarray(lat, dtype=np.float64))), \
        np.radians(1.0) * m


def destination(
    lon: float, lat: float, azimuth_deg: npt.ArrayLike, distance_m: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Points reached from (lon, lat) along geodesics of the given azimuths and lengths."""
    az = np.atleast_1d(np.asarray(azimuth_deg, dtype=np.float64))
    d = np.broadcast_to(np.asarray(distance_m, dtype=np.float64), az.shape)
    lons, lats, _ = WGS84.fwd(np.full(az.shape, lon), np.full(az.shape, lat), az, d)
    return np.asarray(lons), np.asarray(lats)
