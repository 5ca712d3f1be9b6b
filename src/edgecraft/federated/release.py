"""Into the fleet: the aggregated model -> edgecraft's int8 quantization -> a signed version on
the fleet server -> a staged rollout behind gates (``edgecraft fl release``).

Every version is calibrated on the same server-side data (the application's own generated
training split), so the int8 input scale and zero point stay the same from version to version
and devices feed every version alike. A federated round that makes the model worse shows up in
the devices' labelled telemetry: the ``accuracy_drop`` gate stops the rollout and the devices go
back to the previous version (the fleet's rollback).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.spec import load_spec
from edgecraft.federated.partition import Partitions, make_partitions
from edgecraft.federated.simulate import initial_model

DEFAULT_GATE = "error_rate<0.02,accuracy_drop<0.03"


def server_data(root: str | Path) -> Partitions:
    """The server's side of the application's data: held-out test set and calibration split."""
    spec = load_spec(root)
    return make_partitions(spec, 2, spec.training.seed)


def int8_model(root: str | Path, weights: dict[str, np.ndarray], parts: Partitions | None = None
               ) -> tuple[Any, float]:
    """The application's model with ``weights`` (the aggregated float weights) as full int8, and
    its accuracy on the held-out test set (edgecraft's runtime)."""
    import torch

    from edgecraft.optimize import quantize
    from edgecraft.optimize.train import logits_of

    spec = load_spec(root)
    parts = parts or server_data(root)
    model = initial_model(spec, parts, spec.training.seed)
    net = logits_of(model)
    state = net.state_dict()
    missing = set(state) - set(weights)
    if missing:
        raise ValueError(f"the weights do not fit this application's model (missing {sorted(missing)[:3]})")
    net.load_state_dict({k: torch.as_tensor(np.asarray(weights[k])).to(state[k].dtype) for k in state})
    model.eval()
    rng = np.random.default_rng(spec.training.seed)
    calib = parts.train_x[rng.permutation(len(parts.train_x))[:512]]
    qm = quantize(model, calib, holdout=parts.test_x[:128], layer_samples=4)
    acc = float((qm.predict(parts.test_x).argmax(1) == parts.test_y).mean())
    return qm, acc


def release(root: str | Path, weights: dict[str, np.ndarray], state: Path, version: str,
            gate: str = DEFAULT_GATE, canary: str = "", stages: str = "50,100", wait: bool = True,
            timeout: float = 600.0, out: Path | None = None) -> dict[str, Any]:
    """Quantize, publish ``version`` (signed by the fleet server) and deploy it in stages behind
    ``gate``; with ``wait``, until the rollout completes or is rolled back."""
    from edgecraft.fleet.client import FleetClient

    qm, acc = int8_model(root, weights)
    path = (out or Path(root) / "build" / "federated") / f"model-{version}.tflite"
    path.parent.mkdir(parents=True, exist_ok=True)
    qm.save(path)
    fc = FleetClient.from_state(state)
    try:
        fc.publish(path.read_bytes(), version, metrics={"accuracy": acc, "trained": "federated"})
        rollout = fc.deploy(version, canary=canary, stages=stages, gate=gate)
        rid = int(rollout["id"])
        deadline = time.monotonic() + timeout
        while wait and rollout.get("state") not in ("completed", "rolled_back"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"rollout {rid} of {version} still {rollout.get('state')} "
                                   f"after {timeout:.0f} s")
            time.sleep(1.0)
            rollout = fc.rollout(rid)
    finally:
        fc.close()
    return {"version": version, "model": str(path), "int8_accuracy": acc, "bytes": len(qm.tflite),
            "rollout": rollout}


class AppSensor:
    """A simulated device's data source for a fleet swarm: the application's held-out samples,
    quantized with the deployed model's input scale and zero point, one labelled sample per
    reading (devices report correct predictions, which the accuracy gate compares)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, scale: float, zero_point: int, shape: tuple[int, ...],
                 seed: int) -> None:
        self.x, self.y, self.shape = x, y, shape
        self.scale, self.zero_point = np.float32(scale), int(zero_point)
        self.rng = np.random.default_rng(seed)

    def sample(self) -> tuple[list[np.ndarray], np.ndarray | None, Any]:
        i = int(self.rng.integers(len(self.x)))
        q = np.clip(np.round(self.x[i] / self.scale) + self.zero_point, -128, 127).astype(np.int8)
        return [q.reshape(self.shape)], self.y[i : i + 1], None
