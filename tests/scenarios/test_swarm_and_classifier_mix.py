"""The night swarm (shortened) and the helicopter / business-jet mix, end to end.

The full swarm runs three hours of two radars in heavy clutter (``skyfence eval
swarm-night``); here the first 40 minutes with the drones launched in them and a
thinner background: the same radars, clutter, biases and hovering drones.
"""

from __future__ import annotations

import dataclasses

import pytest

from skyfence.scenarios import get_scenario, run_scenario
from skyfence.scenarios.evaluate import category_pairs, score
from skyfence.scenarios.spec import Scenario


def short_swarm(minutes: float = 40.0) -> Scenario:
    """The swarm cut to its first ``minutes``, with the drones launched by then."""
    sc = get_scenario("swarm-night")
    cut = minutes * 60.0
    launched = tuple(a for a in sc.aircraft if (a.waypoints[0].time or 0.0) < cut - 900.0)
    assert sc.background is not None
    return dataclasses.replace(
        sc, duration_s=cut, aircraft=launched,
        background=dataclasses.replace(sc.background, max_flights=60))


@pytest.mark.slow
def test_short_swarm_holds_every_drone_as_one_track_and_registers_the_radars() -> None:
    sc = short_swarm()
    assert len(sc.aircraft) >= 3
    res = run_scenario(sc)
    ev = score(res)
    s = ev.summary
    assert s["detection_rate"] == 1.0, [i.target for i in ev.incursions if not i.detected]
    assert s["false_alarms"] == 0, [res.records[i]["track"] for i in ev.false_alarms]
    assert s["incidents"] == s["incursions"]  # one incident per drone, not per fragment
    assert s["tracks_per_target"] is not None and s["tracks_per_target"] <= 1.1
    assert s["false_tracks_per_h"] <= 30.0  # heavy clutter: 20 plots per scan per radar
    # the coastal radar's bias (120 m, 0.25 deg, set in the scenario file) is found
    # against the civil aircraft's ADS-B; the airport radar has none
    est = {e["radar"]: e for e in res.registration}
    assert est["STEVNS-CS"]["range_bias_m"] == pytest.approx(120.0, abs=15.0)
    assert est["STEVNS-CS"]["azimuth_bias_deg"] == pytest.approx(0.25, abs=0.03)
    assert est["EKCH-DR"]["range_bias_m"] == pytest.approx(0.0, abs=15.0)
    assert est["EKCH-DR"]["azimuth_bias_deg"] == pytest.approx(0.0, abs=0.03)


@pytest.mark.slow
def test_helicopters_and_business_jets_are_told_apart() -> None:
    ev = score(run_scenario("helicopters-bizjets"))
    pairs = category_pairs(ev.result)
    assert {t for t, _ in pairs} == {"helicopter", "jet", "propeller", "drone"}
    # every helicopter record says helicopter; the business jets above FL400 say jet
    assert all(p == "helicopter" for t, p in pairs if t == "helicopter")
    assert sum(1 for t, p in pairs if t == "jet" and p == "jet") >= 3
    assert ev.summary["category_balanced_accuracy"] >= 0.85
    # the drone is the one incursion; no helicopter, jet or light aircraft is flagged
    flagged = {t for r, t in zip(ev.result.records, ev.result.record_targets, strict=True)
               if r["violation"]}
    assert flagged == {"DRONE-1"}
