"""The incident record of the contract: one JSON-ready dict per entry.

Field order, rounding and the id are fixed so that the same input always gives the
same bytes (outside tools diff our output).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import cast, overload

import numpy as np

from skyfence.incidents.rounding import round_floats
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


def to_record(
    entry: Entry, cls_: Classification, verdict: Verdict, *,
    icao24: str | None = None, went_dark_at: float | None = None,
    times: tuple[str, str | None, str] | None = None,
) -> EntryRecord:
    """The contract's incident record for one entry.

    ``icao24`` overrides the address derived from a cooperative track id (fusion knows
    the address of a radar track that went dark); ``went_dark_at`` is when its
    transponder fell silent. ``times``: the entry's entered, exited and last inside
    times already written by :func:`iso_times`.
    """
    return to_records([entry], [cls_], [verdict], icao24s=[icao24],
                      went_dark_ats=[went_dark_at], times=None if times is None else [times])[0]


def to_records(
    entries: Sequence[Entry], classes: Sequence[Classification], verdicts: Sequence[Verdict],
    *, icao24s: Sequence[str | None], went_dark_ats: Sequence[float | None],
    times: Sequence[tuple[str, str | None, str]] | None = None,
) -> list[EntryRecord]:
    """:func:`to_record` of each entry with its classification, verdict, ``icao24``
    and ``went_dark_at``; the numbers of all of them rounded at once
    (:func:`~skyfence.incidents.rounding.round_floats`, Python's ``round`` bit for bit).
    ``times``: each entry's three times already written, or None to write them here."""
    n = len(entries)
    if times is None:
        stamps = iso_times([e.entered_at for e in entries] + [e.exited_at for e in entries]
                           + [e.last_inside_at for e in entries])
        times = [(cast(str, stamps[i]), stamps[n + i], cast(str, stamps[2 * n + i]))
                 for i in range(n)]
    points = [p for e in entries for p in (e.entry_point, e.exit_point,
                                            e.first_inside_point, e.last_inside_point)]
    deg = iter(round_floats([v for p in points if p is not None for v in p], 6))
    at: list[PointRecord | None] = [
        None if p is None else {"lat": cast(float, next(deg)), "lon": cast(float, next(deg))}
        for p in points]
    tenths = round_floats([v for e in entries for v in (e.max_depth_m, e.min_altitude_m,
                                                        e.max_altitude_m)], 1)
    seconds = round_floats([e.duration_s for e in entries], 3)
    out: list[EntryRecord] = []
    for i, e in enumerate(entries):
        cls_, verdict, icao24 = classes[i], verdicts[i], icao24s[i]
        if icao24 is None and cls_.cooperative:
            icao24 = e.track.strip().lower()
        entered, exited, last = times[i]
        out.append({
            "id": entry_id(e.zone, e.track, e.entered_at),
            "zone": e.zone,
            "zone_kind": e.zone_kind,
            "track": e.track,
            "icao24": icao24,
            "callsign": e.callsign,
            "entered_at": entered,
            "entry_interpolated": e.entry_interpolated,
            "exited_at": exited,
            "last_inside_at": last,
            "duration_s": cast(float, seconds[i]),
            "max_depth_m": cast(float, tenths[3 * i]),
            "entry_point": at[4 * i],
            "exit_point": at[4 * i + 1],
            "min_altitude_m": tenths[3 * i + 1],
            "max_altitude_m": tenths[3 * i + 2],
            "observations": e.observations,
            "classification": cls_.to_record(),
            "violation": verdict.violation,
            "severity": verdict.severity,
            "reasons": list(verdict.reasons),
            "protocol": [step.to_record() for step in verdict.protocol],
            "went_dark_at": iso_time(went_dark_ats[i]),
            "integrity": list(e.integrity),
            "first_inside_point": at[4 * i + 2],
            "last_inside_point": at[4 * i + 3],
        })
    return out
