"""``RunFacts`` (every run of a zone reduced at once) against reducing each run alone.

The reference is plain Python over each run's rows: the smallest and largest altitude
that is not NaN, the fastest speed, the count / sum / sum of squares of the finite
speeds, the smallest sigma; None where a run has no such value. Batches are drawn
with NaN in every column, infinite speeds, several tracks and a carried fix (which
holds no speed or sigma), and cut into runs at random.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.detect.run_facts import RunFacts
from skyfence.detect.track_state import BatchWork, TrackTable

NAN = math.nan


def _py_min(xs: list[float]) -> float | None:
    known = [x for x in xs if not math.isnan(x)]
    return min(known) if known else None


def _py_max(xs: list[float]) -> float | None:
    known = [x for x in xs if not math.isnan(x)]
    return max(known) if known else None


values = st.one_of(st.floats(-1e4, 1e5), st.just(NAN))
speeds = st.one_of(st.floats(0.0, 600.0), st.just(NAN), st.just(math.inf))


@st.composite
def batches(draw: st.DrawFn) -> tuple[pd.DataFrame, bool, list[int]]:
    n = draw(st.integers(1, 30))
    tracks = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    frame = pd.DataFrame({
        "icao24": tracks,
        "time": np.arange(n, dtype=np.float64),
        "lon": np.zeros(n), "lat": np.zeros(n),
        "altitude": draw(st.lists(values, min_size=n, max_size=n)),
        "velocity": draw(st.lists(speeds, min_size=n, max_size=n)),
    })
    with_sigma = draw(st.booleans())
    if with_sigma:
        frame["sigma_pos_m"] = draw(st.lists(values, min_size=n, max_size=n))
    cuts = draw(st.lists(st.integers(1, n - 1), max_size=8)) if n > 1 else []
    return frame, with_sigma, sorted(set(cuts))


@settings(max_examples=300, deadline=None)
@given(batches(), st.booleans())
def test_each_run_reduces_to_what_its_rows_reduce_to(batch, carried: bool) -> None:
    frame, with_sigma, cuts = batch
    tracks = TrackTable()
    if carried:  # track "a" seen in an earlier batch: its last fix comes first
        tracks.store(np.array(["a"], dtype=object), np.array([[-5.0, 0.0, 0.0, 123.0]]))
    w = BatchWork.build(frame, tracks, gap_s=300.0)
    n = len(w.time)
    # runs: cut at every drawn place and at every track change (a run is one track's)
    bounds = sorted({0, n, *[c for c in cuts if c < n],
                     *np.flatnonzero(w.code[1:] != w.code[:-1]) + 1})
    starts = np.array(bounds[:-1], dtype=np.intp)
    facts = RunFacts(w, np.arange(n), starts)
    velocity = w.cols.speeds_headings()[0]
    sigma = w.cols.sigmas()
    assert (sigma is not None) == with_sigma
    for a, end in itertools.pairwise(bounds):
        alt = w.alt[a:end].tolist()
        v = velocity[a:end].tolist()
        finite = [x for x in v if math.isfinite(x)]
        assert facts.altitudes(a) == (_py_min(alt), _py_max(alt))
        assert facts.max_speed(a) == _py_max(v)
        count, total, squares = facts.speed_moments(a)
        assert count == len(finite)
        assert total == pytest.approx(math.fsum(finite), rel=1e-12, abs=1e-9)
        assert squares == pytest.approx(math.fsum(x * x for x in finite), rel=1e-12, abs=1e-9)
        want_sigma = None if sigma is None else _py_min(sigma[a:end].tolist())
        assert facts.min_sigma(a) == want_sigma


def test_a_carried_fix_adds_no_speed_and_no_sigma() -> None:
    """The carried fix of track ``a`` (row 0) holds its altitude (123 m) but no speed
    or sigma: a run of it alone has altitude 123 m, no speed, no sigma."""
    tracks = TrackTable()
    tracks.store(np.array(["a"], dtype=object), np.array([[-5.0, 0.0, 0.0, 123.0]]))
    frame = pd.DataFrame({"icao24": ["a"], "time": [1.0], "lon": [0.0], "lat": [0.0],
                          "altitude": [200.0], "velocity": [50.0], "sigma_pos_m": [30.0]})
    w = BatchWork.build(frame, tracks, gap_s=300.0)
    facts = RunFacts(w, np.array([0, 1]), np.array([0, 1]))
    assert facts.altitudes(0) == (123.0, 123.0)
    assert facts.max_speed(0) is None and facts.speed_moments(0) == (0, 0.0, 0.0)
    assert facts.min_sigma(0) is None
    assert facts.speed_moments(1) == (1, 50.0, 2500.0) and facts.min_sigma(1) == 30.0


@st.composite
def identified_batches(draw: st.DrawFn) -> tuple[pd.DataFrame, list[int]]:
    """Batches with callsigns (blank, missing, changing), squawks (some emergency),
    headings and speeds that make turns, positions that differ row by row."""
    n = draw(st.integers(1, 40))
    frame = pd.DataFrame({
        "icao24": draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)),
        "time": np.arange(n, dtype=np.float64) * 5.0,
        "lon": np.asarray(draw(st.lists(st.floats(-10.0, 10.0), min_size=n, max_size=n))),
        "lat": np.asarray(draw(st.lists(st.floats(40.0, 60.0), min_size=n, max_size=n))),
        "altitude": draw(st.lists(values, min_size=n, max_size=n)),
        "velocity": draw(st.lists(st.floats(50.0, 300.0), min_size=n, max_size=n)),
        "heading": draw(st.lists(st.floats(0.0, 359.0), min_size=n, max_size=n)),
        "callsign": draw(st.lists(st.sampled_from(["DLH4AB ", "  ", None, "SAS12", ""]),
                                  min_size=n, max_size=n)),
        "squawk": draw(st.lists(st.sampled_from(["7700", "1000", None, "7600", "2000"]),
                                min_size=n, max_size=n)),
    })
    cuts = draw(st.lists(st.integers(1, n - 1), max_size=8)) if n > 1 else []
    return frame, sorted(set(cuts))


@settings(max_examples=200, deadline=None)
@given(identified_batches(), st.booleans())
def test_a_runs_facts_at_once_equal_its_facts_from_its_rows(batch, carried: bool) -> None:
    """``RunFacts.of`` (every run at once) against ``row_facts`` (the run's rows
    alone): points, times, altitudes, speeds, sigma, turn and anchor, callsign; and an
    emergency squawk flagged exactly when the run's rows hold one."""
    from skyfence.detect.zone_pass import row_facts

    frame, cuts = batch
    tracks = TrackTable()
    if carried:
        tracks.store(np.array(["a"], dtype=object), np.array([[-5.0, 1.0, 50.0, 123.0]]))
    w = BatchWork.build(frame, tracks, gap_s=300.0)
    n = len(w.time)
    bounds = sorted({0, n, *[c for c in cuts if c < n],
                     *np.flatnonzero(w.code[1:] != w.code[:-1]) + 1})
    facts = RunFacts(w, np.arange(n), np.array(bounds[:-1], dtype=np.intp))
    for a, end in itertools.pairwise(bounds):
        got = facts.of(a, None)
        want = row_facts(w, a, end - 1, None)
        assert got[:6] == want[:6] and got[7:11] == want[7:11]
        assert got[6][0] == want[6][0]
        assert got[6][1] == pytest.approx(want[6][1], rel=1e-12, abs=1e-9)
        assert got[6][2] == pytest.approx(want[6][2], rel=1e-12, abs=1e-9)
        assert got[11] == bool(w.cols.emergency_squawks(a, end - 1))  # found row by row
