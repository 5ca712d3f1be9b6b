"""The device agent against a real server and broker: A/B slots, power loss, refused artifacts,
failed self-tests, restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wait_for

from edgecraft.fleet.sim import classifier_model, task_weights
from edgecraft.fleet.slots import PowerLoss, Slots

pytestmark = pytest.mark.broker


def test_slots_survive_a_torn_write(tmp_path: Path) -> None:
    old, new = b"old model bytes", b"new model bytes, longer"
    s = Slots.factory(tmp_path, "1.0.0", old)
    with pytest.raises(PowerLoss):
        s.write_inactive(new, power_loss=True)
    s = Slots(tmp_path)  # power back on: what is on disk is all there is
    s.boot()
    assert (s.active, s.version("a"), s.model()) == ("a", "1.0.0", old)
    assert not s.intact("b")
    slot = s.write_inactive(new)
    s.commit(slot, "2.0.0", new)
    assert (s.active, s.model()) == ("b", new)
    (tmp_path / "b" / "model.tflite").write_bytes(b"bit rot")  # a damaged active slot
    s = Slots(tmp_path)
    s.boot()
    assert (s.active, s.model()) == ("a", old)  # falls back to the intact one


def test_power_loss_mid_install_leaves_the_old_slot_running(fleet_factory) -> None:  # type: ignore[no-untyped-def]
    w = task_weights()
    fleet = fleet_factory(3, models={"1.0.0": classifier_model(w), "1.1.0": classifier_model(w * 1.05)})
    fleet.swarm.power_cycle(0, {"power_loss": "write"})
    fleet.swarm.power_cycle(1, {"power_loss": "before_commit"})
    r = fleet.client.deploy("1.1.0", "all", "", "100", "error_rate<0.02")
    wait_for(
        lambda: fleet.swarm.agents[0].dead and fleet.swarm.agents[1].dead, 30, "both devices to lose power"
    )
    for i in (0, 1):
        s = Slots(fleet.swarm.configs[i].root)
        s.boot()
        assert s.version(s.active) == "1.0.0" and s.intact(s.active), i
    for i in (0, 1):  # power back, no fault: the agent boots on 1.0.0, and the resent command installs
        fleet.swarm.power_cycle(i)
    assert fleet.wait_rollout(r["id"])["state"] == "completed"
    assert set(fleet.versions().values()) == {"1.1.0"}
    assert fleet.swarm.agents[0].slots.version("a") == "1.0.0"  # the old model stays for rollback


def test_tampered_artifact_is_refused_and_reported(fleet_factory) -> None:  # type: ignore[no-untyped-def]
    w = task_weights()
    fleet = fleet_factory(2, models={"1.0.0": classifier_model(w), "1.1.0": classifier_model(w * 1.05)})
    fleet.swarm.power_cycle(0, {"tamper": True})  # a man in the middle flips one bit of the download
    r = fleet.client.deploy("1.1.0", "all", "", "100", "", max_install_failures=0.0)
    assert fleet.wait_rollout(r["id"])["state"] == "rolled_back"
    assert fleet.versions() == {"dev-0000": "1.0.0", "dev-0001": "1.0.0"}
    agent = fleet.swarm.agents[0]
    assert agent.slots.version(agent.slots.active) == "1.0.0"
    # An install command without a signature is refused as well.
    cmd = {
        "cmd": "install",
        "rollout_id": None,
        "version": "1.1.0",
        "url": "/api/artifacts/1.1.0",
        "sha256": "0" * 64,
        "signature": None,
        "delta": None,
    }
    fleet.swarm.power_cycle(0)
    fleet.swarm.call(fleet.swarm.agents[0].install(cmd))

    def refusals() -> list[str]:
        return [x["detail"] for x in fleet.client.rollout(r["id"]) and _reports(fleet, "dev-0000")]

    got = wait_for(lambda: len(refusals()) >= 2 and refusals(), 20, "two refusals")
    assert got[0] == "artifact hash mismatch" and got[1] == "artifact is unsigned"


def _reports(fleet, device: str) -> list[dict]:  # type: ignore[no-untyped-def]
    from edgecraft.fleet.store import Store

    store = Store(f"sqlite:///{fleet.server.state_dir / 'fleet.db'}")
    try:
        return [r for r in store.reports_for(device) if r["kind"] == "refused"]
    finally:
        store.close()


def test_self_test_failures_roll_the_stage_back(fleet_factory) -> None:  # type: ignore[no-untyped-def]
    w = task_weights()
    big = classifier_model(w, hidden=512)  # ~10 kB: too big for the small boards' 4 kB model slot
    fleet = fleet_factory(
        10,
        models={"1.0.0": classifier_model(w), "2.0.0": big},
        per_device=lambda i: {
            "model_budget_bytes": 4096 if i == 0 else 1 << 20,
            "board": "tiny" if i == 0 else "sim",
        },
    )
    r = fleet.client.deploy("2.0.0", "all", "", "100", "error_rate<0.02")
    final = fleet.wait_rollout(r["id"])
    assert final["state"] == "rolled_back" and "installs failed" in final["reason"]
    wait_for(lambda: set(fleet.versions().values()) == {"1.0.0"}, 20, "every device back on 1.0.0")
    devices = {d["id"]: d for d in fleet.client.devices()}
    assert all(d["health"] == "ok" for d in devices.values())
    assert devices["dev-0000"]["active_slot"] == "a"  # never switched
