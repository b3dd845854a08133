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

from skyfence.model import make_observations
from skyfence.radar import LocalPlane, RadarSite
from skyfence.tracking.association import Associator, GlobalNearestNeighbour
from skyfence.tracking.deletion import AnyOf, CoastDeleter, Deleter, MissDeleter
from skyfence.tracking.filters import IMM, FilterState, MotionFilter, Vertical
from skyfence.tracking.initiation import MofNInitiator

Array = npt.NDArray[np.float64]

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

    def take(self, idx: np.ndarray) -> _Scan:
        """The plots ``idx``."""
        return _Scan(**{k: v[idx] for k, v in vars(self).items()})


#: one reported state: (track uid, numbers in _NUM order, (icao24, squawk, callsign))
_Row = tuple[int, np.ndarray, tuple[Any, ...]]
_NUM = ("time", "x", "y", "vx", "vy", "z", "vz", "has_alt", "sigma_pos_m", "sac", "sic",
        "record")


def plot_covariances(
    x: Array, y: Array, range_m: Array, sigma_range_m: Array, sigma_azimuth_deg: Array,
    site_xy: Array,
) -> Array:
    """Plot position covariances (n, 2, 2) in the plane: range noise along the line of
    sight from the radar at ``site_xy`` (n, 2), azimuth noise across it.

    Rows whose site is unknown (NaN) get a circle of the larger of the two sigmas.
    """
    dx, dy = x - site_xy[:, 0], y - site_xy[:, 1]
    ground = np.hypot(dx, dy)
    known = np.isfinite(ground) & (ground > 1.0)
    ux = np.where(known, dx / np.where(known, ground, 1.0), 1.0)
    uy = np.where(known, dy / np.where(known, ground, 1.0), 0.0)
    sr2 = sigma_range_m**2
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
        The parts (defaults: GNN with a 0.999 gate, 2-of-3 then 3-of-5, end after 3
        missed scans or 20 s without a plot).
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
        max_speed_m_s: float = 700.0,
        id_prefix: str = "R",
        emit_history: bool = True,
    ) -> None:
        self.plane = plane
        self.motion: MotionFilter = motion or IMM()
        self.associator: Associator = associator or GlobalNearestNeighbour()
        self.initiator = initiator or MofNInitiator()
        self.deleter: Deleter = deleter or AnyOf((MissDeleter(3), CoastDeleter(20.0)))
        self.vertical = vertical or Vertical()
        self.max_speed = max_speed_m_s
        self.id_prefix = id_prefix
        self.emit_history = emit_history
        gate = getattr(self.associator, "gate", None)
        self.gate = float(gate) if gate is not None else 13.8
        self._site_xy: dict[tuple[int, int], tuple[float, float]] = {}
        for s in sites:
            sx, sy = plane.to_xy(s.lat, s.lon)
            self._site_xy[s.key] = (float(sx), float(sy))
        self._next_uid = 0
        self._next_label = 1
        self._state: FilterState | None = None
        self._a: dict[str, np.ndarray] = {
            "uid": np.empty(0, np.int64), "status": np.empty(0, np.int64),
            "hits": np.empty(0, np.int64), "age": np.empty(0, np.int64),
            "misses": np.empty(0, np.int64), "t": np.empty(0), "t_alt": np.empty(0),
            "has_alt": np.empty(0, bool), "zv": np.empty((0, 2)), "pv": np.empty((0, 2, 2)),
            "label": np.empty(0, object),
        }
        self._history: dict[int, list[_Row]] = {}
        self._labels: dict[int, str] = {}

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
        if self._site_xy:
            keys = np.array(sorted(self._site_xy))
            codes = keys[:, 0] * 256 + keys[:, 1]
            xy = np.array([self._site_xy[(int(k[0]), int(k[1]))] for k in keys])
            code = sac * 256 + sic
            pos = np.clip(np.searchsorted(codes, code), 0, codes.size - 1)
            found = codes[pos] == code
            site_xy[found] = xy[pos[found]]
        r = plot_covariances(zx, zy, col("range_m", 1e5), col("sigma_range_m", 50.0),
                             col("sigma_azimuth_deg", 0.08), site_xy)
        return _Scan(
            t=col("time", np.nan), z=np.column_stack([zx, zy]), r=r,
            alt=col("altitude", np.nan), icao24=col("icao24", None, object),
            squawk=col("squawk", None, object), callsign=col("callsign", None, object),
            sac=sac, sic=sic, record=col("record", np.nan))

    def _step(self, scan: _Scan, now: float | None = None) -> list[_Row]:
        """One scan: associate, correct, initiate, confirm, delete; the rows to report."""
        n_plots = len(scan.t)
        if n_plots == 0 and now is None:
            return []
        t_p, z, r, alt = scan.t, scan.z, scan.r, scan.alt
        now = float(t_p.max()) if now is None else float(now)
        a = self._a
        n_tracks = len(a["uid"])
        used = np.zeros(n_plots, bool)
        blocked = np.zeros(n_plots, bool)  # gated by a firm track: may not start a new one
        hit = np.zeros(n_tracks, bool)
        pair_t: list[np.ndarray] = []
        pair_p: list[np.ndarray] = []
        confirmed = self.initiator.confirmed
        groups = ((a["status"] == confirmed, True),
                  ((a["status"] > 0) & (a["status"] < confirmed), True),
                  (a["status"] == 0, False))
        for group, firm in groups:
            tracks = np.flatnonzero(group)
            free = np.flatnonzero(~used)
            if tracks.size == 0 or free.size == 0:
                continue
            cost = self._cost(tracks, free, z, r, t_p)
            if firm:
                blocked[free[np.isfinite(cost).any(axis=0)]] = True
            rows, cols = self.associator.associate(cost)
            ti, pj = tracks[rows], free[cols]
            used[pj] = True
            hit[ti] = True
            pair_t.append(ti)
            pair_p.append(pj)
        ti = np.concatenate(pair_t) if pair_t else np.empty(0, np.int64)
        pj = np.concatenate(pair_p) if pair_p else np.empty(0, np.int64)
        self._correct(ti, pj, z, r, t_p, alt)

        # bookkeeping: hits, misses, age; M-of-N; confirmation; deletion
        a["hits"] = (a["hits"] << 1) | hit.astype(np.int64)
        a["misses"] = np.where(hit, 0, a["misses"] + 1)
        a["age"] += 1
        was_confirmed = a["status"] == confirmed
        status, drop = self.initiator.step(a["status"], a["hits"], a["age"])
        a["status"] = status
        newly = np.flatnonzero((status == confirmed) & ~was_confirmed)
        newly = newly[np.argsort(a["uid"][newly])]
        for k in newly:
            a["label"][k] = f"{self.id_prefix}{self._next_label:04d}"
            self._labels[int(a["uid"][k])] = a["label"][k]
            self._next_label += 1
        drop |= (status == confirmed) & self.deleter.delete(a["misses"], a["t"], now)

        # what to report: this scan's updates of confirmed tracks, plus history
        out: list[_Row] = []
        newly_set = set(newly.tolist())
        for k, row in zip(ti.tolist(), self._rows(ti, pj, scan), strict=True):
            if status[k] == confirmed:
                if self.emit_history and k in newly_set:
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

        # unclaimed plots, not gated by a firm track, start candidates
        start = np.flatnonzero(~used & ~blocked)
        self._start(start, z, r, t_p, alt)
        return out

    # ------------------------------------------------------------------ internals

    def _cost(self, tracks: np.ndarray, plots: np.ndarray, z: Array, r: Array,
              t_p: Array) -> Array:
        """Gated cost (d2 + ln|S|) of track-plot pairs; inf outside the gate."""
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
        pm, pc = self.motion.hypotheses(self.motion.predict(st.take(ri), dt))
        nu = z[plots[ci]][:, None] - pm[..., :2]  # (pairs, hypotheses, 2)
        s = pc[..., :2, :2] + r[plots[ci]][:, None]
        d2 = np.einsum("nki,nkij,nkj->nk", nu, np.linalg.inv(s), nu)
        c = d2 + np.log(np.linalg.det(s))
        best = np.argmin(np.where(d2 <= self.gate, c, np.inf), axis=1)
        d2b = d2[np.arange(d2.shape[0]), best]
        ok = d2b <= self.gate
        cost[ri[ok], ci[ok]] = c[np.arange(c.shape[0]), best][ok]
        return cost

    def _correct(self, ti: np.ndarray, pj: np.ndarray, z: Array, r: Array, t_p: Array,
                 alt: Array) -> None:
        if ti.size == 0:
            return
        assert self._state is not None
        a = self._a
        st = self.motion.predict(self._state.take(ti), t_p[pj] - a["t"][ti])
        self._state.assign(ti, self.motion.update(st, z[pj], r[pj]))
        a["t"][ti] = t_p[pj]
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

    def _start(self, idx: np.ndarray, z: Array, r: Array, t_p: Array, alt: Array) -> None:
        if idx.size == 0:
            return
        new = self.motion.initiate(z[idx], r[idx])
        self._state = new if self._state is None else self._state.concat(new)
        zv, pv = self.vertical.initiate(np.nan_to_num(alt[idx]))
        n = idx.size
        fresh = {
            "uid": np.arange(self._next_uid, self._next_uid + n, dtype=np.int64),
            "status": np.zeros(n, np.int64), "hits": np.ones(n, np.int64),
            "age": np.ones(n, np.int64), "misses": np.zeros(n, np.int64),
            "t": t_p[idx].copy(), "t_alt": t_p[idx].copy(), "has_alt": np.isfinite(alt[idx]),
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
                            float(np.sqrt(np.trace(p[j, :2, :2]) / 2)), np.nan, np.nan, np.nan])
            uid = int(fresh["uid"][j])
            self._history[uid] = [(uid, num, (None, None, None))]

    def _rows(self, ti: np.ndarray, pj: np.ndarray, scan: _Scan) -> list[_Row]:
        """One (uid, numbers, (icao24, squawk, callsign)) row per updated track."""
        if ti.size == 0:
            return []
        assert self._state is not None
        a = self._a
        x, p = self.motion.estimate(self._state.take(ti))
        sig = np.sqrt(np.trace(p[:, :2, :2], axis1=1, axis2=2) / 2)
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
