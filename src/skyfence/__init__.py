"""skyfence: detect, track and document airspace incursions.

The notebook entry point is :func:`skyfence.scan`, which takes a file or a pandas
DataFrame of positions and returns one row per entry into the watched zones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    import pandas as pd


def scan(source: Any, zones: Any = None, **options: Any) -> pd.DataFrame:
    """Scan recorded positions for entries into zones; see :func:`skyfence.api.scan`."""
    from skyfence.api import scan as _scan

    return _scan(source, zones=zones, **options)


__all__ = ["__version__", "scan"]
