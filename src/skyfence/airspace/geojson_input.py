"""Checking a custom-zone GeoJSON file before any geometry is built from it.

:func:`read_zone_features` reads the file and returns its features once every one
is a usable zone: an object with a ``name`` (non-empty text), a Polygon or
MultiPolygon geometry, or a Point with a ``radius_km`` (a circle), whose positions
are pairs of finite numbers with longitude in [-180, 180] and latitude in [-90, 90]
(RFC 7946 order: lon, lat) and whose rings have at least 3 distinct positions;
``floor_m``, ``ceiling_m`` and ``radius_km``, when given, are finite numbers (or
text holding one).
Anything else is a :class:`~skyfence.errors.ZoneError` naming the file, the feature
(1-based, and its name when known) and the problem, in one line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from skyfence.errors import ZoneError
from skyfence.messages import one_line, show_value

__all__ = ["MAX_ZONE_NAME_CHARS", "check_number_property", "read_zone_features"]

MAX_ZONE_NAME_CHARS = 100
_POLYGONAL = ("Polygon", "MultiPolygon")


def _json_kind(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(v), "a value")


def read_zone_features(path: str | Path) -> list[dict[str, Any]]:
    """The features of a zones file, each checked (see the module docstring)."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ZoneError(f"{p}: zones file not found") from None
    except IsADirectoryError:
        raise ZoneError(f"{p}: is a directory, not a GeoJSON file") from None
    except UnicodeDecodeError:
        raise ZoneError(f"{p}: not a readable GeoJSON file (not UTF-8 text)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ZoneError(f"{p}: not a readable GeoJSON file ({one_line(str(exc), 120)})"
                        ) from None
    except RecursionError:
        raise ZoneError(f"{p}: not a readable GeoJSON file (nested too deeply)") from None
    if not isinstance(doc, dict):
        raise ZoneError(f"{p}: expected a GeoJSON FeatureCollection (an object), "
                        f"got {_json_kind(doc)}")
    features = [doc] if doc.get("type") == "Feature" else doc.get("features")
    if not isinstance(features, list) or not features:
        raise ZoneError(f"{p}: expected a GeoJSON FeatureCollection with at least one feature")
    for i, feat in enumerate(features, start=1):
        _check_feature(feat, f"{p}: feature {i}")
    return features


def _check_feature(feat: Any, where: str) -> None:
    if not isinstance(feat, dict):
        raise ZoneError(f"{where}: expected a GeoJSON Feature (an object), got {_json_kind(feat)}")
    props = feat.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise ZoneError(f"{where}: 'properties' must be an object, got {_json_kind(props)}")
    name = props.get("name")
    if name is None or name == "":
        raise ZoneError(f"{where}: property 'name' is missing")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_ZONE_NAME_CHARS \
            or not name.isprintable():
        raise ZoneError(f"{where}: property 'name' must be printable text of 1 to "
                        f"{MAX_ZONE_NAME_CHARS} characters, got {show_value(name)}")
    where = f"{where} ('{name}')"
    for key in ("floor_m", "ceiling_m", "radius_km"):
        check_number_property(props, key, where)
    geom = feat.get("geometry")
    if not isinstance(geom, dict):
        raise ZoneError(f"{where}: 'geometry' must be a GeoJSON geometry object, "
                        f"got {_json_kind(geom)}")
    kind, coords = geom.get("type"), geom.get("coordinates")
    if kind == "Point" and props.get("radius_km") is not None:
        _position(coords, f"{where}: point")
    elif kind == "Polygon":
        _polygon(coords, where)
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise ZoneError(f"{where}: a MultiPolygon needs a non-empty array of polygons")
        for j, poly in enumerate(coords, start=1):
            _polygon(poly, f"{where}: polygon {j}")
    elif kind == "Point":
        raise ZoneError(f"{where}: a Point zone needs a 'radius_km' property (a circle)")
    else:
        raise ZoneError(f"{where}: geometry must be Polygon or MultiPolygon (or a Point with "
                        f"'radius_km'), got {show_value(kind)}")


def check_number_property(props: dict[str, Any], key: str, where: str) -> float | None:
    """``props[key]`` as a finite float, None when absent; ZoneError otherwise."""
    value = props.get(key)
    if value is None:
        return None
    number = math.nan
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            number = math.nan
    if not math.isfinite(number):
        raise ZoneError(f"{where}: property '{key}' must be a finite number, "
                        f"got {show_value(value)}")
    return number


def _polygon(rings: Any, where: str) -> None:
    if not isinstance(rings, list) or not rings:
        raise ZoneError(f"{where}: a Polygon needs a non-empty array of rings")
    for k, ring in enumerate(rings, start=1):
        label = f"{where}: ring {k}"
        if not isinstance(ring, list):
            raise ZoneError(f"{label}: expected an array of positions")
        points = [_position(pos, f"{label}, position {m}") for m, pos in enumerate(ring, 1)]
        distinct = len(set(points))
        if distinct < 3:
            raise ZoneError(f"{label}: has {distinct} distinct position(s); a ring needs at "
                            "least 3")


def _position(pos: Any, where: str) -> tuple[float, float]:
    if not isinstance(pos, list) or len(pos) not in (2, 3) or not all(
            isinstance(c, (int, float)) and not isinstance(c, bool) for c in pos):
        raise ZoneError(f"{where}: expected [lon, lat] numbers, got {show_value(pos)}")
    lon, lat = float(pos[0]), float(pos[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ZoneError(f"{where}: coordinates must be finite, got {show_value(pos)}")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ZoneError(f"{where}: [lon, lat] {show_value(pos)} is outside [-180, 180] x "
                        "[-90, 90] (GeoJSON gives longitude first)")
    return lon, lat
