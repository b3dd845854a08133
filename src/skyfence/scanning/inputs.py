"""Which files a scan reads: plain files, globs and hive-partitioned Parquet directories."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from skyfence.errors import UsageError

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
                raise UsageError(f"{s}: no file matches")
            out.extend(files)
            continue
        p = Path(s)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and _is_table(f))
            if not files:
                raise UsageError(f"{p}: directory holds no CSV or Parquet file")
            out.extend(files)
        elif p.exists():
            out.append(p)
        else:
            raise UsageError(f"{p}: input file not found")
    return out


def is_parquet(p: Path) -> bool:
    """True for a Parquet file by its name."""
    return p.name.lower().endswith((".parquet", ".pq"))
