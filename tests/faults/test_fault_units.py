"""The fixes the fault tests called for, each on its own and fast: a stalled feed
connection is given up and reconnected with one line, an outbox sink that goes down and
comes back is one line each way, and fixes whose write failed are kept for the next."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from skyfence.alerts.outbox import FunctionDelivery, OutboxDispatcher
from skyfence.alerts.retry import Backoff
from skyfence.incidents.recorder import ObservationRecorder, read_observations
from skyfence.incidents.store import IncidentStore
from skyfence.model import make_observations
from skyfence.sources.feed import FeedClient

pytestmark = pytest.mark.timeout(60)

SBS = (b"MSG,3,1,1,4CA2D6,1,2025/09/19,06:30:00.000,2025/09/19,06:30:00.000,,30000,,,"
       b"59.00000,25.00000,,,0,0,0,0\r\n")


class SilentServer:
    """Accepts every connection and holds it open; sends one SBS line on the
    connections numbered in ``talk_on`` (1-based), nothing on the others."""

    def __init__(self, talk_on: set[int]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.talk_on = talk_on
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(c)
            if len(self.conns) in self.talk_on:
                c.sendall(SBS)

    def close(self) -> None:
        self.listener.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def silent_then_talking() -> Iterator[SilentServer]:
    server = SilentServer(talk_on={1, 4})
    yield server
    server.close()


def test_a_stalled_connection_is_reconnected_with_one_line(
        silent_then_talking: SilentServer, caplog: pytest.LogCaptureFixture) -> None:
    # connection 1 brings a line, then nothing: a stall after 0.3 s; connections 2 and 3
    # bring nothing (a quiet receiver: no new warning); connection 4 brings data again
    client = FeedClient("sbs", "127.0.0.1", silent_then_talking.port, idle_s=0.3,
                        heartbeat_s=0.05, backoff_initial_s=0.01)
    lines: list[int] = []

    def consume() -> None:
        for batch in client:
            lines.append(len(batch))

    with caplog.at_level(logging.DEBUG, logger="skyfence.sources.feed"):
        t = threading.Thread(target=consume, daemon=True)
        t.start()
        deadline = time.monotonic() + 20
        while client.stats.lines < 2:
            assert time.monotonic() < deadline, client.stats
            time.sleep(0.02)
        client.stop()
        t.join(5)
    assert len(silent_then_talking.conns) == 4 and client.stats.stalls == 3
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned == [
        f"sbs feed: 127.0.0.1:{silent_then_talking.port}: no data for 0.3 s (stalled link "
        "or no traffic); reconnecting",
        f"sbs feed 127.0.0.1:{silent_then_talking.port}: data again after "
        f"{warned[-1].split('after ')[1].split(' s')[0]} s of silence"]
    # the silence lasted three idle periods at least (connections 1, 2 and 3)
    assert float(warned[-1].split("after ")[1].split(" s")[0]) >= 0.9 - 0.5  # %.0f rounding
    assert "3 stalls" in client.stats.summary()


def test_idle_must_be_positive() -> None:
    with pytest.raises(ValueError, match="idle_s"):
        FeedClient("sbs", "127.0.0.1", 30003, idle_s=0)


def test_a_sink_down_then_back_is_one_line_each_way(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from incidents.helpers import crossing, replay, store_watcher

    calls = {"n": 0}
    got: list[dict[str, Any]] = []

    def flaky(event: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] <= 5:  # the first five attempts fail: the sink is down
            raise ConnectionRefusedError("refused")
        got.append(event)

    with IncidentStore.open(tmp_path / "s.sqlite") as store, \
            caplog.at_level(logging.DEBUG, logger="skyfence.alerts.outbox"):
        dispatcher = OutboxDispatcher(store, [FunctionDelivery("flaky", flaky)],
                                      backoff=Backoff(first_s=0.01, max_s=0.02), poll_s=0.02)
        watcher, _ = store_watcher(store, sinks=dispatcher.sinks)
        replay(watcher, crossing("R0001", 0.0))
        watcher.close()
        dispatcher.start()
        states = dispatcher.drain(20.0)
    assert states[0].delivered == len(got) > 0 and states[0].pending == 0
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 2, warned
    assert warned[0] == ("outbox flaky: cannot deliver (ConnectionRefusedError: refused); "
                         "alerts are kept in the store and retried until it answers")
    assert warned[1].startswith("outbox flaky: delivering again after ")
    assert "(5 failed attempts); " in warned[1]
    # what was still to send when it came back: every alert but the one just delivered
    assert warned[1].endswith(f"; {len(got) - 1} alert(s) still to send")


def test_fixes_whose_write_failed_are_written_by_the_next_flush(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        rec = ObservationRecorder(store)
        rec.follow("aaa111", until=1e9)
        real = store.insert_new
        fail = {"left": 1}

        def once_away(*args: Any) -> int:
            if fail["left"]:
                fail["left"] -= 1
                raise sa.exc.OperationalError("INSERT", {}, Exception("server closed"))
            return real(*args)

        monkeypatch.setattr(store, "insert_new", once_away)
        fixes = make_observations(time=[0.0, 1.0, 2.0], icao24=["aaa111"] * 3,
                                  lat=[59.0] * 3, lon=[25.0] * 3)
        rec.add(fixes, 2.0, write=False)
        with pytest.raises(sa.exc.OperationalError):
            rec.flush()
        rec.flush()  # the store is back
        assert list(read_observations(store, "aaa111", 0, 10)["time"]) == [0.0, 1.0, 2.0]


def test_the_journal_retries_its_reads_too(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL restarting under watch failed a read of the next timer (not only the
    writes): every store call of the journal is retried while the database is away."""
    import skyfence.incidents.journal as journal_module
    from incidents.helpers import crossing, replay, store_watcher

    real = journal_module.next_due
    fail = {"left": 0}

    def flaky_next_due(*args: Any) -> float | None:
        if fail["left"]:
            fail["left"] -= 1
            raise sa.exc.OperationalError("SELECT", {}, Exception("the database system is "
                                                                  "shutting down"))
        return real(*args)

    monkeypatch.setattr(journal_module, "next_due", flaky_next_due)
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        watcher, _ = store_watcher(store)
        fail["left"] = 2  # the read after the entry is stored fails twice
        events = [e for _, e in replay(watcher, crossing("R0001", 0.0))]
    assert fail["left"] == 0
    kinds = [e["event"] for e in events]
    assert kinds.count("entry") == 1 and kinds.count("exit") == 1
    assert kinds.count("escalation") == 2  # the timers were read again and fired
