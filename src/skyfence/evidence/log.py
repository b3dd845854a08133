"""The station log: an append-only Merkle log (RFC 6962 / 9162) of dossier statements.

Every dossier a station builds appends one leaf: the SHA-256 of its in-toto statement
*before* the log entry is added to the predicate (see
:func:`skyfence.evidence.dossier.statement_digest`). After each append the log signs a
checkpoint (:mod:`skyfence.evidence.checkpoint`) of the new tree, and the dossier
carries the leaf's inclusion proof against it. Publishing checkpoints (or handing them
to a third party) lets anyone later demand a consistency proof: a log that dropped or
rewrote an entry cannot prove its new tree extends the old one.

On disk, a directory::

    log.json            origin and the id of the signing key
    entries.jsonl       one JSON object per leaf, in order: index, data (hex), logged_at,
                        and what it is (incident id, dossier name); only ``data`` is hashed
    checkpoints/N.txt   the signed checkpoint of the tree of N leaves
    checkpoint          the newest checkpoint (a copy)

Appends take an exclusive ``flock`` on ``.lock``, so a watcher and a manual build can
append at the same time. The default directory is ``$SKYFENCE_LOG_DIR``, else
``~/.local/share/skyfence/log``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from skyfence.errors import DataError, UsageError
from skyfence.evidence import merkle
from skyfence.evidence.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    sign_checkpoint,
)
from skyfence.evidence.keys import SigningKey

__all__ = ["LogReceipt", "StationLog", "default_log_dir"]


def default_log_dir() -> Path:
    """``$SKYFENCE_LOG_DIR`` or ``~/.local/share/skyfence/log``."""
    env = os.environ.get("SKYFENCE_LOG_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "skyfence" / "log"


class LogReceipt(TypedDict):
    """What a dossier keeps of its log entry: enough to check inclusion offline."""

    origin: str
    index: int
    tree_size: int
    statement_sha256: str
    leaf_hash: str
    inclusion_proof: list[str]
    checkpoint: str
    logged_at: str


@dataclass(frozen=True)
class LogEntry:
    """One leaf of the log: its data and what it stands for."""

    index: int
    data: bytes
    logged_at: str
    meta: dict[str, Any]

    @property
    def leaf_hash(self) -> bytes:
        """``SHA-256(0x00 || data)``."""
        return merkle.leaf_hash(self.data)


class StationLog:
    """A Merkle log in a directory (see the module docstring)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.dir = Path(directory) if directory is not None else default_log_dir()

    # ------------------------------------------------------------------ reading
    @property
    def exists(self) -> bool:
        """True when the directory holds a log."""
        return (self.dir / "log.json").is_file()

    def _require(self) -> None:
        if not self.exists:
            raise UsageError(f"{self.dir}: no station log here (one is created by the first "
                             "`skyfence dossier build`)")

    @property
    def config(self) -> dict[str, Any]:
        """``origin`` and ``key_id`` of the log."""
        self._require()
        cfg: dict[str, Any] = json.loads((self.dir / "log.json").read_text(encoding="utf-8"))
        return cfg

    @property
    def origin(self) -> str:
        """The log's name, first line of its checkpoints."""
        return str(self.config["origin"])

    def entries(self) -> list[LogEntry]:
        """Every leaf, in order; a malformed line is a :class:`DataError` naming it."""
        self._require()
        path = self.dir / "entries.jsonl"
        out: list[LogEntry] = []
        if not path.exists():
            return out
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    entry = LogEntry(int(rec["index"]), bytes.fromhex(rec["data"]),
                                     str(rec.get("logged_at", "")), dict(rec.get("meta", {})))
                except (ValueError, KeyError, TypeError):
                    raise DataError(f"{path}: line {n}: not a log entry") from None
                if entry.index != len(out):
                    raise DataError(f"{path}: line {n}: entry index {entry.index}, "
                                    f"expected {len(out)}")
                out.append(entry)
        return out

    def leaf_hashes(self) -> list[bytes]:
        """The leaf hashes of every entry."""
        return [e.leaf_hash for e in self.entries()]

    def checkpoint(self, size: int | None = None) -> Checkpoint | None:
        """The signed checkpoint of ``size`` leaves (default: the newest), if stored."""
        self._require()
        path = self.dir / "checkpoint" if size is None else self.dir / "checkpoints" / f"{size}.txt"
        if not path.exists():
            return None
        try:
            return parse_checkpoint(path.read_text(encoding="utf-8"))
        except CheckpointError as exc:
            raise DataError(f"{path}: {exc}") from None

    def checkpoint_sizes(self) -> list[int]:
        """Sizes of every stored checkpoint, ascending."""
        d = self.dir / "checkpoints"
        if not d.is_dir():
            return []
        return sorted(int(p.stem) for p in d.glob("*.txt") if p.stem.isdigit())

    def root(self, size: int | None = None) -> bytes:
        """Root of the first ``size`` leaves (default: all)."""
        leaves = self.leaf_hashes()
        return merkle.tree_root(leaves if size is None else leaves[:size])

    def inclusion(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves (default all)."""
        leaves = self.leaf_hashes()
        size = len(leaves) if size is None else size
        if not 0 < size <= len(leaves):
            raise UsageError(f"tree size {size} is outside 1..{len(leaves)}")
        if not 0 <= index < size:
            raise UsageError(f"entry {index} is outside a tree of {size} entries")
        return merkle.inclusion_proof(leaves[:size], index)

    def consistency(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Consistency proof from the tree of ``old_size`` leaves to ``new_size``."""
        leaves = self.leaf_hashes()
        new_size = len(leaves) if new_size is None else new_size
        if not 0 <= old_size <= new_size <= len(leaves):
            raise UsageError(f"sizes must satisfy 0 <= OLD <= NEW <= {len(leaves)}; "
                             f"got {old_size} and {new_size}")
        return merkle.consistency_proof(leaves[:new_size], old_size)

    def problems(self, every_checkpoint: bool = True) -> list[str]:
        """What is wrong with the log on disk: fewer entries than a signed checkpoint
        says (truncation), or a checkpoint whose root the entries do not give (entries
        changed). ``every_checkpoint=False`` checks the newest one only (appends)."""
        leaves = self.leaf_hashes()
        sizes = self.checkpoint_sizes()
        if not every_checkpoint:
            sizes = sizes[-1:]
        roots = merkle.prefix_roots(leaves, [s for s in sizes if s <= len(leaves)])
        out = []
        for size in sizes:
            cp = self.checkpoint(size)
            assert cp is not None
            if size > len(leaves):
                out.append(f"checkpoint {size} signs {size} entries but the log holds only "
                           f"{len(leaves)}: the log was truncated")
            elif roots[size] != cp.root:
                out.append(f"checkpoint {size}: the first {size} entries do not give its "
                           "root: entries were changed after it was signed")
        newest = self.checkpoint()
        if newest is not None and newest.size != len(leaves) and not out:
            out.append(f"the newest checkpoint signs {newest.size} entries, the log holds "
                       f"{len(leaves)}")
        return out

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _init(self, key: SigningKey, origin: str | None) -> None:
        cfg = {"origin": origin or f"skyfence-station/{key.key_id[:16]}", "key_id": key.key_id}
        (self.dir / "log.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        (self.dir / "checkpoints").mkdir(exist_ok=True)

    def append(
        self, data: bytes, key: SigningKey, meta: dict[str, Any] | None = None,
        *, origin: str | None = None,
    ) -> LogReceipt:
        """Append one leaf, sign the new checkpoint, return the leaf's receipt.

        The log refuses a key other than the one it was created with, and refuses to
        grow when its entries no longer match its checkpoints.
        """
        with self._locked():
            if not self.exists:
                self._init(key, origin)
            cfg = self.config
            if cfg["key_id"] != key.key_id:
                raise UsageError(f"{self.dir}: this log is signed by key {cfg['key_id'][:16]}..., "
                                 f"not {key.key_id[:16]}...")
            bad = self.problems(every_checkpoint=False)
            if bad:
                raise DataError(f"{self.dir}: {bad[0]}")
            leaves = self.leaf_hashes()
            index = len(leaves)
            now = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            rec = {"index": index, "data": data.hex(), "logged_at": now, "meta": meta or {}}
            with open(self.dir / "entries.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
            leaves.append(merkle.leaf_hash(data))
            cp = sign_checkpoint(cfg["origin"], len(leaves), merkle.tree_root(leaves), key)
            (self.dir / "checkpoints" / f"{cp.size}.txt").write_text(cp.text, encoding="utf-8")
            tmp = self.dir / "checkpoint.tmp"
            tmp.write_text(cp.text, encoding="utf-8")
            tmp.replace(self.dir / "checkpoint")
            return {
                "origin": cp.origin,
                "index": index,
                "tree_size": cp.size,
                "statement_sha256": data.hex(),
                "leaf_hash": leaves[index].hex(),
                "inclusion_proof": [p.hex() for p in merkle.inclusion_proof(leaves, index)],
                "checkpoint": cp.text,
                "logged_at": now,
            }
