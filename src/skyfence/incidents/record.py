"""The incident record of the contract: one JSON-ready dict per entry.

Field order, rounding and the id are fixed so that the same input always gives the
same bytes (outside tools diff our output).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import overload

import numpy as np

from skyfence.model import Classification, Entry
from skyfence.policy import Verdict
from skyfence.records import ENTRY_RECORD_FIELDS, EntryRecord, PointRecord

RECORD_FIELDS = ENTRY_RECORD_FIELDS


@overload
def iso_time(t: float) -> str: ...
@overload
def iso_time(t: None) -> None: ...
@overload
def iso_time(t: float | None) -> str | None: ...
def iso_time(t: float | None) -> str | None:
    """Unix seconds -> ISO 8601 UTC with milliseconds, e.g. ``2025-09-19T09:58:12.400Z``.

    Every record has four times: the date comes from a small cache, the clock from
    integer arithmetic (a POSIX day has 86,400 seconds).

    >>> iso_time(1758275892.4), iso_time(-0.0005)
    ('2025-09-19T09:58:12.400Z', '1970-01-01T00:00:00.000Z')
    """
    if t is None:
        return None
    s, ms = divmod(round(t * 1000), 1000)
    day, clock = divmod(s, 86400)
    h, rest = divmod(clock, 3600)
    m, sec = divmod(rest, 60)
    return f"{_utc_date(day)}T{h:02d}:{m:02d}:{sec:02d}.{ms:03d}Z"


#: the times :func:`iso_times` converts with numpy (1970 to 2100, as the readers accept);
#: any other value goes through :func:`iso_time` itself
_VECTOR_RANGE_S = (0.0, 4_102_444_800.0)


def iso_times(values: Sequence[float | None]) -> list[str | None]:
    """``[iso_time(t) for t in values]``, the clock of every time in one numpy pass.

    The milliseconds are rounded as :func:`iso_time` rounds them (half to even, on the
    same product ``t * 1000``); numpy's calendar gives the date and the clock.

    >>> iso_times([1758275892.4, None, 0.0])
    ['2025-09-19T09:58:12.400Z', None, '1970-01-01T00:00:00.000Z']
    """
    t = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    lo, hi = _VECTOR_RANGE_S
    with np.errstate(invalid="ignore"):
        plain = (t >= lo) & (t <= hi)
    ms = np.rint(np.where(plain, t, 0.0) * 1000.0).astype(np.int64)
    text = np.char.add(np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms"), "Z")
    out: list[str | None] = text.tolist()
    for i in np.flatnonzero(~plain).tolist():
        out[i] = iso_time(values[i])
    return out


@lru_cache(maxsize=4096)
def _utc_date(day: int) -> str:
    """``YYYY-MM-DD`` of the UTC day ``day`` days after 1 January 1970."""
    return datetime.fromtimestamp(day * 86400, tz=UTC).strftime("%Y-%m-%d")


def entry_id(zone: str, track: str, entered_at: float) -> str:
    """Stable id: the same zone, track and entry time give the same id."""
    key = f"{zone}|{track}|{round(entered_at * 1000)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _point(p: tuple[float, float] | None) -> PointRecord | None:
    return None if p is None else {"lat": round(p[0], 6), "lon": round(p[1], 6)}


def _opt(v: float | None, nd: int) -> float | None:
    return None if v is None else round(v, nd)


def to_record(
    entry: Entry, cls_: Classification, verdict: Verdict, *,
    icao24: str | None = None, went_dark_at: float | None = None,
    times: tuple[str, str | None, str] | None = None,
) -> EntryRecord:
    """The contract's incident record for one entry.

    ``icao24`` overrides the address derived from a cooperative track id (fusion knows
    the address of a radar track that went dark); ``went_dark_at`` is when its
    transponder fell silent. ``times``: the entry's entered, exited and last inside
    times already written by :func:`iso_times` (a caller making many records).
    """
    if icao24 is None and cls_.cooperative:
        icao24 = entry.track.strip().lower()
    entered, exited, last = times if times is not None else (
        iso_time(entry.entered_at), iso_time(entry.exited_at), iso_time(entry.last_inside_at))
    return {
        "id": entry_id(entry.zone, entry.track, entry.entered_at),
        "zone": entry.zone,
        "zone_kind": entry.zone_kind,
        "track": entry.track,
        "icao24": icao24,
        "callsign": entry.callsign,
        "entered_at": entered,
        "entry_interpolated": entry.entry_interpolated,
        "exited_at": exited,
        "last_inside_at": last,
        "duration_s": round(entry.duration_s, 3),
        "max_depth_m": round(entry.max_depth_m, 1),
        "entry_point": _point(entry.entry_point),
        "exit_point": _point(entry.exit_point),
        "min_altitude_m": _opt(entry.min_altitude_m, 1),
        "max_altitude_m": _opt(entry.max_altitude_m, 1),
        "observations": entry.observations,
        "classification": cls_.to_record(),
        "violation": verdict.violation,
        "severity": verdict.severity,
        "reasons": list(verdict.reasons),
        "protocol": [step.to_record() for step in verdict.protocol],
        "went_dark_at": iso_time(went_dark_at),
        "integrity": list(entry.integrity),
        "first_inside_point": _point(entry.first_inside_point),
        "last_inside_point": _point(entry.last_inside_point),
    }
