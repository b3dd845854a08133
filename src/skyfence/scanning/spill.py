"""Finished records kept on disk, not in memory, until a large scan ends.

A scan of months of traffic finds millions of entries; holding their records in memory
until they can be sorted would grow without bound. :class:`RecordSpill` writes each
record as a JSON line to a temporary file as soon as it is final and keeps only its
sort key and file offset; the result reads them back in order, one at a time.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np
import pandas as pd

from skyfence.model import Entry


class RecordSpill:
    """Append records in any order; :meth:`sorted` gives them by entry time, zone, track."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(prefix="skyfence-records-", dir=directory)  # noqa: SIM115
        self._entered: list[float] = []
        self._zone: list[str] = []
        self._track: list[str] = []
        self._offset: list[int] = []
        self._end = 0

    def add(self, entries: Sequence[Entry], records: Iterable[dict[str, Any]]) -> None:
        """Write the records of ``entries`` to the spill file (sorted later by the
        entries' exact entry times, as an in-memory scan sorts them)."""
        lines = []
        for e, r in zip(entries, records, strict=True):
            line = json.dumps(r, separators=(",", ":")).encode() + b"\n"
            self._entered.append(e.entered_at)
            self._zone.append(r["zone"])
            self._track.append(r["track"])
            self._offset.append(self._end)
            self._end += len(line)
            lines.append(line)
        self._file.seek(0, 2)
        self._file.write(b"".join(lines))

    def __len__(self) -> int:
        return len(self._offset)

    def sorted(self) -> SpilledRecords:
        """The records in (entered_at, zone, track) order, read lazily from disk."""
        keys = pd.DataFrame({"e": self._entered, "z": self._zone, "t": self._track})
        order = keys.sort_values(["e", "z", "t"], kind="stable").index.to_numpy()
        offsets = np.asarray([*self._offset, self._end], dtype=np.int64)
        self._file.flush()
        return SpilledRecords(self._file, offsets, order)


class SpilledRecords(Sequence[dict[str, Any]]):
    """A read-only sequence of records stored in a spill file."""

    def __init__(self, file: Any, offsets: np.ndarray, order: np.ndarray) -> None:
        self._file = file
        self._offsets = offsets
        self._order = order

    def __len__(self) -> int:
        return len(self._order)

    def _read(self, k: int) -> dict[str, Any]:
        start, end = int(self._offsets[k]), int(self._offsets[k + 1])
        self._file.seek(start)
        return dict(json.loads(self._file.read(end - start)))

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self._read(int(k)) for k in self._order[i]]
        return self._read(int(self._order[i]))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for k in self._order:
            yield self._read(int(k))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return NotImplemented if not isinstance(other, Sequence) else False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]
