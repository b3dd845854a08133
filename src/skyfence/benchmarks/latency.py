"""``skyfence bench latency``: a live SBS feed over loopback TCP, as fast as accepted.

A server thread sends SBS-1 position messages (``MSG,3``) of many aircraft flying
straight lines, some across a 20 km circle zone, as fast as the client takes them.
``skyfence watch``'s pipeline (feed client -> detector -> events) reads them; we report
the sustained input rate and the alert latency (early warnings on, as in ``skyfence
watch``), from the arrival of the batch holding
the first inside position to the emission of its ``entry`` event. The baseline is the
same pipeline handling each message on its own (a batch per position), measured on the
first messages of the same feed.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import numpy as np

from skyfence.benchmarks import record


def sbs_lines(aircraft: int = 3000, seconds: int = 120, seed: int = 3) -> list[bytes]:
    """SBS position lines, time-ordered: one per aircraft per second."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = rng.uniform(-1.0, 1.0, aircraft), rng.uniform(-1.0, 1.0, aircraft)
    hdg = rng.uniform(0, 2 * np.pi, aircraft)
    speed_deg = rng.uniform(150, 250, aircraft) / 111_320.0
    ids = [f"{0x400000 + k:06X}" for k in range(aircraft)]
    out = []
    for s in range(seconds):
        lat = lat0 + np.cos(hdg) * speed_deg * s
        lon = lon0 + np.sin(hdg) * speed_deg * s
        clock = time.strftime("%H:%M:%S", time.gmtime(s)) + ".000"
        for k in range(aircraft):
            out.append(
                f"MSG,3,1,1,{ids[k]},1,2025/09/19,{clock},2025/09/19,{clock},,30000,,,"
                f"{lat[k]:.5f},{lon[k]:.5f},,,0,0,0,0\r\n".encode()
            )
    return out


def _serve(lines: list[bytes], ready: threading.Event, port: list[int]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as srv:
        port.append(srv.getsockname()[1])
        ready.set()
        conn, _ = srv.accept()
        with conn:
            blob = b"".join(lines)
            conn.sendall(blob)


def _pipeline(lines: list[bytes], batch_messages: int) -> tuple[float, int, Any]:
    from skyfence.airspace.zones import circle_zone
    from skyfence.service.watch import Watcher
    from skyfence.sources.feed import FeedClient

    ready, port = threading.Event(), list[int]()
    server = threading.Thread(target=_serve, args=(lines, ready, port), daemon=True)
    server.start()
    ready.wait(5)
    watcher = Watcher([circle_zone("Z", 0.0, 0.0, 20.0)], all_entries=True)
    feed = FeedClient("sbs", "127.0.0.1", port[0], batch_messages=batch_messages,
                      max_retries=0, backoff_initial_s=0.01)
    n = 0
    start = None
    for batch in feed:
        if start is None:
            start = time.perf_counter()
        watcher.process(batch, batch.attrs.get("received_at"))
        n += len(batch)
        if n >= len(lines):
            break
    elapsed = time.perf_counter() - (start or time.perf_counter())
    feed.close()
    return elapsed, n, watcher


def run(json: bool = False, *, aircraft: int = 3000, seconds: int = 120,
        baseline_messages: int = 3000) -> dict[str, Any]:
    """Measure and return the benchmark record."""
    lines = sbs_lines(aircraft, seconds)
    from skyfence.service.watch import FEED_BATCH_MESSAGES

    elapsed, n, watcher = _pipeline(lines, batch_messages=FEED_BATCH_MESSAGES)
    lat = np.asarray(watcher.stats.entry_latency_s) * 1000.0
    base_s, base_n, _ = _pipeline(lines[:baseline_messages], batch_messages=1)
    return record(
        "latency", n / elapsed, {"one_message_per_batch": base_n / base_s}, n,
        unit="SBS positions per second through feed, detector and events",
        latency_ms={"p50": round(float(np.percentile(lat, 50)), 1),
                    "p99": round(float(np.percentile(lat, 99)), 1),
                    "max": round(float(lat.max()), 1)} if len(lat) else None,
        entries=int(watcher.stats.events.get("entry", 0)),
        baseline_points=base_n,
    )
