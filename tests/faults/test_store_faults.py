"""The incident store under faults, with ``skyfence watch --store`` as a real process:
PostgreSQL restarted under load while the webhook receiver is down, and a store on a
disk that fills up. After each: the same incidents and the same alerts (by idempotency
key) as an uninterrupted run into a fresh store, each alert delivered under one key,
and one line for the operator about each fault.

The feed: 12 radar-only tracks (non-cooperative: critical under the default policy,
escalated after 60 s and 120 s unacknowledged) crossing a 10 km circle, one every 40 s
of feed time (tests/incidents/helpers.py's ``crossing``: 200 fixes 4 s apart over 0.8
degree of longitude, inside the circle for about 6 of its 13 minutes), about 21 minutes of
feed replayed at 200 x real time (about 6 s of wall time: the load is the rate of
stores and alerts, a few per second, which is what PostgreSQL restarts under).

The full disk is a 6 MB tmpfs mounted by the test (CI runs as root; the machine this
was written on allows it), the store created on it, then filled with a file up to the
last byte once the fifth entry alert is out.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from faults.live import watch
from incidents.helpers import Receiver, crossing
from incidents.pg import PgServer
from incidents.test_crash import logical
from loopback import free_port
from skyfence.incidents.schema import ALERTS, ENTRIES, INCIDENTS, OUTBOX
from skyfence.incidents.store import IncidentStore

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(240)]

TRACKS = 12
FINAL = ("entry", "exit", "escalation", "open")


def feed_csv(d: Path) -> Path:
    data = pd.concat([crossing(f"R{k:04d}", 40.0 * k) for k in range(1, TRACKS + 1)])
    f = d / "crossings.csv"
    data.sort_values("time", kind="stable").to_csv(f, index=False)
    return f


def args(csv: Path, store: str, out: Path, speed: str, hook: str | None = None) -> list[str]:
    extra = ["--webhook", hook, "--webhook-drain", "60"] if hook else ["--webhook-drain", "2"]
    return ["--replay", str(csv), "--speed", speed, "--circle", "BOX:59.0,25.0,10",
            "--horizon", "0", "--format", "jsonl", "-o", str(out), "--store", store, *extra]


def wait_for(cond: Callable[[], bool], what: str, proc: subprocess.Popen[bytes], err: Path,
             timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert proc.poll() is None, f"watch ended before {what}: {err.read_text()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {err.read_text()}"
        time.sleep(0.02)


def lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.read_text().splitlines() if x.strip()] \
        if out.exists() else []


def stored(url: str) -> tuple[dict[str, dict[str, Any]], int, int, Counter[str]]:
    """Alerts by key, entries, incidents and outbox states of a store."""
    with IncidentStore.open(url) as store, store.engine.connect() as conn:
        alerts = {k: json.loads(p) for k, p in conn.execute(
            sa.select(ALERTS.c.key, ALERTS.c.payload))}
        entries = conn.execute(sa.select(sa.func.count()).select_from(ENTRIES)).scalar_one()
        incidents = conn.execute(sa.select(sa.func.count()).select_from(INCIDENTS)).scalar_one()
        states = Counter(r[0] for r in conn.execute(sa.select(OUTBOX.c.state)))
    return alerts, entries, incidents, states


def final_keys(alerts: dict[str, dict[str, Any]]) -> set[str]:
    return {k for k, e in alerts.items() if e["event"] in FINAL}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An uninterrupted run of the same feed into a fresh SQLite store."""
    d = tmp_path_factory.mktemp("reference")
    csv, store = feed_csv(d), str(d / "reference.sqlite")
    proc = watch(args(csv, store, d / "ref.jsonl", "0"), d / "stdout", d / "stderr")
    assert proc.wait(120) == 0, (d / "stderr").read_text()
    alerts, entries, incidents, _ = stored(store)
    kinds = Counter(e["event"] for e in alerts.values() if e["event"] in FINAL)
    # every track: an entry, an exit, two escalations, one incident (and updates as it
    # goes deeper, which depend on how the replay is sliced: not compared)
    assert kinds == {"entry": TRACKS, "exit": TRACKS, "escalation": 2 * TRACKS}
    assert entries == incidents == TRACKS
    return {"csv": csv, "keys": final_keys(alerts)}


@pytest.fixture
def own_pg() -> Iterator[PgServer]:
    """A PostgreSQL server of this test alone (it is restarted)."""
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_postgresql_restarted_under_load_while_the_webhook_is_down(
        tmp_path: Path, own_pg: PgServer, reference: dict[str, Any]) -> None:
    url = own_pg.create_database()
    receiver = Receiver(free_port())  # down (connection refused) until PostgreSQL is back
    out, err = tmp_path / "alerts.jsonl", tmp_path / "stderr.txt"
    proc = watch(args(reference["csv"], url, out, "200", receiver.url), tmp_path / "o", err)
    try:
        wait_for(lambda: sum(e["event"] == "entry" for e in lines(out)) >= 3, "3 entries",
                 proc, err)
        own_pg._run("pg_ctl", "-D", str(own_pg.dir / "data"), "-m", "fast", "-w", "restart")
        wait_for(lambda: "trying again" in err.read_text(), "a retried write", proc, err,
                 timeout_s=30)
        receiver.up()
        assert proc.wait(120) == 0, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        receiver.down()
    log = err.read_text()
    alerts, entries, incidents, states = stored(url)
    assert final_keys(alerts) == reference["keys"]
    assert entries == incidents == TRACKS
    assert states == {"delivered": 2 * len(alerts)}  # the JSON Lines file and the webhook
    # each alert reached the webhook and the file under its key, once (nothing was
    # delivered and then lost its mark: no process died)
    assert sorted(h["idempotency-key"] for h, _ in receiver.got) == sorted(alerts)
    assert sorted(e["idempotency_key"] for e in lines(out)) == sorted(alerts)
    # one line per fault and recovery of the webhook; the store's retries say why
    assert sum(f"outbox webhook:{receiver.url}: cannot deliver" in x for x in log.splitlines()) == 1
    assert sum(f"outbox webhook:{receiver.url}: delivering again after" in x
               for x in log.splitlines()) == 1, log
    assert "incident store: write failed" in log and "Traceback" not in log


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs, unmounted after."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], check=True,
                   capture_output=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` up to its last byte with one file; the file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):  # whole chunks, then the last partial blocks
            while True:
                try:
                    if os.write(fd, b"\0" * size) == 0:
                        break
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_stops_watch_with_one_line_and_a_restart_loses_nothing(
        tmp_path: Path, small_disk: Path, reference: dict[str, Any]) -> None:
    store = str(small_disk / "incidents.sqlite")
    out, err = tmp_path / "alerts.jsonl", tmp_path / "stderr.txt"
    proc = watch(args(reference["csv"], store, out, "200"), tmp_path / "o", err)
    try:
        wait_for(lambda: sum(e["event"] == "entry" for e in lines(out)) >= 5, "5 entries",
                 proc, err)
        filler = fill(small_disk)
        code = proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = err.read_text()
    # watch stops (no alert may leave uncommitted) with one line naming the store
    assert code == 1, log
    assert f"skyfence: error: --store sqlite:///{store}: cannot write (database or disk is " \
        "full)" in log.splitlines(), log
    assert "Traceback" not in log and "internal error" not in log
    assert "Background on this error" not in log  # one line per message
    before = stored(store)[0]
    assert 0 < len(final_keys(before)) < len(reference["keys"])
    # space comes back; the same command resumes
    filler.unlink()
    proc = watch(args(reference["csv"], store, out, "0"), tmp_path / "o", err)
    assert proc.wait(120) == 0, err.read_text()
    alerts, entries, incidents, states = stored(store)
    assert final_keys(alerts) == reference["keys"]
    assert entries == incidents == TRACKS
    assert states == {"delivered": len(alerts)}
    assert set(before) <= set(alerts)  # nothing stored before the fault was lost
    # the file got every alert; a repeat (delivered, not marked before the stop) has the
    # same key, and no alert went out under two keys
    got = Counter(e["idempotency_key"] for e in lines(out))
    assert set(got) == set(alerts)
    meaning = Counter(logical(e) for e in alerts.values())
    assert max(meaning.values()) == 1
    assert os.path.exists(store)
