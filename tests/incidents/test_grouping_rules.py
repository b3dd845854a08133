"""The grouping rules at their limits, by hand arithmetic.

Linking (rule 3): a lost track's last inside fix and a new track's first fix are
placed with pyproj's forward geodesic; the reach is the faster category's top speed
(the table in skyfence.incidents.grouping's docstring: drone 120 m/s, unknown 700 m/s)
times the time between, plus 500 m.
"""

from __future__ import annotations

import math

import pytest
from pyproj import Geod

from skyfence.airspace.zones import circle_zone, national_zone
from skyfence.incidents.grouping import TrackPiece, ZoneRelations, link, link_reach

GEOD = Geod(ellps="WGS84")
LOST_AT = (55.6, 12.6)  # lat, lon


def ahead(d_m: float) -> tuple[float, float]:
    """(lat, lon) ``d_m`` metres north of where the track was lost."""
    lon, lat, _ = GEOD.fwd(LOST_AT[1], LOST_AT[0], 0.0, d_m)
    return float(lat), float(lon)


def lost(category: str = "drone", last: tuple[float, float] | None = LOST_AT) -> TrackPiece:
    return TrackPiece("a", "Z", "R1", category, 0.0, None, 100.0, last, True)


def new(gap_s: float, d_m: float, category: str = "drone",
        first: bool = True) -> TrackPiece:
    return TrackPiece("b", "Z", "R2", category, 100.0 + gap_s,
                      ahead(d_m) if first else None, 200.0, None, True)


def test_the_time_limits_of_a_link_are_inclusive() -> None:
    # link_s 60: a track beginning 60 s after the loss links (reach 120 x 60 + 500 =
    # 7700 m), 60.5 s does not; 30 s before the loss links (reach 120 x 30 + 500 =
    # 4100 m), 30.5 s before does not
    assert link_reach(lost(), new(60.0, 1000.0), 60.0) == (pytest.approx(1000.0, abs=0.01),
                                                          pytest.approx(7700.0))
    assert link_reach(lost(), new(60.5, 1000.0), 60.0) is None
    assert link_reach(lost(), new(-30.0, 1000.0), 60.0) == (pytest.approx(1000.0, abs=0.01),
                                                           pytest.approx(4100.0))
    assert link_reach(lost(), new(-30.5, 1000.0), 60.0) is None


def test_link_s_zero_turns_linking_off_and_one_second_is_on() -> None:
    # even a track on the very spot, beginning 10 s before the loss (no gap to wait)
    assert link_reach(lost(), new(-10.0, 100.0), 0.0) is None
    assert link_reach(lost(), new(0.5, 100.0), 1.0) == (pytest.approx(100.0, abs=0.01),
                                                       pytest.approx(120.0 * 0.5 + 500.0))


def test_pieces_without_the_points_to_measure_do_not_link() -> None:
    assert link_reach(lost(last=None), new(5.0, 100.0), 60.0) is None
    assert link_reach(lost(), new(5.0, 100.0, first=False), 60.0) is None


def test_a_category_not_in_the_table_flies_like_an_unknown_target() -> None:
    # "ufo" is no category skyfence knows (a record from elsewhere): 700 m/s, as unknown;
    # 10 s: reach 7500 m
    assert link_reach(lost("ufo"), new(10.0, 7000.0, "ufo"), 60.0) == (
        pytest.approx(7000.0, abs=0.01), pytest.approx(7500.0))
    # with a drone: the faster of the two, 700 m/s
    assert link_reach(lost("drone"), new(10.0, 7000.0, "ufo"), 60.0) is not None
    # an unknown piece takes its drone partner's 120 m/s: reach 1700 m
    assert link_reach(lost("unknown"), new(10.0, 1800.0, "drone"), 60.0) is None
    assert link_reach(lost("drone"), new(10.0, 1600.0, "unknown"), 60.0) is not None


def test_the_nearest_tail_wins_and_ties_go_to_the_first_incident_id() -> None:
    # tails: one of another zone (never linked), then two lost at the same place and
    # time (equal distance / reach): the smaller incident id wins
    other_zone = TrackPiece("x", "Y", "R9", "drone", 0.0, None, 100.0, LOST_AT, True)
    twin = TrackPiece("c", "Z", "R3", "drone", 0.0, None, 100.0, LOST_AT, True)
    tails = [("inc0", other_zone), ("inc9", lost()), ("inc2", twin)]
    assert link(new(10.0, 300.0), tails, 60.0) == ("inc2", twin)
    # a tail nearer relative to its reach wins over an earlier one in the list
    near = TrackPiece("d", "Z", "R4", "drone", 0.0, None, 100.0, ahead(250.0), True)
    assert link(new(10.0, 300.0), [("inc1", lost()), ("inc7", near)], 60.0) == ("inc7", near)


def test_a_custom_zone_is_named_by_its_geodesic_area() -> None:
    # a 5 km circle: pi r^2 = 78.54 km^2 (the polygon a little less); Estonia's
    # national zone is about 70,000 km^2 with its sea: the circle is the smaller one,
    # so an incident in both is named after the circle
    rel = ZoneRelations.of([circle_zone("C5", 59.4, 24.8, 5.0), national_zone("EST")])
    assert rel.areas_km2["C5"] == pytest.approx(math.pi * 25.0, rel=2e-3)
    assert 40_000 < rel.areas_km2["EST"] < 100_000
    assert rel.naming_zone(["EST", "C5"]) == "C5"
