"""Entries into incidents: one incident per incursion.

Entries stay exact (the contract's); an operator wants one incident for one incursion.
Two rules group them, applied to each new entry in time order:

1. **Re-entry**: an entry of a track into a zone joins the incident holding that
   track's previous entry into the same zone when it begins less than ``merge_s``
   seconds (the policy's ``incidents.merge_s``, 120 s by default) after that entry
   ended, or while it is still open (a watcher restarted mid-incursion: within
   :data:`RESUME_S` of its last inside fix). A jagged border or a corner cut between
   fixes makes several crossings, one incident.
2. **Overlapping zones**: an entry joins an incident of the same track whose entry
   into another zone is still going on when it begins and which either began at the
   same crossing (within :data:`SAME_CROSSING_S`) or is related to it as a dependency
   and its parent state (``PYF`` in ``FRA``, from the bundled data's ``part_of``). That
   is how the source's overlaps (dependencies, areas two states claim such as Crimea)
   make one incident with ``zone`` plus ``also_in``. A custom zone drawn inside a
   state (an airport circle) that the track enters later is its own incident.

An incident's figures follow from its entries (:func:`summarize`): first entry, last
exit, time inside (the union of its entries' intervals), deepest entry, crossings
(entries into the zone that names it), and the verdict of the entries that count
under the policy's ``disputed`` setting.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from skyfence.policy import SEVERITY_ORDER, IncidentSettings

__all__ = [
    "RESUME_S", "SAME_CROSSING_S", "Candidate", "EntrySpan", "IncidentSummary", "ZoneRelations",
    "place", "summarize",
]

#: entries into two zones beginning this close together (s) began at one crossing
SAME_CROSSING_S = 5.0
#: an entry left open (no exit: the watcher stopped or crashed) is resumed by a new
#: entry of the same track and zone beginning within this many seconds of its last
#: inside fix (s)
RESUME_S = 3600.0


@dataclass(frozen=True)
class EntrySpan:
    """What grouping needs of an entry: where, whose, when."""

    id: str
    zone: str
    track: str
    entered_at: float
    #: exit time, else the last inside fix so far
    end_at: float
    #: no exit known: inside when last heard of (live, or the watcher stopped or crashed)
    open: bool = False


@dataclass(frozen=True)
class Candidate:
    """An incident of the same track that a new entry might join."""

    incident_id: str
    entries: tuple[EntrySpan, ...]


@dataclass(frozen=True)
class ZoneRelations:
    """Zone areas (to name an incident) and dependencies (``child -> parent``)."""

    areas_km2: Mapping[str, float]
    parents: Mapping[str, str]

    @classmethod
    def of(cls, zones: Sequence[Any]) -> ZoneRelations:
        """Relations of :class:`~skyfence.airspace.zones.Zone` objects (national ones
        get their parent from the bundled data)."""
        nat = national_facts()
        areas: dict[str, float] = {}
        parents: dict[str, str] = {}
        for z in zones:
            n = nat.get(z.name) if z.kind == "national" else None
            if n is not None:
                areas[z.name] = n[0]
                if n[1]:
                    parents[z.name] = n[1]
            else:
                areas[z.name] = zone_area_km2(z)
        return cls(areas, parents)

    def nested(self, a: str, b: str) -> bool:
        """True when one zone is a dependency inside the other."""
        return self.parents.get(a) == b or self.parents.get(b) == a

    def naming_zone(self, zones: Sequence[str], prefer: Sequence[str] = ()) -> str:
        """The zone that names an incident inside ``zones``: the first of ``prefer``,
        else the smallest (unknown areas count as largest), ties by name.

        >>> r = ZoneRelations({"FRA": 640000.0, "PYF": 270000.0}, {"PYF": "FRA"})
        >>> r.naming_zone(["FRA", "PYF"]), r.naming_zone(["FRA", "PYF"], ["FRA"])
        ('PYF', 'FRA')
        """
        upper = {z.upper(): z for z in zones}
        for p in prefer:
            if p.upper() in upper:
                return upper[p.upper()]
        return min(zones, key=lambda z: (self.areas_km2.get(z, float("inf")), z))


@functools.cache
def national_facts() -> dict[str, tuple[float, str | None]]:
    """ISO3 code -> (area km², parent code or None), from the bundled data's metadata."""
    from skyfence.airspace.national import METADATA_PATH

    meta = json.loads(METADATA_PATH.read_text(encoding="utf-8"))
    return {z["code"]: (float(z["area_km2"]), z["part_of"]) for z in meta["zones"]}


def zone_area_km2(zone: Any) -> float:
    """Geodesic area of a zone's geometry (WGS84), km²."""
    from pyproj import Geod

    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(zone.geometry)
    return abs(area) / 1e6


def place(entry: EntrySpan, candidates: Sequence[Candidate], merge_s: float,
          relations: ZoneRelations, resume_s: float = RESUME_S) -> str | None:
    """The incident ``entry`` joins, or None for a new one (see the module docstring).

    >>> a = EntrySpan("e1", "CHE", "4b1805", 0.0, 100.0)
    >>> rel = ZoneRelations({}, {})
    >>> place(EntrySpan("e2", "CHE", "4b1805", 219.9, 300.0), [Candidate("i1", (a,))], 120, rel)
    'i1'
    >>> place(EntrySpan("e2", "CHE", "4b1805", 220.0, 300.0), [Candidate("i1", (a,))], 120, rel)
    """
    best: tuple[float, str] | None = None
    for c in candidates:
        for e in c.entries:
            if e.zone != entry.zone or e.id == entry.id or e.entered_at > entry.entered_at:
                continue
            gap = entry.entered_at - e.end_at
            if gap < merge_s or (e.open and gap < resume_s):
                key = (e.end_at, c.incident_id)
                if best is None or key > best:
                    best = key
    if best is not None:
        return best[1]
    for c in candidates:
        for e in c.entries:
            if e.zone == entry.zone or e.entered_at > entry.entered_at + SAME_CROSSING_S:
                continue
            going_on = (e.end_at > entry.entered_at
                        or (e.open and entry.entered_at - e.end_at < resume_s))
            same_crossing = abs(e.entered_at - entry.entered_at) <= SAME_CROSSING_S
            if going_on and (same_crossing or relations.nested(e.zone, entry.zone)):
                return c.incident_id
    return None


class Step(TypedDict):
    """A protocol step of an incident."""

    step: str
    after_s: float | None


class IncidentSummary(TypedDict):
    """An incident's figures, from its entries' records."""

    zone: str
    zone_kind: str
    also_in: list[str]
    violation: bool
    severity: str
    icao24: str | None
    callsign: str | None
    first_entered_at: float
    last_exited_at: float | None
    last_inside_at: float
    inside_s: float
    max_depth_m: float
    deepest_entry: str
    crossings: int
    open_entries: int
    protocol: list[Step]


@dataclass(frozen=True)
class EntryFacts:
    """An entry as stored: its span, its record, whether it is still open."""

    span: EntrySpan
    record: Mapping[str, Any]
    #: ``exited_at`` of the record, as unix seconds (None: no exit)
    exited_at: float | None
    last_inside_at: float


def summarize(entries: Sequence[EntryFacts], relations: ZoneRelations,
              settings: IncidentSettings) -> IncidentSummary:
    """The figures of an incident made of ``entries`` (at least one)."""
    ordered = sorted(entries, key=lambda e: (e.span.entered_at, e.span.zone))
    zones = list(dict.fromkeys(e.span.zone for e in ordered))
    name = relations.naming_zone(zones, settings.prefer)
    counted = [e for e in ordered if e.span.zone == name or relations.nested(e.span.zone, name)
               or settings.disputed == "judge"]
    own = [e for e in ordered if e.span.zone == name]
    deepest = max(ordered, key=lambda e: (e.record["max_depth_m"], -e.span.entered_at))
    still_open = [e for e in ordered if e.span.open]
    exits = [e.exited_at if e.exited_at is not None else e.last_inside_at for e in ordered]
    steps: dict[str, Step] = {}
    for e in counted:
        for s in e.record.get("protocol") or []:
            steps.setdefault(s["step"], {"step": s["step"], "after_s": s["after_s"]})
    protocol = sorted(steps.values(), key=lambda s: s["after_s"] or 0.0)
    latest = ordered[::-1]
    return {
        "zone": name,
        "zone_kind": own[0].record["zone_kind"],
        "also_in": sorted(z for z in zones if z != name),
        "violation": any(e.record["violation"] for e in counted),
        "severity": max((e.record["severity"] for e in counted),
                        key=SEVERITY_ORDER.__getitem__, default="info"),
        "icao24": next((e.record["icao24"] for e in latest if e.record.get("icao24")), None),
        "callsign": next((e.record["callsign"] for e in latest if e.record.get("callsign")),
                         None),
        "first_entered_at": ordered[0].span.entered_at,
        "last_exited_at": None if still_open else max(exits),
        "last_inside_at": max(e.last_inside_at for e in ordered),
        "inside_s": union_length([(e.span.entered_at, e.span.end_at) for e in ordered]),
        "max_depth_m": float(deepest.record["max_depth_m"]),
        "deepest_entry": deepest.span.id,
        "crossings": len(own),
        "open_entries": len(still_open),
        "protocol": protocol,
    }


def union_length(intervals: Sequence[tuple[float, float]]) -> float:
    """Total length of the union of closed intervals.

    >>> union_length([(0, 10), (5, 20), (30, 31)])
    21.0
    """
    total, cur_a, cur_b = 0.0, None, None
    for a, b in sorted(intervals):
        if cur_b is None or a > cur_b:
            if cur_b is not None and cur_a is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_a is not None and cur_b is not None:
        total += cur_b - cur_a
    return float(total)
