"""Fixtures every test gets: a command's logging set-up does not leak into the next test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _fresh_skyfence_logger() -> Iterator[None]:
    """``skyfence watch`` adds a stderr handler to the ``skyfence`` logger, as a process
    would once; in one test process it would otherwise print into later commands."""
    logger = logging.getLogger("skyfence")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
