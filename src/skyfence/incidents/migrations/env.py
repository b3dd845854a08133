"""Alembic environment of the incident store: runs on the connection the store hands over.

The store calls Alembic with ``config.attributes["connection"]`` set (see
:func:`skyfence.incidents.store.migrate`); there is no ``alembic.ini`` and no URL here.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
