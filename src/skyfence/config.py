"""The optional YAML configuration file of ``scan`` and ``watch``.

::

    zones: [EST, LVA]                  # national airspace by ISO3 or name
    zones_files: [airports.geojson]    # custom zones (relative to this file)
    circles: ["EKYT:57.0928,9.8492,5"] # NAME:LAT,LON,RADIUS_KM
    watch_states: [RUS, BLR]           # ISO 3166-1 alpha-3 codes
    gap_s: 300                         # seconds, >= 0
    policy: my-policy.yaml             # relative to this file

Command-line options add to what the file gives (``--gap`` replaces ``gap_s``). The
file is validated by a pydantic model (unknown keys, wrong types and bad values are
errors) and every problem is reported with its file and line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from skyfence.errors import SkyfenceError
from skyfence.yamlfile import YamlDocument, load_yaml, raise_problems, validate_options

__all__ = ["ScanConfig", "check_gap_s", "load_config"]


def _as_list(v: Any) -> Any:
    """A single string stands for a list of one."""
    return [v] if isinstance(v, str) else v


StrList = Annotated[list[Annotated[str, Field(strict=True)]], BeforeValidator(_as_list)]


def check_gap_s(value: float) -> float:
    """``value`` when it is a usable track gap in seconds (finite, >= 0), else ValueError.

    0 is allowed: every fix then starts a new track.
    """
    if isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ValueError(f"a gap must be a number of seconds >= 0, got {value!r}")
    return float(value)


class ScanConfig(BaseModel):
    """Zones, watch list, policy and track options read from a config file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zones: StrList = Field(default_factory=list, description="ISO3 codes or names")
    zones_files: StrList = Field(default_factory=list, description="GeoJSON zone files")
    circles: StrList = Field(default_factory=list, description="NAME:LAT,LON,RADIUS_KM")
    watch_states: StrList = Field(default_factory=list, description="ISO3 codes")
    #: split a track where fixes are more than this apart (s)
    gap_s: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)] | None = None
    #: a policy YAML file
    policy: Annotated[str, Field(strict=True, min_length=1)] | None = None


def load_config(path: str | Path) -> ScanConfig:
    """Read a YAML config file; every problem is a :class:`ConfigError` naming file and line.

    File names in it are taken relative to the config file's directory.
    """
    doc = load_yaml(path, what="config file")
    cfg = validate_options(doc, ScanConfig)
    problems = _check_values(cfg, doc)
    if problems:
        raise_problems(problems)
    base = Path(path).parent
    return cfg.model_copy(update={
        "zones_files": [str(base / f) for f in cfg.zones_files],
        "policy": str(base / cfg.policy) if cfg.policy else None,
    })


def _check_values(cfg: ScanConfig, doc: YamlDocument) -> list[str]:
    """Meaning checks the types cannot express: known states, circles, existing files."""
    from skyfence.airspace.national import find_national
    from skyfence.airspace.zones import parse_circle
    from skyfence.identify.icao_blocks import check_watch_state

    problems = []
    base = Path(doc.source).parent
    for i, name in enumerate(cfg.zones):
        if name.strip().lower() != "all":
            try:
                find_national(name)
            except SkyfenceError as exc:
                problems.append(f"{doc.where(('zones', i))}: zones[{i}]: {exc}")
    for i, code in enumerate(cfg.watch_states):
        try:
            check_watch_state(code)
        except SkyfenceError as exc:
            problems.append(f"{doc.where(('watch_states', i))}: watch_states[{i}]: {exc}")
    for i, spec in enumerate(cfg.circles):
        try:
            parse_circle(spec)
        except SkyfenceError as exc:
            problems.append(f"{doc.where(('circles', i))}: circles[{i}]: {exc}")
    for i, f in enumerate(cfg.zones_files):
        if not (base / f).is_file():
            problems.append(f"{doc.where(('zones_files', i))}: zones_files[{i}]: "
                            f"no such file {base / f}")
    if cfg.policy and not (base / cfg.policy).is_file():
        problems.append(f"{doc.where(('policy',))}: policy: no such file {base / cfg.policy}")
    return problems


