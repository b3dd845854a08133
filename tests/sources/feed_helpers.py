"""Helpers of the source tests: recorded data files, free ports, a loopback TCP server."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from loopback import free_port

DATA = Path(__file__).parent / "data"


def data_path(name: str) -> Path:
    """A file of tests/sources/data (see the header of each file for its origin)."""
    return DATA / name


def recorded_frames() -> tuple[list[float], list[str]]:
    """(times, hex frames) of the recorded flight excerpt ``flight_frames.csv``."""
    times, frames = [], []
    for line in data_path("flight_frames.csv").read_text().splitlines():
        if line.startswith("#"):
            continue
        when, frame = line.split(",")
        times.append(float(when))
        frames.append(frame)
    return times, frames




class LoopbackServer:
    """A one-client-at-a-time TCP server on loopback that sends scripted bytes.

    ``send(data)`` writes to the connected client; ``drop()`` closes the client
    connection; ``stop()`` closes the listening socket too (a server going down);
    ``start()`` listens again on the same port (the server coming back).
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._accepted = threading.Event()
        self.accepts = 0
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackServer:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(1)
        self._listener = listener
        self._accepted.clear()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        self._client = client
        self.accepts += 1
        self._accepted.set()

    def wait_client(self, timeout: float = 5.0) -> None:
        if not self._accepted.wait(timeout):
            raise TimeoutError("no client connected")

    def send(self, data: bytes) -> None:
        self.wait_client()
        assert self._client is not None
        self._client.sendall(data)

    def drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def stop(self) -> None:
        # the listener first: a client that saw its connection dropped and reconnected
        # at once would otherwise be queued by the kernel on the closing listener (its
        # connect succeeds), then reset: one connection more than the script says
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.drop()
