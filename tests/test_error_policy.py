"""One error mode for every reader: abort raises, skip counts, keeps and logs once.

The expected line numbers are counted by hand from the lines each test writes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from skyfence.errors import ON_ERROR_MODES, ErrorPolicy, InputError, UsageError, on_error_mode
from skyfence.sources.modes_files import read_raw_file, read_sbs_file
from skyfence.sources.stream_decoder import StreamDecoder

GOOD = ("MSG,3,1,1,4CA2D6,1,2025/09/19,09:58:12.400,2025/09/19,09:58:12.400,,37000,,,"
        "59.817,26.358,,,0,0,0,0")
BAD_LAT = GOOD.replace("59.817", "north")


def test_modes_are_abort_and_skip_only() -> None:
    assert ON_ERROR_MODES == ("abort", "skip")
    assert [on_error_mode(m) for m in ("abort", "skip")] == ["abort", "skip"]
    # "raise" was the ASTERIX reader's own spelling of abort: one spelling now
    with pytest.raises(UsageError, match="'raise'"):
        on_error_mode("raise")
    with pytest.raises(UsageError):
        ErrorPolicy("ignore")  # type: ignore[arg-type]


def test_abort_raises_the_error_itself() -> None:
    error = InputError("bad", file="f", row=2, field="lat")
    with pytest.raises(InputError) as got:
        ErrorPolicy("abort").reject(error)
    assert got.value is error


def test_skip_counts_keeps_and_logs_the_first_only(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("skyfence.test.reader")
    policy = ErrorPolicy("skip", keep=2, logger=log)
    with caplog.at_level(logging.DEBUG, logger="skyfence.test.reader"):
        for row in (1, 2, 3):
            policy.reject(InputError("unreadable", file="f.sbs", row=row, field="lat"))
        policy.reject(InputError("no site", file="f.ast", row=9), count=5)
    assert policy.skipped == 3 + 5
    assert [e.row for e in policy.errors] == [1, 2]  # keep=2
    levels = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert levels[0] == (logging.INFO,
                         "f.sbs, row 1, field 'lat': unreadable "
                         "(skipped; further bad input is counted)")
    assert [lv for lv, _ in levels[1:]] == [logging.DEBUG] * 3


def test_take_hands_over_and_forgets() -> None:
    policy = ErrorPolicy("skip", keep=None)
    policy.reject(InputError("a", row=1))
    policy.reject(InputError("b", row=2))
    skipped, errors = policy.take()
    assert skipped == 2 and [e.row for e in errors] == [1, 2]
    assert policy.take() == (0, [])
    policy.reject(InputError("c", row=3))
    assert policy.skipped == 1 and [e.row for e in policy.errors] == [3]


def test_sbs_file_skip_is_logged_with_file_line_and_field(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "feed.sbs"
    # lines 1-3 good, line 4 bad, line 5 good, line 6 bad
    path.write_text("\n".join([GOOD, GOOD, GOOD, BAD_LAT, GOOD, BAD_LAT]) + "\n")
    with caplog.at_level(logging.INFO, logger="skyfence"):
        reader = read_sbs_file(path, on_error="skip")
        n = sum(len(b) for b in reader)
    assert n == 4
    assert reader.stats.malformed == 2 and [e.row for e in reader.errors] == [4, 6]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.name for r in infos] == ["skyfence.sources.sbs"]
    assert f"{path}, row 4, field 'lat'" in infos[0].getMessage()
    with pytest.raises(InputError) as err:
        list(read_sbs_file(path, on_error="abort"))
    assert (err.value.row, err.value.field) == (4, "lat")


def test_raw_file_skip_uses_the_same_policy(tmp_path: Path) -> None:
    path = tmp_path / "frames.raw"
    path.write_text("*8D4840D6202CC371C32CE0576098;\nnot a frame\n")
    reader = read_raw_file(path, start=0.0, on_error="skip")
    list(reader)
    assert reader.policy.skipped == 1 and reader.errors[0].row == 2


def test_live_sbs_lines_are_numbered_from_the_start_of_the_stream() -> None:
    dec = StreamDecoder("sbs", source="host:30003", decoder=None, tz="UTC")
    dec.feed((GOOD + "\n" + GOOD + "\n").encode(), 0.0)
    assert len(dec.flush()) == 2
    dec.feed((GOOD + "\n" + BAD_LAT + "\n").encode(), 1.0)
    assert len(dec.flush()) == 1
    # the bad line is the stream's 4th line, not the batch's 2nd
    assert [(e.file, e.row) for e in dec.sbs.errors] == [("host:30003", 4)]
