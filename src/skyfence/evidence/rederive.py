"""Re-derive a dossier's claim: run skyfence's own scan on the dossier's observations
and boundary and compare the figures with the claim.

The zone comes from ``zone.geojson`` in the dossier (not from the bundled data), the
policy from ``policy.yaml`` with the claim's watched states, the track gap from the
claim. The scan is :func:`skyfence.scanning.engine.scan_files`, the one ``skyfence
scan`` runs. Tolerances are the claim's (1 ms for times and duration, 0.1 m for depth,
1e-6 degree for points); counts, ids and verdicts must be equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skyfence.errors import SkyfenceError
from skyfence.evidence.claim import TOLERANCES, PolicySnapshot
from skyfence.evidence.observations import OBS_COLUMN_MAP, read_dossier_observations
from skyfence.evidence.timefmt import parse_iso
from skyfence.evidence.zonefile import read_zone_geojson

__all__ = ["Comparison", "rederive"]


@dataclass(frozen=True)
class Comparison:
    """One re-derived field: claimed value, re-derived value, whether they agree."""

    field: str
    claimed: Any
    derived: Any
    ok: bool
    tolerance: str = "equal"

    def describe(self) -> str:
        """``field: claimed X, re-derived Y (tolerance T)``."""
        return (f"claim.json: incident.{self.field}: claimed {self.claimed!r}, re-derived "
                f"{self.derived!r} (tolerance {self.tolerance})")


def _time_cmp(name: str, a: str | None, b: str | None, tol: float) -> Comparison:
    if a is None or b is None:
        return Comparison(name, a, b, a == b, "equal")
    return Comparison(name, a, b, abs(parse_iso(a) - parse_iso(b)) <= tol + 1e-9,
                      f"{tol * 1000:g} ms")


def _num_cmp(name: str, a: Any, b: Any, tol: float, unit: str) -> Comparison:
    ok = (a is None and b is None) or (
        a is not None and b is not None and abs(float(a) - float(b)) <= tol + 1e-9)
    return Comparison(name, a, b, ok, f"{tol:g} {unit}")


def _point_cmp(name: str, a: dict[str, float] | None, b: dict[str, float] | None,
               tol: float) -> Comparison:
    ok = (a is None and b is None) or (
        a is not None and b is not None
        and abs(a["lat"] - b["lat"]) <= tol + 1e-12 and abs(a["lon"] - b["lon"]) <= tol + 1e-12)
    return Comparison(name, a, b, ok, f"{tol:g} deg")


def compare_records(claimed: Mapping[str, Any], derived: Mapping[str, Any],
                    tol: dict[str, float] | None = None) -> list[Comparison]:
    """Field by field comparison of a claimed record and a re-derived one."""
    t = {**TOLERANCES, **(tol or {})}
    out = [
        _time_cmp("entered_at", claimed["entered_at"], derived["entered_at"], t["time_s"]),
        _time_cmp("exited_at", claimed["exited_at"], derived["exited_at"], t["time_s"]),
        _time_cmp("last_inside_at", claimed["last_inside_at"], derived["last_inside_at"],
                  t["time_s"]),
        _num_cmp("duration_s", claimed["duration_s"], derived["duration_s"], t["duration_s"],
                 "s"),
        _num_cmp("max_depth_m", claimed["max_depth_m"], derived["max_depth_m"], t["depth_m"],
                 "m"),
        _point_cmp("entry_point", claimed["entry_point"], derived["entry_point"],
                   t["position_deg"]),
        _point_cmp("exit_point", claimed["exit_point"], derived["exit_point"],
                   t["position_deg"]),
    ]
    for name in ("id", "zone", "track", "entry_interpolated", "observations", "violation",
                 "severity"):
        out.append(Comparison(name, claimed.get(name), derived.get(name),
                              claimed.get(name) == derived.get(name)))
    return out


def _same_observations(d: Path) -> str | None:
    """None when observations.csv holds exactly the rows of observations.parquet."""
    try:
        a = read_dossier_observations(d / "observations.parquet")
        b = read_dossier_observations(d / "observations.csv")
    except Exception as exc:  # unreadable files: reported, not raised
        return f"observations: cannot read ({type(exc).__name__}: {exc})"
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return (f"observations.csv has {len(b)} rows / columns {list(b.columns)[:4]}..., "
                f"observations.parquet {len(a)} rows")
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind == "f":
            same = np.array_equal(x, y.astype(float), equal_nan=True)
        else:
            same = bool(np.all([(u == v) or (u is None and v is None) or
                                (u != u and v != v) for u, v in zip(x, y, strict=True)]))
        if not same:
            return f"observations.csv differs from observations.parquet in column '{c}'"
    return None


def rederive(d: Path, claim: dict[str, Any]) -> tuple[Mapping[str, Any] | None, list[Comparison],
                                                      list[str]]:
    """Scan the dossier in ``d`` again: (re-derived record, comparisons, problems)."""
    from skyfence.scanning.engine import ScanOptions, scan_files
    from skyfence.sources.tabular import ColumnMap

    problems = []
    claimed = claim["incident"]
    try:
        zone = read_zone_geojson(d / "zone.geojson")
        text = (d / "policy.yaml").read_text(encoding="utf-8")
        policy = PolicySnapshot("", "policy.yaml", text,
                                tuple(claim["policy"]["watch_states"])).to_policy()
        opts = ScanOptions(zones=[zone], policy=policy, gap_s=float(claim["window"]["gap_s"]),
                           columns=ColumnMap.parse(OBS_COLUMN_MAP))
        result = scan_files([d / "observations.parquet"], opts)
    except (SkyfenceError, OSError, KeyError, ValueError) as exc:
        return None, [], [f"re-derivation: cannot scan the dossier's observations: {exc}"]
    mismatch = _same_observations(d)
    if mismatch:
        problems.append(mismatch)
    same_track = [r for r in result.records if r["track"] == claimed["track"]]
    if not same_track:
        return None, [], [f"re-derivation: the scan of observations.parquet in zone.geojson "
                          f"finds no entry of track {claimed['track']}: the claim does not "
                          "follow from the data"]
    t0 = parse_iso(claimed["entered_at"])
    best = min(same_track, key=lambda r: abs(parse_iso(r["entered_at"]) - t0))
    cmp = compare_records(claimed, best, claim.get("tolerances"))
    if claim["custody"].get("aircraft_db"):
        # the military flag came from a database the dossier does not hold
        cmp = [c for c in cmp if c.field not in ("violation", "severity")]
    return best, cmp, problems
