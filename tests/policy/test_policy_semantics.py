"""Each documented rule key and template field of the policy, one at a time, at its edge.

These tests are written against the semantics in ``skyfence/policy.py``'s module
docstring (not against its code): every ``when`` key must reject an entry that breaks it
and accept one exactly at its limit ("at least" means ``>=``), and every template field
must render the value the docstring names. The expected strings below are written out by
hand from the hand-built entries, with the arithmetic next to them. They were added to
kill mutants that survived ``make mutate`` (``python scripts/mutate.py policy``).
"""

from __future__ import annotations

from typing import Any

import pytest

from skyfence.model import Classification, Entry
from skyfence.policy import Policy
from skyfence.vocab import ZoneKind


def entry(track: str = "4B1A2C", zone: str = "EST", kind: ZoneKind = "national", *,
          depth_m: float = 2500.0, entered_at: float = 1000.0, exited_at: float = 1090.5,
          alt: tuple[float | None, float | None] = (3000.0, 3500.0),
          squawks: tuple[str, ...] = (), callsign: str | None = "SWR123") -> Entry:
    """A hand-built entry: duration = exited_at - entered_at (90.5 s by default)."""
    return Entry(zone, kind, track, entered_at, True, exited_at, exited_at, depth_m,
                 (59.8, 26.3), (59.8, 26.0), alt[0], alt[1], 40, callsign=callsign,
                 squawks=squawks)


COOP = Classification(cooperative=True, category="jet", registration_state="CHE",
                      military=False, confidence=0.75)
RADAR = Classification(cooperative=False, category="drone")


def one_rule(when: dict[str, Any], **outcome: Any) -> Policy:
    """A policy with one rule named ``hit`` (severity warning) and the default otherwise."""
    rule = {"name": "hit", "when": when, "severity": "warning", **outcome}
    return Policy(document={"rules": [rule]})


def applies(pol: Policy, e: Entry, cls_: Classification = COOP) -> bool:
    v = pol.judge(e, cls_)
    return v.rules == ("hit",)


# ----------------------------------------------------------------- every key rejects


@pytest.mark.parametrize(("when", "inside", "outside"), [
    # zone names are case-insensitive
    ({"zone": ["est"]}, entry(zone="EST"), entry(zone="LVA")),
    ({"zone_kind": "custom"}, entry(zone="EKYT", kind="custom"), entry()),
    ({"cooperative": True}, entry(), None),
    ({"category": ["jet"]}, entry(), None),
    ({"registration_state": ["CHE"]}, entry(), None),
    ({"military": False}, entry(), None),
    ({"squawk": ["7600"]}, entry(squawks=("7600",)), entry(squawks=("7700",))),
    ({"min_depth_m": 2000}, entry(depth_m=2000.0), entry(depth_m=1999.0)),
    ({"min_duration_s": 30}, entry(exited_at=1030.0), entry(exited_at=1029.9)),
    ({"altitude_m": {"min": 0, "max": 150}}, entry(alt=(100.0, 120.0)),
     entry(alt=(200.0, 400.0))),
])
def test_each_when_key_accepts_its_match_and_rejects_the_rest(
        when: dict[str, Any], inside: Entry, outside: Entry | None) -> None:
    pol = one_rule(when)
    assert applies(pol, inside)
    if outside is not None:
        assert not applies(pol, outside)


@pytest.mark.parametrize(("when", "other"), [
    ({"cooperative": True}, Classification(cooperative=False, category="jet")),
    ({"category": ["jet"]}, Classification(cooperative=True, category="airliner")),
    ({"registration_state": ["CHE"]}, Classification(True, "jet", "RUS")),
    # registration_state: unknown matches a track with no known state, and nothing else
    ({"registration_state": "unknown"}, COOP),
    ({"military": False}, Classification(True, "jet", "CHE", True)),
    ({"military": "unknown"}, COOP),
])
def test_classification_keys_reject_another_classification(
        when: dict[str, Any], other: Classification) -> None:
    assert not applies(one_rule(when), entry(), other)


def test_registration_state_unknown_matches_a_radar_track() -> None:
    assert applies(one_rule({"registration_state": "unknown"}), entry("T0042"), RADAR)
    assert applies(one_rule({"military": "unknown"}), entry("T0042"), RADAR)


# ----------------------------------------------------------------- limits are inclusive


def test_min_depth_and_min_duration_are_at_least() -> None:
    """``min_depth_m: 1000`` = "at least 1000 m in": 1000.0 m matches, 999.99 m does not."""
    depth = one_rule({"min_depth_m": 1000})
    assert applies(depth, entry(depth_m=1000.0))
    assert not applies(depth, entry(depth_m=999.99))
    # duration: exited 1030.0 - entered 1000.0 = 30.0 s exactly
    dur = one_rule({"min_duration_s": 30})
    assert applies(dur, entry(exited_at=1030.0))
    assert not applies(dur, entry(exited_at=1029.99))


@pytest.mark.parametrize(("alt", "band", "overlaps"), [
    # entry altitudes [lo, hi] overlap the band [0, 150] when lo <= 150 and hi >= 0
    ((150.0, 400.0), (0, 150), True),      # touches the band's top
    ((150.01, 400.0), (0, 150), False),
    ((-30.0, 0.0), (0, 150), True),        # touches the band's bottom
    ((-30.0, -0.01), (0, 150), False),
    ((100.0, 400.0), (300, 500), True),    # hi inside, lo below: overlap by hi
    ((100.0, 400.0), (0, 150), True),      # lo inside, hi above: overlap by lo
    ((100.0, None), (0, 150), True),       # one altitude known: [100, 100]
    ((None, 100.0), (0, 150), True),
    ((200.0, None), (0, 150), False),      # [200, 200] is above the band
    ((None, 200.0), (0, 150), False),
    ((None, None), (0, 150), True),        # unknown altitude never clears a target
])
def test_altitude_band_overlap(alt: tuple[float | None, float | None],
                               band: tuple[float, float], overlaps: bool) -> None:
    pol = one_rule({"altitude_m": {"min": band[0], "max": band[1]}})
    assert applies(pol, entry(alt=alt)) is overlaps


# ----------------------------------------------------------------- template fields

ALL_FIELDS = ("{zone}|{zone_kind}|{where}|{track}|{icao24}|{callsign}|{cooperation}|"
              "{category}|{confidence}|{registration_state}|{military}|{squawk}|"
              "{squawk_meaning}|{max_depth_m}|{depth_km}|{duration_s}|{min_altitude_m}|"
              "{max_altitude_m}|{rule}")


def test_every_field_renders_for_a_cooperative_national_entry() -> None:
    pol = one_rule({}, reason=ALL_FIELDS)
    e = entry(squawks=("7600", "7500"))
    (reason,) = pol.judge(e, COOP).reasons
    # depth 2500 m = 2.5 km; duration 1090.5 - 1000.0 = 90.5 s; icao24 is the track, lower
    # case; squawks as seen, joined by ", ", with their ICAO meanings (Annex 10 Vol IV)
    assert reason.split("|") == [
        "EST", "national", "EST airspace", "4B1A2C", "4b1a2c", "SWR123", "cooperative",
        "jet", "0.75", "CHE", "no", "7600, 7500", "radio failure, unlawful interference",
        "2500.0", "2.5", "90.5", "3000.0", "3500.0", "hit"]


def test_unknown_values_render_as_unknown_and_no_squawk_as_none() -> None:
    pol = one_rule({}, reason=ALL_FIELDS)
    e = entry("T0042", "EKYT-5km", "custom", callsign=None, alt=(None, None),
              depth_m=750.0, exited_at=1000.0)
    (reason,) = pol.judge(e, RADAR).reasons
    # a radar track has no icao24; no military database -> "unknown"; 750 m = 0.75 km
    assert reason.split("|") == [
        "EKYT-5km", "custom", "EKYT-5km zone", "T0042", "unknown", "unknown",
        "non-cooperative", "drone", "unknown", "unknown", "unknown", "none", "none",
        "750.0", "0.75", "0.0", "unknown", "unknown", "hit"]


def test_military_renders_yes() -> None:
    pol = one_rule({}, reason="{military}")
    assert pol.judge(entry(), Classification(True, "jet", "RUS", True)).reasons == ("yes",)


def test_squawk_fields_name_only_the_squawks_the_rule_matched() -> None:
    """With a ``squawk`` key, ``{squawk}`` lists the matched codes (sorted), not all seen."""
    pol = one_rule({"squawk": ["7700", "7500"]}, reason="{rule}: {squawk} ({squawk_meaning})",
                   protocol=["report {squawk} for {track}"])
    v = pol.judge(entry(squawks=("7700", "7600", "7500")), COOP)
    assert v.reasons == ("hit: 7500, 7700 (unlawful interference, general emergency)",)
    assert [s.step for s in v.protocol] == ["report 7500, 7700 for 4B1A2C"]


def test_immediate_steps_come_before_the_earliest_escalation() -> None:
    """Steps without ``after_s`` are "now" (0 s): before a step due after 0.5 s."""
    pol = one_rule({}, protocol=[{"step": "call in half a second", "after_s": 0.5},
                                 "act now", {"step": "call in a minute", "after_s": 60}])
    v = pol.judge(entry(), COOP)
    assert [s.to_record() for s in v.protocol] == [
        {"step": "act now", "after_s": None},
        {"step": "call in half a second", "after_s": 0.5},
        {"step": "call in a minute", "after_s": 60.0}]
