"""Entry -> classification -> policy verdict -> contract record."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from skyfence.fusion.correlator import Identity
from skyfence.identify.classify import categorize
from skyfence.identify.icao_blocks import parse_icao24, registration_state
from skyfence.incidents.record import to_records
from skyfence.model import Classification, Entry
from skyfence.policy import Policy, ProtocolStep, Verdict
from skyfence.records import EntryRecord
from skyfence.vocab import as_category

#: an entry whose fixes carry a position sigma (radar tracks) is judged by the policy
#: once its deepest fix is inside by this many sigmas; shallower, it is a border contact
SIGNIFICANT_SIGMAS = 2.0


def within_accuracy(entry: Entry) -> bool:
    """Whether ``entry`` goes no deeper than :data:`SIGNIFICANT_SIGMAS` position sigmas
    of its track: a fix that far in may be a target flying just outside.

    A radar track's position is off by its sigma (tens to hundreds of metres for an
    en-route radar at 100 km); a drone flying 60 m outside the border shows, now and
    then, a fix 25 m inside. Two sigmas in, the chance that noise alone put the deepest
    fix there is about 2 % per fix. Transponder positions carry no sigma and are judged
    as they are.

    >>> from skyfence.model import Entry
    >>> e = Entry("POL", "national", "R0025", 0.0, True, 2.0, 1.0, 25.0, None, None,
    ...           None, None, 1, position_sigma_m=60.0)
    >>> within_accuracy(e), within_accuracy(replace(e, max_depth_m=130.0))
    (True, False)
    """
    sigma = entry.position_sigma_m
    return sigma is not None and entry.max_depth_m < SIGNIFICANT_SIGMAS * sigma


def border_contact(entry: Entry, verdict: Verdict) -> Verdict:
    """The verdict of an entry :func:`within_accuracy` that the policy calls a
    violation: not (yet) one, a warning that says why, the operator told to watch."""
    sigma = entry.position_sigma_m or 0.0
    return Verdict(
        violation=False, severity="warning",
        reasons=(f"track '{entry.track}' touched {entry.zone}: deepest fix "
                 f"{entry.max_depth_m:.0f} m inside, within {SIGNIFICANT_SIGMAS:g} position "
                 f"sigmas ({SIGNIFICANT_SIGMAS * sigma:.0f} m) of the boundary",),
        protocol=(ProtocolStep(f"watch track {entry.track} at the boundary"),),
        rules=verdict.rules)

#: how the integrity reason of an entry made by a position jump begins
JUMPED_IN = "entered by a position jump"


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
    #: why fusion doubts an entry's positions (radar contradicting its ADS-B), or None
    doubt_of: Callable[[Entry], str | None] | None = None

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

        # a high speed robust to a radar track's speed noise, not the single fastest fix
        names, conf = categorize(arr([e.high_speed_ms for e in entries]),
                                 arr([e.max_altitude_m for e in entries]),
                                 cooperative=coop.astype(np.float64),
                                 turn_accel_ms2=arr([e.max_turn_accel_ms2 for e in entries]))
        db = self.military_db
        judged: list[Entry] = []
        classes: list[Classification] = []
        verdicts: list[Verdict] = []
        icao24s: list[str | None] = []
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
            doubt = self.doubt_of(e) if self.doubt_of is not None else None
            if doubt is not None and doubt not in e.integrity:
                e = replace(e, integrity=(*e.integrity, doubt))
            verdict = self.policy.judge(e, cls_, behaviours)
            if verdict.violation and within_accuracy(e):
                verdict = border_contact(e, verdict)
            if any(r.startswith(JUMPED_IN) for r in e.integrity):
                # an entry made by a jump no aircraft can make is never a violation on
                # that ground alone: it is called out for an operator to look at
                verdict = replace(verdict, violation=False, severity="warning", reasons=(
                    *verdict.reasons, "not a violation on this data alone: the track "
                    "came in by a position jump no aircraft can make (see integrity)"))
            judged.append(e)
            classes.append(cls_)
            verdicts.append(verdict)
            icao24s.append(icao)
        return to_records(judged, classes, verdicts, icao24s=icao24s,
                          went_dark_ats=[k["went_dark_at"] if k else None for k in known])


def _telling(ident: Identity | None) -> Identity | None:
    """An identity that changes a record: went dark, or named by the radar's Mode S."""
    if ident is not None and (ident["went_dark_at"] is not None or ident["mode_s"]):
        return ident
    return None
