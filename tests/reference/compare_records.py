"""Compare skyfence's incident records with reference entries, field by field.

Tolerances come from the record's own resolution: times are written to the millisecond,
positions to 1e-6 degree and altitudes to 0.1 m (seen in skyfence's output: 1.25 m is
written 1.2), and a depth may differ by max(1 m, 0.1 %) (the contract gives no resolution;
the reference is exact to 1 cm).

Each field is asserted on a line of its own, so that Hypothesis tells the kinds of
disagreement apart and shrinks each separately.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pandas as pd

from reference.contract_ref import RefEntry, lon_delta

__all__ = ["ALT_TOL_M", "POINT_TOL_DEG", "TIME_TOL_S", "assert_same_entries", "found_entries"]

TIME_TOL_S = 1e-3 + 1e-6
POINT_TOL_DEG = 1e-6
ALT_TOL_M = 0.05 + 1e-9


def _seconds(ts: Any) -> float | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).value / 1e9


def found_entries(df: pd.DataFrame) -> list[dict[str, Any]]:
    """skyfence's records (a ``skyfence.scan`` DataFrame) in the reference's terms."""
    out = []
    for rec in df.to_dict("records"):
        out.append({
            "track": rec["track"], "zone": rec["zone"], "entered_at": _seconds(rec["entered_at"]),
            "entry_interpolated": bool(rec["entry_interpolated"]),
            "exited_at": _seconds(rec["exited_at"]),
            "last_inside_at": _seconds(rec["last_inside_at"]),
            "duration_s": float(rec["duration_s"]), "max_depth_m": float(rec["max_depth_m"]),
            "entry_point": rec["entry_point"], "exit_point": rec["exit_point"],
            "observations": int(rec["observations"]),
            "min_altitude_m": rec["min_altitude_m"], "max_altitude_m": rec["max_altitude_m"]})
    return sorted(out, key=lambda e: (e["track"], e["zone"], e["entered_at"]))


def _close_time(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TIME_TOL_S


def _close_point(a: dict[str, float] | None, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return (abs(a["lat"] - b["lat"]) <= POINT_TOL_DEG
            and abs(float(lon_delta(a["lon"], b["lon"]))) <= POINT_TOL_DEG)


def _close_alt(a: Any, b: float | None) -> bool:
    a = None if a is None or pd.isna(a) else float(a)
    if a is None or b is None:
        return a is None and b is None
    return bool(abs(a - b) <= ALT_TOL_M)


def _show(entries: Sequence[Any]) -> str:
    keys = ("track", "zone", "entered_at", "exited_at", "entry_interpolated", "observations",
            "last_inside_at", "max_depth_m", "entry_point", "exit_point")
    return "\n".join("  " + ", ".join(f"{k}={e[k]!r}" for k in keys) for e in entries) or "  -"


def assert_same_entries(found: pd.DataFrame, want: Sequence[RefEntry]) -> None:
    """Every (track, zone) has the same entries in skyfence's output as in the reference."""
    got = found_entries(found)
    both = f"\nskyfence:\n{_show(got)}\nreference:\n{_show(want)}"
    by_key: dict[tuple[str, str], tuple[list[Any], list[Any]]] = defaultdict(lambda: ([], []))
    for e in got:
        by_key[(e["track"], e["zone"])][0].append(e)
    for r in want:
        by_key[(r["track"], r["zone"])][1].append(r)
    for key, (g, w) in sorted(by_key.items()):
        assert len(g) == len(w), f"{key}: skyfence {len(g)} entries, reference {len(w)}{both}"
        for a, b in zip(g, w, strict=True):
            assert _close_time(a["entered_at"], b["entered_at"]), f"entered_at {key}{both}"
            assert a["entry_interpolated"] == b["entry_interpolated"], f"interpolated {key}{both}"
            assert _close_point(a["entry_point"], b["entry_point"]), f"entry_point {key}{both}"
            assert _close_time(a["exited_at"], b["exited_at"]), f"exited_at {key}{both}"
            assert _close_point(a["exit_point"], b["exit_point"]), f"exit_point {key}{both}"
            assert a["observations"] == b["observations"], f"observations {key}{both}"
            assert _close_time(a["last_inside_at"], b["last_inside_at"]), f"last_inside {key}{both}"
            assert abs(a["duration_s"] - b["duration_s"]) <= 2 * TIME_TOL_S, f"duration {key}{both}"
            assert abs(a["max_depth_m"] - b["max_depth_m"]) <= max(
                1.0, 1e-3 * b["max_depth_m"]), f"max_depth_m {key}{both}"
            assert _close_alt(a["min_altitude_m"], b["min_altitude_m"]), f"min_alt {key}{both}"
            assert _close_alt(a["max_altitude_m"], b["max_altitude_m"]), f"max_alt {key}{both}"
