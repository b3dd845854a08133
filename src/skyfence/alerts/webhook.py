"""POST events as JSON to a webhook, from a background thread, with retries.

Detection never waits for the network: events are queued and a sender thread delivers
them in order, retrying each with exponential backoff (capped) before counting it as
failed. Counters say what was delivered, retried and lost.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class WebhookStats:
    """What the sender did."""

    delivered: int = 0
    retries: int = 0
    failed: int = 0
    dropped: int = 0  # the queue was full


class WebhookSink:
    """Deliver events to ``url``; :meth:`send` never blocks."""

    def __init__(
        self,
        url: str,
        *,
        attempts: int = 5,
        backoff_s: float = 0.5,
        backoff_max_s: float = 30.0,
        timeout_s: float = 5.0,
        max_queue: int = 100_000,
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.timeout_s = timeout_s
        self.stats = WebhookStats()
        self._q: queue.Queue[dict[str, Any] | None] = queue.Queue(max_queue)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skyfence-webhook", daemon=True)
        self._thread.start()

    def send(self, event: dict[str, Any]) -> None:
        """Queue one event for delivery."""
        try:
            self._q.put_nowait(event)
        except queue.Full:
            self.stats.dropped += 1

    __call__ = send

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver what is queued (up to ``timeout_s``), then stop the sender."""
        self._q.put(None)
        self._thread.join(timeout_s)
        self._stop.set()

    def _post(self, event: dict[str, Any]) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        req = urllib.request.Request(self.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            if resp.status >= 300:
                raise urllib.error.HTTPError(self.url, resp.status, "not accepted", resp.headers,
                                             None)

    def _run(self) -> None:
        while True:
            event = self._q.get()
            if event is None:
                return
            delay = self.backoff_s
            for attempt in range(self.attempts):
                try:
                    self._post(event)
                    self.stats.delivered += 1
                    break
                except (OSError, urllib.error.URLError, ValueError):
                    if attempt == self.attempts - 1 or self._stop.is_set():
                        self.stats.failed += 1
                        break
                    self.stats.retries += 1
                    time.sleep(delay)
                    delay = min(delay * 2, self.backoff_max_s)
