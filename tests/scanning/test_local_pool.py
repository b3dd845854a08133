"""Scans on several threads give the records of the same scan on one thread.

Entries depend on one track's fixes only; split by track over threads (in memory, or
bucket groups side by side in a partitioned scan), the records must be the same text,
in the same order. A spy checks that the threads really ran.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from skyfence.airspace.zones import resolve_zones
from skyfence.benchmarks.baltic import write_per_aircraft_parquet
from skyfence.scanning import engine
from skyfence.scanning.engine import ScanOptions, scan_files
from skyfence.scanning.local_pool import run_overlapped, track_parts

ZONES = ["EST", "LVA", "LTU", "POL"]


@pytest.fixture(scope="module")
def baltic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pool") / "baltic.parquet"
    write_per_aircraft_parquet(path, 240, fixes=200, aircraft_per_block=60)
    return path


def _scan(path: Path, workers: int, **kw: object) -> tuple[list[str], str, set[str]]:
    names: set[str] = set()
    real = engine._screen_frame

    def spy(frame: pd.DataFrame, opts: ScanOptions, rows: object = None) -> object:
        names.add(threading.current_thread().name)
        return real(frame, opts, rows)  # type: ignore[arg-type]

    engine._screen_frame = spy  # type: ignore[assignment]
    try:
        res = scan_files([path], ScanOptions(zones=resolve_zones(ZONES), workers=workers,
                                             **kw))  # type: ignore[arg-type]
    finally:
        engine._screen_frame = real  # type: ignore[assignment]
    return [json.dumps(r) for r in res.records], res.mode, names


def test_in_memory_scan_on_threads_equals_one_thread(baltic: Path) -> None:
    one, mode, names = _scan(baltic, 1)
    assert mode == "memory" and names == {threading.current_thread().name}
    assert len(one) > 50
    for workers in (2, 3):
        many, _, names = _scan(baltic, workers)
        assert many == one
        assert len(names) == workers and all(n.startswith("skyfence-scan") for n in names)


@pytest.mark.parametrize("order", ["by-track", "partitioned"])
def test_scan_beyond_memory_on_threads_equals_one_thread(
        baltic: Path, tmp_path: Path, order: str) -> None:
    """The file as written (aircraft after aircraft: screened as read) and shuffled
    (partitioned on disk first)."""
    ref, _, _ = _scan(baltic, 1)
    path = baltic
    if order == "partitioned":
        path = tmp_path / "shuffled.parquet"
        pd.read_parquet(baltic).sample(frac=1, random_state=3).to_parquet(path, index=False)
    one, mode, _ = _scan(path, 1, memory_rows=12_000, chunk_rows=5_000)
    assert mode == order and one == ref
    many, _, names = _scan(path, 2, memory_rows=12_000, chunk_rows=5_000)
    assert many == ref
    assert any(n.startswith("skyfence-scan") for n in names)


def test_split_keeps_every_fix_of_a_track_together() -> None:
    df = pd.DataFrame({"icao24": ["a", "b", "a", "c", "b", "a"], "time": range(6)})
    parts = [f for f in track_parts(df, 2) if len(f)]
    assert sum(len(p) for p in parts) == len(df)
    owners = [set(p["icao24"]) for p in parts]
    assert all(not (owners[i] & owners[j]) for i in range(len(owners))
               for j in range(i + 1, len(owners)))
    for p in parts:  # input order kept within a part, numbered afresh
        assert p["time"].is_monotonic_increasing
        pd.testing.assert_index_equal(p.index, pd.RangeIndex(len(p)))


def test_overlapped_groups_give_each_result_in_order_with_two_groups_alive() -> None:
    """Results come back group by group in input order whatever order the threads end
    in; while a group is being made, every group before the last one handed out is
    finished (so no more than two are alive); a failure in a thread reaches the caller."""
    import random
    import time

    finished: set[tuple[int, int]] = set()
    rng = random.Random(5)

    def work(item: tuple[int, int]) -> tuple[int, int]:
        time.sleep(rng.random() / 500)
        finished.add(item)
        return item

    def group(g: int) -> list[tuple[int, int]]:
        return [(g, i) for i in range(3 if g % 4 else 1)]

    def groups():  # type: ignore[no-untyped-def]
        for g in range(12):
            # group g - 2 was collected before group g - 1 went to the threads
            assert g < 2 or set(group(g - 2)) <= finished
            yield group(g)

    out = list(run_overlapped(work, groups(), 2))
    assert out == [group(g) for g in range(12)]

    def fails(item: int) -> int:
        if item == 4:
            raise ValueError("bad item 4")
        return item

    with pytest.raises(ValueError, match="bad item 4"):
        list(run_overlapped(fails, iter([[1, 2], [3, 4], [5]]), 2))


def test_overlapped_groups_pass_on_a_failure_while_making_a_group() -> None:
    """A reader failing while the threads screen the group before: the failure reaches
    the caller once the group in the threads has finished (no thread left working)."""
    import time

    done: list[int] = []

    def work(item: int) -> int:
        time.sleep(0.05)
        done.append(item)
        return item

    def groups():  # type: ignore[no-untyped-def]
        yield [1, 2]
        raise OSError("chunk 2 unreadable")

    with pytest.raises(OSError, match="chunk 2 unreadable"):
        for _ in run_overlapped(work, groups(), 2):
            pass
    assert sorted(done) == [1, 2]
