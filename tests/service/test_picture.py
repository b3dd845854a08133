"""The air picture (``skyfence.service.picture``) against a reference written here, one
fix at a time in plain Python, from what the picture promises:

- a track's view is its latest fix by data time (within a batch, ties go to the later
  row); a fix older than the one held is ignored;
- a fix without callsign or squawk (missing or blank) keeps the track's previous one;
- a fix without heading gets the initial great-circle bearing from the track's previous
  fix (the previous heading when the position did not move);
- a trail point at most every ``TRAIL_STEP_S`` per track, the trail being the points
  within ``trail_s`` of the track's latest fix and of the picture's newest time;
- a track silent for ``forget_after_s`` (data time) leaves at the next tick;
- an incident entry marks the track with severity/category/zone/incident until its exit.

Hypothesis draws batches of fixes (several tracks, shuffled rows, repeated times, NaN
headings, blank callsigns); after every batch the ticked rows and the snapshot must
equal the reference's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.model import make_observations
from skyfence.service.picture import ROW_COLUMNS, TRAIL_STEP_S, Picture

IDS = ["4ca1f3", "4ca1f4", "R0007", "3c6dd2"]


class Reference:
    """One fix at a time, as the module docstring of the test says."""

    def __init__(self, forget_after_s: float, trail_s: float) -> None:
        self.forget, self.trail_s = forget_after_s, trail_s
        self.now = -math.inf
        self.tracks: dict[str, dict[str, Any]] = {}
        self.trails: dict[str, list[tuple[float, float, float]]] = {}
        self.changed: set[str] = set()
        self.marks: dict[str, dict[str, Any]] = {}
        self.last_prune = -math.inf

    def batch(self, rows: list[dict[str, Any]]) -> None:
        latest: dict[str, dict[str, Any]] = {}
        for r in sorted(rows, key=lambda r: r["time"]):  # stable: ties keep row order
            latest[r["id"]] = r
        if rows:
            self.now = max(self.now, max(r["time"] for r in rows))
        for tid, r in latest.items():
            prev = self.tracks.get(tid)
            if prev is not None and prev["time"] > r["time"]:
                continue
            cs = (r["callsign"] or "").strip() or (prev["callsign"] if prev else None)
            sq = (r["squawk"] or "").strip() or (prev["squawk"] if prev else None)
            hdg = None if math.isnan(r["heading"]) else round(r["heading"], 6)
            lat, lon = round(r["lat"], 6), round(r["lon"], 6)
            if hdg is None and prev is not None:
                if (prev["lat"], prev["lon"]) == (lat, lon):
                    hdg = prev["heading"]
                else:  # great-circle initial bearing (Williams' aviation formulary)
                    p1, p2 = math.radians(prev["lat"]), math.radians(lat)
                    dl = math.radians(lon - prev["lon"])
                    b = math.atan2(math.sin(dl) * math.cos(p2), math.cos(p1) * math.sin(p2)
                                   - math.sin(p1) * math.cos(p2) * math.cos(dl))
                    hdg = round((math.degrees(b) + 360.0) % 360.0, 1)
            self.tracks[tid] = {"time": round(r["time"], 3), "lat": lat, "lon": lon,
                                "heading": hdg, "callsign": cs, "squawk": sq,
                                "alt": round(r["altitude"], 6), **self.marks.get(tid, {})}
            trail = self.trails.setdefault(tid, [])
            if not trail or r["time"] - trail[-1][0] >= TRAIL_STEP_S:
                trail.append((round(r["time"], 3), lon, lat))
            self.changed.add(tid)

    def tick(self) -> tuple[list[str], list[str]]:
        gone: list[str] = []
        if self.now - self.last_prune >= 1.0:
            self.last_prune = self.now
            gone = sorted(k for k, v in self.tracks.items()
                          if v["time"] < self.now - self.forget)
            for k in gone:
                del self.tracks[k]
                self.trails.pop(k, None)
        changed = sorted(k for k in self.changed if k in self.tracks)
        self.changed.clear()
        return changed, gone

    def trail(self, tid: str) -> list[list[float]]:
        oldest = max(self.tracks[tid]["time"], self.now) - self.trail_s
        return [[lo, la] for (pt, lo, la) in self.trails.get(tid, []) if pt >= oldest]


fix = st.fixed_dictionaries({
    "id": st.sampled_from(IDS),
    "dt": st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 7.5, 30.0]),
    "lat": st.floats(-80, 80), "lon": st.floats(-179, 179),
    "heading": st.one_of(st.just(math.nan), st.floats(0, 359)),
    "altitude": st.floats(0, 12000),
    "callsign": st.sampled_from([None, "", "  ", "RSD01", " AFR12 "]),
    "squawk": st.sampled_from([None, "7700", "1000", ""]),
    "still": st.booleans(),
    "late": st.booleans(),
})


def _frame(rows: list[dict[str, Any]]) -> Any:
    return make_observations(
        time=[r["time"] for r in rows], icao24=[r["id"] for r in rows],
        lat=[r["lat"] for r in rows], lon=[r["lon"] for r in rows],
        altitude=[r["altitude"] for r in rows], heading=[r["heading"] for r in rows],
        callsign=[r["callsign"] for r in rows], squawk=[r["squawk"] for r in rows])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(fix, min_size=0, max_size=12), min_size=1, max_size=8),
       st.sampled_from([20.0, 300.0]))
def test_picture_equals_the_one_fix_at_a_time_reference(batches: list[Any],
                                                        forget: float) -> None:
    pic, ref = Picture(forget_after_s=forget, trail_s=60.0), Reference(forget, 60.0)
    clock = 1_700_000_000.0
    last_pos: dict[str, tuple[float, float]] = {}
    for b in batches:
        rows = []
        for f in b:
            clock += f["dt"]
            r = {**f, "time": clock - (10.0 if f["late"] else 0.0)}  # a late fix
            if f["still"] and f["id"] in last_pos:  # same position: heading carried
                r["lat"], r["lon"] = last_pos[f["id"]]
            last_pos[f["id"]] = (r["lat"], r["lon"])
            rows.append(r)
        if rows:
            pic.update(_frame(rows))
        ref.batch(rows)
        got_rows, got_gone = pic.tick_rows()
        want_changed, want_gone = ref.tick()
        assert got_gone == want_gone
        assert [r[0] for r in got_rows] == want_changed
        for row in got_rows:
            g = dict(zip(ROW_COLUMNS, row, strict=True))
            w = ref.tracks[g["id"]]
            assert g["time"] == round(w["time"], 1)
            # to 1e-5 degree (a tie may round either way)
            assert abs(g["lat"] - w["lat"]) <= 0.5e-5 + 1e-9
            assert abs(g["lon"] - w["lon"]) <= 0.5e-5 + 1e-9
            assert g["altitude_m"] == round(w["alt"])
            assert (g["callsign"], g["squawk"]) == (w["callsign"], w["squawk"])
            if w["heading"] is None:
                assert g["heading_deg"] is None
            else:  # rounding to a degree: a tie may go either way
                assert abs(g["heading_deg"] - w["heading"]) <= 0.5 + 1e-9
            assert g["cooperative"] == (0 if g["id"].startswith("R") else 1)
    snap = {v["id"]: v for v in pic.snapshot()}
    assert set(snap) == set(ref.tracks)
    for tid, v in snap.items():
        w = ref.tracks[tid]
        assert (v["time"], v["lat"], v["lon"]) == (w["time"], w["lat"], w["lon"])
        assert v["trail"] == ref.trail(tid)


def test_rows_carry_every_column_rounded_and_missing_stays_missing() -> None:
    pic = Picture()
    pic.update(make_observations(time=[1_700_000_020.04], icao24=["150abc"],
                                 lat=[59.0000049], lon=[24.8256123], altitude=[9000.4],
                                 velocity=[250.04], heading=[89.6], callsign=["RSD01"],
                                 squawk=["1000"]))
    pic.incident_event({"event": "entry", "track": "150abc", "severity": "warning",
                        "classification": {"category": "airliner"}, "zone": "TESTZ",
                        "incident": {"id": "be00d24a8df8e6d6"}})
    rows, gone = pic.tick_rows()
    # rounded by hand: time to 0.1 s, positions to 1e-5 degree (about 1 m), altitude to
    # 1 m, speed to 0.1 m/s, heading to 1 degree; the flag as 0/1
    assert gone == [] and [dict(zip(ROW_COLUMNS, r, strict=True)) for r in rows] == [{
        "id": "150abc", "time": 1_700_000_020.0, "lat": 59.0, "lon": 24.82561,
        "altitude_m": 9000.0, "speed_ms": 250.0, "heading_deg": 90.0, "callsign": "RSD01",
        "squawk": "1000", "cooperative": 1, "severity": "warning", "category": "airliner",
        "zone": "TESTZ", "incident": "be00d24a8df8e6d6"}]
    # a radar track with nothing but a position: missing stays missing, not zero
    pic.update(make_observations(time=[1_700_000_021.0], icao24=["R0012"], lat=[59.1],
                                 lon=[24.9]))
    (row,), _ = pic.tick_rows()
    g = dict(zip(ROW_COLUMNS, row, strict=True))
    assert (g["altitude_m"], g["speed_ms"], g["heading_deg"], g["cooperative"],
            g["severity"]) == (None, None, None, 0, None)
    # the exit unmarks the track
    pic.incident_event({"event": "exit", "track": "150abc"})
    (row,), _ = pic.tick_rows()
    assert row[0] == "150abc" and row[ROW_COLUMNS.index("severity")] is None
    assert pic.squawking({"1000"}) == {"150abc"} and len(pic) == 2


def test_a_national_feed_every_track_in_every_batch() -> None:
    """25,000 tracks, each in each of three batches (50,000 positions/s in 0.1 s
    slices is that): every track is in the picture once, with its last position."""
    n = 25_000
    rng = np.random.default_rng(3)
    ids = np.char.mod("%06x", np.arange(0x100000, 0x100000 + n)).astype(object)
    pic = Picture()
    for k in range(3):
        lat, lon = rng.uniform(40, 60, n), rng.uniform(-10, 30, n)
        pic.update(make_observations(time=np.full(n, 100.0 + k), icao24=ids, lat=lat,
                                     lon=lon))
    rows, _ = pic.tick_rows()
    assert len(rows) == n == len(pic)
    got = np.array([(r[2], r[3]) for r in rows])
    order = np.argsort(ids.astype(str))
    # rounded to 1e-6 in the picture, then to 1e-5 on the wire: within 0.55e-5
    assert np.abs(got - np.column_stack([lat, lon])[order]).max() <= 0.55e-5 + 1e-9
    assert len(pic.snapshot()[0]["trail"]) == 1  # 1 s apart: one point per 4 s
