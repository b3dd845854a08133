"""One zone's pass over a batch: typed items in order, one handler per kind.

The inside rows and crossings are given by hand (no geometry), so every expected event
below follows from the contract's rules alone: an entry begins at an inward crossing
(interpolated) or at the first fix of a track piece that is inside (not interpolated),
ends at an outward crossing, and ends open where a gap of more than 300 s splits the
track.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from skyfence.airspace.zones import circle_zone
from skyfence.detect.crossings import Transitions
from skyfence.detect.track_state import BatchWork, TrackTable
from skyfence.detect.zone_pass import (
    Crossing,
    FirstFix,
    InsideRun,
    PieceEnd,
    ZonePass,
    inside_runs,
    zone_items,
)
from skyfence.model import make_observations

ZONE = circle_zone("Z", 0.0, 0.0, 50.0)


def test_items_at_one_place_open_then_fold_then_close() -> None:
    # the documented order at one place: open, fold the run in, then close
    items = [PieceEnd(5), Crossing(5, 0.0, False), InsideRun(5, 7), FirstFix(5),
             Crossing(5, 0.0, True)]
    items.sort(key=lambda it: (it.at, it.rank))
    assert [type(it).__name__ for it in items] == [
        "FirstFix", "Crossing", "InsideRun", "Crossing", "PieceEnd"]
    assert [getattr(it, "entering", None) for it in items] == [None, True, None, False, None]


def _work() -> BatchWork:
    # one track, six fixes; 980 s between rows 2 and 3 (> 300 s): two pieces
    obs = make_observations(time=[0.0, 10.0, 20.0, 1000.0, 1010.0, 1020.0],
                            icao24=["abc123"] * 6, lat=[0.0] * 6,
                            lon=[-1.0, -0.1, 0.0, 0.0, 0.1, 1.0],
                            callsign=[None, "ABC1", None, None, None, None])
    return BatchWork.build(obs, TrackTable(), gap_s=300.0)


def test_runs_break_at_piece_starts_and_crossings() -> None:
    w = _work()
    stats = np.array([1, 2, 3, 4])
    # a bay on segment 3 -> 4: out at 0.3, back in at 0.7
    tr = Transitions(np.array([0, 3, 3]), np.array([0.5, 0.3, 0.7]),
                     np.array([True, False, True]))
    starts, first, last = inside_runs(stats, w, tr)
    # rows 1-2 (one run), row 3 (a piece starts there), row 4 (after the bay)
    assert (starts.tolist(), first.tolist(), last.tolist()) == ([0, 2, 3], [1, 3, 4], [2, 3, 4])


def test_pass_plays_every_kind_into_the_contract_events() -> None:
    w = _work()
    rows = stats = np.array([1, 2, 3, 4])
    tr = Transitions(np.array([0, 3, 3, 4]), np.array([0.5, 0.3, 0.7, 0.5]),
                     np.array([True, False, True, False]))
    _, first, last = inside_runs(stats, w, tr)
    items = zone_items(w, rows, stats, tr, (first, last), {})
    assert items == [Crossing(0, 0.5, True), InsideRun(1, 2), PieceEnd(2), FirstFix(3),
                     InsideRun(3, 3), Crossing(3, 0.3, False), Crossing(3, 0.7, True),
                     InsideRun(4, 4), Crossing(4, 0.5, False)]
    still_open: dict = {}
    events = ZonePass(ZONE, w, np.zeros(len(w.time)), still_open, keep_path=False,
                      updates=False).play(items)
    got = [(e.kind, e.at, e.entry.entered_at, e.entry.exited_at, e.entry.observations,
            e.entry.entry_interpolated) for e in events]
    assert got == [
        # in half-way along 0 -> 10 s; lost in the gap after the fix at 20 s: ends open
        ("entry", 5.0, 5.0, None, 0, True),
        ("exit", 20.0, 5.0, None, 2, True),
        # the second piece starts inside at 1000 s, leaves at 1003 s, is back at 1007 s
        ("entry", 1000.0, 1000.0, None, 0, False),
        ("exit", 1003.0, 1000.0, 1003.0, 1, False),
        ("entry", 1007.0, 1007.0, None, 0, True),
        ("exit", 1015.0, 1007.0, 1015.0, 1, True),
    ]
    assert events[1].entry.callsign == "ABC1"
    assert events[0].entry.entry_point == pytest.approx((0.0, -0.55))
    assert still_open == {}


def test_late_and_duplicate_fixes_are_counted_and_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    from skyfence.detect.entries import EntryDetector

    det = EntryDetector([ZONE])
    # fixes at 0, 60, 60 (a duplicate), then a second batch with 30 (late) and 120
    first = make_observations(time=[0.0, 60.0, 60.0], icao24=["abc123"] * 3,
                              lat=[0.0] * 3, lon=[-0.8, -0.6, -0.6])
    late = make_observations(time=[30.0, 120.0], icao24=["abc123"] * 2,
                             lat=[0.0] * 2, lon=[-0.7, -0.4])
    with caplog.at_level(logging.DEBUG, logger="skyfence.detect.entries"):
        det.process(first)
        det.process(late)
    assert det.dropped_out_of_order == 2 and det.positions == 3
    assert [r.getMessage() for r in caplog.records] == [
        "dropped 1 fixes not newer than their track's last fix"] * 2
