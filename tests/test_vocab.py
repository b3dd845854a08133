"""One vocabulary: the closed sets and units are defined once, in ``skyfence.vocab``.

References are independent of the code: the category and severity lists are copied
from the incident-record contract (shared/contract/README.md, ``classification`` and
``severity`` rows); the units are their legal definitions (international foot of 1959
= 0.3048 m exactly, nautical mile = 1852 m exactly, knot = one nautical mile per hour).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import skyfence
from skyfence import policy, policy_schema, vocab
from skyfence.identify.classify import categorize, category_scores

SRC = Path(skyfence.__file__).parent

# the contract's record table, typed out by hand
CONTRACT_CATEGORIES = ("airliner", "jet", "propeller", "helicopter", "drone", "balloon",
                       "unknown")
CONTRACT_SEVERITIES = ("info", "warning", "critical")


def test_sets_match_the_contract() -> None:
    assert vocab.CATEGORIES == CONTRACT_CATEGORIES
    assert vocab.SEVERITIES == CONTRACT_SEVERITIES
    assert vocab.ZONE_KINDS == ("national", "custom")
    assert set(vocab.BEHAVIOURS) == {"approach", "loitering", "went_dark"}
    # info < warning < critical, as the contract orders them
    assert sorted(CONTRACT_SEVERITIES, key=vocab.SEVERITY_ORDER.__getitem__) == [
        "info", "warning", "critical"]


def test_units_are_their_definitions() -> None:
    assert vocab.FT == 0.3048
    assert vocab.NM == 1852.0
    # 1 kt = 1852 m / 3600 s = 0.51444... m/s; 1 ft/min = 0.3048 m / 60 s = 0.00508 m/s
    assert abs(vocab.KT - 0.514444444) < 1e-9
    assert abs(vocab.FPM - 0.00508) < 1e-12
    assert vocab.UNITS["kt"] == vocab.KT and vocab.UNITS["ft/min"] == vocab.UNITS["fpm"]


def test_policy_uses_the_vocabulary() -> None:
    # the policy validates against the very same objects, not copies that could drift
    assert policy.CATEGORIES is vocab.CATEGORIES
    assert policy.SEVERITIES is vocab.SEVERITIES
    assert policy.BEHAVIOURS is vocab.BEHAVIOURS
    assert policy_schema.ZONE_KINDS is vocab.ZONE_KINDS


def test_classifier_scores_every_category_but_unknown() -> None:
    scores = category_scores([250.0], [11000.0])
    assert scores.shape == (1, len(vocab.CATEGORIES) - 1)
    names, _ = categorize([250.0, np.nan], [11000.0, 11000.0])
    # an airliner's cruise (250 m/s at 11 km) and no speed at all
    assert list(names) == ["airliner", "unknown"]
    assert set(names) <= set(vocab.CATEGORIES)


# Definitions that must live in vocab.py alone. Files still to switch belong to work in
# progress elsewhere and are listed with the reason; the list only shrinks.
_PATTERNS = {
    "severities": re.compile(r"""["']info["'],\s*["']warning["'],\s*["']critical["']"""),
    "categories": re.compile(r"""["']airliner["'],\s*["']jet["'],\s*["']propeller["']"""),
    "behaviours": re.compile(r"""["']approach["'],\s*["']loitering["'],\s*["']went_dark["']"""),
    "feet": re.compile(r"\b0\.3048\b"),
    "nautical miles": re.compile(r"\b1852(\.0*)?\b"),
}
_PENDING = {
    "sources/tabular.py": {"feet", "nautical miles"},  # input validation: use vocab.UNITS
}


def test_nothing_else_defines_them() -> None:
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "vocab.py":
            continue
        text = path.read_text(encoding="utf-8")
        hits = {name for name, pattern in _PATTERNS.items() if pattern.search(text)}
        if hits - _PENDING.get(rel, set()):
            found[rel] = hits
    assert found == {}, f"defined outside skyfence/vocab.py: {found}"
