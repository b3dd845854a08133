"""Which files a scan reads: plain files, globs and hive-partitioned Parquet directories.

An input that names nothing readable (a missing file, a glob matching nothing, a
directory without tables, a ``.parquet`` file that is not Parquet) is a data error
(:class:`InputError`, exit code 1), as in ``watch --replay``.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from skyfence.errors import InputError
from skyfence.sources.tabular import check_parquet

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")  # what a directory walk picks up


def _is_table(p: Path) -> bool:
    name = p.name.lower()
    return name.endswith(TABLE_SUFFIXES) and not name.startswith((".", "_"))


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Files named by ``inputs``, in order: globs expanded (sorted), directories walked
    recursively for CSV / Parquet files (sorted by path, so ``hour=00`` comes before
    ``hour=01`` as in OpenSky's hive layout)."""
    out: list[Path] = []
    for item in inputs:
        s = str(item)
        if any(ch in s for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(s, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise InputError("no file matches", file=s)
            out.extend(files)
            continue
        p = Path(s)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and _is_table(f))
            if not files:
                raise InputError("directory holds no CSV or Parquet file", file=str(p))
            out.extend(files)
        elif p.exists():
            out.append(p)
        else:
            raise InputError("file not found", file=str(p))
    for p in out:
        if is_parquet(p):
            check_parquet(p)
    return out


def is_parquet(p: Path) -> bool:
    """True for a Parquet file by its name."""
    return p.name.lower().endswith((".parquet", ".pq"))
