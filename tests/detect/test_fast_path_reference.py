"""The fast detector against the reference detector, record for record, byte for byte.

The reference (``EntryDetector(..., reference=True)``) finds candidate segments by the
cells of their ends and STRtree boxes of the zones, and measures depth on every 16th
fix plus bounds (the detector as it was before the grid and the distance field). The
fast path asks the index grid for candidates and the distance field for depth. Both
must give the same incident records, as JSON text, on real and synthetic traffic, one
batch or many. The parts are also checked alone: the distance field's run maxima
against measuring every fix (brute force), and the grid's candidates against shapely's
segment/boundary intersection.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.depth_field import DepthField
from skyfence.airspace.index import ZoneIndex
from skyfence.airspace.zones import Zone, all_national_zones, circle_zone, resolve_zones
from skyfence.benchmarks.baltic import aircraft_block
from skyfence.benchmarks.workload import replicated_traffic
from skyfence.demo import sample_traffic, vaindloo_track
from skyfence.detect.entries import EntryDetector
from skyfence.incidents.assess import Assessor
from skyfence.model import make_observations
from skyfence.policy import Policy
from skyfence.sources.tabular import normalize_table


def records(zones: list[Zone], frames: list[pd.DataFrame], *, reference: bool,
            detector: EntryDetector | None = None) -> list[str]:
    det = detector or EntryDetector(zones, reference=reference)
    found = []
    for f in frames:
        found.extend(e.entry for e in det.process(f) if e.kind == "exit")
    found.extend(e.entry for e in det.close())
    found.sort(key=lambda e: (e.entered_at, e.zone, e.track))
    return [json.dumps(r) for r in Assessor(Policy()).records(found)]


def assert_same(zones: list[Zone], df: pd.DataFrame, chunks: int = 1) -> int:
    frames = [df] if chunks == 1 else list(_time_chunks(df, chunks))
    fast = records(zones, frames, reference=False)
    ref = records(zones, frames, reference=True)
    assert fast == ref
    return len(ref)


def _time_chunks(df: pd.DataFrame, k: int) -> list[pd.DataFrame]:
    df = df.sort_values("time", kind="stable", ignore_index=True)
    cuts = np.linspace(0, len(df), k + 1).astype(int)
    return [df.iloc[a:b] for a, b in itertools.pairwise(cuts.tolist()) if b > a]


@pytest.fixture(scope="module")
def swiss() -> pd.DataFrame:
    return normalize_table(sample_traffic())


def test_real_traffic_over_switzerland(swiss: pd.DataFrame) -> None:
    assert assert_same(resolve_zones(["CHE"]), swiss) > 20


def test_real_traffic_in_time_chunks(swiss: pd.DataFrame) -> None:
    assert assert_same(resolve_zones(["CHE", "FRA", "DEU", "ITA", "AUT"]), swiss, chunks=5) > 40


def test_real_traffic_against_every_state(swiss: pd.DataFrame) -> None:
    assert assert_same(all_national_zones(), swiss) > 40


def test_baltic_aircraft_against_four_states() -> None:
    df = normalize_table(aircraft_block(3, 150, fixes=240))
    assert assert_same(resolve_zones(["EST", "LVA", "LTU", "POL"]), df) > 50


@pytest.mark.slow
def test_world_like_traffic_against_every_state() -> None:
    df = normalize_table(replicated_traffic(60_000, seed=3))
    assert assert_same(all_national_zones(), df, chunks=3) > 200


def test_radar_track_and_custom_zones() -> None:
    df = normalize_table(vaindloo_track())
    zones = [*resolve_zones(["EST"]), circle_zone("VAINDLOO", 59.817, 26.358, 8.0)]
    assert assert_same(zones, df) >= 2


def test_tracks_over_the_antimeridian_and_the_poles() -> None:
    rng = np.random.default_rng(8)
    rows = []
    for k in range(60):
        lon0 = rng.choice([179.5, -179.5, 178.0, -178.0, 180.0, -180.0])
        lat0 = rng.uniform(-70, 75) if k % 10 else rng.uniform(84, 89.5)
        step = rng.uniform(0.05, 0.6)
        heading = rng.uniform(0, 2 * np.pi)
        for i in range(30):
            lon = (lon0 + i * step * np.cos(heading) + 180.0) % 360.0 - 180.0
            lat = float(np.clip(lat0 + i * step * np.sin(heading) * 0.3, -89.9, 89.9))
            rows.append((f"{0xa00000 + k:06x}", 1.7e9 + 20.0 * i, lat, lon))
    rows.append(("a1ffff", 1.7e9, 66.0, 180.0))  # a fix exactly on the meridian
    rows.append(("a1ffff", 1.7e9 + 20, 66.0, -179.0))
    t, ident, lat, lon = (list(c) for c in zip(*[(r[1], r[0], r[2], r[3]) for r in rows],
                                               strict=True))
    df = make_observations(time=t, icao24=ident, lat=lat, lon=lon)
    zones = [*resolve_zones(["RUS", "USA", "FJI", "NZL", "KIR"]),
             circle_zone("DATELINE", 0.0, 180.0, 300.0), circle_zone("POLE", 89.0, 0.0, 200.0)]
    assert assert_same(zones, df) > 5


# ------------------------------------------------------------------ the parts alone
def test_distance_field_maxima_equal_measuring_every_fix() -> None:
    zone = resolve_zones(["CHE"])[0]
    b = Boundary(zone.geometry)
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = zone.geometry.bounds
    lon, lat = rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)
    keep = shapely.contains_xy(zone.geometry, lon, lat)
    # tracks, not noise: sort the points along longitude so runs are spatially coherent
    order = np.argsort(lon[keep])
    lon, lat = lon[keep][order], lat[keep][order]
    starts = np.unique(np.concatenate([[0], rng.integers(1, len(lon), 120)]))
    every = b.distance_m(lon, lat)  # brute force: every fix measured
    want = np.maximum.reduceat(every, starts)
    field = DepthField(b.distance_m)
    got = field.max_distance_m(lon, lat, starts)
    assert got.tolist() == want.tolist()
    assert field.measured_fixes < len(lon) / 3  # and it measured few fixes
    # filled cells are reused: a second pass measures no cell again
    cells = field.measured_cells
    assert field.max_distance_m(lon, lat, starts).tolist() == want.tolist()
    assert field.measured_cells == cells


def test_grid_candidates_hold_every_segment_that_crosses_a_boundary() -> None:
    zones = resolve_zones(["EST", "LVA", "RUS", "FIN"])
    index = ZoneIndex(zones)
    rng = np.random.default_rng(4)
    n = 20_000
    x0, y0 = rng.uniform(21.0, 29.0, n), rng.uniform(56.0, 60.5, n)
    length = 10 ** rng.uniform(-3.0, -0.5, n)
    ang = rng.uniform(0, 2 * np.pi, n)
    x1, y1 = x0 + length * np.cos(ang), y0 + length * np.sin(ang)
    seg, zone, unknown = index.segment_zones(x0, y0, x1, y1)
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]),
                                          np.column_stack([x1, y1])], axis=1))
    answered = set(zip(seg.tolist(), zone.tolist(), strict=True))
    unknown_set = set(unknown.tolist())
    crossing = 0
    for zi, z in enumerate(zones):
        hit = np.flatnonzero(shapely.intersects(lines, z.geometry.boundary))
        crossing += len(hit)
        missed = [int(s) for s in hit if (int(s), zi) not in answered
                  and int(s) not in unknown_set]
        assert missed == []
    assert crossing > 500
    # and it is selective: most segments that cross nothing are answered "none"
    assert len(answered) < 0.5 * n


# Small circles just either side of ±180 and one near (not over) the north pole: none of
# them reaches the ±180 seam or the pole, so every crossing of their boundary is a real
# border crossing, and a segment that crosses ±180 meets them only on the far side.
_GLOBE_ZONES = [circle_zone("EAST_OF_180", 10.0, -179.8, 12.0),
                circle_zone("WEST_OF_180", -15.0, 179.8, 12.0),
                circle_zone("NEAR_POLE", 88.7, 40.0, 40.0)]


def _globe_segments(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Segments as the detector hands them to the grid: the start in [-180, 180], the end
    unwrapped (beyond ±180 where the segment crosses it, :func:`lon_delta`'s short way)."""
    third = n // 3
    # around the two circles, starting on the far side of ±180 from them
    x0 = np.concatenate([rng.uniform(179.3, 180.0, third), rng.uniform(-180.0, -179.3, third)])
    y0 = np.concatenate([rng.uniform(9.7, 10.3, third), rng.uniform(-15.3, -14.7, third)])
    dx = np.concatenate([rng.uniform(-0.2, 0.9, third), rng.uniform(-0.9, 0.2, third)])
    dy = rng.uniform(-0.25, 0.25, 2 * third)
    # near the pole: short in km, long in longitude
    m = n - 2 * third
    px0, py0 = rng.uniform(0.0, 80.0, m), rng.uniform(88.0, 89.6, m)
    pdx, pdy = rng.uniform(-25.0, 25.0, m), rng.uniform(-0.4, 0.35, m)
    x0, y0 = np.concatenate([x0, px0]), np.concatenate([y0, py0])
    x1, y1 = x0 + np.concatenate([dx, pdx]), y0 + np.concatenate([dy, pdy])
    return x0, y0, x1, y1


def test_grid_candidates_across_the_antimeridian_and_near_the_pole() -> None:
    """Every segment that crosses a zone boundary, on either side of ±180, is a grid
    candidate of that zone or left to the reference (``unknown``). Reference: shapely's
    intersection of the segment, and of its copies shifted by ±360 degrees (the part
    beyond ±180 wrapped back), with the zone boundary."""
    index = ZoneIndex(_GLOBE_ZONES)
    x0, y0, x1, y1 = _globe_segments(np.random.default_rng(11), 6_000)
    seg, zone, unknown = index.segment_zones(x0, y0, x1, y1)
    answered = set(zip(seg.tolist(), zone.tolist(), strict=True))
    unknown_set = set(unknown.tolist())
    crossing = across = 0
    for zi, z in enumerate(_GLOBE_ZONES):
        edge = z.geometry.boundary
        hit = np.zeros(len(x0), bool)
        for shift in (-360.0, 0.0, 360.0):
            lines = shapely.linestrings(np.stack(
                [np.column_stack([x0 + shift, y0]), np.column_stack([x1 + shift, y1])], axis=1))
            hit |= shapely.intersects(lines, edge)
        crossing += int(hit.sum())
        across += int((hit & ((x1 > 180.0) | (x1 < -180.0))).sum())
        missed = [int(s) for s in np.flatnonzero(hit) if (int(s), zi) not in answered
                  and int(s) not in unknown_set]
        assert missed == []
    assert crossing > 300 and across > 50  # the test does exercise both cases


def test_entries_across_the_antimeridian_and_near_the_pole() -> None:
    """Tracks through the small circles beside ±180 and near the pole, with fixes inside
    them or jumping over them: the fast path's records are the reference's, and there
    are records to compare."""
    rng = np.random.default_rng(12)
    rows = []
    for k in range(90):
        if k % 3 == 2:  # circling near the pole, 2 degrees of longitude (~5 km) a fix
            lon0, lat0, dlon, fixes = rng.uniform(0, 80), rng.uniform(88.2, 89.2), 2.0, 40
        else:  # east or west across ±180 past a circle, along a parallel
            lat0 = (10.0 if k % 3 == 0 else -15.0) + rng.uniform(-0.1, 0.1)
            east = 1.0 if rng.integers(2) else -1.0
            # steps of 5.5 km put fixes inside the 24-km circles; steps of 33 km mostly
            # jump over them (an entry found only through a segment's crossings)
            dlon, fixes = (0.05, 40) if k % 2 else (0.3, 12)
            lon0, dlon = rng.uniform(179.0, 179.3) * east, dlon * east
        for i in range(fixes):
            lon = (lon0 + i * dlon + 180.0) % 360.0 - 180.0
            # 15 s per 0.05 degree: about 370 m/s along the parallel, whatever the step
            rows.append((f"{0xb00000 + k:06x}", 1.7e9 + 300.0 * abs(dlon) * i, lat0, lon))
    ident, t, lat, lon = (list(c) for c in zip(*rows, strict=True))
    df = make_observations(time=t, icao24=ident, lat=lat, lon=lon)
    assert assert_same(list(_GLOBE_ZONES), df) > 40
