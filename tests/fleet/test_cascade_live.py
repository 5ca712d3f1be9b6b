"""The cascade live: simulated devices (real agents, real mosquitto) escalate their unsure
readings to the real server's ``/api/infer``; escalations are telemetry and a rollout gate
metric; with the server killed (SIGKILL) every device answers locally within its deadline,
counts it, and loses no telemetry."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fleet_support import wait_for

from edgecraft.fleet.sim import Recording, classifier_model, task_weights
from edgecraft.fleet.store import Store
from edgecraft.formats import read_tflite_bytes
from edgecraft.runtime import Interpreter

pytestmark = pytest.mark.broker


def _edge_weights(seed: int) -> np.ndarray:
    """A weaker device model: the task's boundaries blurred by noise."""
    return task_weights() + 0.8 * np.random.default_rng(seed).standard_normal(task_weights().shape)


def _accuracy_alone(model: bytes) -> float:
    rec = Recording(task_weights())  # the swarm replays this same recording (same seed)
    interp = Interpreter(read_tflite_bytes(model))
    right = sum(int((interp.run([q])[0].argmax(axis=1) == y).sum()) for q, y in rec.batches)
    return right / sum(len(y) for _, y in rec.batches)


def test_cascade_live_gate_and_server_killed(
    fleet_factory: Callable[..., Any], server_factory: Callable[..., Any], tmp_path: Path
) -> None:
    edge = classifier_model(_edge_weights(1))
    cloud = tmp_path / "cloud.tflite"
    cloud.write_bytes(classifier_model(task_weights(), batch=1))  # the exact boundaries
    cascade = {"threshold": 0.7, "confidence": "top", "deadline_s": 2.0}
    fleet = fleet_factory(
        3, {"1.0.0": edge}, server_args=("--resend", "1", "--cloud-model", str(cloud)), cascade=cascade
    )
    state = fleet.server.state_dir
    store = Store(f"sqlite:///{state / 'fleet.db'}")
    try:
        wait_for(lambda: store.telemetry_totals().labeled >= 600, 30, "600 labelled readings stored")
        t = store.telemetry_totals()
        assert 0 < t.escalated < t.inferences and t.fallbacks == 0
        # the cloud model is right where the blurred edge model is not: the cascade beats the edge
        assert t.correct / t.labeled > _accuracy_alone(edge) + 0.03, (t, _accuracy_alone(edge))

        # escalation rate as a gate: a version that escalates is stopped and rolled back
        fleet.client.publish(classifier_model(_edge_weights(2)), "1.1.0")
        r = fleet.client.deploy("1.1.0", canary="34%", stages="100", gate="escalation_rate<0.01")
        done = fleet.wait_rollout(r["id"], 90)
        assert done["state"] == "rolled_back" and "escalation_rate" in done["reason"], done
        assert done["stage_results"][0]["metrics"]["escalation_rate"] > 0.01

        # the server killed: devices answer locally within the deadline, count it, lose nothing
        port = fleet.server.url.rsplit(":", 1)[1]
        fleet.server.stop(kill=True)
        agent = fleet.swarm.agents[0]
        t0 = time.monotonic()
        fleet.swarm.call(agent.cascade_once())
        assert time.monotonic() - t0 < cascade["deadline_s"] + 3.0  # refused at once; a loaded machine
        wait_for(lambda: all(a.cascade.counts["fallbacks"] > 0 for a in fleet.swarm.agents), 20,
                 "every device to fall back")
        # restarted on the same port (the devices know that URL); the fixture stops it
        server_factory(state, "--port", port, "--resend", "1", "--cloud-model", str(cloud))
        remote = sum(a.cascade.counts["remote"] for a in fleet.swarm.agents)
        wait_for(lambda: sum(a.cascade.counts["remote"] for a in fleet.swarm.agents) > remote, 30,
                 "cloud answers again after the restart")
        fleet.swarm.quiet()
        wait_for(lambda: fleet.swarm.totals()["unacked"] == 0, 60, "every message confirmed stored")
        sent = fleet.swarm.totals()
        t = store.telemetry_totals()
        assert t.messages == sent["telemetry"] and sent["dropped"] == 0
        assert t.fallbacks == sum(a.cascade.counts["fallbacks"] for a in fleet.swarm.agents) > 0
        assert t.escalated == sum(a.cascade.counts["escalated"] for a in fleet.swarm.agents)
    finally:
        store.close()
