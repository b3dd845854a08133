"""The protocol timers (:mod:`skyfence.incidents.timers`) driven directly, fast.

Incidents, entries and steps are written by hand into a temporary SQLite store (rows
as :mod:`skyfence.incidents.schema` defines them; a run from ``begin_run`` for the
entries' foreign key), then :func:`next_due` and :func:`escalate_due` are called with
a fixed feed time and wall clock. What is expected follows from the module docstring:
a step escalates when it has a timer (``after_s``), is not done, has not escalated,
its incident is ``open`` and of the origin asked for, and its due time is reached
(``due_at <= now``); on the feed's clock at its due time, live at ``now``; the alert is
the latest entry record in the incident's naming zone plus ``event``, ``incident`` and
``step``, stored with one outbox row per sink, and the audit gets an ``escalated``
event. Times as text by hand (T0 = 1758263400 s is 2025-09-19T06:30:00Z), the alert's
key by hand from :func:`alert_key`'s documented parts (sha256 of
``escalation|entry|incident|n``, 32 hex digits), the store read back with
:mod:`sqlite3`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from incidents.helpers import ZONE
from skyfence.incidents import timers
from skyfence.incidents.lifecycle import change_state
from skyfence.incidents.schema import ENTRIES, INCIDENTS, STEPS
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.timers import escalate_due, next_due
from skyfence.incidents.writer import begin_run
from skyfence.policy import Policy

T0 = 1758263400.0  # 2025-09-19T06:30:00Z
FEED = "replay:a"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[IncidentStore, Path, str]]:
    """A store with one run of FEED; (store, its file, the run's id)."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", FEED, Policy(), [ZONE], {})
        yield store, path, run.id


def add_incident(store: IncidentStore, iid: str, *, origin: str = FEED,
                 state: str = "open", zone: str = "BOX") -> None:
    with store.transaction() as conn:
        conn.execute(INCIDENTS.insert().values(
            id=iid, track="R" + iid[:4], zone=zone, zone_kind="custom", also_in="[]",
            state=state, violation=True, severity="critical", icao24=None, callsign=None,
            first_entered_at=T0, last_exited_at=None, last_inside_at=T0 + 10.0,
            inside_s=10.0, max_depth_m=500.0, deepest_entry="e" + iid, crossings=1,
            open_entries=1, origin=origin, policy_sha256="0" * 64, created_at=1.0,
            updated_at=1.0))


def add_entry(store: IncidentStore, run_id: str, eid: str, iid: str, *, zone: str = "BOX",
              entered: float = T0) -> dict[str, Any]:
    """An entry of incident ``iid``; its record (what an escalation alert starts from)."""
    rec = {"id": eid, "zone": zone, "track": "R" + iid[:4], "note": f"record of {eid}"}
    with store.transaction() as conn:
        conn.execute(ENTRIES.insert().values(
            id=eid, incident_id=iid, run_id=run_id, zone=zone, zone_sha256=None,
            track="R" + iid[:4], entered_at=entered, exited_at=None, last_inside_at=entered,
            end_at=entered, duration_s=0.0, max_depth_m=500.0, observations=3, state="open",
            violation=True, severity="critical", record=json.dumps(rec)))
    return rec


def add_step(store: IncidentStore, iid: str, n: int, due_at: float, *,
             after_s: float | None = 60.0, done_at: float | None = None,
             escalated_at: float | None = None) -> None:
    with store.transaction() as conn:
        conn.execute(STEPS.insert().values(
            incident_id=iid, n=n, text=f"step {n} of {iid}", after_s=after_s, due_at=due_at,
            done_at=done_at, done_by=None, escalated_at=escalated_at))


def key(eid: str, iid: str, n: int) -> str:
    return hashlib.sha256(f"escalation|{eid}|{iid}|{n}".encode()).hexdigest()[:32]


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


# ------------------------------------------------------------------ next_due
def test_next_due_is_the_earliest_step_that_may_still_escalate(db: Any) -> None:
    """Of FEED's open incident's steps, one without a timer (due T0 + 1), one done
    (T0 + 2), one escalated (T0 + 3): none may escalate; the earliest that may is
    T0 + 200 (another at T0 + 400). An acknowledged incident of FEED (T0 + 4) and an open
    one of another feed (T0 + 5) do not count. Each left-out step is earlier than
    T0 + 200, so counting any of them shows."""
    store, _, _ = db
    assert next_due(store, FEED) is None  # no step at all
    add_incident(store, "aaaa")
    add_step(store, "aaaa", 1, T0 + 1.0, after_s=None)
    add_step(store, "aaaa", 2, T0 + 2.0, done_at=T0)
    add_step(store, "aaaa", 3, T0 + 3.0, escalated_at=T0 + 3.0)
    add_step(store, "aaaa", 4, T0 + 400.0)
    add_step(store, "aaaa", 5, T0 + 200.0)
    add_incident(store, "bbbb", state="acknowledged")
    add_step(store, "bbbb", 1, T0 + 4.0)
    add_incident(store, "cccc", origin="replay:b")
    add_step(store, "cccc", 1, T0 + 5.0)
    due = next_due(store, FEED)
    assert due == T0 + 200.0 and type(due) is float
    assert next_due(store, "replay:b") == T0 + 5.0
    assert next_due(store, "live:nothing") is None


# ------------------------------------------------------------------ escalate_due
def test_a_step_escalates_at_exactly_its_due_time_on_the_feeds_clock(db: Any) -> None:
    """Steps 1 (no timer, due T0), 2 (60 s: T0 + 60) and 3 (120 s: T0 + 120). At
    T0 + 59.999 nothing; at exactly T0 + 60 step 2 only, escalated at its due time
    06:31:00.000; the alert is stored at the wall clock 42 with the feed time T0 + 60, one
    outbox row per sink (pending, no attempt, due at 42), one ``escalated`` event. Called
    again at T0 + 60 nothing (each step once); at T0 + 1000 step 3, escalated at T0 + 120
    (its due time, not the feed time asked)."""
    store, path, run_id = db
    add_incident(store, "aaaa")
    rec = add_entry(store, run_id, "e1", "aaaa")
    add_step(store, "aaaa", 1, T0, after_s=None)
    add_step(store, "aaaa", 2, T0 + 60.0, after_s=60.0)
    add_step(store, "aaaa", 3, T0 + 120.0, after_s=120.0)

    assert escalate_due(store, FEED, T0 + 59.999, ["hook", "mail"], feed_clock=True,
                        wall_now=42.0) == []
    (alert,) = escalate_due(store, FEED, T0 + 60.0, ["hook", "mail"], feed_clock=True,
                            wall_now=42.0)
    expected = {**rec, "event": "escalation",
                "incident": {"id": "aaaa", "state": "open", "zone": "BOX", "also_in": [],
                             "track": "Raaaa", "violation": True, "severity": "critical",
                             "first_entered_at": "2025-09-19T06:30:00.000Z",
                             "last_exited_at": None, "inside_s": 10.0, "max_depth_m": 500.0,
                             "crossings": 1, "open_entries": 1, "tracks": ["Raaaa"]},
                "step": {"n": 2, "step": "step 2 of aaaa", "after_s": 60.0,
                         "due_at": "2025-09-19T06:31:00.000Z",
                         "escalated_at": "2025-09-19T06:31:00.000Z"},
                "idempotency_key": key("e1", "aaaa", 2)}
    assert alert == expected
    assert rows(path, "SELECT n, escalated_at FROM steps ORDER BY n") == [
        (1, None), (2, T0 + 60.0), (3, None)]
    assert rows(path, "SELECT key, incident_id, entry_id, event, feed_at, created_at "
                      "FROM alerts") == [(key("e1", "aaaa", 2), "aaaa", "e1", "escalation",
                                          T0 + 60.0, 42.0)]
    (payload,) = rows(path, "SELECT payload FROM alerts")
    assert json.loads(payload[0]) == expected
    assert rows(path, "SELECT sink, state, attempts, next_try_at, delivered_at, last_error "
                      "FROM outbox ORDER BY sink") == [
        ("hook", "pending", 0, 42.0, None, None), ("mail", "pending", 0, 42.0, None, None)]
    ((iid, at, feed_at, kind, operator, note, data),) = rows(
        path, "SELECT incident_id, at, feed_at, kind, operator, note, data FROM events")
    assert (iid, at, feed_at, kind, operator, note) == (
        "aaaa", 42.0, T0 + 60.0, "escalated", "skyfence", "step 2 of aaaa")
    assert json.loads(data) == {"step": 2, "due_at": "2025-09-19T06:31:00.000Z"}

    assert escalate_due(store, FEED, T0 + 60.0, ["hook"], feed_clock=True, wall_now=43.0) == []
    (later,) = escalate_due(store, FEED, T0 + 1000.0, ["hook"], feed_clock=True, wall_now=44.0)
    assert later["step"] == {"n": 3, "step": "step 3 of aaaa", "after_s": 120.0,
                             "due_at": "2025-09-19T06:32:00.000Z",
                             "escalated_at": "2025-09-19T06:32:00.000Z"}
    assert rows(path, "SELECT n, escalated_at FROM steps ORDER BY n") == [
        (1, None), (2, T0 + 60.0), (3, T0 + 120.0)]
    assert rows(path, "SELECT feed_at, created_at FROM alerts ORDER BY seq") == [
        (T0 + 60.0, 42.0), (T0 + 120.0, 44.0)]


def test_live_a_step_escalates_at_now_without_a_feed_time(db: Any) -> None:
    """On the wall clock (``feed_clock`` False) both due steps escalate at ``now``
    (T0 + 500: 06:38:20.000), not at their due times; the alert and the event carry no
    feed time, and the event keeps each step's due time."""
    store, path, run_id = db
    add_incident(store, "aaaa")
    add_entry(store, run_id, "e1", "aaaa")
    add_step(store, "aaaa", 1, T0 + 60.0)
    add_step(store, "aaaa", 2, T0 + 120.0, after_s=120.0)
    out = escalate_due(store, FEED, T0 + 500.0, ["hook"], feed_clock=False, wall_now=42.0)
    assert [(a["step"]["n"], a["step"]["escalated_at"]) for a in out] == [
        (1, "2025-09-19T06:38:20.000Z"), (2, "2025-09-19T06:38:20.000Z")]
    assert rows(path, "SELECT n, escalated_at FROM steps ORDER BY n") == [
        (1, T0 + 500.0), (2, T0 + 500.0)]
    assert rows(path, "SELECT feed_at, created_at FROM alerts ORDER BY seq") == [
        (None, 42.0), (None, 42.0)]
    assert rows(path, "SELECT feed_at, at FROM events ORDER BY seq") == [
        (None, 42.0), (None, 42.0)]
    # the audit says when each step was due (60 and 120 s after T0), not when it escalated
    assert [json.loads(d) for (d,) in rows(path, "SELECT data FROM events ORDER BY seq")] == [
        {"step": 1, "due_at": "2025-09-19T06:31:00.000Z"},
        {"step": 2, "due_at": "2025-09-19T06:32:00.000Z"}]


def test_without_a_wall_clock_given_the_alert_is_stored_at_the_time_now(
        db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``wall_now`` left out: the system clock (here made to say 77) stamps the alert,
    its outbox row and the event."""
    store, path, run_id = db
    add_incident(store, "aaaa")
    add_entry(store, run_id, "e1", "aaaa")
    add_step(store, "aaaa", 1, T0 + 60.0)
    monkeypatch.setattr(timers.time, "time", lambda: 77.0)
    assert len(escalate_due(store, FEED, T0 + 60.0, ["hook"], feed_clock=True)) == 1
    assert rows(path, "SELECT created_at FROM alerts") == [(77.0,)]
    assert rows(path, "SELECT next_try_at FROM outbox") == [(77.0,)]
    assert rows(path, "SELECT at FROM events") == [(77.0,)]


def test_steps_escalate_in_due_order_then_by_incident_and_step(db: Any) -> None:
    """Due at T0 + 30: (bbbb, 1); at T0 + 60: (aaaa, 3), (aaaa, 2), (bbbb, 2), written in
    that order. Escalated (and returned) by due time, then incident, then step: (bbbb, 1),
    (aaaa, 2), (aaaa, 3), (bbbb, 2). Two steps of one incident due together escalate
    each on its own (one claim, one alert each). Steps of other feeds' or acknowledged
    incidents, and done or escalated steps, are left as they are."""
    store, path, run_id = db
    for iid in ("aaaa", "bbbb"):
        add_incident(store, iid)
        add_entry(store, run_id, "e" + iid, iid)
    add_step(store, "bbbb", 1, T0 + 30.0)
    add_step(store, "aaaa", 3, T0 + 60.0)
    add_step(store, "aaaa", 2, T0 + 60.0)
    add_step(store, "bbbb", 2, T0 + 60.0)
    add_step(store, "aaaa", 4, T0 + 10.0, done_at=T0)
    add_step(store, "aaaa", 5, T0 + 10.0, escalated_at=T0 + 9.0)
    add_step(store, "aaaa", 6, T0 + 10.0, after_s=None)
    add_incident(store, "cccc", state="acknowledged")
    add_step(store, "cccc", 1, T0 + 10.0)
    add_incident(store, "dddd", origin="replay:b")
    add_step(store, "dddd", 1, T0 + 10.0)
    out = escalate_due(store, FEED, T0 + 60.0, ["hook"], feed_clock=True, wall_now=42.0)
    assert [(a["incident"]["id"], a["step"]["n"]) for a in out] == [
        ("bbbb", 1), ("aaaa", 2), ("aaaa", 3), ("bbbb", 2)]
    assert [a["idempotency_key"] for a in out] == [
        key("ebbbb", "bbbb", 1), key("eaaaa", "aaaa", 2), key("eaaaa", "aaaa", 3),
        key("ebbbb", "bbbb", 2)]
    assert rows(path, "SELECT incident_id, n, escalated_at FROM steps "
                      "ORDER BY incident_id, n") == [
        ("aaaa", 2, T0 + 60.0), ("aaaa", 3, T0 + 60.0), ("aaaa", 4, None),
        ("aaaa", 5, T0 + 9.0), ("aaaa", 6, None), ("bbbb", 1, T0 + 30.0),
        ("bbbb", 2, T0 + 60.0), ("cccc", 1, None), ("dddd", 1, None)]
    assert rows(path, "SELECT incident_id, json_extract(data, '$.step') FROM events "
                      "ORDER BY seq") == [("bbbb", 1), ("aaaa", 2), ("aaaa", 3), ("bbbb", 2)]


@pytest.mark.parametrize("meanwhile", [
    "UPDATE incidents SET state = 'acknowledged' WHERE id = 'aaaa'",
    "UPDATE steps SET done_at = 1.0, done_by = 'op' WHERE incident_id = 'aaaa'",
    "UPDATE steps SET escalated_at = 1.0 WHERE incident_id = 'aaaa'",
])
def test_a_step_acknowledged_done_or_escalated_meanwhile_does_not_escalate(
        db: Any, meanwhile: str) -> None:
    """Between the read of the due steps and the claim of the first (aaaa's, due at
    T0 + 60), an operator acknowledges aaaa or marks its step done, or another watcher
    escalates it (a store shared by processes): that claim finds nothing, so no alert
    and no event of aaaa, its step as the other writer left it. The next due step
    (cccc's, T0 + 61, of another open incident) still escalates. Simulated by running
    that write on the same SQLite connection just before the first claim's UPDATE."""
    store, path, run_id = db
    add_incident(store, "aaaa")
    add_entry(store, run_id, "e1", "aaaa")
    add_step(store, "aaaa", 1, T0 + 60.0)
    add_incident(store, "cccc")
    add_entry(store, run_id, "e3", "cccc")
    add_step(store, "cccc", 1, T0 + 61.0)

    done: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not done and statement.lstrip().upper().startswith("UPDATE STEPS"):
            done.append(statement)
            cursor.execute(meanwhile)

    sa.event.listen(store.engine, "before_cursor_execute", before)
    try:
        out = escalate_due(store, FEED, T0 + 61.0, ["hook"], feed_clock=True, wall_now=42.0)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", before)
    assert len(done) == 1
    assert [(a["incident"]["id"], a["step"]["n"]) for a in out] == [("cccc", 1)]
    assert rows(path, "SELECT incident_id FROM alerts") == [("cccc",)]
    assert rows(path, "SELECT count(*) FROM outbox") == [(1,)]
    assert rows(path, "SELECT incident_id FROM events") == [("cccc",)]
    expected = 1.0 if "escalated_at" in meanwhile else None
    assert rows(path, "SELECT incident_id, escalated_at FROM steps ORDER BY incident_id") == [
        ("aaaa", expected), ("cccc", T0 + 61.0)]


def test_the_alert_is_the_latest_entry_in_the_zone_that_names_the_incident(db: Any) -> None:
    """The incident is named by BOX; its entries: BOX at T0, OTHER at T0 + 100 (the
    latest of all), BOX at T0 + 50. The alert is the record of the latest BOX entry
    (T0 + 50), not the latest entry nor the first BOX one."""
    store, _, run_id = db
    add_incident(store, "aaaa")
    add_entry(store, run_id, "e1", "aaaa", entered=T0)
    add_entry(store, run_id, "e2", "aaaa", zone="OTHER", entered=T0 + 100.0)
    e3 = add_entry(store, run_id, "e3", "aaaa", entered=T0 + 50.0)
    add_step(store, "aaaa", 1, T0 + 60.0)
    (alert,) = escalate_due(store, FEED, T0 + 60.0, ["hook"], feed_clock=True, wall_now=42.0)
    assert {k: alert[k] for k in e3} == e3
    assert alert["idempotency_key"] == key("e3", "aaaa", 1)
    assert alert["incident"]["tracks"] == ["Raaaa"]


def test_without_an_entry_in_its_naming_zone_the_alert_is_the_latest_entry(db: Any) -> None:
    """No entry of the incident lies in BOX (its name): the alert is the latest entry of
    all, THIRD at T0 + 100, not OTHER at T0."""
    store, _, run_id = db
    add_incident(store, "aaaa")
    add_entry(store, run_id, "e1", "aaaa", zone="OTHER", entered=T0)
    e2 = add_entry(store, run_id, "e2", "aaaa", zone="THIRD", entered=T0 + 100.0)
    add_step(store, "aaaa", 1, T0 + 60.0)
    (alert,) = escalate_due(store, FEED, T0 + 60.0, ["hook"], feed_clock=True, wall_now=42.0)
    assert {k: alert[k] for k in e2} == e2
    assert alert["idempotency_key"] == key("e2", "aaaa", 1)


def test_an_acknowledgement_taken_back_lets_the_steps_escalate_again(db: Any) -> None:
    """aaaa's step is due at T0 + 60. Acknowledged, it does not escalate at T0 + 100;
    reopened (the acknowledgement taken back), it escalates at the next check, at its due
    time on the feed's clock."""
    store, path, run_id = db
    add_incident(store, "aaaa")
    add_entry(store, run_id, "e1", "aaaa")
    add_step(store, "aaaa", 1, T0 + 60.0)
    assert change_state(store, "aaaa", "ack", "alice", None, now=1.0) == "acknowledged"
    assert escalate_due(store, FEED, T0 + 100.0, ["hook"], feed_clock=True, wall_now=2.0) == []
    assert change_state(store, "aaaa", "reopen", "alice", None, now=3.0) == "open"
    (alert,) = escalate_due(store, FEED, T0 + 101.0, ["hook"], feed_clock=True, wall_now=4.0)
    assert (alert["step"]["n"], alert["step"]["escalated_at"]) == (1, "2025-09-19T06:31:00.000Z")
    assert rows(path, "SELECT kind FROM events ORDER BY seq") == [
        ("acknowledged",), ("reopened",), ("escalated",)]
