"""POST events as JSON to a webhook, from a background thread, with retries.

Detection never waits for the network: events are queued and a sender thread delivers
them in order, retrying each with exponential backoff (capped, :class:`Backoff`) before
giving up on it. This is the sink of a watcher without a store; with a store
(``--store``) webhooks are delivered from the outbox instead (:mod:`skyfence.alerts.outbox`,
which retries without giving up and survives restarts), through the same :func:`post_event`.

Every request carries ``Content-Type: application/json``; with a secret, an
``X-Skyfence-Signature: sha256=<hex>`` header, the HMAC-SHA256 of the exact body bytes
under the secret (:func:`signature`); an event that has an ``idempotency_key`` (events
from the store) also sends it as the ``Idempotency-Key`` header, so that a receiver
can drop a repeat (delivery is at least once).

Every event handed to :meth:`WebhookSink.send` ends in exactly one counter of
:class:`WebhookStats`, so that an operator can see what reached the receiver and what
did not: ``delivered`` (the receiver answered 2xx), ``failed`` (every attempt failed),
``dropped`` (the queue was full when it was sent) or ``undelivered`` (still queued, or
being sent, when the sink was closed and its drain time ran out). :meth:`close` gives
queued events ``drain_timeout_s`` to go out; no counter changes after it returns.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from skyfence.alerts.retry import Backoff, Rejected

log = logging.getLogger(__name__)

#: how long :meth:`WebhookSink.close` lets queued events go out, by default (s)
DRAIN_TIMEOUT_S = 10.0
#: the header of the body's HMAC-SHA256 under the webhook secret
SIGNATURE_HEADER = "X-Skyfence-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def signature(secret: bytes, body: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of ``body`` under ``secret``.

    >>> signature(b"key", b"The quick brown fox jumps over the lazy dog")
    'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8'
    """
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def post_event(url: str, body: bytes, timeout_s: float, *, secret: bytes | None = None,
               idempotency_key: str | None = None) -> None:
    """POST ``body`` (JSON) to ``url``; raises on a connection error or a non-2xx answer
    (``urllib.error.HTTPError`` carries the status)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    if idempotency_key is not None:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        if resp.status >= 300:
            raise urllib.error.HTTPError(url, resp.status, "not accepted", resp.headers, None)

Outcome = Literal["delivered", "failed", "undelivered"]


@dataclass
class WebhookStats:
    """What the sender did; after :meth:`WebhookSink.close`,
    ``submitted == delivered + failed + dropped + undelivered``."""

    submitted: int = 0
    delivered: int = 0
    retries: int = 0
    #: gave up after every attempt failed
    failed: int = 0
    #: the queue was full
    dropped: int = 0
    #: still queued or in flight when the drain time ran out
    undelivered: int = 0

    @property
    def queued(self) -> int:
        """Events submitted and not yet in any final counter (waiting or in flight)."""
        return self.submitted - self.delivered - self.failed - self.dropped - self.undelivered

    def summary(self) -> str:
        """One line for the operator.

        Examples
        --------
        >>> WebhookStats(submitted=3, failed=1, undelivered=2, retries=4).summary()
        '0 delivered, 1 failed, 2 undelivered, 4 retries'
        """
        text = f"{self.delivered} delivered, {self.failed} failed"
        if self.dropped:
            text += f", {self.dropped} dropped (queue full)"
        if self.undelivered:
            text += f", {self.undelivered} undelivered"
        if self.queued:
            text += f", {self.queued} queued"
        return text + f", {self.retries} retries"


#: answers that mean "try again later" although they are 4xx
_RETRY_STATUS = (408, 425, 429)


class WebhookDelivery:
    """The outbox's webhook sink: POST the stored alert, signed, with its idempotency key.

    A 4xx answer other than 408, 425 and 429 is :class:`Rejected` (the receiver will
    never take it); anything else that fails is retried by the outbox.
    """

    def __init__(self, url: str, *, secret: bytes | None = None, timeout_s: float = 5.0
                 ) -> None:
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s
        self.name = f"webhook:{url}"

    def deliver(self, body: bytes, payload: Any, key: str) -> None:
        """POST ``body`` with the signature and ``Idempotency-Key: key``."""
        try:
            post_event(self.url, body, self.timeout_s, secret=self.secret, idempotency_key=key)
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500 and exc.code not in _RETRY_STATUS:
                raise Rejected(f"HTTP {exc.code} {exc.reason}") from None
            raise


class WebhookSink:
    """Deliver events to ``url``; :meth:`send` never blocks.

    Parameters
    ----------
    url
        Where each event is POSTed as one JSON object.
    attempts
        Attempts per event before it counts as failed.
    backoff_s, backoff_max_s
        Delay after the first failed attempt, doubled after each one up to the cap.
    timeout_s
        Timeout of one HTTP request.
    max_queue
        Events waiting beyond this many are dropped (and counted).
    secret
        Sign each body (``X-Skyfence-Signature``) with this key.
    """

    def __init__(
        self,
        url: str,
        *,
        attempts: int = 5,
        backoff_s: float = 0.5,
        backoff_max_s: float = 30.0,
        timeout_s: float = 5.0,
        max_queue: int = 100_000,
        secret: bytes | None = None,
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.backoff = Backoff(backoff_s, backoff_max_s)
        self.secret = secret
        self.timeout_s = timeout_s
        self.max_queue = max_queue
        self.stats = WebhookStats()
        self._cv = threading.Condition()
        self._pending: deque[dict[str, Any]] = deque()
        self._in_flight = False
        #: set by close(): no new events; give up at ``_deadline`` (monotonic s)
        self._closing = False
        self._deadline: float | None = None
        #: the final accounting is done: the sender changes no counter any more
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="skyfence-webhook", daemon=True)
        self._thread.start()

    def send(self, event: dict[str, Any]) -> None:
        """Queue one event for delivery (counted as undelivered once closing)."""
        with self._cv:
            self.stats.submitted += 1
            if self._closing:
                self.stats.undelivered += 1
            elif len(self._pending) >= self.max_queue:
                self.stats.dropped += 1
            else:
                self._pending.append(event)
                self._cv.notify_all()

    __call__ = send

    def close(self, drain_timeout_s: float = DRAIN_TIMEOUT_S) -> WebhookStats:
        """Let queued events go out for up to ``drain_timeout_s``, then stop; what is
        still queued or in flight then counts as ``undelivered``."""
        self.begin_close(time.monotonic() + drain_timeout_s)
        return self.finish_close()

    def begin_close(self, deadline: float) -> None:
        """Accept no more events; deliver what is queued until ``deadline`` (monotonic)."""
        with self._cv:
            self._closing = True
            self._deadline = deadline
            self._cv.notify_all()

    def finish_close(self) -> WebhookStats:
        """Wait for the sender until the deadline of :meth:`begin_close`, then settle
        the counters for good."""
        assert self._deadline is not None, "begin_close() first"
        # a request in flight ends by the deadline (its timeout is cut to it); 0.5 s grace
        self._thread.join(max(0.0, self._deadline - time.monotonic()) + 0.5)
        with self._cv:
            if not self._closed:
                self._closed = True
                self.stats.undelivered += len(self._pending) + int(self._in_flight)
                self._pending.clear()
            self._cv.notify_all()
        return self.stats

    # ------------------------------------------------------------------ sender
    def _left_s(self) -> float | None:
        """Seconds until the drain deadline (None: not closing)."""
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._closing:
                    self._cv.wait()
                left = self._left_s()
                if not self._pending or self._closed or (left is not None and left <= 0):
                    return
                event = self._pending.popleft()
                self._in_flight = True
            outcome = self._deliver(event)
            with self._cv:
                self._in_flight = False
                if self._closed:
                    return
                if outcome == "delivered":
                    self.stats.delivered += 1
                elif outcome == "failed":
                    self.stats.failed += 1
                else:
                    self.stats.undelivered += 1

    def _deliver(self, event: dict[str, Any]) -> Outcome:
        """Try ``event`` up to ``attempts`` times, within the drain deadline if any."""
        body = json.dumps(event, separators=(",", ":")).encode()
        key = event.get("idempotency_key")
        for attempt in range(1, self.attempts + 1):
            left = self._left_s()
            if left is not None and left <= 0:
                return "undelivered"
            try:
                post_event(self.url, body,
                           self.timeout_s if left is None else min(self.timeout_s, left),
                           secret=self.secret, idempotency_key=key)
                return "delivered"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if attempt == self.attempts:
                    log.warning("webhook %s: gave up on a %s event after %d attempts: %s",
                                self.url, event.get("event", "?"), attempt, exc)
                    return "failed"
                log.debug("webhook %s: attempt %d failed: %s", self.url, attempt, exc)
                with self._cv:
                    self.stats.retries += 1
                if not self._pause(self.backoff.delay_s(attempt)):
                    return "undelivered"
        return "failed"

    def _pause(self, delay_s: float) -> bool:
        """Sleep before a retry; False when the drain deadline comes first."""
        end = time.monotonic() + delay_s
        with self._cv:
            while True:
                left = self._left_s()
                if left is not None and left <= 0:
                    return False
                wait = end - time.monotonic()
                if wait <= 0:
                    return True
                self._cv.wait(wait if left is None else min(wait, left))


def close_all(sinks: Iterable[WebhookSink], drain_timeout_s: float = DRAIN_TIMEOUT_S) -> None:
    """Close several sinks sharing one drain deadline (they drain in parallel)."""
    sinks = list(sinks)
    deadline = time.monotonic() + drain_timeout_s
    for s in sinks:
        s.begin_close(deadline)
    for s in sinks:
        s.finish_close()
