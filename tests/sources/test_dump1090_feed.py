"""A real dump1090 fed with recorded frames: our SBS and Beast clients see the aircraft.

Frames of a recorded flight are written to dump1090's raw input port paced as they
were recorded (dump1090 pairs even/odd CPR frames by its own clock, within 10 s).
Our SBS client (dump1090's own decoding) and Beast client (our decoding of the
frames dump1090 forwards) must report the positions that decoding the same frames
directly gives.
"""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pandas as pd
import pytest
from feed_helpers import recorded_frames

from loopback import Dump1090, wait_accepted
from skyfence.sources.feed import FeedClient
from skyfence.sources.modes import make_decoder

pytestmark = pytest.mark.integration

WINDOW_S = 8.0


def _airborne_window() -> tuple[list[float], list[str]]:
    """An 8 s window of the recorded flight, shortly after take-off."""
    times, frames = recorded_frames()
    decoder = make_decoder()
    obs = decoder.decode(frames, times)
    airborne = obs[~obs.onground]
    start = float(airborne.time.iloc[0]) + 10.0
    pick = [i for i, t in enumerate(times) if start <= t < start + WINDOW_S]
    return [times[i] for i in pick], [frames[i] for i in pick]


def _collect(client: FeedClient, into: list[pd.DataFrame]) -> None:
    for batch in client:
        if len(batch):
            into.append(batch)


def _wait_connected(*clients: FeedClient, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while any(c.stats.connects == 0 for c in clients):
        if time.monotonic() > deadline:
            raise TimeoutError("feed clients did not connect to dump1090")
        time.sleep(0.02)
    for c in clients:  # dump1090 sends only to the clients it has accepted
        wait_accepted(c.port, timeout)


def test_sbs_and_beast_clients_report_dump1090_positions(dump1090: Dump1090) -> None:
    times, frames = _airborne_window()
    expected = make_decoder().decode(frames, times)
    assert len(expected) >= 8  # the window really holds positions

    stop = threading.Event()
    sbs = FeedClient("sbs", "127.0.0.1", dump1090.sbs_out, stop=stop)
    beast = FeedClient("beast", "127.0.0.1", dump1090.beast_out, stop=stop)
    got: dict[str, list[pd.DataFrame]] = {"sbs": [], "beast": []}
    readers = [
        threading.Thread(target=_collect, args=(sbs, got["sbs"]), daemon=True),
        threading.Thread(target=_collect, args=(beast, got["beast"]), daemon=True),
    ]
    for r in readers:
        r.start()
    _wait_connected(sbs, beast)

    began = time.time()
    with socket.create_connection(("127.0.0.1", dump1090.raw_in)) as feed:
        start = time.monotonic()
        for t, frame in zip(times, frames, strict=True):
            delay = (t - times[0]) - (time.monotonic() - start)
            if delay > 0:
                time.sleep(delay)
            feed.sendall(f"*{frame};\n".encode())
    # stop once both clients have every position out (SBS may drop one, see below)
    deadline = time.monotonic() + 30
    while (sum(map(len, list(got["beast"]))) < len(expected)
           or sum(map(len, list(got["sbs"]))) < len(expected) - 1):
        assert time.monotonic() < deadline, "dump1090's positions did not all come out"
        time.sleep(0.02)
    stop.set()
    for r in readers:
        r.join(timeout=5)
    ended = time.time()

    sbs_obs = pd.concat(got["sbs"], ignore_index=True)
    beast_obs = pd.concat(got["beast"], ignore_index=True)
    assert sbs.stats.malformed == 0 and beast.stats.malformed == 0

    # Beast: dump1090 forwards the frames, we decode them: the same positions
    assert beast_obs.icao24.unique().tolist() == ["393322"]
    np.testing.assert_allclose(beast_obs[["lat", "lon"]], expected[["lat", "lon"]], atol=1e-9)
    assert (beast_obs.time >= began).all() and (beast_obs.time <= ended).all()

    # SBS: dump1090's own decoding, printed to 5 decimals, stamped by its clock (UTC)
    assert sbs_obs.icao24.unique().tolist() == ["393322"]
    assert len(sbs_obs) >= len(expected) - 1
    ours = expected[["lat", "lon"]].to_numpy()
    for lat, lon in sbs_obs[["lat", "lon"]].to_numpy():
        assert np.min(np.abs(ours - (lat, lon)).max(axis=1)) < 2e-5
    assert (sbs_obs.time >= began - 1).all() and (sbs_obs.time <= ended + 1).all()
    assert set(sbs_obs.callsign.dropna()) == {"AFR34ZG"}
    assert set(sbs_obs.squawk.dropna()) == {"1000"}
    gap = np.abs(sbs_obs.altitude.to_numpy()[:, None] - expected.altitude.to_numpy()[None, :])
    assert (gap.min(axis=1) < 0.01).all()
