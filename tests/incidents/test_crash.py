"""Crash safety with a real process and a real ``kill -9``, on SQLite and PostgreSQL.

A recorded incursion (the demo's radar-only track rebuilt from the Vaindloo incident,
about 12 minutes inside Estonian waters, cut to 14 minutes of data and written to CSV)
is replayed by ``skyfence watch --replay ... --speed 120 --store S`` with a webhook and
a JSON Lines file as sinks. As soon as the receiver has the first escalation (60 s of
feed after the entry: mid-incursion), the process is killed with SIGKILL; the store
then shows the entry still open. The same command is started again on the same feed
and store and runs to the end. Then:

- there is one incident, with the id the first run alerted, and its entry has exited;
- every alert in the store reached the webhook and the file; repeats (an alert sent
  but not marked before the kill) carry the same idempotency key, and no alert was
  sent under two keys;
- the entry, exit and escalation alerts are exactly those of an uninterrupted replay
  of the same data into a fresh store (the reference run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from incidents.helpers import Receiver
from loopback import free_port
from skyfence.demo import vaindloo_track
from skyfence.incidents.queries import incident_records
from skyfence.incidents.schema import ALERTS, ENTRIES
from skyfence.incidents.store import IncidentStore

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

SRC = str(Path(__file__).resolve().parents[2] / "src")
FINAL = ("entry", "exit", "escalation", "open")


def incursion_csv(d: Path) -> Path:
    data = vaindloo_track("R0001")
    t = data["time"]
    data = data[(t >= t.min() + 360) & (t <= t.min() + 1200)]  # 09:56:00 .. 10:10:00
    f = d / "incursion.csv"
    data.to_csv(f, index=False)
    return f


def watch(csv: Path, store: str, out: Path, hook: str, speed: str, err: Path,
          drain_s: str = "30") -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "skyfence.cli", "watch", "--replay", str(csv), "--speed", speed,
         "--zone", "EST", "--horizon", "0", "--format", "jsonl", "-o", str(out),
         "--webhook", hook, "--webhook-drain", drain_s, "--store", store],
        stdout=subprocess.DEVNULL, stderr=err.open("ab"), env=env)


def wait_for(cond: Any, proc: subprocess.Popen[bytes], err: Path, timeout_s: float = 120.0
             ) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert proc.poll() is None, f"watch ended early: {err.read_text()}"
        assert time.monotonic() < deadline, f"timed out; stderr: {err.read_text()}"
        time.sleep(0.02)


def logical(e: dict[str, Any]) -> tuple[Any, ...]:
    """What an alert is about, whatever its key: event, entry, and what distinguishes
    two alerts of one entry (the step of an escalation, the figures of an update)."""
    extra = (e["step"]["n"],) if e["event"] == "escalation" else (
        (e["max_depth_m"], e["min_altitude_m"], e["max_altitude_m"], e["observations"])
        if e["event"] == "update" else ())
    return (e["event"], e["id"], *extra)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The alerts of an uninterrupted replay into a fresh store, by key.

    Its webhook has no receiver, so nothing is waited for at the end (``--webhook-drain
    0``): what the store holds is decided as the alerts are raised, not by delivery
    (draining only gives queued deliveries time; 30 s here was 30 s of a dead port)."""
    d = tmp_path_factory.mktemp("reference")
    ref_store = str(d / "reference.sqlite")
    ref = watch(incursion_csv(d), ref_store, d / "ref.jsonl",
                f"http://127.0.0.1:{free_port()}/x", "0", d / "ref-stderr.txt", drain_s="0")
    assert ref.wait(240) == 0
    with IncidentStore.open(ref_store) as store, store.engine.connect() as conn:
        return {k: json.loads(p) for k, p in conn.execute(
            sa.select(ALERTS.c.key, ALERTS.c.payload))}


def test_kill_minus_9_mid_incursion_then_restart(
        tmp_path: Path, store_url: str, reference: dict[str, dict[str, Any]]) -> None:
    csv = incursion_csv(tmp_path)
    receiver = Receiver(free_port())
    receiver.up()
    out, err = tmp_path / "alerts.jsonl", tmp_path / "stderr.txt"
    proc = watch(csv, store_url, out, receiver.url, "120", err)
    try:
        wait_for(lambda: any(e["event"] == "escalation" for e in receiver.events()), proc, err)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    with IncidentStore.open(store_url) as store, store.engine.connect() as conn:
        states = [r[0] for r in conn.execute(sa.select(ENTRIES.c.state))]
    assert states == ["open"]  # killed mid-incursion
    first_id = next(e for e in receiver.events() if e["event"] == "entry")["incident"]["id"]

    proc = watch(csv, store_url, out, receiver.url, "120", err)
    assert proc.wait(240) == 0, err.read_text()
    receiver.down()

    with IncidentStore.open(store_url) as store:
        (inc,) = incident_records(store, every=True)
        with store.engine.connect() as conn:
            alerts = conn.execute(sa.select(ALERTS.c.key, ALERTS.c.payload)
                                  .order_by(ALERTS.c.seq)).all()
    assert inc["id"] == first_id and inc["crossings"] == 1 and inc["open_entries"] == 0
    stored = {k: json.loads(p) for k, p in alerts}
    # webhook: every stored alert arrived; a repeat has the same key
    got = Counter(h["idempotency-key"] for h, _ in receiver.got)
    assert set(got) == set(stored)
    by_meaning: dict[tuple[Any, ...], set[str]] = {}
    for e in receiver.events():
        by_meaning.setdefault(logical(e), set()).add(e["idempotency_key"])
    assert all(len(keys) == 1 for keys in by_meaning.values())
    # the JSON Lines file (appended to by the restart) has them too
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert {e["idempotency_key"] for e in lines} == set(stored)
    # the same alerts as a replay that was never interrupted
    mine = {k for k, e in stored.items() if e["event"] in FINAL}
    theirs = {k for k, e in reference.items() if e["event"] in FINAL}
    assert mine == theirs
    assert Counter(e["event"] for e in stored.values() if e["event"] in FINAL) == \
        {"entry": 1, "escalation": 2, "exit": 1}
