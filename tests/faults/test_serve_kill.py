"""``kill -9`` of ``skyfence serve`` mid-incident, on SQLite and PostgreSQL.

``serve --config`` runs the watch pipeline and the web server in one process, so a kill
loses both at once. The feed is the recorded incursion of tests/incidents/test_crash.py
(the demo's radar-only Vaindloo track, 14 minutes of data, about 12 of them inside
Estonian waters), replayed at 60 x real time with a webhook, under a policy that makes
a non-cooperative entry critical and escalates it, unacknowledged, after 360 s and
600 s of feed time (6 and 10 s of wall time: later than the acknowledgement below can
come, so the restarted process has escalations it must not make). As soon as the
webhook has the entry alert, an operator (an API token made by ``skyfence tokens
create``) adds a note and acknowledges the incident through the HTTP API; then serve is
killed with SIGKILL while the entry is still open, and the same command is started
again on the same store. It replays the feed from the start (the replay is its only
source) to the end. Then:

- one incident, with the id of the first run's entry alert; its entry has exited;
- the note and the acknowledgement are in its audit, once each, and the incident is
  still acknowledged: the restarted pipeline neither reopened it nor escalated it (an
  acknowledged incident does not escalate; the uninterrupted, unacknowledged run
  escalates twice);
- every stored alert reached the webhook; a repeat (sent before the kill, not yet
  marked delivered) carries the same idempotency key, and no alert went out under two;
- entry and exit are the same alerts, by key, as an uninterrupted run of the same
  configuration (``skyfence watch`` with ``ServeConfig.watch_argv``, which is exactly
  what serve runs) into a fresh store;
- the restarted server answers the API (the incident list and detail) and its event
  stream (the ``snapshot`` event, then a live ``incident`` event when an operator
  closes the incident).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from incidents.conftest import pg_server, store_url  # noqa: F401  (fixtures)
from incidents.helpers import Receiver
from incidents.test_crash import SRC, incursion_csv, logical
from loopback import free_port, stop
from skyfence.incidents.schema import ALERTS, ENTRIES
from skyfence.incidents.store import IncidentStore

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(180)]

DETECTED = ("entry", "exit")
POLICY = """\
version: 1
name: serve kill test
rules:
  - name: non-cooperative entry
    when: {cooperative: false, approach: false}
    violation: true
    severity: critical
    reason: non-cooperative target inside {where}
    protocol:
      - notify the duty officer
      - step: inform the air policing controller
        after_s: 360
      - step: escalate to the air operations centre
        after_s: 600
"""


def config(d: Path, csv: Path, store: str, port: int, hook: str | None, speed: float) -> Path:
    f = d / f"serve-{port}.yaml"
    webhooks = f"webhooks: [{json.dumps(hook)}]\n" if hook else ""
    (d / "policy.yaml").write_text(POLICY, encoding="utf-8")
    f.write_text(f"""\
port: {port}
store: {json.dumps(store)}
zones: [EST]
horizon_s: 0
policy: policy.yaml
{webhooks}sources:
  replay: [{json.dumps(str(csv))}]
  speed: {speed}
auth: {{cookie_secure: false}}
""", encoding="utf-8")
    return f


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "PYTHONUNBUFFERED": "1"}


def serve(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "skyfence.cli", "serve", "--config",
                             str(cfg)], stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            env=env())


def wait_for(cond: Callable[[], Any], proc: subprocess.Popen[bytes], log: Path, what: str,
             timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = cond()
        if got:
            return got
        assert proc.poll() is None, f"serve ended before {what}: {log.read_text()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {log.read_text()}"
        time.sleep(0.02)


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def stored_alerts(url: str) -> dict[str, dict[str, Any]]:
    with IncidentStore.open(url) as store, store.engine.connect() as conn:
        return {k: json.loads(p) for k, p in conn.execute(
            sa.select(ALERTS.c.key, ALERTS.c.payload))}


def first_sse_events(base: str, headers: dict[str, str], n: int, on_open: Callable[[], None],
                     timeout_s: float = 20.0) -> list[tuple[str, dict[str, Any]]]:
    """The first ``n`` events of ``/api/stream`` (``on_open`` runs once the first one is
    read)."""
    events: list[tuple[str, dict[str, Any]]] = []
    kind = ""
    with httpx.stream("GET", f"{base}/api/stream", headers=headers,
                      timeout=httpx.Timeout(timeout_s)) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "text/event-stream")
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
                if len(events) == 1:
                    on_open()
                if len(events) >= n or kind == "incident":
                    return events
    return events


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The alerts (by key) of an uninterrupted run of the same configuration."""
    from skyfence.service.config import load_serve_config

    d = tmp_path_factory.mktemp("reference")
    store = str(d / "reference.sqlite")
    argv = load_serve_config(config(d, incursion_csv(d), store, 1, None, 0)).watch_argv()
    proc = subprocess.run([sys.executable, "-m", "skyfence.cli", "watch", *argv],
                          capture_output=True, text=True, env=env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    alerts = stored_alerts(store)
    assert Counter(e["event"] for e in alerts.values() if e["event"] in (*DETECTED,
                                                                         "escalation")) == \
        {"entry": 1, "exit": 1, "escalation": 2}
    return alerts


def test_kill_minus_9_of_serve_mid_incident_then_restart(
        tmp_path: Path, store_url: str,  # noqa: F811
        reference: dict[str, dict[str, Any]]) -> None:
    csv = incursion_csv(tmp_path)
    receiver = Receiver(free_port())
    receiver.up()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cfg = config(tmp_path, csv, store_url, port, receiver.url, 60)
    made = subprocess.run([sys.executable, "-m", "skyfence.cli", "tokens", "create", "duty",
                           "--role", "operator", "--config", str(cfg)],
                          capture_output=True, text=True, env=env(), timeout=60)
    assert made.returncode == 0, made.stderr
    op = {"Authorization": f"Bearer {made.stdout.strip()}"}
    log = tmp_path / "serve.log"

    proc = serve(cfg, log)
    try:
        entry = wait_for(lambda: next((e for e in receiver.events() if e["event"] == "entry"),
                                      None), proc, log, "the entry alert")
        inc_id = entry["incident"]["id"]
        assert answers(base)
        r = httpx.post(f"{base}/api/incidents/{inc_id}/notes", headers=op,
                       json={"text": "fighters scrambled"}, timeout=10)
        assert r.status_code == 200, r.text
        r = httpx.post(f"{base}/api/incidents/{inc_id}/ack", headers=op, timeout=10)
        assert r.status_code == 200, r.text
        with IncidentStore.open(store_url) as store, store.engine.connect() as conn:
            states = [x[0] for x in conn.execute(sa.select(ENTRIES.c.state))]
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    assert states == ["open"]  # killed mid-incursion: the aircraft is still inside

    proc = serve(cfg, log)
    try:
        wait_for(lambda: answers(base), proc, log, "the restarted server", timeout_s=60)
        # the replay runs to its end: the exit alert reaches the webhook
        wait_for(lambda: any(e["event"] == "exit" for e in receiver.events()), proc, log,
                 "the exit alert", timeout_s=60)
        health = wait_for(lambda: (lambda h: h if not h["pipeline_running"] else None)(
            httpx.get(f"{base}/health", timeout=10).json()), proc, log, "the replay's end")
        listed = httpx.get(f"{base}/api/incidents", headers=op,
                           params={"all": "true"}, timeout=10).json()
        detail = httpx.get(f"{base}/api/incidents/{inc_id}", headers=op, timeout=10).json()
        # the stream answers: a snapshot, then the close an operator makes now, live
        closed: list[int] = []

        def close() -> None:
            closed.append(httpx.post(f"{base}/api/incidents/{inc_id}/close", headers=op,
                                     timeout=10).status_code)

        events = first_sse_events(base, op, 2, close)
    finally:
        stop(proc, 30.0)
        receiver.down()
    text = log.read_text()
    assert "Traceback" not in text, text

    # one incident, its id unchanged, acknowledged (then closed by the stream check)
    assert listed["count"] == 1, listed
    (inc,) = listed["incidents"]
    assert inc["id"] == inc_id and inc["state"] == "acknowledged"
    assert inc["crossings"] == 1 and inc["open_entries"] == 0
    kinds = Counter(a["kind"] for a in detail["audit"])
    notes = [a for a in detail["audit"] if a["kind"] == "note"]
    assert [(a["note"], a["operator"]) for a in notes] == [("fighters scrambled", "token:duty")]
    assert kinds["acknowledged"] == 1, detail["audit"]
    # the second run replayed the whole feed (the 14 minutes of 4 s radar fixes)
    assert health["positions"] == len(csv.read_text().splitlines()) - 1
    assert [k for k, _ in events] == ["snapshot", "incident"], events
    assert closed == [200]
    change = events[1][1]
    assert change["change"] == "close" and change["incident"]["id"] == inc_id
    assert change["incident"]["state"] == "closed"

    stored = stored_alerts(store_url)
    # acknowledged before its first step was due: no escalation, even by the new process
    assert [e for e in stored.values() if e["event"] == "escalation"] == []
    # the entry and exit of an uninterrupted run, under the same keys
    assert {k for k, e in stored.items() if e["event"] in DETECTED} == \
        {k for k, e in reference.items() if e["event"] in DETECTED}
    # webhook: every stored alert arrived; repeats have the same key; no alert went out
    # under two keys
    got = Counter(h["idempotency-key"] for h, _ in receiver.got)
    assert set(got) == set(stored)
    by_meaning: dict[tuple[Any, ...], set[str]] = {}
    for e in receiver.events():
        by_meaning.setdefault(logical(e), set()).add(e["idempotency_key"])
    assert all(len(keys) == 1 for keys in by_meaning.values()), by_meaning
