"""The alert outbox: nothing leaves before it is stored, a sink that is down loses
nothing and gets every alert afterwards in order, each with its idempotency key and
signature; permanent refusals are recorded, not retried forever.

What is scaled: the outage test replays 25 minutes of feed at speed 0 and keeps the
receiver down (connection refused) until the replay's feed time passes 10 minutes; on
the wall clock that outage lasts as long as the replay takes to process those 10
minutes (seconds), and the outbox backoff is scaled down from 0.5 s..60 s to
0.02 s..0.2 s. The hour-long outage runs on a simulated clock instead, with the real
backoff schedule.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from incidents.helpers import T0, Receiver, crossing, replay, store_watcher
from loopback import free_port
from skyfence.alerts.outbox import OUTBOX_BACKOFF, FunctionDelivery, OutboxDispatcher
from skyfence.alerts.retry import Backoff
from skyfence.alerts.webhook import WebhookDelivery
from skyfence.incidents.schema import ALERTS, OUTBOX
from skyfence.incidents.store import IncidentStore

SECRET = b"shared secret of the receiver"
FAST = Backoff(first_s=0.02, max_s=0.2)


def wait_until(cond: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def stored_alerts(store: IncidentStore) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(ALERTS.c.seq, ALERTS.c.key, ALERTS.c.incident_id,
                                      ALERTS.c.payload).order_by(ALERTS.c.seq)).all()


@pytest.mark.slow
def test_a_receiver_down_for_ten_minutes_gets_every_alert_in_order(store_url: str) -> None:
    receiver = Receiver(free_port())
    hook = WebhookDelivery(receiver.url, secret=SECRET, timeout_s=2.0)
    data = pd.concat([crossing("R0001", 0.0), crossing("R0002", 400.0),
                      crossing("R0003", 900.0)])
    with IncidentStore.open(store_url) as store:
        dispatcher = OutboxDispatcher(store, [hook], backoff=FAST, poll_s=0.05).start()
        watcher, journal = store_watcher(store, sinks=dispatcher.sinks)
        journal.on_queued = dispatcher.notify
        batches_while_down = 0
        for t in range(0, 1700, 100):  # the replay, in 100 s pieces of feed
            part = data[(data["time"] >= T0 + t) & (data["time"] < T0 + t + 100)]
            replay(watcher, part)
            if t + 100 <= 600:
                batches_while_down += 1
                assert receiver.got == []  # down: nothing can have arrived
            elif receiver._server is None:
                receiver.up()
        states = dispatcher.drain(60.0)
        alerts = stored_alerts(store)
    receiver.down()
    assert batches_while_down == 6
    (st,) = states
    assert (st.delivered, st.pending, st.rejected) == (len(alerts), 0, 0)
    # every alert arrived once, with its key and a valid signature over the exact body
    keys = [h["idempotency-key"] for h, _ in receiver.got]
    assert sorted(keys) == sorted(a.key for a in alerts) and len(set(keys)) == len(keys)
    for h, body in receiver.got:
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(h["x-skyfence-signature"], expected)
    # in order, per incident and overall (the order they were raised)
    assert keys == [a.key for a in alerts]
    got = receiver.events()
    for inc in {a.incident_id for a in alerts if a.incident_id}:
        mine = [e["event"] for e in got if e.get("incident", {}).get("id") == inc]
        assert mine[0] == "entry" and mine[-1] == "exit" and "escalation" in mine
    # the alerts raised during the outage were tried again and again
    with IncidentStore.open(store_url) as store, store.engine.connect() as conn:
        first = conn.execute(sa.select(OUTBOX.c.attempts).order_by(OUTBOX.c.alert_seq)
                             .limit(1)).scalar_one()
    assert first > 3


class FakeClock:
    def __init__(self, t: float) -> None:
        self.t = t
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.t

    def set(self, t: float) -> None:
        with self.lock:
            self.t = t


def test_a_sink_down_for_an_hour_loses_nothing(store_url: str) -> None:
    """Simulated clock, driven event by event (the clock jumps to the next try): the
    sink fails for the first hour. By hand, with the real schedule (0.5 s doubling, at
    most 60 s) the first alert is tried at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, then
    every 60 s from 63.5 s: the last failure at 3543.5 s, the success at 3603.5 s, 67
    attempts; every later alert then goes at its first try."""
    attempts: list[float] = []
    with IncidentStore.open(store_url) as store:
        watcher, _ = store_watcher(store, sinks=["flaky"])
        n_alerts = len(replay(watcher, crossing("R0001", 0.0)))
        clock = FakeClock(time.time() + 1.0)  # every row is due at the start
        start = clock()

        def flaky(event: dict[str, Any]) -> None:
            attempts.append(clock() - start)
            if clock() - start < 3600.0:
                raise ConnectionRefusedError("down")

        def head() -> Any:
            with store.engine.connect() as conn:
                return conn.execute(sa.select(OUTBOX.c.alert_seq, OUTBOX.c.attempts,
                                              OUTBOX.c.next_try_at)
                                    .where(OUTBOX.c.state == "pending")
                                    .order_by(OUTBOX.c.alert_seq).limit(1)).first()

        dispatcher = OutboxDispatcher(store, [FunctionDelivery("flaky", flaky)], clock=clock,
                                      poll_s=0.002).start()
        while (row := head()) is not None:
            clock.set(max(clock(), row.next_try_at))

            def moved(row: Any = row) -> bool:
                now = head()
                return now is None or now.alert_seq != row.alert_seq or \
                    now.attempts > row.attempts
            wait_until(moved, 10.0)
        dispatcher.stop()
    expected = [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5] + [63.5 + 60.0 * k for k in range(60)]
    assert attempts[:67] == pytest.approx(expected, abs=1e-6)
    assert attempts[66] == pytest.approx(3603.5)
    assert attempts[67:] == pytest.approx([3603.5] * (n_alerts - 1))  # nothing lost
    assert Backoff(first_s=0.5, max_s=60.0) == OUTBOX_BACKOFF


def _one_crossing_alerted_to(receiver: Receiver, store: IncidentStore
                             ) -> tuple[list[Any], OutboxDispatcher]:
    """Replay one crossing into ``store`` with ``receiver`` as its webhook, and start the
    outbox dispatcher: (the watcher's output, the running dispatcher)."""
    watcher, _ = store_watcher(store, sinks=[f"webhook:{receiver.url}"])
    out = replay(watcher, crossing("R0001", 0.0))
    d = OutboxDispatcher(store, [WebhookDelivery(receiver.url)], backoff=FAST, poll_s=0.05)
    return out, d.start()


def test_a_refused_alert_is_rejected_and_the_next_ones_go_on(store_url: str) -> None:
    receiver = Receiver(free_port())
    receiver.status = 400
    receiver.up()
    with IncidentStore.open(store_url) as store:
        out, d = _one_crossing_alerted_to(receiver, store)
        (st,) = d.drain(30.0)
    receiver.down()
    # each alert tried exactly once: a 400 is final, and it does not hold up the others
    assert (st.rejected, st.delivered, st.pending) == (len(out), 0, 0)
    assert len(receiver.got) == len(out)


def test_a_503_is_retried_until_accepted(store_url: str) -> None:
    receiver = Receiver(free_port())
    receiver.status = 503
    receiver.up()
    with IncidentStore.open(store_url) as store:
        out, d = _one_crossing_alerted_to(receiver, store)
        wait_until(lambda: len(receiver.got) >= 3)
        assert d.pending() == len(out)  # nothing accepted yet, nothing lost
        receiver.status = 204
        (st,) = d.drain(30.0)
    receiver.down()
    assert (st.delivered, st.pending) == (len(out), 0)
    keys = [h["idempotency-key"] for h, _ in receiver.got]
    assert keys[0] == keys[1] == keys[2]  # the same alert, retried with the same key
    assert list(dict.fromkeys(keys)) == [e["idempotency_key"] for _, e in out]


@pytest.mark.parametrize(("status", "final"), [
    (400, True), (404, True), (410, True), (499, True),  # the receiver will never take it
    (408, False), (425, False), (429, False),  # 4xx that mean "later" (RFC 9110, 8470, 6585)
    (500, False), (502, False), (503, False),  # the receiver's trouble: try again
])
def test_which_answers_are_final_and_which_are_retried(status: int, final: bool) -> None:
    """A 4xx answer refuses the alert for good (``Rejected``: the outbox stops trying),
    except 408 Request Timeout, 425 Too Early and 429 Too Many Requests, which, like
    every 5xx, ask for a later attempt (an ordinary error: the outbox retries)."""
    from skyfence.alerts.retry import Rejected

    receiver = Receiver(free_port())
    receiver.status = status
    receiver.up()
    try:
        hook = WebhookDelivery(receiver.url, timeout_s=2.0)
        with pytest.raises(Exception) as err:
            hook.deliver(b"{}", {}, "key-1")
    finally:
        receiver.down()
    assert isinstance(err.value, Rejected) is final
    assert len(receiver.got) == 1
