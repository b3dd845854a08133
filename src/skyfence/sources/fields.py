"""Reading the identity fields of a position table: ``icao24``, ``callsign``, ``squawk``.

These fields decide severity (a track id that is not an ICAO address is a
non-cooperative target; squawk 7700 is an emergency), so each is read as what it is
or rejected, never reinterpreted:

- ``icao24`` text is stripped; a 6-digit hex id is lower-cased (as OpenSky writes
  it); any other text is kept as a non-ICAO track id (radar tracks). Text with a
  control or invisible character (a NUL byte, a zero-width space), or longer than
  :data:`MAX_ID_CHARS`, is rejected: it would turn an ICAO address into a
  "non-cooperative" id. An **integer** column (Parquet ``int64``) is read as the
  24-bit address itself, written as 6 hex digits (``4919860`` -> ``4b1234``), when it
  lies in 0..0xFFFFFF, and rejected otherwise. Floating-point, boolean and other
  values are rejected.
- ``squawk``: ``'7700'``, ``7700`` and ``7700.0`` all read as ``'7700'``; a number
  without its leading zeros is padded (``123`` -> ``'0123'``). Anything that is not
  then 4 octal digits (``7800``, ``77000``, ``7700.5``, ``abcd``) is rejected.
- ``callsign``: text, stripped, at most :data:`MAX_ID_CHARS` characters, no control
  characters; integers are written in decimal.

Distinct values are cleaned once (ids repeat on every row of a track), so the cost
follows the number of tracks, not of rows; of a dictionary-encoded column, only the
values its rows use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from skyfence.sources.convert import Unhashable, factorize_objects

__all__ = ["MAX_ID_CHARS", "FieldProblem", "TextField", "read_text_field"]

#: longest icao24 or callsign accepted (ICAO callsigns have 7 characters, addresses 6)
MAX_ID_CHARS = 64
ICAO_MAX = 0xFFFFFF
#: control (Cc) and invisible format (Cf) characters, line/paragraph separators and the
#: NUL symbol the CSV reader puts where the file had a NUL byte
_HIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u2400\ufeff\ufff9-\ufffb]"
)
_HEX6 = re.compile(r"[0-9A-Fa-f]{6}")
_DECIMAL = re.compile(r"\d+(?:\.0*)?")
_SQUAWK = re.compile(r"[0-7]{4}")

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class FieldProblem:
    """Rows (``mask``) whose value cannot be used, and why (``what``)."""

    mask: BoolArray
    what: str


class TextField(NamedTuple):
    """A text column as read: clean values, problems, and where there is no value."""

    #: str or None per row (None at every row a problem lists)
    values: ObjArray
    problems: list[FieldProblem]
    #: rows whose value is None (blank, missing or unusable): ``values == None``,
    #: found per distinct value, not per row
    missing: BoolArray


def read_text_field(col: pd.Series, field: str) -> TextField:
    """Clean values (str or None) of ``field`` (icao24, callsign or squawk), problems,
    and the rows left without a value.

    Rows listed in a problem hold None in the returned values.

    Examples
    --------
    >>> vals, probs, missing = read_text_field(pd.Series([4919860, 16777216]), "icao24")
    >>> vals.tolist(), [p.what for p in probs], missing.tolist()
    (['4b1234', None], ['integer icao24 is not a 24-bit ICAO address (0 to 16777215)'], \
[False, True])
    >>> read_text_field(pd.Series(["7700.0", 123.0, None]), "squawk").values.tolist()
    ['7700', '0123', None]
    """
    if isinstance(col.dtype, pd.CategoricalDtype):  # dictionary-encoded: distinct given
        codes = np.asarray(col.cat.codes.to_numpy(), dtype=np.intp)
        uniq = np.asarray(col.cat.categories.to_numpy(dtype=object), dtype=object)
        clean, why = _clean_used(uniq, codes, field, col.cat.categories.dtype)
    else:
        codes, uniq = factorize_objects(col.to_numpy(dtype=object))
        clean, why = _clean_distinct(uniq, field, col.dtype)
    # a missing value's code (-1) takes the last element: the None after the values
    padded = np.empty(len(clean) + 1, dtype=object)
    padded[:-1] = clean
    none = np.asarray([v is None for v in clean] + [True], dtype=bool)
    problems = []
    for reason in dict.fromkeys(w for w in why if w is not None):
        bad_codes = np.flatnonzero(np.asarray([w == reason for w in why], dtype=bool))
        problems.append(FieldProblem(np.isin(codes, bad_codes), reason))
    return TextField(padded[codes], problems, none[codes])


def _clean_used(
    uniq: ObjArray, codes: npt.NDArray[np.intp], field: str, dtype: Any
) -> tuple[ObjArray, list[str | None]]:
    """:func:`_clean_distinct` of the values some row uses (None, no reason, for the
    others): a chunk read from a dictionary-encoded Parquet row group carries the
    whole row group's dictionary (a 1 M-row group of the Baltic benchmark: ~6,000
    ids, of which a 250,000-row chunk uses a quarter)."""
    used = np.zeros(len(uniq) + 1, dtype=bool)
    used[codes] = True  # a missing value's code (-1) marks the spare last slot
    held = np.flatnonzero(used[:-1])
    if len(held) == len(uniq):
        return _clean_distinct(uniq, field, dtype)
    some, some_why = _clean_distinct(uniq[held], field, dtype)
    clean = np.full(len(uniq), None, dtype=object)
    clean[held] = some
    why: list[str | None] = [None] * len(uniq)
    for i, w in zip(held.tolist(), some_why, strict=True):
        why[i] = w
    return clean, why


def _clean_distinct(
    uniq: ObjArray, field: str, dtype: Any
) -> tuple[ObjArray, list[str | None]]:
    """(clean value or None, reason or None) of each distinct value."""
    n = len(uniq)
    if n == 0:
        return np.empty(0, dtype=object), []
    kind = pd.api.types.infer_dtype(uniq, skipna=True)
    if kind == "string":
        return _clean_strings(uniq, field)
    clean = np.empty(n, dtype=object)
    why: list[str | None] = [None] * n
    for i, v in enumerate(uniq):
        clean[i], why[i] = _clean_one(v, field, dtype)
    return clean, why


def _clean_strings(uniq: ObjArray, field: str) -> tuple[ObjArray, list[str | None]]:
    """Vectorized cleaning of distinct text values."""
    s = pd.Series(uniq, dtype=object).str.strip()
    hidden = s.str.contains(_HIDDEN, regex=True).to_numpy(bool)
    long_ = (s.str.len() > MAX_ID_CHARS).to_numpy(bool)
    why: list[str | None] = [None] * len(s)
    for i in np.flatnonzero(hidden).tolist():
        why[i] = f"{field} contains a NUL byte or a control or invisible character"
    for i in np.flatnonzero(long_ & ~hidden).tolist():
        why[i] = f"{field} is longer than {MAX_ID_CHARS} characters"
    if field == "icao24":
        hexa = s.str.fullmatch(_HEX6).to_numpy(bool)
        s = s.where(~hexa, s.str.lower())
    elif field == "squawk":
        values: list[str | None] = list(s.tolist())  # a Series set item by item is slow
        for j, v in enumerate(values):
            if why[j] is None and v:
                values[j], why[j] = _squawk_text(v)
        s = pd.Series(values, dtype=object)
    clean = s.to_numpy(dtype=object)
    clean[(s == "").to_numpy(bool)] = None
    for k, w in enumerate(why):
        if w is not None:
            clean[k] = None
    return clean, why


def _clean_one(v: Any, field: str, dtype: Any) -> tuple[str | None, str | None]:
    """One distinct value of a non-text (or mixed) column."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        try:
            v = bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return None, f"{field} is not UTF-8 text"
    if isinstance(v, str):
        c, w = _clean_strings(np.asarray([v], dtype=object), field)
        return c[0], w[0]
    if isinstance(v, (bool, np.bool_)):
        return None, f"{field} is true/false, not text"
    if isinstance(v, (int, np.integer)):
        return _from_integer(int(v), field)
    if isinstance(v, (float, np.floating)):
        if field == "squawk" and float(v).is_integer():
            return _from_integer(int(v), field)
        return None, (f"{field} is a floating-point number; give it as text"
                      + (" or as an integer" if field == "icao24" else ""))
    name = v.type_name if isinstance(v, Unhashable) else type(v).__name__
    return None, f"{field} is a {name}, not text"


def _from_integer(v: int, field: str) -> tuple[str | None, str | None]:
    if field == "icao24":
        if 0 <= v <= ICAO_MAX:
            return f"{v:06x}", None
        return None, f"integer icao24 is not a 24-bit ICAO address (0 to {ICAO_MAX})"
    if field == "squawk":
        return _squawk_text(str(v)) if v >= 0 else (None, "squawk is not 4 octal digits")
    return str(v), None


def _squawk_text(v: str) -> tuple[str | None, str | None]:
    """``'7700'``, ``'7700.0'`` and ``'123'`` as 4 octal digits, or why not."""
    if _DECIMAL.fullmatch(v):
        digits = v.split(".")[0].lstrip("0").zfill(4)
        if _SQUAWK.fullmatch(digits):
            return digits, None
    return None, "squawk is not 4 octal digits (0000 to 7777)"
