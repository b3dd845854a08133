"""The set-up of ``watch --store`` and ``scan --store`` (:mod:`skyfence.incidents.session`)
piece by piece, fast: no feed, no thread started.

The options as the module's help says them; the combinations it refuses, with their
messages; the webhook secret file read and stripped; ``scan --store``'s run options
and its one line; a session's ``close`` with stand-ins for the outbox, the dossier
worker and the journal (what it asks for, in which order, what it prints); and
``open_watch_session`` on a real SQLite store, its outbox senders named as the
deliveries name themselves (``FORMAT:OUTPUT``, ``webhook:URL``,
``smtp:HOST:PORT:TO``). Expected values by hand from the docstrings and the help.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from incidents.helpers import ZONE, crossing_record
from skyfence.errors import UsageError
from skyfence.incidents import session
from skyfence.incidents.session import (
    WatchSession,
    add_store_options,
    open_watch_session,
    store_scan,
)
from skyfence.policy import Policy


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="watch")
    add_store_options(p)
    return p


# ------------------------------------------------------------------ options
def test_the_store_options_and_their_defaults() -> None:
    """Nothing given: no store, no secret, no SMTP (STARTTLS off), mail from
    skyfence@localhost to nobody, no dossiers, 120 s of dossier drain. ``--store``
    alone is the empty string (the default store), repeated ``--mail-to`` add up."""
    a = parser().parse_args([])
    assert (a.store, a.webhook_secret_file, a.smtp, a.smtp_starttls, a.mail_from, a.mail_to,
            a.dossier_dir, a.key_dir, a.log, a.dossier_drain) == (
        None, None, None, False, "skyfence@localhost", [], None, None, None, 120.0)
    a = parser().parse_args(["--store", "--mail-to", "a@x", "--mail-to", "b@x",
                             "--smtp-starttls", "--dossier-drain", "7.5"])
    assert (a.store, a.mail_to, a.smtp_starttls, a.dossier_drain) == ("", ["a@x", "b@x"],
                                                                       True, 7.5)
    a = parser().parse_args(["--store", "s.sqlite", "--webhook-secret-file", "k",
                             "--smtp", "h:25", "--mail-from", "m@x", "--dossier-dir", "d",
                             "--key-dir", "kd", "--log", "l"])
    assert (a.store, a.webhook_secret_file, a.smtp, a.mail_from, a.dossier_dir, a.key_dir,
            a.log) == ("s.sqlite", "k", "h:25", "m@x", "d", "kd", "l")


def test_the_help_of_the_store_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each option's help as written in the module, under its group's title, with its
    metavar (a terminal 1000 columns wide, so that argparse breaks no line)."""
    monkeypatch.setenv("COLUMNS", "1000")
    text = " ".join(parser().format_help().split())
    for part in (
        "incident store and alerts:",
        "--store [PATH_OR_URL] keep incidents in this store: a SQLite file or a "
        "postgresql:// URL (--store alone: $SKYFENCE_STORE or the user's data directory); "
        "alerts then go out from its outbox, at least once, across restarts",
        "--webhook-secret-file FILE sign webhook bodies (X-Skyfence-Signature: HMAC-SHA256) "
        "with the key in FILE",
        "--smtp HOST:PORT e-mail alerts through this server (needs --store and --mail-to)",
        "--smtp-starttls use STARTTLS",
        "--mail-from ADDR",
        "--mail-to ADDR recipient of e-mail alerts; repeat",
        "--dossier-dir DIR build a signed dossier of each critical incident here once it "
        "is over (needs --store and --key-dir)",
        "--key-dir DIR signing key for --dossier-dir",
        "--log DIR station log for --dossier-dir (default: ~/.local/share/skyfence/log)",
        "--dossier-drain S on stop, give pending dossiers up to S seconds (default 120)",
    ):
        assert part in text


@pytest.mark.parametrize(("argv", "message"), [
    (["--smtp", "h:25", "--mail-to", "a@x"],
     "--smtp needs --store (alerts and dossiers come from the incident store)"),
    (["--dossier-dir", "d", "--key-dir", "k"],
     "--dossier-dir needs --store (alerts and dossiers come from the incident store)"),
    (["--store", "--smtp", "h:25"], "--smtp needs at least one --mail-to"),
    (["--store", "--dossier-dir", "d"], "--dossier-dir needs --key-dir (dossiers are signed)"),
])
def test_option_combinations_that_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        session._check(parser().parse_args(argv))
    assert str(err.value) == message


@pytest.mark.parametrize("argv", [
    [], ["--store"], ["--store", "--smtp", "h:25", "--mail-to", "a@x"],
    ["--store", "s", "--dossier-dir", "d", "--key-dir", "k"],
])
def test_option_combinations_that_are_accepted(argv: list[str]) -> None:
    """``--store`` alone (the empty string) is a store as much as a path."""
    session._check(parser().parse_args(argv))


def test_the_webhook_secret_is_the_files_bytes_stripped(tmp_path: Path) -> None:
    """No file: no secret; ' k3y \\n' is b'k3y'; a file of only white space is refused
    as empty; one that cannot be read is named with the reason."""
    assert session._secret(None) is None
    f = tmp_path / "secret"
    f.write_bytes(b" k3y \n")
    assert session._secret(str(f)) == b"k3y"
    f.write_bytes(b" \n\t")
    with pytest.raises(UsageError) as err:
        session._secret(str(f))
    assert str(err.value) == f"--webhook-secret-file {f}: empty"
    missing = tmp_path / "nothing"
    with pytest.raises(UsageError) as err:
        session._secret(str(missing))
    assert str(err.value) == (f"--webhook-secret-file {missing}: cannot read "
                              "(No such file or directory)")


def test_the_reference_point_of_a_scan() -> None:
    """``--ref LAT,LON`` as a list of two floats; none given (None or empty): None."""
    assert session._ref(None) is None
    assert session._ref("") is None
    assert session._ref("59.5,-25.25") == [59.5, -25.25]
    with pytest.raises(UsageError) as err:
        session._ref("59.5")
    assert str(err.value) == "--ref 59.5: expected LAT,LON"


# ------------------------------------------------------------------ scan --store
def scan_args(store: Path, **kw: Any) -> argparse.Namespace:
    base = {"store": str(store), "columns": None, "on_error": "skip", "input_format": "auto",
            "radar": [], "date": None, "ref": None, "aircraft_db": None}
    return argparse.Namespace(**{**base, **kw})


def test_scan_store_stores_the_records_and_the_options_to_read_them_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two records of two tracks 10 min apart (two incidents): "stored 2 new entries in 2
    incident(s) in PATH"; the run is a scan of origin ``scan``, its command the argv, its
    options the inputs and the aircraft database as absolute paths, the reference point
    as a list. The same records again: nothing new, "0 new entries in 0"; one new
    record: "1 new entry"."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(session.sys, "argv", ["skyfence", "scan", "in.csv", "--store", "s"])
    path = tmp_path / "s.sqlite"
    a = crossing_record("aaaa000000000001", "R0001")
    b = crossing_record("bbbb000000000002", "R0002", "2025-09-19T06:40:00.000Z",
                        "2025-09-19T06:45:00.000Z")
    args = scan_args(path, columns="x=lon", on_error="stop", input_format="csv",
                     radar=["r.csv"], date="2025-09-19", ref="59.0,25.0", aircraft_db="db.csv")
    line = store_scan(args, zones=[ZONE], policy=Policy(), gap_s=300.0,
                      paths=[Path("in.csv")], records=[a, b])
    assert line == f"stored 2 new entries in 2 incident(s) in sqlite:///{path}"
    with sqlite3.connect(path) as db:
        ((kind, origin, command, options),) = db.execute(
            "SELECT kind, origin, command, options FROM runs").fetchall()
    assert (kind, origin, command) == ("scan", "scan", "skyfence scan in.csv --store s")
    assert json.loads(options) == {
        "inputs": [str(tmp_path / "in.csv")], "columns": "x=lon", "on_error": "stop",
        "input_format": "csv", "radar": ["r.csv"], "date": "2025-09-19", "ref": [59.0, 25.0],
        "gap_s": 300.0, "aircraft_db": str(tmp_path / "db.csv")}
    again = store_scan(scan_args(path), zones=[ZONE], policy=Policy(), gap_s=300.0,
                       paths=[], records=[a, b])
    assert again == f"stored 0 new entries in 0 incident(s) in sqlite:///{path}"
    c = crossing_record("cccc000000000003", "R0003", "2025-09-19T07:40:00.000Z",
                        "2025-09-19T07:45:00.000Z")
    one = store_scan(scan_args(path), zones=[ZONE], policy=Policy(), gap_s=300.0,
                     paths=[], records=[c])
    assert one == f"stored 1 new entry in 1 incident(s) in sqlite:///{path}"
    with sqlite3.connect(path) as db:
        opts = [json.loads(r[0]) for r in db.execute("SELECT options FROM runs")]
    assert [(o["ref"], o["aircraft_db"], o["inputs"]) for o in opts] == [
        ([59.0, 25.0], str(tmp_path / "db.csv"), [str(tmp_path / "in.csv")]),
        (None, None, []), (None, None, [])]


# ------------------------------------------------------------------ WatchSession
class Calls:
    """Stand-ins for the journal, the outbox, the dossier worker and the store, writing
    down what is asked of them in one list."""

    def __init__(self, *, left: int = 0, repeats: int = 0, fail_drain: bool = False) -> None:
        self.log: list[Any] = []
        self.left = left
        self.repeats = repeats
        self.fail_drain = fail_drain
        self.built, self.failed = 3, 1

    # journal
    def flush(self) -> None:
        self.log.append("flush")

    def request_dossiers(self, until: Any) -> int:
        self.log.append(("request_dossiers", until))
        return 0

    # dispatcher and worker
    def start(self) -> None:
        self.log.append("start")

    def notify(self) -> None:
        self.log.append("notify")

    def drain(self, s: float) -> Any:
        self.log.append(("drain", s))
        if self.fail_drain:
            raise RuntimeError("drain failed")
        if s == 5.0:  # the outbox's drain
            from skyfence.alerts.outbox import DeliveryState

            return [DeliveryState("hook", delivered=2, pending=1),
                    DeliveryState("mail", delivered=3)]
        return self.left

    # store
    def close(self) -> None:
        self.log.append("close")


def test_a_session_starts_the_outbox_then_the_dossier_worker() -> None:
    c = Calls()
    WatchSession(store=c, journal=c, dispatcher=c, dossiers=c).start()
    assert c.log == ["start", "start"]
    c = Calls()
    WatchSession(store=c, journal=c, dispatcher=c).start()
    assert c.log == ["start"]


def test_closing_a_session_with_dossiers_asks_drains_and_says_what_is_left() -> None:
    """flush, ask for every due dossier (None: no limit), wake the worker, drain the
    outbox for 5 s (one line per sink), the worker for 9 s (built, failed, pending),
    the repeats, then the store closed."""
    c = Calls(left=2, repeats=4)
    out: list[str] = []
    WatchSession(store=c, journal=c, dispatcher=c, dossiers=c).close(5.0, 9.0, out.append)
    assert c.log == ["flush", ("request_dossiers", None), "notify", ("drain", 5.0),
                     ("drain", 9.0), "close"]
    assert out == [
        "skyfence: outbox hook: 2 delivered, 1 pending",
        "skyfence: outbox mail: 3 delivered, 0 pending",
        "skyfence: dossiers: 3 built, 1 failed, 2 pending (built at the next start)",
        "skyfence: 4 event(s) were already in the store (alerted before a restart) and "
        "were not sent again"]


def test_closing_a_session_without_dossiers_or_repeats_says_only_the_outbox() -> None:
    c = Calls()
    out: list[str] = []
    WatchSession(store=c, journal=c, dispatcher=c).close(5.0, 9.0, out.append)
    assert c.log == ["flush", ("drain", 5.0), "close"]
    assert out == ["skyfence: outbox hook: 2 delivered, 1 pending",
                   "skyfence: outbox mail: 3 delivered, 0 pending"]
    c = Calls(left=0)
    out = []
    WatchSession(store=c, journal=c, dispatcher=c, dossiers=c).close(5.0, 9.0, out.append)
    assert out[-1] == "skyfence: dossiers: 3 built, 1 failed"


def test_closing_a_session_prints_to_stderr_by_default(
        capsys: pytest.CaptureFixture[str]) -> None:
    c = Calls()
    WatchSession(store=c, journal=c, dispatcher=c).close(5.0, 9.0)
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err == ("skyfence: outbox hook: 2 delivered, 1 pending\n"
                       "skyfence: outbox mail: 3 delivered, 0 pending\n")


def test_a_session_that_fails_to_drain_still_closes_its_store() -> None:
    c = Calls(fail_drain=True)
    with pytest.raises(RuntimeError, match="drain failed"):
        WatchSession(store=c, journal=c, dispatcher=c).close(5.0, 9.0, print)
    assert c.log[-1] == "close"


# ------------------------------------------------------------------ open_watch_session
def watch_args(store: Path, **kw: Any) -> argparse.Namespace:
    a = parser().parse_args(["--store", str(store)])
    for k, v in {"format": "jsonl", "output": None, "webhook": [], "replay": "r.csv",
                 "speed": 0.0, **kw}.items():
        setattr(a, k, v)
    return a


def test_a_watch_session_names_its_sinks_and_records_its_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Output to out.jsonl, two webhooks signed with the secret, SMTP to two recipients
    with STARTTLS and the login from the environment: the sinks, in that order, are
    ``jsonl:<absolute out.jsonl>``, ``webhook:URL`` (twice) and ``smtp:mx:2525:a@x,b@x``.
    The run is a watch of the origin given with gap_s, replay and speed as options; the
    journal is on that run, on the feed's clock as asked, without dossiers; no thread
    is started until ``start``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(session.sys, "argv", ["skyfence", "watch", "--store", "s"])
    monkeypatch.setenv("SKYFENCE_SMTP_USER", "u")
    monkeypatch.setenv("SKYFENCE_SMTP_PASSWORD", "p")
    (tmp_path / "secret").write_bytes(b"k3y\n")
    args = watch_args(tmp_path / "s.sqlite", output="out.jsonl",
                      webhook=["http://a/1", "http://b/2"], webhook_secret_file="secret",
                      smtp="mx:2525", mail_to=["a@x", "b@x"], smtp_starttls=True,
                      mail_from="m@x", speed=2.0)
    got: list[dict[str, Any]] = []
    s = open_watch_session(args, zones=[ZONE], policy=Policy(), gap_s=300.0,
                           output_sink=got.append, origin="replay:r.csv", feed_clock=True)
    try:
        d = s.dispatcher
        assert d.sinks == [f"jsonl:{tmp_path / 'out.jsonl'}", "webhook:http://a/1",
                           "webhook:http://b/2", "smtp:mx:2525:a@x,b@x"]
        assert [w.secret for w in d.deliveries[1:3]] == [b"k3y", b"k3y"]
        mail = d.deliveries[3]
        assert (mail.host, mail.port, mail.sender, mail.recipients, mail.starttls,
                mail.login) == ("mx", 2525, "m@x", ["a@x", "b@x"], True, ("u", "p"))
        d.deliveries[0].deliver(b"{}", {"event": "entry"}, "k")
        assert got == [{"event": "entry"}]
        j = s.journal
        assert (j.sinks, j.feed_clock, j.dossiers, j.run.origin) == (d.sinks, True, False,
                                                                     "replay:r.csv")
        assert j.recorder is not None and j.recorder.store is s.store
        assert s.dossiers is None and s.store is d.store is j.store
        assert not any(t.is_alive() for t in d._threads)
        assert j.on_queued == d.notify  # the journal wakes the outbox when it queued
    finally:
        s.store.close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        ((kind, origin, command, options),) = db.execute(
            "SELECT kind, origin, command, options FROM runs").fetchall()
    assert (kind, origin, command) == ("watch", "replay:r.csv", "skyfence watch --store s")
    assert json.loads(options) == {"gap_s": 300.0, "replay": "r.csv", "speed": 2.0}


def test_a_watch_session_to_stdout_without_login_or_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No output file: the sink is ``table:stdout``; SMTP with only a user in the
    environment logs in as nobody; webhooks without a secret file sign nothing; live
    (``feed_clock`` False)."""
    monkeypatch.setenv("SKYFENCE_SMTP_USER", "u")
    monkeypatch.delenv("SKYFENCE_SMTP_PASSWORD", raising=False)
    args = watch_args(tmp_path / "s.sqlite", format="table", webhook=["http://a/1"],
                      smtp="mx:25", mail_to=["a@x"])
    s = open_watch_session(args, zones=[ZONE], policy=Policy(), gap_s=300.0,
                           output_sink=print, origin="live:x", feed_clock=False)
    try:
        assert s.dispatcher.sinks == ["table:stdout", "webhook:http://a/1", "smtp:mx:25:a@x"]
        assert s.dispatcher.deliveries[1].secret is None
        assert s.dispatcher.deliveries[2].login is None
        assert s.dispatcher.deliveries[2].starttls is False
        assert s.journal.feed_clock is False
    finally:
        s.store.close()


def test_a_watch_session_with_dossiers_has_a_worker_the_journal_wakes(
        tmp_path: Path) -> None:
    """``--dossier-dir`` with a key: a dossier worker on the store writing to that
    directory with that key, not started; the journal asks for dossiers and wakes the
    worker (its callback is the worker's ``notify``)."""
    from skyfence.evidence.keys import init_keys

    key = init_keys(tmp_path / "keys")
    args = watch_args(tmp_path / "s.sqlite", dossier_dir=str(tmp_path / "dossiers"),
                      key_dir=str(tmp_path / "keys"), log=str(tmp_path / "log"))
    s = open_watch_session(args, zones=[ZONE], policy=Policy(), gap_s=300.0,
                           output_sink=print, origin="live:x", feed_clock=False)
    try:
        w = s.dossiers
        assert w is not None and w.store is s.store and w.root == tmp_path / "dossiers"
        assert w.key.key_id == key.key_id
        assert w.station_log.dir == tmp_path / "log"
        assert s.journal.dossiers is True
        assert not w._thread.is_alive()
        assert s.journal._on_dossier == w.notify  # the journal wakes this worker
    finally:
        s.store.close()


def test_a_watch_session_refuses_before_opening_the_store(tmp_path: Path) -> None:
    """A refused combination, a missing key, an SMTP server without a port and an empty
    secret file are named (the option in the message) before any store file is made."""
    store = tmp_path / "s.sqlite"
    with pytest.raises(UsageError, match="needs --key-dir"):
        open_watch_session(watch_args(store, dossier_dir="d"), zones=[ZONE], policy=Policy(),
                           gap_s=300.0, output_sink=print, origin="x", feed_clock=True)
    with pytest.raises(UsageError, match="no signing key"):
        open_watch_session(watch_args(store, dossier_dir="d", key_dir=str(tmp_path / "k")),
                           zones=[ZONE], policy=Policy(), gap_s=300.0, output_sink=print,
                           origin="x", feed_clock=True)
    with pytest.raises(UsageError) as err:
        open_watch_session(watch_args(store, smtp="mx", mail_to=["a@x"]), zones=[ZONE],
                           policy=Policy(), gap_s=300.0, output_sink=print, origin="x",
                           feed_clock=True)
    assert str(err.value) == "--smtp mx: expected HOST:PORT"
    (tmp_path / "secret").write_bytes(b"")
    with pytest.raises(UsageError, match="empty"):
        open_watch_session(watch_args(store, webhook_secret_file=str(tmp_path / "secret")),
                           zones=[ZONE], policy=Policy(), gap_s=300.0, output_sink=print,
                           origin="x", feed_clock=True)
    assert not store.exists()


def test_a_watch_session_that_fails_after_opening_closes_its_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An interruption (Ctrl-C: a BaseException, not an Exception) while recording the
    run, after the store is open, closes the store before it goes on."""
    from skyfence.incidents import store as store_mod
    from skyfence.incidents import writer

    closed: list[int] = []
    real_close = store_mod.IncidentStore.close

    def close(self: Any) -> None:
        closed.append(1)
        real_close(self)

    def broken(*a: Any, **k: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(store_mod.IncidentStore, "close", close)
    monkeypatch.setattr(writer, "begin_run", broken)
    with pytest.raises(KeyboardInterrupt):
        open_watch_session(watch_args(tmp_path / "s.sqlite"), zones=[ZONE], policy=Policy(),
                           gap_s=300.0, output_sink=print, origin="x", feed_clock=True)
    assert closed == [1]
