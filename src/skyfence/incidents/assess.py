"""Entry -> classification -> policy verdict -> contract record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skyfence.identify.classify import classify
from skyfence.incidents.record import to_record
from skyfence.model import Entry
from skyfence.policy import Policy


@dataclass
class Assessor:
    """Turns entries into incident records under one policy."""

    policy: Policy = field(default_factory=Policy)
    military_db: Mapping[str, bool] | None = None

    def record(self, entry: Entry) -> dict[str, Any]:
        """The contract record for ``entry``."""
        cls_ = classify(
            entry.track,
            max_speed_ms=entry.max_speed_ms,
            max_altitude_m=entry.max_altitude_m,
            military_db=self.military_db,
        )
        return to_record(entry, cls_, self.policy.judge(entry, cls_))
