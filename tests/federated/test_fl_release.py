"""Into the fleet: Flower's aggregated model is quantized to int8, published as a signed version
and rolled out in stages to simulated devices that score it on labelled held-out gesture data;
a federated round that makes the model worse is stopped by the accuracy gate and rolled back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fl_support import fleet_server, gesture_app, need_flower, wait_for

from edgecraft.apps.spec import load_spec
from edgecraft.federated.bundle import read_final
from edgecraft.federated.release import AppSensor, int8_model, release, server_data
from edgecraft.federated.simulate import FlSettings, initial_model, simulate
from edgecraft.fleet.agent import AgentConfig
from edgecraft.fleet.client import FleetClient
from edgecraft.fleet.sim import Swarm
from edgecraft.fleet.slots import Slots
from edgecraft.optimize.train import logits_of

pytestmark = pytest.mark.slow  # tests/conftest.py runs slow modules first

GATE = "error_rate<0.02,accuracy_drop<0.05"


async def _each_has_stored_telemetry(swarm: Any) -> bool:
    return all(a.sent["telemetry"] > sum(m.kind == "telemetry" for m in a.outbox.items.values())
               for a in swarm.agents)


def test_federated_model_rolls_out_and_a_worse_round_is_caught(tmp_path: Path) -> None:
    need_flower()
    app = gesture_app(tmp_path)
    out = simulate(app, FlSettings(clients=12, rounds=6, fraction=0.5))
    good = read_final(Path(out["work"]))
    parts = server_data(app)
    net = logits_of(initial_model(load_spec(app), parts, 0))  # the weights Flower started from
    init_q, init_acc = int8_model(app, {k: v.detach().numpy() for k, v in net.state_dict().items()}, parts)
    good_q, good_acc = int8_model(app, good, parts)
    assert good_acc > init_acc + 0.15
    t_in = good_q.graph.input_tensors()[0]
    assert (init_q.graph.input_tensors()[0].scale, init_q.graph.input_tensors()[0].zero_point) == (
        t_in.scale, t_in.zero_point)  # same calibration data: every version takes the same input
    # a round whose clients' labels were shifted by one (the aggregate learned the wrong classes)
    last = [k for k in good if k.endswith("weight")][-1]
    bias = last.replace("weight", "bias")
    bad = dict(good)
    bad[last], bad[bias] = np.roll(good[last], 1, axis=0), np.roll(good[bias], 1)
    with fleet_server(tmp_path) as (state, url):
        fc = FleetClient.from_state(state)
        fc.publish(init_q.tflite, "1.0.0")
        prov = fc.provision_specs([{"id": f"pi-{i:02d}", "board": "rpi4"} for i in range(6)])
        configs, sources = [], []
        for i, d in enumerate(prov["devices"]):
            Slots.factory(tmp_path / "devices" / d["id"], "1.0.0", init_q.tflite)
            configs.append(AgentConfig(d["id"], d["token"], tmp_path / "devices" / d["id"], [url],
                                       prov["mqtt_host"], prov["mqtt_port"], prov["public_key"], board="rpi4",
                                       telemetry_s=0.3, ack_timeout_s=3.0))
            sources.append(AppSensor(parts.test_x, parts.test_y, t_in.scale, t_in.zero_point,
                                     tuple(t_in.shape), i))
        swarm = Swarm(configs, sources)
        swarm.start()
        try:
            wait_for(lambda: swarm.totals()["connected"] == 6, 60, "every device to connect")
            wait_for(lambda: swarm.call(_each_has_stored_telemetry(swarm)), 60, "telemetry from every device")
            r1 = release(app, good, state, "1.1.0", gate=GATE, stages="50,100", timeout=300)
            assert r1["rollout"]["state"] == "completed", r1["rollout"]
            assert all(d["model_version"] == "1.1.0" for d in fc.devices())
            r2 = release(app, bad, state, "1.2.0", gate=GATE, stages="50,100", timeout=300)
            assert r2["int8_accuracy"] < good_acc - 0.2
            assert r2["rollout"]["state"] == "rolled_back", r2["rollout"]
            wait_for(lambda: all(d["model_version"] == "1.1.0" for d in fc.devices()), 60,
                     "every device back on 1.1.0")
        finally:
            swarm.stop()
            fc.close()
