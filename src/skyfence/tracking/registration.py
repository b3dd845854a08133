"""Radar registration: each radar's range and azimuth bias, estimated against ADS-B.

A radar whose antenna is a fraction of a degree off north, or whose range has an
offset, puts every plot a fixed range and angle away from the target. One radar alone
hides that; two radars seeing the same drone then disagree by hundreds of metres, and
a fusing tracker sees two targets. Aircraft that broadcast ADS-B are the reference:
their GNSS positions are tens of metres accurate, so each radar plot that lies near an
ADS-B aircraft (interpolated at the plot's time) gives one residual in range and one in
azimuth, in the radar's own polar frame. The bias is the **median** residual (a
mispaired clutter plot does not move it) once ``min_pairs`` plots are paired.

Pairing is strict: an ADS-B aircraft with messages on both sides of the plot time (at
most ``max_gap_s`` apart), the nearest one within ``gate_m`` of the plot, and no other
within twice that. The stream stays causal: a plot is paired once the ADS-B data have
reached ``hold_s`` past it, and plots are corrected with the estimate known when they
are tracked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from skyfence.keyed_search import searchsorted_pairs
from skyfence.radar import LocalPlane, RadarSite, geodetic_to_polar, polar_to_geodetic

__all__ = ["Registration", "RegistrationEstimate"]


class RegistrationEstimate(TypedDict):
    """What registration found for one radar."""

    radar: str
    sac: int
    sic: int
    #: systematic range error (measured minus true, m) and azimuth error (deg)
    range_bias_m: float | None
    azimuth_bias_deg: float | None
    #: plots paired with ADS-B aircraft
    pairs: int
    #: spread (1.4826 x median absolute deviation) of the residuals
    range_spread_m: float | None
    azimuth_spread_deg: float | None


class Registration:
    """Collects plot-to-ADS-B residuals per radar and corrects plots with their medians.

    Parameters
    ----------
    sites
        The radars.
    gate_m
        Largest distance from a plot to the interpolated ADS-B position for a pair.
    min_pairs
        Pairs a radar needs before its plots are corrected.
    max_pairs
        Residuals kept per radar (the most recent), so a slow drift is followed.
    """

    def __init__(self, sites: Iterable[RadarSite], *, gate_m: float = 1500.0,
                 min_pairs: int = 30, max_pairs: int = 4000, hold_s: float = 8.0,
                 max_gap_s: float = 12.0) -> None:
        self.sites = {s.key: s for s in sites}
        self.gate_m = gate_m
        self.min_pairs = min_pairs
        self.max_pairs = max_pairs
        self.hold_s = hold_s
        self.max_gap_s = max_gap_s
        lats = [s.lat for s in self.sites.values()] or [0.0]
        lons = [s.lon for s in self.sites.values()] or [0.0]
        self.plane = LocalPlane.around(lats, lons)
        self._ref = pd.DataFrame({"time": [], "icao24": [], "lat": [], "lon": [],
                                  "altitude": []})
        self._plots: list[pd.DataFrame] = []
        self._dr: dict[tuple[int, int], np.ndarray] = {k: np.empty(0) for k in self.sites}
        self._da: dict[tuple[int, int], np.ndarray] = {k: np.empty(0) for k in self.sites}
        self._now = -np.inf

    # ------------------------------------------------------------------ data in
    def add_reference(self, obs: pd.DataFrame) -> None:
        """Transponder observations (ICAO ``icao24``, ``time``, ``lat``, ``lon``,
        ``altitude``)."""
        if len(obs) == 0 or not self.sites:
            return
        cols = ["time", "icao24", "lat", "lon", "altitude"]
        self._ref = pd.concat([self._ref, obs[cols]], ignore_index=True)
        # the ADS-B stream moved on: pair the plots it made ripe and forget old messages
        # here too, as plots may stop coming (a radar gone quiet) and advance with them
        self.advance(float(obs["time"].max()))

    def observe(self, plots: pd.DataFrame) -> None:
        """Raw (uncorrected) plots, to be paired once the ADS-B data around them came."""
        if len(plots) and self.sites and "range_m" in plots and "azimuth_deg" in plots:
            self._plots.append(plots[["time", "sac", "sic", "lat", "lon", "altitude",
                                      "range_m", "azimuth_deg"]])

    def advance(self, now: float) -> None:
        """The streams have reached ``now``: pair the plots old enough, forget old data."""
        self._now = max(self._now, now)
        if self._plots:
            plots = pd.concat(self._plots, ignore_index=True)
            ripe = plots["time"].to_numpy(np.float64) <= self._now - self.hold_s
            self._plots = [plots[~ripe]] if (~ripe).any() else []
            if ripe.any():
                self._pair(plots[ripe])
        keep = self._ref["time"].to_numpy(np.float64) >= self._now - 3 * self.hold_s \
            - self.max_gap_s
        if not keep.all():
            self._ref = self._ref[keep].reset_index(drop=True)

    # ------------------------------------------------------------------ estimates
    def bias(self, key: tuple[int, int]) -> tuple[float, float] | None:
        """(range bias m, azimuth bias deg) of a radar, None until it has enough pairs."""
        dr = self._dr.get(key)
        if dr is None or dr.size < self.min_pairs:
            return None
        return float(np.median(dr)), float(np.median(self._da[key]))

    def estimates(self) -> list[RegistrationEstimate]:
        """One estimate per radar, in SAC/SIC order."""
        out = []
        for key in sorted(self.sites):
            s = self.sites[key]
            dr, da = self._dr[key], self._da[key]
            b = self.bias(key)

            def mad(x: np.ndarray) -> float | None:
                if x.size < self.min_pairs:
                    return None
                return round(float(1.4826 * np.median(np.abs(x - np.median(x)))), 4)

            out.append(RegistrationEstimate(
                radar=s.name or f"{key[0]}/{key[1]}", sac=key[0], sic=key[1],
                range_bias_m=None if b is None else round(b[0], 1),
                azimuth_bias_deg=None if b is None else round(b[1], 4),
                pairs=int(dr.size), range_spread_m=mad(dr), azimuth_spread_deg=mad(da)))
        return out

    def correct(self, plots: pd.DataFrame) -> pd.DataFrame:
        """Plots with each radar's estimated bias taken out of range and azimuth, and
        their positions located again (plots of radars without an estimate unchanged)."""
        if len(plots) == 0 or "range_m" not in plots or "azimuth_deg" not in plots:
            return plots
        out = plots
        code = plots["sac"].to_numpy(np.int64) * 256 + plots["sic"].to_numpy(np.int64)
        for key, site in self.sites.items():
            b = self.bias(key)
            if b is None:
                continue
            rows = np.flatnonzero(code == key[0] * 256 + key[1])
            if rows.size == 0:
                continue
            if out is plots:
                out = plots.copy()
            rng = plots["range_m"].to_numpy(np.float64)[rows] - b[0]
            az = (plots["azimuth_deg"].to_numpy(np.float64)[rows] - b[1]) % 360.0
            h = plots["altitude"].to_numpy(np.float64)[rows]
            lat, lon, _, _ = polar_to_geodetic(site, rng, az, h)
            for col, values in (("lat", lat), ("lon", lon), ("range_m", rng),
                                ("azimuth_deg", az)):
                column = out[col].to_numpy(np.float64).copy()
                column[rows] = values
                out[col] = column
        return out

    # ------------------------------------------------------------------ internals
    def _pair(self, plots: pd.DataFrame) -> None:
        ref = self._ref
        if len(ref) == 0:  # one message can pair: with a plot at its very time
            return
        ref = ref.sort_values(["icao24", "time"], kind="stable").reset_index(drop=True)
        rx, ry = self.plane.to_xy(ref["lat"].to_numpy(float), ref["lon"].to_numpy(float))
        rt = ref["time"].to_numpy(np.float64)
        ralt = ref["altitude"].to_numpy(np.float64)
        _, rcode = np.unique(ref["icao24"].to_numpy(str), return_inverse=True)
        px, py = self.plane.to_xy(plots["lat"].to_numpy(float), plots["lon"].to_numpy(float))
        pt = plots["time"].to_numpy(np.float64)
        # candidates: messages near the plot in space (reach covers the aircraft's motion)
        reach = self.gate_m + 350.0 * self.max_gap_s
        found = cKDTree(np.column_stack([rx, ry])).query_ball_point(
            np.column_stack([px, py]), reach)
        counts = np.fromiter((len(f) for f in found), np.int64, len(found))
        if counts.sum() == 0:
            return
        pi = np.repeat(np.arange(len(pt)), counts)
        mi = np.fromiter((m for f in found for m in f), np.int64, int(counts.sum()))
        pairs = np.unique(np.column_stack([pi, rcode[mi]]), axis=0)
        pi, ci = pairs[:, 0], pairs[:, 1]
        # the aircraft's messages bracketing the plot time; a message at the plot's very
        # time brackets it alone (so the aircraft's first and last messages are inclusive
        # ends, as the middle ones are)
        hi = searchsorted_pairs(rcode, rt, ci, pt[pi], "right")
        lo = hi - 1
        n = len(rt)
        at_lo = np.clip(lo, 0, n - 1)
        hi = np.where((lo >= 0) & (rcode[at_lo] == ci) & (rt[at_lo] == pt[pi]), lo, hi)
        ok = (lo >= 0) & (hi < n)
        lo_c, hi_c = np.clip(lo, 0, n - 1), np.clip(hi, 0, n - 1)
        ok &= (rcode[lo_c] == ci) & (rcode[hi_c] == ci) & (rt[hi_c] - rt[lo_c] <= self.max_gap_s)
        span = np.where(rt[hi_c] > rt[lo_c], rt[hi_c] - rt[lo_c], 1.0)
        f = np.clip((pt[pi] - rt[lo_c]) / span, 0.0, 1.0)
        ix = rx[lo_c] + f * (rx[hi_c] - rx[lo_c])
        iy = ry[lo_c] + f * (ry[hi_c] - ry[lo_c])
        ialt = ralt[lo_c] + f * (ralt[hi_c] - ralt[lo_c])
        d = np.where(ok, np.hypot(ix - px[pi], iy - py[pi]), np.inf)
        # per plot: nearest aircraft within the gate, none other within twice the gate
        order = np.lexsort((d, pi))
        pi_s, d_s = pi[order], d[order]
        head = np.flatnonzero(np.concatenate([[True], pi_s[1:] != pi_s[:-1]]))
        nxt = np.minimum(head + 1, len(pi_s) - 1)
        second = np.where((head + 1 < len(pi_s)) & (pi_s[nxt] == pi_s[head]), d_s[nxt], np.inf)
        good = (d_s[head] <= self.gate_m) & (second > 2 * self.gate_m)
        best = order[head][good]
        best = best[np.isfinite(ialt[best])]
        if best.size == 0:
            return
        p_idx = pi[best]
        lat, lon = self.plane.to_latlon(ix[best], iy[best])
        sac = plots["sac"].to_numpy(np.int64)[p_idx]
        sic = plots["sic"].to_numpy(np.int64)[p_idx]
        rng_m = plots["range_m"].to_numpy(np.float64)[p_idx]
        az_m = plots["azimuth_deg"].to_numpy(np.float64)[p_idx]
        for k, site in self.sites.items():
            sel = (sac == k[0]) & (sic == k[1])
            if not sel.any():
                continue
            true_r, true_az, _ = geodetic_to_polar(site, lat[sel], lon[sel], ialt[best][sel])
            dr = rng_m[sel] - true_r
            da = (az_m[sel] - true_az + 180.0) % 360.0 - 180.0
            self._dr[k] = np.concatenate([self._dr[k], dr])[-self.max_pairs:]
            self._da[k] = np.concatenate([self._da[k], da])[-self.max_pairs:]
