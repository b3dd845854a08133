"""SBS-1 / BaseStation text (dump1090 port 30003) into observation batches.

Each line has 22 comma-separated fields::

    MSG,transmission_type,session,aircraft,hex_ident,flight,gen_date,gen_time,
    log_date,log_time,callsign,altitude(ft),ground_speed(kt),track,lat,lon,
    vertical_rate(ft/min),squawk,alert,emergency,spi,is_on_ground

Positions (``MSG,2`` surface, ``MSG,3`` airborne), velocities (``MSG,4``),
identity (``MSG,1``) and squawk (``MSG,6``) come in separate lines; the parser
keeps each aircraft's last known values (:class:`~skyfence.sources._state.LastKnown`)
and emits one observation per line carrying a position. Times come from the
generated date and time fields, read in ``tz`` (dump1090 writes its local clock;
UTC by default). Parsing is columnar: a batch of lines is split once and every
field converted with vectorized pandas calls.

Malformed lines are counted in :class:`SbsStats` and handed to the parser's
:class:`~skyfence.errors.ErrorPolicy`: with ``on_error="abort"`` they raise
:class:`~skyfence.errors.InputError` naming the source, line and field; with ``"skip"``
they are kept and logged (logger ``skyfence.sources.sbs``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from skyfence.errors import ErrorPolicy, InputError, OnError
from skyfence.sources._state import LastKnown, empty_messages
from skyfence.vocab import FPM, FT, KT

#: The 22 SBS field names, in order.
SBS_FIELDS: tuple[str, ...] = (
    "message_type",
    "transmission_type",
    "session_id",
    "aircraft_id",
    "hex_ident",
    "flight_id",
    "generated_date",
    "generated_time",
    "logged_date",
    "logged_time",
    "callsign",
    "altitude",
    "ground_speed",
    "track",
    "lat",
    "lon",
    "vertical_rate",
    "squawk",
    "alert",
    "emergency",
    "spi",
    "is_on_ground",
)
_IDX = {name: i for i, name in enumerate(SBS_FIELDS)}
#: Numeric field -> factor to SI.
_NUMERIC = {
    "altitude": FT,
    "ground_speed": KT,
    "track": 1.0,
    "lat": 1.0,
    "lon": 1.0,
    "vertical_rate": FPM,
}
#: SBS numeric field -> the contract field whose plausible range it must lie in
_CONTRACT_FIELD = {"altitude": "altitude", "ground_speed": "velocity", "track": "heading",
                   "lat": "lat", "lon": "lon", "vertical_rate": "vertrate"}
#: Other SBS record types that are valid but carry no aircraft message.
_OTHER_TYPES = frozenset({"SEL", "ID", "AIR", "STA", "CLK"})
_TRANSMISSION_TYPES = frozenset("12345678")
_TT_SET = pa.array(sorted(_TRANSMISSION_TYPES))
_HEX6 = re.compile(r"[0-9a-fA-F]{6}")
_MAX_KEPT_ERRORS = 100

log = logging.getLogger(__name__)


@dataclass
class SbsStats:
    """Counters of one SBS source."""

    lines: int = 0
    messages: int = 0
    positions: int = 0
    ignored: int = 0
    malformed: int = 0
    malformed_by_field: Counter[str] = field(default_factory=Counter)


class SbsParser:
    """Stateful SBS parser: lines in, observation batches out.

    Parameters
    ----------
    source
        Name used in error messages (a file path or ``host:port``).
    on_error
        ``"abort"`` raises the first :class:`InputError`; ``"skip"`` counts the
        line, keeps the error in :attr:`errors` (the first 100) and goes on.
    tz
        Time zone of the generated date/time fields.
    state
        Per-aircraft state; pass one to share it between parsers.

    Examples
    --------
    >>> p = SbsParser()
    >>> line = ("MSG,3,1,1,4CA2D6,1,2025/09/19,09:58:12.400,2025/09/19,09:58:12.400,,"
    ...         "37000,,,59.817,26.358,,,0,0,0,0")
    >>> obs = p.parse_lines([line])
    >>> round(float(obs.altitude[0]), 1), obs.icao24[0]
    (11277.6, '4ca2d6')
    """

    def __init__(
        self,
        *,
        source: str | None = None,
        on_error: OnError = "skip",
        tz: str = "UTC",
        state: LastKnown | None = None,
    ) -> None:
        self.source = source
        self.policy = ErrorPolicy(on_error, keep=_MAX_KEPT_ERRORS, logger=log)
        self.tz = tz
        self.state = state if state is not None else LastKnown()
        self.stats = SbsStats()

    @property
    def errors(self) -> list[InputError]:
        """The first 100 errors of skipped lines."""
        return self.policy.errors

    def parse_lines(
        self,
        lines: Sequence[str],
        *,
        first_line: int = 1,
        arrival_time: float | None = None,
    ) -> pd.DataFrame:
        """Parse lines (without or with their line ends) into an observation batch.

        ``first_line`` is the 1-based number of ``lines[0]`` in its source, for
        error messages. ``arrival_time`` (unix s) replaces a missing or unreadable
        date/time instead of rejecting the line (live feeds).
        """
        self.stats.lines += len(lines)
        stripped = [ln.strip() for ln in lines]
        numbers = np.arange(first_line, first_line + len(lines))
        keep = np.fromiter(
            (s.startswith("MSG,") and s.count(",") == 21 for s in stripped),
            dtype=bool,
            count=len(stripped),
        )
        if not keep.all():
            for i in np.flatnonzero(~keep):
                s = stripped[i]
                kind = s.split(",", 1)[0]
                if not s or kind in _OTHER_TYPES:
                    self.stats.ignored += 1
                elif kind != "MSG":
                    self._reject(int(numbers[i]), "message_type", f"unknown type {kind[:8]!r}")
                else:
                    n = s.count(",") + 1
                    self._reject(int(numbers[i]), "field count", f"{n} fields, expected 22")
        good = [s for s, k in zip(stripped, keep, strict=True) if k]
        if not good:
            return self.state.apply(empty_messages())
        numbers = numbers[keep]
        fast = _fast_messages(good) if self.tz == "UTC" else None
        if fast is not None:
            self.stats.messages += len(good)
            obs = self.state.apply(fast)
            self._count_implausible()
            self.stats.positions += len(obs)
            return obs
        cols = dict(zip(SBS_FIELDS, zip(*(s.split(",") for s in good), strict=True), strict=True))
        bad = np.zeros(len(good), dtype=bool)

        kinds = {k: k.strip() in _TRANSMISSION_TYPES for k in set(cols["transmission_type"])}
        kind_ok = np.fromiter(map(kinds.__getitem__, cols["transmission_type"]), bool, len(good))
        bad |= self._check(~kind_ok, numbers, bad, "transmission_type")
        addresses = {a: _address(a) for a in set(cols["hex_ident"])}
        icao = np.array([addresses[a] for a in cols["hex_ident"]], dtype=object)
        bad |= self._check(pd.isna(icao), numbers, bad, "hex_ident")

        seconds = self._times(cols["generated_date"], cols["generated_time"])
        missing = np.isnan(seconds)
        if missing.any():
            logged = self._times(cols["logged_date"], cols["logged_time"])
            seconds = np.where(missing, logged, seconds)
            if arrival_time is not None:
                seconds = np.where(np.isnan(seconds), arrival_time, seconds)
        bad |= self._check(np.isnan(seconds), numbers, bad, "generated_time")

        values: dict[str, np.ndarray] = {}
        for name, factor in _NUMERIC.items():
            num, unreadable = _floats(cols[name])
            bad |= self._check(unreadable, numbers, bad, name)
            values[name] = num * factor
        bad |= self._check(np.abs(values["lat"]) > 90, numbers, bad, "lat")
        bad |= self._check(np.abs(values["lon"]) > 180, numbers, bad, "lon")
        from skyfence.sources.ranges import outside

        bad |= self._check(outside("time", seconds), numbers, bad, "generated_time")
        for name in ("altitude", "ground_speed", "track", "vertical_rate"):
            bad |= self._check(outside(_CONTRACT_FIELD[name], values[name]), numbers, bad, name)
        one_sided = np.isnan(values["lat"]) != np.isnan(values["lon"])
        bad |= self._check(one_sided, numbers, bad, "lon")

        flags = {
            g: (np.nan if not g.strip() else float(g.strip() != "0"))
            for g in set(cols["is_on_ground"])
        }
        onground = np.fromiter(map(flags.__getitem__, cols["is_on_ground"]), float, len(good))
        callsign = np.array([c.strip() or None for c in cols["callsign"]], dtype=object)
        squawk = np.array([q.strip() or None for q in cols["squawk"]], dtype=object)
        ok = ~bad
        messages = {
            "time": seconds[ok],
            "icao24": icao[ok],
            "lat": values["lat"][ok],
            "lon": values["lon"][ok],
            "altitude": values["altitude"][ok],
            "velocity": values["ground_speed"][ok],
            "heading": values["track"][ok],
            "vertrate": values["vertical_rate"][ok],
            "callsign": callsign[ok],
            "squawk": squawk[ok],
            "onground": onground[ok],
        }
        self.stats.messages += int(ok.sum())
        obs = self.state.apply(messages)
        self._count_implausible()
        self.stats.positions += len(obs)
        return obs

    def _count_implausible(self) -> None:
        """Messages with a value outside its plausible range are malformed (counted)."""
        n = self.state.pop_implausible()
        if n:
            self.stats.malformed += n
            self.stats.malformed_by_field["implausible value"] += n

    def _times(self, dates: tuple[str, ...], times: tuple[str, ...]) -> np.ndarray:
        """Unix seconds of SBS date and time fields read in ``tz`` (NaN when unreadable)."""
        midnights = {d: _midnight(d) for d in set(dates)}
        day = np.fromiter(map(midnights.__getitem__, dates), float, len(dates))
        seconds = day + _seconds_of_day(times)
        if self.tz != "UTC":
            wall = pd.to_datetime(pd.Series(seconds), unit="s")
            local = wall.dt.tz_localize(self.tz, ambiguous="NaT", nonexistent="NaT")
            utc = local.dt.tz_convert("UTC")
            seconds = (utc - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
        return seconds

    def _check(
        self, invalid: np.ndarray, numbers: np.ndarray, already: np.ndarray, name: str
    ) -> np.ndarray:
        """Reject lines newly found invalid in field ``name``; return the mask."""
        new = invalid & ~already
        for i in np.flatnonzero(new):
            self._reject(int(numbers[i]), name, "unreadable value")
        return invalid

    def _reject(self, line: int, field_name: str, reason: str) -> None:
        self.policy.reject(InputError(reason, file=self.source, row=line, field=field_name))
        self.stats.malformed += 1
        self.stats.malformed_by_field[field_name] += 1


_FAST_TYPES = {name: (pa.float64() if name in _NUMERIC else pa.string()) for name in SBS_FIELDS}


def _fast_messages(good: list[str]) -> dict[str, np.ndarray] | None:
    """Messages of clean lines parsed by Arrow's CSV reader, or None to take the slow path.

    Any irregularity (an unreadable number, an unknown transmission type, a bad
    address, a time not in ``HH:MM:SS.fff``, a position out of range, a missing or odd
    date) sends the whole batch to the line-by-line path, which names the bad line.
    """
    try:
        tbl = pacsv.read_csv(
            pa.py_buffer("\n".join(good).encode()),
            read_options=pacsv.ReadOptions(column_names=list(SBS_FIELDS), use_threads=False),
            parse_options=pacsv.ParseOptions(quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types=_FAST_TYPES, null_values=[""],
                                                 strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, UnicodeError):
        return None
    if tbl.num_rows != len(good):
        return None
    kind = pc.utf8_trim_whitespace(tbl["transmission_type"])
    if not pc.all(pc.is_in(kind, value_set=_TT_SET)).as_py():
        return None
    hexes = pc.utf8_trim_whitespace(tbl["hex_ident"])
    if not pc.all(pc.match_substring_regex(hexes, r"^[0-9a-fA-F]{6}$")).as_py():
        return None
    dates = pc.utf8_trim_whitespace(tbl["generated_date"])
    uniq = pc.unique(dates).to_pylist()
    if None in uniq:
        return None
    midnights = np.array([_midnight(d) for d in uniq])
    if np.isnan(midnights).any():
        return None
    day = midnights[pc.index_in(dates, value_set=pa.array(uniq)).to_numpy()]
    times = pc.utf8_trim_whitespace(tbl["generated_time"]).combine_chunks()
    if times.null_count or not pc.all(pc.equal(pc.utf8_length(times), 12)).as_py():
        return None
    off = np.frombuffer(times.buffers()[1], dtype=np.int32)[times.offset:]
    raw = np.frombuffer(times.buffers()[2], dtype=np.uint8)[off[0]:off[0] + 12 * len(times)]
    secs = _seconds_of_day_fixed(raw.reshape(-1, 12))
    if np.isnan(secs).any():
        return None
    values = {name: tbl[name].to_numpy() * factor for name, factor in _NUMERIC.items()}
    lat, lon = values["lat"], values["lon"]
    if ((np.abs(lat) > 90) | (np.abs(lon) > 180) | (np.isnan(lat) != np.isnan(lon))).any():
        return None
    from skyfence.sources.ranges import outside

    if any(outside(_CONTRACT_FIELD[name], v).any() for name, v in values.items()) \
            or outside("time", day + secs).any():
        return None  # an implausible value: the line-by-line path names it

    def text(name: str) -> np.ndarray:
        col = pc.utf8_trim_whitespace(tbl[name])
        col = pc.if_else(pc.equal(col, ""), None, col)
        return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)

    ground = pc.utf8_trim_whitespace(tbl["is_on_ground"])
    onground = pc.if_else(pc.equal(ground, "0"), 0.0, 1.0)
    return {
        "time": day + secs,
        "icao24": np.asarray(pc.utf8_lower(hexes).to_numpy(zero_copy_only=False), dtype=object),
        "lat": lat,
        "lon": lon,
        "altitude": values["altitude"],
        "velocity": values["ground_speed"],
        "heading": values["track"],
        "vertrate": values["vertical_rate"],
        "callsign": text("callsign"),
        "squawk": text("squawk"),
        "onground": onground.to_numpy(zero_copy_only=False).astype(np.float64),
    }


def _address(text: str) -> str | None:
    """The lower-case ICAO address of a hex_ident field, None when it is not one."""
    text = text.strip()
    return text.lower() if _HEX6.fullmatch(text) else None


def _midnight(date: str) -> float:
    """Unix seconds of 00:00 (as UTC wall time) of an SBS ``YYYY/MM/DD`` date, NaN if bad."""
    try:
        day = dt.date.fromisoformat(date.strip().replace("/", "-"))
    except ValueError:
        return float("nan")
    return float((day - dt.date(1970, 1, 1)).days * 86400)


def _seconds_of_day(times: tuple[str, ...]) -> np.ndarray:
    """Seconds since midnight of ``HH:MM:SS[.fff]`` fields (NaN when unreadable).

    The usual fixed form ``HH:MM:SS.fff`` is read as bytes with numpy; any other
    form falls back to :meth:`datetime.time.fromisoformat` for that field.
    """
    n = len(times)
    out = np.full(n, np.nan)
    fixed = np.fromiter((len(t) == 12 for t in times), bool, n)
    if fixed.any():
        text = "".join(t for t, f in zip(times, fixed, strict=True) if f)
        raw = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8).reshape(-1, 12)
        out[np.flatnonzero(fixed)] = _seconds_of_day_fixed(raw)
    for i in np.flatnonzero(~fixed):
        try:
            t = dt.time.fromisoformat(times[i].strip())
        except ValueError:
            continue
        out[i] = t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
    return out


def _seconds_of_day_fixed(raw: np.ndarray) -> np.ndarray:
    """Seconds since midnight of ``HH:MM:SS.fff`` rows of ASCII bytes (NaN when not)."""
    d = raw.astype(np.int64) - 48
    digits = np.delete(d, [2, 5, 8], axis=1)
    shape_ok = (raw[:, 2] == 58) & (raw[:, 5] == 58) & (raw[:, 8] == 46)
    ok = shape_ok & ((digits >= 0) & (digits <= 9)).all(axis=1)
    hours = d[:, 0] * 10 + d[:, 1]
    minutes = d[:, 3] * 10 + d[:, 4]
    secs = d[:, 6] * 10 + d[:, 7]
    ok &= (hours < 24) & (minutes < 60) & (secs < 61)
    value = hours * 3600 + minutes * 60 + secs + (d[:, 9] * 100 + d[:, 10] * 10 + d[:, 11]) / 1e3
    return np.where(ok, value, np.nan)


def _floats(column: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Floats of a text column (NaN where empty) and the mask of unreadable cells."""
    n = len(column)
    out = np.full(n, np.nan)
    unreadable = np.zeros(n, dtype=bool)
    filled = [i for i, v in enumerate(column) if v]
    if not filled:
        return out, unreadable
    texts = [column[i] for i in filled]
    try:
        out[filled] = np.array(texts, dtype="float64")
    except ValueError:
        num = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(float)
        out[filled] = num
        unreadable[
            np.asarray(filled)[np.isnan(num) & np.array([bool(t.strip()) for t in texts])]
        ] = True
    return out, unreadable
