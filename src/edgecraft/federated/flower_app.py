"""The Flower side: the ServerApp and ClientApp that train an application's model.

This module runs in Flower's own virtual environment (``.venv-flower``, made by
``scripts/setup.sh``), not in edgecraft's: it imports only the standard library, numpy, torch and
flwr. ``edgecraft fl`` writes a *work directory* (see :mod:`edgecraft.federated.bundle`):

- ``config.json``: strategy, rounds, local training, privacy and update-encoding settings;
- ``data.npz``: every client's features and labels (``x``, ``y``, ``offsets``: client ``i`` owns
  rows ``offsets[i]:offsets[i+1]``) and the server's held-out test set (``test_x``, ``test_y``);
- ``model.pt``: the model's logits network as TorchScript (no edgecraft code needed here).

The ServerApp appends one JSON line per round to ``progress.jsonl`` and writes ``result.json``
and the aggregated weights ``final.npz`` at the end.

Two server paths: the message API strategies (FedAvg, FedProx, FedAdam, with Flower's
server-side fixed-clipping differential privacy and its RDP accountant) and, for secure
aggregation, Flower's SecAgg+ workflow (which runs on Flower's legacy strategy classes).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

_CACHE: dict[str, Any] = {}


class Bundle:
    """A work directory loaded once per process: settings, client data, test set, model file."""

    def __init__(self, work: str | Path) -> None:
        self.work = Path(work)
        self.config: dict[str, Any] = json.loads((self.work / "config.json").read_text())
        with np.load(self.work / "data.npz") as d:
            self.x, self.y, self.offsets = d["x"], d["y"], d["offsets"]
            self.test_x, self.test_y = d["test_x"], d["test_y"]

    @classmethod
    def get(cls, work: str | Path) -> Bundle:
        """The bundle of ``work`` (cached: a Ray actor serves many virtual clients)."""
        key = str(Path(work).resolve())
        if key not in _CACHE:
            _CACHE[key] = cls(work)
        return _CACHE[key]  # type: ignore[no-any-return]

    @property
    def clients(self) -> int:
        return len(self.offsets) - 1

    def client(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Client ``i``'s features and labels."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.x[a:b], self.y[a:b]

    def model(self) -> torch.nn.Module:
        """A fresh copy of the initial model (the TorchScript logits network)."""
        return torch.jit.load(str(self.work / "model.pt"))


def state_arrays(net: torch.nn.Module) -> dict[str, np.ndarray]:
    """The network's state as float32 numpy arrays, in state-dict order."""
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in net.state_dict().items()}


def load_arrays(net: torch.nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Load numpy arrays (state-dict names) into ``net``; integer buffers keep their dtype."""
    state = net.state_dict()
    net.load_state_dict({k: torch.as_tensor(np.asarray(arrays[k])).to(state[k].dtype) for k in state})


def local_train(
    net: torch.nn.Module, x: np.ndarray, y: np.ndarray, cfg: dict[str, Any], seed: int, mu: float = 0.0
) -> float:
    """``cfg['local_epochs']`` epochs of SGD-with-momentum on one client's data; with ``mu > 0``
    FedProx's proximal term ``mu/2 ||w - w_global||^2``. Returns the mean training loss."""
    torch.manual_seed(seed)
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long)
    anchor = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.SGD(net.parameters(), lr=float(cfg["lr"]), momentum=0.9)
    batch = int(cfg["batch_size"])
    gen = torch.Generator().manual_seed(seed)
    net.train()
    total, count = 0.0, 0
    for _ in range(int(cfg["local_epochs"])):
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx])
            total += float(loss.detach()) * len(idx)
            count += len(idx)
            if mu > 0:
                prox = sum(((p - a) ** 2).sum() for p, a in zip(net.parameters(), anchor, strict=True))
                loss = loss + 0.5 * mu * prox  # type: ignore[assignment]
            loss.backward()
            opt.step()
    net.eval()
    return total / max(count, 1)


def evaluate(net: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Cross-entropy loss and accuracy of ``net`` on ``(x, y)``."""
    net.eval()
    with torch.no_grad():
        out = net(torch.as_tensor(x, dtype=torch.float32))
        yt = torch.as_tensor(y, dtype=torch.long)
        loss = float(torch.nn.functional.cross_entropy(out, yt))
        acc = float((out.argmax(1) == yt).float().mean())
    return loss, acc


def quantize_update(update: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Symmetric per-tensor int8 of a weight update: ``q = round(u / s)``, ``s = max|u| / 127``."""
    q, scales = {}, {}
    for k, u in update.items():
        s = float(np.abs(u).max()) / 127.0 if u.size else 0.0
        scales[k] = s
        q[k] = np.zeros(u.shape, np.int8) if s == 0 else np.clip(np.round(u / s), -127, 127).astype(np.int8)
    return q, scales


def should_fail(cfg: dict[str, Any], rnd: int, cid: int, what: str) -> bool:
    """Whether client ``cid`` drops out (``what='dropout'``) or straggles in round ``rnd``: a
    deterministic draw from the run's seed, so a run can be repeated."""
    p = float(cfg.get(what, 0.0))
    if p <= 0:
        return False
    salt = 1 if what == "dropout" else 2
    return bool(np.random.default_rng([int(cfg["seed"]), rnd, cid, salt]).random() < p)


def client_step(work: str, cid: int, rnd: int, arrays: dict[str, np.ndarray], mu: float) -> tuple[
    dict[str, np.ndarray], int, float
]:
    """One client's round: load the global weights, train locally, return the new weights, the
    number of examples and the mean loss. Raises for a simulated dropout; sleeps past the round
    timeout for a simulated straggler."""
    b = Bundle.get(work)
    cfg = b.config
    if should_fail(cfg, rnd, cid, "dropout"):
        raise RuntimeError(f"client {cid} dropped out of round {rnd}")
    if should_fail(cfg, rnd, cid, "straggle"):
        time.sleep(float(cfg["round_timeout"]) + 2.0)
    net = b.model()
    load_arrays(net, arrays)
    x, y = b.client(cid)
    loss = local_train(net, x, y, cfg, seed=int(cfg["seed"]) * 100003 + rnd * 1009 + cid, mu=mu)
    return state_arrays(net), len(x), loss


def write_progress(work: Path, row: dict[str, Any]) -> None:
    """Append one round's line to ``progress.jsonl`` (``edgecraft fl`` shows it as it comes)."""
    with open(work / "progress.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


def payload_bytes(arrays: Iterable[Any]) -> int:
    """Bytes of the arrays' serialized data as Flower sends them."""
    return sum(len(a.data) for a in arrays)
