"""The point-to-zone lookup index: exact against GEOS, cell guarantee, cache, edges."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import shapely

from skyfence.airspace.index import N_COARSE, Screening, ZoneIndex, zones_digest
from skyfence.airspace.index_build import overlapping_pairs
from skyfence.airspace.zones import Zone, all_national_zones, circle_zone, national_zone

#: points this close to a boundary may go either way (documented tolerance)
NEAR_DEG = 1e-7

#: a subset with hard cases: Gulf of Finland, Baarle enclaves, the antimeridian (FJI,
#: RUS Chukotka), and custom zones overlapping a state and each other
SUBSET = ["EST", "FIN", "RUS", "LVA", "BEL", "NLD", "FJI"]


def _subset_zones() -> list[Zone]:
    zones = [national_zone(code) for code in SUBSET]
    zones.append(circle_zone("TLL", 59.4133, 24.8328, 30.0))  # Tallinn: land and sea
    zones.append(circle_zone("TLL-OUTER", 59.45, 24.9, 60.0))  # overlaps TLL and EST
    zones.append(circle_zone("VAINDLOO", 59.817, 26.358, 5.0))  # on the EST/RUS sea border
    return zones


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zone-index-cache")


@pytest.fixture(scope="module")
def zones() -> list[Zone]:
    return _subset_zones()


@pytest.fixture(scope="module")
def index(zones: list[Zone], cache_dir: Path) -> ZoneIndex:
    return ZoneIndex(zones, cache_dir=cache_dir)


def _world_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform on the sphere."""
    return rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def _near_boundaries(
    zones: list[Zone], rng: np.random.Generator, n: int, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered within ``spread`` degrees of random boundary vertices."""
    coords = np.concatenate([shapely.get_coordinates(z.boundary) for z in zones])
    pick = coords[rng.integers(0, len(coords), n)]
    lon = np.clip(pick[:, 0] + rng.uniform(-spread, spread, n), -180, 180)
    lat = np.clip(pick[:, 1] + rng.uniform(-spread, spread, n), -90, 90)
    return lon, lat


def _box(
    rng: np.random.Generator, n: int, lon: tuple[float, float], lat: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(*lon, n), rng.uniform(*lat, n)


def _check_exact(index: ZoneIndex, zones: list[Zone], lon: np.ndarray, lat: np.ndarray) -> int:
    """Assert index answers == GEOS contains_xy for every zone; return points compared."""
    got = index.screen(lon, lat)
    assert got.zone.shape == (len(lon), index.n_layers)
    far = np.ones(len(lon), dtype=bool)
    for z in zones:
        far &= ~shapely.dwithin(z.boundary, shapely.points(lon, lat), NEAR_DEG)
    for k, z in enumerate(zones):
        truth = shapely.contains_xy(z.geometry, lon, lat)
        answer = (got.zone == k).any(axis=1)
        wrong = np.flatnonzero((truth != answer) & far)
        assert not len(wrong), (z.name, lon[wrong[:5]], lat[wrong[:5]])
        # a zone can only be reported in its own layer
        other = np.delete(np.arange(index.n_layers), index.zone_layer[k])
        assert not (got.zone[:, other] == k).any()
    return int(far.sum())


def test_layers_never_share_area(index: ZoneIndex, zones: list[Zone]) -> None:
    assert sorted(np.concatenate(index.layers).tolist()) == list(range(len(zones)))
    pairs = overlapping_pairs([z.geometry for z in zones])
    assert len(pairs)  # the circles overlap EST and each other
    for a, b in pairs:
        assert index.zone_layer[a] != index.zone_layer[b], (zones[a].name, zones[b].name)
    names = [z.name for z in zones]
    assert index.zone_layer[names.index("TLL")] != index.zone_layer[names.index("EST")]


def test_matches_geos_on_random_world_points(index: ZoneIndex, zones: list[Zone]) -> None:
    rng = np.random.default_rng(3)
    assert _check_exact(index, zones, *_world_points(rng, 200_000)) > 199_000


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ((22.0, 30.5), (59.0, 60.6)),  # Gulf of Finland: EST, FIN, RUS and the corridor
        ((4.90, 4.97), (51.41, 51.47)),  # Baarle-Hertog / Baarle-Nassau enclaves
        ((24.0, 26.5), (58.9, 60.0)),  # the Tallinn circles over EST land and sea
        ((26.1, 26.6), (59.7, 59.95)),  # Vaindloo on the EST/RUS border
        ((176.5, 180.0), (-19.5, -15.5)),  # Fiji east of the antimeridian
        ((-180.0, -177.0), (-19.5, -15.5)),  # Fiji west of it
        ((-180.0, -168.0), (64.0, 72.0)),  # Chukotka
    ],
)
def test_matches_geos_in_dense_boundary_areas(
    index: ZoneIndex, zones: list[Zone], lon: tuple[float, float], lat: tuple[float, float]
) -> None:
    rng = np.random.default_rng(int(abs(lon[0] * 1000)))
    compared = _check_exact(index, zones, *_box(rng, 40_000, lon, lat))
    assert compared > 39_000


def test_matches_geos_next_to_boundaries(index: ZoneIndex, zones: list[Zone]) -> None:
    rng = np.random.default_rng(4)
    for spread in (1e-2, 1e-4, 1e-6):
        lon, lat = _near_boundaries(zones, rng, 30_000, spread)
        got = index.screen(lon, lat)
        if spread <= 1e-4:  # next to a boundary the cell must be a boundary cell
            assert got.boundary.mean() > 0.99
        _check_exact(index, zones, lon, lat)


def _same_cell_pairs(
    index: ZoneIndex, lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator, step: float
) -> tuple[np.ndarray, np.ndarray, Screening, Screening]:
    lon2 = np.clip(lon + rng.uniform(-step, step, len(lon)), -180, 180)
    lat2 = np.clip(lat + rng.uniform(-step, step, len(lat)), -90, 90)
    a, b = index.screen(lon, lat), index.screen(lon2, lat2)
    same = (a.cell == b.cell) & ~a.boundary
    assert np.array_equal(a.boundary[same], b.boundary[same])
    return lon2, lat2, a, b


def test_interior_cell_guarantee_on_short_segments(index: ZoneIndex, zones: list[Zone]) -> None:
    """Same non-boundary cell: same zones in every layer, segment crosses no boundary."""
    rng = np.random.default_rng(5)
    box = _box(rng, 60_000, (20.0, 32.0), (57.0, 62.0))
    near = _near_boundaries(zones, rng, 60_000, 0.02)
    lon, lat = np.concatenate([box[0], near[0]]), np.concatenate([box[1], near[1]])
    checked = {"coarse": 0, "fine": 0}
    for step in (0.2, 0.01, 0.003):
        lon2, lat2, a, b = _same_cell_pairs(index, lon, lat, rng, step)
        same = np.flatnonzero((a.cell == b.cell) & ~a.boundary)
        assert np.array_equal(a.zone[same], b.zone[same])
        lines = shapely.linestrings(
            np.stack(
                [
                    np.column_stack([lon[same], lat[same]]),
                    np.column_stack([lon2[same], lat2[same]]),
                ],
                axis=1,
            )
        )
        for z in zones:
            crossing = shapely.intersects(z.boundary, lines)
            assert not crossing.any(), (z.name, lines[crossing][:3])
        checked["coarse"] += int((a.cell[same] < N_COARSE).sum())
        checked["fine"] += int((a.cell[same] >= N_COARSE).sum())
    assert checked["coarse"] > 10_000 and checked["fine"] > 10_000, checked


def test_boundary_cells_are_conservative(index: ZoneIndex, zones: list[Zone]) -> None:
    """Every point ON a boundary segment (vertices and midpoints) is in a boundary cell."""
    rings = shapely.get_rings(shapely.get_parts([z.geometry for z in zones]))
    vertices, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    mids = ((vertices[1:] + vertices[:-1]) / 2)[same]
    for pts in (vertices, mids):
        got = index.screen(pts[:, 0], pts[:, 1])
        assert got.boundary.all()


def test_cache_round_trip(zones: list[Zone], tmp_path: Path) -> None:
    start = time.perf_counter()
    built = ZoneIndex(zones, cache_dir=tmp_path)
    build_s = time.perf_counter() - start
    assert not built.loaded_from_cache
    assert built.cache_path is not None and built.cache_path.exists()
    start = time.perf_counter()
    loaded = ZoneIndex(zones, cache_dir=tmp_path)
    load_s = time.perf_counter() - start
    assert loaded.loaded_from_cache
    assert load_s < build_s
    rng = np.random.default_rng(6)
    lon, lat = _box(rng, 50_000, (20.0, 32.0), (57.0, 62.0))
    a, b = built.screen(lon, lat), loaded.screen(lon, lat)
    assert np.array_equal(a.zone, b.zone)
    assert np.array_equal(a.cell, b.cell)
    assert np.array_equal(a.boundary, b.boundary)
    assert [x.tolist() for x in built.layers] == [x.tolist() for x in loaded.layers]


def test_cache_rebuilt_when_a_zone_changes(zones: list[Zone], tmp_path: Path) -> None:
    ZoneIndex(zones[:3], cache_dir=tmp_path)
    changed = [*zones[:2], circle_zone("TLL", 59.4133, 24.8328, 31.0)]
    assert zones_digest(changed) != zones_digest(zones[:3])
    again = ZoneIndex(changed, cache_dir=tmp_path)
    assert not again.loaded_from_cache
    # the new circle is answered, not the old one
    lon, lat = np.array([24.8328 + 30.5 / 56.6]), np.array([59.4133])
    assert (again.locate(lon, lat) == 2).any() == shapely.contains_xy(
        changed[2].geometry, lon, lat
    )[0]
    assert len(list(tmp_path.glob("zone-index-*.npz"))) == 2


def test_damaged_cache_file_is_rebuilt(zones: list[Zone], tmp_path: Path) -> None:
    first = ZoneIndex(zones[:2], cache_dir=tmp_path)
    assert first.cache_path is not None
    first.cache_path.write_bytes(b"not an npz")
    again = ZoneIndex(zones[:2], cache_dir=tmp_path)
    assert not again.loaded_from_cache
    assert ZoneIndex(zones[:2], cache_dir=tmp_path).loaded_from_cache


def test_antimeridian_poles_and_bad_positions(index: ZoneIndex, zones: list[Zone]) -> None:
    lat = np.linspace(-90, 90, 3601)
    for edge in (-180.0, 180.0):
        lon = np.full(len(lat), edge)
        _check_exact(index, zones, lon, lat)
    lon = np.linspace(-180, 180, 7201)
    for pole in (-90.0, 90.0):
        got = index.screen(lon, np.full(len(lon), pole))
        assert (got.zone == -1).all()
    lon = np.array([np.nan, 0.0, 200.0, -180.5, 24.75, 24.75])
    lat = np.array([0.0, np.nan, 10.0, 0.0, 91.0, 59.44])
    got = index.screen(lon, lat)
    assert (got.zone[:5] == -1).all() and got.boundary[:5].all() and (got.cell[:5] == -1).all()
    est = [z.name for z in zones].index("EST")
    assert (got.zone[5] == est).any()  # Tallinn, in the same batch as the bad ones


def test_empty_batch(index: ZoneIndex) -> None:
    got = index.screen(np.empty(0), np.empty(0))
    assert got.zone.shape == (0, index.n_layers) and len(got.cell) == 0


@pytest.mark.slow
def test_whole_world_matches_geos(tmp_path: Path) -> None:
    zones = all_national_zones()
    start = time.perf_counter()
    index = ZoneIndex(zones, cache_dir=tmp_path)
    print(
        f"built in {time.perf_counter() - start:.1f} s, {index.n_layers} layers, "
        f"{index.nbytes / 1e6:.0f} MB"
    )
    rng = np.random.default_rng(7)
    _check_exact(index, zones, *_world_points(rng, 100_000))
    _check_exact(index, zones, *_box(rng, 50_000, (-10.0, 40.0), (35.0, 70.0)))
    start = time.perf_counter()
    again = ZoneIndex(zones, cache_dir=tmp_path)
    assert again.loaded_from_cache
    print(f"loaded in {time.perf_counter() - start:.2f} s")


def test_cache_rebuilt_when_the_build_code_changes(
        zones: list[Zone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change to the code that builds the arrays (here: a comment added to a copy of
    index_build.py) is a new cache key, FORMAT_VERSION unchanged: stale arrays from
    an older build are never read as the new build's."""
    from skyfence.airspace import index as index_module
    from skyfence.airspace import index_build

    ZoneIndex(zones[:2], cache_dir=tmp_path)
    assert ZoneIndex(zones[:2], cache_dir=tmp_path).loaded_from_cache
    edited = tmp_path / "index_build.py"
    edited.write_bytes(Path(index_build.__file__).read_bytes() + b"# changed\n")
    monkeypatch.setattr(index_build, "__file__", str(edited))
    index_module._builder_digest.cache_clear()
    try:
        assert not ZoneIndex(zones[:2], cache_dir=tmp_path).loaded_from_cache
    finally:
        monkeypatch.undo()
        index_module._builder_digest.cache_clear()
    assert ZoneIndex(zones[:2], cache_dir=tmp_path).loaded_from_cache
