"""The collector during a scan: thresholds raised while any scan runs, put back after.

Checked against ``gc.get_threshold`` itself: scans that overlap (one ends while the other
still runs), a scan that raises, thresholds set higher than the scan's (kept), and
collection switched off by a threshold of 0 (left off).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from skyfence.scanning.long_lived import SCAN_THRESHOLDS, frozen


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_overlapping_scans_put_back_the_thresholds_after_the_last() -> None:
    gc.set_threshold(700, 10, 10)
    a, b = frozen(), frozen()
    a.__enter__()
    b.__enter__()
    assert gc.get_threshold() == SCAN_THRESHOLDS
    a.__exit__(None, None, None)
    assert gc.get_threshold() == SCAN_THRESHOLDS  # b still runs
    b.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_scan_that_raises_puts_them_back() -> None:
    gc.set_threshold(500, 5, 5)
    with pytest.raises(RuntimeError), frozen():
        raise RuntimeError("scan failed")
    assert gc.get_threshold() == (500, 5, 5)
    assert gc.get_freeze_count() == 0


def test_higher_thresholds_and_collection_off_are_kept() -> None:
    gc.set_threshold(50_000, 5, 100)
    with frozen():
        assert gc.get_threshold() == (50_000, SCAN_THRESHOLDS[1], 100)
    gc.set_threshold(0, 10, 10)
    with frozen():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold() == (0, 10, 10)
