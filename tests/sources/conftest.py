"""Fixtures for the source tests: recorded data, loopback TCP servers, a real dump1090."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from feed_helpers import LoopbackServer, free_port

DUMP1090 = "dump1090-mutability"


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


@dataclass
class Dump1090:
    """A running dump1090 and its loopback ports."""

    process: subprocess.Popen[bytes]
    raw_in: int
    raw_out: int
    sbs_out: int
    beast_in: int
    beast_out: int


def _wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"dump1090 is not listening on {port}")


@pytest.fixture
def dump1090() -> Iterator[Dump1090]:
    """A real dump1090-mutability in --net-only mode on free loopback ports.

    Skipped only when the binary is absent (``scripts/install-system-deps.sh``
    installs it; CI runs it). Its clock is set to UTC so SBS times are unix UTC.
    """
    binary = shutil.which(DUMP1090)
    if binary is None:
        pytest.skip(f"{DUMP1090} is not installed (run scripts/install-system-deps.sh)")
    ports = [free_port() for _ in range(5)]
    raw_in, raw_out, sbs_out, beast_in, beast_out = ports
    cmd = [
        binary, "--net-only", "--quiet",
        "--net-bind-address", "127.0.0.1",
        "--net-ri-port", str(raw_in),
        "--net-ro-port", str(raw_out),
        "--net-sbs-port", str(sbs_out),
        "--net-bi-port", str(beast_in),
        "--net-bo-port", str(beast_out),
        "--net-http-port", "0",
        "--net-heartbeat", "0",
    ]  # fmt: skip
    env = {**os.environ, "TZ": "UTC"}
    process = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        for port in ports:
            _wait_listening(port)
        yield Dump1090(process, raw_in, raw_out, sbs_out, beast_in, beast_out)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
