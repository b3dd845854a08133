"""Fixtures of the store tests: every store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from incidents.pg import PgServer


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the session, removed at the end."""
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store: a SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store" / "incidents.sqlite")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()
