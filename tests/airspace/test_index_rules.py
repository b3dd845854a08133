"""The index's rules one at a time, on zones drawn by hand, each value worked out by hand.

The other index tests compare thousands of random positions with GEOS; what they do not
pin down is each rule at its edge: which segments the grid leaves ``unknown``, that a
segment's walk covers its rectangle of cells and no cell beyond, the cell keys of
``clear_between`` (the first cells of each grid level, the wrap from one row to the
next), where the cache lives and how it is written.

The grid (module docstrings of ``index`` and ``index_build``): coarse cells of 1/4
degree, ``NX = 1441`` columns and ``NY = 721`` rows, key ``row * NX + column``; fine cells
of 1/64 degree (``sub = 16``), key ``N_COARSE + row * 16 NX + column`` with
``N_COARSE = NX * NY``. Column ``floor((lon + 180) * 64)``, row ``floor((lat + 90) * 64)``.
A boundary marks the fine cells within 0.45 of a fine cell of it (samples every 0.9
cell, padded): every segment below is at least one fine cell away from any boundary it
is not meant to cross, so the expected answers do not depend on that margin.
"""

from __future__ import annotations

import logging
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
import shapely

from skyfence.airspace import index as index_module
from skyfence.airspace.index import N_COARSE, ZoneIndex, default_cache_dir
from skyfence.airspace.zones import Zone

NX, NY = 1441, 721  # 360 * 4 + 1 columns, 180 * 4 + 1 rows (lon 180 and lat 90 included)
FNX = 16 * NX  # fine columns


def _zones() -> list[Zone]:
    """``A`` lies inside one coarse cell (lon 10-10.25, lat 50-50.25): one boundary block.
    ``B`` spans coarse columns 768-773 and rows 560-565: the 20 cells of that 6 x 6
    square's rim are boundary blocks, its 16 inner cells are inside ``B``.

    In fine units (``(lon + 180) * 64``, ``(lat + 90) * 64``) ``A`` is 12163.2-12172.8 by
    8963.2-8972.8: its edges mark columns 12162-12163 and 12172-12173, rows 8962-8963 and
    8972-8973 (edge +- 0.45)."""
    return [Zone("A", "custom", shapely.box(10.05, 50.05, 10.2, 50.2)),
            Zone("B", "custom", shapely.box(12.1, 50.1, 13.3, 51.3))]


@pytest.fixture(scope="module")
def index() -> ZoneIndex:
    return ZoneIndex(_zones(), cache=False)


def _col(lon: float) -> int:
    return math.floor((lon + 180.0) * 64)


def _row(lat: float) -> int:
    return math.floor((lat + 90.0) * 64)


def _centre(col: int, row: int) -> tuple[float, float]:
    """Lon, lat of a fine cell's centre (exact in binary)."""
    return (col + 0.5) / 64 - 180.0, (row + 0.5) / 64 - 90.0


def _ask(index: ZoneIndex, segments: list[tuple[float, float, float, float]],
         **kw: int) -> tuple[list[tuple[int, str]], list[int]]:
    """``(segment, zone name)`` pairs and unknown segments, checking the arrays can
    index (the detector does ``seg[k]`` and ``seg[unknown]``)."""
    x0, y0, x1, y1 = (np.array([s[i] for s in segments], dtype=float) for i in range(4))
    seg, zone, unknown = index.segment_zones(x0, y0, x1, y1, **kw)
    for arr in (seg, zone, unknown):
        assert arr.dtype.kind == "i", arr.dtype
        np.arange(len(segments) + 2)[arr]  # usable as an index
    names = [index.zones[z].name for z in zone.tolist()]
    return list(zip(seg.tolist(), names, strict=True)), unknown.tolist()


# ------------------------------------------------------------------ segment_zones


def test_the_walk_covers_each_rectangle_of_fine_cells_and_no_more(index: ZoneIndex) -> None:
    """Segments asked together (so shorter ones walk beside longer ones):

    - 0: inside ``A``, columns 12167-12168, rows 8967-8968: no boundary there;
    - 1: lon 10.0-10.1 at lat 50.1 (columns 12160-12166, row 8966): crosses ``A``'s
      west edge (7 cells, the largest rectangle of the call);
    - 2: column 12161 only (one column west of ``A``'s marks), rows 8966-8969: a walk
      one column too wide reaches column 12162, marked by ``A``;
    - 3: row 8961 only (one row south of ``A``'s marks), columns 12166-12169 (4 cells):
      a walk one row too high reaches row 8962, marked; so does a walk of 5 cells (the
      fifth cell of a 4 x 1 rectangle is the one above its first).

    GEOS agrees that only segment 1 meets a boundary.
    """
    x2, _ = _centre(12161, 8966)
    _, y3 = _centre(12166, 8961)
    segments = [(10.12, 50.12, 10.13, 50.13), (10.0, 50.1, 10.1, 50.1),
                (x2, 50.1, x2, 50.15), (10.1, y3, 10.15, y3)]
    assert [_col(10.12), _col(10.13), _row(50.12), _row(50.13)] == [
        12167, 12168, 8967, 8968]
    assert [_col(10.0), _col(10.1), _row(50.1), _row(50.15), _col(10.15)] == [
        12160, 12166, 8966, 8969, 12169]
    assert _col(x2) == 12161 and _row(y3) == 8961
    assert _ask(index, segments) == ([(1, "A")], [])
    lines = shapely.linestrings([[(s[0], s[1]), (s[2], s[3])] for s in segments])
    crossed = [shapely.intersects(lines, z.geometry.boundary) for z in _zones()]
    assert crossed[0].tolist() == [False, True, False, False] and not crossed[1].any()


def test_clear_coarse_rectangles_are_answered_without_a_fine_walk(index: ZoneIndex) -> None:
    """Segments of more than 64 fine cells (``max_cells``) in coarse cells no boundary
    touches: no candidate and not unknown. A fine walk of them would be unknown (too
    many cells), so a coarse walk that strays into ``A``'s block (coarse column 760,
    row 560) shows.

    - 0: coarse column 759, row 560 (just west of the block): fine columns
      12144-12159, rows 8966-8972 (112 cells);
    - 1: coarse column 760, row 559 (just south of it): 16 x 16 fine cells;
    - 2: lon 0.1-1.9, lat 0.1-1.9: 8 x 8 = 64 coarse cells (the most looked at).
    """
    segments = [(9.76, 50.1, 9.99, 50.2), (10.01, 49.76, 10.24, 49.99), (0.1, 0.1, 1.9, 1.9)]
    assert [math.floor((x + 180) * 4) for x in (9.76, 9.99, 10.01, 10.24)] == [759] * 2 + [760] * 2
    assert [math.floor((y + 90) * 4) for y in (50.1, 50.2, 49.76, 49.99)] == [560] * 2 + [559] * 2
    assert math.floor(180.1 * 4) == 720 and math.floor(181.9 * 4) == 727
    assert _ask(index, segments) == ([], [])
    assert _ask(index, segments[:2]) == ([], [])
    # the same three, each alone (the walk's largest rectangle is then its own)
    for s in segments:
        assert _ask(index, [s]) == ([], [])


def test_segments_the_grid_does_not_answer(index: ZoneIndex) -> None:
    """An end on or beyond +-180 or a pole, a NaN, or a rectangle over more than 64
    coarse cells (5 x 13 here, where no zone is): ``unknown``. Segments just inside the
    limits are answered (nothing there), and a crossing of ``A`` in the same call keeps
    its pair."""
    nan = float("nan")
    segments = [
        (-180.0, 10.0, -179.9, 10.0), (179.9, 10.0, 180.0, 10.0),       # on +-180
        (0.0, -90.0, 0.1, -89.9), (0.1, 89.9, 0.0, 90.0),               # on a pole
        (-180.5, 0.0, -179.5, 0.0), (179.5, 0.0, 180.5, 0.0),           # beyond
        (0.0, -90.5, 0.0, -89.5), (0.0, 89.5, 0.0, 90.5),
        (nan, 0.0, 0.1, 0.1), (0.0, nan, 0.1, 0.1), (0.0, 0.0, nan, 0.1), (0.0, 0.0, 0.1, nan),
        (-179.99, 10.0, -179.9, 10.0), (179.9, 89.9, 179.99, 89.99),     # just inside
        (-179.99, -89.99, -179.9, -89.9),
        (0.1, 0.1, 1.1, 3.1),                                           # 65 coarse cells
        (10.0, 50.1, 10.1, 50.1),                                       # crosses A
    ]
    assert (math.floor(181.1 * 4) - 720 + 1) * (math.floor(93.1 * 4) - 360 + 1) == 65
    assert _ask(index, segments) == ([(16, "A")], [*range(12), 15])
    # the out-of-range ones alone, and all together in reverse order
    assert _ask(index, segments[:12]) == ([], list(range(12)))
    assert _ask(index, segments[::-1]) == ([(0, "A")], [1, *range(5, 17)])


def test_max_cells_is_the_largest_rectangle_answered(index: ZoneIndex) -> None:
    """The crossing of ``A``'s west edge spans 7 fine cells."""
    crossing = [(10.0, 50.1, 10.1, 50.1)]
    assert _ask(index, crossing, max_cells=7) == ([(0, "A")], [])
    assert _ask(index, crossing, max_cells=6) == ([], [0])


def test_calls_with_nothing_to_walk(index: ZoneIndex) -> None:
    """No segments, only segments out of range, only clear ones: empty integer arrays."""
    assert _ask(index, []) == ([], [])
    assert _ask(index, [(0.0, 95.0, 0.1, 95.0), (200.0, 0.0, 200.0, 0.1)]) == ([], [0, 1])
    assert _ask(index, [(0.1, 0.1, 0.2, 0.2)]) == ([], [])


def test_each_crossed_cell_answers_the_zones_of_its_own_class(index: ZoneIndex) -> None:
    """``A``'s and ``B``'s edges are crossed cells of two classes; a segment over one
    of them gets that zone only, and one over both (lon 10.1-12.2 at lat 50.15, 135
    fine cells: ``max_cells`` raised) gets both."""
    assert _ask(index, [(10.0, 50.1, 10.1, 50.1)]) == ([(0, "A")], [])
    assert _ask(index, [(12.0, 50.5, 12.2, 50.5)]) == ([(0, "B")], [])
    assert _ask(index, [(10.1, 50.15, 12.2, 50.15)], max_cells=200) == (
        [(0, "A"), (0, "B")], [])
    assert _ask(index, [(12.0, 50.5, 12.2, 50.5), (10.0, 50.1, 10.1, 50.1)]) == (
        [(0, "B"), (1, "A")], [])


# ------------------------------------------------------------------ clear_between


def _clear(index: ZoneIndex, pairs: list[tuple[int, int]]) -> list[bool]:
    a, b = zip(*pairs, strict=True)
    return index.clear_between(np.array(a), np.array(b)).tolist()


def test_clear_between_coarse_keys(index: ZoneIndex) -> None:
    """Coarse keys ``row * NX + column``: the first cell (0) and its east and north
    neighbours; a diagonal and a cell two away are not neighbours; the last cell of
    row 0 and the first of row 1 are consecutive keys but far apart; -1 (an invalid
    position) is no neighbour of anything, not even of ``NX - 1`` or -2, which
    ``divmod`` would put one column away."""
    pairs = [(0, 1), (1, 0), (0, NX), (NX, 0), (7, 7), (0, NX + 1), (0, 2), (NX - 1, NX),
             (-1, NX - 1), (NX - 1, -1), (-1, -2), (-2, -1)]
    assert _clear(index, pairs) == [True, True, True, True, True, False, False, False,
                                    False, False, False, False]


def test_clear_between_fine_keys(index: ZoneIndex) -> None:
    """Fine keys ``N_COARSE + row * 16 NX + column``: the first fine cell and its east
    neighbour, north neighbours at row 100, the same cell; a coarse and a fine key of
    the same number are different levels; the wrap from the end of one fine row to the
    start of the next is no neighbour."""
    f = N_COARSE
    assert f == NX * NY
    c = f + 100 * FNX + 7
    pairs = [(f, f + 1), (f + 1, f), (c, c + FNX), (c + FNX, c), (c, c + 1), (c, c),
             (c, c + 2), (c, c + FNX + 1), (5, f + 5), (f + 5, 5), (f + FNX - 1, f + FNX),
             (f + 21614, f + 21615), (f + FNX - 2883, f + FNX - 2882)]
    assert _clear(index, pairs) == [True] * 6 + [False] * 5 + [True, True]


# ------------------------------------------------------------------ names, cache, log


def test_zone_names(index: ZoneIndex) -> None:
    zone = np.array([[0, -1], [1, 0], [-1, -1]])
    assert index.zone_names(zone).tolist() == [["A", None], ["B", "A"], [None, None]]


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``$XDG_CACHE_HOME/skyfence``; unset or empty (the XDG rule): ``~/.cache/skyfence``."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "xdg" / "skyfence"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "skyfence"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "skyfence"


def test_the_cache_is_written_where_asked(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    """Into ``$XDG_CACHE_HOME/skyfence`` by default, into ``cache_dir`` when given, whose
    missing parents are made; the file is written beside itself under a temporary name
    (its own, ``.tmp``) and renamed into place, so a reader never sees half a file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = ZoneIndex(_zones(), cache=True)
    assert first.cache_path is not None and first.cache_path.exists()
    assert first.cache_path.parent == tmp_path / "xdg" / "skyfence"
    assert ZoneIndex(_zones()).loaded_from_cache
    renames: list[tuple[Path, Path]] = []
    replace = index_module.os.replace

    def spy(src: str, dst: str) -> None:
        renames.append((Path(src), Path(dst)))
        replace(src, dst)

    monkeypatch.setattr(index_module.os, "replace", spy)
    deep = tmp_path / "not" / "yet"
    made = ZoneIndex(_zones(), cache_dir=deep)
    assert made.cache_path is not None and made.cache_path.exists()
    assert made.cache_path.parent == deep
    assert not made.loaded_from_cache and ZoneIndex(_zones(), cache_dir=deep).loaded_from_cache
    (src, dst), = renames
    assert dst == made.cache_path and src.parent == deep
    assert src.name.startswith(dst.name) and src.name.endswith(".tmp") and src != dst
    assert sorted(p.name for p in deep.iterdir()) == [dst.name]


def test_the_build_log(caplog: pytest.LogCaptureFixture) -> None:
    """One INFO line: zones, layers, boundary blocks (``A`` 1, ``B`` 20) and the two
    stages' seconds, within the time the whole construction took."""
    start = time.perf_counter()
    with caplog.at_level(logging.INFO, logger="skyfence.airspace.index"):
        ZoneIndex(_zones(), cache=False)
    took = time.perf_counter() - start
    (record,) = [r for r in caplog.records if r.name == "skyfence.airspace.index"]
    m = re.fullmatch(r"zone index: 2 zones, 1 layers \((\d+\.\d\d) s\), "
                     r"21 boundary blocks \((\d+\.\d\d) s\)", record.getMessage())
    assert m, record.getMessage()
    assert 0 <= float(m[1]) + float(m[2]) <= took + 0.01


def test_another_fine_grid(caplog: pytest.LogCaptureFixture) -> None:
    """``sub=8``: fine cells of 1/32 degree, keys ``N_COARSE + row * 8 NX + column``; the
    same 21 boundary blocks. A point on ``A``'s west edge (lon 10.05: column
    ``floor(190.05 * 32) = 6081``, row ``floor(140.1 * 32) = 4483``) is in a boundary
    cell; inside and outside points are answered as GEOS does."""
    with caplog.at_level(logging.INFO, logger="skyfence.airspace.index"):
        coarser = ZoneIndex(_zones(), cache=False, sub=8)
    assert "21 boundary blocks" in caplog.records[-1].getMessage()
    got = coarser.screen(np.array([10.05, 10.1, 10.0, 12.5]), np.array([50.1, 50.1, 50.1, 50.5]))
    assert got.cell[0] == N_COARSE + 4483 * 8 * NX + 6081
    assert got.boundary.tolist() == [True, False, False, False]
    assert coarser.zone_names(got.zone[1:, 0]).tolist() == ["A", None, "B"]


# ------------------------------------------------------------------ point lookup

Point = tuple[tuple[float, float], int, bool, "str | None"]

#: (lon, lat) by hand: cell key, boundary flag, zone (of ``A`` / ``B``) for each point
POINTS: list[Point] = [
    # inside A, fine cell 12168 / 8968: in A's boundary block but no boundary in it
    ((10.125, 50.125), N_COARSE + 8968 * FNX + 12168, False, "A"),
    # 1e-4 degree inside / outside A's west edge (lon 10.05): fine column 12163, crossed
    ((10.0501, 50.1), N_COARSE + 8966 * FNX + 12163, True, "A"),
    ((10.0499, 50.1), N_COARSE + 8966 * FNX + 12163, True, None),
    # nowhere near a zone: coarse cell (185.1 * 4, 95.1 * 4) = (740, 380)
    ((5.1, 5.1), 380 * NX + 740, False, None),
    # inner coarse cell (770, 562) of B
    ((12.6, 50.6), 562 * NX + 770, False, "B"),
    # the grid's own edges are valid positions: the extra column (lon 180) and row (lat 90)
    ((180.0, 0.0), 360 * NX + 1440, False, None),
    ((-180.0, -90.0), 0, False, None),
    ((180.0, 90.0), NX * NY - 1, False, None),
    ((-180.0, 90.0), 720 * NX, False, None),
    # invalid: cell -1, boundary True, no zone
    ((float("nan"), 50.1), -1, True, None),
    ((10.1, float("nan")), -1, True, None),
    ((180.0000001, 0.0), -1, True, None),
    ((-180.0000001, 0.0), -1, True, None),
    ((0.0, 90.0000001), -1, True, None),
    ((0.0, -90.0000001), -1, True, None),
]


def _points(rows: list[Point]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([p[0][0] for p in rows]), np.array([p[0][1] for p in rows]))


def test_screen_answers_cells_flags_and_zones_by_hand(index: ZoneIndex) -> None:
    """Each point of :data:`POINTS` alone, all together, and valid ones only; ``locate``
    gives the same zones. GEOS agrees with the zones of the valid points."""
    for rows in ([p] for p in POINTS):
        got = index.screen(*_points(rows))
        assert (got.cell.tolist(), got.boundary.tolist()) == ([rows[0][1]], [rows[0][2]]), rows
        assert index.zone_names(got.zone[:, 0]).tolist() == [rows[0][3]], rows
    for rows in (POINTS, POINTS[:9], POINTS[::-1]):
        lon, lat = _points(rows)
        got = index.screen(lon, lat)
        assert got.zone.shape == (len(rows), 1) and got.zone.dtype == np.int32
        assert got.cell.dtype == np.int64 and got.boundary.dtype == bool
        assert got.cell.tolist() == [p[1] for p in rows]
        assert got.boundary.tolist() == [p[2] for p in rows]
        assert index.zone_names(got.zone[:, 0]).tolist() == [p[3] for p in rows]
        assert index.locate(lon, lat).tolist() == got.zone.tolist()
    lon, lat = _points(POINTS[:9])
    for k, z in enumerate(_zones()):
        inside = shapely.contains_xy(z.geometry, lon, lat)
        assert ((index.locate(lon, lat)[:, 0] == k) == inside).all()


def test_batches_of_several_chunks(index: ZoneIndex) -> None:
    """:data:`POINTS` repeated past several lookup chunks (16 384 positions), with and
    without the invalid ones, and lists of any shape: each copy answered as alone."""
    for rows in (POINTS, POINTS[:9]):
        lon, lat = _points(rows)
        n = 40_000 // len(rows) + 1
        got = index.screen(np.tile(lon, n), np.tile(lat, n))
        assert got.cell.tolist() == [p[1] for p in rows] * n
        assert got.boundary.tolist() == [p[2] for p in rows] * n
        assert index.zone_names(got.zone[:, 0]).tolist() == [p[3] for p in rows] * n
        assert index.locate(np.tile(lon, n), np.tile(lat, n)).tolist() == got.zone.tolist()
    lon, lat = _points(POINTS[:8])
    assert index.screen(lon.reshape(2, 4), lat.reshape(2, 4)).cell.tolist() == [
        p[1] for p in POINTS[:8]]
    with pytest.raises(ValueError, match=r"^lon and lat must have the same length$"):
        index.screen(lon, lat[:-1])


def test_overlapping_zones_take_one_layer_each() -> None:
    """``C`` (lon 9.5-13.8, lat 49.5-51.8) covers ``A`` and ``B``: it overlaps two zones,
    so the greedy colouring (most overlaps first) puts it in layer 0, ``A`` and ``B``
    in layer 1. Each position gets its zone per layer, GEOS deciding near edges: a
    crossed cell of ``A``'s edge is inside ``C`` (its layer answered from the class), and
    ``C``'s own edges are crossed cells without ``A`` or ``B``."""
    zones = [*_zones(), Zone("C", "custom", shapely.box(9.5, 49.5, 13.8, 51.8))]
    index = ZoneIndex(zones, cache=False)
    assert index.zone_layer.tolist() == [1, 1, 0] and index.n_layers == 2
    assert [x.tolist() for x in index.layers] == [[2], [0, 1]]
    lon = np.array([10.125, 10.0501, 10.0499, 12.6, 9.5001, 9.4999, 13.5, 13.7999, 13.8001,
                    12.0999, 12.1001, 5.0])
    lat = np.array([50.125, 50.1, 50.1, 50.6, 50.0, 50.0, 51.5, 50.5, 50.5, 50.5, 50.5, 5.0])
    want = [["C", "A"], ["C", "A"], ["C", None], ["C", "B"], ["C", None], [None, None],
            ["C", None], ["C", None], [None, None], ["C", None], ["C", "B"], [None, None]]
    for got in (index.screen(lon, lat).zone, index.locate(lon, lat)):
        assert index.zone_names(got).tolist() == want
        for k, z in enumerate(zones):  # and GEOS agrees, zone by zone
            truth = shapely.contains_xy(z.geometry, lon, lat)
            assert (got[:, index.zone_layer[k]] == k).tolist() == truth.tolist(), z.name
    assert index.screen(lon, lat).boundary.tolist() == [
        False, True, True, False, True, True, False, True, True, True, True, False]


def test_an_index_needs_zones_and_says_how_it_was_made(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^ZoneIndex needs at least one zone$"):
        ZoneIndex([], cache=False)
    start = time.perf_counter()
    built = ZoneIndex(_zones(), cache=False)
    took = time.perf_counter() - start
    assert built.cache_path is None and not built.loaded_from_cache
    assert 0 < built.seconds <= took
    assert not list(tmp_path.iterdir())
    cached = ZoneIndex(_zones(), cache_dir=tmp_path)
    assert cached.cache_path is not None
    assert cached.cache_path.name.startswith("zone-index-") and cached.cache_path.suffix == ".npz"


def test_coordinates_of_other_types_are_looked_up_at_their_value(index: ZoneIndex) -> None:
    """float32 coordinates are taken at their exact value: lon 10.125 less one float32
    step (9.5e-7) lies in fine column 12167, but ``lon * 64 + 11520`` in float32
    rounds to 12168.0 (the float32 step there is 0.001); so does lat 50.125 less one
    step (row 8967, not 8968). Integers and lists work too: (10, 50) is fine cell
    (12160, 8960) of ``A``'s block, (5, 5) coarse cell (740, 380).

    Segments too: one from lon 10.0625 less a float32 step (fine column 12163, marked
    by ``A``'s west edge; 12164 in float32 arithmetic) to 10.1 at lat 50.1 has
    ``A`` as a candidate (the rectangle of the ends' cells; it lies inside ``A``, the
    marks' margin of 0.45 cell makes it a candidate)."""
    lon32 = np.nextafter(np.float32(10.125), np.float32(0.0))
    lat32 = np.nextafter(np.float32(50.125), np.float32(0.0))
    assert float(lon32) < 10.125 and np.float32(lon32 * 64 + 11520) == 12168.0
    assert float(lat32) < 50.125 and np.float32(lat32 * 64 + 5760) == 8968.0
    lon = np.array([lon32, 10.1], dtype=np.float32)
    lat = np.array([50.13, lat32], dtype=np.float32)
    assert [_col(float(lon[0])), _row(float(lat[0])), _col(float(lon[1])), _row(float(lat[1]))
            ] == [12167, 8968, 12166, 8967]
    got = index.screen(lon, lat)
    assert got.cell.tolist() == [N_COARSE + 8968 * FNX + 12167, N_COARSE + 8967 * FNX + 12166]
    assert index.zone_names(got.zone[:, 0]).tolist() == ["A", "A"]
    assert got.boundary.tolist() == [False, False]
    ints = index.screen([10, 5], [50, 5])  # type: ignore[arg-type]
    assert ints.cell.tolist() == [N_COARSE + 8960 * FNX + 12160, 380 * NX + 740]
    x32 = np.nextafter(np.float32(10.0625), np.float32(0.0))
    assert _col(float(x32)) == 12163 and np.float32(x32 * 64 + 11520) == 12164.0
    x0, y0 = np.array([x32], np.float32), np.array([50.1], np.float32)
    seg, zone, unknown = index.segment_zones(x0, y0, np.array([10.1], np.float32), y0)
    assert (seg.tolist(), zone.tolist(), unknown.tolist()) == ([0], [0], [])


def test_a_zone_smaller_than_a_fine_cell() -> None:
    """A box of 0.001 x 0.0005 degree lies in one fine cell: no cell is inside it, the
    index knows one state (nowhere), and positions in that cell are answered by the
    exact test alone, as GEOS answers them."""
    tiny = Zone("T", "custom", shapely.box(10.1, 50.1, 10.101, 50.1005))
    index = ZoneIndex([tiny], cache=False)
    lon, lat = np.array([10.1005, 10.102, 10.1005]), np.array([50.1002, 50.1002, 50.1007])
    got = index.screen(lon, lat)
    assert index.zone_names(got.zone[:, 0]).tolist() == ["T", None, None]
    assert got.zone[:, 0].tolist() == [
        0 if t else -1 for t in shapely.contains_xy(tiny.geometry, lon, lat)]
    assert got.boundary.tolist() == [True, True, True]
    assert len(set(got.cell.tolist())) == 1


def test_the_cache_key_and_when_the_cache_is_read(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    """Another fine grid is another cache file (its arrays differ); ``cache=False``
    neither reads nor writes the cache, even when a file for its zones is there."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fine = ZoneIndex(_zones())
    coarse = ZoneIndex(_zones(), sub=8)
    assert not coarse.loaded_from_cache and coarse.cache_path != fine.cache_path
    assert ZoneIndex(_zones(), sub=8).loaded_from_cache
    point = (np.array([10.05]), np.array([50.1]))
    assert coarse.screen(*point).cell.tolist() == [N_COARSE + 4483 * 8 * NX + 6081]
    assert fine.screen(*point).cell.tolist() == [N_COARSE + 8966 * FNX + 12163]
    assert not ZoneIndex(_zones(), cache=False).loaded_from_cache
    assert len(list((tmp_path / "skyfence").iterdir())) == 2


def test_cache_trouble_is_logged_and_survived(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """A damaged file: a warning naming it and why, then a rebuild. A write that fails
    (here ``np.savez`` raising ``OSError("disk full")``): a warning naming the file and
    the error, and the index works."""
    first = ZoneIndex(_zones(), cache_dir=tmp_path)
    assert first.cache_path is not None
    first.cache_path.write_bytes(b"not an npz")
    with caplog.at_level(logging.WARNING, logger="skyfence.airspace.index"):
        again = ZoneIndex(_zones(), cache_dir=tmp_path)
    assert not again.loaded_from_cache
    (msg,) = [r.getMessage() for r in caplog.records]
    m = re.fullmatch(rf"zone index cache {re.escape(str(first.cache_path))} unreadable "
                     r"\((.+)\): rebuilding", msg)
    assert m and m[1] != "None", msg
    caplog.clear()

    def full(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(index_module.np, "savez", full)
    other = tmp_path / "other"
    with caplog.at_level(logging.WARNING, logger="skyfence.airspace.index"):
        unsaved = ZoneIndex(_zones(), cache_dir=other)
    assert unsaved.cache_path is not None and not unsaved.cache_path.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"zone index cache {unsaved.cache_path} not written (disk full)"]
    assert unsaved.locate(np.array([10.125]), np.array([50.125])).tolist() == [[0]]


def test_a_failed_write_leaves_no_temporary_file(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """``np.savez`` failing halfway (a full disk: ``OSError`` after some bytes): the
    cache directory is left as it was, without the partial temporary file (as large as
    the index); so is it when the rename fails. A file that cannot be removed is left,
    silently: the index works without its cache."""
    def half(fh: object, **arrays: object) -> None:
        fh.write(b"PK\x03\x04 half an npz")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(index_module.np, "savez", half)
    unsaved = ZoneIndex(_zones(), cache_dir=tmp_path)
    assert unsaved.cache_path is not None and not unsaved.cache_path.exists()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()

    def refuse(src: str, dst: str) -> None:
        raise OSError("read-only")

    monkeypatch.setattr(index_module.os, "replace", refuse)
    ZoneIndex(_zones(), cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    # and when the temporary file cannot be removed either, the index still works
    removals: list[str] = []

    def stuck(name: str) -> None:
        removals.append(name)
        raise OSError("busy")

    monkeypatch.setattr(index_module.os, "unlink", stuck)
    stays = ZoneIndex(_zones(), cache_dir=tmp_path)
    assert stays.locate(np.array([10.125]), np.array([50.125])).tolist() == [[0]]
    assert [Path(r).parent for r in removals] == [tmp_path]
