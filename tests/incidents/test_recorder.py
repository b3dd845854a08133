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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.floats(0.5, 40.0), st.lists(st.sampled_from(["aaa111", "bbb222",
                                                                        "ccc333"]),
                                                         min_size=0, max_size=6)),
                min_size=1, max_size=40),
       st.integers(0, 39), st.floats(10.0, 300.0), st.floats(30.0, 120.0))
def test_stored_fixes_equal_a_brute_force_over_every_batch(
        tmp_path: Path, steps: list[tuple[float, list[str]]], follow_at: int, until_after: float,
        pad: float) -> None:
    """Batches of any length (0.5..40 s of feed, so some are packed into segments of
    :data:`SEGMENT_S` and some not), track ``aaa111`` followed after batch ``follow_at``
    until ``until_after`` seconds later. By brute force over every batch: stored are its
    fixes in the batches up to the follow whose newest fix is within ``pad`` of the
    follow's clock, then its fixes up to ``until`` in the batches after, as long as
    ``until`` had not passed when the previous batch came."""
    clock, batches = 0.0, []
    for dt, ids in steps:
        times = clock + np.linspace(0.0, dt, len(ids) + 1)[1:]
        batches.append(make_observations(time=times, icao24=ids, lat=np.full(len(ids), 59.0),
                                         lon=np.full(len(ids), 25.0)))
        clock += dt
    follow_at = min(follow_at, len(batches) - 1)
    want: list[float] = []
    until = float(batches[follow_at]["time"].max()) + until_after \
        if len(batches[follow_at]) else clock + until_after
    db = tmp_path / f"s{len(list(tmp_path.iterdir()))}.sqlite"
    with IncidentStore.open(db) as store:
        rec = ObservationRecorder(store, pad_s=pad)
        now = -np.inf
        following = False
        for k, b in enumerate(batches):
            if len(b):
                now = float(b["time"].max())
            rec.add(b, now)
            mine = b["time"][b["icao24"] == "aaa111"].tolist()
            if following:
                want += [t for t in mine if t <= until]
                if until < now:
                    following = False
            if k == follow_at:
                rec.follow("aaa111", until=until)
                following = until >= now
                want += [t for j in range(k + 1) if len(batches[j]) and
                         float(batches[j]["time"].max()) >= now - pad
                         for t in batches[j]["time"][batches[j]["icao24"] == "aaa111"]]
        rec.flush()
        got = read_observations(store, "aaa111", -1e9, 1e9)["time"].tolist()
    assert got == sorted(set(want))


def test_the_read_window_is_closed_at_both_ends(tmp_path: Path) -> None:
    """A dossier reads the fixes of ``[entry - 600 s, exit + 600 s]``: a fix exactly at
    either end belongs to it. A's fixes every 10 s from 300 to 1500 s (see the module);
    the window 400..500 s holds 400, 410, ..., 500: 11 fixes, both ends included."""
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        rec = ObservationRecorder(store)
        rec.follow("aaa111", until=1e9)
        for t0 in range(0, 1000, 60):
            b = batch(float(t0))
            rec.add(b, float(b["time"].max()))
        rec.flush()
        got = read_observations(store, "aaa111", 400.0, 500.0)
    assert got["time"].tolist() == [400.0 + 10.0 * k for k in range(11)]
