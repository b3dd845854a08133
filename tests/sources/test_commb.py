"""Comm-B replies rewritten as short replies give what rs1090 gives for the long ones.

The reference is rs1090 decoding the original DF20 / DF21 replies (all registers
inferred): on the 57,793 recorded frames of a flight shipped with ``traffic`` and on
random replies built here with a known address (Hypothesis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rs1090
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.benchmarks.decode import SAMPLE_REF, load_frames
from skyfence.sources.commb import crc24, shorten_commb
from skyfence.sources.modes import Rs1090Decoder

# the six-bit character set of an identification (ICAO Annex 10, vol. IV): '#' unused
CHARS = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


@pytest.fixture(scope="module")
def recorded() -> tuple[list[str], list[float]]:
    return load_frames()


def as_bytes(frames: list[str]) -> np.ndarray:
    return np.frombuffer(bytes.fromhex("".join(frames)), np.uint8).reshape(len(frames), -1)


def test_crc_is_the_parity_of_every_recorded_extended_squitter(recorded) -> None:
    frames, _ = recorded
    df17 = [f for f in frames if int(f[:2], 16) >> 3 == 17]
    data = as_bytes(df17)
    parity = (data[:, 11].astype(np.uint32) << 16) | (data[:, 12].astype(np.uint32) << 8) \
        | data[:, 13]
    assert len(df17) > 10_000
    assert (crc24(data[:, :11]) == parity).all()


def test_recorded_commb_replies_keep_address_altitude_squawk_and_callsign(recorded) -> None:
    frames, times = recorded
    picked = [(f, t) for f, t in zip(frames, times, strict=True)
              if int(f[:2], 16) >> 3 in (20, 21)]
    long_f, long_t = [f for f, _ in picked], [t for _, t in picked]
    full = rs1090.decode(long_f, long_t, reference=SAMPLE_REF)
    short, idents = shorten_commb(long_f, rs1090.decode_bds20)
    assert all(len(f) == 14 for f in short)
    brief = rs1090.decode(short, long_t, reference=SAMPLE_REF)
    assert len(full) == len(brief) == len(picked) > 20_000
    for k, (m, b) in enumerate(zip(full, brief, strict=True)):
        assert b["icao24"] == m["icao24"]
        assert b.get("altitude") == m.get("altitude")
        assert b.get("squawk") == m.get("squawk")
        assert int(b["df"]) == int(m["df"]) - 16
        # the rest of the header (FS / DR / UM and the altitude or identity code) kept
        assert int(short[k][:8], 16) & 0x07FFFFFF == int(long_f[k][:8], 16) & 0x07FFFFFF
        assert idents.get(k) == m.get("bds20", {}).get("callsign")
    assert sum("bds20" in m for m in full) == len(idents) > 1000


def test_the_decoder_gives_the_same_observations_either_way(recorded) -> None:
    frames, times = recorded
    # upper case as some feeds write frames; batches as a live feed delivers them
    frames = [f.upper() if k % 3 == 0 else f for k, f in enumerate(frames)]

    def decode(shorten: bool) -> tuple[pd.DataFrame, object]:
        dec = Rs1090Decoder(ref=SAMPLE_REF, shorten_commb=shorten)
        parts = [dec.decode(frames[i:i + 700], times[i:i + 700])
                 for i in range(0, len(frames), 700)]
        return pd.concat(parts, ignore_index=True), dec.stats

    reference, ref_stats = decode(False)
    fast, fast_stats = decode(True)
    assert fast_stats == ref_stats
    # message by message too: each identification stays on the reply that carried it
    tables = {shorten: Rs1090Decoder(ref=SAMPLE_REF, shorten_commb=shorten)._decode_messages(
        [f.lower() for f in frames[:20_000]], list(times[:20_000])) for shorten in (False, True)}
    assert sum(c is not None for c in tables[False]["callsign"]) > 100
    assert tables[True].keys() == tables[False].keys()
    for key, column in tables[False].items():
        np.testing.assert_array_equal(tables[True][key], column, err_msg=key)
    assert reference.callsign.notna().sum() > 1000 and reference.squawk.notna().sum() > 1000
    pd.testing.assert_frame_equal(fast, reference)


def encode(fmt: int, header: bytes, mb: bytes, address: int) -> str:
    """A Comm-B reply: DF ``fmt``, 25 header bits after it, MB, address on the parity."""
    body = bytes([(fmt << 3) | (header[0] & 7), *header[1:4], *mb])
    parity = int(crc24(np.frombuffer(body, np.uint8)[None])[0]) ^ address
    return (body + parity.to_bytes(3, "big")).hex()


def identification(chars: list[int]) -> bytes:
    bits = 0x20
    for c in chars:
        bits = (bits << 6) | c
    return bits.to_bytes(7, "big")


mbs = st.one_of(st.binary(min_size=7, max_size=7),
                st.lists(st.integers(0, 63), min_size=8, max_size=8).map(identification),
                st.lists(st.sampled_from([i for i, c in enumerate(CHARS) if c != "#"]),
                         min_size=8, max_size=8).map(identification))


@settings(max_examples=300, deadline=None)
@given(fmt=st.sampled_from([20, 21]), header=st.binary(min_size=4, max_size=4), mb=mbs,
       address=st.integers(0, 0xFFFFFF))
def test_random_commb_replies_decode_as_rs1090_decodes_them(
        fmt: int, header: bytes, mb: bytes, address: int) -> None:
    frame = encode(fmt, header, mb, address)
    full = rs1090.decode([frame], [1.0])
    (short,), idents = shorten_commb([frame.upper()], rs1090.decode_bds20)
    brief = rs1090.decode([short], [1.0])
    assert len(brief) == len(full) == 1
    assert brief[0]["icao24"] == full[0]["icao24"] == f"{address:06x}"
    assert brief[0].get("altitude") == full[0].get("altitude")
    assert brief[0].get("squawk") == full[0].get("squawk")
    assert idents.get(0) == full[0].get("bds20", {}).get("callsign")
