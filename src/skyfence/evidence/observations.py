"""The observations a dossier carries: one track's fixes in the window around an entry.

The window is the entry (entered to exited, or to the last inside fix) plus
:data:`PAD_S` (10 minutes) on each side, and never less than the track gap on each
side, so that the fix before the entry and the fix after the exit are inside it and a
scan of the window finds the same crossing. Columns are skyfence's observation columns
(:data:`skyfence.model.OBSERVATION_COLUMNS`: SI units, unix seconds); ``altitude`` is
geometric altitude when the source had it, barometric otherwise. A scan reads the files
back with ``--columns altitude=geoaltitude`` (a plain copy, no conversion).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from skyfence.incidents.record import iso_time
from skyfence.model import OBSERVATION_COLUMNS

__all__ = ["OBS_COLUMN_MAP", "PAD_S", "Window", "track_window", "write_observations"]

#: minutes of track kept before the entry and after the exit: 10
PAD_S = 600.0
#: how a scan reads the files back (``--columns`` syntax)
OBS_COLUMN_MAP = "altitude=geoaltitude"


class Window:
    """A closed time interval ``[start, end]`` in unix seconds."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end

    def to_json(self) -> dict[str, Any]:
        """ISO times plus the unix seconds."""
        return {"start": iso_time(self.start), "end": iso_time(self.end),
                "start_unix_s": self.start, "end_unix_s": self.end}


def entry_window(entered_at: float, end_at: float, gap_s: float) -> Window:
    """The window of an entry: :data:`PAD_S` (at least the gap) either side."""
    pad = max(PAD_S, gap_s)
    return Window(entered_at - pad, end_at + pad)


def track_window(observations: pd.DataFrame, track: str, window: Window) -> pd.DataFrame:
    """Fixes of ``track`` within ``window``, time-ordered, observation columns only."""
    t = observations["time"].to_numpy(np.float64)
    ids = observations["icao24"].to_numpy(object)
    keep = (ids == track) & (t >= window.start) & (t <= window.end)
    sub = observations.loc[keep, list(OBSERVATION_COLUMNS)]
    return sub.sort_values("time", kind="stable", ignore_index=True)


def _table(obs: pd.DataFrame) -> pa.Table:
    schema = pa.schema([
        (c, pa.float64() if t == "float64" else pa.bool_() if t == "bool" else pa.string())
        for c, t in OBSERVATION_COLUMNS.items()
    ])
    return pa.Table.from_pandas(obs[list(OBSERVATION_COLUMNS)], schema=schema,
                                preserve_index=False)


def write_observations(obs: pd.DataFrame, parquet: Path, csv: Path) -> None:
    """Write the window as Parquet and as CSV (same rows, same values to the bit:
    Arrow writes floats in shortest round-trip form)."""
    table = _table(obs)
    pq.write_table(table, parquet, compression="zstd")
    pacsv.write_csv(table, csv)


def read_dossier_observations(path: Path) -> pd.DataFrame:
    """Observations from a dossier's Parquet or CSV file, columns as written."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    else:
        types = {c: (pa.float64() if t == "float64" else pa.bool_() if t == "bool"
                     else pa.string()) for c, t in OBSERVATION_COLUMNS.items()}
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types,
                                                                         strings_can_be_null=True))
    return table.to_pandas()
