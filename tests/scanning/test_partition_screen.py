"""Partitioned scans share one screen per scan, passed explicitly, and keep nothing
afterwards (no module-level cache keyed on object ids)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skyfence.airspace.index as index_module
from skyfence.airspace.zones import circle_zone
from skyfence.model import make_observations
from skyfence.scanning.engine import ScanOptions, scan_files, scan_track_partition


def _equator_track() -> pd.DataFrame:
    # east along the equator from 1 W to 1 E, a fix every 0.01 degree (about 1.1 km)
    lon = np.linspace(-1.0, 1.0, 201)
    return make_observations(time=np.arange(201.0), icao24=["abc123"] * 201,
                             lat=np.zeros(201), lon=lon)


def test_a_partition_scan_keeps_no_zone_alive() -> None:
    zones = [circle_zone("NEAR", 0.0, 0.0, 10.0)]
    found, positions, _ = scan_track_partition(_equator_track(), zones, 300.0)
    # a 10 km circle on the track's line: one entry, about 20 km long (18 fixes of 1.1 km)
    assert len(found) == 1 and positions == 201
    assert 17 <= found[0].observations <= 19
    alive = weakref.ref(zones[0])
    del zones, found
    gc.collect()
    assert alive() is None


def test_zones_scanned_one_after_the_other_are_each_screened_afresh() -> None:
    track = _equator_track()
    for _ in range(3):
        far = [circle_zone("FAR", 50.0, 50.0, 10.0)]  # nowhere near the track
        assert scan_track_partition(track, far, 300.0)[0] == []
        del far
        gc.collect()
        near = [circle_zone("NEAR", 0.0, 0.0, 10.0)]
        assert len(scan_track_partition(track, near, 300.0)[0]) == 1
        del near
        gc.collect()


def test_partitioned_scan_builds_one_screen(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    original = index_module.ZoneIndex.__init__

    def counting(self: index_module.ZoneIndex, *args: object, **kw: object) -> None:
        built.append(1)
        original(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(index_module.ZoneIndex, "__init__", counting)
    # 21 tracks west to east along latitudes 0, +-0.05, ..., +-0.5 degree
    lats = 0.05 * np.arange(-10, 11)
    n_fix = 50
    frames = [pd.DataFrame({"time": 1_700_000_000.0 + np.arange(n_fix) * 30.0,
                            "icao24": f"{0x3c0000 + k:06x}", "lat": lat,
                            "lon": np.linspace(-1.0, 1.0, n_fix)})
              for k, lat in enumerate(lats)]
    f = tmp_path / "tracks.csv"
    pd.concat(frames, ignore_index=True).to_csv(f, index=False)
    zones = [circle_zone("A", 0.0, 0.0, 30.0)]
    res = scan_files([f], ScanOptions(zones=zones, chunk_rows=300, memory_rows=500))
    assert res.mode == "partitioned"
    # a degree of latitude is 110.6 km at the equator: |lat| <= 0.25 (27.6 km) passes
    # through the 30 km circle, |lat| >= 0.3 (33.2 km) misses it: 11 of the 21 tracks
    assert len(res.records) == 11
    assert len(built) == 1
