"""Any supported recorded file -> observation batches, chosen by name or ``--input-format``.

Tabular files (CSV, CSV.gz, Parquet) follow the contract's columns; ``.sbs`` / ``.basestation``
files are SBS-1 text; ``.beast`` / ``.bin`` are Beast binary; ``.raw`` / ``.hex`` are raw
hex Mode S frames (one per line, as dump1090 writes on port 30002).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from skyfence.errors import OnError, UsageError
from skyfence.frames import concat_rows
from skyfence.sources.tabular import ColumnMap, RejectLog, iter_table_chunks

FORMATS = ("auto", "csv", "parquet", "sbs", "beast", "raw", "asterix")


def file_format(path: str | Path, fmt: str = "auto") -> str:
    """The format of ``path``: ``fmt`` unless ``auto``, else from the file name."""
    if fmt != "auto":
        if fmt not in FORMATS:
            raise UsageError(f"--input-format {fmt}: one of {', '.join(FORMATS)}")
        return fmt
    name = Path(path).name.lower()
    if name.endswith((".ast", ".asterix", ".pcap", ".pcapng")):
        return "asterix"
    if name.endswith((".sbs", ".sbs.gz", ".basestation", ".30003")):
        return "sbs"
    if name.endswith((".beast", ".bin", ".30005")):
        return "beast"
    if name.endswith((".raw", ".hex", ".30002")):
        return "raw"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    return "csv"


def iter_file_batches(
    path: str | Path,
    *,
    fmt: str = "auto",
    columns: ColumnMap | None = None,
    on_error: OnError = "abort",
    rejects: RejectLog | None = None,
    ref: tuple[float, float] | None = None,
) -> Iterator[pd.DataFrame]:
    """Observation batches of one recorded transponder file of any supported format.

    ASTERIX radar files hold plots, not observations: they are read by
    :func:`skyfence.sources.recorded.read_recorded` and tracked by the pipeline.
    """
    kind = file_format(path, fmt)
    if kind in ("csv", "parquet"):
        yield from iter_table_chunks(path, columns=columns, on_error=on_error, rejects=rejects)
        return
    if kind == "asterix":
        raise UsageError(f"{path}: ASTERIX radar data go through the radar tracker: read "
                         "them with skyfence.sources.recorded.read_recorded")
    from skyfence.sources.modes_files import read_beast_file, read_raw_file, read_sbs_file

    if kind == "sbs":
        yield from read_sbs_file(path, on_error=on_error)
    elif kind == "beast":
        yield from read_beast_file(path, ref=ref, on_error=on_error)
    else:
        yield from read_raw_file(path, ref=ref, on_error=on_error)


def read_observations(path: str | Path, **options: object) -> pd.DataFrame:
    """A whole recorded file as one observation batch sorted by time."""
    parts = [b for b in iter_file_batches(path, **options) if len(b)]  # type: ignore[arg-type]
    if not parts:
        from skyfence.model import empty_observations

        return empty_observations()
    df = concat_rows(parts)
    return df.sort_values("time", kind="stable", ignore_index=True)
