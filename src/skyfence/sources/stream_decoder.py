"""A received byte stream of one format (SBS text, Beast binary, raw hex) as observations.

What a live client does with the bytes it reads, without the connection: split them
into lines or frames, keep them until a batch is due, decode them all at once, and
count what was read and dropped (:class:`~skyfence.sources.feed_stats.FeedStats`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from skyfence.errors import OnError
from skyfence.model import empty_observations
from skyfence.sources._frames import Frames, LineSplitter
from skyfence.sources.beast import BeastFramer
from skyfence.sources.feed_stats import FeedStats
from skyfence.sources.modes import ModeSDecoder
from skyfence.sources.rawhex import RawHexParser
from skyfence.sources.sbs import SbsParser

__all__ = ["FeedKind", "StreamDecoder"]

FeedKind = Literal["sbs", "beast", "raw"]


class StreamDecoder:
    """Bytes of one format -> pending items -> observations, with its counters.

    A live connection hands it what it received (:meth:`feed`) and takes the
    observations of everything pending when a batch is due (:meth:`flush`). Bad lines
    and frames are counted and skipped (``on_error="skip"``, a feed keeps going) or
    raise (``"abort"``). Lines are numbered from the start of the stream.
    """

    def __init__(
        self,
        kind: FeedKind,
        *,
        source: str,
        decoder: ModeSDecoder | None,
        tz: str,
        on_error: OnError = "skip",
    ) -> None:
        self.kind = kind
        self.lines = LineSplitter()
        self.beast = BeastFramer()
        self.sbs = SbsParser(source=source, tz=tz, on_error=on_error)
        self.raw = RawHexParser(source=source, on_error=on_error)
        self.decoder = decoder
        self._sbs_lines: list[str] = []
        self._sbs_arrival: list[float] = []
        self._frames = Frames()
        self._arrival: list[float] = []

    @property
    def pending(self) -> int:
        """Lines or frames received and not yet decoded."""
        return len(self._sbs_lines) + len(self._frames)

    def feed(self, data: bytes, now: float) -> None:
        """Take bytes received at ``now``."""
        if self.kind == "beast":
            frames = self.beast.feed(data)
        else:
            lines = self.lines.feed(data)
            if self.kind == "sbs":
                self._sbs_lines.extend(lines)
                self._sbs_arrival.append(now)
                return
            frames = self.raw.parse_lines(lines, first_line=self.raw.stats.lines + 1)
        self._frames.extend(frames)
        self._arrival.extend([now] * len(frames))

    def flush(self) -> pd.DataFrame:
        """Decode everything pending into one observation batch."""
        if self._sbs_lines:
            lines, self._sbs_lines = self._sbs_lines, []
            arrival = self._sbs_arrival[-1]
            self._sbs_arrival = []
            first = self.sbs.stats.lines + 1
            return self.sbs.parse_lines(lines, first_line=first, arrival_time=arrival)
        if len(self._frames):
            assert self.decoder is not None
            obs = self.decoder.decode(self._frames.hex, np.asarray(self._arrival))
            self._frames = Frames()
            self._arrival = []
            return obs
        return empty_observations()

    def reset(self) -> None:
        """Drop partial data of a connection that is gone."""
        self.lines.reset()
        self.beast.reset()

    def update(self, stats: FeedStats) -> None:
        """Copy the counters into ``stats``."""
        stats.lines = self.sbs.stats.lines + self.raw.stats.lines
        stats.frames = self.beast.stats.frames + self.raw.stats.frames
        stats.malformed = (
            self.lines.overlong
            + self.sbs.stats.malformed
            + self.raw.stats.malformed
            + self.beast.stats.malformed
        )
        stats.messages = self.sbs.stats.messages
        stats.positions = self.sbs.stats.positions
        if self.decoder is not None:
            stats.malformed += self.decoder.stats.invalid
            stats.messages += self.decoder.stats.messages
            stats.positions += self.decoder.stats.positions
