"""Dossiers from the store: ``skyfence dossier build ID --store S``, and the watcher's
background worker for critical incidents.

The store keeps what a dossier needs (:func:`evidence_from_store`):

- the record: an incident id documents the incident's deepest entry, an entry id that
  entry (the claim is one entry's record, re-derivable from the observations);
- the observations: a watcher stores the fixes of incident tracks (window ± 10 min,
  :mod:`skyfence.incidents.recorder`); for a scan the run's inputs and options are
  stored and the track is read again from the input files (as ``dossier build --scan``
  does), so the scan's memory stays bounded;
- the zone: national by code and boundary bundle (checked against the bundled data),
  custom by its exact GeoJSON;
- the policy text the entry was judged under (and its SHA-256), and the watched states.

:class:`DossierWorker` builds the dossiers the journal asks for (``dossiers`` table,
state ``pending``) one after the other in a background thread, so detection never
waits for a picture or a PDF; a failure is stored with its reason (state ``failed``)
and logged, an unexpected one (a bug, a damaged store) with its exception's type and its
traceback, and the worker goes on with the next dossier. A folder left by a build cut
short (the watcher killed while it wrote) is kept under another name and the dossier built
again whole. Pending dossiers left by a stopped watcher are built at its next start.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from skyfence.errors import SkyfenceError, UsageError
from skyfence.evidence.claim import IncidentEvidence, PolicySnapshot
from skyfence.evidence.observations import entry_window
from skyfence.incidents.recorder import read_observations
from skyfence.incidents.schema import DOSSIERS, ENTRIES, INCIDENTS, POLICIES, RUNS, ZONES
from skyfence.incidents.store import IncidentStore

__all__ = ["DossierWorker", "evidence_from_store", "zone_from_store"]

log = logging.getLogger(__name__)


def _entry_row(conn: sa.Connection, store: IncidentStore, given: str) -> Any:
    """The entry an id names: an entry id, or an incident id (its deepest entry)."""
    from skyfence.incidents.lifecycle import resolve_id

    row = conn.execute(sa.select(ENTRIES).where(ENTRIES.c.id == given.strip().lower())).first()
    if row is not None:
        return row
    incident = resolve_id(store, given)
    deepest = conn.execute(sa.select(INCIDENTS.c.deepest_entry)
                           .where(INCIDENTS.c.id == incident)).scalar_one()
    return conn.execute(sa.select(ENTRIES).where(ENTRIES.c.id == deepest)).one()


def zone_from_store(conn: sa.Connection, sha256: str | None, name: str) -> Any:
    """The :class:`~skyfence.airspace.zones.Zone` an entry was detected in."""
    from skyfence.airspace.zones import national_zone

    row = conn.execute(sa.select(ZONES).where(ZONES.c.sha256 == sha256)).first()
    if row is None:
        raise UsageError(f"the store has no boundary of zone {name}")
    if row.kind == "national":
        from skyfence.incidents.writer import _bundle_sha256

        source = json.loads(row.source)
        if source["bundle_sha256"] != _bundle_sha256():
            raise UsageError(
                f"zone {name} was detected in boundary data {source['bundle_sha256'][:12]} "
                f"({source['package']} {source['version']}); this skyfence bundles "
                f"{_bundle_sha256()[:12]}: build the dossier with the skyfence that raised it")
        return national_zone(row.name)
    import shapely.geometry

    from skyfence.airspace.zones import Zone

    feat = json.loads(row.geojson)["features"][0]
    props = feat["properties"]
    return Zone(row.name, row.kind, shapely.geometry.shape(feat["geometry"]),
                props.get("floor_m"), props.get("ceiling_m"), props.get("title") or "")


def evidence_from_store(store: IncidentStore, given: str, *, command: str | None = None
                        ) -> IncidentEvidence:
    """Everything a dossier of the incident (or entry) ``given`` is built from."""
    with store.engine.connect() as conn:
        entry = _entry_row(conn, store, given)
        run = conn.execute(sa.select(RUNS).where(RUNS.c.id == entry.run_id)).one()
        pol = conn.execute(sa.select(POLICIES)
                           .where(POLICIES.c.sha256 == run.policy_sha256)).one()
        zone = zone_from_store(conn, entry.zone_sha256, entry.zone)
    record = json.loads(entry.record)
    options = json.loads(run.options)
    snapshot = PolicySnapshot(pol.name, pol.source, pol.text,
                              tuple(json.loads(pol.watch_states)))
    gap_s = float(options.get("gap_s", 300.0))
    if run.kind == "scan":
        return _from_scan_inputs(record, zone, snapshot, options, command)
    end = entry.exited_at if entry.exited_at is not None else entry.last_inside_at
    window = entry_window(entry.entered_at, end, gap_s)
    obs = read_observations(store, entry.track, window.start, window.end)
    if not len(obs):
        raise UsageError(f"the store holds no observations of track {entry.track} around "
                         f"entry {entry.id}")
    return IncidentEvidence(
        record=record, observations=obs, zone=zone, policy=snapshot, sensors=[], gap_s=gap_s,
        source_rows=None, source_note=f"observations kept by the incident store of "
                                      f"{run.origin} (no raw feed lines)",
        origin="recorded", command=command)


def _from_scan_inputs(record: dict[str, Any], zone: Any, snapshot: PolicySnapshot,
                      options: dict[str, Any], command: str | None) -> IncidentEvidence:
    """Read the entry's track again from the scan's stored inputs and options."""
    from skyfence.evidence.sources import evidence_from_scan
    from skyfence.radar import RadarSite
    from skyfence.scanning.engine import ScanOptions
    from skyfence.sources.tabular import ColumnMap

    paths = [Path(p) for p in options["inputs"]]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"the scan's input {missing[0]} is gone: the store keeps the "
                         "records of a scan, its observations are read from its inputs")
    db_path = options.get("aircraft_db")
    military = None
    if db_path:
        from skyfence.identify.classify import load_aircraft_db

        military = load_aircraft_db(db_path)
    opts = ScanOptions(
        zones=[zone], policy=snapshot.to_policy(), gap_s=float(options.get("gap_s", 300.0)),
        columns=ColumnMap.parse(options["columns"]) if options.get("columns") else None,
        on_error=options.get("on_error", "abort"), military_db=military,
        input_format=options.get("input_format", "auto"),
        ref=tuple(options["ref"]) if options.get("ref") else None,
        radar_sites=[RadarSite.parse(r) for r in options.get("radar", [])],
        date=options.get("date"))
    ev = evidence_from_scan(paths, opts, incident_id=record["id"], track=record["track"],
                            command=command, aircraft_db=Path(db_path) if db_path else None)
    if ev.record != record:
        changed = sorted(k for k in record if ev.record.get(k) != record[k])
        raise UsageError(f"the scan's inputs no longer give the stored record of entry "
                         f"{record['id']} (fields differ: {', '.join(changed)}): have they "
                         "changed since the scan?")
    return ev


class DossierWorker:
    """Builds requested dossiers in a background thread (see the module docstring)."""

    def __init__(self, store: IncidentStore, root: str | Path, key: Any, station_log: Any,
                 poll_s: float = 5.0) -> None:
        self.store = store
        self.root = Path(root)
        self.key = key
        self.station_log = station_log
        self.poll_s = poll_s
        self.built = 0
        self.failed = 0
        self._cv = threading.Condition()
        self._stop = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="skyfence-dossiers")

    def start(self) -> DossierWorker:
        """Start building (first what an earlier run left pending)."""
        self._thread.start()
        return self

    def notify(self) -> None:
        """Dossiers were asked for."""
        with self._cv:
            self._cv.notify_all()

    def pending(self) -> int:
        """Dossiers asked for and not built or failed yet."""
        with self.store.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(DOSSIERS)
                                    .where(DOSSIERS.c.state == "pending")).scalar_one())

    def drain(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` for the pending dossiers, then stop; how many remain
        pending (they are built at the next start)."""
        deadline = time.monotonic() + timeout_s
        self.notify()
        while (self.pending() or self._busy) and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join(max(0.0, deadline - time.monotonic()) + 1.0)
        return self.pending()

    def _next(self) -> str | None:
        with self.store.engine.connect() as conn:
            return conn.execute(sa.select(DOSSIERS.c.incident_id)
                                .where(DOSSIERS.c.state == "pending")
                                .order_by(DOSSIERS.c.requested_at).limit(1)).scalar()

    def _run(self) -> None:
        while True:
            with self._cv:
                if self._stop:
                    return
            incident = self._next()
            if incident is None:
                with self._cv:
                    if not self._stop:
                        self._cv.wait(self.poll_s)
                continue
            self._busy = True
            try:
                self._build(incident)
            finally:
                self._busy = False

    def _build(self, incident: str) -> None:
        from skyfence.evidence.dossier import build_dossier, incident_dossier_dir

        values: dict[str, Any]
        try:
            # the evidence as the store holds it, whole: the claim names the policy as it
            # was stored (its source too), the store as the observations' keeper and the
            # watcher as the command, as `dossier build ID --store` would
            ev = evidence_from_store(self.store, incident, command="skyfence watch (automatic)")
            out = incident_dossier_dir(self.root, ev.record)
            if out.exists():
                _move_aside(out)
            d = build_dossier(ev, out, self.key, self.station_log)
            values = {"state": "built", "built_at": time.time(), "path": str(d.path),
                      "statement_sha256": d.statement_sha256, "error": None}
            self.built += 1
            log.info("dossier of incident %s: %s", incident, d.path)
        except (SkyfenceError, OSError, ValueError) as exc:
            values = {"state": "failed", "built_at": time.time(), "error": str(exc)}
            self.failed += 1
            log.warning("dossier of incident %s failed: %s", incident, exc)
        except Exception as exc:  # a bug or damaged store: the thread must go on
            # (otherwise every later dossier waits for ever, and this one fails again at
            # each start); the type names what no rule of the builder expected
            values = {"state": "failed", "built_at": time.time(),
                      "error": f"{type(exc).__name__}: {exc}"}
            self.failed += 1
            log.exception("dossier of incident %s failed unexpectedly", incident)
        with self.store.transaction() as conn:
            conn.execute(DOSSIERS.update().where(DOSSIERS.c.incident_id == incident)
                         .values(**values))


def _move_aside(out: Path) -> Path:
    """Keep the folder of a dossier whose build was cut short (the watcher stopped or was
    killed while it wrote: the dossier is still pending) as ``<name>.interrupted-N``, so
    the dossier can be built whole in its place and nothing written is deleted."""
    n = 1
    while (aside := out.with_name(f"{out.name}.interrupted-{n}")).exists():
        n += 1
    out.rename(aside)
    log.warning("dossier folder %s was left by a build cut short: kept as %s", out, aside.name)
    return aside
