"""A radar track's entry is judged once it is two position sigmas deep.

Built by hand on a 1 x 1 degree square at the equator: a radar track (``R0001``, no
ICAO address, so non-cooperative: the default policy calls any entry of it a critical
violation) whose fixes carry ``sigma_pos_m``. The depth of a fix at longitude ``x`` just
inside the west edge (latitude 0.5) is the geodesic distance to that edge, ``x`` degrees
of longitude at the equator: 111.32 km per degree (WGS84 a = 6378137 m, 2 pi a / 360).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from skyfence.airspace.zones import Zone
from skyfence.detect.entries import EntryDetector
from skyfence.incidents.assess import Assessor
from skyfence.model import Entry, make_observations

SQUARE = Zone("SQ", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))
M_PER_DEG = 2 * np.pi * 6378137.0 / 360.0  # 111319.5 m of longitude per degree at lat 0


def radar_track(lon_in_m: list[float], sigma_m: list[float]) -> pd.DataFrame:
    """Fixes 10 s apart at latitude 0.5, ``lon_in_m`` metres east of the west edge
    (negative: outside), each with its track's position sigma."""
    t = 10.0 * np.arange(len(lon_in_m))
    lon = np.asarray(lon_in_m) / M_PER_DEG
    obs = make_observations(time=t, icao24=["R0001"] * len(t), lat=[0.5] * len(t), lon=lon,
                            altitude=[300.0] * len(t))
    obs["sigma_pos_m"] = sigma_m
    return obs


def entries(obs: pd.DataFrame) -> list[Entry]:
    det = EntryDetector([SQUARE])
    ev = det.process(obs) + det.close()
    return [e.entry for e in ev if e.kind in ("exit", "open")]


def test_a_fix_inside_by_less_than_two_sigmas_is_a_border_contact() -> None:
    # out 60 m, in 25 m (sigma 60 m: 2 sigmas = 120 m), out 40 m: one entry 25 m deep
    (e,) = entries(radar_track([-60.0, 25.0, -40.0], [70.0, 60.0, 65.0]))
    assert abs(e.max_depth_m - 25.0) < 0.5
    assert e.position_sigma_m == 60.0
    (rec,) = Assessor().records([e])
    assert rec["violation"] is False and rec["severity"] == "warning"
    assert "within 2 position sigmas (120 m)" in rec["reasons"][0]


def test_two_sigmas_in_the_policy_judges_it() -> None:
    # the same track goes on to 130 m (> 2 x 55 m, the smaller sigma of the two inside
    # fixes): a critical violation
    (e,) = entries(radar_track([-60.0, 25.0, 130.0], [70.0, 60.0, 55.0]))
    assert abs(e.max_depth_m - 130.0) < 0.5
    assert e.position_sigma_m == 55.0
    (rec,) = Assessor().records([e])
    assert rec["violation"] is True and rec["severity"] == "critical"


def test_fixes_without_a_sigma_are_judged_as_they_are() -> None:
    obs = radar_track([-60.0, 25.0, -40.0], [70.0, 60.0, 65.0]).drop(columns="sigma_pos_m")
    (e,) = entries(obs)
    assert e.position_sigma_m is None
    (rec,) = Assessor().records([e])
    assert rec["violation"] is True
