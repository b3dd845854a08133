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
    few repeats to pay, hashed whole (not its 50 run heads): by object (100 pointers,
    as integers), then its 2 distinct objects by value."""
    values = np.array(["a", "a", "b", "b"] * 25, dtype=object)
    codes, uniq = factorize_runs(values)
    assert hashed == [100, 2]
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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(VALUES, st.integers(1, 40), st.booleans()), min_size=0,
                max_size=60))
def test_runs_of_one_object_and_of_equal_copies_give_pandas_codes(
        runs: list[tuple[object, int, bool]]) -> None:
    """A run is one object repeated (as the readers give text) or equal copies of it
    (strings joined anew, floats made anew): the pointers say nothing about equality."""
    cells: list[object] = []
    for v, k, copies in runs:
        for _ in range(k):
            if copies and isinstance(v, str):
                cells.append("".join(["", v]) if len(v) < 2 else v[:1] + v[1:])
            elif copies and isinstance(v, float):
                cells.append(v + 0.0)  # a new object of the same value
            else:
                cells.append(v)
    values = np.array(cells or [], dtype=object)
    assert _ours(values) == _reference(values)
    # a strided view: the pointers of the rows it shows, not of the memory under it
    assert _ours(values[::2]) == _reference(values[::2])


@given(st.lists(st.one_of(st.none(), st.sampled_from(["ab", "cd", "abc"])), max_size=50),
       st.lists(st.integers(0, 3), max_size=50))
def test_changes_between_rows_are_those_of_comparing_every_row(
        cells: list[str | None], numbers: list[int]) -> None:
    """Without NaN (the one value unequal to itself), the pointer pass reports exactly
    the rows ``!=`` reports, for text made anew or shared; arrays of numbers (no
    pointers in them) are compared as they are."""
    from skyfence.factorize import _differs_from_previous

    fresh = np.array([c.encode().decode() if c else c for c in cells] or [], dtype=object)
    assert all(a is not b for a, b in zip(fresh, cells, strict=True) if a)
    shared = np.array(cells or [], dtype=object)
    for v in (fresh, shared):
        assert _differs_from_previous(v).tolist() == (v[1:] != v[:-1]).tolist()
    for dtype in (np.int32, np.int8, np.float64):
        n = np.array(numbers, dtype=dtype)
        assert _differs_from_previous(n).tolist() == (n[1:] != n[:-1]).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(VALUES, st.booleans()), min_size=64, max_size=400))
def test_interleaved_shared_objects_give_pandas_codes(cells: list[tuple[object, bool]]
                                                      ) -> None:
    """A time-ordered feed: values change at almost every row and each is one of a few
    objects, sometimes an equal text as a second object (factorized by object first)."""
    def other(v: object) -> object:  # the same text as a distinct object
        return "".join(list(v)) if isinstance(v, str) and len(v) > 1 else v

    copies = {i: other(v) for i, (v, _) in enumerate(cells)}
    values = np.array([copies[i] if twin else v for i, (v, twin) in enumerate(cells)],
                      dtype=object)
    assert _ours(values) == _reference(values)
