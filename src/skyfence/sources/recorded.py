"""Recorded files of any kind as one time-ordered stream: what a replay and a fused scan
feed the pipeline.

Transponder positions (CSV, Parquet, SBS, Beast, raw Mode S) become observations;
ASTERIX files become radar plots (CAT048) and system tracks (CAT062). All of them are
merged and cut into time slices, each carrying the stream time it brings the pipeline
to, optionally paced at a multiple of real time. The pipeline decides the same whatever
the slices (see :mod:`skyfence.fusion.correlator`), so ``watch --replay`` of these files
ends with the records of ``scan``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from skyfence.errors import OnError, UsageError
from skyfence.model import empty_observations
from skyfence.radar import RadarSite
from skyfence.sources.files import file_format, iter_file_batches
from skyfence.sources.tabular import ColumnMap, RejectLog

__all__ = ["Recorded", "StreamSlice", "read_recorded", "recorded_stream"]


@dataclass
class Recorded:
    """Everything read from recorded files, by kind."""

    observations: pd.DataFrame = field(default_factory=empty_observations)
    plots: pd.DataFrame | None = None
    tracks: pd.DataFrame | None = None
    #: records the ASTERIX reader skipped (bad records under ``--on-error skip``)
    radar_skipped: int = 0

    @property
    def has_radar(self) -> bool:
        """True when plots or system tracks came in."""
        return any(f is not None and len(f) for f in (self.plots, self.tracks))

    def time_span(self) -> tuple[float, float] | None:
        """First and last time of any row, or None without rows."""
        times = [f["time"].to_numpy(np.float64) for f in (self.observations, self.plots,
                                                         self.tracks) if f is not None and len(f)]
        if not times:
            return None
        return min(float(t.min()) for t in times), max(float(t.max()) for t in times)


@dataclass
class StreamSlice:
    """One time slice of a recorded stream."""

    observations: pd.DataFrame
    plots: pd.DataFrame | None
    tracks: pd.DataFrame | None
    #: the stream time this slice brings the pipeline to (its window's end)
    end: float
    #: wall-clock time the slice was handed on (unix s)
    received_at: float


def read_recorded(
    paths: Sequence[str | Path],
    *,
    fmt: str = "auto",
    columns: ColumnMap | None = None,
    on_error: OnError = "abort",
    rejects: RejectLog | None = None,
    ref: tuple[float, float] | None = None,
    radar_sites: Sequence[RadarSite] = (),
    date: str | None = None,
) -> Recorded:
    """Read recorded files of any supported format, each by its kind."""
    obs: list[pd.DataFrame] = []
    plots: list[pd.DataFrame] = []
    tracks: list[pd.DataFrame] = []
    skipped = 0
    for p in paths:
        if file_format(p, fmt) == "asterix":
            from skyfence.sources.asterix import read_asterix

            data = read_asterix(p, sites=radar_sites, date=date, on_error=on_error)
            skipped += data.skipped
            if rejects is not None and data.skipped:  # counted, never silent
                rejects.count += data.skipped
                rejects.by_field["ASTERIX record"] = (
                    rejects.by_field.get("ASTERIX record", 0) + data.skipped)
                rejects.examples.extend(data.errors[: max(0, 5 - len(rejects.examples))])
            if len(data.plots):
                plots.append(data.plots)
            if len(data.tracks):
                tracks.append(data.tracks)
        else:
            obs.extend(b for b in iter_file_batches(p, fmt=fmt, columns=columns,
                                                    on_error=on_error, rejects=rejects,
                                                    ref=ref) if len(b))
    return Recorded(
        observations=pd.concat(obs, ignore_index=True) if len(obs) > 1
        else (obs[0] if obs else empty_observations()),
        plots=pd.concat(plots, ignore_index=True) if plots else None,
        tracks=pd.concat(tracks, ignore_index=True) if tracks else None,
        radar_skipped=skipped,
    )


def recorded_stream(
    data: Recorded,
    *,
    slice_s: float = 4.0,
    speed: float = 0.0,
    stop: Callable[[], bool] | None = None,
) -> Iterator[StreamSlice]:
    """Time-ordered slices of ``slice_s`` seconds (aligned on multiples of it), paced at
    ``speed`` times real time (0: as fast as possible). Empty windows are skipped."""
    if not (slice_s > 0 and np.isfinite(slice_s)):
        raise UsageError(f"replay slice {slice_s}: must be a positive number of seconds")
    span = data.time_span()
    if span is None:
        return
    frames = [_sorted(f) for f in (data.observations, data.plots, data.tracks)]
    times = [f["time"].to_numpy(np.float64) if f is not None else None for f in frames]
    first = np.floor(span[0] / slice_s)
    n = int(np.floor(span[1] / slice_s) - first) + 1
    edges = (first + np.arange(n + 1)) * slice_s
    cuts = [np.searchsorted(t, edges, side="left") if t is not None else None for t in times]
    # windows holding any row, in order
    busy = np.zeros(n, bool)
    for c in cuts:
        if c is not None:
            busy |= np.diff(c) > 0
    start_wall, t0 = time.monotonic(), span[0]
    for i in np.flatnonzero(busy).tolist():
        if stop is not None and stop():
            return
        if speed > 0:
            delay = start_wall + (edges[i] - t0) / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        part = [None if f is None or c is None else f.iloc[c[i]:c[i + 1]]
                for f, c in zip(frames, cuts, strict=True)]
        yield StreamSlice(
            observations=part[0] if part[0] is not None else empty_observations(),
            plots=part[1], tracks=part[2], end=float(edges[i + 1]), received_at=time.time())


def _sorted(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None or len(frame) == 0:
        return None
    return frame.sort_values("time", kind="stable", ignore_index=True)
