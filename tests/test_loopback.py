"""The loopback helpers the integration tests wait with: they must wait for what they
name, not return at once (a wait that returns early is a fixed sleep of zero)."""

from __future__ import annotations

import socket
import time

import pytest

from loopback import wait_client, wait_drained


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


def test_wait_drained_waits_until_the_client_has_read_everything() -> None:
    """Reference: the bytes the client has read itself. Until it reads all that was
    sent, the wait times out; after, it returns."""
    payload = b"x" * 50_000  # more than one read, less than loopback socket buffers hold
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with pytest.raises(TimeoutError):  # nobody connected
            wait_drained(port, timeout_s=0.2)
        with socket.create_connection(("127.0.0.1", port)) as client:
            peer, _ = server.accept()
            with peer:
                peer.sendall(payload)
                got = client.recv(1000)
                with pytest.raises(TimeoutError, match=f"server on {port} sent"):
                    wait_drained(port, timeout_s=0.3)
                while len(got) < len(payload):
                    got += client.recv(len(payload))
                wait_drained(port, timeout_s=5.0)
                assert got == payload
