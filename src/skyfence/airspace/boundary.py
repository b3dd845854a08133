"""A zone's boundary as an array of segments, for crossings and depth.

The boundary of a (Multi)Polygon is flattened into segment endpoint arrays, with an
STRtree over runs of the segments (:mod:`~skyfence.airspace.segment_index`) and a
KD-tree over short pieces of them, so that "which boundary segments can this track
segment cross" and "how far is this fix from the boundary" are answered by bulk
queries and numpy arithmetic, not by GEOS calls per position.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from skyfence.airspace.antimeridian import seam_edges
from skyfence.airspace.depth_field import DepthField
from skyfence.airspace.geodesy import (
    WGS84_A,
    WGS84_E2,
    FloatArray,
    curvature_radii_m,
    geodesic_distance_m,
    geodesic_upper_m,
)
from skyfence.airspace.segment_index import SegmentIndex

#: boundary pieces are at most this long (m): short enough that lon/lat-linear and
#: great-circle interpolation between their ends differ by centimetres at most
_SPACING_M = 1000.0
#: neighbours asked of the KD-tree in one vectorized query
_NEIGHBOURS = 8
#: the WGS84 ellipsoid's least radius of curvature (m; the meridian's at the equator,
#: rounded down): a geodesic is at least this times its angle on the unit sphere
_R_MIN = 6_335_439.0
#: straight lines longer than this (m) are bounded on the unit sphere too
_SPHERE_BEYOND_M = 1_000_000.0
#: metres taken off every ECEF lower bound for rounding (coordinates of ~6.4e6 m are
#: exact to ~1e-9 m; pyproj's geodesics to ~1e-8 m)
_ROUNDING_M = 1e-3
#: positions measured per group and round when pruning a group maximum
_PER_ROUND = 4
#: relative tolerance of the approximate KD-tree query that bounds distances
_BOUND_EPS = 0.05


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> FloatArray:
    """Lon/lat as points of the unit sphere (latitude taken as spherical)."""
    lam, phi = np.radians(lon), np.radians(lat)
    c = np.cos(phi)
    return np.column_stack([c * np.cos(lam), c * np.sin(lam), np.sin(phi)])


def _ecef(lon: np.ndarray, lat: np.ndarray) -> FloatArray:
    """Lon/lat as points of the WGS84 ellipsoid's surface, Earth-centred (m).

    >>> _ecef(np.array([0.0, 0.0]), np.array([0.0, 90.0])).round(3).tolist()
    [[6378137.0, 0.0, 0.0], [0.0, 0.0, 6356752.314]]
    """
    lam, phi = np.radians(lon), np.radians(lat)
    s = np.sin(phi)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * s * s)
    c = n * np.cos(phi)
    return np.column_stack([c * np.cos(lam), c * np.sin(lam), n * (1.0 - WGS84_E2) * s])


@dataclass(frozen=True)
class _Pieces:
    """Boundary pieces: lon/lat ends, unit-sphere ends, KD-tree over their starts."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    a: np.ndarray
    b: np.ndarray
    #: KD-tree over the piece starts, then the ends of pieces no other piece starts
    #: from (the last piece before a seam), as Earth-centred points (m, :func:`_ecef`)
    tree: cKDTree
    owner: np.ndarray  # the piece of each tree point
    also: np.ndarray  # the piece ending at each tree point, -1 for none
    #: half the longest straight line (m) between a piece's two ends
    half_chord_m: float
    #: how far (m) a piece's path can stray from the straight line between its ends
    stray_m: float

    def nearest(self, p: np.ndarray, piece: np.ndarray) -> FloatArray:
        """(lon, lat) of each paired piece's point nearest to ``p`` on the unit sphere."""
        a, b = self.a[piece], self.b[piece]
        ab = b - a
        t = np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-30)
        t = np.clip(t, 0, 1)
        lon = self.x0[piece] + t * (self.x1[piece] - self.x0[piece])
        lat = self.y0[piece] + t * (self.y1[piece] - self.y0[piece])
        return np.column_stack([lon, lat])


class Boundary:
    """Boundary segments of one zone with a spatial index over them.

    Seams are left out (see :mod:`skyfence.airspace.antimeridian`): the ±180 cut of a
    zone that goes on across it and edges along a pole are not borders, so crossing
    them is no crossing and depth is never measured to them.
    """

    def __init__(self, geometry: BaseGeometry) -> None:
        rings = shapely.get_rings(shapely.get_parts(geometry))
        coords, ring_index = shapely.get_coordinates(rings, return_index=True)
        same_ring = ring_index[1:] == ring_index[:-1]
        start = coords[:-1][same_ring]
        end = coords[1:][same_ring]
        keep = np.any(start != end, axis=1)
        start, end = start[keep], end[keep]
        ring = ring_index[:-1][same_ring][keep]
        border = ~seam_edges(geometry, start[:, 0], start[:, 1], end[:, 0], end[:, 1])
        self.x0, self.y0 = start[border, 0].copy(), start[border, 1].copy()
        self.x1, self.y1 = end[border, 0].copy(), end[border, 1].copy()
        self.ring = ring[border]

    def __len__(self) -> int:
        return len(self.x0)

    @cached_property
    def index(self) -> SegmentIndex:
        """The boundary segments' boxes in an STRtree of runs of them (built on first use)."""
        return SegmentIndex(self.x0, self.y0, self.x1, self.y1)

    def crossings(
        self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
    ) -> tuple[np.ndarray, FloatArray]:
        """Where track segments cross the boundary, in the lon/lat plane.

        Returns ``(segment_index, fraction)`` pairs: track segment ``i`` crosses the
        boundary at ``fraction`` along it (0 at its start, 1 at its end). Tracks are
        interpolated linearly in lon/lat (the contract), so this planar test is exact.
        A segment over the antimeridian comes unwrapped (its end longitude beyond
        ±180); its part beyond is tested against the boundary moved by 360 degrees.
        """
        if len(x0) == 0 or len(self) == 0:
            return np.empty(0, dtype=np.intp), np.empty(0)
        segs, fracs = [], []
        lo, hi = np.minimum(x0, x1), np.maximum(x0, x1)
        for shift, part in ((0.0, np.flatnonzero((hi >= -180) & (lo <= 180))),
                            (-360.0, np.flatnonzero(hi > 180)),
                            (360.0, np.flatnonzero(lo < -180))):
            if len(part):
                seg, t = self._plane_crossings(x0[part] + shift, y0[part], x1[part] + shift,
                                               y1[part])
                segs.append(part[seg])
                fracs.append(t)
        if not segs:
            return np.empty(0, dtype=np.intp), np.empty(0)
        return np.concatenate(segs), np.concatenate(fracs)

    def _plane_crossings(
        self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
    ) -> tuple[np.ndarray, FloatArray]:
        seg, edge = self.index.query(np.minimum(x0, x1), np.minimum(y0, y1),
                                     np.maximum(x0, x1), np.maximum(y0, y1))
        if len(seg) == 0:
            return seg, np.empty(0)
        px, py = x0[seg], y0[seg]
        rx, ry = x1[seg] - px, y1[seg] - py
        qx, qy = self.x0[edge], self.y0[edge]
        sx, sy = self.x1[edge] - qx, self.y1[edge] - qy
        denom = rx * sy - ry * sx
        wx, wy = qx - px, qy - py
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (wx * sy - wy * sx) / denom
            u = (wx * ry - wy * rx) / denom
        hit = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
        return seg[hit], t[hit]

    @cached_property
    def _pieces(self) -> _Pieces:
        """The boundary cut into pieces of at most :data:`_SPACING_M`, interpolated in
        lon/lat like the boundary itself, with a KD-tree over their end points."""
        seg_len = _path_upper_m(self.x0, self.y0, self.x1, self.y1)
        n_cut = np.maximum(1, np.ceil(seg_len / _SPACING_M).astype(np.int64))
        seg = np.repeat(np.arange(len(self.x0)), n_cut)
        first = np.repeat(np.cumsum(n_cut) - n_cut, n_cut)
        k = (np.arange(len(seg)) - first).astype(np.float64)
        f0, f1 = k / n_cut[seg], (k + 1) / n_cut[seg]
        dx, dy = self.x1 - self.x0, self.y1 - self.y0
        x0, y0 = self.x0[seg] + f0 * dx[seg], self.y0[seg] + f0 * dy[seg]
        x1, y1 = self.x0[seg] + f1 * dx[seg], self.y0[seg] + f1 * dy[seg]
        a, b = _unit_vectors(x0, y0), _unit_vectors(x1, y1)
        # the piece ending where each piece starts: the one before it in its segment,
        # else the last piece of the segment before along the ring (none after a seam)
        prev = np.arange(len(seg)) - 1
        seg_first = np.cumsum(n_cut) - n_cut
        prev_seg = _previous_segment(self.x0, self.y0, self.x1, self.y1, self.ring)
        last_piece = np.cumsum(n_cut) - 1
        prev[seg_first] = np.where(prev_seg >= 0, last_piece[prev_seg], -1)
        # every boundary point must be within half a piece of a tree point: pieces that
        # no piece follows add their end
        followed = np.zeros(len(seg), bool)
        followed[prev[prev >= 0]] = True
        open_end = np.flatnonzero(~followed)
        owner = np.concatenate([np.arange(len(seg)), open_end])
        also = np.concatenate([prev, np.full(len(open_end), -1)])
        # a path of length L between ends a chord c apart lies within the spheroid of
        # points whose distances to the two ends add up to L at most: at most
        # sqrt(L^2 - c^2) / 2 from the straight line
        ends = _ecef(x0, y0), _ecef(x1, y1)
        chord = np.sqrt(np.einsum("ij,ij->i", ends[1] - ends[0], ends[1] - ends[0]))
        path = _path_upper_m(x0, y0, x1, y1)
        stray = np.sqrt(np.maximum(path * path - chord * chord, 0.0)) / 2
        # split at the midpoint of the widest side and keep each node's box unshrunk:
        # the piece ends lie on a curve, where median splits and boxes shrunk to the
        # data make a query from deep inside a state visit many more nodes (3,000 fixes
        # inside Poland: k=16 query 47 -> 13 ms, ball query 35 -> 15 ms); exact queries
        # answer the same whatever the tree's shape
        tree = cKDTree(np.vstack([ends[0], ends[1][open_end]]), balanced_tree=False,
                       compact_nodes=False)
        return _Pieces(x0, y0, x1, y1, a, b, tree, owner, also,
                       float(chord.max(initial=0.0)) / 2 + _ROUNDING_M,
                       float(stray.max(initial=0.0)) + _ROUNDING_M)

    def distance_m(self, lon: np.ndarray, lat: np.ndarray) -> FloatArray:
        """Geodesic distance in metres from each position to the boundary.

        Each piece is measured at its point nearest the position on the unit sphere,
        as a true WGS84 geodesic; the answer is the least of those over every piece.
        A geodesic is never shorter than the straight line between its ends, so the
        straight line from the position to a piece's point (Earth-centred, metres)
        bounds what that piece can give from below, short of the geodesic by about
        ``c^3 / 24 R^2`` (a millimetre at 10 km, a metre at 100 km). So a position's nearest
        pieces on the KD-tree are bounded, the one with the least bound is measured,
        then every other whose bound is still below the least geodesic so far. Pieces
        the tree did not return are bounded by the farthest point it did (both their
        ends are at least that far); only when that does not exclude them does the
        tree give every piece that can still be nearer (a ball query).
        """
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        n = len(lon)
        if n == 0 or len(self) == 0:
            return np.full(n, np.inf)
        pc = self._pieces
        tree = pc.tree
        here, unit = _ecef(lon, lat), _unit_vectors(lon, lat)
        k = min(_NEIGHBOURS, tree.n)
        dist, idx = tree.query(here, k=k)
        dist, idx = dist.reshape(n, k), idx.reshape(n, k)
        # each tree point is the start of one piece and the end of another (or none):
        # every position's pieces once each, in a row of its own
        pieces = np.concatenate([pc.owner[idx], pc.also[idx]], axis=1)
        pieces.sort(axis=1)
        fresh = pieces >= 0
        fresh[:, 1:] &= pieces[:, 1:] != pieces[:, :-1]
        pt, col = np.nonzero(fresh)
        q, bound = self._bounded(here, unit, pt, pieces[pt, col])
        # the piece of least bound measured first, then every other still below it
        table = np.full(pieces.shape, np.inf)
        table[pt, col] = bound
        slot = np.zeros(pieces.shape, np.int64)
        slot[pt, col] = np.arange(len(pt))
        first = slot[np.arange(n), np.argmin(table, axis=1)]
        best = geodesic_distance_m(lon, lat, q[first, 0], q[first, 1])
        done = np.zeros(len(pt), bool)
        done[first] = True
        best = _lowered(lon, lat, pt, q, bound, best, done)
        if k < tree.n:
            # a piece whose two ends are at least d away is at least sqrt(d^2 - c^2/4)
            # away along its straight line, less how far its path strays from that line
            unseen = np.sqrt(np.maximum(dist[:, -1] ** 2 - pc.half_chord_m**2, 0.0)) \
                - pc.stray_m - _ROUNDING_M
            far = np.flatnonzero(~(best <= unseen))
            if len(far):
                # every piece with a point nearer than the best has an end this near
                reach = np.sqrt((best[far] + pc.stray_m) ** 2 + pc.half_chord_m**2) \
                    + _ROUNDING_M
                more = tree.query_ball_point(here[far], reach, return_sorted=False)
                counts = np.fromiter((len(h) for h in more), dtype=np.int64, count=len(far))
                hit = np.concatenate(more).astype(np.int64)
                pt = np.repeat(far, counts)
                also = pc.also[hit]
                m = np.int64(len(pc.x0))
                key = np.unique(np.concatenate([pt * m + pc.owner[hit],
                                                pt[also >= 0] * m + also[also >= 0]]))
                pt, piece = key // m, key % m
                q, bound = self._bounded(here, unit, pt, piece)
                best = _lowered(lon, lat, pt, q, bound, best, np.zeros(len(pt), bool))
        return best

    def _bounded(self, here: FloatArray, unit: FloatArray, pt: np.ndarray, piece: np.ndarray
                 ) -> tuple[FloatArray, FloatArray]:
        """For each pair of a position ``pt`` (Earth-centred at ``here``, on the unit
        sphere at ``unit``) and a ``piece``: the piece's point the position is measured
        to (lon, lat; nearest on the unit sphere) and a lower bound of that geodesic:
        the straight line to it, or the unit sphere's angle times the least radius of
        curvature (``ds^2 = M^2 dphi^2 + N^2 cos^2 phi dlambda^2 >= M^2 dsigma^2``),
        whichever is longer, less rounding."""
        q = self._pieces.nearest(unit[pt], piece)
        gap = here[pt] - _ecef(q[:, 0], q[:, 1])
        bound = np.sqrt(np.einsum("ij,ij->i", gap, gap))
        # far away the straight line falls short of the geodesic (by 1 km at 1,000 km,
        # by 0.5 % at 1,500 km); the unit sphere's angle (to the very point measured)
        # times the least radius of curvature falls short by 0.5 % at most
        far = np.flatnonzero(bound > _SPHERE_BEYOND_M)
        if len(far):
            gap = unit[pt[far]] - _unit_vectors(q[far, 0], q[far, 1])
            angle = 2.0 * np.arcsin(np.minimum(np.sqrt(np.einsum("ij,ij->i", gap, gap)) / 2,
                                               1.0))
            bound[far] = np.maximum(bound[far], angle * _R_MIN)
        return q, bound - _ROUNDING_M

    def distance_bounds_m(self, lon: np.ndarray, lat: np.ndarray) -> tuple[FloatArray, FloatArray]:
        """Cheap lower and upper bounds of :meth:`distance_m` for each position.

        An approximate KD-tree query gives a piece end within ``1 + eps`` of the
        nearest one (straight lines, Earth-centred): every boundary point is within
        half a piece of a piece end and no nearer than the straight line to it, which
        bounds the distance from below; the end itself is a boundary point, whose
        great-circle bound (:func:`~skyfence.airspace.geodesy.geodesic_upper_m`)
        bounds it from above. No boundary: both infinite, as :meth:`distance_m` says.
        """
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        if len(self) == 0:
            far = np.full(len(lon), np.inf)
            return far, far.copy()
        pc = self._pieces
        d, j = pc.tree.query(_ecef(lon, lat), k=1, eps=_BOUND_EPS)
        d = np.asarray(d, dtype=np.float64)
        j = np.asarray(j, dtype=np.int64)
        start = j < len(pc.x0)  # a piece start, else the end of its owner
        piece = pc.owner[j]
        end_lon = np.where(start, pc.x0[piece], pc.x1[piece])
        end_lat = np.where(start, pc.y0[piece], pc.y1[piece])
        upper = geodesic_upper_m(lon, lat, end_lon, end_lat)
        lower = np.maximum(0.0, d / (1 + _BOUND_EPS) - 0.55 * _SPACING_M)
        return lower, np.asarray(upper, dtype=np.float64)

    @cached_property
    def depth_field(self) -> DepthField:
        """The distance field of this boundary (filled as fixes visit its cells)."""
        return DepthField(self.distance_m)

    def deepest_m(self, lon: np.ndarray, lat: np.ndarray, starts: np.ndarray) -> FloatArray:
        """:meth:`max_distance_m` through the distance field: the same values, with
        exact distances measured only for the fixes that can be the deepest."""
        return self.depth_field.max_distance_m(lon, lat, starts)

    def max_distance_m(
        self, lon: np.ndarray, lat: np.ndarray, starts: np.ndarray, *, stride: int = 16
    ) -> FloatArray:
        """Largest distance to the boundary within each group of consecutive positions.

        ``starts`` are the first index of each group (ascending, ``starts[0] == 0``).
        Distance to a boundary is 1-Lipschitz, so after measuring every ``stride``-th
        position, a position ``p`` near a measured ``q`` cannot be deeper than
        ``d(q) + |pq|``; only positions whose bound beats their group's maximum so far
        are measured. The answer equals measuring every position.
        """
        n = len(lon)
        if n == 0:
            return np.zeros(0)
        group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
        pos_in_group = np.arange(n) - starts[group]
        ends = np.append(starts[1:], n) - 1
        sampled = (pos_in_group % stride == 0) | (np.arange(n) == ends[group])
        si = np.flatnonzero(sampled)
        d_s = self.distance_m(lon[si], lat[si])
        best = np.full(len(starts), -np.inf)
        np.maximum.at(best, group[si], d_s)
        rest = np.flatnonzero(~sampled)
        if len(rest):
            # nearest sample before and after (same group by construction)
            k_prev = np.searchsorted(si, rest) - 1
            k_next = k_prev + 1
            ub = np.minimum(
                d_s[k_prev] + geodesic_upper_m(lon[rest], lat[rest], lon[si[k_prev]],
                                              lat[si[k_prev]]),
                d_s[k_next] + geodesic_upper_m(lon[rest], lat[rest], lon[si[k_next]],
                                              lat[si[k_next]]),
            )
            # cheap KD-tree bounds for the positions still in the running
            keep = ub > best[group[rest]]
            rest, ub = rest[keep], ub[keep]
            if len(rest):
                lower, upper = self.distance_bounds_m(lon[rest], lat[rest])
                np.maximum.at(best, group[rest], lower)
                ub = np.minimum(ub, upper)
            # rounds: measure the few most promising positions of each group, raise the
            # group's maximum, drop every position whose bound can no longer beat it
            while len(rest):
                keep = ub > best[group[rest]]
                rest, ub = rest[keep], ub[keep]
                if not len(rest):
                    break
                order = np.lexsort((-ub, group[rest]))
                g = group[rest][order]
                rank = np.arange(len(g)) - np.searchsorted(g, g, side="left")
                pick = order[rank < _PER_ROUND]
                d_c = self.distance_m(lon[rest[pick]], lat[rest[pick]])
                np.maximum.at(best, group[rest[pick]], d_c)
                left = np.ones(len(rest), bool)
                left[pick] = False
                rest, ub = rest[left], ub[left]
        return best


def _lowered(lon: np.ndarray, lat: np.ndarray, pt: np.ndarray, q: FloatArray,
             bound: FloatArray, best: FloatArray, done: np.ndarray) -> FloatArray:
    """``best`` (per position) lowered by the geodesics to the points ``q`` of the
    pairs not ``done`` whose ``bound`` is below it (the others cannot be nearer)."""
    rest = np.flatnonzero((bound < best[pt]) & ~done)
    if len(rest):
        best = best.copy()
        np.minimum.at(best, pt[rest], geodesic_distance_m(lon[pt[rest]], lat[pt[rest]],
                                                          q[rest, 0], q[rest, 1]))
    return best


def _path_upper_m(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
                  ) -> FloatArray:
    """An upper bound of the length (m) of each edge's lon/lat-linear path on WGS84.

    Not the geodesic between its ends: that is shorter, by far for a long edge along a
    parallel, and 0 for the edge (-180, lat) - (180, lat) that closes a polar cap drawn
    from -180 to 180 (one point of the globe, a whole parallel of path). With
    ``ds^2 = M^2 dphi^2 + N^2 cos^2 phi dlambda^2``, ``M <= N`` and ``N`` growing away
    from the equator, a path linear in lon/lat is at most ``N(phi_far) sqrt(dphi^2 +
    cos^2(phi_near) dlambda^2)`` long, ``phi_far`` and ``phi_near`` its latitudes
    farthest from and nearest to the equator.
    """
    far = np.maximum(np.abs(y0), np.abs(y1))
    near = np.where(np.sign(y0) * np.sign(y1) <= 0, 0.0, np.minimum(np.abs(y0), np.abs(y1)))
    _, n_far = curvature_radii_m(far)
    dphi, dlam = np.radians(y1 - y0), np.radians(x1 - x0)
    return np.asarray(n_far * np.hypot(dphi, np.cos(np.radians(near)) * dlam))


def _previous_segment(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, ring: np.ndarray
) -> np.ndarray:
    """The segment ending where each segment starts, along its ring; -1 where the ring
    is open (a seam was left out before it)."""
    n = len(x0)
    if n == 0:
        return np.empty(0, np.intp)
    prev = np.arange(n) - 1
    first = np.flatnonzero(np.concatenate([[True], ring[1:] != ring[:-1]]))
    prev[first] = np.append(first[1:], n) - 1
    linked = (x1[prev] == x0) & (y1[prev] == y0) & (ring[prev] == ring)
    return np.where(linked, prev, -1)
