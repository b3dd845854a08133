"""Zones shared by threads: point-in-zone tests from four threads at once must neither
crash nor differ from the same tests run one after another.

GEOS prepared polygons corrupt the heap when two threads query one at the same time
(``skyfence.airspace.prepared``); without its lock the child below aborts within a second
(SIGABRT "malloc(): unaligned tcache chunk detected" or SIGSEGV). The child is a separate
process so that such a crash fails this test instead of killing the test run.
"""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
import threading
import numpy as np
from skyfence.airspace.zones import resolve_zones

zones = resolve_zones(["EST", "LVA", "LTU", "POL"])

def batches(seed):
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n = int(rng.integers(1, 3000))
        yield rng.uniform(14, 29, n), rng.uniform(49, 60, n)

def answers(seed):
    return [[z.contains(lon, lat, np.full(len(lon), np.nan)) for z in zones]
            for lon, lat in batches(seed)]

got = {}
start = threading.Barrier(4)
def work(k):
    start.wait()  # all four query the fresh zones at the same moment
    got[k] = answers(k)
threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in threads:  # the threads are the first to query the zones
    t.start()
for t in threads:
    t.join()
same, inside = len(got) == 4, 0
for k in range(4):
    expected = answers(k)  # one thread
    inside += sum(int(a.sum()) for r in expected for a in r)
    same &= all(np.array_equal(a, b) for ra, rb in zip(expected, got[k]) for a, b in zip(ra, rb))
print("same" if same else "differ", inside)
"""


def test_zones_answer_from_four_threads_at_once_as_from_one() -> None:
    # the race does not show every time (without the lock 2 children in 3 die): three
    # children leave a lockless build about one chance in 27 to pass
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"child died ({done.returncode}): {done.stderr[-500:]}"
        verdict, inside = done.stdout.split()
        assert verdict == "same"
        assert int(inside) > 1000  # the batches do reach into the zones
