"""The scenario file's schema: pydantic models of every section, every key typed.

What types and ranges can say is said here, so that validating a document reports every
such problem at once (with :func:`skyfence.yamlfile.schema_problems`); what needs the
whole file (waypoint defaults, time order, unique ids) is checked by
:func:`skyfence.scenarios.spec.parse_scenario` afterwards. Conventions of the format:

- a key whose value is empty (``null``) counts as absent;
- numbers are YAML numbers (``"5"`` is not one, nor is ``true``), finite;
- texts may be written as whole numbers (``id: 1234``), read as text;
- a time is seconds (from the scenario start) or an ISO 8601 time, kept as a
  timezone-aware :class:`datetime` until the start is known.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    model_validator,
)

from skyfence.messages import show_value
from skyfence.vocab import SEVERITIES, Category

__all__ = ["ScenarioModel", "TimeValue"]


def _int_as_text(v: Any) -> Any:
    """A whole number written where text is expected is that text (``1234``)."""
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _time_value(v: Any) -> float | datetime:
    """Seconds (a finite YAML number) or an ISO 8601 time (UTC when no zone is given)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if not math.isfinite(v):
            raise ValueError(f"must be a finite number of seconds, got {show_value(v)}")
        return float(v)
    if isinstance(v, (str, datetime)):
        try:
            ts = pd.Timestamp(v)
        except (ValueError, TypeError, OverflowError):
            ts = None
        if ts is not None and not pd.isna(ts):
            out: datetime = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            return out
    raise ValueError(f"must be seconds or an ISO 8601 time, got {show_value(v)}")


Text = Annotated[str, BeforeValidator(_int_as_text), Field(strict=True)]
TimeValue = Annotated[float | datetime, PlainValidator(_time_value)]
# numbers: YAML numbers only (strict: not "5", not true), finite, in range
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Lat = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-90, le=90)]
Lon = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-180, le=180)]
Altitude = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-500, le=30000)]
Speed = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1500)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Probability = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
Duration = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=1)]
RangeKm = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=1, le=600)]
RadiusKm = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.001, le=2000)]
AzimuthDeg = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=10)]
ScanPeriodS = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.1, le=60)]
AdsbPeriodS = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.1, le=120)]
Clutter = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1000)]
BiasRangeM = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-5000, le=5000)]
BiasAzimuthDeg = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-10, le=10)]
Count = Annotated[int, Field(strict=True, ge=0)]
Byte = Annotated[int, Field(strict=True, ge=0, le=255)]


class _Section(BaseModel):
    """A mapping of the file: unknown keys are errors, an empty value is an absent key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


class WaypointModel(_Section):
    """A point of a route; time, altitude and speed may come from the aircraft."""

    lat: Lat
    lon: Lon
    alt_m: Altitude | None = None
    time: TimeValue | None = None
    speed_ms: Speed | None = None


def _transponder(v: Any) -> Any:
    """``off``/``false`` (YAML reads ``off`` as false) is no transponder."""
    if v is False or v == "off":
        return None
    if not isinstance(v, dict):
        raise ValueError("must be off/false or a mapping with icao24 (and callsign), "
                         f"got {show_value(v)}")
    return v


def _expectation(v: str) -> str:
    """A severity the aircraft's violations should get, or ``none``: not one."""
    if v not in (*SEVERITIES, "none"):
        raise ValueError(f"must be one of {', '.join(SEVERITIES)} or none, got {show_value(v)}")
    return v


def _icao24(v: Any) -> Any:
    s = str(v).strip().lower()
    if len(s) != 6 or any(c not in "0123456789abcdef" for c in s):
        raise ValueError(f"must be a 24-bit ICAO address (6 hex digits), got {show_value(v)}")
    return s


class TransponderModel(_Section):
    """What the aircraft squitters, and when it stops."""

    icao24: Annotated[str, BeforeValidator(_icao24)]
    callsign: Text | None = None
    squawk: Text | None = None
    off_at: TimeValue | None = None


class AircraftModel(_Section):
    """One scripted aircraft or drone; ``expect`` defaults from its transponder."""

    id: Text
    category: Category = "unknown"
    transponder: Annotated[TransponderModel | None, BeforeValidator(_transponder)] = None
    expect: Annotated[str, Field(strict=True), AfterValidator(_expectation)] | None = None
    speed_ms: Speed | None = None
    alt_m: Altitude | None = None
    start: TimeValue | None = None
    waypoints: Annotated[list[WaypointModel], Field(min_length=2)]
    note: Text = ""


class RadarModel(_Section):
    """A radar: site, coverage, noise, rotation and detection."""

    name: Text | None = None
    sac: Byte
    sic: Byte
    lat: Lat
    lon: Lon
    alt_m: Number = 0.0
    range_km: RangeKm = 250.0
    sigma_range_m: NonNegative = 50.0
    sigma_azimuth_deg: AzimuthDeg = 0.08
    sigma_height_m: NonNegative | None = None
    period_s: ScanPeriodS = 4.0
    p_detect: Probability = 0.9
    clutter_per_scan: Clutter = 0.0
    #: systematic range and azimuth errors of the radar (what registration estimates)
    bias_range_m: BiasRangeM = 0.0
    bias_azimuth_deg: BiasAzimuthDeg = 0.0


class AdsbModel(_Section):
    """ADS-B coverage of transponder-equipped aircraft."""

    period_s: AdsbPeriodS = 5.0
    sigma_m: NonNegative = 10.0
    p_receive: Probability = 1.0


class SensorsModel(_Section):
    """The radars and the ADS-B coverage."""

    radars: list[RadarModel] = Field(default_factory=list)
    adsb: AdsbModel = Field(default_factory=AdsbModel)


class CircleModel(_Section):
    """A circle zone."""

    name: Text
    lat: Lat
    lon: Lon
    radius_km: RadiusKm
    floor_m: Number | None = None
    ceiling_m: Number | None = None


class ZonesModel(_Section):
    """The zones watched: national airspace, circles, GeoJSON files."""

    national: list[Text] = Field(default_factory=list)
    circles: list[CircleModel] = Field(default_factory=list)
    geojson: list[Text] = Field(default_factory=list)


class BackgroundModel(_Section):
    """Real recorded traffic, moved (rigidly) into the scenario area."""

    sample: Text
    offset_s: NonNegative = 0.0
    duration_s: Duration | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    rotate_deg: Number = 0.0
    max_flights: Count | None = None
    note: Text = ""
    anchor_lat: Lat | None = None
    anchor_lon: Lon | None = None


class ScenarioModel(_Section):
    """A whole scenario file (see :mod:`skyfence.scenarios.spec` for the format)."""

    name: Text
    title: Text = ""
    description: Text = ""
    start: TimeValue
    duration_s: Duration | None = None
    seed: Count = 0
    zones: ZonesModel = Field(default_factory=ZonesModel)
    watch_states: list[Text] = Field(default_factory=list)
    sensors: SensorsModel = Field(default_factory=SensorsModel)
    background: BackgroundModel | None = None
    aircraft: list[AircraftModel] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)
    policy: Text | None = None
