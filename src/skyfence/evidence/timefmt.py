"""Times as a dossier writes them: ISO 8601 UTC with milliseconds, and readable forms.

>>> parse_iso("2025-09-19T06:31:02.640Z")
1758263462.64
>>> clock(1758263462.64)
'06:31:02.640'
>>> human_duration(703.878)
'11 min 43.9 s'
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["clock", "human_duration", "long_date", "now_iso", "parse_iso"]


def parse_iso(text: str) -> float:
    """``2025-09-19T06:31:02.640Z`` -> unix seconds (to the millisecond)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000) / 1000


def clock(t: float, ms: bool = True) -> str:
    """Time of day in UTC, ``HH:MM:SS.mmm`` (or ``HH:MM:SS``)."""
    total_ms = round(t * 1000)
    dt = datetime.fromtimestamp(total_ms // 1000, tz=UTC)
    return dt.strftime("%H:%M:%S") + (f".{total_ms % 1000:03d}" if ms else "")


def long_date(t: float) -> str:
    """``19 September 2025`` (UTC)."""
    dt = datetime.fromtimestamp(t, tz=UTC)
    return f"{dt.day} {dt.strftime('%B %Y')}"


def human_duration(s: float) -> str:
    """``11 min 43.9 s``, ``2 h 05 min``, ``42.0 s``."""
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{int(m)} min {sec:.1f} s"
    h, m = divmod(int(m), 60)
    return f"{h} h {m:02d} min"


def now_iso() -> str:
    """The current UTC time, ISO 8601 with milliseconds."""
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
