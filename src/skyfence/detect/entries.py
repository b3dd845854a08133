"""Entries into zones, found incrementally from batches of observations.

:class:`EntryDetector` keeps, per track, the last fix and the entries still open, so
the same code serves a one-shot scan (one batch, then :meth:`EntryDetector.close`), an
out-of-core scan (many time-ordered chunks) and a live feed (small batches as they
arrive). Work inside a batch is columnar; Python loops run per entry, not per fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.zones import Zone
from skyfence.detect.crossings import segment_transitions
from skyfence.model import Entry

EMERGENCY_SQUAWKS = ("7500", "7600", "7700")


@dataclass
class DetectorConfig:
    """How tracks are cut and which events are produced."""

    #: split a track where two consecutive fixes are further apart than this (s)
    gap_s: float = 300.0
    #: keep the inside path of each entry (for GeoJSON output and dossiers)
    keep_path: bool = False
    #: emit ``update`` events when depth or altitude range changes (live use)
    updates: bool = False


@dataclass
class EntryEvent:
    """Something that happened to an entry: ``entry``, ``update``, ``exit`` or ``open``."""

    kind: str
    entry: Entry
    #: wall-clock-free position in the data: the time of the fix that caused it
    at: float


@dataclass
class _Open:
    """Accumulator of an entry that has not ended yet."""

    entry: Entry


@dataclass
class _TrackState:
    """What a track carries from one batch to the next."""

    time: float
    lon: float
    lat: float
    alt: float
    open: dict[int, _Open] = field(default_factory=dict)


def _nanmin(a: np.ndarray) -> float | None:
    a = a[~np.isnan(a)]
    return float(a.min()) if len(a) else None


def _nanmax(a: np.ndarray) -> float | None:
    a = a[~np.isnan(a)]
    return float(a.max()) if len(a) else None


class EntryDetector:
    """Find entries of tracks into zones, batch after batch.

    Parameters
    ----------
    zones
        The zones to watch.
    config
        Track splitting and event options.

    Examples
    --------
    >>> from skyfence.airspace.zones import circle_zone
    >>> from skyfence.model import make_observations
    >>> det = EntryDetector([circle_zone("X", 0.0, 0.0, 10.0)])
    >>> obs = make_observations(time=[0.0, 60.0], icao24=["abc123"] * 2,
    ...                         lat=[0.0, 0.0], lon=[-0.2, 0.2])
    >>> [e.kind for e in det.process(obs) + det.close()]
    ['entry', 'exit']
    """

    def __init__(self, zones: Sequence[Zone], config: DetectorConfig | None = None) -> None:
        self.zones = list(zones)
        self.config = config or DetectorConfig()
        self._boundaries: dict[int, Boundary] = {}
        self._tracks: dict[str, _TrackState] = {}
        #: rows dropped because they were older than, or as old as, the track's last fix
        self.dropped_out_of_order = 0
        self.positions = 0

    def boundary(self, zi: int) -> Boundary:
        """The boundary segments of zone ``zi`` (built on first use)."""
        b = self._boundaries.get(zi)
        if b is None:
            b = self._boundaries[zi] = Boundary(self.zones[zi].geometry)
        return b

    @property
    def open_entries(self) -> list[Entry]:
        """Entries currently open, in track order."""
        return [o.entry for t in self._tracks.values() for o in t.open.values()]

    # ------------------------------------------------------------------ batches
    def process(self, batch: pd.DataFrame) -> list[EntryEvent]:
        """Consume one batch of observations; return the events it caused, in time order."""
        if len(batch) == 0:
            return []
        keys_new = batch["icao24"].to_numpy(dtype=object)
        codes_new, uniques = pd.factorize(keys_new)
        n_new = len(codes_new)
        carried = [(c, self._tracks[k]) for c, k in enumerate(uniques) if k in self._tracks]
        nc = len(carried)
        code = np.concatenate([np.asarray([c for c, _ in carried], np.intp), codes_new])
        time = np.concatenate(
            [np.asarray([s.time for _, s in carried]), batch["time"].to_numpy(np.float64)]
        )
        lon = np.concatenate(
            [np.asarray([s.lon for _, s in carried]), batch["lon"].to_numpy(np.float64)]
        )
        lat = np.concatenate(
            [np.asarray([s.lat for _, s in carried]), batch["lat"].to_numpy(np.float64)]
        )
        alt = np.concatenate(
            [np.asarray([s.alt for _, s in carried]), batch["altitude"].to_numpy(np.float64)]
        )
        is_carried = np.concatenate([np.ones(nc, bool), np.zeros(n_new, bool)])
        src = np.concatenate([np.full(nc, -1, np.intp), np.arange(n_new)])
        # a fix not newer than what its track already had is late or a duplicate: drop it
        last_seen = np.full(len(uniques), -np.inf)
        last_seen[code[:nc]] = time[:nc]
        late = ~is_carried & (time <= last_seen[code])
        order = np.lexsort((~is_carried, time, code))
        order = order[~late[order]]
        code, time, lon, lat, alt = code[order], time[order], lon[order], lat[order], alt[order]
        is_carried, src = is_carried[order], src[order]
        same = np.zeros(len(code), bool)
        same[1:] = code[1:] == code[:-1]
        dup = same & np.concatenate([[False], time[1:] == time[:-1]])
        self.dropped_out_of_order += int(late.sum() + dup.sum())
        if dup.any():
            keep = ~dup
            code, time, lon, lat, alt = code[keep], time[keep], lon[keep], lat[keep], alt[keep]
            is_carried, src, same = is_carried[keep], src[keep], same[keep]
        self.positions += int((~is_carried).sum())
        gap = np.zeros(len(code), bool)
        gap[1:] = same[1:] & (time[1:] - time[:-1] > self.config.gap_s)
        seg_ok = np.zeros(len(code), bool)  # segment (i-1 -> i) exists
        seg_ok[1:] = same[1:] & ~gap[1:]
        track_start = ~seg_ok  # first fix of a track piece (carried rows included)
        seg_start = np.flatnonzero(seg_ok[1:])  # segments i -> i+1
        # the last row of each key goes to the carried state
        last_of_key = np.ones(len(code), bool)
        last_of_key[:-1] = ~same[1:]
        # a track piece ends (lost) at row i when the next row is the same key after a gap
        piece_end = np.zeros(len(code), bool)
        piece_end[:-1] = gap[1:]

        cols = _BatchColumns(batch, src)
        events: list[EntryEvent] = []
        lon_min, lon_max = float(lon.min()), float(lon.max())
        lat_min, lat_max = float(lat.min()), float(lat.max())
        carried_states = {c: s for c, s in carried}
        for zi, zone in enumerate(self.zones):
            has_open = any(zi in s.open for s in carried_states.values())
            zx0, zy0, zx1, zy1 = zone.geometry.bounds
            if not has_open and (lon_max < zx0 or lon_min > zx1 or lat_max < zy0 or lat_min > zy1):
                continue
            events.extend(
                self._zone_events(
                    zi, zone, uniques, carried_states, code, time, lon, lat, alt,
                    is_carried, track_start, seg_start, piece_end, cols,
                )
            )
        # carry the last fix of each track
        for i in np.flatnonzero(last_of_key).tolist():
            key = uniques[code[i]]
            st = self._tracks.get(key)
            if st is None:
                st = self._tracks[key] = _TrackState(time[i], lon[i], lat[i], alt[i])
            else:
                st.time, st.lon, st.lat, st.alt = time[i], lon[i], lat[i], alt[i]
        events.sort(key=lambda e: e.at)
        return events

    def close(self) -> list[EntryEvent]:
        """End of data: every entry still open is reported once as ``open``."""
        out: list[EntryEvent] = []
        for st in self._tracks.values():
            for o in st.open.values():
                out.append(EntryEvent("open", o.entry, o.entry.last_inside_at))
            st.open.clear()
        out.sort(key=lambda e: (e.entry.track, e.entry.entered_at, e.entry.zone))
        return out

    def expire(self, now: float, silence_s: float) -> list[EntryEvent]:
        """Forget tracks silent for more than ``silence_s``; their open entries end open."""
        out: list[EntryEvent] = []
        for key in [k for k, s in self._tracks.items() if now - s.time > silence_s]:
            st = self._tracks.pop(key)
            out.extend(EntryEvent("exit", o.entry, st.time) for o in st.open.values())
        return out

    @property
    def tracked(self) -> int:
        """Number of tracks whose state is kept."""
        return len(self._tracks)

    # ------------------------------------------------------------------ one zone
    def _zone_events(
        self,
        zi: int,
        zone: Zone,
        uniques: Any,
        carried_states: dict[int, _TrackState],
        code: np.ndarray,
        time: np.ndarray,
        lon: np.ndarray,
        lat: np.ndarray,
        alt: np.ndarray,
        is_carried: np.ndarray,
        track_start: np.ndarray,
        seg_start: np.ndarray,
        piece_end: np.ndarray,
        cols: _BatchColumns,
    ) -> list[EntryEvent]:
        zx0, zy0, zx1, zy1 = zone.geometry.bounds
        in_box = (lon >= zx0) & (lon <= zx1) & (lat >= zy0) & (lat <= zy1)
        inside = np.zeros(len(lon), bool)
        if in_box.any():
            inside[in_box] = zone.contains(lon[in_box], lat[in_box], alt[in_box])
        # only segments whose box meets the zone's box can change state
        s0, s1 = seg_start, seg_start + 1
        seg_box = ~(
            (np.maximum(lon[s0], lon[s1]) < zx0)
            | (np.minimum(lon[s0], lon[s1]) > zx1)
            | (np.maximum(lat[s0], lat[s1]) < zy0)
            | (np.minimum(lat[s0], lat[s1]) > zy1)
        )
        tr = segment_transitions(
            zone, self.boundary(zi), lon, lat, alt, inside, seg_start[seg_box]
        )
        stats_rows = inside & ~is_carried
        if not stats_rows.any() and len(tr.row) == 0:
            has_open = any(zi in s.open for s in carried_states.values())
            if not has_open:
                return []
        # runs of inside fixes; a run breaks at any segment that has a transition
        cut = np.zeros(len(lon), bool)
        if len(tr.row):
            cut[tr.row + 1] = True
        prev_in = np.zeros(len(lon), bool)
        prev_in[1:] = stats_rows[:-1]
        run_start = stats_rows & (~prev_in | track_start | cut)
        rows = np.flatnonzero(stats_rows)
        run_id = np.cumsum(run_start)[rows] - 1
        if len(rows):
            bounds = np.flatnonzero(np.diff(np.concatenate([[-1], run_id])) != 0)
            run_first = rows[bounds]
            run_last = rows[np.concatenate([bounds[1:] - 1, [len(rows) - 1]])]
        else:
            run_first = run_last = np.empty(0, np.intp)
        depth = np.zeros(len(lon))
        if len(rows):
            depth[rows] = self.boundary(zi).distance_m(lon[rows], lat[rows])

        # items in data order: (position, order, kind, payload)
        items: list[tuple[float, int, str, int, float, bool]] = []
        first_in = np.flatnonzero(track_start & inside & ~is_carried)
        items.extend((float(i), 0, "start", int(i), 0.0, True) for i in first_in.tolist())
        for r, f, e in zip(tr.row.tolist(), tr.fraction.tolist(), tr.entering.tolist(),
                           strict=True):
            items.append((r + f, 0 if e else 2, "cross", int(r), float(f), bool(e)))
        items.extend((float(a), 1, "run", int(a), float(b), True)
                     for a, b in zip(run_first.tolist(), run_last.tolist(), strict=True))
        items.extend((float(i), 3, "end", int(i), 0.0, False)
                     for i in np.flatnonzero(piece_end).tolist())
        items.sort(key=lambda it: (code[it[3]], it[0], it[1]))

        events: list[EntryEvent] = []
        open_by_code: dict[int, _Open] = {
            c: s.open.pop(zi) for c, s in carried_states.items() if zi in s.open
        }
        for _, _, kind, r, f, flag in items:
            c = int(code[r])
            cur = open_by_code.get(c)
            if kind == "start" or (kind == "cross" and flag):
                if cur is not None:
                    continue  # already inside (a fix exactly on the boundary)
                if kind == "start":
                    t, x, y, interp = float(time[r]), float(lon[r]), float(lat[r]), False
                else:
                    t, x, y = _lerp(time, lon, lat, r, f)
                    interp = True
                entry = Entry(
                    zone=zone.name, zone_kind=zone.kind, track=str(uniques[c]),
                    entered_at=t, entry_interpolated=interp, exited_at=None,
                    last_inside_at=t, max_depth_m=0.0,
                    entry_point=(y, x) if interp else None, exit_point=None,
                    min_altitude_m=None, max_altitude_m=None, observations=0,
                )
                if self.config.keep_path:
                    entry.path.append((t, y, x))
                cur = open_by_code[c] = _Open(entry)
                events.append(EntryEvent("entry", replace(entry), t))
            elif kind == "run":
                if cur is None:  # defensive: inside without a seen crossing
                    t0 = float(time[r])
                    entry = Entry(
                        zone=zone.name, zone_kind=zone.kind, track=str(uniques[c]),
                        entered_at=t0, entry_interpolated=False, exited_at=None,
                        last_inside_at=t0, max_depth_m=0.0, entry_point=None, exit_point=None,
                        min_altitude_m=None, max_altitude_m=None, observations=0,
                    )
                    cur = open_by_code[c] = _Open(entry)
                    events.append(EntryEvent("entry", replace(entry), t0))
                changed = self._absorb_run(cur, r, int(f), time, lon, lat, alt, depth, cols)
                if changed and self.config.updates:
                    events.append(EntryEvent("update", replace(cur.entry), float(time[int(f)])))
            elif kind == "cross" and not flag:
                if cur is None:
                    continue
                t, x, y = _lerp(time, lon, lat, r, f)
                e = cur.entry
                e.exited_at, e.exit_point = t, (y, x)
                if e.observations == 0:
                    e.last_inside_at = t
                if self.config.keep_path:
                    e.path.append((t, y, x))
                del open_by_code[c]
                events.append(EntryEvent("exit", e, t))
            elif kind == "end" and cur is not None:
                del open_by_code[c]  # track lost (gap) while inside: ends open
                events.append(EntryEvent("exit", cur.entry, float(time[r])))
        # entries still open go back to their tracks' carried state
        for c, o in open_by_code.items():
            key = uniques[c]
            st = self._tracks.get(key)
            if st is None:
                i = int(np.flatnonzero(code == c)[-1])
                st = self._tracks[key] = _TrackState(time[i], lon[i], lat[i], alt[i])
            st.open[zi] = o
        return events

    def _absorb_run(
        self,
        cur: _Open,
        a: int,
        b: int,
        time: np.ndarray,
        lon: np.ndarray,
        lat: np.ndarray,
        alt: np.ndarray,
        depth: np.ndarray,
        cols: _BatchColumns,
    ) -> bool:
        """Fold the inside fixes ``a..b`` into an open entry; True if depth/altitude grew."""
        e = cur.entry
        sl = slice(a, b + 1)
        before = (e.max_depth_m, e.min_altitude_m, e.max_altitude_m)
        e.observations += b - a + 1
        e.last_inside_at = float(time[b])
        d = float(depth[sl].max())
        if d > e.max_depth_m:
            e.max_depth_m = d
        lo, hi = _nanmin(alt[sl]), _nanmax(alt[sl])
        if lo is not None:
            e.min_altitude_m = lo if e.min_altitude_m is None else min(e.min_altitude_m, lo)
        if hi is not None:
            e.max_altitude_m = hi if e.max_altitude_m is None else max(e.max_altitude_m, hi)
        cs = cols.last_callsign(a, b)
        if cs is not None:
            e.callsign = cs
        sq = cols.emergency_squawks(a, b)
        if sq:
            e.squawks = tuple(sorted(set(e.squawks) | set(sq)))
        sp = cols.max_speed(a, b)
        if sp is not None and (e.max_speed_ms is None or sp > e.max_speed_ms):
            e.max_speed_ms = sp
        if self.config.keep_path:
            e.path.extend(zip(time[sl].tolist(), lat[sl].tolist(), lon[sl].tolist(), strict=True))
        return (e.max_depth_m, e.min_altitude_m, e.max_altitude_m) != before


def _lerp(
    time: np.ndarray, lon: np.ndarray, lat: np.ndarray, r: int, f: float
) -> tuple[float, float, float]:
    """Time and position at fraction ``f`` of the segment starting at row ``r``."""
    t = time[r] + f * (time[r + 1] - time[r])
    x = lon[r] + f * (lon[r + 1] - lon[r])
    y = lat[r] + f * (lat[r + 1] - lat[r])
    return float(t), float(x), float(y)


class _BatchColumns:
    """Optional columns of a batch, reordered like the detector's working arrays."""

    def __init__(self, batch: pd.DataFrame, src: np.ndarray) -> None:
        self._batch = batch
        self._src = src

    def _col(self, name: str, a: int, b: int) -> np.ndarray:
        idx = self._src[a : b + 1]
        idx = idx[idx >= 0]
        return np.asarray(self._batch[name].to_numpy()[idx])

    def last_callsign(self, a: int, b: int) -> str | None:
        for v in self._col("callsign", a, b)[::-1]:
            if isinstance(v, str) and v.strip():
                return v.strip()
        return None

    def emergency_squawks(self, a: int, b: int) -> list[str]:
        sq = self._col("squawk", a, b)
        return sorted({s for s in sq.tolist() if s in EMERGENCY_SQUAWKS})

    def max_speed(self, a: int, b: int) -> float | None:
        v = self._col("velocity", a, b).astype(np.float64)
        return _nanmax(v)
