"""Evidence anyone can verify: signed dossiers, the station's Merkle log, reports.

A dossier documents one incident so that a third party can check it with nothing but
the dossier and the station's public key: the claim (the incident record and what it
was computed from), the observations and the exact boundary, pictures and a report, all
listed with their SHA-256 in an Ed25519-signed in-toto statement whose digest is
recorded in an append-only RFC 6962 Merkle log. ``skyfence dossier verify`` checks the
hashes, the signature and the log proof, then recomputes the claim with skyfence's own
scan.

Modules, one job each: :mod:`~.claim` (what is claimed), :mod:`~.observations` and
:mod:`~.source_rows` (the data), :mod:`~.zonefile` (the boundary),
:mod:`~.trackfacts`, :mod:`~.pictures` and :mod:`~.report` (what people read),
:mod:`~.dsse`, :mod:`~.keys`, :mod:`~.merkle`, :mod:`~.checkpoint` and :mod:`~.log`
(signing and logging), :mod:`~.dossier` (building), :mod:`~.rederive` and
:mod:`~.verify` (checking), :mod:`~.sources` (evidence from a scan or a scenario) and
:mod:`~.commands` (the CLI).
"""

from skyfence.evidence.claim import IncidentEvidence, InputFile, PolicySnapshot
from skyfence.evidence.dossier import Dossier, build_dossier, dossier_for_incident

__all__ = ["Dossier", "IncidentEvidence", "InputFile", "PolicySnapshot", "build_dossier",
           "dossier_for_incident"]
