"""``skyfence bench soak --minutes N``: watch with a store under a steady live load.

A synthetic fleet of ``aircraft`` transponders flies circles; each reports every
``report_s`` (0.5 s, as ADS-B does), so the feed carries ``aircraft / report_s``
positions per second (50,000 by default), paced in real time: every ``slice_s`` of wall
time one batch of the positions due in that slice goes through the same parts as
``skyfence watch --store`` (:class:`~skyfence.service.watch.Watcher`, an
:class:`~skyfence.incidents.journal.IncidentJournal` on a SQLite store, the outbox
delivering every alert to a JSON Lines file and, as ``subscribers``, to in-process
clients). Some circles cross a 20 km zone, so entries, exits, escalations and their
alerts go on all the time; each aircraft takes a new address at the end of every lap,
so tracks keep appearing and expiring as real traffic does and state that is never
freed shows up as growth.

Every ``sample_s`` (10 s) a sample is taken: resident memory (``VmRSS``), the processing
time of the batches of the last period (p50, p99, max: how long a batch waited for the
watcher is what an alert waits), the entry alert latency (batch arrival to its entry
event), positions and alerts. Memory is called flat when the last sample is less than
``max_growth`` (5 %) above the first sample after the warm-up. The warm-up lasts until
the feed's clock has passed the dossier buffer plus a minute: a watcher with a store
keeps the last 10 minutes of the feed in memory
(:class:`~skyfence.incidents.recorder.ObservationRecorder`: the fixes a dossier needs
from before an entry), about 80 bytes per position packed, so at 50,000 positions/s
memory rises for 10 minutes of feed (to a few GB) and only then can be flat. A run shorter
than the warm-up plus 30 s says ``memory_flat: null``; ``dossier_pad_s`` scales the
buffer down (the test suite's short soak does). The load is a rate, not a batch
count: a machine too slow for it falls behind, which the record says (``behind_s``: how
far the feed's clock ran ahead of what was processed at the end).

With ``clients`` (``--clients``, 50 by default on the command line), the soak runs what
``skyfence serve`` runs: the same watcher also feeds the web server's picture and event
streams, and that many browsers' event streams read it from a second process
(:mod:`skyfence.benchmarks.soak_web`); each sample counts the streams still open, and the
record adds their push latency, messages and drops.

The record is a benchmark record (``ours_per_s`` is the sustained positions per second;
the baseline is the target rate, so the ratio is the share of the load kept up with).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from skyfence.benchmarks import record

__all__ = ["Fleet", "SoakSample", "memory_flat", "rss_kb", "run", "soak"]

#: the load of the issue: a large national feed
RATE_PER_S = 50_000
#: ADS-B airborne positions come every 0.5 s per aircraft
REPORT_S = 0.5
SAMPLE_S = 10.0
MAX_GROWTH = 0.05
#: the zone the circles cross: 20 km around 50 N, 10 E (and the fleet around it)
ZONE_LAT, ZONE_LON, ZONE_KM = 50.0, 10.0, 20.0

Subscriber = Callable[[dict[str, Any]], None]


class SoakSample(TypedDict):
    """One sample of a soak, every ``sample_s``."""

    t_s: float
    #: the feed's clock: seconds of feed processed (behind ``t_s`` when falling behind)
    feed_s: float
    rss_mb: float
    positions: int
    alerts: int
    batch_ms_p50: float
    batch_ms_p99: float
    batch_ms_max: float
    entry_latency_ms_max: float | None
    #: event streams open (None: no web server in this soak)
    clients: int | None


def rss_kb() -> int:
    """This process's resident set size (``VmRSS``, kB; Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("VmRSS not in /proc/self/status")


def memory_flat(rss_mb: Sequence[float], warmup_samples: int,
                max_growth: float = MAX_GROWTH) -> tuple[bool, float]:
    """Whether memory stayed flat after the warm-up, and the growth: the last sample
    against the first one after the warm-up (a fraction).

    >>> memory_flat([100, 180, 200, 204, 209], warmup_samples=2)
    (True, 0.045)
    >>> memory_flat([100, 200, 210, 221], warmup_samples=1)
    (False, 0.105)
    """
    base = rss_mb[min(warmup_samples, len(rss_mb) - 1)]
    growth = round((rss_mb[-1] - base) / base, 4)
    return growth < max_growth, growth


@dataclass
class Fleet:
    """Aircraft on circles; :meth:`positions` gives the reports due in a time slice.

    Aircraft ``k`` flies a circle of radius 15..60 km around a centre 100..150 km from
    the zone's centre (so at least 20 km clear of the zone) at 120..250 m/s, reporting
    at times ``phase_k + j * report_s``. One
    aircraft in ``crossing_every`` has its circle's centre 25..35 km from the zone's
    centre, so that it enters the 20 km zone and leaves it on every lap. A lap ends
    with a new 24-bit address: ``0x100000 + (k + lap * aircraft) mod 0x100000``, in the
    block ICAO allocates to Russia, a watched state of the soak's policy: the crossings
    are violations (warnings, escalated when unacknowledged) and raise alerts.
    """

    aircraft: int
    report_s: float = REPORT_S
    crossing_every: int = 500
    seed: int = 11
    t0: float = 1_758_263_400.0
    _c: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        n = self.aircraft
        km_lat = 1.0 / 111.32
        km_lon = km_lat / np.cos(np.radians(ZONE_LAT))
        dist = rng.uniform(100.0, 150.0, n)
        crossing = np.arange(n) % self.crossing_every == 0
        dist[crossing] = rng.uniform(25.0, 35.0, int(crossing.sum()))
        bearing = rng.uniform(0, 2 * np.pi, n)
        radius = rng.uniform(15.0, 60.0, n)
        radius[crossing] = dist[crossing]  # the circle passes over the zone's centre
        self._c = {
            "lat0": ZONE_LAT + dist * np.cos(bearing) * km_lat,
            "lon0": ZONE_LON + dist * np.sin(bearing) * km_lon,
            "r_lat": radius * km_lat, "r_lon": radius * km_lon,
            "omega": rng.uniform(0.12, 0.25, n) / radius * np.where(crossing, 1.0,
                                                                     rng.choice([-1, 1], n)),
            "angle0": rng.uniform(0, 2 * np.pi, n),
            "phase": rng.uniform(0, self.report_s, n),
            "alt_m": rng.uniform(3000.0, 11000.0, n),
            "speed": rng.uniform(120.0, 250.0, n),
        }

    @property
    def rate_per_s(self) -> float:
        """Positions per second of the whole fleet."""
        return self.aircraft / self.report_s

    def positions(self, start_s: float, end_s: float) -> pd.DataFrame:
        """Every report with ``start_s <= t - t0 < end_s`` (at most one per aircraft:
        the slice is shorter than ``report_s``), an observation batch as a live feed's
        decoder makes it (typed columns, lower-case addresses)."""
        from skyfence.model import make_observations

        c = self._c
        # the report of each aircraft at or after start_s
        j = np.ceil((start_s - c["phase"]) / self.report_s)
        t = c["phase"] + j * self.report_s
        k = np.flatnonzero(t < end_s)
        t = t[k]
        angle = c["angle0"][k] + c["omega"][k] * t
        lap = np.floor(np.abs(c["omega"][k] * t) / (2 * np.pi)).astype(np.int64)
        ids = 0x100000 + (k + lap * self.aircraft) % 0x100000
        return make_observations(**{
            "time": self.t0 + t,
            "icao24": np.char.mod("%06x", ids).astype(object),
            "lat": c["lat0"][k] + c["r_lat"][k] * np.cos(angle),
            "lon": c["lon0"][k] + c["r_lon"][k] * np.sin(angle),
            "altitude": c["alt_m"][k], "velocity": c["speed"][k],
            "heading": np.degrees(np.mod(angle + np.pi / 2, 2 * np.pi)),
        })


def soak(minutes: float, *, rate_per_s: float = RATE_PER_S, slice_s: float = 0.1,
         sample_s: float = SAMPLE_S, store: str | None = None,
         subscribers: Sequence[Subscriber] = (), dossier_pad_s: float | None = None,
         clients: int = 0,
         on_sample: Callable[[SoakSample], None] | None = None) -> dict[str, Any]:
    """Run the soak for ``minutes``; the samples and the totals (see the module)."""
    from skyfence.airspace.zones import circle_zone
    from skyfence.alerts.console import JsonlSink
    from skyfence.alerts.outbox import FunctionDelivery, OutboxDispatcher
    from skyfence.benchmarks.soak_web import WebLoad
    from skyfence.incidents.journal import IncidentJournal
    from skyfence.incidents.recorder import ObservationRecorder
    from skyfence.incidents.store import IncidentStore
    from skyfence.incidents.writer import begin_run
    from skyfence.policy import Policy
    from skyfence.service.watch import Watcher

    fleet = Fleet(aircraft=max(1, round(rate_per_s * REPORT_S)))
    zone = circle_zone("SOAK", ZONE_LAT, ZONE_LON, ZONE_KM)
    policy = Policy.default(["RUS"])
    pad = {} if dossier_pad_s is None else {"pad_s": dossier_pad_s}
    with tempfile.TemporaryDirectory(prefix="skyfence-soak-") as tmp:
        alerts_file = (Path(tmp) / "alerts.jsonl").open("w")
        delivered = {"n": 0}
        lock = threading.Lock()

        def count(event: dict[str, Any]) -> None:
            with lock:
                delivered["n"] += 1
            for s in subscribers:
                s(event)

        st = IncidentStore.open(store or str(Path(tmp) / "soak.sqlite"))
        try:
            dispatcher = OutboxDispatcher(st, [
                FunctionDelivery("jsonl", JsonlSink(alerts_file)),
                FunctionDelivery("subscribers", count)])
            run = begin_run(st, "watch", "soak", policy, [zone], {"gap_s": 300.0})
            journal = IncidentJournal(st, run, dispatcher.sinks, feed_clock=True,
                                      on_queued=dispatcher.notify,
                                      recorder=ObservationRecorder(st, **pad))
            web = WebLoad(st, [zone], clients) if clients > 0 else None
            watcher = Watcher([zone], policy=policy, journal=journal,
                              sinks=web.sinks if web else ())
            dispatcher.start()
            web_figures: dict[str, Any] | None = None
            try:
                if web is not None:
                    web.attach(watcher)
                    web.start(minutes * 60.0 + 2.0)
                result = _drive(fleet, watcher, minutes * 60.0, slice_s,
                                sample_s, delivered, on_sample, web)
            finally:
                journal.flush()
                dispatcher.drain(10.0)
                if web is not None:
                    web_figures = web.finish(60.0)
        finally:
            st.close()
            alerts_file.close()
    result["aircraft"] = fleet.aircraft
    result["events"] = dict(watcher.stats.events)
    result["web"] = web_figures
    return result


def _drive(fleet: Fleet, watcher: Any, duration_s: float, slice_s: float, sample_s: float,
           delivered: dict[str, int], on_sample: Callable[[SoakSample], None] | None,
           web: Any = None) -> dict[str, Any]:
    """The real-time loop: a slice per ``slice_s`` of wall time, a sample per
    ``sample_s``."""
    samples: list[SoakSample] = []
    batch_ms: list[float] = []
    positions = 0
    start = time.monotonic()
    next_sample = start + sample_s
    k = 0
    while (elapsed := time.monotonic() - start) < duration_s:
        due = k * slice_s  # the feed's clock, relative: where this slice begins
        if due > elapsed:
            time.sleep(due - elapsed)
        arrived = time.time()
        began = time.perf_counter()
        batch = fleet.positions(due, due + slice_s)
        watcher.process(batch, arrived)
        batch_ms.append((time.perf_counter() - began) * 1000.0)
        positions += len(batch)
        k += 1
        if time.monotonic() >= next_sample:
            next_sample += sample_s
            lat = watcher.stats.entry_latency_s
            s: SoakSample = {
                "t_s": round(time.monotonic() - start, 1), "feed_s": round(k * slice_s, 1),
                "rss_mb": round(rss_kb() / 1024, 1),
                "positions": positions, "alerts": delivered["n"],
                "batch_ms_p50": round(float(np.percentile(batch_ms, 50)), 1),
                "batch_ms_p99": round(float(np.percentile(batch_ms, 99)), 1),
                "batch_ms_max": round(max(batch_ms), 1),
                "entry_latency_ms_max": round(max(lat) * 1000, 1) if lat else None,
                "clients": None if web is None else web.connected,
            }
            lat.clear()
            batch_ms = []
            samples.append(s)
            if on_sample is not None:
                on_sample(s)
    wall_s = time.monotonic() - start
    return {"samples": samples, "positions": positions, "wall_s": round(wall_s, 1),
            "behind_s": round(max(0.0, wall_s - k * slice_s), 2)}


def run(json: bool = False, *, minutes: float = 2.0, rate_per_s: float = RATE_PER_S,
        sample_s: float = SAMPLE_S, dossier_pad_s: float | None = None,
        settle_s: float = 60.0, store: str | None = None,
        subscribers: Sequence[Subscriber] = (), clients: int = 0,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Soak for ``minutes`` and return the benchmark record (samples included).

    The warm-up is the dossier buffer plus ``settle_s``; memory is judged when at least
    30 s of samples follow it."""
    from skyfence.evidence.observations import PAD_S

    def show(s: SoakSample) -> None:
        if progress is not None:
            progress(_sample_line(s))

    out = soak(minutes, rate_per_s=rate_per_s, sample_s=sample_s, store=store,
               subscribers=subscribers, dossier_pad_s=dossier_pad_s, clients=clients,
               on_sample=show)
    samples = out["samples"]
    rss = [s["rss_mb"] for s in samples]
    # the dossier buffer fills (feed time: a machine that falls behind fills it later),
    # then start-up settles; judged on at least 30 s after it
    pad_s = PAD_S if dossier_pad_s is None else dossier_pad_s
    warmup = next((i for i, x in enumerate(samples) if x["feed_s"] >= pad_s + settle_s),
                  len(samples))
    flat: bool | None = None
    growth: float | None = None
    if (len(rss) - 1 - warmup) * sample_s >= 30.0:
        flat, growth = memory_flat(rss, warmup)
    p99 = [s["batch_ms_p99"] for s in samples[warmup:]] or [float("nan")]
    return record(
        "soak", out["positions"] / out["wall_s"], {"target_rate": rate_per_s},
        out["positions"], unit="positions per second through watch with a store, real time",
        minutes=minutes, aircraft=out["aircraft"], behind_s=out["behind_s"],
        rss_mb={"after_warmup": rss[warmup] if len(rss) > warmup else None,
                "last": rss[-1] if rss else None, "max": max(rss) if rss else None},
        memory_growth=growth, memory_flat=flat, warmup_samples=warmup,
        batch_ms_p99_worst=max(p99), alerts=samples[-1]["alerts"] if samples else 0,
        events=out["events"], web=out["web"], samples=samples if json else len(samples),
    )


def _sample_line(s: SoakSample) -> str:
    return json.dumps(s)
