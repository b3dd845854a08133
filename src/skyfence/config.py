"""The optional YAML configuration file of ``scan`` and ``watch``.

::

    zones: [EST, LVA]                  # national airspace by ISO3 or name
    zones_files: [airports.geojson]    # custom zones
    circles: ["EKYT:57.0928,9.8492,5"] # NAME:LAT,LON,RADIUS_KM
    watch_states: [RUS, BLR]
    gap_s: 300

Command-line options add to what the file gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skyfence.errors import ConfigError

_KEYS = {"zones", "zones_files", "circles", "watch_states", "gap_s", "policy"}


@dataclass
class ScanConfig:
    """Zones, watch list and track options read from a config file."""

    zones: list[str] = field(default_factory=list)
    zones_files: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)
    watch_states: list[str] = field(default_factory=list)
    gap_s: float | None = None
    policy: str | None = None


def _str_list(doc: dict[str, Any], key: str, path: Path) -> list[str]:
    v = doc.get(key, [])
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, (str, int, float)) for x in v):
        raise ConfigError(f"{path}: '{key}' must be a list of strings")
    return [str(x) for x in v]


def load_config(path: str | Path) -> ScanConfig:
    """Read a YAML config file; unknown keys and wrong types are errors naming the key."""
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: not a readable YAML file ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{p}: expected a mapping of options at the top level")
    unknown = set(doc) - _KEYS
    if unknown:
        raise ConfigError(f"{p}: unknown key(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(_KEYS))})")
    gap = doc.get("gap_s")
    if gap is not None and not isinstance(gap, (int, float)):
        raise ConfigError(f"{p}: 'gap_s' must be a number of seconds")
    base = p.parent
    files = [str(base / f) for f in _str_list(doc, "zones_files", p)]
    pol = doc.get("policy")
    return ScanConfig(
        zones=_str_list(doc, "zones", p),
        zones_files=files,
        circles=_str_list(doc, "circles", p),
        watch_states=_str_list(doc, "watch_states", p),
        gap_s=float(gap) if gap is not None else None,
        policy=str(base / pol) if pol else None,
    )
