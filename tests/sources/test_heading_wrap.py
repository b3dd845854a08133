"""Headings wrapped into [0, 360) give what ``mod 360`` gives, bit for bit.

The reader wraps only the headings out of range (most are in range); checked against
numpy's ``mod`` applied to every value, including -0.0, NaN, infinities, tiny
negatives (whose mod rounds to 360) and huge values.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skyfence.sources.ranges import wrap_heading_deg

SPECIAL = [-0.0, 0.0, 360.0, -360.0, 359.99999999999994, -1e-300, -5e-324, 720.0, -90.0,
           1e300, -1e300, float("nan"), float("inf"), float("-inf")]


def _every_value_through_mod(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        m = np.mod(v, 360.0)
    return np.where(m >= 360.0, 0.0, m)


@given(st.lists(st.one_of(st.floats(), st.sampled_from(SPECIAL),
                          st.floats(-1.0, 400.0)), max_size=60))
def test_wrap_equals_mod_of_every_value(values: list[float]) -> None:
    v = np.asarray(values, dtype=np.float64)
    before = v.copy()
    got = wrap_heading_deg(v)
    want = _every_value_through_mod(v)
    assert got.tobytes() == want.tobytes() or (
        np.array_equal(np.isnan(got), np.isnan(want))
        and np.array_equal(got[~np.isnan(got)].view(np.int64),
                           want[~np.isnan(want)].view(np.int64)))
    assert np.all(np.isnan(got) | ((got >= 0.0) & (got < 360.0)))
    assert not np.signbit(got[~np.isnan(got)]).any()  # never -0.0
    assert v.tobytes() == before.tobytes()  # the input is left as it was
