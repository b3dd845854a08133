"""The persistence path's rules, each on its own: what an alert's idempotency key is made
of, a scan stored again, and the journal's last flush after the store went away.

References are independent of the writer: keys are the documented ``kind|id|...``
strings hashed by hand (SHA-256, first 32 hex digits, written down as literals), and
what the store holds is read with :mod:`sqlite3` straight from the file.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from incidents.helpers import ZONE
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
def record(eid: str, track: str, entered: str, exited: str) -> dict[str, Any]:
    """A final scan record of a crossing of the test zone, as the detector writes it."""
    return {
        "id": eid, "zone": ZONE.name, "zone_kind": "custom", "track": track,
        "icao24": None, "callsign": None, "entered_at": entered,
        "entry_interpolated": True, "exited_at": exited, "last_inside_at": exited,
        "duration_s": 300.0, "max_depth_m": 5000.0,
        "entry_point": {"lat": 59.0, "lon": 24.826013},
        "exit_point": {"lat": 59.0, "lon": 25.173987},
        "min_altitude_m": 3000.0, "max_altitude_m": 3000.0, "observations": 75,
        "classification": {"cooperative": False, "category": "jet",
                           "registration_state": None, "military": None,
                           "confidence": 1.0},
        "violation": True, "severity": "critical", "reasons": ["test"],
        "protocol": [{"step": "notify the duty officer", "after_s": None}],
        "went_dark_at": None, "integrity": [],
        "first_inside_point": {"lat": 59.0, "lon": 24.83},
        "last_inside_point": {"lat": 59.0, "lon": 25.17},
    }


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
