"""Run a scenario through THE pipeline (:class:`skyfence.pipeline.Pipeline`), as live
data would go through it.

A scenario only generates inputs (radar plots, ADS-B messages) and scores what the
pipeline made of them: the plots and messages are fed in time order, one scan window
at a time, to the same pipeline ``skyfence scan`` and ``watch`` run (tracker, fusion,
detector, policy). Nothing is correlated, classified or judged here.

Each screened observation carries ``released_at``: when it reached the detector (an
ADS-B message on arrival, a radar fix when the tracker had confirmed it and fusion had
decided it is non-cooperative). That is when a live system could first have raised an
alert on it, which is what the evaluation's alert delay measures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyfence.airspace.boundary import Boundary
from skyfence.api import ScanResult
from skyfence.fusion.correlator import FusionConfig
from skyfence.fusion.radar_stage import RadarStage
from skyfence.incidents.assess import SIGNIFICANT_SIGMAS
from skyfence.pipeline import Pipeline, PipelineOptions
from skyfence.policy import Policy
from skyfence.records import EntryRecord
from skyfence.scenarios.catalog import get_scenario
from skyfence.scenarios.export import radar_file_plots, read_back_adsb
from skyfence.scenarios.generate import Generated, generate
from skyfence.scenarios.spec import Scenario
from skyfence.tracking.registration import RegistrationEstimate


@dataclass
class Correlation:
    """What fusion matched: (radar track, ICAO address) -> matched radar fixes."""

    pairs: dict[tuple[str, str], int]


@dataclass
class ScenarioResult:
    """Everything a scenario run produced, from plots to incident records."""

    generated: Generated
    #: confirmed radar track states (observation columns + ``emitted_at``, ``record``)
    radar_tracks: pd.DataFrame
    correlation: Correlation
    #: what was screened: ADS-B + non-cooperative radar fixes, with ``target`` and
    #: ``released_at`` columns
    observations: pd.DataFrame
    scan: ScanResult
    policy: Policy
    #: per record: the truth target it follows (None for clutter) and the alert time
    record_targets: list[str | None]
    alert_times: list[float | None]
    #: each radar's range and azimuth bias as registration estimated it
    registration: list[RegistrationEstimate] = field(default_factory=list)

    @property
    def scenario(self) -> Scenario:
        """The scenario that was run."""
        return self.generated.scenario

    @property
    def records(self) -> list[EntryRecord]:
        """Incident records (the contract's dicts), sorted by entry time."""
        return list(self.scan.records)


#: a scenario is fed to the pipeline in slices of this many seconds, each complete up
#: to its end (a radar window runs at its end, as live, when the plots are in)
FEED_SLICE_S = 4.0


def scenario_policy(sc: Scenario) -> Policy:
    """The policy a scenario is judged under: its policy file (default: the shipped
    default policy) with its watched states."""
    return Policy.from_options(sc.watch_states, sc.policy)


def feed_scenario(pipeline: Pipeline, gen: Generated, scan_s: float) -> list[Any]:
    """Feed a generated scenario's ADS-B and plots to a pipeline in time order, one
    ``scan_s`` window at a time; the entry events, ending with the close."""
    adsb = gen.adsb.sort_values("time", kind="stable", ignore_index=True)
    plots = gen.plots.sort_values("time", kind="stable", ignore_index=True)
    times = [f["time"].to_numpy(np.float64) for f in (adsb, plots) if len(f)]
    if not times:
        return pipeline.close()
    t0 = min(float(t.min()) for t in times)
    t1 = max(float(t.max()) for t in times)
    edges = np.floor(t0 / scan_s) * scan_s + scan_s * np.arange(
        int(np.ceil((t1 - t0) / scan_s)) + 2)
    ka = np.searchsorted(adsb["time"].to_numpy(np.float64), edges)
    kp = np.searchsorted(plots["time"].to_numpy(np.float64), edges) if len(plots) else \
        np.zeros(len(edges), np.int64)
    events: list[Any] = []
    for i in range(len(edges) - 1):
        events += pipeline.process(adsb.iloc[ka[i]:ka[i + 1]], plots=plots.iloc[kp[i]:kp[i + 1]],
                                   now=float(edges[i + 1]))
    return events + pipeline.close()


def _adsb_targets(gen: Generated) -> np.ndarray:
    """Truth target of each ADS-B row (a recorded flight may be cut in several)."""
    adsb, truth = gen.adsb, gen.truth[gen.truth["icao24"].notna()]
    out = np.full(len(adsb), None, dtype=object)
    if len(adsb) == 0:
        return out
    spans = truth.groupby("target").agg(icao24=("icao24", "first"), t0=("time", "min"),
                                        t1=("time", "max"))
    t = adsb["time"].to_numpy(float)
    icao = adsb["icao24"].to_numpy(object)
    for target, row in spans.iterrows():  # one step per flight, not per position
        hit = (icao == row["icao24"]) & (t >= row["t0"]) & (t <= row["t1"])
        out[hit] = target
    return out


def _record_targets(scan: ScanResult, obs: pd.DataFrame) -> list[str | None]:
    """The truth target behind each entry: the most frequent one among its track's fixes
    between entry and last inside fix (10 s either side for a corner cut)."""
    out: list[str | None] = []
    groups = obs.groupby("icao24").indices
    t_all = obs["time"].to_numpy(float)
    tgt_all = obs["target"].to_numpy(object)
    for e in scan.entries:
        idx = np.asarray(groups.get(e.track, np.empty(0, np.int64)))
        t = t_all[idx]
        pad = 10.0 if e.observations == 0 else 1.0
        sel = idx[(t >= e.entered_at - pad) & (t <= e.last_inside_at + pad)]
        vals = [v for v in tgt_all[sel] if v is not None]
        out.append(max(set(vals), key=vals.count) if vals else None)
    return out


def _alert_times(scan: ScanResult, obs: pd.DataFrame, gen: Generated) -> list[float | None]:
    """When a live pipeline would first know of each entry: the emission time of the
    first fix of the track inside the zone (or, for a corner cut, the first fix after
    the crossing); for fixes with a position sigma (radar tracks), the first inside fix
    by which the entry has gone :data:`~skyfence.incidents.assess.SIGNIFICANT_SIGMAS`
    sigmas deep, when its record becomes a violation."""
    zones = {z.name: z for z in gen.zones}
    boundaries: dict[str, Boundary] = {}
    groups = obs.groupby("icao24").indices
    t_all = obs["time"].to_numpy(float)
    em_all = obs["released_at"].to_numpy(float)
    out: list[float | None] = []
    for e in scan.entries:
        idx = np.asarray(groups.get(e.track, np.empty(0, np.int64)))
        idx = idx[t_all[idx] >= e.entered_at - 1e-6]
        if idx.size == 0:
            out.append(None)
            continue
        sub = obs.iloc[idx]
        inside = zones[e.zone].contains(sub["lon"].to_numpy(float), sub["lat"].to_numpy(float),
                                        sub["altitude"].to_numpy(float))
        first = idx[inside][0] if inside.any() else idx[0]
        inside &= sub["time"].to_numpy(float) <= e.last_inside_at + 1e-6
        if inside.any() and "sigma_pos_m" in sub:
            k = idx[inside]
            sigma = np.minimum.accumulate(np.nan_to_num(
                sub["sigma_pos_m"].to_numpy(float)[inside], nan=0.0))
            b = boundaries.setdefault(e.zone, Boundary(zones[e.zone].geometry))
            depth = np.maximum.accumulate(b.distance_m(sub["lon"].to_numpy(float)[inside],
                                                       sub["lat"].to_numpy(float)[inside]))
            deep = np.flatnonzero(depth >= SIGNIFICANT_SIGMAS * sigma)
            first = k[deep[0]] if deep.size else first
        out.append(float(em_all[first]))
    return out


def run_scenario(
    name_or_path: str | Path | Scenario,
    *,
    policy: Policy | None = None,
    fusion: FusionConfig | None = None,
) -> ScenarioResult:
    """Generate a scenario's data and run it through the pipeline."""
    sc = get_scenario(name_or_path)
    gen = generate(sc)
    scan_s = min(r.period_s for r in sc.radars)
    pol = policy or scenario_policy(sc)
    # the inputs as the exported files give them (CAT048 resolution, CSV reader), so
    # that `skyfence scan` of `skyfence demo NAME --export DIR` scores the same
    _, plots = radar_file_plots(gen.plots, gen.sites)
    adsb = read_back_adsb(gen.adsb.assign(target=_adsb_targets(gen)))
    stage = RadarStage(gen.sites, scan_s=scan_s)
    pipe = Pipeline(gen.zones, policy=pol, radar=stage,
                    options=PipelineOptions(keep_screened=True,
                                            fusion=fusion or FusionConfig()))
    fed = Generated(**{**vars(gen), "adsb": adsb, "plots": plots})
    events = feed_scenario(pipe, fed, FEED_SLICE_S)
    found = [e.entry for e in events if e.kind in ("exit", "open")]
    entries = sorted(found, key=lambda e: (e.entered_at, e.zone, e.track))
    scan = ScanResult(pipe.records(entries), entries, pipe.detector.positions,
                      dropped_duplicates=pipe.detector.dropped_out_of_order)
    obs = pipe.screened_observations()
    radar = (pd.concat(pipe.radar_states, ignore_index=True) if pipe.radar_states
             else obs.iloc[0:0])
    obs["target"] = _targets(obs, fed)
    return ScenarioResult(gen, radar, Correlation(dict(pipe.correlator.matches)), obs, scan,
                          pol, _record_targets(scan, obs), _alert_times(scan, obs, gen),
                          stage.registration())


def _targets(obs: pd.DataFrame, gen: Generated) -> np.ndarray:
    """Truth target of each screened row: ADS-B rows carry it; a radar fix gets the
    target of the plot that updated it (a track's first state, from before its first
    plot association, takes its track's next known target)."""
    tgt = obs["target"].to_numpy(object).copy() if "target" in obs else \
        np.full(len(obs), None, object)
    if "record" in obs and len(gen.plots):
        target_of = pd.Series(gen.plots["target"].to_numpy(object),
                              index=gen.plots["record"].to_numpy())
        rec = pd.to_numeric(obs["record"], errors="coerce").to_numpy(np.float64)
        known = np.isfinite(rec)
        found = target_of.reindex(rec[known].astype(np.int64)).to_numpy(object)
        tgt[known] = [None if pd.isna(v) else v for v in found]
        radar = (~pd.isna(obs["emitted_at"]).to_numpy(bool) if "emitted_at" in obs
                 else known)
        only_radar = np.array(tgt, dtype=object)
        only_radar[~radar] = None
        filled = pd.DataFrame({"t": only_radar, "k": obs["icao24"].to_numpy(object)}).groupby(
            "k")["t"].bfill().to_numpy(object)
        tgt[radar] = filled[radar]
    return tgt


__all__ = ["ScenarioResult", "feed_scenario", "run_scenario", "scenario_policy"]
