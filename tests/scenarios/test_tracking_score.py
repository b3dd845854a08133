"""The tracker's figures on hand-made tracks whose answers are counted by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from skyfence.radar import LocalPlane
from skyfence.scenarios.evaluate import balanced_accuracy
from skyfence.scenarios.tracking_score import mean_visible_ospa, tracking_score

T0 = 1_700_000_000.0
PLANE = LocalPlane(55.0, 12.0)


def _frame(rows: list[tuple[float, str, int | None]]) -> pd.DataFrame:
    """Track states (time offset, track, plot record) all at the plane centre."""
    return pd.DataFrame({
        "time": [T0 + t for t, _, _ in rows], "icao24": [k for _, k, _ in rows],
        "record": [np.nan if r is None else float(r) for _, _, r in rows],
        "lat": 55.0, "lon": 12.0, "velocity": 0.0, "heading": 0.0,
    })


def test_fragments_switches_and_false_tracks_by_hand() -> None:
    # plots 1-6 are target A, 7-9 target B, 10-12 clutter
    plots = pd.DataFrame({"record": np.arange(1, 13), "time": T0 + np.arange(12.0),
                          "target": ["A"] * 6 + ["B"] * 3 + [None] * 3})
    states = _frame([
        (0, "R1", None), (1, "R1", 1), (2, "R1", 2), (3, "R1", 3),   # follows A
        (4, "R2", 4), (5, "R2", 5), (6, "R2", 7),                   # A, A, then B: follows
        #                                                             A, one switch
        (7, "R3", 8), (8, "R3", 9),                                 # follows B
        (9, "R4", 10), (10, "R4", 11), (11, "R4", 6),               # clutter, clutter, A:
        #                                                             a false track
    ])
    truth = pd.DataFrame({"time": [T0, T0 + 20] * 2, "target": ["A", "A", "B", "B"],
                          "lat": 55.0, "lon": 12.0})
    ts = tracking_score(states, plots, truth, {"A", "B"}, 4.0, 7200.0)
    assert ts["fragments"] == {"A": ["R1", "R2"], "B": ["R3"]}
    assert ts["tracks_per_target"] == pytest.approx(1.5)  # (2 + 1) / 2
    # R2: A -> B is one switch; R4: clutter is skipped, so no switch there
    assert ts["id_switches"] == 1
    assert ts["false_tracks_per_h"] == pytest.approx(0.5)  # one false track in 2 h


def test_ospa_of_a_track_100_m_off_and_a_false_one() -> None:
    # one target at the plane centre, seen every 4 s; a track 100 m north of it: OSPA is
    # the distance, 100 m; a second track 5 km away adds a cut-off 1 km miss:
    # sqrt((100^2 + 1000^2) / 2) = 710.6 m
    t = np.arange(0.0, 200.0, 4.0)
    plots = pd.DataFrame({"time": T0 + t, "target": "A", "record": np.arange(t.size)})
    truth = pd.DataFrame({"time": T0 + np.array([0.0, 200.0]), "target": "A",
                          "lat": 55.0, "lon": 12.0})
    lat1, lon1 = PLANE.to_latlon(0.0, 100.0)
    lat2, lon2 = PLANE.to_latlon(5000.0, 0.0)

    def track(name: str, lat: float, lon: float) -> pd.DataFrame:
        return pd.DataFrame({"time": T0 + t, "icao24": name, "lat": float(lat),
                             "lon": float(lon), "velocity": 0.0, "heading": 0.0})

    one = track("R1", lat1[()] if np.ndim(lat1) else lat1, lon1[()] if np.ndim(lon1) else lon1)
    assert mean_visible_ospa(one, truth, plots, 4.0) == pytest.approx(100.0, abs=0.5)
    two = pd.concat([one, track("R2", float(lat2), float(lon2))], ignore_index=True)
    expected = math.sqrt((100.0**2 + 1000.0**2) / 2)
    assert mean_visible_ospa(two, truth, plots, 4.0) == pytest.approx(expected, abs=1.0)


def test_balanced_accuracy_is_the_mean_recall() -> None:
    # jets 1 of 2 right (0.5), drones 3 of 3 (1.0): mean 0.75, while accuracy is 4/5
    pairs = [("jet", "jet"), ("jet", "airliner"), ("drone", "drone"), ("drone", "drone"),
             ("drone", "drone")]
    assert balanced_accuracy(pairs) == 0.75
    assert balanced_accuracy([]) is None
