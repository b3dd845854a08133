"""E-mail alerts from the outbox, against a minimal SMTP server written here (RFC 5321's
commands, one message per DATA): the idempotency key is the Message-ID, a 550 is a
permanent refusal and a 421 is retried."""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Iterator
from email.policy import default
from typing import Any

import pytest

from incidents.helpers import crossing, replay, store_watcher
from incidents.test_outbox import wait_until
from skyfence.alerts.outbox import OutboxDispatcher
from skyfence.alerts.retry import Backoff
from skyfence.alerts.smtp import SmtpDelivery
from skyfence.incidents.store import IncidentStore


class Smtp(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.messages: list[email.message.Message] = []
        self.rcpt_reply = "250 ok"
        self.data_reply = "250 queued"
        self.data_tries = 0


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server: Any = self.server
        self.reply("220 test ESMTP")
        while line := self.rfile.readline():
            cmd = line.decode().strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                self.reply("250 test")
            elif cmd.startswith("MAIL FROM"):
                self.reply("250 ok")
            elif cmd.startswith("RCPT TO"):
                self.reply(server.rcpt_reply)
            elif cmd == "DATA":
                self.reply("354 go on")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                server.data_tries += 1
                if server.data_reply.startswith("250"):
                    server.messages.append(email.message_from_bytes(body, policy=default))
                self.reply(server.data_reply)
            elif cmd == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_alerts_by_mail_with_the_key_as_message_id(smtp: Smtp, tmp_path: Any) -> None:
    mail = SmtpDelivery("127.0.0.1", smtp.server_address[1], "skyfence@station.example",
                        ["duty@ops.example"])
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        watcher, _ = store_watcher(store, sinks=[mail.name])
        out = [e for _, e in replay(watcher, crossing("R0001", 0.0))]
        smtp.data_reply = "421 try later"  # the first tries are turned away, then taken
        d = OutboxDispatcher(store, [mail], backoff=Backoff(0.02, 0.1), poll_s=0.05).start()
        wait_until(lambda: smtp.data_tries >= 3)
        assert d.pending() == len(out)
        smtp.data_reply = "250 queued"
        (st,) = d.drain(30.0)
    assert (st.delivered, st.pending) == (len(out), 0) and st.attempts > len(out)
    ids = [m["Message-ID"] for m in smtp.messages]
    assert ids == [f"<{e['idempotency_key']}@skyfence>" for e in out]
    first = smtp.messages[0]
    assert first["Subject"] == "[skyfence] CRITICAL entry BOX R0001" + \
        (f" ({out[0]['max_depth_m'] / 1000:.1f} km deep)" if out[0]["max_depth_m"] else "")
    assert first["To"] == "duty@ops.example"
    assert "non-cooperative target inside BOX zone" in first.get_payload()
    esc = next(m for m in smtp.messages if "escalation" in m["Subject"])
    assert esc["Subject"].endswith("inform the air policing (QRA) controller for visual "
                                   "identification")


def test_a_refused_recipient_is_rejected_not_retried(smtp: Smtp, tmp_path: Any) -> None:
    smtp.rcpt_reply = "550 no such user"
    mail = SmtpDelivery("127.0.0.1", smtp.server_address[1], "a@b.example", ["x@ops.example"])
    with IncidentStore.open(tmp_path / "s.sqlite") as store:
        watcher, _ = store_watcher(store, sinks=[mail.name])
        out = [e for _, e in replay(watcher, crossing("R0001", 0.0))]
        (st,) = OutboxDispatcher(store, [mail], backoff=Backoff(0.02, 0.1),
                                 poll_s=0.05).start().drain(30.0)
    assert (st.rejected, st.attempts, st.delivered) == (len(out), len(out), 0)
    assert smtp.messages == []
