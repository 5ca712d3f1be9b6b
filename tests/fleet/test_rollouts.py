"""The rollout state machine on a real SQLite store, without a broker: devices are played by
writing their reports and telemetry into the store, commands are collected from ``send``."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest

from edgecraft.fleet import rollouts
from edgecraft.fleet.records import DeviceState, ModelVersion, NewDevice, NotFound, Report, Telemetry
from edgecraft.fleet.store import Store


class Fleet:
    """A store with ``n`` devices on v1 and published v1, v2; ``tick`` collects what was sent."""

    def __init__(self, path: Path, n: int = 10) -> None:
        self.store = Store(f"sqlite:///{path / 'fleet.db'}")
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.msg = 0
        for v in ("v1", "v2"):
            self.store.add_model(ModelVersion(v, "a" * 64, "b" * 64, "c" * 128, 1, [], {}, "s"), [])
        self.ids = [f"d{i}" for i in range(n)]
        self.store.add_devices([NewDevice(d, f"t{d}", "h") for d in self.ids])
        for d in self.ids:
            self.report(d, "boot", None, "v1")

    def tick(self, **kw: Any) -> list[tuple[str, dict[str, Any]]]:
        before = len(self.sent)
        rollouts.tick(self.store, self.sent.extend, **{"resend_s": 60.0, **kw})
        return self.sent[before:]

    def report(self, device: str, kind: str, rid: int | None, version: str) -> None:
        self.msg += 1
        state = DeviceState("v1", "v2", "a" if version == "v1" else "b", version)
        self.store.ingest([Report(device, self.msg, time.time(), kind, version, rid, "", state)])

    def telemetry(self, device: str, version: str, correct: int = 32, errors: int = 0) -> None:
        self.msg += 1
        self.store.ingest(
            [Telemetry(device, self.msg, time.time(), version, 32, errors, 1.0, 2.0, 0.9, 32, correct, [32])]
        )

    def state(self, rid: int) -> tuple[str, int]:
        r = self.store.rollout(rid)
        assert r is not None
        return r.state, r.stage


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    f = Fleet(tmp_path)
    for d in f.ids:
        f.telemetry(d, "v1")  # accuracy before the rollout: 100 %
    yield f
    f.store.close()


def test_stages_advance_when_the_gate_holds(fleet: Fleet) -> None:
    rid = rollouts.create(fleet.store, "v2", "all", [0.2, 1.0], {"error_rate": 0.05, "accuracy_drop": 0.1})
    sent = fleet.tick()
    assert len(sent) == 2 and {b["cmd"] for _, b in sent} == {"install"}
    body = sent[0][1]
    assert (body["rollout_id"], body["version"], body["version_seq"]) == (rid, "v2", 2)
    assert fleet.tick() == []  # no answer yet, resend not due: nothing new
    canary = [d for d, _ in sent]
    for d in canary:
        fleet.report(d, "installed", rid, "v2")
    assert fleet.tick() == [] and fleet.state(rid) == ("running", 0)  # waits for telemetry on v2
    for d in canary:
        fleet.telemetry(d, "v2")
    fleet.tick()
    assert fleet.state(rid) == ("running", 1)
    rest = fleet.tick()
    assert sorted(d for d, _ in rest) == sorted(set(fleet.ids) - set(canary))
    for d in fleet.ids:
        if d not in canary:
            fleet.report(d, "installed", rid, "v2")
            fleet.telemetry(d, "v2")
    fleet.tick()
    r = fleet.store.rollout(rid)
    assert r is not None and r.state == "completed" and [s["stage"] for s in r.stage_results] == [0, 1]
    summary = rollouts.summary(fleet.store, r)
    assert [s["status"] for s in summary["stages"]] == [{"installed": 2}, {"installed": 8}]


def test_a_failing_gate_rolls_back_with_signed_targets(fleet: Fleet) -> None:
    rid = rollouts.create(fleet.store, "v2", "all", [0.2, 1.0], {"accuracy_drop": 0.1})
    canary = [d for d, _ in fleet.tick()]
    for d in canary:
        fleet.report(d, "installed", rid, "v2")
        fleet.telemetry(d, "v2", correct=8)  # accuracy 25 %
    fleet.tick()
    state, _ = fleet.state(rid)
    r = fleet.store.rollout(rid)
    assert state == "rolling_back" and r is not None and "gate failed at stage 0: accuracy_drop" in r.reason
    back = fleet.tick()
    assert sorted(d for d, _ in back) == sorted(canary)
    assert all(
        b
        == {"cmd": "rollback", "rollout_id": rid, "version": "v2", "version_seq": 2, "to": "v1", "to_seq": 1}
        for _, b in back
    )
    fleet.report(canary[0], "rolled_back", rid, "v1")
    fleet.tick(resend_s=0.0)  # the other one has not answered: told again
    assert fleet.sent[-1][0] == canary[1] and fleet.state(rid)[0] == "rolling_back"
    fleet.report(canary[1], "rolled_back", rid, "v1")
    fleet.tick()
    assert fleet.state(rid)[0] == "rolled_back"


def test_install_failures_and_stage_timeout(fleet: Fleet, tmp_path: Path) -> None:
    rid = rollouts.create(fleet.store, "v2", "all", [1.0], {}, max_install_failures=0.1)
    sent = fleet.tick()
    fleet.report(sent[0][0], "install_failed", rid, "v2")
    fleet.tick()
    assert fleet.state(rid)[0] == "running"  # 1 of 10 is not over 10 %
    fleet.report(sent[1][0], "refused", rid, "v2")
    fleet.tick()
    r = fleet.store.rollout(rid)
    assert r is not None and r.state == "rolling_back" and "2 of 10 installs failed" in r.reason
    assert {b["cmd"] for _, b in fleet.tick()} == {"rollback"}  # the 8 that were told to install

    (tmp_path / "other").mkdir()
    fresh = Fleet(tmp_path / "other")
    rid2 = rollouts.create(fresh.store, "v2", "all", [1.0], {}, max_install_failures=0.5)
    fresh.tick()
    fresh.tick(stage_timeout_s=0.0)  # nobody answered in time: every install counts as failed
    assert fresh.state(rid2)[0] == "rolling_back"
    fresh.store.close()


def test_resume_after_a_restart_and_two_instances(fleet: Fleet, tmp_path: Path) -> None:
    rid = rollouts.create(fleet.store, "v2", "all", [1.0], {})
    fleet.tick()
    assert rollouts.request_rollback(fleet.store, rid)
    assert not rollouts.request_rollback(fleet.store, rid)  # not running any more
    with pytest.raises(NotFound):
        rollouts.request_rollback(fleet.store, 999)
    fleet.store.close()
    again = Store(fleet.store.url)  # a restarted server: everything it needs is in the database
    fleet.store = again
    back = fleet.tick()
    assert len(back) == 10 and {b["cmd"] for _, b in back} == {"rollback"}
    for d in fleet.ids:
        fleet.report(d, "rolled_back", rid, "v1")
    # Two instances read the same revision: only the first write applies.
    r = again.rollout(rid)
    assert r is not None
    assert again.save_rollout(dataclasses.replace(r, state="rolled_back"))
    assert not again.save_rollout(dataclasses.replace(r, state="completed"))
    assert fleet.state(rid)[0] == "rolled_back"


def test_bad_requests(fleet: Fleet) -> None:
    with pytest.raises(rollouts.RolloutError, match="publish it first"):
        rollouts.create(fleet.store, "v9", "all", [1.0], {})
    with pytest.raises(rollouts.RolloutError, match="no device in group"):
        rollouts.create(fleet.store, "v2", "nobody", [1.0], {})
    with pytest.raises(rollouts.RolloutError, match="fraction"):
        rollouts.create(fleet.store, "v2", "all", [1.0], {}, max_install_failures=float("nan"))
    for canary, stages in (("x", "100"), ("", "50,20"), ("", "nan"), ("", "inf"), ("", "0")):
        with pytest.raises(rollouts.RolloutError):
            rollouts.parse_stages(canary, stages)
    for gate in ("errors<1", "error_rate<abc", "error_rate>1", "error_rate<1e.", "error_rate<1e999"):
        with pytest.raises(rollouts.RolloutError, match="bad gate term"):
            rollouts.parse_gate(gate)
    rollouts.create(fleet.store, "v2", "all", [1.0], {})
    with pytest.raises(rollouts.RolloutError, match="still running"):
        rollouts.create(fleet.store, "v2", "all", [1.0], {})
