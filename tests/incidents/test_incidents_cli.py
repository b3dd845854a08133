"""``skyfence incidents``: list and export formats, show, the lifecycle with its audit,
and errors as one line; the policy's ``incidents`` section; wall-clock timers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from incidents.helpers import crossing, replay, store_watcher
from skyfence.cli import main
from skyfence.incidents.journal import IncidentJournal
from skyfence.incidents.queries import INCIDENT_FIELDS
from skyfence.incidents.schema import EVENTS
from skyfence.incidents.store import IncidentStore
from skyfence.policy import Policy, PolicyError


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture
def two_incidents(store_url: str) -> tuple[str, list[dict[str, Any]]]:
    """A critical incident (radar-only R0001) and a cooperative one that is no violation
    (4b1805, stored because the watcher reports every entry)."""
    data = pd.concat([crossing("R0001", 0.0), crossing("4b1805", 100.0, lat=59.02)])
    with IncidentStore.open(store_url) as store:
        watcher, _ = store_watcher(store)
        watcher.all_entries = True
        out = [e for _, e in replay(watcher, data)]
    return store_url, out


def test_list_shows_open_violations_and_all_shows_every_incident(
        two_incidents: tuple[str, list[dict[str, Any]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    store, events = two_incidents
    crit = next(e for e in events if e["track"] == "R0001")["incident"]["id"]
    code, out, _ = run(capsys, "incidents", "list", "--store", store, "--format", "jsonl")
    assert code == 0 and [json.loads(x)["id"] for x in out.splitlines()] == [crit]
    code, out, _ = run(capsys, "incidents", "list", "--store", store, "--all",
                       "--format", "jsonl")
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["track"] for r in rows] == ["R0001", "4b1805"]
    assert [list(r) for r in rows] == [list(INCIDENT_FIELDS)] * 2
    # CSV: the same incidents, same columns
    code, out, _ = run(capsys, "incidents", "export", "--store", store, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert [t["id"] for t in table] == [r["id"] for r in rows]
    assert table[0]["violation"] == "true" and table[1]["violation"] == "false"
    assert float(table[0]["max_depth_m"]) == rows[0]["max_depth_m"]
    # GeoJSON: one MultiPoint per incident with its entry and exit points
    code, out, _ = run(capsys, "incidents", "export", "--store", store, "--format",
                       "geojson")
    feats = json.loads(out)["features"]
    exits = [e for e in events if e["event"] == "exit"]
    for f in feats:
        mine = [e for e in exits if e["incident"]["id"] == f["properties"]["id"]]
        want = [[p["lon"], p["lat"]] for e in mine for p in (e["entry_point"], e["exit_point"])]
        assert f["geometry"] == {"type": "MultiPoint", "coordinates": want}
    # the table names every incident and counts them on stderr
    code, out, err = run(capsys, "incidents", "list", "--store", store, "--all")
    assert crit in out and "2 incidents in" in err


def test_lifecycle_with_operator_note_and_an_append_only_audit(
        two_incidents: tuple[str, list[dict[str, Any]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    store, events = two_incidents
    iid = next(e for e in events if e["track"] == "R0001")["incident"]["id"]

    def audit() -> list[tuple[Any, ...]]:
        with IncidentStore.open(store) as s, s.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(EVENTS).order_by(EVENTS.c.seq))]

    before = audit()
    assert run(capsys, "incidents", "ack", iid[:8], "--store", store, "--operator", "alice",
               "--note", "QRA informed")[:2] == (0, f"incident {iid} acknowledged\n")
    code, _, err = run(capsys, "incidents", "ack", iid, "--store", store, "--operator", "bob")
    assert code == 2 and err.count("\n") == 1
    assert f"incident {iid} is acknowledged (acknowledged by alice at " in err
    assert run(capsys, "incidents", "step", iid, "2", "--store", store,
               "--operator", "alice")[0] == 0
    code, _, err = run(capsys, "incidents", "step", iid, "9", "--store", store)
    assert code == 2 and "has no step 9 (it has 5)" in err
    assert run(capsys, "incidents", "note", iid, "F-35s airborne", "--store", store,
               "--operator", "carol")[0] == 0
    assert run(capsys, "incidents", "close", iid, "--store", store, "--operator", "alice")[0] == 0
    code, out, _ = run(capsys, "incidents", "list", "--store", store, "--format", "jsonl")
    assert out == ""  # closed: no open violation left
    assert run(capsys, "incidents", "reopen", iid, "--store", store, "--operator", "dave",
               "--note", "more data")[0] == 0
    after = audit()
    assert after[:len(before)] == before  # nothing earlier changed
    added = [(r[4], r[5], r[6]) for r in after[len(before):]]  # kind, operator, note
    assert added == [("acknowledged", "alice", "QRA informed"), ("step_done", "alice", None),
                     ("note", "carol", "F-35s airborne"), ("closed", "alice", None),
                     ("reopened", "dave", "more data")]
    code, out, _ = run(capsys, "incidents", "show", iid, "--store", store, "--format", "json")
    d = json.loads(out)
    assert d["incident"]["state"] == "open"
    assert d["steps"][1]["done_by"] == "alice"
    assert [s["sink"] for s in d["delivery"]] == ["test"]
    assert d["delivery"][0]["pending"] == len(d["alerts"])  # no sender ran in this test
    code, out, _ = run(capsys, "incidents", "show", iid, "--store", store)
    for part in ("incident  " + iid, "entries:", "protocol:", "audit:", "alerts:",
                 "test: 0 delivered", "done by alice", "reopened"):
        assert part in out


def test_ids_unknown_short_and_ambiguous(two_incidents: tuple[str, list[dict[str, Any]]],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = two_incidents
    code, _, err = run(capsys, "incidents", "show", "0123456789", "--store", store)
    assert code == 2 and "no incident '0123456789'" in err
    code, _, err = run(capsys, "incidents", "show", "abc", "--store", store)
    assert code == 2 and "6 or more of its first characters" in err
    code, _, err = run(capsys, "incidents", "note", "0123456789", " ", "--store", store)
    assert code == 2 and "Traceback" not in err


def test_the_incidents_section_of_a_policy_is_checked_with_lines(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("rules: []\nincidents:\n  merge_s: -1\n  prefer: [RUS, 3]\n"
                 "  disputed: always\n  colour: red\n")
    with pytest.raises(PolicyError) as info:
        Policy.load(f)
    got = info.value.problems
    assert any(p.startswith(f"{f}:3: incidents.merge_s: must be >= 0") for p in got), got
    assert any(p.startswith(f"{f}:5: incidents.disputed: unknown mode 'always'") for p in got)
    assert any(p.startswith(f"{f}:6: incidents: unknown key 'colour'") for p in got)
    ok = tmp_path / "ok.yaml"
    ok.write_text("rules: []\nincidents: {merge_s: 30, prefer: [ukr], disputed: name}\n")
    s = Policy.load(ok).incidents
    assert (s.merge_s, s.prefer, s.disputed) == (30.0, ("UKR",), "name")
    assert Policy().incidents.merge_s == 120.0


def test_live_timers_run_on_the_wall_clock(tmp_path: Path) -> None:
    wall = [1e9]  # 2001: before the data
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        watcher, journal = store_watcher(store, origin="live", feed_clock=False)
        live = IncidentJournal(store, journal.run, ["test"], feed_clock=False,
                               wall_clock=lambda: wall[0])
        watcher.journal = live
        # the feed's times pass every due time; the wall clock (2001) does not
        out = [e for _, e in replay(watcher, crossing("R0001", 0.0))]
        entry = next(e for e in out if e["event"] == "entry")
        assert not [e for e in out if e["event"] == "escalation"]
        assert live.advance(0.0) == []
        # the wall clock decides; the step is due 60 s after the first entry (feed time)
        from skyfence.evidence.timefmt import parse_iso

        due = parse_iso(entry["entered_at"]) + 60.0
        wall[0] = due - 0.5
        assert live.advance(0.0) == []
        wall[0] = due + 0.25
        (esc,) = live.advance(0.0)
        assert esc["step"]["n"] == 4
        assert parse_iso(esc["step"]["escalated_at"]) == pytest.approx(due + 0.25, abs=1e-3)


def test_early_warnings_are_stored_and_alerted_without_an_incident(tmp_path: Path) -> None:
    from skyfence.service.watch import Watcher

    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        _, journal = store_watcher(store)
        watcher = Watcher(_.zones, journal=journal, approach_horizon_s=300.0)
        out = [e for _, e in replay(watcher, crossing("R0001", 0.0))]
        (approach,) = [e for e in out if e["event"] == "approach"]
        assert "incident" not in approach and approach["idempotency_key"]
        with store.engine.connect() as conn:
            from skyfence.incidents.schema import ALERTS

            rows = conn.execute(sa.select(ALERTS.c.event, ALERTS.c.incident_id)
                                .order_by(ALERTS.c.seq)).all()
    assert [r.event for r in rows] == [e["event"] for e in out]
    assert [r.incident_id for r in rows if r.event == "approach"] == [None]


def test_a_store_that_stays_away_stops_the_watcher_with_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skyfence.incidents.journal as journal_mod
    from skyfence.alerts.retry import Backoff
    from skyfence.errors import StoreError

    monkeypatch.setattr(journal_mod, "STORE_RETRY", Backoff(0.001, 0.002))
    calls = {"n": 0}
    real = journal_mod.record_alert

    def flaky(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= 3:  # away for a moment: retried
            raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))
        return real(*args, **kw)

    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        watcher, _ = store_watcher(store)
        monkeypatch.setattr(journal_mod, "record_alert", flaky)
        out = [e for _, e in replay(watcher, crossing("R0001", 0.0))]
        assert out[0]["event"] == "entry" and calls["n"] > 3

        def away(*args: Any, **kw: Any) -> Any:
            raise sa.exc.OperationalError("INSERT", {}, Exception("could not connect"))

        monkeypatch.setattr(journal_mod, "record_alert", away)
        w2, _ = store_watcher(store, origin="replay:other")
        with pytest.raises(StoreError, match=r"--store sqlite:///.*: cannot write \(could not "):
            replay(w2, crossing("R0002", 5000.0))


def test_show_gives_the_deepest_point_from_the_stored_fixes(
        two_incidents: tuple[str, list[dict[str, Any]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    """Reference: the zone is a 10 km circle around (59.0, 25.0) and R0001 flies along
    59.0 N through its centre, so its deepest fix is the one nearest the centre, at a
    depth of 10 km minus its geodesic distance to the centre (pyproj; the 720-gon's
    chord error is 0.05 m)."""
    from pyproj import Geod

    store, events = two_incidents
    iid = next(e for e in events if e["track"] == "R0001")["incident"]["id"]
    code, out, _ = run(capsys, "incidents", "show", iid, "--store", store, "--format", "json")
    assert code == 0
    dp = json.loads(out)["deepest_point"]
    fixes = crossing("R0001", 0.0)
    k = int((fixes["lon"] - 25.0).abs().idxmin())
    assert (dp["lat"], dp["lon"]) == (59.0, round(float(fixes["lon"][k]), 6))
    _, _, d = Geod(ellps="WGS84").inv(25.0, 59.0, float(fixes["lon"][k]), 59.0)
    assert dp["depth_m"] == pytest.approx(10_000.0 - d, abs=0.5)
    exit_rec = next(e for e in events if e["event"] == "exit" and e["track"] == "R0001")
    assert dp["depth_m"] == pytest.approx(exit_rec["max_depth_m"], abs=0.1)
