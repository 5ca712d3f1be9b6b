"""The fleet's state behind one interface: devices, model versions, rollouts, telemetry, anomalies.

:class:`Store` is written against SQLAlchemy Core, so the same code runs on an SQLite file (the
default) and on PostgreSQL (``postgresql://...``). Every message a device sends carries a
``(device_id, msg_id)`` pair that is the primary key of the row it lands in: a message resent
after a broker or server restart is inserted once (``ON CONFLICT DO NOTHING``), never counted
twice. Rollouts carry a revision number so several server instances can advance them safely
(optimistic concurrency: an update only applies to the revision it read).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from edgecraft.fleet.schema import (
    anomalies,
    deltas,
    devices,
    metadata,
    models,
    reports,
    rollout_devices,
    rollouts,
    telemetry,
)

#: What a device report does to the device's row in its rollout.
REPORT_STATUS = {
    "installed": "installed",
    "install_failed": "failed",
    "refused": "failed",
    "rolled_back": "rolled_back",
}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``: ``sqlite:///file.db`` or ``postgresql://user@host:port/db``."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


class Store:
    """All fleet state, in one SQL database (SQLite or PostgreSQL, chosen by URL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        metadata.create_all(self.engine)
        self._insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    def close(self) -> None:
        self.engine.dispose()

    # devices -------------------------------------------------------------------------------
    def add_devices(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert devices (each with id, token_hash, mqtt_hash and optional board, grp, tags...)."""
        now = time.time()
        with self.engine.begin() as c:
            c.execute(devices.insert(), [{"created": now, "tags": [], **r} for r in rows])

    def device(self, device_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(devices).where(devices.c.id == device_id)).mappings().first()
        return dict(row) if row else None

    def device_by_token(self, token_hash: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(devices).where(devices.c.token_hash == token_hash)).mappings().first()
        return dict(row) if row else None

    def devices(self, group: str | None = None) -> list[dict[str, Any]]:
        """Every device (without credentials), sorted by id; only ``group`` when given."""
        cols = [c for c in devices.c if c.name not in ("token_hash", "mqtt_hash")]
        q = select(*cols).order_by(devices.c.id)
        if group is not None:
            q = q.where(devices.c.grp == group)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def mqtt_credentials(self) -> list[tuple[str, str]]:
        """(device id, mosquitto password hash) for every device: the broker's password file."""
        with self.engine.connect() as c:
            return [(r.id, r.mqtt_hash) for r in c.execute(select(devices.c.id, devices.c.mqtt_hash))]

    def update_device(self, device_id: str, **fields: Any) -> None:
        with self.engine.begin() as c:
            c.execute(update(devices).where(devices.c.id == device_id).values(**fields))

    # models --------------------------------------------------------------------------------
    def add_model(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(models.insert().values(created=time.time(), **row))

    def model(self, version: str, artifact: bool = False) -> dict[str, Any] | None:
        cols = [c for c in models.c if artifact or c.name != "artifact"]
        with self.engine.connect() as c:
            row = c.execute(select(*cols).where(models.c.version == version)).mappings().first()
        return dict(row) if row else None

    def models(self) -> list[dict[str, Any]]:
        cols = [c for c in models.c if c.name not in ("artifact", "manifest")]
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(*cols).order_by(models.c.created)).mappings()]

    def delta(self, base: str, target: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(deltas).where(deltas.c.base == base, deltas.c.target == target))
            got = row.mappings().first()
        return dict(got) if got else None

    def add_delta(self, row: dict[str, Any]) -> None:
        """Insert a delta; a concurrent identical insert (another server instance) is a no-op."""
        with self.engine.begin() as c:
            c.execute(self._insert(deltas).values(**row).on_conflict_do_nothing())

    # rollouts ------------------------------------------------------------------------------
    def add_rollout(self, row: dict[str, Any], members: Sequence[tuple[str, int, str | None]]) -> int:
        """Create a rollout and its devices ``(device_id, stage, prev_version)``; returns its id."""
        now = time.time()
        with self.engine.begin() as c:
            key = c.execute(
                rollouts.insert().values(created=now, updated=now, stage_started=now, stage_results=[], **row)
            ).inserted_primary_key
            assert key is not None
            rid = key[0]
            if members:
                c.execute(
                    rollout_devices.insert(),
                    [
                        {"rollout_id": rid, "device_id": d, "stage": s, "prev_version": p}
                        for d, s, p in members
                    ],
                )
        return int(rid)

    def rollout(self, rollout_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(rollouts).where(rollouts.c.id == rollout_id)).mappings().first()
        return dict(row) if row else None

    def rollouts(self, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
        q = select(rollouts).order_by(rollouts.c.id)
        if states is not None:
            q = q.where(rollouts.c.state.in_(list(states)))
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def update_rollout(self, rollout_id: int, rev: int, **fields: Any) -> bool:
        """Apply ``fields`` if the rollout is still at revision ``rev``; False if another won."""
        with self.engine.begin() as c:
            res = c.execute(
                update(rollouts)
                .where(rollouts.c.id == rollout_id, rollouts.c.rev == rev)
                .values(rev=rev + 1, updated=time.time(), **fields)
            )
        return res.rowcount == 1

    def rollout_members(self, rollout_id: int) -> list[dict[str, Any]]:
        q = select(rollout_devices).where(rollout_devices.c.rollout_id == rollout_id)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q.order_by(rollout_devices.c.device_id)).mappings()]

    def mark_members(self, rollout_id: int, device_ids: Sequence[str], **fields: Any) -> None:
        if not device_ids:
            return
        with self.engine.begin() as c:
            c.execute(
                update(rollout_devices)
                .where(
                    rollout_devices.c.rollout_id == rollout_id,
                    rollout_devices.c.device_id.in_(list(device_ids)),
                )
                .values(**fields)
            )

    def note_sent(
        self, rollout_id: int, device_ids: Sequence[str], status: str, unless: Sequence[str] = ()
    ) -> None:
        """Record that a command went out to these devices (time and one more attempt).

        Devices whose status became one of ``unless`` meanwhile (a report that arrived between
        reading and writing) keep it.
        """
        if not device_ids:
            return
        with self.engine.begin() as c:
            c.execute(
                update(rollout_devices)
                .where(
                    rollout_devices.c.rollout_id == rollout_id,
                    rollout_devices.c.status.not_in(list(unless)),
                    rollout_devices.c.device_id.in_(list(device_ids)),
                )
                .values(status=status, sent_at=time.time(), attempts=rollout_devices.c.attempts + 1)
            )

    # messages from devices -----------------------------------------------------------------
    def ingest(self, messages: Sequence[dict[str, Any]]) -> int:
        """Store device messages (``kind`` telemetry, anomaly or report); returns how many were new.

        A message already stored (same device and msg_id) is skipped, so resends count once.
        Reports also update the device's slots and its status in the rollout they belong to.
        """
        new = 0
        table = {"telemetry": telemetry, "anomaly": anomalies, "report": reports}
        with self.engine.begin() as c:
            for kind, t in table.items():
                rows: dict[tuple[str, int], dict[str, Any]] = {}
                states = {}
                for m in messages:
                    if m["kind"] == kind:
                        key = (m["row"]["device_id"], m["row"]["msg_id"])
                        rows[key] = {col: m["row"].get(col) for col in t.c.keys()}  # noqa: SIM118 - a ColumnCollection
                        states[key] = m.get("state") or {}
                for i in range(0, len(rows), 400):
                    keys = list(rows)[i : i + 400]
                    q = select(t.c.device_id, t.c.msg_id).where(tuple_(t.c.device_id, t.c.msg_id).in_(keys))
                    for r in c.execute(q):
                        rows.pop((r[0], r[1]), None)  # stored before: a resend
                if not rows:
                    continue
                new += len(rows)
                # ON CONFLICT: another server instance may store the same resend at the same moment.
                c.execute(self._insert(t).on_conflict_do_nothing(), list(rows.values()))
                if kind == "report":
                    for key, row in sorted(rows.items(), key=lambda kv: kv[0][1]):
                        self._apply_report(c, row, states[key])
            seen: dict[str, float] = {}
            for m in messages:
                seen[m["row"]["device_id"]] = max(seen.get(m["row"]["device_id"], 0.0), m["row"]["ts"])
            if seen:
                ts: Any = bindparam("seen_ts")
                c.execute(
                    update(devices)
                    .where(
                        devices.c.id == bindparam("seen_id"),
                        or_(devices.c.last_seen.is_(None), devices.c.last_seen < ts),
                    )
                    .values(last_seen=ts),
                    [{"seen_id": k, "seen_ts": v} for k, v in seen.items()],
                )
        return new

    def _apply_report(self, c: Any, row: dict[str, Any], state: dict[str, Any]) -> None:
        if state:
            c.execute(
                update(devices)
                .where(devices.c.id == row["device_id"], devices.c.state_seq < row["msg_id"])
                .values(
                    slot_a=state.get("slot_a"),
                    slot_b=state.get("slot_b"),
                    active_slot=state.get("active_slot"),
                    model_version=state.get("version"),
                    health=state.get("health", "ok"),
                    state_seq=row["msg_id"],
                    board=state.get("board", ""),
                    firmware=state.get("firmware", ""),
                    runtime=state.get("runtime", ""),
                )
            )
        status = REPORT_STATUS.get(row["kind"])
        if status and row.get("rollout_id") is not None:
            values: dict[str, Any] = {"status": status, "detail": row.get("detail", "")}
            if status == "installed":
                values["installed_at"] = row["ts"]
            c.execute(
                update(rollout_devices)
                .where(
                    rollout_devices.c.rollout_id == row["rollout_id"],
                    rollout_devices.c.device_id == row["device_id"],
                )
                .values(**values)
            )

    def devices_reporting(self, device_ids: Sequence[str], version: str, since: float) -> dict[str, int]:
        """Telemetry messages per device on ``version`` since ``since`` (devices with none omitted)."""
        out: dict[str, int] = {}
        ids = list(device_ids)
        with self.engine.connect() as c:
            for i in range(0, len(ids), 500):
                q = (
                    select(telemetry.c.device_id, func.count())
                    .where(
                        telemetry.c.device_id.in_(ids[i : i + 500]),
                        telemetry.c.version == version,
                        telemetry.c.ts >= since,
                    )
                    .group_by(telemetry.c.device_id)
                )
                out.update({r[0]: int(r[1]) for r in c.execute(q)})
        return out

    def telemetry_totals(
        self,
        device_ids: Sequence[str] | None = None,
        version: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> dict[str, Any]:
        """Sums over telemetry rows: messages, inferences, errors, labeled, correct; p95 latency.

        The p95 is the 95th percentile of the per-message p95 latencies (a conservative bound).
        """
        q = select(
            telemetry.c.n,
            telemetry.c.errors,
            telemetry.c.labeled,
            telemetry.c.correct,
            telemetry.c.latency_p95_ms,
            telemetry.c.confidence,
        )
        if version is not None:
            q = q.where(telemetry.c.version == version)
        if since is not None:
            q = q.where(telemetry.c.ts >= since)
        if until is not None:
            q = q.where(telemetry.c.ts < until)
        rows: list[Any] = []
        with self.engine.connect() as c:
            if device_ids is None:
                rows = list(c.execute(q))
            else:
                ids = list(device_ids)
                for i in range(0, len(ids), 500):
                    rows += list(c.execute(q.where(telemetry.c.device_id.in_(ids[i : i + 500]))))
        lat = sorted(r.latency_p95_ms for r in rows)
        return {
            "messages": len(rows),
            "inferences": sum(r.n for r in rows),
            "errors": sum(r.errors for r in rows),
            "labeled": sum(r.labeled for r in rows),
            "correct": sum(r.correct for r in rows),
            "p95_latency_ms": lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else 0.0,
            "confidence": sum(r.confidence * r.n for r in rows) / max(1, sum(r.n for r in rows)),
        }

    def telemetry_series(self, bucket_s: float, limit: int = 60) -> list[dict[str, Any]]:
        """Telemetry and anomalies per time bucket (the newest ``limit`` buckets), oldest first."""
        with self.engine.connect() as c:
            rows = list(
                c.execute(
                    select(telemetry.c.ts, telemetry.c.n, telemetry.c.latency_mean_ms, telemetry.c.confidence)
                )
            )
            anom = list(c.execute(select(anomalies.c.ts)))
        buckets: dict[int, dict[str, float]] = {}
        for r in rows:
            b = buckets.setdefault(int(r.ts // bucket_s), {"n": 0, "lat": 0.0, "conf": 0.0, "anom": 0})
            b["n"] += r.n
            b["lat"] += r.latency_mean_ms * r.n
            b["conf"] += r.confidence * r.n
        for r in anom:
            buckets.setdefault(int(r.ts // bucket_s), {"n": 0, "lat": 0.0, "conf": 0.0, "anom": 0})
            buckets[int(r.ts // bucket_s)]["anom"] += 1
        out = []
        for k in sorted(buckets)[-limit:]:
            b = buckets[k]
            n = max(b["n"], 1)
            out.append(
                {
                    "t": k * bucket_s,
                    "inferences": int(b["n"]),
                    "latency_ms": b["lat"] / n,
                    "confidence": b["conf"] / n,
                    "anomaly_rate": b["anom"] / n,
                }
            )
        return out

    def anomalies(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            q = select(anomalies).order_by(anomalies.c.ts.desc()).limit(limit)
            return [dict(r) for r in c.execute(q).mappings()]

    def counts(self) -> dict[str, int]:
        """Rows per message table: what the server has ingested."""
        with self.engine.connect() as c:
            return {
                name: int(c.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in (("telemetry", telemetry), ("anomalies", anomalies), ("reports", reports))
            }

    def reports_for(self, device_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            q = select(reports).where(reports.c.device_id == device_id).order_by(reports.c.msg_id)
            return [dict(r) for r in c.execute(q).mappings()]
