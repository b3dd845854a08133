"""One live watch, assembled once for ``skyfence watch`` and ``skyfence serve``.

:func:`open_watch` turns the options of ``watch`` (an :class:`argparse.Namespace` as the
``watch`` parser gives it; ``serve`` builds the same from its configuration file) into a
:class:`WatchService`: zones and policy, the sources (live feeds merged by
:class:`~skyfence.service.inputs.LiveInputs`, or recorded files replayed), the
:class:`~skyfence.service.watch.Watcher`, the incident store's session (outbox senders,
dossier worker) and the webhooks. :meth:`WatchService.run` feeds the batches to the
watcher until the data ends or :meth:`WatchService.stop` is called;
:meth:`WatchService.close` drains the webhooks and the outbox and closes the store.

``serve`` adds two things a terminal watch does not need: ``extra_sinks`` (functions
that get each event after the store committed it: the web clients' stream) and
``on_batch`` (called after each batch with the observations the detector screened in
it: the current picture of the tracks). A replay may ``loop`` (the demo): each pass is
shifted in time to start at the wall clock (or, when that would go back in time, just
after the previous pass), so that every pass raises new incidents.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
import pandas as pd

from skyfence.errors import InputError, UsageError

__all__ = ["WatchService", "looping_stream", "open_watch"]

Sink = Callable[[dict[str, Any]], None]


@dataclass
class WatchService:
    """A watcher with its sources, sinks and store session, ready to run."""

    watcher: Any
    batches: Any
    feed: Any
    hooks: list[Any]
    session: Any
    stop_event: threading.Event
    stats_every: float
    drain_s: float = 10.0
    dossier_drain_s: float = 120.0
    out: TextIO = field(default_factory=lambda: sys.stderr)
    _started: bool = False

    def start(self) -> None:
        """Start the outbox senders and the dossier worker (what an earlier run left
        pending goes first)."""
        if self.session is not None and not self._started:
            self.session.start()
        self._started = True

    def stop(self) -> None:
        """Ask :meth:`run` to end after the batch in hand."""
        self.stop_event.set()

    def run(self, *, signals: bool = True) -> None:
        """Feed batches to the watcher until the data ends, :meth:`stop`, SIGTERM (when
        ``signals``: only the main thread may set a handler) or Ctrl-C; print the stats
        line every ``stats_every`` seconds; then emit the entries still open."""
        import signal

        self.start()
        old = signal.signal(signal.SIGTERM, lambda *_: self.stop()) if signals else None
        stats_due = time.monotonic() + self.stats_every
        try:
            for batch in self.batches:
                self.watcher.process(batch.observations, batch.received_at, plots=batch.plots,
                                     tracks=batch.tracks, now=getattr(batch, "end", None))
                if self.stop_event.is_set():
                    break
                if (now := time.monotonic()) >= stats_due:
                    stats_due += self.stats_every
                    if stats_due <= now:  # a slow batch: do not print twice in a row
                        stats_due = now + self.stats_every
                    self.summary()
        except KeyboardInterrupt:
            self.stop()
        finally:
            if old is not None:
                signal.signal(signal.SIGTERM, old)
            if self.feed is not None:
                self.feed.close()
        self.watcher.close()

    def summary(self, hooks: bool = True) -> None:
        """Print the one-line summary of the watcher, the feed and the webhooks."""
        line = self.watcher.stats.summary()
        if self.feed is not None:
            line += f"; feed: {self.feed.summary()}"
        for h in self.hooks if hooks else ():
            line += f"; webhook: {h.stats.summary()}"
        print(f"skyfence: {line}", file=self.out, flush=True)

    def close(self) -> None:
        """Account for every webhook event, drain the outbox, close the store."""
        from skyfence.alerts.webhook import close_all

        try:
            close_all(self.hooks, self.drain_s)
            for h in self.hooks:
                st = h.stats
                print(f"skyfence: webhook {h.url}: {st.submitted} events: {st.delivered} "
                      f"delivered, {st.failed} failed after {h.attempts} attempts, "
                      f"{st.undelivered} undelivered (still queued at exit), {st.dropped} "
                      f"dropped (queue full); {st.retries} retries", file=self.out)
        finally:
            if self.session is not None:  # pending alerts stay in the store for next time
                self.session.close(self.drain_s, self.dossier_drain_s)


def open_watch(args: argparse.Namespace, output_sink: Sink, *, stats_every: float,
               drain_s: float, dossier_drain_s: float, extra_sinks: Sequence[Sink] = (),
               on_batch: Callable[[pd.DataFrame], None] | None = None,
               loop: bool = False) -> WatchService:
    """Assemble the watch ``args`` describe (already checked by the caller: sources
    given, files exist, numbers valid); events go to ``output_sink`` (through the
    store's outbox when there is a store) and to ``extra_sinks`` (after the commit)."""
    from skyfence.alerts.webhook import WebhookSink
    from skyfence.fusion.radar_stage import RadarStage
    from skyfence.incidents.session import _secret
    from skyfence.radar import RadarSite
    from skyfence.service.watch import Watcher

    zones, policy, gap = _zone_setup(args)
    live = [(kind, *_host_port(spec, f"--{kind}")) for kind in ("sbs", "beast", "raw")
            for spec in getattr(args, kind)]
    udp = [_udp_host_port(spec) for spec in args.asterix_udp]
    replays = [*args.replay, *args.asterix]
    ref = _latlon(args.ref)
    sites = [RadarSite.parse(r) for r in args.radar]
    radar = RadarStage(sites) if (udp or args.asterix) else None
    stop = threading.Event()
    session = _store_session(args, zones, policy, gap, output_sink)
    try:
        # with a store, webhooks go out from its outbox (the session's senders)
        hooks: list[Any] = [] if session else [
            WebhookSink(u, secret=_secret(args.webhook_secret_file)) for u in args.webhook]
        sinks: list[Sink] = [] if session else [output_sink, *hooks]
        watcher = Watcher(zones, policy=policy, gap_s=gap, all_entries=args.all_entries,
                          sinks=[*sinks, *extra_sinks],
                          approach_horizon_s=args.horizon or None,
                          military_db=_military_db(args), radar=radar,
                          journal=session.journal if session else None, receiver=ref)
        if on_batch is not None:
            watcher.pipeline.taps.append(on_batch)
        if replays:
            batches, feed = _replay_source(args, ref, sites, stop, loop, gap), None
        else:
            feed = _live_source(live, udp, ref, sites, args.date, stop, stats_every,
                                getattr(args, "feed_idle", 60.0) or None)
            batches = iter(feed)
    except BaseException:
        if session is not None:
            session.store.close()
        raise
    return WatchService(watcher, batches, feed, hooks, session, stop, stats_every,
                        drain_s, dossier_drain_s)


def _zone_setup(args: argparse.Namespace) -> tuple[list[Any], Any, float]:
    from skyfence.cli import _scan_setup

    return _scan_setup(args)


def _military_db(args: argparse.Namespace) -> Any:
    from skyfence.cli import _military_db as db

    return db(args)


def _host_port(spec: str, option: str) -> tuple[str, int]:
    from skyfence.cli import _host_port as hp

    return hp(spec, option)


def _udp_host_port(spec: str) -> tuple[str, int]:
    """``[HOST:]PORT`` of an ASTERIX UDP listener (default host: loopback)."""
    return _host_port(spec if ":" in spec else f":{spec}", "--asterix-udp")


def _latlon(spec: str | None) -> tuple[float, float] | None:
    from skyfence.cli import _latlon as ll

    return ll(spec, "--ref")


def _replay_source(args: argparse.Namespace, ref: tuple[float, float] | None,
                   sites: Sequence[Any], stop: threading.Event, loop: bool,
                   gap_s: float) -> Iterator[Any]:
    """Recorded files (positions and ASTERIX) as one time-ordered stream of slices."""
    from skyfence.sources.recorded import Recorded, read_recorded, recorded_stream
    from skyfence.sources.tabular import ColumnMap

    cmap = ColumnMap.parse(args.columns) if args.columns else None
    data = read_recorded(args.replay, fmt=args.input_format, columns=cmap, ref=ref)
    if args.asterix:
        radar = read_recorded(args.asterix, fmt="asterix", radar_sites=sites, date=args.date)
        data = Recorded(observations=data.observations, plots=radar.plots, tracks=radar.tracks)
    fast = args.speed <= 0
    slice_s = (4.0 if data.has_radar else 30.0) if fast else max(0.1, 0.1 * args.speed)
    if loop:
        return looping_stream(data, slice_s=slice_s, speed=args.speed, stop=stop,
                              pause_s=gap_s + 1.0)
    return recorded_stream(data, slice_s=slice_s, speed=args.speed, stop=stop.is_set)


def looping_stream(data: Any, *, slice_s: float, speed: float, stop: threading.Event,
                   pause_s: float, clock: Callable[[], float] = time.time,
                   passes: int | None = None) -> Iterator[Any]:
    """The recorded ``data`` replayed again and again (``passes`` times; None: until
    ``stop``), each pass shifted in time to start at ``clock()``, or ``pause_s`` after
    the previous pass ended if that is later: data time never goes back, and a track
    of one pass is never continued by the next (``pause_s`` > the track gap).

    >>> from skyfence.model import make_observations
    >>> from skyfence.sources.recorded import Recorded
    >>> rec = Recorded(observations=make_observations(time=[0.0, 10.0], icao24=["a", "a"],
    ...                                               lat=[0.0, 0.0], lon=[0.0, 0.1]))
    >>> s = looping_stream(rec, slice_s=5, speed=0, stop=threading.Event(), pause_s=301,
    ...                    clock=lambda: 1000.0, passes=2)
    >>> [b.observations["time"].tolist() for b in s]
    [[1000.0], [1010.0], [1311.0], [1321.0]]
    """
    from skyfence.sources.recorded import Recorded, recorded_stream

    span = data.time_span()
    if span is None:
        return
    t0, t1 = span
    prev_end = -np.inf
    n = 0
    while not stop.is_set() and (passes is None or n < passes):
        start = max(clock(), prev_end + pause_s)
        offset = start - t0
        shifted = Recorded(observations=_shift(data.observations, offset),
                           plots=None if data.plots is None else _shift(data.plots, offset),
                           tracks=None if data.tracks is None else _shift(data.tracks, offset))
        # slices aligned on the shifted times (the offset is a whole number of slices
        # away from the original alignment only by chance: that does not matter)
        yield from recorded_stream(shifted, slice_s=slice_s, speed=speed, stop=stop.is_set)
        prev_end = t1 + offset
        n += 1


def _shift(frame: pd.DataFrame, offset: float) -> pd.DataFrame:
    out = frame.copy()
    out["time"] = frame["time"].to_numpy(np.float64) + offset
    return out


def _live_source(live: Sequence[tuple[str, str, int]], udp: Sequence[tuple[str, int]],
                 ref: tuple[float, float] | None, sites: Sequence[Any], date: str | None,
                 stop: threading.Event, stats_every: float,
                 idle_s: float | None = None) -> Any:
    """Every live feed in its own thread, merged (:class:`LiveInputs`); a feed silent for
    ``idle_s`` seconds is reconnected (None: never)."""
    from skyfence.service.inputs import LiveInputs
    from skyfence.service.watch import FEED_BATCH_MESSAGES
    from skyfence.sources.feed import FeedClient

    heartbeat = min(1.0, stats_every / 4)
    feeds = [FeedClient(kind, host, port, ref=ref, stop=stop,  # type: ignore[arg-type]
                        heartbeat_s=heartbeat, batch_messages=FEED_BATCH_MESSAGES,
                        idle_s=idle_s)
             for kind, host, port in live]
    return LiveInputs(feeds, udp, sites=sites, date=date, stop=stop, heartbeat_s=heartbeat)


def _store_session(args: argparse.Namespace, zones: Any, policy: Any, gap: float,
                   output_sink: Sink) -> Any:
    """The incident store side of the watch (None without ``--store``)."""
    from skyfence.incidents.session import open_watch_session

    if args.store is None:
        if args.smtp or args.dossier_dir:
            raise UsageError(f"{'--smtp' if args.smtp else '--dossier-dir'} needs --store")
        return None
    replays = [*args.replay, *args.asterix]
    origin = ("replay:" + ",".join(os.path.abspath(p) for p in replays)) if replays else "live"
    return open_watch_session(args, zones=zones, policy=policy, gap_s=gap,
                              output_sink=output_sink, origin=origin,
                              feed_clock=bool(replays))


def check_sources(args: argparse.Namespace) -> None:
    """Usage errors of the watch's sources: none given, live and replay mixed, a missing
    file."""
    live = [s for kind in ("sbs", "beast", "raw") for s in getattr(args, kind)]
    replays = [*args.replay, *args.asterix]
    if not (live or args.asterix_udp or replays):
        raise UsageError("watch needs a source: --sbs, --beast, --raw, --asterix-udp, "
                         "--replay or --asterix")
    if (live or args.asterix_udp) and replays:
        raise UsageError("watch: live feeds and replays do not mix; run one watch for each")
    for path in replays:
        if not os.path.exists(path):
            raise InputError("file not found", file=path)
