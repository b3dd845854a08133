"""Entries into zones, found incrementally from batches of observations.

:class:`EntryDetector` keeps, per track, the last fix and the entries still open, so
the same code serves a one-shot scan (one batch, then :meth:`EntryDetector.close`), an
out-of-core scan (many time-ordered chunks) and a live feed (small batches as they
arrive). Work inside a batch is columnar; Python loops run per entry, not per fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import shapely

from skyfence.airspace.antimeridian import lon_delta, wrap_lon
from skyfence.airspace.boundary import Boundary
from skyfence.airspace.zones import Zone
from skyfence.detect.crossings import Transitions, segment_transitions
from skyfence.detect.screen import CellScreening, Screen, ScreeningLike, default_screen
from skyfence.model import Entry
from skyfence.vocab import EMERGENCY_SQUAWKS


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


class _TrackTable:
    """The last fix of every live track, in arrays, and the entries each has open.

    Per-track Python work happens only for new and expiring tracks; batches read and
    write the last fixes of their tracks with vectorized indexing.
    """

    def __init__(self) -> None:
        self.slot: dict[str, int] = {}
        self.keys: list[str | None] = []
        self.free: list[int] = []
        self.fix = np.empty((0, 4))  # time, lon, lat, alt per slot
        self.open: dict[str, dict[int, _Open]] = {}

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

    def expire(self, before: float) -> list[tuple[str, float, dict[int, _Open]]]:
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

    def __init__(
        self,
        zones: Sequence[Zone],
        config: DetectorConfig | None = None,
        *,
        screen: Screen | None = None,
    ) -> None:
        self.zones = list(zones)
        self.config = config or DetectorConfig()
        self.screen = screen if screen is not None else default_screen(self.zones)
        self._boundaries: dict[int, Boundary] = {}
        self._tracks = _TrackTable()
        bounds = np.array([z.geometry.bounds for z in self.zones], dtype=np.float64)
        self._zone_boxes = shapely.STRtree(shapely.box(*bounds.T))
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
        return [o.entry for d in self._tracks.open.values() for o in d.values()]

    # ------------------------------------------------------------------ batches
    def process(self, batch: pd.DataFrame) -> list[EntryEvent]:
        """Consume one batch of observations; return the events it caused, in time order."""
        if len(batch) == 0:
            return []
        w = _Work.build(batch, self._tracks, self.config.gap_s)
        self.dropped_out_of_order += w.dropped
        self.positions += w.n_new
        scr = self.screen.screen(w.lon, w.lat)
        # segments that may cross some boundary: ends in cells that are neither the same
        # nor edge neighbours, or a boundary cell
        seam = np.flatnonzero((np.abs(w.lon) == 180.0) | (np.abs(w.lat) == 90.0))
        if len(seam):
            scr = _screen_seam(self.screen, scr, w.lon, w.lat, seam)
        seg = w.seg_start
        i0, i1 = seg, seg + 1
        clear_between = getattr(self.screen, "clear_between", None)
        clear = (clear_between(scr.cell[i0], scr.cell[i1]) if clear_between is not None
                 else scr.cell[i0] == scr.cell[i1])
        maybe = seg[~clear | scr.boundary[i0] | scr.boundary[i1]]
        seg_zone_pairs = np.empty((2, 0), np.intp)
        if len(maybe):
            k, zi = _query_segment_boxes(self._zone_boxes, w.lon[maybe], w.lat[maybe],
                                         w.lon_next[maybe], w.lat[maybe + 1])
            seg_zone_pairs = np.vstack([maybe[k], zi])
        # inside rows (horizontally) grouped by zone, rows ascending within a zone
        rows_l, zones_l = [], []
        for layer in range(scr.zone.shape[1]):
            col = scr.zone[:, layer]
            r = np.flatnonzero(col >= 0)
            rows_l.append(r)
            zones_l.append(col[r])
        in_rows = np.concatenate(rows_l) if rows_l else np.empty(0, np.intp)
        in_zone = np.concatenate(zones_l) if zones_l else np.empty(0, np.int32)
        order = np.lexsort((in_rows, in_zone))
        in_rows, in_zone = in_rows[order], in_zone[order]
        sp_order = np.lexsort((seg_zone_pairs[0], seg_zone_pairs[1]))
        sp_seg, sp_zone = seg_zone_pairs[0][sp_order], seg_zone_pairs[1][sp_order]
        active = set(np.unique(in_zone).tolist()) | set(np.unique(sp_zone).tolist())
        active |= {zi for d in w.carried_open.values() for zi in d}
        events: list[EntryEvent] = []
        for zi in sorted(active):
            a, b = np.searchsorted(in_zone, [zi, zi + 1])
            c, d = np.searchsorted(sp_zone, [zi, zi + 1])
            events.extend(self._zone_events(zi, w, in_rows[a:b], sp_seg[c:d]))
        w.carry(self._tracks)
        events.sort(key=lambda e: e.at)
        return events

    def close(self) -> list[EntryEvent]:
        """End of data: every entry still open is reported once as ``open``."""
        out: list[EntryEvent] = []
        for d in self._tracks.open.values():
            for o in d.values():
                out.append(EntryEvent("open", o.entry, o.entry.last_inside_at))
        self._tracks.open.clear()
        out.sort(key=lambda e: (e.entry.track, e.entry.entered_at, e.entry.zone))
        return out

    def expire(self, now: float, silence_s: float) -> list[EntryEvent]:
        """Forget tracks silent for more than ``silence_s``; their open entries end open."""
        out: list[EntryEvent] = []
        for _, last, opened in self._tracks.expire(now - silence_s):
            out.extend(EntryEvent("exit", o.entry, last) for o in opened.values())
        return out

    @property
    def tracked(self) -> int:
        """Number of tracks whose state is kept."""
        return len(self._tracks)

    # ------------------------------------------------------------------ one zone
    def _zone_events(
        self, zi: int, w: _Work, h_rows: np.ndarray, cand: np.ndarray
    ) -> list[EntryEvent]:
        """Events of zone ``zi``: ``h_rows`` are inside it horizontally, ``cand`` are
        segments that may cross its boundary."""
        zone = self.zones[zi]
        rows = h_rows
        if zone.has_altitude_limits and len(h_rows):
            rows = h_rows[zone.altitude_ok(w.alt[h_rows])]
            # a segment with a horizontally inside end may climb or descend through a limit
            seg_ok = w.seg_ok_from(h_rows)
            cand = np.union1d(cand, seg_ok)
        else:
            cand = np.unique(cand)

        def inside(r: np.ndarray) -> np.ndarray:
            if len(rows) == 0:
                return np.zeros(len(r), bool)
            pos = np.minimum(np.searchsorted(rows, r), len(rows) - 1)
            return np.asarray(rows[pos] == r)

        tr = segment_transitions(
            zone, self.boundary(zi), w.lon, w.lat, w.alt, cand, inside(cand), inside(cand + 1),
            lon_next=w.lon_next,
        )
        tr = _without_touches(tr)
        stats = rows[~w.is_carried[rows]]
        carried_open = {c: d.pop(zi) for c, d in w.carried_open.items() if zi in d}
        if len(stats) == 0 and len(tr.row) == 0 and not carried_open:
            return []
        # runs of consecutive inside rows; a run breaks at any segment with a transition
        cut = np.zeros(len(stats), bool)
        if len(stats):
            cut[1:] = stats[1:] != stats[:-1] + 1
            cut[0] = True
            cut |= w.track_start[stats]
            if len(tr.row):
                cut |= np.isin(stats - 1, tr.row)
        starts = np.flatnonzero(cut)
        run_first = stats[starts]
        run_last = stats[np.concatenate([starts[1:] - 1, [len(stats) - 1]])].astype(np.intp) \
            if len(stats) else np.empty(0, np.intp)
        depth = np.zeros(len(w.lon))  # each run's deepest value, stored at its first row
        if len(stats):
            depth[run_first] = self.boundary(zi).max_distance_m(w.lon[stats], w.lat[stats], starts)

        code, time, lon, lon_next, lat = w.code, w.time, w.lon, w.lon_next, w.lat
        items: list[tuple[float, int, str, int, float, bool]] = []
        first_in = stats[w.track_start[stats]]
        items.extend((float(i), 0, "start", int(i), 0.0, True) for i in first_in.tolist())
        for r, f, e in zip(tr.row.tolist(), tr.fraction.tolist(), tr.entering.tolist(),
                           strict=True):
            items.append((r + f, 0 if e else 2, "cross", int(r), float(f), bool(e)))
        items.extend((float(a), 1, "run", int(a), float(b), True)
                     for a, b in zip(run_first.tolist(), run_last.tolist(), strict=True))
        if carried_open:
            ends = w.piece_end_rows
            ends = ends[np.isin(code[ends], list(carried_open))] if len(ends) else ends
        else:
            ends = np.empty(0, np.intp)
        touched = set(code[rows].tolist()) | set(code[tr.row].tolist()) if len(tr.row) \
            else set(code[rows].tolist())
        more = w.piece_end_rows
        if len(more):
            more = more[np.isin(code[more], list(touched))]
            ends = np.union1d(ends, more)
        items.extend((float(i), 3, "end", int(i), 0.0, False) for i in ends.tolist())
        items.sort(key=lambda it: (code[it[3]], it[0], it[1]))

        events: list[EntryEvent] = []
        open_by_code: dict[int, _Open] = carried_open
        keys = w.uniques
        for _, _, kind, r, f, flag in items:
            c = int(code[r])
            cur = open_by_code.get(c)
            if kind == "start" or (kind == "cross" and flag):
                if cur is not None:
                    continue  # already inside (a fix exactly on the boundary)
                if kind == "start":
                    t, x, y, interp = float(time[r]), float(lon[r]), float(lat[r]), False
                else:
                    t, x, y = _lerp(time, lon, lon_next, lat, r, f)
                    interp = True
                entry = _new_entry(zone, str(keys[c]), t, interp, (y, x) if interp else None)
                if self.config.keep_path:
                    entry.path.append((t, y, x))
                cur = open_by_code[c] = _Open(entry)
                events.append(EntryEvent("entry", replace(entry), t))
            elif kind == "run":
                if cur is None:  # defensive: inside without a seen crossing
                    t0 = float(time[r])
                    entry = _new_entry(zone, str(keys[c]), t0, False, None)
                    cur = open_by_code[c] = _Open(entry)
                    events.append(EntryEvent("entry", replace(entry), t0))
                changed = self._absorb_run(cur, r, int(f), w, depth)
                if changed and self.config.updates:
                    events.append(EntryEvent("update", replace(cur.entry), float(time[int(f)])))
            elif kind == "cross" and not flag:
                if cur is None:
                    continue
                t, x, y = _lerp(time, lon, lon_next, lat, r, f)
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
            w.pending_open.setdefault(c, {})[zi] = o
        return events

    def _absorb_run(self, cur: _Open, a: int, b: int, w: _Work, depth: np.ndarray) -> bool:
        """Fold the inside fixes ``a..b`` into an open entry; True if depth/altitude grew."""
        e = cur.entry
        time, lon, lat, alt, cols = w.time, w.lon, w.lat, w.alt, w.cols
        sl = slice(a, b + 1)
        before = (e.max_depth_m, e.min_altitude_m, e.max_altitude_m)
        e.observations += b - a + 1
        e.last_inside_at = float(time[b])
        d = float(depth[a])
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


def _new_entry(
    zone: Zone, track: str, t: float, interpolated: bool, point: tuple[float, float] | None
) -> Entry:
    return Entry(
        zone=zone.name, zone_kind=zone.kind, track=track, entered_at=t,
        entry_interpolated=interpolated, exited_at=None, last_inside_at=t, max_depth_m=0.0,
        entry_point=point, exit_point=None, min_altitude_m=None, max_altitude_m=None,
        observations=0,
    )


class _Work:
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
    carried_open: dict[int, dict[int, _Open]]  # by code: entries open before this batch
    n_new: int
    dropped: int
    seg_ok: np.ndarray  # segment (i-1 -> i) exists
    seg_start: np.ndarray  # rows i with a segment i -> i+1
    track_start: np.ndarray
    piece_end_rows: np.ndarray  # rows after which a gap splits the track
    last_of_key: np.ndarray
    cols: _BatchColumns
    pending_open: dict[int, dict[int, _Open]]

    @classmethod
    def build(cls, batch: pd.DataFrame, tracks: _TrackTable, gap_s: float) -> _Work:
        w = cls()
        codes_new, uniques = pd.factorize(batch["icao24"].to_numpy(dtype=object))
        n_new = len(codes_new)
        slots = tracks.lookup(uniques)
        carried_codes = np.flatnonzero(slots >= 0)
        nc = len(carried_codes)
        last = tracks.fix[slots[carried_codes]]

        def col(name: str, j: int) -> np.ndarray:
            return np.concatenate([last[:, j], batch[name].to_numpy(np.float64)])

        code = np.concatenate([carried_codes.astype(np.intp), codes_new])
        time, lon, lat = col("time", 0), col("lon", 1), col("lat", 2)
        alt = col("altitude", 3)
        is_carried = np.concatenate([np.ones(nc, bool), np.zeros(n_new, bool)])
        src = np.concatenate([np.full(nc, -1, np.intp), np.arange(n_new)])
        # a fix not newer than what its track already had is late or a duplicate: drop it
        last_seen = np.full(len(uniques), -np.inf)
        last_seen[code[:nc]] = time[:nc]
        late = ~is_carried & (time <= last_seen[code])
        order = np.lexsort((~is_carried, time, code))
        order = order[~late[order]]
        same = code[order][1:] == code[order][:-1]
        dup = np.concatenate([[False], same & (time[order][1:] == time[order][:-1])])
        order = order[~dup]
        w.dropped = int(late.sum() + dup.sum())
        w.code, w.time, w.lon, w.lat, w.alt = (code[order], time[order], lon[order],
                                               lat[order], alt[order])
        w.is_carried, w.uniques = is_carried[order], uniques
        w.n_new = int((~w.is_carried).sum())
        w.carried_open = {}
        if tracks.open:
            opened = list(tracks.open)
            where = pd.Index(uniques).get_indexer(opened)
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
        w.cols = _BatchColumns(batch, src[order])
        w.pending_open = {}
        return w

    def seg_ok_from(self, rows: np.ndarray) -> np.ndarray:
        """Start rows of the segments that begin or end at ``rows``."""
        before = rows[(rows > 0) & self.seg_ok[rows]] - 1
        nxt = rows[rows + 1 < len(self.seg_ok)]
        after = nxt[self.seg_ok[nxt + 1]]
        return np.union1d(before, after)

    def carry(self, tracks: _TrackTable) -> None:
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


def _lerp(
    time: np.ndarray, lon: np.ndarray, lon_next: np.ndarray, lat: np.ndarray, r: int, f: float
) -> tuple[float, float, float]:
    """Time and position at fraction ``f`` of the segment starting at row ``r`` (the
    shorter way round in longitude; the longitude is wrapped into [-180, 180])."""
    t = time[r] + f * (time[r + 1] - time[r])
    x = wrap_lon(lon[r] + f * (lon_next[r] - lon[r]))
    y = lat[r] + f * (lat[r + 1] - lat[r])
    return float(t), float(x), float(y)


def _without_touches(tr: Transitions) -> Transitions:
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


def _query_segment_boxes(
    tree: shapely.STRtree, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(segment, zone) pairs whose bounding boxes meet; ``x1`` may be unwrapped beyond
    ±180: the part of such a box beyond the antimeridian is asked on the other side."""
    lo, hi = np.minimum(x0, x1), np.maximum(x0, x1)
    ylo, yhi = np.minimum(y0, y1), np.maximum(y0, y1)
    segs, zones = [], []
    for shift, part in ((0.0, np.arange(len(x0))), (-360.0, np.flatnonzero(hi > 180.0)),
                        (360.0, np.flatnonzero(lo < -180.0))):
        if len(part):
            a = np.maximum(lo[part] + shift, -180.0)
            b = np.minimum(hi[part] + shift, 180.0)
            k, z = tree.query(shapely.box(a, ylo[part], b, yhi[part]))
            segs.append(part[k])
            zones.append(z)
    seg, zone = np.concatenate(segs), np.concatenate(zones)
    if len(seg) == 0:
        return seg.astype(np.intp), zone.astype(np.intp)
    n_z = int(zone.max()) + 1
    key = np.unique(seg.astype(np.int64) * n_z + zone)
    return (key // n_z).astype(np.intp), (key % n_z).astype(np.intp)


def _screen_seam(
    screen: Screen, scr: ScreeningLike, lon: np.ndarray, lat: np.ndarray, rows: np.ndarray
) -> CellScreening:
    """The screening with positions exactly on ±180 or a pole asked just off the seam on
    both sides: such a position is in a zone that holds it on either side."""
    y = np.clip(lat[rows], -90.0 + 1e-9, 90.0 - 1e-9)
    x = lon[rows]
    east = screen.screen(np.where(np.abs(x) == 180.0, -180.0 + 1e-9, x), y).zone
    west = screen.screen(np.where(np.abs(x) == 180.0, 180.0 - 1e-9, x), y).zone
    zone = np.array(scr.zone, copy=True)
    zone[rows] = np.where(east >= 0, east, west)
    boundary = np.array(scr.boundary, copy=True)
    boundary[rows] = True
    return CellScreening(zone, np.asarray(scr.cell), boundary)


class _BatchColumns:
    """Optional columns of a batch, reordered like the detector's working arrays."""

    def __init__(self, batch: pd.DataFrame, src: np.ndarray) -> None:
        self._batch = batch
        self._src = src
        self._cache: dict[str, np.ndarray] = {}

    def _col(self, name: str, a: int, b: int) -> np.ndarray:
        col = self._cache.get(name)
        if col is None:
            col = self._cache[name] = np.asarray(self._batch[name].to_numpy())
        idx = self._src[a : b + 1]
        return col[idx[idx >= 0]]

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
