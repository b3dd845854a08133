"""factorize_runs against pandas' own factorize (the reference), on columns with and
without runs, missing values of every kind, mixed types and values pandas refuses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.factorize import factorize_runs

#: values a text column of a batch can hold: ids, blanks, the missing values of
#: CSV / Parquet / hand-built frames, and numbers equal across types (1 == 1.0 == True)
VALUES = st.sampled_from(["3c6444", "3C6444", "", " ", "BAW12", None, math.nan,
                          np.float64("nan"), 1, 1.0, True, "1", "7700", "7500"])


def _reference(values: np.ndarray) -> tuple[list[int], list[str]]:
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    return codes.tolist(), [repr(u) for u in uniq]


def _ours(values: np.ndarray) -> tuple[list[int], list[str]]:
    codes, uniq = factorize_runs(values)
    return codes.tolist(), [repr(u) for u in uniq]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(VALUES, st.integers(1, 40)), min_size=0, max_size=60))
def test_runs_give_pandas_codes(runs: list[tuple[object, int]]) -> None:
    """Columns made of runs (long enough that only run heads are hashed)."""
    values = np.array([v for v, k in runs for _ in range(k)] or [], dtype=object)
    assert _ours(values) == _reference(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(VALUES, min_size=0, max_size=300))
def test_any_column_gives_pandas_codes(cells: list[object]) -> None:
    """Columns without runs (the direct path) and short ones."""
    values = np.array(cells, dtype=object)
    assert _ours(values) == _reference(values)


def test_a_run_of_equal_strings_that_are_distinct_objects_is_one_code() -> None:
    """Equal text read from two chunks is two objects: equal, so one code."""
    a = "".join(["ab", "c"])
    b = "".join(["a", "bc"])
    assert a is not b
    values = np.array([a] * 100 + [b] * 100 + [None] * 10, dtype=object)
    codes, uniq = factorize_runs(values)
    assert codes.tolist() == [0] * 200 + [-1] * 10
    assert uniq.tolist() == ["abc"]


def test_values_pandas_cannot_compare_or_hash_fail_as_in_pandas() -> None:
    """pd.NA cannot be compared to a truth value and a list cannot be hashed: the
    error is pandas' own, as without the runs (callers catch it)."""
    na = np.array([pd.NA] * 100 + ["x"] * 100, dtype=object)
    assert _ours(na) == _reference(na)
    lists = np.empty(200, dtype=object)
    for i in range(200):
        lists[i] = [i // 100]
    with pytest.raises(TypeError):
        pd.factorize(lists, use_na_sentinel=True)
    with pytest.raises(TypeError):
        factorize_runs(lists)


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every column ``pd.factorize`` is given while the test runs."""
    sizes: list[int] = []
    real = pd.factorize

    def spy(values: np.ndarray, **kw: object) -> tuple[np.ndarray, np.ndarray]:
        sizes.append(len(values))
        return real(values, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(pd, "factorize", spy)
    return sizes


def test_a_column_of_runs_is_hashed_one_row_per_run(hashed: list[int]) -> None:
    """200 rows in 4 runs of 50 ("a", "b", None, "a"): the first row changes 3 times in
    199 (3 x 4 = 12 <= 200: runs), so pandas hashes the 4 run heads only."""
    values = np.array(["a"] * 50 + ["b"] * 50 + [None] * 50 + ["a"] * 50, dtype=object)
    codes, uniq = factorize_runs(values)
    assert hashed == [4]
    assert codes.tolist() == [0] * 50 + [1] * 50 + [-1] * 50 + [0] * 50
    assert uniq.tolist() == ["a", "b"]


def test_a_column_of_short_runs_is_hashed_whole(hashed: list[int]) -> None:
    """100 rows in runs of 2 alternating "a", "b": 49 changes (49 x 4 = 196 > 100): too
    few repeats to pay, hashed directly (not its 50 run heads)."""
    values = np.array(["a", "a", "b", "b"] * 25, dtype=object)
    codes, uniq = factorize_runs(values)
    assert hashed == [100]
    assert codes.tolist() == [0, 0, 1, 1] * 25
    assert uniq.tolist() == ["a", "b"]


def test_the_limits_of_the_run_path(hashed: list[int]) -> None:
    """64 rows (the fewest the run path takes) in 17 runs, 15 of 4 rows and 2 of 2,
    alternating "a", "b": 16 changes, 16 x 4 = 64, not more than 64 rows: runs, the 17
    heads hashed. 63 rows of one value: hashed whole (fewer than 64)."""
    lengths = [4] * 15 + [2, 2]
    values = np.array([("a", "b")[i % 2] for i, k in enumerate(lengths) for _ in range(k)],
                      dtype=object)
    assert len(values) == 64
    codes, uniq = factorize_runs(values)
    assert hashed == [17]
    assert codes.tolist() == [i % 2 for i, k in enumerate(lengths) for _ in range(k)]
    assert uniq.tolist() == ["a", "b"]
    codes, uniq = factorize_runs(np.array(["x"] * 63, dtype=object))
    assert hashed == [17, 63]
    assert codes.tolist() == [0] * 63 and uniq.tolist() == ["x"]
