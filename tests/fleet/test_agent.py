"""The device agent against a real server and broker: A/B slots, power loss, refused artifacts,
failed self-tests, restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_support import wait_for

from edgecraft.fleet.sim import FaultySlots, PowerLoss, classifier_model, task_weights
from edgecraft.fleet.slots import Slots

pytestmark = pytest.mark.broker


def test_slots_survive_a_torn_write(tmp_path: Path) -> None:
    old, new = b"old model bytes", b"new model bytes, longer"
    Slots.factory(tmp_path, "1.0.0", old)
    with pytest.raises(PowerLoss):
        FaultySlots(tmp_path, "write").write_inactive(new)
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


def test_faults_against_a_real_server(fleet_factory) -> None:  # type: ignore[no-untyped-def]
    """One fleet, three faults in turn: power loss mid-install, a tampered download, a model too big
    for one board's slot (its self-test fails)."""
    w = task_weights()
    w2 = w.copy()
    w2[0, [0, 1]] = w2[0, [1, 0]]  # new weights, same quantization: a weights-only delta applies
    models = {
        "1.0.0": classifier_model(w),
        "1.1.0": classifier_model(w2),
        "1.2.0": classifier_model(w * 1.1),
        "2.0.0": classifier_model(w, hidden=512),
    }
    fleet = fleet_factory(
        10,
        models=models,
        per_device=lambda i: {
            "model_budget_bytes": 8192 if i == 0 else 1 << 20,
            "board": "tiny" if i == 0 else "sim",
        },
    )
    swarm, c = fleet.swarm, fleet.client

    # 1. Power fails while writing the new slot (device 1) and just before the commit (device 2).
    swarm.power_cycle(1, {"power_loss": "write"})
    swarm.power_cycle(2, {"power_loss": "before_commit"})
    r = c.deploy("1.1.0", "all", "", "100", "error_rate<0.02")
    wait_for(lambda: swarm.agents[1].dead and swarm.agents[2].dead, 30, "both devices to lose power")
    assert swarm.without_model() == ["dev-0001", "dev-0002"]
    for i in (1, 2):
        s = Slots(swarm.configs[i].root)
        s.boot()
        assert s.version(s.active) == "1.0.0" and s.intact(s.active), i
    for i in (1, 2):  # power back, no fault: boots on 1.0.0, and the resent command installs
        swarm.power_cycle(i)
    assert fleet.wait_rollout(r["id"])["state"] == "completed"
    assert set(fleet.versions().values()) == {"1.1.0"} and swarm.without_model() == []
    assert swarm.agents[1].slots.version("a") == "1.0.0"  # the old model stays for a rollback
    installs = [r.detail for r in _reports(fleet, "dev-0005") if r.kind == "installed"]
    # (a resent install that arrives after the commit only reports "already active")
    assert installs[0] == "slot b via delta" and set(installs[1:]) <= {"already active"}

    # 2. A man in the middle flips one bit of device 3's download: refused, reported, never installed.
    swarm.power_cycle(3, {"tamper": True})
    r = c.deploy("1.2.0", "all", "", "100", "", max_install_failures=0.0)
    assert fleet.wait_rollout(r["id"])["state"] == "rolled_back"
    wait_for(lambda: set(fleet.versions().values()) == {"1.1.0"}, 20, "every device back on 1.1.0")
    assert swarm.agents[3].slots.version(swarm.agents[3].slots.active) == "1.1.0"
    swarm.power_cycle(3)
    unsigned = {
        "cmd": "install",
        "rollout_id": 0,
        "version": "1.2.0",
        "version_seq": 3,
        "url": "/api/artifacts/1.2.0",
        "sha256": "0" * 64,
        "signature": None,
        "delta": None,
    }
    swarm.call(swarm.agents[3].ota.install(unsigned))
    got = wait_for(
        lambda: "artifact is unsigned" in (x := _refusals(fleet, "dev-0003")) and x, 20, "the refusal"
    )
    # The server resends an install nobody answered within --resend (a command can be lost), so a
    # loaded device may refuse the tampered download more than once: each time for the same reason.
    assert got[-1] == "artifact is unsigned" and got[:-1]
    assert set(got[:-1]) == {"artifact hash mismatch"}
    assert not [r for r in _reports(fleet, "dev-0003") if r.kind == "installed" and r.version == "1.2.0"]

    # 3. A model too big for the tiny board's slot: its self-test fails, the stage rolls back.
    r = c.deploy("2.0.0", "all", "", "100", "error_rate<0.02")
    final = fleet.wait_rollout(r["id"])
    assert final["state"] == "rolled_back" and "installs failed" in final["reason"]
    wait_for(lambda: set(fleet.versions().values()) == {"1.1.0"}, 20, "every device back on 1.1.0")
    devices = {d["id"]: d for d in c.devices()}
    assert all(d["health"] == "ok" for d in devices.values())
    assert devices["dev-0000"]["slot_b"] == "1.1.0" and devices["dev-0000"]["active_slot"] == "b"


def _reports(fleet, device: str) -> list:  # type: ignore[no-untyped-def]
    from edgecraft.fleet.store import Store

    store = Store(f"sqlite:///{fleet.server.state_dir / 'fleet.db'}")
    try:
        return store.reports_for(device)
    finally:
        store.close()


def _refusals(fleet, device: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.detail for r in _reports(fleet, device) if r.kind == "refused"]
