"""The loopback helpers the integration tests wait with: they must wait for what they
name, not return at once (a wait that returns early is a fixed sleep of zero)."""

from __future__ import annotations

import socket
import time

import pytest

from loopback import wait_client


def test_wait_client_waits_for_a_client_and_only_on_its_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, \
            socket.create_server(("127.0.0.1", 0)) as other:
        port, other_port = server.getsockname()[1], other.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(TimeoutError, match=f"no client connected to {port}"):
            wait_client(port, timeout_s=0.3)
        assert time.monotonic() - start >= 0.3
        with socket.create_connection(("127.0.0.1", other_port)), \
                pytest.raises(TimeoutError):  # a client of another server
            wait_client(port, timeout_s=0.3)
        with socket.create_connection(("127.0.0.1", port)):
            wait_client(port, timeout_s=5.0)  # returns: the kernel established it
