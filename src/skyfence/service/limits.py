"""What the HTTP API refuses before a route sees it, and how it says so.

- :class:`BodyLimit`: a request body larger than :data:`MAX_BODY_BYTES` is refused with
  413 and a one-line JSON error, without being read: at once when ``Content-Length``
  says so, and as soon as the count passes the limit for a body sent in chunks. The
  largest body a route takes is a note (4,000 characters, at most 24,000 bytes of JSON
  even when every character is a ``\\uXXXX`` escape), so 64 KiB refuses nothing real.
- :func:`validation_errors`: a 422's errors without the input that failed. FastAPI
  echoes it by default, which sends a refused megabyte back, leaks what was typed into
  a password field, and fails outright (500) on a value JSON cannot carry (a ``NaN``
  the request's JSON held).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

__all__ = ["MAX_BODY_BYTES", "NO_NUL", "BodyLimit", "plain_text", "validation_errors"]

#: the largest request body taken (bytes)
MAX_BODY_BYTES = 65536
#: a pattern for query and path strings that go to the store: PostgreSQL text cannot
#: hold a NUL character (SQLite can), so it is refused everywhere alike
NO_NUL = r"^[^\x00]*$"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def plain_text(s: str) -> bool:
    """Whether ``s`` can be stored as text everywhere: no NUL character, no unpaired
    surrogate (JSON's ``"\\ud800"`` decodes to one, and UTF-8 cannot encode it).

    >>> plain_text("fighters scrambled"), plain_text("a\\x00b"), plain_text("\\ud800")
    (True, False, False)
    """
    if "\x00" in s:
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes`` (see the module)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]],
                 max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes and not refused:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    # the route stops reading: to it the client went away; what it
                    # answers to that is not sent (the 413 is)
                    return {"type": "http.disconnect"}
            return msg

        async def sending(msg: Message) -> None:
            nonlocal started
            if refused:
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        await self.app(scope, counted, sending)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body too large: at most {self.max_bytes} "
                                     "bytes"}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def validation_errors(request: Any, errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's validation errors as ``{loc, msg, type}`` (no ``input``, no ``ctx``);
    a body that is not a JSON object because it was sent as another media type says
    which one is expected."""
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    out = []
    for e in errors:
        loc = [x if isinstance(x, int | str) else str(x) for x in e.get("loc", ())]
        msg, kind = str(e.get("msg", "invalid")), str(e.get("type", "invalid"))
        if loc == ["body"] and kind in ("model_attributes_type", "dict_type") \
                and sent != "application/json":
            msg = (f"the body must be a JSON object sent as application/json (not "
                   f"{sent or 'without a Content-Type'})")
        out.append({"loc": loc, "msg": msg[:300], "type": kind})
    return out
