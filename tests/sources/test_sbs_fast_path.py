"""The Arrow fast path of the SBS parser gives exactly what the line-by-line path gives."""

from __future__ import annotations

import pandas as pd
from feed_helpers import data_path

from skyfence.sources import sbs
from skyfence.sources.sbs import SbsParser


def _parse(lines: list[str], fast: bool, monkeypatch: object) -> pd.DataFrame:
    if not fast:
        monkeypatch.setattr(sbs, "_fast_messages", lambda good: None)  # type: ignore[attr-defined]
    parser = SbsParser()
    out = [parser.parse_lines(lines[i:i + 50], first_line=i + 1)
           for i in range(0, len(lines), 50)]
    return pd.concat(out, ignore_index=True)


def test_fast_path_equals_line_by_line(monkeypatch: object) -> None:
    lines = data_path("dump1090_sbs.txt").read_text().splitlines()
    lines = [ln for ln in lines if ln.startswith("MSG")]
    assert len(lines) > 100
    fast = _parse(lines, True, monkeypatch)
    assert sbs._fast_messages(lines[:50]) is not None  # the recorded lines take it
    slow = _parse(lines, False, monkeypatch)
    assert len(fast) > 10
    pd.testing.assert_frame_equal(fast, slow)


def test_a_bad_line_falls_back_and_is_named(monkeypatch: object) -> None:
    lines = [ln for ln in data_path("dump1090_sbs.txt").read_text().splitlines()
             if ln.startswith("MSG,3") and ln.split(",")[14]][:12]
    clean = SbsParser().parse_lines(lines)
    parts = lines[5].split(",")
    parts[14] = "north"
    lines[5] = ",".join(parts)
    assert sbs._fast_messages(lines) is None
    parser = SbsParser()
    out = parser.parse_lines(lines, first_line=1)
    assert parser.stats.malformed == 1 and len(out) == len(clean) - 1
    assert "line 6" in str(parser.errors[0]) or "row 6" in str(parser.errors[0])
