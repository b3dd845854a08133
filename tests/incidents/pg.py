"""A throw-away PostgreSQL server for the store's tests: a fresh cluster in a temporary
directory on a free loopback port, started with Debian's binaries and removed after.

PostgreSQL refuses to run as root: as root (CI), the cluster belongs to the ``postgres``
system user (created by Debian's ``postgresql`` package) and the binaries run through
``runuser``; as anyone else they run as that user. Authentication is ``trust`` on
127.0.0.1 only; durability is switched off (``fsync=off``): the data die with the test.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from loopback import free_port

USER = "skyfence"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    if which:
        return Path(which).resolve().parent
    raise RuntimeError("PostgreSQL server binaries not found: install Debian's 'postgresql' "
                       "(scripts/install-system-deps.sh does)")




class PgServer:
    """``start()``, ``url(db)``, ``create_database()``, ``stop()``."""

    def __init__(self) -> None:
        self.bin = _bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="skyfence-pg-"))
        self.port = 0
        self.as_postgres = os.geteuid() == 0

    def _run(self, *argv: str) -> None:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=120)

    def start(self) -> PgServer:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                  "--no-locale")
        for _ in range(5):  # a free port can be taken between the check and the start
            self.port = free_port()
            opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
                    "-c max_connections=200")
            try:
                self._run("pg_ctl", "-D", str(data), "-o", opts, "-l",
                          str(self.dir / "server.log"), "-w", "-t", "60", "start")
                return self
            except subprocess.CalledProcessError:
                continue
        log = (self.dir / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start:\n{log}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
