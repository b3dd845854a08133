"""The TCP feed client against a loopback server: batches, partial reads, reconnects, stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pandas as pd
import pytest
from feed_helpers import LoopbackServer, data_path, recorded_frames

from loopback import free_port
from skyfence.errors import FeedError
from skyfence.sources.beast import BeastFramer
from skyfence.sources.feed import FeedClient, iter_feed
from skyfence.sources.modes import make_decoder
from skyfence.sources.sbs import SbsParser


class Consumer:
    """Iterates a feed client in a thread and keeps the batches."""

    def __init__(self, client: FeedClient) -> None:
        self.client = client
        self.batches: list[pd.DataFrame] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for batch in self.client:
                self.batches.append(batch)
        except BaseException as exc:
            self.error = exc

    def rows(self) -> pd.DataFrame:
        return pd.concat([b for b in self.batches if len(b)], ignore_index=True)

    def wait_for(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, self.client.stats
            time.sleep(0.01)

    def finish(self) -> None:
        self.client.stop()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


def send_in_pieces(server: LoopbackServer, data: bytes, size: int, pause: float = 0.0) -> None:
    for i in range(0, len(data), size):
        server.send(data[i : i + size])
        if pause:
            time.sleep(pause)


def test_sbs_feed_with_lines_split_across_reads(loopback_server: LoopbackServer) -> None:
    data = data_path("dump1090_sbs.txt").read_bytes()
    expected = SbsParser().parse_lines(data.decode().splitlines())
    consumer = Consumer(iter_feed("sbs", "127.0.0.1", loopback_server.port))
    send_in_pieces(loopback_server, data, 37, pause=0.001)
    consumer.wait_for(lambda: consumer.client.stats.lines == len(data.splitlines()))
    consumer.finish()
    got = consumer.rows()
    pd.testing.assert_frame_equal(got, expected)
    assert consumer.client.stats.positions == len(expected)
    assert consumer.client.stats.malformed == 0 and consumer.client.stats.batches > 1


def test_beast_feed_with_frames_split_across_reads(loopback_server: LoopbackServer) -> None:
    data = data_path("dump1090_beast.bin").read_bytes()
    consumer = Consumer(iter_feed("beast", "127.0.0.1", loopback_server.port))
    began = time.time()
    send_in_pieces(loopback_server, data, 5, pause=0.0005)
    consumer.wait_for(lambda: consumer.client.stats.frames == 130)
    consumer.finish()
    got = consumer.rows()
    assert len(got) == 16 and set(got.icao24) == {"393322"}
    assert got.time.between(began, time.time()).all()  # arrival time
    direct = make_decoder().decode(BeastFramer().feed(data).hex, [0.0] * 130)
    pd.testing.assert_frame_equal(
        got[["lat", "lon", "callsign"]], direct[["lat", "lon", "callsign"]]
    )


def test_raw_feed_counts_malformed_and_keeps_going(loopback_server: LoopbackServer) -> None:
    _, frames = recorded_frames()
    lines = [f"*{f};" for f in frames[:400]]
    lines[10] = "*NOT-A-FRAME;"
    lines[20] = "@0000"
    payload = ("\n".join(lines) + "\n").encode()
    consumer = Consumer(iter_feed("raw", "127.0.0.1", loopback_server.port, ref=(49.0, 2.5)))
    send_in_pieces(loopback_server, payload, 1000)
    consumer.wait_for(lambda: consumer.client.stats.lines == 400)
    consumer.finish()
    assert consumer.client.stats.frames == 398
    assert consumer.client.stats.malformed == 2
    assert consumer.client.stats.messages == 398


def test_reconnects_with_backoff_after_the_server_restarts() -> None:
    lines = data_path("dump1090_sbs.txt").read_text().splitlines(keepends=True)
    first, second = "".join(lines[:60]).encode(), "".join(lines[60:]).encode()
    server = LoopbackServer().start()
    client = FeedClient("sbs", "127.0.0.1", server.port, backoff_initial_s=0.05, backoff_max_s=0.2)
    consumer = Consumer(client)
    server.send(first)
    consumer.wait_for(lambda: client.stats.lines == 60)
    server.stop()  # the receiver goes down: connection dropped, nothing listening
    consumer.wait_for(lambda: client.stats.connect_failures >= 2)
    server.start()  # ... and comes back on the same port
    server.send(second)
    consumer.wait_for(lambda: client.stats.lines == len(lines))
    consumer.finish()
    server.stop()
    assert client.stats.connects == 2 and client.stats.reconnects == 1
    assert consumer.error is None
    expected = SbsParser().parse_lines([ln.rstrip("\n") for ln in lines])
    assert len(consumer.rows()) == len(expected)


def test_gives_up_after_max_retries_with_growing_delays() -> None:
    port = free_port()  # nothing listens there
    client = FeedClient(
        "sbs", "127.0.0.1", port, backoff_initial_s=0.05, backoff_max_s=0.1, max_retries=4
    )
    began = time.monotonic()
    with pytest.raises(FeedError, match="unreachable after 5 attempts"):
        list(client)
    elapsed = time.monotonic() - began
    assert client.stats.connect_failures == 5
    assert 0.05 + 0.1 * 3 <= elapsed < 3.0  # 0.05, then doubled and capped at 0.1


def test_stop_ends_iteration_while_waiting_to_reconnect() -> None:
    stop = threading.Event()
    client = FeedClient("beast", "127.0.0.1", free_port(), stop=stop, backoff_initial_s=30.0)
    consumer = Consumer(client)
    consumer.wait_for(lambda: client.stats.connect_failures == 1)
    began = time.monotonic()
    stop.set()
    consumer.thread.join(timeout=5)
    assert not consumer.thread.is_alive() and time.monotonic() - began < 1.0
    assert consumer.error is None


def test_heartbeat_yields_empty_batches_on_a_silent_feed(loopback_server: LoopbackServer) -> None:
    client = FeedClient("sbs", "127.0.0.1", loopback_server.port, heartbeat_s=0.05)
    consumer = Consumer(client)
    consumer.wait_for(lambda: len(consumer.batches) >= 3)
    consumer.finish()
    assert all(b.empty for b in consumer.batches)
    assert list(consumer.batches[0].columns)[:4] == ["time", "icao24", "lat", "lon"]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="feed kind"):
        FeedClient("asterix", "127.0.0.1", 1)  # type: ignore[arg-type]
