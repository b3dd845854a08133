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

from skyfence.detect.integrity import IntegrityConfig, IntegrityScreen, distance_m

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


# ------------------------------------------------- what is counted and kept after spikes
def fast(n: int) -> str:
    """The reason for ``n`` kept jumps (the module's wording)."""
    return (f"{n} jump{'s' if n > 1 else ''} faster than 1500 m/s (or climbing faster than "
            "300 m/s) kept: the track goes on from there (a spoofed or jammed navigation "
            "source, a wrong time)")


def jumped(n: int, x0: float, t0: float, by: float) -> list[tuple[float, float]]:
    """``n`` honest fixes from ``x0`` at ``t0``, then ``n`` more ``by`` metres on, 5 s after."""
    return [*honest(n, x0, t0), *honest(n, x0 + 1250.0 * (n - 1) + by, t0 + 5.0 * n)]


def test_a_jump_of_one_track_is_kept_and_named_beside_a_spike_of_another() -> None:
    """One batch: A has a lone outlier at its second fix (rejected, as in the first test);
    B, 2,000 km away, jumps 100 km between 10 s and 15 s and goes on from there (kept).
    After the spike is taken out, every pair of fixes of one track is measured again:
    B's jump is named once (not a pair of A's last and B's first fix, 2,000 km and 15 s
    apart, which belong to two aircraft) and is B's jump from 10 s to 15 s, 100 km."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 500_000.0), (10.0, 2500.0), (15.0, 3750.0)],
                        B: jumped(3, 2_000_000.0, 0.0, 100_000.0)})
    assert keep == {A: [True, False, True, True], B: [True] * 6}
    assert scr.reasons(A) == (SPEED,)
    assert scr.reasons(B) == (fast(1),)
    assert scr.jump_over(B, 12.5) == (pytest.approx(100_000.0, rel=1e-9), 5.0)


def test_a_walked_track_does_not_take_in_the_fixes_of_another() -> None:
    """A carries two position streams, alternating: its own (250 m/s from x = 0) and one
    500 km east (two spikes in a row: A is walked fix by fix, and the three fixes of the
    second stream are rejected). B, an honest aircraft 2,000 km away in the same batch,
    is no part of A's walk: all its fixes are kept and it has no reasons."""
    a = [(0.0, 0.0), (5.0, 500_000.0), (10.0, 2500.0), (15.0, 503_750.0), (20.0, 5000.0),
         (25.0, 506_250.0), (30.0, 7500.0)]
    keep, scr = screen({A: a, B: honest(4, 2_000_000.0)})
    assert keep == {A: [True, False, True, False, True, False, True], B: [True] * 4}
    assert scr.reasons(B) == ()


def test_a_jump_after_another_tracks_fast_start_is_still_a_jump() -> None:
    """A (first in the batch) is too fast all along: 20 km a step, every fix agreeing with
    the next (kept, named, and no single jump); B then jumps 100 km after a plausible
    step: that is a jump (its step before could be flown), whatever A's first step was."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 20_000.0), (10.0, 40_000.0), (15.0, 60_000.0)],
                        B: jumped(3, 2_000_000.0, 0.0, 100_000.0)})
    assert keep == {A: [True] * 4, B: [True] * 6}
    assert scr.reasons(A) == (fast(3),)
    assert scr.jump_over(A, 7.5) is None
    assert scr.jump_over(B, 12.5) == (pytest.approx(100_000.0, rel=1e-9), 5.0)


def test_jumps_of_two_tracks_in_one_batch_are_each_their_own() -> None:
    """A jumps twice (100 km at 10-15 s and 200 km at 25-30 s, plausible steps before
    each), B once (50 km at 10-15 s): each jump is found on its own track."""
    a = [*jumped(3, 0.0, 0.0, 100_000.0), *honest(3, 105_000.0 + 200_000.0, 30.0)]
    keep, scr = screen({A: a, B: jumped(3, 2_000_000.0, 0.0, 50_000.0)})
    assert keep == {A: [True] * 9, B: [True] * 6}
    assert scr.jump_over(A, 12.5) == (pytest.approx(100_000.0, rel=1e-9), 5.0)
    assert scr.jump_over(A, 27.5) == (pytest.approx(200_000.0, rel=1e-9), 5.0)
    assert scr.jump_over(B, 12.5) == (pytest.approx(50_000.0, rel=1e-9), 5.0)
    assert scr.jump_over(B, 27.5) is None
    assert scr.reasons(A) == (fast(2),)


# ------------------------------------------- a jump from a track's carried fix (batches)
def test_a_jump_from_the_carried_fix_after_a_plausible_step_is_a_jump() -> None:
    """Batch 1: A honest (nothing to name). Batch 2 begins with A's carried fix (10 s)
    and jumps 100 km from it: the step before (in batch 1) could be flown, so it is a
    jump of 100 km in 5 s."""
    scr = IntegrityScreen()
    screen({A: honest(3)}, scr)
    keep, _ = screen({A: honest(1, 2500.0, 10.0) + honest(3, 102_500.0, 15.0)}, scr,
                     carried_first=True)
    assert keep == {A: [True] * 4}
    assert scr.jump_over(A, 12.5) == (pytest.approx(100_000.0, rel=1e-9), 5.0)


def test_a_track_too_fast_all_along_makes_no_jump_from_its_carried_fix() -> None:
    """A is too fast all along (20 km a step) in both batches, B honest beside it: A's
    first step of batch 2, from its carried fix, goes on a track that was too fast
    already (its last step of batch 1 was): no jump, only the steps named (5: 2 in batch
    1, 3 in batch 2)."""
    scr = IntegrityScreen()
    far = [(0.0, 0.0), (5.0, 20_000.0), (10.0, 40_000.0), (15.0, 60_000.0), (20.0, 80_000.0),
           (25.0, 100_000.0)]
    screen({A: far[:3], B: honest(3, 2_000_000.0)}, scr)
    keep, _ = screen({A: far[2:], B: honest(4, 2_002_500.0, 10.0)}, scr, carried_first=True)
    assert keep == {A: [True] * 4, B: [True] * 4}
    assert scr.jump_over(A, 12.5) is None
    assert scr.reasons(A) == (fast(5),)
    assert scr.reasons(B) == ()


def test_a_tracks_last_step_in_a_batch_decides_its_next_jump() -> None:
    """Batch 1: A jumps 100 km in the middle and steps plausibly after (its last step
    could be flown); B is too fast all along. Batch 2 (carried fixes first): A jumps
    again from its carried fix: a jump; B steps plausibly from its carried fix. Batch 3:
    B jumps from its carried fix: a jump now (its last step, in batch 2, could be
    flown)."""
    scr = IntegrityScreen()
    b_fast = [(0.0, 2_000_000.0), (5.0, 2_020_000.0), (10.0, 2_040_000.0),
              (15.0, 2_060_000.0), (20.0, 2_080_000.0), (25.0, 2_100_000.0)]
    screen({A: jumped(3, 0.0, 0.0, 100_000.0), B: b_fast}, scr)
    # A's carried fix: 25 s at 105,000 m; B's: 25 s at 2,100,000 m
    keep, _ = screen({A: [(25.0, 105_000.0), *honest(3, 305_000.0, 30.0)],
                      B: honest(4, 2_100_000.0, 25.0)}, scr, carried_first=True)
    assert keep == {A: [True] * 4, B: [True] * 4}
    assert scr.jump_over(A, 27.5) == (pytest.approx(200_000.0, rel=1e-9), 5.0)
    keep, _ = screen({A: honest(2, 307_500.0, 40.0),
                      B: [(40.0, 2_103_750.0), *honest(3, 2_153_750.0, 45.0)]}, scr,
                     carried_first=True)
    assert keep == {A: [True] * 2, B: [True] * 4}
    assert scr.jump_over(B, 42.5) == (pytest.approx(50_000.0, rel=1e-9), 5.0)


def test_the_first_track_of_a_batch_that_steps_plausibly_once_is_forgotten() -> None:
    """Batch 1: A (the batch's first track, code 0) is too fast all along, B honest.
    Batch 2: A steps once, plausibly, from its carried fix (the only track whose last
    step could be flown: B jumps 100 km at its end). Batch 3: A jumps 100 km from its
    carried fix: a jump, since its last step (batch 2) could be flown."""
    scr = IntegrityScreen()
    screen({A: [(0.0, 0.0), (5.0, 20_000.0), (10.0, 40_000.0)], B: honest(3, 2_000_000.0)},
           scr)
    screen({A: [(10.0, 40_000.0), (15.0, 41_250.0)],
            B: [(10.0, 2_002_500.0), (15.0, 2_102_500.0)]}, scr, carried_first=True)
    keep, _ = screen({A: [(15.0, 41_250.0), *honest(2, 141_250.0, 20.0)]}, scr,
                     carried_first=True)
    assert keep == {A: [True] * 3}
    assert scr.jump_over(A, 17.5) == (pytest.approx(100_000.0, rel=1e-9), 5.0)


# ------------------------------------------------ the pair test away from the equator
def screen_at(fixes: Sequence[tuple[float, float, float, float]]
              ) -> tuple[list[bool], IntegrityScreen]:
    """Screen one track A of (time s, lat, lon, alt m) fixes in one batch."""
    scr = IntegrityScreen()
    arr = np.array(fixes, dtype=np.float64)
    n = len(arr)
    keep = scr.check(np.zeros(n, np.intp), arr[:, 0], arr[:, 2], arr[:, 1], arr[:, 3],
                     np.zeros(n, bool), [A])
    return keep.tolist(), scr


def test_a_track_across_the_antimeridian_is_measured_the_short_way() -> None:
    """An aircraft flying east along the equator at 250 m/s across 180 deg (1,250 m =
    0.011241 deg a step): each step is 1,250 m, the short way round, not 360 deg less
    that: all kept, nothing named."""
    d = 1250.0 / M_PER_DEG
    keep, scr = screen_at([(5.0 * k, 0.0, 179.98 + k * d - (360.0 if 179.98 + k * d > 180.0
                                                             else 0.0), 9000.0)
                           for k in range(6)])
    assert keep == [True] * 6
    assert scr.reasons(A) == ()


@pytest.mark.parametrize(("dt", "named"), [(13_332.0, False), (13_200.0, True)])
def test_fixes_half_a_world_apart_are_measured_the_shorter_way_round(dt: float,
                                                                     named: bool) -> None:
    """Two fixes on the equator at lon -90.3 and 90.3 are 179.4 deg apart the short way
    (19,948,397 m = 179.4 x 111,195.08 m; 180.6 deg, 20,081,832 m, the long way).
    ``dt`` s apart the screen allows 1500 x dt + 1500 m: 19,999,500 m for 13,332 s (the
    step could be flown), 19,801,500 m for 13,200 s (a jump, kept and named)."""
    keep, scr = screen_at([(0.0, 0.0, -90.3, 9000.0), (dt, 0.0, 90.3, 9000.0)])
    assert keep == [True, True]
    assert scr.reasons(A) == ((fast(1),) if named else ())


def test_a_degree_of_longitude_is_shorter_away_from_the_equator() -> None:
    """At 80 deg N a degree of longitude is 111,195.08 x cos 80 deg = 19,308.9 m: an
    aircraft flying east at 250 m/s moves 1,250 m = 0.064737 deg a step (5 s), within
    the 9,000 m allowed: all kept, nothing named."""
    d = 1250.0 / (M_PER_DEG * math.cos(math.radians(80.0)))
    keep, scr = screen_at([(5.0 * k, 80.0, 10.0 + k * d, 9000.0) for k in range(5)])
    assert keep == [True] * 5
    assert scr.reasons(A) == ()


def test_a_climb_of_exactly_the_allowed_height_is_plausible() -> None:
    """300 m/s x 5 s + 500 m = 2,000 m of climb allowed between fixes 5 s apart: a climb
    of exactly 2,000 m (1,000 m to 3,000 m; integers, exact in floating point) can be
    flown: nothing named."""
    keep, scr = screen_at([(0.0, 0.0, 10.0, 1000.0), (5.0, 0.0, 10.01, 1000.0),
                           (10.0, 0.0, 10.02, 3000.0), (15.0, 0.0, 10.03, 3000.0)])
    assert keep == [True] * 4
    assert scr.reasons(A) == ()


def test_antipodal_points_are_half_a_great_circle_apart() -> None:
    """(2.5 N, 0 E) and (2.5 S, 180 E) are antipodal: pi R = 20,015,114.44 m apart on the
    screen's sphere. The haversine's h comes out one unit in the last place over 1 in
    floating point for this pair (sin^2 + cos^2 rounded up): the distance is still pi R,
    not NaN (the square root of that h rounds to 1, so the clip to 1 is not what keeps
    it: the clip's mutants are not killed by this)."""
    assert float(distance_m(2.5, 0.0, -2.5, 180.0)) == pytest.approx(math.pi * 6_371_008.8,
                                                                       rel=1e-12)


def test_the_words_of_an_altitude_and_a_range_rejection() -> None:
    """An altitude spike (15,000 m for one fix at 9,000 m: 6,000 m in 5 s against 2,000 m
    allowed) and a fix 800 km from the receiver (at lon 10 on the equator; 700 km
    allowed: 800,000 m = 7.1946 deg east) are named in the operator's words."""
    keep, scr = screen({A: [(0.0, 0.0), (5.0, 1250.0, 15_000.0), (10.0, 2500.0),
                            (15.0, 3750.0)]})
    assert keep == {A: [True, False, True, True]}
    assert scr.reasons(A) == ("1 fix rejected: altitude jump faster than 300 m/s",)
    scr = IntegrityScreen(IntegrityConfig(receiver=(0.0, 10.0)))
    keep, scr = screen({A: [*honest(3), (15.0, 800_000.0)]}, scr)
    assert keep == {A: [True, True, True, False]}
    assert scr.reasons(A) == ("1 fix rejected: farther than 700 km from the receiver",)


# ------------------------------------------------ thirteenth session: check's own paths
def test_a_lone_fix_beyond_the_receivers_reach_is_rejected() -> None:
    """A batch of one fix, 800 km east of the receiver (700 km allowed): rejected and
    named, as in a longer batch; a batch of two, the first 1,250 m from the receiver and
    the second 800 km off, keeps the first only (one fix left: no pair to measure)."""
    scr = IntegrityScreen(IntegrityConfig(receiver=(0.0, 10.0)))
    keep, scr = screen({A: [(0.0, 800_000.0)]}, scr)
    assert keep == {A: [False]}
    assert scr.reasons(A) == ("1 fix rejected: farther than 700 km from the receiver",)
    keep, scr = screen({B: [(0.0, 1250.0), (5.0, 800_000.0)]}, scr)
    assert keep == {B: [True, False]}


def test_a_fix_at_exactly_the_receivers_reach_is_kept() -> None:
    """The reach is "farther than": a fix 700 km east of the receiver (0.0, 10.0) on the
    equator, 700,000 m by hand (up to rounding: the haversine of the screen's sphere,
    checked to 1e-9 relative), is kept when ``max_range_m`` is exactly its distance as
    the screen measures it, and rejected when the reach is one float below that."""
    lon = 10.0 + 700_000.0 / M_PER_DEG
    d = float(distance_m(0.0, 10.0, 0.0, lon))
    assert d == pytest.approx(700_000.0, rel=1e-9)
    for reach, kept in ((d, True), (float(np.nextafter(d, 0.0)), False)):
        scr = IntegrityScreen(IntegrityConfig(receiver=(0.0, 10.0), max_range_m=reach))
        keep, _ = screen({A: [(0.0, 700_000.0)]}, scr)
        assert keep == {A: [kept]}


def test_a_track_that_steps_plausibly_in_a_clean_batch_is_forgotten() -> None:
    """Batch 1: A too fast all along (its last step remembered as fast), B honest. Batch
    2, two tracks, every step plausible (the clean batch's short way out of the check):
    A steps plausibly from its carried fix, so it is forgotten. Batch 3: A jumps 100 km
    from its carried fix: a jump (its step before could be flown)."""
    scr = IntegrityScreen()
    screen({A: [(0.0, 0.0), (5.0, 20_000.0), (10.0, 40_000.0)], B: honest(3, 2_000_000.0)},
           scr)
    keep, _ = screen({A: [(10.0, 40_000.0), (15.0, 41_250.0)],
                      B: honest(3, 2_002_500.0, 10.0)}, scr, carried_first=True)
    assert keep == {A: [True, True], B: [True] * 3}
    keep, _ = screen({A: [(15.0, 41_250.0), *honest(2, 141_250.0, 20.0)]}, scr,
                     carried_first=True)
    assert keep == {A: [True] * 3}
    assert scr.jump_over(A, 17.5) == (pytest.approx(100_000.0, rel=1e-9), 5.0)


def test_a_lone_spike_does_not_make_a_track_walked() -> None:
    """A has a lone outlier at its second fix (500 km off) and, later, a real jump of
    100 km after which it goes on. The spike alone is rejected; the track is not walked
    fix by fix (a walk would reject the fixes after the jump until four agreed): the
    jump and every fix after it are kept, and the jump named."""
    a = [(0.0, 0.0), (5.0, 500_000.0), (10.0, 2500.0), (15.0, 3750.0), (20.0, 103_750.0),
         (25.0, 105_000.0), (30.0, 106_250.0)]
    keep, scr = screen({A: a})
    assert keep == {A: [True, False, True, True, True, True, True]}
    assert scr.reasons(A) == (SPEED, fast(1))
    assert scr.jump_over(A, 17.5) == (pytest.approx(100_000.0, rel=1e-9), 5.0)


def test_a_walked_track_after_another_in_the_batch() -> None:
    """The second-stream track of ``test_a_walked_track_does_not_take_in_the_fixes_of_
    another`` (two spikes in a row: walked), now after an honest track B (code 0): it is
    still walked (its pairs of spikes are of one track, whatever the batch's first track
    is), so its own fixes are kept and the three of the second stream rejected."""
    a = [(0.0, 0.0), (5.0, 500_000.0), (10.0, 2500.0), (15.0, 503_750.0), (20.0, 5000.0),
         (25.0, 506_250.0), (30.0, 7500.0)]
    keep, _ = screen({B: honest(4, 2_000_000.0), A: a})
    assert keep == {B: [True] * 4, A: [True, False, True, False, True, False, True]}
