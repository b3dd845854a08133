"""The Assessor's own rules, on entries built by hand: the two-sigma gate, which
verdicts it touches, the speed the classifier is given, and what the military database
says about an address it does not hold.

A radar track ``R0001`` has no ICAO address: the default policy calls any entry of it a
critical violation. ``4b1805`` is a Swiss ICAO address (a cooperative aircraft), for which
the default policy has no rule inside a custom zone (``info``, no violation).
"""

from __future__ import annotations

from skyfence.incidents.assess import Assessor
from skyfence.model import Entry


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
