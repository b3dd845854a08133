"""Station signing keys: Ed25519, one key pair per file pair in a key directory.

``skyfence keys init`` writes ``DIR/<keyid>.pub`` (the public key, PEM
SubjectPublicKeyInfo, safe to publish) and ``DIR/<keyid>.key`` (the private key, PEM
PKCS#8, created with mode 0600 and never copied into a dossier). The key id is the
SHA-256 hex of the 32 raw public key bytes, as DSSE signatures name it.

The default directory is ``$SKYFENCE_KEY_DIR``, else ``~/.config/skyfence/keys``.
A private key readable by group or others is refused, as ssh refuses one.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from skyfence.errors import UsageError
from skyfence.evidence.hashing import sha256_hex

__all__ = [
    "SigningKey", "default_key_dir", "init_keys", "key_id", "list_public_keys",
    "load_public_key", "load_signing_key", "public_key_pem", "raw_public_key", "verify_signature",
]

PUBLIC_SUFFIX = ".pub"
PRIVATE_SUFFIX = ".key"


def default_key_dir() -> Path:
    """``$SKYFENCE_KEY_DIR`` or ``~/.config/skyfence/keys``."""
    env = os.environ.get("SKYFENCE_KEY_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "skyfence" / "keys"


def raw_public_key(public: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """SHA-256 hex of the raw public key bytes: the key's name in signatures."""
    return sha256_hex(raw_public_key(public))


def public_key_pem(public: Ed25519PublicKey) -> bytes:
    """The public key as PEM SubjectPublicKeyInfo (what ``openssl pkey -pubin`` reads)."""
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key and the id of its public half."""

    private: Ed25519PrivateKey
    path: Path | None = None

    @property
    def public(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        """SHA-256 hex of the raw public key."""
        return key_id(self.public)

    def sign(self, data: bytes) -> bytes:
        """An Ed25519 signature (64 bytes) over ``data``."""
        return self.private.sign(data)


def verify_signature(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is ``public``'s Ed25519 signature over ``data``."""
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask said
        os.write(fd, data)
    finally:
        os.close(fd)


def init_keys(directory: str | Path | None = None) -> SigningKey:
    """Create a new key pair in ``directory`` (created 0700 if missing); returns it."""
    d = Path(directory) if directory is not None else default_key_dir()
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"--dir {d}: cannot create the key directory ({exc.strerror})") from None
    private = Ed25519PrivateKey.generate()
    key = SigningKey(private)
    kid = key.key_id
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        _write_private(d / f"{kid}{PRIVATE_SUFFIX}", pem)
        (d / f"{kid}{PUBLIC_SUFFIX}").write_bytes(public_key_pem(key.public))
    except OSError as exc:
        raise UsageError(f"--dir {d}: cannot write the key files ({exc.strerror})") from None
    return SigningKey(private, d / f"{kid}{PRIVATE_SUFFIX}")


def _read_private(path: Path) -> SigningKey:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"{path}: private key is accessible by others "
                         f"(mode {stat.S_IMODE(mode):04o}): run chmod 600 {path}")
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{path}: not a PEM private key ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise UsageError(f"{path}: not an Ed25519 private key")
    key = SigningKey(private, path)
    if path.stem != key.key_id:
        raise UsageError(f"{path}: file name does not match the key id {key.key_id}")
    return key


def load_signing_key(where: str | Path | None = None) -> SigningKey:
    """The one private key in a key directory (or a ``.key`` file given directly)."""
    p = Path(where) if where is not None else default_key_dir()
    if p.is_file():
        return _read_private(p)
    found = sorted(p.glob(f"*{PRIVATE_SUFFIX}")) if p.is_dir() else []
    if not found:
        raise UsageError(f"no signing key in {p}: create one with `skyfence keys init "
                         f"--dir {p}`")
    if len(found) > 1:
        names = ", ".join(f.name for f in found)
        raise UsageError(f"{p} holds {len(found)} private keys ({names}): "
                         "give the one to sign with as --key-dir FILE.key")
    return _read_private(found[0])


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (``<keyid>.pub``)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"--key {p}: cannot read ({exc.strerror})") from None
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise UsageError(f"--key {p}: not a PEM public key") from None
    if not isinstance(public, Ed25519PublicKey):
        raise UsageError(f"--key {p}: not an Ed25519 public key")
    return public


def list_public_keys(directory: str | Path | None = None) -> list[tuple[str, Path, bool]]:
    """``(key id, public key file, private key present)`` for every key in a directory."""
    d = Path(directory) if directory is not None else default_key_dir()
    out = []
    for pub in sorted(d.glob(f"*{PUBLIC_SUFFIX}")) if d.is_dir() else []:
        kid = key_id(load_public_key(pub))
        out.append((kid, pub, (d / f"{pub.stem}{PRIVATE_SUFFIX}").exists()))
    return out
