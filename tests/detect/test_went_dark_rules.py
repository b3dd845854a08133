"""The went-dark rules of :class:`EarlyWarning` at their limits, on hand-built looks.

``test_went_dark.py`` learns its coverage model from 640 generated tracks (seconds a
run); here the model is warmed by hand instead, so each test feeds a few fixes and
asks when a silence is judged. The expected times are hand arithmetic, written in each
test: the running message interval (the newest gap weighs 1/4), the silence threshold
(``max(dark_after_s, dark_interval_factor * interval)``, at most ``gap_s``), the feed's
pace (the gap between looks, averaged the same way) and the feed-gap rule (no
transponder message for ``max(feed_gap_s, 3 * pace)``: nothing judged, silences count
from the feed's return), what the coverage model is taught (passages, starts, ends) and
when state expires.

The world: every test aircraft sits at ``P`` (59.375 N, 26.375 E, the centre of the
0.25 degree cell 59.25-59.5 N, 26.25-26.5 E), 0.125 degree (13.93 km: 111.41 km a
degree of latitude there) south of the zone ``Z`` (59.5-60 N, 26-27 E), so within the
default 20 km of its boundary. ``warm()`` counts 100 passages in each of the 5 x 5
cells around ``P`` in every altitude band, so ``P`` and its 8 neighbour cells are in
good coverage (their cells and all their neighbours are good) and the outer ring is
not (its outer neighbours were never seen). The feed's "talker" ``4c0000`` hovers far
away (50 N, 10 E), out of coverage and far from ``Z``: it keeps the feed alive and
never warns.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from skyfence.airspace.zones import Zone
from skyfence.detect.coverage import CoverageConfig, CoverageModel
from skyfence.detect.early_warning import (
    EarlyWarning,
    EarlyWarningConfig,
    silence_explained,
    warnings_for,
    went_dark,
)
from skyfence.model import make_observations

P_LAT, P_LON = 59.375, 26.375
FAR = (50.0, 10.0)
ALT = 10_000.0
Z = Zone("Z", "custom", shapely.box(26.0, 59.5, 27.0, 60.0))
TALKER = "4c0000"
#: silent after max(1 s, 1 x the interval): the threshold is the interval itself; no
#: feed-gap rule (a silent feed is never taken for a failing one)
SHARP = EarlyWarningConfig(dark_after_s=1.0, dark_interval_factor=1.0, feed_gap_s=np.inf)
EMPTY = make_observations(time=[], icao24=[], lat=[], lon=[])


def warm(config: CoverageConfig | None = None) -> CoverageModel:
    """100 passages in each of the 5 x 5 cells around P, in each altitude band."""
    m = CoverageModel(config)
    keys = [m.keys([P_LAT], [P_LON], [alt], d_row=r, d_col=c)
            for alt in (500.0, 2_000.0, 4_500.0, 7_500.0, ALT, np.nan)
            for r in range(-2, 3) for c in range(-2, 3)]
    m.add(passages=np.repeat(np.concatenate(keys), 100))
    return m


def fx(track: str, t: float, lat: float = P_LAT, lon: float = P_LON, alt: float = ALT,
       **more: float) -> dict[str, object]:
    """One fix (no speed or heading unless given: no approach, no dead reckoning)."""
    return {"time": t, "icao24": track, "lat": lat, "lon": lon, "altitude": alt, **more}


def batch(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The fixes as an observation batch; a ``messages`` count, where given, as a column."""
    if not rows:
        return EMPTY
    cols = ("time", "icao24", "lat", "lon", "altitude", "velocity", "heading", "vertrate")
    out = make_observations(**{c: [r.get(c, np.nan) for r in rows] for c in cols})
    if any("messages" in r for r in rows):
        out["messages"] = np.array([r.get("messages", np.nan) for r in rows], dtype=float)
    return out


def feed(ew: EarlyWarning, looks: list[tuple[float, list[dict[str, object]]]]
         ) -> list[tuple[float, str]]:
    """Each look: (feed time, its fixes); the went-dark warnings as (look time, track)."""
    out = []
    for now, rows in looks:
        out += [(now, w.track) for w in ew.update(batch(rows), now=now)
                if w.kind == "went_dark"]
    return out


def every(track: str, times: list[float], **more: float
          ) -> list[tuple[float, list[dict[str, object]]]]:
    """One look per fix of ``track`` at P."""
    return [(t, [fx(track, t, **more)]) for t in times]


def dark(ew: EarlyWarning, now: float) -> list[str]:
    """Tracks warned as gone dark if the next look, empty, came at ``now`` (on a copy)."""
    probe = copy.deepcopy(ew)
    return sorted(w.track for w in probe.update(EMPTY, now=now) if w.kind == "went_dark")


def watch(config: EarlyWarningConfig = SHARP, coverage: CoverageModel | None = None
          ) -> EarlyWarning:
    return EarlyWarning([Z], config, warm() if coverage is None else coverage)


# ------------------------------------------------------------- the running interval


def test_the_interval_is_a_running_mean_of_the_gaps() -> None:
    """Fixes at 0, 10, 30, 34 s: the first gap sets the interval (10 s), then each gap
    weighs 1/4: 0.75 * 10 + 0.25 * 20 = 12.5, 0.75 * 12.5 + 0.25 * 4 = 10.375. With the
    threshold at the interval itself, silent from 34 + 10.375 = 44.375 s."""
    ew = watch()
    assert feed(ew, every("4b0001", [0.0, 10.0, 30.0, 34.0])) == []
    assert dark(ew, 44.37) == []
    assert dark(ew, 44.375) == ["4b0001"]


def test_the_interval_of_each_track_is_its_own() -> None:
    """Looks at 0, 10 and 30 s hear A and B. A at 0, 10, 30 s: 10 s, then
    0.75 * 10 + 0.25 * 20 = 12.5 s (silent from 42.5 s). B at 0, then 5 and 10 s (a gap
    of 10 s for 2 messages: 5 s), then 30 s: 0.75 * 5 + 0.25 * 20 = 8.75 s (silent from
    38.75 s)."""
    ew = watch()
    feed(ew, [(0.0, [fx("4b0001", 0.0), fx("4b0002", 0.0)]),
              (10.0, [fx("4b0001", 10.0), fx("4b0002", 5.0), fx("4b0002", 10.0)]),
              (30.0, [fx("4b0001", 30.0), fx("4b0002", 30.0)])])
    assert dark(ew, 38.74) == []
    assert dark(ew, 38.75) == ["4b0002"]
    assert dark(ew, 42.49) == ["4b0002"]
    assert dark(ew, 42.5) == ["4b0001", "4b0002"]


@pytest.mark.parametrize(("last", "silent_at"), [
    (10.0, 20.0),       # a repeat of the 10 s fix: gap 0, the interval stays 10 s
    (10.5, 18.125),     # a gap of 0.5 s counts: 0.75 * 10 + 0.25 * 0.5 = 7.625 s
])
def test_a_gap_counts_only_when_it_is_positive(last: float, silent_at: float) -> None:
    """Fixes at 0 and 10 s (interval 10 s), then one at ``last``: silent from
    ``last`` + the interval."""
    ew = watch()
    feed(ew, every("4b0001", [0.0, 10.0, last]))
    assert dark(ew, silent_at - 0.01) == []
    assert dark(ew, silent_at) == ["4b0001"]


def test_the_gap_is_shared_among_the_messages_of_a_look() -> None:
    """A at 0 s, then one look with A at 10, 20, 30, 40 s: 40 s for 4 messages, an
    interval of 10 s (silent from 50 s). B at 0 s, then at 20 and 40 s in that look:
    40 s for 2, 20 s (silent from 60 s)."""
    ew = watch()
    feed(ew, [(0.0, [fx("4b0001", 0.0), fx("4b0002", 0.0)]),
              (40.0, [fx("4b0001", 10.0), fx("4b0002", 20.0), fx("4b0001", 20.0),
                      fx("4b0001", 30.0), fx("4b0002", 40.0), fx("4b0001", 40.0)])])
    assert dark(ew, 49.99) == []
    assert dark(ew, 50.0) == ["4b0001"]
    assert dark(ew, 59.99) == ["4b0001"]
    assert dark(ew, 60.0) == ["4b0001", "4b0002"]


@pytest.mark.parametrize(("messages", "interval"), [
    ([4.0], 10.0),              # the latest fix stands for 4: 40 / 4
    ([np.nan, 3.0], 10.0),      # an unknown count is 1: 40 / (1 + 3)
    ([np.nan], 40.0),           # 40 / 1
    ([0.0], 40.0),              # fewer than one message is one: 40 / 1
    ([2.0, 2.0], 10.0),         # counts of one track add up: 40 / (2 + 2)
])
def test_a_look_says_how_many_messages_a_fix_stands_for(messages: list[float],
                                                        interval: float) -> None:
    """A at 0 s, then a look whose fixes of A (the last at 40 s) carry a ``messages``
    count: the 40 s gap is shared among their sum; silent from 40 s + the interval.
    B (counted 1, heard at 0 and 40 s: 40 s) is there so the counts are per track."""
    ew = watch()
    feed(ew, [(0.0, [fx("4b0001", 0.0), fx("4b0002", 0.0)])])
    rows = [fx("4b0001", 40.0 - 10.0 * (len(messages) - 1 - k), messages=m)
            for k, m in enumerate(messages)]
    feed(ew, [(40.0, [*rows, fx("4b0002", 40.0, messages=1.0)])])
    b = ["4b0002"] if interval >= 40.0 else []
    assert dark(ew, 40.0 + interval - 0.01) == []
    assert dark(ew, 40.0 + interval) == sorted(["4b0001", *b])


def test_a_track_heard_again_after_its_silence_keeps_its_interval() -> None:
    """Every 10 s from 0 to 20 s: interval 10 s, judged dark at 30 s. Heard again at
    100 s: the 80 s silence is not a message interval (counted, it would make
    0.75 * 10 + 0.25 * 80 = 27.5 s), so it goes dark again from 110 s, and is warned
    again: a new silence."""
    ew = watch()
    feed(ew, every("4b0001", [0.0, 10.0, 20.0]))
    assert feed(ew, [(30.0, [])]) == [(30.0, "4b0001")]
    assert feed(ew, [(40.0, [])]) == []  # the same silence is judged once
    feed(ew, every("4b0001", [100.0]))
    assert dark(ew, 109.99) == []
    assert dark(ew, 110.0) == ["4b0001"]


def test_each_silence_is_warned_once() -> None:
    """A and B every 10 s (interval 10 s); A's last fix at 10 s, B's at 20 s. A is
    silent from 20 s (warned at the look at 20 s), B from 30 s (at 30 s); later looks
    warn of neither again."""
    ew = watch()
    got = feed(ew, [(0.0, [fx("4b0001", 0.0), fx("4b0002", 0.0)]),
                    (10.0, [fx("4b0001", 10.0), fx("4b0002", 10.0)]),
                    (20.0, [fx("4b0002", 20.0)]), (30.0, []), (40.0, []), (60.0, [])])
    assert got == [(20.0, "4b0001"), (30.0, "4b0002")]


# ------------------------------------------------------------- the silence threshold


@pytest.mark.parametrize(("times", "silent_at"), [
    ([0.0, 5.0, 10.0], 70.0),      # 6 x 5 s = 30 s, less than 60 s: 60 s after 10 s
    ([0.0, 20.0, 40.0], 160.0),    # 6 x 20 s = 120 s after 40 s
    ([0.0, 60.0, 120.0], 420.0),   # 6 x 60 s = 360 s, more than gap_s: 300 s after 120 s
    ([0.0], 60.0),                 # one fix, no interval: 60 s
])
def test_the_default_threshold(times: list[float], silent_at: float) -> None:
    """The default rule: silent after max(60 s, 6 x the interval), at most 300 s."""
    ew = watch(EarlyWarningConfig(feed_gap_s=np.inf))
    feed(ew, every("4b0001", times))
    assert dark(ew, silent_at - 0.01) == []
    assert dark(ew, silent_at) == ["4b0001"]


def test_the_watch_judges_by_its_own_landing_limits() -> None:
    """At 2,500 m sinking at 2 m/s: landing by default (below 3,000 m, faster than
    1 m/s), not under a watch whose landing altitude is 2,000 m; 60 s later it is at
    2,380 m, in the same covered band (1-3 km): warned at 60 s."""
    ew = watch(EarlyWarningConfig(feed_gap_s=np.inf, landing_alt_m=2_000.0))
    feed(ew, every("4b0001", [0.0], alt=2_500.0, vertrate=-2.0))
    assert dark(ew, 60.0) == ["4b0001"]
    ew = watch(EarlyWarningConfig(feed_gap_s=np.inf))
    feed(ew, every("4b0001", [0.0], alt=2_500.0, vertrate=-2.0))
    assert dark(ew, 60.0) == []


@pytest.mark.parametrize(("distance_m", "warned"), [(13_000.0, False), (15_000.0, True)])
def test_the_watch_judges_by_its_own_distance(distance_m: float, warned: bool) -> None:
    """P is 13.93 km from Z's southern edge: out of reach at 13 km, within 15 km."""
    ew = watch(EarlyWarningConfig(feed_gap_s=np.inf, dark_distance_m=distance_m))
    feed(ew, every("4b0001", [0.0]))
    assert dark(ew, 60.0) == (["4b0001"] if warned else [])


# ------------------------------------------------------------- the feed's pace and gaps


FEED = EarlyWarningConfig(dark_after_s=1.0, dark_interval_factor=1.0)  # feed_gap_s 30 s


def looks(times: list[float], tracks: tuple[str, ...] = (TALKER, "4b0001")
          ) -> list[tuple[float, list[dict[str, object]]]]:
    """Looks at ``times`` hearing each of ``tracks`` (the talker far away, others at P)."""
    return [(t, [fx(k, t, *FAR) if k == TALKER else fx(k, t) for k in tracks])
            for t in times]


@pytest.mark.parametrize(("extra", "heard_at", "gap"), [
    ([], 50.0, 52.5),           # paces 20, 20, 10: 0.75 * 20 + 0.25 * 10 = 17.5; x 3
    ([50.0], 50.0, 52.5),       # a look with nothing newer (step 0) leaves the pace
    ([50.5], 50.5, 39.75),      # a step of 0.5 s counts: 0.75 * 17.5 + 0.125 = 13.25; x 3
])
def test_the_feed_is_down_after_three_times_its_pace(
        extra: list[float], heard_at: float, gap: float) -> None:
    """Looks at 0, 20, 40, 50 s hear the talker and A (and the talker alone at
    ``extra``). The first two set the pace (20 s), then each step weighs 1/4; the feed
    is down after max(30 s, 3 x the pace) without a transponder message. A's interval
    is 17.5 s too (silent from 67.5 s): judged while the feed is up, not after."""
    ew = watch(FEED)
    feed(ew, looks([0.0, 20.0, 40.0, 50.0]) + looks(extra, (TALKER,)))
    assert dark(ew, heard_at + gap) == ["4b0001"]
    assert dark(ew, heard_at + gap + 0.01) == []


def test_a_track_first_heard_at_the_feeds_latest_time_leaves_the_pace() -> None:
    """Looks at 0, 20, 40, 50 s hear the talker and A (pace 17.5 s, the feed down after
    3 x 17.5 = 52.5 s, as above); then a look at 51 s brings only B, first heard, far
    away (out of coverage: never warned), its message stamped 50 s: the feed's latest
    time, a step of 0, which leaves the pace. A (silent from 67.5 s) is judged up to
    50 + 52.5 = 102.5 s, not after (had the step of 0 counted: 0.75 x 17.5 = 13.125 s,
    down after 39.375 s: A not judged at all)."""
    ew = watch(FEED)
    feed(ew, [*looks([0.0, 20.0, 40.0, 50.0]), (51.0, [fx("4c0001", 50.0, *FAR)])])
    assert dark(ew, 102.5) == ["4b0001"]
    assert dark(ew, 102.51) == []


def test_a_step_of_exactly_the_gap_is_no_outage() -> None:
    """Looks at 0, 20, 40 s (pace 20 s: the feed is down after 60 s); A's last fix at
    40 s (interval 20 s). The talker's next message comes 60 s after the last: not
    more than the gap, so A's silence counts from 40 s and is warned at that look."""
    ew = watch(FEED)
    feed(ew, looks([0.0, 20.0, 40.0]))
    assert feed(ew, looks([100.0], (TALKER,))) == [(100.0, "4b0001")]


def test_a_silence_counts_from_the_feeds_return() -> None:
    """Looks every 10 s from 0 to 30 s (pace 10 s, gap max(30, 30) = 30 s; A's
    interval 10 s). Nothing until a look at 105 s that brings the talker's message of
    100 s and B's of 105 s: a step of 75 s, an outage. The feed is back from its first
    message (100 s): A, silent since 30 s, is silent from 100 + 10 = 110 s.
    A2, at P too but flying east at 400 m/s, is followed for the 70 s the feed was
    down: 28 km, 0.49 degree of longitude (56.8 km a degree at 59.4 N), to 26.87 E,
    two cells east, next to the unseen ring: out of good coverage, no warning."""
    ew = watch(FEED)
    tracks = (TALKER, "4b0001", "4b0002", "4b0003")
    feed(ew, looks([0.0, 10.0, 20.0], tracks))
    feed(ew, [(30.0, [fx(TALKER, 30.0, *FAR), fx("4b0001", 30.0), fx("4b0002", 30.0),
                      fx("4b0003", 30.0, velocity=400.0, heading=90.0)])])
    assert feed(ew, [(105.0, [fx(TALKER, 100.0, *FAR), fx("4b0002", 105.0)])]) == []
    assert dark(ew, 109.99) == []
    assert dark(ew, 110.0) == ["4b0001"]


def test_radar_tracks_do_not_keep_the_feed_alive() -> None:
    """Looks every 10 s with the talker and A to 30 s (pace 10 s: gap max(30, 30) =
    30 s); A's interval 10 s, silent after max(25 s, 10 s) = 25 s. Then only a radar
    track (``T0042``, not an ICAO address) is heard, at 40 and 50 s: 30 s after the
    talker's last message A is still judged (silent since 55 s), 30.01 s after nothing
    is."""
    ew = watch(EarlyWarningConfig(dark_after_s=25.0, dark_interval_factor=1.0))
    feed(ew, looks([0.0, 10.0, 20.0, 30.0]))
    assert feed(ew, [(t, [fx("T0042", t, *FAR)]) for t in (40.0, 50.0)]) == []
    assert dark(ew, 60.0) == ["4b0001"]
    assert dark(ew, 60.01) == []


# ------------------------------------------------------------- what coverage is taught


def counts(m: CoverageModel, lat: float, lon: float, alt: float = ALT) -> list[float]:
    return m.counts(m.keys([lat], [lon], [alt]))[0].tolist()


def test_passages_and_starts_taught() -> None:
    """A fresh model; the watch starts at 1000 s.

    - A, first heard at the start (1000 s) at P: a passage, no start (it was flying);
      at 1010 s in the same cell: nothing; at 1020 s one cell east: a passage there;
      at 1070 s there again (a known track, 70 s after the start): no start.
    - B first heard at 1060 s (60 s after the start: not more than ``dark_after_s``):
      a passage, no start; C at 1061 s: a passage and a start.
    - the radar track T0042, first heard, then in another cell: nothing.
    """
    m = CoverageModel()
    ew = EarlyWarning([Z], EarlyWarningConfig(feed_gap_s=np.inf), m)
    east, b_at, c_at = P_LON + 0.25, (P_LAT - 0.25, P_LON), (P_LAT + 0.25, P_LON)
    feed(ew, [(1000.0, [fx("4b0001", 1000.0), fx("T0042", 1000.0, *FAR)]),
              (1010.0, [fx("4b0001", 1010.0), fx("T0042", 1010.0, 51.0, 11.0)]),
              (1020.0, [fx("4b0001", 1020.0, lon=east)]),
              (1060.0, [fx("4b0002", 1060.0, *b_at)]),
              (1061.0, [fx("4b0003", 1061.0, *c_at)]),
              (1070.0, [fx("4b0001", 1070.0, lon=east), fx("T0042", 1070.0, 52.0, 12.0)])])
    assert counts(m, P_LAT, P_LON) == [1.0, 0.0, 0.0]
    assert counts(m, P_LAT, east) == [1.0, 0.0, 0.0]
    assert counts(m, *b_at) == [1.0, 0.0, 0.0]
    assert counts(m, *c_at) == [1.0, 1.0, 0.0]
    for lat, lon in (FAR, (51.0, 11.0), (52.0, 12.0)):
        assert counts(m, lat, lon) == [0.0, 0.0, 0.0]
    assert m.cells == 4


def test_a_track_back_from_a_silence_is_a_passage_and_a_start() -> None:
    """A at P at 0 and 10 s, judged dark at 70 s (an end at P); heard again at 200 s in
    the same cell (the feed was up: 200 s after the watch began): a passage and a
    start, as a track that appears there."""
    m = CoverageModel()
    ew = EarlyWarning([Z], EarlyWarningConfig(feed_gap_s=np.inf), m)
    feed(ew, [*every("4b0001", [0.0, 10.0]), (70.0, [])])
    assert counts(m, P_LAT, P_LON) == [1.0, 0.0, 1.0]
    feed(ew, every("4b0001", [200.0]))
    assert counts(m, P_LAT, P_LON) == [2.0, 1.0, 1.0]


def test_ends_taught_for_transponder_silences_only() -> None:
    """A (ICAO address) and T0042 (radar) heard once at 0 s, each in its own cell;
    both silent at 60 s: an end where A was last, none for the radar track."""
    m = CoverageModel()
    ew = EarlyWarning([Z], EarlyWarningConfig(feed_gap_s=np.inf), m)
    feed(ew, [(0.0, [fx("4b0001", 0.0), fx("T0042", 0.0, *FAR)]), (60.0, [])])
    assert counts(m, P_LAT, P_LON) == [1.0, 0.0, 1.0]
    assert counts(m, *FAR) == [0.0, 0.0, 0.0]


def test_counts_decay_with_feed_time() -> None:
    """Counts halve every hour (half-life and step 3600 s). A passes P at 0 s; the
    next look comes at 3600 s, empty: A's silence is judged then, the decay applied
    first (A's passage 1 -> 0.5), then its end counted (1). B first heard at 7200 s:
    the decay first (0.5 -> 0.25, the end 1 -> 0.5), then B's passage (1)."""
    cfg = CoverageConfig(half_life_s=3_600.0, decay_every_s=3_600.0)
    m = CoverageModel(cfg)
    ew = EarlyWarning([Z], EarlyWarningConfig(feed_gap_s=np.inf), m)
    feed(ew, [(0.0, [fx("4b0001", 0.0)]), (3_600.0, [])])
    assert counts(m, P_LAT, P_LON) == [0.5, 0.0, 1.0]
    b_at = (P_LAT - 0.25, P_LON)
    feed(ew, [(7_200.0, [fx("4b0002", 7_200.0, *b_at)])])
    assert counts(m, P_LAT, P_LON) == [0.25, 0.0, 0.5]
    assert counts(m, *b_at) == [1.0, 1.0, 0.0]


@pytest.mark.parametrize(("alt", "other"), [(ALT, 500.0), (500.0, ALT), (np.nan, ALT)])
def test_a_passage_is_counted_in_its_altitude_band(alt: float, other: float) -> None:
    """The cell of a fix is its place and its altitude band (NaN: a band of its own)."""
    m = CoverageModel()
    ew = EarlyWarning([Z], EarlyWarningConfig(feed_gap_s=np.inf), m)
    feed(ew, [(0.0, [fx("4b0001", 0.0, alt=alt)])])
    assert counts(m, P_LAT, P_LON, alt) == [1.0, 0.0, 0.0]
    assert counts(m, P_LAT, P_LON, other) == [0.0, 0.0, 0.0]
    assert m.cells == 1


# ------------------------------------------------------------- expiry


def test_a_track_silent_longer_than_gap_s_is_forgotten() -> None:
    """A alone, last heard at 0 s: kept at 300 s (not more than ``gap_s``), dropped
    at 300.5 s."""
    ew = watch()
    feed(ew, every("4b0001", [0.0]))
    feed(ew, [(300.0, [])])
    assert ew.tracks == 1
    feed(ew, [(300.5, [])])
    assert ew.tracks == 0


def test_expiry_keeps_the_others() -> None:
    """A, B, C heard at 0, 100, 200 s and D at 0 to 700 s every 50 s: each of A, B, C
    is dropped at the first look more than 300 s after it (350, 450, 550 s) and D is
    kept throughout; each silence is warned once (A, B, C at 50, 150, 250 s: their
    one fix, 50 s later; the threshold is 1 s but the looks are 50 s apart)."""
    ew = watch()
    plan = {"4b0001": 0.0, "4b0002": 100.0, "4b0003": 200.0}
    kept = []
    got = []
    for t in np.arange(0.0, 701.0, 50.0):
        rows = [fx(k, t) for k, at in plan.items() if at == t] + [fx("4b0004", t)]
        got += feed(ew, [(float(t), rows)])
        kept.append(ew.tracks)
    assert kept == [2, 2, 3, 3, 4, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1]
    assert got == [(50.0, "4b0001"), (150.0, "4b0002"), (250.0, "4b0003")]


def test_a_forgotten_track_leaves_the_other_silences_judged() -> None:
    """B heard once at 0 s (warned dark at 10 s); A at P every 10 s to 200 s (interval
    10 s), warned dark at 210 s. B is forgotten at 310 s; A, still silent, is not
    warned again then or later."""
    ew = watch()
    looks_ = [(0.0, [fx("4b0002", 0.0), fx("4b0001", 0.0)])]
    looks_ += every("4b0001", list(np.arange(10.0, 201.0, 10.0)))
    looks_ += [(t, []) for t in (210.0, 310.0, 320.0, 400.0)]
    assert feed(ew, looks_) == [(10.0, "4b0002"), (210.0, "4b0001")]


def test_a_forgotten_track_leaves_the_loitering_runs_of_others() -> None:
    """L flies 5.6 km south of Z's edge (59.45 N: 0.05 degree), heard every 60 s from
    0 to 720 s: one loitering run, warned once, at 300 s (300 s along the edge). X,
    heard once at 0 s far away, is forgotten at 360 s; L's run goes on."""
    ew = watch()
    got = []
    for t in np.arange(0.0, 721.0, 60.0):
        rows = [fx("4b0011", t, 59.45, 26.5)] + ([fx("4b0012", t, *FAR)] if t == 0 else [])
        got += [(float(t), w.track) for w in ew.update(batch(rows), now=float(t))
                if w.kind == "loitering"]
    assert got == [(300.0, "4b0011")]


# ------------------------------------------------------------- silence_explained, went_dark


def top_band_only() -> CoverageModel:
    """Like ``warm()``, but only above 9 km: a track is covered there and nowhere below."""
    m = CoverageModel()
    keys = [m.keys([P_LAT], [P_LON], [ALT], d_row=r, d_col=c)
            for r in range(-2, 3) for c in range(-2, 3)]
    m.add(passages=np.repeat(np.concatenate(keys), 100))
    return m


def silent_at_p(t: float, alt: float, vz: float) -> pd.DataFrame:
    return make_observations(time=[t], icao24=["4b0001"], lat=[P_LAT], lon=[P_LON],
                             altitude=[alt], vertrate=[vz])


def test_the_altitude_reached_counts_from_the_last_fix() -> None:
    """Last fix at 1000 s at 9,500 m sinking at 5 m/s, judged at 1060 s: 60 s later it
    is at 9,500 - 300 = 9,200 m, still above 9 km, the one band covered. (Counted from
    the start of the feed clock, 1060 + 1000 s, it would be on the ground.)"""
    why = silence_explained(silent_at_p(1_000.0, 9_500.0, -5.0), 1_060.0, top_band_only())
    assert why.tolist() == [""]


@pytest.mark.parametrize("since", [None, [500.0]])
def test_a_silence_judged_at_its_last_fix_has_no_lead(since: list[float] | None) -> None:
    """Last fix at 500 s at 9,000.5 m sinking at 1 m/s, judged at 500 s (and the
    receivers could notice it from 500 s): no time has passed, it is still at 9,000.5 m,
    above 9 km, covered (1 s later it would be at 8,999.5 m, below 9 km: not covered)."""
    s = None if since is None else np.asarray(since)
    why = silence_explained(silent_at_p(500.0, 9_000.5, -1.0), 500.0, top_band_only(),
                            since=s)
    assert why.tolist() == [""]
    later = silence_explained(silent_at_p(500.0, 9_000.5, -1.0), 501.0, top_band_only())
    assert later.tolist() == ["left the covered band"]


def test_a_track_at_the_landing_altitude_is_not_landing() -> None:
    """Landing means below 3,000 m: sinking at 2 m/s exactly at 3,000 m is not; at
    2,999.9 m it is. (Coverage in every band, so nothing else explains the silence.)"""
    why = silence_explained(pd.concat([silent_at_p(0.0, 3_000.0, -2.0),
                                       silent_at_p(0.0, 2_999.9, -2.0)], ignore_index=True),
                            60.0, warm())
    assert why.tolist() == ["", "landing"]


@pytest.mark.parametrize(("d_m", "warned"), [(19_999.5, True), (20_000.5, False)])
def test_went_dark_reaches_20_km_by_default(d_m: float, warned: bool) -> None:
    """A fix ``d_m`` due south of Z's southern edge (59.5 N; placed with pyproj's
    WGS84 geodesic, the meridian meets the parallel at right angles): within the
    default 20 km or not."""
    lon, lat, _ = Geod(ellps="WGS84").fwd(26.5, 59.5, 180.0, d_m)
    got = went_dark(make_observations(time=[0.0], icao24=["4b0001"], lat=[lat], lon=[lon]),
                    [Z])
    assert [w.track for w in got] == (["4b0001"] if warned else [])
    if warned:
        assert got[0].distance_m == pytest.approx(d_m, abs=0.05)


def test_went_dark_of_nothing() -> None:
    """No silent track (a frame without columns too): no warning."""
    assert went_dark(pd.DataFrame(), [Z]) == []
    assert went_dark(EMPTY, [Z]) == []


def test_a_replay_asks_the_coverage_it_is_given() -> None:
    """``warnings_for`` with a warm model: A, heard once at 0 s at P, silent 60 s when a
    radar track's fix at 60 s moves the feed clock: warned. With the default, cold
    model: not (nothing is covered yet)."""
    batches = [make_observations(time=[0.0], icao24=["4b0001"], lat=[P_LAT], lon=[P_LON],
                                 altitude=[ALT]),
               make_observations(time=[60.0], icao24=["T0042"], lat=[FAR[0]], lon=[FAR[1]])]
    cfg = EarlyWarningConfig(feed_gap_s=np.inf)
    got = warnings_for(batches, [Z], cfg, warm())
    assert [(w.kind, w.track) for w in got] == [("went_dark", "4b0001")]
    assert warnings_for(batches, [Z], cfg) == []


def test_a_late_fix_older_than_the_kept_one_changes_nothing() -> None:
    """Fixes at 0, 10, 20 s (interval 10 s: silent from 30 s); then, in the look at 21 s,
    a late message stamped 15 s. The track was heard at 20 s already: still silent from
    30 s (had the late fix replaced the kept one, from 15 + 10 = 25 s), and the interval
    is still 10 s (a gap from 20 to 15 s is no gap)."""
    ew = watch()
    assert feed(ew, every("4b0001", [0.0, 10.0, 20.0])) == []
    assert feed(ew, [(21.0, [fx("4b0001", 15.0)])]) == []
    assert dark(ew, 29.99) == []
    assert dark(ew, 30.0) == ["4b0001"]
    # the next fix, 10 s after the kept one: the interval stays 10 s (silent 40 s)
    assert feed(ew, [(30.0, [fx("4b0001", 30.0)])]) == []
    assert dark(ew, 39.99) == []
    assert dark(ew, 40.0) == ["4b0001"]


def test_a_gap_over_a_feed_outage_does_not_teach_the_interval() -> None:
    """Looks every 10 s from 0 to 30 s hear the talker and A (pace 10 s: the feed is
    down after 30 s; A's interval 10 s). The next look, at 105 s, brings the talker's
    message of 100 s and A's of 105 s: a step of 70 s, an outage, the feed back from
    100 s. A's gap of 75 s spans it and measures the outage: A's interval stays 10 s and
    A is silent from 105 + 10 = 115 s (had the gap counted: 0.75 * 10 + 0.25 * 75 =
    26.25 s, silent from 131.25 s). The next gap, 10 s, after the return, counts."""
    ew = watch(FEED)
    feed(ew, looks([0.0, 10.0, 20.0, 30.0]))
    assert feed(ew, [(105.0, [fx(TALKER, 100.0, *FAR), fx("4b0001", 105.0)])]) == []
    assert dark(ew, 114.99) == []
    assert dark(ew, 115.0) == ["4b0001"]
    assert feed(ew, looks([110.0])) == []  # a gap of 5 s: 0.75 * 10 + 0.25 * 5 = 8.75
    assert dark(ew, 118.74) == []
    assert dark(ew, 118.75) == ["4b0001"]


def test_a_copy_of_the_kept_fix_after_its_silence_is_judged_changes_nothing() -> None:
    """A at P at 0 and 10 s (the default thresholds: silent after 60 s; the model warmed:
    100 passages at P), judged dark at 70 s: a passage and an end at P (101 passages, 0
    starts, 1 end). At 100 s a copy of A's 10 s message arrives (a second receiver's,
    relayed late): A was heard at 10 s already, so its silence goes on. It is not warned
    of again, at 100 s or later, and the model is taught nothing more (no passage of a
    track back, no second end). Heard at 200 s (a new message): a track back, a passage
    and a start (200 s after the feed began, more than 60 s): 102, 1, 1; its new silence
    is warned of at 200 + 60 = 260 s (the interval, 10 s, is kept: 6 x 10 = 60 s)."""
    m = warm()
    ew = EarlyWarning([Z], EarlyWarningConfig(feed_gap_s=np.inf), m)
    assert feed(ew, [*every("4b0001", [0.0, 10.0]), (70.0, [])]) == [(70.0, "4b0001")]
    assert counts(m, P_LAT, P_LON) == [101.0, 0.0, 1.0]
    assert feed(ew, [(100.0, [fx("4b0001", 10.0)]), (130.0, [])]) == []
    assert counts(m, P_LAT, P_LON) == [101.0, 0.0, 1.0]
    assert feed(ew, every("4b0001", [200.0])) == []
    assert counts(m, P_LAT, P_LON) == [102.0, 1.0, 1.0]
    assert dark(ew, 259.99) == []
    assert dark(ew, 260.0) == ["4b0001"]
