"""``BatchTurns`` (one vectorized pass per batch) against ``extend_turns`` run by run.

The detector folds each run of inside fixes into its open entry. ``extend_turns`` is
the reference: it measures one run's fixes alone, continuing from the entry's anchor.
``BatchTurns.extend`` must return exactly the same hardest turn and anchor (float for
float) for any batch, any split into runs and any anchor carried between them: runs
that begin inside a bucket begun before the run, runs without a known fix, fixes in
the anchor's bucket, gaps of several buckets, several tracks in one batch, NaN speeds
and headings (carried fixes have none), equal times.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.identify.turns import TURN_BASELINE_S, Anchor, BatchTurns, extend_turns


@st.composite
def batches(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """Tracks (times rising, steps of 0-40 s so that some stay in a bucket and some
    skip one), NaN speeds/headings here and there, and each track cut into runs (the
    cut points drawn; a run may be one fix)."""
    times: list[float] = []
    cuts: list[list[int]] = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 25))
        t = draw(st.floats(-1e6, 1e6, allow_nan=False))
        start = len(times)
        for _ in range(n):
            times.append(t)
            t += draw(st.sampled_from([0.0, 0.5, 3.0, 7.5, 14.9, 15.0, 16.0, 29.0, 40.0]))
        inner = sorted(set(draw(st.lists(st.integers(start + 1, start + n), max_size=6))))
        cuts.append([start, *[c for c in inner if c < start + n], start + n])
    m = len(times)
    speed = np.array(draw(st.lists(st.floats(0.0, 400.0), min_size=m, max_size=m)))
    heading = np.array(draw(st.lists(st.floats(0.0, 359.99), min_size=m, max_size=m)))
    # about one fix in eight without speed, one in eight without heading
    speed[np.array(draw(st.lists(st.integers(0, 7), min_size=m, max_size=m))) == 0] = math.nan
    heading[np.array(draw(st.lists(st.integers(0, 7), min_size=m, max_size=m))) == 0] = math.nan
    return np.array(times), speed, heading, cuts


@settings(max_examples=400, deadline=None)
@given(batches(), st.data())
def test_runs_measure_what_extend_turns_measures(batch, data: st.DataObject) -> None:
    t, v, h, cuts = batch
    turns = BatchTurns(t, v, h)
    for track in cuts:
        anchor: Anchor | None = None
        for a, end in itertools.pairwise(track):
            if data.draw(st.booleans()):  # a new entry: nothing carried
                anchor = None
            b = end - 1
            want = extend_turns(anchor, t[a:end], v[a:end], h[a:end])
            got = turns.extend(anchor, a, b)
            assert got == want, (a, b, anchor)
            anchor = got[1]


def _some_runs(cuts: Any, n: int, data: st.DataObject
               ) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Some of the runs between the cuts of each track, and the rows they cover."""
    runs = [(a, end) for track in cuts for a, end in itertools.pairwise(track)]
    chosen = [r for r in runs if data.draw(st.booleans())]
    asked = np.zeros(n, bool)
    for a, end in chosen:
        asked[a:end] = True
    return chosen, asked


@settings(max_examples=300, deadline=None)
@given(batches(), st.data())
def test_a_table_of_the_asked_rows_only_measures_the_same(batch, data: st.DataObject) -> None:
    """Runs are made of the fixes inside a zone; the table may leave every other fix
    out (``asked``). Some runs are asked, the rows between them not: the asked runs
    get ``extend_turns``' answers all the same."""
    t, v, h, cuts = batch
    chosen, asked = _some_runs(cuts, len(t), data)
    turns = BatchTurns(t, v, h, asked=asked)
    for a, end in chosen:
        anchor: Anchor | None = None
        if data.draw(st.booleans()):  # an anchor carried from an earlier fix of the track
            k = data.draw(st.integers(-3, 0))
            anchor = (math.floor(t[a] / TURN_BASELINE_S) + k, t[a] + 15.0 * k, 100.0, 45.0)
        want = extend_turns(anchor, t[a:end], v[a:end], h[a:end])
        assert turns.extend(anchor, a, end - 1) == want, (a, end, anchor)


def test_a_run_beginning_inside_an_earlier_bucket_measures_from_its_own_first_fix() -> None:
    """Bucket 0 holds fixes at 0 s and 10 s, bucket 1 one at 20 s. The run 1..2 begins
    at 10 s: its turn is measured from 10 s (heading 0) to 20 s (heading 90), not from
    the bucket's start at 0 s (heading 45): 100 * (pi / 2) / 10 = 15.71 m/s^2, where the
    batch's own table holds 100 * (pi / 4) / 20 = 3.93."""
    t = np.array([0.0, 10.0, 20.0])
    turns = BatchTurns(t, np.full(3, 100.0), np.array([45.0, 0.0, 90.0]))
    hardest, anchor = turns.extend(None, 1, 2)
    assert hardest is not None and math.isclose(hardest, 100 * math.pi / 2 / 10)
    assert anchor == (1.0, 20.0, 100.0, 90.0)


def test_a_run_without_known_fixes_keeps_the_anchor() -> None:
    anchor = (3.0, 3 * TURN_BASELINE_S, 100.0, 10.0)
    turns = BatchTurns([50.0, 61.0], [math.nan, 100.0], [20.0, math.nan])
    assert turns.extend(anchor, 0, 1) == (None, anchor)


@settings(max_examples=400, deadline=None)
@given(batches(), st.data())
def test_spans_of_many_runs_at_once_measure_what_extend_turns_measures(
        batch, data: st.DataObject) -> None:
    """The detector asks for every run of a zone at once (``spans``), then continues
    each from its entry's anchor (``extend_span``): runs of several tracks, some rows
    not asked, anchors carried from the run before or from an earlier fix."""
    t, v, h, cuts = batch
    chosen, asked = _some_runs(cuts, len(t), data)
    turns = BatchTurns(t, v, h, asked=asked if data.draw(st.booleans()) else None)
    spans = turns.spans([a for a, _ in chosen], [end - 1 for _, end in chosen])
    assert len(spans.first) == len(chosen)
    previous: Anchor | None = None
    for i, (a, end) in enumerate(chosen):
        how = data.draw(st.sampled_from(["none", "previous", "earlier"]))
        anchor: Anchor | None = None
        if how == "previous":
            anchor = previous
        elif how == "earlier":
            k = data.draw(st.integers(-3, 0))
            anchor = (math.floor(t[a] / TURN_BASELINE_S) + k, t[a] + 15.0 * k, 100.0, 45.0)
        want = extend_turns(anchor, t[a:end], v[a:end], h[a:end])
        got = turns.extend_span(anchor, spans.first[i], spans.next_start[i],
                                spans.last_start[i], spans.inner[i])
        assert got == want, (a, end, anchor)
        previous = got[1]
