"""Inputs written track by track: screened as they are read, with no partition.

Per-aircraft exports (every fix of one aircraft, then the next aircraft's) hold each
track in one run of consecutive rows. Such an input needs no partition by track: a
chunk read from it holds whole tracks, except its last track, which may go on in the
next chunk; that one is held back and screened with the next chunk. This saves the
partitioned scan's writing and re-reading of every row (:mod:`~skyfence.scanning.
partition`) and gives the same records, since every track is screened whole.

Whether an input is written track by track is told before the scan, from its track
id column alone (:func:`runs_by_track`): ids are cleaned as the reader cleans them
(``ABC123`` and ``abc123`` are one track), rows without a usable id are left out, and
the answer is no as soon as an id comes back after another id's run, or when one
track's run is longer than a scan may hold at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from skyfence.frames import concat_rows
from skyfence.sources.fields import read_text_field
from skyfence.sources.tabular import (
    _NULLABLE_INTS,
    ColumnMap,
    open_parquet,
    parquet_source_column,
)

__all__ = ["last_run_start", "runs_by_track", "whole_track_frames"]

#: rows of the id column read at once when checking an input
CHECK_ROWS = 1_000_000


def _id_codes(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each row's track id as the reader cleans it, as a code into the distinct clean
    ids (-1 where unusable), and those ids: values that clean to one id (``ABC123`` and
    ``abc123``) share a code, so runs compare integers, not strings."""
    if pa.types.is_dictionary(values.type):
        clean = read_text_field(values.dictionary.to_pandas(), "icao24").values
        per_value, names = pd.factorize(clean, use_na_sentinel=True)
        codes = np.asarray(values.indices.fill_null(0).to_numpy(zero_copy_only=False),
                           dtype=np.intp)
        valid = values.is_valid().to_numpy(zero_copy_only=False)
        # a null's index may be anything (and the dictionary empty): it takes the -1
        # after the values
        lookup = np.append(np.asarray(per_value, dtype=np.intp), -1)
        return lookup[np.where(valid, codes, len(per_value))], np.asarray(names, dtype=object)
    # integers stay integers with a null among them, as the reader reads them
    clean = read_text_field(values.to_pandas(types_mapper=_NULLABLE_INTS.get), "icao24").values
    codes, names = pd.factorize(clean, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), np.asarray(names, dtype=object)


def runs_by_track(paths: Sequence[Path], columns: ColumnMap | None, max_run: int) -> bool:
    """True when, read in order, every track's rows in ``paths`` are one run of
    consecutive rows (rows without a usable id left out) of at most ``max_run`` rows.

    Reads the track id column only; False for anything that is not a readable Parquet
    file (the scan then reports it as it reads).
    """
    seen: set[str] = set()
    current: str | None = None
    run = 0
    try:
        for p in paths:
            pf = open_parquet(p)  # text ids as dictionaries
            col = parquet_source_column(pf, columns, "icao24")
            if col is None:
                return False
            for batch in pf.iter_batches(batch_size=CHECK_ROWS, columns=[col]):
                codes, distinct = _id_codes(batch.column(0))
                codes = codes[codes >= 0]
                if not len(codes):
                    continue
                starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
                lengths = np.diff(np.append(starts, len(codes)))
                names = distinct[codes[starts]].tolist()
                if names[0] == current:  # the run goes on from the last batch
                    run += int(lengths[0])
                    names, lengths = names[1:], lengths[1:]
                if run > max_run:
                    return False
                if not names:
                    continue
                if len(set(names)) != len(names) or not seen.isdisjoint(names):
                    return False
                if int(lengths.max()) > max_run:
                    return False
                seen.update(names)
                current, run = names[-1], int(lengths[-1])
    except (pa.ArrowException, OSError, ValueError, TypeError):
        return False
    return True


def last_run_start(ids: np.ndarray) -> int:
    """Index of the first row of the last run of equal ids (0 for an empty array).

    >>> last_run_start(np.array(["a", "a", "b", "b"], dtype=object))
    2
    >>> last_run_start(np.array(["a", "a"], dtype=object))
    0
    """
    if not len(ids):
        return 0
    other = np.flatnonzero(ids != ids[-1])
    return int(other[-1]) + 1 if len(other) else 0


def _comparable_ids(ids: pd.Series) -> np.ndarray:
    """Track ids to compare within one chunk: a categorical column's codes (what the
    readers give; no object array of the chunk's length is made), else the objects."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return np.asarray(ids.cat.codes.to_numpy())
    return np.asarray(ids.to_numpy(dtype=object))


def whole_track_frames(chunks: Iterator[pd.DataFrame], share: int
                       ) -> Iterator[pd.DataFrame]:
    """Frames of whole tracks from the chunks of an input written track by track, each
    about ``share`` rows or fewer (a chunk's last track waits for the next chunk).

    Pieces are only sliced here: each frame is joined once, from the pieces of its
    tracks (:func:`_joined`)."""
    held: list[pd.DataFrame] = []  # pieces of whole tracks
    n = 0
    tail: list[pd.DataFrame] = []  # the last track so far, in pieces: it may go on
    for chunk in chunks:
        if not len(chunk):
            continue
        cut = last_run_start(_comparable_ids(chunk["icao24"]))
        if cut == 0 and tail and _same_id(tail[-1], chunk):
            tail.append(chunk)  # the chunk is one track, the tail's: it goes on
            continue
        done = [*tail, chunk.iloc[:cut]] if cut else tail
        tail = [chunk.iloc[cut:]]
        size = sum(len(p) for p in done)
        if not size:
            continue
        if held and n + size > share:
            yield _joined(held)
            held, n = [], 0
        held.extend(done)
        n += size
    size = sum(len(p) for p in tail)
    if size:
        if held and n + size > share:
            yield _joined(held)
            held = []
        held.extend(tail)
    if held:
        yield _joined(held)


def _same_id(before: pd.DataFrame, chunk: pd.DataFrame) -> bool:
    """Whether ``chunk``'s first row has the track id of ``before``'s last row."""
    a, b = before["icao24"].iloc[-1], chunk["icao24"].iloc[0]
    return bool(a == b) if not (pd.isna(a) or pd.isna(b)) else bool(pd.isna(a) and pd.isna(b))


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame of ``frames``, numbered from 0 (a lone frame is renumbered, not copied:
    a deep copy would also stack its columns into 2-D blocks)."""
    if len(frames) > 1:
        return concat_rows(frames)
    one = frames[0].copy(deep=False)
    one.index = pd.RangeIndex(len(one))
    return one


def in_groups(frames: Iterable[pd.DataFrame], size: int) -> Iterator[list[pd.DataFrame]]:
    """``frames`` ``size`` at a time (the last group may be smaller).

    >>> [len(g) for g in in_groups(iter([pd.DataFrame()] * 5), 2)]
    [2, 2, 1]
    """
    group: list[pd.DataFrame] = []
    for f in frames:
        group.append(f)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group
