"""Codes of a column of Python objects (ids, callsigns, squawks), as ``pd.factorize``.

Readers and the detector turn object columns into integer codes several times per
batch; hashing every row of a 10-million-row column costs about 0.1 s a million rows.
Surveillance data mostly repeats a value along a track, so hashing one row per run of
equal neighbours gives the same codes for a fraction of the cost.
"""

from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["factorize_runs"]

#: rows sampled to decide whether a column comes in runs of repeated values
_RUN_SAMPLE = 4_096


def _addresses(values: npt.NDArray[np.object_]) -> npt.NDArray[np.intp]:
    """The object pointers an object array holds, as integers (a view of its memory,
    valid while ``values`` lives)."""
    buf = (ctypes.c_ssize_t * len(values)).from_address(values.__array_interface__["data"][0])
    return np.ctypeslib.as_array(buf)


def _differs_from_previous(values: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """``values[1:] != values[:-1]``, comparing only where the two are not the same
    object: the readers give one object per distinct text (``padded[codes]``), so a run
    of a track's id is one object repeated, and comparing pointers first is ~10x cheaper
    than a Python comparison per row. (The same object twice counts as no change, even
    a NaN, which ``!=`` calls changed: both are missing to ``pd.factorize`` alike.)

    >>> a, b = "".join(["x", "y"]), "".join(["xy"])
    >>> _differs_from_previous(np.array([a, a, b, None, None, "z"], dtype=object)).tolist()
    [False, False, True, False, True]
    """
    if values.dtype != object or len(values) < 2:
        return np.asarray(values[1:] != values[:-1], dtype=bool)
    values = np.ascontiguousarray(values)
    ptr = _addresses(values)
    out = np.zeros(len(values) - 1, dtype=bool)
    cand = np.flatnonzero(ptr[1:] != ptr[:-1])
    out[cand] = values[cand + 1] != values[cand]
    return out


def factorize_runs(values: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.intp],
                                                              npt.NDArray[np.object_]]:
    """``pd.factorize(values, use_na_sentinel=True)``, faster on columns that repeat
    each value for many rows (an aircraft's id, callsign and squawk along its track).

    Only the first row of each run of equal neighbours is hashed; the codes are
    repeated along the runs. Codes follow first appearance either way, so the answer
    is ``pd.factorize``'s. A column whose first rows change at almost every row (a
    time-ordered feed interleaving aircraft) is factorized directly, as are columns
    whose values cannot be compared (``TypeError`` and the like are raised by
    ``pd.factorize`` itself, as they would be without this).

    >>> codes, uniq = factorize_runs(np.array(["a", "a", None, "b", "a"], dtype=object))
    >>> codes.tolist(), uniq.tolist()
    ([0, 0, -1, 1, 0], ['a', 'b'])
    """
    n = len(values)
    head = values[: min(n, _RUN_SAMPLE)]
    try:
        if n < 64 or int(np.count_nonzero(head[1:] != head[:-1])) * 4 > len(head):
            raise ValueError  # no long runs: hash every row
        new = np.empty(n, dtype=bool)
        new[0] = True
        new[1:] = _differs_from_previous(values)
    except (TypeError, ValueError, ArithmeticError):
        return _factorize_objects(values)
    heads = np.flatnonzero(new)
    codes, uniq = pd.factorize(values[heads], use_na_sentinel=True)
    return (np.repeat(np.asarray(codes), np.diff(np.append(heads, n))),
            np.asarray(uniq, dtype=object))


def _factorize_objects(values: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.intp],
                                                                 npt.NDArray[np.object_]]:
    """``pd.factorize(values, use_na_sentinel=True)`` of a column whose rows interleave
    their values (a time-ordered feed): by object first, then by value.

    The readers give one object per distinct text, so the rows hold a few thousand
    distinct objects: their pointers are factorized as integers (no Python hash or
    comparison per row) and only the distinct objects by value. Codes follow first
    appearance either way, and the same object is the same value, so the answer is
    ``pd.factorize``'s. A column of mostly distinct objects (texts made one per row) is
    factorized by value directly.

    >>> a, b = "".join(["a", "b"]), "".join(["ab"])  # equal texts, two objects
    >>> codes, uniq = _factorize_objects(np.array([a, None, b, "c", a], dtype=object))
    >>> codes.tolist(), uniq.tolist()
    ([0, -1, 0, 1, 0], ['ab', 'c'])
    """
    if values.dtype == object and len(values) >= 64:
        values = np.ascontiguousarray(values)
        by_object, first = pd.factorize(_addresses(values))
        if 4 * len(first) <= len(values):
            codes, uniq = pd.factorize(values[_first_rows(by_object)], use_na_sentinel=True)
            return np.asarray(codes)[by_object], np.asarray(uniq, dtype=object)
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes), np.asarray(uniq, dtype=object)


def _first_rows(codes: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """The first row holding each code (codes numbered in order of first appearance,
    as ``pd.factorize`` gives them; none missing).

    >>> _first_rows(np.array([0, 1, 0, 2, 1])).tolist()
    [0, 1, 3]
    """
    if not len(codes):
        return np.empty(0, dtype=np.intp)
    # a new code is one more than every code before it: the running maximum steps there
    seen = np.maximum.accumulate(codes)
    return np.concatenate([[0], np.flatnonzero(seen[1:] != seen[:-1]) + 1])
