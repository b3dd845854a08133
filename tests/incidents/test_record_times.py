"""Record times written for many entries at once are those written one at a time.

:func:`iso_times` (numpy's calendar) against :func:`iso_time` (integer arithmetic and
``datetime``) on any value: times from 1970 to 2100 at every millisecond rounding (half
way cases included), the ends of that range, None, and values outside it (which
:func:`iso_times` hands to :func:`iso_time`, so they fail or succeed alike).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from skyfence.incidents.record import iso_time, iso_times

END_2100 = 4_102_444_800.0
TIMES = st.one_of(
    st.none(),
    st.floats(0.0, END_2100),
    st.integers(0, int(END_2100) * 1000).map(lambda ms: ms / 1000.0),
    st.integers(0, int(END_2100) * 2000).map(lambda half: half / 2000.0),  # x.xxx5
    st.sampled_from([0.0, -0.0, END_2100, END_2100 + 1e-3, -1e-3, 1758275892.4]),
    st.floats(allow_nan=True, allow_infinity=True),
)


def _one_by_one(values: list[float | None]) -> list[object]:
    out: list[object] = []
    for v in values:
        try:
            out.append(iso_time(v))
        except (ValueError, OverflowError, OSError) as exc:
            out.append(type(exc))
    return out


@given(st.lists(TIMES, max_size=30))
def test_times_at_once_equal_times_one_by_one(values: list[float | None]) -> None:
    want = _one_by_one(values)
    failed = [w for w in want if isinstance(w, type)]
    try:
        got: list[object] = list(iso_times(values))
    except (ValueError, OverflowError, OSError) as exc:
        assert failed and type(exc) is failed[0]  # the first value iso_time refuses
        return
    assert not failed
    assert got == want
