"""Mode S / ADS-B frames into observation batches, with a real decoder.

Two interchangeable backends implement :class:`ModeSDecoder`:

- :class:`Rs1090Decoder` (``"rs1090"``, Rust, batch decoding), the default: it
  decoded about 4-5x more messages per second than pyModeS on the same recorded
  frames (``skyfence bench decode``, :mod:`skyfence.benchmarks.decode`);
- :class:`PyModeSDecoder` (``"pymodes"``, pure Python ``PipeDecoder``).

Positions (CPR): the libraries pair even/odd frames of one aircraft received
within ``pair_window_s`` (global decoding). Beyond that, each decoder decodes a
lone frame *locally* against a reference position: the aircraft's own last fix
when younger than ``local_window_s``, else the receiver reference ``ref=(lat, lon)``
(airborne: valid within 180 NM of it, surface: 45 NM). Without ``ref`` a new
aircraft is placed only once an even/odd pair arrives, also across batches.

Addresses: ADS-B (DF17/18, CRC checked) and all-call (DF11) frames make an ICAO
address known; surveillance and Comm-B replies (DF0/4/5/16/20/21), whose address
is only recovered from the parity, update state only for known addresses.
Per-aircraft state (callsign, altitude, velocity, squawk...) is carried by
:class:`~skyfence.sources._state.LastKnown` exactly as for SBS.

The rs1090 backend hands rs1090 only the frames that need it: Comm-B replies are
shortened first (:mod:`skyfence.sources.commb`) and the short surveillance replies
(DF0 / DF4 / DF5, seven in ten frames of a feed) are read in columns with rs1090's own
code tables (:mod:`skyfence.sources.short_replies`), the same messages either way.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from skyfence.sources._state import LastKnown, Messages, empty_messages
from skyfence.sources.commb import shorten_commb
from skyfence.sources.short_replies import ShortReplies, reply_codes, short_replies
from skyfence.vocab import FPM, FT, KT

#: Backend used when none is named; chosen by ``skyfence bench decode``.
DEFAULT_DECODER = "rs1090"

_HEX_FRAME = re.compile(r"(?:[0-9a-fA-F]{14}){1,2}")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")
#: Message tuple: time, icao24, lat, lon, altitude ft, speed kt, track, vrate ft/min,
#: callsign, squawk, onground (1.0, 0.0 or NaN).
_Row = tuple[float, str, float, float, float, float, float, float, Any, Any, float]
_NAN = float("nan")
#: downlink formats as rs1090 writes them, and as numbers
_DF_NUMBERS = {str(k): k for k in range(32)}
#: formats whose address is checked by their parity (see ``ModeSDecoder._accept``)
_TRUSTED_DF = frozenset((11, 17, 18))
#: registers whose messages carry a position (airborne, surface)
_POSITION_BDS = frozenset(("05", "06"))
#: the fewest frames rs1090 is given to parse in a thread of their own
_MIN_RUST_BATCH = 250


@dataclass
class DecodeStats:
    """Counters of one decoder."""

    frames: int = 0
    invalid: int = 0
    rejected: int = 0
    messages: int = 0
    positions: int = 0
    unresolved: int = 0


class ModeSDecoder(ABC):
    """Stateful Mode S decoder: ``decode(frames, times)`` returns observations.

    Parameters
    ----------
    ref
        Receiver reference position ``(lat, lon)`` for local CPR decoding.
    pair_window_s
        Largest time between an even and an odd frame decoded as a pair.
    local_window_s
        Largest age of an aircraft's last fix used as its local reference.
    ttl_s
        Aircraft silent for longer than this are forgotten (memory bound).
    """

    name: ClassVar[str]

    def __init__(
        self,
        *,
        ref: tuple[float, float] | None = None,
        pair_window_s: float = 10.0,
        local_window_s: float = 30.0,
        ttl_s: float = 300.0,
    ) -> None:
        if ref is not None:
            lat, lon = float(ref[0]), float(ref[1])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"reference position out of range: {ref}")
            ref = (lat, lon)
        self.ref = ref
        self.pair_window_s = pair_window_s
        self.local_window_s = local_window_s
        self.ttl_s = ttl_s
        self.stats = DecodeStats()
        self.state = LastKnown(ttl_s=ttl_s)
        self._known: dict[str, float] = {}
        self._last_fix: dict[str, tuple[float, float, float]] = {}
        self._next_sweep = -np.inf

    def decode(self, frames: Sequence[str], times: npt.ArrayLike) -> pd.DataFrame:
        """Decode hex frames received at ``times`` (unix s) into an observation batch.

        Frames that are not 14 or 28 hex digits are counted as ``invalid``;
        frames the library rejects (CRC, unknown address) as ``rejected``.
        """
        t = np.asarray(times, dtype="float64")
        if len(t) != len(frames):
            raise ValueError("frames and times must have the same length")
        self.stats.frames += len(frames)
        if not _all_frames(frames):
            ok = [bool(_HEX_FRAME.fullmatch(f)) for f in frames]
            self.stats.invalid += ok.count(False)
            frames = [f for f, k in zip(frames, ok, strict=True) if k]
            t = t[np.asarray(ok, dtype=bool)]
        messages = (self._decode_messages(list(frames), t.tolist()) if frames
                    else empty_messages())
        self.stats.messages += len(messages["time"])
        obs = self.state.apply(messages)
        self.stats.rejected += self.state.pop_implausible()  # implausible values, counted
        self.stats.positions += len(obs)
        if len(t):
            self._sweep(float(t.max()))
        return obs

    @abstractmethod
    def _decode_messages(self, frames: list[str], times: list[float]) -> Messages:
        """Decode valid frames into a message table (SI units), in frame order."""

    def _accept(self, df: int, icao: str, t: float) -> bool:
        """Whether a message's address can be trusted; remembers trusted addresses."""
        if df in _TRUSTED_DF:
            self._known[icao] = t
            return True
        if icao in self._known:
            return True
        self.stats.rejected += 1
        return False

    def _anchor(self, icao: str, t: float) -> tuple[float, float] | None:
        """Reference for local CPR decoding: the aircraft's recent fix, else ``ref``."""
        fix = self._last_fix.get(icao)
        if fix is not None and abs(t - fix[2]) <= self.local_window_s:
            return fix[0], fix[1]
        return self.ref

    def _sweep(self, now: float) -> None:
        """Forget addresses and fixes older than ``ttl_s``."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + max(self.ttl_s / 10.0, 1.0)
        horizon = now - self.ttl_s
        self._known = {k: v for k, v in self._known.items() if v >= horizon}
        self._last_fix = {k: v for k, v in self._last_fix.items() if v[2] >= horizon}
        self._forget(horizon)

    def _forget(self, horizon: float) -> None:  # noqa: B027 - optional hook, no-op by default
        """Backend hook: drop backend state older than ``horizon``."""


def _num(value: Any) -> float:
    return _NAN if value is None else float(value)


def _rows_to_messages(rows: list[_Row]) -> Messages:
    """Message rows (air units) to a message table (SI), columnar."""
    if not rows:
        return empty_messages()
    cols = list(zip(*rows, strict=True))

    def arr(i: int, factor: float = 1.0) -> npt.NDArray[np.float64]:
        return np.asarray(cols[i], dtype="float64") * factor

    return {
        "time": arr(0),
        "icao24": np.asarray(cols[1], dtype=object),
        "lat": arr(2),
        "lon": arr(3),
        "altitude": arr(4, FT),
        "velocity": arr(5, KT),
        "heading": arr(6),
        "vertrate": arr(7, FPM),
        "callsign": np.asarray(cols[8], dtype=object),
        "squawk": np.asarray(cols[9], dtype=object),
        "onground": arr(10),
    }


def _clean_callsign(value: Any) -> str | None:
    if not value:
        return None
    text = str(value).strip().rstrip("_#").strip()
    return text or None


def _row(
    m: Any, df: int, bds: str, icao: str, t: float, ident_callsign: Any,
    position: Callable[[], tuple[float, float]],
) -> _Row:
    """One decoded message as an observation row, whichever backend decoded it.

    ``bds`` is the register as two digits (``"05"``); ``ident_callsign`` the callsign
    of a Comm-B identification reply (BDS 2,0); ``position`` decodes the CPR position.
    """
    lat = lon = _NAN
    alt = spd = trk = vr = onground = _NAN
    callsign = squawk = None
    if df in (17, 18):
        if bds in ("05", "06"):
            onground = 1.0 if bds == "06" else 0.0
            lat, lon = position()
            alt = _num(m.get("altitude"))
            if bds == "06":
                spd, trk = _num(m.get("groundspeed")), _num(m.get("track"))
        elif bds == "09":
            spd, trk = _num(m.get("groundspeed")), _num(m.get("track"))
            vr = _num(m.get("vertical_rate"))
        elif bds == "08":
            callsign = _clean_callsign(m.get("callsign"))
    else:
        alt = _num(m.get("altitude"))
        squawk = m.get("squawk")
        if ident_callsign is not None:
            callsign = _clean_callsign(ident_callsign)
    return (t, icao, lat, lon, alt, spd, trk, vr, callsign, squawk, onground)


def _all_frames(frames: Sequence[str]) -> bool:
    """Whether every item is a frame of 14 or 28 hex digits: one scan of them all, the
    common case; a batch with any other item is checked frame by frame.

    >>> _all_frames(["5d3c66e6c6ad01", "8d3c66e699086a919838884331c7"]), _all_frames([])
    (True, True)
    >>> _all_frames(["5d3c66e6c6ad0", "1"]), _all_frames(["5d3c66e6c6ad0g"])
    (False, False)
    """
    return (set(map(len, frames)) <= {14, 28}
            and _HEX_DIGITS.fullmatch("".join(frames)) is not None)


@cache
def _cores() -> int:
    return os.cpu_count() or 1


def rust_batch(frames: int, cores: int | None = None) -> int:
    """Frames per part of one rs1090 call: the call parses its parts in parallel, one
    per core, and decodes positions after, in order, over all of them (the same
    messages whatever the split); parts under :data:`_MIN_RUST_BATCH` frames are not
    worth a thread. A batch of 1,000 frames on 2 cores: 0.68 -> 0.47 s per 57,793
    frames of rs1090's own time.

    >>> rust_batch(1000, 2), rust_batch(1001, 2), rust_batch(300, 2), rust_batch(0, 2)
    (500, 501, 300, 1)
    """
    per_core = -(-frames // max(1, cores or _cores()))
    return per_core if per_core >= _MIN_RUST_BATCH else max(frames, 1)


def _no_position() -> tuple[float, float]:  # pragma: no cover - never called
    """The position of a message that carries none (``_row`` asks only BDS 0,5 / 0,6)."""
    return _NAN, _NAN


def _df_number(value: Any) -> int | None:
    """The downlink format as a number, or None when the decoder gave a name.

    >>> _df_number("17"), _df_number(17), _df_number("ExtendedSquitterMilitary")
    (17, 17, None)
    """
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Rs1090Decoder(ModeSDecoder):
    """Backend on ``rs1090`` (Rust): one batch call per batch of frames."""

    name = "rs1090"

    def __init__(self, *, shorten_commb: bool = True, columnar_replies: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        import rs1090

        self._rs = rs1090
        #: Comm-B replies decoded as their short surveillance reply plus an
        #: identification (:mod:`skyfence.sources.commb`); False: rs1090 reads their
        #: every register (the reference the tests compare with)
        self.shorten_commb = shorten_commb
        #: DF0 / DF4 / DF5 replies read in columns (:mod:`skyfence.sources.short_replies`);
        #: False: rs1090 decodes them one dictionary each (the tests' reference)
        self.columnar_replies = columnar_replies
        #: icao -> {"even"|"odd": (frame, time)}: CPR frames kept to pair across batches
        self._cpr: dict[str, dict[str, tuple[str, float]]] = {}

    def _decode_messages(self, frames: list[str], times: list[float]) -> Messages:
        idents: dict[int, str] | None = None
        if self.shorten_commb:
            frames, idents = shorten_commb(frames, self._rs.decode_bds20)
        if not self.columnar_replies:
            rows, _ = self._rust_rows(frames, times, idents)
            return _rows_to_messages(rows)
        if idents is None:  # rs1090 gives frames back in lower case: matched to these
            frames = [f.lower() for f in frames]
        replies = short_replies(frames)
        rest = np.ones(len(frames), dtype=bool)
        rest[replies["at"]] = False
        index = np.flatnonzero(rest).tolist()
        trusted_at: dict[str, int] = {}
        rows, rows_at = self._rust_rows([frames[i] for i in index], [times[i] for i in index],
                                        idents, index, trusted_at)
        read, read_at = self._read_replies(replies, np.asarray(times), idents or {},
                                           trusted_at)
        decoded = _rows_to_messages(rows)
        if not len(read_at):
            return decoded
        order = np.argsort(np.concatenate([np.asarray(rows_at, dtype=np.intp), read_at]),
                           kind="stable")
        return {c: np.concatenate([decoded[c], read[c]])[order] for c in decoded}

    def _rust_rows(
        self, frames: list[str], times: list[float], idents: dict[int, str] | None,
        index: list[int] | None = None, trusted_at: dict[str, int] | None = None,
    ) -> tuple[list[_Row], list[int]]:
        """rs1090's messages of ``frames`` as rows, and the batch index of each row's
        frame when ``idents`` (identifications by batch index) or ``index`` (the batch
        index of each frame) is given. ``trusted_at`` gets the batch index at which
        each address not known before was first trusted."""
        decoded: list[Any] = self._rs.decode(frames, times, reference=self.ref,
                                             batch=rust_batch(len(frames)))
        self.stats.rejected += len(frames) - len(decoded)
        rows: list[_Row] = []
        rows_at: list[int] = []
        known = self._known
        at = 0  # the frame each message came from: in order, rejected frames left out
        batch_at = -1
        where = idents is not None or index is not None
        for m in decoded:
            if where:
                while frames[at] != m["frame"] or times[at] != m["timestamp"]:
                    at += 1
                batch_at = at if index is None else index[at]
                at += 1
            icao = m.get("icao24")
            df = _DF_NUMBERS.get(m.get("df"))
            if df is None:
                df = _df_number(m.get("df"))
                if df is None:  # rs1090 names some formats instead (DF19 military squitter)
                    self.stats.rejected += 1
                    continue
            t = float(m["timestamp"])
            if icao is None:
                continue
            if df in _TRUSTED_DF:  # as _accept, without a call per message
                if trusted_at is not None and icao not in known:
                    trusted_at[icao] = batch_at
                known[icao] = t
            elif icao not in known:
                self.stats.rejected += 1
                continue
            if where:
                rows_at.append(batch_at)
            if idents is not None:
                ident_callsign: Any = idents.get(batch_at)
            else:
                ident = m.get("bds20")
                ident_callsign = ident.get("callsign") if isinstance(ident, dict) else None
            bds = str(m.get("bds", ""))
            rows.append(_row(m, df, bds, icao, t, ident_callsign,
                             partial(self._position, m, icao, t)
                             if bds in _POSITION_BDS else _no_position))
        return rows, rows_at

    def _read_replies(
        self, replies: ShortReplies, times: npt.NDArray[np.float64], idents: dict[int, str],
        trusted_at: dict[str, int],
    ) -> tuple[Messages, npt.NDArray[np.intp]]:
        """The short replies whose address is trusted by the time they came, as a
        message table, and their batch indices; the rest are counted as rejected."""
        addresses, which = np.unique(replies["address"], return_inverse=True)
        names = np.array([f"{a:06x}" for a in addresses.tolist()], dtype=object)
        never = len(times)
        trusted_from = np.array([trusted_at.get(n, -1) if n in self._known else never
                                 for n in names.tolist()], dtype=np.intp)
        ok = trusted_from[which] < replies["at"]
        self.stats.rejected += int(len(ok) - ok.sum())
        at = replies["at"][ok]
        df = replies["df"][ok]
        code = replies["code"][ok]
        codes = reply_codes()
        n = len(at)
        nan = np.full(n, np.nan)  # shared: the table is joined to rs1090's (copied) next
        callsign = np.full(n, None, dtype=object)
        squawk = np.full(n, None, dtype=object)
        identity = df == 5
        squawk[identity] = codes.squawk[code[identity]]
        if idents:
            for k, i in enumerate(at.tolist()):
                if i in idents:
                    callsign[k] = _clean_callsign(idents[i])
        return {
            "time": times[at],
            "icao24": names[which[ok]],
            "lat": nan,
            "lon": nan,
            "altitude": np.where(identity, np.nan, codes.altitude_ft[code]) * FT,
            "velocity": nan,
            "heading": nan,
            "vertrate": nan,
            "callsign": callsign,
            "squawk": squawk,
            "onground": nan,
        }, at

    def _position(self, m: Any, icao: str, t: float) -> tuple[float, float]:
        """The message's position: the library's, else local, else a cross-batch pair."""
        parity = m.get("parity")
        frame = m["frame"]
        lat, lon = m.get("latitude"), m.get("longitude")
        if lat is None:
            anchor = self._anchor(icao, t)
            if anchor is not None:
                single: Any = self._rs.decode(frame, reference=anchor)
                lat, lon = single.get("latitude"), single.get("longitude")
            elif m.get("bds") == "05" and parity in ("even", "odd"):
                other = self._cpr.get(icao, {}).get("odd" if parity == "even" else "even")
                if other is not None and abs(t - other[1]) <= self.pair_window_s:
                    pair: list[Any] = self._rs.decode([other[0], frame], [other[1], t])
                    if pair and pair[-1].get("frame") == frame:
                        lat, lon = pair[-1].get("latitude"), pair[-1].get("longitude")
        if parity in ("even", "odd"):
            self._cpr.setdefault(icao, {})[parity] = (frame, t)
        if lat is None or lon is None:
            self.stats.unresolved += 1
            return _NAN, _NAN
        self._last_fix[icao] = (float(lat), float(lon), t)
        return float(lat), float(lon)

    def _forget(self, horizon: float) -> None:
        self._cpr = {k: v for k, v in self._cpr.items() if max(x[1] for x in v.values()) >= horizon}


class PyModeSDecoder(ModeSDecoder):
    """Backend on ``pyModeS`` (Python ``PipeDecoder``), one call per frame."""

    name = "pymodes"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            import pyModeS
            from pyModeS.position import airborne_position_pair
        except ImportError:
            from skyfence.errors import UsageError

            raise UsageError("the pyModeS decoder needs pyModeS, which is not installed: "
                             "pip install 'skyfence[feeds]' (rs1090, the default, is)") from None

        self._pms = pyModeS
        self._pair = airborne_position_pair
        #: icao -> {0 (even) | 1 (odd): (cpr_lat, cpr_lon, time)} of airborne frames
        self._cpr: dict[str, dict[int, tuple[int, int, float]]] = {}
        # no surface_ref here: the pipe would apply the receiver reference even to an
        # aircraft far away; surface frames are decoded locally in _position instead
        self._pipe = pyModeS.PipeDecoder(
            pair_window=self.pair_window_s,
            local_ref_window=self.local_window_s,
            eviction_ttl=self.ttl_s,
        )

    def _decode_messages(self, frames: list[str], times: list[float]) -> Messages:
        rows: list[_Row] = []
        pipe = self._pipe
        for frame, t in zip(frames, times, strict=True):
            m = pipe.decode(frame, timestamp=t)
            if "error" in m or m.get("crc_valid") is False:
                self.stats.rejected += 1
                continue
            df = m["df"]
            icao = str(m["icao"]).lower()
            if not self._accept(df, icao, t):
                continue
            bds = str(m.get("bds", "")).replace(",", "")  # pyModeS writes "0,5"
            ident_callsign = m.get("callsign") if bds == "20" else None
            rows.append(_row(m, df, bds, icao, t, ident_callsign,
                             partial(self._position, m, frame, icao, t)))
        return _rows_to_messages(rows)

    def _position(self, m: dict[str, Any], frame: str, icao: str, t: float) -> tuple[float, float]:
        """The pipe's position, else local against the anchor, else an even/odd pair.

        The pipe holds its first positions until three agree (phantom guard); the
        pair fallback places an aircraft at its first pair, as rs1090 does.
        """
        lat, lon = m.get("latitude"), m.get("longitude")
        airborne = m.get("bds") == "0,5"
        parity = m.get("cpr_format")
        if lat is None:
            anchor = self._anchor(icao, t)
            if anchor is not None:
                if airborne:
                    single = self._pms.decode(frame, reference=anchor)
                else:
                    single = self._pms.decode(frame, surface_ref=anchor)
                lat, lon = single.get("latitude"), single.get("longitude")
            elif airborne and parity in (0, 1):
                other = self._cpr.get(icao, {}).get(1 - parity)
                if other is not None and abs(t - other[2]) <= self.pair_window_s:
                    mine = (m["cpr_lat"], m["cpr_lon"])
                    even, odd = (mine, other[:2]) if parity == 0 else (other[:2], mine)
                    found = self._pair(*even, *odd, even_is_newer=parity == 0)
                    if found is not None:
                        lat, lon = found
        if airborne and parity in (0, 1):
            self._cpr.setdefault(icao, {})[parity] = (m["cpr_lat"], m["cpr_lon"], t)
        if lat is None or lon is None:
            self.stats.unresolved += 1
            return _NAN, _NAN
        self._last_fix[icao] = (float(lat), float(lon), t)
        return float(lat), float(lon)

    def _forget(self, horizon: float) -> None:
        self._cpr = {k: v for k, v in self._cpr.items() if max(x[2] for x in v.values()) >= horizon}


DECODERS: dict[str, type[ModeSDecoder]] = {
    Rs1090Decoder.name: Rs1090Decoder,
    PyModeSDecoder.name: PyModeSDecoder,
}


def make_decoder(
    name: str | None = None, *, ref: tuple[float, float] | None = None, **kwargs: Any
) -> ModeSDecoder:
    """A decoder by backend name (``"rs1090"``, ``"pymodes"``; None = the default).

    Examples
    --------
    >>> dec = make_decoder(ref=(52.3, 4.8))
    >>> obs = dec.decode(["8D40621D58C382D690C8AC2863A7"], [0.0])
    >>> round(float(obs.lat[0]), 3), round(float(obs.lon[0]), 3)
    (52.257, 3.919)
    """
    key = (name or DEFAULT_DECODER).lower()
    if key not in DECODERS:
        raise ValueError(f"unknown Mode S decoder {name!r}; choose from {sorted(DECODERS)}")
    return DECODERS[key](ref=ref, **kwargs)
