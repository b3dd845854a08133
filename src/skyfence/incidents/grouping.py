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

3. **A track that continues a lost one** (:func:`link`): radar trackers break a target
   into several tracks where they lose it (a drone hovering low in the clutter, a sharp
   turn, several missed scans) and start a new track when it is seen again. An entry
   of a track without a transponder joins the incident of another such track whose
   last entry into the same zone ended inside, without an exit (the track was lost
   there), when it begins at most ``link_s`` seconds (the policy's
   ``incidents.link_s``) after that track's last inside fix, or up to
   :data:`LINK_OVERLAP_S` before it (two tracks briefly on one target), no further from
   that fix than the faster of the two tracks' categories flies in the time between
   (:data:`CATEGORY_SPEED_M_S`) plus :data:`LINK_SLACK_M` for the position errors. Only
   the incident's latest piece can be continued, and the nearest one (relative to its
   reach) wins. Transponder tracks are never linked: their address is their identity.

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

from skyfence.airspace.geodesy import geodesic_distance_m
from skyfence.policy import SEVERITY_ORDER, IncidentSettings

__all__ = [
    "CATEGORY_SPEED_M_S", "LINK_OVERLAP_S", "LINK_SLACK_M", "RESUME_S", "SAME_CROSSING_S",
    "Candidate", "EntrySpan", "IncidentSummary", "TrackPiece", "ZoneRelations", "link",
    "place", "summarize",
]

#: entries into two zones beginning this close together (s) began at one crossing
SAME_CROSSING_S = 5.0
#: an entry left open (no exit: the watcher stopped or crashed) is resumed by a new
#: entry of the same track and zone beginning within this many seconds of its last
#: inside fix (s)
RESUME_S = 3600.0


#: top ground speed of each category (m/s), for linking a track that continues a lost
#: one: balloons drift with the wind (jet stream ~ 70 m/s aloft, far less where drones
#: fly), small drones fly 10-30 m/s and Geran/Shahed-type ones ~50 m/s (jet-powered
#: variants above 100), helicopters ~80, propeller aircraft up to ~150, airliners ~280
#: at cruise, jets (fighters) far more; ``unknown`` is not limited below a fighter's
CATEGORY_SPEED_M_S: dict[str, float] = {
    "balloon": 70.0, "drone": 120.0, "helicopter": 100.0, "propeller": 170.0,
    "airliner": 300.0, "jet": 700.0, "unknown": 700.0,
}
#: a continuing track may begin this long (s) before the lost track's last inside fix:
#: two tracks briefly on one target (the new one confirmed from plots the old one
#: missed)
LINK_OVERLAP_S = 30.0
#: position slack (m) of a link: both tracks' position errors, a few radar sigmas
LINK_SLACK_M = 500.0


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


@dataclass(frozen=True)
class TrackPiece:
    """What linking needs of an entry of a track without a transponder."""

    id: str
    zone: str
    track: str
    category: str
    entered_at: float
    #: where the entry began: the crossing, else the first inside fix (lat, lon)
    first_point: tuple[float, float] | None
    last_inside_at: float
    #: the last inside fix (lat, lon)
    last_point: tuple[float, float] | None
    #: no exit: the track ended inside (or was inside when last heard of)
    lost_inside: bool

    @classmethod
    def of(cls, rec: Mapping[str, Any], entered_at: float, last_inside_at: float
           ) -> TrackPiece | None:
        """The piece of an incident record (times as unix seconds); None for a track
        with a transponder (an ICAO address, or classified cooperative)."""
        cls_ = rec.get("classification") or {}
        if rec.get("icao24") or cls_.get("cooperative", True):
            return None

        def point(key: str) -> tuple[float, float] | None:
            p = rec.get(key)
            return None if not p else (float(p["lat"]), float(p["lon"]))

        return cls(str(rec["id"]), str(rec["zone"]), str(rec["track"]),
                   str(cls_.get("category") or "unknown"), entered_at,
                   point("entry_point") or point("first_inside_point"), last_inside_at,
                   point("last_inside_point"), rec.get("exited_at") is None)


def link_reach(lost: TrackPiece, new: TrackPiece, link_s: float) -> tuple[float, float] | None:
    """``(distance, reach)`` in metres when ``new`` may continue the track of ``lost``
    (see rule 3 of the module docstring); None when it may not.

    A drone lost at (55.60 N, 12.60 E) and a drone track beginning 20 s later 1.2 km
    north (0.0108 deg of latitude): the reach is 120 m/s x 20 s + 500 m = 2,900 m.

    >>> lost = TrackPiece("a", "Z", "R1", "drone", 0.0, None, 100.0, (55.6, 12.6), True)
    >>> new = TrackPiece("b", "Z", "R2", "drone", 120.0, (55.6108, 12.6), 130.0, None, True)
    >>> [round(v) for v in link_reach(lost, new, 60.0)]
    [1202, 2900]
    >>> link_reach(lost, new, 15.0) is None   # 20 s after it was lost: too late
    True
    """
    if (lost.zone != new.zone or lost.track == new.track or not lost.lost_inside
            or lost.last_point is None or new.first_point is None or link_s <= 0):
        return None
    gap = new.entered_at - lost.last_inside_at
    if gap > link_s or gap < -LINK_OVERLAP_S:
        return None
    speed = max(_top_speed(lost.category, new.category), _top_speed(new.category,
                                                                      lost.category))
    reach = speed * abs(gap) + LINK_SLACK_M
    (lat1, lon1), (lat2, lon2) = lost.last_point, new.first_point
    d = float(geodesic_distance_m(lon1, lat1, lon2, lat2)[0])
    return (d, reach) if d <= reach else None


def _top_speed(category: str, other: str) -> float:
    """Top speed of ``category``; an ``unknown`` piece takes its partner's category."""
    if category == "unknown" and other != "unknown":
        category = other
    return CATEGORY_SPEED_M_S.get(category, CATEGORY_SPEED_M_S["unknown"])


def link(new: TrackPiece, tails: Sequence[tuple[str, TrackPiece]], link_s: float
         ) -> tuple[str, TrackPiece] | None:
    """The ``(incident id, piece)`` whose piece ``new`` continues, among each incident's
    latest piece ``tails``: the one it lies nearest to relative to the reach."""
    best: tuple[float, str, TrackPiece] | None = None
    for incident_id, tail in tails:
        found = link_reach(tail, new, link_s)
        if found is None:
            continue
        key = found[0] / found[1]
        if best is None or (key, incident_id) < (best[0], best[1]):
            best = (key, incident_id, tail)
    return None if best is None else (best[1], best[2])


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
