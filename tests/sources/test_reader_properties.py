"""Property tests of the tabular reader (issue 8): random junk in (bytes, floats with
nan/inf/huge, text with control characters, random types in Parquet and DataFrame
columns); out comes either a clean :class:`DataError` or a valid observation batch
whose every value lies in its plausible range, and whose ids and squawks are what the
input said. Never another exception.

The ranges checked here are written out again from the README (not imported), so a
wrong constant in ``skyfence.sources.ranges`` fails these tests.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyfence.errors import DataError
from skyfence.model import OBSERVATION_COLUMNS
from skyfence.sources.tabular import RejectLog, normalize_table, read_table

SETTINGS = settings(max_examples=60, deadline=2000,
                    suppress_health_check=[HealthCheck.too_slow])

# the README's plausible ranges, in SI units
TIME_RANGE_S = (0.0, 4_102_444_800.0)  # 1970-01-01 .. 2100-01-01
ALT_RANGE_M = (-1_500.0, 50_000.0)
VELOCITY_RANGE_MS = (0.0, 1_500.0)
VERTRATE_RANGE_MS = (-500.0, 500.0)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\u2400]")


def assert_valid_batch(obs: pd.DataFrame) -> None:
    """Every value of a batch is usable: typed, finite, in range, clean text."""
    assert list(obs.columns) == list(OBSERVATION_COLUMNS)
    for name, dtype in OBSERVATION_COLUMNS.items():
        assert str(obs[name].dtype) == dtype, name

    def within(col: str, lo: float, hi: float, optional: bool = True) -> None:
        v = obs[col].to_numpy(np.float64)
        known = ~np.isnan(v) if optional else np.ones(len(v), bool)
        assert np.isfinite(v[known]).all(), col
        assert ((v[known] >= lo) & (v[known] <= hi)).all(), col

    within("time", *TIME_RANGE_S, optional=False)
    within("lat", -90.0, 90.0, optional=False)
    within("lon", -180.0, 180.0, optional=False)
    within("altitude", *ALT_RANGE_M)
    within("velocity", *VELOCITY_RANGE_MS)
    within("vertrate", *VERTRATE_RANGE_MS)
    heading = obs["heading"].to_numpy(np.float64)
    known = heading[~np.isnan(heading)]
    assert ((known >= 0.0) & (known < 360.0)).all()
    for ident in obs["icao24"]:
        assert isinstance(ident, str) and ident and ident == ident.strip()
        assert not CONTROL.search(ident) and len(ident) <= 64
    for sq in obs["squawk"]:
        assert sq is None or re.fullmatch(r"[0-7]{4}", sq)
    for cs in obs["callsign"]:
        assert cs is None or (isinstance(cs, str) and cs and not CONTROL.search(cs))


def read_or_refuse(path: Path, on_error: str, rows: int | None) -> pd.DataFrame | None:
    """Read ``path``; a DataError is a clean refusal (one line, names the file)."""
    rejects = RejectLog()
    try:
        obs = read_table(path, on_error=on_error, rejects=rejects)
    except DataError as exc:
        msg = str(exc)
        assert "\n" not in msg and str(path) in msg and len(msg) < 400
        return None
    assert_valid_batch(obs)
    if rows is not None:  # every row is either kept or counted, never both, never lost
        assert len(obs) + rejects.count == rows
        assert sum(rejects.by_field.values()) == rejects.count
        if on_error == "abort":
            assert rejects.count == 0
    return obs


# ---------------------------------------------------------------- CSV


@SETTINGS
@given(data=st.binary(max_size=3000), on_error=st.sampled_from(["abort", "skip"]))
def test_random_bytes_as_csv(data: bytes, on_error: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "junk.csv"
        f.write_bytes(b"time,icao24,lat,lon,baroaltitude,squawk\n" + data)
        read_or_refuse(f, on_error, None)


NUMBERISH = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e308", "1e-320", "0x10", "1,5",
                     " 47.5 ", "7700.0", "1700000000", "1700000000000"]),
    st.text(max_size=12),
)
IDISH = st.one_of(
    st.from_regex(r"[0-9a-fA-F]{6}", fullmatch=True),
    st.text(max_size=10),
    st.sampled_from(["4b\x001234", "4b1234\u200b", " 4B1234 ", "R0001", "", "   "]),
)


def csv_cell(value: str) -> str:
    """A CSV field holding ``value`` exactly (quoted when it needs to be)."""
    if any(c in value for c in ',"\n\r') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


@SETTINGS
@given(rows=st.lists(st.tuples(NUMBERISH, IDISH, NUMBERISH, NUMBERISH, NUMBERISH, NUMBERISH,
                               NUMBERISH, NUMBERISH, st.text(max_size=10), NUMBERISH),
                     min_size=1, max_size=20),
       on_error=st.sampled_from(["abort", "skip"]))
def test_random_cells_in_csv(rows: list[tuple[str, ...]], on_error: str) -> None:
    header = ("time,icao24,lat,lon,baroaltitude,velocity,heading,vertrate,callsign,"
              "squawk\n")
    text = header + "".join(",".join(csv_cell(c) for c in r) + "\n" for r in rows)
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "cells.csv"
        f.write_bytes(text.encode("utf-8", "surrogatepass"))
        obs = read_or_refuse(f, on_error, None)
    if obs is None:
        return
    # no misread: a kept 6-hex id is the input's text, stripped and lower-cased
    inputs = {r[1].strip().lower() for r in rows}
    for ident in obs["icao24"]:
        assert ident.lower() in inputs


# ---------------------------------------------------------------- Parquet


def column_strategy(n: int) -> st.SearchStrategy[pa.Array]:
    """A Parquet column of n values of one random type."""
    return st.one_of(
        st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.none(),
                 min_size=n, max_size=n).map(lambda v: pa.array(v, pa.int64())),
        st.lists(st.integers(min_value=0, max_value=2**64 - 1) | st.none(),
                 min_size=n, max_size=n).map(lambda v: pa.array(v, pa.uint64())),
        st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.none(),
                 min_size=n, max_size=n).map(lambda v: pa.array(v, pa.float64())),
        st.lists(st.text(max_size=8) | st.none(), min_size=n, max_size=n)
        .map(lambda v: pa.array(v, pa.string())),
        st.lists(st.text(max_size=8), min_size=n, max_size=n)
        .map(lambda v: pa.array(v, pa.string()).dictionary_encode()),
        st.lists(st.binary(max_size=8) | st.none(), min_size=n, max_size=n)
        .map(lambda v: pa.array(v, pa.binary())),
        st.lists(st.booleans() | st.none(), min_size=n, max_size=n)
        .map(lambda v: pa.array(v, pa.bool_())),
        st.lists(st.integers(min_value=-(2**62), max_value=2**62) | st.none(),
                 min_size=n, max_size=n).map(lambda v: pa.array(v, pa.timestamp("us"))),
        st.lists(st.lists(st.integers(0, 9), max_size=2) | st.none(), min_size=n, max_size=n)
        .map(lambda v: pa.array(v, pa.list_(pa.int64()))),
    )


FIELDS = ("time", "icao24", "lat", "lon", "baroaltitude", "velocity", "heading", "squawk",
          "callsign", "onground")


@settings(SETTINGS, max_examples=40)
@given(data=st.data(), n=st.integers(1, 12), on_error=st.sampled_from(["abort", "skip"]))
def test_random_types_in_parquet_columns(data: st.DataObject, n: int, on_error: str) -> None:
    columns = {name: data.draw(column_strategy(n), label=name) for name in FIELDS}
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "random.parquet"
        pq.write_table(pa.table(columns), f)
        obs = read_or_refuse(f, on_error, n)
    if obs is None or not len(obs):
        return
    ids = columns["icao24"]
    if pa.types.is_integer(ids.type):
        # integers are addresses: each kept id is 6 hex digits of an input value
        values = {v for v in ids.to_pylist() if v is not None}
        for ident in obs["icao24"]:
            assert re.fullmatch(r"[0-9a-f]{6}", ident) and int(ident, 16) in values


@SETTINGS
@given(n=st.integers(1, 8), data=st.data(), on_error=st.sampled_from(["abort", "skip"]))
def test_mixed_python_objects_in_a_dataframe(n: int, data: st.DataObject,
                                             on_error: str) -> None:
    anything = st.one_of(st.none(), st.booleans(), st.integers(-(10**400), 10**400),
                         st.floats(), st.text(max_size=8), st.binary(max_size=6),
                         st.decimals(allow_nan=True, allow_infinity=True),
                         st.just(pd.NaT), st.just(pd.Timestamp("2024-01-01T00:00:00Z")),
                         st.lists(st.integers(), max_size=2))
    df = pd.DataFrame({name: pd.Series(data.draw(st.lists(anything, min_size=n, max_size=n),
                                                 label=name), dtype=object)
                       for name in FIELDS})
    rejects = RejectLog()
    try:
        obs = normalize_table(df, name="frame", on_error=on_error, rejects=rejects)
    except DataError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("frame")
        return
    assert_valid_batch(obs)
    assert len(obs) + rejects.count == n


def test_valid_rows_survive_with_their_values() -> None:
    # a control for the properties above: clean input is kept whole and unchanged
    df = pd.DataFrame({"time": [1.7e9, 1.7e9 + 5], "icao24": ["4B1234", "R0001"],
                       "lat": [47.0, -33.5], "lon": [8.0, 151.2],
                       "baroaltitude": [1000.0, np.nan], "velocity": [200.0, 0.0],
                       "heading": [90.0, 359.0], "squawk": ["7700", None],
                       "callsign": ["SWR1 ", None]})
    obs = normalize_table(df)
    assert_valid_batch(obs)
    got: dict[str, Any] = obs[["icao24", "squawk", "callsign"]].to_dict("list")
    assert got == {"icao24": ["4b1234", "R0001"], "squawk": ["7700", None],
                   "callsign": ["SWR1", None]}
    assert obs["altitude"].tolist()[0] == 1000.0 and np.isnan(obs["altitude"].tolist()[1])


@SETTINGS
@given(values=st.lists(st.one_of(st.none(), IDISH, st.integers(-5, 2**25),
                                 st.floats(allow_nan=True), st.booleans(), st.binary(max_size=4)),
                       min_size=1, max_size=30),
       field=st.sampled_from(["icao24", "callsign", "squawk"]),
       categorical=st.booleans())
def test_a_text_field_says_which_rows_have_no_value(values: list[Any], field: str,
                                                    categorical: bool) -> None:
    from skyfence.sources.fields import read_text_field

    col = pd.Series(values, dtype=object)
    if categorical:  # as the Parquet reader gives text: Arrow's distinct values
        texts = [v for v in values if isinstance(v, str)]
        if len(texts) != len(values) - values.count(None):
            return
        col = col.astype("category")
    got = read_text_field(col, field)
    # the rows without a value, found row by row (pandas), not distinct value by value
    assert got.missing.tolist() == pd.isna(pd.Series(got.values, dtype=object)).tolist()
    assert all(v is None or isinstance(v, str) for v in got.values)


_TEXTS = st.sampled_from(["4B1805", " 4b1805 ", "abc123", "R0042", "7700", "123",
                          "77000", "", "   ", "DLH4AB", "bad\x00id", "x" * 65, "zw\u200bsp"])


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.one_of(st.none(), _TEXTS), min_size=1, max_size=40),
       unused=st.lists(_TEXTS, max_size=8),
       field=st.sampled_from(["icao24", "callsign", "squawk"]))
def test_a_dictionary_column_reads_as_its_values_would(rows: list[str | None],
                                                       unused: list[str],
                                                       field: str) -> None:
    """A chunk of a dictionary-encoded row group carries values no row of it uses
    (only the used ones are cleaned): what its rows read as, which rows have no value
    and which rows each problem names are those of the same rows as plain text, read
    distinct value by distinct value (the reference); a bad value no row uses names
    no problem."""
    from skyfence.sources.fields import read_text_field

    cats = list(dict.fromkeys([*unused, *(r for r in rows if r is not None)]))
    coded = pd.Series(pd.Categorical(rows, categories=cats))
    got = read_text_field(coded, field)
    want = read_text_field(pd.Series(rows, dtype=object), field)
    assert got.values.tolist() == want.values.tolist()
    assert got.missing.tolist() == want.missing.tolist()
    assert sorted((p.what, p.mask.tolist()) for p in got.problems) == \
        sorted((p.what, p.mask.tolist()) for p in want.problems)
