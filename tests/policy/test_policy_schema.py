"""Policy files are validated by the schema layer: every problem is reported with its line
(in file order by `policy check`); unknown keys at every level, NaN, infinities and
booleans where numbers belong are refused.

Expected line numbers are counted by hand in the YAML texts written below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skyfence.policy import Policy, PolicyError, policy_check_main

# line numbers:  1..14
GOOD = """\
version: 1
variables:
  zones: [EST]
rules:
  - name: deep
    when:
      zone: $zones
      altitude_m: {min: 0, max: 150}
    protocol:
      - {step: call, after_s: 60}
otherwise:
  severity: info
incidents:
  merge_s: 60
"""


def problems(tmp_path: Path, text: str) -> tuple[str, list[str]]:
    f = tmp_path / "p.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        Policy.load(f)
    return str(f), info.value.problems


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(GOOD, encoding="utf-8")
    p = Policy.load(f)
    (rule,) = p.rules
    assert rule.when.zones == frozenset({"EST"}) and rule.when.altitude_band == (0.0, 150.0)
    assert rule.protocol[0].after_s == 60.0 and p.incidents.merge_s == 60.0


@pytest.mark.parametrize(("old", "new", "line", "label"), [
    ("incidents:\n", "bogus: 1\nincidents:\n", 13, "policy"),
    ("    when:\n", "    bogus: 1\n    when:\n", 6, "rule 1 'deep'"),
    ("      zone: $zones\n", "      zone: $zones\n      bogus: 1\n", 8, "rule 1 'deep': when"),
    ("max: 150}", "max: 150, bogus: 1}", 8, "rule 1 'deep': when.altitude_m"),
    ("after_s: 60}", "after_s: 60, bogus: 1}", 10, "rule 1 'deep': protocol step 1"),
    ("  severity: info\n", "  severity: info\n  bogus: 1\n", 13, "otherwise"),
    ("  merge_s: 60\n", "  merge_s: 60\n  bogus: 1\n", 15, "incidents"),
])
def test_unknown_keys_are_refused_at_every_level(tmp_path: Path, old: str, new: str,
                                                 line: int, label: str) -> None:
    assert GOOD.count(old) == 1
    f, got = problems(tmp_path, GOOD.replace(old, new))
    assert len(got) == 1 and got[0].startswith(f"{f}:{line}: {label}: unknown key 'bogus' "
                                               "(known: "), got


@pytest.mark.parametrize(("old", "new", "line", "label", "what"), [
    ("merge_s: 60", "merge_s: .nan", 14, "incidents.merge_s", "must be a finite number"),
    ("after_s: 60}", "after_s: .inf}", 10, "rule 1 'deep': protocol step 1: after_s",
     "must be a finite number"),
    ("{min: 0,", "{min: true,", 8, "rule 1 'deep': when.altitude_m.min",
     "must be a number, got True"),
    ("      zone: $zones\n", "      zone: $zones\n      min_depth_m: -.inf\n", 8,
     "rule 1 'deep': when.min_depth_m", "must be a finite number"),
    ("      zone: $zones\n", "      zone: $zones\n      cooperative: 0\n", 8,
     "rule 1 'deep': when.cooperative", "must be true or false, got 0"),
    ("version: 1", "version: true", 1, "version", "unknown policy version True"),
    ("merge_s: 60", "merge_s: '60'", 14, "incidents.merge_s", "must be a number, got '60'"),
])
def test_nan_inf_and_booleans_are_not_numbers(tmp_path: Path, old: str, new: str, line: int,
                                              label: str, what: str) -> None:
    assert GOOD.count(old) == 1
    f, got = problems(tmp_path, GOOD.replace(old, new))
    assert len(got) == 1 and got[0].startswith(f"{f}:{line}: {label}: ") and what in got[0], got


def test_policy_check_lists_every_section_s_problems_in_file_order(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = """\
version: 2
variables:
  bad-name: [x]
  watch_states: [RUSSIA]
rules:
  - name: a
    when: {min_depth_m: .nan}
  - when: {approach: 1}
otherwise:
  severity: high
incidents: {merge_s: true}
"""
    f = tmp_path / "p.yaml"
    f.write_text(text, encoding="utf-8")
    assert policy_check_main(str(f)) == 2
    lines = capsys.readouterr().err.splitlines()
    expected = [
        (1, "version", "unknown policy version 2"),
        (3, "variables.bad-name", "bad variable name 'bad-name'"),
        (4, "variables.watch_states", "'RUSSIA' is not an ISO 3166-1 alpha-3 code"),
        (7, "rule 1 'a': when.min_depth_m", "must be a finite number"),
        (8, "rule 2: when.approach", "must be true or false, got 1"),
        (10, "otherwise: severity", "unknown severity 'high'"),
        (11, "incidents.merge_s", "must be a number, got True"),
    ]
    assert len(lines) == len(expected) + 1, lines
    for got, (line, label, what) in zip(lines, expected, strict=False):
        assert got.startswith(f"skyfence: {f}:{line}: {label}: ") and what in got, (got, line)
    assert lines[-1] == f"skyfence: {f}: invalid policy, 7 problems"


def test_duplicate_rule_names_are_found_after_the_schema(tmp_path: Path) -> None:
    text = "rules:\n  - name: a\n  - name: b\n  - name: a\n"  # the second 'a' is on line 4
    f, got = problems(tmp_path, text)
    assert got == [f"{f}:4: rule 3 'a': name: duplicate of rule 1"]
