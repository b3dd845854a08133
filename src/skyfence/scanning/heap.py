"""Give freed memory back to the system while a scan is bounded by its budget.

glibc's ``malloc`` serves an allocation larger than its *mmap threshold* (128 KiB at
start) with its own mapping, returned to the system on ``free``; but each time such a
block is freed the threshold rises to the block's size (up to 32 MiB), and from then on
blocks of that size come from the heap, whose freed pages stay with the process until
the top of the heap is free beyond the *trim threshold* (twice the mmap threshold). A
scan allocates and frees column arrays of a few MiB all the time, so the process keeps
what it no longer uses, more or less depending on the order threads freed their
blocks. Fixing both thresholds stops the drift: the 600,000-row Baltic scan under a
520 MiB budget peaked at 498-507 MiB (median 499) left to glibc and at 469-477 MiB (median
471) with the thresholds fixed, five runs each, for 0.19 s more system time (0.67 s
against 0.48 s; user time 4.0 s either way) (``python scripts/measure_heap_release.py``,
machine loaded by other jobs; the drift reached 556 MiB on the CI machine). On 100 M rows
under 2 GiB the peak fell from 2,033 to 1,634 MiB (thresholds 128 KiB and 1 MiB). System
time is not free (see :data:`MMAP_THRESHOLD_BYTES`), which is why only a scan the budget
binds (streaming or partitioned) asks for it.

The setting is process-wide and stays for the life of the process; elsewhere than glibc
(musl, macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import sys

#: ``mallopt`` parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: blocks from this size up get their own mapping, returned on free. Lower costs system
#: time (each mapping is zeroed anew): on 2.5 M Baltic rows under 520 MiB, 128 KiB
#: (glibc's starting value) took 2.7 s of system time, 1 MiB 1.8 s, 4 MiB 0.9 s, left to
#: glibc 0.7 s; peaks 489, 487, 514-518 and 529-541 MiB (one run each, loaded machine)
MMAP_THRESHOLD_BYTES = 1 << 20
#: the heap's top is given back once this much of it is free
TRIM_THRESHOLD_BYTES = 2 << 20

_done: bool | None = None


def release_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds for the rest of the process (see the
    module); True when they are set, False when the C library is not glibc."""
    global _done
    if _done is None:
        _done = _set_thresholds()
    return _done


def _set_thresholds() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)  # the C library this process already runs on
        libc.gnu_get_libc_version  # noqa: B018 - glibc only: musl's mallopt does nothing
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    libc.malloc_trim(0)  # and give back what was freed before (loading the zones)
    return done
