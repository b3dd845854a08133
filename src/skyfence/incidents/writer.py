"""Writing what scan and watch report into the store: runs, entries, incidents, alerts.

A run (:func:`begin_run`) records the policy text, the zones (national by code and
bundle, custom by their exact GeoJSON) and the options, so that an incident can be
documented later from the store alone. Then:

- :func:`store_records` (scan): the final records, grouped into incidents;
- :func:`record_alert` (watch): one event, in one transaction: the entry and its
  incident are updated, the alert is stored under its idempotency key and queued in
  the outbox for every sink. An alert whose key is already stored (the same feed
  replayed after a restart) changes nothing and is not queued again.

Grouping is :mod:`skyfence.incidents.grouping`'s; the incident's figures and protocol
steps are recomputed from its entries after every change.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from skyfence.evidence.timefmt import parse_iso
from skyfence.incidents.grouping import (
    LINK_OVERLAP_S,
    RESUME_S,
    SAME_CROSSING_S,
    Candidate,
    EntryFacts,
    EntrySpan,
    IncidentSummary,
    TrackPiece,
    ZoneRelations,
    link,
    place,
    summarize,
)
from skyfence.incidents.schema import (
    ALERTS,
    ENTRIES,
    EVENTS,
    INCIDENTS,
    OUTBOX,
    POLICIES,
    RUNS,
    STEPS,
    ZONES,
)
from skyfence.incidents.store import IncidentStore, dumps
from skyfence.policy import IncidentSettings, Policy

__all__ = [
    "ENTRY_EVENTS", "SYSTEM", "Run", "alert_key", "begin_run", "incident_view",
    "record_alert", "store_records",
]

#: events that describe an entry (the others are early warnings and escalations)
ENTRY_EVENTS = ("entry", "update", "exit", "open")
#: the operator name of what skyfence itself writes into the audit
SYSTEM = "skyfence"


@dataclass(frozen=True)
class Run:
    """One scan or watch writing to the store, and what grouping needs."""

    id: str
    kind: str
    origin: str
    policy_sha256: str
    settings: IncidentSettings
    relations: ZoneRelations
    zone_sha256: Mapping[str, str]


def begin_run(store: IncidentStore, kind: str, origin: str, policy: Policy,
              zones: Sequence[Any], options: Mapping[str, Any],
              command: str | None = None) -> Run:
    """Record a run, its policy and zones; the :class:`Run` to write with."""
    pol_sha = hashlib.sha256(policy.text.encode("utf-8")).hexdigest()
    zone_rows = [_zone_row(z) for z in zones]
    run = Run(str(uuid.uuid4()), kind, origin, pol_sha, policy.incidents,
              ZoneRelations.of(zones), {r["name"]: r["sha256"] for r in zone_rows})
    with store.transaction() as conn:
        store.insert_new(conn, POLICIES, [{
            "sha256": pol_sha, "name": policy.name, "source": policy.source,
            "text": policy.text, "watch_states": dumps(sorted(policy.watch_states))}])
        store.insert_new(conn, ZONES, zone_rows)
        conn.execute(RUNS.insert().values(
            id=run.id, kind=kind, origin=origin, started_at=time.time(), command=command,
            options=dumps(dict(options)), policy_sha256=pol_sha))
    return run


def _zone_row(zone: Any) -> dict[str, Any]:
    """A zone's identity: national by code and bundle, custom by its exact GeoJSON."""
    from skyfence.incidents.grouping import national_facts, zone_area_km2

    if zone.kind == "national":
        from skyfence.airspace.national import SOURCE

        meta = {"kind": "national", "code": zone.name, "package": SOURCE.package,
                "version": SOURCE.version, "bundle_sha256": _bundle_sha256()}
        nat = national_facts().get(zone.name)
        area = nat[0] if nat is not None else zone_area_km2(zone)
        sha = hashlib.sha256(dumps(meta).encode()).hexdigest()
        return {"sha256": sha, "name": zone.name, "kind": "national", "title": zone.title,
                "area_km2": area, "geojson": None, "source": dumps(meta)}
    from skyfence.evidence.zonefile import zone_geojson

    text = dumps(zone_geojson(zone))
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "name": zone.name,
            "kind": zone.kind, "title": zone.title, "area_km2": zone_area_km2(zone),
            "geojson": text, "source": dumps({"kind": "custom"})}


def _bundle_sha256() -> str:
    from skyfence.airspace.national import METADATA_PATH

    return str(json.loads(METADATA_PATH.read_text(encoding="utf-8"))["bundle"]["sha256"])


# ------------------------------------------------------------------------ alerts
def alert_key(event: Mapping[str, Any]) -> str:
    """The idempotency key of an alert: the same alert (the same event of the same entry
    with the same figures, or the same escalation) always has the same key.

    >>> a = alert_key({"event": "entry", "id": "605f06f78b36ece5", "observations": 3})
    >>> a == alert_key({"event": "entry", "id": "605f06f78b36ece5", "observations": 9}), len(a)
    (True, 32)
    >>> a == alert_key({"event": "exit", "id": "605f06f78b36ece5"})
    False
    """
    kind = str(event["event"])
    parts = [kind, str(event.get("id", ""))]
    if kind == "update":
        parts += [repr(event.get(k)) for k in ("max_depth_m", "min_altitude_m",
                                                "max_altitude_m", "observations")]
    elif kind in ("exit", "open"):
        parts += [str(event.get("exited_at")), str(event.get("last_inside_at"))]
    elif kind == "escalation":
        parts += [str(event["incident"]["id"]), str(event["step"]["n"])]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def record_alert(store: IncidentStore, run: Run, event: Mapping[str, Any],
                 sinks: Sequence[str], *, feed_at: float | None = None,
                 now: float | None = None) -> dict[str, Any] | None:
    """Store one watch event and queue it for ``sinks``; the payload that goes out, or
    None when the same alert is already stored (nothing changes then)."""
    now = time.time() if now is None else now
    key = alert_key(event)
    with store.transaction() as conn:
        if conn.execute(sa.select(ALERTS.c.seq).where(ALERTS.c.key == key)).first():
            return None
        incident_id = None
        if event["event"] in ENTRY_EVENTS:
            incident_id = _put_entry(store, conn, run, event, event["event"], now)
            if event["event"] != "update":  # the audit says when entries began and ended
                _audit(conn, incident_id, event["event"], now, feed_at,
                       data={"entry": event["id"]})
        payload = dict(event)
        if incident_id is not None:
            payload["incident"] = incident_view(conn, incident_id)
        payload["idempotency_key"] = key
        queue_alert(store, conn, payload, sinks, incident_id=incident_id,
                    entry_id=event.get("id") if incident_id else None, feed_at=feed_at, now=now)
    return payload


def queue_alert(store: IncidentStore, conn: Connection, payload: Mapping[str, Any],
                sinks: Sequence[str], *, incident_id: str | None, entry_id: str | None,
                feed_at: float | None, now: float) -> int:
    """Store an alert (its ``idempotency_key`` must be set) and one outbox row per sink;
    its sequence number."""
    res = conn.execute(ALERTS.insert().values(
        key=payload["idempotency_key"], incident_id=incident_id, entry_id=entry_id,
        event=payload["event"], feed_at=feed_at, created_at=now, payload=dumps(payload)))
    assert res.inserted_primary_key is not None
    seq = int(res.inserted_primary_key[0])
    store.insert_new(conn, OUTBOX, [{
        "alert_seq": seq, "sink": s, "state": "pending", "attempts": 0, "next_try_at": now,
        "delivered_at": None, "last_error": None} for s in sinks])
    return seq


# ------------------------------------------------------------------------ scans
def store_records(store: IncidentStore, run: Run, records: Iterable[Mapping[str, Any]]
                  ) -> tuple[int, int]:
    """Store a scan's final records in entry-time order, grouped into incidents;
    ``(entries stored, incidents touched)``. Entries already stored are left alone."""
    ordered = sorted(records, key=lambda r: (r["entered_at"], r["zone"], r["track"]))
    now = time.time()
    stored, touched = 0, set()
    with store.transaction() as conn:
        for rec in ordered:
            if conn.execute(sa.select(ENTRIES.c.id).where(ENTRIES.c.id == rec["id"])).first():
                continue
            kind = "exit" if rec["exited_at"] is not None else "open"
            touched.add(_put_entry(store, conn, run, rec, kind, now))
            stored += 1
    return stored, len(touched)


# ------------------------------------------------------------------ one entry
_STATE = {"entry": "open", "update": "open", "exit": "exited", "open": "stopped"}


def _put_entry(store: IncidentStore, conn: Connection, run: Run, rec: Mapping[str, Any],
               kind: str, now: float) -> str:
    """Insert or update the entry of ``rec``, group it, refresh its incident; the
    incident's id."""
    entered = parse_iso(rec["entered_at"])
    exited = parse_iso(rec["exited_at"]) if rec["exited_at"] else None
    last_in = parse_iso(rec["last_inside_at"])
    state = _STATE[kind]
    if kind == "exit" and exited is None:
        state = "ended_open"  # the track was lost while inside
    if run.kind == "scan":
        state = "exited" if exited is not None else "ended_open"
    values = {
        "zone": rec["zone"], "zone_sha256": run.zone_sha256.get(rec["zone"]),
        "track": rec["track"], "entered_at": entered, "exited_at": exited,
        "last_inside_at": last_in, "end_at": max(exited or last_in, last_in),
        "duration_s": float(rec["duration_s"]), "max_depth_m": float(rec["max_depth_m"]),
        "observations": int(rec["observations"]), "state": state,
        "violation": bool(rec["violation"]), "severity": rec["severity"],
        "record": dumps({k: v for k, v in rec.items() if k not in _NOT_RECORD}),
    }
    row = conn.execute(sa.select(ENTRIES.c.incident_id).where(ENTRIES.c.id == rec["id"])).first()
    if row is not None:
        incident_id = str(row[0])
        conn.execute(ENTRIES.update().where(ENTRIES.c.id == rec["id"]).values(**values))
    else:
        span = EntrySpan(rec["id"], rec["zone"], rec["track"], entered, values["end_at"])
        horizon = entered - max(run.settings.merge_s, RESUME_S, SAME_CROSSING_S)
        joined = place(span, _candidates(conn, rec["track"], horizon),
                       run.settings.merge_s, run.relations)
        continued = None if joined is not None else _continued(conn, run, rec, entered,
                                                                 last_in)
        if continued is not None:
            joined = continued[0]
            _audit(conn, joined, "linked", now, entered,
                   note=f"track {rec['track']} continues track {continued[1].track}, "
                        "lost inside",
                   data={"entry": rec["id"], "track": rec["track"],
                         "continues": continued[1].id})
        incident_id = joined or rec["id"]
        if joined is None:
            _new_incident(conn, run, incident_id, rec, entered, now)
        else:
            _interrupt(conn, joined, rec["track"], rec["zone"], entered)
            _reopen_on_reentry(conn, joined, now, rec["id"])
        conn.execute(ENTRIES.insert().values(id=rec["id"], incident_id=incident_id,
                                             run_id=run.id, **values))
    _refresh(conn, run, incident_id, now)
    return incident_id


#: fields a watch event adds to the record; the stored record is the contract's
_NOT_RECORD = ("event", "incident", "idempotency_key")


def _candidates(conn: Connection, track: str, horizon: float) -> list[Candidate]:
    """Incidents of ``track`` with an entry still open or ending after ``horizon``."""
    rows = conn.execute(
        sa.select(ENTRIES.c.incident_id, ENTRIES.c.id, ENTRIES.c.zone, ENTRIES.c.entered_at,
                  ENTRIES.c.end_at, ENTRIES.c.state)
        .where(ENTRIES.c.track == track)
        .where(ENTRIES.c.end_at >= horizon)
        .order_by(ENTRIES.c.entered_at)).all()
    by_incident: dict[str, list[EntrySpan]] = {}
    for r in rows:
        # open: inside when last heard of (live, or a watcher that stopped or crashed)
        by_incident.setdefault(r.incident_id, []).append(
            EntrySpan(r.id, r.zone, track, r.entered_at, r.end_at,
                      r.state in ("open", "stopped")))
    return [Candidate(inc, tuple(spans)) for inc, spans in by_incident.items()]


def _continued(conn: Connection, run: Run, rec: Mapping[str, Any], entered: float,
               last_in: float) -> tuple[str, TrackPiece] | None:
    """The incident (and its piece) whose non-cooperative track, lost inside the zone,
    the track of ``rec`` continues (rule 3 of :mod:`~skyfence.incidents.grouping`)."""
    link_s = run.settings.link_s
    new = TrackPiece.of(rec, entered, last_in)
    if new is None or link_s <= 0:
        return None
    near = conn.execute(
        sa.select(ENTRIES.c.incident_id).distinct()
        # lost: ended inside (a gap); an entry still open may be a track still flying
        # (a swarm's drones enter side by side), which no other track continues
        .where(ENTRIES.c.zone == rec["zone"], ENTRIES.c.track != rec["track"],
               ENTRIES.c.exited_at.is_(None), ENTRIES.c.state == "ended_open",
               ENTRIES.c.last_inside_at >= entered - link_s,
               ENTRIES.c.last_inside_at <= entered + LINK_OVERLAP_S)).scalars().all()
    tails: list[tuple[str, TrackPiece]] = []
    for incident_id in sorted(near):
        # only an incident's latest piece can be continued; a track lost inside two
        # overlapping zones left a piece in each at the same moment: take the one in
        # this entry's zone (by id alone, the other zone's could win, and no link)
        tail = conn.execute(
            sa.select(ENTRIES.c.record, ENTRIES.c.entered_at, ENTRIES.c.last_inside_at)
            .where(ENTRIES.c.incident_id == incident_id)
            .order_by(ENTRIES.c.last_inside_at.desc(),
                      sa.case((ENTRIES.c.zone == rec["zone"], 0), else_=1), ENTRIES.c.id)
            .limit(1)).one()
        piece = TrackPiece.of(json.loads(tail.record), tail.entered_at, tail.last_inside_at)
        if piece is not None:
            tails.append((incident_id, piece))
    return link(new, tails, link_s)


def _new_incident(conn: Connection, run: Run, incident_id: str, rec: Mapping[str, Any],
                  entered: float, now: float) -> None:
    conn.execute(INCIDENTS.insert().values(
        id=incident_id, track=rec["track"], zone=rec["zone"], zone_kind=rec["zone_kind"],
        also_in="[]", state="open", violation=bool(rec["violation"]),
        severity=rec["severity"], icao24=rec.get("icao24"), callsign=rec.get("callsign"),
        first_entered_at=entered, last_exited_at=None, last_inside_at=entered, inside_s=0.0,
        max_depth_m=0.0, deepest_entry=rec["id"], crossings=1, open_entries=0,
        origin=run.origin, policy_sha256=run.policy_sha256, created_at=now, updated_at=now))
    _audit(conn, incident_id, "opened", now, entered, data={"run": run.id, "kind": run.kind})


def _interrupt(conn: Connection, incident_id: str, track: str, zone: str, before: float) -> None:
    """Entries of this track and zone left open by a watcher that stopped without an
    exit: a new entry takes over."""
    conn.execute(ENTRIES.update()
                 .where(ENTRIES.c.incident_id == incident_id, ENTRIES.c.track == track,
                        ENTRIES.c.zone == zone, ENTRIES.c.state == "open",
                        ENTRIES.c.entered_at <= before)
                 .values(state="interrupted"))


def _reopen_on_reentry(conn: Connection, incident_id: str, now: float, entry: str) -> None:
    state = conn.execute(sa.select(INCIDENTS.c.state)
                         .where(INCIDENTS.c.id == incident_id)).scalar_one()
    if state == "closed":
        conn.execute(INCIDENTS.update().where(INCIDENTS.c.id == incident_id)
                     .values(state="open", updated_at=now))
        _audit(conn, incident_id, "reopened", now, None,
               note="the track entered again within the merge time", data={"entry": entry})


def _entry_facts(conn: Connection, incident_id: str) -> list[EntryFacts]:

    rows = conn.execute(sa.select(ENTRIES).where(ENTRIES.c.incident_id == incident_id)).all()
    return [EntryFacts(EntrySpan(r.id, r.zone, r.track, r.entered_at, r.end_at,
                                 r.state == "open"),
                       json.loads(r.record), r.exited_at, r.last_inside_at) for r in rows]


def _refresh(conn: Connection, run: Run, incident_id: str, now: float) -> IncidentSummary:
    """Recompute the incident's figures and protocol steps from its entries."""
    s = summarize(_entry_facts(conn, incident_id), run.relations, run.settings)
    conn.execute(INCIDENTS.update().where(INCIDENTS.c.id == incident_id).values(
        zone=s["zone"], zone_kind=s["zone_kind"], also_in=dumps(s["also_in"]),
        violation=s["violation"], severity=s["severity"], icao24=s["icao24"],
        callsign=s["callsign"], first_entered_at=s["first_entered_at"],
        last_exited_at=s["last_exited_at"], last_inside_at=s["last_inside_at"],
        inside_s=s["inside_s"], max_depth_m=s["max_depth_m"],
        deepest_entry=s["deepest_entry"], crossings=s["crossings"],
        open_entries=s["open_entries"], updated_at=now))
    _sync_steps(conn, incident_id, s)
    return s


def _sync_steps(conn: Connection, incident_id: str, s: IncidentSummary) -> None:
    """Add protocol steps not there yet; due times follow the first entry (timers not
    yet fired or done move with it)."""
    have = {r.text: r for r in conn.execute(sa.select(STEPS)
                                            .where(STEPS.c.incident_id == incident_id)).all()}
    n = max((r.n for r in have.values()), default=0)
    t0 = s["first_entered_at"]
    for st in s["protocol"]:
        due = t0 + (st["after_s"] or 0.0)
        old = have.get(st["step"])
        if old is None:
            n += 1
            conn.execute(STEPS.insert().values(incident_id=incident_id, n=n, text=st["step"],
                                               after_s=st["after_s"], due_at=due))
        elif (old.due_at != due and old.escalated_at is None and old.done_at is None):
            conn.execute(STEPS.update().where(STEPS.c.incident_id == incident_id,
                                              STEPS.c.n == old.n).values(due_at=due))


def _audit(conn: Connection, incident_id: str, kind: str, now: float, feed_at: float | None,
           *, operator: str = SYSTEM, note: str | None = None,
           data: Mapping[str, Any] | None = None) -> None:
    conn.execute(EVENTS.insert().values(incident_id=incident_id, at=now, feed_at=feed_at,
                                        kind=kind, operator=operator, note=note,
                                        data=dumps(dict(data)) if data else None))


def incident_view(conn: Connection, incident_id: str) -> dict[str, Any]:
    """The incident as an alert carries it (times ISO 8601 UTC)."""
    from skyfence.incidents.record import iso_time

    r = conn.execute(sa.select(INCIDENTS).where(INCIDENTS.c.id == incident_id)).one()
    tracks = conn.execute(sa.select(ENTRIES.c.track).where(ENTRIES.c.incident_id == incident_id)
                          .order_by(ENTRIES.c.entered_at, ENTRIES.c.id)).scalars().all()
    return {
        "id": r.id, "state": r.state, "zone": r.zone, "also_in": json.loads(r.also_in),
        "track": r.track, "violation": r.violation, "severity": r.severity,
        "first_entered_at": iso_time(r.first_entered_at),
        "last_exited_at": iso_time(r.last_exited_at), "inside_s": round(r.inside_s, 3),
        "max_depth_m": round(r.max_depth_m, 1), "crossings": r.crossings,
        "open_entries": r.open_entries,
        # the tracks of its entries, first seen first: more than one when a track lost
        # inside was continued by another (grouping rule 3)
        "tracks": list(dict.fromkeys([r.track, *tracks])),
    }
