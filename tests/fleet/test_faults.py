"""Crash-only fleet server, with real processes: kill -9 of the server mid-rollout and of its
broker (``kill``: SIGTERM, after which mosquitto has saved its queue); afterwards nothing
acknowledged is lost, the rollout finishes, devices are back."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from fleet_support import wait_for

from edgecraft.fleet.sim import classifier_model, task_weights

pytestmark = pytest.mark.broker


def _brokers(conf: Path) -> list[int]:
    """Pids of every mosquitto running with this configuration file."""
    pids = []
    for p in Path("/proc").iterdir():
        try:
            mine = p.name.isdigit() and str(conf).encode() in (p / "cmdline").read_bytes()
            if mine and (p / "stat").read_text().split(") ")[-1][:1] != "Z":  # not a zombie
                pids.append(int(p.name))
        except OSError:
            pass
    return pids


def _all_stored(fleet, client) -> None:  # type: ignore[no-untyped-def]
    """Stop telemetry, wait until the broker acknowledged everything, then compare counts."""
    fleet.swarm.quiet()
    wait_for(lambda: fleet.swarm.totals()["unacked"] == 0, 30, "buffered messages to go out")
    sent = fleet.swarm.totals()
    counts = wait_for(
        lambda: (
            (n := client.stats()["counts"])["telemetry"] >= sent["telemetry"]
            and n["reports"] >= sent["report"]
            and n
        ),
        30,
        "every message to be stored",
    )
    assert counts == {"telemetry": sent["telemetry"], "anomalies": sent["anomaly"], "reports": sent["report"]}


def test_server_killed_mid_rollout(fleet_factory, server_factory) -> None:  # type: ignore[no-untyped-def]
    w = task_weights()
    fleet = fleet_factory(6, models={"1.0.0": classifier_model(w), "1.1.0": classifier_model(w * 1.05)})
    state, port = fleet.server.state_dir, fleet.server.url.rsplit(":", 1)[1]
    conf = state / "mosquitto" / "mosquitto.conf"
    first = fleet.client.stats()["instance"]
    r = fleet.client.deploy("1.1.0", "all", "", "34,100", "error_rate<0.02")
    wait_for(
        lambda: fleet.client.rollout(r["id"])["stages"][0]["status"].get("installed"), 30, "a first install"
    )
    [stale] = _brokers(conf)
    fleet.server.stop(kill=True)  # kill -9: no clean-up at all; its broker keeps running
    time.sleep(1.0)
    assert _brokers(conf) == [stale]
    again = server_factory(state, "--port", port, "--resend", "1")
    # Same broker port (devices know only that one), the stale broker replaced, never two.
    assert again.info["mqtt"] == fleet.server.info["mqtt"]
    [fresh] = _brokers(conf)
    assert fresh != stale
    assert again.client.stats()["instance"] == first  # its broker session, with what was queued
    done = wait_for(
        lambda: (x := again.client.rollout(r["id"]))["state"] != "running" and x, 60, "the rollout"
    )
    assert done["state"] == "completed", done["reason"]
    wait_for(lambda: fleet.swarm.totals()["connected"] == 6, 30, "devices to reconnect")
    assert {d["model_version"] for d in again.client.devices()} == {"1.1.0"}
    assert fleet.swarm.without_model() == []
    _all_stored(fleet, again.client)
    # Command numbers survived the crash: no device refused a command as a replay.
    from edgecraft.fleet.store import Store

    store = Store(f"sqlite:///{state / 'fleet.db'}")
    try:
        refused = [
            r for d in fleet.devices for r in store.reports_for(d["id"]) if r.kind == "command_refused"
        ]
    finally:
        store.close()
    assert refused == []


def test_broker_killed(fleet_factory) -> None:  # type: ignore[no-untyped-def]
    fleet = fleet_factory(4)
    state = fleet.server.state_dir / "mosquitto"
    port = fleet.server.info["mqtt"]
    pid = int((state / "broker.pid").read_text())
    time.sleep(1.0)
    seen: set[int] = set()
    with httpx.Client(base_url=fleet.server.url) as anon:
        os.kill(pid, signal.SIGTERM)  # `kill PID`: mosquitto saves its queue and exits
        # Its death is visible at once; the supervisor restarts it; the server reconnects.
        wait_for(lambda: seen.add(anon.get("/api/health").status_code) or 503 in seen, 10, "health to say so")
        assert anon.get("/api/health").json()["broker"] in ("down", "up")
        wait_for(lambda: anon.get("/api/health").status_code == 200, 20, "the broker to be back")
    stats = fleet.client.stats()
    assert stats["broker"]["deaths"] == 1 and stats["broker"]["state"] == "up"
    assert fleet.client.dashboard()["broker"]["deaths"] == 1
    assert int((state / "broker.pid").read_text()) != pid and fleet.client.stats()["broker"]["local"]
    assert fleet.server.info["mqtt"] == port
    wait_for(lambda: fleet.swarm.totals()["connected"] == 4, 30, "devices to reconnect")
    time.sleep(1.0)
    _all_stored(fleet, fleet.client)
