"""Implausible and spoofed fixes (issue 16, part 2): flagged, counted, never the only
ground for an entry.

The honest track: ICAO ``4b1805`` flies due east along 59.5 N at 250 m/s, one fix every
5 s from lon 23.0 (t0 = 2025-09-19T06:30:00Z). At 59.5 N one degree of longitude is
111.32 km * cos(59.5 deg) = 56.5 km, so 250 m/s is 0.004425 degree/s and the track
reaches lon 23.0 + 0.004425 * 5 * 119 = 25.63 at its last fix (k = 119).

``NORTH`` (lon 24.5..25.5, lat 60..61) lies 0.5 degree (55.6 km) north of the track: by
hand it is never entered. ``CROSSED`` (lon 23.5..24.0, lat 59..60) is crossed: the
track enters at lon 23.5 (k = 22.6) and leaves at lon 24.0 (k = 45.2), so one entry.
A fix moved into NORTH jumps at least 55 km in 5 s (11 km/s): out of reach of any
aircraft (the limit is 1500 m/s), and the track goes on from its neighbours as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from skyfence.airspace.zones import Zone
from skyfence.cli import main
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.detect.integrity import IntegrityConfig, distance_m
from skyfence.model import make_observations

T0 = 1758263400.0
N = 120
DEG_PER_S = 250.0 / (111_320.0 * np.cos(np.radians(59.5)))
NORTH = Zone("NORTH", "custom", shapely.box(24.5, 60.0, 25.5, 61.0))
CROSSED = Zone("CROSSED", "custom", shapely.box(23.5, 59.0, 24.0, 60.0))


def honest(n: int = N) -> pd.DataFrame:
    k = np.arange(n)
    return pd.DataFrame({"time": T0 + 5.0 * k, "icao24": "4b1805", "lat": 59.5,
                         "lon": 23.0 + DEG_PER_S * 5.0 * k, "altitude": 9000.0})


def entries(obs: pd.DataFrame, zones: list[Zone], **integrity: object) -> tuple[
        list[object], EntryDetector]:
    cfg = DetectorConfig(integrity=IntegrityConfig(**integrity))  # type: ignore[arg-type]
    det = EntryDetector(zones, cfg)
    batch = make_observations(**{c: obs[c].to_numpy() for c in obs.columns})
    ev = det.process(batch) + det.close()
    return sorted((e.entry for e in ev if e.kind in ("exit", "open")),
                  key=lambda e: (e.zone, e.entered_at)), det


def test_the_honest_track_enters_crossed_only_and_is_clean() -> None:
    found, det = entries(honest(), [NORTH, CROSSED])
    assert [e.zone for e in found] == ["CROSSED"]
    assert found[0].integrity == ()
    assert det.rejected_implausible == 0


@pytest.mark.parametrize("k", [70, 80, 100])
def test_one_bad_fix_inside_a_zone_makes_no_entry(k: int) -> None:
    obs = honest()
    obs.loc[k, "lat"] = 60.5  # inside NORTH (lon at k = 70..100 is 24.55..25.21)
    assert NORTH.geometry.contains(shapely.Point(obs.loc[k, "lon"], 60.5))
    found, det = entries(obs, [NORTH, CROSSED])
    assert [e.zone for e in found] == ["CROSSED"]
    assert det.rejected_implausible == 1
    # the record of the track's other entry names what was found (up to its end, so
    # only when the bad fix came before it: here it comes after, so the entry is clean)
    assert found[0].integrity == ()


def test_a_bad_fix_before_an_entry_is_named_in_its_record() -> None:
    obs = honest()
    obs.loc[10, "lat"] = 58.0  # 167 km south in 5 s, before the crossing (k = 22.6)
    found, det = entries(obs, [NORTH, CROSSED])
    assert [e.zone for e in found] == ["CROSSED"]
    assert found[0].integrity == ("1 fix rejected: position jump faster than 1500 m/s",)
    assert det.integrity is not None and det.integrity.rejected["speed"] == 1


def test_without_the_check_the_bad_fix_is_an_incursion() -> None:
    """The counterfactual: the same data screened as they are give a NORTH entry."""
    obs = honest()
    obs.loc[80, "lat"] = 60.5
    det = EntryDetector([NORTH, CROSSED], DetectorConfig(integrity=None))
    ev = det.process(make_observations(**{c: obs[c].to_numpy() for c in obs.columns}))
    assert "NORTH" in {e.entry.zone for e in ev + det.close()}


def test_a_second_position_stream_under_the_same_address_is_called_out() -> None:
    # the spoofer sends a message every 10 s from a path inside NORTH (lat 60.5, flying
    # east at 250 m/s too), between the honest ones (every 5 s), from k = 5 on
    obs = honest()
    spoof = obs.iloc[5::2].copy()
    spoof["time"] += 2.5
    spoof["lat"] = 60.5
    spoof["lon"] = 24.6 + DEG_PER_S * (spoof["time"] - T0)
    both = pd.concat([obs, spoof]).sort_values("time", ignore_index=True)
    found, det = entries(both, [NORTH, CROSSED])
    assert [e.zone for e in found] == ["CROSSED"]
    assert "second position stream under the same ICAO address" in found[0].integrity
    assert det.rejected_implausible == len(spoof)


def test_an_altitude_jump_into_a_layer_makes_no_entry() -> None:
    # HIGH is the box under the track from 15 000 m up: the track flies at 9 000 m. One
    # fix says 20 000 m: 11 km up in 5 s (2200 m/s, the limit is 300 m/s).
    high = Zone("HIGH", "custom", shapely.box(24.0, 59.0, 25.0, 60.0), floor_m=15_000.0)
    obs = honest()
    obs.loc[70, "altitude"] = 20_000.0
    assert 24.0 < obs.loc[70, "lon"] < 25.0
    found, det = entries(obs, [high])
    assert found == []
    assert det.integrity is not None and det.integrity.rejected["altitude"] == 1
    found, _ = entries(obs, [high], max_climb_ms=5000.0)  # a planted wrong limit
    assert [e.zone for e in found] == ["HIGH"]


def test_positions_beyond_the_receiver_range_are_rejected() -> None:
    # receiver at (59.5, 23.0); one fix at (59.5, 40.0): 17 degrees of longitude at
    # 59.5 N is 17 * 56.5 = 960 km away, beyond the 700 km default
    obs = honest()
    obs.loc[30, "lon"] = 40.0
    assert distance_m(59.5, 23.0, 59.5, 40.0) == pytest.approx(960e3, rel=0.01)
    found, det = entries(obs, [NORTH, CROSSED], receiver=(59.5, 23.0))
    assert det.integrity is not None and det.integrity.rejected["range"] == 1
    assert [e.zone for e in found] == ["CROSSED"]


def test_a_track_consistently_too_fast_is_kept_and_named() -> None:
    # ten times the honest steps: 11 km per 5 s (2.2 km/s, beyond 1500 m/s * 5 s plus
    # the 1.5 km slack); the fixes agree with each other, so nothing is rejected and the
    # crossing (lon 23.5 at k = 2.3) stays, named
    obs = honest()
    obs["lon"] = 23.0 + 10 * DEG_PER_S * (obs["time"] - T0)
    found, det = entries(obs, [NORTH, CROSSED])
    assert [e.zone for e in found] == ["CROSSED"]
    assert det.rejected_implausible == 0
    assert any("kept: the track goes on from there" in r for r in found[0].integrity)
    # too fast all along: no single jump, so the entry is not one made by a jump
    assert not any(r.startswith("entered by a position jump") for r in found[0].integrity)


def test_chunked_batches_reject_the_same_fix() -> None:
    obs = honest()
    obs.loc[80, "lat"] = 60.5
    batch = make_observations(**{c: obs[c].to_numpy() for c in obs.columns})
    det = EntryDetector([NORTH, CROSSED])
    ev = []
    for part in np.array_split(np.arange(N), [50, 79, 83]):  # the bad fix mid-chunk
        ev += det.process(batch.iloc[part])
    ev += det.close()
    assert {e.entry.zone for e in ev} == {"CROSSED"}
    assert det.rejected_implausible == 1


def test_scan_command_prints_integrity_and_no_false_incursion(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    obs = honest().rename(columns={"altitude": "geoaltitude"})
    obs.loc[10, "lat"] = 58.0  # before the crossing: named in its record
    obs.loc[80, "lat"] = 60.5  # inside NORTH: must not make an entry
    csv = tmp_path / "positions.csv"
    obs.to_csv(csv, index=False)
    zones = tmp_path / "zones.geojson"
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": z.name},
         "geometry": shapely.geometry.mapping(z.geometry)} for z in (NORTH, CROSSED)]}))
    assert main(["scan", str(csv), "--zones-file", str(zones), "--all-entries",
                 "--format", "jsonl"]) == 0
    records = [json.loads(ln) for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert [r["zone"] for r in records] == ["CROSSED"]
    assert records[0]["integrity"] == ["1 fix rejected: position jump faster than 1500 m/s"]


def test_a_bad_last_fix_inside_a_zone_makes_no_entry() -> None:
    obs = honest(101)  # last fix k = 100 at lon 25.21
    obs.loc[100, "lat"] = 60.5  # inside NORTH, and the track's last word
    found, det = entries(obs, [NORTH, CROSSED])
    assert [e.zone for e in found] == ["CROSSED"]
    assert det.rejected_implausible == 1


def test_a_track_that_really_moved_loses_at_most_one_fix_in_a_live_feed() -> None:
    # two fixes a batch (a 2 Hz feed cut in 1 s batches), the jump 55 km north at k = 60
    # the last of its batch: then it cannot be told from an outlier and is rejected; the
    # next batch's fixes agree with each other, so the track goes on from the new place
    # (lat 60.5) and enters NORTH there (lon 24.5 is passed at k = 67.8)
    obs = honest()
    obs.loc[60:, "lat"] = 60.5
    batch = make_observations(**{c: obs[c].to_numpy() for c in obs.columns})
    det = EntryDetector([NORTH, CROSSED])
    ev = det.process(batch.iloc[:1])
    for k in range(1, N, 2):
        ev += det.process(batch.iloc[k:k + 2])
    ev += det.close()
    assert det.rejected_implausible == 1
    assert {e.entry.zone for e in ev} == {"CROSSED", "NORTH"}


def test_scan_with_a_receiver_position_leaves_out_tracks_beyond_its_reach(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a second, self-consistent track at lon 40 (960 km east of the receiver at lon 23,
    # see above) flies through the circle FAR; the honest track crosses CROSSED
    far = honest().assign(icao24="abcdef", lon=lambda d: d["lon"] - 23.0 + 39.0)
    obs = pd.concat([honest(), far]).rename(columns={"altitude": "geoaltitude"})
    csv = tmp_path / "positions.csv"
    obs.to_csv(csv, index=False)
    args = ["scan", str(csv), "--circle", "FAR:59.5,40.0,30", "--circle",
            "NEAR:59.5,23.75,10", "--all-entries", "--format", "jsonl"]
    assert main(args) == 0
    zones = [json.loads(ln)["zone"] for ln in capsys.readouterr().out.splitlines() if ln]
    assert sorted(zones) == ["FAR", "NEAR"]
    assert main([*args, "--ref", "59.5,23.0"]) == 0
    zones = [json.loads(ln)["zone"] for ln in capsys.readouterr().out.splitlines() if ln]
    assert zones == ["NEAR"]
    # the Dask engine's partitions screen the same way
    assert main([*args, "--ref", "59.5,23.0", "--engine", "dask", "--workers", "1"]) == 0
    zones = [json.loads(ln)["zone"] for ln in capsys.readouterr().out.splitlines() if ln]
    assert zones == ["NEAR"]
