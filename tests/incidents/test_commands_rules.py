"""The rules of ``skyfence incidents`` (:mod:`skyfence.incidents.commands`).

The stores are built row by row (``incidents.store_rows``) and the records and details
that the writers format are written out by hand, so that every expected line, column
and count below is read off what the test wrote. Times: ``T0`` is
2025-09-19T06:30:00Z.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from incidents.store_rows import T0, begin, entry, incident, many_open, step
from skyfence.cli import main
from skyfence.incidents.commands import _duration, render_detail, write_incidents
from skyfence.incidents.queries import INCIDENT_FIELDS
from skyfence.incidents.schema import EVENTS, STEPS
from skyfence.incidents.store import IncidentStore


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture
def store(tmp_path: Path) -> str:
    """i-c closed (T0); i-d no violation in zone "Park" (T0+5); i-a acknowledged in EST
    also in LVA (T0+10); i-b open (T0+10), two entries: b2 (T0+40, entry point only)
    and b1 (T0+10, both points); i-e open (T0+20), its entry e1 by track T5 continued by
    T9 (e2)."""
    path = str(tmp_path / "incidents.sqlite")
    with IncidentStore.open(path) as s:
        begin(s)
        incident(s, "i-b0001", track="T1", first=T0 + 10, callsign="ÅLAND1")
        incident(s, "i-a0001", track="T2", zone="EST", also_in=("LVA",),
                 state="acknowledged", first=T0 + 10)
        incident(s, "i-c0001", track="T3", state="closed", first=T0)
        incident(s, "i-d0001", track="T4", zone="Park", violation=False, severity="info",
                 first=T0 + 5)
        incident(s, "i-e0001", track="T5", first=T0 + 20)
        entry(s, "b2", "i-b0001", track="T1", entered=T0 + 40, entry_point=(0.25, 0.75),
              exit_point=None)
        entry(s, "b1", "i-b0001", track="T1", entered=T0 + 10)
        entry(s, "e1", "i-e0001", track="T5", entered=T0 + 20, entry_point=None,
              exit_point=(0.5, 0.125))
        entry(s, "e2", "i-e0001", track="T9", entered=T0 + 400, entry_point=None,
              exit_point=None)
        step(s, "i-b0001", 1, text="inform QRA")
        step(s, "i-b0001", 2, text="call ATC", after_s=60.0, due=T0 + 70)
    return path


def ids(out: str) -> list[str]:
    return [json.loads(line)["id"] for line in out.splitlines()]


# ------------------------------------------------------------------------ list, export
def test_list_defaults_to_a_table_of_the_open_violations(
        store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "incidents", "list", "--store", store)
    assert code == 0
    rows = [line.split("│")[0].strip() for line in out.splitlines() if "│" in line]
    assert rows == ["i-a0001", "i-b0001", "i-e0001"]
    assert err == f"3 open violations in sqlite:///{store}\n"
    code, out, err = run(capsys, "incidents", "list", "--store", store, "--all")
    assert err == f"5 incidents in sqlite:///{store}\n"


def test_list_and_export_formats_and_filters(store: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def lst(*more: str) -> list[str]:
        code, out, err = run(capsys, "incidents", "list", "--store", store,
                             "--format", "jsonl", *more)
        assert code == 0 and err == ""  # the count line is the table's only
        return ids(out)

    assert lst() == ["i-a0001", "i-b0001", "i-e0001"]
    assert lst("--all") == ["i-c0001", "i-d0001", "i-a0001", "i-b0001", "i-e0001"]
    assert lst("--all", "--state", "open", "--state", "closed") == [
        "i-c0001", "i-d0001", "i-b0001", "i-e0001"]
    assert lst("--all", "--zone", "lva") == ["i-a0001"]
    assert lst("--all", "--zone", "Park") == ["i-d0001"]
    assert lst("--track", "T9") == ["i-e0001"]
    # export: every incident, JSON Lines, unless told otherwise
    code, out, err = run(capsys, "incidents", "export", "--store", store)
    assert (code, ids(out), err) == (0, ["i-c0001", "i-d0001", "i-a0001", "i-b0001",
                                         "i-e0001"], "")
    code, out, _ = run(capsys, "incidents", "export", "--store", store, "--state", "closed")
    assert ids(out) == ["i-c0001"]


def test_export_to_a_file(store: str, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    code, out, _ = run(capsys, "incidents", "export", "--store", store, "--format", "csv",
                       "-o", str(target))
    assert (code, out) == (0, "")
    table = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [t["id"] for t in table] == ["i-c0001", "i-d0001", "i-a0001", "i-b0001", "i-e0001"]


def test_the_store_option_alone_is_skyfence_store(
        store: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYFENCE_STORE", store)
    code, out, _ = run(capsys, "incidents", "export", "--store")
    assert code == 0 and len(ids(out)) == 5
    code, out, _ = run(capsys, "incidents", "export")
    assert code == 0 and len(ids(out)) == 5


def test_geojson_has_the_entry_and_exit_points_of_each_incident(
        store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """i-b: b1 (entered first: (0, 0.5) and (1, 0.5)), then b2's entry point only; i-e:
    e1's exit point, e2 none; i-c, i-d and i-a have no entries."""
    code, out, _ = run(capsys, "incidents", "export", "--store", store, "--format", "geojson")
    assert code == 0 and out.endswith("}\n")
    doc = json.loads(out)
    assert doc["type"] == "FeatureCollection"
    got = {f["properties"]["id"]: f["geometry"] for f in doc["features"]}
    mp = "MultiPoint"
    assert got == {
        "i-c0001": {"type": mp, "coordinates": []},
        "i-d0001": {"type": mp, "coordinates": []},
        "i-a0001": {"type": mp, "coordinates": []},
        "i-b0001": {"type": mp, "coordinates": [[0.0, 0.5], [1.0, 0.5], [0.25, 0.75]]},
        "i-e0001": {"type": mp, "coordinates": [[0.5, 0.125]]}}
    assert all(f["type"] == "Feature" for f in doc["features"])
    assert [list(f["properties"]) for f in doc["features"]] == [list(INCIDENT_FIELDS)] * 5


def test_geojson_of_more_incidents_than_one_query_takes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """1001 incidents, one entry each: the points are read 500 ids a query (three
    queries); incident k's entry goes from (k/1000, 0) to (k/1000, 1)."""
    path = str(tmp_path / "many.sqlite")
    n = 1001
    with IncidentStore.open(path) as s:
        begin(s)
        with s.transaction() as conn:
            many_open(conn, n, entry_track="T", record=lambda k: json.dumps({
                "entry_point": {"lon": k / 1000, "lat": 0.0},
                "exit_point": {"lon": k / 1000, "lat": 1.0}}))
    code, out, _ = run(capsys, "incidents", "export", "--store", path, "--format", "geojson")
    assert code == 0
    feats = json.loads(out)["features"]
    assert len(feats) == n
    for k, f in enumerate(feats):
        assert f["geometry"]["coordinates"] == [[k / 1000, 0.0], [k / 1000, 1.0]], k


# --------------------------------------------------------------------- the writers
REC: dict[str, Any] = {
    "id": "abc123", "state": "open", "zone": "EST", "zone_kind": "national",
    "also_in": ["LVA", "RUS"], "track": "T1", "icao24": None, "callsign": "ÅLAND1",
    "violation": True, "severity": "critical",
    "first_entered_at": "2025-09-19T06:30:00.000Z",
    "last_exited_at": "2025-09-19T06:31:05.250Z", "last_inside_at": None,
    "inside_s": 65.0, "max_depth_m": 12340.0, "deepest_entry": "e1", "crossings": 2,
    "open_entries": 0, "entries": ["e1", "e2"], "steps": 5, "steps_done": 1,
    "steps_escalated": 2, "origin": "replay:x", "created_at": None, "updated_at": None,
    "tracks": ["T1", "T9"]}
REC2: dict[str, Any] = {**REC, "id": "def456", "also_in": [], "callsign": None,
                        "violation": False, "severity": "info", "open_entries": 1,
                        "inside_s": 12.25, "max_depth_m": 10000.0, "steps": 0, "steps_done": 0,
                        "steps_escalated": 0, "first_entered_at": None,
                        "last_exited_at": None}


def test_jsonl_keeps_utf8_and_writes_one_record_a_line() -> None:
    out = io.StringIO()
    write_incidents("jsonl", [REC, REC2], out)
    lines = out.getvalue().split("\n")
    assert lines[2:] == [""] and json.loads(lines[0]) == REC and json.loads(lines[1]) == REC2
    assert '"callsign": "ÅLAND1"' in lines[0]


def test_csv_joins_lists_and_writes_booleans_and_nulls_as_words() -> None:
    out = io.StringIO()
    write_incidents("csv", [REC, REC2], out)
    text = out.getvalue()
    assert text.startswith(",".join(INCIDENT_FIELDS) + "\n") and "\r" not in text
    a, b = list(csv.DictReader(io.StringIO(text)))
    assert a["also_in"] == "LVA RUS" and a["tracks"] == "T1 T9" and a["entries"] == "e1 e2"
    assert (a["violation"], b["violation"]) == ("true", "false")
    assert (a["icao24"], a["created_at"], b["also_in"], b["callsign"]) == ("", "", "", "")
    assert (a["callsign"], a["max_depth_m"], a["open_entries"]) == ("ÅLAND1", "12340.0", "0")


def test_geojson_without_points_has_empty_multipoints() -> None:
    out = io.StringIO()
    write_incidents("geojson", [REC], out)
    assert out.getvalue().endswith("}\n") and "ÅLAND1" in out.getvalue()
    [f] = json.loads(out.getvalue())["features"]
    assert f == {"type": "Feature", "properties": REC,
                 "geometry": {"type": "MultiPoint", "coordinates": []}}


def table_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("│")] for line in text.splitlines() if "│" in line]


def test_the_table() -> None:
    """One line per incident (160 columns: this table is about 150 wide), twelve columns."""
    out = io.StringIO()
    write_incidents("table", [REC, REC2], out)
    lines = out.getvalue().splitlines()
    assert [c.strip() for c in lines[0].split("┃")] == [
        "id", "state", "severity", "zone", "track", "callsign", "first entry (UTC)",
        "last exit", "inside", "depth km", "crossings", "steps"]
    assert table_rows(out.getvalue()) == [
        ["abc123", "open", "critical", "EST (+LVA,RUS)", "T1", "ÅLAND1", "2025-09-19 06:30:00",
         "06:31:05", "1 min 5 s", "12.34", "2", "1/5 (2 esc.)"],
        ["def456", "open", "info (no viol.)", "EST", "T1", "", "", "inside", "12.2 s",
         "10.00", "2", "0/0"]]
    assert len(lines) == 4 and max(len(line) for line in lines) > 120
    assert lines[2].startswith("abc123 │")  # no padding at the edge


def test_the_table_s_last_exit_of_a_record_without_one() -> None:
    out = io.StringIO()
    write_incidents("table", [{**REC, "last_exited_at": None}], out)
    assert table_rows(out.getvalue())[0][7] == ""


@pytest.mark.parametrize(("s", "text"), [
    (0.0, "0.0 s"), (45.25, "45.2 s"), (59.94, "59.9 s"), (60.0, "1 min 0 s"),
    (119.6, "2 min 0 s"), (723.4, "12 min 3 s"), (3600.0, "60 min 0 s")])
def test_duration(s: float, text: str) -> None:
    assert _duration(s) == text


# ------------------------------------------------------------------------- show
DETAIL: dict[str, Any] = {
    "incident": {**REC, "icao24": "4b1805"},
    "entries": [
        {"id": "e1", "zone": "EST", "entered_at": "2025-09-19T06:30:00.000Z",
         "exited_at": "2025-09-19T06:31:00.000Z", "duration_s": 60.0, "max_depth_m": 1234.5,
         "observations": 16, "entry_state": "exited"},
        {"id": "e2", "zone": "EST", "entered_at": "2025-09-19T06:40:00.000Z",
         "exited_at": None, "duration_s": 5.0, "max_depth_m": 10000.0, "observations": 2,
         "entry_state": "open"}],
    "steps": [
        {"n": 1, "step": "inform QRA", "after_s": None, "due_at": "T-due1", "done_at": "T-d1",
         "done_by": "ann", "escalated_at": "T-e1"},
        {"n": 2, "step": "call ATC", "after_s": 60.0, "due_at": "T-due2", "done_at": None,
         "done_by": None, "escalated_at": "T-e2"},
        {"n": 3, "step": "log it", "after_s": None, "due_at": "T-due3", "done_at": None,
         "done_by": None, "escalated_at": None},
        {"n": 4, "step": "scramble", "after_s": 300.0, "due_at": "T-due4", "done_at": None,
         "done_by": None, "escalated_at": None}],
    "audit": [
        {"at": "T-a1", "feed_at": "T-f1", "kind": "opened", "operator": "watch",
         "note": None, "data": None},
        {"at": "T-a2", "feed_at": None, "kind": "note", "operator": "ann", "note": "seen",
         "data": None}],
    "alerts": [],
    "delivery": [
        {"sink": "a-sink", "delivered": 2, "pending": 1, "rejected": 0, "attempts": 4,
         "last_error": "timeout"},
        {"sink": "b-sink", "delivered": 3, "pending": 0, "rejected": 1, "attempts": 4,
         "last_error": "old"}],
    "deepest_point": {"entry": "e1", "time": "T-deep", "lat": 59.123456, "lon": 24.9876543,
                      "depth_m": 10000.0},
    "dossier": {"state": "built", "path": "/d/x.zip", "error": None}}

#: the entries' lines are longer than this file's lines: they are cut in two here
DETAIL_TEXT = "\n".join([
    'incident  abc123  OPEN  critical  violation',
    'zone      EST (national), also in LVA, RUS',
    'track     T1  icao24 4b1805  callsign ÅLAND1',
    'entered   2025-09-19T06:30:00.000Z   last exit 2025-09-19T06:31:05.250Z',
    'inside    1 min 5 s in 2 crossing(s); deepest 12.34 km (entry e1)',
    'deepest   10.00 km at 59.12346, 24.98765 (T-deep)',
    'origin    replay:x',
    '',
    'entries:',
    '  e1  EST    2025-09-19T06:30:00.000Z -> 2025-09-19T06:31:00'
    '.000Z    1 min 0 s     1.23 km    16 fixes  exited',
    '  e2  EST    2025-09-19T06:40:00.000Z -> -                  '
    '             5.0 s    10.00 km     2 fixes  open',
    '',
    'protocol:',
    '  1. inform QRA  [done by ann at T-d1]',
    '  2. call ATC  [ESCALATED at T-e2]',
    '  3. log it  [now]',
    '  4. scramble  [due T-due4]',
    '',
    'audit:',
    '  T-a1 (data T-f1)  opened       watch',
    '  T-a2  note         ann  seen',
    '',
    'alerts:',
    '  a-sink: 2 delivered, 1 pending, 0 rejected (4 attempts)  last error: timeout',
    '  b-sink: 3 delivered, 0 pending, 1 rejected (4 attempts)',
    '',
    'dossier:  built /d/x.zip',
])


def test_show_renders_every_part_of_the_detail() -> None:
    assert render_detail(DETAIL) == DETAIL_TEXT


def test_show_of_a_bare_incident() -> None:
    """No violation, no also_in, icao24 or callsign, inside now, no deepest point (a
    scanned incident), no steps, audit or alerts, a failed dossier or none."""
    d = {**DETAIL, "incident": {**REC2, "icao24": None}, "entries": [], "steps": [],
         "audit": [], "delivery": [], "deepest_point": None,
         "dossier": {"state": "failed", "path": None, "error": "no fixes"}}
    assert render_detail(d) == """\
incident  def456  OPEN  info  (no violation)
zone      EST (national)
track     T1
entered   None   last exit (inside)
inside    12.2 s in 2 crossing(s); deepest 10.00 km (entry e1)
origin    replay:x

entries:

protocol:

audit:

alerts:
  none

dossier:  failed  no fixes"""
    assert render_detail({**d, "dossier": None}).endswith("\n\ndossier:  none")
    assert render_detail({**d, "dossier": {"state": "pending", "path": None,
                                           "error": None}}).endswith("\ndossier:  pending")


def test_show_from_the_store(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "incidents", "show", "i-b000", "--store", store,
                       "--format", "json")
    assert code == 0 and out.endswith("}\n") and out.startswith('{\n  "incident": {\n')
    d = json.loads(out)
    assert d["incident"]["id"] == "i-b0001"
    assert '"callsign": "ÅLAND1"' in out  # UTF-8 as it is, not escaped
    assert [e["id"] for e in d["entries"]] == ["b1", "b2"]
    code, out2, _ = run(capsys, "incidents", "show", "I-B0001", "--store", store)
    assert code == 0 and out2 == render_detail(d) + "\n"


# ---------------------------------------------------------------------- changes
def audit(store: str) -> list[tuple[str, str, str | None]]:
    with IncidentStore.open(store) as s, s.engine.connect() as conn:
        return [(r.kind, r.operator, r.note) for r in
                conn.execute(sa.select(EVENTS).order_by(EVENTS.c.seq))]


def test_state_note_and_step_changes_name_the_incident_and_the_operator(
        store: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKYFENCE_OPERATOR", raising=False)
    monkeypatch.setattr(getpass, "getuser", lambda: "login-name")
    assert run(capsys, "incidents", "ack", "i-b000", "--store", store, "--note", "QRA") == (
        0, "incident i-b0001 acknowledged\n", "")
    monkeypatch.setenv("SKYFENCE_OPERATOR", "env-op")
    assert run(capsys, "incidents", "note", "i-b0001", "seen it", "--store", store) == (
        0, "incident i-b0001: note added\n", "")
    assert run(capsys, "incidents", "step", "i-b0001", "2", "--store", store,
               "--operator", "given", "--note", "done") == (
        0, "incident i-b0001: step 2 done (call ATC)\n", "")
    assert run(capsys, "incidents", "close", "i-b0001", "--store", store)[1] == (
        "incident i-b0001 closed\n")
    assert run(capsys, "incidents", "reopen", "i-b0001", "--store", store,
               "--operator", "dave")[1] == "incident i-b0001 open\n"
    assert audit(store) == [("acknowledged", "login-name", "QRA"),
                            ("note", "env-op", "seen it"), ("step_done", "given", "done"),
                            ("closed", "env-op", None), ("reopened", "dave", None)]
    with IncidentStore.open(store) as s, s.engine.connect() as conn:
        done = conn.execute(sa.select(STEPS.c.n, STEPS.c.done_by)
                            .where(STEPS.c.incident_id == "i-b0001")
                            .order_by(STEPS.c.n)).all()
    assert [tuple(r) for r in done] == [(1, None), (2, "given")]


@pytest.mark.parametrize("err", [KeyError, OSError])
def test_no_operator_to_be_found_is_a_usage_error(
        store: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        err: type[Exception]) -> None:
    def nobody() -> str:
        raise err("no such user")

    monkeypatch.delenv("SKYFENCE_OPERATOR", raising=False)
    monkeypatch.setattr(getpass, "getuser", nobody)
    for argv in (("ack", "i-a0001"), ("note", "i-a0001", "x"), ("step", "i-b0001", "1")):
        assert run(capsys, "incidents", *argv, "--store", store) == (
            2, "", "skyfence: error: who is the operator? give --operator NAME\n")
    monkeypatch.setenv("SKYFENCE_OPERATOR", "")  # empty: as if not set
    assert run(capsys, "incidents", "ack", "i-a0001", "--store", store)[0] == 2
    assert audit(store) == []


# ------------------------------------------------------------------------- help
HELP = {
    (): """\
usage: skyfence incidents [-h] list|show|ack|close|reopen|note|step|export ...

positional arguments:
  list|show|ack|close|reopen|note|step|export
    list                incidents (default: open violations; --all: every incident)
    export              every incident, as JSON Lines (or --format csv|geojson)
    show                one incident: entries, steps, audit, alert delivery
    ack                 acknowledge: the operator has taken charge (no escalation)
    close               close the incident
    reopen              open a closed or acknowledged incident again
    note                add a note to the incident's audit
    step                mark protocol step N done
""",
    ("list",): """\
usage: skyfence incidents list [-h] [--store [PATH_OR_URL]] [--all]
                               [--state {open,acknowledged,closed}] [--zone Z] [--track ID]
                               [--format {table,jsonl,csv,geojson}] [-o FILE]
""",
    ("export",): """\
  --all                 every incident
  --state {open,acknowledged,closed}
                        only this state
  --zone Z              only incidents in (or also in) zone Z
  --track ID            only this track
  --format {table,jsonl,csv,geojson}
  -o FILE, --output FILE
                        write to FILE
""",
    ("show",): """\
usage: skyfence incidents show [-h] [--store [PATH_OR_URL]] [--format {table,json}] ID
""",
    ("close",): """\
usage: skyfence incidents close [-h] [--store [PATH_OR_URL]] [--operator NAME] [--note TEXT] ID
""",
    ("reopen",): """\
  --operator NAME       who does it (default: $SKYFENCE_OPERATOR or the login name)
  --note TEXT           why, for the audit
""",
    ("note",): """\
usage: skyfence incidents note [-h] [--store [PATH_OR_URL]] [--operator NAME] ID TEXT

positional arguments:
  ID
  TEXT

options:
  -h, --help            show this help message and exit
  --store [PATH_OR_URL]
                        keep incidents in this store: a SQLite file or a postgresql:// URL
                        (--store alone: $SKYFENCE_STORE or the user's data directory)
  --operator NAME       who does it (default: $SKYFENCE_OPERATOR or the login name)
""",
    ("step",): """\
usage: skyfence incidents step [-h] [--store [PATH_OR_URL]] [--operator NAME] [--note TEXT] ID N

positional arguments:
  ID
  N                     the step's number in `incidents show`
""",
}


@pytest.mark.parametrize("cmd", list(HELP))
def test_help(cmd: tuple[str, ...], capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch) -> None:
    """Each part's help, as argparse prints it 100 columns wide."""
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as stop:
        main(["incidents", *cmd, "--help"])
    assert stop.value.code == 0
    assert HELP[cmd] in capsys.readouterr().out


def test_the_incidents_command_is_listed(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "    incidents\n              list, show, acknowledge and close stored incidents\n" \
        in out


def test_an_incidents_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["incidents"])
    assert stop.value.code == 2
    assert "the following arguments are required: list|show|ack|close|reopen|note|step|export" \
        in capsys.readouterr().err


def test_bad_choices_are_refused(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("list", "--state", "gone"), ("list", "--format", "json"),
                 ("show", "i-b0001", "--format", "csv"), ("step", "i-b0001", "two")):
        with pytest.raises(SystemExit) as stop:
            main(["incidents", *argv, "--store", store])
        assert stop.value.code == 2
    capsys.readouterr()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


WIDE: dict[str, Any] = {**REC, "id": "0123456789abcdef0123456789abcdef",
                        "track": "a-very-long-track-name-" * 3, "callsign": "CALLSIGN" * 3}


def test_the_table_is_160_wide_in_a_file_and_as_wide_as_the_terminal_on_one() -> None:
    """A table that does not fit: in a file exactly 160 columns, the id and the first
    entry time whole on one line (the long track is folded); on a terminal of 100
    columns (COLUMNS), 100."""
    out = io.StringIO()
    write_incidents("table", [WIDE], out)
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) == 160
    assert any(WIDE["id"] in line for line in lines)
    assert any("2025-09-19 06:30:00" in line for line in lines)
    assert not any(WIDE["track"] in line for line in lines)


def test_the_table_on_a_terminal_takes_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    monkeypatch.setenv("COLUMNS", "100")
    out = _Terminal()
    write_incidents("table", [WIDE], out)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.getvalue().splitlines()]
    assert max(len(line) for line in lines) == 100
