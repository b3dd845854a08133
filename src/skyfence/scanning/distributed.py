"""The Dask engine: the same exact scan, with the cluster doing the partitioning.

Rows are read per file (one Dask partition per file or row group), validated on the
workers, shuffled so that every fix of a track lands in one partition (hash of the
track id), and each partition is scanned alone: entries depend on one track only, so
the records equal the local engine's. Works with any Dask scheduler address; with
none, a ``LocalCluster`` on this machine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from skyfence.errors import UsageError
from skyfence.messages import one_line
from skyfence.model import OBSERVATION_COLUMNS, Entry
from skyfence.scanning.engine import (
    ScanOptions,
    ScanResult,
    finish,
    scan_track_partition,
)
from skyfence.scanning.local_pool import track_bucket
from skyfence.sources.tabular import read_table


def _read(path: str, opts: ScanOptions) -> pd.DataFrame:
    df = read_table(path, columns=opts.columns, on_error=opts.on_error)
    df["bucket"] = track_bucket(df["icao24"].to_numpy(), 1 << 30)
    return df


def _scan(part: pd.DataFrame, opts: ScanOptions) -> pd.DataFrame:
    part = part.drop(columns="bucket")
    for col in ("icao24", "callsign", "squawk"):  # Arrow strings back to str / None
        part[col] = part[col].astype(object).where(part[col].notna(), None)
    found, positions, _ = scan_track_partition(part, opts.zones, opts.gap_s, opts.keep_path,
                                               receiver=opts.ref)
    # one row per entry (a None row when there is none); positions counted on the first
    rows: list[Entry | None] = list(found) or [None]
    counts = [positions] + [0] * (len(rows) - 1)
    return pd.DataFrame({"entry": pd.Series(rows, dtype=object), "positions": counts})


def max_local_workers() -> int:
    """The most workers a local cluster may start: 4 per core (each is a process)."""
    return 4 * (os.cpu_count() or 1)


def check_workers(workers: int | None, scheduler: str | None = None) -> None:
    """A usage error unless ``workers`` is None or a worker count a local cluster can run.

    >>> check_workers(0)
    Traceback (most recent call last):
    ...
    skyfence.errors.UsageError: --workers 0: a local Dask cluster needs at least 1 worker
    """
    if workers is None:
        return
    if scheduler:
        raise UsageError(f"--workers {workers}: sets the size of a local cluster; with "
                         "--scheduler the cluster's own workers run the scan")
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise UsageError(f"--workers {workers!r}: expected a whole number")
    if workers < 1:
        raise UsageError(f"--workers {workers}: a local Dask cluster needs at least 1 worker")
    if workers > max_local_workers():
        raise UsageError(f"--workers {workers}: at most {max_local_workers()} on this machine "
                         f"(4 per core; each worker is a process)")


def scan_dask(
    paths: Sequence[Path], opts: ScanOptions, *, scheduler: str | None = None,
    workers: int | None = None, partitions: int | None = None,
) -> ScanResult:
    """Scan ``paths`` on a Dask cluster (``scheduler`` address, or a local cluster).

    ``workers`` sizes the local cluster: 1 up to :func:`max_local_workers` (a cluster
    with no worker would wait for one forever).
    """
    check_workers(workers, scheduler)
    try:
        import dask
        import dask.dataframe as dd
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--engine dask needs the dask extra: pip install 'skyfence[dask]'"
                         ) from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address
            raise UsageError(f"--scheduler {scheduler[:60]}: cannot connect "
                             f"({one_line(str(exc), 120)})") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        meta = pd.DataFrame({c: pd.Series(dtype=t) for c, t in OBSERVATION_COLUMNS.items()})
        meta["bucket"] = pd.Series(dtype="int64")
        ddf = dd.from_map(_read, [str(p) for p in paths], opts=opts, meta=meta)
        nparts = partitions or max(2, 2 * len(client.scheduler_info()["workers"]))
        with dask.config.set({"dataframe.shuffle.method": "tasks",
                              "dataframe.convert-string": False}):
            shuffled = ddf.shuffle("bucket", npartitions=nparts)
        out_meta = pd.DataFrame({"entry": pd.Series(dtype=object),
                                 "positions": pd.Series(dtype="int64")})
        res = shuffled.map_partitions(_scan, opts, meta=out_meta).compute()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    found: list[Entry] = [e for e in res["entry"].tolist() if e is not None]
    positions = int(res["positions"].sum())
    entries, records = finish(found, opts.policy, opts.military_db)
    return ScanResult(records, entries, positions, mode="dask")
