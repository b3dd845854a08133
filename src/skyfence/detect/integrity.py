"""Implausible and spoofed fixes: found before screening, left out of it, and named.

ADS-B is unauthenticated and decoders make mistakes (a CPR pair from two aircraft, a
Gillham altitude misread), so a single fix can say an aircraft is 40 km inside a border
it never crossed. A fix is **implausible** when, seen from the last accepted fix of its
track, it implies

- a ground speed above ``max_speed_ms`` (default 1500 m/s: faster than any aircraft;
  a MiG-31 tops out near 830 m/s, an SR-71 near 1000 m/s) plus ``slack_m`` for
  time-stamp jitter and noise,
- a vertical speed above ``max_climb_ms`` (default 300 m/s) plus ``alt_slack_m``,

or when a receiver position is known and it lies more than ``max_range_m`` from it
(default 700 km: beyond any line-of-sight reception).

What is done with it depends on what the track around it says:

- a **lone outlier** (a spike: the track cannot reach it from the fix before nor go on
  from it to the fix after, but goes from the one before to the one after as an
  aircraft can, the detour more than five times the direct way) is **not screened**:
  one bad fix inside a zone makes no entry. It is counted and named;
- two outliers in a row are two **position streams** interleaved under one address (a
  spoofer, or two aircraft with one address): that track is walked fix by fix (a
  Python loop over its rows only), each fix compared with the last *accepted* one;
  what it cannot reach is rejected, and rejected fixes that agree with each other while
  accepted ones go on between them give the reason ``second position stream``;
- a track that moves too fast *consistently* (every fix agrees with the next; a wrong
  time unit, a simulation) is kept as it is and named.
- a fix out of the receiver's range is rejected on its own.

Only transponder tracks (ids that are ICAO addresses) are screened: radar tracks come
out of the tracker's gates already. The reasons go to the track's incident records (the
contract's ``integrity`` list).

Work is columnar: every fix is compared with its neighbours in one numpy pass; in
clean data that is all. The newest fix of a track in a live batch has no next fix yet,
so it cannot be told from a turn: it is screened (a spike is caught when it is not the
newest, i.e. in every scan and whenever the feed's batches hold more fixes).

Examples
--------
>>> import numpy as np
>>> scr = IntegrityScreen()
>>> t = np.array([0.0, 1.0, 2.0, 3.0])
>>> lat = np.array([59.0, 59.002, 59.5, 59.006])  # the third fix jumps 55 km in 1 s
>>> keep = scr.check(np.zeros(4, np.intp), t, np.full(4, 26.0), lat, np.full(4, np.nan),
...                  np.zeros(4, bool), ["abc123"])
>>> keep.tolist()
[True, True, False, True]
>>> scr.reasons("abc123")
('1 fix rejected: position jump faster than 1500 m/s',)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from skyfence.identify.icao_blocks import parse_icao24

__all__ = ["IntegrityConfig", "IntegrityScreen", "distance_m"]

#: mean Earth radius (m); a sphere is ample for telling 1000 m/s from 40 km/s
_R_M = 6_371_008.8


@dataclass(frozen=True)
class IntegrityConfig:
    """Limits beyond which a fix is not physically possible for an aircraft."""

    #: fastest ground speed of any aircraft (m/s)
    max_speed_ms: float = 1500.0
    #: position allowance on top of ``max_speed_ms * dt`` (m): time-stamp jitter, noise
    slack_m: float = 1500.0
    #: fastest climb or descent (m/s)
    max_climb_ms: float = 300.0
    #: altitude allowance on top of ``max_climb_ms * dt`` (m): barometric vs geometric
    alt_slack_m: float = 500.0
    #: receiver position (lat, lon) of a single-receiver feed; None: no range test
    receiver: tuple[float, float] | None = None
    #: farthest a receiver can hear an aircraft (m)
    max_range_m: float = 700_000.0
    #: rejected fixes in a row, agreeing with each other, after which the track is
    #: taken to be where they say
    switch_after: int = 4


#: reason kinds, in the order records list them
_KINDS = ("speed", "altitude", "range", "second_stream", "fast")
#: square of the metres in one degree of a great circle
_M_PER_DEG2 = (_R_M * np.pi / 180.0) ** 2
#: a lone outlier's detour is more than this many times the way it cuts short
_DETOUR = 5.0


def distance_m(lat0: Any, lon0: Any, lat1: Any, lon1: Any) -> np.ndarray:
    """Great-circle distance on a sphere (m), vectorized (haversine).

    >>> round(float(distance_m(0.0, 0.0, 0.0, 1.0)) / 1000, 1)
    111.2
    """
    p0, p1 = np.radians(lat0), np.radians(lat1)
    dl = np.radians(np.asarray(lon1, np.float64) - np.asarray(lon0, np.float64))
    h = np.sin((p1 - p0) / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(dl / 2) ** 2
    return np.asarray(2 * _R_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


@dataclass
class _Stream:
    """The rejected fixes of one track that may be a stream of their own."""

    fix: tuple[float, float, float, float]  # time, lon, lat, alt of the last one
    count: int = 1
    #: an accepted fix of the track came after this stream began
    interleaved: bool = False


class IntegrityScreen:
    """Which fixes of sorted batches are plausible; what was rejected, by track."""

    def __init__(self, config: IntegrityConfig | None = None) -> None:
        self.config = config or IntegrityConfig()
        #: fixes rejected so far, by reason kind
        self.rejected: Counter[str] = Counter()
        #: per track: (kind, times of the fixes concerned) in the order found
        self._by_track: dict[str, list[tuple[str, np.ndarray]]] = {}
        self._streams: dict[str, _Stream] = {}
        #: the last fix rejected at the end of a track's data so far, by track
        self._tails: dict[str, tuple[float, float, float, float]] = {}
        #: per track: the kept jumps (from time, to time, distance m), batch by batch
        self._jumps: dict[str, list[np.ndarray]] = {}
        #: tracks whose last step so far was beyond reach (whether a jump from their
        #: carried fix breaks a plausible track or goes on a too-fast one)
        self._fast_last: set[str] = set()

    def _forget_fast(self, codes: np.ndarray, keys: Sequence[Any] | np.ndarray) -> None:
        """Tracks ``codes`` (of this batch) last stepped as an aircraft can."""
        if not self._fast_last or len(codes) == 0:
            return
        names = np.asarray(keys, dtype=object)
        at = pd.Index(names).get_indexer(list(self._fast_last))
        flagged = np.intersect1d(at[at >= 0], codes)
        self._fast_last.difference_update(str(names[c]) for c in flagged.tolist())

    def jump_over(self, track: str, t: float) -> tuple[float, float] | None:
        """The kept jump of ``track`` whose segment holds time ``t`` (an entry or exit
        interpolated on it): (distance m, duration s), or None."""
        for j in self._jumps.get(track, []):
            on = np.flatnonzero((j[:, 0] <= t) & (t <= j[:, 1]))
            if len(on):
                a, b, d = j[on[0]]
                return float(d), float(b - a)
        return None

    def reasons(self, track: str, until: float = np.inf, entered_at: float | None = None,
                exited_at: float | None = None) -> tuple[str, ...]:
        """The integrity reasons of ``track`` from its fixes up to ``until`` (unix s), in
        words an operator reads (the same whatever the batches the fixes came in); with
        ``entered_at`` / ``exited_at``, whether the entry began or ended on a jump."""
        found = self._by_track.get(track)
        if not found:
            return ()
        ends = []
        for word, t in (("entered", entered_at), ("left", exited_at)):
            jump = self.jump_over(track, t) if t is not None else None
            if jump is not None:
                ends.append(f"{word} by a position jump of {jump[0] / 1000:.1f} km in "
                            f"{jump[1]:g} s")
        seen: Counter[str] = Counter()
        for kind, times in found:
            seen[kind] += int((times <= until).sum())
        c = self.config
        words = {
            "speed": f"position jump faster than {c.max_speed_ms:g} m/s",
            "altitude": f"altitude jump faster than {c.max_climb_ms:g} m/s",
            "range": f"farther than {c.max_range_m / 1000:g} km from the receiver",
        }
        out = []
        for kind in _KINDS:
            n = seen.get(kind, 0)
            if not n:
                continue
            if kind == "second_stream":
                out.append("second position stream under the same ICAO address")
            elif kind == "fast":
                out.append(f"{n} jump{'s' if n > 1 else ''} faster than "
                           f"{c.max_speed_ms:g} m/s (or climbing faster than "
                           f"{c.max_climb_ms:g} m/s) kept: the track goes on from there "
                           "(a spoofed or jammed navigation source, a wrong time)")
            else:
                out.append(f"{n} fix{'es' if n > 1 else ''} rejected: {words[kind]}")
        return (*ends, *out)

    @property
    def flagged_tracks(self) -> int:
        """Number of tracks with at least one integrity reason."""
        return len(self._by_track)

    # ------------------------------------------------------------------ screening
    def check(self, code: np.ndarray, time: np.ndarray, lon: np.ndarray, lat: np.ndarray,
              alt: np.ndarray, carried: np.ndarray, keys: Sequence[Any] | np.ndarray
              ) -> np.ndarray:
        """Which rows to keep, for rows sorted by track ``code`` then time (no two of a
        track at the same time); ``carried`` rows are each track's last accepted fix
        from earlier batches (always kept); ``keys[code]`` is the track id."""
        n = len(code)
        keep = np.ones(n, bool)
        if n == 0:
            return keep
        c = self.config
        # only transponder tracks (ICAO addresses) are looked at: radar tracks come out
        # of the tracker's gates already, and a removed radar fix could only distort them
        transponder = np.asarray(parse_icao24(np.asarray(keys, dtype=object))[1], bool)
        if c.receiver is not None:
            far = ~carried & transponder[code] & (distance_m(c.receiver[0], c.receiver[1], lat, lon)
                              > c.max_range_m)
            if far.any():
                self._count(code[far], time[far], keys, "range")
                keep &= ~far
        rows = np.flatnonzero(keep)
        kept_code = code if len(rows) == n else code[rows]  # nothing left out: no gather
        # one pass over consecutive fixes; in clean data it is the only one
        same = kept_code[1:] == kept_code[:-1]
        same &= transponder[kept_code[1:]]
        if len(rows) == n:  # nothing left out: slices, no gathers
            step = np.where(same, self._implausible(
                time[:-1], lon[:-1], lat[:-1], alt[:-1], time[1:], lon[1:], lat[1:], alt[1:]),
                0).astype(np.int8)
        else:
            step = np.zeros(max(len(rows) - 1, 0), np.int8)
            step[same] = self._implausible(*self._ends(rows[:-1][same], rows[1:][same], time,
                                                       lon, lat, alt))
        if not step.any():
            self._forget_fast(kept_code, keys)
            return keep
        spike, pairs = self._spikes(rows, step, code, time, lon, lat, alt, keys)
        spike &= ~carried[rows]
        if spike.any():
            # two spikes in a row: two streams interleaved; walked fix by fix
            both = spike[1:] & spike[:-1] & (code[rows][1:] == code[rows][:-1])
            walk = set(code[rows][1:][both].tolist())
            alone = spike & ~np.isin(code[rows], list(walk))
            for kind, mask in (("speed", alone & (pairs == 1)),
                               ("altitude", alone & (pairs == 2))):
                if mask.any():
                    self._count(code[rows][mask], time[rows][mask], keys, kind)
            keep[rows[alone]] = False
            self._second_streams(rows[alone], code, time, lon, lat, alt, keys)
            for cd in sorted(walk):
                self._walk(np.flatnonzero(keep & (code == cd)), str(keys[cd]), time, lon,
                           lat, alt, carried, keep)
        # what is left moving faster than an aircraft can, consistently: kept (its fixes
        # agree with each other), named
        if spike.any():
            rows = np.flatnonzero(keep)
            same = code[rows][1:] == code[rows][:-1]
            same &= transponder[code[rows][1:]]
            a, b = rows[:-1][same], rows[1:][same]
            fast = self._implausible(*self._ends(a, b, time, lon, lat, alt)) > 0
        else:
            a, b, fast = rows[:-1][same], rows[1:][same], step[same] > 0
        if fast.any():
            self._count(code[b[fast]], time[b[fast]], keys, "fast", rejected=False)
            # a jump is a break in an otherwise plausible track: the step before it
            # (same track) could be flown; a track too fast all along has no jumps
            prev_ok = np.zeros(len(fast), bool)
            prev_ok[1:] = (b[:-1] == a[1:]) & ~fast[:-1]
            # a track's first step here starts at its carried fix: the step before that
            # one came in an earlier batch, and is remembered
            from_carry = np.flatnonzero(fast & carried[a])
            for x in from_carry.tolist():
                prev_ok[x] = str(keys[code[a[x]]]) not in self._fast_last
            last = np.ones(len(fast), bool)
            last[:-1] = a[1:] != b[:-1]
            self._forget_fast(code[b[last & ~fast]], keys)
            self._fast_last.update(str(keys[cd]) for cd in code[b[last & fast]].tolist())
            a, b = a[fast & prev_ok], b[fast & prev_ok]
            jumps = np.column_stack([time[a], time[b], distance_m(lat[a], lon[a], lat[b],
                                                                  lon[b])])
            cut = np.flatnonzero(np.diff(code[b])) + 1
            if len(b):
                for part, cd in zip(np.split(jumps, cut), code[b][np.r_[0, cut]].tolist(),
                                    strict=True):
                    self._jumps.setdefault(str(keys[cd]), []).append(part)
        return keep

    def _second_streams(self, out: np.ndarray, code: np.ndarray, time: np.ndarray,
                        lon: np.ndarray, lat: np.ndarray, alt: np.ndarray,
                        keys: Sequence[Any] | np.ndarray) -> None:
        """Rejected outliers of one track that an aircraft could fly between: a second
        stream of positions under the address (each found from the second on)."""
        same = code[out][1:] == code[out][:-1]
        a, b = out[:-1][same], out[1:][same]
        agree = self._implausible(time[a], lon[a], lat[a], alt[a], time[b], lon[b], lat[b],
                                  alt[b]) == 0
        if agree.any():
            self._count(code[b[agree]], time[b[agree]], keys, "second_stream",
                        rejected=False)

    @staticmethod
    def _ends(a: np.ndarray, b: np.ndarray, time: np.ndarray, lon: np.ndarray,
              lat: np.ndarray, alt: np.ndarray) -> tuple[np.ndarray, ...]:
        """The arguments of :meth:`_implausible` for the pairs of rows ``a`` -> ``b``."""
        return time[a], lon[a], lat[a], alt[a], time[b], lon[b], lat[b], alt[b]

    def _spikes(self, rows: np.ndarray, step: np.ndarray, code: np.ndarray, time: np.ndarray,
                lon: np.ndarray, lat: np.ndarray, alt: np.ndarray,
                keys: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row of ``rows``: whether it is a lone outlier (its track cannot reach it
        from the fix before, cannot go on from it to the fix after, but goes from the
        one before to the one after as an aircraft can, and the detour is more than
        ``detour`` times the direct way), and which test it failed (1 position,
        2 altitude). ``step`` is that test for each consecutive pair of ``rows`` (0 for
        pairs of two tracks): only rows next to a failed one are looked at again."""
        m = len(rows)
        spike = np.zeros(m, bool)
        kind = np.zeros(m, np.int8)
        if m < 3:
            return spike, kind
        k = code[rows]
        mid = np.flatnonzero((k[1:-1] == k[:-2]) & (k[1:-1] == k[2:])
                             & (step[:-1] > 0) & (step[1:] > 0)) + 1
        p, i, nx = rows[mid - 1], rows[mid], rows[mid + 1]

        def test(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return self._implausible(time[a], lon[a], lat[a], alt[a], time[b], lon[b],
                                     lat[b], alt[b])

        into, out_of, skip = test(p, i), test(i, nx), test(p, nx)
        direct = distance_m(lat[p], lon[p], lat[nx], lon[nx])
        detour = np.minimum(distance_m(lat[p], lon[p], lat[i], lon[i]),
                            distance_m(lat[i], lon[i], lat[nx], lon[nx]))
        with np.errstate(invalid="ignore"):
            dz_direct = np.nan_to_num(np.abs(alt[nx] - alt[p]))
            dz_detour = np.nan_to_num(np.minimum(np.abs(alt[i] - alt[p]),
                                                 np.abs(alt[nx] - alt[i])))
        far = np.where(into == 1, detour > _DETOUR * direct, dz_detour > _DETOUR * dz_direct)
        is_spike = (into > 0) & (out_of > 0) & (skip == 0) & far
        spike[mid] = is_spike
        kind[mid] = np.where(is_spike, into, 0)
        # the last fix of a track (no next one yet): an outlier when the two fixes before
        # it agree and it jumps off, unless the fix rejected last time at its end agrees
        # with it (the track really is there: one fix is lost, not the track)
        last = np.flatnonzero((k[2:] == k[1:-1]) & (k[2:] == k[:-2])
                              & np.append(k[3:] != k[2:-1], True)
                              & (step[1:] > 0) & (step[:-1] == 0)) + 2
        pp, p, i = rows[last - 2], rows[last - 1], rows[last]
        into, before = test(p, i), test(pp, p)
        jump = distance_m(lat[p], lon[p], lat[i], lon[i])
        step = distance_m(lat[pp], lon[pp], lat[p], lon[p])
        with np.errstate(invalid="ignore"):
            dz_jump = np.nan_to_num(np.abs(alt[i] - alt[p]))
            dz_step = np.nan_to_num(np.abs(alt[p] - alt[pp]))
        far = np.where(into == 1, jump > _DETOUR * step, dz_jump > _DETOUR * dz_step)
        tail = (into > 0) & (before == 0) & far
        for j in np.flatnonzero(tail).tolist():  # per outlier: rare
            key = str(keys[code[i[j]]])
            prev = self._tails.pop(key, None)
            fix = (float(time[i[j]]), float(lon[i[j]]), float(lat[i[j]]), float(alt[i[j]]))
            if prev is not None and not self._implausible1(prev, fix):
                tail[j] = False
            else:
                self._tails[key] = fix
        spike[last] = tail
        kind[last] = np.where(tail, into, 0)
        return spike, kind

    def _walk(self, rows: np.ndarray, key: str, time: np.ndarray, lon: np.ndarray,
              lat: np.ndarray, alt: np.ndarray, carried: np.ndarray, keep: np.ndarray
              ) -> None:
        """Fix by fix along one track (see the module): reject what the last accepted
        fix cannot reach, follow a second stream, switch to it when it is all there is."""
        if len(rows) == 0:
            return
        stream = self._streams.pop(key, None)
        ok: tuple[float, float, float, float] | None = None
        for r in rows.tolist():
            fix = (float(time[r]), float(lon[r]), float(lat[r]), float(alt[r]))
            if carried[r] or ok is None:
                ok = fix
                continue
            kind = self._implausible1(ok, fix)
            if not kind:
                ok = fix
                if stream is not None:
                    stream.interleaved = True
                continue
            if stream is not None and not self._implausible1(stream.fix, fix):
                stream.fix, stream.count = fix, stream.count + 1
            else:
                stream = _Stream(fix)
            if stream.count >= self.config.switch_after and not stream.interleaved:
                ok, stream = fix, None  # the track is where this stream says
                continue
            keep[r] = False
            self._count1(key, kind, np.array([fix[0]]))
            if stream.interleaved and stream.count >= 2:
                self._count1(key, "second_stream", np.array([fix[0]]), rejected=False)
        if stream is not None:
            self._streams[key] = stream

    def _implausible(self, t0: np.ndarray, x0: np.ndarray, y0: np.ndarray, z0: np.ndarray,
                     t1: np.ndarray, x1: np.ndarray, y1: np.ndarray, z1: np.ndarray
                     ) -> np.ndarray:
        """Per pair of fixes: 1 where the second is out of reach of the first, 2 where
        its altitude is, 0 where it can follow it."""
        c = self.config
        dt = np.abs(t1 - t0)
        reach = c.max_speed_ms * dt + c.slack_m
        reach *= reach
        with np.errstate(invalid="ignore"):
            # squared distance on the local tangent plane, in degrees (no square root);
            # east is dlon * cos(lat), never more than dlon: only the pairs whose step
            # with a whole degree of longitude east is out of reach need the cosine
            dlon = x1 - x0
            across = np.flatnonzero(np.abs(dlon) > 180.0)  # the antimeridian: rare
            dlon[across] -= np.copysign(360.0, dlon[across])
            north = y1 - y0
            north *= north
            maybe = np.flatnonzero((dlon * dlon + north) * _M_PER_DEG2 > reach)
            east = dlon[maybe] * np.cos(np.radians(y0[maybe]))
            fast = maybe[(east * east + north[maybe]) * _M_PER_DEG2 > reach[maybe]]
            steep = np.abs(z1 - z0) > c.max_climb_ms * dt + c.alt_slack_m
        out = steep.astype(np.int8) * 2
        out[fast] = 1
        return out

    def _implausible1(self, a: tuple[float, float, float, float],
                      b: tuple[float, float, float, float]) -> str:
        c = self.config
        dt = abs(b[0] - a[0])
        if float(distance_m(a[2], a[1], b[2], b[1])) > c.max_speed_ms * dt + c.slack_m:
            return "speed"
        dz = abs(b[3] - a[3])
        if not math.isnan(dz) and dz > c.max_climb_ms * dt + c.alt_slack_m:
            return "altitude"
        return ""

    def _count(self, codes: np.ndarray, times: np.ndarray, keys: Sequence[Any] | np.ndarray,
               kind: str,
               rejected: bool = True) -> None:
        """Note ``kind`` for the fixes of tracks ``codes`` at ``times`` (grouped by track:
        one Python step per track)."""
        order = np.argsort(codes, kind="stable")
        codes, times = codes[order], times[order]
        cut = np.flatnonzero(np.diff(codes)) + 1
        for part_c, part_t in zip(np.split(codes, cut), np.split(times, cut), strict=True):
            self._count1(str(keys[part_c[0]]), kind, part_t, rejected)

    def _count1(self, key: str, kind: str, times: np.ndarray, rejected: bool = True) -> None:
        if rejected:
            self.rejected[kind] += len(times)
        self._by_track.setdefault(key, []).append((kind, np.asarray(times, np.float64)))
