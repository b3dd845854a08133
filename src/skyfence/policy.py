"""Which entries are violations, how severe, and why (the first, built-in policy).

Rules, strongest wins:

- a non-cooperative track (its id is not an ICAO 24-bit address: radar only, or
  unknown) inside a watched zone is a ``critical`` violation;
- a track whose ICAO address is allocated to a watched state is a violation
  (``critical`` when known military, ``warning`` otherwise);
- an emergency squawk (7500 hijack, 7600 radio failure, 7700 emergency) raises ``warning``;
- anything else is ``info`` and not a violation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from skyfence.model import Classification, Entry

SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}
SQUAWK_MEANING = {"7500": "unlawful interference", "7600": "radio failure",
                  "7700": "general emergency"}


@dataclass(frozen=True)
class Verdict:
    """The policy's judgement of one entry."""

    violation: bool
    severity: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """The built-in policy; ``watch_states`` are ISO3 codes (``RUS``, ``BLR``)."""

    watch_states: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_options(cls, watch_states: Iterable[str] = ()) -> Policy:
        """A policy from ``--watch-state`` values (case-insensitive ISO3)."""
        return cls(frozenset(s.strip().upper() for s in watch_states if s.strip()))

    def judge(self, entry: Entry, cls_: Classification) -> Verdict:
        """Violation, severity and plain-word reasons for one entry."""
        where = f"{entry.zone}" + (" airspace" if entry.zone_kind == "national" else " zone")
        reasons: list[str] = []
        severity = "info"
        violation = False
        if not cls_.cooperative:
            violation, severity = True, "critical"
            reasons.append(
                f"non-cooperative target inside {where}: track '{entry.track}' carries no "
                "ICAO 24-bit address (transponder off or radar-only)"
            )
        state = cls_.registration_state
        if state is not None and state in self.watch_states:
            violation = True
            sev = "critical" if cls_.military else "warning"
            severity = max(severity, sev, key=SEVERITY_ORDER.__getitem__)
            reasons.append(
                f"aircraft registered in {state} (ICAO address {entry.track}), a watched "
                f"state, inside {where}"
            )
        for sq in entry.squawks:
            severity = max(severity, "warning", key=SEVERITY_ORDER.__getitem__)
            reasons.append(f"squawk {sq} ({SQUAWK_MEANING.get(sq, 'emergency')}) inside {where}")
        if not reasons:
            reasons.append(f"cooperative aircraft inside {where}; no rule applies")
        return Verdict(violation, severity, tuple(reasons))
