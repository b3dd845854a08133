"""Score a scenario run against its ground truth.

An **incursion** is a truth entry (from the noise-free truth, see
:mod:`skyfence.scenarios.generate`) of a scripted aircraft whose ``expect`` is a
severity. A pipeline record **matches** it when it is in the same zone, follows the same
truth target (the majority of the plots behind its fixes) and overlaps it in time.

- ``detection_rate``: incursions matched by at least one violation record;
- ``false_alarms``: violation records that match no incursion (a civil flight, a
  transponder aircraft of an unwatched state, a clutter track);
- ``entry_error_s`` / ``exit_error_s``: worst absolute difference between the earliest
  matched entry (latest matched exit, or last inside fix when the track ends inside) and
  the truth; a **border contact** of the target's track just before (a first crossing
  less than two position sigmas deep, see :func:`~skyfence.incidents.assess.
  within_accuracy`, that noise took back out before the violation) counts as where the
  entry began (the incident store groups entries of a track less than ``merge_s``
  apart into one incident);
- ``depth_error_m``: worst absolute difference of the deepest matched record and the
  truth's maximum depth;
- ``alert_delay_s``: worst time from the true entry to the emission of the first inside
  fix of a matched violation (when a live pipeline could have alerted; for a radar
  track, the first by which the entry is two position sigmas deep); one incursion's
  delay can be slightly negative when measurement noise puts a fix inside first;
- ``severity_correct``: every incursion detected, each with the expected severity;
- ``incursions`` / ``incidents``: truth incursions, and the violation incidents the
  incident store makes of the records (:func:`stored_incidents`, as ``skyfence scan
  --store`` would): a track that crosses the border back and forth within the policy's
  ``merge_s`` is one incident, a target broken into tracks that the store links
  (a track lost inside continued by a new one, :mod:`skyfence.incidents.grouping`) is
  one, a target broken into pieces it cannot link shows as several;
- ``tracks_per_target``, ``id_switches``, ``ospa_m``, ``false_tracks_per_h``: the radar
  tracker's figures, see :mod:`skyfence.scenarios.tracking_score`;
- ``category_balanced_accuracy``: the classifier's mean recall over the truth
  categories of the records that follow scripted aircraft (:func:`category_pairs`);
- ``registration``: per radar, the range and azimuth bias estimated against ADS-B.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skyfence.incidents.assess import within_accuracy
from skyfence.incidents.queries import IncidentRecord, incident_records
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.writer import begin_run, store_records
from skyfence.model import Entry
from skyfence.policy import SEVERITY_ORDER
from skyfence.scenarios.pipeline import ScenarioResult, run_scenario
from skyfence.scenarios.spec import Scenario
from skyfence.scenarios.tracking_score import TrackingScore, tracking_score

#: slack when matching a record to a truth entry in time (s)
MATCH_SLACK_S = 30.0


@dataclass
class IncursionScore:
    """How the pipeline did on one truth incursion."""

    target: str
    zone: str
    expected: str
    truth: Entry
    detected: bool
    severity: str | None
    entry_error_s: float | None
    exit_error_s: float | None
    depth_error_m: float | None
    alert_delay_s: float | None
    tracks: tuple[str, ...]


def _end(e: Entry) -> float:
    return e.exited_at if e.exited_at is not None else e.last_inside_at


def score_incursions(res: ScenarioResult) -> tuple[list[IncursionScore], list[int]]:
    """Per-incursion scores and the indices of the false-alarm records."""
    gen = res.generated
    entries, records = res.scan.entries, res.records
    matched_records: set[int] = set()
    scores: list[IncursionScore] = []
    for te in gen.truth_entries:
        ac = gen.targets.get(te.track)
        if ac is None or ac.expect is None:
            continue
        lo, hi = te.entered_at - MATCH_SLACK_S, _end(te) + MATCH_SLACK_S
        near = [i for i, e in enumerate(entries)
                if e.zone == te.zone and res.record_targets[i] == te.track
                and e.entered_at <= hi and _end(e) >= lo]
        hits = [i for i in near if records[i]["violation"]]
        contacts = [i for i in near if not records[i]["violation"]
                    and within_accuracy(entries[i])]
        matched_records.update(hits)
        if not hits:
            scores.append(IncursionScore(te.track, te.zone, ac.expect, te, False, None, None,
                                         None, None, None, ()))
            continue
        first = min(entries[i].entered_at for i in hits + contacts)
        last = max(_end(entries[i]) for i in hits + contacts)
        depth = max(entries[i].max_depth_m for i in hits)
        severity = max((records[i]["severity"] for i in hits), key=SEVERITY_ORDER.__getitem__)
        alerts = [a for a in (res.alert_times[i] for i in hits) if a is not None]
        scores.append(IncursionScore(
            te.track, te.zone, ac.expect, te, True, severity, abs(first - te.entered_at),
            abs(last - _end(te)), abs(depth - te.max_depth_m),
            (min(alerts) - te.entered_at) if alerts else None,
            tuple(sorted({entries[i].track for i in hits}))))
    false = [i for i, r in enumerate(records) if r["violation"] and i not in matched_records]
    return scores, false


def stored_incidents(res: ScenarioResult) -> list[IncidentRecord]:
    """Every incident the store makes of a run's records: the records stored as
    ``skyfence scan --store`` stores them (a scan run, the scenario's policy and zones),
    in a store of their own that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="skyfence-eval-") as d, \
            IncidentStore.open(Path(d) / "incidents.sqlite") as store:
        run = begin_run(store, "scan", "eval", res.policy, res.generated.zones,
                        {"scenario": res.scenario.name})
        store_records(store, run, res.records)
        return incident_records(store, every=True)


def category_pairs(res: ScenarioResult) -> list[tuple[str, str]]:
    """(truth category, classified category) for every record that follows a scripted
    aircraft: the labelled data for a confusion matrix of the classifier."""
    out = []
    for r, t in zip(res.records, res.record_targets, strict=True):
        ac = res.generated.targets.get(t) if t is not None else None
        if ac is not None:
            out.append((ac.category, str(r["classification"]["category"])))
    return out


def balanced_accuracy(pairs: list[tuple[str, str]]) -> float | None:
    """Mean over the truth categories of the share classified right (None: no pairs).

    >>> balanced_accuracy([("jet", "jet"), ("jet", "airliner"), ("drone", "drone")])
    0.75
    """
    if not pairs:
        return None
    truth = sorted({t for t, _ in pairs})
    recall = [sum(1 for t, p in pairs if t == c and p == c) / sum(1 for t, _ in pairs if t == c)
              for c in truth]
    return round(sum(recall) / len(recall), 4)


def _worst(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(max(known), 3) if known else None


#: the keys of ``skyfence eval --json``, in order
EVAL_KEYS = ("scenario", "detection_rate", "false_alarms", "entry_error_s", "exit_error_s",
             "depth_error_m", "alert_delay_s", "severity_correct", "incursions", "incidents",
             "tracks_per_target", "id_switches", "ospa_m", "false_tracks_per_h",
             "category_balanced_accuracy", "registration")


def summarize(res: ScenarioResult) -> dict[str, Any]:
    """The evaluation object of ``skyfence eval --json`` (exactly :data:`EVAL_KEYS`)."""
    scores, false = score_incursions(res)
    return _summary(res, scores, false, radar_tracking(res))


def radar_tracking(res: ScenarioResult) -> TrackingScore:
    """The tracker's figures of a run (fragmentation counted on the scripted aircraft)."""
    gen, sc = res.generated, res.scenario
    period = min(r.period_s for r in sc.radars)
    duration = float(gen.truth["time"].max() - gen.truth["time"].min())
    return tracking_score(res.radar_tracks, gen.plots, gen.truth,
                          {a.id for a in sc.aircraft}, period, duration)


def _summary(res: ScenarioResult, scores: list[IncursionScore],
             false: list[int], tracking: TrackingScore) -> dict[str, Any]:
    n = len(scores)
    detected = [s for s in scores if s.detected]
    return {
        "scenario": res.scenario.name,
        "detection_rate": round(len(detected) / n, 4) if n else None,
        "false_alarms": len(false),
        "entry_error_s": _worst([s.entry_error_s for s in detected]),
        "exit_error_s": _worst([s.exit_error_s for s in detected]),
        "depth_error_m": _worst([s.depth_error_m for s in detected]),
        "alert_delay_s": _worst([s.alert_delay_s for s in detected]),
        "severity_correct": bool(n) and all(s.detected and s.severity == s.expected
                                            for s in scores),
        "incursions": n,
        "incidents": sum(1 for i in stored_incidents(res) if i["violation"]),
        "tracks_per_target": tracking["tracks_per_target"],
        "id_switches": tracking["id_switches"],
        "ospa_m": tracking["ospa_m"],
        "false_tracks_per_h": tracking["false_tracks_per_h"],
        "category_balanced_accuracy": balanced_accuracy(category_pairs(res)),
        "registration": {e["radar"]: {"range_bias_m": e["range_bias_m"],
                                      "azimuth_bias_deg": e["azimuth_bias_deg"],
                                      "pairs": e["pairs"]} for e in res.registration},
    }


@dataclass
class Evaluation:
    """A scored run: the summary, the per-incursion scores and the false alarms."""

    result: ScenarioResult
    summary: dict[str, Any]
    incursions: list[IncursionScore]
    false_alarms: list[int]
    tracking: TrackingScore

    @property
    def civil_flagged(self) -> list[int]:
        """False-alarm records that follow a recorded civil (background) flight."""
        res = self.result
        return [i for i in self.false_alarms if res.record_targets[i] is not None
                and res.record_targets[i] in res.generated.targets
                and res.generated.targets[res.record_targets[i] or ""] is None]


def score(res: ScenarioResult) -> Evaluation:
    """Score a run in full (what ``skyfence eval`` prints as text)."""
    scores, false = score_incursions(res)
    tracking = radar_tracking(res)
    return Evaluation(res, _summary(res, scores, false, tracking), scores, false, tracking)


def evaluate(name_or_path: str | Path | Scenario) -> dict[str, Any]:
    """Run a scenario and score it: the ``skyfence eval --json`` object."""
    return summarize(run_scenario(name_or_path))
