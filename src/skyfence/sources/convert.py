"""Columns of any type -> float64 numbers, unix seconds and flags, with what failed.

A table column may hold text (CSV), typed values (Parquet: integers, floats,
timestamps, dictionary-encoded text) or mixed Python objects (a DataFrame given to the
API). Each function returns the values and a mask of the rows that could not be read;
missing values (empty text, null, NaN, the text ``nan``) are NaN and are not
"unreadable" (whether a field may be missing is the caller's rule). Text columns are
parsed column-wise; only mixed object columns are read one value at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import math
import numbers

import numpy as np
import numpy.typing as npt
import pandas as pd

from skyfence.factorize import factorize_runs

__all__ = ["Unhashable", "factorize_objects", "missing_mask", "to_flag", "to_number",
           "to_unix_seconds"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_TRUE = ("true", "t", "1", "1.0", "yes", "y")


class Unhashable:
    """Stands for a value that cannot be a key (a list or array in a Parquet cell)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unhashable) and other.type_name == self.type_name

    def __hash__(self) -> int:
        return hash(("Unhashable", self.type_name))

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def factorize_objects(values: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.intp],
                                                                 npt.NDArray[np.object_]]:
    """``pd.factorize`` (codes, distinct values; -1 for missing) that also accepts
    unhashable cells, each standing as an :class:`Unhashable` of its type."""
    try:
        codes, uniq = factorize_runs(values)
    except (TypeError, ValueError, ArithmeticError):
        fixed = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            try:
                hash(v)
                fixed[i] = v
            except (TypeError, ValueError, ArithmeticError):
                fixed[i] = Unhashable(type(v).__name__)
        codes, uniq = pd.factorize(fixed, use_na_sentinel=True)
    return np.asarray(codes), np.asarray(uniq, dtype=object)


def _plain(col: pd.Series) -> pd.Series:
    """A categorical (Parquet dictionary) column as a column of its values."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return pd.Series(col.to_numpy(dtype=object), index=col.index, dtype=object)
    return col


def _real(v: object) -> float | None:
    """A Python / numpy real number as a float (huge integers become +-inf); None when
    it has no float value (a signaling NaN)."""
    try:
        return float(v)  # type: ignore[arg-type]
    except OverflowError:
        return math.inf if v > 0 else -math.inf  # type: ignore[operator]
    except (ValueError, TypeError, ArithmeticError):
        return None


def missing_mask(values: npt.NDArray[np.object_]) -> BoolArray:
    """``pd.isna`` of an object array, also for values pandas cannot test (``sNaN``)."""
    try:
        return np.asarray(pd.isna(values), dtype=bool)
    except (TypeError, ValueError, ArithmeticError):
        out = np.zeros(len(values), dtype=bool)
        for i, v in enumerate(values):
            try:
                out[i] = bool(pd.isna(v)) if np.ndim(v) == 0 else False
            except (TypeError, ValueError, ArithmeticError):
                out[i] = False
        return out


def to_number(col: pd.Series) -> tuple[FloatArray, BoolArray]:
    """(values as float64, unreadable mask) of a column of any type.

    ``inf`` is read as a number (it is then outside every plausible range); true/false
    values are unreadable as numbers.

    Examples
    --------
    >>> v, bad = to_number(pd.Series(["1.5", "", "nan", "x", " inf "], dtype=object))
    >>> v.tolist()[:2], bad.tolist()
    ([1.5, nan], [False, False, False, True, False])
    """
    col = _plain(col)
    n = len(col)
    if pd.api.types.is_bool_dtype(col):
        return np.full(n, np.nan), np.asarray(col.notna().to_numpy(), dtype=bool)
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_timedelta64_dtype(col):
        with contextlib.suppress(TypeError, ValueError, OverflowError):
            return col.to_numpy(np.float64, na_value=np.nan), np.zeros(n, bool)
    obj = col.to_numpy(dtype=object)
    missing = missing_mask(obj)
    num = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    if pd.api.types.infer_dtype(obj, skipna=True) == "string":
        is_text = ~missing
    else:  # mixed Python objects: one value at a time
        is_text = np.zeros(n, dtype=bool)
        for i in np.flatnonzero(~missing):
            v = obj[i]
            if isinstance(v, str):
                is_text[i] = True
            elif isinstance(v, (numbers.Real, decimal.Decimal)) and not isinstance(
                    v, (bool, np.bool_)):
                x = _real(v)
                if x is None:
                    bad[i] = True
                else:
                    num[i] = x
                    missing[i] = math.isnan(x)
            else:
                bad[i] = True
    if is_text.any():
        idx = np.flatnonzero(is_text)
        # to_numeric allows surrounding blanks; only texts it cannot read are looked at
        parsed = pd.to_numeric(pd.Series(obj[idx], dtype=object), errors="coerce")
        vals = np.asarray(parsed, dtype=np.float64)
        num[idx] = vals
        unread = idx[np.isnan(vals)]
        if len(unread):  # blanks and "nan" are missing; " inf " is read once stripped
            t = pd.Series(obj[unread], dtype=object).str.strip()
            low = t.str.lower()
            blank = ((low == "") | (low == "nan")).to_numpy(bool)
            again = np.asarray(pd.to_numeric(t, errors="coerce"), dtype=np.float64)
            num[unread] = again
            bad[unread[~blank & np.isnan(again)]] = True
    return num, bad


def to_unix_seconds(col: pd.Series) -> tuple[FloatArray, BoolArray]:
    """(unix seconds, unreadable mask): numbers, timestamps or ISO 8601 text.

    Time-zone-naive timestamps and ISO texts without an offset are UTC.

    Examples
    --------
    >>> s, bad = to_unix_seconds(pd.Series(["1700000000", "2023-11-14T22:13:20Z", "x"]))
    >>> s.tolist()[:2], bad.tolist()
    ([1700000000.0, 1700000000.0], [False, False, True])
    """
    col = _plain(col)
    if pd.api.types.is_datetime64_any_dtype(col):
        return _timestamps(col), np.zeros(len(col), bool)
    num, bad = to_number(col)
    if bad.any():
        obj = col.to_numpy(dtype=object)[bad]
        texts = pd.Series([v if isinstance(v, str) else None for v in obj], dtype=object)
        secs = np.full(len(obj), np.nan)
        with contextlib.suppress(ValueError, TypeError, OverflowError):
            ts = pd.to_datetime(texts, utc=True, errors="coerce", format="ISO8601")
            secs = _timestamps(ts)
        for i, v in enumerate(obj):  # datetime objects in a mixed column (a DataFrame)
            if isinstance(v, (dt.datetime, np.datetime64)):
                secs[i] = _one_timestamp(v)
        num = num.copy()
        num[bad] = secs
        bad = bad & np.isnan(num)
    return num, bad


def _one_timestamp(v: dt.datetime | np.datetime64) -> float:
    """Unix seconds of one datetime (naive = UTC); NaN when it cannot be represented."""
    try:
        ts = pd.Timestamp(v)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return float(ts.timestamp())
    except (ValueError, TypeError, OverflowError):
        return math.nan


def _timestamps(col: pd.Series) -> FloatArray:
    """Unix seconds of a timestamp column, in its own resolution (no overflow at ns)."""
    ts = pd.to_datetime(col, utc=True).dt.tz_convert(None)
    arr = np.asarray(ts.to_numpy())
    unit, count = np.datetime_data(arr.dtype)
    ticks_per_s = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit] / count
    secs = arr.view(np.int64).astype(np.float64) / ticks_per_s
    secs[np.isnat(arr)] = np.nan
    return np.asarray(secs, dtype=np.float64)


def to_flag(col: pd.Series) -> BoolArray:
    """``onground``-style flags: true/t/1/yes (any case) or a true boolean; else False."""
    col = _plain(col)
    if pd.api.types.is_bool_dtype(col):
        return np.asarray(col.fillna(False).to_numpy(bool), dtype=bool)
    codes, uniq = factorize_objects(col.to_numpy(dtype=object))
    truth = np.asarray(
        [v is True or (isinstance(v, np.bool_) and bool(v))
         or str(v).strip().lower() in _TRUE for v in uniq] + [False],
        dtype=bool,
    )
    return np.asarray(truth[np.where(codes < 0, len(uniq), codes)], dtype=bool)
