"""The policy as data: the default policy's verdicts and the rule semantics."""

from __future__ import annotations

from pathlib import Path

import pytest

from skyfence.model import Classification, Entry
from skyfence.policy import Policy, ProtocolStep


def entry(track: str = "4b1805", zone: str = "EST", kind: str = "national",
          squawks: tuple[str, ...] = (), depth: float = 2500.0,
          alt: tuple[float | None, float | None] = (3000.0, 3500.0)) -> Entry:
    return Entry(zone, kind, track, 1000.0, True, 1600.0, 1600.0, depth, (59.8, 26.3),
                 (59.8, 26.0), alt[0], alt[1], 40, callsign="ABC123", squawks=squawks)


COOP = Classification(True, "airliner", "CHE", None)
RADAR = Classification(False, "jet", None, None)


def test_default_policy_reproduces_the_built_in_rules() -> None:
    pol = Policy.from_options(["rus", " blr "])
    assert pol.watch_states == {"RUS", "BLR"}
    v = pol.judge(entry("T0042"), RADAR)
    assert (v.violation, v.severity) == (True, "critical")
    assert v.reasons == ("non-cooperative target inside EST airspace: track 'T0042' carries no "
                         "ICAO 24-bit address (transponder off or radar-only)",)
    rus = Classification(True, "jet", "RUS", None)
    v = pol.judge(entry("154abc"), rus)
    assert (v.violation, v.severity) == (True, "warning")
    assert "RUS" in v.reasons[0] and "154abc" in v.reasons[0]
    v = pol.judge(entry("154abc"), Classification(True, "jet", "RUS", True))
    assert (v.violation, v.severity) == (True, "critical") and len(v.reasons) == 2
    v = pol.judge(entry(squawks=("7600",)), COOP)
    assert (v.violation, v.severity) == (False, "warning")
    assert v.reasons == ("squawk 7600 (radio failure) inside EST airspace",)
    v = pol.judge(entry(zone="EKYT", kind="custom"), COOP)
    assert (v.violation, v.severity, v.rules) == (False, "info", ())
    assert v.reasons == ("cooperative aircraft inside EKYT zone; no rule applies",)
    # without a watch list a Russian-registered aircraft is not a violation
    assert not Policy().judge(entry("154abc"), rus).violation


def test_protocol_steps_are_merged_deduplicated_and_escalations_last() -> None:
    v = Policy.default(["RUS"]).judge(entry("154abc", squawks=("7700",)),
                                      Classification(True, "jet", "RUS", True))
    texts = [s.step for s in v.protocol]
    assert texts.count("notify the duty officer") == 1
    after = [s.after_s for s in v.protocol]
    immediate = [a for a in after if a is None]
    assert after[: len(immediate)] == immediate and len(immediate) >= 2
    timed = [a for a in after if a is not None]
    assert timed == sorted(timed) and timed[0] == 60.0
    assert any("154abc" in t and "ABC123" in t for t in texts)  # fields filled in steps


def test_behaviour_flags_turn_entries_into_early_warnings() -> None:
    pol = Policy.default(["RUS"])
    v = pol.judge(entry("T0042"), RADAR, behaviours=["approach"])
    assert (v.violation, v.severity) == (False, "warning")
    assert "predicted entry" in v.rules and "non-cooperative entry" not in v.rules
    v = pol.judge(entry(), COOP, behaviours={"approach"})
    assert (v.violation, v.severity, v.rules) == (False, "info", ("predicted entry",))
    v = pol.judge(entry(), COOP, behaviours=("loitering",))
    assert v.severity == "warning" and "boundary of EST airspace" in v.reasons[0]
    v = pol.judge(entry(), COOP, behaviours=("went_dark",))
    assert v.severity == "warning" and any(s.after_s == 30.0 for s in v.protocol)
    with pytest.raises(ValueError, match="circling"):
        pol.judge(entry(), COOP, behaviours=("circling",))


CUSTOM = """
name: airport security
variables:
  watch_states: [RUS]
  airports: [EKYT-5km, EKCH-5km]
rules:
  - name: own military
    when: {registration_state: DNK, military: true}
    reason: "Danish military {track}"
    stop: true
  - name: drone at an airport
    when: {zone: $airports, category: [drone, helicopter], altitude_m: {max: 500}}
    violation: true
    severity: critical
    reason: "{category} over {zone} at {max_altitude_m:.0f} m, {depth_km:.1f} km inside"
    protocol:
      - stop departures and arrivals on the affected runways
      - step: call the police drone unit
        after_s: 0
  - name: deep
    when: {zone_kind: custom, min_depth_m: 2000, min_duration_s: 60}
    severity: warning
    reason: "deep and long"
  - name: watched
    when: {registration_state: $watch_states}
    violation: true
    severity: warning
    reason: "watched {registration_state}"
otherwise:
  severity: info
  reason: nothing
"""


def test_custom_policy_conditions_and_stop(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(CUSTOM)
    pol = Policy.load(f, watch_states=["BLR"])
    assert pol.name == "airport security" and pol.watch_states == {"RUS", "BLR"}
    drone = Classification(False, "drone", None, None)
    v = pol.judge(entry("R1", zone="ekyt-5km", kind="custom", alt=(80.0, 120.0)), drone)
    assert v.violation and v.severity == "critical"
    assert v.rules == ("drone at an airport", "deep")
    assert v.reasons[0] == "drone over ekyt-5km at 120 m, 2.5 km inside"
    assert v.protocol[0] == ProtocolStep("stop departures and arrivals on the affected runways")
    assert v.protocol[1].after_s == 0.0
    # above the band: no drone rule; unknown altitude cannot clear a target
    high = entry("R1", zone="EKYT-5km", kind="custom", alt=(900.0, 1200.0))
    assert pol.judge(high, drone).rules == ("deep",)
    unknown_alt = entry("R1", zone="EKYT-5km", kind="custom", alt=(None, None))
    assert "drone at an airport" in pol.judge(unknown_alt, drone).rules
    shallow = entry("R1", zone="EKYT-5km", kind="custom", depth=500.0, alt=(2e3, 2e3))
    assert pol.judge(shallow, drone).reasons == ("nothing",)
    # stop: a Danish military aircraft is judged by the first rule only
    dnk = Classification(True, "jet", "DNK", True)
    v = pol.judge(entry("45f001", zone="EKYT-5km", kind="custom", alt=(100.0, 200.0)), dnk)
    assert v.rules == ("own military",) and not v.violation
    assert pol.judge(entry("154abc"), Classification(True, "jet", "BLR", None)).violation


def test_default_policy_file_is_valid_and_shipped() -> None:
    from skyfence.policy import default_policy_path

    path = default_policy_path()
    assert path.name == "default.yaml" and path.is_file()
    loaded = Policy.load(path)
    assert [r.name for r in loaded.rules] == [r.name for r in Policy().rules]


TWO_FLAGS = """
version: 1
name: two flags
rules:
  - name: loitering, not predicted
    when: {loitering: true, approach: false}
    severity: warning
    reason: loitering
  - name: any drone
    when: {category: drone}
    violation: true
    severity: critical
    reason: drone
otherwise:
  severity: info
  reason: nothing
"""


def test_every_behaviour_flag_of_a_rule_must_hold(tmp_path: Path) -> None:
    """A rule naming two flags applies only when both hold as given (loitering and no
    approach); one of the two is not enough."""
    f = tmp_path / "p.yaml"
    f.write_text(TWO_FLAGS)
    pol = Policy.load(f)
    assert pol.judge(entry(), COOP, behaviours=["loitering"]).rules == (
        "loitering, not predicted",)
    for flags in (["loitering", "approach"], []):  # no rule applies: `otherwise`
        v = pol.judge(entry(), COOP, behaviours=flags)
        assert v.rules == () and v.reasons == ("nothing",)


def test_a_violation_among_the_rules_applied_makes_the_verdict_one(tmp_path: Path) -> None:
    """Rules without ``stop`` all apply: the first (loitering) is no violation, the
    second (a drone) is; the verdict is a violation, at the higher severity, with both
    reasons in rule order."""
    f = tmp_path / "p.yaml"
    f.write_text(TWO_FLAGS)
    drone = Classification(False, "drone", None, None)
    v = Policy.load(f).judge(entry("R1"), drone, behaviours=["loitering"])
    assert v.rules == ("loitering, not predicted", "any drone")
    assert v.violation and v.severity == "critical"
    assert v.reasons == ("loitering", "drone")
