"""The incident store: runs, policies, zones, incidents, entries, steps, audit events,
alerts, outbox, observations, dossiers.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(1024), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("command", sa.Text),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "policies",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("watch_states", sa.Text, nullable=False),
    )
    op.create_table(
        "zones",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("area_km2", TIME, nullable=False),
        sa.Column("geojson", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("track", sa.String(64), nullable=False),
        sa.Column("zone", sa.String(256), nullable=False),
        sa.Column("zone_kind", sa.String(16), nullable=False),
        sa.Column("also_in", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("violation", sa.Boolean, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("icao24", sa.String(16)),
        sa.Column("callsign", sa.String(16)),
        sa.Column("first_entered_at", TIME, nullable=False),
        sa.Column("last_exited_at", TIME),
        sa.Column("last_inside_at", TIME, nullable=False),
        sa.Column("inside_s", TIME, nullable=False),
        sa.Column("max_depth_m", TIME, nullable=False),
        sa.Column("deepest_entry", sa.String(32), nullable=False),
        sa.Column("crossings", sa.Integer, nullable=False),
        sa.Column("open_entries", sa.Integer, nullable=False),
        sa.Column("origin", sa.String(1024), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_incidents_track", "incidents", ["track"])
    op.create_index("ix_incidents_state", "incidents", ["state", "violation"])
    op.create_index("ix_incidents_origin", "incidents", ["origin", "state"])
    op.create_table(
        "entries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("zone", sa.String(256), nullable=False),
        sa.Column("zone_sha256", sa.String(64), sa.ForeignKey("zones.sha256")),
        sa.Column("track", sa.String(64), nullable=False),
        sa.Column("entered_at", TIME, nullable=False),
        sa.Column("exited_at", TIME),
        sa.Column("last_inside_at", TIME, nullable=False),
        sa.Column("end_at", TIME, nullable=False),
        sa.Column("duration_s", TIME, nullable=False),
        sa.Column("max_depth_m", TIME, nullable=False),
        sa.Column("observations", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("violation", sa.Boolean, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_entries_track_end", "entries", ["track", "end_at"])
    op.create_index("ix_entries_incident", "entries", ["incident_id"])
    op.create_table(
        "steps",
        sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"),
                  primary_key=True),
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("after_s", TIME),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("done_at", TIME),
        sa.Column("done_by", sa.String(256)),
        sa.Column("escalated_at", TIME),
    )
    op.create_index("ix_steps_due", "steps", ["escalated_at", "done_at", "due_at"])
    op.create_table(
        "events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("feed_at", TIME),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(256), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("data", sa.Text),
    )
    op.create_index("ix_events_incident", "events", ["incident_id", "seq"])
    op.create_table(
        "alerts",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("incident_id", sa.String(32)),
        sa.Column("entry_id", sa.String(32)),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("feed_at", TIME),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_alerts_incident", "alerts", ["incident_id", "seq"])
    op.create_table(
        "outbox",
        sa.Column("alert_seq", SEQ, sa.ForeignKey("alerts.seq"), primary_key=True),
        sa.Column("sink", sa.String(1024), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_try_at", TIME, nullable=False),
        sa.Column("delivered_at", TIME),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_outbox_sink_state", "outbox", ["sink", "state", "alert_seq"])
    op.create_table(
        "observations",
        sa.Column("track", sa.String(64), primary_key=True),
        sa.Column("time", TIME, primary_key=True),
        sa.Column("lat", TIME, nullable=False),
        sa.Column("lon", TIME, nullable=False),
        sa.Column("altitude", TIME),
        sa.Column("velocity", TIME),
        sa.Column("heading", TIME),
        sa.Column("vertrate", TIME),
        sa.Column("callsign", sa.String(16)),
        sa.Column("squawk", sa.String(8)),
        sa.Column("onground", sa.Boolean),
    )
    op.create_table(
        "dossiers",
        sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"),
                  primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_at", TIME, nullable=False),
        sa.Column("built_at", TIME),
        sa.Column("path", sa.Text),
        sa.Column("statement_sha256", sa.String(64)),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    for table in ("dossiers", "observations", "outbox", "alerts", "events", "steps",
                  "entries", "incidents", "zones", "policies", "runs"):
        op.drop_table(table)
