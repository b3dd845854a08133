"""Write the whole Swiss day of the `traffic` sample as a skyfence input file.

The `traffic` library ships a day of OpenSky traffic over Switzerland (1 Aug 2018,
05:00-22:00 UTC, 1,244 flights of 842 aircraft, positions every 10 s, clipped to the
country's bounding box); ``scripts/make_demo_data.py`` keeps a small part of it as the
demo. This script writes all of it with the contract's OpenSky state-vector columns, to
measure the went-dark warning on a day with no known transponder switched off::

    python scripts/make_swiss_day.py /tmp/swiss-day.csv.gz     # needs the test extra
    skyfence watch --replay /tmp/swiss-day.csv.gz --speed 0 --zone CHE \\
        --watch-state RUS --format jsonl | grep -c '"event":"went_dark"'
"""

from __future__ import annotations

import sys
from pathlib import Path

COLUMNS = ["time", "icao24", "lat", "lon", "baroaltitude", "velocity", "heading", "vertrate",
           "callsign"]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/make_swiss_day.py OUT.csv.gz", file=sys.stderr)
        return 2
    from traffic.data.samples import switzerland

    from skyfence.sources.tabular import normalize_table

    obs = normalize_table(switzerland.data, columns=None)
    out = obs.rename(columns={"altitude": "baroaltitude"})[COLUMNS].round(
        {"time": 1, "lat": 5, "lon": 5, "baroaltitude": 1, "velocity": 2, "heading": 1,
         "vertrate": 2})
    out = out.sort_values(["time", "icao24"], kind="stable")
    path = Path(argv[0])
    out.to_csv(path, index=False,
               compression={"method": "gzip", "mtime": 0} if path.suffix == ".gz" else None)
    print(f"{path}: {len(out)} rows, {out['icao24'].nunique()} aircraft, "
          f"{len(switzerland)} flights")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
