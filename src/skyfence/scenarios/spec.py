"""The scenario file format: a YAML description read into small value objects.

A scenario names a start time, the zones to watch and the states to watch, the
sensors (radars, ADS-B coverage), a background of real recorded traffic, and the
aircraft to fly. A bad file raises :class:`ScenarioError`, which names the file, the
line and the key path (``aircraft[1].waypoints[0].lat``) of every problem so the author
can fix them all at once. Types and ranges are checked by the pydantic models of
:mod:`skyfence.scenarios.schema`; what needs the whole file (waypoint defaults, time
order, unique ids, at least one zone and radar) is checked here.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from skyfence.errors import ConfigError
from skyfence.scenarios.schema import AircraftModel, ScenarioModel
from skyfence.yamlfile import (
    PLAIN_MESSAGES,
    YamlDocument,
    dotted_path,
    load_yaml,
    schema_problems,
)


class ScenarioError(ConfigError):
    """A scenario file is invalid; names the file, line and key path of the first problem.

    ``more`` are the other problems found (one line each); the message counts them and
    ``problems`` lists them all, the first one included.
    """

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 line: int | None = None, more: Sequence[str] = ()) -> None:
        self.file = file
        self.key = key
        self.line = line
        self.reason = message
        place = f"{file}:{line}" if file and line is not None else file
        where = ", ".join(p for p in (place, f"key '{key}'" if key else None) if p)
        first = f"{where}: {message}" if where else message
        self.problems = [first, *more]
        tail = f" (and {len(more)} more)" if more else ""
        super().__init__(first + tail)


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

Problems = list[tuple[tuple[Any, ...], str]]


def _raise(doc: YamlDocument, problems: Problems) -> NoReturn:
    """One :class:`ScenarioError` for every problem, in file order, the first one named."""
    ordered = sorted(problems, key=lambda p: doc.line_of(p[0]) or 0)
    lines = [_problem_line(doc, path, msg) for path, msg in ordered]
    path, msg = ordered[0]
    raise ScenarioError(msg, file=doc.source, key=dotted_path(path) or None,
                        line=doc.line_of(path), more=lines[1:])


def _problem_line(doc: YamlDocument, path: tuple[Any, ...], message: str) -> str:
    key = dotted_path(path)
    return f"{doc.where(path)}, key '{key}': {message}" if key else f"{doc.where(path)}: {message}"


def _seconds(t: float | datetime, start: float) -> float:
    """Seconds from ``start``: a number is already an offset, a time is made one."""
    return t if isinstance(t, float) else t.timestamp() - start


def _arrival(prev: Waypoint, prev_at: float | None, lat: float, lon: float,
             speed_ms: float | None) -> float | None:
    """When an aircraft at ``prev`` at ``prev_at`` (s) reaches (``lat``, ``lon``) flying
    the geodesic at ``speed_ms``; None when either is unknown (or the speed is 0)."""
    if prev_at is None or speed_ms is None or speed_ms <= 0:
        return None
    from pyproj import Geod

    _, _, dist_m = Geod(ellps="WGS84").inv(prev.lon, prev.lat, lon, lat)
    return prev_at + float(dist_m) / speed_ms


def _aircraft(a: AircraftModel, i: int, start: float, problems: Problems) -> Aircraft:
    """Waypoint defaults (time, altitude, speed from the aircraft) and time order."""
    path: tuple[Any, ...] = ("aircraft", i)
    tp = a.transponder
    off_at = _seconds(tp.off_at, start) if tp and tp.off_at is not None else None
    # an aircraft that switches its transponder off goes on as a non-cooperative target
    expect = a.expect or ("critical" if tp is None or off_at is not None else "none")
    t0 = _seconds(a.start, start) if a.start is not None else None
    wps: list[Waypoint] = []
    #: when the aircraft is at the previous waypoint (None: unknown)
    reach: float | None = None
    alt_reported = False
    for j, w in enumerate(a.waypoints):
        wpath = (*path, "waypoints", j)
        time = _seconds(w.time, start) if w.time is not None else None
        if j == 0 and time is None:
            if t0 is None:
                problems.append(((*wpath, "time"), "the first waypoint needs a time "
                                 "(or give the aircraft a start)"))
            time = t0
        alt = w.alt_m
        if alt is None:
            alt = wps[-1].alt_m if wps else a.alt_m
            if alt is None and not alt_reported:
                problems.append(((*wpath, "alt_m"), "is required on the first waypoint "
                                 "(or give the aircraft alt_m)"))
                alt_reported = True
        speed = w.speed_ms
        if j > 0 and time is None and speed is None:
            if a.speed_ms is None:
                problems.append((wpath, "needs a time or a speed_ms (or give the aircraft "
                                 "speed_ms)"))
            speed = a.speed_ms
        if wps and time is not None and wps[-1].time is not None and time < wps[-1].time:
            problems.append(((*wpath, "time"), "times must not go backwards"))
        elif wps and time is not None and reach is not None and time < reach - 1.0:
            problems.append(((*wpath, "time"), f"is {time:g} s, but the aircraft reaches the "
                             f"waypoint before it only at {reach:.0f} s at its speed: times "
                             "must not go backwards"))
        reach = _arrival(wps[-1], reach, w.lat, w.lon, speed) if wps else time
        if time is not None:
            reach = time
        wps.append(Waypoint(w.lat, w.lon, alt, time, speed))
    return Aircraft(a.id, a.category, tuple(wps), tp.icao24 if tp else None,
                    tp.callsign if tp else None, tp.squawk if tp else None,
                    None if expect == "none" else expect, a.note, off_at)


def _radars(m: ScenarioModel, problems: Problems) -> tuple[RadarSpec, ...]:
    radars = tuple(RadarSpec(r.name or f"radar-{i + 1}", r.sac, r.sic, r.lat, r.lon, r.alt_m,
                             r.range_km, r.sigma_range_m, r.sigma_azimuth_deg,
                             r.sigma_height_m, r.period_s, r.p_detect, r.clutter_per_scan,
                             r.bias_range_m, r.bias_azimuth_deg)
                   for i, r in enumerate(m.sensors.radars))
    if not radars:
        problems.append((("sensors", "radars"), "needs at least one radar"))
    keys = [(x.sac, x.sic) for x in radars]
    if len(set(keys)) != len(keys):
        problems.append((("sensors", "radars"), "two radars share a SAC/SIC"))
    return radars


def parse_scenario(data: Any, file: str = "<scenario>", base: Path | None = None,
                   lines: Mapping[tuple[Any, ...], int] | None = None) -> Scenario:
    """Build a :class:`Scenario` from parsed YAML; every problem is reported at once.

    The :class:`ScenarioError` names ``file``, the first problem's key path and line
    (from ``lines``, the YAML line map, when given) and how many more there are; its
    ``problems`` lists each one.
    """
    doc = YamlDocument(data, file, dict(lines or {}))
    if not isinstance(data, dict):
        raise ScenarioError("must be a mapping of keys to values", file=file,
                            line=doc.line_of(()))
    try:
        m = ScenarioModel.model_validate(data)
    except ValidationError as exc:
        _raise(doc, [(p.path, p.message)
                     for p in schema_problems(exc, ScenarioModel, PLAIN_MESSAGES)])
    problems: Problems = []
    start = _seconds(m.start, 0.0)
    base = base or Path(".")
    z = m.zones
    circles = tuple(CircleSpec(c.name, c.lat, c.lon, c.radius_km, c.floor_m, c.ceiling_m)
                    for c in z.circles)
    if not (z.national or z.circles or z.geojson):
        problems.append((("zones",), "needs at least one of national, circles, geojson"))
    radars = _radars(m, problems)
    aircraft = tuple(_aircraft(a, i, start, problems) for i, a in enumerate(m.aircraft))
    ids = [a.id for a in aircraft]
    if len(set(ids)) != len(ids):
        problems.append((("aircraft",), "two aircraft share an id"))
    if problems:
        _raise(doc, problems)
    b = m.background
    background = None if b is None else BackgroundSpec(
        b.sample, b.offset_s, b.duration_s, b.lat, b.lon, b.rotate_deg, b.max_flights, b.note,
        b.anchor_lat, b.anchor_lon)
    ad = m.sensors.adsb
    return Scenario(
        name=m.name, start=start, aircraft=aircraft, radars=radars,
        adsb=AdsbSpec(ad.period_s, ad.sigma_m, ad.p_receive),
        national=tuple(n.upper() for n in z.national), circles=circles,
        geojson=tuple(base / g for g in z.geojson),
        watch_states=tuple(w.upper() for w in m.watch_states), background=background,
        duration_s=m.duration_s, seed=m.seed, title=m.title, description=m.description,
        source=file, notes=tuple(m.notes),
        policy=base / m.policy if m.policy is not None else None,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file (read with the limits of :mod:`yamlfile`)."""
    p = Path(path)
    doc = load_yaml(p, what="scenario file", error=lambda m: ScenarioError(m))
    return parse_scenario(doc.data, str(p), p.parent, doc.lines)
