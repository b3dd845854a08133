"""A scan's arrays are reused in the heap once freed (:func:`reuse_freed_memory`), and
given back to the system when a bounded scan asks (:func:`give_back_freed_memory`); the
objects that exist before a scan are frozen from the cyclic collector during it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skyfence.scanning.heap import give_back_freed_memory, resident_bytes, reuse_freed_memory

# frees a 100 MiB block below a small live one, allocates and frees it again, then
# gives back what is free; prints the MiB of anonymous memory held after each step
STEPS = """
import sys
import numpy as np
from skyfence.scanning.heap import give_back_freed_memory, reuse_freed_memory

def anon_mib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

if sys.argv[1] == "reuse":
    assert reuse_freed_memory(2048)
start = anon_mib()
big = np.ones(100 << 20, np.uint8)
live = np.ones(1 << 10, np.uint8)
del big
freed = anon_mib() - start
again = np.ones(100 << 20, np.uint8)
del again
reused = anon_mib() - start
if sys.argv[2:] == ["near"]:  # a budget far above the process, then one below it
    from skyfence.scanning.heap import give_back_near_budget, resident_bytes
    assert not give_back_near_budget(1 << 40)
    assert anon_mib() - start > 90, "given back far below the budget"
    assert resident_bytes() > 90 << 20
    given = give_back_near_budget(1 << 20)
else:
    given = give_back_freed_memory()
print(freed, reused, given, anon_mib() - start)
"""


def steps(mode: str, *more: str) -> tuple[float, float, bool, float]:
    # glibc left to its defaults: Dask's nanny (tests/scanning/test_engines.py) sets
    # MALLOC_TRIM_THRESHOLD_ in the environment of the process that starts a local cluster
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", STEPS, mode, *more], capture_output=True,
                         text=True,
                         check=True, env=env).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True", float(out[3])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux")
def test_freed_arrays_are_kept_reused_and_given_back() -> None:
    freed, reused, given, after = steps("reuse")
    # kept: the freed 100 MiB stay with the process ...
    assert freed > 90
    # ... and the next array of that size is served from them, not from new pages
    assert reused < freed + 10
    # given back on request
    assert given and after < 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux")
def test_left_to_glibc_a_large_array_is_a_mapping_of_its_own() -> None:
    # what the setting changes: glibc maps 100 MiB apart and unmaps it on free
    freed, _, _, _ = steps("glibc")
    assert freed < 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux")
def test_freed_pages_are_given_back_only_near_the_budget() -> None:
    """Far below its budget a scan keeps its free pages for the next batch (asserted in
    the child); near it they go back."""
    _, _, given, after = steps("reuse", "near")
    assert given and after < 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc: Linux")
def test_resident_bytes_is_what_the_kernel_reports() -> None:
    status = Path("/proc/self/status").read_text()
    before = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:"))
    got = resident_bytes()
    assert got is not None and abs(got / 1024 - before) < 16 * 1024  # kB, 16 MiB apart


def test_settings_can_be_asked_again() -> None:
    first = reuse_freed_memory(512)
    assert reuse_freed_memory(512) is first
    assert isinstance(give_back_freed_memory(), bool)


def test_a_scan_runs_with_what_existed_before_it_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from skyfence.airspace.zones import resolve_zones
    from skyfence.scanning import engine

    seen: list[int] = []
    inner = engine._scan_files

    def spy(paths: Any, opts: Any) -> Any:
        seen.append(gc.get_freeze_count())
        return inner(paths, opts)

    monkeypatch.setattr(engine, "_scan_files", spy)
    csv = tmp_path / "one.csv"
    csv.write_text("time,icao24,lat,lon\n0,4b1234,59.0,24.0\n10,4b1234,59.1,24.1\n")
    res = engine.scan_files([csv], engine.ScanOptions(zones=resolve_zones(["EST"])))
    assert res.positions == 2
    assert seen and seen[0] > 1000  # the interpreter's objects, frozen during the scan
    assert gc.get_freeze_count() == 0  # and handed back to the collector after it
