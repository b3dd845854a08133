"""Raw hex Mode S frames (dump1090 port 30002, AVR format) and recorded frame files.

Accepted lines, one frame each:

- ``*8D4840D6202CC371C32CE0576098;`` AVR, no time;
- ``@0000000015A88D4840D6202CC371C32CE0576098;`` AVR with a 12-hex-digit MLAT
  timestamp (12 MHz counter) before the frame;
- ``<0000000015A8FF8D4840D6...;`` Beast-in-AVR: timestamp, signal byte, frame;
- recordings: ``TIME,HEX`` or ``TIME HEX`` (unix seconds) and JSON lines with a
  ``timestamp`` and a ``frame`` (or ``rawmsg``) key, as ``rs1090``/``jet1090`` write.

Empty lines and ``#`` comments are ignored; anything else is malformed: counted,
and for files reported as :class:`~skyfence.errors.InputError` with line and field.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from skyfence.errors import ErrorPolicy, InputError, OnError
from skyfence.sources._frames import Frames

_HEX = r"(?:[0-9A-Fa-f]{14}){1,2}"
_AVR = re.compile(rf"\*({_HEX});?")
_AVR_MLAT = re.compile(rf"@([0-9A-Fa-f]{{12}})({_HEX});?")
_AVR_BEAST = re.compile(rf"<([0-9A-Fa-f]{{12}})([0-9A-Fa-f]{{2}})({_HEX});?")
_TIMED = re.compile(rf"([0-9]+(?:\.[0-9]*)?)[,; \t]+\*?({_HEX});?")
_NAN = float("nan")
_MAX_KEPT_ERRORS = 100

log = logging.getLogger(__name__)


@dataclass
class RawStats:
    """Counters of one raw hex source."""

    lines: int = 0
    frames: int = 0
    ignored: int = 0
    malformed: int = 0


class RawHexParser:
    """Raw hex lines in, :class:`~skyfence.sources._frames.Frames` out.

    Examples
    --------
    >>> p = RawHexParser()
    >>> p.parse_lines(["*8D4840D6202CC371C32CE0576098;", "@0000000015A8" "5D3981E46DC8E0;"]).hex
    ['8d4840d6202cc371c32ce0576098', '5d3981e46dc8e0']
    """

    def __init__(self, *, source: str | None = None, on_error: OnError = "skip") -> None:
        self.source = source
        self.policy = ErrorPolicy(on_error, keep=_MAX_KEPT_ERRORS, logger=log)
        self.stats = RawStats()

    @property
    def errors(self) -> list[InputError]:
        """The first 100 errors of skipped lines."""
        return self.policy.errors

    def parse_lines(self, lines: Sequence[str], *, first_line: int = 1) -> Frames:
        """Parse lines into frames; ``first_line`` numbers ``lines[0]`` for errors."""
        out = Frames()
        self.stats.lines += len(lines)
        for number, raw in enumerate(lines, first_line):
            line = raw.strip()
            if not line or line.startswith("#"):
                self.stats.ignored += 1
                continue
            parsed = self._parse(line)
            if parsed is None:
                self._reject(number, line)
                continue
            frame, ticks, when, signal = parsed
            out.hex.append(frame.lower())
            out.ticks.append(ticks)
            out.times.append(when)
            out.signal.append(signal)
        self.stats.frames += len(out)
        return out

    @staticmethod
    def _parse(line: str) -> tuple[str, int, float, int] | None:
        head = line[0]
        if head == "*":
            m = _AVR.fullmatch(line)
            return (m.group(1), -1, _NAN, -1) if m else None
        if head == "@":
            m = _AVR_MLAT.fullmatch(line)
            return (m.group(2), int(m.group(1), 16), _NAN, -1) if m else None
        if head == "<":
            m = _AVR_BEAST.fullmatch(line)
            return (m.group(3), int(m.group(1), 16), _NAN, int(m.group(2), 16)) if m else None
        if head == "{":
            try:
                record = json.loads(line)
                frame = str(record.get("frame") or record.get("rawmsg") or "")
                when = float(record["timestamp"])
            except (ValueError, KeyError, TypeError, AttributeError):
                return None
            return (frame, -1, when, -1) if re.fullmatch(_HEX, frame) else None
        m = _TIMED.fullmatch(line)
        return (m.group(2), -1, float(m.group(1)), -1) if m else None

    def _reject(self, number: int, line: str) -> None:
        self.policy.reject(InputError(
            f"not a Mode S frame: {line[:40]!r}", file=self.source, row=number, field="frame"
        ))
        self.stats.malformed += 1
