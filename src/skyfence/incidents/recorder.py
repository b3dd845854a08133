"""Keeping the fixes a dossier needs: each incident track's window ± 10 minutes.

A dossier carries the track's observations from 10 minutes before the entry to 10
minutes after the exit (:data:`skyfence.evidence.observations.PAD_S`). A live watcher
does not know which track will enter until it does, so :class:`ObservationRecorder`
keeps the last 10 minutes of every batch in memory (dropped as they age) and, once a
track has an incident, writes its buffered fixes and then its new ones to the store
until 10 minutes after its last exit. Rows are written every
:data:`FLUSH_S` seconds of feed time (or 2,000 rows) in one statement, and on
:meth:`ObservationRecorder.flush`; a fix already stored (a replay after a restart) is
skipped. A crash loses at most the last :data:`FLUSH_S` seconds of fixes.

Memory grows with the feed's rate times 10 minutes: 30 million fixes at a national
feed's 50,000 a second. Batches as the watcher hands them over cost about 160 bytes a
fix (a Python string per address, columns a dossier does not need), so every
:data:`SEGMENT_S` seconds of feed the recent batches are packed into one
:class:`_Segment`: the stored columns only, addresses, callsigns and squawks as
categories (a small integer per fix, each text once per segment): 83 bytes a fix
measured over 6 million fixes of the soak's fleet, against 150 unpacked (resident
memory, the unpacked last 10 s included). A followed track's fixes are found in a
segment by comparing those integers.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import pandas as pd

from skyfence.evidence.observations import PAD_S
from skyfence.incidents.schema import OBSERVATIONS
from skyfence.incidents.store import IncidentStore

__all__ = ["ObservationRecorder", "read_observations"]

#: feed seconds between writes of the fixes of followed tracks
FLUSH_S = 10.0
FLUSH_ROWS = 2000
#: feed seconds of recent batches packed into one segment
SEGMENT_S = 10.0

_COLUMNS = ("time", "lat", "lon", "altitude", "velocity", "heading", "vertrate", "callsign",
            "squawk", "onground")


class _Segment:
    """Consecutive batches packed (see the module docstring): one frame, and where each
    batch begins in it and its newest fix's time (a batch ages out as a whole)."""

    def __init__(self, batches: list[tuple[float, pd.DataFrame]]) -> None:
        frames = [b for _, b in batches]
        cols = ["icao24", *(c for c in _COLUMNS if all(c in f.columns for f in frames))]
        packed = pd.concat([f[cols] for f in frames], ignore_index=True)
        for c in ("icao24", "callsign", "squawk"):
            if c in packed:
                packed[c] = packed[c].astype("category")
        self.frame = packed
        self.ends = np.array([t for t, _ in batches], dtype=np.float64)
        self.starts = np.cumsum([0, *(len(f) for f in frames)])

    @property
    def newest(self) -> float:
        return float(self.ends[-1])

    def fixes_of(self, track: str, since: float) -> pd.DataFrame:
        """``track``'s fixes in the batches whose newest fix is at ``since`` or later."""
        f = self.frame
        ids = f["icao24"]
        if track not in ids.cat.categories:
            return f.iloc[:0]
        young = np.repeat(self.ends >= since, np.diff(self.starts))
        return f.loc[(ids == track).to_numpy() & young]


class ObservationRecorder:
    """Buffers recent fixes and stores those of incident tracks (see the module docstring)."""

    def __init__(self, store: IncidentStore, pad_s: float = PAD_S) -> None:
        self.store = store
        self.pad_s = pad_s
        #: batches not yet packed, oldest first (newest fix's time, batch)
        self._recent: deque[tuple[float, pd.DataFrame]] = deque()
        self._segments: deque[_Segment] = deque()
        self._since = -np.inf
        #: track -> feed time until which its fixes are stored (inf: inside now)
        self._until: dict[str, float] = {}
        self._pending: list[pd.DataFrame] = []
        self._pending_rows = 0
        self._flushed_at = -np.inf
        self.rows_stored = 0

    def follow(self, track: str, until: float) -> None:
        """Store ``track``'s fixes up to ``until`` (feed time; a later call moves it, also
        earlier: an exit ends what an entry's ``inf`` began); on first call, also the
        buffered ones (the 10 minutes before)."""
        first = track not in self._until
        self._until[track] = until
        if first:
            for seg in self._segments:
                self._hold(seg.fixes_of(track, self._since))
            for _, f in self._recent:
                self._hold(f.loc[f["icao24"].to_numpy(object) == track])

    def add(self, batch: pd.DataFrame | None, now: float, *, write: bool = True) -> None:
        """One watcher batch: buffer it, store the fixes of followed tracks (up to each
        track's ``until``); ``write=False`` only holds them (:meth:`write_due` writes)."""
        if batch is not None and len(batch):
            self._recent.append((float(batch["time"].max()), batch))
            if self._until:
                ids = batch["icao24"].to_numpy(object)
                limit = pd.Series(self._until, dtype=np.float64).reindex(ids).to_numpy()
                hit = batch["time"].to_numpy(np.float64) <= limit  # NaN: not followed
                if hit.any():
                    self._hold(batch.loc[hit])
        self._since = now - self.pad_s
        while self._segments and self._segments[0].newest < self._since:
            self._segments.popleft()
        while not self._segments and self._recent and self._recent[0][0] < self._since:
            self._recent.popleft()
        if self._recent and self._recent[-1][0] - self._recent[0][0] >= SEGMENT_S:
            self._segments.append(_Segment(list(self._recent)))
            self._recent.clear()
        for t in [t for t, u in self._until.items() if u < now]:
            del self._until[t]
        if write:
            self.write_due(now)

    def write_due(self, now: float) -> None:
        """Write the held fixes when enough are held or the last write is ``FLUSH_S``
        old (feed time ``now``). A refused write stays due (the journal's retry writes)."""
        if self._pending_rows >= FLUSH_ROWS or (self._pending and
                                                now - self._flushed_at >= FLUSH_S):
            self.flush()
            self._flushed_at = now

    def _hold(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self._pending.append(frame)
            self._pending_rows += len(frame)

    def flush(self) -> None:
        """Write the fixes held so far (kept held if the write fails: a later flush
        writes them; a fix already stored is skipped)."""
        if not self._pending:
            return
        rows = _rows(self._pending)
        with self.store.transaction() as conn:  # on failure the fixes stay held
            self.rows_stored += self.store.insert_new(conn, OBSERVATIONS, rows)
        self._pending, self._pending_rows = [], 0


def _rows(frames: list[pd.DataFrame]) -> list[dict[str, Any]]:
    """Observation rows as the table stores them (NaN and empty strings as NULL)."""
    n = sum(len(f) for f in frames)

    def column(c: str) -> np.ndarray:
        return np.concatenate([f[c].to_numpy() for f in frames])

    out: dict[str, list[Any]] = {"track": [str(v) for v in column("icao24").tolist()]}
    for c in _COLUMNS:
        if any(c not in f.columns for f in frames):
            out[c] = [None] * n
            continue
        col = column(c)
        if col.dtype.kind == "f":
            out[c] = [None if v != v else float(v) for v in col.tolist()]
        elif c == "onground":
            out[c] = [None if v is None else bool(v) for v in col.tolist()]
        else:
            out[c] = [v if isinstance(v, str) and v else None for v in col.tolist()]
    keys = list(out)
    return [dict(zip(keys, vals, strict=True)) for vals in zip(*out.values(), strict=True)]


def read_observations(store: IncidentStore, track: str, start: float, end: float
                      ) -> pd.DataFrame:
    """The stored fixes of ``track`` within ``[start, end]``, as an observation batch."""
    import sqlalchemy as sa

    from skyfence.model import make_observations

    q = (sa.select(OBSERVATIONS)
         .where(OBSERVATIONS.c.track == track, OBSERVATIONS.c.time >= start,
                OBSERVATIONS.c.time <= end)
         .order_by(OBSERVATIONS.c.time))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    if not rows:
        from skyfence.model import empty_observations

        return empty_observations()

    def col(name: str) -> list[Any]:
        return [getattr(r, name) for r in rows]

    def num(name: str) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in col(name)], dtype=np.float64)

    return make_observations(
        time=num("time"), icao24=[track] * len(rows), lat=num("lat"), lon=num("lon"),
        altitude=num("altitude"), velocity=num("velocity"), heading=num("heading"),
        vertrate=num("vertrate"), callsign=col("callsign"), squawk=col("squawk"),
        onground=[bool(v) for v in col("onground")])
