"""``skyfence bench track``: our radar tracker against Stone Soup, same plots, same run.

The data are ten minutes of the ``swarm-night`` scenario at its busiest (drones from
both directions over the zone, some hovering, civil traffic, heavy clutter): the plots
of both radars (4 s and 5 s rotation, one of them biased), cut from the scenario's own
generated plots. Trackers on the same plots:

- ``ours``: :class:`skyfence.fusion.radar_stage.RadarStage` as the pipeline runs it
  (registration against the scenario's ADS-B, IMM with hover model, GNN, M-of-N plus
  track score, centralised fusion of both radars);
- ``ours_jpda``: the same with JPDA (:class:`~skyfence.tracking.association.
  JointProbabilistic`) for confirmed tracks;
- ``ours_cv``: the same with a single constant-velocity Kalman filter, the model
  Stone Soup runs here;
- ``stonesoup``: Stone Soup's ``MultiTargetTracker`` built from its equivalent parts
  (constant-velocity Kalman predictor/updater, Mahalanobis-gated distance hypothesiser,
  GNN 2D assignment, multi-measurement initiator with 3 points, deletion after 3
  missed scans), each plot with its own polar noise covariance;
- ``stonesoup_jpda``: Stone Soup's ``MultiTargetMixtureTracker`` with its JPDA
  (``JPDAwithEHM``, the efficient hypothesis management variant of its exact JPDA) and
  PDA hypothesiser, same models and initiator.

Stone Soup gets the plots after our registration has corrected them (it has none of
its own), so the comparison is of trackers, not of registration. Speed is plots per
second (tracking only; ours best of three, Stone Soup once as it is slow). Accuracy is
the position RMSE of tracks matched to truth, the mean OSPA (c = 1 km, p = 2) every
4 s against the targets the radars could see (see
:mod:`skyfence.scenarios.tracking_score`), and the tracks per scripted target.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import pandas as pd

from skyfence.benchmarks import record
from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking.filters import ConstantVelocity
from skyfence.tracking.metrics import score_tracks
from skyfence.tracking.tracker import plot_covariances

CV_Q = 5.0  # acceleration spectral density of the single-model filters (m^2/s^3)


#: the benchmark's slice of the swarm scenario (s after its start) and length
SWARM = "swarm-night"
SLICE_START_S = 4200.0
SLICE_S = 600.0


def swarm_slice(start_s: float = SLICE_START_S, length_s: float = SLICE_S
                ) -> tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(generated scenario, truth, plots, ADS-B) of ``length_s`` of the swarm scenario."""
    from skyfence.scenarios.catalog import get_scenario
    from skyfence.scenarios.generate import generate

    gen = generate(get_scenario(SWARM))
    t0 = gen.scenario.start + start_s
    t1 = t0 + length_s

    def cut(f: pd.DataFrame) -> pd.DataFrame:
        t = f["time"].to_numpy(float)
        return f[(t >= t0) & (t < t1)].reset_index(drop=True)

    return gen, cut(gen.truth), cut(gen.plots), cut(gen.adsb)


def _windows(plots: pd.DataFrame, scan_s: float) -> list[np.ndarray]:
    t = plots["time"].to_numpy(float)
    k = np.floor(t / scan_s).astype(np.int64)
    return np.split(np.arange(t.size), np.flatnonzero(np.diff(k)) + 1) if t.size else []


def stonesoup_tracks(plots: pd.DataFrame, plane: LocalPlane, sites: list[RadarSite],
                     scan_s: float = 4.0, q: float = CV_Q, jpda: bool = False,
                     p_detect: float = 0.8, clutter_density: float = 1e-8,
                     ) -> tuple[pd.DataFrame, float]:
    """Track with Stone Soup; returns (observation-like frame, seconds spent tracking).

    The frame has ``record``: the plot behind each update (the most probable one of a
    JPDA update), for labelling.
    """
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
    )
    from stonesoup.models.transition.linear import (
        ConstantVelocity as SSConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.tracker.simple import MultiTargetMixtureTracker, MultiTargetTracker
    from stonesoup.types.detection import Detection
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import KalmanUpdater

    plots = plots.sort_values("time", kind="stable").reset_index(drop=True)
    x, y = plane.to_xy(plots["lat"].to_numpy(float), plots["lon"].to_numpy(float))
    site_xy = {s.key: plane.to_xy(s.lat, s.lon) for s in sites}
    sxy = np.array([site_xy.get((int(a), int(b)), (np.nan, np.nan))
                    for a, b in zip(plots["sac"], plots["sic"], strict=True)], dtype=float)
    r = plot_covariances(x, y, plots["range_m"].to_numpy(float),
                         plots["sigma_range_m"].to_numpy(float),
                         plots["sigma_azimuth_deg"].to_numpy(float), sxy)
    epoch = dt.datetime(1970, 1, 1)
    t = plots["time"].to_numpy(float)
    rec = plots["record"].to_numpy()
    scans: list[tuple[dt.datetime, set[Any]]] = []
    for idx in _windows(plots, scan_s):  # building the inputs is not timed
        dets = {Detection(np.array([[x[i]], [y[i]]]),
                          timestamp=epoch + dt.timedelta(seconds=float(t[i])),
                          measurement_model=LinearGaussian(4, (0, 2), r[i]),
                          metadata={"record": int(rec[i])})
                for i in idx}
        scans.append((epoch + dt.timedelta(seconds=float(t[idx].max())), dets))

    transition = CombinedLinearGaussianTransitionModel(
        [SSConstantVelocity(q), SSConstantVelocity(q)])
    predictor = KalmanPredictor(transition)
    default_model = LinearGaussian(4, (0, 2), np.eye(2) * 50.0**2)
    updater = KalmanUpdater(default_model)
    hypothesiser = DistanceHypothesiser(predictor, updater, Mahalanobis(), missed_distance=3.7)
    gnn = GNNWith2DAssignment(hypothesiser)
    deleter = UpdateTimeStepsDeleter(3)
    initiator = MultiMeasurementInitiator(
        GaussianState(np.zeros((4, 1)), np.diag([0.0, 250.0**2, 0.0, 250.0**2])),
        deleter=UpdateTimeStepsDeleter(2), data_associator=gnn, updater=updater,
        measurement_model=default_model, min_points=3)
    tracker: Any
    if jpda:
        from stonesoup.dataassociator.probability import JPDAwithEHM
        from stonesoup.hypothesiser.probability import PDAHypothesiser

        pda = PDAHypothesiser(predictor, updater, clutter_spatial_density=clutter_density,
                              prob_detect=p_detect)
        tracker = MultiTargetMixtureTracker(
            initiator=initiator, deleter=deleter, detector=scans,
            data_associator=JPDAwithEHM(pda), updater=updater)
    else:
        tracker = MultiTargetTracker(initiator=initiator, deleter=deleter, detector=scans,
                                     data_associator=gnn, updater=updater)
    rows: dict[int, tuple[str, Any]] = {}
    start = time.perf_counter()
    for _, tracks in tracker:
        for track in tracks:
            rows.setdefault(id(track), (f"S{len(rows) + 1:04d}", track))
    elapsed = time.perf_counter() - start
    out = []
    from stonesoup.types.update import Update

    for name, track in rows.values():
        for state in track.states:
            if not isinstance(state, Update):  # report plots' updates only, as ours does
                continue
            record = _record_of(state.hypothesis)
            if record is None:
                continue
            sv = np.asarray(state.state_vector, float).ravel()
            out.append(((state.timestamp - epoch).total_seconds(), name, sv[0], sv[2], sv[1],
                        sv[3], record))
    frame = pd.DataFrame(out, columns=["time", "icao24", "x", "y", "vx", "vy", "record"])
    lat, lon = plane.to_latlon(frame["x"], frame["y"])
    frame["lat"], frame["lon"] = lat, lon
    frame["velocity"] = np.hypot(frame["vx"], frame["vy"])
    frame["heading"] = (np.degrees(np.arctan2(frame["vx"], frame["vy"]))
                        - plane.north_angle(lat, lon)) % 360
    return frame, elapsed


def _record_of(hypothesis: Any) -> int | None:
    """The plot record behind a Stone Soup update (the most probable of a mixture)."""
    if hasattr(hypothesis, "measurement"):
        meas = hypothesis.measurement
        return meas.metadata.get("record") if meas is not None and meas.metadata else None
    best, weight = None, -1.0
    for h in hypothesis:
        if h and float(h.probability) > weight:
            best, weight = h, float(h.probability)
    return None if best is None else best.measurement.metadata.get("record")


def run(json: bool = False, *, start_s: float = SLICE_START_S, length_s: float = SLICE_S,
        with_stonesoup: bool = True) -> dict[str, Any]:
    """Measure and return the benchmark record (the caller prints it).

    Ten minutes of the swarm keep the run to a few minutes: Stone Soup's cost grows
    with the product of tracks (tentative ones included) and plots per scan.
    """
    from skyfence.fusion.radar_stage import RadarStage
    from skyfence.tracking.association import JointProbabilistic
    from skyfence.tracking.tracker import Tracker

    gen, truth, plots, adsb = swarm_slice(start_s, length_s)
    sites = gen.sites
    scan_s = min(r.period_s for r in gen.scenario.radars)
    plane = LocalPlane.around([s.lat for s in sites], [s.lon for s in sites])
    scripted = {a.id for a in gen.scenario.aircraft}
    n = len(plots)
    results: dict[str, dict[str, Any]] = {}
    corrected = plots

    def ours(name: str, **parts: Any) -> None:
        nonlocal corrected
        elapsed = float("inf")
        states = pd.DataFrame()
        for _ in range(3):  # best of three: the first run also warms up pyproj and scipy
            stage = RadarStage(sites, scan_s=scan_s, tracker=Tracker(plane, sites, **parts))
            start = time.perf_counter()
            out = []
            for idx in _windows(plots, scan_s):
                t_end = float(np.floor(plots["time"].iloc[idx[-1]] / scan_s) * scan_s + scan_s)
                stage.add_reference(adsb[(adsb["time"] < t_end)
                                         & (adsb["time"] >= t_end - scan_s)])
                stage.add(plots.iloc[idx])
                out.append(stage.advance(t_end))
            out.append(stage.flush())
            elapsed = min(elapsed, time.perf_counter() - start)
            states = pd.concat(out, ignore_index=True)
        assert stage.registrar is not None
        corrected = stage.registrar.correct(plots)
        results[name] = _scores(states, truth, plots, scripted, scan_s, n / elapsed)

    ours("ours")
    ours("ours_jpda", associator=JointProbabilistic())
    ours("ours_cv", motion=ConstantVelocity(q=CV_Q))
    if with_stonesoup:
        for name, jpda in (("stonesoup", False), ("stonesoup_jpda", True)):
            ss, elapsed = stonesoup_tracks(corrected, plane, sites, scan_s, jpda=jpda)
            results[name] = _scores(ss, truth, plots, scripted, scan_s, n / elapsed)
    ours_rate = results["ours"]["per_s"]
    baselines = {k: v["per_s"] for k, v in results.items() if k != "ours"}
    return record(
        "track", ours_rate, baselines, n,
        unit="radar plots tracked per second",
        data=f"{SWARM}, {length_s:.0f} s from {start_s:.0f} s, two radars",
        clutter_plots=int(plots["target"].isna().sum()),
        **{key: {k: v[key] for k, v in results.items()}
           for key in ("rmse_m", "ospa_m", "tracks_per_target", "id_switches",
                       "false_tracks", "tracks")},
    )


def _scores(states: pd.DataFrame, truth: pd.DataFrame, plots: pd.DataFrame,
            scripted: set[str], scan_s: float, per_s: float) -> dict[str, Any]:
    from skyfence.scenarios.tracking_score import mean_visible_ospa, tracking_score

    ts = tracking_score(states, plots, truth, scripted, scan_s,
                        float(truth["time"].max() - truth["time"].min()))
    visible = truth[truth["target"].isin(set(plots["target"].dropna()))]
    score = score_tracks(states[["time", "icao24", "lat", "lon"]], visible)
    return {
        "per_s": per_s,
        "rmse_m": round(score.rmse_m, 1),
        "ospa_m": _r(mean_visible_ospa(states, truth, plots, scan_s)),
        "tracks_per_target": ts["tracks_per_target"] or 0.0,
        "id_switches": ts["id_switches"],
        "false_tracks": round(ts["false_tracks_per_h"]
                              * float(truth["time"].max() - truth["time"].min()) / 3600.0),
        "tracks": int(states["icao24"].nunique()),
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 1)
