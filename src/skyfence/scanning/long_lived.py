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
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen"]


@contextmanager
def frozen() -> Iterator[None]:
    """Objects that exist on entry are left alone by the collector until exit (see the
    module). (``gc.get_freeze_count`` walks every frozen object: not worth asking.)

    >>> import gc
    >>> with frozen():
    ...     print(gc.get_freeze_count() > 1000)
    True
    >>> gc.get_freeze_count()
    0
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
