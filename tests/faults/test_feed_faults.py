"""A live feed that fails under ``skyfence watch --store``: the receiver (a real
dump1090) is killed and started again mid-incident, then the network path stalls (the
connection stays open and carries nothing). The incident goes on through both: one
entry, one incident, alerts once per key, positions after each fault, and one line for
the operator about each fault and each recovery.

Set-up: 24 s of a recorded flight (tests/sources/data/flight_frames.csv, ten seconds
after take-off) are sent to dump1090's raw input in real time; ``watch`` reads
dump1090's SBS output through a proxy that can stall. The zone is a circle around the
window's last position whose radius is the flight's distance from it 6 s into the
window (the flight closes on that point almost straight, distance falling steadily),
so the flight is inside from about 6 s on. dump1090 is killed at 10 s (after the entry
alert is out) and started again at once; the proxy stalls every open connection at 16 s
and ``--feed-idle 2`` makes watch give up on it after 2 s without a byte.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from faults.live import Feeder, StallProxy, watch
from loopback import Dump1090, wait_drained
from skyfence.incidents.schema import ALERTS, ENTRIES, INCIDENTS
from skyfence.incidents.store import IncidentStore
from skyfence.sources.modes import make_decoder
from sources.feed_helpers import recorded_frames

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

WINDOW_S = 24.0


def flight_window() -> tuple[list[float], list[str], float, float, float]:
    """Times and frames of the window; the circle's centre and radius (km)."""
    times, frames = recorded_frames()
    obs = make_decoder().decode(frames, times)
    start = float(obs[~obs.onground].time.iloc[0]) + 10.0
    pick = [i for i, t in enumerate(times) if start <= t < start + WINDOW_S]
    w = obs[(obs.time >= start) & (obs.time < start + WINDOW_S)]
    last = w.iloc[-1]
    # equirectangular distance: good to far below a metre over 3 km
    d_km = np.hypot((w.lat - last.lat) * 111.32,
                    (w.lon - last.lon) * 111.32 * np.cos(np.radians(last.lat)))
    radius = float(np.interp(6.0, (w.time - start).to_numpy(), d_km.to_numpy()))
    return ([times[i] for i in pick], [frames[i] for i in pick], float(last.lat),
            float(last.lon), radius)


def events(out: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.read_text().splitlines() if x.strip()]


def wait_for(cond: object, what: str, err: Path, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {err.read_text()}"
        time.sleep(0.05)


def latest_position_at(sbs: bytes) -> float:
    """Generation time (dump1090's clock, UTC) of the last SBS position line in ``sbs``
    (fields 7 and 8 of a ``MSG,3``); -inf when there is none."""
    for line in reversed(bytes(sbs).decode("ascii", "replace").splitlines()):
        f = line.split(",")
        if len(f) > 15 and f[:2] == ["MSG", "3"] and f[14] and f[15]:
            return pd.Timestamp(f"{f[6].replace('/', '-')} {f[7]}", tz="UTC").timestamp()
    return -np.inf


def test_receiver_killed_and_restarted_then_a_stall_mid_incident(tmp_path: Path) -> None:
    times, frames, lat, lon, radius_km = flight_window()
    dump = Dump1090().start()
    proxy = StallProxy(dump.sbs_out)
    feeder = Feeder(dump.raw_in, times, frames)
    out, err, store = tmp_path / "alerts.jsonl", tmp_path / "stderr.txt", tmp_path / "s.sqlite"
    proc = watch(["--sbs", f"127.0.0.1:{proxy.port}", "--circle",
                  f"RWY:{lat},{lon},{radius_km:.4f}", "--all-entries", "--format", "jsonl",
                  "-o", str(out), "--horizon", "0", "--store", str(store),
                  "--feed-idle", "2", "--stats-every", "5"], tmp_path / "stdout.txt", err)
    stalled_log: list[int] = []
    try:
        # the feed starts once watch is connected (its start-up can take many seconds on
        # a loaded machine; a feed that started earlier would have been missed)
        wait_for(lambda: proxy.accepted > 0, "watch to connect", err, timeout_s=90.0)

        def kill_and_restart() -> None:
            wait_for(lambda: out.exists() and any(e["event"] == "entry" for e in events(out)),
                     "the entry alert", err)
            dump.kill()
            dump.start()

        def stall() -> None:
            seen = len(err.read_text())
            proxy.stall()
            # watch gives up on the frozen connection after --feed-idle 2 s
            wait_for(lambda: "no data for 2 s" in err.read_text()[seen:], "the stall line", err)
            stalled_log.append(seen)

        feeder.play({10.0: kill_and_restart, 16.0: stall})
        # dump1090 writes its SBS lines in bursts: wait until it has put out a position
        # it heard within 2.5 s of the last frame sent, and watch has read all of it
        wait_for(lambda: latest_position_at(proxy.forwarded) >= feeder.sent[-1] - 2.5,
                 "dump1090's last positions", err)
        wait_drained(proxy.port)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        feeder.close()
        proxy.close()
        dump.stop()
    log = err.read_text()
    assert code == 0, log
    got = events(out)
    kinds = Counter(e["event"] for e in got)
    assert kinds["entry"] == 1 and kinds["open"] == 1, (kinds, log)
    assert len({e["idempotency_key"] for e in got}) == len(got)  # each alert once
    with IncidentStore.open(str(store)) as st, st.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ENTRIES)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(INCIDENTS)).scalar() == 1
        keys = [r[0] for r in conn.execute(sa.select(ALERTS.c.key))]
    assert sorted(keys) == sorted(e["idempotency_key"] for e in got)
    # positions kept coming after both faults: the entry still open at the end was last
    # seen inside within 3 s of the last frame sent (dump1090 stamps SBS with its clock)
    (still_open,) = [e for e in got if e["event"] == "open"]
    last_inside = pd.Timestamp(str(still_open["last_inside_at"])).timestamp()
    assert last_inside >= feeder.sent[-1] - 3.0, (last_inside, feeder.sent[-1], log)
    # one line per fault and per recovery (a silence before the first frame is one
    # more stall: counted from the stall on)
    lines = log.splitlines()
    assert sum("connection closed by the receiver; reconnecting" in x
               or "connection lost" in x for x in lines) >= 1, log
    assert sum(x.endswith("reconnected") for x in lines) >= 1, log
    after = log[stalled_log[0]:].splitlines()
    assert sum("no data for 2 s (stalled link or no traffic); reconnecting" in x
               for x in after) == 1, log
    assert sum("data again after" in x for x in after) == 1, log
    assert "Traceback" not in log
