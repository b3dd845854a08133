"""When to try a failed delivery again: capped exponential backoff, one implementation.

Both the in-memory webhook queue (:class:`~skyfence.alerts.webhook.WebhookSink`, no
store) and the store's outbox (:mod:`skyfence.alerts.outbox`, which keeps the next try
time in the database so that it survives a restart) take their delays from
:class:`Backoff`. There is no jitter: each sink has one sender, so there is no herd.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff", "Rejected"]


@dataclass(frozen=True)
class Backoff:
    """Delay after the n-th failed attempt: ``first_s * factor**(n-1)``, at most ``max_s``.

    Examples
    --------
    >>> b = Backoff(first_s=0.5, max_s=30.0)
    >>> [b.delay_s(n) for n in (1, 2, 3, 7, 8, 50)]
    [0.5, 1.0, 2.0, 30.0, 30.0, 30.0]
    """

    first_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0

    def delay_s(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failed attempts in a row (``failures >= 1``)."""
        exponent = min(max(failures, 1) - 1, 64)  # no overflow for a sink down for days
        return float(min(self.max_s, self.first_s * self.factor ** exponent))


class Rejected(Exception):
    """The receiver refused a delivery for good: retrying would not help (a webhook's
    4xx other than 408, 425 and 429; a mail server refusing the recipient)."""
