"""rs1090 calls split over the cores, and the one-scan frame check, change nothing.

rs1090 parses the parts of one call in parallel and decodes positions after, over all
of them in order; :func:`~skyfence.sources.modes.rust_batch` relies on that (if a
release paired CPR frames per part, the first test fails). The frame check of a
whole batch must say what the per-frame pattern says of every frame.
"""

from __future__ import annotations

import pandas as pd
import pytest
import rs1090
from feed_helpers import recorded_frames
from hypothesis import given
from hypothesis import strategies as st

from skyfence.benchmarks.decode import load_frames
from skyfence.sources import modes
from skyfence.sources.modes import _HEX_FRAME, _all_frames, make_decoder, rust_batch

CDG = (49.0, 2.5)


@pytest.mark.parametrize("cores", [2, 4])
def test_a_call_split_over_cores_gives_the_messages_of_one_part(cores: int) -> None:
    frames, times = load_frames()
    frames, times = frames[:12_000], times[:12_000]
    for i in range(0, len(frames), 1000):
        f, t = frames[i : i + 1000], times[i : i + 1000]
        assert rust_batch(len(f), cores) < len(f)
        whole = rs1090.decode(f, t, reference=CDG, batch=len(f))
        split = rs1090.decode(f, t, reference=CDG, batch=rust_batch(len(f), cores))
        assert split == whole
        assert sum("latitude" in m for m in whole) > 0


def _decoded(frames: list[str], times: list[float]) -> tuple[pd.DataFrame, object]:
    dec = make_decoder("rs1090", ref=CDG)
    parts = [dec.decode(frames[i : i + 700], times[i : i + 700])
             for i in range(0, len(frames), 700)]
    return pd.concat(parts, ignore_index=True), dec.stats


def test_the_decoder_gives_the_same_observations_split_or_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    times, frames = recorded_frames()
    # a few bad items among them: the frame-by-frame path
    frames = [*frames[:500], "zz", *frames[500:1500], "8d40", *frames[1500:]]
    times = [*times[:500], times[500], *times[500:1500], times[1500], *times[1500:]]
    monkeypatch.setattr(modes, "_cores", lambda: 2)
    split, split_stats = _decoded(frames, times)
    monkeypatch.setattr(modes, "rust_batch", lambda n, cores=None: max(n, 1))
    whole, whole_stats = _decoded(frames, times)
    assert len(whole) > 100 and whole_stats.invalid == 2
    pd.testing.assert_frame_equal(split, whole)
    assert split_stats == whole_stats


def test_rust_batch_cuts_a_call_in_one_part_per_core_unless_parts_get_small() -> None:
    for n in range(0, 3000, 7):
        for cores in (1, 2, 3, 8):
            b = rust_batch(n, cores)
            parts = -(-n // b) if n else 0
            assert b >= 1 and parts <= cores
            assert parts <= 1 or b >= modes._MIN_RUST_BATCH


_ITEM = st.text(alphabet="0123456789abcdefABCDEFg \n", min_size=12, max_size=30)


@given(st.lists(st.one_of(_ITEM, st.sampled_from(["8D40621D58C382D690C8AC2863A7",
                                                   "5d3c66e6c6ad01"])), max_size=6))
def test_one_scan_says_what_the_pattern_says_of_every_frame(frames: list[str]) -> None:
    assert _all_frames(frames) == all(_HEX_FRAME.fullmatch(f) for f in frames)
