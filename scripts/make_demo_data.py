"""Extract the demo's real traffic sample from the `traffic` package (OpenSky data).

Writes ``src/skyfence/demo/switzerland-2018-08-01.csv.gz``: positions of flights over
Switzerland recorded by the OpenSky Network on 1 Aug 2018, as shipped in
``traffic.data.samples.switzerland``, converted to the contract's OpenSky state-vector
columns and SI units. Run: ``python scripts/make_demo_data.py`` (needs the test extra).
"""

from __future__ import annotations

from pathlib import Path

FT, KT, FPM = 0.3048, 1852 / 3600, 0.3048 / 60
OUT = Path(__file__).resolve().parents[1] / "src/skyfence/demo/switzerland-2018-08-01.csv.gz"


def main() -> None:
    import pandas as pd
    from traffic.data.samples import switzerland

    d = switzerland.data.copy()
    d["timestamp"] = pd.to_datetime(d.timestamp.astype(str), utc=True)
    # a quarter of the flights between 06:00 and 09:00 UTC keeps the file small
    t0, t1 = pd.Timestamp("2018-08-01 06:00Z"), pd.Timestamp("2018-08-01 09:00Z")
    d = d[(d.timestamp >= t0) & (d.timestamp < t1)]
    keep = sorted(d.icao24.unique())[::4]
    d = d[d.icao24.isin(keep)].sort_values(["timestamp", "icao24"])
    out = d.assign(
        time=(d.timestamp - pd.Timestamp(0, tz="UTC")).dt.total_seconds().round(1),
        lat=d.latitude.round(5),
        lon=d.longitude.round(5),
        baroaltitude=(d.altitude * FT).round(1),
        velocity=(d.groundspeed * KT).round(2),
        heading=d.track.round(1),
        vertrate=(d.vertical_rate * FPM).round(2),
        callsign=d.callsign.str.strip(),
    )[["time", "icao24", "lat", "lon", "baroaltitude", "velocity", "heading", "vertrate",
       "callsign"]]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(OUT, index=False, compression={"method": "gzip", "mtime": 0})
    print(f"{OUT}: {len(out)} rows, {out.icao24.nunique()} aircraft, "
          f"{OUT.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
