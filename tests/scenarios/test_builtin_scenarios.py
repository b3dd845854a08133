"""Every built-in scenario meets issue 5's targets and the figures the README publishes.

All incursions detected as violations with the expected severity, no civil background
flight (nor anything else) flagged, entry time error under 5 s with 4 s radar updates,
the classifier's balanced accuracy at least 0.85 (issue 15).
Poland (19 drones, two radars, 2.5 h) and Aalborg (3.4 h) take longer: marked slow.

The ground truth is computed from the scripted paths by geometry alone
(:mod:`skyfence.scenarios.truth`: GEOS point-in-polygon, bisection on the geodesic path,
pyproj distances to the densified boundary), not by the detector being scored, so an
error of the detector shows in the scores. Entry, exit and depth errors are held to the
README's table ("Evaluation of the whole pipeline") with a little headroom: a
regression that makes an error half as large again fails.
"""

from __future__ import annotations

import pytest

from skyfence.scenarios import get_scenario, run_scenario
from skyfence.scenarios.evaluate import category_pairs, score

pytestmark = pytest.mark.builtin_scenarios

#: worst entry error (s), exit error (s) and depth error (m) allowed per scenario: the
#: README's figures (vaindloo 0.6 / 2.8 / 121, romania 1.1 / 0.4 / 81, aalborg 2.1 / 1.3
#: / 7.8, poland 4.4 / 3.8 / -) rounded up by about a third; Poland's depth is left out
#: while one drone's track breaks in two (see the README)
BOUNDS: dict[str, tuple[float, float, float | None]] = {
    "vaindloo-2025-09-19": (1.0, 3.8, 160.0),
    "romania-2025-09-13": (1.5, 0.6, 110.0),
    "aalborg-2025-09-24": (2.8, 1.8, 11.0),
    "poland-2025-09-10": (5.0, 5.0, None),
}

SCENARIOS = [
    "vaindloo-2025-09-19",
    "romania-2025-09-13",
    pytest.param("aalborg-2025-09-24", marks=pytest.mark.slow),
    pytest.param("poland-2025-09-10", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name", SCENARIOS)
def test_builtin_scenario_meets_the_targets(name: str) -> None:
    sc = get_scenario(name)
    assert all(r.period_s == 4.0 for r in sc.radars)
    ev = score(run_scenario(sc))
    s = ev.summary
    expected = sum(1 for a in sc.aircraft if a.expect is not None)
    assert {i.target for i in ev.incursions} == {a.id for a in sc.aircraft if a.expect}
    assert len(ev.incursions) >= expected
    assert s["detection_rate"] == 1.0, [i.target for i in ev.incursions if not i.detected]
    assert s["severity_correct"], [(i.target, i.severity, i.expected) for i in ev.incursions]
    assert ev.civil_flagged == []
    assert s["false_alarms"] == 0, [ev.result.records[i]["track"] for i in ev.false_alarms]
    assert s["entry_error_s"] < 5.0
    assert s["alert_delay_s"] < 20.0
    entry_s, exit_s, depth_m = BOUNDS[name]
    assert s["entry_error_s"] <= entry_s
    assert s["exit_error_s"] <= exit_s
    if depth_m is not None:
        assert s["depth_error_m"] <= depth_m
    # issue 15: the classifier's mean recall over the scripted aircraft's categories
    # (Romania's F-16s, which fly at turboprop speed but turn at 0.8 g; Poland's drones,
    # whose radar tracks' fastest speed estimates reach twice what they flew)
    wrong = [(t, p) for t, p in category_pairs(ev.result) if t != p]
    assert s["category_balanced_accuracy"] >= 0.85, wrong
    # civil traffic really crossed the zones (the no-false-alarm check is not empty)
    civil = [r for r, t in zip(ev.result.records, ev.result.record_targets, strict=True)
             if t is not None and ev.result.generated.targets.get(t) is None]
    assert civil and not any(r["violation"] for r in civil)


@pytest.mark.parametrize("name", [
    "romania-2025-09-13",
    pytest.param("helicopters-bizjets", marks=pytest.mark.slow),
])
def test_every_scripted_target_is_held_as_one_track(name: str) -> None:
    # the two Romanian F-16s (3,000 m) pass 2-3 km from the delta radar, whose heights
    # are 300 m noisy; the Zurich business jets (13 km) fly right over theirs: each broke
    # into 2-3 tracks while the tracker took those plots' ground error for range noise
    ev = score(run_scenario(get_scenario(name)))
    assert ev.summary["tracks_per_target"] == 1.0, ev.tracking["fragments"]
    assert ev.summary["id_switches"] == 0
    assert all(len(v) == 1 for v in ev.tracking["fragments"].values())
