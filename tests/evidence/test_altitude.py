"""The altitude line of the profiles (detail view and dossier): smoothed only when noisy.

References are the generating truth, not the code: the heights are a known line plus
seeded normal noise, so how far the drawn line is from the truth is measured directly.
"""

from __future__ import annotations

import numpy as np

from skyfence.evidence.altitude import QUIET_M, altitude_profile
from skyfence.vocab import FT


def radar_heights(seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 3D radar (a plot every 4 s, height sigma 300 m, as the Vaindloo scenario's
    radar) on a jet holding 9,000 m for 4 min, then climbing 10 m/s for 2 min, then
    holding 10,200 m for 4 min."""
    t = np.arange(0.0, 600.0, 4.0)
    truth = np.interp(t, [0.0, 240.0, 360.0, 600.0], [9000.0, 9000.0, 10200.0, 10200.0])
    rng = np.random.default_rng(seed)
    return t, truth, truth + rng.normal(0.0, 300.0, t.size)


def test_radar_heights_are_smoothed_to_within_a_third_of_their_noise() -> None:
    # A median of the n = 15 heights of a 60 s window has sd ~ 1.253 x 300 / sqrt(15)
    # = 97 m; the running mean of those medians averages further, so the line stays
    # well under 100 m RMS from the truth, where the heights themselves are ~300 m off.
    t, truth, heights = radar_heights()
    p = altitude_profile(t, heights)
    raw_rms = float(np.sqrt(np.mean((heights - truth) ** 2)))
    line_rms = float(np.sqrt(np.mean((p.altitude_m - truth) ** 2)))
    assert raw_rms > 250.0
    assert line_rms < 100.0, line_rms
    assert p.smoothed and p.scatter_m > QUIET_M
    # and it still shows the climb: the holds are 1,200 m apart, the line too (± 200 m)
    first, last = p.altitude_m[t < 200].mean(), p.altitude_m[t > 400].mean()
    assert 1000.0 < last - first < 1400.0


def test_transponder_heights_are_drawn_as_reported() -> None:
    # Mode C / ADS-B: 25 ft steps, a fix a second, a climb at 8 m/s between two holds.
    # The level-off corners are where any smoothing would show: the line must be the
    # reported heights exactly.
    t = np.arange(0.0, 300.0)
    truth = np.interp(t, [0.0, 100.0, 175.0, 300.0], [3000.0, 3000.0, 3600.0, 3600.0])
    reported = np.round(truth / (25 * FT)) * 25 * FT
    p = altitude_profile(t, reported)
    assert not p.smoothed
    np.testing.assert_array_equal(p.altitude_m, reported)


def test_missing_heights_stay_missing_and_order_does_not_matter() -> None:
    t, _, heights = radar_heights(seed=3)
    heights[10:20] = np.nan
    p = altitude_profile(t, heights)
    assert np.isnan(p.altitude_m[10:20]).all()
    assert np.isfinite(p.altitude_m[:10]).all() and np.isfinite(p.altitude_m[20:]).all()
    back = altitude_profile(t[::-1], heights[::-1])
    np.testing.assert_allclose(back.altitude_m[::-1], p.altitude_m)


def test_too_few_heights_are_drawn_as_they_are() -> None:
    p = altitude_profile(np.array([0.0, 4.0]), np.array([9000.0, 9700.0]))
    assert p.altitude_m.tolist() == [9000.0, 9700.0] and p.scatter_m == 0.0


def _profile_line(heights: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, int]:
    """The altitude line the dossier's profile.png draws over ``heights``, and how many
    points its scatter has (dots)."""
    import matplotlib.pyplot as plt

    from skyfence.evidence.pictures import draw_profile
    from skyfence.evidence.trackfacts import TrackFacts
    from skyfence.incidents.record import iso_time as iso

    t = t + 1_758_275_000.0
    n = t.size
    inside = np.arange(n) >= n // 2
    facts = TrackFacts(time=t, lat=np.full(n, 59.8), lon=np.linspace(26.5, 26.2, n),
                       altitude_m=heights, inside=inside,
                       signed_distance_m=np.where(inside, 1000.0, -1000.0), in_entry=inside,
                       deepest=n - 1, crossing_fraction=np.full(n - 1, np.nan))
    record = {"entered_at": iso(float(t[n // 2])), "exited_at": None,
              "last_inside_at": iso(float(t[-1]))}
    fig = draw_profile(facts, record, "test")
    try:
        ax = fig.axes[1]
        (line,) = [ln for ln in ax.get_lines() if len(ln.get_ydata()) == n]
        dots = sum(len(c.get_offsets()) for c in ax.collections)
        return np.asarray(line.get_ydata(), dtype=float), dots
    finally:
        plt.close(fig)


def test_the_dossier_profile_draws_the_same_smoothed_line() -> None:
    # profile.png: the radar heights as dots, the line within 100 m RMS of the truth
    # (as above), the very line the API gives the operators' screen
    t, truth, heights = radar_heights()
    line, dots = _profile_line(heights, t)
    assert dots == t.size
    assert np.sqrt(np.mean((line - truth) ** 2)) < 100.0
    np.testing.assert_allclose(line, altitude_profile(t, heights).altitude_m)
    # a transponder's heights: the line is the heights themselves
    clean = np.round(np.interp(t, [0, 300, 600], [3000, 3600, 3600]) / (25 * FT)) * 25 * FT
    line, _ = _profile_line(clean, t)
    np.testing.assert_array_equal(line, clean)
