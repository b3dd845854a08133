"""Entry -> classification -> policy verdict -> contract record."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skyfence.identify.classify import categorize
from skyfence.identify.icao_blocks import parse_icao24, registration_state
from skyfence.incidents.record import to_record
from skyfence.model import Classification, Entry
from skyfence.policy import Policy


@dataclass
class Assessor:
    """Turns entries into incident records under one policy."""

    policy: Policy = field(default_factory=Policy)
    military_db: Mapping[str, bool] | None = None

    def record(self, entry: Entry, behaviours: Collection[str] = ()) -> dict[str, Any]:
        """The contract record for ``entry`` (``behaviours``: early-warning flags)."""
        return self.records([entry], behaviours)[0]

    def records(
        self, entries: Sequence[Entry], behaviours: Collection[str] = ()
    ) -> list[dict[str, Any]]:
        """Records of many entries, classified in one vectorized pass."""
        if not entries:
            return []
        tracks = np.array([e.track for e in entries], dtype=object)
        _, coop = parse_icao24(tracks)
        states = registration_state(np.where(coop, tracks, "000000"))

        def arr(values: list[float | None]) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        names, conf = categorize(arr([e.max_speed_ms for e in entries]),
                                 arr([e.max_altitude_m for e in entries]),
                                 cooperative=coop.astype(np.float64))
        out = []
        db = self.military_db
        for i, e in enumerate(entries):
            icao = e.track.strip().lower() if coop[i] else None
            cls_ = Classification(
                cooperative=bool(coop[i]), category=str(names[i]),
                registration_state=states[i] if coop[i] else None,
                military=db.get(icao) if (db is not None and icao is not None) else None,
                confidence=float(conf[i]) if names[i] != "unknown" else None,
            )
            out.append(to_record(e, cls_, self.policy.judge(e, cls_, behaviours)))
        return out
