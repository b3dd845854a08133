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
