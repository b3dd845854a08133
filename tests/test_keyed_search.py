"""Searching rows sorted by (code, time) gives what a search of tuples gives.

Checked against :func:`bisect.bisect_left` / ``bisect_right`` on Python tuples (an
independent reference), with codes up to a day's aircraft and times milliseconds apart,
where the float key ``code * 1e10 + time`` the search replaces goes wrong.
"""

from __future__ import annotations

import bisect

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skyfence.keyed_search import searchsorted_pairs

CODES = st.integers(0, 300_000)
TIMES = st.one_of(st.floats(1.7e9, 1.7e9 + 0.05), st.floats(-1e12, 1e12),
                  st.sampled_from([0.0, -0.0, float("inf"), float("-inf"), 1.7e9]))


@given(rows=st.lists(st.tuples(CODES, TIMES), max_size=40),
       queries=st.lists(st.tuples(CODES, TIMES), min_size=1, max_size=20),
       side=st.sampled_from(["left", "right"]))
def test_search_equals_a_search_of_tuples(rows: list[tuple[int, float]],
                                          queries: list[tuple[int, float]],
                                          side: str) -> None:
    rows = sorted(rows)
    # a query of a code the rows hold is asked at times near the rows' too
    queries = queries + [(c, t + d) for c, t in rows[:5] for d in (0.0, 1e-3, -1e-3)]
    code = np.array([c for c, _ in rows], dtype=np.int64)
    t = np.array([x for _, x in rows], dtype=np.float64)
    got = searchsorted_pairs(code, t, np.array([c for c, _ in queries]),
                             np.array([x for _, x in queries]), side)  # type: ignore[arg-type]
    find = bisect.bisect_left if side == "left" else bisect.bisect_right
    want = [find(rows, (c, x + 0.0)) for c, x in queries]
    assert got.tolist() == want


def test_the_float_key_it_replaces_confuses_times_a_millisecond_apart() -> None:
    """Why the search exists: at code 100,000 the float key cannot tell 1 ms apart."""
    code = np.array([100_000, 100_000])
    t = np.array([1.7e9, 1.7e9 + 0.001])
    assert code[0] * 1e10 + t[0] == code[1] * 1e10 + t[1]
    assert searchsorted_pairs(code, t, code[:1], t[1:], "left").tolist() == [1]
