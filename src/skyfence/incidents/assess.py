"""Entry -> classification -> policy verdict -> contract record."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from skyfence.fusion.correlator import Identity
from skyfence.identify.classify import categorize
from skyfence.identify.icao_blocks import parse_icao24, registration_state
from skyfence.incidents.record import to_record
from skyfence.model import Classification, Entry
from skyfence.policy import Policy
from skyfence.records import EntryRecord
from skyfence.vocab import as_category


@dataclass
class Assessor:
    """Turns entries into incident records under one policy.

    ``identities`` (from fusion, by track) name the transponder a radar track matched:
    a track that went dark keeps its non-cooperative judgement but its record carries
    the address, callsign and registration state last heard, and ``went_dark_at``; a
    radar track whose own Mode S replies give an address is a cooperative aircraft.
    """

    policy: Policy = field(default_factory=Policy)
    military_db: Mapping[str, bool] | None = None
    #: what fusion knew of an entry's track when it entered
    identity_of: Callable[[Entry], Identity | None] | None = None

    def record(self, entry: Entry, behaviours: Collection[str] = ()) -> EntryRecord:
        """The contract record for ``entry`` (``behaviours``: early-warning flags)."""
        return self.records([entry], behaviours)[0]

    def records(
        self, entries: Sequence[Entry], behaviours: Collection[str] = ()
    ) -> list[EntryRecord]:
        """Records of many entries, classified in one vectorized pass."""
        if not entries:
            return []
        tracks = np.array([e.track for e in entries], dtype=object)
        _, coop = parse_icao24(tracks)
        known = [_telling(self.identity_of(e)) if self.identity_of else None for e in entries]
        address = np.array([t if c else (k["icao24"] if k is not None else "000000")
                            for t, c, k in zip(tracks, coop, known, strict=True)], dtype=object)
        coop = coop | np.array([k is not None and k["mode_s"] for k in known], dtype=bool)
        states = registration_state(address)

        def arr(values: list[float | None]) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        names, conf = categorize(arr([e.max_speed_ms for e in entries]),
                                 arr([e.max_altitude_m for e in entries]),
                                 cooperative=coop.astype(np.float64))
        out = []
        db = self.military_db
        for i, e in enumerate(entries):
            ident = known[i]
            icao = str(address[i]).strip().lower() if (coop[i] or ident is not None) else None
            cls_ = Classification(
                cooperative=bool(coop[i]), category=as_category(names[i]),
                registration_state=states[i] if icao is not None else None,
                military=db.get(icao) if (db is not None and icao is not None) else None,
                confidence=float(conf[i]) if names[i] != "unknown" else None,
            )
            if ident is not None and e.callsign is None:
                e = replace(e, callsign=ident["callsign"])
            out.append(to_record(e, cls_, self.policy.judge(e, cls_, behaviours),
                                 icao24=icao,
                                 went_dark_at=ident["went_dark_at"] if ident else None))
        return out


def _telling(ident: Identity | None) -> Identity | None:
    """An identity that changes a record: went dark, or named by the radar's Mode S."""
    if ident is not None and (ident["went_dark_at"] is not None or ident["mode_s"]):
        return ident
    return None
