"""``skyfence bench memory``: a 100 M-row per-aircraft scan within its memory budget.

Ours: ``skyfence scan FILE --zone EST --zone LVA --zone LTU --zone POL --all-entries
--format jsonl -o OUT --memory 2G`` on the per-aircraft Baltic file
(:mod:`skyfence.benchmarks.baltic`: 200,000 tracks of 500 fixes, aircraft by aircraft,
so the scan must partition it by track), run in a child process whose peak resident
memory and wall time are measured (:mod:`skyfence.benchmarks.peak_rss`).

Baseline, same run: the in-memory scan (``--memory 64G``, one batch) of the file's
first 10 % (its first 20,000 aircraft, written by the same generator, so the same
rows). The ratio compares our rows per second at full size and bounded memory with an
unbounded scan's at a tenth of the size: what bounding costs in speed. The records of
the slice's tracks in our output must equal the slice's in-memory records byte for
byte (``records_equal_on_slice``).

Sizes and places come from the environment: ``SKYFENCE_BENCH_ROWS`` (100,000,000; a
multiple of 500), ``SKYFENCE_BENCH_SLICE_ROWS`` (a tenth), ``SKYFENCE_BENCH_MEMORY`` (2G),
``SKYFENCE_BENCH_DIR`` (``/tmp/skyfence-bench``: the data files, about 28 bytes per row,
are kept there and reused; the scans need about as much again while they run).
"""

from __future__ import annotations

import json as jsonlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from skyfence.benchmarks import record
from skyfence.benchmarks.peak_rss import Measured, run_skyfence

ZONES = ("EST", "LVA", "LTU", "POL")
FIXES = 500


def _data(directory: Path, rows: int) -> Path:
    """The per-aircraft file of ``rows`` rows (written by a child process, once)."""
    path = directory / f"baltic-{rows}.parquet"
    if not path.exists():
        part = path.with_suffix(".partial")
        subprocess.run([sys.executable, "-m", "skyfence.benchmarks.baltic", str(part),
                        "--aircraft", str(rows // FIXES)], check=True,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                       stdout=subprocess.DEVNULL)
        part.rename(path)
    return path


def _scan(path: Path, out: Path, memory: str) -> Measured:
    args = ["scan", str(path), *(a for z in ZONES for a in ("--zone", z)), "--all-entries",
            "--format", "jsonl", "-o", str(out), "--memory", memory]
    run = run_skyfence(args)
    if run.exit_code != 0:
        raise RuntimeError(f"skyfence {' '.join(args)}: exit {run.exit_code}: {run.stderr}")
    return run


def _slice_ids(path: Path) -> set[str]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    ids = pq.read_table(path, columns=["icao24"]).column("icao24")
    return set(pc.unique(ids).to_pylist())


def _track_lines(out: Path, tracks: set[str]) -> tuple[list[bytes], int]:
    """Lines of ``out`` whose record's track is in ``tracks``, and the number of lines."""
    kept, n = [], 0
    with out.open("rb") as f:
        for line in f:
            n += 1
            if jsonlib.loads(line)["track"] in tracks:
                kept.append(line)
    return kept, n


def run(json: bool = False, *, rows: int | None = None, slice_rows: int | None = None,
        memory: str | None = None, directory: str | None = None) -> dict[str, Any]:
    """Measure and return the benchmark record."""
    rows = rows or int(os.environ.get("SKYFENCE_BENCH_ROWS", 100_000_000))
    slice_rows = slice_rows or int(os.environ.get("SKYFENCE_BENCH_SLICE_ROWS", rows // 10))
    memory = memory or os.environ.get("SKYFENCE_BENCH_MEMORY", "2G")
    where = Path(directory or os.environ.get("SKYFENCE_BENCH_DIR", "/tmp/skyfence-bench"))
    where.mkdir(parents=True, exist_ok=True)
    big, small = _data(where, rows), _data(where, slice_rows)
    ours_out, base_out = where / "ours.jsonl", where / "slice-in-memory.jsonl"
    try:
        ours = _scan(big, ours_out, memory)
        base = _scan(small, base_out, "64G")
        slice_lines, total = _track_lines(ours_out, _slice_ids(small))
        equal = slice_lines == base_out.read_bytes().splitlines(keepends=True)
    finally:
        ours_out.unlink(missing_ok=True)
        base_out.unlink(missing_ok=True)
    return record(
        "memory", rows / ours.wall_s, {"in_memory_slice": slice_rows / base.wall_s}, rows,
        unit="rows per second, per-aircraft Parquet to JSON Lines, EST+LVA+LTU+POL",
        peak_rss_mb=round(ours.peak_rss_mb), memory_budget=memory,
        seconds=round(ours.wall_s, 1), records=total,
        baseline_points=slice_rows, baseline_peak_rss_mb=round(base.peak_rss_mb),
        baseline_seconds=round(base.wall_s, 1), slice_records=len(slice_lines),
        records_equal_on_slice=equal, rss_method=ours.method,
        command=f"skyfence scan {big} " + " ".join(f"--zone {z}" for z in ZONES)
        + f" --all-entries --format jsonl -o OUT --memory {memory}",
    )
