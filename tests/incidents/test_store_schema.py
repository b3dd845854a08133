"""The store opens, migrates and refuses what it cannot read, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from skyfence.cli import main
from skyfence.errors import StoreError, UsageError
from skyfence.incidents.schema import METADATA
from skyfence.incidents.store import HEAD_REVISION, MIGRATIONS, IncidentStore, store_url


def test_a_fresh_store_is_migrated_to_the_tables_the_code_uses(store_url: str) -> None:
    with IncidentStore.open(store_url) as store:
        assert store.revision() == HEAD_REVISION
        with store.engine.connect() as conn:
            # Alembic's own comparison of the migrated database with schema.METADATA
            diff = compare_metadata(MigrationContext.configure(conn), METADATA)
        assert diff == []
        if store.dialect == "sqlite":
            with store.engine.connect() as conn:
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            assert mode == "wal"
    with IncidentStore.open(store_url) as again:  # a second open does not migrate again
        assert again.revision() == HEAD_REVISION


def test_head_revision_is_the_last_migration_script() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_a_store_written_by_a_newer_skyfence_is_refused(store_url: str) -> None:
    with IncidentStore.open(store_url) as store, store.transaction() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="revision 9999 is newer"):
        IncidentStore.open(store_url)


def test_store_urls() -> None:
    assert store_url("x.sqlite").database == str(Path("x.sqlite").absolute())
    assert store_url("postgresql://u:pw@h:5/db").drivername == "postgresql+psycopg"
    with pytest.raises(UsageError, match="unsupported database 'mysql'"):
        store_url("mysql://u@h/db")


def test_an_unreachable_store_is_one_line_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    from loopback import free_port

    url = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/none"
    assert main(["incidents", "list", "--store", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("skyfence: error: --store postgresql+psycopg://nobody:***@127.0.0.1:")
    assert "cannot open" in err and "secret" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_store_path_that_cannot_be_created_is_an_error(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["incidents", "list", "--store", str(blocker / "sub" / "s.sqlite")]) == 1
    err = capsys.readouterr().err
    assert "cannot create its directory" in err and "Traceback" not in err
