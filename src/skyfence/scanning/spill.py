"""Finished records kept on disk, not in memory, and sorted by an external merge.

A scan of months of traffic finds millions of entries; holding their records in memory
until they can be sorted would grow without bound. :class:`RecordSpill` holds at most
``run_records`` records; each time it is full it sorts them by (entry time, zone,
track) and writes them to a temporary *run* file. :meth:`RecordSpill.sorted` merges the
runs (at most :data:`MERGE_FAN_IN` at a time, in several passes when there are more)
into one file of JSON lines, which the result reads back one record at a time. Memory:
one run of records while adding, one read buffer per run while merging.

Each record is spilled as the very line :func:`skyfence.incidents.formats.jsonl_line`
writes for it, so a JSON Lines output is the spill file copied (:meth:`SpilledRecords.
jsonl_lines`), not every record decoded and encoded again: a tenth of a large scan's
time. A record that cannot be such a line (a non-finite number, which JSON has no word
for) is spilled with a mark and handed to the writer as a record, which refuses it by
name as it refuses any other.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import struct
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import IO, overload

import numpy as np

from skyfence.incidents.json_line import JSONL_OPTIONS, encode_line
from skyfence.model import Entry
from skyfence.records import EntryRecord

#: runs merged at once (each an open file with a :data:`_FILE_BUFFER`-byte buffer)
MERGE_FAN_IN = 64
#: records per run unless told otherwise (about 1 KB each while held)
DEFAULT_RUN_RECORDS = 32_768
_FILE_BUFFER = 1 << 16
_HEADER = struct.Struct("<dIII?")  # entered_at, len(zone), len(track), len(line), violation
#: the first byte of a spilled line that is not JSON (the record holds NaN or infinity)
_NOT_JSON = b"!"

Key = tuple[float, str, str]
#: a record on its way through the spill: sort key, line, and whether it is a violation
Item = tuple[Key, bytes, bool]


def _line(record: EntryRecord) -> bytes:
    """``record`` as the JSON Lines writer's line (:data:`JSONL_OPTIONS`), or the
    same with NaN / infinity and :data:`_NOT_JSON` in front when JSON cannot hold it."""
    try:
        line = encode_line(record)
    except ValueError:
        return _NOT_JSON + json.dumps(record, **JSONL_OPTIONS).encode() + b"\n"
    return line + b"\n"


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
        self._held: list[Item] = []
        self._runs: list[IO[bytes]] = []
        self._count = 0
        self._marked = 0  # records spilled with :data:`_NOT_JSON`

    def add(self, entries: Sequence[Entry], records: Iterable[EntryRecord]) -> None:
        """Add the records of ``entries`` (sorted later by the entries' exact entry times,
        as an in-memory scan sorts them)."""
        for e, r in zip(entries, records, strict=True):
            line = _line(r)
            self._marked += line.startswith(_NOT_JSON)
            self._held.append(((e.entered_at, r["zone"], r["track"]), line,
                               bool(r.get("violation"))))
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
        violation: list[bool] = []
        if not self._runs:
            self._held.sort(key=itemgetter(0))
            out.write(b"".join(line for _, line, _ in self._held))
            violation = [v for _, _, v in self._held]
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
            for _, line, v in heapq.merge(*map(_read_run, runs), key=itemgetter(0)):
                out.write(line)
                violation.append(v)
            for g in runs:
                g.close()
        self._held, self._runs = [], []
        out.flush()
        return SpilledRecords(out, self._count, np.array(violation, dtype=bool),
                              marked=self._marked > 0)


def _write_run(f: IO[bytes], items: Iterable[Item]) -> None:
    for (t, zone, track), line, violation in items:
        z, tr = zone.encode(), track.encode()
        f.write(_HEADER.pack(t, len(z), len(tr), len(line), violation) + z + tr + line)
    f.flush()


def _read_run(f: IO[bytes]) -> Iterator[Item]:
    f.seek(0)
    size = _HEADER.size
    while True:
        head = f.read(size)
        if len(head) < size:
            return
        t, nz, nt, nl, violation = _HEADER.unpack(head)
        body = f.read(nz + nt + nl)
        yield (t, body[:nz].decode(), body[nz : nz + nt].decode()), body[nz + nt :], violation


class SpilledRecords(Sequence[EntryRecord]):
    """A read-only sequence of records stored as JSON lines in a spill file.

    Iteration streams the file; indexing builds, on first use, the offset of every line
    (8 bytes per record). :meth:`violations` is the same file seen through the lines of
    violations only; :meth:`jsonl_lines` hands a writer the lines as they are.
    """

    def __init__(self, file: IO[bytes], count: int, violation: np.ndarray | None = None,
                 *, marked: bool = True, rows: np.ndarray | None = None,
                 offsets: list[np.ndarray] | None = None) -> None:
        self._file = file
        self._marked = marked  # some line may be marked :data:`_NOT_JSON`
        self._count = count  # lines in the file
        self._violation = (np.zeros(count, bool) if violation is None
                           else np.asarray(violation, dtype=bool))
        if len(self._violation) != count:
            raise ValueError(f"{len(self._violation)} violation flags for {count} records")
        self._rows = rows  # the lines this sequence shows (None: all of them)
        self._offsets = offsets if offsets is not None else []  # shared with views

    def __len__(self) -> int:
        return self._count if self._rows is None else len(self._rows)

    def violations(self) -> SpilledRecords:
        """The records whose ``violation`` is true, in the same order, same file."""
        shown = np.flatnonzero(self._violation)
        if self._rows is not None:
            shown = np.intersect1d(shown, self._rows, assume_unique=True)
        return SpilledRecords(self._file, self._count, self._violation, marked=self._marked,
                              rows=shown, offsets=self._offsets)

    def _kept(self) -> np.ndarray | None:
        if self._rows is None:
            return None
        keep = np.zeros(self._count, bool)
        keep[self._rows] = True
        return keep

    def _lines(self) -> Iterator[bytes]:
        """The lines this sequence shows, without their newline."""
        fd, pos, rest, k = self._file.fileno(), 0, b"", 0
        keep = self._kept()
        while True:
            block = os.pread(fd, 1 << 20, pos)
            if not block:
                break
            pos += len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            if keep is None:
                yield from lines
            else:
                yield from itertools.compress(lines, keep[k : k + len(lines)].tolist())
            k += len(lines)
        if rest and (keep is None or keep[k]):
            yield rest

    def jsonl_lines(self) -> Iterator[str | EntryRecord]:
        """What a JSON Lines writer writes: text made of whole lines as the file holds
        them (each ends with its newline), or, for a record JSON cannot hold, the record
        (for the writer to refuse by name)."""
        if self._rows is None and not self._marked:
            fd, pos, rest = self._file.fileno(), 0, b""
            while block := os.pread(fd, 1 << 20, pos):
                pos += len(block)
                data = rest + block
                cut = data.rfind(b"\n") + 1
                if cut:
                    yield data[:cut].decode()
                rest = data[cut:]
            if rest:
                yield rest.decode()
            return
        for line in self._lines():
            if line.startswith(_NOT_JSON):
                yield _record(line)
            else:
                yield line.decode() + "\n"

    def _offsets_of_lines(self) -> np.ndarray:
        if not self._offsets:
            starts = [np.zeros(1, np.int64)]
            fd, pos = self._file.fileno(), 0
            while True:
                block = os.pread(fd, 1 << 20, pos)
                if not block:
                    break
                nl = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
                starts.append(nl.astype(np.int64) + pos + 1)
                pos += len(block)
            self._offsets.append(np.concatenate(starts))
        return self._offsets[0]

    def _read(self, k: int) -> EntryRecord:
        n = len(self)
        if not -n <= k < n:
            raise IndexError(k)
        k %= n
        if self._rows is not None:
            k = int(self._rows[k])
        off = self._offsets_of_lines()
        start, end = int(off[k]), int(off[k + 1])
        return _record(os.pread(self._file.fileno(), end - start, start))

    @overload
    def __getitem__(self, i: int) -> EntryRecord: ...
    @overload
    def __getitem__(self, i: slice) -> list[EntryRecord]: ...
    def __getitem__(self, i: int | slice) -> EntryRecord | list[EntryRecord]:
        if isinstance(i, slice):
            return [self._read(k) for k in range(*i.indices(len(self)))]
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
    JSON, so its shape is the record's; a marked line's NaN and infinity as floats)."""
    if isinstance(line, str):
        line = line.encode()
    rec: EntryRecord = json.loads(line[1:] if line.startswith(_NOT_JSON) else line)
    return rec
