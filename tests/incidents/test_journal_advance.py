"""The journal's clock step (:meth:`IncidentJournal.advance`) and the incident as an alert
carries it (:func:`incident_view`), each on its own, fast.

``advance`` after each batch: the fixes of followed tracks held, then written through
the journal's retries when due; protocol timers fired at their due time and the next
one read again; every 5 s of clock, the dossiers of critical incidents ended
``max(PAD_S, merge_s)`` before asked for. Expected values by hand from the documented
limits (``FLUSH_S`` 10 s, ``DOSSIER_CHECK_S`` 5 s, ``PAD_S`` 600 s); what the store
holds is read with :mod:`sqlite3` straight from the file.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from incidents.helpers import ZONE
from incidents.helpers import crossing_record as record
from skyfence.incidents.journal import IncidentJournal
from skyfence.incidents.recorder import ObservationRecorder
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.writer import begin_run, incident_view, store_records
from skyfence.model import make_observations
from skyfence.policy import IncidentSettings, Policy

T0 = 1758263400.0  # 2025-09-19T06:30:00Z
T_EXIT = T0 + 300.0  # 2025-09-19T06:35:00Z


def journal_on(store: IncidentStore, *, recorder: ObservationRecorder | None = None,
               dossiers: bool = False, merge_s: float | None = None,
               on_queued: Any = lambda: None) -> IncidentJournal:
    """A replay's journal (timers on the feed's time), its wall clock fixed at 42."""
    run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
    if merge_s is not None:
        run = dataclasses.replace(run, settings=IncidentSettings(merge_s=merge_s))
    return IncidentJournal(store, run, ["hook"], feed_clock=True, on_queued=on_queued,
                           recorder=recorder, dossiers=dossiers, wall_clock=lambda: 42.0)


def fix(t: float) -> Any:
    return make_observations(time=[t], icao24=["aaa111"], lat=[59.0], lon=[25.0])


def stored_times(path: Path) -> list[float]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT time FROM observations ORDER BY time")]


# ------------------------------------------------------------------ fixes
def test_advance_keeps_the_fixes_of_followed_tracks_and_writes_them_when_due(
        tmp_path: Path) -> None:
    """The first held fix is written at once (no write before); then fixes wait until
    the last write is FLUSH_S = 10 feed seconds old: held at 5 s, written at exactly 10 s
    (both, 5 and 10). A batch at a feed time of -inf (no data yet) is not even
    buffered: the journal's last flush writes nothing of it."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        journal = journal_on(store, recorder=rec)
        rec.follow("aaa111", until=float("inf"))
        assert journal.advance(-float("inf"), fix(-1.0)) == []
        journal.flush()
        assert stored_times(path) == []  # not held: at -inf the recorder is not touched
        journal.advance(0.0, fix(0.0))
        assert stored_times(path) == [0.0]
        journal.advance(5.0, fix(5.0))
        assert stored_times(path) == [0.0]  # 5 s after the write: held
        journal.advance(10.0, fix(10.0))
        assert stored_times(path) == [0.0, 5.0, 10.0]


def track_fix(track: str, t: float) -> Any:
    return make_observations(time=[t], icao24=[track], lat=[59.0], lon=[25.0])


def test_a_tracks_fixes_are_kept_until_ten_minutes_after_its_exit_not_longer(
        tmp_path: Path) -> None:
    """R0001 enters (followed while inside: inf), then exits at T_EXIT: its fixes are kept
    until T_EXIT + PAD_S = T_EXIT + 600 and no longer (the exit ends what the entry's
    inf began). Fixes at + 500 and + 600 stored, at + 601 and + 3000 not."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        journal = journal_on(store, recorder=ObservationRecorder(store))
        journal.record({**record("aaaa000000000001", "R0001", exited=None), "event": "entry"})
        journal.record({**record("aaaa000000000001", "R0001"), "event": "exit"})
        for dt in (500.0, 600.0, 601.0, 3000.0):
            journal.advance(T_EXIT + dt, track_fix("R0001", T_EXIT + dt))
        journal.flush()
    assert stored_times(path) == [T_EXIT + 500.0, T_EXIT + 600.0]


def test_a_tracks_exit_ends_its_keeping_while_another_track_is_inside(tmp_path: Path) -> None:
    """R0002 is inside (followed: inf) while R0001 enters and exits at T_EXIT: R0001's
    fixes are kept until T_EXIT + 600 only; R0002's go on being kept."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        journal = journal_on(store, recorder=ObservationRecorder(store))
        journal.record({**record("bbbb000000000002", "R0002", exited=None), "event": "entry"})
        journal.record({**record("aaaa000000000001", "R0001", exited=None), "event": "entry"})
        journal.record({**record("aaaa000000000001", "R0001"), "event": "exit"})
        journal.advance(T_EXIT + 700.0, pd.concat([track_fix("R0001", T_EXIT + 700.0),
                                                   track_fix("R0002", T_EXIT + 700.0)]))
        journal.flush()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT track, time FROM observations").fetchall() == [
            ("R0002", T_EXIT + 700.0)]


def test_a_track_inside_two_zones_is_kept_until_ten_minutes_after_its_last_exit(
        tmp_path: Path) -> None:
    """R0001 enters two zones (entries A and B). A's exit at T_EXIT does not end the
    keeping while B is open: a fix at T_EXIT + 700 is stored (and not only because B's
    exit would take it from the 10 minutes buffered: it is 1,300 s older). B exits at
    T_EXIT + 2000: kept until + 2600 (+ 2600 stored, + 2601 not). Then the same track
    enters again (entry C at + 3000): kept again, with its fixes from the 10 minutes
    before (+ 2601, buffered)."""
    path = tmp_path / "s.sqlite"
    t_b = "2025-09-19T07:08:20.000Z"  # T_EXIT + 2000
    with IncidentStore.open(path) as store:
        journal = journal_on(store, recorder=ObservationRecorder(store))
        a = record("aaaa000000000001", "R0001", exited=None)
        b = {**record("bbbb000000000002", "R0001", exited=None), "zone": "OTHER"}
        journal.record({**a, "event": "entry"})
        journal.record({**b, "event": "entry"})
        journal.record({**record("aaaa000000000001", "R0001"), "event": "exit"})
        journal.advance(T_EXIT + 700.0, track_fix("R0001", T_EXIT + 700.0))
        journal.advance(T_EXIT + 1990.0)
        journal.record({**b, "exited_at": t_b, "last_inside_at": t_b, "event": "exit"})
        for dt in (2600.0, 2601.0):
            journal.advance(T_EXIT + dt, track_fix("R0001", T_EXIT + dt))
        journal.advance(T_EXIT + 2990.0)
        assert stored_times(path) == [T_EXIT + 700.0, T_EXIT + 2600.0]
        c = record("cccc000000000003", "R0001", "2025-09-19T07:25:00.000Z", exited=None)
        journal.record({**c, "event": "entry"})
        journal.advance(T_EXIT + 3000.0, track_fix("R0001", T_EXIT + 3000.0))
        journal.flush()
    assert stored_times(path) == [T_EXIT + 700.0, T_EXIT + 2600.0, T_EXIT + 2601.0,
                                  T_EXIT + 3000.0]


def test_a_journal_without_a_recorder_advances_without_one(tmp_path: Path) -> None:
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        assert journal_on(store).advance(0.0, fix(0.0)) == []  # nothing to keep, no error


def test_the_write_of_held_fixes_goes_through_the_journals_retries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorder only holds (``write=False``); the journal writes, retried while the
    store is away. The store refuses the first write once: advance does not raise, and
    its retry writes the fix (a refused write is still due: the 10 s count from the
    last write that went through)."""
    import skyfence.incidents.journal as jm

    monkeypatch.setattr(jm.time, "sleep", lambda s: None)
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        journal = journal_on(store, recorder=rec)
        rec.follow("aaa111", until=float("inf"))
        real = rec.flush
        refused: list[int] = []

        def once() -> None:
            if not refused:
                refused.append(1)
                raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
            real()

        monkeypatch.setattr(rec, "flush", once)
        journal.advance(0.0, fix(0.0))
        assert refused == [1] and stored_times(path) == [0.0] and not journal.store_failed
        journal.advance(5.0, fix(5.0))
        assert stored_times(path) == [0.0]  # 5 s after the write that went through


def test_a_store_that_stays_away_for_the_fixes_stops_the_journal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write refused: after its 7 tries the journal names the store (the watcher
    stops) rather than keep fixes in memory with no end; the fix is still held."""
    import skyfence.incidents.journal as jm
    from skyfence.errors import StoreError

    monkeypatch.setattr(jm.time, "sleep", lambda s: None)
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        rec = ObservationRecorder(store)
        journal = journal_on(store, recorder=rec)
        rec.follow("aaa111", until=float("inf"))
        tries: list[int] = []

        def away() -> None:
            tries.append(1)
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

        monkeypatch.setattr(rec, "flush", away)
        with pytest.raises(StoreError):
            journal.advance(0.0, fix(0.0))
        assert len(tries) == 7 and journal.store_failed
        assert rec._pending_rows == 1


# ------------------------------------------------------------------ timers
def test_timers_fire_at_exactly_their_due_time_and_the_next_is_read_again(
        tmp_path: Path) -> None:
    """Two timed steps, 60 s and 120 s after the first entry (T0): nothing at T0 + 59.9,
    the first at exactly T0 + 60, the second at T0 + 125 (read again after the first:
    not before T0 + 120). On the feed's clock each is escalated at its due time, the
    alert stored at the journal's wall clock (42); the outbox woken once per firing."""
    path = tmp_path / "s.sqlite"
    woken: list[int] = []
    steps = [{"step": "call the pilot", "after_s": 60.0},
             {"step": "scramble", "after_s": 120.0}]
    with IncidentStore.open(path) as store:
        journal = journal_on(store, on_queued=lambda: woken.append(1))
        journal.record({**record("aaaa000000000001", "R0001", exited=None, protocol=steps),
                        "event": "entry"})
        assert len(woken) == 1  # the entry's alert
        assert journal.advance(T0 + 59.9) == []
        first = journal.advance(T0 + 60.0)
        assert [a["event"] for a in first] == ["escalation"] and len(woken) == 2
        assert journal.advance(T0 + 119.9) == [] and len(woken) == 2
        second = journal.advance(T0 + 125.0)
        assert [a["event"] for a in second] == ["escalation"] and len(woken) == 3
        assert journal.advance(T0 + 1000.0) == []  # no timer left
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT n, escalated_at FROM steps ORDER BY n").fetchall() == [
            (1, T0 + 60.0), (2, T0 + 120.0)]
        assert db.execute("SELECT event, created_at, feed_at FROM alerts WHERE "
                          "event = 'escalation' ORDER BY seq").fetchall() == [
            ("escalation", 42.0, T0 + 60.0), ("escalation", 42.0, T0 + 120.0)]
        assert db.execute("SELECT sink FROM outbox JOIN alerts ON alerts.seq = alert_seq "
                          "WHERE event = 'escalation'").fetchall() == [("hook",), ("hook",)]


# ------------------------------------------------------------------ dossiers
def dossiers_asked(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT incident_id FROM dossiers")]


def test_dossiers_are_asked_every_five_seconds_for_incidents_ended_merge_s_before(
        tmp_path: Path) -> None:
    """merge_s = 900 (longer than PAD_S = 600): an incident exited at T_EXIT is over at
    T_EXIT + 900. Checked at + 897 (ended before T_EXIT - 3: not yet); at + 901 the
    incident is over but the last check was 4 s ago: not checked; at + 902, 5 s after
    the last check: asked, once."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        journal = journal_on(store, dossiers=True, merge_s=900.0)
        woken: list[int] = []
        journal.on_dossier_requested(lambda: woken.append(1))
        journal.record({**record("aaaa000000000001", "R0001"), "event": "exit"})
        journal.advance(T_EXIT + 897.0)
        assert dossiers_asked(path) == []
        journal.advance(T_EXIT + 901.0)
        assert dossiers_asked(path) == []  # 4 s after the last check
        journal.advance(T_EXIT + 902.0)
        assert dossiers_asked(path) == ["aaaa000000000001"] and woken == [1]
        journal.advance(T_EXIT + 1000.0)
        assert dossiers_asked(path) == ["aaaa000000000001"] and woken == [1]


def test_dossiers_wait_pad_s_when_merge_s_is_shorter(tmp_path: Path) -> None:
    """The default merge_s (120) is shorter than PAD_S: over at T_EXIT + 600 exactly
    (the dossier carries 10 minutes after the exit), not at + 595."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        journal = journal_on(store, dossiers=True)
        journal.record({**record("aaaa000000000001", "R0001"), "event": "exit"})
        journal.advance(T_EXIT + 595.0)
        assert dossiers_asked(path) == []
        journal.advance(T_EXIT + 600.0)
        assert dossiers_asked(path) == ["aaaa000000000001"]


def test_a_journal_not_asked_for_dossiers_asks_for_none(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        journal = journal_on(store)
        journal.record({**record("aaaa000000000001", "R0001"), "event": "exit"})
        journal.advance(T_EXIT + 10000.0)
    assert dossiers_asked(path) == []


# ------------------------------------------------------------------ incident view
def test_the_incident_view_lists_its_tracks_by_entry_time_then_id(tmp_path: Path) -> None:
    """An incident of R0001 (exited 06:35), with three more entries written by hand,
    inserted in neither order: R0004 at T0 + 200 (id bbbb), R0003 at T0 + 100 (id zzzz),
    R0002 at T0 + 100 (id cccc). By entry time, then id: R0001, R0002, R0003, R0004.
    Another incident's track (R0009, hours later) is not among them."""
    path = tmp_path / "s.sqlite"
    a = record("aaaa000000000001", "R0001")
    other = record("dddd000000000009", "R0009", "2025-09-19T12:00:00.000Z",
                   "2025-09-19T12:05:00.000Z")
    with IncidentStore.open(path) as store:
        run = begin_run(store, "scan", "scan", Policy(), [ZONE], {})
        assert store_records(store, run, [a, other]) == (2, 2)
    with sqlite3.connect(path) as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(entries)")]
        base = dict(zip(cols, db.execute("SELECT * FROM entries WHERE id = ?",
                                         (a["id"],)).fetchone(), strict=True))
        for eid, track, entered in [("bbbb000000000004", "R0004", T0 + 200.0),
                                    ("zzzz000000000003", "R0003", T0 + 100.0),
                                    ("cccc000000000002", "R0002", T0 + 100.0)]:
            row = {**base, "id": eid, "track": track, "entered_at": entered}
            db.execute(f"INSERT INTO entries ({', '.join(cols)}) VALUES "
                       f"({', '.join('?' * len(cols))})", [row[c] for c in cols])
    with IncidentStore.open(path) as store, store.engine.connect() as conn:
        view = incident_view(conn, a["id"])
        assert view["tracks"] == ["R0001", "R0002", "R0003", "R0004"]
        # its exit as the alert carries it (ISO 8601 UTC), from the stored incident
        assert view["last_exited_at"] == "2025-09-19T06:35:00.000Z"
        assert view["first_entered_at"] == "2025-09-19T06:30:00.000Z"
        assert incident_view(conn, other["id"])["tracks"] == ["R0009"]


def test_a_journal_built_with_the_defaults_asks_for_no_dossier(tmp_path: Path) -> None:
    """Dossiers are asked for only when the watcher was told to (``--dossiers``): the
    default of :class:`IncidentJournal` is not to."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        journal = IncidentJournal(store, run, ["hook"], feed_clock=True)
        journal.record({**record("aaaa000000000001", "R0001"), "event": "exit"})
        journal.advance(T_EXIT + 10000.0)
    assert dossiers_asked(path) == []


def write_incident(store: IncidentStore, origin: str, rec: dict[str, Any], event: str) -> None:
    """``rec`` recorded as ``event`` by a journal of its own for ``origin``."""
    run = begin_run(store, "watch", origin, Policy(), [ZONE], {})
    IncidentJournal(store, run, ["hook"], feed_clock=True).record({**rec, "event": event})


def test_dossiers_are_asked_for_this_feeds_critical_incidents_that_are_over_or_closed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Five incidents, all exited by 06:35 but for one still inside: asked for are this
    feed's critical one that is over (A) and its critical one the operator closed while
    its track is still inside (C); not the warning (W), not another feed's critical one
    (O), not the open one (B). Each asked once, pending, at the wall clock (42); one log
    line with the count. A critical incident over later (D) is asked for by the next
    call although the others already have a dossier."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        journal = journal_on(store, dossiers=True)
        asked: list[int] = []
        journal.on_dossier_requested(lambda: asked.append(1))
        journal.record({**record("aaaa000000000001", "R0001"), "event": "exit"})
        journal.record({**record("bbbb000000000002", "R0002", exited=None), "event": "entry"})
        journal.record({**record("cccc000000000003", "R0003", exited=None), "event": "entry"})
        journal.record({**record("eeee000000000005", "R0005"), "severity": "warning",
                        "event": "exit"})
        write_incident(store, "replay:other", record("ffff000000000006", "R0006"), "exit")
        with sqlite3.connect(path) as db:
            db.execute("UPDATE incidents SET state = 'closed' WHERE id = 'cccc000000000003'")
            assert db.execute("SELECT id, severity, origin, open_entries FROM incidents "
                              "ORDER BY id").fetchall() == [
                ("aaaa000000000001", "critical", "replay:test", 0),
                ("bbbb000000000002", "critical", "replay:test", 1),
                ("cccc000000000003", "critical", "replay:test", 1),
                ("eeee000000000005", "warning", "replay:test", 0),
                ("ffff000000000006", "critical", "replay:other", 0)]
        with caplog.at_level(logging.INFO, logger="skyfence.incidents.journal"):
            assert journal.request_dossiers(T_EXIT) == 2
        assert [r.getMessage() for r in caplog.records] == [
            "dossier asked for 2 critical incident(s)"]
        assert asked == [1]
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT incident_id, state, requested_at FROM dossiers "
                              "ORDER BY incident_id").fetchall() == [
                ("aaaa000000000001", "pending", 42.0), ("cccc000000000003", "pending", 42.0)]
        assert journal.request_dossiers(T_EXIT) == 0 and asked == [1]  # none twice
        journal.record({**record("dddd000000000004", "R0004", "2025-09-19T07:00:00.000Z",
                                 "2025-09-19T07:05:00.000Z"), "event": "exit"})
        assert journal.request_dossiers(None) == 1 and asked == [1, 1]
    assert sorted(dossiers_asked(path)) == ["aaaa000000000001", "cccc000000000003",
                                            "dddd000000000004"]


# ------------------------------------------------------------------ set-up
def test_a_restarted_journal_fires_the_timers_its_feed_left_due(tmp_path: Path) -> None:
    """A journal reads the next due timer of its feed when it starts: a step due 60 s
    after an entry stored by an earlier run of the same feed (a watcher restarted) is
    escalated by the new journal's first advance past it, without a new entry."""
    path = tmp_path / "s.sqlite"
    steps = [{"step": "call the pilot", "after_s": 60.0}]
    with IncidentStore.open(path) as store:
        first = journal_on(store)
        first.record({**record("aaaa000000000001", "R0001", exited=None, protocol=steps),
                      "event": "entry"})
        again = journal_on(store)  # the same origin, a new run
        assert again.advance(T0 + 59.0) == []
        (alert,) = again.advance(T0 + 60.0)
    assert alert["event"] == "escalation" and alert["step"]["n"] == 1


def test_a_store_away_when_the_journal_starts_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first read of the timers is retried like every store call; a store that stays
    away is named in one StoreError (not an error about something else)."""
    import skyfence.incidents.journal as jm
    from skyfence.errors import StoreError

    monkeypatch.setattr(jm.time, "sleep", lambda s: None)
    tries: list[int] = []

    def away(*args: Any) -> float:
        tries.append(1)
        raise sa.exc.OperationalError("SELECT", {}, Exception("the database system is "
                                                              "starting up"))

    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        monkeypatch.setattr(jm, "next_due", away)
        with pytest.raises(StoreError, match=r"^--store .*s\.sqlite: cannot write \(the "
                                             r"database system is starting up\)$"):
            IncidentJournal(store, run, ["hook"], feed_clock=True)
    assert len(tries) == 7


def test_a_live_journal_runs_its_timers_on_the_wall_clock(tmp_path: Path) -> None:
    """Live (``feed_clock`` False) the timers follow the wall clock, whatever the feed's
    time: a step due at T0 + 60 is not escalated at a feed time of T0 + 1000 while the
    wall clock says T0 + 30; it is at a wall clock of T0 + 61, escalated then."""
    path = tmp_path / "s.sqlite"
    wall = {"t": T0 + 30.0}
    steps = [{"step": "call the pilot", "after_s": 60.0}]
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "live:test", Policy(), [ZONE], {})
        journal = IncidentJournal(store, run, ["hook"], feed_clock=False,
                                  wall_clock=lambda: wall["t"])
        journal.record({**record("aaaa000000000001", "R0001", exited=None, protocol=steps),
                        "event": "entry"})
        assert journal.now(T0 + 1000.0) == T0 + 30.0
        assert journal.advance(T0 + 1000.0) == []
        wall["t"] = T0 + 61.0
        assert [a["event"] for a in journal.advance(T0 + 1000.0)] == ["escalation"]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT escalated_at FROM steps").fetchall() == [(T0 + 61.0,)]


def test_the_incident_view_rounds_time_inside_to_ms_and_depth_to_dm(tmp_path: Path) -> None:
    """The alert carries ``inside_s`` to the millisecond and ``max_depth_m`` to the
    decimetre (stored as 300.12345 s and 1234.5678 m: by hand 300.123 and 1234.6)."""
    path = tmp_path / "s.sqlite"
    a = record("aaaa000000000001", "R0001")
    with IncidentStore.open(path) as store:
        store_records(store, begin_run(store, "scan", "scan", Policy(), [ZONE], {}), [a])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE incidents SET inside_s = 300.12345, max_depth_m = 1234.5678")
    with IncidentStore.open(path) as store, store.engine.connect() as conn:
        view = incident_view(conn, a["id"])
    assert (view["inside_s"], view["max_depth_m"]) == (300.123, 1234.6)


# ------------------------------------------------------------------ entries as stored
def test_entries_are_stored_with_their_state_zone_hash_and_verdict(tmp_path: Path) -> None:
    """Read back with sqlite3: a scan's exited entry is ``exited``, its entry without an
    exit ``ended_open``; a watch exit without an exit time (the track lost inside) is
    ``ended_open``; each row carries its zone's hash as the
    ``zones`` table has it and its verdict. An update of one entry changes that entry
    only (its depth), not the others."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        scan = begin_run(store, "scan", "scan", Policy(), [ZONE], {})
        store_records(store, scan, [record("aaaa000000000001", "S0001"),
                                    {**record("bbbb000000000002", "S0002", exited=None),
                                     "violation": False, "severity": "warning"}])
        journal = journal_on(store)
        lost = record("cccc000000000003", "R0003", exited=None)
        journal.record({**lost, "event": "entry"})
        journal.record({**lost, "event": "exit"})
        inside = record("dddd000000000004", "R0004", exited=None)
        journal.record({**inside, "event": "entry"})
        journal.record({**inside, "max_depth_m": 6000.0, "event": "update"})
    with sqlite3.connect(path) as db:
        (sha,) = db.execute("SELECT sha256 FROM zones WHERE name = ?", (ZONE.name,)).fetchone()
        rows = db.execute("SELECT id, state, zone_sha256, violation, max_depth_m FROM "
                          "entries ORDER BY id").fetchall()
    assert rows == [("aaaa000000000001", "exited", sha, 1, 5000.0),
                    ("bbbb000000000002", "ended_open", sha, 0, 5000.0),
                    ("cccc000000000003", "ended_open", sha, 1, 5000.0),
                    ("dddd000000000004", "open", sha, 1, 6000.0)]
