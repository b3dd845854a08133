"""Counters of a live feed or a recorded file of SBS, Beast or raw hex frames."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FeedStats"]


@dataclass
class FeedStats:
    """Counters of a feed or file source (read them any time, from any thread)."""

    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    bytes: int = 0
    lines: int = 0
    frames: int = 0
    malformed: int = 0
    messages: int = 0
    positions: int = 0
    batches: int = 0
    #: connections given up after ``idle_s`` without a byte (stalled links)
    stalls: int = 0
    last_error: str | None = None
    #: a live feed: whether a connection is up now (always False for files)
    connected: bool = False
    #: failed connects since the last successful one (the current outage)
    failed_attempts: int = 0

    def summary(self) -> str:
        """One line for an operator.

        Examples
        --------
        >>> FeedStats(connect_failures=3, failed_attempts=3,
        ...           last_error="connect to h:1: refused").summary()  # doctest: +ELLIPSIS
        'not connected, 3 attempts, last error: connect to h:1: refused; 0 positions ...'
        """
        text = (
            f"{self.positions} positions from {self.messages} messages "
            f"({self.lines} lines, {self.frames} frames), {self.malformed} malformed dropped"
        )
        if self.connects or self.connect_failures:
            text += f", {self.reconnects} reconnects, {self.connect_failures} failed connects"
            if self.stalls:
                text += f", {self.stalls} stalls"
            if not self.connected:
                state = f"not connected, {self.failed_attempts} attempts"
                if self.last_error:
                    state += f", last error: {self.last_error}"
                text = f"{state}; {text}"
        return text
