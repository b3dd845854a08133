"""Radar tracks against transponder tracks, as the data arrive: who is who, who went dark.

A primary radar sees every aircraft; a transponder (ADS-B, Mode S) says which one it
is. A radar track that follows a transponder track is that aircraft: its fixes are not
screened a second time as a non-cooperative target. A radar track that goes on after
its transponder track stopped is an aircraft that **went dark**: it is screened as
non-cooperative and its record carries the ICAO address and callsign last heard and
the time the transponder fell silent. A radar track that matches nothing is
non-cooperative.

The rule (distances are chords between positions on a sphere, so nothing breaks at
±180 or near a pole): for a radar fix at time ``t`` and a transponder track ``X`` that
has messages within ``margin_s`` of ``t``, ``X``'s position is interpolated at the
times of the radar track's fixes in ``[t - window_s, t + hold]`` that lie within
``X``'s span (± ``margin_s``); the mean distance over those common fixes (the
track's first fix, the raw plot it was started from, left out) below ``gate_m`` with
at least ``min_common`` of them makes the fix ``X``'s. The fix itself must have a
common time: fixes after the transponder's last message (plus the margin) cannot match
it, which is how a transponder switched off shows.

Decisions are causal and do not depend on how the data are cut into batches (a replay
and a scan of the same files agree): a fix is decided

- at once (data up to ``t``) when its track already has ``min_common`` fixes in the
  window and it matches, or nothing it or those fixes followed is near;
- else ``hold_s`` later (data up to ``t + hold_s``) when it matches, or when no transponder
  track is within reach of it or of its track's recent fixes, or every candidate has
  enough common fixes and lies beyond twice the gate,
- else ``hold_max_s`` later, with whatever common fixes there are then (a young
  track's first filtered fixes can be off by more than the gate; a transponder may be
  in a gap between messages).

A track's fixes leave in time order. The price of the rule is the hold on young tracks
and near transponder traffic: the first fixes of a new track wait ``hold_s``, because a
transponder track near it may be just starting (an aircraft coming into the receivers'
coverage, the start of a recording) and its first messages arrive in the seconds after
the radar fix; a fix close to transponder traffic waits up to ``hold_max_s``. A target flying
within ``gate_m`` of an airliner for a whole window would be taken for it: the rule
cannot see that case (neither can a controller's screen without other sensors).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from skyfence.identify.icao_blocks import parse_icao24
from skyfence.keyed_search import searchsorted_pairs

log = logging.getLogger(__name__)

#: mean Earth radius for chord distances (m): at a few km chords equal arcs to 1e-7
_R_M = 6_371_008.8


@dataclass(frozen=True)
class FusionConfig:
    """Gates and holds of the radar-to-transponder correlation."""

    #: mean distance below which a radar fix is the transponder aircraft (m)
    gate_m: float = 1500.0
    #: how far back the mean distance looks (s)
    window_s: float = 60.0
    #: fewest common fixes for a decision
    min_common: int = 2
    #: how far beyond a transponder track's first and last message it may speak (s)
    margin_s: float = 10.0
    #: how long a fix near transponder traffic waits for more evidence (s)
    hold_s: float = 8.0
    #: the longest a fix waits (s)
    hold_max_s: float = 30.0
    #: fastest aircraft assumed when deciding that no transponder track is near (m/s)
    max_speed_ms: float = 400.0
    #: a radar fix whose own Mode S reply names an aircraft farther than this from where
    #: that aircraft's ADS-B puts it contradicts the ADS-B position (m)
    contradict_m: float = 5000.0
    #: the longest a radar feed may lag the transponder feed and still find the messages
    #: its fixes need (s); a radar silent for longer does not keep every message
    max_lag_s: float = 600.0


class Identity(TypedDict):
    """What fusion knows of a radar track that matched a transponder track once."""

    #: ICAO address (lower-case hex) of the transponder track it matched last
    icao24: str
    #: that transponder's last callsign, or None
    callsign: str | None
    #: unix seconds of that transponder's last message, when it then went silent while
    #: the radar track went on; None while it still transmits
    went_dark_at: float | None
    #: the address came from the radar's own Mode S interrogation of the target (a
    #: transponder that replies, so a cooperative aircraft), not from a matched track
    mode_s: bool


def _forgotten_last(heard: float, t: float, matched: float) -> float:
    """When a transponder fell silent whose messages before ``t`` are all forgotten:
    the last time it was ever heard (``heard``) when that is at or before ``t``; else
    (it spoke again after ``t``, the silence began at a message forgotten) the time of
    the last radar fix matched to it, ``matched``."""
    return heard if heard <= t else matched


def _room_for(last_t: np.ndarray, code: int) -> np.ndarray:
    """``last_t`` (latest time per code, -inf: none yet) with a slot for ``code``: grown
    by half its size at a time, not by one (a watch meets aircraft by the hundred
    thousand; copying the table per new one made that quadratic).

    >>> t = _room_for(np.empty(0), 0)
    >>> len(t) >= 1 and bool(np.all(t == -np.inf))
    True
    """
    if code < len(last_t):
        return last_t
    return np.concatenate([last_t, np.full(max(code + 1 - len(last_t), len(last_t) // 2, 64),
                                           -np.inf)])


def _chord_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Positions on a sphere of the Earth's mean radius (m), (n, 3)."""
    phi, lam = np.radians(lat), np.radians(lon)
    c = np.cos(phi)
    return np.column_stack([c * np.cos(lam), c * np.sin(lam), np.sin(phi)]) * _R_M


class _Transponders:
    """Recent transponder messages per ICAO address, sorted by (address, time)."""

    def __init__(self) -> None:
        self.code_of: dict[str, int] = {}
        self.names: list[str] = []
        self.t = np.empty(0)
        self.code = np.empty(0, np.int64)
        self.xyz = np.empty((0, 3))
        #: per code: last message time and last callsign (whole history, never pruned)
        self.last_t = np.empty(0)
        self.last_callsign: list[str | None] = []

    def add(self, obs: pd.DataFrame) -> None:
        if len(obs) == 0:
            return
        ids = obs["icao24"].to_numpy(object)
        codes = np.fromiter((self._code(str(i)) for i in ids), np.int64, len(ids))
        t = obs["time"].to_numpy(np.float64)
        xyz = _chord_xyz(obs["lat"].to_numpy(np.float64), obs["lon"].to_numpy(np.float64))
        self.t = np.concatenate([self.t, t])
        self.code = np.concatenate([self.code, codes])
        self.xyz = np.vstack([self.xyz, xyz])
        order = np.lexsort((self.t, self.code))
        self.t, self.code, self.xyz = self.t[order], self.code[order], self.xyz[order]
        self._tree: cKDTree | None = None
        newer = t >= self.last_t[codes]
        np.maximum.at(self.last_t, codes, t)
        if "callsign" in obs:
            calls = obs["callsign"].to_numpy(object)
            for c, cs in zip(codes[newer].tolist(), calls[newer].tolist(), strict=True):
                if isinstance(cs, str) and cs.strip():
                    self.last_callsign[c] = cs.strip()

    def _code(self, icao: str) -> int:
        c = self.code_of.get(icao)
        if c is None:
            c = self.code_of[icao] = len(self.names)
            self.names.append(icao)
            self.last_t = _room_for(self.last_t, c)
            self.last_callsign.append(None)
        return c

    def prune(self, before: float) -> None:
        keep = self.t >= before
        if not keep.all():
            self.t, self.code, self.xyz = self.t[keep], self.code[keep], self.xyz[keep]
            self._tree = None

    def last_message(self, code: int, t: float) -> float | None:
        """Time of transponder ``code``'s last kept message at or before ``t``."""
        a, b = np.searchsorted(self.code, [code, code + 1])
        k = int(a + np.searchsorted(self.t[a:b], t, side="right")) - 1
        return float(self.t[k]) if k >= a else None

    def tree(self) -> cKDTree:
        """KD-tree over the kept messages (rebuilt only after they change)."""
        if getattr(self, "_tree", None) is None:
            self._tree = cKDTree(self.xyz)
        return self._tree

    def position(self, code: np.ndarray, t: np.ndarray, upto: np.ndarray, margin_s: float
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Interpolated positions of transponder ``code`` at times ``t`` (each no later
        than its ``upto``) from the messages up to ``upto``, and which have a common
        time (within the transponder's span ± ``margin_s``)."""
        tt, cc, xyz = self.t, self.code, self.xyz
        out = np.full((len(code), 3), np.nan)
        common = np.zeros(len(code), bool)
        if len(tt) == 0 or len(code) == 0:
            return out, common
        hi = searchsorted_pairs(cc, tt, code, t, "left")
        lo = hi - 1
        n = len(tt)
        has_lo = (lo >= 0) & (cc[np.clip(lo, 0, n - 1)] == code)
        lo_c, hi_c = np.clip(lo, 0, n - 1), np.clip(hi, 0, n - 1)
        has_hi = (hi < n) & (cc[hi_c] == code) & (tt[hi_c] <= upto)
        both = has_lo & has_hi
        span_t = tt[hi_c] - tt[lo_c]
        f = np.where(both & (span_t > 0), (t - tt[lo_c]) / np.where(span_t > 0, span_t, 1), 0.0)
        mid = xyz[lo_c] + f[:, None] * (xyz[hi_c] - xyz[lo_c])
        out[both] = mid[both]
        before = ~has_lo & has_hi & (tt[hi_c] - t <= margin_s)
        after = has_lo & ~has_hi & (t - tt[lo_c] <= margin_s)
        out[before] = xyz[hi_c][before]
        out[after] = xyz[lo_c][after]
        common = both | before | after
        return out, common


class _RadarFixes:
    """Radar track fixes awaiting a decision or kept as evidence for later ones."""

    def __init__(self) -> None:
        #: the states themselves, column by column (handed on when released)
        self.rows: dict[str, np.ndarray] = {}
        self.t = np.empty(0)
        self.track = np.empty(0, np.int64)
        self.xyz = np.empty((0, 3))
        self.first = np.empty(0, bool)
        #: 0 pending, 1 cooperative (dropped), 2 released as non-cooperative
        self.state = np.empty(0, np.int8)
        self.matched = np.empty(0, np.int64)  # transponder code of a cooperative fix
        self.left = np.empty(0, bool)  # decided and handed on (or dropped)
        self.track_of: dict[str, int] = {}
        self.track_names: list[str] = []
        self.last_t = np.empty(0)  # per track code: the latest fix time taken

    def add(self, states: pd.DataFrame) -> None:
        """Track states in; per track, a fix not newer than the track's last one (late,
        or a duplicate time) is dropped, as the detector drops it."""
        if len(states) == 0:
            return
        ids = states["icao24"].to_numpy(object)
        new_track = np.array([str(i) not in self.track_of for i in ids])
        codes = np.fromiter((self._code(str(i)) for i in ids), np.int64, len(ids))
        t = states["time"].to_numpy(np.float64)
        order = np.lexsort((t, codes))  # stable: the first of equal times wins
        last = self.last_t[codes[order]]
        same = np.zeros(len(order), bool)
        same[1:] = (codes[order][1:] == codes[order][:-1]) & (t[order][1:] == t[order][:-1])
        keep = np.sort(order[(t[order] > last) & ~same])
        if len(keep) < len(ids):
            states, ids, codes = states.iloc[keep], ids[keep], codes[keep]
            new_track = new_track[keep]
            if len(keep) == 0:
                return
        np.maximum.at(self.last_t, codes, states["time"].to_numpy(np.float64))
        first = np.zeros(len(ids), bool)
        # the first fix ever seen of a track is the plot it was started from
        seen: set[int] = set()
        for k in np.flatnonzero(new_track).tolist():
            if codes[k] not in seen:
                seen.add(int(codes[k]))
                first[k] = True
        n_old = len(self.t)
        for c in set(self.rows) | set(states.columns):
            old = self.rows.get(c)
            if old is None:
                old = np.full(n_old, None, dtype=object)
            new = (states[c].to_numpy() if c in states.columns
                   else np.full(len(states), None, dtype=object))
            self.rows[c] = np.concatenate([old, new]) if n_old else new
        self.t = np.concatenate([self.t, states["time"].to_numpy(np.float64)])
        self.track = np.concatenate([self.track, codes])
        self.xyz = np.vstack([self.xyz, _chord_xyz(states["lat"].to_numpy(np.float64),
                                                   states["lon"].to_numpy(np.float64))])
        self.first = np.concatenate([self.first, first])
        self.state = np.concatenate([self.state, np.zeros(len(ids), np.int8)])
        self.matched = np.concatenate([self.matched, np.full(len(ids), -1, np.int64)])
        self.left = np.concatenate([self.left, np.zeros(len(ids), bool)])

    def _code(self, name: str) -> int:
        c = self.track_of.get(name)
        if c is None:
            c = self.track_of[name] = len(self.track_names)
            self.track_names.append(name)
            self.last_t = _room_for(self.last_t, c)
        return c

    def prune(self, before: float) -> None:
        keep = (self.t >= before) | ~self.left
        if keep.all():
            return
        self.rows = {c: v[keep] for c, v in self.rows.items()}
        for name in ("t", "track", "xyz", "first", "state", "matched", "left"):
            setattr(self, name, getattr(self, name)[keep])


class Correlator:
    """Radar track states in, non-cooperative radar fixes out; cooperative ones dropped.

    Feed transponder observations with :meth:`add_transponder` and radar track states
    (observation columns, ``icao24`` holding the radar track id, optionally ``mode_s``
    with the Mode S address its plots carried) with :meth:`add_radar`, in time order;
    :meth:`release` returns the radar fixes decided non-cooperative so far, in time
    order per track. :attr:`identities` tells, per radar track, which transponder it
    matched last and whether it went dark.
    """

    def __init__(self, config: FusionConfig | None = None) -> None:
        self.config = config or FusionConfig()
        self._tx = _Transponders()
        self._rx = _RadarFixes()
        self._now = -np.inf
        self._radar_now = -np.inf
        self._decided = False  # fixes were decided since the last drain
        self.identities: dict[str, Identity] = {}
        #: per radar track, each identity change with the time of the fix that made it
        self.history: dict[str, list[tuple[float, Identity | None]]] = {}
        #: radar fixes dropped as a transponder aircraft, and released as not
        self.cooperative_fixes = 0
        self.released_fixes = 0
        #: (radar track, ICAO address) -> radar fixes matched to that transponder
        self.matches: dict[tuple[str, str], int] = {}
        self._matched_at: dict[str, float] = {}
        #: ICAO address -> (time, distance m) of each radar fix whose Mode S reply named
        #: it far from where its ADS-B put it at that time
        self.contradictions: dict[str, list[tuple[float, float]]] = {}

    def contradiction(self, icao24: str, start: float, end: float) -> str | None:
        """Why the ADS-B positions of ``icao24`` between ``start`` and ``end`` (unix s,
        plus the correlation window either side) are in doubt, or None."""
        found = [d for t, d in self.contradictions.get(icao24.strip().lower(), [])
                 if start - self.config.window_s <= t <= end + self.config.window_s]
        if not found:
            return None
        n = len(found)
        return (f"ADS-B position contradicted by radar: {n} radar fix{'es' if n > 1 else ''} "
                f"with its Mode S address up to {max(found) / 1000:.1f} km away")

    def add_transponder(self, obs: pd.DataFrame) -> None:
        """Transponder (ADS-B / Mode S) observations: ``icao24`` is the ICAO address."""
        if len(obs):
            self._tx.add(obs)
            self._now = max(self._now, float(obs["time"].max()))

    def add_radar(self, states: pd.DataFrame) -> None:
        """Radar track states (``icao24`` is the radar track id)."""
        if len(states):
            self._rx.add(states)
            self._now = max(self._now, float(states["time"].max()))

    def identity_at(self, track: str, t: float) -> Identity | None:
        """What fusion knew of ``track`` at time ``t`` (its last change at or before)."""
        changes = self.history.get(track)
        if not changes:
            return None
        k = int(np.searchsorted([c[0] for c in changes], t, side="right")) - 1
        return changes[k][1] if k >= 0 else None

    def _set_identity(self, track: str, t: float, ident: Identity | None) -> None:
        if ident == self.identities.get(track):
            return
        if ident is None:
            self.identities.pop(track, None)
        else:
            self.identities[track] = ident
        self.history.setdefault(track, []).append((t, None if ident is None else
                                                   Identity(**ident)))

    def advance(self, now: float, radar_now: float | None = None) -> None:
        """The stream has reached ``now`` (no data older than it will come); radar track
        states are complete up to ``radar_now`` (default: ``now``), which lags when the
        radar tracker has not yet run its latest window."""
        self._now = max(self._now, now)
        self._radar_now = max(self._radar_now, now if radar_now is None else radar_now)

    def release(self, *, final: bool = False) -> pd.DataFrame:
        """Decide what the data allow and return the non-cooperative fixes now known.

        ``final``: the end of the data; every pending fix is decided with all there is.
        """
        rx, cfg = self._rx, self.config
        pending = np.flatnonzero(rx.state == 0)
        if len(pending):
            # a rung is reached when both kinds of data have come that far
            now = np.inf if final else min(self._now, self._radar_now)
            for rung, hold in ((0, 0.0), (1, cfg.hold_s), (2, cfg.hold_max_s)):
                p = np.flatnonzero(rx.state == 0)
                ready = p[(rx.t[p] + hold <= now) | final]
                self._decide(ready, rung=rung, final=final)
        out = self._drain()
        # what the fixes still to come can need: the radar's clock, not the latest data,
        # as a lagging radar feed brings fixes (and their windows) far behind ``_now``;
        # but no more than ``max_lag_s`` behind, or a silent radar keeps every message
        radar_clock = max(min(self._now, self._radar_now), self._now - cfg.max_lag_s)
        keep_from = radar_clock - (cfg.window_s + cfg.hold_max_s + cfg.margin_s)
        self._tx.prune(keep_from)
        rx.prune(keep_from)
        return out

    # ------------------------------------------------------------------ internals
    def _decide(self, fixes: np.ndarray, *, rung: int, final: bool = False) -> None:
        """Decide ``fixes`` at rung 0 (at once: fixes of established tracks only), 1
        (``hold_s``) or 2 (``hold_max_s``) where the data up to the rung time allow it."""
        cfg, rx = self.config, self._rx
        fixes = np.sort(fixes[rx.state[fixes] == 0])
        if rung == 0 and not final:
            fixes = fixes[self._established(fixes)]
        if len(fixes) == 0:
            return
        hold = (0.0, cfg.hold_s, cfg.hold_max_s)[rung]
        # each fix sees the data up to its rung time only: the same decision whatever
        # the batches were
        upto = rx.t[fixes] + hold if not final else np.full(len(fixes), np.inf)
        f_idx, x_code = self._candidates(fixes, upto)
        slot = np.searchsorted(fixes, f_idx)
        coop = np.zeros(len(fixes), bool)
        follows = np.zeros(len(fixes), bool)  # some transponder track is followed
        best_code = np.full(len(fixes), -1, np.int64)
        if len(f_idx):
            mean, count, own = self._pair_means(f_idx, x_code, upto[slot])
            need = cfg.min_common if rung < 2 and not final else 1
            near = (mean < cfg.gate_m) & (count >= need)
            # a young track's first filtered fixes may still be off: a candidate within
            # twice the gate is worth waiting for
            np.logical_or.at(follows, slot, near | (mean < 2 * cfg.gate_m))
            m = np.where(near & own, mean, np.inf)
            order = np.lexsort((m, slot))
            first = np.concatenate([[True], slot[order][1:] != slot[order][:-1]])
            sel = order[first]
            coop[slot[sel]] = np.isfinite(m[sel])
            best_code[slot[sel]] = x_code[sel]
            if rung < 2 and not final:
                # too few common fixes with a candidate yet: wait for the next rung
                short = np.zeros(len(fixes), bool)
                np.logical_or.at(short, slot, count < cfg.min_common)
                follows |= short
        # decided: matched; or (rung 1) nothing followed; or (last rung) anything
        last = rung == 2 or final
        decided = coop | (~follows if not last else True)
        rx.state[fixes[coop]] = 1
        rx.matched[fixes[coop]] = best_code[coop]
        rx.state[fixes[decided & ~coop]] = 2
        self._decided |= bool(decided.any())

    def _established(self, fixes: np.ndarray) -> np.ndarray:
        """Which fixes have at least ``min_common`` earlier fixes of their track in the
        window (their first plot not counted) **and** a fix at least ``hold_s`` older:
        enough evidence to decide at once.

        The age matters, not only the count: with two radars a track has two fixes
        per rotation, so ``min_common`` fixes can be 4 s old, and an aircraft's first
        transponder messages may still be on their way (a recorded flight that starts
        6-8 s after the radar saw it, an aircraft coming into the receivers' coverage).
        A track seen for ``hold_s`` already has had the hold a new track's fixes wait.
        """
        rx = self._rx
        t_fix = rx.t[fixes]
        pair, g = self._window_fixes(fixes, t_fix)
        earlier = (rx.t[g] < t_fix[pair]) & ~rx.first[g]
        enough = np.bincount(pair, weights=earlier, minlength=len(fixes)) >= self.config.min_common
        old = np.zeros(len(fixes), bool)
        np.logical_or.at(old, pair, rx.t[g] <= t_fix[pair] - self.config.hold_s)
        return enough & old

    def _candidates(self, fixes: np.ndarray, upto: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(fix, transponder code) pairs where the transponder, as seen by ``upto``, had a
        message within ``margin_s`` of the fix or of a fix of the same track in the
        window before it, close enough to be that aircraft."""
        cfg, rx, tx = self.config, self._rx, self._tx
        if len(tx.t) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        pair, g = self._window_fixes(fixes, np.minimum(upto, rx.t[fixes]))
        reach = 3 * cfg.gate_m + cfg.max_speed_ms * cfg.margin_s
        ug, inv = np.unique(g, return_inverse=True)
        found = tx.tree().query_ball_point(rx.xyz[ug], reach)
        counts = np.fromiter((len(f) for f in found), np.int64, len(ug))
        if counts.sum() == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        rows = np.concatenate([np.asarray(f, np.int64) for f in found])
        ug_of = np.repeat(np.arange(len(ug)), counts)
        ok = np.abs(tx.t[rows] - rx.t[ug[ug_of]]) <= cfg.margin_s
        rows, ug_of = rows[ok], ug_of[ok]
        # (window fix, code) -> every pending fix whose window holds that fix
        by_g = pd.DataFrame({"g": ug_of, "code": tx.code[rows], "t": tx.t[rows]})
        links = pd.DataFrame({"g": inv, "f": pair})
        both = links.merge(by_g, on="g")
        both = both[both["t"].to_numpy() <= upto[both["f"].to_numpy()]]
        out = np.unique(np.column_stack([fixes[both["f"].to_numpy()],
                                         both["code"].to_numpy()]).astype(np.int64), axis=0)
        if len(out) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return out[:, 0], out[:, 1]

    def _window_fixes(self, fixes: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``fixes``, the fixes of its track in ``[t - window_s, end]``:
        (position in ``fixes``, fix index) pairs."""
        rx = self._rx
        order = np.lexsort((rx.t, rx.track))
        track, t = rx.track[order], rx.t[order]
        lo = searchsorted_pairs(track, t, rx.track[fixes],
                                rx.t[fixes] - self.config.window_s, "left")
        # a window never reaches past the longest hold (``end`` is inf at the close)
        end = np.minimum(end, rx.t[fixes] + self.config.hold_max_s)
        hi = searchsorted_pairs(track, t, rx.track[fixes], end, "right")
        n = np.maximum(hi - lo, 0)
        pair = np.repeat(np.arange(len(fixes)), n)
        g = order[np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))]
        return pair, g

    def _pair_means(self, f_idx: np.ndarray, x_code: np.ndarray, upto: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per (fix, transponder) pair: mean distance over the track's common fixes in
        the window up to ``upto``, their number, and whether the fix itself has a
        common time."""
        cfg, rx, tx = self.config, self._rx, self._tx
        pair, g = self._window_fixes(f_idx, upto)
        pos, common = tx.position(x_code[pair], rx.t[g], upto[pair], cfg.margin_s)
        use = common & ~rx.first[g]
        d = np.linalg.norm(np.nan_to_num(pos) - rx.xyz[g], axis=1)
        total = np.bincount(pair, weights=np.where(use, d, 0.0), minlength=len(f_idx))
        count = np.bincount(pair, weights=use.astype(float), minlength=len(f_idx))
        own = np.zeros(len(f_idx), bool)
        is_own = g == f_idx[pair]
        own[pair[is_own]] = common[is_own]
        return total / np.maximum(count, 1), count.astype(np.int64), own

    def _drain(self) -> pd.DataFrame:
        """Decided fixes that can leave (every earlier fix of their track decided), in
        time order per track; cooperative ones update the identities and are dropped."""
        rx, tx, cfg = self._rx, self._tx, self.config
        if len(rx.t) == 0 or not self._decided:
            return pd.DataFrame({c: v[:0] for c, v in rx.rows.items()})
        self._decided = False
        order = np.lexsort((rx.t, rx.track))
        st = rx.state[order]
        tr = rx.track[order]
        # a fix may leave when no pending fix of its track comes before it
        pend = (st == 0).astype(np.int64)
        start = np.concatenate([[True], tr[1:] != tr[:-1]])
        csum = np.cumsum(pend)
        base = np.maximum.accumulate(np.where(start, np.arange(len(tr)), 0))
        before = csum - pend - (csum[base] - pend[base])
        free = order[(before == 0) & (st > 0) & ~rx.left[order]]
        if len(free) == 0:
            return pd.DataFrame({c: v[:0] for c, v in rx.rows.items()})
        rx.left[free] = True
        # in time order, tracks in their code order at one time: a total order (one
        # track's fixes have distinct times), so no sort stability is relied on
        free = free[np.lexsort((rx.track[free], rx.t[free]))]
        mode_s = rx.rows.get("mode_s")
        if mode_s is not None:
            self._contradictions(free[rx.state[free] != 1], mode_s)
        for k, coop in zip(free.tolist(), (rx.state[free] == 1).tolist(), strict=True):
            name, t_k = rx.track_names[rx.track[k]], float(rx.t[k])
            if coop:
                code = int(rx.matched[k])
                self._matched_at[name] = t_k
                self._set_identity(name, t_k, Identity(
                    icao24=tx.names[code], callsign=tx.last_callsign[code],
                    went_dark_at=None, mode_s=False))
                pair = (name, tx.names[code])
                self.matches[pair] = self.matches.get(pair, 0) + 1
                continue
            address = _address(mode_s[k]) if mode_s is not None else None
            if address is not None:  # the radar's own Mode S reply names it
                self._set_identity(name, t_k, Identity(icao24=address, callsign=None,
                                                       went_dark_at=None, mode_s=True))
                continue
            ident = self.identities.get(name)
            if ident is None or ident["went_dark_at"] is not None or ident["mode_s"]:
                continue
            code = tx.code_of[ident["icao24"]]
            last = tx.last_message(code, t_k)
            if last is None or last < t_k - cfg.margin_s:
                went = last if last is not None else _forgotten_last(
                    float(tx.last_t[code]), t_k, self._matched_at[name])
                self._set_identity(name, t_k, Identity(**{**ident, "went_dark_at": went}))
                log.info("radar track %s went dark: %s silent since %.1f", name,
                         ident["icao24"], went)
            else:  # the transponder goes on elsewhere: this track is not that aircraft
                self._set_identity(name, t_k, None)
        coop_mask = rx.state[free] == 1
        self.cooperative_fixes += int(coop_mask.sum())
        out_idx = free[~coop_mask]  # in ``free``'s order: time, then track
        self.released_fixes += len(out_idx)
        return pd.DataFrame({c: v[out_idx] for c, v in rx.rows.items()})


    def _contradictions(self, fixes: np.ndarray, mode_s: np.ndarray) -> None:
        """Note the radar fixes among ``fixes`` (not matched to a transponder track) whose
        Mode S address has ADS-B positions at their time, farther than ``contradict_m``."""
        rx, tx = self._rx, self._tx
        addr = np.array([_address(v) for v in mode_s[fixes]], dtype=object)
        known = np.array([a is not None and a in tx.code_of for a in addr], dtype=bool)
        if not known.any():
            return
        k = fixes[known]
        code = np.array([tx.code_of[a] for a in addr[known]], dtype=np.int64)
        pos, common = tx.position(code, rx.t[k], np.full(len(k), np.inf),
                                  self.config.margin_s)
        dist = np.linalg.norm(pos - rx.xyz[k], axis=1)
        far = common & (dist > self.config.contradict_m)
        for a, t, d in zip(addr[known][far].tolist(), rx.t[k][far].tolist(),
                           dist[far].tolist(), strict=True):
            self.contradictions.setdefault(a, []).append((t, d))
        if far.any():
            log.warning("radar contradicts the ADS-B position of %d fix(es)", int(far.sum()))


def _address(value: object) -> str | None:
    """A Mode S address carried by a radar plot, as lower-case hex, or None."""
    if not isinstance(value, str):
        return None
    addr, ok = parse_icao24(np.array([value], dtype=object))
    return f"{int(addr[0]):06x}" if bool(ok[0]) else None


def is_transponder_id(ids: np.ndarray) -> np.ndarray:
    """Which track ids are ICAO 24-bit addresses (transponder tracks)."""
    _, ok = parse_icao24(np.asarray(ids, dtype=object))
    return np.asarray(ok, dtype=bool)
