"""What a dossier claims and what it was built from: ``claim.json``.

The claim holds the incident record exactly as ``skyfence scan --format jsonl`` prints
it, and everything needed to recompute it: the software and library versions, the zone
(file, SHA-256, and for national airspace the version and SHA-256 of the bundled
boundary data), the policy (file, SHA-256, watched states), the sensors, the track gap,
the time window, the observation files, and the chain of custody (inputs with their
SHA-256, who built the dossier, when, with which command and key).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import platform
import socket
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from skyfence import __version__
from skyfence.airspace.zones import Zone
from skyfence.evidence.hashing import sha256_file, sha256_hex
from skyfence.evidence.observations import OBS_COLUMN_MAP, Window
from skyfence.policy import Policy
from skyfence.radar import RadarSite
from skyfence.records import EntryRecord

__all__ = [
    "CLAIM_FORMAT", "TOLERANCES", "IncidentEvidence", "InputFile", "PolicySnapshot",
    "build_claim", "radar_sensor", "software_versions",
]

CLAIM_FORMAT = "skyfence-dossier/1"
#: how closely a re-derived figure must match the claim (times in s, depth in m,
#: points in degrees: 1e-6 degree is 0.11 m or less)
TOLERANCES = {"time_s": 0.001, "duration_s": 0.001, "depth_m": 0.1, "position_deg": 1e-6}


@dataclass(frozen=True)
class PolicySnapshot:
    """The policy an incident was judged under: its text and the added watched states."""

    name: str
    source: str
    text: str
    watch_states: tuple[str, ...]

    @classmethod
    def of(cls, policy: Policy) -> PolicySnapshot:
        """Snapshot of a policy: its YAML text and watched states."""
        return cls(policy.name, policy.source, policy.text, tuple(sorted(policy.watch_states)))

    def to_policy(self) -> Policy:
        """The policy again, compiled from the stored text."""
        from skyfence.policy import _parse_yaml

        doc, lines = _parse_yaml(self.text, "policy.yaml")
        return Policy(self.watch_states, document=doc, source="policy.yaml", lines=lines,
                      text=self.text)


@dataclass(frozen=True)
class InputFile:
    """An input file of the scan, identified by name, size and SHA-256."""

    name: str
    sha256: str
    size_bytes: int
    format: str

    @classmethod
    def of(cls, path: Path, fmt: str = "auto") -> InputFile:
        """Hash ``path`` (read once, in blocks)."""
        from skyfence.sources.files import file_format

        return cls(str(path), sha256_file(path), path.stat().st_size, file_format(path, fmt))

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {"name": self.name, "sha256": self.sha256, "size_bytes": self.size_bytes,
                "format": self.format}


def radar_sensor(site: RadarSite) -> dict[str, Any]:
    """A radar site as a claim's sensor entry."""
    return {"kind": "radar", "name": site.name, "sac": site.sac, "sic": site.sic,
            "lat": site.lat, "lon": site.lon, "alt_m": site.alt_m}


@dataclass
class IncidentEvidence:
    """Everything a dossier is built from: what a scan, a watcher or the incident store
    knows about one incident.

    ``observations`` may hold more than the track's window (the builder cuts it);
    ``origin`` says whether the data are recorded or simulated (a scenario).
    """

    record: EntryRecord
    observations: pd.DataFrame
    zone: Zone
    policy: PolicySnapshot
    sensors: list[dict[str, Any]] = field(default_factory=list)
    gap_s: float = 300.0
    inputs: list[InputFile] = field(default_factory=list)
    source_rows: pd.DataFrame | None = None
    source_note: str = ""
    origin: str = "recorded"
    aircraft_db: InputFile | None = None
    command: str | None = None


def software_versions() -> dict[str, str]:
    """skyfence and the libraries its figures depend on (GEOS, PROJ, numpy ...)."""
    import numpy
    import pyproj
    import shapely

    out = {"skyfence": __version__, "python": platform.python_version(),
           "numpy": numpy.__version__, "shapely": shapely.__version__,
           "geos": shapely.geos_version_string, "pyproj": pyproj.__version__,
           "proj": pyproj.proj_version_str, "pandas": pd.__version__}
    for dist in ("pyarrow", "scipy", "cryptography", "matplotlib"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    return out


def zone_data(zone: Zone, zone_file: Path) -> dict[str, Any]:
    """The zone's identity, file and data source."""
    out: dict[str, Any] = {
        "name": zone.name, "kind": zone.kind, "title": zone.title,
        "floor_m": zone.floor_m, "ceiling_m": zone.ceiling_m,
        "file": zone_file.name, "sha256": sha256_file(zone_file),
    }
    if zone.kind == "national":
        from skyfence.airspace.national import METADATA_PATH

        meta = json.loads(METADATA_PATH.read_text(encoding="utf-8"))
        src = meta["source"]
        out["data"] = {
            "description": "national airspace: land, internal waters and territorial sea",
            "source": src["package"], "version": src["version"], "source_file": src["file"],
            "source_sha256": src["sha256"], "licence": src["licence"],
            "attribution": src["attribution"], "bundle_file": meta["bundle"]["file"],
            "bundle_sha256": meta["bundle"]["sha256"], "bundle_built": meta["build"]["date"],
        }
    else:
        out["data"] = {"description": "custom zone given to the scan (file, circle or config)"}
    return out


def _custody(evidence: IncidentEvidence, built_at: str, key_id: str) -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {
        "built_by": f"{user}@{socket.gethostname()}",
        "built_at": built_at,
        "command": evidence.command or "skyfence.evidence.build_dossier (Python API)",
        "signing_key": key_id,
        "inputs": [f.to_json() for f in evidence.inputs],
        "aircraft_db": evidence.aircraft_db.to_json() if evidence.aircraft_db else None,
        "data_origin": evidence.origin,
    }


def build_claim(
    evidence: IncidentEvidence, window: Window, observation_rows: int,
    files: dict[str, Path], built_at: str, key_id: str,
) -> dict[str, Any]:
    """The claim of a dossier whose data files are ``files`` (role -> path)."""
    pol = evidence.policy
    return {
        "format": CLAIM_FORMAT,
        "incident": evidence.record,
        "software": software_versions(),
        "zone": zone_data(evidence.zone, files["zone"]),
        "policy": {"name": pol.name, "source": pol.source, "file": files["policy"].name,
                   "sha256": sha256_hex(pol.text.encode("utf-8")),
                   "watch_states": list(pol.watch_states)},
        "sensors": evidence.sensors,
        "window": {**window.to_json(), "gap_s": evidence.gap_s},
        "observations": {
            "track": evidence.record["track"], "rows": observation_rows,
            "files": [files["observations_parquet"].name, files["observations_csv"].name],
            "columns": "skyfence observation columns: time (unix s, UTC), icao24 (track id), "
                       "lat, lon (deg WGS84), altitude (m; geometric if known, else "
                       "barometric), velocity (m/s), heading (deg), vertrate (m/s), "
                       "callsign, squawk, onground",
            "scan_columns": OBS_COLUMN_MAP,
        },
        "source_rows": ({"file": files["source_rows"].name, "note": evidence.source_note}
                        if "source_rows" in files else {"file": None,
                                                        "note": evidence.source_note}),
        "tolerances": TOLERANCES,
        "custody": _custody(evidence, built_at, key_id),
    }
