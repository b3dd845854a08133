"""The event-stream clients of ``skyfence bench serve``: many SSE connections in one
process, each timing every message it receives against the ``sent_at`` stamped on it.

Run as ``python -m skyfence.benchmarks.serve_clients PORT TOKEN N SECONDS``; prints one
JSON object: latencies (ms) by event type, messages and bytes received, connections
that failed or were dropped, and this process's CPU time. The parser reads whole chunks
and only looks for the ``event:`` line and the leading ``"sent_at":`` of each message,
so that 200 clients in one Python process keep up with what the server sends.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

__all__ = ["run_clients"]

SENT_AT = b'"sent_at":'


class _Client:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.bytes = 0
        self.messages = 0
        self.ended = False
        self.error: str | None = None

    def feed(self, block: bytes, now: float) -> None:
        kind = "message"
        for line in block.split(b"\n"):
            if line.startswith(b"event: "):
                kind = line[7:].decode()
            elif line.startswith(b"data: ") and SENT_AT in line:
                i = line.index(SENT_AT) + len(SENT_AT)
                j = line.index(b",", i)
                self.samples.setdefault(kind, []).append((now - float(line[i:j])) * 1000.0)
                self.messages += 1


async def _one(port: int, token: str, until: float, client: _Client) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**22)
    except OSError as exc:
        client.error = str(exc)
        return
    writer.write((f"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n")
                 .encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        client.error = head.split(b"\r\n", 1)[0].decode()
        writer.close()
        return
    buf = b""
    try:
        while True:
            left = until - time.time()
            if left <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(1 << 20), left)
            except TimeoutError:
                break
            if not chunk:
                client.ended = True
                break
            now = time.time()
            client.bytes += len(chunk)
            buf += chunk
            # chunked transfer: the chunk-size lines never start with "event:" or "data:"
            *blocks, buf = buf.split(b"\n\n")
            for b in blocks:
                client.feed(b, now)
    finally:
        writer.close()


async def _all(port: int, token: str, n: int, seconds: float) -> list[_Client]:
    until = time.time() + seconds
    clients = [_Client() for _ in range(n)]
    await asyncio.gather(*(_one(port, token, until, c) for c in clients))
    return clients


def run_clients(port: int, token: str, n: int, seconds: float) -> dict[str, Any]:
    """Connect ``n`` clients for ``seconds``; what they measured."""
    cpu0 = time.process_time()
    clients = asyncio.run(_all(port, token, n, seconds))
    samples: dict[str, list[float]] = {}
    for c in clients:
        for k, v in c.samples.items():
            samples.setdefault(k, []).extend(v)
    return {
        "samples_ms": {k: [round(x, 2) for x in v] for k, v in samples.items()},
        "messages": sum(c.messages for c in clients),
        "bytes": sum(c.bytes for c in clients),
        "failed": [c.error for c in clients if c.error],
        "ended_early": sum(c.ended for c in clients),
        "cpu_s": time.process_time() - cpu0,
        "pid": os.getpid(),
    }


if __name__ == "__main__":
    port_, token_, n_, seconds_ = sys.argv[1:5]
    print(json.dumps(run_clients(int(port_), token_, int(n_), float(seconds_))))
