"""The examples in the docstrings of the input-reading modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["skyfence.messages", "skyfence.sources.ranges", "skyfence.sources.fields",
           "skyfence.sources.convert", "skyfence.api", "skyfence.identify.icao_blocks"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
