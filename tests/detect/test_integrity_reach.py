"""The reach test of consecutive fixes gives, bit for bit, the verdicts of computing the
cosine for every pair (the code before the cheap pre-test, kept here as the reference).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skyfence.detect.integrity import _M_PER_DEG2, IntegrityConfig, IntegrityScreen


def reference(c: IntegrityConfig, t0, x0, y0, z0, t1, x1, y1, z1) -> np.ndarray:  # type: ignore[no-untyped-def]
    dt = np.abs(t1 - t0)
    reach = c.max_speed_ms * dt + c.slack_m
    with np.errstate(invalid="ignore"):
        dlon = x1 - x0
        dlon = np.where(np.abs(dlon) > 180.0, dlon - np.copysign(360.0, dlon), dlon)
        east = dlon * np.cos(np.radians(y0))
        north = y1 - y0
        fast = (east * east + north * north) * _M_PER_DEG2 > reach * reach
        steep = np.abs(z1 - z0) > c.max_climb_ms * dt + c.alt_slack_m
    out = steep.astype(np.int8) * 2
    out[fast] = 1
    return out


ODD = [np.nan, np.inf, -np.inf, 0.0, -0.0, 90.0, -90.0, 180.0, -180.0, 89.9999, 1e300]
LON = st.one_of(st.floats(-180, 180), st.sampled_from(ODD))
LAT = st.one_of(st.floats(-90, 90), st.sampled_from(ODD))
TIME = st.one_of(st.floats(0, 1e5), st.sampled_from(ODD))


@st.composite
def pairs(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(0, 40))
    t0 = draw(arrays(np.float64, n, elements=TIME))
    x0 = draw(arrays(np.float64, n, elements=LON))
    y0 = draw(arrays(np.float64, n, elements=LAT))
    z0 = draw(arrays(np.float64, n, elements=st.floats(-1e3, 2e4)))
    # the second fix near the first (where the reach is decided), or anywhere
    near = draw(st.booleans())
    step = st.floats(-0.5, 0.5) if near else st.floats(-400, 400)
    t1 = t0 + draw(arrays(np.float64, n, elements=st.floats(0, 60)))
    x1 = x0 + draw(arrays(np.float64, n, elements=step))
    y1 = y0 + draw(arrays(np.float64, n, elements=step))
    z1 = z0 + draw(arrays(np.float64, n, elements=st.floats(-2e4, 2e4)))
    return t0, x0, y0, z0, t1, x1, y1, z1


@settings(max_examples=500)
@given(pairs(), st.sampled_from([IntegrityConfig(), IntegrityConfig(max_speed_ms=50.0,
                                                                    slack_m=10.0)]))
def test_the_verdicts_of_the_cosine_for_every_pair(case, config) -> None:  # type: ignore[no-untyped-def]
    got = IntegrityScreen(config)._implausible(*case)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, reference(config, *case))


def test_pairs_on_the_edge_of_reach_at_high_latitude() -> None:
    """Steps placed just inside and just outside the reach where a degree of longitude
    is short (70-89.9 degrees), where only the cosine tells them apart."""
    c = IntegrityConfig(max_speed_ms=100.0, slack_m=0.0)
    rng = np.random.default_rng(3)
    n = 20_000
    y0 = rng.uniform(70, 89.9, n)
    t0 = np.zeros(n)
    t1 = np.full(n, 10.0)  # reach 1 km
    deg = 1000.0 / np.sqrt(_M_PER_DEG2) / np.cos(np.radians(y0))
    x1 = deg * rng.choice([0.999999, 1.000001, 1.0], n)
    case = (t0, np.zeros(n), y0, np.zeros(n), t1, x1, y0.copy(), np.zeros(n))
    got = IntegrityScreen(c)._implausible(*case)
    want = reference(c, *case)
    np.testing.assert_array_equal(got, want)
    assert 0 < int((want == 1).sum()) < n
