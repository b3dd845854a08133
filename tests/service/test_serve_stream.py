"""The event stream's wire format and batching (``skyfence.service.hub`` and the
``/api/stream`` generator of ``skyfence.service.app``).

The frames are read back with a parser written here from the WHATWG HTML standard's
"event stream interpretation" (9.2.6): a blank line ends an event; a line ``name: value``
sets a field (one space after the colon is dropped); a line starting with ``:`` is a
comment; ``data`` lines are joined with newlines. Nothing of skyfence's is used to read
them back.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from skyfence.service import app as service_app
from skyfence.service.app import _frames
from skyfence.service.hub import Hub


def parse_events(stream: bytes) -> list[dict[str, str]]:
    """Events of an event stream, as field -> value (data lines joined by newline);
    comment-only blocks give no event."""
    events = []
    for block in stream.decode().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data" and "data" in fields:
                fields["data"] += "\n" + value
            else:
                fields[name] = value
        if fields:
            events.append(fields)
    return events


def test_a_message_frame_is_one_event_with_its_type_id_and_json() -> None:
    hub = Hub()
    # a callsign with a line feed and a carriage return: either, raw, would end the data
    # line early and cut the event in two
    doc = {"rows": [["150abc", "RS\nD\r01", 59.0]], "gone": ["461e2a"]}
    msg = hub.message("tracks", doc)
    events = parse_events(msg.frame)
    assert len(events) == 1
    ev = events[0]
    assert ev["event"] == "tracks" and ev["id"] == str(msg.seq)
    got = json.loads(ev["data"])
    assert {k: v for k, v in got.items() if k != "sent_at"} == doc
    assert isinstance(got["sent_at"], float)
    # the clients of `skyfence bench serve` look for sent_at at the start of the data
    assert ev["data"].startswith('{"sent_at":')


def _drain(gen: Any, n: int) -> list[bytes]:
    """The first ``n`` chunks of an async generator (then it is closed)."""
    async def take() -> list[bytes]:
        out = [await gen.__anext__() for _ in range(n)]
        await gen.aclose()
        return out

    return asyncio.run(take())


def test_the_stream_starts_with_the_snapshot_then_writes_what_waits_in_one_chunk() -> None:
    async def run() -> tuple[list[bytes], Hub, Any]:
        hub = Hub()
        client = hub.connect("olga")
        state = SimpleNamespace(hub=hub)
        first = hub.message("snapshot", {"tracks": []})
        for k in range(3):  # queued before the stream is read: one write for all three
            hub.publish(hub.message("tracks", {"rows": [], "gone": [f"t{k}"]}))
        gen = _frames(state, client, first)  # type: ignore[arg-type]
        chunks = [await gen.__anext__(), await gen.__anext__()]
        hub.publish(hub.message("incident", {"id": "abc123"}))
        chunks.append(await gen.__anext__())
        hub.close()  # shutdown: the stream ends and the client is forgotten
        with pytest.raises(StopAsyncIteration):
            await gen.__anext__()
        return chunks, hub, client

    chunks, hub, client = asyncio.run(run())
    assert chunks[0].startswith(b"retry: 2000\n")
    assert [e["event"] for e in parse_events(chunks[0])] == ["snapshot"]
    second = parse_events(chunks[1])
    assert [json.loads(e["data"])["gone"] for e in second] == [["t0"], ["t1"], ["t2"]]
    assert [int(e["id"]) for e in second] == [2, 3, 4]  # in order, none lost
    assert [e["event"] for e in parse_events(chunks[2])] == ["incident"]
    assert client not in hub.clients


def test_a_quiet_stream_sends_a_comment_to_keep_the_connection(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_app, "KEEPALIVE_S", 0.05)

    async def run() -> list[bytes]:
        hub = Hub()
        client = hub.connect("olga")
        gen = _frames(SimpleNamespace(hub=hub), client,  # type: ignore[arg-type]
                      hub.message("snapshot", {"tracks": []}))
        out = [await gen.__anext__(), await gen.__anext__()]
        await gen.aclose()
        return out

    chunks = asyncio.run(run())
    assert chunks[1] == b": keep-alive\n\n"
    assert parse_events(chunks[1]) == []  # a comment: no event reaches the page


def test_a_slow_client_is_dropped_and_its_stream_ends() -> None:
    from skyfence.service.hub import CLIENT_QUEUE

    async def run() -> tuple[list[bytes], Hub]:
        hub = Hub()
        client = hub.connect("slow")
        for _ in range(CLIENT_QUEUE + 1):  # one more than it may have waiting
            hub.publish(hub.message("tracks", {"rows": [], "gone": []}))
        gen = _frames(SimpleNamespace(hub=hub), client,  # type: ignore[arg-type]
                      hub.message("snapshot", {"tracks": []}))
        chunks = [c async for c in gen]
        return chunks, hub

    chunks, hub = asyncio.run(run())
    # the snapshot, then nothing: its queue was emptied when it was dropped; the browser
    # reconnects and starts again from a fresh snapshot
    assert len(chunks) == 1 and hub.dropped == 1 and not hub.clients
