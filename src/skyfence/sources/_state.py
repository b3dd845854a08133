"""Per-aircraft last-known state carried between messages and batches.

SBS and Mode S spread one aircraft's state over separate messages (position,
velocity, identity, squawk). :class:`LastKnown` fills every position message with
the latest values seen before it for the same aircraft, in arrival order. The fill
is a grouped forward fill done with numpy (stable sort by aircraft, running maximum
of valid indices); state lives in fixed slots of numpy arrays, so a batch costs a
few array operations plus one dictionary look-up per aircraft, not per message.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from skyfence.model import OBSERVATION_COLUMNS, empty_observations
from skyfence.sources.ranges import outside

#: Numeric state columns (``onground`` as 1.0 / 0.0, NaN = unknown) and text ones.
NUMERIC_STATE = ("altitude", "velocity", "heading", "vertrate", "onground")
TEXT_STATE = ("callsign", "squawk")
STATE_COLUMNS: tuple[str, ...] = NUMERIC_STATE + TEXT_STATE

#: A message table: column name -> array, all of one length, in arrival order.
#: ``time``, ``lat``, ``lon`` and the numeric state float64 (NaN = absent);
#: ``icao24`` and the text state object arrays (None = absent).
Messages = dict[str, npt.NDArray[Any]]


def empty_messages() -> Messages:
    """A message table with no rows."""
    out: Messages = {c: np.empty(0, dtype="float64") for c in ("time", "lat", "lon")}
    out["icao24"] = np.empty(0, dtype=object)
    for c in NUMERIC_STATE:
        out[c] = np.empty(0, dtype="float64")
    for c in TEXT_STATE:
        out[c] = np.empty(0, dtype=object)
    return out


def _grouped_ffill_index(
    codes_sorted: npt.NDArray[np.intp], valid_sorted: npt.NDArray[np.bool_]
) -> npt.NDArray[np.intp]:
    """For each position of a group-sorted array, the index of the last valid value.

    Group starts count as valid so that nothing leaks from one group to the next.
    """
    n = len(codes_sorted)
    starts = np.ones(n, dtype=bool)
    starts[1:] = codes_sorted[1:] != codes_sorted[:-1]
    idx = np.where(valid_sorted | starts, np.arange(n), 0)
    return np.maximum.accumulate(idx)


class LastKnown:
    """Last known altitude, speed, heading, callsign, squawk... of each aircraft.

    Parameters
    ----------
    ttl_s
        An aircraft silent for longer than this (in message time) is forgotten.
    max_aircraft
        Hard bound on remembered aircraft; the longest silent are dropped first.
    """

    def __init__(self, *, ttl_s: float = 300.0, max_aircraft: int = 50_000) -> None:
        self.ttl_s = ttl_s
        self.max_aircraft = max_aircraft
        self._slot: dict[str, int] = {}
        self._free: list[int] = []
        cap = 1024
        self._num = np.full((cap, len(NUMERIC_STATE)), np.nan)
        self._text = np.full((cap, len(TEXT_STATE)), None, dtype=object)
        self._seen = np.full(cap, -np.inf)
        self._next_sweep = -np.inf
        #: messages dropped for a value outside its plausible range, not yet reported
        self.implausible = 0

    def __len__(self) -> int:
        return len(self._slot)

    def apply(self, messages: Messages) -> pd.DataFrame:
        """Turn a message table into observations, one per message with a position.

        State is updated from every message, including those without a position. A
        message with a value outside its plausible range (:mod:`skyfence.sources.ranges`,
        e.g. an infinite altitude) is dropped whole and counted in :attr:`implausible`.
        """
        messages = self._plausible(messages)
        icao = messages["icao24"]
        n = len(icao)
        if n == 0:
            return empty_observations()
        codes, uniques = pd.factorize(icao)
        slots = self._slots(uniques)
        u = len(uniques)
        # prior state rows first (one per aircraft), then the messages
        all_codes = np.concatenate([np.arange(u), codes])
        order = np.argsort(all_codes, kind="stable")
        codes_sorted = all_codes[order]
        last_of_group = np.flatnonzero(np.r_[codes_sorted[1:] != codes_sorted[:-1], True])
        back = np.empty(u + n, dtype=np.intp)
        back[order] = np.arange(u + n)
        at_messages = back[u:]

        filled: dict[str, npt.NDArray[Any]] = {}
        for j, c in enumerate(NUMERIC_STATE):
            vals = np.concatenate([self._num[slots, j], messages[c]])[order]
            vals = vals[_grouped_ffill_index(codes_sorted, ~np.isnan(vals))]
            self._num[slots, j] = vals[last_of_group]
            filled[c] = vals[at_messages]
        for j, c in enumerate(TEXT_STATE):
            vals = np.concatenate([self._text[slots, j], messages[c]])[order]
            vals = vals[_grouped_ffill_index(codes_sorted, pd.notna(vals))]
            self._text[slots, j] = vals[last_of_group]
            filled[c] = vals[at_messages]

        times = messages["time"]
        seen = np.full(u, -np.inf)
        np.maximum.at(seen, codes, times)
        self._seen[slots] = np.maximum(self._seen[slots], seen)
        self._sweep(float(np.nanmax(times)))

        has_pos = ~(np.isnan(messages["lat"]) | np.isnan(messages["lon"]))
        data: dict[str, Any] = {
            "time": times[has_pos],
            "icao24": icao[has_pos],
            "lat": messages["lat"][has_pos],
            "lon": messages["lon"][has_pos],
        }
        for c in ("altitude", "velocity", "heading", "vertrate"):
            data[c] = filled[c][has_pos]
        data["callsign"] = filled["callsign"][has_pos]
        data["squawk"] = filled["squawk"][has_pos]
        data["onground"] = np.nan_to_num(filled["onground"][has_pos], nan=0.0).astype(bool)
        # the columns are fresh arrays of this call: no copy of them is needed
        return pd.DataFrame({c: data[c] for c in OBSERVATION_COLUMNS}, copy=False)

    def pop_implausible(self) -> int:
        """Messages dropped as implausible since the last call (for the parser's stats)."""
        n, self.implausible = self.implausible, 0
        return n

    def _plausible(self, messages: Messages) -> Messages:
        bad = np.zeros(len(messages["icao24"]), dtype=bool)
        for c in ("time", "lat", "lon", "altitude", "velocity", "heading", "vertrate"):
            bad |= outside(c, messages[c])
        if not bad.any():
            return messages
        self.implausible += int(bad.sum())
        return {c: v[~bad] for c, v in messages.items()}

    def _slots(self, uniques: Any) -> npt.NDArray[np.intp]:
        """Slot of each aircraft, allocating (and growing the arrays) for new ones."""
        slot = self._slot
        out = np.empty(len(uniques), dtype=np.intp)
        for i, ic in enumerate(uniques):
            s = slot.get(ic)
            if s is None:
                s = self._allocate()
                slot[ic] = s
            out[i] = s
        return out

    def _allocate(self) -> int:
        if self._free:
            return self._free.pop()
        s = len(self._slot)
        cap = len(self._seen)
        if s >= cap:
            self._num = np.vstack([self._num, np.full_like(self._num, np.nan)])
            self._text = np.vstack([self._text, np.full((cap, len(TEXT_STATE)), None, object)])
            self._seen = np.concatenate([self._seen, np.full(cap, -np.inf)])
        return s

    def _sweep(self, now: float) -> None:
        """Forget aircraft silent for more than ``ttl_s``; keep at most ``max_aircraft``."""
        over = len(self._slot) - self.max_aircraft
        if now < self._next_sweep and over <= 0:
            return
        self._next_sweep = now + max(self.ttl_s / 10.0, 1.0)
        horizon = now - self.ttl_s
        stale = [ic for ic, s in self._slot.items() if self._seen[s] < horizon]
        if over > len(stale):
            alive = sorted(
                (ic for ic in self._slot if ic not in set(stale)),
                key=lambda ic: self._seen[self._slot[ic]],
            )
            stale += alive[: over - len(stale)]
        for ic in stale:
            s = self._slot.pop(ic)
            self._num[s] = np.nan
            self._text[s] = None
            self._seen[s] = -np.inf
            self._free.append(s)
