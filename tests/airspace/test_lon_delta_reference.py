"""``lon_delta`` (``mod`` only where the change is not already in [-180, 180)) against
the plain formula it replaced, bit for bit: -0.0, NaN, infinities, huge values, the
half-turn edges, and scalars as well as arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skyfence.airspace.antimeridian import lon_delta

EDGES = [0.0, -0.0, 180.0, -180.0, 179.99999999999997, -179.99999999999997, 360.0,
         -360.0, 540.0, 1e-14, -1e-14, 1.7031293874354948e-14, 1e300, -1e300,
         float("inf"), float("-inf"), float("nan")]
values = st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(-400.0, 400.0))


def reference(lon0: np.ndarray, lon1: np.ndarray) -> np.ndarray:
    """``lon_delta`` as first written."""
    with np.errstate(invalid="ignore"):
        d = np.asarray(lon1, dtype=np.float64) - np.asarray(lon0, dtype=np.float64)
        out = np.mod(d + 180.0, 360.0) - 180.0
        return np.asarray(np.where(out >= 180.0, out - 360.0, out), dtype=np.float64)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b))
                and np.array_equal(a[~nan].view(np.int64), b[~nan].view(np.int64)))


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.integers(0, 40), elements=values), st.data())
def test_arrays_match_the_plain_formula(lon0: np.ndarray, data: st.DataObject) -> None:
    lon1 = data.draw(arrays(np.float64, len(lon0), elements=values))
    with np.errstate(invalid="ignore"):
        got = lon_delta(lon0, lon1)
    assert got.shape == lon0.shape and got.dtype == np.float64
    assert same_bits(got, reference(lon0, lon1))


@settings(max_examples=200, deadline=None)
@given(values, values)
def test_scalars_match_the_plain_formula(a: float, b: float) -> None:
    with np.errstate(invalid="ignore"):
        got = lon_delta(a, b)
    assert np.ndim(got) == 0
    assert same_bits(np.asarray(got), reference(np.asarray(a), np.asarray(b)))
