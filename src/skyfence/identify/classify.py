"""What an entering track probably is: cooperative or not, category, registration state.

- **cooperative**: the track id is a 24-bit ICAO address (a transponder is behind it).
- **registration state**: from the ICAO address block (:mod:`skyfence.identify.icao_blocks`).
- **military**: from a user-supplied aircraft database (:func:`load_aircraft_db`);
  ``None`` when there is none or the aircraft is not in it.
- **category** with a **confidence**, from kinematics alone (:func:`categorize`):
  each category has a plausible range of speed, altitude, climb and turn rate
  (soft trapezoids, from published performance of each class: airliners cruise at
  180-290 m/s between 7.5 km and FL400 and turn at most at the 3 deg/s standard rate;
  military and business jets go faster, higher (business jets cruise at FL410-FL510),
  turn or climb harder; propeller aircraft fly 35-130 m/s below 7.6 km; helicopters
  stay under about 80 m/s, hover, or fly a whole flight low (below about 1.5 km) at
  50-75 m/s without a glider's tight circling; one-way attack
  drones such as Geran-2 fly about 50 m/s low; balloons drift at wind speed). The
  score of a category is the product of its memberships; the best wins and the
  confidence is its share of the summed scores. Transponder status is a prior: a
  cooperative track is rarely a drone (x0.15); without a transponder a propeller
  aircraft or helicopter is less likely (x0.6) than a drone of the same kinematics,
  and an airliner much less likely (x0.2) than a military jet flying the same way.
  A sustained turn harder than transport aircraft bank (more than 30-35 deg, see
  :mod:`skyfence.identify.turns`) above about 100 m/s is evidence of a military jet and
  makes a propeller aircraft five times less likely.

Kinematics cannot separate everything: an airliner on approach flies like a
turboprop, a glider like a drone. ``skyfence.identify.evaluate`` measures the
accuracy on recorded flights of known type and prints the confusion matrix.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from skyfence.errors import InputError
from skyfence.identify.icao_blocks import parse_icao24, state_of
from skyfence.identify.turns import track_turn_accels
from skyfence.messages import one_line, show_value
from skyfence.model import Classification
from skyfence.vocab import SCORED_CATEGORIES, as_category

#: per-track kinematic features (SI units) that :func:`categorize` reads
FEATURES = ("speed_ms", "min_speed_ms", "max_altitude_m", "climb_ms", "turn_rate_dps",
            "turn_accel_ms2")
_INF = math.inf

FloatArray = npt.NDArray[np.float64]


def is_cooperative(track: str) -> bool:
    """True when the track id is a valid 24-bit ICAO address (a transponder is behind it)."""
    return bool(parse_icao24([track])[1][0])


# ---------------------------------------------------------------------------- scores


def _trap(x: FloatArray, a: float, b: float, c: float, d: float) -> FloatArray:
    """Trapezoid membership: 0 below a, 1 from b to c, 0 above d; NaN (unknown) -> 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(b > a, (x - a) / (b - a), 1.0) if math.isfinite(a) else np.ones_like(x)
        down = np.where(d > c, (d - x) / (d - c), 1.0) if math.isfinite(d) else np.ones_like(x)
    mu = np.clip(np.minimum(up, down), 0.0, 1.0)
    if math.isfinite(a):
        mu = np.where(x < a, 0.0, mu)
    if math.isfinite(d):
        mu = np.where(x > d, 0.0, mu)
    return np.asarray(np.where(np.isnan(x), 1.0, mu))


def category_scores(
    speed_ms: npt.ArrayLike,
    max_altitude_m: npt.ArrayLike,
    climb_ms: npt.ArrayLike | None = None,
    turn_rate_dps: npt.ArrayLike | None = None,
    min_speed_ms: npt.ArrayLike | None = None,
    cooperative: npt.ArrayLike | None = None,
    turn_accel_ms2: npt.ArrayLike | None = None,
) -> FloatArray:
    """Scores, shape (n, len(SCORED_CATEGORIES)), of each category for n tracks (vectorized).

    ``speed_ms`` is a high ground speed of the track (90th percentile or maximum),
    ``min_speed_ms`` a low one (10th percentile, airborne fixes), ``climb_ms`` a high
    absolute vertical rate, ``turn_rate_dps`` a high absolute turn rate,
    ``turn_accel_ms2`` the lateral acceleration of the hardest sustained turn
    (:mod:`skyfence.identify.turns`). Unknown values (NaN or None) count as compatible
    with every category.
    """
    v = np.atleast_1d(np.asarray(speed_ms, dtype=np.float64))
    n = len(v)

    def arr(x: npt.ArrayLike | None) -> FloatArray:
        if x is None:
            return np.full(n, np.nan)
        return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).astype(np.float64)

    h, c, w, vmin = arr(max_altitude_m), arr(climb_ms), arr(turn_rate_dps), arr(min_speed_ms)
    coop = arr(cooperative)  # 1 cooperative, 0 not, NaN unknown
    # a sustained turn harder than transport aircraft bank (25-30 deg: g tan 30 = 5.7
    # m/s^2; full at 35 deg, 6.9 m/s^2) at more than 80-100 m/s, where light aircraft
    # and helicopters do not fly: the way a fighter turns (a Romanian F-16 shadowing a
    # drone at 140 m/s flies like a turboprop but turns at 0.8 g)
    acc = arr(turn_accel_ms2)
    hard = np.where(np.isnan(acc) | np.isnan(v), 0.0,
                    _trap(acc, 5.7, 6.9, _INF, _INF) * _trap(v, 80, 100, _INF, _INF))
    hover = np.where(np.isnan(vmin), 0.0, _trap(vmin, -_INF, -_INF, 8, 15))
    # low and brisk: a whole flight below about 1.5 km at 50-75 m/s without the tight
    # circling of a glider in a thermal, the way helicopters fly (light aircraft
    # climb away from the circuit, gliders circle at 30-45 m/s)
    low = np.where(np.isnan(h) | np.isnan(v), 0.0,
                   _trap(h, -_INF, -_INF, 1500, 2200) * _trap(v, 44, 50, 75, 90)
                   * _trap(w, -_INF, -_INF, 6.5, 9))
    # airliners cruise at FL300-FL410 (an A350 or 787 up to FL430); business jets
    # cruise at FL410-FL510: a cruise above FL400 (12.2 km) is a business or military jet
    airliner = (_trap(v, 110, 180, 300, 330) * _trap(h, 3000, 7500, 12100, 12400)
                * _trap(w, -_INF, -_INF, 4, 8) * _trap(c, -_INF, -_INF, 25, 40))
    evidence = np.maximum.reduce([
        np.full(n, 0.3),
        np.where(np.isnan(v), 0.0, _trap(v, 290, 330, _INF, _INF)),
        np.where(np.isnan(h), 0.0, _trap(h, 12100, 12400, _INF, _INF)),
        np.where(np.isnan(w) | np.isnan(v), 0.0,
                 _trap(w, 4, 7, _INF, _INF) * _trap(v, 100, 150, _INF, _INF)),
        np.where(np.isnan(c), 0.0, _trap(c, 25, 40, _INF, _INF)),
        hard,
    ])
    jet = _trap(v, 120, 200, 900, 1100) * evidence
    propeller = (_trap(v, 20, 35, 130, 165) * _trap(h, -_INF, -_INF, 7600, 9500)
                 * _trap(c, -_INF, -_INF, 15, 25) * (1.0 - 0.7 * hover) * (1.0 - 0.5 * low)
                 * (1.0 - 0.8 * hard))
    helicopter = (_trap(v, -_INF, -_INF, 75, 90) * _trap(h, -_INF, -_INF, 3000, 4500)
                  * np.maximum.reduce([np.full(n, 0.4), hover, low])
                  * np.where(coop == 0, 0.6, 1.0))
    # transponder priors: a cooperative track is rarely a drone; a slow track without a
    # transponder is more often a drone than a light aircraft or a helicopter
    drone_prior = np.where(np.isnan(coop), 0.5, np.where(coop > 0, 0.15, 1.0))
    dark_prior = np.where(coop == 0, 0.6, 1.0)
    propeller = propeller * dark_prior
    # an airliner flies with its transponder on; a fast, high target without one is far
    # more likely a military jet (the Vaindloo MiG-31s cruised like airliners)
    jet = np.where(coop == 0, np.maximum(jet, airliner), jet)
    airliner = airliner * np.where(coop == 0, 0.2, 1.0)
    drone = (_trap(v, -_INF, -_INF, 60, 80) * _trap(h, -_INF, -_INF, 3500, 5500)
             * drone_prior)
    balloon = (_trap(v, -_INF, -_INF, 15, 30) * _trap(h, 500, 2000, 40000, 45000)
               * _trap(w, -_INF, -_INF, 3, 6))
    scores = np.column_stack([airliner, jet, propeller, helicopter, drone, balloon])
    scores[np.isnan(v)] = 0.0  # no speed: no category
    return np.asarray(scores)


def categorize(
    speed_ms: npt.ArrayLike,
    max_altitude_m: npt.ArrayLike,
    climb_ms: npt.ArrayLike | None = None,
    turn_rate_dps: npt.ArrayLike | None = None,
    min_speed_ms: npt.ArrayLike | None = None,
    cooperative: npt.ArrayLike | None = None,
    turn_accel_ms2: npt.ArrayLike | None = None,
) -> tuple[npt.NDArray[np.object_], FloatArray]:
    """Most likely category and its confidence (0-1) for each track (vectorized).

    ``unknown`` (confidence 0) when no category scores above 0.05, e.g. without speed.
    """
    s = category_scores(speed_ms, max_altitude_m, climb_ms, turn_rate_dps, min_speed_ms,
                        cooperative, turn_accel_ms2)
    best = np.argmax(s, axis=1)
    top = s[np.arange(len(s)), best]
    total = s.sum(axis=1)
    names = np.array(SCORED_CATEGORIES, dtype=object)[best]
    known = top > 0.05
    names[~known] = "unknown"
    with np.errstate(divide="ignore", invalid="ignore"):
        conf = np.where(known, top / total, 0.0)
    return names, np.asarray(conf, dtype=np.float64)


def category_from_kinematics(speed_ms: float | None, altitude_m: float | None,
                             climb_ms: float | None = None,
                             turn_rate_dps: float | None = None) -> str:
    """The category alone for one track (see :func:`categorize`)."""
    def f(x: float | None) -> float:
        return np.nan if x is None else float(x)

    names, _ = categorize([f(speed_ms)], [f(altitude_m)], [f(climb_ms)], [f(turn_rate_dps)])
    return str(names[0])


# ---------------------------------------------------------------------------- features


def track_features(obs: pd.DataFrame, by: str = "icao24") -> pd.DataFrame:
    """Kinematic features per track from an observation batch (vectorized).

    Returns one row per ``by`` value with :data:`FEATURES`: 90th-percentile ground
    speed, 10th-percentile speed of airborne fixes, 95th-percentile altitude,
    90th-percentile absolute vertical rate (from ``vertrate``, else from altitude
    differences), 90th-percentile absolute turn rate (heading change between fixes
    0.5-30 s apart while moving faster than 10 m/s) and the hardest sustained turn's
    lateral acceleration (:func:`skyfence.identify.turns.track_turn_accels`).
    """
    df = obs.sort_values([by, "time"], kind="stable")
    ids = df[by].to_numpy()
    t = df["time"].to_numpy(dtype=np.float64)
    v = df["velocity"].to_numpy(dtype=np.float64, na_value=np.nan)
    alt = df["altitude"].to_numpy(dtype=np.float64, na_value=np.nan)
    vz = df["vertrate"].to_numpy(dtype=np.float64, na_value=np.nan)
    hdg = df["heading"].to_numpy(dtype=np.float64, na_value=np.nan)
    ground = (df["onground"].to_numpy(dtype=bool) if "onground" in df
              else np.zeros(len(df), dtype=bool))
    same = np.zeros(len(df), dtype=bool)
    same[1:] = ids[1:] == ids[:-1]
    dt = np.diff(t, prepend=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        dalt = np.diff(alt, prepend=np.nan) / dt
        dh = (np.diff(hdg, prepend=np.nan) + 180.0) % 360.0 - 180.0
        turn = np.abs(dh / dt)
    ok_pair = same & (dt >= 0.5) & (dt <= 30.0)
    climb = np.where(np.isnan(vz), np.where(ok_pair, np.abs(dalt), np.nan), np.abs(vz))
    turn = np.where(ok_pair & (v > 10.0), turn, np.nan)
    frame = pd.DataFrame({
        "id": ids, "v": v, "v_air": np.where(ground, np.nan, v), "alt": alt,
        "climb": climb, "turn": turn,
    })
    g = frame.groupby("id", sort=True)
    known = np.flatnonzero(np.isfinite(v) & np.isfinite(hdg))
    first, acc = track_turn_accels(ids[known], t[known], v[known], hdg[known])
    hardest = pd.Series(acc, index=ids[known][first]).groupby(level=0, sort=True).max()
    out = pd.DataFrame({
        "speed_ms": g["v"].quantile(0.9),
        "min_speed_ms": g["v_air"].quantile(0.1),
        "max_altitude_m": g["alt"].quantile(0.95),
        "climb_ms": g["climb"].quantile(0.9),
        "turn_rate_dps": g["turn"].quantile(0.9),
    })
    out["turn_accel_ms2"] = hardest.reindex(out.index)
    out.index.name = by
    return out


def classify_tracks(obs: pd.DataFrame, by: str = "icao24") -> pd.DataFrame:
    """:func:`track_features` plus ``category`` and ``confidence`` for every track."""
    feats = track_features(obs, by)
    coop = parse_icao24(np.asarray(feats.index.astype(str)))[1].astype(np.float64)
    names, conf = categorize(feats["speed_ms"], feats["max_altitude_m"], feats["climb_ms"],
                             feats["turn_rate_dps"], feats["min_speed_ms"], coop,
                             feats["turn_accel_ms2"])
    return feats.assign(category=names, confidence=conf)


# ---------------------------------------------------------------------------- aircraft db


@dataclass(frozen=True)
class Aircraft:
    """One row of the aircraft database."""

    icao24: str
    type: str | None
    operator: str | None
    military: bool | None


_TRUE = {"1", "true", "yes", "y", "t", "military", "mil"}
_FALSE = {"0", "false", "no", "n", "f", "civil", ""}
_ICAO_NAMES = ("icao24", "icao", "hex", "icao_address", "address")


class AircraftDB(Mapping[str, bool]):
    """Aircraft known to the user, by ICAO address; as a mapping: icao24 -> military.

    Only aircraft whose military flag is given are keys of the mapping (so it can be
    passed wherever a ``military_db`` is expected); :meth:`get_aircraft` gives the
    whole row.
    """

    def __init__(self, aircraft: Mapping[str, Aircraft]) -> None:
        self.aircraft = dict(aircraft)
        self._military = {k: a.military for k, a in self.aircraft.items()
                          if a.military is not None}

    def __getitem__(self, icao24: str) -> bool:
        return self._military[icao24.strip().lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._military)

    def __len__(self) -> int:
        return len(self._military)

    def __contains__(self, icao24: object) -> bool:
        return isinstance(icao24, str) and icao24.strip().lower() in self._military

    def get_aircraft(self, icao24: str) -> Aircraft | None:
        """The database row of an ICAO address, or None."""
        return self.aircraft.get(icao24.strip().lower())


def _db_rows(p: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of a CSV file, header first as row 0; unreadable text is an
    :class:`InputError` naming the row (a binary file, a NUL byte, a huge field)."""
    try:
        fh = p.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot open aircraft database ({exc.strerror})", file=str(p)) from None
    row_no = 0
    with fh:
        reader = csv.reader(fh)
        try:
            for row_no, row in enumerate(reader):
                if any("\x00" in c for c in row):
                    raise InputError("a NUL byte in the aircraft database", file=str(p),
                                     row=row_no)
                yield row_no, row
        except UnicodeDecodeError:
            raise InputError("not a UTF-8 text CSV file", file=str(p), row=row_no + 1
                             ) from None
        except csv.Error as exc:
            raise InputError(f"not a readable CSV file ({one_line(str(exc), 120)})",
                             file=str(p), row=row_no + 1) from None


def load_aircraft_db(path: str | Path) -> AircraftDB:
    """Read an aircraft database CSV: ICAO address, type, operator, military flag.

    Columns (header names, case-insensitive): ``icao24`` (or ``icao``, ``hex``),
    ``type``, ``operator``, ``military`` (true/false, yes/no, 1/0; empty = unknown).
    Only the address is required. A bad address or flag, or an address listed twice,
    raises :class:`~skyfence.errors.InputError` naming the file, row and field.
    """
    p = Path(path)
    rows = _db_rows(p)
    header = [h.strip().lower() for h in next(rows, (0, []))[1]]
    col = {h: i for i, h in enumerate(header)}
    key = next((n for n in _ICAO_NAMES if n in col), None)
    if key is None:
        raise InputError(f"no ICAO address column (one of {', '.join(_ICAO_NAMES)})",
                         file=str(p), row=0, field="header")
    found: dict[str, Aircraft] = {}
    first_row: dict[str, int] = {}
    for row_no, row in rows:
        if not row or all(not x.strip() for x in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            i = col.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        raw = cell(key).lower()
        addr, valid = parse_icao24([raw])
        if not valid[0] or len(raw) > 6:
            raise InputError(f"{show_value(raw)} is not a 24-bit ICAO address in hex",
                             file=str(p), row=row_no, field=key)
        icao = f"{int(addr[0]):06x}"
        if icao in found:
            raise InputError(f"address {icao} already listed in row {first_row[icao]}",
                             file=str(p), row=row_no, field=key)
        flag = cell("military").lower()
        military: bool | None
        if "military" not in col or flag == "":
            military = None
        elif flag in _TRUE:
            military = True
        elif flag in _FALSE:
            military = False
        else:
            raise InputError(f"{show_value(flag)} is not a military flag (true/false, yes/no, "
                             "1/0)", file=str(p), row=row_no, field="military")
        found[icao] = Aircraft(icao, cell("type") or None, cell("operator") or None,
                               military)
        first_row[icao] = row_no
    return AircraftDB(found)


# ---------------------------------------------------------------------------- one track


def classify(
    track: str,
    *,
    max_speed_ms: float | None = None,
    max_altitude_m: float | None = None,
    military_db: Mapping[str, bool] | None = None,
    climb_ms: float | None = None,
    turn_rate_dps: float | None = None,
    min_speed_ms: float | None = None,
    turn_accel_ms2: float | None = None,
) -> Classification:
    """Classification of one track from its id and what was seen inside the zone."""
    coop = is_cooperative(track)
    icao = track.strip().lower() if coop else None
    military = None
    if icao is not None and military_db is not None:
        military = military_db.get(icao)

    def f(x: float | None) -> float:
        return np.nan if x is None else float(x)

    names, conf = categorize([f(max_speed_ms)], [f(max_altitude_m)], [f(climb_ms)],
                             [f(turn_rate_dps)], [f(min_speed_ms)], [1.0 if coop else 0.0],
                             [f(turn_accel_ms2)])
    category = as_category(names[0])
    return Classification(
        cooperative=coop,
        category=category,
        registration_state=state_of(icao) if icao else None,
        military=military,
        confidence=float(conf[0]) if category != "unknown" else None,
    )
