"""One entry into its incident (``writer._put_entry``), each grouping path through the
store: a re-entry, a re-entry ``merge_s`` longer than ``RESUME_S``, a zone nested in
another, a track continuing a lost one (its ``linked`` audit row), an open entry that a
new entry takes over, and a closed incident reopened by a re-entry.

Records are written by hand (:func:`incidents.helpers.crossing_record`: a critical
crossing of the 10 km circle ``BOX`` by a radar-only jet); times by hand from
T0 = 2025-09-19T06:30:00Z (unix 1758263400). What the store holds is read with
:mod:`sqlite3` straight from the file; the expected incidents follow from the grouping
rules of :mod:`skyfence.incidents.grouping`'s docstring, worked out next to each test.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from incidents.helpers import ZONE
from incidents.helpers import crossing_record as record
from skyfence.incidents.grouping import ZoneRelations
from skyfence.incidents.lifecycle import change_state
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.writer import Run, begin_run, record_alert, store_records
from skyfence.policy import IncidentSettings, Policy

T0 = 1758263400.0  # 2025-09-19T06:30:00Z


def at(hms: str) -> str:
    """The ISO time of ``HH:MM:SS`` on 2025-09-19 (the records' format)."""
    return f"2025-09-19T{hms}.000Z"


def scan(store: IncidentStore, **settings: Any) -> Run:
    """A scan run on ``BOX`` with the default policy (``settings``: incident settings)."""
    run = begin_run(store, "scan", "tracks.csv", Policy(), [ZONE], {})
    if settings:
        run = dataclasses.replace(run, settings=IncidentSettings(**settings))
    return run


def incident_of(path: Path) -> dict[str, str]:
    """Entry id -> incident id, as stored."""
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, incident_id FROM entries").fetchall())


def audit(path: Path, kind: str) -> list[tuple[Any, ...]]:
    """The audit rows of ``kind``: (incident, at, feed_at, operator, note, data)."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT incident_id, at, feed_at, operator, note, data FROM events "
                          "WHERE kind = ? ORDER BY seq", (kind,)).fetchall()


def test_a_reentry_within_merge_s_joins_the_incident_a_later_one_does_not(
        tmp_path: Path) -> None:
    """Rule 1 through the store. R0001 crosses BOX 06:30:00-06:35:00, enters again at
    06:36:00 (60 s after its exit, less than merge_s = 120 s: the same incident) until
    06:40:00, and again at 06:42:01 (121 s after that exit: a new incident)."""
    path = tmp_path / "s.sqlite"
    a = record("aaaa000000000001", "R0001", at("06:30:00"), at("06:35:00"))
    b = record("bbbb000000000002", "R0001", at("06:36:00"), at("06:40:00"))
    c = record("cccc000000000003", "R0001", at("06:42:01"), at("06:45:00"))
    with IncidentStore.open(path) as store:
        assert store_records(store, scan(store), [c, b, a]) == (3, 2)
    assert incident_of(path) == {a["id"]: a["id"], b["id"]: a["id"], c["id"]: c["id"]}
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, crossings, first_entered_at, last_exited_at "
                          "FROM incidents ORDER BY id").fetchall()
    # 06:35:00 is T0 + 300 s, 06:40:00 T0 + 600 s, 06:42:01 T0 + 721 s
    assert rows == [(a["id"], 2, T0, T0 + 600.0), (c["id"], 1, T0 + 721.0, T0 + 900.0)]


def test_a_merge_s_longer_than_an_hour_reaches_back_that_far(tmp_path: Path) -> None:
    """With ``merge_s`` = 7200 s (longer than ``RESUME_S``, 3600 s), a re-entry 5000 s
    after the exit (06:35:00 + 5000 s = 07:58:20) joins the incident; the entries looked
    at go back ``max(merge_s, RESUME_S, SAME_CROSSING_S)`` = 7200 s, not 3600."""
    path = tmp_path / "s.sqlite"
    a = record("aaaa000000000001", "R0001", at("06:30:00"), at("06:35:00"))
    b = record("bbbb000000000002", "R0001", at("07:58:20"), at("08:00:00"))
    with IncidentStore.open(path) as store:
        assert store_records(store, scan(store, merge_s=7200.0), [a, b]) == (2, 1)
    assert incident_of(path) == {a["id"]: a["id"], b["id"]: a["id"]}


def test_an_entry_into_a_zone_nested_in_another_joins_its_incident(tmp_path: Path) -> None:
    """Rule 2 for a dependency: R0001 is inside OUTER 06:30:00-06:40:00 and enters INNER
    (a dependency of OUTER) at 06:32:00, 120 s later (not the same crossing: more than
    SAME_CROSSING_S = 5 s) while still inside OUTER: one incident, named by the smaller
    INNER (its kind now INNER's, custom, not OUTER's). Without the dependency the two
    are separate incidents (the reference)."""
    outer = {**record("aaaa000000000001", "R0001", at("06:30:00"), at("06:40:00")),
             "zone": "OUTER", "zone_kind": "national"}
    inner = {**record("bbbb000000000002", "R0001", at("06:32:00"), at("06:38:00")),
             "zone": "INNER"}
    for parents, expected in (({"INNER": "OUTER"}, outer["id"]), ({}, inner["id"])):
        path = tmp_path / f"s{len(parents)}.sqlite"
        with IncidentStore.open(path) as store:
            run = dataclasses.replace(scan(store), relations=ZoneRelations(
                {"OUTER": 1000.0, "INNER": 10.0}, parents))
            store_records(store, run, [outer, inner])
        assert incident_of(path) == {outer["id"]: outer["id"], inner["id"]: expected}
    with sqlite3.connect(tmp_path / "s1.sqlite") as db:
        assert db.execute("SELECT zone, zone_kind, also_in FROM incidents").fetchall() == [
            ("INNER", "custom", '["OUTER"]')]



def test_an_entry_that_could_join_two_incidents_joins_the_one_entered_first(
        tmp_path: Path) -> None:
    """Rule 2 can hold for two incidents of a track; the one whose entry began first
    wins, whatever else orders them. R0001 is inside A from 06:30:00 to 06:40:00 and
    inside B (unrelated to A, entered 100 s later: its own incident) from 06:31:40 to
    06:35:00. It enters C at 06:31:41: C is a dependency of A, and C's entry began at
    B's crossing (1 s apart). A's incident (entered first) takes it, although B's entry
    ends first (the store's index on a track's entries runs by end time)."""
    path = tmp_path / "s.sqlite"
    a = {**record("aaaa000000000001", "R0001", at("06:30:00"), at("06:40:00")), "zone": "A"}
    b = {**record("bbbb000000000002", "R0001", at("06:31:40"), at("06:35:00")), "zone": "B"}
    c = {**record("cccc000000000003", "R0001", at("06:31:41"), at("06:34:00")), "zone": "C"}
    with IncidentStore.open(path) as store:
        run = dataclasses.replace(scan(store), relations=ZoneRelations(
            {"A": 1000.0, "B": 1000.0, "C": 10.0}, {"C": "A"}))
        assert store_records(store, run, [a, b, c]) == (3, 2)
    assert incident_of(path) == {a["id"]: a["id"], b["id"]: b["id"], c["id"]: a["id"]}

def lost_and_continued() -> tuple[dict[str, Any], dict[str, Any]]:
    """R0001 (radar, jet) enters BOX at 06:30:00 and is lost inside, last seen at
    06:35:00 at (59.0, 25.17); R0002 (radar, jet) appears there 20 s later (06:35:20),
    1 km further east: a jet flies 700 m/s x 20 s + 500 m = 14.5 km in that time, and
    20 s is within link_s (60 s). So R0002 continues R0001 (rule 3)."""
    lost = {**record("aaaa000000000001", "R0001", at("06:30:00"), None),
            "last_inside_at": at("06:35:00")}
    new = {**record("bbbb000000000002", "R0002", at("06:35:20"), at("06:38:00")),
           "entry_point": {"lat": 59.0, "lon": 25.187}}
    return lost, new


def test_a_track_continuing_a_lost_one_joins_its_incident_with_a_linked_audit_row(
        tmp_path: Path) -> None:
    """The audit row says who continues whom: at the wall clock of the write, with the
    continuing entry's time (06:35:20 = T0 + 320 s) as its feed time, by skyfence, the
    note "track R0002 continues track R0001, lost inside" and the data
    ``{"entry": R0002's entry, "track": "R0002", "continues": R0001's entry}``."""
    path = tmp_path / "s.sqlite"
    lost, new = lost_and_continued()
    with IncidentStore.open(path) as store:
        before = time.time()
        assert store_records(store, scan(store), [lost, new]) == (2, 1)
        after = time.time()
    assert incident_of(path) == {lost["id"]: lost["id"], new["id"]: lost["id"]}
    (row,) = audit(path, "linked")
    assert row[0] == lost["id"] and before <= row[1] <= after
    assert row[2:5] == (T0 + 320.0, "skyfence", "track R0002 continues track R0001, lost inside")
    assert row[5] == '{"entry":"bbbb000000000002","track":"R0002","continues":"aaaa000000000001"}'


def test_a_reentry_of_the_track_is_not_taken_by_a_lost_track_nearby(tmp_path: Path) -> None:
    """Rule 1 comes first: R0002 crosses BOX 06:30:00-06:35:00 and enters again at
    06:36:00 (60 s after its exit: its own incident again). R0001, lost inside at
    06:35:50 where R0002 enters again (10 s before, within LINK_OVERLAP_S; near), could
    be continued by that entry, but an entry that re-enters its track's own incident
    is not linked to another: no ``linked`` row, R0001 stays alone."""
    path = tmp_path / "s.sqlite"
    first = record("aaaa000000000001", "R0002", at("06:30:00"), at("06:35:00"))
    lost = {**record("bbbb000000000002", "R0001", at("06:33:00"), None),
            "last_inside_at": at("06:35:50")}
    again = {**record("cccc000000000003", "R0002", at("06:36:00"), at("06:40:00")),
             "entry_point": {"lat": 59.0, "lon": 25.17}}
    with IncidentStore.open(path) as store:
        assert store_records(store, scan(store), [first, lost, again]) == (3, 2)
    assert incident_of(path) == {first["id"]: first["id"], lost["id"]: lost["id"],
                                 again["id"]: first["id"]}
    assert audit(path, "linked") == []


def test_an_open_entry_is_taken_over_by_a_new_entry_of_its_track(tmp_path: Path) -> None:
    """A watcher crashed while R0001 was inside: its entry (06:30:00) stayed ``open``,
    no ``open`` event (that would make it ``stopped``). Restarted, the watcher sees
    R0001 enter again at 06:46:40 (1000 s later, within RESUME_S): the same incident,
    and the old entry becomes ``interrupted``; the new one is open. R0002's open entry
    into BOX and R0001's open entry into OTHER (other track, other zone) stay open."""
    path = tmp_path / "s.sqlite"
    old = record("aaaa000000000001", "R0001", at("06:30:00"), None)
    other_track = record("bbbb000000000002", "R0002", at("06:30:00"), None)
    other_zone = {**record("cccc000000000003", "R0001", at("06:30:00"), None),
                  "zone": "OTHER"}
    new = record("dddd000000000004", "R0001", at("06:46:40"), None)
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        for i, rec in enumerate((old, other_track, other_zone, new)):
            record_alert(store, run, {**rec, "event": "entry"}, ["hook"], now=T0 + i)
    with sqlite3.connect(path) as db:
        states = dict(db.execute("SELECT id, state FROM entries").fetchall())
    assert states == {old["id"]: "interrupted", other_track["id"]: "open",
                      other_zone["id"]: "open", new["id"]: "open"}
    # OTHER was entered at the same crossing (0 s apart): one incident with R0001's BOX
    assert incident_of(path) == {old["id"]: old["id"], other_track["id"]: other_track["id"],
                                 other_zone["id"]: old["id"], new["id"]: old["id"]}


def test_an_entry_stopped_in_order_stays_stopped_when_a_new_entry_takes_over(
        tmp_path: Path) -> None:
    """A watcher stopped in order while R0001 was inside: its entry (06:30:00) was
    stored with an ``open`` event, so its state is ``stopped`` (the watcher stopped, the
    track inside when last heard of). Restarted, the watcher sees R0001 enter again at
    06:46:40: the same incident, the new entry open, and the old one stays ``stopped``:
    unlike an ``open`` entry left by a crash, it claims nothing that the new entry
    makes false, and ``stopped`` keeps what happened (an orderly stop) in the store."""
    path = tmp_path / "s.sqlite"
    old = record("aaaa000000000001", "R0001", at("06:30:00"), None)
    new = record("dddd000000000004", "R0001", at("06:46:40"), None)
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        record_alert(store, run, {**old, "event": "entry"}, ["hook"], now=T0)
        # the stop: the track still inside, an ``open`` event
        record_alert(store, run, {**old, "event": "open"}, ["hook"], now=T0 + 10)
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT state FROM entries").fetchall() == [("stopped",)]
        run2 = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        record_alert(store, run2, {**new, "event": "entry"}, ["hook"], now=T0 + 1000)
    with sqlite3.connect(path) as db:
        states = dict(db.execute("SELECT id, state FROM entries").fetchall())
    assert states == {old["id"]: "stopped", new["id"]: "open"}
    assert incident_of(path) == {old["id"]: old["id"], new["id"]: old["id"]}


def test_a_closed_incident_is_reopened_by_a_reentry_within_merge_s(tmp_path: Path) -> None:
    """R0001 crosses BOX 06:30:00-06:35:00, the operator closes the incident, and R0001
    enters again at 06:36:00 (60 s after its exit, within merge_s): the incident is
    open again, and the audit says so: a ``reopened`` row at the writer's clock
    (T0 + 360 given as ``now``), no feed time, by skyfence, with its note and the entry
    that reopened it."""
    path = tmp_path / "s.sqlite"
    a = record("aaaa000000000001", "R0001", at("06:30:00"), at("06:35:00"))
    b = record("bbbb000000000002", "R0001", at("06:36:00"), None)
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        record_alert(store, run, {**a, "event": "entry"}, ["hook"], now=T0)
        record_alert(store, run, {**a, "event": "exit"}, ["hook"], now=T0 + 300.0)
        assert change_state(store, a["id"], "close", "ops", now=T0 + 310.0) == "closed"
        record_alert(store, run, {**b, "event": "entry"}, ["hook"], now=T0 + 360.0)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id, state, updated_at FROM incidents").fetchall() == [
            (a["id"], "open", T0 + 360.0)]
    assert audit(path, "reopened") == [
        (a["id"], T0 + 360.0, None, "skyfence",
         "the track entered again within the merge time", '{"entry":"bbbb000000000002"}')]
    assert json.loads(audit(path, "reopened")[0][5]) == {"entry": b["id"]}


def test_only_the_tracks_own_open_entries_of_the_joined_incident_are_taken_over(
        tmp_path: Path) -> None:
    """What a new entry takes over is narrow: the open entries of *its* track, in *its*
    zone, of the incident it joins, that began before it. Watch events, by hand:

    - Y: R0001's entry at 06:30:00, left open (the watcher crashed); more than RESUME_S
      (3600 s) before what follows, so it is no candidate: its own incident, left open.
    - X: R0001 crosses 07:53:20-07:55:00; R0001 enters again at 07:55:50 (50 s after
      that exit: joins X). Y's entry, open in another incident, stays open.
    - R0001 is lost inside BOX (an exit event without an exit time: ``ended_open``,
      last inside 07:58:00); R0002 appears there at 07:58:10 and continues it (X, open).
      R0001 enters again at 07:58:30 (30 s after its last inside fix: joins X): R0002's
      open entry in X is another track's and stays open (R0001's own entry there is
      ``ended_open``, not open: nothing to take over).
    - An entry written late (R0001 at 07:55:40, 40 s after X's first exit: joins X)
      does not take over the entry of 07:58:30, which began after it."""
    path = tmp_path / "s.sqlite"
    y = record("aaaa000000000001", "R0001", at("06:30:00"), None)
    x = record("bbbb000000000002", "R0001", at("07:53:20"), at("07:55:00"))
    again = record("cccc000000000003", "R0001", at("07:55:50"), None)
    lost = {**again, "exited_at": None, "last_inside_at": at("07:58:00")}
    cont = {**record("dddd000000000004", "R0002", at("07:58:10"), None),
            "entry_point": {"lat": 59.0, "lon": 25.17}}
    third = record("eeee000000000005", "R0001", at("07:58:30"), None)
    late = record("ffff000000000006", "R0001", at("07:55:40"), None)
    events = [(y, "entry"), (x, "entry"), (x, "exit"), (again, "entry"), (lost, "exit"),
              (cont, "entry"), (third, "entry"), (late, "entry")]
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        for i, (rec, kind) in enumerate(events):
            record_alert(store, run, {**rec, "event": kind}, ["hook"], now=T0 + i)
    with sqlite3.connect(path) as db:
        states = dict(db.execute("SELECT id, state FROM entries").fetchall())
    assert states == {y["id"]: "open", x["id"]: "exited", again["id"]: "ended_open",
                      cont["id"]: "open", third["id"]: "open", late["id"]: "open"}
    assert incident_of(path) == {y["id"]: y["id"], x["id"]: x["id"], again["id"]: x["id"],
                                 cont["id"]: x["id"], third["id"]: x["id"],
                                 late["id"]: x["id"]}


# ------------------------------------------------------------------ runs
def test_a_run_records_its_policy_zones_and_options(tmp_path: Path) -> None:
    """What a run writes so that an incident can be documented from the store alone,
    read back with sqlite3. References: the policy's SHA-256 by hashlib over its text;
    a national zone by code and bundle (package, version and bundle hash read from the
    bundled ``national.json`` itself, area its ``area_km2``), hashed as compact JSON; a
    custom zone by its exact GeoJSON (hash of the stored text; the geometry read back
    with shapely equals the zone's; a 10 km circle's area, by hand pi x 10^2 = 314.16
    km^2, less the polygon's chords)."""
    import hashlib

    import shapely.geometry

    from skyfence.airspace.national import METADATA_PATH
    from skyfence.airspace.zones import national_zone

    path = tmp_path / "s.sqlite"
    meta = json.loads(METADATA_PATH.read_text(encoding="utf-8"))
    est = national_zone("EST")
    policy = Policy(["RUS", "BLR"])
    with IncidentStore.open(path) as store:
        before = time.time()
        run = begin_run(store, "watch", "sbs:host:30003", policy, [est, ZONE],
                        {"gap_s": 300.0, "zones": ["EST"]}, command="skyfence watch ...")
        after = time.time()
    pol_sha = hashlib.sha256(policy.text.encode("utf-8")).hexdigest()
    nat = {"kind": "national", "code": "EST", "package": meta["source"]["package"],
           "version": meta["source"]["version"], "bundle_sha256": meta["bundle"]["sha256"]}
    nat_text = json.dumps(nat, separators=(",", ":"))
    nat_sha = hashlib.sha256(nat_text.encode()).hexdigest()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT sha256, name, source, text, watch_states FROM policies"
                          ).fetchall() == [(pol_sha, policy.name, "default.yaml", policy.text,
                                            '["BLR","RUS"]')]  # sorted
        zones = {r[1]: r for r in db.execute(
            "SELECT sha256, name, kind, title, area_km2, geojson, source FROM zones")}
        runs = db.execute("SELECT id, kind, origin, started_at, command, options, "
                          "policy_sha256 FROM runs").fetchall()
    area = next(z["area_km2"] for z in meta["zones"] if z["code"] == "EST")
    assert zones["EST"] == (nat_sha, "EST", "national", est.title, area, None, nat_text)
    sha, name, kind, title, box_area, geojson, source = zones["BOX"]
    assert (name, kind, title, source) == ("BOX", ZONE.kind, ZONE.title, '{"kind":"custom"}')
    assert sha == hashlib.sha256(geojson.encode()).hexdigest()
    (feature,) = json.loads(geojson)["features"]
    assert feature["properties"]["name"] == "BOX"
    assert shapely.geometry.shape(feature["geometry"]).equals(ZONE.geometry)
    assert 310.0 < box_area < 314.16
    ((run_id, kind, origin, started, command, options, run_pol),) = runs
    assert (run_id, kind, origin, command, run_pol) == (
        run.id, "watch", "sbs:host:30003", "skyfence watch ...", pol_sha)
    assert before <= started <= after
    assert options == '{"gap_s":300.0,"zones":["EST"]}'
    assert (run.kind, run.origin, run.policy_sha256) == ("watch", "sbs:host:30003", pol_sha)
    assert dict(run.zone_sha256) == {"EST": nat_sha, "BOX": sha}
    assert run.settings == policy.incidents
    assert len(run.id) == 36 and run.id.count("-") == 4  # a UUID


def test_a_run_again_with_the_same_policy_and_zones_adds_only_a_run(tmp_path: Path) -> None:
    """Policies and zones are kept once by their hash: a second run adds a run row only."""
    path = tmp_path / "s.sqlite"
    with IncidentStore.open(path) as store:
        first = begin_run(store, "scan", "a.csv", Policy(), [ZONE], {})
        second = begin_run(store, "scan", "a.csv", Policy(), [ZONE], {})
    assert first.id != second.id
    with sqlite3.connect(path) as db:
        counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("policies", "zones", "runs")]
    assert counts == [1, 1, 2]


# ------------------------------------------------------------------ the incident row
def test_an_incidents_row_is_refreshed_from_all_its_entries(tmp_path: Path) -> None:
    """Every column of an incident of two entries, by hand. R0001 crosses BOX
    06:30:00-06:35:00 (5000 m deep) and again 06:36:00-06:40:00 (6000 m, callsign
    "RDR1" and address "abc123" known by then): first entry T0, last exit and last
    inside fix T0 + 600 s, inside 300 + 240 = 540 s, deepest the second entry, two
    crossings, none open; the address and callsign of the latest entry that has one;
    a violation, critical, as the second entry is (the first: a warning, no violation).
    Steps: the union of the entries' protocols, sorted by their delay, due from the
    first entry (T0, T0 + 60 s, T0 + 300 s). The ``opened`` audit row: at the write's
    wall clock, the first entry's time as feed time, the run's id and kind."""
    import hashlib

    path = tmp_path / "s.sqlite"
    first = {**record("aaaa000000000001", "R0001", at("06:30:00"), at("06:35:00"),
                      protocol=[{"step": "call the police", "after_s": 300.0},
                                {"step": "notify the duty officer", "after_s": None}]),
             "severity": "warning", "violation": False}
    second = {**record("bbbb000000000002", "R0001", at("06:36:00"), at("06:40:00"),
                       protocol=[{"step": "scramble", "after_s": 60.0},
                                 {"step": "notify the duty officer", "after_s": None}]),
              "max_depth_m": 6000.0, "duration_s": 240.0, "callsign": "RDR1",
              "icao24": "abc123"}
    with IncidentStore.open(path) as store:
        run = scan(store)
        before = time.time()
        assert store_records(store, run, [first, second]) == (2, 1)
        after = time.time()
    pol_sha = hashlib.sha256(Policy().text.encode("utf-8")).hexdigest()
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        (inc,) = [dict(r) for r in db.execute("SELECT * FROM incidents")]
        steps = [tuple(r) for r in db.execute(
            "SELECT incident_id, n, text, after_s, due_at, done_at, escalated_at FROM steps "
            "ORDER BY n")]
        opened = [tuple(r) for r in db.execute(
            "SELECT incident_id, at, feed_at, operator, note, data FROM events "
            "WHERE kind = 'opened'")]
    created, updated = inc.pop("created_at"), inc.pop("updated_at")
    assert before <= created <= updated <= after
    assert inc == {
        "id": first["id"], "track": "R0001", "zone": "BOX", "zone_kind": "custom",
        "also_in": "[]", "state": "open", "violation": 1, "severity": "critical",
        "icao24": "abc123", "callsign": "RDR1", "first_entered_at": T0,
        "last_exited_at": T0 + 600.0, "last_inside_at": T0 + 600.0, "inside_s": 540.0,
        "max_depth_m": 6000.0, "deepest_entry": second["id"], "crossings": 2,
        "open_entries": 0, "origin": "tracks.csv", "policy_sha256": pol_sha}
    assert steps == [(first["id"], 1, "notify the duty officer", None, T0, None, None),
                     (first["id"], 2, "call the police", 300.0, T0 + 300.0, None, None),
                     (first["id"], 3, "scramble", 60.0, T0 + 60.0, None, None)]
    ((inc_id, when, feed, operator, note, data),) = opened
    assert (inc_id, feed, operator, note) == (first["id"], T0, "skyfence", None)
    assert before <= when <= after
    assert data == f'{{"run":"{run.id}","kind":"scan"}}'


def test_step_due_times_follow_an_earlier_first_entry_unless_fired_or_done(
        tmp_path: Path) -> None:
    """Watch events. R0001 enters Z1 at 06:30:03 (protocol: notify now, call after
    60 s, scramble after 300 s): steps due at T0 + 3, T0 + 63, T0 + 303. The call is
    escalated, the notification done. Then R0001's entry into Z2 at 06:30:00 is written
    (late): the same crossing (3 s apart), the same incident, whose first entry is now
    T0. Only the step neither fired nor done moves: scramble to T0 + 300; the steps of
    another incident (R0009's, entered at 06:29:00) stay where they were."""
    path = tmp_path / "s.sqlite"
    proto = [{"step": "notify the duty officer", "after_s": None},
             {"step": "call the police", "after_s": 60.0},
             {"step": "scramble", "after_s": 300.0}]
    z1 = {**record("aaaa000000000001", "R0001", at("06:30:03"), None, protocol=proto),
          "zone": "Z1"}
    z2 = {**record("bbbb000000000002", "R0001", at("06:30:00"), None, protocol=proto),
          "zone": "Z2"}
    other = record("cccc000000000003", "R0009", at("06:29:00"), None, protocol=proto)
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        record_alert(store, run, {**other, "event": "entry"}, ["hook"], now=T0 - 60.0)
        record_alert(store, run, {**z1, "event": "entry"}, ["hook"], now=T0 + 3.0)
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT n, due_at FROM steps WHERE incident_id = ? ORDER BY n",
                              (z1["id"],)).fetchall() == [
                (1, T0 + 3.0), (2, T0 + 63.0), (3, T0 + 303.0)]
            db.execute("UPDATE steps SET done_at = ?, done_by = 'ops' WHERE n = 1",
                       (T0 + 10.0,))
            db.execute("UPDATE steps SET escalated_at = ? WHERE n = 2", (T0 + 63.0,))
        record_alert(store, run, {**z2, "event": "entry"}, ["hook"], now=T0 + 5.0)
    assert incident_of(path) == {z1["id"]: z1["id"], z2["id"]: z1["id"],
                                 other["id"]: other["id"]}
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT n, text, due_at FROM steps WHERE incident_id = ? "
                          "ORDER BY n", (z1["id"],)).fetchall() == [
            (1, "notify the duty officer", T0 + 3.0), (2, "call the police", T0 + 63.0),
            (3, "scramble", T0 + 300.0)]
        assert db.execute("SELECT n, due_at FROM steps WHERE incident_id = ? ORDER BY n",
                          (other["id"],)).fetchall() == [
            (1, T0 - 60.0), (2, T0), (3, T0 + 240.0)]
        assert db.execute("SELECT first_entered_at FROM incidents WHERE id = ?",
                          (z1["id"],)).fetchall() == [(T0,)]


def test_an_update_refreshes_the_incidents_time_of_change(tmp_path: Path) -> None:
    """An incident made at the entry (``now`` T0) and changed by an update of that entry
    (``now`` T0 + 50, deeper): created at T0, updated at T0 + 50, 6000 m deep."""
    path = tmp_path / "s.sqlite"
    a = record("aaaa000000000001", "R0001", at("06:30:00"), None)
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        record_alert(store, run, {**a, "event": "entry"}, ["hook"], now=T0)
        record_alert(store, run, {**a, "max_depth_m": 6000.0, "event": "update"}, ["hook"],
                     now=T0 + 50.0)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT created_at, updated_at, max_depth_m FROM incidents"
                          ).fetchall() == [(T0, T0 + 50.0, 6000.0)]


def test_a_transponder_track_is_not_linked_where_a_radar_track_was_lost(
        tmp_path: Path) -> None:
    """Rule 3 is for tracks without a transponder: 4b1805 (an ICAO address) appearing
    20 s after R0001 was lost, where it was lost, is its own incident."""
    path = tmp_path / "s.sqlite"
    lost, new = lost_and_continued()
    new = {**new, "track": "4b1805", "icao24": "4b1805",
           "classification": {**new["classification"], "cooperative": True}}
    with IncidentStore.open(path) as store:
        assert store_records(store, scan(store), [lost, new]) == (2, 2)
    assert incident_of(path) == {lost["id"]: lost["id"], new["id"]: new["id"]}
    assert audit(path, "linked") == []


def test_a_track_lost_in_two_overlapping_zones_is_continued_whatever_the_entry_ids(
        tmp_path: Path) -> None:
    """R0001 is lost inside BOX and Z2 at once (both entries from 06:30:00, no exit, last
    inside 06:35:00: one incident, the same crossing); R0002 appears in BOX 20 s later,
    1 km from where R0001 was lost. The incident's latest piece is R0001's loss, in
    both zones at the same moment: R0002 continues it in BOX, however the entries' ids
    (hashes) happen to sort (before the fix, the tie was broken by id alone, so the
    Z2 piece could be taken as the latest, and R0002 was not linked)."""
    for n, (box_id, z2_id) in enumerate((("aaaa000000000001", "bbbb000000000002"),
                                         ("bbbb000000000002", "aaaa000000000001"))):
        path = tmp_path / f"s{n}.sqlite"
        box = {**record(box_id, "R0001", at("06:30:00"), None),
               "last_inside_at": at("06:35:00")}
        z2 = {**box, "id": z2_id, "zone": "Z2"}
        new = {**record("cccc000000000003", "R0002", at("06:35:20"), at("06:38:00")),
               "entry_point": {"lat": 59.0, "lon": 25.187}}
        with IncidentStore.open(path) as store:
            assert store_records(store, scan(store), [box, z2, new]) == (3, 1), n
        assert incident_of(path) == {box_id: box_id, z2_id: box_id, new["id"]: box_id}, n
        ((_, _, _, _, note, data),) = audit(path, "linked")
        assert note == "track R0002 continues track R0001, lost inside"
        assert json.loads(data)["continues"] == box_id


def test_a_continuation_may_begin_link_s_after_or_the_overlap_before_the_loss(
        tmp_path: Path) -> None:
    """The limits of rule 3, inclusive: R0002 beginning exactly link_s (60 s) after
    R0001's last inside fix, or exactly LINK_OVERLAP_S (30 s) before it, continues it;
    with link_s = 0.5 s, one beginning 10 s before it (two tracks on one target) too."""
    lost, new = lost_and_continued()  # lost at 06:35:00
    for n, (begins, link_s) in enumerate((("06:36:00", 60.0), ("06:34:30", 60.0),
                                          ("06:34:50", 0.5))):
        path = tmp_path / f"s{n}.sqlite"
        later = {**new, "entered_at": at(begins)}
        with IncidentStore.open(path) as store:
            assert store_records(store, scan(store, link_s=link_s), [lost, later]) == (2, 1), n
        assert len(audit(path, "linked")) == 1, n


def test_a_track_still_flying_is_not_continued_whatever_else_its_incident_holds(
        tmp_path: Path) -> None:
    """Only a piece lost inside the new entry's zone, within the link window, opens an
    incident to rule 3, and then only its latest piece counts. Watch events; in both
    cases R0001's latest piece, in BOX, is still flying (open, last inside 06:35:05)
    where R0002 appears in BOX at 06:35:10: R0002 is its own incident.

    - The incident also holds R0001's piece lost in Z2 (06:30:00 to 06:35:00, the
      same crossing), within the window but in another zone.
    - The incident also holds R0001's piece lost in BOX at 06:21:00 (then R0001 came
      back at 06:22:00, within merge_s): in BOX, but long before the window."""
    cases = {
        "zone": [({**record("aaaa000000000001", "R0001", at("06:30:00"), None),
                   "zone": "Z2"}, "entry"),
                 ({**record("aaaa000000000001", "R0001", at("06:30:00"), None),
                   "zone": "Z2", "last_inside_at": at("06:35:00")}, "exit")],
        "window": [(record("aaaa000000000001", "R0001", at("06:20:00"), None), "entry"),
                   ({**record("aaaa000000000001", "R0001", at("06:20:00"), None),
                     "last_inside_at": at("06:21:00")}, "exit")],
    }
    flying_from = {"zone": "06:30:00", "window": "06:22:00"}
    for name, events in cases.items():
        path = tmp_path / f"{name}.sqlite"
        flying = record("bbbb000000000002", "R0001", at(flying_from[name]), None)
        new = {**record("cccc000000000003", "R0002", at("06:35:10"), None),
               "entry_point": {"lat": 59.0, "lon": 25.17}}
        events = [*events, (flying, "entry"),
                  ({**flying, "last_inside_at": at("06:35:05"), "observations": 90}, "update"),
                  (new, "entry")]
        with IncidentStore.open(path) as store:
            run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
            for i, (rec, kind) in enumerate(events):
                record_alert(store, run, {**rec, "event": kind}, ["hook"], now=T0 + i)
        assert incident_of(path) == {"aaaa000000000001": "aaaa000000000001",
                                     flying["id"]: "aaaa000000000001",
                                     new["id"]: new["id"]}, name
        assert audit(path, "linked") == [], name


def test_a_track_is_not_linked_through_its_own_lost_piece(tmp_path: Path) -> None:
    """Watch events, merge_s 10 s. R0002 is lost in BOX at 06:35:00; R0003 appears there
    at 06:35:02 and continues it (one incident), still flying at 06:35:05. R0002 comes
    back at 06:35:10 (10 s after its loss: not less than merge_s, so not rule 1): its
    own lost piece does not open the incident to rule 3, whose latest piece (R0003's)
    is still flying: a new incident."""
    path = tmp_path / "s.sqlite"
    first = record("aaaa000000000001", "R0002", at("06:30:00"), None)
    cont = {**record("bbbb000000000002", "R0003", at("06:35:02"), None),
            "entry_point": {"lat": 59.0, "lon": 25.17}}
    back = {**record("cccc000000000003", "R0002", at("06:35:10"), None),
            "entry_point": {"lat": 59.0, "lon": 25.17}}
    events = [(first, "entry"), ({**first, "last_inside_at": at("06:35:00")}, "exit"),
              (cont, "entry"), ({**cont, "last_inside_at": at("06:35:05")}, "update"),
              (back, "entry")]
    with IncidentStore.open(path) as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {})
        run = dataclasses.replace(run, settings=IncidentSettings(merge_s=10.0))
        for i, (rec, kind) in enumerate(events):
            record_alert(store, run, {**rec, "event": kind}, ["hook"], now=T0 + i)
    assert incident_of(path) == {first["id"]: first["id"], cont["id"]: first["id"],
                                 back["id"]: back["id"]}
    assert len(audit(path, "linked")) == 1
