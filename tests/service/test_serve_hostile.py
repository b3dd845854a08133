"""Hostile requests to ``skyfence serve``'s HTTP API that schemathesis does not send.

A real uvicorn (in a thread of this process, over the state ``serve`` builds, replay
finished) on a loopback port, spoken to over real sockets where the wire matters:
oversized bodies (with ``Content-Length``, and chunked without), bodies that are not
JSON or not sent as JSON, path traversal in every path parameter, absurd query values,
writes without a token or with a wrong one, header injection, and many event-stream
clients that connect and never read. Every answer is a 4xx whose body is one line of
JSON (``{"detail": ...}``), never a 500, and nothing at ERROR level (no traceback) is
logged; the stuck event-stream clients are dropped once their queue is full
(``hub.CLIENT_QUEUE``), so the server holds a bounded amount for each.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopback import free_port
from service.conftest import serve_state

pytestmark = [pytest.mark.timeout(180)]


@dataclass
class Live:
    """A running server: its address, state, an operator token, the incident."""

    base: str
    port: int
    state: Any
    op: dict[str, str]
    admin: dict[str, str]
    incident: str
    records: list[logging.LogRecord] = field(default_factory=list)

    def raw(self, request: bytes, timeout_s: float = 10.0) -> bytes:
        """Send ``request`` as is on a new connection; everything the server answers
        until it closes (or ``timeout_s``)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout_s) as s:
            s.sendall(request)
            out = b""
            try:
                while chunk := s.recv(65536):
                    out += chunk
            except TimeoutError:
                pass
        return out


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    import uvicorn

    from skyfence.service import auth
    from skyfence.service.app import create_app

    state = serve_state(tmp_path_factory.mktemp("hostile"))
    op = auth.create_token(state.store, "t-op", "operator", "test")
    admin = auth.create_token(state.store, "t-admin", "admin", "test")
    records: list[logging.LogRecord] = []
    handler = _Keep(records)
    logging.getLogger().addHandler(handler)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port,
                                           log_config=None, access_log=False,
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        assert state.thread is not None
        state.thread.join(60)
        base = f"http://127.0.0.1:{port}"
        h = {"Authorization": f"Bearer {op}"}
        (inc,) = httpx.get(f"{base}/api/incidents", headers=h, params={"all": "true"}
                           ).json()["incidents"]
        yield Live(base, port, state, h, {"Authorization": f"Bearer {admin}"}, inc["id"],
                   records)
    finally:
        server.should_exit = True
        thread.join(30)
        logging.getLogger().removeHandler(handler)


@pytest.fixture(autouse=True)
def _no_error_logged(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test: nothing at ERROR or above, no traceback, in the server's log."""
    if "live" not in request.fixturenames:
        yield
        return
    live: Live = request.getfixturevalue("live")
    before = len(live.records)
    yield
    bad = [r for r in live.records[before:] if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [(r.name, r.getMessage()) for r in bad]


def one_line_error(r: httpx.Response, *codes: int) -> Any:
    """``r`` is one of ``codes`` (4xx), with a one-line JSON body that has ``detail``;
    the detail."""
    assert r.status_code in codes, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    assert "\n" not in r.text and len(r.text) < 2000, r.text[:300]
    return r.json()["detail"]


def audit_of(live: Live) -> list[Any]:
    return httpx.get(f"{live.base}/api/incidents/{live.incident}", headers=live.op,
                     timeout=10).json()["audit"]


# ------------------------------------------------------------------- bodies
def test_an_oversized_body_is_refused_without_being_read(live: Live) -> None:
    from skyfence.service.limits import MAX_BODY_BYTES

    # Content-Length says 100 GB and only one byte follows: an answer at once shows the
    # server did not wait for (read) the body
    t0 = time.monotonic()
    got = live.raw(f"POST /api/incidents/{live.incident}/notes HTTP/1.1\r\n"
                   f"Host: x\r\nAuthorization: {live.op['Authorization']}\r\n"
                   "Content-Type: application/json\r\nContent-Length: 100000000000\r\n"
                   "\r\n{".encode(), timeout_s=20)
    assert time.monotonic() - t0 < 10
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), got[:200]
    assert json.loads(body) == {"detail": f"request body too large: at most "
                                          f"{MAX_BODY_BYTES} bytes"}
    # a 5 MB note, sent whole
    r = httpx.post(f"{live.base}/api/incidents/{live.incident}/notes", headers=live.op,
                   content=b'{"text": "' + b"a" * 5_000_000 + b'"}', timeout=30)
    assert "too large" in one_line_error(r, 413)
    # chunked, no Content-Length: refused once the count passes the limit
    chunk = b"a" * 8192

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(40):  # 320 KiB
            yield chunk

    r = httpx.post(f"{live.base}/api/incidents/{live.incident}/login", content=chunks(),
                   headers={**live.op, "Content-Type": "application/json"}, timeout=30)
    assert r.status_code in (404, 405, 413)  # no such route: refused either way
    r = httpx.post(f"{live.base}/api/incidents/{live.incident}/notes", content=chunks(),
                   headers={**live.op, "Content-Type": "application/json"}, timeout=30)
    assert "too large" in one_line_error(r, 413)
    r = httpx.post(f"{live.base}/api/auth/login", content=chunks(),
                   headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert "too large" in one_line_error(r, 413)
    # the largest real body (a 4,000-character note, each character \\u-escaped: 24 KB)
    # is taken
    text = "é" * 4000
    body = json.dumps({"text": text}, ensure_ascii=True).encode()
    assert len(body) == 6 * 4000 + 12
    r = httpx.post(f"{live.base}/api/incidents/{live.incident}/notes", headers={
        **live.op, "Content-Type": "application/json"}, content=body, timeout=30)
    assert r.status_code == 200, r.text
    assert audit_of(live)[-1]["note"] == text


@pytest.mark.parametrize(("content_type", "body", "says"), [
    ("application/json", b'{"text":', "JSON decode error"),
    ("application/json", b'{"text": NaN}', "valid string"),  # was a 500 (NaN echoed)
    ("application/json", b'{"text": Infinity}', "valid string"),
    ("application/json", b"[" * 30000 + b"]" * 30000, "not valid JSON"),
    ("application/json", b'{"text": "\xff\xfe"}', "not valid JSON"),
    ("application/json", b'{"text": "a\\u0000b"}', "NUL"),  # PostgreSQL cannot store it
    ("application/json", b'{"text": "a\\ud800b"}', "unicode"),  # was a 500 (SQLite)
    ("application/json", b'{"text": "x", "by": "root"}', "Extra inputs"),
    ("application/json", b'"just a string"', "valid dictionary"),
    ("application/json", b"", "Field required"),
    ("text/plain", b'{"text": "x"}', "must be a JSON object sent as application/json"),
    ("application/x-www-form-urlencoded", b"text=x", "not application/x-www-form"),
    ("application/xml", b"<text>x</text>", "not application/xml"),
    ("multipart/form-data; boundary=zz", b"--zz\r\nbroken", "JSON object"),
    ("", b'{"text": "x"}', "without a Content-Type"),
])
def test_a_body_that_is_not_a_json_note_is_a_clear_422(
        live: Live, content_type: str, body: bytes, says: str) -> None:
    before = len(audit_of(live))
    headers = {**live.op, "Content-Type": content_type} if content_type else live.op
    req = httpx.Request("POST", f"{live.base}/api/incidents/{live.incident}/notes",
                        headers=headers, content=body)
    with httpx.Client(timeout=30) as c:
        detail = one_line_error(c.send(req), 422)
    assert says in json.dumps(detail), detail
    assert all(set(e) == {"loc", "msg", "type"} for e in detail)  # the input not echoed
    assert len(audit_of(live)) == before


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(body=st.one_of(st.binary(max_size=300),
                      st.recursive(st.none() | st.booleans() | st.floats() | st.text(),
                                   lambda c: st.lists(c, max_size=4)
                                   | st.dictionaries(st.text(max_size=8), c, max_size=4),
                                   max_leaves=12).map(lambda v: json.dumps(v).encode())),
       content_type=st.sampled_from(["application/json", "text/plain", "", "*/*",
                                     "application/json; charset=latin-1"]),
       route=st.sampled_from(["notes", "ack", "close", "steps/1"]))
def test_any_body_to_a_write_route_is_an_answer_never_a_500(
        live: Live, body: bytes, content_type: str, route: str) -> None:
    # floats(): NaN and infinities too (json.dumps writes NaN, Infinity)
    r = httpx.post(f"{live.base}/api/incidents/{live.incident}/{route}", content=body,
                   headers={**live.op, "Content-Type": content_type}, timeout=30)
    assert r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "\n" not in r.text
    if r.status_code >= 400:
        assert "detail" in r.json()
    else:  # taken: a note with text, a change with no body or a note
        assert r.json()["ok"] is True


# ------------------------------------------------------------ paths, queries
@pytest.mark.parametrize("path", [
    "/api/dossiers/..%2F..%2F..%2Fetc%2Fpasswd",
    "/api/dossiers/%2Fetc%2Fpasswd",
    "/api/dossiers/..%5C..%5Cetc%5Cpasswd",
    "/api/dossiers/a%00b",
    "/api/dossiers/C:%5Cwindows",
    "/api/dossiers/" + "a/" * 3000,  # was a 500: the path too long for the file system
    "/api/dossiers/" + "a" * 5000,  # was a 500: a name too long
    "/api/dossiers/%0d%0aSet-Cookie:%20x=1",
    "/api/incidents/..%2F..%2Fetc%2Fpasswd",
    "/api/incidents/%2e%2e",
    "/api/incidents/%ff%fe/track",
    "/api/incidents/0123456789abcdef0123456789abcdef0/notes",
    "/api/incidents/{id}/steps/..%2F1",
    "/api/incidents/{id}/steps/99999999999999999999",
    "/api/incidents/{id}/steps/-1",
    "/api/incidents/{id}/steps/NaN",
    "/api/incidents/{id}/steps/1e3",
    "/api/users/%00",
    "/api/users/..%2F..%2Fadmin",
    "/api/tokens/%00",
    "/api/tokens/" + "t" * 65,
])
def test_a_hostile_path_parameter_is_a_clear_4xx(live: Live, path: str) -> None:
    path = path.replace("{id}", live.incident)
    method = ("POST" if "/steps/" in path or path.endswith("/notes")
              else "DELETE" if path.startswith(("/api/users", "/api/tokens")) else "GET")
    r = httpx.request(method, live.base + path, headers=live.admin, timeout=30,
                      json={"text": "x"} if path.endswith("/notes") else None)
    one_line_error(r, 400, 404, 405, 409, 422)
    assert "root:" not in r.text and "set-cookie" not in {k.lower() for k in r.headers}


@pytest.mark.parametrize("query", [
    "limit=-1", "limit=0", "limit=NaN", "limit=inf", "limit=-inf", "limit=1e400",
    "limit=" + "9" * 400, "limit=0x10", "limit=1.5", "limit=", "all=maybe",
    "state=bogus", "state=open&state=%00", "severity=critical%00", "zone=" + "z" * 300,
    "zone=%00", "track=%00", "track=" + "t" * 65,
])
def test_an_absurd_query_value_is_a_clear_422(live: Live, query: str) -> None:
    detail = one_line_error(httpx.get(f"{live.base}/api/incidents?{query}",
                                      headers=live.op, timeout=30), 422)
    assert detail[0]["loc"][0] == "query"


@pytest.mark.parametrize("query", ["limit=NaN", "limit=-5", "limit=10001", "limit=" + "9" * 50])
def test_an_absurd_audit_limit_is_a_clear_422(live: Live, query: str) -> None:
    one_line_error(httpx.get(f"{live.base}/api/audit?{query}", headers=live.admin,
                             timeout=30), 422)


# ------------------------------------------------------------------ identity
@pytest.mark.parametrize(("headers", "code"), [
    ({}, 401),
    ({"Authorization": "Bearer not-a-token"}, 401),
    ({"Authorization": "Bearer"}, 401),
    ({"Authorization": "Basic b2xnYTpvcGVyYXRvci1wYXNzLTE="}, 401),
    ({"Authorization": "Bearer " + "x" * 8000}, 401),
    ({"Cookie": "skyfence_session=" + "x" * 3000}, 401),
    ({"Cookie": "skyfence_session=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ."}, 401),  # alg none
    ("viewer", 403),
])
def test_a_write_without_the_right_token_changes_nothing(
        live: Live, headers: dict[str, str] | str, code: int) -> None:
    from skyfence.service import auth

    if headers == "viewer":
        headers = {"Authorization": "Bearer " + auth.create_token(
            live.state.store, f"t-viewer-{time.monotonic_ns()}", "viewer", "test")}
    assert isinstance(headers, dict)
    before = audit_of(live)
    for route, body in (("ack", None), ("close", None), ("notes", {"text": "forged"}),
                        ("steps/1", None)):
        r = httpx.post(f"{live.base}/api/incidents/{live.incident}/{route}", json=body,
                       headers=headers, timeout=30)
        one_line_error(r, code)
    r = httpx.post(f"{live.base}/api/tokens", json={"name": "mine", "role": "admin"},
                   headers=headers, timeout=30)
    one_line_error(r, code)
    assert audit_of(live) == before


# ----------------------------------------------------------- header injection
def test_header_injection_is_refused_or_inert(live: Live) -> None:
    # a bare CR inside a request header value: the HTTP parser refuses the request
    # (400) before the application sees it; a bare LF ends the header line (the rest is
    # one more request header, which nothing answers with)
    for value, status in ((b"a\rSet-Cookie: x=1", b"400"), (b"a\nSet-Cookie: x=1", b"200")):
        got = live.raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: " + value
                       + b"\r\nConnection: close\r\n\r\n")
        assert got.startswith(b"HTTP/1.1 " + status + b" "), got[:200]
        assert b"set-cookie" not in got.lower()
    # CR LF in stored text (a note) and in a query string never reach a response header
    r = httpx.post(f"{live.base}/api/incidents/{live.incident}/notes", headers=live.op,
                   json={"text": "ok\r\nSet-Cookie: skyfence_session=forged"}, timeout=30)
    assert r.status_code == 200 and "set-cookie" not in {k.lower() for k in r.headers}
    r = httpx.get(f"{live.base}/api/incidents/{live.incident}", headers=live.op, timeout=30)
    assert "set-cookie" not in {k.lower() for k in r.headers}
    assert r.json()["audit"][-1]["note"] == "ok\r\nSet-Cookie: skyfence_session=forged"
    r = httpx.get(f"{live.base}/api/incidents?zone=a%0d%0aSet-Cookie:%20x=1",
                  headers=live.op, timeout=30)
    assert r.status_code == 200 and "set-cookie" not in {k.lower() for k in r.headers}
    r = httpx.post(f"{live.base}/api/auth/login", timeout=30, data={
        "username": "ada\r\nSet-Cookie: x=1", "password": "x"})
    one_line_error(r, 401)
    assert "set-cookie" not in {k.lower() for k in r.headers}


# ------------------------------------------------------------- event stream
def test_event_stream_clients_that_never_read_are_dropped_and_hold_nothing(
        live: Live) -> None:
    """40 clients open the stream with a 4 KiB receive buffer and never read; one
    client reads. 1,000 messages of 64 KiB are published (62.5 MiB to each client): more
    than the kernel's buffers and the client queue (256 messages, 16 MiB) hold. (400
    messages, 25 MiB, were not enough on every machine: on one, no stuck client had been
    dropped after them; the loopback's send buffers grow with the kernel's settings.)
    Each stuck client is dropped (one warning each), the hub no longer holds anything
    for them, the reader gets every message, and the server still answers."""
    from skyfence.service.hub import CLIENT_QUEUE

    hub = live.state.hub
    stuck_n, messages, pad = 40, 1000, "x" * 65536
    assert messages > CLIENT_QUEUE
    dropped0 = hub.dropped
    req = (f"GET /api/stream HTTP/1.1\r\nHost: x\r\nAuthorization: "
           f"{live.op['Authorization']}\r\n\r\n").encode()
    stuck = []
    for _ in range(stuck_n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", live.port))
        s.sendall(req)
        stuck.append(s)
    got: list[int] = []
    opened = threading.Event()

    def read() -> None:
        with httpx.stream("GET", f"{live.base}/api/stream", headers=live.op,
                          timeout=60) as r:
            kind = ""
            for line in r.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                    opened.set()
                elif line.startswith("data: ") and kind == "incident":
                    doc = json.loads(line[6:])
                    if doc.get("flood") is not None:
                        got.append(doc["flood"])
                        if doc["flood"] == messages - 1:
                            return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert opened.wait(30)
        deadline = time.monotonic() + 30
        while len(hub.clients) < stuck_n + 1:
            assert time.monotonic() < deadline, len(hub.clients)
            time.sleep(0.05)
        for i in range(messages):
            # the reader keeps up (on a loaded machine it is paced to, so that it is
            # never more than a quarter of its queue behind); the stuck ones cannot
            deadline = time.monotonic() + 30
            while i - len(got) > CLIENT_QUEUE // 4 and reader.is_alive():
                assert time.monotonic() < deadline, (i, len(got))
                time.sleep(0.002)
            hub.publish_threadsafe("incident", {"flood": i, "pad": pad})
            time.sleep(0.002)
        reader.join(60)
        assert not reader.is_alive()
        assert got == list(range(messages))  # the reading client lost nothing
        deadline = time.monotonic() + 10
        while hub.dropped - dropped0 < stuck_n:
            assert time.monotonic() < deadline, (hub.dropped - dropped0, len(hub.clients))
            time.sleep(0.05)
        assert hub.dropped - dropped0 == stuck_n
        # nothing waits for a dropped client (its queue was emptied)
        assert all(c.queue.qsize() <= CLIENT_QUEUE for c in hub.clients)
        assert len(hub.clients) <= 1
        warned = [r for r in live.records if "event stream of token:t-op dropped" in
                  r.getMessage()]
        assert len(warned) >= stuck_n
        assert httpx.get(f"{live.base}/health", timeout=10).status_code == 200
    finally:
        for s in stuck:
            s.close()
