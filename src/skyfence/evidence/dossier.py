"""Build a dossier: the folder (and a .zip of it) that documents one incident.

:func:`build_dossier` takes what any part of skyfence knows about an incident (an
:class:`~skyfence.evidence.claim.IncidentEvidence`: the record, the observations, the
zone, the policy, the sensors) plus a signing key and a station log, and writes::

    claim.json            the claim (:mod:`skyfence.evidence.claim`)
    observations.parquet  the track's fixes, window ± 10 min (and the same as CSV)
    observations.csv
    source-rows.csv       the raw input rows behind them (tabular inputs)
    zone.geojson          the exact boundary the detector used
    policy.yaml           the policy text the incident was judged under
    map.png, profile.png  the pictures (:mod:`skyfence.evidence.pictures`)
    report.html           self-contained report; report.pdf the same as PDF
    signer.pub            the station's public key (pin it with ``verify --key``)
    statement.dsse.json   the signed in-toto statement over every file above

Sealing (:func:`seal_dossier`): the statement lists every file with its SHA-256; its
digest *without* the log entry (:func:`statement_digest`) is appended to the station
log; the log's receipt (index, inclusion proof, signed checkpoint) is added to the
predicate; the whole statement is signed into a DSSE envelope.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from skyfence.errors import UsageError
from skyfence.evidence.claim import IncidentEvidence, build_claim
from skyfence.evidence.dsse import make_statement, sign_statement
from skyfence.evidence.hashing import canonical_json, pretty_json, sha256_file
from skyfence.evidence.keys import SigningKey, public_key_pem
from skyfence.evidence.log import LogReceipt, StationLog
from skyfence.evidence.observations import entry_window, track_window, write_observations
from skyfence.evidence.pictures import draw_map, draw_profile
from skyfence.evidence.report import write_html, write_pdf
from skyfence.evidence.timefmt import clock, long_date, now_iso, parse_iso
from skyfence.evidence.trackfacts import track_facts
from skyfence.evidence.zonefile import zone_geojson
from skyfence.records import EntryRecord

__all__ = [
    "ENVELOPE_FILE", "PREDICATE_TYPE", "Dossier", "build_dossier", "dossier_for_incident",
    "incident_dossier_dir", "seal_dossier",
    "statement_digest",
]

log = logging.getLogger(__name__)

#: the predicate type of a skyfence dossier statement
PREDICATE_TYPE = "urn:skyfence:predicate:dossier:v1"
ENVELOPE_FILE = "statement.dsse.json"
SIGNER_FILE = "signer.pub"


@dataclass(frozen=True)
class Dossier:
    """A built dossier: where it is and how it was logged."""

    path: Path
    zip_path: Path
    statement_sha256: str
    receipt: LogReceipt


def statement_digest(statement: dict[str, Any]) -> bytes:
    """SHA-256 of the statement's canonical JSON without ``predicate.log``: the station
    log's leaf data for this dossier."""
    pred = {k: v for k, v in statement["predicate"].items() if k != "log"}
    return hashlib.sha256(canonical_json({**statement, "predicate": pred})).digest()


def _title(ev: IncidentEvidence) -> str:
    rec = ev.record
    t = parse_iso(rec["entered_at"])
    where = (f"{ev.zone.title} ({rec['zone']})" if ev.zone.kind == "national" and ev.zone.title
             else rec["zone"])
    end = rec["exited_at"] or rec["last_inside_at"]
    return (f"Track {rec['track']} in {where}, {long_date(t)}, "
            f"{clock(t, ms=False)}-{clock(parse_iso(end), ms=False)} UTC")


def _prepare_dir(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"-o {out}: the directory exists and is not empty; give a new one")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"-o {out}: cannot create ({exc.strerror})") from None


def build_dossier(
    evidence: IncidentEvidence, out: str | Path, key: SigningKey, station_log: StationLog,
    *, built_at: str | None = None,
) -> Dossier:
    """Write the dossier of ``evidence`` into the new directory ``out`` and seal it."""
    out = Path(out)
    _prepare_dir(out)
    rec = evidence.record
    end = rec["exited_at"] or rec["last_inside_at"]
    window = entry_window(parse_iso(rec["entered_at"]), parse_iso(end), evidence.gap_s)
    obs = track_window(evidence.observations, rec["track"], window)
    if len(obs) == 0:
        raise UsageError(f"no observations of track {rec['track']} in the window "
                         f"{window.to_json()['start']} .. {window.to_json()['end']}")
    files = {
        "observations_parquet": out / "observations.parquet",
        "observations_csv": out / "observations.csv",
        "zone": out / "zone.geojson",
        "policy": out / "policy.yaml",
        "map": out / "map.png",
        "profile": out / "profile.png",
    }
    write_observations(obs, files["observations_parquet"], files["observations_csv"])
    files["zone"].write_bytes(pretty_json(zone_geojson(evidence.zone)))
    files["policy"].write_text(evidence.policy.text, encoding="utf-8")
    if evidence.source_rows is not None:
        files["source_rows"] = out / "source-rows.csv"
        evidence.source_rows.to_csv(files["source_rows"], index=False)
    facts = track_facts(obs, evidence.zone, rec)
    title = _title(evidence)
    map_fig = draw_map(facts, evidence.zone, rec, title)
    profile_fig = draw_profile(facts, rec, title)
    try:
        map_fig.savefig(files["map"], dpi=map_fig.dpi)
        profile_fig.savefig(files["profile"], dpi=profile_fig.dpi)
        claim = build_claim(evidence, window, len(obs), files, built_at or now_iso(), key.key_id)
        (out / "claim.json").write_bytes(pretty_json(claim))
        (out / SIGNER_FILE).write_bytes(public_key_pem(key.public))
        listed = [(p.name, sha256_file(p)) for p in sorted(out.iterdir()) if p.is_file()]
        write_html(out / "report.html", claim, facts, files["map"], files["profile"], title,
                   listed)
        write_pdf(out / "report.pdf", claim, facts, map_fig, profile_fig, title, listed)
    finally:
        plt.close(map_fig)
        plt.close(profile_fig)
    return seal_dossier(out, claim, key, station_log,
                        meta={"incident": rec["id"], "dossier": out.name})


def dossier_for_incident(
    record: EntryRecord, observations: Any, zone: Any, policy: Any, root: str | Path,
    key: SigningKey, station_log: StationLog, *, sensors: Sequence[dict[str, Any]] = (),
    gap_s: float = 300.0, origin: str = "recorded",
) -> Dossier:
    """Build the dossier of one incident into ``root/<entry date>-<zone>-<track>-<id>``:
    the call a watcher or the incident store makes for a critical incident.

    ``observations`` are the track's fixes (a DataFrame with the observation columns;
    more is fine, the window is cut from it), ``zone`` the
    :class:`~skyfence.airspace.zones.Zone` and ``policy`` the
    :class:`~skyfence.policy.Policy` the record came from.
    """
    from skyfence.evidence.claim import PolicySnapshot

    evidence = IncidentEvidence(record, observations, zone, PolicySnapshot.of(policy),
                                list(sensors), gap_s, origin=origin)
    return build_dossier(evidence, incident_dossier_dir(root, record), key, station_log)


def incident_dossier_dir(root: str | Path, record: EntryRecord) -> Path:
    """Where an incident's dossier goes under ``root``: ``<entry date>-<zone>-<track>-<id>``,
    anything but letters, digits, ``-`` and ``_`` in the zone and track made ``_``.

    >>> incident_dossier_dir("d", {"entered_at": "2025-09-19T09:58:01.000Z", "zone": "EST",
    ...                             "track": "R 1/x", "id": "42fe2ba5ab495ff8"}).as_posix()
    'd/2025-09-19-EST-R_1_x-42fe2ba5ab495ff8'
    """
    day = record["entered_at"][:10]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{record['zone']}-"
                                                                  f"{record['track']}")
    return Path(root) / f"{day}-{safe}-{record['id']}"


def seal_dossier(
    out: Path, claim: dict[str, Any], key: SigningKey, station_log: StationLog,
    meta: dict[str, Any] | None = None,
) -> Dossier:
    """Sign every file of ``out`` into ``statement.dsse.json``, log it, zip the folder."""
    subjects = [(p.name, sha256_file(p)) for p in sorted(out.iterdir())
                if p.is_file() and p.name != ENVELOPE_FILE]
    statement = make_statement(subjects, PREDICATE_TYPE, {"claim": claim})
    digest = statement_digest(statement)
    receipt = station_log.append(digest, key, meta)
    statement["predicate"]["log"] = receipt
    envelope = sign_statement(statement, key)
    (out / ENVELOPE_FILE).write_bytes(pretty_json(envelope))
    zip_path = _zip(out)
    log.info("dossier %s sealed: statement %s, log entry %d", out, digest.hex(),
             receipt["index"])
    return Dossier(out, zip_path, digest.hex(), receipt)


def _zip(out: Path) -> Path:
    """``out.zip`` beside the folder, entries under the folder's name, fixed timestamps."""
    zip_path = out.with_name(out.name + ".zip")
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for p in sorted(out.iterdir()):
            if p.is_file():
                info = zipfile.ZipInfo(f"{out.name}/{p.name}", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                with open(p, "rb") as src, z.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst)
    tmp.replace(zip_path)
    return zip_path
