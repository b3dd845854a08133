"""Evidence for a dossier from a scan of recorded files, or from a built-in scenario.

Both find the incident record (by its ``id``, or by track when the track has one entry
only), and collect the track's observations, the zone, the policy and the sensors into
an :class:`~skyfence.evidence.claim.IncidentEvidence`. Entries depend on one track's
fixes only, so the track's records are recomputed from its own fixes with the same
detector, classifier and policy as the scan, and equal the full scan's records.

The incident store (to come) will build the same object from its records.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from skyfence.errors import UsageError
from skyfence.evidence.claim import IncidentEvidence, InputFile, PolicySnapshot, radar_sensor
from skyfence.evidence.observations import entry_window
from skyfence.evidence.source_rows import source_rows
from skyfence.evidence.timefmt import parse_iso
from skyfence.model import OBSERVATION_COLUMNS, empty_observations
from skyfence.records import EntryRecord
from skyfence.scanning.engine import ScanOptions, detect_entries, finish, scan_files
from skyfence.sources.files import file_format, iter_file_batches
from skyfence.sources.tabular import iter_table_chunks

__all__ = ["evidence_from_scan", "evidence_from_scenario", "pick_record"]


def pick_record(records: Sequence[EntryRecord], incident_id: str | None,
                track: str | None) -> EntryRecord:
    """The record with ``incident_id`` (and ``track`` if given), or the only entry of
    ``track``; a :class:`UsageError` lists the candidates otherwise."""
    cands = [r for r in records if (incident_id is None or r["id"] == incident_id)
             and (track is None or r["track"] == track)]
    if len(cands) == 1:
        return cands[0]
    what = " and ".join(x for x in (incident_id and f"id {incident_id}",
                                    track and f"track {track}") if x)
    if not cands:
        raise UsageError(f"no entry with {what} in the scan"
                         + ("" if incident_id else "; `skyfence scan --all-entries` lists them"))
    lines = "; ".join(f"{r['id']} ({r['zone']}, entered {r['entered_at']})" for r in cands[:8])
    raise UsageError(f"{len(cands)} entries match {what}: give one id as INCIDENT_ID: {lines}")


def _batches(paths: Sequence[Path], opts: ScanOptions) -> Iterator[pd.DataFrame]:
    for p in paths:
        if file_format(p, opts.input_format) in ("csv", "parquet"):
            yield from iter_table_chunks(p, columns=opts.columns, on_error=opts.on_error,
                                         chunk_rows=opts.chunk_rows or 250_000)
        else:
            yield from iter_file_batches(p, fmt=opts.input_format, on_error=opts.on_error,
                                         ref=opts.ref)


def _fused_evidence(paths: Sequence[Path], opts: ScanOptions, incident_id: str | None,
                    track: str | None) -> tuple[EntryRecord, pd.DataFrame] | None:
    """The record and screened observations of an entry when the scan fuses (radar
    files, or ``fuse``), else None: a radar track's fixes are what fusion kept of it,
    not what the files hold."""
    from skyfence.scanning.fused import scan_recorded
    from skyfence.sources.recorded import read_recorded

    data = read_recorded(paths, fmt=opts.input_format, columns=opts.columns,
                         on_error=opts.on_error, ref=opts.ref, radar_sites=opts.radar_sites,
                         date=opts.date)
    if not (opts.fuse or data.has_radar):
        return None
    res = scan_recorded(data, opts, keep_screened=True)
    rec = pick_record(res.records, incident_id, track)
    obs = res.screened if res.screened is not None else empty_observations()
    obs = obs.loc[obs["icao24"].to_numpy(object) == rec["track"], list(OBSERVATION_COLUMNS)]
    return rec, obs.reset_index(drop=True)


def _track_observations(paths: Sequence[Path], opts: ScanOptions, track: str) -> pd.DataFrame:
    parts = []
    for b in _batches(paths, opts):
        hit = b["icao24"].to_numpy(object) == track
        if hit.any():
            parts.append(b.loc[hit, list(OBSERVATION_COLUMNS)])
    if not parts:
        return empty_observations()
    return pd.concat(parts, ignore_index=True)


def evidence_from_scan(
    paths: Sequence[Path], opts: ScanOptions, *, incident_id: str | None = None,
    track: str | None = None, command: str | None = None,
    aircraft_db: Path | None = None,
) -> IncidentEvidence:
    """Evidence of one entry found by scanning ``paths`` with ``opts``."""
    if incident_id is None and track is None:
        raise UsageError("give INCIDENT_ID or --track ID")
    fused = _fused_evidence(paths, opts, incident_id, track)
    if fused is not None:
        rec, obs = fused
        track = rec["track"]
    else:
        if track is None:
            full = scan_files(paths, opts)
            track = pick_record(full.records, incident_id, None)["track"]
        obs = _track_observations(paths, opts, track)
        if len(obs) == 0:
            raise UsageError(f"track {track} has no positions in the input")
        found, _ = detect_entries([obs], opts.zones, gap_s=opts.gap_s)
        _, records = finish(found, opts.policy, opts.military_db)
        rec = pick_record(records, incident_id, track)
    zone = next(z for z in opts.zones if z.name == rec["zone"])
    end = rec["exited_at"] or rec["last_inside_at"]
    window = entry_window(parse_iso(rec["entered_at"]), parse_iso(end), opts.gap_s)
    rows, note = source_rows(paths, track, window, opts.columns, opts.input_format)
    return IncidentEvidence(
        record=rec, observations=obs, zone=zone, policy=PolicySnapshot.of(opts.policy),
        sensors=[radar_sensor(s) for s in opts.radar_sites], gap_s=opts.gap_s,
        inputs=[InputFile.of(p, opts.input_format) for p in paths], source_rows=rows,
        source_note=note, origin="recorded", command=command,
        aircraft_db=InputFile.of(aircraft_db) if aircraft_db else None,
    )


def evidence_from_scenario(
    name: str, *, incident_id: str | None = None, track: str | None = None,
    command: str | None = None,
) -> IncidentEvidence:
    """Evidence of one entry of a built-in (or YAML) scenario run through the pipeline.

    The data are simulated: the claim and the report say so.
    """
    from skyfence.scenarios import run_scenario

    if incident_id is None and track is None:
        raise UsageError("give INCIDENT_ID or --track ID")
    res = run_scenario(name)
    rec = pick_record(res.records, incident_id, track)
    zone = next(z for z in res.generated.zones if z.name == rec["zone"])
    obs = res.observations
    obs = obs.loc[obs["icao24"].to_numpy(object) == rec["track"], list(OBSERVATION_COLUMNS)]
    return IncidentEvidence(
        record=rec, observations=obs.reset_index(drop=True), zone=zone,
        policy=PolicySnapshot.of(res.policy),
        sensors=[radar_sensor(s) for s in res.generated.sites],
        source_rows=None, source_note="simulated radar plots and ADS-B; no raw feed",
        origin=f"simulated: scenario {res.scenario.name}", command=command,
    )
