"""Zones to watch: national airspace and user-drawn zones (GeoJSON polygons, circles).

A :class:`Zone` is a lon/lat polygon with optional altitude limits. National zones come
from the bundled OpenStreetMap boundaries (:mod:`skyfence.airspace.national`); custom
zones from GeoJSON files, ``NAME:LAT,LON,RADIUS_KM`` circles or a config file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from skyfence.airspace.antimeridian import contains_on_globe, lon_delta, normalize_polygonal
from skyfence.airspace.geodesy import destination, geodesic_distance_m
from skyfence.errors import ZoneError
from skyfence.vocab import ZoneKind

#: vertices a circle zone starts with; chord error is r * (1 - cos(pi / n)), 0.05 m for 5 km
CIRCLE_VERTICES = 720
#: edges of a circle are halved until their lon/lat-straight middle lies this close to
#: the true geodesic circle (large circles and circles near a pole need more vertices)
CIRCLE_TOLERANCE_M = 1.0
#: the largest circle zone: a geodesic circle of more than about a quarter of the
#: globe's circumference no longer bounds one side of the globe that the lon/lat plane
#: can hold (it can enclose both poles); draw such areas as polygons
MAX_CIRCLE_RADIUS_KM = 9000.0


def _bundled(geometry: BaseGeometry) -> bool:
    from skyfence.airspace.national import is_bundled

    return is_bundled(geometry)


@dataclass(frozen=True, eq=False)
class Zone:
    """A watched volume: a lon/lat (Multi)Polygon between an optional floor and ceiling.

    ``kind`` is ``"national"`` (``name`` is the ISO 3166-1 alpha-3 code) or ``"custom"``.
    """

    name: str
    kind: ZoneKind
    geometry: BaseGeometry
    floor_m: float | None = None
    ceiling_m: float | None = None
    title: str = ""
    boundary: BaseGeometry = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not _bundled(self.geometry):  # a bundled state's geometry was checked when built
            self._check_geometry()
        shapely.prepare(self.geometry)
        boundary = self.geometry.boundary
        shapely.prepare(boundary)
        object.__setattr__(self, "boundary", boundary)
        if (
            self.floor_m is not None
            and self.ceiling_m is not None
            and self.floor_m >= self.ceiling_m
        ):
            raise ZoneError(f"zone '{self.name}': floor_m must be below ceiling_m")

    def _check_geometry(self) -> None:
        """A non-empty polygonal geometry that does not cover the globe, cut at the
        antimeridian and made valid (the geometry is replaced when either changes it)."""
        geom = self.geometry
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise ZoneError(f"zone '{self.name}': geometry must be a non-empty (Multi)Polygon")
        cut = normalize_polygonal(geom, self.name)
        if cut is not geom:
            geom = cut
            object.__setattr__(self, "geometry", geom)
        if geom.bounds == (-180.0, -90.0, 180.0, 90.0) and geom.area >= 360.0 * 180.0:
            raise ZoneError(f"zone '{self.name}' covers the whole globe: it has no border")
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            polys = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon"]
            if not polys:
                raise ZoneError(f"zone '{self.name}': the geometry encloses no area")
            geom = shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]
            object.__setattr__(self, "geometry", geom)

    @property
    def has_altitude_limits(self) -> bool:
        """True when a floor or a ceiling restricts the zone vertically."""
        return self.floor_m is not None or self.ceiling_m is not None

    def altitude_ok(self, altitude: np.ndarray) -> np.ndarray:
        """Which altitudes lie between floor and ceiling; unknown (NaN) counts as inside.

        An unknown altitude cannot clear a target, so it is treated as inside the band.
        """
        ok = np.ones(altitude.shape, dtype=bool)
        known = ~np.isnan(altitude)
        if self.floor_m is not None:
            ok &= ~known | (altitude >= self.floor_m)
        if self.ceiling_m is not None:
            ok &= ~known | (altitude <= self.ceiling_m)
        return ok

    def contains(self, lon: np.ndarray, lat: np.ndarray, altitude: np.ndarray) -> np.ndarray:
        """Which positions are inside the zone (horizontally and vertically).

        Longitudes may lie outside [-180, 180] (they are wrapped); a position on the
        antimeridian or a pole is inside when the zone holds it on either side.
        """
        inside = contains_on_globe(self.geometry, lon, lat)
        if self.has_altitude_limits:
            inside &= self.altitude_ok(altitude)
        return np.asarray(inside, dtype=bool)


def circle_zone(
    name: str,
    lat: float,
    lon: float,
    radius_km: float,
    *,
    floor_m: float | None = None,
    ceiling_m: float | None = None,
) -> Zone:
    """A geodesic circle of ``radius_km`` around (lat, lon), e.g. an airport's drone zone."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ZoneError(f"circle '{name}': centre {lat},{lon} is not a valid position")
    if not (radius_km > 0 and math.isfinite(radius_km)):
        raise ZoneError(f"circle '{name}': radius must be a positive number of km")
    if radius_km > MAX_CIRCLE_RADIUS_KM:
        raise ZoneError(f"circle '{name}': radius {radius_km:g} km is over the "
                        f"{MAX_CIRCLE_RADIUS_KM:,.0f} km limit (a larger circle covers most of "
                        "a hemisphere): draw the area as polygons in a zones file")
    ring = circle_ring(lat, lon, radius_km * 1000.0)
    return Zone(name, "custom", shapely.Polygon(ring), floor_m, ceiling_m, f"circle {radius_km} km")


def circle_ring(lat: float, lon: float, radius_m: float) -> np.ndarray:
    """Vertices (lon, lat) of a geodesic circle, dense enough for lon/lat-straight edges.

    Starts from :data:`CIRCLE_VERTICES` azimuths and halves every edge whose straight
    lon/lat middle (taken the shorter way round in longitude) lies more than
    :data:`CIRCLE_TOLERANCE_M` from the circle's own point at the middle azimuth, as
    happens near a pole or for circles of thousands of km. Longitudes are wrapped; the
    zone cuts the ring at ±180 and closes it along a pole it encloses.
    """
    az = np.linspace(0.0, 360.0, CIRCLE_VERTICES + 1)
    for _ in range(16):
        lons, lats = destination(lon, lat, az, radius_m)
        mid_az = (az[:-1] + az[1:]) / 2
        true_lon, true_lat = destination(lon, lat, mid_az, radius_m)
        flat_lon = lons[:-1] + lon_delta(lons[:-1], lons[1:]) / 2
        flat_lat = (lats[:-1] + lats[1:]) / 2
        off = geodesic_distance_m(flat_lon, flat_lat, true_lon, true_lat)
        split = np.flatnonzero(off > CIRCLE_TOLERANCE_M)
        if not len(split) or len(az) > 200_000:
            break
        az = np.sort(np.concatenate([az, mid_az[split]]))
    lons, lats = destination(lon, lat, az[:-1], radius_m)
    return np.column_stack([lons, lats])


def parse_circle(spec: str) -> Zone:
    """Parse ``NAME:LAT,LON,RADIUS_KM`` (as given to ``--circle``) into a zone."""
    from skyfence.messages import show_value

    name, sep, rest = spec.rpartition(":")
    parts = rest.split(",")
    if not sep or not name or len(parts) != 3:
        raise ZoneError(f"--circle {show_value(spec)}: expected NAME:LAT,LON,RADIUS_KM")
    try:
        lat, lon, radius = (float(p) for p in parts)
    except ValueError:
        raise ZoneError(f"--circle {show_value(spec)}: LAT, LON and RADIUS_KM must be numbers"
                        ) from None
    return circle_zone(name, lat, lon, radius)


def _limit(props: dict[str, Any], key: str, where: str) -> float | None:
    from skyfence.airspace.geojson_input import check_number_property

    return check_number_property(props, key, where)


def zones_from_geojson(path: str | Path) -> list[Zone]:
    """Read custom zones from a GeoJSON file of Polygon/MultiPolygon features.

    Each feature needs a ``name``; ``floor_m`` and ``ceiling_m`` are optional. A
    ``radius_km`` on a Point feature makes a circle.
    """
    from skyfence.airspace.geojson_input import read_zone_features

    p = Path(path)
    features = read_zone_features(p)  # checked: names, numbers, positions, ring sizes
    zones = []
    for i, feat in enumerate(features, start=1):
        try:
            zones.append(_feature_zone(p, i, feat))
        except ZoneError as exc:
            msg = str(exc)
            # the zone's own checks name the zone, not the file: say where it is
            raise ZoneError(msg if msg.startswith(str(p)) else f"{p}: feature {i}: {msg}"
                            ) from None
    return zones


def _feature_zone(p: Path, i: int, feat: dict[str, Any]) -> Zone:
    """The zone of feature ``i`` of file ``p`` (see :func:`zones_from_geojson`)."""
    where = f"{p}: feature {i}"
    props = feat.get("properties") or {}
    name = props.get("name")
    if not name:
        raise ZoneError(f"{where}: property 'name' is missing")
    where = f"{p}: feature {i} ('{name}')"
    floor, ceiling = _limit(props, "floor_m", where), _limit(props, "ceiling_m", where)
    try:
        geom = shapely.geometry.shape(feat.get("geometry"))
    except Exception as exc:  # shapely raises several types for malformed input
        raise ZoneError(f"{where}: invalid geometry ({exc})") from None
    if geom.geom_type == "Point" and props.get("radius_km") is not None:
        radius = _limit(props, "radius_km", where)
        assert radius is not None
        circle = circle_zone(str(name), geom.y, geom.x, radius)
        return Zone(str(name), "custom", circle.geometry, floor, ceiling, circle.title)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ZoneError(f"{where}: geometry must be Polygon or MultiPolygon")
    return Zone(str(name), "custom", geom, floor, ceiling, str(props.get("title", "")))


def national_zone(name_or_code: str) -> Zone:
    """The sovereign airspace of a state, by ISO3 code or English name."""
    from skyfence.airspace.national import find_national

    state = find_national(name_or_code)
    return Zone(state.code, "national", state.geometry, title=state.name)


def all_national_zones() -> list[Zone]:
    """Every national airspace in the bundled data."""
    from skyfence.airspace.national import national_zones

    return [Zone(s.code, "national", s.geometry, title=s.name) for s in national_zones().values()]


def resolve_zones(
    names: Sequence[str] = (),
    zones_files: Iterable[str | Path] = (),
    circles: Iterable[str] = (),
) -> list[Zone]:
    """Build the zone list of a scan from ``--zone``, ``--zones-file`` and ``--circle``."""
    zones: list[Zone] = []
    for name in names:
        if name.strip().lower() == "all":
            zones.extend(all_national_zones())
        else:
            zones.append(national_zone(name))
    for path in zones_files:
        zones.extend(zones_from_geojson(path))
    zones.extend(parse_circle(c) for c in circles)
    seen: dict[str, Zone] = {}
    unique = []
    for z in zones:
        other = seen.get(z.name)
        if other is not None:
            if z.kind == "national" and other.kind == "national":
                continue  # the same state named twice (EST and Estonia)
            raise ZoneError(f"two zones are named '{z.name}': give each zone its own name")
        seen[z.name] = z
        unique.append(z)
    if not unique:
        raise ZoneError("no zone to watch: give --zone, --zones-file or --circle")
    return unique
