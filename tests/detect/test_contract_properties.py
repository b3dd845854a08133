"""``skyfence.scan`` against an independent reference of the entry contract, anywhere on Earth.

The reference (``tests/reference/contract_ref.py``) is a brute-force reading of the contract
text that shares no code with skyfence. Hypothesis generates zones (polygons of 3-12 vertices,
possibly non-convex, and geodesic circles of 0.5-500 km) anywhere: at the equator, near the
poles (up to lat 89, never around a pole) and across ±180, given either as a MultiPolygon cut
at ±180 (RFC 7946) or as a ring whose vertices jump by more than 180 degrees, built with
``Zone(...)`` or read from a GeoJSON file; optionally with a floor and a ceiling. It generates a
few tracks of 2-40 fixes aimed near the zone, with 1-400 s steps (so gaps split tracks) and
speeds up to 300 m/s, optionally with altitudes (known, or unknown for a whole track), rows
shuffled. Every entry of every (track, zone) must agree field by field:

* the number of entries, ``entry_interpolated`` and ``observations`` exactly;
* ``entered_at``, ``exited_at`` (null alike) and ``last_inside_at`` within 1 ms (the record's
  resolution), and ``duration_s`` within 2 ms;
* ``entry_point`` / ``exit_point`` (null alike) within 1e-6 degrees;
* ``max_depth_m`` within max(1 m, 0.1 %); ``min_altitude_m`` / ``max_altitude_m`` within
  0.05 m (the record writes altitudes to 0.1 m).

(see ``tests/reference/compare_records.py``).

Cases that hang on rounding rather than on the contract are rejected with ``assume``: a fix
or an interval midpoint within 1e-9 degrees of a zone edge, or an altitude within 1 mm of a
floor or ceiling. The ties themselves are tested by hand in ``test_contract_cases.py``.

Time is bounded: 15 examples per property and no shrinking, so a failing property stops at
the first failing example it draws (the minimal ones found so far are its ``@example``s).
``SKYFENCE_HYPOTHESIS_SHRINK=1`` turns shrinking on (up to minutes per failing property),
``SKYFENCE_HYPOTHESIS_EXAMPLES=N`` tries N examples per property, and
``SKYFENCE_HYPOTHESIS_DERANDOMIZE=1`` (or ``CI=true``) draws the same examples on every run.
``--hypothesis-show-statistics`` shows how many entries the examples produced.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.affinity
from hypothesis import HealthCheck, Phase, assume, event, example, given, settings
from hypothesis import strategies as st

import skyfence
from reference.compare_records import assert_same_entries
from reference.contract_ref import (
    GEOD,
    RefZone,
    lon_delta,
    reference_scan,
    unwrap_ring,
    wrap_lon,
)
from skyfence.airspace.zones import Zone, circle_ring, circle_zone, zones_from_geojson

# -- Hypothesis settings ------------------------------------------------------------------------


def _env_flag(name: str, default: str = "") -> bool:
    return os.environ.get(name, default).lower() not in ("", "0", "false", "no")


DERANDOMIZE = _env_flag("SKYFENCE_HYPOTHESIS_DERANDOMIZE", os.environ.get("CI", ""))
PHASES = tuple(p for p in Phase if p != Phase.shrink or _env_flag("SKYFENCE_HYPOTHESIS_SHRINK"))
settings.register_profile(
    "skyfence-contract",
    max_examples=int(os.environ.get("SKYFENCE_HYPOTHESIS_EXAMPLES", "15")),
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None if DERANDOMIZE else settings.default.database,
    phases=PHASES,
    print_blob=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
CONTRACT = settings.get_profile("skyfence-contract")

TIE_DEG = 1e-9
ALT_TIE_M = 1e-3
T0 = 1_750_000_000.0

# -- what a case is (plain values, so a failing case prints as code that rebuilds it) ------------

Ring = tuple[tuple[float, float], ...]
Fix = tuple[str, float, float, float, float | None]  # icao24, time s, lat, lon, altitude m


@dataclass(frozen=True)
class ZoneSpec:
    """A zone as handed to skyfence: ``kind`` is ``polygon``, ``multipolygon`` or ``circle``."""

    kind: str
    polygons: tuple[tuple[Ring, ...], ...] = ()  # lon/lat rings: exterior then holes
    lat: float = 0.0
    lon: float = 0.0
    radius_km: float = 0.0
    floor_m: float | None = None
    ceiling_m: float | None = None
    via_geojson: bool = False
    name: str = "Z1"

    def geometry(self) -> shapely.Geometry:
        polys = [shapely.Polygon(rings[0], rings[1:]) for rings in self.polygons]
        return polys[0] if self.kind == "polygon" else shapely.MultiPolygon(polys)

    def to_zone(self, workdir: Path) -> Zone:
        """The skyfence Zone, built the public way: Zone(...)/circle_zone(...) or GeoJSON."""
        if self.via_geojson:
            props: dict[str, Any] = {"name": self.name}
            if self.floor_m is not None:
                props["floor_m"] = self.floor_m
            if self.ceiling_m is not None:
                props["ceiling_m"] = self.ceiling_m
            if self.kind == "circle":
                geom: dict[str, Any] = {"type": "Point", "coordinates": [self.lon, self.lat]}
                props["radius_km"] = self.radius_km
            else:
                geom = shapely.geometry.mapping(self.geometry())
            path = workdir / f"{self.name}.geojson"
            path.write_text(json.dumps({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": props, "geometry": geom}]}))
            (zone,) = zones_from_geojson(path)
            return zone
        if self.kind == "circle":
            return circle_zone(self.name, self.lat, self.lon, self.radius_km,
                               floor_m=self.floor_m, ceiling_m=self.ceiling_m)
        return Zone(self.name, "custom", self.geometry(), self.floor_m, self.ceiling_m)

    def to_ref(self) -> RefZone:
        """The reference's own reading of the same zone.

        A circle is drawn as the vertex ring skyfence draws it (``circle_ring``: 720
        azimuths, more where a lon/lat-straight edge would stray over 1 m from the true
        circle): which polygon stands for a circle is an input of the contract, what
        the contract makes of that polygon is what is compared here. How close that
        ring is to the true geodesic circle is tested against pyproj in
        tests/airspace/test_antimeridian.py.
        """
        if self.kind == "circle":
            ring = circle_ring(self.lat, self.lon, self.radius_km * 1000.0)
            ring = np.vstack([ring, ring[:1]])
            return RefZone(self.name, [[unwrap_ring(ring)]], self.floor_m, self.ceiling_m)
        return RefZone.from_geometry(self.name, self.geometry(), self.floor_m, self.ceiling_m)


@dataclass(frozen=True)
class Scenario:
    """One zone and the fixes of a few tracks (rows in the order they are handed over)."""

    zone: ZoneSpec
    fixes: tuple[Fix, ...]
    altitude_column: str | None = None

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame({
            "time": [f[1] for f in self.fixes], "icao24": [f[0] for f in self.fixes],
            "lat": [f[2] for f in self.fixes], "lon": [f[3] for f in self.fixes]})
        if self.altitude_column:
            df[self.altitude_column] = [math.nan if f[4] is None else f[4] for f in self.fixes]
        return df


# -- strategies ---------------------------------------------------------------------------------


def _centre(draw: st.DrawFn, lat_mode: str, lon_mode: str) -> tuple[float, float]:
    if lat_mode == "equator":
        lat = draw(st.floats(-1.0, 1.0))
    elif lat_mode == "polar":
        lat = draw(st.floats(80.0, 89.0)) * draw(st.sampled_from([1.0, -1.0]))
    elif lat_mode == "mid":
        lat = draw(st.floats(-70.0, 70.0))
    else:
        raise ValueError(lat_mode)
    if lon_mode == "antimeridian":  # never exactly on it: test_contract_cases.py does that
        lon = wrap_lon(180.0 + draw(st.floats(1e-3, 1.5)) * draw(st.sampled_from([1.0, -1.0])))
    elif lon_mode == "away":  # far enough from ±180 that nothing generated reaches it
        lon = draw(st.floats(-120.0, 120.0))
    elif lon_mode == "anywhere":
        lon = draw(st.floats(-180.0, 180.0, exclude_max=True))
    else:
        raise ValueError(lon_mode)
    return lat, lon


def _max_radius_km(lat: float) -> float:
    """Keep a zone clear of the pole: at most 70 % of the way there."""
    return max(0.5, (90.0 - abs(lat)) * 111.0 * 0.7)


def _cut_at_antimeridian(ring: np.ndarray) -> list[shapely.Polygon]:
    """Cut an unwrapped ring crossing lon 180 into RFC 7946 parts on either side of it."""
    poly = shapely.Polygon(ring)
    west = poly.intersection(shapely.box(-540.0, -90.0, 180.0, 90.0))
    east = shapely.affinity.translate(poly.intersection(shapely.box(180.0, -90.0, 540.0, 90.0)),
                                      -360.0)
    parts = []
    for g in (west, east):
        for p in getattr(g, "geoms", [g]):
            if isinstance(p, shapely.Polygon) and not p.is_empty:
                coords = np.asarray(p.exterior.coords)
                near = np.abs(np.abs(coords[:, 0]) - 180.0) < 1e-9
                coords[near, 0] = np.sign(coords[near, 0]) * 180.0
                parts.append(shapely.Polygon(coords))
    return parts


def _rings_of(polys: Sequence[shapely.Polygon]) -> tuple[tuple[Ring, ...], ...]:
    return tuple((tuple((float(x), float(y)) for x, y in p.exterior.coords),) for p in polys)


@st.composite
def zone_specs(draw: st.DrawFn, lat_modes: Sequence[str] = ("mid", "equator", "polar"),
               lon_modes: Sequence[str] = ("anywhere", "antimeridian"),
               kinds: Sequence[str] = ("polygon", "circle"),
               straddle_as: Sequence[str] = ("cut", "jumps"),
               limits: bool = True) -> ZoneSpec:
    lat, lon = _centre(draw, draw(st.sampled_from(lat_modes)), draw(st.sampled_from(lon_modes)))
    radius_km = min(10 ** draw(st.floats(math.log10(0.5), math.log10(500.0))),
                    _max_radius_km(lat))
    floor_m = ceiling_m = None
    if limits and draw(st.booleans()):
        floor_m = draw(st.one_of(st.none(), st.floats(0.0, 3000.0)))
        ceiling_m = draw(st.one_of(st.none(), st.floats(200.0, 8000.0)))
        if floor_m is not None and ceiling_m is not None:
            ceiling_m += floor_m
    via_geojson = draw(st.integers(0, 3)) == 0
    kind = draw(st.sampled_from(kinds))
    if kind == "circle":
        return ZoneSpec("circle", lat=lat, lon=lon, radius_km=radius_km, floor_m=floor_m,
                        ceiling_m=ceiling_m, via_geojson=via_geojson)
    # a star-shaped polygon (so a simple one) with vertices at increasing azimuths from the
    # centre, at 0.3 to 1 radius: non-convex as soon as the distances differ enough
    n = draw(st.integers(3, 12))
    steps = np.cumsum([draw(st.floats(0.3, 1.0)) for _ in range(n)])
    az = draw(st.floats(0.0, 360.0)) + 360.0 * (steps - steps[-1]) / steps[-1]
    dist_m = [radius_km * 1000.0 * draw(st.floats(0.3, 1.0)) for _ in range(n)]
    vlon, vlat, _ = GEOD.fwd([lon] * n, [lat] * n, az, dist_m)
    ring = np.column_stack([lon + lon_delta(lon, np.asarray(vlon)), vlat])
    ring = np.vstack([ring, ring[:1]])
    assume(shapely.Polygon(ring).is_valid)
    ring[:, 0] -= 360.0 * math.floor((ring[:, 0].min() + 180.0) / 360.0)  # min in [-180, 180)
    if ring[:, 0].max() <= 180.0:
        polys = [shapely.Polygon(ring)]
        kind = "polygon"
    elif draw(st.sampled_from(straddle_as)) == "cut":
        polys = _cut_at_antimeridian(ring)
        kind = "multipolygon"
    else:
        polys = [shapely.Polygon(np.column_stack([[wrap_lon(x) for x in ring[:, 0]],
                                                  ring[:, 1]]))]
        kind = "polygon"
    assume(polys)
    return ZoneSpec(kind, polygons=_rings_of(polys), floor_m=floor_m, ceiling_m=ceiling_m,
                    via_geojson=via_geojson)


def _zone_centre_and_size(zone: ZoneSpec) -> tuple[float, float, float]:
    if zone.kind == "circle":
        return zone.lat, zone.lon, zone.radius_km * 1000.0
    pts = np.array([p for rings in zone.polygons for p in rings[0]])
    lon0 = pts[0, 0]
    ulon = lon0 + lon_delta(lon0, pts[:, 0])
    clat, clon = float(pts[:, 1].mean()), wrap_lon(float(ulon.mean()))
    _, _, d = GEOD.inv(np.full(len(pts), clon), np.full(len(pts), clat), pts[:, 0], pts[:, 1])
    return clat, clon, max(float(np.max(d)), 100.0)


@st.composite
def scenarios(draw: st.DrawFn, zones: st.SearchStrategy[ZoneSpec] | None = None,
              max_tracks: int = 3) -> Scenario:
    zone = draw(zones if zones is not None else zone_specs())
    clat, clon, size_m = _zone_centre_and_size(zone)
    altitude_column = draw(st.sampled_from([None, "geoaltitude", "baroaltitude"]))
    if zone.floor_m is not None or zone.ceiling_m is not None:
        altitude_column = altitude_column or "geoaltitude"
    fixes: list[Fix] = []
    for k in range(draw(st.integers(1, max_tracks))):
        ident = f"{0xa00000 + 17 * k + draw(st.integers(0, 16)):06x}"
        away_az = draw(st.floats(0.0, 360.0))
        lon, lat, _ = GEOD.fwd(clon, clat, away_az, size_m * draw(st.floats(0.0, 2.0)))
        heading = away_az + 180.0 + draw(st.floats(-60.0, 60.0))
        step_m = size_m * 10 ** draw(st.floats(-1.5, 0.3))
        n = draw(st.integers(2, max(2, min(40, int(6 * size_m / step_m) + 1))))
        dt_base = draw(st.floats(1.0, 60.0))
        speed = min(max(step_m / dt_base, 1.0), 300.0)
        t = round(T0 + draw(st.floats(0.0, 86_400.0)), 3)
        alt_mode = draw(st.sampled_from(["known", "known", "unknown"]))
        alt0, climb = draw(st.floats(0.0, 12_000.0)), draw(st.floats(-30.0, 30.0))
        t_start = t
        for i in range(n):
            # held inside the plausible band the readers accept ([-1500, 50000] m)
            alt = (None if alt_mode == "unknown"
                   else min(max(alt0 + climb * (t - t_start), -1_000.0), 45_000.0))
            fixes.append((ident, t, float(lat), float(wrap_lon(lon)), alt))
            if i == n - 1:
                break
            dt = (draw(st.floats(250.0, 400.0)) if draw(st.integers(0, 9)) == 0
                  else dt_base * draw(st.floats(0.5, 1.5)))
            dt = round(max(dt, 1.0), 3)
            lon, lat, back_az = GEOD.fwd(lon, lat, heading, speed * dt)
            heading = back_az + 180.0 + draw(st.floats(-15.0, 15.0))
            t = round(t + dt, 3)
    for a, b in itertools.pairwise(fixes):
        if a[0] == b[0]:
            assume(abs(float(lon_delta(a[3], b[3]))) < 150.0)  # the short way is unambiguous
    assume(all(abs(f[2]) < 89.8 for f in fixes))
    order = draw(st.permutations(range(len(fixes))))
    return Scenario(zone, tuple(fixes[i] for i in order), altitude_column)


# -- comparison ---------------------------------------------------------------------------------


def check(case: Scenario) -> None:
    """Run skyfence and the reference on one case and compare (rejecting measure-zero ties)."""
    ref_zone = case.zone.to_ref()
    df = case.frame()
    want = reference_scan(df, [ref_zone])
    assume(want.margin_deg > TIE_DEG and want.altitude_margin_m > ALT_TIE_M)
    with tempfile.TemporaryDirectory() as tmp:
        zone = case.zone.to_zone(Path(tmp))
    found = skyfence.scan(df, zones=[zone], all_entries=True)
    kinds = {(e["observations"] > 0, e["exited_at"] is None) for e in want.entries}
    event(f"{case.zone.kind}: {min(len(want.entries), 3)} entries")
    for with_fixes, is_open in sorted(kinds):
        event(f"{'with' if with_fixes else 'without'} fixes, {'open' if is_open else 'exited'}")
    assert_same_entries(found, want.entries)


# -- minimal failing examples found by Hypothesis (shrunk, then cut down by hand) ----------------
# Each is explained with the reference's answer, worked out again by hand where it is short.

# A plain triangle near 179.68 E (no ±180 inside it); the track goes from inside it east across
# ±180 the short way (0.63 deg), so it leaves through the triangle's east side after 1.216 s.
# Long-way interpolation sends it west instead: skyfence says it left after 0.001 s.
EX_LONG_WAY = Scenario(ZoneSpec("polygon", polygons=((((179.68066628368967, 0.005008749034586777),
                                                       (179.68663861342782, 0.006755416968800575),
                                                       (179.68260095855422, -0.004317734651164953),
                                                       (179.68066628368967, 0.005008749034586777)),
                                                      ),),),
                       (("a00011", 1750000000.0, 0.003113795096702295, 179.68264303484034, None),
                        ("a00011", 1750000250.0, 0.2350932714936001, -179.6842482067519, None)))

# A triangle cut at 180 in two parts; the track runs south along lon -179.99934 from inside
# the western part, 0.00066 deg (73 m) from the cut, whose two sides match exactly. Without the
# cut the nearest boundary is 327 m away; skyfence measures 73.2 m: it counts the cut.
EX_CUT_DEPTH = Scenario(ZoneSpec("multipolygon", polygons=(
    (((179.99364795168333, -0.006394857885749924), (180.0, 0.009043694769749644),
      (180.0, -0.0037460210136149043), (179.99364795168333, -0.006394857885749924)),),
    (((-179.99101684715882, 0.0), (-180.0, -0.0037460210136149043),
      (-180.0, 0.009043694769749644), (-179.99101684715882, 0.0)),)), via_geojson=True),
    (("a00000", 1750000000.0, -0.0002742960324037952, -179.9993422238689, 0.0),
     ("a00000", 1750000250.0, -0.6785510852751324, -179.9993422238689, 0.0)))

# A zone cut at 180; a one-second segment from its eastern part (179.99965 E) across the cut
# into its western part and out of it: one entry, exit at 0.933 s. skyfence: two entries.
EX_CUT_TWO_ENTRIES = Scenario(ZoneSpec("multipolygon", polygons=(
    (((179.99150390312536, 0.0029371543285170343), (179.9988939289192, 0.004353547157522773),
      (180.0, 0.005933579899002939), (180.0, -0.0003081057530487093),
      (179.99150390312536, 0.0029371543285170343)),),
    (((-179.99254719642434, -0.003154858361536658), (-180.0, -0.0003081057530487093),
      (-180.0, 0.005933579899002939), (-179.99254719642434, -0.003154858361536658)),)),
    via_geojson=True),
    (("a00000", 1750000000.0, 0.001685454153710221, 179.99964526025792, 0.0),
     ("a00000", 1750000001.0, -0.000755604235145193, -179.99917852524732, 0.0)))

# A triangle given as a ring that jumps: (179.5, 0.904), (-179.6, 0) = (180.4, 0), (179.5,
# -0.904). At lon 179.7246 it spans lat +-0.904 * (1 - 0.2246 / 0.898) = +-0.678, so the track
# (lat 0.226 -> -0.452 along that meridian) is inside all along: one open entry of 2 fixes.
# skyfence finds no entry.
EX_JUMPS_MISSED = Scenario(ZoneSpec("polygon", polygons=(
    (((179.5, 0.9043687229127633), (-179.60168471588048, 0.0), (179.5, -0.9043687229127633),
      (179.5, 0.9043687229127633)),),), via_geojson=True),
    (("a00000", 1750000000.0, 0.22609218072819082, 179.72457882102987, 0.0),
     ("a00000", 1750000250.0, -0.4521848210047346, 179.72457882102987, 0.0)))

# A 1 km circle centred 0.0078 deg east of 180 (so it crosses it); the track starts at the
# centre and goes south along its meridian: inside from its first fix, out after 3.333 s
# (1 km at 300 m/s). skyfence: an entry without fixes from 1.667 s.
EX_CIRCLE_ACROSS = Scenario(ZoneSpec("circle", lat=0.0, lon=-179.9921875, radius_km=1.0),
                            (("a00000", 1750000000.0, 0.0, -179.9921875, 0.0),
                             ("a00000", 1750000250.0, -0.678276789628869, -179.9921875, 0.0)))

# A 316 km circle centred at (0, -179): its own centre is inside, so is the whole track along
# the meridian to lat -0.678 (75 km): one open entry. skyfence finds none.
EX_CIRCLE_CENTRE = Scenario(ZoneSpec("circle", lat=0.0, lon=-179.0, radius_km=316.22776601683796,
                                     via_geojson=True),
                            (("a00000", 1750000000.0, 0.0, -179.0, 0.0),
                             ("a00000", 1750000250.0, -0.678276789628869, -179.0, 0.0)))

# Near the south pole: an 88 km circle at (-86.67, 179.999) and a track crossing 180 inside it.
EX_POLAR_CIRCLE = Scenario(
    ZoneSpec("circle", lat=-86.66960787918774, lon=179.99900000000002,
             radius_km=88.46381523581587),
    (("a00031", 1750081523.993, -86.92866529267498, 174.51602586495073, 0.0),
     ("a00031", 1750081556.867, -86.9277605202079, 176.16373277161296, 0.0),
     ("a00031", 1750081610.507, -86.92084876596998, 178.84606082546412, 0.0),
     ("a00031", 1750081668.476, -86.90585197879179, -178.2754809911166, 0.0),
     ("a00031", 1750081735.932, -86.8403761984072, -175.17783792191247, 0.0)))


# -- the properties -----------------------------------------------------------------------------


@CONTRACT
@given(case=scenarios(zone_specs(lat_modes=("mid", "equator"), lon_modes=("away",))))
def test_scan_matches_reference_away_from_the_antimeridian_and_the_poles(case: Scenario) -> None:
    """Where skyfence is believed right: the reference must agree (it checks the reference)."""
    check(case)


@CONTRACT
@example(case=EX_CUT_DEPTH)
@example(case=EX_CUT_TWO_ENTRIES)
@given(case=scenarios(zone_specs(lat_modes=("mid", "equator"), lon_modes=("antimeridian",),
                                 kinds=("polygon",), straddle_as=("cut",))))
def test_scan_matches_reference_for_polygons_cut_at_the_antimeridian(case: Scenario) -> None:
    check(case)


@CONTRACT
@example(case=EX_JUMPS_MISSED)
@given(case=scenarios(zone_specs(lat_modes=("mid", "equator"), lon_modes=("antimeridian",),
                                 kinds=("polygon",), straddle_as=("jumps",))))
def test_scan_matches_reference_for_rings_jumping_the_antimeridian(case: Scenario) -> None:
    check(case)


@CONTRACT
@example(case=EX_CIRCLE_ACROSS)
@example(case=EX_CIRCLE_CENTRE)
@given(case=scenarios(zone_specs(lat_modes=("mid", "equator"), lon_modes=("antimeridian",),
                                 kinds=("circle",))))
def test_scan_matches_reference_for_circles_across_the_antimeridian(case: Scenario) -> None:
    check(case)


@CONTRACT
@example(case=EX_POLAR_CIRCLE)
@given(case=scenarios(zone_specs(lat_modes=("polar",), lon_modes=("anywhere", "antimeridian"))))
def test_scan_matches_reference_near_the_poles(case: Scenario) -> None:
    check(case)


@CONTRACT
@example(case=EX_LONG_WAY)
@given(case=scenarios())
def test_scan_matches_reference_anywhere(case: Scenario) -> None:
    check(case)
