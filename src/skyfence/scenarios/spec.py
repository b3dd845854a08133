"""The scenario file format: a YAML description read into small value objects.

A scenario names a start time, the zones to watch and the states to watch, the
sensors (radars, ADS-B coverage), a background of real recorded traffic, and the
aircraft to fly. Every bad value raises :class:`ScenarioError`, which names the file
and the key path (``aircraft[1].waypoints[0].lat``) so the author can fix it.

::

    name: example
    start: 2025-09-19T09:30:00Z          # ISO 8601 UTC; offsets below are seconds from it
    duration_s: 2400                     # optional: default ends with the last aircraft
    seed: 7
    zones: {national: [EST], circles: [{name: C, lat: 59.8, lon: 26.3, radius_km: 5}]}
    watch_states: [RUS]
    policy: my-policy.yaml               # optional, relative to this file
    sensors:
      radars:
        - {name: R1, sac: 1, sic: 1, lat: 59.4, lon: 26.5, alt_m: 60, range_km: 250,
           sigma_range_m: 50, sigma_azimuth_deg: 0.08, sigma_height_m: 300,
           period_s: 4, p_detect: 0.9, clutter_per_scan: 2,
           bias_range_m: 0, bias_azimuth_deg: 0}   # systematic errors (registration)
      adsb: {period_s: 5, sigma_m: 10, p_receive: 0.95}
    background: {sample: switzerland-2018-08-01, offset_s: 0, lat: 59.6, lon: 25.5,
                 rotate_deg: 0, note: "..."}   # anchor_lat/lon: the point moved to lat/lon
    aircraft:
      - id: MIG31-1
        category: jet                    # ground truth category
        transponder: off                 # or {icao24: 4a0001, callsign: ROF01, off_at: 600}
        expect: critical                 # severity of its violations; none: not one
        speed_ms: 230                    # default leg speed
        waypoints:
          - {lat: 59.93, lon: 27.4, alt_m: 9000, time: 600}
          - {lat: 59.87, lon: 26.6}      # reached at speed_ms (or give time: / speed_ms:)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from skyfence.errors import ConfigError
from skyfence.vocab import CATEGORIES, SEVERITIES

T = TypeVar("T")


class ScenarioError(ConfigError):
    """A scenario file is invalid; names the file and the key path."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        self.reason = message
        where = ", ".join(p for p in (file, f"key '{key}'" if key else None) if p)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Waypoint:
    """A point of a route; ``time`` is seconds from the scenario start, when given."""

    lat: float
    lon: float
    alt_m: float | None = None
    time: float | None = None
    speed_ms: float | None = None


@dataclass(frozen=True)
class Aircraft:
    """One scripted aircraft or drone and the verdict expected for it."""

    id: str
    category: str
    waypoints: tuple[Waypoint, ...]
    icao24: str | None = None
    callsign: str | None = None
    squawk: str | None = None
    expect: str | None = None
    note: str = ""
    #: seconds from the scenario start when the transponder is switched off (the
    #: aircraft goes dark), or None
    transponder_off_at: float | None = None

    @property
    def transponder(self) -> bool:
        """True when the aircraft squitters ADS-B (it has an ICAO address)."""
        return self.icao24 is not None


@dataclass(frozen=True)
class RadarSpec:
    """A radar: site, coverage, noise, rotation and detection."""

    name: str
    sac: int
    sic: int
    lat: float
    lon: float
    alt_m: float = 0.0
    range_km: float = 250.0
    sigma_range_m: float = 50.0
    sigma_azimuth_deg: float = 0.08
    sigma_height_m: float | None = None
    period_s: float = 4.0
    p_detect: float = 0.9
    clutter_per_scan: float = 0.0
    #: systematic range and azimuth errors of the radar (what registration estimates)
    bias_range_m: float = 0.0
    bias_azimuth_deg: float = 0.0


@dataclass(frozen=True)
class AdsbSpec:
    """ADS-B coverage of transponder-equipped aircraft."""

    period_s: float = 5.0
    sigma_m: float = 10.0
    p_receive: float = 1.0


@dataclass(frozen=True)
class BackgroundSpec:
    """Real recorded traffic, moved (rigidly) into the scenario area."""

    sample: str
    offset_s: float = 0.0
    duration_s: float | None = None
    lat: float | None = None
    lon: float | None = None
    rotate_deg: float = 0.0
    max_flights: int | None = None
    note: str = ""
    #: the sample point moved to (lat, lon); default: the sample's median position
    anchor_lat: float | None = None
    anchor_lon: float | None = None


@dataclass(frozen=True)
class CircleSpec:
    """A circle zone."""

    name: str
    lat: float
    lon: float
    radius_km: float
    floor_m: float | None = None
    ceiling_m: float | None = None


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file."""

    name: str
    start: float
    aircraft: tuple[Aircraft, ...]
    radars: tuple[RadarSpec, ...]
    adsb: AdsbSpec
    national: tuple[str, ...] = ()
    circles: tuple[CircleSpec, ...] = ()
    geojson: tuple[Path, ...] = ()
    watch_states: tuple[str, ...] = ()
    background: BackgroundSpec | None = None
    duration_s: float | None = None
    seed: int = 0
    title: str = ""
    description: str = ""
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: a policy file to judge under (default: the shipped default policy)
    policy: Path | None = None


# ------------------------------------------------------------------------- parsing


class _Reader:
    """Typed access to a YAML mapping that reports file and key on every error."""

    def __init__(self, file: str, data: Any, key: str = "") -> None:
        self.file, self.key = file, key
        if not isinstance(data, dict):
            self.fail("must be a mapping of keys to values", key or None)
        self.data: dict[str, Any] = data

    def path(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def fail(self, message: str, key: str | None) -> None:
        raise ScenarioError(message, file=self.file, key=key)

    def check_keys(self, allowed: set[str]) -> None:
        for k in self.data:
            if k not in allowed:
                self.fail(f"unknown key (expected one of: {', '.join(sorted(allowed))})",
                          self.path(str(k)))

    def get(self, name: str, conv: Callable[[Any], T], default: Any = ...,
            what: str = "a value") -> T:
        if name not in self.data or self.data[name] is None:
            if default is ...:
                self.fail("is required", self.path(name))
            return default
        try:
            return conv(self.data[name])
        except (TypeError, ValueError) as exc:
            detail = f" ({exc})" if str(exc) else ""
            self.fail(f"must be {what}, got {self.data[name]!r}{detail}", self.path(name))
            raise  # unreachable

    def number(self, name: str, default: Any = ..., lo: float = -math.inf,
               hi: float = math.inf) -> Any:
        def conv(v: Any) -> float:
            if isinstance(v, bool):
                raise TypeError
            x = float(v)
            if not (math.isfinite(x) and lo <= x <= hi):
                raise ValueError(f"out of range {lo}..{hi}")
            return x
        return self.get(name, conv, default, "a number")

    def text(self, name: str, default: Any = ...) -> Any:
        def conv(v: Any) -> str:
            if not isinstance(v, (str, int)) or isinstance(v, bool):
                raise TypeError
            return str(v)
        return self.get(name, conv, default, "a string")

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail("must be a list", self.path(name))
        return list(value)

    def sub(self, name: str, index: int | None = None) -> _Reader:
        value = self.data.get(name) if index is None else self.data[name][index]
        key = self.path(name) + (f"[{index}]" if index is not None else "")
        return _Reader(self.file, {} if value is None else value, key)


def _time(value: Any, start: float | None) -> float:
    """Seconds from start: a number is an offset, a string an ISO 8601 time."""
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, (int, float)):
        return float(value)
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.timestamp() - (start or 0.0)


def _icao(value: Any) -> str:
    s = str(value).strip().lower()
    if len(s) != 6 or any(c not in "0123456789abcdef" for c in s):
        raise ValueError("expected 6 hex digits")
    return s


def _waypoint(r: _Reader, start: float) -> Waypoint:
    r.check_keys({"lat", "lon", "alt_m", "time", "speed_ms"})
    return Waypoint(
        lat=r.number("lat", lo=-90, hi=90), lon=r.number("lon", lo=-180, hi=180),
        alt_m=r.number("alt_m", None, lo=-500, hi=30000),
        time=r.get("time", lambda v: _time(v, start), None, "seconds or an ISO 8601 time"),
        speed_ms=r.number("speed_ms", None, lo=0.0, hi=1500.0),
    )


def _aircraft(r: _Reader, start: float) -> Aircraft:
    r.check_keys({"id", "category", "transponder", "expect", "speed_ms", "alt_m", "start",
                  "waypoints", "note"})
    ident = r.text("id")
    category = r.text("category", "unknown")
    if category not in CATEGORIES:
        r.fail(f"must be one of {', '.join(CATEGORIES)}", r.path("category"))
    icao = callsign = squawk = off_at = None
    tp = r.data.get("transponder", False)
    if isinstance(tp, dict):
        t = r.sub("transponder")
        t.check_keys({"icao24", "callsign", "squawk", "off_at"})
        icao = t.get("icao24", _icao, what="a 24-bit ICAO address")
        callsign, squawk = t.text("callsign", None), t.text("squawk", None)
        off_at = t.get("off_at", lambda v: _time(v, start), None,
                       "seconds or an ISO 8601 time")
    elif tp not in (False, None, "off"):
        r.fail("must be off/false or a mapping with icao24 (and callsign)", r.path("transponder"))
    # an aircraft that switches its transponder off goes on as a non-cooperative target
    expect = r.text("expect", "critical" if icao is None or off_at is not None else "none")
    if expect not in (*SEVERITIES, "none"):
        r.fail(f"must be one of {', '.join(SEVERITIES)} or none", r.path("expect"))
    speed = r.number("speed_ms", None, lo=0.0, hi=1500.0)
    alt = r.number("alt_m", None, lo=-500, hi=30000)
    t0 = r.get("start", lambda v: _time(v, start), None, "seconds or an ISO 8601 time")
    raw = r.items("waypoints")
    if len(raw) < 2:
        r.fail("needs at least two waypoints", r.path("waypoints"))
    wps: list[Waypoint] = []
    for i in range(len(raw)):
        wr = r.sub("waypoints", i)
        wp = _waypoint(wr, start)
        if i == 0 and wp.time is None:
            if t0 is None:
                r.fail("the first waypoint needs a time (or give the aircraft a start)",
                       wr.path("time"))
            wp = Waypoint(wp.lat, wp.lon, wp.alt_m, t0, wp.speed_ms)
        if wp.alt_m is None:
            prev = wps[-1].alt_m if wps else alt
            if prev is None:
                r.fail("is required on the first waypoint (or give the aircraft alt_m)",
                       wr.path("alt_m"))
            wp = Waypoint(wp.lat, wp.lon, prev, wp.time, wp.speed_ms)
        if i > 0 and wp.time is None and wp.speed_ms is None:
            if speed is None:
                r.fail("needs a time or a speed_ms (or give the aircraft speed_ms)", wr.key)
            wp = Waypoint(wp.lat, wp.lon, wp.alt_m, None, speed)
        if wps and wp.time is not None and wps[-1].time is not None and wp.time < wps[-1].time:
            r.fail("times must not go backwards", wr.path("time"))
        wps.append(wp)
    return Aircraft(ident, category, tuple(wps), icao, callsign, squawk,
                    None if expect == "none" else expect, r.text("note", ""), off_at)


def _radar(r: _Reader, i: int) -> RadarSpec:
    r.check_keys({"name", "sac", "sic", "lat", "lon", "alt_m", "range_km", "sigma_range_m",
                  "sigma_azimuth_deg", "sigma_height_m", "period_s", "p_detect",
                  "clutter_per_scan", "bias_range_m", "bias_azimuth_deg"})
    return RadarSpec(
        name=r.text("name", f"radar-{i + 1}"), sac=int(r.number("sac", lo=0, hi=255)),
        sic=int(r.number("sic", lo=0, hi=255)), lat=r.number("lat", lo=-90, hi=90),
        lon=r.number("lon", lo=-180, hi=180), alt_m=r.number("alt_m", 0.0),
        range_km=r.number("range_km", 250.0, lo=1.0, hi=600.0),
        sigma_range_m=r.number("sigma_range_m", 50.0, lo=0.0),
        sigma_azimuth_deg=r.number("sigma_azimuth_deg", 0.08, lo=0.0, hi=10.0),
        sigma_height_m=r.number("sigma_height_m", None, lo=0.0),
        period_s=r.number("period_s", 4.0, lo=0.1, hi=60.0),
        p_detect=r.number("p_detect", 0.9, lo=0.0, hi=1.0),
        clutter_per_scan=r.number("clutter_per_scan", 0.0, lo=0.0, hi=1000.0),
        bias_range_m=r.number("bias_range_m", 0.0, lo=-5000.0, hi=5000.0),
        bias_azimuth_deg=r.number("bias_azimuth_deg", 0.0, lo=-10.0, hi=10.0),
    )


def parse_scenario(data: Any, file: str = "<scenario>", base: Path | None = None) -> Scenario:
    """Build a :class:`Scenario` from parsed YAML, naming ``file`` and key on errors."""
    r = _Reader(file, data)
    r.check_keys({"name", "title", "description", "start", "duration_s", "seed", "zones",
                  "watch_states", "sensors", "background", "aircraft", "notes", "policy"})
    start = r.get("start", lambda v: _time(v, None), what="an ISO 8601 UTC time")
    zr = r.sub("zones")
    zr.check_keys({"national", "circles", "geojson"})
    national = tuple(str(z).upper() for z in zr.items("national"))
    circles = []
    for i in range(len(zr.items("circles"))):
        c = zr.sub("circles", i)
        c.check_keys({"name", "lat", "lon", "radius_km", "floor_m", "ceiling_m"})
        circles.append(CircleSpec(c.text("name"), c.number("lat", lo=-90, hi=90),
                                  c.number("lon", lo=-180, hi=180),
                                  c.number("radius_km", lo=0.001, hi=2000),
                                  c.number("floor_m", None), c.number("ceiling_m", None)))
    base = base or Path(".")
    geojson = tuple(base / str(p) for p in zr.items("geojson"))
    if not (national or circles or geojson):
        r.fail("needs at least one of national, circles, geojson", "zones")
    sr = r.sub("sensors")
    sr.check_keys({"radars", "adsb"})
    radars = tuple(_radar(sr.sub("radars", i), i) for i in range(len(sr.items("radars"))))
    if not radars:
        r.fail("needs at least one radar", "sensors.radars")
    keys = [(x.sac, x.sic) for x in radars]
    if len(set(keys)) != len(keys):
        r.fail("two radars share a SAC/SIC", "sensors.radars")
    ar = sr.sub("adsb")
    ar.check_keys({"period_s", "sigma_m", "p_receive"})
    adsb = AdsbSpec(ar.number("period_s", 5.0, lo=0.1, hi=120.0),
                    ar.number("sigma_m", 10.0, lo=0.0), ar.number("p_receive", 1.0, lo=0, hi=1))
    background = None
    if r.data.get("background") is not None:
        b = r.sub("background")
        b.check_keys({"sample", "offset_s", "duration_s", "lat", "lon", "rotate_deg",
                      "max_flights", "note", "anchor_lat", "anchor_lon"})
        mf = b.number("max_flights", None, lo=0)
        background = BackgroundSpec(
            b.text("sample"), b.number("offset_s", 0.0, lo=0.0),
            b.number("duration_s", None, lo=1.0), b.number("lat", None, lo=-90, hi=90),
            b.number("lon", None, lo=-180, hi=180), b.number("rotate_deg", 0.0),
            None if mf is None else int(mf), b.text("note", ""),
            b.number("anchor_lat", None, lo=-90, hi=90),
            b.number("anchor_lon", None, lo=-180, hi=180))
    aircraft = tuple(_aircraft(r.sub("aircraft", i), start)
                     for i in range(len(r.items("aircraft"))))
    ids = [a.id for a in aircraft]
    if len(set(ids)) != len(ids):
        r.fail("two aircraft share an id", "aircraft")
    notes = r.items("notes")
    return Scenario(
        name=r.text("name"), start=start, aircraft=aircraft, radars=radars, adsb=adsb,
        national=national, circles=tuple(circles), geojson=geojson,
        watch_states=tuple(str(s).upper() for s in r.items("watch_states")),
        background=background, duration_s=r.number("duration_s", None, lo=1.0),
        seed=int(r.number("seed", 0, lo=0)), title=r.text("title", ""),
        description=r.text("description", ""), source=file,
        notes=tuple(str(n) for n in notes),
        policy=base / r.text("policy") if r.data.get("policy") is not None else None,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file (read with the limits of :mod:`yamlfile`)."""
    from skyfence.yamlfile import load_yaml

    p = Path(path)
    doc = load_yaml(p, what="scenario file", error=lambda m: ScenarioError(m))
    return parse_scenario(doc.data, str(p), p.parent)
