"""Entries on hand-built cases whose answers are known exactly."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.geodesy import geodesic_distance_m
from skyfence.airspace.zones import Zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.detect.integrity import IntegrityConfig
from skyfence.model import Entry, make_observations

SQUARE = Zone("SQ", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))


def track(ident: str, t: list[float], lon: list[float], lat: list[float],
          alt: list[float] | None = None) -> pd.DataFrame:
    return make_observations(time=t, icao24=[ident] * len(t), lat=lat, lon=lon, altitude=alt)


def finals(zones: list[Zone], obs: pd.DataFrame, **cfg: float) -> list[Entry]:
    det = EntryDetector(zones, DetectorConfig(**cfg))  # type: ignore[arg-type]
    ev = det.process(obs) + det.close()
    out = [e.entry for e in ev if e.kind in ("exit", "open")]
    return sorted(out, key=lambda e: (e.track, e.entered_at))


def test_straight_crossing_has_interpolated_entry_and_exit() -> None:
    t = list(np.arange(0, 201, 10.0))
    lon = list(np.linspace(-0.5, 1.5, len(t)))
    (e,) = finals([SQUARE], track("4840d6", t, lon, [0.5] * len(t)))
    assert e.entry_interpolated
    assert e.entered_at == pytest.approx(50.0)
    assert e.exited_at == pytest.approx(150.0)
    assert e.duration_s == pytest.approx(100.0)
    assert e.entry_point == pytest.approx((0.5, 0.0))
    assert e.exit_point == pytest.approx((0.5, 1.0))
    # fixes at lon 0.0 and 1.0 lie on the boundary; strictly inside are 0.1 .. 0.9
    assert e.observations == 9
    assert e.last_inside_at == pytest.approx(140.0)
    # deepest fix is the centre: nearest edge is the south or north one, or the west
    south = geodesic_distance_m(0.5, 0.5, 0.5, 0.0)[0]
    west = geodesic_distance_m(0.5, 0.5, 0.0, 0.5)[0]
    want = min(south, west)
    assert e.max_depth_m == pytest.approx(want, rel=1e-3)


def test_track_starting_inside_is_not_interpolated_and_can_stay_open() -> None:
    (e,) = finals([SQUARE], track("abc123", [0, 10, 20], [0.5, 0.6, 0.7], [0.5] * 3))
    assert not e.entry_interpolated
    assert e.entry_point is None
    assert e.entered_at == 0
    assert e.exited_at is None and e.exit_point is None
    assert e.observations == 3
    assert e.duration_s == 20


def test_reentries_give_separate_entries() -> None:
    lon = [-0.5, 0.5, 1.5, 0.5, -0.5]
    es = finals([SQUARE], track("abc123", [0, 100, 200, 300, 400], lon, [0.5] * 5))
    assert len(es) == 2
    assert es[0].entered_at == pytest.approx(50) and es[0].exited_at == pytest.approx(150)
    assert es[1].entered_at == pytest.approx(250) and es[1].exited_at == pytest.approx(350)


def test_corner_cut_between_two_outside_fixes_is_an_entry_without_observations() -> None:
    # the line from (-0.1, 0.5) to (0.5, -0.1) cuts the corner at (0, 0)
    (e,) = finals([SQUARE], track("abc123", [0, 60], [-0.1, 0.5], [0.5, -0.1]))
    assert e.observations == 0
    assert e.entry_interpolated
    assert e.entered_at == pytest.approx(10.0)  # x = 0 at 1/6 of the way
    assert e.exited_at == pytest.approx(50.0)  # y = 0 at 5/6
    assert e.max_depth_m == 0.0


def test_gap_splits_the_track_and_leaves_the_first_entry_open() -> None:
    t = [0, 10, 20, 1000, 1010]
    es = finals([SQUARE], track("abc123", t, [0.2, 0.3, 0.4, 0.5, 0.6], [0.5] * 5))
    assert len(es) == 2
    assert es[0].exited_at is None and es[0].last_inside_at == 20
    assert not es[1].entry_interpolated and es[1].entered_at == 1000
    # with a longer gap allowance it is one entry
    assert len(finals([SQUARE], track("abc123", t, [0.2, 0.3, 0.4, 0.5, 0.6], [0.5] * 5),
                      gap_s=2000)) == 1


def test_ceiling_counts_only_fixes_below_it() -> None:
    low = Zone("LOW", "custom", shapely.box(0, 0, 1, 1), floor_m=None, ceiling_m=1000.0)
    # descends from 2000 m to 0 m over the zone centre
    t = [0, 100, 200]
    (e,) = finals([low], track("abc123", t, [0.5] * 3, [0.5] * 3, alt=[2000, 1000 - 1, 0]))
    assert e.entry_interpolated
    assert e.entered_at == pytest.approx(1000 / 1001 * 100, rel=1e-9)
    assert e.observations == 2
    assert e.max_altitude_m == 999 and e.min_altitude_m == 0


def test_floor_and_ceiling_band_climb_through() -> None:
    band = Zone("BAND", "custom", shapely.box(0, 0, 1, 1), floor_m=500.0, ceiling_m=1500.0)
    (e,) = finals([band], track("abc123", [0, 100], [0.5, 0.5], [0.5, 0.5], alt=[0, 2000]))
    assert e.entered_at == pytest.approx(25) and e.exited_at == pytest.approx(75)
    assert e.observations == 0


def test_island_zone_counts_each_island() -> None:
    islands = Zone("ISL", "custom", shapely.MultiPolygon([shapely.box(0, 0, 1, 1),
                                                          shapely.box(2, 0, 3, 1)]))
    (a, b) = finals([islands], track("abc123", [0, 200], [-0.5, 3.5], [0.5, 0.5]))
    assert a.entered_at == pytest.approx(25) and a.exited_at == pytest.approx(75)
    assert b.entered_at == pytest.approx(125) and b.exited_at == pytest.approx(175)


def test_bay_crossed_between_two_inside_fixes_splits_the_entry() -> None:
    # a U-shaped zone: the notch lon 0.4..0.6, lat 0.3..1 is outside
    u = Zone("U", "custom", shapely.box(0, 0, 1, 1).difference(shapely.box(0.4, 0.3, 0.6, 1.1)))
    es = finals([u], track("abc123", [0, 100], [0.2, 0.8], [0.6, 0.6]))
    assert len(es) == 2
    assert es[0].exited_at == pytest.approx(100 / 3)
    assert es[1].entered_at == pytest.approx(200 / 3)


def test_unsorted_interleaved_rows_equal_sorted_rows() -> None:
    a = track("aaaaaa", list(np.arange(0, 200, 10.0)), list(np.linspace(-0.5, 1.5, 20)), [0.5] * 20)
    b = track("bbbbbb", list(np.arange(0, 200, 10.0)), [0.5] * 20, list(np.linspace(1.5, -0.5, 20)))
    both = pd.concat([a, b], ignore_index=True)
    shuffled = both.sample(frac=1.0, random_state=7).reset_index(drop=True)
    assert finals([SQUARE], both) == finals([SQUARE], shuffled)
    assert len(finals([SQUARE], both)) == 2


def test_chunked_batches_equal_one_batch() -> None:
    rng = np.random.default_rng(3)
    frames = []
    for k in range(30):
        t = np.sort(rng.uniform(0, 3600, 80))
        lon = np.cumsum(rng.normal(0, 0.08, 80)) + rng.uniform(-0.5, 1.5)
        lat = np.cumsum(rng.normal(0, 0.08, 80)) + rng.uniform(-0.5, 1.5)
        frames.append(track(f"{k:06x}", list(t), list(lon), list(lat)))
    data = pd.concat(frames, ignore_index=True).sort_values("time", kind="stable")
    one = finals([SQUARE], data)
    det = EntryDetector([SQUARE])
    ev = []
    for rows in np.array_split(np.arange(len(data)), 7):
        chunk = data.iloc[rows]
        ev += det.process(chunk)
    ev += det.close()
    chunked = sorted((e.entry for e in ev if e.kind in ("exit", "open")),
                     key=lambda e: (e.track, e.entered_at))
    assert len(one) > 10
    assert chunked == one


def test_duplicate_and_late_fixes_are_dropped_and_counted() -> None:
    obs = track("abc123", [0, 10, 10, 20], [0.5, 0.6, 0.6, 0.7], [0.5] * 4)
    det = EntryDetector([SQUARE])
    det.process(obs)
    late = track("abc123", [15], [0.9], [0.5])
    det.process(late)
    assert det.dropped_out_of_order == 2
    (ev,) = det.close()
    assert ev.entry.observations == 3


def test_a_fresh_detector_keeps_zones_config_screen_and_boundaries_but_no_tracks() -> None:
    """``fresh`` is a new detector for another partition of a scan: same zones, same
    (non-default) configuration, the same screen and boundary objects, no track state."""
    cfg = DetectorConfig(gap_s=60.0, keep_path=True, updates=True)
    det = EntryDetector([SQUARE], cfg)
    det.process(track("A", [0.0, 10.0], [0.5, 0.6], [0.5, 0.5]))
    b = det.boundary(0)
    f = det.fresh()
    assert f.tracked == 0 and det.tracked == 1
    assert f.zones == det.zones and f.config == cfg and f.screen is det.screen
    assert f.boundary(0) is b
    # the same track into the fresh detector starts over: an entry at its first fix (and,
    # as updates are on, its first update)
    ev = f.process(track("A", [20.0], [0.5], [0.5]))
    assert [(e.kind, e.entry.entered_at) for e in ev] == [("entry", 20.0), ("update", 20.0)]


def test_a_fresh_detector_keeps_the_reference_mode_and_builds_boundaries_for_both() -> None:
    """A copy made before any boundary exists builds it (under the shared lock) into the
    shared table: the original then has the very same object."""
    det = EntryDetector([SQUARE], reference=True)
    f = det.fresh()
    assert f.reference is True
    b = f.boundary(0)
    assert det.boundary(0) is b
    # it detects with it: 0.5 -> 1.5 crosses lon 1.0 half way, at 5 s
    ev = f.process(track("A", [0.0, 10.0], [0.5, 1.5], [0.5, 0.5]))
    assert [(e.kind, e.at) for e in ev] == [("entry", 0.0), ("exit", pytest.approx(5.0))]


# ------------------------------------------------------------------ the cell screening
# The reference path (``reference=True``, and legs too long for the grid) asks the exact
# crossing test only for legs the cell screening does not clear. A leg between two grid
# cells sharing an edge is cleared only when neither is a boundary cell. Fine cells are
# 1/64 degree; a zone edge at lon 32.5/64 = 0.5078125 lies in the middle of the fine
# cell [32/64, 33/64) and marks only it (its boundary samples reach +-0.45 cell), so the
# next cell east, [33/64, 34/64) = [0.515625, 0.53125), is not a boundary cell.
EDGE_IN_A_CELL = Zone("B", "custom", shapely.box(0.5078125, 0.1, 0.9, 0.4))
#: zones far from every track below, listed first: the zone under test is zone 2 (the
#: (leg, zone) pairs of several zones are packed into one key and unpacked again)
FAR = [Zone(f"FAR{i}", "custom", shapely.box(-60.0 + i, -60.0, -59.5 + i, -59.0))
       for i in range(2)]


@pytest.mark.parametrize("reference", [False, True])
def test_a_leg_from_a_boundary_cell_into_its_clear_neighbour_is_tested(reference: bool) -> None:
    """0.49 (outside) -> 0.505 (boundary cell, outside) -> 0.52 (clear neighbour, inside)
    at lat 0.3, 100 s apart: the second leg reaches the edge at (0.5078125 - 0.505) /
    (0.52 - 0.505) = 0.1875 of its length, at 100 + 18.75 s."""
    det = EntryDetector([*FAR, EDGE_IN_A_CELL], reference=reference)
    t = [0.0, 100.0, 200.0]
    ev = det.process(track("A", t, [0.49, 0.505, 0.52], [0.3] * 3)) + det.close()
    assert [e.kind for e in ev] == ["entry", "open"]
    e = ev[-1].entry
    assert e.zone == "B" and e.entry_interpolated
    assert e.entered_at == pytest.approx(118.75, abs=1e-6)
    assert e.observations == 1


@pytest.mark.parametrize("reference", [False, True])
def test_legs_far_from_every_zone_give_nothing(reference: bool) -> None:
    """A batch of short legs the screening clears (no pair to test), then a batch with a
    leg of 1.5 degrees over many cells whose box meets no zone's box: no event, no error."""
    det = EntryDetector([SQUARE, EDGE_IN_A_CELL], reference=reference)
    assert det.process(track("A", [0.0, 10.0, 20.0, 30.0], [50.1, 50.11, 50.12, 50.13],
                             [20.0] * 4)) == []
    assert det.process(track("A", [200.0], [51.63], [20.5])) == []
    assert det.close() == [] and det.positions == 5


def test_the_exact_screen_finds_the_same_crossing() -> None:
    """``ExactScreen`` (every fix its own boundary cell, no cell neighbours): the straight
    crossing of SQUARE along lat 0.5, lon -0.5 -> 1.5 in 20 s, is in at 5 s, out at 15 s."""
    from skyfence.detect.screen import ExactScreen

    for reference in (False, True):
        det = EntryDetector([SQUARE], screen=ExactScreen([SQUARE]), reference=reference)
        ev = det.process(track("A", [0.0, 20.0], [-0.5, 1.5], [0.5, 0.5]))
        assert [(e.kind, e.at) for e in ev] == [("entry", pytest.approx(5.0)),
                                                 ("exit", pytest.approx(15.0))]


def test_no_transitions_is_three_empty_arrays_with_integer_rows() -> None:
    """``Transitions.empty()`` stands for "no state change": rows index fixes (integers),
    and every field has the same length, zero."""
    from skyfence.detect.crossings import Transitions

    tr = Transitions.empty()
    assert (len(tr.row), len(tr.fraction), len(tr.entering)) == (0, 0, 0)
    assert tr.row.dtype.kind == "i" and tr.entering.dtype == bool


#: two islands of one zone, 1 degree apart along lat 0.5
ISLANDS = Zone("ISL", "custom", shapely.MultiPolygon([shapely.box(0.0, 0.0, 1.0, 1.0),
                                                      shapely.box(2.0, 0.0, 3.0, 1.0)]))


def test_a_touch_at_a_fix_drops_only_its_own_exit_and_entry() -> None:
    """lon 0.5 -> 3.0 -> 0.5 at lat 0.5, t = 0, 100, 200: each leg crosses both islands
    and the middle fix lies on the east island's far edge (a touch from inside).

    First leg (2.5 degrees in 100 s): leaves the west island at lon 1 (0.5 / 2.5 -> 20 s),
    enters the east one at lon 2 (1.5 / 2.5 -> 60 s), touches lon 3 at 100 s. Second leg
    back: leaves the east island at lon 2 (1.0 / 2.5 -> 140 s), enters the west one at
    lon 1 (2.0 / 2.5 -> 180 s). The touch is no exit: entries [0, 20], [60, 140], [180, -).
    """
    got = [(e.entered_at, e.exited_at) for e in finals(
        [ISLANDS], track("A", [0.0, 100.0, 200.0], [0.5, 3.0, 0.5], [0.5] * 3))]
    assert got == [(0.0, pytest.approx(20.0)), (pytest.approx(60.0), pytest.approx(140.0)),
                   (pytest.approx(180.0), None)]


def test_an_impossible_jump_is_left_out_by_default() -> None:
    """Inside SQUARE at t = 0 and 10 s, then 4.5 degrees east (about 500 km) 10 s later,
    then back inside: 50 km/s, far beyond the default 1500 m/s, so the fix is left out,
    counted, and the entry goes on (no exit and re-entry). Only transponder tracks (ICAO
    addresses) are screened; 0.55 -> 0.6 in 20 s is 5.6 km / 20 s, an aircraft's pace."""
    obs = track("4b1805", [0.0, 10.0, 20.0, 30.0], [0.5, 0.55, 5.0, 0.6], [0.5] * 4)
    det = EntryDetector([SQUARE])
    ev = det.process(obs) + det.close()
    assert [e.kind for e in ev] == ["entry", "open"]
    assert det.rejected_implausible == 1 and ev[-1].entry.observations == 3
    # no screening (integrity=None), or limits above 50 km/s: the jump is taken as it
    # is, an exit and a re-entry
    for cfg in (DetectorConfig(integrity=None),
                DetectorConfig(integrity=IntegrityConfig(max_speed_ms=1e5))):
        det = EntryDetector([SQUARE], cfg)
        ev = det.process(obs) + det.close()
        assert [e.kind for e in ev] == ["entry", "exit", "entry", "open"]
        assert det.rejected_implausible == 0


def test_left_out_fixes_are_counted_over_batches_and_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    """Two batches, each with one 50 km/s jump (as above): the detector's count adds them
    up, and each batch logs its own count and the running count by reason (operators read
    why fixes went missing)."""
    det = EntryDetector([SQUARE])
    with caplog.at_level(logging.INFO, logger="skyfence.detect.entries"):
        det.process(track("4b1805", [0.0, 10.0, 20.0, 30.0], [0.5, 0.55, 5.0, 0.6], [0.5] * 4))
        det.process(track("4b1805", [40.0, 50.0, 60.0], [0.6, 5.0, 0.65], [0.5] * 3))
    assert det.rejected_implausible == 2
    msgs = [r.getMessage() for r in caplog.records if r.name == "skyfence.detect.entries"]
    assert len(msgs) == 2
    assert "1 implausible" in msgs[0] and "(speed: 1)" in msgs[0]
    assert "1 implausible" in msgs[1] and "(speed: 2)" in msgs[1]


def test_fixes_inside_one_zone_are_not_taken_for_another() -> None:
    """Zones 0 and 1 side by side (1 degree apart); one track sits inside each: one entry
    each, into its own zone only."""
    west = Zone("WEST", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))
    east = Zone("EAST", "custom", shapely.box(2.0, 0.0, 3.0, 1.0))
    obs = pd.concat([track("4b1805", [0.0, 10.0], [0.5, 0.51], [0.5, 0.5]),
                     track("4b1806", [0.0, 10.0], [2.5, 2.51], [0.5, 0.5])])
    got = sorted((e.track, e.zone) for e in finals([west, east], obs))
    assert got == [("4b1805", "WEST"), ("4b1806", "EAST")]


def test_an_entry_names_the_fixes_left_out_up_to_its_exit() -> None:
    """lon 0.9 (t 0), 0.97 (t 10), a 4-degree jump at t 12 (left out), 1.07 (t 20), lat
    0.5. The exit at lon 1.0 is interpolated: 10 + (1.0 - 0.97) / (1.07 - 0.97) * 10 =
    13 s, after the left-out fix (12 s) and after the last inside fix (10 s): the exit's
    entry names that fix; the entry event, before the jump was seen, names nothing."""
    det = EntryDetector([SQUARE])
    ev = det.process(track("4b1805", [0.0, 10.0, 12.0, 20.0], [0.9, 0.97, 5.0, 1.07],
                           [0.5] * 4)) + det.close()
    assert [e.kind for e in ev] == ["entry", "exit"]
    assert ev[0].entry.integrity == ()
    x = ev[1].entry
    assert x.exited_at == pytest.approx(13.0) and x.last_inside_at == 10.0
    assert x.integrity == ("1 fix rejected: position jump faster than 1500 m/s",)


def test_kept_paths_hold_the_crossings_and_the_inside_fixes() -> None:
    """lon -0.5, 0.5, 1.5 at t 0, 10, 20 (lat 0.5): in at lon 0 (5 s), out at lon 1
    (15 s); the path is (time, lat, lon) of the entry, the inside fix and the exit."""
    (e,) = finals([SQUARE], track("4b1805", [0.0, 10.0, 20.0], [-0.5, 0.5, 1.5], [0.5] * 3),
                  keep_path=True)
    assert e.path == [pytest.approx((5.0, 0.5, 0.0)), (10.0, 0.5, 0.5),
                      pytest.approx((15.0, 0.5, 1.0))]


@pytest.mark.parametrize("reference", [False, True])
def test_a_climb_through_the_ceiling_in_the_middle_of_a_zone(reference: bool) -> None:
    """SQUARE with a 10 000 m ceiling; a track at its centre (the leg stays in one grid
    cell far from the edges, so the screening clears it) climbs 9 000 -> 11 000 m in
    20 s: it leaves through the ceiling half way, at 10 s."""
    low = Zone("LOW", "custom", shapely.box(0.0, 0.0, 1.0, 1.0), ceiling_m=10_000.0)
    det = EntryDetector([low], reference=reference)
    ev = det.process(track("A", [0.0, 20.0], [0.5, 0.501], [0.5, 0.5], [9000.0, 11_000.0]))
    assert [(e.kind, e.at) for e in ev] == [("entry", 0.0), ("exit", pytest.approx(10.0))]


def test_an_entry_and_an_exit_on_kept_jumps_name_the_jumps() -> None:
    """Along lat 0.5, 10 s apart: lon -0.30, -0.28, then a jump to 0.30 (into SQUARE),
    0.32, 0.34, 0.36, then a jump to 1.50 (out of it), 1.52, 1.54. Each jump is followed
    by fixes that agree with it, so it is kept (the track goes on from there) and named.

    By hand, on the 6 371 008.8 m sphere the screen uses, two points of one parallel at
    latitude p, dl apart, are 2 R asin(cos p sin(dl / 2)) apart: dl = 0.58 deg gives
    64 490 m ("64.5 km"), dl = 1.14 deg 126 757 m ("126.8 km"). The entry is on the
    first jump at lon 0 (10 + 10 * 0.28 / 0.58 = 14.83 s), the exit on the second at
    lon 1 (50 + 10 * 0.64 / 1.14 = 55.61 s); of the two jumps only the first is before
    the exit."""
    t = [10.0 * k for k in range(9)]
    lon = [-0.30, -0.28, 0.30, 0.32, 0.34, 0.36, 1.50, 1.52, 1.54]
    (e,) = finals([SQUARE], track("4b1805", t, lon, [0.5] * 9))
    assert e.entered_at == pytest.approx(10 + 10 * 0.28 / 0.58)
    assert e.exited_at == pytest.approx(50 + 10 * 0.64 / 1.14)
    assert e.integrity == (
        "entered by a position jump of 64.5 km in 10 s",
        "left by a position jump of 126.8 km in 10 s",
        "1 jump faster than 1500 m/s (or climbing faster than 300 m/s) kept: the track goes "
        "on from there (a spoofed or jammed navigation source, a wrong time)",
    )


def test_the_log_line_names_every_reason_of_the_left_out_fixes(
        caplog: pytest.LogCaptureFixture) -> None:
    """One batch, two tracks 10 s between fixes: the 50 km/s position spike above, and an
    altitude spike 9 000 -> 30 000 -> 9 000 m (21 km in 10 s, beyond 300 m/s * 10 s +
    500 m) on a track moving 0.01 degree (1.1 km) a step. One line, the reasons sorted."""
    spike = track("4b1805", [0.0, 10.0, 20.0, 30.0], [0.5, 0.55, 5.0, 0.6], [0.5] * 4)
    climb = track("4b1806", [0.0, 10.0, 20.0, 30.0], [0.5, 0.51, 0.52, 0.53], [0.5] * 4,
                  [9000.0, 9000.0, 30_000.0, 9000.0])
    det = EntryDetector([SQUARE])
    with caplog.at_level(logging.INFO, logger="skyfence.detect.entries"):
        det.process(pd.concat([spike, climb], ignore_index=True))
    msgs = [r.getMessage() for r in caplog.records if r.name == "skyfence.detect.entries"]
    assert msgs == ["left out 2 implausible fixes (altitude: 1, speed: 1)"]


#: a strip that reaches the antimeridian with nothing across: its edge on 180 is a border
EAST_END = Zone("EAST-END", "custom", shapely.box(179.0, 10.0, 180.0, 10.1))


@pytest.mark.parametrize("reference", [False, True])
def test_an_exit_at_a_fix_on_the_antimeridian_is_found(reference: bool) -> None:
    """Fixes 10 s apart: (10.05 N, 179.9 E) inside the strip, (10.05 N, 180.0) on its
    edge (a position on 180 is in a zone that holds it on either side), then
    (10.30 N, 179.99 W), beyond the antimeridian, outside. The track leaves at the fix on
    180: an entry [0, 10] s."""
    det = EntryDetector([EAST_END], reference=reference)
    ev = det.process(track("A", [0.0, 10.0, 20.0], [179.9, 180.0, -179.99],
                           [10.05, 10.05, 10.30])) + det.close()
    assert [(e.kind, e.at) for e in ev] == [("entry", 0.0), ("exit", pytest.approx(10.0))]


@pytest.mark.parametrize("reference", [False, True])
def test_a_track_inside_a_zone_beside_a_long_leg_far_from_every_zone(reference: bool) -> None:
    """One batch: track A sits near the centre of SQUARE under a 10 000 m ceiling, at
    9 000 m (two fixes 0.01 degree apart in one grid cell no boundary touches; under the
    ceiling its leg is tested for a climb through it), track B flies 1.5 degrees far
    from every zone (its box meets no zone's box: no pair). A has one entry, still open
    at the end; B none."""
    low = Zone("LOW", "custom", shapely.box(0.0, 0.0, 1.0, 1.0), ceiling_m=10_000.0)
    det = EntryDetector([low], reference=reference)
    obs = pd.concat([track("A", [0.0, 10.0], [0.5, 0.51], [0.5, 0.5], [9000.0, 9000.0]),
                     track("B", [0.0, 10.0], [50.1, 51.6], [20.0, 20.5])], ignore_index=True)
    ev = det.process(obs) + det.close()
    assert [(e.kind, e.entry.track, e.at) for e in ev] == [("entry", "A", 0.0),
                                                            ("open", "A", 10.0)]


def test_an_entry_at_the_first_fix_after_a_gap_is_not_entered_by_the_jump() -> None:
    """Along lat 0.5: lon -8.00 (t 0), -7.98 (t 10), then, 390 s later (a gap: more
    than 300 s), 0.50 inside SQUARE, 0.52, 0.54. The step over the gap is 8.48 degrees
    (about 943 km, 2.4 km/s): a kept jump, named; but the entry begins at the first fix
    of a new track piece (not interpolated), so it was not entered "by" the jump."""
    t = [0.0, 10.0, 400.0, 410.0, 420.0]
    (e,) = finals([SQUARE], track("4b1805", t, [-8.0, -7.98, 0.5, 0.52, 0.54], [0.5] * 5))
    assert not e.entry_interpolated and e.entered_at == 400.0
    assert e.integrity == (
        "1 jump faster than 1500 m/s (or climbing faster than 300 m/s) kept: the track goes "
        "on from there (a spoofed or jammed navigation source, a wrong time)",
    )
