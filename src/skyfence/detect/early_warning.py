"""Early warnings before (or instead of) an entry: approach, loitering, went dark.

Three rules, each vectorized over many tracks, and :class:`EarlyWarning`, which keeps
the little state they need between observation batches of a live feed:

- **approach**: from a track's last fix (position, ground speed, track angle, vertical
  rate), extrapolate a straight path for ``horizon_s`` seconds and report where and
  when it would enter a zone. The path is a *rhumb line* (constant track angle, what
  a track holding its heading flies); its sideways offset from the great circle is about
  d² tan(lat) / 8R, 180 m after 75 km (300 s at 250 m/s) at 59° N, small against
  how far a track's heading drifts in 5 minutes. It is drawn as 8 straight
  lon/lat pieces, each interpolated like a contract track segment, which follow the
  rhumb line to within a few metres. The crossing is found with the zone's
  :class:`~skyfence.airspace.boundary.Boundary`; the predicted altitude
  (``altitude + vertrate * t``) must lie inside the zone's floor/ceiling, and a
  track above or below a zone's band is warned when its vertical rate brings it into
  the band where its path is over the zone (already over it, or after flying over
  its edge above the ceiling or below the floor).
- **loitering**: a track that stays outside a zone but within ``loiter_distance_m`` of
  its boundary for at least ``loiter_min_s`` (the Vaindloo MiG-31s flew along the
  Estonian border before entering). A run of such fixes is broken by a fix that is
  farther out or inside, or by a silence longer than ``gap_s``.
- **went dark**: a cooperative track (an ICAO address) whose last fix, before it fell
  silent, lay within ``dark_distance_m`` of a zone boundary, inside or outside.
  :func:`went_dark` judges the silent tracks a caller gives; :class:`EarlyWarning`
  also finds them itself, and warns only for a silence that means something: longer
  than ``dark_after_s`` and than ``dark_interval_factor`` times the track's own
  message interval, in the middle of the receivers' good coverage as
  :class:`~skyfence.detect.coverage.CoverageModel` learns it from the traffic (not at
  its edge, where every aircraft falls silent), at the altitude the track was and
  would have reached by now, and not while descending to land
  (:func:`silence_explained` says why a silence is not suspicious). Where a primary
  radar also sees the aircraft, its confirmed went-dark (fusion) outranks this guess.

Times are feed time (unix seconds of the data), never the wall clock, so a replay
gives the same warnings as the live feed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from skyfence.airspace.antimeridian import wrap_lon
from skyfence.airspace.boundary import Boundary
from skyfence.airspace.geodesy import FloatArray, metres_per_degree
from skyfence.airspace.zones import Zone
from skyfence.detect.coverage import CoverageModel
from skyfence.identify.icao_blocks import parse_icao24
from skyfence.model import Entry
from skyfence.vocab import BEHAVIOURS, Behaviour, ZoneKind

log = logging.getLogger(__name__)

KINDS = BEHAVIOURS
#: weight of the newest interval in a track's running message interval
_INTERVAL_WEIGHT = 0.25
#: straight lon/lat pieces an extrapolated rhumb line is drawn with (error ~ 1/pieces^2)
_PIECES = 8
_FIX_COLUMNS = ("time", "icao24", "lat", "lon", "altitude", "velocity", "heading",
                "vertrate", "callsign")
#: what :class:`EarlyWarning` keeps of each track besides its last fix
_STATE_COLUMNS = ("cell", "interval_s")


@dataclass(frozen=True)
class EarlyWarningConfig:
    """Limits of the early-warning rules (named defaults)."""

    #: how far ahead an approach is predicted, seconds
    horizon_s: float = 300.0
    #: a track slower than this is not extrapolated (hovering, stationary), m/s
    min_speed_ms: float = 1.0
    #: loitering: distance from the boundary (outside) that counts as "along it", metres
    loiter_distance_m: float = 10_000.0
    #: loitering: how long a track must stay there, seconds
    loiter_min_s: float = 300.0
    #: went dark: distance from the boundary within which a silence matters, metres
    dark_distance_m: float = 20_000.0
    #: went dark: feed seconds without a fix after which a track counts as silent
    dark_after_s: float = 60.0
    #: went dark: ... and silent for this many times its own message interval
    dark_interval_factor: float = 6.0
    #: went dark: a track descending below this altitude is landing, metres
    landing_alt_m: float = 3_000.0
    #: went dark: ... when it sinks faster than this, m/s
    landing_sink_ms: float = 1.0
    #: went dark: no transponder message at all for this long (or for 3 times as long as
    #: between two looks at the feed, when they are farther apart) is the feed
    #: (receivers, network) failing, not transponders: silences count from its return
    feed_gap_s: float = 30.0
    #: a silence longer than this breaks a loitering run; state is dropped after it
    gap_s: float = 300.0


@dataclass(frozen=True)
class EarlyWarningEvent:
    """One warning about one track and one zone.

    ``at`` is the feed time of the fix that caused it and (``lat``, ``lon``,
    ``altitude``) that fix; ``distance_m`` its distance to the zone boundary.
    Approach: ``entry_time``, ``entry_point`` (lat, lon) and ``time_to_entry_s`` give
    the prediction. Loitering: ``since`` is when the run near the boundary began.
    Went dark: ``at`` is the last fix before the silence.
    """

    kind: Behaviour
    track: str
    zone: str
    zone_kind: ZoneKind
    at: float
    lat: float
    lon: float
    altitude: float | None
    distance_m: float
    velocity: float | None = None
    callsign: str | None = None
    entry_time: float | None = None
    entry_point: tuple[float, float] | None = None
    time_to_entry_s: float | None = None
    since: float | None = None

    @property
    def behaviours(self) -> tuple[str, ...]:
        """The policy behaviour flag this warning sets (``Policy.judge(..., behaviours)``)."""
        return (self.kind,)

    def to_entry(self) -> Entry:
        """A provisional :class:`Entry` describing the warning, for the policy and records.

        Approach: entered at the predicted time and point, nothing observed inside.
        Loitering and went dark: the track's fix at ``at`` (it is not inside).
        """
        t = self.entry_time if self.entry_time is not None else self.at
        point = self.entry_point if self.entry_point is not None else (self.lat, self.lon)
        return Entry(
            zone=self.zone, zone_kind=self.zone_kind, track=self.track, entered_at=t,
            entry_interpolated=True, exited_at=None, last_inside_at=t, max_depth_m=0.0,
            entry_point=point, exit_point=None, min_altitude_m=self.altitude,
            max_altitude_m=self.altitude, observations=0, callsign=self.callsign,
            max_speed_ms=self.velocity,
        )


def _opt(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


def _str_or_none(v: object) -> str | None:
    return v if isinstance(v, str) and v else None


def last_fixes(batch: pd.DataFrame) -> pd.DataFrame:
    """The latest fix of each track in an observation batch (one row per ``icao24``)."""
    if len(batch) == 0:
        return batch.iloc[0:0]
    ordered = batch.sort_values(["icao24", "time"], kind="stable")
    return ordered.drop_duplicates("icao24", keep="last").reset_index(drop=True)


def _col(df: pd.DataFrame, name: str) -> FloatArray:
    if name not in df.columns:
        return np.full(len(df), np.nan)
    return np.asarray(df[name].to_numpy(dtype=np.float64, na_value=np.nan))


def _ids(df: pd.DataFrame) -> np.ndarray:
    return np.asarray(df["icao24"].astype(str).to_numpy(), dtype=object)


def _callsigns(df: pd.DataFrame) -> np.ndarray:
    if "callsign" not in df.columns:
        return np.full(len(df), None, dtype=object)
    return np.asarray(df["callsign"].to_numpy(), dtype=object)


def _messages(ordered: pd.DataFrame, fixes: pd.DataFrame) -> np.ndarray:
    """Per track of ``fixes`` (one row each, sorted like ``ordered``): how many messages
    ``ordered`` holds of it, or the sum of its ``messages`` column (a caller that hands
    over only each track's latest fix says there how many it stands for)."""
    ids = ordered["icao24"].to_numpy(object)
    if "messages" in ordered.columns:
        n = ordered["messages"].to_numpy(np.float64, na_value=1.0)
        per = pd.Series(n).groupby(ids, sort=True).sum()
    else:
        per = pd.Series(ids).value_counts()
    got = per.reindex(fixes["icao24"].to_numpy(object)).to_numpy(np.float64)
    return np.maximum(np.nan_to_num(got, nan=1.0), 1.0)


def _take(values: np.ndarray, at: np.ndarray, missing: float) -> np.ndarray:
    """``values[at]``, with ``missing`` where ``at`` is -1 (not found)."""
    if len(values) == 0:
        return np.full(len(at), missing)
    return np.where(at >= 0, values[np.maximum(at, 0)], missing)


def _within_boundary(zone: Zone, lon: np.ndarray, lat: np.ndarray,
                     distance_m: float | np.ndarray) -> np.ndarray:
    """A planar screen that keeps every position within ``distance_m`` of the boundary.

    A lon/lat offset of ``g`` degrees spans at least ``g * min(m_lon, m_lat)`` metres,
    with metres per degree taken at the highest latitude the window reaches, so the
    planar test in degrees never drops a position that is geodesically close enough.
    """
    if len(lon) == 0:
        return np.zeros(0, dtype=bool)
    reach = np.clip(np.abs(lat) + distance_m / 110_000.0 + 0.01, 0, 89.9)
    m_lon, m_lat = metres_per_degree(reach)
    deg = distance_m / np.maximum(np.minimum(m_lon, m_lat), 1.0) * 1.001
    near = np.asarray(shapely.dwithin(zone.boundary, shapely.points(lon, lat), deg))
    # the plane ends at ±180 where the globe does not: look across it too
    for shift in (-360.0, 360.0):
        across = np.flatnonzero(~near & (np.abs(lon + shift) <= 180.0 + deg))
        if len(across):
            d = deg[across] if np.ndim(deg) else deg
            near[across] = shapely.dwithin(zone.boundary,
                                           shapely.points(lon[across] + shift, lat[across]), d)
    return near


def _near_zone(zone: Zone, lon: np.ndarray, lat: np.ndarray,
               margin_m: float | np.ndarray) -> np.ndarray:
    """Positions inside the zone's bounding box widened by ``margin_m`` (a cheap screen)."""
    x0, y0, x1, y1 = zone.geometry.bounds
    m_lon, m_lat = metres_per_degree(np.clip(np.abs(lat), 0, 89.0))
    dx = margin_m / np.maximum(m_lon, 1.0)
    dy = margin_m / m_lat
    in_lat = (lat >= y0 - dy) & (lat <= y1 + dy)
    in_lon = np.zeros(len(lon), bool)
    for shift in (0.0, -360.0, 360.0):  # the box seen across ±180 too
        x = lon + shift
        in_lon |= (x >= x0 - dx) & (x <= x1 + dx)
    return np.asarray(in_lat & in_lon)


# ---------------------------------------------------------------------------- approach


def rhumb_destination(
    lon: np.ndarray, lat: np.ndarray, heading_deg: np.ndarray, distance_m: np.ndarray
) -> tuple[FloatArray, FloatArray]:
    """End points of rhumb lines (constant track angle) of the given lengths.

    Metres per degree are taken at the mid latitude, which is exact to well under a
    metre for the few hundred kilometres an approach horizon covers.
    """
    h = np.radians(heading_deg)
    north = distance_m * np.cos(h)
    east = distance_m * np.sin(h)
    _, m_lat = metres_per_degree(lat)
    lat1 = lat + north / m_lat
    m_lon, m_lat_mid = metres_per_degree((lat + lat1) / 2)
    lat1 = lat + north / m_lat_mid
    lon1 = lon + east / np.maximum(m_lon, 1e-6)
    return np.asarray(lon1), np.asarray(lat1)


def predict_approaches(
    fixes: pd.DataFrame,
    zones: Sequence[Zone],
    horizon_s: float = 300.0,
    *,
    min_speed_ms: float = 1.0,
    boundaries: Sequence[Boundary] | None = None,
) -> list[EarlyWarningEvent]:
    """Tracks whose straight-line path enters a zone within ``horizon_s`` seconds.

    ``fixes`` holds one current fix per track (see :func:`last_fixes`) with the
    observation columns; tracks without ``velocity`` and ``heading`` or already inside
    a zone are not warned for that zone. One warning per (track, zone), the earliest
    predicted entry; sorted by time to entry.
    """
    n = len(fixes)
    if n == 0 or not zones:
        return []
    lon, lat = _col(fixes, "lon"), _col(fixes, "lat")
    alt, vz = _col(fixes, "altitude"), _col(fixes, "vertrate")
    speed, heading = _col(fixes, "velocity"), _col(fixes, "heading")
    t0 = _col(fixes, "time")
    ids, calls = _ids(fixes), _callsigns(fixes)
    movable = np.isfinite(speed) & np.isfinite(heading) & (speed >= min_speed_ms)
    hdg, reach_m = np.nan_to_num(heading), np.nan_to_num(speed) * horizon_s
    # the rhumb line as _PIECES straight lon/lat pieces (row i, piece k)
    k_frac = np.arange(_PIECES + 1) / _PIECES
    px, py = rhumb_destination(np.repeat(lon, _PIECES + 1), np.repeat(lat, _PIECES + 1),
                               np.repeat(hdg, _PIECES + 1), np.outer(reach_m, k_frac).ravel())
    px, py = px.reshape(n, _PIECES + 1), py.reshape(n, _PIECES + 1)
    climb = np.nan_to_num(vz)

    def position(i: np.ndarray, f: np.ndarray) -> tuple[FloatArray, FloatArray]:
        return rhumb_destination(lon[i], lat[i], hdg[i], reach_m[i] * f)

    out: list[EarlyWarningEvent] = []
    for z, zone in enumerate(zones):
        bnd = boundaries[z] if boundaries is not None else Boundary(zone.geometry)
        cand = np.flatnonzero(movable & _near_zone(zone, lon, lat, reach_m + 1000.0))
        if len(cand) == 0:
            continue
        flat_in = zone.contains(lon[cand], lat[cand], np.full(len(cand), np.nan))
        inside_now = flat_in & (zone.altitude_ok(alt[cand]) if zone.has_altitude_limits
                                else True)
        best_f = np.full(n, np.inf)
        # horizontal entries: crossings whose far side is inside
        outside = cand[~flat_in]
        outside = outside[_within_boundary(zone, lon[outside], lat[outside], reach_m[outside])]
        x0, y0 = px[outside, :-1].ravel(), py[outside, :-1].ravel()
        x1, y1 = px[outside, 1:].ravel(), py[outside, 1:].ravel()
        seg, frac = bnd.crossings(x0, y0, x1, y1)
        if len(seg):
            i = outside[seg // _PIECES]
            f = (seg % _PIECES + frac) / _PIECES
            eps = 1e-6
            fx = x0[seg] + (frac + eps) * (x1[seg] - x0[seg])
            fy = y0[seg] + (frac + eps) * (y1[seg] - y0[seg])
            ok = zone.contains(fx, fy, alt[i] + climb[i] * f * horizon_s)
            np.minimum.at(best_f, i[ok], f[ok])
        # vertical entries: outside its floor/ceiling, climbing or sinking into the band
        # where the path is over the zone (over it now, or past an edge crossed above or
        # below the band, which the horizontal test above rightly does not count)
        if zone.has_altitude_limits:
            over = cand[~inside_now]
            f_v = _vertical_entry_fraction(zone, alt[over], climb[over], horizon_s)
            hit = np.isfinite(f_v)
            if hit.any():
                j, fj = over[hit], f_v[hit]
                still = zone.contains(*position(j, fj), np.full(len(j), np.nan))
                np.minimum.at(best_f, j[still], fj[still])
        warned = np.flatnonzero(np.isfinite(best_f))
        if len(warned) == 0:
            continue
        f = best_f[warned]
        ex, ey = position(warned, f)
        dist = bnd.distance_m(lon[warned], lat[warned])
        for k, i in enumerate(warned):
            tte = float(f[k] * horizon_s)
            out.append(EarlyWarningEvent(
                kind="approach", track=str(ids[i]), zone=zone.name,
                zone_kind=zone.kind, at=float(t0[i]), lat=float(lat[i]), lon=float(lon[i]),
                altitude=_opt(alt[i]), distance_m=float(dist[k]), velocity=_opt(speed[i]),
                callsign=_str_or_none(calls[i]),
                entry_time=float(t0[i]) + tte,
                entry_point=(float(ey[k]), float(wrap_lon(ex[k]))),
                time_to_entry_s=tte,
            ))
    out.sort(key=lambda w: (w.time_to_entry_s or 0.0, w.track, w.zone))
    return out


def _vertical_entry_fraction(zone: Zone, alt: np.ndarray, climb: np.ndarray,
                             horizon_s: float) -> FloatArray:
    """Fraction of the horizon after which the altitude reaches the zone's band (or inf)."""
    f = np.full(len(alt), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        if zone.floor_m is not None:
            below = (alt < zone.floor_m) & (climb > 0)
            f = np.where(below, (zone.floor_m - alt) / (climb * horizon_s), f)
        if zone.ceiling_m is not None:
            above = (alt > zone.ceiling_m) & (climb < 0)
            f = np.where(above, (zone.ceiling_m - alt) / (climb * horizon_s), f)
    return np.where((f >= 0) & (f <= 1), f, np.inf)


# ---------------------------------------------------------------------------- went dark


def went_dark(
    silent: pd.DataFrame,
    zones: Sequence[Zone],
    distance_m: float = 20_000.0,
    *,
    boundaries: Sequence[Boundary] | None = None,
) -> list[EarlyWarningEvent]:
    """Cooperative tracks that fell silent within ``distance_m`` of a zone boundary.

    ``silent`` holds the last fix of each track that went silent (the caller decides
    what silent means, e.g. a transponder track lost while a radar track continues).
    Tracks whose id is not an ICAO address never had a transponder and are skipped.
    """
    if len(silent) == 0 or not zones:
        return []
    ids, calls = _ids(silent), _callsigns(silent)
    coop = parse_icao24(ids)[1]
    lon, lat, alt = _col(silent, "lon"), _col(silent, "lat"), _col(silent, "altitude")
    t, speed = _col(silent, "time"), _col(silent, "velocity")
    out = []
    for z, zone in enumerate(zones):
        cand = np.flatnonzero(coop & _near_zone(zone, lon, lat, distance_m))
        inside_all = zone.contains(lon[cand], lat[cand], alt[cand])
        cand = cand[inside_all | _within_boundary(zone, lon[cand], lat[cand], distance_m)]
        if len(cand) == 0:
            continue
        bnd = boundaries[z] if boundaries is not None else Boundary(zone.geometry)
        d = bnd.distance_m(lon[cand], lat[cand])
        inside = zone.contains(lon[cand], lat[cand], alt[cand])
        hit = (d <= distance_m) | inside
        for k in np.flatnonzero(hit):
            i = cand[k]
            out.append(EarlyWarningEvent(
                kind="went_dark", track=str(ids[i]), zone=zone.name,
                zone_kind=zone.kind, at=float(t[i]), lat=float(lat[i]), lon=float(lon[i]),
                altitude=_opt(alt[i]), distance_m=float(d[k]), velocity=_opt(speed[i]),
                callsign=_str_or_none(calls[i]),
            ))
    out.sort(key=lambda w: (w.at, w.track, w.zone))
    return out


def silence_explained(
    silent: pd.DataFrame, now: float, coverage: CoverageModel,
    config: EarlyWarningConfig | None = None, since: np.ndarray | None = None,
) -> np.ndarray:
    """Why each silent track's silence is not suspicious; ``""`` where it is.

    ``silent`` holds the last fix of each silent track (``time``, ``icao24``, ``lat``,
    ``lon``, ``altitude``, ``velocity``, ``heading``, ``vertrate``) and ``now`` is the
    feed time of the judgement. ``since`` is when the receivers could first have
    noticed each silence (default: the last fix; later when the feed itself was down
    after it, and the track is then followed by dead reckoning to that time). The
    first reason that applies is given:

    - ``"no transponder"``: the id is not an ICAO address (a radar track);
    - ``"landing"``: descending faster than ``landing_sink_ms`` below ``landing_alt_m``;
    - ``"outside good coverage"``: the last fix, or the position reached by ``since``,
      is not in good coverage (:meth:`CoverageModel.covered`: at its edge, outside it,
      or too little evidence);
    - ``"left the covered band"``: the altitude reached by ``now`` at the last vertical
      rate (never below 0) is not in good coverage at that place.

    Examples
    --------
    >>> from skyfence.detect.coverage import CoverageModel
    >>> silent = pd.DataFrame({"time": [0.0, 0.0], "icao24": ["T0042", "4b1805"],
    ...                        "lat": [59.0, 59.0], "lon": [26.0, 26.0],
    ...                        "altitude": [10_000.0, 800.0], "vertrate": [0.0, -4.0]})
    >>> silence_explained(silent, 60.0, CoverageModel()).tolist()
    ['no transponder', 'landing']
    """
    cfg = config or EarlyWarningConfig()
    n = len(silent)
    why = np.full(n, "", dtype=object)
    if n == 0:
        return why
    lat, lon = _col(silent, "lat"), _col(silent, "lon")
    alt, vz, t = _col(silent, "altitude"), _col(silent, "vertrate"), _col(silent, "time")
    climb = np.nan_to_num(vz)
    lead_s = np.zeros(n) if since is None else np.maximum(np.asarray(since) - t, 0.0)
    lon1, lat1 = rhumb_destination(lon, lat, np.nan_to_num(_col(silent, "heading")),
                                   np.nan_to_num(_col(silent, "velocity")) * lead_s)
    alt1 = np.maximum(alt + climb * lead_s, 0.0)
    alt_now = np.maximum(alt + climb * np.maximum(now - t, 0.0), 0.0)
    with np.errstate(invalid="ignore"):
        landing = (alt < cfg.landing_alt_m) & (vz <= -cfg.landing_sink_ms)
    rules = [
        (~parse_icao24(_ids(silent))[1], "no transponder"),
        (landing, "landing"),
        (~(coverage.covered(lat, lon, alt) & coverage.covered(lat1, lon1, alt1)),
         "outside good coverage"),
        (~coverage.covered(lat1, lon1, alt_now), "left the covered band"),
    ]
    for hit, reason in reversed(rules):  # the first rule that applies wins
        why[hit] = reason
    return why


# ---------------------------------------------------------------------------- loitering


def _empty_loiter() -> pd.DataFrame:
    return pd.DataFrame({"run_start": pd.Series(dtype="float64"),
                         "last_time": pd.Series(dtype="float64"),
                         "last_near": pd.Series(dtype="bool"),
                         "warned": pd.Series(dtype="bool")},
                        index=pd.Index([], dtype=object, name="icao24"))


def _loiter_zone(
    zone: Zone, bnd: Boundary, batch: pd.DataFrame, state: pd.DataFrame,
    cfg: EarlyWarningConfig,
) -> tuple[list[EarlyWarningEvent], pd.DataFrame]:
    """Loitering warnings of one zone for a batch sorted by (icao24, time)."""
    n = len(batch)
    ids = batch["icao24"].to_numpy()
    t, lon, lat = _col(batch, "time"), _col(batch, "lon"), _col(batch, "lat")
    alt = _col(batch, "altitude")
    near = np.zeros(n, dtype=bool)
    dist = np.full(n, np.inf)
    cand = np.flatnonzero(_near_zone(zone, lon, lat, cfg.loiter_distance_m))
    cand = cand[~zone.contains(lon[cand], lat[cand], alt[cand])]
    cand = cand[_within_boundary(zone, lon[cand], lat[cand], cfg.loiter_distance_m)]
    if len(cand):
        d = bnd.distance_m(lon[cand], lat[cand])
        dist[cand] = d
        near[cand] = d <= cfg.loiter_distance_m
    new_track = np.ones(n, dtype=bool)
    new_track[1:] = ids[1:] != ids[:-1]
    gap = np.zeros(n, dtype=bool)
    gap[1:] = (t[1:] - t[:-1]) > cfg.gap_s
    prev_near = np.zeros(n, dtype=bool)
    prev_near[1:] = near[:-1]
    starts = near & (new_track | gap | ~prev_near)
    run_start = np.where(starts, t, np.nan)
    warned_before = np.zeros(n, dtype=bool)
    # a run continuing from the previous batch keeps its start and its warned flag
    first = np.flatnonzero(new_track)
    carried = state.reindex(pd.Index(ids[first], dtype=object))
    cont = (near[first] & carried["last_near"].eq(True).to_numpy()
            & ((t[first] - carried["last_time"].to_numpy(dtype=np.float64)) <= cfg.gap_s))
    run_start[first[cont]] = carried["run_start"].to_numpy(dtype=np.float64)[cont]
    warned_before[first[cont]] = carried["warned"].eq(True).to_numpy()[cont]
    # forward-fill the start of each run over its fixes
    mark = np.where(starts, np.arange(n), 0)
    src = np.maximum.accumulate(mark)
    run_start = np.where(near, run_start[src], np.nan)
    warned_run = np.where(near, warned_before[src], False)
    loiter = near & ((t - run_start) >= cfg.loiter_min_s) & ~warned_run
    # first loitering fix of each run only
    run_id = np.cumsum(starts)
    lo = np.flatnonzero(loiter)
    first_lo = lo[np.unique(run_id[lo], return_index=True)[1]] if len(lo) else lo
    speed, calls = _col(batch, "velocity"), _callsigns(batch)
    events = [
        EarlyWarningEvent(
            kind="loitering", track=str(ids[i]), zone=zone.name, zone_kind=zone.kind,
            at=float(t[i]), lat=float(lat[i]), lon=float(lon[i]), altitude=_opt(alt[i]),
            distance_m=float(dist[i]), velocity=_opt(speed[i]),
            callsign=_str_or_none(calls[i]),
            since=float(run_start[i]),
        )
        for i in first_lo
    ]
    # state: the last fix of each track, whether its run has been warned
    run_warned = np.zeros(int(run_id.max(initial=0)) + 1, dtype=bool)
    run_warned[run_id[first_lo]] = True
    last = np.append(first[1:] - 1, n - 1)
    new = pd.DataFrame({
        "run_start": run_start[last],
        "last_time": t[last],
        "last_near": near[last],
        "warned": near[last] & (warned_run[last] | run_warned[run_id[last]]),
    }, index=pd.Index(ids[last], dtype=object, name="icao24"))
    merged = pd.concat([state[~state.index.isin(new.index)], new]) if len(state) else new
    return events, merged


def loitering(
    batch: pd.DataFrame,
    zones: Sequence[Zone],
    distance_m: float = 10_000.0,
    min_s: float = 300.0,
    *,
    gap_s: float = 300.0,
) -> list[EarlyWarningEvent]:
    """Tracks that stay outside a zone within ``distance_m`` of its boundary for ``min_s``.

    One warning per run near the boundary, at the first fix reaching ``min_s``. For a
    live feed use :class:`EarlyWarning`, which carries runs across batches.
    """
    ew = EarlyWarning(zones, EarlyWarningConfig(loiter_distance_m=distance_m,
                                                loiter_min_s=min_s, gap_s=gap_s))
    return ew.loitering(batch)


# ---------------------------------------------------------------------------- streaming


class EarlyWarning:
    """The three early-warning rules over a stream of observation batches.

    State is bounded: the last fix of each track (with its coverage cell and running
    message interval), one loitering run per (zone, track) and the set of warnings
    already given; all of it is dropped for a track silent for longer than ``gap_s``.
    ``coverage`` is the model of the receivers' coverage that the went-dark rule asks
    and that every transponder track teaches (its passages, starts and ends); a fresh,
    cold one by default, which warns of no silence until it has seen enough traffic.

    Examples
    --------
    >>> from skyfence.airspace.zones import circle_zone
    >>> from skyfence.model import make_observations
    >>> ew = EarlyWarning([circle_zone("Z", 59.0, 26.0, 5)])
    >>> batch = make_observations(time=[0.0], icao24=["abc123"], lat=[59.0], lon=[25.8],
    ...                           velocity=[100.0], heading=[90.0])
    >>> [(w.kind, w.zone, round(w.time_to_entry_s)) for w in ew.update(batch)]
    [('approach', 'Z', 65)]
    """

    def __init__(self, zones: Sequence[Zone], config: EarlyWarningConfig | None = None,
                 coverage: CoverageModel | None = None) -> None:
        self.zones = list(zones)
        self.config = config or EarlyWarningConfig()
        self.coverage = coverage if coverage is not None else CoverageModel()
        self.boundaries = [Boundary(z.geometry) for z in self.zones]
        self._loiter = [_empty_loiter() for _ in self.zones]
        self._last = pd.DataFrame({c: pd.Series(dtype=object if c in ("icao24", "callsign")
                                                else "int64" if c == "cell" else "float64")
                                   for c in (*_FIX_COLUMNS, *_STATE_COLUMNS)})
        self._approaching: set[tuple[str, str]] = set()
        self._dark: set[str] = set()
        self.now = -np.inf
        #: feed time of the latest transponder message, of the first after the latest
        #: feed gap, and the usual time between the latest messages of two looks
        self._heard_at = -np.inf
        self._feed_back_at = -np.inf
        self._look_s = np.nan

    @property
    def tracks(self) -> int:
        """How many tracks the state holds."""
        return len(self._last)

    def update(self, batch: pd.DataFrame, now: float | None = None) -> list[EarlyWarningEvent]:
        """Warnings caused by a batch: new approaches, loitering runs, tracks gone dark.

        ``now`` is the feed time (default: the latest time seen). An approach of a
        track into a zone is reported once while the prediction holds; it is reported
        again after the track stops being predicted to enter.
        """
        if len(batch):
            self.now = max(self.now, float(np.nanmax(_col(batch, "time"))))
        if now is not None:
            self.now = max(self.now, now)
        out: list[EarlyWarningEvent] = []
        if len(batch):
            ordered = batch.sort_values(["icao24", "time"], kind="stable").reset_index(drop=True)
            fixes = last_fixes(ordered)
            out += self._approach(fixes)
            out += self.loitering(ordered)
            self._remember(fixes, _messages(ordered, fixes))
        out += self._check_dark()
        self._expire()
        return out

    def loitering(self, ordered: pd.DataFrame) -> list[EarlyWarningEvent]:
        """Loitering warnings of a batch, carrying runs from earlier batches."""
        if len(ordered) == 0:
            return []
        ordered = ordered.sort_values(["icao24", "time"], kind="stable").reset_index(drop=True)
        out: list[EarlyWarningEvent] = []
        for z, zone in enumerate(self.zones):
            ev, self._loiter[z] = _loiter_zone(zone, self.boundaries[z], ordered,
                                               self._loiter[z], self.config)
            out += ev
        return out

    def _approach(self, fixes: pd.DataFrame) -> list[EarlyWarningEvent]:
        cfg = self.config
        warns = predict_approaches(fixes, self.zones, cfg.horizon_s,
                                   min_speed_ms=cfg.min_speed_ms, boundaries=self.boundaries)
        predicted = {(w.track, w.zone) for w in warns}
        seen = set(fixes["icao24"].astype(str))
        # re-arm pairs whose track reported and is no longer predicted to enter
        self._approaching = {p for p in self._approaching
                             if p[0] not in seen or p in predicted}
        fresh = [w for w in warns if (w.track, w.zone) not in self._approaching]
        self._approaching |= predicted
        return fresh

    def _remember(self, fixes: pd.DataFrame, messages: np.ndarray) -> None:
        """Keep each track's latest fix, its running message interval and coverage cell;
        teach the coverage model where transponder tracks pass and appear.

        ``messages`` counts the fixes each latest fix closes (the interval since the
        track's previous latest fix is shared among them). A fix no newer than the one
        kept (a late message, relayed or from a slower receiver, or a second copy of the
        kept one) changes nothing: the track was heard that late already, its silence
        counts from the kept fix, and a silence already judged is not ended by it. Nor
        does a gap that began before a feed outage ended teach the track's interval: it
        measures the outage."""
        last = self._last
        ids = fixes["icao24"].astype(str).to_numpy(object)
        at = pd.Index(last["icao24"].to_numpy(object)).get_indexer(ids)
        last_t = _take(last["time"].to_numpy(np.float64), at, np.nan)
        late = _col(fixes, "time") <= last_t
        if late.any():
            keep = ~late
            fixes, messages, ids, at, last_t = (fixes[keep], messages[keep], ids[keep],
                                                at[keep], last_t[keep])
        new = {c: fixes[c].to_numpy() for c in _FIX_COLUMNS if c in fixes.columns}
        new["icao24"] = ids
        known = at >= 0
        back = np.asarray(pd.Index(ids).isin(self._dark))  # heard again after a silence
        t = _col(fixes, "time")
        coop = parse_icao24(ids)[1]
        if coop.any():
            step = float(t[coop].max()) - self._heard_at
            if np.isfinite(step) and np.isnan(self._look_s):
                self._look_s = step  # the first two looks set the pace
            elif step > self._feed_gap_s() or not np.isfinite(step):
                self._feed_back_at = float(t[coop].min())  # it starts, or it is back
            elif step > 0:
                self._look_s = (1 - _INTERVAL_WEIGHT) * self._look_s + _INTERVAL_WEIGHT * step
            self._heard_at = max(self._heard_at, float(t[coop].max()))
        dt = (t - last_t) / messages
        old_iv = _take(last["interval_s"].to_numpy(np.float64), at, np.nan)
        running = np.where(np.isnan(old_iv), dt,
                           (1 - _INTERVAL_WEIGHT) * old_iv + _INTERVAL_WEIGHT * dt)
        # a gap from before the feed's return measures the outage, not the track
        learn = known & ~back & (dt > 0) & ~(last_t < self._feed_back_at)
        new["interval_s"] = np.where(learn, running, old_iv)
        cell = self.coverage.keys(_col(fixes, "lat"), _col(fixes, "lon"),
                                  _col(fixes, "altitude"))
        new["cell"] = cell
        started = coop & (~known | back)
        moved = coop & known & (cell != _take(last["cell"].to_numpy(np.int64), at, -1))
        # tracks first heard when the watch starts or the feed comes back were there
        # already: they pass through, they do not begin where they are
        began = started & (t - self._feed_back_at > self.config.dark_after_s)
        self.coverage.add(passages=cell[started | moved], starts=cell[began], now=self.now)
        self._dark -= set(ids)
        stale = np.zeros(len(last), dtype=bool)
        stale[at[known]] = True
        fresh = pd.DataFrame(new, copy=False)
        self._last = pd.concat([last[~stale], fresh], ignore_index=True) if (~stale).any() \
            else fresh

    def _check_dark(self) -> list[EarlyWarningEvent]:
        """Went-dark warnings of the tracks that have just fallen silent.

        A track is silent after ``dark_after_s`` and ``dark_interval_factor`` times its
        own message interval (at most ``gap_s``) while the feed brought other messages:
        nothing is judged while no transponder message at all has come for
        ``feed_gap_s``, and a silence counts from the feed's return. Each silence is
        judged once, and its last fix then counts as an end in the coverage model.
        """
        cfg = self.config
        if len(self._last) == 0 or self.now - self._heard_at > self._feed_gap_s():
            return []
        t = self._last["time"].to_numpy(dtype=np.float64)
        interval = np.nan_to_num(self._last["interval_s"].to_numpy(dtype=np.float64))
        after = np.minimum(np.maximum(cfg.dark_after_s, cfg.dark_interval_factor * interval),
                           cfg.gap_s)
        since = np.maximum(t, self._feed_back_at)
        silent = (self.now - since >= after) & ~self._last["icao24"].isin(self._dark).to_numpy()
        if not silent.any():
            return []
        rows = self._last[silent].reset_index(drop=True)
        self._dark |= set(rows["icao24"])
        why = silence_explained(rows, self.now, self.coverage, cfg, since[silent])
        coop = why != "no transponder"
        self.coverage.add(ends=rows["cell"].to_numpy(np.int64)[coop], now=self.now)
        if log.isEnabledFor(logging.DEBUG):
            reasons, counts = np.unique(why.astype(str), return_counts=True)
            log.debug("went dark at %.0f: %s", self.now, ", ".join(
                f"{n} {r or 'suspicious'}" for r, n in zip(reasons, counts, strict=True)))
        return went_dark(rows[why == ""], self.zones, cfg.dark_distance_m,
                         boundaries=self.boundaries)

    def _feed_gap_s(self) -> float:
        """How long without any transponder message means the feed is down."""
        return max(self.config.feed_gap_s, 3.0 * np.nan_to_num(self._look_s))

    def _expire(self) -> None:
        cfg = self.config
        if len(self._last) == 0:
            return
        old = (self.now - self._last["time"].to_numpy(dtype=np.float64)) > cfg.gap_s
        if not old.any():
            return
        gone = set(self._last.loc[old, "icao24"])
        self._last = self._last[~old].reset_index(drop=True)
        self._dark -= gone
        self._approaching = {p for p in self._approaching if p[0] not in gone}
        self._loiter = [s[~s.index.isin(list(gone))] for s in self._loiter]


def warnings_for(
    batches: Iterable[pd.DataFrame], zones: Sequence[Zone],
    config: EarlyWarningConfig | None = None, coverage: CoverageModel | None = None,
) -> list[EarlyWarningEvent]:
    """Every warning over a sequence of batches (a replay), in the order produced."""
    ew = EarlyWarning(zones, config, coverage)
    out: list[EarlyWarningEvent] = []
    for b in batches:
        out += ew.update(b)
    return out
