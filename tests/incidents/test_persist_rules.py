"""The persistence path's rules, each on its own: what an alert's idempotency key is made
of, a scan stored again, and the journal's last flush after the store went away.

References are independent of the writer: keys are the documented ``kind|id|...``
strings hashed by hand (SHA-256, first 32 hex digits, written down as literals), and
what the store holds is read with :mod:`sqlite3` straight from the file.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from incidents.helpers import ZONE
from incidents.helpers import crossing_record as record
from skyfence.incidents.journal import IncidentJournal
from skyfence.incidents.recorder import ObservationRecorder
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.writer import alert_key, begin_run, store_records
from skyfence.model import make_observations
from skyfence.policy import Policy

ENTRY_ID = "605f06f78b36ece5"


# ------------------------------------------------------------------ alert keys
def test_alert_keys_are_the_documented_strings_hashed() -> None:
    """A restarted (maybe newer) skyfence drops a replayed alert by its key, so the key
    of an alert must not change between versions. By hand: sha256 of the parts joined
    by ``|`` (kind, entry id or "", then the figures of its kind), first 32 hex digits."""
    # "approach|": an event without an id has an empty second part
    assert alert_key({"event": "approach"}) == "6f3a1e947ab70481e20b8fc189e03374"
    # "entry|605f06f78b36ece5": an entry's figures are not part of it
    assert alert_key({"event": "entry", "id": ENTRY_ID, "max_depth_m": 1.0,
                      "exited_at": "x"}) == "0d6b2da3d111f5e1173ba649788a0656"
    # "update|605f06f78b36ece5|1234.5|None|3000.0|7": repr of each figure, None if absent
    assert alert_key({"event": "update", "id": ENTRY_ID, "max_depth_m": 1234.5,
                      "max_altitude_m": 3000.0, "observations": 7,
                      "exited_at": "x"}) == "b0a331ce7629ba1969048213f25f76c0"
    # "exit|605f06f78b36ece5|2025-09-19T06:39:31.117Z|2025-09-19T06:39:28.000Z"
    assert alert_key({"event": "exit", "id": ENTRY_ID, "max_depth_m": 1.0,
                      "exited_at": "2025-09-19T06:39:31.117Z",
                      "last_inside_at": "2025-09-19T06:39:28.000Z"}
                     ) == "f0ef4d3281e646c3488e201e1efb9837"
    # "open|605f06f78b36ece5|None|2025-09-19T06:39:28.000Z": no exit
    assert alert_key({"event": "open", "id": ENTRY_ID, "exited_at": None,
                      "last_inside_at": "2025-09-19T06:39:28.000Z"}
                     ) == "b016c00fa54f3d0d7e61f80fa3f6e257"
    # "escalation|605f06f78b36ece5|inc1|2": the incident and the step's number
    assert alert_key({"event": "escalation", "id": ENTRY_ID, "exited_at": "x",
                      "incident": {"id": "inc1"}, "step": {"n": 2}}
                     ) == "7f234341c31f0846d2f30a78732b4347"


def test_every_figure_of_an_update_or_an_end_makes_a_new_alert() -> None:
    """An update whose key equalled an earlier one's would be dropped as a repeat: the
    operator would not see the track go deeper. Each figure changed alone: a new key."""
    update = {"event": "update", "id": ENTRY_ID, "max_depth_m": 100.0,
              "min_altitude_m": 900.0, "max_altitude_m": 3000.0, "observations": 7}
    base = alert_key(update)
    for field, value in [("max_depth_m", 100.5), ("min_altitude_m", 800.0),
                         ("max_altitude_m", 3100.0), ("observations", 8)]:
        assert alert_key({**update, field: value}) != base, field
    assert alert_key({**update, "event": "entry"}) != base
    for kind in ("exit", "open"):
        end = {"event": kind, "id": ENTRY_ID, "exited_at": "2025-09-19T06:39:31.117Z",
               "last_inside_at": "2025-09-19T06:39:28.000Z"}
        key = alert_key(end)
        assert alert_key({**end, "exited_at": "2025-09-19T06:39:32.117Z"}) != key, kind
        assert alert_key({**end, "last_inside_at": "2025-09-19T06:39:29.000Z"}) != key, kind
    esc = {"event": "escalation", "id": ENTRY_ID, "incident": {"id": "inc1"},
           "step": {"n": 2}}
    assert alert_key({**esc, "step": {"n": 3}}) != alert_key(esc)
    assert alert_key({**esc, "incident": {"id": "inc2"}}) != alert_key(esc)


# ------------------------------------------------------------------ scans


def stored_entries(path: Path) -> list[tuple[str, str]]:
    """(entry id, incident id) of every stored entry, read with sqlite3."""
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT id, incident_id FROM entries").fetchall())


def test_a_scan_stored_again_with_more_records_adds_only_the_new_ones(tmp_path: Path) -> None:
    """Entries already stored are skipped, and the ones after them still stored; three
    tracks hours apart: three incidents, each named by its first entry."""
    path = tmp_path / "s.sqlite"
    a = record("aaaa000000000001", "R0001", "2025-09-19T06:00:00.000Z",
               "2025-09-19T06:05:00.000Z")
    b = record("bbbb000000000002", "R0002", "2025-09-19T09:00:00.000Z",
               "2025-09-19T09:05:00.000Z")
    c = record("cccc000000000003", "R0003", "2025-09-19T12:00:00.000Z",
               "2025-09-19T12:05:00.000Z")
    with IncidentStore.open(path) as store:
        run = begin_run(store, "scan", "scan", Policy(), [ZONE], {})
        assert store_records(store, run, [b, a]) == (2, 2)
        assert stored_entries(path) == [(a["id"], a["id"]), (b["id"], b["id"])]
        # a and b sort before c: the first stored ones must not end the loop
        assert store_records(store, run, [c, b, a]) == (1, 1)
        assert store_records(store, run, [a]) == (0, 0)
    assert stored_entries(path) == [(a["id"], a["id"]), (b["id"], b["id"]),
                                    (c["id"], c["id"])]


# ------------------------------------------------------------------ journal
def journal_on(store: IncidentStore, recorder: ObservationRecorder | None) -> IncidentJournal:
    run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
    return IncidentJournal(store, run, ["test"], feed_clock=True, recorder=recorder)


def test_a_journal_without_a_recorder_has_nothing_to_flush(tmp_path: Path) -> None:
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        journal_on(store, None).flush()  # no fixes kept: nothing to write, no error


def test_the_journal_flush_writes_the_held_fixes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        journal = journal_on(store, rec)
        rec.follow("aaa111", until=1e9)
        rec.add(make_observations(time=[0.0, 1.0], icao24=["aaa111"] * 2, lat=[59.0] * 2,
                                  lon=[25.0] * 2), 1.0, write=False)
        journal.flush()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT track, time FROM observations ORDER BY time").fetchall() == [
            ("aaa111", 0.0), ("aaa111", 1.0)]


def test_after_the_store_failed_the_last_flush_is_tried_once_and_logged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """The watcher is stopping because the store stayed away: its last flush must not
    wait through another half-minute of retries, nor raise over the stop's own error."""
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        rec = ObservationRecorder(store)
        journal = journal_on(store, rec)
        journal.store_failed = True
        calls = []

        def away() -> None:
            calls.append(1)
            raise sa.exc.OperationalError("INSERT", {}, Exception(" disk I/O error \n"))

        monkeypatch.setattr(rec, "flush", away)
        with caplog.at_level(logging.WARNING, logger="skyfence.incidents.journal"):
            journal.flush()
    assert calls == [1]
    assert [r.getMessage() for r in caplog.records] == [
        "incident store: the last fixes for dossiers were not written (disk I/O error)"]


# ------------------------------------------------------------------ one alert
T_EXIT = 1758263971.117  # 2025-09-19T06:39:31.117Z: 06:30:00 is 1758263400, + 571.117 s


def test_an_alert_is_stored_with_its_outbox_rows_and_audit_before_it_is_returned(
        tmp_path: Path) -> None:
    """One entry event, two sinks: the alert row (key, incident, entry, event, times, the
    payload as sent), one pending outbox row per sink due at once, the audit's "opened"
    and "entry"; the same event again changes nothing. Read with sqlite3."""
    import json

    from skyfence.incidents.writer import record_alert

    path = tmp_path / "s.sqlite"
    rec = record("aaaa000000000001", "R0001", "2025-09-19T06:30:00.000Z",
                 "2025-09-19T06:39:31.117Z")
    event = {**rec, "exited_at": None, "event": "entry"}
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        payload = record_alert(store, run, event, ["hook", "mail"], feed_at=T_EXIT, now=5.0)
        assert payload is not None
        assert record_alert(store, run, event, ["hook", "mail"], feed_at=1.0, now=6.0) is None
    key = alert_key(event)
    with sqlite3.connect(path) as db:
        alerts = db.execute("SELECT seq, key, incident_id, entry_id, event, feed_at, "
                            "created_at, payload FROM alerts").fetchall()
        outbox = db.execute("SELECT alert_seq, sink, state, attempts, next_try_at, "
                            "delivered_at, last_error FROM outbox ORDER BY sink").fetchall()
        audit = db.execute("SELECT incident_id, kind, at, feed_at, operator, data FROM events "
                           "ORDER BY seq").fetchall()
    assert len(alerts) == 1
    seq, got_key, incident, entry, kind, feed_at, created, body = alerts[0]
    assert (got_key, incident, entry, kind, feed_at, created) == (
        key, rec["id"], rec["id"], "entry", T_EXIT, 5.0)
    sent = json.loads(body)
    assert sent == payload and sent["idempotency_key"] == key
    # the incident as the alert carries it: by hand from the one entry, open since
    # 06:30:00, last inside 06:39:31.117 (571.117 s inside), 5 km deep
    assert sent["incident"] == {
        "id": rec["id"], "state": "open", "zone": "BOX", "also_in": [], "track": "R0001",
        "violation": True, "severity": "critical",
        "first_entered_at": "2025-09-19T06:30:00.000Z", "last_exited_at": None,
        "inside_s": 571.117, "max_depth_m": 5000.0, "crossings": 1, "open_entries": 1,
        "tracks": ["R0001"]}
    assert {k: v for k, v in sent.items() if k not in ("incident", "idempotency_key")} == event
    assert outbox == [(seq, "hook", "pending", 0, 5.0, None, None),
                      (seq, "mail", "pending", 0, 5.0, None, None)]
    assert [(i, k, at, f, op) for i, k, at, f, op, _ in audit] == [
        (rec["id"], "opened", 5.0, 1758263400.0, "skyfence"),
        (rec["id"], "entry", 5.0, T_EXIT, "skyfence")]
    assert json.loads(audit[1][5]) == {"entry": rec["id"]}


def test_an_update_is_alerted_without_an_audit_row_and_an_event_of_no_entry_has_no_incident(
        tmp_path: Path) -> None:
    from skyfence.incidents.writer import record_alert

    path = tmp_path / "s.sqlite"
    rec = record("aaaa000000000001", "R0001", "2025-09-19T06:30:00.000Z",
                 "2025-09-19T06:39:31.117Z")
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        record_alert(store, run, {**rec, "exited_at": None, "event": "update"}, ["hook"],
                     now=7.0)
        before = time.time()  # no clock given: the wall clock's
        warned = record_alert(store, run, {"event": "approach", "id": "w1", "track": "X"},
                              ["hook"])
        after = time.time()
    assert warned is not None and "incident" not in warned
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT kind FROM events").fetchall() == [("opened",)]
        assert db.execute("SELECT event, incident_id, entry_id, feed_at FROM alerts "
                          "ORDER BY seq").fetchall() == [
            ("update", rec["id"], rec["id"], None), ("approach", None, None, None)]
        assert db.execute("SELECT count(*) FROM outbox").fetchone() == (2,)
        created = db.execute("SELECT created_at FROM alerts ORDER BY seq").fetchall()
    assert created[0] == (7.0,) and before <= created[1][0] <= after


def test_the_outbox_is_woken_only_after_the_alert_is_committed(tmp_path: Path) -> None:
    """Stored before alerted: when the journal wakes the outbox, another connection to
    the file already reads the alert; a repeat wakes nothing and is counted."""
    path = tmp_path / "s.sqlite"
    rec = record("aaaa000000000001", "R0001", "2025-09-19T06:30:00.000Z",
                 "2025-09-19T06:39:31.117Z")
    seen: list[list[tuple[str, str]]] = []

    def wake() -> None:
        with sqlite3.connect(path) as db:
            seen.append(db.execute("SELECT event, sink FROM alerts JOIN outbox "
                                   "ON outbox.alert_seq = alerts.seq").fetchall())

    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        journal = IncidentJournal(store, run, ["hook"], feed_clock=True, on_queued=wake,
                                  wall_clock=lambda: 42.0)
        assert journal.record({**rec, "event": "exit"}) is not None
        assert seen == [[("exit", "hook")]]
        assert journal.record({**rec, "event": "exit"}) is None
        assert journal.record({**rec, "event": "exit"}) is None
        assert journal.repeats == 2 and len(seen) == 1
    with sqlite3.connect(path) as db:  # stored at the journal's clock, the exit's feed time
        assert db.execute("SELECT created_at, feed_at FROM alerts").fetchall() == [
            (42.0, T_EXIT)]


class Follows:
    """Stands in for the recorder: what the journal asks it to follow."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def follow(self, track: str, until: float) -> None:
        self.calls.append((track, until))


def test_the_journal_follows_a_track_until_ten_minutes_after_its_end(tmp_path: Path) -> None:
    """Entry and update: for as long as it is inside (inf); exit: its exit + 600 s;
    ended inside (no exit time): its last inside fix + 600 s."""
    rec = record("aaaa000000000001", "R0001", "2025-09-19T06:30:00.000Z",
                 "2025-09-19T06:39:31.117Z")
    follows = Follows()
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        journal = IncidentJournal(store, run, ["hook"], feed_clock=True,
                                  recorder=follows)  # type: ignore[arg-type]
        journal.record({**rec, "exited_at": None, "event": "entry"})
        journal.record({**rec, "exited_at": None, "event": "update", "observations": 80})
        # its last fix inside 3.117 s before the exit: the exit counts
        journal.record({**rec, "last_inside_at": "2025-09-19T06:39:28.000Z", "event": "exit"})
        journal.record({**rec, "id": "bbbb000000000002", "exited_at": None,
                        "last_inside_at": "2025-09-19T06:40:00.000Z", "event": "exit"})
        journal.record({"event": "approach", "id": "w1", "track": "X"})
    assert follows.calls == [("R0001", float("inf")), ("R0001", float("inf")),
                             ("R0001", T_EXIT + 600.0), ("R0001", 1758264000.0 + 600.0)]


class FollowsAndKeeps(Follows):
    """Stands in for the recorder in a journal that advances its clock."""

    def add(self, batch: object, now: float, *, write: bool = True) -> None:
        pass

    def write_due(self, now: float) -> None:
        pass


def test_the_journal_forgets_the_tracks_it_no_longer_follows(tmp_path: Path) -> None:
    """Many tracks come in and leave over a long watch: once the feed's clock is past a
    track's last end + 600 s, the journal holds nothing of it; a track still inside, or
    one that left less than 600 s ago, is still followed."""
    follows = FollowsAndKeeps()
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        journal = IncidentJournal(store, run, ["hook"], feed_clock=True,
                                  recorder=follows)  # type: ignore[arg-type]
        for k in range(30):
            rec = record(f"{k:016x}", f"T{k:04d}", "2025-09-19T06:30:00.000Z",
                         "2025-09-19T06:39:31.117Z")
            journal.record({**rec, "exited_at": None, "event": "entry"})
            if k < 28:  # two stay inside, each after another entry of theirs ended
                journal.record({**rec, "event": "exit"})
            else:
                other = {**rec, "id": f"{k + 100:016x}", "zone": "OTHER"}
                journal.record({**other, "exited_at": None, "event": "entry"})
                journal.record({**other, "event": "exit"})
        assert journal.followed_tracks == 30
        journal.advance(T_EXIT + 599.0)
        assert journal.followed_tracks == 30  # left less than 600 s ago: still followed
        journal.advance(T_EXIT + 601.0)
        assert journal.followed_tracks == 2  # only the two inside
        late = record("ffff000000000001", "T0000", "2025-09-19T07:00:00.000Z",
                      "2025-09-19T07:01:00.000Z")
        journal.record({**late, "exited_at": None, "event": "entry"})  # it comes back
        assert journal.followed_tracks == 3
        assert follows.calls[-1] == ("T0000", float("inf"))


def test_an_events_feed_time_is_its_exit_else_its_last_inside_else_its_entry() -> None:
    from skyfence.incidents.journal import _feed_time

    exit_ = "2025-09-19T06:39:31.117Z"
    last = "2025-09-19T06:39:28.000Z"  # 1758263968
    entered = "2025-09-19T06:30:00.000Z"  # 1758263400
    assert _feed_time({"exited_at": exit_, "last_inside_at": last,
                       "entered_at": entered}) == T_EXIT
    assert _feed_time({"exited_at": None, "last_inside_at": last,
                       "entered_at": entered}) == 1758263968.0
    assert _feed_time({"entered_at": entered}) == 1758263400.0
    assert _feed_time({"event": "approach"}) is None


# ------------------------------------------------------------------ retries
def test_a_store_away_is_tried_seven_times_over_the_backoff_then_named(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Delays by hand from Backoff(first 0.25 s, doubling, at most 8 s): 0.25, 0.5, 1,
    2, 4, 8 between the seven tries (15.75 s in all); then one StoreError line naming
    the store and the database's first line, no traceback chain."""
    import skyfence.incidents.journal as jm
    from skyfence.errors import StoreError

    slept: list[float] = []
    monkeypatch.setattr(jm.time, "sleep", slept.append)

    class Store:
        shown = "sqlite:////x/s.sqlite"

    tries: list[int] = []

    def away() -> int:
        tries.append(1)
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked\nmore"))

    with (caplog.at_level(logging.WARNING, logger="skyfence.incidents.journal"),
          pytest.raises(StoreError) as err):
        jm._retrying(away, Store())  # type: ignore[arg-type]
    assert len(tries) == 7
    assert slept == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert str(err.value) == "--store sqlite:////x/s.sqlite: cannot write (database is locked)"
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert len(caplog.records) == 6
    assert caplog.records[0].getMessage().startswith(
        "incident store: write failed (database is locked")

    def no_cause() -> int:
        raise sa.exc.OperationalError("INSERT", {}, None)  # type: ignore[arg-type]

    with pytest.raises(StoreError) as err:  # no database error: SQLAlchemy's own text
        jm._retrying(no_cause, Store())  # type: ignore[arg-type]
    assert str(err.value).startswith("--store sqlite:////x/s.sqlite: cannot write (")
    assert "[SQL: INSERT]" in str(err.value)

    left = [2]

    def back_after_two() -> str:
        if left[0]:
            left[0] -= 1
            raise sa.exc.OperationalError("SELECT", {}, Exception("closed"))
        return "done"

    slept.clear()
    assert jm._retrying(back_after_two, Store()) == "done"  # type: ignore[arg-type]
    assert slept == [0.25, 0.5]


def test_a_journal_whose_store_stayed_away_says_so(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import skyfence.incidents.journal as jm
    from skyfence.errors import StoreError

    monkeypatch.setattr(jm.time, "sleep", lambda s: None)
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        journal = journal_on(store, None)

        def away() -> None:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

        with pytest.raises(StoreError):
            journal._try(away)
        assert journal.store_failed


# ------------------------------------------------------------------ fixes kept
def test_stored_fixes_keep_unknowns_as_null(tmp_path: Path) -> None:
    """NaN numbers, empty or missing texts, a column a batch lacks: NULL in the table
    (sqlite3 reads None); known values as given, ``onground`` as 0/1."""
    import pandas as pd

    path = tmp_path / "s.sqlite"
    full = make_observations(time=[0.0, 1.0], icao24=["aaa111"] * 2, lat=[59.0, 59.1],
                             lon=[25.0, 25.1], altitude=[3000.0, float("nan")],
                             velocity=[200.0, 201.0], heading=[90.0, 91.0],
                             vertrate=[0.0, -1.5], callsign=["FIN1", ""],
                             squawk=["7700", None], onground=[True, False])
    # a batch without velocity and squawk (a source that has none), and whose
    # onground is unknown (None in an object column)
    bare = pd.DataFrame({"time": [2.0], "icao24": ["aaa111"], "lat": [59.2], "lon": [25.2],
                         "altitude": [3100.0], "heading": [92.0], "vertrate": [1.0],
                         "callsign": ["FIN1"],
                         "onground": pd.Series([None], dtype=object)})
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        rec.follow("aaa111", until=1e9)
        rec.add(full, 1.0, write=False)
        rec.flush()
        rec.add(bare, 2.0, write=False)
        rec.flush()  # alone: a column one frame of a write lacks is NULL for all of it
        assert rec.rows_stored == 3
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT track, time, lat, lon, altitude, velocity, heading, "
                          "vertrate, callsign, squawk, onground FROM observations "
                          "ORDER BY time").fetchall()
    assert rows == [
        ("aaa111", 0.0, 59.0, 25.0, 3000.0, 200.0, 90.0, 0.0, "FIN1", "7700", 1),
        ("aaa111", 1.0, 59.1, 25.1, None, 201.0, 91.0, -1.5, None, None, 0),
        ("aaa111", 2.0, 59.2, 25.2, 3100.0, None, 92.0, 1.0, "FIN1", None, None)]


def fixes(n: int, t0: float = 0.0) -> Any:
    return make_observations(time=t0 + np.arange(n) * 0.001, icao24=["aaa111"] * n,
                             lat=np.full(n, 59.0), lon=np.full(n, 25.0))


def stored_count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM observations").fetchone()[0])


def test_held_fixes_are_written_at_two_thousand_rows_or_ten_feed_seconds(
        tmp_path: Path) -> None:
    """By the documented limits: 1,999 held fixes wait, the 2,000th writes them; after
    a write, fixes wait 9.99 s of feed time and are written at exactly 10 s."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        rec.follow("aaa111", until=1e9)
        rec.add(fixes(1), 0.0)  # the first write: nothing written before
        assert stored_count(path) == 1
        rec.add(fixes(1998, 1.0), 1.0)
        assert stored_count(path) == 1  # 1,998 held
        rec.add(fixes(2, 3.0), 2.0)  # 2,000 held: written, although only 2 s later
        assert stored_count(path) == 2001
        rec.add(fixes(1, 5.0), 11.99)  # 9.99 s after the write at 2.0
        assert stored_count(path) == 2001
        rec.add(fixes(1, 6.0), 12.0)  # exactly 10 s
        assert stored_count(path) == 2003
        rec.add(fixes(1999, 7.0), 13.0)  # the count starts again after a write: 1,999 wait
        assert stored_count(path) == 2003


def test_inserting_rows_already_stored_counts_only_the_new_ones(tmp_path: Path) -> None:
    from skyfence.incidents.schema import OBSERVATIONS

    row = {"track": "aaa111", "time": 0.0, "lat": 59.0, "lon": 25.0}
    with IncidentStore.open(tmp_path / "s.sqlite") as store, store.transaction() as conn:
        assert store.insert_new(conn, OBSERVATIONS, []) == 0
        assert store.insert_new(conn, OBSERVATIONS, [row, {**row, "time": 1.0}]) == 2
        assert store.insert_new(conn, OBSERVATIONS, iter([row, {**row, "time": 2.0}])) == 1
        assert store.insert_new(conn, OBSERVATIONS, [row]) == 0  # all stored already


def test_a_sqlite_store_commits_through_a_write_ahead_log_and_waits_for_writers(
        tmp_path: Path) -> None:
    """WAL (a commit survives kill -9 of the writer, and ``incidents ack`` can write
    beside ``watch``), NORMAL sync (1), foreign keys on, a 30 s busy timeout."""
    with IncidentStore.open(tmp_path / "s.sqlite") as store, store.engine.connect() as conn:
        got = [conn.exec_driver_sql(f"PRAGMA {p}").scalar()
               for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")]
    assert got == ["wal", 1, 1, 30000]
    with sqlite3.connect(tmp_path / "s.sqlite") as db:  # the mode is the file's own
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_stored_fixes_are_read_back_column_by_column(tmp_path: Path) -> None:
    """What a dossier reads: every stored column of the track's fixes as written (the
    values written by hand below, read in time order), unknowns as NaN or None,
    ``onground`` as a bool; another track's fixes and those outside the window not."""
    from skyfence.incidents.recorder import read_observations

    path = tmp_path / "s.sqlite"
    batch = make_observations(time=[1.0, 0.0, 2.0, 0.5], icao24=["aaa111"] * 3 + ["bbb222"],
                              lat=[59.1, 59.0, 59.2, 50.0], lon=[25.1, 25.0, 25.2, 20.0],
                              altitude=[3100.0, 3000.0, float("nan"), 1.0],
                              velocity=[201.0, 200.0, 202.0, 1.0],
                              heading=[91.0, 90.0, 92.0, 1.0], vertrate=[-1.5, 0.0, 1.0, 1.0],
                              callsign=["FIN1", "FIN0", None, "X"],
                              squawk=["7700", "7500", None, "1"],
                              onground=[True, False, True, True])
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        rec.follow("aaa111", until=1e9)
        rec.follow("bbb222", until=1e9)
        rec.add(batch, 2.0)
        rec.add(make_observations(time=[3.0], icao24=["aaa111"], lat=[59.3], lon=[25.3]),
                12.0)
        got = read_observations(store, "aaa111", 0.0, 2.0)
    assert got["icao24"].tolist() == ["aaa111"] * 3
    assert got["time"].tolist() == [0.0, 1.0, 2.0]
    assert got["lat"].tolist() == [59.0, 59.1, 59.2]
    assert got["lon"].tolist() == [25.0, 25.1, 25.2]
    np.testing.assert_array_equal(got["altitude"], [3000.0, 3100.0, np.nan])
    assert got["velocity"].tolist() == [200.0, 201.0, 202.0]
    assert got["heading"].tolist() == [90.0, 91.0, 92.0]
    assert got["vertrate"].tolist() == [0.0, -1.5, 1.0]
    assert got["callsign"].tolist() == ["FIN0", "FIN1", None]
    assert got["squawk"].tolist() == ["7500", "7700", None]
    assert got["onground"].tolist() == [False, True, True]
    assert got["time"].dtype == np.float64 and got["altitude"].dtype == np.float64


def test_a_followed_track_without_buffered_fixes_holds_nothing_of_another(
        tmp_path: Path) -> None:
    """bbb222's fixes over 12 s of feed are packed into a segment (SEGMENT_S 10 s);
    following aaa111, which is not in it, holds nothing: no row is written."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        for t in (0.0, 6.0, 12.0):
            rec.add(make_observations(time=[t], icao24=["bbb222"], lat=[59.0], lon=[25.0]),
                    t)
        assert len(rec._segments) == 1
        rec.follow("aaa111", until=1e9)
        rec.flush()
    assert stored_count(path) == 0


def test_a_batch_older_than_the_pad_is_not_kept_for_a_track_followed_later(
        tmp_path: Path) -> None:
    """aaa111's fix at 0 s, then the feed is quiet until 1,000 s (a batch with nothing
    in it): the fix is 1,000 s old, more than PAD_S = 600 s, and is dropped; following
    aaa111 then holds nothing of it."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        rec.add(make_observations(time=[0.0], icao24=["aaa111"], lat=[59.0], lon=[25.0]), 0.0)
        rec.add(None, 1000.0)
        rec.follow("aaa111", until=1e9)
        rec.flush()
    assert stored_count(path) == 0


# ------------------------------------------------------------------ the store itself
def test_json_is_stored_compact_in_the_given_key_order_and_utf8() -> None:
    """The documented form (schema: "a fixed key order so that what went out can be
    compared byte for byte"): no spaces, keys as given, non-ASCII as itself."""
    from skyfence.incidents.store import dumps

    assert dumps({"zone": "Zürich", "at": [1, 2.5], "a": None}) == \
        '{"zone":"Zürich","at":[1,2.5],"a":null}'


def test_the_default_store_is_skyfence_store_else_in_the_user_data_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``$SKYFENCE_STORE`` when set; else ``incidents.sqlite`` in the user data
    directory, on Linux ``$XDG_DATA_HOME/skyfence`` (the XDG base directory spec)."""
    import sys

    from skyfence.incidents.store import default_store_path

    monkeypatch.setenv("SKYFENCE_STORE", "/srv/ops/s.sqlite")
    assert default_store_path() == Path("/srv/ops/s.sqlite")
    monkeypatch.delenv("SKYFENCE_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert sys.platform.startswith("linux")
    assert default_store_path() == tmp_path / "skyfence" / "incidents.sqlite"


def test_a_store_at_an_older_revision_is_upgraded_not_refused(tmp_path: Path) -> None:
    """A store written by an older skyfence (revision 0001, the first migration's
    script) is migrated to the head on opening; its data stays."""
    from alembic import command
    from alembic.config import Config

    from skyfence.incidents.store import HEAD_REVISION, MIGRATIONS

    path = tmp_path / "old.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        db.execute("INSERT INTO observations (track, time, lat, lon) VALUES "
                   "('aaa111', 1.0, 59.0, 25.0)")
    with IncidentStore.open(path) as store:
        assert store.revision() == HEAD_REVISION != "0001"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT track FROM observations").fetchall() == [("aaa111",)]
        assert db.execute("SELECT count(*) FROM users").fetchone() == (0,)  # 0002's table


def test_a_store_whose_revision_table_is_empty_has_no_revision(tmp_path: Path) -> None:
    """Alembic's table without a row (a database stamped down to its base) is at no
    revision: None, as for an empty database, not an error."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM alembic_version")
        assert store.revision() is None


def test_a_track_followed_until_now_keeps_a_fix_at_now_from_a_later_batch(
        tmp_path: Path) -> None:
    """Followed until 10 s (its ``until`` inclusive): a batch at feed time 10 without it,
    then another at 10 with its fix at exactly 10 s: the fix is kept (the track is let
    go only once the feed is past its ``until``)."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        rec = ObservationRecorder(store)
        rec.follow("aaa111", until=10.0)
        rec.add(make_observations(time=[10.0], icao24=["bbb222"], lat=[59.0], lon=[25.0]),
                10.0, write=False)
        rec.add(make_observations(time=[10.0], icao24=["aaa111"], lat=[59.0], lon=[25.0]),
                10.0, write=False)
        rec.flush()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT track, time FROM observations").fetchall() == [
            ("aaa111", 10.0)]


def test_a_store_names_its_dialect_and_its_url_without_the_password(tmp_path: Path) -> None:
    """What messages show of a store built on an engine: its URL with the password
    masked (SQLAlchemy's ``***``), unless a name is given; the dialect by name. The
    PostgreSQL engine is only built, never connected."""
    pg = sa.create_engine("postgresql+psycopg://ops:secret@db.example:5432/skyfence")
    assert IncidentStore(pg).shown == "postgresql+psycopg://ops:***@db.example:5432/skyfence"
    assert IncidentStore(pg).dialect == "postgresql"
    assert IncidentStore(pg, "ops store").shown == "ops store"
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        assert store.dialect == "sqlite"
        assert store.shown == f"sqlite:///{tmp_path / 's.sqlite'}"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_store_is_refused(url: str) -> None:
    """No database name, an empty one or ``:memory:``: SQLite would keep the store in
    memory and lose every incident at exit."""
    from skyfence.errors import UsageError

    with pytest.raises(UsageError, match=r"^--store: an in-memory SQLite database would "
                                         r"lose every incident; give a file$"):
        IncidentStore.open(url)


def test_a_store_path_is_created_with_its_directories(tmp_path: Path) -> None:
    """``--store`` takes a path whose directories do not exist yet (module docstring:
    "a SQLite file (created, with its directory)"): two levels are made."""
    path = tmp_path / "var" / "skyfence" / "s.sqlite"
    with IncidentStore.open(path):
        pass
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM incidents").fetchone() == (0,)


def test_a_store_that_cannot_be_opened_is_named_with_the_databases_reason(
        tmp_path: Path) -> None:
    """A path that is a directory: SQLite cannot open it. One StoreError naming the store
    and SQLite's own first line, not SQLAlchemy's wrapping of it."""
    from skyfence.errors import StoreError

    with pytest.raises(StoreError) as err:
        IncidentStore.open(tmp_path)
    assert str(err.value) == f"--store sqlite:///{tmp_path}: cannot open (unable to open " \
        "database file)"


@pytest.mark.parametrize("where", ["://nowhere", "postgresql://ops@db.example:port/skyfence"])
def test_a_store_that_is_no_url_is_a_usage_error(where: str) -> None:
    """Not a URL SQLAlchemy reads (no scheme; a port that is no number): one usage
    error naming it, not an internal error."""
    from skyfence.errors import UsageError
    from skyfence.incidents.store import store_url

    with pytest.raises(UsageError) as err:
        store_url(where)
    assert str(err.value) == f"--store {where}: not a path or a database URL"


def test_no_store_given_is_skyfence_store_as_given_else_the_user_data_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--store`` not given: ``$SKYFENCE_STORE`` as written, also a URL (its ``//``
    kept: read as a path it would name a file ``postgresql:/...``); unset, the file in
    the user data directory (``$XDG_DATA_HOME/skyfence`` on Linux)."""
    from skyfence.incidents.store import store_url

    monkeypatch.setenv("SKYFENCE_STORE", "postgresql://ops@db.example/skyfence")
    url = store_url(None)
    assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "db.example",
                                                        "skyfence")
    monkeypatch.delenv("SKYFENCE_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert store_url(None).database == str(tmp_path / "skyfence" / "incidents.sqlite")


def test_a_store_url_of_another_database_is_refused_with_what_is_taken() -> None:
    from skyfence.errors import UsageError
    from skyfence.incidents.store import store_url

    with pytest.raises(UsageError) as err:
        store_url("mysql://ops@db.example/skyfence")
    assert str(err.value) == ("--store mysql://ops@db.example/skyfence: unsupported "
                              "database 'mysql' (give a SQLite path or a postgresql:// URL)")
