"""Protocol timers: an unacknowledged critical incident escalates at the policy's time,
an acknowledged one does not, and a restarted watcher resumes the timers.

The default policy gives a non-cooperative entry two timed steps: "inform the air
policing (QRA) controller" after 60 s and "escalate to the air operations centre if
still unacknowledged" after 120 s, counted from the incident's first entry. The replay
runs at speed 0 in 1 s slices with the feed's clock, so each escalation must come out
of the batch whose feed time first reaches entered_at + after_s: within 1 s of it (the
feed's clock ticks with its data: the tracks here report every second, like ADS-B).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from incidents.helpers import crossing, replay, store_watcher
from skyfence.evidence.timefmt import parse_iso
from skyfence.incidents.lifecycle import change_state, mark_step_done
from skyfence.incidents.queries import incident_detail
from skyfence.incidents.store import IncidentStore
from skyfence.policy import Policy

STEPS = [(s.step, s.after_s) for s in Policy().rules[0].protocol if s.after_s is not None]


def test_the_default_policy_has_the_timers_this_test_expects() -> None:
    assert [t for _, t in STEPS] == [60.0, 120.0]


def test_unacknowledged_escalates_on_time_acknowledged_does_not(store_url: str) -> None:
    # fixes every second, 0.001 degree of longitude apart; the circle's edge is at
    # lon 24.826: A enters at about 76 s, B at 376 s; B is acknowledged at 390 s
    every_s = {"lon0": 24.75, "lon1": 25.25, "n": 500, "step_s": 1.0}
    data = pd.concat([crossing("R0001", 0.0, **every_s), crossing("R0002", 300.0, **every_s)])
    with IncidentStore.open(store_url) as store:
        watcher, _ = store_watcher(store)
        out = replay(watcher, data, slice_s=1.0, until=data["time"].min() + 390.0)
        entry_b = next(e for _, e in out if e["event"] == "entry" and e["track"] == "R0002")
        change_state(store, entry_b["incident"]["id"], "ack", "alice", "on it")
        out += replay(watcher, data[data["time"] > data["time"].min() + 390.0], slice_s=1.0)
        entry_a = next(e for _, e in out if e["event"] == "entry" and e["track"] == "R0001")
        escalations = [(t, e) for t, e in out if e["event"] == "escalation"]
        assert {e["track"] for _, e in escalations} == {"R0001"}
        assert [e["step"]["n"] for _, e in escalations] == [4, 5]  # after the 3 immediate ones
        t_entry = parse_iso(entry_a["entered_at"])
        for (batch_t, e), (text, after_s) in zip(escalations, STEPS, strict=True):
            due = t_entry + after_s
            assert e["step"]["step"] == text
            assert abs(parse_iso(e["step"]["escalated_at"]) - due) <= 1.0
            assert due <= batch_t <= due + 1.0  # raised in the batch that reached it
            assert e["incident"]["id"] == entry_a["incident"]["id"]
            assert e["severity"] == "critical" and e["idempotency_key"]
        detail_b = incident_detail(store, entry_b["incident"]["id"])
        assert [s["escalated_at"] for s in detail_b["steps"]] == [None] * 5
        assert [a["kind"] for a in detail_b["audit"]][:3] == ["opened", "entry",
                                                              "acknowledged"]


def test_a_step_done_in_time_does_not_escalate(store_url: str) -> None:
    data = crossing("R0001", 0.0)
    with IncidentStore.open(store_url) as store:
        watcher, _ = store_watcher(store)
        out = replay(watcher, data, until=data["time"].min() + 240.0)
        inc = next(e for _, e in out if e["event"] == "entry")["incident"]["id"]
        mark_step_done(store, inc, 4, "alice")  # QRA informed; the 120 s step stays due
        out += replay(watcher, data[data["time"] > data["time"].min() + 240.0])
        assert [e["step"]["n"] for _, e in out if e["event"] == "escalation"] == [5]


def test_a_restarted_watcher_resumes_the_timers_and_raises_each_once(store_url: str) -> None:
    data = crossing("R0001", 0.0)
    with IncidentStore.open(store_url) as store:
        first, _ = store_watcher(store)
        before = replay(first, data, until=data["time"].min() + 240.0)  # entered, nothing due
        assert not [e for _, e in before if e["event"] == "escalation"]
        entry = next(e for _, e in before if e["event"] == "entry")
        # the process dies here (no close); a new watcher replays the feed from its start
        second, journal = store_watcher(store)
        after = replay(second, data)
        kinds = [e["event"] for _, e in after]
        assert "entry" not in kinds  # already stored and alerted
        esc = [e for _, e in after if e["event"] == "escalation"]
        assert [e["step"]["n"] for e in esc] == [4, 5]
        assert all(e["incident"]["id"] == entry["incident"]["id"] for e in esc)
        assert journal.repeats >= 1
        # a third pass changes nothing: every timer fired once
        third, _ = store_watcher(store)
        assert [e for _, e in replay(third, data) if e["event"] == "escalation"] == []


def test_timers_belong_to_their_feed(store_url: str) -> None:
    data = crossing("R0001", 0.0)
    with IncidentStore.open(store_url) as store:
        w, _ = store_watcher(store, origin="replay:a.csv")
        replay(w, data, until=data["time"].min() + 240.0)
        other, _ = store_watcher(store, origin="replay:b.csv")  # another replay, later data
        later = crossing("R0009", 10_000.0)
        assert [e for _, e in replay(other, later) if e["event"] == "escalation"
                and e["track"] == "R0001"] == []


def test_merge_s_comes_from_the_policy(store_url: str, tmp_path: Path) -> None:
    from skyfence.policy import default_policy_path

    p = tmp_path / "p.yaml"
    text = default_policy_path().read_text().split("\nincidents:")[0]
    p.write_text(text + "\nincidents: {merge_s: 0}\n")
    # out to lon 25.2 and back: the circle's edge is at lon 25.174 (10 km at 59 N is
    # 0.174 degrees of longitude), the fixes move 0.001 degree/s: about 52 s outside
    legs = dict(lon1=25.2, n=150, legs=2)
    with IncidentStore.open(store_url) as store:
        w, _ = store_watcher(store, policy=Policy.load(p))
        out = replay(w, crossing("R0001", 0.0, **legs))
        entries = [e for _, e in out if e["event"] == "entry"]
        exits = [e for _, e in out if e["event"] == "exit"]
        gap = parse_iso(entries[1]["entered_at"]) - parse_iso(exits[0]["exited_at"])
        assert 40.0 < gap < 60.0
        assert len({e["incident"]["id"] for e in entries}) == 2  # merge_s 0: two incidents
        w2, _ = store_watcher(store, origin="replay:again")  # the default policy: 120 s
        out2 = replay(w2, crossing("R0003", 5000.0, **legs))
        ids2 = {e["incident"]["id"] for _, e in out2 if e["event"] in ("entry", "exit")}
        assert len(ids2) == 1
