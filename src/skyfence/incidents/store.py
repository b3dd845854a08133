"""Opening the incident store: SQLite (WAL) by default, PostgreSQL by URL; migrations.

``--store`` takes a path or a URL::

    (nothing)                       $SKYFENCE_STORE, else <user data dir>/incidents.sqlite
    /var/lib/skyfence/ops.sqlite    a SQLite file (created, with its directory)
    sqlite:///ops.sqlite            the same as a URL
    postgresql://user@host/db       PostgreSQL through psycopg 3

Opening migrates the database to the newest schema (Alembic, scripts shipped in
``skyfence/incidents/migrations``): a fresh file or database is created on first use,
an older one is upgraded, a newer one (written by a later skyfence) is refused.
SQLite runs in WAL mode with a busy timeout, so that ``skyfence incidents ack`` can
write while ``skyfence watch`` writes; every write is one short transaction.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from skyfence.errors import StoreError, UsageError

__all__ = ["HEAD_REVISION", "IncidentStore", "default_store_path", "dumps", "store_url"]

#: the newest migration; a store at this revision needs no Alembic run
HEAD_REVISION = "0002"
#: how long a writer waits for another process's SQLite transaction (s)
SQLITE_BUSY_S = 30.0
MIGRATIONS = Path(__file__).with_name("migrations")


def dumps(doc: Any) -> str:
    """JSON text as the store keeps it (key order as given, no spaces, UTF-8)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def default_store_path() -> Path:
    """``$SKYFENCE_STORE`` (a path) or ``incidents.sqlite`` in the user's data directory."""
    env = os.environ.get("SKYFENCE_STORE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("skyfence")) / "incidents.sqlite"


def store_url(where: str | os.PathLike[str] | None) -> sa.URL:
    """The SQLAlchemy URL of ``--store``: a path, ``sqlite:///...`` or ``postgresql://...``.

    >>> store_url("/tmp/x.sqlite").render_as_string()
    'sqlite:////tmp/x.sqlite'
    >>> store_url("postgresql://ops@db.example/skyfence").drivername
    'postgresql+psycopg'
    """
    if where is None:
        env = os.environ.get("SKYFENCE_STORE")
        where = env if env else default_store_path()
    text = os.fspath(where)
    if "://" not in text:
        return sa.URL.create("sqlite", database=str(Path(text).expanduser().absolute()))
    try:
        url = sa.make_url(text)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is no number
        raise UsageError(f"--store {text}: not a path or a database URL") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url
    raise UsageError(f"--store {text}: unsupported database '{backend}' "
                     "(give a SQLite path or a postgresql:// URL)")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
    cur.close()


class IncidentStore:
    """An open, migrated incident store (an SQLAlchemy engine plus its tables).

    Every write goes through :meth:`transaction`; the modules that use the store
    (:mod:`~skyfence.incidents.writer`, :mod:`~skyfence.incidents.lifecycle`,
    :mod:`~skyfence.incidents.queries`, :mod:`~skyfence.alerts.outbox`) take it as their
    first argument.
    """

    def __init__(self, engine: Engine, shown: str = "") -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        #: the store's URL as shown in messages (no password)
        self.shown = shown or engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, where: str | os.PathLike[str] | None = None, *, migrate: bool = True
             ) -> IncidentStore:
        """Open (and create or upgrade) the store at ``where`` (see the module docstring)."""
        url = store_url(where)
        shown = url.render_as_string(hide_password=True)
        if url.get_backend_name() == "sqlite":
            if url.database in (None, "", ":memory:"):
                raise UsageError("--store: an in-memory SQLite database would lose every "
                                 "incident; give a file")
            try:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"--store {url.database}: cannot create its directory "
                                 f"({exc.strerror})") from None
            engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_S,
                                                         "check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True)
        store = cls(engine, shown)
        try:
            if migrate:
                store.migrate()
            else:
                with engine.connect():
                    pass
        except sa.exc.OperationalError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreError(f"--store {shown}: cannot open ({reason})") from None
        return store

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> IncidentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- migrations
    def revision(self) -> str | None:
        """The schema revision of the database (None: empty database)."""
        with self.engine.connect() as conn:
            return _revision(conn)

    def migrate(self) -> None:
        """Bring the database to :data:`HEAD_REVISION` (a no-op when it is there)."""
        with self.engine.connect() as conn:
            current = _revision(conn)
        if current == HEAD_REVISION:
            return
        if current is not None and current not in _known_revisions():
            raise StoreError(f"--store {self.shown}: schema revision {current} is newer than "
                             f"this skyfence knows ({HEAD_REVISION}); upgrade skyfence")
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":  # one migrator at a time
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(721963)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    # ------------------------------------------------------------------ writing
    def transaction(self) -> Any:
        """A connection in a transaction, committed when the block ends without error."""
        return self.engine.begin()

    def insert_new(self, conn: Connection, table: sa.Table, rows: Iterable[Mapping[str, Any]]
                   ) -> int:
        """Insert ``rows``, skipping those whose primary or unique key exists; the number
        inserted."""
        rows = list(rows)
        if not rows:
            return 0
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt: Any = pg_insert(table).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(table).on_conflict_do_nothing()
        result = conn.execute(stmt, rows)
        return max(0, int(result.rowcount)) if result.rowcount is not None else 0


def _revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _known_revisions() -> set[str]:
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("*.py")}

