"""The incident writer's own rules, on records written by hand into a SQLite store: the
idempotency key of an update, and an entry left open by a watcher that stopped, resumed
by the same track more than ``merge_s`` later.

Times by hand: the track ``R0001`` (radar only: a critical violation under the default
policy) enters the 10 km circle ``BOX`` at T0 = 2025-09-19T06:30:00Z; the watcher stops
with it inside, its last inside fix at T0 + 100 s. The default ``merge_s`` is 120 s and
an open entry is resumed up to ``RESUME_S`` (3600 s) after its last inside fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from incidents.helpers import T0, ZONE
from skyfence.incidents.assess import Assessor
from skyfence.incidents.grouping import RESUME_S
from skyfence.incidents.schema import ENTRIES, INCIDENTS
from skyfence.incidents.store import IncidentStore
from skyfence.incidents.writer import alert_key, begin_run, record_alert
from skyfence.model import Entry
from skyfence.policy import Policy


def record(entered_at: float, last_inside_at: float) -> dict[str, Any]:
    """The contract record of an open entry of R0001 into BOX (no exit)."""
    e = Entry("BOX", "custom", "R0001", entered_at, True, None, last_inside_at, 2500.0,
              (59.0, 24.83), None, 3000.0, 3000.0, 20)
    return dict(Assessor().record(e))


def test_an_update_with_other_figures_is_another_alert() -> None:
    """An update alert is sent again whenever one of its figures changes: deeper, lower,
    higher or more fixes. The same figures give the same key (a replay)."""
    base = {"event": "update", "id": "605f06f78b36ece5", "max_depth_m": 2500.0,
            "min_altitude_m": 3000.0, "max_altitude_m": 3000.0, "observations": 20}
    key = alert_key(base)
    assert alert_key(dict(base)) == key
    for field, value in (("max_depth_m", 2600.0), ("min_altitude_m", 2900.0),
                         ("max_altitude_m", 3100.0), ("observations", 21)):
        assert alert_key(dict(base, **{field: value})) != key, field


def test_an_entry_left_open_is_resumed_after_more_than_merge_s(tmp_path: Path) -> None:
    """The watcher stops with R0001 inside (an ``open`` event: the entry is left open,
    last inside at T0 + 100 s). Restarted, it sees R0001 enter again at T0 + 1100 s:
    1000 s after the last inside fix, far more than merge_s (120 s) but within
    RESUME_S (3600 s): the same incursion, one incident with two entries (the new
    entry is open too). An entry 3601 s after that one's last inside fix is a new
    incident."""
    assert RESUME_S == 3600.0
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {"gap_s": 300.0})
        first = record(T0, T0 + 100.0)
        record_alert(store, run, dict(first, event="open"), ["test"], now=T0 + 100.0)
        again = record(T0 + 1100.0, T0 + 1100.0)
        record_alert(store, run, dict(again, event="entry"), ["test"], now=T0 + 1100.0)
        late = record(T0 + 1100.0 + 3601.0, T0 + 1100.0 + 3601.0)
        record_alert(store, run, dict(late, event="entry"), ["test"], now=T0 + 4701.0)
        with store.engine.connect() as conn:
            by_entry = dict(conn.execute(sa.select(ENTRIES.c.id, ENTRIES.c.incident_id)).all())
            incidents = conn.execute(sa.select(sa.func.count()).select_from(INCIDENTS)
                                     ).scalar_one()
    assert by_entry[again["id"]] == by_entry[first["id"]] == first["id"]
    assert by_entry[late["id"]] == late["id"]
    assert incidents == 2


def test_a_reentry_reopens_a_closed_incident_and_leaves_an_acknowledged_one_alone(
        tmp_path: Path) -> None:
    """R0001 is left inside (``open``, last inside at T0 + 100 s); the operator
    acknowledges the incident. R0001 enters again at T0 + 1100 s (resumed: the same
    incident): the incident stays ``acknowledged`` (the operator is already on it; an
    acknowledged incident does not escalate) and the audit says nothing was reopened.
    Then the operator closes it, and R0001 enters once more at T0 + 1200 s (within
    merge_s of the last entry): a closed incident is ``open`` again, audited
    ``reopened`` once."""
    from skyfence.incidents.lifecycle import change_state
    from skyfence.incidents.schema import EVENTS

    def state_and_reopenings(store: IncidentStore, iid: str) -> tuple[str, int]:
        with store.engine.connect() as conn:
            state = conn.execute(sa.select(INCIDENTS.c.state)
                                 .where(INCIDENTS.c.id == iid)).scalar_one()
            n = conn.execute(sa.select(sa.func.count()).select_from(EVENTS)
                             .where(EVENTS.c.incident_id == iid,
                                    EVENTS.c.kind == "reopened")).scalar_one()
        return str(state), int(n)

    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        run = begin_run(store, "watch", "replay:test", Policy(), [ZONE], {"gap_s": 300.0})
        first = record(T0, T0 + 100.0)
        record_alert(store, run, dict(first, event="open"), ["test"], now=T0 + 100.0)
        iid = first["id"]
        change_state(store, iid, "ack", "alice", now=T0 + 200.0)
        again = record(T0 + 1100.0, T0 + 1100.0)
        record_alert(store, run, dict(again, event="entry"), ["test"], now=T0 + 1100.0)
        assert state_and_reopenings(store, iid) == ("acknowledged", 0)
        change_state(store, iid, "close", "alice", now=T0 + 1150.0)
        third = record(T0 + 1200.0, T0 + 1200.0)
        record_alert(store, run, dict(third, event="entry"), ["test"], now=T0 + 1200.0)
        assert state_and_reopenings(store, iid) == ("open", 1)
