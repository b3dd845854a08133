"""Dossiers from the store: ``dossier build ID --store S`` for a watched and for a scanned
incident, and built automatically by ``watch --dossier-dir`` for a critical incident;
each verifies (hashes, signature, log proof, and the claim re-derived from the dossier's
own observations and boundary)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from incidents.test_crash import incursion_csv
from skyfence.cli import main
from skyfence.incidents.queries import incident_detail, incident_records
from skyfence.incidents.store import IncidentStore

pytestmark = pytest.mark.slow


def verify(dossier: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> str:
    pub = next(keys.glob("*.pub"))
    capsys.readouterr()
    assert main(["dossier", "verify", str(dossier), "--key", str(pub)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK")
    return out


def test_watch_builds_the_dossier_of_a_critical_incident_and_so_does_the_cli(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = incursion_csv(tmp_path)
    keys, log, store = tmp_path / "keys", tmp_path / "log", str(tmp_path / "s.sqlite")
    assert main(["keys", "init", "--dir", str(keys)]) == 0
    assert main(["watch", "--replay", str(csv), "--speed", "0", "--zone", "EST",
                 "--horizon", "0", "--format", "jsonl", "-o", str(tmp_path / "a.jsonl"),
                 "--store", store, "--dossier-dir", str(tmp_path / "auto"),
                 "--key-dir", str(keys), "--log", str(log)]) == 0
    assert "dossiers: 1 built, 0 failed" in capsys.readouterr().err
    with IncidentStore.open(store) as s:
        (inc,) = incident_records(s)
        detail = incident_detail(s, inc["id"])
    assert inc["severity"] == "critical"
    assert detail["dossier"]["state"] == "built"
    auto = Path(detail["dossier"]["path"])
    assert auto.parent == tmp_path / "auto" and (auto.parent / (auto.name + ".zip")).exists()
    claim = json.loads((auto / "claim.json").read_text())
    (entry,) = detail["entries"]
    assert claim["incident"] == {k: v for k, v in entry.items() if k != "entry_state"}
    assert claim["incident"]["id"] == inc["deepest_entry"]
    verify(auto, keys, capsys)
    # the same incident by hand, by a prefix of its id
    out = tmp_path / "by-hand"
    assert main(["dossier", "build", inc["id"][:8], "--store", store, "--key-dir", str(keys),
                 "--log", str(log), "-o", str(out)]) == 0
    text = verify(out, keys, capsys)
    assert inc["deepest_entry"] in (out / "claim.json").read_text()
    assert "R0001" in text
    # both claims say the same of the policy and the data; each names its own command
    hand = json.loads((out / "claim.json").read_text())
    assert claim["policy"] == hand["policy"]
    assert claim["policy"]["source"] == "default.yaml"  # the stored policy's, as judged
    assert claim["source_rows"] == hand["source_rows"]
    assert claim["source_rows"]["note"].startswith("observations kept by the incident store")
    assert claim["custody"]["command"] == "skyfence watch (automatic)"
    assert claim["custody"]["data_origin"] == hand["custody"]["data_origin"] == "recorded"
    assert hand["custody"]["command"] != claim["custody"]["command"]


def test_a_scanned_incident_reads_its_track_again_from_the_inputs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = incursion_csv(tmp_path)
    keys, store = tmp_path / "keys", str(tmp_path / "s.sqlite")
    assert main(["keys", "init", "--dir", str(keys)]) == 0
    assert main(["scan", str(csv), "--zone", "EST", "--format", "jsonl",
                 "-o", str(tmp_path / "r.jsonl"), "--store", store]) == 0
    rec = json.loads((tmp_path / "r.jsonl").read_text())
    out = tmp_path / "d"
    assert main(["dossier", "build", rec["id"], "--store", store, "--key-dir", str(keys),
                 "--log", str(tmp_path / "log"), "-o", str(out)]) == 0
    assert json.loads((out / "claim.json").read_text())["incident"] == rec
    verify(out, keys, capsys)
    # the input is gone: a clear error, no traceback
    csv.unlink()
    capsys.readouterr()
    assert main(["dossier", "build", rec["id"], "--store", store, "--key-dir", str(keys),
                 "--log", str(tmp_path / "log"), "-o", str(tmp_path / "d2")]) == 2
    err = capsys.readouterr().err
    assert "the scan's input" in err and "is gone" in err



def watched_store(tmp_path: Path, days: int) -> str:
    """A store of ``days`` critical incidents (the incursion replayed one day after the
    other, tracks R0001, R0002 ...) that no dossier was asked for yet."""
    import pandas as pd

    one = pd.read_csv(incursion_csv(tmp_path))
    csv = tmp_path / "days.csv"
    pd.concat([one.assign(icao24=f"R{d + 1:04d}", time=one["time"] + 86400.0 * d)
               for d in range(days)]).to_csv(csv, index=False)
    store = str(tmp_path / "s.sqlite")
    assert main(["watch", "--replay", str(csv), "--speed", "0", "--zone", "EST",
                 "--horizon", "0", "--format", "jsonl", "-o", str(tmp_path / "a.jsonl"),
                 "--store", store]) == 0
    return store


def ask_and_build(store: IncidentStore, tmp_path: Path, incidents: list[str]) -> Any:
    """Ask for the dossiers of ``incidents`` in this order, build them with a worker."""
    import sqlalchemy as sa

    from skyfence.evidence.keys import init_keys
    from skyfence.evidence.log import StationLog
    from skyfence.incidents.dossiers import DossierWorker
    from skyfence.incidents.schema import DOSSIERS

    with store.transaction() as conn:
        conn.execute(DOSSIERS.insert(), [
            {"incident_id": i, "state": "pending", "requested_at": float(n + 1)}
            for n, i in enumerate(incidents)])
    worker = DossierWorker(store, tmp_path / "auto", init_keys(tmp_path / "keys"),
                           StationLog(tmp_path / "log"), poll_s=0.05).start()
    assert worker.drain(60.0) == 0
    with store.engine.connect() as conn:
        states = {r.incident_id: r for r in conn.execute(sa.select(DOSSIERS))}
    return worker, states


def test_the_worker_outlives_a_dossier_that_fails_unexpectedly(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A stored record damaged by hand (``entered_at`` removed) breaks one dossier with a
    KeyError, which no rule of the builder expects: the worker stores the failure with the
    exception's type, logs its traceback, and goes on to build the next dossier."""
    import sqlalchemy as sa

    from skyfence.incidents.schema import ENTRIES, INCIDENTS

    with IncidentStore.open(watched_store(tmp_path, 2)) as s:
        with s.transaction() as conn:
            rows = conn.execute(sa.select(INCIDENTS.c.id, INCIDENTS.c.deepest_entry)
                                .order_by(INCIDENTS.c.first_entered_at)).all()
            assert len(rows) == 2
            (bad, bad_entry), (good, _) = rows
            record = json.loads(conn.execute(sa.select(ENTRIES.c.record)
                                             .where(ENTRIES.c.id == bad_entry)).scalar_one())
            del record["entered_at"]
            conn.execute(ENTRIES.update().where(ENTRIES.c.id == bad_entry)
                         .values(record=json.dumps(record)))
        worker, states = ask_and_build(s, tmp_path, [bad, good])
    assert (worker.built, worker.failed) == (1, 1)
    assert states[bad].state == "failed"
    assert states[bad].error == "KeyError: 'entered_at'"
    assert states[good].state == "built" and Path(states[good].path).is_dir()
    (logged,) = [r for r in caplog.records if r.name == "skyfence.incidents.dossiers"
                 and r.levelname == "ERROR"]
    assert bad in logged.getMessage() and logged.exc_info is not None


def test_a_build_cut_short_is_moved_aside_and_built_again(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A watcher killed while it built a dossier leaves the dossier pending and its folder
    half written; at the next start the worker keeps that folder under another name
    (nothing is deleted) and builds the dossier whole."""
    from skyfence.evidence.dossier import incident_dossier_dir

    with IncidentStore.open(watched_store(tmp_path, 1)) as s:
        (inc,) = incident_records(s)
        record = incident_detail(s, inc["id"])["entries"][0]
        target = incident_dossier_dir(tmp_path / "auto", record)
        target.mkdir(parents=True)
        (target / "observations.csv").write_text("time,icao24\n17582", encoding="utf-8")
        worker, states = ask_and_build(s, tmp_path, [inc["id"]])
    assert (worker.built, worker.failed) == (1, 0), states[inc["id"]].error
    assert Path(states[inc["id"]].path) == target
    (aside,) = [p for p in target.parent.iterdir() if p.name.startswith(target.name + ".")
                and p.is_dir()]
    assert aside.name == target.name + ".interrupted-1"
    assert (aside / "observations.csv").read_text(encoding="utf-8") == "time,icao24\n17582"
    verify(target, tmp_path / "keys", capsys)
