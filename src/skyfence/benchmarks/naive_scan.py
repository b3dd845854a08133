"""The straightforward baseline of a scan: pandas groupby and shapely, track by track.

What one writes first, as the ``traffic`` library does for one flight: per track and
zone, the (lon, lat, time) line is intersected with the polygon; the pieces give the
interpolated entry and exit times; inside fixes give the altitude range; depth is the
largest distance to the boundary measured per fix in an azimuthal projection. It
follows the same contract (tracks split on 300 s gaps) and serves only as a baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from skyfence.airspace.zones import Zone


def _depth(zone: Zone, lon: np.ndarray, lat: np.ndarray) -> float:
    best = 0.0
    for x, y in zip(lon, lat, strict=True):
        aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={y} +lon_0={x} +ellps=WGS84")
        tr = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
        local = shapely.transform(zone.boundary, lambda c, tr=tr: np.column_stack(
            tr.transform(c[:, 0], c[:, 1])))
        best = max(best, float(local.distance(shapely.Point(0, 0))))
    return best


def naive_scan(df: pd.DataFrame, zones: Sequence[Zone], gap_s: float = 300.0,
               depth: bool = True) -> list[dict[str, Any]]:
    """Entries of ``df`` (contract columns) into ``zones``, one track at a time."""
    out: list[dict[str, Any]] = []
    df = df.sort_values(["icao24", "time"])
    piece = (df["icao24"] != df["icao24"].shift()) | (df["time"].diff() > gap_s)
    df = df.assign(piece=piece.cumsum())
    for (_, track), g in df.groupby(["piece", "icao24"], sort=False):
        lon, lat, t = g["lon"].to_numpy(), g["lat"].to_numpy(), g["time"].to_numpy()
        if len(g) < 2:
            continue
        line = shapely.LineString(np.column_stack([lon, lat, t]))
        for zone in zones:
            if not line.intersects(zone.geometry):
                continue
            inter = line.intersection(zone.geometry)
            for part in getattr(inter, "geoms", [inter]):
                if part.is_empty or part.geom_type != "LineString":
                    continue
                z = shapely.get_coordinates(part, include_z=True)[:, 2]
                t0, t1 = float(z.min()), float(z.max())
                sel = (t >= t0) & (t <= t1)
                out.append({
                    "zone": zone.name, "track": track, "entered_at": t0, "exited_at": t1,
                    "observations": int(sel.sum()),
                    "max_depth_m": _depth(zone, lon[sel], lat[sel]) if depth else None,
                })
    return out


def straightforward_scan(path: str, zones: Sequence[Zone], gap_s: float = 300.0
                         ) -> list[dict[str, Any]]:
    """The scan one writes with pandas and prepared shapely, file to entries.

    Reads the Parquet file with pandas, sorts by track and time, and per zone flags
    every fix inside with prepared :func:`shapely.contains_xy`; an entry starts where
    the flag turns on along a track piece (pieces split on ``gap_s`` gaps), and its
    entry point is the first point of one intersection of the segment before it with
    the zone boundary. No depth, no interpolation of exits, no altitude, no policy.
    """
    df = pd.read_parquet(path, columns=["time", "icao24", "lat", "lon"])
    df = df.sort_values(["icao24", "time"], kind="stable", ignore_index=True)
    ids = df["icao24"].to_numpy()
    t, lon, lat = (df[c].to_numpy(np.float64) for c in ("time", "lon", "lat"))
    same = np.zeros(len(df), bool)
    same[1:] = (ids[1:] == ids[:-1]) & (np.diff(t) <= gap_s)
    out: list[dict[str, Any]] = []
    for zone in zones:
        geom = zone.geometry
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, lon, lat)
        prev = np.zeros(len(df), bool)
        prev[1:] = inside[:-1]
        enter = np.flatnonzero(inside & ~(prev & same))
        crossed = enter[same[enter]]
        segs = shapely.linestrings(np.stack([np.column_stack([lon[crossed - 1], lat[crossed - 1]]),
                                             np.column_stack([lon[crossed], lat[crossed]])], 1))
        hits = shapely.intersection(segs, shapely.boundary(geom))
        first = shapely.get_point(shapely.get_geometry(hits, 0), 0)
        points = dict(zip(crossed.tolist(), zip(shapely.get_y(first).tolist(),
                                                 shapely.get_x(first).tolist(), strict=True),
                          strict=True))
        for i in enter.tolist():
            out.append({"zone": zone.name, "track": ids[i], "entered_at": float(t[i]),
                        "entry_point": points.get(i)})
    return out
