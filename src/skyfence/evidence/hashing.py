"""Digests and the canonical JSON that signatures and the log commit to.

Canonical JSON here is Python's ``json`` with sorted keys, no whitespace and UTF-8
(``ensure_ascii=False``): the same object always gives the same bytes, so a statement
can be re-serialized and re-hashed by a verifier. Numbers are written as Python writes
them (shortest round-trip form), which is what every file of a dossier uses.

>>> canonical_json({"b": 1, "a": [1.5, "é"]})
b'{"a":[1.5,"\\xc3\\xa9"],"b":1}'
>>> sha256_hex(b"")
'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

__all__ = ["canonical_json", "pretty_json", "sha256_file", "sha256_hex"]

_CHUNK = 1 << 20


def canonical_json(obj: Any) -> bytes:
    """Deterministic compact UTF-8 JSON of ``obj`` (sorted keys, no whitespace)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def pretty_json(obj: Any) -> bytes:
    """Readable, deterministic UTF-8 JSON (for files people open): indented, sorted keys."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
            + "\n").encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes as lower-case hex, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()
