"""Background traffic: real recorded civil flights, moved rigidly into a scenario's area.

Recorded traffic is only shipped for Switzerland (OpenSky Network, 1 Aug 2018, see
``skyfence/demo/ATTRIBUTION.md``). A scenario over the Baltic, Poland, Romania or
Denmark takes a time slice of it and moves every flight by the same rigid motion: an
azimuthal equidistant projection around the sample's centre, a rotation, and the inverse
projection around the scenario's centre. Distances, speeds, climb rates and the spacing
between flights are kept (to within the projection's distortion, under 0.1 % within
200 km of the centre); only where they fly changes. Times are shifted to the scenario.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from skyfence.identify.icao_blocks import registration_state
from skyfence.scenarios.spec import BackgroundSpec, ScenarioError

#: built-in samples: name -> (package, file)
SAMPLES = {"switzerland-2018-08-01": ("skyfence.demo", "switzerland-2018-08-01.csv.gz")}
#: a recorded flight is cut where two fixes are further apart than this (s)
GAP_S = 60.0


def read_sample(name: str, base: Path | None = None) -> pd.DataFrame:
    """A recorded sample by built-in name or path (CSV with the contract's columns)."""
    if name in SAMPLES:
        pkg, file = SAMPLES[name]
        with resources.as_file(resources.files(pkg) / file) as path:
            return pd.read_csv(path, dtype={"icao24": str, "callsign": str})
    p = (base or Path(".")) / name
    if not p.exists():
        raise ScenarioError(f"no built-in sample or file named '{name}'", key="background.sample")
    return pd.read_csv(p, dtype={"icao24": str, "callsign": str})


def _aeqd(lat: float, lon: float) -> str:
    return f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"


def relocate(frame: pd.DataFrame, lat: float, lon: float, rotate_deg: float,
             anchor: tuple[float, float] | None = None) -> pd.DataFrame:
    """Move all positions rigidly so ``anchor`` (lat, lon; default the sample's median
    position) lands on (lat, lon), turned clockwise by ``rotate_deg``; headings turn
    with them."""
    lat0, lon0 = anchor or (float(frame["lat"].median()), float(frame["lon"].median()))
    fwd = Transformer.from_crs("EPSG:4326", _aeqd(lat0, lon0), always_xy=True)
    inv = Transformer.from_crs(_aeqd(lat, lon), "EPSG:4326", always_xy=True)
    x, y = fwd.transform(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    a = np.radians(rotate_deg)
    xr = x * np.cos(a) + y * np.sin(a)  # clockwise: east turns towards south
    yr = -x * np.sin(a) + y * np.cos(a)
    lon2, lat2 = inv.transform(xr, yr)
    out = frame.copy()
    out["lat"], out["lon"] = lat2, lon2
    if "heading" in out:
        out["heading"] = (out["heading"] + rotate_deg) % 360.0
    return out


def background_truth(
    spec: BackgroundSpec, start: float, duration_s: float, watch_states: tuple[str, ...],
    base: Path | None = None,
) -> tuple[pd.DataFrame, int]:
    """Truth rows of the background (``target``, ``icao24``, ``callsign``, positions) and
    how many flights registered in a watched state were left out.

    Each flight is cut at gaps over :data:`GAP_S`; each piece is its own target
    (``icao24#2`` ...) so that sensors do not see it where the recording has a hole.
    """
    raw = read_sample(spec.sample, base)
    t0 = float(raw["time"].min()) + spec.offset_s
    t1 = t0 + (spec.duration_s or duration_s)
    d = raw[(raw["time"] >= t0) & (raw["time"] <= t1)].copy()
    d = d.dropna(subset=["lat", "lon"])
    d["icao24"] = d["icao24"].str.strip().str.lower()
    states = registration_state(d["icao24"].to_numpy(object))
    hostile = np.isin(np.asarray(states, dtype=object), list(watch_states))
    dropped = int(d.loc[hostile, "icao24"].nunique())
    d = d[~hostile]
    if spec.max_flights is not None:
        keep = sorted(d["icao24"].unique())[: spec.max_flights]
        d = d[d["icao24"].isin(keep)]
    if spec.lat is not None and spec.lon is not None and len(d):
        anchor = None
        if spec.anchor_lat is not None and spec.anchor_lon is not None:
            anchor = (spec.anchor_lat, spec.anchor_lon)
        d = relocate(d, spec.lat, spec.lon, spec.rotate_deg, anchor)
    d["time"] = d["time"] - t0 + start
    d = d.sort_values(["icao24", "time"], kind="stable").reset_index(drop=True)
    new = (d["icao24"] != d["icao24"].shift()) | (d["time"].diff() > GAP_S)
    piece = new.groupby(d["icao24"]).cumsum()
    d["target"] = np.where(piece > 1, d["icao24"] + "#" + piece.astype(str), d["icao24"])
    counts = d.groupby("target")["time"].transform("size")
    d = d[counts >= 2]
    alt = d["baroaltitude"] if "baroaltitude" in d else pd.Series(np.nan, index=d.index)
    if "geoaltitude" in d:
        alt = d["geoaltitude"].fillna(alt)
    out = pd.DataFrame({
        "time": d["time"].to_numpy(float), "target": d["target"].to_numpy(object),
        "lat": d["lat"].to_numpy(float), "lon": d["lon"].to_numpy(float),
        "altitude": alt.to_numpy(float), "icao24": d["icao24"].to_numpy(object),
        "callsign": d["callsign"].to_numpy(object) if "callsign" in d else None,
    })
    out["altitude"] = out.groupby("target")["altitude"].transform(
        lambda s: s.interpolate(limit_direction="both")).fillna(0.0)
    return out.reset_index(drop=True), dropped
