"""Which entries are violations, how severe, why, and what the operator does next.

A policy is data: a YAML file of ordered rules. The package ships a documented default
(``skyfence/policies/default.yaml``, :meth:`Policy.default`); an operator writes their
own and checks it with ``skyfence policy check FILE``.

A file is validated by the pydantic models of :mod:`skyfence.policy_schema` (unknown
keys, wrong types, non-finite numbers, unknown names and bad templates are each one
problem with its line, all reported at once); this module builds the rules from the
validated model and judges entries with them.

File format
-----------
::

    version: 1                        # optional; only 1 is known
    name: my centre                   # optional
    description: ...                  # optional
    variables:                        # optional: named lists that rules reference as $name
      emergency_squawks: ["7500", "7600", "7700"]
      watch_states: [RUS]             # --watch-state values are ADDED to this list
    rules:
      - name: non-cooperative entry   # optional; defaults to "rule N"
        when:                         # optional; every key given must hold (AND)
          zone: [EST, EKYT-5km]       # zone names (case-insensitive)
          zone_kind: national         # national | custom
          cooperative: false          # true: ICAO address seen; false: radar only
          category: [drone, jet]      # airliner jet propeller helicopter drone balloon unknown
          registration_state: $watch_states   # ISO3 codes, or "unknown" (no state known)
          military: true              # true | false | unknown
          altitude_m: {min: 0, max: 150}      # inside altitudes overlap this band
          squawk: $emergency_squawks  # an emergency squawk seen inside (7500/7600/7700)
          min_depth_m: 1000           # deepest inside fix at least this far in
          min_duration_s: 30          # inside at least this long
          approach: false             # behaviour flags given by the caller (see below)
          loitering: true
          went_dark: true
        violation: true               # default false
        severity: critical            # info | warning | critical; default info
        reason: "non-cooperative target inside {where}: track '{track}' ..."
        protocol:                     # steps shown to the operator, in this order
          - notify the duty officer   # a plain step: do it now
          - step: escalate to the air operations centre if unacknowledged
            after_s: 60               # escalation time, seconds after the alert
        stop: false                   # true: later rules are not evaluated
    otherwise:                        # optional: the outcome when no rule matched
      severity: info
      reason: "{cooperation} aircraft inside {where}; no rule applies"
    incidents:                        # optional: how entries become incidents
      merge_s: 120                    # re-entries less than this after the last exit join
                                      # the incursion (0: every entry its own incident)
      link_s: 60                      # a radar track lost inside, continued by a new track
                                      # within this many seconds: one incident (0: never)
      prefer: [UKR]                   # an incursion inside several zones at once is named by
                                      # the first of these it is in (default: the smallest)
      disputed: judge                 # judge | name: see "Incidents" below

Semantics
---------
- Rules are evaluated in file order; **every** matching rule applies, up to the first
  matching rule with ``stop: true``. A rule matches when every key of its ``when``
  holds; a list value matches when any element does; an empty ``when`` always matches.
- ``violation`` is true when any applied rule says so; ``severity`` is the highest of
  the applied rules (``info`` < ``warning`` < ``critical``); ``reasons`` has one line
  per applied rule, its ``reason`` with fields filled in; ``protocol`` is the applied
  rules' steps in rule order, a step already listed is not repeated, and steps are
  stably ordered by ``after_s`` (immediate steps, with no ``after_s``, first).
- When no rule applies, ``otherwise`` gives the outcome (default: ``info``, no
  violation, the reason shown above, no steps).
- Unknown altitude (no altitude seen) matches any ``altitude_m`` band: a missing
  altitude must not clear a target. ``registration_state: unknown`` matches a track
  whose state is not known (radar-only, or an unallocated address).
- ``military`` comes from the aircraft database (``--aircraft-db``); without one it
  is ``unknown``, so ``military: true`` never matches.
- Behaviour flags describe what is judged, as the caller states it: ``approach``
  (a predicted entry: the track is not inside yet), ``loitering`` (the track stayed
  near the zone boundary, outside, for longer than the early-warning limit),
  ``went_dark`` (the track's transponder went silent near the boundary). A flag not
  given by the caller is false, so ``approach: false`` means "an actual entry".
- ``reason`` and protocol ``step`` texts are Python format strings over: ``zone``,
  ``zone_kind``, ``where`` ("EST airspace" / "EKYT zone"), ``track``, ``icao24``,
  ``callsign``, ``cooperation`` ("cooperative" / "non-cooperative"), ``category``,
  ``confidence``, ``registration_state``, ``military`` (yes/no/unknown), ``squawk``
  and ``squawk_meaning`` (the squawks the rule matched, or all seen),
  ``max_depth_m``, ``depth_km``, ``duration_s``, ``min_altitude_m``,
  ``max_altitude_m``, ``rule``. An unknown value renders as ``unknown``.
- ``variables`` are lists of strings; ``$name`` as a value (or a list element) stands
  for the list. ``watch_states`` always exists: the file's list plus ``--watch-state``.

Incidents
---------
The rules judge entries; the incident store groups entries into incidents (one
incursion each) under the ``incidents`` section:

- entries of one track into one zone less than ``merge_s`` seconds apart (from the
  previous exit to the next entry) are one incident with several crossings;
- a non-cooperative track lost inside a zone (its entry has no exit) and a new
  non-cooperative track whose entry into that zone begins less than ``link_s`` seconds
  later, where the first target could have flown meanwhile, are one incident (the
  tracker broke one target into two tracks);
- an incursion inside several watched zones at once (entered at the same crossing, or
  a dependency inside its parent state, ``PYF`` in ``FRA``) is one incident: ``zone``
  names it (the first zone of ``prefer`` it is in, else the smallest by area) and
  ``also_in`` lists the others;
- ``disputed`` says how such an incident is judged when the zones are not a dependency
  and its parent (an area both states claim, e.g. Crimea in ``RUS`` and ``UKR``):
  ``judge`` (default) takes the most severe verdict of every zone's entries, ``name``
  only the verdict of the zone that names the incident (with ``prefer``, the operator
  says whose the area is).
"""

from __future__ import annotations

import math
import string
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from skyfence.errors import ConfigError
from skyfence.model import Classification, Entry
from skyfence.policy_schema import (
    DEFAULT_LINK_S,
    DEFAULT_MERGE_S,
    DISPUTED_MODES,
    StepModel,
    WhenModel,
    problem_line,
    validate_policy,
)
from skyfence.records import ProtocolStepRecord
from skyfence.vocab import (
    BEHAVIOURS,
    CATEGORIES,
    SEVERITIES,
    SEVERITY_ORDER,
    SQUAWK_MEANING,
    Severity,
)
from skyfence.yamlfile import YamlDocument


class PolicyError(ConfigError):
    """A policy file is invalid; ``problems`` lists every error found, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{self.problems[0]}{more}")


@dataclass(frozen=True)
class ProtocolStep:
    """One thing the operator does; ``after_s`` is an escalation time (None: now)."""

    step: str
    after_s: float | None = None

    def to_record(self) -> ProtocolStepRecord:
        """``{"step": ..., "after_s": ...}`` as in the incident record."""
        return {"step": self.step, "after_s": self.after_s}


@dataclass(frozen=True)
class IncidentSettings:
    """How the incident store groups entries (the policy's ``incidents`` section)."""

    #: re-entries less than this many seconds after the previous exit join the incident
    merge_s: float = DEFAULT_MERGE_S
    #: zones (upper case) that name an incident inside several zones, in preference order
    prefer: tuple[str, ...] = ()
    #: ``judge``: every zone's verdict counts; ``name``: only the naming zone's, when
    #: the zones are disputed (neither a dependency of the other)
    disputed: str = "judge"
    #: a track without a transponder that starts less than this many seconds after a
    #: non-cooperative track was lost inside a zone, where that target could have
    #: flown meanwhile, continues its incident (0: never; see
    #: :mod:`skyfence.incidents.grouping`)
    link_s: float = DEFAULT_LINK_S


@dataclass(frozen=True)
class Verdict:
    """The policy's judgement of one entry."""

    violation: bool
    severity: Severity
    reasons: tuple[str, ...]
    protocol: tuple[ProtocolStep, ...] = ()
    #: names of the rules that applied, in order (empty when ``otherwise`` applied)
    rules: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Condition:
    """A rule's ``when``: each field None (any) or the set of accepted values."""

    zones: frozenset[str] | None = None
    zone_kinds: frozenset[str] | None = None
    cooperative: bool | None = None
    categories: frozenset[str] | None = None
    registration_states: frozenset[str | None] | None = None
    military: frozenset[bool | None] | None = None
    altitude_band: tuple[float, float] | None = None
    squawks: frozenset[str] | None = None
    min_depth_m: float | None = None
    min_duration_s: float | None = None
    behaviours: tuple[tuple[str, bool], ...] = ()

    def matches(self, entry: Entry, cls_: Classification, behaviours: Collection[str]) -> bool:
        """True when every given key holds for this entry."""
        if self.zones is not None and entry.zone.upper() not in self.zones:
            return False
        if self.zone_kinds is not None and entry.zone_kind not in self.zone_kinds:
            return False
        if self.cooperative is not None and cls_.cooperative != self.cooperative:
            return False
        if self.categories is not None and cls_.category not in self.categories:
            return False
        if (self.registration_states is not None
                and cls_.registration_state not in self.registration_states):
            return False
        if self.military is not None and cls_.military not in self.military:
            return False
        if self.altitude_band is not None and not _altitude_overlaps(entry, self.altitude_band):
            return False
        if self.squawks is not None and not self.squawks.intersection(entry.squawks):
            return False
        if self.min_depth_m is not None and not entry.max_depth_m >= self.min_depth_m:
            return False
        if self.min_duration_s is not None and not entry.duration_s >= self.min_duration_s:
            return False
        return all((name in behaviours) == want for name, want in self.behaviours)


def _altitude_overlaps(entry: Entry, band: tuple[float, float]) -> bool:
    lo, hi = entry.min_altitude_m, entry.max_altitude_m
    if lo is None and hi is None:
        return True  # unknown altitude never clears a target
    lo = hi if lo is None else lo
    hi = lo if hi is None else hi
    assert lo is not None and hi is not None
    return lo <= band[1] and hi >= band[0]


@dataclass(frozen=True)
class Rule:
    """One policy rule: a condition and the outcome it gives."""

    name: str
    when: Condition
    violation: bool = False
    severity: Severity = "info"
    reason: str = "rule {rule} applies"
    protocol: tuple[ProtocolStep, ...] = ()
    stop: bool = False


# ---------------------------------------------------------------------------- policy


class Policy:
    """Ordered rules judging entries; see the module docstring for the file format.

    ``Policy()`` and ``Policy(watch_states)`` are the default policy; pass ``document``
    (a parsed YAML mapping) for another one. ``watch_states`` are ISO3 codes added to
    the policy's ``watch_states`` variable.
    """

    def __init__(
        self,
        watch_states: Iterable[str] = (),
        *,
        document: Mapping[str, Any] | None = None,
        source: str = "<default policy>",
        lines: Mapping[tuple[Any, ...], int] | None = None,
        text: str | None = None,
    ) -> None:
        if document is None:
            text = _default_text()
            document, lines = _parse_yaml(text, "default.yaml")
            source = "default.yaml"
        if text is None:  # a document given directly: keep a faithful YAML of it
            text = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)
        #: the policy's YAML text (a dossier stores it and its SHA-256)
        self.text: str = text
        extra = [s.strip().upper() for s in watch_states if s.strip()]
        compiled = _compile(YamlDocument(document, source, dict(lines or {})), extra)
        self.source = source
        self.name: str = compiled["name"]
        self.description: str = compiled["description"]
        self.variables: dict[str, tuple[str, ...]] = compiled["variables"]
        self.rules: tuple[Rule, ...] = compiled["rules"]
        self.otherwise: Rule = compiled["otherwise"]
        self.incidents: IncidentSettings = compiled["incidents"]
        self.watch_states = frozenset(self.variables["watch_states"])
        # which of an entry's measured values some rule's condition reads: only those
        # go into the key under which the rules that apply are remembered
        whens = [r.when for r in self.rules]
        self._reads_altitude = any(w.altitude_band is not None for w in whens)
        self._reads_depth = any(w.min_depth_m is not None for w in whens)
        self._reads_duration = any(w.min_duration_s is not None for w in whens)
        self._applied: dict[tuple[Any, ...], tuple[Rule, ...]] = {}
        self._verdicts: dict[tuple[Any, ...], Verdict] = {}

    def __repr__(self) -> str:
        return (f"Policy(name={self.name!r}, rules={len(self.rules)}, "
                f"watch_states={sorted(self.watch_states)})")

    @classmethod
    def default(cls, watch_states: Iterable[str] = ()) -> Policy:
        """The policy shipped with skyfence (``skyfence/policies/default.yaml``)."""
        return cls(watch_states)

    @classmethod
    def load(cls, path: str | Path, watch_states: Iterable[str] = ()) -> Policy:
        """Read and validate a policy file; raises :class:`PolicyError` naming every problem."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PolicyError([f"{p}: policy file not found"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError([f"{p}: cannot read the policy file ({exc})"]) from None
        doc, lines = _parse_yaml(text, str(p))
        return cls(watch_states, document=doc, source=str(p), lines=lines, text=text)

    @classmethod
    def from_options(
        cls, watch_states: Iterable[str] = (), policy_file: str | Path | None = None
    ) -> Policy:
        """A policy from ``--watch-state`` values (case-insensitive ISO3) and ``--policy``."""
        if policy_file is not None:
            return cls.load(policy_file, watch_states)
        return cls.default(watch_states)

    def judge(
        self, entry: Entry, cls_: Classification, behaviours: Collection[str] = ()
    ) -> Verdict:
        """Violation, severity, reasons and protocol steps for one entry.

        ``behaviours`` names the early-warning flags that hold for what is judged
        (``approach``, ``loitering``, ``went_dark``).
        """
        applied = self._rules_for(entry, cls_, behaviours)
        chosen = applied or (self.otherwise,)
        # the verdict is a function of the rules and of the facts their templates use:
        # a scan's entries share a few such verdicts (most templates name the zone)
        used = _used_facts(chosen)
        values = [_FACTS[n](entry, cls_) for n in used]
        # a float by its bits: -0.0 renders unlike 0.0, 1.0 unlike 1
        key = (chosen, entry.squawks,
               tuple(v.hex() if type(v) is float else v for v in values))
        got = self._verdicts.get(key)
        if got is None:
            if len(self._verdicts) >= _REMEMBERED_KEYS:
                self._verdicts.clear()
            got = self._verdicts[key] = self._verdict(entry, cls_, chosen, applied)
        return got

    def _verdict(self, entry: Entry, cls_: Classification, chosen: tuple[Rule, ...],
                 applied: tuple[Rule, ...]) -> Verdict:
        """The verdict of ``chosen`` (``applied`` or the ``otherwise`` rule) rules."""
        facts = _facts(entry, cls_)
        reasons = []
        steps: dict[str, ProtocolStep] = {}
        for rule in chosen:
            local = dict(facts, rule=rule.name)
            if rule.when.squawks is not None:
                hit = sorted(rule.when.squawks.intersection(entry.squawks))
                local["squawk"] = ", ".join(hit)
                local["squawk_meaning"] = ", ".join(_squawk_meaning(s) for s in hit)
            reasons.append(_FORMATTER.render(rule.reason, local))
            for st in rule.protocol:
                text = _FORMATTER.render(st.step, local)
                if text not in steps:
                    steps[text] = ProtocolStep(text, st.after_s)
        protocol = sorted(steps.values(), key=lambda s: s.after_s or 0.0)
        return Verdict(
            violation=any(r.violation for r in chosen),
            severity=max((r.severity for r in chosen), key=SEVERITY_ORDER.__getitem__),
            reasons=tuple(reasons),
            protocol=tuple(protocol),
            rules=tuple(r.name for r in applied),
        )

    def _rules_for(
        self, entry: Entry, cls_: Classification, behaviours: Collection[str]
    ) -> tuple[Rule, ...]:
        """The rules that apply to ``entry``, in order, up to the first that stops.

        Remembered under every value a condition can read (the measured ones only when
        some rule reads them): a scan's entries share a few such keys, so the rules are
        walked once per key, not once per entry.
        """
        key = (entry.zone, entry.zone_kind, cls_.cooperative, cls_.category,
               cls_.registration_state, cls_.military, tuple(entry.squawks), frozenset(behaviours),
               (entry.min_altitude_m, entry.max_altitude_m) if self._reads_altitude else None,
               entry.max_depth_m if self._reads_depth else None,
               entry.duration_s if self._reads_duration else None)
        got = self._applied.get(key)
        if got is not None:
            return got
        unknown = set(behaviours) - set(BEHAVIOURS)
        if unknown:
            raise ValueError(f"unknown behaviour(s) {sorted(unknown)}; known: {BEHAVIOURS}")
        applied: list[Rule] = []
        for rule in self.rules:
            if rule.when.matches(entry, cls_, behaviours):
                applied.append(rule)
                if rule.stop:
                    break
        if len(self._applied) >= _REMEMBERED_KEYS:
            self._applied.clear()
        got = self._applied[key] = tuple(applied)
        return got


#: most keys :meth:`Policy._rules_for` remembers before it starts again
_REMEMBERED_KEYS = 4096


# ---------------------------------------------------------------------------- facts


class _Formatter(string.Formatter):
    """``str.format`` that renders a missing value (None) as ``unknown``."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        if value is None:
            return "unknown"
        return format(value, format_spec)  # what string.Formatter does, one call less

    def render(self, template: str, values: Mapping[str, Any]) -> str:
        """``self.format(template, **values)``, with the template parsed once: a judge
        renders the same few templates for every entry of a scan."""
        parts = _plain_fields(self, template)
        if parts is None:
            return self.format(template, **values)
        return "".join([lit if name is None else lit + self.format_field(values[name], spec)
                        for lit, name, spec in parts])


@lru_cache(maxsize=512)
def _plain_fields(fmt: _Formatter, template: str
                  ) -> tuple[tuple[str, str | None, str], ...] | None:
    """(literal, field name, spec) pieces of a template whose fields are plain names
    without conversion or nested fields; None for any other template."""
    out: list[tuple[str, str | None, str]] = []
    for lit, name, spec, conv in fmt.parse(template):
        if name is None:
            out.append((lit, None, ""))
            continue
        if conv is not None or not name.isidentifier() or "{" in (spec or ""):
            return None
        out.append((lit, name, spec or ""))
    return tuple(out)


_FORMATTER = _Formatter()


@lru_cache(maxsize=512)
def _used_facts(rules: tuple[Rule, ...]) -> tuple[str, ...]:
    """The facts the reason and step templates of ``rules`` name (``rule`` aside: a
    rule's own name), each once; every fact when a template cannot be parsed."""
    names: dict[str, None] = {}
    try:
        for rule in rules:
            for t in (rule.reason, *(st.step for st in rule.protocol)):
                for _, name, spec, _ in _FORMATTER.parse(t):
                    for n in (name, *(f for _, f, _, _ in _FORMATTER.parse(spec or ""))):
                        if n is not None:
                            names[n.split(".")[0].split("[")[0]] = None
    except ValueError:
        return tuple(_FACTS)
    if any(n not in _FACTS for n in names):
        return tuple(_FACTS)
    return tuple(n for n in names if n != "rule")


def _squawk_meaning(sq: str) -> str:
    return SQUAWK_MEANING.get(sq, "not an emergency code")


#: how each value reason and step templates may use is found from an entry and its
#: classification (one function a name: a verdict computes only what its templates use)
_FACTS: dict[str, Callable[[Entry, Classification], Any]] = {
    "zone": lambda e, c: e.zone,
    "zone_kind": lambda e, c: e.zone_kind,
    "where": lambda e, c: e.zone + (" airspace" if e.zone_kind == "national" else " zone"),
    "track": lambda e, c: e.track,
    "icao24": lambda e, c: e.track.strip().lower() if c.cooperative else None,
    "callsign": lambda e, c: e.callsign,
    "cooperation": lambda e, c: "cooperative" if c.cooperative else "non-cooperative",
    "category": lambda e, c: c.category,
    "confidence": lambda e, c: c.confidence,
    "registration_state": lambda e, c: c.registration_state,
    "military": lambda e, c: {True: "yes", False: "no", None: "unknown"}[c.military],
    "squawk": lambda e, c: ", ".join(e.squawks) or "none",
    "squawk_meaning": lambda e, c: ", ".join(_squawk_meaning(s) for s in e.squawks) or "none",
    "max_depth_m": lambda e, c: e.max_depth_m,
    "depth_km": lambda e, c: e.max_depth_m / 1000.0,
    "duration_s": lambda e, c: e.duration_s,
    "min_altitude_m": lambda e, c: e.min_altitude_m,
    "max_altitude_m": lambda e, c: e.max_altitude_m,
    "rule": lambda e, c: "",
}


def _facts(entry: Entry, cls_: Classification) -> dict[str, Any]:
    """The values reason and step templates may use."""
    return {name: fact(entry, cls_) for name, fact in _FACTS.items()}


def _sample_facts() -> dict[str, Any]:
    """Facts with every value present, to test-render templates while loading."""
    # every optional field set (a callsign too): a value left None would render as
    # "unknown" and let a format spec pass here that fails on a real entry's value
    e = Entry("EST", "national", "abc123", 0.0, True, 10.0, 10.0, 1.0, (0.0, 0.0), None,
              1.0, 2.0, 1, callsign="ABC123")
    return dict(_facts(e, Classification(True, "jet", "EST", True, 0.5)), rule="r")


# ---------------------------------------------------------------------------- loading


@lru_cache(maxsize=1)
def _default_text() -> str:
    return resources.files("skyfence").joinpath("policies/default.yaml").read_text("utf-8")


def default_policy_path() -> Path:
    """Where the shipped default policy lives (to copy it as a starting point)."""
    return Path(str(resources.files("skyfence").joinpath("policies/default.yaml")))


def _policy_error(message: str) -> PolicyError:
    return PolicyError([message])


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """The document and a map from key path to 1-based line, for error messages.

    Read by :func:`skyfence.yamlfile.parse_yaml` (bounded alias expansion and size); an
    empty file is an error, and a document of only ``null`` is no policy (not "the
    default policy"): an empty mapping, which lacks rules.
    """
    from skyfence.yamlfile import parse_yaml

    doc = parse_yaml(text, source, what="policy file", error=_policy_error)
    return (doc.data if doc.data is not None else {}), doc.lines


def _template_problem(t: str) -> str | None:
    """What is wrong with a reason or step template (None: it renders every field)."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(t) if f is not None]
    except ValueError as exc:
        return f"bad template ({exc})"
    bad = [f for f in names if f not in _FACTS]
    if bad:
        return (f"unknown field(s) {', '.join('{' + b + '}' for b in bad)} "
                f"(known: {', '.join(_FACTS)})")
    try:
        _FORMATTER.format(t, **_sample_facts())
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        return f"bad template ({exc})"
    return None


def _steps(steps: Sequence[StepModel]) -> tuple[ProtocolStep, ...]:
    return tuple(ProtocolStep(s.step, s.after_s) for s in steps)


def _condition(w: WhenModel) -> Condition:
    band = None
    if w.altitude_m is not None:
        lo, hi = w.altitude_m.min, w.altitude_m.max
        band = (-math.inf if lo is None else lo, math.inf if hi is None else hi)
    flags = tuple((b, want) for b in BEHAVIOURS if (want := getattr(w, b)) is not None)
    return Condition(w.zone, w.zone_kind, w.cooperative, w.category, w.registration_state,
                     w.military, band, w.squawk, w.min_depth_m, w.min_duration_s, flags)


def _compile(doc: YamlDocument, watch_states: Sequence[str]) -> dict[str, Any]:
    """Validate a policy document (:mod:`skyfence.policy_schema`) and build its rules.

    The one check left after the schema: rule names are unique. Every problem is
    collected; any problem raises :class:`PolicyError` with all of them.
    """
    from skyfence.identify.icao_blocks import check_watch_state

    # --watch-state values: states with an ICAO block, or a usage error naming the value
    extra = [check_watch_state(w) for w in watch_states]
    if not isinstance(doc.data, Mapping):
        raise PolicyError([f"{doc.where(())}: expected a mapping with 'rules' at the top level"])
    model, variables, problems = validate_policy(doc, extra, _template_problem)
    if model is None:
        raise PolicyError(problems or [f"{doc.source}: invalid policy"])
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(model.rules):
        name = r.name if r.name is not None else f"rule {i + 1}"
        if name in seen:
            problems.append(problem_line(doc, ("rules", i, "name"),
                                         f"duplicate of rule {seen[name] + 1}"))
        seen.setdefault(name, i)
        rules.append(Rule(name, _condition(r.when), r.violation, r.severity, r.reason,
                          _steps(r.protocol), r.stop))
    if problems:
        raise PolicyError(problems)
    o, inc = model.otherwise, model.incidents
    return {
        "name": model.name if model.name is not None else Path(doc.source).stem,
        "description": model.description, "variables": variables, "rules": tuple(rules),
        "otherwise": Rule("otherwise", Condition(), o.violation, o.severity, o.reason,
                          _steps(o.protocol)),
        "incidents": IncidentSettings(inc.merge_s, inc.prefer, inc.disputed,
                                      inc.link_s),
    }


# ---------------------------------------------------------------------------- command


def policy_check_main(path: str) -> int:
    """``skyfence policy check FILE``: 0 and a summary when valid, 2 and every problem if not."""
    try:
        policy = Policy.load(path)
    except PolicyError as exc:
        for problem in exc.problems:
            print(f"skyfence: {problem}", file=sys.stderr)
        n = len(exc.problems)
        print(f"skyfence: {path}: invalid policy, {n} problem{'s' * (n != 1)}", file=sys.stderr)
        return 2
    print(f"{path}: valid policy '{policy.name}' with {len(policy.rules)} rule(s)")
    for i, r in enumerate(policy.rules, 1):
        flag = "violation" if r.violation else "no violation"
        esc = [s.after_s for s in r.protocol if s.after_s is not None]
        extra = f", escalation after {min(esc):g} s" if esc else ""
        print(f"  {i}. {r.name}: {r.severity}, {flag}, {len(r.protocol)} step(s){extra}"
              + (", stop" if r.stop else ""))
    return 0


__all__ = [
    "BEHAVIOURS", "CATEGORIES", "DEFAULT_LINK_S", "DEFAULT_MERGE_S", "DISPUTED_MODES",
    "SEVERITIES", "SEVERITY_ORDER", "Condition", "IncidentSettings", "Policy",
    "PolicyError", "ProtocolStep", "Rule", "Verdict", "default_policy_path",
    "policy_check_main",
]
