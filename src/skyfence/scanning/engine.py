"""Scanning recorded positions exactly, within a memory budget.

Entries depend on one track's fixes only, so a scan can be cut by track without
changing any record. Every size comes from the scan's budget (``--memory``, see
:mod:`skyfence.scanning.budget`); one of three ways is chosen from the input:

- **in memory**: inputs with no more rows than the budget's ``bucket_rows`` are
  screened as one batch;
- **streaming**: larger Parquet inputs whose row groups are in time order (OpenSky's
  hourly hive layout) go through one :class:`EntryDetector`, several whole row groups
  per batch, which carries each track's last fix and open entries across batches and
  forgets tracks silent for longer than the gap, so its state is the live tracks only;
- **partitioned**: anything else is written to bucket files by a hash of the track id
  (:mod:`skyfence.scanning.partition`; the bucket count from the row count in the
  Parquet metadata, or the most buckets when it is unknown), then screened bucket by
  bucket, small buckets together. A bucket too large for the budget is split again
  with another hash seed; one that no hash splits (an enormous track) is cut by time
  and streamed through one detector. The Dask engine
  (:mod:`skyfence.scanning.distributed`) does the same with a cluster shuffle.

Finished records go to a :class:`~skyfence.scanning.spill.RecordSpill` as they are
found and come back sorted by an external merge, so they never all sit in memory.
"""
from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from skyfence.airspace.zones import Zone
from skyfence.detect.entries import DetectorConfig, EntryDetector, EntryEvent
from skyfence.detect.integrity import IntegrityConfig
from skyfence.detect.screen import Screen
from skyfence.errors import InputError, OnError, UsageError
from skyfence.frames import concat_rows
from skyfence.incidents.assess import Assessor
from skyfence.model import Entry
from skyfence.policy import Policy
from skyfence.radar import RadarSite
from skyfence.records import EntryRecord
from skyfence.scanning.budget import (
    DEFAULT_MEMORY_MB,
    DETECT_ROW_BYTES,
    MAX_BUCKETS,
    SPLIT_ROW_BYTES,
    MemoryPlan,
    plan_memory,
)
from skyfence.scanning.clustered import in_groups, runs_by_track, whole_track_frames
from skyfence.scanning.heap import give_back_near_budget, reuse_freed_memory
from skyfence.scanning.inputs import is_parquet
from skyfence.scanning.local_pool import (
    PARALLEL_MIN_ROWS,
    local_workers,
    run_overlapped,
    run_parts,
    track_rows,
    warm_prepared,
)
from skyfence.scanning.long_lived import frozen
from skyfence.scanning.partition import (
    Bucket,
    BucketWriter,
    hash_buckets,
    load_table,
    split_by_track,
    time_ordered_frames,
    to_bucket_table,
    to_frame,
)
from skyfence.scanning.spill import RecordSpill
from skyfence.sources.files import file_format, iter_file_batches
from skyfence.sources.tabular import (
    ColumnMap,
    RejectLog,
    iter_table_chunks,
    normalize_table,
    open_parquet,
    parquet_frame,
    parquet_source_column,
)

Progress = Callable[[int], None]
log = logging.getLogger(__name__)


@dataclass
class ScanOptions:
    """How a scan reads, screens and judges."""

    zones: Sequence[Zone]
    policy: Policy = field(default_factory=Policy)
    gap_s: float = 300.0
    keep_path: bool = False
    columns: ColumnMap | None = None
    on_error: OnError = "abort"
    #: memory budget of the whole scan (MiB); every size below is derived from it
    memory_mb: int = DEFAULT_MEMORY_MB
    #: rows per chunk read from a file (None: from the budget)
    chunk_rows: int | None = None
    #: rows screened in memory at once, and so per bucket (None: from the budget)
    memory_rows: int | None = None
    spill_dir: str | None = None
    progress: Progress | None = None
    #: ICAO address -> military flag, from ``--aircraft-db``
    military_db: Mapping[str, bool] | None = None
    #: input format (``auto``: by file name) and what non-tabular formats need
    input_format: str = "auto"
    radar_sites: Sequence[RadarSite] = ()
    date: str | None = None
    ref: tuple[float, float] | None = None
    #: correlate tracks that are not ICAO addresses (radar tracks in a table) with the
    #: transponder tracks, as radar files always are; the input is then read whole
    fuse: bool = False
    #: threads screening tracks at once (None: every core; see
    #: :mod:`~skyfence.scanning.local_pool`)
    workers: int | None = None
    #: where the zones' distance fields are kept between scans (None: the default
    #: cache directory, ``$XDG_CACHE_HOME/skyfence``; see
    #: :mod:`skyfence.airspace.depth_cache`)
    depth_cache_dir: Path | None = None
    #: keep the distance fields on disk at all (False: measured afresh by every scan)
    depth_cache: bool = True
    #: the scan's detector prototype (screen, boundaries), built on first use
    prototype: EntryDetector | None = field(default=None, repr=False, compare=False)


@dataclass
class ScanResult:
    """Records of a scan plus what it read and what it skipped."""

    records: Sequence[EntryRecord]
    entries: list[Entry]
    positions: int = 0
    rejects: RejectLog = field(default_factory=RejectLog)
    dropped_duplicates: int = 0
    mode: str = "memory"
    #: the sizes the scan used (file scans)
    plan: MemoryPlan | None = None
    #: how a partitioned scan cut its input
    partition: PartitionStats | None = None
    #: most tracks a streaming scan's detector held at once
    tracked_peak: int = 0
    #: what the detector screened after fusion (fused scans asked to keep it)
    screened: pd.DataFrame | None = None


def detect_entries(
    batches: Iterable[pd.DataFrame], zones: Sequence[Zone], *, gap_s: float = 300.0,
    keep_path: bool = False, detector: EntryDetector | None = None,
) -> tuple[list[Entry], EntryDetector]:
    """Final entries (exited or open at the end) of time-ordered batches."""
    det = detector or EntryDetector(zones, DetectorConfig(gap_s=gap_s, keep_path=keep_path,
                                                          entries=False))
    finals: list[Entry] = []
    for b in batches:
        finals.extend(e.entry for e in det.process(b) if e.kind == "exit")
    finals.extend(e.entry for e in det.close())
    return finals, det


def finish(
    entries: list[Entry], policy: Policy, military_db: Mapping[str, bool] | None = None
) -> tuple[list[Entry], list[EntryRecord]]:
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
def parquet_time_ordered(paths: Sequence[Path], columns: ColumnMap | None) -> bool:
    """True when every row group's times come after the previous row group's (from
    Parquet statistics, without reading data)."""
    last_max: Any = None
    try:
        for p in paths:
            pf = pq.ParquetFile(p)
            col = parquet_source_column(pf, columns, "time")
            if col is None:
                return False
            md = pf.metadata
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
    except (pa.ArrowException, OSError):
        return False  # unreadable: the reader reports it with the file name
    return True


def _row_groups(paths: Sequence[Path]) -> list[int] | None:
    """Rows of every row group of Parquet ``paths`` (from metadata), None when any input
    is not a readable Parquet file."""
    if not all(is_parquet(p) for p in paths):
        return None
    out: list[int] = []
    try:
        for p in paths:
            md = pq.ParquetFile(p).metadata
            out.extend(md.row_group(g).num_rows for g in range(md.num_row_groups))
    except (pa.ArrowException, OSError):
        return None  # unreadable: the reader reports it with the file name
    return out


def _prototype(opts: ScanOptions) -> EntryDetector:
    """The scan's detector prototype: one screen and one set of boundaries per scan,
    kept on the options object (and gone with it), never in a module-level cache."""
    if opts.prototype is None:
        cache = None
        if opts.depth_cache:
            from skyfence.airspace.index import default_cache_dir

            cache = opts.depth_cache_dir or default_cache_dir()
        opts.prototype = EntryDetector(opts.zones, DetectorConfig(
            gap_s=opts.gap_s, keep_path=opts.keep_path, entries=False,
            integrity=IntegrityConfig(receiver=opts.ref), depth_cache_dir=cache))
    return opts.prototype


def fresh_detector(opts: ScanOptions) -> EntryDetector:
    """A detector with no track state that reuses the scan's screen and boundaries."""
    return _prototype(opts).fresh()


def scan_plan(opts: ScanOptions) -> MemoryPlan:
    """The memory plan of a scan with ``opts`` (raises UsageError if the budget is too
    small for its zones)."""
    proto = _prototype(opts)
    return plan_memory(opts.memory_mb, opts.zones, proto.screen, chunk_rows=opts.chunk_rows,
                       bucket_rows=opts.memory_rows)


def scan_files(paths: Sequence[Path], opts: ScanOptions) -> ScanResult:
    """Scan files exactly within ``opts.memory_mb``: in memory, streaming or partitioned
    by track (see the module). The distance fields the scan filled are kept on disk
    for the next scan (``opts.depth_cache``)."""
    with frozen():  # the collector walks only what the scan makes
        result = _scan_files(paths, opts)
    if opts.prototype is not None:
        opts.prototype.save_depth_fields()
    return result


def _scan_files(paths: Sequence[Path], opts: ScanOptions) -> ScanResult:
    if opts.fuse or any(file_format(p, opts.input_format) == "asterix" for p in paths):
        from skyfence.scanning.fused import scan_fused

        return scan_fused(paths, opts)  # radar: tracked and fused with the rest
    plan = scan_plan(opts)
    log.debug("%s", plan.describe())
    rejects = RejectLog()

    def chunks(rows: int = plan.chunk_rows) -> Iterator[pd.DataFrame]:
        for p in paths:
            if file_format(p, opts.input_format) in ("csv", "parquet"):
                yield from iter_table_chunks(p, columns=opts.columns, on_error=opts.on_error,
                                             chunk_rows=rows, rejects=rejects)
            else:
                yield from iter_file_batches(p, fmt=opts.input_format, on_error=opts.on_error,
                                             ref=opts.ref, rejects=rejects)

    # freed arrays are reused, not mapped anew; a scan the budget binds gives them back
    # after each batch (see skyfence.scanning.heap)
    reuse_freed_memory(opts.memory_mb)
    groups = _row_groups(paths) if opts.input_format in ("auto", "parquet") else None
    total = sum(groups) if groups is not None else None
    if total is not None and total > plan.bucket_rows:
        # stream when whole row groups come in time order and two fit in memory at once
        if 2 * max(groups or [0]) <= plan.streaming_rows(0) and \
                parquet_time_ordered(paths, opts.columns):
            return _scan_streaming(paths, opts, plan, rejects)
        workers = local_workers(opts.workers)
        # half a worker's share per frame: a frame is joined from the chunks it holds
        # (a copy beside them) while the reader holds the next chunk
        share = max(1, plan.bucket_rows // (2 * workers))
        if runs_by_track(paths, opts.columns, share):
            # the next frames are read while these are screened: chunks of no more
            # than a frame, so the reader holds no more than what it makes
            res = _scan_clustered(_counted(chunks(min(plan.chunk_rows, share)), opts.progress),
                                  opts, plan, share)
        else:
            res = _scan_partitioned(_counted(chunks(), opts.progress), opts, plan, total)
        res.rejects = rejects
        return res
    buffered: list[pd.DataFrame] = []
    held = 0
    it = _counted(chunks(), opts.progress)
    for chunk in it:
        buffered.append(chunk)
        held += len(chunk)
        if held > plan.bucket_rows:
            res = _scan_partitioned(_drain(buffered, it), opts, plan, None)
            res.rejects = rejects
            return res
    data = concat_rows(buffered)
    buffered.clear()
    workers = local_workers(opts.workers)
    if workers > 1 and len(data) >= PARALLEL_MIN_ROWS and 2 * len(data) <= plan.bucket_rows:
        # each thread screens its tracks' rows of the one frame (no copy of it)
        parts = [rows for rows in track_rows(data, workers) if len(rows)]
        _threads_ready(opts)
        shared = data
        del data
        screened = run_parts(lambda rows: _screen_frame(shared, opts, rows), parts, workers)
        del shared
    else:
        screened = [_screen_frame(data, opts)]
        del data
    found = [e for s_ in screened for e in s_.entries]
    entries, records = finish(found, opts.policy, opts.military_db)
    return ScanResult(records, entries, sum(s_.positions for s_ in screened), rejects,
                      sum(s_.dropped for s_ in screened), plan=plan)


@dataclass
class _Screened:
    """What screening one frame (or one group of buckets) found."""

    entries: list[Entry]
    positions: int
    dropped: int


def _screen_frame(frame: pd.DataFrame, opts: ScanOptions, rows: np.ndarray | None = None
                  ) -> _Screened:
    """Final entries of a frame holding every fix of each of its tracks (of its
    ``rows``' tracks: see :meth:`~skyfence.detect.entries.EntryDetector.process`)."""
    det = fresh_detector(opts)
    found = [e.entry for e in det.process(frame, rows) if e.kind == "exit"]
    found.extend(e.entry for e in det.close())
    return _Screened(found, det.positions, det.dropped_out_of_order)


def _threads_ready(opts: ScanOptions) -> None:
    """Prepare the scan's shared zones for threads (once per scan)."""
    proto = _prototype(opts)
    if not getattr(proto, "threads_ready", False):
        warm_prepared(opts.zones)
        proto.threads_ready = True  # type: ignore[attr-defined]


def _drain(held: list[pd.DataFrame], rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The held chunks (released one by one as they are taken), then the rest."""
    held.reverse()
    while held:
        yield held.pop()
    yield from rest


class _Finals:
    """Final entries of a scan as they are found: judged, spilled, counted."""

    def __init__(self, opts: ScanOptions, plan: MemoryPlan) -> None:
        self.assessor = Assessor(opts.policy, opts.military_db)
        self.spill = RecordSpill(opts.spill_dir, run_records=plan.run_records)
        self.keep_path = opts.keep_path
        self.kept: list[Entry] = []
        self.positions = 0
        self.dropped = 0

    def add(self, done: list[Entry]) -> None:
        self.spill.add(done, self.assessor.records(done))
        if self.keep_path:
            self.kept.extend(done)

    def count(self, det: EntryDetector | _Screened) -> None:
        if isinstance(det, _Screened):
            self.positions += det.positions
            self.dropped += det.dropped
            return
        self.positions += det.positions
        self.dropped += det.dropped_out_of_order

    def take(self, screened: Iterable[_Screened]) -> int:
        """Add and count the final entries of each screened part; how many parts."""
        parts = 0
        for found in screened:
            self.add(found.entries)
            self.count(found)
            parts += 1
        return parts

    def result(self, rejects: RejectLog, mode: str, plan: MemoryPlan,
               partition: PartitionStats | None = None) -> ScanResult:
        self.kept.sort(key=lambda e: (e.entered_at, e.zone, e.track))
        return ScanResult(self.spill.sorted(), self.kept, self.positions, rejects, self.dropped,
                          mode=mode, plan=plan, partition=partition)


# ------------------------------------------------------------------------- streaming
def _row_group_batches(
    paths: Sequence[Path], opts: ScanOptions, plan: MemoryPlan, tracked: Callable[[], int],
    rejects: RejectLog, *, share: float = 1.0,
) -> Iterator[pd.DataFrame]:
    """Whole row groups, several per batch while they fit beside the detectors' state
    (``tracked()`` ids; so no batch cuts a row group, whose rows need not be sorted).
    ``share``: the part of the rows that fit that a batch may hold (a batch split over
    threads is copied once); a row group is refused only if it does not fit whole."""
    held: list[pd.DataFrame] = []
    n = 0
    for p in paths:
        try:
            pf = open_parquet(p)
            row0 = 0
            for g in range(pf.num_row_groups):
                size = pf.metadata.row_group(g).num_rows
                live = tracked()
                room = plan.streaming_rows(live)
                if size > room:
                    raise UsageError(
                        f"{p}: {live:,} tracks are live at once; with them a row group "
                        f"of {size:,} rows does not fit in --memory {plan.budget_bytes >> 20}M "
                        "(give more memory)")
                if held and n + size > room * share:
                    yield concat_rows(held)
                    held, n = [], 0
                for rb in pf.iter_batches(batch_size=plan.chunk_rows, row_groups=[g]):
                    raw = parquet_frame([rb])
                    obs = normalize_table(raw, name=str(p), columns=opts.columns,
                                          on_error=opts.on_error, row0=row0, rejects=rejects)
                    row0 += len(raw)
                    del raw
                    if opts.progress is not None:
                        opts.progress(len(obs))
                    held.append(obs)
                    n += len(obs)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read as Parquet ({exc})", file=str(p)) from None
    if held:
        yield concat_rows(held)


def _process_rows(job: tuple[EntryDetector, pd.DataFrame, np.ndarray]) -> list[EntryEvent]:
    det, batch, rows = job
    return det.process(batch, rows)


def _scan_streaming(
    paths: Sequence[Path], opts: ScanOptions, plan: MemoryPlan, rejects: RejectLog
) -> ScanResult:
    """Time-ordered row groups through detectors that keep their tracks across batches:
    one per worker, each given the tracks of one hash class of every batch
    (:func:`~skyfence.scanning.local_pool.track_rows`), in threads. After each batch,
    tracks silent for longer than the gap before the batch's last time are forgotten (a
    later fix of theirs would start a new piece anyway), so the detectors' state is the
    live tracks only."""
    workers = local_workers(opts.workers)
    dets = [fresh_detector(opts) for _ in range(workers)]
    if workers > 1:
        _threads_ready(opts)
    finals = _Finals(opts, plan)
    tracked_peak = 0

    def tracked() -> int:
        return sum(d.tracked for d in dets)

    share = 1.0 if workers == 1 else DETECT_ROW_BYTES / (DETECT_ROW_BYTES + SPLIT_ROW_BYTES)
    for batch in _row_group_batches(paths, opts, plan, tracked, rejects, share=share):
        # later row groups start no earlier than this batch's latest time
        latest = float(batch["time"].max()) if len(batch) else None
        if workers == 1:
            found = [dets[0].process(batch)]
            del batch
        else:  # each detector screens its tracks' rows of the one batch
            jobs = [(d, batch, rows)
                    for d, rows in zip(dets, track_rows(batch, workers), strict=True)]
            threads = workers if len(batch) >= PARALLEL_MIN_ROWS else 1
            del batch
            found = run_parts(_process_rows, jobs, threads)
            del jobs
        for events in found:
            finals.add([e.entry for e in events if e.kind == "exit"])
        del found
        tracked_peak = max(tracked_peak, tracked())
        if latest is not None:
            for d in dets:
                finals.add([e.entry for e in d.expire(latest, opts.gap_s)])
        give_back_near_budget(plan.budget_bytes)
    for d in dets:
        finals.add([e.entry for e in d.close()])
        finals.count(d)
    res = finals.result(rejects, "streaming", plan)
    res.tracked_peak = tracked_peak
    return res


# ------------------------------------------------------------- written track by track
def _scan_clustered(
    chunks: Iterator[pd.DataFrame], opts: ScanOptions, plan: MemoryPlan, share: int
) -> ScanResult:
    """An input written track by track (:mod:`~skyfence.scanning.clustered`): frames of
    whole tracks of up to ``share`` rows, as many at once as there are workers."""
    workers = local_workers(opts.workers)
    finals = _Finals(opts, plan)
    batches = 0
    groups = in_groups(whole_track_frames(chunks, share), workers)
    if workers > 1:
        _threads_ready(opts)
        # the threads screen one group while this thread reads the next and judges
        # and spills what the group before found
        screened = run_overlapped(lambda f: _screen_frame(f, opts), groups, workers)
    else:
        screened = ([_screen_frame(f, opts) for f in g] for g in groups)
    for found in screened:
        batches += finals.take(found)
        del found
        give_back_near_budget(plan.budget_bytes)
    res = finals.result(RejectLog(), "by-track", plan)
    res.partition = PartitionStats(batches=batches)
    return res


# ---------------------------------------------------------------- partition by track
def scan_track_partition(
    df: pd.DataFrame, zones: Sequence[Zone], gap_s: float, keep_path: bool = False,
    *, screen: Screen | None = None, receiver: tuple[float, float] | None = None,
) -> tuple[list[Entry], int, int]:
    """Final entries of a partition that holds every fix of each of its tracks.

    ``screen`` is the screen of ``zones``: a caller scanning many partitions builds it
    once (:func:`~skyfence.detect.screen.default_screen`) and passes it to each; without
    it the partition builds its own. ``receiver`` (``--ref``): fixes beyond its reach
    are left out, as in every other engine.
    """
    det = EntryDetector(zones, DetectorConfig(
        gap_s=gap_s, keep_path=keep_path, entries=False,
        integrity=IntegrityConfig(receiver=receiver)), screen=screen)
    found, det = detect_entries([df], zones, detector=det)
    return found, det.positions, det.dropped_out_of_order


@dataclass
class PartitionStats:
    """How a partitioned scan cut its input."""

    #: buckets of the first partition
    buckets: int = 0
    #: buckets split again by track (they held more rows than fit in memory)
    resplits: int = 0
    #: buckets no hash could split (one enormous track), streamed in time order
    time_ordered: int = 0
    #: batches screened (small buckets are screened together)
    batches: int = 0


class _BucketScan:
    """Screens bucket files within the plan: small ones together, big ones split again
    by track, unsplittable ones in time order through one detector."""

    def __init__(self, opts: ScanOptions, plan: MemoryPlan, tmp: str, finals: _Finals) -> None:
        self.opts, self.plan, self.tmp, self.finals = opts, plan, tmp, finals
        self.stats = PartitionStats()
        self.workers = local_workers(opts.workers)

    def detector(self) -> EntryDetector:
        return fresh_detector(self.opts)

    def scan(self, buckets: Sequence[Bucket], depth: int) -> None:
        """Screen ``buckets``: groups of up to ``bucket_rows / workers`` rows, as many at
        once as there are workers (so the rows in memory stay within ``bucket_rows``);
        a bucket above a group's share alone; one above ``bucket_rows`` split again."""
        share = max(1, self.plan.bucket_rows // self.workers)
        groups: list[list[Bucket]] = []
        group: list[Bucket] = []
        n = 0
        for b in buckets:
            if b.rows > self.plan.bucket_rows:
                self._big(b, depth)
                continue
            if b.rows > share:
                self._screen_groups([[b]])
                continue
            if group and n + b.rows > share:
                groups.append(group)
                group, n = [], 0
            group.append(b)
            n += b.rows
            if len(groups) == self.workers:
                self._screen_groups(groups)
                groups = []
        if group:
            groups.append(group)
        if groups:
            self._screen_groups(groups)

    def _screen_groups(self, groups: list[list[Bucket]]) -> None:
        if len(groups) > 1:
            _threads_ready(self.opts)
        self.stats.batches += self.finals.take(
            run_parts(self._load_and_screen, groups, self.workers))
        give_back_near_budget(self.plan.budget_bytes)

    def _load_and_screen(self, group: list[Bucket]) -> _Screened:
        frame = to_frame(load_table(group))
        for b in group:
            b.remove()
        return _screen_frame(frame, self.opts)

    def _big(self, bucket: Bucket, depth: int) -> None:
        if depth < MAX_SPLIT_DEPTH:
            self.stats.resplits += 1
            parts = split_by_track(bucket, self.plan.buckets_for(bucket.rows), depth + 1,
                                   self.tmp)
            bucket.remove()
            if len(parts) > 1:
                self.scan(parts, depth + 1)
                return
            bucket = parts[0]  # every row hashed alike again: one track (or a few)
        self.stats.time_ordered += 1
        det = self.detector()
        for frame in time_ordered_frames(bucket, self.plan.bucket_rows, self.tmp):
            self.finals.add([e.entry for e in det.process(frame) if e.kind == "exit"])
            del frame
            self.stats.batches += 1
            give_back_near_budget(self.plan.budget_bytes)
        self.finals.add([e.entry for e in det.close()])
        self.finals.count(det)


#: re-splits of one bucket by track before it is streamed in time order instead
MAX_SPLIT_DEPTH = 4


def _scan_partitioned(
    chunks: Iterator[pd.DataFrame], opts: ScanOptions, plan: MemoryPlan, rows: int | None
) -> ScanResult:
    """Spill rows to bucket files by track hash, then screen bucket by bucket. ``rows``
    (from Parquet metadata) sets the bucket count; unknown, the most buckets are used and
    small ones are screened together."""
    # as many buckets again per worker: workers screen groups of buckets side by side
    workers = local_workers(opts.workers)
    buckets = (min(MAX_BUCKETS, plan.buckets_for(rows) * workers) if rows is not None
               else MAX_BUCKETS)
    finals = _Finals(opts, plan)
    with tempfile.TemporaryDirectory(prefix="skyfence-scan-", dir=opts.spill_dir) as tmp:
        w = BucketWriter(tmp, "bucket", buckets)
        for chunk in chunks:
            table = to_bucket_table(chunk)
            del chunk
            w.write(table, hash_buckets(table.column("icao24"), buckets))
            del table
            give_back_near_budget(plan.budget_bytes)
        scan = _BucketScan(opts, plan, tmp, finals)
        scan.stats.buckets = buckets
        scan.scan(w.close(), 0)
        return finals.result(RejectLog(), "partitioned", plan, scan.stats)
