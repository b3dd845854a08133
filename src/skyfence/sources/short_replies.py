"""Short surveillance replies (DF0, DF4, DF5) read in columns, a batch at a time.

Seven in ten frames of a Mode S feed are short replies to a ground interrogation:
DF0 (short air-air surveillance) and DF4 (surveillance, altitude) carry a 13-bit
altitude code, DF5 (surveillance, identity) a 13-bit squawk code, each with the
address overlaid on the parity, and nothing else skyfence reads. rs1090 builds, pickles
and hands back a dictionary for each; here the batch's short replies are read with a
few array operations instead: the header and code from the frame's bits, the address
as the CRC-24 of the first 32 bits XORed with the parity
(:func:`~skyfence.sources.commb.overlaid_address`, as for Comm-B replies).

The codes' meanings are rs1090's own: :func:`reply_codes` asks rs1090 once per process
for each of the 8,192 altitude codes and the 8,192 identity codes and keeps its
answers as tables, so a reply read here says what rs1090 says of it (compared frame by
frame in ``tests/sources/test_short_replies.py``). A reply recorded as 112 bits (as some
receivers write every frame) is read by its first 56, as rs1090 reads it. Frames of
other formats are left to the decoder.

>>> frames = ["212800bf40f1ef", "8d4840d6202cc371c32ce0576098", "2928080069049e",
...           "0241011518c4f0eac0452dbb5a6a"]
>>> replies = short_replies(frames)
>>> replies["at"].tolist(), replies["df"].tolist(), {f"{a:06x}" for a in replies["address"]}
([0, 2, 3], [4, 5, 0], {'393322'})
>>> codes = reply_codes()
>>> float(codes.altitude_ft[replies["code"][0]]), codes.squawk[replies["code"][1]]
(575.0, '1000')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

from skyfence.sources.commb import overlaid_address

__all__ = ["ReplyCodes", "ShortReplies", "reply_codes", "short_replies"]

#: downlink formats read here: short air-air surveillance, altitude and identity replies
SHORT_FORMATS = (0, 4, 5)
#: hex digits of a 56-bit frame
SHORT_DIGITS = 14

#: value of each ASCII byte as a hex digit (frames are checked as hex before)
_NIBBLE = np.zeros(256, np.uint8)
for _digits in ("0123456789abcdef", "0123456789ABCDEF"):
    for _value, _char in enumerate(_digits):
        _NIBBLE[ord(_char)] = _value


class ShortReplies(TypedDict):
    """The short replies of a batch, in frame order, one entry each."""

    #: index of the reply's frame in the batch
    at: npt.NDArray[np.intp]
    #: downlink format: 0, 4 or 5
    df: npt.NDArray[np.uint8]
    #: the address recovered from the parity (24 bits)
    address: npt.NDArray[np.uint32]
    #: the 13-bit altitude code (DF0, DF4) or identity code (DF5)
    code: npt.NDArray[np.intp]


@dataclass(frozen=True)
class ReplyCodes:
    """rs1090's reading of every 13-bit code: altitude in feet (NaN where it gives
    none) and squawk (four octal digits as text)."""

    altitude_ft: npt.NDArray[np.float64]
    squawk: npt.NDArray[np.object_]


def short_replies(frames: Sequence[str]) -> ShortReplies:
    """The DF0, DF4 and DF5 frames among ``frames`` (hex text of 14 or 28 digits, either
    case, already checked), read in columns by their first 14 digits."""
    lengths = np.fromiter(map(len, frames), np.intp, len(frames))
    text = np.frombuffer("".join(frames).encode("ascii"), np.uint8)
    starts = np.cumsum(lengths) - lengths
    df = (_NIBBLE[text[starts]] << 4 | _NIBBLE[text[starts + 1]]) >> 3
    at = np.flatnonzero(np.isin(df, SHORT_FORMATS))
    digits = _NIBBLE[text[starts[at][:, None] + np.arange(SHORT_DIGITS)]]
    raw = digits[:, 0::2] << 4 | digits[:, 1::2]
    return {
        "at": at,
        "df": raw[:, 0] >> 3,
        "address": overlaid_address(raw),
        "code": (raw[:, 2].astype(np.intp) & 0x1F) << 8 | raw[:, 3],
    }


def _coded_frames(df: int) -> list[str]:
    """One frame of format ``df`` for each 13-bit code, in code order."""
    return [f"{(df << 51) | (code << 24):014x}" for code in range(1 << 13)]


@cache
def reply_codes() -> ReplyCodes:
    """rs1090's altitude for each altitude code and squawk for each identity code
    (about 20 ms, once per process)."""
    import rs1090

    def field(df: int, name: str) -> list[Any]:
        decoded: list[Any] = rs1090.decode(_coded_frames(df))
        if len(decoded) != 1 << 13:  # pragma: no cover - a release refusing codes
            raise RuntimeError(f"rs1090 refused some DF{df} replies")
        return [m.get(name) for m in decoded]

    altitude = np.array([np.nan if a is None else float(a) for a in field(4, "altitude")])
    squawk = np.array(field(5, "squawk"), dtype=object)
    return ReplyCodes(altitude_ft=altitude, squawk=squawk)
