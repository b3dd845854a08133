"""Compact, lossless storage of many (Multi)Polygons as one ragged coordinate array.

The national boundaries have 5 decimals, so every coordinate is an integer number of
1e-5 degrees and fits an int32 exactly. The file is an uncompressed ``.npz`` with:

``deltas``
    zlib-compressed bytes of the zig-zag coded differences between consecutive
    integer coordinates (all longitudes, then all latitudes), byte-shuffled (all first
    bytes, then all second bytes, ...) so that zlib sees long runs of zeros;
``ring_offsets``, ``part_offsets``, ``zone_offsets``
    the offsets of :func:`shapely.to_ragged_array` for ``MultiPolygon``.

Decoding is a decompress, a reshape, a cumulative sum and one
:func:`shapely.from_ragged_array` call: no Python loop over rings or vertices.
``k / 1e5`` is the correctly rounded double nearest ``k`` x 1e-5, which is also what a
JSON parser gives for the 5-decimal text, so decoded coordinates equal the source ones
bit for bit.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely
from shapely import GeometryType

#: integer units per degree
SCALE = 100_000

_OFFSET_NAMES = ("ring_offsets", "part_offsets", "zone_offsets")


def encode_coordinates(coords: npt.NDArray[np.float64]) -> bytes:
    """Compress lon/lat coordinates that lie on the 1e-5 degree grid; raises otherwise."""
    ints = np.rint(np.asarray(coords, dtype=np.float64) * SCALE).astype(np.int64)
    if not np.array_equal(ints / SCALE, coords):
        raise ValueError("coordinates are not on the 1e-5 degree grid: encoding would lose them")
    planes = ints.T.ravel()  # all longitudes, then all latitudes
    deltas = np.diff(planes, prepend=np.int64(0))
    if np.abs(deltas).max(initial=0) >= 2**30:
        raise ValueError("coordinate step too large for the int32 encoding")
    zigzag = ((deltas << 1) ^ (deltas >> 63)).astype("<u4")
    shuffled = zigzag.view(np.uint8).reshape(-1, 4).T.tobytes()
    return zlib.compress(shuffled, 9)


def decode_coordinates(blob: bytes) -> npt.NDArray[np.float64]:
    """Inverse of :func:`encode_coordinates`: an ``(n, 2)`` float64 lon/lat array."""
    planes = np.frombuffer(zlib.decompress(blob), dtype=np.uint8).reshape(4, -1)
    zigzag = planes[0].astype(np.uint32)
    for shift, plane in ((8, planes[1]), (16, planes[2]), (24, planes[3])):
        zigzag |= plane.astype(np.uint32) << shift
    deltas = (zigzag >> 1).view(np.int32) ^ -(zigzag & 1).view(np.int32)
    # every partial sum is a coordinate (|value| < 2**31), so int32 cannot overflow
    ints = np.cumsum(deltas, dtype=np.int32)
    n = ints.size // 2
    coords = np.empty((n, 2), dtype=np.float64)
    coords[:, 0] = ints[:n]
    coords[:, 1] = ints[n:]
    coords /= SCALE
    return coords


def write_bundle(path: Path, geometries: list[shapely.Geometry]) -> int:
    """Write (Multi)Polygons to ``path``; returns the number of vertices written."""
    kind, coords, offsets = shapely.to_ragged_array(
        [shapely.multipolygons([g]) if g.geom_type == "Polygon" else g for g in geometries]
    )
    if kind != GeometryType.MULTIPOLYGON:
        raise ValueError(f"expected polygons, got {kind!r}")
    rings, parts, zones = (np.asarray(o, dtype="<i4") for o in offsets)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        deltas=np.frombuffer(encode_coordinates(coords), dtype=np.uint8),
        ring_offsets=rings,
        part_offsets=parts,
        zone_offsets=zones,
    )
    path.write_bytes(buffer.getvalue())
    return int(coords.shape[0])


def read_ragged(
    path: Path,
) -> tuple[npt.NDArray[np.float64], tuple[npt.NDArray[np.int64], ...]]:
    """The coordinates and the three ragged offsets stored in ``path``."""
    with np.load(path) as data:
        coords = decode_coordinates(data["deltas"].tobytes())
        offsets = tuple(data[name].astype(np.int64) for name in _OFFSET_NAMES)
    return coords, offsets


def read_bundle(path: Path) -> npt.NDArray[np.object_]:
    """The geometries stored in ``path``, single-part ones as ``Polygon``."""
    coords, offsets = read_ragged(path)
    multi = shapely.from_ragged_array(GeometryType.MULTIPOLYGON, coords, offsets)
    single = shapely.get_num_geometries(multi) == 1
    multi[single] = shapely.get_geometry(multi[single], 0)
    return np.asarray(multi, dtype=object)
