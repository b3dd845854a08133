"""The nouns of skyfence: observation batches, radar plot batches, entries.

Observations travel between stages as a pandas DataFrame with the columns of
:data:`OBSERVATION_COLUMNS` (SI units, unix seconds). Every source yields such
frames; every later stage reads them through numpy arrays, never row by row.
Radar plots (one row per detection, before tracking) travel the same way with the
columns of :data:`PLOT_COLUMNS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from skyfence.records import ClassificationRecord
from skyfence.vocab import Category, ZoneKind

#: Column name -> dtype of an observation batch. ``altitude`` is metres (geometric
#: when the source has it, barometric otherwise); ``velocity`` m/s; ``heading``
#: degrees; ``vertrate`` m/s; ``time`` unix seconds (UTC).
OBSERVATION_COLUMNS: dict[str, str] = {
    "time": "float64",
    "icao24": "object",
    "lat": "float64",
    "lon": "float64",
    "altitude": "float64",
    "velocity": "float64",
    "heading": "float64",
    "vertrate": "float64",
    "callsign": "object",
    "squawk": "object",
    "onground": "bool",
}

REQUIRED_COLUMNS = ("time", "icao24", "lat", "lon")


#: Column name -> dtype of a plot batch (one row per radar detection).
PLOT_COLUMNS: dict[str, str] = {
    "time": "float64",  # unix seconds UTC
    "sac": "int64",
    "sic": "int64",
    "lat": "float64",
    "lon": "float64",
    "altitude": "float64",  # metres, NaN when the plot carries no height
    "range_m": "float64",  # slant range
    "azimuth_deg": "float64",
    "icao24": "object",  # Mode S address, lower-case hex, or None
    "squawk": "object",  # Mode 3/A code, 4 octal digits, or None
    "callsign": "object",
    "sigma_range_m": "float64",  # measurement noise (1 sigma)
    "sigma_azimuth_deg": "float64",
    "record": "int64",  # record number in the source, for tracing back
}


def empty_observations() -> pd.DataFrame:
    """An observation batch with no rows and every column typed."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in OBSERVATION_COLUMNS.items()})


def empty_plots() -> pd.DataFrame:
    """A plot batch with no rows and every column typed."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in PLOT_COLUMNS.items()})


def make_observations(**columns: Any) -> pd.DataFrame:
    """Build an observation batch from column arrays; missing optional columns are filled.

    ``time``, ``icao24``, ``lat`` and ``lon`` are required; other columns default to
    NaN (numbers), None (strings) or False (``onground``).

    Examples
    --------
    >>> obs = make_observations(time=[0.0, 1.0], icao24=["abc123"] * 2,
    ...                         lat=[59.0, 59.1], lon=[26.0, 26.1])
    >>> list(obs.columns)[:4]
    ['time', 'icao24', 'lat', 'lon']
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"observations need columns {missing}")
    n = len(np.asarray(columns["time"]))
    data: dict[str, Any] = {}
    for name, dtype in OBSERVATION_COLUMNS.items():
        if name in columns and columns[name] is not None:
            data[name] = pd.Series(_own_array(columns[name], dtype), dtype=dtype, copy=False)
        elif dtype == "float64":
            data[name] = pd.Series(np.full(n, np.nan), copy=False)
        elif dtype == "bool":
            data[name] = pd.Series(np.zeros(n, dtype=bool), copy=False)
        else:
            data[name] = pd.Series(np.full(n, None, dtype=object), dtype=object, copy=False)
    # one block per column: stacking the columns into 2-D blocks (pandas' default) costs
    # more than reading and checking them (0.3 s a million rows, mostly the string
    # columns); every reader of a batch takes it column by column
    return pd.DataFrame(data, copy=False)


def _own_array(value: Any, dtype: str) -> np.ndarray:
    """``value`` as an array of ``dtype`` that the batch may hold: a view into a larger
    array (a column of the raw table, a slice) is copied, an array that owns its data
    is taken as it is (the callers build their columns for the batch).

    >>> raw = np.arange(6.0)
    >>> _own_array(raw[:3], "float64").base is None
    True
    """
    arr = np.asarray(value, dtype=dtype)
    return arr if arr.flags.owndata else arr.copy()


@dataclass(frozen=True)
class Classification:
    """What an entering track probably is; the contract's ``classification`` object."""

    cooperative: bool
    category: Category = "unknown"
    registration_state: str | None = None
    military: bool | None = None
    confidence: float | None = None

    def to_record(self) -> ClassificationRecord:
        """The contract fields (``confidence`` is added only when known)."""
        out: ClassificationRecord = {
            "cooperative": self.cooperative,
            "category": self.category,
            "registration_state": self.registration_state,
            "military": self.military,
        }
        if self.confidence is not None:
            out["confidence"] = round(float(self.confidence), 3)
        return out


@dataclass
class Entry:
    """One passage of one track through one zone, as the contract defines it.

    Times are unix seconds; positions are (lat, lon) degrees.
    """

    zone: str
    zone_kind: ZoneKind
    track: str
    entered_at: float
    entry_interpolated: bool
    exited_at: float | None
    last_inside_at: float
    max_depth_m: float
    entry_point: tuple[float, float] | None
    exit_point: tuple[float, float] | None
    min_altitude_m: float | None
    max_altitude_m: float | None
    observations: int
    callsign: str | None = None
    squawks: tuple[str, ...] = ()
    #: fastest ground speed seen inside, m/s (for classification)
    max_speed_ms: float | None = None
    #: smallest horizontal position sigma of the inside fixes, m, when the fixes carry
    #: one (radar tracks): how far in a fix must be to tell inside from outside
    position_sigma_m: float | None = None
    #: (time, lat, lon) of the inside fixes and crossings, kept only for geometry output
    path: list[tuple[float, float, float]] = field(default_factory=list)
    #: why the track's data are doubtful (implausible fixes left out, a second position
    #: stream, radar contradicting it); empty when nothing was found
    integrity: tuple[str, ...] = ()
    #: (lat, lon) of the first and the last inside fix: where the track was first and
    #: last seen inside (a track lost inside ends at ``last_inside_point``; the incident
    #: layer links a track that continues it from there, see
    #: :mod:`skyfence.incidents.grouping`)
    first_inside_point: tuple[float, float] | None = None
    last_inside_point: tuple[float, float] | None = None
    #: count, sum (m/s) and sum of squares (m^2/s^2) of the inside fixes' ground speeds,
    #: for a speed that one noisy fix cannot make (:attr:`high_speed_ms`)
    speed_count: int = 0
    speed_sum_ms: float = 0.0
    speed_sq_sum: float = 0.0
    #: hardest sustained turn seen inside, as lateral acceleration (m/s^2, see
    #: :mod:`skyfence.identify.turns`); None when no turn could be measured
    max_turn_accel_ms2: float | None = None
    #: first fix (bucket, time, speed, heading) of the latest turn-measurement bucket,
    #: to continue :attr:`max_turn_accel_ms2` with the next fixes
    turn_anchor: tuple[float, float, float, float] | None = None

    @property
    def duration_s(self) -> float:
        """Exit (or last inside fix) minus entry, seconds."""
        end = self.exited_at if self.exited_at is not None else self.last_inside_at
        return max(0.0, end - self.entered_at)

    @property
    def high_speed_ms(self) -> float | None:
        """A high ground speed of the inside fixes for classification: mean plus 1.28
        standard deviations (the 90th percentile of a normal spread), never above
        :attr:`max_speed_ms`.

        The maximum alone is an outlier: a radar track's speed is a filter estimate
        with several m/s of noise, and over the thousand fixes of a long drone flight
        its highest value lies far above what the drone flew (a 40 m/s drone showed
        up to 90 m/s). With fewer than two speeds, the maximum.

        >>> e = Entry("Z", "custom", "t", 0.0, True, None, 0.0, 0.0, None, None, None,
        ...           None, 0, max_speed_ms=50.0, speed_count=4, speed_sum_ms=160.0,
        ...           speed_sq_sum=6416.0)
        >>> round(e.high_speed_ms, 2)  # speeds 38, 38, 42, 42: mean 40, sample sd 2.31
        42.96
        """
        n = self.speed_count
        if n < 2 or self.max_speed_ms is None:
            return self.max_speed_ms
        mean = self.speed_sum_ms / n
        var = max(0.0, (self.speed_sq_sum - n * mean * mean) / (n - 1))
        return min(self.max_speed_ms, mean + 1.2816 * math.sqrt(var))

    @property
    def is_open(self) -> bool:
        """True when the track was still inside at the end of its data."""
        return self.exited_at is None
