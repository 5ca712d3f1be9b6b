"""The message half of the SQL store: device messages in, telemetry sums and series out.

Each message's primary key is ``(device_id, msg_id)``: a resent message (after a broker or
server restart, or seen by two server instances) is stored once. A report also updates the
device's slots (only if it is newer than the state already stored) and the device's status in
the rollout it belongs to, in the same transaction as the report's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, or_, select, tuple_, update

from edgecraft.fleet.records import Anomaly, Message, Report, Telemetry, Totals
from edgecraft.fleet.schema import anomalies, devices, reports, rollout_devices, telemetry

#: What a device report does to the device's row in its rollout.
REPORT_STATUS = {
    "installed": "installed",
    "install_failed": "failed",
    "refused": "failed",
    "rolled_back": "rolled_back",
}
_TABLES: tuple[tuple[type, Any], ...] = ((Telemetry, telemetry), (Anomaly, anomalies), (Report, reports))


class MessageTables:
    """Device messages in SQL; mixed into :class:`edgecraft.fleet.store.Store`."""

    engine: Engine
    _insert: Any

    def ingest(self, messages: Sequence[Message]) -> int:
        """Store device messages; returns how many were new (resends are skipped)."""
        new = 0
        with self.engine.begin() as c:
            for kind, t in _TABLES:
                rows: dict[tuple[str, int], Any] = {}
                for m in messages:
                    if isinstance(m, kind):
                        rows[(m.device_id, m.msg_id)] = m
                keys = list(rows)
                for i in range(0, len(keys), 400):
                    chunk = keys[i : i + 400]
                    q = select(t.c.device_id, t.c.msg_id).where(tuple_(t.c.device_id, t.c.msg_id).in_(chunk))
                    for r in c.execute(q):
                        rows.pop((r[0], r[1]), None)  # stored before: a resend
                if not rows:
                    continue
                new += len(rows)
                values = [{k: getattr(m, k) for k in t.c.keys()} for m in rows.values()]  # noqa: SIM118
                # ON CONFLICT: another server instance may store the same resend at the same moment.
                c.execute(self._insert(t).on_conflict_do_nothing(), values)
                if kind is Report:
                    for m in sorted(rows.values(), key=lambda r: r.msg_id):
                        _apply_report(c, m)
            seen: dict[str, float] = {}
            for m in messages:
                seen[m.device_id] = max(seen.get(m.device_id, 0.0), m.ts)
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
    ) -> Totals:
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
            telemetry.c.escalated,
            telemetry.c.fallbacks,
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
        return Totals(
            messages=len(rows),
            inferences=sum(r.n for r in rows),
            errors=sum(r.errors for r in rows),
            labeled=sum(r.labeled for r in rows),
            correct=sum(r.correct for r in rows),
            p95_latency_ms=lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else 0.0,
            confidence=sum(r.confidence * r.n for r in rows) / max(1, sum(r.n for r in rows)),
            escalated=sum(r.escalated for r in rows),
            fallbacks=sum(r.fallbacks for r in rows),
        )

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

    def anomalies(self, limit: int = 100) -> list[Anomaly]:
        """The newest anomalies, newest first."""
        with self.engine.connect() as c:
            q = select(anomalies).order_by(anomalies.c.ts.desc()).limit(limit)
            return [Anomaly(**r) for r in c.execute(q).mappings()]

    def counts(self) -> dict[str, int]:
        """Rows per message table: what the server has ingested."""
        with self.engine.connect() as c:
            return {
                name: int(c.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in (("telemetry", telemetry), ("anomalies", anomalies), ("reports", reports))
            }

    def reports_for(self, device_id: str) -> list[Report]:
        """A device's reports in the order it sent them."""
        with self.engine.connect() as c:
            q = select(reports).where(reports.c.device_id == device_id).order_by(reports.c.msg_id)
            return [Report(**r) for r in c.execute(q).mappings()]


def _apply_report(c: Connection, r: Report) -> None:
    if r.state is not None:
        c.execute(
            update(devices)
            .where(devices.c.id == r.device_id, devices.c.state_seq < r.msg_id)
            .values(
                slot_a=r.state.slot_a,
                slot_b=r.state.slot_b,
                active_slot=r.state.active_slot,
                model_version=r.state.version,
                health=r.state.health,
                state_seq=r.msg_id,
                board=r.state.board,
                firmware=r.state.firmware,
                runtime=r.state.runtime,
            )
        )
    status = REPORT_STATUS.get(r.kind)
    if status and r.rollout_id is not None:
        values: dict[str, Any] = {"status": status, "detail": r.detail}
        if status == "installed":
            values["installed_at"] = r.ts
        c.execute(
            update(rollout_devices)
            .where(rollout_devices.c.rollout_id == r.rollout_id, rollout_devices.c.device_id == r.device_id)
            .values(**values)
        )
