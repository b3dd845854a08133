"""A radar-only track's fixes are stored for its incident, like a transponder track's.

The store keeps each incident track's fixes from 10 minutes before its entry to 10
minutes after its exit: the dossier and the operators' screen (the incident's map,
profile and replay) are drawn from them. Radar tracks come out of the tracker inside the
pipeline, not in the feed's batches; this checks that their fixes reach the store too.

The data: the built-in scenario ``vaindloo-2025-09-19`` (three MiG-31s without
transponders, R0008-R0010, seen by primary radar only, entering Estonian airspace near
Vaindloo), exported as the demo of ``skyfence serve`` exports it and watched as fast as
it runs.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_radar_only_incidents_have_stored_fixes_around_their_entry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skyfence.alerts.console import ConsoleSink
    from skyfence.incidents.recorder import read_observations
    from skyfence.incidents.schema import INCIDENTS
    from skyfence.service.runner import open_watch
    from skyfence.service.serve import demo_config

    monkeypatch.setenv("SKYFENCE_DEMO_DIR", str(tmp_path))
    cfg = demo_config()
    cfg = cfg.model_copy(update={
        "sources": cfg.sources.model_copy(update={"speed": 0.0, "loop": False}),
        "dossiers": cfg.dossiers.model_copy(update={"dir": None})})  # fixes only: faster
    service = open_watch(cfg.watch_args(), ConsoleSink(io.StringIO()), stats_every=1e9,
                         drain_s=5.0, dossier_drain_s=5.0)
    try:
        service.run(signals=False)
        store = service.session.store
        with store.engine.connect() as conn:
            incidents = conn.execute(sa.select(
                INCIDENTS.c.track, INCIDENTS.c.first_entered_at,
                INCIDENTS.c.last_inside_at)).all()
        assert sorted(r.track for r in incidents) == ["R0008", "R0009", "R0010"]
        for r in incidents:
            fixes = read_observations(store, r.track, r.first_entered_at - 600.0,
                                      r.last_inside_at + 600.0)
            # the radar turns once every 12 s or faster: well over one fix a minute
            # across the incident, and fixes on both sides of the entry
            minutes = (r.last_inside_at - r.first_entered_at) / 60.0
            assert len(fixes) > minutes, (r.track, len(fixes))
            assert fixes["time"].min() < r.first_entered_at < fixes["time"].max()
    finally:
        service.close()
