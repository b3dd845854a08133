"""The web service and its browsers around a soak: ``skyfence bench soak --clients N``.

``skyfence serve`` is the watch plus a web server in one process; a soak that left the
server out would miss what it costs under load: the picture (:class:`Picture`, fed by
every batch the detector screens), the track pushes once a second (at 50,000
positions/s about 25,000 tracks change between two pushes: megabytes a push), the
incident events, and the sockets of the event streams. :class:`WebLoad` assembles the
same parts ``serve`` does around the soak's own watcher (the picture as a pipeline tap,
the events as a watcher sink after the store commits them, the FastAPI application of
:func:`~skyfence.service.app.create_app` under uvicorn, in a thread of the soak's
process, so that the memory sampled is the server's too), and opens ``N`` event
streams from a second process (:mod:`skyfence.benchmarks.serve_clients`, the clients of
``skyfence bench serve``), which time every message against its ``sent_at``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["WebLoad"]

#: how long the server may take to start before the soak gives up
START_S = 30.0


class WebLoad:
    """A ``serve`` web server over ``store`` and ``zones``, and ``clients`` event
    streams reading it (see the module docstring).

    Use: build it, pass :attr:`sinks` to the watcher and :meth:`attach` the watcher,
    :meth:`start` before feeding, :meth:`finish` after (the clients' figures)."""

    def __init__(self, store: Any, zones: list[Any], clients: int) -> None:
        from skyfence.service.app import ServeState
        from skyfence.service.config import ServeConfig
        from skyfence.service.picture import Picture

        cfg = ServeConfig(title="skyfence soak")
        self.clients = clients
        self.state = ServeState(config=cfg, store=store, zones=zones,
                                picture=Picture(forget_after_s=300.0,
                                                trail_s=cfg.picture.trail_s))
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._readers: subprocess.Popen[bytes] | None = None
        self._switch = sys.getswitchinterval()

    @property
    def sinks(self) -> list[Any]:
        """The watcher sinks ``serve`` adds: each committed incident event to the
        picture and the event streams."""
        return [self.state.on_event]

    def attach(self, watcher: Any) -> None:
        """Feed the picture from every batch ``watcher``'s detector screens."""
        watcher.pipeline.taps.append(self.state.picture.update)

    @property
    def connected(self) -> int:
        """Event streams open now."""
        return len(self.state.hub.clients)

    def start(self, seconds: float) -> None:
        """Serve on a free loopback port; connect the clients for ``seconds``."""
        import uvicorn

        from skyfence.service.app import create_app
        from skyfence.service.auth import create_token

        # as serve_main does: prompt pushes while the pipeline holds the GIL
        sys.setswitchinterval(float(os.environ.get("SKYFENCE_SWITCH_INTERVAL", "0.0005")))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        self._server = uvicorn.Server(uvicorn.Config(
            create_app(self.state), log_level="warning", access_log=False,
            timeout_graceful_shutdown=2))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        daemon=True, name="skyfence-soak-web")
        self._thread.start()
        deadline = time.monotonic() + START_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the soak's web server did not start")
            time.sleep(0.05)
        token = create_token(self.state.store, "soak", "viewer", "soak")
        src = str(Path(__file__).resolve().parents[2])
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
        self._readers = subprocess.Popen(
            [sys.executable, "-m", "skyfence.benchmarks.serve_clients", str(port), token,
             str(self.clients), f"{seconds:.1f}"], env=env, stdout=subprocess.PIPE)
        # the streams are open before the load starts (or the soak would measure a
        # server without its clients)
        deadline = time.monotonic() + START_S
        while self.connected < self.clients and time.monotonic() < deadline:
            if self._readers.poll() is not None:
                break
            time.sleep(0.05)

    def finish(self, wait_s: float) -> dict[str, Any]:
        """Wait for the clients (up to ``wait_s``), stop the server; what the clients
        measured: push latency by message type (ms), messages, megabytes, streams that
        failed to open or were ended by the server (too slow: dropped)."""
        out = b""
        try:
            if self._readers is not None:
                try:
                    out, _ = self._readers.communicate(timeout=wait_s)
                except subprocess.TimeoutExpired:
                    self._readers.kill()
                    out, _ = self._readers.communicate()
        finally:
            if self._server is not None:
                self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(30)
            sys.setswitchinterval(self._switch)
        lines = out.decode(errors="replace").strip().splitlines()
        if not lines:
            return {"clients": self.clients, "error": "the clients reported nothing"}
        res = json.loads(lines[-1])
        from skyfence.benchmarks.serve import percentiles

        lat = {k: percentiles(v) for k, v in res["samples_ms"].items()}
        return {"clients": self.clients, "failed": len(res["failed"]),
                "dropped": res["ended_early"], "server_dropped": self.state.hub.dropped,
                "messages": res["messages"], "mb_received": round(res["bytes"] / 1e6, 1),
                "latency_ms": lat, "clients_cpu_s": round(res["cpu_s"], 1)}

