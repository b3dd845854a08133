"""Scanning recorded positions exactly, in bounded memory.

Entries depend on one track's fixes only, so a scan can be cut by track without
changing any record. Three ways, chosen from the input:

- **streaming**: Parquet files whose row groups are in time order (OpenSky's hourly
  hive layout) go chunk by chunk through one :class:`EntryDetector`, which carries
  each track's last fix and open entries across chunks;
- **in memory**: small inputs are screened as one batch;
- **partitioned**: anything else larger than the memory budget is spilled to disk in
  buckets by a hash of the track id (Arrow IPC files), then each bucket is scanned
  alone. The Dask engine (:mod:`skyfence.scanning.distributed`) does the same with a
  cluster shuffle.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from skyfence.airspace.zones import Zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.incidents.assess import Assessor
from skyfence.model import Entry
from skyfence.policy import Policy
from skyfence.radar import RadarSite
from skyfence.scanning.inputs import is_parquet
from skyfence.scanning.spill import RecordSpill
from skyfence.sources.files import file_format, iter_file_batches
from skyfence.sources.tabular import ColumnMap, RejectLog, iter_table_chunks, normalize_table

Progress = Callable[[int], None]


@dataclass
class ScanOptions:
    """How a scan reads, screens and judges."""

    zones: Sequence[Zone]
    policy: Policy = field(default_factory=Policy)
    gap_s: float = 300.0
    keep_path: bool = False
    columns: ColumnMap | None = None
    on_error: str = "abort"
    #: rows per chunk read from a file
    chunk_rows: int = 250_000
    #: rows held in memory at once before the scan partitions by track on disk
    memory_rows: int = 4_000_000
    spill_dir: str | None = None
    progress: Progress | None = None
    #: ICAO address -> military flag, from ``--aircraft-db``
    military_db: Mapping[str, bool] | None = None
    #: input format (``auto``: by file name) and what non-tabular formats need
    input_format: str = "auto"
    radar_sites: Sequence[RadarSite] = ()
    date: str | None = None
    ref: tuple[float, float] | None = None


@dataclass
class ScanResult:
    """Records of a scan plus what it read and what it skipped."""

    records: Sequence[dict[str, Any]]
    entries: list[Entry]
    positions: int = 0
    rejects: RejectLog = field(default_factory=RejectLog)
    dropped_duplicates: int = 0
    mode: str = "memory"


def detect_entries(
    batches: Iterable[pd.DataFrame], zones: Sequence[Zone], *, gap_s: float = 300.0,
    keep_path: bool = False, detector: EntryDetector | None = None,
) -> tuple[list[Entry], EntryDetector]:
    """Final entries (exited or open at the end) of time-ordered batches."""
    det = detector or EntryDetector(zones, DetectorConfig(gap_s=gap_s, keep_path=keep_path))
    finals: list[Entry] = []
    for b in batches:
        finals.extend(e.entry for e in det.process(b) if e.kind == "exit")
    finals.extend(e.entry for e in det.close())
    return finals, det


def finish(
    entries: list[Entry], policy: Policy, military_db: Mapping[str, bool] | None = None
) -> tuple[list[Entry], list[dict[str, Any]]]:
    """Sort entries (by entry time, zone, track) and judge them into records."""
    entries = sorted(entries, key=lambda e: (e.entered_at, e.zone, e.track))
    return entries, Assessor(policy, military_db).records(entries)


def _counted(batches: Iterable[pd.DataFrame], progress: Progress | None) -> Iterator[pd.DataFrame]:
    for b in batches:
        if progress is not None:
            progress(len(b))
        yield b


def scan_frame(df: pd.DataFrame, opts: ScanOptions) -> ScanResult:
    """Scan a DataFrame with the contract's columns (validated like a file)."""
    rejects = RejectLog()
    obs = normalize_table(df, columns=opts.columns, on_error=opts.on_error, rejects=rejects)
    found, det = detect_entries(_counted([obs], opts.progress), opts.zones, gap_s=opts.gap_s,
                                keep_path=opts.keep_path)
    entries, records = finish(found, opts.policy, opts.military_db)
    return ScanResult(records, entries, det.positions, rejects, det.dropped_out_of_order)


# --------------------------------------------------------------------------- files
def _time_source_column(path: Path, columns: ColumnMap | None) -> str | None:
    from skyfence.sources.tabular import _auto_map

    names = pq.ParquetFile(path).schema_arrow.names
    cmap = _auto_map(names, columns).apply(names)
    return next((src for src, (dst, _) in cmap.items() if dst == "time"), None)


def parquet_time_ordered(paths: Sequence[Path], columns: ColumnMap | None) -> bool:
    """True when every row group's times come after the previous row group's (from
    Parquet statistics, without reading data)."""
    last_max: Any = None
    for p in paths:
        col = _time_source_column(p, columns)
        if col is None:
            return False
        md = pq.ParquetFile(p).metadata
        idx = md.schema.to_arrow_schema().get_field_index(col)
        for rg in range(md.num_row_groups):
            st = md.row_group(rg).column(idx).statistics
            if st is None or not st.has_min_max:
                return False
            lo, hi = st.min, st.max
            if last_max is not None:
                try:
                    if lo < last_max:
                        return False
                except TypeError:
                    return False
            last_max = hi
    return True


def _row_count(paths: Sequence[Path]) -> int | None:
    if all(is_parquet(p) for p in paths):
        return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    return None


def scan_files(paths: Sequence[Path], opts: ScanOptions) -> ScanResult:
    """Scan files exactly, streaming, in memory or partitioned by track (see module)."""
    rejects = RejectLog()

    def chunks() -> Iterator[pd.DataFrame]:
        for p in paths:
            if file_format(p, opts.input_format) in ("csv", "parquet"):
                yield from iter_table_chunks(p, columns=opts.columns, on_error=opts.on_error,
                                             chunk_rows=opts.chunk_rows, rejects=rejects)
            else:
                yield from iter_file_batches(p, fmt=opts.input_format, on_error=opts.on_error,
                                             ref=opts.ref, radar_sites=opts.radar_sites,
                                             date=opts.date, rejects=rejects)

    total = _row_count(paths) if opts.input_format in ("auto", "parquet") else None
    if total is not None and total > opts.memory_rows and parquet_time_ordered(paths, opts.columns):
        return _scan_streaming(_counted(chunks(), opts.progress), opts, rejects)
    buffered: list[pd.DataFrame] = []
    held = 0
    it = _counted(chunks(), opts.progress)
    for chunk in it:
        buffered.append(chunk)
        held += len(chunk)
        if held > opts.memory_rows:
            res = _scan_partitioned(buffered, it, opts)
            res.rejects = rejects
            return res
    data = pd.concat(buffered, ignore_index=True) if len(buffered) != 1 else buffered[0]
    found, det = detect_entries([data], opts.zones, gap_s=opts.gap_s, keep_path=opts.keep_path)
    entries, records = finish(found, opts.policy, opts.military_db)
    return ScanResult(records, entries, det.positions, rejects, det.dropped_out_of_order)


def _scan_streaming(
    chunks: Iterable[pd.DataFrame], opts: ScanOptions, rejects: RejectLog
) -> ScanResult:
    """Time-ordered chunks through one detector; final records spill to disk as they
    come (entries are kept in memory only for GeoJSON paths)."""
    det = EntryDetector(opts.zones, DetectorConfig(gap_s=opts.gap_s, keep_path=opts.keep_path))
    assessor = Assessor(opts.policy, opts.military_db)
    spill = RecordSpill(opts.spill_dir)
    kept: list[Entry] = []
    for chunk in chunks:
        done = [e.entry for e in det.process(chunk) if e.kind == "exit"]
        spill.add(done, assessor.records(done))
        if opts.keep_path:
            kept.extend(done)
    done = [e.entry for e in det.close()]
    spill.add(done, assessor.records(done))
    if opts.keep_path:
        kept.extend(done)
    kept.sort(key=lambda e: (e.entered_at, e.zone, e.track))
    return ScanResult(spill.sorted(), kept, det.positions, rejects, det.dropped_out_of_order,
                      mode="streaming")


# ---------------------------------------------------------------- partition by track
def track_bucket(icao24: np.ndarray, buckets: int) -> np.ndarray:
    """Bucket of each row by a stable hash of its track id (same id, same bucket)."""
    h = pd.util.hash_array(np.asarray(icao24, dtype=object), categorize=True)
    return (h % np.uint64(buckets)).astype(np.int64)


def scan_track_partition(
    df: pd.DataFrame, zones: Sequence[Zone], gap_s: float, keep_path: bool = False
) -> tuple[list[Entry], int, int]:
    """Final entries of a partition that holds every fix of each of its tracks."""
    found, det = detect_entries([df], zones, gap_s=gap_s, keep_path=keep_path,
                                detector=cached_detector(zones, gap_s, keep_path))
    return found, det.positions, det.dropped_out_of_order


_DETECTORS: dict[tuple[int, float, bool], EntryDetector] = {}


def cached_detector(zones: Sequence[Zone], gap_s: float, keep_path: bool) -> EntryDetector:
    """A fresh-state detector that reuses the screen built for the same zones."""
    key = (hash(tuple(id(z) for z in zones)), gap_s, keep_path)
    proto = _DETECTORS.get(key)
    cfg = DetectorConfig(gap_s=gap_s, keep_path=keep_path)
    if proto is None:
        proto = _DETECTORS[key] = EntryDetector(zones, cfg)
        return EntryDetector(zones, cfg, screen=proto.screen)
    return EntryDetector(zones, cfg, screen=proto.screen)


def _scan_partitioned(
    first: list[pd.DataFrame], rest: Iterator[pd.DataFrame], opts: ScanOptions
) -> ScanResult:
    held = sum(len(b) for b in first)
    buckets = max(8, min(256, 4 * int(np.ceil(held / max(1, opts.memory_rows)))))
    with tempfile.TemporaryDirectory(prefix="skyfence-scan-", dir=opts.spill_dir) as tmp:
        writers: dict[int, ipc.RecordBatchStreamWriter] = {}
        schema: pa.Schema | None = None

        def spill(batch: pd.DataFrame) -> None:
            nonlocal schema
            b = track_bucket(batch["icao24"].to_numpy(), buckets)
            order = np.argsort(b, kind="stable")
            bs = b[order]
            cuts = np.flatnonzero(np.diff(bs)) + 1
            for part in np.split(order, cuts):
                if len(part) == 0:
                    continue
                k = int(b[part[0]])
                table = pa.Table.from_pandas(batch.iloc[part], preserve_index=False)
                if schema is None:
                    schema = table.schema
                table = table.cast(schema)
                w = writers.get(k)
                if w is None:
                    w = writers[k] = ipc.new_stream(
                        str(Path(tmp) / f"bucket-{k:03d}.arrow"), schema,
                        options=ipc.IpcWriteOptions(compression="lz4"),
                    )
                w.write_table(table)

        for batch in first:
            spill(batch)
        first.clear()
        for batch in rest:
            spill(batch)
        for w in writers.values():
            w.close()
        assessor = Assessor(opts.policy, opts.military_db)
        finished = RecordSpill(opts.spill_dir)
        kept: list[Entry] = []
        positions = dropped = 0
        for k in sorted(writers):
            with ipc.open_stream(str(Path(tmp) / f"bucket-{k:03d}.arrow")) as reader:
                df = reader.read_all().to_pandas()
            f, n, d = scan_track_partition(df, opts.zones, opts.gap_s, opts.keep_path)
            finished.add(f, assessor.records(f))
            if opts.keep_path:
                kept.extend(f)
            positions += n
            dropped += d
    kept.sort(key=lambda e: (e.entered_at, e.zone, e.track))
    return ScanResult(finished.sorted(), kept, positions, dropped_duplicates=dropped,
                      mode="partitioned")
