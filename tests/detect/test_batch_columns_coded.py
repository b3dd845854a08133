"""A run's callsign and emergency squawks when the batch's text columns are categorical
(as the readers give them) or plain objects (a hand-built batch), against a row-by-row
reading of the batch.

``BatchColumns`` reads a categorical column through its own codes, reordered into the
detector's working order, and an object column through ``factorize_runs``: both must
name, for any run of rows, the last non-blank callsign (stripped) and the emergency
squawks among the run's rows, wherever the categories are (unused ones, any order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.detect.track_state import BatchWork, TrackTable
from skyfence.vocab import EMERGENCY_SQUAWKS

CALLSIGNS = [None, "", "  ", "ABC123", " ABC123 ", "XYZ9", "xyz9", "7700"]
SQUAWKS = [None, "", "7700", "7500", "7600", "1200", "2000", " 7700"]


def _brute_callsign(values: list[object]) -> str | None:
    for v in reversed(values):
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _brute_squawks(values: list[object]) -> list[str]:
    return sorted({v for v in values if isinstance(v, str) and v in EMERGENCY_SQUAWKS})


@st.composite
def batches(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str]]:
    n = draw(st.integers(1, 40))
    ids = draw(st.lists(st.sampled_from(["aaa111", "bbb222", "ccc333"]), min_size=n,
                        max_size=n))
    calls = draw(st.lists(st.sampled_from(CALLSIGNS), min_size=n, max_size=n))
    squawks = draw(st.lists(st.sampled_from(SQUAWKS), min_size=n, max_size=n))
    # categories: every value used, extra unused ones, in a drawn order
    call_cats = draw(st.permutations(sorted({c for c in CALLSIGNS if c is not None}
                                            | {"UNUSED1"})))
    sq_cats = draw(st.permutations(sorted({s for s in SQUAWKS if s is not None}
                                          | {"7777"})))
    times = np.arange(n, dtype=np.float64) * 5.0 + 100.0
    base = {"icao24": ids, "time": times, "lon": np.linspace(0.0, 1.0, n),
            "lat": np.zeros(n), "altitude": np.full(n, 1000.0)}
    plain = pd.DataFrame({**base, "callsign": pd.Series(calls, dtype=object),
                          "squawk": pd.Series(squawks, dtype=object)})
    coded = pd.DataFrame({**base,
                          "callsign": pd.Categorical(calls, categories=call_cats),
                          "squawk": pd.Categorical(squawks, categories=sq_cats)})
    return plain, coded, calls, squawks


@settings(max_examples=300, deadline=None)
@given(batches(), st.data())
def test_runs_read_alike_from_codes_and_objects(got: tuple, data: st.DataObject) -> None:
    plain, coded, calls, squawks = got
    if data.draw(st.booleans()):  # rows out of track and time order (a feed's batch)
        perm = data.draw(st.permutations(range(len(plain))))
        plain, coded = (f.iloc[perm].reset_index(drop=True) for f in (plain, coded))
        calls, squawks = [calls[i] for i in perm], [squawks[i] for i in perm]
    tracks = TrackTable()
    # a first batch may leave carried rows (no callsign, no squawk) in front of tracks
    first = pd.DataFrame({"icao24": ["aaa111", "ccc333"], "time": [1.0, 2.0],
                          "lon": [0.0, 0.0], "lat": [0.0, 0.0], "altitude": [0.0, 0.0],
                          "callsign": ["CARRIED", "CARRIED"], "squawk": ["7500", "7500"]})
    if data.draw(st.booleans()):
        BatchWork.build(first, tracks, gap_s=1e9).carry(tracks)
    works = [BatchWork.build(b, tracks, gap_s=1e9) for b in (plain, coded)]
    src = works[0].cols._src
    if src is None:  # no carried row, rows in order: the batch's own
        assert works[1].cols._src is None
        src = np.arange(len(plain))
    assert np.array_equal(src, works[1].cols._src if works[1].cols._src is not None
                          else np.arange(len(coded)))
    code = works[0].code
    new = np.flatnonzero(src >= 0)
    # each new working row is the batch row src names (times are distinct in a batch)
    assert np.array_equal(plain["time"].to_numpy()[src[new]], works[0].time[new])
    # runs: pieces of consecutive new rows of one track
    a = data.draw(st.sampled_from(new.tolist()))
    same = new[(new >= a) & (code[new] == code[a])]
    block = same[np.concatenate([[True], np.diff(same) == 1]).cumprod().astype(bool)]
    b = block[-1] if data.draw(st.booleans()) else data.draw(st.sampled_from(block.tolist()))
    rows = src[a : b + 1].tolist()
    want_call = _brute_callsign([calls[r] for r in rows])
    want_sq = _brute_squawks([squawks[r] for r in rows])
    for w in works:
        assert w.cols.last_callsign(a, b) == want_call
        assert w.cols.emergency_squawks(a, b) == want_sq


@settings(max_examples=200, deadline=None)
@given(batches(), st.data())
def test_a_detectors_rows_of_a_shared_batch_read_as_its_own_batch(
        got: tuple, data: st.DataObject) -> None:
    """A detector given some tracks' rows of a batch (the batch shared, not copied)
    sees what it would see in a batch of those rows alone: the same working rows, the
    same callsign and squawks for every run, carried rows or not."""
    plain, coded, _, _ = got
    frame = data.draw(st.sampled_from([plain, coded]))
    mine = data.draw(st.sets(st.sampled_from(["aaa111", "bbb222", "ccc333"]), min_size=1))
    rows = np.flatnonzero(frame["icao24"].isin(mine).to_numpy())
    if not len(rows):
        return
    carry = data.draw(st.booleans())  # the same carried rows in front of both, or none
    works = []
    for batch, sub in ((frame, rows), (frame.take(rows).reset_index(drop=True), None)):
        tracks = TrackTable()
        if carry:
            first = pd.DataFrame({"icao24": ["aaa111", "ccc333"], "time": [1.0, 2.0],
                                  "lon": [0.0, 0.0], "lat": [0.0, 0.0],
                                  "altitude": [0.0, 0.0], "callsign": ["CARRIED"] * 2,
                                  "squawk": ["7500", "7500"]})
            BatchWork.build(first, tracks, gap_s=1e9).carry(tracks)
        works.append(BatchWork.build(batch, tracks, gap_s=1e9, rows=sub))
    shared, alone = works
    assert shared.time.tolist() == alone.time.tolist()
    assert [shared.uniques[c] for c in shared.code] == [alone.uniques[c] for c in alone.code]
    n = len(shared.time)
    for a in range(n):
        for b in range(a, min(n, a + 4)):
            assert shared.cols.last_callsign(a, b) == alone.cols.last_callsign(a, b)
            assert shared.cols.emergency_squawks(a, b) == alone.cols.emergency_squawks(a, b)
