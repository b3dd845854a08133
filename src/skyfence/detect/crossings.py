"""Exact inside/outside transitions along track segments.

A track is interpolated linearly in time and lon/lat between fixes (the contract), so
along one segment the state can change only where the straight lon/lat line crosses
the zone boundary, or where the interpolated altitude crosses the zone's floor or
ceiling. This module finds those places for many segments at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.zones import Zone

#: how far off the antimeridian a position on it is asked, on either side: a position on
#: ±180 is inside a zone that holds it on either side (the detector's seam rule)
SEAM_NUDGE_DEG = 1e-9
_SEAM_SIDES = (-180.0 + SEAM_NUDGE_DEG, 180.0 - SEAM_NUDGE_DEG)


@dataclass(frozen=True)
class Transitions:
    """State changes inside track segments: segment ``start`` row, fraction, direction."""

    row: np.ndarray  # row index of the segment's first fix
    fraction: np.ndarray  # 0..1 along the segment
    entering: np.ndarray  # True for outside -> inside

    @classmethod
    def empty(cls) -> Transitions:
        return cls(np.empty(0, np.intp), np.empty(0), np.empty(0, bool))


def segment_transitions(
    zone: Zone,
    boundary: Boundary,
    lon: np.ndarray,
    lat: np.ndarray,
    alt: np.ndarray,
    seg_start: np.ndarray,
    in0: np.ndarray,
    in1: np.ndarray,
    *,
    lon_next: np.ndarray | None = None,
) -> Transitions:
    """Transitions on the segments ``seg_start[k] -> seg_start[k] + 1``.

    ``lon_next[i]`` is the longitude of row ``i + 1`` seen from row ``i`` the shorter way
    round (beyond ±180 where the segment crosses the antimeridian); by default the next
    row's own longitude.

    ``in0`` and ``in1`` are the states at each segment's two fixes. A segment is examined
    when its end states differ, when its line crosses the boundary (a corner cut between
    two outside fixes, or a bay crossed between two inside fixes), or when its altitude
    crosses a limit.
    """
    i0 = seg_start
    i1 = seg_start + 1
    if len(i0) == 0:
        return Transitions.empty()
    x1 = lon[i1] if lon_next is None else lon_next[i0]
    hit_seg, hit_t = boundary.crossings(lon[i0], lat[i0], x1, lat[i1])
    # a leg along the antimeridian itself: its points are inside a zone that holds them
    # on either side, so its crossings are those of the leg just off the seam, east and
    # west (on the seam a zone's edge there is the leg's own line)
    along = np.flatnonzero((np.abs(lon[i0]) == 180.0) & (x1 == lon[i0]))
    if len(along):
        segs_a, ts_a = [hit_seg], [hit_t]
        for side in _SEAM_SIDES:
            xs = np.full(len(along), side)
            k, t = boundary.crossings(xs, lat[i0[along]], xs, lat[i1[along]])
            segs_a.append(along[k])
            ts_a.append(t)
        hit_seg, hit_t = np.concatenate(segs_a), np.concatenate(ts_a)
    fracs: list[np.ndarray] = [hit_t]
    segs: list[np.ndarray] = [hit_seg]
    if zone.has_altitude_limits:
        a0, a1 = alt[i0], alt[i1]
        for limit in (zone.floor_m, zone.ceiling_m):
            if limit is None:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                t = (limit - a0) / (a1 - a0)
            ok = np.isfinite(t) & (t > 0) & (t < 1)
            segs.append(np.flatnonzero(ok))
            fracs.append(t[ok])
    differ = np.flatnonzero(in0 != in1)
    seg_all = np.concatenate([*segs, differ])
    if len(seg_all) == 0:
        return Transitions.empty()
    frac_all = np.concatenate([*fracs, np.full(len(differ), np.nan)])
    cand = np.unique(seg_all)
    # each candidate's breakpoints, in order: 0, its distinct interior fractions, 1
    # (NaN marks "examine, no interior breakpoint": it fails 0 < t < 1)
    with np.errstate(invalid="ignore"):
        inner = (frac_all > 0.0) & (frac_all < 1.0)
    pt_seg = np.concatenate([cand, seg_all[inner], cand])
    pt_t = np.concatenate([np.zeros(len(cand)), frac_all[inner], np.ones(len(cand))])
    order = np.lexsort((pt_t, pt_seg))
    pt_seg, pt_t = pt_seg[order], pt_t[order]
    distinct = np.ones(len(pt_t), bool)  # one fraction crossed by two pieces: once
    distinct[1:] = (pt_seg[1:] != pt_seg[:-1]) | (pt_t[1:] != pt_t[:-1])
    pt_seg, pt_t = pt_seg[distinct], pt_t[distinct]
    # the sub-intervals between consecutive points of a segment, and their midpoints
    sub = np.flatnonzero(pt_seg[1:] == pt_seg[:-1])
    ms = pt_seg[sub]
    mt = (pt_t[sub] + pt_t[sub + 1]) / 2
    # one vectorized containment test for every midpoint of every candidate segment
    j0, j1 = i0[ms], i1[ms]
    mid_lat = lat[j0] + mt * (lat[j1] - lat[j0])
    mid_alt = alt[j0] + mt * (alt[j1] - alt[j0])
    mid_in = zone.contains(lon[j0] + mt * (x1[ms] - lon[j0]), mid_lat, mid_alt)
    if len(along):
        on = np.isin(ms, along)
        if on.any():
            n_on = int(on.sum())
            mid_in[on] = np.logical_or.reduce([
                zone.contains(np.full(n_on, side), mid_lat[on], mid_alt[on])
                for side in _SEAM_SIDES])
    # at each point, the state just before it (the sub-interval ending there, or the
    # segment's first fix at 0) and just after it (the sub-interval starting there, or
    # its last fix at 1): a transition where they differ. Segment number c (in ``cand``)
    # has its points from index g0 on and its sub-intervals from g0 - c on.
    first = pt_t == 0.0
    last = pt_t == 1.0
    ordinal = np.cumsum(first) - 1
    g = np.arange(len(pt_t))
    before = np.where(first, in0[pt_seg], mid_in[np.maximum(g - ordinal - 1, 0)])
    after = np.where(last, in1[pt_seg], mid_in[np.minimum(g - ordinal, max(len(mid_in) - 1, 0))])
    change = np.flatnonzero(before != after)
    return Transitions(i0[pt_seg[change]].astype(np.intp), pt_t[change],
                       np.asarray(after[change], bool))


def without_touches(tr: Transitions) -> Transitions:
    """Transitions without the exit-and-entry pairs at one fix on the boundary.

    A track that reaches the boundary exactly at a fix and goes on inside has touched
    the boundary, not crossed it: the fix itself is not inside (a boundary point is in
    no zone), so the segments on either side report an exit at the fix and an entry at
    the fix. Such a zero-length excursion is no exit: the pair is dropped and the entry
    goes on.
    """
    exit_at = np.flatnonzero(~tr.entering & (tr.fraction == 1.0))
    enter_at = np.flatnonzero(tr.entering & (tr.fraction == 0.0))
    if not len(exit_at) or not len(enter_at):
        return tr
    touched = np.intersect1d(tr.row[exit_at] + 1, tr.row[enter_at])
    if not len(touched):
        return tr
    keep = np.ones(len(tr.row), bool)
    keep[exit_at[np.isin(tr.row[exit_at] + 1, touched)]] = False
    keep[enter_at[np.isin(tr.row[enter_at], touched)]] = False
    return Transitions(tr.row[keep], tr.fraction[keep], tr.entering[keep])
