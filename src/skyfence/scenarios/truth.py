"""Ground-truth entries of a scenario, from geometry alone.

A scenario is scored against these entries, so they must not come from the detector
being scored: an error of the detector would then cancel out of ``entry_error_s``.
This module knows nothing of :mod:`skyfence.detect`; it answers from the truth paths
and the zone polygons with GEOS and pyproj:

- **The path.** A scripted aircraft's truth is sampled every second along its geodesic
  legs; between two samples it follows the geodesic through them (the leg itself, except
  in the one second that turns at a waypoint, where the chord is metres from the true
  path). A recorded background flight's truth between its fixes is the straight line in
  lon/lat the contract interpolates; it is resampled every second along that line.
- **Inside** is GEOS's point-in-polygon (``shapely.contains_xy``) on the zone polygon,
  and between the zone's floor and ceiling (altitude linear in time between samples).
- **Crossings.** Where two consecutive samples differ, the crossing is found by bisection
  on the path to a microsecond: entry and exit times and points.
- **Depth** is the largest geodesic distance (pyproj, WGS84) from an inside sample to
  the zone boundary, the boundary's edges (straight in lon/lat) densified every
  :data:`DENSIFY_M` metres. Candidates are found in an azimuthal equidistant projection
  centred on the zone (edges cut to :data:`PROBE_EDGE_DEG` first; every point the
  projection's stretch could rank below the deepest is kept), then measured exactly.

How exact: crossing times to well under 1 ms of the sampled path; depth to
``DENSIFY_M**2 / (8 * depth)`` (under a centimetre at a kilometre) below the distance to
the true boundary. A zone feature narrower than one second of flight (a corner cut
between two outside samples) is not seen; scenario zones have none. Zones crossing the
antimeridian are not supported here (no scenario has one).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer

from skyfence.airspace.prepared import contains_xy
from skyfence.airspace.zones import Zone
from skyfence.model import Entry

GEOD = Geod(ellps="WGS84")
#: truth sampling step (s)
STEP_S = 1.0
#: spacing of the densified boundary for the exact depth (m)
DENSIFY_M = 20.0
#: bisection steps on a sample interval: 2**-30 of a second
BISECTIONS = 30
#: most boundary cut points measured in one pyproj call (bounds the memory of a deep point)
CUTS_PER_CALL = 1_000_000
#: longest boundary edge (degrees) the depth probe projects as one straight line: the
#: plane image of a long edge (straight in lon/lat) is a curve, far from the chord
#: between its projected ends (tens of km for an edge of 10 degrees or more)
PROBE_EDGE_DEG = 0.1
#: the Earth's mean radius (m), for the projection's stretch
_R_M = 6_371_008.8

#: positions at fractions ``f`` of the intervals ``k`` of a sampled path: (lon, lat, alt)
PathFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def truth_entries(truth: pd.DataFrame, zones: list[Zone]) -> list[Entry]:
    """Every entry of every truth target into every zone (``track`` is the target id).

    ``truth`` has the columns ``time, target, lat, lon, altitude, kind`` (``kind``
    ``scripted``: geodesic legs sampled every second; ``background``: recorded fixes).
    """
    out: list[Entry] = []
    probes: dict[int, _DepthProbe] = {}
    for target, g in truth.groupby("target", sort=True):
        g = g.sort_values("time", kind="stable")
        t = g["time"].to_numpy(np.float64)
        lon = g["lon"].to_numpy(np.float64)
        lat = g["lat"].to_numpy(np.float64)
        alt = g["altitude"].to_numpy(np.float64)
        if str(g["kind"].iloc[0]) == "background":
            t, lon, lat, alt = _resample_straight(t, lon, lat, alt)
            path = _straight_path(lon, lat, alt)
        else:
            path = _geodesic_path(lon, lat, alt)
        for i, zone in enumerate(zones):
            def probe(i: int = i, zone: Zone = zone) -> _DepthProbe:
                """The zone's depth probe, built once for every target (not with
                ``setdefault``, whose default is built on every call)."""
                if i not in probes:
                    probes[i] = _DepthProbe(zone)
                return probes[i]
            out += _zone_entries(str(target), zone, t, lon, lat, alt, path, probe)
    return sorted(out, key=lambda e: (e.entered_at, e.zone, e.track))


def _resample_straight(t: np.ndarray, lon: np.ndarray, lat: np.ndarray, alt: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The recorded fixes plus points every second on the straight lines between them."""
    if len(t) < 2:
        return t, lon, lat, alt
    grid = np.arange(t[0], t[-1], STEP_S)
    tt = np.union1d(t, grid)
    return tt, np.interp(tt, t, lon), np.interp(tt, t, lat), np.interp(tt, t, alt)


def _geodesic_path(lon: np.ndarray, lat: np.ndarray, alt: np.ndarray) -> PathFn:
    az, _, dist = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    az, dist = np.atleast_1d(az), np.atleast_1d(dist)

    def at(k: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, la, _ = GEOD.fwd(lon[k], lat[k], az[k], f * dist[k])
        return np.asarray(lo), np.asarray(la), alt[k] + f * (alt[k + 1] - alt[k])

    return at


def _straight_path(lon: np.ndarray, lat: np.ndarray, alt: np.ndarray) -> PathFn:
    def at(k: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (lon[k] + f * (lon[k + 1] - lon[k]), lat[k] + f * (lat[k + 1] - lat[k]),
                alt[k] + f * (alt[k + 1] - alt[k]))

    return at


def _inside(zone: Zone, lon: np.ndarray, lat: np.ndarray, alt: np.ndarray) -> np.ndarray:
    ok = np.asarray(contains_xy(zone.geometry, lon, lat), dtype=bool)
    known = ~np.isnan(alt)
    if zone.floor_m is not None:
        ok &= ~known | (alt >= zone.floor_m)
    if zone.ceiling_m is not None:
        ok &= ~known | (alt <= zone.ceiling_m)
    return ok


def _crossings(zone: Zone, k: np.ndarray, into: np.ndarray, path: PathFn
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fraction of interval ``k`` where the path crosses, and the (lon, lat) there.

    ``into`` says whether the interval's end is inside. Bisection keeps ``lo`` on the
    side of the interval's start and ``hi`` on the side of its end.
    """
    lo, hi = np.zeros(len(k)), np.ones(len(k))
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        lon, lat, alt = path(k, mid)
        same_as_end = _inside(zone, lon, lat, alt) == into
        hi = np.where(same_as_end, mid, hi)
        lo = np.where(same_as_end, lo, mid)
    f = (lo + hi) / 2
    lon, lat, _ = path(k, f)
    return f, lon, lat


def _zone_entries(target: str, zone: Zone, t: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                  alt: np.ndarray, path: PathFn,
                  probe: Callable[[], _DepthProbe]) -> list[Entry]:
    inside = _inside(zone, lon, lat, alt)
    if not inside.any():
        return []
    change = np.flatnonzero(inside[1:] != inside[:-1])
    f, clon, clat = _crossings(zone, change, inside[change + 1], path)
    ctime = t[change] + f * (t[change + 1] - t[change])
    # runs of inside samples: [first, last]
    starts = np.flatnonzero(inside & np.r_[True, ~inside[:-1]])
    ends = np.flatnonzero(inside & np.r_[~inside[1:], True])
    crossing_at = {int(c): i for i, c in enumerate(change)}
    depth = probe()
    out = []
    for a, b in zip(starts, ends, strict=True):
        if a == 0:
            entered, point, interpolated = float(t[0]), None, False
        else:
            i = crossing_at[int(a) - 1]
            entered, point, interpolated = float(ctime[i]), (float(clat[i]), float(clon[i])), True
        if b == len(t) - 1:
            exited, exit_point = None, None
        else:
            i = crossing_at[int(b)]
            exited, exit_point = float(ctime[i]), (float(clat[i]), float(clon[i]))
        sel = slice(int(a), int(b) + 1)
        known = alt[sel][~np.isnan(alt[sel])]
        out.append(Entry(
            zone=zone.name, zone_kind=zone.kind, track=target, entered_at=entered,
            entry_interpolated=interpolated, exited_at=exited,
            last_inside_at=float(t[b]), max_depth_m=depth.max_depth_m(lon[sel], lat[sel]),
            entry_point=point, exit_point=exit_point,
            min_altitude_m=float(known.min()) if len(known) else None,
            max_altitude_m=float(known.max()) if len(known) else None,
            observations=int(b - a + 1),
        ))
    return out


class _DepthProbe:
    """Largest geodesic distance from a set of points to a zone's boundary."""

    def __init__(self, zone: Zone) -> None:
        c = zone.geometry.representative_point()
        self._to_plane = Transformer.from_crs(
            "EPSG:4326", f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +ellps=WGS84", always_xy=True)
        # cut long edges first: each projected edge is then near the image of its
        # lon/lat line (the points of each piece still lie on the zone's edge)
        rings = _rings(shapely.segmentize(zone.geometry, PROBE_EDGE_DEG))
        coords = [np.asarray(ring.coords) for ring in rings]
        self._a = np.concatenate([r[:-1] for r in coords])  # edge starts (lon, lat)
        self._b = np.concatenate([r[1:] for r in coords])  # edge ends
        # the projection never shortens a distance and stretches one by at most
        # rho / sin(rho) (the azimuthal scale at the angular distance rho from its
        # centre; radially it is exact): the slack of the ranking below covers that
        # stretch over the whole zone, and 1 % for the ellipsoid and the chords
        _, _, far = GEOD.inv(np.full(len(self._a), c.x), np.full(len(self._a), c.y),
                             self._a[:, 0], self._a[:, 1])
        rho = min(float(np.max(far)) / _R_M, 3.0)
        stretch = rho / np.sin(rho) if rho > 0.0 else 1.0
        self._slack = 0.01 + (stretch - 1.0)
        ax, ay = self._to_plane.transform(self._a[:, 0], self._a[:, 1])
        bx, by = self._to_plane.transform(self._b[:, 0], self._b[:, 1])
        self._edges = shapely.linestrings(
            np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1))
        self._tree = shapely.STRtree(self._edges)

    def max_depth_m(self, lon: np.ndarray, lat: np.ndarray) -> float:
        x, y = self._to_plane.transform(lon, lat)
        pts = shapely.points(x, y)
        idx = self._tree.query_nearest(pts, return_distance=True, all_matches=False)
        approx = np.zeros(len(pts))
        approx[idx[0][0]] = idx[1]
        # the projection is exact at its centre and stretches distances away from it (a
        # fraction of a percent over a country, more over a continent): any sample
        # within the slack (+ 50 m) of the best could be the deepest
        best = float(approx.max())
        cand = np.flatnonzero(approx >= best * (1.0 - self._slack) - 50.0)
        # a hovering target repeats its position: each distinct point is measured once
        _, first = np.unique(np.column_stack([lon[cand], lat[cand]]), axis=0, return_index=True)
        return max(self._exact_m(float(lon[i]), float(lat[i]), float(approx[i]), pts[i])
                   for i in cand[np.sort(first)])

    def _exact_m(self, lon: float, lat: float, approx: float, pt: shapely.Point) -> float:
        """Geodesic distance to the densified edges near the point.

        Each near edge is cut into ``n`` equal steps in lon/lat (``n`` from its geodesic
        length and :data:`DENSIFY_M`), the same fractions :func:`numpy.linspace` gives, and
        every cut point is measured in one call to pyproj: the distance is the same as
        measuring edge by edge, without a Python call per edge."""
        near = self._tree.query(pt, predicate="dwithin",
                                distance=approx * (1.0 + self._slack) + 50.0)
        if len(near) == 0:
            return np.inf
        a, b = self._a[near], self._b[near]
        _, _, length = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        n = np.maximum(2, np.ceil(length / DENSIFY_M).astype(np.int64) + 1)
        best = np.inf
        group = (np.cumsum(n) - 1) // CUTS_PER_CALL  # edges in groups of ~CUTS_PER_CALL cuts
        for part in np.split(np.arange(len(n)), np.flatnonzero(np.diff(group)) + 1):
            best = min(best, self._nearest_cut_m(lon, lat, a[part], b[part], n[part]))
        return float(best)

    @staticmethod
    def _nearest_cut_m(lon: float, lat: float, a: np.ndarray, b: np.ndarray,
                       n: np.ndarray) -> float:
        """Shortest geodesic distance from (lon, lat) to the cut points of edges a-b."""
        ends = np.cumsum(n)
        edge = np.repeat(np.arange(len(n)), n)
        k = np.arange(len(edge)) - np.repeat(ends - n, n)  # 0..n-1 on each edge
        f = k * np.repeat(1.0 / (n - 1), n)  # numpy.linspace's fractions, bit for bit
        f[ends - 1] = 1.0
        x0, y0, x1, y1 = a[edge, 0], a[edge, 1], b[edge, 0], b[edge, 1]
        ex, ey = x0 + f * (x1 - x0), y0 + f * (y1 - y0)
        _, _, d = GEOD.inv(np.full(len(ex), lon), np.full(len(ex), lat), ex, ey)
        return float(np.min(d))


def _rings(geom: shapely.Geometry) -> list[shapely.LinearRing]:
    polys = getattr(geom, "geoms", [geom])
    return [r for p in polys for r in (p.exterior, *p.interiors)]
