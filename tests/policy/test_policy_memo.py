"""A policy remembers which rules apply per key of the values its conditions read; its
verdicts must equal those of a policy that walks every rule afresh for each entry."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.model import Classification, Entry
from skyfence.policy import BEHAVIOURS, Policy

#: every kind of condition, in rules that overlap, one of them stopping
DOCUMENT: dict[str, Any] = {"rules": [
    {"name": "deep", "when": {"min_depth_m": 500}, "severity": "warning",
     "reason": "deep {depth_km:.1f} km"},
    {"name": "long low",
     "when": {"min_duration_s": 60, "altitude_m": {"min": 0, "max": 1000}},
     "violation": True, "severity": "critical", "reason": "low for {duration_s:.0f} s"},
    {"name": "dark drone", "when": {"cooperative": False, "category": ["drone"],
                                    "went_dark": True}, "violation": True,
     "severity": "critical", "stop": True},
    {"name": "watched", "when": {"registration_state": ["RUS", "BLR"], "military": True},
     "severity": "critical"},
    {"name": "emergency", "when": {"squawk": ["7700", "7600"]}, "severity": "warning",
     "reason": "squawk {squawk}"},
    {"name": "custom zone", "when": {"zone_kind": "custom", "zone": ["ekyt"]},
     "severity": "info"},
    {"name": "approach", "when": {"approach": True}, "severity": "info"},
]}

#: the values each field a condition reads takes here (edges of the rules above)
ENTRY_VALUES: dict[str, list[Any]] = {
    "zone": ["EST", "EKYT", "ekyt"],
    "zone_kind": ["national", "custom"],
    "max_depth_m": [0.0, 499.9, 500.0, 2500.0],
    "exited_at": [1000.0, 1059.9, 1060.0, 1600.0],  # duration 0, 59.9, 60, 600 s
    "min_altitude_m": [None, 200.0, 1000.0, 1000.1],
    "max_altitude_m": [None, 900.0, 5000.0],
    "squawks": [(), ("7700",), ("1200",), ("7600", "7700")],
}
CLASS_VALUES: dict[str, list[Any]] = {
    "cooperative": [True, False],
    "category": ["drone", "jet", "unknown"],
    "registration_state": [None, "RUS", "EST"],
    "military": [None, True, False],
}
BEHAVIOUR_SETS = st.frozensets(st.sampled_from(list(BEHAVIOURS)))


def picks(values: dict[str, list[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: st.sampled_from(v) for k, v in values.items()})


def make(e: dict[str, Any], c: dict[str, Any]) -> tuple[Entry, Classification]:
    entry = Entry(e["zone"], e["zone_kind"], "4b1a2c", 1000.0, True, e["exited_at"],
                  e["exited_at"], e["max_depth_m"], None, None, e["min_altitude_m"],
                  e["max_altitude_m"], 3, squawks=e["squawks"])
    return entry, Classification(c["cooperative"], c["category"], c["registration_state"],
                                 c["military"])


@settings(max_examples=30, deadline=None)
@given(e=picks(ENTRY_VALUES), c=picks(CLASS_VALUES), behaviours=BEHAVIOUR_SETS)
def test_remembered_rules_give_the_verdicts_of_a_fresh_walk(
    e: dict[str, Any], c: dict[str, Any], behaviours: frozenset[str]
) -> None:
    # one case, then every case one field away from it, judged by one policy in turn:
    # a field left out of the remembered key gives a neighbour the case's rules
    remembering = Policy(document=DOCUMENT)
    cases = [(e, c, behaviours)]
    cases += [({**e, k: v}, c, behaviours) for k, vs in ENTRY_VALUES.items() for v in vs]
    cases += [(e, {**c, k: v}, behaviours) for k, vs in CLASS_VALUES.items() for v in vs]
    cases += [(e, c, behaviours ^ {b}) for b in BEHAVIOURS]
    for ev, cv, bv in cases:
        entry, cls_ = make(ev, cv)
        fresh = Policy(document=DOCUMENT)  # nothing remembered: every rule walked
        assert remembering.judge(entry, cls_, bv) == fresh.judge(entry, cls_, bv), (ev, cv, bv)


def test_an_unknown_behaviour_is_refused_also_after_a_known_key() -> None:
    pol = Policy()
    e = Entry("EST", "national", "4b1a2c", 0.0, True, 1.0, 1.0, 10.0, None, None, None,
              None, 1)
    cls_ = Classification(True, "jet")
    pol.judge(e, cls_, ())
    try:
        pol.judge(e, cls_, ("teleporting",))
    except ValueError as exc:
        assert "teleporting" in str(exc)
    else:
        raise AssertionError("an unknown behaviour was accepted")


#: templates naming every fact, with specs and a conversion; a rule
#: whose squawk condition renders only the squawks it matched
VERDICT_DOCUMENT: dict[str, Any] = {
    "rules": [
        {"name": "emergency", "when": {"squawk": ["7700", "7600"]}, "severity": "warning",
         "reason": "squawk {squawk} ({squawk_meaning}) by {callsign} in {where}",
         "protocol": [{"step": "call {track!r} about {squawk}"}]},
        {"name": "low", "when": {"altitude_m": {"min": -100, "max": 100}},
         "severity": "warning", "reason": "{min_altitude_m}/{max_altitude_m:.1f} m "
         "{duration_s:.0f} s, {depth_km:.3f} km, {max_depth_m}"},
    ],
    "variables": {"watch_states": ["RUS"]},
    "otherwise": {"reason": "{cooperation} {category} {icao24} ({registration_state}, "
                            "military {military}, {confidence}) in {zone} {zone_kind}"},
}
FLOATS = [None, 0.0, -0.0, 1.0, 50.0, float("nan")]
VERDICT_ENTRY: dict[str, list[Any]] = {
    "zone": ["EST", "EKYT"], "zone_kind": ["national", "custom"],
    "track": ["4b1a2c", "4B1A2C", "abc"], "exited_at": [1000.0, 1000.5, 1060.0],
    "max_depth_m": [0.0, 0.05, 2500.0], "min_altitude_m": FLOATS, "max_altitude_m": FLOATS,
    "callsign": [None, "SWR1", "DLH2"],
    "squawks": [(), ("7700",), ("1200", "7600"), ("7600", "7700")],
}
VERDICT_CLASS: dict[str, list[Any]] = {
    "cooperative": [True, False], "category": ["jet", "drone"],
    "registration_state": [None, "RUS"], "military": [None, True, False],
    "confidence": [None, 0.5, 0.25],
}


def make_judged(e: dict[str, Any], c: dict[str, Any]) -> tuple[Entry, Classification]:
    entry = Entry(e["zone"], e["zone_kind"], e["track"], 1000.0, True, e["exited_at"],
                  1000.0, e["max_depth_m"], None, None, e["min_altitude_m"],
                  e["max_altitude_m"], 3, callsign=e["callsign"], squawks=e["squawks"])
    return entry, Classification(c["cooperative"], c["category"], c["registration_state"],
                                 c["military"], c["confidence"])


@settings(max_examples=60, deadline=None)
@given(e=picks(VERDICT_ENTRY), c=picks(VERDICT_CLASS))
def test_remembered_verdicts_are_those_rendered_afresh(e: dict[str, Any],
                                                      c: dict[str, Any]) -> None:
    """A policy remembers each verdict under its rules and the facts their templates
    name: a case, then every case one field away from it (-0.0 from 0.0, 1.0 from
    50.0 ...), judged in turn by one policy, each as a fresh policy judges it."""
    remembering = Policy(document=VERDICT_DOCUMENT)
    cases = [(e, c)]
    cases += [({**e, k: v}, c) for k, vs in VERDICT_ENTRY.items() for v in vs]
    cases += [(e, {**c, k: v}) for k, vs in VERDICT_CLASS.items() for v in vs]
    for ev, cv in cases:
        entry, cls_ = make_judged(ev, cv)
        fresh = Policy(document=VERDICT_DOCUMENT)
        assert remembering.judge(entry, cls_) == fresh.judge(entry, cls_), (ev, cv)
