"""Accuracy of the kinematic category on recorded flights whose aircraft type is known.

Labelled data: the sample flights that ship with the ``traffic`` package (a test
dependency; skyfence itself does not need it). ``traffic`` ships no aircraft type
database, so every label below is ours, with its source:

- single-flight samples whose aircraft is public (:data:`SAMPLE_LABELS`);
- flights of the ``quickstart`` (2021-10-07) and ``switzerland`` (2018-08-01)
  collections whose callsign belongs to an operator that flew only jet airliners
  (:data:`JET_AIRLINE_OPERATORS`, turboprop-operating carriers left out), only
  business jets (:data:`BUSINESS_JET_OPERATORS`) or only propeller aircraft
  (:data:`PROPELLER_OPERATORS`) at that time.

``traffic``'s aircraft database (type per ICAO address) is downloaded from OpenSky on
first use; where that is reachable it could label every flight of the collections by
type, but these labels are built without it (the machines this runs on have no access).

The headline is the **balanced accuracy** (mean recall over the true classes): with
nine airliners in ten flights, plain accuracy says little about the rare classes.

Gliders and motor gliders have no category of their own; they are labelled
``propeller`` (light aircraft), the category an operator would want for them.
Flights are cut where fixes are more than 300 s apart (the contract's track split);
pieces of fewer than 10 fixes are dropped.
Each flight is scored whole and in 5-minute windows (what a zone entry sees); the
windowed score caps the windows per flight so long airliner flights do not swamp it.

Run: ``python -m skyfence.identify.evaluate [--window 300] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyfence.identify.classify import categorize, track_features
from skyfence.vocab import CATEGORIES, FPM, FT, KT

#: sample (directory/name in traffic.data.samples) -> (category, what is known about it)
SAMPLE_LABELS: dict[str, tuple[str, str]] = {
    "featured/belevingsvlucht": ("airliner", "Transavia Boeing 737-700, Lelystad trial"),
    "featured/dreamliner_airfrance": ("airliner", "Air France Boeing 787-9 delivery"),
    "featured/dreamliner_boeing": ("airliner", "Boeing 787 test flight"),
    "featured/elal747": ("airliner", "El Al Boeing 747-400 farewell"),
    "featured/qantas747": ("airliner", "Qantas Boeing 747-400 farewell"),
    "featured/airbus_tree": ("airliner", "Airbus A350 flight test, Christmas tree"),
    "featured/turkish_flag": ("airliner", "Turkish Airlines THY1920 (narrow-body jet)"),
    "featured/zero_gravity": ("airliner", "Novespace Airbus A310 Zero-G parabolas"),
    "military/inflight_refuelling": ("airliner", "French Air Force FAF4011 tanker "
                                     "(A330 MRTT / C-135FR: airliner airframe)"),
    "noisy/noisy_landing": ("airliner", "Lufthansa DLH4TR"),
    "noisy/noisy_takeoff": ("airliner", "Air France AFR181L"),
    "ambulances/rega_sg": ("helicopter", "Rega air rescue helicopter REGA1"),
    "ambulances/rega_zh": ("helicopter", "Rega air rescue helicopter REGA1"),
    "ambulances/samu31": ("helicopter", "SAMU 31 Toulouse EC135 helicopter"),
    "featured/easter_rabbit": ("propeller", "D-MUPY, a German ultralight (D-M register)"),
    "featured/switzerland_map": ("propeller", "HB-KRA / HB-DGE, Swiss light aircraft"),
    "gliders/alpi_italiane": ("propeller", "D-KWFW motor glider"),
    "gliders/alto_adige": ("propeller", "D-KRPK motor glider"),
    "gliders/cevennes": ("propeller", "F-CIJO glider"),
    "gliders/danube_valley": ("propeller", "glider"),
    "gliders/franconia": ("propeller", "D-6567 glider"),
    "gliders/luberon": ("propeller", "F-CHDN glider"),
    "gliders/oxford_cambridge": ("propeller", "G-CLPU glider"),
    "gliders/sisteron": ("propeller", "D-KVLT motor glider"),
}

#: ICAO airline designators of carriers flying only jet airliners in 2018-2021
_JET_AIRLINES = (
    "AFR BAW DLH EZY EJU EZS RYR KLM IBK VLG CFG THY TCX TOM TUI EXS NAX TVF TRA JAF "
    "WZZ ENT GMI LDM TVS PGT SWR IBE AZA UAE ETD QTR SVA ELY MSR AFL FDX CCA JAL DAL "
    "UAL ACA AMX ICE SIA KAL EVA THA AIC OMA KQA SAA MEA HVN RJA BTI"
)
JET_AIRLINE_OPERATORS = frozenset(_JET_AIRLINES.split())
#: operators flying only business jets: NetJets Europe, VistaJet, Air Hamburg, DC Aviation
BUSINESS_JET_OPERATORS = frozenset({"NJE", "VJT", "AHO", "DCS"})
#: operators flying only propeller aircraft: Jetfly Aviation (Pilatus PC-12)
PROPELLER_OPERATORS = frozenset({"JFA"})


def samples_dir() -> Path:
    """Where ``traffic`` keeps its sample flights (ImportError without ``traffic``)."""
    import importlib.util

    spec = importlib.util.find_spec("traffic")
    if spec is None or spec.origin is None:
        raise ImportError("the 'traffic' package is needed for labelled flights")
    return Path(spec.origin).parent / "data" / "samples"


def _read_sample(path: Path) -> pd.DataFrame:
    """A traffic sample as contract observations (SI units, unix seconds)."""
    df = pd.read_json(path, dtype={"icao24": str, "callsign": str})
    t = pd.to_datetime(df["timestamp"], utc=True)
    out = pd.DataFrame({
        "time": (t - pd.Timestamp(0, tz="UTC")).dt.total_seconds(),
        "icao24": df["icao24"].astype(str),
        "lat": df["latitude"], "lon": df["longitude"],
        "altitude": df["altitude"].astype(float) * FT,
        "velocity": df["groundspeed"].astype(float) * KT,
        "heading": df["track"].astype(float),
        "vertrate": (df["vertical_rate"].astype(float) * FPM if "vertical_rate" in df
                     else np.nan),
        "callsign": df.get("callsign"),
        "onground": df["onground"].astype(bool) if "onground" in df else False,
    })
    return out.dropna(subset=["lat", "lon"])


def _flights(obs: pd.DataFrame, gap_s: float = 300.0) -> pd.DataFrame:
    """Adds ``flight``: icao24 plus a counter, cut where fixes are > gap_s apart."""
    obs = obs.sort_values(["icao24", "time"], kind="stable").reset_index(drop=True)
    new = (obs["icao24"] != obs["icao24"].shift()) | (obs["time"].diff() > gap_s)
    return obs.assign(flight=obs["icao24"] + ":" + new.cumsum().astype(str))


def labelled_flights() -> pd.DataFrame:
    """Observations of every labelled flight, with ``flight``, ``label`` and ``source``."""
    root = samples_dir()
    parts = []
    for name, (label, _) in SAMPLE_LABELS.items():
        obs = _flights(_read_sample(root / f"{name}.json.gz"))
        parts.append(obs.assign(label=label, source=name, flight=name + "/" + obs["flight"]))
    for name in ("quickstart", "switzerland"):
        obs = _flights(_read_sample(root / "collections" / f"{name}.json.gz"))
        named = obs.dropna(subset=["callsign"])
        cs = named.groupby("flight")["callsign"].agg(lambda s: str(s.mode().iat[0]))
        op = pd.Series([str(c)[:3] if len(str(c)) > 3 and str(c)[3].isdigit() else ""
                        for c in cs], index=cs.index)
        lab = pd.Series(np.select(
            [op.isin(JET_AIRLINE_OPERATORS), op.isin(PROPELLER_OPERATORS),  # disjoint sets
             op.isin(BUSINESS_JET_OPERATORS)], ["airliner", "propeller", "jet"], ""),
            index=cs.index)
        obs = obs.assign(label=obs["flight"].map(lab), source=f"collections/{name}",
                         flight=f"{name}/" + obs["flight"])
        parts.append(obs[obs["label"] != ""])
    return pd.concat(parts, ignore_index=True)


def _predict(obs: pd.DataFrame, by: str) -> pd.DataFrame:
    feats = track_features(obs, by)
    names, conf = categorize(feats["speed_ms"], feats["max_altitude_m"], feats["climb_ms"],
                             feats["turn_rate_dps"], feats["min_speed_ms"],
                             np.ones(len(feats)),  # every recorded flight is cooperative
                             feats["turn_accel_ms2"])
    return feats.assign(category=names, confidence=conf)


def windows(obs: pd.DataFrame, window_s: float = 300.0, per_flight: int = 12,
            min_fixes: int = 10) -> pd.DataFrame:
    """Airborne fixes cut into ``window_s`` windows (``window`` id), at most
    ``per_flight`` evenly spaced windows per flight, each with ``min_fixes`` fixes."""
    air = obs[~obs["onground"].astype(bool)]
    start = air.groupby("flight")["time"].transform("min")
    k = ((air["time"] - start) // window_s).astype(int)
    air = air.assign(window=air["flight"] + "#" + k.astype(str), k=k)
    size = air.groupby("window")["time"].transform("size")
    air = air[size >= min_fixes]
    keep: set[str] = set()
    pairs = air[["flight", "k"]].drop_duplicates().sort_values(["flight", "k"])
    for flight, group in pairs.groupby("flight")["k"]:
        kk = group.to_numpy()
        pick = kk[np.linspace(0, len(kk) - 1, min(per_flight, len(kk))).round().astype(int)]
        keep.update(f"{flight}#{x}" for x in pick)
    return air[air["window"].isin(keep)]


@dataclass
class Score:
    """A confusion matrix and its summary figures."""

    matrix: pd.DataFrame  # rows: true label, columns: predicted category
    accuracy: float
    balanced_accuracy: float
    n: int

    def to_json(self) -> dict[str, Any]:
        """Plain numbers for ``--json``."""
        return {"n": self.n, "accuracy": round(self.accuracy, 4),
                "balanced_accuracy": round(self.balanced_accuracy, 4),
                "matrix": {r: {c: int(v) for c, v in row.items()}
                           for r, row in self.matrix.iterrows()}}


def score(truth: pd.Series, predicted: pd.Series) -> Score:
    """Confusion matrix (every category as a column), accuracy and mean recall."""
    cols = list(CATEGORIES)
    rows = [c for c in cols if c in set(truth)]
    m = pd.crosstab(truth, predicted).reindex(index=rows, columns=cols, fill_value=0)
    m.index.name, m.columns.name = "true", "predicted"
    correct = np.array([m.at[r, r] for r in rows])
    recall = correct / m.sum(axis=1).to_numpy()
    return Score(m, float(correct.sum() / m.to_numpy().sum()), float(recall.mean()),
                 int(m.to_numpy().sum()))


def evaluate(window_s: float = 300.0) -> dict[str, Score]:
    """Scores per whole flight and per window on the labelled recorded flights."""
    obs = labelled_flights()
    # pieces of fewer than 10 fixes are ground stops and coverage scraps, not flights
    obs = obs[obs.groupby("flight")["time"].transform("size") >= 10]
    label = obs.groupby("flight")["label"].first()
    whole = _predict(obs, "flight")
    win = windows(obs, window_s)
    wpred = _predict(win, "window")
    wlabel = win.groupby("window")["label"].first()
    return {
        "flights": score(label.loc[whole.index], whole["category"]),
        "windows": score(wlabel.loc[wpred.index], wpred["category"]),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the confusion matrices (or one JSON object with ``--json``)."""
    ap = argparse.ArgumentParser(prog="python -m skyfence.identify.evaluate",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--window", type=float, default=300.0, help="window length, s")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    scores = evaluate(args.window)
    if args.json:
        print(json.dumps({k: s.to_json() for k, s in scores.items()}))
        return 0
    for name, s in scores.items():
        print(f"\n{name}: n={s.n}, accuracy {s.accuracy:.3f}, "
              f"balanced accuracy (mean recall) {s.balanced_accuracy:.3f}")
        print(s.matrix.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
