"""The webhook receiver down for the full 10 minutes (the fault tests scale it down):
``skyfence watch --store`` replays 12 radar-only crossings of a 10 km circle (one every
40 s of feed time, each escalated twice, about 21 minutes of feed) at ``--speed`` times
real time with a webhook whose receiver refuses connections for ``--down-minutes``
minutes of wall time and then answers 204. Usage::

    python benchmarks/webhook_outage.py [--down-minutes 10] [--speed 2]

Prints one JSON object: the alerts stored, how many the receiver got and under how many
distinct idempotency keys (equal: each alert once), the alerts raised while it was down,
how long after it came back the last of them arrived, and watch's stderr lines about
the webhook (one when it went down, one when it delivered again).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from skyfence.incidents.schema import ALERTS
from skyfence.incidents.store import IncidentStore

SRC = str(Path(__file__).resolve().parents[1] / "src")


def crossings(path: Path, tracks: int = 12) -> None:
    """Radar-only tracks along 59 N from 24.6 E to 25.4 E, 200 fixes 4 s apart, one
    every 40 s, through a 10 km circle around 59 N, 25 E."""
    frames = []
    for k in range(1, tracks + 1):
        t = 1758263400.0 + 40.0 * k + 4.0 * pd.RangeIndex(200).to_numpy()
        frames.append(pd.DataFrame({"time": t, "icao24": f"R{k:04d}", "lat": 59.0,
                                    "lon": pd.Series(range(200)) * (0.8 / 199) + 24.6,
                                    "baroaltitude": 3000.0, "velocity": 200.0,
                                    "heading": 90.0}))
    pd.concat(frames).sort_values("time", kind="stable").to_csv(path, index=False)


class Receiver:
    """Records ``(wall time, idempotency key)`` of each POST; 204."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.got: list[tuple[float, str]] = []
        self.server: http.server.ThreadingHTTPServer | None = None

    def up(self) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((time.time(), self.headers["Idempotency-Key"]))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--down-minutes", type=float, default=10.0)
    p.add_argument("--speed", type=float, default=2.0)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        crossings(d / "feed.csv")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        receiver = Receiver(port)
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        err = d / "stderr.txt"
        started = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "skyfence.cli", "watch", "--replay", str(d / "feed.csv"),
             "--speed", str(a.speed), "--circle", "BOX:59.0,25.0,10", "--horizon", "0",
             "--format", "jsonl", "-o", str(d / "alerts.jsonl"), "--store",
             str(d / "s.sqlite"), "--webhook", f"http://127.0.0.1:{port}/hook",
             "--webhook-drain", "300"], stdout=subprocess.DEVNULL, stderr=err.open("w"),
            env=env)
        time.sleep(a.down_minutes * 60.0)
        back = time.time()
        receiver.up()
        code = proc.wait()
        receiver.down()
        with IncidentStore.open(str(d / "s.sqlite")) as store, store.engine.connect() as c:
            alerts = {k: t for k, t in c.execute(sa.select(ALERTS.c.key, ALERTS.c.created_at))}
        keys = [k for _, k in receiver.got]
        print(json.dumps({
            "exit_code": code, "down_s": round(back - started, 1),
            "alerts_stored": len(alerts), "alerts_raised_while_down":
                sum(1 for t in alerts.values() if t < back),
            "posts_received": len(keys), "distinct_keys": len(set(keys)),
            "every_alert_received": set(keys) == set(alerts),
            "last_backlog_alert_arrived_after_s": round(
                max((t for t, k in receiver.got if alerts.get(k, back) < back),
                    default=back) - back, 1),
            "webhook_lines": [x for x in err.read_text().splitlines() if "outbox webhook" in x],
        }, indent=1))


if __name__ == "__main__":
    main()
