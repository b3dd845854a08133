"""What is scored is what users run: a scenario exported to files (CAT048 radar plots,
ADS-B CSV, zones) and scanned or replayed with the CLI gives the very records the
evaluation scores; radar and ADS-B are fused in both, and a transponder switched off
before the border is a went-dark violation carrying its last address.

The went-dark truth is the scenario script itself (the aircraft's ICAO address, the
time its transponder is switched off, the last ADS-B message the generator emitted
before it), not the code under test.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml

from skyfence.cli import main
from skyfence.scenarios import run_scenario
from skyfence.scenarios.catalog import get_scenario
from skyfence.scenarios.evaluate import score
from skyfence.scenarios.export import export_scenario
from skyfence.scenarios.generate import generate

DARK = {
    "name": "went-dark", "start": "2025-03-01T10:00:00Z", "seed": 11, "duration_s": 900,
    "zones": {"circles": [{"name": "ZONE", "lat": 55.0, "lon": 20.0, "radius_km": 20}]},
    "watch_states": [],
    "sensors": {
        "radars": [{"sac": 3, "sic": 4, "lat": 55.1, "lon": 19.5, "range_km": 150,
                    "sigma_range_m": 30, "sigma_azimuth_deg": 0.06, "sigma_height_m": 100,
                    "period_s": 4, "p_detect": 0.95, "clutter_per_scan": 1}],
        "adsb": {"period_s": 2, "sigma_m": 10, "p_receive": 0.97},
    },
    "aircraft": [
        # flies west to east across the zone at 200 m/s; the circle's edge is 1 degree of
        # longitude (63.9 km at 55 N) less 20 km from the start: reached at 219 s; the
        # transponder goes off at 150 s, 14 km before it: it must come out as went dark
        {"id": "J1", "category": "jet", "speed_ms": 200,
         "transponder": {"icao24": "155abc", "callsign": "DARK1", "off_at": 150},
         "waypoints": [{"lat": 55.0, "lon": 19.0, "alt_m": 9000, "time": 0},
                       {"lat": 55.0, "lon": 21.0}]},
        # a civil aircraft with its transponder on, across the same zone: never flagged
        {"id": "C1", "category": "airliner", "speed_ms": 220, "expect": "none",
         "transponder": {"icao24": "4b1a2b", "callsign": "SWR12"},
         "waypoints": [{"lat": 54.7, "lon": 20.0, "alt_m": 10000, "time": 60},
                       {"lat": 55.3, "lon": 20.0}]},
    ],
}


def _cli_jsonl(argv: list[str]) -> list[dict[str, object]]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(argv) == 0
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def _final(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in e.items() if k != "event"} for e in events
            if e["event"] in ("exit", "open")]


def _canon(records: list[dict[str, object]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in records)


@pytest.fixture(scope="module")
def dark_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("dark") / "dark.yaml"
    p.write_text(yaml.safe_dump(DARK), encoding="utf-8")
    return p


def test_transponder_switched_off_before_the_border_is_went_dark(dark_file: Path) -> None:
    res = run_scenario(dark_file)
    gen = res.generated
    last_msg = float(gen.adsb.loc[gen.adsb["icao24"] == "155abc", "time"].max())
    off_at = gen.scenario.start + 150.0
    assert off_at - 10.0 <= last_msg < off_at  # the last message heard (2 s period, 97 %)
    j1 = [r for r, t in zip(res.records, res.record_targets, strict=True) if t == "J1"]
    assert j1, "the dark jet was not detected"
    for r in j1:
        assert r["violation"] and r["severity"] == "critical"
        assert str(r["track"]).startswith("R") and r["icao24"] == "155abc"
        assert r["callsign"] == "DARK1"
        assert not r["classification"]["cooperative"]
        went = json.loads(json.dumps(r["went_dark_at"]))
        from skyfence.evidence.timefmt import parse_iso

        assert parse_iso(went) == pytest.approx(last_msg, abs=1e-3)
    # the cooperative aircraft's entry is its own (ADS-B) track, not flagged
    c1 = [r for r, t in zip(res.records, res.record_targets, strict=True) if t == "C1"]
    assert c1 and all(r["track"] == "4b1a2b" and not r["violation"] for r in c1)
    ev = score(res)
    assert ev.summary["detection_rate"] == 1.0 and ev.summary["false_alarms"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["went-dark", pytest.param("romania-2025-09-13",
                                                              marks=pytest.mark.builtin_scenarios)])
def test_exported_files_scan_and_replay_like_the_evaluation(
        name: str, dark_file: Path, tmp_path: Path) -> None:
    source = dark_file if name == "went-dark" else name
    res = run_scenario(source)
    exported = export_scenario(generate(get_scenario(source)), tmp_path)
    scanned = _cli_jsonl(exported.scan_command()[1:])
    assert _canon(scanned) == _canon(list(res.records))
    replayed = _final(_cli_jsonl(exported.watch_command()[1:]))
    assert _canon(replayed) == _canon(scanned)
    assert any(r["violation"] for r in scanned)
