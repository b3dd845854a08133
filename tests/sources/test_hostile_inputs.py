"""Hostile and unusual position files (issue 8, classes 2-4 and 10): each value is read
as what it is, or refused with one line naming file, row and field; never an alarm
from a misread, never an internal error, never invalid JSON.

The zone of most tests is a 5 km circle at 47 N 8 E and the track sits at its centre,
so it is inside by construction (no geometry is being tested here).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skyfence.cli import main
from skyfence.errors import InputError
from skyfence.sources.ranges import ALTITUDE_MAX_M, TIME_MAX_S
from skyfence.sources.tabular import RejectLog, normalize_table, read_table

CIRCLE = "C:47.0,8.0,5"
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def one_error_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "internal error" not in lines[0] and "Traceback" not in err
    return lines[0]


def two_fixes(path: Path, **cols: object) -> Path:
    """Two fixes of one track at the circle's centre, 10 s apart, plus ``cols``."""
    df = pd.DataFrame({"time": [T0, T0 + 10], "icao24": ["4b1234"] * 2, "lat": [47.0] * 2,
                       "lon": [8.0, 8.0001], **cols})
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


# ------------------------------------------------------------- class 2: silent misreads


def test_nul_byte_in_icao24_is_refused_not_a_critical_radar_track(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "nul.csv"
    f.write_bytes(b"time,icao24,lat,lon\n"
                  b"1700000000,4b\x001234,47.0,8.0\n1700000010,4b\x001234,47.0,8.0001\n")
    code, out, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "jsonl")
    line = one_error_line(err)
    assert code == 1 and out == ""
    assert f"{f}, row 1, field 'icao24'" in line and "NUL" in line
    # the same file without the NUL: a cooperative Swiss aircraft, not a violation
    f.write_bytes(f.read_bytes().replace(b"\x00", b""))
    code, out, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "jsonl",
                       "--all-entries")
    (rec,) = jsonl(out)
    assert code == 0 and rec["icao24"] == "4b1234" and rec["severity"] == "info"


@pytest.mark.parametrize("hidden", ["\u200b", "\x1f", "\ufeff"])
def test_invisible_characters_in_ids_are_refused(hidden: str) -> None:
    df = pd.DataFrame({"time": [T0], "icao24": [f"4b12{hidden}34"], "lat": [47.0],
                       "lon": [8.0]})
    with pytest.raises(InputError, match=r"field 'icao24'.*control or invisible"):
        normalize_table(df, name="x.csv")


def test_integer_icao24_in_parquet_is_the_address_in_hex(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 0x4b1234 = 4*16^5 + 11*16^4 + 1*16^3 + 2*16^2 + 3*16 + 4 = 4,919,860 (by hand);
    # 4B0000-4B7FFF is Switzerland's ICAO block (Annex 10 table)
    f = tmp_path / "int.parquet"
    pq.write_table(pa.table({"time": [T0, T0 + 10],
                             "icao24": pa.array([4_919_860] * 2, pa.int64()),
                             "lat": [47.0, 47.0], "lon": [8.0, 8.0001]}), f)
    code, out, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "jsonl",
                         "--all-entries")
    assert code == 0, err
    (rec,) = jsonl(out)
    assert rec["track"] == rec["icao24"] == "4b1234"
    assert rec["classification"]["cooperative"] is True
    assert rec["classification"]["registration_state"] == "CHE"
    assert rec["severity"] == "info" and rec["violation"] is False
    # a small address keeps its leading zeros: 0x00abcd = 43,981
    g = tmp_path / "small.parquet"
    pq.write_table(pa.table({"time": [T0], "icao24": pa.array([43_981], pa.int32()),
                             "lat": [47.0], "lon": [8.0]}), g)
    assert read_table(g)["icao24"].tolist() == ["00abcd"]


@pytest.mark.parametrize("value", [16_777_216, -1])
def test_integer_icao24_outside_24_bits_is_refused(tmp_path: Path, value: int) -> None:
    f = tmp_path / "big.parquet"
    pq.write_table(pa.table({"time": [T0], "icao24": pa.array([value], pa.int64()),
                             "lat": [47.0], "lon": [8.0]}), f)
    with pytest.raises(InputError, match=r"row 1, field 'icao24': integer icao24 is not a "
                                         r"24-bit ICAO address"):
        read_table(f)


def test_integer_icao24_with_nulls_stays_integer(tmp_path: Path) -> None:
    # a null would turn an int64 column into floats in a plain pandas conversion
    f = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"time": [T0, T0 + 1],
                             "icao24": pa.array([4_919_860, None], pa.int64()),
                             "lat": [47.0, 47.0], "lon": [8.0, 8.0]}), f)
    rejects = RejectLog()
    obs = read_table(f, on_error="skip", rejects=rejects)
    assert obs["icao24"].tolist() == ["4b1234"]
    assert rejects.count == 1 and rejects.by_field == {"icao24": 1}


def test_float_icao24_is_refused(tmp_path: Path) -> None:
    df = pd.DataFrame({"time": [T0], "icao24": [4_919_860.0], "lat": [47.0], "lon": [8.0]})
    with pytest.raises(InputError, match="field 'icao24': icao24 is a floating-point"):
        normalize_table(df)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_squawk_written_as_float_keeps_the_emergency(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    # pandas writes a float column as 7700.0 (CSV text) or a double (Parquet)
    f = two_fixes(tmp_path / f"sq{suffix}", squawk=[7700.0, np.nan])
    if suffix == ".csv":
        assert "7700.0" in f.read_text()
    code, out, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "jsonl",
                         "--all-entries")
    assert code == 0, err
    (rec,) = jsonl(out)
    assert rec["severity"] == "warning"
    assert any("squawk 7700 (general emergency)" in r for r in rec["reasons"])


def test_squawk_forms_read_alike() -> None:
    df = pd.DataFrame({"time": [T0] * 5, "icao24": ["4b1234"] * 5, "lat": [47.0] * 5,
                       "lon": [8.0] * 5,
                       "squawk": pd.Series(["7700", 7700, 7700.0, " 0123 ", 123], dtype=object)})
    assert normalize_table(df)["squawk"].tolist() == ["7700", "7700", "7700", "0123", "0123"]


@pytest.mark.parametrize("bad", ["7800", "77000", "7700.5", "abcd", "-7700"])
def test_squawk_that_is_not_octal_is_refused(bad: str) -> None:
    df = pd.DataFrame({"time": [T0], "icao24": ["4b1234"], "lat": [47.0], "lon": [8.0],
                       "squawk": [bad]})
    with pytest.raises(InputError, match="field 'squawk': squawk is not 4 octal digits"):
        normalize_table(df, name="f.csv")


# ------------------------------------------------------------- class 3: absurd values


@pytest.mark.parametrize(("column", "value", "columns"), [
    ("baroaltitude", "inf", None),
    ("baroaltitude", "-1e9", None),
    ("baroaltitude", "1e308", "baroaltitude=baroaltitude:ft"),
    ("geoaltitude", "60000", None),
    ("velocity", "inf", None),
    ("velocity", "-1", None),
    ("vertrate", "-501", None),
    ("heading", "400", None),
])
def test_values_outside_plausible_ranges_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str, value: str,
        columns: str | None) -> None:
    f = tmp_path / "absurd.csv"
    f.write_text(f"time,icao24,lat,lon,{column}\n{T0},4b1234,47.0,8.0,{value}\n")
    extra = ["--columns", columns] if columns else []
    code, out, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "jsonl",
                         *extra)
    line = one_error_line(err)
    assert code == 1 and out == ""
    assert f"row 1, field '{column}'" in line and "outside" in line


def test_absurd_value_skipped_rows_are_counted_and_output_is_valid_json(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "mixed.csv"
    f.write_text("time,icao24,lat,lon,baroaltitude\n"
                 f"{T0},4b1234,47.0,8.0,inf\n"
                 f"{T0 + 10},4b1234,47.0,8.0001,1000\n"
                 f"{T0 + 20},4b1234,47.0,8.0002,{ALTITUDE_MAX_M + 1}\n")
    code, out, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "jsonl",
                         "--all-entries", "--on-error", "skip")
    assert code == 0
    assert "skipped 2 bad row(s) (baroaltitude: 2)" in err
    (rec,) = [json.loads(x, parse_constant=lambda c: pytest.fail(c)) for x in out.splitlines()]
    assert rec["min_altitude_m"] == rec["max_altitude_m"] == 1000.0
    assert rec["observations"] == 1


def test_heading_is_wrapped_into_0_360() -> None:
    df = pd.DataFrame({"time": [T0] * 3, "icao24": ["4b1234"] * 3, "lat": [47.0] * 3,
                       "lon": [8.0] * 3, "heading": [-90.0, 360.0, 359.5]})
    assert normalize_table(df)["heading"].tolist() == [270.0, 0.0, 359.5]


def test_json_writer_refuses_non_finite_numbers() -> None:
    from skyfence.errors import DataError
    from skyfence.incidents.formats import jsonl_line

    with pytest.raises(DataError, match=r"record x: field.*max_depth_m"):
        jsonl_line({"id": "x", "max_depth_m": float("inf")})
    assert jsonl_line({"id": "x", "max_depth_m": 1.5}) == '{"id":"x","max_depth_m":1.5}'


# ------------------------------------------------------------- class 4: times


@pytest.mark.parametrize("value", ["inf", "1e20", "-1e12", "-1", "nan-ish"])
def test_impossible_times_are_one_line_data_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    f = tmp_path / "t.csv"
    f.write_text(f"time,icao24,lat,lon\n{T0},4b1234,47.0,8.0\n{value},4b1234,47.0,8.0\n")
    code, _, err = run(capsys, "scan", str(f), "--circle", CIRCLE)
    line = one_error_line(err)
    assert code == 1 and f"{f}, row 2, field 'time'" in line


def test_times_beyond_2100_are_refused() -> None:
    df = pd.DataFrame({"time": [TIME_MAX_S + 1], "icao24": ["4b1234"], "lat": [47.0],
                       "lon": [8.0]})
    with pytest.raises(InputError, match="field 'time': time outside 1970-01-01 to 2100"):
        normalize_table(df)


@pytest.mark.parametrize(("scale", "unit"), [(1_000, "ms"), (1_000_000, "us")])
def test_epochs_in_ms_are_detected_with_the_option_to_pass(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], scale: int, unit: str) -> None:
    seconds = two_fixes(tmp_path / "s.csv")
    code, expected, _ = run(capsys, "scan", str(seconds), "--circle", CIRCLE, "--format",
                            "jsonl", "--all-entries")
    assert code == 0
    df = pd.read_csv(seconds)
    df["time"] = df["time"] * scale
    scaled = tmp_path / "ms.csv"
    df.to_csv(scaled, index=False)
    code, out, err = run(capsys, "scan", str(scaled), "--circle", CIRCLE, "--format", "jsonl")
    line = one_error_line(err)
    assert code == 1 and out == ""
    assert f"pass --columns time=time:{unit}" in line
    # the fix the message names gives the same records as the file in seconds
    code, out, _ = run(capsys, "scan", str(scaled), "--circle", CIRCLE, "--format", "jsonl",
                       "--all-entries", "--columns", f"time=time:{unit}")
    assert code == 0 and out == expected


def test_ms_hint_names_the_source_column_and_keeps_presets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "traffic.csv"
    f.write_text("timestamp,icao24,latitude,longitude,altitude\n"
                 f"{T0 * 1000},4b1234,47.0,8.0,10000\n{(T0 + 10) * 1000},4b1234,47.0,8.0001,"
                 "10000\n")
    code, _, err = run(capsys, "scan", str(f), "--circle", CIRCLE)
    assert code == 1 and "--columns timestamp=time:ms" in err
    code, out, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--all-entries",
                         "--format", "jsonl", "--columns", "traffic,timestamp=time:ms")
    assert code == 0, err
    (rec,) = jsonl(out)
    assert rec["entered_at"] == "2023-11-14T22:13:20.000Z"
    assert rec["max_altitude_m"] == pytest.approx(10000 * 0.3048, abs=0.05)  # feet preset


# ------------------------------------------------------------- class 4: unreadable files


@pytest.mark.parametrize("content", [b"not parquet at all", b"PAR1\x00\x00\x00PAR1"])
def test_non_parquet_or_truncated_parquet_is_a_data_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    f = tmp_path / "bad.parquet"
    f.write_bytes(content)
    code, _, err = run(capsys, "scan", str(f), "--circle", CIRCLE)
    line = one_error_line(err)
    assert code == 1 and f"{f}: cannot read as Parquet" in line


def test_truncated_real_parquet_is_a_data_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    whole = two_fixes(tmp_path / "whole.parquet")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code, _, err = run(capsys, "scan", str(cut), "--circle", CIRCLE)
    assert code == 1 and "cannot read as Parquet" in one_error_line(err)


# ------------------------------------------------------------- class 10: messages, counts


def test_skip_counts_a_row_with_several_bad_fields_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.csv"
    # row 1: lat is text, so it is both unparsable and missing: one row, counted once
    f.write_text(f"time,icao24,lat,lon\n{T0},4b1234,abc,xyz\n{T0 + 10},4b1234,47.0,8.0\n")
    code, _, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--on-error", "skip")
    assert code == 0
    assert "skipped 1 bad row(s) (lat: 1)" in err


def test_errors_print_plain_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("time,icao24,lat,lon\n1700000000,4b1234,47.0,8.0\n1700000010,4b1234,95.0,8.0\n")
    code, _, err = run(capsys, "scan", str(f), "--circle", CIRCLE)
    line = one_error_line(err)
    assert code == 1
    assert line.endswith(f"{f}, row 2, field 'lat': latitude outside [-90, 90] deg: 95.0")
    assert "np." not in line


def test_a_huge_bad_value_is_not_echoed_whole(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "huge.csv"
    f.write_text(f"time,icao24,lat,lon\n{T0},4b1234,{'9' * 10_000_000},8.0\n")
    code, _, err = run(capsys, "scan", str(f), "--circle", CIRCLE)
    line = one_error_line(err)
    assert code == 1 and "field 'lat'" in line and "…" in line
    assert len(line) < 300


@pytest.mark.parametrize("command", ["scan", "watch"])
def test_missing_input_is_a_data_error_in_scan_and_watch(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    missing = str(tmp_path / "missing.csv")
    argv = [command, missing] if command == "scan" else [command, "--replay", missing,
                                                        "--speed", "0"]
    code, _, err = run(capsys, *argv, "--circle", CIRCLE)
    line = one_error_line(err)
    assert code == 1 and "not found" in line and "missing.csv" in line


# ------------------------------------------------------------- the same rules for feeds


SBS_LINE = ("MSG,3,1,1,4b1234,1,2023/11/14,22:13:{s:02d}.000,2023/11/14,22:13:{s:02d}.000,,"
            "{alt},,,47.0,8.0,,,,,,0")


def test_sbs_implausible_altitude_is_refused_in_a_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "a.sbs"
    f.write_text("\n".join([SBS_LINE.format(s=20, alt=3000), SBS_LINE.format(s=30, alt="inf"),
                            SBS_LINE.format(s=40, alt="1e308")]) + "\n")
    code, out, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "jsonl",
                         "--all-entries")
    line = one_error_line(err)
    assert code == 1 and out == "" and f"{f}, row 2, field 'altitude'" in line


def test_sbs_feed_counts_implausible_lines_and_keeps_going() -> None:
    from skyfence.sources.sbs import SbsParser

    parser = SbsParser(on_error="skip", source="feed")
    lines = [SBS_LINE.format(s=20, alt=3000), SBS_LINE.format(s=30, alt="inf"),
             SBS_LINE.format(s=40, alt=4000)]
    obs = parser.parse_lines(lines)
    # 3000 ft and 4000 ft are 914.4 m and 1219.2 m (x 0.3048); the inf line is dropped
    assert obs["altitude"].tolist() == pytest.approx([914.4, 1219.2])
    assert parser.stats.malformed == 1


def test_mode_s_state_drops_implausible_messages() -> None:
    from skyfence.sources._state import LastKnown, empty_messages

    msgs = empty_messages()
    msgs = {k: np.asarray(list(v) + [None] * 2, dtype=v.dtype) if v.dtype == object
            else np.full(2, np.nan) for k, v in msgs.items()}
    msgs["icao24"] = np.asarray(["4b1234"] * 2, dtype=object)
    msgs["time"] = np.asarray([T0, T0 + 1.0])
    msgs["lat"], msgs["lon"] = np.asarray([47.0, 47.0]), np.asarray([8.0, 8.0])
    msgs["altitude"] = np.asarray([1000.0, np.inf])
    state = LastKnown()
    obs = state.apply(msgs)
    assert obs["altitude"].tolist() == [1000.0]
    assert state.pop_implausible() == 1 and state.pop_implausible() == 0


def test_datetime_objects_in_a_dataframe_are_read_as_utc() -> None:
    import datetime as dt

    # 2023-11-14T22:13:20Z is 1,700,000,000 s; a naive datetime counts as UTC
    times = pd.Series([pd.Timestamp("2023-11-14T23:13:20+01:00"),
                       dt.datetime(2023, 11, 14, 22, 13, 30), "2023-11-14T22:13:40Z"],
                      dtype=object)
    df = pd.DataFrame({"time": times, "icao24": ["4b1234"] * 3, "lat": [47.0] * 3,
                       "lon": [8.0] * 3})
    assert normalize_table(df)["time"].tolist() == [T0, T0 + 10, T0 + 20]
