"""ASTERIX files and bytes as what they hold: CAT048 plots, CAT062 tracks, counts.

:func:`read_asterix` reads a raw file of data blocks or a pcap / pcapng capture;
:func:`decode_asterix` decodes blocks held in memory. Both frame the blocks, decode the
records, and convert them all at once: plots need the radar sites (``--radar``), and
raw files the UTC date of their first record (``--date``). Bad input follows
``on_error``: ``"abort"`` raises :class:`~skyfence.errors.InputError` naming the
source, the record number (1-based, in file order) and the field; ``"skip"`` counts the
record in :attr:`AsterixData.skipped`, keeps its message and logs the first one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from skyfence.errors import ErrorPolicy, InputError, OnError, UsageError
from skyfence.radar import RadarSite
from skyfence.sources.asterix.capture import iter_payloads
from skyfence.sources.asterix.convert import plot_batch, track_batch, unix_times
from skyfence.sources.asterix.records import RecordColumns

__all__ = ["AsterixData", "decode_asterix", "finish", "read_asterix"]

log = logging.getLogger(__name__)


@dataclass
class AsterixData:
    """What one file (or one UDP batch) held: plots, system tracks and counts."""

    plots: pd.DataFrame
    tracks: pd.DataFrame
    records: int = 0
    skipped: int = 0
    without_position: int = 0
    other_categories: int = 0
    errors: list[str] = field(default_factory=list)


def _as_date(date: dt.date | str | None) -> dt.date | None:
    if date is None or isinstance(date, dt.date):
        return date
    try:
        return dt.date.fromisoformat(date)
    except ValueError:
        raise UsageError(f"date {date!r}: expected YYYY-MM-DD") from None


def _site_map(sites: Iterable[RadarSite]) -> dict[tuple[int, int], RadarSite]:
    out: dict[tuple[int, int], RadarSite] = {}
    for s in sites:
        if s.key in out:
            raise UsageError(f"radar SAC/SIC {s.sac}/{s.sic} configured twice")
        out[s.key] = s
    return out


def finish(
    cols: RecordColumns,
    sites: Iterable[RadarSite],
    date: dt.date | str | None,
    default_height_m: float | None,
) -> AsterixData:
    """Convert the decoded columns into batches; take what the policy skipped so far."""
    times = unix_times(cols, _as_date(date))
    plots = plot_batch(cols, times, _site_map(sites), default_height_m)
    tracks = track_batch(cols, times)
    skipped, errors = cols.policy.take()
    return AsterixData(
        plots=plots,
        tracks=tracks,
        records=cols.records,
        skipped=skipped,
        without_position=cols.without_position,
        other_categories=cols.other,
        errors=[str(e) for e in errors],
    )


def read_asterix(
    path: str | Path,
    *,
    sites: Iterable[RadarSite] = (),
    date: dt.date | str | None = None,
    on_error: OnError = "abort",
    default_height_m: float | None = None,
) -> AsterixData:
    """Decode an ASTERIX file (raw data blocks, pcap or pcapng).

    Parameters
    ----------
    sites
        Radar positions by SAC/SIC; every CAT048 radar in the file needs one.
    date
        UTC date of the first record; optional for captures (their packet times
        give it), required for raw files.
    on_error
        ``"abort"`` stops at the first bad record with an :class:`InputError`;
        ``"skip"`` counts it in ``skipped`` and keeps its message in ``errors``.
    default_height_m
        Height assumed for plots without one (2D primary radar); by default such
        plots are projected with a horizontal line of sight and altitude NaN.
    """
    cols = RecordColumns(str(path), ErrorPolicy(on_error, keep=None, logger=log))
    try:
        cols.add_payloads(iter_payloads(path))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    return finish(cols, sites, date, default_height_m)


def decode_asterix(
    data: bytes,
    *,
    sites: Iterable[RadarSite] = (),
    date: dt.date | str | None = None,
    capture_time: float | None = None,
    source: str = "<bytes>",
    on_error: OnError = "abort",
    default_height_m: float | None = None,
) -> AsterixData:
    """Decode ASTERIX data blocks held in memory (see :func:`read_asterix`)."""
    cols = RecordColumns(source, ErrorPolicy(on_error, keep=None, logger=log))
    cols.add_payload(data, capture_time)
    return finish(cols, sites, date, default_height_m)
