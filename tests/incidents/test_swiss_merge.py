"""The Swiss sample's incidents are its entries merged per aircraft and zone.

Reference: an independent merge written with pandas from the entries that ``skyfence
scan --all-entries`` prints: per (track, zone), in entry order, an entry starts a new
incursion when it begins 120 s (the default merge_s) or more after the latest end so
far of the previous entries (end = exit time, or last inside fix for an entry that
ended open); the incursion's first entry, last exit, crossings, time inside (the
entries of one zone never overlap, so the sum of their durations) and depth are then
plain aggregations. The store must give the same incidents, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from skyfence.cli import main
from skyfence.incidents.queries import incident_records
from skyfence.incidents.store import IncidentStore

pytestmark = pytest.mark.slow

ZONES = ["CHE", "DEU", "FRA", "ITA", "AUT", "LIE"]
MERGE_S = 120.0


def independent_merge(entries: pd.DataFrame, merge_s: float) -> pd.DataFrame:
    df = entries.copy()
    df["t0"] = pd.to_datetime(df["entered_at"]).astype("int64") / 1e9
    end = df["exited_at"].fillna(df["last_inside_at"])
    df["t1"] = pd.to_datetime(end).astype("int64") / 1e9
    df = df.sort_values(["track", "zone", "t0"], kind="stable")
    ends_so_far = df.groupby(["track", "zone"])["t1"].cummax()
    prev_end = ends_so_far.groupby([df["track"], df["zone"]]).shift()
    new = prev_end.isna() | (df["t0"] - prev_end >= merge_s)
    df["incursion"] = new.cumsum()
    return df.groupby("incursion").agg(
        track=("track", "first"), zone=("zone", "first"), first=("t0", "min"),
        last=("t1", "max"), crossings=("id", "count"), inside_s=("duration_s", "sum"),
        depth=("max_depth_m", "max"), ids=("id", lambda s: tuple(sorted(s)))).reset_index()


def test_swiss_incidents_are_the_merged_entries(tmp_path: Path, store_url: str) -> None:
    sample = resources.files("skyfence.demo") / "switzerland-2018-08-01.csv.gz"
    out = tmp_path / "entries.jsonl"
    zone_args = [a for z in ZONES for a in ("--zone", z)]
    with resources.as_file(sample) as path:
        assert main(["scan", str(path), *zone_args, "--all-entries", "--format", "jsonl",
                     "-o", str(out), "--store", store_url]) == 0
    entries = pd.DataFrame([json.loads(x) for x in out.read_text().splitlines()])
    ref = independent_merge(entries, MERGE_S)
    assert len(entries) == 334 and len(ref) < len(entries)  # the sample has re-entries
    with IncidentStore.open(store_url) as store:
        got = incident_records(store, every=True)
    assert all(g["also_in"] == [] for g in got)  # no overlapping zones among these
    assert len(got) == len(ref)

    def when(iso: str | None) -> float:
        return pd.Timestamp(iso).timestamp()

    mine = {tuple(sorted(g["entries"])): g for g in got}
    assert set(mine) == set(ref["ids"])
    for r in ref.itertuples():
        g = mine[r.ids]
        assert (g["track"], g["zone"], g["crossings"]) == (r.track, r.zone, r.crossings)
        assert when(g["first_entered_at"]) == pytest.approx(r.first, abs=1e-3)
        assert when(g["last_exited_at"]) == pytest.approx(r.last, abs=1e-3)
        assert g["inside_s"] == pytest.approx(r.inside_s, abs=2e-3 * r.crossings)
        assert g["max_depth_m"] == pytest.approx(r.depth, abs=0.05)
    # storing the same scan again adds nothing
    with resources.as_file(sample) as path:
        assert main(["scan", str(path), *zone_args, "--all-entries", "--format", "jsonl",
                     "-o", str(tmp_path / "again.jsonl"), "--store", store_url]) == 0
    with IncidentStore.open(store_url) as store:
        assert len(incident_records(store, every=True)) == len(ref)
