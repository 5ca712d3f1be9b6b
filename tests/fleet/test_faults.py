"""Crash-only fleet server, with real processes: kill -9 of the server mid-rollout and of its
broker (SIGKILL: mosquitto forgets what it took in since its last save, and the devices' outboxes
resend it); afterwards nothing a device sent is lost or stored twice, the rollout finishes,
devices are back."""

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
    """Stop telemetry, wait until the server confirmed every message to its device, then compare
    what the devices sent with what is stored (each message once)."""
    fleet.swarm.quiet()
    wait_for(lambda: fleet.swarm.totals()["unacked"] == 0, 90, "the server to confirm every message")
    sent = fleet.swarm.totals()
    assert sent["dropped"] == 0
    counts = client.stats()["counts"]
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
    time.sleep(1.0)  # (a moment for it to die too, if it were going to)
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
    seen: set[int] = set()
    with httpx.Client(base_url=fleet.server.url, timeout=30) as anon:
        os.kill(pid, signal.SIGKILL)  # kill -9: no save; what came in since the last one is gone
        # Its death is visible at once; the supervisor restarts it; the server reconnects.
        wait_for(lambda: seen.add(anon.get("/api/health").status_code) or 503 in seen, 30, "health to say so")
        assert anon.get("/api/health").json()["broker"] in ("down", "up")
        wait_for(lambda: anon.get("/api/health").status_code == 200, 60, "the broker to be back")
    stats = fleet.client.stats()
    assert stats["broker"]["deaths"] == 1 and stats["broker"]["state"] == "up"
    assert fleet.client.dashboard()["broker"]["deaths"] == 1
    assert int((state / "broker.pid").read_text()) != pid and fleet.client.stats()["broker"]["local"]
    assert fleet.server.info["mqtt"] == port
    wait_for(lambda: fleet.swarm.totals()["connected"] == 4, 60, "devices to reconnect")
    _all_stored(fleet, fleet.client)


def test_broker_killed_with_unsaved_messages(fleet_factory, server_factory) -> None:  # type: ignore[no-untyped-def]
    """The worst case for a broker: the server is down, so the broker holds the devices' messages
    for it (and has acknowledged them to the devices) when it is killed after its last save. Only
    the devices' outboxes still have those messages: they resend them, the server stores them."""
    fleet = fleet_factory(4)
    state, port = fleet.server.state_dir, fleet.server.url.rsplit(":", 1)[1]
    saved = state / "mosquitto" / "mosquitto.db"
    fleet.server.stop(kill=True)  # the broker keeps running and queues messages for the server
    before = fleet.swarm.totals()["telemetry"]
    mtime = saved.stat().st_mtime_ns if saved.exists() else 0
    wait_for(lambda: saved.exists() and saved.stat().st_mtime_ns != mtime, 30, "the broker to save")
    sent_after_save = fleet.swarm.totals()["telemetry"]
    wait_for(lambda: fleet.swarm.totals()["telemetry"] >= sent_after_save + 4, 30, "telemetry after the save")
    [pid] = _brokers(state / "mosquitto" / "mosquitto.conf")
    os.kill(pid, signal.SIGKILL)  # before its next save (every 5 s)
    assert fleet.swarm.totals()["telemetry"] > before
    again = server_factory(state, "--port", port, "--resend", "1")
    assert again.info["mqtt"] == fleet.server.info["mqtt"]
    wait_for(lambda: fleet.swarm.totals()["connected"] == 4, 60, "devices to reconnect")
    _all_stored(fleet, again.client)
