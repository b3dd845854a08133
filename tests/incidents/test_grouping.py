"""Entries into incidents: re-entries within merge_s, overlapping zones (dependencies,
disputed areas) as one incident with also_in, and the policy's say on disputed areas.

The hand cases put numbers on the rules of skyfence.incidents.grouping. The national
cases fly synthetic tracks over the bundled boundaries: into Tahiti's waters (PYF, which
the source also includes in FRA) and into Crimea (in both RUS and UKR in the source);
that the fixes are in both zones is checked with GEOS directly, not with skyfence.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.national import national_zones
from skyfence.cli import main
from skyfence.incidents.grouping import (
    Candidate,
    EntryFacts,
    EntrySpan,
    ZoneRelations,
    place,
    summarize,
    union_length,
)
from skyfence.incidents.queries import incident_records
from skyfence.incidents.store import IncidentStore
from skyfence.policy import IncidentSettings

REL = ZoneRelations({"FRA": 640_000.0, "PYF": 270_000.0, "RUS": 17e6, "UKR": 6e5, "X": 10.0},
                    {"PYF": "FRA"})


def span(eid: str, zone: str, a: float, b: float, open_: bool = False) -> EntrySpan:
    return EntrySpan(eid, zone, "abc123", a, b, open_)


def test_reentry_joins_when_less_than_merge_s_after_the_exit() -> None:
    prev = Candidate("inc1", (span("e1", "X", 0.0, 100.0),))
    assert place(span("e2", "X", 219.999, 300.0), [prev], 120.0, REL) == "inc1"
    assert place(span("e2", "X", 220.0, 300.0), [prev], 120.0, REL) is None  # 120 s: not less
    assert place(span("e2", "X", 150.0, 300.0), [prev], 0.0, REL) is None  # merge_s 0: never
    # another zone, even at once: not a re-entry, and X/FRA are unrelated and 150 s apart
    assert place(span("e2", "FRA", 150.0, 300.0), [prev], 120.0, REL) is None


def test_an_entry_left_open_by_a_stopped_watcher_is_resumed_within_an_hour() -> None:
    stopped = Candidate("inc1", (span("e1", "X", 0.0, 100.0, open_=True),))
    assert place(span("e2", "X", 3699.0, 3800.0), [stopped], 120.0, REL) == "inc1"
    assert place(span("e2", "X", 3700.0, 3800.0), [stopped], 120.0, REL) is None


def test_overlapping_zones_join_at_the_same_crossing_or_as_dependency() -> None:
    fra = Candidate("inc1", (span("e1", "FRA", 0.0, 500.0),))
    # entered PYF 3 s after FRA, FRA still going on: one incursion
    assert place(span("e2", "PYF", 3.0, 400.0), [fra], 120.0, REL) == "inc1"
    # entered 60 s later: a dependency of FRA, so still the same incursion
    assert place(span("e2", "PYF", 60.0, 400.0), [fra], 120.0, REL) == "inc1"
    # RUS/UKR are no dependency: 60 s later is another incident (a track crossing on)
    rus = Candidate("inc1", (span("e1", "RUS", 0.0, 500.0),))
    assert place(span("e2", "UKR", 60.0, 400.0), [rus], 120.0, REL) is None
    assert place(span("e2", "UKR", 4.0, 400.0), [rus], 120.0, REL) == "inc1"
    # the other entry ended before this one began: nothing going on to join
    done = Candidate("inc1", (span("e1", "RUS", 0.0, 3.0),))
    assert place(span("e2", "UKR", 4.0, 400.0), [done], 120.0, REL) is None


def facts(eid: str, zone: str, a: float, b: float, depth: float, violation: bool,
          severity: str, steps: list[tuple[str, float | None]] = ()) -> EntryFacts:
    rec = {"zone_kind": "national", "max_depth_m": depth, "violation": violation,
           "severity": severity, "icao24": "abc123", "callsign": None,
           "protocol": [{"step": s, "after_s": t} for s, t in steps]}
    return EntryFacts(span(eid, zone, a, b), rec, b, b)


def test_summary_of_a_disputed_incursion_under_judge_and_name() -> None:
    entries = [facts("u1", "UKR", 10.0, 110.0, 5000.0, True, "critical",
                     [("call the QRA", 60.0), ("notify", None)]),
               facts("r1", "RUS", 11.0, 112.0, 5200.0, False, "info"),
               facts("u2", "UKR", 150.0, 160.0, 100.0, True, "warning")]
    s = summarize(entries, REL, IncidentSettings())
    # named by the smaller zone (UKR); inside = [10,112] u [150,160] = 102 + 10
    assert (s["zone"], s["also_in"], s["crossings"]) == ("UKR", ["RUS"], 2)
    assert s["inside_s"] == pytest.approx(112.0)
    assert (s["first_entered_at"], s["last_exited_at"]) == (10.0, 160.0)
    assert (s["max_depth_m"], s["deepest_entry"]) == (5200.0, "r1")
    assert (s["violation"], s["severity"]) == (True, "critical")
    assert [p["step"] for p in s["protocol"]] == ["notify", "call the QRA"]
    # the operator holds the area to be Russian and judges it as RUS only
    s = summarize(entries, REL, IncidentSettings(prefer=("RUS",), disputed="name"))
    assert (s["zone"], s["also_in"], s["crossings"]) == ("RUS", ["UKR"], 1)
    assert (s["violation"], s["severity"], s["protocol"]) == (False, "info", [])
    # a dependency's verdict always counts with its parent's
    dep = [facts("f", "FRA", 0.0, 9.0, 1.0, False, "info"),
           facts("p", "PYF", 0.0, 9.0, 1.0, True, "warning")]
    s = summarize(dep, REL, IncidentSettings(prefer=("FRA",), disputed="name"))
    assert (s["zone"], s["violation"], s["severity"]) == ("FRA", True, "warning")


def test_union_length_against_a_brute_force_grid() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        iv = [(float(a), float(a + w)) for a, w in zip(rng.integers(0, 100, 6),
                                                       rng.integers(0, 30, 6), strict=True)]
        grid = np.zeros(200 * 10, bool)  # 0.1-unit cells, ends on the grid
        for a, b in iv:
            grid[int(a * 10):int(b * 10)] = True
        assert union_length(iv) == pytest.approx(grid.sum() / 10)


# ---------------------------------------------------------------- national overlaps
def track(icao: str, waypoints: list[tuple[float, float]], t0: float = 1.7e9,
          step_s: float = 10.0, n_per_leg: int = 60) -> pd.DataFrame:
    lon, lat = [], []
    for (x0, y0), (x1, y1) in itertools.pairwise(waypoints):
        f = np.arange(n_per_leg) / n_per_leg
        lon.extend(x0 + f * (x1 - x0))
        lat.extend(y0 + f * (y1 - y0))
    lon.append(waypoints[-1][0])
    lat.append(waypoints[-1][1])
    n = len(lon)
    return pd.DataFrame({"time": t0 + step_s * np.arange(n), "icao24": icao, "lat": lat,
                         "lon": lon, "baroaltitude": 9000.0, "velocity": 220.0})


def scan_into_store(tmp_path: Path, data: pd.DataFrame, store: str, *zone_args: str) -> None:
    f = tmp_path / "t.csv"
    data.to_csv(f, index=False)
    assert main(["scan", str(f), *zone_args, "--all-entries", "--format", "jsonl",
                 "-o", str(tmp_path / "out.jsonl"), "--store", store]) == 0


def inside_both(data: pd.DataFrame, a: str, b: str) -> int:
    """Fixes inside both national zones, by GEOS on the bundled geometries."""
    za, zb = national_zones()[a].geometry, national_zones()[b].geometry
    pts = shapely.points(data["lon"].to_numpy(), data["lat"].to_numpy())
    return int((shapely.contains(za, pts) & shapely.contains(zb, pts)).sum())


def test_tahiti_is_one_incident_in_pyf_also_in_fra(tmp_path: Path) -> None:
    data = track("R0042", [(-150.6, -17.0), (-149.45, -17.65), (-150.6, -17.0)])
    assert inside_both(data, "PYF", "FRA") > 10  # the premise: the source has it twice
    store = str(tmp_path / "s.sqlite")
    scan_into_store(tmp_path, data, store, "--zone", "FRA", "--zone", "PYF")
    entries = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(e["zone"] for e in entries) == ["FRA", "PYF"]  # entries stay exact
    with IncidentStore.open(store) as s:
        (inc,) = incident_records(s, every=True)
    assert (inc["zone"], inc["also_in"], inc["crossings"]) == ("PYF", ["FRA"], 1)
    assert sorted(inc["entries"]) == sorted(e["id"] for e in entries)
    assert inc["first_entered_at"] == min(e["entered_at"] for e in entries)


CRIMEA = [(34.0, 43.6), (34.1, 44.9), (34.0, 43.6)]  # from the Black Sea into Crimea, back
RUS_ADDRESS = "150001"  # in Russia's ICAO block 100000-1FFFFF


def policy_file(tmp_path: Path, incidents: str) -> str:
    p = tmp_path / "policy.yaml"
    p.write_text(f"""rules:
  - name: watched aircraft over Ukraine
    when: {{zone: [UKR], registration_state: [RUS]}}
    violation: true
    severity: critical
    reason: "{{track}} over {{where}}"
{incidents}""")
    return str(p)


@pytest.mark.parametrize(("incidents", "zone", "also_in", "violation"), [
    ("", "UKR", ["RUS"], True),  # default: the smaller zone names it, every verdict counts
    ("incidents: {prefer: [RUS], disputed: name}\n", "RUS", ["UKR"], False),
    ("incidents: {prefer: [RUS], disputed: judge}\n", "RUS", ["UKR"], True),
])
def test_crimea_is_one_incident_judged_as_the_operator_decides(
        tmp_path: Path, store_url: str, incidents: str, zone: str, also_in: list[str],
        violation: bool) -> None:
    data = track(RUS_ADDRESS, CRIMEA)
    assert inside_both(data, "RUS", "UKR") > 10
    scan_into_store(tmp_path, data, store_url, "--zone", "RUS", "--zone", "UKR",
                    "--policy", policy_file(tmp_path, incidents))
    with IncidentStore.open(store_url) as s:
        (inc,) = incident_records(s, every=True)
    assert (inc["zone"], inc["also_in"], inc["violation"]) == (zone, also_in, violation)


def test_a_border_crossing_is_two_incidents_not_an_overlap(tmp_path: Path) -> None:
    # west to east across the Swiss-Austrian border near Buchs SG, no overlap in area
    data = track("4b1805", [(9.3, 47.17), (9.75, 47.17)])
    store = str(tmp_path / "s.sqlite")
    scan_into_store(tmp_path, data, store, "--zone", "CHE", "--zone", "LIE", "--zone", "AUT")
    with IncidentStore.open(store) as s:
        incs = incident_records(s, every=True)
    assert [i["also_in"] for i in incs] == [[]] * len(incs) and len(incs) >= 2
