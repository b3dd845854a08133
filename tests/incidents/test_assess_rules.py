"""The Assessor's own rules, on entries built by hand: the two-sigma gate, which
verdicts it touches, the speed the classifier is given, and what the military database
says about an address it does not hold.

A radar track ``R0001`` has no ICAO address: the default policy calls any entry of it a
critical violation. ``4b1805`` is a Swiss ICAO address (a cooperative aircraft), for which
the default policy has no rule inside a custom zone (``info``, no violation).
"""

from __future__ import annotations

import math
from dataclasses import replace

from skyfence.incidents.assess import Assessor, border_contact
from skyfence.model import Entry
from skyfence.policy import ProtocolStep, Verdict


def entry(track: str = "R0001", depth_m: float = 100.0, sigma_m: float | None = 60.0,
          **more: object) -> Entry:
    return Entry("SQ", "custom", track, 1000.0, True, 1100.0, 1100.0, depth_m, (0.5, 0.0),
                 (0.5, 0.0), 300.0, 300.0, 10, position_sigma_m=sigma_m,
                 **more)  # type: ignore[arg-type]


def test_between_one_and_two_sigmas_deep_is_still_a_border_contact() -> None:
    """100 m deep with a 60 m sigma: more than one sigma, less than two (120 m)."""
    (rec,) = Assessor().records([entry(depth_m=100.0)])
    assert rec["violation"] is False and rec["severity"] == "warning"
    assert "within 2 position sigmas (120 m)" in rec["reasons"][0]
    (deep,) = Assessor().records([entry(depth_m=121.0)])
    assert deep["violation"] is True and deep["severity"] == "critical"


def test_the_gate_touches_only_what_the_policy_calls_a_violation() -> None:
    """A cooperative aircraft the policy does not call a violation keeps the policy's
    own verdict (``info``), however shallow: the gate never raises a verdict."""
    (rec,) = Assessor().records([entry("4b1805", depth_m=10.0)])
    assert rec["violation"] is False and rec["severity"] == "info"
    assert "sigma" not in rec["reasons"][0]


def test_the_classifier_is_given_the_robust_speed_not_the_fastest_fix() -> None:
    """Fifty radar speeds of 40 +- 2 m/s (a drone) and one noise spike of 90 m/s (a
    propeller aircraft's speed): mean + 1.28 sd is about 42.6 m/s, so the record says
    drone, as it does for the same track without the spike."""
    speeds = [38.0, 42.0] * 25
    moments = {"speed_count": len(speeds), "speed_sum_ms": sum(speeds),
               "speed_sq_sum": sum(v * v for v in speeds)}
    spiked = entry(max_speed_ms=90.0, **moments)
    calm = entry(max_speed_ms=42.0, **moments)
    (a, b) = Assessor().records([spiked, calm])
    assert a["classification"]["category"] == b["classification"]["category"] == "drone"


def test_an_address_missing_from_the_military_database_is_unknown_not_civil() -> None:
    db = {"4b1805": True}
    (listed, unlisted) = Assessor(military_db=db).records(
        [entry("4b1805"), entry("4b1806")])
    assert listed["classification"]["military"] is True
    assert unlisted["classification"]["military"] is None


def test_an_entry_made_by_a_jump_is_called_out_whatever_the_jump_figures() -> None:
    """The integrity screen words a jump into the zone as "entered by a position jump of
    64.5 km in 10 s": the assessor knows it by that beginning, figures varying. Such an
    entry of a radar track (a critical violation otherwise) is a warning, not a
    violation; a jump out of the zone ("left by ...") leaves the verdict alone."""
    jumped = entry(depth_m=5000.0, integrity=("entered by a position jump of 64.5 km in 10 s",))
    left = entry(depth_m=5000.0, integrity=("left by a position jump of 126.8 km in 10 s",))
    (a, b) = Assessor().records([jumped, left])
    assert a["violation"] is False and a["severity"] == "warning"
    assert a["reasons"][-1].startswith("not a violation on this data alone")
    assert b["violation"] is True and b["severity"] == "critical"


# ------------------------------------------------------------------ the two-sigma gate


def test_exactly_two_sigmas_deep_is_judged_by_the_policy() -> None:
    """"Once its deepest fix is inside by this many sigmas": 120.0 m with a 60 m sigma
    is two sigmas exactly (both exact in binary), so the policy's verdict stands; the
    largest float below 120 m is still a border contact."""
    (at, below) = Assessor().records([entry(depth_m=120.0),
                                      entry(depth_m=math.nextafter(120.0, 0.0))])
    assert at["violation"] is True and at["severity"] == "critical"
    assert below["violation"] is False and below["severity"] == "warning"


def test_a_border_contact_record_word_for_word() -> None:
    """The reason and the one protocol step of a border contact, written out: the
    policy's own reasons and steps (a critical violation of a radar track) are replaced."""
    (rec,) = Assessor().records([entry(depth_m=100.4)])
    assert rec["reasons"] == ["track 'R0001' touched SQ: deepest fix 100 m inside, within 2 "
                              "position sigmas (120 m) of the boundary"]
    assert rec["protocol"] == [{"step": "watch track R0001 at the boundary", "after_s": None}]


def test_border_contact_keeps_the_rules_that_applied() -> None:
    """``border_contact`` turns the policy's verdict into a warning and keeps the names of
    the rules that applied (what made it a violation); the rest is its own. The whole
    verdict is compared, field by field."""
    policy_verdict = Verdict(True, "critical", ("policy reason",),
                             (ProtocolStep("scramble", after_s=60.0),), ("rule a", "rule b"))
    e = entry(track="R0007", depth_m=37.6, sigma_m=25.0)
    assert border_contact(e, policy_verdict) == Verdict(
        violation=False, severity="warning",
        reasons=("track 'R0007' touched SQ: deepest fix 38 m inside, within 2 position "
                 "sigmas (50 m) of the boundary",),
        protocol=(ProtocolStep("watch track R0007 at the boundary"),),
        rules=("rule a", "rule b"))


def test_border_contact_of_an_entry_without_a_sigma_names_no_margin() -> None:
    """The assessor asks only about entries with a sigma, but ``border_contact`` is public:
    for an entry without one (transponder positions) it says 0 m, no margin."""
    v = border_contact(entry(depth_m=10.0, sigma_m=None), Verdict(True, "critical", ()))
    assert v.reasons == ("track 'R0001' touched SQ: deepest fix 10 m inside, within 2 "
                         "position sigmas (0 m) of the boundary",)
    assert v.rules == ()


# ------------------------------------------------------------------ the fusion doubt


def test_the_fusion_doubt_is_added_to_the_integrity_after_what_the_entry_has() -> None:
    """``doubt_of`` (fusion: radar contradicting the track's ADS-B) is asked once per
    entry, with the entry; its answer follows the entry's own integrity reasons."""
    asked: list[str] = []

    def doubt_of(e: Entry) -> str | None:
        asked.append(e.track)
        return {"4b1805": "radar contradicts ADS-B by 2.4 km"}.get(e.track)

    own = ("1 implausible fix left out",)
    (a, b) = Assessor(doubt_of=doubt_of).records(
        [entry("4b1805", integrity=own), entry("R0001", integrity=own)])
    assert asked == ["4b1805", "R0001"]
    assert a["integrity"] == ["1 implausible fix left out", "radar contradicts ADS-B by 2.4 km"]
    assert b["integrity"] == ["1 implausible fix left out"]  # no doubt: as it was
    # a doubt does not change the verdict (the policy does not judge integrity)
    assert (a["violation"], a["severity"]) == (False, "info")


def test_a_doubt_the_entry_already_carries_is_not_added_again() -> None:
    doubt = "radar contradicts ADS-B by 2.4 km"
    (rec,) = Assessor(doubt_of=lambda _e: doubt).records(
        [entry("4b1805", integrity=(doubt, "1 implausible fix left out"))])
    assert rec["integrity"] == [doubt, "1 implausible fix left out"]


def test_without_a_doubt_function_the_integrity_is_the_entry_s() -> None:
    (rec,) = Assessor().records([entry(integrity=("1 implausible fix left out",))])
    assert rec["integrity"] == ["1 implausible fix left out"]


# ------------------------------------------------------------------ the jump, word for word


def test_the_reason_added_to_a_jumped_entry_word_for_word() -> None:
    """The policy's reason stays first; the assessor's follows, written out here."""
    (rec,) = Assessor().records([entry(depth_m=5000.0, integrity=(
        "entered by a position jump of 64.5 km in 10 s",))])
    assert len(rec["reasons"]) == 2
    assert rec["reasons"][1] == ("not a violation on this data alone: the track came in by "
                                 "a position jump no aircraft can make (see integrity)")


# ------------------------------------------------------------------ classification inputs


def test_a_hard_sustained_turn_reaches_the_classifier() -> None:
    """A radar track at 140 m/s and 2 500 m. The classifier's memberships by hand
    (skyfence.identify.classify): propeller 35-130 m/s full, 165 zero: (165 - 140) / 35
    = 0.714, times 0.6 without a transponder = 0.429; jet 120-200 rising: 20 / 80 = 0.25,
    times its evidence, 0.3 by default = 0.075; airliner 0 (below 3 000 m), helicopter,
    drone, balloon 0 (too fast). So a propeller aircraft, 0.429 / 0.504 = 0.851.
    A sustained turn of 8 m/s^2 (full evidence from 6.9 m/s^2 above 100 m/s) makes the
    jet's evidence 1 (0.25) and the propeller five times less likely (x 0.2: 0.0857):
    a jet, 0.25 / 0.3357 = 0.745."""
    level = replace(entry(), max_speed_ms=140.0, min_altitude_m=2500.0, max_altitude_m=2500.0)
    turning = replace(level, max_turn_accel_ms2=8.0)
    (a, b) = Assessor().records([level, turning])
    assert (a["classification"]["category"], a["classification"]["confidence"]) == (
        "propeller", 0.851)
    assert (b["classification"]["category"], b["classification"]["confidence"]) == (
        "jet", 0.745)


def test_a_track_id_is_read_as_it_is() -> None:
    """An id is an ICAO address only when it is exactly six hex digits once the white
    space around it is cut: ``4b1805`` padded with a NUL (a fixed-width field read
    whole) is not one; it is judged like a radar track (no address, a violation)."""
    (nul, spaced) = Assessor().records([entry("4b1805\x00", sigma_m=None),
                                        entry(" 4B1805 ", sigma_m=None)])
    assert nul["classification"]["cooperative"] is False and nul["icao24"] is None
    assert nul["classification"]["registration_state"] is None
    assert nul["violation"] is True
    assert spaced["classification"]["cooperative"] is True and spaced["icao24"] == "4b1805"
    assert spaced["classification"]["registration_state"] == "CHE"
