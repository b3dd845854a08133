"""The screening stage's interface, and the exact reference screen.

A screen tells, for each position, which zone contains it (per layer of non-overlapping
zones) and which index cell it lies in. The fast implementation is
:class:`skyfence.airspace.index.ZoneIndex`; :class:`ExactScreen` asks GEOS for every
position and zone and serves as the reference and for a handful of small zones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from skyfence.airspace.prepared import contains_xy
from skyfence.airspace.zones import Zone


@dataclass(frozen=True)
class CellScreening:
    """What a screen says about positions (same fields as the index's ``Screening``)."""

    zone: np.ndarray  # (n, n_layers) int32 zone index per layer, -1 for none
    cell: np.ndarray  # (n,) int64 cell key
    boundary: np.ndarray  # (n,) bool: the cell is crossed by a zone boundary


class ScreeningLike(Protocol):
    """The fields the detector reads from a screening."""

    @property
    def zone(self) -> np.ndarray: ...
    @property
    def cell(self) -> np.ndarray: ...
    @property
    def boundary(self) -> np.ndarray: ...


class Screen(Protocol):
    """Anything that can screen positions against the zones it was built for."""

    def screen(self, lon: np.ndarray, lat: np.ndarray) -> ScreeningLike: ...


class ExactScreen:
    """Every zone its own layer, every position its own boundary cell: exact and slow."""

    def __init__(self, zones: Sequence[Zone]) -> None:
        self.zones = list(zones)

    def screen(self, lon: np.ndarray, lat: np.ndarray) -> CellScreening:
        n = len(lon)
        out = np.full((n, len(self.zones)), -1, np.int32)
        for zi, z in enumerate(self.zones):
            x0, y0, x1, y1 = z.geometry.bounds
            box = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
            if box.any():
                hit = np.zeros(n, bool)
                hit[box] = contains_xy(z.geometry, lon[box], lat[box])
                out[hit, zi] = zi
        return CellScreening(out, np.arange(n, dtype=np.int64), np.ones(n, bool))


def default_screen(zones: Sequence[Zone]) -> Screen:
    """The lookup index when available, else the exact screen."""
    try:
        from skyfence.airspace.index import ZoneIndex
    except ImportError:  # pragma: no cover - the index ships with the package
        return ExactScreen(zones)  # type: ignore[unused-ignore]
    return ZoneIndex(zones)
