"""Many floats rounded at once are Python's ``round`` of each, bit for bit.

:func:`round_floats` (numpy: ``rint(x * 10**n) / 10**n`` away from ties) against the
built-in ``round(x, n)`` (the exact binary value rounded half to even, read back) on
any value: coordinates and measures as records hold them, exact binary halves at the
rounded digit (``0.125`` to 2 places: a tie Python breaks to even), decimals that
look like ties but are not (``2.675``), values a unit in the last place from a tie,
signed zeros, subnormals, values whose product with ``10**n`` passes 2**52 (where it
is an integer already but not the rounded exact product), huge values, NaN,
infinities, None, and values that are not exactly ``float`` (which keep whatever
``round`` gives them). Equal means the same bits (``-0.0`` is not ``0.0``) or both NaN.
"""

from __future__ import annotations

import math
import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.incidents.rounding import VECTOR_MIN, round_floats


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return struct.pack("<d", a) == struct.pack("<d", b)
    return a == b


def _reference(values: list[object], nd: int) -> list[object]:
    return [None if v is None else round(v, nd) for v in values]  # type: ignore[call-overload]


@st.composite
def _near_tie(draw: st.DrawFn) -> float:
    """A value whose product with 10**n lies at, or a few ulps from, a half-integer."""
    nd = draw(st.integers(0, 8))
    k = draw(st.integers(-10**9, 10**9))
    x = (k + 0.5) / 10.0**nd
    steps = draw(st.integers(-4, 4))
    for _ in range(abs(steps)):
        x = math.nextafter(x, math.inf if steps > 0 else -math.inf)
    return x


VALUES = st.one_of(
    st.none(),
    st.floats(-180.0, 180.0),
    st.floats(-1e7, 1e7),
    st.floats(-1e12, 1e12),  # times 10**n beyond 2**52: integers whose rounding differs
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-2**20, 2**20).map(lambda k: k / 8.0),  # exact binary halves and eighths
    _near_tie(),
    st.sampled_from([2.675, 0.125, 0.5, -0.5, 2.5, -2.5, 0.0, -0.0, 5e-324, -1e-320,
                     2.0**52, 2.0**53 + 1.0, 1e300, -1e300]),
)


@settings(max_examples=300)
@given(st.lists(VALUES, min_size=VECTOR_MIN, max_size=60), st.integers(0, 15))
def test_rounded_at_once_equal_rounded_one_by_one(values: list[float | None], nd: int
                                                  ) -> None:
    got = round_floats(values, nd)
    want = _reference(list(values), nd)
    assert len(got) == len(want)
    bad = [(v, g, w) for v, g, w in zip(values, got, want, strict=True) if not _same(g, w)]
    assert not bad, bad[:3]


@given(st.lists(st.one_of(VALUES, st.integers(-10**6, 10**6),
                          st.floats(-1e3, 1e3).map(np.float64)),
                min_size=VECTOR_MIN, max_size=40), st.integers(0, 8))
def test_values_not_exactly_float_keep_what_round_gives(values: list[object], nd: int
                                                        ) -> None:
    got = round_floats(values, nd)  # type: ignore[arg-type]
    want = _reference(values, nd)
    assert all(_same(g, w) and type(g) is type(w) for g, w in zip(got, want, strict=True))


def test_record_coordinates_on_a_grid_of_halves() -> None:
    """Every multiple of 5e-7 degrees in a span (ties at the 6th decimal in decimal,
    most of them not ties in binary): exactly as ``round`` rounds them."""
    x = (np.arange(-2_000_000, 2_000_000) * 5e-7 + 59.0).tolist()
    got, want = round_floats(x, 6), _reference(x, 6)
    assert [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if not _same(g, w)] == []
