"""Bad options and bad side files (zones, config, policy, aircraft database) give one
line and exit 2 (usage) or 1 (data), never an internal error (issue 8, classes 4, 10)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from skyfence.cli import main

CIRCLE = "C:47.0,8.0,5"
T0 = 1_700_000_000


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return lines[0]


@pytest.fixture
def track(tmp_path: Path) -> Path:
    """Six fixes 10 s apart at the circle's centre, then a 50 s hole, then six more."""
    times = [T0 + 10 * i for i in range(6)] + [T0 + 100 + 10 * i for i in range(6)]
    f = tmp_path / "track.csv"
    pd.DataFrame({"time": times, "icao24": "4b1234", "lat": 47.0, "lon": 8.0}).to_csv(
        f, index=False)
    return f


def geojson(path: Path, geometry: object, **props: object) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Z", **props}, "geometry": geometry}]}))
    return path


SQUARE = {"type": "Polygon", "coordinates": [[[7.9, 46.9], [8.1, 46.9], [8.1, 47.1],
                                              [7.9, 47.1], [7.9, 46.9]]]}


# ---------------------------------------------------------------- zones files and circles


@pytest.mark.parametrize(("doc", "expected"), [
    ([1, 2], "expected a GeoJSON FeatureCollection (an object), got an array"),
    ({"type": "FeatureCollection", "features": ["x"]}, "feature 1: expected a GeoJSON Feature"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "name": "Z"}, "geometry": {"type": "Polygon", "coordinates": [[[8, 47], [8.1, 47],
                                                                         [8, 47]]]}}]},
     "ring 1: has 2 distinct position(s); a ring needs at least 3"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "name": "Z"}, "geometry": {"type": "Polygon", "coordinates": [[[47, 8], [47, 200],
                                                                         [48, 8], [47, 8]]]}}]},
     "[lon, lat] [47, 200] is outside [-180, 180] x [-90, 90]"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "name": "Z"}, "geometry": {"type": "Polygon", "coordinates": [[[8, 47], [8, "x"]]]}}]},
     "expected [lon, lat] numbers"),
])
def test_bad_geojson_is_one_line_usage_error(tmp_path: Path, track: Path,
                                             capsys: pytest.CaptureFixture[str], doc: object,
                                             expected: str) -> None:
    f = tmp_path / "zones.geojson"
    f.write_text(json.dumps(doc))
    code, _, err = run(capsys, "scan", str(track), "--zones-file", str(f))
    line = one_line(err)
    assert code == 2 and str(f) in line and expected in line


@pytest.mark.parametrize("prop", ["floor_m", "ceiling_m"])
def test_non_finite_altitude_limits_are_refused(tmp_path: Path, track: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                prop: str) -> None:
    # json.dumps writes float('nan') as NaN, which Python's json module reads back
    f = geojson(tmp_path / "z.geojson", SQUARE, **{prop: float("nan")})
    code, _, err = run(capsys, "scan", str(track), "--zones-file", str(f))
    line = one_line(err)
    assert code == 2 and f"property '{prop}' must be a finite number, got nan" in line


def test_polar_circle_is_clean(track: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    # a circle centred on the pole: either a zone (geometry is the lead's part) or one
    # clean line; never an internal error
    code, _, err = run(capsys, "scan", str(track), "--circle", "P:90,0,5")
    assert code in (0, 2), err
    assert "internal error" not in err
    if code == 2:
        one_line(err)


# ---------------------------------------------------------------- gaps


def entries_with(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    code, out, err = run(capsys, "scan", *argv, "--all-entries", "--format", "jsonl")
    assert code == 0, err
    return [json.loads(x) for x in out.splitlines()]


def test_gap_zero_in_config_is_honoured_like_the_option(
        tmp_path: Path, track: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"circles: ['{CIRCLE}']\ngap_s: 0\n")
    by_option = entries_with(capsys, str(track), "--circle", CIRCLE, "--gap", "0")
    by_file = entries_with(capsys, str(track), "--config", str(cfg))
    # gap 0: every fix is its own track piece, so each of the 12 fixes is an entry
    assert len(by_option) == 12
    assert by_file == by_option
    # the default gap (300 s) keeps the track whole across its 50 s hole: one entry
    assert len(entries_with(capsys, str(track), "--circle", CIRCLE)) == 1
    # gap 40 s splits it at the hole: two entries
    cfg.write_text(f"circles: ['{CIRCLE}']\ngap_s: 40\n")
    assert len(entries_with(capsys, str(track), "--config", str(cfg))) == 2


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "x"])
def test_bad_gap_option_is_a_usage_error(track: Path, capsys: pytest.CaptureFixture[str],
                                         value: str) -> None:
    try:
        code = main(["scan", str(track), "--circle", CIRCLE, f"--gap={value}"])
    except SystemExit as exc:  # argparse: not a number at all
        code = int(str(exc.code))
    err = capsys.readouterr().err
    assert code == 2 and "--gap" in err and "internal error" not in err


@pytest.mark.parametrize(("value", "expected"), [
    ("-1", "gap_s: must be >= 0, got -1"),
    (".nan", "gap_s: must be a finite number, got nan"),
    ("'300'", "gap_s: must be a number, got '300'"),
])
def test_bad_gap_in_config_names_file_and_line(tmp_path: Path, track: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               value: str, expected: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"zones: [EST]\n\ngap_s: {value}\n")
    code, _, err = run(capsys, "scan", str(track), "--config", str(cfg))
    line = one_line(err)
    assert code == 2 and f"{cfg}:3: {expected}" in line


def test_config_problems_name_their_line(tmp_path: Path, track: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("zones:\n  - EST\n  - Atlantis\nwatch_states: [RUS]\n")
    code, _, err = run(capsys, "scan", str(track), "--config", str(cfg))
    assert code == 2 and f"{cfg}:3: zones[1]: unknown national airspace" in one_line(err)
    cfg.write_text("zones: [EST]\nwatch_states:\n  - RUS\n  - XXX\n")
    code, _, err = run(capsys, "scan", str(track), "--config", str(cfg))
    assert code == 2 and f"{cfg}:4: watch_states[1]: watch state 'XXX'" in one_line(err)
    cfg.write_text("zones: [EST]\nzone: [LVA]\n")
    code, _, err = run(capsys, "scan", str(track), "--config", str(cfg))
    assert code == 2 and f"{cfg}:2: unknown key 'zone' (known: zones," in one_line(err)


# ---------------------------------------------------------------- watch states, policy


def test_unknown_watch_state_is_refused(track: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", str(track), "--circle", CIRCLE, "--watch-state", "XXX")
    line = one_line(err)
    assert code == 2 and "'XXX'" in line and "ICAO address block" in line


def test_watch_state_by_name_suggests_the_code_and_blames_no_file(
        track: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", str(track), "--circle", CIRCLE, "--watch-state", "Russia")
    line = one_line(err)
    assert code == 2 and "did you mean RUS?" in line and "default.yaml" not in line
    # and the code itself works, in any case
    code, _, err = run(capsys, "scan", str(track), "--circle", CIRCLE, "--watch-state", "rus")
    assert code == 0, err


@pytest.mark.parametrize("text", ["", "\n\n# only a comment\n", "~\n"])
def test_empty_policy_file_is_not_the_default(tmp_path: Path, track: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              text: str) -> None:
    pol = tmp_path / "p.yaml"
    pol.write_text(text)
    code, out, err = run(capsys, "policy", "check", str(pol))
    assert code == 2 and out == "" and f"{pol}: invalid policy, 1 problem" in err
    code, _, err = run(capsys, "scan", str(track), "--circle", CIRCLE, "--policy", str(pol))
    assert code == 2 and str(pol) in one_line(err)


# ---------------------------------------------------------------- engine, database, bench


@pytest.mark.parametrize("address", ["notaurl", "tcp://host", "tcp://h:99999", "a b:1"])
def test_bad_scheduler_address_is_a_usage_error(track: Path, capsys: pytest.CaptureFixture[str],
                                                address: str) -> None:
    code, _, err = run(capsys, "scan", str(track), "--circle", CIRCLE, "--engine", "dask",
                       "--scheduler", address)
    assert code == 2 and "--scheduler" in one_line(err)


@pytest.mark.parametrize("content", [bytes(range(256)) * 4, b"icao24,type\n4b12\x0034,A320\n"])
def test_binary_aircraft_db_is_a_data_error(tmp_path: Path, track: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            content: bytes) -> None:
    db = tmp_path / "db.csv"
    db.write_bytes(content)
    code, _, err = run(capsys, "scan", str(track), "--circle", CIRCLE, "--aircraft-db", str(db))
    line = one_line(err)
    assert code == 1 and str(db) in line and "row" in line


def test_bench_without_its_extra_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "stonesoup", None)  # as if not installed
    code, _, err = run(capsys, "bench", "track")
    line = one_line(err)
    assert code == 2 and "stonesoup" in line and "skyfence[bench]" in line
