"""The current air picture: the latest fix of every track, a short trail, and what
the incidents say about it, pushed to browsers at a bounded rate.

:meth:`Picture.update` takes each batch the detector screens (transponder fixes and
fused radar tracks alike: :attr:`skyfence.pipeline.Pipeline.taps`), in the pipeline's
thread. The work is columnar: the batch is ordered by time once and the last row of
each track picked with one ``drop_duplicates``; the picture is one table, a row per
track, merged with those rows in whole columns (at 50,000 positions a second every
track is in every batch: a Python step per track would be a step per fix).
:meth:`Picture.tick_rows` (the web server's thread, ``push_hz`` times a second) gives
the tracks that changed since the last tick, as the rows a push carries, and those that
went silent, so that however fast a track reports, a browser gets it at most
``push_hz`` times a second.

:meth:`Picture.incident_event` follows the incident events: a track with an entry
open is marked with the event's severity and category until its exit.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Any, cast

import numpy as np
import pandas as pd
from typing_extensions import TypedDict  # pydantic reads it on Python 3.11

__all__ = ["Picture", "TrackView"]

#: the trail keeps a point at most this often (data seconds)
TRAIL_STEP_S = 4.0


class TrackView(TypedDict):
    """One track as the map and the track table show it."""

    id: str
    time: float
    lat: float
    lon: float
    altitude_m: float | None
    speed_ms: float | None
    heading_deg: float | None
    vertrate_ms: float | None
    callsign: str | None
    squawk: str | None
    cooperative: bool
    #: severity of the track's open incident entry (None: none open)
    severity: str | None
    category: str | None
    zone: str | None
    incident: str | None
    #: [[lon, lat], ...] oldest first, the last ``trail_s`` seconds
    trail: list[list[float]]


_NUMBERS = ("altitude_m", "speed_ms", "heading_deg", "vertrate_ms")
_MARKS = ("severity", "category", "zone", "incident")
#: the latest fix of each track, one row per track (index: the track id)
_COLUMNS = ("time", "lat", "lon", *_NUMBERS, "callsign", "squawk", "cooperative", *_MARKS)
#: the columns of a pushed row (``tracks`` messages), in order
ROW_COLUMNS = ("id", "time", "lat", "lon", "altitude_m", "speed_ms", "heading_deg",
               "callsign", "squawk", "cooperative", "severity", "category", "zone",
               "incident")


class Picture:
    """Latest fix per track (see the module docstring).

    Parameters
    ----------
    forget_after_s
        A track with no fix for this long (data time) leaves the picture.
    trail_s
        Length of the trail kept per track (data seconds; 0: no trail): its points no
        older than ``trail_s`` before the picture's ``now`` (a silent track's trail
        fades).

    Examples
    --------
    >>> from skyfence.model import make_observations
    >>> pic = Picture()
    >>> pic.update(make_observations(time=[0.0, 5.0, 2.0], icao24=["4ca1f3", "4ca1f3", "x1"],
    ...                              lat=[53.0, 53.1, 50.0], lon=[-6.0, -6.1, 1.0]))
    >>> changed, gone = pic.tick()
    >>> [(t["id"], t["lat"]) for t in changed], gone
    ([('4ca1f3', 53.1), ('x1', 50.0)], [])
    >>> pic.tick()  # nothing new
    ([], [])
    """

    def __init__(self, forget_after_s: float = 300.0, trail_s: float = 120.0) -> None:
        self.forget_after_s = forget_after_s
        self.trail_s = trail_s
        self.now = -math.inf
        #: the picture as a table: a slot per track, the same slot in every column
        self._ids = pd.Index([], dtype=object)
        self._cols: dict[str, np.ndarray] = {
            c: np.empty(0, dtype=_DTYPES.get(c, np.float64)) for c in (*_COLUMNS, "trail_t")}
        self._dirty = np.zeros(0, dtype=bool)
        #: trail points (ids, time, lon, lat), one group per batch, oldest first
        self._trail: deque[tuple[np.ndarray, ...]] = deque()
        self._marks: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._last_prune = -math.inf
        self.updates = 0

    def __len__(self) -> int:
        return len(self._ids)

    # ------------------------------------------------------------- pipeline side
    def update(self, batch: pd.DataFrame) -> None:
        """Take the latest fix of each track of ``batch`` (any row order): a fix older
        than the one held is ignored; a fix without callsign or squawk keeps the
        track's; a fix without heading gets the bearing from the track's previous fix."""
        if len(batch) == 0:
            return
        new = _latest_of(batch)
        with self._lock:
            self.updates += len(batch)
            self.now = max(self.now, float(new["time"].max()))
            self._merge(new)

    def _merge(self, new: pd.DataFrame) -> None:
        cols = self._cols
        slot = self._ids.get_indexer(new.index)
        held = slot >= 0
        t = new["time"].to_numpy()
        before = np.full(len(t), np.nan)
        before[held] = cols["time"][slot[held]]
        fresh = ~(before > t)  # NaN: a new track
        if not fresh.all():
            new, slot, held, t = new[fresh], slot[fresh], held[fresh], t[fresh]
        if not len(new):
            return
        at = slot[held]
        vals = {c: new[c].to_numpy() for c in _COLUMNS if c in new}
        for c in ("callsign", "squawk"):
            v = vals[c].copy()
            keep = held & pd.isna(v)
            v[keep] = cols[c][slot[keep]]
            vals[c] = v
        hdg = vals["heading_deg"]
        guess = np.isnan(hdg) & held
        if guess.any():
            g = slot[guess]
            hdg = hdg.copy()
            hdg[guess] = _bearings(cols["lat"][g], cols["lon"][g], cols["heading_deg"][g],
                                   vals["lat"][guess], vals["lon"][guess])
            vals["heading_deg"] = hdg
        for c in _MARKS:
            vals[c] = np.full(len(new), None, dtype=object)
        if self._marks:
            marked = list(self._marks)
            at_new = new.index.get_indexer(pd.Index(marked, dtype=object))
            for tid, k in zip(marked, at_new, strict=True):
                for c in _MARKS if k >= 0 else ():
                    vals[c][k] = self._marks[tid].get(c)
        # trail: a point when the track's last one is TRAIL_STEP_S old (or it has none)
        last = np.full(len(new), np.nan)
        last[held] = cols["trail_t"][at]
        due = ~(t - last < TRAIL_STEP_S) if self.trail_s > 0 else np.zeros(len(new), bool)
        vals["trail_t"] = np.where(due, t, last)
        for c, v in vals.items():
            cols[c][at] = v[held]
        if not held.all():
            fresh_ids = new.index[~held]
            self._ids = self._ids.append(pd.Index(fresh_ids, dtype=object))
            for c, v in vals.items():
                cols[c] = np.concatenate([cols[c], v[~held].astype(cols[c].dtype)])
            self._dirty = np.concatenate([self._dirty, np.zeros(len(fresh_ids), bool)])
        self._dirty[self._ids.get_indexer(new.index)] = True
        if due.any():
            self._trail.append((new.index.to_numpy(object)[due], t[due], vals["lon"][due],
                                vals["lat"][due]))
        cutoff = self.now - self.trail_s
        while self._trail and float(self._trail[0][1].max()) < cutoff:
            self._trail.popleft()

    def incident_event(self, event: dict[str, Any]) -> None:
        """Mark (or unmark) a track from an incident event."""
        kind = event.get("event")
        track = event.get("track")
        if not isinstance(track, str) or kind not in ("entry", "update", "exit", "open"):
            return
        with self._lock:
            if kind in ("entry", "update", "open"):  # open: still inside when data ended
                self._marks[track] = {
                    "severity": event.get("severity"),
                    "category": (event.get("classification") or {}).get("category"),
                    "zone": event.get("zone"),
                    "incident": (event.get("incident") or {}).get("id")}
            else:
                self._marks.pop(track, None)
            k = self._ids.get_indexer(pd.Index([track], dtype=object))[0]
            if k >= 0:
                mark = self._marks.get(track, {})
                for c in _MARKS:
                    self._cols[c][k] = mark.get(c)
                self._dirty[k] = True

    # ------------------------------------------------------------- server side
    def tick(self) -> tuple[list[TrackView], list[str]]:
        """``(tracks changed since the last tick, ids of tracks that left)``; the tracks
        without their trails (a client extends the trail it got in the snapshot)."""
        changed, gone = self._tick()
        return _views(changed), gone

    def tick_rows(self) -> tuple[list[tuple[Any, ...]], list[str]]:
        """:meth:`tick` as the rows of :data:`ROW_COLUMNS` a ``tracks`` message carries,
        made column by column (at a national feed's rate, tens of thousands of tracks
        change between two pushes)."""
        changed, gone = self._tick()
        return _rows(changed), gone

    def _tick(self) -> tuple[pd.DataFrame, list[str]]:
        with self._lock:
            gone = self._prune()
            slots = np.flatnonzero(self._dirty)
            self._dirty[:] = False
            return self._frame(slots), gone

    def _frame(self, slots: np.ndarray) -> pd.DataFrame:
        """The tracks in ``slots`` as a table ordered by id (a copy)."""
        f = pd.DataFrame({c: self._cols[c][slots] for c in _COLUMNS},
                         index=pd.Index(self._ids.to_numpy(object)[slots], dtype=object))
        return f.sort_index()

    def snapshot(self) -> list[TrackView]:
        """Every track now, with its trail (a client's first picture)."""
        with self._lock:
            latest = self._frame(np.arange(len(self._ids)))
            trails = self._trails(latest)
        views = _views(latest)
        for v in views:
            v["trail"] = trails.get(v["id"], [])
        return views

    def squawking(self, codes: Any) -> set[str]:
        """Ids of the tracks whose squawk is one of ``codes`` now."""
        with self._lock:
            hit = pd.Series(self._cols["squawk"]).isin(list(codes)).to_numpy()
            return {str(x) for x in self._ids[hit]}

    def _trails(self, latest: pd.DataFrame) -> dict[str, list[list[float]]]:
        """Each track's trail points, oldest first, no older than ``trail_s`` before
        ``now``."""
        if not self._trail or self.trail_s <= 0:
            return {}
        ids, t, lon, lat = (np.concatenate(a) for a in zip(*self._trail, strict=True))
        keep = (t >= self.now - self.trail_s) & pd.Index(ids).isin(latest.index)
        ids, t, lon, lat = ids[keep], t[keep], lon[keep], lat[keep]
        if not len(ids):
            return {}
        order = np.lexsort((t, ids.astype(str)))
        ids, xy = ids[order], np.column_stack([lon[order], lat[order]]).tolist()
        cut = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        starts = np.concatenate([[0], cut]).tolist()
        ends = np.concatenate([cut, [len(ids)]]).tolist()
        return {str(ids[a]): xy[a:b] for a, b in zip(starts, ends, strict=True)}

    def _prune(self) -> list[str]:
        """Forget tracks silent for ``forget_after_s`` (checked once a data second)."""
        if self.now - self._last_prune < 1.0:
            return []
        self._last_prune = self.now
        old = self._cols["time"] < self.now - self.forget_after_s
        if not old.any():
            return []
        gone = sorted(str(k) for k in self._ids[old])
        self._ids = self._ids[~old]
        self._cols = {c: v[~old] for c, v in self._cols.items()}
        self._dirty = self._dirty[~old]
        # their points too: a track heard again later starts a new trail
        left = pd.Index(gone, dtype=object)
        kept = (tuple(a[~pd.Index(g[0]).isin(left)] for a in g) for g in self._trail)
        self._trail = deque(g for g in kept if len(g[0]))
        return gone


_DTYPES: dict[str, Any] = {"callsign": object, "squawk": object, "cooperative": bool,
                           **{c: object for c in _MARKS}}


def _latest_of(batch: pd.DataFrame) -> pd.DataFrame:
    """The last fix of each track of ``batch`` (by time; ties: the later row), as picture
    rows: numbers rounded as the views show them, texts stripped (empty: missing)."""
    from skyfence.fusion.correlator import is_transponder_id

    t = batch["time"].to_numpy(np.float64)
    order = np.argsort(t, kind="stable")
    ids = batch["icao24"].to_numpy(object)[order]
    last = pd.Series(ids).drop_duplicates(keep="last").index.to_numpy()
    rows = order[last]
    n = len(rows)

    def num(name: str, nd: int) -> np.ndarray:
        if name not in batch:
            return np.full(n, np.nan)
        return np.round(batch[name].to_numpy(np.float64)[rows], nd)

    def text(name: str) -> np.ndarray:
        if name not in batch:
            return np.full(n, None, dtype=object)
        v = pd.Series(batch[name].to_numpy(object)[rows], dtype=object)
        given = v.notna().to_numpy()
        out = np.full(n, None, dtype=object)
        if given.any():
            s = v[given].astype(str).str.strip()
            out[given] = s.where(s != "", None).to_numpy(object)
        return out

    tid = np.array([str(x) for x in ids[last]], dtype=object)
    out = pd.DataFrame({
        "time": np.round(t[rows], 3), "lat": num("lat", 6), "lon": num("lon", 6),
        "altitude_m": num("altitude", 6), "speed_ms": num("velocity", 6),
        "heading_deg": num("heading", 6), "vertrate_ms": num("vertrate", 6),
        "callsign": text("callsign"), "squawk": text("squawk"),
        "cooperative": is_transponder_id(ids[last])}, index=pd.Index(tid, dtype=object))
    return out


def _objects(a: np.ndarray) -> np.ndarray:
    """An object column with every missing value (NaN, None) as None."""
    out = np.asarray(a, dtype=object).copy()
    out[pd.isna(out)] = None
    return out


def _nones(a: np.ndarray) -> list[Any]:
    """Floats as a list, NaN as None (JSON null: missing, not zero)."""
    out: list[Any] = a.tolist()
    for i in np.flatnonzero(np.isnan(a)).tolist():
        out[i] = None
    return out


def _views(f: pd.DataFrame) -> list[TrackView]:
    """Picture rows as :class:`TrackView` dictionaries (trails empty)."""
    if not len(f):
        return []
    cols: dict[str, list[Any]] = {"id": [str(x) for x in f.index]}
    for c in _COLUMNS:
        a = f[c].to_numpy()
        cols[c] = (_nones(a.astype(np.float64)) if c in ("time", "lat", "lon", *_NUMBERS)
                   else [bool(x) for x in a] if c == "cooperative"
                   else _objects(a).tolist())
    keys = list(cols)
    return [cast(TrackView, {**dict(zip(keys, vals, strict=True)), "trail": []})
            for vals in zip(*cols.values(), strict=True)]


def _rows(f: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Picture rows as pushed rows: time to 0.1 s, positions to 1e-5 degree (about a
    metre), altitude to 1 m, speed to 0.1 m/s, heading to 1 degree, the cooperative
    flag as 0/1 (the bytes of a push to hundreds of clients are what it costs)."""
    if not len(f):
        return []

    def r(c: str, nd: int) -> list[Any]:
        return _nones(np.round(f[c].to_numpy(np.float64), nd))

    return list(zip(
        [str(x) for x in f.index], r("time", 1), r("lat", 5), r("lon", 5),
        r("altitude_m", 0), r("speed_ms", 1), r("heading_deg", 0),
        _objects(f["callsign"].to_numpy()).tolist(), _objects(f["squawk"].to_numpy()).tolist(),
        f["cooperative"].to_numpy(bool).astype(int).tolist(),
        *(_objects(f[c].to_numpy()).tolist() for c in _MARKS), strict=True))


def _bearings(lat1: np.ndarray, lon1: np.ndarray, hdg1: np.ndarray, lat2: np.ndarray,
              lon2: np.ndarray) -> np.ndarray:
    """Initial bearing from each fix 1 to the same track's fix 2 (degrees, 0.1); where
    the position did not change, heading 1.

    Spherical formula: heading to draw a symbol, not a measurement.

    >>> _bearings(np.zeros(2), np.zeros(2), np.array([np.nan, 45.0]), np.array([1.0, 0.0]),
    ...           np.zeros(2)).tolist()
    [0.0, 45.0]
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    out = np.round((np.degrees(np.arctan2(y, x)) + 360.0) % 360.0, 1)
    return np.where((lat1 == lat2) & (lon1 == lon2), hdg1, out)
