"""Longitude arithmetic that knows the globe is round: ±180° and the poles.

skyfence works in the lon/lat plane (tracks and boundaries are straight lines in
lon/lat between their points, as the contract says), and a plane has an edge where the
globe has none. Three rules put the globe back:

- **Tracks** go the shorter way round: between fixes at 179.9 and -179.9 the track is
  0.2 degree long and crosses ±180. :func:`lon_delta` gives that signed difference; a
  segment is handled in an *unwrapped* frame where its end longitude may lie beyond
  ±180 (179.9 -> 180.1), and positions are wrapped back with :func:`wrap_lon`.
- **Zones** are stored inside [-180, 180]. A ring whose consecutive vertices jump by
  more than 180 degrees crosses the antimeridian (RFC 7946 asks writers to cut such
  polygons; many do not), and a ring that winds once round the globe encloses a pole
  (a large circle, a polar cap). :func:`normalize_polygonal` unwraps such rings, closes
  pole caps along the pole and cuts the result at ±180 into parts inside [-180, 180].
- **The cut is not a border**: an edge lying on the ±180 meridian where the zone goes on
  across it (Russia over Chukotka, Fiji, the Aleutians, every cut polygon) and an edge
  along a pole (lat ±90, a single point of the globe) are *seams*. Crossing a seam is no
  entry and a seam is no boundary to measure depth to (see :func:`seam_edges`). A
  position exactly on the seam is inside when the zone holds it on either side
  (:func:`contains_on_globe`).

Examples
--------
>>> round(float(lon_delta(179.9, -179.9)), 9)
0.2
>>> round(float(wrap_lon(180.1)), 9)
-179.9
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from skyfence.airspace.prepared import contains_xy
from skyfence.errors import ZoneError

__all__ = [
    "contains_on_globe",
    "lon_delta",
    "normalize_polygonal",
    "seam_edges",
    "wrap_lon",
]

FloatArray = npt.NDArray[np.float64]

#: how far a position on a seam is moved to each side to ask which zone holds it
#: (1e-9 degree: 0.1 mm)
_SEAM_NUDGE_DEG = 1e-9
#: coordinates this close to ±180 after cutting are snapped onto it (GEOS rounding)
_SNAP_DEG = 1e-9


def wrap_lon(lon: npt.ArrayLike) -> FloatArray:
    """Longitudes in [-180, 180]; 180 stays 180 (it is the same meridian as -180).

    >>> wrap_lon([540.0, -190.0, 180.0, -180.0]).tolist()
    [180.0, 170.0, 180.0, -180.0]
    """
    x = np.asarray(lon, dtype=np.float64)
    w = np.mod(x + 180.0, 360.0) - 180.0
    return np.asarray(np.where((w == -180.0) & (x > 0), 180.0, w), dtype=np.float64)


def lon_delta(lon0: npt.ArrayLike, lon1: npt.ArrayLike) -> FloatArray:
    """Signed longitude change from ``lon0`` to ``lon1`` the shorter way, in [-180, 180).

    A change of exactly 180 degrees has no shorter way; it is taken westwards (-180).
    A change a hair beyond -180 (``-180 - 1e-14``) rounds to a whole turn inside ``mod``
    and would come out as +180: it is -180 too.

    >>> lon_delta([10.0, 179.0, -179.0, 1.7e-14], [20.0, -179.0, 179.0, -180.0]).tolist()
    [10.0, 2.0, -2.0, -180.0]
    """
    x = np.asarray(np.asarray(lon1, dtype=np.float64) - np.asarray(lon0, dtype=np.float64))
    x += 180.0
    # ``mod(x, 360)`` is ``x`` itself on [0, 360) (most changes): the rest only
    odd = ~((x >= 0.0) & (x < 360.0))  # NaN too
    w = np.mod(x[odd], 360.0) - 180.0 if odd.any() else None
    x -= 180.0
    if w is not None:
        x[odd] = np.where(w >= 180.0, w - 360.0, w)
    return x


# ------------------------------------------------------------------ containment
def contains_on_globe(geometry: BaseGeometry, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """``shapely.contains_xy`` for positions anywhere, seams included.

    Longitudes are wrapped into [-180, 180]. A position exactly on ±180 is inside when
    the zone holds it on either side of the meridian; a position exactly on a pole is
    asked just off the pole (a pole cap's edge along lat ±90 is a seam, not a border).
    """
    x = wrap_lon(lon)
    y = np.asarray(lat, dtype=np.float64)
    inside = np.asarray(contains_xy(geometry, x, y), dtype=bool)
    seam = np.flatnonzero((np.abs(x) == 180.0) | (np.abs(y) == 90.0))
    if len(seam):
        ys = np.clip(y[seam], -90.0 + _SEAM_NUDGE_DEG, 90.0 - _SEAM_NUDGE_DEG)
        xs = x[seam]
        east = np.where(np.abs(xs) == 180.0, -180.0 + _SEAM_NUDGE_DEG, xs)
        west = np.where(np.abs(xs) == 180.0, 180.0 - _SEAM_NUDGE_DEG, xs)
        inside[seam] = (contains_xy(geometry, east, ys)
                        | contains_xy(geometry, west, ys))
    return inside


def seam_edges(
    geometry: BaseGeometry, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
) -> np.ndarray:
    """Which boundary edges are seams, not borders.

    An edge along a pole (both ends at the same lat ±90) is a seam: it is one point of
    the globe. An edge along a meridian that is the ±180 cut, or that runs up to a pole
    (where a polar cap is closed), is a seam when the zone lies on both sides of it
    (across ±180 the other side is at the other end of the plane); such an edge with
    the zone on one side only is a true border (a zone drawn up to the antimeridian).
    """
    polar = (y0 == y1) & (np.abs(y0) == 90.0)
    meridian = (x0 == x1) & (y0 != y1)
    cut = meridian & ((np.abs(x0) == 180.0) | (np.abs(y0) == 90.0) | (np.abs(y1) == 90.0))
    seam = polar.copy()
    idx = np.flatnonzero(cut)
    if len(idx):
        x, ym = x0[idx], (y0[idx] + y1[idx]) / 2
        step = _SEAM_NUDGE_DEG * 100
        east = wrap_lon(np.where(x == 180.0, -180.0, x) + step)
        west = wrap_lon(np.where(x == -180.0, 180.0, x) - step)
        seam[idx] = (contains_xy(geometry, east, ym)
                     & contains_xy(geometry, west, ym))
    return seam


# ------------------------------------------------------------------ normalization
def _steps(x: np.ndarray) -> FloatArray:
    """Longitude steps between consecutive vertices, the shorter way round, except
    between two vertices on ±180 (an edge along a pole or along the plane's edge, as
    RFC 7946 polygons such as Antarctica have), which are kept as drawn."""
    on_edge = (np.abs(x[:-1]) == 180.0) & (np.abs(x[1:]) == 180.0)
    return np.where(on_edge, x[1:] - x[:-1], lon_delta(x[:-1], x[1:]))


def _unwrap(ring: np.ndarray) -> np.ndarray:
    """Ring coordinates with longitudes made continuous (no step over 180 degrees)."""
    out = ring.copy()
    out[1:, 0] = ring[0, 0] + np.cumsum(_steps(ring[:, 0]))
    return out


def _cap(ring: np.ndarray, name: str) -> np.ndarray:
    """Close a ring that winds once round the globe along the pole it encloses.

    The enclosed pole is the one on the ring's side of the equator (the ring's mean
    latitude); a ring round the globe along the equator encloses no pole in particular.
    """
    mean_lat = float(np.mean(ring[:, 1]))
    if mean_lat == 0.0:
        raise ZoneError(f"zone '{name}': a ring round the whole globe on the equator "
                        "encloses neither pole; draw the zone as polygons cut at ±180")
    pole = 90.0 if mean_lat > 0 else -90.0
    first, last = ring[0], ring[-1]
    return np.vstack([ring, [[last[0], pole], [first[0], pole], first]])


def _winding_deg(ring: np.ndarray) -> float:
    return float(ring[-1, 0] - ring[0, 0])


def _unwrapped_polygon(poly: shapely.Polygon, name: str) -> shapely.Polygon:
    shell = _unwrap(np.asarray(poly.exterior.coords))
    turns = round(_winding_deg(shell) / 360.0)
    if abs(turns) > 1:
        raise ZoneError(f"zone '{name}': a ring winds {abs(turns)} times round the globe")
    if turns:
        shell = _cap(shell, name)
    centre = float(np.mean(shell[:, 0]))
    holes = []
    for interior in poly.interiors:
        hole = _unwrap(np.asarray(interior.coords))
        if round(_winding_deg(hole) / 360.0):
            raise ZoneError(f"zone '{name}': a hole winds round the globe")
        hole[:, 0] += 360.0 * np.round((centre - np.mean(hole[:, 0])) / 360.0)
        holes.append(hole)
    return shapely.Polygon(shell, holes)


def _snap(coords: np.ndarray) -> np.ndarray:
    for edge in (-180.0, 180.0):
        near = np.abs(coords[:, 0] - edge) < _SNAP_DEG
        coords[near, 0] = edge
    return coords


def _cut(poly: shapely.Polygon) -> list[shapely.Polygon]:
    """Parts of an unwrapped polygon moved into [-180, 180]."""
    x0, _, x1, _ = poly.bounds
    parts: list[shapely.Polygon] = []
    for k in range(int(np.floor((x0 + 180.0) / 360.0)), int(np.ceil((x1 - 180.0) / 360.0)) + 1):
        window = shapely.box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0)
        piece = shapely.intersection(poly, window)
        if piece.is_empty:
            continue
        piece = shapely.transform(piece, lambda c, k=k: _snap(c - [360.0 * k, 0.0]))
        parts.extend(p for p in shapely.get_parts(piece) if p.geom_type == "Polygon"
                     and p.area > 0)
    return parts


def normalize_polygonal(geometry: BaseGeometry, name: str = "zone") -> BaseGeometry:
    """A (Multi)Polygon inside [-180, 180], cut at the antimeridian where it crosses it.

    Geometries already inside [-180, 180] whose rings never step over 180 degrees
    (every national boundary of the bundled data) are returned unchanged.
    """
    polys = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon"]
    coords = shapely.get_coordinates(geometry)
    within = bool(len(coords)) and float(np.abs(coords[:, 0]).max()) <= 180.0
    jumps = any(
        np.any((np.abs(np.diff(x)) > 180.0) & ((np.abs(x[:-1]) != 180) | (np.abs(x[1:]) != 180)))
        for p in polys for r in (p.exterior, *p.interiors)
        for x in [np.asarray(r.coords)[:, 0]]
    )
    if within and not jumps:
        return geometry
    parts: list[shapely.Polygon] = []
    for p in polys:
        unwrapped = _unwrapped_polygon(p, name)
        if not unwrapped.is_valid:
            unwrapped = shapely.make_valid(unwrapped)
        for q in shapely.get_parts(unwrapped):
            if q.geom_type == "Polygon":
                parts.extend(_cut(q))
    if not parts:
        raise ZoneError(f"zone '{name}': no area left after cutting at the antimeridian")
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
