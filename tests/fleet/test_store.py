"""The store's contract, run by one shared test class on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from edgecraft.fleet.records import (
    Anomaly,
    Conflict,
    Delta,
    DeviceState,
    Member,
    ModelVersion,
    NewDevice,
    Report,
    Rollout,
    Telemetry,
)
from edgecraft.fleet.store import Store


def _telemetry(
    device: str,
    msg_id: int,
    version: str = "v1",
    n: int = 8,
    correct: int = 8,
    errors: int = 0,
    latency: float = 1.0,
    ts: float | None = None,
) -> Telemetry:
    return Telemetry(
        device,
        msg_id,
        ts or time.time(),
        version,
        n,
        errors,
        latency,
        latency,
        0.9,
        n,
        correct,
        [n, 0, 0, 0],
        99.0,
    )


def _report(
    device: str,
    msg_id: int,
    kind: str,
    rollout_id: int | None,
    version: str,
    state: DeviceState | None = None,
) -> Report:
    return Report(device, msg_id, time.time(), kind, version, rollout_id, "", state)


def _model(version: str, structure: str = "s") -> ModelVersion:
    return ModelVersion(
        version,
        "a" * 64,
        "b" * 64,
        "c" * 128,
        3,
        ["esp32"],
        {"accuracy": 0.9},
        structure,
        manifest={"k": 1},
        artifact=b"zip",
    )


class StoreContract:
    """Every backend must pass these; subclasses provide the ``store`` fixture."""

    def _devices(self, store: Store, n: int = 3) -> None:
        store.add_devices(
            [
                NewDevice(f"d{i}", f"t{i}", f"h{i}", "nano33ble", "lab" if i % 2 else "field", ["eu"])
                for i in range(n)
            ]
        )

    def test_devices(self, store: Store) -> None:
        self._devices(store)
        assert [d.id for d in store.devices()] == ["d0", "d1", "d2"]
        assert [d.id for d in store.devices("lab")] == ["d1"]
        got = store.device_by_token("t2")
        assert got is not None and got.id == "d2" and got.tags == ["eu"] and got.group == "field"
        assert store.device_by_token("nope") is None
        assert store.mqtt_credentials() == [("d0", "h0"), ("d1", "h1"), ("d2", "h2")]
        with pytest.raises(Conflict, match="d1 exists already"):  # and nothing of the batch is stored
            store.add_devices([NewDevice("d9", "t9", "h9"), NewDevice("d1", "tx", "hx")])
        with pytest.raises(Conflict):  # the same id twice in one request
            store.add_devices([NewDevice("d8", "t8", "h8"), NewDevice("d8", "t7", "h7")])
        assert [d.id for d in store.devices()] == ["d0", "d1", "d2"]
        store.register_device("d0", "esp32", "2.0", "rt")
        d0 = store.device("d0")
        assert d0 is not None and (d0.board, d0.firmware, d0.runtime) == ("esp32", "2.0", "rt")

    def test_command_counters(self, store: Store) -> None:
        self._devices(store)
        assert store.next_command_seqs(["d0", "d1"]) == {"d0": 1, "d1": 1}
        assert store.next_command_seqs(["d0", "d0", "nope"]) == {"d0": 2}
        got: list[dict[str, int]] = []  # two "instances" at once: every number is handed out once
        threads = [
            threading.Thread(target=lambda: got.extend(store.next_command_seqs(["d2"]) for _ in range(20)))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(g["d2"] for g in got) == list(range(1, 41))

    def test_models_and_deltas(self, store: Store) -> None:
        d = Delta("v1", "v2", "d" * 64, "e" * 128, 1, b"x")
        first = store.add_model(_model("v1"), [])
        second = store.add_model(_model("v2"), [d])
        assert (first.seq, second.seq) == (1, 2)  # publish numbers: monotonic
        got = store.model("v1", artifact=True)
        assert got is not None and got.artifact == b"zip" and got.manifest == {"k": 1} and got.seq == 1
        assert store.model("v1") is not None and store.model("v1").artifact == b""  # type: ignore[union-attr]
        assert [m.version for m in store.models()] == ["v1", "v2"]
        assert store.delta("v1", "v2") == d
        assert store.delta("v2", "v1") is None
        # All or nothing: a version whose delta cannot be stored is not stored either.
        with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error
            store.add_model(_model("v3"), [d, d])
        assert store.model("v3") is None
        with pytest.raises(Conflict, match="exists already"):
            store.add_model(_model("v2"), [])
        assert store.add_model(_model("v4"), []).seq > 2

    def test_ingest_counts_each_message_once(self, store: Store) -> None:
        self._devices(store)
        batch = [_telemetry("d0", 1), _telemetry("d0", 2), _telemetry("d1", 1)]
        assert store.ingest(batch) == 3
        assert store.ingest([*batch, _telemetry("d1", 2, correct=4)]) == 1  # resends are skipped
        assert store.counts() == {"telemetry": 4, "anomalies": 0, "reports": 0}
        tot = store.telemetry_totals(["d0", "d1"])
        assert (tot.messages, tot.inferences, tot.labeled, tot.correct) == (4, 32, 32, 28)
        assert store.devices_reporting(["d0", "d1", "d2"], "v1", 0) == {"d0": 2, "d1": 2}
        d0 = store.device("d0")
        assert d0 is not None and d0.last_seen is not None

    def test_reports_update_device_and_rollout(self, store: Store) -> None:
        self._devices(store)
        rid = store.add_rollout(
            Rollout(0, "v2", "all", [1.0], {}, 0.1),
            [Member(0, "d0", 0, prev_version="v1"), Member(0, "d1", 0)],
        )
        state = DeviceState("v1", "v2", "b", "v2", "ok")
        store.ingest(
            [
                _report("d0", 5, "installed", rid, "v2", state),
                _report("d1", 5, "install_failed", rid, "v2", None),
            ]
        )
        members = {m.device_id: m for m in store.rollout_members(rid)}
        assert members["d0"].status == "installed" and members["d1"].status == "failed"
        assert members["d0"].prev_version == "v1"
        d0 = store.device("d0")
        assert d0 is not None and (d0.model_version, d0.active_slot, d0.slot_b) == ("v2", "b", "v2")
        old = DeviceState("v1", None, "a", "v1", "ok")
        store.ingest([_report("d0", 3, "boot", None, "v1", old)])  # late and older: ignored
        assert store.device("d0").model_version == "v2"  # type: ignore[union-attr]
        assert [r.kind for r in store.reports_for("d0")] == ["boot", "installed"]
        assert store.reports_for("d0")[1].state is None  # the state goes to the device row

    def test_rollout_revisions(self, store: Store) -> None:
        self._devices(store)
        spec = Rollout(0, "v2", "lab", [0.5, 1.0], {"error_rate": 0.1}, 0.1)
        rid = store.add_rollout(spec, [Member(0, "d0", 0), Member(0, "d1", 1)])
        r = store.rollout(rid)
        assert r is not None and (r.state, r.stage, r.rev, r.group) == ("running", 0, 0, "lab")
        assert store.save_rollout(dataclasses.replace(r, stage=1))
        assert not store.save_rollout(dataclasses.replace(r, stage=5))  # a stale read loses
        r = store.rollout(rid)
        assert r is not None and (r.stage, r.rev) == (1, 1)
        store.note_sent(rid, ["d0"], "sent")
        store.note_sent(rid, ["d0"], "sent")
        store.note_sent(rid, ["d0", "d1"], "rolling_back", unless=["sent"])
        m = store.rollout_members(rid)
        assert (m[0].status, m[0].attempts, m[1].status) == ("sent", 2, "rolling_back")
        assert [x.id for x in store.rollouts(states=["running"])] == [rid]

    def test_series_and_anomalies(self, store: Store) -> None:
        self._devices(store)
        t = 1_000_000.0
        store.ingest(
            [
                _telemetry("d0", 1, ts=t, latency=2.0),
                _telemetry("d0", 2, ts=t + 1, latency=4.0),
                _telemetry("d1", 1, ts=t + 10),
                Anomaly("d1", 2, t + 11, "v1", "low_confidence", 0.7, "1 of 8"),
            ]
        )
        s = store.telemetry_series(bucket_s=5.0)
        assert [b["inferences"] for b in s] == [16, 8]
        assert s[0]["latency_ms"] == pytest.approx(3.0) and s[1]["anomaly_rate"] == pytest.approx(1 / 8)
        assert [a.kind for a in store.anomalies()] == ["low_confidence"]


class TestSqlite(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path):  # type: ignore[no-untyped-def]
        s = Store(f"sqlite:///{tmp_path / 'fleet.db'}")
        yield s
        s.close()

    def test_database_file_is_private(self, store: Store, tmp_path: Path) -> None:
        self._devices(store)
        for p in tmp_path.glob("fleet.db*"):
            assert p.stat().st_mode & 0o777 == 0o600, p


@pytest.mark.postgres
class TestPostgres(StoreContract):
    @pytest.fixture
    def store(self, fresh_postgres: str):  # type: ignore[no-untyped-def]
        s = Store(fresh_postgres)
        yield s
        s.close()


def test_a_database_from_an_older_edgecraft_is_upgraded(tmp_path: Path) -> None:
    from sqlalchemy import MetaData, Table, insert

    from edgecraft.fleet.schema import devices, models
    from edgecraft.fleet.store import make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old, engine = MetaData(), make_engine(url)
    tables = {
        t.name: Table(t.name, old, *[c._copy() for c in t.c if c.name not in ("cmd_seq", "seq")])
        for t in (devices, models)
    }
    old.create_all(engine)
    row = _model("v1")
    with engine.begin() as c:
        c.execute(
            insert(tables["devices"]).values(id="d0", token_hash="t", mqtt_hash="h", created=1.0, tags=[])
        )
        for i, v in enumerate(("v1", "v0")):  # published v1 first
            values = {k: getattr(row, k) for k in tables["models"].c.keys()}  # noqa: SIM118
            c.execute(insert(tables["models"]).values({**values, "version": v, "created": float(i)}))
    engine.dispose()
    store = Store(url)
    try:
        assert [(m.version, m.seq) for m in store.models()] == [("v1", 1), ("v0", 2)]
        assert store.add_model(_model("v2"), []).seq == 3
        assert store.next_command_seqs(["d0"]) == {"d0": 1}
    finally:
        store.close()
