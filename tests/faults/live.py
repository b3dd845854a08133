"""Test support for the fault tests: a real dump1090 on fixed loopback ports that can be
killed and started again, a TCP proxy that can stall its connections, a paced feeder of
recorded Mode S frames, and ``skyfence watch`` as a child process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from loopback import free_port

SRC = str(Path(__file__).resolve().parents[2] / "src")


class StallProxy:
    """A TCP proxy from a loopback port to ``upstream``. Each client gets its own
    upstream connection; when the upstream closes, so does the client's. :meth:`stall`
    freezes every current connection (nothing is forwarded any more, nothing is closed:
    a network path that vanished), while new connections are served normally."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._generation = 0
        self._open: list[socket.socket] = []
        self.accepted = 0
        self.forwarded = bytearray()  # every byte passed on to a client, in order
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._generation += 1

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            self._open.append(client)
            threading.Thread(target=self._pipe, args=(client, self._generation),
                             daemon=True).start()

    def _pipe(self, client: socket.socket, generation: int) -> None:
        try:
            up = socket.create_connection(("127.0.0.1", self.upstream), timeout=2)
        except OSError:
            client.close()
            return
        self._open.append(up)
        up.settimeout(0.05)
        while True:
            if generation != self._generation:  # stalled: hold both ends open, silent
                return
            try:
                data = up.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data:
                client.close()
                up.close()
                return
            try:
                client.sendall(data)
            except OSError:
                up.close()
                return
            self.forwarded += data

    def close(self) -> None:
        self._listener.close()
        for s in self._open:
            s.close()


class Feeder:
    """Sends recorded raw frames (``*hex;``) to dump1090's raw input in real time,
    connecting again when dump1090 is gone (frames sent meanwhile are lost, as a radio's
    would be)."""

    def __init__(self, port: int, times: Sequence[float], frames: Sequence[str]) -> None:
        self.port = port
        self.times, self.frames = list(times), list(frames)
        self.sent: list[float] = []  # wall time of each frame accepted by a connection
        self.dropped = 0
        self._sock: socket.socket | None = None

    def _send(self, line: bytes) -> bool:
        for _ in range(2):
            try:
                if self._sock is None:
                    self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
                self._sock.sendall(line)
                return True
            except OSError:
                if self._sock is not None:
                    self._sock.close()
                self._sock = None
        return False

    def play(self, at: dict[float, Callable[[], None]]) -> None:
        """Every frame at its offset from the first; ``at``: actions run (in this thread,
        holding the feed up while they run) once the replay reaches each offset (s)."""
        todo = sorted(at.items())
        t0 = time.monotonic()
        for t, frame in zip(self.times, self.frames, strict=True):
            off = t - self.times[0]
            while todo and todo[0][0] <= off:
                todo.pop(0)[1]()
            delay = off - (time.monotonic() - t0)
            if delay > 0:
                time.sleep(delay)
            if self._send(f"*{frame};\n".encode()):
                self.sent.append(time.time())
            else:
                self.dropped += 1

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()


def watch(args: Sequence[str], out: Path, err: Path) -> subprocess.Popen[bytes]:
    """``skyfence watch ARGS`` with this checkout's sources; stdout and stderr to files."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "skyfence.cli", "watch", *args],
                            stdout=out.open("ab"), stderr=err.open("ab"), env=env)
