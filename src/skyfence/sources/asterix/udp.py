"""ASTERIX received live over UDP, one :class:`~.read.AsterixData` per time batch."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time
from collections.abc import Callable, Iterator, Sequence

from skyfence.errors import ErrorPolicy, OnError
from skyfence.radar import RadarSite
from skyfence.sources.asterix.read import AsterixData, finish
from skyfence.sources.asterix.records import RecordColumns

__all__ = ["listen_udp"]

log = logging.getLogger(__name__)


def listen_udp(
    port: int,
    host: str = "127.0.0.1",
    *,
    sites: Sequence[RadarSite] = (),
    date: dt.date | str | None = None,
    batch_s: float = 1.0,
    max_batches: int | None = None,
    idle_timeout_s: float | None = None,
    on_error: OnError = "skip",
    sock: socket.socket | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterator[AsterixData]:
    """Receive ASTERIX datagrams on UDP and yield one :class:`AsterixData` per batch.

    A batch closes every ``batch_s`` seconds (empty batches are not yielded). The
    listener stops after ``max_batches`` batches, when nothing arrives for
    ``idle_timeout_s``, or when ``stop()`` is true. Bad datagrams are counted and skipped
    by default: a feed keeps going (the first one is logged; each batch counts its own).
    Pass ``sock`` to use an already bound socket.
    """
    own = sock is None
    if sock is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, port))
    sock.settimeout(min(batch_s, idle_timeout_s or batch_s))
    source = f"udp:{host}:{port}"
    policy = ErrorPolicy(on_error, keep=None, logger=log)
    try:
        emitted, last_rx = 0, time.monotonic()
        while max_batches is None or emitted < max_batches:
            if stop is not None and stop():
                return
            cols = RecordColumns(source, policy)
            deadline = time.monotonic() + batch_s
            while time.monotonic() < deadline and not (stop is not None and stop()):
                try:
                    payload = sock.recv(65535)
                except TimeoutError:
                    if idle_timeout_s is not None and time.monotonic() - last_rx > idle_timeout_s:
                        break
                    continue
                last_rx = time.monotonic()
                cols.add_payload(payload, time.time())
            if cols.records or policy.skipped:
                emitted += 1
                yield finish(cols, sites, date, None)
            if idle_timeout_s is not None and time.monotonic() - last_rx > idle_timeout_s:
                return
    finally:
        if own:
            sock.close()
