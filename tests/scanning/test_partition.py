"""Bucket files: every row lands once, an id in one bucket, and time ranges in order."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from skyfence.scanning.partition import (
    BucketWriter,
    hash_buckets,
    load_table,
    split_by_track,
    time_ordered_frames,
    to_bucket_table,
)


def observations(n: int, ids: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "time": rng.integers(0, 1000, n).astype(float), "icao24": [f"{i:06x}" for i in
                                                                  rng.integers(0, ids, n)],
        "lat": np.arange(n, dtype=float), "lon": 0.0, "altitude": np.nan, "velocity": np.nan,
        "callsign": None, "squawk": None})


def one_bucket(tmp: Path, df: pd.DataFrame, name: str = "all") -> list:
    w = BucketWriter(tmp, name, 1)
    for start in range(0, len(df), 700):  # written in several batches, as a scan does
        t = to_bucket_table(df.iloc[start : start + 700])
        w.write(t, np.zeros(len(t), np.int64))
    return w.close()


def test_hash_is_per_id_and_seeded() -> None:
    ids = pa.array(["a", "b", "a", "c", "b", "a"] * 50)
    b0 = hash_buckets(ids, 7, seed=0)
    assert len(set(b0[np.asarray(ids.to_pylist()) == "a"])) == 1
    # chunked input hashes like the combined array
    chunked = pa.chunked_array([ids[:100], ids[100:]])
    assert (hash_buckets(chunked, 7, seed=0) == b0).all()
    many = pa.array([f"{i:06x}" for i in range(5000)])
    h0, h1 = hash_buckets(many, 16, seed=0), hash_buckets(many, 16, seed=1)
    assert h0.min() >= 0 and h0.max() < 16
    # a new seed moves ids between buckets (about 15/16 of them for a random hash)
    assert (h0 != h1).mean() > 0.8
    # and spreads them evenly: 5000 ids in 16 buckets, 312 each, sd about 17
    assert np.bincount(h0, minlength=16).min() > 312 - 6 * 17


def test_split_by_track_keeps_rows_ids_and_order(tmp_path: Path) -> None:
    df = observations(10_000, 300)
    (bucket,) = one_bucket(tmp_path, df)
    parts = split_by_track(bucket, 5, seed=3, directory=tmp_path)
    assert len(parts) == 5 and sum(p.rows for p in parts) == len(df)
    seen: set[str] = set()
    back = []
    for p in parts:
        t = load_table([p]).to_pandas()
        assert len(t) == p.rows
        ids = set(t["icao24"])
        assert not ids & seen  # each id in one part
        seen |= ids
        back.append(t)
    got = pd.concat(back)
    # rows of one id keep their input order (lat is the input row number)
    for _, g in got.groupby("icao24"):
        assert g["lat"].is_monotonic_increasing
    assert sorted(got["lat"]) == list(df["lat"])


def test_time_ordered_frames_cover_every_row_in_time_order(tmp_path: Path) -> None:
    df = observations(20_000, 3)
    df.loc[5_000:9_000, "time"] = 500.0  # 4,001 rows at one instant: more than a frame
    (bucket,) = one_bucket(tmp_path, df)
    frames = list(time_ordered_frames(bucket, 3_000, tmp_path))
    assert max(len(f) for f in frames) <= 3_000
    assert sum(len(f) for f in frames) == len(df)
    for a, b in itertools.pairwise(frames):
        # later frames never go back in time; an instant spans frames only when it alone
        # holds more rows than a frame
        assert a["time"].max() <= b["time"].min()
        if a["time"].max() == b["time"].min():
            assert (df["time"] == b["time"].min()).sum() > 3_000
    got = pd.concat(frames)
    for _, g in got.groupby("time"):  # within a time, input order
        assert g["lat"].is_monotonic_increasing
    assert sorted(got["lat"]) == list(df["lat"])
    assert list(tmp_path.glob("*.arrow")) == []


def test_one_instant_comes_in_input_order_in_bounded_frames(tmp_path: Path) -> None:
    df = observations(10_000, 2).assign(time=7.0)
    (bucket,) = one_bucket(tmp_path, df)
    frames = list(time_ordered_frames(bucket, 2_500, tmp_path))
    assert len(frames) >= 4 and max(len(f) for f in frames) <= 2_500
    assert list(pd.concat(frames)["lat"]) == list(df["lat"])
