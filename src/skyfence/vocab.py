"""The closed sets skyfence speaks in, defined once: severities, aircraft categories,
behaviours, zone kinds, emergency squawks and units.

Records, policy files and scenario files carry these as plain strings (they are JSON and
YAML values), so each set is a :data:`typing.Literal` type for the type checker and a
tuple of its values, in their natural order, for validation and messages. Every module
that checks or lists one of them imports it from here; nothing else spells them out.

Examples
--------
>>> SEVERITIES
('info', 'warning', 'critical')
>>> max(["warning", "critical", "info"], key=SEVERITY_ORDER.__getitem__)
'critical'
>>> CATEGORIES[-1], len(SCORED_CATEGORIES) == len(CATEGORIES) - 1
('unknown', True)
>>> round(37000 * FT, 1), round(450 * KT, 2), UNITS["fpm"] == FPM
(11277.6, 231.5, True)
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = [
    "BEHAVIOURS",
    "CATEGORIES",
    "DAY_S",
    "EMERGENCY_SQUAWKS",
    "FPM",
    "FT",
    "KT",
    "NM",
    "SCORED_CATEGORIES",
    "SEVERITIES",
    "SEVERITY_ORDER",
    "SQUAWK_MEANING",
    "UNITS",
    "ZONE_KINDS",
    "Behaviour",
    "Category",
    "Severity",
    "ZoneKind",
    "as_category",
]

# ---------------------------------------------------------------------- severities
#: How serious a judged entry is, least to most (the record's ``severity``).
Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = get_args(Severity)
#: severity -> rank, for "the highest severity of these"
SEVERITY_ORDER: Final[dict[str, int]] = {s: i for i, s in enumerate(SEVERITIES)}

# ---------------------------------------------------------------------- categories
#: What kind of aircraft a track probably is (the record's ``classification.category``);
#: ``unknown`` when the kinematics fit no category.
Category = Literal["airliner", "jet", "propeller", "helicopter", "drone", "balloon", "unknown"]
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)
#: the categories the kinematic classifier scores, in its score columns' order: every
#: category but ``unknown``, which is what no score wins
SCORED_CATEGORIES: Final[tuple[Category, ...]] = tuple(c for c in CATEGORIES if c != "unknown")


def as_category(name: object) -> Category:
    """``name`` as a :data:`Category`, or ValueError: a classifier's output label
    (a numpy string) is checked once where it becomes a record's value.

    >>> as_category("drone")
    'drone'
    """
    text = str(name)
    for c in CATEGORIES:
        if c == text:
            return c
    raise ValueError(f"not an aircraft category: {text!r} (one of {', '.join(CATEGORIES)})")


# ---------------------------------------------------------------------- behaviours
#: What a track does around a zone, beyond entering it: the early warnings' kinds and
#: the policy's behaviour flags.
Behaviour = Literal["approach", "loitering", "went_dark"]
BEHAVIOURS: Final[tuple[Behaviour, ...]] = get_args(Behaviour)

# ---------------------------------------------------------------------- zone kinds
#: ``national`` (sovereign airspace, named by ISO 3166-1 alpha-3) or ``custom``.
ZoneKind = Literal["national", "custom"]
ZONE_KINDS: Final[tuple[ZoneKind, ...]] = get_args(ZoneKind)

# ---------------------------------------------------------------------- squawks
#: Mode 3/A codes that declare an emergency, and what each means.
SQUAWK_MEANING: Final[dict[str, str]] = {
    "7500": "unlawful interference",
    "7600": "radio failure",
    "7700": "general emergency",
}
EMERGENCY_SQUAWKS: Final[tuple[str, ...]] = tuple(SQUAWK_MEANING)

# ---------------------------------------------------------------------- units
#: one foot in metres (``altitude_ft * FT`` is metres)
FT: Final = 0.3048
#: one nautical mile in metres
NM: Final = 1852.0
#: one knot in metres per second
KT: Final = NM / 3600.0
#: one foot per minute in metres per second
FPM: Final = FT / 60.0
#: one day in seconds (ASTERIX and SBS carry the time of day only)
DAY_S: Final = 86400.0
#: unit name (as ``--columns SRC=FIELD:UNIT`` spells it) -> factor to SI
UNITS: Final[dict[str, float]] = {
    "m": 1.0,
    "ft": FT,
    "m/s": 1.0,
    "kt": KT,
    "ft/min": FPM,
    "fpm": FPM,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "ns": 1e-9,
    "deg": 1.0,
}
