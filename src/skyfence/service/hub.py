"""Fan-out of live messages to the browsers' event streams (Server-Sent Events).

The pipeline runs in its own thread; the web server in an asyncio loop. The pipeline
hands each incident event to :meth:`Hub.publish_threadsafe` (after the store committed
it: the watcher's sinks run after the journal), which serialises it once and schedules
the fan-out on the loop. Every connected client has a bounded queue; a client too slow
to take its messages (queue full) is dropped, and its browser reconnects and starts
again from a fresh snapshot, so one slow client never holds back the others or grows
the server's memory.

Each message is encoded once, as the bytes of its event-stream frame, and the same
bytes go to every client; a client's stream writes everything that waits for it in one
go. With hundreds of clients the cost of a push is the socket writes, so fewer and
shared writes are what keeps the latency down (``skyfence bench serve``).

Each message carries ``sent_at`` (wall clock, unix s) so that a client can measure
the push latency (``skyfence bench serve`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Client", "Hub", "Message"]

log = logging.getLogger(__name__)

#: messages a client may have waiting before it is dropped
CLIENT_QUEUE = 256


@dataclass(frozen=True)
class Message:
    """One server-sent event: its type, JSON text and sequence number."""

    kind: str
    data: str
    seq: int

    @functools.cached_property
    def frame(self) -> bytes:
        """The event in the ``text/event-stream`` wire format (the JSON is one line);
        encoded on first use, the same bytes for every client after."""
        return f"id: {self.seq}\nevent: {self.kind}\ndata: {self.data}\n\n".encode()


class Client:
    """One connected event stream."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue(CLIENT_QUEUE)
        self.dropped = False

    async def get(self) -> Message | None:
        """The next message; None when the client was dropped (too slow) or the hub
        closed."""
        return await self.queue.get()

    def waiting(self) -> list[Message | None]:
        """Every message already queued (taken off the queue), without waiting."""
        out: list[Message | None] = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out


class Hub:
    """The set of connected clients and the messages sent to them."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.clients: set[Client] = set()
        self._seq = itertools.count(1)
        self.sent = 0
        self.dropped = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the clients live in (the web server's)."""
        self.loop = loop

    def connect(self, name: str) -> Client:
        """A new client (in the loop's thread)."""
        c = Client(name)
        self.clients.add(c)
        return c

    def disconnect(self, client: Client) -> None:
        """Forget ``client`` (its stream ended)."""
        self.clients.discard(client)

    def close(self) -> None:
        """End every stream (server shutdown)."""
        for c in list(self.clients):
            self._drop(c)

    def message(self, kind: str, doc: dict[str, Any]) -> Message:
        """A message of ``doc`` (``sent_at`` added first: a client finds it at once)."""
        body = json.dumps({"sent_at": round(time.time(), 4), **doc}, separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False, default=str)
        return Message(kind, body, next(self._seq))

    def publish(self, msg: Message) -> None:
        """Queue ``msg`` for every client (in the loop's thread)."""
        for c in list(self.clients):
            try:
                c.queue.put_nowait(msg)
                self.sent += 1
            except asyncio.QueueFull:
                log.warning("event stream of %s dropped: %d messages waiting", c.name,
                            CLIENT_QUEUE)
                self._drop(c)

    def publish_threadsafe(self, kind: str, doc: dict[str, Any]) -> None:
        """Queue a message from another thread (the pipeline's); no-op before
        :meth:`bind` or after the loop closed."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        msg = self.message(kind, doc)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
            loop.call_soon_threadsafe(self.publish, msg)

    def _drop(self, c: Client) -> None:
        self.clients.discard(c)
        if not c.dropped:
            c.dropped = True
            self.dropped += 1
            while not c.queue.empty():
                c.queue.get_nowait()
            c.queue.put_nowait(None)
