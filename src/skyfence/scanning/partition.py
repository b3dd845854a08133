"""Observations cut into bucket files on disk, by track or by time, in bounded memory.

An out-of-core scan writes every row to one of ``k`` *bucket* files chosen by a hash
of its track id, so that each bucket holds every fix of its tracks and can be screened
alone (:class:`BucketWriter`). A bucket that turns out too large to load (the input's
size was unknown, or a few ids carry most rows) is split again with another hash seed
(:func:`split_by_track`); a bucket that no hash can split (one enormous track) is cut
into consecutive *time ranges* instead (:func:`time_ordered_frames`), which a single
detector consumes in order exactly as it consumes a time-ordered feed.

Bucket files are Arrow IPC streams (LZ4) holding only the columns the detector reads
(:data:`BUCKET_SCHEMA`). Within a bucket, the rows of a track keep their input order, so
duplicates and late fixes are resolved as in one in-memory scan.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

#: the columns an entry detector reads (the others do not change any record)
BUCKET_SCHEMA = pa.schema([
    ("time", pa.float64()),
    ("icao24", pa.string()),
    ("lat", pa.float64()),
    ("lon", pa.float64()),
    ("altitude", pa.float64()),
    ("velocity", pa.float64()),
    ("callsign", pa.string()),
    ("squawk", pa.string()),
])
#: most bucket files written at once (each is an open file and a few buffers)
MAX_FANOUT = 256
#: bins per time range when a bucket is cut by time (finer bins: more even ranges)
BINS_PER_RANGE = 64
_WRITE_OPTIONS = ipc.IpcWriteOptions(compression="lz4")
_NAMES = itertools.count()  # file name prefixes of re-split buckets


@dataclass
class Bucket:
    """One bucket file and how many rows it holds."""

    path: Path
    rows: int

    def remove(self) -> None:
        """Delete the file (its rows have been scanned or moved to other buckets)."""
        self.path.unlink(missing_ok=True)


def to_bucket_table(frame: pd.DataFrame) -> pa.Table:
    """The detector's columns of an observation batch, as an Arrow table."""
    return pa.Table.from_pandas(frame[BUCKET_SCHEMA.names], schema=BUCKET_SCHEMA,
                                preserve_index=False)


def _hash_key(seed: int) -> str:
    """A 16-character key for pandas' hash (a different seed moves ids between buckets)."""
    return f"skyfence{seed:08d}"


def hash_buckets(ids: pa.Array | pa.ChunkedArray, buckets: int, seed: int = 0) -> np.ndarray:
    """Bucket of each row from a stable hash of its track id: the same id always goes to
    the same bucket for a given ``seed``; only distinct ids are hashed."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    enc = pc.dictionary_encode(ids)
    uniques = enc.dictionary.to_numpy(zero_copy_only=False).astype(object)
    h = pd.util.hash_array(uniques, hash_key=_hash_key(seed), categorize=False)
    per_id = (h % np.uint64(buckets)).astype(np.int64)
    return per_id[enc.indices.to_numpy(zero_copy_only=False)]


class BucketWriter:
    """Writes tables into ``buckets`` files by a function of their rows (track hash or
    time range); rows of one bucket keep the order they were written in."""

    def __init__(self, directory: str | Path, prefix: str, buckets: int) -> None:
        if not 1 <= buckets <= MAX_FANOUT:
            raise ValueError(f"buckets must be within 1..{MAX_FANOUT}, not {buckets}")
        self.directory = Path(directory)
        self.prefix = prefix
        self.buckets = buckets
        self.rows = np.zeros(buckets, np.int64)
        self._writers: dict[int, ipc.RecordBatchStreamWriter] = {}

    def path(self, k: int) -> Path:
        """File of bucket ``k``."""
        return self.directory / f"{self.prefix}-{k:04d}.arrow"

    def write(self, table: pa.Table, bucket: np.ndarray) -> None:
        """Append each row of ``table`` to the bucket file given by ``bucket``."""
        if len(table) == 0:
            return
        order = np.argsort(bucket, kind="stable")
        counts = np.bincount(bucket, minlength=self.buckets)
        table = table.take(pa.array(order))
        start = 0
        for k in np.flatnonzero(counts).tolist():
            n = int(counts[k])
            w = self._writers.get(k)
            if w is None:
                w = self._writers[k] = ipc.new_stream(str(self.path(k)), BUCKET_SCHEMA,
                                                      options=_WRITE_OPTIONS)
            w.write_table(table.slice(start, n))
            start += n
        self.rows += counts

    def close(self) -> list[Bucket]:
        """Close every file; the non-empty buckets in bucket order."""
        for w in self._writers.values():
            w.close()
        out = [Bucket(self.path(k), int(self.rows[k])) for k in sorted(self._writers)]
        self._writers.clear()
        return out


def read_batches(bucket: Bucket) -> Iterator[pa.RecordBatch]:
    """The record batches of a bucket file, as written (each at most one read chunk)."""
    with ipc.open_stream(str(bucket.path)) as reader:
        yield from reader


def load_table(buckets: Sequence[Bucket]) -> pa.Table:
    """Every row of ``buckets`` as one Arrow table (buckets hold disjoint tracks)."""
    tables = []
    for b in buckets:
        with ipc.open_stream(str(b.path)) as reader:
            tables.append(reader.read_all())
    if not tables:
        return BUCKET_SCHEMA.empty_table()
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An observation batch from a bucket table (Arrow buffers released as converted)."""
    return table.to_pandas(split_blocks=True, self_destruct=True)


def split_by_track(bucket: Bucket, parts: int, seed: int, directory: str | Path) -> list[Bucket]:
    """Cut a bucket into ``parts`` buckets by a hash of the track id with ``seed``."""
    w = BucketWriter(directory, f"part{next(_NAMES)}-seed{seed}", max(2, min(parts, MAX_FANOUT)))
    try:
        for batch in read_batches(bucket):
            table = pa.Table.from_batches([batch])
            w.write(table, hash_buckets(table.column("icao24"), w.buckets, seed))
    finally:
        out = w.close()
    return out


def _time_extent(bucket: Bucket) -> tuple[float, float]:
    lo, hi = math.inf, -math.inf
    for batch in read_batches(bucket):
        mm = pc.min_max(batch.column("time"))
        if mm["min"].is_valid:
            lo, hi = min(lo, mm["min"].as_py()), max(hi, mm["max"].as_py())
    return lo, hi


def _bins(time: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Bin of each time in ``bins`` equal bins of [lo, hi] (ascending, equal times share
    a bin; the same arithmetic in every pass)."""
    b = np.floor((time - lo) / (hi - lo) * bins).astype(np.int64)
    return np.clip(b, 0, bins - 1)


def time_ordered_frames(
    bucket: Bucket, max_rows: int, directory: str | Path
) -> Iterator[pd.DataFrame]:
    """The rows of a bucket as batches of at most ``max_rows`` rows whose times come
    after those of the previous batches (ties aside: equal times stay together, or, when
    every row has the same time, come in input order).

    Fed in this order to one detector, the batches give the same entries as the whole
    bucket in one batch. Consumes (deletes) the bucket file.
    """
    try:
        if bucket.rows <= max_rows:
            yield to_frame(load_table([bucket]))
            return
        lo, hi = _time_extent(bucket)
        if not lo < hi:  # one instant: input order decides which duplicate is kept
            yield from _input_order_frames(bucket, max_rows)
            return
        ranges = min(MAX_FANOUT, max(2, math.ceil(2 * bucket.rows / max_rows)))
        bins = ranges * BINS_PER_RANGE
        counts = np.zeros(bins, np.int64)
        for batch in read_batches(bucket):
            t = batch.column("time").to_numpy(zero_copy_only=False)
            counts += np.bincount(_bins(t, lo, hi, bins), minlength=bins)
        # consecutive bins grouped into ranges of about rows / ranges rows each: a bin
        # goes to the range of the rows before it (ascending, so ranges stay in time order)
        before = np.cumsum(counts) - counts
        bin_range = np.minimum(before * ranges // bucket.rows, ranges - 1)
        used = np.flatnonzero(counts)
        if bin_range[used[0]] == bin_range[used[-1]]:
            # one heavy bin swallowed the light ones before it: split off the last bin, so
            # that every pass leaves fewer distinct times in each part
            bin_range = (np.arange(bins) >= used[-1]).astype(np.int64)
        w = BucketWriter(directory, f"part{next(_NAMES)}-time", ranges)
        try:
            for batch in read_batches(bucket):
                table = pa.Table.from_batches([batch])
                t = table.column("time").to_numpy()
                w.write(table, bin_range[_bins(t, lo, hi, bins)])
        finally:
            parts = w.close()
        bucket.remove()
        for part in parts:
            yield from time_ordered_frames(part, max_rows, directory)
    finally:
        bucket.remove()


def _input_order_frames(bucket: Bucket, max_rows: int) -> Iterator[pd.DataFrame]:
    held: list[pa.RecordBatch] = []
    n = 0
    for batch in read_batches(bucket):
        if held and n + len(batch) > max_rows:
            yield to_frame(pa.Table.from_batches(held))
            held, n = [], 0
        held.append(batch)
        n += len(batch)
    if held:
        yield to_frame(pa.Table.from_batches(held))
