"""The operators' screen: users (argon2 password hashes, roles), API tokens (SHA-256 of
the token, never the token), and the audit of account changes and logins.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("revoked_at", TIME),
        sa.Column("last_used_at", TIME),
    )
    op.create_table(
        "auth_events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("note", sa.Text),
    )


def downgrade() -> None:
    for table in ("auth_events", "api_tokens", "users"):
        op.drop_table(table)
