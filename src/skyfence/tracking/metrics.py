"""How good are tracks against ground truth: position RMSE, OSPA, track-to-truth matching.

Truth is a frame of ``time, target, lat, lon`` (as for the simulator); tracks are an
observation batch (``time, icao24, lat, lon``). Distances are horizontal, measured in a
:class:`~skyfence.radar.LocalPlane` around the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from skyfence.radar import LocalPlane


def truth_xy(truth: pd.DataFrame, plane: LocalPlane, target: object,
             times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plane position of one target at ``times``; ``alive`` marks times within its truth."""
    g = truth[truth["target"] == target].sort_values("time")
    tt = g["time"].to_numpy(float)
    x, y = plane.to_xy(g["lat"].to_numpy(float), g["lon"].to_numpy(float))
    alive = (times >= tt[0]) & (times <= tt[-1])
    return np.interp(times, tt, x), np.interp(times, tt, y), alive


@dataclass
class TrackScore:
    """Accuracy of a set of tracks against truth."""

    rmse_m: float  # position RMSE over every state of every matched track
    matched: dict[str, object]  # track id -> truth target
    states: int  # states scored
    unmatched_tracks: int  # tracks following no target (false tracks)


def score_tracks(tracks: pd.DataFrame, truth: pd.DataFrame, *, max_error_m: float = 2000.0
                 ) -> TrackScore:
    """Match each track to the truth target it follows (median distance at most
    ``max_error_m``) and compute the position RMSE of matched tracks."""
    plane = LocalPlane.around(truth["lat"], truth["lon"])
    targets = list(pd.unique(truth["target"]))
    matched: dict[str, object] = {}
    sq: list[np.ndarray] = []
    false_tracks = 0
    for tid, g in tracks.groupby("icao24", sort=True):
        t = g["time"].to_numpy(float)
        x, y = plane.to_xy(g["lat"].to_numpy(float), g["lon"].to_numpy(float))
        best, best_err, best_d = None, np.inf, np.empty(0)
        for target in targets:
            tx, ty, alive = truth_xy(truth, plane, target, t)
            if not alive.any():
                continue
            d = np.where(alive, np.hypot(x - tx, y - ty), np.inf)
            err = float(np.median(d))
            if err < best_err:
                best, best_err, best_d = target, err, d[alive]
        if best is None or best_err > max_error_m:
            false_tracks += 1
            continue
        matched[str(tid)] = best
        sq.append(best_d**2)
    allsq = np.concatenate(sq) if sq else np.empty(0)
    rmse = float(np.sqrt(allsq.mean())) if allsq.size else float("nan")
    return TrackScore(rmse_m=rmse, matched=matched, states=int(allsq.size),
                      unmatched_tracks=false_tracks)


def ospa(a: np.ndarray, b: np.ndarray, *, c: float = 1000.0, p: float = 2.0) -> float:
    """OSPA distance between two point sets (k, 2) and (m, 2): cut-off ``c``, order ``p``."""
    n, m = len(a), len(b)
    if n == 0 and m == 0:
        return 0.0
    if n == 0 or m == 0:
        return c
    d = np.minimum(np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1]), c)
    rows, cols = linear_sum_assignment(d**p)
    total = (d[rows, cols] ** p).sum() + c**p * abs(n - m)
    return float((total / max(n, m)) ** (1 / p))

