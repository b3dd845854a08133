"""The terminal table of incident records: rich up to a thousand rows, plain text beyond.

The expected lines are written out by hand from the hand-built records below (depth in
km to 2 places, duration as m:ss or h:mm:ss, times cut to the second, the first fix
marked when the entry is not interpolated), not derived from the writer.
"""

from __future__ import annotations

import io
from typing import Any

from skyfence.incidents.formats import RICH_MAX_ROWS, render_table


def _record(i: int, **over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "severity": "critical", "violation": True, "zone": "EST", "track": f"4b1a{i:02x}",
        "callsign": "RSD031", "entered_at": "2025-09-19T09:58:02.250Z",
        "entry_interpolated": True, "exited_at": "2025-09-19T10:10:06.750Z",
        "duration_s": 724.5, "max_depth_m": 9267.0, "min_altitude_m": 9144.0,
        "max_altitude_m": 9451.7, "observations": 41,
        "reasons": ["non-cooperative aircraft inside EST airspace", "second"]}
    r.update(over)
    return r


def test_a_large_table_is_plain_aligned_text_with_the_same_cells() -> None:
    recs = [_record(1), _record(2, severity="info", violation=False, callsign=None,
                                   zone="LV", entry_interpolated=False, exited_at=None,
                                   duration_s=3725.0, max_depth_m=15.0,
                                   min_altitude_m=None, reasons=[])]
    buf = io.StringIO()
    render_table(recs, buf, title="Entries", rich_max_rows=1)
    assert buf.getvalue().splitlines() == [
        "Entries",
        "severity    zone  track   callsign  entered                          exited         "
        "      dur      depth    alt m      obs  why",
        "----------  ----  ------  --------  -------------------------------  ---------------"
        "----  -------  -------  ---------  ---  ---",
        "critical ⚑  EST   4b1a01  RSD031    2025-09-19 09:58:02              2025-09-19 10:1"
        "0:06  12:04    9.27 km  9144-9452  41   non-cooperative aircraft inside EST airspace",
        "info        LV    4b1a02            2025-09-19 09:58:02 (first fix)  still inside   "
        "      1:02:05  0.01 km             41",
    ]


def test_the_table_turns_plain_only_above_its_row_limit() -> None:
    def boxed(n: int) -> bool:
        buf = io.StringIO()
        render_table([_record(i % 256) for i in range(n)], buf)
        lines = buf.getvalue().splitlines()
        tracks = [ln for ln in lines if "4b1a" in ln]
        assert len(tracks) == n  # one line per record either way
        return "┃" in buf.getvalue()

    assert boxed(RICH_MAX_ROWS)
    assert not boxed(RICH_MAX_ROWS + 1)


def test_rich_and_plain_tables_show_the_same_cells() -> None:
    recs = [_record(1), _record(2, callsign=None, entry_interpolated=False, exited_at=None,
                                   min_altitude_m=None, reasons=[])]
    rich, plain = io.StringIO(), io.StringIO()
    render_table(recs, rich)
    render_table(recs, plain, rich_max_rows=0)
    rich_rows = [[c.strip() for c in ln.strip("│").split("│")]
                 for ln in rich.getvalue().splitlines() if ln.startswith("│")]
    header = plain.getvalue().splitlines()[0]
    starts = [header.index(c) for c in ("severity", "zone", "track", "callsign", "entered",
                                        "exited", "dur", "depth", "alt m", "obs", "why")]
    plain_rows = [[ln[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
                  for ln in plain.getvalue().splitlines()[2:]]
    assert rich_rows == plain_rows
