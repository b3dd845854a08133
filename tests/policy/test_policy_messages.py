"""Every problem of a policy file, word for word: the line, the label and the message an
operator reads in ``skyfence policy check``. The expected lines are written out here from
the file's own text (its line numbers, the vocabulary's lists in ``skyfence.vocab``), so a
message that loses a part, an item or its order fails."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policy.test_policy_schema import problems
from policy.test_policy_semantics import COOP, entry
from skyfence.policy import Policy, PolicyError, default_policy_path
from skyfence.policy_schema import PolicyModel, validate_policy
from skyfence.vocab import CATEGORIES, ZONE_KINDS
from skyfence.yamlfile import YamlDocument

# line numbers are the file's: keep BAD's lines where the expectations say
BAD = """\
version: 1
variables:
  bad_list: [1.5]
  7: [EST]
  flag: true
  airports: EKCH
  9lives: [EST]
rules:
  - name: kinds
    when:
      zone_kind: [national, moon, $nope]
      category: [1.5, drone, plane]
      military: [true, maybe, $nope]
      squawk: ["7700", $nope, "1200", "99"]
      registration_state: [$nope, EST, $airports]
  - name: "  "
    severity: severe
    protocol: call the duty officer
  - when: {zone: $airports}
    reason: "{track} in {airspace} {nosuch}"
incidents:
  prefer: [radar, $nope, 2.5]
  disputed: sometimes
"""

KNOWN_VARS = "(known: $airports, $watch_states)"
TEMPLATE_FIELDS = ("zone, zone_kind, where, track, icao24, callsign, cooperation, category, "
                   "confidence, registration_state, military, squawk, squawk_meaning, "
                   "max_depth_m, depth_km, duration_s, min_altitude_m, max_altitude_m, rule")


def test_every_problem_word_for_word_in_file_order(tmp_path: Path) -> None:
    f, got = problems(tmp_path, BAD)
    assert ZONE_KINDS == ("national", "custom")
    assert CATEGORIES == ("airliner", "jet", "propeller", "helicopter", "drone", "balloon",
                          "unknown")
    assert got == [
        f"{f}:3: variables.bad_list: must be a list of strings",
        # a key that is not a string: on its own line, labelled without pydantic's "[key]"
        f"{f}:4: variables[7]: must be a string, got 7",
        f"{f}:5: variables.flag: must be a list of strings",
        f"{f}:7: variables.9lives: bad variable name '9lives'",
        # a bad item first does not hide the ones after it; problems joined by "; "
        f"{f}:11: rule 1 'kinds': when.zone_kind: unknown variable '$nope' {KNOWN_VARS}; "
        "unknown zone kind 'moon' (known: national, custom)",
        f"{f}:12: rule 1 'kinds': when.category: expected a string or list of strings, "
        "got 1.5; unknown category 'plane' (known: airliner, jet, propeller, helicopter, "
        "drone, balloon, unknown)",
        # references are resolved (and their problems found) before values are checked
        f"{f}:13: rule 1 'kinds': when.military: unknown variable '$nope' {KNOWN_VARS}; "
        "must be true, false or unknown, got 'maybe'",
        f"{f}:14: rule 1 'kinds': when.squawk: unknown variable '$nope' {KNOWN_VARS}; "
        "'0099' is not a 4-digit octal squawk code; '1200' never matches: entries keep "
        "only the emergency squawks 7500, 7600, 7700",
        # $airports is one value, EKCH (a single string is a list of one)
        f"{f}:15: rule 1 'kinds': when.registration_state: unknown variable '$nope' "
        f"{KNOWN_VARS}; 'EKCH' is not an ISO 3166-1 alpha-3 code or 'unknown'",
        f"{f}:16: rule 2: name: must be a non-empty string",
        f"{f}:17: rule 2: severity: unknown severity 'severe' (known: info, warning, "
        "critical)",
        f"{f}:18: rule 2: protocol: must be a list of steps, got 'call the duty officer'",
        f"{f}:20: rule 3: reason: unknown field(s) {{airspace}}, {{nosuch}} (known: "
        f"{TEMPLATE_FIELDS})",
        f"{f}:22: incidents.prefer: unknown variable '$nope' {KNOWN_VARS}; expected a "
        "string or list of strings, got 2.5",
        f"{f}:23: incidents.disputed: unknown mode 'sometimes' (known: judge, name)",
    ]


def test_the_template_fields_named_are_the_ones_a_reason_can_use(tmp_path: Path) -> None:
    """The list the message gives is the list that renders: each field in a reason."""
    fields = TEMPLATE_FIELDS.split(", ")
    reason = " ".join("{" + x + "}" for x in fields)
    pol = Policy(document={"rules": [{"name": "all", "reason": reason}]})
    (text,) = pol.judge(entry(), COOP).reasons
    assert "{" not in text and len(text.split()) >= len(fields)


def test_a_missing_rules_list_comes_before_line_one(tmp_path: Path) -> None:
    """A problem with no line of its own (a key that is missing) sorts first."""
    f, got = problems(tmp_path, "version: 2\n")
    assert got == [f"{f}: rules: missing (required)",
                   f"{f}:1: version: unknown policy version 2 (known: 1)"]


def test_an_empty_file_and_a_missing_one_are_named_as_policy_files(tmp_path: Path) -> None:
    f, got = problems(tmp_path, "")
    assert got == [f"{f}: the policy file is empty"]
    with pytest.raises(PolicyError) as info:
        Policy.load(tmp_path / "nowhere.yaml")
    assert info.value.problems == [f"{tmp_path / 'nowhere.yaml'}: policy file not found"]


def test_a_rule_with_an_empty_when_matches_everything() -> None:
    """``when:`` with nothing after it is YAML null: no condition, not an error."""
    pol = Policy(document=yaml.safe_load("rules:\n  - name: any\n    when:\n"))
    assert pol.judge(entry(), COOP).rules == ("any",)


def test_variables_of_one_value_and_numbers() -> None:
    """A single string is a list of one (not its letters); an integer is a string."""
    pol = Policy(document=yaml.safe_load(
        "variables: {airports: EKCH, codes: 7700}\n"
        "rules:\n  - name: a\n    when: {zone: $airports}\n"
        "  - name: b\n    when: {squawk: $codes}\n"))
    assert pol.variables["airports"] == ("EKCH",)
    assert pol.variables["codes"] == ("7700",)
    assert pol.judge(entry(zone="EKCH", kind="custom"), COOP).rules == ("a",)
    assert pol.judge(entry(squawks=("7700",)), COOP).rules == ("b",)


def test_validate_policy_gives_no_model_when_only_a_variable_is_wrong() -> None:
    doc = YamlDocument({"variables": {"9lives": ["EST"]}, "rules": []}, "p.yaml", {})
    model, variables, problems = validate_policy(doc, (), lambda t: None)
    assert model is None
    assert problems == ["p.yaml: variables.9lives: bad variable name '9lives'"]
    assert variables == {"watch_states": ()}


def test_validate_policy_of_a_document_that_is_not_a_mapping() -> None:
    doc = YamlDocument(["rules"], "p.yaml", {})
    model, variables, problems = validate_policy(doc, ("EST",), lambda t: None)
    assert model is None and variables == {"watch_states": ("EST",)}
    assert problems == ["p.yaml: policy: must be a mapping, got ['rules']"]


def test_the_model_alone_knows_watch_states_and_takes_any_template() -> None:
    """Validated without a context (no policy around it), the model still resolves
    ``$watch_states`` (empty) and lets templates through."""
    m = PolicyModel.model_validate({"rules": [{"when": {"registration_state":
                                                        "$watch_states"},
                                               "reason": "{nosuch}"}]})
    assert m.rules[0].when.registration_state == frozenset()
    assert m.rules[0].reason == "{nosuch}"


def test_link_s_is_read_from_the_file() -> None:
    pol = Policy(document={"rules": [], "incidents": {"link_s": 30, "merge_s": 200}})
    assert (pol.incidents.link_s, pol.incidents.merge_s) == (30.0, 200.0)


def test_a_squawk_rule_names_what_the_code_means_and_facts_name_any_code() -> None:
    pol = Policy(document={"rules": [{"name": "hij", "when": {"squawk": "7500"},
                                      "reason": "{squawk}: {squawk_meaning}"}],
                           "otherwise": {"reason": "{squawk}: {squawk_meaning}"}})
    assert pol.judge(entry(squawks=("7500",)), COOP).reasons == ("7500: unlawful interference",)
    # an entry built by hand (not by the detector) with an ordinary code
    assert pol.judge(entry(squawks=("1200",)), COOP).reasons == (
        "1200: not an emergency code",)


def test_repr_names_the_policy_its_rule_count_and_watched_states() -> None:
    doc = yaml.safe_load(default_policy_path().read_text(encoding="utf-8"))
    pol = Policy.default(["lva", " est "])
    assert repr(pol) == (f"Policy(name={doc['name']!r}, rules={len(doc['rules'])}, "
                         "watch_states=['EST', 'LVA'])")


@pytest.mark.parametrize(("path", "data", "expected"), [
    # a rule index past the list (the problem is about a rule not written): no name
    (("rules", 1, "when"), {"rules": [{"name": "first"}]}, "rule 2: when"),
    # rules that are not a list, a rule that is not a mapping, a document that is a list
    (("rules", 0, "when"), {"rules": "text"}, "rule 1: when"),
    (("rules", 0, "when"), {"rules": ["x"]}, "rule 1: when"),
    (("rules", 0, "when"), ["rules"], "rule 1: when"),
    (("rules", 0, "protocol", 2, "after_s"), {"rules": [{"name": " n "}]},
     "rule 1 ' n ': protocol step 3: after_s"),
    (("variables", "x", "[key]"), {}, "variables.x"),
])
def test_label_of_any_document(path: tuple[object, ...], data: object, expected: str) -> None:
    from skyfence.policy_schema import label

    assert label(path, data) == expected
