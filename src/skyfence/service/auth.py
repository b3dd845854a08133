"""Who may use the operators' screen: users, API tokens, sessions, login throttling.

- **Users** (``users`` table) have a role and an argon2id password hash (argon2-cffi's
  defaults, a PHC string: the salt and the cost travel with the hash). A login checks
  the password against the hash; for an unknown name it checks against a fixed dummy
  hash, so that the answer takes as long as for a known one.
- **Roles** are ordered: ``viewer`` reads, ``operator`` also acknowledges, closes,
  marks steps done and writes notes, ``admin`` also manages users and tokens.
- **API tokens** (``api_tokens``) are for machines: ``sft_`` and 43 random URL-safe
  characters (256 bits), shown once; the store keeps only their SHA-256 (a fast hash is
  enough for a secret that long, and lets a request find its token by index).
- **Sessions** of browsers are short-lived JWTs (HS256, PyJWT) in an HttpOnly, Secure,
  SameSite=Strict cookie; the signing key is random per server start unless a key file
  is configured (a restart then keeps sessions).
- **Logins are throttled** (:class:`LoginLimiter`): after ``attempts`` failures within
  ``window_s`` from one address or for one user name, further attempts are refused
  until the window has passed, right or wrong.
- Every account change and every login (good or bad) is in ``auth_events`` with who
  did it; incident changes are in the incidents' own audit (``events``).
- **No default password**: while no admin exists, :func:`setup_token` makes a one-time
  token that the server prints; whoever has it can create the first admin (once).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

import sqlalchemy as sa

from skyfence.errors import UsageError
from skyfence.incidents.schema import API_TOKENS, AUTH_EVENTS, USERS
from skyfence.incidents.store import IncidentStore

__all__ = [
    "ROLES", "Identity", "LoginLimiter", "Role", "SessionKeys", "add_user", "allows",
    "authenticate", "check_name", "create_token", "hash_password", "list_tokens",
    "list_users", "remove_user", "revoke_token", "set_password", "token_identity",
]

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
TOKEN_PREFIX = "sft_"
#: a user or token name: letters, digits and ._@- (no spaces: it goes into audit lines)
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD_CHARS = 10


@dataclass(frozen=True)
class Identity:
    """Who a request is: a user (by session) or a token, and the role."""

    name: str
    role: Role
    kind: Literal["user", "token"]

    @property
    def operator(self) -> str:
        """The name the audit records (``token:NAME`` for a machine)."""
        return self.name if self.kind == "user" else f"token:{self.name}"


class UserRow(TypedDict):
    """A user as listed (never the hash)."""

    name: str
    role: str
    created_at: float
    created_by: str


class TokenRow(TypedDict):
    """A token as listed (never the token)."""

    name: str
    role: str
    created_at: float
    created_by: str
    revoked_at: float | None
    last_used_at: float | None


def allows(role: str, needed: Role) -> bool:
    """True when ``role`` may do what ``needed`` may.

    >>> allows("admin", "operator"), allows("viewer", "operator"), allows("x", "viewer")
    (True, False, False)
    """
    if role not in ROLES:
        return False
    return ROLES.index(cast(Role, role)) >= ROLES.index(needed)


def check_name(name: str, what: str = "user name") -> str:
    """``name`` when it is a valid user or token name, else :class:`UsageError`."""
    if not NAME_RE.fullmatch(name):
        raise UsageError(f"{what} {name[:70]!r}: use 1-64 letters, digits or . _ @ -, "
                         "starting with a letter or digit")
    return name


def check_role(role: str) -> Role:
    """``role`` when it is one of :data:`ROLES`, else :class:`UsageError`."""
    if role not in ROLES:
        raise UsageError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    return cast(Role, role)


# ----------------------------------------------------------------- passwords
_HASHER: Any = None
_DUMMY_HASH: str | None = None
_HASHER_LOCK = threading.Lock()


def _hasher() -> Any:
    global _HASHER, _DUMMY_HASH
    with _HASHER_LOCK:
        if _HASHER is None:
            from argon2 import PasswordHasher

            _HASHER = PasswordHasher()
            _DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
    return _HASHER


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (refused when shorter than 10 characters)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise UsageError(f"the password is too short: at least {MIN_PASSWORD_CHARS} "
                         "characters")
    return str(_hasher().hash(password))


def _verify(hashed: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    h = _hasher()
    try:
        return bool(h.verify(hashed if hashed is not None else _DUMMY_HASH, password)) \
            and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


# --------------------------------------------------------------------- users
def _audit(conn: sa.Connection, actor: str, kind: str, subject: str,
           note: str | None = None) -> None:
    conn.execute(AUTH_EVENTS.insert().values(at=time.time(), actor=actor, kind=kind,
                                             subject=subject, note=note))


def audit(store: IncidentStore, actor: str, kind: str, subject: str,
          note: str | None = None) -> None:
    """Append one line to the audit of account changes and logins."""
    with store.transaction() as conn:
        _audit(conn, actor, kind, subject, note)


def add_user(store: IncidentStore, name: str, password: str, role: str, actor: str) -> None:
    """Create user ``name``; :class:`UsageError` when it exists."""
    check_name(name)
    role = check_role(role)
    hashed = hash_password(password)
    with store.transaction() as conn:
        if conn.execute(sa.select(USERS.c.name).where(USERS.c.name == name)).first():
            raise UsageError(f"user {name} exists (remove it first, or set its password)")
        conn.execute(USERS.insert().values(name=name, password_hash=hashed, role=role,
                                           created_at=time.time(), created_by=actor))
        _audit(conn, actor, "user_added", name, f"role {role}")


def set_password(store: IncidentStore, name: str, password: str, actor: str) -> None:
    """Give user ``name`` a new password."""
    hashed = hash_password(password)
    with store.transaction() as conn:
        res = conn.execute(USERS.update().where(USERS.c.name == name)
                           .values(password_hash=hashed))
        if res.rowcount != 1:
            raise UsageError(f"no user {name}")
        _audit(conn, actor, "password_set", name)


def remove_user(store: IncidentStore, name: str, actor: str) -> None:
    """Delete user ``name`` (the last admin stays: someone must be able to log in)."""
    if "\x00" in name:  # none has one (check_name); PostgreSQL cannot even compare it
        raise UsageError("no user with a NUL character in the name")
    with store.transaction() as conn:
        row = conn.execute(sa.select(USERS.c.role).where(USERS.c.name == name)).first()
        if row is None:
            raise UsageError(f"no user {name}")
        if row.role == "admin":
            admins = conn.execute(sa.select(sa.func.count()).select_from(USERS)
                                  .where(USERS.c.role == "admin")).scalar_one()
            if admins <= 1:
                raise UsageError(f"user {name} is the last admin; add another admin first")
        conn.execute(USERS.delete().where(USERS.c.name == name))
        _audit(conn, actor, "user_removed", name)


def list_users(store: IncidentStore) -> list[UserRow]:
    """Every user, by name."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(USERS.c.name, USERS.c.role, USERS.c.created_at,
                                      USERS.c.created_by).order_by(USERS.c.name)).all()
    return [{"name": r.name, "role": r.role, "created_at": r.created_at,
             "created_by": r.created_by} for r in rows]


def has_admin(store: IncidentStore) -> bool:
    """True when at least one admin exists."""
    with store.engine.connect() as conn:
        return conn.execute(sa.select(USERS.c.name).where(USERS.c.role == "admin")
                            .limit(1)).first() is not None


def authenticate(store: IncidentStore, name: str, password: str) -> Identity | None:
    """The user when ``password`` is theirs, else None (same work either way)."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(USERS.c.password_hash, USERS.c.role)
                           .where(USERS.c.name == name)).first()
    ok = _verify(None if row is None else row.password_hash, password)
    if not ok or row is None:
        return None
    return Identity(name, cast(Role, row.role), "user")


# -------------------------------------------------------------------- tokens
def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: IncidentStore, name: str, role: str, actor: str) -> str:
    """Create API token ``name``; the token itself (shown once, never stored)."""
    check_name(name, "token name")
    role = check_role(role)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.transaction() as conn:
        if conn.execute(sa.select(API_TOKENS.c.name).where(API_TOKENS.c.name == name)).first():
            raise UsageError(f"token {name} exists (revoke it, or choose another name)")
        conn.execute(API_TOKENS.insert().values(
            name=name, sha256=_token_digest(token), role=role, created_at=time.time(),
            created_by=actor, revoked_at=None, last_used_at=None))
        _audit(conn, actor, "token_created", name, f"role {role}")
    return token


def revoke_token(store: IncidentStore, name: str, actor: str) -> None:
    """Revoke API token ``name`` (it stays listed, revoked)."""
    if "\x00" in name:  # none has one (check_name); PostgreSQL cannot even compare it
        raise UsageError("no token with a NUL character in the name")
    with store.transaction() as conn:
        res = conn.execute(API_TOKENS.update()
                           .where(API_TOKENS.c.name == name, API_TOKENS.c.revoked_at.is_(None))
                           .values(revoked_at=time.time()))
        if res.rowcount != 1:
            known = conn.execute(sa.select(API_TOKENS.c.name)
                                 .where(API_TOKENS.c.name == name)).first()
            raise UsageError(f"token {name} is already revoked" if known else
                             f"no token {name}")
        _audit(conn, actor, "token_revoked", name)


def list_tokens(store: IncidentStore) -> list[TokenRow]:
    """Every token, by name (revoked ones too)."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(API_TOKENS).order_by(API_TOKENS.c.name)).all()
    return [{"name": r.name, "role": r.role, "created_at": r.created_at,
             "created_by": r.created_by, "revoked_at": r.revoked_at,
             "last_used_at": r.last_used_at} for r in rows]


def token_identity(store: IncidentStore, token: str) -> Identity | None:
    """The token's identity when it is known and not revoked, else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    digest = _token_digest(token)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(API_TOKENS.c.name, API_TOKENS.c.role,
                                     API_TOKENS.c.revoked_at, API_TOKENS.c.sha256)
                           .where(API_TOKENS.c.sha256 == digest)).first()
    if row is None or row.revoked_at is not None \
            or not hmac.compare_digest(row.sha256, digest):
        return None
    return Identity(row.name, cast(Role, row.role), "token")


# ------------------------------------------------------------------ sessions
class SessionKeys:
    """Signs and reads the session JWTs of browsers (HS256)."""

    ALGORITHM = "HS256"

    def __init__(self, key: bytes | None = None, ttl_s: float = 1800.0) -> None:
        self.key = key if key is not None else secrets.token_bytes(32)
        self.ttl_s = ttl_s

    def issue(self, who: Identity, now: float | None = None) -> str:
        """A session token for user ``who``, valid for ``ttl_s``."""
        import jwt

        now = time.time() if now is None else now
        claims = {"sub": who.name, "role": who.role, "iat": int(now),
                  "exp": int(now + self.ttl_s), "jti": secrets.token_hex(8)}
        return str(jwt.encode(claims, self.key, algorithm=self.ALGORITHM))

    def read(self, token: str) -> tuple[str, float, float] | None:
        """``(user, issued_at, expires_at)`` of a valid, unexpired token, else None."""
        import jwt

        try:
            claims = jwt.decode(token, self.key, algorithms=[self.ALGORITHM],
                                options={"require": ["sub", "exp", "iat"]})
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        if not isinstance(sub, str):
            return None
        return sub, float(claims["iat"]), float(claims["exp"])


def user_role(store: IncidentStore, name: str) -> Role | None:
    """The current role of user ``name`` (None: removed). Read on every request, so a
    removed user or a changed role takes effect at once, not when the JWT expires."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(USERS.c.role).where(USERS.c.name == name)).first()
    return None if row is None else cast(Role, row.role)


# ------------------------------------------------------------------ throttle
class LoginLimiter:
    """Refuses logins from an address, or for a name, after ``attempts`` failures within
    ``window_s`` (a sliding window), until the oldest failure leaves the window.

    >>> lim = LoginLimiter(attempts=2, window_s=60, clock=lambda: 0.0)
    >>> lim.retry_after_s("10.0.0.1", "ops")
    0.0
    >>> lim.failed("10.0.0.1", "ops"); lim.failed("10.0.0.2", "ops")
    >>> lim.retry_after_s("10.0.0.3", "ops")  # the name is locked, whatever the address
    60.0
    """

    def __init__(self, attempts: int = 5, window_s: float = 300.0,
                 clock: Any = time.monotonic) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self.clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, address: str, name: str) -> tuple[str, str]:
        return f"ip:{address}", f"user:{name.lower()[:64]}"

    def retry_after_s(self, address: str, name: str) -> float:
        """0 when a login may be tried now, else the seconds to wait."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for k in self._keys(address, name):
                q = self._fails.get(k)
                if q is None:
                    continue
                while q and q[0] <= now - self.window_s:
                    q.popleft()
                if not q:
                    del self._fails[k]
                elif len(q) >= self.attempts:
                    wait = max(wait, q[0] + self.window_s - now)
        return wait

    def failed(self, address: str, name: str) -> None:
        """Count a failed login."""
        now = self.clock()
        with self._lock:
            if len(self._fails) > 100_000:  # a flood of names: forget the oldest half
                for k in list(self._fails)[:50_000]:
                    del self._fails[k]
            for k in self._keys(address, name):
                self._fails.setdefault(k, deque(maxlen=self.attempts)).append(now)


def setup_token() -> str:
    """A one-time token for creating the first admin."""
    return secrets.token_urlsafe(24)
