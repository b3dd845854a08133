"""The cache directory kept within its budget (``skyfence.airspace.cache_files``).

What must hold: once a cache file is written, skyfence's cache files are removed least
recently used first (the reference: the files' sizes and use times set by hand in each
test, the expected survivors worked out next to it) until they fit the budget; the file
just written stays; nothing that is not a skyfence cache file is touched; a load counts
as a use; a bad ``SKYFENCE_CACHE_MB`` falls back to the default, logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

from skyfence.airspace import cache_files
from skyfence.airspace.boundary import Boundary
from skyfence.airspace.cache_files import DEFAULT_BUDGET_MB, prune
from skyfence.airspace.depth_cache import DepthCache
from skyfence.airspace.index import ZoneIndex
from skyfence.airspace.zones import circle_zone

MB = 2**20


def _file(d: Path, name: str, mb: float, used_at: float) -> Path:
    p = d / name
    p.write_bytes(b"\0" * int(mb * MB))
    os.utime(p, (used_at, used_at))
    return p


def test_least_recently_used_go_first_until_the_rest_fit(tmp_path: Path) -> None:
    a = _file(tmp_path, "zone-index-a.npz", 3, 100.0)  # oldest use
    b = _file(tmp_path, "depth-field-b.npz", 2, 200.0)
    c = _file(tmp_path, "zone-index-c.npz", 2, 300.0)
    new = _file(tmp_path, "depth-field-new.npz", 1, 400.0)  # just written
    other = _file(tmp_path, "notes.npz", 50, 50.0)  # not a cache file: never counted
    # 8 MB of cache files, budget 4 MB: a (3) goes -> 5, b (2) goes -> 3 <= 4
    assert prune(tmp_path, keep=[new], budget_bytes=4 * MB) == [a, b]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [c.name, new.name, other.name])
    assert prune(tmp_path, keep=[new], budget_bytes=4 * MB) == []  # fits now


def test_the_file_just_written_stays_even_alone_over_the_budget(tmp_path: Path) -> None:
    old = _file(tmp_path, "zone-index-old.npz", 1, 10.0)
    new = _file(tmp_path, "zone-index-new.npz", 3, 5.0)  # older clock, still kept
    assert prune(tmp_path, keep=[new], budget_bytes=2 * MB) == [old]
    assert prune(tmp_path, keep=[new], budget_bytes=0) == []
    assert new.exists()


@pytest.mark.parametrize("raw", ["lots", "-1", "nan", "inf", ""])
def test_a_bad_budget_is_logged_and_the_default_used(
        raw: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="skyfence.airspace.cache_files"):
        assert cache_files._budget_bytes({"SKYFENCE_CACHE_MB": raw}) == (
            DEFAULT_BUDGET_MB * MB)
    assert "SKYFENCE_CACHE_MB" in caplog.text and "not a size" in caplog.text


def test_zero_keeps_only_the_file_just_written(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYFENCE_CACHE_MB", "0")
    a = _file(tmp_path, "zone-index-a.npz", 0.01, 1.0)
    new = _file(tmp_path, "zone-index-b.npz", 0.01, 2.0)
    assert prune(tmp_path, keep=[new]) == [a]


def test_zone_indexes_beyond_the_budget_are_removed_oldest_use_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zones = {k: [circle_zone(k, 50.0 + i, 10.0, 20.0)] for i, k in enumerate("ABC")}
    first = ZoneIndex(zones["A"], cache_dir=tmp_path).cache_path
    second = ZoneIndex(zones["B"], cache_dir=tmp_path).cache_path
    assert first is not None and second is not None
    size = first.stat().st_size
    # a budget that holds two of these files (they are about the same size)
    monkeypatch.setenv("SKYFENCE_CACHE_MB", str(2.5 * size / MB))
    os.utime(first, (1.0, 1.0))
    os.utime(second, (2.0, 2.0))
    # loading A is a use: it is now newer than B, so C's write removes B
    assert ZoneIndex(zones["A"], cache_dir=tmp_path).loaded_from_cache
    third = ZoneIndex(zones["C"], cache_dir=tmp_path).cache_path
    assert third is not None
    assert sorted(p.name for p in tmp_path.glob("zone-index-*")) == sorted(
        [first.name, third.name])


def test_a_distance_field_save_keeps_the_budget_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _file(tmp_path, "zone-index-old.npz", 0.5, 1.0)
    zone = box(10.0, 50.0, 11.0, 51.0)
    b = Boundary(zone)
    b.deepest_m(np.linspace(10.05, 10.6, 56), np.full(56, 50.5), np.array([0]))
    monkeypatch.setenv("SKYFENCE_CACHE_MB", "0.25")
    cache = DepthCache(tmp_path)
    assert cache.save(zone, b.depth_field)
    assert not old.exists() and cache.path(zone, b.depth_field).exists()
    # and loading a field marks it as used
    saved = cache.path(zone, b.depth_field)
    os.utime(saved, (1.0, 1.0))
    assert cache.load(zone, Boundary(zone).depth_field) > 0
    assert saved.stat().st_mtime > 1.0


def test_fields_saved_together_are_kept_together(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # two zones' fields saved by one scan, a budget of nothing: both stay (the budget is
    # kept once for the batch), the older file goes
    old = _file(tmp_path, "depth-field-old.npz", 0.01, 1.0)
    zones = [box(10.0, 50.0, 11.0, 51.0), box(12.0, 50.0, 13.0, 51.0)]
    fields = []
    for z in zones:
        b = Boundary(z)
        x0 = z.bounds[0]
        b.deepest_m(np.linspace(x0 + 0.05, x0 + 0.6, 56), np.full(56, 50.5), np.array([0]))
        fields.append((z, b.depth_field))
    monkeypatch.setenv("SKYFENCE_CACHE_MB", "0")
    cache = DepthCache(tmp_path)
    assert cache.save_all(fields) == 2
    assert not old.exists()
    assert all(cache.path(z, f).exists() for z, f in fields)


def test_files_that_exactly_fill_the_budget_all_stay(tmp_path: Path) -> None:
    """Three 1 MiB files and a budget of exactly 3 MiB: they fit (the budget is a most,
    not a less-than), nothing is removed. One byte less and the least recently used
    one goes, and only it (2 MiB left <= 3 MiB - 1 byte)."""
    a = _file(tmp_path, "zone-index-a.npz", 1, 100.0)  # least recently used
    _file(tmp_path, "zone-index-b.npz", 1, 200.0)
    _file(tmp_path, "zone-index-c.npz", 1, 300.0)
    assert prune(tmp_path, keep=[], budget_bytes=3 * MB) == []
    assert prune(tmp_path, keep=[], budget_bytes=3 * MB - 1) == [a]


def test_the_last_use_is_the_modification_time_not_the_inode_change(tmp_path: Path) -> None:
    """Use times set in the order a, b, c (each ``utime`` also sets that file's inode
    change time to now, so by ctime, and by name, a is the oldest) but a used last and
    c first: c, the least recently *used*, is the one removed (1 MiB over the budget)."""
    a = _file(tmp_path, "zone-index-a.npz", 1, 300.0)  # used last
    _file(tmp_path, "zone-index-b.npz", 1, 200.0)
    c = _file(tmp_path, "zone-index-c.npz", 1, 100.0)  # used first
    assert prune(tmp_path, keep=[], budget_bytes=2 * MB) == [c]
    assert a.exists()


def test_files_used_at_the_same_moment_go_in_name_order(tmp_path: Path) -> None:
    """a (2 MB) and b (1 MB) used at the same second; 3 MB against a budget of 2: the
    name decides (a first), not the size (b, the smaller, would sort first by size)."""
    a = _file(tmp_path, "zone-index-a.npz", 2, 100.0)
    b = _file(tmp_path, "zone-index-b.npz", 1, 100.0)
    assert prune(tmp_path, keep=[], budget_bytes=2 * MB) == [a]
    assert b.exists()


def _three_with_the_oldest_removed_by(
        d: Path, monkeypatch: pytest.MonkeyPatch, first: Callable[[Path], None]
) -> tuple[Path, Path, Path]:
    """Cache files a, b, c (1 MB each, used in that order); ``first(a)`` runs when a is
    removed, before the removal itself."""
    a = _file(d, "zone-index-a.npz", 1, 100.0)
    b = _file(d, "zone-index-b.npz", 1, 200.0)
    c = _file(d, "zone-index-c.npz", 1, 300.0)
    unlink = Path.unlink

    def watched(self: Path, missing_ok: bool = False) -> None:
        if self == a:
            first(self)
        unlink(self, missing_ok)

    monkeypatch.setattr(Path, "unlink", watched)
    return a, b, c


def test_a_file_another_process_removed_counts_as_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """a, b, c (1 MB each, oldest first), budget 1.5 MB. Another process removes a just
    before prune does: 2 MB left, so b goes (1 MB <= 1.5) and c stays; only b is named
    removed, and the log says one file went."""
    unlink = Path.unlink
    a, b, c = _three_with_the_oldest_removed_by(
        tmp_path, monkeypatch, lambda p: unlink(p))  # the other process, just before
    with caplog.at_level(logging.INFO, logger="skyfence.airspace.cache_files"):
        assert prune(tmp_path, keep=[], budget_bytes=int(1.5 * MB)) == [b]
    assert not a.exists() and not b.exists() and c.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"cache: removed 1 least recently used file(s) from {tmp_path} to stay under 2 MiB"]


def test_a_file_that_cannot_be_removed_is_named_and_the_next_goes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """a (oldest) cannot be removed: warned of, by name and reason; b goes instead and
    the rest (a, c: 2 MB) fits the budget of 2 MB."""
    def refuse(p: Path) -> None:
        raise PermissionError(13, "Permission denied")

    a, b, c = _three_with_the_oldest_removed_by(tmp_path, monkeypatch, refuse)
    with caplog.at_level(logging.INFO, logger="skyfence.airspace.cache_files"):
        assert prune(tmp_path, keep=[], budget_bytes=2 * MB) == [b]
    assert a.exists() and c.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"cache: cannot remove {a} ([Errno 13] Permission denied)",
        f"cache: removed 1 least recently used file(s) from {tmp_path} to stay under 2 MiB"]


def test_a_file_gone_before_it_is_measured_is_not_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """a is listed, then removed by another process before its size is read: it is left
    out of the total (b alone, 1 MB, fits 1 MB), and nothing is removed."""
    a = _file(tmp_path, "zone-index-a.npz", 1, 100.0)
    b = _file(tmp_path, "zone-index-b.npz", 1, 200.0)
    stat = Path.stat

    def vanished(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        if self == a:
            raise FileNotFoundError(2, "No such file or directory")
        return stat(self, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", vanished)
    assert prune(tmp_path, keep=[], budget_bytes=MB) == []
    monkeypatch.undo()
    assert a.exists() and b.exists()


def test_the_default_budget_is_2048_mib_and_a_bad_value_is_quoted(
        caplog: pytest.LogCaptureFixture) -> None:
    assert cache_files._budget_bytes({}) == 2048 * 1024 * 1024
    with caplog.at_level(logging.WARNING, logger="skyfence.airspace.cache_files"):
        assert cache_files._budget_bytes({"SKYFENCE_CACHE_MB": "lots"}) == 2048 * 1024 * 1024
    assert [r.getMessage() for r in caplog.records] == [
        "SKYFENCE_CACHE_MB='lots' is not a size in MiB: using 2048"]


def test_touching_a_file_gone_meanwhile_is_no_error(tmp_path: Path) -> None:
    cache_files.touch(tmp_path / "zone-index-gone.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_cache_file_is_written_through_a_temporary_file_beside_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Into a directory not made yet; while it is written the only file is a temporary
    one in that directory named after the file (`zone-index-x.npz...tmp`), so the rename
    never crosses file systems; then the file alone, holding the arrays."""
    path = tmp_path / "new" / "dir" / "zone-index-x.npz"
    seen: list[list[str]] = []
    savez = np.savez

    def watched(fh: object, **arrays: np.ndarray) -> None:
        seen.append(sorted(p.name for p in path.parent.iterdir()))
        savez(fh, **arrays)  # type: ignore[arg-type]

    monkeypatch.setattr(np, "savez", watched)
    cache_files.write_npz(path, {"a": np.arange(3)})
    ((tmp,),) = seen
    assert tmp.startswith("zone-index-x.npz") and tmp.endswith(".tmp") and tmp != path.name
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    with np.load(path) as z:
        assert z["a"].tolist() == [0, 1, 2]


def test_a_failed_write_leaves_no_temporary_file_and_says_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "depth-field-x.npz"

    def full(fh: object, **arrays: np.ndarray) -> None:
        fh.write(b"\0" * 1000)  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(OSError, match="No space left on device"):
        cache_files.write_npz(path, {"a": np.arange(3)})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_whose_temporary_file_cannot_be_removed_says_why_it_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills during the write and the temporary file then cannot be removed
    either (a directory made read-only meanwhile): the error raised is the write's own,
    which says why nothing was cached, not the removal's; the file is left, named."""
    path = tmp_path / "depth-field-x.npz"

    def full(fh: object, **arrays: np.ndarray) -> None:
        raise OSError(28, "No space left on device")

    def refused(p: object) -> None:
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(np, "savez", full)
    monkeypatch.setattr(os, "unlink", refused)
    with pytest.raises(OSError, match="No space left on device"):
        cache_files.write_npz(path, {"a": np.arange(3)})
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(path.name) and left.name.endswith(".tmp")
