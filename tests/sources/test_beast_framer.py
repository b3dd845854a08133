"""Beast binary framing: real captures, escapes, frames split across reads, bad bytes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from feed_helpers import data_path

from skyfence.sources._frames import LineSplitter
from skyfence.sources.beast import BeastFramer


def encode(kind: bytes, ticks: int, signal: int, message: bytes) -> bytes:
    """One Beast frame with every 0x1a after the type doubled."""
    body = ticks.to_bytes(6, "big") + bytes([signal]) + message
    return b"\x1a" + kind + body.replace(b"\x1a", b"\x1a\x1a")


LONG = bytes.fromhex("8d4840d6202cc371c32ce0576098")
SHORT = bytes.fromhex("5d3981e46dc8e0")


def test_real_capture_parses_without_loss() -> None:
    data = data_path("sample_dump1090.bin").read_bytes()
    framer = BeastFramer()
    frames = framer.feed(data)
    assert framer.stats.malformed == 0 and framer.pending == 0
    assert len(frames) == framer.stats.frames > 200
    assert all(len(h) in (14, 28) for h in frames.hex)
    assert np.all(np.diff(frames.ticks) >= 0)  # a 12 MHz counter moving forward
    # re-encoding what we read gives back the bytes we were given
    rebuilt = b"".join(
        encode(b"3" if len(h) == 28 else b"2", t, s, bytes.fromhex(h))
        for h, t, s in zip(frames.hex, frames.ticks, frames.signal, strict=True)
    )
    assert rebuilt == data


@pytest.mark.parametrize("step", [1, 2, 3, 7, 22, 1000])
def test_frames_split_across_reads(step: int) -> None:
    data = data_path("dump1090_beast.bin").read_bytes()
    whole = BeastFramer().feed(data)
    framer = BeastFramer()
    pieces = [framer.feed(data[i : i + step]) for i in range(0, len(data), step)]
    assert [h for p in pieces for h in p.hex] == whole.hex
    assert framer.stats.frames == len(whole) and framer.stats.malformed == 0


def test_escaped_bytes_in_timestamp_signal_and_message() -> None:
    message = bytes.fromhex("8d1a1a1a202cc371c32ce057601a")
    data = encode(b"3", 0x1A1A00001A1A, 0x1A, message) + encode(b"2", 5, 1, SHORT)
    for cut in range(1, len(data)):
        framer = BeastFramer()
        frames = framer.feed(data[:cut])
        frames.extend(framer.feed(data[cut:]))
        assert frames.hex == [message.hex(), SHORT.hex()], cut
        assert frames.ticks == [0x1A1A00001A1A, 5] and frames.signal == [0x1A, 1]


def test_the_longest_escaped_frame_cut_anywhere_is_read_whole() -> None:
    """A long frame whose 21 bytes (timestamp, signal, message) are all 0x1a is 44
    bytes on the wire, every body byte doubled: the longest frame Beast can send. Cut
    after any of its bytes, the framer holds the part read (up to 43 bytes) until the
    rest comes, then gives the frame whole; nothing is counted malformed."""
    message = b"\x1a" * 14
    data = encode(b"3", 0x1A1A1A1A1A1A, 0x1A, message)
    assert len(data) == 2 + 2 * 21
    for cut in range(1, len(data)):
        framer = BeastFramer()
        frames = framer.feed(data[:cut])
        assert framer.pending == cut, cut
        frames.extend(framer.feed(data[cut:]))
        assert frames.hex == [message.hex()] and frames.ticks == [0x1A1A1A1A1A1A], cut
        assert frames.signal == [0x1A] and framer.stats.malformed == 0, cut


def test_mode_ac_is_counted_not_returned() -> None:
    framer = BeastFramer()
    frames = framer.feed(encode(b"1", 1, 2, b"\x12\x34") + encode(b"3", 2, 3, LONG))
    assert frames.hex == [LONG.hex()] and framer.stats.mode_ac == 1


def test_malformed_data_is_skipped_and_counted() -> None:
    good = encode(b"3", 7, 9, LONG)
    cut_short = encode(b"3", 8, 9, LONG)[:12]  # a frame interrupted by the next one
    data = b"noise" + good + b"\x1a9xxxx" + good + cut_short + good + b"\x00\x01" + good
    framer = BeastFramer()
    frames = framer.feed(data)
    assert frames.hex == [LONG.hex()] * 4
    assert framer.stats.malformed == 4
    assert framer.stats.first_malformed_at == 0


def test_reset_drops_a_partial_frame() -> None:
    framer = BeastFramer()
    framer.feed(encode(b"3", 7, 9, LONG)[:10])
    assert framer.pending == 10
    framer.reset()
    assert framer.feed(encode(b"2", 1, 1, SHORT)).hex == [SHORT.hex()]


def test_line_splitter_keeps_partial_lines_and_drops_overlong() -> None:
    splitter = LineSplitter(max_line=20)
    assert splitter.feed(b"*8D48;\r\n*5D39") == ["*8D48;"]
    assert splitter.feed(b"81;\n" + b"x" * 30) == ["*5D3981;"]
    assert splitter.feed(b"yyy\nok\n") == ["ok"]
    assert splitter.overlong == 1
    assert splitter.feed(b"tail") == [] and splitter.flush() == ["tail"]


def test_where_the_first_bad_data_is_counts_every_byte_fed() -> None:
    """Offsets count from the first byte ever fed, across reads and a frame held over:
    a long frame (23 bytes: 0x1a, type, 6 + 1 + 14) fed as 10 + 13 bytes, then a Mode A/C
    frame (11 bytes) and 3 bytes of noise in the next read: the noise starts at byte
    23 + 11 = 34, while reading record 3 (two frames before it)."""
    good = encode(b"3", 7, 9, LONG)
    mode_ac = encode(b"1", 8, 9, b"\x12\x34")
    assert (len(good), len(mode_ac)) == (23, 11)
    framer = BeastFramer()
    assert framer.feed(good[:10]).hex == []
    assert framer.feed(good[10:]).hex == [LONG.hex()]
    frames = framer.feed(mode_ac + b"xyz" + good)
    assert frames.hex == [LONG.hex()]
    s = framer.stats
    assert (s.bytes, s.frames, s.mode_ac, s.malformed) == (23 + 11 + 3 + 23, 2, 1, 1)
    assert (s.first_malformed_at, s.first_malformed_record) == (34, 3)
    # later bad data is counted, the first place stays
    framer.feed(b"more noise")
    assert s.malformed == 2 and s.first_malformed_at == 34


def test_an_escaped_byte_outside_a_frame_is_no_error() -> None:
    """``0x1a 0x1a`` between frames is a stuffed data byte, not a frame start: skipped
    without a count, and the frame right after it is read."""
    framer = BeastFramer()
    frames = framer.feed(b"\x1a\x1a" + encode(b"2", 1, 1, SHORT))
    assert frames.hex == [SHORT.hex()]
    assert framer.stats.malformed == 0 and framer.pending == 0


def test_a_stuffed_byte_before_a_type_byte_does_not_start_a_frame() -> None:
    """Joining a stream in the middle of a frame whose data holds ``0x1a 0x1a 0x32``:
    the pair is one data byte, so the ``0x32`` after it is data too, not the type of a
    Mode S short frame (read as one, the next 14 bytes would make a frame of noise).
    Only the real frame after the tail is returned; the tail is counted as bad data."""
    tail = b"\x1a\x1a\x32" + bytes(range(1, 15))
    framer = BeastFramer()
    frames = framer.feed(tail + encode(b"3", 7, 9, LONG))
    assert frames.hex == [LONG.hex()]
    assert frames.ticks == [7] and frames.signal == [9]
    assert framer.stats.malformed == 1  # the tail after the stuffed byte, once


def test_a_frame_ending_in_an_escaped_byte_is_complete_at_once() -> None:
    """A short frame whose last message byte is 0x1a (sent as 0x1a 0x1a at the very end
    of the read) is returned by that read; nothing is held over."""
    message = bytes.fromhex("5d3981e46dc81a")
    framer = BeastFramer()
    assert framer.feed(encode(b"2", 1, 1, message)).hex == [message.hex()]
    assert framer.pending == 0 and framer.stats.malformed == 0


def test_a_reset_framer_starts_clean() -> None:
    """After a reset (the connection is gone) the next read starts a new stream: nothing
    of the dropped frame is left to be taken for noise."""
    framer = BeastFramer()
    framer.feed(encode(b"3", 7, 9, LONG)[:10])
    framer.reset()
    assert framer.pending == 0
    assert framer.feed(encode(b"2", 1, 1, SHORT)).hex == [SHORT.hex()]
    assert framer.stats.malformed == 0 and framer.pending == 0


def test_noise_at_the_end_of_a_read_that_completes_a_held_over_frame() -> None:
    """A long frame fed as 10 bytes, then its 13 other bytes and 2 bytes of noise: the
    frame is returned, the noise (at byte 23) counted at once, nothing held over."""
    good = encode(b"3", 7, 9, LONG)
    framer = BeastFramer()
    framer.feed(good[:10])
    frames = framer.feed(good[10:] + b"zz")
    assert frames.hex == [LONG.hex()]
    assert framer.pending == 0
    s = framer.stats
    assert (s.malformed, s.first_malformed_at, s.first_malformed_record) == (1, 23, 2)


@pytest.mark.parametrize("tail", [b"", b"\x1a"])
def test_an_unknown_type_is_counted_where_it_is(tail: bytes) -> None:
    """A frame (23 bytes), then 0x1a '9' (no Beast type), then a frame: the bad start is
    at byte 23; at the very end of a read it is counted at once, not held over."""
    good = encode(b"3", 7, 9, LONG)
    framer = BeastFramer()
    frames = framer.feed(good + b"\x1a9" + (good if tail else b""))
    assert frames.hex == [LONG.hex()] * (2 if tail else 1)
    assert framer.pending == 0
    assert (framer.stats.malformed, framer.stats.first_malformed_at) == (1, 23)


def test_a_frame_cut_short_is_counted_where_it_starts_and_mode_ac_frames_add_up() -> None:
    """Two Mode A/C frames (11 bytes each), a long frame cut short by the next frame
    (starting at byte 22), then a long frame: 2 Mode A/C, 1 frame, 1 bad at byte 22."""
    mode_ac = encode(b"1", 8, 9, b"\x12\x34")
    good = encode(b"3", 7, 9, LONG)
    framer = BeastFramer()
    frames = framer.feed(mode_ac + mode_ac + good[:12] + good)
    assert frames.hex == [LONG.hex()] and frames.ticks == [7] and frames.signal == [9]
    # Beast carries a 12 MHz counter, no absolute time: NaN, as Frames documents
    assert len(frames.times) == 1 and math.isnan(frames.times[0])
    s = framer.stats
    assert (s.mode_ac, s.frames, s.malformed, s.first_malformed_at) == (2, 1, 1, 22)


def test_an_unfinished_escaped_frame_after_a_whole_one_is_held_alone() -> None:
    """A whole frame, then the first 10 bytes of a frame with stuffed bytes: the read
    returns the whole frame and holds only the 10 bytes; the next read completes it."""
    message = bytes.fromhex("8d1a1a1a202cc371c32ce057601a")
    escaped = encode(b"3", 0x1A1A00001A1A, 0x1A, message)
    good = encode(b"3", 7, 9, LONG)
    framer = BeastFramer()
    assert framer.feed(good + escaped[:10]).hex == [LONG.hex()]
    assert framer.pending == 10
    assert framer.feed(escaped[10:]).hex == [message.hex()]
