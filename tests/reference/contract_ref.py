"""A brute-force reference for the entry contract (test support, never shipped).

Built from the text of ``shared/contract/README.md`` (sections "Tracks and entries" and
"Incident record out") and nothing of skyfence: this module imports no skyfence code, so a
bug there cannot hide here. Speed does not matter; every step is the plain one.

How it works
------------
* **Tracks**: rows grouped by ``icao24``, sorted by time, split where two consecutive fixes
  are *more than* ``gap_s`` apart (exactly ``gap_s`` does not split).
* **One frame without an antimeridian**: a zone ring is unwrapped (consecutive vertices are
  joined the shorter way round, so a jump of more than 180 degrees crosses ±180) and so is each
  track segment. A segment is then tested against copies of the zone shifted by -720 ... +720
  degrees: in that frame the parts of a MultiPolygon cut at ±180 (RFC 7946) touch along the
  cut and form one region.
* **Crossings**: on each segment, the parameters where it meets any zone edge (brute force over
  every edge of every copy, cut edges included) or where its linearly interpolated altitude
  meets the floor or the ceiling cut it into intervals. An interval's state is the state of its
  midpoint: even-odd point-in-polygon over all copies, and the altitude band. A cut edge has
  inside on both sides, so it never changes the state: the state decides, not the edge.
* **Entries**: maximal runs of inside state along the whole track. Runs separated by a
  zero-length excursion merge (it is neither an exit nor an entry) and a zero-length inside run
  is no entry.
* **Depth**: the largest WGS84 geodesic distance from an inside fix to the boundary, the
  boundary being every ring edge drawn linearly in lon/lat, minus the pieces of the ±180 cut
  that have inside on both sides. Each edge's minimum is sampled, then refined by golden-section
  search to 1 cm; edges that cannot beat the best vertex are pruned by the triangle inequality.

Conventions where the contract is silent (so a reader can disagree with them):

* a fix exactly on the boundary is not an inside fix (not counted in ``observations``); so a
  track whose first (last) fix is on the boundary and then goes in (came from inside) enters
  (exits) there, interpolated, at that fix, rather than being "already inside" ("still inside");
* ``last_inside_at`` of an entry without an inside fix is its exit time, so that
  ``duration_s`` is ``exited_at - entered_at`` for it as for every closed entry;
* an unknown altitude (NaN) is inside the altitude band (it cannot clear a target);
* a zone ring that winds around a pole cannot be drawn in lon/lat and is refused.

>>> square = RefZone.from_geometry("SQ", shapely.box(0.0, 0.0, 1.0, 1.0))
>>> track = pd.DataFrame({"time": [0.0, 10.0], "icao24": "abc123",
...                       "lat": [0.5, 0.5], "lon": [-1.0, 2.0]})
>>> (e,) = reference_scan(track, [square]).entries
>>> round(e["entered_at"], 9), round(e["exited_at"], 9), e["observations"], e["entry_point"]
(3.333333333, 6.666666667, 0, {'lat': 0.5, 'lon': 0.0})
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

__all__ = [
    "GEOD",
    "LatLon",
    "RefEntry",
    "RefScan",
    "RefZone",
    "TrackPiece",
    "lon_delta",
    "reference_scan",
    "split_tracks",
    "unwrap_ring",
    "wrap_lon",
]

GEOD = Geod(ellps="WGS84")
SHIFTS_DEG = (-720.0, -360.0, 0.0, 360.0, 720.0)
ON_BOUNDARY_DEG = 1e-12  # a fix closer than this to an edge is on the boundary
CUT_PROBE_DEG = 1e-9  # how far east and west of a ±180 cut piece its two sides are probed
DEPTH_TOLERANCE_M = 0.01
EDGE_SAMPLES = 65


class LatLon(TypedDict):
    """A position as the incident record writes it."""

    lat: float
    lon: float


class RefEntry(TypedDict):
    """One entry as the contract defines it; times are unix seconds."""

    track: str
    zone: str
    entered_at: float
    entry_interpolated: bool
    exited_at: float | None
    last_inside_at: float
    duration_s: float
    max_depth_m: float
    entry_point: LatLon | None
    exit_point: LatLon | None
    observations: int
    min_altitude_m: float | None
    max_altitude_m: float | None


def wrap_lon(lon: float) -> float:
    """Longitude in [-180, 180).

    >>> wrap_lon(181.0), wrap_lon(-180.0), wrap_lon(180.0), wrap_lon(-540.5)
    (-179.0, -180.0, -180.0, 179.5)
    """
    return (float(lon) + 180.0) % 360.0 - 180.0


def lon_delta(lon0: np.ndarray | float, lon1: np.ndarray | float) -> np.ndarray:
    """``lon1 - lon0`` the shorter way round, in [-180, 180).

    >>> float(lon_delta(179.5, -179.5)), float(lon_delta(-179.5, 179.5))
    (1.0, -1.0)
    """
    return (np.asarray(lon1, dtype=float) - np.asarray(lon0, dtype=float) + 180.0) % 360.0 - 180.0


def unwrap_ring(coords: np.ndarray) -> np.ndarray:
    """A closed lon/lat ring with every vertex moved by whole turns so no edge jumps > 180 deg.

    Vertices are moved by exact multiples of 360 (a vertex that needs no move keeps its
    exact value). A ring that does not close once unwrapped winds around a pole.

    >>> unwrap_ring(np.array([[179.0, 0.0], [-179.0, 0.0], [-179.0, 1.0], [179.0, 0.0]]))[:, 0]
    array([179., 181., 181., 179.])
    """
    lon = coords[:, 0]
    raw = np.diff(lon)
    turns = np.rint((lon_delta(lon[:-1], lon[1:]) - raw) / 360.0)
    offset = np.concatenate([[0.0], np.cumsum(turns)])
    if offset[-1] != 0.0:
        raise ValueError("ring winds around a pole: not a lon/lat polygon")
    out = np.array(coords[:, :2], dtype=float)
    out[:, 0] = lon + 360.0 * offset
    return out


def _point_segment_distance(x: float, y: float, ax: np.ndarray, ay: np.ndarray,
                            bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Planar distance (in degrees of the lon/lat plane) from (x, y) to each segment."""
    ex, ey = bx - ax, by - ay
    length2 = ex * ex + ey * ey
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(length2 > 0, ((x - ax) * ex + (y - ay) * ey) / length2, 0.0)
    s = np.clip(s, 0.0, 1.0)
    return np.hypot(ax + s * ex - x, ay + s * ey - y)


@dataclass
class RefZone:
    """A zone as the contract reads it, in a frame where ±180 is not special.

    ``parts`` are polygons, each a list of closed unwrapped rings (exterior first, then holes).
    """

    name: str
    parts: list[list[np.ndarray]]
    floor_m: float | None = None
    ceiling_m: float | None = None
    _edges: np.ndarray = field(init=False, repr=False)  # (m, 4): ax, ay, bx, by
    _edge_part: np.ndarray = field(init=False, repr=False)
    _lon_range: tuple[float, float] = field(init=False, repr=False)
    _boundary: np.ndarray | None = field(init=False, repr=False, default=None)
    _boundary_len_m: np.ndarray | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        edges, owner = [], []
        for k, rings in enumerate(self.parts):
            for ring in rings:
                e = np.column_stack([ring[:-1], ring[1:]])
                edges.append(e)
                owner.append(np.full(len(e), k))
        self._edges = np.vstack(edges)
        self._edge_part = np.concatenate(owner)
        xs = self._edges[:, [0, 2]]
        self._lon_range = (float(xs.min()), float(xs.max()))

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_geometry(cls, name: str, geometry: shapely.Geometry, floor_m: float | None = None,
                      ceiling_m: float | None = None) -> RefZone:
        """From a lon/lat Polygon or MultiPolygon: plain, cut at ±180, or with jumping rings."""
        polygons = list(getattr(geometry, "geoms", [geometry]))
        parts = []
        for poly in polygons:
            shell = unwrap_ring(np.asarray(poly.exterior.coords))
            rings = [shell]
            centre = 0.5 * (shell[:, 0].min() + shell[:, 0].max())
            for hole in poly.interiors:
                h = unwrap_ring(np.asarray(hole.coords))
                # a hole unwrapped on its own may land a whole turn away from its shell
                h[:, 0] += 360.0 * np.rint((centre - h[:, 0].mean()) / 360.0)
                rings.append(h)
            parts.append(rings)
        return cls(name, parts, floor_m, ceiling_m)

    @classmethod
    def circle(cls, name: str, lat: float, lon: float, radius_km: float, *, vertices: int = 720,
               floor_m: float | None = None, ceiling_m: float | None = None) -> RefZone:
        """A geodesic circle drawn as ``vertices`` points at equal azimuth steps from north."""
        az = 360.0 * np.arange(vertices) / vertices
        n = len(az)
        vlon, vlat, _ = GEOD.fwd(np.full(n, float(lon)), np.full(n, float(lat)), az,
                                 np.full(n, radius_km * 1000.0))
        ring = np.column_stack([vlon, vlat])
        ring = np.vstack([ring, ring[:1]])
        return cls(name, [[unwrap_ring(ring)]], floor_m, ceiling_m)

    # -- horizontal geometry --------------------------------------------------------------------

    def _copies(self, xmin: float, xmax: float) -> list[float]:
        """The shifts whose copy of the zone can reach longitudes [xmin, xmax]."""
        lo, hi = self._lon_range
        return [s for s in SHIFTS_DEG if lo + s <= xmax and hi + s >= xmin]

    def contains_xy(self, x: float, y: float) -> bool:
        """Even-odd point in polygon over every part of every copy (a boundary point: either)."""
        x = wrap_lon(x)
        ax, ay, bx, by = self._edges.T
        for shift in self._copies(x, x):
            sx_a, sx_b = ax + shift, bx + shift
            straddles = (ay > y) != (by > y)
            with np.errstate(invalid="ignore", divide="ignore"):
                x_cross = sx_a + (y - ay) * (sx_b - sx_a) / (by - ay)
            hits = straddles & (x < x_cross)
            parity = np.bincount(self._edge_part[hits], minlength=len(self.parts)) % 2
            if parity.any():
                return True
        return False

    def edge_distance_deg(self, x: float, y: float) -> float:
        """Planar lon/lat distance to the nearest edge of any copy (cut edges included)."""
        x = wrap_lon(x)
        ax, ay, bx, by = self._edges.T
        return min(float(_point_segment_distance(x, y, ax + s, ay, bx + s, by).min())
                   for s in SHIFTS_DEG)

    def crossings(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Parameters t in [0, 1] where the segment (x0, y0)-(x1, y1) meets an edge of a copy.

        Plain line intersection: P0 + t d = A + s e with d x e != 0, t and s in [0, 1].
        Edges parallel to the segment are skipped (they only matter at measure-zero ties).
        """
        dx, dy = x1 - x0, y1 - y0
        ax, ay, bx, by = self._edges.T
        ex, ey = bx - ax, by - ay
        found = []
        for shift in self._copies(min(x0, x1), max(x0, x1)):
            wx, wy = ax + shift - x0, ay - y0
            den = dx * ey - dy * ex
            ok = den != 0
            with np.errstate(invalid="ignore", divide="ignore"):
                t = (wx * ey - wy * ex) / den
                s = (wx * dy - wy * dx) / den
            ok &= (t >= 0) & (t <= 1) & (s >= 0) & (s <= 1)
            found.append(t[ok])
        return np.concatenate(found) if found else np.empty(0)

    # -- altitude -------------------------------------------------------------------------------

    def altitude_ok(self, alt_m: float) -> bool:
        """Between floor and ceiling (inclusive); unknown altitude counts as inside."""
        if math.isnan(alt_m):
            return True
        if self.floor_m is not None and alt_m < self.floor_m:
            return False
        return not (self.ceiling_m is not None and alt_m > self.ceiling_m)

    def altitude_limits(self) -> list[float]:
        """Floor and ceiling, those that are set."""
        return [v for v in (self.floor_m, self.ceiling_m) if v is not None]

    # -- boundary and depth ---------------------------------------------------------------------

    def boundary_edges(self) -> np.ndarray:
        """Edges (ax, ay, bx, by) that are boundary: every edge but the inner pieces of a ±180 cut.

        An edge lying on lon = ±180 (mod 360) is split at every latitude where any such edge
        ends; a piece is boundary only when the zone is inside on exactly one of its two sides.
        """
        if self._boundary is not None:
            return self._boundary
        ax, bx = self._edges[:, 0], self._edges[:, 2]
        on_cut = (ax % 360.0 == 180.0) & (bx % 360.0 == 180.0)
        keep = [self._edges[~on_cut]]
        cut = self._edges[on_cut]
        stops = np.unique(np.concatenate([cut[:, 1], cut[:, 3]])) if len(cut) else np.empty(0)
        for x, ya, _, yb in cut:
            lo, hi = min(ya, yb), max(ya, yb)
            ys = np.concatenate([[lo], stops[(stops > lo) & (stops < hi)], [hi]])
            for y0, y1 in itertools.pairwise(ys):
                ym = 0.5 * (y0 + y1)
                west = self.contains_xy(x - CUT_PROBE_DEG, ym)
                if west != self.contains_xy(x + CUT_PROBE_DEG, ym):
                    keep.append(np.array([[x, y0, x, y1]]))
        self._boundary = np.vstack(keep)
        self._boundary_len_m = self._path_length_upper_m(self._boundary)
        return self._boundary

    @staticmethod
    def _path_length_upper_m(edges: np.ndarray) -> np.ndarray:
        """An upper bound of each edge's length when drawn linearly in lon/lat."""
        pieces = 16
        s = np.linspace(0.0, 1.0, pieces + 1)
        ax, ay, bx, by = (c[:, None] for c in edges.T)
        px, py = ax + s * (bx - ax), ay + s * (by - ay)
        _, _, d = GEOD.inv(px[:, :-1].ravel(), py[:, :-1].ravel(), px[:, 1:].ravel(),
                           py[:, 1:].ravel())
        chords = np.asarray(d).reshape(len(edges), pieces).sum(axis=1)
        return chords * 1.01 + 1.0  # chords underestimate the curve: a generous margin

    @staticmethod
    def _refine_m(edges: np.ndarray, length_m: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                  lon: float, lat: float) -> float:
        """Golden-section search of the distance to each edge, its parameter within [lo, hi].

        All edges are searched together (one array step per iteration) until every bracket
        is shorter than DEPTH_TOLERANCE_M along its edge; returns the smallest distance.
        """
        ax, ay, bx, by = edges.T

        def dist(s: np.ndarray) -> np.ndarray:
            _, _, d = GEOD.inv(np.full(s.shape, lon), np.full(s.shape, lat),
                               ax + s * (bx - ax), ay + s * (by - ay))
            return np.asarray(d)

        golden = (math.sqrt(5.0) - 1.0) / 2.0
        lo, hi = lo.astype(float), hi.astype(float)
        c, e = hi - golden * (hi - lo), lo + golden * (hi - lo)
        fc, fe = dist(c), dist(e)
        while np.max((hi - lo) * length_m) > DEPTH_TOLERANCE_M:
            left = fc < fe  # the minimum is in [lo, e]: drop (e, hi]; else drop [lo, c)
            hi, lo = np.where(left, e, hi), np.where(left, lo, c)
            c_new = np.where(left, hi - golden * (hi - lo), e)
            e_new = np.where(left, c, lo + golden * (hi - lo))
            fc_old = fc
            c, e = c_new, e_new
            probe = dist(np.where(left, c, e))
            fc, fe = np.where(left, probe, fe), np.where(left, fc_old, probe)
        return float(min(fc.min(), fe.min()))

    def depth_m(self, lon: float, lat: float) -> float:
        """Geodesic distance from (lon, lat) to the nearest point of the boundary, in metres.

        Three rounds, each keeping only edges that can still beat the best distance found:
        the vertices; EDGE_SAMPLES points along each edge; golden-section search around the
        best sample. A point p of an edge of length L within l of a measured point q has
        d(x, p) >= d(x, q) - l (triangle inequality), which is the bound each round prunes by.
        """
        edges = self.boundary_edges()
        assert self._boundary_len_m is not None
        n = len(edges)
        _, _, d_a = GEOD.inv(np.full(n, lon), np.full(n, lat), edges[:, 0], edges[:, 1])
        _, _, d_b = GEOD.inv(np.full(n, lon), np.full(n, lat), edges[:, 2], edges[:, 3])
        d_a, d_b = np.asarray(d_a), np.asarray(d_b)
        best = float(min(d_a.min(), d_b.min()))
        cand = np.nonzero(np.maximum(d_a, d_b) - self._boundary_len_m <= best)[0]
        s = np.linspace(0.0, 1.0, EDGE_SAMPLES)
        ax, ay, bx, by = (edges[cand, i][:, None] for i in range(4))
        px, py = (ax + s * (bx - ax)).ravel(), (ay + s * (by - ay)).ravel()
        _, _, d = GEOD.inv(np.full(px.shape, lon), np.full(px.shape, lat), px, py)
        d = np.asarray(d).reshape(len(cand), EDGE_SAMPLES)
        k = np.argmin(d, axis=1)
        d_min = d[np.arange(len(cand)), k]
        best = min(best, float(d_min.min()))
        spacing_m = self._boundary_len_m[cand] / (EDGE_SAMPLES - 1)
        keep = np.nonzero(d_min - spacing_m <= best)[0]
        lo, hi = s[np.maximum(k[keep] - 1, 0)], s[np.minimum(k[keep] + 1, EDGE_SAMPLES - 1)]
        return min(best, self._refine_m(edges[cand[keep]], self._boundary_len_m[cand[keep]],
                                        lo, hi, lon, lat))


@dataclass(frozen=True)
class TrackPiece:
    """One track: fixes of one icao24 with no gap longer than gap_s, in time order."""

    track: str
    time_s: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    alt_m: np.ndarray


def split_tracks(df: pd.DataFrame, gap_s: float = 300.0) -> list[TrackPiece]:
    """Group rows by icao24, sort by time, split where consecutive fixes are > gap_s apart.

    Altitude is ``geoaltitude`` where known, else ``baroaltitude``, else NaN.
    """
    alt = pd.Series(np.nan, index=df.index)
    for col in ("baroaltitude", "geoaltitude"):  # the later one wins where it is known
        if col in df.columns:
            known = pd.to_numeric(df[col], errors="coerce")
            alt = known.where(known.notna(), alt)
    frame = pd.DataFrame({"track": df["icao24"].astype(str), "time": df["time"].astype(float),
                          "lon": df["lon"].astype(float), "lat": df["lat"].astype(float),
                          "alt": alt.astype(float)})
    out = []
    for track, rows in frame.groupby("track", sort=True):
        rows = rows.sort_values("time", kind="stable")
        t = rows["time"].to_numpy()
        cuts = np.nonzero(np.diff(t) > gap_s)[0] + 1
        for idx in np.split(np.arange(len(t)), cuts):
            out.append(TrackPiece(str(track), t[idx], rows["lon"].to_numpy()[idx],
                                  rows["lat"].to_numpy()[idx], rows["alt"].to_numpy()[idx]))
    return out


@dataclass
class _Span:
    """A stretch of a track of one state, between two times and positions (unwrapped lon)."""

    t0: float
    t1: float
    inside: bool
    p0: tuple[float, float]
    p1: tuple[float, float]


def _lerp(a: float, v0: float, v1: float) -> float:
    """Linear interpolation that returns the end values exactly at a = 0 and a = 1."""
    if a == 0.0:
        return float(v0)
    if a == 1.0:
        return float(v1)
    return float(v0 + a * (v1 - v0))


@dataclass
class RefScan:
    """Entries, and how close the input came to a measure-zero tie.

    ``margin_deg`` is the smallest lon/lat distance from a fix or from an interval midpoint
    to a zone edge; ``altitude_margin_m`` the smallest gap between a fix's altitude and a
    floor or ceiling. Random tests reject inputs where either is tiny: there the answer
    hangs on rounding, not on the contract.
    """

    entries: list[RefEntry]
    margin_deg: float = math.inf
    altitude_margin_m: float = math.inf


def _track_spans(piece: TrackPiece, zone: RefZone, scan: RefScan) -> list[_Span]:
    """The track cut into stretches of constant state, merged where the state does not change."""
    t, lon, lat, alt = piece.time_s, piece.lon, piece.lat, piece.alt_m
    spans: list[_Span] = []

    def add(span: _Span) -> None:
        if spans and spans[-1].inside == span.inside:
            spans[-1].t1, spans[-1].p1 = span.t1, span.p1
        else:
            spans.append(span)

    if len(t) == 1:
        x, y = wrap_lon(lon[0]), float(lat[0])
        inside = _fix_inside(zone, x, y, float(alt[0]))
        return [_Span(float(t[0]), float(t[0]), inside, (x, y), (x, y))]
    limits = zone.altitude_limits()
    for i in range(len(t) - 1):
        x0 = wrap_lon(lon[i])
        x1 = x0 + float(lon_delta(lon[i], lon[i + 1]))
        y0, y1 = float(lat[i]), float(lat[i + 1])
        a0, a1 = float(alt[i]), float(alt[i + 1])
        cuts = [0.0, 1.0, *zone.crossings(x0, y0, x1, y1).tolist()]
        for limit in limits:
            if not (math.isnan(a0) or math.isnan(a1)) and a0 != a1:
                cuts.append((limit - a0) / (a1 - a0))
        params = np.unique(np.clip(np.array(cuts), 0.0, 1.0))
        for lo, hi in itertools.pairwise(params):
            mid = 0.5 * (lo + hi)
            mx, my = _lerp(mid, x0, x1), _lerp(mid, y0, y1)
            scan.margin_deg = min(scan.margin_deg, zone.edge_distance_deg(mx, my))
            inside = zone.contains_xy(mx, my) and zone.altitude_ok(_lerp(mid, a0, a1))
            add(_Span(_lerp(lo, t[i], t[i + 1]), _lerp(hi, t[i], t[i + 1]), inside,
                      (_lerp(lo, x0, x1), _lerp(lo, y0, y1)),
                      (_lerp(hi, x0, x1), _lerp(hi, y0, y1))))
    return spans


def _fix_inside(zone: RefZone, x: float, y: float, alt_m: float) -> bool:
    """Strictly inside horizontally (a fix on the boundary is not) and within the band."""
    if zone.edge_distance_deg(x, y) <= ON_BOUNDARY_DEG:
        return False
    return zone.contains_xy(x, y) and zone.altitude_ok(alt_m)


def _point(p: tuple[float, float]) -> LatLon:
    return {"lat": float(p[1]), "lon": wrap_lon(p[0])}


def _entries_of(piece: TrackPiece, zone: RefZone, scan: RefScan) -> list[RefEntry]:
    spans = _track_spans(piece, zone, scan)
    inside_fix = []
    for k in range(len(piece.time_s)):
        x, y, a = float(piece.lon[k]), float(piece.lat[k]), float(piece.alt_m[k])
        scan.margin_deg = min(scan.margin_deg, zone.edge_distance_deg(x, y))
        for limit in zone.altitude_limits():
            if not math.isnan(a):
                scan.altitude_margin_m = min(scan.altitude_margin_m, abs(a - limit))
        inside_fix.append(_fix_inside(zone, x, y, a))
    out: list[RefEntry] = []
    for n, span in enumerate(spans):
        if not span.inside:
            continue
        # "already inside at its first fix" / "ends inside" need an inside fix: a track that
        # starts (ends) exactly on the boundary crosses it there, at that fix.
        first = n == 0 and inside_fix[0]
        last = n == len(spans) - 1 and inside_fix[-1]
        fixes = [k for k, t in enumerate(piece.time_s)
                 if inside_fix[k] and span.t0 <= t <= span.t1]
        exited = None if last else span.t1
        last_inside = float(piece.time_s[fixes[-1]]) if fixes else span.t1
        alts = [float(piece.alt_m[k]) for k in fixes if not math.isnan(piece.alt_m[k])]
        depth = max((zone.depth_m(wrap_lon(piece.lon[k]), float(piece.lat[k])) for k in fixes),
                    default=0.0)
        out.append(RefEntry(
            track=piece.track, zone=zone.name, entered_at=span.t0, entry_interpolated=not first,
            exited_at=exited, last_inside_at=last_inside,
            duration_s=(exited if exited is not None else last_inside) - span.t0,
            max_depth_m=depth, entry_point=None if first else _point(span.p0),
            exit_point=None if last else _point(span.p1), observations=len(fixes),
            min_altitude_m=min(alts) if alts else None, max_altitude_m=max(alts) if alts else None,
        ))
    return out


def reference_scan(df: pd.DataFrame, zones: Sequence[RefZone], gap_s: float = 300.0) -> RefScan:
    """Every entry of every track of ``df`` into every zone, by the contract's definitions.

    ``df`` has the contract's columns (``time`` in unix seconds, ``icao24``, ``lat``, ``lon``,
    optionally ``geoaltitude`` / ``baroaltitude``). Entries are ordered by track, zone, time.
    """
    scan = RefScan([])
    for piece in split_tracks(df, gap_s):
        for zone in zones:
            scan.entries.extend(_entries_of(piece, zone, scan))
    scan.entries.sort(key=lambda e: (e["track"], e["zone"], e["entered_at"]))
    return scan
