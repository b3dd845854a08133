"""Keep Python's cyclic garbage collector off the objects a scan does not make.

A scan makes a few objects per entry (the entry, its record, the record's dicts and
lists) and, each time those outnumber a quarter of the objects that survived earlier
collections, CPython walks *every* object the process holds: the modules, pandas,
Arrow and shapely, the zones. On the Swiss sample (139,098 rows, 2,730 records) that
was one full collection of about 110,000 objects per scan, 0.08-0.10 s of a 0.6 s scan.
Frozen, the median of eight warm in-process scans fell from 0.539-0.709 s to 0.517-0.543 s
(four processes each, interleaved, 2 Dec).

:func:`frozen` moves what exists when a scan starts into the collector's permanent
generation (``gc.freeze``) and back when it ends (``gc.unfreeze``): during the scan,
collections walk only what the scan made. Nothing is leaked: a frozen object still goes
when its last reference does (reference counting is untouched), and cyclic garbage
made frozen waits only until the scan ends. Scans in several threads at once may end
each other's freeze early, which costs time, never an object.

During a scan the collector also runs less often (:data:`SCAN_THRESHOLDS`): with
CPython's thresholds (700, 10, 10) it ran about a thousand times per 2 M world-like rows,
seven of them over everything the scan holds (0.21 s of CPU in a 2.9 s scan); with these,
about fifty young-object passes and no full one (0.10 s). Frames and batches go by
reference counting, not by the collector (each is freed the moment its last reference
goes), so what waits longer is only cyclic garbage, which scans make little of: the
100 M-row scan's peak stayed what it was (see the closing notes of issue 14).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SCAN_THRESHOLDS", "frozen"]

#: the collector's thresholds while a scan runs (``gc.set_threshold``), each never below
#: what was set before (0, collection off, stays 0)
SCAN_THRESHOLDS = (10_000, 20, 20)

_lock = threading.Lock()
_scans = 0  # scans running now, in any thread
_before: tuple[int, ...] = ()  # thresholds before the first of them


@contextmanager
def frozen() -> Iterator[None]:
    """Objects that exist on entry are left alone by the collector until exit (see the
    module). (``gc.get_freeze_count`` walks every frozen object: not worth asking.)

    >>> import gc
    >>> before = gc.get_threshold()
    >>> with frozen():
    ...     print(gc.get_freeze_count() > 1000, gc.get_threshold() == SCAN_THRESHOLDS)
    True True
    >>> gc.get_freeze_count(), gc.get_threshold() == before
    (0, True)
    """
    global _scans, _before
    with _lock:
        if _scans == 0:
            _before = gc.get_threshold()
            gc.set_threshold(*(0 if b == 0 else max(b, s)
                               for b, s in zip(_before, SCAN_THRESHOLDS, strict=True)))
        _scans += 1
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        with _lock:
            _scans -= 1
            if _scans == 0:
                gc.set_threshold(*_before)
