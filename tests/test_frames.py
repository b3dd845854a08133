"""``concat_rows`` is ``pd.concat(frames, ignore_index=True)``, whatever the frames."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.frames import concat_rows

KINDS = ["float", "int", "bool", "text", "none", "time", "category"]


def column(kind: str, n: int, draw: st.DrawFn) -> object:
    if kind == "float":
        return np.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), np.float64)
    if kind == "int":
        return np.array(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), np.int64)
    if kind == "bool":
        return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    if kind == "time":
        return np.array(draw(st.lists(st.integers(0, 10**12), min_size=n, max_size=n)),
                        "datetime64[ms]")
    values = draw(st.lists(st.one_of(st.none(), st.sampled_from(["a", "7700", ""])),
                           min_size=n, max_size=n))
    if kind == "none":
        values = [None] * n
    if kind == "category":
        return pd.Categorical(values)
    return np.array(values, dtype=object)


@st.composite
def frame_lists(draw: st.DrawFn) -> list[pd.DataFrame]:
    names = draw(st.lists(st.sampled_from(["time", "icao24", "squawk", "alt", 0]),
                          min_size=0, max_size=4, unique=True))
    kinds = [draw(st.sampled_from(KINDS)) for _ in names]
    frames = []
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 5))
        # a frame now and then has a column of another kind, or in another order
        mine = [k if draw(st.integers(0, 9)) else draw(st.sampled_from(KINDS)) for k in kinds]
        cols = {name: column(k, n, draw) for name, k in zip(names, mine, strict=True)}
        order = draw(st.permutations(names)) if draw(st.integers(0, 9)) == 0 else names
        frame = pd.DataFrame({c: cols[c] for c in order}, index=np.arange(n) + 7)
        frames.append(frame)
    return frames


@settings(max_examples=400)
@given(frame_lists())
def test_the_rows_of_pandas_concat(frames: list[pd.DataFrame]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        want = pd.concat(frames, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        got = concat_rows(frames)
    if len(frames) == 1:
        assert got is frames[0]
        return
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_columns_in_another_order_are_joined_by_name() -> None:
    a = pd.DataFrame({"lat": [1.0], "lon": [2.0], "id": ["x"], "cs": [None]})
    b = pd.DataFrame({"lon": [4.0], "lat": [3.0], "cs": ["y"], "id": [None]})
    want = pd.concat([a, b], ignore_index=True)
    pd.testing.assert_frame_equal(concat_rows([a, b]), want, check_exact=True)
    assert concat_rows([a, b])["lat"].tolist() == [1.0, 3.0]


def test_repeated_column_names_as_pandas_joins_them() -> None:
    a = pd.DataFrame([[1.0, 2.0]], columns=["v", "v"])
    b = pd.DataFrame([[3.0, 4.0]], columns=["v", "v"])
    pd.testing.assert_frame_equal(concat_rows([a, b]), pd.concat([a, b], ignore_index=True))


def test_categorical_columns_stay_categorical() -> None:
    kind = pd.CategoricalDtype(["a", "b"])
    a = pd.DataFrame({"id": pd.Series(["a"], dtype=kind), "t": [1.0]})
    b = pd.DataFrame({"id": pd.Series(["b"], dtype=kind), "t": [2.0]})
    got = concat_rows([a, b])
    assert got["id"].dtype == kind
    pd.testing.assert_frame_equal(got, pd.concat([a, b], ignore_index=True))


def test_nothing_to_join_is_refused_as_pandas_refuses_it() -> None:
    with pytest.raises(ValueError):
        concat_rows([])
