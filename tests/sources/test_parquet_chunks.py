"""Parquet read in chunks, text as dictionaries, gives the file's rows.

The reader asks Arrow for text columns as dictionaries (codes kept from the file's
dictionary pages) and joins the pieces Arrow cuts at row-group ends back into chunks.
Checked against pandas' own Parquet reader on files of random text (nulls, empty,
non-ASCII), random row-group sizes, with and without dictionary pages, large and plain
strings: the same values in the same order, every chunk but the last ``chunk_rows``
long.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyfence.sources.tabular import _parquet_chunks

TEXT = st.one_of(st.none(), st.sampled_from(["", " ", "4ca1d2", "RYR12", "é ü", "x" * 40]),
                 st.text(max_size=6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 400), row_group=st.integers(1, 120),
       chunk_rows=st.integers(1, 150), dictionary=st.booleans(), large=st.booleans())
def test_chunks_hold_the_rows_pandas_reads(data: st.DataObject, n: int, row_group: int,
                                           chunk_rows: int, dictionary: bool,
                                           large: bool) -> None:
    # few distinct values, as ids are: each row group gets a dictionary of its own
    pool = data.draw(st.lists(TEXT, min_size=1, max_size=8))
    picks = data.draw(st.lists(st.integers(0, len(pool) - 1), min_size=n, max_size=n))
    text = [pool[i] for i in picks]
    kind = pa.large_string() if large else pa.string()
    table = pa.table({"icao24": pa.array(text, kind), "time": np.arange(n, dtype=np.int64),
                      "callsign": pa.array(text[::-1], kind)})
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.parquet"
        pq.write_table(table, path, row_group_size=row_group, use_dictionary=dictionary)
        chunks = list(_parquet_chunks(path, chunk_rows))
        expected = pd.read_parquet(path)
    assert [len(c) for c in chunks[:-1]] == [chunk_rows] * (len(chunks) - 1)
    assert 0 < len(chunks[-1]) <= chunk_rows
    got = pd.concat([c.astype(object) for c in chunks], ignore_index=True)
    for col in ("icao24", "callsign"):
        assert all(isinstance(c[col].dtype, pd.CategoricalDtype) for c in chunks)
        want = expected[col].astype(object).where(expected[col].notna(), None).tolist()
        have = got[col].where(got[col].notna(), None).tolist()
        assert have == want
    assert got["time"].astype(np.int64).tolist() == list(range(n))
