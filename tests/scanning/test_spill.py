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


def _spilled(given: list[dict[str, object]], run_records: int = 32_768) -> RecordSpill:
    spill = RecordSpill(run_records=run_records)
    for i in range(0, len(given), 7):
        part = given[i : i + 7]
        spill.add([entry(float(r["t"]), str(r["zone"]), str(r["track"])) for r in part], part)
    return spill


def _records(n: int, seed: int, width: int = 0) -> list[dict[str, object]]:
    import random

    rng = random.Random(seed)
    return [{"zone": rng.choice(["EST", "Côte d’Ivoire", "ZONE\n2"]), "track": f"{k:06x}",
             "t": float(rng.randrange(1_000)), "violation": rng.random() < 0.3,
             "callsign": rng.choice([None, "ÅSA12", "\u2028x", "a\"b\\c"]),
             "depth": rng.uniform(-1e6, 1e6), "pad": "é" * width}
            for k in range(n)]


@pytest.mark.parametrize("run_records", [32_768, 50])
@pytest.mark.parametrize("width", [0, 3_000])
def test_written_jsonl_is_the_writers_own_line_for_every_record(run_records: int,
                                                                width: int) -> None:
    """A spilled scan's JSON Lines are copied from the spill file; the reference is the
    writer encoding each record itself (``jsonl_line``), in Python's sort order. Wide
    records (6 kB of two-byte characters) make the file span several 1 MiB blocks, so
    lines and characters cross block edges."""
    import io

    from skyfence.incidents.formats import jsonl_line, write_jsonl

    given = _records(1_200, seed=width + run_records, width=width)
    recs = _spilled(given, run_records).sorted()
    want = sorted(given, key=lambda r: (r["t"], r["zone"], r["track"]))
    out = io.StringIO()
    write_jsonl(recs, out)
    assert out.getvalue() == "".join(jsonl_line(r) + "\n" for r in want)
    viol = recs.violations()
    out = io.StringIO()
    write_jsonl(viol, out)
    assert out.getvalue() == "".join(jsonl_line(r) + "\n" for r in want if r["violation"])


def test_the_violations_view_is_a_sequence_of_the_violations_in_order() -> None:
    """The reference: the given records filtered and sorted by Python."""
    given = _records(300, seed=5)
    recs = _spilled(given, run_records=40).sorted()
    want = [r for r in sorted(given, key=lambda r: (r["t"], r["zone"], r["track"]))
            if r["violation"]]
    viol = recs.violations()
    assert 0 < len(viol) == len(want) < len(recs)
    assert list(viol) == want and viol == want
    assert [viol[i] for i in range(len(want))] == want
    assert viol[-1] == want[-1] and viol[3:9] == want[3:9] and viol[::-2] == want[::-2]
    with pytest.raises(IndexError):
        viol[len(want)]
    assert list(viol.violations()) == want
    assert list(recs) == sorted(given, key=lambda r: (r["t"], r["zone"], r["track"]))


def test_a_record_json_cannot_hold_is_refused_by_name_when_written() -> None:
    """A NaN or infinite number cannot be a JSON Lines line (``jsonl_line`` refuses it
    with a DataError naming the record and field); spilled, the record comes back with
    the number, and writing it is refused the same way."""
    import io
    import math

    from skyfence.errors import DataError
    from skyfence.incidents.formats import write_jsonl

    given = _records(20, seed=9)
    given[4]["depth"] = math.nan
    given[4]["id"] = "bad-one"
    given[7]["depth"] = math.inf
    recs = _spilled(given).sorted()
    back = {r["track"]: r for r in recs}
    assert math.isnan(back[given[4]["track"]]["depth"])  # type: ignore[arg-type]
    assert back[given[7]["track"]]["depth"] == math.inf
    with pytest.raises(DataError, match=r"bad-one.*depth"):
        write_jsonl(recs, io.StringIO())
