"""Synthetic Baltic state vectors laid out aircraft by aircraft, for large-scan benchmarks.

A per-aircraft export (one aircraft's fixes, then the next aircraft's) is the layout
that cannot be streamed in time order: every track starts at a random time, so the
file as a whole is not time-ordered and a scan must partition it by track. This module
writes such files at any size, block by block (``aircraft_per_block`` aircraft per
Parquet row group), in bounded memory.

Each aircraft flies ``fixes`` fixes every ``interval_s`` seconds from a random start
time within one day, from a random point of the box lon 13-30 E, lat 49-60.5 N (the
borders of Estonia, Latvia, Lithuania and Poland with their neighbours and the Baltic
Sea), on a random heading that wanders slowly, at a speed typical of an airliner, a
propeller aircraft or a helicopter. Every block is drawn from its own seed
(``(seed, block)``), so the first ``k`` blocks of a large file are exactly the file
of ``k`` blocks: a 10 M-row file is a slice of the 100 M-row file.

>>> df = aircraft_block(0, 3, fixes=4)
>>> steps = df.groupby("icao24")["time"].diff().dropna()
>>> len(df), df["icao24"].nunique(), bool((steps == 10).all())
(12, 3, True)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: the box tracks start in: lon, lat (degrees)
LON_RANGE = (13.0, 30.0)
LAT_RANGE = (49.0, 60.5)
#: start times are drawn in one day from this instant (2025-09-10T00:00:00Z)
T0_S = 1_757_462_400
#: metres per degree of latitude (mean), for the dead-reckoning step
M_PER_DEG = 111_320.0
#: aircraft per block (one Parquet row group each)
AIRCRAFT_PER_BLOCK = 2_000
#: one in this many aircraft carries a non-ICAO id (a radar track: non-cooperative)
NON_ICAO_EVERY = 50


def _address(index: np.ndarray) -> np.ndarray:
    """A distinct 24-bit address per aircraft index (an odd multiplier is a bijection
    modulo 2^24), spread over every state's block."""
    return (index.astype(np.int64) * 0x9E3779B1 + 0x3C6EF3) % (1 << 24)


def aircraft_block(
    block: int, aircraft: int, *, fixes: int = 500, interval_s: int = 10, seed: int = 2025,
) -> pd.DataFrame:
    """State vectors of aircraft ``block * aircraft .. + aircraft - 1``, aircraft by
    aircraft, each in time order (OpenSky state-vector columns and SI units)."""
    rng = np.random.default_rng([seed, block])
    first = block * aircraft
    index = np.arange(first, first + aircraft)
    start = T0_S + rng.integers(0, 86_400, aircraft)
    time = start[:, None] + interval_s * np.arange(fixes)[None, :]
    kind = rng.choice(3, size=aircraft, p=[0.7, 0.2, 0.1])  # airliner, propeller, helicopter
    speed = np.choose(kind, [rng.uniform(200, 250, aircraft), rng.uniform(60, 120, aircraft),
                             rng.uniform(20, 60, aircraft)])
    cruise = np.choose(kind, [rng.uniform(9_000, 12_000, aircraft),
                              rng.uniform(1_500, 6_000, aircraft),
                              rng.uniform(150, 900, aircraft)])
    heading = rng.uniform(0, 360, aircraft)[:, None] + np.cumsum(
        rng.normal(0, 1.5, (aircraft, fixes)), axis=1)
    v = speed[:, None] + rng.normal(0, 1.0, (aircraft, fixes))
    step_m = v * interval_s
    h = np.radians(heading)
    lat = rng.uniform(*LAT_RANGE, aircraft)[:, None] + np.cumsum(
        step_m * np.cos(h), axis=1) / M_PER_DEG
    lat = np.clip(lat, -89.0, 89.0)
    lon = rng.uniform(*LON_RANGE, aircraft)[:, None] + np.cumsum(
        step_m * np.sin(h) / (M_PER_DEG * np.cos(np.radians(lat))), axis=1)
    baro = cruise[:, None] + rng.normal(0, 5.0, (aircraft, fixes))
    addr = _address(index)
    ids = np.array([f"{a:06x}" for a in addr.tolist()], dtype=object)
    radar = index % NON_ICAO_EVERY == NON_ICAO_EVERY - 1
    ids[radar] = [f"R{i:07d}" for i in index[radar].tolist()]
    callsign = np.array([f"BAL{i % 10_000:04d}" for i in index.tolist()], dtype=object)
    callsign[rng.random(aircraft) < 0.1] = None
    squawk = np.array([f"{s:04o}" for s in rng.integers(0o1000, 0o7000, aircraft).tolist()],
                      dtype=object)
    squawk[rng.random(aircraft) < 0.002] = "7700"

    def per_fix(values: np.ndarray) -> np.ndarray:
        return np.repeat(values, fixes)

    return pd.DataFrame({
        "time": time.ravel(),
        "icao24": per_fix(ids),
        "lat": np.round(lat.ravel(), 6),
        "lon": np.round(lon.ravel(), 6),
        "velocity": np.round(v.ravel(), 2),
        "heading": np.round(np.mod(heading, 360).ravel(), 2),
        "vertrate": np.zeros(aircraft * fixes),
        "callsign": per_fix(callsign),
        "onground": np.zeros(aircraft * fixes, bool),
        "squawk": per_fix(squawk),
        "baroaltitude": np.round(baro.ravel(), 1),
        "geoaltitude": np.round(baro.ravel() + 45.0, 1),
    })


def write_per_aircraft_parquet(
    path: str | Path, aircraft: int, *, fixes: int = 500, interval_s: int = 10,
    seed: int = 2025, aircraft_per_block: int = AIRCRAFT_PER_BLOCK,
) -> int:
    """Write ``aircraft`` aircraft's state vectors to a Parquet file, aircraft by
    aircraft, one row group per block; returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for block in range(int(np.ceil(aircraft / aircraft_per_block))):
            n = min(aircraft_per_block, aircraft - block * aircraft_per_block)
            df = aircraft_block(block, aircraft_per_block, fixes=fixes, interval_s=interval_s,
                                seed=seed)
            table = pa.Table.from_pandas(df.iloc[: n * fixes], preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table, row_group_size=len(table))
            rows += len(table)
    finally:
        if writer is not None:
            writer.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m skyfence.benchmarks.baltic OUT.parquet [--aircraft N]``: write a file."""
    import argparse
    import time

    ap = argparse.ArgumentParser(
        prog="python -m skyfence.benchmarks.baltic",
        description="Write synthetic Baltic state vectors aircraft by aircraft (Parquet).")
    ap.add_argument("output", help="the Parquet file to write")
    ap.add_argument("--aircraft", type=int, default=200_000,
                    help="aircraft (default 200,000: 100 M rows at 500 fixes)")
    ap.add_argument("--fixes", type=int, default=500, help="fixes per aircraft (500)")
    ap.add_argument("--interval", type=int, default=10, help="seconds between fixes (10)")
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args(argv)
    start = time.perf_counter()
    rows = write_per_aircraft_parquet(args.output, args.aircraft, fixes=args.fixes,
                                      interval_s=args.interval, seed=args.seed)
    size = Path(args.output).stat().st_size
    print(f"{args.output}: {rows:,} rows, {args.aircraft:,} aircraft, {size / 1e9:.2f} GB "
          f"in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
