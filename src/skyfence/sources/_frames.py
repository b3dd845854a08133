"""What the framers share: a batch of raw Mode S frames, line splitting, MLAT clocks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

#: Beast / AVR MLAT timestamps count a 12 MHz clock (dump1090, readsb).
MLAT_CLOCK_HZ = 12_000_000.0


@dataclass
class Frames:
    """Raw Mode S frames in arrival order.

    ``ticks`` is the 48-bit MLAT counter (-1 when the format has none), ``times`` an
    absolute unix time carried by the line itself (NaN when none), ``signal`` the
    Beast signal level (-1 when none).
    """

    hex: list[str] = field(default_factory=list)
    ticks: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    signal: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.hex)

    def extend(self, other: Frames) -> None:
        """Append another batch of frames."""
        self.hex.extend(other.hex)
        self.ticks.extend(other.ticks)
        self.times.extend(other.times)
        self.signal.extend(other.signal)

    def clear(self) -> None:
        """Forget every frame."""
        self.hex.clear()
        self.ticks.clear()
        self.times.clear()
        self.signal.clear()


class TickClock:
    """Turns MLAT ticks into unix seconds: ``start`` at the first tick seen.

    Frames without ticks (or with the counter at zero, which dump1090 sends for
    frames it did not receive over the air) take the time of the previous frame.
    """

    def __init__(self, start: float, clock_hz: float = MLAT_CLOCK_HZ) -> None:
        self.start = start
        self.clock_hz = clock_hz
        self._first: int | None = None
        self._last = start

    def times(self, frames: Frames) -> npt.NDArray[np.float64]:
        """Unix seconds of each frame: its own time, else from ticks, else the previous."""
        out = np.empty(len(frames), dtype="float64")
        for i, (own, ticks) in enumerate(zip(frames.times, frames.ticks, strict=True)):
            if own == own:  # not NaN
                self._last = own
            elif ticks > 0:
                if self._first is None:
                    self._first = ticks
                self._last = self.start + (ticks - self._first) / self.clock_hz
            out[i] = self._last
        return out


class LineSplitter:
    """Bytes in, complete text lines out; a partial last line waits for the next read.

    A line longer than ``max_line`` bytes is dropped and counted in ``overlong``.
    """

    def __init__(self, max_line: int = 4096) -> None:
        self.max_line = max_line
        self.overlong = 0
        self._tail = b""
        self._discarding = False

    def feed(self, data: bytes) -> list[str]:
        """Split ``data`` (appended to what was left over) into complete lines."""
        buf = self._tail + data
        parts = buf.split(b"\n")
        self._tail = parts.pop()
        if self._discarding and parts:
            parts.pop(0)  # the end of an overlong line
            self._discarding = False
        if len(self._tail) > self.max_line:
            self.overlong += 1
            self._tail = b""
            self._discarding = True
        lines = []
        for p in parts:
            if len(p) > self.max_line:
                self.overlong += 1
                continue
            lines.append(p.decode("ascii", errors="replace").rstrip("\r"))
        return lines

    def flush(self) -> list[str]:
        """The pending partial line, if any (end of a file)."""
        tail, self._tail = self._tail, b""
        if self._discarding or not tail.strip():
            self._discarding = False
            return []
        return [tail.decode("ascii", errors="replace").rstrip("\r")]

    def reset(self) -> None:
        """Drop a partial line (the connection it came from is gone)."""
        self._tail = b""
        self._discarding = False
