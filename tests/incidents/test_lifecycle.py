"""An incident's life, state by state, on incidents written straight into a SQLite store.

Each change is checked in the store itself (the incident's state and ``updated_at``,
the step's ``done_at`` / ``done_by``, the audit row) and each refusal by its whole
one-line message; times are given (``now``), so the expected audit times are the
given ones, and ``iso_time`` of 1000.5 s after the epoch is 00:16:40.500 on 1 Jan 1970.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from skyfence.errors import UsageError
from skyfence.incidents.lifecycle import add_note, change_state, mark_step_done, resolve_id
from skyfence.incidents.schema import EVENTS, INCIDENTS, STEPS
from skyfence.incidents.store import IncidentStore

IDS = ("abcdef12", "abcdef123", "abcdeg34", "ffff0001")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IncidentStore]:
    """Four open incidents (two ids, one a prefix of the other, share 8 characters), each
    with two protocol steps."""
    with IncidentStore.open(tmp_path / "s.sqlite") as s:
        with s.transaction() as conn:
            for iid in IDS:
                conn.execute(INCIDENTS.insert().values(
                    id=iid, track="R0001", zone="EST", zone_kind="national", also_in="[]",
                    state="open", violation=True, severity="critical", first_entered_at=0.0,
                    last_inside_at=10.0, inside_s=10.0, max_depth_m=100.0,
                    deepest_entry="e1", crossings=1, open_entries=0, origin="test",
                    policy_sha256="0" * 64, created_at=0.0, updated_at=0.0))
                for n, text in ((1, "identify"), (2, "inform the QRA controller")):
                    conn.execute(STEPS.insert().values(incident_id=iid, n=n, text=text,
                                                       after_s=None, due_at=0.0))
        yield s


def row(store: IncidentStore, iid: str) -> sa.Row[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(INCIDENTS).where(INCIDENTS.c.id == iid)).one()


def audit(store: IncidentStore) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [(r.incident_id, r.at, r.feed_at, r.kind, r.operator, r.note, r.data)
                for r in conn.execute(sa.select(EVENTS).order_by(EVENTS.c.seq))]


def refused(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(UsageError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return str(info.value)


def test_each_change_is_stored_with_its_time_and_audited(store: IncidentStore) -> None:
    assert change_state(store, "abcdef12", "ack", "alice", "on it", now=1000.5) == "acknowledged"
    r = row(store, "abcdef12")
    assert (r.state, r.updated_at) == ("acknowledged", 1000.5)
    assert row(store, "abcdef123").state == "open"  # only the one named
    add_note(store, "abcdef12", "carol", "F-35s airborne", now=1500.0)
    assert change_state(store, "abcdef12", "close", "bob", now=2000.0) == "closed"
    assert change_state(store, "abcdef12", "reopen", "dave", "more data", now=3000.0) == "open"
    assert audit(store) == [
        ("abcdef12", 1000.5, None, "acknowledged", "alice", "on it", None),
        ("abcdef12", 1500.0, None, "note", "carol", "F-35s airborne", None),
        ("abcdef12", 2000.0, None, "closed", "bob", None, None),
        ("abcdef12", 3000.0, None, "reopened", "dave", "more data", None)]


def test_a_change_the_state_does_not_allow_names_who_made_the_state(
        store: IncidentStore) -> None:
    # open, with a note only: no state change to name
    add_note(store, "abcdef12", "carol", "watching", now=10.0)
    assert refused(change_state, store, "abcdef12", "reopen", "bob", now=20.0) == (
        "incident abcdef12 is open; 'reopen' needs it closed or acknowledged")
    change_state(store, "abcdef12", "ack", "alice", now=1000.5)
    add_note(store, "abcdef12", "carol", "a note after it is no state change", now=1200.0)
    assert refused(change_state, store, "abcdef12", "ack", "bob", now=1300.0) == (
        "incident abcdef12 is acknowledged (acknowledged by alice at "
        "1970-01-01T00:16:40.500Z); 'ack' needs it open")
    change_state(store, "abcdef12", "close", "bob", now=2000.0)
    assert refused(change_state, store, "abcdef12", "close", "eve", now=2100.0) == (
        "incident abcdef12 is closed (closed by bob at 1970-01-01T00:33:20.000Z); "
        "'close' needs it open or acknowledged")
    assert refused(change_state, store, "nope", "ack", "bob") == "no incident nope"
    assert row(store, "abcdef12").updated_at == 2000.0  # refusals change nothing


def test_a_refusal_names_the_incident_s_own_last_change_not_another_s(
        store: IncidentStore) -> None:
    """Another incident's later change (``ffff0001`` acknowledged by bob at 3000 s) is not
    this one's: the refusal names alice's acknowledgement at 1000.5 s (00:16:40.500)."""
    change_state(store, "abcdef12", "ack", "alice", now=1000.5)
    change_state(store, "ffff0001", "ack", "bob", now=3000.0)
    assert refused(change_state, store, "abcdef12", "ack", "eve", now=4000.0) == (
        "incident abcdef12 is acknowledged (acknowledged by alice at "
        "1970-01-01T00:16:40.500Z); 'ack' needs it open")


def test_notes(store: IncidentStore) -> None:
    assert refused(add_note, store, "abcdef12", "carol", "  \n") == "the note is empty"
    assert refused(add_note, store, "nope", "carol", "x") == "no incident nope"
    assert audit(store) == []


def test_a_step_is_marked_done_once_in_its_own_incident(store: IncidentStore) -> None:
    assert mark_step_done(store, "abcdef12", 2, "alice", "called", now=500.25) == (
        "inform the QRA controller")
    with store.engine.connect() as conn:
        steps = {(r.incident_id, r.n): (r.done_at, r.done_by) for r in conn.execute(
            sa.select(STEPS))}
    assert steps[("abcdef12", 2)] == (500.25, "alice")
    assert [v for k, v in steps.items() if k != ("abcdef12", 2)] == [(None, None)] * 7
    assert audit(store) == [("abcdef12", 500.25, None, "step_done", "alice", "called",
                             '{"step":2}')]
    assert refused(mark_step_done, store, "abcdef12", 2, "bob") == (
        "step 2 of incident abcdef12 was done by alice")
    assert refused(mark_step_done, store, "abcdef12", 9, "bob") == (
        "incident abcdef12 has no step 9 (it has 2)")
    assert refused(mark_step_done, store, "nope", 1, "bob") == "no incident nope"
    # the same step of another incident is still to do
    assert mark_step_done(store, "abcdeg34", 2, "bob", now=600.0) == "inform the QRA controller"


def test_ids_full_prefixes_and_wildcards(store: IncidentStore) -> None:
    assert resolve_id(store, " abcdef12 ") == "abcdef12"  # whole id, though a prefix too
    assert resolve_id(store, "ABCDEF123") == "abcdef123"
    assert resolve_id(store, "ffff00") == "ffff0001"  # 6 characters are enough
    assert refused(resolve_id, store, "ffff0") == (
        "no incident 'ffff0' (give the id, or 6 or more of its first characters)")
    assert refused(resolve_id, store, "abcdeh") == (
        f"no incident 'abcdeh' in {store.shown}; `skyfence incidents list --all` lists them")
    assert refused(resolve_id, store, "abcdef") == (
        "'abcdef' matches several incidents (abcdef12, abcdef123): give more of the id")
    # % and _ are no wildcards: they are dropped from the prefix
    assert resolve_id(store, "abcdeg%3") == "abcdeg34"
    assert resolve_id(store, "abcdeg_3") == "abcdeg34"
    assert refused(resolve_id, store, "abcd%g").startswith("no incident 'abcd%g' in ")
    assert refused(resolve_id, store, "abcd_g").startswith("no incident 'abcd_g' in ")
    # a prefix, not any part of an id: "def123" and "ff0001" end ids but begin none
    assert refused(resolve_id, store, "def123").startswith("no incident 'def123' in ")
    assert refused(resolve_id, store, "ff0001").startswith("no incident 'ff0001' in ")


def test_an_ambiguous_prefix_names_five_candidates_at_most(tmp_path: Path) -> None:
    with IncidentStore.open(tmp_path / "s.sqlite") as s:
        with s.transaction() as conn:
            for k in range(7):
                conn.execute(INCIDENTS.insert().values(
                    id=f"aaaaaa{k}", track="R1", zone="Z", zone_kind="custom", also_in="[]",
                    state="open", violation=False, severity="info", first_entered_at=0.0,
                    last_inside_at=0.0, inside_s=0.0, max_depth_m=0.0, deepest_entry="e",
                    crossings=1, open_entries=0, origin="o", policy_sha256="0" * 64,
                    created_at=0.0, updated_at=0.0))
        msg = refused(resolve_id, s, "aaaaaa")
    listed = msg.split("(")[1].split(")")[0].split(", ")
    assert len(listed) == 5 and set(listed) <= {f"aaaaaa{k}" for k in range(7)}
