"""The fleet's state in one SQL database: :class:`Store` implements :class:`~.records.FleetStore`.

Written against SQLAlchemy Core, so the same code runs on an SQLite file (the default) and on
PostgreSQL (``postgresql://...``); it takes and returns the typed records of
:mod:`edgecraft.fleet.records`. Every message a device sends carries a ``(device_id, msg_id)``
pair that is the primary key of the row it lands in: a message resent after a broker or server
restart is inserted once (``ON CONFLICT DO NOTHING``), never counted twice. Rollouts carry a
revision number so several server instances can advance them safely (an update only applies to
the revision it read). Counters (publish numbers, per-device command numbers) are incremented
with ``UPDATE ... RETURNING``: atomic on both databases, so two instances never hand out the
same number.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    exc,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from edgecraft.fleet.ingest import MessageTables
from edgecraft.fleet.records import (
    Conflict,
    Delta,
    Device,
    Member,
    ModelVersion,
    NewDevice,
    Rollout,
)
from edgecraft.fleet.schema import (
    counters,
    deltas,
    devices,
    metadata,
    models,
    rollout_devices,
    rollouts,
)

_DEVICE_COLS = [c for c in devices.c if c.name not in ("token_hash", "mqtt_hash", "cmd_seq")]
_ROLLOUT_MUTABLE = ("stage", "state", "reason", "stage_results", "stage_started")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file (and its WAL companions) readable by the owner only."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:":
        return
    db = Path(path)
    if not db.exists() and db.parent.is_dir():
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite gives its WAL the same mode
    for p in (db, Path(path + "-wal"), Path(path + "-shm")):
        if p.exists():
            os.chmod(p, 0o600)


def make_engine(url: str) -> Engine:
    """An engine for ``url``: ``sqlite:///file.db`` or ``postgresql://user@host:port/db``."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        # hide_parameters: an error message never carries row values (token hashes) into a log.
        engine = create_engine(
            url, connect_args={"timeout": 60, "check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True, hide_parameters=True)


def _device(row: Any) -> Device:
    d = dict(row)
    d["group"] = d.pop("grp")
    return Device(**{f.name: d[f.name] for f in dataclasses.fields(Device)})


def _rollout(row: Any) -> Rollout:
    d = dict(row)
    d["group"] = d.pop("grp")
    return Rollout(**d)


def _row(record: Any, table: Any) -> dict[str, Any]:
    names = {"grp": "group"}  # "group" is an SQL keyword: the column is grp
    return {c: getattr(record, names.get(c, c)) for c in table.c.keys()}  # noqa: SIM118 - a ColumnCollection


def _upgrade(c: Connection) -> None:
    """Add what a database made by an older edgecraft lacks: devices' command counters and the
    versions' publish numbers (given in publish order)."""
    have = {t: {col["name"] for col in inspect(c).get_columns(t)} for t in ("devices", "models", "telemetry")}
    for col in ("escalated", "fallbacks"):  # the cascade's counts
        if col not in have["telemetry"]:
            c.execute(text(f"ALTER TABLE telemetry ADD COLUMN {col} INTEGER NOT NULL DEFAULT 0"))
    if "cmd_seq" not in have["devices"]:
        c.execute(text("ALTER TABLE devices ADD COLUMN cmd_seq BIGINT NOT NULL DEFAULT 0"))
    if "seq" not in have["models"]:
        c.execute(text("ALTER TABLE models ADD COLUMN seq BIGINT"))
        old = [r[0] for r in c.execute(text("SELECT version FROM models ORDER BY created"))]
        for i, version in enumerate(old, 1):
            c.execute(update(models).where(models.c.version == version).values(seq=i))
        c.execute(delete(counters).where(counters.c.name == "model_seq"))
        c.execute(counters.insert().values(name="model_seq", value=len(old)))


class Store(MessageTables):
    """All fleet state in one SQL database (SQLite or PostgreSQL, chosen by URL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        metadata.create_all(self.engine)
        self._insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        with self.engine.begin() as c:
            _upgrade(c)
            c.execute(self._insert(counters).values(name="model_seq", value=0).on_conflict_do_nothing())

    def close(self) -> None:
        self.engine.dispose()

    # devices -------------------------------------------------------------------------------
    def add_devices(self, new: Sequence[NewDevice]) -> None:
        now = time.time()
        rows = [
            {
                "id": d.id,
                "board": d.board,
                "grp": d.group,
                "tags": list(d.tags),
                "token_hash": d.token_hash,
                "mqtt_hash": d.mqtt_hash,
                "created": now,
            }
            for d in new
        ]
        try:
            with self.engine.begin() as c:
                taken = []
                ids = [r["id"] for r in rows]
                for i in range(0, len(ids), 500):
                    q = select(devices.c.id).where(devices.c.id.in_(ids[i : i + 500]))
                    taken += [r[0] for r in c.execute(q)]
                if taken:
                    raise Conflict(f"device {sorted(taken)[0]} exists already")
                if rows:
                    c.execute(devices.insert(), rows)
        except exc.IntegrityError:  # a duplicate inside the request, or another instance won a race
            raise Conflict("a device id in this request is taken or repeated") from None

    def device(self, device_id: str) -> Device | None:
        with self.engine.connect() as c:
            row = c.execute(select(*_DEVICE_COLS).where(devices.c.id == device_id)).mappings().first()
        return _device(row) if row else None

    def device_by_token(self, token_hash: str) -> Device | None:
        with self.engine.connect() as c:
            q = select(*_DEVICE_COLS).where(devices.c.token_hash == token_hash)
            row = c.execute(q).mappings().first()
        return _device(row) if row else None

    def devices(self, group: str | None = None) -> list[Device]:
        """Every device, sorted by id; only ``group`` when given."""
        q = select(*_DEVICE_COLS).order_by(devices.c.id)
        if group is not None:
            q = q.where(devices.c.grp == group)
        with self.engine.connect() as c:
            return [_device(r) for r in c.execute(q).mappings()]

    def mqtt_credentials(self) -> list[tuple[str, str]]:
        """(device id, mosquitto password hash) for every device: the broker's password file."""
        with self.engine.connect() as c:
            q = select(devices.c.id, devices.c.mqtt_hash).order_by(devices.c.id)
            return [(r.id, r.mqtt_hash) for r in c.execute(q)]

    def register_device(self, device_id: str, board: str, firmware: str, runtime: str) -> None:
        with self.engine.begin() as c:
            c.execute(
                update(devices)
                .where(devices.c.id == device_id)
                .values(board=board, firmware=firmware, runtime=runtime)
            )

    def next_command_seqs(self, device_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        ids = sorted(set(device_ids))  # one lock order for every instance: no deadlock
        with self.engine.begin() as c:
            for i in range(0, len(ids), 500):
                q = (
                    update(devices)
                    .where(devices.c.id.in_(ids[i : i + 500]))
                    .values(cmd_seq=devices.c.cmd_seq + 1)
                    .returning(devices.c.id, devices.c.cmd_seq)
                )
                out.update({r[0]: int(r[1]) for r in c.execute(q)})
        return out

    # models --------------------------------------------------------------------------------
    def add_model(self, model: ModelVersion, new_deltas: Sequence[Delta]) -> ModelVersion:
        try:
            with self.engine.begin() as c:
                if c.execute(select(models.c.version).where(models.c.version == model.version)).first():
                    raise Conflict(f"version {model.version!r} exists already; publish under a new version")
                seq = c.execute(
                    update(counters)
                    .where(counters.c.name == "model_seq")
                    .values(value=counters.c.value + 1)
                    .returning(counters.c.value)
                ).scalar_one()
                model = dataclasses.replace(model, seq=int(seq), created=time.time())
                c.execute(models.insert().values(**_row(model, models)))
                for d in new_deltas:
                    c.execute(deltas.insert().values(**_row(d, deltas)))
        except exc.IntegrityError:  # another instance published the same version meanwhile
            raise Conflict(f"version {model.version!r} exists already; publish under a new version") from None
        return dataclasses.replace(model, artifact=b"")

    def model(self, version: str, artifact: bool = False) -> ModelVersion | None:
        cols = [c for c in models.c if artifact or c.name not in ("artifact",)]
        with self.engine.connect() as c:
            row = c.execute(select(*cols).where(models.c.version == version)).mappings().first()
        return ModelVersion(**row) if row else None

    def models(self) -> list[ModelVersion]:
        """Every version without its artifact and manifest, oldest first."""
        cols = [c for c in models.c if c.name not in ("artifact", "manifest")]
        with self.engine.connect() as c:
            return [ModelVersion(**r) for r in c.execute(select(*cols).order_by(models.c.seq)).mappings()]

    def delta(self, base: str, target: str) -> Delta | None:
        with self.engine.connect() as c:
            row = c.execute(select(deltas).where(deltas.c.base == base, deltas.c.target == target))
            got = row.mappings().first()
        return Delta(**got) if got else None

    # rollouts ------------------------------------------------------------------------------
    def add_rollout(self, rollout: Rollout, members: Sequence[Member]) -> int:
        """Create a rollout (its id, rev and times are given here) and its devices; returns its id."""
        now = time.time()
        row = _row(dataclasses.replace(rollout, created=now, updated=now, stage_started=now, rev=0), rollouts)
        row.pop("id")
        with self.engine.begin() as c:
            key = c.execute(rollouts.insert().values(**row)).inserted_primary_key
            assert key is not None
            rid = int(key[0])
            if members:
                c.execute(
                    rollout_devices.insert(),
                    [_row(dataclasses.replace(m, rollout_id=rid), rollout_devices) for m in members],
                )
        return rid

    def rollout(self, rollout_id: int) -> Rollout | None:
        with self.engine.connect() as c:
            row = c.execute(select(rollouts).where(rollouts.c.id == rollout_id)).mappings().first()
        return _rollout(row) if row else None

    def rollouts(self, states: Iterable[str] | None = None) -> list[Rollout]:
        q = select(rollouts).order_by(rollouts.c.id)
        if states is not None:
            q = q.where(rollouts.c.state.in_(list(states)))
        with self.engine.connect() as c:
            return [_rollout(r) for r in c.execute(q).mappings()]

    def save_rollout(self, rollout: Rollout) -> bool:
        """Write the rollout's stage, state, reason and results if the stored one is still at
        ``rollout.rev`` (and advance its revision); False if another instance wrote first."""
        with self.engine.begin() as c:
            res = c.execute(
                update(rollouts)
                .where(rollouts.c.id == rollout.id, rollouts.c.rev == rollout.rev)
                .values(
                    rev=rollout.rev + 1,
                    updated=time.time(),
                    **{k: getattr(rollout, k) for k in _ROLLOUT_MUTABLE},
                )
            )
        return res.rowcount == 1

    def rollout_members(self, rollout_id: int) -> list[Member]:
        q = select(rollout_devices).where(rollout_devices.c.rollout_id == rollout_id)
        with self.engine.connect() as c:
            return [Member(**r) for r in c.execute(q.order_by(rollout_devices.c.device_id)).mappings()]

    def note_sent(
        self, rollout_id: int, device_ids: Sequence[str], status: str, unless: Sequence[str] = ()
    ) -> None:
        """Record that a command went out to these devices (time and one more attempt).

        Devices whose status became one of ``unless`` meanwhile (a report that arrived between
        reading and writing) keep it.
        """
        ids = list(device_ids)
        with self.engine.begin() as c:
            for i in range(0, len(ids), 500):
                c.execute(
                    update(rollout_devices)
                    .where(
                        rollout_devices.c.rollout_id == rollout_id,
                        rollout_devices.c.status.not_in(list(unless)),
                        rollout_devices.c.device_id.in_(ids[i : i + 500]),
                    )
                    .values(status=status, sent_at=time.time(), attempts=rollout_devices.c.attempts + 1)
                )
