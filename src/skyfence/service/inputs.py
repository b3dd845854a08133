"""Several live sources at once, merged into one stream of batches for the watcher.

Each source runs in its own thread and puts what it reads on one queue: a TCP feed
(SBS, Beast, raw Mode S: :class:`~skyfence.sources.feed.FeedClient`) puts observation
batches, an ASTERIX UDP listener puts radar plots and system tracks. The watcher takes
them in arrival order; when nothing arrives for ``heartbeat_s`` it gets an empty batch,
so that it can expire silent tracks and print its summary on a quiet night.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pandas as pd

from skyfence.radar import RadarSite

log = logging.getLogger(__name__)

__all__ = ["LiveBatch", "LiveInputs"]


@dataclass
class LiveBatch:
    """What one source delivered (all None for a heartbeat)."""

    observations: pd.DataFrame | None = None
    plots: pd.DataFrame | None = None
    tracks: pd.DataFrame | None = None
    received_at: float = field(default_factory=time.time)


@dataclass
class _UdpStats:
    batches: int = 0
    records: int = 0
    skipped: int = 0

    def summary(self) -> str:
        return f"{self.records:,} ASTERIX records in {self.batches:,} batches, " \
               f"{self.skipped} skipped"


class LiveInputs:
    """Runs the sources in threads and yields their batches as they come.

    Parameters
    ----------
    feeds
        TCP feed clients (iterables of observation batches with ``stats`` and ``close``).
    asterix_udp
        ``(host, port)`` pairs to listen on for ASTERIX datagrams.
    sites, date
        Radar sites and UTC date for decoding CAT048 from UDP.
    stop
        Set to end every source.
    """

    def __init__(self, feeds: Sequence[object] = (),
                 asterix_udp: Sequence[tuple[str, int]] = (), *,
                 sites: Sequence[RadarSite] = (), date: str | None = None,
                 stop: threading.Event | None = None, heartbeat_s: float = 1.0) -> None:
        self.feeds = list(feeds)
        self.udp = list(asterix_udp)
        self.sites = list(sites)
        self.date = date
        self.stop = stop or threading.Event()
        self.heartbeat_s = heartbeat_s
        self.udp_stats = [_UdpStats() for _ in self.udp]
        self._queue: queue.Queue[LiveBatch] = queue.Queue(maxsize=1000)
        self._threads: list[threading.Thread] = []

    def summary(self) -> str:
        """One line on every source (a single feed: its own line, as before)."""
        parts = [f.stats.summary() for f in self.feeds]  # type: ignore[attr-defined]
        parts += [f"udp {h}:{p}: {s.summary()}" for (h, p), s in
                  zip(self.udp, self.udp_stats, strict=True)]
        return "; ".join(parts)

    def __iter__(self) -> Iterator[LiveBatch]:
        self._start()
        while True:
            try:
                yield self._queue.get(timeout=self.heartbeat_s)
            except queue.Empty:
                if self.stop.is_set() or not any(t.is_alive() for t in self._threads):
                    return
                yield LiveBatch()

    def close(self) -> None:
        """Stop every source and wait (briefly) for their threads."""
        self.stop.set()
        for f in self.feeds:
            f.stop()  # type: ignore[attr-defined]  # each thread ends at its next read
        for t in self._threads:
            t.join(timeout=2.0)
        for f in self.feeds:
            f.close()  # type: ignore[attr-defined]

    def _start(self) -> None:
        if self._threads:
            return
        for k, f in enumerate(self.feeds):
            self._spawn(self._run_feed, (f,), f"feed-{k}")
        for i, (host, port) in enumerate(self.udp):
            self._spawn(self._run_udp, (host, port, i), f"udp-{port}")

    def _spawn(self, target: Callable[..., None], args: tuple[object, ...], name: str) -> None:
        t = threading.Thread(target=target, args=args, name=f"skyfence-{name}", daemon=True)
        t.start()
        self._threads.append(t)

    def _put(self, batch: LiveBatch) -> None:
        while not self.stop.is_set():
            try:
                self._queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                log.warning("watch is falling behind its sources: input queue full")

    def _run_feed(self, feed: object) -> None:
        for batch in feed:  # type: ignore[attr-defined]
            if self.stop.is_set():
                return
            if len(batch):
                self._put(LiveBatch(observations=batch,
                                    received_at=batch.attrs.get("received_at", time.time())))

    def _run_udp(self, host: str, port: int, i: int) -> None:
        from skyfence.sources.asterix import listen_udp

        stats = self.udp_stats[i]
        try:
            for data in listen_udp(port, host, sites=self.sites, date=self.date,
                                   batch_s=0.5, stop=self.stop.is_set):
                stats.batches += 1
                stats.records += data.records
                stats.skipped += data.skipped
                self._put(LiveBatch(plots=data.plots if len(data.plots) else None,
                                    tracks=data.tracks if len(data.tracks) else None))
        except OSError as exc:
            log.error("ASTERIX UDP %s:%d: %s", host, port, exc.strerror or exc)
