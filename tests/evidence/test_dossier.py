"""Dossier round trip and every tamper case, on a track whose figures are known by hand.

The track: ICAO ``abc123`` flies due east along 59.5 N at 0.001 degree of longitude per
second, one fix every 10 s from lon 22.503 at t0 = 2025-09-19T06:30:00Z. The zone ``BOX``
spans lon 24..25, lat 59..60. By hand: it crosses lon 24 at t0 + 1497 s and lon 25 at
t0 + 2497 s (duration 1000 s); the window (± 600 s) holds the fixes k = 90..309 (220).
The depth reference is a brute-force geodesic minimum (pyproj) over the meridian edges
sampled every 1e-5 degree (the parallels are 55 km away, the meridians 28 km).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skyfence.cli import main
from skyfence.evidence.dossier import seal_dossier
from skyfence.evidence.keys import init_keys
from skyfence.evidence.log import StationLog

T0 = 1758263400.0  # 2025-09-19T06:30:00Z
N_FIXES = 351


def _inputs(d: Path) -> tuple[Path, Path]:
    k = np.arange(N_FIXES)
    track = pd.DataFrame({"time": T0 + 10.0 * k, "icao24": "ABC123", "lat": 59.5,
                          "lon": 22.503 + 0.01 * k, "geoaltitude": 9000.0,
                          "velocity": 56.6, "callsign": "TEST1"})
    other = pd.DataFrame({"time": T0 + 10.0 * k, "icao24": "def456", "lat": 58.0,
                          "lon": 22.5 + 0.01 * k, "geoaltitude": 10000.0,
                          "velocity": 230.0, "callsign": "OTHER"})
    rows = pd.concat([track, other]).sort_values("time", kind="stable")
    csv = d / "positions.csv"
    rows.to_csv(csv, index=False)
    zones = d / "box.geojson"
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "BOX"},
        "geometry": {"type": "Polygon", "coordinates": [
            [[24, 59], [25, 59], [25, 60], [24, 60], [24, 59]]]}}]}))
    return csv, zones


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("dossier")
    csv, zones = _inputs(d)
    assert main(["keys", "init", "--dir", str(d / "keys")]) == 0
    rc = main(["dossier", "build", "--scan", str(csv), "--zones-file", str(zones),
               "--track", "abc123", "--key-dir", str(d / "keys"), "--log", str(d / "log"),
               "-o", str(d / "dossier")])
    assert rc == 0
    pub = next((d / "keys").glob("*.pub"))
    return {"dir": d, "dossier": d / "dossier", "pub": pub, "log": d / "log",
            "keys": d / "keys"}


def _verify(path: Path, *extra: str) -> tuple[int, str]:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["dossier", "verify", str(path), *extra])
    return rc, buf.getvalue()


def _copy(built: dict[str, Path], tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(built["dossier"], dst)
    return dst


def test_claim_has_the_hand_derived_figures(built: dict[str, Path]) -> None:
    claim = json.loads((built["dossier"] / "claim.json").read_text())
    rec = claim["incident"]
    assert rec["track"] == "abc123" and rec["zone"] == "BOX"
    assert rec["entered_at"] == "2025-09-19T06:54:57.000Z"  # t0 + 1497 s
    assert rec["exited_at"] == "2025-09-19T07:11:37.000Z"   # t0 + 2497 s
    assert rec["duration_s"] == pytest.approx(1000.0, abs=1e-3)
    assert rec["observations"] == 100  # fixes k = 150..249 (lon 24.003 .. 24.993)
    assert claim["observations"]["rows"] == 220
    # depth: brute force over both meridian edges near the track
    geod = Geod(ellps="WGS84")
    lat_s = np.arange(59.3, 59.7, 1e-5)
    best = 0.0
    for k in range(195, 206):  # the fixes around lon 24.5
        lon = 22.503 + 0.01 * k
        d = min(geod.inv(np.full(lat_s.size, lon), np.full(lat_s.size, 59.5),
                         np.full(lat_s.size, edge), lat_s)[2].min() for edge in (24.0, 25.0))
        best = max(best, d)
    assert rec["max_depth_m"] == pytest.approx(best, abs=0.2)
    assert claim["zone"]["kind"] == "custom"
    assert claim["custody"]["inputs"][0]["name"].endswith("positions.csv")
    assert claim["custody"]["signing_key"] == built["pub"].stem


def test_the_window_is_ten_minutes_either_side_of_the_entry_and_the_exit(
        built: dict[str, Path]) -> None:
    """The observations' window runs from 10 minutes (PAD_S; more than the 300 s gap)
    before the entry to 10 minutes after the *exit* (t0 + 2497 s), not after the last
    inside fix (t0 + 2490 s): by hand, t0 + 897 s and t0 + 3097 s."""
    claim = json.loads((built["dossier"] / "claim.json").read_text())
    w = claim["window"]
    assert (w["start_unix_s"], w["end_unix_s"]) == (T0 + 897.0, T0 + 3097.0)
    assert (w["start"], w["end"]) == ("2025-09-19T06:44:57.000Z", "2025-09-19T07:21:37.000Z")
    assert w["gap_s"] == 300.0


def test_dossier_files_and_source_rows(built: dict[str, Path]) -> None:
    names = sorted(p.name for p in built["dossier"].iterdir())
    assert names == ["claim.json", "map.png", "observations.csv", "observations.parquet",
                     "policy.yaml", "profile.png", "report.html", "report.pdf", "signer.pub",
                     "source-rows.csv", "statement.dsse.json", "zone.geojson"]
    src = pd.read_csv(built["dossier"] / "source-rows.csv", dtype=str)
    assert len(src) == 220 and set(src["icao24"]) == {"ABC123"}  # as written, upper case
    # data row numbers in the input: the track's fix k is row 2k+1 or 2k+2 (two aircraft
    # per time stamp, sorted stably: the track first)
    assert src["source_row"].astype(int).tolist() == [2 * k + 1 for k in range(90, 310)]
    for p in built["dossier"].iterdir():
        assert b"PRIVATE KEY" not in p.read_bytes(), p.name
    html = (built["dossier"] / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and "<img" in html
    assert (built["dir"] / "dossier.zip").is_file()


def test_round_trip_verifies(built: dict[str, Path]) -> None:
    rc, out = _verify(built["dossier"], "--key", str(built["pub"]), "--log", str(built["log"]))
    assert rc == 0, out
    assert out.startswith("OK ")
    assert "2025-09-19T06:54:57.000Z" in out and "agrees" in out and "DIFFERS" not in out
    rc, out = _verify(built["dir"] / "dossier.zip", "--key", str(built["pub"]))
    assert rc == 0, out


FILES = ["claim.json", "map.png", "observations.csv", "observations.parquet", "policy.yaml",
         "profile.png", "report.html", "report.pdf", "signer.pub", "source-rows.csv",
         "zone.geojson"]


@pytest.mark.parametrize("name", [*FILES, "statement.dsse.json"])
def test_flipping_a_byte_of_any_file_fails_naming_it(built: dict[str, Path], tmp_path: Path,
                                                     name: str) -> None:
    d = _copy(built, tmp_path)
    data = bytearray((d / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (d / name).write_bytes(bytes(data))
    rc, out = _verify(d, "--key", str(built["pub"]))
    assert rc == 1
    assert out.startswith("FAILED")
    if name == "statement.dsse.json":
        assert "statement.dsse.json" in out
    else:
        assert f"- {name}: SHA-256 differs from the signed statement" in out


@pytest.mark.parametrize("name", FILES)
def test_removing_a_file_fails_naming_it(built: dict[str, Path], tmp_path: Path,
                                         name: str) -> None:
    d = _copy(built, tmp_path)
    (d / name).unlink()
    rc, out = _verify(d, "--key", str(built["pub"]))
    assert rc == 1 and f"- {name}: missing" in out


def test_added_file_and_missing_statement_fail(built: dict[str, Path], tmp_path: Path) -> None:
    d = _copy(built, tmp_path)
    (d / "extra.txt").write_text("added later")
    rc, out = _verify(d, "--key", str(built["pub"]))
    assert rc == 1 and "- extra.txt: not listed in the signed statement" in out
    (d / "statement.dsse.json").unlink()
    rc, out = _verify(d)
    assert rc == 1 and "statement.dsse.json: missing" in out


def _forge_depth(built: dict[str, Path], tmp_path: Path) -> Path:
    """Edit the claimed depth and re-sign the whole dossier with another key and log,
    as someone holding skyfence but not the station key would."""
    d = _copy(built, tmp_path)
    claim = json.loads((d / "claim.json").read_text())
    claim["incident"]["max_depth_m"] = 9000.0
    (d / "claim.json").write_text(json.dumps(claim, indent=2))
    other = init_keys(tmp_path / "other-keys")
    from skyfence.evidence.keys import public_key_pem

    (d / "signer.pub").write_bytes(public_key_pem(other.public))
    seal_dossier(d, claim, other, StationLog(tmp_path / "other-log"))
    return d


def test_edited_depth_resigned_with_another_key_fails(built: dict[str, Path],
                                                      tmp_path: Path) -> None:
    d = _forge_depth(built, tmp_path)
    rc, out = _verify(d, "--key", str(built["pub"]))
    assert rc == 1
    assert "signature: signed by key" in out and "not by the given key" in out
    assert ("claim.json: incident.max_depth_m: claimed 9000.0, re-derived "
            in out), out
    # without the station key the forged signature holds, but the data still refute it
    rc, out = _verify(d)
    assert rc == 1
    assert "signature: valid, by key" in out
    assert "incident.max_depth_m: claimed 9000.0" in out


def test_truncated_station_log_fails(built: dict[str, Path], tmp_path: Path) -> None:
    log = tmp_path / "log"
    shutil.copytree(built["log"], log)
    (log / "entries.jsonl").write_text("")
    rc, out = _verify(built["dossier"], "--key", str(built["pub"]), "--log", str(log))
    assert rc == 1
    assert "holds 0 entries, but this dossier's checkpoint signed 1: the log was truncated" in out


def test_truncated_inclusion_proof_fails(built: dict[str, Path], tmp_path: Path) -> None:
    """A log entry whose proof lost a hash (re-signed by the station key itself, so only
    the Merkle check can catch it)."""
    key_dir = tmp_path / "k"
    key = init_keys(key_dir)
    slog = StationLog(tmp_path / "log")
    for i in range(3):  # earlier entries, so the proof has hashes to lose
        slog.append(bytes([i]) * 32, key)
    d = _copy(built, tmp_path)
    claim = json.loads((d / "claim.json").read_text())
    from skyfence.evidence.dsse import read_envelope, sign_statement
    from skyfence.evidence.hashing import pretty_json
    from skyfence.evidence.keys import public_key_pem

    (d / "signer.pub").write_bytes(public_key_pem(key.public))
    seal_dossier(d, claim, key, slog)
    env = read_envelope((d / "statement.dsse.json").read_bytes())
    st = env.statement
    assert len(st["predicate"]["log"]["inclusion_proof"]) == 2
    st["predicate"]["log"]["inclusion_proof"].pop()
    (d / "statement.dsse.json").write_bytes(pretty_json(sign_statement(st, key)))
    pub = next(key_dir.glob("*.pub"))
    rc, out = _verify(d, "--key", str(pub))
    assert rc == 1 and "log: inclusion proof of entry 3" in out


def test_build_needs_a_key_and_refuses_a_used_directory(built: dict[str, Path],
                                                        tmp_path: Path) -> None:
    csv, zones = _inputs(tmp_path)
    args = ["dossier", "build", "--scan", str(csv), "--zones-file", str(zones),
            "--track", "abc123", "--log", str(tmp_path / "log")]
    assert main([*args, "--key-dir", str(tmp_path / "nokeys"), "-o", str(tmp_path / "d")]) == 2
    assert main([*args, "--key-dir", str(built["keys"]), "-o", str(built["dossier"])]) == 2
    assert main([*args[:-2], "--track", "zzzzzz", "--key-dir", str(built["keys"]),
                 "-o", str(tmp_path / "d2")]) == 2
    assert main(["dossier", "build", "0123456789abcdef", "--key-dir", str(built["keys"]),
                 "-o", str(tmp_path / "d3")]) == 2


def test_dossier_for_incident_is_what_a_watcher_calls(tmp_path: Path) -> None:
    from skyfence.airspace.zones import zones_from_geojson
    from skyfence.api import run_scan
    from skyfence.evidence import dossier_for_incident
    from skyfence.evidence.verify import verify_dossier
    from skyfence.policy import Policy
    from skyfence.sources.tabular import read_table

    csv, zones_file = _inputs(tmp_path)
    obs = read_table(csv)
    zones = zones_from_geojson(zones_file)
    result = run_scan([obs], zones, policy=Policy())
    rec = next(r for r in result.records if r["track"] == "abc123")
    key = init_keys(tmp_path / "keys")
    d = dossier_for_incident(rec, obs, zones[0], Policy(), tmp_path / "dossiers", key,
                             StationLog(tmp_path / "log"))
    assert d.path.name == f"2025-09-19-BOX-abc123-{rec['id']}"
    assert verify_dossier(d.path, key.public).ok
    claim = json.loads((d.path / "claim.json").read_text())
    assert claim["observations"]["rows"] == 220 and claim["source_rows"]["file"] is None


def test_policy_snapshot_keeps_a_document_policy(tmp_path: Path) -> None:
    """A policy given as a document (no file) is stored as YAML that compiles back to the
    same rules and judges the same."""
    from skyfence.evidence.claim import PolicySnapshot
    from skyfence.policy import Policy

    doc = {"name": "test centre", "rules": [
        {"name": "deep", "when": {"min_depth_m": 1000}, "violation": True,
         "severity": "warning", "reason": "deep inside {where}"}]}
    pol = Policy(["RUS"], document=doc)
    snap = PolicySnapshot.of(pol)
    back = snap.to_policy()
    assert back.name == "test centre" and back.rules == pol.rules
    assert back.watch_states == pol.watch_states == frozenset({"RUS"})
