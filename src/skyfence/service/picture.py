"""The current air picture: the latest fix of every track, a short trail, and what
the incidents say about it, pushed to browsers at a bounded rate.

:meth:`Picture.update` takes each batch the detector screens (transponder fixes and
fused radar tracks alike: :attr:`skyfence.pipeline.Pipeline.taps`), in the pipeline's
thread. The work is columnar: the batch is ordered by time once and the last row of
each track picked with one ``drop_duplicates``; Python then touches one dictionary item
per track of the batch, never one per fix. :meth:`Picture.tick` (the web server's
thread, ``push_hz`` times a second) returns the tracks that changed since the last
tick and those that went silent, so that however fast a track reports, a browser gets
it at most ``push_hz`` times a second.

:meth:`Picture.incident_event` follows the incident events: a track with an entry
open is marked with the event's severity and category until its exit.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Any

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


def _num(v: Any) -> float | None:
    f = float(v)
    return None if math.isnan(f) else round(f, 6)


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


class Picture:
    """Latest fix per track (see the module docstring).

    Parameters
    ----------
    forget_after_s
        A track with no fix for this long (data time) leaves the picture.
    trail_s
        Length of the trail kept per track (data seconds; 0: no trail).

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
        self._tracks: dict[str, TrackView] = {}
        self._trails: dict[str, deque[tuple[float, float, float]]] = {}
        self._changed: set[str] = set()
        self._marks: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._last_prune = -math.inf
        self.updates = 0

    def __len__(self) -> int:
        return len(self._tracks)

    # ------------------------------------------------------------- pipeline side
    def update(self, batch: pd.DataFrame) -> None:
        """Take the latest fix of each track of ``batch`` (any row order)."""
        if len(batch) == 0:
            return
        from skyfence.fusion.correlator import is_transponder_id

        t = batch["time"].to_numpy(np.float64)
        order = np.argsort(t, kind="stable")
        ids = batch["icao24"].to_numpy(object)[order]
        last = pd.Series(ids).drop_duplicates(keep="last").index.to_numpy()
        rows = order[last]

        def col(name: str, kind: str = "f") -> np.ndarray:
            if name not in batch:
                return np.full(len(rows), np.nan if kind == "f" else None, dtype=object
                               if kind != "f" else np.float64)
            return batch[name].to_numpy()[rows]

        tt, lat, lon = t[rows], col("lat"), col("lon")
        alt, vel, hdg, vr = col("altitude"), col("velocity"), col("heading"), col("vertrate")
        cs, sq = col("callsign", "o"), col("squawk", "o")
        coop = is_transponder_id(ids[last])
        tracks = [str(x) for x in ids[last]]
        with self._lock:
            self.updates += len(batch)
            self.now = max(self.now, float(tt.max()))
            for i, tid in enumerate(tracks):
                prev = self._tracks.get(tid)
                if prev is not None and prev["time"] > tt[i]:
                    continue
                mark = self._marks.get(tid, {})
                view: TrackView = {
                    "id": tid, "time": round(float(tt[i]), 3), "lat": round(float(lat[i]), 6),
                    "lon": round(float(lon[i]), 6), "altitude_m": _num(alt[i]),
                    "speed_ms": _num(vel[i]), "heading_deg": _num(hdg[i]),
                    "vertrate_ms": _num(vr[i]),
                    "callsign": _text(cs[i]) or (prev["callsign"] if prev else None),
                    "squawk": _text(sq[i]) or (prev["squawk"] if prev else None),
                    "cooperative": bool(coop[i]), "severity": mark.get("severity"),
                    "category": mark.get("category"), "zone": mark.get("zone"),
                    "incident": mark.get("incident"), "trail": []}
                if view["heading_deg"] is None and prev is not None:
                    view["heading_deg"] = _bearing(prev, view)
                self._tracks[tid] = view
                self._add_trail(tid, float(tt[i]), view["lon"], view["lat"])
                self._changed.add(tid)

    def _add_trail(self, tid: str, t: float, lon: float, lat: float) -> None:
        if self.trail_s <= 0:
            return
        trail = self._trails.setdefault(tid, deque())
        if trail and t - trail[-1][0] < TRAIL_STEP_S:
            return
        trail.append((t, lon, lat))
        while trail and trail[0][0] < t - self.trail_s:
            trail.popleft()

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
            view = self._tracks.get(track)
            if view is not None:
                mark = self._marks.get(track, {})
                for k in ("severity", "category", "zone", "incident"):
                    view[k] = mark.get(k)
                self._changed.add(track)

    # ------------------------------------------------------------- server side
    def tick(self) -> tuple[list[TrackView], list[str]]:
        """``(tracks changed since the last tick, ids of tracks that left)``; the tracks
        without their trails (a client extends the trail it got in the snapshot)."""
        with self._lock:
            gone = self._prune()
            changed = [self._tracks[k] for k in sorted(self._changed) if k in self._tracks]
            self._changed.clear()
        return changed, gone

    def snapshot(self) -> list[TrackView]:
        """Every track now (a client's first picture)."""
        with self._lock:
            return [self._with_trail(v) for _, v in sorted(self._tracks.items())]

    def _with_trail(self, view: TrackView) -> TrackView:
        trail = self._trails.get(view["id"])
        out = dict(view)
        out["trail"] = [[lo, la] for _, lo, la in trail] if trail else []
        return out  # type: ignore[return-value]

    def _prune(self) -> list[str]:
        """Forget tracks silent for ``forget_after_s`` (checked once a data second)."""
        if self.now - self._last_prune < 1.0:
            return []
        self._last_prune = self.now
        cutoff = self.now - self.forget_after_s
        gone = [k for k, v in self._tracks.items() if v["time"] < cutoff]
        for k in gone:
            del self._tracks[k]
            self._trails.pop(k, None)
            self._changed.discard(k)
        return gone


def _bearing(a: TrackView, b: TrackView) -> float | None:
    """Initial bearing from ``a`` to ``b`` in degrees (radar tracks without a heading).

    Spherical formula: heading to draw a symbol, not a measurement.
    """
    if (a["lat"], a["lon"]) == (b["lat"], b["lon"]):
        return a["heading_deg"]
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dl = math.radians(b["lon"] - a["lon"])
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return round((math.degrees(math.atan2(y, x)) + 360.0) % 360.0, 1)
