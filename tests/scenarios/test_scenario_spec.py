"""The scenario file format: built-ins parse; broken files name the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from skyfence.errors import ConfigError
from skyfence.scenarios import ScenarioError, builtin_names, get_scenario, load_scenario
from skyfence.scenarios.catalog import scenario_path

GOOD: dict[str, Any] = {
    "name": "tiny",
    "start": "2025-01-01T00:00:00Z",
    "zones": {"circles": [{"name": "C", "lat": 57.0, "lon": 10.0, "radius_km": 5}]},
    "sensors": {"radars": [{"sac": 1, "sic": 2, "lat": 57.0, "lon": 9.9}]},
    "aircraft": [{
        "id": "D1", "category": "drone", "speed_ms": 20,
        "waypoints": [{"lat": 56.9, "lon": 10.0, "alt_m": 300, "time": 0},
                      {"lat": 57.1, "lon": 10.0}],
    }],
}


def write(tmp_path: Path, doc: Any) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return p


def broken(tmp_path: Path, edit: Any) -> ScenarioError:
    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    edit(doc)
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, doc))
    return info.value


def test_builtins_are_the_four_incidents_and_the_two_test_mixes() -> None:
    # the four 2025 incidents, the night swarm (tracking) and the helicopter /
    # business-jet mix (classification) of issue 15
    assert builtin_names() == ["aalborg-2025-09-24", "helicopters-bizjets",
                               "poland-2025-09-10", "romania-2025-09-13", "swarm-night",
                               "vaindloo-2025-09-19"]


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_parses_with_incursion_targets(name: str) -> None:
    sc = get_scenario(name)
    assert sc.name == name
    assert sc.background is not None and sc.background.note
    hostile = [a for a in sc.aircraft if a.expect is not None]
    assert hostile and all(not a.transponder for a in hostile)


def test_poland_has_nineteen_drones_and_romania_two_transponder_f16s() -> None:
    pol = get_scenario("poland-2025-09-10")
    assert sum(a.category == "drone" for a in pol.aircraft) >= 19
    rou = get_scenario("romania-2025-09-13")
    f16 = [a for a in rou.aircraft if a.transponder]
    assert len(f16) == 2 and all(a.expect is None and a.icao24.startswith("4a") for a in f16)


def test_good_file_parses_times_and_speeds(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.start == 1735689600.0
    ac = sc.aircraft[0]
    assert ac.waypoints[0].time == 0.0 and ac.waypoints[1].speed_ms == 20
    assert ac.waypoints[1].alt_m == 300  # carried over from the previous waypoint
    assert ac.expect == "critical"  # transponder off: a critical violation by default


@pytest.mark.parametrize(("edit", "key"), [
    (lambda d: d.pop("start"), "start"),
    (lambda d: d.update(start="yesterday-ish"), "start"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d["aircraft"][0]["waypoints"][1].update(lat=95), "aircraft[0].waypoints[1].lat"),
    (lambda d: d["aircraft"][0]["waypoints"][0].update(lon="east"),
     "aircraft[0].waypoints[0].lon"),
    (lambda d: d["aircraft"][0].pop("speed_ms"), "aircraft[0].waypoints[1]"),
    (lambda d: d["aircraft"][0]["waypoints"][0].pop("time"), "aircraft[0].waypoints[0].time"),
    (lambda d: d["aircraft"][0].update(transponder={"icao24": "xyz"}),
     "aircraft[0].transponder.icao24"),
    (lambda d: d["aircraft"][0].update(expect="severe"), "aircraft[0].expect"),
    (lambda d: d["aircraft"][0].update(category="ufo"), "aircraft[0].category"),
    (lambda d: d["sensors"]["radars"][0].update(p_detect=1.5), "sensors.radars[0].p_detect"),
    (lambda d: d["sensors"]["radars"][0].pop("sac"), "sensors.radars[0].sac"),
    (lambda d: d["sensors"].update(radars=[]), "sensors.radars"),
    (lambda d: d["zones"]["circles"][0].update(radius_km=-1), "zones.circles[0].radius_km"),
    (lambda d: d.update(zones={}), "zones"),
    (lambda d: d["aircraft"][0]["waypoints"].pop(), "aircraft[0].waypoints"),
])
def test_broken_file_names_file_and_key(tmp_path: Path, edit: Any, key: str) -> None:
    err = broken(tmp_path, edit)
    assert err.file == str(tmp_path / "s.yaml")
    assert err.key == key
    assert str(tmp_path / "s.yaml") in str(err) and f"key '{key}'" in str(err)
    assert isinstance(err, ConfigError) and err.exit_code == 2


def test_times_must_not_go_backwards(tmp_path: Path) -> None:
    err = broken(tmp_path, lambda d: d["aircraft"][0]["waypoints"][1].update(time=-5))
    assert err.key == "aircraft[0].waypoints[1].time" and "backwards" in err.reason


def test_a_time_before_the_aircraft_can_arrive_goes_backwards(tmp_path: Path) -> None:
    # D1 leaves (56.9, 10.0) at 0 s at 20 m/s for (57.1, 10.0): the WGS84 meridian radius
    # at 57 N is a(1-e2)/(1-e2 sin2(57))^1.5 = 6,380.4 km, 111.36 km/deg, so 0.2 deg is
    # 22.27 km and it arrives at 1113.6 s (printed 1114 s); a
    # hover there "until 600 s" asks it to leave before it arrived (it went unnoticed
    # when only given times were compared, and made a drone jump 1.5 km in 2 s)
    def hover_until_600(d: Any) -> None:
        d["aircraft"][0]["waypoints"].append({"lat": 57.1, "lon": 10.0, "time": 600})

    err = broken(tmp_path, hover_until_600)
    assert err.key == "aircraft[0].waypoints[2].time" and "backwards" in err.reason
    assert "1114 s" in err.reason

    def hover_until_1200(d: Any) -> None:
        d["aircraft"][0]["waypoints"].append({"lat": 57.1, "lon": 10.0, "time": 1200})

    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    hover_until_1200(doc)
    assert load_scenario(write(tmp_path, doc)).aircraft[0].waypoints[2].time == 1200.0


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nstart: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:\d+: not valid YAML"):
        load_scenario(p)


def test_unknown_names_and_missing_files() -> None:
    with pytest.raises(ScenarioError, match=r"unknown scenario 'atlantis'.*vaindloo"):
        scenario_path("atlantis")
    with pytest.raises(ScenarioError, match="not found"):
        scenario_path("/nonexistent/where.yaml")
