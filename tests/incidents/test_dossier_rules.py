"""The rules of :mod:`skyfence.incidents.dossiers`, one test each, on stores built row by
row (``store_rows``) and with stand-ins for the slow parts (a scan of the inputs, the
dossier builder), so that each expected value can be read off the rows next to the test.

The whole path through ``skyfence watch`` and ``dossier build`` (real dossiers, verified)
is in ``test_dossier_store.py``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import shapely.geometry
import sqlalchemy as sa

from incidents import store_rows as rows
from incidents.store_rows import RUN, SQUARE, SQUARE_SHA, T0
from skyfence.errors import UsageError
from skyfence.evidence.claim import IncidentEvidence, PolicySnapshot
from skyfence.incidents import dossiers
from skyfence.incidents.dossiers import DossierWorker, evidence_from_store, zone_from_store
from skyfence.incidents.schema import DOSSIERS, ENTRIES, POLICIES, RUNS, ZONES
from skyfence.incidents.store import IncidentStore

INC = "ab12cd34ef56ab78"  # an incident of two entries; the deepest is the second
E1, E2 = "e1aa000000000001", "e2bb000000000002"
POLICY_TEXT = "name: test policy\nrules: []\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IncidentStore]:
    """A store holding incident INC (track T1 in the custom square SQ) of entries E1
    (entered T0, last inside T0 + 59, exited T0 + 60) and E2 (T0 + 100 .. T0 + 160),
    E2 the deepest; its watch run (origin ``replay:test``, options ``{}``) and policy."""
    with IncidentStore.open(tmp_path / "s.sqlite") as s:
        rows.begin(s)
        with s.transaction() as conn:
            conn.execute(POLICIES.insert(), {
                "sha256": "p" * 64, "name": "test policy", "source": "mine.yaml",
                "text": POLICY_TEXT, "watch_states": json.dumps(["RUS", "BLR"])})
        rows.incident(s, INC, deepest_entry=E2)
        rows.entry(s, E1, INC)
        rows.entry(s, E2, INC, entered=T0 + 100.0)
        yield s


def set_options(store: IncidentStore, options: dict[str, Any], kind: str = "watch") -> None:
    with store.transaction() as conn:
        conn.execute(RUNS.update().where(RUNS.c.id == RUN)
                     .values(options=json.dumps(options), kind=kind))


# ---------------------------------------------------------------- which entry an id names
@pytest.mark.parametrize(("given", "expected"), [
    (E1, E1),                      # an entry id: that entry, though not the deepest
    (INC, E2),                     # an incident id: its deepest entry
    (INC[:6], E2),                 # 6 first characters of an incident id
    ("  E1AA000000000001\n", E1),  # an entry id in capitals, with white space
    (" AB12CD34EF56AB78 ", E2),    # an incident id likewise
])
def test_an_id_names_an_entry_or_an_incident_s_deepest_entry(
        store: IncidentStore, given: str, expected: str) -> None:
    rows.fixes(store, "T1", [(T0 + 30.0, 0.5, 0.5)])
    assert evidence_from_store(store, given).record["id"] == expected


def test_an_id_that_names_nothing_is_refused(store: IncidentStore) -> None:
    with pytest.raises(UsageError, match="no incident 'ffffffffff'"):
        evidence_from_store(store, "ffffffffff")


# ------------------------------------------------------------------------------ the zone
TRIANGLE = {"type": "Polygon", "coordinates": [
    [[10.0, 50.0], [12.0, 50.0], [11.0, 52.0], [10.0, 50.0]],
    [[10.8, 50.5], [11.2, 50.5], [11.0, 51.0], [10.8, 50.5]]]}  # with a hole


def add_zone(store: IncidentStore, sha: str, name: str, kind: str, geojson: Any,
             source: dict[str, Any], title: str = "row title") -> None:
    with store.transaction() as conn:
        conn.execute(ZONES.insert(), {
            "sha256": sha, "name": name, "kind": kind, "title": title, "area_km2": 1.0,
            "geojson": None if geojson is None else json.dumps(geojson),
            "source": json.dumps(source)})


def test_a_custom_zone_is_read_back_exactly(store: IncidentStore) -> None:
    props = {"name": "TRI", "kind": "custom", "title": "A triangle", "floor_m": 150.0,
             "ceiling_m": 3048.5}
    add_zone(store, "b" * 64, "TRI", "custom", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": TRIANGLE}]}, {"kind": "custom"})
    with store.engine.connect() as conn:
        zone = zone_from_store(conn, "b" * 64, "shown name")
        square = zone_from_store(conn, SQUARE_SHA, "SQ")
    assert (zone.name, zone.kind, zone.floor_m, zone.ceiling_m, zone.title) == (
        "TRI", "custom", 150.0, 3048.5, "A triangle")
    assert zone.geometry.equals(shapely.geometry.shape(TRIANGLE))
    assert len(zone.geometry.interiors) == 1
    # the square of store_rows: no floor, ceiling; its title from the GeoJSON
    assert (square.name, square.floor_m, square.ceiling_m, square.title) == (
        "SQ", None, None, "square")
    assert square.geometry.equals(shapely.geometry.shape(SQUARE["features"][0]["geometry"]))


def test_a_custom_zone_without_a_title_has_an_empty_one(store: IncidentStore) -> None:
    add_zone(store, "b" * 64, "TRI", "custom", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": TRIANGLE}]}, {"kind": "custom"})
    with store.engine.connect() as conn:
        zone = zone_from_store(conn, "b" * 64, "TRI")
    assert zone.title == "" and zone.floor_m is None and zone.ceiling_m is None


def bundled_sha256() -> str:
    from skyfence.airspace.national import METADATA_PATH

    return str(json.loads(METADATA_PATH.read_text(encoding="utf-8"))["bundle"]["sha256"])


def test_a_national_zone_comes_from_the_bundled_data(store: IncidentStore) -> None:
    from skyfence.airspace.national import find_national

    add_zone(store, "c" * 64, "EST", "national", None, {
        "kind": "national", "code": "EST", "package": "p", "version": "1",
        "bundle_sha256": bundled_sha256()})
    with store.engine.connect() as conn:
        zone = zone_from_store(conn, "c" * 64, "shown name")
    est = find_national("EST")
    assert (zone.name, zone.kind, zone.title) == ("EST", "national", est.name)
    assert zone.geometry.equals(est.geometry)


def test_a_national_zone_of_other_boundary_data_is_refused(store: IncidentStore) -> None:
    other = "0123456789abcdef" * 4
    add_zone(store, "c" * 64, "EST", "national", None, {
        "kind": "national", "code": "EST", "package": "natural-earth", "version": "5.1.2",
        "bundle_sha256": other})
    with store.engine.connect() as conn, pytest.raises(UsageError) as err:
        zone_from_store(conn, "c" * 64, "Z1")
    assert str(err.value) == (
        f"zone Z1 was detected in boundary data 0123456789ab (natural-earth 5.1.2); this "
        f"skyfence bundles {bundled_sha256()[:12]}: build the dossier with the skyfence "
        "that raised it")


def test_an_entry_whose_boundary_is_not_stored_is_refused(store: IncidentStore) -> None:
    rows.entry(store, "e3cc000000000003", INC, entered=T0 + 200.0, zone_sha256=None)
    rows.fixes(store, "T1", [(T0 + 230.0, 0.5, 0.5)])
    with pytest.raises(UsageError) as err:
        evidence_from_store(store, "e3cc000000000003")
    assert str(err.value) == "the store has no boundary of zone SQ"


def test_an_entry_is_documented_in_its_own_zone(store: IncidentStore) -> None:
    add_zone(store, "b" * 64, "TRI", "custom", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": TRIANGLE}]}, {"kind": "custom"})
    rows.entry(store, "e3cc000000000003", INC, entered=T0 + 200.0, zone_sha256="b" * 64)
    rows.fixes(store, "T1", [(T0 + 230.0, 0.5, 0.5)])
    assert evidence_from_store(store, "e3cc000000000003").zone.name == "TRI"
    assert evidence_from_store(store, E1).zone.name == "SQ"


# ------------------------------------------------------------- a watched entry's evidence
def test_the_evidence_of_a_watched_entry(store: IncidentStore) -> None:
    """E1: entered T0, exited T0 + 60; no gap_s stored: 300 s, so the window is the
    10 minutes of PAD_S either side: [T0 - 600, T0 + 660]; only track T1's fixes."""
    rows.fixes(store, "T1", [(T0 - 601.0, 0.1, 0.1), (T0 - 600.0, 0.2, 0.2),
                             (T0 + 30.0, 0.5, 0.5), (T0 + 660.0, 1.1, 0.5),
                             (T0 + 661.0, 1.2, 0.5)])
    rows.fixes(store, "T2", [(T0 + 31.0, 0.5, 0.6)])
    with store.engine.connect() as conn:
        stored = json.loads(conn.execute(sa.select(ENTRIES.c.record)
                                         .where(ENTRIES.c.id == E1)).scalar_one())
    ev = evidence_from_store(store, E1, command="skyfence dossier build x")
    assert ev.record == stored
    assert list(ev.observations["time"]) == [T0 - 600.0, T0 + 30.0, T0 + 660.0]
    assert list(ev.observations["icao24"]) == ["T1"] * 3
    assert list(ev.observations["lon"]) == [0.2, 0.5, 1.1]
    assert ev.gap_s == 300.0 and type(ev.gap_s) is float
    assert ev.policy == PolicySnapshot("test policy", "mine.yaml", POLICY_TEXT, ("RUS", "BLR"))
    assert ev.zone.name == "SQ" and ev.zone.title == "square"
    assert ev.sensors == [] and ev.inputs == [] and ev.aircraft_db is None
    assert ev.source_rows is None
    assert ev.source_note == ("observations kept by the incident store of replay:test "
                              "(no raw feed lines)")
    assert ev.origin == "recorded"
    assert ev.command == "skyfence dossier build x"
    assert evidence_from_store(store, E1).command is None


def test_a_watched_entry_s_window_follows_the_stored_gap(store: IncidentStore) -> None:
    """gap_s 900 > PAD_S: 900 s either side of E1 (T0 .. T0 + 60): [T0 - 900, T0 + 960]."""
    set_options(store, {"gap_s": 900, "replay": "x.csv", "speed": 0})
    rows.fixes(store, "T1", [(T0 - 901.0, 0.1, 0.1), (T0 - 900.0, 0.2, 0.2),
                             (T0 + 960.0, 1.1, 0.5), (T0 + 961.0, 1.2, 0.5)])
    ev = evidence_from_store(store, E1)
    assert list(ev.observations["time"]) == [T0 - 900.0, T0 + 960.0]
    assert ev.gap_s == 900.0 and type(ev.gap_s) is float


def test_an_open_entry_s_window_ends_at_its_last_fix_inside(store: IncidentStore) -> None:
    """E1 not exited (still open), last inside T0 + 59: the window ends at T0 + 659."""
    with store.transaction() as conn:
        conn.execute(ENTRIES.update().where(ENTRIES.c.id == E1)
                     .values(exited_at=None, state="open"))
    rows.fixes(store, "T1", [(T0, 0.5, 0.5), (T0 + 659.0, 1.1, 0.5), (T0 + 660.0, 1.2, 0.5)])
    ev = evidence_from_store(store, E1)
    assert list(ev.observations["time"]) == [T0, T0 + 659.0]


def test_a_watched_entry_without_stored_fixes_is_refused(store: IncidentStore) -> None:
    rows.fixes(store, "T1", [(T0 - 601.0, 0.1, 0.1), (T0 + 661.0, 1.2, 0.5)])
    rows.fixes(store, "T2", [(T0 + 30.0, 0.5, 0.5)])
    with pytest.raises(UsageError) as err:
        evidence_from_store(store, E1)
    assert str(err.value) == f"the store holds no observations of track T1 around entry {E1}"


# ---------------------------------------------------------------- a scanned entry's evidence
class ScanSpy:
    """Stands in for ``evidence_from_scan``: records its call, returns evidence whose
    record is ``record`` changed by ``change``."""

    def __init__(self, change: dict[str, Any] | None = None, drop: str | None = None) -> None:
        self.change, self.drop = change or {}, drop
        self.record: dict[str, Any] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.returned: Any = None

    def __call__(self, paths: list[Path], opts: Any, **kw: Any) -> IncidentEvidence:
        import pandas as pd

        self.calls.append((paths, opts, kw))
        rec = {**self.record, **self.change}
        if self.drop:
            del rec[self.drop]
        self.returned = IncidentEvidence(record=rec, observations=pd.DataFrame(),
                                         zone=None, policy=None)  # type: ignore[arg-type]
        return self.returned


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> ScanSpy:
    import skyfence.evidence.sources

    s = ScanSpy()
    monkeypatch.setattr(skyfence.evidence.sources, "evidence_from_scan", s)
    return s


def scan_run(store: IncidentStore, tmp_path: Path, spy: ScanSpy, **options: Any
             ) -> tuple[list[Path], dict[str, Any]]:
    """E1's run made a scan of two input files with ``options``; the spy's record E1's."""
    inputs = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for p in inputs:
        p.write_text("time,icao24\n", encoding="utf-8")
    set_options(store, {"inputs": [str(p) for p in inputs], **options}, kind="scan")
    with store.engine.connect() as conn:
        spy.record = json.loads(conn.execute(sa.select(ENTRIES.c.record)
                                             .where(ENTRIES.c.id == E1)).scalar_one())
    return inputs, spy.record


def test_a_scanned_entry_is_read_again_with_the_scan_s_options(
        store: IncidentStore, tmp_path: Path, spy: ScanSpy) -> None:
    db = tmp_path / "aircraft.csv"
    db.write_text("icao24,type,operator,military\n43c6f1,C130,RAF,true\n"
                  "4ca123,A320,EIN,false\n", encoding="utf-8")
    inputs, _ = scan_run(
        store, tmp_path, spy, gap_s=120, columns="ts=time:ms,hex=icao24", on_error="skip",
        input_format="csv", ref=[59.25, 26.5], radar=["20:1:59.07,26.15,200",
                                                     "20:2:58.5,25.0"],
        date="2025-09-19", aircraft_db=str(db))
    ev = evidence_from_store(store, E1, command="skyfence dossier build E1")
    assert ev is spy.returned
    ((paths, opts, kw),) = spy.calls
    assert paths == inputs
    assert kw == {"incident_id": E1, "track": "T1", "command": "skyfence dossier build E1",
                  "aircraft_db": db}
    assert [z.name for z in opts.zones] == ["SQ"]
    assert opts.policy.text == POLICY_TEXT and set(opts.policy.watch_states) == {"RUS", "BLR"}
    assert opts.gap_s == 120.0 and type(opts.gap_s) is float
    assert opts.columns.mapping == {"ts": ("time", 0.001), "hex": ("icao24", 1.0)}
    assert opts.on_error == "skip"
    assert opts.input_format == "csv"
    assert opts.ref == (59.25, 26.5)
    assert [(r.sac, r.sic, r.lat, r.lon, r.alt_m) for r in opts.radar_sites] == [
        (20, 1, 59.07, 26.15, 200.0), (20, 2, 58.5, 25.0, 0.0)]
    assert opts.date == "2025-09-19"
    assert dict(opts.military_db) == {"43c6f1": True, "4ca123": False}


def test_a_scan_s_options_not_given_take_the_scan_s_defaults(
        store: IncidentStore, tmp_path: Path, spy: ScanSpy) -> None:
    """As ``scan --store`` stores them when not given (None), and missing altogether."""
    for options in ({"columns": None, "ref": None, "aircraft_db": None, "date": None,
                     "radar": []}, {}):
        spy.calls.clear()
        scan_run(store, tmp_path, spy, **options)
        evidence_from_store(store, E1)
        ((_, opts, kw),) = spy.calls
        assert kw["aircraft_db"] is None and kw["command"] is None
        assert (opts.gap_s, opts.columns, opts.on_error, opts.military_db, opts.input_format,
                opts.ref, list(opts.radar_sites), opts.date) == (
            300.0, None, "abort", None, "auto", None, [], None)


def test_a_scan_whose_input_is_gone_is_refused(
        store: IncidentStore, tmp_path: Path, spy: ScanSpy) -> None:
    inputs, _ = scan_run(store, tmp_path, spy)
    inputs[1].unlink()
    with pytest.raises(UsageError) as err:
        evidence_from_store(store, E1)
    assert str(err.value) == (
        f"the scan's input {inputs[1]} is gone: the store keeps the records of a scan, "
        "its observations are read from its inputs")
    inputs[0].unlink()  # both gone: the first is named
    with pytest.raises(UsageError) as err:
        evidence_from_store(store, E1)
    assert str(err.value).startswith(f"the scan's input {inputs[0]} is gone: ")
    assert spy.calls == []


def test_a_scan_whose_input_changed_names_the_fields_that_differ(
        store: IncidentStore, tmp_path: Path, spy: ScanSpy) -> None:
    """The stored record's key order (track before entered_at, observations last) is not
    the alphabetical one; a field the new record lacks differs too; one it alone has
    is not named (the stored record's fields are compared)."""
    scan_run(store, tmp_path, spy)
    spy.change = {"track": "T9", "entered_at": "2025-09-19T06:30:01.000Z", "new": 1}
    spy.drop = "observations"
    with pytest.raises(UsageError) as err:
        evidence_from_store(store, E1)
    assert str(err.value) == (
        f"the scan's inputs no longer give the stored record of entry {E1} (fields differ: "
        "entered_at, observations, track): have they changed since the scan?")


# -------------------------------------------------------------------------------- the worker
class Builder:
    """Stands in for the evidence and the dossier builder of the worker: records the
    incidents in the order built; ``fail`` maps an incident to the exception it raises;
    ``gate`` (if set) is waited for before each build."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, pause_s: float = 0.0) -> None:
        import skyfence.evidence.dossier

        self.order: list[str] = []
        self.calls: list[tuple[Any, ...]] = []
        self.fail: dict[str, BaseException] = {}
        self.gate: threading.Event | None = None
        self.pause_s = pause_s
        monkeypatch.setattr(dossiers, "evidence_from_store", self.evidence)
        monkeypatch.setattr(skyfence.evidence.dossier, "build_dossier", self.build)

    def evidence(self, store: IncidentStore, incident: str, *, command: str | None = None
                 ) -> Any:
        self.calls.append(("evidence", store, incident, command))
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.pause_s:
            time.sleep(self.pause_s)
        if incident in self.fail:
            raise self.fail[incident]
        return SimpleNamespace(record={"id": incident, "zone": "SQ", "track": "T 1",
                                       "entered_at": "2025-09-19T06:30:00.000Z"})

    def build(self, ev: Any, out: Path, key: Any, station_log: Any) -> Any:
        self.calls.append(("build", ev.record["id"], out, key, station_log))
        self.order.append(ev.record["id"])
        out.mkdir(parents=True)
        return SimpleNamespace(path=out / "sealed", statement_sha256="5" * 64)


def request(store: IncidentStore, *dossier_rows: tuple[str, str, float]) -> None:
    """Dossier rows (incident, state, requested_at), each of an incident of its own."""
    for iid, state, at in dossier_rows:
        rows.incident(store, iid)
        rows.dossier(store, iid, state=state, requested_at=at, error="old error")


def dossier_rows(store: IncidentStore) -> dict[str, Any]:
    with store.engine.connect() as conn:
        return {r.incident_id: r for r in conn.execute(sa.select(DOSSIERS))}


def wait_until(cond: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


KEY, LOG = object(), object()


def worker(store: IncidentStore, tmp_path: Path, poll_s: float = 0.05) -> DossierWorker:
    return DossierWorker(store, str(tmp_path / "auto"), KEY, LOG, poll_s=poll_s)


def test_the_worker_builds_pending_dossiers_in_the_order_asked(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked for at 3, 1, 2 (written in that order): built 1, 2, 3; the built and failed
    ones are left alone. Each is built into ``<day>-<zone>-<track>-<id>`` under the root
    with the worker's key and log, from the evidence of the store with the watcher as
    the command."""
    b = Builder(monkeypatch)
    request(store, ("c" * 16, "pending", 3.0), ("a" * 16, "pending", 1.0),
            ("b" * 16, "pending", 2.0), ("d" * 16, "built", 0.5), ("e" * 16, "failed", 0.6))
    w = worker(store, tmp_path)
    assert w.pending() == 3
    w.start()
    assert w.drain(5.0) == 0
    assert w.pending() == 0
    assert b.order == ["a" * 16, "b" * 16, "c" * 16]
    out = tmp_path / "auto" / f"2025-09-19-SQ-T_1-{'a' * 16}"
    assert b.calls[:2] == [("evidence", store, "a" * 16, "skyfence watch (automatic)"),
                           ("build", "a" * 16, out, KEY, LOG)]
    assert (w.built, w.failed) == (3, 0)
    assert dossier_rows(store)["d" * 16].state == "built"
    assert dossier_rows(store)["e" * 16].state == "failed"


def test_a_built_dossier_s_row(store: IncidentStore, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch,
                               caplog: pytest.LogCaptureFixture) -> None:
    Builder(monkeypatch)
    request(store, ("a" * 16, "pending", 1.0))
    caplog.set_level(logging.INFO, logger="skyfence.incidents.dossiers")
    before = time.time()
    w = worker(store, tmp_path).start()
    assert w.drain(5.0) == 0
    after = time.time()
    row = dossier_rows(store)["a" * 16]
    out = tmp_path / "auto" / f"2025-09-19-SQ-T_1-{'a' * 16}"
    assert row.state == "built" and before <= row.built_at <= after
    assert row.path == str(out / "sealed")
    assert row.statement_sha256 == "5" * 64
    assert row.error is None  # the earlier attempt's error is cleared
    assert row.requested_at == 1.0
    assert [r.getMessage() for r in caplog.records if r.name == dossiers.__name__] == [
        f"dossier of incident {'a' * 16}: {out / 'sealed'}"]


def test_failed_dossiers_are_stored_with_their_reason_and_counted(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """The failures the builder expects (its errors, a file system's, a value refused)
    are stored as their text; any other exception with its type too; the worker goes on."""
    b = Builder(monkeypatch)
    b.fail = {"a" * 16: UsageError("no observations"), "b" * 16: OSError("disk full"),
              "c" * 16: ValueError("bad value"), "d" * 16: RuntimeError("a bug")}
    request(store, ("a" * 16, "pending", 1.0), ("b" * 16, "pending", 2.0),
            ("c" * 16, "pending", 3.0), ("d" * 16, "pending", 4.0), ("f" * 16, "pending", 5.0))
    before = time.time()
    w = worker(store, tmp_path).start()
    assert w.drain(5.0) == 0
    after = time.time()
    assert (w.built, w.failed) == (1, 4)
    got = dossier_rows(store)
    assert {i: (r.state, r.error) for i, r in got.items()} == {
        "a" * 16: ("failed", "no observations"), "b" * 16: ("failed", "disk full"),
        "c" * 16: ("failed", "bad value"), "d" * 16: ("failed", "RuntimeError: a bug"),
        "f" * 16: ("built", None)}
    for i in "abcd":
        assert before <= got[i * 16].built_at <= after
        assert got[i * 16].path is None and got[i * 16].statement_sha256 is None
    logged = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records
              if r.name == dossiers.__name__ and r.levelno >= logging.WARNING]
    assert logged == [
        ("WARNING", f"dossier of incident {'a' * 16} failed: no observations", False),
        ("WARNING", f"dossier of incident {'b' * 16} failed: disk full", False),
        ("WARNING", f"dossier of incident {'c' * 16} failed: bad value", False),
        ("ERROR", f"dossier of incident {'d' * 16} failed unexpectedly", True)]


def test_the_worker_first_builds_what_an_earlier_run_left_pending(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pending at start: built without being told (no notify, no drain), however long
    the worker would wait between looks."""
    b = Builder(monkeypatch)
    request(store, ("a" * 16, "pending", 1.0))
    w = worker(store, tmp_path, poll_s=600.0).start()
    wait_until(lambda: w.built == 1)
    assert b.order == ["a" * 16]
    t = time.monotonic()
    assert w.drain(30.0) == 0
    assert time.monotonic() - t < 10.0  # nothing pending, no longer busy: no wait


def test_the_worker_looks_again_every_poll_s(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dossier asked for without telling the worker is built at its next look."""
    b = Builder(monkeypatch)
    w = worker(store, tmp_path, poll_s=0.05).start()
    time.sleep(0.2)  # idle: nothing pending
    request(store, ("a" * 16, "pending", 1.0))
    wait_until(lambda: w.built == 1)
    request(store, ("b" * 16, "pending", 2.0))
    wait_until(lambda: w.built == 2)
    assert b.order == ["a" * 16, "b" * 16]
    assert w.drain(10.0) == 0


def test_a_worker_told_of_a_dossier_builds_it_at_once(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that would look again only in 10 minutes builds a dossier it is told of."""
    Builder(monkeypatch)
    w = worker(store, tmp_path, poll_s=600.0).start()
    time.sleep(0.2)  # idle: waiting
    request(store, ("a" * 16, "pending", 1.0))
    w.notify()
    wait_until(lambda: w.built == 1)
    request(store, ("b" * 16, "pending", 2.0))
    assert w.drain(10.0) == 0  # drain tells it too
    assert w.built == 2


def test_drain_returns_what_is_left_when_its_time_is_up(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three pending, the first build held up: after 0.2 s drain stops the worker and
    says three remain (the one being built is still pending); the worker ends after
    that build and leaves the other two for the next start."""
    b = Builder(monkeypatch)
    b.gate = threading.Event()
    request(store, ("a" * 16, "pending", 1.0), ("b" * 16, "pending", 2.0),
            ("c" * 16, "pending", 3.0))
    w = worker(store, tmp_path).start()
    wait_until(lambda: len(b.calls) == 1)
    assert w.drain(0.2) == 3
    b.gate.set()
    wait_until(lambda: not w._thread.is_alive())
    assert b.order == ["a" * 16] and w.pending() == 2


def test_drain_waits_for_every_pending_dossier(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Builder(monkeypatch, pause_s=0.3)
    request(store, ("a" * 16, "pending", 1.0), ("b" * 16, "pending", 2.0),
            ("c" * 16, "pending", 3.0))
    w = worker(store, tmp_path).start()
    assert w.drain(10.0) == 0
    assert w.built == 3


def test_a_stopped_worker_builds_nothing_more(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = Builder(monkeypatch)
    w = worker(store, tmp_path).start()
    assert w._thread.daemon and w._thread.name == "skyfence-dossiers"
    t = time.monotonic()
    assert w.drain(30.0) == 0
    assert time.monotonic() - t < 10.0  # nothing pending, nothing being built: no wait
    assert not w._thread.is_alive()
    request(store, ("a" * 16, "pending", 1.0))
    w.notify()
    time.sleep(0.2)
    assert b.calls == [] and w.pending() == 1 and w.built == 0


def test_a_folder_left_by_a_build_cut_short_is_kept_aside(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = Builder(monkeypatch)
    request(store, ("a" * 16, "pending", 1.0))
    out = tmp_path / "auto" / f"2025-09-19-SQ-T_1-{'a' * 16}"
    out.mkdir(parents=True)
    (out / "half.csv").write_text("time\n1", encoding="utf-8")
    w = worker(store, tmp_path).start()
    assert w.drain(5.0) == 0
    assert b.order == ["a" * 16] and out.is_dir() and not (out / "half.csv").exists()
    aside = out.with_name(out.name + ".interrupted-1")
    assert (aside / "half.csv").read_text(encoding="utf-8") == "time\n1"


def test_move_aside_takes_the_first_free_number(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "2025-09-19-SQ-T1-x"
    first = tmp_path / "2025-09-19-SQ-T1-x.interrupted-1"
    first.mkdir()
    (first / "old").write_text("1", encoding="utf-8")
    out.mkdir()
    (out / "new").write_text("2", encoding="utf-8")
    aside = dossiers._move_aside(out)
    assert aside == tmp_path / "2025-09-19-SQ-T1-x.interrupted-2"
    assert not out.exists()
    assert (aside / "new").read_text(encoding="utf-8") == "2"
    assert sorted(p.name for p in first.iterdir()) == ["old"]
    assert [r.getMessage() for r in caplog.records if r.name == dossiers.__name__] == [
        f"dossier folder {out} was left by a build cut short: kept as {aside.name}"]


def test_an_idle_worker_looks_once_a_poll(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing pending, poll_s 600: in 0.3 s the worker looks at the store once (at its
    start), then waits; it does not spin."""
    Builder(monkeypatch)
    w = worker(store, tmp_path, poll_s=600.0)
    looks: list[float] = []
    real_next = w._next

    def counted() -> str | None:
        looks.append(time.monotonic())
        return real_next()

    monkeypatch.setattr(w, "_next", counted)
    w.start()
    time.sleep(0.3)
    assert len(looks) == 1
    assert w.drain(5.0) == 0 and not w._thread.is_alive()


# ------------------------------------------------------- a real scan read again (no spy)
def renamed_incursion(d: Path) -> Path:
    """The incursion of ``test_crash`` with its time column called ``ts``, its altitude
    in feet as ``alt_ft``, and a row whose time is garbage (the 50th)."""
    import pandas as pd

    from incidents.test_crash import incursion_csv

    df = pd.read_csv(incursion_csv(d)).rename(columns={"time": "ts", "baroaltitude": "alt_ft"})
    df["alt_ft"] = df["alt_ft"] / 0.3048
    lines = df.to_csv(index=False).splitlines()
    lines.insert(50, "garbage,R0001,xx,yy,1,2,3,4,")
    f = d / "renamed.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f


def test_a_real_scan_is_read_again_with_its_columns_error_rule_radar_and_db(
        tmp_path: Path) -> None:
    """Without the stored ``--columns`` the file has no time column; without ``--on-error
    skip`` its bad row stops the reading; the radar is the claim's sensor and the
    aircraft database one of its inputs."""
    from skyfence.cli import main

    csv = renamed_incursion(tmp_path)
    db = tmp_path / "aircraft.csv"
    db.write_text("icao24,military\n43c6f1,true\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    assert main(["scan", str(csv), "--zone", "EST", "--format", "jsonl",
                 "-o", str(tmp_path / "r.jsonl"), "--store", str(store),
                 "--columns", "ts=time,alt_ft=baroaltitude:ft", "--on-error", "skip",
                 "--radar", "20:1:59.07,26.15,200", "--aircraft-db", str(db)]) == 0
    rec = json.loads((tmp_path / "r.jsonl").read_text(encoding="utf-8"))
    assert rec["min_altitude_m"] == 7600.0  # the feet were read as feet
    with IncidentStore.open(store) as s:
        ev = evidence_from_store(s, rec["id"], command="c")
    assert ev.record == rec
    assert ev.sensors == [{"kind": "radar", "name": None, "sac": 20, "sic": 1, "lat": 59.07,
                           "lon": 26.15, "alt_m": 200.0}]
    assert ev.aircraft_db is not None and ev.aircraft_db.name == str(db)
    assert [i.name for i in ev.inputs] == [str(csv)] and ev.command == "c"


def test_a_real_scan_whose_input_changed_is_refused(tmp_path: Path) -> None:
    """One fix inside the zone 600 m lower (7000 m for 7600 m), another dropped: a new
    scan of the changed file gives min_altitude_m 7000.0 and 180 observations for 181,
    and nothing else differs (checked with ``scan`` while writing this test)."""
    import pandas as pd

    from incidents.test_crash import incursion_csv
    from skyfence.cli import main

    csv = incursion_csv(tmp_path)
    store = tmp_path / "s.sqlite"
    assert main(["scan", str(csv), "--zone", "EST", "--format", "jsonl",
                 "-o", str(tmp_path / "r.jsonl"), "--store", str(store)]) == 0
    rec = json.loads((tmp_path / "r.jsonl").read_text(encoding="utf-8"))
    assert (rec["min_altitude_m"], rec["observations"]) == (7600.0, 181)
    df = pd.read_csv(csv)
    mid = df.index[df["time"] > df["time"].min() + 400][:2]
    df.loc[mid[0], "baroaltitude"] = 7000.0
    df.drop(index=mid[1]).to_csv(csv, index=False)
    with IncidentStore.open(store) as s, pytest.raises(UsageError) as err:
        evidence_from_store(s, rec["id"])
    assert str(err.value) == (
        f"the scan's inputs no longer give the stored record of entry {rec['id']} (fields "
        "differ: min_altitude_m, observations): have they changed since the scan?")


def test_drain_gives_the_dossier_being_built_a_second_to_finish(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pending; the first build is held until drain(0.1) has stopped the worker,
    then goes on: drain waits up to 1 s more for the thread, so the first is built (a
    moment after the stop, however loaded the machine) and one remains."""
    b = Builder(monkeypatch)
    b.gate = threading.Event()
    request(store, ("a" * 16, "pending", 1.0), ("b" * 16, "pending", 2.0))
    w = worker(store, tmp_path).start()
    wait_until(lambda: len(b.calls) == 1)

    def release_after_the_stop() -> None:
        wait_until(lambda: w._stop)
        assert b.gate is not None
        b.gate.set()

    threading.Thread(target=release_after_the_stop, daemon=True).start()
    assert w.drain(0.1) == 1
    assert b.order == ["a" * 16] and not w._thread.is_alive()


class _Looks(threading.Condition):
    """A condition that records how long the worker asks to wait each time it is idle
    (and waits only a moment, so the test need not sit out a real period)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.append(timeout)
        return super().wait(0.01)


def test_an_idle_worker_looks_for_dossiers_asked_elsewhere_every_five_seconds(
        store: IncidentStore, tmp_path: Path) -> None:
    """Nothing asked: the worker (its default period, as the watcher makes it) waits to
    be told, but no longer than 5 s each time, so that a dossier row written by another
    process is built within 5 s without a notice."""
    w = DossierWorker(store, str(tmp_path / "auto"), KEY, LOG)
    w._cv = looks = _Looks()
    w.start()
    wait_until(lambda: len(looks.asked) >= 3)
    assert w.drain(0.0) == 0
    assert set(looks.asked) == {5.0}


class _Joins:
    """Stands in for the worker's thread: records the time ``drain`` gives it to end."""

    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def join(self, timeout: float | None = None) -> None:
        self.timeouts.append(timeout)


def test_drain_gives_the_thread_what_is_left_of_its_time_and_one_second_more(
        store: IncidentStore, tmp_path: Path) -> None:
    """The grace is counted, not waited for: with its time already up (0 s) drain gives
    the thread 1 s to finish the dossier under way; with 30 s and nothing pending it
    gives the 30 s it has not used, plus that second."""
    w = worker(store, tmp_path)
    w._thread = joins = _Joins()  # type: ignore[assignment]
    assert w.drain(0.0) == 0
    w._stop = False
    assert w.drain(30.0) == 0
    assert joins.timeouts[0] == 1.0
    assert joins.timeouts[1] is not None and 30.0 < joins.timeouts[1] <= 31.0


def test_drain_looks_at_the_pending_dossiers_every_50_ms(
        store: IncidentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a dossier is being built drain looks again every 50 ms (a watcher stopping
    waits no longer than that after its last dossier), counted on the pauses drain
    asks for, not on a clock."""
    b = Builder(monkeypatch)
    b.gate = threading.Event()
    request(store, ("a" * 16, "pending", 1.0))
    w = worker(store, tmp_path).start()
    wait_until(lambda: len(b.calls) == 1)
    pauses: list[float] = []

    def pause(s: float) -> None:
        pauses.append(s)
        if len(pauses) == 3:
            assert b.gate is not None
            b.gate.set()  # the build ends after drain's third look
        time.sleep(0.01)

    monkeypatch.setattr(dossiers, "time", SimpleNamespace(
        monotonic=time.monotonic, time=time.time, sleep=pause))
    assert w.drain(30.0) == 0
    assert len(pauses) >= 3 and set(pauses) == {0.05}
