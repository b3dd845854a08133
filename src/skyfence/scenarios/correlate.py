"""Radar tracks against transponder tracks: which radar fixes are a cooperative aircraft.

A radar sees every aircraft, with or without a transponder; ADS-B reports only those
that have one. A radar track that follows an ADS-B track is the same aircraft and must
not be screened a second time as a non-cooperative target.

The rule, simple on purpose: for a radar track and an ADS-B track, the ADS-B position is
interpolated at every radar fix time inside the ADS-B track's span (common times), and
the distance between them is averaged over a sliding window of ``window_s`` centred on
each fix. A radar fix whose windowed mean distance is below ``gate_m`` (with at least
``min_common`` common fixes in the window) belongs to that ADS-B aircraft and is dropped;
the ADS-B track speaks for it. The rest of the radar track stays non-cooperative. The
first fix of a radar track is left out of the average (it still gets the decision of its
window): it is the raw plot the track was started from, and when that plot was clutter
it can lie kilometres away from the aircraft the track then follows.

Working per window rather than per whole track keeps two cases right: a transponder
that goes silent (the radar fixes after the last ADS-B message have no common time
and stay, so the target is screened again as non-cooperative: "went dark") and a track
swap between two crossing aircraft. A target that flies within ``gate_m`` of a
transponder aircraft for a whole window (hiding under an airliner) would be taken for
it: this rule cannot see that case, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from skyfence.radar import LocalPlane


@dataclass(frozen=True)
class CorrelationConfig:
    """Gates of the radar to ADS-B correlation."""

    #: mean distance below which a radar fix is the ADS-B aircraft (m)
    gate_m: float = 1500.0
    #: length of the averaging window around each radar fix (s)
    window_s: float = 60.0
    #: fewest common fixes in a window for a decision
    min_common: int = 2
    #: how far beyond an ADS-B track's first and last message it may speak (s)
    margin_s: float = 10.0


@dataclass
class Correlation:
    """Which radar fixes were matched to which transponder track."""

    #: True for radar rows that belong to a transponder aircraft
    cooperative: np.ndarray
    #: per radar row, the ICAO address it was matched to (None when not matched)
    matched_icao: np.ndarray
    #: (radar track, icao24) -> number of matched fixes
    pairs: dict[tuple[str, str], int]


def correlate(radar: pd.DataFrame, adsb: pd.DataFrame,
              config: CorrelationConfig | None = None) -> Correlation:
    """Match radar track fixes (``icao24`` = track id) to ADS-B tracks (``icao24`` hex)."""
    cfg = config or CorrelationConfig()
    n = len(radar)
    coop = np.zeros(n, bool)
    matched = np.full(n, None, dtype=object)
    best = np.full(n, np.inf)
    pairs: dict[tuple[str, str], int] = {}
    if n == 0 or len(adsb) == 0:
        return Correlation(coop, matched, pairs)
    plane = LocalPlane.around(radar["lat"], radar["lon"])
    rx, ry = plane.to_xy(radar["lat"].to_numpy(float), radar["lon"].to_numpy(float))
    rt = radar["time"].to_numpy(float)
    rtrack = radar["icao24"].to_numpy(object)
    order = np.lexsort((rt, rtrack))  # rows grouped by track, in time
    first = np.zeros(n, bool)
    starts = np.flatnonzero(np.r_[True, rtrack[order][1:] != rtrack[order][:-1]])
    first[order[starts]] = True
    ax, ay = plane.to_xy(adsb["lat"].to_numpy(float), adsb["lon"].to_numpy(float))
    at = adsb["time"].to_numpy(float)
    for icao, found in adsb.groupby("icao24", sort=True).indices.items():
        idx = np.asarray(found)
        idx = idx[np.argsort(at[idx], kind="stable")]
        t, x, y = at[idx], ax[idx], ay[idx]
        rows = order[(rt[order] >= t[0] - cfg.margin_s) & (rt[order] <= t[-1] + cfg.margin_s)]
        if rows.size == 0:
            continue
        d = np.hypot(rx[rows] - np.interp(rt[rows], t, x), ry[rows] - np.interp(rt[rows], t, y))
        near_tracks = np.unique(rtrack[rows][d < 3 * cfg.gate_m])
        if near_tracks.size == 0:
            continue
        keep = np.isin(rtrack[rows], near_tracks)
        rows, d = rows[keep], d[keep]
        mean, count = _window_mean(rtrack[rows], rt[rows], d, ~first[rows], cfg.window_s)
        ok = (mean < cfg.gate_m) & (count >= cfg.min_common) & (mean < best[rows])
        hit = rows[ok]
        coop[hit] = True
        matched[hit] = icao
        best[hit] = mean[ok]
        for trk, k in zip(*np.unique(rtrack[hit], return_counts=True), strict=True):
            pairs[(str(trk), str(icao))] = int(k)
    return Correlation(coop, matched, pairs)


def _window_mean(track: np.ndarray, t: np.ndarray, d: np.ndarray, use: np.ndarray,
                 window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``d`` over the ``use`` fixes of the same track within ``window_s / 2`` of
    each fix, and how many there were.

    Rows must be grouped by track and time-ordered within a track.
    """
    key = pd.factorize(track)[0].astype(float)
    # a composite, monotonic key: tracks far apart in "time" so windows never mix them
    span = float(t.max() - t.min()) + 10 * window_s + 1.0
    s = key * span + (t - t.min())
    lo = np.searchsorted(s, s - window_s / 2, side="left")
    hi = np.searchsorted(s, s + window_s / 2, side="right")
    c = np.concatenate([[0.0], np.cumsum(np.where(use, d, 0.0))])
    k = np.concatenate([[0], np.cumsum(use)])
    count = k[hi] - k[lo]
    return (c[hi] - c[lo]) / np.maximum(count, 1), count
