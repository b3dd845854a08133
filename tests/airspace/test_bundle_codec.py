"""The lossless coordinate codec of the national airspace bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from skyfence.airspace.bundle import (
    decode_coordinates,
    encode_coordinates,
    read_bundle,
    write_bundle,
)


def test_round_trip_is_bit_exact_for_5_decimal_coordinates() -> None:
    rng = np.random.default_rng(7)
    ints = np.column_stack((rng.integers(-18_000_000, 18_000_000, 50_000),
                            rng.integers(-9_000_000, 9_000_000, 50_000)))
    coords = ints / 1e5
    # what a JSON parser makes of the same 5-decimal text
    parsed = np.array([[float(f"{x:.5f}"), float(f"{y:.5f}")] for x, y in coords[:2000]])
    assert np.array_equal(parsed, coords[:2000])
    decoded = decode_coordinates(encode_coordinates(coords))
    assert decoded.dtype == np.float64
    assert np.array_equal(decoded, coords)


def test_off_grid_coordinates_are_refused() -> None:
    with pytest.raises(ValueError, match="grid"):
        encode_coordinates(np.array([[24.123456, 59.0]]))


def test_bundle_round_trip_keeps_polygons_holes_and_multipolygons(tmp_path: Path) -> None:
    square = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)],
                             [[(2, 2), (4, 2), (4, 4), (2, 4), (2, 2)]])
    islands = shapely.MultiPolygon([shapely.box(20, 20, 21.5, 21.25), shapely.box(30, 30, 31, 31)])
    path = tmp_path / "b.npz"
    assert write_bundle(path, [square, islands]) == 5 + 5 + 5 + 5
    got = read_bundle(path)
    assert got[0].geom_type == "Polygon" and got[1].geom_type == "MultiPolygon"
    assert shapely.equals_exact(got, [square, islands], tolerance=0).all()
