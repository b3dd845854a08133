"""The coverage model's limits, one rule at a time: the grid's edges (poles, ±180, band
limits), which configurations are refused, the evidence thresholds at exactly their
values, decay and memory, and each damage a coverage file is refused for.

Expected keys are worked out by hand from the documented grid: 0.25 degree cells, rows
from 90 S (720), columns from 180 W (1440), key = (band * 720 + row) * 1440 + col,
bands split at 1, 3, 6 and 9 km, band 5 for no altitude.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from skyfence.detect.coverage import CoverageConfig, CoverageModel
from skyfence.errors import ConfigError, DataError

ROWS, COLS = 720, 1440
EDGES = np.array([1000.0, 3000.0, 6000.0, 9000.0])


def key(band: int, row: int, col: int) -> int:
    return (band * ROWS + row) * COLS + col


def test_keys_at_the_poles_the_antimeridian_and_the_band_limits() -> None:
    m = CoverageModel()
    # 90 N: row floor(180 / 0.25) = 720, the last row is 719; 90 S: row 0; 180 E is the
    # last column (1439), -180 the first; 999.9 m band 0, 1000 m band 1, 9000 m band 4
    got = m.keys([90.0, -90.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                 [0.0, 0.0, 180.0, -180.0, 0.1, 0.1, 0.1],
                 [500.0, 500.0, 500.0, 500.0, 999.9, 1000.0, 9000.0])
    assert got.tolist() == [key(0, 719, 720), key(0, 0, 720), key(0, 360, 1439),
                            key(0, 360, 0), key(0, 360, 720), key(1, 360, 720),
                            key(4, 360, 720)]
    # past a pole the row stops at the last one; a longitude of 360.1 is 0.1 E
    assert m.keys([89.9], [0.0], [500.0], d_row=1).tolist() == [key(0, 719, 720)]
    assert m.keys([-89.9], [0.0], [500.0], d_row=-1).tolist() == [key(0, 0, 720)]
    assert m.keys([0.0], [360.1], [500.0]).tolist() == [key(0, 360, 720)]
    # unusable: a latitude beyond 90, NaN or infinite coordinates
    bad = m.keys([90.1, np.nan, 0.0, np.inf], [0.0, 0.0, np.nan, 0.0], [500.0] * 4)
    assert bad.tolist() == [-1, -1, -1, -1]


def test_bands_by_hand() -> None:
    m = CoverageModel()
    got = m.band([-50.0, 0.0, 2999.9, 3000.0, 6000.0, 8999.0, 20_000.0, np.nan])
    assert got.tolist() == [0, 0, 1, 2, 3, 3, 4, 5]
    assert CoverageConfig().bands == 6
    assert CoverageConfig(band_edges_m=()).bands == 2  # one band, and no altitude


def test_a_coarser_grid_has_its_own_rows_and_columns() -> None:
    # 0.7 degree cells: ceil(180 / 0.7) = 258 rows, ceil(360 / 0.7) = 515 columns
    m = CoverageModel(CoverageConfig(cell_deg=0.7))
    assert m.keys([90.0], [180.0], [np.nan]).tolist() == [(5 * 258 + 257) * 515 + 514]
    # 46.9 N: floor(136.9 / 0.7) = 195; 7.4 E: floor(187.4 / 0.7) = 267
    assert m.keys([46.9], [7.4], [0.0]).tolist() == [195 * 515 + 267]


@pytest.mark.parametrize("kwargs", [
    {"cell_deg": 10.01}, {"cell_deg": -0.25}, {"band_edges_m": (1000.0, 1000.0)},
    {"band_edges_m": (1000.0, np.nan)}, {"band_edges_m": (1000.0, np.inf)},
    {"min_neighbour_passages": -0.5}, {"decay_every_s": 0.0}, {"half_life_s": -1.0},
])
def test_more_configurations_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="coverage: "):
        CoverageConfig(**kwargs)  # type: ignore[arg-type]


def test_configurations_at_their_limits_are_accepted() -> None:
    CoverageConfig(cell_deg=10.0, band_edges_m=(), min_passages=0.0,
                   min_neighbour_passages=0.0, max_edge_fraction=0.0, max_cells=1)


def test_the_refusals_say_what_is_wrong() -> None:
    with pytest.raises(ConfigError) as e:
        CoverageConfig(cell_deg=12.0)
    assert str(e.value) == "coverage: cell_deg must be in (0, 10], not 12.0"
    with pytest.raises(ConfigError) as e:
        CoverageConfig(band_edges_m=(2.0, 1.0))
    assert str(e.value) == "coverage: band_edges_m must be finite and increasing"
    with pytest.raises(ConfigError) as e:
        CoverageConfig(max_edge_fraction=-1.0)
    assert str(e.value) == ("coverage: min_passages, min_neighbour_passages and "
                            "max_edge_fraction must be >= 0")
    with pytest.raises(ConfigError) as e:
        CoverageConfig(max_cells=0)
    assert str(e.value) == "coverage: half_life_s, decay_every_s and max_cells must be > 0"


def test_evidence_at_exactly_the_limits() -> None:
    m = CoverageModel(CoverageConfig(min_passages=0.0, max_edge_fraction=0.0))
    k = m.keys([46.9], [7.4], [11_000.0])
    assert not m.good(k)[0]  # never seen: not good, even when 0 passages would do
    m.add(passages=k)
    assert m.good(k)[0]  # one passage, no edge
    m.add(starts=k)
    assert not m.good(k)[0]  # 1 start of 1 passage > 0 of them
    m2 = CoverageModel()
    k2 = m2.keys([46.9], [7.4], [11_000.0])
    m2.add(passages=np.repeat(k2, 10))
    assert m2.good(k2, min_passages=10.0)[0] and not m2.good(k2, min_passages=10.5)[0]


def test_negative_keys_are_ignored_and_never_counted() -> None:
    m = CoverageModel()
    k = int(m.keys([46.9], [7.4], [11_000.0])[0])
    m.add(passages=[-1, k, -1], starts=[-1], ends=[k])
    assert m.cells == 1
    assert m.counts([k, -1]).tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    m.add(passages=[-1])  # nothing usable: nothing changes
    assert m.cells == 1
    assert CoverageModel().counts([k]).tolist() == [[0.0, 0.0, 0.0]]  # an empty model
    assert m.counts([]).shape == (0, 3)


def test_new_keys_are_merged_in_order_and_counted_at_their_own_cell() -> None:
    m = CoverageModel()
    ks = [key(4, 547, c) for c in (749, 700, 800, 650, 749, 700)]
    m.add(passages=ks[:2])
    m.add(passages=ks[2:], starts=[ks[3]], ends=[ks[2], ks[2]])
    assert m.counts([key(4, 547, c) for c in (650, 700, 749, 800, 801)]).tolist() == [
        [1.0, 1.0, 0.0], [2.0, 0.0, 0.0], [2.0, 0.0, 0.0], [1.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    assert m.cells == 4


def test_the_busiest_cells_are_kept_by_all_three_counts() -> None:
    m = CoverageModel(CoverageConfig(max_cells=2))
    a, b, c = key(4, 547, 1), key(4, 547, 2), key(4, 547, 3)
    # totals: a 3 (1 passage, 2 ends), b 2, c 1
    m.add(passages=[a, b, b, c], ends=[a, a])
    assert m.cells == 2
    assert m.counts([a, b, c]).tolist() == [[1.0, 0.0, 2.0], [2.0, 0.0, 0.0],
                                            [0.0, 0.0, 0.0]]
    m.add(passages=[c, c, c, c])  # c now 4: b (2) goes
    assert m.counts([a, b, c])[:, 0].tolist() == [1.0, 0.0, 4.0]


def test_decay_starts_at_the_first_time_and_steps_by_the_elapsed_time() -> None:
    cfg = CoverageConfig(half_life_s=1000.0, decay_every_s=100.0)
    m = CoverageModel(cfg)
    k = key(4, 547, 749)
    m.add(passages=np.repeat(k, 64), now=5000.0)  # the clock starts: nothing decays
    assert m.counts([k])[0, 0] == 64.0
    m.decay(5099.0)  # 99 s: not yet
    assert m.counts([k])[0, 0] == 64.0
    m.decay(5100.0)  # exactly decay_every_s: 64 * 0.5 ** 0.1
    assert m.counts([k])[0, 0] == pytest.approx(64.0 * 0.5 ** 0.1, rel=1e-12)
    m.decay(5150.0)  # 50 s after the last step: not yet
    m.decay(6100.0)  # 1000 s after it: one half-life more
    assert m.counts([k])[0, 0] == pytest.approx(32.0 * 0.5 ** 0.1, rel=1e-12)


def test_cells_decayed_below_a_hundredth_are_forgotten() -> None:
    cfg = CoverageConfig(half_life_s=100.0, decay_every_s=1.0)
    m = CoverageModel(cfg)
    a, b = key(4, 547, 1), key(4, 547, 2)
    # seven half-lives: 1 passage -> 1/128 = 0.0078 (forgotten), 2 -> 0.0156 (kept)
    m.add(passages=[a, b, b], now=0.0)
    m.decay(700.0)
    assert m.counts([a, b])[:, 0].tolist() == [0.0, 2.0 / 128]
    assert m.cells == 1


def test_a_saved_model_comes_back_with_its_decay_clock(tmp_path: Path) -> None:
    cfg = CoverageConfig(half_life_s=1000.0, decay_every_s=100.0)
    m = CoverageModel(cfg)
    k = key(4, 547, 749)
    m.add(passages=np.repeat(k, 40), now=7000.0)
    path = tmp_path / "coverage.npz"
    m.save(path)
    back = CoverageModel.load(path, cfg)
    back.decay(7050.0)  # 50 s after the saved clock: no step
    assert back.counts([k])[0, 0] == 40.0
    back.decay(8000.0)  # one half-life after it
    assert back.counts([k])[0, 0] == pytest.approx(20.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coverage.npz"]  # no temp left


def test_a_failed_save_leaves_no_temporary_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full)
    with pytest.raises(OSError, match="No space left"):
        CoverageModel().save(tmp_path / "coverage.npz")
    assert list(tmp_path.iterdir()) == []


def save_raw(path: Path, **over: object) -> Path:
    """A coverage file as :meth:`CoverageModel.save` writes it, with fields replaced."""
    fields: dict[str, object] = {
        "format": np.int64(1), "keys": np.array([3, 5], dtype=np.int64),
        "counts": np.ones((2, 3)), "decayed_at": np.float64(0.0),
        "cell_deg": np.float64(0.25), "band_edges_m": EDGES}
    fields.update(over)
    np.savez(path, **fields)  # type: ignore[arg-type]
    return path


def test_a_hand_written_file_loads(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    last = 6 * ROWS * COLS - 1  # the last key of the grid
    with caplog.at_level(logging.INFO, logger="skyfence.detect.coverage"):
        m = CoverageModel.load(save_raw(tmp_path / "ok.npz", keys=np.array([0, last]),
                                        counts=np.zeros((2, 3))))
    assert m.cells == 2
    assert caplog.records[-1].getMessage() == f"coverage model {tmp_path / 'ok.npz'}: 2 cells"


@pytest.mark.parametrize("over", [
    {"keys": np.array([3, 3])},                                 # not increasing
    {"keys": np.array([-1, 5])},                                # below the grid
    {"keys": np.array([3, 6 * ROWS * COLS])},                   # past the grid
    {"counts": np.ones((2, 2))},                                # not three counts
    {"counts": np.ones((3, 3))},                                # one row too many
    {"counts": np.array([[1.0, 1.0, np.nan], [1.0, 1.0, 1.0]])},
    {"counts": np.array([[1.0, 1.0, 1.0], [1.0, -0.5, 1.0]])},
])
def test_each_damage_is_refused(tmp_path: Path, over: dict[str, object]) -> None:
    path = save_raw(tmp_path / "bad.npz", **over)
    with pytest.raises(DataError) as e:
        CoverageModel.load(path)
    assert str(e.value) == f"{path}: coverage file is damaged (keys or counts out of range)"


def test_other_formats_and_band_edges_are_refused(tmp_path: Path) -> None:
    path = save_raw(tmp_path / "f2.npz", format=np.int64(2))
    with pytest.raises(DataError) as e:
        CoverageModel.load(path)
    assert str(e.value) == f"{path}: coverage file format 2, this skyfence reads 1"
    path = save_raw(tmp_path / "bands.npz", band_edges_m=np.array([1000.0, 3000.0]))
    with pytest.raises(DataError) as e:
        CoverageModel.load(path)
    assert str(e.value) == (f"{path}: coverage grid of 0.25 deg cells and bands "
                            "[1000.0, 3000.0] m; this watch uses 0.25 deg and "
                            "[1000.0, 3000.0, 6000.0, 9000.0] m")
    path = save_raw(tmp_path / "shifted.npz", band_edges_m=EDGES + np.array([0.0, 0.0, 0.0, 1.0]))
    with pytest.raises(DataError, match="coverage grid"):
        CoverageModel.load(path)
    missing = tmp_path / "missing.npz"
    np.savez(missing, format=np.int64(1))
    with pytest.raises(DataError, match="not a skyfence coverage file"):
        CoverageModel.load(missing)


def test_configurations_close_to_the_limits_are_accepted() -> None:
    CoverageConfig(band_edges_m=(1000.0, 1000.5), half_life_s=0.5, decay_every_s=0.5)


def test_the_first_cell_of_the_grid_is_counted() -> None:
    """Key 0 is a real cell: band 0, 90 S, 180 W (only -1 means unusable)."""
    m = CoverageModel()
    assert m.keys([-90.0], [-180.0], [0.0]).tolist() == [0]
    m.add(passages=[0, 0], starts=[0])
    assert m.counts([0]).tolist() == [[2.0, 1.0, 0.0]]


@pytest.mark.parametrize("unseen", range(8))
def test_each_of_the_eight_neighbours_is_asked(unseen: int) -> None:
    m = CoverageModel()
    shifts = [(r, c) for r in (-1, 0, 1) for c in (-1, 0, 1) if r or c]
    centre = int(m.keys([46.9], [7.4], [11_000.0])[0])
    ring = [int(m.keys([46.9], [7.4], [11_000.0], d_row=r, d_col=c)[0]) for r, c in shifts]
    m.add(passages=np.repeat([centre], 20))
    m.add(passages=np.repeat([k for i, k in enumerate(ring) if i != unseen], 5))
    assert not m.covered([46.9], [7.4], [11_000.0])[0], shifts[unseen]
    m.add(passages=np.repeat(ring[unseen], 5))
    assert m.covered([46.9], [7.4], [11_000.0])[0]


def test_a_count_decayed_to_exactly_a_hundredth_is_kept(tmp_path: Path) -> None:
    # 0.02 halved is 0.01 exactly (a power of two times the same mantissa)
    path = save_raw(tmp_path / "c.npz", keys=np.array([3, 5]),
                    counts=np.array([[0.02, 0.0, 0.0], [0.0, 0.0, 0.019]]))
    cfg = CoverageConfig(half_life_s=1000.0, decay_every_s=100.0)
    m = CoverageModel.load(path, cfg)
    m.decay(1000.0)  # one half-life after the file's clock (0)
    assert m.counts([3, 5]).tolist() == [[0.01, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert m.cells == 1


def test_a_model_is_written_beside_its_file_then_renamed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Atomic: the temporary file is in the same directory (a rename across file systems
    is a copy), named after the file, ``.tmp``; then renamed over it."""
    import os

    moves: list[tuple[str, str]] = []
    real = os.replace

    def replace(src: str, dst: str) -> None:
        moves.append((str(src), str(dst)))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "coverage.npz"
    CoverageModel().save(target)
    assert len(moves) == 1 and moves[0][1] == str(target)
    tmp = Path(moves[0][0])
    assert tmp.parent == tmp_path
    assert tmp.name.startswith("coverage.npz") and tmp.name.endswith(".tmp")
    assert CoverageModel.load(target).cells == 0


def test_a_file_with_whole_number_counts_loads_and_decays(tmp_path: Path) -> None:
    """Counts written as integers (another writer's choice) are read as float counts."""
    path = save_raw(tmp_path / "c.npz", counts=np.array([[40, 2, 0], [8, 0, 1]]))
    m = CoverageModel.load(path, CoverageConfig(half_life_s=1000.0, decay_every_s=100.0))
    m.decay(1000.0)
    assert m.counts([3, 5]).tolist() == [[20.0, 1.0, 0.0], [4.0, 0.0, 0.5]]
