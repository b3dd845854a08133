"""Events as readable lines, and as JSON Lines."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from skyfence.incidents.formats import jsonl_line

_STYLE = {"critical": "bold red", "warning": "yellow", "info": ""}


class JsonlSink:
    """One JSON object per line, flushed at once (tail -f friendly)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.out.write(jsonl_line(event) + "\n")
            self.out.flush()


class ConsoleSink:
    """A short coloured line per event for the duty operator."""

    def __init__(self, out: TextIO | None = None) -> None:
        from rich.console import Console

        self.console = Console(file=out or sys.stdout, highlight=False)

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        when = (event.get("exited_at") if kind == "exit" else
                event["step"]["escalated_at"] if kind == "escalation" else
                event.get("entered_at")) or ""
        depth = event.get("max_depth_m") or 0.0
        who = event["track"] + (f" {event['callsign']}" if event.get("callsign") else "")
        label = "ESCALATE" if kind == "escalation" else kind.upper()
        line = (f"{when[:23].replace('T', ' ')}  {label:8} {event['severity']:8} "
                f"{event['zone']:10} {who:18} depth {depth / 1000:6.2f} km")
        if kind in ("exit", "open"):
            line += f"  {event['duration_s'] / 60:5.1f} min"
        reasons = event.get("reasons") or []
        if kind == "escalation":  # an overdue protocol step of an unacknowledged incident
            line += f"  — overdue: {event['step']['step']} (incident {event['incident']['id']})"
        elif reasons and kind in ("entry", "approach", "exit"):
            line += f"  — {reasons[0]}"
        self.console.print(line, style=_STYLE.get(event["severity"], ""), soft_wrap=True)
