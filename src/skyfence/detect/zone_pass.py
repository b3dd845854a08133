"""One zone's pass over one batch: what happened, as typed items, played in order.

The columnar work of a batch ends in a few places per track and zone where something
happens, each a small typed item:

- :class:`FirstFix`: the first fix of a track piece is already inside (an entry that
  is not interpolated);
- :class:`Crossing`: the track crosses the boundary inwards or outwards, at a fraction
  of a segment (time and position interpolated there);
- :class:`InsideRun`: consecutive inside fixes between crossings, folded into the open
  entry at once (observations, depth, altitudes, callsign, squawks, speed);
- :class:`PieceEnd`: a gap splits the track after this fix: an entry still open ends
  open there.

:func:`zone_items` makes them, in track order and along each track; :class:`ZonePass`
plays them against the entries open in the zone, one small handler per kind, and
collects the :class:`EntryEvent` s. At one place, an entry is opened before a run is
folded in, and a run is folded in before an exit or a piece end closes the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from skyfence.airspace.zones import Zone
from skyfence.detect.crossings import Transitions
from skyfence.detect.run_facts import Facts, RunFacts
from skyfence.detect.track_state import BatchWork, OpenEntry, nanmax, nanmin
from skyfence.identify.turns import Anchor
from skyfence.model import Entry

__all__ = [
    "Crossing",
    "EntryEvent",
    "FirstFix",
    "InsideRun",
    "Item",
    "PieceEnd",
    "ZonePass",
    "inside_runs",
    "row_facts",
    "zone_items",
]


@dataclass
class EntryEvent:
    """Something that happened to an entry: ``entry``, ``update``, ``exit`` or ``open``."""

    kind: str
    entry: Entry
    #: wall-clock-free position in the data: the time of the fix that caused it
    at: float


# ----------------------------------------------------------------------------- items
@dataclass(frozen=True, slots=True)
class FirstFix:
    """The first fix of a track piece, inside the zone."""

    row: int
    #: order among items at the same place (an entry opens first)
    rank: ClassVar[int] = 0

    @property
    def at(self) -> float:
        """Place along the batch's rows."""
        return float(self.row)


@dataclass(frozen=True, slots=True)
class Crossing:
    """The boundary crossed at ``fraction`` of the segment from ``row`` to ``row + 1``."""

    row: int
    fraction: float
    entering: bool

    @property
    def rank(self) -> int:
        """An entry opens before a run at the same place; an exit closes after it."""
        return 0 if self.entering else 2

    @property
    def at(self) -> float:
        """Place along the batch's rows."""
        return self.row + self.fraction


@dataclass(frozen=True, slots=True)
class InsideRun:
    """Consecutive inside fixes ``row..last`` of one track, with no crossing between."""

    row: int
    last: int
    rank: ClassVar[int] = 1

    @property
    def at(self) -> float:
        """Place along the batch's rows."""
        return float(self.row)


@dataclass(frozen=True, slots=True)
class PieceEnd:
    """The last fix of a track piece: a gap follows."""

    row: int
    rank: ClassVar[int] = 3

    @property
    def at(self) -> float:
        """Place along the batch's rows."""
        return float(self.row)


Item = FirstFix | Crossing | InsideRun | PieceEnd


def inside_runs(
    stats: np.ndarray, w: BatchWork, tr: Transitions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of consecutive inside rows ``stats``: (index in ``stats`` of each run's
    first row, first row, last row). A run breaks at a track start and at any segment
    with a transition."""
    if not len(stats):
        return np.empty(0, np.intp), stats, np.empty(0, np.intp)
    cut = np.zeros(len(stats), bool)
    cut[1:] = stats[1:] != stats[:-1] + 1
    cut[0] = True
    cut |= w.track_start[stats]
    if len(tr.row):
        cut |= np.isin(stats - 1, tr.row)
    starts = np.flatnonzero(cut)
    run_first = stats[starts]
    run_last = stats[np.concatenate([starts[1:] - 1, [len(stats) - 1]])].astype(np.intp)
    return starts, run_first, run_last


def zone_items(
    w: BatchWork,
    rows: np.ndarray,
    stats: np.ndarray,
    tr: Transitions,
    runs: tuple[np.ndarray, np.ndarray],
    carried_open: dict[int, OpenEntry],
) -> list[Item]:
    """Everything that happens in one zone in this batch, by track and place.

    ``rows`` are the inside rows, ``stats`` those of them new in this batch, ``tr`` the
    boundary crossings, ``runs`` the first and last rows of the inside runs, and
    ``carried_open`` the entries open in the zone before the batch, by track code.
    """
    code = w.code
    first = stats[w.track_start[stats]]
    # a gap ends the open entries of the tracks this zone holds or held
    ends = np.empty(0, np.intp)
    if carried_open and len(w.piece_end_rows):
        ends = w.piece_end_rows[np.isin(code[w.piece_end_rows], list(carried_open))]
    if len(w.piece_end_rows):
        touched = code[rows] if not len(tr.row) else np.concatenate([code[rows],
                                                                     code[tr.row]])
        more = w.piece_end_rows[np.isin(code[w.piece_end_rows], touched)]
        ends = np.union1d(ends, more)
    # by track, place and rank (a stable sort: equal keys keep this order)
    kinds = np.concatenate([np.zeros(len(first), np.int8), np.ones(len(tr.row), np.int8),
                            np.full(len(runs[0]), 2, np.int8), np.full(len(ends), 3, np.int8)])
    row = np.concatenate([first, tr.row, runs[0], ends]).astype(np.intp)
    at = row.astype(np.float64)
    at[len(first) : len(first) + len(tr.row)] += tr.fraction
    rank = np.concatenate([np.zeros(len(first), np.int8), np.where(tr.entering, 0, 2),
                           np.ones(len(runs[0]), np.int8), np.full(len(ends), 3, np.int8)])
    index = np.concatenate([np.arange(len(first)), np.arange(len(tr.row)),
                            np.arange(len(runs[0])), np.arange(len(ends))])
    order = np.lexsort((rank, at, code[row]))
    fraction, entering, last = tr.fraction.tolist(), tr.entering.tolist(), runs[1].tolist()
    items: list[Item] = []
    for kind, r, i in zip(kinds[order].tolist(), row[order].tolist(), index[order].tolist(),
                          strict=True):
        if kind == 0:
            items.append(FirstFix(r))
        elif kind == 1:
            items.append(Crossing(r, fraction[i], entering[i]))
        elif kind == 2:
            items.append(InsideRun(r, last[i]))
        else:
            items.append(PieceEnd(r))
    return items


# ----------------------------------------------------------------------------- pass
class ZonePass:
    """Plays one zone's items of one batch against the entries open in the zone.

    ``open_by_code`` holds the entries open before the batch, by track code; the pass
    updates it in place, so that afterwards it holds the entries still open.
    """

    def __init__(
        self,
        zone: Zone,
        w: BatchWork,
        depth: np.ndarray,
        open_by_code: dict[int, OpenEntry],
        *,
        keep_path: bool,
        updates: bool,
        entries: bool = True,
        run_facts: RunFacts | None = None,
    ) -> None:
        self.zone = zone
        self.w = w
        self.depth = depth
        self.open = open_by_code
        self.keep_path = keep_path
        self.updates = updates
        self.entries = entries
        self.run_facts = run_facts
        self.events: list[EntryEvent] = []

    def play(self, items: list[Item]) -> list[EntryEvent]:
        """Handle every item in order; return the events."""
        for item in items:
            c = int(self.w.code[item.row])
            match item:
                case FirstFix():
                    self._first_fix(c, item)
                case Crossing(entering=True):
                    self._enter(c, item)
                case Crossing():
                    self._exit(c, item)
                case InsideRun():
                    self._run(c, item)
                case PieceEnd():
                    self._piece_end(c, item)
        return self.events

    # ------------------------------------------------------------------- handlers
    def _first_fix(self, c: int, item: FirstFix) -> None:
        if c in self.open:
            return  # already inside (a fix exactly on the boundary)
        r, w = item.row, self.w
        self._open_entry(c, float(w.time[r]), float(w.lon[r]), float(w.lat[r]), False)

    def _enter(self, c: int, item: Crossing) -> None:
        if c in self.open:
            return
        t, x, y = _lerp(self.w, item.row, item.fraction)
        self._open_entry(c, t, x, y, True)

    def _open_entry(self, c: int, t: float, x: float, y: float, interpolated: bool) -> None:
        entry = _new_entry(self.zone, str(self.w.uniques[c]), t, interpolated,
                           (y, x) if interpolated else None)
        if self.keep_path and interpolated:  # an entry at a fix: its run adds the fix
            entry.path.append((t, y, x))
        self.open[c] = OpenEntry(entry)
        if self.entries:
            self.events.append(EntryEvent("entry", _snapshot(entry), t))

    def _run(self, c: int, item: InsideRun) -> None:
        cur = self.open.get(c)
        if cur is None:  # defensive: inside without a seen crossing
            t0 = float(self.w.time[item.row])
            entry = _new_entry(self.zone, str(self.w.uniques[c]), t0, False, None)
            cur = self.open[c] = OpenEntry(entry)
            if self.entries:
                self.events.append(EntryEvent("entry", _snapshot(entry), t0))
        changed = absorb_run(cur.entry, item.row, item.last, self.w, self.depth,
                             keep_path=self.keep_path, run_facts=self.run_facts)
        if changed and self.updates:
            self.events.append(
                EntryEvent("update", _snapshot(cur.entry), float(self.w.time[item.last])))

    def _exit(self, c: int, item: Crossing) -> None:
        cur = self.open.pop(c, None)
        if cur is None:
            return
        t, x, y = _lerp(self.w, item.row, item.fraction)
        e = cur.entry
        e.exited_at, e.exit_point = t, (y, x)
        if e.observations == 0:
            e.last_inside_at = t
        if self.keep_path:
            e.path.append((t, y, x))
        self.events.append(EntryEvent("exit", e, t))

    def _piece_end(self, c: int, item: PieceEnd) -> None:
        cur = self.open.pop(c, None)
        if cur is not None:  # track lost (gap) while inside: the entry ends open
            self.events.append(EntryEvent("exit", cur.entry, float(self.w.time[item.row])))


def absorb_run(
    e: Entry, a: int, b: int, w: BatchWork, depth: np.ndarray, *, keep_path: bool,
    run_facts: RunFacts | None = None,
) -> bool:
    """Fold the inside fixes ``a..b`` into an open entry; True if depth/altitude grew.

    ``depth[a]`` holds the run's deepest distance from the boundary. ``run_facts``,
    when given, holds the run's facts (points, altitudes, speeds, sigma, turn, callsign)
    computed with every other run of the zone; without it they are found here, from the
    rows (:func:`row_facts`).
    """
    before = (e.max_depth_m, e.min_altitude_m, e.max_altitude_m)
    (first_point, last_at, last_point, lo, hi, sp, (n, s1, s2), sg, turn, e.turn_anchor,
     cs, emergency) = (run_facts.of(a, e.turn_anchor) if run_facts is not None
                       else row_facts(w, a, b, e.turn_anchor))
    if e.observations == 0:
        e.first_inside_point = first_point
    e.observations += b - a + 1
    e.last_inside_at = last_at
    e.last_inside_point = last_point
    d = float(depth[a])
    if d > e.max_depth_m:
        e.max_depth_m = d
    if lo is not None:
        e.min_altitude_m = lo if e.min_altitude_m is None else min(e.min_altitude_m, lo)
    if hi is not None:
        e.max_altitude_m = hi if e.max_altitude_m is None else max(e.max_altitude_m, hi)
    if cs is not None:
        e.callsign = cs
    if emergency:
        sq = w.cols.emergency_squawks(a, b)
        if sq:
            e.squawks = tuple(sorted(set(e.squawks) | set(sq)))
    if sp is not None and (e.max_speed_ms is None or sp > e.max_speed_ms):
        e.max_speed_ms = sp
    if n:
        e.speed_count += n
        e.speed_sum_ms += s1
        e.speed_sq_sum += s2
    if turn is not None and (e.max_turn_accel_ms2 is None or turn > e.max_turn_accel_ms2):
        e.max_turn_accel_ms2 = turn
    if sg is not None and (e.position_sigma_m is None or sg < e.position_sigma_m):
        e.position_sigma_m = sg
    if keep_path:
        sl = slice(a, b + 1)
        e.path.extend(zip(w.time[sl].tolist(), w.lat[sl].tolist(), w.lon[sl].tolist(),
                          strict=True))
    return (e.max_depth_m, e.min_altitude_m, e.max_altitude_m) != before


def row_facts(w: BatchWork, a: int, b: int, anchor: Anchor | None) -> Facts:
    """The facts of the run of rows ``a..b`` (see :data:`~skyfence.detect.run_facts.
    Facts`), reduced from its rows alone: the reference :class:`RunFacts` is checked
    against. The emergency flag is True: the caller looks the squawks up."""
    sl, cols = slice(a, b + 1), w.cols
    turn, anchor = w.turns().extend(anchor, a, b)
    return ((float(w.lat[a]), float(w.lon[a])), float(w.time[b]),
            (float(w.lat[b]), float(w.lon[b])), nanmin(w.alt[sl]), nanmax(w.alt[sl]),
            cols.max_speed(a, b), cols.speed_moments(a, b), cols.min_sigma(a, b), turn,
            anchor, cols.last_callsign(a, b), True)


def _snapshot(e: Entry) -> Entry:
    """A shallow copy of an entry, as ``dataclasses.replace(e)`` makes (the path list
    shared), without calling ``__init__``."""
    out = Entry.__new__(Entry)
    out.__dict__.update(e.__dict__)
    return out


def _new_entry(
    zone: Zone, track: str, t: float, interpolated: bool, point: tuple[float, float] | None
) -> Entry:
    return Entry(
        zone=zone.name, zone_kind=zone.kind, track=track, entered_at=t,
        entry_interpolated=interpolated, exited_at=None, last_inside_at=t, max_depth_m=0.0,
        entry_point=point, exit_point=None, min_altitude_m=None, max_altitude_m=None,
        observations=0,
    )


def _lerp(w: BatchWork, r: int, f: float) -> tuple[float, float, float]:
    """Time and position at fraction ``f`` of the segment starting at row ``r`` (the
    shorter way round in longitude; the longitude is wrapped into [-180, 180])."""
    time, lon, lon_next, lat = w.time, w.lon, w.lon_next, w.lat
    t = float(time[r]) + f * (float(time[r + 1]) - float(time[r]))
    x0 = float(lon[r])
    x = _wrap_lon(x0 + f * (float(lon_next[r]) - x0))
    y = float(lat[r]) + f * (float(lat[r + 1]) - float(lat[r]))
    return t, x, y


def _wrap_lon(x: float) -> float:
    """:func:`~skyfence.airspace.antimeridian.wrap_lon` of one float, with the same
    arithmetic (Python's ``%`` on floats is numpy's ``mod``).

    >>> from skyfence.airspace.antimeridian import wrap_lon
    >>> all(_wrap_lon(v) == float(wrap_lon(v)) for v in (0.1, 180.1, -180.0, 180.0, 540.0))
    True
    """
    w = (x + 180.0) % 360.0 - 180.0
    return 180.0 if w == -180.0 and x > 0 else w
