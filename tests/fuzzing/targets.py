"""Every parser and loader as a fuzz target: bytes in, an outcome checked.

A target writes the bytes where the loader reads them (a file with the name the format
is chosen by) and runs the loader the way the command line does. What it may do:

- return data, which must then be usable (positions finite and on the globe, times
  finite): a misread must never become a position;
- raise a :class:`~skyfence.errors.SkyfenceError` whose message is one line (the
  command line prints it as ``skyfence: error: ...``) and names the file it read.

Anything else (another exception, a multi-line message, a message that does not say
which file) is a crash: the target raises :class:`Crash`, which both the Hypothesis tests
and the atheris harness (``fuzz/atheris_main.py``) report with the input.

The seed inputs are in ``fuzz/corpus/<target>/``; :func:`make_seeds` (re)writes the
generated ones.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyfence.errors import SkyfenceError

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "fuzz" / "corpus"
#: the radar sites and date an ASTERIX scan is given (SAC 25 is the recordings' radar)
SITES_SPEC = [(25, sic) for sic in (11, 12, 13, 14, 201, 204, 205)]
DATE = "2025-09-19"


class Crash(AssertionError):
    """A loader did something other than return usable data or raise a one-line error."""


def _check_error(exc: SkyfenceError, path: Path) -> None:
    msg = str(exc)
    if "\n" in msg.strip():
        raise Crash(f"multi-line error: {msg!r}") from exc
    if path.name not in msg:
        raise Crash(f"error does not name the file {path.name}: {msg!r}") from exc


def _check_observations(obs: pd.DataFrame) -> None:
    if len(obs) == 0:
        return
    lat, lon = obs["lat"].to_numpy(np.float64), obs["lon"].to_numpy(np.float64)
    t = obs["time"].to_numpy(np.float64)
    if not (np.isfinite(lat).all() and np.isfinite(lon).all() and np.isfinite(t).all()):
        raise Crash("non-finite position or time in the observations")
    if (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
        raise Crash("position off the globe in the observations")


def _run(path: Path, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except SkyfenceError as exc:
        _check_error(exc, path)
        return None
    except Crash:
        raise
    except RecursionError as exc:
        raise Crash(f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise Crash(f"{type(exc).__name__}: {exc}") from exc


# ---------------------------------------------------------------------- recorded files
def _recorded(data: bytes, name: str, **options: Any) -> None:
    from skyfence.radar import RadarSite
    from skyfence.sources.recorded import read_recorded

    with tempfile.TemporaryDirectory(prefix="skyfence-fuzz-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        sites = [RadarSite(sac, sic, 45.8, 16.0, 100.0) for sac, sic in SITES_SPEC]
        rec = _run(path, lambda: read_recorded([path], radar_sites=sites, date=DATE,
                                               ref=(49.0, 2.5), **options))
        if rec is not None:
            _check_observations(rec.observations)
            for frame in (rec.plots, rec.tracks):
                if frame is not None:
                    _check_observations(frame)


def sbs(data: bytes) -> None:
    """SBS-1 / BaseStation text."""
    _recorded(data, "feed.sbs", on_error="skip")


def sbs_abort(data: bytes) -> None:
    """SBS-1 text read with ``--on-error abort``."""
    _recorded(data, "feed.sbs", on_error="abort")


def beast(data: bytes) -> None:
    """Beast binary frames."""
    _recorded(data, "feed.beast")


def rawhex(data: bytes) -> None:
    """Raw hex Mode S frames (port 30002 lines)."""
    _recorded(data, "feed.raw")


def asterix(data: bytes) -> None:
    """ASTERIX data blocks (CAT048, CAT062, ...), a raw file."""
    _recorded(data, "radar.ast", on_error="skip")


def pcap(data: bytes) -> None:
    """A pcap capture of ASTERIX over UDP."""
    _recorded(data, "radar.pcap", on_error="skip")


def pcapng(data: bytes) -> None:
    """A pcapng capture of ASTERIX over UDP."""
    _recorded(data, "radar.pcapng", on_error="skip")


def csv(data: bytes) -> None:
    """Contract CSV, rows skipped and counted."""
    _recorded(data, "positions.csv", on_error="skip")


def parquet(data: bytes) -> None:
    """Contract Parquet."""
    _recorded(data, "positions.parquet", on_error="skip")


# ---------------------------------------------------------------------- zones, YAML
def _file(data: bytes, name: str, load: Callable[[Path], Any]) -> Any:
    with tempfile.TemporaryDirectory(prefix="skyfence-fuzz-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return _run(path, lambda: load(path))


def geojson(data: bytes) -> None:
    """Custom zones (``--zones-file``)."""
    from skyfence.airspace.zones import zones_from_geojson

    zones = _file(data, "zones.geojson", zones_from_geojson)
    for z in zones or []:
        if z.geometry.is_empty or not z.geometry.is_valid:
            raise Crash(f"zone {z.name!r} has an empty or invalid geometry")


def policy(data: bytes) -> None:
    """Policy YAML (``--policy``)."""
    from skyfence.policy import Policy

    _file(data, "policy.yaml", Policy.load)


def config(data: bytes) -> None:
    """Scan configuration YAML (``--config``)."""
    from skyfence.config import load_config

    _file(data, "config.yaml", load_config)


def scenario(data: bytes) -> None:
    """Scenario YAML (``skyfence demo FILE`` / ``eval FILE``)."""
    from skyfence.scenarios.spec import load_scenario

    _file(data, "scenario.yaml", load_scenario)


# ---------------------------------------------------------------------- dossiers
_DOSSIER_FILE = "statement.json"


def dossier_seed_dir() -> Path:
    """The dossier the dossier targets mutate (built once per process)."""
    global _DOSSIER
    if _DOSSIER is None:
        _DOSSIER = _build_dossier(Path(tempfile.mkdtemp(prefix="skyfence-fuzz-dossier-")))
    return _DOSSIER


_DOSSIER: Path | None = None


def _build_dossier(d: Path) -> Path:
    import contextlib
    import io

    from skyfence.cli import main

    t0 = 1758263400.0
    k = np.arange(60)
    pd.DataFrame({"time": t0 + 10.0 * k, "icao24": "abc123", "lat": 59.5,
                  "lon": 24.7 + 0.001 * k, "geoaltitude": 9000.0}).to_csv(
        d / "positions.csv", index=False)
    (d / "box.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "BOX"}, "geometry": {
            "type": "Polygon", "coordinates": [[[24, 59], [25, 59], [25, 60], [24, 60],
                                                [24, 59]]]}}]}))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["keys", "init", "--dir", str(d / "keys")]) == 0
        assert main(["dossier", "build", "--scan", str(d / "positions.csv"), "--zones-file",
                     str(d / "box.geojson"), "--track", "abc123", "--key-dir",
                     str(d / "keys"), "--log", str(d / "log"), "-o", str(d / "dossier")]) == 0
    return d / "dossier"


def dossier_files() -> list[str]:
    """The files of the seed dossier, by relative name (sorted)."""
    root = dossier_seed_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def dossier(data: bytes) -> None:
    """``dossier verify`` of the seed dossier with one file patched: ``data[0]`` chooses
    the file, ``data[1:3]`` the offset (big-endian, modulo the length), the rest is
    written over the file from there (a patch past the end extends it; with
    ``data[3:]`` empty the file is cut at the offset). Verification must fail whenever a
    signed file's bytes changed: a changed dossier must never verify."""
    from skyfence.evidence.verify import verify_dossier

    names = dossier_files()
    if len(data) < 3:
        return
    name = names[data[0] % len(names)]
    with tempfile.TemporaryDirectory(prefix="skyfence-fuzz-") as tmp:
        d = Path(tmp) / "dossier"
        shutil.copytree(dossier_seed_dir(), d)
        target = d / name
        old = target.read_bytes()
        at = int.from_bytes(data[1:3], "big") % (len(old) + 1)
        patch = data[3:]
        new = old[:at] + patch + old[at + len(patch):] if patch else old[:at]
        target.write_bytes(new)
        res = _run(d, lambda: verify_dossier(d))
        if res is None:
            return
        if res.ok and new != old and name != _DOSSIER_FILE:
            raise Crash(f"dossier with {name} changed still verifies")
        if not res.ok and new == old:
            raise Crash(f"unchanged dossier fails: {res.failures}")
        for f in res.failures:
            if "\n" in f:
                raise Crash(f"multi-line verify failure: {f!r}")


#: every target by name (the corpus folder names)
TARGETS: dict[str, Callable[[bytes], None]] = {
    f.__name__: f for f in (sbs, sbs_abort, beast, rawhex, asterix, pcap, pcapng, csv,
                            parquet, geojson, policy, config, scenario, dossier)
}


# ---------------------------------------------------------------------- seeds
def _pcap_to_pcapng(pcap_bytes: bytes) -> bytes:
    """The packets of a little-endian microsecond pcap as a pcapng (SHB, IDB, EPBs)."""
    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    linktype = struct.unpack("<I", pcap_bytes[20:24])[0] & 0xFFFF
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", linktype, 0, 65535))]
    off = 24
    while off + 16 <= len(pcap_bytes):
        sec, usec, incl, orig = struct.unpack("<IIII", pcap_bytes[off:off + 16])
        pkt = pcap_bytes[off + 16:off + 16 + incl]
        ts = sec * 1_000_000 + usec
        out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, incl, orig)
                         + pkt))
        off += 16 + incl
    return b"".join(out)


def make_seeds() -> dict[str, dict[str, bytes]]:
    """Seed inputs by target: small valid files of each format (from the test data,
    the packaged samples and asterix-decoder's recordings)."""
    import asterix as asterix_decoder  # asterix-decoder's sample recordings

    data = REPO / "tests" / "sources" / "data"
    samples = Path(asterix_decoder.__file__).parent / "sample_data"
    pkg = REPO / "src" / "skyfence"
    frames = [ln.split(",")[1].strip() for ln in
              (data / "flight_frames.csv").read_text().splitlines()[2:62]]
    sbs_lines = (data / "dump1090_sbs.txt").read_text().splitlines()[:40]
    t0 = 1758263400.0
    csv_text = "time,icao24,lat,lon,geoaltitude,velocity,callsign,squawk\n" + "".join(
        f"{t0 + 10 * k},abc123,59.5,{24.5 + 0.01 * k:.2f},9000,56.6,TEST1,7700\n"
        for k in range(20))
    import io

    buf = io.BytesIO()
    pd.read_csv(io.StringIO(csv_text)).to_parquet(buf, index=False)
    zones = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "BOX", "floor_m": 0, "ceiling_m": 5000},
         "geometry": {"type": "Polygon", "coordinates": [[[24, 59], [25, 59], [25, 60],
                                                          [24, 60], [24, 59]]]}},
        {"type": "Feature", "properties": {"name": "DATELINE"},
         "geometry": {"type": "MultiPolygon", "coordinates": [
             [[[179, 50], [180, 50], [180, 51], [179, 51], [179, 50]]],
             [[[-180, 50], [-179, 50], [-179, 51], [-180, 51], [-180, 50]]]]}}]}
    pcap_bytes = (samples / "cat_034_048.pcap").read_bytes()
    seeds: dict[str, dict[str, bytes]] = {
        "sbs": {"seed-dump1090": "\n".join(sbs_lines).encode() + b"\n"},
        "beast": {"seed-dump1090": (data / "dump1090_beast.bin").read_bytes()},
        "rawhex": {"seed-frames": "".join(f"*{f};\n" for f in frames).encode()},
        "asterix": {f"seed-{p.stem}": p.read_bytes() for p in
                    (samples / "cat048.raw", samples / "cat062cat065.raw")},
        "pcap": {"seed-cat048": pcap_bytes,
                 "seed-cat062": (samples / "cat_062_065.pcap").read_bytes()},
        "pcapng": {"seed-cat048": _pcap_to_pcapng(pcap_bytes)},
        "csv": {"seed-contract": csv_text.encode()},
        "parquet": {"seed-contract": buf.getvalue()},
        "geojson": {"seed-zones": json.dumps(zones, indent=1).encode()},
        "policy": {"seed-default": (pkg / "policies" / "default.yaml").read_bytes()},
        "config": {"seed-config": b"zones: [EST]\ncircles: [\"X:59,24,10\"]\ngap_s: 300\n"},
        "scenario": {"seed-vaindloo":
                     (pkg / "scenarios" / "builtin" / "vaindloo-2025-09-19.yaml").read_bytes()},
    }
    seeds["sbs_abort"] = seeds["sbs"]
    # dossier: patches of the freshly built dossier (its keys are new each run)
    seeds["dossier"] = {"seed-unchanged": bytes([0, 0xFF, 0xFF]),
                        "seed-claim-byte": bytes([1, 0, 40, 0x41])}
    return seeds


def corpus(target: str) -> list[tuple[str, bytes]]:
    """The committed corpus of ``target``: seeds and regression inputs, by file name."""
    folder = CORPUS / target
    if not folder.is_dir():
        return []
    return [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]


if __name__ == "__main__":  # python tests/fuzzing/targets.py: rewrite the seeds
    for name, files in make_seeds().items():
        (CORPUS / name).mkdir(parents=True, exist_ok=True)
        for fname, body in files.items():
            (CORPUS / name / fname).write_bytes(body)
        print(f"{name}: {len(files)} seeds")
