"""1,000 simulated devices: a good staged rollout reaches all, a bad one is stopped by its gate and
rolled back, and every telemetry message the agents sent is stored exactly once, with the broker
restarted in the middle."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fleet_support import wait_for

from edgecraft.fleet.mqtt import Broker
from edgecraft.fleet.sim import Swarm, classifier_model, task_weights

pytestmark = [pytest.mark.broker, pytest.mark.slow]
N = 1000
GATE = "error_rate<0.02,p95_latency_ms<50,accuracy_drop<0.03"


def test_thousand_devices_rollout_rollback_and_zero_loss(
    tmp_path: Path, broker: Broker, server_factory
) -> None:  # type: ignore[no-untyped-def]
    t0 = time.time()
    server = server_factory(
        tmp_path / "state", "--port", "0", "--mqtt", f"127.0.0.1:{broker.port}", "--resend", "15"
    )
    c = server.client
    w = task_weights()
    c.publish(classifier_model(w), "1.0.0")
    c.publish(classifier_model(w * 1.05), "1.1.0")  # same decisions, new weights
    c.publish(classifier_model(w[[1, 0, 3, 2]]), "1.2.0-bad")  # runs fine, classes swapped
    prov = c.provision(N, "sim")
    swarm = Swarm.factory(
        tmp_path / "devices",
        prov["devices"],
        prov,
        classifier_model(w),
        "1.0.0",
        [server.url],
        w,
        telemetry_s=4.0,
        glitch=0.002,
    )
    try:
        swarm.start()
        wait_for(lambda: swarm.totals()["connected"] == N, 60, "1000 devices to connect")
        wait_for(lambda: all(d["model_version"] == "1.0.0" for d in c.devices()), 60, "boot reports")
        t_ready = time.time()

        good = c.deploy("1.1.0", "all", "5%", "25,50,100", GATE)
        wait_for(lambda: c.rollout(good["id"])["stage"] >= 2, 120, "the first stages to pass")
        broker.restart(down_s=1.0)  # mid-rollout; devices and server reconnect and resend
        good = wait_for(lambda: (r := c.rollout(good["id"]))["state"] != "running" and r, 240, "good rollout")
        assert good["state"] == "completed", good["reason"]
        assert [s["status"] for s in good["stages"]] == [{"installed": n} for n in (50, 200, 250, 500)]
        t_good = time.time()

        bad = c.deploy("1.2.0-bad", "all", "5%", "25,50,100", GATE)
        bad = wait_for(
            lambda: (r := c.rollout(bad["id"]))["state"] in ("completed", "rolled_back") and r,
            60,
            "bad rollout",
        )
        assert bad["state"] == "rolled_back" and "gate failed at stage 0: accuracy_drop" in bad["reason"]
        assert bad["stages"][0]["status"] == {"rolled_back": 50}
        assert all(s["status"] == {"pending": s["devices"]} for s in bad["stages"][1:])

        # Every device runs the good version from an intact slot, on disk and as the server sees it.
        for a in swarm.agents:
            assert a.slots.version(a.slots.active) == "1.1.0" and a.slots.intact(a.slots.active), (
                a.cfg.device_id
            )
        devices = wait_for(
            lambda: (ds := c.devices()) and all(d["model_version"] == "1.1.0" for d in ds) and ds,
            20,
            "the server to see every device on 1.1.0",
        )
        assert {d["health"] for d in devices} == {"ok"}

        swarm.quiet()
        wait_for(lambda: swarm.totals()["unacked"] == 0, 30, "the server to confirm every message")
        sent = swarm.totals()
        assert sent["dropped"] == 0
        assert c.stats()["counts"] == {
            "telemetry": sent["telemetry"],
            "anomalies": sent["anomaly"],
            "reports": sent["report"],
        }
        print(
            f"\nready {t_ready - t0:.1f} s, good rollout {t_good - t_ready:.1f} s, bad rollout and drain "
            f"{time.time() - t_good:.1f} s, {sent['telemetry']} telemetry messages"
        )
    finally:
        swarm.stop()
    log = server.stop()
    tokens = [d["token"] for d in prov["devices"]] + [
        (tmp_path / "state" / "admin.token").read_text().strip()
    ]
    logs = log + (broker.directory / "mosquitto.log").read_text()
    assert not [t for t in tokens if t in logs], "a secret reached a log"
