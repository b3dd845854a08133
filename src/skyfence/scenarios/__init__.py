"""Scenarios: real incidents rebuilt as data, run through the pipeline and scored.

A scenario (YAML, :mod:`~skyfence.scenarios.spec`) scripts aircraft and drones over a
background of real recorded civil traffic and describes the sensors that watch them.
:func:`run_scenario` generates radar plots and ADS-B positions from it, tracks the plots,
correlates radar tracks with transponder tracks, screens the result for zone entries
and judges them; :func:`evaluate` scores that against the scenario's ground truth.

>>> from skyfence.scenarios import builtin_names, evaluate
>>> builtin_names()[:2]
['aalborg-2025-09-24', 'helicopters-bizjets']
>>> evaluate("vaindloo-2025-09-19")["detection_rate"]          # doctest: +SKIP
1.0
"""

from skyfence.scenarios.catalog import builtin_names, get_scenario, scenario_path
from skyfence.scenarios.commands import demo_main, eval_main, export_main, markdown_table
from skyfence.scenarios.evaluate import EVAL_KEYS, Evaluation, evaluate, score
from skyfence.scenarios.pipeline import ScenarioResult, run_scenario
from skyfence.scenarios.spec import Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = [
    "EVAL_KEYS", "Evaluation", "Scenario", "ScenarioError", "ScenarioResult", "builtin_names",
    "demo_main", "eval_main", "evaluate", "export_main", "get_scenario", "load_scenario",
    "markdown_table", "parse_scenario", "run_scenario", "scenario_path", "score",
]
