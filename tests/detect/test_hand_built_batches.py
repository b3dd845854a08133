"""Batches built by hand (the Python API) with only the required columns.

Readers always give every column of an observation batch; a user of
:class:`~skyfence.detect.entries.EntryDetector` may hand it a DataFrame of time,
id, lat and lon alone. The optional columns then count as unknown, exactly as the
missing values :func:`~skyfence.model.make_observations` fills in; a required column
missing is a one-line error naming it, not a ``KeyError`` from deep inside.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import shapely

from skyfence.airspace.zones import Zone
from skyfence.detect.entries import EntryDetector
from skyfence.model import make_observations

SQUARE = Zone("SQ", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))
#: two tracks crossing the square, the second over two batches
ROWS = {"time": [0.0, 100.0, 200.0, 0.0, 50.0],
        "icao24": ["4ca1fa", "4ca1fa", "4ca1fa", "3c6444", "3c6444"],
        "lat": [0.5, 0.5, 0.5, -0.5, 0.5], "lon": [-0.5, 0.5, 1.5, 0.5, 0.5]}


def _events(batches: list[pd.DataFrame]) -> list[dict[str, object]]:
    det = EntryDetector([SQUARE])
    events = [e for b in batches for e in det.process(b)] + det.close()
    return [{"kind": e.kind, **dataclasses.asdict(e.entry)} for e in events]


def test_a_batch_of_the_required_columns_alone_is_read_as_unknown_altitude_speed_and_ids(
) -> None:
    bare = pd.DataFrame(ROWS)
    full = make_observations(**ROWS)
    assert "altitude" not in bare.columns and "callsign" not in bare.columns
    got = _events([bare.iloc[:4], bare.iloc[4:]])
    want = _events([full.iloc[:4], full.iloc[4:]])
    assert got == want
    kinds = [(e["kind"], e["track"]) for e in got]
    assert kinds.count(("entry", "4ca1fa")) == 1 and kinds.count(("exit", "4ca1fa")) == 1
    (exit_,) = [e for e in got if e["kind"] == "exit"]
    assert exit_["callsign"] is None and exit_["min_altitude_m"] is None
    assert exit_["entered_at"] == pytest.approx(50.0) and exit_["exited_at"] == pytest.approx(150.0)


@pytest.mark.parametrize("column", ["time", "icao24", "lat", "lon"])
def test_a_batch_without_a_required_column_is_refused_by_name(column: str) -> None:
    bare = pd.DataFrame({k: v for k, v in ROWS.items() if k != column})
    with pytest.raises(ValueError, match=f"needs the column\\(s\\) {column} "):
        EntryDetector([SQUARE]).process(bare)


def test_a_batch_without_required_columns_names_them_and_the_columns_it_has() -> None:
    bare = pd.DataFrame({"time": [0.0], "icao24": ["4ca1fa"], "alt": [1.0]})
    with pytest.raises(ValueError) as info:
        EntryDetector([SQUARE]).process(bare)
    assert str(info.value) == ("an observation batch needs the column(s) lat, lon "
                               "(it has: time, icao24, alt)")
    with pytest.raises(ValueError) as info:
        EntryDetector([SQUARE]).process(pd.DataFrame())
    assert str(info.value) == ("an observation batch needs the column(s) time, icao24, "
                               "lat, lon (it has: none)")


def test_distance_fields_are_saved_once_for_the_zones_that_measured_depth(tmp_path: Path) -> None:
    """The square measures depth for its entries; the far box is never entered. One file
    is written, once; a detector that loads it measures nothing new, and the depths are
    those of a detector without a cache."""
    from skyfence.detect.entries import DetectorConfig

    far = Zone("FAR", "custom", shapely.box(50.0, 50.0, 51.0, 51.0))
    rows = pd.DataFrame(ROWS)
    assert EntryDetector([SQUARE, far]).save_depth_fields() == 0  # no cache: nothing
    plain = _events([rows])
    first = EntryDetector([SQUARE, far], DetectorConfig(depth_cache_dir=tmp_path))
    got = [*first.process(rows), *first.close()]
    assert first.save_depth_fields() == 1
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("depth-field-"), files
    assert first.save_depth_fields() == 0  # nothing measured since
    again = EntryDetector([SQUARE, far], DetectorConfig(depth_cache_dir=tmp_path))
    got_again = [*again.process(rows), *again.close()]
    assert again.save_depth_fields() == 0
    for events in (got, got_again):
        assert [dataclasses.asdict(e.entry)["max_depth_m"] for e in events] == [
            e["max_depth_m"] for e in plain]
