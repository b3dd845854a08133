"""A zone as the GeoJSON file of a dossier, and back: the exact geometry the detector used.

The file is a FeatureCollection of one Feature whose properties carry the zone's name,
kind (``national`` / ``custom``), title and altitude limits. Coordinates are written
with Python's shortest round-trip float text, so reading them back gives the very same
doubles and the same entries. A zone crossing ±180 is stored cut at the antimeridian,
as RFC 7946 asks (that is how :class:`~skyfence.airspace.zones.Zone` holds it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
import shapely.geometry

from skyfence.airspace.zones import Zone
from skyfence.errors import ZoneError
from skyfence.vocab import ZoneKind

__all__ = ["read_zone_geojson", "zone_geojson"]


def zone_geojson(zone: Zone) -> dict[str, Any]:
    """The GeoJSON document of ``zone`` (a FeatureCollection of one Feature)."""
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {"name": zone.name, "kind": zone.kind, "title": zone.title,
                           "floor_m": zone.floor_m, "ceiling_m": zone.ceiling_m},
            "geometry": shapely.geometry.mapping(zone.geometry),
        }],
    }


def read_zone_geojson(path: str | Path) -> Zone:
    """The zone stored by :func:`zone_geojson`; raises :class:`ZoneError` naming the file."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        feat = doc["features"][0]
        props = feat["properties"]
        geom = shapely.geometry.shape(feat["geometry"])
    except FileNotFoundError:
        raise ZoneError(f"{p}: missing") from None
    except Exception as exc:  # malformed JSON or geometry: one line naming the file
        raise ZoneError(f"{p}: not a zone GeoJSON file ({type(exc).__name__}: {exc})") from None
    kind: ZoneKind = "national" if props.get("kind") == "national" else "custom"

    def limit(key: str) -> float | None:
        v = props.get(key)
        return None if v is None else float(v)

    return Zone(str(props.get("name")), kind, geom, limit("floor_m"), limit("ceiling_m"),
                str(props.get("title") or ""))
