"""The incident store's tables (SQLAlchemy Core), as the newest migration leaves them.

::

    runs          one scan or watch that wrote to the store: kind, origin, options
    policies      policy texts by SHA-256 (what each entry was judged under)
    zones         zone identities by SHA-256: national code + bundle, or custom GeoJSON
    incidents     one incursion: track, zone, also_in, state, figures over its entries
    entries       the contract record of each entry, and which incident it belongs to
    steps         the protocol steps of an incident as timers: due, done, escalated
    events        the append-only audit: every state change with operator, time, note
    alerts        every alert once, by idempotency key, in order (``seq``)
    outbox        per alert and sink: delivery state, attempts, next try, delivered at
    observations  fixes of incident tracks (window ± 10 min) for dossiers
    dossiers      the dossier of an incident: pending, built or failed
    users         accounts of the operators' screen: argon2 hash, role
    api_tokens    machine tokens: SHA-256 of the token, role, revoked at
    auth_events   the audit of account changes and logins: who, what, whom

Times are unix seconds (double precision). Wall-clock times (``created_at``, ``at`` of
the audit, outbox times) are the station's clock; feed times (``entered_at``, ``due_at``
of a replay) are the data's. JSON documents are stored as text, written by skyfence
with a fixed key order so that what went out can be compared byte for byte.

The migrations in :mod:`skyfence.incidents.migrations` create these tables; a test
checks that they agree.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "ALERTS", "API_TOKENS", "AUTH_EVENTS", "DOSSIERS", "ENTRIES", "EVENTS", "INCIDENTS",
    "METADATA", "OBSERVATIONS", "OUTBOX", "POLICIES", "RUNS", "STEPS", "USERS", "ZONES",
]

METADATA = sa.MetaData()

#: 64-bit sequence numbers; SQLite's INTEGER PRIMARY KEY is already 64-bit and
#: autoincrements only under that exact type name
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME: sa.Double[float] = sa.Double()

RUNS = sa.Table(
    "runs", METADATA,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # scan | watch
    sa.Column("origin", sa.String(1024), nullable=False),
    sa.Column("started_at", TIME, nullable=False),
    sa.Column("command", sa.Text),
    sa.Column("options", sa.Text, nullable=False),  # JSON: inputs, zones, columns, ...
    sa.Column("policy_sha256", sa.String(64), nullable=False),
)

POLICIES = sa.Table(
    "policies", METADATA,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("source", sa.String(1024), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("watch_states", sa.Text, nullable=False),  # JSON list
)

ZONES = sa.Table(
    "zones", METADATA,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("area_km2", TIME, nullable=False),
    #: custom zones: the exact GeoJSON; national: null (the bundle is named in ``source``)
    sa.Column("geojson", sa.Text),
    sa.Column("source", sa.Text, nullable=False),  # JSON: data package, bundle sha256
)

INCIDENTS = sa.Table(
    "incidents", METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("track", sa.String(64), nullable=False),
    sa.Column("zone", sa.String(256), nullable=False),
    sa.Column("zone_kind", sa.String(16), nullable=False),
    sa.Column("also_in", sa.Text, nullable=False),  # JSON list of zone names
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
    sa.Index("ix_incidents_track", "track"),
    sa.Index("ix_incidents_state", "state", "violation"),
    sa.Index("ix_incidents_origin", "origin", "state"),
)

ENTRIES = sa.Table(
    "entries", METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"), nullable=False),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("zone", sa.String(256), nullable=False),
    sa.Column("zone_sha256", sa.String(64), sa.ForeignKey("zones.sha256")),
    sa.Column("track", sa.String(64), nullable=False),
    sa.Column("entered_at", TIME, nullable=False),
    sa.Column("exited_at", TIME),
    sa.Column("last_inside_at", TIME, nullable=False),
    #: the later of exited_at and last_inside_at: where a merge gap is measured from
    sa.Column("end_at", TIME, nullable=False),
    sa.Column("duration_s", TIME, nullable=False),
    sa.Column("max_depth_m", TIME, nullable=False),
    sa.Column("observations", sa.Integer, nullable=False),
    #: open (inside now), exited, ended_open (track lost or data ended while inside),
    #: stopped (a watcher stopped in order while the track was inside; it stays so when
    #: a later entry of the track takes over), interrupted (a watcher stopped without
    #: an exit, a crash, so the entry was left open; a later entry of the track took over)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("violation", sa.Boolean, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("record", sa.Text, nullable=False),  # the contract record, JSON
    sa.Index("ix_entries_track_end", "track", "end_at"),
    sa.Index("ix_entries_incident", "incident_id"),
)

STEPS = sa.Table(
    "steps", METADATA,
    sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("n", sa.Integer, primary_key=True),  # 1-based, in protocol order
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("after_s", TIME),  # null: do it now (no timer)
    sa.Column("due_at", TIME, nullable=False),
    sa.Column("done_at", TIME),
    sa.Column("done_by", sa.String(256)),
    sa.Column("escalated_at", TIME),
    sa.Index("ix_steps_due", "escalated_at", "done_at", "due_at"),
)

EVENTS = sa.Table(
    "events", METADATA,
    sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"), nullable=False),
    sa.Column("at", TIME, nullable=False),  # wall clock
    sa.Column("feed_at", TIME),  # the data's time, for what the watcher saw
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("operator", sa.String(256), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("data", sa.Text),  # JSON
    sa.Index("ix_events_incident", "incident_id", "seq"),
)

ALERTS = sa.Table(
    "alerts", METADATA,
    sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("incident_id", sa.String(32)),
    sa.Column("entry_id", sa.String(32)),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("feed_at", TIME),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # the JSON that goes out
    sa.Index("ix_alerts_incident", "incident_id", "seq"),
)

OUTBOX = sa.Table(
    "outbox", METADATA,
    sa.Column("alert_seq", SEQ, sa.ForeignKey("alerts.seq"), primary_key=True),
    sa.Column("sink", sa.String(1024), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # pending | delivered | rejected
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_try_at", TIME, nullable=False),
    sa.Column("delivered_at", TIME),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_outbox_sink_state", "sink", "state", "alert_seq"),
)

OBSERVATIONS = sa.Table(
    "observations", METADATA,
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

DOSSIERS = sa.Table(
    "dossiers", METADATA,
    sa.Column("incident_id", sa.String(32), sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # pending | built | failed
    sa.Column("requested_at", TIME, nullable=False),
    sa.Column("built_at", TIME),
    sa.Column("path", sa.Text),
    sa.Column("statement_sha256", sa.String(64)),
    sa.Column("error", sa.Text),
)

USERS = sa.Table(
    "users", METADATA,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),  # argon2id, PHC string
    sa.Column("role", sa.String(16), nullable=False),  # viewer | operator | admin
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
)

API_TOKENS = sa.Table(
    "api_tokens", METADATA,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("revoked_at", TIME),
    sa.Column("last_used_at", TIME),
)

AUTH_EVENTS = sa.Table(
    "auth_events", METADATA,
    sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
    sa.Column("at", TIME, nullable=False),  # wall clock
    sa.Column("actor", sa.String(256), nullable=False),
    #: user_added, user_removed, password_set, token_created, token_revoked, login,
    #: login_failed, setup
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("note", sa.Text),
)
