"""The configuration file of ``skyfence serve``: sources, zones, policy, store, auth.

::

    host: 127.0.0.1            # where the web server listens (--host, --port override)
    port: 8080
    store: ops.sqlite          # the incident store: a SQLite file or postgresql:// URL
    zones: [EST]               # as in the scan/watch config file
    zones_files: [airports.geojson]
    circles: ["EKYT:57.0928,9.8492,5"]
    watch_states: [RUS, BLR]
    policy: my-policy.yaml
    gap_s: 300
    sources:                   # the same sources as `skyfence watch`
      sbs: ["127.0.0.1:30003"] # live feeds: sbs, beast, raw, asterix_udp
      replay: [adsb.csv]       # or recorded files: replay, asterix (not both kinds)
      radar: ["20:1:59.07,26.15,200"]
      speed: 1                 # replay pace (x real time)
      loop: false              # replay again and again, each pass shifted to now
    sensors:                   # receivers drawn with range rings (radar sites are too)
      - {name: RX-Tallinn, lat: 59.41, lon: 24.83, range_km: 350}
    horizon_s: 300             # approach warnings (0: off)
    dossiers: {dir: dossiers, key_dir: keys}   # built (with a key) and downloaded here
    auth:
      session_ttl_s: 1800      # browser sessions (JWT) expire after this, renewed in use
      cookie_secure: true      # false only behind nothing but plain-HTTP loopback
      login_attempts: 5        # failed logins per address or name ...
      login_window_s: 300      # ... within this many seconds, then refused
      key_file: null           # HS256 key file: sessions survive a restart
    picture: {push_hz: 1.0, trail_s: 120}

File names are relative to the file. Validated by a pydantic model (unknown keys are
errors) through skyfence's safe YAML reader; every problem names the file and line.
The zone, policy and source options become the options of ``skyfence watch``
(:meth:`ServeConfig.watch_argv`), so ``serve`` runs exactly the watch they describe.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from skyfence.errors import ConfigError
from skyfence.yamlfile import load_yaml, validate_options

__all__ = ["AuthConfig", "PictureConfig", "Sensor", "ServeConfig", "SourcesConfig",
           "load_serve_config"]


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


StrList = Annotated[list[Annotated[str, Field(strict=True)]], BeforeValidator(_as_list)]
Text = Annotated[str, Field(strict=True, min_length=1)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourcesConfig(_Model):
    """The watch's sources (``skyfence watch`` options of the same names)."""

    sbs: StrList = Field(default_factory=list)
    beast: StrList = Field(default_factory=list)
    raw: StrList = Field(default_factory=list)
    asterix_udp: StrList = Field(default_factory=list)
    replay: StrList = Field(default_factory=list)
    asterix: StrList = Field(default_factory=list)
    radar: StrList = Field(default_factory=list)
    date: Text | None = None
    ref: Text | None = None
    input_format: Text = "auto"
    columns: Text | None = None
    speed: Seconds = 1.0
    loop: bool = False


class Sensor(_Model):
    """A receiver or sensor drawn on the map with a range ring."""

    name: Text
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    range_km: Annotated[float, Field(gt=0, le=2000)]


class AuthConfig(_Model):
    """Sessions and login throttling."""

    session_ttl_s: Annotated[float, Field(ge=60, le=86400)] = 1800.0
    cookie_secure: bool = True
    login_attempts: Annotated[int, Field(ge=1, le=1000)] = 5
    login_window_s: Annotated[float, Field(gt=0, le=86400)] = 300.0
    key_file: Text | None = None


class PictureConfig(_Model):
    """How the track picture is pushed to browsers."""

    push_hz: Annotated[float, Field(gt=0, le=10)] = 1.0
    trail_s: Annotated[float, Field(ge=0, le=3600)] = 120.0


class DossierConfig(_Model):
    """Where the dossiers of critical incidents are built (and downloaded from)."""

    dir: Text | None = None
    key_dir: Text | None = None


class ServeConfig(_Model):
    """Everything ``skyfence serve`` runs (see the module docstring)."""

    host: Text = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    store: Text | None = None
    zones: StrList = Field(default_factory=list)
    zones_files: StrList = Field(default_factory=list)
    circles: StrList = Field(default_factory=list)
    watch_states: StrList = Field(default_factory=list)
    policy: Text | None = None
    aircraft_db: Text | None = None
    gap_s: Seconds | None = None
    all_entries: bool = False
    horizon_s: Seconds = 300.0
    webhooks: StrList = Field(default_factory=list)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    sensors: list[Sensor] = Field(default_factory=list)
    dossiers: DossierConfig = Field(default_factory=DossierConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    picture: PictureConfig = Field(default_factory=PictureConfig)
    #: shown in the page title
    title: Text = "skyfence"

    def resolved(self, base: Path) -> ServeConfig:
        """File names taken relative to ``base`` (the config file's directory)."""
        def rel(p: str | None) -> str | None:
            if p is None or "://" in p:
                return p
            return str(base / Path(p).expanduser())

        src = self.sources
        return self.model_copy(update={
            "store": rel(self.store), "zones_files": [rel(f) for f in self.zones_files],
            "policy": rel(self.policy), "aircraft_db": rel(self.aircraft_db),
            "sources": src.model_copy(update={
                "replay": [rel(f) for f in src.replay],
                "asterix": [rel(f) for f in src.asterix]}),
            "dossiers": self.dossiers.model_copy(update={
                "dir": rel(self.dossiers.dir), "key_dir": rel(self.dossiers.key_dir)}),
            "auth": self.auth.model_copy(update={"key_file": rel(self.auth.key_file)}),
        })

    def watch_argv(self) -> list[str]:
        """The ``skyfence watch`` options this configuration stands for."""
        argv: list[str] = []

        def many(option: str, values: list[str]) -> None:
            for v in values:
                argv.extend([option, v])

        s = self.sources
        for opt in ("sbs", "beast", "raw", "asterix_udp", "replay", "asterix", "radar"):
            many("--" + opt.replace("_", "-"), getattr(s, opt))
        for opt, val in (("--date", s.date), ("--ref", s.ref), ("--columns", s.columns),
                         ("--policy", self.policy), ("--aircraft-db", self.aircraft_db),
                         # without a key the folder is only where downloads come from
                         ("--dossier-dir", self.dossiers.dir if self.dossiers.key_dir
                          else None),
                         ("--key-dir", self.dossiers.key_dir)):
            if val is not None:
                argv.extend([opt, val])
        argv += ["--input-format", s.input_format, "--speed", repr(s.speed),
                 "--horizon", repr(self.horizon_s)]
        if self.gap_s is not None:
            argv += ["--gap", repr(self.gap_s)]
        many("--zone", self.zones)
        many("--zones-file", self.zones_files)
        many("--circle", self.circles)
        many("--watch-state", self.watch_states)
        many("--webhook", self.webhooks)
        if self.all_entries:
            argv.append("--all-entries")
        argv += ["--store"] + ([self.store] if self.store else [])
        return argv

    def watch_args(self) -> argparse.Namespace:
        """The parsed ``skyfence watch`` options (:meth:`watch_argv`)."""
        from skyfence.cli import build_parser

        return build_parser().parse_args(["watch", *self.watch_argv()])


def load_serve_config(path: str | Path) -> ServeConfig:
    """Read and check a serve configuration file (:class:`ConfigError` naming the line)."""
    doc = load_yaml(path, what="serve config file")
    cfg = validate_options(doc, ServeConfig)
    if cfg.gap_s is not None and not math.isfinite(cfg.gap_s):
        raise ConfigError(f"{doc.where(('gap_s',))}: gap_s: must be finite")
    base = Path(path).parent
    for i, f in enumerate(cfg.sources.replay + cfg.sources.asterix):
        if not (base / f).is_file():
            key = "replay" if i < len(cfg.sources.replay) else "asterix"
            raise ConfigError(f"{doc.where(('sources', key))}: sources.{key}: no such file "
                              f"{base / f}")
    return cfg.resolved(base)
