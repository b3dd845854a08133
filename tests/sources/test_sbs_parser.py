"""SBS-1 / BaseStation parsing: real dump1090 lines, units, carried state, bad lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feed_helpers import data_path

from skyfence.errors import InputError
from skyfence.sources.modes_files import read_sbs_file
from skyfence.sources.sbs import SbsParser


def dump1090_lines() -> list[str]:
    return data_path("dump1090_sbs.txt").read_text().splitlines()


def line(kind: int, fields: dict[int, str], icao: str = "4CA2D6") -> str:
    """An SBS line with the 22 fields; ``fields`` maps field index -> text."""
    cells = ["MSG", str(kind), "1", "1", icao, "1", "2025/09/19", "09:58:12.400",
             "2025/09/19", "09:58:12.400"] + [""] * 12  # fmt: skip
    for i, text in fields.items():
        cells[i] = text
    return ",".join(cells)


def test_real_dump1090_lines_give_positions_with_carried_state() -> None:
    lines = dump1090_lines()
    parser = SbsParser()
    obs = parser.parse_lines(lines)
    positions = [ln for ln in lines if ln.startswith("MSG,3") and ln.split(",")[14]]
    assert len(obs) == len(positions) > 10
    assert parser.stats.malformed == 0
    first = positions[0].split(",")
    assert obs.lat[0] == pytest.approx(float(first[14]))
    assert obs.lon[0] == pytest.approx(float(first[15]))
    assert obs.altitude[0] == pytest.approx(float(first[11]) * 0.3048)
    # velocity and callsign come from earlier MSG,4 and MSG,6 lines of the same aircraft
    assert obs.velocity[0] == pytest.approx(244 * 1852 / 3600)
    assert obs.heading[0] == pytest.approx(209)
    assert obs.vertrate[0] == pytest.approx(2688 * 0.3048 / 60)
    assert set(obs.callsign) == {"AFR34ZG"}
    assert set(obs.squawk) == {"1000"}
    assert not obs.onground.any()


def test_time_is_generated_date_and_time_in_utc() -> None:
    obs = SbsParser().parse_lines([line(3, {14: "59.8", 15: "26.3"})])
    assert obs.time[0] == pd.Timestamp("2025-09-19T09:58:12.400Z").timestamp()
    local = SbsParser(tz="Europe/Tallinn").parse_lines([line(3, {14: "59.8", 15: "26.3"})])
    assert local.time[0] == obs.time[0] - 3 * 3600  # EEST is UTC+3


def test_state_carries_across_batches_and_aircraft_stay_apart() -> None:
    parser = SbsParser()
    parser.parse_lines([line(1, {10: "RYR1AB"}), line(4, {12: "450", 13: "90"}, "abcdef")])
    obs = parser.parse_lines(
        [line(3, {14: "59.8", 15: "26.3"}), line(3, {14: "1", 15: "2"}, "abcdef")]
    )
    assert obs.callsign.tolist() == ["RYR1AB", None]
    assert np.isnan(obs.velocity[0]) and obs.velocity[1] == pytest.approx(450 * 1852 / 3600)


def test_ground_flag_and_surface_position() -> None:
    obs = SbsParser().parse_lines(
        [line(2, {12: "12", 13: "180", 14: "59.4", 15: "24.8", 21: "-1"})]
    )
    assert obs.onground[0] and obs.velocity[0] == pytest.approx(12 * 1852 / 3600)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ("garbage", "message_type"),
        ("MSG,3,1,1,4CA2D6,1", "field count"),
        (line(3, {4: "XYZ"}), "hex_ident"),
        (line(9, {}), "transmission_type"),
        (line(3, {6: "yesterday", 8: ""}), "generated_time"),
        (line(3, {11: "high", 14: "59", 15: "26"}), "altitude"),
        (line(3, {14: "95.0", 15: "26"}), "lat"),
        (line(3, {14: "59.0"}), "lon"),
    ],
)
def test_malformed_line_is_counted_or_raised_with_line_and_field(bad: str, field: str) -> None:
    good = line(3, {14: "59.8", 15: "26.3"})
    parser = SbsParser(source="feed.sbs")
    obs = parser.parse_lines([good, bad, good], first_line=10)
    assert len(obs) == 2
    assert parser.stats.malformed == 1
    assert parser.stats.malformed_by_field[field] == 1
    assert (parser.errors[0].row, parser.errors[0].field) == (11, field)
    with pytest.raises(InputError) as info:
        SbsParser(source="feed.sbs", on_error="abort").parse_lines([good, bad], first_line=10)
    assert (info.value.file, info.value.row, info.value.field) == ("feed.sbs", 11, field)
    assert "feed.sbs" in str(info.value) and "row 11" in str(info.value)


def test_other_record_types_and_blank_lines_are_ignored_not_malformed() -> None:
    parser = SbsParser()
    parser.parse_lines(["", "STA,,5,179,400AA5,10103,2008/11/28,14:58:51.153,,,RM", "CLK,,,"])
    assert parser.stats.ignored == 3 and parser.stats.malformed == 0


def test_out_of_order_and_duplicate_lines_do_not_crash() -> None:
    lines = dump1090_lines()
    shuffled = [lines[i] for i in np.random.default_rng(1).permutation(len(lines))]
    parser = SbsParser()
    obs = parser.parse_lines(shuffled + shuffled[:40])
    n_pos = sum(
        1 for ln in shuffled + shuffled[:40] if ln.startswith("MSG,3,") and ln.split(",")[14]
    )
    assert len(obs) == n_pos and parser.stats.malformed == 0


def test_read_sbs_file_gz_with_bad_line(tmp_path: Path) -> None:
    lines = dump1090_lines()
    path = tmp_path / "capture.sbs.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join([*lines[:50], "MSG,3,broken", *lines[50:]]) + "\n")
    with pytest.raises(InputError) as info:
        list(read_sbs_file(path))
    assert (info.value.file, info.value.row, info.value.field) == (str(path), 51, "field count")
    reader = read_sbs_file(path, on_error="skip", chunk_bytes=1000)
    obs = pd.concat(list(reader), ignore_index=True)
    assert reader.stats.malformed == 1 and reader.stats.batches > 1
    assert len(obs) == len(SbsParser().parse_lines(lines))
    assert reader.errors[0].row == 51


def test_generated_time_forms_and_limits() -> None:
    """Times other than ``HH:MM:SS.fff`` are read too, and impossible clock readings are
    refused. Each line's aircraft differs (no state shared); midnight 2025-09-19 UTC is
    pd.Timestamp("2025-09-19T00:00Z"). Seconds of day, by hand:
    09:58:12 -> 9 * 3600 + 58 * 60 + 12 = 35 892; 09:58:12.25 -> 35 892.25;
    23:59:60.537 (a leap second) -> 23 * 3600 + 59 * 60 + 60.537 = 86 400.537;
    24:00:00.000, 23:60:00.000, 23:59:61.000, 2a:00:00.000, 09-58-12.400 and
    09:58:1:.400 are no clock readings."""
    midnight = pd.Timestamp("2025-09-19T00:00Z").timestamp()
    times = ["09:58:12", "09:58:12.25", "23:59:60.537", "24:00:00.000", "23:60:00.000",
             "23:59:61.000", "2a:00:00.000", "09-58-12.400", "09:58:1:.400"]
    lines = [line(3, {7: t, 9: t, 14: "59.8", 15: "26.3"}, icao=f"4CA2{i:02X}")
             for i, t in enumerate(times)]
    parser = SbsParser()
    obs = parser.parse_lines(lines)
    assert (obs.time - midnight).tolist() == pytest.approx([35_892.0, 35_892.25, 86_400.537],
                                                           abs=1e-6)
    assert obs.icao24.tolist() == ["4ca200", "4ca201", "4ca202"]
    assert parser.stats.malformed_by_field["generated_time"] == 6
