"""Re-derivation on the four built-in scenarios' incidents.

The scenarios' inputs are generated (:func:`skyfence.scenarios.generate.generate`: the
true flight paths of the scripted aircraft and drones plus the ADS-B background) and
scanned once with the scenario's zones and policy, as ``skyfence scan`` would. Every
violation found is then cut to its dossier window (± 10 min), its boundary written to
GeoJSON and read back, and re-derived by :func:`skyfence.evidence.rederive.rederive`
(skyfence's own scan on the dossier files): every figure must agree within the stated
tolerances. The radar tracker is left out here to keep the test short; the full
pipeline (tracker included) is built into a dossier and verified for Vaindloo.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from skyfence.api import run_scan
from skyfence.evidence import build_dossier
from skyfence.evidence.claim import TOLERANCES
from skyfence.evidence.hashing import pretty_json
from skyfence.evidence.keys import init_keys
from skyfence.evidence.log import StationLog
from skyfence.evidence.observations import entry_window, track_window, write_observations
from skyfence.evidence.rederive import rederive
from skyfence.evidence.sources import evidence_from_scenario
from skyfence.evidence.timefmt import parse_iso
from skyfence.evidence.verify import verify_dossier
from skyfence.evidence.zonefile import zone_geojson
from skyfence.model import OBSERVATION_COLUMNS, make_observations
from skyfence.scenarios import builtin_names, get_scenario
from skyfence.scenarios.generate import generate
from skyfence.scenarios.pipeline import scenario_policy


def _scenario_observations(name: str) -> tuple[pd.DataFrame, list, object]:
    sc = get_scenario(name)
    gen = generate(sc)
    truth = gen.truth
    ids = truth["icao24"].where(truth["icao24"].notna(), truth["target"])
    scripted = make_observations(time=truth["time"], icao24=ids, lat=truth["lat"],
                                 lon=truth["lon"], altitude=truth["altitude"])
    obs = pd.concat([gen.adsb[list(OBSERVATION_COLUMNS)], scripted], ignore_index=True)
    return obs, list(gen.zones), scenario_policy(sc)


@pytest.mark.parametrize("name", builtin_names())
def test_every_incident_rederives(name: str, tmp_path: Path) -> None:
    obs, zones, policy = _scenario_observations(name)
    result = run_scan([obs], zones, policy=policy)
    incidents = [r for r in result.records if r["violation"]]
    assert incidents, name
    by_name = {z.name: z for z in zones}
    for n, rec in enumerate(incidents):
        d = tmp_path / f"r{n}"
        d.mkdir()
        end = rec["exited_at"] or rec["last_inside_at"]
        window = entry_window(parse_iso(rec["entered_at"]), parse_iso(end), 300.0)
        write_observations(track_window(obs, rec["track"], window), d / "observations.parquet",
                           d / "observations.csv")
        (d / "zone.geojson").write_bytes(pretty_json(zone_geojson(by_name[rec["zone"]])))
        (d / "policy.yaml").write_text(policy.text or "")
        claim = {"incident": rec, "window": {"gap_s": 300.0}, "tolerances": TOLERANCES,
                 "policy": {"watch_states": sorted(policy.watch_states)},
                 "custody": {"aircraft_db": None}}
        derived, cmp, problems = rederive(d, claim)
        assert problems == [] and derived is not None, (rec["id"], problems)
        assert [c.describe() for c in cmp if not c.ok] == [], (name, rec["id"])


@pytest.mark.slow
@pytest.mark.builtin_scenarios
def test_vaindloo_pipeline_dossier_verifies(tmp_path: Path) -> None:
    """The whole pipeline (radar plots, tracker, correlation) to a verified dossier."""
    ev = evidence_from_scenario("vaindloo-2025-09-19", track="R0007")
    key = init_keys(tmp_path / "keys")
    d = build_dossier(ev, tmp_path / "dossier", key, StationLog(tmp_path / "log"))
    res = verify_dossier(d.path, key.public, StationLog(tmp_path / "log"))
    assert res.ok, res.render()
    assert ev.record["severity"] == "critical" and not ev.record["classification"]["cooperative"]
    assert "SIMULATED DATA" in (d.path / "report.html").read_text()
