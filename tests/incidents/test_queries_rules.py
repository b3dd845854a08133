"""The rules of reading the store (:mod:`skyfence.incidents.queries`) on hand-built rows.

Every incident, entry, step, audit event, alert and fix below is written straight into
a SQLite store (``incidents.store_rows``), so the answer each test expects is read off
the rows it wrote: which incidents a filter keeps and in what order, the counts, the
rounding, every field of ``incidents show``. Times: ``T0`` is 2025-09-19T06:30:00Z.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyproj import Geod

from incidents.store_rows import (
    T0,
    alert,
    begin,
    dossier,
    entry,
    event,
    fixes,
    incident,
    many_open,
    step,
)
from skyfence.errors import UsageError
from skyfence.incidents.queries import (
    INCIDENT_FIELDS,
    deepest_point,
    incident_detail,
    incident_records,
)
from skyfence.incidents.schema import STEPS
from skyfence.incidents.store import IncidentStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IncidentStore]:
    with IncidentStore.open(tmp_path / "incidents.sqlite") as s:
        begin(s)
        yield s


@pytest.fixture
def five(store: IncidentStore) -> IncidentStore:
    """i-c closed (T0), i-d no violation in zone "Park" (T0+5), i-a acknowledged in EST
    also in LVA and i-b open (both T0+10: the id decides), i-e open (T0+20), continued
    by track T9."""
    incident(store, "i-b", track="T1", first=T0 + 10)
    incident(store, "i-a", track="T2", zone="EST", also_in=("LVA",), state="acknowledged",
             first=T0 + 10)
    incident(store, "i-c", track="T3", state="closed", first=T0)
    incident(store, "i-d", track="T4", zone="Park", violation=False, severity="info",
             first=T0 + 5)
    incident(store, "i-e", track="T5", first=T0 + 20)
    entry(store, "b1", "i-b", track="T1", entered=T0 + 10)
    entry(store, "e1", "i-e", track="T5", entered=T0 + 20)
    entry(store, "e2", "i-e", track="T9", entered=T0 + 400)
    return store


def ids(store: IncidentStore, **how: object) -> list[str]:
    return [r["id"] for r in incident_records(store, **how)]  # type: ignore[arg-type]


def test_default_is_the_open_violations_oldest_first_then_by_id(five: IncidentStore) -> None:
    # i-c is closed, i-d no violation; i-a and i-b entered at the same time
    assert ids(five) == ["i-a", "i-b", "i-e"]
    assert ids(five, every=True) == ["i-c", "i-d", "i-a", "i-b", "i-e"]


def test_state_filter(five: IncidentStore) -> None:
    assert ids(five, every=True, states=["acknowledged"]) == ["i-a"]
    assert ids(five, every=True, states=["open", "closed"]) == ["i-c", "i-d", "i-b", "i-e"]
    # without --all the default still applies: closed violations stay out
    assert ids(five, states=["closed"]) == []


@pytest.mark.parametrize(("zone", "want"), [
    ("est", ["i-a"]),    # a national code in lower case: compared in upper case
    ("EST", ["i-a"]),
    ("Park", ["i-d"]),   # a custom zone's name as written
    ("lva", ["i-a"]),    # also in LVA
    ("ES", []),          # a prefix of EST is no zone of it, nor of its also_in
    ("SQ", ["i-c", "i-b", "i-e"]),
])
def test_zone_filter(five: IncidentStore, zone: str, want: list[str]) -> None:
    assert ids(five, every=True, zone=zone) == want


@pytest.mark.parametrize(("track", "want"), [
    ("T2", ["i-a"]),     # the incident's own track (it has no entry row)
    ("T9", ["i-e"]),     # the track that continued i-e
    ("T1", ["i-b"]),
    ("T7", []),
])
def test_track_filter(five: IncidentStore, track: str, want: list[str]) -> None:
    assert ids(five, every=True, track=track) == want


def test_ids_filter(five: IncidentStore) -> None:
    assert ids(five, every=True, ids=["i-d", "i-c"]) == ["i-c", "i-d"]
    assert ids(five, ids=["i-d", "i-b"]) == ["i-b"]


def test_a_record_has_every_field_rounded_and_its_entries_tracks_and_steps(
        store: IncidentStore) -> None:
    """Entries in entry order (the id decides a tie), each track once in the order first
    seen (the incident's own track first), steps counted: 5 in all, 3 done, 2 escalated.
    The entry ids are not in entry order: e-z entered first."""
    incident(store, "i-1", track="T5", zone="EST", also_in=("LVA", "RUS"),
             icao24="4b1805", callsign="ÅLAND1", first=T0 + 20, last_exited_at=None,
             last_inside_at=T0 + 600.5, inside_s=60.12345, max_depth_m=1234.56,
             deepest_entry="e-b", crossings=3, open_entries=1, created_at=T0 + 21.25,
             updated_at=T0 + 601.0, severity="high")
    entry(store, "e-c", "i-1", track="T5", entered=T0 + 500)
    entry(store, "e-b", "i-1", track="T9", entered=T0 + 100)
    entry(store, "e-a", "i-1", track="T8", entered=T0 + 100)
    entry(store, "e-z", "i-1", track="T5", entered=T0 + 20)
    step(store, "i-1", 1, done=T0 + 30, by="ann")
    step(store, "i-1", 2, escalated=T0 + 90)
    step(store, "i-1", 3, done=T0 + 95, by="ann", escalated=T0 + 90)
    step(store, "i-1", 4)
    step(store, "i-1", 5, done=T0 + 96, by="bob")
    [rec] = incident_records(store, every=True)
    assert rec == {
        "id": "i-1", "state": "open", "zone": "EST", "zone_kind": "custom",
        "also_in": ["LVA", "RUS"], "track": "T5", "icao24": "4b1805", "callsign": "ÅLAND1",
        "violation": True, "severity": "high",
        "first_entered_at": "2025-09-19T06:30:20.000Z", "last_exited_at": None,
        "last_inside_at": "2025-09-19T06:40:00.500Z", "inside_s": 60.123,
        "max_depth_m": 1234.6, "deepest_entry": "e-b", "crossings": 3, "open_entries": 1,
        "entries": ["e-z", "e-a", "e-b", "e-c"], "steps": 5, "steps_done": 3,
        "steps_escalated": 2, "origin": "replay:test",
        "created_at": "2025-09-19T06:30:21.250Z", "updated_at": "2025-09-19T06:40:01.000Z",
        "tracks": ["T5", "T8", "T9"]}
    assert list(rec) == list(INCIDENT_FIELDS)
    assert rec["violation"] is True


def test_no_violation_is_false_and_no_entries_or_steps_are_zero(store: IncidentStore) -> None:
    incident(store, "i-2", violation=False, severity="info")
    [rec] = incident_records(store, every=True)
    assert rec["violation"] is False
    assert (rec["entries"], rec["tracks"], rec["steps"], rec["steps_done"],
            rec["steps_escalated"]) == ([], ["T1"], 0, 0, 0)


def test_more_incidents_than_one_query_takes_each_get_their_own_entries_and_steps(
        store: IncidentStore) -> None:
    """1201 incidents: entries and steps are read 500 ids a query (three queries); each
    incident has one entry (track E<k>) and k % 3 steps."""
    n = 1201
    with store.transaction() as conn:
        many_open(conn, n)
        conn.execute(STEPS.insert(), [{
            "incident_id": f"i{k:05d}", "n": j + 1, "text": "s", "after_s": None,
            "due_at": T0, "done_at": None, "done_by": None, "escalated_at": None}
            for k in range(n) for j in range(k % 3)])
    recs = incident_records(store)
    assert len(recs) == n
    for k, r in enumerate(recs):
        assert (r["id"], r["entries"], r["tracks"], r["steps"]) == (
            f"i{k:05d}", [f"e{k:05d}"], [f"T{k}", f"E{k}"], k % 3)


@pytest.fixture
def detailed(store: IncidentStore) -> IncidentStore:
    """A closed incident i-1 with two entries, three steps, three audit events, two
    alerts to two sinks and a built dossier; i-2 beside it, with an alert of its own."""
    incident(store, "i-1", state="closed", first=T0, deepest_entry="d2")
    incident(store, "i-2", track="T2", first=T0 + 1)
    entry(store, "d2", "i-1", entered=T0 + 200, state="ended_open")
    entry(store, "d1", "i-1", entered=T0)
    entry(store, "x1", "i-2", track="T2", entered=T0 + 1)
    step(store, "i-1", 1, text="inform QRA", after_s=300.0, due=T0 + 300, done=T0 + 100,
         by="ann")
    step(store, "i-1", 2, text="call ATC", due=T0)
    step(store, "i-1", 3, text="scramble", after_s=300.0, due=T0 + 300, escalated=T0 + 301)
    step(store, "i-2", 1, text="other", due=T0)
    event(store, "i-1", "opened", at=T0 + 1.5, feed_at=T0, data='{"entry":"d1"}')
    event(store, "i-1", "note", at=T0 + 50, operator="ann", note="seen", data="")
    event(store, "i-2", "opened", at=T0 + 2)
    event(store, "i-1", "closed", at=T0 + 60, operator="bob")
    a1 = alert(store, "i-1", "k1", "entry", at=T0 + 2, sinks={
        "b-sink": {"state": "pending", "attempts": 2, "next": T0 + 50, "error": "timeout"},
        "a-sink": {"state": "delivered", "attempts": 1, "delivered": T0 + 3, "next": T0 + 9}})
    alert(store, "i-2", "k2", "entry", at=T0 + 3, sinks={"a-sink": {"state": "pending"}})
    a3 = alert(store, "i-1", "k3", "exit", at=T0 + 260, sinks={
        "a-sink": {"state": "rejected", "attempts": 1, "error": "400 bad request"}})
    assert a3 > a1
    alert(store, "i-1", "k4", "closed", at=T0 + 400, sinks={})  # no sink was configured
    dossier(store, "i-1", state="built", requested_at=T0 + 61, built_at=T0 + 62.5,
            path="/d/i-1.zip", statement_sha256="s" * 64, error=None)
    return store


def test_show_gathers_everything_about_one_incident(detailed: IncidentStore) -> None:
    d = incident_detail(detailed, "i-1")
    assert d["incident"] == incident_records(detailed, every=True, ids=["i-1"])[0]
    assert d["incident"]["state"] == "closed"
    # entries by entry time, each its contract record and its state
    assert [(e["id"], e["entered_at"], e["entry_state"]) for e in d["entries"]] == [
        ("d1", "2025-09-19T06:30:00.000Z", "exited"),
        ("d2", "2025-09-19T06:33:20.000Z", "ended_open")]
    assert d["entries"][0]["exit_point"] == {"lon": 1.0, "lat": 0.5}
    # steps by due time, then number: the immediate step 2 first
    assert d["steps"] == [
        {"n": 2, "step": "call ATC", "after_s": None, "due_at": "2025-09-19T06:30:00.000Z",
         "done_at": None, "done_by": None, "escalated_at": None},
        {"n": 1, "step": "inform QRA", "after_s": 300.0,
         "due_at": "2025-09-19T06:35:00.000Z", "done_at": "2025-09-19T06:31:40.000Z",
         "done_by": "ann", "escalated_at": None},
        {"n": 3, "step": "scramble", "after_s": 300.0, "due_at": "2025-09-19T06:35:00.000Z",
         "done_at": None, "done_by": None, "escalated_at": "2025-09-19T06:35:01.000Z"}]
    assert d["audit"] == [
        {"at": "2025-09-19T06:30:01.500Z", "feed_at": "2025-09-19T06:30:00.000Z",
         "kind": "opened", "operator": "watch", "note": None, "data": {"entry": "d1"}},
        {"at": "2025-09-19T06:30:50.000Z", "feed_at": None, "kind": "note",
         "operator": "ann", "note": "seen", "data": None},
        {"at": "2025-09-19T06:31:00.000Z", "feed_at": None, "kind": "closed",
         "operator": "bob", "note": None, "data": None}]
    # alerts in order, each with its deliveries by sink; a next try only while pending
    assert d["alerts"] == [
        {"seq": 1, "event": "entry", "idempotency_key": "k1",
         "created_at": "2025-09-19T06:30:02.000Z", "deliveries": [
             {"sink": "a-sink", "state": "delivered", "attempts": 1,
              "delivered_at": "2025-09-19T06:30:03.000Z", "last_error": None,
              "next_try_at": None},
             {"sink": "b-sink", "state": "pending", "attempts": 2, "delivered_at": None,
              "last_error": "timeout", "next_try_at": "2025-09-19T06:30:50.000Z"}]},
        {"seq": 3, "event": "exit", "idempotency_key": "k3",
         "created_at": "2025-09-19T06:34:20.000Z", "deliveries": [
             {"sink": "a-sink", "state": "rejected", "attempts": 1, "delivered_at": None,
              "last_error": "400 bad request", "next_try_at": None}]},
        {"seq": 4, "event": "closed", "idempotency_key": "k4",
         "created_at": "2025-09-19T06:36:40.000Z", "deliveries": []}]
    # per sink, this incident's alerts only (i-2's pending alert to a-sink is not counted)
    assert d["delivery"] == [
        {"sink": "a-sink", "delivered": 1, "pending": 0, "rejected": 1, "attempts": 2,
         "last_error": None},
        {"sink": "b-sink", "delivered": 0, "pending": 1, "rejected": 0, "attempts": 2,
         "last_error": "timeout"}]
    assert d["deepest_point"] is None  # no fixes stored
    assert d["dossier"] == {"state": "built", "path": "/d/i-1.zip",
                            "statement_sha256": "s" * 64, "error": None,
                            "requested_at": "2025-09-19T06:31:01.000Z",
                            "built_at": "2025-09-19T06:31:02.500Z"}
    assert list(d) == ["incident", "entries", "steps", "audit", "alerts", "delivery",
                       "deepest_point", "dossier"]


def test_show_of_an_incident_without_alerts_or_dossier(detailed: IncidentStore) -> None:
    d = incident_detail(detailed, "i-2")
    assert [e["id"] for e in d["entries"]] == ["x1"]
    assert [s["step"] for s in d["steps"]] == ["other"]
    assert [a["kind"] for a in d["audit"]] == ["opened"]
    assert [(a["idempotency_key"], [o["sink"] for o in a["deliveries"]])
            for a in d["alerts"]] == [("k2", ["a-sink"])]
    assert d["dossier"] is None


@pytest.fixture
def deep(store: IncidentStore) -> IncidentStore:
    """i-x's deepest entry is x2 (T0+100..T0+159) of track T1 in the square 0..1 E,
    0..1 N; i-y (track T2) goes deeper. Track T1's fixes (lon, lat): at T0+50 (0.5, 0.5)
    in x1, not the deepest entry; in x2 at T0+100 (0.5, 0.05), T0+120 (0.4567891234,
    0.3133456789), T0+140 (0.5, 0.2); at T0+170 (0.5, 0.45), after x2's last fix inside;
    at T0+130 (0.5, -0.5), outside. The deepest fix of x2 is the one at T0+120: 0.31
    degrees from the southern edge (the nearest: the others are 0.46 and 0.69 degrees
    away)."""
    incident(store, "i-y", track="T2", first=T0, deepest_entry="y1")
    incident(store, "i-x", track="T1", first=T0, deepest_entry="x2")
    entry(store, "y1", "i-y", track="T2", entered=T0)
    entry(store, "x1", "i-x", track="T1", entered=T0 + 40, last_inside=T0 + 60)
    entry(store, "x2", "i-x", track="T1", entered=T0 + 100, last_inside=T0 + 159)
    fixes(store, "T2", [(T0 + 10, 0.5, 0.5)])
    fixes(store, "T1", [(T0 + 50, 0.5, 0.5), (T0 + 100, 0.5, 0.05),
                        (T0 + 120, 0.4567891234, 0.3133456789), (T0 + 130, 0.5, -0.5),
                        (T0 + 140, 0.5, 0.2), (T0 + 170, 0.5, 0.45)])
    return store


def test_the_deepest_point_is_the_deepest_fix_inside_of_the_deepest_entry(
        deep: IncidentStore) -> None:
    """Reference depth: pyproj's geodesic from the fix straight south to the equator."""
    dp = deepest_point(deep, "i-x")
    assert dp is not None
    _, _, want = Geod(ellps="WGS84").inv(0.4567891234, 0.3133456789, 0.4567891234, 0.0)
    assert dp == {"entry": "x2", "time": "2025-09-19T06:32:00.000Z", "lat": 0.313346,
                  "lon": 0.456789, "depth_m": pytest.approx(want, abs=1.0)}
    assert dp["depth_m"] == round(dp["depth_m"], 1)
    assert list(dp) == ["entry", "time", "lat", "lon", "depth_m"]
    # i-y's own deepest entry: its one fix at the centre, 0.5 degrees from every edge
    y = deepest_point(deep, "i-y")
    assert y is not None and (y["entry"], y["lat"], y["lon"]) == ("y1", 0.5, 0.5)


def test_no_deepest_point_without_fixes_inside_or_without_the_entry(
        deep: IncidentStore) -> None:
    # i-n: its deepest entry's track has no stored fix (a scanned incident)
    incident(deep, "i-n", track="T3", deepest_entry="n1")
    entry(deep, "n1", "i-n", track="T3")
    assert deepest_point(deep, "i-n") is None
    # i-o: fixes in the entry's window, none of them inside the square
    incident(deep, "i-o", track="T4", deepest_entry="o1")
    entry(deep, "o1", "i-o", track="T4", entered=T0, last_inside=T0 + 59)
    fixes(deep, "T4", [(T0 + 10, 1.5, 0.5), (T0 + 20, 0.5, 1.5)])
    assert deepest_point(deep, "i-o") is None
    # i-q: names a deepest entry the store does not hold; and an unknown incident
    incident(deep, "i-q", track="T1", deepest_entry="nope")
    assert deepest_point(deep, "i-q") is None
    assert deepest_point(deep, "i-unknown") is None


def test_detail_reports_the_deepest_point(deep: IncidentStore) -> None:
    d = incident_detail(deep, "i-x")
    assert d["deepest_point"] == deepest_point(deep, "i-x")
    assert d["deepest_point"] is not None


def test_a_deepest_entry_whose_zone_the_store_lacks_is_named(store: IncidentStore) -> None:
    incident(store, "i-z", deepest_entry="z1")
    entry(store, "z1", "i-z", zone_sha256=None)
    fixes(store, "T1", [(T0 + 10, 0.5, 0.5)])
    with pytest.raises(UsageError, match=r"^the store has no boundary of zone SQ$"):
        deepest_point(store, "i-z")
