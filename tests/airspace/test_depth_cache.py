"""Distance fields kept on disk between runs (``skyfence.airspace.depth_cache``).

What must hold: a field loaded from disk holds exactly the cells and distances the
field that saved it measured (the reference: that field's own arrays, and a fresh
exact measurement of the cell centres by ``Boundary.distance_m``); a file made for
another geometry, or damaged in any way, is never used; saves merge; and a scan's
records are the same bytes with the cache empty, filled, or off.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.depth_cache import DepthCache, field_digest
from skyfence.airspace.depth_field import LEVELS
from skyfence.airspace.zones import circle_zone
from skyfence.model import make_observations
from skyfence.scanning.engine import ScanOptions, scan_files

ZONE = box(10.0, 50.0, 11.0, 51.0)
#: one run of fixes across the box's west half, deepest near the middle
LON = np.linspace(10.05, 10.6, 56)
LAT = np.full(56, 50.5)


def _filled(geometry: BaseGeometry = ZONE) -> Boundary:
    b = Boundary(geometry)
    b.deepest_m(LON, LAT, np.array([0]))
    assert b.depth_field.measured_cells > 0
    return b


def _arrays(b: Boundary) -> list[tuple[list[int], list[float]]]:
    return [(lv.keys.tolist(), lv.values.tolist()) for lv in b.depth_field.levels]


def test_a_saved_field_comes_back_cell_for_cell(tmp_path: Path) -> None:
    cache = DepthCache(tmp_path)
    b = _filled()
    assert cache.save(ZONE, b.depth_field)
    assert not cache.save(ZONE, b.depth_field)  # nothing new since: no write
    again = Boundary(ZONE)
    gained = cache.load(ZONE, again.depth_field)
    assert gained == len(b.depth_field) > 0
    assert _arrays(again) == _arrays(b)
    # the stored values are the exact distances of the cell centres, measured afresh
    for level in again.depth_field.levels:
        if len(level.keys):
            fy, fx = np.divmod(level.keys, level.nx)
            lon = (fx + 0.5) / level.per_deg - 180.0
            lat = (fy + 0.5) / level.per_deg - 90.0
            assert level.values.tolist() == Boundary(ZONE).distance_m(lon, lat).tolist()
    # a loaded field answers without measuring a cell, and answers the same
    assert again.deepest_m(LON, LAT, np.array([0])) == b.deepest_m(LON, LAT, np.array([0]))
    assert again.depth_field.measured_cells == 0


def test_a_file_of_another_zone_is_never_used(tmp_path: Path) -> None:
    cache = DepthCache(tmp_path)
    cache.save(ZONE, _filled().depth_field)
    moved = box(10.0, 50.0, 11.0, 51.001)  # one edge 111 m further north
    assert field_digest(moved, LEVELS) != field_digest(ZONE, LEVELS)
    assert cache.load(moved, Boundary(moved).depth_field) == 0
    # the same file renamed to the moved zone's name: its digest inside tells
    cache.path(ZONE, Boundary(ZONE).depth_field).rename(
        cache.path(moved, Boundary(moved).depth_field))
    fresh = Boundary(moved)
    assert cache.load(moved, fresh.depth_field) == 0 and len(fresh.depth_field) == 0


def _rewrite(path: Path, **change: np.ndarray) -> None:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays.update(change)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)


def _numpy_error(path: Path) -> str:
    """What numpy (or zipfile) raises reading every array of ``path`` in the order the
    cache reads them: the digest, the levels, then each grid's keys and values."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in ("digest", "levels", *(f"{a}{i}" for i in range(len(LEVELS))
                                               for a in ("keys", "values"))):
                npz[name]
    except Exception as exc:  # the error's text is what is compared
        return str(exc)
    return "(no error)"


#: the debug line each damage gives (a regular expression; ``{path}`` the file, ``{level}``
#: the damaged grid, ``{error}`` what numpy says reading the file: ``_numpy_error``)
_CANNOT_READ = r"depth cache: cannot read {path} \({error}\)"
_DAMAGED = "depth cache: {path} grid {level} is damaged"
_WHY = {
    "truncated": _CANNOT_READ, "byte flipped": _CANNOT_READ, "empty file": _CANNOT_READ,
    "not a zip": _CANNOT_READ, "no digest": _CANNOT_READ,
    "levels differ": "depth cache: {path} was made for something else",
    **{d: _DAMAGED for d in ("keys unsorted", "key off grid", "negative key", "duplicate key",
                             "two keys swapped", "nan value", "negative value", "int values",
                             "short values")},
}


@pytest.mark.parametrize("damage", [
    "truncated", "byte flipped", "empty file", "not a zip", "keys unsorted", "key off grid",
    "negative key", "duplicate key", "two keys swapped", "nan value", "negative value",
    "int values", "short values", "levels differ", "no digest",
])
def test_a_damaged_file_is_left_aside_and_rewritten(
        tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    cache = DepthCache(tmp_path)
    b = _filled()
    cache.save(ZONE, b.depth_field)
    path = cache.path(ZONE, b.depth_field)
    raw = path.read_bytes()
    level = next(i for i, lv in enumerate(b.depth_field.levels) if len(lv.keys) > 2)
    keys, values = b.depth_field.levels[level].keys, b.depth_field.levels[level].values
    if damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "byte flipped":  # inside a stored array: the zip's CRC-32 tells
        at = raw.index(values.tobytes()[:16])
        path.write_bytes(raw[:at] + bytes([raw[at] ^ 0x40]) + raw[at + 1:])
    elif damage == "empty file":
        path.write_bytes(b"")
    elif damage == "not a zip":
        path.write_text(json.dumps({"keys": [1, 2]}))
    elif damage == "keys unsorted":
        _rewrite(path, **{f"keys{level}": keys[::-1].copy()})
    elif damage == "key off grid":
        bad = keys.copy()
        bad[-1] = b.depth_field.levels[level].n_keys
        _rewrite(path, **{f"keys{level}": bad})
    elif damage == "negative key":
        bad = keys.copy()
        bad[0] = -1
        _rewrite(path, **{f"keys{level}": bad})
    elif damage == "duplicate key":
        bad = keys.copy()
        bad[1] = bad[0]
        _rewrite(path, **{f"keys{level}": bad})
    elif damage == "two keys swapped":  # both above the first key, out of order
        bad = keys.copy()
        bad[1], bad[2] = keys[2], keys[1]
        _rewrite(path, **{f"keys{level}": bad})
    elif damage == "nan value":
        bad = values.copy()
        bad[1] = np.nan
        _rewrite(path, **{f"values{level}": bad})
    elif damage == "negative value":
        bad = values.copy()
        bad[1] = -5.0
        _rewrite(path, **{f"values{level}": bad})
    elif damage == "int values":
        _rewrite(path, **{f"values{level}": values.astype(np.int64)})
    elif damage == "short values":
        _rewrite(path, **{f"values{level}": values[:-1].copy()})
    elif damage == "levels differ":
        _rewrite(path, levels=np.array([4, 16, 64, 128]))
    elif damage == "no digest":
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files if k != "digest"}
        with path.open("wb") as fh:
            np.savez(fh, **arrays)
    fresh = Boundary(ZONE)
    with caplog.at_level(logging.DEBUG, logger="skyfence.airspace.depth_cache"):
        assert cache.load(ZONE, fresh.depth_field) == 0
    assert len(fresh.depth_field) == 0
    # said why, at debug level, in one line naming the file (and the grid, or the error)
    (said,) = [r.getMessage() for r in caplog.records
               if r.name == "skyfence.airspace.depth_cache" and r.levelno == logging.DEBUG]
    error = re.escape(_numpy_error(path))
    assert re.fullmatch(_WHY[damage].format(path=re.escape(str(path)), level=level,
                                            error=error), said), said
    # the next save writes a good file again
    fresh.deepest_m(LON, LAT, np.array([0]))
    assert cache.save(ZONE, fresh.depth_field)
    again = Boundary(ZONE)
    assert cache.load(ZONE, again.depth_field) == len(b.depth_field)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None


def test_a_file_with_an_empty_grid_gives_the_cells_of_the_others(tmp_path: Path) -> None:
    """A grid with no cell is a valid part of a file (a field that measured nothing at
    that level, as another version or tool may write): it adds nothing and the other
    grids are used; the loaded field answers as the one that saved it."""
    cache = DepthCache(tmp_path)
    b = _filled()
    cache.save(ZONE, b.depth_field)
    last = len(LEVELS) - 1
    _rewrite(cache.path(ZONE, b.depth_field), **{f"keys{last}": np.empty(0, np.int64),
                                                 f"values{last}": np.empty(0, np.float64)})
    again = Boundary(ZONE)
    kept = sum(len(lv.keys) for lv in b.depth_field.levels[:last])
    assert cache.load(ZONE, again.depth_field) == kept
    assert _arrays(again)[:last] == _arrays(b)[:last] and _arrays(again)[last] == ([], [])
    assert again.deepest_m(LON, LAT, np.array([0])) == b.deepest_m(LON, LAT, np.array([0]))


def test_saves_merge_what_two_runs_measured(tmp_path: Path) -> None:
    cache = DepthCache(tmp_path)
    west, east = Boundary(ZONE), Boundary(ZONE)
    west.deepest_m(LON, LAT, np.array([0]))
    east.deepest_m(LON + 0.35, LAT + 0.3, np.array([0]))
    cache.save(ZONE, west.depth_field)
    cache.save(ZONE, east.depth_field)  # the file then holds both runs' cells
    both = Boundary(ZONE)
    cache.load(ZONE, both.depth_field)
    for lv, w, e in zip(both.depth_field.levels, west.depth_field.levels,
                        east.depth_field.levels, strict=True):
        union = np.union1d(w.keys, e.keys)
        assert lv.keys.tolist() == union.tolist()
        wanted = dict(zip(w.keys.tolist(), w.values.tolist(), strict=True))
        wanted.update(zip(e.keys.tolist(), e.values.tolist(), strict=True))
        assert lv.values.tolist() == [wanted[k] for k in union.tolist()]


def test_an_unwritable_directory_is_logged_not_raised(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    cache = DepthCache(blocker / "cache")
    b = _filled()
    with caplog.at_level(logging.WARNING, logger="skyfence.airspace.depth_cache"):
        assert not cache.save(ZONE, b.depth_field)
    path = re.escape(str(cache.path(ZONE, b.depth_field)))
    (said,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # the file and the system's reason, whatever words the system uses for it
    assert re.fullmatch(rf"depth cache: cannot write {path} \(.*Not a directory.*\)", said), said


def _traffic() -> object:
    """Three aircraft across a 20 km circle at 45 N 7 E, one fix every 10 s."""
    t = np.arange(0.0, 600.0, 10.0)
    rows = []
    for k, lat in enumerate((44.95, 45.0, 45.06)):
        rows.append(dict(time=t + k, icao24=[f"4b1a0{k}"] * len(t), lat=np.full(len(t), lat),
                         lon=6.6 + t * 0.0015))
    return make_observations(**{c: np.concatenate([r[c] for r in rows])
                                for c in ("time", "icao24", "lat", "lon")})


def test_a_scan_writes_the_same_records_with_the_cache_empty_filled_or_off(
        tmp_path: Path) -> None:
    zone = circle_zone("RING", 45.0, 7.0, 20.0)
    path = tmp_path / "traffic.parquet"
    _traffic().to_parquet(path)  # type: ignore[attr-defined]

    def scan(**kw: object) -> tuple[list[object], ScanOptions]:
        opts = ScanOptions(zones=[zone], depth_cache_dir=tmp_path / "cache",
                           **kw)  # type: ignore[arg-type]
        res = scan_files([path], opts)
        return list(res.records), opts

    off, _ = scan(depth_cache=False)
    assert not (tmp_path / "cache").exists()  # off: nothing written
    first, o1 = scan()
    second, o2 = scan()
    assert len(off) == 3 and off == first == second
    assert o1.prototype is not None and o2.prototype is not None
    assert sum(b.depth_field.measured_cells for b in o1.prototype._boundaries.values()) > 0
    # the second scan (a new detector, as a new process has) measured no cell
    assert sum(b.depth_field.measured_cells for b in o2.prototype._boundaries.values()) == 0
    assert len(list((tmp_path / "cache").glob("depth-field-*.npz"))) == 1


def test_a_field_beyond_the_size_limit_is_not_saved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    b = _filled()
    monkeypatch.setattr("skyfence.airspace.depth_cache.MAX_SAVED_CELLS", len(b.depth_field) - 1)
    with caplog.at_level(logging.DEBUG, logger="skyfence.airspace.depth_cache"):
        assert not DepthCache(tmp_path).save(ZONE, b.depth_field)
    assert not list(tmp_path.glob("*.npz"))
    path = DepthCache(tmp_path).path(ZONE, b.depth_field)
    assert [r.getMessage() for r in caplog.records] == [
        f"depth cache: {path} not saved ({len(b.depth_field)} cells)"]
    monkeypatch.setattr("skyfence.airspace.depth_cache.MAX_SAVED_CELLS", len(b.depth_field))
    assert DepthCache(tmp_path).save(ZONE, b.depth_field)


def test_a_first_cell_of_key_0_at_distance_0_is_a_good_file(tmp_path: Path) -> None:
    """Key 0 (the grid's first cell) and a distance of 0 m (a cell on the boundary) are
    values a field can hold: such a file is used, not taken for damaged."""
    cache = DepthCache(tmp_path)
    b = _filled()
    cache.save(ZONE, b.depth_field)
    path = cache.path(ZONE, b.depth_field)
    level = next(i for i, lv in enumerate(b.depth_field.levels) if len(lv.keys) > 2)
    keys = b.depth_field.levels[level].keys.copy()
    values = b.depth_field.levels[level].values.copy()
    keys[0], values[0] = 0, 0.0
    _rewrite(path, **{f"keys{level}": keys, f"values{level}": values})
    fresh = Boundary(ZONE)
    assert cache.load(ZONE, fresh.depth_field) == len(b.depth_field)
    assert fresh.depth_field.levels[level].keys[0] == 0
    assert fresh.depth_field.levels[level].values[0] == 0.0


def test_a_loaded_field_with_nothing_new_is_not_written_again(tmp_path: Path) -> None:
    cache = DepthCache(tmp_path)
    b = _filled()
    assert cache.save(ZONE, b.depth_field)
    path = cache.path(ZONE, b.depth_field)
    os.utime(path, (1000.0, 1000.0))
    fresh = Boundary(ZONE)
    assert cache.load(ZONE, fresh.depth_field) == len(b.depth_field)
    assert not cache.save(ZONE, fresh.depth_field)  # nothing measured since the load
    assert path.stat().st_mtime != 1000.0  # the load counted as a use (touch)
