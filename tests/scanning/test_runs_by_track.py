"""Whether an input is written track by track, against a row-by-row reference.

:func:`runs_by_track` works on integer codes of the cleaned ids, batch by batch. The
reference reads the id column with pandas, cleans every row as the reader does, and
walks the rows in plain Python: every usable id must come in one run of consecutive
rows (rows without a usable id left out), across batches and files, of at most
``max_run`` rows. Ids that differ only in case are one track; null, empty and junk ids
are left out; integer ids are read as the reader reads them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyfence.scanning import clustered
from skyfence.scanning.clustered import runs_by_track
from skyfence.sources.fields import read_text_field

TEXT_IDS = st.sampled_from(["4b1234", "4B1234", "abc123", "ABC123 ", "3c6444", "", None,
                            "x\x00y", "radar-7", "4b1235"])
INT_IDS = st.one_of(st.none(), st.sampled_from([4919860, 4919861, 16777216, -1, 0]))


def _reference(paths: list[Path], max_run: int) -> bool:
    ids: list[object] = []
    for p in paths:
        col = pd.read_parquet(p)["icao24"]
        if pd.api.types.is_float_dtype(col):  # integer ids with a null: read as integers
            col = pd.read_parquet(p, dtype_backend="numpy_nullable")["icao24"]
        ids.extend(read_text_field(col, "icao24").values.tolist())
    runs: list[tuple[object, int]] = []
    for v in ids:
        if v is None:
            continue
        if runs and runs[-1][0] == v:
            runs[-1] = (v, runs[-1][1] + 1)
        else:
            runs.append((v, 1))
    names = [v for v, _ in runs]
    return len(set(names)) == len(names) and all(n <= max_run for _, n in runs)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), integers=st.booleans(), files=st.integers(1, 2),
       max_run=st.integers(1, 60), batch=st.integers(1, 40), row_group=st.integers(1, 50))
def test_runs_by_track_equals_a_row_by_row_walk(data: st.DataObject, integers: bool,
                                                files: int, max_run: int, batch: int,
                                                row_group: int) -> None:
    ids = INT_IDS if integers else TEXT_IDS
    # runs of one id (a track written whole) or any order
    blocks = data.draw(st.lists(st.tuples(ids, st.integers(1, 30)), min_size=1, max_size=8))
    rows = [v for v, n in blocks for _ in range(n)]
    if data.draw(st.booleans()):
        rows = data.draw(st.permutations(rows))
    cut = data.draw(st.integers(0, len(rows))) if files == 2 else len(rows)
    kind = pa.int64() if integers else pa.string()
    old = clustered.CHECK_ROWS
    clustered.CHECK_ROWS = batch
    try:
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for k, part in enumerate([rows[:cut], rows[cut:]][:files]):
                path = Path(d) / f"f{k}.parquet"
                pq.write_table(pa.table({"icao24": pa.array(part, kind)}), path,
                               row_group_size=row_group)
                paths.append(path)
            assert runs_by_track(paths, None, max_run) == _reference(paths, max_run)
    finally:
        clustered.CHECK_ROWS = old
