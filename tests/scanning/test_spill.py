"""Records spilled to disk come back complete and in (entry time, zone, track) order."""

from __future__ import annotations

import pytest

from skyfence.model import Entry
from skyfence.scanning.spill import RecordSpill


def entry(t: float, zone: str, track: str) -> Entry:
    return Entry(zone=zone, zone_kind="custom", track=track, entered_at=t,
                 entry_interpolated=True, exited_at=None, last_inside_at=t, max_depth_m=0.0,
                 entry_point=None, exit_point=None, min_altitude_m=None, max_altitude_m=None,
                 observations=0)


def test_spill_sorts_and_reads_back() -> None:
    spill = RecordSpill()
    batches = [[(30.0, "B", "x"), (10.0, "A", "y")], [(10.0, "A", "b"), (20.0, "Z", "q")]]
    given = []
    for batch in batches:
        es = [entry(*k) for k in batch]
        recs = [{"zone": e.zone, "track": e.track, "n": i, "t": e.entered_at, "reasons": ["ü"]}
                for i, e in enumerate(es)]
        spill.add(es, recs)
        given += recs
    recs = spill.sorted()
    # the reference: Python's sort of the given records by (entry time, zone, track)
    want = sorted(given, key=lambda r: (r["t"], r["zone"], r["track"]))
    assert [(r["zone"], r["track"]) for r in want] == [("A", "b"), ("A", "y"), ("Z", "q"),
                                                       ("B", "x")]
    assert len(recs) == 4
    # iteration streams the file: every record complete, in order
    assert list(recs) == want
    # indexing and slicing read single lines: the same records
    assert [recs[i] for i in range(4)] == want
    assert recs[1:3] == want[1:3] and recs[::-1] == want[::-1]
    assert recs[-1] == want[-1] and recs[-4] == want[0]
    with pytest.raises(IndexError):
        recs[4]
    with pytest.raises(IndexError):
        recs[-5]
    assert recs == want and recs != want[:3] and recs != [*want[:3], {"zone": "B"}]


def test_external_merge_of_many_runs_equals_a_sort() -> None:
    import random

    from skyfence.scanning.spill import MERGE_FAN_IN

    rng = random.Random(4)
    keys = [(float(rng.randrange(500)), rng.choice("ABC"), f"t{rng.randrange(10_000):05d}")
            for _ in range(5_000)]
    spill = RecordSpill(run_records=37)  # 136 runs: two merge passes at a fan-in of 64
    for i in range(0, len(keys), 100):
        es = [entry(*k) for k in keys[i : i + 100]]
        spill.add(es, [{"zone": e.zone, "track": e.track, "t": e.entered_at} for e in es])
    assert spill.runs > MERGE_FAN_IN
    recs = spill.sorted()
    # the reference: Python's sort of the same keys
    want = sorted(keys)
    assert len(recs) == len(want)
    assert [(r["t"], r["zone"], r["track"]) for r in recs] == want
    assert recs[-1]["track"] == want[-1][2] and recs[0]["track"] == want[0][2]
    assert [r["track"] for r in recs[10:13]] == [k[2] for k in want[10:13]]
    assert [recs[i]["track"] for i in (4_999, 2_500, 0)] == [want[i][2] for i in (4_999, 2_500, 0)]
