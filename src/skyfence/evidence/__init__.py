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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skyfence.evidence.claim import IncidentEvidence, InputFile, PolicySnapshot
    from skyfence.evidence.dossier import Dossier, build_dossier, dossier_for_incident

__all__ = ["Dossier", "IncidentEvidence", "InputFile", "PolicySnapshot", "build_dossier",
           "dossier_for_incident"]

#: where each name lives; imported on first use, because building a dossier needs
#: matplotlib and the report's PDF writer (3 s of imports), which every ``skyfence``
#: command paid when the command line was parsed
_LAZY = {"IncidentEvidence": "claim", "InputFile": "claim", "PolicySnapshot": "claim",
         "Dossier": "dossier", "build_dossier": "dossier", "dossier_for_incident": "dossier"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
