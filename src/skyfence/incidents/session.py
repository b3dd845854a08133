"""``skyfence watch --store``: the store, the outbox senders and the dossier worker of
one watcher, set up from its options and shut down in order.

:func:`add_store_options` adds the options to ``watch``; :func:`open_watch_session`
opens the store, records the run, starts one outbox sender per sink (the console or
JSON Lines output, each ``--webhook``, ``--smtp``) and, with ``--dossier-dir`` and
``--key-dir``, the dossier worker. :meth:`WatchSession.close` asks for the dossiers of
critical incidents that ended, lets the outbox drain (``--webhook-drain`` seconds:
whatever is still pending stays in the store and goes out at the next start), lets the
dossier worker finish (``--dossier-drain``), and prints one line per sink.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skyfence.errors import UsageError

__all__ = ["WatchSession", "add_store_options", "open_watch_session", "store_scan"]

STORE_HELP = ("keep incidents in this store: a SQLite file or a postgresql:// URL (--store "
              "alone: $SKYFENCE_STORE or the user's data directory)")


def add_store_options(p: argparse.ArgumentParser) -> None:
    """``--store`` and the outbox and dossier options of ``skyfence watch``."""
    g = p.add_argument_group("incident store and alerts")
    g.add_argument("--store", nargs="?", const="", metavar="PATH_OR_URL",
                   help=STORE_HELP + "; alerts then go out from its outbox, at least once, "
                                     "across restarts")
    g.add_argument("--webhook-secret-file", metavar="FILE",
                   help="sign webhook bodies (X-Skyfence-Signature: HMAC-SHA256) with the "
                        "key in FILE")
    g.add_argument("--smtp", metavar="HOST:PORT", help="e-mail alerts through this server "
                                                       "(needs --store and --mail-to)")
    g.add_argument("--smtp-starttls", action="store_true", help="use STARTTLS")
    g.add_argument("--mail-from", metavar="ADDR", default="skyfence@localhost")
    g.add_argument("--mail-to", action="append", default=[], metavar="ADDR",
                   help="recipient of e-mail alerts; repeat")
    g.add_argument("--dossier-dir", metavar="DIR",
                   help="build a signed dossier of each critical incident here once it is "
                        "over (needs --store and --key-dir)")
    g.add_argument("--key-dir", metavar="DIR", help="signing key for --dossier-dir")
    g.add_argument("--log", metavar="DIR", help="station log for --dossier-dir "
                                                "(default: ~/.local/share/skyfence/log)")
    g.add_argument("--dossier-drain", type=float, default=120.0, metavar="S",
                   help="on stop, give pending dossiers up to S seconds (default 120)")


def store_scan(args: argparse.Namespace, *, zones: Sequence[Any], policy: Any, gap_s: float,
               paths: Sequence[Path], records: Sequence[Mapping[str, Any]]) -> str:
    """``skyfence scan --store``: store the records the scan reports, with what is needed
    to read their tracks again (inputs, options); one line saying what was stored."""
    from skyfence.incidents.store import IncidentStore
    from skyfence.incidents.writer import begin_run, store_records

    options = {
        "inputs": [str(Path(p).absolute()) for p in paths], "columns": args.columns,
        "on_error": args.on_error, "input_format": args.input_format,
        "radar": list(args.radar), "date": args.date, "ref": _ref(args.ref), "gap_s": gap_s,
        "aircraft_db": str(Path(args.aircraft_db).absolute()) if args.aircraft_db else None,
    }
    with IncidentStore.open(args.store or None) as store:
        run = begin_run(store, "scan", "scan", policy, zones, options,
                        command=" ".join(["skyfence", *sys.argv[1:]]))
        entries, incidents = store_records(store, run, records)
        return (f"stored {entries} new entr{'y' if entries == 1 else 'ies'} in {incidents} "
                f"incident(s) in {store.shown}")


def _ref(spec: str | None) -> list[float] | None:
    if not spec:
        return None
    from skyfence.cli import _latlon

    ll = _latlon(spec, "--ref")
    return list(ll) if ll else None


def _secret(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        data = Path(path).read_bytes().strip()
    except OSError as exc:
        raise UsageError(f"--webhook-secret-file {path}: cannot read ({exc.strerror})") from None
    if not data:
        raise UsageError(f"--webhook-secret-file {path}: empty")
    return data


def _check(args: argparse.Namespace) -> None:
    if args.store is None:
        for opt, given in (("--smtp", args.smtp), ("--dossier-dir", args.dossier_dir)):
            if given:
                raise UsageError(f"{opt} needs --store (alerts and dossiers come from the "
                                 "incident store)")
    if args.smtp and not args.mail_to:
        raise UsageError("--smtp needs at least one --mail-to")
    if args.dossier_dir and not args.key_dir:
        raise UsageError("--dossier-dir needs --key-dir (dossiers are signed)")


@dataclass
class WatchSession:
    """The store side of one watcher (see the module docstring)."""

    store: Any
    journal: Any
    dispatcher: Any
    dossiers: Any = None

    def start(self) -> None:
        """Start the outbox senders and the dossier worker (what an earlier run left
        pending goes first)."""
        self.dispatcher.start()
        if self.dossiers is not None:
            self.dossiers.start()

    def close(self, drain_s: float, dossier_drain_s: float,
              out: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> None:
        """Ask for due dossiers, drain the outbox and the dossier worker, say what is
        left, close the store."""
        try:
            self.journal.flush()
            if self.dossiers is not None:
                self.journal.request_dossiers(None)
                self.dossiers.notify()
            for st in self.dispatcher.drain(drain_s):
                out(f"skyfence: outbox {st.sink}: {st.summary()}")
            if self.dossiers is not None:
                left = self.dossiers.drain(dossier_drain_s)
                out(f"skyfence: dossiers: {self.dossiers.built} built, "
                    f"{self.dossiers.failed} failed" + (f", {left} pending (built at the "
                                                        "next start)" if left else ""))
            if self.journal.repeats:
                out(f"skyfence: {self.journal.repeats} event(s) were already in the store "
                    "(alerted before a restart) and were not sent again")
        finally:
            self.store.close()


def open_watch_session(args: argparse.Namespace, *, zones: Sequence[Any], policy: Any,
                       gap_s: float, output_sink: Callable[[dict[str, Any]], None],
                       origin: str, feed_clock: bool) -> WatchSession:
    """Open the store of ``watch --store`` and start its outbox (and dossier worker)."""
    from skyfence.alerts.outbox import FunctionDelivery, OutboxDispatcher
    from skyfence.alerts.smtp import SmtpDelivery
    from skyfence.alerts.webhook import WebhookDelivery
    from skyfence.incidents.journal import IncidentJournal
    from skyfence.incidents.recorder import ObservationRecorder
    from skyfence.incidents.store import IncidentStore
    from skyfence.incidents.writer import begin_run

    _check(args)
    key = None
    if args.dossier_dir:
        from skyfence.evidence.keys import load_signing_key

        key = load_signing_key(args.key_dir)  # fail early, before the feed starts
    secret = _secret(args.webhook_secret_file)
    out_name = f"{args.format}:{Path(args.output).absolute() if args.output else 'stdout'}"
    deliveries: list[Any] = [FunctionDelivery(out_name, output_sink)]
    deliveries += [WebhookDelivery(u, secret=secret) for u in args.webhook]
    if args.smtp:
        from skyfence.cli import _host_port

        host, port = _host_port(args.smtp, "--smtp")
        user, pw = os.environ.get("SKYFENCE_SMTP_USER"), os.environ.get("SKYFENCE_SMTP_PASSWORD")
        deliveries.append(SmtpDelivery(host, port, args.mail_from, args.mail_to,
                                       starttls=args.smtp_starttls,
                                       login=(user, pw) if user and pw else None))
    store = IncidentStore.open(args.store or None)
    try:
        options = {"gap_s": gap_s, "replay": args.replay, "speed": args.speed}
        run = begin_run(store, "watch", origin, policy, zones, options,
                        command=" ".join(["skyfence", *sys.argv[1:]]))
        dispatcher = OutboxDispatcher(store, deliveries)
        journal = IncidentJournal(store, run, dispatcher.sinks, feed_clock=feed_clock,
                                  on_queued=dispatcher.notify,
                                  recorder=ObservationRecorder(store),
                                  dossiers=key is not None)
        worker = None
        if key is not None:
            from skyfence.evidence.log import StationLog
            from skyfence.incidents.dossiers import DossierWorker

            worker = DossierWorker(store, args.dossier_dir, key, StationLog(args.log))
            journal.on_dossier_requested(worker.notify)
    except BaseException:
        store.close()
        raise
    return WatchSession(store, journal, dispatcher, worker)
