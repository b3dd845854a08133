"""The record writers field by field (``skyfence.incidents.formats``): GeoJSON paths
across the antimeridian, the CSV's flattened columns, the GeoJSON collection, the
messages about non-finite numbers and the terminal table.

References are hand arithmetic next to each case (where a path meets ±180 is a linear
interpolation in longitude) and the standard library's own readers (``csv``, ``json``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from typing import Any

import pytest

from skyfence.errors import DataError
from skyfence.incidents.formats import (
    flat_record,
    jsonl_line,
    path_geometry,
    render_table,
    write_csv,
    write_geojson,
    write_jsonl,
)
from skyfence.incidents.record import entry_id
from skyfence.model import Entry

# ------------------------------------------------------------------ path_geometry


def test_no_point_no_geometry_and_one_point_a_line_onto_itself() -> None:
    assert path_geometry([]) is None
    assert path_geometry([(24.5, 59.25)]) == {
        "type": "LineString", "coordinates": [[24.5, 59.25], [24.5, 59.25]]}


def test_a_path_is_lon_lat_pairs_rounded_to_six_decimals() -> None:
    # 1e-7 degree (1 cm) below the sixth decimal is rounded away; 4e-7 stays 0, 6e-7 up
    got = path_geometry([(24.1234564, 59.1234566), (24.2000004, 59.2000006),
                         (24.3, 59.3)])
    assert got == {"type": "LineString", "coordinates": [
        [24.123456, 59.123457], [24.2, 59.200001], [24.3, 59.3]]}


def test_eastward_over_the_antimeridian_is_cut_on_it() -> None:
    # 179.5 -> -179.5 goes 1 degree east; +180 is half way: latitude 10 + 0.5 * 2 = 11
    got = path_geometry([(179.5, 10.0), (-179.5, 12.0)])
    assert got == {"type": "MultiLineString", "coordinates": [
        [[179.5, 10.0], [180.0, 11.0]], [[-180.0, 11.0], [-179.5, 12.0]]]}


def test_westward_over_the_antimeridian_is_cut_on_it() -> None:
    # -179.75 -> 179.25 goes 1 degree west; -180 after a quarter: 10 + 0.25 * 4 = 11
    got = path_geometry([(-179.75, 10.0), (179.25, 14.0)])
    assert got == {"type": "MultiLineString", "coordinates": [
        [[-179.75, 10.0], [-180.0, 11.0]], [[180.0, 11.0], [179.25, 14.0]]]}


def test_a_path_over_the_antimeridian_and_back_has_three_parts() -> None:
    # out at a third of the first leg (lat 1/3 of the way from 0 to 3: 1) and back at a
    # half of the third (6 + 0.5 * 2 = 7); the legs in between stay on their side
    got = path_geometry([(179.9, 0.0), (-179.8, 3.0), (-179.9, 6.0), (179.9, 8.0),
                         (179.0, 9.0)])
    assert got is not None and got["type"] == "MultiLineString"
    a, b, c = got["coordinates"]
    assert a == [[179.9, 0.0], [180.0, 1.0]]
    assert b == [[-180.0, 1.0], [-179.8, 3.0], [-179.9, 6.0], [-180.0, 7.0]]
    assert c == [[180.0, 7.0], [179.9, 8.0], [179.0, 9.0]]


def test_the_cut_latitude_is_rounded_like_every_coordinate() -> None:
    # 1/3 of the way from 0 to 1 degree of latitude: 0.333333 (six decimals)
    got = path_geometry([(179.9, 0.0), (-179.8, 1.0)])
    assert got is not None
    assert got["coordinates"][0][-1] == [180.0, 0.333333]
    assert got["coordinates"][1][0] == [-180.0, 0.333333]


@pytest.mark.parametrize(("path", "want"), [
    # ending on the antimeridian is no crossing: |179 + 1| = 180 is not beyond it
    ([(179.0, 5.0), (180.0, 6.0)], [[179.0, 5.0], [180.0, 6.0]]),
    ([(-179.0, 5.0), (-180.0, 6.0)], [[-179.0, 5.0], [-180.0, 6.0]]),
    # a long way round the other side (350 degrees east) is the short way west instead
    ([(-175.0, 5.0), (175.0, 6.0)], None),
    # a leg of 175 degrees east from 10 E crosses +180 after 170 of them:
    # 0 + 170/175 = 0.971429 (six decimals)
    ([(10.0, 0.0), (-175.0, 1.0)], "long"),
    # far from ±180 a big step is no crossing either
    ([(-10.0, 5.0), (10.0, 6.0)], [[-10.0, 5.0], [10.0, 6.0]]),
])
def test_what_is_and_is_not_a_crossing(path: list[tuple[float, float]],
                                       want: list[list[float]] | str | None) -> None:
    got = path_geometry(path)
    assert got is not None
    if want == "long":
        assert got == {"type": "MultiLineString", "coordinates": [
            [[10.0, 0.0], [180.0, 0.971429]], [[-180.0, 0.971429], [-175.0, 1.0]]]}
    elif want is None:  # -175 -> 175 westward over -180, at half way: 5.5
        assert got == {"type": "MultiLineString", "coordinates": [
            [[-175.0, 5.0], [-180.0, 5.5]], [[180.0, 5.5], [175.0, 6.0]]]}
    else:
        assert got == {"type": "LineString", "coordinates": want}


# ------------------------------------------------------------------ CSV


def _record(**change: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "id": "0123456789abcdef", "zone": "EST", "zone_kind": "national", "track": "4b1a2c",
        "icao24": "4b1a2c", "callsign": "SWR12", "entered_at": "2025-09-19T09:58:02.000Z",
        "entry_interpolated": True, "exited_at": None,
        "last_inside_at": "2025-09-19T10:10:06.400Z", "duration_s": 724.4,
        "max_depth_m": 9260.0, "entry_point": {"lat": 59.5, "lon": 24.25},
        "exit_point": None, "min_altitude_m": 9000.0, "max_altitude_m": 9100.5,
        "observations": 41,
        "classification": {"cooperative": True, "category": "airliner",
                           "registration_state": "CHE", "military": None,
                           "confidence": 0.8},
        "violation": False, "severity": "warning",
        "reasons": ["first reason", "second reason"],
        "protocol": [{"step": "call the pilot", "after_s": None},
                     {"step": "tell the duty officer", "after_s": 300.0},
                     {"step": "log it", "after_s": 0.0}],
        "went_dark_at": None, "integrity": ["a jump", "a second stream"],
        "first_inside_point": {"lat": 59.51, "lon": 24.26},
        "last_inside_point": {"lat": 59.6, "lon": 24.9},
    }
    r.update(change)
    return r


def test_a_flat_record_spreads_points_classification_and_lists() -> None:
    flat = flat_record(_record())
    assert list(flat) == [
        "id", "zone", "zone_kind", "track", "icao24", "callsign", "entered_at",
        "entry_interpolated", "exited_at", "last_inside_at", "duration_s", "max_depth_m",
        "entry_point_lat", "entry_point_lon", "exit_point_lat", "exit_point_lon",
        "min_altitude_m", "max_altitude_m", "observations", "classification_cooperative",
        "classification_category", "classification_registration_state",
        "classification_military", "violation", "severity", "reasons", "protocol",
        "went_dark_at", "integrity", "first_inside_point_lat", "first_inside_point_lon",
        "last_inside_point_lat", "last_inside_point_lon"]
    assert (flat["entry_point_lat"], flat["entry_point_lon"]) == (59.5, 24.25)
    assert (flat["exit_point_lat"], flat["exit_point_lon"]) == (None, None)
    assert (flat["last_inside_point_lat"], flat["last_inside_point_lon"]) == (59.6, 24.9)
    assert (flat["classification_cooperative"], flat["classification_category"],
            flat["classification_registration_state"], flat["classification_military"]
            ) == (True, "airliner", "CHE", None)
    assert flat["reasons"] == "first reason; second reason"
    assert flat["integrity"] == "a jump; a second stream"
    # a step due now (no time, or 0 s) has no "after"; 300 s is written as %g
    assert flat["protocol"] == ("call the pilot; tell the duty officer (after 300 s); "
                                "log it")
    assert flat["duration_s"] == 724.4 and flat["zone"] == "EST" and flat["exited_at"] is None


def test_the_csv_is_what_the_csv_reader_reads_back_with_blanks_for_none() -> None:
    out = io.StringIO()
    write_csv([_record(), _record(zone="POL", callsign=None)], out)
    text = out.getvalue()
    assert "\r" not in text and text.endswith("\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["zone"] for r in rows] == ["EST", "POL"]
    assert rows[0]["callsign"] == "SWR12" and rows[1]["callsign"] == ""
    assert rows[0]["exit_point_lat"] == "" and rows[0]["exited_at"] == ""
    assert rows[0]["entry_point_lon"] == "24.25"
    assert rows[0]["classification_military"] == ""
    assert rows[0]["protocol"].endswith("(after 300 s); log it")


# ------------------------------------------------------------------ GeoJSON


def test_geojson_features_carry_each_record_and_its_inside_path() -> None:
    entry = Entry("ÅLAND", "custom", "4b1a2c", 1000.0, True, None, 1060.0, 500.0, None,
                  None, None, None, 3, path=[(1000.0, 60.1, 19.9), (1030.0, 60.2, 20.0),
                                             (1060.0, 60.3, 20.1)])
    rid = entry_id(entry.zone, entry.track, entry.entered_at)
    found, lost = _record(id=rid, zone="ÅLAND"), _record(id="ffffffffffffffff")
    out = io.StringIO()
    write_geojson([found, lost], [entry], out)
    text = out.getvalue()
    assert text.endswith("}\n") and "ÅLAND" in text  # UTF-8 as it is, not \u escapes
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection"
    a, b = doc["features"]
    assert a["type"] == b["type"] == "Feature"
    # (time, lat, lon) fixes become (lon, lat) coordinates
    assert a["geometry"] == {"type": "LineString", "coordinates": [
        [19.9, 60.1], [20.0, 60.2], [20.1, 60.3]]}
    assert a["properties"] == found
    assert b["geometry"] is None and b["properties"] == lost  # no entry with its id


# ------------------------------------------------------------------ JSON Lines


@pytest.mark.parametrize(("change", "paths"), [
    ({"max_depth_m": math.nan}, "max_depth_m"),
    ({"duration_s": -math.inf}, "duration_s"),
    ({"entry_point": {"lat": math.inf, "lon": 1.0}}, "entry_point.lat"),
    ({"protocol": [{"step": "a", "after_s": 1.0}, {"step": "b", "after_s": math.nan}]},
     "protocol[1].after_s"),
    ({"max_depth_m": math.nan, "classification": {"confidence": math.inf}},
     "max_depth_m, classification.confidence"),
])
def test_a_non_finite_number_is_named_by_its_path(change: dict[str, Any], paths: str) -> None:
    with pytest.raises(DataError) as err:
        jsonl_line(_record(**change))
    assert str(err.value) == (f"record 0123456789abcdef: field(s) {paths} hold a "
                              "non-finite number; not written")


def test_a_non_finite_value_alone_is_named_value() -> None:
    from skyfence.incidents.formats import _non_finite

    assert _non_finite(math.nan) == ["value"] and _non_finite(1.0) == []


def test_finite_numbers_and_other_values_are_written() -> None:
    line = jsonl_line(_record(max_depth_m=1e308, duration_s=-0.0))
    assert json.loads(line)["max_depth_m"] == 1e308 and "\n" not in line


class _Encoded:
    """Records half encoded already (a spill file's lines) and half not."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def jsonl_lines(self) -> Any:
        return iter(self.items)


def test_encoded_records_are_copied_and_the_others_encoded_one_per_line() -> None:
    out = io.StringIO()
    write_jsonl(_Encoded(['{"id":"a"}\n', {"id": "b", "zone": "Ø"}]), out)  # type: ignore[arg-type]
    assert out.getvalue() == '{"id":"a"}\n{"id":"b","zone":"Ø"}\n'


# ------------------------------------------------------------------ table


def _table(records: list[dict[str, Any]], **kw: Any) -> str:
    out = io.StringIO()
    render_table(records, out, **kw)
    return out.getvalue()


def test_the_table_folds_long_reasons_and_is_200_columns_wide_in_a_file() -> None:
    reason = "q" * 300 + " the end of a very long reason"
    text = _table([_record(reasons=[reason])], title="Incursions")
    assert text.lstrip().startswith("Incursions")
    for name in ("severity", "zone", "track", "entered", "depth", "obs", "why"):
        assert name in text  # every column has its header
    # every character of the reason is shown (folded over lines, not cut short)
    assert "".join(ch for ch in text if ch == "q") == "q" * 300
    assert "end" in text and "…" not in text
    # not a terminal: laid out 200 columns wide (the reason fills it), not 80
    assert max(len(line) for line in text.splitlines()) == 200
    assert "\x1b[" not in text  # no colour codes in a file


def test_rows_follow_each_other_without_lines_between() -> None:
    text = _table([_record(zone="EST"), _record(zone="LVA")])
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "EST" in line)
    assert "LVA" in lines[first + 1]


class _Terminal(io.StringIO):
    """A file that says it is a terminal."""

    def isatty(self) -> bool:
        return True


ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize(("severity", "code"), [
    ("critical", "\x1b[1;31m"), ("warning", "\x1b[33m"), ("info", "\x1b[2m")])
def test_on_a_terminal_rows_take_their_severity_colour_and_its_width(
        severity: str, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich's codes: bold red is SGR 1;31, yellow 33, dim 2; the terminal's width
    comes from ``COLUMNS`` when the file has no terminal size of its own."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    out = _Terminal()
    render_table([_record(severity=severity, reasons=["q" * 300])], out)
    text = out.getvalue()
    row = next(line for line in text.splitlines() if "4b1a2c" in line)
    assert code in row
    others = {"\x1b[1;31m", "\x1b[33m", "\x1b[2m"} - {code}
    assert not any(c in row for c in others)
    assert max(len(ANSI.sub("", line)) for line in text.splitlines()) == 100


def test_a_file_gets_no_colour_codes_even_when_the_environment_forces_colour(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``FORCE_COLOR`` (set by some CI systems) makes rich colour any output it is left
    to judge; a file of records must stay plain text."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    text = _table([_record(severity="critical")])
    assert "4b1a2c" in text and "\x1b[" not in text


def test_an_unknown_severity_has_no_colour_on_a_terminal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    out = _Terminal()
    render_table([_record(severity="odd")], out)
    row = next(line for line in out.getvalue().splitlines() if "4b1a2c" in line)
    assert not ANSI.search(row.replace("\x1b[0m", ""))


def test_the_plain_table_pads_every_column_but_the_last() -> None:
    records = [_record(zone="EST", reasons=["r1"]), _record(zone="LONGZONE", reasons=["r2"])]
    text = _table(records, rich_max_rows=1, title="T")
    lines = text.splitlines()
    assert lines[0] == "T"
    header, rule, first, second = lines[1:]
    assert header.startswith("severity  zone") and header.endswith("why")
    assert rule.endswith("---") and not rule.endswith(" ")
    # the zone column is as wide as LONGZONE: the track starts at the same place
    assert first.index("4b1a2c") == second.index("4b1a2c") == header.index("track")
    assert first.endswith("r1") and second.endswith("r2")
