"""Recorded files of SBS text, Beast binary and raw hex Mode S frames, as observation batches.

Each reader yields batches as it reads (a file of any size is read in chunks) and keeps
its counters (:class:`~skyfence.sources.feed_stats.FeedStats`) and the errors of what it
skipped. Bad input goes to an :class:`~skyfence.errors.ErrorPolicy`: with
``on_error="abort"`` the first bad line or frame raises :class:`InputError` naming the
file, the line or record, and the field; with ``"skip"`` it is counted, kept and logged.

Times: the readers use each format's own time when present (SBS date/time, ``TIME,HEX``
and JSON lines); Beast and ``@``/``<`` raw files are timed by their 12 MHz MLAT counter
from ``start`` (default: the file's modification time), and plain ``*HEX;`` lines, which
carry no time at all, all get ``start``.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd

from skyfence.errors import ErrorPolicy, InputError, OnError
from skyfence.sources._frames import LineSplitter, TickClock
from skyfence.sources.beast import BeastFramer
from skyfence.sources.feed_stats import FeedStats
from skyfence.sources.modes import ModeSDecoder, make_decoder
from skyfence.sources.rawhex import RawHexParser
from skyfence.sources.sbs import SbsParser

__all__ = ["SourceReader", "read_beast_file", "read_raw_file", "read_sbs_file"]

log = logging.getLogger(__name__)


class SourceReader(Iterator[pd.DataFrame]):
    """Observation batches read from a file, with the counters and what was skipped."""

    def __init__(
        self, batches: Iterator[pd.DataFrame], stats: FeedStats, policy: ErrorPolicy
    ) -> None:
        self._it = batches
        self.stats = stats
        self.policy = policy

    @property
    def errors(self) -> list[InputError]:
        """The errors of the lines or frames skipped (``on_error="skip"``)."""
        return self.policy.errors

    def __next__(self) -> pd.DataFrame:
        return next(self._it)


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _start_time(path: Path, start: float | None) -> float:
    return float(start) if start is not None else os.path.getmtime(path)


def _read_lines(path: Path, chunk_bytes: int) -> Iterator[tuple[int, list[str]]]:
    """(number of the first line, lines) chunks of a text file."""
    splitter = LineSplitter(max_line=1 << 20)
    number = 1
    with _open_binary(path) as fh:
        while chunk := fh.read(chunk_bytes):
            lines = splitter.feed(chunk)
            if lines:
                yield number, lines
                number += len(lines)
        tail = splitter.flush()
        if tail:
            yield number, tail


def read_sbs_file(
    path: str | os.PathLike[str],
    *,
    on_error: OnError = "abort",
    tz: str = "UTC",
    chunk_bytes: int = 8 << 20,
) -> SourceReader:
    """Observation batches from an SBS-1 / BaseStation text file (optionally ``.gz``).

    With ``on_error="abort"`` the first bad line raises :class:`InputError` (file,
    line, field); with ``"skip"`` bad lines are counted, logged and kept in ``errors``.
    """
    p = Path(path)
    stats = FeedStats()
    parser = SbsParser(source=str(p), on_error=on_error, tz=tz)

    def batches() -> Iterator[pd.DataFrame]:
        for first, lines in _read_lines(p, chunk_bytes):
            obs = parser.parse_lines(lines, first_line=first)
            stats.lines, stats.malformed = parser.stats.lines, parser.stats.malformed
            stats.messages, stats.positions = parser.stats.messages, parser.stats.positions
            stats.batches += 1
            yield obs

    return SourceReader(batches(), stats, parser.policy)


def read_raw_file(
    path: str | os.PathLike[str],
    *,
    ref: tuple[float, float] | None = None,
    decoder: str | ModeSDecoder | None = None,
    start: float | None = None,
    on_error: OnError = "abort",
    chunk_bytes: int = 4 << 20,
) -> SourceReader:
    """Observation batches from a file of raw hex frames (see :mod:`.rawhex` for lines).

    Frames are timed by their own time (``TIME,HEX``, JSON lines), else by their
    MLAT counter from ``start``, else at ``start`` (default: file modification time).
    """
    p = Path(path)
    stats = FeedStats()
    parser = RawHexParser(source=str(p), on_error=on_error)
    dec = decoder if isinstance(decoder, ModeSDecoder) else make_decoder(decoder, ref=ref)
    clock = TickClock(_start_time(p, start))

    def batches() -> Iterator[pd.DataFrame]:
        for first, lines in _read_lines(p, chunk_bytes):
            frames = parser.parse_lines(lines, first_line=first)
            obs = dec.decode(frames.hex, clock.times(frames))
            stats.lines, stats.frames = parser.stats.lines, parser.stats.frames
            stats.malformed = parser.stats.malformed + dec.stats.invalid
            stats.messages, stats.positions = dec.stats.messages, dec.stats.positions
            stats.batches += 1
            yield obs

    return SourceReader(batches(), stats, parser.policy)


def read_beast_file(
    path: str | os.PathLike[str],
    *,
    ref: tuple[float, float] | None = None,
    decoder: str | ModeSDecoder | None = None,
    start: float | None = None,
    on_error: OnError = "abort",
    chunk_bytes: int = 4 << 20,
) -> SourceReader:
    """Observation batches from a Beast binary capture (e.g. ``nc host 30005 > f.bin``).

    Frames are timed by their 12 MHz MLAT counter from ``start`` (default: the
    file's modification time). Malformed data raises :class:`InputError` naming the
    file and the record (frame) number with ``on_error="abort"``; with ``"skip"`` it is
    counted in ``stats.malformed``, and its first place and a truncated last frame are
    kept in ``errors`` and logged.
    """
    p = Path(path)
    stats = FeedStats()
    framer = BeastFramer()
    policy = ErrorPolicy(on_error, logger=log)
    dec = decoder if isinstance(decoder, ModeSDecoder) else make_decoder(decoder, ref=ref)
    clock = TickClock(_start_time(p, start))

    def batches() -> Iterator[pd.DataFrame]:
        with _open_binary(p) as fh:
            while chunk := fh.read(chunk_bytes):
                frames = framer.feed(chunk)
                if framer.stats.malformed and not policy.errors:
                    policy.reject(InputError(
                        f"malformed Beast data at byte {framer.stats.first_malformed_at}",
                        file=str(p),
                        row=framer.stats.first_malformed_record,
                        field="frame",
                    ))
                obs = dec.decode(frames.hex, clock.times(frames))
                stats.bytes, stats.frames = framer.stats.bytes, framer.stats.frames
                stats.malformed = framer.stats.malformed + dec.stats.invalid
                stats.messages, stats.positions = dec.stats.messages, dec.stats.positions
                stats.batches += 1
                yield obs
        if framer.pending:
            stats.malformed += 1
            policy.reject(InputError(
                "truncated last frame", file=str(p), row=stats.frames + 1, field="frame"
            ))

    return SourceReader(batches(), stats, policy)
