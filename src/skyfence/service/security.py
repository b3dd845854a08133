"""Who is asking: the FastAPI dependencies that authenticate a request and check its role.

A request is authenticated by ``Authorization: Bearer <API token>`` (machines) or by
the session cookie (browsers; the event stream too, since a browser's EventSource
cannot set headers). No credentials: 401 with ``WWW-Authenticate: Bearer``; a valid
identity whose role is too low: 403. A session past half its life gets a fresh cookie
on the response, so a browser in use stays logged in and an idle one is logged out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request, Response

from skyfence.service.auth import Identity, Role, allows, token_identity, user_role

__all__ = ["COOKIE", "current_identity", "requires", "set_session_cookie"]

COOKIE = "skyfence_session"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def set_session_cookie(response: Response, state: Any, token: str) -> None:
    """Put the session JWT in its cookie (HttpOnly, Secure, SameSite=Strict)."""
    response.set_cookie(COOKIE, token, max_age=int(state.keys.ttl_s), httponly=True,
                        secure=state.config.auth.cookie_secure, samesite="strict", path="/")


def current_identity(request: Request, response: Response) -> Identity:
    """The identity of the request, or 401."""
    state = request.app.state.skyfence
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("expected 'Authorization: Bearer <token>'")
        who = token_identity(state.store, value.strip())
        if who is None:
            raise _unauthorized("unknown or revoked token")
        return who
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise _unauthorized("not logged in")
    read = state.keys.read(cookie)
    if read is None:
        raise _unauthorized("session expired; log in again")
    name, issued_at, _ = read
    role = user_role(state.store, name)
    if role is None:
        raise _unauthorized("this user no longer exists")
    who = Identity(name, role, "user")
    if time.time() - issued_at > state.keys.ttl_s / 2:
        set_session_cookie(response, state, state.keys.issue(who))
    return who


def requires(role: Role) -> Callable[..., Identity]:
    """A dependency: the identity, when its role allows ``role`` (else 401 or 403)."""

    def check(request: Request, response: Response) -> Identity:
        who = current_identity(request, response)
        if not allows(who.role, role):
            raise HTTPException(403, f"needs the {role} role (you are {who.role})")
        return who

    check.__name__ = f"requires_{role}"
    return check
