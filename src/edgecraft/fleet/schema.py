"""The fleet's tables (SQLAlchemy Core): one schema for SQLite and PostgreSQL.

Numbers that must grow across restarts and server instances (the publish number of model
versions, each device's command counter) are incremented in the database, in the transaction
that uses them.

Device messages (telemetry, anomalies, reports) are keyed by ``(device_id, msg_id)``, so a
message resent after a restart lands on the row it already has.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()

devices = Table(
    "devices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("board", String(64), nullable=False, default=""),
    Column("firmware", String(64), nullable=False, default=""),
    Column("runtime", String(64), nullable=False, default=""),
    Column("grp", String(64), nullable=False, default="default", index=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("slot_a", String(64)),
    Column("slot_b", String(64)),
    Column("active_slot", String(1)),
    Column("model_version", String(64)),
    Column("health", String(16), nullable=False, default="unknown"),
    Column("state_seq", BigInteger, nullable=False, default=-1),
    Column("last_seen", Float),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("mqtt_hash", Text, nullable=False),
    Column("cmd_seq", BigInteger, nullable=False, default=0),  # the last command number sent to it
    Column("created", Float, nullable=False),
)
models = Table(
    "models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),  # publish number, from counters
    Column("sha256", String(64), nullable=False),
    Column("model_sha256", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("size", Integer, nullable=False),
    Column("boards", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("manifest", JSON, nullable=False),
    Column("structure", String(64), nullable=False),
    Column("artifact", LargeBinary, nullable=False),
    Column("created", Float, nullable=False),
)
deltas = Table(
    "deltas",
    metadata,
    Column("base", String(64), primary_key=True),
    Column("target", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("size", Integer, nullable=False),
    Column("artifact", LargeBinary, nullable=False),
)
rollouts = Table(
    "rollouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False),
    Column("grp", String(64), nullable=False),
    Column("stages", JSON, nullable=False),  # cumulative fractions, e.g. [0.05, 0.25, 0.5, 1.0]
    Column("gate", JSON, nullable=False),  # {"error_rate": 0.02, ...}: metric < bound must hold
    Column("max_install_failures", Float, nullable=False),
    Column("stage", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False, default="running"),
    Column("reason", Text, nullable=False, default=""),
    Column("stage_results", JSON, nullable=False, default=list),
    Column("rev", Integer, nullable=False, default=0),
    Column("stage_started", Float, nullable=False),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
)
rollout_devices = Table(
    "rollout_devices",
    metadata,
    Column("rollout_id", Integer, primary_key=True),
    Column("device_id", String(64), primary_key=True),
    Column("stage", Integer, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("prev_version", String(64)),
    Column("sent_at", Float),
    Column("installed_at", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("detail", Text, nullable=False, default=""),
)
telemetry = Table(
    "telemetry",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("msg_id", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Float, nullable=False, index=True),
    Column("version", String(64)),
    Column("n", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("latency_mean_ms", Float, nullable=False),
    Column("latency_p95_ms", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("labeled", Integer, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("histogram", JSON, nullable=False),
    Column("battery", Float),
    Column("escalated", Integer, nullable=False, server_default="0"),  # the cascade
    Column("fallbacks", Integer, nullable=False, server_default="0"),
)
anomalies = Table(
    "anomalies",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("msg_id", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Float, nullable=False, index=True),
    Column("version", String(64)),
    Column("kind", String(32), nullable=False),
    Column("score", Float, nullable=False),
    Column("detail", Text, nullable=False),
)
reports = Table(
    "reports",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("msg_id", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("version", String(64)),
    Column("rollout_id", Integer),
    Column("detail", Text, nullable=False),
)
counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
