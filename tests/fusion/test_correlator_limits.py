"""The correlator's distance limits at their edges: the contradiction distance (5 km)
and the reach of the search for a transponder near a fast radar track.

Geometry as in ``test_correlator_rules.py``: on the correlator's sphere (R = 6 371 008.8
m) two points on one meridian ``dlat`` apart are a chord of ``2 R sin(dlat / 2)``; a
track eastbound along 59 N at ``v`` m/s moves ``v / (R cos 59)`` radians of longitude a
second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fusion.test_correlator_rules import R_M, stream
from skyfence.fusion.correlator import Correlator, FusionConfig
from skyfence.model import make_observations


def eastbound(track: str, t: np.ndarray, speed_ms: float, lat: float = 59.0) -> pd.DataFrame:
    """Fixes along the parallel ``lat`` from lon 25 at t = 0, at ``speed_ms``."""
    lon = 25.0 + np.degrees(speed_ms / (R_M * np.cos(np.radians(59.0)))) * t
    return make_observations(time=t, icao24=[track] * t.size, lat=np.full(t.size, lat), lon=lon)


@pytest.mark.parametrize(("chord_m", "contradicts"), [(4800.0, False), (5200.0, True)])
def test_the_contradiction_distance_is_5_km(chord_m: float, contradicts: bool) -> None:
    """Radar fixes on 59 N whose Mode S replies name 4b1812, its ADS-B at the same times
    ``chord_m`` north (dlat = 2 asin(chord / 2R)): 4.8 km is within the documented
    5 km, 5.2 km beyond it."""
    assert FusionConfig().contradict_m == 5000.0
    dlat = np.degrees(2 * np.arcsin(chord_m / (2 * R_M)))
    t = np.arange(0.0, 200.0, 4.0)
    radar = eastbound("R1", t, 200.0)
    radar["mode_s"] = "4b1812"
    c = Correlator()
    stream(c, radar, eastbound("4b1812", t, 200.0, lat=59.0 + dlat))
    assert ("4b1812" in c.contradictions) is contradicts
    if contradicts:
        assert [d for _, d in c.contradictions["4b1812"]] == pytest.approx(
            [chord_m] * len(t), abs=0.01)


def test_a_radar_track_at_700_m_s_is_matched_with_sparse_adsb() -> None:
    """A MiG-31 at 700 m/s whose ADS-B is heard only every 20 s (t = 0, 20, ..., 400),
    the radar's fixes in between (t = 10, 30, ..., 390): every fix is 10 s, 7 km, from
    the nearest message. The transponder search must reach that far (the documented
    3 gate + 400 m/s x margin_s = 8.5 km), or no fix is ever matched. With it, all but
    the first four fixes (60 s: the first fix is no evidence, a decision needs two
    common fixes) are the transponder aircraft, as at 200 m/s, where every fix is 2 km
    from the nearest message and only the first fix is left (19 of 20). A search
    sized for 400 kt (206 m/s: 6.6 km) finds no message near any fix at 700 m/s."""
    msgs, fixes = np.arange(0.0, 401.0, 20.0), np.arange(10.0, 400.0, 20.0)
    matched = {}
    for v in (200.0, 700.0):
        c = Correlator()
        stream(c, eastbound("R1", fixes, v), eastbound("4b1812", msgs, v))
        matched[v] = c.cooperative_fixes
    assert matched[200.0] >= len(fixes) - 4
    assert matched[700.0] >= len(fixes) - 4
