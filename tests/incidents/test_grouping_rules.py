"""The grouping rules at their limits, by hand arithmetic.

Linking (rule 3): a lost track's last inside fix and a new track's first fix are
placed with pyproj's forward geodesic; the reach is the faster category's top speed
(the table in skyfence.incidents.grouping's docstring: drone 120 m/s, unknown 700 m/s)
times the time between, plus 500 m. Placing (rules 1 and 2): times chosen on and just
past each limit of the module docstring (merge_s, 5 s for one crossing, an hour for an
entry left open).
"""

from __future__ import annotations

import math

import pytest
from pyproj import Geod

from skyfence.airspace.zones import circle_zone, national_zone
from skyfence.incidents.grouping import (
    Candidate,
    EntryFacts,
    EntrySpan,
    TrackPiece,
    ZoneRelations,
    link,
    link_reach,
    place,
    summarize,
)
from skyfence.policy import IncidentSettings

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


def test_a_custom_zone_named_like_a_country_is_measured_not_looked_up() -> None:
    # a 5 km circle that a user named "PYF": its area is the circle's (pi r^2 = 78.54
    # km^2), not French Polynesia's from the bundled data, and it is no dependency of
    # France (only national zones take area and parent from there)
    rel = ZoneRelations.of([circle_zone("PYF", -17.5, -149.5, 5.0)])
    assert rel.areas_km2["PYF"] == pytest.approx(math.pi * 25.0, rel=2e-3)
    assert rel.parents == {}
    assert not rel.nested("PYF", "FRA")


def test_a_zone_of_unknown_area_names_an_incident_only_when_no_zone_is_known() -> None:
    # "unknown areas count as largest" (naming_zone's docstring): a zone missing from
    # the areas (e.g. removed from the zone set since) loses to any zone with an area,
    # whichever order they come in; between two unknown ones the name decides
    rel = ZoneRelations({"FRA": 640_000.0}, {})
    assert rel.naming_zone(["XYZ", "FRA"]) == "FRA"
    assert rel.naming_zone(["FRA", "XYZ"]) == "FRA"
    assert rel.naming_zone(["ZZZ", "AAA"]) == "AAA"


# ------------------------------------------------------------------- placing


def span(eid: str, zone: str, a: float, b: float, open_: bool = False) -> EntrySpan:
    return EntrySpan(eid, zone, "abc123", a, b, open_)


REL = ZoneRelations({}, {"PYF": "FRA"})


def test_a_reentry_skips_the_entry_itself_and_other_zones() -> None:
    # the entry itself, already stored in its incident, is not a previous entry
    e = span("e1", "X", 100.0, 200.0)
    assert place(e, [Candidate("inc1", (e,))], 120.0, REL) is None
    # an earlier entry of the same zone beginning at the same time: a re-entry (gap < 0)
    assert place(span("e2", "X", 0.0, 60.0), [Candidate("inc1", (span("e1", "X", 0.0, 50.0),))],
                 120.0, REL) == "inc1"
    # the first entry of a candidate is of another zone, its second one is the re-entry;
    # the first candidate holds nothing to join
    cands = [Candidate("inc0", (span("a", "Y", 0.0, 10.0),)),
             Candidate("inc1", (span("b", "Y", 0.0, 10.0), span("c", "X", 20.0, 100.0)))]
    assert place(span("e", "X", 150.0, 300.0), cands, 120.0, REL) == "inc1"


def test_overlapping_zones_at_their_limits() -> None:
    # RUS/UKR are unrelated: one incident only when entered within 5 s (inclusive)
    going = Candidate("inc1", (span("r", "RUS", 105.0, 500.0),))
    assert place(span("u", "UKR", 100.0, 400.0), [going], 120.0, REL) == "inc1"  # 5 s later
    assert place(span("u", "UKR", 99.0, 400.0), [going], 120.0, REL) is None    # 6 s later
    # ended exactly when the other began: nothing going on
    done = Candidate("inc1", (span("r", "RUS", 0.0, 4.0),))
    assert place(span("u", "UKR", 4.0, 400.0), [done], 120.0, REL) is None
    # a dependency's entry beginning 60 s later is not joined by an earlier one
    later = Candidate("inc1", (span("f", "FRA", 160.0, 500.0),))
    assert place(span("p", "PYF", 100.0, 400.0), [later], 120.0, REL) is None
    # an entry left open (no exit) counts as going on for an hour after its last fix
    stopped = Candidate("inc1", (span("f", "FRA", 0.0, 100.0, open_=True),))
    assert place(span("p", "PYF", 3699.0, 3800.0), [stopped], 120.0, REL) == "inc1"
    assert place(span("p", "PYF", 3700.0, 3800.0), [stopped], 120.0, REL) is None
    # the first candidate's entries are of the same zone (not an overlap), the second's
    # is one
    cands = [Candidate("inc0", (span("x", "PYF", 0.0, 10.0),)),
             Candidate("inc1", (span("y", "PYF", 0.0, 10.0), span("f", "FRA", 98.0, 500.0)))]
    assert place(span("p", "PYF", 200.0, 400.0), cands, 120.0, REL) == "inc1"


def test_the_deepest_entry_of_equal_depth_is_the_first() -> None:
    rec = {"zone_kind": "custom", "max_depth_m": 500.0, "violation": False,
           "severity": "info", "icao24": None, "callsign": None, "protocol": []}
    entries = [EntryFacts(span("late", "X", 50.0, 60.0), rec, 60.0, 60.0),
               EntryFacts(span("early", "X", 10.0, 20.0), rec, 20.0, 20.0)]
    assert summarize(entries, REL, IncidentSettings())["deepest_entry"] == "early"


def test_national_zones_take_area_and_parent_from_the_bundled_data() -> None:
    rel = ZoneRelations.of([national_zone("PYF")])
    assert rel.parents == {"PYF": "FRA"}
    assert rel.nested("PYF", "FRA")


# ---------------------------------------------------------------- a record's piece


def test_the_piece_of_a_record() -> None:
    rec = {"id": "e1", "zone": "Z", "track": "R1", "icao24": None,
           "classification": {"cooperative": False, "category": "drone"},
           "entry_point": {"lat": 1.0, "lon": 2.0}, "first_inside_point": {"lat": 3.0, "lon": 4.0},
           "last_inside_point": {"lat": 5.0, "lon": 6.0}, "exited_at": None}
    assert TrackPiece.of(rec, 10.0, 20.0) == TrackPiece(
        "e1", "Z", "R1", "drone", 10.0, (1.0, 2.0), 20.0, (5.0, 6.0), True)
    # no crossing point: the first inside fix; an exit: not lost inside; no category
    rec2 = {**rec, "entry_point": None, "exited_at": "2025-09-19T09:00:00.000Z",
            "classification": {"cooperative": False, "category": None}}
    assert TrackPiece.of(rec2, 10.0, 20.0) == TrackPiece(
        "e1", "Z", "R1", "unknown", 10.0, (3.0, 4.0), 20.0, (5.0, 6.0), False)
    # a transponder (an address, or classified cooperative, or not said: cooperative)
    assert TrackPiece.of({**rec, "icao24": "4b1805"}, 10.0, 20.0) is None
    assert TrackPiece.of({**rec, "classification": {"category": "drone"}}, 10.0, 20.0) is None
    assert TrackPiece.of({**rec, "classification": None}, 10.0, 20.0) is None


# ------------------------------------------------------------------ a summary


def fact(eid: str, a: float, b: float | None, last: float, *, icao24: str | None = None,
         callsign: str | None = None, steps: tuple[tuple[str, float | None], ...] = ()
         ) -> EntryFacts:
    """An entry into X from ``a``, exited at ``b`` (None: still open, last inside fix
    ``last``), with the record fields a summary reads."""
    rec = {"zone_kind": "custom", "max_depth_m": 100.0, "violation": True,
           "severity": "warning", "icao24": icao24, "callsign": callsign,
           "protocol": [{"step": s, "after_s": t} for s, t in steps]}
    return EntryFacts(span(eid, "X", a, last if b is None else b, open_=b is None), rec, b, last)


def test_a_summary_names_the_address_and_callsign_of_the_latest_entry_that_has_them() -> None:
    # entries at 0, 100 and 200 s (given out of order): the latest (200 s) has neither
    # field, so both come from the one before it (100 s), not the first (0 s)
    entries = [fact("c", 200.0, 210.0, 210.0),
               fact("a", 0.0, 10.0, 10.0, icao24="aaaaaa", callsign="FIRST"),
               fact("b", 100.0, 110.0, 110.0, icao24="bbbbbb", callsign="SECOND")]
    s = summarize(entries, REL, IncidentSettings())
    assert (s["icao24"], s["callsign"]) == ("bbbbbb", "SECOND")
    # the latest entry has them: its own; two entries only
    s = summarize(entries[1:], REL, IncidentSettings())
    assert (s["icao24"], s["callsign"]) == ("bbbbbb", "SECOND")
    # an address but no callsign in the latest entry: each field from its own latest entry
    entries = [fact("a", 0.0, 10.0, 10.0, icao24="aaaaaa", callsign="FIRST"),
               fact("b", 100.0, 110.0, 110.0, icao24="bbbbbb")]
    s = summarize(entries, REL, IncidentSettings())
    assert (s["icao24"], s["callsign"]) == ("bbbbbb", "FIRST")
    # no entry has them (a radar track): None, not an empty string
    s = summarize([fact("a", 0.0, 10.0, 10.0, callsign="")], REL, IncidentSettings())
    assert (s["icao24"], s["callsign"]) == (None, None)


def test_a_summary_with_an_open_entry_has_no_last_exit() -> None:
    # exits at 10 and 110 s: the last is 110 s; with the second entry still open (last
    # inside fix at 150 s) there is no last exit, and its last inside fix is the last
    closed = [fact("a", 0.0, 10.0, 10.0), fact("b", 100.0, 110.0, 110.0)]
    s = summarize(closed, REL, IncidentSettings())
    assert (s["last_exited_at"], s["last_inside_at"], s["open_entries"]) == (110.0, 110.0, 0)
    still = [fact("a", 0.0, 10.0, 10.0), fact("b", 100.0, None, 150.0)]
    s = summarize(still, REL, IncidentSettings())
    assert (s["last_exited_at"], s["last_inside_at"], s["open_entries"]) == (None, 150.0, 1)
    # the open entry is the earlier one: still no last exit
    still = [fact("a", 0.0, None, 50.0), fact("b", 100.0, 110.0, 110.0)]
    s = summarize(still, REL, IncidentSettings())
    assert (s["last_exited_at"], s["last_inside_at"], s["open_entries"]) == (None, 110.0, 1)


def test_the_last_exit_and_last_inside_fix_are_the_latest_of_any_entry() -> None:
    """Entries that overlap in time: a long one entered at 100 s (last inside 890 s,
    exit 900 s) and a short one entered later, at 101 s (last inside 295 s, exit 300 s),
    as a state's airspace and a small zone inside it entered at one crossing. The
    incident was last inside at 890 s and left at 900 s: the latest times of any entry,
    not those of the entry that began last."""
    entries = [fact("long", 100.0, 900.0, 890.0), fact("short", 101.0, 300.0, 295.0)]
    s = summarize(entries, REL, IncidentSettings())
    assert (s["first_entered_at"], s["last_inside_at"], s["last_exited_at"]) == (
        100.0, 890.0, 900.0)
    assert s["inside_s"] == 800.0  # the union of [100, 900] and [101, 300]


def test_protocol_steps_without_a_delay_sort_with_those_due_at_once() -> None:
    # a step with no delay (None) is due at once, like 0 s: the sort is stable, so the
    # two keep the order the policy gave them, and the step due after 0.5 s comes last
    e = fact("a", 0.0, 10.0, 10.0, steps=(("notify", None), ("log", 0.0), ("call", 0.5)))
    s = summarize([e], REL, IncidentSettings())
    assert s["protocol"] == [{"step": "notify", "after_s": None},
                             {"step": "log", "after_s": 0.0},
                             {"step": "call", "after_s": 0.5}]
