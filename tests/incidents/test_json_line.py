"""A record's JSON line is the standard library's, byte for byte, on any value.

The reference is ``json.dumps(record, allow_nan=False, ensure_ascii=False,
separators=(",", ":"))`` itself: every record either encodes to its bytes or raises
the same exception type.
"""

from __future__ import annotations

import io
import json
import math
from enum import IntEnum
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import skyfence.demo
from skyfence.airspace.zones import national_zone
from skyfence.demo import SAMPLE
from skyfence.incidents.formats import write_records
from skyfence.incidents.json_line import JSONL_OPTIONS, encode_line
from skyfence.scanning.engine import ScanOptions, scan_files

DEMO = Path(skyfence.demo.__file__).parent / SAMPLE


def reference(record: Any) -> bytes | type[BaseException]:
    try:
        return json.dumps(record, allow_nan=False, **JSONL_OPTIONS).encode()
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        return type(exc)


def ours(record: Any) -> bytes | type[BaseException]:
    try:
        return encode_line(record)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        return type(exc)


class Level(IntEnum):
    LOW = 1


FLOATS = st.one_of(
    st.floats(),  # NaN, infinities, subnormals, huge
    st.floats(min_value=1e-12, max_value=1e-3),  # around orjson's other form
    st.floats(min_value=9e-5, max_value=1.1e-4),
    st.sampled_from([0.0, -0.0, 1e-4, 9.999999999999999e-05, 1e16, 1e22, 5e-324]),
    st.floats(min_value=-180, max_value=180).map(lambda v: round(v, 6)),
)
INTS = st.one_of(st.integers(-(2**63) - 2, 2**64 + 2), st.integers(-(10**30), 10**30))
TEXT = st.text(st.characters(blacklist_categories=["Cs"]))  # no lone surrogates
SCALARS = st.one_of(st.none(), st.booleans(), FLOATS, INTS, TEXT,
                    st.sampled_from([Level.LOW, "\ud800"]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(TEXT, inner, max_size=4),
                            st.dictionaries(st.integers(0, 3), inner, max_size=2)),
    max_leaves=20,
)


@settings(max_examples=1500)
@given(st.dictionaries(TEXT, VALUES, max_size=8))
def test_every_record_is_written_as_the_standard_library_writes_it(record: dict) -> None:
    assert ours(record) == reference(record)


PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=8),
              st.floats(min_value=1e-4, max_value=1e9), st.just(0.0)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(
        st.text(max_size=4), inner, max_size=3)),
    max_leaves=12,
)
ODD = st.sampled_from([math.inf, -math.inf, math.nan, 1e-5, -3e-300, 2**64, -(2**63) - 1,
                       Level.LOW, "\ud800", {1: "int key"}, {"k": [math.inf]}])


@given(st.dictionaries(st.text(max_size=6), PLAIN, min_size=1, max_size=6), ODD,
       st.integers(0, 5))
def test_one_odd_value_in_a_plain_record(record: dict, odd: Any, where: int) -> None:
    """The record of plain values is orjson's; one odd value anywhere makes it the
    standard library's, or the same refusal."""
    assert encode_line(record) == reference(record)
    key = sorted(record)[where % len(record)]
    nested = record[key]
    if isinstance(nested, dict):
        nested["odd"] = odd
    elif isinstance(nested, list):
        nested.append(odd)
    else:
        record[key] = odd
    assert ours(record) == reference(record)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_finite_floats_whatever_their_size(values: list[float]) -> None:
    record = {"v": values, "p": {"lat": values[0], "lon": values[-1]}}
    assert encode_line(record) == reference(record)


def test_a_record_with_a_cycle_is_refused_as_the_standard_library_refuses_it() -> None:
    record: dict[str, Any] = {"a": []}
    record["a"].append(record)
    assert ours(record) is reference(record) is ValueError


def test_the_lines_of_a_real_scan() -> None:
    """Each line of a scan of the demo flights is what the standard library writes of the
    record read back from it (a float written another way reads back the same and is
    written back differently)."""
    res = scan_files([DEMO], ScanOptions(zones=[national_zone("CHE")]))
    out = io.StringIO()
    write_records("jsonl", res.records, res.entries, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(res.records) > 100
    for line in lines:
        assert json.dumps(json.loads(line), allow_nan=False, **JSONL_OPTIONS) == line
    nan = {**json.loads(lines[0]), "max_depth_m": math.nan}
    assert ours(nan) is reference(nan) is ValueError
