"""When a bounded scan may stream Parquet row groups: their times must come in order.

``parquet_time_ordered`` reads only the row groups' statistics (each group's smallest
and largest time); the cases below are written by hand, with the answer next to each.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from skyfence.scanning.engine import parquet_time_ordered


def _write(path: Path, groups: list[list[float]]) -> Path:
    """A Parquet file with one row group per list of times (opensky column names)."""
    with pq.ParquetWriter(path, pa.schema([("time", pa.float64()), ("icao24", pa.string()),
                                           ("lat", pa.float64()), ("lon", pa.float64())])
                          ) as w:
        for times in groups:
            n = len(times)
            w.write_table(pa.table({"time": times, "icao24": ["4b1814"] * n,
                                    "lat": [47.0] * n, "lon": [8.0] * n}))
    assert pq.ParquetFile(path).metadata.num_row_groups == len(groups)
    return path


def test_row_groups_are_in_time_order_only_when_each_starts_at_or_after_the_last_end(
        tmp_path: Path) -> None:
    # [0, 10] then [10, 20]: the second starts where the first ends: in order
    assert parquet_time_ordered([_write(tmp_path / "a.parquet", [[0.0, 10.0], [10.0, 20.0]])],
                                None)
    # [0, 10] then [5, 15]: the second starts (5) before the first ends (10), though
    # after the first starts (0): not in order
    assert not parquet_time_ordered(
        [_write(tmp_path / "b.parquet", [[0.0, 10.0], [5.0, 15.0]])], None)
    # the same across two files: the second file's first group starts before the first
    # file's last group ends
    assert not parquet_time_ordered([_write(tmp_path / "c.parquet", [[0.0, 10.0]]),
                                     _write(tmp_path / "d.parquet", [[9.0, 12.0]])], None)
