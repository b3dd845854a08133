"""The vectorized crossing finder gives what its per-segment loop gave, exactly.

``reference_transitions`` below is the loop version of
:func:`skyfence.detect.crossings.segment_transitions` as it was before the loops became
array operations (kept here as the reference until the new one has proven itself).
Compared on random segments around and through zones with and without floors and
ceilings, near and across the antimeridian, with fixes on the seam, repeated and
grazing segments: the same rows, fractions and directions, bit for bit.
"""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.airspace.boundary import Boundary
from skyfence.airspace.zones import Zone, circle_zone
from skyfence.detect.crossings import (
    _SEAM_SIDES,
    Transitions,
    segment_transitions,
)

ZONES = [
    circle_zone("C", 50.0, 10.0, 60.0),
    circle_zone("V", 50.0, 10.0, 60.0, floor_m=1_000.0, ceiling_m=5_000.0),
    Zone("S", "custom", shapely.Polygon([(170, -10), (190, -10), (190, 10), (170, 10)])),
    Zone("B", "custom", shapely.MultiPolygon([
        shapely.box(9.0, 49.0, 9.5, 49.5), shapely.box(9.6, 49.0, 10.2, 49.6)]),
        floor_m=0.0),
    # an L: legs inside it through its inner (reflex) corner touch the boundary there
    Zone("L", "custom", shapely.Polygon([(9, 49), (11, 49), (11, 50), (10, 50), (10, 51),
                                         (9, 51)])),
]
BOUNDARIES = [Boundary(z.geometry) for z in ZONES]
CENTRES = [(10.0, 50.0), (10.0, 50.0), (180.0, 0.0), (9.6, 49.3), (10.0, 50.0)]


def reference_transitions(
    zone: Zone,
    boundary: Boundary,
    lon: np.ndarray,
    lat: np.ndarray,
    alt: np.ndarray,
    seg_start: np.ndarray,
    in0: np.ndarray,
    in1: np.ndarray,
    *,
    lon_next: np.ndarray | None = None,
) -> Transitions:
    """Transitions on the segments ``seg_start[k] -> seg_start[k] + 1``.

    ``lon_next[i]`` is the longitude of row ``i + 1`` seen from row ``i`` the shorter way
    round (beyond ±180 where the segment crosses the antimeridian); by default the next
    row's own longitude.

    ``in0`` and ``in1`` are the states at each segment's two fixes. A segment is examined
    when its end states differ, when its line crosses the boundary (a corner cut between
    two outside fixes, or a bay crossed between two inside fixes), or when its altitude
    crosses a limit.
    """
    i0 = seg_start
    i1 = seg_start + 1
    if len(i0) == 0:
        return Transitions.empty()
    x1 = lon[i1] if lon_next is None else lon_next[i0]
    hit_seg, hit_t = boundary.crossings(lon[i0], lat[i0], x1, lat[i1])
    # a leg along the antimeridian itself: its points are inside a zone that holds them
    # on either side, so its crossings are those of the leg just off the seam, east and
    # west (on the seam a zone's edge there is the leg's own line)
    along = np.flatnonzero((np.abs(lon[i0]) == 180.0) & (x1 == lon[i0]))
    if len(along):
        segs_a, ts_a = [hit_seg], [hit_t]
        for side in _SEAM_SIDES:
            xs = np.full(len(along), side)
            k, t = boundary.crossings(xs, lat[i0[along]], xs, lat[i1[along]])
            segs_a.append(along[k])
            ts_a.append(t)
        hit_seg, hit_t = np.concatenate(segs_a), np.concatenate(ts_a)
    fracs: list[np.ndarray] = [hit_t]
    segs: list[np.ndarray] = [hit_seg]
    if zone.has_altitude_limits:
        a0, a1 = alt[i0], alt[i1]
        for limit in (zone.floor_m, zone.ceiling_m):
            if limit is None:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                t = (limit - a0) / (a1 - a0)
            ok = np.isfinite(t) & (t > 0) & (t < 1)
            segs.append(np.flatnonzero(ok))
            fracs.append(t[ok])
    differ = np.flatnonzero(in0 != in1)
    seg_all = np.concatenate([*segs, differ])
    if len(seg_all) == 0:
        return Transitions.empty()
    frac_all = np.concatenate([*fracs, np.full(len(differ), np.nan)])
    # breakpoints per segment, sorted; NaN marks "examine, no interior breakpoint"
    order = np.lexsort((frac_all, seg_all))
    seg_all, frac_all = seg_all[order], frac_all[order]
    cand = np.unique(seg_all)
    # sub-interval midpoints: between consecutive breakpoints (0, t1, ..., tk, 1)
    rows: list[int] = []
    fr: list[float] = []
    ent: list[bool] = []
    # one vectorized containment test for every midpoint of every candidate segment
    mids_seg: list[int] = []
    mids_t: list[float] = []
    bounds_per_seg: dict[int, np.ndarray] = {}
    starts = np.searchsorted(seg_all, cand, side="left")
    ends = np.searchsorted(seg_all, cand, side="right")
    fr_list = frac_all.tolist()
    for k, s0, s1 in zip(cand.tolist(), starts.tolist(), ends.tolist(), strict=True):
        inner = sorted({t for t in fr_list[s0:s1] if 0.0 < t < 1.0})  # NaN fails both
        b = np.array([0.0, *inner, 1.0])
        bounds_per_seg[k] = b
        m = (b[:-1] + b[1:]) / 2
        mids_seg.extend([k] * len(m))
        mids_t.extend(m.tolist())
    ms = np.asarray(mids_seg, dtype=np.intp)
    mt = np.asarray(mids_t)
    j0, j1 = i0[ms], i1[ms]
    mid_lat = lat[j0] + mt * (lat[j1] - lat[j0])
    mid_alt = alt[j0] + mt * (alt[j1] - alt[j0])
    mid_in = zone.contains(lon[j0] + mt * (x1[ms] - lon[j0]), mid_lat, mid_alt)
    if len(along):
        on = np.isin(ms, along)
        if on.any():
            n_on = int(on.sum())
            mid_in[on] = np.logical_or.reduce([
                zone.contains(np.full(n_on, side), mid_lat[on], mid_alt[on])
                for side in _SEAM_SIDES])
    pos = 0
    for k in cand.tolist():
        b = bounds_per_seg[k]
        nsub = len(b) - 1
        states = [bool(in0[k]), *mid_in[pos : pos + nsub].tolist(), bool(in1[k])]
        pos += nsub
        # transition between states[j] and states[j+1] happens at b[j]
        # (states[0] is the fix itself at 0, the last state is the end fix at 1)
        where = [0.0, *b[1:-1].tolist(), 1.0]
        for j in range(len(states) - 1):
            if states[j] != states[j + 1]:
                rows.append(int(i0[k]))
                fr.append(where[j])
                ent.append(states[j + 1])
    return Transitions(np.asarray(rows, np.intp), np.asarray(fr), np.asarray(ent, bool))


def _case(data: st.DataObject, zi: int) -> tuple[np.ndarray, ...]:
    cx, cy = CENTRES[zi]
    n = data.draw(st.integers(2, 40))
    span = data.draw(st.sampled_from([0.01, 0.3, 1.5, 12.0]))
    coord = st.floats(-1.0, 1.0, allow_nan=False)
    lon = np.array([cx + span * data.draw(coord) for _ in range(n)])
    lat = np.clip([cy + span * data.draw(coord) for _ in range(n)], -90.0, 90.0)
    if zi == 2:  # fixes on the seam, either way written
        seam = data.draw(st.lists(st.integers(0, n - 1), max_size=4))
        lon[seam] = data.draw(st.sampled_from([180.0, -180.0]))
        lon = (lon + 180.0) % 360.0 - 180.0
        lon[seam] = np.where(lon[seam] == -180.0, data.draw(st.sampled_from(
            [180.0, -180.0])), lon[seam])
    if zi == 3:  # fixes on the boxes' corners and edges, and legs through corners
        corner = st.sampled_from([(9.0, 49.0), (9.5, 49.5), (9.6, 49.0), (10.2, 49.6),
                                  (9.0, 49.25), (9.8, 49.6), (8.9, 48.9), (9.1, 49.1),
                                  (9.7, 49.7), (10.3, 49.5), (8.9, 49.1), (9.1, 48.9)])
        for i in data.draw(st.lists(st.integers(0, n - 1), max_size=n)):
            lon[i], lat[i] = data.draw(corner)
    if zi == 4:  # legs through the inner corner (10, 50), from inside to inside
        corner = st.sampled_from([(9.5, 50.5), (10.5, 49.5), (10.0, 50.0), (9.75, 50.25)])
        for i in data.draw(st.lists(st.integers(0, n - 1), max_size=n)):
            lon[i], lat[i] = data.draw(corner)
    repeat = np.array(data.draw(st.lists(st.integers(1, n - 1), max_size=3)), np.intp)
    lon[repeat], lat[repeat] = lon[repeat - 1], lat[repeat - 1]
    alt = np.array([data.draw(st.one_of(st.floats(-500.0, 8_000.0), st.just(np.nan),
                                        st.sampled_from([1_000.0, 5_000.0, 0.0])))
                    for _ in range(n)])
    return lon, np.asarray(lat, float), alt


@settings(max_examples=150, deadline=None)
@given(data=st.data(), zi=st.integers(0, len(ZONES) - 1))
def test_vectorized_transitions_equal_the_loop(data: st.DataObject, zi: int) -> None:
    zone, boundary = ZONES[zi], BOUNDARIES[zi]
    lon, lat, alt = _case(data, zi)
    n = len(lon)
    # the shorter way round, as the detector gives it
    lon_next = lon.copy()
    lon_next[:-1] = lon[:-1] + ((lon[1:] - lon[:-1] + 180.0) % 360.0 - 180.0)
    # the segments asked about: any subset of the n - 1 legs (n >= 2)
    seg = np.flatnonzero(data.draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1)))
    inside = zone.contains(lon, lat, alt)
    if data.draw(st.booleans()):  # states as given, or some flipped (a screening's doubt)
        flip = data.draw(st.lists(st.integers(0, n - 1), max_size=3))
        inside = inside.copy()
        inside[flip] = ~inside[flip]
    args = (zone, boundary, lon, lat, alt, seg, inside[seg], inside[seg + 1])
    got = segment_transitions(*args, lon_next=lon_next)
    want = reference_transitions(*args, lon_next=lon_next)
    assert got.row.dtype == want.row.dtype and got.entering.dtype == want.entering.dtype
    assert got.row.tolist() == want.row.tolist()
    assert got.fraction.tobytes() == want.fraction.tobytes()
    assert got.entering.tolist() == want.entering.tolist()


def test_no_candidate_segment_gives_no_transition() -> None:
    zone, boundary = ZONES[0], BOUNDARIES[0]
    lon, lat, alt = np.array([0.0, 0.1]), np.array([0.0, 0.1]), np.array([100.0, 100.0])
    seg = np.array([0])
    inside = np.array([False])
    got = segment_transitions(zone, boundary, lon, lat, alt, seg, inside, inside)
    assert len(got.row) == 0 and got.row.dtype == np.intp and got.entering.dtype == bool


def test_a_leg_through_the_inner_corner_of_an_l_stays_inside() -> None:
    """Inside to inside through the L's reflex corner: the leg touches the boundary at
    one point (two boundary pieces cross it there, at the same fraction) and never
    leaves, so there is no transition; the reference agrees."""
    zone, boundary = ZONES[4], BOUNDARIES[4]
    lon, lat, alt = np.array([9.5, 10.5]), np.array([50.5, 49.5]), np.zeros(2)
    seg, inside = np.array([0]), np.array([True])
    got = segment_transitions(zone, boundary, lon, lat, alt, seg, inside, inside)
    want = reference_transitions(zone, boundary, lon, lat, alt, seg, inside, inside)
    assert got.row.tolist() == want.row.tolist() == []
