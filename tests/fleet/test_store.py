"""The store's contract, run by one shared test class on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

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
) -> dict:
    return {
        "kind": "telemetry",
        "row": {
            "device_id": device,
            "msg_id": msg_id,
            "ts": ts or time.time(),
            "version": version,
            "n": n,
            "errors": errors,
            "latency_mean_ms": latency,
            "latency_p95_ms": latency,
            "confidence": 0.9,
            "labeled": n,
            "correct": correct,
            "histogram": [n, 0, 0, 0],
            "battery": 99.0,
        },
    }


def _report(
    device: str, msg_id: int, kind: str, rollout_id: int | None, version: str, state: dict | None = None
) -> dict:
    return {
        "kind": "report",
        "row": {
            "device_id": device,
            "msg_id": msg_id,
            "ts": time.time(),
            "kind": kind,
            "version": version,
            "rollout_id": rollout_id,
            "detail": "",
        },
        "state": state,
    }


class StoreContract:
    """Every backend must pass these; subclasses provide the ``store`` fixture."""

    def _devices(self, store: Store, n: int = 3) -> None:
        store.add_devices(
            [
                {
                    "id": f"d{i}",
                    "board": "nano33ble",
                    "grp": "lab" if i % 2 else "field",
                    "tags": ["eu"],
                    "token_hash": f"t{i}",
                    "mqtt_hash": f"h{i}",
                }
                for i in range(n)
            ]
        )

    def test_devices(self, store: Store) -> None:
        self._devices(store)
        assert [d["id"] for d in store.devices()] == ["d0", "d1", "d2"]
        assert [d["id"] for d in store.devices("lab")] == ["d1"]
        assert "token_hash" not in store.devices()[0]
        got = store.device_by_token("t2")
        assert got is not None and got["id"] == "d2" and got["tags"] == ["eu"]
        assert store.device_by_token("nope") is None
        assert store.mqtt_credentials() == [("d0", "h0"), ("d1", "h1"), ("d2", "h2")]

    def test_models_and_deltas(self, store: Store) -> None:
        row = {
            "version": "v1",
            "sha256": "a" * 64,
            "model_sha256": "b" * 64,
            "signature": "c" * 128,
            "size": 3,
            "boards": ["esp32"],
            "metrics": {"accuracy": 0.9},
            "manifest": {"k": 1},
            "structure": "s",
            "artifact": b"zip",
        }
        store.add_model(row)
        assert store.model("v1", artifact=True)["artifact"] == b"zip"
        assert "artifact" not in store.model("v1")
        assert [m["version"] for m in store.models()] == ["v1"]
        d = {
            "base": "v0",
            "target": "v1",
            "sha256": "d" * 64,
            "signature": "e" * 128,
            "size": 1,
            "artifact": b"x",
        }
        store.add_delta(d)
        store.add_delta(d)  # a second server instance making the same delta: no error, one row
        assert store.delta("v0", "v1")["artifact"] == b"x"
        assert store.delta("v1", "v0") is None

    def test_ingest_counts_each_message_once(self, store: Store) -> None:
        self._devices(store)
        batch = [_telemetry("d0", 1), _telemetry("d0", 2), _telemetry("d1", 1)]
        assert store.ingest(batch) == 3
        assert store.ingest([*batch, _telemetry("d1", 2, correct=4)]) == 1  # resends are skipped
        assert store.counts() == {"telemetry": 4, "anomalies": 0, "reports": 0}
        tot = store.telemetry_totals(["d0", "d1"])
        assert (tot["messages"], tot["inferences"], tot["labeled"], tot["correct"]) == (4, 32, 32, 28)
        assert store.devices_reporting(["d0", "d1", "d2"], "v1", 0) == {"d0": 2, "d1": 2}
        assert store.device("d0")["last_seen"] is not None

    def test_reports_update_device_and_rollout(self, store: Store) -> None:
        self._devices(store)
        rid = store.add_rollout(
            {"version": "v2", "grp": "all", "stages": [1.0], "gate": {}, "max_install_failures": 0.1},
            [("d0", 0, "v1"), ("d1", 0, "v1")],
        )
        state = {"slot_a": "v1", "slot_b": "v2", "active_slot": "b", "version": "v2", "health": "ok"}
        store.ingest(
            [
                _report("d0", 5, "installed", rid, "v2", state),
                _report("d1", 5, "install_failed", rid, "v2", None),
            ]
        )
        members = {m["device_id"]: m for m in store.rollout_members(rid)}
        assert members["d0"]["status"] == "installed" and members["d1"]["status"] == "failed"
        d0 = store.device("d0")
        assert (d0["model_version"], d0["active_slot"], d0["slot_b"]) == ("v2", "b", "v2")
        old = {"slot_a": "v1", "slot_b": None, "active_slot": "a", "version": "v1", "health": "ok"}
        store.ingest([_report("d0", 3, "boot", None, "v1", old)])  # late and older: ignored
        assert store.device("d0")["model_version"] == "v2"

    def test_rollout_revisions(self, store: Store) -> None:
        self._devices(store)
        rid = store.add_rollout(
            {
                "version": "v2",
                "grp": "all",
                "stages": [0.5, 1.0],
                "gate": {"error_rate": 0.1},
                "max_install_failures": 0.1,
            },
            [("d0", 0, None), ("d1", 1, None)],
        )
        r = store.rollout(rid)
        assert (r["state"], r["stage"], r["rev"]) == ("running", 0, 0)
        assert store.update_rollout(rid, 0, stage=1)
        assert not store.update_rollout(rid, 0, stage=5)  # a second instance with a stale read loses
        assert store.rollout(rid)["stage"] == 1
        store.note_sent(rid, ["d0"], "sent")
        store.note_sent(rid, ["d0"], "sent")
        m = store.rollout_members(rid)[0]
        assert (m["status"], m["attempts"]) == ("sent", 2)
        assert [x["id"] for x in store.rollouts(states=["running"])] == [rid]

    def test_series_and_anomalies(self, store: Store) -> None:
        self._devices(store)
        t = 1_000_000.0
        store.ingest(
            [
                _telemetry("d0", 1, ts=t, latency=2.0),
                _telemetry("d0", 2, ts=t + 1, latency=4.0),
                _telemetry("d1", 1, ts=t + 10),
                {
                    "kind": "anomaly",
                    "row": {
                        "device_id": "d1",
                        "msg_id": 2,
                        "ts": t + 11,
                        "version": "v1",
                        "kind": "low_confidence",
                        "score": 0.7,
                        "detail": "1 of 8",
                    },
                },
            ]
        )
        s = store.telemetry_series(bucket_s=5.0)
        assert [b["inferences"] for b in s] == [16, 8]
        assert s[0]["latency_ms"] == pytest.approx(3.0) and s[1]["anomaly_rate"] == pytest.approx(1 / 8)
        assert [a["kind"] for a in store.anomalies()] == ["low_confidence"]


class TestSqlite(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path):  # type: ignore[no-untyped-def]
        s = Store(f"sqlite:///{tmp_path / 'fleet.db'}")
        yield s
        s.close()


@pytest.mark.postgres
class TestPostgres(StoreContract):
    @pytest.fixture
    def store(self, fresh_postgres: str):  # type: ignore[no-untyped-def]
        s = Store(fresh_postgres)
        yield s
        s.close()
