"""What the watcher knows of each live track, from every fix, inside a zone or not.

An entry record describes the fixes inside the zone. The first alert of an entry is
raised on the batch that crosses the boundary, and the identity of the aircraft often
arrived before that, on fixes outside (a callsign 13 s before the crossing, a squawk,
a speed). :class:`TrackMemory` keeps, per track, the latest non-empty callsign, the
latest squawk and the latest ground speed, so that the ``entry`` alert can say who
entered even when the inside fixes have not said it yet.

Work per batch is columnar: the rows are ordered by time once, and each column's
latest valid value per track is found with one factorize and one integer ``unique``;
Python touches one dictionary item per track of the batch, never one per fix.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

__all__ = ["TrackMemory"]


def _latest(keys: np.ndarray, values: np.ndarray, valid: np.ndarray, order: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """(tracks, value) of the latest valid value of each track, ``order`` being the rows
    in time order.

    Examples
    --------
    >>> k = np.array(["a", "b", "a"], dtype=object)
    >>> v = np.array([1.0, 2.0, np.nan])
    >>> _latest(k, v, ~np.isnan(v), np.arange(3))
    (array(['b', 'a'], dtype=object), array([2., 1.]))
    """
    rows = order[valid[order]][::-1]  # valid rows, latest first
    codes, uniques = pd.factorize(keys[rows])
    _, first = np.unique(codes, return_index=True)  # first seen = latest
    return np.asarray(uniques, dtype=object), values[rows[first]]


def _text_valid(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stripped values, mask of the non-empty strings) of an object column."""
    s = pd.Series(values, dtype=object)
    try:
        stripped = s.str.strip()  # non-strings become NaN
    except AttributeError:  # no string at all
        return values, np.zeros(len(values), bool)
    valid = stripped.notna().to_numpy() & stripped.ne("").to_numpy()
    return stripped.to_numpy(dtype=object), valid


class TrackMemory:
    """Latest callsign, squawk and ground speed of each track seen recently.

    Parameters
    ----------
    forget_after_s
        A track silent for longer than this (in data time) is forgotten at the next
        pruning, which runs at most once per ``forget_after_s``: memory stays bounded
        by the tracks of the last two such periods.

    Examples
    --------
    >>> from skyfence.model import make_observations
    >>> mem = TrackMemory()
    >>> mem.update(make_observations(time=[0.0, 5.0], icao24=["abc123"] * 2,
    ...                              lat=[0.0, 0.0], lon=[0.0, 0.1],
    ...                              callsign=["SAS123 ", None], velocity=[230.0, np.nan]))
    >>> mem.callsign("abc123"), mem.speed_ms("abc123"), mem.squawk("abc123")
    ('SAS123', 230.0, None)
    """

    def __init__(self, forget_after_s: float = 300.0) -> None:
        self.forget_after_s = forget_after_s
        self._seen: dict[Hashable, float] = {}
        self._callsign: dict[Hashable, str] = {}
        self._squawk: dict[Hashable, str] = {}
        self._speed_ms: dict[Hashable, float] = {}
        self._last_prune = -np.inf

    def __len__(self) -> int:
        return len(self._seen)

    def update(self, batch: pd.DataFrame) -> None:
        """Take the latest values of every track of ``batch`` (any row order)."""
        if len(batch) == 0:
            return
        t = batch["time"].to_numpy(np.float64)
        keys = batch["icao24"].to_numpy(dtype=object)
        order = np.argsort(t, kind="stable")
        tracks, last_t = _latest(keys, t, np.ones(len(t), bool), order)
        self._seen.update(zip(tracks.tolist(), last_t.tolist(), strict=True))
        for name, store in (("callsign", self._callsign), ("squawk", self._squawk)):
            if name in batch:
                values, valid = _text_valid(batch[name].to_numpy(dtype=object))
                if valid.any():
                    tr, v = _latest(keys, values, valid, order)
                    store.update(zip(tr.tolist(), v.tolist(), strict=True))
        if "velocity" in batch:
            v = batch["velocity"].to_numpy(np.float64)
            valid = np.isfinite(v) & (v >= 0)
            if valid.any():
                tr, sp = _latest(keys, v, valid, order)
                self._speed_ms.update(zip(tr.tolist(), sp.tolist(), strict=True))
        self._prune(float(t.max()))

    def callsign(self, track: Hashable) -> str | None:
        """The latest non-empty callsign of ``track``, or None."""
        return self._callsign.get(track)

    def squawk(self, track: Hashable) -> str | None:
        """The latest squawk of ``track``, or None."""
        return self._squawk.get(track)

    def speed_ms(self, track: Hashable) -> float | None:
        """The latest ground speed of ``track`` (m/s), or None."""
        return self._speed_ms.get(track)

    def _prune(self, now: float) -> None:
        """Forget tracks silent for ``forget_after_s`` (checked at most that often)."""
        if now - self._last_prune < self.forget_after_s:
            return
        self._last_prune = now
        cutoff = now - self.forget_after_s
        for k in [k for k, seen in self._seen.items() if seen < cutoff]:
            del self._seen[k]
            self._callsign.pop(k, None)
            self._squawk.pop(k, None)
            self._speed_ms.pop(k, None)
