"""E-mail alerts from the outbox (``--smtp HOST:PORT --mail-to ADDR``).

Each alert is one message: a subject an operator reads at a glance, the readable line
and the alert's JSON in the body. The idempotency key is the ``Message-ID``
(``<KEY@skyfence>``) and an ``X-Skyfence-Idempotency-Key`` header, so that a mail
system or a script can drop a repeat. A refused recipient or sender, and any 5xx
answer, is :class:`~skyfence.alerts.retry.Rejected`; a connection failure or a 4xx is
retried by the outbox. ``--smtp-starttls`` upgrades the connection; the login, when
needed, comes from ``$SKYFENCE_SMTP_USER`` and ``$SKYFENCE_SMTP_PASSWORD``.
"""

from __future__ import annotations

import json
import smtplib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Any

from skyfence.alerts.retry import Rejected

__all__ = ["SmtpDelivery", "alert_subject"]


def alert_subject(payload: Mapping[str, Any]) -> str:
    """``[skyfence] CRITICAL entry EST R0010 (12.3 km deep)``.

    >>> alert_subject({"event": "escalation", "severity": "critical", "zone": "EST",
    ...                "track": "R0010", "max_depth_m": 6945.9,
    ...                "step": {"step": "escalate to the air operations centre"}})
    '[skyfence] CRITICAL escalation EST R0010: escalate to the air operations centre'
    """
    text = (f"[skyfence] {str(payload.get('severity', 'info')).upper()} {payload['event']} "
            f"{payload.get('zone', '')} {payload.get('track', '')}")
    if payload["event"] == "escalation":
        return f"{text}: {payload['step']['step']}"
    depth = payload.get("max_depth_m")
    return text + (f" ({depth / 1000:.1f} km deep)" if depth else "")


class SmtpDelivery:
    """Send each alert as an e-mail through one SMTP server."""

    def __init__(self, host: str, port: int, sender: str, recipients: Sequence[str], *,
                 starttls: bool = False, login: tuple[str, str] | None = None,
                 timeout_s: float = 10.0) -> None:
        self.host, self.port = host, port
        self.sender = sender
        self.recipients = list(recipients)
        self.starttls = starttls
        self.login = login
        self.timeout_s = timeout_s
        self.name = f"smtp:{host}:{port}:{','.join(self.recipients)}"

    def message(self, payload: Mapping[str, Any], key: str) -> EmailMessage:
        """The e-mail of one alert."""
        msg = EmailMessage()
        msg["Subject"] = alert_subject(payload)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Message-ID"] = f"<{key}@skyfence>"
        msg["X-Skyfence-Idempotency-Key"] = key
        reasons = "\n".join(f"- {r}" for r in payload.get("reasons") or [])
        steps = "\n".join(f"- {s['step']}" + (f" (after {s['after_s']:g} s)"
                                                if s.get("after_s") is not None else "")
                          for s in payload.get("protocol") or [])
        msg.set_content(f"{msg['Subject']}\n\n{reasons}\n\nProtocol:\n{steps}\n\n"
                        f"{json.dumps(dict(payload), indent=2, ensure_ascii=False)}\n")
        return msg

    def deliver(self, body: bytes, payload: Mapping[str, Any], key: str) -> None:
        """Send the message; raises :class:`Rejected` on a permanent refusal."""
        msg = self.message(payload, key)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.login is not None:
                    smtp.login(*self.login)
                smtp.send_message(msg)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise Rejected(f"SMTP refused: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise Rejected(f"SMTP {exc.smtp_code} {exc.smtp_error!r}") from None
            raise
