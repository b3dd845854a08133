"""``skyfence watch``: per-batch detection on live feeds or replayed files, as events.

Each batch (transponder observations, radar plots, system tracks) goes through the same
:class:`~skyfence.pipeline.Pipeline` as a scan (so a replay ends with the same final
records as ``skyfence scan``), is judged by the policy, and becomes events: ``entry``
(first inside position), ``update`` (depth or altitude changed noticeably), ``exit``
(final record), ``approach`` (predicted entry) and, when the watcher stops, ``open`` for
every entry still open. Events go to sinks: the console, a JSON Lines stream, webhooks.
With an incident store (``journal``, :class:`~skyfence.incidents.journal.IncidentJournal`)
each event is committed to the store first and its sinks are served from the store's
outbox; the journal also runs the protocol timers (``escalation`` events) after each batch.

The ``entry`` event is the alert that matters most, so it says everything known when
it is raised, not only the crossing: the entry as it stands at the end of the batch
that opened it (inside fixes so far, their depth and altitudes, hence the category),
with the track's latest callsign, squawk and speed filled in from fixes outside the
zone when the inside ones have not carried them yet (:class:`TrackMemory`). ``exit``
and ``open`` records are left exactly as the detector ends them, so that a replay still
ends with the records of ``skyfence scan``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from skyfence.airspace.zones import Zone
from skyfence.detect.coverage import CoverageModel
from skyfence.detect.entries import EntryEvent
from skyfence.fusion.radar_stage import RadarStage
from skyfence.incidents.record import entry_id
from skyfence.model import Entry
from skyfence.pipeline import Pipeline, PipelineOptions, _concat
from skyfence.policy import Policy
from skyfence.service.track_memory import TrackMemory
from skyfence.vocab import EMERGENCY_SQUAWKS

if TYPE_CHECKING:
    from skyfence.incidents.journal import IncidentJournal

Sink = Callable[[dict[str, Any]], None]
#: messages per feed batch: smaller batches alert sooner, larger ones sustain more input
#: (1000 keeps p99 alert latency near 60 ms at 36,000 positions/s: skyfence bench latency)
FEED_BATCH_MESSAGES = 1000
#: early warnings (approach, loitering, went dark) run on each track's latest fix at
#: most this often, in feed seconds: their horizons are minutes, detection is per batch
EARLY_WARNING_EVERY_S = 5.0


@dataclass
class WatchStats:
    """Counters of a watcher and the alert latencies it measured."""

    batches: int = 0
    positions: int = 0
    events: dict[str, int] = field(default_factory=dict)
    #: wall-clock seconds from a batch's arrival to each of its entry events
    entry_latency_s: list[float] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the operator."""
        ev = ", ".join(f"{k} {v}" for k, v in sorted(self.events.items())) or "none"
        return f"{self.positions:,} positions in {self.batches:,} batches; events: {ev}"


class Watcher:
    """Turns observation batches into events, keeping per-track state in between.

    ``coverage`` is the receivers' coverage model the went-dark warning asks (e.g. one
    loaded with :meth:`~skyfence.detect.coverage.CoverageModel.load` so that a restart
    begins warm; a cold one by default). With a ``radar`` stage, a track that fusion has
    matched to a radar track gets no guessed went-dark warning: the radar tells.
    """

    def __init__(
        self,
        zones: Sequence[Zone],
        *,
        policy: Policy | None = None,
        gap_s: float = 300.0,
        all_entries: bool = False,
        sinks: Iterable[Sink] = (),
        update_min_depth_m: float = 500.0,
        update_min_alt_m: float = 100.0,
        approach_horizon_s: float | None = 300.0,
        military_db: Mapping[str, bool] | None = None,
        radar: RadarStage | None = None,
        journal: IncidentJournal | None = None,
        coverage: CoverageModel | None = None,
        receiver: tuple[float, float] | None = None,
    ) -> None:
        self.zones = list(zones)
        #: the incident store's side: events are stored (and queued for the sinks of its
        #: outbox) before they are returned; None: events go to ``sinks`` directly
        self.journal = journal
        self.pipeline = Pipeline(self.zones, policy=policy, military_db=military_db,
                                 radar=radar,
                                 options=PipelineOptions(gap_s=gap_s, updates=True,
                                                         receiver=receiver))
        self.detector = self.pipeline.detector
        self.assessor = self.pipeline.assessor
        #: what the detector screened since the last batch (every source, after fusion):
        #: the fixes the store keeps for an incident's track come from here, so that a
        #: radar-only track has its fixes too, not only transponder tracks
        self._screened: list[pd.DataFrame] = []
        if journal is not None:
            self.pipeline.taps.append(self._screened.append)
        self.gap_s = gap_s
        self.all_entries = all_entries
        self.sinks = list(sinks)
        self.stats = WatchStats()
        self.update_min_depth_m = update_min_depth_m
        self.update_min_alt_m = update_min_alt_m
        self._last_update: dict[str, tuple[float, float | None, float | None]] = {}
        self.tracks = TrackMemory(forget_after_s=gap_s)
        self._now = -np.inf
        self._last_expiry = -np.inf
        self._early = _early_warning(self.zones, approach_horizon_s, coverage)
        self._early_pending: list[pd.DataFrame] = []
        self._early_last = -np.inf

    def process(
        self, batch: pd.DataFrame | None, received_at: float | None = None, *,
        plots: pd.DataFrame | None = None, tracks: pd.DataFrame | None = None,
        now: float | None = None,
    ) -> list[dict[str, Any]]:
        """Run one batch of any sources through the pipeline; emit and return its events.

        ``now`` is the stream time the batch brings the watch to (a replay slice's end);
        by default the latest time in it.
        """
        out: list[dict[str, Any]] = []
        n = sum(len(f) for f in (batch, plots, tracks) if f is not None)
        if n:  # empty batches are heartbeats of a quiet feed: not counted
            self.stats.batches += 1
            self.stats.positions += n
            if batch is not None and len(batch):
                self.tracks.update(batch)
                if self._early is not None:
                    self._early_pending.append(batch)
        if n or now is not None:
            events = self._known_now(self.pipeline.process(batch, plots=plots, tracks=tracks,
                                                           now=now))
            out.extend(self._emit(e, received_at) for e in events if self._wanted(e))
            self._now = max(self._now, self.pipeline.now)
        if self._early is not None and self._now - self._early_last >= EARLY_WARNING_EVERY_S:
            out.extend(self._early_warnings())
        if self._now - self._last_expiry >= 1.0:
            self._last_expiry = self._now
            for e in self.detector.expire(self._now, self.gap_s):
                if self._wanted(e):
                    out.append(self._emit(e, received_at))
        if self.journal is not None:  # protocol timers, fixes for dossiers
            screened = self._screened[:]  # the tap holds this list: emptied, not replaced
            self._screened.clear()
            kept = (None if not screened else screened[0] if len(screened) == 1
                    else _concat(screened))
            out.extend(self._fan_out(e) for e in self.journal.advance(self._now, kept))
        return [o for o in out if o]

    def _early_warnings(self) -> list[dict[str, Any]]:
        """Approach, loitering and went-dark warnings on each track's latest fix."""
        self._early_last = self._now
        pending, self._early_pending = self._early_pending, []
        latest = pd.DataFrame()
        if pending:
            # numpy concatenation: pandas' concat checks every object cell for NA
            data = pd.DataFrame({c: np.concatenate([b[c].to_numpy() for b in pending])
                                 for c in pending[0].columns})
            latest = data.sort_values("time", kind="stable").drop_duplicates("icao24", keep="last")
            # how many messages each latest fix stands for: the went-dark rule measures
            # each track's own message interval with it
            latest = latest.assign(
                messages=latest["icao24"].map(data["icao24"].value_counts()).to_numpy())
        out = []
        radar_seen = self._radar_identified()
        for w in self._early.update(latest, now=self._now):
            if w.kind == "went_dark" and w.track in radar_seen:
                continue  # the radar sees it: fusion's went-dark outranks the guess
            rec = self.assessor.record(w.to_entry(), behaviours=w.behaviours)
            if self.all_entries or rec["violation"] or rec["severity"] != "info":
                out.append(self._send({**rec, "event": w.kind}))
        return out

    def _radar_identified(self) -> set[str]:
        """ICAO addresses that fusion has matched to a radar track (none without radar):
        their silence is judged by the radar, not guessed from the coverage."""
        if not self.pipeline.fuse:
            return set()
        return {i["icao24"] for i in self.pipeline.correlator.identities.values()}

    def close(self) -> list[dict[str, Any]]:
        """Stop: held radar fixes are decided, then every entry still open is emitted
        once as ``open``."""
        events = self._known_now(self.pipeline.close())
        return [o for o in (self._emit(e, None) for e in events if self._wanted(e)) if o]

    # -------------------------------------------------------------------------
    def _known_now(self, events: list[EntryEvent]) -> list[EntryEvent]:
        """``entry`` and ``update`` events filled with what is known at the end of the
        batch; other events unchanged.

        An entry event is the detector's snapshot at the crossing, before the inside
        fixes of the same batch were folded in: its entry is replaced by the entry as
        it stands now (still open in the detector, or ended later in this batch),
        without the exit. Then the track's latest callsign, emergency squawk and speed
        fill what the inside fixes did not give.
        """
        opened = {e.entry.track for e in events if e.kind == "entry"}
        now: dict[tuple[str, str, float], Entry] = {}
        if opened:
            now = {_key(x): x for x in self.detector.open_entries if x.track in opened}
            now.update((_key(e.entry), e.entry) for e in events
                       if e.kind == "exit" and e.entry.track in opened)
        out = []
        for e in events:
            if e.kind == "entry":
                cur = now.get(_key(e.entry), e.entry)
                e = replace(e, entry=self._with_track(
                    replace(cur, exited_at=None, exit_point=None, path=[])))
            elif e.kind == "update":
                e = replace(e, entry=self._with_track(replace(e.entry, path=[])))
            out.append(e)
        return out

    def _with_track(self, entry: Entry) -> Entry:
        """Fill ``entry`` (a copy) with its track's latest callsign, squawk and speed."""
        if entry.callsign is None:
            entry.callsign = self.tracks.callsign(entry.track)
        sq = self.tracks.squawk(entry.track)
        if sq in EMERGENCY_SQUAWKS and sq not in entry.squawks:
            entry.squawks = tuple(sorted({*entry.squawks, sq}))
        if entry.max_speed_ms is None:
            entry.max_speed_ms = self.tracks.speed_ms(entry.track)
        return entry

    def _wanted(self, e: EntryEvent) -> bool:
        if e.kind != "update":
            return True
        key = entry_id(e.entry.zone, e.entry.track, e.entry.entered_at)
        last = self._last_update.get(key)
        cur = (e.entry.max_depth_m, e.entry.min_altitude_m, e.entry.max_altitude_m)
        if last is None:
            self._last_update[key] = cur
            return False

        def moved(a: float | None, b: float | None) -> bool:
            return a is not None and (b is None or abs(a - b) >= self.update_min_alt_m)

        deeper = cur[0] >= last[0] + max(self.update_min_depth_m, 0.1 * last[0])
        if deeper or moved(cur[1], last[1]) or moved(cur[2], last[2]):
            self._last_update[key] = cur
            return True
        return False

    def _emit(self, e: EntryEvent, received_at: float | None) -> dict[str, Any]:
        rec = self.assessor.record(e.entry)
        if e.kind in ("exit", "open"):
            self._last_update.pop(rec["id"], None)
        elif e.kind == "entry":  # updates are measured against what the entry said
            self._last_update[rec["id"]] = (
                e.entry.max_depth_m, e.entry.min_altitude_m, e.entry.max_altitude_m)
        if not (self.all_entries or rec["violation"]):
            return {}
        if e.kind == "entry" and received_at is not None:
            self.stats.entry_latency_s.append(time.time() - received_at)
        return self._send({**rec, "event": e.kind})

    def _send(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.journal is not None:
            stored = self.journal.record(event)
            if stored is None:  # stored and alerted before (a feed replayed after a restart)
                return {}
            event = stored
        return self._fan_out(event)

    def _fan_out(self, event: dict[str, Any]) -> dict[str, Any]:
        kind = event["event"]
        self.stats.events[kind] = self.stats.events.get(kind, 0) + 1
        for sink in self.sinks:
            sink(event)
        return event


def _key(entry: Entry) -> tuple[str, str, float]:
    """What identifies an entry among those of one watcher."""
    return entry.zone, entry.track, entry.entered_at


def _early_warning(zones: Sequence[Zone], horizon_s: float | None,
                   coverage: CoverageModel | None = None) -> Any:
    """Approach, loitering and went-dark warnings (none when ``horizon_s`` is None)."""
    if horizon_s is None:
        return None
    from skyfence.detect.early_warning import EarlyWarning, EarlyWarningConfig

    return EarlyWarning(zones, EarlyWarningConfig(horizon_s=horizon_s), coverage)


def replay_batches(
    data: pd.DataFrame, *, speed: float = 0.0, slice_s: float | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterator[pd.DataFrame]:
    """Time-ordered slices of recorded observations, paced at ``speed`` x real time
    (0: as fast as possible)."""
    if len(data) == 0:
        return
    data = data.sort_values("time", kind="stable", ignore_index=True)
    t = data["time"].to_numpy()
    step = slice_s if slice_s is not None else (30.0 if speed <= 0 else max(0.1, 0.1 * speed))
    edges = np.arange(t[0], t[-1] + step, step)
    cuts = np.searchsorted(t, edges[1:], side="left")
    start_wall, t0 = time.monotonic(), t[0]
    lo = 0
    for hi in np.append(cuts, len(t)):
        if hi <= lo:
            continue
        if stop is not None and stop():
            return
        if speed > 0:
            target = start_wall + (t[hi - 1] - t0) / speed
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        batch = data.iloc[lo:hi]
        batch.attrs["received_at"] = time.time()
        yield batch
        lo = hi
