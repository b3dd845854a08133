"""Beast binary frames (dump1090 port 30005), read incrementally from a byte stream.

A frame is ``0x1a``, a type byte, a 6-byte MLAT timestamp (12 MHz counter), one
signal byte and the message: type ``'1'`` Mode A/C (2 bytes), ``'2'`` Mode S
short (7 bytes), ``'3'`` Mode S long (14 bytes). Every ``0x1a`` byte after the
type is sent twice. Frames may be split anywhere between reads: the framer keeps
the unfinished frame for the next :meth:`BeastFramer.feed`. Bytes that do not
form a frame (unknown type, a frame cut short by the next one, noise between
frames) are skipped up to the next ``0x1a`` and counted in ``malformed``.
"""

from __future__ import annotations

from dataclasses import dataclass

from skyfence.sources._frames import Frames

ESC = 0x1A
#: Beast type byte -> message length in bytes.
MESSAGE_BYTES = {0x31: 2, 0x32: 7, 0x33: 14}
_HEADER = 7  # timestamp (6) + signal (1)
#: Buffer kept at most while waiting for the end of a frame (the longest, a long frame
#: whose 21 body bytes are all escaped: 44).
_MAX_PENDING = 64


@dataclass
class BeastStats:
    """Counters of one Beast stream."""

    bytes: int = 0
    frames: int = 0
    mode_ac: int = 0
    malformed: int = 0
    #: byte offset (from the first byte fed) of the first malformed data, if any
    first_malformed_at: int | None = None
    #: 1-based number of the frame (record) being read there
    first_malformed_record: int | None = None


class BeastFramer:
    """Incremental Beast parser: ``feed(bytes)`` returns the Mode S frames completed.

    Examples
    --------
    >>> f = BeastFramer()
    >>> data = bytes.fromhex("1a33000000000001ff8d4840d6202cc371c32ce0576098")
    >>> f.feed(data[:10]).hex, f.feed(data[10:]).hex
    ([], ['8d4840d6202cc371c32ce0576098'])
    """

    def __init__(self) -> None:
        self.stats = BeastStats()
        self._buf = b""

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame waiting for the next read."""
        return len(self._buf)

    def reset(self) -> None:
        """Drop an unfinished frame (its connection is gone)."""
        self._buf = b""

    def feed(self, data: bytes) -> Frames:
        """Parse ``data`` after whatever was left over; return the complete frames."""
        self.stats.bytes += len(data)
        base = self.stats.bytes - len(data) - len(self._buf)
        buf = self._buf + data if self._buf else bytes(data)
        n = len(buf)
        out = Frames()
        i = 0
        while i < n:
            j = buf.find(ESC, i)
            if j < 0:
                self._bad(base + i)  # noise without a frame start
                i = n
                break
            if j > i:
                self._bad(base + i)  # noise between frames
            if j + 1 >= n:
                i = j
                break
            kind = buf[j + 1]
            size = MESSAGE_BYTES.get(kind)
            if size is None:
                if kind == ESC:  # an escaped data byte outside a frame
                    i = j + 2
                    continue
                self._bad(base + j)  # unknown type: skip to the next frame start
                nxt = buf.find(ESC, j + 1)
                i = n if nxt < 0 else nxt
                continue
            need = _HEADER + size
            start = j + 2
            body = buf[start : start + need]
            if ESC not in body:
                if len(body) < need:
                    i = j
                    break
                end = start + need
            else:
                body, end = self._unescape(buf, start, need)
                if end == -1:  # incomplete
                    i = j
                    break
                if end < 0:  # cut short by the next frame: resync there
                    self._bad(base + j)
                    i = -end
                    continue
            i = end
            if kind == 0x31:
                self.stats.mode_ac += 1
                continue
            self.stats.frames += 1
            out.hex.append(body[_HEADER:].hex())
            out.ticks.append(int.from_bytes(body[:6], "big"))
            out.signal.append(body[6])
            out.times.append(float("nan"))
        rest = buf[i:]
        if len(rest) > _MAX_PENDING:
            self._bad(base + i)
            rest = b""
        self._buf = rest
        return out

    def _bad(self, offset: int) -> None:
        self.stats.malformed += 1
        if self.stats.first_malformed_at is None:
            self.stats.first_malformed_at = offset
            self.stats.first_malformed_record = self.stats.frames + self.stats.mode_ac + 1

    @staticmethod
    def _unescape(buf: bytes, k: int, need: int) -> tuple[bytes, int]:
        """Read ``need`` unescaped bytes from ``k``.

        Returns the bytes and the end offset; end is -1 when the data stops early,
        or minus the offset of a lone ``0x1a`` (a new frame) that cut this one.
        """
        n = len(buf)
        body = bytearray()
        while len(body) < need:
            if k >= n:
                return b"", -1
            b = buf[k]
            if b == ESC:
                if k + 1 >= n:
                    return b"", -1
                if buf[k + 1] != ESC:
                    return b"", -k
                k += 2
            else:
                k += 1
            body.append(b)
        return bytes(body), k
