"""The correlator's rules one by one, on tracks whose answers follow from the rule text.

Each scenario is drawn so the expected answer is read off the geometry and the rules in
``skyfence.fusion.correlator``'s docstring, never taken from a run of the code:

- radar and ADS-B on the same parallel at the same times are 0 m apart; on two
  parallels ``dlat`` apart at the same longitude they are, on the correlator's sphere
  (mean radius R = 6 371 008.8 m), a chord of ``2 R sin(dlat / 2)`` apart;
- a fix matches a transponder when the mean distance over the track's common fixes is
  below ``gate_m`` and the fix itself has a common time (within the transponder's span
  ± ``margin_s``); a track whose transponder fell silent more than ``margin_s`` ago
  went dark at that transponder's last message.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from skyfence.fusion.correlator import (
    Correlator,
    FusionConfig,
    Identity,
    _forgotten_last,
    is_transponder_id,
)
from skyfence.model import make_observations

R_M = 6_371_008.8
#: degrees of longitude per second at 200 m/s along 59 N on that sphere:
#: 200 / (R cos 59°) rad/s
DEG_PER_S = np.degrees(200.0 / (R_M * np.cos(np.radians(59.0))))


def parallel(track: str, t: np.ndarray | list[float], lat: float = 59.0, t_lon0: float = 0.0,
             **extra: object) -> pd.DataFrame:
    """Positions eastbound along the parallel ``lat`` at 200 m/s from lon 25 at
    ``t_lon0``: two of these at the same time have the same longitude."""
    t = np.asarray(t, dtype=float)
    return make_observations(time=t, icao24=[track] * t.size, lat=np.full(t.size, lat),
                             lon=25.0 + DEG_PER_S * (t - t_lon0), **extra)


def stream(c: Correlator, radar: pd.DataFrame, adsb: pd.DataFrame,
           step_s: float = 4.0) -> pd.DataFrame:
    """Both fed in ``step_s`` batches, then closed: every fix released as not the
    transponder aircraft."""
    t0 = min(radar["time"].min(), adsb["time"].min() if len(adsb) else np.inf)
    t1 = max(radar["time"].max(), adsb["time"].max() if len(adsb) else -np.inf)
    out = []
    for lo in np.arange(t0, t1 + step_s, step_s):
        c.add_transponder(adsb[(adsb["time"] >= lo) & (adsb["time"] < lo + step_s)])
        c.add_radar(radar[(radar["time"] >= lo) & (radar["time"] < lo + step_s)])
        c.advance(lo + step_s)
        out.append(c.release())
    out.append(c.release(final=True))
    return pd.concat(out, ignore_index=True)


def live(icao: str, callsign: str | None = None) -> Identity:
    return Identity(icao24=icao, callsign=callsign, went_dark_at=None, mode_s=False)


# ------------------------------------------------------------------ identities over time

def test_identity_at_reads_the_last_change_at_or_before() -> None:
    c = Correlator()
    a, dark = live("4b1812"), Identity(icao24="4b1812", callsign=None, went_dark_at=15.0,
                                       mode_s=False)
    c.history["R1"] = [(10.0, a), (20.0, dark), (30.0, None)]
    assert c.identity_at("R1", 9.999) is None  # before the first change
    assert c.identity_at("R1", 10.0) == a  # a change counts from its own time on
    assert c.identity_at("R1", 19.999) == a
    assert c.identity_at("R1", 20.0) == dark
    assert c.identity_at("R1", 29.0) == dark
    assert c.identity_at("R1", 30.0) is None
    assert c.identity_at("R2", 20.0) is None  # a track never matched
    c.history["R2"] = [(5.0, a)]
    assert c.identity_at("R2", 5.0) == a and c.identity_at("R1", 25.0) == dark
    assert c.identity_at("R2", 4.9) is None  # before its only change (a live identity)


def test_a_track_matched_throughout_changes_identity_once() -> None:
    # radar 2 s after each ADS-B message, on the same parallel: 0 m apart once the
    # ADS-B position is interpolated; every fix is the aircraft, the first included
    t = np.arange(0.0, 300.0, 4.0)
    adsb = parallel("4b1812", t, callsign=["FIN7"] * t.size)
    radar = parallel("R1", t + 2.0)
    c = Correlator()
    assert len(stream(c, radar, adsb)) == 0
    assert c.history == {"R1": [(2.0, live("4b1812", "FIN7"))]}
    assert c.identities == {"R1": live("4b1812", "FIN7")}
    assert c.cooperative_fixes == len(radar) and c.released_fixes == 0


def test_a_track_that_leaves_a_transponder_that_goes_on_loses_its_identity() -> None:
    # Two radar tracks follow 4b1812 to t = 200 s. Then R1 keeps 59 N while the
    # aircraft turns onto 59.2 N (22 km north: 2 R sin(0.1°) = 22.2 km, far beyond the
    # gate); R2 follows it. R1's fixes after the turn are not the aircraft, and as
    # 4b1812 still transmits it is not R1 gone dark either: R1 loses its identity. R2
    # keeps it, and nothing is written for R2 but its first match.
    t = np.arange(0.0, 400.0, 4.0)
    lat = np.where(t < 200.0, 59.0, 59.2)
    adsb = make_observations(time=t, icao24=["4b1812"] * t.size, lat=lat,
                             lon=25.0 + DEG_PER_S * t)
    r2 = make_observations(time=t + 1.0, icao24=["R2"] * t.size,
                           lat=np.where(t + 1.0 < 200.0, 59.0, 59.2),
                           lon=25.0 + DEG_PER_S * (t + 1.0))
    radar = pd.concat([parallel("R1", t + 1.0), r2], ignore_index=True)
    c = Correlator()
    kept = stream(c, radar, adsb)
    assert set(kept["icao24"]) == {"R1"}
    assert kept["time"].min() > 200.0
    assert c.identities == {"R2": live("4b1812")}
    assert c.history["R2"] == [(1.0, live("4b1812"))]
    (t_a, a), (t_lost, lost) = c.history["R1"]
    assert (t_a, a) == (1.0, live("4b1812")) and lost is None
    assert t_lost == kept["time"].min()  # lost at its first fix not matched
    assert c.identity_at("R1", t_lost - 0.5) == live("4b1812")
    assert c.identity_at("R1", t_lost) is None


@pytest.mark.parametrize("step_s", [4.0, 1000.0])
def test_went_dark_at_the_last_message_before_a_gap_then_matched_again(step_s: float) -> None:
    # 4b1812 transmits every 4 s at 0..300 s and 500..700 s, on the radar track's
    # parallel; twenty other aircraft, far away (lat 50), were heard first, so it is
    # not the first transponder the correlator knows. Radar fixes at 1 + 4k s.
    # - 301, 305, 309 are within the 10 s margin after the last message (300): matched.
    # - 313 is the first fix with no common time: the track went dark at 300.
    # - 493 and 497 lie within the margin before 500, but the track is established
    #   (fixes in its window for more than the hold), so they are decided at once with
    #   the data up to their own time, when nothing had been heard since 300: not
    #   matched. 501 has the message at 500 before it: matched again, a live identity.
    # The same, whether the data come in 4 s batches or all at once (then the messages
    # after the gap are known when the fixes in the gap are decided).
    others: pd.DataFrame = pd.concat([parallel(f"{k:06x}", [0.0, 4.0], lat=50.0)
                        for k in range(0x400001, 0x400015)], ignore_index=True)
    t_tx = np.concatenate([np.arange(0.0, 301.0, 4.0), np.arange(500.0, 701.0, 4.0)])
    adsb = pd.concat([others, parallel("4b1812", t_tx)], ignore_index=True)
    radar = parallel("R1", np.arange(1.0, 700.0, 4.0))
    c = Correlator()
    kept = stream(c, radar, adsb, step_s=step_s)
    dark = Identity(icao24="4b1812", callsign=None, went_dark_at=300.0, mode_s=False)
    assert c.history["R1"] == [(1.0, live("4b1812")), (313.0, dark), (501.0, live("4b1812"))]
    assert kept["time"].tolist() == np.arange(313.0, 498.0, 4.0).tolist()


def test_went_dark_at_the_last_message_even_when_it_is_long_forgotten() -> None:
    # 4b1812 transmits every 4 s at 0..300 s on the radar track's parallel; the radar
    # track R1 is matched at 1..297, then the radar loses it (no fix) until 601. By
    # then the messages of 0..300 are forgotten (older than the window, the longest
    # hold and the margin), so the last one kept before 601 is none; the transponder
    # was still last heard at 300, which is when it fell silent, not the last matched
    # radar fix (297). By hand: 300 is the last message time written above.
    t_tx = np.arange(0.0, 301.0, 4.0)
    adsb = parallel("4b1812", t_tx)
    radar = parallel("R1", np.concatenate([np.arange(1.0, 298.0, 4.0),
                                           np.arange(601.0, 700.0, 4.0)]))
    c = Correlator()
    stream(c, radar, adsb)
    assert c.history["R1"][-1] == (601.0, Identity(icao24="4b1812", callsign=None,
                                                   went_dark_at=300.0, mode_s=False))


def test_the_identity_carries_the_last_callsign_heard() -> None:
    # callsigns padded, then a blank and a missing one (which say nothing), then a
    # message that arrives late (t = 100 s, after the one at 200 s) with another
    # callsign: the last one heard in time order, "FIN7", is the one named
    t = np.arange(0.0, 201.0, 4.0)
    calls = np.array(["FIN1  "] * t.size, dtype=object)
    calls[t >= 100.0] = " FIN7 "
    calls[-2], calls[-1] = "   ", None
    adsb = parallel("4b1812", t, callsign=calls)
    late = parallel("4b1812", [100.0], callsign=["LATE"])
    radar = parallel("R1", np.arange(1.0, 200.0, 4.0))
    c = Correlator()
    c.add_transponder(adsb)
    c.add_transponder(late)
    c.add_radar(radar)
    assert len(c.release(final=True)) == 0
    assert c.identities == {"R1": live("4b1812", "FIN7")}


def test_a_callsign_heard_later_at_the_same_time_is_the_last_one() -> None:
    # a second message stamped with the time of the last one (200 s), heard after it:
    # not older, so its callsign is the last heard
    t = np.arange(0.0, 201.0, 4.0)
    c = Correlator()
    c.add_transponder(parallel("4b1812", t, callsign=["FIN1"] * t.size))
    c.add_transponder(parallel("4b1812", [200.0], callsign=["FIN7"]))
    c.add_radar(parallel("R1", np.arange(1.0, 200.0, 4.0)))
    assert len(c.release(final=True)) == 0
    assert c.identities == {"R1": live("4b1812", "FIN7")}


# ------------------------------------------------------------------ common times

def test_a_fix_before_its_transponder_s_span_is_not_matched_by_later_fixes() -> None:
    # ADS-B from 100 s; a new radar track on the same line from 85 s, one fix every
    # 2 s. With a 5 s margin the fixes before 95 s have no common time of their own,
    # whatever the fixes after them (within the 20 s hold they wait, being young)
    # share: they are not the aircraft. The fix at 95 s is at the margin (the first
    # message's position, 1 km ahead: within the 1.5 km gate) and every later one lies
    # on the line: all matched.
    adsb = parallel("4b1812", np.arange(100.0, 301.0, 5.0))
    radar = parallel("R1", np.arange(85.0, 300.0, 2.0))
    c = Correlator(FusionConfig(margin_s=5.0, hold_s=20.0))
    kept = stream(c, radar, adsb)
    assert kept["time"].tolist() == [85.0, 87.0, 89.0, 91.0, 93.0]


def test_a_young_track_is_the_aircraft_up_to_the_margin_after_its_last_message() -> None:
    # 4b1812 transmits every 5 s up to 595 s; a new radar track on its line from 593 s,
    # one fix every 2 s. Its fixes up to 605 s lie within the 10 s margin after the last
    # message: their common position is the one at 595 s, 200 m/s x (t - 595 s) behind
    # them, 0 to 2 km, a mean of at most 1 km over the window: within the 1.5 km gate,
    # they are the aircraft. From 607 s none has a common time. Being young, each waits
    # the 8 s hold, when the fixes after it have no common time: that must not undo
    # its own.
    adsb = parallel("4b1812", np.arange(0.0, 596.0, 5.0))
    radar = parallel("R1", np.arange(593.0, 700.0, 2.0))
    c = Correlator()
    kept = stream(c, radar, adsb)
    assert kept["time"].tolist() == np.arange(607.0, 700.0, 2.0).tolist()
    dark = Identity(icao24="4b1812", callsign=None, went_dark_at=595.0, mode_s=False)
    assert c.history["R1"] == [(593.0, live("4b1812")), (607.0, dark)]


def test_an_established_track_is_decided_with_the_data_up_to_its_fix() -> None:
    # The same line, the radar track from 61 s: by 95 s it has fixes older than the
    # 20 s hold, so each fix is decided at once with the data up to its own time. The
    # fixes up to 99 s come before the first message (100 s): nothing was near, they
    # are not the aircraft, although 95-99 s lie within the margin of it.
    adsb = parallel("4b1812", np.arange(100.0, 301.0, 5.0))
    radar = parallel("R1", np.arange(61.0, 300.0, 2.0))
    c = Correlator(FusionConfig(margin_s=5.0, hold_s=20.0))
    kept = stream(c, radar, adsb)
    assert kept["time"].tolist() == np.arange(61.0, 100.0, 2.0).tolist()


# ------------------------------------------------------------------ Mode S and contradictions

@pytest.mark.parametrize("reply", ["FFFFFF", "000000", "T0042", "4b181", "", None, 4_921_362])
def test_a_mode_s_reply_that_is_no_address_names_nothing(reply: object) -> None:
    t = np.arange(0.0, 100.0, 4.0)
    radar = parallel("R1", t)
    radar["mode_s"] = pd.Series([reply] * t.size, dtype=object)
    c = Correlator()
    kept = stream(c, radar, radar.iloc[0:0])
    assert len(kept) == len(radar) and c.identities == {} and c.history == {}


def test_a_mode_s_reply_names_its_address_trimmed_in_lower_case() -> None:
    t = np.arange(0.0, 100.0, 4.0)
    radar = parallel("R1", t)
    radar["mode_s"] = " 4B18AF "
    c = Correlator()
    stream(c, radar, radar.iloc[0:0])
    assert c.identities == {"R1": Identity(icao24="4b18af", callsign=None, went_dark_at=None,
                                           mode_s=True)}


def test_transponder_ids_are_six_hex_digits_not_numbers() -> None:
    # a radar track number read as an integer is not an address, even one whose digits
    # would spell six hex digits
    ids = ["4b1812", " 3C6444 ", "R0001", None, 123456, "ffffff"]
    got = is_transponder_id(np.array(ids, dtype=object))
    assert got.dtype == bool and got.tolist() == [True, True, False, False, False, False]


def _contradicting(dlat: float) -> tuple[Correlator, list[logging.LogRecord]]:
    """Radar on 59 N whose Mode S replies name 4b1812, whose ADS-B (same times, same
    longitudes) is ``dlat`` degrees north."""
    t = np.arange(0.0, 200.0, 4.0)
    adsb = parallel("4b1812", t, lat=59.0 + dlat)
    radar = parallel("R1", t)
    radar["mode_s"] = "4b1812"
    c = Correlator()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("skyfence.fusion.correlator")
    keep = Keep(logging.WARNING)
    logger.addHandler(keep)
    try:
        stream(c, radar, adsb)
    finally:
        logger.removeHandler(keep)
    return c, records


def test_mode_s_replies_near_their_adsb_but_beyond_the_gate_contradict_nothing() -> None:
    # 0.03° is 2 R sin(0.015°) = 3336 m: beyond the 1.5 km gate (not matched) and
    # within the 5 km contradiction distance
    c, records = _contradicting(0.03)
    assert c.cooperative_fixes == 0 and c.contradictions == {} and records == []
    assert c.contradiction("4b1812", 0.0, 200.0) is None


def test_mode_s_replies_far_from_their_adsb_are_noted_with_their_distance() -> None:
    # 0.06° north: 2 R sin(0.03°) = 6671.7 m at every fix, beyond 5 km
    chord = 2 * R_M * np.sin(np.radians(0.03))
    c, records = _contradicting(0.06)
    noted = c.contradictions["4b1812"]
    assert [t for t, _ in noted] == np.arange(0.0, 200.0, 4.0).tolist()
    assert [d for _, d in noted] == pytest.approx([chord] * len(noted), abs=1e-3)
    assert [r.getMessage() for r in records] == [
        f"radar contradicts the ADS-B position of {n} fix(es)"
        for n in [r.args[0] for r in records]]  # type: ignore[index]
    assert sum(r.args[0] for r in records) == len(noted)  # type: ignore[index,misc]
    assert c.contradiction("4B1812 ", 0.0, 200.0) == (
        "ADS-B position contradicted by radar: 50 radar fixes with its Mode S address "
        "up to 6.7 km away")


def test_a_contradiction_names_the_fixes_within_the_window_around_the_entry() -> None:
    # window_s = 60: fixes from start - 60 to end + 60 (both included) count
    c = Correlator()
    c.contradictions["4b1812"] = [(39.9, 9000.0), (40.0, 7452.0), (300.0, 6000.0),
                                  (300.1, 9000.0)]
    # 7452 m is 7.452 km: "7.5" at one decimal
    assert c.contradiction("4b1812", 100.0, 240.0) == (
        "ADS-B position contradicted by radar: 2 radar fixes with its Mode S address "
        "up to 7.5 km away")
    assert c.contradiction("4b1812", 100.0, 100.0) == (
        "ADS-B position contradicted by radar: 1 radar fix with its Mode S address "
        "up to 7.5 km away")
    assert c.contradiction("4b1812", 360.0, 400.0) == (
        "ADS-B position contradicted by radar: 2 radar fixes with its Mode S address "
        "up to 9.0 km away")
    assert c.contradiction("4b1812", 361.0, 400.0) is None
    assert c.contradiction("3c6444", 0.0, 400.0) is None


@pytest.mark.parametrize("heard_first", [True, False])
def test_a_single_adsb_message_is_compared_with_the_fixes_within_the_margin(
        heard_first: bool) -> None:
    # a radar track standing at 59 N 25 E, its Mode S replies naming 4b1812, whose only
    # ADS-B message (t = 100 s) puts it 0.06° north: 2 R sin(0.03°) = 6671.7 m away.
    # The fixes within the 10 s margin of that message (90..110 s, both ends included)
    # contradict it; those at 88 and 112 s have no common time with it. Another
    # aircraft, far away, is heard before or after 4b1812 (its messages are kept beside
    # 4b1812's, before or after).
    t = np.array([88.0, 90.0, 92.0, 96.0, 100.0, 104.0, 108.0, 110.0, 112.0])
    radar = make_observations(time=t, icao24=["R1"] * t.size, lat=np.full(t.size, 59.0),
                              lon=np.full(t.size, 25.0))
    radar["mode_s"] = "4b1812"
    adsb = make_observations(time=[100.0], icao24=["4b1812"], lat=[59.06], lon=[25.0])
    other = parallel("3c6444", [90.0, 95.0, 100.0, 105.0, 110.0], lat=40.0)
    c = Correlator()
    for obs in ((adsb, other) if heard_first else (other, adsb)):
        c.add_transponder(obs)
    c.add_radar(radar)
    assert len(c.release(final=True)) == len(radar)
    chord = 2 * R_M * np.sin(np.radians(0.03))
    noted = c.contradictions["4b1812"]
    assert [t for t, _ in noted] == [90.0, 92.0, 96.0, 100.0, 104.0, 108.0, 110.0]
    assert [d for _, d in noted] == pytest.approx([chord] * 7, abs=1e-3)
    assert list(c.contradictions) == ["4b1812"]


@pytest.mark.parametrize("every_s", [10.0, 0.5])
def test_the_adsb_position_between_two_messages_is_interpolated_in_time(
        every_s: float) -> None:
    # 4b1812's ADS-B moves north along 25 E from 59.06° at 100 s to 59.08° at 110 s,
    # 0.002°/s, a message every ``every_s``; the radar track stands at 59 N 25 E (fixes
    # at 101.25, 105.25, 109.25 s, between messages), its Mode S replies naming 4b1812.
    # At t the ADS-B position is 0.06 + 0.002 (t - 100) degrees north, 2 R sin(dlat / 2)
    # away (the interpolation is along the chord between two messages, 0.1 m inside the
    # arc at most: R (1 - cos 0.01°))
    t = np.array([101.25, 105.25, 109.25])
    radar = make_observations(time=t, icao24=["R1"] * 3, lat=np.full(3, 59.0),
                              lon=np.full(3, 25.0))
    radar["mode_s"] = "4b1812"
    t_tx = np.arange(100.0, 110.0 + every_s / 2, every_s)
    adsb = make_observations(time=t_tx, icao24=["4b1812"] * t_tx.size,
                             lat=59.06 + 0.002 * (t_tx - 100.0), lon=np.full(t_tx.size, 25.0))
    c = Correlator()
    c.add_transponder(adsb)
    c.add_radar(radar)
    assert len(c.release(final=True)) == 3
    dlat = np.radians(0.06 + 0.002 * (t - 100.0))
    noted = c.contradictions["4b1812"]
    assert [t for t, _ in noted] == t.tolist()
    assert [d for _, d in noted] == pytest.approx((2 * R_M * np.sin(dlat / 2)).tolist(),
                                                  abs=0.2)


def test_mode_s_replies_naming_an_aircraft_heard_long_ago_contradict_nothing() -> None:
    # 4b1812 was heard once at 0 s; its message is forgotten long before the radar
    # fixes of 1000-1100 s whose Mode S replies name it: nothing to compare them with
    radar = parallel("R1", np.arange(1000.0, 1101.0, 4.0))
    radar["mode_s"] = "4b1812"
    adsb = parallel("4b1812", [0.0], lat=50.0)
    c = Correlator()
    kept = stream(c, radar, adsb)
    assert len(kept) == len(radar) and c.contradictions == {}
    assert c.identities == {"R1": Identity(icao24="4b1812", callsign=None, went_dark_at=None,
                                           mode_s=True)}


@pytest.mark.parametrize(("chord_m", "matched"), [(1499.5, True), (1500.5, False)])
def test_at_the_longest_hold_one_common_fix_decides_by_the_gate(chord_m: float,
                                                                matched: bool) -> None:
    # A radar track standing at 59 N 25 E (fixes at 90, 96 and 140 s) and one ADS-B
    # message at 100 s, ``chord_m`` north of it (dlat = 2 asin(chord / 2R)). The first
    # fix (90 s, the plot the track started from) waits the 8 s hold, by when nothing
    # was heard: not the aircraft. The fix at 96 s is within the 10 s margin of the
    # message and the only common fix that counts (the first does not), short of the
    # two of ``min_common``: it waits the longest hold, when one is enough. The gate is
    # strict, on the mean distance (here that one chord): 1499.5 m is the aircraft,
    # 1500.5 m is not. The fix at 140 s has no common time.
    dlat = np.degrees(2 * np.arcsin(chord_m / (2 * R_M)))
    t = np.array([90.0, 96.0, 140.0])
    radar = make_observations(time=t, icao24=["R1"] * 3, lat=np.full(3, 59.0),
                              lon=np.full(3, 25.0))
    adsb = make_observations(time=[100.0], icao24=["4b1812"], lat=[59.0 + dlat], lon=[25.0])
    c = Correlator()
    kept = stream(c, radar, adsb)
    assert kept["time"].tolist() == ([90.0, 140.0] if matched else [90.0, 96.0, 140.0])
    assert c.matches == ({("R1", "4b1812"): 1} if matched else {})


def test_a_transponder_heard_at_the_time_of_the_fix_still_transmits() -> None:
    # 4b1812 every 12 s, on 59 N until 192 s, on 59.2 N (22.2 km north) from 204 s; the
    # radar track every 4 s keeps 59 N. At 196 and 200 s its ADS-B position,
    # interpolated between 192 and 204 s, is 7.4 and 14.8 km away; with the 14 fixes
    # before them (0 m) the window's mean (22.2 km / 16 fixes = 1.4 km) stays below the
    # 1.5 km gate. At 204 s (22.2 km) it is 44.4 / 16 = 2.8 km: not the aircraft. Its message
    # at 204 s, the fix's own time, is its last one: 0 s old, within the 10 s margin
    # (the one before is 12 s old), so the track did not go dark: it loses its identity.
    t = np.arange(0.0, 400.0, 12.0)
    adsb = make_observations(time=t, icao24=["4b1812"] * t.size,
                             lat=np.where(t < 200.0, 59.0, 59.2), lon=25.0 + DEG_PER_S * t)
    c = Correlator()
    kept = stream(c, parallel("R1", np.arange(0.0, 400.0, 4.0)), adsb)
    assert kept["time"].min() == 204.0
    assert c.history["R1"] == [(0.0, live("4b1812")), (204.0, None)]


def test_the_plot_a_track_starts_from_is_no_evidence() -> None:
    # a radar track on 4b1812's line every 4 s from 1 s, but its first fix (the raw plot
    # the tracker started it from) 20 km north of it. The plot itself is not the
    # aircraft: no ADS-B message lies within reach of it (3 x 1.5 km + 400 m/s x 10 s =
    # 8.5 km) by the end of its hold. It is left out of every mean, so the fixes after
    # it are the aircraft. Counted, it would lift the mean of a 30 s window (9 fixes)
    # to 20 / 9 = 2.2 km, beyond the 1.5 km gate.
    adsb = parallel("4b1812", np.arange(0.0, 200.0, 5.0))
    radar = parallel("R1", np.arange(1.0, 200.0, 4.0))
    radar.loc[0, "lat"] = 59.0 + np.degrees(20_000.0 / R_M)
    # the plot comes twice (the second is dropped as a duplicate: the same plot)
    radar = pd.concat([radar.iloc[:1], radar], ignore_index=True)
    c = Correlator()
    assert stream(c, radar, adsb)["time"].tolist() == [1.0]
    assert c.matches == {("R1", "4b1812"): radar["time"].nunique() - 1}


def test_a_fix_at_the_time_of_the_last_or_older_is_dropped() -> None:
    # No transponder: every radar fix is released, in time order per track, but a fix
    # of a track at a time it already has (a duplicate: the first one in the batch
    # stays), also one in a later batch, or older than its last (late) is dropped, as
    # the detector drops it.
    # R2 comes second in the batch, its duplicate at 20 s (not its first time).
    first = make_observations(
        time=[10.0, 20.0, 10.0, 20.0, 20.0, 30.0],
        icao24=["R1", "R1", "R2", "R2", "R2", "R2"],
        lat=[59.0, 59.0, 58.0, 58.1, 58.2, 58.3], lon=[25.0] * 6)
    late = make_observations(time=[25.0, 35.0, 20.0, 25.0], icao24=["R2", "R2", "R1", "R1"],
                             lat=[57.0, 58.4, 57.0, 59.0], lon=[25.0] * 4)
    c = Correlator()
    c.add_radar(first)
    c.advance(30.0)
    out = [c.release()]
    c.add_radar(late)
    c.advance(35.0)
    out.append(c.release(final=True))
    kept = pd.concat(out, ignore_index=True)
    got = sorted(zip(kept["icao24"], kept["time"], kept["lat"], strict=True))
    assert got == [("R1", 10.0, 59.0), ("R1", 20.0, 59.0), ("R1", 25.0, 59.0),
                   ("R2", 10.0, 58.0), ("R2", 20.0, 58.1), ("R2", 30.0, 58.3),
                   ("R2", 35.0, 58.4)]


def test_old_transponder_messages_are_forgotten() -> None:
    # An hour of one message a second: the correlator keeps only what its decisions can
    # still need, the last window + longest hold + margin (60 + 30 + 10 = 100 s) before
    # the latest data, and the batch just read (4 s)
    t = np.arange(0.0, 3600.0, 1.0)
    c = Correlator()
    stream(c, parallel("R1", t[::4] + 0.5, lat=50.0), parallel("4b1812", t))
    assert len(c._tx.t) <= 105  # the kept messages (private: how much is kept is the point)


def test_columns_that_come_and_go_between_batches_are_kept_per_fix() -> None:
    # radar states with a ``mode_s`` column in the first batch only and a ``track_no``
    # column in the second only (no transponder: every fix is released): each fix keeps
    # its own values, None where its batch had no such column
    first = parallel("R1", [0.0, 4.0])
    first["mode_s"] = [None, None]
    second = parallel("R1", [8.0, 12.0])
    second["track_no"] = [7, 7]
    c = Correlator()
    c.add_radar(first)
    c.add_radar(second)
    kept = c.release(final=True)
    assert kept["time"].tolist() == [0.0, 4.0, 8.0, 12.0]
    assert kept["mode_s"].tolist() == [None] * 4
    assert kept["track_no"].tolist() == [None, None, 7, 7]


# ------------------------------------------------------------------ eleventh session:
# the reach of a candidate, the end of a hold, the order fixes leave in, the edge of
# what is kept


def standing(track: str, t: list[float], dlat: float = 0.0) -> pd.DataFrame:
    """A target standing at 59 N 25 E (``dlat`` degrees north of it) at times ``t``."""
    n = len(t)
    return make_observations(time=t, icao24=[track] * n, lat=np.full(n, 59.0 + dlat),
                             lon=np.full(n, 25.0))


@pytest.mark.parametrize(("chord_m", "held"), [(8400.0, True), (8600.0, False)])
def test_a_transponder_within_reach_holds_a_young_fix_to_the_longest_hold(
        chord_m: float, held: bool) -> None:
    # A radar track standing at 59 N 25 E, one fix every 12 s (0, 12, 24 s), and one
    # ADS-B message at 12 s, ``chord_m`` north (dlat = 2 asin(chord / 2R)). The reach
    # of a candidate is 3 x 1.5 km + 400 m/s x 10 s = 8.5 km: at 8.4 km the message is
    # a candidate of the fix at 12 s, which shares only itself with it (the fix at 0 s
    # is 12 s from the message, beyond the 10 s margin, and the plot the track started
    # from anyway): one common fix, short of min_common = 2, so it waits the longest
    # hold (30 s) and is released at 42 s, not the aircraft (8.4 km is beyond the gate).
    # At 8.6 km nothing is within reach: released at the 8 s hold, at 20 s. The fix at
    # 0 s has no message within the margin by its hold's end (8 s): released at 8 s.
    dlat = float(np.degrees(2 * np.arcsin(chord_m / (2 * R_M))))
    c = Correlator()
    c.add_transponder(standing("4b1812", [12.0], dlat))
    c.add_radar(standing("R1", [0.0, 12.0, 24.0]))
    c.advance(20.0)
    assert c.release()["time"].tolist() == ([0.0] if held else [0.0, 12.0])
    c.advance(42.0)
    assert c.release()["time"].tolist() == ([12.0] if held else [24.0])
    assert c.release(final=True)["time"].tolist() == ([24.0] if held else [])
    assert c.identities == {}


def test_a_message_at_the_end_of_a_hold_is_evidence_at_that_hold() -> None:
    # A radar track standing at 59 N 25 E every 4 s from 0 s, and 4b1812 at the same
    # place every 4 s from 12 s. The fix at 4 s is young and decided at its 8 s hold,
    # with the data up to 4 + 8 = 12 s: they include the message at 12 s, so the fixes
    # at 4, 8 and 12 s lie within the 10 s margin before the first message (0 m away):
    # three common fixes, the aircraft. The fix at 0 s (12 s before the message) has
    # nothing within the margin by its hold's end (8 s): not the aircraft. At 12 s the
    # fix at 8 s still waits its hold, so only 0 s is released and only 4 s is dropped
    # as the aircraft (the fix at 12 s, decided at once, waits for 8 s).
    c = Correlator()
    c.add_transponder(standing("4b1812", list(np.arange(12.0, 41.0, 4.0))))
    c.add_radar(standing("R1", list(np.arange(0.0, 41.0, 4.0))))
    c.advance(12.0)
    assert c.release()["time"].tolist() == [0.0]
    assert c.cooperative_fixes == 1
    assert c.history == {"R1": [(4.0, live("4b1812"))]}
    c.advance(40.0)
    assert len(c.release(final=True)) == 0
    assert c.cooperative_fixes == 10 and c.released_fixes == 1


def test_fixes_leave_in_time_order_each_track_on_its_own() -> None:
    # No transponder. Two radar tracks with fixes at 0, 4, 8 and 12 s. At 12 s, for each
    # track: 0 s and 4 s have waited their 8 s hold, 8 s has not; 12 s has two earlier
    # fixes (4 and 8 s; the plot at 0 s does not count) and one 8 s older, so it is
    # decided at once, but must wait for 8 s to leave. The second track's fixes do not
    # wait for the first's.
    radar = pd.concat([standing("R1", [0.0, 4.0, 8.0, 12.0]),
                       standing("R2", [0.0, 4.0, 8.0, 12.0], 0.5)], ignore_index=True)
    c = Correlator()
    c.add_radar(radar)
    c.advance(12.0)
    out = c.release()
    assert list(zip(out["icao24"], out["time"], strict=True)) == [
        ("R1", 0.0), ("R2", 0.0), ("R1", 4.0), ("R2", 4.0)]
    c.advance(16.0)
    out = c.release()
    assert list(zip(out["icao24"], out["time"], strict=True)) == [
        ("R1", 8.0), ("R2", 8.0), ("R1", 12.0), ("R2", 12.0)]


def test_a_lone_fix_is_released_and_an_empty_release_keeps_the_columns() -> None:
    # one radar fix, no transponder: nothing decided before its 8 s hold (an empty
    # frame, with the radar's columns all the same), released at 8 s
    radar = standing("R1", [0.0])
    c = Correlator()
    c.add_radar(radar)
    out = c.release()
    assert len(out) == 0 and set(out.columns) == set(radar.columns)
    c.advance(8.0)
    assert c.release()["time"].tolist() == [0.0]
    assert c.released_fixes == 1


def test_a_message_at_the_edge_of_what_is_kept_is_the_last_one_heard() -> None:
    # 4b1812, the first transponder heard, every 4 s on the radar track's line from 0 to
    # 100 s; the radar track at 2, 6, ..., 98 s (the aircraft), then once more at 200 s
    # with nothing heard for 100 s. At 200 s the correlator keeps the messages of the
    # last 60 + 30 + 10 = 100 s, from 100 s on, inclusive: the message at 100 s is kept,
    # so when the fix at 200 s is decided (at the close) the track went dark at 100 s,
    # the last message, not at its last matched fix (98 s).
    c = Correlator()
    c.add_transponder(parallel("4b1812", np.arange(0.0, 101.0, 4.0)))
    c.add_radar(parallel("R1", [*np.arange(2.0, 99.0, 4.0), 200.0]))
    c.advance(200.0)
    assert len(c.release()) == 0
    assert c.release(final=True)["time"].tolist() == [200.0]
    dark = Identity(icao24="4b1812", callsign=None, went_dark_at=100.0, mode_s=False)
    assert c.history == {"R1": [(2.0, live("4b1812")), (200.0, dark)]}


def test_a_transponder_whose_messages_are_forgotten_went_dark_all_the_same() -> None:
    # The same, but another aircraft (far away at 50 N) heard first and still heard at
    # 200 s, and the data reach 201 s: the kept messages start at 101 s, so none of
    # 4b1812's is left when the fix at 200 s is decided. 4b1812 is silent since 100 s,
    # not heard elsewhere: the track went dark at 100 s (its last message, known although
    # the message itself is forgotten), it did not lose its identity to the other
    # aircraft's messages.
    c = Correlator()
    c.add_transponder(pd.concat([parallel("4b1813", np.arange(0.0, 201.0, 4.0), lat=50.0),
                                 parallel("4b1812", np.arange(0.0, 101.0, 4.0))],
                                ignore_index=True))
    c.add_radar(parallel("R1", [*np.arange(2.0, 99.0, 4.0), 200.0]))
    c.advance(201.0)
    assert len(c.release()) == 0
    assert c.release(final=True)["time"].tolist() == [200.0]
    (t1, first), (t2, dark) = c.history["R1"]
    assert (t1, first, t2) == (2.0, live("4b1812"), 200.0)
    assert dark is not None and dark["icao24"] == "4b1812"
    assert dark["went_dark_at"] == 100.0


def test_a_transponder_forgotten_then_heard_after_the_fix_went_dark_at_the_last_match(
) -> None:
    # The same, in two deliveries: the data up to 205 s (the fix at 200 s not yet
    # decided: it waits for the messages after it), which forgets the messages older
    # than 105 s, all of 4b1812's; then the data to 330 s, in which 4b1812 is heard
    # again from 212 s, far away (50 N). When the fix at 200 s is decided, the last
    # time 4b1812 was heard (256 s) is after it: when it fell silent is not known, and
    # the time is the last radar fix matched to it, 98 s.
    adsb = pd.concat([parallel("4b1813", np.arange(0.0, 331.0, 4.0), lat=50.0),
                      parallel("4b1812", np.arange(0.0, 101.0, 4.0)),
                      parallel("4b1812", np.arange(212.0, 257.0, 4.0), lat=50.0)],
                     ignore_index=True)
    radar = pd.concat([parallel("R1", [*np.arange(2.0, 99.0, 4.0), 200.0]),
                       parallel("R2", np.arange(0.0, 331.0, 4.0), lat=50.0)],
                      ignore_index=True)
    c = Correlator()
    for lo, hi in ((0.0, 205.0), (205.0, 331.0)):
        c.add_transponder(adsb[(adsb["time"] >= lo) & (adsb["time"] < hi)])
        c.add_radar(radar[(radar["time"] >= lo) & (radar["time"] < hi)])
        c.advance(hi)
        c.release()
    c.release(final=True)
    (_, first), (t2, dark) = c.history["R1"]
    assert (first, t2) == (live("4b1812"), 200.0)
    assert dark is not None and dark["went_dark_at"] == 98.0


def test_went_dark_with_hundreds_of_transponders_heard_before() -> None:
    # The gap of the went-dark test above (messages to 300 s, again from 500 s; radar
    # fixes at 1 + 4k s), all the data in one batch, with 300 other aircraft (far away,
    # at 50 N) heard first: the fix at 313 s is the first after the 10 s margin, the
    # track went dark at 300 s, the last message at or before 313 s, whatever the
    # messages after the gap already known and however many aircraft came before.
    others = make_observations(time=np.zeros(300), icao24=[f"{k:06x}" for k in
                                                          range(0x400001, 0x40012d)],
                               lat=np.full(300, 50.0), lon=np.linspace(0.0, 30.0, 300))
    t_tx = np.concatenate([np.arange(0.0, 301.0, 4.0), np.arange(500.0, 701.0, 4.0)])
    adsb = pd.concat([others, parallel("4b1812", t_tx)], ignore_index=True)
    c = Correlator()
    kept = stream(c, parallel("R1", np.arange(1.0, 700.0, 4.0)), adsb, step_s=1000.0)
    dark = Identity(icao24="4b1812", callsign=None, went_dark_at=300.0, mode_s=False)
    assert c.history["R1"] == [(1.0, live("4b1812")), (313.0, dark), (501.0, live("4b1812"))]
    assert kept["time"].tolist() == np.arange(313.0, 498.0, 4.0).tolist()


def test_a_held_first_fix_holds_back_the_fixes_after_it() -> None:
    # A radar track standing at 59 N 25 E every 4 s from 0 s; 4b1812 standing 5 km north
    # of it (beyond twice the gate, within the 8.5 km reach), heard at -9.5 s, then at
    # 10 and 11 s. By the end of its 8 s hold the fix at 0 s shares a time only with
    # itself (the message at -9.5 s, within the 10 s margin), and the plot a track
    # starts from does not count: no common fix, so it waits the longest hold (30 s).
    # The fixes at 4 s (at its hold, 12 s) and 12 s (at once: two earlier fixes, one
    # 8 s older) have three common fixes each (4, 8, 12 s) 5 km away: not the
    # aircraft, decided, but they leave only after the fix at 0 s, at 30 s.
    dlat = float(np.degrees(2 * np.arcsin(5000.0 / (2 * R_M))))
    c = Correlator()
    c.add_transponder(standing("4b1812", [-9.5, 10.0, 11.0], dlat))
    c.add_radar(standing("R1", [0.0, 4.0, 8.0, 12.0]))
    for now in (12.0, 16.0, 29.0):
        c.advance(now)
        held = c.release()
        # decided fixes held back: still a frame of the radar's columns, none of them
        # left out (a caller concatenates it with the transponders' positions)
        assert len(held) == 0 and list(held.columns) == list(c._rx.rows)
        assert {"time", "icao24", "lat", "lon"} <= set(held.columns)
    c.advance(30.0)
    assert c.release()["time"].tolist() == [0.0, 4.0, 8.0, 12.0]


def test_a_transponder_heard_exactly_the_margin_before_a_fix_still_transmits() -> None:
    # 4b1812 every 4 s on its line to 200 s; the radar track every 10 s on the line to
    # 200 s (0 m from the interpolated ADS-B), then at 210 s 22.2 km north (59.2 N).
    # The fix at 210 s is decided at once (six earlier fixes in its window, the oldest
    # 60 s before it): the window's mean is 22.2 km / 7 fixes = 3.2 km, beyond the gate,
    # not the aircraft. The last message (200 s) is exactly the 10 s margin old: within
    # it, so the transponder still transmits and the track loses its identity rather
    # than going dark.
    radar = parallel("R1", np.arange(0.0, 211.0, 10.0))
    radar.loc[radar["time"] == 210.0, "lat"] = 59.2
    c = Correlator()
    kept = stream(c, radar, parallel("4b1812", np.arange(0.0, 201.0, 4.0)))
    assert kept["time"].tolist() == [210.0]
    assert c.history == {"R1": [(0.0, live("4b1812")), (210.0, None)]}


def test_a_mode_s_reply_does_not_stop_the_fixes_decided_with_it() -> None:
    # Two tracks decided together at the close: R1 with its own Mode S reply (4b18af)
    # from 0 s, R2 on 4b1812's line from 1 s (0 m from it). The reply names R1's
    # aircraft; every fix after it, of R2, is still matched and counted.
    t = np.arange(0.0, 100.0, 4.0)
    r1 = parallel("R1", t, lat=58.0)
    r1["mode_s"] = "4b18af"
    r2 = parallel("R2", t + 1.0)
    c = Correlator()
    c.add_transponder(parallel("4b1812", t + 1.0))
    c.add_radar(pd.concat([r1, r2], ignore_index=True))
    kept = c.release(final=True)
    assert set(kept["icao24"]) == {"R1"} and len(kept) == t.size
    assert c.identities == {"R1": Identity(icao24="4b18af", callsign=None, went_dark_at=None,
                                           mode_s=True), "R2": live("4b1812")}
    assert c.matches == {("R2", "4b1812"): t.size}


def test_going_dark_is_logged_with_the_track_the_address_and_the_time(
        caplog: pytest.LogCaptureFixture) -> None:
    # the scenario of the message at the edge of what is kept: went dark at 100 s
    c = Correlator()
    c.add_transponder(parallel("4b1812", np.arange(0.0, 101.0, 4.0)))
    c.add_radar(parallel("R1", [*np.arange(2.0, 99.0, 4.0), 200.0]))
    c.advance(200.0)
    c.release()
    with caplog.at_level(logging.INFO, logger="skyfence.fusion.correlator"):
        c.release(final=True)
    assert [r.getMessage() for r in caplog.records] == [
        "radar track R1 went dark: 4b1812 silent since 100.0"]


def test_radar_fixes_wait_for_the_radar_to_reach_their_hold() -> None:
    # Transponder data (an aircraft far away) up to 50 s, but the radar tracker has run
    # only up to 7 s: a young track's fix at 0 s waits its 8 s hold in radar time, so
    # nothing is decided; then at 8 s the fix at 0 s is released, at 16 s those at 4
    # and 8 s. Before the first advance nothing is decided either.
    c = Correlator()
    c.add_transponder(standing("4b1812", [50.0], 10.0))
    c.add_radar(standing("R1", [0.0, 4.0, 8.0]))
    assert len(c.release()) == 0
    c.advance(50.0, radar_now=7.0)
    assert len(c.release()) == 0
    c.advance(50.0, radar_now=8.0)
    assert c.release()["time"].tolist() == [0.0]
    c.advance(50.0, radar_now=16.0)
    assert c.release()["time"].tolist() == [4.0, 8.0]


def test_an_established_fix_is_decided_at_its_own_time() -> None:
    # No transponder; a radar track every 2 s from 0 s. At 8 s the fix at 8 s has three
    # earlier fixes (2, 4 and 6 s; the plot at 0 s does not count) and one exactly the
    # 8 s hold older (0 s): established, decided at once, but it leaves after 2-6 s.
    # Those wait their hold (10, 12, 14 s), and the fixes at 10, 12 and 14 s, decided
    # each at its own time, leave with them: at 14 s everything up to 14 s is out.
    c = Correlator()
    c.add_radar(standing("R1", list(np.arange(0.0, 17.0, 2.0))))
    c.advance(8.0)
    assert c.release()["time"].tolist() == [0.0]
    c.advance(14.0)
    assert c.release()["time"].tolist() == [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]


def test_at_the_close_every_pending_fix_is_decided_with_all_the_data() -> None:
    # The line of the established-track test (ADS-B every 5 s from 100 s, a radar track
    # every 2 s from 61 s), all pending at the close (default margin 10 s). Decided with
    # all the data, the fixes from 91 s have a common time (within 10 s of the first
    # message) and a window mean of at most 5.0 km / 16 = 0.3 km (91 s: 1.8, 1.4, 1.0,
    # 0.6 and 0.2 km for 91-99 s behind the message at 100 s, 0 m after it): the
    # aircraft. 61-89 s have no common time of their own: not the aircraft.
    c = Correlator()
    c.add_transponder(parallel("4b1812", np.arange(100.0, 301.0, 5.0)))
    c.add_radar(parallel("R1", np.arange(61.0, 300.0, 2.0)))
    assert c.release(final=True)["time"].tolist() == np.arange(61.0, 90.0, 2.0).tolist()


def test_a_track_between_two_transponders_is_the_one_it_follows() -> None:
    # R1 on 4b1812's line (0 m from it, 2 s after each message); 4b1813 on a parallel
    # 2 km north (2 R sin(dlat / 2) = 2000 m), within reach but beyond the gate. Every
    # fix has both as candidates and is 4b1812's, whichever comes last.
    dlat = float(np.degrees(2 * np.arcsin(2000.0 / (2 * R_M))))
    t = np.arange(0.0, 120.0, 4.0)
    adsb = pd.concat([parallel("4b1812", t), parallel("4b1813", t, lat=59.0 + dlat)],
                     ignore_index=True)
    c = Correlator()
    assert len(stream(c, parallel("R1", t + 2.0), adsb)) == 0
    assert c.matches == {("R1", "4b1812"): t.size}
    assert c.identities == {"R1": live("4b1812")}
    # the same, every fix decided at once at the close
    c = Correlator()
    c.add_transponder(adsb)
    c.add_radar(parallel("R1", t + 2.0))
    assert len(c.release(final=True)) == 0
    assert c.matches == {("R1", "4b1812"): t.size}


@pytest.mark.parametrize(("chord_m", "out_at_12"), [(2000.0, []), (3500.0, [0.0, 4.0])])
def test_a_young_fix_within_twice_the_gate_waits_the_longest_hold(
        chord_m: float, out_at_12: list[float]) -> None:
    # A radar track standing at 59 N 25 E every 4 s, and 4b1812 standing ``chord_m``
    # north of it, heard at the same times. At the 8 s hold the fix at 0 s has two
    # common fixes (4 and 8 s; the plot at 0 s does not count) at ``chord_m``: beyond
    # the 1.5 km gate, not the aircraft. At 2 km it is within twice the gate (3 km),
    # worth waiting for (a young track's first fixes may be off): it waits the longest
    # hold (30 s), and the fixes after it with it. At 3.5 km it is decided at once at
    # its hold (8 s), the fix at 4 s at 12 s.
    dlat = float(np.degrees(2 * np.arcsin(chord_m / (2 * R_M))))
    t = list(np.arange(0.0, 41.0, 4.0))
    c = Correlator()
    c.add_transponder(standing("4b1812", t, dlat))
    c.add_radar(standing("R1", t))
    c.advance(12.0)
    first = c.release()["time"].tolist()
    assert first == out_at_12
    # in the end every fix is released, none the aircraft
    rest = c.release(final=True)["time"].tolist()
    assert first + rest == t and c.identities == {}


def test_old_radar_fixes_are_forgotten() -> None:
    # 1000 s of a radar track every 4 s, no transponder, fed in 20 s batches: every fix
    # is released, and the correlator keeps only the fixes its decisions can still need
    # (the last 60 + 30 + 10 = 100 s and the batch just read: at most 120 / 4 = 30)
    c = Correlator()
    kept = stream(c, parallel("R1", np.arange(0.0, 1000.0, 4.0)), parallel("x", []),
                  step_s=20.0)
    assert len(kept) == 250
    assert len(c._rx.t) <= 30  # the kept fixes (private: how much is kept is the point)


def test_a_track_s_window_is_its_own_whatever_the_tracks_seen_before() -> None:
    # The established-track test (ADS-B every 5 s from 100 s, margin 5 s, hold 20 s; R1
    # every 2 s from 61 s) with 300 other radar tracks seen first, far away (50 N), one
    # fix each: R1's fixes before the first message are not the aircraft, the others
    # are, as when R1 is the only track.
    others = make_observations(time=np.full(300, 61.0),
                               icao24=[f"R{k:03d}x" for k in range(300)],
                               lat=np.full(300, 50.0), lon=np.linspace(0.0, 30.0, 300))
    radar = pd.concat([others, parallel("R1", np.arange(61.0, 300.0, 2.0))],
                      ignore_index=True)
    c = Correlator(FusionConfig(margin_s=5.0, hold_s=20.0))
    kept = stream(c, radar, parallel("4b1812", np.arange(100.0, 301.0, 5.0)))
    mine = kept[kept["icao24"] == "R1"]
    assert mine["time"].tolist() == np.arange(61.0, 100.0, 2.0).tolist()
    assert len(kept) == 300 + len(mine)


def test_one_common_fix_decides_only_at_the_longest_hold() -> None:
    # A radar track standing at 59 N 25 E at 90 and 96 s, then 6 km north at 110 s; one
    # ADS-B message at 100 s, 1 km north of the standing point. At its 8 s hold (104 s)
    # the fix at 96 s has one common fix, itself, 1 km away: within the gate but short
    # of min_common = 2, so it waits the longest hold (126 s), by when the fix at 110 s
    # (10 s after the message, within the margin, 5 km from it) is common too: a mean
    # of (1 + 5) / 2 = 3 km, beyond the gate. Not the aircraft; nothing is.
    def north(m: float) -> float:
        return float(np.degrees(2 * np.arcsin(m / (2 * R_M))))
    radar = make_observations(time=[90.0, 96.0, 110.0], icao24=["R1"] * 3,
                              lat=[59.0, 59.0, 59.0 + north(6000.0)], lon=[25.0] * 3)
    adsb = standing("4b1812", [100.0], north(1000.0))
    c = Correlator()
    assert stream(c, radar, adsb)["time"].tolist() == [90.0, 96.0, 110.0]
    assert c.matches == {} and c.identities == {}


def test_a_radar_lagging_two_minutes_still_finds_the_transponder_aircraft() -> None:
    # A radar track on 4b1812's line (1 s after each message, 0 m from it) whose states
    # arrive 120 s after the transponder's messages (a radar feed lagging behind the
    # others): advance() says so with radar_now 120 s behind now. The correlator must
    # keep the messages the lagging fixes will need; every fix is the aircraft, as
    # without the lag.
    t = np.arange(0.0, 600.0, 4.0)
    adsb, radar = parallel("4b1812", t), parallel("R1", t + 1.0)
    c = Correlator()
    out = []
    for lo in np.arange(0.0, 604.0, 4.0):
        c.add_transponder(adsb[(adsb["time"] >= lo) & (adsb["time"] < lo + 4.0)])
        c.add_radar(radar[(radar["time"] >= lo - 120.0) & (radar["time"] < lo - 116.0)])
        c.advance(lo + 4.0, radar_now=lo - 116.0)
        out.append(c.release())
    c.add_radar(radar[radar["time"] >= 484.0])
    out.append(c.release(final=True))
    assert len(pd.concat(out, ignore_index=True)) == 0
    assert c.matches == {("R1", "4b1812"): t.size}


def test_a_silent_radar_does_not_keep_every_transponder_message() -> None:
    # the radar's clock stops at 0 s (no radar data since) while ADS-B goes on for
    # 2,000 s, a message every 4 s: messages are kept back to max_lag_s (600 s) plus the
    # window, longest hold and margin (60 + 30 + 10 s) before the latest data, so 700 s
    # of them (175 messages, 176 with the one at the edge), not all 500
    t = np.arange(0.0, 2000.0, 4.0)
    adsb = parallel("4b1812", t)
    c = Correlator()
    c.advance(0.0, radar_now=0.0)
    for lo in np.arange(0.0, 2000.0, 4.0):
        c.add_transponder(adsb[(adsb["time"] >= lo) & (adsb["time"] < lo + 4.0)])
        c.advance(lo + 4.0, radar_now=0.0)
        c.release()
    kept = c._tx.t
    assert kept.min() == pytest.approx(2000.0 - 700.0, abs=4.0)
    assert len(kept) <= 176


def test_columns_held_as_python_objects_read_as_numbers() -> None:
    # the scenario of test_the_plot_a_track_starts_from_is_no_evidence with the radar
    # states' (then also the ADS-B messages') time, latitude and longitude held as
    # Python objects (as pandas gives after concatenating with a frame whose columns
    # are empty or mixed): the same answers, the first plot released and every later
    # fix the aircraft (50 fixes from 1 s every 4 s, less the first). A position read
    # as objects reaches numpy's trigonometry, which has no loop for them
    adsb = parallel("4b1812", np.arange(0.0, 200.0, 5.0))
    radar = parallel("R1", np.arange(1.0, 200.0, 4.0))
    radar.loc[0, "lat"] = 59.0 + np.degrees(20_000.0 / R_M)
    for col in ("time", "lat", "lon"):
        radar[col] = radar[col].astype(object)
    c = Correlator()
    assert stream(c, radar, adsb)["time"].tolist() == [1.0]
    assert c.matches == {("R1", "4b1812"): 49}
    # and the same with the ADS-B messages' columns held as objects
    for col in ("time", "lat", "lon"):
        adsb[col] = adsb[col].astype(object)
    c = Correlator()
    assert stream(c, radar, adsb)["time"].tolist() == [1.0]
    assert c.matches == {("R1", "4b1812"): 49}


def test_a_forgotten_transponder_went_dark_at_its_last_message_at_or_before_the_fix(
) -> None:
    # (heard, fix time, last matched fix): heard at or before the fix -> when it was
    # heard, the fix's own second included; heard after it -> the last matched fix
    assert _forgotten_last(300.0, 300.0, 297.0) == 300.0
    assert _forgotten_last(299.5, 300.0, 297.0) == 299.5
    assert _forgotten_last(300.5, 300.0, 297.0) == 297.0


@pytest.mark.parametrize("heard", [False, True])
def test_a_track_named_by_its_mode_s_reply_keeps_the_name_when_a_reply_is_missed(
        heard: bool) -> None:
    # R1's first fixes carry its own Mode S reply (4b18af), the later ones none (a reply
    # missed, as a radar does). No ADS-B near it: each fix is not a transponder aircraft.
    # The address named R1 from the radar's own reply: a fix without a reply says
    # nothing against it, so the identity stays 4b18af by Mode S, not gone dark and not
    # cleared. With ``heard``, 4b18af's ADS-B is heard 300 km south all along (not this
    # track: too far to match), which must not turn the name into "went dark" or into
    # "the transponder goes on elsewhere" either.
    t = np.arange(0.0, 40.0, 4.0)
    r1 = parallel("R1", t)
    r1["mode_s"] = ["4b18af"] * 3 + [None] * (t.size - 3)
    c = Correlator()
    if heard:
        c.add_transponder(parallel("4b18af", t, lat=56.3))
    c.add_radar(r1)
    kept = c.release(final=True)
    assert kept["time"].tolist() == t.tolist()
    assert c.identities == {"R1": Identity(icao24="4b18af", callsign=None,
                                           went_dark_at=None, mode_s=True)}
