"""Webhook shutdown: queued events get a bounded time to go out, and every submitted
event ends in exactly one counter (delivered, failed, dropped, undelivered)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from loopback import free_port
from skyfence.alerts.webhook import WebhookSink, WebhookStats, close_all
from skyfence.cli import main

pytestmark = pytest.mark.timeout(60)




def accounted(s: WebhookStats) -> int:
    return s.delivered + s.failed + s.dropped + s.undelivered


class Receiver(http.server.BaseHTTPRequestHandler):
    """Records the ``seq`` of each event; ``mode`` makes it slow, stuck or trickling."""

    mode = "ok"
    delay_s = 0.0
    seen: ClassVar[list[int]] = []
    arrived = threading.Event()
    release = threading.Event()
    done = threading.Event()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        cls.seen.append(body["seq"])
        cls.arrived.set()
        if cls.mode == "slow":
            time.sleep(cls.delay_s)
        elif cls.mode == "stuck":
            cls.release.wait(20)
        if cls.mode == "trickle":  # answers, one byte every 0.1 s (each read is quick)
            for ch in b"HTTP/1.0 204 No Content\r\n\r\n":
                self.wfile.write(bytes([ch]))
                self.wfile.flush()
                time.sleep(0.1)
            self.close_connection = True
        else:
            self.send_response(204)
            self.end_headers()
        cls.done.set()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("R", (Receiver,), {"seen": [], "arrived": threading.Event(),
                                      "release": threading.Event(), "done": threading.Event()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    handler.release.set()
    server.shutdown()
    server.server_close()


def test_down_receiver_every_event_is_accounted_for() -> None:
    # nothing listens: each attempt is refused at once; attempts at 0, 0.2, 0.6 s
    sink = WebhookSink(f"http://127.0.0.1:{free_port()}/x", attempts=3, backoff_s=0.2,
                       timeout_s=0.5)
    for i in range(3):
        sink.send({"seq": i, "event": "entry"})
    began = time.monotonic()
    st = sink.close(drain_timeout_s=1.0)
    assert time.monotonic() - began < 1.0 + 0.5 + 0.5  # drain + grace + slack
    # the first event gave up at about 0.6 s; the second was being retried at 1.0 s
    assert st.submitted == 3 and st.delivered == 0
    assert st.failed >= 1 and st.undelivered >= 1
    assert accounted(st) == 3 and st.queued == 0


def test_slow_receiver_gets_what_fits_in_the_drain_time(
    receiver: tuple[str, type[Receiver]],
) -> None:
    url, rx = receiver
    rx.mode, rx.delay_s = "slow", 0.25
    sink = WebhookSink(url)
    for i in range(10):
        sink.send({"seq": i})
    st = sink.close(drain_timeout_s=1.0)
    # 0.25 s per event: about 4 fit in 1 s (allow for a slow, shared machine)
    assert 1 <= st.delivered <= 5
    assert st.failed == 0 and st.delivered + st.undelivered == 10 == st.submitted
    # delivered in order; the receiver may also hold the one cut off in flight
    assert rx.seen[: st.delivered] == list(range(st.delivered))
    assert st.delivered <= len(rx.seen) <= st.delivered + 1


def test_healthy_receiver_drains_everything_without_waiting_for_the_timeout(
    receiver: tuple[str, type[Receiver]],
) -> None:
    url, rx = receiver
    sink = WebhookSink(url)
    for i in range(50):
        sink.send({"seq": i})
    began = time.monotonic()
    st = sink.close(drain_timeout_s=30.0)
    assert time.monotonic() - began < 10.0  # returns when drained, not at 30 s
    assert (st.delivered, st.undelivered, st.failed) == (50, 0, 0)
    assert rx.seen == list(range(50))


def test_no_counter_changes_after_close(receiver: tuple[str, type[Receiver]]) -> None:
    # the answer trickles in for about 2.7 s, each read well within the timeout: the
    # request outlives the drain time and completes after close() has settled the counts
    url, rx = receiver
    rx.mode = "trickle"
    sink = WebhookSink(url, timeout_s=5.0)
    sink.send({"seq": 0})
    assert rx.arrived.wait(10)
    began = time.monotonic()
    st = sink.close(drain_timeout_s=0.3)
    assert time.monotonic() - began < 0.3 + 0.5 + 0.5
    snapshot = (st.delivered, st.failed, st.undelivered)
    assert snapshot == (0, 0, 1)
    assert rx.done.wait(10)  # the receiver answered in full ...
    sink._thread.join(10)  # ... and the sender read it
    assert not sink._thread.is_alive()
    assert (st.delivered, st.failed, st.undelivered) == snapshot


def test_full_queue_drops_are_counted_and_the_rest_delivered(
    receiver: tuple[str, type[Receiver]],
) -> None:
    url, rx = receiver
    rx.mode = "stuck"
    sink = WebhookSink(url, max_queue=2)
    sink.send({"seq": 0})
    assert rx.arrived.wait(10)  # the first is in flight, the queue empty
    for i in range(1, 6):
        sink.send({"seq": i})
    assert sink.stats.dropped == 3  # 2 fit in the queue, 3 did not
    rx.release.set()
    st = sink.close(drain_timeout_s=10.0)
    assert (st.submitted, st.delivered, st.dropped, st.undelivered) == (6, 3, 3, 0)
    assert rx.seen == [0, 1, 2]


def test_sinks_drain_in_parallel(receiver: tuple[str, type[Receiver]]) -> None:
    url, rx = receiver
    rx.mode = "stuck"
    sinks = [WebhookSink(url), WebhookSink(url)]
    for s in sinks:
        s.send({"seq": 0})
    began = time.monotonic()
    close_all(sinks, drain_timeout_s=1.0)
    # one shared deadline: about 1 s for both (one after the other would take 2 s)
    assert time.monotonic() - began < 1.8
    assert all(s.stats.undelivered == 1 for s in sinks)


def test_watch_reports_every_webhook_event_at_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the case: events for a receiver that is down, then the replay ends
    f = tmp_path / "r.csv"
    t = np.arange(0.0, 240.0, 10.0)
    pd.DataFrame({"time": 1.7e9 + t, "icao24": "R0007", "lat": 0.0,
                  "lon": -0.5 + 0.005 * t}).to_csv(f, index=False)
    out = tmp_path / "events.jsonl"
    code = main(["watch", "--replay", str(f), "--speed", "0", "--circle", "A:0,0,30",
                 "--format", "jsonl", "-o", str(out), "--horizon", "0",
                 "--webhook", f"http://127.0.0.1:{free_port()}/x", "--webhook-drain", "0.5"])
    err = capsys.readouterr().err
    assert code == 0, err
    n = len(out.read_text().splitlines())
    assert n >= 2  # entry ... exit
    line = next(ln for ln in err.splitlines() if "webhook" in ln and "events:" in ln)
    numbers = dict(
        (word, int(num)) for num, word in
        (part.split()[:2] for part in line.split("events:")[1].split(";")[0].split(","))
    )
    total = int(line.split(" events:")[0].split()[-1])
    assert total == n
    assert numbers["delivered"] == 0
    assert numbers["failed"] + numbers["undelivered"] + numbers["dropped"] == n
