"""Radar plots from truth trajectories: the ground truth for tracker tests and scenarios.

Each radar turns with a fixed period; a target is seen when the beam passes its
azimuth, with probability ``p_detect``, its slant range and azimuth blurred by Gaussian
noise, then located exactly as a real plot extractor would (:func:`polar_to_geodetic`).
Clutter is spread uniformly over the covered disc, a Poisson number per scan.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from skyfence.radar import FT, RadarSite, geodetic_to_polar, polar_to_geodetic
from skyfence.sources.asterix import PLOT_COLUMNS

TRUTH_COLUMNS = ("time", "target", "lat", "lon", "altitude")


def _interp_target(t: np.ndarray, g: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Truth of one target at times ``t`` (linear in lat, unwrapped lon, altitude)."""
    tt = g["time"].to_numpy(float)
    lon = np.degrees(np.unwrap(np.radians(g["lon"].to_numpy(float))))
    lat = np.interp(t, tt, g["lat"].to_numpy(float))
    lo = (np.interp(t, tt, lon) + 180.0) % 360.0 - 180.0
    alt = np.interp(t, tt, g["altitude"].to_numpy(float))
    return lat, lo, alt


def simulate_plots(
    truth: pd.DataFrame,
    sites: Sequence[RadarSite],
    *,
    period_s: float = 4.0,
    sigma_range_m: float = 50.0,
    sigma_azimuth_deg: float = 0.08,
    p_detect: float = 0.9,
    clutter_per_scan: float = 0.0,
    max_range_m: float = 250_000.0,
    sigma_height_m: float | None = None,
    seed: int = 0,
    bias_range_m: float = 0.0,
    bias_azimuth_deg: float = 0.0,
) -> pd.DataFrame:
    """Plots that ``sites`` would report for ``truth``.

    Parameters
    ----------
    truth
        One row per truth sample: ``time`` (unix s), ``target`` (id), ``lat``, ``lon``,
        ``altitude`` (m). Sample densely enough (every few seconds) for linear
        interpolation to follow turns. Optional columns: ``transponder`` (bool; when
        true the plot carries the Mode C altitude in 25 ft steps and the target's
        ``icao24`` / ``squawk`` columns if present; default false: primary only).
    sites
        The radars; each starts its rotation at a random phase.
    sigma_height_m
        Height noise of a 3D primary radar; None: primary plots carry no height.
    bias_range_m, bias_azimuth_deg
        A systematic error of the radars (a misaligned antenna, a range offset): added to
        every target plot's measured range and azimuth before it is located, so its
        position is off as a real unregistered radar's would be.

    Returns
    -------
    A plot batch (:data:`~skyfence.sources.asterix.PLOT_COLUMNS`) sorted by time, plus
    ``target`` (the truth id, None for clutter).
    """
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise ValueError(f"truth needs columns {missing}")
    rng = np.random.default_rng(seed)
    truth = truth.sort_values(["target", "time"], kind="stable")
    t0, t1 = float(truth["time"].min()), float(truth["time"].max())
    frames: list[pd.DataFrame] = []
    for site in sites:
        phase = rng.uniform(0.0, period_s)
        scans = t0 + phase + period_s * np.arange(int(np.ceil((t1 - t0) / period_s)) + 1)
        for target, g in truth.groupby("target", sort=True):
            frames.append(_target_plots(
                g, target, site, scans, period_s, sigma_range_m, sigma_azimuth_deg,
                p_detect, max_range_m, sigma_height_m, rng, bias_range_m, bias_azimuth_deg))
        if clutter_per_scan > 0:
            frames.append(_clutter(site, scans, period_s, clutter_per_scan, max_range_m,
                                   sigma_range_m, sigma_azimuth_deg, rng))
    frames = [f for f in frames if len(f)]
    plots = pd.concat(frames, ignore_index=True) if frames else None
    if plots is None:
        out = pd.DataFrame({c: pd.Series(dtype=t) for c, t in PLOT_COLUMNS.items()})
        out["target"] = pd.Series(dtype=object)
        return out
    plots = plots.sort_values("time", kind="stable").reset_index(drop=True)
    plots["record"] = np.arange(1, len(plots) + 1)
    return plots.astype({**PLOT_COLUMNS, "target": "object"})


def _target_plots(
    g: pd.DataFrame, target: object, site: RadarSite, scans: np.ndarray, period_s: float,
    sigma_range_m: float, sigma_azimuth_deg: float, p_detect: float, max_range_m: float,
    sigma_height_m: float | None, rng: np.random.Generator, bias_range_m: float = 0.0,
    bias_azimuth_deg: float = 0.0,
) -> pd.DataFrame:
    tt = g["time"].to_numpy(float)
    scans = scans[(scans >= tt[0] - period_s) & (scans <= tt[-1])]
    lat, lon, alt = _interp_target(np.clip(scans, tt[0], tt[-1]), g)
    _, az, _ = geodetic_to_polar(site, lat, lon, alt)
    t = scans + az / 360.0 * period_s  # the beam reaches the target's azimuth
    inside = (t >= tt[0]) & (t <= tt[-1])
    t = t[inside]
    lat, lon, alt = _interp_target(t, g)
    rho, az, el = geodetic_to_polar(site, lat, lon, alt)
    seen = (rho <= max_range_m) & (el >= -1.0) & (rng.random(t.size) < p_detect)
    n = int(seen.sum())
    rho_m = rho[seen] + bias_range_m + rng.normal(0.0, sigma_range_m, n)
    az_m = (az[seen] + bias_azimuth_deg + rng.normal(0.0, sigma_azimuth_deg, n)) % 360.0
    transponder = bool(g["transponder"].iloc[0]) if "transponder" in g else False
    if transponder:
        height = np.round(alt[seen] / (25 * FT)) * 25 * FT
    elif sigma_height_m is not None:
        height = alt[seen] + rng.normal(0.0, sigma_height_m, n)
    else:
        height = np.full(n, np.nan)
    plat, plon, _, _ = polar_to_geodetic(site, rho_m, az_m, height)

    def tag(col: str) -> np.ndarray:
        value = g[col].iloc[0] if transponder and col in g else None
        return np.full(n, value, dtype=object)

    return pd.DataFrame({
        "time": t[seen], "sac": site.sac, "sic": site.sic, "lat": plat, "lon": plon,
        "altitude": height, "range_m": rho_m, "azimuth_deg": az_m,
        "icao24": tag("icao24"), "squawk": tag("squawk"), "callsign": tag("callsign"),
        "sigma_range_m": sigma_range_m, "sigma_azimuth_deg": sigma_azimuth_deg,
        "record": 0, "target": np.full(n, target, dtype=object),
    })


def _clutter(
    site: RadarSite, scans: np.ndarray, period_s: float, per_scan: float, max_range_m: float,
    sigma_range_m: float, sigma_azimuth_deg: float, rng: np.random.Generator,
) -> pd.DataFrame:
    counts = rng.poisson(per_scan, scans.size)
    n = int(counts.sum())
    rho = max_range_m * np.sqrt(rng.random(n))  # uniform over the disc's area
    az = rng.uniform(0.0, 360.0, n)
    t = np.repeat(scans, counts) + az / 360.0 * period_s
    lat, lon, _, _ = polar_to_geodetic(site, rho, az, None)
    none = np.full(n, None, dtype=object)
    return pd.DataFrame({
        "time": t, "sac": site.sac, "sic": site.sic, "lat": lat, "lon": lon,
        "altitude": np.nan, "range_m": rho, "azimuth_deg": az, "icao24": none,
        "squawk": none, "callsign": none, "sigma_range_m": sigma_range_m,
        "sigma_azimuth_deg": sigma_azimuth_deg, "record": 0, "target": none,
    })


def straight_truth(
    target: str, lat0: float, lon0: float, heading_deg: float, speed_m_s: float,
    altitude_m: float, t0: float, duration_s: float, step_s: float = 1.0,
) -> pd.DataFrame:
    """A straight, level flight along the geodesic from (lat0, lon0) at constant speed."""
    from pyproj import Geod

    t = t0 + np.arange(0.0, duration_s + 1e-9, step_s)
    lon, lat, _ = Geod(ellps="WGS84").fwd(
        np.full(t.size, lon0), np.full(t.size, lat0), np.full(t.size, heading_deg),
        speed_m_s * (t - t0))
    return pd.DataFrame({"time": t, "target": target, "lat": lat, "lon": lon,
                         "altitude": altitude_m})


def turning_truth(
    target: str, lat0: float, lon0: float, heading_deg: float, speed_m_s: float,
    altitude_m: float, t0: float, legs: Sequence[tuple[float, float]], step_s: float = 1.0,
) -> pd.DataFrame:
    """A level flight of legs ``(duration_s, turn_rate_deg_s)``: straight when the rate is 0."""
    from pyproj import Geod

    rates = np.concatenate([np.full(round(d / step_s), r) for d, r in legs])
    headings = heading_deg + np.concatenate([[0.0], np.cumsum(rates * step_s)])
    geod = Geod(ellps="WGS84")
    lat, lon = [lat0], [lon0]
    for h in headings[:-1]:  # one step per sample: a path, not a hot loop
        x, y, _ = geod.fwd(lon[-1], lat[-1], h, speed_m_s * step_s)
        lon.append(x)
        lat.append(y)
    t = t0 + step_s * np.arange(len(lat))
    return pd.DataFrame({"time": t, "target": target, "lat": lat, "lon": lon,
                         "altitude": altitude_m})
