"""`skyfence scan` end to end: formats, byte-stable output, and bad input errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skyfence.cli import main

CIRCLE = "TESTZ:47.0,8.0,10"
GEOD = Geod(ellps="WGS84")
T0 = 1_700_000_000


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def crossing_rows(ident: str = "4b1805", lat: float = 47.0) -> list[dict[str, object]]:
    # west to east across a 10 km circle at 47 N 8 E, one fix every 10 s at 200 m/s
    return [
        {"time": T0 + 10 * i, "icao24": ident, "lat": lat,
         "lon": 7.7 + i * 0.0263, "baroaltitude": 3000.0 + i, "velocity": 200.0,
         "callsign": "SWR100"}
        for i in range(24)
    ]


def circle_crossing_lon(side: float) -> float:
    """Longitude on the parallel 47 N where the geodesic distance to (47 N, 8 E) is 10 km,
    west (``side`` -1) or east (+1) of the centre: bisection with pyproj."""
    lo, hi = 8.0, 8.0 + side * 0.2  # 0 and about 15 km from the centre
    for _ in range(60):
        mid = (lo + hi) / 2
        if GEOD.inv(8.0, 47.0, mid, 47.0)[2] < 10_000.0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def crossing_truth() -> tuple[float, float, float, float, float]:
    """Entry and exit (time, lon) of :func:`crossing_rows` through the circle, and the
    depth of its deepest fix, derived with pyproj alone.

    The fixes move along the parallel 47 N at 0.0263 degree of longitude per 10 s,
    linearly in lon (the contract's interpolation), so the track is at longitude ``x``
    at ``T0 + (x - 7.7) / 0.0263 * 10``. The zone is a polygon within 1 m of the
    geodesic circle; a fix's depth is its geodesic distance to the circle, taken here as
    the least distance to 36,000 points of the circle (1.7 m apart).
    """
    west, east = circle_crossing_lon(-1.0), circle_crossing_lon(1.0)
    ring_lon, ring_lat, _ = GEOD.fwd(np.full(36_000, 8.0), np.full(36_000, 47.0),
                                     np.linspace(0, 360, 36_000, endpoint=False),
                                     np.full(36_000, 10_000.0))
    depth = 0.0
    for i in range(24):
        lon = 7.7 + i * 0.0263
        if west < lon < east:
            d = GEOD.inv(np.full(36_000, lon), np.full(36_000, 47.0), ring_lon, ring_lat)[2]
            depth = max(depth, float(d.min()))
    return (T0 + (west - 7.7) / 0.0263 * 10, west, T0 + (east - 7.7) / 0.0263 * 10, east,
            depth)


def unix(iso: str) -> float:
    return pd.Timestamp(iso).timestamp()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_jsonl_is_the_contract_and_byte_stable(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    f = write_csv(tmp_path / "a.csv", crossing_rows())
    code, out1, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--all-entries",
                        "--format", "jsonl")
    assert code == 0
    (rec,) = [json.loads(line) for line in out1.splitlines()]
    assert rec["zone"] == "TESTZ" and rec["zone_kind"] == "custom"
    assert rec["icao24"] == "4b1805" and rec["callsign"] == "SWR100"
    assert rec["classification"]["registration_state"] == "CHE"
    assert rec["violation"] is False and rec["severity"] == "info"
    assert rec["entered_at"].endswith("Z") and len(rec["entered_at"]) == 24
    t_in, lon_in, t_out, lon_out, depth = crossing_truth()
    # 1 m of polygon error is 0.004 s at 263 m/s, the record rounds to 1 ms
    assert unix(rec["entered_at"]) == pytest.approx(t_in, abs=0.01)
    assert unix(rec["exited_at"]) == pytest.approx(t_out, abs=0.01)
    assert rec["duration_s"] == pytest.approx(t_out - t_in, abs=0.01)
    assert rec["entry_point"] == pytest.approx({"lat": 47.0, "lon": lon_in}, abs=2e-5)
    assert rec["exit_point"] == pytest.approx({"lat": 47.0, "lon": lon_out}, abs=2e-5)
    assert rec["max_depth_m"] == pytest.approx(depth, abs=1.0)
    # the fixes between the two crossings: 7 .. 16 (lon 7.884 .. 8.121), altitude 3000 + i
    inside = [i for i in range(24) if lon_in < 7.7 + i * 0.0263 < lon_out]
    assert inside == list(range(7, 17))
    assert rec["observations"] == len(inside)
    assert unix(rec["last_inside_at"]) == T0 + 10 * inside[-1]
    assert rec["min_altitude_m"] == 3007.0 and rec["max_altitude_m"] == 3016.0
    shuffled = pd.read_csv(f).sample(frac=1, random_state=1)
    g = tmp_path / "b.csv.gz"
    with gzip.open(g, "wt") as fh:
        shuffled.to_csv(fh, index=False)
    code, out2, _ = run(capsys, "scan", str(g), "--circle", CIRCLE, "--all-entries",
                        "--format", "jsonl")
    assert code == 0 and out2 == out1


def test_violations_only_by_default_and_non_cooperative_is_critical(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the non-ICAO track flies 0.05 degree (5.6 km) south of the transponder aircraft,
    # still through the 10 km circle: another aircraft, not the transponder's
    f = write_csv(tmp_path / "a.csv",
                  crossing_rows("4b1805") + crossing_rows("T0042", lat=46.95))
    code, out, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "jsonl")
    assert code == 0
    recs = [json.loads(x) for x in out.splitlines()]
    assert [r["track"] for r in recs] == ["T0042"]
    assert recs[0]["severity"] == "critical" and recs[0]["icao24"] is None
    assert not recs[0]["classification"]["cooperative"]


def test_a_radar_track_on_the_transponder_aircraft_is_fused_away(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the same path under a radar track id: with --fuse the transponder speaks for it,
    # so only the cooperative entry is reported and nothing is a violation; without it
    # every track is screened as it is
    f = write_csv(tmp_path / "a.csv", crossing_rows("4b1805") + crossing_rows("T0042"))
    code, out, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--all-entries",
                       "--format", "jsonl", "--fuse")
    assert code == 0
    recs = [json.loads(x) for x in out.splitlines()]
    assert [(r["track"], r["violation"]) for r in recs] == [("4b1805", False)]
    code, out, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--all-entries",
                       "--format", "jsonl")
    assert code == 0
    assert sorted(json.loads(x)["track"] for x in out.splitlines()) == ["4b1805", "T0042"]


def test_watch_state_makes_a_violation(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    f = write_csv(tmp_path / "a.csv", crossing_rows("154abc"))  # RUS block 100000-1FFFFF
    code, out, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--watch-state", "rus",
                       "--format", "jsonl")
    assert code == 0
    (rec,) = [json.loads(x) for x in out.splitlines()]
    assert rec["violation"] and rec["classification"]["registration_state"] == "RUS"
    assert any("RUS" in r for r in rec["reasons"])


@pytest.mark.parametrize("fmt", ["csv", "geojson", "table"])
def test_other_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    f = write_csv(tmp_path / "a.csv", crossing_rows())
    out_file = tmp_path / f"out.{fmt}"
    code, _, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--all-entries",
                     "--format", fmt, "-o", str(out_file))
    assert code == 0
    text = out_file.read_text()
    if fmt == "csv":
        df = pd.read_csv(out_file)
        _, lon_in, _, lon_out, _ = crossing_truth()
        assert len(df) == 1
        assert df.loc[0, "entry_point_lat"] == pytest.approx(47.0, abs=2e-5)
        assert df.loc[0, "entry_point_lon"] == pytest.approx(lon_in, abs=2e-5)
        assert df.loc[0, "exit_point_lat"] == pytest.approx(47.0, abs=2e-5)
        assert df.loc[0, "exit_point_lon"] == pytest.approx(lon_out, abs=2e-5)
    elif fmt == "geojson":
        doc = json.loads(text)
        (feat,) = doc["features"]
        assert feat["geometry"]["type"] == "LineString"
        assert len(feat["geometry"]["coordinates"]) == feat["properties"]["observations"] + 2
    else:
        assert "TESTZ" in text and "4b1805" in text


@pytest.mark.parametrize(
    ("rows", "expect"),
    [
        ([{"time": 1, "icao24": "abc123", "lon": 8.0}], "field 'lat'"),
        ([{"time": 1, "icao24": "abc123", "lat": 47.0, "lon": 8.0},
          {"time": "soon", "icao24": "abc123", "lat": 47.0, "lon": 8.0}], "row 2, field 'time'"),
        ([{"time": 1, "icao24": "abc123", "lat": 47.0, "lon": 8.0},
          {"time": 2, "icao24": "abc123", "lat": 95.0, "lon": 8.0}], "row 2, field 'lat'"),
        ([{"time": 1, "icao24": "abc123", "lat": "x47", "lon": 8.0}], "row 1, field 'lat'"),
    ],
)
def test_bad_rows_name_file_row_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          rows: list[dict[str, object]], expect: str) -> None:
    f = write_csv(tmp_path / "bad.csv", rows)
    code, _, err = run(capsys, "scan", str(f), "--circle", CIRCLE)
    assert code == 1
    assert str(f) in err and expect in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_skip_counts_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = crossing_rows()
    rows[3]["lat"] = "north"
    rows[5]["lon"] = 400
    f = write_csv(tmp_path / "a.csv", rows)
    code, out, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--all-entries",
                         "--on-error", "skip", "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 1
    assert "skipped 2 bad row(s)" in err


def test_empty_file_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(capsys, "scan", str(empty), "--circle", CIRCLE)
    assert code == 1 and "empty" in err and str(empty) in err
    header = tmp_path / "header.csv"
    header.write_text("time,icao24,lat,lon\n")
    code, _, err = run(capsys, "scan", str(header), "--circle", CIRCLE)
    assert code == 1 and "no rows" in err
    code, _, err = run(capsys, "scan", str(header), "--circle", "nonsense")
    assert code == 2 and "--circle" in err
    # a missing input is a data error (exit 1), in scan as in watch --replay
    code, _, err = run(capsys, "scan", str(tmp_path / "missing.csv"), "--circle", CIRCLE)
    assert code == 1 and "not found" in err


def test_traffic_column_names_in_feet_are_mapped(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rows = crossing_rows()
    df = pd.DataFrame(rows).rename(columns={"time": "timestamp", "lat": "latitude",
                                            "lon": "longitude"})
    df["timestamp"] = pd.to_datetime(df["timestamp"], unit="s", utc=True).astype(str)
    df["altitude"] = df.pop("baroaltitude") / 0.3048
    df["groundspeed"] = df.pop("velocity") / (1852 / 3600)
    f = tmp_path / "traffic.csv"
    df.to_csv(f, index=False)
    code, out, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--all-entries",
                       "--format", "jsonl")
    assert code == 0
    (rec,) = [json.loads(x) for x in out.splitlines()]
    plain = write_csv(tmp_path / "plain.csv", rows)
    _, out2, _ = run(capsys, "scan", str(plain), "--circle", CIRCLE, "--all-entries",
                     "--format", "jsonl")
    (rec2,) = [json.loads(x) for x in out2.splitlines()]
    assert rec["entered_at"] == rec2["entered_at"]
    assert rec["max_altitude_m"] == pytest.approx(rec2["max_altitude_m"], abs=0.1)


def test_policy_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skyfence.policy import default_policy_path

    code, _, _ = run(capsys, "policy", "check", str(default_policy_path()))
    assert code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - name: x\n    when: {category: spaceship}\n    severity: huge\n")
    code, _, err = run(capsys, "policy", "check", str(bad))
    assert code == 2 and str(bad) in err + _


def test_csv_protocol_column_is_readable(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    f = write_csv(tmp_path / "a.csv", crossing_rows("T0042"))
    out = tmp_path / "o.csv"
    code, _, _ = run(capsys, "scan", str(f), "--circle", CIRCLE, "--format", "csv", "-o", str(out))
    assert code == 0
    df = pd.read_csv(out)
    assert "notify the duty officer" in df.loc[0, "protocol"]


def test_duplicate_zone_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write_csv(tmp_path / "a.csv", crossing_rows())
    code, _, err = run(capsys, "scan", str(f), "--circle", CIRCLE, "--circle", "TESTZ:1,1,5")
    assert code == 2 and "TESTZ" in err
    code, _, _ = run(capsys, "scan", str(f), "--zone", "CHE", "--zone", "Switzerland",
                     "--all-entries", "--format", "jsonl")
    assert code == 0


def test_zones_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "zones", "show", "estonia")
    assert code == 0 and "EST" in out and "km²" in out and "vertices" in out
    code, out, _ = run(capsys, "zones", "list")
    assert code == 0 and "RUS" in out
    code, _, err = run(capsys, "zones", "show", "Estonai")
    assert code == 2 and "Estonia" in err
