"""Our entries against an independent implementation on real recorded traffic.

The reference is the `traffic` library (OpenSky sample flights over Switzerland,
1 Aug 2018): `Flight.clip_iterate` gives the fixes inside CHE, and the GEOS
intersection of the flight's (lon, lat, time) line with the polygon gives the
interpolated crossing times. Depth is checked against a second method: an azimuthal
equidistant projection centred on each fix (exact distances from its centre).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Transformer

from skyfence.airspace.zones import national_zone
from skyfence.detect.entries import DetectorConfig, EntryDetector
from skyfence.sources.tabular import normalize_table

traffic_samples = pytest.importorskip("traffic.data.samples", reason="the test extra has traffic")

pytestmark = pytest.mark.slow
N_FLIGHTS = 160


@pytest.fixture(scope="module")
def che() -> object:
    return national_zone("CHE")


@pytest.fixture(scope="module")
def flights() -> list[object]:
    sw = traffic_samples.switzerland
    return [f for i, f in enumerate(sw) if i % max(1, len(sw) // N_FLIGHTS) == 0][:N_FLIGHTS]


def ours(zone: object, flight: object) -> list[object]:
    obs = normalize_table(flight.data, columns=None)  # type: ignore[attr-defined]
    det = EntryDetector([zone], DetectorConfig(gap_s=1e9))  # type: ignore[list-item]
    ev = det.process(obs) + det.close()
    return sorted((e.entry for e in ev if e.kind in ("exit", "open")), key=lambda e: e.entered_at)


def test_inside_fixes_and_crossing_times_match_traffic(che: object, flights: list[object]) -> None:
    geom = che.geometry  # type: ignore[attr-defined]
    skipped = compared = crossings = 0
    worst_dt = 0.0
    for f in flights:
        data = f.data.sort_values("timestamp")  # type: ignore[attr-defined]
        times = (pd.to_datetime(data.timestamp, utc=True) - pd.Timestamp(0, tz="UTC"))
        secs = times.dt.total_seconds().to_numpy()
        try:
            pieces = list(f.clip_iterate(geom))  # type: ignore[attr-defined]
            line = shapely.LineString(np.column_stack([data.longitude, data.latitude, secs]))
            inter = line.intersection(geom)
        except shapely.errors.GEOSException:
            skipped += 1  # known: ~1% of Swiss flights (DESIGN.md, pitfalls)
            continue
        compared += 1
        ref_fixes = set()
        for p in pieces:
            ts = pd.to_datetime(p.data.timestamp, utc=True)
            ref_fixes |= set(((ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds()).round(3))
        entries = ours(che, f)
        our_fixes = {
            round(t, 3) for e in entries for t in secs
            if e.entered_at <= t <= e.last_inside_at and e.observations > 0
        }
        # strict=True in traffic drops the fixes exactly at a piece's ends (first
        # fix of a track already inside); compare the fixes strictly inside only
        firsts = {round(e.entered_at, 3) for e in entries if not e.entry_interpolated}
        lasts = {round(e.last_inside_at, 3) for e in entries if e.exited_at is None}
        assert ref_fixes - our_fixes == set(), f.icao24  # type: ignore[attr-defined]
        assert our_fixes - ref_fixes <= firsts | lasts, f.icao24  # type: ignore[attr-defined]
        # interpolated crossing times against GEOS's interpolated Z (time)
        parts = getattr(inter, "geoms", [inter])
        ref_times = sorted(
            t for g in parts if g.geom_type == "LineString" and not g.is_empty
            for t in (shapely.get_coordinates(g, include_z=True)[:, 2][[0, -1]])
        )
        ours_times = [x for e in entries for x in (e.entered_at, e.exited_at or e.last_inside_at)]
        for t in ours_times:
            if ref_times:
                dt = min(abs(np.asarray(ref_times) - t))
                worst_dt = max(worst_dt, float(dt))
                crossings += 1
    print(f"compared {compared} flights, skipped {skipped} (GEOS TopologyException), "
          f"{crossings} crossing times, worst time difference {worst_dt:.3f} s")
    assert compared >= 0.95 * len(flights)
    assert crossings > 50
    assert worst_dt < 1.0


def test_depth_matches_an_azimuthal_equidistant_reference(che: object,
                                                          flights: list[object]) -> None:
    geom = che.geometry  # type: ignore[attr-defined]
    boundary = geom.boundary
    checked = 0
    for f in flights[::20]:
        for e in ours(che, f):
            if e.observations == 0:
                continue
            d = f.data  # type: ignore[attr-defined]
            ts = (pd.to_datetime(d.timestamp, utc=True) - pd.Timestamp(0, tz="UTC")
                  ).dt.total_seconds().to_numpy()
            sel = (ts >= e.entered_at) & (ts <= e.last_inside_at)
            best = 0.0
            for lon, lat in zip(d.longitude.to_numpy()[sel], d.latitude.to_numpy()[sel],
                                strict=True):
                aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84")
                tr = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
                projected = shapely.transform(
                    boundary, lambda c, tr=tr: np.column_stack(tr.transform(c[:, 0], c[:, 1]))
                )
                best = max(best, projected.distance(shapely.Point(0, 0)))
            assert e.max_depth_m == pytest.approx(best, rel=0.01, abs=50.0)
            checked += 1
    assert checked >= 4
