"""The built-in demo: real recorded traffic plus a non-cooperative track near Vaindloo.

The real part is OpenSky Network data over Switzerland (1 Aug 2018) from the
``traffic`` package's samples (see ``ATTRIBUTION.md`` here). The made-up part is one
radar-only track rebuilt from the public facts of 19 Sep 2025: flying east to west along
the Gulf of Finland, inside Estonian airspace near Vaindloo for about 12 minutes with no
transponder. Its exact route, altitude and times were not published: ours are plausible
values, not the real ones.
"""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np
import pandas as pd

from skyfence.airspace.geodesy import WGS84

#: (lat, lon) waypoints of the demo's non-cooperative track, east to west
VAINDLOO_ROUTE = [
    (59.935, 27.40),  # over Russian territorial sea
    (59.870, 26.62),  # crosses into Estonian territorial sea
    (59.840, 26.36),  # about 2.5 km north of Vaindloo island (59.817 N, 26.358 E)
    (59.795, 26.10),
    (59.785, 25.40),
    (59.770, 25.22),
    (59.840, 24.90),  # back into the international corridor
    (59.850, 24.20),
]
VAINDLOO_START = pd.Timestamp("2025-09-19T09:50:00Z")  # plausible; exact times unpublished
SPEED_MS = 110.0  # slow for a MiG-31; chosen so the stay lasts ~12 min
PERIOD_S = 4.0  # a long-range radar's update period
ALTITUDE_M = 7600.0
SAMPLE = "switzerland-2018-08-01.csv.gz"


def vaindloo_track(track_id: str = "R0001") -> pd.DataFrame:
    """Positions every 4 s along :data:`VAINDLOO_ROUTE` at constant speed (radar-like)."""
    lats = np.array([p[0] for p in VAINDLOO_ROUTE])
    lons = np.array([p[1] for p in VAINDLOO_ROUTE])
    az, _, leg = WGS84.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    cum = np.concatenate([[0.0], np.cumsum(leg)])
    s = np.arange(0.0, cum[-1], SPEED_MS * PERIOD_S)
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(leg) - 1)
    lon, lat, _ = WGS84.fwd(lons[k], lats[k], np.asarray(az)[k], s - cum[k])
    heading = np.mod(np.asarray(az)[k], 360.0)
    t0 = VAINDLOO_START.timestamp()
    return pd.DataFrame({
        "time": t0 + s / SPEED_MS, "icao24": track_id, "lat": np.round(lat, 6),
        "lon": np.round(lon, 6), "baroaltitude": ALTITUDE_M, "velocity": SPEED_MS,
        "heading": np.round(heading, 1), "vertrate": 0.0, "callsign": None,
    })


def sample_traffic() -> pd.DataFrame:
    """The shipped real traffic sample (contract columns, SI units)."""
    with resources.as_file(resources.files(__package__) / SAMPLE) as path:
        return pd.read_csv(path, dtype={"icao24": str, "callsign": str})


def run_demo() -> int:
    """Scan the demo data and print every entry, then the violations."""
    from skyfence.airspace.zones import resolve_zones
    from skyfence.api import iter_batches, run_scan
    from skyfence.incidents.formats import render_table
    from skyfence.policy import Policy

    data = pd.concat([sample_traffic(), vaindloo_track()], ignore_index=True)
    zones = resolve_zones(["EST", "CHE"], circles=["LSZH-5km:47.4647,8.5492,5"])
    result = run_scan(iter_batches(data), zones, policy=Policy.from_options(["RUS", "BLR"]))
    print("skyfence demo: real OpenSky traffic over Switzerland (1 Aug 2018) and one")
    print("radar-only track rebuilt from the Vaindloo incident of 19 Sep 2025")
    print("zones: EST, CHE and a 5 km circle around Zurich airport; watched states: RUS, BLR")
    print(f"{result.positions:,} positions from {data.icao24.nunique()} tracks\n")
    by_zone: dict[str, int] = {}
    for r in result.records:
        by_zone[r["zone"]] = by_zone.get(r["zone"], 0) + 1
    print("entries per zone: " + ", ".join(f"{z} {n}" for z, n in by_zone.items()))
    airport = [r for r in result.records if r["zone"] == "LSZH-5km"]
    render_table(airport, sys.stdout, title="Entries into the 5 km circle around Zurich airport")
    violations = [r for r in result.records if r["violation"]]
    print()
    render_table(violations, sys.stdout, title="Violations")
    for r in violations:
        print(f"\n{r['severity'].upper()}: {r['track']} in {r['zone']} from {r['entered_at']} "
              f"to {r['exited_at']} ({r['duration_s'] / 60:.1f} min), up to "
              f"{r['max_depth_m'] / 1000:.1f} km inside")
        for reason in r["reasons"]:
            print(f"  - {reason}")
        if r.get("protocol"):
            print("  protocol:")
            for step in r["protocol"]:
                after = f" (escalate after {step['after_s']:g} s)" if step.get("after_s") else ""
                print(f"    * {step['step']}{after}")
    return 0
