"""``skyfence bench serve``: 200 browsers' event streams while the pipeline takes 5,000
track updates a second.

The data: 1,000 aircraft reporting five times a second (5,000 updates/s) for
:data:`TRAFFIC_S` seconds over the Baltic, 40 of them (ICAO addresses in the Russian
block, RUS watched) flying into a 15 km circle zone one after the other, so that the
store commits and the stream carries ``entry``/``update`` incident events throughout.
``skyfence serve`` replays it in real time (``loop: true`` shifts it to now, so the
data's clock is the wall clock) in its own process, with its incident store; a second
process opens :data:`CLIENTS` event streams (``skyfence.benchmarks.serve_clients``)
with an API token and times every message.

Figures: ``latency_ms`` is the push latency, from the moment the server stamps a
message (``sent_at``: an incident event once committed to the store, or the track
picture pushed once a second) to its arrival at a client, over every message of every
client; ``incident_latency_ms`` the same for incident events alone; ``cpu`` the server's
and the clients' CPU (percent of one core, over the measured window). ``ours_per_s``
is the track updates/s the pipeline took while serving; the baseline is the same
watch (same data, store and policy) run as fast as it can with no server and no
clients: their ratio is the share of the pipeline's capacity that 5,000 updates/s use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from skyfence.benchmarks import record

CLIENTS = int(os.environ.get("SKYFENCE_BENCH_CLIENTS", "200"))
AIRCRAFT = 1000
RATE_HZ = 5.0
TRAFFIC_S = 20.0
#: quiet data before the traffic, while the clients connect
LEAD_S = 10.0
INTRUDERS = 40
ZONE = "BENCH:59.4,24.0,15"


def traffic(seed: int = 13) -> tuple[np.ndarray, ...]:
    """Columns (time, icao24, lat, lon, heading) of the benchmark's data, t0 = 0."""
    rng = np.random.default_rng(seed)
    n_steps = int(TRAFFIC_S * RATE_HZ)
    t = LEAD_S + np.arange(n_steps) / RATE_HZ
    lat0 = rng.uniform(57.5, 61.0, AIRCRAFT)
    lon0 = rng.uniform(20.0, 29.0, AIRCRAFT)
    hdg = rng.uniform(0.0, 360.0, AIRCRAFT)
    speed_ms = rng.uniform(120.0, 250.0, AIRCRAFT)
    ids = np.array([f"{0x480000 + k:06x}" for k in range(AIRCRAFT)], dtype=object)
    # the intruders: within 3.3 km of the zone's east-west axis, 15.3-18.5 km west of its
    # centre (the edge is at most 0.6 km nearer than 15 km there), flying east at 250 m/s
    # (5 km in the 20 s): each enters, one after the other
    k = np.arange(INTRUDERS)
    ids[:INTRUDERS] = [f"{0x150000 + i:06x}" for i in k]
    km_per_deg_lon = 111.32 * np.cos(np.radians(59.4))
    lat0[:INTRUDERS] = 59.4 + (k - INTRUDERS / 2) * 0.0015
    lon0[:INTRUDERS] = 24.0 - (15.3 + 3.2 * k / INTRUDERS) / km_per_deg_lon
    hdg[:INTRUDERS] = 90.0
    speed_ms[:INTRUDERS] = 250.0
    # keep the others out of the zone: none within 40 km of it at the start, none
    # heading for it
    far = np.hypot((lat0 - 59.4) * 111.0, (lon0 - 24.0) * km_per_deg_lon) < 60.0
    far[:INTRUDERS] = False
    lat0[far] += 1.5
    tt = np.repeat(t, AIRCRAFT)
    dt = tt - LEAD_S
    idx = np.tile(np.arange(AIRCRAFT), n_steps)
    rad = np.radians(hdg[idx])
    dist_km = speed_ms[idx] * dt / 1000.0
    lat = lat0[idx] + dist_km * np.cos(rad) / 111.0
    lon = lon0[idx] + dist_km * np.sin(rad) / (111.32 * np.cos(np.radians(lat0[idx])))
    return tt, ids[idx], lat, lon, hdg[idx]


def write_inputs(d: Path) -> tuple[Path, int]:
    """The CSV (one quiet fix at t0, then the traffic) and the serve config; the number
    of track updates."""
    import pandas as pd

    t, ids, lat, lon, hdg = traffic()
    t0 = 1_800_000_000.0
    frame = pd.DataFrame({"time": np.concatenate([[t0], t0 + t]),
                          "icao24": np.concatenate([["480fff"], ids]),
                          "lat": np.concatenate([[61.5], lat]),
                          "lon": np.concatenate([[20.0], lon]),
                          "geoaltitude": 9000.0, "velocity": 200.0,
                          "heading": np.concatenate([[0.0], hdg])})
    frame.to_csv(d / "traffic.csv", index=False)
    (d / "serve.yaml").write_text(f"""\
store: store.sqlite
circles: ["{ZONE}"]
watch_states: [RUS]
horizon_s: 0
sources: {{replay: [traffic.csv], speed: 1, loop: true}}
auth: {{cookie_secure: false}}
""", encoding="utf-8")
    return d / "serve.yaml", len(t)


def _baseline(cfg_path: Path, updates: int) -> float:
    """Track updates/s of the same watch (store included) as fast as it runs."""
    import io

    from skyfence.alerts.console import ConsoleSink
    from skyfence.service.config import load_serve_config
    from skyfence.service.runner import open_watch

    cfg = load_serve_config(cfg_path)
    cfg = cfg.model_copy(update={
        "store": str(cfg_path.with_name("baseline.sqlite")),
        "sources": cfg.sources.model_copy(update={"speed": 0.0, "loop": False})})
    service = open_watch(cfg.watch_args(), ConsoleSink(io.StringIO()), stats_every=1e9,
                         drain_s=5.0, dossier_drain_s=5.0)
    start = time.perf_counter()
    try:
        service.run(signals=False)
    finally:
        elapsed = time.perf_counter() - start
        service.close()
    return updates / elapsed


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(v: list[float]) -> dict[str, float]:
    """p50, p99 and max of ``v`` (ms, one decimal; NaN for none).

    >>> percentiles([1.0, 2.0, 3.0])
    {'p50': 2.0, 'p99': 3.0, 'max': 3.0}
    """
    if not v:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    a = np.asarray(v)
    return {"p50": round(float(np.percentile(a, 50)), 1),
            "p99": round(float(np.percentile(a, 99)), 1), "max": round(float(a.max()), 1)}


def run(json: bool = False) -> dict[str, Any]:
    """Run the benchmark; the contract's record."""
    import httpx

    from skyfence.incidents.store import IncidentStore
    from skyfence.service.auth import create_token

    with tempfile.TemporaryDirectory(prefix="skyfence-bench-serve-") as tmp:
        d = Path(tmp)
        cfg, updates = write_inputs(d)
        baseline = _baseline(cfg, updates)
        with IncidentStore.open(d / "store.sqlite") as store:
            token = create_token(store, "bench", "viewer", "bench")
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
        server = subprocess.Popen([sys.executable, "-m", "skyfence.cli", "serve", "--config",
                                   str(cfg), "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError("serve stopped: " + server.stderr.read().decode()[-500:]
                                       if server.stderr else "")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).is_success:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("serve did not start")
                time.sleep(0.1)
            started = time.time()
            # the clients run from now to the end of the traffic (LEAD_S after the start)
            window = LEAD_S + TRAFFIC_S - (time.time() - started) + 1.0
            clients = subprocess.Popen(
                [sys.executable, "-m", "skyfence.benchmarks.serve_clients", str(port), token,
                 str(CLIENTS), f"{window:.1f}"], env=env, stdout=subprocess.PIPE)
            # measure the server's CPU over the traffic
            time.sleep(max(0.0, LEAD_S - (time.time() - started)))
            cpu0, wall0 = _cpu_s(server.pid), time.monotonic()
            health0 = httpx.get(f"http://127.0.0.1:{port}/health").json()
            out, _ = clients.communicate(timeout=window + 120)
            cpu1, wall1 = _cpu_s(server.pid), time.monotonic()
            health1 = httpx.get(f"http://127.0.0.1:{port}/health").json()
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    res = _json_loads(out)
    samples = res["samples_ms"]
    every = [x for v in samples.values() for x in v]
    served_rate = (health1["positions"] - health0["positions"]) / (wall1 - wall0)
    return record(
        "serve", served_rate, {"watch_alone_max": baseline}, updates,
        latency_ms=percentiles(every),
        incident_latency_ms=percentiles(samples.get("incident", [])),
        tracks_latency_ms=percentiles(samples.get("tracks", [])),
        clients=CLIENTS, clients_failed=len(res["failed"]),
        clients_dropped=res["ended_early"], messages=res["messages"],
        incident_messages=len(samples.get("incident", [])),
        mb_received=round(res["bytes"] / 1e6, 1),
        cpu={"server_pct": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 1),
             "clients_pct": round(100 * res["cpu_s"] / (wall1 - wall0), 1)},
        setup=f"{AIRCRAFT} aircraft at {RATE_HZ:g} Hz for {TRAFFIC_S:g} s, {INTRUDERS} "
              f"entering zone {ZONE}, {CLIENTS} SSE clients on loopback")


def _json_loads(out: bytes) -> dict[str, Any]:
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
