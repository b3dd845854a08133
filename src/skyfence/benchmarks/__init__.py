"""Benchmarks behind ``skyfence bench NAME``: each module has ``run(json) -> dict``.

Every figure is measured against a baseline on the same data in the same run; the
record carries both and their ratio (see the contract's "Benchmarks out").
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAMES = ("lookup", "scan", "latency", "decode", "track", "memory", "serve")


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Cores and CPU model, for the ``machine`` field."""
    return {"cores": os.cpu_count(), "cpu": cpu_model()}


def best_of(repeat: int, func: Callable[[], Any]) -> float:
    """The shortest wall time of ``repeat`` calls, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def record(name: str, ours_per_s: float, baselines: dict[str, float], points: int,
           **extra: Any) -> dict[str, Any]:
    """A benchmark record in the contract's shape."""
    return {
        "name": name,
        "ours_per_s": round(ours_per_s, 1),
        "baselines": {k: round(v, 1) for k, v in baselines.items()},
        "ratios": {k: round(ours_per_s / v, 2) if v else None for k, v in baselines.items()},
        "points": points,
        "machine": machine(),
        **extra,
    }


def render(rec: dict[str, Any]) -> str:
    """A benchmark record as a small table for the terminal."""
    lines = [f"benchmark {rec['name']} on {rec['points']:,} points "
             f"({rec['machine']['cores']} cores, {rec['machine']['cpu']})"]
    unit = rec.get("unit", "per second")
    lines.append(f"  {'ours':28} {rec['ours_per_s']:>16,.1f} {unit}")
    for k, v in rec["baselines"].items():
        ratio = rec["ratios"].get(k)
        r = f"ours is {ratio:,.2f}x" if ratio is not None else ""
        lines.append(f"  {k:28} {v:>16,.1f}   {r}")
    for k, v in rec.items():
        if k in ("name", "ours_per_s", "baselines", "ratios", "points", "machine", "unit"):
            continue
        lines.append(f"  {k}: {v}")
    return "\n".join(lines)
