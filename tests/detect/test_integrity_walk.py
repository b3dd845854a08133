"""The integrity screen's walk along a track with two position streams, by hand.

When two outliers follow each other (a spoofer or a second aircraft answering under the
same address, interleaved fix for fix), the screen walks that track fix by fix: each fix
is compared with the last *accepted* one; what cannot be reached is rejected; rejected
fixes that agree with each other while accepted ones go on between them are a second
position stream; a stream of ``switch_after`` agreeing fixes with no accepted fix between
them is where the track is (see :mod:`skyfence.detect.integrity`).

Geometry, worked out by hand: on the equator one degree is 111.2 km (a sphere of radius
6,371,008.8 m: 2 pi R / 360 = 111,195 m). Fixes come every 5 s. The honest aircraft ``H``
flies east along the equator from lon 10.0 at 250 m/s = 0.002248 degree/s. The spoofed
stream ``S`` flies the same way from lon 11.0: 111 km from ``H``; a third place ``T``
from lon 12.0. Within 5 s the screen allows 1500 m/s x 5 s + 1500 m = 9 km, so ``H``
and ``S`` can never follow each other and each stream follows itself (1.25 km a step).
Altitudes are 9,000 m; the altitude test allows 300 m/s x 5 s + 500 m = 2,000 m.
"""

from __future__ import annotations

import numpy as np

from skyfence.detect.integrity import IntegrityConfig, IntegrityScreen

DEG_PER_S = 250.0 / 111_195.0
STEP_S = 5.0
KEY = "4b1805"


def fix(stream: str, k: int, speed_ms: float = 250.0) -> tuple[float, float, float, float]:
    """(time, lon, lat, alt) of the ``k``-th fix (every 5 s) on ``stream``'s path."""
    t = STEP_S * k
    start = {"H": 10.0, "S": 11.0, "T": 12.0}[stream]
    return t, start + speed_ms / 111_195.0 * t, 0.0, 9000.0


def check(pattern: str, screen: IntegrityScreen | None = None,
          carried_first: bool = False) -> tuple[list[bool], IntegrityScreen]:
    """Screen one track whose k-th fix is on the path named by ``pattern[k]``."""
    scr = screen or IntegrityScreen()
    fixes = np.array([fix(s, k) for k, s in enumerate(pattern)])
    n = len(pattern)
    carried = np.zeros(n, bool)
    carried[0] = carried_first
    keep = scr.check(np.zeros(n, np.intp), fixes[:, 0], fixes[:, 1], fixes[:, 2],
                     fixes[:, 3], carried, [KEY])
    return keep.tolist(), scr


def test_an_interleaved_second_stream_is_rejected_and_named() -> None:
    """H S H S ... (10 each): every S is a lone-looking outlier next to another, so the
    track is walked. H1 is accepted first; each S is out of reach of the last H, so it
    is rejected (10 speed rejections); from the second S on it agrees with the S before
    it while an H was accepted between them: 9 second-stream fixes (named, not counted
    as rejected twice)."""
    keep, scr = check("HS" * 10)
    assert keep == [True, False] * 10
    assert scr.rejected == {"speed": 10}
    assert scr.reasons(KEY) == ("10 fixes rejected: position jump faster than 1500 m/s",
                                "second position stream under the same ICAO address")
    # the reasons up to a time count only the fixes up to it: S at 5 s and 15 s
    assert scr.reasons(KEY, until=15.0) == (
        "2 fixes rejected: position jump faster than 1500 m/s",
        "second position stream under the same ICAO address")
    assert scr.reasons(KEY, until=10.0) == (
        "1 fix rejected: position jump faster than 1500 m/s",)


def test_a_stream_is_followed_from_its_latest_fix_not_its_first() -> None:
    """A fast second stream: S moves at 1,600 m/s, so its fixes (every 10 s between the
    H ones) are 16 km apart, within the 1500 m/s x 10 s + 1500 m = 16.5 km a step allows,
    but 32 km from the S before the last, beyond the 31.5 km of 20 s. Each S agrees with
    the previous S only: a second stream at every S from the second on (15, 25, 35 s)."""
    scr = IntegrityScreen()
    arr = np.array([fix(s, k, 1600.0 if s == "S" else 250.0)
                    for k, s in enumerate("HSHSHSHS")])
    keep = scr.check(np.zeros(8, np.intp), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3],
                     np.zeros(8, bool), [KEY])
    assert keep.tolist() == [True, False] * 4
    stream = [t for kind, t in scr._by_track[KEY] if kind == "second_stream"]
    assert np.concatenate(stream).tolist() == [15.0, 25.0, 35.0]


def test_the_first_fix_decides_which_stream_is_the_track() -> None:
    """S H S H ...: the walk accepts the first fix it sees (it cannot know which stream
    is the aircraft), so here the H fixes are the ones rejected: the reasons still say
    a second stream was there."""
    keep, scr = check("SH" * 6)
    assert keep == [True, False] * 6
    assert scr.rejected == {"speed": 6}
    assert "second position stream under the same ICAO address" in scr.reasons(KEY)


def test_a_lone_new_stream_becomes_the_track_after_switch_after_fixes() -> None:
    """H S H S H S, then only T (111 km beyond S, reachable from neither): T1 starts a
    new stream that no accepted fix interleaves; T1..T3 are rejected, T4 is the fourth
    agreeing fix (``switch_after`` = 4), so the track is taken to be there: T4 and T5
    are kept. None of the T fixes is a second stream (nothing accepted between them)."""
    keep, scr = check("HSHSHS" + "TTTTT")
    assert keep == [True, False] * 3 + [False, False, False, True, True]
    assert scr.rejected == {"speed": 6}
    stream = [t for kind, t in scr._by_track[KEY] if kind == "second_stream"]
    assert np.concatenate(stream).tolist() == [15.0, 25.0]  # S at k = 3 and 5


def test_fixes_after_a_switch_are_still_checked() -> None:
    """The same track, then H again at k = 11: 222 km from T5 in 5 s, rejected; the
    switch did not end the walk."""
    keep, scr = check("HSHSHS" + "TTTTT" + "H")
    assert keep == [True, False] * 3 + [False, False, False, True, True, False]
    assert scr.rejected == {"speed": 7}


def test_switch_after_is_the_configured_count() -> None:
    """The same track with ``switch_after`` = 2: T2 is already the second agreeing fix,
    so T1 alone is rejected of the T fixes."""
    keep, _ = check("HSHSHS" + "TTTTT", IntegrityScreen(IntegrityConfig(switch_after=2)))
    assert keep == [True, False] * 3 + [False, True, True, True, True]


def test_a_fix_reachable_from_the_last_accepted_one_is_accepted_after_a_pause() -> None:
    """H S H S, then S at k = 80 (400 s later): the last accepted H (k = 2, lon 10.0225)
    and that S (lon 11.0 + 0.8993 = 11.8993 at t = 400 s) are 208.7 km apart, and 1500
    m/s x 390 s + 1500 m = 586.5 km: reachable, so accepted. Then H at k = 81, 0.9 km
    after its own path but 208 km from that S in 5 s: rejected."""
    scr = IntegrityScreen()
    fixes = [fix("H", 0), fix("S", 1), fix("H", 2), fix("S", 3), fix("S", 80), fix("H", 81)]
    arr = np.array(fixes)
    keep = scr.check(np.zeros(6, np.intp), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3],
                     np.zeros(6, bool), [KEY])
    assert keep.tolist() == [True, False, True, False, True, False]


def test_an_altitude_jump_in_the_walk_is_rejected_as_altitude() -> None:
    """H S H S H with the third H 3,600 m higher than the last accepted fix, the second
    H, 10 s before it (the allowance is 300 m/s x 10 s + 500 m = 3,500 m) on its own
    path: out of reach by altitude, a different kind of rejection; a climb of 3,400 m
    would be allowed."""
    for dz, kinds, kept in ((3600.0, {"speed": 2, "altitude": 1}, False),
                            (3400.0, {"speed": 2}, True)):
        scr = IntegrityScreen()
        arr = np.array([fix(s, k) for k, s in enumerate("HSHSH")])
        arr[4, 3] += dz
        keep = scr.check(np.zeros(5, np.intp), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3],
                         np.zeros(5, bool), [KEY])
        assert keep.tolist() == [True, False, True, False, kept]
        assert scr.rejected == kinds


def test_a_missing_altitude_is_no_altitude_jump() -> None:
    """NaN altitudes compare as unknown: only the position decides."""
    scr = IntegrityScreen()
    arr = np.array([fix(s, k) for k, s in enumerate("HSHSH")])
    arr[:, 3] = np.nan
    keep = scr.check(np.zeros(5, np.intp), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3],
                     np.zeros(5, bool), [KEY])
    assert keep.tolist() == [True, False, True, False, True]
    assert scr.rejected == {"speed": 2}


def test_a_stream_is_remembered_across_batches() -> None:
    """The walk of one batch leaves its open stream for the next: H S H S, then (the
    carried H3 first, as the detector hands it) S H S. The S fixes of the second batch
    agree with the remembered S stream, which was interleaved: second stream again."""
    scr = IntegrityScreen()
    keep1, _ = check("HSHS", scr)
    assert keep1 == [True, False, True, False]
    arr = np.array([fix("H", 2), fix("S", 5), fix("H", 6), fix("S", 7)])
    carried = np.array([True, False, False, False])
    keep2 = scr.check(np.zeros(4, np.intp), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3],
                      carried, [KEY])
    assert keep2.tolist() == [True, False, True, False]
    assert scr.rejected == {"speed": 4}
    stream = [t for kind, t in scr._by_track[KEY] if kind == "second_stream"]
    assert np.concatenate(stream).tolist() == [15.0, 25.0, 35.0]


def test_fixes_exactly_at_the_reach_are_accepted() -> None:
    """The limit is "more than": a fix exactly 1500 m/s x dt + 1500 m away is possible.
    Two fixes 5 s apart on the equator with 9,000 m between them (0.080939 degree by the
    sphere's 111,195 m a degree) are; 9,001 m are not."""
    scr = IntegrityScreen()
    m_per_deg = 6_371_008.8 * np.pi / 180.0
    for metres, ok in ((8_999.0, ""), (9_001.0, "speed")):
        a = (0.0, 10.0, 0.0, 9000.0)
        b = (5.0, 10.0 + metres / m_per_deg, 0.0, 9000.0)
        assert scr._implausible1(a, b) == ok
        # the same pair, backwards in time: the distance over |dt|
        assert scr._implausible1(b, a) == ok
    assert scr._implausible1((0.0, 10.0, 0.0, 9000.0), (5.0, 10.0, 0.0, 11000.0)) == ""
    assert scr._implausible1((0.0, 10.0, 0.0, 9000.0), (5.0, 10.0, 0.0, 11001.0)) == \
        "altitude"
    assert scr._implausible1((0.0, 10.0, 0.0, 11001.0), (5.0, 10.0, 0.0, 9000.0)) == \
        "altitude"


def test_the_walk_measures_north_south_away_from_the_equator() -> None:
    """The walk's distances are of (lat, lon), whatever the plane of the first pass.
    Off the equator latitude and longitude are not interchangeable: at lon 85 E (over
    Siberia) a track flies north from 55.0 N at 250 m/s (0.011242 degree of latitude in
    5 s), a second stream 0.3 degree (33.4 km) north of it. 33.4 km in 5 s is out of
    reach (9 km), so the walk rejects every fix of the second stream, as on the equator;
    read as a move along a parallel at "latitude" 85, 0.3 degree would be 2.9 km, and
    both streams would be taken for the track."""
    m_per_deg = 6_371_008.8 * np.pi / 180.0
    scr = IntegrityScreen()
    n = 20
    t = STEP_S * np.arange(n)
    lat = 55.0 + 250.0 / m_per_deg * t + np.where(np.arange(n) % 2 == 1, 0.3, 0.0)
    lon = np.full(n, 85.0)
    assert scr._implausible1((t[0], lon[0], lat[0], 9000.0), (t[1], lon[1], lat[1], 9000.0)) \
        == "speed"
    keep = scr.check(np.zeros(n, np.intp), t, lon, lat, np.full(n, 9000.0),
                     np.zeros(n, bool), [KEY])
    assert keep.tolist() == [True, False] * 10
    assert scr.rejected == {"speed": 10}
