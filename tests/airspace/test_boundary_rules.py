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
