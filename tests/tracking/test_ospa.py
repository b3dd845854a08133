"""The OSPA distance (``skyfence.tracking.metrics.ospa``) against its definition.

The reference is the definition itself, by brute force: for point sets X (n points) and
Y (m points), n <= m, OSPA = ((min over injections pi of X into Y of the sum of
min(d(x, pi(x)), c)**p) + c**p * (m - n)) / m) ** (1/p), every injection tried with
itertools (Schuhmacher, Vo and Vo 2008). Hand cases beside it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.tracking.metrics import ospa


def brute_ospa(a: np.ndarray, b: np.ndarray, c: float, p: float) -> float:
    if len(a) > len(b):
        a, b = b, a
    n, m = len(a), len(b)
    if m == 0:
        return 0.0
    best = math.inf
    for image in itertools.permutations(range(m), n):
        cost = sum(min(math.dist(a[i], b[j]), c) ** p for i, j in enumerate(image))
        best = min(best, cost)
    return ((best + c**p * (m - n)) / m) ** (1 / p)


def test_hand_cases() -> None:
    one = np.array([[0.0, 0.0]])
    # one point 100 m from its truth: 100; against nothing: the cut-off
    assert ospa(one, np.array([[60.0, 80.0]]), c=1000.0) == pytest.approx(100.0)
    assert ospa(one, np.empty((0, 2)), c=1000.0) == 1000.0
    assert ospa(one, np.empty((0, 2))) == 1000.0  # the default cut-off: 1 km
    assert ospa(np.empty((0, 2)), np.empty((0, 2))) == 0.0
    # a true track 100 m off and a false one: sqrt((100**2 + 1000**2) / 2) = 710.6 m
    two = np.array([[0.0, 100.0], [5000.0, 5000.0]])
    assert ospa(two, one, c=1000.0) == pytest.approx(math.sqrt((100**2 + 1000**2) / 2))
    # a far miss is cut at c; order p = 1 is the mean
    assert ospa(one, np.array([[3000.0, 0.0]]), c=1000.0) == pytest.approx(1000.0)
    assert ospa(two, one, c=1000.0, p=1.0) == pytest.approx((100 + 1000) / 2)
    # the assignment is the best one, not the nearest first: x0 takes y1 so x1 can take y0
    x = np.array([[0.0, 0.0], [10.0, 0.0]])
    y = np.array([[20.0, 0.0], [5.0, 0.0]])
    assert ospa(x, y, c=1000.0, p=1.0) == pytest.approx((5.0 + 10.0) / 2)


points = st.lists(st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000)),
                  min_size=0, max_size=4)


@settings(max_examples=300, deadline=None)
@given(points, points, st.sampled_from([200.0, 1000.0, 5000.0]),
       st.sampled_from([1.0, 2.0, 3.0]))
def test_equals_the_definition_by_brute_force(
        xa: list[tuple[float, float]], xb: list[tuple[float, float]], c: float, p: float
) -> None:
    a = np.array(xa, dtype=float).reshape(-1, 2)
    b = np.array(xb, dtype=float).reshape(-1, 2)
    want = brute_ospa(a, b, c, p)
    assert ospa(a, b, c=c, p=p) == pytest.approx(want, rel=1e-9, abs=1e-6)
    assert ospa(b, a, c=c, p=p) == pytest.approx(want, rel=1e-9, abs=1e-6)  # symmetric


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("c", [200.0, 1000.0, 5000.0])
def test_against_an_empty_set_exactly_the_cut_off(c: float, p: float) -> None:
    """One set empty, the other not: the distance is the cut-off itself, to the last bit,
    whatever the order and whichever side is empty (a reader comparing with ``c`` sees
    ``c``). The definition's ((c**p * m) / m) ** (1/p) computed in floating point is not
    c for every p (1000 ** 3 then the cube root: 999.9999999999997), so it must not be
    the route."""
    some = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 7000.0]])
    none = np.empty((0, 2))
    assert ospa(some, none, c=c, p=p) == c
    assert ospa(none, some, c=c, p=p) == c
    assert ospa(some[:1], none, c=c, p=p) == c
