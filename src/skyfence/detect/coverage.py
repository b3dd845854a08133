"""Where the receivers see transponder traffic, learned from the traffic itself.

A transponder track that falls silent is only suspicious where the receivers normally
keep hearing aircraft. Where they stop hearing them (the edge of their coverage, an
airport below the radio horizon) every aircraft falls silent, and a warning for each
is noise an operator learns to ignore. :class:`CoverageModel` learns which is which
from the tracks it is shown, without any receiver list or terrain model.

How it works: the globe is cut into ``cell_deg`` cells (0.25 degree: about 28 km
north-south) times altitude bands (below 1,000 m, 1-3, 3-6, 6-9 km, above 9 km, and
one band for tracks without altitude). Per cell and band the model counts

- *passages*: a track's fix in this cell and band when its previous fix was in
  another one (or it just appeared), i.e. how many tracks came through;
- *starts*: tracks that appeared here (first fix, or first after a silence; not those
  already flying when the watch starts or the feed comes back);
- *ends*: tracks last heard here before a silence.

A cell is **good** when at least ``min_passages`` (20) tracks came through it and at
most ``max_edge_fraction`` (a fifth) of them began or ended there: tracks go on to
neighbouring cells instead of appearing and vanishing (an airfield, where tracks begin
and end, is an edge of the low bands). A position is **in good coverage** when its own
cell is good and the 8 cells around it in the same band are too (with
``min_neighbour_passages``, 5, as their evidence), so the ring of cells next to an edge
(where a track at 250 m/s vanishes within a minute or two) is not. A cell never seen,
or seen by too few tracks, is not good: a cold model (a new watch, a new area) says
nothing is covered and warns of nothing until the evidence is there.

Counts decay with a half-life of ``half_life_s`` of feed time (7 days), applied every
``decay_every_s``, so the model follows receivers that come and go; cells whose
counts have decayed to nothing are dropped, and at most ``max_cells`` cells are kept
(the busiest): 32 bytes a cell, 16 MB at the default cap. Everything is columnar:
sorted int64 cell keys and a count table, updated with one sort and ``np.add.at``
per batch, looked up with ``np.searchsorted``. Columns wrap round the ±180 meridian
(a cell's neighbours are found across it). :meth:`save` and :meth:`load` keep a
model between watches, so a restart begins warm.

How the went-dark warning uses it (:class:`~skyfence.detect.early_warning.EarlyWarning`):
a transponder track warns only when (1) its silence is longer than ``dark_after_s``
(60 s) and than ``dark_interval_factor`` (6) times its own message interval, counted
while the feed brought other messages (no message at all for ``feed_gap_s`` is the
feed failing: nothing is judged then, and silences count from its return, the track
followed by dead reckoning to that time), (2) its last fix is in good coverage, (3)
so is the altitude it would have reached by now at its last vertical rate (an
aircraft sinking below the radio horizon or climbing out of the covered band is
not), (4) it was not descending below ``landing_alt_m`` (3,000 m: landing), and (5)
its last fix lay within ``dark_distance_m`` of a watched zone's boundary, or inside
the zone. Where a radar also sees the aircraft, the watch leaves the verdict to
fusion's radar-confirmed went dark.

How it was measured: one day of OpenSky traffic over Switzerland (1 Aug 2018, the
``traffic`` library's ``switzerland`` sample, 1,244 flights of 842 aircraft, clipped
to the country's bounding box; ``scripts/make_swiss_day.py`` writes it), replayed
with ``skyfence watch --replay swiss-day.csv.gz --speed 0 --zone CHE --watch-state RUS
--format jsonl``: 463 ``went_dark`` warnings before this model (372 per 1,000
flights; nearly every airliner leaving the box near the border), none with it (0 per
1,000 flights), starting cold, and none with a model that had already seen that day.
With 30 flights cut at random fixes inside CHE after 11:00 (transponders switched
off by hand), 27 warned; the 3 others were cut 12-21 km from the box's
edge, where every flight falls silent. ``tests/detect/test_went_dark.py`` holds one
synthetic case per rule, ``tests/detect/test_went_dark_swiss_day.py`` the Swiss day.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from skyfence.airspace.antimeridian import wrap_lon
from skyfence.errors import ConfigError, DataError

__all__ = ["CoverageConfig", "CoverageModel"]

log = logging.getLogger(__name__)

#: the three counts kept per cell and band, in the count table's column order
PASSAGES, STARTS, ENDS = 0, 1, 2
#: counts below this (after decay) are dropped with their cell
_FORGOTTEN = 0.01
_FORMAT = 1

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class CoverageConfig:
    """Grid, evidence and memory of a :class:`CoverageModel` (named defaults)."""

    #: cell size, degrees of latitude and of longitude
    cell_deg: float = 0.25
    #: upper limits of the altitude bands below the top one, metres
    band_edges_m: tuple[float, ...] = (1_000.0, 3_000.0, 6_000.0, 9_000.0)
    #: tracks that must have come through a cell (decayed count) before it is trusted
    min_passages: float = 20.0
    #: ... and through each of its 8 neighbours (they only need to show no edge)
    min_neighbour_passages: float = 5.0
    #: largest share of those tracks that may have begun or ended in a good cell
    max_edge_fraction: float = 0.2
    #: counts halve every this many feed seconds
    half_life_s: float = 7 * 86_400.0
    #: how often (feed seconds) the decay is applied
    decay_every_s: float = 3_600.0
    #: most cells kept; beyond it the least used are forgotten
    max_cells: int = 500_000

    def __post_init__(self) -> None:
        if not 0.0 < self.cell_deg <= 10.0:
            raise ConfigError(f"coverage: cell_deg must be in (0, 10], not {self.cell_deg}")
        edges = np.asarray(self.band_edges_m, dtype=np.float64)
        if edges.size and (not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0)):
            raise ConfigError("coverage: band_edges_m must be finite and increasing")
        if min(self.min_passages, self.min_neighbour_passages, self.max_edge_fraction) < 0:
            raise ConfigError("coverage: min_passages, min_neighbour_passages and "
                              "max_edge_fraction must be >= 0")
        if self.half_life_s <= 0 or self.decay_every_s <= 0 or self.max_cells < 1:
            raise ConfigError("coverage: half_life_s, decay_every_s and max_cells must be > 0")

    @property
    def bands(self) -> int:
        """Altitude bands, the band of tracks without altitude included."""
        return len(self.band_edges_m) + 2


class CoverageModel:
    """Passages, starts and ends of transponder tracks per cell and altitude band.

    Examples
    --------
    A cell that 30 tracks crossed is good; its neighbours, never seen, are not, so
    the cell is not yet *covered* (it lies at the edge of what the model knows):

    >>> m = CoverageModel(CoverageConfig(min_passages=20))
    >>> k = m.keys([46.9], [7.4], [11_000.0])
    >>> m.add(passages=np.repeat(k, 30))
    >>> m.good(k).tolist(), m.covered([46.9], [7.4], [11_000.0]).tolist()
    ([True], [False])
    """

    def __init__(self, config: CoverageConfig | None = None) -> None:
        self.config = config or CoverageConfig()
        c = self.config
        self._rows = int(np.ceil(180.0 / c.cell_deg))
        self._cols = int(np.ceil(360.0 / c.cell_deg))
        self._edges = np.asarray(c.band_edges_m, dtype=np.float64)
        self._keys: IntArray = np.empty(0, np.int64)
        self._counts = np.empty((0, 3), np.float64)
        self._decayed_at = -np.inf

    # ------------------------------------------------------------------ cells
    @property
    def cells(self) -> int:
        """How many (cell, band) entries the model holds."""
        return len(self._keys)

    def band(self, altitude_m: npt.ArrayLike) -> IntArray:
        """Altitude band of each altitude (the last band for NaN)."""
        alt = np.asarray(altitude_m, dtype=np.float64)
        b = np.searchsorted(self._edges, alt, side="right").astype(np.int64)
        return np.where(np.isnan(alt), self.config.bands - 1, b)

    def keys(self, lat: npt.ArrayLike, lon: npt.ArrayLike, altitude_m: npt.ArrayLike,
             *, d_row: int = 0, d_col: int = 0) -> IntArray:
        """Cell-and-band key of each position (-1 where lat or lon is unusable).

        ``d_row``, ``d_col`` shift to a neighbouring cell (columns wrap round ±180,
        rows stop at the poles).
        """
        la = np.asarray(lat, dtype=np.float64)
        lo = wrap_lon(np.asarray(lon, dtype=np.float64))
        ok = np.isfinite(la) & np.isfinite(lo) & (np.abs(la) <= 90.0)
        cd = self.config.cell_deg
        with np.errstate(invalid="ignore"):
            row = np.floor((np.where(ok, la, 0.0) + 90.0) / cd).astype(np.int64)
            col = np.floor((np.where(ok, lo, 0.0) + 180.0) / cd).astype(np.int64)
        row = np.clip(row + d_row, 0, self._rows - 1)
        col = np.mod(np.clip(col, 0, self._cols - 1) + d_col, self._cols)
        key = (self.band(altitude_m) * self._rows + row) * self._cols + col
        return np.where(ok, key, -1)

    # ------------------------------------------------------------------ learning
    def add(self, *, passages: npt.ArrayLike = (), starts: npt.ArrayLike = (),
            ends: npt.ArrayLike = (), now: float | None = None) -> None:
        """Count passages, starts and ends at the given keys (-1 keys are ignored).

        ``now`` (feed time) applies the decay when ``decay_every_s`` has passed.
        """
        if now is not None:
            self.decay(now)
        parts = [np.asarray(a, dtype=np.int64) for a in (passages, starts, ends)]
        kind = np.concatenate([np.full(len(p), i, np.int64) for i, p in enumerate(parts)])
        key = np.concatenate(parts)
        use = key >= 0
        key, kind = key[use], kind[use]
        if len(key) == 0:
            return
        uniq = _sorted_unique(key)
        missing = uniq[~_member(self._keys, uniq)]
        if len(missing):
            merged = np.concatenate([self._keys, missing])
            order = np.argsort(merged, kind="stable")
            counts = np.concatenate([self._counts, np.zeros((len(missing), 3))])
            self._keys, self._counts = merged[order], counts[order]
        np.add.at(self._counts, (np.searchsorted(self._keys, key), kind), 1.0)
        if len(self._keys) > self.config.max_cells:
            self._keep(np.argpartition(-self._counts.sum(axis=1),
                                       self.config.max_cells - 1)[:self.config.max_cells])

    def decay(self, now: float) -> None:
        """Halve the counts every ``half_life_s`` of feed time (applied in steps)."""
        c = self.config
        if not np.isfinite(self._decayed_at):
            self._decayed_at = now
            return
        elapsed = now - self._decayed_at
        if elapsed < c.decay_every_s:
            return
        self._decayed_at = now
        self._counts *= 0.5 ** (elapsed / c.half_life_s)
        self._keep(np.flatnonzero(self._counts.max(axis=1) >= _FORGOTTEN))

    def _keep(self, rows: np.ndarray) -> None:
        rows = np.sort(rows)
        self._keys, self._counts = self._keys[rows], self._counts[rows]

    # ------------------------------------------------------------------ questions
    def counts(self, keys: npt.ArrayLike) -> np.ndarray:
        """(n, 3) passages, starts and ends at ``keys`` (zeros where never seen)."""
        k = np.asarray(keys, dtype=np.int64)
        out = np.zeros((len(k), 3))
        if len(self._keys) == 0 or len(k) == 0:
            return out
        at = np.clip(np.searchsorted(self._keys, k), 0, len(self._keys) - 1)
        hit = (self._keys[at] == k) & (k >= 0)
        out[hit] = self._counts[at[hit]]
        return out

    def good(self, keys: npt.ArrayLike, min_passages: float | None = None) -> BoolArray:
        """Cells (with band) that at least ``min_passages`` tracks came through (default:
        the configured one) and at most ``max_edge_fraction`` of them began or ended in."""
        n = self.counts(keys)
        c = self.config
        least = c.min_passages if min_passages is None else min_passages
        edge = n[:, STARTS] + n[:, ENDS]
        return np.asarray((n[:, PASSAGES] >= max(least, 1e-9))
                          & (edge <= c.max_edge_fraction * n[:, PASSAGES]))

    def covered(self, lat: npt.ArrayLike, lon: npt.ArrayLike,
                altitude_m: npt.ArrayLike) -> BoolArray:
        """Positions whose cell is good and whose 8 neighbours (same band) are good with
        ``min_neighbour_passages``: inside the coverage, not at its edge."""
        la = np.asarray(lat, dtype=np.float64)
        ok = self.good(self.keys(la, lon, altitude_m))
        for d_row in (-1, 0, 1):
            for d_col in (-1, 0, 1):
                if d_row or d_col:
                    ok &= self.good(self.keys(la, lon, altitude_m, d_row=d_row, d_col=d_col),
                                    self.config.min_neighbour_passages)
        return ok

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` (NumPy ``.npz``), atomically."""
        p = Path(path)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=p.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(
                    f, format=np.int64(_FORMAT), keys=self._keys, counts=self._counts,
                    decayed_at=np.float64(self._decayed_at),
                    cell_deg=np.float64(self.config.cell_deg),
                    band_edges_m=self._edges)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str],
             config: CoverageConfig | None = None) -> CoverageModel:
        """A model saved by :meth:`save`; its grid must be the one ``config`` asks for."""
        model = cls(config)
        try:
            with np.load(path, allow_pickle=False) as z:
                fmt = int(z["format"])
                keys = np.asarray(z["keys"], dtype=np.int64)
                counts = np.asarray(z["counts"], dtype=np.float64)
                decayed_at = float(z["decayed_at"])
                cell_deg = float(z["cell_deg"])
                edges = np.asarray(z["band_edges_m"], dtype=np.float64)
        except (OSError, ValueError, KeyError, EOFError) as e:
            raise DataError(f"{path}: not a skyfence coverage file ({e})") from None
        if fmt != _FORMAT:
            raise DataError(f"{path}: coverage file format {fmt}, this skyfence reads {_FORMAT}")
        if cell_deg != model.config.cell_deg or not _same(edges, model._edges):
            raise DataError(f"{path}: coverage grid of {cell_deg} deg cells and bands "
                            f"{edges.tolist()} m; this watch uses {model.config.cell_deg} deg "
                            f"and {model._edges.tolist()} m")
        size = model._rows * model._cols * model.config.bands
        if (counts.shape != (len(keys), 3) or np.any(np.diff(keys) <= 0)
                or (len(keys) and (keys[0] < 0 or keys[-1] >= size))
                or not np.all(np.isfinite(counts)) or np.any(counts < 0)):
            raise DataError(f"{path}: coverage file is damaged (keys or counts out of range)")
        model._keys, model._counts, model._decayed_at = keys, counts, decayed_at
        log.info("coverage model %s: %d cells", path, len(keys))
        return model


def _sorted_unique(a: IntArray) -> IntArray:
    """``np.unique`` by sort and diff (numpy 2's hash path is slow on int64)."""
    s = np.sort(a)
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if len(s) else s


def _member(sorted_keys: IntArray, k: IntArray) -> BoolArray:
    if len(sorted_keys) == 0:
        return np.zeros(len(k), dtype=bool)
    at = np.clip(np.searchsorted(sorted_keys, k), 0, len(sorted_keys) - 1)
    return np.asarray(sorted_keys[at] == k)


def _same(a: Sequence[float] | np.ndarray, b: np.ndarray) -> bool:
    x = np.asarray(a, dtype=np.float64)
    return x.shape == b.shape and bool(np.all(x == b))
