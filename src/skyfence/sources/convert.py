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
import math
import numbers

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["to_flag", "to_number", "to_unix_seconds"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_EPOCH = pd.Timestamp(0, tz="UTC")
_TRUE = ("true", "t", "1", "1.0", "yes", "y")


def _plain(col: pd.Series) -> pd.Series:
    """A categorical (Parquet dictionary) column as a column of its values."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return pd.Series(col.to_numpy(dtype=object), index=col.index, dtype=object)
    return col


def _real(v: object) -> float:
    """A Python / numpy real number as a float (huge integers become +-inf)."""
    try:
        return float(v)  # type: ignore[arg-type]
    except OverflowError:
        return math.copysign(math.inf, v)  # type: ignore[arg-type]


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
    missing = np.asarray(pd.isna(obj), dtype=bool)
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
            elif isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)):
                num[i] = _real(v)
                missing[i] = bool(np.isnan(num[i]))
            else:
                bad[i] = True
    if is_text.any():
        idx = np.flatnonzero(is_text)
        t = pd.Series(obj[idx], dtype=object).str.strip()
        blank = ((t == "") | (t.str.lower() == "nan")).to_numpy(bool)
        parsed = pd.to_numeric(t.where(~blank, None), errors="coerce")
        vals = np.asarray(parsed, dtype=np.float64)
        num[idx] = vals
        bad[idx[~blank & np.isnan(vals)]] = True
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
        with contextlib.suppress(ValueError, TypeError, OverflowError):
            ts = pd.to_datetime(texts, utc=True, errors="coerce", format="ISO8601")
            secs = _timestamps(ts)
            num = num.copy()
            num[bad] = secs
            bad = bad & np.isnan(num)
    return num, bad


def _timestamps(col: pd.Series) -> FloatArray:
    ts = pd.to_datetime(col, utc=True)
    secs = (ts - _EPOCH).dt.total_seconds()
    return np.asarray(secs.to_numpy(np.float64, na_value=np.nan), dtype=np.float64)


def to_flag(col: pd.Series) -> BoolArray:
    """``onground``-style flags: true/t/1/yes (any case) or a true boolean; else False."""
    col = _plain(col)
    if pd.api.types.is_bool_dtype(col):
        return np.asarray(col.fillna(False).to_numpy(bool), dtype=bool)
    codes, uniq = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
    truth = np.asarray(
        [v is True or (isinstance(v, np.bool_) and bool(v))
         or str(v).strip().lower() in _TRUE for v in uniq] + [False],
        dtype=bool,
    )
    return np.asarray(truth[np.where(codes < 0, len(uniq), codes)], dtype=bool)
