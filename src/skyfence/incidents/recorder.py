"""Keeping the fixes a dossier needs: each incident track's window ± 10 minutes.

A dossier carries the track's observations from 10 minutes before the entry to 10
minutes after the exit (:data:`skyfence.evidence.observations.PAD_S`). A live watcher
does not know which track will enter until it does, so :class:`ObservationRecorder`
keeps the last 10 minutes of every batch in memory (a queue of batches, dropped as they
age: memory grows with the feed's rate times 10 minutes, about 60 MB at 1,000
positions/s) and, once a track has an incident, writes its buffered fixes and then its
new ones to the store until 10 minutes after its last exit. Rows are inserted in one
statement per batch; a fix already stored (a replay after a restart) is skipped.
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

_COLUMNS = ("time", "lat", "lon", "altitude", "velocity", "heading", "vertrate", "callsign",
            "squawk", "onground")


class ObservationRecorder:
    """Buffers recent fixes and stores those of incident tracks (see the module docstring)."""

    def __init__(self, store: IncidentStore, pad_s: float = PAD_S) -> None:
        self.store = store
        self.pad_s = pad_s
        self._recent: deque[tuple[float, pd.DataFrame]] = deque()
        #: track -> feed time until which its fixes are stored (inf: inside now)
        self._until: dict[str, float] = {}
        self.rows_stored = 0

    def follow(self, track: str, until: float) -> None:
        """Store ``track``'s fixes up to ``until`` (feed time); on first call, also the
        buffered ones (the 10 minutes before)."""
        first = track not in self._until
        self._until[track] = max(self._until.get(track, -np.inf), until)
        if first and self._recent:
            frames = [f.loc[f["icao24"].to_numpy(object) == track] for _, f in self._recent]
            self._write(pd.concat([f for f in frames if len(f)] or [frames[0].iloc[:0]]))

    def add(self, batch: pd.DataFrame | None, now: float) -> None:
        """One watcher batch: buffer it, store the fixes of followed tracks."""
        while self._recent and self._recent[0][0] < now - self.pad_s:
            self._recent.popleft()
        for t in [t for t, u in self._until.items() if u < now]:
            del self._until[t]
        if batch is None or not len(batch):
            return
        self._recent.append((float(batch["time"].max()), batch))
        if self._until:
            ids = batch["icao24"].to_numpy(object)
            hit = np.isin(ids, list(self._until))
            if hit.any():
                self._write(batch.loc[hit])

    def _write(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        rows = _rows(frame)
        with self.store.transaction() as conn:
            self.rows_stored += self.store.insert_new(conn, OBSERVATIONS, rows)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Observation rows as the table stores them (NaN and empty strings as NULL)."""
    out: dict[str, list[Any]] = {"track": frame["icao24"].astype(str).tolist()}
    for c in _COLUMNS:
        if c not in frame.columns:
            out[c] = [None] * len(frame)
            continue
        col = frame[c].to_numpy()
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
