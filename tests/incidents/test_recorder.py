"""The fixes a dossier needs: a followed track's fixes from 10 minutes before it was
followed to its ``until`` time, and nothing of other tracks.

Two tracks report every 10 s from t = 0 to 1990 s, in batches of 60 s (0..50, 60..110,
...). Track A is followed after the batch 900..950 until t = 1500 s. By hand: the buffer
keeps the batches whose last fix is at most 600 s older than the newest one (950 s),
so from the batch 300..350 on; A's stored fixes are 300, 310, ..., 1500 s (121).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from skyfence.incidents.recorder import ObservationRecorder, read_observations
from skyfence.incidents.store import IncidentStore
from skyfence.model import make_observations


def batch(t0: float) -> pd.DataFrame:
    t = np.array([t0, t0 + 10.0, t0 + 20.0, t0 + 30.0, t0 + 40.0, t0 + 50.0])
    n = len(t)
    return make_observations(time=np.concatenate([t, t]), icao24=["aaa111"] * n + ["bbb222"] * n,
                             lat=np.full(2 * n, 59.0), lon=np.full(2 * n, 25.0),
                             altitude=np.full(2 * n, 3000.0), callsign=["A1"] * n + [None] * n)


def test_a_followed_track_is_stored_from_ten_minutes_before(tmp_path: Path) -> None:
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        rec = ObservationRecorder(store)
        for t0 in range(0, 2000, 60):  # batches of 60 s: 0-50, 60-110, ...
            b = batch(float(t0))
            rec.add(b, float(b["time"].max()))
            if t0 == 900:  # the incident began in the batch 900..950
                rec.follow("aaa111", until=1500.0)
        rec.flush()
        a = read_observations(store, "aaa111", 0.0, 5000.0)
        b = read_observations(store, "bbb222", 0.0, 5000.0)
    assert np.array_equal(a["time"].to_numpy(), np.arange(300.0, 1501.0, 10.0))
    assert set(a["callsign"]) == {"A1"} and (a["altitude"] == 3000.0).all()
    assert len(b) == 0


def test_fixes_are_held_until_flushed_and_stored_once(tmp_path: Path) -> None:
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        rec = ObservationRecorder(store)
        rec.follow("aaa111", until=1e9)
        rec.add(batch(0.0), 0.0)  # the first add writes (nothing written before)
        rec.add(batch(60.0), 5.0)  # 5 s of feed later: held
        assert len(read_observations(store, "aaa111", 0, 1e9)) == 6
        rec.flush()
        assert len(read_observations(store, "aaa111", 0, 1e9)) == 12
        rec.add(batch(60.0), 100.0)  # the same fixes again (a replay after a restart)
        rec.flush()
        assert len(read_observations(store, "aaa111", 0, 1e9)) == 12
