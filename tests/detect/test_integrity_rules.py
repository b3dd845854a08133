"""The integrity screen's rules for lone outliers, by hand: the spike between two fixes,
the last fix of a track (the "tail rule") and what is remembered of it, lone outliers
that agree with each other (a second stream), and the jumps a track is kept across.

Each test builds one batch on the equator, where the screen's sphere (radius
6,371,008.8 m) makes one degree of longitude 2 pi R / 360 = 111,195.08 m, so a fix
``x`` metres east of lon 10 is at lon 10 + x / 111,195.08 and two fixes on the equator
are their difference in ``x`` apart (the screen's tangent plane and its haversine agree
there). Fixes come every 5 s; the screen allows 1500 m/s x 5 s + 1500 m = 9,000 m and
300 m/s x 5 s + 500 m = 2,000 m of climb between fixes 5 s apart, 16,500 m and 3,500 m
between fixes 10 s apart. An honest aircraft flies 250 m/s: 1,250 m a step at 9,000 m.
A fix is a lone outlier (see :mod:`skyfence.detect.integrity`) when the track cannot
reach it from the fix before nor go on from it to the fix after, but goes from the one
before to the one after, and the detour (the shorter of its two legs) is more than five
times the direct way; the last fix of a track, with no fix after it, when the two fixes
before it agree and its jump is more than five times their step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from skyfence.detect.integrity import IntegrityScreen

#: metres in a degree of the screen's sphere
M_PER_DEG = 6_371_008.8 * math.pi / 180.0
A, B = "4b1805", "4b1806"
SPEED = "1 fix rejected: position jump faster than 1500 m/s"
STREAM = "second position stream under the same ICAO address"

Fix = tuple[float, float] | tuple[float, float, float]


def screen(tracks: dict[str, Sequence[Fix]], scr: IntegrityScreen | None = None,
           carried_first: bool = False) -> tuple[dict[str, list[bool]], IntegrityScreen]:
    """Screen one batch: ``tracks[key]`` holds (time s, metres east of lon 10 on the
    equator[, altitude m, 9,000 when left out]) in time order, the tracks in key order;
    with ``carried_first`` each track's first fix is its carried one. Which fixes are
    kept, per track."""
    scr = scr or IntegrityScreen()
    keys = list(tracks)
    rows = [(c, f[0], 10.0 + f[1] / M_PER_DEG, f[2] if len(f) > 2 else 9000.0)
            for c, key in enumerate(keys) for f in tracks[key]]
    arr = np.array(rows)
    code = arr[:, 0].astype(np.intp)
    carried = np.zeros(len(rows), bool)
    if carried_first:
        carried[np.r_[0, np.flatnonzero(np.diff(code)) + 1]] = True
    keep = scr.check(code, arr[:, 1], arr[:, 2], np.zeros(len(rows)), arr[:, 3], carried,
                     keys)
    return {key: keep[code == c].tolist() for c, key in enumerate(keys)}, scr


def honest(n: int, x0: float = 0.0, t0: float = 0.0) -> list[tuple[float, float]]:
    """``n`` fixes of the honest aircraft, 5 s and 1,250 m apart, from ``x0`` at ``t0``."""
    return [(t0 + 5.0 * k, x0 + 1250.0 * k) for k in range(n)]


# ---------------------------------------------------------------- the spike rule
def test_a_spike_at_a_tracks_second_fix_is_rejected() -> None:
    """A's second fix is 500 km off (out of reach of both neighbours, 9 km each); A0 to
    A2 is 2,500 m in 10 s: a lone outlier, judged from A0 (the fix before it), not from
    whatever row comes two before it in the batch (B's last fix, 2,000 km away, which
    reaches neither)."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 500_000.0), (10.0, 2500.0), (15.0, 3750.0)],
                        B: honest(2, 2_000_000.0)})
    assert keep == {A: [True, False, True, True], B: [True, True]}
    assert scr.rejected == {"speed": 1}
    assert scr.reasons(A) == (SPEED,)


def test_a_tracks_first_fix_is_not_judged_against_the_track_before_it() -> None:
    """B's first fix is 497 km from its second (a jump at the start of B: nothing before
    it to tell a spike by); A's last fix, 100 m from B's second, belongs to another
    aircraft and says nothing of B. Nothing is rejected."""
    keep, scr = screen({A: honest(3), B: [(0.0, 500_000.0), (5.0, 2600.0), (10.0, 3850.0)]})
    assert keep == {A: [True] * 3, B: [True] * 3}
    assert scr.rejected == {}


def test_a_tracks_last_jump_is_not_judged_by_the_next_tracks_first_fix() -> None:
    """A has two fixes, the second 500 km off: with no third fix of A it is no spike
    (and too short a track for the tail rule); B's first fix, 100 m from A's first,
    does not make it one."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 500_000.0)],
                        B: [(10.0, 100.0), (15.0, 1350.0), (20.0, 2600.0)]})
    assert keep == {A: [True, True], B: [True] * 3}
    assert scr.rejected == {}


def test_a_fix_between_two_real_jumps_is_not_a_spike() -> None:
    """A1 to A3 is 58.75 km in 10 s, beyond the 16.5 km allowed: the track does not go
    on from A1 to A3 either, so A2 (1,000 km off) is no lone outlier though its detour
    is far more than five times the way it cuts short. All kept (the jumps named)."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 1250.0), (10.0, 1_000_000.0),
                            (15.0, 60_000.0), (20.0, 61_250.0)]})
    assert keep == {A: [True] * 5}
    assert scr.rejected == {}


def test_a_zigzag_of_less_than_five_times_the_direct_way_is_kept() -> None:
    """A2 is 10 km back from A1 and 13 km from A3 (both beyond 9 km), A1 to A3 is 3 km
    in 10 s: the detour, 10 km, is less than 5 x 3 = 15 km, so A2 is not a spike."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 1250.0), (10.0, -8750.0), (15.0, 4250.0),
                            (20.0, 5500.0)]})
    assert keep == {A: [True] * 5}
    assert scr.rejected == {}


@pytest.mark.parametrize(("alt", "kept"), [
    (4500.0, True),    # climbs 4,500 down and 5,500 up: min 4,500 <= 5 x 1,000
    (3900.0, False),   # 5,100 down, 6,100 up: min 5,100 > 5,000
    (14500.0, True),   # 5,500 up, 4,500 down: min 4,500
    (15000.0, True),   # 6,000 up, 5,000 down: exactly 5 x 1,000 is not "more than"
    (15100.0, False),  # 6,100 up, 5,100 down
])
def test_an_altitude_spike_is_its_smaller_climb_over_five_times_the_direct_one(
        alt: float, kept: bool) -> None:
    """Level positions; altitudes 9,000, ``alt``, 10,000, 10,000 m. 9,000 to 10,000 m
    in 10 s is allowed (3,500 m), ``alt`` is out of altitude reach (2,000 m) of both its
    neighbours; it is a spike when the smaller of its two climbs is more than five times
    the 1,000 m it cuts short."""
    fixes: list[Fix] = [(t, x, z) for (t, x), z in
                        zip(honest(4), (9000.0, alt, 10000.0, 10000.0), strict=True)]
    keep, scr = screen({A: fixes})
    assert keep == {A: [True, kept, True, True]}
    assert scr.rejected == ({} if kept else {"altitude": 1})


# ---------------------------------------------------------------- the tail rule
def test_a_last_fix_far_off_is_rejected_and_counted() -> None:
    """A2 is 97.5 km from A1 (9 km allowed), A0 to A1 is 1,250 m: the jump is more than
    five times the step, so the last fix is an outlier: rejected and counted."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 1250.0), (10.0, 100_000.0)]})
    assert keep == {A: [True, True, False]}
    assert scr.rejected == {"speed": 1}
    assert scr.reasons(A) == (SPEED,)


def test_a_last_fix_jumping_less_than_five_steps_is_kept() -> None:
    """A fast aircraft: 8 km a step (allowed), then 10 km (not): 10 km is less than five
    times 8 km, so the last fix cannot be told from a turn; kept. (From A0, two fixes
    back, A2 is 18 km in 10 s: out of reach too, so nothing is measured from there.)"""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 8000.0), (10.0, 18_000.0)]})
    assert keep == {A: [True] * 3}
    assert scr.rejected == {}


def test_a_last_fixs_jump_is_measured_from_the_fix_before_it() -> None:
    """A0 0 m, A1 2,000 m, A2 -10,000 m: A1 to A2 is 12 km in 5 s (out of reach, and
    more than 5 x 2 km): rejected, though A0, two fixes back, reaches A2 (10 km in
    10 s, 16.5 km allowed)."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 2000.0), (10.0, -10_000.0)]})
    assert keep == {A: [True, True, False]}
    assert scr.rejected == {"speed": 1}


@pytest.mark.parametrize(("alts", "kept"), [
    ((9000.0, 9000.0, 20000.0), False),  # 11,000 m up after a level step
    ((9000.0, 10000.0, 15000.0), True),  # 5,000 m: exactly 5 x 1,000, not "more than"
    ((9000.0, 10500.0, 13000.0), True),  # 2,500 m after 1,500 m
])
def test_a_last_fixs_altitude_jump_against_five_times_the_climb_before(
        alts: tuple[float, float, float], kept: bool) -> None:
    """Level positions; the last climb is beyond the 2,000 m allowed in 5 s, the one
    before within it: an outlier when it is more than five times that one."""
    keep, scr = screen({A: [(t, x, z) for (t, x), z in zip(honest(3), alts, strict=True)]})
    assert keep == {A: [True, True, kept]}
    assert scr.rejected == ({} if kept else {"altitude": 1})


def test_a_last_fix_is_judged_whatever_the_batch_begins_with() -> None:
    """The batch begins with a jump (A, 300 km in 5 s, kept: A's fixes agree with
    nothing else); B's last fix, 98.75 km from its fix before, is still a tail outlier."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 300_000.0)],
                        B: [*honest(2, 1_000_000.0), (10.0, 1_100_000.0)]})
    assert keep == {A: [True, True], B: [True, True, False]}
    assert scr.rejected == {"speed": 1}


def test_a_last_fix_agreeing_with_the_one_rejected_at_the_end_before_is_kept() -> None:
    """Two tracks, two batches (each track's first fix its carried one). Batch 1: each
    track's last fix jumps ~100 km and is rejected (A to x = 100 km at 10 s, B from
    1,001.25 km back to 900 km). Batch 2: each track's last fix jumps again, but 2.5 km
    in 10 s from the fix rejected at its own end before (16.5 km allowed): the track
    really is there, so it is kept. A's memory is A's: B's rejected fix, 800 km from
    A's, says nothing of A."""
    scr = IntegrityScreen()
    keep, _ = screen({A: [*honest(2), (10.0, 100_000.0)],
                      B: [*honest(2, 1_000_000.0), (10.0, 900_000.0)]}, scr, True)
    assert keep == {A: [True, True, False], B: [True, True, False]}
    keep, _ = screen({A: [(5.0, 1250.0), (15.0, 3750.0), (20.0, 102_500.0)],
                      B: [(5.0, 1_001_250.0), (15.0, 1_003_750.0), (20.0, 902_500.0)]},
                     scr, True)
    assert keep == {A: [True] * 3, B: [True] * 3}
    assert scr.rejected == {"speed": 2}


def test_a_last_fix_disagreeing_with_the_one_rejected_before_is_rejected_again() -> None:
    """The same, but batch 2's last fix is 100 km on from the rejected one in 10 s
    (16.5 km allowed): rejected again, and remembered in its turn: batch 3's last fix,
    2.5 km on from it in 10 s, is kept."""
    scr = IntegrityScreen()
    keep, _ = screen({A: [*honest(2), (10.0, 100_000.0)]}, scr, True)
    assert keep == {A: [True, True, False]}
    keep, _ = screen({A: [(5.0, 1250.0), (15.0, 3750.0), (20.0, 200_000.0)]}, scr, True)
    assert keep == {A: [True, True, False]}
    keep, _ = screen({A: [(15.0, 3750.0), (25.0, 6250.0), (30.0, 202_500.0)]}, scr, True)
    assert keep == {A: [True, True, True]}
    assert scr.rejected == {"speed": 2}


# ---------------------------------------------------------------- second streams
def test_lone_outliers_of_two_tracks_at_one_place_are_no_second_stream() -> None:
    """A's outlier (x = 100 km at 10 s) and B's (100.5 km at 15 s) could be one aircraft
    (500 m in 5 s), but they are two addresses: each is one rejected fix, no stream."""
    keep, scr = screen({A: [*honest(2), (10.0, 100_000.0), *honest(2, 3750.0, 15.0)],
                        B: [*honest(3, 5000.0), (15.0, 100_500.0),
                            *honest(2, 10_000.0, 20.0)]})
    assert keep == {A: [True, True, False, True, True],
                    B: [True, True, True, False, True, True]}
    assert scr.reasons(A) == (SPEED,)
    assert scr.reasons(B) == (SPEED,)
    assert scr.rejected == {"speed": 2}


def test_lone_outliers_of_one_track_that_agree_are_a_second_stream() -> None:
    """A has one outlier (-100 km); B two, 20 s apart: x = 100 km at 10 s, 104 km at
    30 s (4 km in 20 s, 31.5 km allowed), honest fixes between them: a second stream on
    B, named from its second outlier, and not counted as a rejection of its own."""
    keep, scr = screen({A: [*honest(2), (10.0, -100_000.0), *honest(2, 3750.0, 15.0)],
                        B: [*honest(2, 5000.0), (10.0, 100_000.0), *honest(3, 8750.0, 15.0),
                            (30.0, 104_000.0), *honest(2, 13_750.0, 35.0)]})
    assert keep == {A: [True, True, False, True, True],
                    B: [True, True, False, True, True, True, False, True, True]}
    assert scr.reasons(A) == (SPEED,)
    assert scr.reasons(B) == ("2 fixes rejected: position jump faster than 1500 m/s",
                              STREAM)
    stream = [t for kind, t in scr._by_track[B] if kind == "second_stream"]
    assert np.concatenate(stream).tolist() == [30.0]
    assert scr.rejected == {"speed": 3}


# ---------------------------------------------------------------- kept jumps
def test_a_kept_jump_holds_its_own_end_times() -> None:
    """A jumps 100 km between 10 s and 15 s and goes on from there (kept: the fixes
    after it agree with it). The jump's segment is the closed interval [10, 15]: an
    entry or exit interpolated at either end is on it; the distance on the sphere is
    100,000 m (the x difference on the equator), the duration 5 s."""
    keep, scr = screen({A: [*honest(3), *honest(3, 102_500.0, 15.0)]})
    assert keep == {A: [True] * 6}
    for t in (10.0, 12.5, 15.0):
        jump = scr.jump_over(A, t)
        assert jump is not None
        assert jump[0] == pytest.approx(100_000.0, rel=1e-9)
        assert jump[1] == 5.0
    assert scr.jump_over(A, 9.99) is None
    assert scr.jump_over(A, 15.01) is None
    assert scr.reasons(A, entered_at=15.0)[0] == \
        "entered by a position jump of 100.0 km in 5 s"
