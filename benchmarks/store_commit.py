"""Measure what the incident store adds to an alert: one commit per event, against
writing the same event to a JSON Lines file (what ``watch`` does without a store).

Each of ``--tracks`` radar-only tracks crosses a 10 km circle: its entry, four depth
updates and its exit go through :func:`skyfence.incidents.writer.record_alert` (entry,
incident, steps, audit, alert and one outbox row, in one transaction) on a fresh SQLite
file, and on PostgreSQL when ``--postgres URL`` is given (an empty database). Usage::

    python benchmarks/store_commit.py [--tracks 100] [--postgres postgresql://...]

Prints one JSON object: name, ours_per_s (SQLite commits per second), baselines (the
JSON Lines file), ratios, points, machine, and ``latency_ms`` (p50, p99, max) per
backend.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from typing import Any

import numpy as np

from skyfence.airspace.zones import circle_zone
from skyfence.alerts.console import JsonlSink
from skyfence.benchmarks import record
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.writer import begin_run, record_alert
from skyfence.model import make_observations
from skyfence.policy import Policy
from skyfence.service.watch import Watcher

ZONE = circle_zone("BOX", 59.0, 25.0, 10.0)


def events(tracks: int) -> list[dict[str, Any]]:
    """The watcher's events of ``tracks`` crossings, 200 s apart (no store)."""
    out: list[dict[str, Any]] = []
    watcher = Watcher([ZONE], sinks=[out.append], approach_horizon_s=None,
                      update_min_depth_m=1000.0)
    for i in range(tracks):
        lon = np.linspace(24.7, 25.3, 150)
        t = 1.758e9 + 200.0 * i + 4.0 * np.arange(len(lon))
        obs = make_observations(time=t, icao24=[f"R{i:04d}"] * len(t), lat=np.full(len(t), 59.0),
                                lon=lon, altitude=np.full(len(t), 3000.0))
        for k in range(0, len(t), 5):
            watcher.process(obs.iloc[k:k + 5])
    watcher.close()
    return out


def commit_latencies(url: str, evs: list[dict[str, Any]]) -> list[float]:
    with IncidentStore.open(url) as store:
        run = begin_run(store, "watch", f"bench:{time.time()}", Policy(), [ZONE], {})
        lat = []
        for e in evs:
            t0 = time.perf_counter()
            record_alert(store, run, e, ["bench"])
            lat.append(time.perf_counter() - t0)
    return lat


def summary(lat: list[float]) -> dict[str, float]:
    ms = np.array(lat) * 1000.0
    return {"p50": round(float(np.percentile(ms, 50)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2), "max": round(float(ms.max()), 2)}


def main() -> None:
    """Run the measurement and print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100)
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    evs = events(args.tracks)
    sqlite = commit_latencies(tempfile.mkdtemp() + "/bench.sqlite", evs)
    latency = {"sqlite": summary(sqlite)}
    extra = {}
    if args.postgres:
        pg = commit_latencies(args.postgres, evs)
        latency["postgresql"] = summary(pg)
        extra["postgresql_per_s"] = round(len(evs) / sum(pg))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as f:
        sink = JsonlSink(f)  # flushes each line, as watch does
        t0 = time.perf_counter()
        for e in evs:
            sink(e)
        file_s = time.perf_counter() - t0
    print(json.dumps(record("store_commit", len(evs) / sum(sqlite),
                            {"jsonl_file": len(evs) / file_s}, len(evs),
                            latency_ms=latency, **extra)))


if __name__ == "__main__":
    main()
