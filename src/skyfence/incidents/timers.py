"""Protocol steps as timers: an overdue step of an unacknowledged incident escalates.

Each protocol step of an incident is stored with a due time: the incident's first
entry time plus the step's ``after_s`` (the policy's escalation time; a step without
``after_s`` is due at once and is part of the alert itself, it has no timer). When the
clock passes a step's due time and the step is not done and the incident is still
``open`` (nobody acknowledged it), the step escalates: ``escalated_at`` is set, an
``escalation`` alert (the incident's latest entry record plus ``event: escalation``,
``incident`` and ``step``) goes to the outbox, and the audit says so. Each step
escalates once.

The clock is the feed's in a replay (a step due at T escalates with time T, after the
batch that reaches T, so a replay at any speed escalates the same way) and the
station's wall clock live. Timers live in the store, so a watcher that restarts
resumes them; they belong to the feed (``origin``) that raised the incident, so a
replay's incidents never escalate in a live watcher or in another replay.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from skyfence.incidents.record import iso_time
from skyfence.incidents.schema import ENTRIES, EVENTS, INCIDENTS, STEPS
from skyfence.incidents.store import IncidentStore, dumps
from skyfence.incidents.writer import alert_key, incident_view, queue_alert

__all__ = ["escalate_due", "next_due"]


def _due_steps(origin: str) -> sa.Select[Any]:
    return (sa.select(STEPS)
            .join(INCIDENTS, INCIDENTS.c.id == STEPS.c.incident_id)
            .where(INCIDENTS.c.origin == origin, INCIDENTS.c.state == "open",
                   STEPS.c.after_s.is_not(None), STEPS.c.done_at.is_(None),
                   STEPS.c.escalated_at.is_(None)))


def next_due(store: IncidentStore, origin: str) -> float | None:
    """The earliest due time of a timer that may still escalate (None: none)."""
    q = _due_steps(origin).with_only_columns(sa.func.min(STEPS.c.due_at))
    with store.engine.connect() as conn:
        v = conn.execute(q).scalar()
    return None if v is None else float(v)


def escalate_due(store: IncidentStore, origin: str, now: float, sinks: Sequence[str], *,
                 feed_clock: bool, wall_now: float | None = None) -> list[dict[str, Any]]:
    """Escalate every step of ``origin`` due by ``now``; the alerts queued, in due order.

    With ``feed_clock`` the escalation time is the step's due time (the feed passed it);
    otherwise it is ``now``.
    """
    wall = time.time() if wall_now is None else wall_now
    out = []
    with store.transaction() as conn:
        due = conn.execute(_due_steps(origin).where(STEPS.c.due_at <= now)
                           .order_by(STEPS.c.due_at, STEPS.c.incident_id, STEPS.c.n)).all()
        for st in due:
            at = st.due_at if feed_clock else now
            claimed = conn.execute(
                STEPS.update()
                .where(STEPS.c.incident_id == st.incident_id, STEPS.c.n == st.n,
                       STEPS.c.escalated_at.is_(None), STEPS.c.done_at.is_(None))
                .where(sa.exists().where(INCIDENTS.c.id == st.incident_id,
                                         INCIDENTS.c.state == "open"))
                .values(escalated_at=at))
            if claimed.rowcount != 1:
                continue  # acknowledged or done meanwhile
            payload = _escalation(conn, st, at)
            queue_alert(store, conn, payload, sinks, incident_id=st.incident_id,
                        entry_id=payload.get("id"), feed_at=at if feed_clock else None,
                        now=wall)
            conn.execute(EVENTS.insert().values(
                incident_id=st.incident_id, at=wall, feed_at=at if feed_clock else None,
                kind="escalated", operator="skyfence", note=st.text,
                data=dumps({"step": st.n, "due_at": iso_time(st.due_at)})))
            out.append(payload)
    return out


def _escalation(conn: sa.Connection, st: Any, at: float) -> dict[str, Any]:
    """The escalation alert: the latest entry record in the zone that names the incident,
    the incident, the step."""
    incident = incident_view(conn, st.incident_id)
    rows = conn.execute(sa.select(ENTRIES.c.zone, ENTRIES.c.record)
                        .where(ENTRIES.c.incident_id == st.incident_id)
                        .order_by(ENTRIES.c.entered_at.desc())).all()
    rec = next((r.record for r in rows if r.zone == incident["zone"]), rows[0].record)
    payload: dict[str, Any] = {**json.loads(rec), "event": "escalation",
                               "incident": incident,
                               "step": {"n": st.n, "step": st.text, "after_s": st.after_s,
                                        "due_at": iso_time(st.due_at),
                                        "escalated_at": iso_time(at)}}
    payload["idempotency_key"] = alert_key(payload)
    return payload
