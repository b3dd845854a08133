"""Per-fix facts the pictures and the report show: inside or not, signed distance to
the boundary, the deepest fix, and where the track crosses the boundary.

Distances are the same exact WGS84 geodesic distances the detector measures
(:class:`skyfence.airspace.boundary.Boundary`); signed positive inside the zone,
negative outside. Crossings between fixes are found with the detector's own planar
segment test (tracks are straight in lon/lat between fixes, the contract says).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from skyfence.airspace.antimeridian import lon_delta, wrap_lon
from skyfence.airspace.boundary import Boundary
from skyfence.airspace.zones import Zone
from skyfence.evidence.timefmt import parse_iso

__all__ = ["TrackFacts", "track_facts"]


@dataclass(frozen=True)
class TrackFacts:
    """Arrays over the window's fixes (time order) plus the entry's key points."""

    time: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    altitude_m: np.ndarray
    inside: np.ndarray
    signed_distance_m: np.ndarray
    #: fixes of the documented entry (inside, entered_at <= t <= last_inside_at)
    in_entry: np.ndarray
    deepest: int | None
    #: per segment (i, i+1): fraction along it of its first boundary crossing, NaN if none
    crossing_fraction: np.ndarray

    @property
    def deepest_m(self) -> float | None:
        """Distance of the deepest fix of the entry, metres."""
        return None if self.deepest is None else float(self.signed_distance_m[self.deepest])


def track_facts(obs: pd.DataFrame, zone: Zone, record: Mapping[str, Any]) -> TrackFacts:
    """Facts of the window's fixes ``obs`` (time-ordered) about ``zone`` and the entry
    described by ``record``."""
    t = obs["time"].to_numpy(np.float64)
    lat = obs["lat"].to_numpy(np.float64)
    lon = obs["lon"].to_numpy(np.float64)
    alt = obs["altitude"].to_numpy(np.float64)
    inside = zone.contains(lon, lat, alt)
    boundary = Boundary(zone.geometry)
    dist = boundary.distance_m(lon, lat) if len(t) else np.zeros(0)
    signed = np.where(inside, dist, -dist)
    t0 = parse_iso(record["entered_at"])
    t1 = parse_iso(record["last_inside_at"])
    in_entry = inside & (t >= t0 - 1e-3) & (t <= t1 + 1e-3)
    deepest = int(np.flatnonzero(in_entry)[np.argmax(dist[in_entry])]) if in_entry.any() else None
    frac = np.full(max(len(t) - 1, 0), np.nan)
    if len(t) > 1:
        x0 = lon[:-1]
        x1 = x0 + lon_delta(lon[:-1], lon[1:])  # the shorter way round
        seg, f = boundary.crossings(x0, lat[:-1], x1, lat[1:])
        order = np.lexsort((f, seg))
        seg, f = seg[order], f[order]
        first = np.concatenate([[True], seg[1:] != seg[:-1]]) if len(seg) else np.zeros(0, bool)
        frac[seg[first]] = f[first]
    return TrackFacts(t, lat, wrap_lon(lon), alt, inside, signed, in_entry, deepest, frac)
