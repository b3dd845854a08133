"""Decoded ASTERIX columns as batches: unix times, plot batches, observation batches.

ASTERIX carries the time of day only. The UTC date of the first record comes from the
caller (``--date``), or from the capture time of a pcap packet (or the receive time on
UDP); later records that jump back by more than half a day have passed midnight.
CAT048 plots are polar measurements from a radar: they become WGS84 positions from the
radar's site (:func:`skyfence.radar.polar_to_geodetic`), all plots of a radar at once.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from skyfence.errors import UsageError
from skyfence.model import PLOT_COLUMNS, empty_plots, make_observations
from skyfence.radar import RadarSite, polar_to_geodetic
from skyfence.sources.asterix.records import RecordColumns
from skyfence.vocab import DAY_S

__all__ = ["plot_batch", "track_batch", "unix_times"]


def unix_times(cols: RecordColumns, date: dt.date | None) -> np.ndarray:
    """Unix seconds of every record: day from ``date`` or capture time, unwrapped.

    A record whose time of day jumps back by more than half a day has passed midnight.

    >>> from skyfence.errors import ErrorPolicy
    >>> cols = RecordColumns("x.ast", ErrorPolicy())
    >>> cols.tod = [86390.0, 5.0]
    >>> unix_times(cols, dt.date(1970, 1, 1)).tolist()
    [86390.0, 86405.0]
    """
    tod = np.asarray(cols.tod, float)
    if tod.size == 0:
        return tod
    seconds = np.unwrap(tod, period=DAY_S)  # +1 day at each backward jump > 12 h
    if date is not None:
        midnight = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
        return midnight.timestamp() + seconds
    cap = np.asarray(cols.capture, float)
    have = np.flatnonzero(np.isfinite(cap))
    if have.size == 0:
        raise UsageError(
            f"{cols.source}: ASTERIX carries only the time of day; give the UTC date "
            "of the first record (--date YYYY-MM-DD)"
        )
    k = have[0]  # the midnight that puts this record closest to its capture time
    base = np.round((cap[k] - seconds[k]) / DAY_S) * DAY_S
    return base + seconds


def plot_batch(
    cols: RecordColumns,
    times: np.ndarray,
    sites: dict[tuple[int, int], RadarSite],
    default_height_m: float | None,
) -> pd.DataFrame:
    """The CAT048 plots as a plot batch (:data:`~skyfence.model.PLOT_COLUMNS`): polar
    measurements turned into WGS84 positions from each radar's site, with its noise.

    Plots of a radar without a configured site cannot be located: they are rejected
    (one error per radar, counting all its plots).
    """
    p = cols.p
    if not p["i"]:
        return empty_plots()
    sac, sic = np.asarray(p["sac"], np.int64), np.asarray(p["sic"], np.int64)
    idx = np.flatnonzero(_located(cols, sac, sic, sites))
    rho = np.asarray(p["rho"], float)[idx]
    theta = np.asarray(p["theta"], float)[idx]
    height = np.asarray(p["height"], float)[idx]
    if default_height_m is not None:
        height = np.where(np.isfinite(height), height, default_height_m)
    lat, lon = np.empty(idx.size), np.empty(idx.size)
    srange, saz = np.empty(idx.size), np.empty(idx.size)
    for key in sorted(set(zip(sac[idx].tolist(), sic[idx].tolist(), strict=True))):
        site = sites[key]
        m = (sac[idx] == key[0]) & (sic[idx] == key[1])
        la, lo, _, _ = polar_to_geodetic(site, rho[m], theta[m], height[m])
        lat[m], lon[m] = la, lo
        srange[m], saz[m] = site.sigma_range_m, site.sigma_azimuth_deg
    obj = {k: np.asarray(p[k], dtype=object)[idx] for k in ("icao24", "squawk", "callsign")}
    altitude = np.asarray(p["height"], float)[idx]
    frame = pd.DataFrame(
        {
            "time": times[np.asarray(p["i"], np.int64)[idx]],
            "sac": sac[idx],
            "sic": sic[idx],
            "lat": lat,
            "lon": lon,
            "altitude": altitude,
            "range_m": rho,
            "azimuth_deg": theta,
            **obj,
            "sigma_range_m": srange,
            "sigma_azimuth_deg": saz,
            "record": np.asarray(p["record"], np.int64)[idx],
        }
    )
    return frame.astype(PLOT_COLUMNS)


def track_batch(cols: RecordColumns, times: np.ndarray) -> pd.DataFrame:
    """The CAT062 system tracks as an observation batch (they are tracks already)."""
    t = cols.t
    vx = np.array([np.nan if v is None else v for v in t["vx"]], float)
    vy = np.array([np.nan if v is None else v for v in t["vy"]], float)
    return make_observations(
        time=times[np.asarray(t["i"], np.int64)] if t["i"] else np.empty(0),
        icao24=t["id"],
        lat=t["lat"],
        lon=t["lon"],
        altitude=t["alt"],
        velocity=np.hypot(vx, vy),
        heading=np.degrees(np.arctan2(vx, vy)) % 360.0,
        vertrate=t["roc"],
        callsign=t["callsign"],
        squawk=t["squawk"],
    )


def _located(
    cols: RecordColumns, sac: np.ndarray, sic: np.ndarray,
    sites: dict[tuple[int, int], RadarSite],
) -> np.ndarray:
    """Mask of the plots whose radar has a site; the others are rejected, per radar."""
    keep = np.ones(sac.size, bool)
    for key in sorted(set(zip(sac.tolist(), sic.tolist(), strict=True))):
        if key not in sites:
            rows = np.flatnonzero((sac == key[0]) & (sic == key[1]))
            cols.fail(
                f"no radar site configured for SAC/SIC {key[0]}/{key[1]} "
                f"({rows.size} plots); give --radar {key[0]}:{key[1]}:LAT,LON[,ALT_M]",
                "I010",
                int(np.asarray(cols.p["record"])[rows[0]]),
                count=int(rows.size),
            )
            keep[rows] = False
    return keep
