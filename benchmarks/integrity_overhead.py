"""What the integrity screen costs on clean data: the entry detector with and without it.

    PYTHONPATH=src python benchmarks/integrity_overhead.py [TRACKS] [FIXES]

1,000 synthetic tracks of 1,000 fixes by default (250 m/s, 5 s apart, random headings
over central Europe; nothing implausible in them), two box zones; best of three runs
each, measured in the same run, and the ratio.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import shapely

from skyfence.airspace.zones import Zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.detect.integrity import IntegrityConfig
from skyfence.model import make_observations


def main() -> None:
    n_tr = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    n_fix = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = np.random.default_rng(1)
    k = np.arange(n_fix)
    lat0, lon0 = rng.uniform(45, 55, n_tr), rng.uniform(0, 20, n_tr)
    heading = rng.uniform(0, 2 * np.pi, n_tr)
    step_deg = 250 * 5 / 111_320
    lat = lat0[:, None] + np.cos(heading)[:, None] * step_deg * k
    lon = (lon0[:, None] + np.sin(heading)[:, None] * step_deg * k
           / np.cos(np.radians(lat0))[:, None])
    t = 1.7e9 + 5.0 * k[None, :] + rng.uniform(0, 5, n_tr)[:, None]
    obs = make_observations(
        time=t.ravel(), icao24=np.repeat([f"{i:06x}" for i in range(n_tr)], n_fix),
        lat=np.clip(lat.ravel(), -89, 89), lon=(lon.ravel() + 180) % 360 - 180,
        altitude=np.full(t.size, 9000.0)).sort_values("time", ignore_index=True)
    zones = [Zone("A", "custom", shapely.box(5, 48, 8, 50)),
             Zone("B", "custom", shapely.box(12, 50, 14, 53))]
    best: dict[str, float] = {}
    rejected = 0
    for _ in range(3):
        for name, cfg in (("without", None), ("with", IntegrityConfig())):
            det = EntryDetector(zones, DetectorConfig(integrity=cfg))
            t0 = time.perf_counter()
            det.process(obs)
            det.close()
            best[name] = min(best.get(name, np.inf), time.perf_counter() - t0)
            if cfg is not None:
                rejected = det.rejected_implausible
    print(f"{len(obs):,} positions: detector without integrity {best['without']:.2f} s, "
          f"with {best['with']:.2f} s, ratio {best['with'] / best['without']:.2f}; "
          f"fixes rejected {rejected}")


if __name__ == "__main__":
    main()
