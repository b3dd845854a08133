"""What a watcher with a store does with its events: store first, alert from the outbox.

:class:`IncidentJournal` is the watcher's one hook into the store
(:class:`~skyfence.service.watch.Watcher` calls :meth:`IncidentJournal.record` for each
event and :meth:`IncidentJournal.advance` after each batch):

- :meth:`record` commits the event (entry, incident, audit, alert, one outbox row per
  sink) and wakes the outbox; nothing reaches a sink before the commit. An event whose
  alert is already stored (the same feed replayed after a restart) is dropped.
- :meth:`advance` moves the clock (the feed's in a replay, the wall clock live), fires
  due protocol timers (``escalation`` alerts), keeps the fixes of incident tracks for
  dossiers, and asks for the dossier of each critical incident that is over (its last
  exit 10 minutes behind, or closed by the operator).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from skyfence.alerts.retry import Backoff
from skyfence.errors import StoreError
from skyfence.evidence.observations import PAD_S
from skyfence.evidence.timefmt import parse_iso
from skyfence.incidents.recorder import ObservationRecorder
from skyfence.incidents.schema import DOSSIERS, INCIDENTS
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.timers import escalate_due, next_due
from skyfence.incidents.writer import ENTRY_EVENTS, Run, record_alert

__all__ = ["IncidentJournal"]

log = logging.getLogger(__name__)

#: how often (clock seconds) the journal looks for incidents whose dossier is due
DOSSIER_CHECK_S = 5.0


class IncidentJournal:
    """The store side of a watcher (see the module docstring).

    Parameters
    ----------
    store, run
        Where to write, and the run (origin, policy, zones) written as.
    sinks
        Names of the outbox sinks each alert is queued for.
    feed_clock
        True in a replay: timers run on the feed's time; False live: on the wall clock.
    on_queued
        Called after each commit that queued alerts (wakes the outbox).
    dossiers
        Ask for the dossiers of critical incidents (a dossier worker builds them).
    """

    def __init__(self, store: IncidentStore, run: Run, sinks: Sequence[str], *,
                 feed_clock: bool, on_queued: Callable[[], None] = lambda: None,
                 recorder: ObservationRecorder | None = None, dossiers: bool = False,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.run = run
        self.sinks = list(sinks)
        self.feed_clock = feed_clock
        self.on_queued = on_queued
        self.recorder = recorder
        self.dossiers = dossiers
        self.wall_clock = wall_clock
        self.repeats = 0
        #: the store stayed away beyond the retries (the watcher is stopping)
        self.store_failed = False
        self._next_due = _retrying(lambda: next_due(store, run.origin), store)
        self._dossier_checked = -float("inf")
        self._on_dossier: Callable[[], None] = lambda: None
        #: track -> entry id -> feed time until which that entry wants the track's fixes
        #: (inf: inside); the track is followed until the latest of them
        self._follow_until: dict[str, dict[str, float]] = {}

    def on_dossier_requested(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after a dossier is asked for (wakes the dossier worker)."""
        self._on_dossier = callback

    # ------------------------------------------------------------------ events
    def record(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """Store ``event`` and queue its alert; the payload sinks get, or None for a
        repeat."""
        payload = self._try(lambda: record_alert(self.store, self.run, event, self.sinks,
                                                 feed_at=_feed_time(event),
                                                 now=self.wall_clock()))
        if payload is None:
            self.repeats += 1
            return None
        if event["event"] in ENTRY_EVENTS:
            self._follow(event)
            self._next_due = self._due()
        self.on_queued()
        return payload

    def _follow(self, event: Mapping[str, Any]) -> None:
        """Keep the track's fixes while any of its entries is open, then until
        ``PAD_S`` after the last one ended (an entry's exit ends what its entry began)."""
        if self.recorder is None:
            return
        if event["event"] in ("entry", "update"):
            until = float("inf")
        else:
            end = event["exited_at"] or event["last_inside_at"]
            until = parse_iso(end) + PAD_S
        ends = self._follow_until.setdefault(event["track"], {})
        ends[event["id"]] = until
        latest = max(ends.values())
        if latest < float("inf"):  # every entry of the track ended: the latest end stands
            ends.clear()
            ends[""] = latest
        self.recorder.follow(event["track"], latest)

    @property
    def followed_tracks(self) -> int:
        """Tracks whose fixes are kept for dossiers: an entry of theirs is open, or
        their last entry ended less than ``PAD_S`` ago (feed time)."""
        return len(self._follow_until)

    def _forget_followed(self, feed_now: float) -> None:
        """Drop the tracks followed until before ``feed_now`` (the recorder stops with
        them too), so that a watch running for weeks holds the tracks it follows, not
        every track it ever followed."""
        done = [t for t, ends in self._follow_until.items() if max(ends.values()) < feed_now]
        for track in done:
            del self._follow_until[track]

    # ------------------------------------------------------------------- clock
    def flush(self) -> None:
        """Write what is held in memory (fixes for dossiers)."""
        if self.recorder is None:
            return
        if not self.store_failed:
            self._try(self.recorder.flush)
            return
        try:  # the store already stayed away: one try, no second half-minute of retries
            self.recorder.flush()
        except sa.exc.OperationalError as exc:
            log.warning("incident store: the last fixes for dossiers were not written (%s)",
                        str(exc.orig).strip() or exc)

    def _due(self) -> float | None:
        return self._try(lambda: next_due(self.store, self.run.origin))

    def _try(self, work: Callable[[], T]) -> T:
        """``work`` on the store, retried while it is away (:func:`_retrying`)."""
        try:
            return _retrying(work, self.store)
        except StoreError:
            self.store_failed = True
            raise

    def now(self, feed_now: float) -> float:
        """The timer clock: the feed's time in a replay, the wall clock live."""
        return feed_now if self.feed_clock else self.wall_clock()

    def advance(self, feed_now: float, batch: pd.DataFrame | None = None
                ) -> list[dict[str, Any]]:
        """After a batch: keep fixes, fire due timers; the escalation alerts queued."""
        if self.recorder is not None and feed_now > -float("inf"):
            recorder = self.recorder
            recorder.add(batch, feed_now, write=False)
            self._try(lambda: recorder.write_due(feed_now))
            self._forget_followed(feed_now)
        now = self.now(feed_now)
        out: list[dict[str, Any]] = []
        if self._next_due is not None and now >= self._next_due:
            out = self._try(lambda: escalate_due(self.store, self.run.origin, now, self.sinks,
                                                 feed_clock=self.feed_clock,
                                                 wall_now=self.wall_clock()))
            self._next_due = self._due()
            if out:
                self.on_queued()
        if self.dossiers and now - self._dossier_checked >= DOSSIER_CHECK_S:
            self._dossier_checked = now
            ended = now - max(PAD_S, self.run.settings.merge_s)
            self._try(lambda: self.request_dossiers(ended))
        return out

    def request_dossiers(self, ended_before: float | None = None) -> int:
        """Ask for the dossier of every critical incident of this feed that has none and
        is over: closed, or every entry ended before ``ended_before`` (None: ended at
        all, at shutdown). The number asked for."""
        if self.recorder is not None:  # the dossier worker reads the fixes from the store
            self.recorder.flush()
        over = sa.and_(INCIDENTS.c.open_entries == 0, INCIDENTS.c.last_exited_at.is_not(None))
        if ended_before is not None:
            over = sa.and_(over, INCIDENTS.c.last_exited_at <= ended_before)
        q = (sa.select(INCIDENTS.c.id)
             .where(INCIDENTS.c.origin == self.run.origin, INCIDENTS.c.severity == "critical",
                    sa.or_(over, INCIDENTS.c.state == "closed"))
             .where(~sa.exists().where(DOSSIERS.c.incident_id == INCIDENTS.c.id)))
        with self.store.transaction() as conn:
            ids = [r[0] for r in conn.execute(q)]
            n = self.store.insert_new(conn, DOSSIERS, [
                {"incident_id": i, "state": "pending", "requested_at": self.wall_clock()}
                for i in ids])
        if n:
            log.info("dossier asked for %d critical incident(s)", n)
            self._on_dossier()
        return n


T = TypeVar("T")
#: how a read or write that the database refused (connection lost, PostgreSQL restarting, SQLite
#: busy beyond its timeout) is tried again before the watcher gives up: about 30 s
STORE_RETRY = Backoff(first_s=0.25, max_s=8.0)
STORE_ATTEMPTS = 7


def _retrying(write: Callable[[], T], store: IncidentStore) -> T:
    """Run a store write, retrying when the database is away for a moment; a
    :class:`StoreError` naming the store when it stays away (no alert can leave
    uncommitted, so the watcher stops rather than alert from memory)."""
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            return write()
        except sa.exc.OperationalError as exc:
            if attempt == STORE_ATTEMPTS:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise StoreError(f"--store {store.shown}: cannot write ({reason})") from None
            log.warning("incident store: write failed (%s); trying again", exc.orig)
            time.sleep(STORE_RETRY.delay_s(attempt))
    raise AssertionError("unreachable")


def _feed_time(event: Mapping[str, Any]) -> float | None:
    """The data time an event happened at (its exit, else its last inside fix)."""
    t = event.get("exited_at") or event.get("last_inside_at") or event.get("entered_at")
    return parse_iso(t) if t else None
