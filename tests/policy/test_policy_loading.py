"""Loading a policy: what the file gives the Policy object, and what `policy check` says.

Written against the format and semantics in ``skyfence/policy.py``'s module docstring;
each expected value is read off the hand-written YAML next to it. They were added to
kill mutants that survived ``python scripts/mutate.py policy`` (see ``docs/mutation.md``):
defaults of unnamed rules and policies, the ``otherwise`` and ``incidents`` sections,
the policy text a dossier stores, the load-time template check, and the check command's
summary.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from skyfence.model import Classification, Entry
from skyfence.policy import (
    IncidentSettings,
    Policy,
    PolicyError,
    ProtocolStep,
    policy_check_main,
)

COOP = Classification(cooperative=True, category="jet", registration_state="CHE",
                      military=False, confidence=0.75)


def entry(*, alt: tuple[float | None, float | None] = (3000.0, 3500.0),
          callsign: str | None = "SWR123") -> Entry:
    """A hand-built cooperative entry into EST, 90 s long, 2500 m deep."""
    return Entry("EST", "national", "4B1A2C", 1000.0, True, 1090.0, 1090.0, 2500.0,
                 (59.8, 26.3), (59.8, 26.0), alt[0], alt[1], 40, callsign=callsign)


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


# ----------------------------------------------------------------- defaults and sections


def test_unnamed_rules_are_numbered_from_one_and_the_policy_named_by_its_file(
        tmp_path: Path) -> None:
    # the docstring: a rule's name "defaults to 'rule N'" (N counts from 1 in file order);
    # a policy without `name` is named after its file (stem of "airport.yaml")
    f = write(tmp_path, "rules:\n  - {}\n  - {}\n  - name: third\n", "airport.yaml")
    pol = Policy.load(f)
    assert pol.name == "airport"
    assert [r.name for r in pol.rules] == ["rule 1", "rule 2", "third"]
    # every rule has an empty `when`, so all three apply, in file order
    assert pol.judge(entry(), COOP).rules == ("rule 1", "rule 2", "third")


def test_otherwise_gives_its_violation_severity_steps_and_is_named_otherwise() -> None:
    pol = Policy(document={
        "rules": [{"name": "never", "when": {"zone": ["LVA"]}}],
        "otherwise": {"violation": True, "severity": "warning", "reason": "{rule}: {zone}",
                      "protocol": ["log {track}", {"step": "call", "after_s": 30}]}})
    v = pol.judge(entry(), COOP)  # zone EST: the only rule does not match
    assert v.rules == ()  # no rule applied...
    assert (v.violation, v.severity) == (True, "warning")  # ...so `otherwise` decides
    assert v.reasons == ("otherwise: EST",)
    assert v.protocol == (ProtocolStep("log 4B1A2C"), ProtocolStep("call", 30.0))


def test_incidents_section_is_read() -> None:
    pol = Policy(document={"rules": [], "incidents": {
        "merge_s": 45, "prefer": ["ukr", "RUS"], "disputed": "name"}})
    assert pol.incidents == IncidentSettings(45.0, ("UKR", "RUS"), "name")


def test_description_and_source() -> None:
    pol = Policy(document={"rules": [], "description": "for the EKYT test range"})
    assert pol.description == "for the EKYT test range"
    assert pol.source == "<default policy>"  # a document given directly, not a file
    assert Policy.default().source == "default.yaml"


def test_altitude_band_with_only_a_minimum_is_open_above() -> None:
    # altitude_m {min: 100}: the band is [100, +inf); 30 000 m overlaps it, 50 m does not
    pol = Policy(document={"rules": [{"name": "high", "when": {"altitude_m": {"min": 100}}}]})
    assert pol.judge(entry(alt=(29_000.0, 30_000.0)), COOP).rules == ("high",)
    assert pol.judge(entry(alt=(20.0, 50.0)), COOP).rules == ()
    low = Policy(document={"rules": [{"name": "low", "when": {"altitude_m": {"max": 100}}}]})
    assert low.judge(entry(alt=(-400.0, -300.0)), COOP).rules == ("low",)
    assert low.judge(entry(alt=(150.0, 160.0)), COOP).rules == ()


def test_templates_with_conversions_render_like_str_format() -> None:
    # "{track!r}" is not a plain field: rendered as "{!r}".format("4B1A2C") = "'4B1A2C'"
    pol = Policy(document={"rules": [{"name": "r", "reason": "{track!r} at {depth_km:.1f} km"}]})
    assert pol.judge(entry(), COOP).reasons == ("'4B1A2C' at 2.5 km",)


# ----------------------------------------------------------------- the stored text


def test_text_of_a_document_keeps_its_order_and_non_ascii_letters() -> None:
    """A dossier stores ``Policy.text`` and its SHA-256: it must be the document itself,
    keys in the given order (not sorted) and letters as written (not escaped)."""
    doc = {"rules": [{"name": "Zürich TMA", "when": {"zone": ["LSZH"]}}],
           "name": "Schweiz", "description": "Überwachung"}
    text = Policy(document=doc).text
    assert yaml.safe_load(text) == doc
    assert text.index("rules:") < text.index("name: Schweiz")  # given order, not sorted
    assert "Zürich TMA" in text and "Überwachung" in text


def test_text_of_a_file_is_the_file(tmp_path: Path) -> None:
    body = "# comment kept\nrules: []\n"
    assert Policy.load(write(tmp_path, body)).text == body


# ----------------------------------------------------------------- templates at load time


@pytest.mark.parametrize("template", [
    # each format spec is valid for None (rendered "unknown") but not for the field's
    # real type: str with ":d", float with ":x". A policy that would crash while judging
    # a real entry must be refused when it is loaded.
    "{callsign:d}", "{zone_kind:d}", "{category:d}", "{registration_state:d}",
    "{icao24:d}", "{rule:d}", "{confidence:x}", "{min_altitude_m:x}", "{max_altitude_m:x}",
])
def test_a_template_that_cannot_render_a_real_entry_is_refused_at_load(
        template: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy(document={"rules": [{"name": "r", "reason": template}]})
    assert len(info.value.problems) == 1 and "bad template" in info.value.problems[0]


def test_every_field_with_a_valid_spec_loads_and_renders() -> None:
    # the converse: specs valid for the real types load, and judge a real entry
    pol = Policy(document={"rules": [{"name": "r", "reason": "{callsign:>8}|{depth_km:.0f}"}]})
    assert pol.judge(entry(), COOP).reasons == ("  SWR123|2",)  # 2.5 km rounds half-even


# ----------------------------------------------------------------- files and options


def test_from_options_loads_the_file_with_the_watch_states(tmp_path: Path) -> None:
    f = write(tmp_path, "name: range\nvariables: {watch_states: [BLR]}\nrules: []\n")
    pol = Policy.from_options(["rus"], f)
    assert pol.name == "range" and pol.watch_states == {"BLR", "RUS"}


def test_unreadable_and_invalid_files_are_errors_naming_the_file(tmp_path: Path) -> None:
    bad_utf8 = tmp_path / "latin1.yaml"
    bad_utf8.write_bytes("name: Zürich\nrules: []\n".encode("latin-1"))
    for path in (bad_utf8, write(tmp_path, "rules: [\n", "broken.yaml")):
        with pytest.raises(PolicyError) as info:
            Policy.load(path)
        assert len(info.value.problems) == 1
        assert info.value.problems[0].startswith(f"{path}:"), info.value.problems


def test_a_null_document_is_a_policy_without_rules(tmp_path: Path) -> None:
    # the docstring of _parse_yaml: "a document of only null is ... an empty mapping,
    # which lacks rules"
    with pytest.raises(PolicyError) as info:
        Policy.load(write(tmp_path, "null\n"))
    assert "rules" in info.value.problems[0] and "missing" in info.value.problems[0]


def test_policy_error_message_counts_the_other_problems() -> None:
    # the one-line message a scan shows: the first problem, then how many more (3 - 1)
    assert str(PolicyError(["a.yaml:1: x", "a.yaml:2: y", "a.yaml:3: z"])) == (
        "a.yaml:1: x (and 2 more)")
    assert str(PolicyError(["a.yaml:1: x", "a.yaml:2: y"])) == "a.yaml:1: x (and 1 more)"
    assert str(PolicyError(["a.yaml:1: x"])) == "a.yaml:1: x"


# ----------------------------------------------------------------- the check command

SUMMARY = """\
name: summary
rules:
  - name: watch
    when: {cooperative: false}
    violation: true
    severity: critical
    protocol:
      - now
      - {step: later, after_s: 90}
      - {step: sooner, after_s: 2.5}
    stop: true
  - name: note
"""


def test_check_summary_names_each_rule(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, SUMMARY)
    assert policy_check_main(str(f)) == 0
    out, err = capsys.readouterr()
    # rule 1: 3 steps, the earliest escalation min(90, 2.5) = 2.5 s, stop; rule 2: the
    # defaults (info, no violation, no steps, no stop)
    assert out.splitlines() == [
        f"{f}: valid policy 'summary' with 2 rule(s)",
        "  1. watch: critical, violation, 3 step(s), escalation after 2.5 s, stop",
        "  2. note: info, no violation, 0 step(s)",
    ]
    assert err == ""


def test_check_counts_one_problem_in_the_singular(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, "rules: [{severity: high}]\n")
    assert policy_check_main(str(f)) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[-1] == f"skyfence: {f}: invalid policy, 1 problem"
