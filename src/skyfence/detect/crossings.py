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
    # breakpoints per segment, sorted; NaN marks "examine, no interior breakpoint"
    order = np.lexsort((frac_all, seg_all))
    seg_all, frac_all = seg_all[order], frac_all[order]
    cand = np.unique(seg_all)
    # sub-interval midpoints: between consecutive breakpoints (0, t1, ..., tk, 1)
    rows: list[int] = []
    fr: list[float] = []
    ent: list[bool] = []
    # one vectorized containment test for every midpoint of every candidate segment
    mids_seg: list[int] = []
    mids_t: list[float] = []
    bounds_per_seg: dict[int, np.ndarray] = {}
    starts = np.searchsorted(seg_all, cand, side="left")
    ends = np.searchsorted(seg_all, cand, side="right")
    fr_list = frac_all.tolist()
    for k, s0, s1 in zip(cand.tolist(), starts.tolist(), ends.tolist(), strict=True):
        inner = sorted({t for t in fr_list[s0:s1] if 0.0 < t < 1.0})  # NaN fails both
        b = np.array([0.0, *inner, 1.0])
        bounds_per_seg[k] = b
        m = (b[:-1] + b[1:]) / 2
        mids_seg.extend([k] * len(m))
        mids_t.extend(m.tolist())
    ms = np.asarray(mids_seg, dtype=np.intp)
    mt = np.asarray(mids_t)
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
    pos = 0
    for k in cand.tolist():
        b = bounds_per_seg[k]
        nsub = len(b) - 1
        states = [bool(in0[k]), *mid_in[pos : pos + nsub].tolist(), bool(in1[k])]
        pos += nsub
        # transition between states[j] and states[j+1] happens at b[j]
        # (states[0] is the fix itself at 0, the last state is the end fix at 1)
        where = [0.0, *b[1:-1].tolist(), 1.0]
        for j in range(len(states) - 1):
            if states[j] != states[j + 1]:
                rows.append(int(i0[k]))
                fr.append(where[j])
                ent.append(states[j + 1])
    return Transitions(np.asarray(rows, np.intp), np.asarray(fr), np.asarray(ent, bool))


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
