"""Test support shared by every test that talks TCP on loopback: a free port, waiting for a
server to listen, a real dump1090 receiver that can be killed and started again, a
running ``skyfence serve``, and how the browser tests start Debian's chromium.

One copy here, imported by the source, fault, service, incident and web tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

DUMP1090 = "dump1090-mutability"

#: Debian's chromium (installed by scripts/install-system-deps.sh), headless, WebGL by
#: software (SwiftShader), nothing fetched from the network
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--use-gl=angle", "--use-angle=swiftshader"]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout_s: float = 10.0) -> None:
    """Return once something accepts connections on ``port``; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def _tcp_rows() -> Iterator[tuple[str, str, str, int, int]]:
    """(local, remote, state, send queue, receive queue) of every TCP socket in the
    kernel's tables (addresses as hex ``ADDR:PORT``, queues in bytes)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                _, local, remote, state, queues = row.split()[:5]
                tx, rx = queues.split(":")
                yield local, remote, state, int(tx, 16), int(rx, 16)


def wait_client(port: int, timeout_s: float = 60.0) -> None:
    """Return once a client is connected to the server on loopback ``port`` (an
    established socket whose local port it is, in the kernel's tables /proc/net/tcp and
    tcp6), without connecting to it; TimeoutError otherwise."""
    tail = f":{port:04X}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # state 01: ESTABLISHED
        if any(local.endswith(tail) and state == "01" for local, _, state, *_ in _tcp_rows()):
            return
        time.sleep(0.05)
    raise TimeoutError(f"no client connected to {port} in {timeout_s:g} s")


def wait_accepted(port: int, timeout_s: float = 60.0) -> None:
    """Return once the server listening on loopback ``port`` has accepted every
    connection made to it (its listening socket's accept queue, the receive-queue column
    of a LISTEN row in /proc/net/tcp, is empty) and at least one is established: the
    server knows its clients. TimeoutError otherwise."""
    tail = f":{port:04X}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = [r for r in _tcp_rows() if r[0].endswith(tail)]
        # state 0A: LISTEN (its receive queue: connections not yet accepted); 01: ESTABLISHED
        if (any(state == "01" for _, _, state, *_ in rows)
                and all(rx == 0 for _, _, state, _, rx in rows if state == "0A")):
            return
        time.sleep(0.02)
    raise TimeoutError(f"the server on {port} did not accept its clients in {timeout_s:g} s")


def wait_drained(port: int, timeout_s: float = 60.0) -> None:
    """Return once everything the server on loopback ``port`` sent has been read by its
    client: both ends of the connection established, the server's send queue and the
    client's receive queue empty. TimeoutError otherwise (also when no client is
    connected)."""
    tail = f":{port:04X}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = [r for r in _tcp_rows() if r[2] == "01"
                and (r[0].endswith(tail) or r[1].endswith(tail))]
        if len(rows) >= 2 and all(tx == 0 and rx == 0 for *_, tx, rx in rows):
            return
        time.sleep(0.05)
    raise TimeoutError(f"what the server on {port} sent was not all read in {timeout_s:g} s")


class Dump1090:
    """A real dump1090-mutability in ``--net-only`` mode on free loopback ports.

    The ports are chosen at construction, so a ``kill()`` then ``start()`` comes back where
    it was (what a receiver restart looks like to a client). Its clock is set to UTC so
    SBS times are unix UTC. ``scripts/install-system-deps.sh`` installs the binary.
    """

    def __init__(self) -> None:
        binary = shutil.which(DUMP1090)
        if binary is None:
            raise RuntimeError(f"{DUMP1090} is not installed: run scripts/install-system-deps.sh")
        self.binary = binary
        self.raw_in, self.raw_out, self.sbs_out = free_port(), free_port(), free_port()
        self.beast_in, self.beast_out = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Dump1090:
        """Start it and wait until every port listens."""
        cmd = [
            self.binary, "--net-only", "--quiet",
            "--net-bind-address", "127.0.0.1",
            "--net-ri-port", str(self.raw_in),
            "--net-ro-port", str(self.raw_out),
            "--net-sbs-port", str(self.sbs_out),
            "--net-bi-port", str(self.beast_in),
            "--net-bo-port", str(self.beast_out),
            "--net-http-port", "0",
            "--net-heartbeat", "0",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            cmd, env={**os.environ, "TZ": "UTC"}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        for port in (self.raw_in, self.raw_out, self.sbs_out, self.beast_in, self.beast_out):
            wait_listening(port)
        return self

    def kill(self) -> None:
        """SIGKILL: the receiver dies without closing anything itself."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def stop(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM, then SIGKILL if ``proc`` has not ended within ``grace_s``."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.contextmanager
def running_serve(config: Path, port: int, log_path: Path, env: dict[str, str],
                  start_s: float = 60.0) -> Iterator[str]:
    """``skyfence serve --config CONFIG`` in a child process, its output in ``log_path``;
    yields its address once ``/health`` answers (fails with the log if it stops or takes
    longer than ``start_s``); terminated at the end (killed if it does not stop)."""
    import httpx

    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "skyfence.cli", "serve", "--config",
                                 str(config)], stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + start_s
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health",
                                 timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc, 20.0)
