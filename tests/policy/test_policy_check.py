"""`skyfence policy check FILE`: precise errors for invalid policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from skyfence.errors import ConfigError
from skyfence.policy import Policy, PolicyError, default_policy_path, policy_check_main

BAD = """\
version: 1
rules:
  - name: first
    when:
      cooperative: "no"
      category: [drone, plane]
    severity: severe
  - name: second
    when: {registration_state: [RUS, RUSSIA], colour: red}
    reason: "{track} in {airspace}"
    protocol:
      - step: escalate
        after_s: -5
  - when: {zone: $airports}
    violation: maybe
    extra: 1
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    f = tmp_path / "policy.yaml"
    f.write_text(text)
    with pytest.raises(PolicyError) as info:
        Policy.load(f)
    assert isinstance(info.value, ConfigError)  # a usage error: exit code 2
    return info.value.problems


def test_every_problem_is_named_with_file_line_rule_and_key(tmp_path: Path) -> None:
    got = problems(tmp_path, BAD)
    f = str(tmp_path / "policy.yaml")
    expected = [
        (5, "rule 1 'first': when.cooperative", "must be true or false"),
        (6, "rule 1 'first': when.category", "unknown category 'plane'"),
        (7, "rule 1 'first': severity", "unknown severity 'severe'"),
        (9, "rule 2 'second': when", "unknown key 'colour'"),
        (9, "rule 2 'second': when.registration_state", "'RUSSIA' is not an ISO 3166-1"),
        (10, "rule 2 'second': reason", "unknown field(s) {airspace}"),
        (13, "rule 2 'second': protocol step 1: after_s", "must be >= 0, got -5"),
        (16, "rule 3", "unknown key 'extra'"),
        (14, "rule 3: when.zone", "unknown variable '$airports'"),
        (15, "rule 3: violation", "must be true or false"),
    ]
    assert len(got) == len(expected), got
    for line, where, what in expected:
        assert any(p.startswith(f"{f}:{line}: {where}: ") and what in p for p in got), (
            line, where, what, got)


@pytest.mark.parametrize(("text", "needle"), [
    ("rules: [\n  {when: {cooperative: false}\n", "not valid YAML"),
    ("- a\n- b\n", "expected a mapping with 'rules'"),
    ("name: x\n", "rules: missing"),
    ("rules: {a: 1}\n", "rules: must be a list"),
    ("rules: []\nversion: 2\n", "unknown policy version 2"),
    ("rules: []\nvariables: {watch_states: [RUSSIA]}\n", "'RUSSIA' is not an ISO"),
    ("rules: []\notherwise: {severity: high}\n", "otherwise: severity: unknown severity"),
    ("rules: [{name: a}, {name: a}]\n", "rule 2 'a': name: duplicate of rule 1"),
    ("rules: [{when: {altitude_m: {min: 500, max: 100}}}]\n", "min 500 is above max 100"),
    ("rules: [{when: {squawk: 7800}}]\n", "'7800' is not a 4-digit octal"),
    # a valid code that is no emergency code would never match (entries keep only those)
    ("rules: [{when: {squawk: [7700, 1200]}}]\n",
     "'1200' never matches: entries keep only the emergency squawks 7500, 7600, 7700"),
    ("rules: [{when: {military: maybe}}]\n", "must be true, false or unknown"),
    ("rules: [{reason: '{max_depth_m:d}'}]\n", "bad template"),
    ("rules: [{protocol: call someone}]\n", "must be a list of steps"),
    ("rules: [{when: {zone_kind: national, approach: 1}}]\n", "when.approach"),
])
def test_single_problems(tmp_path: Path, text: str, needle: str) -> None:
    got = problems(tmp_path, text)
    assert any(needle in p for p in got), got


def test_check_command_exit_codes_and_output(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(BAD)
    assert policy_check_main(str(f)) == 2
    out, err = capsys.readouterr()
    assert out == "" and "invalid policy, 10 problems" in err
    assert err.count("skyfence: ") == 11
    assert policy_check_main(str(tmp_path / "missing.yaml")) == 2
    assert "policy file not found" in capsys.readouterr().err
    assert policy_check_main(str(default_policy_path())) == 0
    out, _ = capsys.readouterr()
    assert "valid policy 'skyfence default' with 9 rule(s)" in out
    assert "1. non-cooperative entry: critical, violation" in out
