"""``asterix-decoder`` run in a child process, so that malformed data cannot kill us.

The decoder's C++ core dies with a segmentation fault on some malformed data blocks
(found by fuzzing: CAT004, CAT011 and CAT062 blocks with a consistent CAT/LEN header
and garbled items), and a signal cannot be caught in the process it hits. Radar data
arrive from the network, so blocks are decoded in a worker process (a
``forkserver`` child: forked from a clean single-threaded server, not from a process
that runs feed threads): a batch of blocks goes over in one round trip; when the worker
dies, the batch is cut in halves and each half retried in a new worker, down to the
blocks that kill it, which come back as :data:`CRASHED` (the reader reports each as a
bad data block, naming it) while every other block is decoded. A batch that takes
longer than ``timeout_s`` is treated the same way (a hang is a crash too).

Clean data cost one round trip per batch (blocks are pickled there and records
back); a crashing block costs about ``log2(batch)`` worker restarts.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.util
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

__all__ = ["CRASHED", "parse_blocks"]

log = logging.getLogger(__name__)

#: a block the decoder crashed (or hung) on
CRASHED = "decoder crashed"

#: the longest one batch may take (s)
TIMEOUT_S = 60.0

_pool: ProcessPoolExecutor | None = None
#: how the worker starts: from a fork server that imported the decoder once, or, in a
#: process forked from one that had started that server (which is not its child and
#: cannot serve it), as a fresh interpreter
_start_method = "forkserver"


def _decode(blocks: Sequence[bytes]) -> list[list[dict[str, Any]] | str]:
    """In the worker: records of each block, or the decoder's error message."""
    import asterix  # asterix-decoder

    out: list[list[dict[str, Any]] | str] = []
    for b in blocks:
        try:
            out.append(asterix.parse(b, verbose=False))
        except Exception as exc:  # the C++ core reports most bad data by exception
            out.append(str(exc) or type(exc).__name__)
    return out


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        ctx = multiprocessing.get_context(_start_method)
        if _start_method == "forkserver":
            # the server imports the decoder once; each (re)started worker forks from it
            ctx.set_forkserver_preload(["asterix", __name__])
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        # a multiprocessing child (``skyfence eval all`` runs scenarios in a pool) joins
        # its own children when it ends, before the interpreter's exit hooks that would
        # stop this pool: without this, that join waits for the idle worker forever
        # (a graceful shutdown there hung too: the idle worker is killed)
        multiprocessing.util.Finalize(None, _reset, exitpriority=10)
    return _pool


@contextlib.contextmanager
def _main_without_phantom_file() -> Iterator[None]:
    """Hide ``__main__.__file__`` while workers start when it names no file (a script
    read from standard input has ``<stdin>``): a worker would try to run it and die
    before decoding anything, which would read as the decoder crashing on every block.
    The worker never needs the main script."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not isinstance(path, str) or os.path.isfile(path):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _reset() -> None:
    """Kill the worker (hung, dead or idle) and forget the pool; the next batch starts
    a new one."""
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for p in procs:
            p.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def _forget_in_child() -> None:
    """In a process just forked from one that decoded: drop the parent's pool. Its
    worker is the parent's child and its threads were not copied, so a batch given to
    it would wait for :data:`TIMEOUT_S` and read as a crash; the child starts its own
    on its first batch, by spawning (the parent's fork server is not the child's
    either). Nothing is killed: the worker still serves the parent."""
    global _pool, _start_method
    if _pool is not None:
        _pool, _start_method = None, "spawn"


os.register_at_fork(after_in_child=_forget_in_child)


def parse_blocks(blocks: Sequence[bytes], timeout_s: float = TIMEOUT_S
                 ) -> list[list[dict[str, Any]] | str]:
    """Decode data blocks: per block its records, the decoder's error message (a
    string), or :data:`CRASHED` when the decoder dies on it (see the module)."""
    if not blocks:
        return []
    try:
        with _main_without_phantom_file():  # the worker starts on the first submit
            future = _executor().submit(_decode, list(blocks))
        return future.result(timeout=timeout_s)
    except (BrokenProcessPool, FutureTimeout):
        _reset()
        if len(blocks) == 1:
            log.warning("the ASTERIX decoder crashed on a data block; it is skipped")
            return [CRASHED]
        mid = len(blocks) // 2
        return parse_blocks(blocks[:mid], timeout_s) + parse_blocks(blocks[mid:], timeout_s)
