"""Signed checkpoints of the station log, in the transparency-log checkpoint format
(C2SP ``tlog-checkpoint`` body in a C2SP ``signed-note``), as Go's sumdb and Sigstore
logs write them::

    <origin>
    <tree size, decimal>
    <root hash, base64>

    — <key name> <base64(key hash (4 bytes) || Ed25519 signature (64 bytes))>

The signature covers the body (the three lines, each ending in a newline). The key
hash is the first 4 bytes of ``SHA-256(key name || "\\n" || 0x01 || public key)``
(0x01: the Ed25519 algorithm byte of signed notes). The key name is the origin.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from skyfence.evidence.keys import SigningKey, raw_public_key, verify_signature

__all__ = ["Checkpoint", "CheckpointError", "parse_checkpoint", "sign_checkpoint"]

_DASH = "\u2014"


class CheckpointError(ValueError):
    """A checkpoint that cannot be parsed."""


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size, root, and the signed note text it came from."""

    origin: str
    size: int
    root: bytes
    text: str

    @property
    def body(self) -> bytes:
        """The signed part: three lines."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()

    def verify(self, public: Ed25519PublicKey) -> bool:
        """True when one of the note's signature lines is ``public``'s over the body."""
        want = note_key_hash(self.origin, public)
        for line in self.text.partition("\n\n")[2].splitlines():
            parts = line.split(" ")
            if len(parts) != 3 or parts[0] != _DASH or parts[1] != self.origin:
                continue
            try:
                blob = base64.b64decode(parts[2], validate=True)
            except (binascii.Error, ValueError):
                continue
            if blob[:4] == want and verify_signature(public, blob[4:], self.body):
                return True
        return False


def note_key_hash(name: str, public: Ed25519PublicKey) -> bytes:
    """The 4-byte key hash of a signed note's signature line."""
    return hashlib.sha256(name.encode() + b"\n\x01" + raw_public_key(public)).digest()[:4]


def sign_checkpoint(origin: str, size: int, root: bytes, key: SigningKey) -> Checkpoint:
    """A checkpoint of ``size`` leaves with root ``root``, signed by ``key``."""
    if "\n" in origin or not origin:
        raise ValueError("a checkpoint origin is one non-empty line")
    unsigned = Checkpoint(origin, size, root, "")
    body = unsigned.body
    blob = note_key_hash(origin, key.public) + key.sign(body)
    text = body.decode() + f"\n{_DASH} {origin} {base64.b64encode(blob).decode()}\n"
    return Checkpoint(origin, size, root, text)


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a signed checkpoint; signatures are checked by :meth:`Checkpoint.verify`."""
    body, sep, sigs = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3 or not sigs.strip():
        raise CheckpointError("expected origin, size and root lines, a blank line, signatures")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not size_s.isdigit():
        raise CheckpointError(f"tree size {size_s!r} is not a number")
    try:
        root = base64.b64decode(root_s, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError("root hash is not base64") from None
    if len(root) != 32:
        raise CheckpointError(f"root hash has {len(root)} bytes, not 32")
    return Checkpoint(origin, int(size_s), root, text)
