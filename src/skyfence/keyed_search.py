"""``numpy.searchsorted`` on rows sorted by (track code, time), exactly.

Fusion and registration keep messages sorted by track code, then time, and look up
where a (code, time) query falls. A composite float key ``code * 1e10 + time`` does that
in one search, but not exactly: float64 holds 53 bits, so at code 1,000 (key ~1e13) two
times 2 ms apart can get the same key, and at code 100,000 (a day's aircraft in a
long-running watch) 0.1 s apart; the search then brackets a time with the wrong
neighbours. :func:`searchsorted_pairs` replaces each time by its rank among the distinct
times (an integer), which keeps the order exactly, and searches integer keys.

>>> code = np.array([0, 0, 7, 7, 7])
>>> t = np.array([5.0, 9.0, 1.0, 2.0, 2.0])
>>> searchsorted_pairs(code, t, np.array([7, 7, 0]), np.array([2.0, 1.5, 10.0]), "left")
array([3, 3, 2])
>>> searchsorted_pairs(code, t, np.array([7, 7, 0]), np.array([2.0, 1.5, 10.0]), "right")
array([5, 3, 2])
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["searchsorted_pairs"]


def searchsorted_pairs(
    codes: npt.ArrayLike, times: npt.ArrayLike, query_codes: npt.ArrayLike,
    query_times: npt.ArrayLike, side: Literal["left", "right"] = "left",
) -> npt.NDArray[np.intp]:
    """Where each (``query_codes``, ``query_times``) pair goes among the rows
    (``codes``, ``times``), which are sorted by code, then time: what
    ``np.searchsorted`` of tuples would give with ``side``.

    Codes are integers; times are floats without NaN (infinities are fine).
    """
    c = np.asarray(codes, dtype=np.int64)
    t = np.asarray(times, dtype=np.float64)
    qc = np.asarray(query_codes, dtype=np.int64)
    qt = np.asarray(query_times, dtype=np.float64)
    distinct = np.unique(t)
    # a time's rank among the distinct times; a query's rank is placed so that integer
    # keys compare as the (code, time) pairs do
    width = len(distinct) + 1
    key = c * width + np.searchsorted(distinct, t)
    if side == "right":
        rank = np.searchsorted(distinct, qt, side="right") - 1  # the last time <= query
    else:
        rank = np.searchsorted(distinct, qt, side="left")  # times < query
    return np.searchsorted(key, qc * width + rank, side=side).astype(np.intp)
