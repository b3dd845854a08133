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
#: half a piece as a unit-sphere chord, with margin
_HALF_PIECE_CHORD = 0.55 * _SPACING_M / 6_356_000.0
#: neighbours asked of the KD-tree in one vectorized query
_NEIGHBOURS = 16
#: positions measured per group and round when pruning a group maximum
_PER_ROUND = 4
#: relative tolerance of the approximate KD-tree query that bounds distances
_BOUND_EPS = 0.05
#: the WGS84 ellipsoid's least and greatest radii of curvature (metres)
_R_MIN, _R_MAX = 6_335_439.0, 6_399_594.0


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> FloatArray:
    lam, phi = np.radians(lon), np.radians(lat)
    c = np.cos(phi)
    return np.column_stack([c * np.cos(lam), c * np.sin(lam), np.sin(phi)])


@dataclass(frozen=True)
class _Pieces:
    """Boundary pieces: lon/lat ends, unit-sphere ends, KD-tree over their starts."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    a: np.ndarray
    b: np.ndarray
    #: KD-tree over piece starts, then the ends of pieces no other piece starts from
    #: (the last piece before a seam)
    tree: cKDTree
    owner: np.ndarray  # the piece of each tree point
    also: np.ndarray  # the piece ending at each tree point, -1 for none

    def nearest(self, p: np.ndarray, piece: np.ndarray) -> tuple[FloatArray, FloatArray]:
        """Nearest point of each paired piece to ``p``: (lon, lat) and unit vector."""
        a, b = self.a[piece], self.b[piece]
        ab = b - a
        t = np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-30)
        t = np.clip(t, 0, 1)
        lon = self.x0[piece] + t * (self.x1[piece] - self.x0[piece])
        lat = self.y0[piece] + t * (self.y1[piece] - self.y0[piece])
        return np.column_stack([lon, lat]), a + t[:, None] * ab


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
        points = np.vstack([a, b[open_end]])
        owner = np.concatenate([np.arange(len(seg)), open_end])
        also = np.concatenate([prev, np.full(len(open_end), -1)])
        # split at the midpoint of the widest side and keep each node's box unshrunk:
        # the piece ends lie on a curve, where median splits and boxes shrunk to the
        # data make a query from deep inside a state visit many more nodes (3,000 fixes
        # inside Poland: k=16 query 47 -> 13 ms, ball query 35 -> 15 ms); exact queries
        # answer the same whatever the tree's shape
        tree = cKDTree(points, balanced_tree=False, compact_nodes=False)
        return _Pieces(x0, y0, x1, y1, a, b, tree, owner, also)

    def distance_m(self, lon: np.ndarray, lat: np.ndarray) -> FloatArray:
        """Geodesic distance in metres from each position to the boundary.

        The nearest boundary point on the unit sphere is within the chord distance
        ``d`` of the nearest piece start. Sphere and ellipsoid can rank two pieces
        differently, but by less than the ratio ``r`` of :func:`_rank_ratio`, so every
        piece that can hold the nearest point on the ellipsoid has an end within
        ``r d`` plus half a piece, and a chord within ``r`` of the least; those pieces
        are measured as true WGS84 geodesics and the least distance wins.
        """
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        n = len(lon)
        if n == 0 or len(self) == 0:
            return np.full(n, np.inf)
        pc = self._pieces
        tree = pc.tree
        p = _unit_vectors(lon, lat)
        # the K nearest piece starts usually cover the ball around the nearest one;
        # points whose K-th neighbour is still inside it ask the tree for the whole ball
        k = min(_NEIGHBOURS, tree.n)
        dist, idx = tree.query(p, k=k)
        dist, idx = dist.reshape(n, k), idx.reshape(n, k)
        ratio = _rank_ratio(lat, dist[:, 0] * _GLOBAL_RATIO + _HALF_PIECE_CHORD)
        radius = dist[:, 0] * ratio + _HALF_PIECE_CHORD + 1e-12
        inside = dist <= radius[:, None]
        pt = np.repeat(np.arange(n), inside.sum(axis=1))
        hit = idx[inside]
        full = np.flatnonzero(inside[:, -1]) if k < tree.n else np.empty(0, np.intp)
        if len(full):
            more = tree.query_ball_point(p[full], radius[full], return_sorted=False)
            counts = np.fromiter((len(h) for h in more), dtype=np.int64, count=len(full))
            pt = np.concatenate([pt, np.repeat(full, counts)])
            hit = np.concatenate([hit, np.concatenate(more).astype(np.int64)])
        # a start point is the end of the previous piece too
        also = pc.also[hit]
        pt = np.concatenate([pt, pt[also >= 0]])
        hit = np.concatenate([pc.owner[hit], also[also >= 0]])
        m = np.int64(len(pc.x0))
        key = np.sort(pt * m + hit)
        key = key[np.concatenate([[True], key[1:] != key[:-1]])] if len(key) else key
        pt, piece = key // m, key % m
        # rank on the sphere first; only near-best pieces get an ellipsoidal geodesic
        q = pc.nearest(p[pt], piece)
        chord = np.sqrt(np.einsum("ij,ij->i", p[pt] - q[1], p[pt] - q[1]))
        min_chord = np.full(n, np.inf)
        np.minimum.at(min_chord, pt, chord)
        close = chord <= min_chord[pt] * ratio[pt] + 1e-12
        exact = geodesic_distance_m(lon[pt[close]], lat[pt[close]], q[0][close, 0],
                                    q[0][close, 1])
        best = np.full(n, np.inf)
        np.minimum.at(best, pt[close], exact)
        return best

    def distance_bounds_m(self, lon: np.ndarray, lat: np.ndarray) -> tuple[FloatArray, FloatArray]:
        """Cheap lower and upper bounds of :meth:`distance_m` for each position.

        An approximate KD-tree query (within ``1 + eps`` of the nearest piece start)
        and the extreme radii of curvature of the ellipsoid bound the geodesic distance;
        every boundary point is within half a piece of a piece start. No boundary: both
        infinite, as :meth:`distance_m` says.
        """
        if len(self) == 0:
            far = np.full(len(np.asarray(lon)), np.inf)
            return far, far.copy()
        d, _ = self._pieces.tree.query(_unit_vectors(lon, lat), k=1, eps=_BOUND_EPS)
        d = np.asarray(d, dtype=np.float64)
        ang_hi = 2 * np.arcsin(np.minimum(d / 2, 1.0))
        ang_lo = 2 * np.arcsin(np.minimum(d / (1 + _BOUND_EPS) / 2, 1.0))
        upper = ang_hi * _R_MAX * 1.001
        lower = np.maximum(0.0, ang_lo * _R_MIN * 0.999 - 0.55 * _SPACING_M)
        return lower, upper

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


#: the largest :func:`_rank_ratio` anywhere: N(90 deg) / M(0) = (1 - e^2)^-1.5
_GLOBAL_RATIO = (1.0 - WGS84_E2) ** -1.5 * (1 + 1e-9)


def _rank_ratio(lat: np.ndarray, chord: np.ndarray) -> FloatArray:
    """How much nearer on the unit sphere a piece must be than another to be nearer on
    the WGS84 ellipsoid too, for positions at ``lat`` and pieces within ``chord``.

    Lon/lat taken as spherical coordinates, a length on the ellipsoid is the angle on
    the unit sphere times a factor between the meridian's radius of curvature ``M``
    and the prime vertical's ``N`` where the path runs (``ds^2 = M^2 dphi^2 + N^2
    cos^2 phi dlambda^2``; ``M <= N``, both growing away from the equator). So a
    piece at angle ``a`` is at least ``M(phi_lo) a`` away and one at angle ``b`` at
    most ``N(phi_hi) b``: only pieces with ``a <= b N(phi_hi) / M(phi_lo)`` can be
    nearer, and the chord, ``2 sin(angle / 2)``, keeps that ratio or less. The
    latitude band is the position's +- the chord's angle: every point of a great
    circle arc from the position lies within the arc's angle of it (2 % and 0.02
    degree more for the ellipsoid's geodesic, whose image on the sphere is at most
    ``N / M`` longer). From 1.0067 at the equator to 1 at the poles; 1.0017 at 60
    degrees for nearby pieces.

    >>> [round(float(r), 4) for r in _rank_ratio(np.array([0.0, 60.0, 89.9]),
    ...                                          np.full(3, 1e-4))]
    [1.0067, 1.0017, 1.0]
    """
    reach = np.degrees(2 * np.arcsin(np.minimum(np.asarray(chord) / 2, 1.0))) * 1.02 + 0.02
    phi = np.abs(np.asarray(lat, dtype=np.float64))
    m_lo, _ = curvature_radii_m(np.clip(phi - reach, 0.0, 90.0))
    _, n_hi = curvature_radii_m(np.clip(phi + reach, 0.0, 90.0))
    return np.asarray(n_hi / m_lo * (1 + 1e-9))


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
