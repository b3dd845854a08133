"""The Python API of a scan, for scripts and notebooks.

Positions come as CSV / Parquet paths (``skyfence.scan("flights.parquet", ...)``) or
as a DataFrame with the contract's columns; the result is one row per entry:

>>> import pandas as pd
>>> import skyfence
>>> flights = pd.DataFrame({"time": [0.0, 120.0], "icao24": ["4ca2d6"] * 2,
...                         "lat": [59.2, 59.2], "lon": [22.0, 24.0]})
>>> df = skyfence.scan(flights, zones=["EST"])  # into Estonian waters off Hiiumaa
>>> row = df.iloc[0]
>>> print(row.zone, row.track, row.entry_interpolated, row.duration_s)
EST 4ca2d6 True 108.071
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from skyfence.airspace.zones import Zone, resolve_zones
from skyfence.errors import OnError, UsageError, on_error_mode
from skyfence.incidents.record import RECORD_FIELDS
from skyfence.policy import Policy
from skyfence.scanning.engine import (
    ScanOptions,
    ScanResult,
    detect_entries,
    finish,
    scan_files,
    scan_frame,
)
from skyfence.scanning.inputs import expand_inputs
from skyfence.sources.tabular import ColumnMap, RejectLog, iter_table_chunks, normalize_table

__all__ = ["RESULT_DTYPES", "ScanResult", "iter_batches", "run_scan", "scan"]

#: column -> dtype of the DataFrame :func:`scan` returns, also when it has no rows (so
#: ``df[df.violation]`` and column selections work on an empty result); the columns
#: are the incident record's fields (``shared/contract``)
RESULT_DTYPES: dict[str, Any] = {
    "id": object, "zone": object, "zone_kind": object, "track": object, "icao24": object,
    "callsign": object, "entered_at": "datetime64[ns, UTC]", "entry_interpolated": bool,
    "exited_at": "datetime64[ns, UTC]", "last_inside_at": "datetime64[ns, UTC]",
    "duration_s": "float64", "max_depth_m": "float64", "entry_point": object,
    "exit_point": object, "min_altitude_m": "float64", "max_altitude_m": "float64",
    "observations": "int64", "classification": object, "violation": bool,
    "severity": object, "reasons": object, "protocol": object,
}


def _zones_of(zones: Any) -> list[Zone]:
    if zones is None:
        raise UsageError("no zone to watch: pass zones=[...] (ISO3 codes, names or Zone objects)")
    if isinstance(zones, (str, Zone)):
        zones = [zones]
    out: list[Zone] = []
    names = []
    for z in zones:
        if isinstance(z, Zone):
            out.append(z)
        else:
            names.append(str(z))
    if names:
        out.extend(resolve_zones(names))
    return out


def iter_batches(
    inputs: Sequence[str | Path] | pd.DataFrame,
    *,
    columns: ColumnMap | None = None,
    on_error: OnError = "abort",
    rejects: RejectLog | None = None,
) -> Iterator[pd.DataFrame]:
    """Observation batches from files or from a DataFrame."""
    if isinstance(inputs, pd.DataFrame):
        yield normalize_table(inputs, columns=columns, on_error=on_error, rejects=rejects)
        return
    for path in inputs:
        yield from iter_table_chunks(path, columns=columns, on_error=on_error, rejects=rejects)


def run_scan(
    batches: Iterable[pd.DataFrame],
    zones: Sequence[Zone],
    *,
    policy: Policy | None = None,
    gap_s: float = 300.0,
    keep_path: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ScanResult:
    """Detect every entry in ``batches`` (in any order) and judge it.

    The batches are screened together, so tracks split across batches are joined
    exactly as in one table. For files larger than memory use :func:`scan_files`.
    """
    frames = list(batches)
    if progress is not None:
        progress(sum(len(b) for b in frames))
    data = pd.concat(frames, ignore_index=True) if len(frames) != 1 else frames[0]
    found, det = detect_entries([data], zones, gap_s=gap_s, keep_path=keep_path)
    entries, records = finish(found, policy or Policy())
    return ScanResult(records, entries, det.positions, dropped_duplicates=det.dropped_out_of_order)


def scan(
    source: str | Path | Sequence[str | Path] | pd.DataFrame,
    zones: Any = None,
    *,
    watch_states: Iterable[str] = (),
    all_entries: bool = True,
    columns: str | ColumnMap | None = None,
    on_error: OnError = "abort",
    gap_s: float = 300.0,
) -> pd.DataFrame:
    """Scan recorded positions for entries into zones: one DataFrame row per entry.

    Parameters
    ----------
    source
        A CSV / CSV.gz / Parquet path, a list of them, or a DataFrame with the
        contract's columns (OpenSky state-vector names, SI units).
    zones
        ISO3 codes or English names of states, ``"all"``, or :class:`Zone` objects.
    watch_states
        ISO3 codes whose registered aircraft are violations anywhere in the zones.
    all_entries
        Every entry (default) or only violations.
    """
    if isinstance(source, (str, Path)):
        source = [source]
    if on_error not in ("abort", "skip"):
        raise UsageError(f"on_error={on_error!r}: one of 'abort', 'skip'")
    from skyfence.config import check_gap_s

    try:
        gap_s = check_gap_s(gap_s)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"gap_s: {exc}") from None
    cmap = ColumnMap.parse(columns) if isinstance(columns, str) else columns
    opts = ScanOptions(zones=_zones_of(zones), policy=Policy.from_options(watch_states),
                       gap_s=gap_s, columns=cmap, on_error=on_error_mode(on_error))
    if isinstance(source, pd.DataFrame):
        result = scan_frame(source, opts)
    else:
        result = scan_files(expand_inputs(source), opts)
    recs = [r for r in result.records if all_entries or r["violation"]]
    return records_frame(recs)


def records_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Incident records as a DataFrame with :data:`RESULT_DTYPES` columns, rows or not.

    >>> records_frame([]).dtypes["violation"]
    dtype('bool')
    """
    df = pd.DataFrame(list(records), columns=list(RECORD_FIELDS))
    for col in ("entered_at", "exited_at", "last_inside_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df.astype({c: t for c, t in RESULT_DTYPES.items() if c in df.columns})
