"""The shapes of the records skyfence writes, as the type checker sees them.

The incident record of the contract (``shared/contract/README.md``) is a JSON object;
here it is a :class:`~typing.TypedDict` whose closed sets (zone kinds, severities,
categories, behaviours) are the :mod:`skyfence.vocab` literals. Code that builds or
reads a record names its fields through these types, so a misspelt or retyped field
is a type error, not a silent extra key in the output.

Only types live here (no behaviour); :func:`skyfence.incidents.record.to_record`
builds an :class:`EntryRecord`, :mod:`skyfence.service.watch` adds the event kind.

>>> sorted(EntryRecord.__required_keys__) == sorted(ENTRY_RECORD_FIELDS)
True
>>> ENTRY_RECORD_FIELDS[:3], ENTRY_RECORD_FIELDS[-3:]
(('id', 'zone', 'zone_kind'), ('integrity', 'first_inside_point', 'last_inside_point'))
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from skyfence.vocab import Behaviour, Category, Severity, ZoneKind

__all__ = [
    "ENTRY_RECORD_FIELDS",
    "ClassificationRecord",
    "EntryRecord",
    "EventKind",
    "EventRecord",
    "PointRecord",
    "ProtocolStepRecord",
]


class PointRecord(TypedDict):
    """A position on the record (degrees WGS84, rounded to 6 decimals: ~0.1 m)."""

    lat: float
    lon: float


class ClassificationRecord(TypedDict):
    """What the track probably is; ``confidence`` only when the classifier gives one."""

    cooperative: bool
    category: Category
    registration_state: str | None
    military: bool | None
    confidence: NotRequired[float]


class ProtocolStepRecord(TypedDict):
    """One step of the operators' protocol, due ``after_s`` seconds after the entry
    (null: at once)."""

    step: str
    after_s: float | None


class EntryRecord(TypedDict):
    """The contract's incident record: one entry of one track into one zone, judged.

    Times are ISO 8601 UTC strings with milliseconds; distances and altitudes metres.
    """

    id: str
    zone: str
    zone_kind: ZoneKind
    track: str
    icao24: str | None
    callsign: str | None
    entered_at: str
    entry_interpolated: bool
    exited_at: str | None
    last_inside_at: str
    duration_s: float
    max_depth_m: float
    entry_point: PointRecord | None
    exit_point: PointRecord | None
    min_altitude_m: float | None
    max_altitude_m: float | None
    observations: int
    classification: ClassificationRecord
    violation: bool
    severity: Severity
    reasons: list[str]
    protocol: list[ProtocolStepRecord]
    went_dark_at: str | None
    #: why some of the track's positions are doubted (a jump no aircraft can make, a
    #: second position stream under the address, radar contradicting ADS-B); empty
    #: when nothing is
    integrity: list[str]
    #: where the track was first and last seen inside (its first and last inside fix;
    #: null for a corner cut, which has no inside fix): a track lost inside ends at
    #: ``last_inside_point``, where a track that continues it is looked for
    first_inside_point: PointRecord | None
    last_inside_point: PointRecord | None


#: the record's fields in their fixed output order (outside tools diff our bytes)
ENTRY_RECORD_FIELDS: tuple[str, ...] = tuple(EntryRecord.__annotations__)

#: what a live event says happened: the entry's life (``entry``, ``update``, ``exit``,
#: ``open`` when the watcher stops with the entry still open), an early warning
#: (``approach``, ``loitering``, ``went_dark``) or a missed protocol deadline
EventKind = Behaviour | Literal["entry", "update", "exit", "open", "escalation"]


class EventRecord(EntryRecord):
    """A live event (``watch --format jsonl``, webhooks): the record plus its kind."""

    event: EventKind
