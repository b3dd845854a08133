"""What every test gets: its own data home, and a logger no earlier command has set up."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator

import pytest

#: the default incident store, keys and station log live under ``$XDG_DATA_HOME/skyfence``;
#: the suite (and every command it starts) uses a fresh one, never the user's
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="skyfence-test-data-")


@pytest.fixture(autouse=True)
def _fresh_skyfence_logger() -> Iterator[None]:
    """``skyfence watch`` adds a stderr handler to the ``skyfence`` logger, as a process
    would once; in one test process it would otherwise print into later commands."""
    logger = logging.getLogger("skyfence")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
