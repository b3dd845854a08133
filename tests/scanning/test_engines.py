"""Every scan engine gives the same records as one in-memory scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skyfence.airspace.zones import circle_zone
from skyfence.scanning import clustered, engine
from skyfence.scanning.engine import ScanOptions, scan_files, scan_frame
from skyfence.scanning.inputs import expand_inputs

ZONES = [circle_zone("A", 0.0, 0.0, 30.0), circle_zone("B", 0.3, 0.3, 20.0)]


def synthetic(n_tracks: int = 120, n_fix: int = 240, seed: int = 5) -> pd.DataFrame:
    """Random-walk tracks around two circles over three hours, fixes every ~15-60 s."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_tracks):
        t = 1_700_000_000 + np.cumsum(rng.uniform(15, 60, n_fix)) + rng.uniform(0, 4000)
        if k % 7 == 0:
            t[n_fix // 2:] += 400  # a gap that splits the track
        heading = rng.uniform(0, 2 * np.pi)
        step = 0.02 * np.column_stack([np.cos(heading), np.sin(heading)])
        xy = rng.uniform(-0.8, 0.8, 2) + np.cumsum(step + rng.normal(0, 0.01, (n_fix, 2)), 0)
        ident = f"{0x3c0000 + k:06x}" if k % 5 else f"T{k:04d}"
        frames.append(pd.DataFrame({"time": t, "icao24": ident, "lat": xy[:, 1],
                                    "lon": xy[:, 0], "baroaltitude": 3000.0,
                                    "velocity": 220.0}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return synthetic()


@pytest.fixture(scope="module")
def reference(data: pd.DataFrame) -> list[dict[str, object]]:
    res = scan_frame(data, ScanOptions(zones=ZONES))
    assert len(res.records) > 30
    return res.records


def test_unsorted_csv_partitioned_on_disk_equals_memory(
        tmp_path: Path, data: pd.DataFrame, reference: list[dict[str, object]]) -> None:
    f = tmp_path / "shuffled.csv.gz"
    data.sample(frac=1, random_state=2).to_csv(f, index=False)
    res = scan_files([f], ScanOptions(zones=ZONES, chunk_rows=3000, memory_rows=5000))
    assert res.mode == "partitioned"
    assert res.records == reference


def test_hive_parquet_streams_in_time_order(
        tmp_path: Path, data: pd.DataFrame, reference: list[dict[str, object]]) -> None:
    d = data.sort_values("time").copy()
    hour = pd.to_datetime(d["time"], unit="s").dt.strftime("%Y-%m-%d-%H")
    root = tmp_path / "states"
    for h, part in d.groupby(hour):
        p = root / f"hour={h}"
        p.mkdir(parents=True)
        part.to_parquet(p / "part-0.parquet", index=False, row_group_size=2000)
    paths = expand_inputs([root])
    assert len(paths) >= 3
    res = scan_files(paths, ScanOptions(zones=ZONES, chunk_rows=2000, memory_rows=4000))
    assert res.mode == "streaming"
    assert res.records == reference
    assert res.positions == len(data)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_streaming_over_threads_gives_the_records_of_one_detector(
        tmp_path: Path, data: pd.DataFrame, reference: list[dict[str, object]],
        workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker's detector keeps the tracks of its hash class across the batches
    (tracks of hours, batches of minutes), threads running even on small batches."""
    monkeypatch.setattr(engine, "PARALLEL_MIN_ROWS", 0)
    seen: list[int] = []
    real = engine.track_rows
    monkeypatch.setattr(engine, "track_rows",
                        lambda frame, parts: seen.append(len(frame)) or real(frame, parts))
    f = tmp_path / "sorted.parquet"
    data.sort_values("time", kind="stable").to_parquet(f, index=False, row_group_size=1500)
    res = scan_files([f], ScanOptions(zones=ZONES, chunk_rows=1500, memory_rows=3000,
                                      workers=workers))
    assert res.mode == "streaming"
    assert res.records == reference and res.positions == len(data)
    assert (len(seen) == 0) if workers == 1 else (len(seen) > 10)  # batches split


@pytest.mark.integration
def test_dask_local_cluster_equals_local(
        tmp_path: Path, data: pd.DataFrame, reference: list[dict[str, object]]) -> None:
    from skyfence.scanning.distributed import scan_dask

    # files split by track id range AND time, so tracks cross partition boundaries
    d = data.sample(frac=1, random_state=4)
    for i, rows in enumerate(np.array_split(np.arange(len(d)), 4)):
        d.iloc[rows].to_parquet(tmp_path / f"p{i}.parquet", index=False)
    res = scan_dask(sorted(tmp_path.glob("*.parquet")), ScanOptions(zones=ZONES), workers=2)
    assert res.records == reference
    assert res.positions == len(data)


def test_streaming_forgets_silent_tracks_and_stays_exact(tmp_path: Path) -> None:
    """800 tracks of 20 minutes (every other one paused for 270 s, less than the gap),
    one starting every 5 minutes over 67 hours (300 ids, each reused 25 hours later): a
    streaming detector needs only the recent ones."""
    rng = np.random.default_rng(8)
    frames = []
    for k in range(800):
        t = 1_700_000_000 + 300.0 * k + rng.uniform(0, 30) + 30.0 * np.arange(40)
        t[20:] += 270.0 * (k % 2)  # a pause shorter than the gap: the track goes on
        xy = rng.uniform(-0.6, 0.6, 2) + np.cumsum(rng.normal(0, 0.03, (40, 2)), 0)
        frames.append(pd.DataFrame({"time": t, "icao24": f"{0x3c0000 + k % 300:06x}",
                                    "lat": xy[:, 1], "lon": xy[:, 0], "velocity": 150.0}))
    data = pd.concat(frames, ignore_index=True).sort_values("time", kind="stable")
    f = tmp_path / "sorted.parquet"
    data.to_parquet(f, index=False, row_group_size=500)
    ref = scan_frame(data, ScanOptions(zones=ZONES))
    assert sum(r["exited_at"] is None for r in ref.records) > 5  # tracks ending inside
    res = scan_files([f], ScanOptions(zones=ZONES, memory_rows=2000, chunk_rows=500))
    assert res.mode == "streaming"
    assert res.records == ref.records and res.positions == len(data)
    # a batch holds at most 2,000 rows: 50 tracks' worth (40 fixes each), plus the 4 or
    # 5 live ones carried in; without forgetting, the detector would end with all 300 ids
    assert res.tracked_peak <= 60


def _by_track(data: pd.DataFrame) -> pd.DataFrame:
    """The rows as a per-aircraft export writes them: one track after another."""
    return data.sort_values(["icao24", "time"], kind="stable", ignore_index=True)


def test_file_written_track_by_track_is_screened_without_a_partition(
        tmp_path: Path, data: pd.DataFrame, reference: list[dict[str, object]]) -> None:
    """Tracks of 240 fixes read 700 rows at a time: most chunks end inside a track,
    which must be screened whole with the next chunk."""
    f = tmp_path / "per-aircraft.parquet"
    _by_track(data).to_parquet(f, index=False, row_group_size=1000)
    res = scan_files([f], ScanOptions(zones=ZONES, chunk_rows=700, memory_rows=3000))
    assert res.mode == "by-track"
    assert res.records == reference and res.positions == len(data)


def test_track_continued_in_the_next_file_is_one_track(
        tmp_path: Path, data: pd.DataFrame, reference: list[dict[str, object]]) -> None:
    d = _by_track(data)
    cut = len(d) // 2 + 100  # inside a track
    assert d["icao24"].iat[cut - 1] == d["icao24"].iat[cut]
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    d.iloc[:cut].to_parquet(paths[0], index=False)
    d.iloc[cut:].to_parquet(paths[1], index=False)
    res = scan_files(paths, ScanOptions(zones=ZONES, chunk_rows=900, memory_rows=3000))
    assert res.mode == "by-track"
    assert res.records == reference


@pytest.mark.parametrize("check_rows", [100, 1000, 1_000_000])
@pytest.mark.parametrize("case", ["returns", "same-id-other-case", "too-long"])
def test_not_track_by_track_is_partitioned(
        tmp_path: Path, data: pd.DataFrame, reference: list[dict[str, object]],
        case: str, check_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A track that comes back after other tracks (also under its id in capitals, which
    the reader folds to the same track), or one longer than a batch, is partitioned;
    the check reads the ids ``check_rows`` at a time (the return seen within one read,
    or across reads; with 100 rows a read, no read holds more than 100 rows of a
    240-fix track, so only the run carried across reads shows it is too long)."""
    monkeypatch.setattr(clustered, "CHECK_ROWS", check_rows)
    d = _by_track(data)
    ident = "3c0001"
    rows = np.flatnonzero(d["icao24"].to_numpy() == ident)
    memory_rows = 3000
    if case == "too-long":
        memory_rows = 400  # a batch of 200 rows per worker: shorter than a track
    else:
        later = d.iloc[rows[120:]].copy()
        if case == "same-id-other-case":
            later["icao24"] = ident.upper()
        d = pd.concat([d.drop(index=d.index[rows[120:]]), later], ignore_index=True)
    f = tmp_path / "mixed.parquet"
    d.to_parquet(f, index=False)
    res = scan_files([f], ScanOptions(zones=ZONES, chunk_rows=700, memory_rows=memory_rows,
                                      workers=2))
    assert res.mode == "partitioned"
    assert res.records == reference
