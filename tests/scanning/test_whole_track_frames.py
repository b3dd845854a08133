"""Frames of whole tracks from the chunks of a track-by-track input, against the rows
and runs of the input read at once.

The frames must hold every row once, in order; no run of one track id may be cut
between two frames; ids given as categoricals (each chunk with categories of its
own) are compared by their codes within a chunk and keep their values. Where every
row has an id, the frames are cut where the first version cut them (it concatenated
each chunk with the track held back from the one before, and compared ids as
objects): kept below as the reference.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.scanning.clustered import _joined, last_run_start, whole_track_frames

IDS = ["a0", "b1", "c2", "d3", "e4"]


@st.composite
def inputs(draw: st.DrawFn) -> tuple[list[str | None], list[int], bool, int]:
    runs = draw(st.lists(st.tuples(st.sampled_from([*IDS, None]), st.integers(1, 5)),
                         min_size=0, max_size=12))
    ids: list[str | None] = []
    for value, length in runs:
        if ids and ids[-1] == value and value is not None:
            continue  # two runs of one id would not be a track-by-track input
        ids += [value] * length
    cuts = sorted(draw(st.lists(st.integers(0, len(ids)), max_size=6)))
    return ids, cuts, draw(st.booleans()), draw(st.integers(1, 12))


def _chunks(ids: list[str | None], cuts: list[int], categorical: bool) -> list[pd.DataFrame]:
    bounds = [0, *cuts, len(ids)]
    out = []
    for a, b in itertools.pairwise(bounds):
        part = ids[a:b]
        calls = [None if v is None else v.upper() + "X" for v in part]
        frame = pd.DataFrame({"icao24": pd.Series(part, dtype=object),
                              "time": np.arange(a, b, dtype=np.float64),
                              "callsign": pd.Series(calls, dtype=object)})
        if categorical:
            # categories of the chunk's own, in a chunk-dependent order, some unused
            for col in ("icao24", "callsign"):
                used = sorted({v for v in frame[col] if v is not None},
                              reverse=bool(a % 2))
                frame[col] = pd.Categorical(frame[col], categories=[*used, f"unused{a}"])
        out.append(frame)
    return out


def reference_frames(chunks: list[pd.DataFrame], share: int) -> list[pd.DataFrame]:
    """``whole_track_frames`` as first written (8588e50), verbatim but for the list."""
    out = []
    held: list[pd.DataFrame] = []
    n = 0
    tail: pd.DataFrame | None = None
    for chunk in chunks:
        if tail is not None and len(tail):
            chunk = pd.concat([tail, chunk], ignore_index=True)
        cut = last_run_start(chunk["icao24"].to_numpy(dtype=object))
        done, tail = chunk.iloc[:cut], chunk.iloc[cut:]
        if not len(done):
            continue
        if held and n + len(done) > share:
            out.append(_joined(held))
            held, n = [], 0
        held.append(done)
        n += len(done)
    if tail is not None and len(tail):
        if held and n + len(tail) > share:
            out.append(_joined(held))
            held = []
        held.append(tail)
    if held:
        out.append(_joined(held))
    return out


@settings(max_examples=300, deadline=None)
@given(inputs())
def test_frames_hold_whole_tracks_in_order(case: tuple) -> None:
    ids, cuts, categorical, share = case
    frames = list(whole_track_frames(iter(_chunks(ids, cuts, categorical)), share))
    got_ids = [v for f in frames for v in f["icao24"].astype(object).tolist()]
    assert [None if pd.isna(v) else v for v in got_ids] == ids
    got_time = np.concatenate([f["time"].to_numpy() for f in frames]) if frames else []
    assert np.array_equal(got_time, np.arange(len(ids), dtype=np.float64))
    calls = [v for f in frames for v in f["callsign"].astype(object).tolist()]
    assert [None if pd.isna(v) else v for v in calls] == [
        None if v is None else v.upper() + "X" for v in ids]
    for f in frames:
        assert f.index.equals(pd.RangeIndex(len(f)))
        assert len(f)
    # no track cut between frames
    for f, g in itertools.pairwise(frames):
        last, first = f["icao24"].iloc[-1], g["icao24"].iloc[0]
        assert pd.isna(last) or pd.isna(first) or last != first
    if None not in ids:
        want = reference_frames(_chunks(ids, cuts, False), share)
        assert [len(f) for f in frames] == [len(f) for f in want if len(f)]
