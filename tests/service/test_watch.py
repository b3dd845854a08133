"""The watcher: replay equals scan, events, webhooks, stopping, many aircraft."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skyfence.airspace.zones import circle_zone
from skyfence.alerts.webhook import WebhookSink
from skyfence.model import make_observations
from skyfence.scanning.engine import ScanOptions, scan_frame
from skyfence.service.watch import Watcher, replay_batches

ZONES = [circle_zone("A", 0.0, 0.0, 30.0), circle_zone("B", 0.3, 0.3, 20.0)]
GEOD = Geod(ellps="WGS84")


def tracks(n: int = 60, fixes: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        t = np.cumsum(rng.uniform(2, 30, fixes)) + rng.uniform(0, 600)
        ang = rng.uniform(0, 2 * np.pi)
        xy = rng.uniform(-0.7, 0.7, 2) + np.cumsum(
            0.01 * np.array([np.cos(ang), np.sin(ang)]) + rng.normal(0, 0.006, (fixes, 2)), 0)
        out.append(pd.DataFrame({"time": t, "icao24": f"{0x4b0000 + k:06x}" if k % 4 else
                                 f"R{k:04d}", "lat": xy[:, 1], "lon": xy[:, 0]}))
    return pd.concat(out, ignore_index=True)


def finals(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [{k: v for k, v in e.items() if k != "event"} for e in events
           if e["event"] in ("exit", "open")]
    return sorted(out, key=lambda r: (r["entered_at"], r["zone"], r["track"]))


@pytest.mark.parametrize("slice_s", [1.0, 30.0, 1000.0])
def test_replay_ends_with_the_records_of_scan(slice_s: float) -> None:
    data = tracks()
    scan = scan_frame(data, ScanOptions(zones=ZONES)).records
    w = Watcher(ZONES, all_entries=True, approach_horizon_s=None)
    events: list[dict[str, Any]] = []
    obs = make_observations(**{c: data[c].to_numpy() for c in data.columns})
    for b in replay_batches(obs, speed=0, slice_s=slice_s):
        events += w.process(b)
    events += w.close()
    assert len(scan) > 20
    assert finals(events) == scan
    kinds = [e["event"] for e in events]
    assert kinds.count("entry") == len(scan)


def test_violations_only_by_default() -> None:
    data = tracks()
    w = Watcher(ZONES, approach_horizon_s=None)
    obs = make_observations(**{c: data[c].to_numpy() for c in data.columns})
    events = w.process(obs) + w.close()
    assert events and all(e["violation"] for e in events)
    assert {e["track"][0] for e in events} == {"R"}


class _Held(http.server.BaseHTTPRequestHandler):
    """Holds every request until ``release`` is set; answers 503 to the first two."""

    fail_first = 2
    seen: ClassVar[list[dict[str, Any]]] = []
    calls = 0
    arrived = threading.Event()
    release = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        cls.arrived.set()
        cls.release.wait(60)
        cls.calls += 1
        if cls.calls <= self.fail_first:
            self.send_response(503)
            self.end_headers()
            return
        cls.seen.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_retries_until_delivered_without_blocking() -> None:
    # the receiver holds every request until the test releases it: a watcher that
    # waited for the network would not return from process() before the release (and
    # would find its requests answered, or timed out, when it did); one that queues
    # returns with nothing delivered, nothing retried, while the request waits
    handler = type("H", (_Held,), {"seen": [], "calls": 0, "arrived": threading.Event(),
                                   "release": threading.Event()})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    try:
        sink = WebhookSink(f"http://127.0.0.1:{server.server_port}/hook", backoff_s=0.05,
                           timeout_s=60.0)
        w = Watcher(ZONES, all_entries=True, sinks=[sink], approach_horizon_s=None)
        obs = make_observations(time=[0.0, 60.0], icao24=["R0001"] * 2, lat=[0.0, 0.0],
                                lon=[-0.5, 0.5])
        events = w.process(obs) + w.close()
        assert [e["event"] for e in events] == ["entry", "exit"]
        assert (sink.stats.delivered, sink.stats.retries, sink.stats.failed) == (0, 0, 0)
        assert handler.calls == 0
        # meanwhile the sender thread has the first event at the receiver
        assert handler.arrived.wait(30)
        handler.release.set()
        sink.close()
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()
    assert sink.stats.delivered == 2 and sink.stats.retries == 2 and sink.stats.failed == 0
    assert [e["event"] for e in handler.seen] == ["entry", "exit"]


def test_unreachable_webhook_counts_failures() -> None:
    sink = WebhookSink("http://127.0.0.1:9/none", attempts=2, backoff_s=0.01, timeout_s=0.5)
    sink.send({"event": "entry"})
    sink.close()
    assert sink.stats.failed == 1 and sink.stats.delivered == 0


def test_ten_thousand_aircraft_are_tracked_and_expire() -> None:
    n = 10_000
    rng = np.random.default_rng(0)
    lat0, lon0 = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    w = Watcher(ZONES, all_entries=True, approach_horizon_s=None, gap_s=60)
    ids = np.array([f"{0x400000 + k:06x}" for k in range(n)], dtype=object)
    # (how fast: ``skyfence bench latency``; a test asserts no wall-clock figure)
    for step in range(10):
        w.process(make_observations(time=np.full(n, float(step)), icao24=ids,
                                    lat=lat0 + 0.001 * step, lon=lon0))
    assert w.detector.tracked == n
    # after a silence longer than the gap every track is forgotten; open entries end
    late = make_observations(time=[1000.0], icao24=["aaaaaa"], lat=[10.0], lon=[10.0])
    events = w.process(late)
    assert w.detector.tracked == 1
    assert all(e["event"] == "exit" and e["exited_at"] is None for e in events)
    assert len(events) > 100


def test_approach_warning_comes_before_the_entry() -> None:
    # a radar-only track flying east at 200 m/s towards zone A (30 km around 0,0)
    t = np.arange(0.0, 600.0, 2.0)
    obs = make_observations(time=t, icao24=["R0100"] * len(t), lat=np.zeros(len(t)),
                            lon=-1.2 + 200.0 * t / 111_320.0, velocity=np.full(len(t), 200.0),
                            heading=np.full(len(t), 90.0))
    w = Watcher(ZONES[:1], all_entries=True)
    events: list[dict[str, Any]] = []
    for b in replay_batches(obs, speed=0, slice_s=2.0):
        events += w.process(b)
    kinds = [e["event"] for e in events]
    assert "approach" in kinds and "entry" in kinds
    assert kinds.index("approach") < kinds.index("entry")
    approach = events[kinds.index("approach")]
    entry = events[kinds.index("entry")]
    # the truth: the track runs along the equator (lon linear in time), into the
    # geodesic 30 km circle where pyproj's distance to (0, 0) falls to 30 km
    lo, hi = -0.5, 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if GEOD.inv(0.0, 0.0, mid, 0.0)[2] > 30_000.0 else (lo, mid)
    true_entry = (lo + 1.2) * 111_320.0 / 200.0  # 517.92 s
    # the detector interpolates between fixes on a polygon within 0.1 m of the circle;
    # the prediction flies 200 m/s where the track makes 199.999 m/s (a degree of the
    # equator is 111,319.5 m, not 111,320): 1.4 ms over its 300 s horizon
    assert pd.Timestamp(entry["entered_at"]).timestamp() == pytest.approx(true_entry, abs=0.01)
    assert pd.Timestamp(approach["entered_at"]).timestamp() == pytest.approx(true_entry,
                                                                             abs=0.01)
