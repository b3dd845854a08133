"""Live feeds over TCP: SBS, Beast and raw hex from a receiver, as observation batches.

:func:`iter_feed` connects to a receiver (dump1090, readsb...) and yields
observation DataFrames as data arrives. It reconnects with exponential backoff
(capped) when the connection fails or drops, stops cleanly when a
:class:`threading.Event` is set, and counts what it read and dropped in
:class:`~skyfence.sources.feed_stats.FeedStats`. Batches are cut adaptively: as soon
as the socket has nothing more to read, or after ``batch_messages`` items or
``batch_interval_s`` seconds, whichever comes first; a quiet feed therefore adds no
batching delay and a busy one gets large, cheap batches. The bytes become observations
in a :class:`~skyfence.sources.stream_decoder.StreamDecoder`.

A client is never silent: while it connects, waits to reconnect or reads nothing,
it yields an empty batch every ``heartbeat_s`` (when set), so that the consumer can
print its stats line; each failed connect and each reconnect is logged (logger
``skyfence.sources.feed``) and kept in :attr:`FeedStats.last_error`. Connects are
non-blocking for that reason: a host that drops SYNs holds the client for
``connect_timeout_s`` but never holds up the heartbeat. Only the name look-up
(``getaddrinfo``) blocks. Malformed lines and frames are counted and skipped; the
first of each stream is logged (loggers ``skyfence.sources.sbs`` and ``.rawhex``).

Times: SBS lines carry their own (generated date/time); Beast and raw frames read
live are stamped with their arrival time (unix s) because the Beast MLAT counter
is relative. Recorded files of these formats are read by
:mod:`skyfence.sources.modes_files`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

import pandas as pd

from skyfence.errors import FeedError
from skyfence.model import empty_observations
from skyfence.sources.feed_stats import FeedStats
from skyfence.sources.modes import ModeSDecoder, make_decoder
from skyfence.sources.stream_decoder import FeedKind, StreamDecoder

__all__ = ["DEFAULT_PORTS", "FeedClient", "FeedKind", "FeedStats", "iter_feed"]

#: Default TCP ports of dump1090 / readsb.
DEFAULT_PORTS: dict[str, int] = {"raw": 30002, "sbs": 30003, "beast": 30005}
#: The TCP ports one can connect to.
PORT_RANGE = range(1, 65536)

log = logging.getLogger(__name__)


class FeedClient(Iterator[pd.DataFrame]):
    """A TCP client of an SBS, Beast or raw hex feed; iterate it for observation batches.

    Parameters
    ----------
    kind
        ``"sbs"`` (port 30003), ``"beast"`` (30005) or ``"raw"`` (30002).
    host, port
        Where the receiver listens.
    ref
        Receiver position ``(lat, lon)`` for local CPR decoding (Beast, raw).
    decoder
        Mode S backend name (``"rs1090"``, ``"pymodes"``) or a decoder instance.
    stop
        Set this event to end the iteration cleanly (pending data is yielded first).
    batch_messages, batch_interval_s
        Upper bounds of a batch, in items (lines or frames) and in seconds.
    heartbeat_s
        When set, an empty batch is yielded after this long without one, so that a
        consumer can expire state and print summaries on a silent feed.
    backoff_initial_s, backoff_max_s
        First delay before a reconnect, doubled after each failure up to the cap.
    idle_s
        A connection that brings no byte for this long is taken for a stalled link (a
        receiver or a network path that vanished without closing the connection: TCP
        does not notice) and reconnected; None waits forever. The first reconnect of a
        silence is a warning; while the new connections stay silent too (a receiver
        with no traffic), the next ones are logged at debug level, and the first data
        after it is one line again.
    max_retries
        Consecutive failed connects before :class:`FeedError`; None retries forever.
    tz
        Time zone of SBS date/time fields.
    """

    def __init__(
        self,
        kind: FeedKind,
        host: str,
        port: int,
        *,
        ref: tuple[float, float] | None = None,
        decoder: str | ModeSDecoder | None = None,
        stop: threading.Event | None = None,
        batch_messages: int = 5000,
        batch_interval_s: float = 0.1,
        heartbeat_s: float | None = None,
        connect_timeout_s: float = 5.0,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 10.0,
        max_retries: int | None = None,
        idle_s: float | None = None,
        tz: str = "UTC",
    ) -> None:
        if kind not in DEFAULT_PORTS:
            raise ValueError(f"feed kind must be one of {sorted(DEFAULT_PORTS)}, not {kind!r}")
        if isinstance(port, bool) or int(port) != port or int(port) not in PORT_RANGE:
            raise ValueError(f"feed port must be 1..65535, not {port!r}")
        self.kind = kind
        self.host = host
        self.port = int(port)
        self.stop_event = stop if stop is not None else threading.Event()
        self.batch_messages = batch_messages
        self.batch_interval_s = batch_interval_s
        self.heartbeat_s = heartbeat_s
        self.connect_timeout_s = connect_timeout_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.max_retries = max_retries
        if idle_s is not None and not idle_s > 0:
            raise ValueError(f"feed idle_s must be > 0, not {idle_s!r}")
        self.idle_s = idle_s
        #: monotonic time of the last byte while a silence is going on, else None
        self._silent_since: float | None = None
        self.stats = FeedStats()
        mode_s: ModeSDecoder | None = None
        if kind != "sbs":
            mode_s = (
                decoder if isinstance(decoder, ModeSDecoder) else make_decoder(decoder, ref=ref)
            )
        self.decoder = mode_s
        self._pipeline = StreamDecoder(kind, source=f"{host}:{port}", decoder=mode_s, tz=tz)
        self._it = self._run()

    def __next__(self) -> pd.DataFrame:
        return next(self._it)

    def stop(self) -> None:
        """Ask the iteration to end (thread-safe)."""
        self.stop_event.set()

    def close(self) -> None:
        """End the iteration now and close the connection.

        When another thread is inside the iteration (a reading thread of
        :class:`~skyfence.service.inputs.LiveInputs`), the generator cannot be closed
        from here; the stop event set first ends it at its next read instead."""
        self.stop_event.set()
        with contextlib.suppress(ValueError):  # "generator already executing" elsewhere
            self._it.close()

    def _run(self) -> Generator[pd.DataFrame, None, None]:
        self._last_yield = time.monotonic()
        while not self.stop_event.is_set():
            sock = yield from self._connect()
            if sock is None:
                break
            try:
                yield from self._read(sock)
            finally:
                self.stats.connected = False
                sock.close()
        if self._pipeline.pending:
            yield self._emit()

    def _heartbeat_due(self) -> bool:
        """Whether an empty batch is owed to the consumer now (and mark it given)."""
        now = time.monotonic()
        if self.heartbeat_s is None or now - self._last_yield < self.heartbeat_s:
            return False
        self._last_yield = now
        self._pipeline.update(self.stats)
        return True

    def _wait(self, delay_s: float) -> Generator[pd.DataFrame, None, bool]:
        """Sleep ``delay_s``, yielding heartbeats; False when stopped meanwhile."""
        end = time.monotonic() + delay_s
        while (left := end - time.monotonic()) > 0:
            step = left if self.heartbeat_s is None else min(left, self.heartbeat_s)
            if self.stop_event.wait(step):
                return False
            if self._heartbeat_due():
                yield empty_observations()
        return not self.stop_event.is_set()

    def _connect(self) -> Generator[pd.DataFrame, None, socket.socket | None]:
        """A connected socket, retrying with capped backoff; None when stopped."""
        delay = self.backoff_initial_s
        while not self.stop_event.is_set():
            try:
                sock = yield from self._attempt()
            except OSError as exc:
                self.stats.failed_attempts += 1
                self.stats.connect_failures += 1
                self.stats.last_error = f"connect to {self.host}:{self.port}: {_reason(exc)}"
                if self.max_retries is not None and self.stats.failed_attempts > self.max_retries:
                    raise FeedError(
                        f"{self.kind} feed {self.host}:{self.port} unreachable after "
                        f"{self.stats.failed_attempts} attempts: {_reason(exc)}"
                    ) from exc
                log.warning("%s feed: %s (attempt %d); retrying in %.1f s", self.kind,
                            self.stats.last_error, self.stats.failed_attempts, delay)
                if not (yield from self._wait(delay)):
                    return None
                delay = min(delay * 2.0, self.backoff_max_s)
                continue
            if sock is None:
                return None
            if self.stats.connects:
                self.stats.reconnects += 1
                # after a stall of a feed that stays silent: not a line a minute
                log.log(logging.DEBUG if self._silent_since is not None else logging.INFO,
                        "%s feed %s:%d: reconnected", self.kind, self.host, self.port)
            self.stats.connects += 1
            self.stats.connected = True
            self.stats.failed_attempts = 0
            self._pipeline.reset()
            return sock
        return None

    def _attempt(self) -> Generator[pd.DataFrame, None, socket.socket | None]:
        """One connect to every address of the host in turn, without blocking the
        heartbeat; raises the last :class:`OSError`, returns None when stopped."""
        last: OSError = OSError(f"no address for {self.host}")
        for family, kind, proto, _, addr in socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM
        ):
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)
                code = sock.connect_ex(addr)
                if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
                    raise OSError(code, os.strerror(code))
                deadline = time.monotonic() + self.connect_timeout_s
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("timed out")
                    _, ready, _ = select.select([], [sock], [], min(left, 0.05))
                    if ready:
                        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if code:
                            raise OSError(code, os.strerror(code))
                        return sock
                    if self.stop_event.is_set():
                        sock.close()
                        return None
                    if self._heartbeat_due():
                        yield empty_observations()
            except OSError as exc:
                sock.close()
                last = exc
        raise last

    def _read(self, sock: socket.socket) -> Iterator[pd.DataFrame]:
        """Yield batches from one connection until it closes or the stop event is set."""
        poll = max(0.01, min(0.05, self.batch_interval_s))
        sock.settimeout(poll)
        pending_since: float | None = None
        self._received_at: float | None = None
        last_byte = time.monotonic()
        while not self.stop_event.is_set():
            try:
                data: bytes | None = sock.recv(1 << 16)
            except TimeoutError:
                data = None
                if self.idle_s is not None and time.monotonic() - last_byte >= self.idle_s:
                    self._stalled(last_byte)
                    if self._pipeline.pending:
                        yield self._emit()
                    return
            except OSError as exc:
                lost = f"connection lost: {_reason(exc)}"
                data = b""
            else:
                lost = "connection closed by the receiver"
                if data:
                    last_byte = time.monotonic()
                    if self._silent_since is not None:
                        log.warning("%s feed %s:%d: data again after %.0f s of silence",
                                    self.kind, self.host, self.port,
                                    last_byte - self._silent_since)
                        self._silent_since = None
            if data == b"":
                self.stats.connected = False
                self.stats.last_error = f"{self.host}:{self.port}: {lost}"
                log.warning("%s feed: %s; reconnecting", self.kind, self.stats.last_error)
                if self._pipeline.pending:
                    yield self._emit()
                return
            now = time.monotonic()
            if data:
                self.stats.bytes += len(data)
                wall = time.time()
                self._pipeline.feed(data, wall)
                if pending_since is None and self._pipeline.pending:
                    pending_since = now
                    self._received_at = wall
            if self._pipeline.pending and (
                self._pipeline.pending >= self.batch_messages
                or now - (pending_since or now) >= self.batch_interval_s
                or not _readable(sock)
            ):
                pending_since = None
                self._last_yield = now
                yield self._emit()
            elif self._heartbeat_due():
                yield empty_observations()

    def _stalled(self, last_byte: float) -> None:
        """No byte for ``idle_s``: say so (once per silence) before reconnecting."""
        self.stats.connected = False
        self.stats.stalls += 1
        self.stats.last_error = (f"{self.host}:{self.port}: no data for {self.idle_s:g} s "
                                 "(stalled link or no traffic)")
        if self._silent_since is None:
            self._silent_since = last_byte
            log.warning("%s feed: %s; reconnecting", self.kind, self.stats.last_error)
        else:
            log.debug("%s feed: %s; reconnecting", self.kind, self.stats.last_error)

    def _emit(self) -> pd.DataFrame:
        obs = self._pipeline.flush()
        self._pipeline.update(self.stats)
        self.stats.batches += 1
        # wall-clock time the batch's first bytes arrived: alert latency starts there
        obs.attrs["received_at"] = getattr(self, "_received_at", None) or time.time()
        self._received_at = None
        return obs


def _reason(exc: OSError) -> str:
    """An OS error as a short phrase (``strerror`` without the errno prefix)."""
    return exc.strerror or str(exc) or type(exc).__name__


def _readable(sock: socket.socket) -> bool:
    """Whether more data can be read without waiting."""
    ready, _, _ = select.select([sock], [], [], 0)
    return bool(ready)


def iter_feed(
    kind: FeedKind,
    host: str,
    port: int,
    *,
    ref: tuple[float, float] | None = None,
    stop: threading.Event | None = None,
    **options: Any,
) -> FeedClient:
    """Observation batches from a live feed; see :class:`FeedClient` for ``options``.

    Examples
    --------
    >>> import threading
    >>> stop = threading.Event()
    >>> feed = iter_feed("sbs", "127.0.0.1", 30003, stop=stop)  # doctest: +SKIP
    >>> for batch in feed:  # doctest: +SKIP
    ...     print(len(batch), feed.stats.summary())
    """
    return FeedClient(kind, host, port, ref=ref, stop=stop, **options)
