"""How glibc's ``malloc`` treats the column arrays a scan makes and drops.

glibc serves an allocation larger than its *mmap threshold* (128 KiB at start) with a
mapping of its own: the kernel zeroes its pages on first touch and takes them back on
``free``. Each time such a block is freed the threshold rises to the block's size (up
to 32 MiB), and from then on blocks of that size come from the heap, whose freed pages
stay with the process until the top of the heap is free beyond the *trim threshold*.
Left alone, a scan pays both ways: arrays of 2 M rows (16 MiB a column) are mapped and
zeroed anew for every temporary, and what the heap keeps drifts with the order threads
freed their blocks (a 100 M-row scan under ``--memory 2G`` peaked at 2,033 MiB, over
its budget, on 30 Nov).

A scan therefore fixes both thresholds high (:func:`reuse_freed_memory`): arrays come
from the heap and what one step frees, the next reuses in place. A scan its budget
binds (streaming, by track, partitioned) gives every free page back after a batch it
screens when the process holds more than :data:`GIVE_BACK_ABOVE` of its budget
(:func:`give_back_near_budget`), so near the budget the heap holds one batch's working
set at most, never a drift; further below it the pages stay for the next batch, which
would otherwise fault every one of them in again (the 100 M-row Baltic file under
``--memory 2G``, whose resident set stays near 1 GiB: 51.1 s wall, 10.9 s of it system
time and 3.0 M page faults when every batch gave its pages back; 46.8 s, 4.3 s and
0.4 M keeping them; the same peak, 1,014 and 1,026 MiB).

Measured before that, when every batch gave its pages back, on the 10 M-row Baltic file
(by track, default budget, ``skyfence scan ... --all-entries --format jsonl``, a new
process each, two runs each, the same records): 15.8-18.9 s wall with 7.6-8.9 s of
system time when every array over 1 MiB had its own mapping (the setting before),
11.2-13.5 s with 3.1-3.3 s reusing, peak resident memory 911 MB against 970-976 MB.
Warm, in one process (best and median of six in-memory scans of 2 M rows): 1.37-1.50 /
1.46-1.62 s against 1.58-1.81 / 2.03-2.24 s left to glibc.

The setting is process-wide and stays until the next scan sets its own; elsewhere than
glibc (musl, macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import cache
from typing import Any

#: ``mallopt`` parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: blocks up to this size come from the heap (and are reused there once freed)
REUSE_MMAP_THRESHOLD_BYTES = 512 << 20
#: part of a scan's budget above which its freed pages go back to the system
GIVE_BACK_ABOVE = 0.75


def reuse_freed_memory(budget_mb: int) -> bool:
    """Let glibc keep what the process frees, up to ``budget_mb``, and serve the next
    arrays from it (see the module); True when set, False when the C library is not
    glibc."""
    libc = _glibc()
    if libc is False:
        return False
    budget = max(int(budget_mb), 1) << 20
    return bool(libc.mallopt(M_MMAP_THRESHOLD, min(REUSE_MMAP_THRESHOLD_BYTES, budget))
                and libc.mallopt(M_TRIM_THRESHOLD, budget))


def give_back_freed_memory() -> bool:
    """Give every free page of glibc's heaps back to the system (``malloc_trim(0)``);
    True when some was, False when none was or the C library is not glibc."""
    libc = _glibc()
    return libc is not False and bool(libc.malloc_trim(0))


def give_back_near_budget(budget_bytes: int) -> bool:
    """:func:`give_back_freed_memory` when this process's resident set is above
    :data:`GIVE_BACK_ABOVE` of ``budget_bytes`` (or cannot be read); whether it was."""
    resident = resident_bytes()
    if resident is not None and resident <= GIVE_BACK_ABOVE * budget_bytes:
        return False
    return give_back_freed_memory()


def resident_bytes() -> int | None:
    """This process's resident set size in bytes (``/proc/self/statm``), None where
    there is no such file.

    >>> (resident_bytes() or 1) > 0
    True
    """
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


@cache
def _glibc() -> Any:
    """The C library this process runs on if it is glibc, else False."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only: musl's mallopt does nothing
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):
        return False
    return libc
