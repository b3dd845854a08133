"""The policy file's schema: pydantic models of every section, validated in one pass.

:func:`validate_policy` checks a parsed policy document and returns its model and every
problem found, one line each (``file:line: rule 2 'name': when.zone: problem``). What the
types cannot say is checked by validators that see the policy's variables (passed as
validation context): ``$name`` references, zone kinds, categories, ISO 3166-1 codes,
squawk codes and reason/step templates. The rules as value objects are built from the
model by :mod:`skyfence.policy`, which also refuses duplicate rule names.

The file format is documented in :mod:`skyfence.policy`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypedDict

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from skyfence.messages import show_value
from skyfence.vocab import CATEGORIES, EMERGENCY_SQUAWKS, SEVERITIES, ZONE_KINDS, Severity
from skyfence.yamlfile import PLAIN_MESSAGES, YamlDocument, dotted_path, schema_problems

__all__ = [
    "DEFAULT_LINK_S",
    "DEFAULT_MERGE_S",
    "DEFAULT_OTHERWISE_REASON",
    "DISPUTED_MODES",
    "PolicyContext",
    "PolicyModel",
    "validate_policy",
]

DISPUTED_MODES = ("judge", "name")
#: the default of ``incidents.merge_s``: re-entries within 2 minutes are one incursion
DEFAULT_MERGE_S = 120.0
#: the default of ``incidents.link_s``: a radar track lost inside a zone is continued by a
#: new track starting within a minute where the target could have flown meanwhile
DEFAULT_LINK_S = 60.0
DEFAULT_OTHERWISE_REASON = "{cooperation} aircraft inside {where}; no rule applies"
_ISO3 = re.compile(r"^[A-Z]{3}$")
_SQUAWK = re.compile(r"^[0-7]{4}$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_]\w*$")


class PolicyContext(TypedDict):
    """What the validators need beyond the value: the variables and the template check."""

    variables: Mapping[str, tuple[str, ...]]
    #: a template's problem (None when it renders)
    check_template: Callable[[str], str | None]


def _context(info: ValidationInfo) -> PolicyContext:
    ctx = info.context
    if not ctx:
        return {"variables": {"watch_states": ()}, "check_template": lambda t: None}
    return ctx


def _fail(problems: list[str]) -> None:
    if problems:
        raise ValueError("; ".join(problems))


def _resolve(v: Any, info: ValidationInfo, problems: list[str]) -> list[Any]:
    """A scalar or list with ``$name`` references expanded."""
    variables = _context(info)["variables"]
    out: list[Any] = []
    for x in v if isinstance(v, list) else [v]:
        if isinstance(x, str) and x.startswith("$"):
            if x[1:] not in variables:
                known = ", ".join("$" + k for k in sorted(variables))
                problems.append(f"unknown variable '{x}' (known: {known})")
                continue
            out.extend(variables[x[1:]])
        else:
            out.append(x)
    return out


def _strings(v: Any, info: ValidationInfo, problems: list[str]) -> list[str]:
    out = []
    for x in _resolve(v, info, problems):
        if isinstance(x, bool) or not isinstance(x, (str, int)):
            problems.append(f"expected a string or list of strings, got {show_value(x)}")
            continue
        out.append(str(x))
    return out


def _choices(known: Sequence[str], what: str) -> Callable[[Any, ValidationInfo], frozenset[str]]:
    """The validator of a set of names out of ``known`` (a zone kind, a category).

    It is :func:`_check_choices` with ``known`` and ``what`` bound, not a closure: a
    closure's code is fixed when the class that uses it is built (at import), and a
    module-level function is what a test's monkeypatch or mutmut's switch can reach.
    """
    return functools.partial(_check_choices, tuple(known), what)


def _check_choices(known: tuple[str, ...], what: str, v: Any, info: ValidationInfo
                   ) -> frozenset[str]:
    problems: list[str] = []
    out = frozenset(_strings(v, info, problems))
    problems += [f"unknown {what} '{s}' (known: {', '.join(known)})"
                 for s in sorted(out) if s not in known]
    _fail(problems)
    return out


def _zones(v: Any, info: ValidationInfo) -> frozenset[str]:
    problems: list[str] = []
    out = frozenset(s.upper() for s in _strings(v, info, problems))
    _fail(problems)
    return out


def _states(v: Any, info: ValidationInfo) -> frozenset[str | None]:
    """ISO3 codes, or ``unknown`` (None): no state known."""
    problems: list[str] = []
    out: set[str | None] = set()
    for s in _strings(v, info, problems):
        if s.lower() == "unknown":
            out.add(None)
        elif _ISO3.match(s.upper()):
            out.add(s.upper())
        else:
            problems.append(f"'{s}' is not an ISO 3166-1 alpha-3 code or 'unknown'")
    _fail(problems)
    return frozenset(out)


def _squawks(v: Any, info: ValidationInfo) -> frozenset[str]:
    problems: list[str] = []
    out = frozenset(s.zfill(4) for s in _strings(v, info, problems))
    problems += [f"'{s}' is not a 4-digit octal squawk code"
                 for s in sorted(out) if not _SQUAWK.match(s)]
    # entries carry only the emergency codes they squawked inside (the detector keeps
    # no other): a rule on any other code would load and never match
    problems += [f"'{s}' never matches: entries keep only the emergency squawks "
                 f"{', '.join(EMERGENCY_SQUAWKS)}"
                 for s in sorted(out) if _SQUAWK.match(s) and s not in EMERGENCY_SQUAWKS]
    _fail(problems)
    return out


def _military(v: Any, info: ValidationInfo) -> frozenset[bool | None]:
    problems: list[str] = []
    out: set[bool | None] = set()
    for x in _resolve(v, info, problems):
        if isinstance(x, bool):
            out.add(x)
        elif x == "unknown":
            out.add(None)
        else:
            problems.append(f"must be true, false or unknown, got {show_value(x)}")
    _fail(problems)
    return frozenset(out)


def _prefer(v: Any, info: ValidationInfo) -> tuple[str, ...]:
    problems: list[str] = []
    out = tuple(s.strip().upper() for s in _strings(v, info, problems))
    _fail(problems)
    return out


def _template(t: str, info: ValidationInfo) -> str:
    problem = _context(info)["check_template"](t)
    if problem:
        raise ValueError(problem)
    return t


def _severity(v: Any) -> Any:
    if v not in SEVERITIES:
        raise ValueError(f"unknown severity {show_value(v)} (known: {', '.join(SEVERITIES)})")
    return v


def _disputed(v: Any) -> Any:
    if v not in DISPUTED_MODES:
        raise ValueError(f"unknown mode {show_value(v)} (known: {', '.join(DISPUTED_MODES)})")
    return v


def _version(v: Any) -> int:
    if isinstance(v, bool) or v != 1:
        raise ValueError(f"unknown policy version {show_value(v)} (known: 1)")
    return 1


def _non_empty(v: str) -> str:
    if not v.strip():
        raise ValueError("must be a non-empty string")
    return v


def _steps(v: Any) -> Any:
    """A list of steps; a plain string step is ``{step: ...}``."""
    if not isinstance(v, list):
        raise ValueError(f"must be a list of steps, got {show_value(v)}")
    return [{"step": s} if isinstance(s, str) else s for s in v]


def _empty_is_mapping(v: Any) -> Any:
    return {} if v is None else v


def _one_or_more(v: Any) -> Any:
    """A variable's values: a list of strings (a single string or number is a list of one)."""
    items = v if isinstance(v, list) else [v]
    if not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in items):
        raise ValueError("must be a list of strings")
    return tuple(str(x) for x in items)


Bool = Annotated[bool, Field(strict=True)]
Text = Annotated[str, Field(strict=True)]
Template = Annotated[str, Field(strict=True), AfterValidator(_template)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Metres = Annotated[float, Field(strict=True, allow_inf_nan=False)]
SeverityName = Annotated[Severity, BeforeValidator(_severity)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepModel(_Section):
    """A protocol step; ``after_s`` is an escalation time (absent: now)."""

    step: Annotated[str, Field(strict=True), AfterValidator(_non_empty),
                    AfterValidator(_template)]
    after_s: NonNegative | None = None


Steps = Annotated[tuple[StepModel, ...], BeforeValidator(_steps)]


class BandModel(_Section):
    """An altitude band in metres; either end may be open."""

    min: Metres | None = None
    max: Metres | None = None

    @model_validator(mode="after")
    def _ordered(self) -> BandModel:
        if self.min is None and self.max is None:
            raise ValueError("must be a mapping with 'min' and/or 'max' (metres)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class WhenModel(_Section):
    """A rule's condition: every key given must hold (see :class:`skyfence.policy.Condition`)."""

    zone: Annotated[frozenset[str] | None, PlainValidator(_zones)] = None
    zone_kind: Annotated[frozenset[str] | None,
                         PlainValidator(_choices(ZONE_KINDS, "zone kind"))] = None
    cooperative: Bool | None = None
    category: Annotated[frozenset[str] | None,
                        PlainValidator(_choices(CATEGORIES, "category"))] = None
    registration_state: Annotated[frozenset[str | None] | None, PlainValidator(_states)] = None
    military: Annotated[frozenset[bool | None] | None, PlainValidator(_military)] = None
    altitude_m: BandModel | None = None
    squawk: Annotated[frozenset[str] | None, PlainValidator(_squawks)] = None
    min_depth_m: NonNegative | None = None
    min_duration_s: NonNegative | None = None
    # behaviour flags, as in skyfence.vocab.BEHAVIOURS
    approach: Bool | None = None
    loitering: Bool | None = None
    went_dark: Bool | None = None


class RuleModel(_Section):
    """One rule: a condition and the outcome it gives."""

    name: Annotated[str, Field(strict=True), AfterValidator(_non_empty)] | None = None
    when: Annotated[WhenModel, BeforeValidator(_empty_is_mapping)] = Field(
        default_factory=WhenModel)
    violation: Bool = False
    severity: SeverityName = "info"
    reason: Template = "rule {rule} applies"
    protocol: Steps = ()
    stop: Bool = False


class OtherwiseModel(_Section):
    """The outcome when no rule applies."""

    violation: Bool = False
    severity: SeverityName = "info"
    reason: Template = DEFAULT_OTHERWISE_REASON
    protocol: Steps = ()


class IncidentsModel(_Section):
    """How the incident store groups entries."""

    merge_s: NonNegative = DEFAULT_MERGE_S
    link_s: NonNegative = DEFAULT_LINK_S
    prefer: Annotated[tuple[str, ...], PlainValidator(_prefer)] = ()
    disputed: Annotated[str, PlainValidator(_disputed)] = "judge"


class PolicyModel(_Section):
    """A whole policy file."""

    version: Annotated[int, PlainValidator(_version)] = 1
    name: Text | None = None
    description: Text = ""
    variables: dict[str, Annotated[tuple[str, ...], PlainValidator(_one_or_more)]] = Field(
        default_factory=dict)
    rules: list[RuleModel]
    otherwise: OtherwiseModel = Field(default_factory=OtherwiseModel)
    incidents: Annotated[IncidentsModel, BeforeValidator(_empty_is_mapping)] = Field(
        default_factory=IncidentsModel)


def _variables(raw: Any, extra_watch: Sequence[str]
               ) -> tuple[dict[str, tuple[str, ...]], list[tuple[tuple[Any, ...], str]]]:
    """The file's variables (what of them is usable) with ``watch_states`` merged, and the
    problems only names and states have (types are the schema's)."""
    out: dict[str, tuple[str, ...]] = {}
    problems: list[tuple[tuple[Any, ...], str]] = []
    for name, values in (raw.items() if isinstance(raw, Mapping) else ()):
        if not isinstance(name, str):
            continue
        if not _VARIABLE_NAME.match(name):
            problems.append((("variables", name), f"bad variable name {show_value(name)}"))
            continue
        try:
            out[name] = _one_or_more(values)
        except ValueError:
            continue
    ws = [s.strip().upper() for s in out.get("watch_states", ())]
    problems += [(("variables", "watch_states"), f"'{s}' is not an ISO 3166-1 alpha-3 code")
                 for s in ws if not _ISO3.match(s)]
    out["watch_states"] = tuple(dict.fromkeys([*ws, *extra_watch]))
    return out, problems


def label(path: Sequence[Any], data: Any) -> str:
    """How a problem's place is named: ``rule 2 'name': protocol step 1: after_s``.

    >>> label(("rules", 1, "when", "zone"), {"rules": [{}, {"name": "deep"}]})
    "rule 2 'deep': when.zone"
    >>> label(("incidents", "merge_s"), {})
    'incidents.merge_s'
    """
    path = tuple(p for p in path if p != "[key]")
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        i, rest = path[1], path[2:]
        rules = data.get("rules") if isinstance(data, Mapping) else None
        rule = rules[i] if isinstance(rules, list) and i < len(rules) else None
        name = rule.get("name") if isinstance(rule, Mapping) else None
        head = f"rule {i + 1}" + (f" '{name}'" if isinstance(name, str) and name.strip() else "")
    elif path and path[0] == "otherwise":
        head, rest = "otherwise", path[1:]
    else:
        return dotted_path(path)
    if len(rest) >= 2 and rest[0] == "protocol" and isinstance(rest[1], int):
        head, rest = f"{head}: protocol step {rest[1] + 1}", rest[2:]
    return f"{head}: {dotted_path(rest)}" if rest else head


def problem_line(doc: YamlDocument, path: tuple[Any, ...], message: str,
                 place: tuple[Any, ...] | None = None) -> str:
    """``file:line: label: message``; ``place`` (default ``path``) is what is labelled."""
    name = label(path if place is None else place, doc.data) or "policy"
    return f"{doc.where(tuple(p for p in path if p != '[key]'))}: {name}: {message}"


def validate_policy(doc: YamlDocument, extra_watch: Sequence[str],
                    check_template: Callable[[str], str | None]
                    ) -> tuple[PolicyModel | None, dict[str, tuple[str, ...]], list[str]]:
    """The model of a policy document, its variables and every problem (file order).

    ``extra_watch`` are ``--watch-state`` codes added to the ``watch_states`` variable;
    ``check_template`` says what is wrong with a reason or step template, if anything.
    The model is None when there are problems of type or value.
    """
    variables, found = _variables(
        doc.data.get("variables") if isinstance(doc.data, Mapping) else None, extra_watch)
    problems = [(p, problem_line(doc, p, m)) for p, m in found]
    model = None
    try:
        model = PolicyModel.model_validate(
            doc.data, context=PolicyContext(variables=variables, check_template=check_template))
    except ValidationError as exc:
        for p in schema_problems(exc, PolicyModel, PLAIN_MESSAGES):
            place = p.path[:-1] if p.unknown_key else p.path
            problems.append((p.path, problem_line(doc, p.path, p.message, place)))
    problems.sort(key=lambda p: doc.line_of(tuple(x for x in p[0] if x != "[key]")) or 0)
    return (model if not problems else None), variables, [line for _, line in problems]
