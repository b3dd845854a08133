"""``skyfence bench scan``: end-to-end scan of Parquet files against every state.

Ours: :func:`skyfence.scanning.engine.scan_files` on time-ordered Parquet (OpenSky's
layout) with ``--zone all``. Baseline: :mod:`naive_scan` (pandas + shapely, track by
track) on the first rows of the same data, since it is too slow for all of it.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from skyfence.benchmarks import record
from skyfence.benchmarks.workload import replicated_traffic


def run(json: bool = False, *, rows: int = 2_000_000, baseline_rows: int = 3_000,
        ) -> dict[str, Any]:
    """Measure and return the benchmark record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from skyfence.airspace.zones import all_national_zones
    from skyfence.benchmarks.naive_scan import naive_scan
    from skyfence.scanning.engine import ScanOptions, scan_files

    data = replicated_traffic(rows)
    zones = all_national_zones()
    with tempfile.TemporaryDirectory(prefix="skyfence-bench-") as tmp:
        path = Path(tmp) / "states.parquet"
        pq.write_table(pa.Table.from_pandas(data, preserve_index=False), path,
                       row_group_size=500_000)
        del data
        start = time.perf_counter()
        res = scan_files([path], ScanOptions(zones=zones, memory_rows=1_000_000,
                                             chunk_rows=500_000))
        ours_s = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sub = pq.read_table(path).slice(0, baseline_rows).to_pandas()
    start = time.perf_counter()
    naive = naive_scan(sub, zones, depth=True)
    base_s = time.perf_counter() - start
    return record(
        "scan", res.positions / ours_s, {"pandas_shapely": len(sub) / base_s}, res.positions,
        unit="positions per second, Parquet to records, all 250 states",
        seconds=round(ours_s, 2), mode=res.mode, entries=len(res.records),
        peak_rss_mb=round(peak_mb), baseline_points=len(sub), baseline_entries=len(naive),
    )
