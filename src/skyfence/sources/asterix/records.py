"""ASTERIX records as columns: the items of CAT048 plots and CAT062 system tracks.

Each data block is decoded by ``asterix-decoder`` (imported when first needed, so the
package loads without it) into records; the mandatory items are checked here (data
source SAC/SIC, time of day, track number, position in range) and the items skyfence
uses are kept column-wise, in SI units, for one vectorized conversion later
(:mod:`skyfence.sources.asterix.convert`). Records are numbered from 1 in file order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from skyfence.errors import ErrorPolicy, InputError
from skyfence.sources.asterix.blocks import split_blocks
from skyfence.sources.asterix.isolate import CRASHED, parse_blocks
from skyfence.vocab import DAY_S, FT, NM

#: categories handed to the decoder: the ones read (monoradar target reports, system
#: tracks) and the service messages that come with them (counted, not read); blocks of
#: other categories are counted unread
DECODED_CATEGORIES = frozenset({34, 48, 62, 65})
#: data blocks decoded per round trip to the decoder's process
BATCH_BLOCKS = 4096

__all__ = ["RecordColumns"]


def _val(record: dict[str, Any], item: str, sub: str) -> Any:
    it = record.get(item)
    if not isinstance(it, dict):
        return None
    v = it.get(sub)
    return v.get("val") if isinstance(v, dict) else None


def _valid(record: dict[str, Any], item: str) -> bool:
    """False when a code item is flagged not validated (V) or garbled (G)."""
    return not (_val(record, item, "V") or _val(record, item, "G"))


class RecordColumns:
    """Decoded records, column-wise: CAT048 plots in :attr:`p`, CAT062 system tracks in
    :attr:`t`, and every kept record's time of day and capture time, in file order.

    Bad records go to ``policy`` (raise, or count and skip); records without a position
    and records of other categories are counted, not errors.
    """

    def __init__(self, source: str, policy: ErrorPolicy) -> None:
        self.source = source
        self.policy = policy
        self.tod: list[float] = []  # every record's time of day, in file order
        self.capture: list[float] = []
        self.p: dict[str, list[Any]] = {
            k: []
            for k in (
                "i",
                "sac",
                "sic",
                "rho",
                "theta",
                "height",
                "icao24",
                "squawk",
                "callsign",
                "record",
            )
        }
        self.t: dict[str, list[Any]] = {
            k: [] for k in ("i", "id", "lat", "lon", "alt", "vx", "vy", "roc", "callsign", "squawk")
        }
        self.records = 0
        self.without_position = 0
        self.other = 0
        self.blocks = 0

    def fail(self, message: str, field: str | None, row: int | None = None, count: int = 1
             ) -> None:
        """Reject ``count`` records (or a block) as the error policy says."""
        self.policy.reject(InputError(message, file=self.source, row=row, field=field), count)

    def add_payload(self, payload: bytes, capture_time: float | None) -> None:
        """Frame and decode one payload (see :meth:`add_payloads`)."""
        self.add_payloads([(capture_time, payload)])

    def add_payloads(self, payloads: Iterable[tuple[float | None, bytes]]) -> None:
        """Frame and decode ``(capture_time, payload)`` pairs; keep the columns of their
        CAT048/062 records. Blocks of other categories are counted in ``other``, never
        decoded; blocks go to the decoder's process (see
        :mod:`~skyfence.sources.asterix.isolate`) in batches, and what happened is then
        taken in order, as if each had been decoded on arrival."""
        steps: list[tuple[str, Any, Any]] = []  # ("block", bytes, time) / ("fail", fld, msg)
        blocks = 0
        for capture_time, payload in payloads:
            found, errors = split_blocks(payload, self.blocks)
            self.blocks += len(found)
            steps.extend(("fail", fld, message) for fld, message in errors)
            for block in found:
                if block[0] not in DECODED_CATEGORIES:
                    # what we do not read cannot crash us: the decoder's C++ core dies
                    # on some malformed CAT004/CAT011 blocks
                    self.other += 1
                    continue
                steps.append(("block", block, capture_time))
                blocks += 1
            if blocks >= BATCH_BLOCKS:
                self._play(steps)
                steps, blocks = [], 0
        self._play(steps)

    def _play(self, steps: list[tuple[str, Any, Any]]) -> None:
        decoded = iter(parse_blocks([b for kind, b, _ in steps if kind == "block"]))
        for kind, a, b in steps:
            if kind == "fail":
                self.fail(b, a)
                continue
            records = next(decoded)
            if records == CRASHED:
                self.fail("the decoder crashed on this data block", "data block",
                          self.records + 1)
            elif isinstance(records, str):
                self.fail(f"cannot decode data block: {records}", "data block",
                          self.records + 1)
            else:
                for rec in records:
                    self.records += 1
                    self._add_record(rec, self.records, b)

    def _add_record(self, rec: dict[str, Any], n: int, capture: float | None) -> None:
        cat = rec.get("category")
        if cat == 48:
            self._add_048(rec, n, capture)
        elif cat == 62:
            self._add_062(rec, n, capture)
        else:
            self.other += 1

    def _time_of_day(self, rec: dict[str, Any], item: str, sub: str, n: int) -> float | None:
        tod = _val(rec, item, sub)
        if tod is None:
            self.fail("record has no time of day", item, n)
            return None
        if not 0 <= tod < DAY_S + 1:
            self.fail(f"time of day {tod} s outside 0-86400", item, n)
            return None
        return float(tod)

    def _site(self, rec: dict[str, Any], n: int) -> tuple[int, int] | None:
        sac, sic = _val(rec, "I010", "SAC"), _val(rec, "I010", "SIC")
        if sac is None or sic is None:
            self.fail("record has no data source identifier (SAC/SIC)", "I010", n)
            return None
        return int(sac), int(sic)

    def _add_048(self, rec: dict[str, Any], n: int, capture: float | None) -> None:
        key = self._site(rec, n)
        if key is None:
            return
        tod = self._time_of_day(rec, "I140", "ToD", n)
        if tod is None:
            return
        rho, theta = _val(rec, "I040", "RHO"), _val(rec, "I040", "THETA")
        if rho is None or theta is None:
            self.without_position += 1  # e.g. a track-only report: nothing to locate
            return
        if not (0 <= rho < 512 and 0 <= theta <= 360):
            self.fail(f"polar position rho={rho} NM theta={theta} deg out of range", "I040", n)
            return
        height = math.nan
        h3d = _val(rec, "I110", "3D_Height")
        fl = _val(rec, "I090", "FL")
        if h3d is not None:
            height = float(h3d) * FT
        elif fl is not None and _valid(rec, "I090"):
            height = float(fl) * 100 * FT
        adr = _val(rec, "I220", "ACAddr")
        a3 = _val(rec, "I070", "Mode3A") if _valid(rec, "I070") else None
        cs = _val(rec, "I240", "TId")
        p = self.p
        p["i"].append(len(self.tod))
        self.tod.append(tod)
        self.capture.append(math.nan if capture is None else capture)
        p["sac"].append(key[0])
        p["sic"].append(key[1])
        p["rho"].append(float(rho) * NM)
        p["theta"].append(float(theta))
        p["height"].append(height)
        p["icao24"].append(str(adr).lower() if adr else None)
        p["squawk"].append(str(a3) if a3 is not None else None)
        p["callsign"].append(cs.strip() or None if isinstance(cs, str) else None)
        p["record"].append(n)

    def _add_062(self, rec: dict[str, Any], n: int, capture: float | None) -> None:
        key = self._site(rec, n)
        if key is None:
            return
        tod = self._time_of_day(rec, "I070", "ToT", n)
        if tod is None:
            return
        trk = _val(rec, "I040", "TrkN")
        if trk is None:
            self.fail("system track has no track number", "I040", n)
            return
        lat, lon = _val(rec, "I105", "Lat"), _val(rec, "I105", "Lon")
        if lat is None or lon is None:
            self.without_position += 1
            return
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.fail(f"position lat={lat} lon={lon} out of range", "I105", n)
            return
        # measured flight level first (as CAT048), then barometric, then geometric
        alt_ft = _val(rec, "I136", "MFL")
        if alt_ft is None:
            alt_ft = _val(rec, "I135", "CTBA")
        if alt_ft is None:
            alt_ft = _val(rec, "I130", "Alt")
        i380: dict[str, Any] = rec["I380"] if isinstance(rec.get("I380"), dict) else {}
        adr = (i380.get("ADR") or {}).get("ADR", {}).get("val")
        cs = (i380.get("ID") or {}).get("ACID", {}).get("val") or _val(rec, "I245", "TId")
        roc = _val(rec, "I220", "RoC")
        t = self.t
        t["i"].append(len(self.tod))
        self.tod.append(tod)
        self.capture.append(math.nan if capture is None else capture)
        t["id"].append(str(adr).lower() if adr else f"T062-{key[0]}-{key[1]}-{int(trk)}")
        t["lat"].append(float(lat))
        t["lon"].append(float(lon))
        t["alt"].append(math.nan if alt_ft is None else float(alt_ft) * FT)
        t["vx"].append(_val(rec, "I185", "Vx"))
        t["vy"].append(_val(rec, "I185", "Vy"))
        t["roc"].append(math.nan if roc is None else float(roc) * FT / 60.0)
        t["callsign"].append(cs.strip() or None if isinstance(cs, str) else None)
        a3 = _val(rec, "I060", "Mode3A") if _valid(rec, "I060") else None
        t["squawk"].append(str(a3) if a3 is not None else None)
