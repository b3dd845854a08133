"""THE pipeline: what ``scan``, ``watch``, ``serve`` and the scenarios all run.

::

    transponder observations ─────────────────────────────┐
    radar plots ──► RadarStage (tracker) ──► Correlator ──┼──► EntryDetector ──► Assessor
    system tracks (CAT062) ─────────────────► (fusion)  ──┘      (entries)       (records)

The stages are passed in (or built from options); the pipeline only moves data between
them, in time order. Transponder observations (track ids that are ICAO addresses) go
straight to the detector. Everything else (radar track states, tracks from files with
non-ICAO ids) goes through the correlator first, which drops the fixes of aircraft that
transmit, and hands on the rest as non-cooperative, remembering who went dark. Without
radar data the correlator sees nothing and the pipeline is the detector alone.

A scan is this pipeline run as fast as the disk allows; a replay of the same data with
``watch`` gives the same records (the correlator decides the same whatever the batches).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from skyfence.airspace.zones import Zone
from skyfence.detect.entries import DetectorConfig, EntryDetector, EntryEvent
from skyfence.detect.integrity import IntegrityConfig
from skyfence.fusion.correlator import Correlator, FusionConfig, is_transponder_id
from skyfence.fusion.radar_stage import RadarStage
from skyfence.incidents.assess import Assessor
from skyfence.model import OBSERVATION_COLUMNS, Entry
from skyfence.policy import Policy
from skyfence.records import EntryRecord

__all__ = ["Pipeline", "PipelineOptions"]


@dataclass(frozen=True)
class PipelineOptions:
    """How the pipeline's default stages are built."""

    gap_s: float = 300.0
    keep_path: bool = False
    #: emit ``update`` events (live use)
    updates: bool = False
    #: keep every observation the detector screened (scenario scoring, dossiers)
    keep_screened: bool = False
    #: correlate non-transponder tracks with transponder tracks; None: when there is a
    #: radar stage, or from the first batch that brings system tracks (transponder data
    #: are then kept for the correlation window)
    fuse: bool | None = None
    fusion: FusionConfig = field(default_factory=FusionConfig)
    #: position (lat, lon) of the one receiver the transponder data come from: fixes
    #: beyond its reach are implausible (see :mod:`skyfence.detect.integrity`)
    receiver: tuple[float, float] | None = None


class Pipeline:
    """Sources' batches in, entry events and incident records out.

    Parameters
    ----------
    zones
        The zones to watch.
    policy, military_db
        How entries are judged (see :class:`~skyfence.incidents.assess.Assessor`).
    radar
        The radar tracker stage; None when no radar plots will come.
    correlator
        The fusion stage; built by default (it is idle until non-transponder tracks come).
    detector
        The entry detector; built from ``zones`` and ``options`` by default.
    """

    def __init__(
        self,
        zones: Sequence[Zone],
        *,
        policy: Policy | None = None,
        military_db: Mapping[str, bool] | None = None,
        options: PipelineOptions | None = None,
        radar: RadarStage | None = None,
        correlator: Correlator | None = None,
        detector: EntryDetector | None = None,
    ) -> None:
        self.zones = list(zones)
        self.options = options or PipelineOptions()
        opt = self.options
        self.detector = detector or EntryDetector(
            self.zones, DetectorConfig(gap_s=opt.gap_s, keep_path=opt.keep_path,
                                       updates=opt.updates,
                                       integrity=IntegrityConfig(receiver=opt.receiver)))
        self.radar = radar
        self.correlator = correlator or Correlator(opt.fusion)
        corr = self.correlator
        self.assessor = Assessor(policy or Policy(), military_db,
                                 identity_of=lambda e: corr.identity_at(e.track, e.entered_at),
                                 doubt_of=lambda e: corr.contradiction(
                                     e.track, e.entered_at, e.exited_at or e.last_inside_at))
        self.fuse = opt.fuse if opt.fuse is not None else radar is not None
        self.now = -np.inf
        self.screened: list[pd.DataFrame] = []
        self.radar_states: list[pd.DataFrame] = []
        #: called with each batch the detector screens (every source, after fusion):
        #: the live picture of ``serve`` watches the tracks through this
        self.taps: list[Callable[[pd.DataFrame], None]] = []

    # ------------------------------------------------------------------ data in
    def process(
        self,
        observations: pd.DataFrame | None = None,
        *,
        plots: pd.DataFrame | None = None,
        tracks: pd.DataFrame | None = None,
        now: float | None = None,
    ) -> list[EntryEvent]:
        """One batch of any sources; the entry events it caused, in time order.

        ``now`` is the stream time the batch brings the pipeline to, every source's data
        up to it given (a replay slice's end; default: the latest time in the batch,
        with radar windows run once a later plot closes them): radar windows and held
        fixes up to it are decided.
        """
        if tracks is not None and len(tracks) and self.options.fuse is None:
            self.fuse = True  # system tracks are correlated with transponder tracks
        latest = [float(f["time"].max()) for f in (observations, plots, tracks)
                  if f is not None and len(f)]
        self.now = max([self.now, *latest, *([now] if now is not None else [])])
        direct: list[pd.DataFrame] = []
        if observations is not None and len(observations):
            if not self.fuse:
                direct.append(observations)
            else:
                coop = is_transponder_id(observations["icao24"].to_numpy(object))
                direct.append(observations if coop.all() else observations[coop])
                if not coop.all():
                    self.correlator.add_radar(observations[~coop])
                self.correlator.add_transponder(direct[-1])
                if self.radar is not None:  # the radars are registered against ADS-B
                    self.radar.add_reference(direct[-1])
        if plots is not None and len(plots):
            if self.radar is None:
                raise ValueError("radar plots given to a pipeline without a radar stage")
            self.radar.add(plots)
        if self.radar is not None:
            # an explicit ``now`` (a replay slice's end) says the data up to it are all in
            self._radar_states(self.radar.advance(self.now, complete=now is not None))
        if tracks is not None and len(tracks):
            # system tracks (CAT062) are tracks already: those that carry a Mode S
            # address are that aircraft, the others are correlated like radar tracks
            named = is_transponder_id(tracks["icao24"].to_numpy(object))
            if named.any():
                direct.append(tracks[named])
                self.correlator.add_transponder(tracks[named])
            self.correlator.add_radar(tracks[~named])
        self.correlator.advance(self.now, None if self.radar is None else self.radar.done_until)
        return self._detect(direct, self.correlator.release())

    def close(self) -> list[EntryEvent]:
        """End of data: flush the radar and the held fixes, then report open entries."""
        if self.radar is not None:
            self._radar_states(self.radar.flush())
        events = self._detect([], self.correlator.release(final=True))
        return events + self.detector.close()

    def _radar_states(self, states: pd.DataFrame) -> None:
        if len(states):
            if self.options.keep_screened:
                self.radar_states.append(states)
            self.correlator.add_radar(states)

    def _detect(self, direct: list[pd.DataFrame], released: pd.DataFrame) -> list[EntryEvent]:
        if self.options.keep_screened:
            # when each fix reached the detector: a transponder fix on arrival, a radar
            # fix when fusion let it go (the moment a live system could alert on it)
            direct = [f.assign(released_at=f["time"].to_numpy(np.float64)) for f in direct]
            released = released.assign(released_at=self.now)
        frames = [f for f in (*direct, released) if len(f)]
        if not frames:
            return []
        batch = frames[0] if len(frames) == 1 else _concat(frames)
        if self.options.keep_screened:
            self.screened.append(batch)
        for tap in self.taps:
            tap(batch)
        return self.detector.process(batch)

    # ------------------------------------------------------------------ results
    def records(self, entries: Sequence[Entry],
                behaviours: Collection[str] = ()) -> list[EntryRecord]:
        """Incident records of entries, with what fusion knows of their tracks."""
        return self.assessor.records(entries, behaviours)

    def screened_observations(self) -> pd.DataFrame:
        """Every observation the detector saw (needs ``keep_screened``)."""
        if not self.screened:
            from skyfence.model import empty_observations

            return empty_observations()
        return _concat(self.screened)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Observation frames joined on the observation columns plus any extras (numpy
    concatenation: pandas' concat checks every object cell for NA)."""
    kinds: dict[str, str] = {}
    for f in frames:
        for c, dtype in f.dtypes.items():
            kinds.setdefault(str(c), dtype.kind)
    cols = [*OBSERVATION_COLUMNS, *(c for c in kinds if c not in OBSERVATION_COLUMNS)]
    have = [set(map(str, f.columns)) for f in frames]

    def column(f: pd.DataFrame, names: set[str], c: str) -> np.ndarray:
        if c in names:
            return np.asarray(f[c].to_numpy())
        return (np.full(len(f), np.nan) if kinds[c] in "fiub"
                else np.full(len(f), None, object))

    parts = {c: np.concatenate([column(f, h, c) for f, h in zip(frames, have, strict=True)])
             for c in cols}
    out = pd.DataFrame(parts)
    for c, dtype in OBSERVATION_COLUMNS.items():
        if dtype != "object":
            out[c] = out[c].astype(np.dtype(dtype))
    return out
