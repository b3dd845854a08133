"""``skyfence dossier verify``: check a dossier with nothing but the dossier and a
public key.

In order, every check reported (not only the first failure):

1. the envelope: a DSSE envelope of an in-toto Statement v1 with our predicate type;
2. the signature: by the key given with ``--key`` (else by ``signer.pub`` in the
   dossier, which proves integrity but not who signed: the output says so);
3. the files: each subject exists and has its SHA-256; no file is missing or unlisted;
   ``claim.json`` equals the claim inside the signed statement;
4. the log: the statement's digest is the leaf whose inclusion proof leads to the root
   of the log checkpoint, and that checkpoint is signed by the same key; with ``--log``
   the station log on disk must still hold the entry and extend that checkpoint;
5. the claim: re-derived by skyfence's own scan (:mod:`skyfence.evidence.rederive`).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from skyfence.errors import DataError, UsageError
from skyfence.evidence import merkle
from skyfence.evidence.checkpoint import CheckpointError, parse_checkpoint
from skyfence.evidence.dossier import ENVELOPE_FILE, PREDICATE_TYPE, SIGNER_FILE, statement_digest
from skyfence.evidence.dsse import EnvelopeError, read_envelope
from skyfence.evidence.hashing import sha256_file
from skyfence.evidence.keys import key_id, load_public_key
from skyfence.evidence.log import StationLog
from skyfence.evidence.rederive import rederive

__all__ = ["Verification", "verify_dossier"]


@dataclass
class Verification:
    """The outcome: failures (each names the file, field or proof), notes, figures."""

    path: Path
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def render(self) -> str:
        """``OK ...`` and the figures, or ``FAILED ...`` and one line per failure."""
        head = (f"OK {self.path}" if self.ok
                else f"FAILED {self.path}: {len(self.failures)} problem(s)")
        lines = [head]
        lines += [f"  - {f}" for f in self.failures]
        lines += [f"  {n}" for n in self.notes]
        lines += [f"  {f}" for f in self.figures]
        return "\n".join(lines)


def _unzip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        for n in names:
            pp = PurePosixPath(n)
            if pp.is_absolute() or ".." in pp.parts:
                raise DataError(f"{path}: unsafe member name {n!r}")
        z.extractall(into)
    tops = {PurePosixPath(n).parts[0] for n in names if PurePosixPath(n).parts}
    if len(tops) == 1 and (into / next(iter(tops))).is_dir():
        return into / next(iter(tops))
    return into


def verify_dossier(
    path: str | Path, public_key: Ed25519PublicKey | str | Path | None = None,
    station_log: StationLog | None = None,
) -> Verification:
    """Verify the dossier folder (or .zip) at ``path``; see the module docstring.

    ``public_key`` is the key to require: a key, a ``.pub`` file, or a directory of
    ``.pub`` files (the station's published keys; the one whose id signed the dossier
    is required, else the signature fails naming the ids).
    """
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{p}: no such dossier")
    if isinstance(public_key, (str, Path)) and Path(public_key).is_dir():
        public_key = _key_from_directory(Path(public_key), p)
    elif isinstance(public_key, (str, Path)):
        public_key = load_public_key(public_key)
    if p.is_file() and zipfile.is_zipfile(p):
        with tempfile.TemporaryDirectory(prefix="skyfence-verify-") as tmp:
            res = _verify_dir(_unzip(p, Path(tmp)), public_key, station_log)
        res.path = p
        return res
    if not p.is_dir():
        raise UsageError(f"{p}: not a dossier folder or .zip")
    return _verify_dir(p, public_key, station_log)


def _key_from_directory(keys: Path, dossier: Path) -> Ed25519PublicKey:
    """The published key in ``keys`` that signed ``dossier`` (else the first one, which
    then fails the signature check with the ids named)."""
    found = [load_public_key(f) for f in sorted(keys.glob("*.pub"))]
    if not found:
        raise UsageError(f"--key {keys}: no .pub key file in this directory")
    try:
        if dossier.is_file() and zipfile.is_zipfile(dossier):
            with zipfile.ZipFile(dossier) as z:
                name = next(n for n in z.namelist() if n.endswith(ENVELOPE_FILE))
                env = read_envelope(z.read(name))
        else:
            env = read_envelope((dossier / ENVELOPE_FILE).read_bytes())
        signed = {k for k, _ in env.signatures}
    except (OSError, StopIteration, EnvelopeError, zipfile.BadZipFile):
        signed = set()
    return next((k for k in found if key_id(k) in signed), found[0])


def _verify_dir(d: Path, pinned: Ed25519PublicKey | None, slog: StationLog | None
                ) -> Verification:
    res = Verification(d)
    env_path = d / ENVELOPE_FILE
    if not env_path.is_file():
        res.failures.append(f"{ENVELOPE_FILE}: missing: nothing is signed")
        return res
    try:
        env = read_envelope(env_path.read_bytes())
    except EnvelopeError as exc:
        res.failures.append(f"{ENVELOPE_FILE}: {exc}")
        return res
    st = env.statement
    if st.get("predicateType") != PREDICATE_TYPE:
        res.failures.append(f"{ENVELOPE_FILE}: predicateType {st.get('predicateType')!r}, "
                            f"expected {PREDICATE_TYPE!r}")
        return res
    signer = _check_signature(d, env, pinned, res)
    _check_files(d, st, res)
    claim = _check_claim(d, st, res)
    if signer is not None:
        _check_log(st, signer, slog, res)
    if claim is not None:
        _check_rederived(d, claim, res)
    return res


def _check_signature(d: Path, env: Any, pinned: Ed25519PublicKey | None,
                     res: Verification) -> Ed25519PublicKey | None:
    signed_ids = ", ".join(k[:16] + "..." for k, _ in env.signatures)
    if pinned is not None:
        if env.signed_by(pinned):
            res.notes.append(f"signature: valid, by the given key {key_id(pinned)}")
            return pinned
        kid = key_id(pinned)
        if any(k == kid for k, _ in env.signatures):
            res.failures.append(f"{ENVELOPE_FILE}: signature: does not verify with the given "
                                f"key {kid[:16]}...: the statement was changed after signing")
        else:
            res.failures.append(f"{ENVELOPE_FILE}: signature: signed by key {signed_ids}, "
                                f"not by the given key {kid[:16]}...")
        return None
    try:
        shipped = load_public_key(d / SIGNER_FILE)
    except UsageError:
        res.failures.append(f"{SIGNER_FILE}: missing or unreadable, and no --key given: "
                            "cannot check the signature")
        return None
    if env.signed_by(shipped):
        res.notes.append(f"signature: valid, by key {key_id(shipped)} shipped in {SIGNER_FILE} "
                         "(pass --key KEY.pub to check it is the station's key)")
        return shipped
    res.failures.append(f"{ENVELOPE_FILE}: signature: does not verify with {SIGNER_FILE} "
                        f"(signed by {signed_ids})")
    return None


def _check_files(d: Path, st: dict[str, Any], res: Verification) -> None:
    listed: dict[str, str] = {}
    for s in st.get("subject") or []:
        try:
            listed[str(s["name"])] = str(s["digest"]["sha256"])
        except (KeyError, TypeError):
            res.failures.append(f"{ENVELOPE_FILE}: a subject has no name or sha256 digest")
    for name, digest in sorted(listed.items()):
        f = d / name
        if "/" in name or name.startswith("."):
            res.failures.append(f"{ENVELOPE_FILE}: subject {name!r} is not a plain file name")
        elif not f.is_file():
            res.failures.append(f"{name}: missing (listed in the signed statement)")
        else:
            got = sha256_file(f)
            if got != digest:
                res.failures.append(f"{name}: SHA-256 differs from the signed statement "
                                    f"(signed {digest[:16]}..., file {got[:16]}...)")
    for f in sorted(d.iterdir()):
        if f.is_file() and f.name != ENVELOPE_FILE and f.name not in listed:
            res.failures.append(f"{f.name}: not listed in the signed statement")
    res.notes.append(f"files: {len(listed)} signed files checked")


def _check_claim(d: Path, st: dict[str, Any], res: Verification) -> dict[str, Any] | None:
    signed = (st.get("predicate") or {}).get("claim")
    if not isinstance(signed, dict):
        res.failures.append(f"{ENVELOPE_FILE}: the predicate holds no claim")
        return None
    try:
        on_disk = json.loads((d / "claim.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        res.failures.append(f"claim.json: unreadable ({type(exc).__name__})")
        return signed
    if on_disk != signed:
        diff = _first_difference(signed, on_disk)
        res.failures.append(f"claim.json: differs from the claim in the signed statement "
                            f"at {diff}")
    return on_disk if isinstance(on_disk, dict) else signed


def _first_difference(a: Any, b: Any, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{where}.{k}" if where else k)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    return f"{where or 'top level'} (signed {a!r:.60}, file {b!r:.60})"


def _check_log(st: dict[str, Any], signer: Ed25519PublicKey, slog: StationLog | None,
               res: Verification) -> None:
    rec = (st.get("predicate") or {}).get("log")
    if not isinstance(rec, dict):
        res.failures.append(f"{ENVELOPE_FILE}: the predicate holds no log entry")
        return
    try:
        cp = parse_checkpoint(rec["checkpoint"])
        index, size = int(rec["index"]), int(rec["tree_size"])
        proof = [bytes.fromhex(h) for h in rec["inclusion_proof"]]
    except (KeyError, TypeError, ValueError, CheckpointError) as exc:
        res.failures.append(f"log: the entry in the statement is malformed ({exc})")
        return
    digest = statement_digest(st)
    leaf = merkle.leaf_hash(digest)
    if rec.get("statement_sha256") != digest.hex():
        logged = str(rec.get("statement_sha256"))[:16]
        res.failures.append(f"log: the logged statement digest {logged}... is not this "
                            f"statement's {digest.hex()[:16]}...")
    if not cp.verify(signer):
        res.failures.append(f"log: checkpoint of {cp.origin} is not signed by the dossier's key")
    if cp.size != size:
        res.failures.append(f"log: entry claims a tree of {size} entries, checkpoint has {cp.size}")
    if not merkle.verify_inclusion(index, size, leaf, proof, cp.root):
        res.failures.append(f"log: inclusion proof of entry {index} in the tree of {size} "
                            f"entries does not lead to the checkpoint root")
    else:
        res.notes.append(f"log: entry {index} of {cp.origin}, included in the signed tree of "
                         f"{size} entries (root {cp.root.hex()[:16]}...)")
    if slog is not None:
        _check_station_log(slog, index, size, leaf, cp.root, signer, res)


def _check_station_log(slog: StationLog, index: int, size: int, leaf: bytes, root: bytes,
                       signer: Ed25519PublicKey, res: Verification) -> None:
    try:
        leaves = slog.leaf_hashes()
        newest = slog.checkpoint()
    except (UsageError, DataError) as exc:
        res.failures.append(f"station log {slog.dir}: {exc}")
        return
    n = len(leaves)
    if n < size:
        res.failures.append(f"station log {slog.dir}: holds {n} entries, but this dossier's "
                            f"checkpoint signed {size}: the log was truncated")
        return
    if leaves[index] != leaf:
        res.failures.append(f"station log {slog.dir}: entry {index} is not this dossier's "
                            "statement: the log was rewritten")
        return
    proof = merkle.consistency_proof(leaves, size)
    if not merkle.verify_consistency(size, n, root, merkle.tree_root(leaves), proof):
        res.failures.append(f"station log {slog.dir}: its {n} entries do not extend the tree "
                            f"of {size} this dossier was logged in: the log was rewritten")
        return
    if newest is None or newest.size != n or not newest.verify(signer) \
            or newest.root != merkle.tree_root(leaves):
        res.failures.append(f"station log {slog.dir}: its newest checkpoint does not sign its "
                            f"{n} entries")
        return
    res.notes.append(f"station log: holds the entry; its signed tree of {n} entries is "
                     f"consistent with the dossier's tree of {size}")


def _check_rederived(d: Path, claim: dict[str, Any], res: Verification) -> None:
    if not (d / "observations.parquet").is_file() or not (d / "zone.geojson").is_file():
        res.failures.append("re-derivation: observations.parquet or zone.geojson is missing")
        return
    derived, cmp, problems = rederive(d, claim)
    res.failures.extend(problems)
    for c in cmp:
        if not c.ok:
            res.failures.append(c.describe())
    if derived is None:
        return
    rec = claim["incident"]
    res.figures.append(f"re-derived by skyfence's scan of observations.parquet in zone.geojson "
                       f"({rec['zone']}, track {rec['track']}):")
    shown = {c.field: c for c in cmp}
    for name, label in (("entered_at", "entered"), ("exited_at", "exited"),
                        ("duration_s", "duration s"), ("max_depth_m", "max depth m"),
                        ("observations", "fixes inside")):
        found = shown.get(name)
        if found is not None:
            c = found
            mark = "agrees" if c.ok else "DIFFERS"
            res.figures.append(f"  {label:<13} {c.derived!s:<26} claimed {c.claimed!s:<26} "
                               f"{mark} ({c.tolerance})")
