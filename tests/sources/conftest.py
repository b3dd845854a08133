"""Fixtures for the source tests: loopback TCP servers and a real dump1090."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator

import pytest
from feed_helpers import LoopbackServer

from loopback import DUMP1090, Dump1090


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture
def dump1090() -> Iterator[Dump1090]:
    """A real dump1090-mutability in --net-only mode on free loopback ports.

    Skipped only when the binary is absent (``scripts/install-system-deps.sh``
    installs it; CI runs it).
    """
    if shutil.which(DUMP1090) is None:
        pytest.skip(f"{DUMP1090} is not installed (run scripts/install-system-deps.sh)")
    receiver = Dump1090().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="session", autouse=True)
def _stop_the_asterix_decoder() -> Iterator[None]:
    """End the ASTERIX decoder's worker process when the session ends.

    A test process that ends with ``os._exit`` (mutmut forks one per mutant) runs no
    exit hook, and the decoder's worker and fork server it started outlive it: two idle
    processes left behind per mutant. Killing the worker first lets both end."""
    yield
    isolate = sys.modules.get("skyfence.sources.asterix.isolate")
    if isolate is not None:
        isolate._reset()
