"""Test support for ``skyfence serve``: a recorded incursion, a configuration, a server.

The incursion: a transponder aircraft with an ICAO address in the Russian block
(``150abc``: ICAO Annex 10 allocates 100000-1FFFFF to Russia) flies due east along
59° N at 250 m/s, one fix a second, into a 10 km circle around 59° N 25° E. Watching
RUS makes its entry a violation. Where it enters, by hand: at 59° N one degree of
longitude is 111.32 km x cos 59° = 57.33 km, so the circle's western edge is 10/57.33 =
0.1744° west of 25°, at 24.8256° E; starting at ``lon0`` the aircraft crosses it after
(24.8256 - lon0) x 57.33 km / 0.25 km/s. Crossing the 20 km wide circle takes 80 s, so
with the default 90 s of fixes and entry after 20 s it is still inside at the end.
"""

from __future__ import annotations

import math
from pathlib import Path

KM_PER_DEG_LON = 111.32 * math.cos(math.radians(59.0))
SPEED_MS = 250.0
ZONE = "TESTZ:59.0,25.0,10"
EDGE_LON = 25.0 - 10.0 / KM_PER_DEG_LON
INTRUDER = "150abc"


def crossing_csv(path: Path, *, t0: float = 1_700_000_000.0, entry_after_s: float = 20.0,
                 duration_s: float = 90.0, with_bystander: bool = True,
                 height_sigma_m: float = 0.0) -> Path:
    """Write the incursion (entering ``entry_after_s`` after ``t0``) and, optionally, a
    Finnish airliner that stays 50 km north of the zone, as an OpenSky-style CSV.
    ``height_sigma_m`` adds seeded normal noise to the intruder's 9,000 m (as a 3D
    radar's heights scatter)."""
    import numpy as np

    lon0 = EDGE_LON - entry_after_s * SPEED_MS / 1000.0 / KM_PER_DEG_LON
    noise = np.random.default_rng(13).normal(0.0, height_sigma_m, int(duration_s) + 1)
    lines = ["time,icao24,lat,lon,geoaltitude,velocity,heading,callsign,squawk"]
    for k in range(int(duration_s) + 1):
        lon = lon0 + k * SPEED_MS / 1000.0 / KM_PER_DEG_LON
        alt = f"{9000 + noise[k]:.1f}" if height_sigma_m else "9000"
        lines.append(f"{t0 + k:.1f},{INTRUDER},59.0,{lon:.6f},{alt},{SPEED_MS},90,RSD01,1000")
        if with_bystander and k % 5 == 0:
            lines.append(f"{t0 + k:.1f},461e2a,59.45,{24.5 + k * 0.002:.6f},11000,230,90,"
                         "FIN7AB,2651")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def entry_time(t0: float = 1_700_000_000.0, entry_after_s: float = 20.0) -> float:
    """When the intruder crosses the circle (the fixes are a second apart: the crossing
    is interpolated between the last outside and the first inside fix)."""
    return t0 + entry_after_s


def write_config(tmp: Path, csv: Path, *, speed: float = 0.0, loop: bool = False,
                 port: int = 8080, extra: str = "") -> Path:
    """A serve configuration replaying ``csv`` into a store in ``tmp``."""
    cfg = tmp / "serve.yaml"
    cfg.write_text(f"""\
port: {port}
store: store.sqlite
circles: ["{ZONE}"]
watch_states: [RUS]
horizon_s: 0
sources:
  replay: [{csv.name}]
  speed: {speed}
  loop: {str(loop).lower()}
sensors:
  - {{name: RX-1, lat: 59.3, lon: 24.9, range_km: 120}}
dossiers: {{dir: dossiers}}
auth:
  cookie_secure: true
  login_attempts: 3
  login_window_s: 60
{extra}""", encoding="utf-8")
    return cfg


