"""Scenario files are validated by the schema layer: every problem of a file is reported,
each with its line and key path; unknown keys at every level, NaN, infinities and
booleans or strings where numbers belong are refused.

Expected line numbers are counted by hand in the YAML texts written below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skyfence.scenarios import ScenarioError, load_scenario

# line numbers:  1..18
GOOD = """\
name: tiny
start: 2025-01-01T00:00:00Z
zones:
  circles:
    - {name: C, lat: 57.0, lon: 10.0, radius_km: 5}
sensors:
  radars:
    - {sac: 1, sic: 2, lat: 57.0, lon: 9.9}
  adsb: {period_s: 5}
background: {sample: switzerland-2018-08-01}
aircraft:
  - id: D1
    category: drone
    speed_ms: 20
    transponder: {icao24: 4b0001, off_at: 100}
    waypoints:
      - {lat: 56.9, lon: 10.0, alt_m: 300, time: 0}
      - {lat: 57.1, lon: 10.0}
"""


def load_text(tmp_path: Path, text: str) -> ScenarioError:
    f = tmp_path / "s.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    return info.value


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(GOOD, encoding="utf-8")
    sc = load_scenario(f)
    ac = sc.aircraft[0]
    assert ac.icao24 == "4b0001" and ac.transponder_off_at == 100.0
    assert ac.expect == "critical"  # it goes dark: a non-cooperative target inside
    assert sc.adsb.period_s == 5.0 and sc.background is not None


def test_every_type_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    text = """\
name: many
start: 2025-01-01T00:00:00Z
colour: red
zones:
  circles:
    - {name: C, lat: 57.0, lon: 10.0, radius_km: .inf}
sensors:
  radars:
    - {sac: 1, sic: true, lat: 57.0, lon: 9.9}
aircraft:
  - id: D1
    category: ufo
    waypoints:
      - {lat: 56.9, lon: "10", alt_m: 300, time: 0}
      - {lat: 95, lon: 10.0, time: .nan}
"""
    err = load_text(tmp_path, text)
    f = str(tmp_path / "s.yaml")
    expected = [  # (line, key path, part of the message)
        (3, "colour", "unknown key 'colour'"),
        (6, "zones.circles[0].radius_km", "finite"),
        (9, "sensors.radars[0].sic", "got True"),
        (12, "aircraft[0].category", "got 'ufo'"),
        (14, "aircraft[0].waypoints[0].lon", "must be a number, got '10'"),
        (15, "aircraft[0].waypoints[1].lat", "must be <= 90"),
        (15, "aircraft[0].waypoints[1].time", "finite"),
    ]
    assert len(err.problems) == len(expected), err.problems
    for line, key, what in expected:
        assert any(p.startswith(f"{f}:{line}, key '{key}': ") and what in p
                   for p in err.problems), (line, key, err.problems)
    # the message names the first problem in the file and counts the others
    assert str(err).startswith(f"{f}:3, key 'colour': unknown key") and "(and 6 more)" in str(err)
    assert (err.file, err.line, err.key) == (f, 3, "colour")


def test_every_meaning_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    text = """\
name: order
start: 2025-01-01T00:00:00Z
zones: {national: [EST]}
sensors:
  radars:
    - {sac: 1, sic: 1, lat: 59.0, lon: 26.0}
    - {sac: 1, sic: 1, lat: 59.1, lon: 26.1}
aircraft:
  - id: A
    waypoints:
      - {lat: 59.0, lon: 27.0, time: 100}
      - {lat: 59.1, lon: 27.1, time: 50}
  - id: B
    alt_m: 500
    waypoints:
      - {lat: 59.0, lon: 27.0}
      - {lat: 59.1, lon: 27.1}
"""
    err = load_text(tmp_path, text)
    f = str(tmp_path / "s.yaml")
    expected = [
        (5, "sensors.radars", "two radars share a SAC/SIC"),
        (11, "aircraft[0].waypoints[0].alt_m", "is required on the first waypoint"),
        (12, "aircraft[0].waypoints[1].time", "times must not go backwards"),
        (16, "aircraft[1].waypoints[0].time", "the first waypoint needs a time"),
        (17, "aircraft[1].waypoints[1]", "needs a time or a speed_ms"),
    ]
    assert len(err.problems) == len(expected), err.problems
    for line, key, what in expected:
        assert any(p.startswith(f"{f}:{line}, key '{key}': ") and what in p
                   for p in err.problems), (line, key, err.problems)
    assert "(and 4 more)" in str(err)


@pytest.mark.parametrize(("old", "new", "line", "key"), [
    ("aircraft:\n", "bogus: 1\naircraft:\n", 11, "bogus"),
    ("zones:\n", "zones:\n  bogus: 1\n", 4, "zones.bogus"),
    ("radius_km: 5}", "radius_km: 5, bogus: 1}", 5, "zones.circles[0].bogus"),
    ("sensors:\n", "sensors:\n  bogus: 1\n", 7, "sensors.bogus"),
    ("lon: 9.9}", "lon: 9.9, bogus: 1}", 8, "sensors.radars[0].bogus"),
    ("{period_s: 5}", "{period_s: 5, bogus: 1}", 9, "sensors.adsb.bogus"),
    ("2018-08-01}", "2018-08-01, bogus: 1}", 10, "background.bogus"),
    ("    category: drone\n", "    category: drone\n    bogus: 1\n", 14, "aircraft[0].bogus"),
    ("off_at: 100}", "off_at: 100, bogus: 1}", 15, "aircraft[0].transponder.bogus"),
    ("time: 0}", "time: 0, bogus: 1}", 17, "aircraft[0].waypoints[0].bogus"),
])
def test_unknown_keys_are_refused_at_every_level(tmp_path: Path, old: str, new: str,
                                                 line: int, key: str) -> None:
    assert GOOD.count(old) == 1
    err = load_text(tmp_path, GOOD.replace(old, new))
    assert (err.line, err.key) == (line, key) and len(err.problems) == 1, err.problems
    assert "unknown key 'bogus' (known: " in err.reason


@pytest.mark.parametrize(("old", "new", "line", "key", "what"), [
    ("lat: 56.9", "lat: .nan", 17, "aircraft[0].waypoints[0].lat", "finite"),
    ("radius_km: 5", "radius_km: .inf", 5, "zones.circles[0].radius_km", "finite"),
    ("speed_ms: 20", "speed_ms: -.inf", 14, "aircraft[0].speed_ms", "finite"),
    ("{period_s: 5}", "{period_s: true}", 9, "sensors.adsb.period_s", "got True"),
    ("sac: 1", "sac: true", 8, "sensors.radars[0].sac", "got True"),
    ("alt_m: 300", "alt_m: '300'", 17, "aircraft[0].waypoints[0].alt_m", "got '300'"),
    ("time: 0}", "time: false}", 17, "aircraft[0].waypoints[0].time", "got False"),
    ("off_at: 100}", "off_at: .nan}", 15, "aircraft[0].transponder.off_at", "finite"),
])
def test_nan_inf_and_booleans_are_not_numbers(tmp_path: Path, old: str, new: str, line: int,
                                              key: str, what: str) -> None:
    assert GOOD.count(old) == 1
    err = load_text(tmp_path, GOOD.replace(old, new))
    assert (err.line, err.key) == (line, key) and what in err.reason, err.problems
