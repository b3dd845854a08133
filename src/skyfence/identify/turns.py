"""How hard a target turns: the lateral acceleration of its sustained turns.

A turn at ground speed ``v`` and turn rate ``w`` (rad/s) needs a lateral acceleration
``a = v w``; in a level coordinated turn ``a = g tan(bank)``. Transport aircraft (jet
and turboprop airliners, business aircraft on their airways) bank at most 25-30 deg in
normal operation, that is ``a <= g tan 30 deg = 5.7 m/s^2``; a fighter following a slow
target or flying a pattern turns at 0.6-1 g and more. At the speeds of those aircraft
(above about 100 m/s) a sustained turn harder than about 35 deg of bank (6.9 m/s^2)
is therefore evidence of a military jet, whatever its speed and height.

The acceleration is measured over a **baseline** of :data:`TURN_BASELINE_S` seconds,
not between successive fixes: the heading of the first fix of each aligned
``TURN_BASELINE_S`` time bucket is compared with that of the next bucket. One fix's
heading error is then divided by 15 s, not by the 1-5 s between fixes (recorded
airliner flights show 0.8-1 g "turns" between successive fixes from heading
quantisation alone), while a real turn of 45 deg or more at 0.8 g (about 14 s at
140 m/s) fills a whole baseline. The lower of the two speeds is used, so a speed
spike does not make a turn.

Everything here is vectorized over fixes; :func:`extend_turns` continues a
measurement from one batch of fixes to the next (the state is the first fix of the
latest bucket), so a streamed track gives the same figure as the whole track at once.
The detector asks :class:`BatchTurns` instead, which gives ``extend_turns``' answers for
every run of a batch from one pass over the batch (``extend_turns`` stays the reference
its tests compare with).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

#: time baseline over which a turn's heading change is measured (s)
TURN_BASELINE_S = 15.0

FloatArray = npt.NDArray[np.float64]
#: the first fix of a bucket: (bucket number, time s, ground speed m/s, heading deg)
Anchor = tuple[float, float, float, float]


def bucket_firsts(time: npt.ArrayLike, keys: npt.ArrayLike | None = None) -> npt.NDArray[np.intp]:
    """Indices of the first fix of each ``TURN_BASELINE_S`` time bucket (per key).

    Fixes must be sorted by key, then time.

    >>> bucket_firsts([0.0, 5.0, 14.9, 15.0, 31.0]).tolist()
    [0, 3, 4]
    """
    t = np.asarray(time, dtype=np.float64)
    k = np.floor(t / TURN_BASELINE_S)
    new = np.ones(t.size, dtype=bool)
    new[1:] = k[1:] != k[:-1]
    if keys is not None:
        ids = np.asarray(keys)
        new[1:] |= ids[1:] != ids[:-1]
    return np.flatnonzero(new)


def bucket_accels(bucket: FloatArray, time: FloatArray, speed: FloatArray,
                  heading: FloatArray, same: npt.NDArray[np.bool_] | None = None
                  ) -> FloatArray:
    """Lateral acceleration (m/s^2) between each bucket's first fix and the previous one.

    ``bucket``, ``time``, ``speed``, ``heading`` hold one fix per bucket (in time
    order); element ``i`` is the acceleration from fix ``i - 1`` to fix ``i``, NaN for
    the first, for buckets that are not adjacent (a gap), where ``same`` (optional) is
    False (another track), or where a speed or heading is unknown.

    A quarter turn (90 deg) in 15 s at 100 m/s: pi/2 / 15 * 100 = 10.47 m/s^2.

    >>> a = bucket_accels(np.array([0.0, 1.0]), np.array([0.0, 15.0]),
    ...                   np.array([100.0, 120.0]), np.array([350.0, 80.0]))
    >>> round(float(a[1]), 2)
    10.47
    """
    out = np.full(time.size, np.nan)
    if time.size < 2:
        return out
    ok = (bucket[1:] - bucket[:-1]) == 1.0
    if same is not None:
        ok &= same[1:]
    dt = time[1:] - time[:-1]
    dh = np.abs((heading[1:] - heading[:-1] + 180.0) % 360.0 - 180.0)
    v = np.minimum(speed[1:], speed[:-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        a = v * np.radians(dh) / dt
    out[1:] = np.where(ok & (dt > 0), a, np.nan)
    return out


def extend_turns(anchor: Anchor | None, time: npt.ArrayLike, speed: npt.ArrayLike,
                 heading: npt.ArrayLike) -> tuple[float | None, Anchor | None]:
    """The hardest turn (m/s^2, None if none measured) of fixes that continue a track
    whose latest bucket began with ``anchor``, and the anchor to continue from.

    Fixes are in time order, after the anchor's fix; fixes without heading or speed are
    left out.

    >>> hardest, anchor = extend_turns(None, [0.0, 5.0, 15.0], [100.0, 100.0, 100.0],
    ...                                [0.0, 10.0, 90.0])
    >>> round(hardest, 2), anchor
    (10.47, (1.0, 15.0, 100.0, 90.0))
    >>> extend_turns(anchor, [29.0], [100.0], [91.0])
    (None, (1.0, 15.0, 100.0, 90.0))
    """
    t = np.asarray(time, dtype=np.float64)
    v = np.asarray(speed, dtype=np.float64)
    h = np.asarray(heading, dtype=np.float64)
    if t.size == 1:  # one fix (a live feed): plain arithmetic, no array calls
        return _one_fix(anchor, float(t[0]), float(v[0]), float(h[0]))
    known = np.isfinite(t) & np.isfinite(v) & np.isfinite(h)
    t, v, h = t[known], v[known], h[known]
    if t.size == 0:
        return None, anchor
    first = bucket_firsts(t)
    bk = np.floor(t[first] / TURN_BASELINE_S)
    bt, bv, bh = t[first], v[first], h[first]
    if anchor is not None:
        if bk[0] == anchor[0]:  # still in the anchor's bucket: its first fix stays
            bk, bt, bv, bh = bk[1:], bt[1:], bv[1:], bh[1:]
        bk = np.concatenate([[anchor[0]], bk])
        bt = np.concatenate([[anchor[1]], bt])
        bv = np.concatenate([[anchor[2]], bv])
        bh = np.concatenate([[anchor[3]], bh])
    acc = bucket_accels(bk, bt, bv, bh)
    hardest = float(np.nanmax(acc)) if np.isfinite(acc).any() else None
    return hardest, (float(bk[-1]), float(bt[-1]), float(bv[-1]), float(bh[-1]))


def _one_fix(anchor: Anchor | None, t: float, v: float, h: float
             ) -> tuple[float | None, Anchor | None]:
    """:func:`extend_turns` of a single fix."""
    if not (math.isfinite(t) and math.isfinite(v) and math.isfinite(h)):
        return None, anchor
    k = math.floor(t / TURN_BASELINE_S)
    if anchor is not None and k == anchor[0]:
        return None, anchor
    new = (float(k), t, v, h)
    return (None if anchor is None else _measured(_pair_accel(anchor, new))), new


def track_turn_accels(keys: npt.ArrayLike, time: npt.ArrayLike, speed: npt.ArrayLike,
                      heading: npt.ArrayLike) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """Per-bucket turn accelerations of many tracks at once (fixes sorted by key, then
    time; fixes without heading or speed should be left out beforehand): the index of
    each bucket's first fix and the acceleration from the previous bucket (NaN: none)."""
    ids = np.asarray(keys)
    t = np.asarray(time, dtype=np.float64)
    first = bucket_firsts(t, ids)
    same = np.zeros(first.size, dtype=bool)
    same[1:] = ids[first][1:] == ids[first][:-1]
    acc = bucket_accels(np.floor(t[first] / TURN_BASELINE_S), t[first],
                        np.asarray(speed, dtype=np.float64)[first],
                        np.asarray(heading, dtype=np.float64)[first], same)
    return first, acc


class BatchTurns:
    """:func:`extend_turns` for many runs of one batch, from one vectorized pass.

    A batch's fixes (sorted by track, then time) are worked out once: which are known
    (time, speed and heading finite), which begin a ``TURN_BASELINE_S`` bucket (a known
    fix whose bucket differs from the previous known fix's), and each bucket start's
    acceleration from the bucket start before it. Both lists hold only known rows, so
    the table is as small as the fixes runs are made of. A run ``a..b`` of one track
    then needs that table only past its second bucket start; its first known fix
    (which may lie inside a bucket begun before the run) and the step from the entry's
    anchor are the few scalar steps :func:`extend_turns` would take.
    :meth:`spans` finds what every run of a zone needs from the table in a few
    searches; :meth:`extend_span` then returns exactly what ``extend_turns(anchor,
    time[a:b+1], speed[a:b+1], heading[a:b+1])`` returns, from a few lookups.

    >>> t = [0.0, 5.0, 15.0, 29.0, 31.0]
    >>> turns = BatchTurns(t, [100.0] * 5, [0.0, 10.0, 90.0, 91.0, 91.0])
    >>> hardest, anchor = turns.extend(None, 0, 2)
    >>> (hardest, anchor) == extend_turns(None, t[:3], [100.0] * 3, [0.0, 10.0, 90.0])
    True
    >>> turns.extend(anchor, 3, 4) == extend_turns(anchor, t[3:], [100.0] * 2, [91.0] * 2)
    True
    """

    def __init__(self, time: npt.ArrayLike, speed: npt.ArrayLike,
                 heading: npt.ArrayLike, asked: npt.NDArray[np.bool_] | None = None) -> None:
        """``asked`` (optional): the only rows runs will be made of (the fixes inside
        some zone). The others are left out as if unknown, which changes no answer
        for a run of asked rows: everything :meth:`extend` reads lies between the
        run's first known fix and its last row."""
        t = np.asarray(time, dtype=np.float64)
        v = np.asarray(speed, dtype=np.float64)
        h = np.asarray(heading, dtype=np.float64)
        known = np.isfinite(t) & np.isfinite(v) & np.isfinite(h)
        if asked is not None:
            known &= asked
        rows = np.flatnonzero(known)
        k = np.floor(t[rows] / TURN_BASELINE_S)
        is_first = np.ones(rows.size, dtype=bool)
        is_first[1:] = k[1:] != k[:-1]
        firsts = rows[is_first]
        #: the known rows, and those that begin a bucket, ascending
        self._known, self._firsts = rows, firsts
        #: each bucket start's acceleration from the one before (-inf: none)
        accel = np.full(firsts.size, -np.inf)
        if firsts.size > 1:
            kf = k[is_first]
            a = bucket_accels(kf, t[firsts], v[firsts], h[firsts])
            accel[1:] = np.where(np.isnan(a[1:]), -np.inf, a[1:])
        self._accel = accel
        self._t, self._v, self._h = t, v, h

    def _anchor(self, i: int) -> Anchor:
        t = float(self._t[i])
        return (float(math.floor(t / TURN_BASELINE_S)), t, float(self._v[i]), float(self._h[i]))

    def spans(self, a: npt.ArrayLike, b: npt.ArrayLike) -> TurnSpans:
        """What runs ``a[i]..b[i]`` (each one track's rows) need from the table: per
        run, its first known row ``f`` (-1: none), the first bucket start after ``f``
        within the run ``j`` (-1: none), the last bucket start of the run, and the
        hardest acceleration of the bucket starts after ``j`` within the run (-inf:
        none; their predecessors lie inside the run)."""
        a = np.asarray(a, dtype=np.intp)
        b = np.asarray(b, dtype=np.intp)
        known, firsts = self._known, self._firsts
        ia = np.searchsorted(known, a)
        f = known[np.minimum(ia, max(known.size - 1, 0))] if known.size else a
        f = np.where((ia < known.size) & (f <= b), f, -1)
        jf = np.searchsorted(firsts, f + 1)
        j = firsts[np.minimum(jf, max(firsts.size - 1, 0))] if firsts.size else f
        j = np.where((f >= 0) & (jf < firsts.size) & (j <= b), j, -1)
        hi = np.searchsorted(firsts, b, side="right")  # bucket starts up to b
        last = np.where(j >= 0, firsts[np.maximum(hi - 1, 0)] if firsts.size else j, -1)
        lo = jf + 1
        inner = np.full(a.size, -np.inf)
        some = (j >= 0) & (lo < hi)
        if some.any():
            acc = np.append(self._accel, -np.inf)
            starts = np.stack([lo[some], hi[some]], axis=1).ravel()
            inner[some] = np.maximum.reduceat(acc, starts)[::2]
        return TurnSpans(f.tolist(), j.tolist(), last.tolist(), inner.tolist())

    def extend_span(self, anchor: Anchor | None, f: int, j: int, last: int, inner: float
                    ) -> tuple[float | None, Anchor | None]:
        """:func:`extend_turns` of a run continuing from ``anchor``, from its span (one
        element of each of :meth:`spans`' lists)."""
        if f < 0:
            return None, anchor
        hardest = -math.inf
        first = self._anchor(f)
        if anchor is not None and first[0] == anchor[0]:
            base = anchor  # still in the anchor's bucket: its first fix stays
        else:
            if anchor is not None:
                hardest = _pair_accel(anchor, first)
            base = first
        if j < 0:
            return _measured(hardest), base
        hardest = max(hardest, _pair_accel(base, self._anchor(j)), inner)
        return _measured(hardest), self._anchor(last)

    def extend(self, anchor: Anchor | None, a: int, b: int
               ) -> tuple[float | None, Anchor | None]:
        """:func:`extend_turns` of rows ``a..b`` (one track's, in time order) continuing
        from ``anchor``."""
        s = self.spans([a], [b])
        return self.extend_span(anchor, s.first[0], s.next_start[0], s.last_start[0],
                                s.inner[0])


class TurnSpans(NamedTuple):
    """Per run (lists, one element a run): see :meth:`BatchTurns.spans`."""

    first: list[int]
    next_start: list[int]
    last_start: list[int]
    inner: list[float]


def _measured(accel: float) -> float | None:
    """An acceleration, or None for -inf (no pair of adjacent buckets measured)."""
    return None if accel == -math.inf else accel


def _pair_accel(p: Anchor, q: Anchor) -> float:
    """The acceleration from bucket start ``p`` to ``q``, -inf if not adjacent buckets
    or not later (the arithmetic of :func:`bucket_accels`)."""
    dt = q[1] - p[1]
    if q[0] - p[0] != 1.0 or not dt > 0:
        return -math.inf
    dh = abs((q[3] - p[3] + 180.0) % 360.0 - 180.0)
    return min(q[2], p[2]) * math.radians(dh) / dt
