"""Tabular position files (CSV, CSV.gz, Parquet) and DataFrames -> observation batches.

Columns follow the OpenSky state-vector names and SI units (see the contract). Files
that name columns differently are read through a :class:`ColumnMap`, e.g. the
``traffic`` library's ``timestamp, latitude, longitude, altitude`` (feet). Every bad
value is reported with file, row (1-based data row, header excluded) and field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from skyfence.errors import InputError, UsageError
from skyfence.model import make_observations

FT = 0.3048
KT = 1852.0 / 3600.0
FPM = FT / 60.0
#: unit name -> factor to SI
UNITS = {
    "m": 1.0,
    "ft": FT,
    "m/s": 1.0,
    "kt": KT,
    "ft/min": FPM,
    "fpm": FPM,
    "s": 1.0,
    "ms": 1e-3,
    "deg": 1.0,
}

STRING_FIELDS = ("icao24", "callsign", "squawk")
NUMBER_FIELDS = ("lat", "lon", "baroaltitude", "geoaltitude", "velocity", "heading", "vertrate")
KNOWN_FIELDS = ("time", *STRING_FIELDS, *NUMBER_FIELDS, "onground")


@dataclass(frozen=True)
class ColumnMap:
    """Source column -> (contract field, factor to SI)."""

    mapping: Mapping[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> ColumnMap:
        """Parse ``SRC=FIELD[:UNIT],...`` or a preset name (``traffic``, ``opensky``)."""
        if spec in PRESETS:
            return PRESETS[spec]
        out: dict[str, tuple[str, float]] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
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


class _Checker:
    """Validates one table: raises on the first bad value, or records bad rows (skip)."""

    def __init__(self, name: str, row0: int, on_error: str, rejects: RejectLog | None) -> None:
        self.name, self.row0, self.on_error = name, row0, on_error
        self.rejects = rejects if rejects is not None else RejectLog()
        self.bad: np.ndarray | None = None

    def flag(self, mask: np.ndarray, fld: str, what: str, values: np.ndarray | None = None) -> None:
        """Report the rows of ``mask`` as bad in field ``fld``."""
        if not mask.any():
            return
        first = int(np.flatnonzero(mask)[0])
        shown = "" if values is None else f" {values[first]!r}"
        err = InputError(f"{what}{shown}", file=self.name, row=self.row0 + first + 1, field=fld)
        if self.on_error != "skip":
            raise err
        self.bad = mask if self.bad is None else (self.bad | mask)
        self.rejects.by_field[fld] = self.rejects.by_field.get(fld, 0) + int(mask.sum())
        if len(self.rejects.examples) < 5:
            self.rejects.examples.append(str(err))

    def keep(self) -> np.ndarray | None:
        """Rows to keep, or None when every row is good; counts the rejected rows."""
        if self.bad is None:
            return None
        self.rejects.count += int(self.bad.sum())
        return ~self.bad


def _to_number(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64, unparsable mask) for a column of any type."""
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(np.float64), np.zeros(len(col), bool)
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(np.float64, na_value=np.nan), np.zeros(len(col), bool)
    num = pd.to_numeric(col, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    present = col.notna().to_numpy() & (col.astype(str).str.strip() != "").to_numpy()
    return num, present & np.isnan(num)


def _to_time(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(unix seconds, unparsable mask): numbers, datetimes or ISO 8601 strings."""
    if pd.api.types.is_datetime64_any_dtype(col):
        ts = pd.to_datetime(col, utc=True)
        secs = (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64)
        return secs, np.zeros(len(col), bool)
    num, bad = _to_number(col)
    if bad.any():
        s = col.astype("string")
        ts = pd.to_datetime(s[bad], utc=True, errors="coerce", format="ISO8601")
        secs = (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64)
        num = num.copy()
        num[bad] = secs
        bad = bad & np.isnan(num)
    return num, bad


def normalize_table(
    df: pd.DataFrame,
    *,
    name: str = "<dataframe>",
    columns: ColumnMap | None = None,
    on_error: str = "abort",
    row0: int = 0,
    rejects: RejectLog | None = None,
) -> pd.DataFrame:
    """Validate a raw table and turn it into an observation batch (SI units)."""
    names = [str(c) for c in df.columns]
    cmap = _auto_map(names, columns).apply(names)
    present = {dst for dst, _ in cmap.values()}
    for req in ("time", "icao24", "lat", "lon"):
        if req not in present:
            raise InputError(
                f"required column '{req}' is missing (columns: {', '.join(names[:12])})",
                file=name,
                field=req,
            )
    if len(df) == 0:
        return make_observations(time=[], icao24=[], lat=[], lon=[])
    chk = _Checker(name, row0, on_error, rejects)
    out: dict[str, Any] = {}
    for src, (dst, factor) in cmap.items():
        col = df[src]
        if dst == "time":
            vals, bad = _to_time(col)
            chk.flag(np.isnan(vals) & ~bad, dst, "time is missing")
            chk.flag(bad, dst, "time is not a number or an ISO 8601 time:", col.to_numpy())
            out[dst] = vals * factor
        elif dst in STRING_FIELDS:
            # ids repeat on every row of a track: clean the distinct values only
            codes, uniq = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
            u = pd.Series(uniq, dtype=object).astype("string").str.strip()
            u = u.mask(u == "")
            if dst == "icao24":
                # ICAO addresses in lower-case hex (as OpenSky); other ids kept as given
                hexa = u.str.fullmatch(r"[0-9A-Fa-f]{6}").fillna(False).to_numpy(bool)
                u = u.where(~hexa, u.str.lower())
            clean = np.asarray([*u.astype(object).where(u.notna(), None), None], dtype=object)
            vals_s = clean[np.where(codes < 0, len(clean) - 1, codes)]
            if dst == "icao24":
                chk.flag(np.asarray(pd.isna(vals_s)), dst, "track id is empty")
            out[dst] = vals_s
        elif dst == "onground":
            out[dst] = col.map(lambda v: str(v).strip().lower() in ("true", "1", "t")).to_numpy(
                bool
            )
        else:
            vals, bad = _to_number(col)
            chk.flag(bad, dst, "not a number:", col.to_numpy())
            out[dst] = vals * factor
    lat, lon = out["lat"], out["lon"]
    chk.flag(np.isnan(lat), "lat", "latitude is missing")
    chk.flag(np.isnan(lon), "lon", "longitude is missing")
    chk.flag(~np.isnan(lat) & ((lat < -90) | (lat > 90)), "lat", "latitude outside [-90, 90]:", lat)
    chk.flag(
        ~np.isnan(lon) & ((lon < -180) | (lon > 180)), "lon", "longitude outside [-180, 180]:", lon
    )
    geo = out.pop("geoaltitude", None)
    baro = out.pop("baroaltitude", None)
    if geo is not None and baro is not None:
        out["altitude"] = np.where(np.isnan(geo), baro, geo)
    else:
        out["altitude"] = geo if geo is not None else baro
    obs = make_observations(**out)
    keep = chk.keep()
    if keep is not None:
        obs = obs[keep].reset_index(drop=True)
    return obs


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        reader = pd.read_csv(
            path,
            chunksize=chunk_rows,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            compression="infer",
            engine="c",
        )
        yield from reader
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", file=str(path)) from None
    except (UnicodeDecodeError, pd.errors.ParserError, OSError, EOFError) as exc:
        raise InputError(
            f"cannot read as CSV ({str(exc).splitlines()[0]})", file=str(path)
        ) from None


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        # no pre-buffering: memory stays at one batch, not one whole row group
        pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        for rb in pf.iter_batches(batch_size=chunk_rows):
            yield rb.to_pandas()
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read as Parquet ({exc})", file=str(path)) from None


def iter_table_chunks(
    path: str | Path,
    *,
    columns: ColumnMap | None = None,
    on_error: str = "abort",
    chunk_rows: int = 1_000_000,
    rejects: RejectLog | None = None,
) -> Iterator[pd.DataFrame]:
    """Read a CSV / CSV.gz / Parquet file as observation batches of ``chunk_rows`` rows."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=str(p))
    if p.is_dir():
        raise InputError("is a directory (give files or a glob)", file=str(p))
    if p.stat().st_size == 0:
        raise InputError("file is empty", file=str(p))
    suffixes = "".join(p.suffixes[-2:]).lower()
    raw = (
        _parquet_chunks(p, chunk_rows)
        if suffixes.endswith((".parquet", ".pq"))
        else _csv_chunks(p, chunk_rows)
    )
    row0 = 0
    rows = 0
    for chunk in raw:
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
) -> pd.DataFrame:
    """Read a whole CSV / CSV.gz / Parquet file as one observation batch."""
    parts = list(iter_table_chunks(path, columns=columns, on_error=on_error, rejects=rejects))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
