"""The memory budget of a scan, and every size derived from it.

A scan is given a budget (``--memory``, 2 GiB by default) for the whole process. What
the process holds whatever the input (the interpreter and libraries, the zones, their
lookup index and boundaries, a run of finished records) is subtracted first; what is
left, the *working* memory, sets how many rows are read per chunk, how many rows are
screened in memory at once (more rows than that and the scan partitions by track on
disk), and so how many buckets a partitioned scan needs. Every figure is a constant
below, measured on this project's per-aircraft Baltic workload (500-fix tracks over
EST, LVA, LTU and POL: :mod:`skyfence.benchmarks.baltic`) by
``python scripts/measure_scan_memory.py`` (peak resident memory, ``VmHWM``, reset
before each step), then rounded up. Zones are estimated from their own sizes (vertices,
boundary length, index arrays), so ``--zone all`` costs what it costs.

A budget smaller than the fixed part plus a minimal working set is a usage error that
says how much is needed.

>>> parse_memory("2G"), parse_memory("512M"), parse_memory("1.5GiB"), parse_memory("768")
(2048, 512, 1536, 768)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely

from skyfence.airspace.zones import Zone
from skyfence.errors import UsageError
from skyfence.scanning.partition import MAX_FANOUT

MIB = 1 << 20
#: the default budget (MiB)
DEFAULT_MEMORY_MB = 2048

# ---------------------------------------------------------------- measured constants
# Measured by scripts/measure_scan_memory.py on CPython 3.11, numpy 2.4, pandas 2.3,
# pyarrow 26 (mimalloc pool), Linux x86-64; the measured figure is in brackets, the
# constant is rounded up from it.
#: the interpreter with numpy, pandas, pyarrow, shapely, scipy and skyfence imported
#: [166 MB; 157 MB after the fast paths of issue 14]
BASE_BYTES = 175 * MIB
#: the bundled national airspaces, loaded as soon as one national zone is used [106 MB]
NATIONAL_BUNDLE_BYTES = 110 * MIB
#: a custom zone's geometry (prepared, with its prepared boundary), per vertex
VERTEX_BYTES = 100
#: the lookup index in memory, per byte of its arrays (:attr:`ZoneIndex.nbytes`)
#: [EST+LVA+LTU+POL: 13 MB for 6.3 MB of arrays; all states: 70 MB for 44.7 MB]
INDEX_FACTOR = 2.1
#: a zone boundary's segment arrays and crossing index, per segment (one per vertex), and
#: its 1-km pieces with unit vectors and KD-tree, per piece (estimated as vertices plus
#: boundary km) [all states: 903 MB for 1.90 M segments and 2.49 M pieces, 983 MB with
#: the distance fields' first cells, the estimate 1,043 MB; since the crossing tree
#: holds runs of eight segments, not a line per segment (3 Dec, VmHWM of
#: ``scripts/measure_scan_memory.py --step zones --zones all``): 626 MB against 1,070
#: MB for the code before, in one session; the estimate gives 862 MB]
SEGMENT_BYTES = 140
PIECE_BYTES = 200
#: reading: what a Parquet reader and its threads keep whatever the chunk size (the
#: intercept of the per-row line below) [120 MB]
READER_BYTES = 125 * MIB
#: reading and partitioning rows: the Parquet/CSV chunk, its pandas frame, the
#: normalized batch, its Arrow copy and the reordered copy written to the buckets, per
#: row [slope between 250,000 and 1,000,000-row chunks: 680-700 B; 501 B since text
#: columns are read as categoricals]
READ_ROW_BYTES = 540
#: screening rows in memory: the rows as read (Parquet chunks joined, or a bucket read
#: back), the detector's working arrays and the entries found, per row [slope between
#: 250,000 and 1,000,000 rows: 478 B joined from Parquet chunks, 365 B from a bucket;
#: with the grid candidates and the distance field: 434 B and 354 B]. Threads screen
#: side by side groups of at most 1/workers of the rows (:mod:`~skyfence.scanning.engine`)
DETECT_ROW_BYTES = 500
#: a batch split over threads by track (its copy in parts beside it), per row: the
#: normalized batch's eleven 8-byte columns (text as pointers to shared strings) [88 B]
SPLIT_ROW_BYTES = 100
#: a track's state in a streaming detector (last fix, key, slot), per tracked id
#: [456 B over 200,000 ids; 474 B]
TRACK_BYTES = 500
#: a finished record held in a sort run (JSON line, key, list slot) [865 B; 889 B]
RECORD_BYTES = 1_000

# ---------------------------------------------------------------- policy
#: part of the working memory kept back for what the constants do not see (allocator
#: fragmentation, Arrow buffers not yet returned)
SAFETY_FRACTION = 0.10
#: memory for one run of finished records
RECORD_RUN_BYTES = 32 * MIB
#: a bucket is planned this full, so that hash variance rarely forces a re-split
BUCKET_FILL = 0.8
#: fewest rows screened at once: below that the budget is refused
MIN_ROWS = 20_000
#: most rows per read chunk (larger chunks are no faster)
MAX_CHUNK_ROWS = 500_000
#: bucket files written at once (open files)
MAX_BUCKETS = MAX_FANOUT

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_UNIT_MB = {"": 1.0, "k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 * 1024}


def parse_memory(text: str) -> int:
    """A memory size in MiB from ``2G``, ``512M``, ``1.5GiB`` or a bare number of MiB."""
    m = _SIZE.fullmatch(str(text))
    if m is None:
        raise UsageError(f"--memory {text}: expected a size such as 2G or 512M")
    mb = float(m.group(1)) * _UNIT_MB[m.group(2).lower()]
    if not mb >= 1:
        raise UsageError(f"--memory {text}: must be at least 1M")
    return int(mb)


def _mb(n: float) -> str:
    return f"{n / MIB:,.0f} MB"


def zone_bytes(zones: Sequence[Zone], screen: Any = None) -> dict[str, int]:
    """Estimated memory of the zones, their index and their boundaries, by part."""
    geoms = [z.geometry for z in zones]
    vertices = int(shapely.get_num_coordinates(geoms).sum()) if geoms else 0
    rings = shapely.get_rings(shapely.get_parts(geoms)) if geoms else []
    # boundary length in km, one degree taken as 111.32 km (longitude: an overestimate)
    length_km = float(shapely.length(rings).sum()) * 111.32 if len(rings) else 0.0
    custom = [z.geometry for z in zones if z.kind != "national"]
    out = {
        "zones": (NATIONAL_BUNDLE_BYTES if len(custom) < len(zones) else 0)
        + VERTEX_BYTES * (int(shapely.get_num_coordinates(custom).sum()) if custom else 0),
        "index": int(INDEX_FACTOR * getattr(screen, "nbytes", 0)),
        "boundaries": SEGMENT_BYTES * vertices + int(PIECE_BYTES * (vertices + length_km)),
    }
    return out


@dataclass(frozen=True)
class MemoryPlan:
    """Sizes of one scan, all derived from its budget (see the module)."""

    budget_bytes: int
    #: what the process holds whatever the input, by part
    fixed: dict[str, int] = field(default_factory=dict)
    #: rows per chunk read from a file
    chunk_rows: int = MAX_CHUNK_ROWS
    #: rows screened in memory at once: larger inputs are partitioned; rows per bucket
    bucket_rows: int = 4_000_000
    #: finished records held before a sorted run goes to disk
    run_records: int = RECORD_RUN_BYTES // RECORD_BYTES

    @property
    def fixed_bytes(self) -> int:
        """The sum of :attr:`fixed`."""
        return sum(self.fixed.values())

    @property
    def work_bytes(self) -> int:
        """Memory left for rows (budget less the fixed part and the safety margin)."""
        return int((self.budget_bytes - self.fixed_bytes) * (1 - SAFETY_FRACTION))

    def buckets_for(self, rows: int) -> int:
        """Buckets for ``rows`` rows so that each is about :data:`BUCKET_FILL` full."""
        return max(2, min(MAX_BUCKETS, math.ceil(rows / (self.bucket_rows * BUCKET_FILL))))

    def streaming_rows(self, tracked: int) -> int:
        """Rows a streaming detector may screen at once while it keeps ``tracked`` ids."""
        free = self.work_bytes - tracked * TRACK_BYTES
        return max(0, min(self.bucket_rows, free // DETECT_ROW_BYTES))

    def describe(self) -> str:
        """One line: the budget, the fixed part and the derived sizes."""
        parts = ", ".join(f"{k} {_mb(v)}" for k, v in self.fixed.items())
        return (f"memory budget {_mb(self.budget_bytes)}: fixed {_mb(self.fixed_bytes)} "
                f"({parts}); {self.bucket_rows:,} rows in memory at once, "
                f"{self.chunk_rows:,} rows per read")


def plan_memory(
    memory_mb: int, zones: Sequence[Zone], screen: Any = None, *,
    chunk_rows: int | None = None, bucket_rows: int | None = None,
) -> MemoryPlan:
    """The sizes of a scan of ``zones`` within ``memory_mb`` MiB.

    ``chunk_rows`` and ``bucket_rows`` override the derived sizes (tests and
    benchmarks that want many small buckets); the budget is still checked.
    """
    budget = int(memory_mb) * MIB
    fixed = {"interpreter": BASE_BYTES, **zone_bytes(zones, screen), "reader": READER_BYTES,
             "records": RECORD_RUN_BYTES}
    plan = MemoryPlan(budget, fixed)
    rows = plan.work_bytes // DETECT_ROW_BYTES
    if rows < MIN_ROWS:
        need = math.ceil((plan.fixed_bytes + MIN_ROWS * DETECT_ROW_BYTES / (1 - SAFETY_FRACTION))
                         / MIB)
        parts = ", ".join(f"{k} {_mb(v)}" for k, v in fixed.items())
        raise UsageError(
            f"--memory {memory_mb}M is below what this scan needs: {_mb(plan.fixed_bytes)} "
            f"for the {len(zones)} zone(s) and the program ({parts}) plus "
            f"{MIN_ROWS:,} rows; give --memory {need}M or more")
    rows = bucket_rows or rows
    chunk = chunk_rows or min(MAX_CHUNK_ROWS, plan.work_bytes // READ_ROW_BYTES, rows)
    return MemoryPlan(budget, fixed, chunk_rows=max(1, chunk), bucket_rows=max(1, rows),
                      run_records=max(1, RECORD_RUN_BYTES // RECORD_BYTES))
