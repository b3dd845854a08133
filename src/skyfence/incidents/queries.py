"""Reading the store: incidents as records, and everything about one incident.

:func:`incident_records` lists incidents as JSON-ready records (the ``incidents list``
and ``export`` formats); :func:`incident_detail` gathers one incident's entries,
protocol steps, audit, alerts per sink and dossier (``incidents show``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypedDict

import sqlalchemy as sa

from skyfence.incidents.record import iso_time
from skyfence.incidents.schema import (
    ALERTS,
    DOSSIERS,
    ENTRIES,
    EVENTS,
    INCIDENTS,
    OUTBOX,
    STEPS,
)
from skyfence.incidents.store import IncidentStore

__all__ = ["INCIDENT_FIELDS", "IncidentRecord", "deepest_point", "incident_detail",
           "incident_records"]

INCIDENT_FIELDS = (
    "id", "state", "zone", "zone_kind", "also_in", "track", "icao24", "callsign",
    "violation", "severity", "first_entered_at", "last_exited_at", "last_inside_at",
    "inside_s", "max_depth_m", "deepest_entry", "crossings", "open_entries", "entries",
    "steps", "steps_done", "steps_escalated", "origin", "created_at", "updated_at", "tracks",
)


class IncidentRecord(TypedDict):
    """An incident as ``incidents list --format jsonl`` prints it (times ISO 8601 UTC)."""

    id: str
    state: str
    zone: str
    zone_kind: str
    also_in: list[str]
    track: str
    icao24: str | None
    callsign: str | None
    violation: bool
    severity: str
    first_entered_at: str | None
    last_exited_at: str | None
    last_inside_at: str | None
    inside_s: float
    max_depth_m: float
    deepest_entry: str
    crossings: int
    open_entries: int
    entries: list[str]
    steps: int
    steps_done: int
    steps_escalated: int
    origin: str
    created_at: str | None
    updated_at: str | None
    #: the tracks of its entries, first seen first (several when a track lost inside
    #: was continued by another, see :mod:`skyfence.incidents.grouping`)
    tracks: list[str]


def incident_records(store: IncidentStore, *, every: bool = False,
                     states: Sequence[str] = (), zone: str | None = None,
                     track: str | None = None, ids: Sequence[str] = ()) -> list[IncidentRecord]:
    """Incidents, oldest first: by default the violations not closed; ``every``: all."""
    q = sa.select(INCIDENTS).order_by(INCIDENTS.c.first_entered_at, INCIDENTS.c.id)
    if not every:
        q = q.where(INCIDENTS.c.violation.is_(True), INCIDENTS.c.state != "closed")
    if states:
        q = q.where(INCIDENTS.c.state.in_(list(states)))
    if zone:
        q = q.where(sa.or_(INCIDENTS.c.zone == zone.upper(), INCIDENTS.c.zone == zone,
                           INCIDENTS.c.also_in.like(f'%"{zone.upper()}"%')))
    if track:  # the incident's first track, or one that continued it
        q = q.where(sa.or_(INCIDENTS.c.track == track, INCIDENTS.c.id.in_(
            sa.select(ENTRIES.c.incident_id).where(ENTRIES.c.track == track))))
    if ids:
        q = q.where(INCIDENTS.c.id.in_(list(ids)))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
        wanted = [r.id for r in rows]
        entries: dict[str, list[str]] = {i: [] for i in wanted}
        tracks: dict[str, list[str]] = {r.id: [r.track] for r in rows}
        steps: dict[str, list[int]] = {i: [0, 0, 0] for i in wanted}
        for part in _chunks(wanted, 500):
            for inc, eid, track in conn.execute(
                    sa.select(ENTRIES.c.incident_id, ENTRIES.c.id, ENTRIES.c.track)
                    .where(ENTRIES.c.incident_id.in_(part))
                    .order_by(ENTRIES.c.entered_at, ENTRIES.c.id)):
                entries[inc].append(eid)
                if track not in tracks[inc]:
                    tracks[inc].append(track)
            for st in conn.execute(sa.select(STEPS.c.incident_id, STEPS.c.done_at,
                                             STEPS.c.escalated_at)
                                   .where(STEPS.c.incident_id.in_(part))):
                c = steps[st.incident_id]
                c[0] += 1
                c[1] += st.done_at is not None
                c[2] += st.escalated_at is not None
    return [_record(r, entries[r.id], steps[r.id], tracks[r.id]) for r in rows]


def _chunks(items: list[str], n: int) -> list[list[str]]:
    return [items[i:i + n] for i in range(0, len(items), n)]


def _record(r: Any, entries: list[str], steps: list[int], tracks: list[str]
            ) -> IncidentRecord:
    return {
        "id": r.id, "state": r.state, "zone": r.zone, "zone_kind": r.zone_kind,
        "also_in": json.loads(r.also_in), "track": r.track, "icao24": r.icao24,
        "callsign": r.callsign, "violation": bool(r.violation), "severity": r.severity,
        "first_entered_at": iso_time(r.first_entered_at),
        "last_exited_at": iso_time(r.last_exited_at),
        "last_inside_at": iso_time(r.last_inside_at), "inside_s": round(r.inside_s, 3),
        "max_depth_m": round(r.max_depth_m, 1), "deepest_entry": r.deepest_entry,
        "crossings": r.crossings, "open_entries": r.open_entries, "entries": entries,
        "steps": steps[0], "steps_done": steps[1], "steps_escalated": steps[2],
        "origin": r.origin, "created_at": iso_time(r.created_at),
        "updated_at": iso_time(r.updated_at), "tracks": tracks,
    }


def incident_detail(store: IncidentStore, incident_id: str) -> dict[str, Any]:
    """Everything about one incident: its record, entries (contract records with their
    state), steps, audit, alerts (per sink: delivered, pending, rejected) and dossier."""
    from skyfence.alerts.outbox import sink_states

    with store.engine.connect() as conn:
        entries = conn.execute(sa.select(ENTRIES.c.record, ENTRIES.c.state)
                               .where(ENTRIES.c.incident_id == incident_id)
                               .order_by(ENTRIES.c.entered_at)).all()
        steps = conn.execute(sa.select(STEPS).where(STEPS.c.incident_id == incident_id)
                             .order_by(STEPS.c.due_at, STEPS.c.n)).all()
        events = conn.execute(sa.select(EVENTS).where(EVENTS.c.incident_id == incident_id)
                              .order_by(EVENTS.c.seq)).all()
        alerts = conn.execute(sa.select(ALERTS.c.seq, ALERTS.c.event, ALERTS.c.key,
                                        ALERTS.c.created_at)
                              .where(ALERTS.c.incident_id == incident_id)
                              .order_by(ALERTS.c.seq)).all()
        outbox = conn.execute(sa.select(OUTBOX).join(ALERTS, ALERTS.c.seq == OUTBOX.c.alert_seq)
                              .where(ALERTS.c.incident_id == incident_id)
                              .order_by(OUTBOX.c.alert_seq, OUTBOX.c.sink)).all()
        dossier = conn.execute(sa.select(DOSSIERS)
                               .where(DOSSIERS.c.incident_id == incident_id)).first()
    by_alert: dict[int, list[dict[str, Any]]] = {}
    for o in outbox:
        by_alert.setdefault(o.alert_seq, []).append({
            "sink": o.sink, "state": o.state, "attempts": o.attempts,
            "delivered_at": iso_time(o.delivered_at), "last_error": o.last_error,
            "next_try_at": iso_time(o.next_try_at) if o.state == "pending" else None})
    return {
        "incident": incident_records(store, every=True, ids=[incident_id])[0],
        "entries": [{**json.loads(e.record), "entry_state": e.state} for e in entries],
        "steps": [{"n": s.n, "step": s.text, "after_s": s.after_s, "due_at": iso_time(s.due_at),
                   "done_at": iso_time(s.done_at), "done_by": s.done_by,
                   "escalated_at": iso_time(s.escalated_at)} for s in steps],
        "audit": [{"at": iso_time(e.at), "feed_at": iso_time(e.feed_at), "kind": e.kind,
                   "operator": e.operator, "note": e.note,
                   "data": json.loads(e.data) if e.data else None} for e in events],
        "alerts": [{"seq": a.seq, "event": a.event, "idempotency_key": a.key,
                    "created_at": iso_time(a.created_at), "deliveries": by_alert.get(a.seq, [])}
                   for a in alerts],
        "delivery": [{"sink": s.sink, "delivered": s.delivered, "pending": s.pending,
                      "rejected": s.rejected, "attempts": s.attempts,
                      "last_error": s.last_error}
                     for s in sink_states(store, incident_id=incident_id)],
        "deepest_point": deepest_point(store, incident_id),
        "dossier": None if dossier is None else {
            "state": dossier.state, "path": dossier.path,
            "statement_sha256": dossier.statement_sha256, "error": dossier.error,
            "requested_at": iso_time(dossier.requested_at),
            "built_at": iso_time(dossier.built_at)},
    }


def deepest_point(store: IncidentStore, incident_id: str) -> dict[str, Any] | None:
    """Where the incident went deepest: the deepest inside fix of its deepest entry
    (time, position, depth), from the fixes the store holds (a watched incident); None
    when it holds none (a scanned incident: ``dossier build`` reads them again)."""
    from skyfence.evidence.trackfacts import track_facts
    from skyfence.incidents.dossiers import zone_from_store
    from skyfence.incidents.recorder import read_observations

    with store.engine.connect() as conn:
        entry = conn.execute(sa.select(ENTRIES).join(
            INCIDENTS, INCIDENTS.c.deepest_entry == ENTRIES.c.id)
            .where(INCIDENTS.c.id == incident_id)).first()
        if entry is None:
            return None
        obs = read_observations(store, entry.track, entry.entered_at, entry.last_inside_at)
        if not len(obs):
            return None
        zone = zone_from_store(conn, entry.zone_sha256, entry.zone)
    facts = track_facts(obs, zone, json.loads(entry.record))
    if facts.deepest is None:
        return None
    i = facts.deepest
    return {"entry": entry.id, "time": iso_time(float(facts.time[i])),
            "lat": round(float(facts.lat[i]), 6), "lon": round(float(facts.lon[i]), 6),
            "depth_m": round(float(facts.signed_distance_m[i]), 1)}
