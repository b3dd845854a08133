"""Test support for the store tests: straight tracks through a circle, and a watcher
with a store built the way ``skyfence watch --store`` builds it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from skyfence.airspace.zones import circle_zone
from skyfence.incidents.journal import IncidentJournal
from skyfence.incidents.recorder import ObservationRecorder
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.writer import begin_run
from skyfence.policy import Policy
from skyfence.service.watch import Watcher

T0 = 1758263400.0  # 2025-09-19T06:30:00Z
#: the zone of these tests: a 10 km circle around 59.0 N, 25.0 E
ZONE = circle_zone("BOX", 59.0, 25.0, 10.0)


def crossing(track: str, start_s: float, *, lat: float = 59.0, lon0: float = 24.6,
             lon1: float = 25.4, n: int = 200, step_s: float = 4.0,
             legs: int = 1) -> pd.DataFrame:
    # n fixes per leg over (lon1 - lon0): 0.8 degree in 200 fixes of 4 s is 0.001 degree/s
    """Fixes every ``step_s`` along the parallel ``lat`` from ``lon0`` to ``lon1`` (and back,
    ``legs`` times in all), the first at ``T0 + start_s``; a radar-only id is
    non-cooperative (critical under the default policy)."""
    lons, headings = [], []
    for k in range(legs):
        a, b = (lon0, lon1) if k % 2 == 0 else (lon1, lon0)
        lons.append(np.linspace(a, b, n, endpoint=(k == legs - 1)))
        headings.append(np.full(len(lons[-1]), 90.0 if b > a else 270.0))
    lon = np.concatenate(lons)
    t = T0 + start_s + step_s * np.arange(len(lon))
    return pd.DataFrame({"time": t, "icao24": track, "lat": lat, "lon": lon,
                         "baroaltitude": 3000.0, "velocity": 200.0,
                         "heading": np.concatenate(headings)})


def store_watcher(store: IncidentStore, origin: str = "replay:test", *,
                  sinks: Sequence[str] = ("test",), feed_clock: bool = True,
                  policy: Policy | None = None) -> tuple[Watcher, IncidentJournal]:
    """A watcher whose events go through a journal on ``store``, as ``watch --store``."""
    policy = policy or Policy()
    run = begin_run(store, "watch", origin, policy, [ZONE], {"gap_s": 300.0})
    journal = IncidentJournal(store, run, list(sinks), feed_clock=feed_clock,
                              recorder=ObservationRecorder(store))
    watcher = Watcher([ZONE], policy=policy, journal=journal, approach_horizon_s=None)
    return watcher, journal


def replay(watcher: Watcher, data: pd.DataFrame, slice_s: float = 4.0,
           until: float | None = None) -> list[tuple[float, dict[str, Any]]]:
    """Feed ``data`` in ``slice_s`` slices (feed time, as ``watch --replay`` slices it);
    each event with the latest feed time of the batch it came out of."""
    from skyfence.service.watch import replay_batches

    data = data.sort_values("time", kind="stable", ignore_index=True)
    if until is not None:
        data = data[data["time"] <= until]
    out = []
    for batch in replay_batches(_normalized(data), speed=0.0, slice_s=slice_s):
        t = float(batch["time"].max())
        out.extend((t, e) for e in watcher.process(batch))
    return out


def _normalized(data: pd.DataFrame) -> pd.DataFrame:
    from skyfence.sources.tabular import normalize_table

    return normalize_table(data)


class Receiver:
    """A webhook receiver on a fixed loopback port that can be down (nothing listens:
    connection refused) or up (answers ``status``, 204 by default), recording what it got:
    ``(headers, body)`` per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/hook"
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        self._server: Any = None

    def up(self) -> None:
        import http.server
        import threading

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[dict[str, Any]]:
        import json

        return [json.loads(b) for _, b in self.got]


def crossing_record(eid: str, track: str, entered: str = "2025-09-19T06:30:00.000Z",
           exited: str | None = "2025-09-19T06:35:00.000Z",
           protocol: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A critical crossing of :data:`ZONE` by ``track``, as the detector writes its record
    (``exited`` None: still inside)."""
    return {
        "id": eid, "zone": ZONE.name, "zone_kind": "custom", "track": track,
        "icao24": None, "callsign": None, "entered_at": entered,
        "entry_interpolated": True, "exited_at": exited,
        "last_inside_at": exited or entered, "duration_s": 300.0, "max_depth_m": 5000.0,
        "entry_point": {"lat": 59.0, "lon": 24.826013},
        "exit_point": {"lat": 59.0, "lon": 25.173987},
        "min_altitude_m": 3000.0, "max_altitude_m": 3000.0, "observations": 75,
        "classification": {"cooperative": False, "category": "jet",
                           "registration_state": None, "military": None,
                           "confidence": 1.0},
        "violation": True, "severity": "critical", "reasons": ["test"],
        "protocol": protocol or [{"step": "notify the duty officer", "after_s": None}],
        "went_dark_at": None, "integrity": [],
        "first_inside_point": {"lat": 59.0, "lon": 24.83},
        "last_inside_point": {"lat": 59.0, "lon": 25.17},
    }
