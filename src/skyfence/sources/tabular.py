"""Tabular position files (CSV, CSV.gz, Parquet) and DataFrames -> observation batches.

Columns follow the OpenSky state-vector names and SI units (see the contract). Files
that name columns differently are read through a :class:`ColumnMap`, e.g. the
``traffic`` library's ``timestamp, latitude, longitude, altitude`` (feet). Every bad
value is reported with file, row (1-based data row, header excluded) and field.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from skyfence.errors import InputError, UsageError
from skyfence.frames import concat_rows
from skyfence.messages import one_line, show_value
from skyfence.model import make_observations
from skyfence.sources import ranges
from skyfence.sources.convert import to_flag, to_number, to_unix_seconds
from skyfence.sources.fields import read_text_field
from skyfence.vocab import FPM, FT, KT, UNITS

STRING_FIELDS = ("icao24", "callsign", "squawk")
NUMBER_FIELDS = ("lat", "lon", "baroaltitude", "geoaltitude", "velocity", "heading", "vertrate")
KNOWN_FIELDS = ("time", *STRING_FIELDS, *NUMBER_FIELDS, "onground")


@dataclass(frozen=True)
class ColumnMap:
    """Source column -> (contract field, factor to SI)."""

    mapping: Mapping[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> ColumnMap:
        """Parse ``SRC=FIELD[:UNIT],...``, a preset name (``traffic``, ``opensky``), or a
        preset followed by changes to it (``traffic,timestamp=time:ms``)."""
        if spec in PRESETS:
            return PRESETS[spec]
        out: dict[str, tuple[str, float]] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            if part in PRESETS:
                out.update(PRESETS[part].mapping)
                continue
            src, sep, dst = part.partition("=")
            if not sep:
                raise UsageError(f"--columns '{part}': expected SOURCE=FIELD[:UNIT]")
            dst, _, unit = dst.partition(":")
            if dst not in KNOWN_FIELDS:
                raise UsageError(
                    f"--columns '{part}': unknown field '{dst}' (one of {', '.join(KNOWN_FIELDS)})"
                )
            if unit and unit not in UNITS:
                raise UsageError(
                    f"--columns '{part}': unknown unit '{unit}' (one of {', '.join(UNITS)})"
                )
            out[src.strip()] = (dst, UNITS[unit] if unit else 1.0)
        return cls(out)

    def apply(self, names: list[str]) -> dict[str, tuple[str, float]]:
        """Source column -> (field, factor) for the columns present in a file."""
        out = {n: (n, 1.0) for n in names if n in KNOWN_FIELDS}
        for src, (dst, factor) in self.mapping.items():
            if src in names:
                out = {k: v for k, v in out.items() if v[0] != dst}
                out[src] = (dst, factor)
        return out


PRESETS: dict[str, ColumnMap] = {
    "opensky": ColumnMap({}),
    # the traffic library's Flight.data: feet, knots, ft/min
    "traffic": ColumnMap(
        {
            "timestamp": ("time", 1.0),
            "latitude": ("lat", 1.0),
            "longitude": ("lon", 1.0),
            "altitude": ("baroaltitude", FT),
            "geoaltitude": ("geoaltitude", FT),
            "groundspeed": ("velocity", KT),
            "track": ("heading", 1.0),
            "vertical_rate": ("vertrate", FPM),
        }
    ),
}


def _auto_map(names: list[str], columns: ColumnMap | None) -> ColumnMap:
    if columns is not None:
        return columns
    if "lat" not in names and "latitude" in names:
        return PRESETS["traffic"]
    return PRESETS["opensky"]


@dataclass
class RejectLog:
    """Rows rejected under ``--on-error skip``: a count per field and the first messages."""

    count: int = 0
    by_field: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: how many rows were skipped and why."""
        parts = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_field.items()))
        return f"skipped {self.count} bad row(s) ({parts})"



_NO_VALUE = object()


class _Checker:
    """Validates one table: raises on the first bad value, or records bad rows (skip).

    A row is counted once, under the first field found bad, however many of its
    fields are bad.
    """

    def __init__(self, name: str, row0: int, on_error: str, rejects: RejectLog | None) -> None:
        self.name, self.row0, self.on_error = name, row0, on_error
        self.rejects = rejects if rejects is not None else RejectLog()
        self.bad: np.ndarray | None = None

    def error(self, row: int, fld: str, what: str, value: Any = _NO_VALUE) -> InputError:
        """The error of 0-based table row ``row`` (``value`` shown after the text)."""
        shown = "" if value is _NO_VALUE else f" {show_value(value)}"
        return InputError(f"{what}{shown}", file=self.name, row=self.row0 + row + 1, field=fld)

    def flag(self, mask: np.ndarray, fld: str, what: str, values: Any = None) -> None:
        """Report the rows of ``mask`` as bad in field ``fld`` (``values``: what to show)."""
        mask = np.asarray(mask, dtype=bool)
        if self.bad is not None:
            mask = mask & ~self.bad
        if not mask.any():
            return
        first = int(np.flatnonzero(mask)[0])
        shown = _NO_VALUE if values is None else (
            values.iloc[first] if isinstance(values, pd.Series) else values[first])
        err = self.error(first, fld, what, shown)
        if self.on_error != "skip":
            raise err
        self.bad = mask if self.bad is None else (self.bad | mask)
        self.rejects.by_field[fld] = self.rejects.by_field.get(fld, 0) + int(mask.sum())
        if len(self.rejects.examples) < 5:
            self.rejects.examples.append(str(err))

    def flag_range(self, values: np.ndarray, fld: str, what: str) -> None:
        """Report values outside the plausible range of ``fld`` (see :mod:`ranges`)."""
        r = ranges.FIELD_RANGES[fld]
        self.flag(ranges.outside(fld, values), fld, f"{what} outside {r.describe()}:", values)

    def keep(self) -> np.ndarray | None:
        """Rows to keep, or None when every row is good; counts the rejected rows."""
        if self.bad is None:
            return None
        self.rejects.count += int(self.bad.sum())
        return ~self.bad


#: a smaller unit is suggested only when it puts every time after 1973-03-03 (1e8 s),
#: i.e. milliseconds above 1e11: data from the first years of the epoch is unlikely
_PLAUSIBLE_EPOCH_S = 1e8
_TIME_UNITS = (("milliseconds", "ms", 1e-3), ("microseconds", "us", 1e-6),
               ("nanoseconds", "ns", 1e-9))


def _check_time_unit(secs: np.ndarray, src: str, chk: _Checker) -> None:
    """Refuse a column of epochs in ms/us/ns read as seconds, naming the option to pass.

    Applies when every time of the table is beyond 2100 as seconds and every one is
    between 1973 and 2100 in the smaller unit: an error with the exact fix, never a
    silent guess (a wrong guess would misdate every entry).
    """
    finite = secs[np.isfinite(secs)]
    if finite.size == 0 or not ranges.outside("time", finite).all():
        return
    for name, unit, factor in _TIME_UNITS:
        scaled = finite * factor
        if not ranges.outside("time", scaled).any() and scaled.min() >= _PLAUSIBLE_EPOCH_S:
            first = int(np.flatnonzero(np.isfinite(secs))[0])
            shown = show_value(int(secs[first]) if abs(secs[first]) < 1e18 else secs[first])
            raise chk.error(first, "time", f"time {shown} looks like "
                            f"{name} since 1970, not seconds: pass --columns {src}=time:{unit} "
                            "(added to any other --columns mapping)")


def _duplicate_columns(names: list[str]) -> str | None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            return n
        seen.add(n)
    return None


def normalize_table(
    df: pd.DataFrame,
    *,
    name: str = "<dataframe>",
    columns: ColumnMap | None = None,
    on_error: str = "abort",
    row0: int = 0,
    rejects: RejectLog | None = None,
) -> pd.DataFrame:
    """Validate a raw table and turn it into an observation batch (SI units).

    Every value is read as what it is (see :mod:`skyfence.sources.fields` for ids and
    squawks) and checked against its plausible range (:mod:`skyfence.sources.ranges`);
    a bad value raises :class:`InputError` naming file, row and field, or, with
    ``on_error="skip"``, drops its row and counts it in ``rejects``.
    """
    if on_error not in ("abort", "skip"):
        raise UsageError(f"on_error {show_value(on_error)}: one of abort, skip")
    names = [str(c) for c in df.columns]
    dup = _duplicate_columns(names)
    if dup is not None:
        raise InputError(f"column {show_value(dup)} appears twice", file=name, field=dup)
    if names != list(df.columns):
        df = df.set_axis(names, axis=1)  # a copy: only for columns not named by strings
    cmap = _auto_map(names, columns).apply(names)
    present = {dst for dst, _ in cmap.values()}
    for req in ("time", "icao24", "lat", "lon"):
        if req not in present:
            shown = ", ".join(show_value(n, 30) for n in names[:12])
            raise InputError(f"required column '{req}' is missing (columns: {shown})",
                             file=name, field=req)
    if len(df) == 0:
        return make_observations(time=[], icao24=[], lat=[], lon=[])
    chk = _Checker(name, row0, on_error, rejects)
    out: dict[str, Any] = {}
    for src, (dst, factor) in sorted(cmap.items(), key=lambda kv: _ORDER.index(kv[1][0])):
        col = df[src]
        raw = col  # the values as given, shown in messages
        if dst == "time":
            vals, bad = to_unix_seconds(col)
            chk.flag(bad, dst, "time is not a number or an ISO 8601 time:", raw)
            chk.flag(np.isnan(vals), dst, "time is missing")
            vals = vals * factor
            if factor == 1.0:
                _check_time_unit(vals, src, chk)
            chk.flag_range(vals, dst, "time")
            out[dst] = vals
        elif dst in STRING_FIELDS:
            vals_s, problems, missing = read_text_field(col, dst)
            for p in problems:
                chk.flag(p.mask, dst, p.what + ":", raw)
            if dst == "icao24":
                chk.flag(missing, dst, "track id is empty")
            out[dst] = vals_s
        elif dst == "onground":
            out[dst] = to_flag(col)
        else:
            vals, bad = to_number(col)
            chk.flag(bad, dst, "not a number:", raw)
            vals = vals * factor
            if dst in ("lat", "lon"):
                chk.flag(np.isnan(vals), dst, f"{_WORDS[dst]} is missing")
            chk.flag_range(vals, dst, _WORDS[dst])
            out[dst] = ranges.wrap_heading_deg(vals) if dst == "heading" else vals
    geo = out.pop("geoaltitude", None)
    baro = out.pop("baroaltitude", None)
    if geo is not None and baro is not None:
        out["altitude"] = np.where(np.isnan(geo), baro, geo)
    else:
        out["altitude"] = geo if geo is not None else baro
    obs = make_observations(**out)
    keep = chk.keep()
    if keep is not None:
        obs = obs[keep]
        obs.index = pd.RangeIndex(len(obs))  # renumbered, not copied again
    return obs


#: the order fields are checked in (the first bad field of a row is the one reported)
_ORDER = ("time", "icao24", "lat", "lon", "baroaltitude", "geoaltitude", "velocity",
          "heading", "vertrate", "callsign", "squawk", "onground")
_WORDS = {"lat": "latitude", "lon": "longitude", "baroaltitude": "altitude",
          "geoaltitude": "altitude", "velocity": "velocity", "heading": "heading",
          "vertrate": "vertical rate"}


class _NulGuard(io.RawIOBase):
    """A binary stream that shows NUL bytes as U+2400 (the NUL symbol).

    pandas' CSV parser ends a field at a NUL byte (``4b\\x001234`` would read as
    ``4b``); the visible symbol keeps the whole field, and the field readers reject it
    by name.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if not self.pending:
            chunk = self.raw.read(max(len(b), 1 << 16))
            if not chunk:
                return 0
            self.pending = chunk.replace(b"\x00", "\u2400".encode()) if b"\x00" in chunk \
                else chunk
        n = min(len(b), len(self.pending))
        b[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def _open_text(path: Path) -> IO[bytes]:
    name = path.name.lower()
    opener: Any = (gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2")
                   else lzma.open if name.endswith(".xz") else open)
    raw: IO[bytes] = opener(path, "rb")
    return io.BufferedReader(_NulGuard(raw), buffer_size=1 << 20)


_CSV_ERRORS = (UnicodeDecodeError, pd.errors.ParserError, OSError, EOFError, zlib.error,
               lzma.LZMAError, ValueError)


def pandas_csv_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The reference CSV reader: pandas' parser, every value as text (the fast reader of
    :mod:`skyfence.sources.csv_arrow` falls back to it, and tests compare with it)."""
    try:
        with _open_text(path) as fh:
            reader = pd.read_csv(
                fh,
                chunksize=chunk_rows,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
                engine="c",
            )
            yield from reader
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", file=str(path)) from None
    except _CSV_ERRORS as exc:
        raise InputError(f"cannot read as CSV ({one_line(str(exc), 200)})", file=str(path)
                         ) from None


#: the contract fields the fast reader parses as numbers (the others stay text)
_NUMBER_FIELDS = frozenset(("time", "lat", "lon", "baroaltitude", "geoaltitude", "velocity",
                            "heading", "vertrate"))


def _csv_observations(
    path: Path, *, columns: ColumnMap | None, on_error: str, chunk_rows: int,
    rejects: RejectLog | None, fast: bool = True,
) -> Iterator[pd.DataFrame]:
    """Observation batches of a CSV file: the fast reader while it can vouch for the
    file, then the reference reader from the first chunk it could not (see
    :mod:`skyfence.sources.csv_arrow`); every message comes from the reference."""
    from skyfence.sources.csv_arrow import NotFast, arrow_csv_frames, csv_header

    done = row0 = 0
    if fast:
        try:
            names = csv_header(path)
            cmap = _auto_map(names, columns).apply(names)
            numbers = {src for src, (dst, _) in cmap.items() if dst in _NUMBER_FIELDS}
            texts = {src for src, (dst, _) in cmap.items() if dst in STRING_FIELDS}
            for raw in arrow_csv_frames(path, chunk_rows, numbers, set(cmap), texts, names):
                try:
                    obs = normalize_table(raw, name=str(path), columns=columns,
                                          on_error="abort", row0=row0)
                except InputError:
                    raise NotFast("a bad value: the reference reports it") from None
                yield obs
                done += 1
                row0 += len(raw)
            if done:
                return
        except NotFast:
            pass
    row0 = rows = 0
    for k, chunk in enumerate(pandas_csv_chunks(path, chunk_rows)):
        if k >= done:
            yield normalize_table(chunk, name=str(path), columns=columns, on_error=on_error,
                                  row0=row0, rejects=rejects)
        row0 += len(chunk)
        rows += len(chunk)
    if rows == 0:
        raise InputError("file has a header but no rows", file=str(path))


#: Parquet integer columns -> pandas nullable integers, so a null does not turn an
#: integer column into floats (an icao24 of 4919860 must stay an integer)
_NULLABLE_INTS = {
    pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(),
}


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        pf = open_parquet(path)
        held: list[pa.RecordBatch] = []
        rows = 0
        # the reader cuts a batch where a row group (a dictionary) ends: pieces are joined
        # back into chunks of ``chunk_rows``, their dictionaries unified
        for rb in pf.iter_batches(batch_size=chunk_rows):
            held.append(rb)
            rows += rb.num_rows
            if rows >= chunk_rows:
                yield parquet_frame(held)
                held, rows = [], 0
        if held:
            yield parquet_frame(held)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot read as Parquet ({one_line(str(exc), 200)})", file=str(path)
                         ) from None


def open_parquet(path: Path) -> Any:
    """``pyarrow.parquet.ParquetFile`` of ``path`` for reading batch by batch: its text
    columns read as dictionaries, no pre-buffering (memory stays at one batch, not one
    whole row group).

    Text becomes categoricals (:func:`parquet_frame`): the field readers clean each
    distinct value once (ids repeat on every fix of a track). Read as dictionaries, a
    column written with dictionary pages (the usual way) keeps its codes, never decoded
    to one string per row and hashed again: 10 M Baltic rows read in 1.2-1.3 s instead
    of 1.8-2.2 s.
    """
    import pyarrow.parquet as pq

    text = [f.name for f in pq.read_schema(path)
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20, read_dictionary=text)


def parquet_frame(batches: list[pa.RecordBatch]) -> pd.DataFrame:
    """Record batches as one frame: integers nullable, text categorical."""
    whole = batches[0] if len(batches) == 1 else pa.Table.from_batches(batches)
    return whole.to_pandas(types_mapper=_NULLABLE_INTS.get, strings_to_categorical=True)


def parquet_source_column(pf: Any, columns: ColumnMap | None, field: str) -> str | None:
    """The column of an opened ``pyarrow.parquet.ParquetFile`` that the reader maps to
    ``field`` (``time``, ``icao24``, ...), from its schema alone; None when no column
    maps to it."""
    names = pf.schema_arrow.names
    cmap = _auto_map(names, columns).apply(names)
    return next((src for src, (dst, _) in cmap.items() if dst == field), None)


def check_parquet(path: str | Path) -> None:
    """Raise :class:`InputError` unless ``path`` opens as a Parquet file (footer read only)."""
    import pyarrow.parquet as pq

    try:
        pq.ParquetFile(path).metadata  # noqa: B018
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot read as Parquet ({one_line(str(exc), 200)})", file=str(path)
                         ) from None


def iter_table_chunks(
    path: str | Path,
    *,
    columns: ColumnMap | None = None,
    on_error: str = "abort",
    chunk_rows: int = 1_000_000,
    rejects: RejectLog | None = None,
    reference_csv: bool = False,
) -> Iterator[pd.DataFrame]:
    """Read a CSV / CSV.gz / Parquet file as observation batches of ``chunk_rows`` rows.

    ``reference_csv`` reads CSV with the reference (pandas) reader only.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=str(p))
    if p.is_dir():
        raise InputError("is a directory (give files or a glob)", file=str(p))
    if p.stat().st_size == 0:
        raise InputError("file is empty", file=str(p))
    suffixes = "".join(p.suffixes[-2:]).lower()
    if not suffixes.endswith((".parquet", ".pq")):
        yield from _csv_observations(p, columns=columns, on_error=on_error,
                                     chunk_rows=chunk_rows, rejects=rejects,
                                     fast=not reference_csv)
        return
    row0 = 0
    rows = 0
    for chunk in _parquet_chunks(p, chunk_rows):
        yield normalize_table(
            chunk, name=str(p), columns=columns, on_error=on_error, row0=row0, rejects=rejects
        )
        row0 += len(chunk)
        rows += len(chunk)
    if rows == 0:
        raise InputError("file has a header but no rows", file=str(p))


def read_table(
    path: str | Path,
    *,
    columns: ColumnMap | None = None,
    on_error: str = "abort",
    rejects: RejectLog | None = None,
    reference_csv: bool = False,
) -> pd.DataFrame:
    """Read a whole CSV / CSV.gz / Parquet file as one observation batch."""
    parts = list(iter_table_chunks(path, columns=columns, on_error=on_error, rejects=rejects,
                                   reference_csv=reference_csv))
    return concat_rows(parts)
