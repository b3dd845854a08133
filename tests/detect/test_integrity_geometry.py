"""The integrity screen's distances where the lon/lat plane lies: far north and over 180.

The screen rejects a fix its track cannot reach: farther from the fix before than
``max_speed_ms * dt + slack_m`` (1500 m/s and 1500 m by default: 3000 m one second
later). Its first pass measures on a local tangent plane in degrees, where a degree of
longitude is ``cos(lat)`` of a degree of latitude, and the shorter way round over
±180. The references below are hand arithmetic on the screen's own sphere (radius
6,371,008.8 m: one degree of a great circle is 111,195.08 m), checked against the
haversine :func:`~skyfence.detect.integrity.distance_m` and pyproj's WGS84 geodesic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from skyfence.airspace.zones import Zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.detect.integrity import IntegrityConfig, distance_m
from skyfence.model import make_observations

T0 = 1758263400.0  # 2025-09-19T06:30:00Z
M_PER_DEG = 6_371_008.8 * np.pi / 180.0  # 111,195.08 m
#: a zone far from every track below (the screen runs whatever the zones)
FAR = Zone("FAR", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))


def screened(obs: pd.DataFrame) -> tuple[int, tuple[str, ...]]:
    """Fixes the detector's integrity screen leaves out of ``obs``, and what it says of
    the track (a jump it keeps is named too: an entry made by one is no violation)."""
    det = EntryDetector([FAR], DetectorConfig(integrity=IntegrityConfig()))
    det.process(make_observations(**{c: obs[c].to_numpy() for c in obs.columns}))
    det.close()
    assert det.integrity is not None
    return det.rejected_implausible, det.integrity.reasons("4b1805")


def eastward(lat: float, lon0: float, n: int, dt_s: float, speed_ms: float) -> pd.DataFrame:
    """An ICAO track due east along ``lat`` at ``speed_ms``, a fix every ``dt_s``; its
    longitudes wrapped into [-180, 180)."""
    k = np.arange(n)
    lon = lon0 + k * dt_s * speed_ms / (M_PER_DEG * np.cos(np.radians(lat)))
    return pd.DataFrame({"time": T0 + dt_s * k, "icao24": "4b1805", "lat": lat,
                         "lon": (lon + 180.0) % 360.0 - 180.0, "altitude": 9000.0})


@pytest.mark.parametrize(("shift_m", "out"), [(2000.0, 0), (3500.0, 1)])
def test_reach_east_west_at_70_north_counts_metres_not_degrees(shift_m: float, out: int) -> None:
    """At 70 N a degree of longitude is 38 km, not 111 km. A track east at 100 m/s, a
    fix a second; fix 15 moved ``shift_m`` further east. 2000 m: 2100 m from fix 14,
    within the 3000 m reach, so kept. 3500 m: 3600 m from fix 14 and 3400 m short of
    fix 16, both out of reach, while fix 14 to 16 (200 m) can be flown: a lone outlier,
    rejected. Measured in degrees as if they were of latitude (no cos 70), 2100 m
    east would look like 6.1 km, and the kept fix would be rejected too."""
    obs = eastward(70.0, 20.0, 30, 1.0, 100.0)
    obs.loc[15, "lon"] += shift_m / (M_PER_DEG * np.cos(np.radians(70.0)))
    step = float(distance_m(70.0, obs.loc[14, "lon"], 70.0, obs.loc[15, "lon"]))
    # haversine along the parallel (a little shorter than the arc of the parallel)
    assert step == pytest.approx(100.0 + shift_m, rel=1e-3)
    _, _, wgs84 = Geod(ellps="WGS84").inv(obs.loc[14, "lon"], 70.0, obs.loc[15, "lon"], 70.0)
    assert wgs84 == pytest.approx(100.0 + shift_m, rel=0.01)
    n, reasons = screened(obs)
    assert n == out
    assert reasons == (() if out == 0 else
                       ("1 fix rejected: position jump faster than 1500 m/s",))


def test_a_track_over_the_antimeridian_is_not_a_jump() -> None:
    """Over the Bering Strait at 65.8 N, east at 250 m/s, a fix every 5 s from 179.9 E:
    the 5th fix is at 179.9 + 4 x 1250 m / (111,195 m x cos 65.8) = 180.0097, written
    -179.9903. The step over the seam is 1250 m, not 359.93 degrees: no fix is left
    out, and nothing is said of the track (the long way round, 359.97 degrees in 5 s,
    would be named a jump)."""
    obs = eastward(65.8, 179.9, 12, 5.0, 250.0)
    assert obs["lon"].iloc[4] == pytest.approx(-179.9903, abs=1e-4)
    assert obs["lon"].iloc[3] > 179.9
    step = float(distance_m(65.8, obs["lon"].iloc[3], 65.8, obs["lon"].iloc[4]))
    assert step == pytest.approx(1250.0, rel=1e-3)
    assert screened(obs) == (0, ())
    # westward over the seam too
    west = obs.iloc[::-1].reset_index(drop=True)
    west["time"] = T0 + 5.0 * np.arange(len(west))
    assert screened(west) == (0, ())
