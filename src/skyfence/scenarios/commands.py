"""``skyfence demo SCENARIO`` and ``skyfence eval SCENARIO [--json]``.

The CLI calls :func:`demo_main` and :func:`eval_main`; both return the exit code and
raise :class:`~skyfence.errors.SkyfenceError` (a bad scenario is a
:class:`~skyfence.scenarios.spec.ScenarioError`, exit code 2) for the CLI to report.
``eval all`` runs every built-in scenario: one JSON object per line with ``--json``, a
Markdown table otherwise; the scenarios run side by side, one process per core.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TextIO

import pandas as pd

from skyfence.incidents.formats import render_table
from skyfence.scanning.local_pool import local_workers
from skyfence.scenarios.catalog import builtin_names, get_scenario
from skyfence.scenarios.evaluate import Evaluation, score
from skyfence.scenarios.pipeline import ScenarioResult, run_scenario
from skyfence.scenarios.spec import Scenario

#: column titles of the Markdown evaluation table
TABLE_COLUMNS = (
    ("scenario", "scenario"), ("incursions", "incursions"),
    ("detection_rate", "detected"), ("false_alarms", "false alarms"),
    ("civil_flagged", "civil flagged"), ("entry_error_s", "entry error (s)"),
    ("exit_error_s", "exit error (s)"), ("depth_error_m", "depth error (m)"),
    ("alert_delay_s", "alert delay (s)"), ("severity_correct", "severity right"),
    ("incidents", "incidents"), ("tracks_per_target", "tracks per target"),
    ("id_switches", "id switches"), ("ospa_m", "OSPA (m)"),
    ("false_tracks_per_h", "false tracks per h"),
)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def table_row(ev: Evaluation) -> dict[str, Any]:
    """The summary plus the counts the Markdown table shows."""
    row = dict(ev.summary)
    row["incursions"] = len(ev.incursions)
    row["civil_flagged"] = len(ev.civil_flagged)
    rate = row["detection_rate"]
    row["detection_rate"] = None if rate is None else f"{rate:.0%}"
    return row


def markdown_table(evaluations: Sequence[Evaluation | Mapping[str, Any]]) -> str:
    """The evaluation table for the README: one row per scenario (worst-case errors);
    an evaluation or its :func:`table_row`."""
    head = "| " + " | ".join(t for _, t in TABLE_COLUMNS) + " |"
    rule = "|" + "|".join("---" if k == "scenario" else "---:" for k, _ in TABLE_COLUMNS) + "|"
    lines = [head, rule]
    for ev in evaluations:
        row = table_row(ev) if isinstance(ev, Evaluation) else ev
        lines.append("| " + " | ".join(_fmt(row[k]) for k, _ in TABLE_COLUMNS) + " |")
    return "\n".join(lines)


def _iso(t: float | None) -> str:
    return "-" if t is None else pd.Timestamp(t, unit="s", tz="UTC").strftime("%H:%M:%S")


def print_incursions(ev: Evaluation, out: TextIO) -> None:
    """One line per truth incursion: truth times and how the pipeline did."""
    print(f"{'target':<10} {'zone':<9} {'true entry':>10} {'true exit':>10} {'depth km':>8}  "
          f"{'detected':<8} {'severity':<9} {'entry err':>9} {'exit err':>8} "
          f"{'alert s':>7}  tracks", file=out)
    for s in ev.incursions:
        t = s.truth

        def num(v: float | None, nd: int = 1) -> str:
            return "-" if v is None else f"{v:.{nd}f}"

        print(f"{s.target:<10} {s.zone:<9} {_iso(t.entered_at):>10} {_iso(t.exited_at):>10} "
              f"{t.max_depth_m / 1000:8.2f}  {'yes' if s.detected else 'NO':<8} "
              f"{s.severity or '-':<9} {num(s.entry_error_s):>9} {num(s.exit_error_s):>8} "
              f"{num(s.alert_delay_s):>7}  {', '.join(s.tracks)}", file=out)


def scenario_with_seed(name: str, seed: int | None) -> Scenario:
    """The scenario ``name`` (built-in or file), drawn with ``seed`` when given."""
    sc = get_scenario(name)
    return sc if seed is None else dataclasses.replace(sc, seed=seed)


def _summary_and_row(name: str, seed: int | None = None
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run and score one scenario; only its summary and table row travel back."""
    ev = score(run_scenario(scenario_with_seed(name, seed)))
    return ev.summary, table_row(ev)


def _score_all(names: Sequence[str], seed: int | None = None
               ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """``(summary, table row)`` of each scenario, in order: the scenarios are independent,
    so they run side by side, one process per core (fresh interpreters: ``spawn``)."""
    workers = min(len(names), local_workers())
    seeds = [seed] * len(names)
    if workers <= 1:
        yield from map(_summary_and_row, names, seeds)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        yield from pool.map(_summary_and_row, names, seeds)


def eval_main(name: str, as_json: bool = False, out: TextIO | None = None, *,
              seed: int | None = None) -> int:
    """``skyfence eval NAME [--json] [--seed N]``: score a scenario (or ``all`` built-in
    ones), with its own random draws or those of ``seed``."""
    out = out or sys.stdout
    if name == "all":
        rows = []
        for summary, row in _score_all(builtin_names(), seed):
            rows.append(row)
            if as_json:
                print(json.dumps(summary), file=out, flush=True)
        if not as_json:
            print(markdown_table(rows), file=out)
        return 0
    ev = score(run_scenario(scenario_with_seed(name, seed)))
    if as_json:
        print(json.dumps(ev.summary), file=out, flush=True)
        return 0
    evaluations = [ev]
    print(f"{ev.result.scenario.title or ev.result.scenario.name}\n", file=out)
    print_incursions(ev, out)
    print(file=out)
    print(markdown_table(evaluations), file=out)
    if ev.false_alarms:
        print("\nfalse alarms:", file=out)
        for i in ev.false_alarms:
            r = ev.result.records[i]
            print(f"  {r['track']} in {r['zone']} at {r['entered_at']} "
                  f"(follows {ev.result.record_targets[i] or 'no target: clutter'})", file=out)
    return 0


def _print_incident(res: ScenarioResult, i: int, out: TextIO) -> None:
    r = res.records[i]
    cls = r["classification"]
    dur = r["duration_s"] / 60.0
    print(f"\n{r['severity'].upper()}  {r['track']} in {r['zone']}: {r['entered_at']} to "
          f"{r['exited_at'] or 'still inside'} ({dur:.1f} min), up to "
          f"{r['max_depth_m'] / 1000:.1f} km inside; {cls['category']}, "
          f"{'cooperative' if cls['cooperative'] else 'non-cooperative'}"
          f"  [truth: {res.record_targets[i] or 'clutter'}]", file=out)
    for reason in r["reasons"]:
        print(f"    - {reason}", file=out)
    steps = r.get("protocol") or []
    if steps:
        print("    protocol:", file=out)
        for k, st in enumerate(steps, start=1):
            when = "now" if st.get("after_s") is None else f"after {st['after_s']:g} s"
            print(f"      {k}. {st['step']} ({when})", file=out)


def export_main(name: str, directory: str, out: TextIO | None = None) -> int:
    """``skyfence demo NAME --export DIR``: write a scenario's inputs and the commands."""
    import shlex

    from skyfence.scenarios.catalog import get_scenario
    from skyfence.scenarios.export import export_scenario
    from skyfence.scenarios.generate import generate

    out = out or sys.stdout
    exported = export_scenario(generate(get_scenario(name)), directory)
    for p in (exported.radar, exported.adsb, exported.zones):
        if p is not None:
            print(f"wrote {p}", file=out)
    print("\nscan them:\n  " + shlex.join(exported.scan_command()), file=out)
    print("replay them live:\n  " + shlex.join(exported.watch_command()), file=out)
    return 0


def demo_main(name: str, out: TextIO | None = None) -> int:
    """``skyfence demo NAME``: run a scenario end to end; print incidents and protocol."""
    out = out or sys.stdout
    res = run_scenario(name)
    sc, gen = res.scenario, res.generated
    print(f"skyfence demo: {sc.title or sc.name}", file=out)
    for para in (sc.description, sc.background.note if sc.background else ""):
        if para:
            print(textwrap.fill(para.strip(), 88), file=out)
    zones = ", ".join(z.name for z in gen.zones)
    print(f"\nzones: {zones}; watched states: {', '.join(sc.watch_states) or 'none'}",
          file=out)
    coop_tracks = {t for t, _ in res.correlation.pairs}
    n_radar = res.radar_tracks["icao24"].nunique()
    print(f"{len(gen.plots):,} plots from {len(gen.sites)} radar(s) -> {n_radar} radar "
          f"tracks, {len(coop_tracks)} of them matched to transponder aircraft; "
          f"{len(gen.adsb):,} ADS-B positions of {gen.adsb['icao24'].nunique()} aircraft",
          file=out)
    violations = [i for i, r in enumerate(res.records) if r["violation"]]
    print(f"{len(res.records)} zone entries, {len(violations)} violations\n", file=out)
    render_table([res.records[i] for i in violations], out, title="Violations")
    for i in violations:
        _print_incident(res, i, out)
    ev = score(res)
    print("\nScored against the scenario's ground truth:\n", file=out)
    print_incursions(ev, out)
    print(file=out)
    print(markdown_table([ev]), file=out)
    return 0
