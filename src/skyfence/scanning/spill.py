"""Finished records kept on disk, not in memory, and sorted by an external merge.

A scan of months of traffic finds millions of entries; holding their records in memory
until they can be sorted would grow without bound. :class:`RecordSpill` holds at most
``run_records`` records; each time it is full it sorts them by (entry time, zone,
track) and writes them to a temporary *run* file. :meth:`RecordSpill.sorted` merges the
runs (at most :data:`MERGE_FAN_IN` at a time, in several passes when there are more)
into one file of JSON lines, which the result reads back one record at a time. Memory:
one run of records while adding, one read buffer per run while merging.
"""

from __future__ import annotations

import heapq
import json
import os
import struct
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import IO, overload

import numpy as np

from skyfence.model import Entry
from skyfence.records import EntryRecord

#: runs merged at once (each an open file with a :data:`_FILE_BUFFER`-byte buffer)
MERGE_FAN_IN = 64
#: records per run unless told otherwise (about 1 KB each while held)
DEFAULT_RUN_RECORDS = 32_768
_FILE_BUFFER = 1 << 16
_HEADER = struct.Struct("<dIII")  # entered_at, len(zone), len(track), len(line)

Key = tuple[float, str, str]


def _temp(directory: str | None) -> IO[bytes]:
    return tempfile.TemporaryFile(prefix="skyfence-records-", dir=directory,
                                  buffering=_FILE_BUFFER)


class RecordSpill:
    """Append records in any order; :meth:`sorted` gives them by entry time, zone, track.

    >>> from skyfence.model import Entry
    >>> def e(t, track):
    ...     return Entry("Z", "custom", track, t, True, None, t, 0.0, None, None, None, None, 0)
    >>> spill = RecordSpill(run_records=2)
    >>> for t, track in [(3.0, "c"), (1.0, "a"), (2.0, "b"), (1.0, "0")]:
    ...     spill.add([e(t, track)], [{"zone": "Z", "track": track}])
    >>> [r["track"] for r in spill.sorted()]
    ['0', 'a', 'b', 'c']
    """

    def __init__(self, directory: str | None = None, run_records: int = DEFAULT_RUN_RECORDS
                 ) -> None:
        self._dir = directory
        self.run_records = max(1, run_records)
        self._held: list[tuple[Key, bytes]] = []
        self._runs: list[IO[bytes]] = []
        self._count = 0

    def add(self, entries: Sequence[Entry], records: Iterable[EntryRecord]) -> None:
        """Add the records of ``entries`` (sorted later by the entries' exact entry times,
        as an in-memory scan sorts them)."""
        for e, r in zip(entries, records, strict=True):
            line = json.dumps(r, separators=(",", ":")).encode() + b"\n"
            self._held.append(((e.entered_at, r["zone"], r["track"]), line))
            self._count += 1
            if len(self._held) >= self.run_records:
                self._flush()

    def __len__(self) -> int:
        return self._count

    @property
    def runs(self) -> int:
        """Sorted runs written to disk so far."""
        return len(self._runs)

    def _flush(self) -> None:
        if not self._held:
            return
        self._held.sort(key=itemgetter(0))
        f = _temp(self._dir)
        _write_run(f, self._held)
        self._runs.append(f)
        self._held = []

    def sorted(self) -> SpilledRecords:
        """The records in (entered_at, zone, track) order, read lazily from disk."""
        out = _temp(self._dir)
        if not self._runs:
            self._held.sort(key=itemgetter(0))
            out.write(b"".join(line for _, line in self._held))
        else:
            self._flush()
            runs = self._runs
            while len(runs) > MERGE_FAN_IN:  # merge passes until one pass can finish
                merged = []
                for i in range(0, len(runs), MERGE_FAN_IN):
                    f = _temp(self._dir)
                    group = runs[i : i + MERGE_FAN_IN]
                    _write_run(f, heapq.merge(*map(_read_run, group), key=itemgetter(0)))
                    for g in group:
                        g.close()
                    merged.append(f)
                runs = merged
            for _, line in heapq.merge(*map(_read_run, runs), key=itemgetter(0)):
                out.write(line)
            for g in runs:
                g.close()
        self._held, self._runs = [], []
        out.flush()
        return SpilledRecords(out, self._count)


def _write_run(f: IO[bytes], items: Iterable[tuple[Key, bytes]]) -> None:
    for (t, zone, track), line in items:
        z, tr = zone.encode(), track.encode()
        f.write(_HEADER.pack(t, len(z), len(tr), len(line)) + z + tr + line)
    f.flush()


def _read_run(f: IO[bytes]) -> Iterator[tuple[Key, bytes]]:
    f.seek(0)
    size = _HEADER.size
    while True:
        head = f.read(size)
        if len(head) < size:
            return
        t, nz, nt, nl = _HEADER.unpack(head)
        body = f.read(nz + nt + nl)
        yield (t, body[:nz].decode(), body[nz : nz + nt].decode()), body[nz + nt :]


class SpilledRecords(Sequence[EntryRecord]):
    """A read-only sequence of records stored as JSON lines in a spill file.

    Iteration streams the file; indexing builds, on first use, the offset of every line
    (8 bytes per record).
    """

    def __init__(self, file: IO[bytes], count: int) -> None:
        self._file = file
        self._count = count
        self._offsets: np.ndarray | None = None

    def __len__(self) -> int:
        return self._count

    def _lines(self) -> Iterator[bytes]:
        fd, pos, rest = self._file.fileno(), 0, b""
        while True:
            block = os.pread(fd, 1 << 20, pos)
            if not block:
                break
            pos += len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest

    def _offsets_of_lines(self) -> np.ndarray:
        if self._offsets is None:
            starts = [np.zeros(1, np.int64)]
            fd, pos = self._file.fileno(), 0
            while True:
                block = os.pread(fd, 1 << 20, pos)
                if not block:
                    break
                nl = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
                starts.append(nl.astype(np.int64) + pos + 1)
                pos += len(block)
            self._offsets = np.concatenate(starts)
        return self._offsets

    def _read(self, k: int) -> EntryRecord:
        if not -self._count <= k < self._count:
            raise IndexError(k)
        k %= self._count
        off = self._offsets_of_lines()
        start, end = int(off[k]), int(off[k + 1])
        return _record(os.pread(self._file.fileno(), end - start, start))

    @overload
    def __getitem__(self, i: int) -> EntryRecord: ...
    @overload
    def __getitem__(self, i: slice) -> list[EntryRecord]: ...
    def __getitem__(self, i: int | slice) -> EntryRecord | list[EntryRecord]:
        if isinstance(i, slice):
            return [self._read(k) for k in range(*i.indices(self._count))]
        return self._read(i)

    def __iter__(self) -> Iterator[EntryRecord]:
        for line in self._lines():
            yield _record(line)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return NotImplemented if not isinstance(other, Sequence) else False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


def _record(line: bytes | str) -> EntryRecord:
    """A spilled line back as the record it was written from (the writer's own
    JSON, so its shape is the record's)."""
    rec: EntryRecord = json.loads(line)
    return rec
