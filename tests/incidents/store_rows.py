"""Test support: incidents written straight into a store's tables, row by row.

The rules tests of :mod:`skyfence.incidents.queries` and ``skyfence incidents`` build
their incidents by hand, so that every figure they expect (order, counts, rounding,
which incident a filter keeps) can be read off the rows next to the test, without a
watcher or the grouping rules in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from skyfence.incidents.schema import (
    ALERTS,
    DOSSIERS,
    ENTRIES,
    EVENTS,
    INCIDENTS,
    OBSERVATIONS,
    OUTBOX,
    RUNS,
    STEPS,
    ZONES,
)
from skyfence.incidents.store import IncidentStore

T0 = 1758263400.0  # 2025-09-19T06:30:00Z
RUN = "run-1"
#: a custom zone: the square 0..1 E, 0..1 N (GeoJSON as the store keeps a custom zone)
SQUARE_SHA = "a" * 64
SQUARE = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"title": "square"},
    "geometry": {"type": "Polygon",
                 "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}]}


def begin(store: IncidentStore) -> None:
    """The run and the zone every hand-built entry refers to."""
    with store.transaction() as conn:
        conn.execute(RUNS.insert(), {
            "id": RUN, "kind": "watch", "origin": "replay:test", "started_at": T0,
            "command": None, "options": "{}", "policy_sha256": "p" * 64})
        conn.execute(ZONES.insert(), {
            "sha256": SQUARE_SHA, "name": "SQ", "kind": "custom", "title": "square",
            "area_km2": 12_300.0, "geojson": json.dumps(SQUARE), "source": "{}"})


def incident(store: IncidentStore, iid: str, *, track: str = "T1", zone: str = "SQ",
             also_in: tuple[str, ...] = (), state: str = "open", violation: bool = True,
             severity: str = "critical", first: float = T0, **more: Any) -> None:
    """One incidents row (figures that a test does not name get plain defaults)."""
    row = {"id": iid, "track": track, "zone": zone, "zone_kind": "custom",
           "also_in": json.dumps(list(also_in)), "state": state, "violation": violation,
           "severity": severity, "icao24": None, "callsign": None,
           "first_entered_at": first, "last_exited_at": first + 60.0,
           "last_inside_at": first + 59.0, "inside_s": 60.0, "max_depth_m": 100.0,
           "deepest_entry": iid + "-e1", "crossings": 1, "open_entries": 0,
           "origin": "replay:test", "policy_sha256": "p" * 64, "created_at": first + 1.0,
           "updated_at": first + 2.0}
    row.update(more)
    with store.transaction() as conn:
        conn.execute(INCIDENTS.insert(), row)


def entry(store: IncidentStore, eid: str, iid: str, *, track: str = "T1",
          entered: float = T0, last_inside: float | None = None, state: str = "exited",
          entry_point: tuple[float, float] | None = (0.0, 0.5),
          exit_point: tuple[float, float] | None = (1.0, 0.5),
          zone_sha256: str | None = SQUARE_SHA) -> dict[str, Any]:
    """One entries row; its record holds what the readers use of the contract record."""
    last = entered + 59.0 if last_inside is None else last_inside

    def point(p: tuple[float, float] | None) -> dict[str, float] | None:
        return None if p is None else {"lon": p[0], "lat": p[1]}

    from skyfence.incidents.record import iso_time

    record = {"id": eid, "zone": "SQ", "track": track, "entered_at": iso_time(entered),
              "exited_at": iso_time(last + 1.0), "last_inside_at": iso_time(last),
              "duration_s": last + 1.0 - entered, "max_depth_m": 100.0,
              "observations": 3, "entry_point": point(entry_point),
              "exit_point": point(exit_point)}
    with store.transaction() as conn:
        conn.execute(ENTRIES.insert(), {
            "id": eid, "incident_id": iid, "run_id": RUN, "zone": "SQ",
            "zone_sha256": zone_sha256, "track": track, "entered_at": entered,
            "exited_at": last + 1.0, "last_inside_at": last, "end_at": last + 1.0,
            "duration_s": last + 1.0 - entered, "max_depth_m": 100.0, "observations": 3,
            "state": state, "violation": True, "severity": "critical",
            "record": json.dumps(record)})
    return record


def step(store: IncidentStore, iid: str, n: int, *, text: str = "call", after_s: float | None
         = None, due: float = T0, done: float | None = None, by: str | None = None,
         escalated: float | None = None) -> None:
    with store.transaction() as conn:
        conn.execute(STEPS.insert(), {
            "incident_id": iid, "n": n, "text": text, "after_s": after_s, "due_at": due,
            "done_at": done, "done_by": by, "escalated_at": escalated})


def event(store: IncidentStore, iid: str, kind: str, *, at: float, feed_at: float | None =
          None, operator: str = "watch", note: str | None = None,
          data: str | None = None) -> None:
    with store.transaction() as conn:
        conn.execute(EVENTS.insert(), {
            "incident_id": iid, "at": at, "feed_at": feed_at, "kind": kind,
            "operator": operator, "note": note, "data": data})


def alert(store: IncidentStore, iid: str, key: str, event: str, *, at: float,
          sinks: dict[str, dict[str, Any]]) -> int:
    """One alert and its outbox row per sink (state, attempts, times, error); its seq."""
    with store.transaction() as conn:
        seq = int(conn.execute(ALERTS.insert(), {
            "key": key, "incident_id": iid, "entry_id": None, "event": event,
            "feed_at": None, "created_at": at, "payload": "{}"}).inserted_primary_key[0])
        for sink, o in sinks.items():
            conn.execute(OUTBOX.insert(), {
                "alert_seq": seq, "sink": sink, "state": o["state"],
                "attempts": o.get("attempts", 0), "next_try_at": o.get("next", at),
                "delivered_at": o.get("delivered"), "last_error": o.get("error")})
    return seq


def dossier(store: IncidentStore, iid: str, **row: Any) -> None:
    with store.transaction() as conn:
        conn.execute(DOSSIERS.insert(), {"incident_id": iid, **row})


def fixes(store: IncidentStore, track: str, rows: list[tuple[float, float, float]]) -> None:
    """Stored fixes (time, lon, lat) of ``track``, 3000 m up."""
    with store.transaction() as conn:
        conn.execute(OBSERVATIONS.insert(), [
            {"track": track, "time": t, "lat": lat, "lon": lon, "altitude": 3000.0,
             "velocity": 200.0, "heading": 90.0, "vertrate": 0.0, "callsign": None,
             "squawk": None, "onground": False} for t, lon, lat in rows])


def many_open(conn: Any, n: int, *, entry_track: str = "E",
              record: Callable[[int], str] = lambda k: "{}") -> None:
    """``n`` open incidents ``i00000``... of one open entry ``e00000``... each (more than
    one query of 500 ids reads), incident k first entered at ``T0 + k`` by track
    ``T<k>``, its entry's track ``<entry_track><k>`` and record ``record(k)``; written on
    ``conn`` (inside the caller's transaction)."""
    conn.execute(INCIDENTS.insert(), [{
        "id": f"i{k:05d}", "track": f"T{k}", "zone": "SQ", "zone_kind": "custom",
        "also_in": "[]", "state": "open", "violation": True, "severity": "high",
        "icao24": None, "callsign": None, "first_entered_at": T0 + k,
        "last_exited_at": None, "last_inside_at": T0 + k, "inside_s": 0.0,
        "max_depth_m": 0.0, "deepest_entry": f"e{k:05d}", "crossings": 1,
        "open_entries": 1, "origin": "o", "policy_sha256": "p" * 64,
        "created_at": T0, "updated_at": T0} for k in range(n)])
    conn.execute(ENTRIES.insert(), [{
        "id": f"e{k:05d}", "incident_id": f"i{k:05d}", "run_id": RUN, "zone": "SQ",
        "zone_sha256": SQUARE_SHA, "track": f"{entry_track}{k}", "entered_at": T0 + k,
        "exited_at": None, "last_inside_at": T0 + k, "end_at": T0 + k,
        "duration_s": 0.0, "max_depth_m": 0.0, "observations": 1, "state": "open",
        "violation": True, "severity": "high", "record": record(k)} for k in range(n)])
