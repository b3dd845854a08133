"""A feed client that cannot connect is never silent and never stuck: it yields
heartbeats while refused, while a connect hangs and while waiting to retry, logs each
failure, says so in its stats, and refuses ports that cannot exist."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from feed_helpers import LoopbackServer, data_path

from loopback import free_port
from skyfence.sources.feed import FeedClient

pytestmark = pytest.mark.timeout(30)


class Consumer:
    """Iterates a feed client in a thread; records when each batch arrived."""

    def __init__(self, client: FeedClient) -> None:
        self.client = client
        self.batches: list[tuple[float, pd.DataFrame]] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for batch in self.client:
                self.batches.append((time.monotonic(), batch))
        except BaseException as exc:
            self.error = exc

    def wait_for(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, (self.client.stats, self.error)
            time.sleep(0.01)

    def finish(self) -> float:
        """Stop the client; return how long the iteration took to end."""
        began = time.monotonic()
        self.client.stop()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()
        assert self.error is None
        return time.monotonic() - began


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """A loopback port whose connects hang: a listener that never accepts, its accept
    queue filled, so that the kernel drops further SYNs (as a firewalled host does)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    deadline = time.monotonic() + 5
    while True:  # connect until one does not complete: the queue is full
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect(("127.0.0.1", port))
        except TimeoutError:
            s.close()
            break
        fillers.append(s)
        assert time.monotonic() < deadline, "the accept queue never filled"
    yield port
    for s in fillers:
        s.close()
    listener.close()


def test_heartbeats_while_refused_and_waiting_to_retry() -> None:
    # nothing listens; the first retry waits 2 s: the heartbeats must go on meanwhile
    client = FeedClient("sbs", "127.0.0.1", free_port(), heartbeat_s=0.05,
                        backoff_initial_s=2.0, backoff_max_s=2.0)
    consumer = Consumer(client)
    consumer.wait_for(lambda: len(consumer.batches) >= 5)
    assert client.stats.connect_failures == 1  # all of them within the first backoff
    assert consumer.finish() < 1.0
    assert all(b.empty for _, b in consumer.batches)
    times = [t for t, _ in consumer.batches]
    assert max(b - a for a, b in itertools.pairwise(times)) < 0.5


def test_heartbeats_while_a_connect_hangs(hanging_port: int) -> None:
    client = FeedClient("sbs", "127.0.0.1", hanging_port, heartbeat_s=0.05,
                        connect_timeout_s=20.0)
    consumer = Consumer(client)
    consumer.wait_for(lambda: len(consumer.batches) >= 5)
    # still inside the first connect: neither connected nor failed yet
    assert client.stats.connects == 0 and client.stats.connect_failures == 0
    assert consumer.finish() < 1.0  # and stopping does not wait for the connect timeout


def test_a_hanging_connect_times_out_and_counts_as_a_failure(hanging_port: int) -> None:
    client = FeedClient("sbs", "127.0.0.1", hanging_port, connect_timeout_s=0.3,
                        backoff_initial_s=5.0)
    consumer = Consumer(client)
    consumer.wait_for(lambda: client.stats.connect_failures == 1)
    assert client.stats.last_error is not None and "timed out" in client.stats.last_error
    consumer.finish()


def test_each_failed_connect_is_logged_and_shown_in_the_stats(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    client = FeedClient("beast", "127.0.0.1", port, backoff_initial_s=0.02,
                        backoff_max_s=0.05)
    with caplog.at_level(logging.WARNING, logger="skyfence.sources.feed"):
        consumer = Consumer(client)
        consumer.wait_for(lambda: client.stats.connect_failures >= 3)
        consumer.finish()
    failures = [r for r in caplog.records if r.name == "skyfence.sources.feed"
                and f"127.0.0.1:{port}" in r.getMessage()]
    assert len(failures) == client.stats.connect_failures
    summary = client.stats.summary()
    assert summary.startswith(f"not connected, {client.stats.connect_failures} attempts")
    assert "refused" in summary.lower()


def test_stats_say_connected_then_not_connected_when_the_receiver_goes(
    loopback_server: LoopbackServer,
) -> None:
    client = FeedClient("sbs", "127.0.0.1", loopback_server.port, backoff_initial_s=5.0)
    consumer = Consumer(client)
    loopback_server.send(data_path("dump1090_sbs.txt").read_bytes()[:2000])
    consumer.wait_for(lambda: client.stats.lines > 0)
    assert client.stats.connected and "not connected" not in client.stats.summary()
    loopback_server.stop()
    consumer.wait_for(lambda: not client.stats.connected)
    consumer.wait_for(lambda: client.stats.connect_failures >= 1)
    summary = client.stats.summary()
    assert summary.startswith("not connected, 1 attempts")
    assert "1 failed connects" in summary
    consumer.finish()


@pytest.mark.parametrize("port", [0, -1, 65536, 99999])
def test_impossible_ports_are_refused(port: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.65535"):
        FeedClient("sbs", "127.0.0.1", port)
