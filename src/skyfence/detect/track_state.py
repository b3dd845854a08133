"""What the entry detector carries between batches, and one batch joined with it.

:class:`TrackTable` keeps the last fix of every live track in arrays and the entries
each has open; :class:`BatchWork` is one batch joined with those last fixes, sorted by
track and time, with the track structure worked out (segments, piece starts, gaps
longer than ``gap_s``); :class:`BatchColumns` reads the batch's optional columns
(callsign, squawk, speed) for a run of rows. Everything is columnar: Python loops run
per new or expiring track, never per fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from skyfence.airspace.antimeridian import lon_delta
from skyfence.detect.integrity import IntegrityScreen
from skyfence.factorize import factorize_runs
from skyfence.identify.turns import BatchTurns
from skyfence.model import Entry
from skyfence.vocab import EMERGENCY_SQUAWKS

__all__ = ["BatchColumns", "BatchWork", "OpenEntry", "TrackTable", "nanmax", "nanmin"]


@dataclass
class OpenEntry:
    """Accumulator of an entry that has not ended yet."""

    entry: Entry


class TrackTable:
    """The last fix of every live track, in arrays, and the entries each has open.

    Per-track Python work happens only for new and expiring tracks; batches read and
    write the last fixes of their tracks with vectorized indexing.
    """

    def __init__(self) -> None:
        self.slot: dict[str, int] = {}
        self.keys: list[str | None] = []
        self.free: list[int] = []
        self.fix = np.empty((0, 4))  # time, lon, lat, alt per slot
        self.open: dict[str, dict[int, OpenEntry]] = {}

    def __len__(self) -> int:
        return len(self.slot)

    def lookup(self, keys: Any) -> np.ndarray:
        """Slot of each key, -1 for a track not seen before."""
        get = self.slot.get
        return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))

    def store(self, keys: Any, fix: np.ndarray) -> None:
        """Remember ``fix`` (rows of time, lon, lat, alt) as the last fix of ``keys``."""
        slots = self.lookup(keys)
        for i in np.flatnonzero(slots < 0).tolist():
            if self.free:
                s = self.free.pop()
            else:
                s = len(self.keys)
                self.keys.append(None)
                if s >= len(self.fix):
                    grown = np.empty((max(1024, 2 * len(self.fix)), 4))
                    grown[: len(self.fix)] = self.fix
                    self.fix = grown
            self.keys[s] = keys[i]
            self.slot[keys[i]] = s
            slots[i] = s
        self.fix[slots] = fix

    def expire(self, before: float) -> list[tuple[str, float, dict[int, OpenEntry]]]:
        """Forget tracks whose last fix is older than ``before``."""
        n = len(self.keys)
        stale = np.flatnonzero(self.fix[:n, 0] < before)
        out = []
        for s in stale.tolist():
            key = self.keys[s]
            if key is None:
                continue
            self.keys[s] = None
            del self.slot[key]
            self.free.append(s)
            out.append((key, float(self.fix[s, 0]), self.open.pop(key, {})))
        return out


def nanmin(a: np.ndarray) -> float | None:
    """The smallest value that is not NaN, None when there is none."""
    a = a[~np.isnan(a)]
    return float(a.min()) if len(a) else None


def nanmax(a: np.ndarray) -> float | None:
    """The largest value that is not NaN, None when there is none."""
    a = a[~np.isnan(a)]
    return float(a.max()) if len(a) else None


class BatchWork:
    """One batch joined with the carried last fix of each of its tracks, sorted by
    track and time, with the track structure (segments, starts, gaps) worked out."""

    code: np.ndarray
    time: np.ndarray
    lon: np.ndarray
    #: the longitude of the next row seen from this one: the next fix's longitude moved
    #: by 360 degrees where the segment to it crosses the antimeridian (unwrapped)
    lon_next: np.ndarray
    lat: np.ndarray
    alt: np.ndarray
    is_carried: np.ndarray
    uniques: Any
    carried_open: dict[int, dict[int, OpenEntry]]  # by code: entries open before this batch
    n_new: int
    dropped: int
    #: fixes left out as implausible (see :mod:`skyfence.detect.integrity`)
    rejected: int
    seg_ok: np.ndarray  # segment (i-1 -> i) exists
    seg_start: np.ndarray  # rows i with a segment i -> i+1
    track_start: np.ndarray
    piece_end_rows: np.ndarray  # rows after which a gap splits the track
    last_of_key: np.ndarray
    cols: BatchColumns
    pending_open: dict[int, dict[int, OpenEntry]]
    _turns: BatchTurns | None = None
    #: rows inside some zone (runs are made of them), when the detector has screened them
    inside: np.ndarray | None = None

    @classmethod
    def build(cls, batch: pd.DataFrame, tracks: TrackTable, gap_s: float,
              integrity: IntegrityScreen | None = None, rows: np.ndarray | None = None
              ) -> BatchWork:
        """Join ``batch`` with the last fixes ``tracks`` carry; drop late and duplicate
        fixes, and the implausible ones ``integrity`` rejects; find segments, track
        starts and gaps longer than ``gap_s``. ``rows`` (ascending): only these rows of
        the batch are this detector's (a batch shared by detectors, split by track);
        None: every row."""
        w = cls()
        ids = batch["icao24"].to_numpy(dtype=object)
        codes_new, uniques = factorize_runs(ids if rows is None else ids[rows])
        n_new = len(codes_new)
        slots = tracks.lookup(uniques)
        carried_codes = np.flatnonzero(slots >= 0)
        nc = len(carried_codes)
        last = tracks.fix[slots[carried_codes]]

        def col(name: str, j: int) -> np.ndarray:
            given = (batch[name].to_numpy(np.float64) if name in batch.columns
                     else np.full(len(batch), np.nan))  # a hand-built batch without altitudes
            if rows is not None:
                given = given[rows]
            return np.concatenate([last[:, j], given]) if nc else _read_only(given)

        code = (np.concatenate([carried_codes.astype(np.intp), codes_new]) if nc
                else codes_new.astype(np.intp, copy=False))
        time, lon, lat = col("time", 0), col("lon", 1), col("lat", 2)
        alt = col("altitude", 3)
        is_carried = np.concatenate([np.ones(nc, bool), np.zeros(n_new, bool)])
        # the batch's row of each working row (-1: carried); None: the same row
        mine = None if rows is None else np.asarray(rows, dtype=np.intp)
        src: np.ndarray | None
        if nc:
            src = np.concatenate([np.full(nc, -1, np.intp),
                                  np.arange(n_new) if mine is None else mine])
        else:
            src = mine
        # a fix not newer than what its track already had is late or a duplicate: drop it
        last_seen = np.full(len(uniques), -np.inf)
        last_seen[code[:nc]] = time[:nc]
        late = ~is_carried & (time <= last_seen[code])
        # rows already in order and all kept (a file written track by track) are used
        # as they are: each gather of a column is a copy of it
        order: np.ndarray | None = _track_time_order(code, time, is_carried,
                                                     none_late=not late.any())
        if order is not None:  # rows in order have no carried rows, so none is late
            order = order[~late[order]]
        k_code, k_time = _taken(code, order), _taken(time, order)
        dup = np.concatenate([[False], (k_code[1:] == k_code[:-1])
                              & (k_time[1:] == k_time[:-1])])
        if dup.any():
            order = _narrowed(order, ~dup)
        w.dropped = int(late.sum() + dup.sum())
        w.rejected = 0
        if integrity is not None:
            keep = integrity.check(_taken(code, order), _taken(time, order),
                                   _taken(lon, order), _taken(lat, order),
                                   _taken(alt, order), _taken(is_carried, order), uniques)
            w.rejected = int(len(keep) - keep.sum())
            if w.rejected:
                order = _narrowed(order, keep)
        w.code, w.time, w.lon, w.lat, w.alt = (_taken(code, order), _taken(time, order),
                                               _taken(lon, order), _taken(lat, order),
                                               _taken(alt, order))
        w.is_carried, w.uniques = _taken(is_carried, order), uniques
        w.n_new = int((~w.is_carried).sum())
        w.carried_open = {}
        if tracks.open:
            opened = list(tracks.open)
            where = pd.Index(uniques).get_indexer(pd.Index(opened, dtype=object))
            w.carried_open = {int(c): tracks.open[k] for k, c in zip(opened, where, strict=True)
                              if c >= 0}
        n = len(w.code)
        same_key = np.zeros(n, bool)
        same_key[1:] = w.code[1:] == w.code[:-1]
        gap = np.zeros(n, bool)
        gap[1:] = same_key[1:] & (w.time[1:] - w.time[:-1] > gap_s)
        w.seg_ok = same_key & ~gap
        w.track_start = ~w.seg_ok
        w.seg_start = np.flatnonzero(w.seg_ok[1:])
        w.piece_end_rows = np.flatnonzero(gap[1:])
        w.lon_next = w.lon.copy()
        if n > 1:
            w.lon_next[:-1] = w.lon[:-1] + lon_delta(w.lon[:-1], w.lon[1:])
        w.last_of_key = np.ones(n, bool)
        w.last_of_key[:-1] = ~same_key[1:]
        w.cols = BatchColumns(batch, order if src is None else _taken(src, order))
        w.pending_open = {}
        return w

    def turns(self) -> BatchTurns:
        """The batch's turn table (see :class:`~skyfence.identify.turns.BatchTurns`),
        built when the first run of inside fixes needs it, then shared by every zone."""
        if self._turns is None:
            self._turns = BatchTurns(self.time, *self.cols.speeds_headings(), asked=self.inside)
        return self._turns

    def seg_ok_from(self, rows: np.ndarray) -> np.ndarray:
        """Start rows of the segments that begin or end at ``rows``."""
        before = rows[(rows > 0) & self.seg_ok[rows]] - 1
        nxt = rows[rows + 1 < len(self.seg_ok)]
        after = nxt[self.seg_ok[nxt + 1]]
        return np.union1d(before, after)

    def carry(self, tracks: TrackTable) -> None:
        """Store each track's last fix and its still-open entries for the next batch."""
        rows = np.flatnonzero(self.last_of_key)
        keys = np.asarray(self.uniques, dtype=object)[self.code[rows]]
        tracks.store(keys, np.column_stack([self.time[rows], self.lon[rows], self.lat[rows],
                                            self.alt[rows]]))
        for c in self.carried_open:
            tracks.open.pop(self.uniques[c], None)
        for c, opened in self.pending_open.items():
            if opened:
                tracks.open[self.uniques[c]] = opened


def _track_time_order(code: np.ndarray, time: np.ndarray, is_carried: np.ndarray, *,
                      none_late: bool = False) -> np.ndarray | None:
    """Rows by track code, then time, carried rows first among equals (a stable sort);
    None when they are in that order already.

    Files written track by track in time order (per-aircraft exports) come in that
    order already: with no carried rows, one linear check replaces the sort. A feed's
    batch (rows in time order, tracks interleaved) whose carried rows come first and
    precede every new row of their track (``none_late``: no new row is at or before
    its track's carried row) is in that order once sorted by track alone: a stable
    sort of the codes, a radix sort when they fit in 16 bits (a seventh of the time of
    sorting by three keys).

    >>> new = np.zeros(3, bool)
    >>> print(_track_time_order(np.array([0, 0, 1]), np.array([5.0, 6.0, 1.0]), new))
    None
    >>> _track_time_order(np.array([0, 1, 0]), np.array([5.0, 1.0, 6.0]), new).tolist()
    [0, 2, 1]
    >>> carried = np.array([True, False, False, False])
    >>> _track_time_order(np.array([1, 0, 1, 0]), np.array([2.0, 3.0, 4.0, 5.0]), carried,
    ...                   none_late=True).tolist()
    [1, 3, 0, 2]
    """
    n = len(code)
    if n > 1 and not is_carried.any():
        same = code[1:] == code[:-1]
        if bool(np.all(code[1:] >= code[:-1])) and bool(np.all(time[1:][same] >= time[:-1][same])):
            return None
    if none_late and n > 1:
        nc = int(np.count_nonzero(is_carried))
        if bool(is_carried[:nc].all()) and bool(np.all(time[nc + 1 :] >= time[nc:-1])):
            small = (code.astype(np.uint16) if int(code.min()) >= 0 and int(code.max()) < 1 << 16
                     else code)
            return np.argsort(small, kind="stable")
    return np.lexsort((~is_carried, time, code))


def _taken(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """``values`` in ``order`` (None: as they are)."""
    return values if order is None else values[order]


def _read_only(values: np.ndarray) -> np.ndarray:
    """``values`` (maybe a view of a batch's column) marked read-only, so that no step
    writes through the working arrays into the batch.

    >>> _read_only(np.zeros(2)).flags.writeable
    False
    """
    out = values.view()
    out.flags.writeable = False
    return out


def _narrowed(order: np.ndarray | None, keep: np.ndarray) -> np.ndarray:
    """The rows of ``order`` (None: every row, as it is) that ``keep`` marks."""
    return np.flatnonzero(keep) if order is None else order[keep]


class BatchColumns:
    """Optional columns of a batch, reordered like the detector's working arrays.

    Each column is put in working order once (carried rows hold no value), with what a
    run needs precomputed per row, so that a run's callsign, squawks and speed cost a
    few lookups, not a pass over its rows.
    """

    def __init__(self, batch: pd.DataFrame, src: np.ndarray | None) -> None:
        """``src``: the batch's row of each working row, -1 at carried rows; None when
        the working rows are the batch's own, in its order."""
        self._batch = batch
        self._src = src
        self._rows = len(batch) if src is None else len(src)
        self._cache: dict[str, Any] = {}

    def _work(self, name: str, missing: Any) -> np.ndarray:
        """Column ``name`` in working order, ``missing`` at carried rows (and at every
        row when the batch has no such column: a hand-built batch)."""
        if name not in self._batch.columns:
            out = np.empty(self._rows, dtype=np.float64 if isinstance(missing, float)
                           else object)
            out[:] = missing
            return out
        col = np.asarray(self._batch[name].to_numpy())
        if isinstance(missing, float) and col.dtype.kind != "f":
            col = col.astype(np.float64)
        if self._src is None:
            return _read_only(col)
        out = col[np.maximum(self._src, 0)]
        out[self._src < 0] = missing
        return out

    def _coded(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Column ``name`` as codes in working order (-1: missing, and at carried rows)
        and the values they stand for. The codes are made in the batch's own order (a
        categorical column's own, or ``factorize_runs`` of the objects) and gathered
        into working order as integers: no object array is gathered. A detector given
        only some rows of the batch (the others are another detector's) gathers its
        rows' objects and makes the codes of those alone."""
        if name not in self._batch.columns:
            return np.full(self._rows, -1, np.intp), np.empty(0, object)
        col = self._batch[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = np.asarray(col.cat.codes.to_numpy(), dtype=np.intp)
            uniq = np.asarray(col.cat.categories, dtype=object)
        elif self._src is not None and self._rows < len(self._batch):
            codes, uniq = factorize_runs(col.to_numpy(dtype=object)[np.maximum(self._src, 0)])
            codes[self._src < 0] = -1  # a new array of factorize_runs'
            return codes, uniq
        else:
            codes, uniq = factorize_runs(col.to_numpy(dtype=object))
        if self._src is None:
            return codes, uniq
        if not len(codes):  # only carried rows
            return np.full(self._rows, -1, np.intp), uniq
        codes = codes[np.maximum(self._src, 0)]
        codes[self._src < 0] = -1
        return codes, uniq

    def _callsigns(self) -> tuple[list[str | None], np.ndarray, np.ndarray]:
        got = self._cache.get("callsign")
        if got is None:
            codes, uniq = self._coded("callsign")
            clean = [v.strip() if isinstance(v, str) and v.strip() else None
                     for v in uniq.tolist()]
            has = np.asarray([c is not None for c in clean] + [False])[codes]  # -1: the pad
            last = np.maximum.accumulate(np.where(has, np.arange(len(has)), -1))
            got = self._cache["callsign"] = (clean, codes, last)
        return got

    def last_callsign(self, a: int, b: int) -> str | None:
        """The last non-blank callsign of rows ``a..b`` (stripped)."""
        clean, codes, last = self._callsigns()
        i = int(last[b])
        return clean[codes[i]] if i >= a else None

    def _squawks(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Distinct squawks, each row's code, and how many emergency squawks the rows
        before each row hold (``count[b + 1] - count[a]``: rows ``a..b``)."""
        got = self._cache.get("squawk")
        if got is None:
            codes, uniq = self._coded("squawk")
            values = uniq.tolist()
            emergency = np.asarray([s in EMERGENCY_SQUAWKS for s in values] + [False])
            got = self._cache["squawk"] = (values, codes,
                                           np.concatenate([[0], np.cumsum(emergency[codes])]))
        return got

    def last_callsigns(self, a: np.ndarray, b: np.ndarray) -> list[str | None]:
        """:meth:`last_callsign` of each run ``a[k]..b[k]`` at once."""
        clean, codes, last = self._callsigns()
        if not len(codes):
            return [None] * len(b)
        i = last[b]  # each run's last row with a callsign, -1 when none yet
        held = i >= a
        return [clean[c] if h else None
                for c, h in zip(codes[np.where(held, i, 0)].tolist(), held.tolist(),
                                strict=True)]

    def has_emergency(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each run ``a[k]..b[k]`` holds an emergency squawk (then
        :meth:`emergency_squawks` says which)."""
        _, _, count = self._squawks()
        return np.asarray(count[b + 1] != count[a], dtype=bool)

    def emergency_squawks(self, a: int, b: int) -> list[str]:
        """The emergency squawks among rows ``a..b``, sorted."""
        values, codes, count = self._squawks()
        if count[b + 1] == count[a]:
            return []
        return sorted({values[c] for c in codes[a : b + 1].tolist()
                       if c >= 0 and values[c] in EMERGENCY_SQUAWKS})

    def _float(self, name: str) -> np.ndarray:
        """Float column ``name`` in working order (NaN at carried rows; all NaN when the
        batch has no such column), computed once."""
        v = self._cache.get(name)
        if v is None:
            v = self._cache[name] = self._work(name, np.nan)
        return np.asarray(v)

    def max_speed(self, a: int, b: int) -> float | None:
        """The fastest ground speed of rows ``a..b`` (m/s), None when unknown."""
        return nanmax(self._float("velocity")[a : b + 1])

    def speed_moments(self, a: int, b: int) -> tuple[int, float, float]:
        """Count, sum (m/s) and sum of squares of the known ground speeds of rows
        ``a..b``."""
        if a == b:  # one fix: the usual case of a live feed, without array calls
            x = float(self._float("velocity")[a])
            return (0, 0.0, 0.0) if math.isnan(x) else (1, x, x * x)
        v = self._float("velocity")[a : b + 1]
        v = v[np.isfinite(v)]
        return int(v.size), float(v.sum()), float(np.dot(v, v))

    def speeds_headings(self) -> tuple[np.ndarray, np.ndarray]:
        """Ground speeds (m/s) and headings (deg) of every row (NaN: unknown)."""
        return self._float("velocity"), self._float("heading")

    def sigmas(self) -> np.ndarray | None:
        """Position sigmas of every row (m; NaN: unknown), None when the batch has no
        ``sigma_pos_m`` (transponder data)."""
        if "sigma_pos_m" not in self._cache:
            self._cache["sigma_pos_m"] = (self._work("sigma_pos_m", np.nan)
                                          if "sigma_pos_m" in self._batch.columns else None)
        s = self._cache["sigma_pos_m"]
        return None if s is None else np.asarray(s)

    def min_sigma(self, a: int, b: int) -> float | None:
        """The smallest position sigma of rows ``a..b`` (m), None when the batch has no
        ``sigma_pos_m`` (transponder data) or none is known."""
        s = self.sigmas()
        return None if s is None else nanmin(s[a : b + 1])
