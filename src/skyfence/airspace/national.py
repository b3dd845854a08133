"""National airspace of every state: land, internal waters and territorial sea.

The boundaries are OpenStreetMap's, as published in the npm package
``@geo-maps/countries-maritime-10m`` (ODbL 1.0, © OpenStreetMap contributors), repaired
so that every enclave and exclave lies in exactly one state and bundled losslessly by
``scripts/build_boundaries.py`` (see ``data/ATTRIBUTION.md``).

>>> from skyfence.airspace.national import find_national
>>> find_national("Estonia").code
'EST'

Caveats that come from the source, not from the repair: a dependency that the
parent's OpenStreetMap relation also contains is in both zones (``PYF`` and ``FRA``;
:attr:`NationalAirspace.part_of` names the parent), and a few disputed areas are
claimed by both sides (Crimea in ``RUS`` and ``UKR``, Western Sahara in ``MAR`` and
``ESH``, ...).
"""

from __future__ import annotations

import difflib
import functools
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from skyfence.airspace.bundle import read_bundle
from skyfence.errors import ZoneError

DATA_DIR = Path(__file__).with_name("data")
METADATA_PATH = DATA_DIR / "national.json"
BUNDLE_PATH = DATA_DIR / "national.npz"
RINGS_PATH = DATA_DIR / "national_rings.json"

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class SourceInfo:
    """Where the bundled boundaries come from, and under which licence."""

    package: str
    version: str
    sha256: str
    licence: str
    attribution: str
    build_date: str

    def describe(self) -> str:
        """One line for a dossier or ``skyfence zones show``."""
        return (
            f"{self.package} {self.version} ({self.attribution}, {self.licence}; "
            f"sha256 {self.sha256[:12]}, built {self.build_date})"
        )


def _read_metadata() -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(METADATA_PATH.read_text(encoding="utf-8"))
    return meta


_META = _read_metadata()

#: the source of the bundled boundaries
SOURCE = SourceInfo(
    package=_META["source"]["package"],
    version=_META["source"]["version"],
    sha256=_META["source"]["sha256"],
    licence=_META["source"]["licence"],
    attribution=_META["source"]["attribution"],
    build_date=_META["build"]["date"],
)


@dataclass(frozen=True, eq=False)
class NationalAirspace:
    """A state's sovereign airspace: a valid lon/lat (Multi)Polygon keyed by ISO3 code.

    ``part_of`` is the code of the zone whose source feature also contains this whole
    zone (a dependency such as ``PYF`` in ``FRA``), else ``None``.
    """

    code: str
    name: str
    geometry: BaseGeometry
    aliases: tuple[str, ...] = ()
    part_of: str | None = None
    repairs: tuple[str, ...] = ()

    @functools.cached_property
    def area_km2(self) -> float:
        """Geodesic area on the WGS84 ellipsoid, km²."""
        area, _ = _GEOD.geometry_area_perimeter(self.geometry)
        return abs(area) / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` in degrees."""
        x0, y0, x1, y1 = self.geometry.bounds
        return (x0, y0, x1, y1)

    @property
    def vertex_count(self) -> int:
        """Number of stored vertices (closing vertices included)."""
        return int(shapely.get_num_coordinates(self.geometry))

    def __repr__(self) -> str:
        return f"NationalAirspace({self.code!r}, {self.name!r}, vertices={self.vertex_count})"


@functools.cache
def _zones() -> Mapping[str, NationalAirspace]:
    geometries = read_bundle(BUNDLE_PATH)
    entries = _META["zones"]
    if len(entries) != len(geometries):
        raise ZoneError(f"{BUNDLE_PATH}: {len(geometries)} geometries for {len(entries)} zones")
    zones = {
        z["code"]: NationalAirspace(
            code=z["code"],
            name=z["name"],
            geometry=geometry,
            aliases=tuple(z["aliases"]),
            part_of=z["part_of"],
            repairs=tuple(z["repairs"]),
        )
        for z, geometry in zip(entries, geometries, strict=True)
    }
    return MappingProxyType(zones)


def national_zones() -> Mapping[str, NationalAirspace]:
    """Every bundled national airspace, keyed by ISO 3166-1 alpha-3 code (cached)."""
    return _zones()


def is_bundled(geometry: BaseGeometry) -> bool:
    """Whether ``geometry`` is one of this process's bundled national geometries (the
    very objects :func:`national_zones` holds). Those were made valid and cut at the
    antimeridian when built (``scripts/build_boundaries.py``; ``tests/airspace/
    test_national.py`` checks every one), so a zone of one needs no check: checking
    all 250 took 0.3 s in every process that watched them all. Never loads the bundle.

    >>> is_bundled(find_national("EST").geometry), is_bundled(shapely.box(0, 0, 1, 1))
    (True, False)
    """
    return _zones.cache_info().currsize > 0 and id(geometry) in _bundled_ids()


@functools.cache
def _bundled_ids() -> frozenset[int]:
    return frozenset(id(z.geometry) for z in _zones().values())


def _key(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace("’", "'").split())


@functools.cache
def _names() -> Mapping[str, str]:
    """Normalized code, name or alias to ISO3 code, from the metadata alone."""
    index: dict[str, str] = {}
    for z in _META["zones"]:
        for text in (z["name"], *z["aliases"]):
            index.setdefault(_key(text), z["code"])
    for z in _META["zones"]:  # codes win over names
        index[_key(z["code"])] = z["code"]
    return MappingProxyType(index)


def find_national(name_or_code: str) -> NationalAirspace:
    """The national airspace named by an ISO3 code or an English name or alias.

    Matching ignores case, accents and extra spaces. Raises :class:`ZoneError`, with
    close matches, when nothing matches.

    >>> find_national("czech republic").code
    'CZE'
    """
    names = _names()
    code = names.get(_key(name_or_code))
    if code is None:
        close = difflib.get_close_matches(_key(name_or_code), list(names), n=6, cutoff=0.6)
        codes = list(dict.fromkeys(names[c] for c in close))[:3]
        title = {z["code"]: z["name"] for z in _META["zones"]}
        hint = (
            "; did you mean " + ", ".join(f"{title[c]} ({c})" for c in codes) + "?"
            if codes
            else "; `skyfence zones list` shows them all"
        )
        raise ZoneError(f"unknown national airspace {name_or_code!r}{hint}")
    return national_zones()[code]


__all__ = ["SOURCE", "NationalAirspace", "SourceInfo", "find_national", "national_zones"]
