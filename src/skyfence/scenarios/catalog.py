"""The built-in scenarios, and finding a scenario by name or path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from skyfence.scenarios.spec import Scenario, ScenarioError, load_scenario

BUILTIN_PACKAGE = "skyfence.scenarios"


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with skyfence, sorted."""
    folder = resources.files(BUILTIN_PACKAGE) / "builtin"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def scenario_path(name_or_path: str | Path) -> Path:
    """The file of a built-in scenario name, or the given path when it exists."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise ScenarioError("scenario file not found", file=str(p))
        return p
    ref = resources.files(BUILTIN_PACKAGE) / "builtin" / f"{name_or_path}.yaml"
    if not ref.is_file():
        known = ", ".join(builtin_names())
        raise ScenarioError(f"unknown scenario '{name_or_path}' (built-in: {known})")
    return Path(str(ref))


def get_scenario(name_or_path: str | Path | Scenario) -> Scenario:
    """A parsed scenario from a built-in name, a path, or a Scenario (returned as is)."""
    if isinstance(name_or_path, Scenario):
        return name_or_path
    return load_scenario(scenario_path(name_or_path))
