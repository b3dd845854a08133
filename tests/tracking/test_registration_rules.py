"""Registration's rules on hand-built scenes (``skyfence.tracking.registration``).

The scenes are laid out in the test's own flat frame, an azimuthal equidistant plane
centred on the radar (``FRAME``): an aircraft's ADS-B messages and a radar's plots are
put at x (east), y (north) metres from it, so distances between them are known by
construction. A plot's range and azimuth are written as the true polar position of
the aircraft at the plot's time plus a known error, the true polar position computed
here independently of ``skyfence.radar`` (pyproj's WGS84 to ECEF, then the textbook
east-north-up rotation, ``polar``); so the residual registration stores for a pair
must be that error, and the wrong aircraft, the wrong interpolation time or the wrong
altitude would give another number. The rules (``Registration``'s docstring):

- a plot pairs with an aircraft whose messages bracket the plot's time, at most
  ``max_gap_s`` apart (both ends inclusive), interpolated linearly in position and
  altitude at that time; the nearest such aircraft within ``gate_m`` (inclusive) if no
  other lies within twice the gate (inclusive: a second at exactly twice the gate
  makes the plot ambiguous); candidates are aircraft with a message within
  ``gate_m + 350 m/s x max_gap_s`` of the plot;
- a plot is paired once the streams reached ``hold_s`` past it (inclusive); ADS-B
  messages older than ``3 hold_s + max_gap_s`` before the stream time are forgotten;
- the bias is the median residual, the spread 1.4826 x the median absolute deviation,
  both only from ``min_pairs`` pairs on; ``correct`` takes the bias out of range and
  azimuth and locates the plot again at its height.

Every test runs with warnings as errors: pairing computes its interpolation for every
candidate, bracketed or not, and must not divide by zero for the ones it discards (a
live feed would print a numpy warning a batch).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking.registration import Registration

T0 = 1_758_268_800.0
SITE = RadarSite(1, 1, 55.0, 12.0, 0.0, name="s")
OTHER = RadarSite(1, 2, 55.05, 12.10, 40.0)  # no name: estimates call it "1/2"
FRAME = LocalPlane(55.0, 12.0)  # the test's own plane, centred on SITE
_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
pytestmark = pytest.mark.filterwarnings("error")
PLOT_COLUMNS = ["time", "sac", "sic", "lat", "lon", "altitude", "range_m", "azimuth_deg"]


def polar(site: RadarSite, lat: float, lon: float, alt: float) -> tuple[float, float]:
    """Slant range (m) and azimuth (deg, 0-360) of a position seen from a site, by hand:
    WGS84 to ECEF with pyproj, then the local east-north-up rotation at the site."""
    x, y, z = _ECEF.transform(lon, lat, alt)
    x0, y0, z0 = _ECEF.transform(site.lon, site.lat, site.alt_m)
    dx, dy, dz = x - x0, y - y0, z - z0
    p, q = math.radians(site.lat), math.radians(site.lon)
    e = -math.sin(q) * dx + math.cos(q) * dy
    n = -math.sin(p) * math.cos(q) * dx - math.sin(p) * math.sin(q) * dy + math.cos(p) * dz
    u = math.cos(p) * math.cos(q) * dx + math.cos(p) * math.sin(q) * dy + math.sin(p) * dz
    return math.sqrt(e * e + n * n + u * u), math.degrees(math.atan2(e, n)) % 360.0


def at(x: float, y: float) -> tuple[float, float]:
    """Latitude and longitude of a point of the test's plane."""
    lat, lon = FRAME.to_latlon([x], [y])
    return float(lat[0]), float(lon[0])


def messages(*rows: tuple[float, str, float, float, float]) -> pd.DataFrame:
    """ADS-B messages from (seconds after T0, icao24, x, y, altitude)."""
    recs = []
    for t, icao, x, y, alt in rows:
        lat, lon = at(x, y)
        recs.append({"time": T0 + t, "icao24": icao, "lat": lat, "lon": lon,
                     "altitude": alt})
    return pd.DataFrame(recs, columns=["time", "icao24", "lat", "lon", "altitude"])


def plot(t: float, x: float, y: float, alt: float, *, site: RadarSite = SITE,
         dr: float = 0.0, da: float = 0.0) -> dict[str, float]:
    """A plot at (x, y, alt) of the plane whose range and azimuth read the true polar
    position of that point plus ``dr`` metres and ``da`` degrees."""
    lat, lon = at(x, y)
    rng, az = polar(site, lat, lon, alt)
    return {"time": T0 + t, "sac": site.sac, "sic": site.sic, "lat": lat, "lon": lon,
            "altitude": alt, "range_m": rng + dr, "azimuth_deg": (az + da) % 360.0}


def plots(*rows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=PLOT_COLUMNS)


def run(reg: Registration, ref: pd.DataFrame, obs: pd.DataFrame) -> Registration:
    """Stream one batch: the plots, the messages, then time enough for every plot."""
    reg.observe(obs)
    reg.add_reference(ref)
    reg.advance(float(obs["time"].max()) + reg.hold_s)
    return reg


def residuals(reg: Registration, site: RadarSite = SITE) -> tuple[list[float], list[float]]:
    return reg._dr[site.key].tolist(), reg._da[site.key].tolist()


# ------------------------------------------------------------------ __init__
def test_defaults() -> None:
    """The documented defaults: 1.5 km gate, 30 pairs before an estimate, the last
    4,000 residuals, 8 s hold, 12 s between bracketing messages."""
    reg = Registration([SITE])
    assert (reg.gate_m, reg.min_pairs, reg.max_pairs, reg.hold_s, reg.max_gap_s) == (
        1500.0, 30, 4000, 8.0, 12.0)
    assert reg.sites == {(1, 1): SITE}
    assert residuals(reg) == ([], [])


def test_default_gate_on_the_ground() -> None:
    """With the default gate (1,500 m) an aircraft 1,499.5 m east of a plot pairs,
    one 1,500.5 m east does not. The metres are ground metres near the radar: a plane
    centred anywhere but among the radars (e.g. at 0 N 0 E, 6,400 km away, where the
    east-west scale is off by several per cent) moves both across the gate."""
    # two hovering aircraft 20 km apart, each with a plot beside it; nothing else within
    # the candidate reach (5.7 km)
    ref = messages((0, "a", 0, 5000, 1000), (10, "a", 0, 5000, 1000),
                   (0, "b", 0, 25000, 1000), (10, "b", 0, 25000, 1000))
    obs = plots(plot(5, -1499.5, 5000, 1000, dr=11.0), plot(5, -1500.5, 25000, 1000))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    # only the first plot paired; its residual is not 11 m (the plot is 1.5 km off the
    # aircraft, so its range reads another point): just one pair
    assert len(residuals(reg)[0]) == 1
    assert len(reg._da[SITE.key]) == 1


def test_no_radar_registration_ignores_everything() -> None:
    """Without radars nothing is kept: no messages, no plots, no estimates, plots
    returned as they are."""
    reg = Registration([])
    ref = messages((0, "a", 0, 5000, 1000), (10, "a", 0, 5000, 1000))
    obs = plots(plot(5, 0, 5000, 1000))
    reg.add_reference(ref)
    reg.observe(obs)
    reg.advance(T0 + 100.0)
    assert len(reg._ref) == 0 and reg._plots == []
    assert reg.estimates() == []
    assert reg.correct(obs) is obs


# ------------------------------------------------------------------ _pair
def test_plot_pairs_with_the_interpolated_aircraft() -> None:
    """Two messages 10 s apart (the least that can bracket a plot), the plot a quarter
    of the way: the aircraft is taken at (2150, 3200) m and 1,500 m, interpolated in
    position and altitude (1,000 m at 0 s, 3,000 m at 10 s). The plot's range reads
    40 m long and its azimuth 0.2 deg clockwise of that point, so the pair's residuals
    are 40 m and 0.2 deg: the aircraft at either message, or at another altitude, would
    give another range."""
    ref = messages((0, "a", 2000, 3000, 1000), (10, "a", 2600, 3800, 3000))
    obs = plots(plot(2.5, 2150, 3200, 1500, dr=40.0, da=0.2))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    dr, da = residuals(reg)
    assert dr == pytest.approx([40.0], abs=1e-3)
    assert da == pytest.approx([0.2], abs=1e-6)
    assert reg.bias(SITE.key) == pytest.approx((40.0, 0.2), abs=1e-3)


def test_three_messages_the_bracketing_two_are_used() -> None:
    """An aircraft that turns: messages at 0, 6 and 12 s at (0, 3000), (0, 4200),
    (1200, 4200). A plot at 9 s lies between the second and third: (600, 4200), at
    2,000 m (1,000, 1,500, 2,500 m). Interpolating from the first message (or
    extrapolating the first leg) puts the aircraft at (0, 4800), 600 m off."""
    ref = messages((0, "a", 0, 3000, 1000), (6, "a", 0, 4200, 1500),
                   (12, "a", 1200, 4200, 2500))
    obs = plots(plot(9, 600, 4200, 2000, dr=-25.0, da=-0.1))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    dr, da = residuals(reg)
    assert dr == pytest.approx([-25.0], abs=1e-3)
    assert da == pytest.approx([-0.1], abs=1e-6)


def test_messages_of_one_aircraft_in_any_order_and_batches() -> None:
    """Messages of two aircraft arrive interleaved and out of time order, one message a
    call (a single message is a batch too): each plot still pairs with its own
    aircraft between its own bracketing messages."""
    reg = Registration([SITE], min_pairs=1)
    for row in [(10, "b", 0, 20000, 2000), (10, "a", 2600, 3800, 3000),
                (0, "b", 0, 20000, 1000), (0, "a", 2000, 3000, 1000)]:
        reg.add_reference(messages(row))
    obs = plots(plot(2.5, 2150, 3200, 1500, dr=40.0), plot(5, 0, 20000, 1500, dr=-7.0))
    reg.observe(obs)
    reg.advance(T0 + 13.0)
    assert residuals(reg)[0] == pytest.approx([40.0, -7.0], abs=1e-3)


def test_plot_at_the_time_of_the_last_message() -> None:
    """A plot at exactly the time of an aircraft's last message pairs with the aircraft
    at that message."""
    ref = messages((0, "a", 2000, 3000, 1000), (10, "a", 2600, 3800, 3000))
    obs = plots(plot(10, 2600, 3800, 3000, dr=5.0))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert residuals(reg)[0] == pytest.approx([5.0], abs=1e-3)


def test_plot_at_the_time_of_the_first_message() -> None:
    """A plot at exactly the time of an aircraft's first message pairs with the aircraft
    at that message, as at its last: both ends of the bracket are inclusive. Aircraft
    "b", heard before "a" (and sorted before it), is far away and never a candidate."""
    ref = messages((-20, "b", 0, 60000, 1000), (-10, "b", 0, 60000, 1000),
                   (0, "a", 2000, 3000, 1000), (10, "a", 2600, 3800, 3000))
    obs = plots(plot(0, 2000, 3000, 1000, dr=-12.0, da=0.05))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    dr, da = residuals(reg)
    assert dr == pytest.approx([-12.0], abs=1e-3)
    assert da == pytest.approx([0.05], abs=1e-6)


def test_an_aircraft_heard_once_pairs_with_a_plot_at_that_message() -> None:
    """Two aircraft heard once each: "a" (sorted first of all messages) at 0 s at P,
    "z" (sorted last) at 5 s at Q, 20 km apart. A plot at P at 0 s and one at Q at 5 s
    each pair with the aircraft at its one message (a message at the plot's very time
    brackets it alone), although no other message of the same aircraft is beside it in
    the sorted messages."""
    ref = messages((0, "a", 2000, 3000, 1000), (5, "z", 2000, 23000, 1000))
    obs = plots(plot(0, 2000, 3000, 1000, dr=7.0), plot(5, 2000, 23000, 1000, dr=-9.0))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert sorted(residuals(reg)[0]) == pytest.approx([-9.0, 7.0], abs=1e-3)


def test_the_one_message_left_in_memory_pairs_with_a_plot_at_its_time() -> None:
    """Registration forgets messages older than 3 x hold_s + max_gap_s (36 s) behind the
    streams. "a" heard at 0 s, "z" at 50 s; the plot at Q at 50 s ripens at 58 s, when
    "a"'s message is forgotten and "z"'s is the only one in memory: it is at the plot's
    very time, so it pairs, as it would beside other messages."""
    ref = messages((0, "a", 2000, 3000, 1000), (50, "z", 2000, 23000, 1000))
    obs = plots(plot(50, 2000, 23000, 1000, dr=-9.0))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert len(reg._ref) == 1
    assert residuals(reg)[0] == pytest.approx([-9.0], abs=1e-3)


def test_plots_before_or_after_an_aircrafts_messages_are_not_paired() -> None:
    """Aircraft "a" hovers at P = (0, 5000) and is heard at 40 and 50 s; "b" at
    Q = (3000, 5000), heard at 10 and 20 s. A plot at P at 5 s is before either's
    messages, one at Q at 30 s after b's (and before a's): neither is bracketed, so
    neither pairs, even though each lies on an aircraft's message (and the message
    sorted just before the aircraft's first, or the last of all, is at the plot)."""
    ref = messages((40, "a", 0, 5000, 1000), (50, "a", 0, 5000, 1000),
                   (10, "b", 3000, 5000, 1000), (20, "b", 3000, 5000, 1000))
    obs = plots(plot(5, 0, 5000, 1000), plot(30, 3000, 5000, 1000))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert residuals(reg) == ([], [])


def test_messages_at_most_max_gap_apart() -> None:
    """Messages exactly 12 s apart bracket a plot; 12.5 s apart they do not (the
    aircraft could have turned)."""
    ref = messages((0, "a", 0, 5000, 1000), (12, "a", 0, 5000, 1000),
                   (0, "b", 0, 25000, 1000), (12.5, "b", 0, 25000, 1000))
    obs = plots(plot(6, 0, 5000, 1000, dr=3.0), plot(6, 0, 25000, 1000, dr=4.0))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert residuals(reg)[0] == pytest.approx([3.0], abs=1e-3)


def test_candidate_reach_is_gate_plus_350_m_s_times_max_gap() -> None:
    """Aircraft are looked for within gate + 350 m/s x max_gap of a plot (1,500 +
    4,200 = 5,700 m by default). A (very fast) aircraft heard 6 s before and 6 s after
    the plot on either side of it is at the plot at its time: paired when its messages
    are 5,699 m away, not found when they are 5,701 m away. And one message within
    reach is enough: an aircraft heard at the plot 0.5 s before and 6 km north 11.5 s
    after is 250 m north of it at its time, and pairs."""
    ref = messages((-6, "a", -5699, 5000, 1000), (6, "a", 5699, 5000, 1000),
                   (-6, "b", -5701, 30000, 1000), (6, "b", 5701, 30000, 1000))
    obs = plots(plot(0, 0, 5000, 1000, dr=1.0), plot(0, 0, 30000, 1000, dr=2.0))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert residuals(reg)[0] == pytest.approx([1.0], abs=1e-3)

    ref = messages((-0.5, "c", 0, 5000, 1000), (11.5, "c", 0, 11000, 1000))
    obs = plots(plot(0, 0, 5250, 1000, dr=3.0))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert residuals(reg)[0] == pytest.approx([3.0], abs=1e-3)


def _hover(icao: str, x: float, y: float) -> list[tuple[float, str, float, float, float]]:
    return [(0, icao, x, y, 1000), (10, icao, x, y, 1000)]


def _plane_distance(reg: Registration, a: tuple[float, float], b: tuple[float, float]
                    ) -> float:
    """The distance registration measures between two points (its own plane)."""
    (ax, bx), (ay, by) = reg.plane.to_xy([at(*a)[0], at(*b)[0]], [at(*a)[1], at(*b)[1]])
    return float(np.hypot(ax - bx, ay - by))


def test_gate_is_inclusive() -> None:
    """An aircraft exactly ``gate_m`` from the plot (the gate set to the distance
    registration measures, to the last bit) pairs; with the gate one float smaller it
    does not."""
    ref = messages(*_hover("a", 0, 5000))
    obs = plots(plot(5, 800, 5600, 1000))
    d = _plane_distance(Registration([SITE]), (0, 5000), (800, 5600))
    assert d == pytest.approx(1000.0, abs=0.01)
    assert len(residuals(run(Registration([SITE], gate_m=d), ref, obs))[0]) == 1
    smaller = float(np.nextafter(d, 0.0))
    assert len(residuals(run(Registration([SITE], gate_m=smaller), ref, obs))[0]) == 0


def test_a_second_aircraft_within_twice_the_gate_makes_the_plot_ambiguous() -> None:
    """The nearest aircraft on the plot, a second 3,000 m away: with the gate exactly
    half that distance (the second at exactly twice the gate) the plot is not paired;
    with the gate one float smaller it is (and with the gate at 1,200 m, the second at
    2.5 gates, too)."""
    ref = messages(*_hover("a", 0, 5000), *_hover("b", 3000, 5000))
    obs = plots(plot(5, 0, 5000, 1000, dr=9.0))
    d2 = _plane_distance(Registration([SITE]), (0, 5000), (3000, 5000))
    half = d2 / 2
    assert len(residuals(run(Registration([SITE], gate_m=half), ref, obs))[0]) == 0
    below = float(np.nextafter(half, 0.0))
    reg = run(Registration([SITE], gate_m=below), ref, obs)
    assert residuals(reg)[0] == pytest.approx([9.0], abs=1e-3)
    reg = run(Registration([SITE], gate_m=1200.0), ref, obs)
    assert residuals(reg)[0] == pytest.approx([9.0], abs=1e-3)


def test_each_plot_of_a_batch_is_judged_on_its_own_aircraft() -> None:
    """Three plots in one batch, 20 km apart (beyond each other's reach):

    - the first has an aircraft on it and another 2,000 m away (within twice the
      1,500 m gate): ambiguous, not paired;
    - the second has one aircraft 300 m away: paired;
    - the third, the last of the batch, has two aircraft both within the gate
      (200 m and 900 m away): ambiguous, not paired.
    """
    ref = messages(*_hover("a1", 0, 5000), *_hover("a2", 2000, 5000),
                   *_hover("b", 300, 25000),
                   *_hover("c1", 200, 45000), *_hover("c2", -900, 45000))
    obs = plots(plot(5, 0, 5000, 1000, dr=1.0), plot(5, 0, 25000, 1000, dr=2.0),
                plot(5, 0, 45000, 1000, dr=3.0))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    # one pair, the second plot's: its range reads its own position (2 m long), 300 m
    # west of the aircraft, which lies about 1.8 m further from the radar
    expected = 2.0 + polar(SITE, *at(0, 25000), 1000)[0] - polar(SITE, *at(300, 25000), 1000)[0]
    assert residuals(reg)[0] == pytest.approx([expected], abs=1e-3)


def test_only_paired_plots_make_residuals() -> None:
    """A plot 2 km from the only aircraft (beyond the gate, no other near) is not
    paired, beside one that is: one residual, the right one."""
    ref = messages(*_hover("a", 0, 5000), *_hover("b", 0, 30000))
    obs = plots(plot(5, 0, 5000, 1000, dr=6.0), plot(5, 2000, 30000, 1000, dr=8.0))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert residuals(reg)[0] == pytest.approx([6.0], abs=1e-3)


def test_no_altitude_no_pair() -> None:
    """An aircraft without an altitude (NaN) cannot give a slant range: not paired."""
    ref = messages((0, "a", 0, 5000, float("nan")), (10, "a", 0, 5000, float("nan")))
    obs = plots(plot(5, 0, 5000, 1000))
    assert residuals(run(Registration([SITE], min_pairs=1), ref, obs)) == ([], [])


def test_residuals_go_to_the_plots_radar() -> None:
    """Two radars: in this batch only the second radar's plot is paired (the first's
    is 20 km from any aircraft), and a plot of a radar registration does not know
    (SAC/SIC 9/9) is left out. Range residuals are measured from each plot's own
    radar."""
    ref = messages(*_hover("a", 0, 5000))
    stranger = RadarSite(9, 9, 55.0, 12.0)
    obs = plots(plot(5, 0, 25000, 1000, site=SITE, dr=1.0),
                plot(5, 0, 5000, 1000, site=OTHER, dr=-12.0, da=0.05),
                plot(5, 0, 5000, 1000, site=stranger, dr=99.0))
    reg = run(Registration([SITE, OTHER], min_pairs=1), ref, obs)
    assert residuals(reg, SITE) == ([], [])
    dr, da = residuals(reg, OTHER)
    assert dr == pytest.approx([-12.0], abs=1e-3)
    assert da == pytest.approx([0.05], abs=1e-6)
    assert set(reg._dr) == {SITE.key, OTHER.key}


def test_max_pairs_keeps_the_most_recent() -> None:
    """``max_pairs=3``: five pairs in one batch keep the last three (in plot order), two
    more the last three of all."""
    reg = Registration([SITE], min_pairs=1, max_pairs=3)
    ys = [5000 + 20000 * k for k in range(5)]
    ref = messages(*[m for k, y in enumerate(ys) for m in _hover(f"a{k}", 0, y)])
    obs = plots(*[plot(5, 0, y, 1000, dr=float(k + 1)) for k, y in enumerate(ys)])
    run(reg, ref, obs)
    assert residuals(reg)[0] == pytest.approx([3.0, 4.0, 5.0], abs=1e-3)
    ref = messages((20, "a0", 0, 5000, 1000), (30, "a0", 0, 5000, 1000),
                   (20, "a1", 0, 25000, 1000), (30, "a1", 0, 25000, 1000))
    obs = plots(plot(25, 0, 5000, 1000, dr=6.0), plot(25, 0, 25000, 1000, dr=7.0))
    run(reg, ref, obs)
    assert residuals(reg)[0] == pytest.approx([5.0, 6.0, 7.0], abs=1e-3)


def test_azimuth_residual_is_wrapped_to_plus_minus_180() -> None:
    """A plot due north of the radar read 0.4 deg anticlockwise (359.6 deg): residual
    -0.4, not +359.6."""
    ref = messages(*_hover("a", 0, 5000))
    obs = plots(plot(5, 0, 5000, 1000, da=-0.4))
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    assert residuals(reg)[1] == pytest.approx([-0.4], abs=1e-6)


def test_object_columns_pair_as_floats() -> None:
    """Messages and plots whose numbers come as object columns (as from JSON records)
    pair as the same numbers in float columns do."""
    ref = messages((0, "a", 2000, 3000, 1000), (10, "a", 2600, 3800, 3000))
    obs = plots(plot(2.5, 2150, 3200, 1500, dr=40.0, da=0.2))
    ref = ref.astype(object)
    obs = obs.astype(object)
    reg = run(Registration([SITE], min_pairs=1), ref, obs)
    dr, da = residuals(reg)
    assert dr == pytest.approx([40.0], abs=1e-3)
    assert da == pytest.approx([0.2], abs=1e-6)


# ------------------------------------------------------------------ advance, inputs
def test_a_plot_is_paired_once_the_streams_are_hold_s_past_it() -> None:
    """Plot at 5 s, hold 8 s: not paired at 12.5 s, paired at exactly 13 s."""
    ref = messages(*_hover("a", 0, 5000))
    reg = Registration([SITE], min_pairs=1)
    reg.add_reference(ref)  # the ADS-B stream is at 10 s
    reg.observe(plots(plot(5, 0, 5000, 1000, dr=2.0)))
    reg.advance(T0 + 12.5)
    assert residuals(reg)[0] == []
    reg.advance(T0 + 13.0)
    assert residuals(reg)[0] == pytest.approx([2.0], abs=1e-3)
    assert reg._plots == []


def test_stream_time_is_the_latest_of_adsb_and_advance() -> None:
    """The ADS-B messages reach 20 s: a plot at 5 s is ripe even when ``advance`` is
    called with an earlier time (0 s), and a later call with an earlier time does not
    move the stream back."""
    ref = messages((0, "a", 0, 5000, 1000), (10, "a", 0, 5000, 1000),
                   (20, "z", 0, 90000, 1000))
    reg = Registration([SITE], min_pairs=1)
    reg.add_reference(ref)
    reg.observe(plots(plot(5, 0, 5000, 1000, dr=2.0)))
    reg.advance(T0)
    assert residuals(reg)[0] == pytest.approx([2.0], abs=1e-3)
    reg.advance(T0 + 100.0)
    reg.observe(plots(plot(60, 0, 5000, 1000, dr=3.0)))
    reg.advance(T0)  # still 100 s: the plot at 60 s is ripe (and has no aircraft)
    assert reg._plots == []


def test_old_messages_are_forgotten_after_3_hold_plus_max_gap() -> None:
    """Stream at 100 s, hold 8 s, gap 12 s: messages from 64 s on are kept (64 s
    exactly too), older ones dropped, when plots are paired (the plot at 91 s has no
    aircraft after it)."""
    ref = messages((63.5, "a", 0, 5000, 1000), (64, "a", 0, 5000, 1000),
                   (70, "a", 0, 5000, 1000), (100, "b", 0, 90000, 1000))
    reg = Registration([SITE], min_pairs=1)
    reg.add_reference(ref)
    reg.observe(plots(plot(91, 0, 5000, 1000, dr=4.0)))
    reg.advance(T0 + 100.0)
    assert (reg._ref["time"] - T0).tolist() == [64.0, 70.0, 100.0]
    # and what is left still pairs the next plots: one at 67 s, between 64 and 70 s
    reg.observe(plots(plot(67, 0, 5000, 1000, dr=5.0)))
    reg.advance(T0 + 100.0)
    assert residuals(reg)[0] == pytest.approx([5.0], abs=1e-3)


def test_old_messages_are_forgotten_while_no_plots_come() -> None:
    """A radar that went quiet (its feed down) while ADS-B keeps coming: the pipeline
    advances registration only with plots, so only ``add_reference`` is called. The
    messages older than 36 s (3 hold + max_gap) before the newest must still be
    forgotten, or they pile up for as long as the radar is quiet (and each batch
    copies them all). The radar's last plot (5 s, on a hovering aircraft heard every
    10 s) is still paired, once the messages reach 13 s."""
    reg = Registration([SITE], min_pairs=1)
    reg.observe(plots(plot(5, 0, 5000, 1000, dr=3.0)))
    reg.advance(T0 + 5.0)
    for k in range(60):  # ten minutes, a message every 10 s
        reg.add_reference(messages((10 * k, "a", 0, 5000, 1000)))
    assert (reg._ref["time"] - T0).tolist() == [560.0, 570.0, 580.0, 590.0]
    assert residuals(reg)[0] == pytest.approx([3.0], abs=1e-3)
    # and without a radar plot ever (nothing to pair)
    reg = Registration([SITE])
    for k in range(60):
        reg.add_reference(messages((10 * k, "a", 0, 5000, 1000)))
    assert (reg._ref["time"] - T0).tolist() == [560.0, 570.0, 580.0, 590.0]


def test_plots_without_adsb_wait_for_nothing() -> None:
    """Plots observed before any ADS-B message: advancing past them pairs nothing and
    does not fail; nothing is kept of them."""
    reg = Registration([SITE], min_pairs=1)
    reg.observe(plots(plot(5, 0, 5000, 1000)))
    reg.advance(T0 + 100.0)
    assert residuals(reg) == ([], [])
    assert reg._plots == [] and len(reg._ref) == 0


def test_inputs_that_cannot_be_used_are_ignored() -> None:
    """Plots without a range or an azimuth (a source that gives positions only) are not
    kept; an empty batch of messages, even without columns, is ignored."""
    reg = Registration([SITE], min_pairs=1)
    full = plots(plot(5, 0, 5000, 1000))
    reg.observe(full.drop(columns="range_m"))
    reg.observe(full.drop(columns="azimuth_deg"))
    reg.observe(full.drop(columns=["range_m", "azimuth_deg"]))
    reg.observe(full.iloc[:0])
    assert reg._plots == []
    reg.add_reference(pd.DataFrame())
    assert len(reg._ref) == 0 and reg._now == -np.inf


# ------------------------------------------------------------------ estimates
def test_estimates_median_spread_rounding_and_min_pairs() -> None:
    """Residuals set by hand, ``min_pairs=5``.

    The named radar (1/1) has five: range residuals 0.76, 2.06, 4.06, 7.36, 100.06 m:
    median 4.06, shown to 0.1 m: 4.1; absolute deviations 3.3, 2, 0, 3.3, 96: median
    3.3, spread 1.4826 x 3.3 = 4.89258, shown to 4 decimals: 4.8926. Azimuth residuals
    0.1, 0.212345, 0.3, 0.5, -3 deg: median 0.212345, shown 0.2123; deviations 0.112345,
    0, 0.087655, 0.287655, 3.212345: median 0.112345, spread 0.16656270 -> 0.1666.
    The unnamed radar (1/2) has four, one short: counted, no estimate.
    """
    reg = Registration([OTHER, SITE], min_pairs=5)  # listed out of SAC/SIC order
    reg._dr[SITE.key] = np.array([7.36, 0.76, 100.06, 4.06, 2.06])
    reg._da[SITE.key] = np.array([0.3, -3.0, 0.1, 0.5, 0.212345])
    reg._dr[OTHER.key] = np.array([1.0, 2.0, 3.0, 4.0])
    reg._da[OTHER.key] = np.array([0.1, 0.2, 0.3, 0.4])
    assert reg.estimates() == [
        {"radar": "s", "sac": 1, "sic": 1, "range_bias_m": 4.1,
         "azimuth_bias_deg": 0.2123, "pairs": 5, "range_spread_m": 4.8926,
         "azimuth_spread_deg": 0.1666},
        {"radar": "1/2", "sac": 1, "sic": 2, "range_bias_m": None,
         "azimuth_bias_deg": None, "pairs": 4, "range_spread_m": None,
         "azimuth_spread_deg": None},
    ]
    reg.min_pairs = 4  # four is now enough: an estimate for 1/2 too
    other = reg.estimates()[1]
    # ranges 1-4: median 2.5, deviations 1.5, 0.5, 0.5, 1.5: median 1, spread 1.4826
    # azimuths 0.1-0.4: median 0.25, spread 1.4826 x 0.1 = 0.14826 -> 0.1483
    assert other == {"radar": "1/2", "sac": 1, "sic": 2, "range_bias_m": 2.5,
                     "azimuth_bias_deg": 0.25, "pairs": 4, "range_spread_m": 1.4826,
                     "azimuth_spread_deg": 0.1483}


def test_estimates_of_a_radar_with_another_sac() -> None:
    """SAC and SIC are each the radar's own (here 7 and 3), not one for the other."""
    site = RadarSite(7, 3, 55.0, 12.0)
    reg = Registration([site], min_pairs=1)
    reg._dr[site.key], reg._da[site.key] = np.array([1.26]), np.array([0.031256])
    (est,) = reg.estimates()
    assert (est["radar"], est["sac"], est["sic"]) == ("7/3", 7, 3)
    assert (est["range_bias_m"], est["azimuth_bias_deg"]) == (1.3, 0.0313)
    assert (est["range_spread_m"], est["azimuth_spread_deg"]) == (0.0, 0.0)


# ------------------------------------------------------------------ correct
def _biased(reg: Registration, site: RadarSite, dr: float, da: float) -> None:
    reg._dr[site.key], reg._da[site.key] = np.array([dr]), np.array([da])


def test_correct_takes_the_bias_out_and_locates_the_plot_again() -> None:
    """Radar 1/1's bias: 150 m long, 0.3 deg clockwise. Its plot read 20,150 m at
    45.3 deg, 3,000 m high: corrected, 20,000 m at 45.0 deg, and its position is the
    point at that slant range and azimuth and 3,000 m height (checked with the
    independent ``polar``: a position located as if the line of sight were level, or
    at another azimuth, is hundreds of metres off). Its plot across north (0.1 deg)
    reads 359.8 deg. Radar 1/2 (no estimate) and an unknown radar are left alone, and
    the input frame is not changed."""
    reg = Registration([SITE, OTHER], min_pairs=1)
    _biased(reg, SITE, 150.0, 0.3)
    obs = pd.DataFrame({
        "time": [T0] * 4, "sac": [1, 1, 1, 9], "sic": [1, 1, 2, 9],
        "lat": [55.1, 55.2, 55.3, 55.4], "lon": [12.1, 12.0, 12.2, 12.3],
        "altitude": [3000.0, 2000.0, 1000.0, 500.0],
        "range_m": [20150.0, 10150.0, 5000.0, 6000.0],
        "azimuth_deg": [45.3, 0.1, 10.0, 20.0]})
    before = obs.copy()
    out = reg.correct(obs)
    pd.testing.assert_frame_equal(obs, before)
    assert out["range_m"].tolist() == pytest.approx([20000.0, 10000.0, 5000.0, 6000.0])
    assert out["azimuth_deg"].tolist() == pytest.approx([45.0, 359.8, 10.0, 20.0])
    for k, (rng, az, h) in enumerate([(20000.0, 45.0, 3000.0), (10000.0, 359.8, 2000.0)]):
        r, a = polar(SITE, out["lat"][k], out["lon"][k], h)
        assert r == pytest.approx(rng, abs=0.05)
        assert a == pytest.approx(az, abs=1e-5)
    pd.testing.assert_frame_equal(out.iloc[2:], before.iloc[2:])


def test_correct_a_single_plot_with_integer_and_byte_columns() -> None:
    """One plot (a frame of one row), its SAC/SIC as bytes and its range and azimuth
    whole numbers: corrected to 4,849.5 m and 44.75 deg (bias 150.5 m, 0.25 deg), not
    truncated back to integers, at the right place."""
    reg = Registration([SITE], min_pairs=1)
    _biased(reg, SITE, 150.5, 0.25)
    obs = pd.DataFrame({"time": [T0], "sac": np.array([1], np.uint8),
                        "sic": np.array([1], np.uint8), "lat": [55.0], "lon": [12.0],
                        "altitude": [1000.0], "range_m": [5000], "azimuth_deg": [45]})
    out = reg.correct(obs)
    assert out["range_m"].tolist() == [4849.5]
    assert out["azimuth_deg"].tolist() == [44.75]
    r, a = polar(SITE, out["lat"][0], out["lon"][0], 1000.0)
    assert (r, a) == pytest.approx((4849.5, 44.75), abs=1e-3)


def test_correct_leaves_plots_without_polar_columns() -> None:
    """Plots without a range or without an azimuth (and an empty frame) come back as
    they are: the same object."""
    reg = Registration([SITE], min_pairs=1)
    _biased(reg, SITE, 150.0, 0.25)
    full = plots(plot(5, 0, 5000, 1000))
    for obs in (full.drop(columns="range_m"), full.drop(columns="azimuth_deg"),
                full.iloc[:0]):
        assert reg.correct(obs) is obs
