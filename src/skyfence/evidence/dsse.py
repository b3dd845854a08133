"""in-toto Statement v1 in a DSSE envelope, signed with Ed25519.

Formats (https://github.com/in-toto/attestation, https://github.com/secure-systems-lab/dsse):

- Statement: ``{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": ...,
  "digest": {"sha256": ...}}], "predicateType": URI, "predicate": {...}}``;
- envelope: ``{"payload": base64(statement), "payloadType":
  "application/vnd.in-toto+json", "signatures": [{"keyid": ..., "sig": base64(sig)}]}``;
- the signature is over PAE = ``"DSSEv1" SP len(type) SP type SP len(body) SP body``,
  lengths as ASCII decimal byte counts, body the raw (not base64) payload.

>>> pae("application/vnd.in-toto+json", b"{}")
b'DSSEv1 28 application/vnd.in-toto+json 2 {}'
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from skyfence.evidence.hashing import canonical_json
from skyfence.evidence.keys import SigningKey, key_id, verify_signature

__all__ = [
    "PAYLOAD_TYPE", "STATEMENT_TYPE", "Envelope", "make_statement", "pae", "read_envelope",
    "sign_statement",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE pre-authentication encoding of ``body`` (what is actually signed)."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(t), t, len(body), body)


def make_statement(
    subjects: Iterable[tuple[str, str]], predicate_type: str, predicate: dict[str, Any]
) -> dict[str, Any]:
    """An in-toto Statement v1 with one subject per ``(name, sha256 hex)``."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in subjects],
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def sign_statement(statement: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """A DSSE envelope holding ``statement`` (canonical JSON) signed by ``key``."""
    body = canonical_json(statement)
    sig = key.sign(pae(PAYLOAD_TYPE, body))
    return {
        "payload": base64.b64encode(body).decode("ascii"),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [{"keyid": key.key_id, "sig": base64.b64encode(sig).decode("ascii")}],
    }


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope: the payload bytes, its statement, and the signatures."""

    payload: bytes
    payload_type: str
    statement: dict[str, Any]
    signatures: list[tuple[str, bytes]]

    def signed_by(self, public: Ed25519PublicKey) -> bool:
        """True when a signature of ``public`` (matched by key id) verifies."""
        kid = key_id(public)
        data = pae(self.payload_type, self.payload)
        return any(k == kid and verify_signature(public, s, data) for k, s in self.signatures)


class EnvelopeError(ValueError):
    """The envelope is not a well-formed DSSE envelope of an in-toto statement."""


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise EnvelopeError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(text)  # DSSE allows either alphabet
        except (binascii.Error, ValueError):
            raise EnvelopeError(f"{what} is not valid base64") from None


def read_envelope(data: bytes) -> Envelope:
    """Parse an envelope; raises :class:`EnvelopeError` naming what is malformed."""
    try:
        env = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError(f"not JSON ({exc})") from None
    if not isinstance(env, dict):
        raise EnvelopeError("not a JSON object")
    ptype = env.get("payloadType")
    if ptype != PAYLOAD_TYPE:
        raise EnvelopeError(f"payloadType is {ptype!r}, expected {PAYLOAD_TYPE!r}")
    payload = _b64(env.get("payload"), "payload")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise EnvelopeError("has no signatures")
    parsed = []
    for i, s in enumerate(sigs):
        if not isinstance(s, dict) or not isinstance(s.get("keyid"), str):
            raise EnvelopeError(f"signature {i + 1} has no keyid")
        parsed.append((s["keyid"], _b64(s.get("sig"), f"signature {i + 1}")))
    try:
        statement = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError(f"payload is not JSON ({exc})") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise EnvelopeError(f"payload is not an in-toto Statement v1 ({STATEMENT_TYPE})")
    return Envelope(payload, ptype, statement, parsed)
