"""The incident record, field by field, on hand-built entries (issue 9, item 3).

Every expected value is written out by hand next to the entry it comes from: a time
as a calendar date (checked against ``datetime``), a point as the (lat, lon) of the
hand-built tuple rounded to 6 decimals, a depth rounded to 0.1 m. Nothing is derived
from the module under test. The assessor is checked the same way: an ICAO address
whose block is known from ICAO Annex 10 (4B0000-4B7FFF Switzerland, 100000-1FFFFF
Russia), a radar track whose transponder went dark, a radar track that answers Mode S.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.fusion.correlator import Identity
from skyfence.incidents.assess import Assessor
from skyfence.incidents.record import RECORD_FIELDS, entry_id, iso_time, to_record
from skyfence.model import Classification, Entry
from skyfence.policy import Policy, ProtocolStep, Verdict


def unix(*args: int, us: int = 0) -> float:
    """Unix seconds of a UTC calendar time (the reference for every time below)."""
    return datetime(*args, us, tzinfo=UTC).timestamp()  # type: ignore[arg-type,misc]


#: 2025-09-19 09:58:12.400 UTC, 09:59:30.250 and 10:10:05.125
T_IN = unix(2025, 9, 19, 9, 58, 12, us=400_000)
T_LAST = unix(2025, 9, 19, 10, 10, 0, us=0)
T_OUT = unix(2025, 9, 19, 10, 10, 5, us=125_000)


def entry(**change: Any) -> Entry:
    """A hand-built entry: every field distinct, so a swap shows."""
    base = Entry(
        zone="EST", zone_kind="national", track="R0042", entered_at=T_IN,
        entry_interpolated=True, exited_at=T_OUT, last_inside_at=T_LAST,
        max_depth_m=7345.678, entry_point=(59.8123456789, 26.3456789012),
        exit_point=(59.7000004, 26.1999996), min_altitude_m=10_012.345,
        max_altitude_m=11_987.654, observations=181, callsign="SPARK21",
        squawks=("7700",), max_speed_ms=300.0,
    )
    return replace(base, **change)


VERDICT = Verdict(True, "critical", ("first reason", "second reason"),
                  (ProtocolStep("notify the duty officer"),
                   ProtocolStep("escalate", after_s=120.0)), ("rule a",))
CLS = Classification(cooperative=False, category="jet", registration_state=None,
                     military=None, confidence=0.8123)


# ------------------------------------------------------------------------ times


@pytest.mark.parametrize(("t", "text"), [
    (T_IN, "2025-09-19T09:58:12.400Z"),
    (T_OUT, "2025-09-19T10:10:05.125Z"),
    # half a millisecond rounds; 0.9996 s rolls over into the next second and minute
    (unix(2025, 9, 19, 9, 58, 59, us=999_600), "2025-09-19T09:59:00.000Z"),
    (unix(2025, 9, 19, 9, 58, 12, us=400_400), "2025-09-19T09:58:12.400Z"),
    (unix(2025, 9, 19, 9, 58, 12, us=7_000), "2025-09-19T09:58:12.007Z"),
    # before 1970: the millisecond part still counts forward from the whole second
    (-0.5, "1969-12-31T23:59:59.500Z"),
    (0.0, "1970-01-01T00:00:00.000Z"),
])
def test_iso_time_has_utc_milliseconds(t: float, text: str) -> None:
    assert iso_time(t) == text


def test_iso_time_of_none_is_none() -> None:
    assert iso_time(None) is None


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=253_402_300_799_999))
def test_iso_time_equals_numpy_datetime64_text(ms: int) -> None:
    """Any millisecond from year 1938 to the end of 9999, against numpy's own calendar
    (datetime64 text is ISO 8601 without a zone)."""
    expected = str(np.datetime_as_string(np.datetime64(ms, "ms"), unit="ms")) + "Z"
    assert iso_time(ms / 1000) == expected


# ------------------------------------------------------------------------ ids


def test_entry_id_is_stable_and_differs_when_the_entry_differs() -> None:
    a = entry_id("EST", "R0042", T_IN)
    assert re.fullmatch(r"[0-9a-f]{16}", a)
    assert entry_id("EST", "R0042", T_IN) == a
    # under half a millisecond is the same entry time as the record prints it
    assert entry_id("EST", "R0042", T_IN + 0.0004) == a
    others = {
        entry_id("LVA", "R0042", T_IN),
        entry_id("EST", "R0043", T_IN),
        entry_id("EST", "R0042", T_IN + 0.001),  # one millisecond later
        entry_id("EST", "R0042", T_IN - 0.001),
        entry_id("EST", "R0042", T_IN + 30.0),
        # the separator keeps "A|BC" and "AB|C" apart
        entry_id("ES", "TR0042", T_IN),
    }
    assert a not in others and len(others) == 6


# ------------------------------------------------------------------------ to_record


def test_every_field_of_a_hand_built_entry() -> None:
    rec = to_record(entry(), CLS, VERDICT, went_dark_at=unix(2025, 9, 19, 9, 50, 1))
    assert tuple(rec) == RECORD_FIELDS
    assert rec["id"] == entry_id("EST", "R0042", T_IN)
    assert rec["zone"] == "EST" and rec["zone_kind"] == "national"
    assert rec["track"] == "R0042"
    assert rec["icao24"] is None  # non-cooperative, no address given
    assert rec["callsign"] == "SPARK21"
    assert rec["entered_at"] == "2025-09-19T09:58:12.400Z"
    assert rec["entry_interpolated"] is True
    assert rec["exited_at"] == "2025-09-19T10:10:05.125Z"
    assert rec["last_inside_at"] == "2025-09-19T10:10:00.000Z"
    # 10:10:05.125 - 09:58:12.400 = 11 min 52.725 s
    assert rec["duration_s"] == 712.725
    assert rec["max_depth_m"] == 7345.7
    # (lat, lon) of the tuple: lat 59.8..., lon 26.3..., each to 6 decimals (0.1 m)
    assert rec["entry_point"] == {"lat": 59.812346, "lon": 26.345679}
    assert rec["exit_point"] == {"lat": 59.7, "lon": 26.2}
    assert rec["min_altitude_m"] == 10012.3 and rec["max_altitude_m"] == 11987.7
    assert rec["observations"] == 181
    assert rec["classification"] == {"cooperative": False, "category": "jet",
                                     "registration_state": None, "military": None,
                                     "confidence": 0.812}
    assert rec["violation"] is True and rec["severity"] == "critical"
    assert rec["reasons"] == ["first reason", "second reason"]
    assert rec["protocol"] == [{"step": "notify the duty officer", "after_s": None},
                               {"step": "escalate", "after_s": 120.0}]
    assert rec["went_dark_at"] == "2025-09-19T09:50:01.000Z"
    # JSON-ready: the same object back from its JSON text
    assert json.loads(json.dumps(rec)) == rec


def test_open_entry_and_missing_values() -> None:
    e = entry(exited_at=None, exit_point=None, entry_point=None, entry_interpolated=False,
              min_altitude_m=None, max_altitude_m=None, callsign=None)
    rec = to_record(e, CLS, VERDICT)
    assert rec["exited_at"] is None and rec["exit_point"] is None
    assert rec["entry_point"] is None and rec["entry_interpolated"] is False
    assert rec["min_altitude_m"] is None and rec["max_altitude_m"] is None
    assert rec["callsign"] is None and rec["went_dark_at"] is None
    # open: the duration runs to the last inside fix, 10:10:00.000 - 09:58:12.400
    assert rec["duration_s"] == 707.6


def test_first_and_last_inside_points_are_the_inside_fixes_not_the_crossings() -> None:
    """An interpolated entry has four points, all different: the crossings in and out
    (``entry_point``, ``exit_point``) and the first and last fixes inside. Grouping
    links a lost track by its last inside fix and a new track by its first one, so each
    must come from its own field: (lat, lon) of the hand-built tuples, 6 decimals."""
    e = entry(first_inside_point=(59.8200004, 26.3300006),
              last_inside_point=(59.7100001, 26.2100009))
    rec = to_record(e, CLS, VERDICT)
    assert rec["entry_point"] == {"lat": 59.812346, "lon": 26.345679}
    assert rec["first_inside_point"] == {"lat": 59.82, "lon": 26.330001}
    assert rec["last_inside_point"] == {"lat": 59.71, "lon": 26.210001}
    assert rec["exit_point"] == {"lat": 59.7, "lon": 26.2}
    # an entry at a fix (not interpolated) has no crossing point, but its inside fixes
    at_fix = to_record(replace(e, entry_point=None, entry_interpolated=False), CLS, VERDICT)
    assert at_fix["entry_point"] is None
    assert at_fix["first_inside_point"] == {"lat": 59.82, "lon": 26.330001}


def test_cooperative_track_gives_its_address_lower_case() -> None:
    coop = Classification(cooperative=True, category="airliner", registration_state="CHE")
    rec = to_record(entry(track=" 4B1805 "), coop, VERDICT)
    assert rec["icao24"] == "4b1805"
    assert rec["track"] == " 4B1805 "  # the track id is kept as the input spelled it
    assert rec["classification"]["cooperative"] is True
    assert "confidence" not in rec["classification"]  # unknown confidence is left out
    # an address fusion knows overrides the one derived from the track id
    assert to_record(entry(track="4b1805"), coop, VERDICT, icao24="abcdef")["icao24"] == "abcdef"


#: the fields of the contract's incident record table (shared/contract/README.md,
#: "Incident record out"), in its order
CONTRACT_FIELDS = (
    "id", "zone", "zone_kind", "track", "icao24", "callsign", "entered_at",
    "entry_interpolated", "exited_at", "last_inside_at", "duration_s", "max_depth_m",
    "entry_point", "exit_point", "min_altitude_m", "max_altitude_m", "observations",
    "classification", "violation", "severity", "reasons",
)


def test_record_fields_begin_with_the_contract_fields_in_order() -> None:
    """Extend only by adding: the contract's fields come first, in the contract's order."""
    assert RECORD_FIELDS[: len(CONTRACT_FIELDS)] == CONTRACT_FIELDS
    assert "went_dark_at" in RECORD_FIELDS[len(CONTRACT_FIELDS):]


# ------------------------------------------------------------------------ assessor


def assess(e: Entry, ident: Identity | None = None, **kw: Any) -> dict[str, Any]:
    a = Assessor(Policy(), identity_of=(lambda _e: ident) if ident is not None else None, **kw)
    return dict(a.record(e))


def test_cooperative_entry_is_classified_from_its_address_block() -> None:
    rec = assess(entry(track="4b1805", squawks=()))
    assert rec["icao24"] == "4b1805"
    assert rec["classification"]["cooperative"] is True
    assert rec["classification"]["registration_state"] == "CHE"  # 4B0000-4B7FFF
    assert rec["classification"]["military"] is None  # no aircraft database given
    assert rec["violation"] is False and rec["severity"] == "info"
    assert rec["went_dark_at"] is None


def test_radar_track_is_a_critical_violation_without_an_address() -> None:
    rec = assess(entry(squawks=()))
    assert rec["icao24"] is None
    assert rec["classification"]["cooperative"] is False
    assert rec["classification"]["registration_state"] is None
    assert rec["violation"] is True and rec["severity"] == "critical"
    assert rec["went_dark_at"] is None


def test_radar_track_that_went_dark_carries_the_last_address_and_callsign() -> None:
    dark_at = unix(2025, 9, 19, 9, 55, 0, us=250_000)
    ident = Identity(icao24="154abc", callsign="RSD042", went_dark_at=dark_at, mode_s=False)
    rec = assess(entry(callsign=None, squawks=()), ident,
                 military_db={"154abc": True, "4b1805": False})
    assert rec["track"] == "R0042"
    assert rec["icao24"] == "154abc" and rec["callsign"] == "RSD042"
    assert rec["went_dark_at"] == "2025-09-19T09:55:00.250Z"
    # still judged as what it is now: a target without a transponder
    assert rec["classification"]["cooperative"] is False
    assert rec["classification"]["registration_state"] == "RUS"  # 100000-1FFFFF
    assert rec["classification"]["military"] is True
    assert rec["violation"] is True and rec["severity"] == "critical"
    # a callsign the radar track has itself is kept
    own = assess(entry(callsign="OWN1", squawks=()), ident)
    assert own["callsign"] == "OWN1" and own["icao24"] == "154abc"


def test_identity_that_still_transmits_changes_nothing() -> None:
    ident = Identity(icao24="154abc", callsign="RSD042", went_dark_at=None, mode_s=False)
    rec = assess(entry(callsign=None, squawks=()), ident)
    assert rec["icao24"] is None and rec["callsign"] is None
    assert rec["went_dark_at"] is None
    assert rec["classification"]["registration_state"] is None


def test_radar_track_answering_mode_s_is_cooperative() -> None:
    ident = Identity(icao24="4b1805", callsign=None, went_dark_at=None, mode_s=True)
    rec = assess(entry(callsign=None, squawks=()), ident)
    assert rec["icao24"] == "4b1805"
    assert rec["classification"]["cooperative"] is True
    assert rec["classification"]["registration_state"] == "CHE"
    assert rec["went_dark_at"] is None
    assert rec["violation"] is False


def test_records_of_many_entries_keep_each_entry_its_own_identity() -> None:
    dark_at = unix(2025, 9, 19, 9, 55, 0)
    idents = {"R0001": Identity(icao24="154abc", callsign="RSD042", went_dark_at=dark_at,
                                mode_s=False)}
    a = Assessor(Policy(), identity_of=lambda e: idents.get(e.track))
    es = [entry(track="R0001", callsign=None, squawks=()),
          entry(track="4b1805", callsign=None, squawks=()),
          entry(track="R0002", callsign=None, squawks=())]
    r1, r2, r3 = a.records(es)
    assert (r1["icao24"], r1["went_dark_at"]) == ("154abc", "2025-09-19T09:55:00.000Z")
    assert (r2["icao24"], r2["went_dark_at"]) == ("4b1805", None)
    assert (r3["icao24"], r3["went_dark_at"]) == (None, None)
    assert [r["classification"]["registration_state"] for r in (r1, r2, r3)] == [
        "RUS", "CHE", None]
    assert a.records([]) == []


def test_behaviours_reach_the_policy_through_record_and_records() -> None:
    """A rule on ``approach: true`` applies only when the caller says the entry is one."""
    pol = Policy(document={"rules": [{"name": "approach", "when": {"approach": True},
                                      "violation": True, "severity": "warning"}]})
    a = Assessor(pol)
    e = entry(track="4b1805", squawks=())
    assert (a.record(e)["severity"], a.record(e)["violation"]) == ("info", False)
    assert (a.record(e, ("approach",))["severity"], a.record(e, ("approach",))["violation"]) == (
        "warning", True)
    assert [r["severity"] for r in a.records([e, e], ("approach",))] == ["warning", "warning"]


@pytest.mark.parametrize(("track", "speed_ms", "alt_m", "cooperative"), [
    ("4b1805", 240.0, 11_000.0, True),   # airliner-like, with a transponder
    ("R0042", 240.0, 11_000.0, False),   # the same kinematics without one
    ("R0042", 5.0, 20_000.0, False),     # slow and very high: altitude decides
    ("R0042", 5.0, 100.0, False),
    ("R0042", None, None, False),        # nothing known: unknown, no confidence
])
def test_category_and_confidence_come_from_the_entry_and_its_cooperation(
        track: str, speed_ms: float | None, alt_m: float | None, cooperative: bool) -> None:
    """The reference is the classifier itself, called by hand with the entry's fastest
    speed, highest altitude and cooperation: the assessor must pass exactly those."""
    from skyfence.identify.classify import categorize

    def arr(v: float | None) -> np.ndarray:
        return np.array([np.nan if v is None else v])

    names, conf = categorize(arr(speed_ms), arr(alt_m),
                             cooperative=np.array([1.0 if cooperative else 0.0]))
    e = entry(track=track, squawks=(), max_speed_ms=speed_ms, min_altitude_m=alt_m,
              max_altitude_m=alt_m)
    c = assess(e)["classification"]
    assert c["cooperative"] is cooperative and c["category"] == names[0]
    if names[0] == "unknown":
        assert c.get("confidence") is None
    else:
        assert c["confidence"] == round(float(conf[0]), 3)  # the record keeps 3 decimals


def test_classification_varies_with_each_input() -> None:
    """The cases above differ: cooperation, then altitude, change the category."""
    def cat(track: str, speed: float, alt: float) -> str:
        e = entry(track=track, squawks=(), max_speed_ms=speed, min_altitude_m=alt,
                  max_altitude_m=alt)
        return str(assess(e)["classification"]["category"])
    assert cat("4b1805", 240.0, 11_000.0) != cat("R0042", 240.0, 11_000.0)
    assert cat("R0042", 5.0, 20_000.0) != cat("R0042", 5.0, 100.0)


def test_times_are_utc_whatever_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kathmandu is UTC+05:45: a local-time rendering would show 15:43, not 09:58."""
    monkeypatch.setenv("TZ", "Asia/Kathmandu")
    time.tzset()
    try:
        assert iso_time(T_IN) == "2025-09-19T09:58:12.400Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_duration_keeps_milliseconds_like_the_times() -> None:
    """Exit 90.12345 s after entry: the record says 90.123 s."""
    rec = to_record(entry(exited_at=T_IN + 90.12345), CLS, VERDICT)
    assert rec["duration_s"] == 90.123


_COORD = st.floats(-90.0, 90.0) | st.integers(-90_000_000, 90_000_000).map(
    lambda k: k / 1e6 + 5e-7)  # halfway at the 6th decimal, as text
_MEASURE = st.none() | st.floats(-500.0, 20_000.0) | st.integers(0, 200_000).map(
    lambda k: k / 20.0)  # x.x5: halfway at the 1st decimal


@st.composite
def _entries(draw: st.DrawFn) -> Entry:
    pt = st.none() | st.tuples(_COORD, _COORD.map(lambda v: 2 * v))
    t0 = draw(st.floats(1.6e9, 1.8e9))
    return entry(
        track=draw(st.sampled_from(["R0042", "4b1805", "48AE21", "  3c6444 "])),
        entered_at=t0, exited_at=draw(st.none() | st.floats(0.0, 1e5).map(lambda d: t0 + d)),
        last_inside_at=t0 + draw(st.floats(0.0, 1e5)),
        max_depth_m=draw(st.floats(0.0, 1e6) | st.integers(0, 10**6).map(lambda k: k / 20.0)),
        entry_point=draw(pt), exit_point=draw(pt), first_inside_point=draw(pt),
        last_inside_point=draw(pt), min_altitude_m=draw(_MEASURE),
        max_altitude_m=draw(_MEASURE))


@settings(max_examples=60, deadline=None)
@given(st.lists(_entries(), min_size=1, max_size=40))
def test_records_made_together_equal_records_made_one_by_one(entries: list[Entry]) -> None:
    """A batch's numbers are rounded all at once (numpy), one entry's one by one
    (Python's ``round``): the JSON of each record is the same text either way, and each
    point is its tuple rounded to 6 decimals by ``round`` (the reference)."""
    assessor = Assessor()
    together = assessor.records(entries)
    alone = [assessor.record(e) for e in entries]
    assert [json.dumps(r) for r in together] == [json.dumps(r) for r in alone]
    for e, r in zip(entries, together, strict=True):
        p = e.entry_point
        assert r["entry_point"] == (None if p is None else
                                    {"lat": round(p[0], 6), "lon": round(p[1], 6)})
