"""File readers for raw hex and Beast captures: times, errors naming file and record."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feed_helpers import data_path, recorded_frames

from skyfence.errors import InputError
from skyfence.sources.beast import BeastFramer
from skyfence.sources.modes import make_decoder
from skyfence.sources.modes_files import read_beast_file, read_raw_file

CDG = (49.0, 2.5)


def test_raw_csv_recording_keeps_its_times() -> None:
    reader = read_raw_file(data_path("flight_frames.csv"), ref=CDG, chunk_bytes=20_000)
    obs = pd.concat(list(reader), ignore_index=True)
    times, frames = recorded_frames()
    expected = make_decoder(ref=CDG).decode(frames, times)
    pd.testing.assert_frame_equal(obs, expected)
    assert reader.stats.frames == 3000 and reader.stats.batches > 3
    assert reader.stats.positions == len(obs)


def test_jsonl_and_gz_recordings_read_the_same(tmp_path: Path) -> None:
    times, frames = recorded_frames()
    path = tmp_path / "flight.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        for t, f in zip(times, frames, strict=True):
            fh.write(json.dumps({"timestamp": t, "frame": f}) + "\n")
    obs = pd.concat(list(read_raw_file(path, ref=CDG)), ignore_index=True)
    csv = pd.concat(list(read_raw_file(data_path("flight_frames.csv"), ref=CDG)))
    np.testing.assert_array_equal(obs.time, csv.time)


def test_avr_without_time_uses_start_and_mlat_ticks_count_from_it(tmp_path: Path) -> None:
    _, frames = recorded_frames()
    plain = tmp_path / "plain.txt"
    plain.write_text("".join(f"*{f};\n" for f in frames[2000:2400]))
    os.utime(plain, (1_700_000_000, 1_700_000_000))
    obs = pd.concat(list(read_raw_file(plain, ref=CDG)))
    assert len(obs) > 0 and (obs.time == 1_700_000_000).all()  # default start: mtime
    timed = tmp_path / "mlat.txt"
    timed.write_text(
        "".join(f"@{i * 6_000_000:012X}{f};\n" for i, f in enumerate(frames[2000:2400]))
    )
    obs = pd.concat(list(read_raw_file(timed, ref=CDG, start=100.0)))
    assert obs.time.min() >= 100.0 and obs.time.max() <= 100.0 + 0.5 * 399
    assert np.all(np.diff(obs.time) > 0)


def test_raw_file_bad_line_aborts_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "frames.txt"
    _, frames = recorded_frames()
    path.write_text(f"*{frames[0]};\n*{frames[1]};\n*XYZ;\n")
    with pytest.raises(InputError) as info:
        list(read_raw_file(path))
    assert (info.value.file, info.value.row, info.value.field) == (str(path), 3, "frame")
    reader = read_raw_file(path, on_error="skip")
    list(reader)
    assert reader.stats.malformed == 1 and reader.errors[0].row == 3


def test_beast_capture_times_from_mlat_counter() -> None:
    reader = read_beast_file(data_path("sample_dump1090.bin"), start=1_000.0, chunk_bytes=500)
    obs = pd.concat(list(reader), ignore_index=True)
    assert reader.stats.frames == 239 and reader.stats.malformed == 0
    assert len(obs) >= 3 and set(obs.icao24) == {"48520a"}
    assert obs.time.between(1_000.0, 1_000.0 + 60).all()
    assert obs.lat.between(43.5, 43.8).all() and obs.lon.between(1.1, 1.4).all()  # Toulouse


def test_beast_capture_with_damage(tmp_path: Path) -> None:
    data = data_path("sample_dump1090.bin").read_bytes()
    path = tmp_path / "damaged.bin"
    path.write_bytes(data[:1000] + b"\x1a9junk" + data[1000:-5])
    with pytest.raises(InputError) as info:
        list(read_beast_file(path, start=0.0))
    assert info.value.file == str(path) and info.value.field == "frame"
    # the frame cut by the junk starts less than one frame before it
    offset = int(str(info.value).rsplit(" ", 1)[1])
    assert 1000 - 46 < offset <= 1000 and data[offset] == 0x1A
    assert info.value.row == len(BeastFramer().feed(data[:offset])) + 1
    reader = read_beast_file(path, start=0.0, on_error="skip")
    list(reader)
    # the junk (counted where it cuts a frame and where it is skipped) and the
    # truncated last frame; the two damaged frames are lost, the others are read
    assert reader.stats.malformed >= 2
    assert reader.stats.frames == 239 - 2
    assert len(reader.errors) == 2 and "truncated" in str(reader.errors[1])
