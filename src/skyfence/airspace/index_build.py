"""Build the cell coverage behind :class:`skyfence.airspace.index.ZoneIndex`.

The world is a grid of coarse lon/lat cells (``1 / COARSE_PER_DEG`` degree); every coarse
cell that a zone boundary touches is split into ``sub x sub`` fine cells. A cell that
no boundary touches lies wholly inside one zone (or none) of each layer, so its answer
is stored; a fine cell that a boundary touches keeps the few zones whose boundaries
touch it, for an exact test at lookup.

How the build avoids testing a million cell boxes against huge polygons:

1. every boundary segment is sampled at a step under one fine cell and every fine cell
   met by the box ``sample ± step / 2`` (padded by :data:`PAD_DEG`) is marked: the
   boxes cover the segment, so every cell a boundary touches is marked (conservative);
2. the unmarked cells of each layer are labelled into 4-connected components
   (:func:`scipy.ndimage.label`; fine cells per block, blocks not connected), and no
   boundary crosses a component, so each component is classified by ONE exact
   ``contains_xy`` of a representative cell centre.

Indices: a position's fine column is ``int(lon * fine_per_deg + 180 * fine_per_deg)``
(a power-of-two scale, so exact but for the final rounding) and its coarse column is
that shifted right; one extra column and row hold ``lon == 180`` and ``lat == 90``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

#: coarse cells per degree (a power of two keeps cell edges exact in binary)
COARSE_PER_DEG = 4
#: coarse columns and rows, plus one for lon == 180 and one for lat == 90
NX = 360 * COARSE_PER_DEG + 1
NY = 180 * COARSE_PER_DEG + 1
#: boundary samples are this many fine cells apart (must stay <= 1)
SAMPLE_STEP = 0.9
#: margin added to every sample box, degrees (about 1 mm): absorbs rounding
PAD_DEG = 1e-8
#: per-layer value of a fine cell that a boundary of the layer crosses
CROSSED = -2

IntArray = np.ndarray


@dataclass(frozen=True)
class IndexArrays:
    """The arrays of a built index (what the cache stores).

    ``coarse[cy * NX + cx]``: a state (``>= 0``) or ``-(block + 1)`` for a boundary
    block; ``fine[block * sub**2 + sy * sub + sx]``: a state or ``-(cls + 1)`` for a
    crossed fine cell. ``states[s]`` is the zone per layer (-1 none); a crossed class
    answers ``class_base[c]`` and then the exact test of its candidate zones
    ``class_zones[class_offsets[c]:class_offsets[c + 1]]``.
    """

    sub: IntArray  # () int64: fine cells per coarse cell side
    coarse: IntArray  # (NY * NX,) int32
    fine: IntArray  # (K * sub**2,) int32
    states: IntArray  # (S, L) int32
    class_base: IntArray  # (C, L) int32
    class_offsets: IntArray  # (C + 1,) int64
    class_zones: IntArray  # (M,) int32
    zone_layer: IntArray  # (Z,) int32

    def as_dict(self) -> dict[str, np.ndarray]:
        """Arrays by field name, for ``np.savez``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_mapping(cls, data: object) -> IndexArrays:
        """Rebuild from ``np.load`` output (raises ``KeyError`` when a field is missing)."""
        return cls(**{f.name: np.asarray(data[f.name]) for f in fields(cls)})  # type: ignore[index]

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(sum(a.nbytes for a in self.as_dict().values()))


# --------------------------------------------------------------------------- layers


def overlapping_pairs(geometries: Sequence[BaseGeometry]) -> np.ndarray:
    """``(k, 2)`` zone index pairs whose interiors intersect (DE-9IM ``T********``).

    Tested part by part (polygons of a MultiPolygon) so that bounding boxes are tight;
    zones that only touch along a line or a point do not overlap. No sliver tolerance:
    any area in common, however thin, counts (then no point can be in two zones of a
    layer).
    """
    geoms = np.asarray(geometries, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    tree = shapely.STRtree(parts)
    i, j = tree.query(parts)
    keep = owner[i] < owner[j]
    i, j = i[keep], j[keep]
    hit = shapely.relate_pattern(parts[i], parts[j], "T********")
    pairs = np.column_stack([owner[i][hit], owner[j][hit]]).astype(np.int64)
    return pairs[_unique_rows(pairs)[0]] if len(pairs) else pairs.reshape(0, 2)


def assign_layers(n_zones: int, pairs: np.ndarray) -> np.ndarray:
    """Layer of each zone: greedy colouring, most-overlapping zones first (Welsh-Powell).

    Zones in one layer never share area; the number of layers is small (the overlap
    graph of real zones is sparse).
    """
    neighbours: list[list[int]] = [[] for _ in range(n_zones)]
    for a, b in pairs.tolist():
        neighbours[a].append(b)
        neighbours[b].append(a)
    order = sorted(range(n_zones), key=lambda z: (-len(neighbours[z]), z))
    layer = np.full(n_zones, -1, dtype=np.int32)
    for z in order:
        used = {int(layer[n]) for n in neighbours[z]}
        layer[z] = next(k for k in range(n_zones) if k not in used)
    return layer


# --------------------------------------------------------------------------- marks


def boundary_marks(
    geometries: Sequence[BaseGeometry], fine_per_deg: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(fine_key, zone)`` pairs, deduplicated: fine cells each zone's boundary touches.

    ``fine_key = fy * (NX * sub) + fx``. Conservative supercover: each segment is
    sampled every :data:`SAMPLE_STEP` fine cells and the four corners of each padded
    sample box name the (at most four) cells the box meets.
    """
    n_zones = len(geometries)
    fnx = NX * (fine_per_deg // COARSE_PER_DEG)
    fny = NY * (fine_per_deg // COARSE_PER_DEG)
    half = SAMPLE_STEP / 2 + PAD_DEG * fine_per_deg
    keys = []
    for zone_id, geometry in enumerate(geometries):  # one zone at a time bounds memory
        rings = shapely.get_rings(shapely.get_parts(geometry))
        xy, ring = shapely.get_coordinates(rings, return_index=True)
        u = xy[:, 0] * fine_per_deg + 180 * fine_per_deg
        v = xy[:, 1] * fine_per_deg + 90 * fine_per_deg
        same = ring[1:] == ring[:-1]
        u0, du = u[:-1][same], np.diff(u)[same]
        v0, dv = v[:-1][same], np.diff(v)[same]
        n = np.maximum(np.ceil(np.maximum(np.abs(du), np.abs(dv)) / SAMPLE_STEP), 1)
        n = n.astype(np.int64)  # samples at k / n, k = 0 .. n - 1: rings are closed, so
        # the end of a segment is the first sample of the next one
        seg = np.repeat(np.arange(len(n)), n)
        t = (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n)) / n[seg]
        su = u0[seg] + t * du[seg]
        sv = v0[seg] + t * dv[seg]
        fx0 = np.clip(np.floor(su - half).astype(np.int64), 0, fnx - 1)
        fx1 = np.clip(np.floor(su + half).astype(np.int64), 0, fnx - 1)
        fy0 = np.clip(np.floor(sv - half).astype(np.int64), 0, fny - 1)
        fy1 = np.clip(np.floor(sv + half).astype(np.int64), 0, fny - 1)
        for fx, fy, extra in (
            (fx0, fy0, None),
            (fx1, fy0, fx1 != fx0),
            (fx0, fy1, fy1 != fy0),
            (fx1, fy1, (fx1 != fx0) & (fy1 != fy0)),
        ):
            key = fy * fnx + fx
            if extra is not None:
                key = key[extra]
            key = _unique(key)
            key *= n_zones
            key += zone_id
            keys.append(key)
    pairs = _unique(np.concatenate(keys))
    return pairs // n_zones, (pairs % n_zones).astype(np.int32)


# --------------------------------------------------------------------------- classify


def classify(
    lon: np.ndarray, lat: np.ndarray, geometries: Sequence[BaseGeometry], zone_ids: np.ndarray
) -> np.ndarray:
    """Zone (from ``zone_ids``) containing each point, -1 for none; zones must not overlap."""
    out = np.full(len(lon), -1, dtype=np.int32)
    if len(lon) == 0 or len(zone_ids) == 0:
        return out
    geoms = np.asarray([geometries[z] for z in zone_ids], dtype=object)
    tree = shapely.STRtree(shapely.envelope(geoms))
    pts, cand = tree.query(shapely.points(lon, lat), predicate="intersects")
    order = np.argsort(cand, kind="stable")
    pts, cand = pts[order], cand[order]
    for s, e in runs(cand):
        p = pts[s:e]
        g = geoms[cand[s]]
        inside = shapely.contains_xy(g, lon[p], lat[p])
        out[p[inside]] = zone_ids[cand[s]]
    return out


def _run_heads(values: np.ndarray) -> np.ndarray:
    """Indices where a run of equal consecutive values (or rows) starts."""
    if len(values) == 0:
        return np.empty(0, dtype=np.intp)
    change = values[1:] != values[:-1]
    if change.ndim > 1:
        change = change.any(axis=1)
    return np.flatnonzero(np.concatenate([[True], change]))


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort based: far faster than hashing on large int64)."""
    ordered = np.sort(values)
    return ordered[_run_heads(ordered)]


def _unique_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)``: ``values[first]`` distinct rows, ``values[first][inverse]``."""
    one_d = values.ndim == 1
    order = np.argsort(values, kind="stable") if one_d else np.lexsort(values.T[::-1])
    heads = _run_heads(values[order])
    group = np.zeros(len(values), dtype=np.intp)
    group[heads[1:]] = 1
    inverse = np.empty(len(values), dtype=np.intp)
    inverse[order] = np.cumsum(group)
    return order[heads], inverse


def _dedupe(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_unique_rows`, cheap when equal rows come in runs (they do, cell by cell)."""
    heads = _run_heads(values)
    first, inverse = _unique_rows(values[heads])
    run_of = np.repeat(np.arange(len(heads)), np.diff(np.append(heads, len(values))))
    return heads[first], inverse[run_of]


def runs(sorted_values: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of equal values in a sorted array."""
    starts = np.flatnonzero(np.diff(sorted_values, prepend=sorted_values[:1] - 1))
    ends = [*starts[1:].tolist(), len(sorted_values)]
    return list(zip(starts.tolist(), ends, strict=True)) if len(sorted_values) else []


def _representatives(labels: np.ndarray, n: int) -> np.ndarray:
    """One flat cell index per label 1..n (any member: all members answer the same)."""
    rep = np.zeros(n + 1, dtype=np.int64)
    rep[labels.ravel()] = np.arange(labels.size)
    return rep[1:]


# --------------------------------------------------------------------------- build


def build_arrays(
    geometries: Sequence[BaseGeometry],
    zone_layer: np.ndarray,
    *,
    sub: int = 16,
) -> IndexArrays:
    """Build the coverage of ``geometries`` whose layers are ``zone_layer``."""
    fine_per_deg = COARSE_PER_DEG * sub
    shift = sub.bit_length() - 1
    if sub < 1 or 1 << shift != sub:
        raise ValueError("sub must be a power of two")
    n_layers = int(zone_layer.max()) + 1 if len(zone_layer) else 1
    fnx = NX * sub
    fine_key, mark_zone = boundary_marks(geometries, fine_per_deg)
    fy, fx = np.divmod(fine_key, fnx)
    coarse_key = (fy >> shift) * NX + (fx >> shift)
    sub_key = (fy & (sub - 1)) * sub + (fx & (sub - 1))
    blocks = _unique(coarse_key)  # coarse cells a boundary touches, any layer
    block_of = np.full(NY * NX, -1, dtype=np.int64)
    block_of[blocks] = np.arange(len(blocks))
    mark_cell = block_of[coarse_key] * sub * sub + sub_key  # flat fine index

    n_cells = len(blocks) * sub * sub
    small = np.int16 if len(zone_layer) < np.iinfo(np.int16).max else np.int32
    coarse_vals = np.empty((NY * NX, n_layers), dtype=small)
    fine_vals = np.empty((n_cells, n_layers), dtype=small)
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)
    for layer in range(n_layers):
        zone_ids = np.flatnonzero(zone_layer == layer).astype(np.int32)
        mine = zone_layer[mark_zone] == layer
        # coarse cells: label the untouched ones, classify one centre per component
        touched = np.zeros(NY * NX, dtype=bool)
        touched[coarse_key[mine]] = True
        labels, n = ndimage.label(~touched.reshape(NY, NX))
        rep = _representatives(labels, n)
        comp = classify(
            (rep % NX + 0.5) / COARSE_PER_DEG - 180,
            (rep // NX + 0.5) / COARSE_PER_DEG - 90,
            geometries,
            zone_ids,
        )
        cval = np.concatenate([[CROSSED], comp]).astype(np.int32)[labels.ravel()]
        coarse_vals[:, layer] = cval
        # fine cells of every boundary block take the coarse answer of their block ...
        by_block = fine_vals.reshape(len(blocks), sub * sub, n_layers)
        by_block[:, :, layer] = cval[blocks][:, None]
        # ... unless this layer's boundary touches the block: label its fine cells
        my_blocks = _unique(block_of[coarse_key[mine]])
        if len(my_blocks) == 0:
            continue
        local = np.searchsorted(my_blocks, block_of[coarse_key[mine]])
        crossed = np.zeros((len(my_blocks), sub, sub), dtype=bool)
        crossed.reshape(-1)[local * sub * sub + sub_key[mine]] = True
        flabels, fn = ndimage.label(~crossed, structure=structure)
        frep = _representatives(flabels, fn)
        fblock, fsub = np.divmod(frep, sub * sub)
        ckey = blocks[my_blocks[fblock]]
        fcomp = classify(
            ((ckey % NX) * sub + fsub % sub + 0.5) / fine_per_deg - 180,
            ((ckey // NX) * sub + fsub // sub + 0.5) / fine_per_deg - 90,
            geometries,
            zone_ids,
        )
        fval = np.concatenate([[CROSSED], fcomp]).astype(small)[flabels.reshape(-1, sub * sub)]
        by_block[my_blocks, :, layer] = fval
    return _encode(coarse_vals, fine_vals, blocks, mark_cell, mark_zone, zone_layer, sub)


def _row_keys(vals: np.ndarray, n_zones: int) -> np.ndarray:
    """One int64 per row of per-layer values (each in CROSSED .. n_zones - 1)."""
    base = n_zones + 3
    key = vals[:, 0].astype(np.int64)
    key -= CROSSED
    for layer in range(1, vals.shape[1]):
        key *= base
        key += vals[:, layer]
        key -= CROSSED
    return key


def _row_values(keys: np.ndarray, n_zones: int, n_layers: int) -> np.ndarray:
    """Inverse of :func:`_row_keys`."""
    base = n_zones + 3
    vals = np.empty((len(keys), n_layers), dtype=np.int64)
    rest = keys.copy()
    for layer in reversed(range(n_layers)):
        rest, vals[:, layer] = np.divmod(rest, base)
    return vals + CROSSED


def _encode(
    coarse_vals: np.ndarray,
    fine_vals: np.ndarray,
    blocks: np.ndarray,
    mark_cell: np.ndarray,
    mark_zone: np.ndarray,
    zone_layer: np.ndarray,
    sub: int,
) -> IndexArrays:
    """Deduplicate per-layer rows into states and crossed classes; fill the tables."""
    n_zones = len(zone_layer)
    n_layers = coarse_vals.shape[1]
    if (n_zones + 3) ** n_layers >= 2**62:
        raise ValueError("too many layers for the state key")
    is_block = np.zeros(len(coarse_vals), dtype=bool)
    is_block[blocks] = True
    fine_crossed = (fine_vals == CROSSED).any(axis=1)
    n_plain_coarse = int((~is_block).sum())
    keys = np.empty(n_plain_coarse + int((~fine_crossed).sum()), dtype=np.int64)
    keys[:n_plain_coarse] = _row_keys(coarse_vals[~is_block], n_zones)
    np.compress(~fine_crossed, _row_keys(fine_vals, n_zones), out=keys[n_plain_coarse:])
    distinct = _unique(keys[_run_heads(keys)])
    state_of = np.empty(len(keys), dtype=np.int32)
    for lo in range(0, len(keys), 1 << 20):
        state_of[lo : lo + (1 << 20)] = np.searchsorted(distinct, keys[lo : lo + (1 << 20)])
    del keys
    states = _row_values(distinct, n_zones, n_layers)
    coarse = np.empty(len(coarse_vals), dtype=np.int32)
    coarse[~is_block] = state_of[:n_plain_coarse]
    coarse[blocks] = -(np.arange(len(blocks)) + 1)
    fine = np.empty(len(fine_vals), dtype=np.int32)
    fine[~fine_crossed] = state_of[n_plain_coarse:]
    del state_of

    # crossed fine cells: base answer (crossed layers -> -1) + sorted candidate zones
    cells = np.flatnonzero(fine_crossed)
    order = np.lexsort((mark_zone, mark_cell))
    mcell, mzone = mark_cell[order], mark_zone[order]
    start = np.searchsorted(mcell, cells)
    count = np.searchsorted(mcell, cells, side="right") - start
    max_count = int(count.max()) if len(count) else 0
    cand = np.full((len(cells), max_count), -1, dtype=np.int64)
    for j in range(max_count):
        has = count > j
        cand[has, j] = mzone[start[has] + j]
    base = fine_vals[cells].copy()
    base[base == CROSSED] = -1
    ckey = np.column_stack([_row_keys(base, n_zones), cand])
    cfirst, class_of = _dedupe(ckey)
    fine[cells] = -(class_of.astype(np.int32) + 1)
    class_base = base[cfirst]
    class_cand = cand[cfirst]
    class_count = (class_cand >= 0).sum(axis=1)
    class_offsets = np.concatenate([[0], np.cumsum(class_count)]).astype(np.int64)
    class_zones = class_cand[class_cand >= 0].astype(np.int32)  # row-major: in order
    return IndexArrays(
        sub=np.asarray(sub, dtype=np.int64),
        coarse=coarse,
        fine=fine,
        states=states.astype(np.int32),
        class_base=class_base.astype(np.int32),
        class_offsets=class_offsets,
        class_zones=class_zones,
        zone_layer=zone_layer.astype(np.int32),
    )
