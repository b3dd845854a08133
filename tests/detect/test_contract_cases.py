"""``skyfence.scan`` on hand-made cases of the entry contract that random tests cannot reach.

* Splitting tracks at gaps of more than 300 s (299, 300 and 301 s).
* Measure-zero ties (a fix exactly on the boundary): a zero-length excursion is neither an exit
  nor an entry, and a track that touches the boundary at a fix and goes in enters at that fix.
  Expected values are worked out by hand next to each case.
* Zones across ±180 as skyfence reads them (``Zone.contains``), against the reference, and
  fixes exactly on lon ±180 (which the random tests never draw).
* National airspace across ±180 (Chukotka, Fiji): one entry, into that state only, checked
  field by field against the reference computed on the bundled boundary itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

import skyfence
from reference.compare_records import assert_same_entries, found_entries
from reference.contract_ref import GEOD, RefZone, reference_scan, wrap_lon
from skyfence.airspace.national import find_national
from skyfence.airspace.zones import Zone, circle_zone
from skyfence.detect.entries import EntryDetector
from skyfence.model import make_observations

T0 = 1_750_000_000.0
SQ = Zone("SQ", "custom", shapely.box(0.0, 0.0, 1.0, 1.0))


def track(t: list[float], lon: list[float], lat: list[float],
          ident: str = "abc123") -> pd.DataFrame:
    return pd.DataFrame({"time": [T0 + x for x in t], "icao24": ident, "lat": lat, "lon": lon})


def entries(df: pd.DataFrame, zones: object) -> list[dict[str, object]]:
    """skyfence's entries, times in seconds after T0."""
    out = found_entries(skyfence.scan(df, zones=zones, all_entries=True))
    for e in out:
        for k in ("entered_at", "exited_at", "last_inside_at"):
            e[k] = None if e[k] is None else round(e[k] - T0, 3)
    return out


def only(found: list[dict[str, object]]) -> dict[str, object]:
    """The one entry expected, or a failure that shows all of them."""
    assert len(found) == 1, f"expected one entry, got {len(found)}: {found}"
    return found[0]


@pytest.mark.parametrize(("gap_s", "n_entries"), [(299.0, 1), (300.0, 1), (301.0, 2)])
def test_a_gap_of_more_than_300_s_splits_the_track(gap_s: float, n_entries: int) -> None:
    # three fixes inside SQ, the last one gap_s after the second: a gap of exactly 300 s does
    # not split ("more than 300 s"); 301 s gives two tracks, each inside from its first fix
    # to its last, so two open, non-interpolated entries of 2 and 1 fixes.
    found = entries(track([0, 10, 10 + gap_s], [0.4, 0.5, 0.6], [0.5] * 3), [SQ])
    assert len(found) == n_entries
    assert all(e["exited_at"] is None and e["entry_interpolated"] is False for e in found)
    assert [e["observations"] for e in found] == ([3] if n_entries == 1 else [2, 1])


# -- ties: a fix exactly on the boundary --------------------------------------------------------


def test_touching_the_boundary_at_a_fix_then_going_in_enters_at_that_fix() -> None:
    # (-0.5, 0.5) outside at t 0, (0.0, 0.5) on the west side at t 10, (0.5, 0.5) inside at t 20:
    # the track is outside until t 10 and inside after it, so it enters at t 10, at that fix.
    e = only(entries(track([0, 10, 20], [-0.5, 0.0, 0.5], [0.5] * 3), [SQ]))
    assert e["entered_at"] == 10.0 and e["entry_interpolated"] is True
    assert e["entry_point"] == {"lat": 0.5, "lon": 0.0}
    assert e["exited_at"] is None


def test_reentry_touching_the_boundary_at_a_fix_enters_at_that_fix() -> None:
    # inside at t 0 (0.5, 0.5); out at t 10 (-0.5, 0.5), crossing lon 0 half way, at t 5;
    # back on the boundary at t 20 (0.0, 0.5); inside at t 30 (0.5, 0.5).
    first, second = entries(track([0, 10, 20, 30], [0.5, -0.5, 0.0, 0.5], [0.5] * 4), [SQ])
    assert (first["entered_at"], first["exited_at"]) == (0.0, 5.0)
    assert first["exit_point"] == {"lat": 0.5, "lon": 0.0}
    assert second["entered_at"] == 20.0 and second["entry_interpolated"] is True
    assert second["entry_point"] == {"lat": 0.5, "lon": 0.0}


def test_touching_the_boundary_from_inside_is_no_exit() -> None:
    """Issue 8, item 7: the re-entry came one fix late (t 20) with a null entry_point.

    Inside at t 0 (0.5, 0.5), on the west side at t 10 (0.0, 0.5), inside at t 20 (0.5, 0.6):
    the excursion to the boundary has zero length, so this is one entry, open, with the two
    inside fixes (the fix on the boundary is not inside).
    """
    e = only(entries(track([0, 10, 20], [0.5, 0.0, 0.5], [0.5, 0.5, 0.6]), [SQ]))
    assert (e["entered_at"], e["entry_interpolated"], e["exited_at"]) == (0.0, False, None)
    assert e["observations"] == 2 and e["last_inside_at"] == 20.0


@pytest.mark.parametrize(("lon", "lat"), [([-0.5, 0.0, -0.5], [0.5, 0.5, 0.6]),
                                          ([-1.0, 1.0], [1.0, -1.0])],
                         ids=["fix-on-side", "segment-through-corner"])
def test_touching_the_boundary_from_outside_is_no_entry(lon: list[float],
                                                        lat: list[float]) -> None:
    # back out after a zero-length visit; or a line from (-1, 1) to (1, -1) meeting SQ at (0, 0)
    assert entries(track([10.0 * i for i in range(len(lon))], lon, lat), [SQ]) == []


def test_the_reference_agrees_with_the_hand_answers_on_the_ties() -> None:
    # the same four cases through the reference, so the random tests stand on the same rules
    ref = [RefZone.from_geometry("SQ", SQ.geometry)]
    (a,) = reference_scan(track([0, 10, 20], [-0.5, 0.0, 0.5], [0.5] * 3), ref).entries
    assert (a["entered_at"] - T0, a["entry_point"]) == (10.0, {"lat": 0.5, "lon": 0.0})
    (b,) = reference_scan(track([0, 10, 20], [0.5, 0.0, 0.5], [0.5, 0.5, 0.6]), ref).entries
    assert (b["entered_at"] - T0, b["exited_at"], b["observations"]) == (0.0, None, 2)
    assert reference_scan(track([0, 10], [-1.0, 1.0], [1.0, -1.0]), ref).entries == []


# -- how skyfence reads zones across ±180 -------------------------------------------------------

BOX_JUMPS = shapely.Polygon([(179.0, -1.0), (-179.0, -1.0), (-179.0, 1.0), (179.0, 1.0)])
BOX_CUT = shapely.MultiPolygon([shapely.box(179.0, -1.0, 180.0, 1.0),
                                shapely.box(-180.0, -1.0, -179.0, 1.0)])
# name: (skyfence zone, reference zone, centre lat, centre lon, radius that fits inside, km)
ACROSS_180 = {
    "circle-100km-at-179.9E": (circle_zone("C", 60.0, 179.9, 100.0),
                               RefZone.circle("C", 60.0, 179.9, 100.0), 60.0, 179.9, 100.0),
    "circle-300km-at-179.95W": (circle_zone("C", -17.0, -179.95, 300.0),
                                RefZone.circle("C", -17.0, -179.95, 300.0), -17.0, -179.95,
                                300.0),
    # the box [179, 181] x [-1, 1]: 1 deg of latitude is 110.6 km, its corners 157 km away
    "box-ring-with-jumps": (Zone("J", "custom", BOX_JUMPS), RefZone.from_geometry("J", BOX_JUMPS),
                            0.0, 180.0, 110.0),
    "box-cut-at-180": (Zone("M", "custom", BOX_CUT), RefZone.from_geometry("M", BOX_CUT),
                       0.0, 180.0, 110.0),
}


@pytest.mark.parametrize("name", sorted(ACROSS_180))
def test_zone_contains_agrees_with_the_reference_across_the_antimeridian(name: str) -> None:
    # points at 0.5 (inside) and 1.5 (outside) times the radius, every 10 degrees of azimuth,
    # off the meridian through the centre (points exactly on ±180 have a test of their own)
    zone, ref, clat, clon, radius_km = ACROSS_180[name]
    az = np.arange(5.0, 360.0, 10.0)
    lon: list[float] = []
    lat: list[float] = []
    for k in (0.5, 1.5):
        x, y, _ = GEOD.fwd(np.full(az.shape, clon), np.full(az.shape, clat), az,
                           np.full(az.shape, k * radius_km * 1000.0))
        lon += [float(v) for v in x]
        lat += [float(v) for v in y]
    want = [ref.contains_xy(x, y) for x, y in zip(lon, lat, strict=True)]
    assert want == [True] * len(az) + [False] * len(az)  # the probe itself is sound
    got = zone.contains(np.array(lon), np.array(lat), np.full(len(lon), np.nan))
    wrong = [(round(x, 4), round(y, 4), w) for x, y, w, g in zip(lon, lat, want, got, strict=True)
             if bool(g) != w]
    assert wrong == [], f"{len(wrong)} of {len(lon)} points misread (lon, lat, truly inside)"


def test_a_point_exactly_on_180_inside_a_zone_cut_there_is_inside() -> None:
    # (180, 0.5) and (-180, -0.5) lie on the cut of the box [179, 181] x [-1, 1]: the cut is
    # not a boundary, so both are inside (and 0.5 deg from the nearest side)
    zone = ACROSS_180["box-cut-at-180"][0]
    got = zone.contains(np.array([180.0, -180.0]), np.array([0.5, -0.5]), np.full(2, np.nan))
    assert got.tolist() == [True, True]


def test_a_track_along_the_180th_meridian_through_a_circle_is_one_entry() -> None:
    # Circle of 100 km around (0, 180); fixes at lat -1, -0.3, 0.3, 1 (t 0, 10, 20, 30) on the
    # meridian, written 180 and -180 in turn. Its southernmost and northernmost vertices are
    # on that meridian (azimuths 180 and 0) at lat -/+ 0.904 (100 km of meridian arc), so the
    # track enters where lat = -0.904..: t = (lat + 1) / 0.07, exits at t = 30 - that.
    _, south_lat, _ = GEOD.fwd(180.0, 0.0, 180.0, 100_000.0)
    assert south_lat == pytest.approx(-100_000.0 / 110_574.0 * 1.0, abs=1e-4)
    t_in = (south_lat + 1.0) / 0.07
    df = track([0, 10, 20, 30], [180.0, -180.0, 180.0, -180.0], [-1.0, -0.3, 0.3, 1.0])
    e = only(entries(df, [circle_zone("C", 0.0, 180.0, 100.0)]))
    assert e["entered_at"] == pytest.approx(t_in, abs=1e-3)
    assert e["exited_at"] == pytest.approx(30.0 - t_in, abs=1e-3)
    assert e["observations"] == 2 and e["entry_interpolated"] is True


# -- national airspace across ±180 --------------------------------------------------------------


def _line(ident: str, lon0: float, lat0: float, lon1: float, lat1: float, n: int,
          dt_s: float) -> pd.DataFrame:
    """n fixes evenly spaced in lon/lat from (lon0, lat0) to (lon1, lat1), the short way."""
    s = np.linspace(0.0, 1.0, n)
    dlon = (lon1 - lon0 + 180.0) % 360.0 - 180.0
    return pd.DataFrame({"time": T0 + dt_s * np.arange(n), "icao24": ident,
                         "lat": lat0 + s * (lat1 - lat0),
                         "lon": [wrap_lon(lon0 + v * dlon) for v in s]})


@pytest.mark.slow
@pytest.mark.parametrize(("code", "flight"), [
    # Chukotka: from 178 E to 178 W along 66.5-66.7 N, all over land (about 180 km, 12 fixes).
    ("RUS", ("c0ffee", 178.0, 66.5, -178.0, 66.7, 12, 64.0)),
    # Fiji: from 179.6 E to 179.6 W by Taveuni, 16.85-16.95 S, in the territorial sea.
    ("FJI", ("f1f1f1", 179.6, -16.85, -179.6, -16.95, 8, 40.0)),
], ids=["chukotka", "fiji"])
def test_crossing_180_inside_a_state_is_one_entry_into_that_state_only(
        code: str, flight: tuple[str, float, float, float, float, int, float]) -> None:
    df = _line(*flight)
    found = skyfence.scan(df, zones="all", all_entries=True)
    assert sorted(found["zone"]) == [code], "entries into other states, or not one entry"
    # the reference on the bundled boundary (data, not the code under test)
    want = reference_scan(df, [RefZone.from_geometry(code, find_national(code).geometry)])
    (e,) = want.entries
    assert not e["entry_interpolated"] and e["exited_at"] is None  # inside all along
    assert e["observations"] == len(df) and e["max_depth_m"] > 0
    assert_same_entries(found, want.entries)


@pytest.mark.parametrize(("gap_s", "n_entries"), [(300.0, 1), (301.0, 2)])
def test_the_detector_s_own_default_gap_is_300_s(gap_s: float, n_entries: int) -> None:
    # the same three fixes through the library's EntryDetector with its default
    # configuration (not skyfence.scan, which passes its own gap): its documented
    # default splits at more than 300 s too
    t = np.array([T0, T0 + 10.0, T0 + 10.0 + gap_s])
    det = EntryDetector([SQ])
    batch = make_observations(time=t, icao24=["abc123"] * 3, lat=np.full(3, 0.5),
                              lon=np.array([0.4, 0.5, 0.6]))
    events = det.process(batch) + det.close()
    assert sum(e.kind == "entry" for e in events) == n_entries
