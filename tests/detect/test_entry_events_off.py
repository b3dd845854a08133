"""A detector told not to report entries as they open finds the same final entries.

Scans keep only final entries (exits, and entries still open at the end), so they turn
``entry`` events off; a watch keeps them (it alerts on them). Real traffic (the
``traffic`` package's Swiss sample against Switzerland) in time-ordered batches: with
the events off there is no ``entry`` event, and every other event is the same entry,
field for field, as with them on.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from skyfence.airspace.zones import national_zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.model import make_observations


@pytest.fixture(scope="module")
def batches() -> list[pd.DataFrame]:
    from traffic.data.samples import switzerland

    d = switzerland.data.sort_values("timestamp", kind="stable").head(40_000)
    t = (pd.to_datetime(d.timestamp, utc=True) - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    obs = make_observations(time=t.to_numpy(), icao24=d.icao24.to_numpy(object),
                            lat=d.latitude.to_numpy(float), lon=d.longitude.to_numpy(float),
                            altitude=(d.altitude * 0.3048).to_numpy(float))
    return [obs.iloc[i : i + 5_000].reset_index(drop=True) for i in range(0, len(obs), 5_000)]


def _events(batches: list[pd.DataFrame], entries: bool) -> list[tuple[str, dict[str, object]]]:
    det = EntryDetector([national_zone("CHE")], DetectorConfig(entries=entries))
    out = []
    for b in batches:
        out.extend(det.process(b))
    out.extend(det.close())
    return [(e.kind, dataclasses.asdict(e.entry)) for e in out]


def test_final_entries_are_the_same_without_entry_events(batches: list[pd.DataFrame]) -> None:
    on = _events(batches, True)
    off = _events(batches, False)
    assert sum(kind == "entry" for kind, _ in on) > 50
    assert not any(kind == "entry" for kind, _ in off)
    rest = [ev for ev in on if ev[0] != "entry"]
    assert len(rest) == len(off) > 50
    for (k1, e1), (k2, e2) in zip(rest, off, strict=True):
        assert k1 == k2
        assert e1.keys() == e2.keys()
        for key in e1:
            a, b = e1[key], e2[key]
            assert a == b or (isinstance(a, float) and np.isnan(a) and np.isnan(b)), key
