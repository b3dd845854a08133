"""The entry detector's per-zone rules, each on a case whose answer is read off by hand.

Every test drives :class:`~skyfence.detect.entries.EntryDetector` (or the public
:class:`~skyfence.detect.screen.ExactScreen`) and checks what a user sees: the events,
the entries' times, points, observations, callsigns, squawks, speeds and kept paths.
Crossing points are on straight legs in longitude/latitude (the detector interpolates
linearly along a leg, the shorter way round in longitude); where a leg is diagonal the
reference point is GEOS's intersection of the leg with the zone's edge (shapely).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.antimeridian import wrap_lon
from skyfence.airspace.zones import Zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.detect.screen import ExactScreen
from skyfence.detect.zone_pass import _wrap_lon
from skyfence.model import Entry, make_observations

#: a square of one degree; its edges are the meridians 0 and 1 and the parallels 0 and 1
SQUARE = Zone("SQ", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))
#: the same square under a 1000 m ceiling
LOW = Zone("LOW", "custom", shapely.box(0.0, 0.0, 1.0, 1.0), ceiling_m=1000.0)


def track(ident: str, t: list[float], lon: list[float], lat: list[float],
          alt: list[float] | None = None, **more: object) -> pd.DataFrame:
    return make_observations(time=t, icao24=[ident] * len(t), lat=lat, lon=lon,
                             altitude=alt, **more)


def run(zones: list[Zone], *batches: pd.DataFrame, reference: bool = False,
        **cfg: object) -> list[tuple[str, Entry]]:
    """(kind, entry) of every event of ``batches`` fed one after the other, then closed;
    ``reference``: the detector's reference path (it reduces each run from its rows
    instead of all runs of a zone at once)."""
    det = EntryDetector(zones, DetectorConfig(**cfg), reference=reference)  # type: ignore[arg-type]
    events = [e for b in batches for e in det.process(b)] + det.close()
    return [(e.kind, e.entry) for e in events]


def ended(zones: list[Zone], *batches: pd.DataFrame, reference: bool = False,
          **cfg: object) -> list[Entry]:
    """The entries as they end (``exit``, or ``open`` at the end of the data)."""
    return [e for kind, e in run(zones, *batches, reference=reference, **cfg)
            if kind in ("exit", "open")]


# ------------------------------------------------------------------ crossing points
def test_a_diagonal_leg_is_entered_and_left_where_it_meets_the_edges() -> None:
    """(-0.5, 0.2) -> (1.5, 0.6) in 100 s, a straight leg in lon/lat. GEOS puts its
    meetings with the square's edge at lon 0 and lon 1; the leg's fraction there is the
    share of the longitude covered (0.5 / 2 and 1.5 / 2), so in at 25 s, out at 75 s.
    Latitude rises with the fraction: 0.2 + 0.4 * 0.25 = 0.3 and 0.2 + 0.4 * 0.75 = 0.5."""
    leg = shapely.LineString([(-0.5, 0.2), (1.5, 0.6)])
    meet = leg.intersection(SQUARE.geometry.boundary)
    (x0, y0), (x1, y1) = sorted((p.x, p.y) for p in meet.geoms)
    assert (x0, x1) == (0.0, 1.0) and (y0, y1) == pytest.approx((0.3, 0.5))
    (e,) = ended([SQUARE], track("A", [0.0, 100.0], [-0.5, 1.5], [0.2, 0.6]))
    assert (e.zone, e.zone_kind, e.track) == ("SQ", "custom", "A")
    assert e.entered_at == pytest.approx(25.0) and e.exited_at == pytest.approx(75.0)
    assert e.entry_point == pytest.approx((y0, x0))
    assert e.exit_point == pytest.approx((y1, x1))


@pytest.mark.parametrize(("zone", "lon"), [
    (Zone("EAST", "custom", shapely.box(-180.0, 10.0, -179.0, 11.0)), [179.0, 180.0, -179.5]),
    (Zone("WEST", "custom", shapely.box(179.0, 10.0, 180.0, 11.0)), [-179.0, -180.0, 179.5]),
])
def test_an_entry_at_a_fix_on_the_antimeridian_is_reported_at_once(
        zone: Zone, lon: list[float]) -> None:
    """Outside, then on the zone's edge on the antimeridian (written from the other
    side: 180 for a zone east of it, -180 for one west of it) at 60 s, then 0.5 degree
    inside at 120 s. A fix on 180 is inside a zone that holds it on either side, so the
    entry is that fix: reported at 60 s, for track A, not interpolated, with no entry
    point and nothing folded in yet; it is still open at the end with both fixes."""
    det = EntryDetector([zone])
    events = det.process(track("A", [0.0, 60.0, 120.0], lon, [10.5] * 3)) + det.close()
    assert [(e.kind, e.at, e.entry.track, e.entry.zone) for e in events] == [
        ("entry", 60.0, "A", zone.name), ("open", 120.0, "A", zone.name)]
    first, last = events[0].entry, events[1].entry
    assert first.entry_interpolated is False and first.entry_point is None
    assert (first.entered_at, first.observations, first.last_inside_at) == (60.0, 0, 60.0)
    assert last.entry_interpolated is False and last.observations == 2
    assert last.first_inside_point == (10.5, lon[1])


def test_a_crossing_point_s_longitude_is_wrapped_as_every_other_longitude() -> None:
    """The zone pass wraps an interpolated longitude one float at a time (``_wrap_lon``);
    it must give :func:`~skyfence.airspace.antimeridian.wrap_lon`'s value bit for bit,
    so that a crossing point and a fix at the same place are written alike. Checked on
    200,000 longitudes from -1000 to 1000 (the interpolation's sums of a longitude and
    a fraction of a step reach beyond +-180) and on the seam's own values."""
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.uniform(-1000.0, 1000.0, 200_000),
                        [0.0, -0.0, 180.0, -180.0, 540.0, -540.0, 360.0, 179.99999999999997]])
    got = np.array([_wrap_lon(float(v)) for v in x])
    assert got.tobytes() == wrap_lon(x).tobytes()


def test_an_exit_eastwards_over_the_antimeridian_is_on_180_not_minus_180() -> None:
    """A strip from 179 E to the antimeridian; eastbound along 10.05 N from 179.5 E to
    179.5 W (1 degree the short way, 10 s): it leaves at 180 half way, at 5 s. A
    longitude of 180 is written 180 when reached from the east side of the date line
    (``wrap_lon``'s rule: 180 stays 180), the strip's own edge."""
    strip = Zone("EAST-END", "custom", shapely.box(179.0, 10.0, 180.0, 10.1))
    (e,) = ended([strip], track("A", [0.0, 10.0], [179.5, -179.5], [10.05, 10.05]))
    assert e.entered_at == 0.0 and e.exited_at == pytest.approx(5.0)
    assert e.exit_point is not None
    assert e.exit_point[1] == 180.0 and e.exit_point[0] == pytest.approx(10.05)


# ------------------------------------------------------------------ last inside times
def test_an_entry_without_inside_fixes_was_last_inside_when_it_left() -> None:
    """The leg (-0.1, 0.5) -> (0.5, -0.1) in 60 s cuts the corner at (0, 0): x = 0 at
    1/6 of the way (10 s), y = 0 at 5/6 (50 s). No fix lies inside, so the last time
    the track was inside is the exit, 50 s (the contract: duration is exit minus entry
    either way; an entry with no fix must not claim the entry time as its last)."""
    (e,) = ended([SQUARE], track("A", [0.0, 60.0], [-0.1, 0.5], [0.5, -0.1]))
    assert e.observations == 0
    assert e.entered_at == pytest.approx(10.0) and e.exited_at == pytest.approx(50.0)
    assert e.last_inside_at == pytest.approx(50.0)
    assert e.first_inside_point is None and e.last_inside_point is None


def test_an_entry_with_one_inside_fix_was_last_inside_at_that_fix() -> None:
    """lon -0.5, 0.5, 1.5 along lat 0.5 at 0, 10, 20 s: in at 5 s, one fix inside at
    10 s, out at 15 s. The last inside time is the fix's (10 s), not the exit's."""
    (e,) = ended([SQUARE], track("A", [0.0, 10.0, 20.0], [-0.5, 0.5, 1.5], [0.5] * 3))
    assert e.observations == 1
    assert (e.entered_at, e.last_inside_at, e.exited_at) == pytest.approx((5.0, 10.0, 15.0))
    assert e.first_inside_point == e.last_inside_point == (0.5, 0.5)


# ------------------------------------------------------------------ kept paths
def test_a_kept_path_holds_each_inside_fix_once() -> None:
    """A track that starts inside (lon 0.5, 0.6 at 0 and 10 s, lat 0.5), then leaves
    eastwards to lon 1.5 at 20 s: out at lon 1, (1 - 0.6) / 0.9 of the last leg, at
    10 + 10 * 4 / 9 s. The path is (time, lat, lon) of each inside fix, once, then the
    exit; an entry at the first fix has no crossing to add before it."""
    (e,) = ended([SQUARE], track("A", [0.0, 10.0, 20.0], [0.5, 0.6, 1.5], [0.5] * 3),
                 keep_path=True)
    assert not e.entry_interpolated
    assert e.path == [(0.0, 0.5, 0.5), (10.0, 0.5, 0.6),
                      pytest.approx((10.0 + 40.0 / 9.0, 0.5, 1.0))]


# ------------------------------------------------------------------ optional columns
def test_the_callsign_is_the_last_one_heard_inside() -> None:
    """Along lat 0.5 every 10 s, lon -0.5 (callsign OUT1), 0.2 (none), 0.4 (ABC1),
    0.6 (blank), 0.8 ('  '), 1.5 (OUT2): the entry's callsign is the last non-blank one
    of its inside fixes, ABC1; a callsign heard only outside is not the entry's."""
    obs = track("A", [0.0, 10.0, 20.0, 30.0, 40.0, 50.0], [-0.5, 0.2, 0.4, 0.6, 0.8, 1.5],
                [0.5] * 6, callsign=["OUT1", None, "ABC1  ", "", "  ", "OUT2"])
    (e,) = ended([SQUARE], obs)
    assert e.callsign == "ABC1" and e.observations == 4
    # the same track with no callsign inside at all: none (not one heard before or after)
    obs = track("A", [0.0, 10.0, 20.0, 30.0], [-0.5, 0.2, 0.4, 1.5], [0.5] * 4,
                callsign=["OUT1", None, " ", "OUT2"])
    (e,) = ended([SQUARE], obs)
    assert e.callsign is None


def test_the_first_row_of_a_batch_counts_like_any_other() -> None:
    """A batch whose first row is the first fix of a track starting inside, the only
    one with a callsign, a squawk (7700) and the fastest speed: the entry has all three.
    A second track comes first in the next batch, with its first row the same way."""
    a = track("A", [0.0, 10.0], [0.5, 0.6], [0.5, 0.5], callsign=["FIRST", None],
              squawk=["7700", "1000"], velocity=[80.0, 60.0])
    b = track("B", [20.0, 30.0], [0.3, 0.4], [0.3, 0.3], callsign=["SECOND", None],
              squawk=["7600", None], velocity=[70.0, np.nan])
    got = {e.track: e for e in ended([SQUARE], a, b)}
    assert (got["A"].callsign, got["A"].squawks, got["A"].max_speed_ms) == (
        "FIRST", ("7700",), 80.0)
    assert (got["B"].callsign, got["B"].squawks, got["B"].max_speed_ms) == (
        "SECOND", ("7600",), 70.0)
    # speeds 80 and 60: count 2, sum 140, squares 6400 + 3600; B: one known speed
    assert (got["A"].speed_count, got["A"].speed_sum_ms, got["A"].speed_sq_sum) == (
        2, 140.0, 10000.0)
    assert (got["B"].speed_count, got["B"].speed_sum_ms) == (1, 70.0)


def test_the_squawks_are_the_emergency_codes_heard_inside() -> None:
    """Along lat 0.5 every 10 s: lon -0.5 (7500, outside), 0.2 (7700), 0.4 (none),
    0.6 (1200), 0.8 (7600), 1.5 (7500, outside), back to 0.5 (2000) and out at -0.5
    (7500). The first entry has the emergency codes of its inside fixes, sorted (7600,
    7700), not 1200, not the 7500 heard before and after it; the second, whose one inside
    fix squawks 2000, has none. (7500, 7600 and 7700 are the emergency codes.)"""
    obs = track("A", [10.0 * i for i in range(8)],
                [-0.5, 0.2, 0.4, 0.6, 0.8, 1.5, 0.5, -0.5], [0.5] * 8,
                squawk=["7500", "7700", None, "1200", "7600", "7500", "2000", "7500"])
    first, second = ended([SQUARE], obs)
    assert (first.observations, first.squawks) == (4, ("7600", "7700"))
    assert (second.observations, second.squawks) == (1, ())


def test_integer_speeds_are_read_in_every_batch() -> None:
    """Ground speeds and sigmas given as integers (a CSV export of whole metres): a
    track inside over two batches, 50 then 70 and 60 m/s, sigma 120 then 80 and 150 m.
    The second batch joins the carried last fix, which has no values of its own: the
    fastest is 70, three speeds sum to 180, the smallest sigma is 80."""
    first = track("A", [0.0], [0.5], [0.5])
    first["velocity"] = np.array([50], dtype=np.int64)
    first["sigma_pos_m"] = np.array([120], dtype=np.int64)
    second = track("A", [10.0, 20.0], [0.6, 0.7], [0.5, 0.5])
    second["velocity"] = np.array([70, 60], dtype=np.int64)
    second["sigma_pos_m"] = np.array([80, 150], dtype=np.int64)
    (e,) = ended([SQUARE], first, second)
    assert e.observations == 3 and e.max_speed_ms == 70.0 and e.position_sigma_m == 80.0
    assert (e.speed_count, e.speed_sum_ms, e.speed_sq_sum) == (3, 180.0, 2500.0 + 4900 + 3600)


def test_a_live_feed_of_one_fix_a_batch_adds_up_like_one_batch() -> None:
    """One fix a batch, as a live feed gives them, inside at lon 0.2, 0.3, 0.4, 0.5
    (lat 0.5, 10 s apart) with speeds 50, unknown, 70, 60 m/s: three known speeds, sum
    180, squares 2500 + 4900 + 3600 = 11000, fastest 70; the same as one batch."""
    lon, speed = [0.2, 0.3, 0.4, 0.5], [50.0, np.nan, 70.0, 60.0]
    one_by_one = [track("A", [10.0 * i], [x], [0.5], velocity=[v])
                  for i, (x, v) in enumerate(zip(lon, speed, strict=True))]
    (e,) = ended([SQUARE], *one_by_one)
    assert e.observations == 4 and e.max_speed_ms == 70.0
    assert (e.speed_count, e.speed_sum_ms, e.speed_sq_sum) == (3, 180.0, 11000.0)
    (whole,) = ended([SQUARE], track("A", [0.0, 10.0, 20.0, 30.0], lon, [0.5] * 4,
                                     velocity=speed))
    def speeds(x: Entry) -> tuple[object, ...]:
        return (x.observations, x.max_speed_ms, x.speed_count, x.speed_sum_ms,
                x.speed_sq_sum, x.entered_at, x.last_inside_at)

    assert speeds(whole) == speeds(e)


def test_a_batch_without_speed_columns_has_no_speeds() -> None:
    """Ground speed and heading are optional columns: a batch without them crosses the
    square (lon -0.5, 0.5, 1.5 along lat 0.5) into an entry with one inside fix and no
    speed at all; with them, in a second track, the speed of its inside fix (42 m/s)."""
    bare = track("A", [0.0, 10.0, 20.0], [-0.5, 0.5, 1.5], [0.5] * 3).drop(
        columns=["velocity", "heading"])
    (e,) = ended([SQUARE], bare)
    assert e.observations == 1
    assert (e.max_speed_ms, e.speed_count, e.max_turn_accel_ms2) == (None, 0, None)
    full = track("B", [0.0, 10.0, 20.0], [-0.5, 0.5, 1.5], [0.5] * 3,
                 velocity=[40.0, 42.0, 44.0])
    (e,) = ended([SQUARE], full)
    assert (e.max_speed_ms, e.speed_count, e.speed_sum_ms) == (42.0, 1, 42.0)


@pytest.mark.parametrize("reference", [False, True], ids=["fast", "reference"])
def test_the_position_sigma_is_the_smallest_of_the_inside_fixes(reference: bool) -> None:
    """Radar fixes carry a position sigma (m): along lat 0.5, lon -0.5 (sigma 10,
    outside), 0.2 (120), 0.4 (unknown), then a second batch 0.6 (80), 0.8 (150), a
    third 0.9 (unknown), 1.5 (5, outside). The entry's sigma is the smallest of its
    inside fixes, 80 m, kept through a batch that knows none; the same track without
    the column (transponder data) has none."""
    first = track("A", [0.0, 10.0, 20.0], [-0.5, 0.2, 0.4], [0.5] * 3)
    first["sigma_pos_m"] = [10.0, 120.0, np.nan]
    second = track("A", [30.0, 40.0], [0.6, 0.8], [0.5] * 2)
    second["sigma_pos_m"] = [80.0, 150.0]
    # a third batch: one more inside fix without a sigma, then out with sigma 5
    third = track("A", [50.0, 60.0], [0.9, 1.5], [0.5] * 2)
    third["sigma_pos_m"] = [np.nan, 5.0]
    (e,) = ended([SQUARE], first, second, third, reference=reference)
    assert e.observations == 5 and e.position_sigma_m == 80.0
    (e,) = ended([SQUARE], *(b.drop(columns="sigma_pos_m") for b in (first, second, third)),
                 reference=reference)
    assert e.observations == 5 and e.position_sigma_m is None


@pytest.mark.parametrize("reference", [False, True], ids=["fast", "reference"])
def test_only_the_speeds_of_inside_fixes_count(reference: bool) -> None:
    """Along lat 0.5 every 10 s: lon -0.5 (90 m/s, outside), 0.2 (20), 0.4 (30), 1.5
    (99, outside). The entry's speeds are those of its two inside fixes: fastest 30,
    count 2, sum 50, squares 400 + 900."""
    obs = track("A", [0.0, 10.0, 20.0, 30.0], [-0.5, 0.2, 0.4, 1.5], [0.5] * 4,
                velocity=[90.0, 20.0, 30.0, 99.0])
    (e,) = ended([SQUARE], obs, reference=reference)
    assert (e.observations, e.max_speed_ms) == (2, 30.0)
    assert (e.speed_count, e.speed_sum_ms, e.speed_sq_sum) == (2, 50.0, 1300.0)


def test_a_steady_turn_inside_is_measured_as_speed_times_turn_rate() -> None:
    """A track inside the square for 120 s, a fix every 5 s at 100 m/s, its heading
    turning 2 deg/s (from 10 deg). A steady turn needs a lateral acceleration of
    v * w = 100 * 2 * pi / 180 = 3.49 m/s^2 (the positions, slowly moving inside, are
    not what is measured: the speed and heading columns are)."""
    t = [5.0 * i for i in range(25)]
    obs = track("A", t, [0.3 + 0.01 * i for i in range(25)], [0.5] * 25,
                velocity=[100.0] * 25, heading=[(10.0 + 2.0 * x) % 360.0 for x in t])
    (e,) = ended([SQUARE], obs)
    assert e.observations == 25
    assert e.max_turn_accel_ms2 == pytest.approx(100.0 * 2.0 * np.pi / 180.0, rel=1e-9)
    # flying straight at the same speed: no turn at all
    (e,) = ended([SQUARE], obs.assign(heading=10.0))
    assert e.max_turn_accel_ms2 == pytest.approx(0.0, abs=1e-12)


def test_a_turn_between_two_batches_is_measured_and_kept() -> None:
    """Turns are measured between the first fixes of aligned 15 s buckets. A track
    inside the square at 100 m/s, a fix every 5 s, flies heading 10 deg up to 55 s and
    40 deg from 60 s on: the one turn, 30 deg between the buckets starting at 45 and
    60 s, needs 100 * (30 * pi / 180) / 15 = 3.49 m/s^2. Fed as one batch up to 55 s
    and one from 60 s to 75 s, the turn spans the batches and is measured all the same;
    a third batch (one fix at 80 s, in the 75 s bucket: nothing new to measure) keeps
    it."""
    def fixes(t: list[float]) -> pd.DataFrame:
        return track("A", t, [0.3 + 0.001 * x for x in t], [0.5] * len(t),
                     velocity=[100.0] * len(t), heading=[10.0 if x < 60 else 40.0 for x in t])

    want = 100.0 * (30.0 * np.pi / 180.0) / 15.0
    (whole,) = ended([SQUARE], fixes([5.0 * i for i in range(17)]))
    assert whole.max_turn_accel_ms2 == pytest.approx(want, rel=1e-9)
    (e,) = ended([SQUARE], fixes([5.0 * i for i in range(12)]),
                 fixes([60.0, 65.0, 70.0, 75.0]), fixes([80.0]))
    assert e.observations == 17 and e.max_turn_accel_ms2 == pytest.approx(want, rel=1e-9)


def test_the_altitude_range_and_updates_follow_every_batch() -> None:
    """With ``updates`` on, an entry is re-reported when its depth or altitude range
    grows. Inside the square along lat 0.5, one batch each: lon 0.5 at 1000 m (the
    centre, 0.5 degree from every edge: the deepest fix), 0.4 at 1000 m (0.4 degree from
    the west edge: shallower, same altitude: nothing grew), 0.45 at 700 m (lower: the
    range grows), 0.55 at 1200 m (higher), 0.5 at 900 m (inside the range, as deep as
    the first: nothing). The range is 700-1200 m."""
    lon, alt = [0.5, 0.4, 0.45, 0.55, 0.5], [1000.0, 1000.0, 700.0, 1200.0, 900.0]
    batches = [track("A", [10.0 * i], [x], [0.5], [h])
               for i, (x, h) in enumerate(zip(lon, alt, strict=True))]
    got = run([SQUARE], *batches, updates=True)
    assert [(k, e.last_inside_at) for k, e in got] == [
        ("entry", 0.0), ("update", 0.0), ("update", 20.0), ("update", 30.0), ("open", 40.0)]
    ranges = [(e.min_altitude_m, e.max_altitude_m) for k, e in got if k == "update"]
    assert ranges == [(1000.0, 1000.0), (700.0, 1000.0), (700.0, 1200.0)]
    last = got[-1][1]
    assert (last.observations, last.min_altitude_m, last.max_altitude_m) == (5, 700.0, 1200.0)
    # one batch of three fixes climbing 1000, 1100, 1200 m from the centre eastwards
    # (each shallower than the one before): one run, folded in at once, one update
    got = run([SQUARE], track("A", [0.0, 10.0, 20.0], [0.5, 0.55, 0.6], [0.5] * 3,
                              [1000.0, 1100.0, 1200.0]), updates=True)
    assert [(k, e.last_inside_at, e.min_altitude_m, e.max_altitude_m) for k, e in got] == [
        ("entry", 0.0, None, None), ("update", 20.0, 1000.0, 1200.0),
        ("open", 20.0, 1000.0, 1200.0)]


# ------------------------------------------------------------------ several tracks in a batch
# Under altitude limits the detector also tests every leg that begins or ends at a fix
# horizontally inside (it may climb or sink through a limit there). A batch holds several
# tracks one after the other: the step from one track's last fix to the next track's
# first fix is no leg of either.
def test_a_track_ending_inside_under_a_ceiling_is_not_left_towards_the_next_track() -> None:
    """Track A: three fixes over the square at 500 m (under the 1000 m ceiling), the
    batch's first rows; then track B, far west of the square. A's entry stays open
    with its three fixes (A never left); B has none."""
    obs = pd.concat([track("A", [0.0, 10.0, 20.0], [0.5, 0.6, 0.7], [0.5] * 3, [500.0] * 3),
                     track("B", [0.0, 10.0], [-5.0, -5.1], [0.5, 0.5], [500.0] * 2)],
                    ignore_index=True)
    got = run([LOW], obs)
    assert [(k, e.track) for k, e in got] == [("entry", "A"), ("open", "A")]
    assert got[-1][1].observations == 3 and got[-1][1].exited_at is None


def test_a_track_starting_inside_under_a_ceiling_is_not_entered_by_the_track_before() -> None:
    """Track A, the batch's first rows, flies far west of the square; track B begins
    over it at 500 m (an entry at its first fix, not interpolated) and stays. A has no
    entry: the step from A's last fix to B's first is not A's."""
    obs = pd.concat([track("A", [0.0, 10.0], [-5.0, -5.1], [0.5, 0.5], [500.0] * 2),
                     track("B", [0.0, 10.0], [0.5, 0.6], [0.5, 0.5], [500.0] * 2)],
                    ignore_index=True)
    got = run([LOW], obs)
    assert [(k, e.track) for k, e in got] == [("entry", "B"), ("open", "B")]
    e = got[-1][1]
    assert not e.entry_interpolated and e.entered_at == 0.0 and e.observations == 2


def test_the_first_track_starting_inside_is_not_entered_by_the_last() -> None:
    """Track A begins over the square at 500 m and stays, the batch's first row; the
    batch's last rows are track B's, above the ceiling at 3000 m over the square. Only A
    has an entry (at its first fix); B never is inside (above the ceiling)."""
    obs = pd.concat([track("A", [0.0, 10.0], [0.5, 0.6], [0.5, 0.5], [500.0] * 2),
                     track("B", [0.0, 10.0], [0.2, 0.3], [0.2, 0.2], [3000.0] * 2)],
                    ignore_index=True)
    got = run([LOW], obs)
    assert [(k, e.track) for k, e in got] == [("entry", "A"), ("open", "A")]
    assert got[0][1].entered_at == 0.0 and not got[0][1].entry_interpolated


def test_rows_out_of_time_order_are_put_in_order_per_track() -> None:
    """Track A's rows come at 0, 20, 10 s (lon -0.5, 1.5, 0.5 along lat 0.5): in time
    order the track crosses the square eastwards, in at 5 s, out at 15 s, with the fix
    at 10 s inside. Then A in order, followed by B with its rows out of order and one
    given twice: both cross alike, and the repeated fix is dropped and counted."""
    (e,) = ended([SQUARE], track("A", [0.0, 20.0, 10.0], [-0.5, 1.5, 0.5], [0.5] * 3))
    assert (e.entered_at, e.exited_at, e.observations) == pytest.approx((5.0, 15.0, 1))
    obs = pd.concat([track("A", [0.0, 10.0, 20.0], [-0.5, 0.5, 1.5], [0.5] * 3),
                     track("B", [0.0, 20.0, 10.0, 10.0], [-0.5, 1.5, 0.5, 0.5], [0.6] * 4)],
                    ignore_index=True)
    det = EntryDetector([SQUARE])
    got = [(e.kind, e.entry.track, e.at) for e in det.process(obs)]
    assert got == [("entry", "A", pytest.approx(5.0)), ("entry", "B", pytest.approx(5.0)),
                   ("exit", "A", pytest.approx(15.0)), ("exit", "B", pytest.approx(15.0))]
    assert det.dropped_out_of_order == 1


# ------------------------------------------------------------------ silent tracks
def test_silent_tracks_are_forgotten_with_or_without_an_open_entry() -> None:
    """Track A flies far from the square (no entry) and is heard last at 0 s; track B is
    inside at 0 and 100 s. At 200 s with a 150 s limit, A is forgotten (nothing to end),
    B kept; at 400 s B is forgotten too, its entry ending open at its last fix (100 s),
    although A's freed place in the table is older still."""
    det = EntryDetector([SQUARE])
    det.process(pd.concat([track("A", [0.0], [-5.0], [0.5]), track("B", [0.0], [0.5], [0.5])],
                          ignore_index=True))
    det.process(track("B", [100.0], [0.6], [0.5]))
    assert det.tracked == 2
    assert det.expire(now=200.0, silence_s=150.0) == [] and det.tracked == 1
    (ev,) = det.expire(now=400.0, silence_s=150.0)
    assert (ev.kind, ev.at, ev.entry.track, ev.entry.observations) == ("exit", 100.0, "B", 2)
    assert ev.entry.is_open and det.tracked == 0


def test_a_track_heard_again_is_kept_by_its_latest_fix() -> None:
    """Track A is inside at 0 s, then again at 100 s (a second batch). At 200 s with a
    150 s limit it was heard 100 s ago: kept, nothing ends. At 300 s it is forgotten,
    its entry ending open at its last fix, 100 s."""
    det = EntryDetector([SQUARE])
    det.process(track("A", [0.0], [0.5], [0.5]))
    det.process(track("A", [100.0], [0.6], [0.5]))
    assert det.expire(now=200.0, silence_s=150.0) == [] and det.tracked == 1
    (ev,) = det.expire(now=300.0, silence_s=150.0)
    assert (ev.kind, ev.at, ev.entry.observations) == ("exit", 100.0, 2)


def test_the_last_fixes_of_many_tracks_are_kept_while_the_table_grows() -> None:
    """1000 tracks are heard west of the square (lon -0.5, lat 0.1 + 0.0008 k), then 100 other
    tracks far away (the table of last fixes grows past its first 1024 places), then
    the 1000 again inside (lon 0.5), 100 s after their first fix. Each crossed lon 0
    half way: 1000 entries, interpolated, at 50 s, entry point (lat, 0)."""
    n = 1000
    ids = [f"T{k:04d}" for k in range(n)]
    lat = [0.1 + 0.0008 * k for k in range(n)]
    west = make_observations(time=[0.0] * n, icao24=ids, lat=lat, lon=[-0.5] * n)
    others = make_observations(time=[50.0] * 100, icao24=[f"N{k:03d}" for k in range(100)],
                               lat=[40.0] * 100, lon=[40.0 + 0.01 * k for k in range(100)])
    inside = make_observations(time=[100.0] * n, icao24=ids, lat=lat, lon=[0.5] * n)
    det = EntryDetector([SQUARE])
    events = det.process(west) + det.process(others) + det.process(inside)
    assert len(events) == n and {e.kind for e in events} == {"entry"}
    assert all(e.entry.entry_interpolated and e.at == pytest.approx(50.0) for e in events)
    points = sorted(e.entry.entry_point for e in events if e.entry.entry_point is not None)
    assert points == [pytest.approx((y, 0.0)) for y in lat]


# ------------------------------------------------------------------ the exact screen
#: a triangle (its bounding box holds points outside it) and a square, 2 degrees apart
TRIANGLE = Zone("TRI", "custom", shapely.Polygon([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]))
FAR_SQUARE = Zone("FAR", "custom", shapely.box(3.0, 0.0, 4.0, 1.0))


def test_the_exact_screen_names_each_zone_holding_a_position() -> None:
    """Each zone is its own layer; a position gets the zone's index in its layer where
    GEOS says the zone contains it (its interior: a point on the edge is not inside),
    -1 elsewhere; each position is its own cell, and a boundary cell."""
    zones = [TRIANGLE, FAR_SQUARE]
    lon = np.array([0.2, 0.8, 0.0, 3.5, 4.0, 2.0, 0.5, 3.0])
    lat = np.array([0.2, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0])
    scr = ExactScreen(zones).screen(lon, lat)
    want = np.full((len(lon), 2), -1)
    for zi, z in enumerate(zones):
        for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
            if z.geometry.contains(shapely.Point(x, y)):
                want[i, zi] = zi
    # (0.2, 0.2) in the triangle, (3.5, 0.5) in the square: nothing else (0.8, 0.8 is in
    # the triangle's box, beyond its hypotenuse; the others lie on edges or in no box)
    assert want.tolist() == [[0, -1], [-1, -1], [-1, -1], [-1, 1], [-1, -1], [-1, -1],
                             [-1, -1], [-1, -1]]
    assert scr.zone.tolist() == want.tolist()
    assert scr.cell.tolist() == list(range(len(lon))) and scr.boundary.all()
    assert len(scr.boundary) == len(lon)


def test_the_exact_screen_gives_the_entries_of_the_default_one() -> None:
    """A track starting inside the triangle, leaving over its hypotenuse (x + y = 1),
    then crossing the far square: lon 0.2, 0.4, 1.0, 3.5, 5.0 along lat 0.2 every 10 s.
    The hypotenuse is at lon 0.8 on that parallel: (0.8 - 0.4) / 0.6 of the second leg,
    at 10 + 20 / 3 s; the square's west edge at 3.0, (3.0 - 1.0) / 2.5 of the third leg
    (28 s), its east edge at 4.0, (4.0 - 3.5) / 1.5 of the fourth (30 + 10 / 3 s)."""
    obs = track("A", [0.0, 10.0, 20.0, 30.0, 40.0], [0.2, 0.4, 1.0, 3.5, 5.0], [0.2] * 5)
    zones = [TRIANGLE, FAR_SQUARE]
    exact = EntryDetector(zones, screen=ExactScreen(zones))
    exact_events = exact.process(obs) + exact.close()
    got = [(e.kind, e.entry.zone, e.at, e.entry.observations) for e in exact_events]
    assert got == [("entry", "TRI", 0.0, 0),
                   ("exit", "TRI", pytest.approx(10.0 + 20.0 / 3.0), 2),
                   ("entry", "FAR", pytest.approx(28.0), 0),
                   ("exit", "FAR", pytest.approx(30.0 + 10.0 / 3.0), 1)]
    # the default screen (the zone index) gives the very same entries
    assert [(e.kind, e.entry) for e in exact_events] == run(zones, obs)
