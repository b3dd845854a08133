"""The coverage model: cells, bands, evidence, edges, decay, memory and files.

Expected answers are worked out by hand from the documented grid (0.25 degree cells,
rows from 90 S, columns from 180 W, bands split at 1, 3, 6 and 9 km, one more band for
no altitude) and rules (good: >= 20 passages, starts + ends <= a fifth of them;
covered: good, and the 8 neighbours good with >= 5 passages).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skyfence.detect.coverage import CoverageConfig, CoverageModel
from skyfence.errors import ConfigError, DataError

ROWS, COLS = 720, 1440  # 180 / 0.25 and 360 / 0.25


def neighbourhood(m: CoverageModel, lat: float, lon: float, alt: float) -> list[int]:
    """Keys of a position's cell and of its 8 neighbours, centre first."""
    shifts = [(0, 0)] + [(r, c) for r in (-1, 0, 1) for c in (-1, 0, 1) if r or c]
    return [int(m.keys([lat], [lon], [alt], d_row=r, d_col=c)[0]) for r, c in shifts]


def test_keys_by_hand() -> None:
    m = CoverageModel()
    # Bern at 11 km: row floor(136.9 / 0.25) = 547, column floor(187.4 / 0.25) = 749,
    # band 4 (above 9 km); no altitude: band 5; 500 m: band 0; 3000 m exactly: band 2
    got = m.keys([46.9, 46.9, 46.9, 46.9, np.nan], [7.4, 7.4, 7.4, 7.4, 7.4],
                 [11_000.0, np.nan, 500.0, 3_000.0, 11_000.0])
    assert got.tolist() == [(4 * ROWS + 547) * COLS + 749, (5 * ROWS + 547) * COLS + 749,
                            (0 * ROWS + 547) * COLS + 749, (2 * ROWS + 547) * COLS + 749, -1]


def test_neighbours_wrap_round_the_antimeridian() -> None:
    m = CoverageModel()
    # 179.9 E is in the last column (1439), 179.9 W in the first (0): neighbours
    east = m.keys([65.0], [179.9], [10_000.0], d_col=1)
    west = m.keys([65.0], [-179.9], [10_000.0])
    assert east.tolist() == west.tolist()
    assert int(west[0]) % COLS == 0


def test_a_cell_needs_twenty_passages_and_few_starts_and_ends() -> None:
    m = CoverageModel()
    k = m.keys([46.9], [7.4], [11_000.0])
    m.add(passages=np.repeat(k, 19))
    assert not m.good(k)[0]                     # 19 < 20: not enough evidence yet
    m.add(passages=k)
    assert m.good(k)[0]                         # 20 tracks, none began or ended here
    m.add(ends=np.repeat(k, 3), starts=k)
    assert m.good(k)[0]                         # 4 of 20 = a fifth: still good
    m.add(ends=k)
    assert not m.good(k)[0]                     # 5 of 20: the edge of the coverage
    assert m.counts(k).tolist() == [[20.0, 1.0, 4.0]]


def test_covered_means_good_with_good_neighbours() -> None:
    m = CoverageModel()
    centre, *ring = neighbourhood(m, 46.9, 7.4, 11_000.0)
    m.add(passages=np.repeat(centre, 20))
    m.add(passages=np.repeat(ring[:-1], 5))
    assert not m.covered([46.9], [7.4], [11_000.0])[0]   # one neighbour never seen
    m.add(passages=np.repeat(ring[-1:], 4))
    assert not m.covered([46.9], [7.4], [11_000.0])[0]   # 4 < 5 passages
    m.add(passages=ring[-1:])
    assert m.covered([46.9], [7.4], [11_000.0])[0]
    assert not m.covered([46.9], [7.4], [5_000.0])[0]    # another band: nothing known
    m.add(ends=np.repeat(ring[0], 2))                      # 2 of 5 tracks end next door
    assert not m.covered([46.9], [7.4], [11_000.0])[0]


def test_covered_across_the_antimeridian() -> None:
    m = CoverageModel()
    keys = neighbourhood(m, 65.0, 179.9, 10_000.0)
    west = m.keys([65.0], [-179.9], [10_000.0])
    m.add(passages=np.repeat([k for k in keys if k not in west.tolist()], 20))
    assert not m.covered([65.0], [179.9], [10_000.0])[0]  # its neighbour at 179.9 W unknown
    m.add(passages=np.repeat(keys, 20))
    assert m.covered([65.0], [179.9], [10_000.0])[0]


def test_counts_halve_every_half_life() -> None:
    cfg = CoverageConfig(half_life_s=1000.0, decay_every_s=100.0)
    m = CoverageModel(cfg)
    k = m.keys([46.9], [7.4], [11_000.0])
    m.add(passages=np.repeat(k, 40), now=0.0)
    m.add(now=50.0)                                 # before decay_every_s: unchanged
    assert m.counts(k)[0, 0] == 40.0
    m.add(now=1000.0)                               # one half-life: 20, still good
    assert m.counts(k)[0, 0] == pytest.approx(20.0)
    assert m.good(k)[0]
    m.decay(2000.0)                                 # two: 10, no longer trusted
    assert m.counts(k)[0, 0] == pytest.approx(10.0) and not m.good(k)[0]
    m.decay(2000.0 + 1000.0 * 11)                   # 10 / 2**11 < 0.01: forgotten
    assert m.cells == 0


def test_the_default_half_life_is_a_week_of_feed_time() -> None:
    """The documented defaults: counts halve every 7 days (604,800 s), applied hourly.
    40 passages are 40 x 2**(-1/7) = 36.23 a day later (a cell stays trusted over a
    quiet night) and 20 after a week."""
    m = CoverageModel()
    k = m.keys([46.9], [7.4], [11_000.0])
    m.add(passages=np.repeat(k, 40), now=0.0)
    m.add(now=3_599.0)                              # within the hour: not applied
    assert m.counts(k)[0, 0] == 40.0
    m.decay(86_400.0)
    assert m.counts(k)[0, 0] == pytest.approx(36.23, abs=0.01)
    assert m.good(k)[0]
    m.decay(7 * 86_400.0)
    assert m.counts(k)[0, 0] == pytest.approx(20.0)


def test_memory_is_bounded_by_keeping_the_busiest_cells() -> None:
    m = CoverageModel(CoverageConfig(max_cells=3))
    keys = m.keys(np.full(5, 46.9), 7.4 + 0.25 * np.arange(5), np.full(5, 11_000.0))
    m.add(passages=np.repeat(keys, [5, 1, 4, 2, 3]))
    assert m.cells == 3
    assert m.counts(keys)[:, 0].tolist() == [5.0, 0.0, 4.0, 0.0, 3.0]


def test_save_and_load(tmp_path: Path) -> None:
    m = CoverageModel()
    keys = neighbourhood(m, 46.9, 7.4, 11_000.0)
    m.add(passages=np.repeat(keys, 25), starts=keys[:2], ends=keys[3:4], now=1e9)
    path = tmp_path / "coverage.npz"
    m.save(path)
    back = CoverageModel.load(path)
    assert back.cells == m.cells
    assert back.counts(keys).tolist() == m.counts(keys).tolist()
    assert back.covered([46.9], [7.4], [11_000.0]).tolist() == [True]


def test_load_refuses_other_grids_and_damaged_files(tmp_path: Path) -> None:
    path = tmp_path / "coverage.npz"
    CoverageModel().save(path)
    with pytest.raises(DataError, match=r"coverage\.npz: coverage grid of 0\.25 deg"):
        CoverageModel.load(path, CoverageConfig(cell_deg=0.5))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(DataError, match=r"junk\.npz: not a skyfence coverage file"):
        CoverageModel.load(junk)
    bad = tmp_path / "bad.npz"
    np.savez(bad, format=np.int64(1), keys=np.array([5, 3]), counts=np.ones((2, 3)),
             decayed_at=np.float64(0.0), cell_deg=np.float64(0.25),
             band_edges_m=np.array([1000.0, 3000.0, 6000.0, 9000.0]))
    with pytest.raises(DataError, match=r"bad\.npz: coverage file is damaged"):
        CoverageModel.load(bad)


@pytest.mark.parametrize("kwargs", [
    {"cell_deg": 0.0}, {"band_edges_m": (3000.0, 1000.0)}, {"min_passages": -1.0},
    {"max_edge_fraction": -0.1}, {"half_life_s": 0.0}, {"max_cells": 0},
])
def test_bad_configuration_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="coverage: "):
        CoverageConfig(**kwargs)  # type: ignore[arg-type]
