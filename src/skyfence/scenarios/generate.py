"""From a scenario to data: truth trajectories, ground truth, radar plots, ADS-B.

Everything is seeded from the scenario's ``seed``: the same file gives the same plots,
observations and ground truth on every run.

Ground truth entries are computed from the noise-free truth paths and the zone polygons
by geometry alone (:mod:`skyfence.scenarios.truth`: GEOS point-in-polygon, bisection on
the path, pyproj distances to the boundary), never by the detector being scored:
scripted aircraft sampled every second along their geodesic legs, background flights at
their recorded fixes (between which the truth *is* the straight line the contract
interpolates).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Geod

from skyfence.airspace.zones import Zone, circle_zone, resolve_zones
from skyfence.model import Entry, make_observations
from skyfence.radar import RadarSite
from skyfence.scenarios.background import background_truth
from skyfence.scenarios.spec import Aircraft, Scenario
from skyfence.scenarios.truth import truth_entries as geometric_truth_entries
from skyfence.tracking.simulate import simulate_plots

GEOD = Geod(ellps="WGS84")
#: truth sampling of scripted aircraft (s)
TRUTH_STEP_S = 1.0


@dataclass
class Generated:
    """What a scenario produces before any processing."""

    scenario: Scenario
    zones: list[Zone]
    #: every truth sample: time, target, lat, lon, altitude, icao24, callsign, kind
    truth: pd.DataFrame
    #: target -> ("scripted" | "background", Aircraft or None)
    targets: dict[str, Aircraft | None]
    #: entries of the noise-free truth (``track`` is the target id), from geometry alone
    truth_entries: list[Entry]
    plots: pd.DataFrame
    adsb: pd.DataFrame
    sites: list[RadarSite]
    background_dropped: int = 0

    @property
    def end(self) -> float:
        """Last truth time (unix s)."""
        return float(self.truth["time"].max())


#: lateral acceleration (m/s^2) of the turns that round a route's corners: about 0.8 g
TURN_ACCEL_MS2 = 7.85


def round_corners(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, alt: np.ndarray,
                  speed_ms: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A path sampled evenly in time with its corners flown as turns.

    Waypoint legs meet at corners that no aircraft can fly at speed (an F-16 at 140 m/s
    reversing its heading in one second). A moving average of the positions over
    ``W = pi v / (2 a)`` seconds turns a right-angle corner at speed ``v`` into a turn
    of about lateral acceleration ``a`` (:data:`TURN_ACCEL_MS2`), while straight legs
    at constant speed (linear in time) stay exactly as they are, ends included (the
    path is extended past them as a straight line). A drone at 12 m/s is averaged over
    2 s: its corners and hovers keep their place within metres.
    """
    if t.size < 3:
        return lat, lon, alt
    step = float(np.median(np.diff(t)))
    half = round(float(np.pi * speed_ms / (2 * TURN_ACCEL_MS2) / step / 2))
    if half < 1 or t.size < 2 * half + 1:
        return lat, lon, alt
    kernel = np.full(2 * half + 1, 1.0 / (2 * half + 1))

    def smooth(x: np.ndarray) -> np.ndarray:
        head = 2 * x[0] - x[half:0:-1]  # odd reflection: a straight line goes on
        tail = 2 * x[-1] - x[-2:-half - 2:-1]
        return np.convolve(np.concatenate([head, x, tail]), kernel, mode="valid")

    lon_u = np.degrees(np.unwrap(np.radians(lon)))
    lo = (smooth(lon_u) + 180.0) % 360.0 - 180.0
    return smooth(lat), lo, smooth(alt)


def aircraft_truth(ac: Aircraft, start: float, step_s: float = TRUTH_STEP_S) -> pd.DataFrame:
    """Truth of one scripted aircraft every ``step_s`` along its geodesic legs, its
    corners flown as turns (:func:`round_corners`)."""
    lat = np.array([w.lat for w in ac.waypoints])
    lon = np.array([w.lon for w in ac.waypoints])
    alt = np.array([w.alt_m for w in ac.waypoints], dtype=float)
    az, _, dist = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    az, dist = np.atleast_1d(az), np.atleast_1d(dist)
    times = [float(ac.waypoints[0].time or 0.0)]
    for i, w in enumerate(ac.waypoints[1:]):
        if w.time is not None:
            times.append(float(w.time))
        else:
            assert w.speed_ms is not None
            times.append(times[-1] + (dist[i] / w.speed_ms if w.speed_ms > 0 else 0.0))
    tw = np.array(times)
    t = np.arange(tw[0], tw[-1], step_s)
    t = np.append(t, tw[-1])
    k = np.clip(np.searchsorted(tw, t, side="right") - 1, 0, len(dist) - 1)
    span = tw[k + 1] - tw[k]
    f = np.clip(np.divide(t - tw[k], span, out=np.ones_like(t), where=span > 0), 0.0, 1.0)
    lo, la, _ = GEOD.fwd(lon[k], lat[k], az[k], f * dist[k])
    legs = np.diff(tw)
    speed = float(np.max(np.where(legs > 0, dist / np.where(legs > 0, legs, 1.0), 0.0)))
    height = alt[k] + f * (alt[k + 1] - alt[k])
    even = slice(0, -1)  # the last sample (the last waypoint) may be off the step
    la[even], lo[even], height[even] = round_corners(t[even], la[even], lo[even],
                                                     height[even], speed)
    return pd.DataFrame({
        "time": start + t, "target": ac.id, "lat": la, "lon": lo,
        "altitude": height, "icao24": ac.icao24,
        "callsign": ac.callsign, "kind": "scripted",
        # the transponder squitters until it is switched off (went dark)
        "transmitting": (ac.icao24 is not None) & (
            t < (ac.transponder_off_at if ac.transponder_off_at is not None else np.inf)),
    })


def scenario_zones(sc: Scenario) -> list[Zone]:
    """The zones a scenario watches."""
    zones = resolve_zones(sc.national, sc.geojson) if (sc.national or sc.geojson) else []
    zones += [circle_zone(c.name, c.lat, c.lon, c.radius_km, floor_m=c.floor_m,
                          ceiling_m=c.ceiling_m) for c in sc.circles]
    return zones


def adsb_observations(truth: pd.DataFrame, period_s: float, sigma_m: float, p_receive: float,
                      rng: np.random.Generator) -> pd.DataFrame:
    """ADS-B positions of the transponder-equipped targets in ``truth``.

    Each aircraft is received every ``period_s`` from a random phase, each message with
    probability ``p_receive``; positions carry Gaussian noise of ``sigma_m`` per axis.
    """
    coop = truth[truth["icao24"].notna()]
    if "transmitting" in coop:
        coop = coop[coop["transmitting"].to_numpy(dtype=object) != False]  # noqa: E712
    frames = []
    for _, g in coop.groupby("target", sort=True):
        tt = g["time"].to_numpy(float)
        t = tt[0] + rng.uniform(0, period_s) + np.arange(0.0, tt[-1] - tt[0], period_s)
        t = t[(t <= tt[-1]) & (rng.random(t.size) < p_receive)]
        if t.size < 2:
            continue
        lat = np.interp(t, tt, g["lat"].to_numpy(float))
        lon = np.interp(t, tt, g["lon"].to_numpy(float))
        alt = np.interp(t, tt, g["altitude"].to_numpy(float))
        n = t.size
        az = rng.uniform(0, 360, n)
        lon, lat, _ = GEOD.fwd(lon, lat, az, np.abs(rng.normal(0, sigma_m * np.sqrt(2), n)))
        # speed and heading from the truth over one second around each message
        lat2 = np.interp(t + 1.0, tt, g["lat"].to_numpy(float))
        lon2 = np.interp(t + 1.0, tt, g["lon"].to_numpy(float))
        hd, _, v = GEOD.inv(np.interp(t, tt, g["lon"].to_numpy(float)),
                            np.interp(t, tt, g["lat"].to_numpy(float)), lon2, lat2)
        vr = np.interp(t + 1.0, tt, g["altitude"].to_numpy(float)) - np.round(alt)
        frames.append(make_observations(
            time=t, icao24=np.full(n, g["icao24"].iloc[0], object), lat=lat, lon=lon,
            altitude=np.round(alt / 7.62) * 7.62, velocity=v, heading=np.mod(hd, 360.0),
            vertrate=vr, callsign=np.full(n, g["callsign"].iloc[0], object)))
    if not frames:
        return make_observations(time=[], icao24=[], lat=[], lon=[])
    return pd.concat(frames, ignore_index=True).sort_values("time", kind="stable") \
        .reset_index(drop=True)


def radar_plots(truth: pd.DataFrame, sc: Scenario, seed: int) -> tuple[pd.DataFrame,
                                                                        list[RadarSite]]:
    """Plots of every radar of the scenario, renumbered ``record`` 1..n in time order."""
    sites, frames = [], []
    for i, r in enumerate(sc.radars):
        site = RadarSite(r.sac, r.sic, r.lat, r.lon, r.alt_m, r.sigma_range_m,
                         r.sigma_azimuth_deg, r.name, r.sigma_height_m)
        sites.append(site)
        frames.append(simulate_plots(
            truth[["time", "target", "lat", "lon", "altitude"]], [site], period_s=r.period_s,
            sigma_range_m=r.sigma_range_m, sigma_azimuth_deg=r.sigma_azimuth_deg,
            p_detect=r.p_detect, clutter_per_scan=r.clutter_per_scan,
            max_range_m=r.range_km * 1000.0, sigma_height_m=r.sigma_height_m,
            seed=seed * 1000 + i, bias_range_m=r.bias_range_m,
            bias_azimuth_deg=r.bias_azimuth_deg))
    plots = pd.concat(frames, ignore_index=True).sort_values("time", kind="stable")
    plots = plots.reset_index(drop=True)
    plots["record"] = np.arange(1, len(plots) + 1)
    return plots, sites


def generate(sc: Scenario) -> Generated:
    """Truth, ground truth entries, radar plots and ADS-B observations of a scenario."""
    rng = np.random.default_rng(sc.seed)
    zones = scenario_zones(sc)
    scripted = [aircraft_truth(a, sc.start) for a in sc.aircraft]
    end = max(float(f["time"].max()) for f in scripted) if scripted else sc.start
    duration = sc.duration_s or (end - sc.start)
    frames = scripted
    dropped = 0
    targets: dict[str, Aircraft | None] = {a.id: a for a in sc.aircraft}
    if sc.background is not None:
        base = Path(sc.source).parent if sc.source else None
        bg, dropped = background_truth(sc.background, sc.start, duration, sc.watch_states, base)
        bg["kind"] = "background"
        frames = [*scripted, bg]
        targets.update({t: None for t in bg["target"].unique()})
    truth = pd.concat(frames, ignore_index=True)
    truth = truth[truth["time"] <= sc.start + duration].reset_index(drop=True)
    truth_entries = geometric_truth_entries(truth, zones)
    plots, sites = radar_plots(truth, sc, sc.seed)
    adsb = adsb_observations(truth, sc.adsb.period_s, sc.adsb.sigma_m, sc.adsb.p_receive, rng)
    return Generated(sc, zones, truth, targets, truth_entries, plots, adsb, sites, dropped)
