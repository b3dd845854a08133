"""The tracker's window bookkeeping (``Tracker._step``), one rule at a time.

Written for the twelfth mutation run of the ``tracking`` group (docs/mutation.md): the
track score's limits (a score exactly at the confirmation threshold, exactly ``drop``
below its best), the score history, where a track that M-of-N would confirm but its
score holds back is kept, and the updates of young tracks while a soft (JPDA)
associator updates the confirmed ones. The score is a stub with round increments, so
every expected score is plain arithmetic written next to its test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking import Tracker
from skyfence.tracking.association import GlobalNearestNeighbour, JointProbabilistic
from skyfence.tracking.deletion import MissDeleter
from skyfence.tracking.filters import IMM, FilterState
from skyfence.tracking.initiation import MofNInitiator, TrackScore
from skyfence.tracking.tracker import SCORE_HISTORY, plot_covariances, scans_of

PLANE = LocalPlane(55.0, 12.0)
SITE = RadarSite(1, 1, 55.0, 12.0, 0.0)  # at the plane's centre
T0 = 1_758_268_800.0


@dataclass(frozen=True)
class _RoundScore(TrackScore):
    """A track score whose hit adds ``2.0`` and whose miss adds ``-1.0`` exactly, so a
    track's score after k hits and m misses is ``2k - m`` (binary fractions: no
    rounding), whatever the plots' costs and the clutter."""

    def hit(self, cost: npt.NDArray[np.float64], density_m2: float
            ) -> npt.NDArray[np.float64]:
        return np.full(np.shape(cost), 2.0)

    @property
    def miss(self) -> float:
        return -1.0


def _plots(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Plots without noise at plane positions ``x``, ``y`` of the radar ``SITE``."""
    lat, lon = PLANE.to_latlon(x, y)
    return pd.DataFrame({"time": t, "lat": lat, "lon": lon, "sac": 1.0, "sic": 1.0,
                         "range_m": np.hypot(x, y)})


def _straight(n: int) -> pd.DataFrame:
    """One target flying east at 50 m/s, a plot every 4 s."""
    t = T0 + 4.0 * np.arange(n)
    return _plots(t, -5000.0 + 50.0 * (t - T0), np.full(n, 12_000.0))


def _no_plots(tracker: Tracker, now: float) -> None:
    tracker.update(_plots(np.empty(0), np.empty(0), np.empty(0)), now=now)


def test_a_score_exactly_at_the_threshold_confirms() -> None:
    # the score a track must *reach* (Tracker's docstring): 2 + 2 = 4.0 after its third
    # plot (its first plot adds nothing: it is born there), the threshold 4.0. M-of-N
    # (2 of 3, 3 of 5) confirms at the third plot too, so the track is confirmed there;
    # with the threshold 4.5 it waits one scan, for 6.0
    for confirm, first in ((4.0, 3), (4.5, 4)):
        tracker = Tracker(PLANE, [SITE], score=_RoundScore(confirm=confirm))
        plots = _straight(5)
        confirmed = []
        for idx in scans_of(plots, 4.0):
            tracker.update(plots.iloc[idx])
            confirmed.append(tracker.confirmed_count)
        assert confirmed.index(1) + 1 == first


def test_a_score_exactly_drop_below_its_best_keeps_the_track() -> None:
    # five plots: score 0, 2, 4, 6, 8 (confirmed at the third, best 8); then scans
    # without a plot, -1 each: 7, 6, 5 = 8 - 3 (exactly ``drop`` below: kept, the rule
    # is "falls more than drop below"), 4 (ended). MissDeleter(100) never ends it
    tracker = Tracker(PLANE, [SITE], deleter=MissDeleter(100),
                      score=_RoundScore(confirm=4.0, drop=3.0))
    plots = _straight(5)
    for idx in scans_of(plots, 4.0):
        tracker.update(plots.iloc[idx])
    assert tracker.confirmed_count == 1
    assert tracker._a["llr"].tolist() == [8.0] and tracker._a["llr_peak"].tolist() == [8.0]
    counts, scores = [], []
    for i in range(1, 5):
        _no_plots(tracker, float(plots["time"].iloc[-1]) + 4.0 * i)
        counts.append(len(tracker))
        scores.append(tracker._a["llr"].tolist())
    assert counts == [1, 1, 1, 0]
    assert scores == [[7.0], [6.0], [5.0], []]


def test_the_score_history_holds_the_score_at_the_end_of_each_window() -> None:
    # column k of llr_hist is the score k windows ago: after five plots (scores 0, 2,
    # 4, 6, 8 at the end of windows 1-5) it is 8, 6, 4, 2, 0 and zeros before birth;
    # then a window without a plot (-1): 7, 8, 6, 4, 2, 0
    tracker = Tracker(PLANE, [SITE], deleter=MissDeleter(100),
                      score=_RoundScore(confirm=4.0))
    plots = _straight(5)
    for idx in scans_of(plots, 4.0):
        tracker.update(plots.iloc[idx])
    hist = tracker._a["llr_hist"]
    assert hist.shape == (1, SCORE_HISTORY)
    assert hist[0].tolist() == [8.0, 6.0, 4.0, 2.0, 0.0] + [0.0] * (SCORE_HISTORY - 5)
    _no_plots(tracker, float(plots["time"].iloc[-1]) + 4.0)
    assert tracker._a["llr_hist"][0].tolist() == (
        [7.0, 8.0, 6.0, 4.0, 2.0, 0.0] + [0.0] * (SCORE_HISTORY - 6))


def test_a_track_held_back_by_its_score_stays_one_stage_below_confirmed() -> None:
    # a threshold no track reaches: M-of-N (2 of 3, 3 of 5) would confirm at the third
    # plot; the track is held at the last stage before confirmed, status 1 (tentative),
    # not sent back to the candidates (0), from then on; it ends when its age reaches
    # the last stage's N plus the confirmed status, 5 + 2 = 7
    tracker = Tracker(PLANE, [SITE], score=_RoundScore(confirm=1e6))
    plots = _straight(8)
    statuses = []
    for idx in scans_of(plots, 4.0):
        tracker.update(plots.iloc[idx])
        statuses.append(tracker._a["status"].tolist())
    assert statuses == [[0], [1], [1], [1], [1], [1], [], [0]]


def test_a_held_track_ends_after_the_last_stage_of_three() -> None:
    # three stages (2 of 3, 3 of 5, 4 of 6; confirmed = 3): the held track (status 2)
    # ends when its age reaches the *last* stage's N plus 3 = 6 + 3 = 9, at the ninth
    # plot (not at 5 + 3 = 8, the middle stage's); a new candidate starts at the tenth
    tracker = Tracker(PLANE, [SITE], initiator=MofNInitiator(((2, 3), (3, 5), (4, 6))),
                      score=_RoundScore(confirm=1e6))
    plots = _straight(10)
    counts, statuses = [], []
    for idx in scans_of(plots, 4.0):
        tracker.update(plots.iloc[idx])
        counts.append(len(tracker))
        statuses.append(tracker._a["status"].tolist())
    assert counts == [1] * 8 + [0, 1]
    assert statuses[:8] == [[0], [1], [2], [2], [2], [2], [2], [2]]


def _a_and_c(associator: object) -> pd.DataFrame:
    """Track A flies east at y = 20 km from the start; target C east at y = -10 km
    from scan 6 on (A confirmed by then); the states of ten scans."""
    tracker = Tracker(PLANE, [SITE], associator=associator,  # type: ignore[arg-type]
                      score=TrackScore(false_tracks_per_h=1.0))
    out = []
    for k in range(10):
        xy = [(-10_000.0 + 400.0 * k, 20_000.0)]
        if k >= 6:
            xy.append((5_000.0 + 400.0 * (k - 6), -10_000.0))
        x, y = np.array(xy).T
        out.append(tracker.update(_plots(np.full(len(xy), T0 + 4.0 * k), x, y)))
    return pd.concat(out, ignore_index=True)


def test_young_tracks_are_updated_alike_beside_jpda_tracks() -> None:
    # With a soft (JPDA) associator only the confirmed tracks are updated by the PDA
    # mixture; a candidate or tentative track (C, started while A is confirmed) takes
    # its plot one-to-one as under GNN, position and reported sigma (the fix variance,
    # counting that its plot may be clutter). Its states before confirmation (reported
    # once it is confirmed, at its third plot) are the same as with GNN, where no
    # track is soft: C's plots 400 m apart, so the second and third states are
    # hundreds of metres from the first (a track not updated stays at its first plot)
    soft = _a_and_c(JointProbabilistic())
    hard = _a_and_c(GlobalNearestNeighbour())
    c_soft = soft[soft["track"] == "R0002"].sort_values("time")
    c_hard = hard[hard["track"] == "R0002"].sort_values("time")
    assert c_soft["time"].tolist()[:3] == [T0 + 24.0, T0 + 28.0, T0 + 32.0]
    assert c_soft["x"].iloc[:3].to_numpy() == pytest.approx([5000.0, 5400.0, 5800.0],
                                                            abs=30.0)
    for col in ("x", "y", "vx", "vy", "sigma_pos_m"):
        assert c_soft[col].iloc[:3].to_numpy() == pytest.approx(
            c_hard[col].iloc[:3].to_numpy(), rel=1e-9), col


SITE2 = RadarSite(1, 2, 55.0, 12.0, 0.0)  # a second radar at the same place


def _two_radars(k: int) -> pd.DataFrame:
    """Scan ``k`` of one target flying east at 50 m/s, seen by radar (1, 1) at the
    scan's start and by radar (1, 2) one second later."""
    t = T0 + 4.0 * k + np.array([0.0, 1.0])
    frame = _plots(t, -5000.0 + 50.0 * (t - T0), np.full(2, 12_000.0))
    frame["sic"] = [1.0, 2.0]
    return frame


def test_a_track_confirmed_with_two_radars_plots_reports_each_once() -> None:
    # Centralised fusion: the target's track takes both radars' plots of every window
    # (its candidate, started on radar 1's plot, takes radar 2's in the same window).
    # Without a track score M-of-N confirms it in the third window, which then reports
    # its history (windows 1 and 2: four states) and both of its own states: the six
    # plot times in order, each once
    tracker = Tracker(PLANE, [SITE, SITE2], score=None)
    out = [tracker.update(_two_radars(k)) for k in range(3)]
    assert [len(o) for o in out] == [0, 0, 6]
    assert len(tracker) == 1
    assert out[2]["time"].tolist() == [T0 + s for s in (0.0, 1.0, 4.0, 5.0, 8.0, 9.0)]
    assert set(out[2]["sic"]) == {1.0, 2.0}


def test_a_track_confirmed_and_ended_as_a_twin_at_once_hides_only_its_own_rows() -> None:
    # A is confirmed (three plots). Beside it, a tentative track B is planted by hand
    # (started on a plot 10 m from A's, with 2 hits), which M-of-N confirms in the next
    # window, where radar 1 has A's plot and B's (B takes the one A leaves) and radar 2
    # has A's plot a second later. B is A's twin (same place; its velocity unknown) and
    # confirmed only now: it ends unseen (no id, no state). A's two states of that
    # window, one per radar, are reported all the same (B's row comes between them)
    tracker = Tracker(PLANE, [SITE, SITE2], score=None)
    for k in range(3):
        tracker.update(_two_radars(k))
    assert tracker.confirmed_count == 1
    t3 = T0 + 12.0
    x3 = -5000.0 + 50.0 * 12.0
    tracker._start(np.array([0]), tracker._prepare(_plots(np.array([t3 - 4.0]),
                                                          np.array([x3 - 190.0]),
                                                          np.array([12_000.0]))))
    tracker._a["status"][1], tracker._a["hits"][1], tracker._a["age"][1] = 1, 0b11, 2
    scan = _plots(np.array([t3, t3, t3 + 1.0]), np.array([x3, x3 + 10.0, x3 + 50.0]),
                  np.full(3, 12_000.0))
    scan["sic"] = [1.0, 1.0, 2.0]
    out = tracker.update(scan)
    assert len(tracker) == 1 and tracker._a["uid"].tolist() == [0]
    assert out["track"].tolist() == ["R0001", "R0001"]
    assert out["time"].tolist() == [t3, t3 + 1.0]


def test_the_history_is_kept_only_for_live_tracks_not_yet_confirmed() -> None:
    # the states of a track before confirmation wait in _history until it is confirmed
    # (then reported, or with emit_history=False not) or ends; nothing is kept after:
    # a target confirmed at its third plot, and a single plot 40 km off whose candidate
    # (1 of 3) ends when 3 windows old
    tracker = Tracker(PLANE, [SITE], score=None, emit_history=False)
    plots = _straight(4)
    held = []
    for k, idx in enumerate(scans_of(plots, 4.0)):
        scan = plots.iloc[idx]
        if k == 0:
            scan = pd.concat([scan, _plots(np.array([T0]), np.array([-40_000.0]),
                                           np.array([0.0]))], ignore_index=True)
        tracker.update(scan)
        held.append(sorted(tracker._history))
    # uid 0: the target; uid 1: the lone plot's candidate
    assert held == [[0, 1], [0, 1], [], []]
    assert tracker._a["uid"].tolist() == [0] and tracker.confirmed_count == 1


@pytest.mark.parametrize(("models_x", "plot_x", "d2"), [
    # four models at x = 1750 m and one at -3250 m (mean 750 m, the lone one 4000 m
    # off): a plot where the lone model predicts the target is 4000 m from the centre,
    # inside the gate's radius (sqrt(13.8) x 35 m = 130 m) plus 1.5 x 4000 m, not
    # within 130 m plus 1.5 x 2500 m (2.5 km: the largest of |x + 750| over the
    # models, an offset taken from the mean's mirror image)
    ((1750.0, 1750.0, 1750.0, 1750.0, -3250.0), -3250.0, 0.0),
    # models 50 m either side of 0 (offset 50 m): a plot 60 m beyond the eastern one,
    # d2 = 3600 / 925 = 3.9 for it (the western one's 160 m is out of its gate), is
    # 110 m from the centre: inside 130 + 1.5 x 50 m, not 130 - 1.5 x 50 m
    ((-50.0, 50.0, 50.0, -50.0, -50.0), 110.0, 3600.0 / 925.0),
])
def test_the_plot_search_spans_motion_models_that_disagree(
        models_x: tuple[float, ...], plot_x: float, d2: float) -> None:
    # _cost looks for plots around the mean of the motion models' predictions, within
    # the gate's radius plus 1.5 times the models' largest offset from that mean (on
    # one axis; 1.5 > sqrt 2 covers both). An IMM of five quiet models that do not mix
    # (switch 0), each known to 5 m, predicting the target at ``models_x``; a plot of
    # noise 30 m at ``plot_x``, its cost d2 + ln |S| (S = 25 + 900 per axis) for the
    # model nearest it
    imm = IMM(qs=(1.0,) * 5, turns=(0.0,) * 5, switch=0.0, dampings=None)
    tracker = Tracker(PLANE, [SITE], motion=imm)
    x = np.zeros((1, 5, 4))
    x[0, :, 0] = models_x
    tracker._state = FilterState({
        "x": x, "p": np.repeat(np.diag([25.0, 25.0, 1.0, 1.0])[None, None], 5, axis=1),
        "mu": np.full((1, 5), 0.2)})
    tracker._a.update({"t": np.array([100.0]), "has_alt": np.zeros(1, bool),
                       "zv": np.zeros((1, 2)), "pv": np.zeros((1, 2, 2))})
    z = np.array([[plot_x, 0.0]])
    r = np.diag([900.0, 900.0])[None]
    cost = tracker._cost(np.array([0]), np.arange(1), z, r, np.array([100.0]))
    assert cost[0, 0] == pytest.approx(d2 + 2 * np.log(925.0))


def test_a_plot_exactly_on_the_gate_is_inside() -> None:
    # the validation region is d2 <= gate (Bar-Shalom's ellipsoid, boundary included),
    # for the motion model that takes the plot. Two quiet models that do not mix, each
    # known exactly at the plots' time, one 1 km west, one at the origin; the gate set
    # to 4: a plot 60 m east with noise 900 m^2 per axis has d2 = 3600 / 900 = 4 exactly
    # (binary fractions) for the second model (1060^2 / 900 for the first), cost
    # 4 + ln(900^2); a plot 60.5 m south is out
    imm = IMM(qs=(1.0, 1.0), turns=(0.0, 0.0), switch=0.0, dampings=None)
    tracker = Tracker(PLANE, [SITE], motion=imm)
    tracker.gate = 4.0
    x = np.zeros((1, 2, 4))
    x[0, 0, 0] = -1000.0
    tracker._state = FilterState({"x": x, "p": np.zeros((1, 2, 4, 4)),
                                  "mu": np.full((1, 2), 0.5)})
    tracker._a.update({"t": np.array([100.0]), "has_alt": np.zeros(1, bool),
                       "zv": np.zeros((1, 2)), "pv": np.zeros((1, 2, 2))})
    z = np.array([[60.0, 0.0], [0.0, -60.5]])
    r = np.repeat(np.diag([900.0, 900.0])[None], 2, axis=0)
    cost = tracker._cost(np.array([0]), np.arange(2), z, r, np.full(2, 100.0))
    assert cost[0, 0] == 4.0 + 2 * np.log(900.0)
    assert cost[0, 1] == np.inf


def test_plot_columns_of_any_type_that_reads_as_numbers() -> None:
    # _prepare reads every numeric column as floats: plots whose columns are Python
    # objects (a frame built from mixed records, JSON, a CSV read as text) track as
    # the same plots as floats. One target, five scans, with heights, radar codes and
    # range; the states the two trackers report are the same
    plots = _straight(5)
    plots["altitude"] = 3000.0 + 10.0 * np.arange(5)
    plots["sigma_range_m"] = 40.0
    as_objects = plots.astype(object)
    assert all(d == np.dtype(object) for d in as_objects.dtypes)
    got = []
    for frame in (plots, as_objects):
        tracker = Tracker(PLANE, [SITE], score=None)
        got.append(pd.concat([tracker.update(frame.iloc[idx])
                              for idx in scans_of(plots, 4.0)], ignore_index=True))
    assert len(got[0]) == 5  # confirmed at the third plot, with its history
    pd.testing.assert_frame_equal(got[1], got[0])


def test_plots_with_only_time_and_position_read_with_the_defaults() -> None:
    # _prepare's defaults for missing columns: radar codes -1 (no radar: no site, so
    # the noise is a circle), no height, no range known (NaN; the noise's across-range
    # part taken at 100 km), sigmas 50 m in range and 0.08 deg in azimuth, no identity,
    # no record number. The circle is the larger of the two: 100 km x 0.08 deg in
    # radians = 139.63 m (above 50 m); with a zero azimuth sigma given, the 50 m
    lat, lon = PLANE.to_latlon(np.array([1000.0, -2000.0]), np.array([5000.0, 0.0]))
    frame = pd.DataFrame({"time": [T0, T0 + 1.0], "lat": lat, "lon": lon})
    tracker = Tracker(PLANE, [SITE])
    scan = tracker._prepare(frame)
    assert scan.t.tolist() == [T0, T0 + 1.0]
    assert scan.z == pytest.approx(np.array([[1000.0, 5000.0], [-2000.0, 0.0]]), abs=1e-6)
    assert scan.sac.tolist() == [-1.0, -1.0] and scan.sic.tolist() == [-1.0, -1.0]
    assert np.isnan(scan.alt).all() and np.isnan(scan.record).all()
    assert np.isnan(scan.range_m).all()
    assert scan.icao24.tolist() == [None, None] and scan.squawk.tolist() == [None, None]
    assert scan.callsign.tolist() == [None, None]
    across = 100_000.0 * 0.08 * np.pi / 180.0
    circle = np.diag([across**2, across**2])
    assert scan.r == pytest.approx(np.array([circle, circle]))
    frame["sigma_azimuth_deg"] = 0.0
    assert tracker._prepare(frame).r == pytest.approx(np.array([np.diag([2500.0] * 2)] * 2))
    # the states report the radar codes read
    plots = _straight(3)[["time", "lat", "lon"]]
    states = pd.concat([tracker.update(plots.iloc[[k]]) for k in range(3)])
    assert len(states) == 3
    assert states["sac"].tolist() == [-1.0] * 3 and states["sic"].tolist() == [-1.0] * 3
    assert np.isnan(states["altitude"]).all() and states["icao24"].isna().all()


def test_a_plot_s_height_is_taken_above_its_radar_s_antenna() -> None:
    # _prepare hands plot_covariances each plot's radar: where it is, its antenna's
    # altitude and its height sigma. A jet at 14,130 m, 3 km east of a radar whose
    # antenna is at 430 m (height sigma 150 m), slant range 14,025 m, range sigma 40 m:
    # 13,700 m above the antenna (+ 0.7 m of horizon drop), its error along the line of
    # sight hypot(14,025 / 3000 x 40, 13,700.7 / 3000 x 150) = hypot(187.0, 685.0) =
    # 710.1 m; across, 3000 m x 0.08 deg = 4.19 m
    site = RadarSite(1, 1, 55.0, 12.0, 430.0, sigma_height_m=150.0)
    tracker = Tracker(PLANE, [site])
    plots = _plots(np.array([T0]), np.array([3000.0]), np.array([0.0]))
    plots["range_m"], plots["altitude"] = 14_025.0, 14_130.0
    plots["sigma_range_m"], plots["sigma_azimuth_deg"] = 40.0, 0.08
    r = tracker._prepare(plots).r[0]
    along = np.hypot(14_025.0 / 3000.0 * 40.0, (13_700.0 + 3000.0**2 / 2 / 6_371_000.0)
                     / 3000.0 * 150.0)
    assert along == pytest.approx(710.1, abs=0.05)
    assert np.sqrt(r[0, 0]) == pytest.approx(along, rel=1e-6)
    assert np.sqrt(r[1, 1]) == pytest.approx(3000.0 * np.radians(0.08), rel=1e-6)


@pytest.mark.parametrize(("east_m", "oriented"), [(1.5, True), (1.0, False)])
def test_a_plot_on_its_radar_gets_a_circle(east_m: float, oriented: bool) -> None:
    # plot_covariances orients a plot's noise along the line of sight from its radar
    # when the plot is more than 1 m from it on the ground; closer (no direction to
    # speak of, and the division by that distance), a circle of the larger sigma. Range
    # sigma 50 m, azimuth 1 deg (across: 1.5 m x 0.01745 = 0.026 m): 1.5 m east is
    # oriented (range noise along x), exactly 1 m is a circle of 50 m
    r = plot_covariances(np.array([east_m]), np.zeros(1), np.array([east_m]),
                         np.array([50.0]), np.array([1.0]), np.zeros((1, 2)))
    across = (east_m * np.radians(1.0)) ** 2
    expected = np.diag([2500.0, across]) if oriented else np.diag([2500.0, 2500.0])
    assert r[0] == pytest.approx(expected, abs=1e-12)


def test_a_height_without_its_radar_s_altitude_is_not_used() -> None:
    # plot_covariances uses a plot's height only with its radar's antenna altitude
    # (the height above the antenna is what bends the line of sight); either alone
    # leaves the flat covariance: range 50 m along x, 10 km x 0.1 deg across
    args = (np.array([10_000.0]), np.zeros(1), np.array([10_000.0]), np.array([50.0]),
            np.array([0.1]), np.zeros((1, 2)))
    flat = np.diag([2500.0, (10_000.0 * np.radians(0.1)) ** 2])
    for extra in ({"height_m": np.array([9000.0])}, {"site_alt_m": np.array([100.0])}):
        r = plot_covariances(*args, **extra, sigma_height_m=np.array([100.0]))
        assert r[0] == pytest.approx(flat)


def test_a_steep_plot_without_a_slant_range_takes_it_from_its_position() -> None:
    # with a height, plot_covariances needs the slant range; a range of 0 (or NaN:
    # none reported) is taken from the plot's position, hypot(ground, height above the
    # antenna), here hypot(3000, 13,700.7) = 14,025.3 m: the along-range sigma as in
    # the docstring's example, hypot(14,025.3 / 3000 x 40, 13,700.7 / 3000 x 150)
    dh = 13_700.0 + 3000.0**2 / 2 / 6_371_000.0
    along = np.hypot(np.hypot(3000.0, dh) / 3000.0 * 40.0, dh / 3000.0 * 150.0)
    for rng in (0.0, np.nan):
        r = plot_covariances(np.array([3000.0]), np.zeros(1), np.array([rng]),
                             np.array([40.0]), np.array([0.08]), np.zeros((1, 2)),
                             height_m=np.array([14_130.0]), site_alt_m=np.array([430.0]),
                             sigma_height_m=np.array([150.0]))
        assert np.sqrt(r[0, 0, 0]) == pytest.approx(along, rel=1e-9)
