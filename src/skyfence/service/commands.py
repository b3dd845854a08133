"""``skyfence serve``, ``skyfence users`` and ``skyfence tokens``.

::

    skyfence serve [--config FILE.yaml] [--demo] [--host H] [--port P]
    skyfence users add NAME [--role viewer|operator|admin] [--password-stdin]
    skyfence users list | skyfence users remove NAME | skyfence users passwd NAME
    skyfence tokens create NAME [--role viewer|operator|admin] | tokens revoke NAME
    skyfence tokens list

The account commands work on the store of ``--store`` or of ``--config`` (a serve
configuration file), else the default store; ``--demo`` their demo store. A password is
asked twice on the terminal (never an option: it would stay in the shell history), or
read from the first line of standard input with ``--password-stdin``. The person who
runs the command is recorded in the audit as ``cli:<login name>``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from skyfence.errors import UsageError

__all__ = ["add_service_commands"]


def add_service_commands(sub: Any) -> None:
    """Register ``serve``, ``users`` and ``tokens`` on the top-level subparsers."""
    from skyfence.service.serve import add_serve_arguments

    s = sub.add_parser("serve", help="the operators' screen: live map, incidents, API")
    add_serve_arguments(s)
    s.set_defaults(func=_cmd_serve)

    def store_opts(q: argparse.ArgumentParser) -> None:
        g = q.add_mutually_exclusive_group()
        g.add_argument("--store", metavar="PATH_OR_URL", help="the incident store")
        g.add_argument("--config", metavar="FILE.yaml", help="the store of this serve config")
        g.add_argument("--demo", action="store_true", help="the store of 'serve --demo'")

    u = sub.add_parser("users", help="accounts of the operators' screen")
    usub = u.add_subparsers(dest="users_command", required=True,
                            metavar="add|list|remove|passwd")
    ua = usub.add_parser("add", help="create a user (asks for the password)")
    ua.add_argument("name")
    ua.add_argument("--role", default="viewer", choices=("viewer", "operator", "admin"))
    ua.add_argument("--password-stdin", action="store_true",
                    help="read the password from the first line of standard input")
    store_opts(ua)
    ua.set_defaults(func=_cmd_users_add)
    ul = usub.add_parser("list", help="every user and role")
    store_opts(ul)
    ul.set_defaults(func=_cmd_users_list)
    ur = usub.add_parser("remove", help="delete a user")
    ur.add_argument("name")
    store_opts(ur)
    ur.set_defaults(func=_cmd_users_remove)
    up = usub.add_parser("passwd", help="set a user's password")
    up.add_argument("name")
    up.add_argument("--password-stdin", action="store_true")
    store_opts(up)
    up.set_defaults(func=_cmd_users_passwd)

    t = sub.add_parser("tokens", help="API tokens for machines")
    tsub = t.add_subparsers(dest="tokens_command", required=True, metavar="create|revoke|list")
    tc = tsub.add_parser("create", help="create a token (printed once)")
    tc.add_argument("name")
    tc.add_argument("--role", default="viewer", choices=("viewer", "operator", "admin"))
    store_opts(tc)
    tc.set_defaults(func=_cmd_tokens_create)
    tr = tsub.add_parser("revoke", help="revoke a token")
    tr.add_argument("name")
    store_opts(tr)
    tr.set_defaults(func=_cmd_tokens_revoke)
    tl = tsub.add_parser("list", help="every token (never the token itself)")
    store_opts(tl)
    tl.set_defaults(func=_cmd_tokens_list)


def _cmd_serve(args: argparse.Namespace) -> int:
    from skyfence.service.serve import serve_main

    return serve_main(args.config, args.demo, args.host, args.port)


def _store(args: argparse.Namespace) -> Any:
    from skyfence.incidents.store import IncidentStore

    where = args.store
    if args.config:
        from skyfence.service.config import load_serve_config

        where = load_serve_config(args.config).store
    elif args.demo:
        from skyfence.service.serve import demo_dir

        where = str(demo_dir() / "demo.sqlite")
    return IncidentStore.open(where)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise UsageError("--password-stdin: standard input gave no password")
        return line
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask the password on: use --password-stdin")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise UsageError("the two passwords differ")
    return first


def _cmd_users_add(args: argparse.Namespace) -> int:
    from skyfence.service.auth import add_user, check_name, hash_password

    check_name(args.name)
    password = _password(args)
    hash_password(password)  # too short: say so before opening the store
    with _store(args) as store:
        add_user(store, args.name, password, args.role, _actor())
        print(f"user {args.name} added ({args.role}) in {store.shown}")
    return 0


def _cmd_users_passwd(args: argparse.Namespace) -> int:
    from skyfence.service.auth import set_password

    password = _password(args)
    with _store(args) as store:
        set_password(store, args.name, password, _actor())
    print(f"password of {args.name} set")
    return 0


def _cmd_users_list(args: argparse.Namespace) -> int:
    from skyfence.incidents.record import iso_time
    from skyfence.service.auth import list_users

    with _store(args) as store:
        users = list_users(store)
        shown = store.shown
    for u in users:
        print(f"{u['name']:24} {u['role']:9} added {(iso_time(u['created_at']) or '')[:19]} "
              f"by {u['created_by']}")
    print(f"{len(users)} user(s) in {shown}", file=sys.stderr)
    return 0


def _cmd_users_remove(args: argparse.Namespace) -> int:
    from skyfence.service.auth import remove_user

    with _store(args) as store:
        remove_user(store, args.name, _actor())
    print(f"user {args.name} removed")
    return 0


def _cmd_tokens_create(args: argparse.Namespace) -> int:
    from skyfence.service.auth import create_token

    with _store(args) as store:
        token = create_token(store, args.name, args.role, _actor())
    # the token alone on its line, written out before the note: a script reads stdout's
    # one line; a person (or a log with both streams) sees the token, then the note
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    print(f"token {args.name} ({args.role}) created; it is shown only now: send it as "
          "'Authorization: Bearer <token>'", file=sys.stderr)
    return 0


def _cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from skyfence.service.auth import revoke_token

    with _store(args) as store:
        revoke_token(store, args.name, _actor())
    print(f"token {args.name} revoked")
    return 0


def _cmd_tokens_list(args: argparse.Namespace) -> int:
    from skyfence.incidents.record import iso_time
    from skyfence.service.auth import list_tokens

    with _store(args) as store:
        tokens = list_tokens(store)
    for t in tokens:
        state = f"revoked {(iso_time(t['revoked_at']) or '')[:19]}" if t["revoked_at"] else "active"
        print(f"{t['name']:24} {t['role']:9} {state:28} by {t['created_by']}")
    return 0
