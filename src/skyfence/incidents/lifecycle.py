"""An incident's life: open → acknowledged → closed (and reopened), notes, steps done.

Every change is one transaction that updates the incident (only from a state the
change allows, checked in the UPDATE itself, so two operators cannot both acknowledge)
and appends an audit event with the operator, the wall-clock time and the note. The
audit (``events``) is append-only: nothing in skyfence updates or deletes its rows.

::

    open ──ack──► acknowledged ──close──► closed ──reopen──► open
      └────────────────close────────────────┘
    acknowledged ──reopen──► open

An acknowledged incident does not escalate: its overdue protocol steps stay visible
in ``skyfence incidents show`` but raise no ``escalation`` alert; reopening it (an
acknowledgement taken back) lets them escalate again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from skyfence.errors import UsageError
from skyfence.incidents.schema import EVENTS, INCIDENTS, STEPS
from skyfence.incidents.store import IncidentStore

__all__ = ["STATES", "TRANSITIONS", "Transition", "add_note", "change_state", "mark_step_done",
           "resolve_id"]

STATES = ("open", "acknowledged", "closed")


@dataclass(frozen=True)
class Transition:
    """A state change: from which states, to which, and the audit event's kind."""

    allowed_from: tuple[str, ...]
    to: str
    audit: str


TRANSITIONS = {
    "ack": Transition(("open",), "acknowledged", "acknowledged"),
    "close": Transition(("open", "acknowledged"), "closed", "closed"),
    "reopen": Transition(("closed", "acknowledged"), "open", "reopened"),
}


def resolve_id(store: IncidentStore, given: str) -> str:
    """The incident id ``given`` names: the full id or a unique prefix (6+ characters).

    Raises :class:`UsageError` naming the candidates when the prefix is ambiguous.
    """
    given = given.strip().lower()
    with store.engine.connect() as conn:
        if conn.execute(sa.select(INCIDENTS.c.id).where(INCIDENTS.c.id == given)).first():
            return given
        if len(given) < 6:
            raise UsageError(f"no incident {given!r} (give the id, or 6 or more of its first "
                             "characters)")
        like = given.replace("%", "").replace("_", "") + "%"
        ids = [r[0] for r in conn.execute(sa.select(INCIDENTS.c.id)
                                          .where(INCIDENTS.c.id.like(like)).limit(5))]
    if len(ids) == 1:
        return str(ids[0])
    if not ids:
        raise UsageError(f"no incident {given!r} in {store.shown}; `skyfence incidents list "
                         "--all` lists them")
    raise UsageError(f"{given!r} matches several incidents ({', '.join(ids)}): give more of "
                     "the id")


def change_state(store: IncidentStore, incident_id: str, action: str, operator: str,
                 note: str | None = None, *, now: float | None = None) -> str:
    """Apply ``action`` (``ack``, ``close``, ``reopen``); the new state.

    Raises :class:`UsageError` when the incident is not in a state the action allows.
    """
    tr = TRANSITIONS[action]
    now = time.time() if now is None else now
    with store.transaction() as conn:
        res = conn.execute(INCIDENTS.update()
                           .where(INCIDENTS.c.id == incident_id,
                                  INCIDENTS.c.state.in_(tr.allowed_from))
                           .values(state=tr.to, updated_at=now))
        if res.rowcount != 1:
            state = conn.execute(sa.select(INCIDENTS.c.state)
                                 .where(INCIDENTS.c.id == incident_id)).scalar_one_or_none()
            if state is None:
                raise UsageError(f"no incident {incident_id}")
            raise UsageError(f"incident {incident_id} is {state}{_by_whom(conn, incident_id)}; "
                             f"'{action}' needs it {' or '.join(tr.allowed_from)}")
        _append(conn, incident_id, tr.audit, operator, note, now)
    return tr.to


def add_note(store: IncidentStore, incident_id: str, operator: str, note: str, *,
             now: float | None = None) -> None:
    """Append a note to the incident's audit."""
    if not note.strip():
        raise UsageError("the note is empty")
    with store.transaction() as conn:
        _exists(conn, incident_id)
        _append(conn, incident_id, "note", operator, note, time.time() if now is None else now)


def mark_step_done(store: IncidentStore, incident_id: str, n: int, operator: str,
                   note: str | None = None, *, now: float | None = None) -> str:
    """Mark protocol step ``n`` (1-based, as ``incidents show`` numbers them) done; its
    text."""
    now = time.time() if now is None else now
    with store.transaction() as conn:
        _exists(conn, incident_id)
        step = conn.execute(sa.select(STEPS).where(STEPS.c.incident_id == incident_id,
                                                   STEPS.c.n == n)).first()
        if step is None:
            count = conn.execute(sa.select(sa.func.count()).select_from(STEPS)
                                 .where(STEPS.c.incident_id == incident_id)).scalar_one()
            raise UsageError(f"incident {incident_id} has no step {n} (it has {count})")
        if step.done_at is not None:
            raise UsageError(f"step {n} of incident {incident_id} was done by {step.done_by}")
        conn.execute(STEPS.update().where(STEPS.c.incident_id == incident_id, STEPS.c.n == n)
                     .values(done_at=now, done_by=operator))
        _append(conn, incident_id, "step_done", operator, note, now,
                data=f'{{"step":{n}}}')
    return str(step.text)


def _exists(conn: sa.Connection, incident_id: str) -> None:
    if conn.execute(sa.select(INCIDENTS.c.id).where(INCIDENTS.c.id == incident_id)).first() \
            is None:
        raise UsageError(f"no incident {incident_id}")


def _by_whom(conn: sa.Connection, incident_id: str) -> str:
    """`` (acknowledged by X at T)``: the last state change, for an error message."""
    from skyfence.incidents.record import iso_time

    row = conn.execute(sa.select(EVENTS.c.kind, EVENTS.c.operator, EVENTS.c.at)
                       .where(EVENTS.c.incident_id == incident_id,
                              EVENTS.c.kind.in_([t.audit for t in TRANSITIONS.values()]))
                       .order_by(EVENTS.c.seq.desc()).limit(1)).first()
    return "" if row is None else f" ({row.kind} by {row.operator} at {iso_time(row.at)})"


def _append(conn: sa.Connection, incident_id: str, kind: str, operator: str,
            note: str | None, now: float, data: str | None = None) -> None:
    conn.execute(EVENTS.insert().values(incident_id=incident_id, at=now, feed_at=None,
                                        kind=kind, operator=operator, note=note, data=data))
