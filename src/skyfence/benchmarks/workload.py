"""Benchmark workloads built from real recorded traffic (the demo's OpenSky sample).

The sample's flights are copied with new ICAO addresses, later start times and shifts
across Europe and the Mediterranean, so that the positions keep real kinematics and
fall, as real traffic does, over many countries and their borders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def replicated_traffic(rows: int, seed: int = 7) -> pd.DataFrame:
    """About ``rows`` positions of real flights replicated across Europe, time-sorted."""
    from skyfence.demo import sample_traffic

    base = sample_traffic()
    base = base[["time", "icao24", "lat", "lon", "baroaltitude", "velocity", "callsign"]]
    rng = np.random.default_rng(seed)
    copies = max(1, int(np.ceil(rows / len(base))))
    codes, uniq = pd.factorize(base["icao24"])
    n = len(base)
    reps = np.repeat(np.arange(copies), n)
    dlat = rng.uniform(-10, 14, copies)[reps]
    dlon = rng.uniform(-16, 24, copies)[reps]
    dt = rng.uniform(0, 6 * 3600, copies)[reps]
    ids = (0x300000 + np.tile(codes, copies) + reps * (len(uniq) + 1)) % 0xFFFFFF
    out = pd.DataFrame({
        "time": np.tile(base["time"].to_numpy(), copies) + dt,
        "icao24": pd.Series(ids).map("{:06x}".format).to_numpy(),
        "lat": np.clip(np.tile(base["lat"].to_numpy(), copies) + dlat, -89.9, 89.9),
        "lon": np.tile(base["lon"].to_numpy(), copies) + dlon,
        "baroaltitude": np.tile(base["baroaltitude"].to_numpy(), copies),
        "velocity": np.tile(base["velocity"].to_numpy(), copies),
        "callsign": np.tile(base["callsign"].to_numpy(dtype=object), copies),
    })
    return out.iloc[:rows].sort_values("time", kind="stable", ignore_index=True)
