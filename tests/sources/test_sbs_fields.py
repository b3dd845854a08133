"""SBS lines field by field, on both parsing paths, against values worked out by hand.

The parser has two paths: clean batches in UTC go through Arrow's CSV reader at once
(``_fast_messages``); a batch with any odd line, or in another time zone, is read line
by line, which names the bad line. Each test here that is about reading values runs
on both (``path``): "fast" lets the parser choose and records that the batch took the
fast path; "line by line" turns the fast path off, as a batch with one bad line would.

Units by hand: 1 ft = 0.3048 m, 1 kt = 1852 / 3600 m/s, 1 ft/min = 0.3048 / 60 m/s.
Midnight of 2025-09-19 UTC is ``pd.Timestamp("2025-09-19T00:00Z")``; 09:58:12.400 is
9 * 3600 + 58 * 60 + 12.4 = 35 892.4 s after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from feed_helpers import data_path

from skyfence.errors import InputError
from skyfence.sources import sbs
from skyfence.sources.sbs import SbsParser

MIDNIGHT = pd.Timestamp("2025-09-19T00:00Z").timestamp()
FT, KT, FPM = 0.3048, 1852 / 3600, 0.3048 / 60


def line(kind: int | str, fields: dict[int, str], icao: str = "4CA2D6",
         when: str = "09:58:12.400") -> str:
    """An SBS line with the 22 fields; ``fields`` maps field index -> text."""
    cells = ["MSG", str(kind), "1", "1", icao, "1", "2025/09/19", when, "2025/09/19", when]
    cells += [""] * 12
    for i, text in fields.items():
        cells[i] = text
    return ",".join(cells)


def pos(lat: str, lon: str, icao: str = "4CA2D6", more: dict[int, str] | None = None) -> str:
    """An airborne position line (MSG,3) at lat, lon (and the fields ``more``)."""
    return line(3, {14: lat, 15: lon, **(more or {})}, icao)


@dataclass
class Path:
    """Which parsing path a test runs on, and what the fast path answered each batch."""

    name: str
    fast_answers: list[bool] = field(default_factory=list)


@pytest.fixture(params=["fast", "line by line"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    p = Path(request.param)
    real = sbs._fast_messages

    def spy(good: list[str]) -> dict[str, np.ndarray] | None:
        out = real(good) if p.name == "fast" else None
        p.fast_answers.append(out is not None)
        return out

    monkeypatch.setattr(sbs, "_fast_messages", spy)
    yield p


def test_values_units_and_carried_state_by_hand(path: Path) -> None:
    """One aircraft: identity, velocity and squawk lines, then three positions. Values by
    hand: 37 000 ft = 11 277.6 m; 450 kt = 231.5 m/s; -1 024 ft/min = -5.20192 m/s. An
    empty field (altitude, ground flag) or a blank callsign keeps the last known value;
    a type, address, date, time or callsign padded with spaces is read as its value; the
    address is lower-cased."""
    lines = [
        line(1, {10: "RYR1AB  "}),
        line(4, {12: "450", 13: "90.5", 16: "-1024"}),
        line(6, {17: "7700"}),
        line(3, {11: "37000", 14: "59.817", 15: "26.358", 21: "0"}, when="09:58:12.400"),
        line(" 3 ", {6: " 2025/09/19 ", 10: "        ", 14: "59.82", 15: "26.36", 21: ""},
             icao=" 4ca2d6 ", when=" 09:58:13.000 "),
        line(2, {11: "", 14: "59.4", 15: "24.8", 21: "-1"}, when="09:58:14.250"),
    ]
    parser = SbsParser()
    obs = parser.parse_lines(lines)
    assert path.fast_answers == [path.name == "fast"]
    assert obs.icao24.tolist() == ["4ca2d6"] * 3
    assert (obs.time - MIDNIGHT).tolist() == pytest.approx([35_892.4, 35_893.0, 35_894.25],
                                                           abs=1e-6)
    assert obs.lat.tolist() == [59.817, 59.82, 59.4]
    assert obs.lon.tolist() == [26.358, 26.36, 24.8]
    assert obs.altitude.tolist() == pytest.approx([11_277.6] * 3)
    assert obs.velocity.tolist() == pytest.approx([231.5] * 3)
    assert obs.heading.tolist() == [90.5] * 3
    assert obs.vertrate.tolist() == pytest.approx([-5.20192] * 3)
    assert obs.callsign.tolist() == ["RYR1AB"] * 3
    assert obs.squawk.tolist() == ["7700"] * 3
    # "0" is airborne, an empty flag keeps it, "-1" (dump1090's true) is on the ground
    assert obs.onground.tolist() == [False, False, True]
    assert parser.stats.malformed == 0


def test_an_aircraft_that_lands_and_takes_off(path: Path) -> None:
    """Ground flag "-1" (on the ground), then "0" (airborne again): the second position
    is airborne, not the ground state carried on."""
    obs = SbsParser().parse_lines([pos("59.41", "24.8", more={21: "-1"}),
                                   pos("59.42", "24.8", more={21: "0"})])
    assert path.fast_answers == [path.name == "fast"]
    assert obs.onground.tolist() == [True, False]


def test_the_generated_time_is_read_not_the_logged_one(path: Path) -> None:
    """Generated 09:58:12.400, logged 10:00:00.000 (the receiver's log clock): the
    observation is at the generated time, 35 892.4 s after midnight."""
    obs = SbsParser().parse_lines([line(3, {9: "10:00:00.000", 14: "59.8", 15: "26.3"})])
    assert obs.time.tolist() == pytest.approx([MIDNIGHT + 35_892.4], abs=1e-6)


def test_a_missing_generated_time_falls_back_to_the_logged_then_the_arrival_time() -> None:
    """No generated date: the logged date and time (10:00:00.000 = 36 000 s); neither:
    the arrival time when given (a live feed), else the line is refused."""
    no_gen = line(3, {6: "", 7: "", 9: "10:00:00.000", 14: "59.8", 15: "26.3"})
    neither = line(3, {6: "", 7: "", 8: "", 9: "", 14: "59.8", 15: "26.3"}, icao="ABCDEF")
    arrival = MIDNIGHT + 40_000.0
    parser = SbsParser()
    obs = parser.parse_lines([no_gen, neither], arrival_time=arrival)
    assert obs.time.tolist() == pytest.approx([MIDNIGHT + 36_000.0, arrival], abs=1e-6)
    assert parser.stats.malformed == 0
    parser = SbsParser()
    obs = parser.parse_lines([no_gen, neither], first_line=5)
    assert obs.time.tolist() == pytest.approx([MIDNIGHT + 36_000.0], abs=1e-6)
    assert (parser.errors[0].row, parser.errors[0].field) == (6, "generated_time")


def test_positions_on_the_limits_are_kept(path: Path) -> None:
    """The poles and the antimeridian are positions like any other."""
    lines = [pos("90", "0", "000001"), pos("-90", "0", "000002"), pos("0", "180", "000003"),
             pos("0", "-180", "000004")]
    parser = SbsParser()
    obs = parser.parse_lines(lines)
    assert path.fast_answers == [path.name == "fast"]
    assert obs.lat.tolist() == [90.0, -90.0, 0.0, 0.0]
    assert obs.lon.tolist() == [0.0, 0.0, 180.0, -180.0]
    assert parser.stats.malformed == 0


@pytest.mark.parametrize(
    ("bad", "field_name"),
    [
        (pos("90.0001", "26.3"), "lat"),
        (pos("-90.5", "26.3"), "lat"),
        (pos("59.8", "180.0001"), "lon"),
        (pos("59.8", "-180.5"), "lon"),
        (line(3, {15: "26.3"}), "lon"),  # a longitude without a latitude
        (line(3, {14: "59.8"}), "lon"),  # and the other way round
        # 164 100 ft = 50 017.7 m, above the 50 000 m a balloon reaches
        (pos("59.8", "26.3", more={11: "164100"}), "altitude"),
        # 2 916 kt = 1 500.1 m/s, above the 1 500 m/s of any aircraft
        (pos("59.8", "26.3", more={12: "2916"}), "ground_speed"),
        (pos("59.8", "26.3", more={13: "361"}), "track"),
        # -98 500 ft/min = -500.4 m/s, beyond the 500 m/s limit
        (pos("59.8", "26.3", more={16: "-98500"}), "vertical_rate"),
        # after 2100-01-01T00:00Z (unix 4 102 444 800 s), even by 35 892.4 s of the day
        (line(3, {6: "2100/01/01", 14: "59.8", 15: "26.3"}), "generated_time"),
        (line(3, {6: "2100/01/02", 14: "59.8", 15: "26.3"}), "generated_time"),
        (line(3, {6: "2025/13/40", 8: "", 14: "59.8", 15: "26.3"}), "generated_time"),
    ],
)
def test_a_value_out_of_its_range_is_refused_naming_its_field(bad: str, field_name: str
                                                              ) -> None:
    """Lines 10 and 12 are good, line 11 has one value out of range: it is counted under
    its own field (a longitude is not reported as a latitude), and raised when aborting."""
    good = pos("59.8", "26.3")
    assert sbs._fast_messages([good, bad]) is None  # the fast path hands it over
    parser = SbsParser(source="feed.sbs")
    obs = parser.parse_lines([good, bad, good], first_line=10)
    assert len(obs) == 2
    assert dict(parser.stats.malformed_by_field) == {field_name: 1}
    assert (parser.errors[0].row, parser.errors[0].field) == (11, field_name)
    with pytest.raises(InputError) as info:
        SbsParser(source="feed.sbs", on_error="abort").parse_lines([good, bad], first_line=10)
    assert (info.value.row, info.value.field) == (11, field_name)


@pytest.mark.parametrize("kind", ["0", "9", "X", "33"])
def test_transmission_types_are_1_to_8(kind: str) -> None:
    parser = SbsParser()
    assert len(parser.parse_lines([line(kind, {14: "59.8", 15: "26.3"})])) == 0
    assert dict(parser.stats.malformed_by_field) == {"transmission_type": 1}


def test_the_other_record_types_are_ignored() -> None:
    """Selection change, new id, new aircraft, status and clock records (BaseStation's
    SEL, ID, AIR, STA, CLK) carry no aircraft message: counted as ignored, not as bad."""
    parser = SbsParser()
    parser.parse_lines(["SEL,,496,2286,4CA4E5,27215,2010/02/19,18:06:07.710,,,RYR1427",
                        "ID,,496,7162,405637,27928,2010/02/19,18:06:07.115,,,EZY691A",
                        "AIR,,496,5906,400F01,27931,2010/02/19,18:06:07.128,,",
                        "STA,,5,179,400AA5,10103,2008/11/28,14:58:51.153,,,RM", "CLK,,,"])
    assert parser.stats.ignored == 5 and parser.stats.malformed == 0


def test_error_messages_say_what_is_wrong() -> None:
    """One line an operator can act on: the file, the row, the field and the reason."""
    lines = ["ABCDEFGHIJ,1,2", "MSG,3,1,1,4CA2D6,1", line(3, {4: "4CA2D"}), line(3, {11: "x"})]
    parser = SbsParser(source="feed.sbs")
    parser.parse_lines(lines, first_line=7)
    assert [str(e) for e in parser.errors] == [
        "feed.sbs, row 7, field 'message_type': unknown type 'ABCDEFGH'",
        "feed.sbs, row 8, field 'field count': 6 fields, expected 22",
        "feed.sbs, row 9, field 'hex_ident': unreadable value",
        "feed.sbs, row 10, field 'altitude': unreadable value",
    ]


def test_counters_add_up_over_batches() -> None:
    """A clean batch (velocity line, position, a status record), then one with two lines
    of a bad address, a position and a blank line, then a clean one of one position: 8
    lines, 2 ignored, 4 messages read, 3 positions, 2 malformed, both in ``hex_ident``
    (the first and last batches take the fast path, the second the line-by-line one)."""
    parser = SbsParser()
    parser.parse_lines([line(4, {12: "450"}), pos("59.8", "26.3"), "STA,,5,179,400AA5,10103"])
    parser.parse_lines([pos("59.9", "26.4"), pos("1", "2", "XYZ"), pos("1", "2", "12345G"), ""])
    parser.parse_lines([pos("59.95", "26.45")])
    s = parser.stats
    assert (s.lines, s.ignored, s.messages, s.positions) == (8, 2, 4, 3)
    assert s.malformed == 2 and dict(s.malformed_by_field) == {"hex_ident": 2}


def test_local_times_that_do_not_exist_or_occur_twice_are_refused() -> None:
    """Europe/Tallinn: summer time (UTC+3) ends on 2025-10-26 at 04:00 local, when the
    clock goes back to 03:00 (UTC+2): 03:30 that day happens twice. It begins on
    2025-03-30 at 03:00 local, when the clock jumps to 04:00: 03:30 never happens.
    02:30 on 26 Oct is 23:30 UTC on the 25th; 04:30 is 02:30 UTC. The two others are
    refused (the parser does not guess), not shifted by an hour."""
    def at(date: str, time: str, icao: str) -> str:
        return line(3, {6: date, 7: time, 8: date, 9: time, 14: "59.4", 15: "24.8"}, icao)

    lines = [at("2025/10/26", "02:30:00.000", "000001"), at("2025/10/26", "03:30:00.000", "000002"),
             at("2025/10/26", "04:30:00.000", "000003"), at("2025/03/30", "03:30:00.000", "000004")]
    parser = SbsParser(tz="Europe/Tallinn")
    obs = parser.parse_lines(lines)
    assert obs.time.tolist() == [pd.Timestamp("2025-10-25T23:30Z").timestamp(),
                                 pd.Timestamp("2025-10-26T02:30Z").timestamp()]
    assert [(e.row, e.field) for e in parser.errors] == [(2, "generated_time"),
                                                          (4, "generated_time")]


def test_times_after_an_unreadable_one_are_still_read() -> None:
    """Line by line, in this order: "9:58" (no clock reading), then "09:58:12" and
    "09:58:12.999999" (microseconds): 35 892 s and 35 892.999 999 s after midnight."""
    parser = SbsParser()
    obs = parser.parse_lines([line(3, {14: "59.8", 15: "26.3"}, f"00000{i}", when=w)
                              for i, w in enumerate(["9:58", "09:58:12", "09:58:12.999999"])])
    assert (obs.time - MIDNIGHT).tolist() == pytest.approx([35_892.0, 35_892.999_999],
                                                           abs=5e-7)
    assert [(e.row, e.field) for e in parser.errors] == [(1, "generated_time")]


def test_odd_bytes_and_blank_numbers_neither_crash_nor_invent_values() -> None:
    """A 12-character time with a non-ASCII letter is refused (counted); a numeric cell
    of spaces is an empty cell: the line is read, the altitude unknown."""
    odd = "09:58:12.4\u00e90"
    assert len(odd) == 12
    parser = SbsParser()
    obs = parser.parse_lines([line(3, {7: odd, 9: odd, 14: "59.8", 15: "26.3"}),
                              line(3, {11: "   ", 14: "59.8", 15: "26.3"}, icao="ABCDEF")])
    assert obs.icao24.tolist() == ["abcdef"] and np.isnan(obs.altitude[0])
    assert dict(parser.stats.malformed_by_field) == {"generated_time": 1}


def test_clean_recorded_lines_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole dump1090 recording (150 lines), in batches of 20 lines as a feed gives
    them: every batch is clean, so every one is read by Arrow at once (the throughput of
    ``watch`` rests on it; ``test_sbs_fast_path`` shows it gives the same answers)."""
    lines = data_path("dump1090_sbs.txt").read_text().splitlines()
    answers: list[bool] = []
    real = sbs._fast_messages

    def spy(good: list[str]) -> dict[str, np.ndarray] | None:
        out = real(good)
        answers.append(out is not None)
        return out

    monkeypatch.setattr(sbs, "_fast_messages", spy)
    parser = SbsParser()
    for i in range(0, len(lines), 20):
        parser.parse_lines(lines[i:i + 20])
    assert len(answers) > 5 and all(answers)
    assert parser.stats.malformed == 0


def test_quotes_and_null_words_are_text_on_both_paths(path: Path) -> None:
    """SBS has no quoting and no null words: a callsign written with double quotes keeps
    them, and ``NA``, ``NULL`` or ``nan`` are callsigns, not missing values (the fast
    path must not read them as CSV would)."""
    signs = ['"RYR1AB"', "NA", "NULL", "nan"]
    obs = SbsParser().parse_lines([pos("59.8", "26.3", f"00000{i}", more={10: c})
                                   for i, c in enumerate(signs)])
    assert path.fast_answers == [path.name == "fast"]
    assert obs.callsign.tolist() == signs


def test_every_bad_line_is_counted_the_first_hundred_kept_and_the_first_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    """101 lines with a bad address: all counted; the first 100 errors kept for the
    summary (lines 1..100); one line logged, on the SBS reader's own logger."""
    parser = SbsParser(source="feed.sbs")
    with caplog.at_level(logging.DEBUG, logger="skyfence.sources.sbs"):
        parser.parse_lines([pos("1", "2", "XYZ")] * 101)
    assert parser.stats.malformed == 101
    assert [e.row for e in parser.errors] == list(range(1, 101))
    info = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.name for r in info] == ["skyfence.sources.sbs"]
    assert info[0].getMessage().startswith("feed.sbs, row 1, field 'hex_ident'")


@pytest.mark.parametrize("when", ["09:58-12.400", "09:58:12-400", "09-58:12.400"])
def test_a_time_with_one_wrong_separator_is_refused(path: Path, when: str) -> None:
    """``HH:MM:SS.fff`` has its separators at three places; one wrong is no time."""
    parser = SbsParser()
    assert len(parser.parse_lines([line(3, {14: "59.8", 15: "26.3"}, when=when)])) == 0
    assert dict(parser.stats.malformed_by_field) == {"generated_time": 1}


def test_parsers_sharing_a_state_share_what_they_know() -> None:
    """Two feeds of one receiver, one parser each, one state: the callsign the first
    feed heard is on the position the second one reads."""
    from skyfence.sources._state import LastKnown

    state = LastKnown()
    SbsParser(state=state).parse_lines([line(1, {10: "RYR1AB"})])
    obs = SbsParser(state=state).parse_lines([pos("59.8", "26.3")])
    assert obs.callsign.tolist() == ["RYR1AB"]


def test_any_ground_flag_but_zero_is_on_the_ground(path: Path) -> None:
    """BaseStation writes "-1" for true; other feeders write "1". Both are on the ground,
    "0" is airborne (the SBS-1 flag is a boolean: anything but 0 is true)."""
    obs = SbsParser().parse_lines([pos("59.41", "24.8", more={21: "1"}),
                                   pos("59.42", "24.8", more={21: "0"}),
                                   pos("59.43", "24.8", more={21: "-1"})])
    assert path.fast_answers == [path.name == "fast"]
    assert obs.onground.tolist() == [True, False, True]
