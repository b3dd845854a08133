"""Radar plots to tracks: a multi-target tracker built from small parts.

Like Stone Soup's ``MultiTargetTracker``, the tracker is composed from parts passed in:
a :class:`~skyfence.tracking.filters.MotionFilter` (constant-velocity Kalman or IMM),
an :class:`~skyfence.tracking.association.Associator` (global nearest neighbour), an
initiator (M-of-N) and a :class:`~skyfence.tracking.deletion.Deleter`. Unlike it, the
tracks live in numpy arrays and every step is vectorized over tracks and plots: one
Python iteration per scan, none per plot.

Filtering runs in a :class:`~skyfence.radar.LocalPlane` around the radars; each plot's
noise comes from its radar's range and azimuth sigmas, oriented along the line of sight.
Altitude has its own small filter, fed by plots that carry a height.

Streaming: :meth:`Tracker.update` takes one scan of plots and returns the confirmed
track states it produced. Batch: :func:`track_plots` cuts a plot batch into scans and
returns an observation batch, ``icao24`` holding the track id (``R0001`` ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree
from scipy.stats import chi2

from skyfence.model import make_observations
from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking.association import Associator, GlobalNearestNeighbour
from skyfence.tracking.deletion import CoastDeleter, Deleter
from skyfence.tracking.filters import IMM, FilterState, MotionFilter, Vertical
from skyfence.tracking.initiation import MofNInitiator, TrackScore

Array = npt.NDArray[np.float64]

#: the default track score of confirmation and deletion: at most about one false track
#: an hour confirmed, however dense the clutter (see :meth:`TrackScore.threshold`)
DEFAULT_SCORE = TrackScore(false_tracks_per_h=1.0)
#: the rate of candidate starts that sets the confirmation threshold is smoothed over
#: this many seconds (ten minutes: the clutter of a radar changes with weather, birds,
#: sea state, slower than scans)
START_RATE_S = 600.0
#: windows of track score kept per track, to compare two twins over the same scans
SCORE_HISTORY = 32

#: Columns of the frame :meth:`Tracker.update` returns.
TRACK_STATE_COLUMNS = (
    "time", "track", "lat", "lon", "altitude", "velocity", "heading", "vertrate",
    "x", "y", "vx", "vy", "sigma_pos_m", "icao24", "squawk", "callsign", "sac", "sic",
    "record",
)
@dataclass
class _Scan:
    """One scan of plots as arrays in the tracker's plane."""

    t: Array
    z: Array
    r: Array
    alt: Array
    icao24: np.ndarray
    squawk: np.ndarray
    callsign: np.ndarray
    sac: Array
    sic: Array
    record: Array
    range_m: Array

    def take(self, idx: np.ndarray) -> _Scan:
        """The plots ``idx``."""
        return _Scan(**{k: v[idx] for k, v in vars(self).items()})


@dataclass
class _Soft:
    """JPDA weights of one radar's plots over confirmed tracks (indices into the
    tracker's arrays and the sub-scan)."""

    tracks: np.ndarray  # tracks with a gated plot
    pair: np.ndarray  # per weighted pair: position in ``tracks``
    plots: np.ndarray  # per weighted pair: plot index
    beta: Array  # per weighted pair: association probability
    beta0: Array  # per track: probability that no plot is its target
    density: float  # clutter density used (plots per m^2)
    explained: np.ndarray  # plots mostly explained by a track (may not start one)


#: one reported state: (track uid, numbers in _NUM order, (icao24, squawk, callsign))
_Row = tuple[int, np.ndarray, tuple[Any, ...]]
_NUM = ("time", "x", "y", "vx", "vy", "z", "vz", "has_alt", "sigma_pos_m", "sac", "sic",
        "record")


#: mean earth radius (m), for the drop of the horizon in :func:`plot_covariances`
EARTH_RADIUS_M = 6_371_000.0


def plot_covariances(
    x: Array, y: Array, range_m: Array, sigma_range_m: Array, sigma_azimuth_deg: Array,
    site_xy: Array, *, height_m: Array | None = None, site_alt_m: Array | None = None,
    sigma_height_m: Array | None = None,
) -> Array:
    """Plot position covariances (n, 2, 2) in the plane: range noise along the line of
    sight from the radar at ``site_xy`` (n, 2), azimuth noise across it.

    Rows whose site is unknown (NaN) get a circle of the larger of the two sigmas.

    A plot with a height (``height_m``, the radar's antenna at ``site_alt_m``) is put on
    the ground at ``g = sqrt(rho^2 - dh^2)`` from the radar, ``dh`` its height above the
    antenna (plus the drop of the horizon, ``g^2 / 2R``). Its error along the line of
    sight on the ground is then ``(rho / g) sigma_rho`` and ``(dh / g) sigma_h`` (the
    radar's ``sigma_height_m``), not ``sigma_rho``: far away the line of sight is flat
    and both factors are 1 and 0, but a jet at 13 km passing 3 km from the radar gets
    its ground position from its height, and a 150 m height error moves it 700 m. ``g``
    is taken at least as large as a height error puts a target overhead,
    ``sqrt(2 dh sigma)``, where the formula would divide by zero (this first-order
    figure is a floor that close: the scatter there is skewed and wider).

    A jet 13,700 m above the antenna, 3 km east of it on the ground (slant range
    hypot(3000, 13700) = 14,025 m; the horizon drops 0.7 m there):

    >>> r = plot_covariances(np.array([3000.0]), np.array([0.0]), np.array([14025.0]),
    ...                      np.array([40.0]), np.array([0.08]), np.zeros((1, 2)),
    ...                      height_m=np.array([14130.0]), site_alt_m=np.array([430.0]),
    ...                      sigma_height_m=np.array([150.0]))
    >>> round(float(np.sqrt(r[0, 0, 0])))  # hypot(14025 / 3000 * 40, 13700.7 / 3000 * 150)
    710
    >>> round(float(np.sqrt(r[0, 1, 1])), 2)  # across: 3000 m * 0.08 deg in radians
    4.19
    """
    dx, dy = x - site_xy[:, 0], y - site_xy[:, 1]
    ground = np.hypot(dx, dy)
    known = np.isfinite(ground) & (ground > 1.0)
    ux = np.where(known, dx / np.where(known, ground, 1.0), 1.0)
    uy = np.where(known, dy / np.where(known, ground, 1.0), 0.0)
    sr2 = sigma_range_m**2
    if height_m is not None and site_alt_m is not None:
        sh = np.zeros(x.size) if sigma_height_m is None else np.nan_to_num(sigma_height_m)
        g = np.where(known, ground, 1.0)
        dh = np.abs(height_m - site_alt_m + g**2 / (2 * EARTH_RADIUS_M))
        steep = known & np.isfinite(dh)
        dh = np.where(steep, dh, 0.0)
        rho = np.where(np.isfinite(range_m) & (range_m > 0), range_m, np.hypot(g, dh))
        g = np.maximum(g, np.sqrt(2 * dh * np.maximum(sh, sigma_range_m)))
        sr2 = np.where(steep, (rho / g) ** 2 * sr2 + (dh / g) ** 2 * sh**2, sr2)
    sc2 = (np.where(known, ground, range_m) * np.radians(sigma_azimuth_deg)) ** 2
    iso = np.maximum(sr2, sc2)
    sr2, sc2 = np.where(known, sr2, iso), np.where(known, sc2, iso)
    r = np.empty((x.size, 2, 2))
    r[:, 0, 0] = sr2 * ux * ux + sc2 * uy * uy
    r[:, 1, 1] = sr2 * uy * uy + sc2 * ux * ux
    r[:, 0, 1] = r[:, 1, 0] = (sr2 - sc2) * ux * uy
    return r


class Tracker:
    """Multi-target tracker over scans of radar plots.

    Parameters
    ----------
    plane
        The flat frame to filter in (e.g. ``LocalPlane.around(site lats, lons)``).
    sites
        Radar sites, to orient each plot's noise along its line of sight.
    motion
        The horizontal filter (default: IMM of a quiet and a manoeuvring CV model).
    associator, initiator, deleter
        The parts (defaults: GNN with a 0.999 gate, 2-of-3 then 3-of-5, coasting up
        to 20 s without a plot for a young track, growing to 60 s for one that has taken
        30 plots, but no further than 3 km at the track's speed, and at least 12 s).
    score
        Likelihood track score a track must also reach to be confirmed (None: M-of-N
        alone), with the clutter density measured per radar.
    relink_s
        A track confirmed where a confirmed track that ended in the last ``relink_s``
        seconds would be now, flying the same way, continues that track's id (see
        :meth:`_relink`); 0 turns it off.
    max_speed_m_s, max_accel_m_s2, reach_after_s
        Fastest target and largest sustained change of speed assumed: a plot more than
        ``reach_after_s`` after a track's last update and further from it than they let
        it fly is out of its gate (see :meth:`_within_reach`).
    likelihood_gate
        A confirmed track takes only plots likelier its target than clutter (see
        :meth:`_likelier_than_miss`); False leaves it to the gates alone.
    twin_hold_s
        Two confirmed tracks on one target (same position and velocity) for this long
        are duplicates and the younger ends (see :meth:`_twins`).
    emit_history
        When a track is confirmed, also return its states from before confirmation,
        so the track starts where the target was first seen.
    """

    def __init__(
        self,
        plane: LocalPlane,
        sites: Iterable[RadarSite] = (),
        *,
        motion: MotionFilter | None = None,
        associator: Associator | None = None,
        initiator: MofNInitiator | None = None,
        deleter: Deleter | None = None,
        vertical: Vertical | None = None,
        score: TrackScore | None = DEFAULT_SCORE,
        max_speed_m_s: float = 700.0,
        max_accel_m_s2: float = 2.0,
        reach_after_s: float = 12.0,
        relink_s: float = 120.0,
        height_gate_m: float = 3000.0,
        twin_hold_s: float = 12.0,
        likelihood_gate: bool = True,
        id_prefix: str = "R",
        emit_history: bool = True,
    ) -> None:
        self.plane = plane
        self.motion: MotionFilter = motion or IMM()
        self.associator: Associator = associator or GlobalNearestNeighbour()
        self.initiator = initiator or MofNInitiator()
        self.deleter: Deleter = deleter or CoastDeleter(
            20.0, mature_coast_s=60.0, mature_updates=30, max_coast_m=3000.0, min_coast_s=12.0)
        self.vertical = vertical or Vertical()
        self.score = score
        self.twin_gate = float(chi2.ppf(0.99, df=4))
        #: two confirmed tracks are duplicates once twins this long (see :meth:`_twins`)
        self.twin_hold_s = twin_hold_s
        self.likelihood_gate = likelihood_gate
        #: confirmed twin pairs (uids) and since when they are twins
        self._twin_since: dict[tuple[int, int], float] = {}
        #: plot heights further than this (plus four sigmas) from a track's are out (m)
        self.height_gate_m = height_gate_m
        #: per radar code: smoothed plots per window outside confirmed tracks, and the
        #: largest plot range seen (m): the clutter density is their ratio over the disc
        self._clutter: dict[float, list[float]] = {}
        self.max_speed = max_speed_m_s
        self.max_accel = max_accel_m_s2
        self.reach_after_s = reach_after_s
        self.id_prefix = id_prefix
        self.emit_history = emit_history
        gate = getattr(self.associator, "gate", None)
        self.gate = float(gate) if gate is not None else 13.8
        self._site_xy: dict[tuple[int, int], tuple[float, float]] = {}
        #: per site: antenna altitude and height sigma (m), for steep lines of sight
        self._site_z: dict[tuple[int, int], tuple[float, float]] = {}
        for s in sites:
            sx, sy = plane.to_xy(s.lat, s.lon)
            self._site_xy[s.key] = (float(sx), float(sy))
            self._site_z[s.key] = (float(s.alt_m), float(s.sigma_height_m or 0.0))
        self._next_uid = 0
        self._next_label = 1
        self._state: FilterState | None = None
        self._a: dict[str, np.ndarray] = {
            "uid": np.empty(0, np.int64), "status": np.empty(0, np.int64),
            "hits": np.empty(0, np.int64), "age": np.empty(0, np.int64),
            "misses": np.empty(0, np.int64), "t": np.empty(0), "t_alt": np.empty(0),
            "t_seen": np.empty(0), "updates": np.empty(0, np.int64), "llr": np.empty(0),
            "llr_peak": np.empty(0), "confirmed_at": np.empty(0),
            "llr_hist": np.empty((0, SCORE_HISTORY)),
            "has_alt": np.empty(0, bool), "zv": np.empty((0, 2)), "pv": np.empty((0, 2, 2)),
            "label": np.empty(0, object),
        }
        self._history: dict[int, list[_Row]] = {}
        self._labels: dict[int, str] = {}
        #: confirmed tracks that ended lately: (label, last update time, state row)
        self._graveyard: list[tuple[str, float, FilterState]] = []
        self.relink_s = relink_s
        #: candidate tracks started per hour (smoothed) and the time of the last window
        self._starts_per_h = 0.0
        self._starts_at: float | None = None
        self._starts_since: float | None = None

    # ----------------------------------------------------------------- inspection

    def __len__(self) -> int:
        return len(self._a["uid"])

    @property
    def confirmed_count(self) -> int:
        """Number of live confirmed tracks."""
        return int((self._a["status"] == self.initiator.confirmed).sum())

    # --------------------------------------------------------------------- update

    def update(self, plots: pd.DataFrame, now: float | None = None) -> pd.DataFrame:
        """Feed one scan of plots; return the confirmed track states it produced.

        ``now`` (unix s) is the end of the scan, used for deletion by time; it
        defaults to the last plot time. An empty scan with ``now`` counts as a miss
        for every track.
        """
        if len(plots) == 0 and now is None:
            return _empty_states()
        return self._states_frame(self._step(self._prepare(plots), now))

    def _prepare(self, plots: pd.DataFrame) -> _Scan:
        """Plot columns as plane arrays (positions, covariances), computed once."""
        n = len(plots)
        zx, zy = self.plane.to_xy(plots["lat"].to_numpy(float), plots["lon"].to_numpy(float))

        def col(name: str, default: Any, dtype: Any = float) -> np.ndarray:
            return plots[name].to_numpy(dtype) if name in plots else np.full(n, default, dtype)

        sac, sic = col("sac", -1.0), col("sic", -1.0)
        site_xy = np.full((n, 2), np.nan)
        site_z = np.full((n, 2), np.nan)
        if self._site_xy:
            keys = np.array(sorted(self._site_xy))
            codes = keys[:, 0] * 256 + keys[:, 1]
            xy = np.array([self._site_xy[(int(k[0]), int(k[1]))] for k in keys])
            zs = np.array([self._site_z[(int(k[0]), int(k[1]))] for k in keys])
            code = sac * 256 + sic
            pos = np.clip(np.searchsorted(codes, code), 0, codes.size - 1)
            found = codes[pos] == code
            site_xy[found] = xy[pos[found]]
            site_z[found] = zs[pos[found]]
        alt = col("altitude", np.nan)
        r = plot_covariances(zx, zy, col("range_m", 1e5), col("sigma_range_m", 50.0),
                             col("sigma_azimuth_deg", 0.08), site_xy, height_m=alt,
                             site_alt_m=site_z[:, 0], sigma_height_m=site_z[:, 1])
        return _Scan(
            t=col("time", np.nan), z=np.column_stack([zx, zy]), r=r,
            alt=alt, icao24=col("icao24", None, object),
            squawk=col("squawk", None, object), callsign=col("callsign", None, object),
            sac=sac, sic=sic, record=col("record", np.nan), range_m=col("range_m", np.nan))

    def _step(self, scan: _Scan, now: float | None = None) -> list[_Row]:
        """One scan window: per radar, associate and correct (and start candidates);
        then M-of-N, confirmation and deletion once for the window; the rows to report.

        Centralised measurement fusion: the plots of each radar are a sub-scan, taken
        in the order of their earliest plot. A track may take one plot of every radar
        in the window, each a Kalman update at the plot's own time (a plot earlier than
        the track's last update is folded in by predicting back, with the process noise
        of the gap), so a target seen by two radars is one track updated twice as often.
        Candidates started from one radar's plots can take the next radar's plots of
        the same target in the same window instead of starting a twin.
        """
        if len(scan.t) == 0 and now is None:
            return []
        now = float(scan.t.max()) if now is None else float(now)
        born_from = self._next_uid  # tracks born in this window have uids from here
        hit_uids: list[np.ndarray] = []
        rows: list[_Row] = []
        for idx in self._sensor_batches(scan):
            sub = scan.take(idx)
            gate_density = self._density(sub)  # the density the likelihood gate uses
            ti, pj, cost, start, soft = self._associate(sub)
            if self.score is not None:
                firm = self._a["status"][ti] == self.initiator.confirmed
                density = self._clutter_density(sub, int(firm.sum()))
                self._a["llr"][ti] += self.score.hit(cost, density)
            # the reported variance of each hard update (NaN: the filter's own, as the
            # JPDA mixture's covariance already holds the spread of its hypotheses)
            var = np.full(ti.size, np.nan)
            if soft is not None and soft.tracks.size:
                hard = ~np.isin(ti, soft.tracks)
                self._correct_soft(soft, sub)
                self._correct(ti[~hard], pj[~hard], sub.z, sub.r, sub.t, sub.alt,
                              horizontal=False)
                var[hard] = self._correct(ti[hard], pj[hard], sub.z, sub.r, sub.t, sub.alt,
                                          density=gate_density)
            else:
                var = self._correct(ti, pj, sub.z, sub.r, sub.t, sub.alt,
                                    density=gate_density)
            hit_uids.append(self._a["uid"][ti])
            rows.extend(self._rows(ti, pj, sub, var))
            self._start(start, sub)
        a = self._a
        hit = np.isin(a["uid"], np.concatenate(hit_uids)) if hit_uids else \
            np.zeros(len(a["uid"]), bool)
        old = a["uid"] < born_from

        # bookkeeping: hits, misses, age (of tracks older than this window); M-of-N;
        # confirmation; deletion
        a["hits"] = np.where(old, (a["hits"] << 1) | hit.astype(np.int64), a["hits"])
        a["misses"] = np.where(hit, 0, np.where(old, a["misses"] + 1, a["misses"]))
        a["age"] = np.where(old, a["age"] + 1, a["age"])
        confirmed = self.initiator.confirmed
        was_confirmed = a["status"] == confirmed
        status, drop = self.initiator.step(a["status"], a["hits"], a["age"])
        if self.score is not None:
            a["llr"] = np.where(old & ~hit, a["llr"] + self.score.miss, a["llr"])
            # M-of-N would confirm, but the plots do not yet outweigh clutter: wait
            self._count_starts(born_from, now)
            threshold = self.score.threshold(self._starts_per_h)
            short = (status == confirmed) & ~was_confirmed & (a["llr"] < threshold)
            status = np.where(short, confirmed - 1, status)
            drop |= short & (a["age"] >= self.initiator.stages[-1][1] + confirmed)
            a["llr_peak"] = np.maximum(a["llr_peak"], a["llr"])
            # the score at the end of each of the last windows (column k: k windows ago)
            a["llr_hist"][:, 1:] = a["llr_hist"][:, :-1]
            a["llr_hist"][:, 0] = a["llr"]
            drop |= was_confirmed & (a["llr"] < a["llr_peak"] - self.score.drop)
        a["status"] = status
        drop |= was_confirmed & self.deleter.delete(a["misses"], a["t_seen"], now,
                                                    a["updates"], self._speeds())
        ended = drop & was_confirmed
        self._bury(np.flatnonzero(ended), now)
        drop |= self._twins(status, drop, now)
        newly = np.flatnonzero((status == confirmed) & ~was_confirmed & ~drop)
        a["confirmed_at"][newly] = now
        newly = newly[np.argsort(a["uid"][newly])]
        for k in newly:
            label = self._relink(int(k), now)
            if label is None:
                label = f"{self.id_prefix}{self._next_label:04d}"
                self._next_label += 1
            a["label"][k] = label
            self._labels[int(a["uid"][k])] = label

        # what to report: this window's updates of confirmed tracks, plus history
        out: list[_Row] = []
        pos = {int(u): k for k, u in enumerate(a["uid"].tolist())}
        newly_set = {int(a["uid"][k]) for k in newly}
        for row in rows:
            if status[pos[row[0]]] == confirmed:
                if row[0] not in self._labels:  # confirmed and dropped as a twin at once
                    continue
                if self.emit_history and row[0] in newly_set:
                    out.extend(self._history.pop(row[0], []))
                out.append(row)
            else:
                self._history.setdefault(row[0], []).append(row)
        for uid in a["uid"][drop | (status == confirmed)].tolist():
            self._history.pop(int(uid), None)
        keep = ~drop
        for key in a:
            a[key] = a[key][keep]
        if self._state is not None:
            self._state = self._state.take(keep)
        return out

    def _count_starts(self, born_from: int, now: float) -> None:
        """Update the rate of candidate tracks started (per hour, smoothed over
        :data:`START_RATE_S`) with this window's: the tracks born in it."""
        born = self._next_uid - born_from
        last = self._starts_at
        if self._starts_since is None:
            self._starts_since = now
        self._starts_at = now
        if last is None or now <= last:
            return
        dt = now - last
        # a running mean until START_RATE_S have passed, then exponential smoothing
        w = dt / max(dt, min(START_RATE_S, now - self._starts_since))
        self._starts_per_h += w * (born * 3600.0 / dt - self._starts_per_h)

    def _bury(self, ended: np.ndarray, now: float) -> None:
        """Remember confirmed tracks that end now, for :meth:`_relink`."""
        if self.relink_s <= 0 or self._state is None:
            return
        a = self._a
        self._graveyard = [g for g in self._graveyard if now - g[1] <= self.relink_s]
        for k in ended.tolist():
            self._graveyard.append((str(a["label"][k]), float(a["t"][k]),
                                    self._state.take(np.array([k]))))

    def _relink(self, k: int, now: float) -> str | None:
        """The id of a lately ended track that newly confirmed track ``k`` continues.

        The ended track, predicted to ``k``'s time, must lie within 500 m plus a fifth
        of the distance it flew meanwhile, and fly at a velocity within half its speed
        plus 10 m/s of ``k``'s: a drone lost for a minute while it hovered low or
        turned, not a neighbour of the swarm coming from elsewhere. The closest wins.
        """
        self._graveyard = [g for g in self._graveyard if now - g[1] <= self.relink_s]
        if not self._graveyard or self._state is None:
            return None
        a = self._a
        t_k = float(a["t"][k])
        x_k, _ = self.motion.estimate(self._state.take(np.array([k])))
        best, best_d = None, np.inf
        for i, (_, t_g, st) in enumerate(self._graveyard):
            dt = t_k - t_g
            if dt <= 0:
                continue
            x_g, _ = self.motion.estimate(self.motion.predict(st, np.array([dt])))
            speed = float(np.hypot(x_g[0, 2], x_g[0, 3]))
            d = float(np.hypot(*(x_g[0, :2] - x_k[0, :2])))
            dv = float(np.hypot(*(x_g[0, 2:] - x_k[0, 2:])))
            if d <= 500.0 + 0.2 * speed * dt and dv <= 0.5 * speed + 10.0 and d < best_d:
                best, best_d = i, d
        if best is None:
            return None
        return self._graveyard.pop(best)[0]

    def _speeds(self) -> Array:
        """Estimated ground speed of every track (m/s)."""
        if self._state is None or len(self._a["uid"]) == 0:
            return np.empty(0)
        x, _ = self.motion.estimate(self._state)
        return np.asarray(np.hypot(x[:, 2], x[:, 3]))

    def _twins(self, status: np.ndarray, drop: np.ndarray, now: float) -> np.ndarray:
        """Tracks that duplicate an older one: same position and velocity within the
        statistics of both (chi-square 0.99 on four dimensions, both predicted to
        ``now``). Two tracks on one target each take one radar's plot and would both
        live on; the younger (a confirmed track is kept over a tentative one) ends.
        Targets flying side by side at one speed closer than the radars resolve are
        one track, as a controller would see them.

        Two tracks both confirmed for :attr:`twin_hold_s` must then stay twins that
        long (every window in between) before one ends: where two drones cross, their
        established tracks meet for a scan or two, and a velocity spread grown wide
        (a coast, a surprising plot) lets the test pass although they fly apart;
        ending one there ends a target's track mid-flight, and a new one starts on it
        a few scans later. A duplicate stays a twin; one confirmed lately (started
        beside the track of its target) ends at once, as before it is shown.
        """
        out = np.zeros(len(status), bool)
        idx = np.flatnonzero((status > 0) & ~drop)
        if idx.size < 2 or self._state is None:
            self._twin_since = {}
            return out
        a = self._a
        x, p = self.motion.estimate(self.motion.predict(self._state.take(idx),
                                                        now - a["t"][idx]))
        spread = np.sqrt(np.linalg.eigvalsh(p[:, :2, :2])[:, -1])
        # every twin pair is within this radius: the 4-d form d' (Pi + Pj)^-1 d is at least
        # its position part, which is at least |dxy|^2 / (2 spread^2) (each position
        # covariance's largest eigenvalue is at most spread^2), so d2 < gate gives
        # |dxy| < sqrt(2 gate) spread (5.15 spreads at the 0.99 gate)
        reach = float(np.sqrt(2 * self.twin_gate) * spread.max() + 1.0)
        pairs = cKDTree(x[:, :2]).query_pairs(reach, output_type="ndarray")
        if len(pairs) == 0:
            self._twin_since = {}
            return out
        i, j = pairs[:, 0], pairs[:, 1]
        d = x[i] - x[j]
        d2 = np.einsum("ni,nij,nj->n", d, np.linalg.inv(p[i] + p[j]), d)
        twin = d2 < self.twin_gate
        i, j = idx[i[twin]], idx[j[twin]]
        # confirmed pairs: twins since when (a pair that was not twins last window
        # starts again)
        confirmed = self.initiator.confirmed
        settled = (status == confirmed) & (a["confirmed_at"] <= now - self.twin_hold_s)
        both = settled[i] & settled[j]
        keys = [(min(u, v), max(u, v)) for u, v in zip(a["uid"][i[both]].tolist(),
                                                        a["uid"][j[both]].tolist(), strict=True)]
        since = {k: self._twin_since.get(k, now) for k in keys}
        self._twin_since = since
        held = np.ones(i.size, bool)
        held[both] = [now - since[k] >= self.twin_hold_s for k in keys]
        i, j = i[held], j[held]
        if i.size == 0:
            return out
        # keep the confirmed one, then the older one (smaller uid)
        rank_i = np.stack([status[i] == self.initiator.confirmed, -a["uid"][i]], 1)
        rank_j = np.stack([status[j] == self.initiator.confirmed, -a["uid"][j]], 1)
        i_wins = (rank_i[:, 0] > rank_j[:, 0]) | ((rank_i[:, 0] == rank_j[:, 0])
                                                  & (rank_i[:, 1] > rank_j[:, 1]))
        i_wins ^= self._younger_fits_better(i, j, status, now)
        out[np.where(i_wins, j, i)] = True
        return out

    def _younger_fits_better(self, i: np.ndarray, j: np.ndarray, status: np.ndarray,
                             now: float) -> np.ndarray:
        """Of twin pairs ``(i, j)``, those where the younger track is the one to keep.

        A track confirmed (and shown) beside an established one on the same target is
        usually the duplicate. But it may have started because the established track
        lost its target: it took a clutter plot while the target was missed, flew off,
        and a new track started on the target; when the old track comes back, the two
        are twins. Then the new track is the one that followed the target: over the
        scans since it was born, its score (the log likelihood ratio of its plots
        against clutter, see :class:`TrackScore`) rose more than the old one's, which
        paid for its misses and its clutter. Both must have been confirmed before this
        window (a track confirmed now is dropped unseen) and not both for
        :attr:`twin_hold_s` (two established tracks keep the older); the older's score
        must be known from the younger's birth: column ``k`` of ``llr_hist`` is the
        score ``k`` windows ago and a track is aged 1 in the window it is born in, so
        a younger aged up to :data:`SCORE_HISTORY` compares.
        """
        a = self._a
        older = np.where(a["uid"][i] < a["uid"][j], i, j)
        younger = np.where(older == i, j, i)
        confirmed = self.initiator.confirmed
        shown = (status == confirmed) & np.isfinite(a["confirmed_at"]) \
            & (a["confirmed_at"] < now)
        settled = shown & (a["confirmed_at"] <= now - self.twin_hold_s)
        born = a["age"][younger]
        ok = shown[older] & shown[younger] & ~(settled[older] & settled[younger]) \
            & (born <= SCORE_HISTORY) & (self.score is not None)
        # the older track's score at the end of the window the younger was born in
        gain_old = a["llr"][older] - a["llr_hist"][older, np.clip(born - 1, 0, SCORE_HISTORY - 1)]
        better = ok & (a["llr"][younger] > gain_old)
        return np.asarray(better)

    def _sensor_batches(self, scan: _Scan) -> list[np.ndarray]:
        """Plot indices of each radar in the window, radars in order of first plot."""
        if len(scan.t) == 0:
            return []
        code = np.nan_to_num(scan.sac, nan=-1.0) * 256 + np.nan_to_num(scan.sic, nan=-1.0)
        codes, inv = np.unique(code, return_inverse=True)
        if codes.size == 1:
            return [np.arange(len(scan.t))]
        first = np.full(codes.size, np.inf)
        np.minimum.at(first, inv, scan.t)
        return [np.flatnonzero(inv == c) for c in np.argsort(first, kind="stable")]

    def _associate(self, sub: _Scan
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, _Soft | None]:
        """Track-plot pairs of one radar's plots, their gating costs, the plots that
        start candidates, and (JPDA) the weighted pairs of the confirmed tracks.

        With a soft associator the pair of a confirmed track is its most probable plot
        (for reporting, scoring and altitude); its position is updated by all of them.

        Confirmed tracks choose first, then tentative ones, then candidates; a plot
        inside the gate of a confirmed or tentative track may not start a new one.
        """
        a = self._a
        t_p, z, r = sub.t, sub.z, sub.r
        n_plots = len(t_p)
        used = np.zeros(n_plots, bool)
        blocked = np.zeros(n_plots, bool)  # gated by a firm track: may not start a new one
        pair_t: list[np.ndarray] = []
        pair_p: list[np.ndarray] = []
        pair_c: list[np.ndarray] = []
        soft: _Soft | None = None
        confirmed = self.initiator.confirmed
        groups = ((a["status"] == confirmed, True),
                  ((a["status"] > 0) & (a["status"] < confirmed), True),
                  (a["status"] == 0, False))
        for group, firm in groups:
            tracks = np.flatnonzero(group)
            free = np.flatnonzero(~used)
            if tracks.size == 0 or free.size == 0:
                continue
            # a confirmed track's motion is known: it takes a plot only where the plot
            # is likelier its target than clutter (a young track's wide gate is not)
            density = self._density(sub) if self.likelihood_gate and firm and (
                a["status"][tracks[0]] == confirmed) else None
            cost = self._cost(tracks, free, z, r, t_p, sub.alt, density)
            if firm:
                blocked[free[np.isfinite(cost).any(axis=0)]] = True
            if soft is None and getattr(self.associator, "soft", False) and \
                    tracks.size and (a["status"][tracks[0]] == confirmed):
                soft, rows, cols = self._soft(tracks, free, cost, sub)
                used[free[soft.explained]] = True
            else:
                rows, cols = self.associator.associate(cost)
            ti, pj = tracks[rows], free[cols]
            used[pj] = True
            pair_t.append(ti)
            pair_p.append(pj)
            pair_c.append(cost[rows, cols])
        ti = np.concatenate(pair_t) if pair_t else np.empty(0, np.int64)
        pj = np.concatenate(pair_p) if pair_p else np.empty(0, np.int64)
        pc = np.concatenate(pair_c) if pair_c else np.empty(0)
        return ti, pj, pc, np.flatnonzero(~used & ~blocked), soft

    def _soft(self, tracks: np.ndarray, free: np.ndarray, cost: Array, sub: _Scan
              ) -> tuple[_Soft, np.ndarray, np.ndarray]:
        """JPDA weights of confirmed ``tracks`` over ``free`` plots; the (row, column)
        of each gated track's most probable plot."""
        score = self.score or TrackScore()
        density = self._density(sub)
        with np.errstate(over="ignore"):
            ratio = np.where(np.isfinite(cost),
                             np.exp(np.clip(score.hit(np.where(np.isfinite(cost), cost, 0.0),
                                                      density), -700.0, 700.0)), 0.0)
        beta, beta0 = self.associator.weights(ratio)  # type: ignore[attr-defined]
        rows = np.flatnonzero((ratio > 0).any(axis=1))
        cols = np.argmax(beta[rows], axis=1)
        local, plot = np.nonzero(beta[rows] > 1e-9)
        soft = _Soft(tracks=tracks[rows], pair=local, plots=free[plot],
                     beta=beta[rows][local, plot], beta0=beta0[rows], density=density,
                     explained=np.flatnonzero(beta.max(axis=0, initial=0.0) >= 0.5))
        return soft, rows, cols
    def _density(self, sub: _Scan) -> float:
        """Clutter density (plots per m^2 per scan) of the radar of ``sub`` measured
        over the windows before (a first guess of one plot over the plots' disc)."""
        code = float(np.nan_to_num(sub.sac[0], nan=-1.0) * 256
                     + np.nan_to_num(sub.sic[0], nan=-1.0))
        c = self._clutter.get(code)
        if c is None:
            rng = sub.range_m[np.isfinite(sub.range_m)]
            reach = float(rng.max()) if rng.size else 0.0
            return 1.0 / (np.pi * max(reach, 10_000.0) ** 2)
        return max(c[0], 0.5) / (np.pi * max(c[1], 10_000.0) ** 2)

    def _clutter_density(self, sub: _Scan, taken_by_confirmed: int) -> float:
        """Measured clutter density (plots per m^2 per scan) of the radar of ``sub``."""
        code = float(np.nan_to_num(sub.sac[0], nan=-1.0) * 256
                     + np.nan_to_num(sub.sic[0], nan=-1.0))
        rng = sub.range_m[np.isfinite(sub.range_m)]
        reach = float(rng.max()) if rng.size else 0.0
        n = float(len(sub.t) - taken_by_confirmed)
        c = self._clutter.get(code)
        if c is None:
            c = self._clutter[code] = [n, reach]
        else:
            c[0] += 0.02 * (n - c[0])
            c[1] = max(c[1], reach)
        area = np.pi * max(c[1], 10_000.0) ** 2
        return max(c[0], 0.5) / area

    # ------------------------------------------------------------------ internals

    def _height_gate(self, tracks: np.ndarray, alt: Array, dt: Array) -> np.ndarray:
        """Whether plot heights ``alt`` fit the tracks' altitudes predicted ``dt`` ahead.

        A 3D radar's height is coarse (hundreds of metres) but tells a drone at 300 m
        from an airliner at 11 km passing over it, which the horizontal gate cannot:
        pairs whose height differs by more than :attr:`height_gate_m` plus four sigmas
        of the track's predicted altitude are out (plots or tracks without a height
        always fit).
        """
        a = self._a
        known = np.isfinite(alt) & a["has_alt"][tracks]
        if not known.any():
            return np.ones(len(tracks), bool)
        zv, pv = a["zv"][tracks], a["pv"][tracks]
        pred = zv[:, 0] + zv[:, 1] * dt
        var = pv[:, 0, 0] + 2 * dt * pv[:, 0, 1] + dt**2 * pv[:, 1, 1]
        near = np.abs(alt - pred) <= self.height_gate_m + 4 * np.sqrt(np.maximum(var, 0.0))
        return np.asarray(~known | near)

    def _within_reach(self, st: FilterState, ri: np.ndarray, z: Array, r: Array,
                      dt: Array) -> np.ndarray:
        """Whether plots ``z`` lie where the tracks ``st`` (rows ``ri``) could have flown
        in ``dt`` seconds since their last update.

        The IMM's gate models manoeuvres as white-noise acceleration: its manoeuvre
        model's position spread grows as ``dt^1.5``, which after half a minute of
        coasting is a gate of ten kilometres, an acceleration of over a g held the whole
        time, and a track that lost its target (a drone that came down) takes a clutter
        plot there and jumps. A target cannot be further from where it was last seen
        than its speed (plus three sigmas of it, at most ``max_speed_m_s``) carries it,
        plus what speeding up by ``max_accel_m_s2`` the whole time adds, ``a dt^2 / 2``,
        plus three sigmas of the track's and the plot's position; turns only bring it
        closer. 2 m/s^2 held for a minute is 120 m/s gained: beyond a drone's or an
        airliner's sustained acceleration (a quadcopter that darts off a hover at 4
        m/s^2 tops out at 20-30 m/s within seconds, well inside the bound). Over a scan
        or two this is wider than the IMM gate; it bites on long coasts (a drone that came
        down, whose track would take clutter kilometres off). Gaps up to
        ``reach_after_s`` (three scans) are left to the IMM, whose manoeuvre model is
        made for them: a fighter that lights its afterburner between two scans gains
        more than 2 m/s^2, and its gate is then still within a kilometre or two.
        """
        x, p = self.motion.estimate(st)
        x, p = x[ri], p[ri]
        speed = np.hypot(x[:, 2], x[:, 3])
        sig_v = np.sqrt(np.maximum(np.linalg.eigvalsh(p[:, 2:, 2:])[:, -1], 0.0))
        sig_p = np.sqrt(np.maximum(np.linalg.eigvalsh(p[:, :2, :2])[:, -1], 0.0))
        sig_z = np.sqrt(np.maximum(np.linalg.eigvalsh(r)[:, -1], 0.0))
        v_max = np.minimum(speed + 3 * sig_v, self.max_speed)
        gap = np.abs(dt)
        reach = v_max * gap + 0.5 * self.max_accel * gap**2 + 3 * (sig_p + sig_z)
        return np.asarray((gap <= self.reach_after_s) | (np.hypot(*(z - x[:, :2]).T) <= reach))

    def _cost(self, tracks: np.ndarray, plots: np.ndarray, z: Array, r: Array,
              t_p: Array, alt: Array | None = None, density: float | None = None) -> Array:
        """Gated cost (d2 + ln|S|) of track-plot pairs; inf outside the gate (and
        outside the height gate when plot heights ``alt`` are given; with a clutter
        ``density``, also where the plot is likelier clutter and the target missed,
        see :meth:`_likelier_than_miss`)."""
        if alt is None:
            alt = np.full(len(t_p), np.nan)
        assert self._state is not None
        a = self._a
        t_mid = float(np.median(t_p[plots]))
        spread = float(np.abs(t_p[plots] - t_mid).max())
        st = self._state.take(tracks)
        hx, hp = self.motion.hypotheses(self.motion.predict(st, t_mid - a["t"][tracks]))
        speed = np.hypot(hx[..., 2], hx[..., 3]).max(axis=1)
        sig_v = np.sqrt(np.maximum(hp[..., 2, 2], hp[..., 3, 3])).max(axis=1)
        sig_p = np.sqrt(np.linalg.eigvalsh(hp[..., :2, :2])[..., -1]).max(axis=1)
        r_max = float(np.sqrt(np.linalg.eigvalsh(r[plots])[:, -1].max()))
        radius = np.sqrt(self.gate) * (sig_p + r_max) + (speed + 4 * sig_v) * spread + 1.0
        centre = hx[:, :, :2].mean(axis=1)
        radius += np.abs(hx[:, :, :2] - centre[:, None]).max(axis=(1, 2)) * 1.5
        tree = cKDTree(z[plots])
        found = tree.query_ball_point(centre, radius)
        counts = np.fromiter((len(f) for f in found), np.int64, len(found))
        cost = np.full((tracks.size, plots.size), np.inf)
        if counts.sum() == 0:
            return cost
        ri = np.repeat(np.arange(tracks.size), counts)
        ci = np.fromiter((c for f in found for c in f), np.int64, int(counts.sum()))
        dt = t_p[plots[ci]] - a["t"][tracks[ri]]
        predicted = self.motion.predict(st.take(ri), dt)
        pm, pc = self.motion.hypotheses(predicted)
        nu = z[plots[ci]][:, None] - pm[..., :2]  # (pairs, hypotheses, 2)
        s = pc[..., :2, :2] + r[plots[ci]][:, None]
        d2 = np.einsum("nki,nkij,nkj->nk", nu, np.linalg.inv(s), nu)
        c = d2 + np.log(np.linalg.det(s))
        best = np.argmin(np.where(d2 <= self.gate, c, np.inf), axis=1)
        d2b = d2[np.arange(d2.shape[0]), best]
        ok = ((d2b <= self.gate) & self._height_gate(tracks[ri], alt[plots[ci]], dt)
              & self._within_reach(st, ri, z[plots[ci]], r[plots[ci]], dt))
        if density is not None:
            ok &= self._likelier_than_miss(c, self.motion.hypothesis_weights(predicted),
                                           density)
        cost[ri[ok], ci[ok]] = c[np.arange(c.shape[0]), best][ok]
        return cost

    def _likelier_than_miss(self, cost: Array, weight: Array, density: float) -> np.ndarray:
        """Whether each pair's plot is likelier the track's target than clutter with
        the target missed this scan.

        The gate admits a plot that any one motion model could explain: after a
        10 s gap the IMM's manoeuvre model (made for fighters) reaches 1.5 km, and a
        drone's track whose plot is missed takes a clutter plot there and flies off
        at 180 m/s, while a new track starts on the drone. But the manoeuvre model is
        one of several, with its probability: the plot's likelihood is the mixture
        ``sum_m w_m N_m(z)`` (``w`` the models' predicted probabilities, ``N_m`` the
        Gaussian of innovation covariance ``S_m``, ``cost`` = ``d2 + ln|S|`` per model).
        The pair is kept when ``p_detect`` times that beats ``1 - p_detect`` times the
        clutter ``density`` (plots per m^2): the two ways the scan can have come
        about, the same likelihood ratio the track score adds up. A plot where the
        quiet models predict the target is thousands of times likelier; one only the
        manoeuvre model reaches, at a few per cent, is not, unless clutter is rare.
        """
        p_d = (self.score or TrackScore()).p_detect
        mixture = self._mixture_loglik(cost, weight)
        return np.asarray(np.log(p_d) + mixture >= np.log1p(-p_d) + np.log(max(density, 1e-18)))

    @staticmethod
    def _mixture_loglik(cost: Array, weight: Array) -> Array:
        """``ln sum_m w_m N_m(z)`` of each pair: the plot's density under the motion
        models of weights ``weight`` (pairs, m), ``cost`` = ``d2 + ln|S|`` per model."""
        with np.errstate(divide="ignore"):
            log_lik = np.log(np.maximum(weight, 1e-300)) - 0.5 * cost - np.log(2 * np.pi)
        peak = log_lik.max(axis=1)
        return np.asarray(peak + np.log(np.exp(log_lik - peak[:, None]).sum(axis=1)))

    def _correct_soft(self, soft: _Soft, sub: _Scan) -> None:
        """JPDA update of confirmed tracks, predicted to their most probable plot's time."""
        assert self._state is not None
        best = np.zeros(soft.tracks.size, np.int64)
        order = np.lexsort((-soft.beta, soft.pair))
        first = np.concatenate([[True], soft.pair[order][1:] != soft.pair[order][:-1]])
        best[soft.pair[order][first]] = soft.plots[order][first]
        t_ref = sub.t[best]
        st = self.motion.predict(self._state.take(soft.tracks), t_ref - self._a["t"][soft.tracks])
        self._state.assign(soft.tracks, self.motion.update_pda(
            st, soft.pair, sub.z[soft.plots], sub.r[soft.plots], soft.beta, soft.beta0,
            soft.density))

    def _correct(self, ti: np.ndarray, pj: np.ndarray, z: Array, r: Array, t_p: Array,
                 alt: Array, *, horizontal: bool = True, density: float | None = None
                 ) -> Array:
        """Update tracks ``ti`` with plots ``pj``: position (unless done already),
        altitude, times and counts. Returns the position variance to report for each
        fix (m^2 per axis, see :meth:`_fix_variance`; NaN where the position was not
        updated here or no clutter ``density`` is given)."""
        var = np.full(ti.size, np.nan)
        if ti.size == 0:
            return var
        assert self._state is not None
        a = self._a
        if horizontal:
            st = self.motion.predict(self._state.take(ti), t_p[pj] - a["t"][ti])
            updated = self.motion.update(st, z[pj], r[pj])
            self._state.assign(ti, updated)
            if density is not None:
                var = self._fix_variance(st, updated, z[pj], r[pj], density)
        a["t"][ti] = t_p[pj]
        a["t_seen"][ti] = np.maximum(a["t_seen"][ti], t_p[pj])
        a["updates"][ti] += 1
        have = np.isfinite(alt[pj])
        old = have & a["has_alt"][ti]
        if old.any():
            k = ti[old]
            zv, pv = self.vertical.step(a["zv"][k], a["pv"][k], t_p[pj[old]] - a["t_alt"][k],
                                        alt[pj[old]])
            a["zv"][k], a["pv"][k] = zv, pv
        new = have & ~a["has_alt"][ti]
        if new.any():
            k = ti[new]
            a["zv"][k], a["pv"][k] = self.vertical.initiate(alt[pj[new]])
            a["has_alt"][k] = True
        a["t_alt"][ti[have]] = t_p[pj[have]]
        return var

    def _fix_variance(self, predicted: FilterState, updated: FilterState, z: Array,
                      r: Array, density: float) -> Array:
        """Position variance (m^2 per axis: half the trace) of fixes made by taking
        plots ``z`` (noise ``r``) as the targets' own, counting that they may not be.

        A one-to-one (GNN) update takes its plot as certainly the target's, and the
        filter's covariance after it is about the plot's own noise however surprising
        the plot was: a drone's track that coasts after its drone is gone takes a clutter
        plot 3.6 km off, only its manoeuvre model reaching it, and reports the fix to
        18 m, the radar's accuracy. The plot is the target's with the probability
        ``beta`` of the two ways the scan can have come about (the likelihood gate's,
        :meth:`_likelier_than_miss`): ``p_detect sum_m w_m N_m(z)`` against clutter
        with the target missed, ``(1 - p_detect) density``; ``beta0 = 1 - beta``. The
        target is then either at the updated estimate (``x_u``, ``P_u``) or where the
        prediction put it (``x_p``, ``P_p``), and the mean square error of the reported
        position ``x_u`` is that mixture's about it (as a PDA update's covariance holds
        the spread of its hypotheses):

            MSE = beta P_u + beta0 (P_p + (x_p - x_u)(x_p - x_u)')

        A plot where the target was expected has ``beta0`` of 1e-4 or less and adds
        centimetres; the clutter plot above, ``beta0`` 0.18, makes it 1.3 km. The
        filter itself goes on from ``x_u``, ``P_u``: this is what a fix is worth, for
        the detector's test of how deep an entry is (two sigmas, see
        :func:`skyfence.incidents.assess.within_accuracy`).
        """
        xp, pp = self.motion.estimate(predicted)
        xu, pu = self.motion.estimate(updated)
        hx, hp = self.motion.hypotheses(predicted)
        nu = z[:, None] - hx[..., :2]
        s = hp[..., :2, :2] + r[:, None]
        cost = np.einsum("nki,nkij,nkj->nk", nu, np.linalg.inv(s), nu) + np.log(
            np.linalg.det(s))
        p_d = (self.score or TrackScore()).p_detect
        log_target = np.log(p_d) + self._mixture_loglik(
            cost, self.motion.hypothesis_weights(predicted))
        log_clutter = np.log1p(-p_d) + np.log(max(density, 1e-18))
        beta0 = 1.0 / (1.0 + np.exp(np.clip(log_target - log_clutter, -700.0, 700.0)))
        d = xp[:, :2] - xu[:, :2]
        var_u = np.trace(pu[:, :2, :2], axis1=1, axis2=2) / 2
        var_p = np.trace(pp[:, :2, :2], axis1=1, axis2=2) / 2 + (d * d).sum(axis=1) / 2
        return np.asarray((1.0 - beta0) * var_u + beta0 * var_p)

    def _start(self, idx: np.ndarray, scan: _Scan) -> None:
        """Start candidates on plots ``idx`` of ``scan``; each candidate's first plot
        is the first row of its history, with the plot's identity and source like any
        later row (see :meth:`_rows`)."""
        if idx.size == 0:
            return
        z, r, t_p, alt = scan.z, scan.r, scan.t, scan.alt
        new = self.motion.initiate(z[idx], r[idx])
        self._state = new if self._state is None else self._state.concat(new)
        zv, pv = self.vertical.initiate(np.nan_to_num(alt[idx]))
        n = idx.size
        fresh = {
            "uid": np.arange(self._next_uid, self._next_uid + n, dtype=np.int64),
            "status": np.zeros(n, np.int64), "hits": np.ones(n, np.int64),
            "age": np.ones(n, np.int64), "misses": np.zeros(n, np.int64),
            "t": t_p[idx].copy(), "t_alt": t_p[idx].copy(), "has_alt": np.isfinite(alt[idx]),
            "t_seen": t_p[idx].copy(), "updates": np.ones(n, np.int64), "llr": np.zeros(n),
            "llr_peak": np.zeros(n), "confirmed_at": np.full(n, np.inf),
            "llr_hist": np.zeros((n, SCORE_HISTORY)),
            "zv": zv, "pv": pv, "label": np.full(n, None, object),
        }
        self._next_uid += n
        for key in self._a:
            self._a[key] = np.concatenate([self._a[key], fresh[key]])
        # a candidate's first plot is part of its history
        x, p = self.motion.estimate(new)
        for j in range(n):
            num = np.array([t_p[idx[j]], x[j, 0], x[j, 1], x[j, 2], x[j, 3], zv[j, 0], zv[j, 1],
                            float(np.isfinite(alt[idx[j]])),
                            float(np.sqrt(np.trace(p[j, :2, :2]) / 2)), scan.sac[idx[j]],
                            scan.sic[idx[j]], scan.record[idx[j]]])
            uid = int(fresh["uid"][j])
            ident = (scan.icao24[idx[j]], scan.squawk[idx[j]], scan.callsign[idx[j]])
            self._history[uid] = [(uid, num, ident)]

    def _rows(self, ti: np.ndarray, pj: np.ndarray, scan: _Scan,
              var: Array | None = None) -> list[_Row]:
        """One (uid, numbers, (icao24, squawk, callsign)) row per updated track; its
        position sigma from ``var`` (m^2 per axis, see :meth:`_fix_variance`) where
        given and finite, else from the filter's covariance."""
        if ti.size == 0:
            return []
        assert self._state is not None
        a = self._a
        x, p = self.motion.estimate(self._state.take(ti))
        own = np.trace(p[:, :2, :2], axis1=1, axis2=2) / 2
        if var is not None:
            own = np.where(np.isfinite(var), var, own)
        sig = np.sqrt(own)
        num = np.column_stack([a["t"][ti], x[:, 0], x[:, 1], x[:, 2], x[:, 3],
                               a["zv"][ti, 0], a["zv"][ti, 1], a["has_alt"][ti], sig,
                               scan.sac[pj], scan.sic[pj], scan.record[pj]])
        uids = a["uid"][ti].tolist()
        ic, sq, cs = scan.icao24[pj], scan.squawk[pj], scan.callsign[pj]
        return [(uids[i], num[i], (ic[i], sq[i], cs[i])) for i in range(ti.size)]

    def _states_frame(self, out: list[_Row]) -> pd.DataFrame:
        if not out:
            return _empty_states()
        num = np.vstack([o[1] for o in out])
        obj = np.empty((len(out), 3), dtype=object)
        obj[:] = [o[2] for o in out]
        return self._frame(num, obj, [self._labels.get(o[0]) for o in out])

    def _frame(self, num: Array, obj: np.ndarray, labels: list[Any]) -> pd.DataFrame:
        d = dict(zip(_NUM, num.T, strict=True))
        lat, lon = self.plane.to_latlon(d["x"], d["y"])
        heading = (np.degrees(np.arctan2(d["vx"], d["vy"])) - self.plane.north_angle(lat, lon))
        has_alt = d["has_alt"] > 0
        return pd.DataFrame({
            "time": d["time"], "track": np.asarray(labels, dtype=object), "lat": lat,
            "lon": lon, "altitude": np.where(has_alt, d["z"], np.nan),
            "velocity": np.hypot(d["vx"], d["vy"]), "heading": heading % 360.0,
            "vertrate": np.where(has_alt, d["vz"], np.nan), "x": d["x"], "y": d["y"],
            "vx": d["vx"], "vy": d["vy"], "sigma_pos_m": d["sigma_pos_m"],
            "icao24": obj[:, 0], "squawk": obj[:, 1], "callsign": obj[:, 2],
            "sac": d["sac"], "sic": d["sic"], "record": d["record"],
        })


def _empty_states() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=float) for c in TRACK_STATE_COLUMNS})
    for c in ("track", "icao24", "squawk", "callsign"):
        frame[c] = frame[c].astype(object)
    return frame


def scans_of(plots: pd.DataFrame, scan_s: float) -> list[np.ndarray]:
    """Row indices of ``plots`` (sorted by time) cut into consecutive ``scan_s`` windows."""
    t = plots["time"].to_numpy(float)
    if t.size == 0:
        return []
    k = np.floor((t - t.min()) / scan_s).astype(np.int64)
    cuts = np.flatnonzero(np.diff(k)) + 1
    return np.split(np.arange(t.size), cuts)


def track_plots(
    plots: pd.DataFrame,
    sites: Iterable[RadarSite] = (),
    *,
    scan_s: float = 4.0,
    plane: LocalPlane | None = None,
    details: bool = False,
    **parts: Any,
) -> pd.DataFrame:
    """Track a whole plot batch; return an observation batch of confirmed track states.

    The plots are cut into ``scan_s`` windows (the radar period) and fed to a
    :class:`Tracker` (``parts`` go to its constructor). ``icao24`` holds the track id;
    ``squawk`` and ``callsign`` come from the plot that updated the track. With
    ``details`` the frame also has the :data:`TRACK_STATE_COLUMNS` extras (plot Mode S
    address as ``mode_s``, position sigma, plane coordinates).
    """
    sites = list(sites)
    plots = plots.sort_values("time", kind="stable").reset_index(drop=True)
    if plane is None:
        if sites:
            plane = LocalPlane.around([s.lat for s in sites], [s.lon for s in sites])
        elif len(plots):
            plane = LocalPlane.around(plots["lat"], plots["lon"])
        else:
            plane = LocalPlane(0.0, 0.0)
    tracker = Tracker(plane, sites, **parts)
    scan = tracker._prepare(plots)
    rows: list[_Row] = []
    for idx in scans_of(plots, scan_s):
        rows.extend(tracker._step(scan.take(idx)))
    states = tracker._states_frame(rows)
    states = states.sort_values(["track", "time"], kind="stable").reset_index(drop=True)
    obs = make_observations(
        time=states["time"], icao24=states["track"], lat=states["lat"], lon=states["lon"],
        altitude=states["altitude"], velocity=states["velocity"], heading=states["heading"],
        vertrate=states["vertrate"], squawk=states["squawk"], callsign=states["callsign"])
    if details:
        obs["mode_s"] = states["icao24"].to_numpy(object)
        for c in ("sigma_pos_m", "x", "y", "vx", "vy", "sac", "sic", "record"):
            obs[c] = states[c].to_numpy()
    return obs
