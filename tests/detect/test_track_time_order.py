"""The working order of a batch's rows (by track, then time, carried rows first among
equals) against numpy's three-key ``lexsort``, for feeds in time order (the one-key
sort) and for anything else."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.detect.track_state import _track_time_order


@st.composite
def feed_batches(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Carried rows (one per track, in front) then new rows; new rows in time order or
    not, late or not, ids of any size or missing (-1) sometimes."""
    tracks = draw(st.integers(1, 12))
    # ids in 8 bits, in 16 bits (a radix sort's key either way), past 16 bits
    offset = draw(st.sampled_from([0, 250, 65_530, 70_000]))
    ids = np.array(draw(st.permutations(range(tracks)))) + offset
    if draw(st.booleans()):
        ids[0] = -1  # a hand-built batch's missing id
    n_new = draw(st.integers(0, 60))
    code = np.array(draw(st.lists(st.sampled_from(ids.tolist()), min_size=n_new,
                                  max_size=n_new)), dtype=np.intp)
    time = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, 8.0, np.nan]),
                                  min_size=n_new, max_size=n_new)))
    if draw(st.booleans()):
        time = np.sort(time)  # a feed: in time order (NaN last)
    carried_ids = [t for t in ids.tolist() if draw(st.booleans())]
    carried_time = np.array([draw(st.sampled_from([-1.0, 0.0, 1.0, 4.0]))
                             for _ in carried_ids])
    code = np.concatenate([np.array(carried_ids, dtype=np.intp), code])
    time = np.concatenate([carried_time, time])
    carried = np.zeros(len(code), bool)
    carried[: len(carried_ids)] = True
    last = dict(zip(carried_ids, carried_time.tolist(), strict=True))
    # as the detector tells it: a new row at or before its track's carried fix is late
    none_late = not any(c in last and t <= last[c]
                        for c, t in zip(code[~carried].tolist(), time[~carried].tolist(),
                                        strict=True))
    return code, time, carried, none_late


@settings(max_examples=400, deadline=None)
@given(feed_batches())
def test_order_is_the_three_key_sort(batch: tuple[np.ndarray, np.ndarray, np.ndarray,
                                                  bool]) -> None:
    code, time, carried, none_late = batch
    want = np.lexsort((~carried, time, code))
    got = _track_time_order(code, time, carried, none_late=none_late)
    if got is None:  # already in order
        got = np.arange(len(code))
    assert got.tolist() == want.tolist()


def test_a_feed_with_ids_either_side_of_a_byte_sorts_by_track() -> None:
    """Codes 255 and 256 interleaved (a key cut to 8 bits would put 256 first)."""
    code = np.array([255, 256, 255, 256], dtype=np.intp)
    time = np.array([1.0, 2.0, 3.0, 4.0])
    got = _track_time_order(code, time, np.zeros(4, bool), none_late=True)
    assert got is not None and got.tolist() == [0, 2, 1, 3]
