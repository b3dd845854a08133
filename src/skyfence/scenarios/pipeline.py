"""Run a scenario through the whole pipeline, as live data would go through it.

scenario -> radar plots -> tracker -> radar tracks (``R0001`` ...) ; ADS-B observations
-> correlation (radar fixes of transponder aircraft are dropped, see
:mod:`skyfence.scenarios.correlate`) -> scan (:func:`skyfence.api.run_scan`) -> incidents.

The tracker is fed scan by scan, and every track state is stamped with the time it was
emitted (``emitted_at``: the end of the scan that produced it; states from before a
track's confirmation are emitted at confirmation). That is when a live pipeline could
first have raised an alert on it, which is what the evaluation's alert delay measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyfence.api import ScanResult, run_scan
from skyfence.model import OBSERVATION_COLUMNS, make_observations
from skyfence.policy import Policy
from skyfence.radar import LocalPlane, RadarSite
from skyfence.scenarios.catalog import get_scenario
from skyfence.scenarios.correlate import Correlation, CorrelationConfig, correlate
from skyfence.scenarios.generate import Generated, generate
from skyfence.scenarios.spec import Scenario
from skyfence.tracking.tracker import Tracker, scans_of


@dataclass
class ScenarioResult:
    """Everything a scenario run produced, from plots to incident records."""

    generated: Generated
    #: confirmed radar track states: observation columns + ``emitted_at``, ``target``
    radar_tracks: pd.DataFrame
    correlation: Correlation
    #: what was screened: ADS-B + uncorrelated radar fixes, with a ``target`` column
    observations: pd.DataFrame
    scan: ScanResult
    policy: Policy
    #: per record: the truth target it follows (None for clutter) and the alert time
    record_targets: list[str | None]
    alert_times: list[float | None]

    @property
    def scenario(self) -> Scenario:
        """The scenario that was run."""
        return self.generated.scenario

    @property
    def records(self) -> list[dict[str, Any]]:
        """Incident records (the contract's dicts), sorted by entry time."""
        return list(self.scan.records)


def scenario_policy(sc: Scenario) -> Policy:
    """The policy a scenario is judged under: its policy file (default: the shipped
    default policy) with its watched states."""
    return Policy.from_options(sc.watch_states, sc.policy)


def track_radar(plots: pd.DataFrame, sites: list[RadarSite], scan_s: float) -> pd.DataFrame:
    """Feed plots to a :class:`Tracker` scan by scan; confirmed states with emission
    times and the truth target of the plot behind each state."""
    plots = plots.sort_values("time", kind="stable").reset_index(drop=True)
    plane = LocalPlane.around([s.lat for s in sites], [s.lon for s in sites])
    tracker = Tracker(plane, sites)
    frames = []
    for idx in scans_of(plots, scan_s):
        chunk = plots.iloc[idx]
        out = tracker.update(chunk)
        if len(out):
            out["emitted_at"] = float(chunk["time"].max())
            frames.append(out)
    if not frames:
        obs = make_observations(time=[], icao24=[], lat=[], lon=[])
        obs["emitted_at"] = pd.Series(dtype=float)
        obs["target"] = pd.Series(dtype=object)
        return obs
    states = pd.concat(frames, ignore_index=True)
    states = states.sort_values(["track", "time"], kind="stable").reset_index(drop=True)
    obs = make_observations(
        time=states["time"], icao24=states["track"], lat=states["lat"], lon=states["lon"],
        altitude=states["altitude"], velocity=states["velocity"], heading=states["heading"],
        vertrate=states["vertrate"])
    obs["emitted_at"] = states["emitted_at"].to_numpy(float)
    target_of = pd.Series(plots["target"].to_numpy(object), index=plots["record"].to_numpy())
    rec = states["record"].to_numpy(float)
    known = np.isfinite(rec)
    tgt = np.full(len(states), None, dtype=object)
    tgt[known] = target_of.reindex(rec[known].astype(np.int64)).to_numpy(object)
    obs["target"] = tgt
    # a candidate's first state has no plot record: it follows the track's next state
    obs["target"] = obs.groupby("icao24")["target"].transform(lambda s: s.bfill())
    return obs


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
    the crossing)."""
    zones = {z.name: z for z in gen.zones}
    groups = obs.groupby("icao24").indices
    t_all = obs["time"].to_numpy(float)
    em_all = obs["emitted_at"].to_numpy(float)
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
        out.append(float(em_all[first]))
    return out


def run_scenario(
    name_or_path: str | Path | Scenario,
    *,
    policy: Policy | None = None,
    correlation: CorrelationConfig | None = None,
) -> ScenarioResult:
    """Generate a scenario's data and run it through tracking, correlation and the scan."""
    sc = get_scenario(name_or_path)
    gen = generate(sc)
    scan_s = min(r.period_s for r in sc.radars)
    radar = track_radar(gen.plots, gen.sites, scan_s)
    corr = correlate(radar, gen.adsb, correlation)
    adsb = gen.adsb.copy()
    adsb["emitted_at"] = adsb["time"]  # an ADS-B message is known when received
    adsb["target"] = _adsb_targets(gen)
    kept = radar[~corr.cooperative]
    obs = pd.concat([adsb, kept], ignore_index=True)
    pol = policy or scenario_policy(sc)
    scan = run_scan([obs[list(OBSERVATION_COLUMNS)]], gen.zones, policy=pol)
    return ScenarioResult(gen, radar, corr, obs, scan, pol, _record_targets(scan, obs),
                          _alert_times(scan, obs, gen))


__all__ = ["ScenarioResult", "run_scenario", "scenario_policy", "track_radar"]
