"""Raw hex Mode S lines: AVR, AVR with MLAT, recordings; bad lines with line numbers."""

from __future__ import annotations

import math

import pytest

from skyfence.errors import InputError
from skyfence.sources._frames import Frames, TickClock
from skyfence.sources.rawhex import RawHexParser

FRAME = "8D4840D6202CC371C32CE0576098"


def test_every_supported_line_form() -> None:
    lines = [
        f"*{FRAME};",
        f"@0000000015A8{FRAME};",
        f"<0000000015A8FF{FRAME};",
        f"1720248189.525,{FRAME}",
        f"1720248190 *{FRAME};",
        f'{{"timestamp": 1720248191.5, "frame": "{FRAME.lower()}"}}',
        "",
        "# comment",
    ]
    parser = RawHexParser()
    frames = parser.parse_lines(lines)
    assert frames.hex == [FRAME.lower()] * 6
    assert frames.ticks == [-1, 0x15A8, 0x15A8, -1, -1, -1]
    assert frames.signal == [-1, -1, 0xFF, -1, -1, -1]
    assert frames.times[3:] == [1720248189.525, 1720248190.0, 1720248191.5]
    assert all(math.isnan(t) for t in frames.times[:3])
    assert parser.stats.ignored == 2 and parser.stats.malformed == 0


@pytest.mark.parametrize(
    "bad",
    ["*8D4840D6202CC371C32CE05760;", "*ZZ4840D6202CC371C32CE0576098;", "@15A8*8D48;", "{not json"],
)
def test_bad_line_counted_or_raised_with_its_number(bad: str) -> None:
    parser = RawHexParser(source="frames.txt")
    frames = parser.parse_lines([f"*{FRAME};", bad, f"*{FRAME};"], first_line=5)
    assert len(frames) == 2 and parser.stats.malformed == 1
    with pytest.raises(InputError) as info:
        RawHexParser(source="frames.txt", on_error="abort").parse_lines([bad], first_line=5)
    assert (info.value.file, info.value.row, info.value.field) == ("frames.txt", 5, "frame")


def test_tick_clock_times_frames_from_start() -> None:
    clock = TickClock(start=1000.0)
    frames = Frames(
        hex=["a"] * 5,
        ticks=[12_000_000, 18_000_000, 0, -1, 36_000_000],
        times=[math.nan, math.nan, math.nan, 2000.0, math.nan],
        signal=[-1] * 5,
    )
    assert clock.times(frames).tolist() == [1000.0, 1000.5, 1000.5, 2000.0, 1002.0]
