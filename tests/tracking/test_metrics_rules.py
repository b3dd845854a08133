"""Rules of the track-to-truth scoring (``skyfence.tracking.metrics``: ``truth_xy`` and
``score_tracks``) on hand-built truth frames and track batches.

The references are worked out without the code under test:

- positions are placed with pyproj's geodesic (``Geod.fwd``) at a known azimuth and
  distance. In an azimuthal equidistant plane around a centre (``LocalPlane``) a point
  at geodesic distance s and azimuth az from the centre lies at x = s sin az,
  y = s cos az; ``truth_xy``'s answers are then written by hand (linear interpolation
  between the samples, done on paper);
- a track state is put at a known geodesic offset from the truth sample of its time,
  so the distance ``score_tracks`` measures in its plane is that offset (the plane's
  scale error a few km from its centre is below a millimetre), and the RMSE, the counts
  and the matching follow by hand;
- a seeded random scene is scored by a brute-force reference written here (geodesic
  distances from pyproj, the median of Python's ``statistics``, every target tried in
  the truth's order).

Fast (about a second), no randomness beyond a fixed seed.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skyfence.radar import LocalPlane
from skyfence.tracking.metrics import TrackScore, score_tracks, truth_xy

GEOD = Geod(ellps="WGS84")
LAT0, LON0 = 59.4, 24.7
T0 = 1_764_547_200.0  # 1 Dec 2025 00:00 UTC: epoch seconds as the simulator writes them


def at(az: float, s: float, lat: float = LAT0, lon: float = LON0) -> tuple[float, float]:
    """The point ``s`` metres from (lat, lon) along the geodesic of azimuth ``az``."""
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, s)
    return float(lat2), float(lon2)


Row = tuple[float, object, tuple[float, float]]


def truth_frame(rows: Sequence[Row]) -> pd.DataFrame:
    return pd.DataFrame({"time": [r[0] for r in rows], "target": [r[1] for r in rows],
                         "lat": [r[2][0] for r in rows], "lon": [r[2][1] for r in rows]})


def track_frame(rows: Sequence[Row]) -> pd.DataFrame:
    return pd.DataFrame({"time": [r[0] for r in rows], "icao24": [r[1] for r in rows],
                         "lat": [r[2][0] for r in rows], "lon": [r[2][1] for r in rows]})


# --------------------------------------------------------------------------- truth_xy
#
# Target A, in LocalPlane(LAT0, LON0): at T0 at the centre (0, 0); T0+10 1 000 m north
# (0, 1000); T0+20 3 000 m north (0, 3000); T0+30 2 000 m east (2000, 0). Between the
# samples it moves on straight lines in the plane, at three different speeds.

A_SAMPLES = [(T0, (0.0, 0.0)), (T0 + 10, (0.0, 1000.0)), (T0 + 20, (0.0, 3000.0)),
             (T0 + 30, (90.0, 2000.0))]


def _a_rows() -> list[tuple[float, object, tuple[float, float]]]:
    return [(t, "A", at(az, s)) for t, (az, s) in A_SAMPLES]


#: (time, x, y, alive) worked out by hand
A_EXPECTED = [
    (T0 - 5, 0.0, 0.0, False),        # before the first sample: held there, not alive
    (T0, 0.0, 0.0, True),             # the first sample itself is alive
    (T0 + 5, 0.0, 500.0, True),       # between the first two samples
    (T0 + 10, 0.0, 1000.0, True),
    (T0 + 15, 0.0, 2000.0, True),     # the second segment: 200 m/s
    (T0 + 25, 1000.0, 1500.0, True),  # between the last two samples
    (T0 + 30, 2000.0, 0.0, True),     # the last sample itself is alive
    (T0 + 35, 2000.0, 0.0, False),    # after the last: held there, not alive
]


def _check_a(truth: pd.DataFrame) -> None:
    times = np.array([e[0] for e in A_EXPECTED])
    x, y, alive = truth_xy(truth, LocalPlane(LAT0, LON0), "A", times)
    assert x == pytest.approx([e[1] for e in A_EXPECTED], abs=1e-4)
    assert y == pytest.approx([e[2] for e in A_EXPECTED], abs=1e-4)
    assert alive.tolist() == [e[3] for e in A_EXPECTED]


def test_truth_xy_interpolates_in_the_plane_and_marks_the_life() -> None:
    """Linear interpolation between the samples in the plane, at the query times; the
    ends of the truth are alive (inclusive bounds), times outside are held at the
    nearest end and marked not alive. Pins the interpolation on x and y, both bounds
    of ``alive`` (``>=``/``<=``, the first and the last sample, ``&``)."""
    _check_a(truth_frame(_a_rows()))


def test_truth_xy_takes_the_targets_own_rows_in_time_order() -> None:
    """Rows of other targets are left out and the rows need not be in time order:
    target B (static 5 km south, alive T0+50..T0+60) interleaved with A, the whole frame
    in a scrambled order. A's answers are unchanged; B's are its own (the filter on
    ``target`` and the sort by time)."""
    b_rows = [(T0 + 50 + 5 * k, "B", at(180.0, 5000.0)) for k in range(3)]
    rows = _a_rows() + b_rows
    scrambled = [rows[i] for i in (4, 2, 6, 0, 3, 5, 1)]
    truth = truth_frame(scrambled)
    _check_a(truth)
    x, y, alive = truth_xy(truth, LocalPlane(LAT0, LON0), "B",
                           np.array([T0 + 45, T0 + 50, T0 + 55, T0 + 60, T0 + 65]))
    assert x == pytest.approx([0.0] * 5, abs=1e-4)
    assert y == pytest.approx([-5000.0] * 5, abs=1e-4)
    assert alive.tolist() == [False, True, True, True, False]


def test_truth_xy_reads_a_time_column_of_python_objects() -> None:
    """A time column held as Python objects (a frame built from mixed rows, a reader
    that did not infer the type) is read as numbers: np.interp has no loop for object
    arrays, so the column must be converted to float."""
    truth = truth_frame(_a_rows())
    truth["time"] = truth["time"].astype(object)
    truth["lat"] = truth["lat"].astype(object)
    truth["lon"] = truth["lon"].astype(object)
    _check_a(truth)


# ----------------------------------------------------------------------- score_tracks
#
# Two targets 6 km apart: A from 3 km west of the centre flying north at 100 m/s, B from
# 3 km east flying south at 100 m/s; samples every 10 s from T0 to T0+100. Tracks are put
# at known geodesic offsets from a target's sample of the same time: west of A (away
# from B), east of B (away from A).

TIMES = [T0 + 10 * k for k in range(11)]
A0, B0 = at(270.0, 3000.0), at(90.0, 3000.0)


def a_pos(k: int) -> tuple[float, float]:
    return at(0.0, 1000.0 * k, *A0)


def b_pos(k: int) -> tuple[float, float]:
    return at(180.0, 1000.0 * k, *B0)


def two_targets(a: object = "A", b: object = "B", a_samples: int = 11
                ) -> list[tuple[float, object, tuple[float, float]]]:
    return ([(TIMES[k], a, a_pos(k)) for k in range(a_samples)]
            + [(TIMES[k], b, b_pos(k)) for k in range(11)])


def off_a(track: object, ks: list[int], offsets: list[float]
          ) -> list[tuple[float, object, tuple[float, float]]]:
    """Track states at A's samples ``ks``, each ``offset`` metres west of A."""
    return [(TIMES[k], track, at(270.0, d, *a_pos(k))) for k, d in zip(ks, offsets, strict=True)]


def off_b(track: object, ks: list[int], offsets: list[float]
          ) -> list[tuple[float, object, tuple[float, float]]]:
    """Track states at B's samples ``ks``, each ``offset`` metres east of B."""
    return [(TIMES[k], track, at(90.0, d, *b_pos(k))) for k, d in zip(ks, offsets, strict=True)]


def rms(values: list[float]) -> float:
    return math.sqrt(sum(v * v for v in values) / len(values))


OFF_T2 = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0]


def test_each_track_is_matched_to_the_target_it_follows() -> None:
    """Two tracks, each following one target: each matched to its own, the RMSE over
    every state of both (11 + 7 = 18 distances, worked out by hand from the offsets),
    no false track. The track rows come T2 first: ``matched`` lists the tracks in
    track-id order (the grouping sorts the ids)."""
    truth = truth_frame(two_targets())
    tracks = track_frame(off_a("T2", list(range(11)), OFF_T2)
                         + off_b("T1", list(range(2, 9)), [25.0] * 7))
    s = score_tracks(tracks, truth)
    assert list(s.matched.items()) == [("T1", "B"), ("T2", "A")]
    assert s.states == 18
    assert s.unmatched_tracks == 0
    assert s.rmse_m == pytest.approx(rms(OFF_T2 + [25.0] * 7), rel=1e-6)
    assert isinstance(s, TrackScore)


def test_tracks_far_from_every_target_or_outside_the_truth_are_false() -> None:
    """A track 4 km west of A all along (7 km and more from B) and a track before the
    truth begins, at A's first position, are false tracks: counted (2), not matched,
    their states not scored. The RMSE is T2's alone."""
    truth = truth_frame(two_targets())
    before = [(T0 - 100 + 10 * k, "F2", a_pos(0)) for k in range(5)]
    tracks = track_frame(off_a("F1", list(range(11)), [4000.0] * 11) + before
                         + off_a("T2", list(range(11)), OFF_T2))
    s = score_tracks(tracks, truth)
    assert s.matched == {"T2": "A"}
    assert s.unmatched_tracks == 2
    assert s.states == 11
    assert s.rmse_m == pytest.approx(rms(OFF_T2), rel=1e-6)


def test_the_match_is_by_the_median_distance() -> None:
    """The median of the distances decides, not their mean or largest: 50, 60, 70,
    5 000, 5 000 m (median 70, mean 2 036) is matched at the default 2 km, and the RMSE
    takes all five."""
    truth = truth_frame(two_targets())
    offsets = [50.0, 5000.0, 60.0, 5000.0, 70.0]
    s = score_tracks(track_frame(off_a("T", [1, 3, 5, 7, 9], offsets)), truth)
    assert s.matched == {"T": "A"} and s.unmatched_tracks == 0 and s.states == 5
    assert s.rmse_m == pytest.approx(rms(offsets), rel=1e-6)


def test_states_outside_the_targets_life_are_not_scored() -> None:
    """A track that begins 20 s before the truth: its two early states have no truth
    to compare with (infinitely far for the median), the five others are 30 m off. The
    median (30 m of seven values, two of them infinite) matches it; the RMSE and the
    state count take the five states within the truth only."""
    truth = truth_frame(two_targets())
    early = [(T0 - 20, "P", a_pos(0)), (T0 - 10, "P", a_pos(0))]
    s = score_tracks(track_frame(early + off_a("P", [0, 1, 2, 3, 4], [30.0] * 5)), truth)
    assert s.matched == {"P": "A"}
    assert s.states == 5
    assert s.rmse_m == pytest.approx(30.0, rel=1e-6)


def test_a_track_mostly_outside_the_truth_is_false() -> None:
    """Five states before the truth begins and three on A: the median of the eight
    distances is infinite, so the track is false however close its three states are."""
    truth = truth_frame(two_targets())
    early = [(T0 - 50 + 10 * k, "Q", a_pos(0)) for k in range(5)]
    s = score_tracks(track_frame(early + off_a("Q", [0, 1, 2], [5.0] * 3)), truth)
    assert s.matched == {} and s.unmatched_tracks == 1 and s.states == 0
    assert math.isnan(s.rmse_m)


def test_a_target_that_ended_is_not_matched_at_its_last_position() -> None:
    """A's truth ends at T0+50 (truth_xy holds its last position after that). A track
    sitting at that position from T0+60 on is false (A is not alive then, B is far), and
    a track on B at the same times is matched to B: a target not alive at a track's
    times is skipped and the next one tried."""
    truth = truth_frame(two_targets(a_samples=6))
    stay = [(TIMES[k], "L", a_pos(5)) for k in range(6, 11)]
    tracks = track_frame(stay + off_b("M", list(range(6, 11)), [20.0] * 5))
    s = score_tracks(tracks, truth)
    assert s.matched == {"M": "B"}
    assert s.unmatched_tracks == 1
    assert s.states == 5
    assert s.rmse_m == pytest.approx(20.0, rel=1e-6)


def test_max_error_is_a_bound_on_the_median_both_sides() -> None:
    """A track on A's samples exactly (distance 0) is matched even with a bound of 0
    (the bound is inclusive: a median above it is refused), and scores an RMSE of 0. A
    track 100 m off is refused under a 99 m bound and matched under 101 m."""
    truth = truth_frame(two_targets())
    exact = track_frame([(TIMES[k], "E", a_pos(k)) for k in range(11)])
    s = score_tracks(exact, truth, max_error_m=0.0)
    assert s.matched == {"E": "A"} and s.unmatched_tracks == 0 and s.states == 11
    assert s.rmse_m == 0.0
    hundred = track_frame(off_a("H", list(range(11)), [100.0] * 11))
    s = score_tracks(hundred, truth, max_error_m=99.0)
    assert s.matched == {} and s.unmatched_tracks == 1 and s.states == 0
    s = score_tracks(hundred, truth, max_error_m=101.0)
    assert s.matched == {"H": "A"} and s.unmatched_tracks == 0
    assert s.rmse_m == pytest.approx(100.0, rel=1e-6)


def test_the_default_bound_is_2_km() -> None:
    """With the default bound, a track 1 999.5 m off its target is matched and one
    2 000.5 m off is not (the plane's error at these distances is about a millimetre)."""
    truth = truth_frame(two_targets())
    inside = score_tracks(track_frame(off_a("I", list(range(11)), [1999.5] * 11)), truth)
    assert inside.matched == {"I": "A"} and inside.unmatched_tracks == 0
    assert inside.rmse_m == pytest.approx(1999.5, rel=1e-6)
    outside = score_tracks(track_frame(off_a("O", list(range(11)), [2000.5] * 11)), truth)
    assert outside.matched == {} and outside.unmatched_tracks == 1


def test_the_nearest_target_wins_and_a_tie_goes_to_the_first_in_the_truth() -> None:
    """Two targets flying the same path (identical samples) are the same distance from
    a track: it is matched to the one that comes first in the truth frame, whichever
    sorts first (Y before X, then X before Y). With Y moved 50 m further, X wins."""
    path = [(TIMES[k], a_pos(k)) for k in range(11)]
    track = track_frame(off_a("T", list(range(11)), [40.0] * 11))
    y_first = truth_frame([(t, "Y", p) for t, p in path] + [(t, "X", p) for t, p in path])
    assert score_tracks(track, y_first).matched == {"T": "Y"}
    x_first = truth_frame([(t, "X", p) for t, p in path] + [(t, "Y", p) for t, p in path])
    assert score_tracks(track, x_first).matched == {"T": "X"}
    # Y 50 m further east (so 90 m from the track, X 40 m), still first in the frame
    y_far = truth_frame([(t, "Y", at(90.0, 50.0, *p)) for t, p in path]
                        + [(t, "X", p) for t, p in path])
    s = score_tracks(track, y_far)
    assert s.matched == {"T": "X"}
    assert s.rmse_m == pytest.approx(40.0, rel=1e-6)


def test_ids_are_strings_and_targets_kept_as_they_are() -> None:
    """Track ids that are not strings (integers) are given as strings in ``matched``,
    in the integers' order; the targets are the truth's values (here integers)."""
    truth = truth_frame(two_targets(a=10, b=20))
    tracks = track_frame(off_b(7, [0, 1, 2], [15.0] * 3) + off_a(3, [0, 1, 2], [15.0] * 3))
    s = score_tracks(tracks, truth)
    assert list(s.matched.items()) == [("3", 10), ("7", 20)]


def test_no_tracks_or_no_match_scores_nothing_without_warnings() -> None:
    """No track at all, or only false ones: no state scored, the RMSE is NaN, and no
    numpy warning (the mean of no distances is never taken)."""
    truth = truth_frame(two_targets())
    empty = track_frame([])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = score_tracks(empty, truth)
        assert s.matched == {} and s.states == 0 and s.unmatched_tracks == 0
        assert math.isnan(s.rmse_m)
        s = score_tracks(track_frame(off_a("F", [0, 1], [9000.0] * 2)), truth)
        assert s.matched == {} and s.states == 0 and s.unmatched_tracks == 1
        assert math.isnan(s.rmse_m)


def test_time_columns_of_python_objects_score_the_same() -> None:
    """Time, latitude and longitude held as Python objects, in the tracks and in the
    truth, give the same score as float columns."""
    truth = truth_frame(two_targets())
    tracks = track_frame(off_a("T2", list(range(11)), OFF_T2)
                         + off_b("T1", list(range(2, 9)), [25.0] * 7))
    for frame in (truth, tracks):
        for col in ("time", "lat", "lon"):
            frame[col] = frame[col].astype(object)
    s = score_tracks(tracks, truth)
    assert s.matched == {"T1": "B", "T2": "A"} and s.states == 18
    assert s.rmse_m == pytest.approx(rms(OFF_T2 + [25.0] * 7), rel=1e-6)


# ------------------------------------------------------------- brute force, random scene


def brute_score(tracks: list[tuple[float, str, tuple[float, float]]],
                truth: dict[str, dict[float, tuple[float, float]]], max_error_m: float
                ) -> tuple[dict[str, str], list[float], int]:
    """The scoring by its definition, with track times on the truth's sample times:
    for each target (in the truth's order) the geodesic distance of each state to the
    target's sample at its time, infinite where the target has no truth (before its
    first or after its last sample); the target with the smallest median (the first on
    a tie) if that median is within the bound."""
    matched: dict[str, str] = {}
    dists: list[float] = []
    false = 0
    for tid in sorted({r[1] for r in tracks}):
        states = [r for r in tracks if r[1] == tid]
        best, best_err, best_d = None, math.inf, []
        for target, samples in truth.items():
            lo, hi = min(samples), max(samples)
            d = []
            for t, _, (lat, lon) in states:
                if lo <= t <= hi:
                    tlat, tlon = samples[t]
                    d.append(GEOD.inv(lon, lat, tlon, tlat)[2])
                else:
                    d.append(math.inf)
            if all(math.isinf(v) for v in d):
                continue
            err = statistics.median(d)
            if err < best_err:
                best, best_err, best_d = target, err, [v for v in d if not math.isinf(v)]
        if best is None or best_err > max_error_m:
            false += 1
            continue
        matched[tid] = best
        dists += best_d
    return matched, dists, false


@pytest.mark.parametrize("seed", range(4))
def test_a_random_scene_scores_as_the_brute_force_reference(seed: int) -> None:
    """Three targets with random lives on a 10 s grid, six tracks with random states on
    the grid (near a random target, or anywhere within 8 km): matching, counts and RMSE
    as the reference above computes them with geodesic distances."""
    rng = np.random.default_rng(seed)
    truth_rows: list[tuple[float, object, tuple[float, float]]] = []
    samples: dict[str, dict[float, tuple[float, float]]] = {}
    for name in ("C", "A", "B"):
        start = at(float(rng.uniform(0, 360)), float(rng.uniform(0, 5000)))
        heading, speed = float(rng.uniform(0, 360)), float(rng.uniform(50, 250))
        k0 = int(rng.integers(0, 5))
        k1 = int(rng.integers(k0 + 2, 15))
        samples[name] = {}
        for k in range(k0, k1 + 1):
            p = at(heading, speed * 10 * (k - k0), *start)
            samples[name][T0 + 10 * k] = p
            truth_rows.append((T0 + 10 * k, name, p))
    track_rows: list[tuple[float, str, tuple[float, float]]] = []
    for i in range(6):
        target = ("C", "A", "B")[int(rng.integers(0, 3))]
        spread = float(rng.choice([300.0, 1500.0, 8000.0]))
        for k in sorted(rng.choice(16, size=int(rng.integers(1, 8)), replace=False)):
            t = T0 + 10 * int(k)
            lo, hi = min(samples[target]), max(samples[target])
            base = samples[target][min(max(t, lo), hi)]
            track_rows.append((t, f"t{i}", at(float(rng.uniform(0, 360)),
                                              float(rng.uniform(0, spread)), *base)))
    truth = truth_frame(truth_rows)
    for bound in (500.0, 2000.0):
        matched, dists, false = brute_score(track_rows, samples, bound)
        s = score_tracks(track_frame(list(track_rows)), truth, max_error_m=bound)
        assert s.matched == matched
        assert s.unmatched_tracks == false
        assert s.states == len(dists)
        if dists:
            assert s.rmse_m == pytest.approx(rms(dists), rel=1e-5)
        else:
            assert math.isnan(s.rmse_m)
