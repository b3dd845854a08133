"""Short replies read in columns say what rs1090 says of them, frame by frame.

The reference is rs1090 decoding each frame itself: the tables of
:func:`~skyfence.sources.short_replies.reply_codes` must give its altitude and squawk
for replies of any format, header and address (they are built from DF4 and DF5 replies
with a zero header), :func:`~skyfence.sources.short_replies.short_replies` must find the
frames and addresses rs1090 finds, and the decoder must give the same message tables,
observations and counts with the columnar path as without it (``columnar_replies=False``
hands every frame to rs1090, the path before).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import rs1090
from feed_helpers import recorded_frames
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.benchmarks.decode import SAMPLE_REF, load_frames
from skyfence.sources.commb import crc24
from skyfence.sources.modes import Rs1090Decoder
from skyfence.sources.short_replies import reply_codes, short_replies


def reply(df: int, header: int, code: int, address: int, tail: str = "") -> str:
    """A short reply: format, the 14 bits between format and code, 13-bit code, address
    on the parity; ``tail`` appended as some receivers record 112 bits for every frame."""
    body = ((df << 27) | (header << 13) | code).to_bytes(4, "big")
    parity = int(crc24(np.frombuffer(body, np.uint8)[None])[0]) ^ address
    return (body + parity.to_bytes(3, "big")).hex() + tail


def test_every_code_reads_as_rs1090_reads_it_under_any_header() -> None:
    codes = reply_codes()
    rng = np.random.default_rng(7)
    for df in (0, 4, 5):
        frames = [reply(df, int(rng.integers(1 << 14)), code, int(rng.integers(1 << 24)))
                  for code in range(1 << 13)]
        decoded: list[Any] = rs1090.decode(frames)
        assert len(decoded) == 1 << 13
        if df == 5:
            assert codes.squawk.tolist() == [m["squawk"] for m in decoded]
        else:
            want = np.array([np.nan if m["altitude"] is None else m["altitude"]
                             for m in decoded], dtype=np.float64)
            np.testing.assert_array_equal(codes.altitude_ft, want)
    assert np.isnan(codes.altitude_ft).sum() > 1000  # codes without an altitude exist
    assert len(set(codes.squawk.tolist())) == 1 << 12  # the X bit is not read


others = ["8d4840d6202cc371c32ce0576098", "a0001838ca3e51f0a8000047a36a",
          "5d3c66e6c6ad01", "8d3c66e699086a919838884331c7", "a8000b9b10030a80f6000017fcba"]
short_frames = st.builds(
    reply, st.sampled_from([0, 4, 5]), st.integers(0, (1 << 14) - 1),
    st.integers(0, (1 << 13) - 1), st.integers(0, (1 << 24) - 1),
    st.sampled_from(["", "f3a9c07b2d5e1144"]))
batches = st.lists(st.one_of(short_frames, st.sampled_from(others)), max_size=40).map(
    lambda fs: [f.upper() if k % 2 else f for k, f in enumerate(fs)])


@settings(max_examples=300, deadline=None)
@given(frames=batches)
def test_replies_are_the_frames_rs1090_reads_as_df0_4_5_with_its_address(
        frames: list[str]) -> None:
    replies = short_replies(frames)
    codes = reply_codes()
    decoded: dict[int, Any] = {k: rs1090.decode(f) for k, f in enumerate(frames)}
    want = [k for k, m in decoded.items() if m["df"] in ("0", "4", "5")]
    assert replies["at"].tolist() == want
    for at, df, address, code in zip(replies["at"].tolist(), replies["df"].tolist(),
                                     replies["address"].tolist(), replies["code"].tolist(),
                                     strict=True):
        m = decoded[at]
        assert (int(m["df"]), f"{address:06x}") == (df, m["icao24"])
        if df == 5:
            assert codes.squawk[code] == m["squawk"]
        elif m["altitude"] is None:
            assert np.isnan(codes.altitude_ft[code])
        else:
            assert codes.altitude_ft[code] == m["altitude"]


def test_an_empty_batch_has_no_replies() -> None:
    replies = short_replies([])
    assert [len(replies[k]) for k in ("at", "df", "address", "code")] == [0, 0, 0, 0]


def _both(frames: list[str], times: list[float], size: int, **kwargs: Any) -> None:
    """Message tables, observations and counts of both paths, batch by batch."""
    decoders = {c: Rs1090Decoder(ref=SAMPLE_REF, columnar_replies=c, **kwargs)
                for c in (False, True)}
    out: dict[bool, list[pd.DataFrame]] = {False: [], True: []}
    for i in range(0, len(frames), size):
        f, t = frames[i:i + size], times[i:i + size]
        if i % (3 * size) == 0:  # the message tables themselves, on copies of the state
            tables: dict[bool, Any] = {}
            for c, dec in decoders.items():
                twin = Rs1090Decoder(ref=SAMPLE_REF, columnar_replies=c, **kwargs)
                twin._known, twin._last_fix = dict(dec._known), dict(dec._last_fix)
                twin._cpr = {k: dict(v) for k, v in dec._cpr.items()}
                tables[c] = twin._decode_messages([x.lower() for x in f], list(t))
            assert tables[False].keys() == tables[True].keys()
            for key in tables[False]:
                np.testing.assert_array_equal(tables[True][key], tables[False][key],
                                              err_msg=key)
        for c, dec in decoders.items():
            out[c].append(dec.decode(f, t))
    assert decoders[True].stats == decoders[False].stats
    pd.testing.assert_frame_equal(pd.concat(out[True], ignore_index=True),
                                  pd.concat(out[False], ignore_index=True))


@pytest.mark.parametrize("shorten", [True, False])
def test_the_recorded_flight_decodes_the_same_either_way(shorten: bool) -> None:
    frames, times = load_frames()
    frames = [f.upper() if k % 3 == 0 else f for k, f in enumerate(frames)]
    _both(frames[:30_000], times[:30_000], 700, shorten_commb=shorten)


def test_strangers_and_replies_before_the_first_squitter_are_rejected_alike() -> None:
    times, frames = recorded_frames()
    rng = np.random.default_rng(3)
    own = int(next(rs1090.decode(f)["icao24"] for f in frames if f.startswith("8d")), 16)
    mixed_f: list[str] = []
    mixed_t: list[float] = []
    for k, (t, f) in enumerate(zip(times, frames, strict=True)):
        if k % 4 == 0:  # a reply of a stranger, then one of the recorded aircraft
            mixed_f.append(reply(int(rng.choice([0, 4, 5])), int(rng.integers(1 << 14)),
                                 int(rng.integers(1 << 13)), int(rng.integers(1 << 24))))
            mixed_f.append(reply(int(rng.choice([0, 4, 5])), int(rng.integers(1 << 14)),
                                 int(rng.integers(1 << 13)), own))
            mixed_t += [t, t]
        mixed_f.append(f)
        mixed_t.append(t)
    first_squitter = next(k for k, f in enumerate(mixed_f) if f.startswith("8d"))
    assert first_squitter > 1  # replies of the aircraft come before it is trusted
    dec = Rs1090Decoder(ref=SAMPLE_REF)
    dec.decode(mixed_f, mixed_t)
    assert dec.stats.rejected > len(frames) // 4
    _both(mixed_f, mixed_t, 500)
