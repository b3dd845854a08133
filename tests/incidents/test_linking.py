"""A track lost inside a zone and the track that continues it: one incident.

Radar trackers break a target into two tracks where they lose it (a drone hovering low
in the clutter, several missed scans) and start a new one when they see it again
(skyfence.incidents.grouping, rule 3). The rule's numbers are checked on generated
pairs against a reference written here from the rule's words, with the points placed
by pyproj's forward geodesic (the code measures with the inverse one); then through
``skyfence scan --store`` on tracks flown for the purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from skyfence.cli import main
from skyfence.incidents.grouping import TrackPiece, link, link_reach
from skyfence.incidents.queries import incident_detail, incident_records
from skyfence.incidents.store import IncidentStore

GEOD = Geod(ellps="WGS84")
#: the rule in words: top speeds per category (m/s), 500 m of slack, a continuing track
#: may begin up to 30 s before the lost one's last inside fix
SPEED = {"balloon": 70.0, "drone": 120.0, "helicopter": 100.0, "propeller": 170.0,
         "airliner": 300.0, "jet": 700.0, "unknown": 700.0}
SLACK_M = 500.0
OVERLAP_S = 30.0


def piece(pid: str, track: str, category: str, t0: float, first: tuple[float, float] | None,
          t1: float, last: tuple[float, float] | None, lost: bool = True) -> TrackPiece:
    return TrackPiece(pid, "Z", track, category, t0, first, t1, last, lost)


def reference_speed(a: str, b: str) -> float:
    """The faster of the two categories; an unknown one does not count unless both are."""
    known = [c for c in (a, b) if c != "unknown"]
    return max(SPEED[c] for c in known) if known else SPEED["unknown"]


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-60.0, 60.0), lon=st.floats(-179.0, 179.0),
       bearing=st.floats(0.0, 360.0), gap_s=st.floats(-60.0, 120.0),
       ratio=st.one_of(st.floats(0.0, 0.99), st.floats(1.01, 3.0)),
       cats=st.tuples(st.sampled_from(sorted(SPEED)), st.sampled_from(sorted(SPEED))),
       link_s=st.sampled_from([30.0, 60.0, 90.0]))
def test_a_new_track_links_where_the_lost_target_could_have_flown(
        lat: float, lon: float, bearing: float, gap_s: float, ratio: float,
        cats: tuple[str, str], link_s: float) -> None:
    reach = reference_speed(*cats) * abs(gap_s) + SLACK_M
    lon2, lat2, _ = GEOD.fwd(lon, lat, bearing, ratio * reach)
    lost = piece("a", "R1", cats[0], 0.0, None, 1000.0, (lat, lon))
    new = piece("b", "R2", cats[1], 1000.0 + gap_s, (lat2, lon2), 2000.0, None)
    expected = -OVERLAP_S <= gap_s <= link_s and ratio < 1.0
    got = link_reach(lost, new, link_s)
    assert (got is not None) == expected, (got, reach)
    if got is not None:
        assert got[0] == pytest.approx(ratio * reach, abs=0.01)
        assert got[1] == pytest.approx(reach)


def test_only_a_track_lost_inside_and_of_another_track_and_zone_links() -> None:
    lost = piece("a", "R1", "drone", 0.0, None, 100.0, (55.6, 12.6))
    new = piece("b", "R2", "drone", 110.0, (55.6, 12.601), 200.0, None)
    assert link_reach(lost, new, 60.0) is not None  # 63 m in 10 s
    exited = piece("a", "R1", "drone", 0.0, None, 100.0, (55.6, 12.6), lost=False)
    assert link_reach(exited, new, 60.0) is None  # it left the zone: nothing was lost
    same = piece("b", "R1", "drone", 110.0, (55.6, 12.601), 200.0, None)
    assert link_reach(lost, same, 60.0) is None  # a track's own re-entry is rule 1's
    other_zone = TrackPiece("b", "Y", "R2", "drone", 110.0, (55.6, 12.601), 200.0, None, True)
    assert link_reach(lost, other_zone, 60.0) is None
    assert link_reach(lost, new, 0.0) is None  # link_s 0: never


def test_the_nearest_tail_relative_to_its_reach_wins() -> None:
    # two drones lost 10 s and 40 s before the new track begins, 1,000 m and 2,000 m
    # from its first fix: reaches 1,700 m and 5,300 m, ratios 0.59 and 0.38
    here = (55.6, 12.6)

    def north_of(d_m: float) -> tuple[float, float]:
        lon2, lat2, _ = GEOD.fwd(here[1], here[0], 0.0, d_m)
        return (lat2, lon2)

    new = piece("n", "R9", "drone", 1000.0, here, 1100.0, None)
    near = piece("a", "R1", "drone", 0.0, None, 990.0, north_of(1000.0))
    far = piece("b", "R2", "drone", 0.0, None, 960.0, north_of(2000.0))
    assert link(new, [("i1", near), ("i2", far)], 60.0) == ("i2", far)
    assert link(new, [("i1", near)], 60.0) == ("i1", near)
    assert link(new, [("i1", near), ("i2", far)], 30.0) == ("i1", near)  # 40 s: too late
    assert link(new, [], 60.0) is None


def test_a_record_with_a_transponder_is_no_piece() -> None:
    rec = {"id": "x", "zone": "Z", "track": "4b1805", "icao24": "4b1805",
           "classification": {"cooperative": True, "category": "airliner"},
           "exited_at": None, "entry_point": None, "first_inside_point": {"lat": 1, "lon": 2},
           "last_inside_point": {"lat": 1, "lon": 2}}
    assert TrackPiece.of(rec, 0.0, 1.0) is None
    dark = {**rec, "track": "R0001", "icao24": "4b1805",
            "classification": {"cooperative": False, "category": "airliner"}}
    assert TrackPiece.of(dark, 0.0, 1.0) is None  # fusion knows its address: its identity
    radar = {**dark, "icao24": None}
    p = TrackPiece.of(radar, 0.0, 1.0)
    assert p is not None and p.first_point == (1.0, 2.0) and p.lost_inside


# ------------------------------------------------------------ through scan --store
CENTRE = (55.6181, 12.6561)  # the zone: a 8 km circle
T0 = 1758574800.0  # 2025-09-22T21:00:00Z


def leg(track: str, t0: float, start_m: tuple[float, float], bearing: float, speed: float,
        seconds: float, step_s: float = 4.0) -> pd.DataFrame:
    """Fixes every ``step_s`` from ``start_m`` (east, north metres from the centre)
    along ``bearing`` at ``speed`` m/s, at 150 m, as a radar track reports them."""
    lon0, lat0, _ = GEOD.fwd(CENTRE[1], CENTRE[0], 90.0, start_m[0])
    lon0, lat0, _ = GEOD.fwd(lon0, lat0, 0.0, start_m[1])
    t = np.arange(0.0, seconds + 1e-9, step_s)
    lon, lat, _ = GEOD.fwd(np.full(t.size, lon0), np.full(t.size, lat0),
                           np.full(t.size, bearing), speed * t)
    return pd.DataFrame({"time": T0 + t0 + t, "icao24": track, "lat": lat, "lon": lon,
                         "geoaltitude": 150.0, "velocity": speed, "heading": bearing})


def scan_store(tmp_path: Path, data: pd.DataFrame, *extra: str) -> list[dict]:
    f = tmp_path / "tracks.csv"
    data.to_csv(f, index=False)
    store = str(tmp_path / "s.sqlite")
    assert main(["scan", str(f), "--circle", f"EKCH:{CENTRE[0]},{CENTRE[1]},8",
                 "--all-entries", "--format", "jsonl", "-o", str(tmp_path / "out.jsonl"),
                 "--store", store, *extra]) == 0
    with IncidentStore.open(store) as s:
        out = [dict(r) for r in incident_records(s, every=True)]
        for r in out:
            r["audit"] = [a["kind"] for a in incident_detail(s, r["id"])["audit"]]
    return out


def broken_drones() -> pd.DataFrame:
    """Radar tracks of drones at 20 m/s (positions in metres east and north of the
    centre), and two transponder tracks."""
    return pd.concat([
        # R0001 enters from the west and is lost 1 km west of the centre at t = 400 s;
        # R0002 begins 20 s later 500 m further east (20 m/s x 20 s = 400 m flown: within
        # 120 x 20 + 500 m) and flies out east: one drone, one incident
        leg("R0001", 0.0, (-9000.0, 0.0), 90.0, 20.0, 400.0),
        leg("R0002", 420.0, (-500.0, 0.0), 90.0, 20.0, 600.0),
        # R0003 begins at the same time 4 km south of where R0001 was lost: 4,100 m
        # off, beyond the 2,900 m a drone flies in 20 s: another drone's incident
        leg("R0003", 420.0, (-1000.0, -4000.0), 90.0, 20.0, 600.0),
        # R0007 begins 300 m from where R0001 was lost, 25 s after: near enough, but
        # R0002 continues that drone already (an incident's latest piece is continued,
        # and R0002 is still flying): a second drone
        leg("R0007", 425.0, (-1000.0, 300.0), 0.0, 20.0, 600.0),
        # R0005 lost 3 km north of the centre at t = 2,000 s, R0006 begins there 100 s
        # later: longer than link_s (60 s), two incidents
        leg("R0005", 1600.0, (-9000.0, 3000.0), 90.0, 20.0, 400.0),
        leg("R0006", 2100.0, (-1000.0, 3000.0), 90.0, 20.0, 500.0),
        # the same break by two transponder tracks (ICAO addresses): never linked
        leg("4b1805", 3000.0, (-9000.0, -2000.0), 90.0, 20.0, 400.0),
        leg("4b1806", 3420.0, (-500.0, -2000.0), 90.0, 20.0, 600.0),
    ], ignore_index=True)


def test_scan_store_links_a_lost_drone_and_its_continuation_only(tmp_path: Path) -> None:
    incidents = scan_store(tmp_path, broken_drones())
    by_first = {r["track"]: r for r in incidents}
    # every radar piece is a drone (slow and low): the speed bound is the drone's
    records = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert {r["classification"]["category"] for r in records
            if not r["classification"]["cooperative"]} == {"drone"}
    assert sorted(by_first) == ["4b1805", "4b1806", "R0001", "R0003", "R0005", "R0006",
                                "R0007"]
    joined = by_first["R0001"]
    assert joined["tracks"] == ["R0001", "R0002"] and len(joined["entries"]) == 2
    assert "linked" in joined["audit"]
    for t in ("R0003", "R0005", "R0006", "R0007", "4b1805", "4b1806"):
        assert by_first[t]["tracks"] == [t] and "linked" not in by_first[t]["audit"]
    # the joined incident spans both pieces: first entry of R0001 to R0002's exit
    r2 = next(r for r in records if r["track"] == "R0002")
    assert joined["last_exited_at"] == r2["exited_at"]
    # `incidents list --track` finds the incident by its continuing track too
    out = tmp_path / "list.jsonl"
    assert main(["incidents", "list", "--store", str(tmp_path / "s.sqlite"), "--all",
                 "--track", "R0002", "--format", "jsonl", "-o", str(out)]) == 0
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [joined["id"]]


def test_link_s_zero_keeps_every_track_its_own_incident(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules: []\notherwise: {violation: true, severity: critical}\n"
                      "incidents: {link_s: 0}\n")
    data = broken_drones()
    incidents = scan_store(tmp_path, data[data["icao24"].isin(["R0001", "R0002"])],
                           "--policy", str(policy))
    assert sorted(r["track"] for r in incidents) == ["R0001", "R0002"]


@pytest.mark.parametrize("batches", [1, 7, 40])
def test_an_entry_knows_its_first_and_last_inside_fix_whatever_the_batches(
        batches: int) -> None:
    from skyfence.airspace.zones import circle_zone
    from skyfence.detect.entries import EntryDetector
    from skyfence.model import make_observations

    data = leg("R0001", 0.0, (-9000.0, 0.0), 90.0, 20.0, 400.0)
    lat, lon = data["lat"].to_numpy(), data["lon"].to_numpy()
    # reference: inside is a geodesic distance from the centre under 8 km (the fixes
    # are 80 m apart, 40 m either side of the boundary, far more than the polygon's
    # departure from the true circle)
    _, _, dist = GEOD.inv(np.full(lat.size, CENTRE[1]), np.full(lat.size, CENTRE[0]), lon, lat)
    inside = np.flatnonzero(dist < 8000.0)
    det = EntryDetector([circle_zone("EKCH", CENTRE[0], CENTRE[1], 8.0)])
    events = []
    for rows in np.array_split(np.arange(len(data)), batches):
        part = data.iloc[rows]
        events += det.process(make_observations(
            time=part["time"], icao24=part["icao24"], lat=part["lat"], lon=part["lon"]))
    events += det.close()
    (entry,) = [e.entry for e in events if e.kind in ("exit", "open")]
    assert entry.exited_at is None  # lost inside
    assert entry.first_inside_point == (lat[inside[0]], lon[inside[0]])
    assert entry.last_inside_point == (lat[inside[-1]], lon[inside[-1]])


def test_watch_keeps_drones_flying_side_by_side_apart(tmp_path: Path) -> None:
    """Live, a track's entry stays open while it flies: two drones entering 15 s and
    300 m apart are two incidents, not one drone continued by the other (as a linked
    swarm once collapsed 12 drones into 3 incidents)."""
    data = pd.concat([
        leg("R0011", 0.0, (-9000.0, 0.0), 90.0, 20.0, 800.0),
        leg("R0012", 15.0, (-9000.0, 300.0), 90.0, 20.0, 800.0),
    ], ignore_index=True).sort_values("time", kind="stable")
    f = tmp_path / "swarm.csv"
    data.to_csv(f, index=False)
    store = str(tmp_path / "live.sqlite")
    assert main(["watch", "--replay", str(f), "--speed", "0", "--circle",
                 f"EKCH:{CENTRE[0]},{CENTRE[1]},8", "--horizon", "0", "--format", "jsonl",
                 "-o", str(tmp_path / "alerts.jsonl"), "--store", store,
                 "--webhook-drain", "0"]) == 0
    with IncidentStore.open(store) as s:
        tracks = sorted(tuple(r["tracks"]) for r in incident_records(s, every=True))
    assert tracks == [("R0011",), ("R0012",)]
