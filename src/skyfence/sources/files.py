"""Any supported recorded file -> observation batches, chosen by name or ``--input-format``.

Tabular files (CSV, CSV.gz, Parquet) follow the contract's columns; ``.sbs`` / ``.basestation``
files are SBS-1 text; ``.beast`` / ``.bin`` are Beast binary; ``.raw`` / ``.hex`` are raw
hex Mode S frames (one per line, as dump1090 writes on port 30002).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from skyfence.errors import UsageError
from skyfence.radar import RadarSite
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
    on_error: str = "abort",
    rejects: RejectLog | None = None,
    ref: tuple[float, float] | None = None,
    radar_sites: Sequence[RadarSite] = (),
    date: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Observation batches of one recorded file of any supported format.

    ASTERIX radar files need the radar sites (``--radar``) and, for raw files, the UTC
    date of the first record (``--date``); their plots are tracked into radar tracks
    (ids ``R0001``...), CAT062 system tracks pass through as they are.
    """
    kind = file_format(path, fmt)
    if kind in ("csv", "parquet"):
        yield from iter_table_chunks(path, columns=columns, on_error=on_error, rejects=rejects)
        return
    if kind == "asterix":
        yield _radar_tracks(path, radar_sites, date, on_error, rejects)
        return
    from skyfence.sources.feed import read_beast_file, read_raw_file, read_sbs_file

    if kind == "sbs":
        yield from read_sbs_file(path, on_error=on_error)  # type: ignore[arg-type]
    elif kind == "beast":
        yield from read_beast_file(path, ref=ref, on_error=on_error)  # type: ignore[arg-type]
    else:
        yield from read_raw_file(path, ref=ref, on_error=on_error)  # type: ignore[arg-type]


def _radar_tracks(
    path: str | Path, sites: Sequence[RadarSite], date: str | None, on_error: str,
    rejects: RejectLog | None = None,
) -> pd.DataFrame:
    from skyfence.model import OBSERVATION_COLUMNS
    from skyfence.sources.asterix import read_asterix
    from skyfence.tracking.tracker import track_plots

    data = read_asterix(path, sites=sites, date=date,
                        on_error="skip" if on_error == "skip" else "raise")
    if rejects is not None and data.skipped:  # counted, never silent
        rejects.count += data.skipped
        rejects.by_field["ASTERIX record"] = (rejects.by_field.get("ASTERIX record", 0)
                                              + data.skipped)
        rejects.examples.extend(data.errors[: max(0, 5 - len(rejects.examples))])
    parts = [data.tracks[list(OBSERVATION_COLUMNS)]] if len(data.tracks) else []
    if len(data.plots):
        parts.append(track_plots(data.plots, sites)[list(OBSERVATION_COLUMNS)])
    if not parts:
        from skyfence.model import empty_observations

        return empty_observations()
    return pd.concat(parts, ignore_index=True)


def read_observations(path: str | Path, **options: object) -> pd.DataFrame:
    """A whole recorded file as one observation batch sorted by time."""
    parts = [b for b in iter_file_batches(path, **options) if len(b)]  # type: ignore[arg-type]
    if not parts:
        from skyfence.model import empty_observations

        return empty_observations()
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return df.sort_values("time", kind="stable", ignore_index=True)
