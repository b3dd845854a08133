"""How well the radar tracker held the scenario's targets: fragmentation, swaps, OSPA.

Every confirmed radar track state carries the ``record`` of the plot that updated it,
and the simulator knows the truth target behind each plot (None for clutter), so each
state is labelled with a target without any distance threshold. From those labels:

- a track **follows** the target that most of its labelled states come from; a track
  whose states are mostly clutter is a **false track**;
- ``tracks_per_target``: over the scripted targets the radars saw (at least one track
  follows them), the mean number of tracks that follow each one. 1.0 means every target
  was held as one track from first to last plot; a drone that breaks into four tracks
  adds three;
- ``id_switches``: times a track's updating plot changes from one truth target to
  another (clutter plots skipped): a track that jumps from one drone to its neighbour
  (a swap, or a seduction by a crossing target) counts one per jump;
- ``ospa_m``: mean OSPA distance (cut-off 1 km, order 2) every scan period between the
  confirmed tracks' positions and the truth targets the radars could see then (those
  with a plot within two periods), see :func:`skyfence.tracking.metrics.ospa`;
- ``false_tracks_per_h``: false tracks per hour of scenario.

The figures are about the tracker alone; what the incident layer made of the tracks is
scored by :mod:`skyfence.scenarios.evaluate`.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

from skyfence.radar import LocalPlane
from skyfence.tracking.metrics import ospa

__all__ = ["TrackingScore", "label_states", "tracking_score"]

#: OSPA cut-off (m) and order
OSPA_C_M = 1000.0
OSPA_P = 2.0


class TrackingScore(TypedDict):
    """The tracker's figures of one scenario run (see the module docstring)."""

    tracks_per_target: float | None
    id_switches: int
    ospa_m: float | None
    false_tracks_per_h: float
    #: tracks following each scripted target, for the report (target -> track ids)
    fragments: dict[str, list[str]]


def label_states(states: pd.DataFrame, plots: pd.DataFrame) -> np.ndarray:
    """The truth target of the plot behind each track state (None: clutter or unknown).

    ``states`` has ``record`` (the updating plot's record number, NaN for a track's
    first, unassociated state); ``plots`` has ``record`` and ``target``.
    """
    out = np.full(len(states), None, dtype=object)
    if len(states) == 0 or len(plots) == 0 or "record" not in states:
        return out
    target_of = pd.Series(plots["target"].to_numpy(object), index=plots["record"].to_numpy())
    rec = pd.to_numeric(states["record"], errors="coerce").to_numpy(np.float64)
    known = np.isfinite(rec)
    found = target_of.reindex(rec[known].astype(np.int64)).to_numpy(object)
    out[known] = [None if pd.isna(v) else v for v in found]
    return out


def _followed(track: np.ndarray, target: np.ndarray, updated: np.ndarray
              ) -> dict[str, object | None]:
    """Track id -> the target most of its plot-updated states come from (None: clutter)."""
    frame = pd.DataFrame({"track": track[updated],
                          "target": pd.Series(target[updated], dtype=object).fillna("")})
    counts = frame.groupby(["track", "target"]).size().reset_index(name="n")
    counts = counts.sort_values(["track", "n", "target"], ascending=[True, False, True])
    best = counts.drop_duplicates("track")
    return {str(k): (v or None) for k, v in zip(best["track"], best["target"], strict=True)}


def _switches(track: np.ndarray, target: np.ndarray, time: np.ndarray) -> int:
    """Changes of truth target between consecutive labelled updates of each track."""
    lab = np.array([t is not None for t in target])
    if not lab.any():
        return 0
    frame = pd.DataFrame({"track": track[lab], "target": target[lab], "time": time[lab]})
    frame = frame.sort_values(["track", "time"], kind="stable")
    same_track = frame["track"].to_numpy(object)[1:] == frame["track"].to_numpy(object)[:-1]
    changed = frame["target"].to_numpy(object)[1:] != frame["target"].to_numpy(object)[:-1]
    return int((same_track & changed).sum())


def mean_visible_ospa(states: pd.DataFrame, truth: pd.DataFrame, plots: pd.DataFrame,
                      period_s: float, *, c: float = OSPA_C_M, p: float = OSPA_P) -> float | None:
    """Mean OSPA every ``period_s`` between track positions and the visible targets.

    A target is visible at ``t`` when one of its plots lies within two periods of
    ``t``; a track counts at ``t`` when its latest state is at most 2.5 periods old,
    moved to ``t`` with its velocity.
    """
    seen = plots[plots["target"].notna()]
    if len(seen) == 0 and len(states) == 0:
        return None
    plane = LocalPlane.around(truth["lat"], truth["lon"])
    t0 = float(min(seen["time"].min() if len(seen) else np.inf,
                   states["time"].min() if len(states) else np.inf))
    t1 = float(max(seen["time"].max() if len(seen) else -np.inf,
                   states["time"].max() if len(states) else -np.inf))
    times = np.arange(t0 + period_s, t1, period_s)
    if times.size == 0:
        return None
    # visible targets per time: a plot within two periods
    pt = seen["time"].to_numpy(np.float64)
    ptg = seen["target"].to_numpy(object)
    truth = truth.sort_values(["target", "time"], kind="stable")
    tx_all, ty_all = plane.to_xy(truth["lat"].to_numpy(float), truth["lon"].to_numpy(float))
    groups = truth.groupby("target", sort=False).indices
    tt_all = truth["time"].to_numpy(np.float64)
    # track states
    st = states.sort_values("time", kind="stable")
    sx, sy = plane.to_xy(st["lat"].to_numpy(float), st["lon"].to_numpy(float))
    north = plane.north_angle(st["lat"].to_numpy(float), st["lon"].to_numpy(float))
    hdg = np.radians(st["heading"].to_numpy(float) + north)
    v = np.nan_to_num(st["velocity"].to_numpy(float))
    svx, svy = v * np.sin(np.nan_to_num(hdg)), v * np.cos(np.nan_to_num(hdg))
    stt = st["time"].to_numpy(np.float64)
    sid = st["icao24"].to_numpy(object)
    max_age = 2.5 * period_s
    order_p = np.argsort(pt, kind="stable")
    pt, ptg = pt[order_p], ptg[order_p]
    values = np.empty(times.size)
    for k, t in enumerate(times):  # one step per scan period, vectorized inside
        lo, hi = np.searchsorted(pt, [t - 2 * period_s, t + 2 * period_s])
        visible = pd.unique(ptg[lo:hi])
        gt = []
        for target in visible:
            idx = groups.get(target)
            if idx is None:
                continue
            tt = tt_all[idx]
            if tt[0] <= t <= tt[-1]:
                gt.append((np.interp(t, tt, tx_all[idx]), np.interp(t, tt, ty_all[idx])))
        a, b = np.searchsorted(stt, [t - max_age, t], side="right")
        idx = np.arange(a, b)
        if idx.size:
            _, last = np.unique(sid[idx][::-1], return_index=True)
            idx = idx[::-1][last]
        dt = t - stt[idx]
        est = np.column_stack([sx[idx] + svx[idx] * dt, sy[idx] + svy[idx] * dt])
        values[k] = ospa(est, np.asarray(gt, dtype=float).reshape(-1, 2), c=c, p=p)
    return float(values.mean())


def tracking_score(states: pd.DataFrame, plots: pd.DataFrame, truth: pd.DataFrame,
                   scripted: set[str], period_s: float, duration_s: float) -> TrackingScore:
    """The tracker's figures for confirmed radar track ``states`` (observation columns,
    ``icao24`` the track id, ``record`` the updating plot) against ``plots`` (with
    ``record`` and ``target``) and ``truth`` (``time, target, lat, lon``).

    ``scripted`` are the targets fragmentation is counted on; ``duration_s`` the length
    of the scenario, for the false-track rate.
    """
    track = states["icao24"].to_numpy(object)
    target = label_states(states, plots)
    updated = (pd.to_numeric(states["record"], errors="coerce").notna().to_numpy()
               if "record" in states else np.zeros(len(states), bool))
    follows = _followed(track, target, updated)
    fragments: dict[str, list[str]] = {}
    for tr, tg in sorted(follows.items()):
        if tg is not None and str(tg) in scripted:
            fragments.setdefault(str(tg), []).append(tr)
    n_false = sum(1 for tg in follows.values() if tg is None)
    per = [len(v) for v in fragments.values()]
    return TrackingScore(
        tracks_per_target=round(float(np.mean(per)), 3) if per else None,
        id_switches=_switches(track, target, states["time"].to_numpy(np.float64)),
        ospa_m=_round(mean_visible_ospa(states, truth, plots, period_s)),
        false_tracks_per_h=round(n_false / max(duration_s / 3600.0, 1e-9), 3),
        fragments=fragments,
    )


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)
