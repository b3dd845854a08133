"""Point-to-zone lookup over many zones at once: a cached cell coverage plus exact tests.

>>> from skyfence.airspace.zones import resolve_zones
>>> index = ZoneIndex(resolve_zones(["EST", "LVA"]), cache=False)
>>> lon, lat = np.array([24.75, 24.1, 30.5]), np.array([59.44, 56.95, 50.45])
>>> index.zone_names(index.locate(lon, lat)).ravel().tolist()  # Tallinn, Riga, Kyiv
['EST', 'LVA', None]

Zones are split into *layers* whose zones never share area, and
:meth:`ZoneIndex.screen` answers, for every position and layer, the zone containing it.
The 250 national airspaces do NOT fit one layer: neighbours' boundary lines disagree
(slivers up to a few hundred km²), dependencies sit inside their parent (``PYF`` in
``FRA``) and disputed areas are claimed twice (Crimea), so they take 4 layers; custom
zones join the first layer where they overlap nothing.

How a lookup works (see :mod:`skyfence.airspace.index_build` for the build): in cache
sized chunks, one fused computation of the coarse cell and one ``take`` in the coarse
table (and one in the state table for the zones per layer); only the positions in a
coarse cell that a boundary touches (about 2-10 % of air traffic) take a second look
in the fine table, and only those in a fine cell that a boundary touches (0.5-2 %) go
to an exact, vectorized :func:`shapely.contains_xy` against the few zones whose
boundaries touch that cell.

Exactness: answers equal GEOS ``contains_xy(zone.geometry, lon, lat)`` for every
position, with one tolerance: boundary marks are padded by
:data:`~skyfence.airspace.index_build.PAD_DEG` (1e-8 degree, about 1 mm), far more
than the rounding of the cell computation (about 1e-12 degree), so a position is never
put in an unmarked cell that a boundary touches; a position within about a millimetre
of a cell edge and a boundary may be answered by the cell on the other side, which is
then a boundary cell tested exactly. Positions within a few centimetres of a boundary
are not promised either way (the tests exclude points within 1e-7 degree). NaN and
out-of-range positions are in no zone (cell -1, boundary True). Altitude limits are
ignored: the index is horizontal.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely

from skyfence.airspace import cache_files, index_build
from skyfence.airspace.index_build import (
    COARSE_PER_DEG,
    NX,
    NY,
    IndexArrays,
    assign_layers,
    build_arrays,
    overlapping_pairs,
    runs,
)
from skyfence.airspace.prepared import contains_xy
from skyfence.airspace.zones import Zone

log = logging.getLogger(__name__)

#: bump when the arrays or their meaning change: old cache files are then ignored
FORMAT_VERSION = 1
#: fine cells per coarse cell side (1/64 degree fine cells with 1/4 degree coarse)
DEFAULT_SUB = 16
#: coarse cells; fine cell keys in :attr:`Screening.cell` start here
N_COARSE = NX * NY
#: positions per lookup chunk (the chunk's temporaries stay in the CPU cache)
CHUNK = 1 << 14
#: most grid cells (fine, and coarse) :meth:`ZoneIndex.segment_zones` looks at per segment
SEGMENT_CELLS = 64


@dataclass(frozen=True)
class Screening:
    """Zones of a batch of positions, with the cell each position fell in.

    ``zone[i, k]`` is the index (into the index's zone list) of the layer-``k`` zone
    containing position ``i``, -1 for none. ``cell[i]`` is the key of the finest index
    cell holding the position (a coarse cell below :data:`N_COARSE`, else
    ``N_COARSE + fine row * fine columns + fine column``; -1 for an invalid position).
    Two positions in one cell whose ``boundary`` is False are in the same zone in every
    layer, and the straight lon/lat segment between them crosses no zone boundary.
    """

    zone: np.ndarray  # (n, n_layers) int32
    cell: np.ndarray  # (n,) int64
    boundary: np.ndarray  # (n,) bool


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/skyfence``, else ``~/.cache/skyfence``."""
    root = os.environ.get("XDG_CACHE_HOME")
    return (Path(root) if root else Path.home() / ".cache") / "skyfence"


@lru_cache(maxsize=1)
def _builder_digest() -> str:
    """Hash of the code that builds the arrays (:mod:`~skyfence.airspace.index_build`):
    a changed build makes new cache files even when nobody bumped
    :data:`FORMAT_VERSION`. Without the source (an installation of bytecode only), the
    package version stands in."""
    try:
        return hashlib.sha256(Path(index_build.__file__).read_bytes()).hexdigest()
    except (OSError, TypeError):
        from skyfence import __version__

        return __version__


def zones_digest(zones: Sequence[Zone], sub: int = DEFAULT_SUB) -> str:
    """Hash of the zone geometries (WKB, in order), the grid, the format version and
    the build code (:func:`_builder_digest`)."""
    h = hashlib.sha256(f"skyfence-zone-index:{FORMAT_VERSION}:{COARSE_PER_DEG}:{sub}:"
                       f"{_builder_digest()}".encode())
    for wkb in shapely.to_wkb([z.geometry for z in zones]):
        h.update(len(wkb).to_bytes(8, "little"))
        h.update(wkb)
    return h.hexdigest()


class ZoneIndex:
    """Which zone (per layer) contains each position: vectorized, exact, cached on disk.

    The arrays are built once per set of zone geometries and stored under
    ``cache_dir`` (default :func:`default_cache_dir`) keyed by :func:`zones_digest`; a
    change of any zone geometry builds a new file. ``cache=False`` never touches disk.
    """

    def __init__(
        self,
        zones: Sequence[Zone],
        *,
        cache_dir: Path | None = None,
        cache: bool = True,
        sub: int = DEFAULT_SUB,
    ) -> None:
        if not zones:
            raise ValueError("ZoneIndex needs at least one zone")
        self.zones = list(zones)
        self._geoms = np.asarray([z.geometry for z in self.zones], dtype=object)
        start = time.perf_counter()
        digest = zones_digest(self.zones, sub)
        path = (cache_dir or default_cache_dir()) / f"zone-index-{digest[:32]}.npz"
        arrays = _load(path) if cache else None
        self.loaded_from_cache = arrays is not None
        if arrays is None:
            arrays = build(self.zones, sub=sub)
            if cache:
                _save(path, arrays)
        self.seconds = time.perf_counter() - start
        self.cache_path = path if cache else None
        self._a = arrays
        self._sub = int(arrays.sub)
        self._shift = self._sub.bit_length() - 1
        self._fine_per_deg = COARSE_PER_DEG * self._sub
        self._fnx = NX * self._sub
        # lookup table: a state below n_states, else n_states + boundary block; 16 bits
        # when they fit (half the cache footprint of int32: random positions get faster)
        self._n_states = len(arrays.states)
        n_blocks = len(arrays.fine) // (self._sub * self._sub)
        small = self._n_states + n_blocks <= np.iinfo(np.uint16).max
        self._table = np.where(
            arrays.coarse >= 0, arrays.coarse, self._n_states - 1 - arrays.coarse
        ).astype(np.uint16 if small else np.int32)
        zone_layer = arrays.zone_layer
        self.layers: list[np.ndarray] = [
            np.flatnonzero(zone_layer == k) for k in range(arrays.states.shape[1])
        ]

    @property
    def n_layers(self) -> int:
        """Number of layers (columns of :attr:`Screening.zone`)."""
        return len(self.layers)

    @property
    def zone_layer(self) -> np.ndarray:
        """Layer of each zone."""
        return self._a.zone_layer

    @property
    def nbytes(self) -> int:
        """Memory of the index arrays (the zone geometries not counted)."""
        return self._a.nbytes + self._table.nbytes

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """``(n, n_layers)`` zone index per layer for each position (-1 none)."""
        return self._lookup(lon, lat, want_cells=False).zone

    def screen(self, lon: np.ndarray, lat: np.ndarray) -> Screening:
        """Zones per layer, cell key and boundary flag of each position."""
        return self._lookup(lon, lat, want_cells=True)

    def clear_between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Where cell keys ``a`` and ``b`` are the same cell or two cells of one grid level
        sharing an edge: their union is a rectangle, so a straight lon/lat segment between
        positions in them stays inside it and, when neither is a boundary cell, crosses
        no zone boundary."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        fine_a, fine_b = a >= N_COARSE, b >= N_COARSE
        width = np.where(fine_a, self._fnx, NX)
        ka = np.where(fine_a, a - N_COARSE, a)
        kb = np.where(fine_b, b - N_COARSE, b)
        ra, ca = np.divmod(ka, width)
        rb, cb = np.divmod(kb, width)
        step = np.abs(ra - rb) + np.abs(ca - cb)
        return (a == b) | ((fine_a == fine_b) & (a >= 0) & (b >= 0) & (step == 1))

    def segment_zones(
        self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
        *, max_cells: int = SEGMENT_CELLS,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Zones whose boundary may cross each straight lon/lat segment, from the grid.

        A segment lies inside the rectangle of fine cells spanned by its two ends; a
        zone boundary that meets the segment marks at least one of those cells (marks
        are padded by :data:`~skyfence.airspace.index_build.PAD_DEG`). Returns
        ``(segment, zone)`` pairs, one per zone whose boundary marks a cell of the
        segment's rectangle (sorted by segment, then zone), and the segments the grid
        does not answer (``unknown``: a rectangle of more than ``max_cells`` fine cells
        over boundary blocks, an end on ±180 or a pole, beyond ±180, or not finite).
        Segments in neither answer cross no boundary.
        """
        x0, y0, x1, y1 = (np.asarray(v, dtype=np.float64) for v in (x0, y0, x1, y1))
        lo_x, hi_x = np.minimum(x0, x1), np.maximum(x0, x1)
        lo_y, hi_y = np.minimum(y0, y1), np.maximum(y0, y1)
        with np.errstate(invalid="ignore"):
            ok = (lo_x > -180.0) & (hi_x < 180.0) & (lo_y > -90.0) & (hi_y < 90.0)
        unknown = np.flatnonzero(~ok)
        seg = np.flatnonzero(ok)
        cpd, fpd = float(COARSE_PER_DEG), float(self._fine_per_deg)
        # coarse rectangles first: most segments lie in coarse cells no boundary touches
        cx0 = (lo_x[seg] * cpd + 180.0 * cpd).astype(np.int64)
        cx1 = (hi_x[seg] * cpd + 180.0 * cpd).astype(np.int64)
        cy0 = (lo_y[seg] * cpd + 90.0 * cpd).astype(np.int64)
        cy1 = (hi_y[seg] * cpd + 90.0 * cpd).astype(np.int64)
        touched = self._any_block(cx0, cx1, cy0, cy1)
        big = touched < 0
        unknown = np.union1d(unknown, seg[big])
        seg = seg[touched > 0]
        fx0 = (lo_x[seg] * fpd + 180.0 * fpd).astype(np.int64)
        fx1 = (hi_x[seg] * fpd + 180.0 * fpd).astype(np.int64)
        fy0 = (lo_y[seg] * fpd + 90.0 * fpd).astype(np.int64)
        fy1 = (hi_y[seg] * fpd + 90.0 * fpd).astype(np.int64)
        nx, ny = fx1 - fx0 + 1, fy1 - fy0 + 1
        cells = nx * ny
        large = cells > max_cells
        unknown = np.union1d(unknown, seg[large]).astype(np.intp)
        keep = ~large
        seg, fx0, fy0, nx, cells = seg[keep], fx0[keep], fy0[keep], nx[keep], cells[keep]
        a = self._a
        n_states, sub, mask, shift = self._n_states, self._sub, self._sub - 1, self._shift
        hit_seg: list[np.ndarray] = []
        hit_cls: list[np.ndarray] = []
        idx = np.arange(len(seg))
        for k in range(int(cells.max()) if len(cells) else 0):
            idx = idx[cells[idx] > k]
            fx = fx0[idx] + k % nx[idx]
            fy = fy0[idx] + k // nx[idx]
            t = self._table[(fy >> shift) * NX + (fx >> shift)].astype(np.int64)
            in_block = np.flatnonzero(t >= n_states)
            f = a.fine[(t[in_block] - n_states) * (sub * sub)
                       + (fy[in_block] & mask) * sub + (fx[in_block] & mask)]
            crossed = f < 0
            hit_seg.append(seg[idx[in_block[crossed]]])
            hit_cls.append(-f[crossed].astype(np.int64) - 1)
        if not hit_seg:
            return np.empty(0, np.intp), np.empty(0, np.intp), unknown
        s = np.concatenate(hit_seg)
        c = np.concatenate(hit_cls)
        start = a.class_offsets[c]
        count = a.class_offsets[c + 1] - start
        first = np.repeat(np.cumsum(count) - count, count)
        zone = a.class_zones[np.repeat(start, count) + np.arange(int(count.sum())) - first]
        n_z = np.int64(len(self.zones))
        key = np.repeat(s.astype(np.int64), count) * n_z + zone
        key = np.sort(key)
        if len(key):
            key = key[np.concatenate([[True], key[1:] != key[:-1]])]
        return (key // n_z).astype(np.intp), (key % n_z).astype(np.intp), unknown

    def _any_block(self, cx0: np.ndarray, cx1: np.ndarray, cy0: np.ndarray, cy1: np.ndarray
                   ) -> np.ndarray:
        """Per coarse rectangle: 0 when no boundary block lies in it, 1 when one does,
        -1 when it spans more than :data:`SEGMENT_CELLS` coarse cells (not looked at)."""
        nx, ny = cx1 - cx0 + 1, cy1 - cy0 + 1
        cells = nx * ny
        out = np.where(cells > SEGMENT_CELLS, -1, 0).astype(np.int8)
        idx = np.flatnonzero(out == 0)
        for k in range(int(cells[idx].max()) if len(idx) else 0):
            idx = idx[cells[idx] > k]
            key = (cy0[idx] + k // nx[idx]) * NX + (cx0[idx] + k % nx[idx])
            out[idx[self._table[key] >= self._n_states]] = 1
        return out

    def zone_names(self, zone: np.ndarray) -> np.ndarray:
        """Names for an array of zone indices (None where -1)."""
        names = np.array([z.name for z in self.zones] + [None], dtype=object)
        return names[np.where(zone < 0, len(self.zones), zone)]

    # ------------------------------------------------------------------ lookup

    def _lookup(self, lon: np.ndarray, lat: np.ndarray, *, want_cells: bool) -> Screening:
        lon = np.ascontiguousarray(lon, dtype=np.float64).reshape(-1)
        lat = np.ascontiguousarray(lat, dtype=np.float64).reshape(-1)
        if lon.shape != lat.shape:
            raise ValueError("lon and lat must have the same length")
        n = len(lon)
        invalid: np.ndarray | None = None
        found = self._coarse_pass(lon, lat, want_cells)
        if found is None:  # a NaN or out-of-range position: answer it "nowhere"
            invalid = ~((lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90))
            lon = np.where(invalid, 0.0, lon)
            lat = np.where(invalid, 0.0, lat)
            found = self._coarse_pass(lon, lat, want_cells)
            assert found is not None
        a = self._a
        zone, in_block, coarse, pick = found
        crossed = cls = pick[:0]
        fine_key = np.empty(0, dtype=np.int64)
        if len(pick):
            # positions in a boundary block: their fine cell, then the fine table
            fpd, sub, mask = self._fine_per_deg, self._sub, self._sub - 1
            fx = (lon[pick] * fpd + 180.0 * fpd).astype(np.int64)
            fy = (lat[pick] * fpd + 90.0 * fpd).astype(np.int64)
            fine_cell = in_block * (sub * sub) + ((fy & mask) * sub + (fx & mask))
            fstate = a.fine.take(fine_cell)
            is_crossed = fstate < 0
            crossed = pick[is_crossed]
            cls = -fstate[is_crossed] - 1
            fstate[is_crossed] = 0
            zone[pick] = a.states.take(fstate, axis=0)
            if want_cells:
                fine_key = N_COARSE + fy * self._fnx + fx
        if len(crossed):
            zone[crossed] = a.class_base.take(cls, axis=0)
            self._exact(lon, lat, zone, crossed, cls)
        cell = boundary = np.empty(0)
        if want_cells:
            cell = coarse
            cell[pick] = fine_key
            boundary = np.zeros(n, dtype=bool)
            boundary[crossed] = True
        if invalid is not None:
            zone[invalid] = -1
            if want_cells:
                cell[invalid] = -1
                boundary[invalid] = True
        return Screening(zone=zone, cell=cell, boundary=boundary)

    def _coarse_pass(
        self, lon: np.ndarray, lat: np.ndarray, want_cells: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """Zones from the coarse table; positions in boundary blocks are left to refine.

        Returns ``(zone, their boundary blocks, coarse cell, boundary-block positions)``,
        or None when a position is NaN or out of range. Works in chunks that stay in
        the CPU cache: per coordinate a multiply, an add, a range check and a cast; one
        multiply-add for the cell; one ``take`` for the state, one for the zones. The coarse column
        ``int(lon * 4 + 720)`` equals the fine column shifted right, since scaling by a
        power of two commutes with rounding.
        """
        n = len(lon)
        a = self._a
        table, states, n_states = self._table, a.states, self._n_states
        zone = np.empty((n, states.shape[1]), dtype=np.int32)
        block = np.empty(size := min(n, CHUNK), dtype=table.dtype)
        coarse = np.empty(n if want_cells else 0, dtype=np.int64)
        buf = np.empty(size)
        ix = np.empty(size, dtype=np.int32)
        iy = np.empty(size, dtype=np.int32)
        picks: list[np.ndarray] = []
        blocks: list[np.ndarray] = []
        for s in range(0, n, CHUNK):
            e = min(n, s + CHUNK)
            m = e - s
            b, x, y = buf[:m], ix[:m], iy[:m]
            np.multiply(lon[s:e], float(COARSE_PER_DEG), out=b)
            b += 180.0 * COARSE_PER_DEG
            if not (b.min() >= 0.0 and b.max() <= 360.0 * COARSE_PER_DEG):  # NaN fails too
                return None
            x[...] = b  # truncation == floor: b >= 0
            np.multiply(lat[s:e], float(COARSE_PER_DEG), out=b)
            b += 90.0 * COARSE_PER_DEG
            if not (b.min() >= 0.0 and b.max() <= 180.0 * COARSE_PER_DEG):
                return None
            y[...] = b
            y *= NX
            y += x
            out = block[:m]
            np.take(table, y, out=out, mode="clip")  # in range; "raise" would buffer
            if want_cells:
                coarse[s:e] = y
            neg = np.flatnonzero(out >= n_states)
            if len(neg):
                picks.append(neg + s)
                blocks.append(out[neg])
            # boundary-block entries clip to the last state: refined afterwards
            np.take(states, out, axis=0, out=zone[s:e], mode="clip")
        pick = np.concatenate(picks) if picks else np.empty(0, dtype=np.intp)
        in_block = np.concatenate(blocks) if blocks else np.empty(0, dtype=table.dtype)
        in_block = in_block.astype(np.int64) - n_states
        return zone, in_block, coarse, pick

    def _exact(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        zone: np.ndarray,
        points: np.ndarray,
        cls: np.ndarray,
    ) -> None:
        """Exact test of ``points`` (in crossed classes ``cls``) against their candidates."""
        a = self._a
        start = a.class_offsets[cls]
        count = a.class_offsets[cls + 1] - start
        pt = np.repeat(points, count)
        first = np.repeat(np.cumsum(count) - count, count)
        cand = a.class_zones[np.repeat(start, count) + np.arange(len(pt)) - first]
        order = np.argsort(cand, kind="stable")
        pt, cand = pt[order], cand[order]
        for s, e in runs(cand):
            z = int(cand[s])
            p = pt[s:e]
            inside = p[contains_xy(self._geoms[z], lon[p], lat[p])]
            zone[inside, a.zone_layer[z]] = z


def build(zones: Sequence[Zone], *, sub: int = DEFAULT_SUB) -> IndexArrays:
    """Layers and cell coverage of ``zones`` (no cache)."""
    geoms = [z.geometry for z in zones]
    start = time.perf_counter()
    layer = assign_layers(len(geoms), overlapping_pairs(geoms))
    mid = time.perf_counter()
    arrays = build_arrays(geoms, layer, sub=sub)
    log.info(
        "zone index: %d zones, %d layers (%.2f s), %d boundary blocks (%.2f s)",
        len(geoms),
        int(layer.max()) + 1,
        mid - start,
        len(arrays.fine) // (sub * sub),
        time.perf_counter() - mid,
    )
    return arrays


def _load(path: Path) -> IndexArrays | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = IndexArrays.from_mapping(data)
        cache_files.touch(path)
        return arrays
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:  # a damaged file is rebuilt
        log.warning("zone index cache %s unreadable (%s): rebuilding", path, exc)
        return None


def _save(path: Path, arrays: IndexArrays) -> None:
    """Write ``arrays`` to ``path`` (:func:`~skyfence.airspace.cache_files.write_npz`: a
    reader never sees half a file, a failed write leaves no temporary file); a failure
    is logged, never raised: a read-only cache only costs a rebuild next time."""
    try:
        cache_files.write_npz(path, arrays.as_dict())
    except OSError as exc:
        log.warning("zone index cache %s not written (%s)", path, exc)
        return
    cache_files.prune(path.parent, keep=[path])
