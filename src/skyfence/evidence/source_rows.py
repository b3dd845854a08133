"""The raw rows a dossier's observations came from, for tabular input files.

For every CSV / CSV.gz / Parquet input, the rows of the incident's track whose time
falls in the window are copied as they were written (CSV cells as text), with the file
name and the 1-based data row number (header excluded, as error messages count rows)
in front. Rows of the track that the reader rejected (a bad value; only possible with
``--on-error skip``) are kept too, with the reason, since they are part of what the
sensor delivered. Other formats (SBS text, Beast, raw Mode S, ASTERIX) are not copied
yet: the dossier says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from skyfence.errors import InputError
from skyfence.evidence.observations import Window
from skyfence.sources.files import file_format
from skyfence.sources.tabular import ColumnMap, _auto_map, normalize_table

__all__ = ["SOURCE_ROW_CHUNK", "source_rows"]

SOURCE_ROW_CHUNK = 250_000
_HEX = re.compile(r"^[0-9A-Fa-f]{6}$")


def _raw_chunks(path: Path) -> Iterator[pd.DataFrame]:
    if file_format(path) == "parquet":
        for rb in pq.ParquetFile(path).iter_batches(batch_size=SOURCE_ROW_CHUNK):
            yield rb.to_pandas()
    else:
        yield from pd.read_csv(path, chunksize=SOURCE_ROW_CHUNK, dtype=str,
                               keep_default_na=False, na_values=[""], compression="infer")


def _matching_rows(chunk: pd.DataFrame, id_col: str, track: str) -> np.ndarray:
    ids = chunk[id_col].astype("string").str.strip()
    if _HEX.match(track):
        ids = ids.str.lower()
    return np.asarray(ids.eq(track).fillna(False).to_numpy(bool))


def _times(rows: pd.DataFrame, name: str, columns: ColumnMap | None, row0: np.ndarray
           ) -> tuple[np.ndarray, list[str]]:
    """Unix time of each raw row (NaN where it was rejected) and the reasons."""
    try:
        obs = normalize_table(rows, name=name, columns=columns, on_error="abort")
        return obs["time"].to_numpy(np.float64), [""] * len(rows)
    except InputError:
        pass
    # a rejected row among them: read one at a time (a handful of rows of one track)
    t = np.full(len(rows), np.nan)
    why = [""] * len(rows)
    for i in range(len(rows)):
        try:
            one = normalize_table(rows.iloc[i:i + 1], name=name, columns=columns,
                                  on_error="abort", row0=int(row0[i]) - 1)
            t[i] = float(one["time"].iloc[0])
        except InputError as exc:
            why[i] = str(exc)
    return t, why


def source_rows(
    paths: Sequence[Path], track: str, window: Window, columns: ColumnMap | None = None,
    input_format: str = "auto",
) -> tuple[pd.DataFrame | None, str]:
    """The raw rows of ``track`` in ``window`` from tabular ``paths``, and a note.

    Returns ``(None, why)`` when no input is tabular.
    """
    tabular = [p for p in paths if file_format(p, input_format) in ("csv", "parquet")]
    if not tabular:
        kinds = sorted({file_format(p, input_format) for p in paths})
        return None, f"raw {'/'.join(kinds)} input is not copied into dossiers yet"
    parts = []
    for p in tabular:
        row0 = 0
        for chunk in _raw_chunks(p):
            names = [str(c) for c in chunk.columns]
            cmap = _auto_map(names, columns).apply(names)
            id_col = next((s for s, (d, _) in cmap.items() if d == "icao24"), None)
            if id_col is None:
                break
            hit = np.flatnonzero(_matching_rows(chunk, id_col, track))
            if len(hit):
                rows = chunk.iloc[hit].reset_index(drop=True)
                t, why = _times(rows, str(p), columns, row0 + hit + 1)
                keep = np.isnan(t) | ((t >= window.start) & (t <= window.end))
                out = rows[keep].astype("string").copy()
                out.insert(0, "source_row", (row0 + hit + 1)[keep])
                out.insert(0, "source_file", p.name)
                out["rejected"] = [w for w, k in zip(why, keep, strict=True) if k]
                parts.append(out)
            row0 += len(chunk)
    n_files = len(tabular)
    note = f"rows of track {track} in the window, copied from {n_files} tabular input file(s)"
    if len(tabular) < len(paths):
        note += "; other inputs are not copied yet"
    if not parts:
        return pd.DataFrame(columns=["source_file", "source_row", "rejected"]), note
    return pd.concat(parts, ignore_index=True), note
