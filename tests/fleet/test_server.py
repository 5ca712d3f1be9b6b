"""Server: admin and device authorization, restarts without loss, several instances on PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fleet_support import wait_for

from edgecraft.fleet.mqtt import Broker
from edgecraft.fleet.sim import Swarm, classifier_model, task_weights

pytestmark = pytest.mark.broker


def test_tokens_and_a_restart_without_loss(fleet_factory, server_factory) -> None:  # type: ignore[no-untyped-def]
    fleet = fleet_factory(5, server_args=("--resend", "1"))
    _check_tokens(fleet)
    state, port = fleet.server.state_dir, fleet.server.url.rsplit(":", 1)[1]
    time.sleep(1.0)
    log = fleet.server.stop()  # SIGTERM: the server stops, and the broker it started stops with it
    time.sleep(1.5)  # devices keep measuring and buffer their messages meanwhile
    again = server_factory(state, "--port", port)
    try:
        assert again.info["mqtt"] == fleet.server.info["mqtt"]  # same broker port: devices find it
        wait_for(lambda: fleet.swarm.totals()["connected"] == 5, 30, "devices to reconnect")
        fleet.swarm.quiet()
        wait_for(lambda: fleet.swarm.totals()["unacked"] == 0, 30, "the server to confirm every message")
        sent = fleet.swarm.totals()
        assert again.client.stats()["counts"] == {
            "telemetry": sent["telemetry"],
            "anomalies": sent["anomaly"],
            "reports": sent["report"],
        }
    finally:
        log += again.stop()
    secrets = [d["token"] for d in fleet.devices] + [(state / "admin.token").read_text().strip()]
    logs = log + (state / "mosquitto" / "mosquitto.log").read_text()
    assert not [s for s in secrets if s in logs]


@pytest.mark.postgres
def test_two_instances_on_postgres_and_one_broker(
    tmp_path: Path, broker: Broker, fresh_postgres: str, server_factory
) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    args = ("--port", "0", "--db", fresh_postgres, "--mqtt", f"127.0.0.1:{broker.port}", "--resend", "2")
    a = server_factory(state, *args, "--instance", "a")
    b = server_factory(state, *args, "--instance", "b")
    w = task_weights()
    a.client.publish(classifier_model(w), "1.0.0")
    b.client.publish(classifier_model(w * 1.05), "1.1.0")  # either instance: one database
    prov = a.client.provision(20, "pg")
    swarm = Swarm.factory(
        tmp_path / "devices",
        prov["devices"],
        prov,
        classifier_model(w),
        "1.0.0",
        [a.url, b.url],
        w,
        telemetry_s=0.3,
    )
    try:
        swarm.start()
        wait_for(lambda: all(d["model_version"] == "1.0.0" for d in b.client.devices()), 60, "boot reports")
        r = a.client.deploy("1.1.0", "all", "", "25,50,100", "error_rate<0.02,accuracy_drop<0.05")
        wait_for(lambda: b.client.rollout(r["id"])["stage"] >= 1, 60, "the first stage to pass")
        a.stop(kill=True)  # instance a dies mid-rollout; b carries the rollout on from the database
        done = wait_for(lambda: (x := b.client.rollout(r["id"]))["state"] != "running" and x, 90, "rollout")
        assert done["state"] == "completed"
        assert {d["model_version"] for d in b.client.devices()} == {"1.1.0"}
        swarm.quiet()
        wait_for(lambda: swarm.totals()["unacked"] == 0, 30, "the server to confirm every message")
        sent = swarm.totals()
        assert b.client.stats()["counts"] == {
            "telemetry": sent["telemetry"],
            "anomalies": sent["anomaly"],
            "reports": sent["report"],
        }
    finally:
        swarm.stop()


def _check_tokens(fleet) -> None:  # type: ignore[no-untyped-def]
    """Admin routes need the admin token; device routes a device token; the page itself no data."""
    url, dev = fleet.server.url, fleet.devices[0]["token"]
    admin = (fleet.server.state_dir / "admin.token").read_text().strip()
    assert (fleet.server.state_dir / "admin.token").stat().st_mode & 0o777 == 0o600
    with httpx.Client(base_url=url) as h:
        assert h.get("/api/devices").status_code == 401
        assert h.get("/api/devices", headers={"authorization": f"Bearer {dev}"}).status_code == 403
        assert h.get("/api/devices", headers={"authorization": "Bearer nope"}).status_code == 403
        assert h.get("/api/devices", headers={"authorization": f"Bearer {admin}"}).status_code == 200
        assert h.get("/api/artifacts/1.0.0").status_code == 401
        assert h.get("/api/artifacts/1.0.0", headers={"authorization": "Bearer nope"}).status_code == 403
        reg = h.post(
            "/api/device/register",
            json={"board": "esp32", "firmware": "2.1.0"},
            headers={"authorization": f"Bearer {dev}"},
        ).json()
        assert reg["id"] == fleet.devices[0]["id"] and len(reg["public_key"]) == 64 and reg["mqtt_port"] > 0
        got = h.get("/api/artifacts/1.0.0", headers={"authorization": f"Bearer {dev}"})
        assert got.status_code == 200 and got.content[:2] == b"PK"
        assert h.get("/").status_code == 200 and "fleet-table" in h.get("/").text  # the page holds no data
    listed = fleet.client.devices()
    assert all("token_hash" not in d and "mqtt_hash" not in d for d in listed)
