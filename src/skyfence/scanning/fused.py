"""A scan of recorded radar and transponder data together: the live pipeline, run as fast
as the disk allows.

Radar plots must be tracked and radar tracks correlated with transponder tracks, which
needs every source in time order; so such a scan reads its inputs whole (radar data
are small beside a transponder archive) and streams them through one
:class:`~skyfence.pipeline.Pipeline` in time slices, exactly as ``watch --replay`` of the
same files does. Tables holding radar tracks (ids that are not ICAO addresses) beside
transponder tracks are fused the same way when asked (``--fuse``). Other scans keep the
out-of-core engines of :mod:`skyfence.scanning.engine`, and screen every track as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skyfence.fusion.radar_stage import DEFAULT_SCAN_S, RadarStage
from skyfence.pipeline import Pipeline, PipelineOptions
from skyfence.sources.recorded import Recorded, read_recorded, recorded_stream
from skyfence.sources.tabular import RejectLog

if TYPE_CHECKING:
    from skyfence.scanning.engine import ScanOptions, ScanResult

__all__ = ["scan_fused", "scan_recorded"]


def scan_recorded(data: Recorded, opts: ScanOptions, rejects: RejectLog | None = None,
                  *, scan_s: float = DEFAULT_SCAN_S, keep_screened: bool = False
                  ) -> ScanResult:
    """Run recorded data through the pipeline with fusion; final records (and, with
    ``keep_screened``, every observation the detector screened after fusion)."""
    from skyfence.scanning.engine import ScanResult

    radar = RadarStage(list(opts.radar_sites), scan_s=scan_s) if data.plots is not None \
        else None
    pipe = Pipeline(opts.zones, policy=opts.policy, military_db=opts.military_db,
                    radar=radar, options=PipelineOptions(
                        gap_s=opts.gap_s, keep_path=opts.keep_path, fuse=True,
                        keep_screened=keep_screened, receiver=opts.ref))
    events = []
    for part in recorded_stream(data, slice_s=scan_s):
        if opts.progress is not None:
            opts.progress(len(part.observations) + sum(
                len(f) for f in (part.plots, part.tracks) if f is not None))
        events += pipe.process(part.observations, plots=part.plots, tracks=part.tracks,
                               now=part.end)
    events += pipe.close()
    found = [e.entry for e in events if e.kind in ("exit", "open")]
    entries = sorted(found, key=lambda e: (e.entered_at, e.zone, e.track))
    return ScanResult(pipe.records(entries), entries,
                      pipe.detector.positions, rejects or RejectLog(),
                      pipe.detector.dropped_out_of_order, mode="fused",
                      screened=pipe.screened_observations() if keep_screened else None)


def scan_fused(paths: Sequence[Path], opts: ScanOptions, *, keep_screened: bool = False
               ) -> ScanResult:
    """Read ``paths`` whole and scan them with fusion (see the module)."""
    rejects = RejectLog()
    data = read_recorded(paths, fmt=opts.input_format, columns=opts.columns,
                         on_error=opts.on_error, rejects=rejects, ref=opts.ref,
                         radar_sites=opts.radar_sites, date=opts.date)
    return scan_recorded(data, opts, rejects, keep_screened=keep_screened)
