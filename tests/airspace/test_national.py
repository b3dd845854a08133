"""The bundled national airspace: complete, valid, exact, enclaves in the right state."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import defaultdict

import numpy as np
import pytest
import shapely
from pyproj import Geod

from skyfence.airspace import national
from skyfence.airspace.bundle import read_ragged
from skyfence.airspace.national import SOURCE, NationalAirspace, find_national, national_zones
from skyfence.errors import ZoneError

GEOD = Geod(ellps="WGS84")

#: overlaps under this many km² are negligible: boundary lines of neighbours agree
NEGLIGIBLE_KM2 = 1.0

#: dependencies that the parent state's OpenStreetMap relation also contains
DEPENDENCIES = {
    **dict.fromkeys(
        ["PYF", "NCL", "GUF", "ATF", "MYT", "WLF", "SPM", "REU", "BLM", "GLP", "MTQ", "MAF"],
        "FRA",
    ),
    **dict.fromkeys(["PRI", "UMI", "ASM", "MNP", "VIR", "GUM"], "USA"),
    **dict.fromkeys(["HMD", "CCK", "CXR", "NFK"], "AUS"),
    **dict.fromkeys(["BES", "CUW", "ABW", "SXM"], "NLD"),
    **dict.fromkeys(["SJM", "BVT"], "NOR"),
    **dict.fromkeys(["HKG", "MAC"], "CHN"),
    "ALA": "FIN",
}

#: areas both sides' relations claim in the source, km² (measured, rounded up)
DISPUTED_KM2 = {
    ("ESH", "MAR"): 220_000,  # Western Sahara
    ("RUS", "UKR"): 46_000,  # Crimea
    ("SDN", "SSD"): 24_000,  # Kafia Kingi, Abyei
    ("ARG", "CHL"): 3_400,  # Southern Patagonian Ice Field
    ("CHN", "TWN"): 890,  # waters of the Matsu and Kinmen islands
    ("CAN", "USA"): 660,  # Gulf of Maine grey zone (Machias Seal Island) and others
    ("DEU", "NLD"): 270,  # Ems-Dollart estuary
    ("HRV", "SRB"): 110,  # Danube islands
    ("ISR", "PSE"): 72,  # Jerusalem area
    ("CHN", "IND"): 48,  # Ladakh
    ("CAN", "GRL"): 20,  # Hans Island, Nares Strait
}

#: slivers where two relations' boundary lines disagree in the source, km² (rounded up)
MISMATCH_KM2 = {
    ("AFG", "TKM"): 260, ("AGO", "COG"): 220, ("CHN", "KAZ"): 150, ("CHN", "LAO"): 110,
    ("MNG", "RUS"): 59, ("CHN", "KGZ"): 22, ("NOR", "SWE"): 18, ("ITA", "SVN"): 13,
    ("CIV", "MLI"): 12, ("BTN", "IND"): 11, ("FRA", "GGY"): 11, ("DEU", "LUX"): 7.1,
    ("BTN", "CHN"): 6.5, ("MNE", "SRB"): 6.3, ("CHN", "TJK"): 5.5, ("GIN", "MLI"): 4.7,
    ("BLR", "UKR"): 3.8, ("IND", "MMR"): 3.7, ("AFG", "TJK"): 3.4, ("FIN", "RUS"): 3.4,
    ("CHN", "NPL"): 2.5, ("BRA", "GUY"): 2.3, ("CHN", "MMR"): 2.3, ("CHN", "PAK"): 2.2,
    ("ZMB", "ZWE"): 2.1, ("MLI", "SEN"): 1.8, ("NAM", "ZAF"): 1.5, ("CHN", "RUS"): 1.4,
    ("ISR", "LBN"): 1.3, ("CHN", "MNG"): 1.3, ("SRB", "XKX"): 1.2, ("GRC", "MKD"): 1.1,
}

#: (lat, lon, state, largest km² of the part holding it): enclaves, exclaves and
#: counter-enclaves, each point inside the small polygon it is named after
ENCLAVES = {
    "Baarle-Hertog, centre of enclave H1": (51.43660, 4.92634, "BEL", 2.0),
    "Baarle-Nassau counter-enclave N1 inside H1": (51.43875, 4.92330, "NLD", 0.1),
    "Büsingen am Hochrhein": (47.6967, 8.6903, "DEU", 10.0),
    "Campione d'Italia": (45.9700, 8.9700, "ITA", 3.0),
    "Llívia": (42.4667, 1.9833, "ESP", 15.0),
    "Madha": (25.2833, 56.3167, "OMN", 150.0),
    "Nahwa, inside Madha": (25.2728, 56.2801, "ARE", 5.0),
    "Maseru": (-29.3100, 27.4800, "LSO", 40_000.0),
    "Thaba-Tseka": (-29.5200, 28.6000, "LSO", 40_000.0),
    "City of San Marino": (43.9356, 12.4473, "SMR", 70.0),
    "St Peter's Basilica": (41.9022, 12.4539, "VAT", 1.0),
}

#: the state that surrounds each enclave above
SURROUNDING = {"BEL": "NLD", "NLD": "BEL", "DEU": "CHE", "ITA": "CHE", "ESP": "FRA",
               "OMN": "ARE", "ARE": "OMN", "LSO": "ZAF", "SMR": "ITA", "VAT": "ITA"}


@pytest.fixture(scope="module")
def zones() -> dict[str, NationalAirspace]:
    return dict(national_zones())


@pytest.fixture(scope="module")
def index(zones: dict[str, NationalAirspace]) -> tuple[list[str], shapely.STRtree]:
    codes = list(zones)
    return codes, shapely.STRtree([zones[c].geometry for c in codes])


def states_at(index: tuple[list[str], shapely.STRtree], lat: float, lon: float) -> set[str]:
    codes, tree = index
    return {codes[i] for i in tree.query(shapely.Point(lon, lat), predicate="intersects")}


def geodesic_km2(geometry: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geometry)[0]) / 1e6


def test_all_250_zones_load_valid_and_keyed_by_iso3(zones: dict[str, NationalAirspace]) -> None:
    assert len(zones) == 250
    assert all(len(code) == 3 and code.isupper() and z.code == code for code, z in zones.items())
    geometries = [z.geometry for z in zones.values()]
    assert shapely.is_valid(geometries).all()
    assert {g.geom_type for g in geometries} == {"Polygon", "MultiPolygon"}
    assert all(z.name for z in zones.values())


def test_bundled_zones_need_none_of_the_checks_a_zone_skips_for_them(
        zones: dict[str, NationalAirspace]) -> None:
    """A zone of a bundled geometry skips the zone's checks (``Zone.__post_init__``):
    each of those checks, run on every bundled geometry, changes nothing (valid above;
    already cut at the antimeridian and not the whole globe here), and a zone made of
    a copy of one (not the bundled object) is checked and ends up the same."""
    from skyfence.airspace.antimeridian import normalize_polygonal
    from skyfence.airspace.national import is_bundled
    from skyfence.airspace.zones import Zone

    for code, z in zones.items():
        assert is_bundled(z.geometry)
        assert normalize_polygonal(z.geometry, code) is z.geometry
        assert z.geometry.bounds != (-180.0, -90.0, 180.0, 90.0)
    est = zones["EST"].geometry
    copy = shapely.from_wkb(shapely.to_wkb(est))
    assert not is_bundled(copy)
    assert Zone("EST", "national", copy).geometry.equals_exact(est, 0.0)
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # invalid: repaired
    assert Zone("X", "custom", bowtie).geometry.is_valid


def test_zone_properties(zones: dict[str, NationalAirspace]) -> None:
    est = zones["EST"]
    assert est.name == "Estonia"
    # land 45,339 km2 (Statistics Estonia) plus about 25,000 km2 of territorial sea
    assert 65_000 < est.area_km2 < 75_000
    x0, y0, x1, y1 = est.bounds
    assert 21 < x0 < 22 and 57 < y0 < 58 and 28 < x1 < 28.5 and 59.5 < y1 < 60
    assert est.vertex_count == shapely.get_num_coordinates(est.geometry) > 1000
    assert national_zones() is national_zones()  # cached


def test_vaindloo_narva_ivangorod(index: tuple[list[str], shapely.STRtree]) -> None:
    assert states_at(index, 59.817, 26.358) == {"EST"}  # Vaindloo island
    assert states_at(index, 59.377, 28.190) == {"EST"}  # Narva, west bank of the river
    assert states_at(index, 59.372, 28.215) == {"RUS"}  # Ivangorod, east bank


def test_gulf_of_finland_corridor_is_no_state(
    zones: dict[str, NationalAirspace], index: tuple[list[str], shapely.STRtree]
) -> None:
    """Estonia and Finland stop their territorial sea 3 NM short of the median line."""
    assert states_at(index, 59.845, 25.0) == set()
    lat = np.arange(59.4, 60.3, 0.0005)
    lon = np.full_like(lat, 25.0)
    est = shapely.contains_xy(zones["EST"].geometry, lon, lat)
    fin = shapely.contains_xy(zones["FIN"].geometry, lon, lat)
    south, north = lat[est].max(), lat[fin].min()
    assert south < 59.845 < north
    assert not (est | fin)[(lat > south) & (lat < north)].any()
    gap_km = GEOD.inv(25.0, south, 25.0, north)[2] / 1000
    assert 6 < gap_km < 25, gap_km  # 6 NM = 11 km across, longer along a meridian


@pytest.mark.parametrize("place", sorted(ENCLAVES))
def test_enclave_points_are_in_exactly_the_right_state(
    place: str, zones: dict[str, NationalAirspace], index: tuple[list[str], shapely.STRtree]
) -> None:
    lat, lon, state, max_km2 = ENCLAVES[place]
    assert states_at(index, lat, lon) == {state}
    point = shapely.Point(lon, lat)
    part = next(p for p in shapely.get_parts(zones[state].geometry) if p.intersects(point))
    assert geodesic_km2(part) < max_km2  # the point is in the small polygon, not the mainland
    surrounding = zones[SURROUNDING[state]].geometry
    # it lies within the outer boundary of a part of the surrounding state: a true enclave
    shells = shapely.polygons(shapely.get_exterior_ring(shapely.get_parts(surrounding)))
    assert shapely.contains(shells, point).any()


def test_counter_enclave_is_a_hole_of_the_enclave(zones: dict[str, NationalAirspace]) -> None:
    lat, lon, _, _ = ENCLAVES["Baarle-Nassau counter-enclave N1 inside H1"]
    h1_lat, h1_lon, _, _ = ENCLAVES["Baarle-Hertog, centre of enclave H1"]
    h1 = next(p for p in shapely.get_parts(zones["BEL"].geometry)
              if p.contains(shapely.Point(h1_lon, h1_lat)))
    assert len(h1.interiors) >= 6  # Baarle-Nassau's counter-enclaves in H1
    assert shapely.Polygon(h1.exterior).contains(shapely.Point(lon, lat))
    assert not h1.contains(shapely.Point(lon, lat))


@pytest.mark.parametrize(
    ("a", "b"),
    [("BEL", "NLD"), ("CHE", "DEU"), ("CHE", "ITA"), ("ESP", "FRA"), ("ARE", "OMN"),
     ("LSO", "ZAF"), ("ITA", "SMR"), ("ITA", "VAT")],
)
def test_repaired_enclave_neighbours_do_not_overlap(
    a: str, b: str, zones: dict[str, NationalAirspace]
) -> None:
    shared = shapely.intersection(zones[a].geometry, zones[b].geometry)
    assert geodesic_km2(shared) < 0.1


@pytest.mark.slow
def test_no_two_states_overlap_beyond_what_the_source_claims(
    zones: dict[str, NationalAirspace], index: tuple[list[str], shapely.STRtree]
) -> None:
    codes, tree = index
    arr = np.array([zones[c].geometry for c in codes], dtype=object)
    left, right = tree.query(arr, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    shared = shapely.intersection(arr[left], arr[right])
    overlaps = {
        tuple(sorted((codes[i], codes[j]))): geodesic_km2(g)
        for i, j, g in zip(left, right, shared, strict=True)
        if not shapely.is_empty(g) and shapely.area(g) > 0
    }
    # dependencies: wholly inside the parent, and nothing else is
    part_of = {c: z.part_of for c, z in zones.items() if z.part_of}
    assert part_of == DEPENDENCIES
    for child, parent in DEPENDENCIES.items():
        share = overlaps.pop(tuple(sorted((child, parent))))
        assert share >= 0.999 * zones[child].area_km2
    allowed = {**DISPUTED_KM2, **MISMATCH_KM2}
    too_big = {pair: round(km2, 3) for pair, km2 in overlaps.items()
               if km2 > allowed.get(pair, NEGLIGIBLE_KM2)}
    assert not too_big
    residual = max((km2, pair) for pair, km2 in overlaps.items() if pair not in allowed)
    print(f"largest unlisted overlap: {residual[1]} {residual[0]:.4f} km2")
    assert residual[0] < NEGLIGIBLE_KM2


def test_bundle_coordinates_equal_source_rings_exactly() -> None:
    """Every stored ring hashes to a ring of the source GeoJSON, recorded at build time."""
    rings_meta = json.loads(national.RINGS_PATH.read_text())
    assert rings_meta["source_sha256"] == SOURCE.sha256
    meta = json.loads(national.METADATA_PATH.read_text())
    bundle_sha = hashlib.sha256(national.BUNDLE_PATH.read_bytes()).hexdigest()
    assert bundle_sha == meta["bundle"]["sha256"]

    coords, (ring_off, part_off, zone_off) = read_ragged(national.BUNDLE_PATH)
    zone_of_part = np.repeat(np.arange(len(zone_off) - 1), np.diff(zone_off))
    zone_of_ring = np.repeat(zone_of_part, np.diff(part_off))
    found: dict[int, list[str]] = defaultdict(list)
    for k, (start, stop) in enumerate(itertools.pairwise(ring_off)):
        ring = np.ascontiguousarray(coords[start:stop], dtype="<f8")
        found[int(zone_of_ring[k])].append(hashlib.sha256(ring.tobytes()).hexdigest())
    expected = rings_meta["zones"]
    assert [z["code"] for z in expected] == list(national_zones())
    for i, zone in enumerate(expected):
        assert sorted(found[i]) == zone["ring_sha256"], zone["code"]
    dropped = [d["reason"] for z in expected for d in z["dropped"]]
    assert len(dropped) == 8  # 7 islands drawn inside their own sea, 1 stray hole


def test_source_and_repairs_are_recorded(zones: dict[str, NationalAirspace]) -> None:
    assert SOURCE.package == "@geo-maps/countries-maritime-10m"
    assert SOURCE.version == "0.6.0"
    assert SOURCE.licence == "ODbL-1.0"
    assert "OpenStreetMap contributors" in SOURCE.describe()
    attribution = (national.DATA_DIR / "ATTRIBUTION.md").read_text()
    assert "ODbL" in attribution and "© OpenStreetMap contributors" in attribution
    assert SOURCE.sha256 in attribution
    repaired = sorted(c for c, z in zones.items() if z.repairs)
    assert len(repaired) == 32
    assert {"BEL", "NLD", "ZAF", "ITA", "CHE", "OMN", "ARE", "DEU", "FRA"} <= set(repaired)
    assert any("LSO" in note for note in zones["ZAF"].repairs)


@pytest.mark.parametrize(
    ("query", "code"),
    [("EST", "EST"), ("est", "EST"), ("Estonia", "EST"), ("  estonia ", "EST"),
     ("Russia", "RUS"), ("Russian Federation", "RUS"), ("Czechia", "CZE"),
     ("Czech Republic", "CZE"), ("UK", "GBR"), ("United Kingdom", "GBR"),
     ("côte d'ivoire", "CIV"), ("Cote d'Ivoire", "CIV"), ("Ivory Coast", "CIV"),
     ("Vatican", "VAT"), ("Kosovo", "XKX"), ("South Korea", "KOR"), ("Türkiye", "TUR")],
)
def test_find_national_by_code_name_or_alias(query: str, code: str) -> None:
    assert find_national(query).code == code


def test_find_national_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(ZoneError) as info:
        find_national("Estonai")
    message = str(info.value)
    assert "\n" not in message
    assert "'Estonai'" in message and "Estonia (EST)" in message
    with pytest.raises(ZoneError, match="zones list"):
        find_national("Qqqqqqqq")
