"""Kinematic category, track features, classification and the aircraft database."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skyfence.errors import InputError
from skyfence.identify.classify import (
    categorize,
    category_from_kinematics,
    classify,
    classify_tracks,
    load_aircraft_db,
    track_features,
)
from skyfence.model import make_observations

NAN = float("nan")


@pytest.mark.parametrize(("v", "h", "c", "w", "vmin", "coop", "expected"), [
    (235.0, 11_000.0, 2.0, 0.5, 220.0, 1.0, "airliner"),    # cruise
    (420.0, 15_000.0, NAN, NAN, NAN, 0.0, "jet"),            # MiG-31 dash
    (250.0, 3_000.0, 10.0, 12.0, 180.0, 0.0, "jet"),         # fighter turning hard
    (240.0, 12_500.0, 1.0, 0.3, 230.0, 1.0, "jet"),          # business jet at FL410
    (225.0, 11_300.0, 1.0, 0.3, 215.0, 1.0, "airliner"),     # business jet at FL370: the
    #                                                          same as an airliner (a miss)
    (55.0, 2_000.0, 2.0, 1.0, 45.0, 1.0, "propeller"),       # light aircraft at 6,500 ft
    (55.0, 1_000.0, 2.0, 1.0, 45.0, 1.0, "helicopter"),      # a whole flight below 1.5 km
    (40.0, 1_000.0, 2.0, 8.0, 25.0, 1.0, "propeller"),       # glider circling low
    (50.0, 1_500.0, 0.5, 0.5, 45.0, 0.0, "drone"),           # Geran-2 type, no transponder
    (65.0, 600.0, 3.0, 4.0, 2.0, 1.0, "helicopter"),         # hovers between legs
    (10.0, 8_000.0, 5.0, 0.5, 8.0, 0.0, "balloon"),          # drifting high
    (8.0, 100.0, 1.0, 20.0, 0.0, 0.0, "drone"),              # quadcopter over an airport
])
def test_category_of_typical_kinematics(v: float, h: float, c: float, w: float, vmin: float,
                                        coop: float, expected: str) -> None:
    names, conf = categorize([v], [h], [c], [w], [vmin], [coop])
    assert names[0] == expected
    assert 0.0 < conf[0] <= 1.0


def test_unknown_without_speed_and_vectorized_shape() -> None:
    names, conf = categorize([NAN, 230.0, 50.0], [10_000.0, 11_000.0, 1_000.0])
    assert list(names[:2]) == ["unknown", "airliner"] and conf[0] == 0.0
    assert category_from_kinematics(None, 5000.0) == "unknown"
    assert category_from_kinematics(230.0, 11_000.0) == "airliner"
    # confidence drops when the evidence is ambiguous (60 m/s at 1 km, transponder unknown)
    _, clear = categorize([235.0], [11_000.0], cooperative=[1.0])
    _, vague = categorize([60.0], [1_000.0])
    assert clear[0] > vague[0]


def test_track_features_measure_turn_climb_and_hover() -> None:
    t = np.arange(0.0, 120.0, 1.0)
    n = len(t)
    # track A circles at 3 deg/s and climbs 5 m/s from 1,800 m (a light aircraft, above
    # where helicopters fly); track B hovers then flies at 60 m/s
    hdg_a = (3.0 * t) % 360
    alt_a = 1800 + 5.0 * t
    v_b = np.where(t < 30, 0.0, 60.0)
    obs = make_observations(
        time=np.concatenate([t, t]), icao24=["aaaaaa"] * n + ["bbbbbb"] * n,
        lat=np.full(2 * n, 47.0), lon=np.full(2 * n, 8.0),
        altitude=np.concatenate([alt_a, np.full(n, 500.0)]),
        velocity=np.concatenate([np.full(n, 50.0), v_b]),
        heading=np.concatenate([hdg_a, np.full(n, 90.0)]),
    )
    f = track_features(obs)
    assert f.at["aaaaaa", "turn_rate_dps"] == pytest.approx(3.0)
    assert f.at["aaaaaa", "climb_ms"] == pytest.approx(5.0)
    assert f.at["bbbbbb", "min_speed_ms"] == 0.0
    assert f.at["bbbbbb", "turn_rate_dps"] == 0.0
    got = classify_tracks(obs)
    assert got.at["bbbbbb", "category"] == "helicopter"
    assert got.at["aaaaaa", "category"] == "propeller"


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "aircraft.csv"
    f.write_text(text)
    return f


def test_aircraft_db_gives_military_type_and_operator(tmp_path: Path) -> None:
    db = load_aircraft_db(write(tmp_path, "ICAO24,Type,Operator,Military\n"
                                          "154ABC,MG31,Russian Air Force,yes\n"
                                          "4b1805,A320,Swiss,false\n"
                                          "511001,,,\n"))
    assert db["154abc"] is True and db["4B1805"] is False and "511001" not in db
    assert len(db) == 2
    row = db.get_aircraft("154abc")
    assert row is not None and (row.type, row.operator) == ("MG31", "Russian Air Force")
    c = classify("154ABC", max_speed_ms=420.0, max_altitude_m=15_000.0, military_db=db)
    assert (c.military, c.registration_state, c.category) == (True, "RUS", "jet")
    assert c.confidence is not None and 0 < c.confidence <= 1
    assert classify("511001", military_db=db).military is None
    radar = classify("T0042", max_speed_ms=50.0, max_altitude_m=800.0, military_db=db)
    assert (radar.cooperative, radar.military, radar.category) == (False, None, "drone")


@pytest.mark.parametrize(("text", "row", "field", "needle"), [
    ("type,operator\nA320,x\n", 0, "header", "no ICAO address column"),
    ("hex,military\n4b1805,1\nzz1805,0\n", 2, "hex", "not a 24-bit ICAO address"),
    ("icao,military\n4b1805,sometimes\n", 1, "military", "not a military flag"),
    ("icao24\n4b1805\n4B1805\n", 2, "icao24", "already listed in row 1"),
    ("icao24\n4b18051\n", 1, "icao24", "not a 24-bit"),
])
def test_aircraft_db_errors_name_file_row_and_field(tmp_path: Path, text: str, row: int,
                                                    field: str, needle: str) -> None:
    f = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_aircraft_db(f)
    e = info.value
    assert (e.file, e.row, e.field) == (str(f), row, field) and needle in str(e)
