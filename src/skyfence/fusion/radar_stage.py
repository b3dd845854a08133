"""Radar plots to track states as a stream: the tracker fed scan window by scan window.

Plots arrive in any batches; they are cut into windows of ``scan_s`` seconds aligned on
absolute time (``floor(t / scan_s)``), so the same plots give the same tracks whatever
the batches were, and a window goes to the tracker once the stream has passed its end.
Each state is stamped ``emitted_at``: the end of the window that produced it (states from
before a track's confirmation are emitted at confirmation), the moment a live system
could first have shown it.

Every radar's plots of a window go to the one tracker, which fuses them (centralised
measurement fusion, one track per target). Before that, each radar's plots are
corrected for the range and azimuth bias that :class:`~skyfence.tracking.registration.
Registration` has estimated so far against the transponder (ADS-B) positions the
pipeline passes in with :meth:`RadarStage.add_reference`; :meth:`RadarStage.registration`
reports the estimates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from skyfence.model import make_observations
from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking.registration import Registration, RegistrationEstimate
from skyfence.tracking.tracker import Tracker

#: default scan window (s): the rotation period of a typical approach / en-route radar
DEFAULT_SCAN_S = 4.0

#: extra columns radar-derived observations carry after the observation columns
RADAR_EXTRA_COLUMNS = ("emitted_at", "mode_s", "record", "sac", "sic", "sigma_pos_m")


def states_to_observations(states: pd.DataFrame) -> pd.DataFrame:
    """Tracker states as an observation batch (``icao24`` is the radar track id) that
    keeps the plot's Mode S address (``mode_s``), record number and radar, and the
    track's horizontal position sigma (``sigma_pos_m``, m)."""
    obs = make_observations(
        time=states["time"], icao24=states["track"], lat=states["lat"], lon=states["lon"],
        altitude=states["altitude"], velocity=states["velocity"], heading=states["heading"],
        vertrate=states["vertrate"], squawk=states["squawk"], callsign=states["callsign"])
    obs["mode_s"] = states["icao24"].to_numpy(object)
    for c in ("record", "sac", "sic", "sigma_pos_m"):
        obs[c] = states[c].to_numpy(np.float64)
    obs["emitted_at"] = (states["emitted_at"].to_numpy(np.float64) if "emitted_at" in states
                         else states["time"].to_numpy(np.float64))
    return obs


class RadarStage:
    """Buffers plots and runs complete scan windows through one :class:`Tracker`.

    Parameters
    ----------
    sites
        The radars (their positions orient each plot's noise and fix the tracking plane).
    scan_s
        Length of a scan window, about the fastest radar's rotation period.
    tracker
        A tracker to use instead of the default one built on ``sites``.
    register
        Estimate each radar's bias against ADS-B and correct its plots (default on;
        it does nothing without transponder data near the plots).
    """

    def __init__(self, sites: Sequence[RadarSite], *, scan_s: float = DEFAULT_SCAN_S,
                 tracker: Tracker | None = None, register: bool = True) -> None:
        self.sites = list(sites)
        self.scan_s = float(scan_s)
        if tracker is None:
            plane = (LocalPlane.around([s.lat for s in self.sites], [s.lon for s in self.sites])
                     if self.sites else LocalPlane(0.0, 0.0))
            tracker = Tracker(plane, self.sites)
        self.tracker = tracker
        self.registrar = Registration(self.sites) if register and self.sites else None
        self._pending: list[pd.DataFrame] = []
        #: every window ending at or before this has been run: all track states with
        #: earlier times have been emitted
        self.done_until = -np.inf
        #: latest plot time seen, and earliest plot time still pending
        self.latest = -np.inf
        self._earliest = np.inf
        self.plots = 0

    def add(self, plots: pd.DataFrame) -> None:
        """Plots of any radar, in any order within the not yet run windows."""
        if len(plots):
            self._pending.append(plots)
            self.plots += len(plots)
            self._earliest = min(self._earliest, float(plots["time"].min()))
            self.latest = max(self.latest, float(plots["time"].max()))

    def add_reference(self, observations: pd.DataFrame) -> None:
        """Transponder observations (ICAO addresses) to register the radars against."""
        if self.registrar is not None and len(observations):
            self.registrar.add_reference(observations)

    def registration(self) -> list[RegistrationEstimate]:
        """Each radar's estimated range and azimuth bias so far (empty when off)."""
        return self.registrar.estimates() if self.registrar is not None else []

    def advance(self, now: float, *, complete: bool = False) -> pd.DataFrame:
        """Run every window that ended by ``now``; their confirmed states as observations.

        Live, a radar feed may lag the others, so a window runs once a later plot has
        closed it (the radar itself is past it); ``complete`` says every plot up to
        ``now`` has been given (a replay slice), so windows up to ``now`` run at once.
        """
        edge = now if complete else min(now, self.latest)
        return self._run(float(np.floor(edge / self.scan_s) * self.scan_s))

    def flush(self) -> pd.DataFrame:
        """End of data: run every window that holds plots."""
        return self._run(np.inf)

    def _run(self, until: float) -> pd.DataFrame:
        self.done_until = max(self.done_until, until)
        if not self._pending or until <= self._earliest:
            return _no_states()  # no window complete yet: nothing to join or sort
        plots = pd.concat(self._pending, ignore_index=True) if len(self._pending) > 1 \
            else self._pending[0]
        t = plots["time"].to_numpy(np.float64)
        ready = t < until
        self._pending = [plots[~ready].reset_index(drop=True)] if (~ready).any() else []
        self._earliest = float(t[~ready].min()) if (~ready).any() else np.inf
        plots = plots[ready].sort_values("time", kind="stable").reset_index(drop=True)
        frames = []
        if len(plots) == 0:
            return _no_states()
        reg = self.registrar
        for window, idx in _windows(plots["time"].to_numpy(np.float64), self.scan_s):
            raw = plots.iloc[idx]
            if reg is not None:
                reg.advance(window)
                reg.observe(raw)
            out = self.tracker.update(raw if reg is None else reg.correct(raw))
            if len(out):
                out["emitted_at"] = window + self.scan_s
                frames.append(out)
        if not frames:
            return _no_states()
        return states_to_observations(pd.concat(frames, ignore_index=True))


@lru_cache(maxsize=1)
def _empty() -> pd.DataFrame:
    from skyfence.tracking.tracker import TRACK_STATE_COLUMNS

    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in TRACK_STATE_COLUMNS})
    return states_to_observations(empty.assign(emitted_at=pd.Series(dtype=float)))


def _no_states() -> pd.DataFrame:
    """No track states (one shared empty frame: nothing may write to it)."""
    return _empty()


def _windows(t: np.ndarray, scan_s: float) -> Iterable[tuple[float, np.ndarray]]:
    """(window start, row indices) of sorted times cut at multiples of ``scan_s``."""
    if len(t) == 0:
        return []
    k = np.floor(t / scan_s).astype(np.int64)
    cuts = np.flatnonzero(np.diff(k)) + 1
    return [(float(k[idx[0]]) * scan_s, idx) for idx in np.split(np.arange(len(t)), cuts)]
