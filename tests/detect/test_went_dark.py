"""The went-dark warning on synthetic traffic whose coverage is known by construction.

The receivers hear aircraft inside the box 58.5-60 N, 25-27.5 E and nowhere else. 640
background tracks cross it edge to edge on a 0.025 degree lattice (east, west, north
and south), at 10,000 m and at 700 m, 250 m/s, a fix every 10 s. So, by hand, every
0.25 degree cell of the box sees 40 passages per band; the cells of the box's outer
ring are where half of the tracks begin or end (its edge); the ring inside it borders
the edge; the cells 59-59.5 N, 25.5-27 E are inside good coverage at both altitudes,
and nothing is known of other altitudes (1-9 km). An airfield at 59.1 N, 25.6 E sees
15 low departures (100-400 s) and 15 arrivals: in its cell 30 of about 70 tracks
begin or end, so it is an edge in the low band, and so are its neighbours' surroundings.
The watched zone is a strip 59.2-59.3 N across the whole box, so every test aircraft's
last fix is within 20 km of its boundary: the old rule warned for each of them.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.zones import Zone
from skyfence.detect.coverage import CoverageModel
from skyfence.detect.early_warning import (
    EarlyWarning,
    EarlyWarningConfig,
    EarlyWarningEvent,
    silence_explained,
    went_dark,
)
from skyfence.model import make_observations

LAT0, LAT1, LON0, LON1 = 58.5, 60.0, 25.0, 27.5
STRIP = Zone("STRIP", "custom", shapely.box(24.5, 59.2, 28.0, 59.3))
SPEED_MS, STEP_S = 250.0, 10.0
M_LAT = 111_320.0  # metres per degree of latitude, near enough for generated inputs


def m_lon(lat: float) -> float:
    return M_LAT * float(np.cos(np.radians(lat)))


def fly(track: str, t0: float, lat: float, lon: float, heading: float, alt: np.ndarray | float,
        n: int, *, step_s: float = STEP_S, vz: np.ndarray | float = 0.0) -> pd.DataFrame:
    """``n`` fixes along a line of constant heading (90: east, 0: north), inside the box."""
    k = np.arange(n)
    d = SPEED_MS * step_s * k
    lat_k = lat + d * np.cos(np.radians(heading)) / M_LAT
    lon_k = lon + d * np.sin(np.radians(heading)) / m_lon(lat)
    heard = (lat_k >= LAT0) & (lat_k < LAT1) & (lon_k >= LON0) & (lon_k < LON1)
    return make_observations(
        time=(t0 + step_s * k)[heard], icao24=[track] * int(heard.sum()), lat=lat_k[heard],
        lon=lon_k[heard], altitude=np.broadcast_to(alt, n)[heard],
        velocity=np.full(int(heard.sum()), SPEED_MS), heading=np.full(int(heard.sum()), heading),
        vertrate=np.broadcast_to(vz, n)[heard])


def westbound_until(track: str, t0: float, lat: float, lon_stop: float, alt: float,
                    *, step_s: float = STEP_S, tail: int = 0, tail_vz: float = 0.0
                    ) -> pd.DataFrame:
    """From the east edge to ``lon_stop`` (then silent); the last ``tail`` fixes climb or
    sink at ``tail_vz`` m/s."""
    n = int((LON1 - 0.001 - lon_stop) * m_lon(lat) / (SPEED_MS * step_s)) + 1
    k = np.arange(n)
    sink = np.clip(k - (n - 1 - tail), 0, None) * step_s * tail_vz
    vz = np.where(k >= n - 1 - tail, tail_vz, 0.0) if tail else 0.0
    return fly(track, t0, lat, LON1 - 0.001, 270.0, alt + sink, n, step_s=step_s, vz=vz)


AIRFIELD = (59.1, 25.6)


def background(seed: int = 7) -> pd.DataFrame:
    """Edge-to-edge tracks on the lattice, starting at random times in the first 600 s,
    and the airfield's departures (westbound) and arrivals (from the east) at 700 m."""
    rng = np.random.default_rng(seed)
    frames, i = [], 0
    for k in range(15):
        frames.append(fly(f"{0x3d0000 + k:06x}", 100.0 + 20.0 * k, *AIRFIELD, 270.0, 700.0,
                          40))
        frames.append(westbound_until(f"{0x3d1000 + k:06x}", 100.0 + 40.0 * k, AIRFIELD[0],
                                      AIRFIELD[1], 700.0))
    for alt in (10_000.0, 700.0):
        for lat in np.arange(LAT0 + 0.0125, LAT1, 0.025):
            for heading, lon in ((90.0, LON0 + 0.001), (270.0, LON1 - 0.001)):
                frames.append(fly(f"{0x3c0000 + i:06x}", rng.uniform(0, 600), lat, lon,
                                  heading, alt, 80))
                i += 1
        for lon in np.arange(LON0 + 0.0125, LON1, 0.025):
            for heading, lat in ((0.0, LAT0 + 0.001), (180.0, LAT1 - 0.001)):
                frames.append(fly(f"{0x3c0000 + i:06x}", rng.uniform(0, 600), lat, lon,
                                  heading, alt, 80))
                i += 1
    return pd.concat(frames, ignore_index=True)


#: the test aircraft, each silent from its last fix on (expected outcome in words)
CASES = {
    # switched off in the middle of good coverage, inside the strip: the one warning
    "4b0001": westbound_until("4b0001", 900.0, 59.27, 26.2, 10_000.0),
    # crosses the whole box inside the strip and leaves it at the east edge: no warning
    "4b0002": fly("4b0002", 800.0, 59.23, LON0 + 0.001, 90.0, 10_000.0, 80),
    # descending at 4 m/s through 700 m to land 2 km from the strip: no warning
    "4b0003": westbound_until("4b0003", 900.0, 59.32, 26.6, 900.0, tail=5, tail_vz=-4.0),
    # eastbound, silent 25 km before the east edge (its cell is good, the next one is
    # the edge): no warning
    "4b0004": fly("4b0004", 700.0, 59.32, LON0 + 0.001, 90.0, 10_000.0, 48),
    # sinking at 23 m/s from 10 km: silent at 9,310 m, below 9 km by the time it is
    # judged (60 s later: 7,930 m), where no receiver has heard anyone: no warning
    "4b0005": westbound_until("4b0005", 950.0, 59.42, 25.9, 10_000.0, tail=3, tail_vz=-23.0),
    # climbing out of the low band at 8 m/s: silent at 940 m, 1,420 m when judged (1-3 km:
    # no one heard there): no warning
    "4b0006": westbound_until("4b0006", 950.0, 59.12, 26.4, 700.0, tail=3, tail_vz=8.0),
    # a fix every 30 s (a distant receiver), switched off mid-coverage: one warning,
    # but only after 6 x 30 = 180 s of silence
    "4b0007": westbound_until("4b0007", 1000.0, 59.38, 26.85, 10_000.0, step_s=30.0),
    # level at 700 m, silent over the airfield (where tracks begin and end): no warning
    "4b0008": westbound_until("4b0008", 1000.0, AIRFIELD[0], AIRFIELD[1], 700.0),
}


def replay(data: pd.DataFrame, ew: EarlyWarning, until: float, *, start: float = 0.0,
           slice_s: float = STEP_S) -> list[tuple[float, EarlyWarningEvent]]:
    """Feed ``data`` in slices (empty ones too), as a watch does; (feed time, warning)."""
    data = data.sort_values("time", kind="stable", ignore_index=True)
    t = data["time"].to_numpy()
    out = []
    for lo in np.arange(start, until, slice_s):
        batch = data.iloc[np.searchsorted(t, lo):np.searchsorted(t, lo + slice_s)]
        out += [(lo + slice_s, w) for w in ew.update(batch, now=lo + slice_s)]
    return out


def talker(t0: float, t1: float) -> pd.DataFrame:
    """Someone the receivers keep hearing (a helicopter hovering in the box's corner):
    the feed is alive."""
    t = np.arange(t0, t1, STEP_S)
    return make_observations(time=t, icao24=["4c0000"] * t.size, lat=np.full(t.size, 58.6),
                             lon=np.full(t.size, 25.1), altitude=np.full(t.size, 300.0))


@pytest.fixture(scope="module")
def warned() -> tuple[EarlyWarning, list[tuple[float, EarlyWarningEvent]]]:
    ew = EarlyWarning([STRIP])
    data = pd.concat([background(), *CASES.values()], ignore_index=True)
    return ew, [(t, w) for t, w in replay(data, ew, 2400.0) if w.kind == "went_dark"]


def last_fix(track: str) -> pd.Series:
    return CASES[track].iloc[-1]


def test_only_the_silences_inside_good_coverage_warn(
        warned: tuple[EarlyWarning, list[tuple[float, EarlyWarningEvent]]]) -> None:
    _, dark = warned
    # 640 background tracks leave at the edges, 5 test aircraft fall silent where it
    # means nothing: two warnings, each once, at the last fix before the silence
    assert sorted((w.track, w.at) for _, w in dark) == [
        ("4b0001", float(last_fix("4b0001")["time"])),
        ("4b0007", float(last_fix("4b0007")["time"]))]


def test_a_silence_is_judged_against_the_tracks_own_interval(
        warned: tuple[EarlyWarning, list[tuple[float, EarlyWarningEvent]]]) -> None:
    _, dark = warned
    when = {w.track: t - w.at for t, w in dark}
    assert 60.0 <= when["4b0001"] < 70.0     # every 10 s: silent after 60 s
    assert 180.0 <= when["4b0007"] < 190.0   # every 30 s: silent after 6 x 30 s


@pytest.mark.parametrize("latest_only", [False, True])
def test_the_interval_is_the_tracks_not_how_often_it_is_looked_at(
        warned: tuple[EarlyWarning, list[tuple[float, EarlyWarningEvent]]],
        latest_only: bool) -> None:
    # 4b0001 (a fix every 10 s) looked at once a minute: silent after 60 s all the same,
    # whether the batches hold every fix or each track's latest with a message count
    ew = EarlyWarning([STRIP], coverage=copy.deepcopy(warned[0].coverage))
    data = pd.concat([CASES["4b0001"], talker(900.0, 1600.0)], ignore_index=True)
    last = float(CASES["4b0001"]["time"].iloc[-1])
    got = []
    for lo in np.arange(900.0, 1600.0, 60.0):
        batch = data[(data["time"] >= lo) & (data["time"] < lo + 60.0)]
        if latest_only and len(batch):
            n = batch["icao24"].value_counts()
            batch = batch.groupby("icao24").tail(1)
            batch = batch.assign(messages=batch["icao24"].map(n).to_numpy())
        got += [(lo + 60.0, w) for w in ew.update(batch, now=lo + 60.0)
                if w.kind == "went_dark"]
    assert [(w.track, w.at) for _, w in got] == [("4b0001", last)]
    assert 60.0 <= got[0][0] - last < 120.0


def test_each_silence_has_its_reason(
        warned: tuple[EarlyWarning, list[tuple[float, EarlyWarningEvent]]]) -> None:
    ew, _ = warned
    silent = pd.DataFrame([last_fix(k) for k in CASES]).reset_index(drop=True)
    why = silence_explained(silent, float(silent["time"].max()) + 200.0, ew.coverage,
                            ew.config)
    assert dict(zip(CASES, why, strict=True)) == {
        "4b0001": "", "4b0002": "outside good coverage", "4b0003": "landing",
        "4b0004": "outside good coverage", "4b0005": "left the covered band",
        "4b0006": "left the covered band", "4b0007": "", "4b0008": "outside good coverage"}


def test_the_learned_coverage_matches_the_construction(
        warned: tuple[EarlyWarning, list[tuple[float, EarlyWarningEvent]]]) -> None:
    ew = warned[0]
    lat, lon = np.meshgrid(np.arange(58.625, 60.0, 0.25), np.arange(25.125, 27.5, 0.25))
    inside = (lat > 59.0) & (lat < 59.5) & (lon > 25.5) & (lon < 27.0)
    # the airfield's cell (59-59.25 N, 25.5-25.75 E) is an edge of the low band: no cell
    # within one of it is covered there
    near_field = (np.abs(lat - 59.125) < 0.3) & (np.abs(lon - 25.625) < 0.3)
    for alt, expected in ((10_000.0, inside), (700.0, inside & ~near_field)):
        got = ew.coverage.covered(lat.ravel(), lon.ravel(), np.full(lat.size, alt))
        assert got.tolist() == expected.ravel().tolist()
    field = ew.coverage.counts(ew.coverage.keys([AIRFIELD[0]], [AIRFIELD[1]], [700.0]))[0]
    assert field[1] == 15 and field[2] >= 15  # departures began, arrivals ended there
    assert not ew.coverage.covered(lat.ravel(), lon.ravel(), np.full(lat.size, 5_000.0)).any()


def test_a_feed_outage_is_not_transponders_going_dark(
        warned: tuple[EarlyWarning, list[tuple[float, EarlyWarningEvent]]]) -> None:
    # two minutes without a single message, in the middle of the busy background (the
    # watch looks every 5 s): nobody went dark, whoever the feed brings back first
    data = background()
    t = data["time"].to_numpy()
    data = data[(t >= 600.0) & ((t < 800.0) | (t >= 920.0))]
    ew = EarlyWarning([STRIP], coverage=copy.deepcopy(warned[0].coverage))
    starts = box_counts(ew.coverage)[:, 1].sum()
    got = replay(data, ew, 1100.0, start=600.0, slice_s=5.0)
    assert [w.track for _, w in got if w.kind == "went_dark"] == []
    # every track had begun before 600 s: those heard when the watch starts and when
    # the feed comes back were already flying, they begin nowhere
    assert box_counts(ew.coverage)[:, 1].sum() == starts
    # taken for silences (no feed rule), the same hole warns of many aircraft
    ew = EarlyWarning([STRIP], EarlyWarningConfig(feed_gap_s=np.inf),
                      copy.deepcopy(warned[0].coverage))
    got = replay(data, ew, 1100.0, start=600.0, slice_s=5.0)
    assert len({w.track for _, w in got if w.kind == "went_dark"}) >= 10


def box_counts(model: CoverageModel) -> np.ndarray:
    """Passages, starts and ends of every cell of the box, at both altitudes."""
    lat, lon = np.meshgrid(np.arange(58.625, 60.0, 0.25), np.arange(25.125, 27.5, 0.25))
    alt = np.repeat([10_000.0, 700.0], lat.size)
    return model.counts(model.keys(np.tile(lat.ravel(), 2), np.tile(lon.ravel(), 2), alt))


def test_a_cold_model_warns_of_nothing() -> None:
    ew = EarlyWarning([STRIP])
    got = replay(pd.concat([CASES["4b0001"], talker(0.0, 1600.0)]), ew, 1600.0)
    assert [w for _, w in got if w.kind == "went_dark"] == []
    # without the coverage question (the zone rule alone) the same silence warns
    alone = went_dark(CASES["4b0001"].tail(1), [STRIP], EarlyWarningConfig().dark_distance_m)
    assert [w.track for w in alone] == ["4b0001"]
