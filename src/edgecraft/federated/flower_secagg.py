"""Secure aggregation (Flower's SecAgg+) for a work directory (Flower venv side).

Flower 1.42 provides SecAgg+ as a workflow over its legacy strategy classes: the ServerApp runs
``DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(...))`` in a ``LegacyContext`` and the
ClientApp (a ``NumPyClient``) carries ``secaggplus_mod``, which masks each update with pairwise
masks and secret-shared seeds; the server only ever sees the sum. The training step, the
evaluation on the held-out set and the progress lines are those of :mod:`.flower_app`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Context
from flwr.client import NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.common import ndarrays_to_parameters
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAdam, FedAvg, FedProx
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.serverapp import Grid

from edgecraft.federated.flower_app import (
    Bundle,
    client_step,
    evaluate,
    load_arrays,
    state_arrays,
    write_progress,
)


class SecAggClient(NumPyClient):  # type: ignore[misc]
    """One client's training, speaking the legacy NumPy protocol that SecAgg+ wraps."""

    def __init__(self, work: str, cid: int) -> None:
        self.work, self.cid = work, cid
        self.names = list(state_arrays(Bundle.get(work).model()))

    def fit(self, parameters: list[np.ndarray], config: dict[str, Any]
            ) -> tuple[list[np.ndarray], int, dict[str, Any]]:
        rnd = int(config.get("server-round", config.get("round", 0)))
        mu = float(config.get("proximal_mu", 0.0))
        glob = dict(zip(self.names, parameters, strict=True))
        new, n, loss = client_step(self.work, self.cid, rnd, glob, mu)
        return [new[k] for k in self.names], n, {"train-loss": loss}


def content_bytes(content: Any) -> int:
    """Bytes a reply carries: array data plus byte strings in its config records (SecAgg+ sends
    public keys, encrypted shares and the masked vector as bytes)."""
    total = sum(len(a.data) for rec in content.array_records.values() for a in rec.values())
    for rec in content.config_records.values():
        for v in rec.values():
            if isinstance(v, bytes):
                total += len(v)
            elif isinstance(v, list):
                total += sum(len(x) for x in v if isinstance(x, bytes))
    return total


class MeteredGrid:
    """The grid, counting the bytes each node sends back (every SecAgg+ stage included)."""

    def __init__(self, grid: Grid) -> None:
        self._grid = grid
        self.up: dict[int, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._grid, name)

    def send_and_receive(self, messages: Any, *, timeout: float | None = None) -> Any:
        replies = list(self._grid.send_and_receive(messages, timeout=timeout))
        for m in replies:
            if m.has_content():
                node = int(m.metadata.src_node_id)
                self.up[node] = self.up.get(node, 0) + content_bytes(m.content)
        return replies


def make_client_app(default_work: str | None = None) -> ClientApp:
    """The SecAgg+ ClientApp."""

    def client_fn(context: Context) -> Any:
        work = str(context.node_config.get("work", default_work))
        return SecAggClient(work, int(context.node_config.get("partition-id", 0))).to_client()

    return ClientApp(client_fn=client_fn, mods=[secaggplus_mod])


def make_server_app(default_work: str | None = None) -> ServerApp:
    """The SecAgg+ ServerApp."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        work = Path(str(context.run_config.get("work", default_work)))
        metered = MeteredGrid(grid)
        b = Bundle.get(work)
        cfg = b.config
        net = b.model()
        names = list(state_arrays(net))
        t0 = time.time()
        rows: list[dict[str, Any]] = []
        sampled = max(int(b.clients * float(cfg["fraction"])), int(cfg["min_clients"]))

        def central(rnd: int, params: list[np.ndarray], _cfg: dict[str, Any]) -> tuple[float, dict[str, Any]]:
            load_arrays(net, dict(zip(names, params, strict=True)))
            loss, acc = evaluate(net, b.test_x, b.test_y)
            row: dict[str, Any] = {"round": rnd, "accuracy": acc, "loss": loss, "time_s": time.time() - t0}
            if rnd > 0:
                size = sum(4 * int(np.asarray(p).size) for p in params)  # float32 on the wire
                up = metered.up
                row.update({"sampled": sampled, "download_bytes_per_client": size, "secagg": True,
                            "results": len(up), "failures": max(sampled - len(up), 0),
                            "upload_bytes_per_client": int(np.mean(list(up.values()))) if up else 0})
                metered.up = {}
            rows.append(row)
            write_progress(work, row)
            return loss, {"accuracy": acc}

        init = ndarrays_to_parameters(list(state_arrays(net).values()))
        common: dict[str, Any] = {
            "fraction_fit": float(cfg["fraction"]),
            "fraction_evaluate": 0.0,
            "min_fit_clients": int(cfg["min_clients"]),
            "min_evaluate_clients": 0,
            "min_available_clients": int(cfg["min_available"]),
            "evaluate_fn": central,
            "initial_parameters": init,
            "on_fit_config_fn": lambda rnd: {"server-round": rnd},
        }
        name = cfg["strategy"]
        if name == "fedprox":
            strategy: Any = FedProx(proximal_mu=float(cfg["mu"]), **common)
        elif name == "fedadam":
            strategy = FedAdam(eta=float(cfg["server_lr"]), eta_l=float(cfg["lr"]), tau=1e-3, **common)
        else:
            strategy = FedAvg(**common)
        ctx = LegacyContext(context=context, config=ServerConfig(num_rounds=int(cfg["rounds"]),
                                                                 round_timeout=float(cfg["round_timeout"])),
                            strategy=strategy)
        workflow = DefaultWorkflow(
            fit_workflow=SecAggPlusWorkflow(
                num_shares=int(cfg["secagg_shares"]),
                reconstruction_threshold=int(cfg["secagg_threshold"]),
                timeout=float(cfg["round_timeout"]),
            )
        )
        workflow(metered, ctx)
        from flwr.app import ArrayRecord

        final = ctx.state.array_records.get("parameters")
        arrays = (dict(zip(names, final.to_numpy_ndarrays(), strict=True))
                  if isinstance(final, ArrayRecord) else state_arrays(net))
        np.savez(work / "final.npz", **arrays)
        import json

        (work / "result.json").write_text(json.dumps({"rounds": rows, "time_s": time.time() - t0}, indent=1))

    return app
