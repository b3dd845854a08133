"""The distance fields of zone boundaries kept on disk between runs.

A zone's distance field (:mod:`~skyfence.airspace.depth_field`) holds exact distances
from cell centres to the boundary. They depend on the zone's geometry and the code that
measures them, never on the data, yet a cold scan spends most of its time measuring
them: a day of world-like traffic against every state measured about 300,000 cells,
about half of the first run's time (``skyfence bench scan``, ``cold_s``). Kept on disk,
the next run over the same zones starts where the last one stopped, as a scan does
that runs twice in one process.

What is stored cannot change an answer: a run's deepest fix is always measured
exactly, the cells only bound which fixes need it (see the field's module). A file is
used only when everything it was made from matches: the zone's geometry (WKB), the
grids, the source of the modules that measure (boundary, field, geodesy, the seam
rule), pyproj's version and the file format, all in the file's name and inside it. A
file that is unreadable, truncated, of another digest, or holds keys out of order or
out of the grid, or values that are not distances, is left aside (logged at debug level)
and rewritten by the next save. Saves merge with what is on disk and replace the file
atomically; two runs saving at once lose, at worst, the cells of one of them.

Files live beside the zone index's, in ``$XDG_CACHE_HOME/skyfence`` (else
``~/.cache/skyfence``), one per zone: ``depth-field-<digest>.npz``.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from skyfence.airspace import antimeridian, boundary, cache_files, depth_field, geodesy
from skyfence.airspace.depth_field import DepthField

__all__ = ["FORMAT_VERSION", "MAX_SAVED_CELLS", "DepthCache"]

log = logging.getLogger(__name__)

#: bumped when the file layout changes
FORMAT_VERSION = 1
#: most cells a zone's file holds (16 bytes each in memory once loaded): a field that
#: grew beyond it is not saved, so no scan loads more than 32 MB per zone
MAX_SAVED_CELLS = 2_000_000


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """Hash of the source of what measures a cell (and pyproj's version): changed code
    makes new files even when nobody bumped :data:`FORMAT_VERSION`. Without the source
    (bytecode only), the package version stands in for it."""
    import pyproj

    h = hashlib.sha256(f"pyproj {pyproj.__version__}".encode())
    try:
        for module in (boundary, depth_field, geodesy, antimeridian):
            h.update(Path(str(module.__file__)).read_bytes())
    except (OSError, TypeError):
        from skyfence import __version__

        h.update(__version__.encode())
    return h.hexdigest()


def field_digest(geometry: BaseGeometry, levels: tuple[int, ...]) -> str:
    """Hash of everything a zone's cell distances follow from."""
    h = hashlib.sha256(f"skyfence-depth-field:{FORMAT_VERSION}:{levels}:"
                       f"{_code_digest()}".encode())
    h.update(shapely.to_wkb(geometry))
    return h.hexdigest()


class DepthCache:
    """Loads and saves zones' distance fields under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, geometry: BaseGeometry, field: DepthField) -> Path:
        """The file of the zone ``geometry``'s field."""
        return self._path(field_digest(geometry, _levels(field)))

    def _path(self, digest: str) -> Path:
        return self.directory / f"depth-field-{digest[:32]}.npz"

    def load(self, geometry: BaseGeometry, field: DepthField) -> int:
        """Fill ``field`` from the zone's file; how many cells it gained (0 when there
        is no usable file)."""
        digest = field_digest(geometry, _levels(field))  # hashes the zone's WKB: once
        path = self._path(digest)
        stored = _read(path, digest, field)
        if stored is None:
            return 0
        cache_files.touch(path)
        gained = sum(level.absorb(k, v) for level, (k, v) in zip(field.levels, stored,
                                                                   strict=True))
        field.saved_cells = field.measured_cells
        return gained

    def save(self, geometry: BaseGeometry, field: DepthField) -> bool:
        """Write ``field`` (merged with the file as it is now) when it measured cells
        since it was loaded or last saved; whether a file was written. A directory that
        cannot be written is logged, never raised: the cache only saves time."""
        return self.save_all([(geometry, field)]) == 1

    def save_all(self, fields: Iterable[tuple[BaseGeometry, DepthField]]) -> int:
        """:meth:`save` each (geometry, field), then keep the cache directory within its
        budget once for all of them; how many files were written."""
        written = [p for geometry, field in fields
                   if (p := self._write(geometry, field)) is not None]
        if written:
            cache_files.prune(self.directory, keep=written)
        return len(written)

    def _write(self, geometry: BaseGeometry, field: DepthField) -> Path | None:
        """The file written for ``field`` (see :meth:`save`), or None."""
        if field.measured_cells == field.saved_cells:
            return None
        digest = field_digest(geometry, _levels(field))  # hashes the zone's WKB: once
        path = self._path(digest)
        on_disk = _read(path, digest, field)
        if on_disk is not None:
            for level, (k, v) in zip(field.levels, on_disk, strict=True):
                level.absorb(k, v)
        if len(field) > MAX_SAVED_CELLS:
            log.debug("depth cache: %s not saved (%d cells)", path, len(field))
            return None
        arrays: dict[str, np.ndarray] = {
            "digest": np.array(digest), "levels": np.array(_levels(field), np.int64)}
        for i, level in enumerate(field.levels):
            arrays[f"keys{i}"], arrays[f"values{i}"] = level.keys, level.values
        try:
            cache_files.write_npz(path, arrays)
        except OSError as exc:
            log.warning("depth cache: cannot write %s (%s)", path, exc)
            return None
        field.saved_cells = field.measured_cells
        return path


def _levels(field: DepthField) -> tuple[int, ...]:
    return tuple(level.per_deg for level in field.levels)


def _read(path: Path, digest: str, field: DepthField
          ) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """(keys, values) per grid of the file at ``path``, or None when it is missing or
    unusable for ``field`` (logged at debug level)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["digest"]) != digest or \
                    npz["levels"].tolist() != list(_levels(field)):
                log.debug("depth cache: %s was made for something else", path)
                return None
            out = []
            for i, level in enumerate(field.levels):
                keys = np.asarray(npz[f"keys{i}"])
                values = np.asarray(npz[f"values{i}"])
                if not _valid(keys, values, level.n_keys):
                    log.debug("depth cache: %s grid %d is damaged", path, i)
                    return None
                out.append((keys, values))
            return out
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.debug("depth cache: cannot read %s (%s)", path, exc)
        return None


def _valid(keys: np.ndarray, values: np.ndarray, n_keys: int) -> bool:
    """Keys strictly ascending int64 on the grid; values distances (>= 0, not NaN)."""
    return bool(
        keys.dtype == np.int64 and values.dtype == np.float64 and keys.ndim == 1
        and values.shape == keys.shape
        and (len(keys) == 0 or (keys[0] >= 0 and keys[-1] < n_keys))
        and np.all(keys[1:] > keys[:-1])
        and not np.any(np.isnan(values)) and np.all(values >= 0.0))
