"""The tracker's parts, one rule at a time, against references worked out by hand.

Each expected value is derived next to its test, from the textbook form of the rule
(Kalman prediction and correction written out for diagonal matrices, the IMM and PDA
mixtures written as explicit loops over models and plots, an assignment found by trying
every matching), never from the module's own functions. Written for the mutation run of
the ``tracking`` group (docs/mutation.md): these are the checks the scenario tests (a
simulated target in clutter) are too coarse to make.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking import Tracker
from skyfence.tracking.association import GlobalNearestNeighbour, JointProbabilistic
from skyfence.tracking.deletion import AnyOf, CoastDeleter, MissDeleter
from skyfence.tracking.filters import (
    IMM,
    ConstantVelocity,
    FilterState,
    Vertical,
    kalman_predict,
    kalman_update,
    process_noise,
    transition,
)
from skyfence.tracking.initiation import MofNInitiator, TrackScore, popcount
from skyfence.tracking.tracker import (
    TRACK_STATE_COLUMNS,
    plot_covariances,
    scans_of,
    track_plots,
)

LN_2PI = math.log(2 * math.pi)


# ------------------------------------------------------------------- initiation


def test_popcount_counts_only_the_last_n_scans() -> None:
    # 0b1011: last three scans 011 -> 2; 0b11111 -> 3 of 3; 0b11000 (hits 3 and 4 scans
    # ago) -> 0 of the last 3, 2 of the last 5
    bits = np.array([0b1011, 0b11111, 0b11000, 0], np.int64)
    assert popcount(bits, 3).tolist() == [2, 3, 0, 0]
    assert popcount(bits, 5).tolist() == [3, 5, 2, 0]
    assert popcount(bits, 1).tolist() == [1, 1, 0, 0]


def test_m_of_n_climbs_stages_and_drops_tracks_that_stall() -> None:
    ini = MofNInitiator()  # 2 of 3 to tentative, then 3 of 5 to confirmed
    assert ini.confirmed == 2
    status = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2], np.int64)
    hits = np.array([
        0b11,      # candidate, hit twice: 2 of 3 -> tentative (2 of 5 < 3: stays there)
        0b111,     # candidate, hit three times: tentative, then 3 of 5 at once -> confirmed
        0b100,     # candidate hit only at birth, 3 scans old: stays, dropped (age >= 3)
        0b10,      # candidate hit at birth, 2 scans old: stays, kept (age 2 < 3)
        0b10011,   # tentative, 3 of the last 5 -> confirmed
        0b100001,  # tentative, 1 of 5, 6 scans old: dropped (age >= 5 + 1)
        0b10001,   # tentative, 2 of 5, 5 scans old: kept (age 5 < 6)
        0b1010100,  # tentative, 2 of the last 5 (bit 6 is out of the window): stays
        0,         # confirmed: stays confirmed whatever its hits, never dropped here
    ], np.int64)
    age = np.array([2, 3, 3, 2, 5, 6, 5, 7, 40], np.int64)
    new, drop = ini.step(status, hits, age)
    assert new.tolist() == [1, 2, 0, 0, 2, 1, 1, 1, 2]
    assert drop.tolist() == [False, False, True, False, False, True, False, True, False]
    assert status.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2]  # the input is not changed


def test_track_score_terms() -> None:
    # a hit: ln(p_d) - ln(2 pi) - cost / 2 - ln(density); p_d 0.85, cost 10, 1e-8 per m^2:
    # -0.16252 - 1.83788 - 5 + 18.42068 = 11.42029
    s = TrackScore()
    expected = math.log(0.85) - LN_2PI - 5.0 - math.log(1e-8)
    assert s.hit(np.array([10.0, 12.0]), 1e-8) == pytest.approx([expected, expected - 1.0])
    assert expected == pytest.approx(11.42029, abs=1e-5)
    # a density of 0 is taken as 1e-18 per m^2 (ln 1e18 = 41.4465)
    assert s.hit(np.array([0.0]), 0.0)[0] == pytest.approx(
        math.log(0.85) - LN_2PI + 18 * math.log(10.0))
    # a miss: ln(1 - 0.85) = -1.89712
    assert s.miss == pytest.approx(-1.89712, abs=1e-5)
    assert TrackScore(p_detect=0.5).miss == pytest.approx(-math.log(2.0))


def test_track_score_threshold() -> None:
    assert TrackScore(confirm=7.5).threshold(1e9) == 7.5  # no rate allowed: confirm alone
    s = TrackScore(confirm=7.0, false_tracks_per_h=2.0)
    assert s.threshold(36_000.0) == pytest.approx(math.log(18_000.0))  # 9.798
    assert s.threshold(2.0 * math.exp(7.0) * 1.01) == pytest.approx(7.0 + math.log(1.01))
    assert s.threshold(2.0 * math.exp(7.0) * 0.99) == 7.0  # ln < confirm: confirm
    with warnings.catch_warnings():  # no candidates: confirm, without a log of zero
        warnings.simplefilter("error")
        assert s.threshold(0.0) == 7.0
    assert s.threshold(-5.0) == 7.0
    # fewer than one candidate an hour, one false track in 10,000 hours allowed:
    # ln(0.5 / 1e-4) = ln 5000 = 8.517
    assert TrackScore(false_tracks_per_h=1e-4).threshold(0.5) == pytest.approx(
        math.log(5000.0))


# --------------------------------------------------------------------- deletion


def test_miss_deleter_ends_at_max_misses() -> None:
    m = np.array([0, 2, 3, 4], np.int64)
    t = np.zeros(4)
    assert MissDeleter().delete(m, t, 100.0).tolist() == [False, False, True, True]
    assert MissDeleter(2).delete(m, t, 100.0).tolist() == [False, True, True, True]


def test_coast_deleter_limits() -> None:
    t = np.array([0.0, 0.0])
    m = np.zeros(2, np.int64)
    d = CoastDeleter()  # 20 s for everyone
    assert d.delete(m, t, 20.0).tolist() == [False, False]  # exactly the limit: kept
    assert d.delete(m, np.array([0.0, 0.5]), 20.2).tolist() == [True, False]
    assert d.limit_s(None, 3).tolist() == [20.0] * 3
    # growing from 20 s to 60 s over 30 plots: 20 + u / 30 * 40, clipped
    d = CoastDeleter(20.0, mature_coast_s=60.0, mature_updates=30)
    u = np.array([0, 15, 30, 60], np.int64)
    assert d.limit_s(u, 4) == pytest.approx([20.0, 40.0, 60.0, 60.0])
    assert d.limit_s(None, 2).tolist() == [20.0, 20.0]  # no counts given: the young limit
    assert d.delete(np.zeros(4, np.int64), np.zeros(4), 39.9, u).tolist() == [
        True, False, False, False]
    # at most 3 km at the track's speed, at least 12 s: 100 m/s -> 30 s; 1000 m/s -> 3 s,
    # raised to 12 s; unknown speed (NaN, taken as 0) -> no distance limit
    d = CoastDeleter(20.0, mature_coast_s=60.0, mature_updates=30, max_coast_m=3000.0,
                     min_coast_s=12.0)
    lim = d.limit_s(np.array([30, 30, 30, 0], np.int64), 4,
                    np.array([100.0, 1000.0, np.nan, 10.0]))
    assert lim == pytest.approx([30.0, 12.0, 60.0, 20.0])
    assert d.limit_s(np.array([30], np.int64), 1).tolist() == [60.0]  # no speeds given
    # a slow target with a short distance: 8 m at 0.5 m/s is 16 s
    d = CoastDeleter(20.0, max_coast_m=8.0, min_coast_s=1.0)
    assert d.limit_s(None, 1, np.array([0.5])) == pytest.approx([16.0])


def test_any_of_ends_a_track_when_one_deleter_says_so() -> None:
    d = AnyOf((MissDeleter(3), CoastDeleter(20.0)))
    misses = np.array([3, 0, 1, 0], np.int64)
    last = np.array([99.0, 70.0, 99.0, 85.0])
    # at 100 s: by misses; by time (30 s > 20 s); neither; neither (15 s)
    assert d.delete(misses, last, 100.0).tolist() == [True, True, False, False]
    assert AnyOf(()).delete(misses, last, 100.0).tolist() == [False] * 4
    # the counts and speeds are passed on: a mature track at 100 m/s may coast 30 s
    d = AnyOf((CoastDeleter(20.0, mature_coast_s=60.0, max_coast_m=3000.0),))
    out = d.delete(np.zeros(2, np.int64), np.array([70.0, 69.0]), 100.0,
                   np.array([30, 30], np.int64), np.array([100.0, 100.0]))
    assert out.tolist() == [False, True]


# ---------------------------------------------------------------------- filters


def test_constant_velocity_transition_and_noise() -> None:
    f = transition(np.array([3.0, -2.0]))
    x = np.array([10.0, 20.0, 5.0, -1.0])
    assert f[0] @ x == pytest.approx([25.0, 17.0, 5.0, -1.0])  # x + v dt
    assert f[1] @ x == pytest.approx([0.0, 22.0, 5.0, -1.0])  # backwards
    # white-noise acceleration, q = 2, dt = 3: q dt^3 / 3 = 18, q dt^2 / 2 = 9, q dt = 6;
    # backwards (dt = -3) the position-velocity terms change sign, the variances do not
    # no time, no noise (two radars' plots at the same time)
    assert process_noise(np.array([0.0]), 2.0).tolist() == np.zeros((1, 4, 4)).tolist()
    q = process_noise(np.array([3.0, -3.0]), 2.0)
    expected = np.array([[18.0, 0, 9, 0], [0, 18, 0, 9], [9, 0, 6, 0], [0, 9, 0, 6]])
    assert q[0] == pytest.approx(expected)
    back = expected.copy()
    back[0, 2] = back[2, 0] = back[1, 3] = back[3, 1] = -9.0
    assert q[1] == pytest.approx(back)


def test_coordinated_turn_follows_a_circle() -> None:
    # 90 deg/s to the right for 1 s at 100 m/s heading north: a quarter circle of radius
    # v / w = 100 / (pi / 2) = 63.66 m around the centre (63.66, 0) on the right; the
    # target ends at (63.66, 63.66) heading east
    rad = 100.0 / (math.pi / 2)
    f = transition(np.array([1.0]), turn_deg_s=90.0)
    assert f[0] @ np.array([0.0, 0.0, 0.0, 100.0]) == pytest.approx([rad, rad, 100.0, 0.0])
    # to the left, 45 deg in 1 s from heading east: centre (0, r), r = 100 / (pi / 4);
    # ends at (r sin 45, r - r cos 45) heading north-east
    rad = 100.0 / (math.pi / 4)
    f = transition(np.array([1.0]), turn_deg_s=-45.0)
    h = math.sqrt(0.5)
    assert f[0] @ np.array([0.0, 0.0, 100.0, 0.0]) == pytest.approx(
        [rad * h, rad * (1 - h), 100.0 * h, 100.0 * h])


def test_hover_model_decays_the_velocity() -> None:
    # velocity times exp(-|dt| / tau); position moved by its integral tau (1 - e^(-dt/tau))
    f = transition(np.array([2.0, -2.0]), damping_s=2.0)
    e = math.exp(-1.0)
    x = np.array([0.0, 0.0, 10.0, -4.0])
    assert f[0] @ x == pytest.approx([20 * (1 - e), -8 * (1 - e), 10 * e, -4 * e])
    assert f[1] @ x == pytest.approx([-20 * (1 - e), 8 * (1 - e), 10 * e, -4 * e])


def test_kalman_predict_by_hand() -> None:
    # P = diag(100, 100, 4, 4), dt = 2, q = 1: F P F' has position variance
    # 100 + dt^2 4 = 116 and covariance dt 4 = 8; Q adds dt^3/3 = 8/3, dt^2/2 = 2, dt = 2
    x = np.array([[0.0, 0.0, 10.0, 5.0]])
    p = np.diag([100.0, 100.0, 4.0, 4.0])[None]
    xp, pp = kalman_predict(x, p, np.array([2.0]), 1.0)
    assert xp[0] == pytest.approx([20.0, 10.0, 10.0, 5.0])
    pos, cross, vel = 116 + 8 / 3, 8.0 + 2.0, 4.0 + 2.0
    assert pp[0] == pytest.approx(np.array([[pos, 0, cross, 0], [0, pos, 0, cross],
                                            [cross, 0, vel, 0], [0, cross, 0, vel]]))
    cv = ConstantVelocity(q=1.0)
    st = cv.predict(FilterState({"x": x, "p": p}), np.array([2.0]))
    assert st.arrays["x"][0] == pytest.approx(xp[0])
    assert st.arrays["p"][0] == pytest.approx(pp[0])


def test_kalman_update_by_hand() -> None:
    # position variance 100, velocity 6, their covariance 10 (per axis); plot noise 25:
    # S = 125, gains 100 / 125 = 0.8 (position) and 10 / 125 = 0.08 (velocity).
    # A plot 10 m east: x += 8, vx += 0.8. Variances after: 100 - 100^2/125 = 20,
    # 6 - 10^2/125 = 5.2, covariance 10 - 100 * 10 / 125 = 2
    p = np.array([[100.0, 0, 10, 0], [0, 100, 0, 10], [10, 0, 6, 0], [0, 10, 0, 6]])
    x = np.array([0.0, 0.0, 3.0, 0.0])
    r = 25.0 * np.eye(2)
    xn, pn, nu, s = kalman_update(x[None], p[None], np.array([[10.0, -5.0]]), r[None])
    assert xn[0] == pytest.approx([8.0, -4.0, 3.8, -0.4])
    assert pn[0] == pytest.approx(np.array([[20.0, 0, 2, 0], [0, 20, 0, 2],
                                            [2, 0, 5.2, 0], [0, 2, 0, 5.2]]))
    assert nu[0] == pytest.approx([10.0, -5.0])
    assert s[0] == pytest.approx(125.0 * np.eye(2))
    cv = ConstantVelocity()
    st = cv.update(FilterState({"x": x[None], "p": p[None]}), np.array([[10.0, -5.0]]), r[None])
    assert st.arrays["x"][0] == pytest.approx(xn[0])
    assert st.arrays["p"][0] == pytest.approx(pn[0])


def test_a_new_track_is_its_plot_and_an_unknown_velocity() -> None:
    z = np.array([[1.0, 2.0], [3.0, 4.0]])
    r = np.array([[[9.0, 1.0], [1.0, 4.0]], [[16.0, 0.0], [0.0, 25.0]]])
    st = ConstantVelocity(sigma_v=30.0).initiate(z, r)
    assert st.arrays["x"].tolist() == [[1.0, 2.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0]]
    p = st.arrays["p"]
    assert p[0, :2, :2].tolist() == r[0].tolist()
    assert p[1].tolist() == np.diag([16.0, 25.0, 900.0, 900.0]).tolist()
    assert np.all(p[0, :2, 2:] == 0)
    imm = IMM(qs=(1.0, 50.0), turns=(0.0, 0.0), dampings=None, sigma_v=30.0)
    st = imm.initiate(z, r)
    assert st.arrays["mu"].tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert st.arrays["x"].shape == (2, 2, 4)
    for m in range(2):
        assert st.arrays["x"][:, m].tolist() == [[1.0, 2.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0]]
        assert st.arrays["p"][1, m].tolist() == np.diag([16.0, 25.0, 900.0, 900.0]).tolist()


def test_filter_state_rows() -> None:
    a = FilterState({"x": np.arange(6.0).reshape(3, 2), "m": np.array([1.0, 2.0, 3.0])})
    assert len(a) == 3
    b = a.take(np.array([2, 0]))
    assert b.arrays["x"].tolist() == [[4.0, 5.0], [0.0, 1.0]]
    assert b.arrays["m"].tolist() == [3.0, 1.0]
    assert a.take(np.array([False, True, False])).arrays["m"].tolist() == [2.0]
    c = a.concat(b)
    assert len(c) == 5 and c.arrays["m"].tolist() == [1.0, 2.0, 3.0, 3.0, 1.0]
    a.assign(np.array([1]), FilterState({"x": np.array([[9.0, 9.0]]), "m": np.array([7.0])}))
    assert a.arrays["x"].tolist() == [[0.0, 1.0], [9.0, 9.0], [4.0, 5.0]]
    assert a.arrays["m"].tolist() == [1.0, 7.0, 3.0]


def test_vertical_filter_by_hand() -> None:
    # [z, vz] = [100, 0], P = diag(900, 400), dt = 1, q = 2:
    # F P F' = [[900 + 400, 400], [400, 400]], Q = [[2/3, 1], [1, 2]]
    # -> Pp = [[1300.667, 401], [401, 402]]; S = 1300.667 + 30^2 = 2200.667;
    # K = [1300.667, 401] / S; a measurement of 200 moves z by 100 K[0], vz by 100 K[1]
    v = Vertical()
    pp = np.array([[1300 + 2 / 3, 401.0], [401.0, 402.0]])
    s = pp[0, 0] + 900.0
    k = pp[:, 0] / s
    zn, pn = v.step(np.array([[100.0, 0.0]]), np.diag([900.0, 400.0])[None], np.array([1.0]),
                    np.array([200.0]))
    assert zn[0] == pytest.approx([100 + 100 * k[0], 100 * k[1]])
    assert pn[0] == pytest.approx(pp - np.outer(k, pp[0]))
    # backwards by 1 s: F has -1, and so has the noise's cross term: z(t - d) =
    # F(-d) x(t) - integral over u in [0, d] of [-u, 1]' w, whose covariance is
    # q [[d^3/3, -d^2/2], [-d^2/2, d]] (the horizontal filter's sign(dt) too)
    zn, pn = v.step(np.array([[100.0, 10.0]]), np.diag([900.0, 400.0])[None],
                    np.array([-1.0]), np.array([90.0]))
    pp = np.array([[1300 + 2 / 3, -400 - 1.0], [-400 - 1.0, 402.0]])
    k = pp[:, 0] / (pp[0, 0] + 900.0)
    assert zn[0] == pytest.approx([90 + 0 * k[0], 10 + 0 * k[1]])
    assert pn[0] == pytest.approx(pp - np.outer(k, pp[0]))
    # 2 s ahead: F P F' = [[900 + 4 x 400, 2 x 400], [800, 400]], Q = q [[8/3, 2], [2, 2]]
    zn, pn = v.step(np.array([[100.0, 5.0]]), np.diag([900.0, 400.0])[None],
                    np.array([2.0]), np.array([150.0]))
    pp = np.array([[2500 + 16 / 3, 800 + 4.0], [800 + 4.0, 400 + 4.0]])
    k = pp[:, 0] / (pp[0, 0] + 900.0)
    assert zn[0] == pytest.approx([110 + 40 * k[0], 5 + 40 * k[1]])
    assert pn[0] == pytest.approx(pp - np.outer(k, pp[0]))
    # dt = 0 (a plot stamped as the row's last update): F = I and no noise, Pp = P;
    # S = 900 + 30^2 = 1800, K = [900 / 1800, 0] = [0.5, 0]: z 100 -> 100 + 0.5 x 30,
    # vz stays 5; Pn = [[900 - 0.5 x 900, 0], [0, 400]]
    zn, pn = v.step(np.array([[100.0, 5.0]]), np.diag([900.0, 400.0])[None],
                    np.array([0.0]), np.array([130.0]))
    assert zn[0].tolist() == [115.0, 5.0]
    assert pn[0].tolist() == [[450.0, 0.0], [0.0, 400.0]]
    z, p = Vertical(sigma_z=10.0, sigma_vz=3.0).initiate(np.array([500.0, 20.0]))
    assert z.tolist() == [[500.0, 0.0], [20.0, 0.0]]
    assert p[1].tolist() == [[100.0, 0.0], [0.0, 9.0]]


def _gauss2(nu: np.ndarray, s: np.ndarray) -> float:
    """The bivariate normal density of ``nu`` with covariance ``s``, written out:
    exp(-d2 / 2) / (2 pi sqrt(det s)), with the 2 x 2 inverse by cofactors."""
    det = s[0, 0] * s[1, 1] - s[0, 1] * s[1, 0]
    inv = np.array([[s[1, 1], -s[0, 1]], [-s[1, 0], s[0, 0]]]) / det
    return float(np.exp(-0.5 * nu @ inv @ nu) / (2 * math.pi * math.sqrt(det)))


def _kf(x: np.ndarray, p: np.ndarray, z: np.ndarray, r: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One Kalman correction of a position by the textbook (gain form, one row)."""
    h = np.hstack([np.eye(2), np.zeros((2, 2))])
    s = h @ p @ h.T + r
    k = p @ h.T @ np.linalg.inv(s)
    return x + k @ (z - h @ x), (np.eye(4) - k @ h) @ p, z - h @ x, s


def _predicted_track() -> tuple[np.ndarray, np.ndarray]:
    x = np.array([100.0, -50.0, 20.0, 5.0])
    p = np.array([[400.0, 30, 40, 0], [30, 300, 0, 35], [40, 0, 25, 2], [0, 35, 2, 16]])
    return x, p


def test_pda_update_is_the_mixture_of_the_plot_hypotheses() -> None:
    # one track, two plots weighted 0.6 and 0.3, the prediction kept with 0.1: the mean
    # is the weighted mean of the three hypotheses (the prediction and the two Kalman
    # corrections), the covariance their weighted covariances plus the spread of means
    x, p = _predicted_track()
    z = np.array([[130.0, -40.0], [90.0, -75.0]])
    r = np.array([[[100.0, 0.0], [0.0, 100.0]], [[225.0, 50.0], [50.0, 144.0]]])
    beta, beta0 = np.array([0.6, 0.3]), np.array([0.1])
    hyps = [(x, p, 0.1)] + [(*_kf(x, p, z[k], r[k])[:2], beta[k]) for k in range(2)]
    mean = sum(w * xh for xh, _, w in hyps)
    cov = sum(w * (ph + np.outer(xh - mean, xh - mean)) for xh, ph, w in hyps)
    st = ConstantVelocity().update_pda(FilterState({"x": x[None], "p": p[None]}),
                                       np.array([0, 0]), z, r, beta, beta0, 1e-9)
    assert st.arrays["x"][0] == pytest.approx(mean)
    assert st.arrays["p"][0] == pytest.approx(cov)
    # all weight on one plot: the plain Kalman correction; none: the prediction
    st = ConstantVelocity().update_pda(FilterState({"x": x[None], "p": p[None]}),
                                       np.array([0]), z[:1], r[:1], np.array([1.0]),
                                       np.array([0.0]), 1e-9)
    xk, pk, _, _ = _kf(x, p, z[0], r[0])
    assert st.arrays["x"][0] == pytest.approx(xk)
    assert st.arrays["p"][0] == pytest.approx(pk)
    st = ConstantVelocity().update_pda(FilterState({"x": x[None], "p": p[None]}),
                                       np.array([0]), z[:1], r[:1], np.array([0.0]),
                                       np.array([1.0]), 1e-9)
    assert st.arrays["x"][0] == pytest.approx(x)
    assert st.arrays["p"][0] == pytest.approx(p)


def test_pda_update_of_two_tracks_keeps_their_plots_apart() -> None:
    # track 1 takes plots 0 and 2, track 0 plot 1: each row sees only its own plots
    x, p = _predicted_track()
    x2 = x + np.array([5000.0, 0.0, 0.0, 0.0])
    z = np.array([[5120.0, -45.0], [110.0, -60.0], [5090.0, -52.0]])
    r = np.repeat(np.diag([100.0, 64.0])[None], 3, axis=0)
    pair = np.array([1, 0, 1])
    beta, beta0 = np.array([0.5, 0.7, 0.4]), np.array([0.3, 0.1])
    st = ConstantVelocity().update_pda(
        FilterState({"x": np.stack([x, x2]), "p": np.stack([p, p])}), pair, z, r, beta,
        beta0, 1e-9)
    for row, xr in ((0, x), (1, x2)):
        hyps = [(xr, p, beta0[row])] + [(*_kf(xr, p, z[k], r[k])[:2], beta[k])
                                         for k in range(3) if pair[k] == row]
        mean = sum(w * xh for xh, _, w in hyps)
        cov = sum(w * (ph + np.outer(xh - mean, xh - mean)) for xh, ph, w in hyps)
        assert st.arrays["x"][row] == pytest.approx(mean)
        assert st.arrays["p"][row] == pytest.approx(cov)


def _two_model_state() -> tuple[IMM, FilterState, np.ndarray, np.ndarray]:
    imm = IMM(qs=(1.0, 50.0), turns=(0.0, 0.0), switch=0.1, dampings=None)
    x, p = _predicted_track()
    xs = np.stack([x, x + np.array([40.0, -20.0, 6.0, -3.0])])
    ps = np.stack([p, 3.0 * p])
    mu = np.array([0.8, 0.2])
    return imm, FilterState({"x": xs[None], "p": ps[None], "mu": mu[None]}), xs, ps


def test_imm_update_weighs_the_models_by_their_likelihood() -> None:
    # mu_m proportional to c_m N(nu_m; 0, S_m), each model corrected on its own
    imm, st, xs, ps = _two_model_state()
    z, r = np.array([150.0, -60.0]), np.diag([100.0, 100.0])
    out = imm.update(st, z[None], r[None])
    lik = []
    for m in range(2):
        xk, pk, nu, s = _kf(xs[m], ps[m], z, r)
        assert out.arrays["x"][0, m] == pytest.approx(xk)
        assert out.arrays["p"][0, m] == pytest.approx(pk)
        lik.append(_gauss2(nu, s))
    mu = np.array([0.8, 0.2]) * lik
    assert out.arrays["mu"][0] == pytest.approx(mu / mu.sum())
    assert out.arrays["mu"][0, 1] > 0.25  # the plot favours the second model


def test_imm_update_of_a_plot_far_off() -> None:
    # a second track whose plot is 100 km off: its likelihoods underflow (d2 ~ 1e7),
    # but their ratio does not: the model probabilities are normalised per track in
    # logs, ln N_m = -d2_m / 2 - ln(2 pi) - ln|S_m| / 2, and the wider second model
    # takes it all; the first track is as alone
    imm, st, xs, ps = _two_model_state()
    two = FilterState({k: np.concatenate([v, v]) for k, v in st.arrays.items()})
    z = np.array([[150.0, -60.0], [100_150.0, -60.0]])
    r = np.repeat(np.diag([100.0, 100.0])[None], 2, axis=0)
    out = imm.update(two, z, r)
    for row in range(2):
        logs = []
        for m in range(2):
            _, _, nu, s = _kf(xs[m], ps[m], z[row], r[row])
            d2 = nu @ np.linalg.solve(s, nu)
            logs.append(math.log((0.8, 0.2)[m]) - d2 / 2 - math.log(np.linalg.det(s)) / 2)
        top = max(logs)
        w = np.exp(np.array(logs) - top)
        assert out.arrays["mu"][row] == pytest.approx(w / w.sum())
    assert out.arrays["mu"][1] == pytest.approx([0.0, 1.0])


def test_imm_pda_update_weighs_the_models_by_the_plots_and_clutter() -> None:
    # mu_m proportional to c_m ((1 - 0.85) density + 0.85 sum_k N_km) (IMM-PDA)
    imm, st, xs, ps = _two_model_state()
    z = np.array([[150.0, -60.0], [80.0, -30.0]])
    r = np.repeat(np.diag([100.0, 100.0])[None], 2, axis=0)
    beta, beta0, density = np.array([0.5, 0.3]), np.array([0.2]), 2e-6
    out = imm.update_pda(st, np.array([0, 0]), z, r, beta, beta0, density)
    lik = np.full(2, 0.15 * density)
    for m in range(2):
        hyps = [(xs[m], ps[m], 0.2)]
        for k in range(2):
            xk, pk, nu, s = _kf(xs[m], ps[m], z[k], r[k])
            hyps.append((xk, pk, beta[k]))
            lik[m] += 0.85 * _gauss2(nu, s)
        mean = sum(w * xh for xh, _, w in hyps)
        cov = sum(w * (ph + np.outer(xh - mean, xh - mean)) for xh, ph, w in hyps)
        assert out.arrays["x"][0, m] == pytest.approx(mean)
        assert out.arrays["p"][0, m] == pytest.approx(cov)
    mu = np.array([0.8, 0.2]) * lik
    assert out.arrays["mu"][0] == pytest.approx(mu / mu.sum())
    # plots so far that their densities underflow, and no clutter: the models keep
    # their predicted probabilities
    far = z + 1e6
    out = imm.update_pda(st, np.array([0, 0]), far, r, beta, beta0, 0.0)
    assert out.arrays["mu"][0].tolist() == [0.8, 0.2]
    # two tracks at once, the second with no plot: its models follow the clutter term
    # alone (c_m x 0.15 density, normalised: the predicted probabilities again)
    two = FilterState({k: np.concatenate([v, v]) for k, v in st.arrays.items()})
    two.arrays["mu"][1] = [0.3, 0.7]
    out = imm.update_pda(two, np.array([0, 0]), z, r, beta, np.array([0.2, 1.0]), density)
    mu = np.array([0.8, 0.2]) * lik
    assert out.arrays["mu"][0] == pytest.approx(mu / mu.sum())
    assert out.arrays["mu"][1] == pytest.approx([0.3, 0.7])


def test_imm_prediction_mixes_the_models() -> None:
    # c_j = sum_i mu_i pi_ij; mu_i|j = mu_i pi_ij / c_j; the mixed start of model j is
    # x0_j = sum_i mu_i|j x_i, P0_j = sum_i mu_i|j (P_i + (x_i - x0_j)(x_i - x0_j)'),
    # then each model predicts with its own noise; pi = [[0.9, 0.1], [0.1, 0.9]]
    imm, st, xs, ps = _two_model_state()
    pi = np.array([[0.9, 0.1], [0.1, 0.9]])
    assert imm.transition_matrix == pytest.approx(pi)
    mu = np.array([0.8, 0.2])
    c = mu @ pi
    dt = 3.0
    f = np.eye(4)
    f[0, 2] = f[1, 3] = dt
    out = imm.predict(st, np.array([dt]))
    assert out.arrays["mu"][0] == pytest.approx(c)
    for j, q in enumerate((1.0, 50.0)):
        w = mu * pi[:, j] / c[j]
        x0 = w[0] * xs[0] + w[1] * xs[1]
        p0 = sum(w[i] * (ps[i] + np.outer(xs[i] - x0, xs[i] - x0)) for i in range(2))
        qm = np.zeros((4, 4))
        for a in (0, 1):
            qm[a, a] = q * dt**3 / 3
            qm[a, a + 2] = qm[a + 2, a] = q * dt**2 / 2
            qm[a + 2, a + 2] = q * dt
        assert out.arrays["x"][0, j] == pytest.approx(f @ x0)
        assert out.arrays["p"][0, j] == pytest.approx(f @ p0 @ f.T + qm)


def test_imm_prediction_of_a_hover_model() -> None:
    # a model whose velocity decays in 2 s: after 2 s the velocity is e^-1 of the mixed
    # start's and the position moved by 2 (1 - e^-1) times it; the other model flies on
    imm = IMM(qs=(1.0, 0.5), turns=(0.0, 0.0), dampings=(np.inf, 2.0), switch=0.0)
    x = np.array([0.0, 0.0, 10.0, -5.0])
    st = imm.initiate(np.zeros((1, 2)), 100.0 * np.eye(2)[None])
    st.arrays["x"][0, :] = x
    out = imm.predict(st, np.array([2.0]))
    e = math.exp(-1.0)
    assert out.arrays["x"][0, 0] == pytest.approx([20.0, -10.0, 10.0, -5.0])
    assert out.arrays["x"][0, 1] == pytest.approx([20 * (1 - e), -10 * (1 - e), 10 * e,
                                                   -5 * e])


def test_imm_estimate_is_the_moment_matched_mixture() -> None:
    imm, st, xs, ps = _two_model_state()
    mean = 0.8 * xs[0] + 0.2 * xs[1]
    cov = sum(w * (ps[m] + np.outer(xs[m] - mean, xs[m] - mean))
              for m, w in enumerate((0.8, 0.2)))
    x, p = imm.estimate(st)
    assert x[0] == pytest.approx(mean)
    assert p[0] == pytest.approx(cov)
    hx, hp = imm.hypotheses(st)
    assert hx[0].tolist() == xs.tolist() and hp[0].tolist() == ps.tolist()
    assert imm.hypothesis_weights(st)[0].tolist() == [0.8, 0.2]
    # the constant-velocity filter is one hypothesis of weight one
    cv = ConstantVelocity()
    one = FilterState({"x": xs[:1], "p": ps[:1]})
    assert cv.hypothesis_weights(one).tolist() == [[1.0]]
    hx, hp = cv.hypotheses(one)
    assert hx.shape == (1, 1, 4) and hx[0, 0].tolist() == xs[0].tolist()
    assert hp.shape == (1, 1, 4, 4)


def test_imm_default_models_and_checks() -> None:
    imm = IMM()
    pi = imm.transition_matrix
    assert np.diag(pi) == pytest.approx([0.95] * 5)
    assert pi[0, 1] == pytest.approx(0.05 / 4)
    assert pi.sum(axis=1) == pytest.approx([1.0] * 5)
    assert IMM(qs=(1.0,), turns=(0.0,), dampings=None).transition_matrix.tolist() == [[0.95]]
    assert IMM(qs=(1.0, 2.0), turns=(0.0, 0.0), dampings=None).damping_times == (
        np.inf, np.inf)
    assert imm.damping_times[4] == 3.0
    with pytest.raises(ValueError, match=r"^IMM needs one turn rate per model$"):
        IMM(qs=(1.0, 2.0), turns=(0.0,))
    with pytest.raises(ValueError, match=r"^IMM needs one damping time per model$"):
        IMM(qs=(1.0, 2.0), turns=(0.0, 0.0), dampings=(np.inf,))


# ------------------------------------------------------------------ association


def _best_matching(cost: np.ndarray) -> tuple[int, float]:
    """Brute force: the most track-plot pairs inside the gates (finite costs), one plot
    per track and one track per plot, and of those the least total cost."""
    n, m = cost.shape
    best = (0, 0.0)
    for k in range(1, min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                c = cost[list(rows), list(cols)]
                if np.isfinite(c).all() and (k, -c.sum()) > (best[0], -best[1]):
                    best = (k, float(c.sum()))
    return best


def test_gnn_against_every_matching() -> None:
    rng = np.random.default_rng(7)
    gnn = GlobalNearestNeighbour()
    for _ in range(300):
        n, m = rng.integers(1, 5, size=2)
        cost = rng.uniform(-5.0, 40.0, (n, m))
        cost[rng.random((n, m)) < 0.45] = np.inf
        rows, cols = gnn.associate(cost)
        assert rows.dtype == np.intp and cols.dtype == np.intp
        assert len(set(rows.tolist())) == rows.size and len(set(cols.tolist())) == cols.size
        assert np.isfinite(cost[rows, cols]).all()
        k, total = _best_matching(cost)
        assert rows.size == k
        assert cost[rows, cols].sum() == pytest.approx(total)


def test_gnn_prefers_more_pairs_whatever_the_costs() -> None:
    # two pairs of 1e8 each beat one pair of 0: a plot outside a gate is never taken,
    # however large the costs of the pairs inside
    rows, cols = GlobalNearestNeighbour().associate(np.array([[0.0, 1e8], [1e8, np.inf]]))
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 1), (1, 0)]


def test_gnn_with_nothing_to_assign() -> None:
    gnn = GlobalNearestNeighbour()
    for cost in (np.empty((0, 3)), np.empty((2, 0)), np.full((2, 2), np.inf)):
        rows, cols = gnn.associate(cost)
        assert rows.tolist() == [] and cols.tolist() == []
        assert rows.dtype == np.intp and cols.dtype == np.intp


def test_the_gate_is_the_chi_square_quantile() -> None:
    # chi-square with 2 degrees of freedom is exponential with mean 2:
    # P(d2 > g) = exp(-g / 2), so the gate of probability p is -2 ln(1 - p)
    assert GlobalNearestNeighbour().gate == pytest.approx(-2 * math.log(0.001))
    assert GlobalNearestNeighbour(0.99).gate == pytest.approx(-2 * math.log(0.01))
    assert JointProbabilistic(gate_probability=0.9).gate == pytest.approx(-2 * math.log(0.1))


def test_jpda_weights_by_the_formula() -> None:
    # beta_ij = L_ij / (sum_k L_ik + sum_t L_tj - L_ij + 1 - p_d p_gate), written as loops;
    # two tracks competing for plot 1, track 2 with nothing in its gate
    ratio = np.array([[9.0, 3.0, 0.0], [0.0, 5.0, 2.0], [0.0, 0.0, 0.0]])
    jp = JointProbabilistic(p_detect=0.8, gate_probability=0.99)
    miss = 1 - 0.8 * 0.99
    beta, beta0 = jp.weights(ratio)
    for i in range(3):
        for j in range(3):
            lij = ratio[i, j]
            want = 0.0 if lij == 0 else lij / (ratio[i].sum() + ratio[:, j].sum() - lij + miss)
            assert beta[i, j] == pytest.approx(want)
    assert beta[0, 1] == pytest.approx(3.0 / (12.0 + 8.0 - 3.0 + miss))
    assert beta0 == pytest.approx(1.0 - beta.sum(axis=1))
    assert beta0[2] == 1.0
    assert jp.soft is True
    assert JointProbabilistic().p_detect == 0.85


def test_jpda_weights_when_a_miss_is_impossible() -> None:
    # p_detect = p_gate = 1: no miss term, so a track with nothing in its gate divides
    # 0 by 0; its weights are 0 and its miss probability 1, quietly (no numpy warning)
    jp = JointProbabilistic(p_detect=1.0, gate_probability=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
            # (plot 2 is in no gate either)
        beta, beta0 = jp.weights(np.array([[0.0, 0.0, 0.0], [2.0, 6.0, 0.0]]))
    assert beta[0].tolist() == [0.0, 0.0, 0.0] and beta0[0] == 1.0
    assert beta[1] == pytest.approx([2.0 / 8.0, 6.0 / 8.0, 0.0])  # L / (8 + L - L)
    assert beta0[1] == pytest.approx(0.0)


# ------------------------------------------------------------- plot covariances


def test_plot_covariance_along_and_across_the_line_of_sight() -> None:
    # 50 m in range, 0.1 deg in azimuth: across the line of sight at 10 km ground
    # distance 10,000 x 0.1 pi / 180 = 17.453 m. A plot due east: the range error is
    # along x; due north: along y; north-east (45 deg): the rotation of
    # diag(2500, 17.453^2) by 45 deg, (a + b) / 2 on the diagonal and (a - b) / 2 off it
    a, b = 50.0**2, (10_000 * math.radians(0.1)) ** 2
    d = 10_000 / math.sqrt(2)
    x = np.array([10_000.0, 0.0, d, -d])
    y = np.array([0.0, 10_000.0, d, d])
    n = x.size
    r = plot_covariances(x, y, np.full(n, 12_000.0), np.full(n, 50.0), np.full(n, 0.1),
                         np.zeros((n, 2)))
    assert r[0] == pytest.approx(np.array([[a, 0.0], [0.0, b]]))
    assert r[1] == pytest.approx(np.array([[b, 0.0], [0.0, a]]))
    assert r[2] == pytest.approx(np.array([[a + b, a - b], [a - b, a + b]]) / 2)
    assert r[3] == pytest.approx(np.array([[a + b, b - a], [b - a, a + b]]) / 2)
    # the same from a radar standing elsewhere: only the offset counts
    r2 = plot_covariances(x + 500.0, y - 300.0, np.full(n, 12_000.0), np.full(n, 50.0),
                          np.full(n, 0.1), np.tile([500.0, -300.0], (n, 1)))
    assert r2 == pytest.approx(r)


def test_plot_covariance_without_a_known_site_is_a_circle() -> None:
    # unknown site (NaN) or a plot on the site itself (ground distance <= 1 m): a circle
    # of the larger sigma; across the line of sight from the plot's range:
    # 40,000 m x 0.2 deg = 139.6 m > 30 m; 1,000 m x 0.2 deg = 3.49 m < 30 m
    x, y = np.array([5000.0, 5000.0, 0.5]), np.array([0.0, 0.0, 0.5])
    site = np.array([[np.nan, np.nan], [np.nan, np.nan], [0.0, 0.0]])
    r = plot_covariances(x, y, np.array([40_000.0, 1_000.0, 40_000.0]), np.full(3, 30.0),
                         np.full(3, 0.2), site)
    far = (40_000 * math.radians(0.2)) ** 2
    assert r[0] == pytest.approx(far * np.eye(2))
    assert r[1] == pytest.approx(900.0 * np.eye(2))
    assert r[2] == pytest.approx(far * np.eye(2))


def test_plot_covariance_of_a_steep_line_of_sight() -> None:
    # a plot 4 km from the radar on the ground, 3 km above the antenna (plus the drop of
    # the horizon g^2 / 2R = 1.2557 m): slant range rho = hypot(4000, dh); the ground
    # error along the line of sight is (rho / g) sigma_rho and (dh / g) sigma_h added in
    # quadrature; across it the azimuth error at the ground distance
    g, sr, sh, saz = 4000.0, 40.0, 100.0, 0.1
    dh = 3000.0 + g**2 / (2 * 6_371_000.0)
    rho = math.hypot(g, dh)
    along = (rho / g) ** 2 * sr**2 + (dh / g) ** 2 * sh**2
    across = (g * math.radians(saz)) ** 2
    one = np.ones(1)
    r = plot_covariances(np.array([g]), np.zeros(1), np.array([rho]), sr * one, saz * one,
                         np.zeros((1, 2)), height_m=np.array([3100.0]),
                         site_alt_m=np.array([100.0]), sigma_height_m=np.array([sh]))
    assert r[0] == pytest.approx(np.array([[along, 0.0], [0.0, across]]))
    # no range given (NaN): the slant range from the geometry; no height sigma: exact
    r = plot_covariances(np.array([0.0]), np.array([-g]), np.array([np.nan]), sr * one,
                         saz * one, np.zeros((1, 2)), height_m=np.array([3100.0]),
                         site_alt_m=np.array([100.0]))
    assert r[0] == pytest.approx(np.array([[across, 0.0], [0.0, (rho / g) ** 2 * sr**2]]))
    # nearly overhead: the ground distance is floored at sqrt(2 dh max(sigma_h, sigma_r))
    # (here 100 m away, 3000 m up: sqrt(2 x 3000 x 100) = 774.6 m)
    r = plot_covariances(np.array([100.0]), np.zeros(1), np.array([3001.7]), sr * one,
                         saz * one, np.zeros((1, 2)), height_m=np.array([3100.0]),
                         site_alt_m=np.array([100.0]), sigma_height_m=np.array([sh]))
    dh = 3000.0 + 100.0**2 / (2 * 6_371_000.0)
    gf = math.sqrt(2 * dh * sh)
    assert r[0, 0, 0] == pytest.approx((3001.7 / gf) ** 2 * sr**2 + (dh / gf) ** 2 * sh**2)
    assert r[0, 1, 1] == pytest.approx((100.0 * math.radians(saz)) ** 2)
    # a plot without a height in a batch with heights keeps the flat covariance
    r = plot_covariances(np.array([g]), np.zeros(1), np.array([g]), sr * one, saz * one,
                         np.zeros((1, 2)), height_m=np.array([np.nan]),
                         site_alt_m=np.array([100.0]), sigma_height_m=np.array([sh]))
    assert r[0] == pytest.approx(np.array([[sr**2, 0.0], [0.0, across]]))


# ---------------------------------------------------------------- the tracker


PLANE = LocalPlane(55.0, 12.0)
SITE = RadarSite(1, 1, 55.0, 12.0, 0.0)  # at the plane's centre
T0 = 1_758_268_800.0


def _plots(t: np.ndarray, x: np.ndarray, y: np.ndarray, **cols: object) -> pd.DataFrame:
    """Plots without noise at plane positions ``x``, ``y`` of the radar ``SITE``."""
    lat, lon = PLANE.to_latlon(x, y)
    frame = pd.DataFrame({"time": t, "lat": lat, "lon": lon, "sac": 1.0, "sic": 1.0,
                          "range_m": np.hypot(x, y)})
    for k, v in cols.items():
        frame[k] = v
    return frame


def _feed(tracker: Tracker, plots: pd.DataFrame, scan_s: float = 4.0) -> pd.DataFrame:
    out = [tracker.update(plots.iloc[idx]) for idx in scans_of(plots, scan_s)]
    return pd.concat(out, ignore_index=True)


def test_track_states_report_speed_heading_and_climb() -> None:
    # north-west at 150 m/s (heading 315: vx = vy = -150 / sqrt 2), climbing 5 m/s from
    # 1000 m; at the plane's centre the plane's north is true north
    t = T0 + 4.0 * np.arange(20)
    v = 150 / math.sqrt(2)
    x, y = 2000.0 - v * (t - T0), 15_000.0 + v * (t - T0)
    plots = _plots(t, x, y, altitude=1000.0 + 5.0 * (t - T0), callsign="SKY1",
                   squawk="7000", icao24="abc123")
    states = _feed(Tracker(PLANE, [SITE], id_prefix="Q"), plots)
    assert states["track"].unique().tolist() == ["Q0001"]
    assert list(states.columns) == list(TRACK_STATE_COLUMNS)
    # the history from the first plot on, one state per plot
    assert states["time"].tolist() == t.tolist()
    late = states[states["time"] >= T0 + 40]
    assert late["velocity"].to_numpy() == pytest.approx(150.0, abs=0.5)
    assert late["heading"].to_numpy() == pytest.approx(315.0, abs=0.3)
    assert late["vx"].to_numpy() == pytest.approx(-v, abs=0.5)
    assert late["vy"].to_numpy() == pytest.approx(v, abs=0.5)
    assert late["x"].to_numpy() == pytest.approx(x[10:], abs=2.0)
    assert late["y"].to_numpy() == pytest.approx(y[10:], abs=2.0)
    lat, lon = PLANE.to_latlon(x[10:], y[10:])
    assert late["lat"].to_numpy() == pytest.approx(lat, abs=2e-5)
    assert late["lon"].to_numpy() == pytest.approx(lon, abs=4e-5)
    assert late["altitude"].to_numpy() == pytest.approx(1000.0 + 5.0 * (t[10:] - T0), abs=3.0)
    assert late["vertrate"].to_numpy() == pytest.approx(5.0, abs=0.3)
    # numbers, not objects (as the columns of an empty frame: test_an_empty_scan...)
    assert states["altitude"].dtype == float and states["vertrate"].dtype == float
    assert (late["sigma_pos_m"] < 50.0).all() and (late["sigma_pos_m"] > 1.0).all()
    # the identity of the plot that updated the track, in every state: also the first,
    # the candidate's first plot
    assert set(states["callsign"]) == {"SKY1"} and set(states["icao24"]) == {"abc123"}
    assert set(states["squawk"]) == {"7000"}
    assert set(states["sac"]) == {1.0} and set(states["sic"]) == {1.0}


def test_the_first_state_of_a_track_is_its_first_plots() -> None:
    # an aircraft squawking 7700 from its first plot on: the track's first observation
    # (its first plot, reported once the track is confirmed) carries the squawk, the
    # callsign, the Mode S address and the plot's record like every later one
    t = T0 + 4.0 * np.arange(5)
    plots = _plots(t, 8000.0 + 120.0 * (t - T0), np.full(5, -9000.0), squawk="7700",
                   callsign="MAYDAY1", icao24="4ca123", record=np.arange(1.0, 6.0))
    obs = track_plots(plots, [SITE], plane=PLANE, details=True)
    assert obs["time"].tolist() == t.tolist()
    assert obs["squawk"].tolist() == ["7700"] * 5
    assert obs["callsign"].tolist() == ["MAYDAY1"] * 5
    assert obs["mode_s"].tolist() == ["4ca123"] * 5
    assert obs["record"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert obs["sac"].tolist() == [1.0] * 5 and obs["sic"].tolist() == [1.0] * 5


def test_a_track_s_first_state_has_its_first_plot_s_position_sigma() -> None:
    # a track starts on one plot: its first state (reported with the history once the
    # track is confirmed) is that plot, so its position sigma is the plot's own,
    # sqrt(trace of the plot's 2 x 2 covariance / 2), from the tracker's reading of the
    # plot (range and azimuth errors at 20 km), and its velocity is unknown (0, 0)
    t = T0 + 4.0 * np.arange(5)
    plots = _plots(t, np.full(5, -3000.0), 20_000.0 - 100.0 * (t - T0))
    tracker = Tracker(PLANE, [SITE])
    r0 = tracker._prepare(plots.iloc[[0]]).r[0]
    states = _feed(tracker, plots)
    first = states.iloc[0]
    assert first["time"] == T0
    assert first["sigma_pos_m"] == pytest.approx(math.sqrt((r0[0, 0] + r0[1, 1]) / 2))
    assert (first["vx"], first["vy"]) == (0.0, 0.0)


def test_history_before_confirmation_is_reported_once_confirmed() -> None:
    # confirmed at the third plot (2 of 3, then 3 of 5); without history the first
    # state is that plot's; a track flying south (heading 180) without heights has
    # none to report
    t = T0 + 4.0 * np.arange(8)
    plots = _plots(t, np.full(8, -3000.0), 20_000.0 - 100.0 * (t - T0))
    states = _feed(Tracker(PLANE, [SITE], emit_history=False), plots)
    assert states["time"].tolist() == t[2:].tolist()
    assert states["track"].unique().tolist() == ["R0001"]
    assert states["altitude"].isna().all() and states["vertrate"].isna().all()
    assert states["altitude"].dtype == float and states["vertrate"].dtype == float
    assert states["heading"].iloc[-1] == pytest.approx(180.0, abs=0.5)
    states = _feed(Tracker(PLANE, [SITE]), plots)
    assert states["time"].tolist() == t.tolist()
    first = states.iloc[0]
    assert (first["x"], first["y"]) == pytest.approx((-3000.0, 20_000.0), abs=1e-3)
    assert (first["vx"], first["vy"]) == (0.0, 0.0)  # a single plot: velocity unknown


def test_a_track_gets_its_altitude_from_its_first_plot_with_one() -> None:
    # a track flying south, level, whose first six plots carry no height (a 2D radar
    # return) and the next six 3000 m, but for the ninth, which lacks it again. The
    # states have no altitude until the first plot with one; that plot starts the
    # altitude filter at its height (3000 m exactly: [z, vz] = [meas, 0]); level plots
    # keep it there (each correction of [3000, 0] by 3000 changes nothing), and the
    # plot without a height leaves it where it was predicted (3000, not unknown)
    # A second aircraft, 30 km east at 8000 m all along, keeps its own altitude when
    # the first one's filter starts
    t = T0 + 4.0 * np.arange(12)
    alt = np.where(np.arange(12) >= 6, 3000.0, np.nan)
    alt[8] = np.nan
    south = _plots(t, np.full(12, -3000.0), 20_000.0 - 100.0 * (t - T0), altitude=alt)
    other = _plots(t, np.full(12, 27_000.0), 20_000.0 - 100.0 * (t - T0), altitude=8000.0)
    plots = pd.concat([south, other]).sort_values("time", kind="stable")
    states = _feed(Tracker(PLANE, [SITE]), plots.reset_index(drop=True))
    first = states[states["track"] == "R0001"]
    assert first["time"].tolist() == t.tolist()
    assert first["altitude"].iloc[:6].isna().all()
    assert first["altitude"].iloc[6:].to_numpy() == pytest.approx(np.full(6, 3000.0),
                                                                   abs=1e-6)
    assert first["vertrate"].iloc[6:].to_numpy() == pytest.approx(np.zeros(6), abs=1e-9)
    second = states[states["track"] == "R0002"]
    assert second["altitude"].to_numpy() == pytest.approx(np.full(12, 8000.0), abs=1e-6)


def test_a_state_reports_the_fix_variance_or_else_the_filter_s_own() -> None:
    # _rows' rule (its docstring): the position sigma of a state is the square root of
    # the fix variance given for it (m^2 per axis) where finite, else of half the
    # trace of the filter's position covariance: diag(100, 100) -> 10 m, and a fix
    # variance of 25 m^2 -> 5 m; two tracks, the first given NaN, the second 25
    tracker = _two_tracks((2, 2), 1000.0, np.diag([100.0, 100.0, 4.0, 4.0]))
    tracker._a.update({"zv": np.zeros((2, 2)), "has_alt": np.zeros(2, bool)})
    scan = tracker._prepare(_plots(np.full(2, 1000.0), np.array([0.0, 1000.0]),
                                   np.zeros(2)))
    rows = tracker._rows(np.array([0, 1]), np.array([0, 1]), scan,
                         np.array([np.nan, 25.0]))
    sigma = [row[1][8] for row in rows]  # the states' sigma_pos_m column
    assert sigma == pytest.approx([10.0, 5.0])
    rows = tracker._rows(np.array([0, 1]), np.array([0, 1]), scan)
    assert [row[1][8] for row in rows] == pytest.approx([10.0, 10.0])


def test_an_empty_scan_and_its_frame() -> None:
    tracker = Tracker(PLANE, [SITE])
    empty = tracker.update(_plots(np.empty(0), np.empty(0), np.empty(0)))
    assert list(empty.columns) == list(TRACK_STATE_COLUMNS) and len(empty) == 0
    assert empty["track"].dtype == object and empty["callsign"].dtype == object
    assert empty["lat"].dtype == float
    # with ``now`` it is a scan without plots: every track misses
    t = T0 + 4.0 * np.arange(4)
    _feed(tracker, _plots(t, np.full(4, 5000.0), np.full(4, 5000.0)))
    assert tracker.confirmed_count == 1 and len(tracker) == 1
    assert int(tracker._a["misses"][0]) == 0
    out = tracker.update(_plots(np.empty(0), np.empty(0), np.empty(0)), now=T0 + 16.0)
    assert len(out) == 0 and int(tracker._a["misses"][0]) == 1
    tracker.update(_plots(np.empty(0), np.empty(0), np.empty(0)), now=T0 + 20.0)
    assert int(tracker._a["misses"][0]) == 2


def test_scans_of_cuts_fixed_windows() -> None:
    frame = pd.DataFrame({"time": [0.0, 1.0, 3.9, 4.0, 9.0, 12.5]})
    assert [w.tolist() for w in scans_of(frame, 4.0)] == [[0, 1, 2], [3], [4], [5]]
    assert [w.tolist() for w in scans_of(frame + 101.0, 5.0)] == [[0, 1, 2, 3], [4], [5]]
    assert scans_of(frame.iloc[:0], 4.0) == []


def test_sensor_batches_in_order_of_first_plot() -> None:
    tracker = Tracker(PLANE, [SITE])
    plots = _plots(np.array([3.0, 1.0, 2.0, 0.5, 4.0]), np.zeros(5), np.full(5, 1000.0))
    plots["sic"] = [1.0, 2.0, 1.0, 3.0, 2.0]
    plots.loc[3, "sac"] = np.nan  # no SAC: its own radar
    batches = tracker._sensor_batches(tracker._prepare(plots))
    assert [b.tolist() for b in batches] == [[3], [1, 4], [0, 2]]
    one = tracker._sensor_batches(tracker._prepare(plots.iloc[[0, 2]]))
    assert [b.tolist() for b in one] == [[0, 1]]
    assert tracker._sensor_batches(tracker._prepare(plots.iloc[:0])) == []


def test_jpda_predicts_each_track_to_its_most_probable_plot() -> None:
    # a track flying east at 100 m/s, noiseless plots; in the last scan a second plot,
    # 2 s earlier and 200 m short of where the target was then, is in its gate too
    # (association probability 0.0016): the track is corrected at the time of its
    # likelier plot (the target's), so its state stays on the target (0.4 m off);
    # predicted to the other plot's time, then corrected by the target's plot, it
    # lags 78 m (tried)
    t = T0 + 4.0 * np.arange(12)
    x, y = -10_000.0 + 100.0 * (t - T0), np.full(12, 20_000.0)
    plots = _plots(t, x, y)
    tracker = Tracker(PLANE, [SITE], associator=JointProbabilistic())
    _feed(tracker, plots)
    tn = t[-1] + 4.0
    xn = x[-1] + 400.0
    last = _plots(np.array([tn - 2.0, tn]), np.array([xn - 400.0, xn]),
                  np.full(2, 20_000.0))
    out = tracker.update(last)
    assert len(out) == 1 and out["time"].iloc[0] == tn
    assert out["x"].iloc[0] == pytest.approx(xn, abs=10.0)
    assert out["vx"].iloc[0] == pytest.approx(100.0, abs=5.0)


# ------------------------------------------------------------ gates and clutter


def test_height_gate_by_hand() -> None:
    # a track at 300 m climbing 2 m/s, variances 100 m^2 and 4 (m/s)^2, covariance 5,
    # 10 s ahead: 320 m, variance 100 + 2 x 10 x 5 + 100 x 4 = 600 (sigma 24.49 m):
    # plots within 3000 + 4 x 24.49 = 3097.98 m of 320 m fit
    tracker = Tracker(PLANE, [SITE], height_gate_m=3000.0)
    tracker._a["has_alt"] = np.array([True, False])
    tracker._a["zv"] = np.array([[300.0, 2.0], [0.0, 0.0]])
    tracker._a["pv"] = np.array([[[100.0, 5.0], [5.0, 4.0]], np.eye(2)])
    lim = 3000.0 + 4 * math.sqrt(600.0)
    tracks = np.array([0, 0, 0, 0, 1])
    alt = np.array([320.0 + lim - 0.01, 320.0 + lim + 0.01, 320.0 - lim - 0.01, np.nan,
                    90_000.0])
    gate = tracker._height_gate(tracks, alt, np.full(5, 10.0))
    assert gate.tolist() == [True, False, False, True, True]
    # backwards 10 s: 280 m, variance 100 - 100 + 400 = 400 (sigma 20)
    lim = 3000.0 + 80.0
    gate = tracker._height_gate(np.array([0, 0]), np.array([280.0 + lim - 0.01,
                                                            280.0 - lim - 0.01]),
                                np.full(2, -10.0))
    assert gate.tolist() == [True, False]
    assert tracker._height_gate(np.array([1, 1]), np.array([1.0, 2.0]),
                                np.ones(2)).tolist() == [True, True]
    # a track known to 0.5 m: 3000 + 4 x 0.5 = 3002 m
    tracker._a["pv"][0] = np.diag([0.25, 0.0])
    gate = tracker._height_gate(np.array([0, 0]), np.array([300.0 + 3001.9, 300.0 + 3002.1]),
                                np.zeros(2))
    assert gate.tolist() == [True, False]


def test_the_height_gate_applies_to_the_track_plot_costs() -> None:
    # a track at 1000 m flying 50 m/s east, confirmed after 4 scans; the next scan has two
    # plots where it is predicted, one at 1000 m, one at 9000 m: 8000 m off, beyond the
    # 3000 m of the height gate plus four sigmas of a height known to metres; only the
    # first may be its plot
    tracker = Tracker(PLANE, [SITE])
    plots = _straight(5)
    plots["altitude"] = 1000.0
    _feed(tracker, plots.iloc[:4])
    assert tracker.confirmed_count == 1
    nxt = pd.concat([plots.iloc[[4]]] * 2, ignore_index=True)
    nxt["altitude"] = [1000.0, 9000.0]
    scan = tracker._prepare(nxt)
    cost = tracker._cost(np.array([0]), np.arange(2), scan.z, scan.r, scan.t, scan.alt)
    assert np.isfinite(cost[0, 0]) and cost[0, 1] == np.inf


def test_a_plot_far_above_a_track_is_not_its_update() -> None:
    # the same track through update(): the next scan's only plot is where the track is
    # predicted but at 9000 m, 8000 m above it: no state of the track comes out of that
    # scan (its update would say 9000 m or move it), while the same plot at 1000 m is
    # its update
    plots = _straight(5)
    plots["altitude"] = 1000.0
    for alt, updated in ((9000.0, False), (1000.0, True)):
        tracker = Tracker(PLANE, [SITE])
        _feed(tracker, plots.iloc[:4])
        nxt = plots.iloc[[4]].copy()
        nxt["altitude"] = alt
        states = tracker.update(nxt)
        assert ("R0001" in set(states["track"])) is updated


def test_the_plot_search_reaches_a_fast_target_seen_late_in_the_scan() -> None:
    # _cost looks for plots around each track predicted to the middle (median) time of
    # the plots, within the gate's radius plus how far the target flies in the spread of
    # plot times. A track (constant velocity, q = 5) last updated at 96 s at the origin,
    # flying 300 m/s east, position variances 25 m^2, velocity 1 m^2/s^2; plots of
    # noise 30 m: its own at 102 s (1800 m east, where it then is), two far-off ones at
    # 100 s (the median time). At 100 s the track is predicted 600 m short of its plot:
    # the search must reach 300 m/s x 2 s beyond the gate (sigmas: about 12 m of
    # position, 4.6 m/s of velocity, by F P F' + Q), and around the track's own time
    # (a prediction 196 s ahead instead of 4 would be 58 km off)
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity())
    tracker._state = FilterState({"x": np.array([[0.0, 0.0, 300.0, 0.0]]),
                                  "p": np.diag([25.0, 25.0, 1.0, 1.0])[None]})
    tracker._a.update({"t": np.array([96.0]), "has_alt": np.zeros(1, bool),
                       "zv": np.zeros((1, 2)), "pv": np.zeros((1, 2, 2))})
    z = np.array([[1800.0, 0.0], [50_000.0, 50_000.0], [-50_000.0, 50_000.0]])
    r = np.repeat(np.diag([900.0, 900.0])[None], 3, axis=0)
    t = np.array([102.0, 100.0, 100.0])
    cost = tracker._cost(np.array([0]), np.arange(3), z, r, t)
    # the plot is where the track is predicted at 102 s: d2 = 0, the cost is ln |S|,
    # S = F P F' + Q + R after 6 s: 25 + 36 + 5 x 6^3 / 3 + 900 = 1321 per axis
    assert cost[0, 0] == pytest.approx(2 * math.log(1321.0))
    assert (cost[0, 1:] == np.inf).all()


GATE_EDGE = math.sqrt(-2 * math.log(0.001)) * 30.0  # the 0.999 gate of a 30 m circle


@pytest.mark.parametrize(
    ("p", "plot", "t_plot", "r0", "t_track"),
    [
        # position variances 40,000 m^2 east-west, 1 north-south: a plot 600 m east at the
        # median time is in the gate (600^2 / (40,000 + 16 + 106.7 + 900) = 8.8); the
        # search around the prediction spans 3.7 x (200 + 30) m, the widest axis
        (np.diag([40_000.0, 1.0, 1.0, 1.0]), (600.0, 0.0), 100.0, (900.0, 900.0), 96.0),
        # velocity variances 400 m^2/s^2 east-west, 1 north-south: a plot 450 m east, 2 s
        # after the median time, is in the gate at its own time (450^2 / (25 + 36 x 400 +
        # 360 + 900) = 12.9); the search spans 3.7 x (80.8 + 30) + 4 x 20 x 2 = 571 m,
        # with the widest velocity sigma (20 m/s, not 1: 419 m)
        (np.diag([25.0, 25.0, 400.0, 1.0]), (450.0, 0.0), 102.0, (900.0, 900.0), 96.0),
        # the plot's own noise 200 m east-west, 1 m north-south: 600 m east is in the gate
        # (600^2 / (25 + 16 + 106.7 + 40,000) = 8.97); the search spans 3.7 x (12.2 + 200)
        (np.diag([25.0, 25.0, 1.0, 1.0]), (600.0, 0.0), 100.0, (40_000.0, 1.0), 96.0),
        # a track known exactly, at the plots' time: a plot half a metre inside the gate's
        # edge (sqrt(13.8) x 30 m) is found (the search has a metre to spare)
        (np.zeros((4, 4)), (GATE_EDGE - 0.5, 0.0), 100.0, (900.0, 900.0), 100.0),
    ])
def test_the_plot_search_spans_the_widest_axes(
        p: np.ndarray, plot: tuple[float, float], t_plot: float, r0: tuple[float, float],
        t_track: float) -> None:
    # as test_the_plot_search_reaches_a_fast_target_seen_late_in_the_scan: a track
    # (constant velocity, q = 5) at rest at the origin, last updated at ``t_track``; two
    # far-off plots at 100 s (the median time), noise 30 m; covariance by F P F' + Q
    # with q dt^3 / 3
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity())
    tracker._state = FilterState({"x": np.zeros((1, 4)), "p": p[None]})
    tracker._a.update({"t": np.array([t_track]), "has_alt": np.zeros(1, bool),
                       "zv": np.zeros((1, 2)), "pv": np.zeros((1, 2, 2))})
    z = np.array([plot, [50_000.0, 50_000.0], [-50_000.0, 50_000.0]])
    r = np.array([np.diag(r0), np.diag([900.0, 900.0]), np.diag([900.0, 900.0])])
    cost = tracker._cost(np.array([0]), np.arange(3), z, r, np.array([t_plot, 100.0, 100.0]))
    assert np.isfinite(cost[0, 0]) and (cost[0, 1:] == np.inf).all()


def test_reach_gate_by_hand() -> None:
    # a track at the origin flying 100 m/s east, position sigma 10 m, velocity sigma
    # 2 m/s; a plot of sigma 20 m, 20 s later: it can be 100 + 3 x 2 = 106 m/s x 20 s
    # + 2 m/s^2 x 20^2 / 2 + 3 x (10 + 20) = 2120 + 400 + 90 = 2610 m from where the
    # track was last seen (a turn only brings it closer)
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity())
    st = FilterState({"x": np.array([[0.0, 0.0, 100.0, 0.0], [0.0, 0.0, 800.0, 0.0]]),
                      "p": np.repeat(np.diag([100.0, 100.0, 4.0, 4.0])[None], 2, axis=0)})
    r = np.repeat(np.diag([400.0, 100.0])[None], 6, axis=0)
    ri = np.array([0, 0, 0, 0, 0, 1])
    z = np.array([[0.0, 2609.0], [0.0, 2611.0], [-2611.0, 0.0], [-2611.0, 0.0],
                  [50_000.0, 0.0], [14_489.0, 0.0]])
    dt = np.array([20.0, 20.0, -20.0, 12.0, 12.0, 20.0])
    # the last: 800 m/s is capped at 700: 14000 + 400 + 90 = 14490 m
    assert tracker._within_reach(st, ri, z, r, dt).tolist() == [
        True, False, False, True, True, True]
    z[5, 0] = 14_491.0
    assert not tracker._within_reach(st, ri, z, r, dt)[5]
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity(), max_speed_m_s=300.0,
                      max_accel_m_s2=1.0, reach_after_s=4.0)
    # 106 x 5 + 1 x 25 / 2 + 90 = 632.5 m after 5 s
    near = tracker._within_reach(st, np.array([0, 0]), np.array([[632.0, 0.0],
                                                                 [633.0, 0.0]]),
                                 r[:2], np.array([5.0, 5.0]))
    assert near.tolist() == [True, False]


def test_reach_gate_takes_the_largest_sigmas() -> None:
    # the reach gate's sigmas are the largest axes of the covariances. Track 0: position
    # variances 100 and 25 m^2, velocity 4 and 0.25 m^2/s^2: 10 m and 2 m/s, the reach
    # after 20 s as in test_reach_gate_by_hand, (100 + 3 x 2) x 20 + 400 + 3 x (10 + 20)
    # = 2610 m. Track 1: velocity variance 0.25 each way, a sigma of 0.5 m/s (no floor):
    # (100 + 1.5) x 20 + 400 + 90 = 2520 m
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity())
    st = FilterState({"x": np.array([[0.0, 0.0, 100.0, 0.0]] * 2),
                      "p": np.array([np.diag([100.0, 25.0, 4.0, 0.25]),
                                     np.diag([100.0, 100.0, 0.25, 0.25])])})
    r = np.repeat(np.diag([400.0, 100.0])[None], 4, axis=0)
    z = np.array([[0.0, 2609.0], [0.0, 2611.0], [0.0, 2519.0], [0.0, 2521.0]])
    reach = tracker._within_reach(st, np.array([0, 0, 1, 1]), z, r, np.full(4, 20.0))
    assert reach.tolist() == [True, False, True, False]


def test_reach_gate_at_its_limit_with_sigmas_below_one() -> None:
    # sigmas of 0.5 m (position, plot) and 0.5 m/s, not floored: after 20 s at 100 m/s
    # the reach is (100 + 3 x 0.5) x 20 + 2 x 20^2 / 2 + 3 x (0.5 + 0.5) = 2030 + 400 + 3
    # = 2433 m, exactly (every term a binary fraction); a plot at that distance is in
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity())
    st = FilterState({"x": np.array([[0.0, 0.0, 100.0, 0.0]]),
                      "p": np.diag([0.25, 0.25, 0.25, 0.25])[None]})
    r = np.repeat(np.diag([0.25, 0.25])[None], 2, axis=0)
    z = np.array([[0.0, 2433.0], [0.0, 2433.01]])
    reach = tracker._within_reach(st, np.array([0, 0]), z, r, np.full(2, 20.0))
    assert reach.tolist() == [True, False]


def test_likelier_than_miss_by_hand() -> None:
    # two models weighted 0.9 and 0.1, costs (d2 + ln|S|) 12 and 16; the plot's
    # likelihood is 0.9 e^-6 / 2 pi + 0.1 e^-8 / 2 pi = 3.5540e-4 + 5.34e-6 per m^2;
    # kept when 0.85 x that >= 0.15 x density, i.e. density <= 2.0442e-3
    lik = (0.9 * math.exp(-6.0) + 0.1 * math.exp(-8.0)) / (2 * math.pi)
    edge = 0.85 * lik / 0.15
    tracker = Tracker(PLANE, [SITE])
    cost = np.array([[12.0, 16.0], [12.0, 16.0]])
    w = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert tracker._likelier_than_miss(cost, w, edge * 0.999).tolist() == [True, True]
    assert tracker._likelier_than_miss(cost, w, edge * 1.001).tolist() == [False, False]
    # a model of weight 0 adds nothing (ln 0 is -inf, no warning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keep = tracker._likelier_than_miss(np.array([[12.0, 0.0]]), np.array([[1.0, 0.0]]),
                                           0.85 * math.exp(-6.0) / (2 * math.pi) / 0.15
                                           * 1.001)
    assert keep.tolist() == [False]
    # the score's detection probability is used: 0.5 against 0.5
    tracker = Tracker(PLANE, [SITE], score=TrackScore(p_detect=0.5))
    assert tracker._likelier_than_miss(cost[:1], w[:1], lik * 0.999).tolist() == [True]
    assert tracker._likelier_than_miss(cost[:1], w[:1], lik * 1.001).tolist() == [False]
    # without a score, the default 0.85
    tracker = Tracker(PLANE, [SITE], score=None)
    assert tracker._likelier_than_miss(cost[:1], w[:1], edge * 1.001).tolist() == [False]
    assert tracker._likelier_than_miss(cost[:1], w[:1], edge * 0.999).tolist() == [True]


def test_a_fix_reports_the_chance_that_its_plot_was_clutter_by_hand() -> None:
    # a track predicted at the origin, 300 m sigma per axis (velocity variance 100, no
    # correlation), a plot at (1000, 0) of 200 m sigma per axis: S = 90,000 + 40,000 =
    # 130,000 m^2 per axis, d2 = 1e6 / 130,000 = 7.6923, the plot's density
    # exp(-3.8462) / (2 pi 130,000) = 2.6153e-8 per m^2. In clutter of 1e-8 per m^2 the
    # plot is clutter (the target missed) with beta0 = 0.15e-8 / (0.15e-8 + 0.85 x
    # 2.6153e-8) = 0.063212. The Kalman gain is 90/130 = 0.69231: x_u = (692.31, 0),
    # P_u = 90,000 x 40,000 / 130,000 = 27,692.3 per axis. The reported variance about
    # x_u (half the trace of the mixture's mean square error):
    # (1 - beta0) 27,692.3 + beta0 (90,000 + 692.31^2 / 2) = 46,779.4 (sigma 216.3 m,
    # where the filter alone says 166.4 m)
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity())
    pred = FilterState({"x": np.zeros((1, 4)),
                        "p": np.diag([90_000.0, 90_000.0, 100.0, 100.0])[None]})
    gain = 90_000.0 / 130_000.0
    p_u = 90_000.0 * 40_000.0 / 130_000.0
    upd = FilterState({"x": np.array([[1000.0 * gain, 0.0, 0.0, 0.0]]),
                       "p": np.diag([p_u, p_u, 100.0, 100.0])[None]})
    r = np.diag([40_000.0, 40_000.0])[None]
    var = tracker._fix_variance(pred, upd, np.array([[1000.0, 0.0]]), r, 1e-8)
    assert var[0] == pytest.approx(46_779.37, abs=0.01)
    # the score's detection probability: 0.5 against 0.5, beta0 = 1e-8 / (1e-8 +
    # 2.6153e-8) = 0.27661: 0.72339 x 27,692.3 + 0.27661 x 329,650.4 = 111,214.2
    half = Tracker(PLANE, [SITE], motion=ConstantVelocity(), score=TrackScore(p_detect=0.5))
    var = half._fix_variance(pred, upd, np.array([[1000.0, 0.0]]), r, 1e-8)
    assert var[0] == pytest.approx(111_214.21, abs=0.01)
    # a plot where the target was expected, in clutter of 1e-9: density 1 / (2 pi
    # 130,000) = 1.2243e-6, beta0 = 0.15e-9 / (0.15e-9 + 0.85 x 1.2243e-6) = 1.4412e-4;
    # x_u is the prediction: 27,692.3 + 1.4412e-4 x (90,000 - 27,692.3) = 27,701.29,
    # 166.44 m where the filter says 166.41 m
    upd0 = FilterState({"x": np.zeros((1, 4)), "p": upd.arrays["p"]})
    var = tracker._fix_variance(pred, upd0, np.zeros((1, 2)), r, 1e-9)
    assert var[0] == pytest.approx(27_701.288, abs=0.001)


def test_a_coasting_track_that_takes_a_far_plot_reports_its_doubt() -> None:
    # swarm-night with seed 23 in small: a drone's track (20 m/s east, 40 plots) coasts
    # 30 s after its drone is gone, then takes a plot 1.7 km to the side that only the
    # IMM's manoeuvre model reaches (its probability 1.5 %, its position sigma there
    # 1.9 km). The fix is reported with the mean square error of the two hypotheses
    # about its plot (the target's, or clutter and the target missed), written out
    # here model by model from the tracker's prediction; the filter alone reported the
    # plot's accuracy, 40 m, and the fix, pulled 1.7 km, would have counted as inside
    # a border 100 m beyond the track by more than two sigmas
    t = T0 + 4.0 * np.arange(40)
    tracker = Tracker(PLANE, [SITE])
    states = _feed(tracker, _plots(t, 15_000.0 + 20.0 * (t - T0), np.full(40, 3000.0)))
    assert (states["sigma_pos_m"].iloc[10:] < 30.0).all()  # the plots' own: 50 m, 21 m
    tf = t[-1] + 30.0
    far = _plots(np.array([tf]), np.array([15_000.0 + 20.0 * (tf - T0)]),
                 np.array([4700.0]))
    sub = tracker._prepare(far)
    z, r, density = sub.z[0], sub.r[0], tracker._density(sub)
    pred = tracker.motion.predict(tracker._state, np.array([tf - tracker._a["t"][0]]))
    w, xs, ps = pred.arrays["mu"][0], pred.arrays["x"][0], pred.arrays["p"][0]
    models = range(len(w))
    lik = [_gauss2(z - xs[m, :2], ps[m, :2, :2] + r) for m in models]
    beta0 = 0.15 * density / (0.15 * density + 0.85 * sum(w[m] * lik[m] for m in models))
    assert 0.05 < beta0 < 0.5
    kf = [_kf(xs[m], ps[m], z, r) for m in models]
    mu = np.array([w[m] * lik[m] for m in models])
    mu /= mu.sum()
    x_p = sum(w[m] * xs[m] for m in models)
    p_p = sum(w[m] * (ps[m] + np.outer(xs[m] - x_p, xs[m] - x_p)) for m in models)
    x_u = sum(mu[m] * kf[m][0] for m in models)
    p_u = sum(mu[m] * (kf[m][1] + np.outer(kf[m][0] - x_u, kf[m][0] - x_u)) for m in models)
    d = x_p[:2] - x_u[:2]
    var = ((1 - beta0) * (p_u[0, 0] + p_u[1, 1]) / 2
           + beta0 * ((p_p[0, 0] + p_p[1, 1]) / 2 + (d @ d) / 2))
    row = tracker.update(far)
    assert len(row) == 1 and float(np.hypot(*d)) > 1500.0
    assert (row["x"].iloc[0], row["y"].iloc[0]) == pytest.approx(tuple(x_u[:2]), abs=1e-6)
    assert row["sigma_pos_m"].iloc[0] == pytest.approx(math.sqrt(var), rel=1e-9)
    assert row["sigma_pos_m"].iloc[0] > 300.0


def _rel(x: float) -> object:
    """Equal to 1e-9 relatively (densities are ~1e-9 per m^2, where approx's default
    absolute tolerance of 1e-12 would pass a 0.1 % error)."""
    return pytest.approx(x, rel=1e-9, abs=0)


def test_clutter_density_is_measured_per_radar() -> None:
    # radar 1/1: 5 plots, 1 taken by a confirmed track, reaching 16 km: 4 plots over
    # pi 16,000^2 m^2 (before any measurement, a first guess of 1 plot); then 3 plots,
    # none taken, reaching 30 km: 4 + 0.02 (3 - 4) = 3.98
    # over pi 30,000^2. Radar 1/2 (short range, 5 km): the disc is at least 10 km
    tracker = Tracker(PLANE, [SITE])
    p1 = tracker._prepare(_plots(np.zeros(5), np.arange(5.0) * 4000.0, np.zeros(5)))
    assert tracker._density(p1) == _rel(1.0 / (math.pi * 16_000.0**2))
    assert tracker._clutter_density(p1, 1) == _rel(4.0 / (math.pi * 16_000.0**2))
    p2 = tracker._prepare(_plots(np.zeros(3), np.array([0.0, 30_000.0, 100.0]),
                                 np.zeros(3)))
    assert tracker._clutter_density(p2, 0) == _rel(3.98 / (math.pi * 30_000.0**2))
    assert tracker._density(p2) == _rel(3.98 / (math.pi * 30_000.0**2))
    other = _plots(np.zeros(2), np.array([1000.0, 5000.0]), np.zeros(2))
    other["sic"] = 2.0
    p3 = tracker._prepare(other)
    assert tracker._density(p3) == _rel(1.0 / (math.pi * 10_000.0**2))
    # all plots taken: at least half a plot of clutter is assumed
    assert tracker._clutter_density(p3, 2) == _rel(0.5 / (math.pi * 10_000.0**2))
    assert tracker._density(p3) == _rel(0.5 / (math.pi * 10_000.0**2))
    # a radar without SAC/SIC (NaN) is one radar of its own, measured like the others
    anon = _plots(np.zeros(4), np.array([1000.0, 2000.0, 3000.0, 4000.0]), np.zeros(4))
    anon["sac"], anon["sic"] = np.nan, np.nan
    pa = tracker._prepare(anon)
    assert tracker._clutter_density(pa, 0) == _rel(4.0 / (math.pi * 1e8))
    assert tracker._density(pa) == _rel(4.0 / (math.pi * 1e8))
    # no range known: the 10 km disc
    blind = _plots(np.zeros(1), np.array([1000.0]), np.zeros(1))
    blind["sic"], blind["range_m"] = 3.0, np.nan
    assert tracker._density(tracker._prepare(blind)) == _rel(
        1.0 / (math.pi * 10_000.0**2))
    # ... and measured there: 1 plot over the 10 km disc
    assert tracker._clutter_density(tracker._prepare(blind), 0) == _rel(
        1.0 / (math.pi * 10_000.0**2))


# ------------------------------------------------------- defaults and plot input


def test_tracker_defaults_are_the_documented_ones() -> None:
    # Tracker's docstring: IMM, GNN with a 0.999 gate, 2-of-3 then 3-of-5, coasting 20 s
    # growing to 60 s over 30 plots, no further than 3 km, at least 12 s; the score
    # allows about one false track an hour
    tr = Tracker(PLANE)
    assert isinstance(tr.motion, IMM) and tr.motion == IMM()
    assert tr.associator == GlobalNearestNeighbour(0.999)
    assert tr.initiator == MofNInitiator(((2, 3), (3, 5)))
    assert tr.deleter == CoastDeleter(20.0, mature_coast_s=60.0, mature_updates=30,
                                      max_coast_m=3000.0, min_coast_s=12.0)
    assert tr.vertical == Vertical()
    assert tr.score == TrackScore(false_tracks_per_h=1.0)
    assert tr.gate == pytest.approx(-2 * math.log(0.001))
    # chi-square, 4 degrees of freedom: P(X > x) = exp(-x / 2) (1 + x / 2) = 0.01
    assert math.exp(-tr.twin_gate / 2) * (1 + tr.twin_gate / 2) == pytest.approx(0.01)
    assert (tr.max_speed, tr.max_accel, tr.reach_after_s) == (700.0, 2.0, 12.0)
    assert (tr.relink_s, tr.height_gate_m, tr.twin_hold_s) == (120.0, 3000.0, 12.0)
    assert tr.likelihood_gate is True and tr.emit_history is True
    assert tr.id_prefix == "R"
    assert len(tr) == 0 and tr.confirmed_count == 0
    # an associator without a gate: 13.8, the 0.999 gate of two dimensions
    class NoGate:
        def associate(self, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return GlobalNearestNeighbour().associate(cost)

    assert Tracker(PLANE, associator=NoGate()).gate == 13.8
    assert Tracker(PLANE, associator=GlobalNearestNeighbour(0.99)).gate == pytest.approx(
        -2 * math.log(0.01))
    assert Tracker(PLANE, score=None).score is None


def test_a_tracker_without_tracks_has_no_speeds() -> None:
    # _speeds: a ground speed per track (the deleters' coast limit takes one per track)
    assert Tracker(PLANE)._speeds().shape == (0,)


def test_each_plot_is_oriented_along_its_own_radars_line_of_sight() -> None:
    # radar 1/1 at the plane's centre, radar 2/7 20 km east of it, 300 m up, its height
    # sigma unknown (exact); a plot 10 km north of the centre is due north of 1/1 (range
    # error along y) and north-west of 2/7 (its line of sight at atan2(10, -20)); a plot
    # of an unknown radar 3/3 gets a circle
    lat_b, lon_b = PLANE.to_latlon(20_000.0, 0.0)
    east = RadarSite(2, 7, float(lat_b), float(lon_b), 300.0)
    tr = Tracker(PLANE, [SITE, east])
    assert tr._site_z[(2, 7)] == (300.0, 0.0)
    assert tr._site_xy[(2, 7)] == pytest.approx((20_000.0, 0.0), abs=1e-6)
    plots = _plots(np.zeros(3), np.zeros(3), np.full(3, 10_000.0))
    plots["sac"], plots["sic"] = [1.0, 2.0, 3.0], [1.0, 7.0, 3.0]
    plots["range_m"] = [10_000.0, math.hypot(20_000.0, 10_000.0), 10_000.0]
    plots["sigma_range_m"] = [30.0, 60.0, 30.0]
    plots["sigma_azimuth_deg"] = [0.1, 0.05, 0.1]
    scan = tr._prepare(plots)
    assert scan.z == pytest.approx(np.array([[0.0, 10_000.0]] * 3), abs=1e-6)
    across = (10_000 * math.radians(0.1)) ** 2
    assert scan.r[0] == pytest.approx(np.array([[across, 0.0], [0.0, 900.0]]), abs=1e-6)
    assert scan.r[2] == pytest.approx(max(900.0, across) * np.eye(2), abs=1e-6)
    g = math.hypot(20_000.0, 10_000.0)
    u = np.array([-20_000.0, 10_000.0]) / g
    w = np.array([-u[1], u[0]])
    along, cross = 60.0**2, (g * math.radians(0.05)) ** 2
    assert scan.r[1] == pytest.approx(along * np.outer(u, u) + cross * np.outer(w, w))
    # missing columns: 50 m, 0.08 deg, the covariance at 100 km when no range is given
    bare = pd.DataFrame({"time": [0.0], "lat": [float(PLANE.to_latlon(0.0, 5000.0)[0])],
                         "lon": [12.0]})
    scan = tr._prepare(bare)
    circle = max(50.0**2, (1e5 * math.radians(0.08)) ** 2)
    assert scan.r[0] == pytest.approx(circle * np.eye(2))
    assert scan.sac.tolist() == [-1.0] and np.isnan(scan.record[0])
    assert np.isnan(scan.alt[0]) and scan.callsign.tolist() == [None]


# ------------------------------------------------------------------- relinking


def _lost_and_found(off_m: float, dv_m_s: float, gap_s: float = 60.0,
                    relink_s: float = 120.0) -> list[str]:
    """Labels of a target at 20 m/s east, seen for 116 s, unseen for ``gap_s`` (its
    track ends 20 s after its last plot), then seen again ``off_m`` north of where it
    would be, flying ``dv_m_s`` faster (constant-velocity filter: its prediction is
    the straight line)."""
    t = T0 + 4.0 * np.arange(30)
    x, y = -5000.0 + 20.0 * (t - T0), np.full(30, 10_000.0)
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity(), deleter=CoastDeleter(20.0),
                      relink_s=relink_s)
    first = _feed(tracker, _plots(t, x, y))
    assert first["track"].unique().tolist() == ["R0001"]
    for k in range(1, int(gap_s / 4)):
        tracker.update(_plots(np.empty(0), np.empty(0), np.empty(0)), now=t[-1] + 4.0 * k)
    assert len(tracker) == 0  # ended
    t2 = t[-1] + gap_s + 4.0 * np.arange(6)
    x2 = x[-1] + 20.0 * gap_s + (20.0 + dv_m_s) * (t2 - t2[0])
    again = _feed(tracker, _plots(t2, x2, np.full(6, 10_000.0 + off_m)))
    return list(again["track"].unique())


@pytest.mark.parametrize(("off_m", "dv_m_s", "gap_s", "label"), [
    # confirmed at its third plot, 60 + 8 = 68 s after the last: it must lie within
    # 500 + 0.2 x 20 m/s x 68 s = 772 m of the ended track's prediction, and fly within
    # 0.5 x 20 + 10 = 20 m/s of its velocity
    (0.0, 0.0, 60.0, "R0001"), (740.0, 0.0, 60.0, "R0001"), (800.0, 0.0, 60.0, "R0002"),
    (0.0, 18.0, 60.0, "R0001"), (0.0, 22.0, 60.0, "R0002"), (0.0, -18.0, 60.0, "R0001"),
    (0.0, -22.0, 60.0, "R0002"),
    # ended at most relink_s = 120 s before: 108 + 8 = 116 s and 112 + 8 = 120 s yes,
    # 116 + 8 = 124 s no
    (0.0, 0.0, 108.0, "R0001"), (0.0, 0.0, 112.0, "R0001"), (0.0, 0.0, 116.0, "R0002"),
])
def test_a_new_track_continues_a_lately_ended_one_by_hand(off_m: float, dv_m_s: float,
                                                          gap_s: float, label: str) -> None:
    assert _lost_and_found(off_m, dv_m_s, gap_s) == [label]


def test_relinking_turned_off() -> None:
    assert _lost_and_found(0.0, 0.0, relink_s=0.0) == ["R0002"]


# ------------------------------------------------- confirmation and deletion


def test_ended_tracks_are_kept_for_relink_s() -> None:
    # _bury: a confirmed track that ends is kept (label, last update time, state) for
    # relink_s seconds, here half a second: R0007 (last plot at 1000 s) ends at 1000.25 s
    # and is kept; when R0008 ends at 1000.6 s, R0007 is 0.6 s old and goes. With
    # relink_s = 0 (relinking off) nothing is kept
    for relink_s, kept in ((0.5, [["R0007"], ["R0008"]]), (0.0, [[], []])):
        tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity(), relink_s=relink_s)
        tracker._state = FilterState({"x": np.array([[1.0, 2.0, 3.0, 4.0],
                                                     [5.0, 6.0, 7.0, 8.0]]),
                                      "p": np.repeat(np.eye(4)[None], 2, axis=0)})
        tracker._a.update({"label": np.array(["R0007", "R0008"], object),
                           "t": np.array([1000.0, 999.0])})
        tracker._bury(np.array([0]), 1000.25)
        assert [g[0] for g in tracker._graveyard] == kept[0]
        if kept[0]:
            assert tracker._graveyard[0][1] == 1000.0
            assert tracker._graveyard[0][2].arrays["x"].tolist() == [[1.0, 2.0, 3.0, 4.0]]
        tracker._bury(np.array([1]), 1000.6)
        assert [g[0] for g in tracker._graveyard] == kept[1]


def _straight(n: int) -> pd.DataFrame:
    t = T0 + 4.0 * np.arange(n)
    return _plots(t, -5000.0 + 50.0 * (t - T0), np.full(n, 12_000.0))


def _empty_scans(tracker: Tracker, after: float, k: int) -> list[int]:
    """Feed ``k`` scans without plots every 4 s after ``after``; the track count after
    each."""
    counts = []
    for i in range(1, k + 1):
        tracker.update(_plots(np.empty(0), np.empty(0), np.empty(0)), now=after + 4.0 * i)
        counts.append(len(tracker))
    return counts


def test_misses_are_counted_per_scan() -> None:
    # MissDeleter(3): a confirmed track ends at its third scan in a row without a plot
    tracker = Tracker(PLANE, [SITE], deleter=MissDeleter(3), score=None)
    plots = _straight(6)
    _feed(tracker, plots)
    assert tracker.confirmed_count == 1
    assert tracker._a["hits"][0] & 0b111111 == 0b111111 and tracker._a["age"][0] == 6
    assert tracker._a["updates"][0] == 6
    assert _empty_scans(tracker, plots["time"].iloc[-1], 3) == [1, 1, 0]


def test_a_track_whose_score_falls_far_below_its_best_ends() -> None:
    # each scan without a plot adds ln(1 - 0.85) = -1.897 to the score: 10 misses lose
    # 18.97 (kept), the 11th 20.87, more than the 20 allowed below the best
    tracker = Tracker(PLANE, [SITE], deleter=MissDeleter(100))
    plots = _straight(8)
    _feed(tracker, plots)
    assert tracker.confirmed_count == 1
    peak = float(tracker._a["llr"][0])
    assert float(tracker._a["llr_peak"][0]) == peak
    counts = _empty_scans(tracker, plots["time"].iloc[-1], 11)
    assert counts == [1] * 10 + [0]


def test_m_of_n_waits_for_the_score() -> None:
    # a confirmation score no track reaches: M-of-N would confirm at the third plot,
    # the track is held tentative and dropped when 5 + 2 = 7 scans old
    tracker = Tracker(PLANE, [SITE], score=TrackScore(confirm=1e6))
    plots = _straight(8)
    counts, confirmed = [], []
    for idx in scans_of(plots, 4.0):
        tracker.update(plots.iloc[idx])
        counts.append(len(tracker))
        confirmed.append(tracker.confirmed_count)
    assert confirmed == [0] * 8
    # 1 track for scans 1-6, dropped at the 7th (after taking its plot), a new one at 8
    assert counts == [1, 1, 1, 1, 1, 1, 0, 1]
    assert tracker._a["status"].tolist() == [0]
    # with the score off, the third plot confirms
    tracker = Tracker(PLANE, [SITE], score=None)
    out = [len(tracker.update(plots.iloc[idx])) for idx in scans_of(plots, 4.0)]
    assert out == [0, 0, 3, 1, 1, 1, 1, 1]  # the history of two plots comes with the third


def test_the_start_rate_by_hand() -> None:
    # _count_starts: candidates born per hour, a running mean over the first 600 s.
    # Window 1 (T0): 2 plots start 2 candidates, no rate yet (no window before);
    # window 2 (T0 + 4 s): 1 plot 40 km from them starts 1: 1 in 4 s = 900 an hour,
    # weight 4 / max(4, min(600, 4)) = 1. A scan without plots ending at the same
    # time adds no time: the rate stays (it is not a window of 0 s); 4 s later, one
    # without starts: weight 4 / 8, 900 + (0 - 900) / 2 = 450
    tracker = Tracker(PLANE, [SITE])
    tracker.update(_plots(np.full(2, T0), np.array([0.0, 20_000.0]), np.full(2, 5000.0)))
    assert tracker._starts_per_h == 0.0 and len(tracker) == 2
    tracker.update(_plots(np.full(1, T0 + 4.0), np.array([-40_000.0]), np.zeros(1)))
    assert len(tracker) == 3 and tracker._starts_per_h == pytest.approx(900.0)
    tracker.update(_plots(np.empty(0), np.empty(0), np.empty(0)), now=T0 + 4.0)
    assert tracker._starts_per_h == pytest.approx(900.0)
    tracker.update(_plots(np.empty(0), np.empty(0), np.empty(0)), now=T0 + 8.0)
    assert tracker._starts_per_h == pytest.approx(450.0)


# ------------------------------------------------------------------ track_plots


def test_track_plots_labels_tracks_in_the_order_of_their_first_plots() -> None:
    # 30 drones side by side, 1 km apart, flying north at 10 m/s, every plot of a scan
    # at the same time: the plots keep their order within a time (a stable sort), the
    # candidates start in that order and the tracks confirmed in one window are named
    # in it: R0001 is the first drone of the input, west to east here, east to west
    # when the input lists them the other way. The input has its latest scan first
    # (track_plots sorts it by time)
    n, k = 30, 6
    t = np.repeat(T0 + 4.0 * np.arange(k)[::-1], n)
    x = np.tile(-15_000.0 + 1000.0 * np.arange(n), k)
    y = 20_000.0 + 10.0 * (t - T0)
    plots = _plots(t, x, y)
    obs = track_plots(plots, [SITE], plane=PLANE, details=True)
    first_x = obs.groupby("icao24")["x"].first()
    assert first_x.index.tolist() == [f"R{i:04d}" for i in range(1, n + 1)]
    assert np.all(np.diff(first_x.to_numpy()) > 900.0)
    rev = _plots(t, np.tile(15_000.0 - 1000.0 * np.arange(n), k), y)
    obs = track_plots(rev, [SITE], plane=PLANE, details=True)
    first_x = obs.groupby("icao24")["x"].first()
    assert np.all(np.diff(first_x.to_numpy()) < -900.0)


def test_track_plots_without_radar_sites() -> None:
    # no sites: the plane is centred on the plots and every plot's noise is a circle;
    # a target flying east at 100 m/s is tracked where it is
    t = T0 + 4.0 * np.arange(10)
    x = 30_000.0 + 100.0 * (t - T0)
    plots = _plots(t, x, np.full(10, -40_000.0))
    obs = track_plots(plots)
    assert obs["icao24"].unique().tolist() == ["R0001"]
    assert obs["time"].tolist() == t.tolist()
    assert obs["lat"].to_numpy() == pytest.approx(plots["lat"].to_numpy(), abs=1e-4)
    assert obs["lon"].to_numpy() == pytest.approx(plots["lon"].to_numpy(), abs=2e-4)
    assert obs["velocity"].iloc[-1] == pytest.approx(100.0, abs=2.0)
    assert "x" not in obs.columns and "mode_s" not in obs.columns
    empty = track_plots(plots.iloc[:0])
    assert len(empty) == 0 and "icao24" in empty.columns


def _scan(t: float, xy: list[tuple[float, float]], times: list[float] | None = None
          ) -> pd.DataFrame:
    x = np.array([p[0] for p in xy])
    y = np.array([p[1] for p in xy])
    return _plots(np.array(times) if times is not None else np.full(len(xy), t), x, y)


@pytest.mark.parametrize("score", [TrackScore(false_tracks_per_h=1.0), None])
def test_jpda_with_several_tracks(score: TrackScore | None) -> None:
    # A flies east at y = 20 km, B north at x = -20 km (both from the start), C east at
    # y = -10 km from scan 6 on, its plot always first in the scan. At scan 17 B is not
    # seen and C has a second plot, 2 s earlier and 200 m short of where C was then.
    # Expected, by the rules: C starts and is confirmed like any target (its plot is
    # explained by no track, so it starts a candidate); B coasts unchanged while A and C
    # are updated (its state stays its own); C is corrected at the time of its own plot
    # (4 m off at most); all three keep their ids. The same without a track score (the
    # association probabilities then use the default detection probability)
    def a(k: int) -> tuple[float, float]:
        return (-10_000.0 + 400.0 * k, 20_000.0)

    def b(k: int) -> tuple[float, float]:
        return (-20_000.0, -5_000.0 + 200.0 * k)

    def c(k: int) -> tuple[float, float]:
        return (5_000.0 + 400.0 * (k - 6), -10_000.0)

    tracker = Tracker(PLANE, [SITE], associator=JointProbabilistic(), score=score)
    out = []
    for k in range(17):
        xy = ([c(k)] if k >= 6 else []) + [a(k), b(k)]
        out.append(tracker.update(_scan(T0 + 4.0 * k, xy)))
    tn = T0 + 68.0
    cx, cy = c(17)
    late = _scan(tn, [(cx - 400.0, cy), (cx, cy), a(17)], times=[tn - 2.0, tn, tn])
    out.append(tracker.update(late))
    out.append(tracker.update(_scan(T0 + 72.0, [c(18), a(18), b(18)])))
    states = pd.concat(out, ignore_index=True)
    first = states.groupby("track")["time"].min()
    assert first.to_dict() == {"R0001": T0, "R0002": T0, "R0003": T0 + 24.0}
    by = {lab: g.set_index("time") for lab, g in states.groupby("track")}
    assert by["R0003"].loc[tn, "x"] == pytest.approx(cx, abs=4.0)
    assert by["R0003"].loc[tn, "vx"] == pytest.approx(100.0, abs=3.0)
    assert tn not in by["R0002"].index
    bx, by_ = b(18)
    assert by["R0002"].loc[T0 + 72.0, "x"] == pytest.approx(bx, abs=4.0)
    assert by["R0002"].loc[T0 + 72.0, "y"] == pytest.approx(by_, abs=4.0)
    assert len(states[states["time"] == T0 + 72.0]) == 3


# ----------------------------------------------------------------------- twins


def _twin_pair(young_age: int, young_confirmed_at: float, old_then: float,
               old_then_column: int) -> Tracker:
    """A tracker holding two confirmed tracks only: uid 0 (old, confirmed at 500 s,
    score 500) and uid 1 (young, aged ``young_age`` windows, score 30), the old one's
    score ``old_then`` in column ``old_then_column`` of its history (column k: k
    windows before the current one)."""
    tracker = Tracker(PLANE, [SITE])
    history = np.zeros((2, 32))
    history[0, old_then_column] = old_then
    tracker._a.update({
        "uid": np.array([0, 1]), "age": np.array([500, young_age]),
        "confirmed_at": np.array([500.0, young_confirmed_at]),
        "llr": np.array([500.0, 30.0]), "llr_hist": history})
    return tracker


@pytest.mark.parametrize(
    ("young_age", "young_confirmed_at", "old_then", "column", "young_kept"),
    [
        # a tie: the old one gained 500 - 470 = 30 since the young one's birth, as much
        # as the young one (30): the young one must gain more, so the old one stays
        (6, 990.0, 470.0, 5, False),
        # a hair more (30 against 29.5): the young one stays
        (6, 990.0, 470.5, 5, True),
        # both confirmed exactly twin_hold_s (12 s) before now = 1000 s: both are
        # settled (confirmed_at <= now - 12), two established tracks keep the older
        (6, 988.0, 510.0, 5, False),
        # ... 0.5 s later the young one is not settled yet
        (6, 988.5, 510.0, 5, True),
    ])
def test_twins_compare_their_scores_at_the_limits(
        young_age: int, young_confirmed_at: float, old_then: float, column: int,
        young_kept: bool) -> None:
    # _younger_fits_better's rule (its docstring): the younger of two twins is kept when
    # its score rose more since its birth than the older's did (strictly), both shown
    # before this window and not both confirmed for twin_hold_s; values by hand
    tracker = _twin_pair(young_age, young_confirmed_at, old_then, column)
    status = np.full(2, tracker.initiator.confirmed)
    for i, j in ((0, 1), (1, 0)):
        keep = tracker._younger_fits_better(np.array([i]), np.array([j]), status, 1000.0)
        assert keep.tolist() == [young_kept]


@pytest.mark.parametrize(("young_age", "young_kept"), [(31, True), (32, True), (33, False),
                                                        (40, False)])
def test_twins_compare_scores_over_the_whole_score_history(young_age: int,
                                                           young_kept: bool) -> None:
    # The score history keeps 32 windows: column k is the score k windows before the
    # current one, so column 31 still holds the old track's score at the end of the
    # window a track aged 32 (age 1 in the window it was born in) was born in. The old
    # track lost 10 since (510 then, 500 now), the young one gained 30: kept while its
    # birth is in the history (ages up to 32), not beyond (33, 40: unknown, the older
    # stays, and nothing is read past the history's end)
    tracker = _twin_pair(young_age, 990.0, 510.0, min(young_age - 1, 31))
    status = np.full(2, tracker.initiator.confirmed)
    keep = tracker._younger_fits_better(np.array([0]), np.array([1]), status, 1000.0)
    assert keep.tolist() == [young_kept]


@pytest.mark.parametrize(
    ("status", "drop", "ends"),
    [
        # a tentative track on the target of a confirmed one: the tentative one ends
        ((2, 1), (False, False), [False, True]),
        # two tentative tracks: the younger (larger uid) ends
        ((1, 1), (False, False), [False, True]),
        # a candidate (a single plot) is nobody's twin: M-of-N decides on it
        ((2, 0), (False, False), [False, False]),
        # a track dropped in this window is nobody's twin any more
        ((2, 1), (True, False), [False, False]),
    ])
def test_twins_among_confirmed_and_tentative_tracks(
        status: tuple[int, int], drop: tuple[bool, bool], ends: list[bool]) -> None:
    # _twins' rule (its docstring): tracks (not candidates) that fly the same way in the
    # same place end, the younger and a tentative one before a confirmed one. Two
    # tracks at 1000 s, 10 m apart, both flying 100 m/s east (constant velocity),
    # position variances 100 m^2, velocity 4 m^2/s^2: the squared distance over the sum
    # of the covariances is 10^2 / 200 = 0.5, far inside the 0.99 gate on four degrees
    # of freedom (13.28). Track 0 was confirmed at 500 s
    tracker = _two_tracks(status, 10.0, np.diag([100.0, 100.0, 4.0, 4.0]))
    out = tracker._twins(np.array(status), np.array(drop), 1000.0)
    assert out.tolist() == ends


@pytest.mark.parametrize(
    ("status", "confirmed_at", "ends"),
    [
        # the confirmed track is kept though it is the younger (uid 1): rank by status
        # first, then by age
        ((1, 2), (500.0, 600.0), [True, False]),
        # two confirmed, both for twin_hold_s (12 s) or longer: not in their first twin
        # window (they must stay twins that long first)
        ((2, 2), (500.0, 988.0), [False, False]),
        # two confirmed, the younger for less than twin_hold_s (11.99 s): it ends at once
        ((2, 2), (500.0, 988.01), [False, True]),
    ])
def test_twins_ranked_by_status_then_age_and_held_only_when_both_settled(
        status: tuple[int, int], confirmed_at: tuple[float, float], ends: list[bool]) -> None:
    # _twins' rule (its docstring): of a twin pair the confirmed track is kept over a
    # tentative one, then the older (smaller uid); two tracks confirmed at least
    # twin_hold_s before now must stay twins that long before one ends. Same set-up as
    # above (10 m apart, d2 = 0.5), now = 1000 s
    tracker = _two_tracks(status, 10.0, np.diag([100.0, 100.0, 4.0, 4.0]), confirmed_at)
    out = tracker._twins(np.array(status), np.zeros(2, bool), 1000.0)
    assert out.tolist() == ends


def test_twins_keep_the_older_track_whatever_its_row() -> None:
    # the older track (smaller uid) is kept also when it sits in the later row: rows
    # 0 and 1 hold uids 1 and 0 (two tentative tracks, 10 m apart): row 0 ends
    tracker = _two_tracks((1, 1), 10.0, np.diag([100.0, 100.0, 4.0, 4.0]))
    tracker._a["uid"] = np.array([1, 0])
    out = tracker._twins(np.array([1, 1]), np.zeros(2, bool), 1000.0)
    assert out.tolist() == [True, False]


def test_twins_at_the_edge_of_the_search_radius() -> None:
    # sigma 10 m on both axes: the radius is sqrt(2 x 13.2767) x 10 + 1 = 52.53 m; two
    # tracks 51.3 m apart are twins (51.3^2 / 200 = 13.158 < 13.2767) and must be found
    # (a radius 1 m short, 50.53 m, would not reach them)
    tracker = _two_tracks((2, 1), 51.3, np.diag([100.0, 100.0, 4.0, 4.0]))
    out = tracker._twins(np.array([2, 1]), np.zeros(2, bool), 1000.0)
    assert out.tolist() == [False, True]


def test_twins_in_one_place_with_velocities_known_loosely() -> None:
    # the search is over positions only: two tracks at one place whose velocities differ
    # by 60 m/s east, each velocity known to 100 m/s (variance 10,000): the 4-d distance
    # is 60^2 / 20,000 = 0.18, twins (a search over position and velocity, 60 m/s
    # "apart" beyond the 52.5 m radius, would miss them)
    tracker = _two_tracks((2, 1), 0.0, np.diag([100.0, 100.0, 10_000.0, 10_000.0]))
    tracker._state = FilterState({
        "x": np.array([[0.0, 0.0, 100.0, 0.0], [0.0, 0.0, 160.0, 0.0]]),
        "p": np.repeat(np.diag([100.0, 100.0, 10_000.0, 10_000.0])[None], 2, axis=0)})
    out = tracker._twins(np.array([2, 1]), np.zeros(2, bool), 1000.0)
    assert out.tolist() == [False, True]


def test_twins_held_after_windows_without_any_pair() -> None:
    # two settled confirmed tracks: a window with one of them dropped (fewer than two to
    # compare), then one with them 10 km apart (no pair), then together: their hold
    # starts there (not ended at once), and after twin_hold_s (12 s) the younger ends
    p = np.diag([100.0, 100.0, 4.0, 4.0])
    tracker = _two_tracks((2, 2), 10.0, p)
    status = np.array([2, 2])
    assert tracker._twins(status, np.array([True, False]), 1000.0).tolist() == [False, False]
    far = _two_tracks((2, 2), 10_000.0, p)
    tracker._state = far._state
    assert tracker._twins(status, np.zeros(2, bool), 1004.0).tolist() == [False, False]
    tracker._state = _two_tracks((2, 2), 10.0, p)._state
    assert tracker._twins(status, np.zeros(2, bool), 1008.0).tolist() == [False, False]
    assert tracker._twins(status, np.zeros(2, bool), 1020.0).tolist() == [False, True]


def test_twins_keep_the_younger_track_when_it_fits_better() -> None:
    # two confirmed twins, the younger (uid 1, aged 6 windows, confirmed at 990 s: not
    # settled) gained 30 since its birth (score 30) while the older's fell from 510 (its
    # score 5 windows ago) to 500: the younger followed the target, the older ends
    # (_younger_fits_better, reached through _twins)
    tracker = _two_tracks((2, 2), 10.0, np.diag([100.0, 100.0, 4.0, 4.0]),
                          confirmed_at=(500.0, 990.0))
    history = np.zeros((2, 32))
    history[0, 5] = 510.0
    tracker._a.update({"age": np.array([500, 6]), "llr": np.array([500.0, 30.0]),
                       "llr_hist": history})
    out = tracker._twins(np.array([2, 2]), np.zeros(2, bool), 1000.0)
    assert out.tolist() == [True, False]


def _two_tracks(status: tuple[int, int], dx: float, p: np.ndarray,
                confirmed_at: tuple[float, float] = (500.0, 600.0)) -> Tracker:
    """A tracker (constant velocity) holding two tracks last updated at 1000 s, ``dx``
    metres apart east-west, both flying 100 m/s east, covariance ``p`` each; a
    confirmed one (status 2) confirmed at ``confirmed_at``."""
    tracker = Tracker(PLANE, [SITE], motion=ConstantVelocity())
    tracker._state = FilterState({
        "x": np.array([[0.0, 0.0, 100.0, 0.0], [dx, 0.0, 100.0, 0.0]]),
        "p": np.repeat(p[None], 2, axis=0)})
    confirmed = [c if s == 2 else np.inf for s, c in zip(status, confirmed_at, strict=True)]
    tracker._a.update({
        "uid": np.array([0, 1]), "age": np.array([200, 50]), "t": np.full(2, 1000.0),
        "confirmed_at": np.array(confirmed), "llr": np.zeros(2),
        "llr_hist": np.zeros((2, 32))})
    return tracker


def test_twins_are_looked_for_along_the_widest_axis() -> None:
    # position variances 10,000 m^2 east-west and 1 north-south: two tracks 200 m apart
    # east-west are twins (200^2 / 20,000 = 2, inside 13.28); the search radius is four
    # sigmas of the widest axis (400 m), not of the narrowest (4 m)
    tracker = _two_tracks((2, 1), 200.0, np.diag([10_000.0, 1.0, 4.0, 4.0]))
    out = tracker._twins(np.array([2, 1]), np.zeros(2, bool), 1000.0)
    assert out.tolist() == [False, True]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-3.0, 3.0), min_size=32, max_size=32))
@example([1.0 if k in (0, 5, 10, 15, 16, 21, 26, 31) else 0.0 for k in range(32)])
def test_the_twin_search_radius_holds_every_pair_inside_the_gate(v: list[float]) -> None:
    # the bound in _twins, checked at its worst case: for two covariances Pi, Pj
    # (A A' + 0.01 I, A random; the example: both the identity), the farthest position
    # difference of a 4-d state difference d with d' (Pi + Pj)^-1 d = gate is
    # sqrt(gate x the largest eigenvalue of (Pi + Pj)'s position block), along its
    # eigenvector w (d = (Pi + Pj)[:, :2] w scaled; with the block's inverse that is
    # the maximum of a quadratic form over an ellipse). It must stay within
    # sqrt(2 gate) x the larger widest position sigma (equal for the identities)
    gate = float(chi2.ppf(0.99, df=4))
    a, b = np.array(v[:16]).reshape(4, 4), np.array(v[16:]).reshape(4, 4)
    pi, pj = a @ a.T + 0.01 * np.eye(4), b @ b.T + 0.01 * np.eye(4)
    s = pi + pj
    lam, vec = np.linalg.eigh(s[:2, :2])
    d = s[:, :2] @ np.linalg.solve(s[:2, :2], vec[:, -1])
    d *= math.sqrt(gate / float(d @ np.linalg.solve(s, d)))
    sigma = max(math.sqrt(np.linalg.eigvalsh(pi[:2, :2])[-1]),
                math.sqrt(np.linalg.eigvalsh(pj[:2, :2])[-1]))
    assert math.hypot(d[0], d[1]) == pytest.approx(math.sqrt(gate * lam[-1]))
    assert math.hypot(d[0], d[1]) <= math.sqrt(2 * gate) * sigma * (1 + 1e-9)


@pytest.mark.parametrize(("dx", "ends"), [(48.0, [False, True]), (52.0, [False, False])])
def test_twins_are_looked_for_as_far_as_the_gate_reaches(dx: float, ends: list[bool]) -> None:
    # position variances 100 m^2 (sigma 10 m), equal velocities: tracks 48 m apart are
    # twins (48^2 / 200 = 11.52 < 13.28) although farther than four sigmas (40 m); 52 m
    # apart they are not (52^2 / 200 = 13.52): the gate decides, not the search radius
    tracker = _two_tracks((2, 1), dx, np.diag([100.0, 100.0, 4.0, 4.0]))
    out = tracker._twins(np.array([2, 1]), np.zeros(2, bool), 1000.0)
    assert out.tolist() == ends


@pytest.mark.parametrize(
    ("windows", "ends"),
    [
        # twins at 1000, 1008, 1012 s: held for twin_hold_s (12 s) at 1012, the younger ends
        ([(1000.0, False), (1008.0, False), (1012.0, False)], [False, False, True]),
        # at 1004 s the older is dropped (fewer than two tracks left to compare): the hold
        # starts again at 1012 s and ends the younger at 1024 s
        ([(1000.0, False), (1004.0, True), (1012.0, False), (1024.0, False)],
         [False, False, False, True]),
    ])
def test_settled_twins_end_only_after_the_hold(windows: list[tuple[float, bool]],
                                               ends: list[bool]) -> None:
    # _twins' rule (its docstring): two tracks both confirmed for twin_hold_s must stay
    # twins that long, every window in between, before one (the younger) ends. Two
    # tracks 10 m apart, as in test_twins_among_confirmed_and_tentative_tracks, both
    # confirmed long before (500 s, 600 s), are twins in every window below
    status = np.array([2, 2])
    tracker = _two_tracks((2, 2), 10.0, np.diag([100.0, 100.0, 4.0, 4.0]))
    out = [bool(tracker._twins(status, np.array([gone, False]), now)[1])
           for now, gone in windows]
    assert out == ends
