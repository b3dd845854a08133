"""Delivering alerts from the store's outbox: at least once, in order, across restarts.

An alert is committed to the store (``alerts``, one ``outbox`` row per sink) before any
sink sees it (:mod:`skyfence.incidents.writer`). :class:`OutboxDispatcher` runs one
sender thread per sink. Each takes the sink's oldest undelivered row and tries it;
on success the row is marked ``delivered`` (with the time), on a permanent refusal
(:class:`Rejected`: a webhook answering 4xx other than 408/425/429, a mail server
refusing the recipient) ``rejected`` with the reason, and on any other failure it stays
``pending`` with ``attempts`` counted, the error kept and ``next_try_at`` set by
:class:`~skyfence.alerts.retry.Backoff` (0.5 s doubling to 60 s): the sender waits and
tries the same row again, never giving up. A sink that is down for an hour therefore
loses nothing and then receives every alert, in the order they were raised (a later
alert never overtakes an earlier one on the same sink).

The operator reads one line when a sink starts failing (the first failed attempt of an
outage, with its error) and one when it delivers again (how long it was down, how many
attempts failed, how many alerts are still to send); the attempts in between are
logged at debug level only.

A row delivered but not yet marked when the process dies is delivered again after the
restart: delivery is at least once, and every alert carries its idempotency key (in
the payload, and as a header or Message-ID) so that receivers drop repeats. A restart
resumes every pending row of the sinks it is given.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from skyfence.alerts.retry import Backoff, Rejected
from skyfence.incidents.schema import ALERTS, OUTBOX
from skyfence.incidents.store import IncidentStore

__all__ = ["Delivery", "DeliveryState", "FunctionDelivery", "OutboxDispatcher", "Rejected",
           "sink_states"]

log = logging.getLogger(__name__)

#: the outbox's retry schedule: patient, because the alert must get through
OUTBOX_BACKOFF = Backoff(first_s=0.5, max_s=60.0)


class Delivery(Protocol):
    """A sink the outbox delivers to: a stable ``name`` (the outbox key) and
    :meth:`deliver`, which raises on failure (:class:`Rejected` when permanent)."""

    name: str

    def deliver(self, body: bytes, payload: Mapping[str, Any], key: str) -> None:
        """Deliver one alert: ``body`` is its exact JSON, ``payload`` the same parsed."""


@dataclass
class FunctionDelivery:
    """A sink that is a function of the event (console, JSON Lines)."""

    name: str
    function: Callable[[dict[str, Any]], None]

    def deliver(self, body: bytes, payload: Mapping[str, Any], key: str) -> None:
        """Call the function with the event."""
        self.function(dict(payload))


@dataclass
class DeliveryState:
    """A sink's outbox rows by state (for the summary line and ``incidents show``)."""

    sink: str
    delivered: int = 0
    pending: int = 0
    rejected: int = 0
    attempts: int = 0
    last_error: str | None = None

    def summary(self) -> str:
        """One line for the operator."""
        text = f"{self.delivered} delivered, {self.pending} pending"
        if self.rejected:
            text += f", {self.rejected} rejected"
        if self.last_error and self.pending:
            text += f" (last error: {self.last_error})"
        return text


def sink_states(store: IncidentStore, sinks: Sequence[str] | None = None,
                incident_id: str | None = None) -> list[DeliveryState]:
    """Outbox counts per sink (all sinks, or ``sinks``; all alerts, or one incident's)."""
    q = (sa.select(OUTBOX.c.sink, OUTBOX.c.state, sa.func.count(), sa.func.sum(OUTBOX.c.attempts))
         .group_by(OUTBOX.c.sink, OUTBOX.c.state))
    if incident_id is not None:
        q = q.join(ALERTS, ALERTS.c.seq == OUTBOX.c.alert_seq).where(
            ALERTS.c.incident_id == incident_id)
    if sinks is not None:
        q = q.where(OUTBOX.c.sink.in_(list(sinks)))
    out: dict[str, DeliveryState] = {s: DeliveryState(s) for s in sinks or ()}
    with store.engine.connect() as conn:
        for sink, state, n, attempts in conn.execute(q):
            st = out.setdefault(sink, DeliveryState(sink))
            setattr(st, state, getattr(st, state) + int(n))
            st.attempts += int(attempts or 0)
        eq = (sa.select(OUTBOX.c.sink, OUTBOX.c.last_error)
              .where(OUTBOX.c.state == "pending", OUTBOX.c.last_error.is_not(None))
              .where(OUTBOX.c.sink.in_(list(out)))
              .order_by(OUTBOX.c.alert_seq))
        if incident_id is not None:
            eq = eq.join(ALERTS, ALERTS.c.seq == OUTBOX.c.alert_seq).where(
                ALERTS.c.incident_id == incident_id)
        errors = conn.execute(eq).all()
    for sink, err in errors:
        if out[sink].last_error is None:
            out[sink].last_error = err
    return sorted(out.values(), key=lambda s: s.sink)


class OutboxDispatcher:
    """One sender thread per sink, delivering the store's outbox (see the module)."""

    def __init__(self, store: IncidentStore, deliveries: Sequence[Delivery], *,
                 backoff: Backoff = OUTBOX_BACKOFF, poll_s: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.deliveries = list(deliveries)
        self.backoff = backoff
        self.poll_s = poll_s
        self.clock = clock
        self._cv = threading.Condition()
        #: per sink in an outage: (wall time of its first failed attempt, failed attempts)
        self._down: dict[str, tuple[float, int]] = {}
        self._stop = False
        self._wake = 0
        self._threads = [threading.Thread(target=self._run, args=(d,), daemon=True,
                                          name=f"skyfence-outbox-{i}")
                         for i, d in enumerate(self.deliveries)]

    @property
    def sinks(self) -> list[str]:
        """The outbox names of the sinks delivered to."""
        return [d.name for d in self.deliveries]

    def start(self) -> OutboxDispatcher:
        """Start the senders (they first deliver what an earlier run left pending)."""
        for t in self._threads:
            t.start()
        return self

    def notify(self) -> None:
        """New rows were committed: senders look now instead of at their next poll."""
        with self._cv:
            self._wake += 1
            self._cv.notify_all()

    def pending(self) -> int:
        """Rows of these sinks not delivered yet."""
        q = (sa.select(sa.func.count()).select_from(OUTBOX)
             .where(OUTBOX.c.sink.in_(self.sinks), OUTBOX.c.state == "pending"))
        with self.store.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def drain(self, timeout_s: float) -> list[DeliveryState]:
        """Wait up to ``timeout_s`` for the outbox to empty, then stop the senders; the
        state of each sink (what is still pending stays in the store for the next run)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if not self.pending():
                    break
            except sa.exc.SQLAlchemyError:  # the store is away: the senders wait too
                pass
            with self._cv:
                self._cv.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        self.stop()
        try:
            return sink_states(self.store, self.sinks)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("outbox: cannot read the store to say what is still pending: %s",
                        exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc)
            return []

    def stop(self) -> None:
        """Stop the senders (a delivery in progress finishes first)."""
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        for t in self._threads:
            t.join(30.0)

    # ------------------------------------------------------------------ sender
    def _next(self, sink: str) -> Any:
        q = (sa.select(OUTBOX.c.alert_seq, OUTBOX.c.attempts, OUTBOX.c.next_try_at,
                       ALERTS.c.key, ALERTS.c.payload)
             .join(ALERTS, ALERTS.c.seq == OUTBOX.c.alert_seq)
             .where(OUTBOX.c.sink == sink, OUTBOX.c.state == "pending")
             .order_by(OUTBOX.c.alert_seq).limit(1))
        with self.store.engine.connect() as conn:
            return conn.execute(q).first()

    def _wait(self, seen: int, seconds: float) -> int:
        with self._cv:
            if not self._stop and self._wake == seen:
                self._cv.wait(seconds)
            return self._wake

    def _run(self, sink: Delivery) -> None:
        seen = -1
        while not self._stop:
            try:
                row = self._next(sink.name)
            except sa.exc.SQLAlchemyError as exc:  # the database is away: try again later
                log.warning("outbox %s: cannot read the store: %s", sink.name, exc)
                seen = self._wait(seen, self.poll_s)
                continue
            if row is None:
                seen = self._wait(seen, self.poll_s)
                continue
            wait = row.next_try_at - self.clock()
            if wait > 0:
                seen = self._wait(seen, min(wait, self.poll_s))
                continue
            self._attempt(sink, row)

    def _attempt(self, sink: Delivery, row: Any) -> None:
        body = row.payload.encode("utf-8")
        try:
            sink.deliver(body, json.loads(row.payload), row.key)
        except Rejected as exc:
            self._mark(sink.name, row, "rejected", str(exc))
            log.warning("outbox %s: alert %s rejected: %s", sink.name, row.key, exc)
        except Exception as exc:  # any failure is retried: the sink may come back
            n = row.attempts + 1
            error = f"{type(exc).__name__}: {exc}"
            self._mark(sink.name, row, "pending", error,
                       next_try_at=self.clock() + self.backoff.delay_s(n))
            self._failed(sink.name, error)
            log.debug("outbox %s: attempt %d of alert %s failed: %s", sink.name, n, row.key,
                      exc)
        else:
            self._mark(sink.name, row, "delivered", None)
            self._recovered(sink.name)

    def _failed(self, sink: str, error: str) -> None:
        """Count a failed attempt; the first of an outage is one warning line."""
        since, n = self._down.get(sink, (self.clock(), 0))
        self._down[sink] = (since, n + 1)
        if n == 0:
            log.warning("outbox %s: cannot deliver (%s); alerts are kept in the store and "
                        "retried until it answers", sink, error)

    def _recovered(self, sink: str) -> None:
        """A delivery after an outage: one line saying how long and what waited."""
        if sink not in self._down:
            return
        since, n = self._down.pop(sink)
        try:
            waiting = self._pending_of(sink)
        except sa.exc.SQLAlchemyError:
            waiting = -1
        log.warning("outbox %s: delivering again after %.0f s down (%d failed attempts); "
                    "%s alert(s) still to send", sink, self.clock() - since, n,
                    waiting if waiting >= 0 else "some")

    def _pending_of(self, sink: str) -> int:
        q = (sa.select(sa.func.count()).select_from(OUTBOX)
             .where(OUTBOX.c.sink == sink, OUTBOX.c.state == "pending"))
        with self.store.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def _mark(self, sink: str, row: Any, state: str, error: str | None,
              next_try_at: float | None = None) -> None:
        values: dict[str, Any] = {"state": state, "attempts": row.attempts + 1,
                                  "last_error": error}
        if state == "delivered":
            values["delivered_at"] = self.clock()
        if next_try_at is not None:
            values["next_try_at"] = next_try_at
        for attempt in range(100):  # the store may be busy or away for a moment
            try:
                with self.store.transaction() as conn:
                    conn.execute(OUTBOX.update().where(OUTBOX.c.alert_seq == row.alert_seq,
                                                       OUTBOX.c.sink == sink).values(**values))
                return
            except sa.exc.OperationalError as exc:
                if attempt == 0:  # one line, not one per try
                    log.warning("outbox %s: cannot mark alert %s %s (%s); trying again", sink,
                                row.key, state, str(exc.orig).strip() or exc)
                if self._stop:
                    break
                with self._cv:
                    self._cv.wait(0.5)
        log.warning("outbox %s: alert %s could not be marked %s; it stays pending in the "
                    "store and goes out again, with the same key, at the next start", sink,
                    row.key, state)
