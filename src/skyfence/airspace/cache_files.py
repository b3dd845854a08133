"""skyfence's files in the cache directory: written whole, and kept within a size budget.

Every zone set scanned writes its own zone index (``zone-index-*.npz``: up to ~90 MB for
all states) and every zone its distance field (``depth-field-*.npz``). :func:`write_npz`
writes one through a temporary file beside it, renamed into place (a reader never sees
half a file; a failed write leaves no temporary file, which on a full disk would be as
large as the file). An investigator who scans many different sets of zones would
otherwise fill the disk with files nobody reads again: after a write, :func:`prune`
removes skyfence's cache files from the oldest use on until they fit
``SKYFENCE_CACHE_MB`` (default :data:`DEFAULT_BUDGET_MB`); the files just written always
stay, even alone over the budget. A file's modification time is its last use:
:func:`touch` after each load.

Only skyfence's own files are counted or removed (:data:`CACHE_FILES`), never anything
else in the directory. A file another process is reading when it is removed stays
readable to that process (POSIX); one it was about to open is rebuilt, as a damaged or
missing file always is: the cache only saves time, it never changes an answer.

>>> _budget_bytes({"SKYFENCE_CACHE_MB": "1.5"})
1572864
>>> _budget_bytes({}) == DEFAULT_BUDGET_MB * 2**20
True
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: the names of skyfence's cache files (what is counted and may be removed)
CACHE_FILES = ("zone-index-*.npz", "depth-field-*.npz")
#: the budget when ``SKYFENCE_CACHE_MB`` is not set (MiB)
DEFAULT_BUDGET_MB = 2048


def _budget_bytes(env: Mapping[str, str] = os.environ) -> int:
    """``SKYFENCE_CACHE_MB`` in bytes; a value that is no finite number >= 0 is logged
    and the default used (a typo must not empty the cache, nor keep it unbounded)."""
    raw = env.get("SKYFENCE_CACHE_MB")
    if raw is None:
        return DEFAULT_BUDGET_MB * 2**20
    try:
        mb = float(raw)
    except ValueError:
        mb = math.nan
    if not (math.isfinite(mb) and mb >= 0):
        log.warning("SKYFENCE_CACHE_MB=%r is not a size in MiB: using %d", raw,
                    DEFAULT_BUDGET_MB)
        return DEFAULT_BUDGET_MB * 2**20
    return int(mb * 2**20)


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` (``numpy.savez``) through a temporary file beside it,
    renamed into place; on any failure the temporary file is removed (if it can be) and
    the error raised: the caller logs it, the cache only saves time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def touch(path: Path) -> None:
    """Mark ``path`` as just used (its modification time: now); errors are ignored (a
    read-only cache is still read)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def prune(directory: Path, keep: Iterable[Path], budget_bytes: int | None = None
          ) -> list[Path]:
    """Remove skyfence's cache files in ``directory``, least recently used first, until
    those left fit ``budget_bytes`` (default from ``SKYFENCE_CACHE_MB``); ``keep`` (the
    files just written) are never removed. Returns the files removed."""
    budget = _budget_bytes() if budget_bytes is None else budget_bytes
    kept = set(keep)
    files: list[tuple[float, int, Path]] = []
    for pattern in CACHE_FILES:
        for p in directory.glob(pattern):
            with contextlib.suppress(OSError):  # gone meanwhile (another process)
                st = p.stat()
                files.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in files)
    removed: list[Path] = []
    for _, size, p in sorted(files, key=lambda f: (f[0], f[2].name)):  # oldest use first
        if total <= budget:
            break
        if p in kept:
            continue
        try:
            p.unlink()
        except FileNotFoundError:  # another process removed it
            total -= size
            continue
        except OSError as exc:
            log.warning("cache: cannot remove %s (%s)", p, exc)
            continue
        total -= size
        removed.append(p)
    if removed:
        log.info("cache: removed %d least recently used file(s) from %s to stay under "
                 "%.0f MiB", len(removed), directory, budget / 2**20)
    return removed
