"""The ASTERIX reader's own rules, each against bytes built by hand or arithmetic done
by hand: data block framing (CAT, LEN), the batches handed to the decoder's process,
what a decoder error or crash becomes, record numbering across categories, and the
date of records dated by their capture time.

A data block is one octet of category, two of length (the whole block, header
included), then its records. The CAT048 records are those of ``test_asterix_items``
(I010 SAC/SIC, I140 time of day in 1/128 s, I020, I040 range in 1/256 NM and azimuth in
360/2^16 degree); one CAT034 record (a service message) is FSPEC 0xC0, I010 SAC/SIC
and I000 message type.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

import numpy as np
import pytest

pytest.importorskip("asterix")

from skyfence.errors import ErrorPolicy, InputError, UsageError
from skyfence.radar import RadarSite
from skyfence.sources.asterix import decode_asterix
from skyfence.sources.asterix import records as records_module
from skyfence.sources.asterix.blocks import split_blocks
from skyfence.sources.asterix.convert import unix_times
from skyfence.sources.asterix.isolate import CRASHED
from skyfence.sources.asterix.records import RecordColumns

SITE = RadarSite(7, 9, 59.4, 24.8, 40.0)
DAY = 86_400.0
#: midnight of 2025-09-19 UTC: 20 350 days after 1970-01-01
MIDNIGHT = 20_350 * DAY


def plot(*, sic: int = 9, tod_s: float = 3600.0, with_position: bool = True) -> bytes:
    """One CAT048 record: I010, I140, I020 (SSR), and I040 at 20 NM, 90 deg."""
    fspec = 0b1110_0000 | (0b1_0000 if with_position else 0)
    items = bytes([7, sic]) + round(tod_s * 128).to_bytes(3, "big") + bytes([2 << 5])
    if with_position:
        items += (20 * 256).to_bytes(2, "big") + round(90 / 360 * 65536).to_bytes(2, "big")
    return bytes([fspec]) + items


def block(cat: int, *records: bytes) -> bytes:
    body = b"".join(records)
    return bytes([cat]) + (3 + len(body)).to_bytes(2, "big") + body


#: a CAT034 north marker from SAC/SIC 7/9: FSPEC I010, I000; message type 1
SERVICE = bytes([0xC0, 7, 9, 1])


# --- data block framing -------------------------------------------------------------


def test_blocks_are_cut_by_their_length() -> None:
    """A 3-octet block (no record) is a block; two blocks back to back, the second
    exactly filling the payload."""
    one, two = block(48), block(48, plot())
    assert split_blocks(one + two, 0) == ([one, two], [])
    assert split_blocks(b"", 0) == ([], [])


def test_every_category_the_decoder_knows_is_framed_others_are_not() -> None:
    """Categories with a definition in ``asterix-decoder`` (its config files) that a
    block may carry: framed. Category 0, 3, 49 and 255 (no definition): refused, the
    message naming the category."""
    known = [1, 2, 4, 8, 10, 11, 19, 20, 21, 23, 34, 48, 62, 63, 65, 240]
    for cat in known:
        assert split_blocks(block(cat), 0) == ([block(cat)], []), cat
    for cat in (0, 3, 49, 255):
        assert split_blocks(block(cat), 0) == (
            [], [("CAT", f"data block 1 at byte 0: unknown category {cat}")])


def test_a_bad_header_stops_the_payload_and_names_block_and_byte() -> None:
    """After two good blocks (3 and 14 octets: the bad one starts at byte 17, and is
    block 3, or block 3 + 5 when 5 blocks came before this payload), what follows is
    dropped with it:
    - 2 stray octets at the end: too short for a header;
    - a length of 2 (shorter than the header itself) or 0, with a good block after;
    - a length of 9 with 8 octets left."""
    good = block(48) + block(48, plot())
    assert len(good) == 17
    cases = [
        (b"\x30\x00", 0, ("LEN", "data block 3 at byte 17: 2 stray bytes")),
        (bytes([48, 0, 2]) + block(48), 0,
         ("LEN", "data block 3 at byte 17: length 2 does not fit the 6 bytes left")),
        (bytes([48, 0, 0, 1]) + block(48), 5,
         ("LEN", "data block 8 at byte 17: length 0 does not fit the 7 bytes left")),
        (bytes([48, 0, 9]) + bytes(5), 0,
         ("LEN", "data block 3 at byte 17: length 9 does not fit the 8 bytes left")),
    ]
    for tail, before, error in cases:
        assert split_blocks(good + tail, before) == ([block(48), block(48, plot())], [error])


def test_block_numbers_count_on_over_payloads() -> None:
    """Read from a file, the blocks of all payloads are numbered on: a bad header in
    the third block (the first payload held two) is block 3."""
    cols = RecordColumns("x.ast", ErrorPolicy("skip"))
    cols.add_payloads([(None, block(48) + block(48)), (None, block(48) + bytes([99, 0, 3]))])
    skipped, errors = cols.policy.take()
    assert cols.blocks == 3
    assert skipped == 1
    assert [(e.field, str(e)) for e in errors] == [
        ("CAT", "x.ast, field 'CAT': data block 4 at byte 3: unknown category 99")]


# --- categories, counters, record numbers ------------------------------------------------


def test_other_categories_are_counted_and_numbered() -> None:
    """A CAT001 and a CAT240 block (framed, not decoded) count once each, unread and
    unnumbered; a CAT034 record is decoded and numbered (record 2 here) but not read:
    3 of other categories. Records without a position count apart. Plots keep their
    record numbers (1, 4: record 3 has no position) and time of day."""
    data = decode_asterix(
        block(1, bytes(4)) + block(48, plot(tod_s=10.0)) + block(240, bytes(2))
        + block(34, SERVICE)
        + block(48, plot(with_position=False), plot(tod_s=20.0)),
        sites=[SITE], date="2025-09-19")
    assert data.records == 4
    assert data.other_categories == 3
    assert data.without_position == 1
    assert data.plots.record.tolist() == [1, 4]
    assert data.plots.time.tolist() == [MIDNIGHT + 10.0, MIDNIGHT + 20.0]


def test_plots_between_tracks_keep_their_own_times() -> None:
    """Times are kept in file order for all records; plots and tracks each index theirs:
    a track at 30 s between plots at 10 s and 20 s."""
    track = bytes([0x99, 0x08, 25, 100]) + (30 * 128).to_bytes(3, "big") + bytes(8) + \
        (1).to_bytes(2, "big")  # I010, I070, I105 (0 N 0 E), I040 (see test_asterix_cat062_items)
    data = decode_asterix(block(48, plot(tod_s=10.0)) + block(62, track)
                          + block(48, plot(tod_s=20.0)), sites=[SITE], date="2025-09-19")
    assert data.plots.time.tolist() == [MIDNIGHT + 10.0, MIDNIGHT + 20.0]
    assert data.tracks.time.tolist() == [MIDNIGHT + 30.0]
    assert data.plots.record.tolist() == [1, 3]


def test_only_tracks_give_no_plots_and_only_plots_no_tracks() -> None:
    track = bytes([0x99, 0x08, 25, 100]) + (30 * 128).to_bytes(3, "big") + bytes(8) + \
        (1).to_bytes(2, "big")
    tracks_only = decode_asterix(block(62, track), date="2025-09-19")
    assert tracks_only.plots.empty and len(tracks_only.tracks) == 1
    plots_only = decode_asterix(block(48, plot()), sites=[SITE], date="2025-09-19")
    assert plots_only.tracks.empty and len(plots_only.plots) == 1
    assert list(plots_only.tracks.columns) == list(tracks_only.tracks.columns)


# --- the decoder's process: batches, errors, crashes --------------------------------------


def test_blocks_go_to_the_decoder_in_batches_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """With batches of 2 blocks, 5 CAT048 blocks (one record each, times 1-5 s) and a
    CAT001 block (not decoded), one payload each, go over as 2 + 2 + 1 decoded blocks
    (a batch is sent once a payload brings it to 2); the records come back in file
    order."""
    sizes: list[int] = []
    real = records_module.parse_blocks

    def spy(blocks: list[bytes]) -> list:
        sizes.append(len(blocks))
        return real(blocks)

    monkeypatch.setattr(records_module, "BATCH_BLOCKS", 2)
    monkeypatch.setattr(records_module, "parse_blocks", spy)
    payload = b"".join(block(48, plot(tod_s=float(s))) for s in (1, 2)) + block(1, bytes(4)) \
        + b"".join(block(48, plot(tod_s=float(s))) for s in (3, 4, 5))
    cols = RecordColumns("x.ast", ErrorPolicy())
    cols.add_payloads([(None, b) for b in split_blocks(payload, 0)[0]])  # one block each
    assert [s for s in sizes if s] == [2, 2, 1]
    assert cols.tod == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert cols.p["record"] == [1, 2, 3, 4, 5]
    assert cols.other == 1


def test_a_decoder_error_or_crash_names_the_block_by_its_next_record(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The decoder's answer for a block is its records, an error message, or
    :data:`CRASHED`. Here block 2 (after one record) has an error and block 3 crashed:
    both are refused as "data block" at record 2 (the next record's number), the
    message saying which; the fourth block's record is record 2."""
    def fake(blocks: list[bytes]) -> list:
        return [[{"category": 34}], "bad item I999", CRASHED, [{"category": 34}]]

    monkeypatch.setattr(records_module, "parse_blocks", fake)
    cols = RecordColumns("x.ast", ErrorPolicy("skip"))
    cols.add_payload(block(34, SERVICE) * 4, None)
    skipped, errors = cols.policy.take()
    assert skipped == 2
    assert [(e.row, e.field) for e in errors] == [(2, "data block"), (2, "data block")]
    assert [str(e) for e in errors] == [
        "x.ast, row 2, field 'data block': cannot decode data block: bad item I999",
        "x.ast, row 2, field 'data block': the decoder crashed on this data block"]
    assert cols.records == 2
    assert cols.other == 2
    with pytest.raises(InputError) as info:
        RecordColumns("x.ast", ErrorPolicy()).add_payload(block(34, SERVICE) * 4, None)
    assert (info.value.row, info.value.field) == (2, "data block")


# --- CAT048 items past what the decoder can give -----------------------------------


def _plot_record(**items: object) -> dict:
    """A CAT048 record as the decoder gives it: I010 7/9, I140 3600 s, I040 from
    ``rho`` / ``theta``; more items by keyword."""
    rec: dict = {"category": 48, "I010": {"SAC": {"val": 7}, "SIC": {"val": 9}},
                 "I140": {"ToD": {"val": 3600.0}}}
    rec.update(items)
    return rec


def _polar(rho: float, theta: float) -> dict:
    return {"RHO": {"val": rho}, "THETA": {"val": theta}}


def test_polar_positions_in_range_and_beyond() -> None:
    """Range 0 to 512 NM (exclusive) and azimuth 0 to 360 deg (inclusive) are positions
    (I040 holds up to 255.996 NM and 359.995 deg; the check also guards values the
    decoder might give otherwise); -0.1 NM, 512 NM, -0.1 deg and 360.1 deg are refused
    naming I040, at their record."""
    cols = RecordColumns("x.ast", ErrorPolicy("skip"))
    good = [(0.0, 0.0), (511.9, 360.0)]
    bad = [(-0.1, 10.0), (512.0, 10.0), (10.0, -0.1), (10.0, 360.1)]
    for n, (rho, theta) in enumerate(good + bad, start=1):
        cols._add_record(_plot_record(I040=_polar(rho, theta)), n, None)
    skipped, errors = cols.policy.take()
    assert cols.p["theta"] == [0.0, 360.0]
    assert cols.p["rho"] == pytest.approx([0.0, 511.9 * 1852.0])
    assert skipped == 4
    assert [(e.row, e.field) for e in errors] == [(n, "I040") for n in (3, 4, 5, 6)]
    assert "polar position rho=512.0 NM theta=10.0 deg out of range" in str(errors[1])


def test_plot_identity_items() -> None:
    """Mode S address in lower case ("4CA7A8" -> "4ca7a8"), callsign without its padding
    ("DLH65A  " -> "DLH65A"), a blank callsign is none; the capture time kept as given,
    none as NaN."""
    cols = RecordColumns("x.ast", ErrorPolicy())
    cols._add_record(_plot_record(I040=_polar(1.0, 1.0), I220={"ACAddr": {"val": "4CA7A8"}},
                                  I240={"TId": {"val": "DLH65A  "}}), 1, 1234.5)
    cols._add_record(_plot_record(I040=_polar(1.0, 1.0), I240={"TId": {"val": "        "}}),
                     2, None)
    assert cols.p["icao24"] == ["4ca7a8", None]
    assert cols.p["callsign"] == ["DLH65A", None]
    assert cols.capture[0] == 1234.5 and math.isnan(cols.capture[1])


def test_a_position_without_its_azimuth_or_range_is_no_position() -> None:
    """A CAT048 I040 with a range only, or an azimuth only (the decoder gives both or
    the item is absent): counted as records without a position, not errors."""
    cols = RecordColumns("x.ast", ErrorPolicy())
    cols._add_record(_plot_record(I040={"RHO": {"val": 10.0}}), 1, None)
    cols._add_record(_plot_record(I040={"THETA": {"val": 10.0}}), 2, None)
    assert cols.without_position == 2
    assert cols.p["rho"] == []


def test_a_position_without_its_longitude_is_no_position() -> None:
    """A CAT062 I105 with a latitude only, or a longitude only: counted as records
    without a position, not errors."""
    rec = {"category": 62, "I010": {"SAC": {"val": 25}, "SIC": {"val": 100}},
           "I070": {"ToT": {"val": 10.0}}, "I040": {"TrkN": {"val": 1}},
           "I105": {"Lat": {"val": 45.0}}}
    cols = RecordColumns("x.ast", ErrorPolicy())
    cols._add_record(rec, 1, None)
    cols._add_record(dict(rec, I105={"Lon": {"val": 15.0}}), 2, None)
    assert cols.without_position == 2
    assert cols.t["lat"] == []


# --- dates from capture times -------------------------------------------------------


def _times(tod: list[float], capture: list[float]) -> list[float]:
    cols = RecordColumns("x.ast", ErrorPolicy())
    cols.tod, cols.capture = tod, capture
    return unix_times(cols, None).tolist()


def test_the_first_capture_time_dates_the_records() -> None:
    """Times of day 100, 200, 300 s; the first record has no capture time, the second
    was captured 40 000 s (0.46 day) after its time of day on 2025-09-19: the day is
    that day (round((M + 40 000) / day) = M / day); the third's capture time (50 000 s
    later, 0.58 day) would have given the next day, but only the first one counts."""
    got = _times([100.0, 200.0, 300.0], [math.nan, MIDNIGHT + 40_200.0, MIDNIGHT + 50_300.0])
    assert got == [MIDNIGHT + 100.0, MIDNIGHT + 200.0, MIDNIGHT + 300.0]


def test_a_capture_time_just_before_midnight_dates_the_next_day() -> None:
    """A record of 00:00:05 captured by a clock 10 s behind (23:59:55 of the day before)
    is of the day after that clock's date: the nearest midnight, not the one before."""
    assert _times([5.0], [MIDNIGHT - 5.0]) == [MIDNIGHT + 5.0]
    assert _times([86_395.0], [MIDNIGHT + 86_395.0 + 20.0]) == [MIDNIGHT + 86_395.0]


def test_no_date_and_no_capture_time_is_a_usage_error() -> None:
    cols = RecordColumns("x.ast", ErrorPolicy())
    cols.tod, cols.capture = [1.0], [math.nan]
    with pytest.raises(UsageError) as info:
        unix_times(cols, None)
    assert str(info.value) == ("x.ast: ASTERIX carries only the time of day; give the UTC "
                               "date of the first record (--date YYYY-MM-DD)")
    cols.tod, cols.capture = [], []
    assert unix_times(cols, None).size == 0
    assert unix_times(cols, dt.date(2025, 9, 19)).size == 0


def test_the_date_is_a_utc_date_whatever_the_time_zone(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """``--date 2025-09-19`` is that day in UTC: a time of day of 3600 s is
    1 758 243 600 s also on a machine whose local time is New York's (UTC-4 that day)
    or Tokyo's (UTC+9)."""
    cols = RecordColumns("x.ast", ErrorPolicy())
    cols.tod, cols.capture = [3600.0], [math.nan]
    try:
        for zone in ("America/New_York", "Asia/Tokyo"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            assert unix_times(cols, dt.date(2025, 9, 19)).tolist() == [MIDNIGHT + 3600.0]
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_radar_without_a_site_is_named_with_its_plots() -> None:
    """Two plots of 7/10 (records 2 and 3) and one of 7/9 with only 7/9 configured:
    one error at record 2, counting 2 plots, saying how to give the site."""
    data = decode_asterix(block(48, plot(), plot(sic=10), plot(sic=10)), sites=[SITE],
                          date="2025-09-19", on_error="skip")
    assert len(data.plots) == 1
    assert data.skipped == 2
    assert data.errors == [
        "<bytes>, row 2, field 'I010': no radar site configured for SAC/SIC 7/10 "
        "(2 plots); give --radar 7:10:LAT,LON[,ALT_M]"]
    assert np.isfinite(data.plots.lat).all()


def test_records_without_source_time_or_track_number_are_refused_by_name() -> None:
    """A CAT048 record with a SAC and no SIC, one without I140, a CAT062 track without
    I040: each refused with its message, field and record. Times of day 0 s (midnight)
    and 0.5 s are times of day."""
    cols = RecordColumns("x.ast", ErrorPolicy("skip"))
    cols._add_record(_plot_record(I010={"SAC": {"val": 7}}, I040=_polar(1.0, 1.0)), 1, None)
    no_time = _plot_record(I040=_polar(1.0, 1.0))
    del no_time["I140"]
    cols._add_record(no_time, 2, None)
    cols._add_record({"category": 62, "I010": {"SAC": {"val": 25}, "SIC": {"val": 100}},
                      "I070": {"ToT": {"val": 10.0}},
                      "I105": {"Lat": {"val": 45.0}, "Lon": {"val": 15.0}}}, 3, None)
    for n, tod in ((4, 0.0), (5, 0.5)):
        cols._add_record(_plot_record(I140={"ToD": {"val": tod}}, I040=_polar(1.0, 1.0)),
                         n, None)
    _, errors = cols.policy.take()
    assert [str(e) for e in errors] == [
        "x.ast, row 1, field 'I010': record has no data source identifier (SAC/SIC)",
        "x.ast, row 2, field 'I140': record has no time of day",
        "x.ast, row 3, field 'I040': system track has no track number"]
    assert cols.tod == [0.0, 0.5]


def test_a_process_forked_after_decoding_decodes_with_its_own_worker() -> None:
    """A program that decodes, then forks (a pre-fork server, a multiprocessing pool
    with the fork start method), must decode in the child too. The parent's decoder
    worker is not the child's and the pool's threads are not copied into it, so a child
    using the parent's pool waited for the batch timeout and got :data:`CRASHED` for
    every block. The child reports through its exit code: 0 when its decode gives the
    plot's SAC/SIC and time of day (7/9, 3600 s, as built by hand above), 1 when it
    gives something else, 2 on an exception."""
    import os

    from skyfence.sources.asterix import isolate
    from skyfence.sources.asterix.isolate import parse_blocks

    data = block(48, plot())

    def first_record() -> dict[str, Any]:
        got = parse_blocks([data], timeout_s=20.0)[0]
        return {} if isinstance(got, str) else got[0]  # a string: the decoder crashed

    before = first_record()  # the parent's worker is started here
    assert before["I140"]["ToD"]["val"] == 3600.0
    pid = os.fork()
    if pid == 0:  # the child: nothing of pytest may run here
        code = 2
        try:
            rec = first_record()
            code = 0 if (rec.get("I010", {}).get("SAC", {}).get("val") == 7
                         and rec["I140"]["ToD"]["val"] == 3600.0) else 1
        finally:
            isolate._reset()  # the child's own worker; os._exit runs no exit hook
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # the parent's worker was left alone: it still decodes
    after = first_record()
    assert (after["I010"], after["I140"]) == (before["I010"], before["I140"])
